//! Child health along the chain: WHO z-scores through GraphQL (the reference vectors and the
//! classification cut-offs), stored and corrected measurements, growth charts, schedules and due
//! lists, development milestones.

use crate::fixtures::{days_ago, household, months_ago, person, unit};
use cbss_tests::TestApp;
use serde_json::{Value, json};

const VECTORS: &str = include_str!("../../../api/data/who/vectors.csv");
const LHFA: &str = include_str!("../../../api/data/who/who2006_lhfa_by_day.csv");
const WFA: &str = include_str!("../../../api/data/who/who2006_wfa_by_day.csv");
const WFL: &str = include_str!("../../../api/data/who/who2006_wfl_by_length.csv");
const BMI_2007: &str = include_str!("../../../api/data/who/who2007_bmi_by_month.csv");

const Z_FIELDS: &str =
    "reference ageDays correctedLengthHeightCm weightForAge lengthHeightForAge weightForLengthHeight bmiForAge
    classification { stunting wasting underweight thinness overweight obesity }
    flags { weightForAge lengthHeightForAge weightForLengthHeight bmiForAge standingUnder9Months outsideWhoRange }";
const GROWTH: &str =
    "mutation($i: RecordGrowthMeasurementInput!) { recordGrowthMeasurement(input: $i) { id version growthMeasurement {
    ageDays reference weightForAge lengthHeightForAge weightForLengthHeight bmiForAge
    classification { stunting wasting underweight overweight } flags { outsideWhoRange weightForAge } } } }";
const IMMUNISE: &str = "mutation($i: RecordImmunisationInput!) { recordImmunisation(input: $i) { id } }";
const SERVICE: &str = "mutation($i: RecordServiceInput!) { recordService(input: $i) { id } }";
const DUE: &str = "query($id: UUID!, $on: NaiveDate) { person(id: $id) { dueServices(asOf: $on) {
    kind code number status dueDate overdueFrom closesOn givenOn daysOverdue } } }";

fn opt(field: &str) -> Value {
    if field.is_empty() { Value::Null } else { json!(field.parse::<f64>().expect("number")) }
}

fn close(got: &Value, want: &Value, tol: f64) -> bool {
    match (got.as_f64(), want.as_f64()) {
        (None, None) => got.is_null() && want.is_null(),
        (Some(g), Some(w)) => (g - w).abs() <= tol,
        _ => false,
    }
}

/// Computes the vectors `start..start + chunk.len()` in one request, one aliased field a vector.
async fn vectors_request(app: &TestApp, start: usize, chunk: &[Vec<&str>]) -> serde_json::Map<String, Value> {
    let mut vars = serde_json::Map::new();
    let mut params = Vec::new();
    let mut fields = Vec::new();
    for (j, f) in chunk.iter().enumerate() {
        let i = start + j;
        vars.insert(
            format!("v{i}"),
            json!({
                "sex": if f[1] == "1" { "MALE" } else { "FEMALE" },
                "ageDays": f[2].parse::<i32>().expect("age"),
                "weightKg": opt(f[3]),
                "lengthHeightCm": opt(f[4]),
                "position": match f[5] { "L" => json!("LYING"), "H" => json!("STANDING"), _ => Value::Null },
            }),
        );
        params.push(format!("$v{i}: GrowthInput!"));
        fields.push(format!("v{i}: growthZScores(input: $v{i}) {{ {Z_FIELDS} }}"));
    }
    let query = format!("query({}) {{ {} }}", params.join(", "), fields.join("\n"));
    app.ok(&query, Value::Object(vars)).await.as_object().expect("data").clone()
}

#[tokio::test]
async fn all_60_who_reference_vectors_match_through_the_graphql_query() {
    let app = TestApp::spawn().await;
    let rows: Vec<Vec<&str>> =
        VECTORS.lines().skip(1).filter(|l| !l.is_empty()).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 60);
    // 30 vectors a request: the service allows at most 30 aliases in one document.
    let mut d = serde_json::Map::new();
    for (c, chunk) in rows.chunks(30).enumerate() {
        d.extend(vectors_request(&app, c * 30, chunk).await);
    }
    let mut max_diff: f64 = 0.0;
    for (i, f) in rows.iter().enumerate() {
        let got = &d[&format!("v{i}")];
        let id = f[0];
        let reference = match f[6] {
            "who2006" => json!("WHO_2006"),
            "who2007" => json!("WHO_2007"),
            _ => Value::Null,
        };
        assert_eq!(got["reference"], reference, "vector {id}");
        assert!(close(&got["correctedLengthHeightCm"], &opt(f[7]), 1e-9), "vector {id} clenhei: {got}");
        for (field, want) in [
            ("weightForAge", f[8]),
            ("lengthHeightForAge", f[9]),
            ("weightForLengthHeight", f[10]),
            ("bmiForAge", f[12]),
        ] {
            let want = opt(want);
            assert!(close(&got[field], &want, 0.01 + 1e-9), "vector {id} {field}: got {}, want {want}", got[field]);
            if let (Some(g), Some(w)) = (got[field].as_f64(), want.as_f64()) {
                max_diff = max_diff.max((g - w).abs());
            }
        }
    }
    println!("60 WHO vectors through GraphQL: max |diff| = {max_diff:.4}");
}

/// L, M, S of a WHO table row: `sex` 1 or 2, `key` a day, a month or a length in cm.
fn lms(csv: &str, sex: u8, key: f64) -> (f64, f64, f64) {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f[0] == sex.to_string() && (f[1].parse::<f64>().expect("key") - key).abs() < 1e-9)
        .map(|f| {
            let n = |i: usize| f[i].parse::<f64>().expect("number");
            (n(2), n(3), n(4))
        })
        .unwrap_or_else(|| panic!("no row {sex} {key}"))
}

