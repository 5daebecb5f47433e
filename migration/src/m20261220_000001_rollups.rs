//! Roll-ups (`store::rollup` builds and reads them):
//! - `people_rollup`: people per unit × sex × age band on a few reference days; every change to
//!   `person` since the last build is in `people_rollup_delta`, as signed counts per unit × sex ×
//!   birth date;
//! - `service_rollup`: service records of people per (the person's) unit × sex × service type ×
//!   month × age band at the service; every change since is in `service_rollup_delta`, per unit
//!   × sex × type × month × age in days: a record written, or its person moved or corrected.
//!
//! Triggers write the deltas in the writing transaction, so a roll-up plus its deltas is exact
//! at every snapshot. `rollup_state` says which roll-ups (and days) are built, and when. Deltas
//! carry each row's record key (the last byte of its id, `domain::cell_key`) so that
//! de-identified counts are perturbed exactly as a count of the rows would be.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261220_000001_rollups"
    }
}

const PEOPLE_DELTA: &str = "INSERT INTO people_rollup_delta (org_unit_id, sex, birth_date, n, key_sum)";
const SERVICE_DELTA: &str =
    "INSERT INTO service_rollup_delta (org_unit_id, sex, service_type_id, service_month, age_days, n, key_sum)";

/// PostgreSQL: triggers per statement, on their transition tables (a bulk insert of a million
/// people writes one delta per cell, not per person). Old rows count -1 and new ones +1, summed
/// per cell: an update that changes nothing counted writes nothing.
fn postgres() -> String {
    const KEY: &str = "get_byte(uuid_send(id), 15)";
    // (table, trigger operation, the changed rows as (columns..., n, k))
    let changed = |cols: &str, op: &str| match op {
        "INSERT" => format!("SELECT {cols}, 1 AS n, {KEY} AS k FROM new_rows"),
        "DELETE" => format!("SELECT {cols}, -1 AS n, -{KEY} AS k FROM old_rows"),
        _ => {
            format!("SELECT {cols}, -1 AS n, -{KEY} AS k FROM old_rows UNION ALL SELECT {cols}, 1, {KEY} FROM new_rows")
        }
    };
    let mut sql = String::new();
    for op in ["INSERT", "DELETE", "UPDATE"] {
        let people = changed("id, org_unit_id, sex, birth_date", op);
        let mut body = format!(
            "{PEOPLE_DELTA} SELECT org_unit_id, sex, birth_date, sum(n), sum(k) FROM ({people}) c \
             GROUP BY org_unit_id, sex, birth_date HAVING sum(n) <> 0 OR sum(k) <> 0;"
        );
        if op == "UPDATE" {
            // A person moved, or their sex or birth date corrected: their records move with them.
            body.push_str(&format!(
                "{SERVICE_DELTA} SELECT c.org_unit_id, c.sex, r.service_type_id, \
                 date_trunc('month', r.service_date)::date, r.service_date - c.birth_date, \
                 sum(c.n), sum(c.n * get_byte(uuid_send(r.id), 15)) \
                 FROM ({people}) c JOIN service_record r ON r.person_id = c.id \
                 WHERE c.id IN (SELECT o.id FROM old_rows o JOIN new_rows w ON w.id = o.id \
                   WHERE (o.org_unit_id, o.sex, o.birth_date) IS DISTINCT FROM (w.org_unit_id, w.sex, w.birth_date)) \
                 GROUP BY 1, 2, 3, 4, 5 \
                 HAVING sum(c.n) <> 0 OR sum(c.n * get_byte(uuid_send(r.id), 15)) <> 0;"
            ));
        }
        let records = changed("id, person_id, service_type_id, service_date", op);
        let service_body = format!(
            "{SERVICE_DELTA} SELECT p.org_unit_id, p.sex, c.service_type_id, \
             date_trunc('month', c.service_date)::date, c.service_date - p.birth_date, sum(c.n), sum(c.k) \
             FROM ({records}) c JOIN person p ON p.id = c.person_id \
             GROUP BY 1, 2, 3, 4, 5 HAVING sum(c.n) <> 0 OR sum(c.k) <> 0;"
        );
        let referencing = match op {
            "INSERT" => "REFERENCING NEW TABLE AS new_rows",
            "DELETE" => "REFERENCING OLD TABLE AS old_rows",
            _ => "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        };
        let lower = op.to_lowercase();
        for (table, body) in [("person", &body), ("service_record", &service_body)] {
            let name = format!("{table}_rollup_{lower}");
            sql.push_str(&format!(
                "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$;\n\
                 CREATE TRIGGER {name} AFTER {op} ON {table} {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {name}();\n"
            ));
        }
    }
    sql
}

/// SQLite: row triggers (it has no others); an update writes only when a counted column changed.
fn sqlite() -> Vec<String> {
    let key = |row: &str| {
        format!(
            "((instr('0123456789ABCDEF', substr(hex({row}.id), 31, 1)) - 1) * 16 \
             + instr('0123456789ABCDEF', substr(hex({row}.id), 32, 1)) - 1)"
        )
    };
    let month = |date: &str| format!("date({date}, 'start of month')");
    let days = |later: &str, earlier: &str| format!("CAST(julianday({later}) - julianday({earlier}) AS INTEGER)");
    let person = |row: &str, sign: &str| {
        format!(
            "{PEOPLE_DELTA} VALUES ({row}.org_unit_id, {row}.sex, {row}.birth_date, {sign}1, {sign}{});\
             {SERVICE_DELTA} SELECT {row}.org_unit_id, {row}.sex, r.service_type_id, {}, {}, {sign}1, {sign}{} \
             FROM service_record r WHERE r.person_id = {row}.id;",
            key(row),
            month("r.service_date"),
            days("r.service_date", &format!("{row}.birth_date")),
            key("r"),
        )
    };
    let record = |row: &str, sign: &str| {
        format!(
            "{SERVICE_DELTA} SELECT p.org_unit_id, p.sex, {row}.service_type_id, {}, {}, {sign}1, {sign}{} \
             FROM person p WHERE p.id = {row}.person_id;",
            month(&format!("{row}.service_date")),
            days(&format!("{row}.service_date"), "p.birth_date"),
            key(row),
        )
    };
    // A new person has no records yet; a person with records cannot be deleted (foreign key).
    let people_only = |row: &str, sign: &str| {
        format!("{PEOPLE_DELTA} VALUES ({row}.org_unit_id, {row}.sex, {row}.birth_date, {sign}1, {sign}{});", key(row))
    };
    vec![
        format!("CREATE TRIGGER person_rollup_insert AFTER INSERT ON person BEGIN {} END", people_only("NEW", "")),
        format!("CREATE TRIGGER person_rollup_delete AFTER DELETE ON person BEGIN {} END", people_only("OLD", "-")),
        format!(
            "CREATE TRIGGER person_rollup_update AFTER UPDATE OF org_unit_id, sex, birth_date ON person \
             WHEN OLD.org_unit_id IS NOT NEW.org_unit_id OR OLD.sex IS NOT NEW.sex \
             OR OLD.birth_date IS NOT NEW.birth_date BEGIN {} {} END",
            person("OLD", "-"),
            person("NEW", "")
        ),
        format!(
            "CREATE TRIGGER service_record_rollup_insert AFTER INSERT ON service_record BEGIN {} END",
            record("NEW", "")
        ),
        format!(
            "CREATE TRIGGER service_record_rollup_delete AFTER DELETE ON service_record BEGIN {} END",
            record("OLD", "-")
        ),
        format!(
            "CREATE TRIGGER service_record_rollup_update AFTER UPDATE OF person_id, service_type_id, service_date \
             ON service_record WHEN OLD.person_id IS NOT NEW.person_id OR OLD.service_type_id IS NOT NEW.service_type_id \
             OR OLD.service_date IS NOT NEW.service_date BEGIN {} {} END",
            record("OLD", "-"),
            record("NEW", "")
        ),
    ]
}

const TRIGGERS: [&str; 6] = [
    "person_rollup_insert",
    "person_rollup_delete",
    "person_rollup_update",
    "service_record_rollup_insert",
    "service_record_rollup_delete",
    "service_record_rollup_update",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let counts = || vec![big_integer("n"), big_integer("key_sum")];
        let mut people = Table::create();
        people
            .table("people_rollup")
            .col(date("day"))
            .col(uuid("org_unit_id"))
            .col(string("sex"))
            .col(string("age_band"));
        for c in counts() {
            people.col(c);
        }
        people.primary_key(Index::create().col("day").col("org_unit_id").col("sex").col("age_band"));
        manager.create_table(people).await?;
        let mut delta = Table::create();
        delta.table("people_rollup_delta").col(big_pk_auto("id")).col(uuid("org_unit_id")).col(string("sex"));
        delta.col(date("birth_date"));
        for c in counts() {
            delta.col(c);
        }
        manager.create_table(delta).await?;
        let mut services = Table::create();
        services.table("service_rollup").col(uuid("org_unit_id")).col(string("sex")).col(uuid("service_type_id"));
        services.col(date("service_month")).col(string("age_band"));
        for c in counts() {
            services.col(c);
        }
        services.primary_key(
            Index::create().col("org_unit_id").col("sex").col("service_type_id").col("service_month").col("age_band"),
        );
        manager.create_table(services).await?;
        let mut delta = Table::create();
        delta.table("service_rollup_delta").col(big_pk_auto("id")).col(uuid("org_unit_id")).col(string("sex"));
        delta.col(uuid("service_type_id")).col(date("service_month")).col(integer("age_days"));
        for c in counts() {
            delta.col(c);
        }
        manager.create_table(delta).await?;
        manager
            .create_table(
                Table::create()
                    .table("rollup_state")
                    .col(string("name"))
                    .col(date("day"))
                    .col(timestamp_with_time_zone("built_at"))
                    .primary_key(Index::create().col("name").col("day"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(&postgres()).await?;
            }
            _ => {
                for stmt in sqlite() {
                    db.execute_unprepared(&stmt).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = db.get_database_backend() == DbBackend::Postgres;
        for t in TRIGGERS {
            let table = if t.starts_with("person") { "person" } else { "service_record" };
            let sql = if postgres {
                format!("DROP TRIGGER IF EXISTS {t} ON {table}; DROP FUNCTION IF EXISTS {t}();")
            } else {
                format!("DROP TRIGGER IF EXISTS {t}")
            };
            db.execute_unprepared(&sql).await?;
        }
        for t in ["rollup_state", "service_rollup_delta", "service_rollup", "people_rollup_delta", "people_rollup"] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
