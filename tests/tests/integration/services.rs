//! Services along the chain: eligibility, typed details, pregnancies and births.

use crate::fixtures::{days_ago, household, months_ago, person, unit};
use cbss_tests::TestApp;
use serde_json::{Value, json};

const SERVICE: &str =
    "mutation($i: RecordServiceInput!) { recordService(input: $i) { id serviceType { code } pregnancy { id } } }";
const GROWTH: &str = "mutation($i: RecordGrowthMeasurementInput!) { recordGrowthMeasurement(input: $i) { id growthMeasurement { weightKg lengthHeightCm position } } }";
const IMMUNISE: &str = "mutation($i: RecordImmunisationInput!) { recordImmunisation(input: $i) { id immunisation { antigen { code } doseNumber } } }";

async fn family(app: &TestApp) -> (String, String, String) {
    let h = household(app, &unit(app, "11-BZD").await).await;
    let mother = person(app, &h, "Энхжаргал", "FEMALE", "1996-06-06").await;
    let child = person(app, &h, "Анужин", "FEMALE", &months_ago(18)).await;
    (h, mother, child)
}

#[tokio::test]
async fn vitamin_a_is_recorded_for_a_child_of_6_to_59_months_only() {
    let app = TestApp::spawn().await;
    let (h, mother, child) = family(&app).await;
    let d = app
        .ok(SERVICE, json!({ "i": { "serviceTypeCode": "VITAMIN_A", "personId": child, "date": days_ago(1) } }))
        .await;
    assert_eq!(d["recordService"]["serviceType"]["code"], "VITAMIN_A");
    let records = app.count("service_record").await;
    let (code, err) = app
        .err(SERVICE, json!({ "i": { "serviceTypeCode": "VITAMIN_A", "personId": mother, "date": days_ago(1) } }))
        .await;
    assert_eq!((code.as_str(), err["extensions"]["fields"][0]["path"].as_str()), ("VALIDATION", Some("input.date")));
    let young = person(&app, &h, "Бага", "MALE", &months_ago(3)).await;
    let (code, _) = app
        .err(SERVICE, json!({ "i": { "serviceTypeCode": "VITAMIN_A", "personId": young, "date": days_ago(0) } }))
        .await;
    assert_eq!(code, "VALIDATION");
    let (code, _) = app
        .err(SERVICE, json!({ "i": { "serviceTypeCode": "NO_SUCH", "personId": child, "date": days_ago(0) } }))
        .await;
    assert_eq!(code, "VALIDATION");
    assert_eq!(app.count("service_record").await, records, "refused services change nothing");
}

#[tokio::test]
async fn household_services_go_to_households_and_person_services_to_people() {
    let app = TestApp::spawn().await;
    let (h, _, child) = family(&app).await;
    app.ok(SERVICE, json!({ "i": { "serviceTypeCode": "HOUSEHOLD_WATER", "householdId": h, "date": days_ago(2) } }))
        .await;
    let (code, _) = app
        .err(SERVICE, json!({ "i": { "serviceTypeCode": "HOUSEHOLD_WATER", "personId": child, "date": days_ago(2) } }))
        .await;
    assert_eq!(code, "VALIDATION");
    let (code, _) = app
        .err(SERVICE, json!({ "i": { "serviceTypeCode": "VITAMIN_A", "householdId": h, "date": days_ago(2) } }))
        .await;
    assert_eq!(code, "VALIDATION");
    let (code, _) = app
        .err(
            SERVICE,
            json!({ "i": { "serviceTypeCode": "GROWTH_MONITORING", "personId": child, "date": days_ago(2) } }),
        )
        .await;
    assert_eq!(code, "VALIDATION", "typed services use their own mutation");
    let d = app
        .ok("query($id: UUID!) { household(id: $id) { serviceRecords { serviceType { code } } } }", json!({ "id": h }))
        .await;
    assert_eq!(d["household"]["serviceRecords"], json!([{ "serviceType": { "code": "HOUSEHOLD_WATER" } }]));
}