/// The measurement whose (restricted, for weights) WHO z-score is `z`.
fn value_at((l, m, s): (f64, f64, f64), z: f64) -> f64 {
    let sd = |k: f64| m * (1.0 + l * s * k).powf(1.0 / l);
    if z > 3.0 {
        sd(3.0) + (z - 3.0) * (sd(3.0) - sd(2.0))
    } else if z < -3.0 {
        sd(-3.0) + (z + 3.0) * (sd(-2.0) - sd(-3.0))
    } else {
        sd(z)
    }
}

#[tokio::test]
async fn classification_cut_offs_hold_at_the_boundaries() {
    let app = TestApp::spawn().await;
    let ask = |input: Value| {
        let app = &app;
        async move {
            let d = app
                .ok(
                    &format!("query($i: GrowthInput!) {{ growthZScores(input: $i) {{ {Z_FIELDS} }} }}"),
                    json!({ "i": input }),
                )
                .await;
            d["growthZScores"].clone()
        }
    };
    // Stunting: girl, 1000 days, standing (no correction), HAZ at the cut-offs.
    let row = lms(LHFA, 2, 1000.0);
    for (z, want) in [(-2.0, "NONE"), (-2.01, "MODERATE"), (-3.0, "MODERATE"), (-3.01, "SEVERE")] {
        let r = ask(json!({ "sex": "FEMALE", "ageDays": 1000, "weightKg": 12.0,
            "lengthHeightCm": value_at(row, z), "position": "STANDING" }))
        .await;
        assert_eq!(r["lengthHeightForAge"], json!(z), "{r}");
        assert_eq!(r["classification"]["stunting"], want, "HAZ {z}");
    }
    // Wasting, overweight, obesity: boy, 500 days, 80.0 cm lying (weight-for-length row 80.0).
    let row = lms(WFL, 1, 80.0);
    for (z, wasting, overweight, obesity) in [
        (-2.0, "NONE", false, false),
        (-2.01, "MODERATE", false, false),
        (-3.0, "MODERATE", false, false),
        (-3.01, "SEVERE", false, false),
        (2.0, "NONE", false, false),
        (2.01, "NONE", true, false),
        (3.0, "NONE", true, false),
        (3.01, "NONE", true, true),
    ] {
        let r = ask(json!({ "sex": "MALE", "ageDays": 500, "weightKg": value_at(row, z),
            "lengthHeightCm": 80.0, "position": "LYING" }))
        .await;
        assert_eq!(r["weightForLengthHeight"], json!(z), "{r}");
        let c = &r["classification"];
        assert_eq!(
            (&c["wasting"], &c["overweight"], &c["obesity"]),
            (&json!(wasting), &json!(overweight), &json!(obesity)),
            "WHZ {z}"
        );
    }
    // Underweight: girl, 400 days.
    let row = lms(WFA, 2, 400.0);
    for (z, want) in [(-2.0, "NONE"), (-2.01, "MODERATE"), (-3.0, "MODERATE"), (-3.01, "SEVERE")] {
        let r = ask(json!({ "sex": "FEMALE", "ageDays": 400, "weightKg": value_at(row, z) })).await;
        assert_eq!(r["weightForAge"], json!(z), "{r}");
        assert_eq!(r["classification"]["underweight"], want, "WAZ {z}");
    }
    // 5-19 years (WHO 2007, BMI-for-age): boy of exactly 96 months (2922 days), 130 cm.
    let row = lms(BMI_2007, 1, 96.0);
    for (z, thinness, overweight, obesity) in [
        (-2.0, "NONE", false, false),
        (-2.01, "MODERATE", false, false),
        (-3.01, "SEVERE", false, false),
        (1.0, "NONE", false, false),
        (1.01, "NONE", true, false),
        (2.0, "NONE", true, false),
        (2.01, "NONE", true, true),
    ] {
        let weight = value_at(row, z) * 1.3 * 1.3;
        let r = ask(json!({ "sex": "MALE", "ageDays": 2922, "weightKg": weight,
            "lengthHeightCm": 130.0, "position": "STANDING" }))
        .await;
        assert_eq!(r["reference"], "WHO_2007");
        assert_eq!(r["bmiForAge"], json!(z), "{r}");
        let c = &r["classification"];
        assert_eq!(
            (&c["thinness"], &c["overweight"], &c["obesity"], &c["wasting"]),
            (&json!(thinness), &json!(overweight), &json!(obesity), &Value::Null),
            "BAZ {z}"
        );
    }
    // Oedema: no weight-based z-scores, severe wasting.
    let r =
        ask(json!({ "sex": "MALE", "ageDays": 500, "weightKg": 9.0, "lengthHeightCm": 80.0, "oedema": true })).await;
    assert_eq!((&r["weightForAge"], &r["weightForLengthHeight"]), (&Value::Null, &Value::Null));
    assert_eq!(r["classification"]["wasting"], "SEVERE");
}

#[tokio::test]
async fn a_growth_question_is_validated() {
    let app = TestApp::spawn().await;
    let q = "query($i: GrowthInput!) { growthZScores(input: $i) { reference } }";
    for (input, path) in [
        (
            json!({ "sex": "MALE", "ageDays": 10, "birthDate": "2026-01-01", "measuredOn": "2026-02-01", "weightKg": 4.0 }),
            "input.ageDays",
        ),
        (json!({ "sex": "MALE", "ageDays": -1, "weightKg": 4.0 }), "input.ageDays"),
        (json!({ "sex": "MALE", "birthDate": "2026-01-01", "weightKg": 4.0 }), "input.measuredOn"),
        (json!({ "sex": "MALE", "ageDays": 10, "weightKg": 0.0 }), "input.weightKg"),
        (json!({ "sex": "MALE", "ageDays": 10, "lengthHeightCm": 400.0 }), "input.lengthHeightCm"),
    ] {
        let (code, err) = app.err(q, json!({ "i": input })).await;
        assert_eq!((code.as_str(), err["extensions"]["fields"][0]["path"].as_str()), ("VALIDATION", Some(path)));
    }
    // Dates instead of an age.
    let d = app
        .ok(
            "query($i: GrowthInput!) { growthZScores(input: $i) { ageDays reference weightForAge } }",
            json!({ "i": { "sex": "FEMALE", "birthDate": "2025-01-01", "measuredOn": "2026-01-01", "weightKg": 9.0 } }),
        )
        .await;
    assert_eq!(d["growthZScores"]["ageDays"], 365);
    assert!(d["growthZScores"]["weightForAge"].is_f64());
}

