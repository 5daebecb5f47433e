# Sourced by coverage.sh, load.sh and pgbench.sh (from the repository root): the binary, the
# 1,000,000-people database `cbss_bench`, a server on it and an administrator's token.
PG="${PG:-postgres://postgres@127.0.0.1:5432}"
# Loopback needs no TLS (Debian's PostgreSQL offers it, and sqlx takes it when offered): set
# DB_PARAMS= (empty) to measure with it, as a server across a network would run.
DB="$PG/cbss_bench${DB_PARAMS-?sslmode=disable}"
PORT="${PORT:-18082}"
# CBSS_BIN names a binary built elsewhere (e.g. another worktree); otherwise build this one.
BIN="${CBSS_BIN:-./target/release/cbss}"
[ -n "${CBSS_BIN:-}" ] || cargo build -q --release --bin cbss

# Seeding a million people takes minutes: only when cbss_bench is missing or empty.
ensure_seeded() {
  local n
  n=$(psql "$DB" -Atc "select count(*) from person" 2>/dev/null || true)
  [ "${n:-0}" -gt 0 ] || CBSS_BIN="$BIN" bash bench/seed.sh
}

pid=
start_server() {
  # Another server on the port would answer /healthz in ours' stead and be measured instead.
  ! curl -s "127.0.0.1:$PORT/healthz" >/dev/null || { echo "port $PORT is in use: stop that server or set PORT" >&2; exit 1; }
  DATABASE_URL="$DB" CBSS_BIND="127.0.0.1:$PORT" CBSS_LOG=warn "$BIN" serve &
  pid=$!
  # Serving migrates first, which can take a while on a million rows.
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || { echo "the server exited" >&2; exit 1; }
    curl -sf "127.0.0.1:$PORT/healthz" >/dev/null && return
    sleep 0.1
  done
  echo "the server did not answer /healthz" >&2
  exit 1
}
# Fails when our server has gone (killed, crashed): figures from another one would be wrong.
check_server() {
  kill -0 "$pid" 2>/dev/null || { echo "the server (pid $pid) is gone" >&2; exit 1; }
}
stop_server() {
  [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; }
}

# Prints an access token for the demo administrator (it lasts 15 minutes).
login() {
  curl -s -X POST "127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
    -d '{"query":"mutation { login(email: \"admin@demo.mn\", password: \"demo-password\") { accessToken } }"}' |
    sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p'
}

# POSTs a GraphQL request body (JSON) with the token in $TOKEN; prints the answer.
gql() {
  curl -s -X POST "127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
    -H "authorization: Bearer $TOKEN" -d "$1"
}

# The person ids load.sh and pgbench.sh both pick from: the same few thousand, spread over the
# table (ordered by a hash, so the choice is stable), numbered 1..N for pgbench's random().
person_ids() {
  psql "$DB" -qc "SET client_min_messages = warning" -c "CREATE SCHEMA IF NOT EXISTS bench" \
    -c "CREATE TABLE IF NOT EXISTS bench.person_ids AS SELECT row_number() OVER (ORDER BY md5(id::text))::int AS n, id FROM person ORDER BY md5(id::text) LIMIT 3000" \
    -c "CREATE UNIQUE INDEX IF NOT EXISTS person_ids_n ON bench.person_ids (n)" \
    -c "ANALYZE bench.person_ids"
}

