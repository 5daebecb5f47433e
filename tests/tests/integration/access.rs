//! Access control, per role, through the API: scopes, de-identification, tokens, sessions,
//! throttling, consent, erasure, audit and the GraphQL limits.

use crate::fixtures::{days_ago, household, person, unit};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cbss_tests::{PASSWORD, TestApp};
use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};

const COUNT: &str = "query($u: UUID) { people(filter: { orgUnitId: $u }) { totalCount } }";

async fn total(app: &TestApp, token: &str, unit: Option<&str>) -> i64 {
    app.ok_as(token, COUNT, json!({ "u": unit })).await["people"]["totalCount"].as_i64().unwrap()
}

/// A person (id) living in the unit with this code, as the administrator sees it.
async fn someone_in(app: &TestApp, code: &str) -> String {
    let u = unit(app, code).await;
    let d = app
        .ok(
            "query($u: UUID) { people(filter: { orgUnitId: $u }, first: 1) { edges { node { id } } } }",
            json!({ "u": u }),
        )
        .await;
    d["people"]["edges"][0]["node"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_anonymous_caller_reaches_only_login() {
    let app = TestApp::spawn().await;
    let (code, _) = app.err_as(None, "{ people { totalCount } }", json!({})).await;
    assert_eq!(code, "UNAUTHENTICATED");
    let (code, _) = app.err_as(None, "{ orgUnitByCode(code: \"85\") { id } }", json!({})).await;
    assert_eq!(code, "UNAUTHENTICATED");
    let body = app.gql_as(None, "{ __schema { queryType { name } } }", json!({})).await;
    assert!(body["data"]["__schema"].is_null(), "introspection needs a token: {body:#}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body:#}");
    let (code, _) = app.err_as(Some("not.a.token"), "{ me { email } }", json!({})).await;
    assert_eq!(code, "UNAUTHENTICATED");
    let d = app.ok("{ me { email roles } }", json!({})).await;
    assert_eq!(d["me"], json!({ "email": "admin@test.mn", "roles": ["ADMIN"] }));
}

#[tokio::test]
async fn a_partner_ngo_sees_only_uvs_by_list_filter_id_nested_and_count() {
    let app = TestApp::spawn().await;
    app.seed_demo(900).await;
    let ngo = app.login("ngo.uvs@demo.mn").await;
    let uvs = unit(&app, "85").await;
    let in_uvs = total(&app, &app.admin_token, Some(&uvs)).await;
    let everyone = total(&app, &app.admin_token, None).await;
    assert!(in_uvs > 0 && in_uvs < everyone);
    assert_eq!(total(&app, &ngo, None).await, in_uvs, "the partner counts only Uvs");
    let bzd = unit(&app, "11-BZD").await;
    assert_eq!(total(&app, &ngo, Some(&bzd)).await, 0, "a filter outside the scope finds nobody");
    let outsider = someone_in(&app, "11-BZD-01").await;
    let d = app.ok_as(&ngo, "query($id: UUID!) { person(id: $id) { id } }", json!({ "id": outsider })).await;
    assert!(d["person"].is_null(), "an out-of-scope id reads as if it did not exist");
    let page = app
        .ok_as(
            &ngo,
            "{ households(first: 100) { edges { node { orgUnit { ancestors { code } } members { orgUnit { ancestors { code } } serviceRecords { person { id } } } } } } }",
            json!({}),
        )
        .await;
    for e in page["households"]["edges"].as_array().unwrap() {
        assert!(e["node"]["orgUnit"]["ancestors"].as_array().unwrap().iter().any(|a| a["code"] == "85"));
        for m in e["node"]["members"].as_array().unwrap() {
            assert!(m["orgUnit"]["ancestors"].as_array().unwrap().iter().any(|a| a["code"] == "85"));
        }
    }
}

#[tokio::test]
async fn a_field_worker_writes_only_in_their_soum_and_a_refused_write_changes_nothing() {
    let app = TestApp::spawn().await;
    app.seed_demo(600).await;
    let worker = app.login("field.zavkhan@demo.mn").await;
    let zavkhan = unit(&app, "85-ZAVKHAN").await;
    let khoroo = unit(&app, "11-BZD-01").await;
    assert_eq!(total(&app, &worker, None).await, total(&app, &app.admin_token, Some(&zavkhan)).await);
    let create = "mutation($u: UUID!) { createHousehold(input: { orgUnitId: $u, dwelling: GER, consent: { givenBy: \"Head\", purpose: \"CBSS\" } }) { id } }";
    let households = app.count("household").await;
    let (code, _) = app.err_as(Some(&worker), create, json!({ "u": khoroo })).await;
    assert_eq!(code, "FORBIDDEN");
    assert_eq!(app.count("household").await, households);
    let bag = unit(&app, "85-ZAVKHAN-B1").await;
    let d = app.ok_as(&worker, create, json!({ "u": bag })).await;
    assert!(d["createHousehold"]["id"].is_string());
    // A household outside the scope is unknown to the worker, not merely forbidden.
    let outside_household = household(&app, &khoroo).await;
    let register = "mutation($h: UUID!) { registerPerson(input: { householdId: $h, givenName: \"Бат\", familyName: \"Дорж\", sex: MALE, birthDate: \"2020-01-01\" }) { id } }";
    let people = app.count("person").await;
    let (code, err) = app.err_as(Some(&worker), register, json!({ "h": outside_household })).await;
    assert_eq!(
        (code.as_str(), err["extensions"]["fields"][0]["path"].as_str()),
        ("VALIDATION", Some("input.householdId"))
    );
    assert_eq!(app.count("person").await, people);
}

#[tokio::test]
async fn a_researcher_sees_everyone_de_identified_an_analyst_counts_only_and_neither_writes() {
    let app = TestApp::spawn().await;
    app.seed_demo(300).await;
    let analyst = app.login("analyst@demo.mn").await;
    let researcher = app.login("researcher@demo.mn").await;
    let exact = total(&app, &app.admin_token, None).await;
    for (who, token) in [("analyst", &analyst), ("researcher", &researcher)] {
        let seen = total(&app, token, None).await;
        assert!((seen - exact).abs() <= 3 && seen >= 5, "{who}: {seen} for {exact}: the cell key keeps it within ±3");
    }
    let q = "{ people(first: 100) { edges { node { id givenName familyName registryNumber phone birthDate birthMonth ageMonths household { id address } } } } }";
    // An analyst reads tables: a list's rows could be counted exactly.
    let (code, e) = app.err_as(Some(&analyst), q, json!({})).await;
    assert_eq!((code.as_str(), &e["path"]), ("FORBIDDEN", &json!(["people", "edges"])), "{e}");
    let tables_only = analyst;
    let analyst = researcher;
    let seen = app.ok_as(&analyst, q, json!({})).await;
    let again = app.ok_as(&analyst, q, json!({})).await;
    assert_eq!(seen, again, "pseudonyms are stable");
    let real = app.ok(q, json!({})).await;
    let real_ids: Vec<&Value> = real["people"]["edges"].as_array().unwrap().iter().map(|e| &e["node"]["id"]).collect();
    let text = seen.to_string();
    for e in seen["people"]["edges"].as_array().unwrap() {
        let n = &e["node"];
        for masked in ["givenName", "familyName", "registryNumber", "phone", "birthDate"] {
            assert!(n[masked].is_null(), "{masked} must be null for a researcher: {n}");
        }
        assert!(n["household"]["address"].is_null());
        assert!(n["birthMonth"].as_str().unwrap().len() == 7 && n["ageMonths"].is_number());
        assert!(!real_ids.contains(&&n["id"]), "a researcher never sees a real id");
    }
    for e in real["people"]["edges"].as_array().unwrap() {
        for field in ["givenName", "familyName"] {
            assert!(!text.contains(e["node"][field].as_str().unwrap()), "a name leaked");
        }
    }
    let someone = real_ids[0].as_str().unwrap();
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    for token in [&analyst, &tables_only] {
        let d = app.ok_as(token, "query($id: UUID!) { person(id: $id) { id } }", json!({ "id": someone })).await;
        assert!(d["person"].is_null(), "an id from elsewhere does not lead to a record");
        let (code, _) =
            app.err_as(Some(token), "{ people(filter: { name: \"bat\" }) { totalCount } }", json!({})).await;
        assert_eq!(code, "FORBIDDEN");
        let (code, _) = app
            .err_as(Some(token), "mutation($h: UUID!) { registerPerson(input: { householdId: $h, givenName: \"A\", familyName: \"B\", sex: MALE, birthDate: \"2020-01-01\" }) { id } }", json!({ "h": h }))
            .await;
        assert_eq!(code, "FORBIDDEN");
        let (code, _) = app.err_as(Some(token), "{ auditLog { totalCount } }", json!({})).await;
        assert_eq!(code, "FORBIDDEN");
    }
}

fn claims_in(app_user: &str, session: &str, now: i64) -> Value {
    json!({ "sub": app_user, "iss": "cbss", "aud": "cbss-api", "iat": now, "nbf": now, "exp": now + 600, "jti": uuid::Uuid::new_v4(), "ver": 1, "sid": session })
}

/// The `sid` claim (the session) of an access token.
fn session_of(token: &str) -> String {
    let payload = URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap();
    serde_json::from_slice::<Value>(&payload).unwrap()["sid"].as_str().expect("a session claim").to_string()
}

#[tokio::test]
async fn forged_and_stale_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let me = app.ok("{ me { id } }", json!({})).await["me"]["id"].as_str().unwrap().to_string();
    let sid = session_of(&app.admin_token);
    let claims = |user: &str, now| claims_in(user, &sid, now);
    let now = chrono::Utc::now().timestamp();
    let at = |alg| Header { typ: Some("at+jwt".into()), ..Header::new(alg) };
    let sign = |header: &Header, c: &Value| cbss::auth::tokens::sign(&app.keys, header, c).unwrap();
    let good = sign(&at(Algorithm::HS256), &claims(&me, now));
    assert_eq!(
        app.ok_as(&good, "{ me { id } }", json!({})).await["me"]["id"],
        me.as_str(),
        "the forging itself is sound"
    );

    let mut forged = Vec::new();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#),
        URL_SAFE_NO_PAD.encode(claims(&me, now).to_string())
    );
    forged.push(("alg none", unsigned));
    forged.push(("another algorithm", sign(&at(Algorithm::HS512), &claims(&me, now))));
    let other = cbss::auth::Keys::from_secret(b"somebody else's secret, 32 bytes long");
    forged.push(("another key", cbss::auth::tokens::sign(&other, &at(Algorithm::HS256), &claims(&me, now)).unwrap()));
    let mut c = claims(&me, now - 3600);
    c["exp"] = json!(now - 1800);
    forged.push(("expired", sign(&at(Algorithm::HS256), &c)));
    let mut c = claims(&me, now);
    c["nbf"] = json!(now + 600);
    forged.push(("not yet valid", sign(&at(Algorithm::HS256), &c)));
    let mut c = claims(&me, now);
    c["aud"] = json!("someone-else");
    forged.push(("wrong audience", sign(&at(Algorithm::HS256), &c)));
    let mut c = claims(&me, now);
    c["iss"] = json!("someone-else");
    forged.push(("wrong issuer", sign(&at(Algorithm::HS256), &c)));
    let mut c = claims(&me, now);
    c.as_object_mut().unwrap().remove("aud");
    forged.push(("no audience", sign(&at(Algorithm::HS256), &c)));
    forged.push(("no type", sign(&Header::new(Algorithm::HS256), &claims(&me, now))));
    let mut c = claims(&me, now);
    c["ver"] = json!(0);
    forged.push(("an older token version", sign(&at(Algorithm::HS256), &c)));
    let mut c = claims(&me, now);
    c.as_object_mut().unwrap().remove("sid");
    forged.push(("no session", sign(&at(Algorithm::HS256), &c)));
    let mut c = claims(&me, now);
    c["sid"] = json!(uuid::Uuid::now_v7());
    forged.push(("an unknown session", sign(&at(Algorithm::HS256), &c)));
    field_worker(&app, "other@test.mn").await;
    let mut c = claims(&me, now);
    c["sid"] = json!(session_of(&log_in(&app, "other@test.mn").await.access));
    forged.push(("another user's session", sign(&at(Algorithm::HS256), &c)));
    let session = app
        .gql_as(
            None,
            "mutation($p: String!) { login(email: \"admin@test.mn\", password: $p) { refreshToken } }",
            json!({ "p": PASSWORD }),
        )
        .await;
    forged.push(("a refresh token", session["data"]["login"]["refreshToken"].as_str().unwrap().to_string()));
    for (what, token) in forged {
        let (code, _) = app.err_as(Some(&token), "{ me { id } }", json!({})).await;
        assert_eq!(code, "UNAUTHENTICATED", "{what} was accepted");
    }
}

