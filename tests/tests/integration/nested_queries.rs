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

const FAMILIES: &str = "query($u: UUID!, $n: Int) { households(filter: { orgUnitId: $u }, first: $n) { edges { node {
    id openActions { id } assessments { score answers { indicator { code } answer } actions { status } } } } } }";

const PROJECTS: &str = "query($n: Int) { communityProjects(first: $n) { edges { node { title indicatorCodes
    budgetLines { amountMnt } partners { role partner { name } } transitions { toStatus } reports { progressPercent }
    householdsReached { id } peopleReached { id } totals { budgetMnt householdsLinked householdsReported } } } } }";

#[tokio::test]
async fn pages_of_assessed_households_and_of_projects_take_a_fixed_number_of_statements() {
    let app = TestApp::spawn().await;
    app.seed_demo(400).await;
    let d = app.ok("{ orgUnitByCode(code: \"11-BZD-01\") { id } }", json!({})).await;
    let unit = d["orgUnitByCode"]["id"].clone();
    let mut counts = Vec::new();
    for n in [1, 4] {
        let before = app.statements.get();
        let d = app.ok(FAMILIES, json!({ "u": unit, "n": n })).await;
        let nodes = d["households"]["edges"].as_array().unwrap();
        assert_eq!(nodes.len(), n as usize);
        // The demo's visits are in this khoroo: the page's households were assessed.
        assert!(nodes.iter().all(|e| !e["node"]["assessments"][0]["answers"].as_array().unwrap().is_empty()));
        counts.push(app.statements.get() - before);
    }
    for n in [1, 3] {
        let before = app.statements.get();
        let d = app.ok(PROJECTS, json!({ "n": n })).await;
        assert_eq!(d["communityProjects"]["edges"].as_array().unwrap().len(), n as usize);
        counts.push(app.statements.get() - before);
    }
    println!("statements for 1 / 4 assessed households, 1 / 3 projects on {}: {counts:?}", cbss_tests::backend());
    // The caller (four), the page, then one batch per loader: the demo's four households here,
    // their visits and answers read one by one, would take over 25, and three projects over 25.
    assert!(counts[0] <= 16 && counts[1] <= 16, "{counts:?} statements");
    assert!(counts[1] <= counts[0] + 2, "four households took more statements than one: {counts:?}");
    assert!(counts[2] <= 20 && counts[3] <= 20, "{counts:?} statements");
    assert!(counts[3] <= counts[2] + 2, "three projects took more statements than one: {counts:?}");
}

