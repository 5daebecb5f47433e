//! Offline sync through the API: `syncPush` batches (idempotent under retries and concurrent
//! resends, conflicts detected, in-batch references in any order, ITEM and ALL modes, dry runs,
//! scope) and the `changes` delta pull.

use crate::fixtures::{days_ago, household, months_ago, person, unit};
use cbss_tests::{PASSWORD, TestApp};
use serde_json::{Value, json};
use std::collections::HashSet;
use uuid::Uuid;

const PUSH: &str = "mutation($items: [SyncItemInput!]!, $atomic: SyncAtomicity! = ITEM, $dry: Boolean! = false) {
  syncPush(items: $items, atomic: $atomic, dryRun: $dry) {
    committed dryRun
    summary { total created unchanged updated conflicts rejected notApplied }
    items { index id kind status version
      error { code message fields { path message } }
      record { __typename ... on Person { id givenName phone version } ... on Household { id version } ... on ServiceRecord { id version } } }
  }
}";

const PULL: &str = "query($since: String, $first: Int) {
  changes(since: $since, first: $first) {
    endCursor hasMore
    changes { cursor entity id version deleted deletedReason
      record { __typename ... on Person { givenName phone } } }
  }
}";

fn new_id() -> String {
    Uuid::now_v7().to_string()
}

fn household_item(id: &str, unit: &str) -> Value {
    json!({ "id": id, "payload": { "household": {
        "orgUnitId": unit, "dwelling": "GER", "isHerder": true,
        "consent": { "givenBy": "Household head", "purpose": "CBSS services" } } } })
}

fn person_item(id: &str, household: &str, given: &str, sex: &str, birth: &str) -> Value {
    json!({ "id": id, "payload": { "person": {
        "householdId": household, "givenName": given, "familyName": "Дорж", "sex": sex, "birthDate": birth } } })
}

async fn push(app: &TestApp, token: &str, items: &[Value], atomic: &str, dry: bool) -> Value {
    let d = app.ok_as(token, PUSH, json!({ "items": items, "atomic": atomic, "dry": dry })).await;
    d["syncPush"].clone()
}

fn statuses(result: &Value) -> Vec<String> {
    result["items"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap().to_string()).collect()
}

/// A field worker whose capture scope is one unit.
async fn worker(app: &TestApp, email: &str, unit_code: &str) -> String {
    let u = unit(app, unit_code).await;
    app.ok(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        json!({ "i": { "email": email, "displayName": "Field worker", "password": PASSWORD,
                       "roles": ["FIELD_WORKER"], "captureUnitIds": [u] } }),
    )
    .await;
    app.login(email).await
}

/// A household with a mother and a child, the child listed first and its records before it:
/// every item refers to another item of the batch.
fn family_batch(unit: &str) -> Vec<Value> {
    let (h, mother, child) = (new_id(), new_id(), new_id());
    vec![
        json!({ "id": new_id(), "payload": { "growthMeasurement": {
            "personId": child, "date": days_ago(3), "weightKg": 11.2, "lengthHeightCm": 84.0 } } }),
        json!({ "id": new_id(), "payload": { "serviceRecord": {
            "serviceTypeCode": "VITAMIN_A", "personId": child, "date": days_ago(3) } } }),
        person_item(&child, &h, "Тэмүүлэн", "MALE", &months_ago(20)),
        json!({ "id": new_id(), "payload": { "immunisation": {
            "personId": child, "date": days_ago(3), "antigenCode": "MMR", "doseNumber": 1 } } }),
        person_item(&mother, &h, "Сарангэрэл", "FEMALE", "1994-05-02"),
        household_item(&h, unit),
    ]
}

