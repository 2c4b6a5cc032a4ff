#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test run: initdb on a free port, run as
# the `postgres` user when we are root (PostgreSQL refuses to run as root), with
# the anon engine preloaded. Source this file, then call start_cluster / stop_cluster.
PG_MAJOR="${PG_MAJOR:-15}"
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Sets CLUSTER_DIR, CLUSTER_PORT, CLUSTER_URL.
start_cluster() {
  CLUSTER_DIR="$(mktemp -d /tmp/anonbranch-pg.XXXXXX)"
  CLUSTER_PORT="$(free_port)"
  [ "$(id -u)" = 0 ] && chown postgres: "$CLUSTER_DIR"
  as_pg "$PG_BIN/initdb" -D "$CLUSTER_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$CLUSTER_DIR/initdb.log" 2>&1 \
    || { cat "$CLUSTER_DIR/initdb.log"; return 1; }
  cat >>"$CLUSTER_DIR/data/postgresql.conf" <<CONF
port = $CLUSTER_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$CLUSTER_DIR'
shared_preload_libraries = 'anon'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
log_statement = 'none'
CONF
  # TCP on 127.0.0.1 trusts every role (tests connect as any role); the Unix
  # socket checks passwords, so tests can prove revealed credentials log in.
  { echo "local all all scram-sha-256"; cat "$CLUSTER_DIR/data/pg_hba.conf"; } >"$CLUSTER_DIR/hba.tmp"
  cat "$CLUSTER_DIR/hba.tmp" >"$CLUSTER_DIR/data/pg_hba.conf" && rm "$CLUSTER_DIR/hba.tmp"
  as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/postgresql.log" -w -t 60 start >/dev/null \
    || { cat "$CLUSTER_DIR/postgresql.log"; return 1; }
  CLUSTER_URL="postgresql://postgres@127.0.0.1:$CLUSTER_PORT/postgres"
  CLUSTER_SOCKET="$CLUSTER_DIR/.s.PGSQL.$CLUSTER_PORT"
  export CLUSTER_DIR CLUSTER_PORT CLUSTER_URL CLUSTER_SOCKET
}

stop_cluster() {
  [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR/data" ] || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$CLUSTER_DIR"
}
