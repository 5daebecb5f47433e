#!/usr/bin/env bash
# Issue 7, reads under load: wrk against the release server on cbss_bench (1,000,000 people),
# each kind alone and then a mix, at CLIENTS connections; then pgbench.sh for the database's own
# ceiling on person by id. wrk and the server share this machine's cores.
# Usage: bench/load.sh [DURATION] [CLIENTS]   (seconds and connections; 30 and 32 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-30}"
CLIENTS="${2:-32}"
source bench/common.sh
wrk_setup

echo "ids: $(wc -l <"$dir/person.txt") people, $(wc -l <"$dir/unit.txt") soums/khoroos, $(wc -l <"$dir/aimag.txt") aimags"

start_server
export BENCH_IDS="$dir" BENCH_TOKEN
BENCH_TOKEN=$(login)
echo "wrk -t2 -c$CLIENTS -d${DURATION}s against $(nproc) cores shared with the server and PostgreSQL"
echo "targets: person by id > 6,000 req/s; page of 50 nested > 1,000 req/s"
wrk_header
wrk_warm person:80,page:15,coverage:5 5
wrk_row person-by-id person:1
wrk_row people-page-50-nested page:1
wrk_row coverage-vitamin-a-aimag coverage:1
wrk_row mix-80-person-15-page-5-coverage person:80,page:15,coverage:5
stop_server

echo
bash bench/pgbench.sh 15 "$CLIENTS"