# The pages of 50 load.sh asks for and pgbench.sh replays: a few hundred soums and khoroos with
# at least a page of people (their households sit in the unit or below it), numbered 1..N, with
# what the server's statements of such a page are given: the unit's path range, then the first
# page's people and their households.
page_units() {
  psql "$DB" -qc "SET client_min_messages = warning" -c "CREATE SCHEMA IF NOT EXISTS bench" -c "
    CREATE TABLE IF NOT EXISTS bench.pages AS
    WITH here AS (SELECT h.org_unit_id, count(*) AS n FROM person p JOIN household h ON h.id = p.household_id GROUP BY 1),
    units AS (
      SELECT u.id, u.path FROM org_unit u JOIN org_unit hu ON hu.path LIKE u.path || '%' JOIN here ON here.org_unit_id = hu.id
      WHERE u.level IN ('SOUM', 'KHOROO') GROUP BY u.id, u.path HAVING sum(here.n) >= 50 ORDER BY md5(u.id::text) LIMIT 300)
    SELECT row_number() OVER (ORDER BY md5(u.id::text))::int AS n, u.id AS unit_id, u.path AS lo, left(u.path, -1) || '0' AS hi,
      pg.pids, pg.hids
    FROM units u CROSS JOIN LATERAL (
      SELECT array_agg(f.id) AS pids, array_agg(DISTINCT f.household_id) FILTER (WHERE f.household_id IS NOT NULL) AS hids
      FROM (SELECT p.id, p.household_id FROM person p
            WHERE p.org_unit_id IN (SELECT o.id FROM org_unit o WHERE o.path >= u.path AND o.path < left(u.path, -1) || '0')
            ORDER BY p.id LIMIT 50) f) pg" \
    -c "CREATE UNIQUE INDEX IF NOT EXISTS pages_n ON bench.pages (n)" \
    -c "ANALYZE bench.pages"
}

# wrk against our server: BENCH_MIX=$2 (kinds of bench/wrk/cbss.lua) for $DURATION seconds at
# $CLIENTS connections, from the id lists in $BENCH_IDS; prints a row of `wrk_header`'s table
# labelled $1, and keeps wrk's own report in /tmp/cbss-wrk-<label>.txt.
wrk_header() {
  printf '%-44s %8s %8s %8s %9s %7s %7s\n' load req/s 'p50 ms' 'p99 ms' answers non-200 errors
}
wrk_row() {
  local out="/tmp/cbss-wrk-${1// /-}.txt"
  BENCH_MIX=$2 wrk -t2 -c"$CLIENTS" -d"${DURATION}s" --latency -s bench/wrk/cbss.lua \
    "http://127.0.0.1:$PORT/graphql" >"$out"
  check_server
  read -r rps p50 p99 n bad errors < <(sed -n 's/^cbss: \([0-9]\)/\1/p' "$out")
  printf '%-44s %8s %8s %8s %9s %7s %7s\n' "$1" "$rps" "$p50" "$p99" "$n" "$bad" "$errors"
  grep '^cbss: first error' "$out" || true
}
# A few seconds of BENCH_MIX=$1 first: the pool's connections, their prepared statements and
# the caches are then in place before anything is measured.
wrk_warm() {
  BENCH_MIX=$1 wrk -t2 -c"$CLIENTS" -d"${2:-3}s" -s bench/wrk/cbss.lua "http://127.0.0.1:$PORT/graphql" >/dev/null
}

# The start of a wrk script: wrk is there, cbss_bench is seeded, and $dir is a scratch directory
# (for id lists) removed, with the server stopped, at exit.
wrk_setup() {
  command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
  ensure_seeded
  dir=$(mktemp -d)
  trap 'stop_server; rm -rf "$dir"' EXIT
  write_ids
}

# The ids bench/wrk/cbss.lua picks from, in $dir: a few thousand people (bench.person_ids), the
# soums and khoroos of pgbench.sh's pages of 50 (bench.pages), every aimag, the country.
write_ids() {
  person_ids
  page_units
  psql "$DB" -Atc "select id from bench.person_ids order by n" >"$dir/person.txt"
  psql "$DB" -Atc "select unit_id from bench.pages order by n" >"$dir/unit.txt"
  psql "$DB" -Atc "select id from org_unit where level = 'AIMAG'" >"$dir/aimag.txt"
  psql "$DB" -Atc "select id from org_unit where level = 'COUNTRY'" >"$dir/country.txt"
  export BENCH_IDS="$dir"
}
