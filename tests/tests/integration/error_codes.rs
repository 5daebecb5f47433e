//! Every error of a bad request has its `extensions.code` (README, "Errors" and "GraphQL over
//! HTTP"): a battery of documents that do not parse, do not validate, break a limit or carry a
//! value that does not coerce, and of bodies that are no GraphQL request, each sent as an
//! administrator and anonymously, in both media types.

use cbss_tests::TestApp;
use serde_json::{Value, json};

/// One bad request and what it must answer.
struct Case {
    name: &'static str,
    body: Value,
    /// The first error's code.
    code: &'static str,
    /// For VALIDATION: the first problem's path in `extensions.fields`, and a word of the format
    /// its message must name.
    field: Option<(&'static str, &'static str)>,
    /// What an anonymous caller is answered instead, when the request is refused for want of a
    /// token before its mistake is found.
    anonymous: Option<&'static str>,
}

fn doc(name: &'static str, query: impl Into<String>) -> Case {
    Case { name, body: json!({ "query": query.into() }), code: "", field: None, anonymous: None }
}

fn body(name: &'static str, body: Value) -> Case {
    Case { name, body, code: "", field: None, anonymous: None }
}

impl Case {
    fn vars(mut self, variables: Value) -> Self {
        self.body["variables"] = variables;
        self
    }

    fn op(mut self, name: &str) -> Self {
        self.body["operationName"] = json!(name);
        self
    }

