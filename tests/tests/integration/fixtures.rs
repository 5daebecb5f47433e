//! Small, known data made through the API itself.

use cbss_tests::TestApp;
use serde_json::{Value, json};

/// The id of a reference org unit by code (e.g. "85" for Uvs).
pub async fn unit(app: &TestApp, code: &str) -> String {
    let d = app.ok("query($c: String!) { orgUnitByCode(code: $c) { id } }", json!({ "c": code })).await;
    d["orgUnitByCode"]["id"].as_str().unwrap_or_else(|| panic!("no unit {code}")).to_string()
}

pub async fn household(app: &TestApp, unit_id: &str) -> String {
    let d = app
        .ok(
            "mutation($u: UUID!) { createHousehold(input: { orgUnitId: $u, dwelling: GER, isHerder: true, consent: { givenBy: \"Household head\", purpose: \"CBSS services\" } }) { id } }",
            json!({ "u": unit_id }),
        )
        .await;
    d["createHousehold"]["id"].as_str().expect("id").to_string()
}

pub async fn person(app: &TestApp, household: &str, given: &str, sex: &str, birth: &str) -> String {
    let d = app
        .ok(
            "mutation($i: RegisterPersonInput!) { registerPerson(input: $i) { id } }",
            json!({ "i": { "householdId": household, "givenName": given, "familyName": "Дорж", "sex": sex, "birthDate": birth } }),
        )
        .await;
    d["registerPerson"]["id"].as_str().expect("id").to_string()
}

/// A date `days` before today (Mongolian calendar day), as the API takes it.
pub fn days_ago(days: i64) -> String {
    (cbss::store::today() - chrono::Duration::days(days)).to_string()
}

pub fn months_ago(months: u32) -> String {
    (cbss::store::today() - chrono::Months::new(months)).to_string()
}

pub fn ids(list: &Value) -> Vec<String> {
    list.as_array().expect("list").iter().map(|e| e["node"]["id"].as_str().expect("id").to_string()).collect()
}
