//! DataLoaders: a page of people with nested relations takes a fixed number of SQL statements.

use cbss_tests::TestApp;
use serde_json::json;

const NESTED: &str = "query($n: Int) { people(first: $n) { edges { node { id givenName lifeStage { code }
    household { id dwelling orgUnit { code parent { code } } members { id } }
    pregnancies { id outcome children { id } }
    serviceRecords { date serviceType { code } orgUnit { code } }
    growthMeasurements { weightKg date }
    immunisations { doseNumber antigen { code } } } } } }";

#[tokio::test]
async fn a_nested_page_of_50_people_takes_a_small_fixed_number_of_statements() {
    let app = TestApp::spawn().await;
    app.seed_demo(400).await;
    let mut counts = Vec::new();
    for n in [5, 50, 100] {
        let before = app.statements.get();
        let d = app.ok(NESTED, json!({ "n": n })).await;
        assert_eq!(d["people"]["edges"].as_array().unwrap().len(), n as usize);
        counts.push(app.statements.get() - before);
    }
    println!("statements for a nested page of 5 / 50 / 100 people on {}: {counts:?}", cbss_tests::backend());
    // Four to find the caller (user, roles, scopes, units), one page query, then at most one
    // batch per loader and nesting point — a few more when keys straddle a loader's 1 ms window
    // on a busy machine: bounded by the query's shape, not its size. Without loaders a page of
    // 50 would take well over 300.
    for c in &counts {
        assert!(*c <= 32, "{counts:?} statements");
    }
}
