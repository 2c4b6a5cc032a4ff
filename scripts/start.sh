#!/usr/bin/env bash
# `npm start`: set up what the service needs on this machine (anon engine,
# npm packages), check the local PostgreSQL, then run the service: with no
# argument every part (api, worker) as supervised child processes (src/main.ts all),
# or one part in this process (`npm run start:api`, `npm run start:worker`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh start
url="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/anonbranch}"
server="${url%/*}/postgres"
reachable() {
  node -e '
    const postgres = require("postgres");
    const sql = postgres(process.argv[1], { max: 1, connect_timeout: 5, onnotice() {} });
    sql`select 1`.then(() => sql.end(), (e) => { console.error(e.message); process.exit(1); });
  ' "$server" 2>/dev/null
}
if ! reachable; then
  # A local Debian cluster that is installed but down (containers start none): start it.
  if [ -z "${DATABASE_URL:-}" ] && command -v pg_ctlcluster >/dev/null && [ -d "/etc/postgresql/${PG_MAJOR:-15}/main" ]; then
    echo "[start] starting the local PostgreSQL cluster ${PG_MAJOR:-15}/main"
    pg_ctlcluster --skip-systemctl-redirect "${PG_MAJOR:-15}" main start || true
  fi
  if ! reachable; then
    echo "[start] cannot reach PostgreSQL at ${server#*@}: start it (Debian: pg_ctlcluster 15 main start) or set DATABASE_URL" >&2
    exit 1
  fi
fi
exec node --import tsx src/main.ts "${1:-all}"