async fn child_in(app: &TestApp, district: &str, given: &str, sex: &str, birth: &str) -> String {
    let h = household(app, &unit(app, district).await).await;
    person(app, &h, given, sex, birth).await
}

#[tokio::test]
async fn measurements_carry_their_z_scores_and_values_outside_who_are_flagged_not_refused() {
    let app = TestApp::spawn().await;
    let child = child_in(&app, "11-BZD", "Анужин", "FEMALE", &months_ago(14)).await;
    let date = days_ago(1);
    let d = app
        .ok(GROWTH, json!({ "i": { "personId": child, "date": date, "weightKg": 8.2, "lengthHeightCm": 74.0, "position": "LYING", "muacMm": 135.0 } }))
        .await;
    let stored = &d["recordGrowthMeasurement"]["growthMeasurement"];
    // The same as the question asked directly.
    let age = stored["ageDays"].as_i64().expect("age");
    let q = app
        .ok(
            &format!("query($i: GrowthInput!) {{ growthZScores(input: $i) {{ {Z_FIELDS} }} }}"),
            json!({ "i": { "sex": "FEMALE", "ageDays": age, "weightKg": 8.2, "lengthHeightCm": 74.0, "position": "LYING" } }),
        )
        .await;
    let q = &q["growthZScores"];
    for f in ["reference", "weightForAge", "lengthHeightForAge", "weightForLengthHeight", "bmiForAge"] {
        assert_eq!(stored[f], q[f], "{f}");
        if f != "reference" {
            assert!(stored[f].is_f64(), "{f}: {stored}");
        }
    }
    assert_eq!(stored["classification"]["stunting"], q["classification"]["stunting"]);
    assert_eq!(stored["flags"]["outsideWhoRange"], false);

    // A newborn of 44 cm: below the weight-for-length table; stored, with a null WHZ and a flag.
    let baby = child_in(&app, "11-BZD", "Нярай", "MALE", &days_ago(5)).await;
    let d = app
        .ok(GROWTH, json!({ "i": { "personId": baby, "date": days_ago(0), "weightKg": 2.1, "lengthHeightCm": 44.0 } }))
        .await;
    let m = &d["recordGrowthMeasurement"]["growthMeasurement"];
    assert_eq!(m["weightForLengthHeight"], Value::Null);
    assert_eq!(m["classification"]["wasting"], Value::Null);
    assert_eq!(m["flags"]["outsideWhoRange"], true);
    assert!(m["weightForAge"].is_f64() && m["lengthHeightForAge"].is_f64());

    // Impossible values are refused and change nothing.
    let before = (app.count("growth_measurement").await, app.count("service_record").await);
    for (weight, height, path) in [(0.0, 70.0, "input.weightKg"), (8.0, 400.0, "input.lengthHeightCm")] {
        let (code, err) = app
            .err(GROWTH, json!({ "i": { "personId": child, "date": days_ago(0), "weightKg": weight, "lengthHeightCm": height } }))
            .await;
        assert_eq!((code.as_str(), err["extensions"]["fields"][0]["path"].as_str()), ("VALIDATION", Some(path)));
    }
    assert_eq!((app.count("growth_measurement").await, app.count("service_record").await), before);
}

#[tokio::test]
async fn a_correction_recomputes_the_z_scores_and_bumps_the_version() {
    let app = TestApp::spawn().await;
    let child = child_in(&app, "11-BZD", "Тэмүүлэн", "MALE", &months_ago(10)).await;
    let d = app
        .ok(GROWTH, json!({ "i": { "personId": child, "date": days_ago(2), "weightKg": 6.0, "lengthHeightCm": 70.0, "position": "LYING" } }))
        .await;
    let record = &d["recordGrowthMeasurement"];
    let id = record["id"].as_str().expect("id").to_string();
    assert_eq!(record["version"], 1);
    let before = record["growthMeasurement"]["weightForAge"].as_f64().expect("waz");
    assert_eq!(record["growthMeasurement"]["classification"]["underweight"], "SEVERE");
    let correct = "mutation($i: CorrectGrowthMeasurementInput!) { correctGrowthMeasurement(input: $i) { id version
        growthMeasurement { weightKg lengthHeightCm muacMm weightForAge lengthHeightForAge classification { underweight } } } }";
    let d = app.ok(correct, json!({ "i": { "id": id, "expectedVersion": 1, "weightKg": 8.6, "muacMm": 140.0 } })).await;
    let r = &d["correctGrowthMeasurement"];
    assert_eq!(r["version"], 2);
    let m = &r["growthMeasurement"];
    assert_eq!(
        (m["weightKg"].as_f64(), m["lengthHeightCm"].as_f64(), m["muacMm"].as_f64()),
        (Some(8.6), Some(70.0), Some(140.0))
    );
    let after = m["weightForAge"].as_f64().expect("waz");
    assert!(after > before + 1.0, "{before} -> {after}");
    assert_eq!(m["classification"]["underweight"], "NONE");
    // A stale version is a conflict; an impossible value is refused; neither changes anything.
    let (code, _) = app.err(correct, json!({ "i": { "id": id, "expectedVersion": 1, "weightKg": 9.0 } })).await;
    assert_eq!(code, "CONFLICT");
    let (code, err) =
        app.err(correct, json!({ "i": { "id": id, "expectedVersion": 2, "lengthHeightCm": 400.0 } })).await;
    assert_eq!(
        (code.as_str(), err["extensions"]["fields"][0]["path"].as_str()),
        ("VALIDATION", Some("input.lengthHeightCm"))
    );
    let (code, _) = app
        .err(
            correct,
            json!({ "i": { "id": "0193a1c2-0000-7000-8000-00000000dead", "expectedVersion": 1, "weightKg": 9.0 } }),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");
    let d = app
        .ok(
            "query($id: UUID!) { person(id: $id) { growthMeasurements { weightKg weightForAge record { version } } } }",
            json!({ "id": child }),
        )
        .await;
    assert_eq!(
        d["person"]["growthMeasurements"],
        json!([{ "weightKg": 8.6, "weightForAge": after, "record": { "version": 2 } }])
    );
    // Clearing the weight drops the weight-based z-scores.
    let d = app.ok(correct, json!({ "i": { "id": id, "expectedVersion": 2, "weightKg": null } })).await;
    let m = &d["correctGrowthMeasurement"]["growthMeasurement"];
    assert_eq!((&m["weightKg"], &m["weightForAge"]), (&Value::Null, &Value::Null));
    assert!(m["lengthHeightForAge"].is_f64());
}

