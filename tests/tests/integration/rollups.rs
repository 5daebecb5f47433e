//! Roll-ups (`store::rollup`): an aggregate of people read from the roll-up says exactly what
//! counting the rows says, after random registrations, corrections, moves between units and
//! erasures, before and after the roll-up is built again; and its answer says so.

use crate::fixtures::{household, person, unit};
use cbss_tests::{PASSWORD, TestApp};
use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// People by unit of a level, sex and age band, written as a client sends it (a named fragment, variables).
const BY_AIMAG: &str = "query ByAimag($u: UUID!, $level: OrgUnitLevel) {
  aggregate(entity: PEOPLE, orgUnitId: $u, orgUnitLevel: $level, groupBy: [ORG_UNIT, SEX, AGE_BAND]) { ...Cells }
}
fragment Cells on Aggregate { rows { orgUnit { id } sex ageBand count suppressed } total { count } }";

/// People of the capital by district, age band and settlement, with an alias and `__typename`.
const BY_DISTRICT: &str = "query ByDistrict($u: UUID!) {
  counted: aggregate(entity: PEOPLE, orgUnitId: $u, groupBy: [ORG_UNIT, AGE_BAND, URBAN_RURAL], measures: [COUNT, PEOPLE]) {
    __typename rows { orgUnit { id } ageBand urbanRural count people suppressed } total { count people }
  }
}";

const EVERYONE: &str = "query Everyone($u: UUID!) { aggregate(entity: PEOPLE, orgUnitId: $u) { total { count } } }";

/// A small deterministic generator: the same writes on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
}

/// Completed months from `birth` to `on`, counted here on its own: a month completes on the
/// birth's day of the month, or on a shorter month's last day.
fn completed_months(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut m = (on.year() - birth.year()) * 12 + on.month() as i32 - birth.month() as i32;
    let last_day = on.succ_opt().is_none_or(|n| n.month() != on.month());
    if on.day() < birth.day() && !last_day {
        m -= 1;
    }
    m
}

fn band(months: i32) -> &'static str {
    let edges = [
        (5, "0-5M"),
        (11, "6-11M"),
        (23, "12-23M"),
        (35, "24-35M"),
        (47, "36-47M"),
        (59, "48-59M"),
        (119, "5-9Y"),
        (179, "10-14Y"),
        (239, "15-19Y"),
        (299, "20-24Y"),
        (419, "25-34Y"),
        (599, "35-49Y"),
        (779, "50-64Y"),
    ];
    edges.iter().find(|(to, _)| months <= *to).map_or("65+Y", |(_, l)| l)
}

/// Birth dates on both sides of every band's lower edge, on `today`.
fn boundary_births(today: NaiveDate) -> Vec<String> {
    let mut births = Vec::new();
    for months in [0u32, 6, 12, 24, 36, 48, 60, 120, 180, 240, 300, 420, 600, 780] {
        let on_edge = today - chrono::Months::new(months);
        births.push(on_edge.to_string());
        if months > 0 {
            births.push((on_edge + chrono::Duration::days(1)).to_string());
        }
    }
    births
}

