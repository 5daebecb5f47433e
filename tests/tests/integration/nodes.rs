//! Relay's `node` / `nodes`: any record by its id, under the same scope, de-identification and
//! audit as the by-id field of its type.

use crate::fixtures::{household, person, unit};
use cbss_tests::TestApp;
use serde_json::{Value, json};

const NODE: &str =
    "query Refetch($id: ID!) { node(id: $id) { __typename id ...on Person { givenName } ...on OrgUnit { code } } }";

async fn node(app: &TestApp, token: &str, id: &str) -> Value {
    app.ok_as(token, NODE, json!({ "id": id })).await["node"].clone()
}

#[tokio::test]
async fn node_refetches_each_type_by_its_id_in_the_callers_scope() {
    let app = TestApp::spawn().await;
    app.seed_demo(300).await;
    let admin = app.admin_token.clone();
    let khoroo = unit(&app, "11-BZD-01").await;
    let h = household(&app, &khoroo).await;
    let p = person(&app, &h, "Ананд", "MALE", "2024-01-15").await;
    let record = app
        .ok(
            "mutation($p: UUID!) { recordService(input: { personId: $p, serviceTypeCode: \"VITAMIN_A\", date: \"2026-11-01\" }) { id } }",
            json!({ "p": p }),
        )
        .await["recordService"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let project = app.ok("{ communityProjects(first: 1) { edges { node { id } } } }", json!({})).await["communityProjects"]
        ["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    for (id, typename) in [
        (&khoroo, "OrgUnit"),
        (&h, "Household"),
        (&p, "Person"),
        (&record, "ServiceRecord"),
        (&project, "CommunityProject"),
    ] {
        let n = node(&app, &admin, id).await;
        assert_eq!((n["__typename"].as_str(), n["id"].as_str()), (Some(typename), Some(id.as_str())), "{n:#}");
    }
    assert_eq!(node(&app, &admin, &p).await["givenName"], "Ананд");
    assert_eq!(node(&app, &admin, &khoroo).await["code"], "11-BZD-01");

    let many = app
        .ok(
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
            json!({ "ids": [p, "not-a-uuid", uuid::Uuid::new_v4().to_string(), h] }),
        )
        .await;
    let types: Vec<Value> = many["nodes"].as_array().unwrap().iter().map(|n| n["__typename"].clone()).collect();
    assert_eq!(types, [json!("Person"), Value::Null, Value::Null, json!("Household")], "in order, null where unknown");

    // A field worker of Zavkhan (Uvs): the Ulaanbaatar household and its person are not there.
    let worker = app.login("field.zavkhan@demo.mn").await;
    assert!(node(&app, &worker, &p).await.is_null());
    assert!(node(&app, &worker, &h).await.is_null());
    assert!(node(&app, &worker, &record).await.is_null());
    assert_eq!(node(&app, &worker, &khoroo).await["__typename"], "OrgUnit", "the tree is the same for everyone");

    // A de-identified caller resolves org units only: neither its pseudonyms nor real ids find
    // a person.
    let analyst = app.login("researcher@demo.mn").await;
    let pseudonym = app.ok_as(&analyst, "{ people(first: 1) { edges { node { id } } } }", json!({})).await["people"]["edges"][0]
        ["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(node(&app, &analyst, &pseudonym).await.is_null());
    assert!(node(&app, &analyst, &p).await.is_null());
    assert!(node(&app, &analyst, &record).await.is_null());
    assert_eq!(node(&app, &analyst, &khoroo).await["code"], "11-BZD-01");
}

#[tokio::test]
async fn a_person_refetched_by_node_is_audited_like_person_by_id() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    let p = person(&app, &h, "Болд", "MALE", "2001-01-01").await;
    node(&app, &app.admin_token, &p).await;
    let log = app
        .ok(
            "query($p: UUID!) { auditLog(filter: { entityId: $p, action: \"READ\" }) { edges { node { action } } } }",
            json!({ "p": p }),
        )
        .await;
    assert_eq!(log["auditLog"]["edges"].as_array().unwrap().len(), 1, "{log:#}");
    let (code, _) =
        app.err("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": vec![p.clone(); 101] })).await;
    assert_eq!(code, "VALIDATION");
}
