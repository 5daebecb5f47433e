//! GraphQL over HTTP as standard clients speak it: the introspection documents of graphql-js,
//! graphql-core and GraphiQL, GET requests, automatic persisted queries, media types and status
//! codes, and transport errors as JSON with a code.

use cbss_tests::TestApp;
use cbss_tests::introspection::{introspection_items, sdl_items};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The introspection documents standard clients send, as they send them (tests/fixtures).
const INTROSPECTION_DOCUMENTS: [(&str, &str); 5] = [
    ("graphql-js 16", include_str!("../../fixtures/introspection/graphql-js-16.graphql")),
    ("graphql-js 17", include_str!("../../fixtures/introspection/graphql-js-17.graphql")),
    ("graphql-core 3.2", include_str!("../../fixtures/introspection/graphql-core-3.2.graphql")),
    ("graphql-core 3.3", include_str!("../../fixtures/introspection/graphql-core-3.3.graphql")),
    ("GraphiQL 3", include_str!("../../fixtures/introspection/graphiql-3.graphql")),
];

async fn post(app: &TestApp, token: Option<&str>, accept: &str, body: Value) -> (u16, String, Value) {
    let mut req = app.client.post(format!("{}/graphql", app.base)).header("accept", accept).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let content_type = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, content_type, res.json().await.expect("a JSON body"))
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn every_standard_introspection_document_answers_in_full_and_rebuilds_the_schema() {
    let app = TestApp::spawn().await;
    let schema = sdl_items(include_str!("../../../schema.graphql"));
    for (client, document) in INTROSPECTION_DOCUMENTS {
        // GraphiQL 3 asks for neither `specifiedByURL` nor `isOneOf`: what it does not ask for, it
        // cannot rebuild.
        let expected: BTreeSet<String> = schema
            .iter()
            .map(|item| {
                let mut item = item.clone();
                if !document.contains("specifiedByURL")
                    && let Some(at) = item.find(" specifiedBy(")
                {
                    let end = at + item[at..].find(')').unwrap() + 1;
                    item.replace_range(at..end, "");
                }
                if !document.contains("isOneOf") {
                    item = item.replacen(" oneOf", "", 1);
                }
                item
            })
            .collect();
        let body = json!({ "query": document, "operationName": "IntrospectionQuery" });
        let (status, _, answer) = post(&app, Some(&app.admin_token), "application/json", body.clone()).await;
        assert_eq!(status, 200, "{client}");
        assert!(answer.get("errors").is_none(), "{client}: {answer:#}");
        let rebuilt = introspection_items(&answer["data"]);
        let missing: Vec<_> = expected.difference(&rebuilt).collect();
        let extra: Vec<_> = rebuilt.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{client}: not in the answer {missing:#?}; not in schema.graphql {extra:#?}"
        );

        let (status, _, anonymous) = post(&app, None, "application/json", body).await;
        assert_eq!((status, code(&anonymous)), (200, "UNAUTHENTICATED"), "{client}: {anonymous:#}");
        assert!(anonymous.get("data").is_none(), "a request error has no data: {anonymous:#}");
        assert!(anonymous["errors"][0]["message"].as_str().unwrap().contains("login"), "says how: {anonymous:#}");
    }
}

#[tokio::test]
async fn introspection_is_bounded_by_its_lists_and_data_by_depth() {
    let app = TestApp::spawn().await;
    let fan_out = "{ __schema { types { fields { type { fields { args { name } } } } } } }";
    let (_, _, body) = post(&app, Some(&app.admin_token), "application/json", json!({ "query": fan_out })).await;
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body:#}");
    let deep = "{ orgUnits { edges { node { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { code } } } } } } } } } } } } } }";
    let (_, _, body) = post(&app, Some(&app.admin_token), "application/json", json!({ "query": deep })).await;
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body:#}");
}

/// A variable left out takes its default, in `@skip` and `@include` as in arguments (the
/// specification's CoerceVariableValues); async-graphql alone skipped such fields.
#[tokio::test]
async fn directives_read_the_defaults_of_variables_left_out() {
    let app = TestApp::spawn().await;
    let q = "query Me($show: Boolean = true, $hide: Boolean = true, $also: Boolean = false) {
        me @include(if: $show) { email roles @skip(if: $hide) }
        again: me @include(if: $also) { email } }";
    let d = app.ok(q, json!({})).await;
    assert_eq!(d, json!({ "me": { "email": "admin@test.mn" } }));
    // What is sent wins over the default.
    let d = app.ok(q, json!({ "hide": false, "also": true })).await;
    assert_eq!(d["me"]["roles"], json!(["ADMIN"]), "{d}");
    assert_eq!(d["again"]["email"], "admin@test.mn");
}

#[tokio::test]
async fn get_runs_queries_never_mutations_and_browsers_get_graphiql() {
    let app = TestApp::spawn().await;
    let get = |params: Vec<(&'static str, String)>, accept: &'static str| {
        app.client
            .get(format!("{}/graphql", app.base))
            .query(&params)
            .header("accept", accept)
            .bearer_auth(&app.admin_token)
            .send()
    };
    let q = "query Me($x: Boolean!) { me @include(if: $x) { email } }";
    let params =
        vec![("query", q.to_string()), ("variables", json!({ "x": true }).to_string()), ("operationName", "Me".into())];
    let res = get(params, "application/json").await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    assert_eq!(res.json::<Value>().await.unwrap()["data"]["me"]["email"], "admin@test.mn");

    let logout = vec![("query", "mutation { logout }".to_string())];
    let res = get(logout, "application/json").await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");
    assert_eq!(code(&res.json::<Value>().await.unwrap()), "METHOD_NOT_ALLOWED");

    let page = get(vec![], "text/html,application/xhtml+xml,*/*;q=0.8").await.unwrap();
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("/graphiql/graphiql.min.js"));

    let res = get(vec![], "application/json").await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(code(&res.json::<Value>().await.unwrap()), "BAD_REQUEST");
}