    fn is(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    fn anonymously(mut self, code: &'static str) -> Self {
        self.anonymous = Some(code);
        self
    }

    /// A VALIDATION error naming `path`, its message naming the format (`hint`).
    fn at(mut self, path: &'static str, hint: &'static str) -> Self {
        self.code = "VALIDATION";
        self.field = Some((path, hint));
        self
    }
}

const PARSE: &str = "GRAPHQL_PARSE_FAILED";
const INVALID: &str = "GRAPHQL_VALIDATION_FAILED";
const REGISTER: &str = "mutation($i: RegisterPersonInput!) { registerPerson(input: $i) { id } }";
const UNIT: &str = "0193a1c2-0000-7000-8000-0000000000c1";

fn person_literal(birth_date: &str) -> String {
    format!(
        "mutation {{ registerPerson(input: {{ givenName: \"Анар\", familyName: \"Дорж\", sex: MALE, birthDate: {birth_date} }}) {{ id }} }}"
    )
}

fn person_input(birth_date: &str) -> Value {
    json!({ "givenName": "Анар", "familyName": "Дорж", "sex": "MALE", "birthDate": birth_date })
}

/// A `PersonWhere` of `n` nested `not`s.
fn nested_not(n: usize) -> Value {
    let mut w = json!({ "sex": { "eq": "MALE" } });
    for _ in 0..n {
        w = json!({ "not": w });
    }
    w
}

fn nested(open: &str, n: usize, inner: &str, close: &str) -> String {
    format!("{}{inner}{}", open.repeat(n), close.repeat(n))
}

fn battery() -> Vec<Case> {
    let aliases: String = (0..31).map(|i| format!("a{i}: me {{ email }} ")).collect();
    let deep = "{ orgUnits { edges { node { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { code } } } } } } } } } } } } } }";
    let costly = "{ people(first: 100) { edges { node { household { members { serviceRecords { serviceType { code } orgUnit { children { code } } } } } } } } }";
    let unknown_hash = json!({ "persistedQuery": { "version": 1, "sha256Hash": "0".repeat(64) } });
    let mut bad_item = person_input("2026-W05");
    bad_item["householdId"] = json!(UNIT);
    let items = json!([
        { "id": UNIT, "payload": { "person": person_input("2020-01-01") } },
        { "id": "0193a1c2-0000-7000-8000-0000000000c2", "payload": { "person": bad_item } },
    ]);
    vec![
        // Syntax: GRAPHQL_PARSE_FAILED with locations.
        doc("unclosed brace", "{ me { email ").is(PARSE),
        doc("bad token", "{ me { em%ail } }").is(PARSE),
        doc("unterminated string", "{ orgUnitByCode(code: \"85) { id } }").is(PARSE),
        doc("a document of only a comment", "# nothing here").is(PARSE),
        doc("selections nested too deep", format!("{{ {} }}", nested("me { ", 3_000, "me", " }"))).is(PARSE),
        doc("a list value nested too deep", format!("{{ nodes(ids: {}) {{ id }} }}", nested("[", 3_000, "\"x\"", "]")))
            .is(PARSE),
        doc("an object value nested too deep", format!("{{ people(where: {}) {{ totalCount }} }}", nested("{ not: ", 3_000, "{}", " }")))
            .is(PARSE),
        // No document: BAD_REQUEST (README: "no query").
        doc("an empty document", "").is("BAD_REQUEST"),
        doc("a document of blanks", " \n\t ").is("BAD_REQUEST"),
        body("no query", json!({ "variables": {} })).is("BAD_REQUEST"),
        body("variables not an object", json!({ "query": "{ me { email } }", "variables": [1] })).is("BAD_REQUEST"),
        body("operationName not a string", json!({ "query": "{ me { email } }", "operationName": 5 })).is("BAD_REQUEST"),
        doc("variables nested deeper than JSON allows", "query($w: PersonWhere) { people(where: $w) { totalCount } }")
            .vars(json!({ "w": nested_not(200) }))
            .is("BAD_REQUEST"),
        // Validation: GRAPHQL_VALIDATION_FAILED.
        doc("unknown field", "{ me { nope } }").is(INVALID),
        doc("unknown argument", "{ me(nope: 1) { email } }").is(INVALID),
        doc("unknown type in a fragment", "{ me { ...F } } fragment F on Nope { email }").is(INVALID),
        doc("variable of an unknown type", "query($x: Nope) { me { email } }").is(INVALID),
        doc("fragment cycle", "{ me { ...A } } fragment A on User { email ...B } fragment B on User { email ...A }")
            .is(INVALID),
        doc("unused fragment", "{ me { email } } fragment U on User { email }").is(INVALID),
        doc("unknown fragment", "{ me { ...Nope } }").is(INVALID),
        doc("duplicate operation names", "query A { me { email } } query A { me { id } }").is(INVALID),
        doc("duplicate fragment names", "{ me { ...F } } fragment F on User { email } fragment F on User { id }")
            .is(INVALID),
        doc("operationName naming nothing", "query A { me { email } }").op("B").is(INVALID),
        doc("two anonymous operations", "{ me { email } } { me { id } }").is(INVALID),
        doc("directive on a wrong location", "query @skip(if: true) { me { email } }").is(INVALID),
        doc("unknown directive", "{ me @nope { email } }").is(INVALID),
        doc("too many directives", format!("{{ me {} {{ email }} }}", "@skip(if: false) ".repeat(11))).is(INVALID),
        doc("a subscription (the schema has none)", "subscription { me { email } }").is(INVALID),
        doc("unknown enum value", "{ serviceTypes(sector: NOPE) { code } }").is(INVALID),
        doc("unknown enum value in a variable", "query($s: Sector) { serviceTypes(sector: $s) { code } }")
            .vars(json!({ "s": "NOPE" }))
            .is(INVALID),
        doc("input object with an unknown field", person_literal("\"2020-01-01\", nope: 1")).is(INVALID),
        doc("input variable with an unknown field", REGISTER)
            .vars(json!({ "i": { "nope": 1, "givenName": "Анар", "familyName": "Дорж", "sex": "MALE", "birthDate": "2020-01-01" } }))
            .is(INVALID),
        doc("input object without a required field", "mutation { registerPerson(input: { givenName: \"Анар\" }) { id } }")
            .is(INVALID),
        doc("null for a non-null argument", "{ person(id: null) { id } }").is(INVALID),
        doc("null variable for a non-null argument", "query($id: UUID!) { person(id: $id) { id } }")
            .vars(json!({ "id": null }))
            .is(INVALID),
        doc("a string for an Int", "{ people(first: \"10\") { totalCount } }").is(INVALID),
        doc("a string variable for an Int", "query($f: Int) { people(first: $f) { totalCount } }")
            .vars(json!({ "f": "ten" }))
            .is(INVALID),
        doc("an Int out of range", "{ people(first: 99999999999) { totalCount } }").is(INVALID),
        doc("an Int variable out of range", "query($f: Int) { people(first: $f) { totalCount } }")
            .vars(json!({ "f": 99_999_999_999u64 }))
            .is(INVALID),
        doc("a String variable in an Int position", "query($f: String) { people(first: $f) { totalCount } }")
            .vars(json!({ "f": "10" }))
            .is(INVALID),
        doc("an undefined variable", "{ people(first: $nope) { totalCount } }").is(INVALID),
        doc("a duplicate argument", "{ people(first: 1, first: 2) { totalCount } }").is(INVALID),
        doc("a duplicate variable", "query($a: Int, $a: Int) { people(first: $a) { totalCount } }").is(INVALID),
        doc("a selection on a scalar", "{ me { email { x } } }").is(INVALID),
        doc("no selection on an object", "{ me }").is(INVALID),
        doc("a fragment on an impossible type", "{ me { ... on Person { id } } }").is(INVALID),
        // Limits.
        doc("too deep", deep).is("QUERY_TOO_DEEP"),
        doc("too complex", costly).is("QUERY_TOO_COMPLEX"),
        doc("too many aliases", format!("{{ {aliases} }}")).is("TOO_MANY_ALIASES"),
        // Persisted queries.
        body("an unknown persisted query", json!({ "extensions": unknown_hash })).is("PERSISTED_QUERY_NOT_FOUND"),
        body("a persisted query of another hash", json!({ "query": "{ me { email } }", "extensions": unknown_hash }))
            .is("PERSISTED_QUERY_HASH_MISMATCH"),
        // Values that do not coerce: VALIDATION at the input's path, with the format.
        doc("an Int literal for a UUID", "{ person(id: 5) { id } }").at("id", "UUID"),
        doc("a bad date in an input literal", person_literal("\"2026-W05\"")).at("input.birthDate", "YYYY-MM-DD"),
        doc("a bad NaiveDate variable", person_literal("$d").replace("mutation {", "mutation($d: NaiveDate!) {"))
            .vars(json!({ "d": "2026-W05" }))
            .at("input.birthDate", "YYYY-MM-DD"),
        doc("a bad date in an input variable", REGISTER)
            .vars(json!({ "i": person_input("2026-W05") }))
            .at("input.birthDate", "YYYY-MM-DD"),
        doc("a bad UUID variable", "query($p: UUID!) { person(id: $p) { id } }")
            .vars(json!({ "p": "not-a-uuid" }))
            .at("id", "UUID"),
        doc("a bad DateTime in an input object", "query($t: DateTime) { auditLog(filter: { from: $t }) { totalCount } }")
            .vars(json!({ "t": "yesterday" }))
            .at("filter.from", "RFC 3339"),
        doc("a bad UUID in a list", format!("mutation {{ createPartner(name: \"N\", kind: NGO, unitIds: [\"{UNIT}\", \"x\"]) {{ id }} }}"))
            .at("unitIds.1", "UUID"),
        doc("a bad date deep in a sync batch", "mutation($items: [SyncItemInput!]!) { syncPush(items: $items) { committed } }")
            .vars(json!({ "items": items }))
            .at("items.1.payload.person.birthDate", "YYYY-MM-DD"),
        doc("a missing required variable", "query($id: UUID!) { person(id: $id) { id } }").at("id", "$id"),
        doc("a filter nested too deep", "query($w: PersonWhere) { people(where: $w) { totalCount } }")
            .vars(json!({ "w": nested_not(100) }))
            .at("where.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not", "32")
            .anonymously("UNAUTHENTICATED"),
    ]
}

/// What a request answers: status, body.
async fn send(app: &TestApp, token: Option<&str>, accept: &str, body: &Value) -> (u16, Value) {
    let mut req = app.client.post(format!("{}/graphql", app.base)).header("accept", accept).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.expect("a JSON body"))
}

