#!/usr/bin/env bash
# Issue 31, targets a and b: a person by id with their service records as Relay/Apollo clients
# send it (named fragments, `__typename`); the page of 50 people with households and service
# records, as the bench has always sent it (plain), as Relay/Apollo clients send it (named
# fragments, `__typename`, a variable with a default), and the latter with each person's unit
# and life stage; first
# answered from a plan of the selection (CBSS_PLANNER=true), then field by field by the
# executor (CBSS_PLANNER=false), in one run on one database (cbss_bench, 1,000,000 people).
# wrk, the server and PostgreSQL share this machine's cores.
# Usage: bench/planner.sh [DURATION] [CLIENTS]   (seconds and connections; 20 and 32 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-20}"
CLIENTS="${2:-32}"
source bench/common.sh
wrk_setup
export BENCH_TOKEN

for planner in true false; do
  echo "== CBSS_PLANNER=$planner"
  CBSS_PLANNER=$planner start_server
  BENCH_TOKEN=$(login)
  wrk_header
  wrk_warm page:1
  wrk_row "person-with-records planner=$planner" personrecords:1
  wrk_row "page-plain planner=$planner" page:1
  wrk_row "page-fragments planner=$planner" pagefrag:1
  wrk_row "page-fragments-unit-stage planner=$planner" pagewide:1
  echo "server RSS: $(ps -o rss= -p "$pid" | awk '{printf "%.0f MB", $1/1024}')"
  stop_server
done