// Nested record lists are read with the columns their selection needs (the planner's
// projection, the union over every place they are selected); whatever the selection, each field
// must answer as stored.
#[tokio::test]
async fn nested_record_lists_answer_every_field_whatever_the_selection() {
    let app = TestApp::spawn().await;
    let (h, _, child) = family(&app).await;
    for (code, subject, days, note) in [
        ("VITAMIN_A", ("personId", &child), 40, "first dose"),
        ("MICRONUTRIENT_POWDER", ("personId", &child), 3, "sachets for a month"),
        ("HOUSEHOLD_WATER", ("householdId", &h), 30, "filter given"),
        ("HOUSEHOLD_SANITATION", ("householdId", &h), 5, "latrine checked"),
    ] {
        let i = json!({ "serviceTypeCode": code, subject.0: subject.1, "date": days_ago(days), "provider": "Bag nurse", "note": note });
        app.ok(SERVICE, json!({ "i": i })).await;
    }
    let brief = "date serviceType { code } version";
    let whole = format!("{brief} provider note recordedBy createdAt");
    let both = format!(
        "query($p: UUID!, $h: UUID!) {{
           person(id: $p) {{ b: serviceRecords {{ {brief} }} w: serviceRecords {{ {whole} }} f: serviceRecords {{ ...R }} }}
           household(id: $h) {{ b: serviceRecords {{ {brief} }} w: serviceRecords {{ {whole} }} i: serviceRecords {{ date ... on ServiceRecord {{ note }} }} }}
         }}
         fragment R on ServiceRecord {{ date note }}"
    );
    let d = app.ok(&both, json!({ "p": child, "h": h })).await;
    let codes = |list: &Value| -> Vec<String> {
        list.as_array().unwrap().iter().map(|r| r["serviceType"]["code"].as_str().unwrap().to_string()).collect()
    };
    // newest first, in both kinds of list
    assert_eq!(codes(&d["person"]["b"]), ["MICRONUTRIENT_POWDER", "VITAMIN_A"]);
    assert_eq!(codes(&d["household"]["b"]), ["HOUSEHOLD_SANITATION", "HOUSEHOLD_WATER"]);
    for owner in ["person", "household"] {
        let (b, w) = (d[owner]["b"].as_array().unwrap(), d[owner]["w"].as_array().unwrap());
        assert_eq!(b.len(), w.len());
        for (b, w) in b.iter().zip(w) {
            assert_eq!((&b["date"], &b["serviceType"], &b["version"]), (&w["date"], &w["serviceType"], &w["version"]));
            assert_eq!(w["provider"], "Bag nurse");
            assert!(w["recordedBy"].is_string() && w["createdAt"].is_string(), "{w}");
        }
    }
    let notes = |list: &Value| -> Vec<String> {
        list.as_array().unwrap().iter().map(|r| r["note"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(notes(&d["person"]["f"]), ["sachets for a month", "first dose"], "a field in a fragment");
    assert_eq!(notes(&d["household"]["i"]), ["latrine checked", "filter given"], "a field in an inline fragment");

    // Every other field of a record, as the schema lists them, answers the same with and without
    // the projected ones beside it.
    let projected = ["provider", "recordedBy", "note", "createdAt"];
    let t = app
        .ok(
            "{ __type(name: \"ServiceRecord\") { fields { name args { name } type { kind ofType { kind ofType { kind ofType { kind } } } } } } }",
            json!({}),
        )
        .await;
    let fields: Vec<&Value> = t["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["args"].as_array().unwrap().is_empty() && !projected.contains(&f["name"].as_str().unwrap()))
        .collect();
    assert!(fields.len() >= 10, "{fields:?}");
    // Leaves take no selection; for objects and lists of objects, `__typename` tells null from not.
    let selection: Vec<String> = fields
        .iter()
        .map(|f| {
            let mut ty = &f["type"];
            while ty["kind"] == "NON_NULL" || ty["kind"] == "LIST" {
                ty = &ty["ofType"];
            }
            let name = f["name"].as_str().unwrap();
            if ty["kind"] == "SCALAR" || ty["kind"] == "ENUM" {
                name.to_string()
            } else {
                format!("{name} {{ __typename }}")
            }
        })
        .collect();
    let selection = selection.join(" ");
    let q = format!(
        "query($p: UUID!) {{ person(id: $p) {{ b: serviceRecords {{ {selection} }} w: serviceRecords {{ {selection} note }} }} }}"
    );
    let d = app.ok(&q, json!({ "p": child })).await;
    let whole: Vec<Value> = d["person"]["w"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().unwrap().remove("note");
            r
        })
        .collect();
    assert_eq!(d["person"]["b"].as_array().unwrap(), &whole);
}

#[tokio::test]
async fn growth_measurements_are_stored_and_impossible_values_refused() {
    let app = TestApp::spawn().await;
    let (_, _, child) = family(&app).await;
    let d = app.ok(GROWTH, json!({ "i": { "personId": child, "date": days_ago(0), "weightKg": 10.4, "lengthHeightCm": 80.2, "position": "LYING" } })).await;
    assert_eq!(
        d["recordGrowthMeasurement"]["growthMeasurement"],
        json!({ "weightKg": 10.4, "lengthHeightCm": 80.2, "position": "LYING" })
    );
    let before = app.count("growth_measurement").await;
    for (weight, height, path) in
        [(0.0, 80.0, "input.weightKg"), (-3.0, 80.0, "input.weightKg"), (10.0, 400.0, "input.lengthHeightCm")]
    {
        let (code, err) = app.err(GROWTH, json!({ "i": { "personId": child, "date": days_ago(0), "weightKg": weight, "lengthHeightCm": height } })).await;
        assert_eq!((code.as_str(), err["extensions"]["fields"][0]["path"].as_str()), ("VALIDATION", Some(path)));
    }
    let (code, _) =
        app.err(GROWTH, json!({ "i": { "personId": child, "date": "2999-01-01", "weightKg": 10.0 } })).await;
    assert_eq!(code, "VALIDATION");
    assert_eq!(app.count("growth_measurement").await, before);
    assert_eq!(app.count("service_record").await, before, "no orphan service record either");
}

#[tokio::test]
async fn an_immunisation_dose_is_numbered_within_the_series_and_a_repeat_counts_once() {
    let app = TestApp::spawn().await;
    let (_, _, child) = family(&app).await;
    let input = |dose: i32| json!({ "i": { "personId": child, "date": days_ago(3), "antigenCode": "PENTA", "doseNumber": dose } });
    let d = app.ok(IMMUNISE, input(1)).await;
    assert_eq!(d["recordImmunisation"]["immunisation"], json!({ "antigen": { "code": "PENTA" }, "doseNumber": 1 }));
    // The same dose again (a repeat, or entered twice): kept, but a second dose the same day
    // counts for nothing.
    app.ok(IMMUNISE, input(1)).await;
    let (code, err) = app.err(IMMUNISE, input(4)).await;
    assert_eq!(
        (code.as_str(), err["extensions"]["fields"][0]["path"].as_str()),
        ("VALIDATION", Some("input.doseNumber"))
    );
    let d = app
        .ok(
            "query($id: UUID!) { person(id: $id) { immunisations { doseNumber evaluation antigen { code } } } }",
            json!({ "id": child }),
        )
        .await;
    let mut evaluations: Vec<&str> =
        d["person"]["immunisations"].as_array().unwrap().iter().map(|i| i["evaluation"].as_str().unwrap()).collect();
    evaluations.sort();
    assert_eq!(evaluations, ["SAME_DAY", "VALID"]);
}

#[tokio::test]
async fn a_pregnancy_runs_from_registration_through_antenatal_care_to_a_birth() {
    let app = TestApp::spawn().await;
    let (h, mother, _) = family(&app).await;
    let lmp = days_ago(30 * 7);
    let d = app
        .ok(
            "mutation($m: UUID!, $l: NaiveDate!) { registerPregnancy(input: { motherId: $m, lastMenstrualPeriod: $l }) { id expectedDeliveryDate gestationWeeks } }",
            json!({ "m": mother, "l": lmp }),
        )
        .await;
    let preg = d["registerPregnancy"]["id"].as_str().unwrap().to_string();
    assert_eq!(d["registerPregnancy"]["gestationWeeks"], 30);
    let d = app.ok("query($id: UUID!) { person(id: $id) { lifeStage { code } } }", json!({ "id": mother })).await;
    assert_eq!(d["person"]["lifeStage"]["code"], "PREGNANCY");
    let d = app
        .ok(SERVICE, json!({ "i": { "serviceTypeCode": "ANC_CONTACT", "personId": mother, "date": days_ago(1) } }))
        .await;
    assert_eq!(d["recordService"]["pregnancy"]["id"], preg, "an antenatal contact joins the open pregnancy");
    let (code, _) = app
        .err("mutation($m: UUID!) { registerPregnancy(input: { motherId: $m, expectedDeliveryDate: \"2027-01-01\" }) { id } }", json!({ "m": mother }))
        .await;
    assert_eq!(code, "CONFLICT", "one open pregnancy at a time");

    let baby = person(&app, &h, "Нярай", "MALE", &days_ago(0)).await;
    let outcome = "mutation($i: RecordPregnancyOutcomeInput!) { recordPregnancyOutcome(input: $i) { outcome skilledAttendance children { id } version } }";
    let (code, err) = app.err(outcome, json!({ "i": { "pregnancyId": preg, "outcome": "LIVE_BIRTH", "outcomeDate": days_ago(0), "childIds": [baby] } })).await;
    assert_eq!(code, "VALIDATION");
    assert_eq!(err["extensions"]["fields"][0]["path"], "input.deliveryPlace");
    let d = app
        .ok(outcome, json!({ "i": { "pregnancyId": preg, "outcome": "LIVE_BIRTH", "outcomeDate": days_ago(0), "deliveryPlace": "FACILITY", "attendant": "NURSE_MIDWIFE", "childIds": [baby] } }))
        .await;
    assert_eq!(d["recordPregnancyOutcome"]["children"], json!([{ "id": baby }]));
    assert_eq!(d["recordPregnancyOutcome"]["skilledAttendance"], true);
    let (code, _) = app
        .err(outcome, json!({ "i": { "pregnancyId": preg, "outcome": "STILLBIRTH", "outcomeDate": days_ago(0), "deliveryPlace": "HOME", "attendant": "NONE" } }))
        .await;
    assert_eq!(code, "CONFLICT");
    let d = app.ok("query($id: UUID!) { person(id: $id) { lifeStage { code } } }", json!({ "id": mother })).await;
    assert!(d["person"]["lifeStage"].is_null());
    let d = app
        .ok(SERVICE, json!({ "i": { "serviceTypeCode": "PNC_MOTHER", "personId": mother, "date": days_ago(0) } }))
        .await;
    assert_eq!(d["recordService"]["serviceType"]["code"], "PNC_MOTHER");
    app.ok(
        SERVICE,
        json!({ "i": { "serviceTypeCode": "ANC_CONTACT", "personId": mother, "pregnancyId": preg,
        "date": days_ago(8), "provider": "Soum midwife", "note": "late entry" } }),
    )
    .await;

    // A pregnancy's records are its mother's that name it, brief or whole alike.
    let q = "query($id: UUID!) { person(id: $id) { all: serviceRecords { id pregnancy { id } }
      pregnancies { b: serviceRecords { id date serviceType { code } } w: serviceRecords { id date serviceType { code } provider note } } } }";
    let d = app.ok(q, json!({ "id": mother })).await;
    let ids = |list: &Value| list.as_array().unwrap().iter().map(|r| r["id"].clone()).collect::<Vec<_>>();
    let named: Vec<Value> = d["person"]["all"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["pregnancy"]["id"] == preg.as_str())
        .map(|r| r["id"].clone())
        .collect();
    let p = &d["person"]["pregnancies"][0];
    assert!(named.len() >= 2 && named.len() < ids(&d["person"]["all"]).len(), "{d}");
    assert_eq!((ids(&p["b"]), ids(&p["w"])), (named.clone(), named));
    let late = p["w"].as_array().unwrap().iter().find(|r| r["note"] == "late entry").unwrap();
    assert_eq!(late["provider"], "Soum midwife");
}

