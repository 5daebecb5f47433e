//! Input a registry must not hold, and the client's mistakes the database would catch: NUL and
//! other control characters, bidirectional overrides and invisible characters are refused with
//! VALIDATION at the field's path on both databases (PostgreSQL refuses a NUL itself, SQLite
//! would store it); names are stored in NFC and a word mixing alphabets is refused; duplicates in
//! lists, unknown references and values already taken answer VALIDATION or CONFLICT, never
//! INTERNAL — the same whether the store's check or the database's constraint catches them (two
//! concurrent registrations of one registry number: one CREATED, one CONFLICT).

use crate::fixtures::{days_ago, household, person, unit};
use cbss::error::{ApiError, Unique};
use cbss_tests::TestApp;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

const REGISTER: &str = "mutation($i: RegisterPersonInput!) { registerPerson(input: $i) { id givenName familyName } }";

/// What every text field refuses, one of each class.
const HOSTILE: [(&str, &str); 6] = [
    ("NUL", "Ба\u{0}т"),
    ("a control character", "Ба\u{7}т"),
    ("a C1 control character", "Ба\u{9B}т"),
    ("a right-to-left override", "\u{202E}тaБ"),
    ("a zero-width space", "Ба\u{200B}т"),
    ("a byte-order mark", "\u{FEFF}Бат"),
];

/// A request that must be refused with `code` at `path` (the first field error), writing no row
/// of `table`; returns the error.
async fn refused(
    app: &TestApp,
    token: Option<&str>,
    table: &str,
    query: &str,
    variables: Value,
    (code, path): (&str, &str),
) -> Value {
    let before = app.count(table).await;
    let (got, error) = app.err_as(token, query, variables).await;
    assert_eq!(got, code, "{error:#}");
    assert_eq!(error["extensions"]["fields"][0]["path"], path, "{error:#}");
    assert_eq!(app.count(table).await, before, "a refused request writes nothing: {error:#}");
    error
}

fn new_person(household: &str, given: &str, family: &str) -> Value {
    json!({ "householdId": household, "givenName": given, "familyName": family, "sex": "FEMALE", "birthDate": "2021-04-02" })
}