#[tokio::test]
async fn the_same_batch_sent_five_times_at_once_creates_each_record_once() {
    let app = TestApp::spawn().await;
    let soum = district(&app, 0).await;
    let items = family_batch(&soum);
    let before = (app.count("household").await, app.count("person").await, app.count("service_record").await);
    let t = app.admin_token.clone();
    let (a, b, c, d, e) = tokio::join!(
        push(&app, &t, &items, "ITEM", false),
        push(&app, &t, &items, "ITEM", false),
        push(&app, &t, &items, "ITEM", false),
        push(&app, &t, &items, "ITEM", false),
        push(&app, &t, &items, "ITEM", false),
    );
    let results = [a, b, c, d, e];
    let created: i64 = results.iter().map(|r| r["summary"]["created"].as_i64().unwrap()).sum();
    assert_eq!(created, items.len() as i64, "each item is created by exactly one of the five: {results:#?}");
    for r in &results {
        assert_eq!(r["summary"]["created"].as_i64().unwrap() + r["summary"]["unchanged"].as_i64().unwrap(), 6, "{r:#}");
        assert!(r["committed"].as_bool().unwrap());
        // Results come back in input order, whatever order the items ran in.
        let ids: Vec<&str> = r["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
        let sent: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(ids, sent);
        assert!(r["items"].as_array().unwrap().iter().all(|i| i["version"] == 1));
    }
    let after = (app.count("household").await, app.count("person").await, app.count("service_record").await);
    assert_eq!(after, (before.0 + 1, before.1 + 2, before.2 + 3));
    assert_eq!(app.count("growth_measurement").await, 1);
    assert_eq!(app.count("immunisation").await, 1);
}

#[tokio::test]
async fn two_devices_edit_one_person_and_the_second_gets_a_conflict_with_the_server_copy() {
    let app = TestApp::spawn().await;
    let h = household(&app, &district(&app, 0).await).await;
    let id = new_id();
    let t = app.admin_token.clone();
    let created = push(&app, &t, &[person_item(&id, &h, "Болд", "MALE", "1990-01-01")], "ITEM", false).await;
    assert_eq!(statuses(&created), ["CREATED"]);

    let mut edit_a = person_item(&id, &h, "Болд", "MALE", "1990-01-01");
    edit_a["baseVersion"] = json!(1);
    edit_a["payload"]["person"]["phone"] = json!("99112233");
    let a = push(&app, &t, std::slice::from_ref(&edit_a), "ITEM", false).await;
    assert_eq!((statuses(&a), a["items"][0]["version"].clone()), (vec!["UPDATED".to_string()], json!(2)));

    let mut edit_b = person_item(&id, &h, "Болдбаатар", "MALE", "1990-01-01");
    edit_b["baseVersion"] = json!(1);
    let b = push(&app, &t, &[edit_b], "ITEM", false).await;
    let item = &b["items"][0];
    assert_eq!(item["status"], "CONFLICT", "{b:#}");
    assert_eq!(item["error"]["code"], "CONFLICT");
    assert_eq!(item["record"]["givenName"], "Болд", "the server's copy comes back");
    assert_eq!(item["record"]["phone"], "99112233");
    assert_eq!(item["record"]["version"], 2);

    // Device A's request timed out and it resends: a retry, not a conflict.
    let again = push(&app, &t, &[edit_a], "ITEM", false).await;
    assert_eq!((statuses(&again), again["items"][0]["version"].clone()), (vec!["UNCHANGED".to_string()], json!(2)));
    let stored = app.ok("query($id: UUID!) { person(id: $id) { givenName phone version } }", json!({ "id": id })).await;
    assert_eq!(stored["person"], json!({ "givenName": "Болд", "phone": "99112233", "version": 2 }));
}

/// The `n`th district of Ulaanbaatar (reference data: it holds households without demo data).
async fn district(app: &TestApp, n: usize) -> String {
    let ub = unit(app, "11").await;
    let d = app.ok("query($id: UUID!) { orgUnit(id: $id) { children { id } } }", json!({ "id": ub })).await;
    d["orgUnit"]["children"][n]["id"].as_str().expect("a district").to_string()
}

/// 1,000 items: 250 households of three people each, with one person born in the future.
fn thousand_items(unit: &str, bad: usize) -> Vec<Value> {
    let mut items = Vec::new();
    for _ in 0..250 {
        let h = new_id();
        items.push(household_item(&h, unit));
        for (given, sex, birth) in
            [("Ганбат", "MALE", "1985-03-01"), ("Оюун", "FEMALE", "1988-07-12"), ("Анар", "FEMALE", "2019-02-20")]
        {
            items.push(person_item(&new_id(), &h, given, sex, birth));
        }
    }
    items[bad]["payload"]["person"]["birthDate"] = json!(days_ago(-30));
    items
}

#[tokio::test]
async fn one_invalid_item_among_999_is_rejected_alone_in_item_mode_and_stops_all_in_all_mode() {
    let app = TestApp::spawn().await;
    let bag = district(&app, 0).await;
    let t = app.admin_token.clone();
    let people = app.count("person").await;

    let items = thousand_items(&bag, 501);
    let r = push(&app, &t, &items, "ITEM", false).await;
    assert_eq!(
        r["summary"],
        json!({ "total": 1000, "created": 999, "unchanged": 0, "updated": 0, "conflicts": 0, "rejected": 1, "notApplied": 0 })
    );
    let bad = &r["items"][501];
    assert_eq!((bad["status"].as_str(), bad["error"]["code"].as_str()), (Some("REJECTED"), Some("VALIDATION")));
    assert_eq!(bad["error"]["fields"][0]["path"], "input.birthDate", "the same path as registerPerson gives");
    assert!(bad["record"].is_null() && bad["version"].is_null());
    assert_eq!(app.count("person").await, people + 749);
    assert_eq!(app.count("household").await, 250);

    let items = thousand_items(&bag, 998);
    let audit = app.count("audit_log").await;
    let r = push(&app, &t, &items, "ALL", false).await;
    assert_eq!(r["committed"], false);
    assert_eq!(r["summary"]["rejected"], 1);
    assert_eq!(r["summary"]["notApplied"], 999);
    assert_eq!(r["items"][998]["status"], "REJECTED");
    assert_eq!(app.count("person").await, people + 749, "nothing of an ALL batch with a failure is written");
    assert_eq!(app.count("household").await, 250);
    assert_eq!(app.count("audit_log").await, audit, "nor audited");
}

#[tokio::test]
async fn a_dry_run_reports_what_would_happen_and_writes_nothing() {
    let app = TestApp::spawn_with(|c| c.sync_max_items = 6).await;
    let bag = district(&app, 0).await;
    let t = app.admin_token.clone();
    let counts = (app.count("household").await, app.count("person").await, app.count("audit_log").await);
    let items = family_batch(&bag);
    let r = push(&app, &t, &items, "ALL", true).await;
    assert_eq!((r["dryRun"].as_bool(), r["committed"].as_bool()), (Some(true), Some(false)));
    assert_eq!(r["summary"]["created"], 6, "{r:#}");
    assert_eq!((app.count("household").await, app.count("person").await, app.count("audit_log").await), counts);
    // The same batch for real, after the dry run, is created as the dry run said.
    let r = push(&app, &t, &items, "ALL", false).await;
    assert_eq!(r["summary"]["created"], 6);
    // A batch over the configured limit is refused whole.
    let mut seven = family_batch(&bag);
    seven.push(household_item(&new_id(), &bag));
    let (code, _) = app.err_as(Some(&t), PUSH, json!({ "items": seven })).await;
    assert_eq!(code, "VALIDATION");
}

#[tokio::test]
async fn an_out_of_scope_item_is_rejected_and_reveals_nothing() {
    let app = TestApp::spawn().await;
    let soum = district(&app, 0).await;
    let code = app.ok("query($id: UUID!) { orgUnit(id: $id) { code } }", json!({ "id": soum })).await;
    let w = worker(&app, "field.sync@test.mn", code["orgUnit"]["code"].as_str().unwrap()).await;
    let khoroo = district(&app, 1).await;
    let outside_h = household(&app, &khoroo).await;
    let outside_p = person(&app, &outside_h, "Нараа", "FEMALE", "1992-04-04").await;
    let counts = (app.count("household").await, app.count("person").await);

    let mine = new_id();
    let items = vec![
        household_item(&new_id(), &khoroo),
        person_item(&outside_p, &outside_h, "Нараа", "FEMALE", "1992-04-04"),
        person_item(&new_id(), &outside_h, "Бат", "MALE", "2020-01-01"),
        household_item(&mine, &soum),
    ];
    let r = push(&app, &w, &items, "ITEM", false).await;
    assert_eq!(statuses(&r), ["REJECTED", "REJECTED", "REJECTED", "CREATED"], "{r:#}");
    assert_eq!(r["items"][0]["error"]["code"], "FORBIDDEN");
    // An id that exists outside the caller's scope: refused without its record or version.
    assert_eq!(r["items"][1]["error"]["code"], "FORBIDDEN");
    assert!(r["items"][1]["record"].is_null() && r["items"][1]["version"].is_null());
    // A household outside the scope is unknown, as for registerPerson.
    assert_eq!(r["items"][2]["error"]["fields"][0]["path"], "input.householdId");
    assert_eq!((app.count("household").await, app.count("person").await), (counts.0 + 1, counts.1));
    // And the worker's pull holds only their own household (with its consent).
    let pulled = app.ok_as(&w, PULL, json!({})).await;
    let ids: Vec<&str> =
        pulled["changes"]["changes"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&mine.as_str()));
    assert!(!ids.contains(&outside_p.as_str()) && !ids.contains(&outside_h.as_str()));
}

