//! Households and people: registration, validation, updates, search, life stages, pagination.

use crate::fixtures::{days_ago, household, ids, months_ago, person, unit};
use cbss_tests::TestApp;
use chrono::Datelike;
use serde_json::json;

const REGISTER: &str = "mutation($i: RegisterPersonInput!) { registerPerson(input: $i) { id version lifeStage { code } household { id } orgUnit { code } } }";

#[tokio::test]
async fn a_household_with_a_mother_and_child_reads_back_nested() {
    let app = TestApp::spawn().await;
    let bzd = unit(&app, "11-BZD").await;
    let h = household(&app, &bzd).await;
    let mother = person(&app, &h, "Оюунчимэг", "FEMALE", "1994-03-02").await;
    let child = person(&app, &h, "Тэмүүлэн", "MALE", &months_ago(14)).await;
    let d = app
        .ok(
            "query($id: UUID!) { household(id: $id) { dwelling isHerder orgUnit { code } members { id lifeStage { code } ageMonths } } }",
            json!({ "id": h }),
        )
        .await;
    let members = d["household"]["members"].as_array().unwrap();
    assert_eq!(d["household"]["orgUnit"]["code"], "11-BZD");
    assert_eq!(members.len(), 2);
    let stage = |id: &str| members.iter().find(|m| m["id"] == id).unwrap()["lifeStage"].clone();
    assert_eq!(stage(&child)["code"], "EARLY_CHILDHOOD");
    assert!(stage(&mother).is_null(), "an adult without an open pregnancy has no stage");
}

#[tokio::test]
async fn a_birth_date_in_the_future_is_refused_with_its_field_path_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    let before = app.count("person").await;
    let (code, err) = app
        .err(REGISTER, json!({ "i": { "householdId": h, "givenName": "Бат", "familyName": "Дорж", "sex": "MALE", "birthDate": "2999-01-01", "phone": "123" } }))
        .await;
    assert_eq!(code, "VALIDATION");
    let paths: Vec<&str> =
        err["extensions"]["fields"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["input.birthDate", "input.phone"], "every problem is reported at once");
    assert_eq!(app.count("person").await, before);
}

#[tokio::test]
async fn an_unknown_household_or_an_aimag_as_home_is_refused() {
    let app = TestApp::spawn().await;
    let (code, err) = app
        .err(REGISTER, json!({ "i": { "householdId": uuid::Uuid::new_v4(), "givenName": "Бат", "familyName": "Дорж", "sex": "MALE", "birthDate": "2020-01-01" } }))
        .await;
    assert_eq!(
        (code.as_str(), err["extensions"]["fields"][0]["path"].as_str()),
        ("VALIDATION", Some("input.householdId"))
    );
    let uvs = unit(&app, "85").await;
    let (code, err) = app
        .err(
            "mutation($u: UUID!) { createHousehold(input: { orgUnitId: $u, dwelling: GER, consent: { givenBy: \"A\", purpose: \"B\" } }) { id } }",
            json!({ "u": uvs }),
        )
        .await;
    assert_eq!(
        (code.as_str(), err["extensions"]["fields"][0]["path"].as_str()),
        ("VALIDATION", Some("input.orgUnitId"))
    );
    assert_eq!(app.count("household").await, 0);
}

#[tokio::test]
async fn a_registry_number_belongs_to_one_person() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-SKHD").await).await;
    let input = |name: &str| json!({ "i": { "householdId": h, "givenName": name, "familyName": "Бат", "sex": "FEMALE", "birthDate": "1990-05-05", "registryNumber": "уб90050512" } });
    let first = app.ok(REGISTER, input("Номин")).await;
    assert!(first["registerPerson"]["id"].is_string());
    let (code, _) = app.err(REGISTER, input("Хулан")).await;
    assert_eq!(code, "CONFLICT");
    let (code, _) = app
        .err(REGISTER, json!({ "i": { "householdId": h, "givenName": "A", "familyName": "B", "sex": "FEMALE", "birthDate": "1990-05-05", "registryNumber": "XX12" } }))
        .await;
    assert_eq!(code, "VALIDATION");
}

#[tokio::test]
async fn an_update_from_a_stale_version_is_a_conflict_and_the_first_edit_survives() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    let p = person(&app, &h, "Болд", "MALE", "2010-02-02").await;
    let update = "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { givenName version } }";
    let d = app.ok(update, json!({ "i": { "id": p, "expectedVersion": 1, "givenName": "Болдбаатар" } })).await;
    assert_eq!(d["updatePerson"]["version"], 2);
    let (code, _) = app.err(update, json!({ "i": { "id": p, "expectedVersion": 1, "givenName": "Other" } })).await;
    assert_eq!(code, "CONFLICT");
    let d = app.ok("query($id: UUID!) { person(id: $id) { givenName version } }", json!({ "id": p })).await;
    assert_eq!(d["person"], json!({ "givenName": "Болдбаатар", "version": 2 }));
}