#[tokio::test]
async fn a_corrected_birth_date_recomputes_the_stored_z_scores() {
    let app = TestApp::spawn().await;
    let child = child_in(&app, "11-BZD", "Болд", "MALE", &months_ago(12)).await;
    app.ok(GROWTH, json!({ "i": { "personId": child, "date": days_ago(0), "weightKg": 9.6, "lengthHeightCm": 75.7, "position": "LYING" } }))
        .await;
    let q = "query($id: UUID!) { person(id: $id) { version growthMeasurements { ageDays lengthHeightForAge } } }";
    let before = app.ok(q, json!({ "id": child })).await;
    app.ok(
        "mutation($id: UUID!, $b: NaiveDate!) { updatePerson(input: { id: $id, birthDate: $b }) { id } }",
        json!({ "id": child, "b": months_ago(18) }),
    )
    .await;
    let after = app.ok(q, json!({ "id": child })).await;
    let (b, a) = (&before["person"]["growthMeasurements"][0], &after["person"]["growthMeasurements"][0]);
    assert!(a["ageDays"].as_i64() > b["ageDays"].as_i64());
    assert!(a["lengthHeightForAge"].as_f64() < b["lengthHeightForAge"].as_f64(), "{b} -> {a}");
}

#[tokio::test]
async fn a_growth_chart_has_the_points_and_the_who_curves() {
    let app = TestApp::spawn().await;
    let child = child_in(&app, "11-BZD", "Тэмүүлэн", "MALE", &months_ago(14)).await;
    for (days, weight) in [(300, 7.9), (30, 9.4)] {
        app.ok(
            GROWTH,
            json!({ "i": { "personId": child, "date": days_ago(days), "weightKg": weight, "lengthHeightCm": 72.0 } }),
        )
        .await;
    }
    let d = app
        .ok(
            "query($id: UUID!) { person(id: $id) { growthMeasurements { weightForAge }
               growthChart(indicator: WEIGHT_FOR_AGE) { indicator sex
                 points { date ageDays value zScore flagged }
                 curves { ageDays sdMinus3 sdMinus2 median sdPlus2 sdPlus3 } } } }",
            json!({ "id": child }),
        )
        .await;
    let chart = &d["person"]["growthChart"];
    assert_eq!((chart["indicator"].as_str(), chart["sex"].as_str()), (Some("WEIGHT_FOR_AGE"), Some("MALE")));
    let points = chart["points"].as_array().expect("points");
    assert_eq!(points.len(), 2);
    assert_eq!(points[0]["date"], days_ago(300), "oldest first");
    assert_eq!(points[0]["value"], 7.9);
    let stored: Vec<&Value> =
        d["person"]["growthMeasurements"].as_array().expect("list").iter().map(|m| &m["weightForAge"]).collect();
    assert!(points.iter().all(|p| stored.contains(&&p["zScore"])));
    let curves = chart["curves"].as_array().expect("curves");
    assert_eq!(curves[0]["ageDays"], 0);
    assert_eq!(curves[0]["median"], 3.3464, "WHO boys' median birth weight");
    assert!(
        curves
            .iter()
            .all(|c| c["sdMinus3"].as_f64() < c["median"].as_f64() && c["median"].as_f64() < c["sdPlus3"].as_f64())
    );
    let last = curves.last().expect("last")["ageDays"].as_i64().expect("age");
    let age = points[1]["ageDays"].as_i64().expect("age") + 30;
    assert!(last >= age && last < age + 8, "curves reach the child's age: {last} vs {age}");
    assert!(curves.len() < 70, "weekly curves for 14 months: {}", curves.len());
}

/// A child with doses given on the given days of age.
async fn immunise(app: &TestApp, child: &str, birth_days_ago: i64, doses: &[(&str, i32, i64)]) {
    for (antigen, dose, age) in doses {
        app.ok(IMMUNISE, json!({ "i": { "personId": child, "date": days_ago(birth_days_ago - age), "antigenCode": antigen, "doseNumber": dose } }))
            .await;
    }
}

fn item<'a>(items: &'a Value, code: &str) -> &'a Value {
    items
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {items:#}"))
}