/// Pages and records of people and households are answered from a plan of their selection when
/// it selects only fields the plan knows (api/src/graphql/plan.rs), however the client writes
/// it. A second server on the same database executes every field (`CBSS_PLANNER=false`): both
/// must give the same answer (data and errors) for every planned field, in every way of writing
/// it, to every demo role, the plan in no more statements.
#[tokio::test]
async fn planned_answers_equal_the_executors() {
    use cbss::graphql::plan::{Ty, field_alone_queries, planned_queries};
    use std::sync::atomic::Ordering::Relaxed;
    let app = TestApp::spawn().await;
    app.seed_demo(400).await;
    let executor = app.another_instance_with(|c| c.planner = false).await;
    // Fields the demo leaves null, set on the first person of the page and their household.
    let first = app.ok("{ people(first: 1) { edges { node { id household { id } } } } }", json!({})).await;
    let node = &first["people"]["edges"][0]["node"];
    app.ok(
        "mutation($p: UUID!, $h: UUID!) { updatePerson(input: { id: $p, dateOfDeath: \"2025-01-02\" }) { id }
         updateHousehold(input: { id: $h, description: \"Ger beside the school\" }) { id } }",
        json!({ "p": node["id"], "h": node["household"]["id"] }),
    )
    .await;
    let callers = [
        ("admin", app.admin_token.clone()),
        ("researcher", app.login("researcher@demo.mn").await),
        ("partner", app.login("ngo.uvs@demo.mn").await),
        ("field worker", app.login("field.zavkhan@demo.mn").await),
        // Rows refused (`totalCount` only), and roles of narrower reach: equal answers, errors
        // included.
        ("analyst", app.login("analyst@demo.mn").await),
        ("provider", app.login("clinic.bayanzurkh@demo.mn").await),
        ("caseworker", app.login("caseworker.zavkhan@demo.mn").await),
        ("supervisor", app.login("supervisor.zavkhan@demo.mn").await),
    ];
    let roots = [
        ("people(first: 40)", Ty::PersonConnection),
        ("people(first: 15, orderBy: { field: ID, direction: DESC })", Ty::PersonConnection),
        ("households(first: 5)", Ty::HouseholdConnection),
        ("households(first: 4, orderBy: { field: ID, direction: DESC })", Ty::HouseholdConnection),
        ("person(id: $id)", Ty::Person),
        ("household(id: $id)", Ty::Household),
    ];
    for (who, token) in &callers {
        let token = Some(token.as_str());
        // A person of the caller's own, and their household, for the roots by id (none for the
        // analyst, who reads no rows: any id answers null).
        let mine = app.gql_as(token, "{ people(first: 1) { nodes { id household { id } } } }", json!({})).await;
        let mine = &mine["data"]["people"]["nodes"][0];
        let nobody = json!("00000000-0000-0000-0000-000000000000");
        let or_nobody = |id: &serde_json::Value| if id.is_null() { nobody.clone() } else { id.clone() };
        let full = ["admin", "researcher", "partner", "field worker"].contains(who);
        for (field, ty) in roots {
            let root = field.split('(').next().unwrap();
            // The queries' other variables are left to their defaults, as clients often do.
            let vars = match root {
                "person" => json!({ "id": or_nobody(&mine["id"]) }),
                "household" => json!({ "id": or_nobody(&mine["household"]["id"]) }),
                _ => json!({}),
            };
            for query in planned_queries(field, ty) {
                // Warm what outlives a request (the caller, reference data), so the counts compare.
                app.gql_as(token, &query, vars.clone()).await;
                executor.gql_as(token, &query, vars.clone()).await;
                let (before, planned_before) = (app.statements.get(), app.planned.load(Relaxed));
                let answer = app.gql_as(token, &query, vars.clone()).await;
                let planned_statements = app.statements.get() - before;
                let before = executor.statements.get();
                let executed = executor.gql_as(token, &query, vars.clone()).await;
                let executed_statements = executor.statements.get() - before;
                assert_eq!(executor.planned.load(Relaxed), 0, "the planner is off there");
                assert_eq!(answer, executed, "{who}, {query}");
                assert!(
                    planned_statements <= executed_statements,
                    "{who}: {planned_statements} > {executed_statements}"
                );
                // Answered from the plan whenever there was something to answer without an error.
                let planned = &answer["data"];
                let found = !planned[root].is_null() && answer.get("errors").is_none();
                let answered = app.planned.load(Relaxed) - planned_before;
                assert_eq!(answered, u64::from(found), "{who}: not answered from its plan: {query}: {answer}");
                if !full {
                    continue;
                }
                // By id, de-identified callers get null: nothing to plan.
                assert_eq!(found, *who != "researcher" || !field.contains("$id"), "{who}: {answer}");
                if root == "people" {
                    a_page_of_people_holds_every_relation(who, planned);
                }
                if root == "households" {
                    let nodes = planned["households"]["edges"].as_array().unwrap().iter().map(|e| &e["node"]);
                    let members = nodes.flat_map(|n| n["members"].as_array().unwrap());
                    assert!(members.clone().any(|m| m["lifeStage"]["code"].is_string()), "{who}: {planned}");
                }
                if *who == "admin" && field == "people(first: 40)" && !query.starts_with("query Mixed") {
                    let first = &planned["people"]["edges"][0]["node"];
                    assert_eq!(first["dateOfDeath"], "2025-01-02", "{planned}");
                    assert_eq!(first["household"]["description"], "Ger beside the school", "{planned}");
                }
            }
        }
    }
    // Each field alone, where the plan reads the rows itself with the columns the field declares.
    for (who, token) in &callers[..3] {
        let token = Some(token.as_str());
        for query in field_alone_queries() {
            let before = app.planned.load(Relaxed);
            let answer = app.gql_as(token, &query, json!({})).await;
            assert_eq!(answer, executor.gql_as(token, &query, json!({})).await, "{who}, {query}");
            assert_eq!(app.planned.load(Relaxed) - before, 1, "{who}: not planned: {query}: {answer}");
        }
    }
}

/// Not a comparison of empty answers: the page holds households, units, stages and records, and
/// names for those who see them.
fn a_page_of_people_holds_every_relation(who: &str, planned: &serde_json::Value) {
    let edges = planned["people"]["edges"].as_array().unwrap();
    assert!(!edges.is_empty(), "{who} sees people");
    let nodes = edges.iter().map(|e| &e["node"]);
    assert!(nodes.clone().any(|n| n["household"]["orgUnit"]["code"].is_string()), "{who}: {planned}");
    assert!(nodes.clone().any(|n| n["lifeStage"]["nameEn"].is_string()), "{who}: {planned}");
    let records = nodes.clone().flat_map(|n| n["serviceRecords"].as_array().unwrap());
    assert!(records.clone().any(|r| r["serviceType"]["code"].is_string()), "{who}: {planned}");
    // A column read by projection, shown where the caller may see it (the mixed query does
    // not select it).
    if records.clone().any(|r| r.get("provider").is_some()) {
        let providers = records.clone().any(|r| r["provider"] == "Demo health centre");
        assert_eq!(providers, who != "researcher", "{who}: {planned}");
    }
    if nodes.clone().any(|n| n.get("pregnancies").is_some()) {
        let pregnancies = nodes.clone().flat_map(|n| n["pregnancies"].as_array().unwrap());
        let followed = pregnancies.filter(|g| g["status"].is_string() && g["expectedDeliveryDate"].is_string());
        assert!(followed.count() > 0, "{who}: pregnancies with a status: {planned}");
    }
    let named = nodes.clone().any(|n| n["givenName"].is_string() && n["household"]["address"].is_string());
    assert_eq!(named, who != "researcher", "{who} sees names: {planned}");
}

const GROUPED: &str = "query Grouped($u: UUID!) { aggregate(entity: PEOPLE, orgUnitId: $u, groupBy: [SEX]) {
    rows { sex count } } }";