#[tokio::test]
async fn automatic_persisted_queries_register_on_the_retry_and_check_the_hash() {
    let app = TestApp::spawn().await;
    let query = "query Me { me { email roles } }";
    let hash = format!("{:x}", Sha256::digest(query));
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let token = Some(app.admin_token.as_str());

    let (status, _, miss) = post(&app, token, "application/json", json!({ "extensions": ext })).await;
    assert_eq!((status, code(&miss)), (200, "PERSISTED_QUERY_NOT_FOUND"), "{miss:#}");
    assert_eq!(miss["errors"][0]["message"], "PersistedQueryNotFound", "what Apollo's link looks for");
    let (_, _, strict_miss) =
        post(&app, token, "application/graphql-response+json", json!({ "extensions": ext })).await;
    assert_eq!(code(&strict_miss), "PERSISTED_QUERY_NOT_FOUND");

    let (_, _, registered) = post(&app, token, "application/json", json!({ "query": query, "extensions": ext })).await;
    assert_eq!(registered["data"]["me"]["email"], "admin@test.mn", "{registered:#}");
    let (_, _, hit) = post(&app, token, "application/json", json!({ "extensions": ext })).await;
    assert_eq!(hit["data"], registered["data"]);

    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[("extensions", ext.to_string())])
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["data"], registered["data"], "by hash over GET too");

    let wrong = json!({ "persistedQuery": { "version": 1, "sha256Hash": "0".repeat(64) } });
    let (_, _, refused) = post(&app, token, "application/json", json!({ "query": query, "extensions": wrong })).await;
    assert_eq!(code(&refused), "PERSISTED_QUERY_HASH_MISMATCH", "{refused:#}");
    let (_, _, unknown) = post(&app, token, "application/json", json!({ "extensions": wrong })).await;
    assert_eq!(code(&unknown), "PERSISTED_QUERY_NOT_FOUND", "a refused document was not kept");
}

#[tokio::test]
async fn graphql_response_json_answers_request_errors_with_4xx_and_json_with_200() {
    let app = TestApp::spawn().await;
    let token = Some(app.admin_token.as_str());
    let strict = "application/graphql-response+json, application/json;q=0.9";
    for (query, expected) in
        [("{ me { email ", "GRAPHQL_PARSE_FAILED"), ("{ me { nope } }", "GRAPHQL_VALIDATION_FAILED")]
    {
        let (status, content_type, body) = post(&app, token, strict, json!({ "query": query })).await;
        assert_eq!((status, code(&body)), (400, expected), "{body:#}");
        assert!(content_type.starts_with("application/graphql-response+json"));
        assert!(body.get("data").is_none(), "{body:#}");
        let (status, content_type, body) = post(&app, token, "application/json", json!({ "query": query })).await;
        assert_eq!((status, code(&body)), (200, expected), "{body:#}");
        assert!(content_type.starts_with("application/json"));
    }
    if let Some(loc) =
        post(&app, token, strict, json!({ "query": "{ me { email " })).await.2["errors"][0].get("locations")
    {
        assert!(loc[0]["line"].as_i64().is_some());
    }
    let (status, _, body) = post(&app, None, strict, json!({ "query": "{ me { email } }" })).await;
    assert_eq!((status, code(&body)), (200, "UNAUTHENTICATED"), "a field error keeps data and 200: {body:#}");
    assert!(body.get("data").is_some());
    let (status, _, body) = post(&app, Some("not.a.token"), strict, json!({ "query": "{ me { email } }" })).await;
    assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"), "{body:#}");
    let (_, _, body) =
        post(&app, token, "application/json", json!({ "query": "{ person(id: \"nope\") { id } }" })).await;
    assert_ne!(code(&body), "", "an argument that does not coerce has a code: {body:#}");
}

#[tokio::test]
async fn transport_errors_are_json_with_a_code() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 2_000).await;
    let url = format!("{}/graphql", app.base);
    let check = |res: reqwest::Response, status: u16, expected: &'static str| async move {
        assert_eq!(res.status(), status);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let body: Value = res.json().await.expect("a JSON body");
        assert_eq!(code(&body), expected, "{body:#}");
    };
    let raw = |body: &'static str| app.client.post(&url).header("content-type", "application/json").body(body).send();
    check(raw("{ not json").await.unwrap(), 400, "BAD_REQUEST").await;
    check(raw(r#"[{"query":"{ me { email } }"}]"#).await.unwrap(), 400, "BAD_REQUEST").await;
    check(raw(r#"{"query": 5}"#).await.unwrap(), 400, "BAD_REQUEST").await;
    let form = app.client.post(&url).header("content-type", "application/x-www-form-urlencoded").body("query=%7Bme%7D");
    check(form.send().await.unwrap(), 415, "UNSUPPORTED_MEDIA_TYPE").await;
    let big = json!({ "query": format!("{{ me {{ email }} }} #{}", "x".repeat(3_000)) });
    check(app.client.post(&url).json(&big).send().await.unwrap(), 413, "PAYLOAD_TOO_LARGE").await;
    check(app.client.put(&url).send().await.unwrap(), 405, "METHOD_NOT_ALLOWED").await;
    check(app.get("/no/such/page").await, 404, "NOT_FOUND").await;

    // A chunked body has no length to refuse up front: it is cut off at the limit.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    let head = "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = "x".repeat(1_000);
    for _ in 0..4 {
        let _ = stream.write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes()).await;
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
}