/// Pulls every page from `since`; returns (entity ids in order, last cursor).
async fn pull_all(app: &TestApp, token: &str, since: Option<String>, first: i64) -> (Vec<(String, Value)>, String) {
    let mut since = since;
    let mut seen = Vec::new();
    loop {
        let d = app.ok_as(token, PULL, json!({ "since": since, "first": first })).await;
        let page = &d["changes"];
        let changes = page["changes"].as_array().unwrap();
        assert!(changes.len() as i64 <= first);
        for c in changes {
            seen.push((c["id"].as_str().unwrap().to_string(), c.clone()));
        }
        since = Some(page["endCursor"].as_str().unwrap().to_string());
        if !page["hasMore"].as_bool().unwrap() {
            return (seen, since.unwrap());
        }
    }
}

#[tokio::test]
async fn a_device_pulls_each_record_once_across_pages_and_concurrent_writes_then_its_own_writes_back() {
    let app = TestApp::spawn().await;
    let bag = district(&app, 0).await;
    let t = app.admin_token.clone();
    // 3 households + consents + 9 people = 15 changes, all in one transaction (one change number).
    let items: Vec<Value> = thousand_items(&bag, 1).into_iter().take(12).collect();
    let mut items = items;
    items[1]["payload"]["person"]["birthDate"] = json!("1985-03-01");
    push(&app, &t, &items, "ITEM", false).await;

    // Page by 4: boundaries fall inside one transaction's changes.
    let first_page = app.ok_as(&t, PULL, json!({ "first": 4 })).await;
    assert_eq!(first_page["changes"]["changes"].as_array().unwrap().len(), 4);
    assert!(first_page["changes"]["hasMore"].as_bool().unwrap());
    let cursor = first_page["changes"]["endCursor"].as_str().unwrap().to_string();
    // Someone writes while the device is between pages.
    let h = household(&app, &bag).await;
    let (rest, end) = pull_all(&app, &t, Some(cursor), 4).await;
    let mut all: Vec<String> = first_page["changes"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    all.extend(rest.iter().map(|(id, _)| id.clone()));
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "no record twice");
    assert_eq!(all.len(), 3 + 3 + 9 + 2, "3 households, 3 consents, 9 people, and the new household with its consent");
    assert!(all.contains(&h));

    // Nothing new: the same cursor, nothing more.
    let d = app.ok_as(&t, PULL, json!({ "since": end })).await;
    assert_eq!(d["changes"]["changes"].as_array().unwrap().len(), 0);
    assert_eq!(d["changes"]["endCursor"], json!(end));

    // The device pushes an edit and gets it back with its new version, once.
    let person_id = items[1]["id"].as_str().unwrap().to_string();
    let mut edit = items[1].clone();
    edit["baseVersion"] = json!(1);
    edit["payload"]["person"]["phone"] = json!("88001122");
    let r = push(&app, &t, &[edit], "ITEM", false).await;
    assert_eq!(statuses(&r), ["UPDATED"]);
    let (after, end2) = pull_all(&app, &t, Some(end.clone()), 100).await;
    assert_eq!(after.len(), 1, "{after:#?}");
    assert_eq!((after[0].0.as_str(), after[0].1["version"].clone()), (person_id.as_str(), json!(2)));
    assert_eq!(after[0].1["record"]["phone"], "88001122");

    // An erased person reaches devices as a tombstone.
    app.ok(
        "mutation($id: UUID!) { erasePerson(id: $id, reason: \"Request of the family\") { id } }",
        json!({ "id": person_id }),
    )
    .await;
    let (after, _) = pull_all(&app, &t, Some(end2), 100).await;
    let last = &after.last().expect("a tombstone").1;
    assert_eq!(
        (last["id"].as_str(), last["entity"].as_str(), last["deleted"].as_bool(), last["deletedReason"].as_str()),
        (Some(person_id.as_str()), Some("PERSON"), Some(true), Some("ERASED"))
    );
    let (code, _) = app.err(PULL, json!({ "since": "not-a-cursor" })).await;
    assert_eq!(code, "VALIDATION");
}

#[tokio::test]
async fn a_batch_cut_off_mid_flight_and_sent_again_leaves_each_record_exactly_once() {
    let app = TestApp::spawn().await;
    let bag = district(&app, 0).await;
    let items = thousand_items(&bag, 2);
    let mut items = items;
    items[2]["payload"]["person"]["birthDate"] = json!("2019-02-20");
    let t = app.admin_token.clone();
    // The device gives up after a few milliseconds (its link dropped): the request is cut off
    // while the server works on it. Whether or not that batch committed, resending converges.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(15), push(&app, &t, &items, "ITEM", false)).await;
    let r = push(&app, &t, &items, "ITEM", false).await;
    let done = r["summary"]["created"].as_i64().unwrap() + r["summary"]["unchanged"].as_i64().unwrap();
    assert_eq!(done, 1000, "{:#}", r["summary"]);
    assert_eq!((app.count("household").await, app.count("person").await), (250, 750));
    let r = push(&app, &t, &items, "ITEM", false).await;
    assert_eq!(r["summary"]["unchanged"], 1000);
}

#[tokio::test]
async fn de_identified_callers_cannot_pull_changes() {
    let app = TestApp::spawn().await;
    app.ok(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        json!({ "i": { "email": "analyst.sync@test.mn", "displayName": "Analyst", "password": PASSWORD, "roles": ["ANALYST"] } }),
    )
    .await;
    let analyst = app.login("analyst.sync@test.mn").await;
    let (code, _) = app.err_as(Some(&analyst), PULL, json!({})).await;
    assert_eq!(code, "FORBIDDEN");
}