const LOGIN: &str =
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken expiresIn } }";
const REFRESH: &str = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }";

#[tokio::test]
async fn a_reused_refresh_token_revokes_its_whole_family() {
    let app = TestApp::spawn().await;
    let s = app.gql_as(None, LOGIN, json!({ "e": "admin@test.mn", "p": PASSWORD })).await;
    assert!(s["data"]["login"]["expiresIn"].as_i64().unwrap() <= 900, "access tokens live at most 15 minutes");
    let first = s["data"]["login"]["refreshToken"].as_str().unwrap().to_string();
    let r = app.gql_as(None, REFRESH, json!({ "t": first })).await;
    let second = r["data"]["refreshToken"]["refreshToken"].as_str().expect("rotated").to_string();
    let access = r["data"]["refreshToken"]["accessToken"].as_str().unwrap().to_string();
    assert!(app.ok_as(&access, "{ me { email } }", json!({})).await["me"]["email"].is_string());
    let (code, _) = app.err_as(None, REFRESH, json!({ "t": first })).await;
    assert_eq!(code, "UNAUTHENTICATED", "a spent token is refused");
    let (code, _) = app.err_as(None, REFRESH, json!({ "t": second })).await;
    assert_eq!(code, "UNAUTHENTICATED", "and its reuse revoked the newer one too");
}