#[tokio::test]
async fn due_services_of_a_child_who_missed_a_dose_and_of_a_child_on_time() {
    let app = TestApp::spawn().await;
    // 160 days old: PENTA 3 and OPV 3 were due at 122 days, overdue from 150.
    let late = child_in(&app, "11-BZD", "Хоцорсон", "MALE", &days_ago(160)).await;
    immunise(
        &app,
        &late,
        160,
        &[("BCG", 1, 0), ("HEPB_BIRTH", 1, 0), ("PENTA", 1, 61), ("PENTA", 2, 91), ("OPV", 1, 61), ("OPV", 2, 91)],
    )
    .await;
    let d = app.ok(DUE, json!({ "id": late })).await;
    let items = &d["person"]["dueServices"];
    let p3 = item(items, "PENTA:3");
    assert_eq!(p3["status"], "OVERDUE");
    assert_eq!(
        (p3["dueDate"].as_str(), p3["overdueFrom"].as_str()),
        (Some(days_ago(160 - 122).as_str()), Some(days_ago(10).as_str()))
    );
    assert_eq!(p3["daysOverdue"], 10);
    assert_eq!(item(items, "PENTA:2")["status"], "GIVEN");
    assert_eq!(item(items, "PENTA:2")["givenOn"], days_ago(160 - 91));
    assert_eq!(item(items, "BCG:1")["status"], "GIVEN");
    assert_eq!(item(items, "GM_0_11")["status"], "OVERDUE", "never weighed");
    assert_eq!(item(items, "VITAMIN_A")["status"], "UPCOMING");
    // As of the day before dose 3 fell due, it was upcoming.
    let d = app.ok(DUE, json!({ "id": late, "on": days_ago(160 - 121) })).await;
    assert_eq!(item(&d["person"]["dueServices"], "PENTA:3")["status"], "UPCOMING");

    // 100 days old, everything on time: nothing overdue, the second doses due now.
    let on_time = child_in(&app, "11-BZD", "Цагтаа", "FEMALE", &days_ago(100)).await;
    immunise(
        &app,
        &on_time,
        100,
        &[("BCG", 1, 0), ("HEPB_BIRTH", 1, 0), ("PENTA", 1, 61), ("OPV", 1, 61), ("PCV", 1, 61)],
    )
    .await;
    app.ok(
        GROWTH,
        json!({ "i": { "personId": on_time, "date": days_ago(5), "weightKg": 5.6, "lengthHeightCm": 59.0 } }),
    )
    .await;
    let d = app.ok(DUE, json!({ "id": on_time })).await;
    let items = &d["person"]["dueServices"];
    let overdue: Vec<&Value> = items
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["status"] == "OVERDUE" || i["status"] == "MISSED")
        .collect();
    assert!(overdue.is_empty(), "{overdue:#?}");
    assert_eq!(item(items, "PENTA:2")["status"], "DUE");
    // PCV is 2+1 at 2, 4 and 9 months: the second dose is not due before 4 months.
    assert_eq!(item(items, "PCV:2")["status"], "UPCOMING");
    assert_eq!(item(items, "PCV:2")["dueDate"], days_ago(100 - 122));
    let weighing = items
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["kind"] == "GROWTH_MONITORING")
        .map(|i| (i["status"].as_str(), i["givenOn"].as_str()))
        .collect::<Vec<_>>();
    assert_eq!(weighing, [(Some("GIVEN"), Some(days_ago(5).as_str())), (Some("UPCOMING"), None)]);
    assert!(items.as_array().expect("items").iter().all(|i| i["code"] != "ROTA:1"), "rotavirus is not in the schedule");
}

#[tokio::test]
async fn due_services_of_a_pregnancy_at_30_weeks() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    let mother = person(&app, &h, "Солонго", "FEMALE", "1996-06-06").await;
    app.ok(
        "mutation($m: UUID!, $l: NaiveDate!) { registerPregnancy(input: { motherId: $m, lastMenstrualPeriod: $l }) { gestationWeeks } }",
        json!({ "m": mother, "l": days_ago(30 * 7) }),
    )
    .await;
    // Contacts at 11 and 20 weeks; none at 26.
    for weeks_ago in [19, 10] {
        app.ok(
            SERVICE,
            json!({ "i": { "serviceTypeCode": "ANC_CONTACT", "personId": mother, "date": days_ago(weeks_ago * 7) } }),
        )
        .await;
    }
    let d = app.ok(DUE, json!({ "id": mother })).await;
    let anc: Vec<(i64, String)> = d["person"]["dueServices"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["kind"] == "ANTENATAL_CARE")
        .map(|i| (i["number"].as_i64().expect("n"), i["status"].as_str().expect("s").to_string()))
        .collect();
    let want: Vec<(i64, String)> = [
        (1, "GIVEN"),
        (2, "GIVEN"),
        (3, "MISSED"),
        (4, "DUE"),
        (5, "UPCOMING"),
        (6, "UPCOMING"),
        (7, "UPCOMING"),
        (8, "UPCOMING"),
    ]
    .iter()
    .map(|(n, s)| (*n, s.to_string()))
    .collect();
    assert_eq!(anc, want);
    let fourth = item(&d["person"]["dueServices"], "ANC_4");
    assert_eq!(
        (fourth["dueDate"].as_str(), fourth["overdueFrom"].as_str()),
        (Some(days_ago(0).as_str()), Some(days_ago(-14).as_str()))
    );
    // At 29 weeks the 26-week contact was overdue.
    let d = app.ok(DUE, json!({ "id": mother, "on": days_ago(7) })).await;
    assert_eq!(item(&d["person"]["dueServices"], "ANC_3")["status"], "OVERDUE");
    // She is on her khoroo's antenatal due list.
    let d = app
        .ok(
            "query($u: UUID!) { dueList(orgUnitId: $u, kinds: [ANTENATAL_CARE]) { totalCount edges { node { person { id } items { code status } } } } }",
            json!({ "u": unit(&app, "11-BZD").await }),
        )
        .await;
    assert_eq!(d["dueList"]["totalCount"], 1);
    assert_eq!(d["dueList"]["edges"][0]["node"]["person"]["id"], mother);
    assert_eq!(d["dueList"]["edges"][0]["node"]["items"], json!([{ "code": "ANC_4", "status": "DUE" }]));
}