#[tokio::test]
async fn a_pregnancy_its_contacts_outcome_and_newborn_sync_in_one_batch_in_reverse_order() {
    let app = TestApp::spawn().await;
    let d = district(&app, 2).await;
    let t = app.admin_token.clone();
    let (h, mother, pregnancy, baby) = (new_id(), new_id(), new_id(), new_id());
    let lmp = days_ago(290);
    let mut items = vec![
        // The outcome names the newborn; the contact needs the pregnancy open on its date.
        json!({ "id": pregnancy, "payload": { "pregnancyOutcome": { "pregnancyId": pregnancy, "outcome": "LIVE_BIRTH",
            "outcomeDate": days_ago(10), "deliveryPlace": "FACILITY", "attendant": "DOCTOR", "childIds": [baby] } } }),
        json!({ "id": new_id(), "payload": { "serviceRecord": { "serviceTypeCode": "ANC_CONTACT", "personId": mother, "date": days_ago(100) } } }),
        json!({ "id": pregnancy, "payload": { "pregnancy": { "motherId": mother, "lastMenstrualPeriod": lmp, "registeredOn": days_ago(200) } } }),
        person_item(&baby, &h, "Нямаа", "FEMALE", &days_ago(10)),
        person_item(&mother, &h, "Солонго", "FEMALE", "1996-08-08"),
        household_item(&h, &d),
    ];
    let r = push(&app, &t, &items, "ALL", false).await;
    assert_eq!(statuses(&r), ["UPDATED", "CREATED", "CREATED", "CREATED", "CREATED", "CREATED"], "{r:#}");
    assert_eq!(r["items"][0]["version"], 2, "the outcome is the pregnancy's second version");
    let again = push(&app, &t, &items, "ALL", false).await;
    assert_eq!(again["summary"]["unchanged"], 6, "{again:#}");
    let q = "query($id: UUID!) { person(id: $id) { pregnancies { outcome children { id } } serviceRecords { serviceType { code } } } }";
    let p = app.ok(q, json!({ "id": mother })).await;
    assert_eq!(p["person"]["pregnancies"][0]["children"][0]["id"], json!(baby));
    assert_eq!(p["person"]["serviceRecords"][0]["serviceType"]["code"], "ANC_CONTACT");

    // A different outcome for a pregnancy whose outcome is recorded: a conflict, not an overwrite.
    items[0]["payload"]["pregnancyOutcome"]["attendant"] = json!("NURSE_MIDWIFE");
    items[0]["baseVersion"] = json!(1);
    let r = push(&app, &t, &items[..1], "ITEM", false).await;
    assert_eq!(r["items"][0]["status"], "CONFLICT");
    assert_eq!(r["items"][0]["version"], 2);
}

#[tokio::test]
async fn a_growth_measurement_is_corrected_by_sync_and_other_records_are_not_overwritten() {
    let app = TestApp::spawn().await;
    let d = district(&app, 0).await;
    let t = app.admin_token.clone();
    let items = family_batch(&d);
    push(&app, &t, &items, "ITEM", false).await;
    let (mut growth, mut vitamin) = (items[0].clone(), items[1].clone());
    growth["baseVersion"] = json!(1);
    growth["payload"]["growthMeasurement"]["weightKg"] = json!(11.6);
    vitamin["baseVersion"] = json!(1);
    vitamin["payload"]["serviceRecord"]["date"] = json!(days_ago(4));
    let mut stale = vitamin.clone();
    stale["baseVersion"] = json!(0);
    let r = push(&app, &t, &[growth.clone(), vitamin, stale], "ITEM", false).await;
    assert_eq!(statuses(&r), ["UPDATED", "REJECTED", "CONFLICT"], "{r:#}");
    assert_eq!(r["items"][0]["version"], 2);
    assert_eq!(r["items"][1]["error"]["code"], "VALIDATION");
    let id = growth["id"].as_str().unwrap();
    let m = app
        .ok(
            "query($id: UUID!) { person(id: $id) { growthMeasurements { weightKg } } }",
            json!({ "id": growth["payload"]["growthMeasurement"]["personId"] }),
        )
        .await;
    assert_eq!(m["person"]["growthMeasurements"][0]["weightKg"], 11.6, "{id}");
    // The correction resent: a retry.
    let r = push(&app, &t, &[growth], "ITEM", false).await;
    assert_eq!(statuses(&r), ["UNCHANGED"]);
}

#[tokio::test]
async fn a_row_the_database_refuses_while_a_batch_is_sent_fails_only_its_own_item() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    // A database rule the service's checks know nothing of stands in for any failure of the
    // queued multi-row INSERTs: the batch is redone with a savepoint per item.
    let ddl: &[&str] = if cbss_tests::backend() == "postgres" {
        &[
            "CREATE FUNCTION refuse_sboi() RETURNS trigger AS $$ BEGIN IF NEW.given_name = 'Сбой' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_sboi BEFORE INSERT ON person FOR EACH ROW EXECUTE FUNCTION refuse_sboi()",
        ]
    } else {
        &[
            "CREATE TRIGGER refuse_sboi BEFORE INSERT ON person WHEN NEW.given_name = 'Сбой' BEGIN SELECT RAISE(ABORT, 'refused'); END",
        ]
    };
    for sql in ddl {
        app.db.execute_unprepared(sql).await.expect("trigger");
    }
    let d = district(&app, 0).await;
    let mut items = family_batch(&d);
    items[4]["payload"]["person"]["givenName"] = json!("Сбой");
    let r = push(&app, &app.admin_token, &items, "ITEM", false).await;
    assert_eq!(statuses(&r), ["CREATED", "CREATED", "CREATED", "CREATED", "REJECTED", "CREATED"], "{r:#}");
    assert_eq!(r["items"][4]["error"]["code"], "INTERNAL");
    assert!(!r["items"][4]["error"]["message"].as_str().unwrap().contains("refused"), "database text stays inside");
    assert_eq!((app.count("household").await, app.count("person").await, app.count("service_record").await), (1, 1, 3));
}

#[tokio::test]
async fn a_family_assessment_syncs_with_its_new_household_and_comes_back_in_the_pull() {
    let app = TestApp::spawn().await;
    let d = district(&app, 0).await;
    let t = app.admin_token.clone();
    let (h, visit) = (new_id(), new_id());
    let answers: Vec<Value> = ["SAFE_WATER", "LATRINE_HANDWASHING", "IODISED_SALT", "HOME_GARDEN", "HIV_KNOWLEDGE"]
        .iter()
        .map(|c| json!({ "indicatorCode": c, "answer": "YES" }))
        .collect();
    let items = vec![
        json!({ "id": visit, "payload": { "familyAssessment": { "householdId": h, "assessedOn": days_ago(1), "answers": answers } } }),
        person_item(&new_id(), &h, "Ганаа", "FEMALE", "1980-01-01"),
        household_item(&h, &d),
    ];
    let r = push(&app, &t, &items, "ALL", false).await;
    assert_eq!(statuses(&r), ["CREATED", "CREATED", "CREATED"], "{r:#}");
    let r = push(&app, &t, &items, "ALL", false).await;
    assert_eq!(statuses(&r), ["UNCHANGED", "UNCHANGED", "UNCHANGED"], "{r:#}");
    let (all, _) = pull_all(&app, &t, None, 100).await;
    let pulled = all.iter().find(|(id, _)| *id == visit).expect("the visit is pulled");
    assert_eq!((pulled.1["entity"].as_str(), pulled.1["version"].as_i64()), (Some("FAMILY_ASSESSMENT"), Some(1)));
}