#[tokio::test]
async fn a_reused_refresh_token_ends_the_sessions_access_tokens() {
    let app = TestApp::spawn().await;
    let unit = field_worker(&app, "field@test.mn").await;
    let login = log_in(&app, "field@test.mn").await;
    let other = log_in(&app, "field@test.mn").await;
    works(&app, &login.access, &unit).await;
    let r = app.gql_as(None, REFRESH, json!({ "t": login.refresh })).await;
    let renewed = r["data"]["refreshToken"]["accessToken"].as_str().expect("rotated").to_string();
    works(&app, &renewed, &unit).await;
    let (code, _) = app.err_as(None, REFRESH, json!({ "t": login.refresh })).await;
    assert_eq!(code, "UNAUTHENTICATED", "the spent token, presented again");
    refused(&app, &renewed, &unit, "the access token of the rotation").await;
    refused(&app, &login.access, &unit, "the login's first access token").await;
    works(&app, &other.access, &unit).await;
}

const ME: &str = "{ me { email } }";
const CREATE_HOUSEHOLD: &str = "mutation($u: UUID!) { createHousehold(input: { orgUnitId: $u, dwelling: GER, consent: { givenBy: \"Head\", purpose: \"CBSS\" } }) { id } }";

/// Creates a field worker who captures in a district of Ulaanbaatar; answers the district's id.
async fn field_worker(app: &TestApp, email: &str) -> String {
    let ub = unit(app, "11").await;
    let d = app.ok("query($id: UUID!) { orgUnit(id: $id) { children { id } } }", json!({ "id": ub })).await;
    let district = d["orgUnit"]["children"][0]["id"].as_str().unwrap().to_string();
    app.ok(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        json!({ "i": { "email": email, "displayName": email, "password": PASSWORD,
                       "roles": ["FIELD_WORKER"], "captureUnitIds": [district] } }),
    )
    .await;
    district
}