#[tokio::test]
async fn a_pregnancy_past_its_date_asks_for_its_outcome_then_leaves_the_stage() {
    let app = TestApp::spawn().await;
    let bzd = unit(&app, "11-BZD").await;
    let h = household(&app, &bzd).await;
    let mother = person(&app, &h, "Солонго", "FEMALE", "1996-06-06").await;
    let lmp = 300;
    let d = app
        .ok(
            "mutation($m: UUID!, $l: NaiveDate!) { registerPregnancy(input: { motherId: $m, lastMenstrualPeriod: $l }) { id } }",
            json!({ "m": mother, "l": days_ago(lmp) }),
        )
        .await;
    let pregnancy = d["registerPregnancy"]["id"].clone();
    let q = "query($m: UUID!, $p: ID!, $u: UUID!, $on: NaiveDate!) {
      person(id: $m) { lifeStage(asOf: $on) { code } }
      node(id: $p) { ... on Pregnancy { status(asOf: $on) gestationWeeks(asOf: $on) } }
      people(filter: { orgUnitId: $u, lifeStage: \"PREGNANCY\", asOf: $on }) { totalCount }
      dueList(orgUnitId: $u, asOf: $on, kinds: [PREGNANCY_OUTCOME]) { totalCount edges { node { items { code status dueDate overdueFrom } } } } }";
    // Day `n` after the last menstrual period: stage, status, in the stage's list, on the due list.
    let at = |n: i64| {
        let app = &app;
        let vars = json!({ "m": mother, "p": pregnancy, "u": bzd, "on": days_ago(lmp - n) });
        async move {
            let d = app.ok(q, vars).await;
            (
                d["person"]["lifeStage"]["code"].as_str().map(str::to_string),
                d["node"]["status"].as_str().map(str::to_string),
                d["people"]["totalCount"].as_i64().unwrap(),
                d["dueList"]["totalCount"].as_i64().unwrap(),
                d,
            )
        }
    };
    let s = |v: &str| Some(v.to_string());
    // 42 weeks (day 294) is WHO's post-term: the outcome is due from then, overdue a week later.
    let (stage, status, listed, due, _) = at(293).await;
    assert_eq!((stage, status, listed, due), (s("PREGNANCY"), s("OPEN"), 1, 0));
    let (stage, status, listed, due, d) = at(294).await;
    assert_eq!((stage, status, listed, due), (s("PREGNANCY"), s("OUTCOME_DUE"), 1, 1));
    assert_eq!(
        d["dueList"]["edges"][0]["node"]["items"],
        json!([{ "code": "PREGNANCY_OUTCOME", "status": "DUE", "dueDate": days_ago(lmp - 294),
                 "overdueFrom": days_ago(lmp - 301) }])
    );
    // Through 47 completed weeks (day 335) she stays in the stage; from day 336 she leaves it,
    // the lists and the due list, and her pregnancy's outcome is unknown.
    let (stage, status, listed, due, d) = at(335).await;
    assert_eq!((stage, status, listed, due), (s("PREGNANCY"), s("OUTCOME_DUE"), 1, 1));
    assert_eq!(d["dueList"]["edges"][0]["node"]["items"][0]["status"], "OVERDUE");
    let (stage, status, listed, due, d) = at(336).await;
    assert_eq!((stage, status, listed, due), (None, s("OUTCOME_UNKNOWN"), 0, 0));
    assert_eq!(d["node"]["gestationWeeks"], Value::Null);
    // Before the last menstrual period there is no pregnancy yet.
    let (stage, status, _, _, _) = at(-1).await;
    assert_eq!((stage, status), (None, None));
    // The outcome is recorded on the pregnancy, not as a service.
    let (code, _) = app
        .err(
            SERVICE,
            json!({ "i": { "serviceTypeCode": "PREGNANCY_OUTCOME", "personId": mother, "date": days_ago(1) } }),
        )
        .await;
    assert_eq!(code, "VALIDATION");
}

#[tokio::test]
async fn the_due_list_keeps_to_its_org_unit_and_puts_the_most_overdue_first() {
    let app = TestApp::spawn().await;
    // Nothing given to either: BCG overdue a week after birth, so the older child is more overdue.
    let older = child_in(&app, "11-BZD", "Ахмад", "MALE", &days_ago(200)).await;
    let younger = child_in(&app, "11-SBD", "Дүү", "FEMALE", &days_ago(100)).await;
    let list = "query($u: UUID!, $first: Int, $after: String, $kinds: [DueKind!]) { dueList(orgUnitId: $u, first: $first, after: $after, kinds: $kinds) {
        totalCount pageInfo { hasNextPage } edges { cursor node { person { id } urgentFrom daysOverdue items { code status } } } } }";
    let bzd = unit(&app, "11-BZD").await;
    let d = app.ok(list, json!({ "u": bzd })).await;
    assert_eq!(d["dueList"]["totalCount"], 1);
    assert_eq!(d["dueList"]["edges"][0]["node"]["person"]["id"], older);
    assert_eq!(d["dueList"]["edges"][0]["node"]["urgentFrom"], days_ago(200 - 7));
    assert_eq!(d["dueList"]["edges"][0]["node"]["daysOverdue"], 193);
    let sbd = unit(&app, "11-SBD").await;
    let d = app.ok(list, json!({ "u": sbd })).await;
    assert_eq!(d["dueList"]["totalCount"], 1);
    assert_eq!(d["dueList"]["edges"][0]["node"]["person"]["id"], younger);
    // The capital's subtree holds both, the most overdue first, one a page.
    let ub = unit(&app, "11").await;
    let d = app.ok(list, json!({ "u": ub, "first": 1 })).await;
    assert_eq!(d["dueList"]["totalCount"], 2);
    assert_eq!(d["dueList"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(d["dueList"]["edges"][0]["node"]["person"]["id"], older);
    let cursor = d["dueList"]["edges"][0]["cursor"].clone();
    let d = app.ok(list, json!({ "u": ub, "first": 1, "after": cursor })).await;
    assert_eq!(d["dueList"]["edges"][0]["node"]["person"]["id"], younger);
    assert_eq!(d["dueList"]["pageInfo"]["hasNextPage"], false);
    // Items are due or overdue only; kinds narrow them.
    let d = app.ok(list, json!({ "u": ub, "kinds": ["VITAMIN_A"] })).await;
    assert_eq!(d["dueList"]["totalCount"], 1, "only the older child is past 6 months");
    assert_eq!(d["dueList"]["edges"][0]["node"]["items"], json!([{ "code": "VITAMIN_A", "status": "DUE" }]));
    // Another region's unit sees neither.
    let d = app.ok(list, json!({ "u": unit(&app, "85").await })).await;
    assert_eq!(d["dueList"]["totalCount"], 0);
    let (code, err) = app.err(list, json!({ "u": "0193a1c2-0000-7000-8000-00000000dead" })).await;
    assert_eq!((code.as_str(), err["extensions"]["fields"][0]["path"].as_str()), ("VALIDATION", Some("orgUnitId")));
}

#[tokio::test]
async fn the_schedules_are_data_clients_can_read() {
    let app = TestApp::spawn().await;
    let d = app
        .ok(
            "{ antigens { code doses inNationalSchedule doseSchedule { doseNumber recommendedAgeDays minIntervalDays } }
               scheduleRules { code kind pattern anchor unit startAge dueAge endAge interval graceDays } }",
            json!({}),
        )
        .await;
    let antigen = |code: &str| {
        d["antigens"].as_array().expect("list").iter().find(|a| a["code"] == code).cloned().expect("antigen")
    };
    let ages = |code: &str| -> Vec<i64> {
        antigen(code)["doseSchedule"]
            .as_array()
            .expect("doses")
            .iter()
            .map(|x| x["recommendedAgeDays"].as_i64().expect("age"))
            .collect()
    };
    assert_eq!(ages("PCV"), [61, 122, 274]);
    assert_eq!(ages("MMR"), [274, 730]);
    assert_eq!(ages("HEPA"), [548, 730]);
    assert_eq!(antigen("HEPA")["doses"], 2);
    assert_eq!(ages("DT"), [2557]);
    assert_eq!(antigen("ROTA")["inNationalSchedule"], false);
    assert_eq!(antigen("PENTA")["doseSchedule"][1]["minIntervalDays"], 28);
    let rules = d["scheduleRules"].as_array().expect("rules");
    let anc: Vec<i64> =
        rules.iter().filter(|r| r["kind"] == "ANTENATAL_CARE").map(|r| r["dueAge"].as_i64().expect("due")).collect();
    assert_eq!(anc, [0, 20, 26, 30, 34, 36, 38, 40]);
    let vitamin_a = rules.iter().find(|r| r["code"] == "VITAMIN_A").expect("vitamin A");
    assert_eq!(
        vitamin_a,
        &json!({ "code": "VITAMIN_A", "kind": "VITAMIN_A", "pattern": "RECURRING", "anchor": "BIRTH",
        "unit": "MONTH", "startAge": 6, "dueAge": 6, "endAge": 59, "interval": 6, "graceDays": 30 })
    );
    assert_eq!(rules.iter().filter(|r| r["kind"] == "POSTNATAL_CARE").count(), 8);
}

