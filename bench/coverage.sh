#!/usr/bin/env bash
# Issue 7, coverage at national scale: for every coverage indicator, the median HTTP time of
# `coverage` over the 1,000,000-people database at MN (grouped by region) and at R-W (grouped by
# aimag), beside the same SQL run by pgbench, so the API's own overhead shows as a ratio.
# Usage: bench/coverage.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
source bench/common.sh
ensure_seeded
dir=$(mktemp -d)
trap 'stop_server; rm -rf "$dir"' EXIT
start_server

QUERY='query($i: String!, $u: UUID!) { coverage(indicator: $i, orgUnitId: $u, period: \"LAST_12_MONTHS\", groupBy: [ORG_UNIT]) { total { numerator denominator value } rows { numerator } } }'

# Median wall time (ms) of RUNS requests after one warm-up; "error" when an answer is not a
# clean 200, so a failure cannot pass for a fast answer.
api_ms() {
  local body="{\"query\":\"$QUERY\",\"variables\":{\"i\":\"$1\",\"u\":\"$2\"}}" out times=()
  for r in $(seq 0 "$RUNS"); do
    out=$(curl -s -o "$dir/answer" -w '%{http_code} %{time_total}' -X POST "127.0.0.1:$PORT/graphql" \
      -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" -d "$body")
    if [ "${out% *}" != 200 ] || grep -q '"errors"' "$dir/answer"; then
      echo "$1 at $3: $(head -c 300 "$dir/answer")" >&2
      echo error
      return
    fi
    [ "$r" -eq 0 ] || times+=("${out#* }")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p" | awk '{ printf "%.1f", $1 * 1000 }'
}

# pgbench's average latency (ms) of the statements the store builds for the same call.
sql_ms() {
  DATABASE_URL="$DB" CBSS_LOG=warn "$BIN" coverage-sql --indicator "$1" --org-unit "$2" \
    --period LAST_12_MONTHS --group-by ORG_UNIT >"$dir/q.sql" 2>"$dir/err" ||
    { sed 's/^/coverage-sql: /' "$dir/err" | head -3 >&2; echo failed; return; }
  if pgbench -n -f "$dir/q.sql" -t 5 -c 1 "$DB" >"$dir/pgbench" 2>"$dir/err"; then
    sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$dir/pgbench"
  else
    sed 's/^/pgbench: /' "$dir/err" | head -5 >&2
    echo failed
  fi
}

# The subcommand is hidden and new: without it, measure the API alone.
sql=yes
DATABASE_URL="$DB" "$BIN" coverage-sql --help >/dev/null 2>&1 || { sql=; echo "coverage-sql not available: no SQL column"; }

TOKEN=$(login)
codes=$(gql '{"query":"{ indicators { code } }"}' | grep -o '"code":"[^"]*"' | cut -d'"' -f4)
echo "$(echo "$codes" | wc -l) indicators, $(psql "$DB" -Atc 'select count(*) from person') people, $RUNS runs each (median, after a warm-up)"
echo "targets: a national answer grouped by region or aimag < 500 ms; API / SQL <= 1.5"
printf '%-28s %-5s %9s %9s %7s\n' indicator unit 'API ms' 'SQL ms' API/SQL
for code in $codes; do
  TOKEN=$(login) # a fresh token per indicator: a slow run could outlast one (15 minutes)
  # MN's rows are the regions; R-W's rows are its aimags.
  for unit in MN R-W; do
    id=$(psql "$DB" -Atc "select id from org_unit where code = '$unit'")
    api=$(api_ms "$code" "$id" "$unit")
    s=-
    ratio=-
    if [ -n "$sql" ]; then
      s=$(sql_ms "$code" "$unit")
      [[ "$api$s" =~ error|failed ]] || ratio=$(printf %.2f "$(echo "scale=3; $api / $s" | bc)")
    fi
    printf '%-28s %-5s %9s %9s %7s\n' "$code" "$unit" "$api" "$s" "$ratio"
  done
done