struct Login {
    access: String,
    refresh: String,
}

/// A new session of the user (a login).
async fn log_in(app: &TestApp, email: &str) -> Login {
    let s = app.gql_as(None, LOGIN, json!({ "e": email, "p": PASSWORD })).await;
    let token = |t: &str| s["data"]["login"][t].as_str().unwrap_or_else(|| panic!("login failed: {s:#}")).to_string();
    Login { access: token("accessToken"), refresh: token("refreshToken") }
}

/// The token reads and writes (and, used, is in the server's principal cache).
async fn works(app: &TestApp, token: &str, unit: &str) {
    app.ok_as(token, ME, json!({})).await;
    app.ok_as(token, CREATE_HOUSEHOLD, json!({ "u": unit })).await;
}

/// The token is refused UNAUTHENTICATED on a query and on a mutation, which writes nothing.
async fn refused(app: &TestApp, token: &str, unit: &str, what: &str) {
    let households = app.count("household").await;
    let (code, _) = app.err_as(Some(token), ME, json!({})).await;
    assert_eq!(code, "UNAUTHENTICATED", "{what}: a query");
    let (code, _) = app.err_as(Some(token), CREATE_HOUSEHOLD, json!({ "u": unit })).await;
    assert_eq!(code, "UNAUTHENTICATED", "{what}: createHousehold");
    assert_eq!(app.count("household").await, households, "{what}: nothing written");
}

