#!/usr/bin/env bash
# GraphiQL in a real browser: builds the server, starts it on a fresh SQLite database with the demo
# data on a spare port, runs graphiql.mjs in Debian's headless Chromium, stops the server.
#   bash tests/browser/check.sh [--install]   (--install: apt-get install chromium first)
# Prints the screenshot's path; exits non-zero if the page does not work for a person.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = "--install" ] && ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
command -v chromium >/dev/null || { echo "chromium is not installed (run with --install)"; exit 2; }
command -v node >/dev/null || { echo "node is not installed"; exit 2; }
(cd tests/browser && npm ci --no-audit --no-fund --silent)
cargo build -q -p cbss-api
dir=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
export DATABASE_URL="sqlite://$dir/cbss.db?mode=rwc" CBSS_BIND="127.0.0.1:$port" CBSS_LOG=warn
target/debug/cbss seed --demo --people 300 >/dev/null
target/debug/cbss serve >"$dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do target/debug/cbss healthcheck 2>/dev/null && break; sleep 0.2; done
node tests/browser/graphiql.mjs --url "http://127.0.0.1:$port" --screenshot "${SCREENSHOT:-/tmp/graphiql.png}"