#[tokio::test]
async fn control_bidirectional_and_invisible_characters_are_refused_at_their_path() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token.clone();
    let khoroo = unit(&app, "11-BZD").await;
    let h = household(&app, &khoroo).await;
    let someone = person(&app, &h, "Сараа", "FEMALE", "2020-01-01").await;
    let update = "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { id } }";
    let create_household = "mutation($a: String!) { createHousehold(input: { orgUnitId: $u, dwelling: GER, address: $a, consent: { givenBy: \"Эцэг\", purpose: \"CBSS\" } }) { id } }";
    let create_household = create_household.replace("mutation($a: String!)", "mutation($a: String!, $u: UUID!)");
    let update_household =
        "mutation($h: UUID!, $a: String!) { updateHousehold(input: { id: $h, address: $a }) { id } }";
    let sync = "mutation($items: [SyncItemInput!]!) { syncPush(items: $items) { items { status error { code fields { path } } } } }";

    for (what, text) in HOSTILE {
        // A person's name: registered, then changed.
        let e = refused(
            &app,
            Some(&admin),
            "person",
            REGISTER,
            json!({ "i": new_person(&h, text, "Дорж") }),
            ("VALIDATION", "input.givenName"),
        )
        .await;
        let message = e["extensions"]["fields"][0]["message"].as_str().unwrap();
        assert!(message.starts_with("must not contain"), "{what}: {message}");
        refused(
            &app,
            Some(&admin),
            "person",
            update,
            json!({ "i": { "id": someone, "familyName": text } }),
            ("VALIDATION", "input.familyName"),
        )
        .await;
        // A household's address.
        refused(
            &app,
            Some(&admin),
            "household",
            &create_household,
            json!({ "a": text, "u": khoroo }),
            ("VALIDATION", "input.address"),
        )
        .await;
        refused(
            &app,
            Some(&admin),
            "household",
            update_household,
            json!({ "h": h, "a": text }),
            ("VALIDATION", "input.address"),
        )
        .await;
        // Filters: a name in `filter` and in `where`, an address in `where`.
        for (query, path) in [
            ("query($t: String!) { people(filter: { name: $t }) { totalCount } }", "filter.name"),
            ("query($t: String!) { people(where: { name: $t }) { totalCount } }", "where.name"),
            (
                "query($t: String!) { people(where: { or: [{ alive: true }, { name: $t }] }) { totalCount } }",
                "where.or.1.name",
            ),
            ("query($t: String!) { households(where: { address: $t }) { totalCount } }", "where.address"),
        ] {
            refused(&app, Some(&admin), "person", query, json!({ "t": text }), ("VALIDATION", path)).await;
        }
        // The login email: VALIDATION, not the database's error.
        let email = format!("admin{text}@test.mn");
        refused(
            &app,
            None,
            "app_user",
            "mutation($e: String!) { login(email: $e, password: \"whatever-password\") { accessToken } }",
            json!({ "e": email }),
            ("VALIDATION", "email"),
        )
        .await;
        // A sync item: rejected on its own, at the path the mutation names.
        let before = app.count("person").await;
        let item = json!({ "id": Uuid::now_v7(), "payload": { "person": new_person(&h, "Бат", text) } });
        let d = app.ok(sync, json!({ "items": [item] })).await;
        let outcome = &d["syncPush"]["items"][0];
        assert_eq!(outcome["status"], "REJECTED", "{what}: {outcome:#}");
        assert_eq!(outcome["error"]["code"], "VALIDATION");
        assert_eq!(outcome["error"]["fields"][0]["path"], "input.familyName");
        assert_eq!(app.count("person").await, before);
    }
    // The person is as registered.
    let d = app.ok("query($id: UUID!) { person(id: $id) { familyName } }", json!({ "id": someone })).await;
    assert_eq!(d["person"]["familyName"], "Дорж");
}

#[tokio::test]
async fn free_text_keeps_its_lines_and_one_line_fields_refuse_them() {
    let app = TestApp::spawn().await;
    let khoroo = unit(&app, "11-BZD").await;
    let q = "mutation($u: UUID!, $a: String, $d: String) { createHousehold(input: { orgUnitId: $u, dwelling: GER, address: $a, description: $d, consent: { givenBy: \"Эцэг\", purpose: \"CBSS\" } }) { id address } }";
    // A description is free text over lines (CR LF stored as LF); an address is one line.
    let d = app.ok(q, json!({ "u": khoroo, "a": "  3-р хороо, 12-р байр ", "d": "Гэр бүл:\r\n\tээж, 3 хүүхэд" })).await;
    let id = d["createHousehold"]["id"].as_str().unwrap();
    let stored: String = raw_text(&app, "SELECT description AS t FROM household WHERE id = $1", id).await;
    assert_eq!(stored, "Гэр бүл:\n\tээж, 3 хүүхэд");
    assert_eq!(d["createHousehold"]["address"], "3-р хороо, 12-р байр");
    refused(
        &app,
        Some(&app.admin_token),
        "household",
        q,
        json!({ "u": khoroo, "a": "3-р хороо\n12-р байр" }),
        ("VALIDATION", "input.address"),
    )
    .await;
}

/// A statement with values bound to `$1`, `$2`... (`?1`, `?2`... on SQLite).
fn statement(app: &TestApp, sql: &str, values: Vec<sea_orm::Value>) -> sea_orm::Statement {
    let backend = app.db.get_database_backend();
    let sql = if backend == sea_orm::DatabaseBackend::Sqlite { sql.replace('$', "?") } else { sql.to_string() };
    sea_orm::Statement::from_sql_and_values(backend, sql, values)
}

