#!/usr/bin/env bash
# `npm run bench`: the benchmarks under bench/, against a throwaway PostgreSQL
# with the anon engine. They print ratios against a baseline run in the same
# process; nothing here passes or fails on time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh bench
. scripts/pg-cluster.sh
start_cluster
trap stop_cluster EXIT
export ANONBRANCH_TEST_PG_URL="$CLUSTER_URL"
if [ "$#" -gt 0 ]; then files=("$@"); else files=(bench/*.bench.ts); fi
for f in "${files[@]}"; do
  echo "== $f"
  node --import tsx "$f"
done