#[tokio::test]
async fn a_project_and_its_report_sync_and_resend_unchanged() {
    let app = TestApp::spawn().await;
    let d = district(&app, 0).await;
    let t = app.admin_token.clone();
    let project = new_id();
    let proposal = json!({ "id": project, "payload": { "communityProject": {
        "orgUnitId": d, "area": "GARDENING", "title": "Gardens", "objectives": "Home gardens for 40 families" } } });
    let r = push(&app, &t, std::slice::from_ref(&proposal), "ITEM", false).await;
    assert_eq!(statuses(&r), ["CREATED"], "{r:#}");
    let report = json!({ "id": new_id(), "payload": { "projectReport": {
        "projectId": project, "progressPercent": 10, "narrative": "Seeds bought", "householdsReached": 4, "peopleReached": 11 } } });
    // A proposal has nothing to report yet: refused with the mutation's error.
    let r = push(&app, &t, std::slice::from_ref(&report), "ITEM", false).await;
    assert_eq!(
        (r["items"][0]["status"].as_str(), r["items"][0]["error"]["code"].as_str()),
        (Some("REJECTED"), Some("VALIDATION"))
    );
    app.ok(
        "mutation($id: UUID!) { transitionCommunityProject(id: $id, to: APPROVED) { status } }",
        json!({ "id": project }),
    )
    .await;
    let r = push(&app, &t, &[proposal.clone(), report.clone()], "ITEM", false).await;
    assert_eq!(statuses(&r), ["UNCHANGED", "CREATED"], "{r:#}");
    let r = push(&app, &t, &[proposal, report], "ITEM", false).await;
    assert_eq!(statuses(&r), ["UNCHANGED", "UNCHANGED"], "{r:#}");
    assert_eq!(app.count("project_report").await, 1);
}

