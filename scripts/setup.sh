#!/usr/bin/env bash
# Idempotent setup for `npm start`, `npm test` and `npm run bench`.
#
#   bash scripts/setup.sh [start|test|bench] [--deps-only|--dry-run]
#
# 1. Checks for what each later step really runs or reads (not for a file that
#    happens to ship in the same package): the server headers the anon engine
#    is built against (postgres.h), the compiler and make, the PostgreSQL
#    server binaries (initdb, pg_ctl, postgres) the tests start, psql, openssl
#    (the endpoint's self-signed certificate), pgbench for the benchmarks and
#    the endpoint tests, Chromium for the console's browser tests. What is
#    missing is installed with apt-get, in one line saying what and why; when
#    it cannot be installed (not root and no sudo, no apt-get, no such
#    package) setup stops before doing anything, naming the packages and the
#    command to run.
# 2. Installs npm packages when node_modules is missing or stale.
# 3. Builds and (re)installs extension/anon-compat as extension "anon", unless
#    the server has the real PostgreSQL Anonymizer, which is left untouched.
#    Every run rebuilds our engine, so tests exercise this checkout, not leftovers.
#
# --deps-only stops after step 1; --dry-run prints what step 1 would install and
# exits (1 when something is missing). PG_MAJOR (15), PG_CONFIG and SUDO (the
# command used when not root; "sudo") can be overridden.
set -euo pipefail
cd "$(dirname "$0")/.."

purpose=start
stop_after_deps=false
dry_run=false
for arg in "$@"; do
  case "$arg" in
    start|test|bench) purpose="$arg" ;;
    --deps-only) stop_after_deps=true ;;
    --dry-run) dry_run=true ;;
    *) printf 'usage: bash scripts/setup.sh [start|test|bench] [--deps-only|--dry-run]\n' >&2; exit 2 ;;
  esac
done

PG_MAJOR="${PG_MAJOR:-15}"
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
PG_CONFIG="${PG_CONFIG:-$PG_BIN/pg_config}"
SUDO="${SUDO-sudo}"
say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- 1. packages
packages=()
reasons=()
need() { # need <package> <why>
  local p
  for p in "${packages[@]+"${packages[@]}"}"; do
    if [ "$p" = "$1" ]; then return 0; fi
  done
  packages+=("$1")
  reasons+=("$1 ($2)")
}
have() { command -v "$1" >/dev/null 2>&1; }

[ -x "$PG_CONFIG" ] || need "postgresql-client-$PG_MAJOR" "pg_config is missing at $PG_CONFIG; it locates the build flags"
if [ -x "$PG_CONFIG" ]; then
  server_includes="$("$PG_CONFIG" --includedir-server 2>/dev/null || true)"
  [ -n "$server_includes" ] && [ -f "$server_includes/postgres.h" ] \
    || need "postgresql-server-dev-$PG_MAJOR" "no postgres.h under ${server_includes:-pg_config --includedir-server}; the anon engine is compiled against the server headers"
  pgxs="$("$PG_CONFIG" --pgxs 2>/dev/null || true)"
  [ -n "$pgxs" ] && [ -f "$pgxs" ] || need "postgresql-server-dev-$PG_MAJOR" "no PGXS makefile at ${pgxs:-pg_config --pgxs}"
else
  need "postgresql-server-dev-$PG_MAJOR" "the anon engine is compiled against the server headers"
fi
have gcc || need gcc "the C compiler that builds the anon engine"
have make || need make "runs the anon engine's PGXS build"
for b in postgres initdb pg_ctl; do
  [ -x "$PG_BIN/$b" ] || need "postgresql-$PG_MAJOR" "$PG_BIN/$b is missing; the server that runs the branches and the test clusters"
done
have psql || [ -x "$PG_BIN/psql" ] || need "postgresql-client-$PG_MAJOR" "psql, used by the quick start and the tests"
have openssl || need openssl "generates the endpoint proxy's self-signed TLS certificate on first start"
if [ "$purpose" = test ]; then
  # The console's browser tests drive Debian's Chromium through playwright-core,
  # which never downloads a browser of its own.
  [ -x /usr/bin/chromium ] || need chromium "/usr/bin/chromium runs the web console's end-to-end tests"
fi
if [ "$purpose" = bench ]; then
  [ -x "$PG_BIN/pgbench" ] || need "postgresql-$PG_MAJOR" "$PG_BIN/pgbench drives the endpoint benchmark"
fi

if [ "${#packages[@]}" -gt 0 ]; then
  if $dry_run; then
    say "would install: ${reasons[*]}"
    exit 1
  fi
  as_root=()
  if [ "$(id -u)" != 0 ]; then
    if [ -n "$SUDO" ] && have "$SUDO"; then as_root=("$SUDO"); else
      die "missing ${packages[*]}: run as root, or install them first: apt-get install ${packages[*]}"
    fi
  fi
  have apt-get || die "missing ${packages[*]} and there is no apt-get here: install the equivalent packages with your package manager, then run this again"
  say "installing ${reasons[*]}"
  "${as_root[@]+"${as_root[@]}"}" apt-get update -qq >/dev/null 2>&1 || true
  unavailable=()
  for p in "${packages[@]}"; do
    apt-cache show "$p" >/dev/null 2>&1 || unavailable+=("$p")
  done
  if [ "${#unavailable[@]}" -gt 0 ]; then
    die "no package ${unavailable[*]} in your apt sources: add PostgreSQL's apt repository (https://wiki.postgresql.org/wiki/Apt) or set PG_MAJOR to an installed version, then: apt-get install ${packages[*]}"
  fi
  apt_log="$(mktemp)"
  if ! "${as_root[@]+"${as_root[@]}"}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >"$apt_log" 2>&1; then
    cat "$apt_log" >&2; rm -f "$apt_log"
    die "apt-get install ${packages[*]} failed (output above)"
  fi
  rm -f "$apt_log"
elif $dry_run; then
  say "nothing to install"
  exit 0
fi
$stop_after_deps && exit 0

# ------------------------------------------------------------ 2. npm packages
# (Re)installed when node_modules is missing, older than the lock file, or older than a patch in
# patches/ (applied by patch-package on install).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
  || [ -n "$(find patches -name '*.patch' -newer node_modules/.package-lock.json 2>/dev/null)" ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# ------------------------------------------------------------ 3. anon engine
control="$("$PG_CONFIG" --sharedir)/extension/anon.control"
if [ -f "$control" ] && ! grep -q 'anonbranch-anon-compat' "$control"; then
  say "the real PostgreSQL Anonymizer is installed ($control); leaving it untouched"
else
  say "building extension/anon-compat against PostgreSQL $PG_MAJOR"
  make -s -C extension/anon-compat PG_CONFIG="$PG_CONFIG" clean >/dev/null
  make -s -C extension/anon-compat PG_CONFIG="$PG_CONFIG" with_llvm=no
  install_cmd=(make -s -C extension/anon-compat PG_CONFIG="$PG_CONFIG" with_llvm=no install)
  if [ "$(id -u)" = 0 ]; then "${install_cmd[@]}" >/dev/null
  elif [ -n "$SUDO" ] && have "$SUDO"; then "$SUDO" "${install_cmd[@]}" >/dev/null
  else die "installing the anon engine into $("$PG_CONFIG" --pkglibdir) needs root: run 'sudo ${install_cmd[*]}', then this again"
  fi
  say "installed anon-compat as extension anon ($control)"
fi