#[tokio::test]
async fn a_man_cannot_be_registered_as_pregnant() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    let man = person(&app, &h, "Болд", "MALE", "1990-01-01").await;
    let (code, err) = app
        .err("mutation($m: UUID!, $l: NaiveDate!) { registerPregnancy(input: { motherId: $m, lastMenstrualPeriod: $l }) { id } }", json!({ "m": man, "l": days_ago(60) }))
        .await;
    assert_eq!(
        (code.as_str(), err["extensions"]["fields"][0]["path"].as_str()),
        ("VALIDATION", Some("input.motherId"))
    );
    assert_eq!(app.count("pregnancy").await, 0);
}

#[tokio::test]
async fn attendance_is_recorded_per_period_of_an_enrolment_within_it_and_never_twice_for_a_day() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    // Six years and three months: of an age for school and, still, for pre-school services.
    let pupil = person(&app, &h, "Тэмүүлэн", "MALE", &months_ago(75)).await;
    let enrolled = app
        .ok(
            "mutation($i: RecordEnrolmentInput!) { recordEnrolment(input: $i) { id version } }",
            json!({ "i": { "serviceTypeCode": "SCHOOL_ENROLMENT", "personId": pupil, "date": days_ago(200), "institution": "School No. 5" } }),
        )
        .await["recordEnrolment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    const ATTEND: &str =
        "mutation($i: RecordAttendanceInput!) { recordAttendance(input: $i) { id date serviceType { code }
        attendance { enrolmentId periodStart periodEnd daysPresent daysExpected rate } } }";
    let input = |code: &str, enrolment: &str, from: i64, to: i64, present: i32, expected: i32| {
        json!({ "i": { "serviceTypeCode": code, "enrolmentId": enrolment, "periodStart": days_ago(from),
                       "periodEnd": days_ago(to), "daysPresent": present, "daysExpected": expected } })
    };
    let saved = app.ok(ATTEND, input("SCHOOL_ATTENDANCE", &enrolled, 60, 31, 18, 20)).await["recordAttendance"].clone();
    assert_eq!(saved["date"], json!(days_ago(31)));
    assert_eq!(saved["serviceType"]["code"], "SCHOOL_ATTENDANCE");
    assert_eq!(
        saved["attendance"],
        json!({ "enrolmentId": enrolled, "periodStart": days_ago(60), "periodEnd": days_ago(31),
                "daysPresent": 18, "daysExpected": 20, "rate": 90.0 })
    );

    // Refused, and nothing written: the wrong stage's attendance, before the enrolment began,
    // more present than expected, more expected than the period has days, a reversed period,
    // a period over a year, no such enrolment, a period ending in the future.
    let before = app.count("attendance").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    for (why, i, path) in [
        ("stage", input("PRESCHOOL_ATTENDANCE", &enrolled, 30, 20, 5, 5), "input.serviceTypeCode"),
        ("before", input("SCHOOL_ATTENDANCE", &enrolled, 201, 190, 5, 5), "input.periodStart"),
        ("present", input("SCHOOL_ATTENDANCE", &enrolled, 30, 20, 9, 8), "input.daysPresent"),
        ("expected", input("SCHOOL_ATTENDANCE", &enrolled, 30, 25, 5, 7), "input.daysExpected"),
        ("reversed", input("SCHOOL_ATTENDANCE", &enrolled, 20, 30, 5, 5), "input.periodStart"),
        ("unknown", input("SCHOOL_ATTENDANCE", &unknown, 30, 20, 5, 5), "input.enrolmentId"),
        ("future", input("SCHOOL_ATTENDANCE", &enrolled, 3, -2, 1, 1), "input.date"),
    ] {
        let (code, err) = app.err(ATTEND, i).await;
        assert_eq!(code, "VALIDATION", "{why}: {err:#}");
        let paths: Vec<&str> =
            err["extensions"]["fields"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
        assert!(paths.contains(&path), "{why}: {err:#}");
    }
    let long = json!({ "i": { "serviceTypeCode": "SCHOOL_ATTENDANCE", "enrolmentId": enrolled,
        "periodStart": "2020-01-01", "periodEnd": days_ago(1), "daysPresent": 5, "daysExpected": 5 } });
    assert_eq!(app.err(ATTEND, long).await.0, "VALIDATION");
    // A day already reported: a conflict.
    assert_eq!(app.err(ATTEND, input("SCHOOL_ATTENDANCE", &enrolled, 40, 20, 10, 10)).await.0, "CONFLICT");
    // Attendance records only come through recordAttendance.
    let (code, err) = app
        .err(
            SERVICE,
            json!({ "i": { "serviceTypeCode": "SCHOOL_ATTENDANCE", "personId": pupil, "date": days_ago(1) } }),
        )
        .await;
    assert_eq!(code, "VALIDATION");
    assert!(err.to_string().contains("recordAttendance"), "{err:#}");
    assert_eq!(app.count("attendance").await, before);

    // The next period is fine; the enrolment lists both, in order.
    app.ok(ATTEND, input("SCHOOL_ATTENDANCE", &enrolled, 30, 16, 10, 11)).await;
    let q = "query($id: UUID!) { person(id: $id) { serviceRecords { serviceType { code } enrolment { attendance { periodStart daysPresent } } } } }";
    let records = app.ok(q, json!({ "id": pupil })).await["person"]["serviceRecords"].clone();
    let school = records.as_array().unwrap().iter().find(|r| r["serviceType"]["code"] == "SCHOOL_ENROLMENT").unwrap();
    assert_eq!(
        school["enrolment"]["attendance"],
        json!([{ "periodStart": days_ago(60), "daysPresent": 18 }, { "periodStart": days_ago(30), "daysPresent": 10 }])
    );
    // Once the enrolment has ended, no attendance after its end.
    app.ok(
        "mutation($i: EndEnrolmentInput!) { endEnrolment(input: $i) { version } }",
        json!({ "i": { "id": enrolled, "expectedVersion": 1, "endedOn": days_ago(10), "reason": "TRANSFERRED" } }),
    )
    .await;
    let (code, err) = app.err(ATTEND, input("SCHOOL_ATTENDANCE", &enrolled, 15, 5, 3, 3)).await;
    assert_eq!(code, "VALIDATION", "{err:#}");
    assert!(err.to_string().contains("input.periodEnd"), "{err:#}");
}