fn id(text: &str) -> sea_orm::Value {
    sea_orm::Value::from(text.parse::<Uuid>().expect("a uuid"))
}

/// One text column (`t`) of the row with this id, straight from the database.
async fn raw_text(app: &TestApp, sql: &str, row_id: &str) -> String {
    let row = app.db.query_one_raw(statement(app, sql, vec![id(row_id)])).await.expect("query").expect("row");
    row.try_get::<String>("", "t").expect("t")
}

#[tokio::test]
async fn names_are_stored_composed_and_found_either_way() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    // "Дулмай" with й typed as и + combining breve (U+0306), "Zoë" with ë as e + U+0308.
    let decomposed = "Дулма\u{0438}\u{0306}";
    let d = app.ok(REGISTER, json!({ "i": new_person(&h, decomposed, "Zoe\u{0308}") })).await;
    let id = d["registerPerson"]["id"].as_str().unwrap().to_string();
    assert_eq!(d["registerPerson"]["givenName"], "Дулмай");
    assert_eq!(d["registerPerson"]["givenName"].as_str().unwrap().chars().count(), 6);
    assert_eq!(d["registerPerson"]["familyName"], "Zoë");
    assert_eq!(raw_text(&app, "SELECT given_name AS t FROM person WHERE id = $1", &id).await, "Дулмай");
    let found = "query($t: String!) { people(filter: { name: $t }) { edges { node { id } } } }";
    for term in ["Дулмай", decomposed, "дулмай", "zoë", "Zoe\u{0308}"] {
        let d = app.ok(found, json!({ "t": term })).await;
        assert_eq!(d["people"]["edges"][0]["node"]["id"], id.as_str(), "{term:?}");
    }
    // A registry number with Ё typed as Е + U+0308 is the same number.
    let d = app
        .ok(
            "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { registryNumber } }",
            json!({ "i": { "id": id, "registryNumber": "\u{0415}\u{0308}Б21040201" } }),
        )
        .await;
    assert_eq!(d["updatePerson"]["registryNumber"], "ЁБ21040201");
}

#[tokio::test]
async fn a_name_word_mixing_latin_and_cyrillic_letters_is_refused() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    // "Бaт" with a Latin a (U+0061): looks like Бат, but no search for Бат would find it.
    let e = refused(
        &app,
        Some(&app.admin_token),
        "person",
        REGISTER,
        json!({ "i": new_person(&h, "Бaт", "Дорж") }),
        ("VALIDATION", "input.givenName"),
    )
    .await;
    let message = e["extensions"]["fields"][0]["message"].as_str().unwrap();
    assert!(message.contains("Cyrillic and Latin") && message.contains("Бaт"), "{message}");
    // Words each in one alphabet are a name (a foreign given name, a hyphenated compound).
    let d = app.ok(REGISTER, json!({ "i": new_person(&h, "Anna", "Бат-Эрдэнэ") })).await;
    assert_eq!(d["registerPerson"]["givenName"], "Anna");
    // A partner's name too: "UNIСEF" with a Cyrillic С would pass as another name than UNICEF.
    let u = unit(&app, "11-BZD").await;
    refused(
        &app,
        Some(&app.admin_token),
        "partner",
        "mutation($u: UUID!) { createPartner(name: \"UNIСEF\", kind: NGO, unitIds: [$u]) { id } }",
        json!({ "u": u }),
        ("VALIDATION", "name"),
    )
    .await;
}