const GROUPED_WITH_TOTAL: &str = "query GroupedWithTotal($u: UUID!) { aggregate(entity: PEOPLE, orgUnitId: $u,
    groupBy: [SEX]) { rows { sex count } ...Totals } }
    fragment Totals on Aggregate { total { count } }";

/// A grouped aggregate's total takes a statement of its own (distinct counts and means do not
/// add up over rows), so it is counted only when selected — here through a named fragment, as
/// Relay and Apollo clients send it.
#[tokio::test]
async fn an_aggregate_counts_its_total_only_when_it_is_selected() {
    let app = TestApp::spawn().await;
    app.seed_demo(200).await;
    let vars = json!({ "u": crate::fixtures::unit(&app, "MN").await });
    let run = |query: &'static str| {
        let vars = vars.clone();
        let app = &app;
        async move {
            let before = app.statements.get();
            let d = app.ok(query, vars).await;
            (d["aggregate"].clone(), app.statements.get() - before)
        }
    };
    run(GROUPED).await; // the caller's principal, cached for what follows
    let (without, few) = run(GROUPED).await;
    let (with, more) = run(GROUPED_WITH_TOTAL).await;
    assert_eq!(without["rows"], with["rows"]);
    assert!(without.get("total").is_none());
    let sum: i64 = with["rows"].as_array().unwrap().iter().map(|r| r["count"].as_i64().unwrap()).sum();
    assert_eq!(with["total"]["count"].as_i64(), Some(sum), "{with:#}");
    println!("aggregate by sex on {}: {few} statements without its total, {more} with", cbss_tests::backend());
    assert!(few < more, "the total's statement runs only when selected: {few} without, {more} with");

    // So does a coverage total the rows do not add up to (months of a year).
    let (without, few) = run(BY_MONTH).await;
    let (with, more) = run(BY_MONTH_WITH_TOTAL).await;
    assert_eq!(without["rows"], with["rows"]);
    assert!(with["total"]["denominator"].as_i64().is_some_and(|d| d > 0), "{with:#}");
    println!("coverage by month on {}: {few} statements without its total, {more} with", cbss_tests::backend());
    assert!(few < more, "the coverage total runs only when selected: {few} without, {more} with");
}

const BY_MONTH: &str = "query ByMonth($u: UUID!) { aggregate: coverage(indicator: \"VITAMIN_A\", orgUnitId: $u,
    period: \"LAST_12_MONTHS\", groupBy: [MONTH]) { rows { period numerator denominator } } }";
const BY_MONTH_WITH_TOTAL: &str = "query ByMonthWithTotal($u: UUID!) { aggregate: coverage(indicator: \"VITAMIN_A\",
    orgUnitId: $u, period: \"LAST_12_MONTHS\", groupBy: [MONTH]) { rows { period numerator denominator }
    ... on Coverage { total { numerator denominator } } } }";