#[tokio::test]
async fn an_enrolment_and_its_end_sync_in_one_batch_and_a_different_end_is_a_conflict() {
    let app = TestApp::spawn().await;
    let d = district(&app, 0).await;
    let t = app.admin_token.clone();
    let (h, pupil, enrolment) = (new_id(), new_id(), new_id());
    let end = |on: String, reason: &str| json!({ "id": enrolment, "payload": { "enrolmentEnd": { "endedOn": on, "reason": reason } } });
    // The end comes first and names the enrolment made later in the batch.
    let items = vec![
        end(days_ago(5), "TRANSFERRED"),
        json!({ "id": enrolment, "payload": { "enrolment": { "serviceTypeCode": "SCHOOL_ENROLMENT", "personId": pupil,
            "date": days_ago(400), "institution": "School No. 5" } } }),
        person_item(&pupil, &h, "Анужин", "FEMALE", &months_ago(120)),
        household_item(&h, &d),
    ];
    let r = push(&app, &t, &items, "ALL", false).await;
    assert_eq!(statuses(&r), ["UPDATED", "CREATED", "CREATED", "CREATED"], "{r:#}");
    assert_eq!((r["items"][0]["kind"].as_str(), r["items"][0]["version"].as_i64()), (Some("ENROLMENT_END"), Some(2)));
    let q = "query($id: UUID!) { person(id: $id) { serviceRecords { id version enrolment { institution endedOn endReason } } } }";
    let read = app.ok(q, json!({ "id": pupil })).await;
    assert_eq!(
        read["person"]["serviceRecords"],
        json!([{ "id": enrolment, "version": 2,
                 "enrolment": { "institution": "School No. 5", "endedOn": days_ago(5), "endReason": "TRANSFERRED" } }])
    );
    // Resent after a lost answer: nothing moves.
    let again = push(&app, &t, &items, "ALL", false).await;
    assert_eq!(again["summary"]["unchanged"], 4, "{again:#}");

    // Another end of an ended enrolment: a conflict with the server's copy, not an overwrite.
    let mut other = end(days_ago(2), "DROPPED_OUT");
    other["baseVersion"] = json!(2);
    let r = push(&app, &t, &[other], "ITEM", false).await;
    assert_eq!((r["items"][0]["status"].as_str(), r["items"][0]["version"].as_i64()), (Some("CONFLICT"), Some(2)));
    // Ends refused with the mutation's checks, or of no enrolment: nothing written.
    let (open, person2) = (new_id(), new_id());
    let setup = [
        person_item(&person2, &h, "Тэмүүжин", "MALE", &months_ago(110)),
        json!({ "id": open, "payload": { "enrolment": { "serviceTypeCode": "SCHOOL_ENROLMENT", "personId": person2,
            "date": days_ago(30), "institution": "School No. 5" } } }),
    ];
    assert_eq!(statuses(&push(&app, &t, &setup, "ALL", false).await), ["CREATED", "CREATED"]);
    let refused = [
        json!({ "id": open, "payload": { "enrolmentEnd": { "endedOn": days_ago(31), "reason": "MOVED" } } }),
        json!({ "id": open, "payload": { "enrolmentEnd": { "endedOn": days_ago(-1), "reason": "MOVED" } } }),
        json!({ "id": new_id(), "payload": { "enrolmentEnd": { "endedOn": days_ago(1), "reason": "MOVED" } } }),
        json!({ "id": pupil, "payload": { "enrolmentEnd": { "endedOn": days_ago(1), "reason": "MOVED" } } }),
    ];
    let r = push(&app, &t, &refused, "ITEM", false).await;
    assert_eq!(statuses(&r), ["REJECTED"; 4], "{r:#}");
    let codes: Vec<&str> =
        r["items"].as_array().unwrap().iter().map(|i| i["error"]["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["VALIDATION"; 4], "{r:#}");
    let read = app.ok(q, json!({ "id": person2 })).await;
    assert_eq!(read["person"]["serviceRecords"][0]["version"], 1);
    assert_eq!(read["person"]["serviceRecords"][0]["enrolment"]["endedOn"], Value::Null);
}

#[tokio::test]
async fn projects_and_their_reports_are_pulled_once_per_change_and_only_where_seen() {
    let app = TestApp::spawn().await;
    let ub = unit(&app, "11").await;
    let d = app.ok("query($id: UUID!) { orgUnit(id: $id) { children { id code } } }", json!({ "id": ub })).await;
    let (here, elsewhere) = (&d["orgUnit"]["children"][0], &d["orgUnit"]["children"][1]);
    let t = app.admin_token.clone();
    let outsider = worker(&app, "outsider@demo.mn", elsewhere["code"].as_str().unwrap()).await;
    let (_, start) = pull_all(&app, &t, None, 1000).await;
    let (_, outsider_start) = pull_all(&app, &outsider, None, 1000).await;

    let project = new_id();
    let proposal = json!({ "id": project, "payload": { "communityProject": {
        "orgUnitId": here["id"], "area": "GARDENING", "title": "Gardens", "objectives": "Home gardens for 40 families" } } });
    assert_eq!(statuses(&push(&app, &t, &[proposal], "ITEM", false).await), ["CREATED"]);
    let entity = |c: &Value| (c["entity"].as_str().unwrap().to_string(), c["version"].as_i64().unwrap());
    let (got, cursor) = pull_all(&app, &t, Some(start), 1000).await;
    assert_eq!(
        got.iter().map(|(id, c)| (id.clone(), entity(c))).collect::<Vec<_>>(),
        [(project.clone(), ("COMMUNITY_PROJECT".to_string(), 1))]
    );

    // Approved, then reported on: the project comes again at its new version, then the report.
    app.ok(
        "mutation($id: UUID!) { transitionCommunityProject(id: $id, to: APPROVED) { status } }",
        json!({ "id": project }),
    )
    .await;
    let report = new_id();
    let item = json!({ "id": report, "payload": { "projectReport": {
        "projectId": project, "progressPercent": 10, "narrative": "Seeds bought", "householdsReached": 4, "peopleReached": 11 } } });
    assert_eq!(statuses(&push(&app, &t, &[item], "ITEM", false).await), ["CREATED"]);
    let (got, end) = pull_all(&app, &t, Some(cursor), 1).await;
    assert_eq!(
        got.iter().map(|(id, c)| (id.clone(), entity(c))).collect::<Vec<_>>(),
        [(project.clone(), ("COMMUNITY_PROJECT".to_string(), 2)), (report.clone(), ("PROJECT_REPORT".to_string(), 1)),]
    );
    assert!(pull_all(&app, &t, Some(end), 1000).await.0.is_empty(), "each change once");
    // A field worker of another district gets neither.
    let (got, _) = pull_all(&app, &outsider, Some(outsider_start), 1000).await;
    assert!(got.iter().all(|(id, _)| *id != project && *id != report), "{got:?}");
}

#[tokio::test]
async fn the_audit_log_says_which_sync_item_wrote_a_record_and_its_device_time() {
    let app = TestApp::spawn().await;
    let d = district(&app, 0).await;
    let t = app.admin_token.clone();
    let (h, p) = (new_id(), new_id());
    let mut items = vec![person_item(&p, &h, "Сүхээ", "MALE", "1990-01-01"), household_item(&h, &d)];
    items[1]["clientTimestamp"] = json!("2026-11-30T08:15:00+08:00");
    assert_eq!(statuses(&push(&app, &t, &items, "ALL", false).await), ["CREATED", "CREATED"]);
    let q = "query($id: UUID!) { auditLog(filter: { entityId: $id }, first: 10) { edges { node { action entity detail } } } }";
    let details = |d: Value| -> Vec<(String, String, Option<String>)> {
        d["auditLog"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let n = &e["node"];
                (
                    n["action"].as_str().unwrap().into(),
                    n["entity"].as_str().unwrap().into(),
                    n["detail"].as_str().map(Into::into),
                )
            })
            .collect()
    };
    assert_eq!(
        details(app.ok(q, json!({ "id": h })).await),
        [("CREATE".into(), "household".into(), Some("syncPush item 1, device time 2026-11-30T00:15:00.000Z".into()))]
    );
    assert_eq!(
        details(app.ok(q, json!({ "id": p })).await),
        [("CREATE".into(), "person".into(), Some("syncPush item 0".into()))]
    );
    // A write outside sync says nothing of the kind.
    let other = household(&app, &d).await;
    assert_eq!(details(app.ok(q, json!({ "id": other })).await)[0].2, None);
}

#[tokio::test]
async fn attendance_syncs_with_its_enrolment_and_a_resend_changes_nothing() {
    let app = TestApp::spawn().await;
    let d = district(&app, 0).await;
    let t = app.admin_token.clone();
    let (h, pupil, enrolment, attended) = (new_id(), new_id(), new_id(), new_id());
    let attendance = |id: &str, from: i64, to: i64, present: i32| {
        json!({ "id": id, "payload": { "attendance": { "serviceTypeCode": "SCHOOL_ATTENDANCE", "enrolmentId": enrolment,
            "periodStart": days_ago(from), "periodEnd": days_ago(to), "daysPresent": present, "daysExpected": 20 } } })
    };
    let items = vec![
        attendance(&attended, 60, 31, 17),
        json!({ "id": enrolment, "payload": { "enrolment": { "serviceTypeCode": "SCHOOL_ENROLMENT", "personId": pupil,
            "date": days_ago(300), "institution": "School No. 5" } } }),
        person_item(&pupil, &h, "Билгүүн", "MALE", &months_ago(100)),
        household_item(&h, &d),
    ];
    let r = push(&app, &t, &items, "ALL", false).await;
    assert_eq!(statuses(&r), ["CREATED"; 4], "{r:#}");
    assert_eq!(r["items"][0]["kind"], "ATTENDANCE");
    let again = push(&app, &t, &items, "ALL", false).await;
    assert_eq!(again["summary"]["unchanged"], 4, "{again:#}");

    // Other days for the same record: refused (the client's copy was current), not overwritten;
    // a new record over days already reported: refused as a conflict.
    let mut changed = attendance(&attended, 60, 31, 19);
    changed["baseVersion"] = json!(1);
    let overlapping = attendance(&new_id(), 40, 10, 10);
    let r = push(&app, &t, &[changed, overlapping], "ITEM", false).await;
    assert_eq!(statuses(&r), ["REJECTED", "REJECTED"], "{r:#}");
    assert_eq!(r["items"][1]["error"]["code"], "CONFLICT", "{r:#}");
    let q = "query($id: UUID!) { person(id: $id) { serviceRecords { attendance { daysPresent } } } }";
    let read = app.ok(q, json!({ "id": pupil })).await;
    let present: Vec<&Value> = read["person"]["serviceRecords"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["attendance"].as_object().map(|a| &a["daysPresent"]))
        .collect();
    assert_eq!(present, [&json!(17)]);
}

/// A burst of writers at once — sync batches, single mutations, logins and audited reads — waits
/// for the database and loses nothing.
///
/// On SQLite, which takes one writer at a time, the service's writers wait their turn
/// (`db::write_turn`) before they begin, holding no pooled connection, instead of each waiting in
/// SQLite's busy handler inside its BEGIN. Here the database is locked by a write of the test's
/// own while the burst arrives: writers waiting inside BEGIN held all three connections, and the
/// rest of the burst found none within the acquire timeout (UNAVAILABLE). PostgreSQL locks rows,
/// not the database: there the burst runs as it comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_batches_and_mutations_waits_its_turn_and_loses_nothing() {
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
    let sqlite = cbss_tests::backend() == "sqlite";
    let app = TestApp::spawn_with(|c| {
        if sqlite {
            c.db_max_connections = 3;
            c.db_acquire_timeout_ms = 500;
        }
        // Waiting counts towards the request timeout; a debug build on two cores is slow.
        c.request_timeout_secs = 600;
    })
    .await;
    let soum = district(&app, 0).await;
    let home = household(&app, &soum).await;
    let reader = person(&app, &home, "Ариунаа", "FEMALE", "1990-03-04").await;
    let (households, people) = (app.count("household").await, app.count("person").await);
    const BATCHES: usize = 8;
    const HOUSEHOLDS: usize = 50;
    let batches: Vec<Vec<Value>> = (0..BATCHES)
        .map(|_| {
            let mut items = Vec::new();
            for _ in 0..HOUSEHOLDS {
                let h = new_id();
                items.push(household_item(&h, &soum));
                for (given, sex) in [("Бат", "MALE"), ("Сараа", "FEMALE"), ("Төмөр", "MALE")] {
                    items.push(person_item(&new_id(), &h, given, sex, "2001-02-03"));
                }
            }
            items
        })
        .collect();
    // SQLite: a write of another connection holds the database while the burst arrives (the
    // pause only lets the burst pile up: however long it is, every request must succeed).
    let lock = if sqlite {
        let txn = app.db.begin().await.unwrap();
        let bump = "UPDATE sync_state SET change_seq = change_seq WHERE id = 1";
        txn.execute_raw(sea_orm::Statement::from_string(DbBackend::Sqlite, bump)).await.unwrap();
        Some(txn)
    } else {
        None
    };
    let release = async {
        if let Some(txn) = lock {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            txn.commit().await.unwrap();
        }
    };
    let pushes = futures_util::future::join_all(batches.iter().map(|items| app.gql(PUSH, json!({ "items": items }))));
    let creates = futures_util::future::join_all((0..16).map(|_| {
        app.gql(
            "mutation($u: UUID!) { createHousehold(input: { orgUnitId: $u, dwelling: APARTMENT, consent: { givenBy: \"Head\", purpose: \"CBSS services\" } }) { id } }",
            json!({ "u": soum }),
        )
    }));
    let registrations = futures_util::future::join_all((0..8).map(|i| {
        app.gql(
            "mutation($i: RegisterPersonInput!) { registerPerson(input: $i) { id } }",
            json!({ "i": { "householdId": home, "givenName": format!("Хүү {}", ["А", "Б", "В", "Г", "Д", "Е", "Ж", "З"][i]), "familyName": "Дорж", "sex": "MALE", "birthDate": "2015-06-07" } }),
        )
    }));
    let logins = futures_util::future::join_all((0..4).map(|_| {
        app.gql_as(
            None,
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
            json!({ "e": "admin@test.mn", "p": PASSWORD }),
        )
    }));
    let reads = futures_util::future::join_all(
        (0..8).map(|_| app.gql("query($p: UUID!) { person(id: $p) { id } }", json!({ "p": reader }))),
    );
    let (pushed, created, registered, logged_in, read, ()) =
        tokio::join!(pushes, creates, registrations, logins, reads, release);

    let answers = pushed.iter().chain(&created).chain(&registered).chain(&logged_in).chain(&read);
    let failed: Vec<&Value> = answers.filter(|a| a.get("errors").is_some_and(|e| !e.is_null())).collect();
    assert!(failed.is_empty(), "every write of the burst succeeds (no INTERNAL, no UNAVAILABLE): {failed:#?}");
    for p in &pushed {
        let r = &p["data"]["syncPush"];
        assert_eq!(r["committed"], true, "{r:#}");
        assert_eq!(
            (r["summary"]["created"].as_i64(), r["summary"]["rejected"].as_i64()),
            (Some(4 * HOUSEHOLDS as i64), Some(0)),
            "{r:#}"
        );
    }
    assert!(logged_in.iter().all(|l| l["data"]["login"]["accessToken"].is_string()));
    assert!(read.iter().all(|r| r["data"]["person"]["id"] == reader));

    // Nothing lost: every record, each write under a change number of its own, every audit entry.
    assert_eq!(app.count("household").await, households + (BATCHES * HOUSEHOLDS) as i64 + 16);
    assert_eq!(app.count("person").await, people + (BATCHES * HOUSEHOLDS * 3) as i64 + 8);
    let distinct = |table: &'static str| {
        let app = &app;
        async move {
            let sql = format!("SELECT COUNT(DISTINCT change_seq) AS n FROM {table}");
            let row = app.db.query_one_raw(sea_orm::Statement::from_string(app.db.get_database_backend(), sql));
            row.await.unwrap().unwrap().try_get::<i64>("", "n").unwrap()
        }
    };
    assert_eq!(distinct("household").await, 1 + BATCHES as i64 + 16, "one change number per write");
    assert_eq!(distinct("person").await, 1 + BATCHES as i64 + 8);
    let entries = app
        .ok(
            "query($p: UUID!) { auditLog(filter: { entityId: $p, action: \"READ\" }, first: 50) { edges { node { id } } } }",
            json!({ "p": reader }),
        )
        .await;
    assert_eq!(entries["auditLog"]["edges"].as_array().unwrap().len(), 8, "every read audited once");
}