#[tokio::test]
async fn milestone_checks_show_on_track_domains() {
    let app = TestApp::spawn().await;
    let child = child_in(&app, "11-BZD", "Мөнхзул", "FEMALE", &months_ago(18)).await;
    let record = "mutation($i: RecordMilestoneCheckInput!) { recordMilestoneCheck(input: $i) { id serviceType { code }
        milestoneChecks { achieved milestone { code domain } } } }";
    let d = app
        .ok(
            record,
            json!({ "i": { "personId": child, "date": days_ago(0), "items": [
            { "milestoneCode": "MOTOR_WALKS_ALONE", "achieved": false },
            { "milestoneCode": "LANGUAGE_THREE_WORDS", "achieved": false },
            { "milestoneCode": "SOCIO_EMOTIONAL_COPIES", "achieved": true } ] } }),
        )
        .await;
    assert_eq!(d["recordMilestoneCheck"]["serviceType"]["code"], "DEVELOPMENT_CHECK");
    assert_eq!(d["recordMilestoneCheck"]["milestoneChecks"].as_array().map(Vec::len), Some(3));
    let q = "query($id: UUID!) { person(id: $id) { milestones { ageMonths onTrackDomains assessedDomains
        domains { domain onTrack lastCheckedOn items { milestone { code expectedByMonths } status } } } } }";
    let d = app.ok(q, json!({ "id": child })).await;
    let m = &d["person"]["milestones"];
    assert_eq!(
        (m["ageMonths"].as_i64(), m["onTrackDomains"].as_i64(), m["assessedDomains"].as_i64()),
        (Some(18), Some(2), Some(3))
    );
    let domain = |name: &str| {
        m["domains"].as_array().expect("domains").iter().find(|x| x["domain"] == name).cloned().expect("domain")
    };
    assert_eq!(domain("MOTOR")["onTrack"], false, "walking alone is expected by 17 months");
    assert_eq!(domain("LANGUAGE")["onTrack"], true);
    assert_eq!(domain("SOCIO_EMOTIONAL")["onTrack"], true);
    assert_eq!(domain("COGNITIVE")["onTrack"], Value::Null);
    let status = |d: &Value, code: &str| {
        d["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["milestone"]["code"] == code)
            .map(|i| i["status"].clone())
    };
    assert_eq!(status(&domain("MOTOR"), "MOTOR_WALKS_ALONE"), Some(json!("DELAYED")));
    assert_eq!(status(&domain("MOTOR"), "MOTOR_HOPS"), Some(json!("NOT_CHECKED")));
    assert_eq!(status(&domain("LANGUAGE"), "LANGUAGE_THREE_WORDS"), Some(json!("NOT_YET")));
    // Refused: unknown or repeated items, a child of 6, the untyped mutation; nothing written.
    let before = app.count("milestone_check").await;
    let (code, err) = app
        .err(
            record,
            json!({ "i": { "personId": child, "date": days_ago(0), "items": [
            { "milestoneCode": "MOTOR_SITS", "achieved": true }, { "milestoneCode": "NO_SUCH", "achieved": true },
            { "milestoneCode": "MOTOR_SITS", "achieved": true } ] } }),
        )
        .await;
    assert_eq!(code, "VALIDATION");
    let paths: Vec<&str> =
        err["extensions"]["fields"].as_array().expect("fields").iter().filter_map(|f| f["path"].as_str()).collect();
    assert_eq!(paths, ["input.items.1.milestoneCode", "input.items.2.milestoneCode"]);
    let six = child_in(&app, "11-BZD", "Том", "MALE", &months_ago(72)).await;
    let (code, err) = app
        .err(record, json!({ "i": { "personId": six, "date": days_ago(0), "items": [{ "milestoneCode": "MOTOR_HOPS", "achieved": true }] } }))
        .await;
    assert_eq!((code.as_str(), err["extensions"]["fields"][0]["path"].as_str()), ("VALIDATION", Some("input.date")));
    let (code, _) = app
        .err(
            SERVICE,
            json!({ "i": { "serviceTypeCode": "DEVELOPMENT_CHECK", "personId": child, "date": days_ago(0) } }),
        )
        .await;
    assert_eq!(code, "VALIDATION", "development checks carry their milestones");
    assert_eq!(app.count("milestone_check").await, before);
    let d = app.ok("{ milestones { code domain } }", json!({})).await;
    assert!(d["milestones"].as_array().expect("list").len() >= 20);
}