#[tokio::test]
async fn duplicates_in_lists_and_values_taken_are_refused_at_their_path() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token.clone();
    let (u1, u2) = (unit(&app, "11-BZD").await, unit(&app, "85").await);
    let partner = "mutation($n: String!, $u: [UUID!]!) { createPartner(name: $n, kind: NGO, unitIds: $u) { id } }";
    let e = refused(
        &app,
        Some(&admin),
        "partner",
        partner,
        json!({ "n": "Хүүхдийн төлөө", "u": [u1, u2, u1] }),
        ("VALIDATION", "unitIds.2"),
    )
    .await;
    assert_eq!(e["extensions"]["fields"][0]["message"], "is given twice");
    assert_eq!(app.count("partner_assignment").await, 0);
    app.ok(partner, json!({ "n": "Хүүхдийн төлөө", "u": [u1, u2] })).await;
    let e = refused(
        &app,
        Some(&admin),
        "partner",
        partner,
        json!({ "n": " Хүүхдийн төлөө ", "u": [u1] }),
        ("CONFLICT", "name"),
    )
    .await;
    assert_eq!(e["message"], "a partner with this name exists");

    let user = "mutation($e: String!) { createUser(input: { email: $e, displayName: \"Ажилтан\", password: \"a-long-password\", roles: [ANALYST] }) { id } }";
    refused(&app, Some(&admin), "app_user", user, json!({ "e": "Admin@Test.mn" }), ("CONFLICT", "input.email")).await;

    // Twins given as the same child twice.
    let h = household(&app, &u1).await;
    let mother = person(&app, &h, "Сараа", "FEMALE", "1995-05-01").await;
    let pregnancy = pregnancy(&app, &mother).await;
    let baby = person(&app, &h, "Нярай", "MALE", &days_ago(0)).await;
    refused(
        &app,
        Some(&admin),
        "pregnancy_child",
        "mutation($i: RecordPregnancyOutcomeInput!) { recordPregnancyOutcome(input: $i) { id } }",
        json!({ "i": { "pregnancyId": pregnancy, "outcome": "LIVE_BIRTH", "outcomeDate": days_ago(0),
                       "deliveryPlace": "FACILITY", "attendant": "NURSE_MIDWIFE", "childIds": [baby, baby] } }),
        ("VALIDATION", "input.childIds.1"),
    )
    .await;
}

#[tokio::test]
async fn unknown_references_are_the_clients_mistake_not_internal() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token.clone();
    let khoroo = unit(&app, "11-BZD").await;
    let h = household(&app, &khoroo).await;
    let nobody = Uuid::new_v4().to_string();
    refused(
        &app,
        Some(&admin),
        "consent",
        "mutation($h: UUID!, $r: UUID!) { recordConsent(input: { householdId: $h, givenBy: \"Ээж\", purpose: \"CBSS\", representativeFor: $r }) { id } }",
        json!({ "h": h, "r": nobody }),
        ("VALIDATION", "input.representativeFor"),
    )
    .await;
    refused(
        &app,
        Some(&admin),
        "consent",
        "mutation($h: UUID!) { recordConsent(input: { householdId: $h, givenBy: \"Ээж\", purpose: \"CBSS\" }) { id } }",
        json!({ "h": nobody }),
        ("VALIDATION", "input.householdId"),
    )
    .await;
    refused(
        &app,
        Some(&admin),
        "person",
        REGISTER,
        json!({ "i": new_person(&nobody, "Бат", "Дорж") }),
        ("VALIDATION", "input.householdId"),
    )
    .await;
    refused(
        &app,
        Some(&admin),
        "partner",
        "mutation($u: UUID!) { createPartner(name: \"Шинэ\", kind: NGO, unitIds: [$u]) { id } }",
        json!({ "u": nobody }),
        ("VALIDATION", "unitIds.0"),
    )
    .await;
    let (code, _) = app
        .err(
            "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { id } }",
            json!({ "i": { "id": nobody, "givenName": "Бат" } }),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");
    // Codes looked up as given: one holding a NUL is unknown, never the database's error.
    for (query, path) in [
        ("query($t: String!) { orgUnitByCode(code: $t) { id } }", "code"),
        ("query($t: String!) { serviceTypes(lifeStage: $t) { code } }", "lifeStage"),
        ("query($t: String!) { auditLog(filter: { entity: $t }) { totalCount } }", "filter.entity"),
        (
            "query($t: String!) { people(where: { received: { services: [$t] } }) { totalCount } }",
            "where.received.services",
        ),
    ] {
        refused(&app, Some(&admin), "person", query, json!({ "t": "VITAMIN_A\u{0}" }), ("VALIDATION", path)).await;
    }
    let someone = person(&app, &h, "Бат", "MALE", "2022-01-01").await;
    refused(
        &app,
        Some(&admin),
        "service_record",
        "mutation($p: UUID!, $c: String!) { recordService(input: { serviceTypeCode: $c, personId: $p, date: \"2024-01-01\" }) { id } }",
        json!({ "p": someone, "c": "VITAMIN_A\u{0}" }),
        ("VALIDATION", "input.serviceTypeCode"),
    )
    .await;
}