#[tokio::test]
async fn moving_a_household_moves_its_members() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    person(&app, &h, "Болд", "MALE", "2012-02-02").await;
    let skhd = unit(&app, "11-SKHD").await;
    app.ok(
        "mutation($i: UpdateHouseholdInput!) { updateHousehold(input: $i) { version } }",
        json!({ "i": { "id": h, "orgUnitId": skhd, "address": "5-р гудамж" } }),
    )
    .await;
    let d = app.ok("query($u: UUID) { people(filter: { orgUnitId: $u }) { totalCount } }", json!({ "u": skhd })).await;
    assert_eq!(d["people"]["totalCount"], 1);
}

#[tokio::test]
async fn names_are_found_in_cyrillic_and_latin_in_any_case() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-CHD").await).await;
    let bat = person(&app, &h, "Батболд", "MALE", "2015-01-01").await;
    person(&app, &h, "Сарангэрэл", "FEMALE", "2016-01-01").await;
    for term in ["Батбол", "БАТ", "batbold", "Bat"] {
        let d = app
            .ok("query($n: String) { people(filter: { name: $n }) { edges { node { id } } } }", json!({ "n": term }))
            .await;
        assert_eq!(ids(&d["people"]["edges"]), vec![bat.clone()], "{term}");
    }
    let d = app.ok("{ people(filter: { name: \"100%\" }) { totalCount } }", json!({})).await;
    assert_eq!(d["people"]["totalCount"], 0, "LIKE wildcards in a term are literal");
}

#[tokio::test]
async fn life_stage_filters_agree_with_the_computed_stage_at_the_boundaries() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-SBD").await).await;
    let newborn = person(&app, &h, "Нярай", "FEMALE", &days_ago(27)).await;
    let infant = person(&app, &h, "Хөхүүл", "FEMALE", &days_ago(28)).await;
    // The oldest child not yet 12 months: born the day after 12 months back, or, when today is a
    // month's last day, on the first of the month after (every birth of that month a year back,
    // 29 February too, has then completed its 12 months: a birth on a later day than a short
    // month has completes its month on that month's last day).
    let today = cbss::store::today();
    let (year_back, tomorrow) = (today - chrono::Months::new(12), today + chrono::Days::new(1));
    let under_12m = if tomorrow.day() == 1 {
        (year_back + chrono::Months::new(1)).with_day(1).unwrap()
    } else {
        year_back + chrono::Days::new(1)
    };
    let infant_11m = person(&app, &h, "Арван", "MALE", &under_12m.to_string()).await;
    let toddler = person(&app, &h, "Нэг", "MALE", &months_ago(12)).await;
    let q = "query($s: String) { people(filter: { lifeStage: $s }, first: 100) { edges { node { id lifeStage { code } } } } }";
    for (stage, expected) in
        [("NEWBORN", vec![&newborn]), ("INFANT", vec![&infant, &infant_11m]), ("EARLY_CHILDHOOD", vec![&toddler])]
    {
        let d = app.ok(q, json!({ "s": stage })).await;
        let mut got = ids(&d["people"]["edges"]);
        got.sort();
        let mut want: Vec<String> = expected.into_iter().cloned().collect();
        want.sort();
        assert_eq!(got, want, "{stage}");
        for e in d["people"]["edges"].as_array().unwrap() {
            assert_eq!(e["node"]["lifeStage"]["code"], stage);
        }
    }
    let (code, _) = app.err(q, json!({ "s": "TEENAGER" })).await;
    assert_eq!(code, "VALIDATION");
}