#[tokio::test]
async fn demo_data_carries_z_scores_and_gives_a_due_list() {
    let app = TestApp::spawn().await;
    app.seed_demo(300).await;
    let d = app
        .ok(
            "{ people(filter: { bornFrom: \"2023-01-01\" }, first: 100) { edges { node { growthMeasurements { ageDays reference weightForAge } } } } }",
            json!({}),
        )
        .await;
    let measurements: Vec<Value> = d["people"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .flat_map(|e| e["node"]["growthMeasurements"].as_array().cloned().unwrap_or_default())
        .collect();
    assert!(!measurements.is_empty());
    assert!(
        measurements
            .iter()
            .all(|m| m["ageDays"].is_i64() && m["reference"] == "WHO_2006" && m["weightForAge"].is_f64()),
        "{measurements:#?}"
    );
    let d = app
        .ok(
            "query($u: UUID!) { dueList(orgUnitId: $u, first: 5) { totalCount edges { node { urgentFrom items { status } } } } }",
            json!({ "u": unit(&app, "11").await }),
        )
        .await;
    let edges = d["dueList"]["edges"].as_array().expect("edges");
    assert!(d["dueList"]["totalCount"].as_i64() > Some(0));
    let urgent: Vec<&str> = edges.iter().map(|e| e["node"]["urgentFrom"].as_str().expect("date")).collect();
    assert!(urgent.windows(2).all(|w| w[0] <= w[1]), "{urgent:?}");
}

#[tokio::test]
async fn measurements_stored_before_z_scores_existed_are_filled_in_after_migrating() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let child = child_in(&app, "11-BZD", "Хулан", "FEMALE", &months_ago(20)).await;
    app.ok(
        GROWTH,
        json!({ "i": { "personId": child, "date": days_ago(3), "weightKg": 10.1, "lengthHeightCm": 81.0 } }),
    )
    .await;
    let q = "query($id: UUID!) { person(id: $id) { growthMeasurements { ageDays weightForAge weightForLengthHeight classification { stunting } } } }";
    let fresh = app.ok(q, json!({ "id": child })).await;
    // A row as written before the z-score columns existed.
    app.db
        .execute_unprepared(
            "UPDATE growth_measurement SET age_days = NULL, who_reference = NULL, waz = NULL, haz = NULL,
             whz = NULL, baz = NULL, stunting = NULL, wasting = NULL, underweight = NULL, thinness = NULL,
             overweight = NULL, obesity = NULL",
        )
        .await
        .expect("update");
    let old = app.ok(q, json!({ "id": child })).await;
    assert_eq!(old["person"]["growthMeasurements"][0]["weightForAge"], Value::Null);
    cbss::db::migrate(&app.db).await.expect("migrate");
    assert_eq!(app.ok(q, json!({ "id": child })).await, fresh);
}

/// De-identified callers see every date about a person at the first of its month, their stage
/// too: a list by stage selects by the same coarsened dates as the stage shown on its rows, so
/// neither tells the day of an expected delivery apart.
#[tokio::test]
async fn a_researchers_list_by_stage_agrees_with_the_stages_it_shows() {
    let app = TestApp::spawn().await;
    let bzd = unit(&app, "11-BZD").await;
    let h = household(&app, &bzd).await;
    let mother = person(&app, &h, "Солонго", "FEMALE", "1996-06-06").await;
    // Expected 55 days before the month's end: open on that day by her true dates (through day
    // 335 after the last period), past it by the first of her expected month.
    let month_end = cbss::domain::period::Period::parse("THIS_MONTH", cbss::store::today()).unwrap().to;
    let mut edd = month_end - chrono::Days::new(55);
    if chrono::Datelike::day(&edd) == 1 {
        edd = edd + chrono::Days::new(1);
    }
    let lmp = edd - chrono::Days::new(280);
    app.ok(
        "mutation($m: UUID!, $l: NaiveDate!, $r: NaiveDate!) { registerPregnancy(input: { motherId: $m, lastMenstrualPeriod: $l, registeredOn: $r }) { id } }",
        json!({ "m": mother, "l": lmp.to_string(), "r": (lmp + chrono::Days::new(60)).to_string() }),
    )
    .await;
    let q = "query($u: UUID!, $on: NaiveDate!) { people(first: 10, filter: { orgUnitId: $u, lifeStage: \"PREGNANCY\", asOf: $on }) {
      nodes { lifeStage(asOf: $on) { code } pregnancies { status(asOf: $on) } } } }";
    let vars = json!({ "u": bzd, "on": month_end.to_string() });
    let d = app.ok(q, vars.clone()).await;
    assert_eq!(
        d["people"]["nodes"],
        json!([{ "lifeStage": { "code": "PREGNANCY" }, "pregnancies": [{ "status": "OUTCOME_DUE" }] }])
    );
    app.ok(
        "mutation($p: String!) { createUser(input: { email: \"researcher@test.mn\", displayName: \"R\", password: $p, roles: [RESEARCHER] }) { id } }",
        json!({ "p": cbss_tests::PASSWORD }),
    )
    .await;
    let researcher = app.login("researcher@test.mn").await;
    let d = app.ok_as(&researcher, q, vars).await;
    assert_eq!(d["people"]["nodes"], json!([]), "by month she is past the stage, in the list as on her row");
}
