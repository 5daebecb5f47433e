#!/usr/bin/env bash
# syncPush throughput: 1,000-item batches of mixed kinds through the HTTP API, on PostgreSQL and
# SQLite, with the release binary, and the latency of single writes meanwhile.
# Usage: bench/sync.sh [BATCHES] [CLIENTS] [probe]; SYNC_DATABASES="postgres" runs one of the two.
set -euo pipefail
cd "$(dirname "$0")/.."
BATCHES="${1:-20}"
CLIENTS="${2:-1}"
PROBE="${3:-}"
PG="${PG:-postgres://postgres@127.0.0.1:5432}"
# CBSS_BIN names a binary built elsewhere (e.g. another worktree); otherwise build this one.
BIN="${CBSS_BIN:-./target/release/cbss}"
[ -n "${CBSS_BIN:-}" ] || cargo build -q --release --bin cbss
dir=$(mktemp -d)
port=18081
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
run() {
  local label=$1 url=$2
  DATABASE_URL="$url" CBSS_LOG=warn "$BIN" seed --demo --people 10 >/dev/null
  DATABASE_URL="$url" CBSS_BIND="127.0.0.1:$port" CBSS_LOG=warn "$BIN" serve &
  pid=$!
  for _ in $(seq 1 100); do curl -s "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  echo "== $label"
  python3 bench/sync.py "http://127.0.0.1:$port" "$BATCHES" "$CLIENTS" $PROBE
  kill $pid; wait $pid 2>/dev/null || true; pid=
}
for db in ${SYNC_DATABASES:-postgres sqlite}; do
  case $db in
  postgres)
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS cbss_bench_sync WITH (FORCE)" -c "CREATE DATABASE cbss_bench_sync"
    run PostgreSQL "$PG/cbss_bench_sync" ;;
  sqlite) run SQLite "sqlite://$dir/cbss.db?mode=rwc" ;;
  esac
done
