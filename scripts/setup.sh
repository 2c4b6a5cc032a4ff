#!/usr/bin/env bash
# Idempotent setup for development, tests and `npm start`:
#   - installs what building the anon engine needs from Debian (PostgreSQL server
#     binaries, postgresql-server-dev-$PG_MAJOR, a C toolchain) when missing;
#   - installs npm packages when node_modules is missing or stale;
#   - builds and (re)installs extension/anon-compat as extension "anon", unless the
#     server already has the real PostgreSQL Anonymizer, which is left untouched.
# Every run rebuilds our engine, so tests exercise this checkout's code, not leftovers.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_MAJOR="${PG_MAJOR:-15}"
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
PG_CONFIG="$PG_BIN/pg_config"
say() { printf '[setup] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else say "needs root to run: $*  (run this script as root or install sudo)"; exit 1
  fi
}

packages=()
[ -x "$PG_BIN/initdb" ] || packages+=("postgresql-$PG_MAJOR")
{ [ -x "$PG_CONFIG" ] && [ -f "$("$PG_CONFIG" --pgxs 2>/dev/null)" ]; } || packages+=("postgresql-server-dev-$PG_MAJOR")
command -v make >/dev/null && command -v gcc >/dev/null || packages+=(build-essential)
if [ "${#packages[@]}" -gt 0 ]; then
  say "installing Debian packages: ${packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

# npm packages: (re)install when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

control="$("$PG_CONFIG" --sharedir)/extension/anon.control"
if [ -f "$control" ] && ! grep -q 'anonbranch-anon-compat' "$control"; then
  say "the real PostgreSQL Anonymizer is installed ($control); leaving it untouched"
else
  say "building extension/anon-compat against PostgreSQL $PG_MAJOR"
  make -s -C extension/anon-compat PG_CONFIG="$PG_CONFIG" clean >/dev/null
  make -s -C extension/anon-compat PG_CONFIG="$PG_CONFIG" with_llvm=no
  as_root make -s -C extension/anon-compat PG_CONFIG="$PG_CONFIG" with_llvm=no install >/dev/null
  say "installed anon-compat as extension anon ($control)"
fi
