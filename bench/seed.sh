#!/usr/bin/env bash
# Times `cbss seed --demo --people N` into a fresh PostgreSQL database.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
PG="${PG:-postgres://postgres@127.0.0.1:5432}"
# CBSS_BIN names a binary built elsewhere (e.g. another worktree); otherwise build this one.
BIN="${CBSS_BIN:-./target/release/cbss}"
[ -n "${CBSS_BIN:-}" ] || cargo build -q --release --bin cbss
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS cbss_bench WITH (FORCE)" -c "CREATE DATABASE cbss_bench"
start=$(date +%s.%N)
DATABASE_URL="$PG/cbss_bench" CBSS_LOG=warn "$BIN" seed --demo --people "$N"
end=$(date +%s.%N)
echo "seeded $N people in $(echo "$end - $start" | bc) s"
psql "$PG/cbss_bench" -Atc "select 'households', count(*) from household union all select 'people', count(*) from person union all select 'pregnancies', count(*) from pregnancy union all select 'service records', count(*) from service_record union all select 'growth measurements', count(*) from growth_measurement union all select 'immunisations', count(*) from immunisation"
psql "$PG/cbss_bench" -Atc "select 'database size', pg_size_pretty(pg_database_size('cbss_bench'))"