/// Words of a server's insides that no error message may show.
const INSIDES: [&str; 8] = ["sqlx", "sea_orm", "sqlite", "postgres", "panicked", ".rs:", "DbErr", "thread"];

#[tokio::test]
async fn every_error_of_a_bad_request_has_its_code() {
    let app = TestApp::spawn().await;
    let mut wrong = Vec::new();
    for c in battery() {
        for (who, token) in [("admin", Some(app.admin_token.as_str())), ("anonymous", None)] {
            for accept in ["application/json", "application/graphql-response+json"] {
                let (status, answer) = send(&app, token, accept, &c.body).await;
                let (code, field) = match c.anonymous {
                    Some(code) if token.is_none() => (code, None),
                    _ => (c.code, c.field),
                };
                let mut problems = Vec::new();
                let errors = answer["errors"].as_array().cloned().unwrap_or_default();
                if errors.is_empty() {
                    problems.push("no errors".to_string());
                }
                for e in &errors {
                    let code = e["extensions"]["code"].as_str().unwrap_or("");
                    if code.is_empty() || code == "INTERNAL" {
                        problems.push(format!("an error coded {code:?}"));
                    }
                    let message = e["message"].as_str().unwrap_or("").to_lowercase();
                    if let Some(word) = INSIDES.iter().find(|w| message.contains(&w.to_lowercase())) {
                        problems.push(format!("a message showing {word:?}"));
                    }
                }
                let first = &answer["errors"][0];
                if first["extensions"]["code"] != code {
                    problems.push(format!("code {} instead of {code}", first["extensions"]["code"]));
                }
                if code == PARSE && first["locations"][0]["line"].as_u64().is_none_or(|l| l < 1) {
                    problems.push("a parse error without locations".into());
                }
                if let Some((path, hint)) = field {
                    let field = &first["extensions"]["fields"][0];
                    if field["path"] != path || !field["message"].as_str().unwrap_or("").contains(hint) {
                        problems.push(format!("fields[0] {field} instead of {path} ({hint})"));
                    }
                    if answer.get("data").is_none() {
                        problems.push("a field error without data".into());
                    }
                } else if code != "UNAUTHENTICATED" && answer.get("data").is_some() {
                    problems.push("a request error with data".into());
                }
                // Field errors answer 200; request errors 400 with graphql-response+json (404 for
                // an unknown persisted query), 200 with json; transport errors 400 in both.
                let expected = match (code, accept) {
                    ("BAD_REQUEST", _) => 400,
                    ("VALIDATION" | "UNAUTHENTICATED", _) | (_, "application/json") => 200,
                    ("PERSISTED_QUERY_NOT_FOUND", _) => 404,
                    _ => 400,
                };
                if status != expected {
                    problems.push(format!("status {status} instead of {expected}"));
                }
                if !problems.is_empty() {
                    wrong.push(format!("{} ({who}, {accept}): {}\n  {answer}", c.name, problems.join("; ")));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} answers are wrong:\n{}", wrong.len(), wrong.join("\n"));
    // The battery changed nothing: no person was registered, no partner created.
    assert_eq!(app.count("person").await, 0);
    assert_eq!(app.count("partner").await, 0);
}
