//! Create mutations are safe to retry: sent again with the same client id and content, each
//! answers the stored record and writes nothing (no row, no audit entry, no change number);
//! with other content it is a CONFLICT carrying the stored record in `extensions.current`, as
//! the mutation's own selection shows it. An id taken by a record the caller may not see is a
//! plain CONFLICT.

use crate::fixtures::{days_ago, household, months_ago, person, unit};
use cbss_tests::{PASSWORD, TestApp};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

fn new_id() -> String {
    Uuid::new_v4().to_string()
}

/// The highest change number stored: a write that commits anything stamps one (PostgreSQL's are
/// drawn from transaction ids, so no counter moves).
async fn change_number(app: &TestApp) -> i64 {
    let tables = ["household", "person", "pregnancy", "service_record", "consent", "family_assessment", "tombstone"];
    let sql = tables.map(|t| format!("SELECT MAX(change_seq) AS n FROM {t}")).join(" UNION ALL ");
    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .expect("read the change numbers");
    rows.iter().filter_map(|r| r.try_get::<Option<i64>>("", "n").expect("n")).max().unwrap_or(0)
}

/// What a retry must leave as it found: the tables' rows, the audit log, the change number.
async fn footprint(app: &TestApp, tables: &[&str]) -> Vec<i64> {
    let mut out = Vec::new();
    for t in tables.iter().chain(&["audit_log"]) {
        out.push(app.count(t).await);
    }
    out.push(change_number(app).await);
    out
}

/// Sends `field(input: $i) { selection }` with a fresh client id: once (it is created), again
/// as it was (the same answer, nothing written), then once with each of `changed` applied
/// (CONFLICT with the stored record, nothing written). Returns the created record.
async fn retried(
    app: &TestApp,
    field: &str,
    input_type: &str,
    selection: &str,
    mut input: Value,
    tables: &[&str],
    changed: &[(&str, Value)],
) -> Value {
    let query = format!("mutation($i: {input_type}!) {{ {field}(input: $i) {{ {selection} }} }}");
    let id = new_id();
    input["id"] = json!(id);
    let before = footprint(app, tables).await;
    let first = app.ok(&query, json!({ "i": input })).await[field].clone();
    assert_eq!(first["id"], json!(id), "{field}: the client's id is the record's");
    let created = footprint(app, tables).await;
    assert_ne!(created, before, "{field}: the first call writes");

    let again = app.ok(&query, json!({ "i": input })).await[field].clone();
    assert_eq!(again, first, "{field}: a retry answers the stored record");
    assert_eq!(footprint(app, tables).await, created, "{field}: a retry writes nothing");

    for (what, value) in changed {
        let mut other = input.clone();
        set(&mut other, what, value.clone());
        let (code, err) = app.err(&query, json!({ "i": other })).await;
        assert_eq!(code, "CONFLICT", "{field} with another {what}: {err:#}");
        assert_eq!(err["extensions"]["current"], first, "{field} with another {what}: the stored record comes back");
        assert_eq!(footprint(app, tables).await, created, "{field} with another {what}: nothing written");
    }
    // And the stored record is still the first one.
    assert_eq!(app.ok(&query, json!({ "i": input })).await[field], first);
    first
}

/// Sets a field of `input` by a dotted path (`consent.givenBy`, `answers.0.answer`).
fn set(input: &mut Value, path: &str, value: Value) {
    let mut at = input;
    for key in path.split('.') {
        at = match key.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[key],
        };
    }
    *at = value;
}

async fn khoroo(app: &TestApp) -> String {
    unit(app, "11-BZD").await
}

#[tokio::test]
async fn create_household_retried() {
    let app = TestApp::spawn().await;
    let k = khoroo(&app).await;
    let other = unit(&app, "11").await;
    let d = app.ok("query($id: UUID!) { orgUnit(id: $id) { children { id } } }", json!({ "id": other })).await;
    let district = d["orgUnit"]["children"][1]["id"].as_str().unwrap().to_string();
    retried(
        &app,
        "createHousehold",
        "CreateHouseholdInput",
        "id version address dwelling isHerder migrantStatus registeredOn consents { givenBy purpose }",
        json!({ "orgUnitId": k, "dwelling": "GER", "address": "  Khoroo 3, building 12 ",
                "consent": { "givenBy": "Household head", "purpose": "CBSS services" } }),
        &["household", "consent"],
        &[
            ("dwelling", json!("APARTMENT")),
            ("address", json!("Khoroo 4")),
            ("orgUnitId", json!(district)),
            ("consent.givenBy", json!("Someone else")),
        ],
    )
    .await;
}