#[tokio::test]
async fn two_concurrent_registrations_of_one_registry_number_give_one_person_and_one_conflict() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    let before = app.count("person").await;
    // Several pairs at once, so some race past the check to the database's constraint.
    let pairs = (0..6).map(|n| {
        let number = format!("УБ2104020{n}");
        let (app, h) = (&app, &h);
        async move {
            let one = json!({ "i": numbered(h, "Бат", &number) });
            let other = json!({ "i": numbered(h, "Болд", &number) });
            let (a, b) = tokio::join!(app.gql(REGISTER, one), app.gql(REGISTER, other));
            (number, a, b)
        }
    });
    for (number, a, b) in futures_util::future::join_all(pairs).await {
        let created = [&a, &b].iter().filter(|r| r["errors"].is_null()).count();
        assert_eq!(created, 1, "exactly one is registered with {number}: {a:#} {b:#}");
        let refused = if a["errors"].is_null() { &b } else { &a };
        let e = &refused["errors"][0];
        assert_eq!(e["extensions"]["code"], "CONFLICT", "{e:#}");
        assert_eq!(e["message"], "another person has this registry number");
        assert_eq!(
            e["extensions"]["fields"],
            json!([{ "path": "input.registryNumber", "message": "another person has this registry number" }])
        );
        assert!(refused["data"]["registerPerson"].is_null());
    }
    assert_eq!(app.count("person").await, before + 6);
    // The sequential case answers the same.
    let (code, e) = app.err(REGISTER, json!({ "i": numbered(&h, "Дулам", "УБ21040200") })).await;
    assert_eq!((code.as_str(), &e["extensions"]["fields"][0]["path"]), ("CONFLICT", &json!("input.registryNumber")));
}

/// A new person with a registry number.
fn numbered(household: &str, given: &str, number: &str) -> Value {
    let mut p = new_person(household, given, "Дорж");
    p["registryNumber"] = json!(number);
    p
}

