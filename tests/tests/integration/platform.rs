//! The service as a whole: health, GraphiQL offline, the checked-in schema, error shapes, limits.

use cbss_tests::TestApp;
use serde_json::json;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<serde_json::Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn graphiql_is_served_from_the_binary_without_a_cdn() {
    let app = TestApp::spawn().await;
    let page = app.client.get(format!("{}/graphql", app.base)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/graphiql/graphiql.min.js"));
    assert!(!html.contains("https://") && !html.contains("http://"), "the page must not load anything from elsewhere");
    for asset in ["graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js"] {
        assert_eq!(app.get(&format!("/graphiql/{asset}")).await.status(), 200, "{asset}");
    }
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(format!("{}/graphiql/graphiql.min.js", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));
}

#[test]
fn schema_graphql_equals_the_served_schema() {
    let checked_in = include_str!("../../../schema.graphql");
    let served = cbss::graphql::sdl();
    assert!(checked_in == served, "schema.graphql is stale: run `cargo run -q -- schema > schema.graphql`");
}

/// Every type, field, argument, input field and enum value of the served schema has a
/// description (async-graphql's introspection types and the built-in scalars aside): write a doc
/// comment, or `#[graphql(desc = "…")]` on a resolver's argument.
#[test]
fn every_schema_item_has_a_description() {
    use async_graphql::Positioned;
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let sdl = cbss::graphql::schema().sdl();
    let doc = async_graphql::parser::parse_schema(&sdl).expect("the served SDL parses");
    let described = |d: &Option<Positioned<String>>| d.as_ref().is_some_and(|d| !d.node.trim().is_empty());
    let mut missing = Vec::new();
    let mut items = 0;
    let mut check = |what: String, description: &Option<Positioned<String>>| {
        items += 1;
        if !described(description) {
            missing.push(what);
        }
    };
    for definition in &doc.definitions {
        let TypeSystemDefinition::Type(t) = definition else { continue };
        let t = &t.node;
        let name = t.name.node.as_str();
        if name.starts_with("__") || ["String", "Int", "Float", "Boolean", "ID"].contains(&name) {
            continue;
        }
        check(format!("type {name}"), &t.description);
        let fields = match &t.kind {
            TypeKind::Object(o) => &o.fields[..],
            TypeKind::Interface(i) => &i.fields[..],
            _ => &[],
        };
        for field in fields.iter().map(|f| &f.node) {
            let field_name = field.name.node.as_str();
            check(format!("field {name}.{field_name}"), &field.description);
            for arg in field.arguments.iter().map(|a| &a.node) {
                check(format!("argument {name}.{field_name}({})", arg.name.node), &arg.description);
            }
        }
        match &t.kind {
            TypeKind::InputObject(i) => {
                for field in i.fields.iter().map(|f| &f.node) {
                    check(format!("input field {name}.{}", field.name.node), &field.description);
                }
            }
            TypeKind::Enum(e) => {
                for value in e.values.iter().map(|v| &v.node) {
                    check(format!("enum value {name}.{}", value.value.node), &value.description);
                }
            }
            _ => {}
        }
    }
    assert!(items > 1000, "the schema's items were not all found ({items}): has the SDL's shape changed?");
    assert!(
        missing.is_empty(),
        "{} of {items} schema items have no description:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[tokio::test]
async fn the_served_schema_is_the_one_introspection_shows() {
    let app = TestApp::spawn().await;
    let d = app.ok("{ __schema { queryType { name } mutationType { name } } }", json!({})).await;
    assert_eq!(d["__schema"]["queryType"]["name"], "Query");
    assert_eq!(d["__schema"]["mutationType"]["name"], "Mutation");
}

#[tokio::test]
async fn a_non_json_post_is_refused() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("query=%7B__typename%7D")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
}

#[tokio::test]
async fn a_page_larger_than_the_maximum_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let (code, err) = app.err("{ people(first: 101) { totalCount } }", json!({})).await;
    assert_eq!(code, "VALIDATION");
    assert_eq!(err["extensions"]["fields"][0]["path"], "first");
}

#[tokio::test]
async fn a_cursor_the_service_did_not_give_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let (code, _) = app.err("{ households(after: \"not-a-cursor\") { totalCount } }", json!({})).await;
    assert_eq!(code, "VALIDATION");
}

