//! Ids a write refers to must be visible to the caller: an id outside the caller's scope answers
//! exactly as an unknown one does (never INTERNAL, never success), so no one can test whether an
//! id exists elsewhere. And the partner list follows the role matrix.

use crate::fixtures::{household, person, unit};
use cbss_tests::TestApp;
use serde_json::{Value, json};

/// The code and first field path of a refused write, and that it wrote nothing.
async fn refused(app: &TestApp, token: &str, table: &str, query: &str, variables: Value) -> (String, String) {
    let before = app.count(table).await;
    let (code, error) = app.err_as(Some(token), query, variables).await;
    assert_eq!(app.count(table).await, before, "a refused write changes nothing: {error:#}");
    (code, error["extensions"]["fields"][0]["path"].as_str().unwrap_or("").to_string())
}

#[tokio::test]
async fn a_reference_outside_the_scope_is_refused_like_an_unknown_one() {
    let app = TestApp::spawn().await;
    app.seed_demo(300).await;
    let worker = app.login("field.zavkhan@demo.mn").await;
    // Someone in Ulaanbaatar, outside the Zavkhan worker's scope; and an id nobody has.
    let far_home = household(&app, &unit(&app, "11-BZD-01").await).await;
    let far_child = person(&app, &far_home, "Сараа", "FEMALE", "2022-03-01").await;
    let nobody = uuid::Uuid::new_v4().to_string();
    let zavkhan = unit(&app, "85-ZAVKHAN").await;
    let own_home = app
        .ok_as(
            &worker,
            "mutation($u: UUID!) { createHousehold(input: { orgUnitId: $u, dwelling: GER, consent: { givenBy: \"Эцэг\", purpose: \"CBSS\" } }) { id } }",
            json!({ "u": zavkhan }),
        )
        .await["createHousehold"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let new_household = "mutation($u: UUID!, $r: UUID!) { createHousehold(input: { orgUnitId: $u, dwelling: GER, consent: { givenBy: \"Ээж\", purpose: \"CBSS\", representativeFor: $r } }) { id } }";
    let consent = "mutation($h: UUID!, $r: UUID!) { recordConsent(input: { householdId: $h, givenBy: \"Ээж\", purpose: \"CBSS\", representativeFor: $r }) { id } }";
    let member = "mutation($h: UUID!) { registerPerson(input: { householdId: $h, givenName: \"Бат\", familyName: \"Дорж\", sex: MALE, birthDate: \"2020-01-01\" }) { id } }";
    for (table, query, far, unknown) in [
        ("household", new_household, json!({ "u": zavkhan, "r": far_child }), json!({ "u": zavkhan, "r": nobody })),
        ("consent", consent, json!({ "h": own_home, "r": far_child }), json!({ "h": own_home, "r": nobody })),
        ("person", member, json!({ "h": far_home }), json!({ "h": nobody })),
    ] {
        let out_of_scope = refused(&app, &worker, table, query, far).await;
        let not_there = refused(&app, &worker, table, query, unknown).await;
        assert_eq!(out_of_scope, not_there, "{query}");
        assert_eq!(out_of_scope.0, "VALIDATION", "{query}");
    }
}

#[tokio::test]
async fn partners_are_listed_to_administrators_and_to_a_partners_own_staff() {
    let app = TestApp::spawn().await;
    app.seed_demo(300).await;
    let q = "{ partners { name units { code } } }";
    let all = app.ok(q, json!({})).await["partners"].as_array().unwrap().len();
    assert!(all >= 1);
    let ngo = app.login("ngo.uvs@demo.mn").await;
    let own = app.ok_as(&ngo, q, json!({})).await;
    assert_eq!(own["partners"].as_array().unwrap().len(), 1, "{own:#}");
    assert_eq!(own["partners"][0]["name"], "Demo NGO (Uvs)");
    for user in ["field.zavkhan@demo.mn", "analyst@demo.mn", "researcher@demo.mn"] {
        let token = app.login(user).await;
        let (code, _) = app.err_as(Some(&token), q, json!({})).await;
        assert_eq!(code, "FORBIDDEN", "{user}");
    }
}

#[tokio::test]
async fn growth_needs_a_token_and_shows_researchers_no_real_measurement_id() {
    let app = TestApp::spawn().await;
    app.seed_demo(300).await;
    let q = "query($i: GrowthInput!) { growthZScores(input: $i) { weightForAge } }";
    let input = json!({ "i": { "sex": "MALE", "ageDays": 300, "weightKg": 9.0 } });
    let (code, _) = app.err_as(None, q, input).await;
    assert_eq!(code, "UNAUTHENTICATED");

    let h = household(&app, &unit(&app, "11-BZD-01").await).await;
    let child = person(&app, &h, "Тэмүүжин", "MALE", "2025-06-01").await;
    let real = app
        .ok(
            "mutation($p: UUID!) { recordGrowthMeasurement(input: { personId: $p, date: \"2026-11-02\", weightKg: 9.2, lengthHeightCm: 74.0, position: LYING }) { id } }",
            json!({ "p": child }),
        )
        .await["recordGrowthMeasurement"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let chart = "query($u: UUID!) { people(filter: { orgUnitId: $u, bornFrom: \"2025-06-01\", bornTo: \"2025-06-30\" }) { edges { node { growthChart(indicator: WEIGHT_FOR_AGE) { points { id } } } } } }";
    let u = json!({ "u": unit(&app, "11-BZD-01").await });
    let ids = |d: &Value| -> Vec<String> {
        d["people"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["node"]["growthChart"]["points"].as_array().unwrap().clone())
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(ids(&app.ok(chart, u.clone()).await).contains(&real), "the administrator sees the real id");
    let analyst = app.login("researcher@demo.mn").await;
    let seen = ids(&app.ok_as(&analyst, chart, u).await);
    assert!(!seen.is_empty() && !seen.contains(&real), "{seen:?}");
}

/// A disability (a special category) and an exact date of death reach no de-identified caller:
/// not through the planned page, the executor or the CSV export.
#[tokio::test]
async fn researchers_see_neither_disability_nor_a_date_of_death() {
    let app = TestApp::spawn().await;
    app.seed_demo(300).await;
    let district = unit(&app, "11-BZD").await;
    let h = household(&app, &district).await;
    let p = person(&app, &h, "Сувд", "FEMALE", "1950-02-03").await;
    app.ok(
        "mutation($p: UUID!) { updatePerson(input: { id: $p, disability: MOBILITY, dateOfDeath: \"2026-01-05\" }) { id } }",
        json!({ "p": p }),
    )
    .await;
    let plain = "query($u: UUID!) { people(filter: { orgUnitId: $u }, first: 100) { edges { node { disability dateOfDeath } } } }";
    let fragment = "query($u: UUID!) { people(filter: { orgUnitId: $u }, first: 100) { edges { node { ...on Person { disability dateOfDeath } } } } }";
    let u = json!({ "u": district });
    let nodes = |d: &Value| -> Vec<Value> {
        d["people"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
    };
    let admin = nodes(&app.ok(plain, u.clone()).await);
    assert!(admin.contains(&json!({ "disability": "MOBILITY", "dateOfDeath": "2026-01-05" })), "{admin:?}");
    let analyst = app.login("researcher@demo.mn").await;
    for q in [plain, fragment] {
        let seen = nodes(&app.ok_as(&analyst, q, u.clone()).await);
        assert_eq!(seen.len(), admin.len(), "{q}");
        assert!(seen.iter().all(|n| n == &json!({ "disability": null, "dateOfDeath": null })), "{q}: {seen:?}");
    }
    let csv = app
        .client
        .get(format!("{}/export/people.csv", app.base))
        .bearer_auth(&analyst)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.lines().count() > 1, "{csv}");
    assert!(!csv.contains("MOBILITY") && !csv.contains("2026-01-05"), "{csv}");
}
