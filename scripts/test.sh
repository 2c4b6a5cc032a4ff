#!/usr/bin/env bash
# `npm test`: set up (build + install the anon engine, npm packages), start a
# throwaway PostgreSQL with anon preloaded, run every test file against it.
# Extra arguments are passed to node's test runner (e.g. a single test file).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
. scripts/pg-cluster.sh
start_cluster
trap stop_cluster EXIT
echo "[test] PostgreSQL $PG_MAJOR with anon preloaded on port $CLUSTER_PORT ($CLUSTER_DIR)"
export ANONBRANCH_TEST_PG_URL="$CLUSTER_URL"
export ANONBRANCH_TEST_PG_LOG="$CLUSTER_DIR/postgresql.log"
export ANONBRANCH_TEST_PG_SOCKET="$CLUSTER_SOCKET"
# What a test needs to restart this cluster itself (fault tests start their own
# clusters instead, so their restarts never hit another test file's server).
export ANONBRANCH_TEST_PG_DATA="$CLUSTER_DIR/data" ANONBRANCH_TEST_PG_CTL="$PG_BIN/pg_ctl"
[ "$(id -u)" = 0 ] && export ANONBRANCH_TEST_PG_RUN_AS=postgres
if [ "$#" -gt 0 ]; then files=("$@"); else files=(test/*.test.ts); fi
# A test that hangs fails after 5 minutes instead of holding CI.
node --import tsx --test --test-reporter=spec --test-timeout=300000 "${files[@]}"