/// Two writes about one person take turns even when the person has no household (a lock of their
/// own): two pregnancies registered at once for a woman registered straight into a soum make one
/// pregnancy and one CONFLICT; two doses at once are evaluated each with the other in view.
#[tokio::test]
async fn writes_about_a_person_without_a_household_take_turns() {
    let app = TestApp::spawn().await;
    let soum = unit(&app, "11-BZD").await;
    let register = "mutation($i: RegisterPersonInput!) { registerPerson(input: $i) { id } }";
    let who = |given: &str, sex: &str, birth: &str| json!({ "i": { "orgUnitId": soum, "givenName": given, "familyName": "Дорж", "sex": sex, "birthDate": birth } });
    let woman = app.ok(register, who("Сараа", "FEMALE", "1995-02-03")).await["registerPerson"]["id"].clone();
    let pregnancy = "mutation($m: UUID!, $l: NaiveDate!) { registerPregnancy(input: { motherId: $m, lastMenstrualPeriod: $l }) { id } }";
    let vars = json!({ "m": woman, "l": days_ago(60) });
    let (a, b) = tokio::join!(app.gql(pregnancy, vars.clone()), app.gql(pregnancy, vars.clone()));
    let codes: Vec<&str> =
        [&a, &b].iter().map(|r| r["errors"][0]["extensions"]["code"].as_str().unwrap_or("OK")).collect();
    assert!(codes.contains(&"OK") && codes.contains(&"CONFLICT"), "one pregnancy, one CONFLICT: {a:#} {b:#}");

    let child = app.ok(register, who("Анар", "MALE", &days_ago(200))).await["registerPerson"]["id"].clone();
    let dose = "mutation($i: RecordImmunisationInput!) { recordImmunisation(input: $i) { id } }";
    let give = |n: i32, age: i64| json!({ "i": { "personId": child, "date": days_ago(200 - age), "antigenCode": "PCV", "doseNumber": n } });
    let (a, b) = tokio::join!(app.gql(dose, give(1, 61)), app.gql(dose, give(2, 122)));
    assert!(a["errors"].is_null() && b["errors"].is_null(), "{a:#} {b:#}");
    let doses = app
        .ok(
            "query($p: UUID!) { person(id: $p) { immunisations { doseNumber evaluation validDoseNumber } } }",
            json!({ "p": child }),
        )
        .await;
    let mut seen: Vec<Value> = doses["person"]["immunisations"].as_array().unwrap().clone();
    seen.sort_by_key(|d| d["doseNumber"].as_i64());
    assert_eq!(
        seen,
        [
            json!({ "doseNumber": 1, "evaluation": "VALID", "validDoseNumber": 1 }),
            json!({ "doseNumber": 2, "evaluation": "VALID", "validDoseNumber": 2 })
        ],
        "each dose evaluated with the other in view"
    );
}