#[tokio::test]
async fn hiv_knowledge_and_a_graded_enrolment_sync_once_and_other_answers_are_a_conflict() {
    let app = TestApp::spawn().await;
    let d = district(&app, 0).await;
    let t = app.admin_token.clone();
    let (h, young, asked, enrolled) = (new_id(), new_id(), new_id(), new_id());
    let answers = json!({ "personId": young, "date": days_ago(3), "oneFaithfulPartner": "YES",
        "condomEveryTime": "YES", "healthyLookingPerson": "YES", "mosquitoBites": "NO", "sharingFood": "NO" });
    let enrolment = json!({ "serviceTypeCode": "SCHOOL_ENROLMENT", "personId": young, "date": days_ago(90),
        "institution": "School No. 5", "gradeNumber": 10 });
    let items = vec![
        json!({ "id": asked, "payload": { "hivKnowledge": answers } }),
        json!({ "id": enrolled, "payload": { "enrolment": enrolment } }),
        person_item(&young, &h, "Төгс", "MALE", &months_ago(190)),
        household_item(&h, &d),
    ];
    let r = push(&app, &t, &items, "ALL", false).await;
    assert_eq!(statuses(&r), ["CREATED"; 4], "{r:#}");
    assert_eq!(r["items"][0]["kind"], "HIV_KNOWLEDGE");
    // Resent after a lost answer: nothing moves.
    assert_eq!(push(&app, &t, &items, "ALL", false).await["summary"]["unchanged"], 4);
    // The same ids with other content: conflicts, and the stored records stay.
    let mut other = answers.clone();
    other["mosquitoBites"] = json!("DONT_KNOW");
    let mut regraded = enrolment.clone();
    regraded["gradeNumber"] = json!(9);
    let changed = [
        json!({ "id": asked, "payload": { "hivKnowledge": other } }),
        json!({ "id": enrolled, "payload": { "enrolment": regraded } }),
    ];
    let r = push(&app, &t, &changed, "ITEM", false).await;
    assert_eq!(statuses(&r), ["CONFLICT", "CONFLICT"], "{r:#}");
    let q = "query($id: UUID!) { person(id: $id) { serviceRecords { id version
        hivKnowledge { mosquitoBites comprehensive } enrolment { gradeNumber } } } }";
    let mut read = app.ok(q, json!({ "id": young })).await["person"]["serviceRecords"].clone();
    read.as_array_mut().unwrap().sort_by_key(|r| r["id"].as_str().unwrap().to_string());
    let mut want = vec![
        json!({ "id": asked, "version": 1, "hivKnowledge": { "mosquitoBites": "NO", "comprehensive": true }, "enrolment": null }),
        json!({ "id": enrolled, "version": 1, "hivKnowledge": null, "enrolment": { "gradeNumber": 10 } }),
    ];
    want.sort_by_key(|r| r["id"].as_str().unwrap().to_string());
    assert_eq!(read, json!(want));
}