#[tokio::test]
async fn the_databases_own_constraint_errors_answer_as_the_checks_do() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token.clone();
    let khoroo = unit(&app, "11-BZD").await;
    let h = household(&app, &khoroo).await;
    let (a, b) =
        (person(&app, &h, "Бат", "MALE", "2020-01-01").await, person(&app, &h, "Болд", "MALE", "2020-01-01").await);
    app.ok(
        "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { id } }",
        json!({ "i": { "id": a, "registryNumber": "УБ20010101" } }),
    )
    .await;
    for name in ["Нэг", "Хоёр"] {
        app.ok_as(
            &admin,
            "mutation($n: String!, $u: UUID!) { createPartner(name: $n, kind: NGO, unitIds: [$u]) { id } }",
            json!({ "n": name, "u": khoroo }),
        )
        .await;
    }
    app.ok(
        "mutation { createUser(input: { email: \"other@test.mn\", displayName: \"Other\", password: \"a-long-password\", roles: [ANALYST] }) { id } }",
        json!({}),
    )
    .await;
    // Twins of one pregnancy, then the second twin's link made the first twin's, in another
    // pregnancy (only the one-pregnancy-per-child constraint is broken, not the key).
    let other_pregnancy = pregnancy(&app, &person(&app, &h, "Оюун", "FEMALE", "1996-02-01").await).await;
    let mother = person(&app, &h, "Сараа", "FEMALE", "1995-05-01").await;
    let twins =
        [person(&app, &h, "Ихэр", "MALE", &days_ago(0)).await, person(&app, &h, "Бага", "MALE", &days_ago(0)).await];
    let born_of = pregnancy(&app, &mother).await;
    app.ok(
        "mutation($i: RecordPregnancyOutcomeInput!) { recordPregnancyOutcome(input: $i) { id } }",
        json!({ "i": { "pregnancyId": born_of, "outcome": "LIVE_BIRTH", "outcomeDate": days_ago(0),
                       "deliveryPlace": "FACILITY", "attendant": "NURSE_MIDWIFE", "childIds": twins } }),
    )
    .await;
    let text = |t: &str| sea_orm::Value::from(t.to_string());
    let cases = [
        (Unique::RegistryNumber, "UPDATE person SET registry_number = 'УБ20010101' WHERE id = $1", vec![id(&b)]),
        (Unique::PartnerName, "UPDATE partner SET name = $1 WHERE name = $2", vec![text("Нэг"), text("Хоёр")]),
        (
            Unique::UserEmail,
            "UPDATE app_user SET email = $1 WHERE email = $2",
            vec![text("admin@test.mn"), text("other@test.mn")],
        ),
        (
            Unique::ChildOfPregnancy,
            "UPDATE pregnancy_child SET pregnancy_id = $1, child_id = $2 WHERE child_id = $3",
            vec![id(&other_pregnancy), id(&twins[0]), id(&twins[1])],
        ),
    ];
    assert_eq!(cases.len(), Unique::ALL.len(), "every unique value a client chooses is tried");
    for (unique, sql, values) in cases {
        let err = app.db.execute_raw(statement(&app, sql, values)).await.expect_err(sql);
        let answer = ApiError::from(err);
        let expected = unique.error();
        assert_eq!(
            (answer.code(), answer.to_string(), answer.fields()),
            (expected.code(), expected.to_string(), expected.fields()),
            "{unique:?}"
        );
    }
    // A foreign key: a consent for a household nobody has.
    let sql = "UPDATE consent SET household_id = $1 WHERE household_id = $2";
    let err = app.db.execute_raw(statement(&app, sql, vec![id(&Uuid::new_v4().to_string()), id(&h)])).await;
    let answer = ApiError::from(err.expect_err("a foreign key"));
    assert_eq!(answer.code(), "VALIDATION", "{answer:?}");
    // A primary key: CONFLICT.
    let err =
        app.db.execute_raw(statement(&app, "UPDATE person SET id = $1 WHERE id = $2", vec![id(&a), id(&b)])).await;
    let answer = ApiError::from(err.expect_err("a primary key"));
    assert_eq!(answer.code(), "CONFLICT", "{answer:?}");
    // A NUL in text: PostgreSQL refuses it (SQLite would store it; the API refuses it before).
    if cbss_tests::backend() == "postgres" {
        let stmt = statement(&app, "UPDATE person SET given_name = $1 WHERE id = $2", vec![text("Ба\u{0}т"), id(&a)]);
        let answer = ApiError::from(app.db.execute_raw(stmt).await.expect_err("a NUL"));
        assert_eq!(answer.code(), "VALIDATION", "{answer:?}");
    }
}

/// A pregnancy of 30 weeks of `mother`.
async fn pregnancy(app: &TestApp, mother: &str) -> String {
    let d = app
        .ok(
            "mutation($m: UUID!, $l: NaiveDate!) { registerPregnancy(input: { motherId: $m, lastMenstrualPeriod: $l }) { id } }",
            json!({ "m": mother, "l": days_ago(30 * 7) }),
        )
        .await;
    d["registerPregnancy"]["id"].as_str().unwrap().to_string()
}
