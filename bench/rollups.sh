#!/usr/bin/env bash
# Issue 31, roll-ups: aggregates as clients send them (named operations, fragments, variables)
# against the release server on cbss_bench (1,000,000 people), first with roll-ups
# (CBSS_ROLLUPS=true, after the start's build), then counting the records (CBSS_ROLLUPS=false),
# in one run on one database; then the SQL alone of people per soum through pgbench, at the same
# connections. wrk, the server and PostgreSQL share this machine's cores.
# Usage: bench/rollups.sh [DURATION] [CLIENTS]   (seconds and connections; 20 and 32 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-20}"
CLIENTS="${2:-32}"
source bench/common.sh
wrk_setup
export BENCH_TOKEN

# The answer's extensions.freshness (roll-up or not) and how long one answer takes, alone.
once() {
  local body="{\"query\":\"query(\$id: UUID!) { aggregate(entity: PEOPLE, orgUnitId: \$id, orgUnitLevel: AIMAG, groupBy: [ORG_UNIT, SEX, AGE_BAND]) { rows { count } } }\",\"variables\":{\"id\":\"$(cat "$dir/country.txt")\"}}"
  TOKEN=$BENCH_TOKEN gql "$body" | python3 -c 'import sys, json; print("extensions:", json.dumps(json.load(sys.stdin).get("extensions")))'
}

for rollups in true false; do
  echo "== CBSS_ROLLUPS=$rollups"
  CBSS_ROLLUPS=$rollups start_server
  BENCH_TOKEN=$(login)
  if [ "$rollups" = true ]; then
    # The build the server starts with (counted afresh when the days differ; `DELETE FROM
    # rollup_state` forces that): answers read the roll-ups once it is done.
    for _ in $(seq 1 240); do once | grep -q '"rollup"' && break; sleep 0.5; done
  fi
  once
  wrk_header
  wrk_warm soums:1
  wrk_row "people-per-soum-of-an-aimag rollups=$rollups" soums:1
  wrk_row "people-by-aimag-sex-band rollups=$rollups" national:1
  wrk_row "services-by-aimag-type-year rollups=$rollups" services:1
  stop_server
done

echo "== the SQL alone: people per soum of an aimag, as the records are counted (pgbench -c $CLIENTS)"
psql "$DB" -qc "SET client_min_messages = warning" -c "CREATE SCHEMA IF NOT EXISTS bench" \
  -c "CREATE TABLE IF NOT EXISTS bench.aimags AS SELECT row_number() OVER (ORDER BY id)::int AS n, id, path FROM org_unit WHERE level = 'AIMAG'"
cat >"$dir/soums.sql" <<SQL
\set n random(1, $(psql "$DB" -Atc "select count(*) from bench.aimags"))
SELECT c.id, count(*) FROM bench.aimags a JOIN org_unit c ON c.parent_id = a.id
  JOIN org_unit u ON u.path >= c.path AND u.path < left(c.path, -1) || '0'
  JOIN person p ON p.org_unit_id = u.id
  WHERE a.n = :n GROUP BY c.id;
SQL
pgbench -n -M prepared -f "$dir/soums.sql" -c "$CLIENTS" -j 2 -T "$DURATION" "$DB" | grep -E '^(latency average|tps)'
