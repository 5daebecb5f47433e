#!/usr/bin/env bash
# Where the database alone is the limit: person by id straight through pgbench at CLIENTS
# connections, picking from the same ids as load.sh, to read load.sh's req/s against.
# (coverage.sh runs each coverage query's SQL through pgbench at 1 client.)
# Usage: bench/pgbench.sh [DURATION] [CLIENTS]   (seconds and connections; 15 and 32 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-15}"
CLIENTS="${2:-32}"
source bench/common.sh
ensure_seeded
person_ids
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Ids are uuids: pgbench draws a number and the subquery turns it into an id (one more primary-key
# probe on a 3,000-row table, inside the same statement and round trip).
cat >"$dir/person.sql" <<SQL
\set n random(1, $(psql "$DB" -Atc "select count(*) from bench.person_ids"))
SELECT p.* FROM person p WHERE p.id = (SELECT id FROM bench.person_ids WHERE n = :n);
SQL
# The server also writes the read to the audit log, in its own transaction (one WAL flush).
cat >"$dir/audited.sql" <<SQL
\set n random(1, $(psql "$DB" -Atc "select count(*) from bench.person_ids"))
SELECT p.* FROM person p WHERE p.id = (SELECT id FROM bench.person_ids WHERE n = :n);
INSERT INTO audit_log (id, at, role, action, entity, entity_id) VALUES (gen_random_uuid(), now(), 'ADMIN', 'READ', 'person', (SELECT id FROM bench.person_ids WHERE n = :n)) RETURNING *;
SQL
for script in person audited; do
  echo "pgbench $script (person by id$([ $script = audited ] && echo ', then its audit entry')): -c $CLIENTS -j 2 -T $DURATION, prepared statements (as the server's driver uses)"
  pgbench -n -M prepared -f "$dir/$script.sql" -c "$CLIENTS" -j 2 -T "$DURATION" "$DB" | grep -E '^(latency average|tps)'
done
# The benchmark's audit entries are not the service's history.
psql "$DB" -qc "DELETE FROM audit_log WHERE action = 'READ' AND user_id IS NULL"