#[tokio::test]
async fn a_batch_sent_to_two_instances_at_once_creates_each_record_once() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let u = unit(&app, "11-BZD").await;
    let mut items = Vec::new();
    for i in 0..40 {
        let (h, p) = (new_id(), new_id());
        items.push(person_item(&p, &h, &format!("Child {i}"), "FEMALE", &months_ago(30)));
        items.push(household_item(&h, &u));
    }
    let (a, b) = tokio::join!(
        push(&app, &app.admin_token, &items, "ITEM", false),
        push(&other, &app.admin_token, &items, "ITEM", false)
    );
    let (a, b) = (statuses(&a), statuses(&b));
    for (i, pair) in a.iter().zip(&b).enumerate() {
        let mut pair = [pair.0.as_str(), pair.1.as_str()];
        pair.sort();
        assert_eq!(pair, ["CREATED", "UNCHANGED"], "item {i}: written by one instance, found by the other");
    }
    assert_eq!(app.count("household").await, 40);
    assert_eq!(app.count("person").await, 40);
}

/// Writes run side by side on PostgreSQL, each under its own transaction's change number, so one
/// that drew an earlier number can commit after a later one. The pull must not move past the
/// earlier one while it runs: the later change waits (behind `hasMore`), and every change reaches
/// the device exactly once.
#[tokio::test]
async fn a_write_that_commits_after_a_later_one_is_pulled_once_and_nothing_is_skipped() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
    if cbss_tests::backend() != "postgres" {
        eprintln!("skipped on SQLite: it writes one transaction at a time, so commits come in number order");
        return;
    }
    let app = TestApp::spawn_with(|c| c.metrics_token = Some("pull-test-metrics".into())).await;
    let t = app.admin_token.clone();
    let bag = district(&app, 0).await;
    let slow = household(&app, &bag).await;
    let (_, start) = pull_all(&app, &t, None, 1000).await;

    // Another connection holds the household's row: the edit draws its change number, then waits.
    let holder = app.db.begin().await.unwrap();
    let hold = format!("SELECT id FROM household WHERE id = '{slow}' FOR UPDATE");
    holder.execute_raw(Statement::from_string(DbBackend::Postgres, hold)).await.unwrap();
    let edit = app.gql(
        "mutation($i: UpdateHouseholdInput!) { updateHousehold(input: $i) { id version } }",
        json!({ "i": { "id": slow, "expectedVersion": 1, "address": "Баг 3, гудамж 7" } }),
    );
    let meanwhile = async {
        let waiting = "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
                       AND wait_event_type = 'Lock' AND query LIKE 'UPDATE%household%'";
        let started = std::time::Instant::now();
        loop {
            let row = app.db.query_one_raw(Statement::from_string(DbBackend::Postgres, waiting)).await.unwrap();
            if row.unwrap().try_get::<i64>("", "n").unwrap() > 0 {
                break;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(30), "the edit never reached the held row");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // A later write commits while the edit still runs.
        let later = household(&app, &bag).await;
        let first = app.ok_as(&t, PULL, json!({ "since": start, "first": 100 })).await["changes"].clone();
        holder.commit().await.unwrap();
        (later, first)
    };
    let (edited, (later, first)) = tokio::join!(edit, meanwhile);
    assert!(edited["errors"].is_null(), "{edited:#}");
    let seen_first: Vec<&str> =
        first["changes"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(!seen_first.contains(&later.as_str()), "the later write waits while an earlier number runs: {first:#}");
    assert_eq!(first["hasMore"], true, "and the device is told to come back: {first:#}");
    // The operator sees pulls held back (the counter is the process's: other tests' pulls add).
    let scrape = app.client.get(format!("{}/metrics", app.base)).bearer_auth("pull-test-metrics").send();
    let text = scrape.await.unwrap().text().await.unwrap();
    let held = text.lines().find_map(|l| l.strip_prefix("cbss_sync_pulls_held_total ")).and_then(|v| v.parse().ok());
    assert!(held.is_some_and(|v: f64| v >= 1.0), "{held:?}");

    let (rest, _) = pull_all(&app, &t, Some(first["endCursor"].as_str().unwrap().to_string()), 100).await;
    let mut ids: Vec<&str> = seen_first;
    ids.extend(rest.iter().map(|(id, _)| id.as_str()));
    for id in [&slow, &later] {
        assert_eq!(ids.iter().filter(|i| **i == id.as_str()).count(), 1, "{id} pulled exactly once: {ids:?}");
    }
    let edit = rest.iter().find(|(id, _)| *id == slow).expect("the slow edit");
    assert_eq!(edit.1["version"], 2);
}

/// A database restored into another cluster (pg_dump, a logical copy) keeps its change numbers
/// but not its transaction ids, which start again low: on start the service numbers new changes
/// above the stored ones, so devices holding cursors still pull them.
#[tokio::test]
async fn changes_after_a_restore_into_another_cluster_still_reach_devices() {
    use sea_orm::ConnectionTrait;
    if cbss_tests::backend() != "postgres" {
        eprintln!("skipped on SQLite: its change numbers come from a counter kept in the file");
        return;
    }
    let app = TestApp::spawn().await;
    let t = app.admin_token.clone();
    let bag = district(&app, 0).await;
    household(&app, &bag).await;
    let (_, cursor) = pull_all(&app, &t, None, 1000).await;
    // As after a restore: transaction ids far below the numbers already stored.
    app.db.execute_unprepared("UPDATE sync_state SET xid_offset = -pg_current_xact_id()::text::bigint").await.unwrap();
    let restarted = app.another_instance().await;
    let after = household(&restarted, &bag).await;
    let (seen, _) = pull_all(&app, &t, Some(cursor), 100).await;
    assert!(seen.iter().any(|(id, _)| *id == after), "the new household reaches the device: {seen:?}");
}
