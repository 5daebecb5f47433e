//! Inputs found by fuzzing (tests/fuzz) that the server did not survive or answered INTERNAL.
//!
//! Long lists: each list of a filter holds at most 100 values and any list of a request at most
//! 10,000, refused with VALIDATION at its path — never the whole process aborting (a filter of a
//! few thousand ages overflowed the stack), nor INTERNAL (a thousand ages passed SQLite's
//! expression depth; 70,000 ids passed the database's parameters a statement).
//!
//! Out-of-range numbers: ages in a filter are 0 to 150 years (1,800 months), `received.withinDays`
//! 1 to 36,525 — beyond, the arithmetic that turns them into dates overflowed (a panic: the
//! connection dropped without an answer).

use crate::fixtures::unit;
use cbss_tests::TestApp;
use serde_json::{Value, json};
use uuid::Uuid;

const PEOPLE: &str = "query($w: PersonWhere) { people(where: $w, first: 1) { totalCount } }";

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|_| Uuid::new_v4().to_string()).collect()
}

/// The request is refused with VALIDATION, its first problem at `path`.
async fn refused_at(app: &TestApp, query: &str, variables: Value, path: &str) {
    let (code, error) = app.err(query, variables).await;
    assert_eq!(code, "VALIDATION", "{error:#}");
    assert_eq!(error["extensions"]["fields"][0]["path"], path, "{error:#}");
}

#[tokio::test]
async fn thousands_of_ages_in_a_filter_are_validation_and_the_server_lives_on() {
    let app = TestApp::spawn().await;
    // 5,000 aborted the process (stack overflow); 1,000 answered INTERNAL on SQLite.
    for n in [5_000, 1_000, 101] {
        let ages: Vec<i32> = (0..n).collect();
        refused_at(&app, PEOPLE, json!({ "w": { "ageMonths": { "in": ages } } }), "where.ageMonths.in").await;
        refused_at(&app, PEOPLE, json!({ "w": { "ageYears": { "in": ages } } }), "where.ageYears.in").await;
    }
    let hundred: Vec<i32> = (0..100).collect();
    let d = app.ok(PEOPLE, json!({ "w": { "ageMonths": { "in": hundred } } })).await;
    assert_eq!(d["people"]["totalCount"], 0);
    // Growth measurements' ages too, through `aggregate`'s filter.
    let mn = unit(&app, "MN").await;
    let measured = "query($u: UUID!, $f: AggregateFilter) { aggregate(entity: GROWTH_MEASUREMENTS, orgUnitId: $u, filter: $f) { total { count } } }";
    let f = json!({ "growthMeasurement": { "ageMonths": { "in": (0..1_000).collect::<Vec<i32>>() } } });
    refused_at(&app, measured, json!({ "u": mn, "f": f }), "filter.growthMeasurement.ageMonths.in").await;
    app.ok("{ me { email } }", json!({})).await;
}

#[tokio::test]
async fn every_list_of_a_filter_holds_at_most_a_hundred_values() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({ "sex": { "in": vec!["MALE"; 101] } }), "where.sex.in"),
        (json!({ "orgUnit": { "in": ids(101) } }), "where.orgUnit.in"),
        (json!({ "disability": { "in": vec!["VISUAL"; 101] } }), "where.disability.in"),
        (json!({ "received": { "services": vec!["VITAMIN_A"; 101] } }), "where.received.services"),
        (json!({ "household": { "orgUnit": { "in": ids(101) } } }), "where.household.orgUnit.in"),
        (json!({ "household": { "dwelling": { "in": vec!["GER"; 101] } } }), "where.household.dwelling.in"),
        (json!({ "not": { "sex": { "in": vec!["FEMALE"; 5_000] } } }), "where.not.sex.in"),
    ];
    for (w, path) in cases {
        refused_at(&app, PEOPLE, json!({ "w": w }), path).await;
    }
    let d = app.ok(PEOPLE, json!({ "w": { "sex": { "in": vec!["MALE"; 100] } } })).await;
    assert_eq!(d["people"]["totalCount"], 0);
}

#[tokio::test]
async fn a_list_of_more_than_ten_thousand_values_is_refused_before_the_database() {
    let app = TestApp::spawn().await;
    // 70,000 unit ids for a user's scope or a partner were INTERNAL (too many SQL parameters).
    let create_user = "mutation($v: [UUID!]!) { createUser(input: { email: \"many@example.mn\", password: \"a-long-password-1\", displayName: \"Many\", roles: [ANALYST], captureUnitIds: [], viewUnitIds: $v }) { id } }";
    refused_at(&app, create_user, json!({ "v": ids(70_000) }), "$v").await;
    let partner = "mutation($u: [UUID!]!) { createPartner(name: \"Many units\", kind: NGO, unitIds: $u) { id } }";
    refused_at(&app, partner, json!({ "u": ids(10_001) }), "$u").await;
    // Written in the document: at the argument, with its place.
    let inline: Vec<String> = ids(10_001).into_iter().map(|id| format!("\"{id}\"")).collect();
    let written = format!(
        "mutation {{ createPartner(name: \"Many units\", kind: NGO, unitIds: [{}]) {{ id }} }}",
        inline.join(",")
    );
    let (code, error) = app.err(&written, json!({})).await;
    assert_eq!(
        (code.as_str(), &error["extensions"]["fields"][0]["path"]),
        ("VALIDATION", &json!("unitIds")),
        "{error:#}"
    );
    assert!(error["locations"][0]["line"].is_number(), "{error:#}");
    // Up to the limit, the list reaches the API's own checks.
    refused_at(&app, partner, json!({ "u": ids(10_000) }), "unitIds.0").await;
    assert_eq!(app.count("partner").await, 0);
}

#[tokio::test]
async fn ages_and_windows_out_of_range_are_validation_not_a_dropped_connection() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({ "ageYears": { "eq": 385_625_938 } }), "where.ageYears"),
        (json!({ "ageYears": { "lt": i32::MIN } }), "where.ageYears"),
        (json!({ "ageMonths": { "gt": i32::MAX } }), "where.ageMonths"),
        (json!({ "ageMonths": { "in": [i32::MAX, i32::MIN] } }), "where.ageMonths"),
        (json!({ "ageMonths": { "lte": 1_801 } }), "where.ageMonths"),
        (json!({ "household": { "hasMember": { "ageYears": { "gte": -1 } } } }), "where.household.hasMember.ageYears"),
        (json!({ "received": { "services": ["VITAMIN_A"], "withinDays": i32::MAX } }), "where.received.withinDays"),
    ];
    for (w, path) in cases {
        refused_at(&app, PEOPLE, json!({ "w": w }), path).await;
    }
    let mn = unit(&app, "MN").await;
    let measured = "query($u: UUID!, $f: AggregateFilter) { aggregate(entity: GROWTH_MEASUREMENTS, orgUnitId: $u, filter: $f) { total { count } } }";
    let f = json!({ "growthMeasurement": { "ageMonths": { "gt": i32::MAX } } });
    refused_at(&app, measured, json!({ "u": mn, "f": f }), "filter.growthMeasurement.ageMonths").await;
    // The bounds themselves are fine.
    let w = json!({ "ageYears": { "gte": 0, "lte": 150 }, "ageMonths": { "lt": 1_800 },
                    "received": { "services": ["VITAMIN_A"], "withinDays": 36_525 } });
    let d = app.ok(PEOPLE, json!({ "w": w })).await;
    assert_eq!(d["people"]["totalCount"], 0);
}