#[tokio::test]
async fn logout_ends_its_session_at_once_and_no_other() {
    let app = TestApp::spawn().await;
    let unit = field_worker(&app, "field@test.mn").await;
    let (phone, tablet, laptop) =
        (log_in(&app, "field@test.mn").await, log_in(&app, "field@test.mn").await, log_in(&app, "field@test.mn").await);
    for s in [&phone, &tablet, &laptop] {
        works(&app, &s.access, &unit).await;
    }
    // Without a refresh token: the session of the access token sent.
    assert_eq!(app.ok_as(&phone.access, "mutation { logout }", json!({})).await["logout"], true);
    refused(&app, &phone.access, &unit, "the logged-out session's access token").await;
    let (code, _) = app.err_as(None, REFRESH, json!({ "t": phone.refresh })).await;
    assert_eq!(code, "UNAUTHENTICATED", "and its refresh token");
    works(&app, &tablet.access, &unit).await;
    // With one: that session, whichever token is sent.
    let by_refresh = "mutation($t: String) { logout(refreshToken: $t) }";
    app.ok_as(&laptop.access, by_refresh, json!({ "t": tablet.refresh })).await;
    refused(&app, &tablet.access, &unit, "the session of the refresh token given").await;
    works(&app, &laptop.access, &unit).await;
    let (code, _) = app.err_as(Some(&app.admin_token), by_refresh, json!({ "t": laptop.refresh })).await;
    assert_eq!(code, "VALIDATION", "someone else's session");
    works(&app, &laptop.access, &unit).await;
}

#[tokio::test]
async fn another_instance_refuses_an_ended_session_within_the_principal_cache_lifetime() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let unit = field_worker(&app, "field@test.mn").await;
    let (used, unused) = (log_in(&app, "field@test.mn").await, log_in(&app, "field@test.mn").await);
    // Used there, so the other instance holds its principal in its cache.
    works(&other, &used.access, &unit).await;
    app.ok_as(&unused.access, "mutation { logout }", json!({})).await;
    refused(&other, &unused.access, &unit, "a session the other instance had not cached").await;
    app.ok_as(&used.access, "mutation { logout }", json!({})).await;
    refused(&app, &used.access, &unit, "on the instance that ended it").await;
    let start = std::time::Instant::now();
    let deadline = cbss::auth::principals::TTL + std::time::Duration::from_secs(2);
    while other.gql_as(Some(&used.access), ME, json!({})).await["errors"].is_null() {
        assert!(start.elapsed() < deadline, "still accepted on the other instance after {:?}", start.elapsed());
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    refused(&other, &used.access, &unit, "on the other instance, once its cache entry lapsed").await;
}