#[tokio::test]
async fn pages_walk_every_person_exactly_once() {
    let app = TestApp::spawn().await;
    app.seed_demo(120).await;
    let q = "query($a: String) { people(first: 25, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }";
    let mut seen = std::collections::BTreeSet::new();
    let mut after = serde_json::Value::Null;
    let mut total;
    loop {
        let d = app.ok(q, json!({ "a": after })).await;
        total = d["people"]["totalCount"].as_i64().unwrap();
        for id in ids(&d["people"]["edges"]) {
            assert!(seen.insert(id), "a person came twice");
        }
        if !d["people"]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = d["people"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len() as i64, total);
    assert_eq!(total, app.count("person").await);
}

#[tokio::test]
async fn an_unknown_id_reads_as_null() {
    let app = TestApp::spawn().await;
    let d = app
        .ok(
            "query($id: UUID!) { person(id: $id) { id } household(id: $id) { id } }",
            json!({ "id": uuid::Uuid::new_v4() }),
        )
        .await;
    assert!(d["person"].is_null() && d["household"].is_null());
}

/// Every node of a list (`people` or `households`) in `order` (null: the list's own order), 7
/// to a page, as `token` sees it with `filter`; checks totalCount against the walk.
async fn walk(
    app: &TestApp,
    token: String,
    list: &str,
    filter: serde_json::Value,
    order: serde_json::Value,
) -> Vec<serde_json::Value> {
    let (ty, order_ty, sex) = if list == "people" {
        ("PersonFilter", "PersonOrder", "sex")
    } else {
        ("HouseholdFilter", "HouseholdOrder", "isHerder")
    };
    let q = format!(
        "query($f: {ty}, $o: {order_ty}, $a: String) {{ {list}(filter: $f, orderBy: $o, first: 7, after: $a) {{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ id {sex} orgUnit {{ id ancestors {{ id }} }} }} }} }} }}"
    );
    let (mut nodes, mut after, mut total) = (Vec::new(), serde_json::Value::Null, 0);
    loop {
        let d = app.ok_as(&token, &q, json!({ "f": filter, "o": order, "a": after })).await;
        total = d[list]["totalCount"].as_i64().unwrap_or(total);
        nodes.extend(d[list]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()));
        if !d[list]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = d[list]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(nodes.len() as i64, total, "{list} {filter} {order}: totalCount differs from the pages");
    nodes
}

fn under(node: &serde_json::Value, unit: &str) -> bool {
    let u = &node["orgUnit"];
    u["id"] == unit || u["ancestors"].as_array().unwrap().iter().any(|a| a["id"] == unit)
}

#[tokio::test]
async fn a_units_pages_hold_exactly_its_subtrees_people_and_households_in_list_order() {
    let app = TestApp::spawn().await;
    app.seed_demo(300).await;
    let admin = app.admin_token.clone();
    let orders = [
        ("people", json!(null)),
        ("people", json!({ "field": "FAMILY_NAME", "direction": "DESC" })),
        ("people", json!({ "field": "GIVEN_NAME" })),
        ("people", json!({ "field": "BIRTH_DATE" })),
        ("households", json!(null)),
        ("households", json!({ "field": "REGISTERED_ON", "direction": "DESC" })),
    ];
    for (list, order) in orders {
        let other = if list == "people" { json!({ "sex": "FEMALE" }) } else { json!({ "isHerder": true }) };
        let (key, value) = other.as_object().unwrap().iter().next().map(|(k, v)| (k.clone(), v.clone())).unwrap();
        let walk = |token: &str, filter| walk(&app, token.to_string(), list, filter, order.clone());
        let all = walk(&admin, json!({})).await;
        // Units to page through: the root (everyone), the unit with people in the most units
        // below it other than the root (a page is merged from several units), and a leaf.
        let mut leaves: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
        for n in &all {
            let leaf = n["orgUnit"]["id"].as_str().unwrap().to_string();
            leaves.entry(leaf.clone()).or_default().insert(leaf.clone());
            for a in n["orgUnit"]["ancestors"].as_array().unwrap() {
                leaves.entry(a["id"].as_str().unwrap().to_string()).or_default().insert(leaf.clone());
            }
        }
        let root = all[0]["orgUnit"]["ancestors"][0]["id"].as_str().unwrap().to_string();
        let (wide, spread) = leaves.iter().filter(|(u, _)| **u != root).max_by_key(|(_, l)| l.len()).unwrap();
        assert!(spread.len() >= 2, "the demo data should put {list} in several units of one subtree");
        let leaf = all[0]["orgUnit"]["id"].as_str().unwrap().to_string();
        for unit in [root.as_str(), wide.as_str(), leaf.as_str()] {
            let got = walk(&admin, json!({ "orgUnitId": unit })).await;
            let want: Vec<_> = all.iter().filter(|n| under(n, unit)).cloned().collect();
            assert_eq!(got, want, "{list} of unit {unit} in order {order}");
            let got = walk(&admin, json!({ "orgUnitId": unit, key.as_str(): value })).await;
            let want: Vec<_> = all.iter().filter(|n| under(n, unit) && n[&key] == value).cloned().collect();
            assert!(!want.is_empty(), "{list} of unit {unit} with {key}");
            assert_eq!(got, want, "{list} of unit {unit} with {key} in order {order}");
        }
        // A partner scoped to Uvs asking for the whole country gets Uvs, page by page.
        let ngo = app.login("ngo.uvs@demo.mn").await;
        let uvs = unit(&app, "85").await;
        let got = walk(&ngo, json!({ "orgUnitId": root })).await;
        let want: Vec<_> = all.iter().filter(|n| under(n, &uvs)).cloned().collect();
        assert!(!want.is_empty(), "the demo data should put {list} in Uvs");
        assert_eq!(got, want, "{list} of the country as the Uvs partner sees it in order {order}");
    }
}
