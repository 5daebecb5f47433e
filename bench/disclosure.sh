#!/usr/bin/env bash
# Issue 28, the cost of disclosure control: median HTTP time of coverage and aggregate answers
# on cbss_bench (1,000,000 people) for an identified caller (admin@demo.mn) and a de-identified
# one (analyst@demo.mn, whose counts are perturbed by the cell-key method), then wrk's
# throughput of a page of 50 people as the administrator, answered from its plan and through
# the executor (where async-graphql sends every field through the Guard extension). Run it
# with CBSS_BIN set to binaries built before and after a change and compare.
# Usage: bench/disclosure.sh [RUNS] [DURATION] [CLIENTS]   (5 runs; 20 s and 32 connections)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
DURATION="${2:-20}"
CLIENTS="${3:-32}"
source bench/common.sh
wrk_setup

u85=$(psql "$DB" -Atc "select id from org_unit where code = '85'")
mn=$(psql "$DB" -Atc "select id from org_unit where code = 'MN'")

start_server

# Prints an access token for a demo user (it lasts 15 minutes).
login_as() {
  curl -s -X POST "127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
    -d "{\"query\":\"mutation(\$e: String!, \$p: String!) { login(email: \$e, password: \$p) { accessToken } }\",\"variables\":{\"e\":\"$1\",\"p\":\"demo-password\"}}" |
    sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p'
}

# The documents, as a client sends them: the values in variables.
COVERAGE='query($i: String!, $u: UUID!, $p: String!, $g: [CoverageDimension!]!, $l: OrgUnitLevel) { coverage(indicator: $i, orgUnitId: $u, period: $p, groupBy: $g, orgUnitLevel: $l) { total { numerator denominator value suppressed } rows { orgUnit { code nameEn } sex numerator denominator value suppressed } } }'
AGGREGATE='query($e: AggregateEntity!, $u: UUID!, $g: [AggregateDimension!]!, $l: OrgUnitLevel) { aggregate(entity: $e, orgUnitId: $u, groupBy: $g, orgUnitLevel: $l) { total { count } rows { orgUnit { code nameEn } ageBand count } } }'

# Median wall time (ms) of RUNS requests after two warm-ups, and the answer's rows and
# suppressed cells; "error" when an answer is not a clean 200, so a failure cannot pass for a
# fast answer. Arguments: label, document, variables (JSON).
api_ms() {
  local body out times=()
  body=$(printf '{"query":"%s","variables":%s}' "$2" "$3")
  for r in $(seq -1 "$RUNS"); do
    out=$(curl -s -o "$dir/answer" -w '%{http_code} %{time_total}' -X POST "127.0.0.1:$PORT/graphql" \
      -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" -d "$body")
    if [ "${out% *}" != 200 ] || grep -q '"errors"' "$dir/answer"; then
      echo "$1: $(head -c 300 "$dir/answer")" >&2
      echo "error - -"
      return
    fi
    [ "$r" -le 0 ] || times+=("${out#* }")
  done
  printf '%s %s %s\n' \
    "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p" | awk '{ printf "%.1f", $1 * 1000 }')" \
    "$(grep -o '"orgUnit":' "$dir/answer" | wc -l)" "$(grep -o '"suppressed":true' "$dir/answer" | wc -l)"
}

echo "$(psql "$DB" -Atc 'select count(*) from person') people; $RUNS runs each (median, after two warm-ups); load: $(uptime | sed 's/.*load average: //')"
row() { printf '%-52s %9s %11s %6s %11s\n' "$@"; }
row query 'admin ms' 'analyst ms' rows suppressed
for case in \
  "coverage VITAMIN_A 85 by ORG_UNIT, SEX|$COVERAGE|{\"i\":\"VITAMIN_A\",\"u\":\"$u85\",\"p\":\"LAST_12_MONTHS\",\"g\":[\"ORG_UNIT\",\"SEX\"]}" \
  "coverage GROWTH_MONITORING MN by AIMAG|$COVERAGE|{\"i\":\"GROWTH_MONITORING\",\"u\":\"$mn\",\"p\":\"LAST_12_MONTHS\",\"g\":[\"ORG_UNIT\"],\"l\":\"AIMAG\"}" \
  "aggregate PEOPLE 85 by ORG_UNIT, AGE_BAND|$AGGREGATE|{\"e\":\"PEOPLE\",\"u\":\"$u85\",\"g\":[\"ORG_UNIT\",\"AGE_BAND\"]}" \
  "aggregate SERVICE_RECORDS MN by AIMAG|$AGGREGATE|{\"e\":\"SERVICE_RECORDS\",\"u\":\"$mn\",\"g\":[\"ORG_UNIT\"],\"l\":\"AIMAG\"}"; do
  IFS='|' read -r label doc vars <<<"$case"
  check_server
  # fresh tokens per query: a slow run could outlast one (15 minutes)
  TOKEN=$(login_as admin@demo.mn)
  read -r admin _ _ < <(api_ms "$label (admin)" "$doc" "$vars")
  TOKEN=$(login_as analyst@demo.mn)
  read -r analyst rows suppressed < <(api_ms "$label (analyst)" "$doc" "$vars")
  row "$label" "$admin" "$analyst" "$rows" "$suppressed"
done

# wrk: load.sh's page of 50 (bench/wrk/cbss.lua) and the same selection inside an inline
# fragment, which the plan (graphql/people_page.rs) leaves to the executor: ~1,100 fields,
# each through the extensions registered.
sed 's|^local kinds = {|&\n  pagexec = { ids = "unit.txt", query = [[query($id: UUID!) { people(filter: {orgUnitId: $id}, first: 50) { edges { node { ... on Person { id givenName familyName birthDate household { id address } serviceRecords { date serviceType { code } } } } } } }]] },|' \
  bench/wrk/cbss.lua >"$dir/cbss.lua"
export BENCH_IDS="$dir" BENCH_TOKEN
BENCH_TOKEN=$(login_as admin@demo.mn)
echo
echo "wrk -t2 -c$CLIENTS -d${DURATION}s as admin@demo.mn, $(nproc) cores shared with the server and PostgreSQL"
printf '%-36s %8s %8s %8s %9s %7s %7s\n' load req/s 'p50 ms' 'p99 ms' answers non-200 errors
run() {
  BENCH_MIX=$2 wrk -t2 -c"$CLIENTS" -d"${DURATION}s" --latency -s "$dir/cbss.lua" \
    "http://127.0.0.1:$PORT/graphql" >"$dir/wrk.txt"
  check_server
  cp "$dir/wrk.txt" "/tmp/cbss-disclosure-$1.txt"
  read -r rps p50 p99 n bad errors < <(sed -n 's/^cbss: \([0-9]\)/\1/p' "$dir/wrk.txt")
  printf '%-36s %8s %8s %8s %9s %7s %7s\n' "$1" "$rps" "$p50" "$p99" "$n" "$bad" "$errors"
  grep '^cbss: first error' "$dir/wrk.txt" || true
}
# A few seconds unmeasured first: the pool, its prepared statements and the caches in place.
BENCH_MIX=page:1,pagexec:1 wrk -t2 -c"$CLIENTS" -d5s -s "$dir/cbss.lua" "http://127.0.0.1:$PORT/graphql" >/dev/null
run people-page-50-planned page:1
run people-page-50-executor pagexec:1
echo "load after: $(uptime | sed 's/.*load average: //')"