/// The administrator's token and a new analyst's.
async fn tokens(app: &TestApp) -> [(&'static str, String); 2] {
    app.ok(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        json!({ "i": { "email": "analyst@test.mn", "displayName": "A", "password": PASSWORD, "roles": ["ANALYST"] } }),
    )
    .await;
    [("admin", app.admin_token.clone()), ("analyst", app.login("analyst@test.mn").await)]
}

/// Waits for the build the server starts with (an answer before it counts the rows).
async fn rolled_up(app: &TestApp, unit: &str) {
    for _ in 0..200 {
        let (_, fresh) = answer(app, &app.admin_token, EVERYONE, &json!({ "u": unit })).await;
        if !fresh["rollup"].is_null() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no roll-up built within 10 s");
}

async fn answer(app: &TestApp, token: &str, query: &str, vars: &Value) -> (Value, Value) {
    let body = app.gql_as(Some(token), query, vars.clone()).await;
    assert!(body["errors"].is_null(), "{body}");
    (body["data"].clone(), body["extensions"]["freshness"].clone())
}

/// The people by (district, sex, band) today, recounted from the people list.
async fn recount(app: &TestApp) -> BTreeMap<(String, String, String), i64> {
    let d = app
        .ok("{ people(first: 100) { totalCount edges { node { sex birthDate orgUnit { id } } } } }", json!({}))
        .await;
    let today = cbss::store::today();
    let mut cells = BTreeMap::new();
    for e in d["people"]["edges"].as_array().expect("people") {
        let n = &e["node"];
        let birth: NaiveDate = n["birthDate"].as_str().expect("birth date").parse().expect("a date");
        let key = (
            n["orgUnit"]["id"].as_str().expect("unit").to_string(),
            n["sex"].as_str().expect("sex").to_string(),
            band(completed_months(birth, today)).to_string(),
        );
        *cells.entry(key).or_insert(0) += 1;
    }
    assert_eq!(d["people"]["totalCount"], cells.values().sum::<i64>(), "one page holds everyone");
    cells
}

/// Every question asked of both servers, as admin and as analyst: the same answers; the one with
/// roll-ups says it read the roll-up of its day with `changes` changes on top (told to the
/// administrator only), the other says nothing. Returns the admin's cells by district.
async fn both_agree(
    app: &TestApp,
    rows: &TestApp,
    tokens: &[(&str, String)],
    questions: &[(&str, Value)],
    changes: i64,
) -> BTreeMap<(String, String, String), i64> {
    let mut by_district = BTreeMap::new();
    for (who, token) in tokens {
        let day =
            if *who == "analyst" { cbss::disclosure::month_end(cbss::store::today()) } else { cbss::store::today() };
        for (query, vars) in questions {
            let (counted, fresh) = answer(app, token, query, vars).await;
            let (recounted, none) = answer(rows, token, query, vars).await;
            assert_eq!(counted, recounted, "{who}: {query}");
            assert!(none.is_null(), "counted from the rows: {none}");
            assert_eq!(fresh["rollup"]["name"], "people", "{who}: {fresh}");
            assert_eq!(fresh["rollup"]["day"], day.to_string(), "{who}: {fresh}");
            // Changes anywhere in the country are told only to who sees everyone identified.
            let told = if *who == "admin" { json!(changes) } else { Value::Null };
            assert_eq!(fresh["rollup"]["changesSinceBuild"], told, "{who}: {fresh}");
            if *who == "admin" && query.starts_with("query ByAimag") && vars["level"] == "DISTRICT" {
                for r in counted["aggregate"]["rows"].as_array().expect("rows") {
                    let key = (
                        r["orgUnit"]["id"].as_str().expect("unit").to_string(),
                        r["sex"].as_str().expect("sex").to_string(),
                        r["ageBand"].as_str().expect("band").to_string(),
                    );
                    by_district.insert(key, r["count"].as_i64().expect("count"));
                }
            }
        }
    }
    by_district
}

#[tokio::test]
async fn people_counted_from_the_roll_up_agree_with_a_recount_after_writes_moves_corrections_and_erasures() {
    let app = TestApp::spawn().await;
    // The same database, counting the rows every time.
    let rows = app.another_instance_with(|c| c.rollups = false).await;
    let (country, capital) = (unit(&app, "MN").await, unit(&app, "11").await);
    let (bzd, skhd, chd) = (unit(&app, "11-BZD").await, unit(&app, "11-SKHD").await, unit(&app, "11-CHD").await);
    rolled_up(&app, &country).await;
    let homes = [household(&app, &bzd).await, household(&app, &skhd).await, household(&app, &chd).await];
    let births = boundary_births(cbss::store::today());
    let mut rng = Lcg(31);
    let mut people = Vec::new();
    for (i, birth) in births.iter().enumerate() {
        let sex = if i % 2 == 0 { "FEMALE" } else { "MALE" };
        people.push(person(&app, &homes[i % 3], "Сараа", sex, birth).await);
    }
    let tokens = tokens(&app).await;
    let questions = [
        (BY_AIMAG, json!({ "u": country, "level": "DISTRICT" })),
        (BY_AIMAG, json!({ "u": country, "level": "AIMAG" })),
        (BY_AIMAG, json!({ "u": capital })),
        (BY_DISTRICT, json!({ "u": capital })),
        (EVERYONE, json!({ "u": country })),
    ];

    // Built before anyone was registered: everyone is a change on top of the roll-up.
    let cells = both_agree(&app, &rows, &tokens, &questions, people.len() as i64).await;
    assert_eq!(cells, recount(&app).await);
    assert!(cbss::store::rollup::build(&app.db).await.expect("build"), "built");
    let cells = both_agree(&app, &rows, &tokens, &questions, 0).await;
    assert_eq!(cells, recount(&app).await);

    // Random writes on the built roll-up: registrations, corrections of sex and birth date,
    // moves of a person or of a whole household to another unit, erasures.
    let mut changes = 0;
    for round in 0..24 {
        let who = people[rng.below(people.len())].clone();
        match rng.below(6) {
            0 => {
                let birth = &births[rng.below(births.len())];
                people.push(person(&app, &homes[rng.below(3)], "Бат", "MALE", birth).await);
                changes += 1;
            }
            1 => {
                let birth = &births[rng.below(births.len())];
                app.ok(
                    "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { id } }",
                    json!({ "i": { "id": who, "birthDate": birth } }),
                )
                .await;
                changes += 2;
            }
            2 => {
                app.ok(
                    "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { id } }",
                    json!({ "i": { "id": who, "sex": if round % 2 == 0 { "MALE" } else { "FEMALE" } } }),
                )
                .await;
                changes += 2;
            }
            3 => {
                app.ok(
                    "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { id } }",
                    json!({ "i": { "id": who, "householdId": homes[rng.below(3)] } }),
                )
                .await;
                changes += 2;
            }
            4 => {
                let to = [&bzd, &skhd, &chd][rng.below(3)];
                app.ok(
                    "mutation($i: UpdateHouseholdInput!) { updateHousehold(input: $i) { id } }",
                    json!({ "i": { "id": homes[rng.below(3)], "orgUnitId": to } }),
                )
                .await;
                changes += 2;
            }
            _ => {
                let erased = app
                    .gql(
                        "mutation($p: UUID!) { erasePerson(id: $p, reason: \"Asked for\") { id } }",
                        json!({ "p": who }),
                    )
                    .await;
                // A person erased before answers NOT_FOUND or the like: nothing changes.
                if erased["errors"].is_null() {
                    changes += 2;
                }
            }
        }
        if round % 6 == 5 {
            // The exact number of change rows depends on what each write changed (a write that
            // changes nothing counted adds none): checked as at most what was written.
            let cells = both_agree_any(&app, &rows, &tokens, &questions, changes).await;
            assert_eq!(cells, recount(&app).await, "after round {round}");
        }
    }
    assert!(cbss::store::rollup::build(&app.db).await.expect("build"), "built again");
    let cells = both_agree(&app, &rows, &tokens, &questions, 0).await;
    assert_eq!(cells, recount(&app).await, "after the second build");
    // As on a new day: the roll-up is counted afresh from the records.
    counted_afresh(&app).await;
    let cells = both_agree(&app, &rows, &tokens, &questions, 0).await;
    assert_eq!(cells, recount(&app).await, "counted afresh");
}

/// Builds the roll-ups as when their days have passed: counted afresh from the records, not
/// folded.
async fn counted_afresh(app: &TestApp) {
    use sea_orm::ConnectionTrait;
    app.db.execute_unprepared("DELETE FROM rollup_state").await.expect("forget the built days");
    assert!(cbss::store::rollup::build(&app.db).await.expect("build"), "counted afresh");
}

/// `both_agree` where the changes on top of the roll-up are at most `written`.
async fn both_agree_any(
    app: &TestApp,
    rows: &TestApp,
    tokens: &[(&str, String)],
    questions: &[(&str, Value)],
    written: i64,
) -> BTreeMap<(String, String, String), i64> {
    let (_, fresh) = answer(app, &tokens[0].1, questions[0].0, &questions[0].1).await;
    let pending = fresh["rollup"]["changesSinceBuild"].as_i64().expect("changes since the build");
    assert!(pending > 0 && pending <= written, "{pending} of {written}");
    both_agree(app, rows, tokens, questions, pending).await
}

/// Service records by unit, sex and age band at the service; by type and month; by quarter
/// and settlement; and all of them.
const SERVICES: &str = "query Services($u: UUID!, $level: OrgUnitLevel, $by: [AggregateDimension!]!) {
  aggregate(entity: SERVICE_RECORDS, orgUnitId: $u, orgUnitLevel: $level, groupBy: $by) {
    rows { ...Row } total { count }
  }
}
fragment Row on AggregateRow { orgUnit { id } sex ageBand urbanRural serviceType period count suppressed }";

#[tokio::test]
async fn service_records_counted_from_the_roll_up_follow_their_people_through_moves_and_corrections() {
    let app = TestApp::spawn().await;
    let rows = app.another_instance_with(|c| c.rollups = false).await;
    let country = unit(&app, "MN").await;
    rolled_up(&app, &country).await;
    let (bzd, skhd, chd) = (unit(&app, "11-BZD").await, unit(&app, "11-SKHD").await, unit(&app, "11-CHD").await);
    let homes = [household(&app, &bzd).await, household(&app, &skhd).await, household(&app, &chd).await];
    let today = cbss::store::today();
    let births = boundary_births(today);
    let mut people = Vec::new();
    for (i, birth) in births.iter().enumerate().step_by(2) {
        people.push(person(&app, &homes[i % 3], "Номин", if i % 4 == 0 { "FEMALE" } else { "MALE" }, birth).await);
    }
    let tokens = tokens(&app).await;
    let questions: Vec<(&str, Value)> = [
        json!({ "u": country, "level": "DISTRICT", "by": ["ORG_UNIT", "SEX", "AGE_BAND"] }),
        json!({ "u": country, "by": ["SERVICE_TYPE", "MONTH"] }),
        json!({ "u": country, "by": ["QUARTER", "URBAN_RURAL", "ORG_UNIT"], "level": "DISTRICT" }),
        json!({ "u": country, "by": ["YEAR"] }),
        json!({ "u": country, "by": [] }),
    ]
    .into_iter()
    .map(|v| (SERVICES, v))
    .collect();
    // What was recorded, by (type, month), kept here.
    let mut ledger: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut rng = Lcg(7);
    let record = async |rng: &mut Lcg, ledger: &mut BTreeMap<(String, String), i64>, who: &str| {
        let code = ["VITAMIN_A", "GROWTH_MONITORING", "PARENT_TRAINING"][rng.below(3)];
        let date = today - chrono::Duration::days(rng.below(400) as i64);
        let d = app
            .gql(
                "mutation($i: RecordServiceInput!) { recordService(input: $i) { id } }",
                json!({ "i": { "serviceTypeCode": code, "personId": who, "date": date.to_string() } }),
            )
            .await;
        // A service before the person's birth is refused: nothing to count.
        if d["errors"].is_null() {
            *ledger.entry((code.to_string(), date.format("%Y-%m").to_string())).or_insert(0) += 1;
        }
    };
    for who in people.clone().iter().chain(people.clone().iter()) {
        record(&mut rng, &mut ledger, who).await;
    }
    let check = async |ledger: &BTreeMap<(String, String), i64>, name: &str| {
        for (who, token) in &tokens {
            for (query, vars) in &questions {
                let (counted, fresh) = answer(&app, token, query, vars).await;
                let (recounted, none) = answer(&rows, token, query, vars).await;
                assert_eq!(counted, recounted, "{name}, {who}: {vars}");
                assert!(none.is_null(), "{none}");
                assert_eq!(fresh["rollup"]["name"], "services", "{name}, {who}: {fresh}");
                if *who == "admin" && vars["by"] == json!(["SERVICE_TYPE", "MONTH"]) {
                    let mut by_type_month = BTreeMap::new();
                    for r in counted["aggregate"]["rows"].as_array().expect("rows") {
                        let key = (
                            r["serviceType"].as_str().expect("type").to_string(),
                            r["period"].as_str().expect("month").to_string(),
                        );
                        by_type_month.insert(key, r["count"].as_i64().expect("count"));
                    }
                    assert_eq!(&by_type_month, ledger, "{name}");
                }
            }
        }
    };
    check(&ledger, "recorded on an empty roll-up").await;
    assert!(cbss::store::rollup::build(&app.db).await.expect("build"), "built");
    check(&ledger, "built").await;
    for round in 0..18 {
        let who = people[rng.below(people.len())].clone();
        let update = "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { id } }";
        match rng.below(5) {
            0 => record(&mut rng, &mut ledger, &who).await,
            1 => {
                // A corrected birth date moves the person's records between age bands; one after
                // a record's date is refused.
                let birth = &births[rng.below(births.len())];
                app.gql(update, json!({ "i": { "id": who, "birthDate": birth } })).await;
            }
            2 => {
                app.ok(update, json!({ "i": { "id": who, "sex": if round % 2 == 0 { "MALE" } else { "FEMALE" } } }))
                    .await;
            }
            3 => {
                let to = [&bzd, &skhd, &chd][rng.below(3)];
                app.ok(
                    "mutation($i: UpdateHouseholdInput!) { updateHousehold(input: $i) { id } }",
                    json!({ "i": { "id": homes[rng.below(3)], "orgUnitId": to } }),
                )
                .await;
            }
            _ => {
                app.gql(
                    "mutation($p: UUID!) { erasePerson(id: $p, reason: \"Asked for\") { id } }",
                    json!({ "p": who }),
                )
                .await;
            }
        }
        if round % 6 == 5 {
            check(&ledger, &format!("round {round}")).await;
        }
    }
    assert!(cbss::store::rollup::build(&app.db).await.expect("build"), "built again");
    check(&ledger, "built again").await;
    counted_afresh(&app).await;
    check(&ledger, "counted afresh").await;
}
