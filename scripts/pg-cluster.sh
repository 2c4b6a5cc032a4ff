#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test run: initdb on a free port, run as
# the `postgres` user when we are root (PostgreSQL refuses to run as root), with
# the anon engine preloaded. Source this file, then call start_cluster / stop_cluster
# (and restart_cluster fast|immediate). test/helpers/own-cluster.ts drives it from tests.
PG_MAJOR="${PG_MAJOR:-15}"
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Sets CLUSTER_DIR, CLUSTER_PORT, CLUSTER_URL. CLUSTER_SYNCHRONOUS_COMMIT=on makes a
# commit survive `restart_cluster immediate` (off, the default, is faster).
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
synchronous_commit = ${CLUSTER_SYNCHRONOUS_COMMIT:-off}
full_page_writes = off
log_min_messages = warning
log_statement = 'none'
CONF
  # Like a server at Debian's defaults, every role but the admin logs in with a
  # password (scram-sha-256), on TCP and on the Unix socket; the admin
  # (postgres, the worker's own credential) is trusted on 127.0.0.1 so tests
  # need no password for it. Security tests then try what an attacker could.
  { echo "local all all scram-sha-256"; echo "host all postgres 127.0.0.1/32 trust"; echo "host all all 127.0.0.1/32 scram-sha-256"
    cat "$CLUSTER_DIR/data/pg_hba.conf"; } >"$CLUSTER_DIR/hba.tmp"
  cat "$CLUSTER_DIR/hba.tmp" >"$CLUSTER_DIR/data/pg_hba.conf" && rm "$CLUSTER_DIR/hba.tmp"
  as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/postgresql.log" -w -t 60 start >/dev/null \
    || { cat "$CLUSTER_DIR/postgresql.log"; return 1; }
  CLUSTER_URL="postgresql://postgres@127.0.0.1:$CLUSTER_PORT/postgres"
  CLUSTER_SOCKET="$CLUSTER_DIR/.s.PGSQL.$CLUSTER_PORT"
  export CLUSTER_DIR CLUSTER_PORT CLUSTER_URL CLUSTER_SOCKET
}

# Restarts the cluster (MODE: fast or immediate), as a server restart in production
# would; waits until it accepts connections again. Only ever a cluster this file started.
restart_cluster() {
  [ -n "${CLUSTER_DIR:-}" ] && [ -f "$CLUSTER_DIR/data/postgresql.conf" ] || { echo "no cluster started here" >&2; return 1; }
  as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/postgresql.log" -m "${1:-fast}" -w -t 60 restart >/dev/null
}

stop_cluster() {
  [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR/data" ] || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$CLUSTER_DIR"
}