#[tokio::test]
async fn register_person_retried() {
    let app = TestApp::spawn().await;
    let k = khoroo(&app).await;
    let (h, h2) = (household(&app, &k).await, household(&app, &k).await);
    retried(
        &app,
        "registerPerson",
        "RegisterPersonInput",
        "id version givenName familyName sex birthDate phone",
        json!({ "householdId": h, "givenName": "Тэмүүлэн", "familyName": "Батболд", "sex": "MALE",
                "birthDate": months_ago(20), "phone": "99112233" }),
        &["person"],
        &[("givenName", json!("Тэмүүжин")), ("householdId", json!(h2)), ("phone", Value::Null)],
    )
    .await;
}

#[tokio::test]
async fn register_pregnancy_retried() {
    let app = TestApp::spawn().await;
    let h = household(&app, &khoroo(&app).await).await;
    let mother = person(&app, &h, "Сарангэрэл", "FEMALE", "1994-05-02").await;
    retried(
        &app,
        "registerPregnancy",
        "RegisterPregnancyInput",
        "id version lastMenstrualPeriod expectedDeliveryDate registeredOn",
        json!({ "motherId": mother, "lastMenstrualPeriod": days_ago(70) }),
        &["pregnancy"],
        &[("lastMenstrualPeriod", json!(days_ago(77)))],
    )
    .await;
}

#[tokio::test]
async fn record_service_retried() {
    let app = TestApp::spawn().await;
    let h = household(&app, &khoroo(&app).await).await;
    let child = person(&app, &h, "Анужин", "FEMALE", &months_ago(18)).await;
    retried(
        &app,
        "recordService",
        "RecordServiceInput",
        "id version date provider note serviceType { code }",
        json!({ "serviceTypeCode": "VITAMIN_A", "personId": child, "date": days_ago(1), "provider": " Nurse Oyun " }),
        &["service_record"],
        &[("date", json!(days_ago(2))), ("provider", json!("Nurse Bolor")), ("note", json!("second capsule"))],
    )
    .await;
}

#[tokio::test]
async fn record_growth_measurement_retried() {
    let app = TestApp::spawn().await;
    let h = household(&app, &khoroo(&app).await).await;
    let child = person(&app, &h, "Анужин", "FEMALE", &months_ago(18)).await;
    let first = retried(
        &app,
        "recordGrowthMeasurement",
        "RecordGrowthMeasurementInput",
        "id version date growthMeasurement { weightKg lengthHeightCm position }",
        json!({ "personId": child, "date": days_ago(3), "weightKg": 10.6, "lengthHeightCm": 80.5 }),
        &["service_record", "growth_measurement"],
        &[("weightKg", json!(10.8)), ("lengthHeightCm", Value::Null), ("date", json!(days_ago(4)))],
    )
    .await;
    // One point on the child's chart, however often it was sent.
    let chart = app
        .ok(
            "query($id: UUID!) { person(id: $id) { growthChart(indicator: WEIGHT_FOR_AGE) { points { value } } } }",
            json!({ "id": child }),
        )
        .await;
    assert_eq!(chart["person"]["growthChart"]["points"], json!([{ "value": 10.6 }]), "{first:#}");
}

#[tokio::test]
async fn record_enrolment_retried() {
    let app = TestApp::spawn().await;
    let h = household(&app, &khoroo(&app).await).await;
    let pupil = person(&app, &h, "Тэмүүлэн", "MALE", &months_ago(75)).await;
    retried(
        &app,
        "recordEnrolment",
        "RecordEnrolmentInput",
        "id version date enrolment { institution grade }",
        json!({ "serviceTypeCode": "SCHOOL_ENROLMENT", "personId": pupil, "date": days_ago(200),
                "institution": "School No. 5 ", "grade": "1a" }),
        &["service_record", "enrolment"],
        &[("institution", json!("School No. 7")), ("grade", json!("1b"))],
    )
    .await;
}

#[tokio::test]
async fn record_attendance_retried() {
    let app = TestApp::spawn().await;
    let h = household(&app, &khoroo(&app).await).await;
    let pupil = person(&app, &h, "Тэмүүлэн", "MALE", &months_ago(75)).await;
    let enrolled = app
        .ok(
            "mutation($i: RecordEnrolmentInput!) { recordEnrolment(input: $i) { id } }",
            json!({ "i": { "serviceTypeCode": "SCHOOL_ENROLMENT", "personId": pupil, "date": days_ago(200), "institution": "School No. 5" } }),
        )
        .await["recordEnrolment"]["id"]
        .clone();
    retried(
        &app,
        "recordAttendance",
        "RecordAttendanceInput",
        "id version date attendance { periodStart periodEnd daysPresent daysExpected }",
        json!({ "serviceTypeCode": "SCHOOL_ATTENDANCE", "enrolmentId": enrolled, "periodStart": days_ago(60),
                "periodEnd": days_ago(31), "daysPresent": 18, "daysExpected": 20 }),
        &["service_record", "attendance"],
        &[("daysPresent", json!(17)), ("periodStart", json!(days_ago(61))), ("note", json!("register checked"))],
    )
    .await;
}

