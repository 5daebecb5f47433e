#!/usr/bin/env bash
# Issue 7, coverage at national scale: for every coverage indicator, the median HTTP time of
# `coverage` over the 1,000,000-people database at MN (rows by region), at R-W (rows by aimag) and
# at MN with orgUnitLevel: AIMAG (the national answer by aimag), beside the same SQL run by
# pgbench, so the API's own overhead shows as a ratio.
# Usage: [CODES="A B"] bench/coverage.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
source bench/common.sh
ensure_seeded
dir=$(mktemp -d)
trap 'stop_server; rm -rf "$dir"' EXIT
start_server # it migrates cbss_bench, which coverage-sql (below) does not

# LEVEL becomes ", orgUnitLevel: X" or nothing: a server older than that argument still answers.
QUERY='query($i: String!, $u: UUID!) { coverage(indicator: $i, orgUnitId: $u, period: \"LAST_12_MONTHS\", groupBy: [ORG_UNIT]LEVEL) { total { numerator denominator value } rows { numerator } } }'

# Median wall time (ms) of RUNS requests after one warm-up; "error" when an answer is not a
# clean 200, so a failure cannot pass for a fast answer. Arguments: code, unit id, level.
api_ms() {
  local query="${QUERY/LEVEL/${3:+, orgUnitLevel: $3}}" out times=()
  local body="{\"query\":\"$query\",\"variables\":{\"i\":\"$1\",\"u\":\"$2\"}}"
  for r in $(seq 0 "$RUNS"); do
    out=$(curl -s -o "$dir/answer" -w '%{http_code} %{time_total}' -X POST "127.0.0.1:$PORT/graphql" \
      -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" -d "$body")
    if [ "${out% *}" != 200 ] || grep -q '"errors"' "$dir/answer"; then
      echo "$1: $(head -c 300 "$dir/answer")" >&2
      echo error
      return
    fi
    [ "$r" -eq 0 ] || times+=("${out#* }")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p" | awk '{ printf "%.1f", $1 * 1000 }'
}

# pgbench's average latency (ms) of the statements the store builds for the same call (code,
# unit code, level). The log goes to stdout too, hence CBSS_LOG=error: only SQL in the file.
sql_ms() {
  DATABASE_URL="$DB" CBSS_LOG=error "$BIN" coverage-sql --indicator "$1" --org-unit "$2" \
    --period LAST_12_MONTHS --group-by ORG_UNIT ${3:+--org-unit-level "$3"} >"$dir/q.sql" 2>"$dir/err" ||
    { sed 's/^/coverage-sql: /' "$dir/err" | head -3 >&2; echo failed; return; }
  # With the settings the server's connections have (api/src/db.rs: jit off) and those of its
  # analytical transactions (Store::query_analytical: work_mem, custom plans).
  if PGOPTIONS="-c jit=off -c work_mem=64MB -c plan_cache_mode=force_custom_plan" pgbench -n -f "$dir/q.sql" -t 5 -c 1 "$DB" >"$dir/pgbench" 2>"$dir/err"; then
    sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$dir/pgbench" | awk '{ printf "%.1f", $1 }'
  else
    sed 's/^/pgbench: /' "$dir/err" | head -5 >&2
    echo failed
  fi
}

# The subcommand is hidden and new: without it, measure the API alone.
sql=yes
DATABASE_URL="$DB" "$BIN" coverage-sql --help >/dev/null 2>&1 || { sql=; echo "coverage-sql not available: no SQL column"; }

TOKEN=$(login)
# CODES="PENTA1 MCV1" measures those alone.
codes=${CODES:-$(gql '{"query":"{ indicators { code } }"}' | grep -o '"code":"[^"]*"' | cut -d'"' -f4)}
echo "$(echo "$codes" | wc -l) indicators, $(psql "$DB" -Atc 'select count(*) from person') people, $RUNS runs each (median, after a warm-up)"
echo "targets: national answers (by region or aimag) < 500 ms; API / SQL <= 1.5 (a few ms of HTTP and"
echo "         sign-in checks weigh more in answers of a few ms)"
row() { printf '%-29s %-13s %9s %9s %7s  %s\n' "$@"; }
row indicator 'unit (rows)' 'API ms' 'SQL ms' API/SQL target
for code in $codes; do
  check_server
  TOKEN=$(login) # a fresh token per indicator: a slow run could outlast one (15 minutes)
  # unit, orgUnitLevel (-: none, rows one level below the unit), what the rows are
  for case in "MN - regions" "R-W - aimags" "MN AIMAG aimags"; do
    read -r unit level rows <<<"$case"
    [ "$level" != - ] || level=
    id=$(psql "$DB" -Atc "select id from org_unit where code = '$unit'")
    api=$(api_ms "$code" "$id" "$level")
    s=- ratio=- miss=
    if [ "$api" = error ]; then miss=error; elif (($(echo "$api >= 500" | bc))); then miss=">500ms"; fi
    if [ -n "$sql" ]; then
      s=$(sql_ms "$code" "$unit" "$level")
      if [[ ! "$api$s" =~ error|failed ]]; then
        ratio=$(printf %.2f "$(echo "scale=3; $api / $s" | bc)")
        (($(echo "$ratio > 1.5" | bc))) && miss="${miss:+$miss }ratio"
      fi
    fi
    row "$code" "$unit ($rows)" "$api" "$s" "$ratio" "${miss:-ok}"
  done
done
