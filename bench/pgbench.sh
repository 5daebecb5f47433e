#!/usr/bin/env bash
# Where the database alone is the limit: person by id, and a page of 50 people with their
# households and service records, straight through pgbench at CLIENTS connections, on the same
# ids and units as load.sh, to read load.sh's req/s against.
# (coverage.sh runs each coverage query's SQL through pgbench at 1 client.)
# Usage: bench/pgbench.sh [DURATION] [CLIENTS]   (seconds and connections; 15 and 32 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-15}"
CLIENTS="${2:-32}"
source bench/common.sh
ensure_seeded
person_ids
page_units
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
# A page of 50 is the server's three statements, as it sends them (its IN lists are what
# PostgreSQL turns into = ANY): the people of the unit's subtree by id (a page from each unit,
# page::fetch_in_subtree, which writes the page size into the statement), then their households
# and their service records, of the columns load.sh's page selects (the planner's projection,
# graphql/plan.rs; the service catalogue is read once per process). One more
# primary-key probe first (bench.pages) hands the statements what the earlier ones returned to
# the server.
cat >"$dir/page.sql" <<SQL
\set n random(1, $(psql "$DB" -Atc "select count(*) from bench.pages"))
SELECT lo, hi, pids, hids FROM bench.pages WHERE n = :n \gset
SELECT p.* FROM org_unit u JOIN LATERAL (SELECT * FROM person p WHERE p.org_unit_id = u.id ORDER BY p.id LIMIT 51) p ON TRUE WHERE u.path >= :lo AND u.path < :hi ORDER BY p.id LIMIT 51;
SELECT h.id, h.org_unit_id, h.address FROM household h WHERE h.id = ANY (:hids::uuid[]);
SELECT r.id, r.service_date, r.service_type_id, r.person_id FROM service_record r WHERE r.person_id = ANY (:pids::uuid[]) ORDER BY r.service_date DESC;
SQL
declare -A what=([person]="person by id" [audited]="person by id, then its audit entry" [page]="a page of 50 people: its 3 statements")
for script in person audited page; do
  echo "pgbench $script (${what[$script]}): -c $CLIENTS -j 2 -T $DURATION, prepared statements (as the server's driver uses)"
  pgbench -n -M prepared -f "$dir/$script.sql" -c "$CLIENTS" -j 2 -T "$DURATION" "$DB" | grep -E '^(latency average|tps)'
done
# The benchmark's audit entries are not the service's history.
psql "$DB" -qc "DELETE FROM audit_log WHERE action = 'READ' AND user_id IS NULL"