#[tokio::test]
async fn record_immunisation_retried() {
    let app = TestApp::spawn().await;
    let h = household(&app, &khoroo(&app).await).await;
    let child = person(&app, &h, "Анужин", "FEMALE", &months_ago(20)).await;
    retried(
        &app,
        "recordImmunisation",
        "RecordImmunisationInput",
        "id version date immunisation { antigen { code } doseNumber }",
        json!({ "personId": child, "date": days_ago(3), "antigenCode": "MMR", "doseNumber": 1 }),
        &["service_record", "immunisation"],
        &[("doseNumber", json!(2)), ("antigenCode", json!("PCV"))],
    )
    .await;
}

#[tokio::test]
async fn record_milestone_check_retried() {
    let app = TestApp::spawn().await;
    let h = household(&app, &khoroo(&app).await).await;
    let child = person(&app, &h, "Мөнхзул", "FEMALE", &months_ago(18)).await;
    retried(
        &app,
        "recordMilestoneCheck",
        "RecordMilestoneCheckInput",
        "id version date milestoneChecks { achieved milestone { code } }",
        json!({ "personId": child, "date": days_ago(0), "items": [
            { "milestoneCode": "MOTOR_WALKS_ALONE", "achieved": false },
            { "milestoneCode": "SOCIO_EMOTIONAL_COPIES", "achieved": true } ] }),
        &["service_record", "milestone_check"],
        &[
            ("items.0.achieved", json!(true)),
            ("items", json!([{ "milestoneCode": "MOTOR_WALKS_ALONE", "achieved": false }])),
        ],
    )
    .await;
}

#[tokio::test]
async fn record_consent_retried() {
    let app = TestApp::spawn().await;
    let k = khoroo(&app).await;
    let (h, h2) = (household(&app, &k).await, household(&app, &k).await);
    retried(
        &app,
        "recordConsent",
        "ConsentInput",
        "id version givenBy purpose legalBasis givenOn valid",
        json!({ "householdId": h, "givenBy": "Grandmother", "purpose": "CBSS services", "legalBasis": "PUBLIC_TASK" }),
        &["consent"],
        &[("purpose", json!("Research")), ("householdId", json!(h2)), ("legalBasis", json!("CONSENT"))],
    )
    .await;
}

/// Answers for the indicators that apply to every household.
fn always() -> Value {
    json!([
        { "indicatorCode": "SAFE_WATER", "answer": "YES" },
        { "indicatorCode": "LATRINE_HANDWASHING", "answer": "NO" },
        { "indicatorCode": "IODISED_SALT", "answer": "YES" },
        { "indicatorCode": "HOME_GARDEN", "answer": "NO" },
        { "indicatorCode": "HIV_KNOWLEDGE", "answer": "YES" },
    ])
}

#[tokio::test]
async fn record_family_assessment_retried() {
    let app = TestApp::spawn().await;
    let h = household(&app, &khoroo(&app).await).await;
    let father = person(&app, &h, "Болд", "MALE", "1985-02-02").await;
    person(&app, &h, "Сараа", "FEMALE", "1987-03-03").await;
    retried(
        &app,
        "recordFamilyAssessment",
        "RecordFamilyAssessmentInput",
        "id version assessedOn met applicable note actions { description dueOn person { id } }",
        json!({ "householdId": h, "assessedOn": days_ago(1), "answers": always(), "note": "First visit",
                "actions": [{ "description": "Build a latrine", "personId": father, "dueOn": days_ago(-30) }] }),
        &["family_assessment", "assessment_answer", "assessment_action"],
        &[
            ("answers.1.answer", json!("YES")),
            ("note", json!("Second visit")),
            ("actions.0.description", json!("Dig a well")),
            ("actions", json!([])),
        ],
    )
    .await;
}

const PROPOSE: &str = "mutation($i: ProposeCommunityProjectInput!) { proposeCommunityProject(input: $i) { id } }";

fn proposal(unit_id: &str) -> Value {
    json!({ "orgUnitId": unit_id, "area": "WATER_SANITATION", "title": "Latrines",
            "objectives": "An improved latrine for every household", "indicatorCodes": ["LATRINE_HANDWASHING"],
            "budgetLines": [{ "description": "Materials", "amountMnt": 5000000, "funder": "LOCAL_GOVERNMENT" }] })
}

