#!/usr/bin/env bash
# Fuzzes the GraphQL API: schemathesis (GraphQL mode, tests/fuzz/requirements.txt) generates
# queries and mutations of every root field from the schema (read by introspection) and sends
# them for SECONDS_PER_ROLE as field.zavkhan@demo.mn, then as admin@demo.mn, to the real server
# (target/debug/cbss) on a fresh database seeded with `cbss seed --demo --people 300`, some
# with a list grown to thousands of values. Fails on any 5xx, any request left without an answer,
# any error without extensions.code, any INTERNAL, any answer with SQL, driver, panic or path text
# in it, or a body that is not a GraphQL response (tests/fuzz/hooks.py; tests/fuzz/selftest.py
# first shows these checks catch each of those on a fake server).
#   bash tests/fuzz/run.sh [SECONDS_PER_ROLE] [DATABASE_URL]
# SECONDS_PER_ROLE: 75 by default. DATABASE_URL: a PostgreSQL server (postgres://user@host:port);
# the run creates a database cbss_fuzz_<random> on it and drops it after. Without it: SQLite.
# FUZZ_SEED=N generates from seed N (each run prints its seeds).
# FUZZ_ONLY=REGEX fuzzes only the operations whose name matches (e.g. 'Query\.people$').
# Writes nothing in the source tree but target/fuzz-venv (the virtualenv, kept between runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONDONTWRITEBYTECODE=1
seconds="${1:-75}"
pg="${2:-}"

venv=target/fuzz-venv
want=$(sha256sum tests/fuzz/requirements.txt | cut -d' ' -f1)
if [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/fuzz/requirements.txt
  echo "$want" >"$venv/.requirements.sha256"
fi

# First the checks themselves, against a fake server with known faults (a few seconds).
"$venv/bin/python" tests/fuzz/selftest.py

cargo build -q -p cbss-api

dir=$(mktemp -d)
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server=""
dbname=""
cleanup() {
  status=$?
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "$dbname" ]; then
    psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" >/dev/null 2>&1 ||
      echo "could not drop database $dbname"
  fi
  if [ "$status" -ne 0 ] && [ -f "$dir/server.log" ]; then
    echo "-- last lines of the server's log ($dir/server.log):"
    tail -n 40 "$dir/server.log"
  else
    rm -rf "$dir"
  fi
}
trap cleanup EXIT

if [ -n "$pg" ]; then
  # postgres://user[:pass]@host[:port][/db][?params]: the server part, then a fresh database on it.
  if [[ ! "$pg" =~ ^(postgres(ql)?://[^/?]+)(/[^?]*)?(\?.*)?$ ]]; then
    echo "not a PostgreSQL URL: $pg"; exit 2
  fi
  server_url="${BASH_REMATCH[1]}"
  params="${BASH_REMATCH[4]}"
  pg_admin="$server_url/postgres$params"
  dbname="cbss_fuzz_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  psql -q "$pg_admin" -c "CREATE DATABASE $dbname" >/dev/null
  export DATABASE_URL="$server_url/$dbname$params"
  label=postgres
else
  export DATABASE_URL="sqlite://$dir/cbss.db?mode=rwc"
  label=sqlite
fi
export CBSS_BIND="127.0.0.1:$port" CBSS_LOG=warn

target/debug/cbss seed --demo --people 300 >/dev/null
target/debug/cbss serve >"$dir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do target/debug/cbss healthcheck 2>/dev/null && break; sleep 0.2; done
target/debug/cbss healthcheck

# Bounded twice: schemathesis stops at --max-time, and this stops it should it hang.
timeout $((2 * seconds + 300)) "$venv/bin/python" tests/fuzz/fuzz.py \
  --url "http://127.0.0.1:$port/graphql" --seconds "$seconds" --label "$label" \
  --role field.zavkhan@demo.mn --role admin@demo.mn --workdir "$dir" ${FUZZ_SEED:+--seed "$FUZZ_SEED"} ${FUZZ_ONLY:+--only "$FUZZ_ONLY"}