#[tokio::test]
async fn a_deactivation_on_one_instance_is_refused_on_the_other_at_once() {
    if cbss_tests::backend() != "postgres" {
        // Instances hear of each other's changes through PostgreSQL's NOTIFY; several instances
        // on one SQLite file are not a deployment (the cache's TTL bounds it there, above).
        eprintln!("skipped on SQLite: instances tell each other through PostgreSQL's NOTIFY");
        return;
    }
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let unit = field_worker(&app, "field@test.mn").await;
    let users = app.ok("{ users { id email } }", json!({})).await;
    let id = users["users"].as_array().unwrap().iter().find(|u| u["email"] == "field@test.mn").unwrap()["id"].clone();
    let worker = log_in(&other, "field@test.mn").await;
    // Used there, so the other instance holds the worker's principal in its cache.
    works(&other, &worker.access, &unit).await;
    let update = "mutation($i: UpdateUserInput!) { updateUser(input: $i) { active } }";
    app.ok(update, json!({ "i": { "id": id, "active": false } })).await;
    // The notice arrives within milliseconds; the cache's own lifetime (10 s) is never waited for.
    let start = std::time::Instant::now();
    while other.gql_as(Some(&worker.access), ME, json!({})).await["errors"].is_null() {
        let waited = start.elapsed();
        assert!(waited < std::time::Duration::from_secs(2), "still accepted on the other instance after {waited:?}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    refused(&other, &worker.access, &unit, "a user deactivated on another instance").await;

    // A logout on one instance ends the session on the other too.
    app.ok(update, json!({ "i": { "id": id, "active": true } })).await;
    let worker = log_in(&app, "field@test.mn").await;
    works(&other, &worker.access, &unit).await;
    app.ok_as(&worker.access, "mutation { logout }", json!({})).await;
    let start = std::time::Instant::now();
    while other.gql_as(Some(&worker.access), ME, json!({})).await["errors"].is_null() {
        let waited = start.elapsed();
        assert!(waited < std::time::Duration::from_secs(2), "a logout still accepted elsewhere after {waited:?}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    refused(&other, &worker.access, &unit, "a session ended on another instance").await;
}

#[tokio::test]
async fn failed_logins_on_two_instances_count_together() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    // Six failures, three on each instance: past the five free ones only when counted together.
    for i in 0..6 {
        let on = if i % 2 == 0 { &app } else { &other };
        let (code, _) = on.err_as(None, LOGIN, json!({ "e": "admin@test.mn", "p": "a wrong guess" })).await;
        assert_eq!(code, "UNAUTHENTICATED", "guess {i}");
    }
    for on in [&app, &other] {
        let (code, e) = on.err_as(None, LOGIN, json!({ "e": "admin@test.mn", "p": PASSWORD })).await;
        assert_eq!(code, "TOO_MANY_ATTEMPTS", "{e}");
    }
}

/// A login with a wrong (or the right) password from the client address `forwarded` names.
async fn login_from(app: &TestApp, forwarded: &str, password: &str) -> String {
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("x-forwarded-for", forwarded)
        .json(&json!({ "query": LOGIN, "variables": { "e": "admin@test.mn", "p": password } }))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("OK").to_string()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_throttled_on_its_own_and_a_forged_header_dodges_nothing() {
    let proxied = TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    for _ in 0..6 {
        assert_eq!(login_from(&proxied, "203.0.113.7", "a wrong guess").await, "UNAUTHENTICATED");
    }
    assert_eq!(login_from(&proxied, "203.0.113.7", PASSWORD).await, "TOO_MANY_ATTEMPTS", "the guesser waits");
    assert_eq!(login_from(&proxied, "203.0.113.8", PASSWORD).await, "OK", "another client behind the proxy does not");
    // Without CBSS_TRUSTED_PROXIES the header is the client's own word: ignored.
    let direct = TestApp::spawn().await;
    for i in 0..6 {
        assert_eq!(login_from(&direct, &format!("203.0.113.{i}"), "a wrong guess").await, "UNAUTHENTICATED");
    }
    assert_eq!(login_from(&direct, "203.0.113.99", PASSWORD).await, "TOO_MANY_ATTEMPTS");
}

#[tokio::test]
async fn a_password_change_ends_every_session_of_the_user() {
    let app = TestApp::spawn().await;
    let unit = field_worker(&app, "field@test.mn").await;
    let (one, two) = (log_in(&app, "field@test.mn").await, log_in(&app, "field@test.mn").await);
    works(&app, &one.access, &unit).await;
    works(&app, &two.access, &unit).await;
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";
    app.ok_as(&one.access, change, json!({ "c": PASSWORD, "n": "a new password, long enough" })).await;
    refused(&app, &one.access, &unit, "the session that changed the password").await;
    refused(&app, &two.access, &unit, "another session").await;
    for s in [&one, &two] {
        let (code, _) = app.err_as(None, REFRESH, json!({ "t": s.refresh })).await;
        assert_eq!(code, "UNAUTHENTICATED");
    }
    let s = app.gql_as(None, LOGIN, json!({ "e": "field@test.mn", "p": "a new password, long enough" })).await;
    works(&app, s["data"]["login"]["accessToken"].as_str().expect("a login with the new password"), &unit).await;
}

#[tokio::test]
async fn deactivation_and_new_rights_end_the_users_sessions() {
    let app = TestApp::spawn().await;
    let unit = field_worker(&app, "field@test.mn").await;
    let users = app.ok("{ users { id email } }", json!({})).await;
    let id = users["users"].as_array().unwrap().iter().find(|u| u["email"] == "field@test.mn").unwrap()["id"].clone();
    let update = "mutation($i: UpdateUserInput!) { updateUser(input: $i) { active } }";

    let worker = log_in(&app, "field@test.mn").await;
    works(&app, &worker.access, &unit).await;
    app.ok(update, json!({ "i": { "id": id, "active": false } })).await;
    refused(&app, &worker.access, &unit, "a deactivated user's token").await;
    app.ok(update, json!({ "i": { "id": id, "active": true } })).await;
    refused(&app, &worker.access, &unit, "after reactivation, the old session's token").await;
    let (code, _) = app.err_as(None, REFRESH, json!({ "t": worker.refresh })).await;
    assert_eq!(code, "UNAUTHENTICATED", "and its refresh token");

    let worker = log_in(&app, "field@test.mn").await;
    works(&app, &worker.access, &unit).await;
    app.ok(update, json!({ "i": { "id": id, "displayName": "Field worker" } })).await;
    works(&app, &worker.access, &unit).await;
    app.ok(update, json!({ "i": { "id": id, "captureUnitIds": [unit], "viewUnitIds": [] } })).await;
    refused(&app, &worker.access, &unit, "after a change of scopes").await;
}

#[tokio::test]
async fn password_guessing_is_slowed_and_unknown_accounts_answer_alike() {
    let app = TestApp::spawn().await;
    let (unknown, e1) = app.err_as(None, LOGIN, json!({ "e": "nobody@test.mn", "p": "wrong password!" })).await;
    let (wrong, e2) = app.err_as(None, LOGIN, json!({ "e": "admin@test.mn", "p": "wrong password!" })).await;
    assert_eq!(
        (unknown.as_str(), e1["message"].clone()),
        (wrong.as_str(), e2["message"].clone()),
        "no hint which one exists"
    );
    for _ in 0..5 {
        app.err_as(None, LOGIN, json!({ "e": "admin@test.mn", "p": "still wrong!!" })).await;
    }
    let (code, err) = app.err_as(None, LOGIN, json!({ "e": "admin@test.mn", "p": PASSWORD })).await;
    assert_eq!(code, "TOO_MANY_ATTEMPTS", "even the right password waits once the guessing started");
    assert!(err["extensions"]["retryAfter"].as_u64().unwrap() >= 1);
    let logged =
        app.ok("{ auditLog(filter: { action: \"LOGIN_FAILED\" }, first: 100) { totalCount } }", json!({})).await;
    assert!(logged["auditLog"]["totalCount"].as_i64().unwrap() >= 6, "failed attempts are logged");
}

#[tokio::test]
async fn personal_data_needs_consent_in_force() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    let d =
        app.ok("query($h: UUID!) { household(id: $h) { consents { id valid legalBasis } } }", json!({ "h": h })).await;
    let consent = d["household"]["consents"][0].clone();
    assert_eq!((consent["valid"].clone(), consent["legalBasis"].clone()), (json!(true), json!("CONSENT")));
    app.ok("mutation($id: UUID!) { withdrawConsent(id: $id) { valid } }", json!({ "id": consent["id"] })).await;
    let people = app.count("person").await;
    let register = "mutation($h: UUID!) { registerPerson(input: { householdId: $h, givenName: \"Бат\", familyName: \"Дорж\", sex: MALE, birthDate: \"2020-01-01\" }) { id } }";
    let (code, _) = app.err(register, json!({ "h": h })).await;
    assert_eq!(code, "CONSENT_REQUIRED");
    assert_eq!(app.count("person").await, people);
    app.ok(
        "mutation($h: UUID!) { recordConsent(input: { householdId: $h, givenBy: \"Head\", purpose: \"CBSS\", legalBasis: PUBLIC_TASK }) { valid } }",
        json!({ "h": h }),
    )
    .await;
    app.ok(register, json!({ "h": h })).await;
}

#[tokio::test]
async fn erasure_removes_identity_and_keeps_the_counts() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    let child = person(&app, &h, "Тэмүүлэн", "MALE", "2023-05-17").await;
    app.ok(
        "mutation($p: UUID!, $d: NaiveDate!) { recordService(input: { serviceTypeCode: \"VITAMIN_A\", personId: $p, date: $d }) { id } }",
        json!({ "p": child, "d": days_ago(3) }),
    )
    .await;
    let before = app.ok("{ people { totalCount } }", json!({})).await;
    let d = app
        .ok("mutation($p: UUID!) { erasePerson(id: $p, reason: \"Family asked for erasure\") { givenName familyName registryNumber birthDate serviceRecords { serviceType { code } } } }", json!({ "p": child }))
        .await;
    let erased = &d["erasePerson"];
    assert_eq!(erased["givenName"], "[erased]");
    assert_eq!(erased["birthDate"], "2023-05-01", "birth date coarsened to the month");
    assert_eq!(erased["serviceRecords"], json!([{ "serviceType": { "code": "VITAMIN_A" } }]));
    assert_eq!(app.ok("{ people { totalCount } }", json!({})).await, before);
    let d = app.ok("{ people(filter: { name: \"Тэмүүлэн\" }) { totalCount } }", json!({})).await;
    assert_eq!(d["people"]["totalCount"], 0, "no longer found by name");
    let log = app
        .ok(
            "query($p: UUID!) { auditLog(filter: { entityId: $p }) { edges { node { action roles changes } } } }",
            json!({ "p": child }),
        )
        .await;
    let actions: Vec<&str> =
        log["auditLog"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"CREATE") && actions.contains(&"ERASE"), "{actions:?}");
}

#[tokio::test]
async fn writes_and_reads_by_id_are_audited() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    let p = person(&app, &h, "Номин", "FEMALE", "1999-09-09").await;
    app.ok("mutation($p: UUID!) { updatePerson(input: { id: $p, phone: \"99112233\" }) { id } }", json!({ "p": p }))
        .await;
    app.ok("query($p: UUID!) { person(id: $p) { id } }", json!({ "p": p })).await;
    let log = app
        .ok("query($p: UUID!) { auditLog(filter: { entity: \"person\", entityId: $p }) { edges { node { action userId roles changes } } } }", json!({ "p": p }))
        .await;
    let entries = log["auditLog"]["edges"].as_array().unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e["node"]["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["CREATE", "UPDATE", "READ"]);
    let update = &entries[1]["node"];
    assert_eq!(update["roles"], "ADMIN");
    let changes: Value = serde_json::from_str(update["changes"].as_str().unwrap()).unwrap();
    assert_eq!(changes["phone"], json!([null, "99112233"]));
    assert!(changes.get("given_name").is_none(), "only changed fields");
}

#[tokio::test]
async fn hostile_queries_hit_the_complexity_and_alias_limits() {
    let app = TestApp::spawn().await;
    let costly = "{ people(first: 100) { edges { node { household { members { serviceRecords { serviceType { code } orgUnit { children { code } } } } } } } } }";
    let body = app.gql(costly, json!({})).await;
    assert!(body["errors"][0]["message"].as_str().unwrap_or_default().to_lowercase().contains("complex"), "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "{body:#}");
    let aliases: String = (0..40).map(|i| format!("a{i}: people {{ totalCount }} ")).collect();
    let (code, _) = app.err(&format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(code, "TOO_MANY_ALIASES");
}

#[tokio::test]
async fn a_field_workers_due_list_keeps_to_their_scope() {
    let app = TestApp::spawn().await;
    app.seed_demo(500).await;
    let worker = app.login("field.zavkhan@demo.mn").await;
    let uvs = unit(&app, "85").await;
    let q = "query($u: UUID!) { dueList(orgUnitId: $u, withinDays: 30, first: 100) { totalCount edges { node { person { orgUnit { code } } } } } }";
    let mine = app.ok_as(&worker, q, json!({ "u": uvs })).await;
    let all = app.ok(q, json!({ "u": uvs })).await;
    let codes = |d: &Value| -> Vec<String> {
        d["dueList"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["person"]["orgUnit"]["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!codes(&mine).is_empty(), "the worker has children due in Zavkhan");
    assert!(codes(&mine).iter().all(|c| c.starts_with("85-ZAVKHAN")), "{:?}", codes(&mine));
    assert!(codes(&all).iter().any(|c| !c.starts_with("85-ZAVKHAN")), "Uvs has due people outside Zavkhan too");
    assert!(mine["dueList"]["totalCount"].as_i64() < all["dueList"]["totalCount"].as_i64());
}

#[tokio::test]
async fn concurrent_reads_are_each_audited_once_before_they_answer() {
    // More reads at once than the admission gate admits: the read log writes them in shared
    // batches while their requests wait without a place, and each answer leaves after its entry
    // is committed.
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    let p = person(&app, &h, "Ананд", "MALE", "2001-01-01").await;
    let reads = (0..24).map(|_| app.ok("query($p: UUID!) { person(id: $p) { id } }", json!({ "p": p })));
    for d in futures_util::future::join_all(reads).await {
        assert_eq!(d["person"]["id"], p);
    }
    let log = app
        .ok(
            "query($p: UUID!) { auditLog(filter: { entityId: $p, action: \"READ\" }, first: 50) { edges { node { id userId } } } }",
            json!({ "p": p }),
        )
        .await;
    let entries = log["auditLog"]["edges"].as_array().unwrap();
    assert_eq!(entries.len(), 24, "one entry per read, none lost or doubled");
    assert!(entries.iter().all(|e| !e["node"]["userId"].is_null()), "each names its reader");
}