#[tokio::test]
async fn a_deeply_nested_query_is_refused() {
    let app = TestApp::spawn().await;
    let deep = "{ orgUnits { edges { node { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { code } } } } } } } } } } } } } }";
    let body = app.gql(deep, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default().to_lowercase();
    assert!(message.contains("depth") || message.contains("nested"), "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "QUERY_TOO_DEEP", "{body:#}");
}

#[tokio::test]
async fn production_hides_the_schema_and_refuses_to_start_without_a_key() {
    let mut config = cbss::config::Config::for_database("sqlite::memory:");
    config.env = cbss::config::Env::Production;
    config.jwt_secret = None;
    assert!(cbss::app::build(&config).await.is_err(), "no key, no start");
    config.jwt_secret = Some("too short".into());
    assert!(cbss::app::build(&config).await.is_err(), "a short key is no key");

    let app = TestApp::spawn_with(|c| c.env = cbss::config::Env::Production).await;
    let body = app.gql("{ __schema { queryType { name } } }", json!({})).await;
    assert!(body["data"]["__schema"].is_null(), "no introspection in production: {body:#}");
    let body = app.gql("{ peple { totalCount } }", json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(!message.contains("Did you mean"), "no field suggestions in production: {message}");
    let dev = TestApp::spawn().await;
    let body = dev.gql("{ peple { totalCount } }", json!({})).await;
    assert!(body["errors"][0]["message"].as_str().unwrap_or_default().contains("Did you mean"), "{body:#}");
}

#[tokio::test]
async fn browsers_may_call_only_from_the_configured_origins() {
    let app = TestApp::spawn_with(|c| c.cors_origins = vec!["https://ngo.example.mn".into()]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
            .send()
    };
    let allowed = preflight("https://ngo.example.mn").await.unwrap();
    assert_eq!(allowed.headers().get("access-control-allow-origin").unwrap(), "https://ngo.example.mn");
    let other = preflight("https://evil.example.com").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

/// A request whose client gives up still runs to its end on the server. Dropped halfway, a
/// request's future can leave its pooled connection inside an open transaction (sqlx 0.9 does
/// not roll back a BEGIN cancelled while it waits for the answer), so the server never drops one.
#[tokio::test]
async fn a_request_the_client_abandons_still_runs_to_its_end() {
    let app = TestApp::spawn().await;
    let before = app.count("refresh_token").await;
    // Argon2 makes a login take tens of milliseconds: the client leaves long before the answer.
    let impatient = reqwest::Client::builder().timeout(std::time::Duration::from_millis(5)).build().unwrap();
    let login = json!({
        "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
        "variables": { "e": "admin@test.mn", "p": cbss_tests::PASSWORD },
    });
    let sent = impatient.post(format!("{}/graphql", app.base)).json(&login).send().await;
    assert!(sent.is_err(), "the client was to give up before the answer");
    for _ in 0..200 {
        if app.count("refresh_token").await > before {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the abandoned login never finished: its session was not stored");
}

/// `cbss healthcheck`, the container's health check, asks `/readyz` itself.
#[tokio::test]
async fn the_healthcheck_command_says_whether_the_server_is_ready() {
    let app = TestApp::spawn().await;
    let addr: std::net::SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    tokio::task::spawn_blocking(move || cbss::cli::ready(addr)).await.unwrap().expect("ready");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    assert!(tokio::task::spawn_blocking(move || cbss::cli::ready(closed)).await.unwrap().is_err(), "nothing listens");
}

#[tokio::test]
async fn instances_starting_together_migrate_one_after_the_other() {
    let Some(server) = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        // Several instances on one database are a PostgreSQL deployment.
        eprintln!("skipped on SQLite: instances share a database only on PostgreSQL");
        return;
    };
    use sea_orm::{ConnectionTrait, Database};
    let server = server.trim_end_matches('/').to_string();
    let name = format!("cbss_t_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(format!("{server}/postgres")).await.unwrap();
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
    let config = cbss::config::Config::for_database(format!("{server}/{name}"));
    // A fresh database, two instances: both start, neither trips over the other's migration.
    let (a, b) = tokio::join!(cbss::app::build(&config), cbss::app::build(&config));
    let (a, b) = (a.expect("the first instance starts"), b.expect("the second instance starts"));
    let applied = a.db.query_one_raw(sea_orm::Statement::from_string(
        sea_orm::DbBackend::Postgres,
        "SELECT count(*) FROM seaql_migrations",
    ));
    let applied: i64 = applied.await.unwrap().unwrap().try_get_by_index(0).unwrap();
    use migration::MigratorTrait;
    assert_eq!(applied, migration::Migrator::migrations().len() as i64, "every migration applied");
    a.db.close().await.unwrap();
    b.db.close().await.unwrap();
    admin.execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await.unwrap();
}