#[tokio::test]
async fn propose_community_project_retried() {
    let app = TestApp::spawn().await;
    let k = khoroo(&app).await;
    retried(
        &app,
        "proposeCommunityProject",
        "ProposeCommunityProjectInput",
        "id version title status indicatorCodes budgetLines { description amountMnt funder }",
        proposal(&k),
        &["community_project", "project_budget_line", "project_indicator", "project_transition"],
        &[
            ("title", json!("Latrines and wells")),
            ("budgetLines.0.amountMnt", json!(6000000)),
            ("indicatorCodes", json!(["SAFE_WATER"])),
        ],
    )
    .await;
}

#[tokio::test]
async fn report_community_project_retried() {
    let app = TestApp::spawn().await;
    let k = khoroo(&app).await;
    let project = app.ok(PROPOSE, json!({ "i": proposal(&k) })).await["proposeCommunityProject"]["id"].clone();
    app.ok(
        "mutation($id: UUID!) { transitionCommunityProject(id: $id, to: APPROVED) { status } }",
        json!({ "id": project }),
    )
    .await;
    retried(
        &app,
        "reportCommunityProject",
        "ProjectReportInput",
        "id reportedOn progressPercent narrative householdsReached peopleReached",
        json!({ "projectId": project, "progressPercent": 40, "narrative": "12 latrines built",
                "householdsReached": 3, "peopleReached": 7 }),
        &["project_report"],
        &[("progressPercent", json!(45)), ("narrative", json!("13 latrines built"))],
    )
    .await;
}

/// An id taken by a record the caller may not see is a CONFLICT that shows nothing of it,
/// whatever the content sent.
#[tokio::test]
async fn an_id_taken_outside_the_callers_scope_is_a_conflict_without_the_record() {
    let app = TestApp::spawn().await;
    let ub = unit(&app, "11").await;
    let d = app.ok("query($id: UUID!) { orgUnit(id: $id) { children { id code } } }", json!({ "id": ub })).await;
    let (mine, theirs) = (&d["orgUnit"]["children"][0], &d["orgUnit"]["children"][1]);
    app.ok(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        json!({ "i": { "email": "field.retry@test.mn", "displayName": "Field worker", "password": PASSWORD,
                       "roles": ["FIELD_WORKER"], "captureUnitIds": [mine["id"]] } }),
    )
    .await;
    let worker = app.login("field.retry@test.mn").await;
    let create = "mutation($i: CreateHouseholdInput!) { createHousehold(input: $i) { id version } }";
    let id = new_id();
    let input = |unit: &Value| {
        json!({ "i": { "id": id, "orgUnitId": unit, "dwelling": "GER",
                       "consent": { "givenBy": "Household head", "purpose": "CBSS services" } } })
    };
    app.ok(create, input(&theirs["id"])).await;
    let before = footprint(&app, &["household", "consent"]).await;
    for unit in [&mine["id"], &theirs["id"]] {
        let (code, err) = app.err_as(Some(&worker), create, input(unit)).await;
        assert_eq!(code, "CONFLICT", "{err:#}");
        assert!(err["extensions"].get("current").is_none(), "nothing of the stored record: {err:#}");
    }
    assert_eq!(footprint(&app, &["household", "consent"]).await, before);
}

/// A record made by a create mutation is the same record to sync: pushed with its id as a new
/// item, it is UNCHANGED; a create retried after a push answers the pushed record.
#[tokio::test]
async fn creates_and_sync_settle_a_client_id_alike() {
    let app = TestApp::spawn().await;
    let h = household(&app, &khoroo(&app).await).await;
    let child = person(&app, &h, "Анужин", "FEMALE", &months_ago(18)).await;
    let measurement = json!({ "personId": child, "date": days_ago(3), "weightKg": 10.6, "lengthHeightCm": 80.5 });
    let record = "mutation($i: RecordGrowthMeasurementInput!) { recordGrowthMeasurement(input: $i) { id version } }";
    let push = "mutation($items: [SyncItemInput!]!) { syncPush(items: $items) { items { status version } } }";

    let id = new_id();
    let mut input = measurement.clone();
    input["id"] = json!(id);
    app.ok(record, json!({ "i": input })).await;
    let before = footprint(&app, &["service_record"]).await;
    let d = app.ok(push, json!({ "items": [{ "id": id, "payload": { "growthMeasurement": measurement } }] })).await;
    assert_eq!(d["syncPush"]["items"][0], json!({ "status": "UNCHANGED", "version": 1 }));

    let pushed = new_id();
    app.ok(push, json!({ "items": [{ "id": pushed, "payload": { "growthMeasurement": measurement } }] })).await;
    let mut input = measurement.clone();
    input["id"] = json!(pushed);
    let d = app.ok(record, json!({ "i": input })).await;
    assert_eq!(d["recordGrowthMeasurement"], json!({ "id": pushed, "version": 1 }));
    assert_eq!(app.count("service_record").await, before[0] + 1, "two ids, two measurements");
}
