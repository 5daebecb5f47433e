#!/usr/bin/env bash
# Login latency (Argon2id) over N sequential requests, known and unknown email.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-20}"
# More than 20 failures from one address start the login waits, which would skew the unknown-email figure.
N=$(( N > 20 ? 20 : N ))
# CBSS_BIN names a binary built elsewhere (e.g. another worktree); otherwise build this one.
BIN="${CBSS_BIN:-./target/release/cbss}"
[ -n "${CBSS_BIN:-}" ] || cargo build -q --release --bin cbss
dir=$(mktemp -d)
port=18080
DATABASE_URL="sqlite://$dir/cbss.db?mode=rwc" "$BIN" seed --demo --people 10 >/dev/null 2>&1
DATABASE_URL="sqlite://$dir/cbss.db?mode=rwc" CBSS_BIND="127.0.0.1:$port" CBSS_LOG=warn "$BIN" serve &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do curl -s "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
measure() {
  local email=$1 total=0
  for i in $(seq 1 "$N"); do
    # A different unknown email each time: five failures for one account start its waits.
    [ "$email" = admin@demo.mn ] || email="nobody$i@demo.mn"
    t=$(curl -s -o /dev/null -w '%{time_total}' -X POST "127.0.0.1:$port/graphql" -H 'content-type: application/json' \
      -d "{\"query\":\"mutation { login(email: \\\"$email\\\", password: \\\"demo-password\\\") { expiresIn } }\"}")
    total=$(echo "$total + $t" | bc -l)
  done
  echo "${1}: mean $(echo "scale=1; 1000 * $total / $N" | bc -l) ms over $N logins"
}
measure admin@demo.mn
# An unknown email does the same Argon2 work against a dummy hash.
measure nobody@demo.mn
