//! Coverage indicators through the API, checked against counts worked out here from known
//! fixture data, with children on each side of the age boundaries.

use crate::fixtures::{household, person};
use cbss_tests::{PASSWORD, TestApp};
use chrono::{Datelike, Days, Months, NaiveDate};
use serde_json::{Value, json};

const COVERAGE: &str = "query($i: String!, $u: UUID!, $g: [CoverageDimension!]!) {
  coverage(indicator: $i, orgUnitId: $u, period: \"LAST_12_MONTHS\", groupBy: $g) {
    referenceDate denominatorSource
    rows { orgUnit { id } sex numerator denominator value suppressed }
    total { numerator denominator value suppressed } } }";

/// The day LAST_12_MONTHS is counted on: the last day of the previous month.
fn reference() -> NaiveDate {
    cbss::domain::period::Period::parse("LAST_12_MONTHS", cbss::store::today()).unwrap().to
}

fn months_before(d: NaiveDate, m: u32) -> NaiveDate {
    d.checked_sub_months(Months::new(m)).unwrap()
}

// `reference()` is always a month's last day, so on it a child born on any day of the month
// `m` months earlier has completed `m` months (a birth on the 31st completes a month on a
// shorter month's last day) and one born on the first of the next month has not: the two
// sides of an age boundary, whatever the day the test runs.

/// The youngest child who has completed `m` months on `r`.
fn youngest_at(r: NaiveDate, m: u32) -> NaiveDate {
    let first_after = months_before(r, m - 1).with_day(1).unwrap();
    first_after - Days::new(1)
}

/// The oldest child who has not completed `m` months on `r` (`m` - 1 months old).
fn oldest_under(r: NaiveDate, m: u32) -> NaiveDate {
    months_before(r, m - 1).with_day(1).unwrap()
}

fn days_before(d: NaiveDate, n: u64) -> String {
    (d - Days::new(n)).to_string()
}

async fn child(app: &TestApp, h: &str, sex: &str, birth: NaiveDate) -> String {
    person(app, h, "Хүүхэд", sex, &birth.to_string()).await
}

async fn service(app: &TestApp, code: &str, who: &str, date: &str) {
    app.ok(
        "mutation($i: RecordServiceInput!) { recordService(input: $i) { id } }",
        json!({ "i": { "serviceTypeCode": code, "personId": who, "date": date } }),
    )
    .await;
}

async fn enrol(app: &TestApp, code: &str, who: &str, date: &str) {
    app.ok(
        "mutation($i: RecordEnrolmentInput!) { recordEnrolment(input: $i) { id } }",
        json!({ "i": { "serviceTypeCode": code, "personId": who, "date": date, "institution": "School No. 48", "grade": "1" } }),
    )
    .await;
}

async fn doses(app: &TestApp, who: &str, birth: NaiveDate, list: &[(&str, i32)]) {
    for (n, (antigen, dose)) in list.iter().enumerate() {
        let date = (birth + Days::new(30 + 40 * n as u64)).to_string();
        app.ok(
            "mutation($i: RecordImmunisationInput!) { recordImmunisation(input: $i) { id } }",
            json!({ "i": { "personId": who, "date": date, "antigenCode": antigen, "doseNumber": dose } }),
        )
        .await;
    }
}

async fn measure(app: &TestApp, who: &str, date: &str, weight: f64, height: f64) {
    app.ok(
        "mutation($i: RecordGrowthMeasurementInput!) { recordGrowthMeasurement(input: $i) { id } }",
        json!({ "i": { "personId": who, "date": date, "weightKg": weight, "lengthHeightCm": height } }),
    )
    .await;
}

async fn bayanzurkh(app: &TestApp) -> String {
    app.ok("{ orgUnitByCode(code: \"11-BZD\") { id } }", json!({})).await["orgUnitByCode"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A pregnancy of `mother` from `lmp`, registered two months in.
async fn pregnancy(app: &TestApp, mother: &str, lmp: NaiveDate) -> String {
    app.ok(
        "mutation($i: RegisterPregnancyInput!) { registerPregnancy(input: $i) { id } }",
        json!({ "i": { "motherId": mother, "lastMenstrualPeriod": lmp.to_string(), "registeredOn": (lmp + Days::new(60)).to_string() } }),
    )
    .await["registerPregnancy"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The pregnancy ends in the live birth of `baby` at a facility.
async fn live_birth(app: &TestApp, pregnancy: &str, born: NaiveDate, attendant: &str, baby: &str) {
    app.ok(
        "mutation($i: RecordPregnancyOutcomeInput!) { recordPregnancyOutcome(input: $i) { id } }",
        json!({ "i": { "pregnancyId": pregnancy, "outcome": "LIVE_BIRTH", "outcomeDate": born.to_string(),
                       "deliveryPlace": "FACILITY", "attendant": attendant, "childIds": [baby] } }),
    )
    .await;
}

async fn coverage(app: &TestApp, token: &str, indicator: &str, unit: &str, group: &[&str]) -> Value {
    app.ok_as(token, COVERAGE, json!({ "i": indicator, "u": unit, "g": group })).await["coverage"].clone()
}

fn counts(row: &Value) -> (i64, i64) {
    (row["numerator"].as_i64().unwrap(), row["denominator"].as_i64().unwrap())
}

const FULL: [(&str, i32); 8] =
    [("BCG", 1), ("PENTA", 1), ("OPV", 1), ("PENTA", 2), ("OPV", 2), ("PENTA", 3), ("OPV", 3), ("MMR", 1)];

#[tokio::test]
async fn every_indicator_counts_what_the_fixture_says_at_the_age_boundaries() {
    let app = TestApp::spawn().await;
    let ub = app.ok("{ orgUnitByCode(code: \"11\") { id children { id } } }", json!({})).await;
    let ub_id = ub["orgUnitByCode"]["id"].as_str().unwrap().to_string();
    let d0 = ub["orgUnitByCode"]["children"][0]["id"].as_str().unwrap().to_string();
    let d1 = ub["orgUnitByCode"]["children"][1]["id"].as_str().unwrap().to_string();
    let r = reference();
    let (h0, h1) = (household(&app, &d0).await, household(&app, &d1).await);
    let t = app.admin_token.clone();

    // Vitamin A, 6-59 months, dosed in the 183 days up to the reference date.
    let c1 = child(&app, &h0, "MALE", youngest_at(r, 6)).await; // 6 months: in
    service(&app, "VITAMIN_A", &c1, &r.to_string()).await;
    child(&app, &h0, "MALE", oldest_under(r, 6)).await; // 5 months: out
    let c3 = child(&app, &h0, "FEMALE", oldest_under(r, 60)).await; // 59 months: in
    service(&app, "VITAMIN_A", &c3, &days_before(r, 100)).await;
    let c4 = child(&app, &h0, "FEMALE", youngest_at(r, 60)).await; // 60 months: out
    service(&app, "VITAMIN_A", &c4, &days_before(r, 100)).await;
    let c5 = child(&app, &h0, "MALE", months_before(r, 30)).await; // dosed too long ago
    service(&app, "VITAMIN_A", &c5, &days_before(r, 200)).await;
    child(&app, &h1, "FEMALE", months_before(r, 30)).await; // never dosed

    let v = coverage(&app, &t, "VITAMIN_A", &ub_id, &[]).await;
    assert_eq!((counts(&v["total"]), v["total"]["value"].as_f64()), ((2, 4), Some(50.0)), "{v:#}");
    assert_eq!(v["referenceDate"], json!(r.to_string()));
    assert_eq!(v["denominatorSource"], "REGISTRY");
    let v = coverage(&app, &t, "VITAMIN_A", &ub_id, &["ORG_UNIT", "SEX"]).await;
    let rows = v["rows"].as_array().unwrap();
    let cell = |unit: &str, sex: &str| {
        rows.iter().find(|x| x["orgUnit"]["id"] == unit && x["sex"] == sex).map(counts).unwrap_or((0, 0))
    };
    assert_eq!((cell(&d0, "MALE"), cell(&d0, "FEMALE"), cell(&d1, "FEMALE")), ((1, 2), (1, 1), (0, 1)));
    let (n, d) = rows.iter().map(counts).fold((0, 0), |(a, b), (x, y)| (a + x, b + y));
    assert_eq!((n, d), counts(&v["total"]), "the groups add up to the total");

    // Growth monitoring, 0-59 months measured in the period: the 59-month-old is measured.
    measure(&app, &c3, &days_before(r, 20), 17.0, 108.0).await;
    let g = coverage(&app, &t, "GROWTH_MONITORING", &ub_id, &[]).await;
    // In the band: c1, the 5-month-old, c3, c5 and the D1 child; measured: c3.
    assert_eq!(counts(&g["total"]), (1, 5));

    // Full immunisation, 12-23 months, with BCG, PENTA3, OPV3 and MMR1.
    let k1 = child(&app, &h1, "MALE", youngest_at(r, 12)).await; // 12 months: in, complete
    doses(&app, &k1, youngest_at(r, 12), &FULL).await;
    let k2 = child(&app, &h1, "MALE", oldest_under(r, 12)).await; // 11 months: out
    doses(&app, &k2, oldest_under(r, 12), &FULL[..7]).await;
    let k3 = child(&app, &h1, "FEMALE", oldest_under(r, 24)).await; // 23 months: no MMR
    doses(&app, &k3, oldest_under(r, 24), &FULL[..7]).await;
    let k4 = child(&app, &h1, "FEMALE", youngest_at(r, 24)).await; // 24 months: out
    doses(&app, &k4, youngest_at(r, 24), &FULL).await;
    let f = coverage(&app, &t, "FULL_IMMUNISATION", &ub_id, &["ORG_UNIT"]).await;
    assert_eq!(counts(&f["total"]), (1, 2), "{f:#}");
    assert_eq!(f["rows"].as_array().unwrap().len(), 1, "only D1 has children of 12-23 months");

    // Anthropometry: each child's latest measurement in the period.
    let s1 = child(&app, &h0, "MALE", months_before(r, 24)).await;
    measure(&app, &s1, &days_before(r, 10), 9.5, 75.0).await; // far below: severely stunted
    let s2 = child(&app, &h0, "MALE", months_before(r, 25)).await;
    measure(&app, &s2, &days_before(r, 10), 12.2, 87.5).await;
    let s3 = child(&app, &h0, "FEMALE", months_before(r, 26)).await;
    measure(&app, &s3, &days_before(r, 90), 9.0, 76.0).await; // stunted then ...
    measure(&app, &s3, &days_before(r, 5), 12.0, 87.0).await; // ... not, at the latest visit
    // Measured children under 5: c3 (59 months), s1, s2, s3.
    assert_eq!(counts(&coverage(&app, &t, "STUNTING", &ub_id, &[]).await["total"]), (1, 4));
    assert_eq!(counts(&coverage(&app, &t, "SEVERE_STUNTING", &ub_id, &[]).await["total"]), (1, 4));
    assert_eq!(counts(&coverage(&app, &t, "OVERWEIGHT", &ub_id, &[]).await["total"]), (0, 4));

    // Births in the period: ANC 4+, skilled attendance, postnatal care within 2 days.
    for (anc, attendant, pnc_after) in [(4u64, "DOCTOR", 1u64), (2, "OTHER", 5)] {
        let h = household(&app, &d0).await;
        let mother = person(&app, &h, "Эх", "FEMALE", "1993-03-03").await;
        let born = r - Days::new(30);
        let lmp = born - Days::new(270);
        let p = pregnancy(&app, &mother, lmp).await;
        for k in 0..anc {
            service(&app, "ANC_CONTACT", &mother, &(lmp + Days::new(70 + 50 * k)).to_string()).await;
        }
        let baby = child(&app, &h, "FEMALE", born).await;
        live_birth(&app, &p, born, attendant, &baby).await;
        service(&app, "PNC_NEWBORN", &baby, &(born + Days::new(pnc_after)).to_string()).await;
    }
    for code in ["ANC4", "SKILLED_BIRTH_ATTENDANCE", "PNC_2_DAYS"] {
        assert_eq!(counts(&coverage(&app, &t, code, &ub_id, &[]).await["total"]), (1, 2), "{code}");
    }
    let (code, _) = app.err(COVERAGE, json!({ "i": "ANC4", "u": ub_id, "g": ["SEX"] })).await;
    assert_eq!(code, "VALIDATION", "births have no sex to group by");

    // Wasting and underweight, worked out here from the z-scores stored on each child's latest
    // measurement (the z-scores themselves are tested against WHO's vectors elsewhere).
    let q = "query($id: UUID!) { person(id: $id) { growthMeasurements { date weightForAge weightForLengthHeight } } }";
    let (mut wasted, mut under) = (0, 0);
    for id in [&c3, &s1, &s2, &s3] {
        let d = app.ok(q, json!({ "id": id })).await;
        let mut list = d["person"]["growthMeasurements"].as_array().unwrap().clone();
        list.sort_by_key(|m| m["date"].as_str().unwrap().to_string());
        let latest = list.last().unwrap();
        wasted += (latest["weightForLengthHeight"].as_f64().unwrap() < -2.0) as i64;
        under += (latest["weightForAge"].as_f64().unwrap() < -2.0) as i64;
    }
    assert_eq!(counts(&coverage(&app, &t, "WASTING", &ub_id, &[]).await["total"]), (wasted, 4));
    assert_eq!(counts(&coverage(&app, &t, "UNDERWEIGHT", &ub_id, &[]).await["total"]), (under, 4));

    // School age 72-215 months, young people 180-299 months, early childhood 36-59 months.
    let e1 = child(&app, &h1, "MALE", youngest_at(r, 72)).await; // 72 months: in, at school
    enrol(&app, "SCHOOL_ENROLMENT", &e1, &days_before(r, 30)).await;
    child(&app, &h1, "MALE", oldest_under(r, 72)).await; // 71 months: out
    let e3 = child(&app, &h1, "FEMALE", oldest_under(r, 216)).await; // 215 months: in
    service(&app, "HIV_STI_PREVENTION", &e3, &days_before(r, 10)).await;
    child(&app, &h1, "FEMALE", youngest_at(r, 216)).await; // 216 months: out of school age, a young person
    let y = child(&app, &h1, "MALE", youngest_at(r, 36)).await; // 36 months: in
    enrol(&app, "OUTREACH_ECD", &y, &days_before(r, 20)).await;
    child(&app, &h1, "MALE", oldest_under(r, 36)).await; // 35 months: out
    assert_eq!(counts(&coverage(&app, &t, "SCHOOL_ATTENDANCE", &ub_id, &[]).await["total"]), (1, 2));
    assert_eq!(counts(&coverage(&app, &t, "ADOLESCENT_HIV_PREVENTION", &ub_id, &[]).await["total"]), (1, 2));
    // 36-59 months: the 36-month-old (outreach ECD) and c3 (59 months, none).
    assert_eq!(counts(&coverage(&app, &t, "EARLY_CHILDHOOD_EDUCATION", &ub_id, &[]).await["total"]), (1, 2));

    // A partner assigned to D1 counts D1 only; an analyst sees small cells suppressed.
    let partner = app
        .ok("mutation($u: UUID!) { createPartner(name: \"NGO\", kind: NGO, unitIds: [$u]) { id } }", json!({ "u": d1 }))
        .await["createPartner"]["id"]
        .clone();
    for (email, roles, p) in [("ngo@t.mn", json!(["PARTNER"]), partner), ("an@t.mn", json!(["ANALYST"]), Value::Null)] {
        app.ok(
            "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
            json!({ "i": { "email": email, "displayName": email, "password": PASSWORD, "roles": roles, "partnerId": p } }),
        )
        .await;
    }
    let ngo = app.login("ngo@t.mn").await;
    // D1: the never-dosed 30-month-old, the four children of 11-24 months, and the 35- and
    // 36-month-olds.
    assert_eq!(counts(&coverage(&app, &ngo, "VITAMIN_A", &ub_id, &[]).await["total"]), (0, 7));
    // And the whole city: D0 adds c1, c3, c5 and the three measured children of 24-26 months.
    assert_eq!(counts(&coverage(&app, &t, "VITAMIN_A", &ub_id, &[]).await["total"]), (2, 13));
    let analyst = app.login("an@t.mn").await;
    let a = coverage(&app, &analyst, "VITAMIN_A", &ub_id, &[]).await;
    assert_eq!(
        (a["total"]["suppressed"].as_bool(), a["total"]["denominator"].clone(), a["total"]["value"].clone()),
        (Some(true), json!(null), json!(null))
    );
}

#[tokio::test]
async fn the_catalogue_lists_every_indicator_and_bad_requests_are_refused() {
    let app = TestApp::spawn().await;
    let d = app.ok("{ indicators { code nameMn factor source definition } }", json!({})).await;
    let codes: Vec<&str> = d["indicators"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    // Each indicator and the test that recounts it from fixture people on its boundaries; a new
    // indicator fails here until it has one.
    let recounted = [
        ("ANC4", "anc4_counts_women_15_to_49_by_their_most_recent_live_birth"),
        ("OPEN_PROTECTION_CASES", "cases::case_and_referral_indicators_are_recounted_on_their_boundaries"),
        ("REFERRALS_COMPLETED", "cases::case_and_referral_indicators_are_recounted_on_their_boundaries"),
        ("REFERRALS_ON_TIME", "cases::case_and_referral_indicators_are_recounted_on_their_boundaries"),
        ("REFERRALS_OVERDUE", "referrals::referral_indicators_are_recounted_by_need_with_their_median_days"),
        ("SKILLED_BIRTH_ATTENDANCE", "every_indicator_counts_what_the_fixture_says_at_the_age_boundaries"),
        ("PNC_2_DAYS", "every_indicator_counts_what_the_fixture_says_at_the_age_boundaries"),
        ("PNC_MOTHER_2_DAYS", "postnatal_checks_within_two_days_agree_with_the_schedule_for_mothers_and_newborns"),
        ("PNC_NEWBORN_2_DAYS", "postnatal_checks_within_two_days_agree_with_the_schedule_for_mothers_and_newborns"),
        ("FULL_IMMUNISATION", "every_indicator_counts_what_the_fixture_says_at_the_age_boundaries"),
        ("PENTA1", "dose_validity::coverage_counts_valid_doses_only_and_the_share_given_too_early"),
        ("PENTA3", "dose_validity::coverage_counts_valid_doses_only_and_the_share_given_too_early"),
        ("MCV1", "dose_validity::coverage_counts_valid_doses_only_and_the_share_given_too_early"),
        ("INVALID_DOSES", "dose_validity::coverage_counts_valid_doses_only_and_the_share_given_too_early"),
        ("VITAMIN_A", "every_indicator_counts_what_the_fixture_says_at_the_age_boundaries"),
        ("GROWTH_MONITORING", "every_indicator_counts_what_the_fixture_says_at_the_age_boundaries"),
        ("STUNTING", "every_indicator_counts_what_the_fixture_says_at_the_age_boundaries"),
        ("SEVERE_STUNTING", "every_indicator_counts_what_the_fixture_says_at_the_age_boundaries"),
        ("WASTING", "every_indicator_counts_what_the_fixture_says_at_the_age_boundaries"),
        ("UNDERWEIGHT", "every_indicator_counts_what_the_fixture_says_at_the_age_boundaries"),
        ("OVERWEIGHT", "every_indicator_counts_what_the_fixture_says_at_the_age_boundaries"),
        ("SEVERE_WASTING", "acute_malnutrition_counts_whz_oedema_and_muac_from_six_months"),
        ("GAM", "acute_malnutrition_counts_whz_oedema_and_muac_from_six_months"),
        ("SAM", "acute_malnutrition_counts_whz_oedema_and_muac_from_six_months"),
        ("EARLY_CHILDHOOD_EDUCATION", "every_indicator_counts_what_the_fixture_says_at_the_age_boundaries"),
        ("SCHOOL_ATTENDANCE", "every_indicator_counts_what_the_fixture_says_at_the_age_boundaries"),
        ("ORGANISED_LEARNING", "education_ratios_take_ages_at_the_start_of_the_school_year"),
        ("PRIMARY_NAR", "education_ratios_take_ages_at_the_start_of_the_school_year"),
        ("LOWER_SECONDARY_NAR", "secondary_ratios_follow_each_pupils_grade_from_its_enrolment"),
        ("UPPER_SECONDARY_NAR", "secondary_ratios_follow_each_pupils_grade_from_its_enrolment"),
        ("ADOLESCENT_HIV_PREVENTION", "adolescent_hiv_prevention_counts_its_ages_and_its_year_to_the_day"),
        ("COMPREHENSIVE_HIV_KNOWLEDGE", "comprehensive_hiv_knowledge_counts_each_young_persons_latest_answers"),
        ("HOUSEHOLDS_SAFE_WATER", "family::every_household_indicator_is_recounted_from_each_households_latest_visit"),
        ("HOUSEHOLDS_SANITATION", "family::every_household_indicator_is_recounted_from_each_households_latest_visit"),
        ("HOUSEHOLDS_IODISED_SALT", "family::every_household_indicator_is_recounted_from_each_households_latest_visit"),
        (
            "HOUSEHOLDS_BIRTHS_REGISTERED",
            "family::every_household_indicator_is_recounted_from_each_households_latest_visit",
        ),
        (
            "HOUSEHOLDS_HIV_KNOWLEDGE",
            "family::every_household_indicator_is_recounted_from_each_households_latest_visit",
        ),
    ];
    let mut listed: Vec<&str> = recounted.iter().map(|r| r.0).collect();
    let mut served = codes.clone();
    listed.sort();
    served.sort();
    assert_eq!(served, listed, "every indicator of the catalogue has a recount test");
    let sources = [
        include_str!("coverage.rs"),
        include_str!("family.rs"),
        include_str!("dose_validity.rs"),
        include_str!("cases.rs"),
        include_str!("referrals.rs"),
    ]
    .concat();
    for (code, test) in recounted {
        let name = test.rsplit("::").next().unwrap_or(test);
        assert!(sources.contains(&format!("async fn {name}(")), "{code}: no test {test}");
    }
    for i in d["indicators"].as_array().unwrap() {
        // Every indicator names its standard (or says it is the programme's own) and its definition.
        let (source, definition) = (i["source"].as_str().unwrap_or(""), i["definition"].as_str().unwrap_or(""));
        assert!(source.len() > 10 && definition.len() > 20, "{i}");
    }
    assert!(
        codes.contains(&"FULL_IMMUNISATION") && codes.contains(&"STUNTING") && codes.contains(&"HOUSEHOLDS_SAFE_WATER")
    );
    let ub = app.ok("{ orgUnitByCode(code: \"11\") { id } }", json!({})).await["orgUnitByCode"]["id"].clone();
    let q = "query($i: String!, $u: UUID!, $p: String!) { coverage(indicator: $i, orgUnitId: $u, period: $p) { total { value } } }";
    let (code, e) = app.err(q, json!({ "i": "NOPE", "u": ub, "p": "2026" })).await;
    assert_eq!((code.as_str(), e["extensions"]["fields"][0]["path"].as_str()), ("VALIDATION", Some("indicator")));
    let (code, e) = app.err(q, json!({ "i": "VITAMIN_A", "u": ub, "p": "2026Q7" })).await;
    assert_eq!((code.as_str(), e["extensions"]["fields"][0]["path"].as_str()), ("VALIDATION", Some("period")));
}

#[tokio::test]
async fn coverage_exports_as_csv_with_cyrillic_intact_for_the_same_caller_only() {
    let app = TestApp::spawn().await;
    let ub = app.ok("{ orgUnitByCode(code: \"11\") { id children { id nameMn } } }", json!({})).await;
    let ub_id = ub["orgUnitByCode"]["id"].as_str().unwrap().to_string();
    let d0 = ub["orgUnitByCode"]["children"][0]["id"].as_str().unwrap().to_string();
    let name_mn = ub["orgUnitByCode"]["children"][0]["nameMn"].as_str().unwrap().to_string();
    let r = reference();
    let h = household(&app, &d0).await;
    let c = child(&app, &h, "FEMALE", months_before(r, 20)).await;
    service(&app, "VITAMIN_A", &c, &days_before(r, 3)).await;
    child(&app, &h, "MALE", months_before(r, 30)).await;
    let url = format!(
        "{}/export/coverage.csv?indicator=VITAMIN_A&orgUnitId={ub_id}&period=LAST_12_MONTHS&groupBy=ORG_UNIT,SEX",
        app.base
    );
    let res = app.client.get(&url).bearer_auth(&app.admin_token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let body = res.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines[0],
        "row,indicator,period,reference_date,org_unit_code,org_unit_name_en,org_unit_name_mn,sex,age_band,urban_rural,need,sub_period,numerator,denominator,value,median_days,suppressed"
    );
    assert_eq!(lines.len(), 4, "two groups (a girl dosed, a boy not) and the total:\n{body}");
    assert!(lines[1].contains(&name_mn), "Cyrillic names come through: {body}");
    assert!(
        lines.iter().any(|l| l.starts_with("group,VITAMIN_A") && l.contains(",FEMALE,,,,,1,1,100.0,,false")),
        "{body}"
    );
    assert!(lines[3].starts_with("total,VITAMIN_A") && lines[3].ends_with(",1,2,50.0,,false"), "{body}");
    let anonymous = app.client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let bad = app.client.get(url.replace("VITAMIN_A", "NOPE")).bearer_auth(&app.admin_token).send().await.unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn population_denominators_prorate_official_estimates_and_an_import_is_all_or_nothing() {
    let app = TestApp::spawn().await;
    let ub = app.ok("{ orgUnitByCode(code: \"11\") { id children { id code } } }", json!({})).await;
    let ub_id = ub["orgUnitByCode"]["id"].as_str().unwrap().to_string();
    let (d0, d1) = (ub["orgUnitByCode"]["children"][0].clone(), ub["orgUnitByCode"]["children"][1].clone());
    let r = reference();
    let year = chrono::Datelike::year(&r);
    let import = "mutation($c: String!) { importPopulation(csv: $c, source: \"test\") { imported replaced } }";
    let csv = format!(
        "org_unit_code,year,sex,age_from_years,age_to_years,population\n{c0},{year},BOTH,0,4,600\n{c1},{year},MALE,0,4,200\n{c1},{year},FEMALE,0,4,220\n{c1},{year},BOTH,5,9,999\n",
        c0 = d0["code"].as_str().unwrap(),
        c1 = d1["code"].as_str().unwrap()
    );
    // One bad line: nothing is stored, and the line is named.
    let bad = format!("{csv}NOWHERE,{year},BOTH,0,4,10\n{},{year},BOTH,4,2,10\n", d0["code"].as_str().unwrap());
    let (code, e) = app.err(import, json!({ "c": bad })).await;
    assert_eq!(code, "VALIDATION");
    let paths: Vec<&str> =
        e["extensions"]["fields"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["csv.line 6", "csv.line 7"]);
    assert_eq!(app.count("population_estimate").await, 0);
    let d = app.ok(import, json!({ "c": csv })).await;
    assert_eq!(d["importPopulation"], json!({ "imported": 4, "replaced": 0 }));
    let d = app.ok(import, json!({ "c": csv })).await;
    assert_eq!(d["importPopulation"], json!({ "imported": 4, "replaced": 4 }), "a second import replaces");

    // Two children of 6-59 months registered in D0, one dosed.
    let h = household(&app, d0["id"].as_str().unwrap()).await;
    let c = child(&app, &h, "FEMALE", months_before(r, 20)).await;
    service(&app, "VITAMIN_A", &c, &days_before(r, 3)).await;
    child(&app, &h, "MALE", months_before(r, 40)).await;
    let q = "query($u: UUID!, $g: [CoverageDimension!]!) { coverage(indicator: \"VITAMIN_A\", orgUnitId: $u, period: \"LAST_12_MONTHS\", groupBy: $g, denominator: POPULATION) {
      denominatorSource rows { orgUnit { id } sex numerator denominator value } total { numerator denominator value } } }";
    let v = app.ok(q, json!({ "u": ub_id, "g": ["ORG_UNIT"] })).await;
    let cov = &v["coverage"];
    assert_eq!(cov["denominatorSource"], "POPULATION");
    // 6-59 months is 54 of the 60 months of the 0-4 band: D0 600 x 54/60 = 540; D1 (200 + 220) x 54/60 = 378.
    let row = |id: &Value| cov["rows"].as_array().unwrap().iter().find(|x| x["orgUnit"]["id"] == *id).cloned().unwrap();
    assert_eq!(counts(&row(&d0["id"])), (1, 540));
    assert_eq!(counts(&row(&d1["id"])), (0, 378));
    assert_eq!((counts(&cov["total"]), cov["total"]["value"].as_f64()), ((1, 918), Some(0.1)));
    let v = app.ok(q, json!({ "u": d1["id"], "g": ["SEX"] })).await;
    let sexes: Vec<(String, i64)> = v["coverage"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["sex"].as_str().unwrap().to_string(), x["denominator"].as_i64().unwrap()))
        .collect();
    assert_eq!(sexes, [("FEMALE".to_string(), 198), ("MALE".to_string(), 180)]);
    let (code, _) = app
        .err("query($u: UUID!) { coverage(indicator: \"ANC4\", orgUnitId: $u, period: \"2026\", denominator: POPULATION) { total { value } } }", json!({ "u": ub_id }))
        .await;
    assert_eq!(code, "VALIDATION", "births have no population estimate here");
}

/// The totals of the indicators that count by a detail row's date.
async fn totals(app: &TestApp, token: &str, unit: &str) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    for code in ["FULL_IMMUNISATION", "STUNTING", "UNDERWEIGHT", "GROWTH_MONITORING", "SCHOOL_ATTENDANCE"] {
        out.push(counts(&coverage(app, token, code, unit, &[]).await["total"]));
    }
    out
}

#[tokio::test]
async fn rows_written_before_service_dates_and_types_were_copied_count_the_same_after_migrating() {
    use migration::{Migrator, MigratorTrait};
    let app = TestApp::spawn().await;
    let ub = app.ok("{ orgUnitByCode(code: \"11\") { id children { id } } }", json!({})).await;
    let ub_id = ub["orgUnitByCode"]["id"].as_str().unwrap().to_string();
    let h = household(&app, ub["orgUnitByCode"]["children"][0]["id"].as_str().unwrap()).await;
    let r = reference();
    let k = child(&app, &h, "MALE", months_before(r, 13)).await;
    doses(&app, &k, months_before(r, 13), &FULL).await;
    child(&app, &h, "FEMALE", months_before(r, 14)).await; // no doses
    measure(&app, &k, &days_before(r, 10), 7.0, 66.0).await; // stunted and underweight
    // Two pupils aged 10, one enrolled at school before the period.
    let pupil = child(&app, &h, "FEMALE", months_before(r, 120)).await;
    child(&app, &h, "MALE", months_before(r, 121)).await;
    app.ok(
        "mutation($i: RecordEnrolmentInput!) { recordEnrolment(input: $i) { id } }",
        json!({ "i": { "serviceTypeCode": "SCHOOL_ENROLMENT", "personId": pupil, "date": days_before(r, 400), "institution": "School No. 5" } }),
    )
    .await;
    let t = app.admin_token.clone();
    let before = totals(&app, &t, &ub_id).await;
    assert_eq!(before, [(1, 2), (1, 1), (1, 1), (1, 2), (1, 2)]);
    // Back to the schema before the dates were copied onto measurements and doses and the type
    // and start onto enrolments, and before the cohort, (person, date, type), unit-page,
    // unit-order and foreign-key indexes, sessions, dose verdicts and indicator sources (the
    // last thirteen migrations, for now), then forward again: the copies come from the service
    // records, the verdicts from the API's evaluation after migrating.
    Migrator::down(&app.db, Some(13)).await.expect("down");
    cbss::db::migrate(&app.db).await.expect("migrate");
    assert_eq!(totals(&app, &t, &ub_id).await, before);
}

#[tokio::test]
async fn an_ended_enrolment_stops_counting_the_day_after_it_ends() {
    let app = TestApp::spawn().await;
    let ub = app.ok("{ orgUnitByCode(code: \"11\") { id children { id } } }", json!({})).await;
    let ub_id = ub["orgUnitByCode"]["id"].as_str().unwrap().to_string();
    let h = household(&app, ub["orgUnitByCode"]["children"][0]["id"].as_str().unwrap()).await;
    let r = reference();
    let t = app.admin_token.clone();
    // Enrolled well before the period (so only the open enrolment counts her), aged 10.
    let pupil = child(&app, &h, "FEMALE", months_before(r, 120)).await;
    let began = days_before(r, 500);
    let rec = app
        .ok(
            "mutation($i: RecordEnrolmentInput!) { recordEnrolment(input: $i) { id version } }",
            json!({ "i": { "serviceTypeCode": "SCHOOL_ENROLMENT", "personId": pupil, "date": began, "institution": "School No. 5" } }),
        )
        .await["recordEnrolment"]
        .clone();
    let (id, version) = (rec["id"].as_str().unwrap().to_string(), rec["version"].as_i64().unwrap());
    assert_eq!(counts(&coverage(&app, &t, "SCHOOL_ATTENDANCE", &ub_id, &[]).await["total"]), (1, 1));

    const END: &str = "mutation($i: EndEnrolmentInput!) { endEnrolment(input: $i) { version enrolment { institution endedOn endReason } } }";
    let end =
        |on: String, v: i64| json!({ "i": { "id": id, "expectedVersion": v, "endedOn": on, "reason": "TRANSFERRED" } });
    // Refused, and nothing changes: before it began, in the future, a stale version.
    for (on, v, code) in [
        (days_before(r, 501), version, "VALIDATION"),
        ((cbss::store::today() + Days::new(1)).to_string(), version, "VALIDATION"),
        (days_before(r, 1), version + 1, "CONFLICT"),
    ] {
        assert_eq!(app.err(END, end(on.clone(), v)).await.0, code, "{on} v{v}");
    }
    assert_eq!(counts(&coverage(&app, &t, "SCHOOL_ATTENDANCE", &ub_id, &[]).await["total"]), (1, 1));

    // Ended the day before the reference date: not enrolled on it.
    let q = "query($id: UUID!) { person(id: $id) { serviceRecords { id version enrolment { endedOn } } } }";
    let ended = app.ok(END, end(days_before(r, 1), version)).await["endEnrolment"].clone();
    assert_eq!(ended["version"].as_i64(), Some(version + 1));
    assert_eq!(
        ended["enrolment"],
        json!({ "institution": "School No. 5", "endedOn": days_before(r, 1), "endReason": "TRANSFERRED" })
    );
    let read = app.ok(q, json!({ "id": pupil })).await;
    assert_eq!(read["person"]["serviceRecords"][0]["enrolment"]["endedOn"], json!(days_before(r, 1)));
    assert_eq!(counts(&coverage(&app, &t, "SCHOOL_ATTENDANCE", &ub_id, &[]).await["total"]), (0, 1));
    // Ending it again is a conflict, whatever the date.
    assert_eq!(app.err(END, end(days_before(r, 0), version + 1)).await.0, "CONFLICT");
}

/// WHO's rules for under-5 anthropometry: a child with bilateral pitting oedema is severely
/// wasted (in WASTING's numerator and denominator, though it has no WHZ) and out of the other
/// weight-based indicators; "under 5" is through day 1,826 of age (59.99 months), not 1,825.
#[tokio::test]
async fn oedema_counts_as_wasting_and_under_five_runs_through_day_1826() {
    let app = TestApp::spawn().await;
    let district = bayanzurkh(&app).await;
    let h = household(&app, &district).await;
    let r = reference();
    let on = r - Days::new(10);
    let t = app.admin_token.clone();
    // Measured on day 1,826 and on day 1,827 of age, with the same normal weight and height.
    let b1826 = child(&app, &h, "FEMALE", on - Days::new(1826)).await;
    measure(&app, &b1826, &on.to_string(), 18.0, 109.0).await;
    let b1827 = child(&app, &h, "FEMALE", on - Days::new(1827)).await;
    measure(&app, &b1827, &on.to_string(), 18.0, 109.0).await;
    // Two years old, with oedema: weight and height taken, no weight-based z-score.
    let o = child(&app, &h, "MALE", months_before(r, 24)).await;
    app.ok(
        "mutation($i: RecordGrowthMeasurementInput!) { recordGrowthMeasurement(input: $i) { id } }",
        json!({ "i": { "personId": o, "date": on.to_string(), "weightKg": 11.0, "lengthHeightCm": 86.0, "oedema": true } }),
    )
    .await;
    // The ages as stored, and the z-scores: worked out here, not read from the indicator.
    let q = "query($id: UUID!) { person(id: $id) { growthMeasurements { ageDays oedema weightForLengthHeight lengthHeightForAge } } }";
    let mut seen = Vec::new();
    for id in [&b1826, &b1827, &o] {
        seen.push(app.ok(q, json!({ "id": id })).await["person"]["growthMeasurements"][0].clone());
    }
    let ages: Vec<i64> = seen.iter().map(|m| m["ageDays"].as_i64().unwrap()).collect();
    assert_eq!(ages[..2], [1826, 1827], "{seen:?}");
    assert!(seen[2]["weightForLengthHeight"].is_null() && seen[2]["lengthHeightForAge"].is_number(), "{seen:?}");
    let under_five: Vec<&Value> =
        seen.iter().filter(|m| m["ageDays"].as_i64().unwrap() * 10_000 < 60 * 304_375).collect();
    assert_eq!(under_five.len(), 2, "day 1,826 is 59.99 months, day 1,827 is 60.02");
    let below = |m: &&&Value, key: &str, cut: f64| m[key].as_f64().is_some_and(|z| z < cut);
    let wasted = under_five.iter().filter(|m| below(m, "weightForLengthHeight", -2.0) || m["oedema"] == true).count();
    let severe = under_five.iter().filter(|m| below(m, "weightForLengthHeight", -3.0) || m["oedema"] == true).count();
    let stunted = under_five.iter().filter(|m| below(m, "lengthHeightForAge", -2.0)).count();
    let with_whz = under_five.iter().filter(|m| m["weightForLengthHeight"].is_number()).count();
    let total = |code: &'static str| {
        let (app, t, district) = (&app, &t, &district);
        async move { counts(&coverage(app, t, code, district, &[]).await["total"]) }
    };
    assert_eq!((wasted, severe), (1, 1), "the oedema child (or the test could not fail)");
    assert_eq!(total("WASTING").await, (wasted as i64, 2), "the oedema child is wasted and counted");
    assert_eq!(total("STUNTING").await, (stunted as i64, 2), "oedema leaves height-for-age as it is");
    assert_eq!(total("OVERWEIGHT").await, (0, with_whz as i64), "no WHZ, no overweight question");
    assert_eq!(with_whz, 1);
}

/// Acute malnutrition as WHO's 2013 guideline counts it at 6-59 months: a WHZ below the cut,
/// bilateral pitting oedema, or a mid-upper-arm circumference below 125 mm (GAM) or 115 mm (SAM);
/// a MUAC under 6 months counts for nothing, and a measurement with only a MUAC is usable.
/// Recounted here from what each measurement stores.
#[tokio::test]
async fn acute_malnutrition_counts_whz_oedema_and_muac_from_six_months() {
    let app = TestApp::spawn().await;
    let district = bayanzurkh(&app).await;
    let h = household(&app, &district).await;
    let r = reference();
    let on = r - Days::new(10);
    let t = app.admin_token.clone();
    let measure_with = |who: String, i: Value| {
        let app = &app;
        async move {
            let mut i = i;
            i["personId"] = json!(who);
            i["date"] = json!(on.to_string());
            app.ok(
                "mutation($i: RecordGrowthMeasurementInput!) { recordGrowthMeasurement(input: $i) { id } }",
                json!({ "i": i }),
            )
            .await;
            who
        }
    };
    let two = months_before(on, 24);
    let mut kids = Vec::new();
    // Oedema; a normal WHZ with MUAC 120 mm, with 110 mm, with 140 mm; a 4-month-old with a
    // normal WHZ and MUAC 100 mm (too young for MUAC); a 12-month-old with only a MUAC of 118 mm.
    for (birth, input) in [
        (two, json!({ "weightKg": 11.0, "lengthHeightCm": 86.0, "oedema": true })),
        (two, json!({ "weightKg": 12.2, "lengthHeightCm": 87.0, "muacMm": 120.0 })),
        (two, json!({ "weightKg": 12.2, "lengthHeightCm": 87.0, "muacMm": 110.0 })),
        (two, json!({ "weightKg": 12.2, "lengthHeightCm": 87.0, "muacMm": 140.0 })),
        (on - Days::new(125), json!({ "weightKg": 6.4, "lengthHeightCm": 63.0, "muacMm": 100.0 })),
        (months_before(on, 12), json!({ "muacMm": 118.0 })),
    ] {
        let k = child(&app, &h, "MALE", birth).await;
        kids.push(measure_with(k, input).await);
    }
    let q =
        "query($id: UUID!) { person(id: $id) { growthMeasurements { ageDays oedema muacMm weightForLengthHeight } } }";
    let mut seen = Vec::new();
    for id in &kids {
        seen.push(app.ok(q, json!({ "id": id })).await["person"]["growthMeasurements"][0].clone());
    }
    let whz = |m: &Value| m["weightForLengthHeight"].as_f64();
    let muac_counts = |m: &Value| m["ageDays"].as_i64().unwrap() * 10_000 >= 6 * 304_375 && m["muacMm"].is_number();
    let recount = |cut: f64, muac_cut: Option<f64>| {
        let usable = |m: &&Value| whz(m).is_some() || m["oedema"] == true || (muac_cut.is_some() && muac_counts(m));
        let met = |m: &&Value| {
            whz(m).is_some_and(|z| z < cut)
                || m["oedema"] == true
                || muac_cut.is_some_and(|c| muac_counts(m) && m["muacMm"].as_f64().unwrap() < c)
        };
        let rows: Vec<&Value> = seen.iter().filter(usable).collect();
        (rows.iter().copied().filter(met).count() as i64, rows.len() as i64)
    };
    assert!(seen[1..5].iter().all(|m| whz(m).is_some_and(|z| z.abs() < 2.0)), "normal WHZ: {seen:?}");
    let total = |code: &'static str| {
        let (app, t, district) = (&app, &t, &district);
        async move { counts(&coverage(app, t, code, district, &[]).await["total"]) }
    };
    // The recounts, and what they come to by hand (or the test could not fail).
    assert_eq!((recount(-3.0, None), recount(-2.0, Some(125.0)), recount(-3.0, Some(115.0))), ((1, 5), (4, 6), (2, 6)));
    assert_eq!(total("SEVERE_WASTING").await, recount(-3.0, None));
    assert_eq!(total("WASTING").await, recount(-2.0, None));
    assert_eq!(total("GAM").await, recount(-2.0, Some(125.0)));
    assert_eq!(total("SAM").await, recount(-3.0, Some(115.0)));
}

/// The day after birth a mother's and a newborn's first checks were made, if they were.
type Birth = (Option<u64>, Option<u64>);

/// Postnatal care within 2 days is the schedule's first contact (days 0 and 1): a check on day 2
/// fills the second contact and counts in no "within 2 days" indicator; mothers and newborns are
/// counted apart, as MICS reports them.
#[tokio::test]
async fn postnatal_checks_within_two_days_agree_with_the_schedule_for_mothers_and_newborns() {
    let app = TestApp::spawn().await;
    let district = bayanzurkh(&app).await;
    let r = reference();
    let born = r - Days::new(30);
    let t = app.admin_token.clone();
    let mut mothers = Vec::new();
    // (mother checked on day, newborn checked on day)
    let births: [Birth; 4] = [(Some(1u64), None), (Some(2), Some(1)), (Some(2), Some(2)), (None, Some(0))];
    for (mother_on, baby_on) in births {
        let h = household(&app, &district).await;
        let mother = person(&app, &h, "Эх", "FEMALE", "1995-04-04").await;
        let lmp = born - Days::new(275);
        let p = pregnancy(&app, &mother, lmp).await;
        let baby = child(&app, &h, "MALE", born).await;
        live_birth(&app, &p, born, "DOCTOR", &baby).await;
        if let Some(d) = mother_on {
            service(&app, "PNC_MOTHER", &mother, &(born + Days::new(d)).to_string()).await;
        }
        if let Some(d) = baby_on {
            service(&app, "PNC_NEWBORN", &baby, &(born + Days::new(d)).to_string()).await;
        }
        mothers.push(mother);
    }
    let within = |d: Option<u64>| d.is_some_and(|d| d <= 1);
    let count = |f: &dyn Fn(&Birth) -> bool| births.iter().filter(|b| f(b)).count() as i64;
    let total = |code: &'static str| {
        let (app, t, district) = (&app, &t, &district);
        async move { counts(&coverage(app, t, code, district, &[]).await["total"]) }
    };
    assert_eq!(total("PNC_MOTHER_2_DAYS").await, (count(&|b| within(b.0)), 4));
    assert_eq!(total("PNC_NEWBORN_2_DAYS").await, (count(&|b| within(b.1)), 4));
    assert_eq!(total("PNC_2_DAYS").await, (count(&|b| within(b.0) || within(b.1)), 4));
    assert_eq!((count(&|b| within(b.0)), count(&|b| within(b.1))), (1, 2), "by hand");
    // The schedule says the same of the mothers: the day-2 check is the second contact.
    let due = "query($id: UUID!, $on: NaiveDate) { person(id: $id) { dueServices(asOf: $on) { code status } } }";
    for (mother, (mother_on, _)) in mothers.iter().zip(births) {
        let d = app.ok(due, json!({ "id": mother, "on": (born + Days::new(5)).to_string() })).await;
        let first = d["person"]["dueServices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == "PNC_MOTHER_1")
            .map(|i| i["status"].as_str().unwrap().to_string());
        let want = if within(mother_on) { "GIVEN" } else { "MISSED" };
        assert_eq!(first.as_deref(), Some(want), "{mother_on:?}");
    }
}

/// MICS TM.5: women aged 15-49 years on the reference date with a live birth in the period, each
/// counted once, by her most recent live birth; "the last 2 years" is LAST_24_MONTHS.
#[tokio::test]
async fn anc4_counts_women_15_to_49_by_their_most_recent_live_birth() {
    let app = TestApp::spawn().await;
    let unit = bayanzurkh(&app).await;
    let r = reference();
    let h = household(&app, &unit).await;
    // (mother's birth date, [(days before r of the live birth, ANC contacts)]).
    let women: [(NaiveDate, &[(u64, u64)]); 6] = [
        (months_before(r, 360), &[(420, 4), (60, 2)]), // A: two births, the latest with 2 contacts
        (months_before(r, 360), &[(500, 4)]),          // B: in the last 24 months, not the last 12
        (youngest_at(r, 180), &[(60, 4)]),             // C: 15 years on the reference date: in
        (oldest_under(r, 180), &[(60, 4)]),            // D: 14 years: out
        (oldest_under(r, 600), &[(60, 4)]),            // E: 49 years: in
        (youngest_at(r, 600), &[(60, 4)]),             // F: 50 years: out
    ];
    for (birth, births) in women {
        let mother = person(&app, &h, "Эх", "FEMALE", &birth.to_string()).await;
        for (before, anc) in births {
            let born = r - Days::new(*before);
            let lmp = born - Days::new(270);
            let p = pregnancy(&app, &mother, lmp).await;
            for k in 0..*anc {
                service(&app, "ANC_CONTACT", &mother, &(lmp + Days::new(70 + 50 * k)).to_string()).await;
            }
            let baby = child(&app, &h, "MALE", born).await;
            live_birth(&app, &p, born, "DOCTOR", &baby).await;
        }
    }
    let q = "query($u: UUID!, $p: String!) { coverage(indicator: \"ANC4\", orgUnitId: $u, period: $p) {
      referenceDate total { numerator denominator } } }";
    let total = |d: &Value| counts(&d["coverage"]["total"]);
    // Recounted from the fixture: over 24 months A (latest birth, 2 contacts), B, C and E are
    // women of 15-49 with a live birth; B, C and E had 4 contacts. Counting births instead would
    // give 4 of 7 (or 5 of 8 with A's first birth).
    let d = app.ok(q, json!({ "u": unit, "p": "LAST_24_MONTHS" })).await;
    assert_eq!(d["coverage"]["referenceDate"], json!(r.to_string()));
    assert_eq!(total(&d), (3, 4));
    // Over 12 months B's birth is out of the period.
    assert_eq!(total(&app.ok(q, json!({ "u": unit, "p": "LAST_12_MONTHS" })).await), (2, 3));
    // Skilled attendance (SDG 3.1.2) still counts every live birth: all 7 with a doctor.
    let sba = q.replace("ANC4", "SKILLED_BIRTH_ATTENDANCE");
    assert_eq!(total(&app.ok(&sba, json!({ "u": unit, "p": "LAST_24_MONTHS" })).await), (7, 7));
    let d = app.ok("{ indicators { code latestBirthPerWoman minAgeMonths maxAgeMonths } }", json!({})).await;
    let anc4 = d["indicators"].as_array().unwrap().iter().find(|i| i["code"] == "ANC4").unwrap().clone();
    assert_eq!(anc4, json!({ "code": "ANC4", "latestBirthPerWoman": true, "minAgeMonths": 180, "maxAgeMonths": 599 }));
}

/// Young people 15-24 (180-299 completed months on the reference date) reached by an HIV/STI
/// prevention session in the 365 days up to it: both age boundaries and both window boundaries.
#[tokio::test]
async fn adolescent_hiv_prevention_counts_its_ages_and_its_year_to_the_day() {
    let app = TestApp::spawn().await;
    let unit = bayanzurkh(&app).await;
    let h = household(&app, &unit).await;
    let r = reference();
    // (birth date, day of the session before r, counted in the denominator, in the numerator).
    let people = [
        (youngest_at(r, 180), Some(0), true, true), // 15 years, on the reference date
        (oldest_under(r, 180), Some(0), false, false), // 14 years 11 months: out
        (oldest_under(r, 300), Some(364), true, true), // 24 years 11 months, first day of the window
        (youngest_at(r, 300), Some(10), false, false), // 25 years: out
        (months_before(r, 240), Some(365), true, false), // the day before the window
        (months_before(r, 240), None, true, false), // never reached
    ];
    for (birth, session, ..) in people {
        let who = person(&app, &h, "Залуу", "FEMALE", &birth.to_string()).await;
        if let Some(before) = session {
            service(&app, "HIV_STI_PREVENTION", &who, &days_before(r, before)).await;
        }
    }
    let want = (people.iter().filter(|p| p.3).count() as i64, people.iter().filter(|p| p.2).count() as i64);
    let t = app.admin_token.clone();
    assert_eq!(counts(&coverage(&app, &t, "ADOLESCENT_HIV_PREVENTION", &unit, &[]).await["total"]), want);
}

/// MICS's education indicators take ages on 1 September of the school year holding the
/// reference date: children either side of 5, 6 and 11 years on that day.
#[tokio::test]
async fn education_ratios_take_ages_at_the_start_of_the_school_year() {
    let app = TestApp::spawn().await;
    let unit = bayanzurkh(&app).await;
    let h = household(&app, &unit).await;
    let r = reference();
    let s = cbss::domain::school::school_year_start(r);
    let born = |m: u32| months_before(s, m); // m completed months on s
    let day_after = |d: NaiveDate| d + Days::new(1); // a month short of it
    let enrolled = r - Days::new(1);
    // (birth, enrolment, in PRIMARY_NAR's denominator, numerator; ORGANISED_LEARNING's).
    let children = [
        (born(72), Some("SCHOOL_ENROLMENT"), (true, true), (false, false)),
        (day_after(born(72)), Some("SCHOOL_ENROLMENT"), (false, false), (true, true)),
        (day_after(born(132)), None, (true, false), (false, false)),
        (born(132), Some("SCHOOL_ENROLMENT"), (false, false), (false, false)),
        (born(60), Some("KINDERGARTEN_ENROLMENT"), (false, false), (true, true)),
        (day_after(born(60)), Some("KINDERGARTEN_ENROLMENT"), (false, false), (false, false)),
        (born(66), None, (false, false), (true, false)),
    ];
    for (birth, enrolment, ..) in children {
        let k = child(&app, &h, "FEMALE", birth).await;
        if let Some(code) = enrolment {
            enrol(&app, code, &k, &enrolled.to_string()).await;
        }
    }
    let t = app.admin_token.clone();
    // (numerator, denominator) of one indicator's (denominator, numerator) flags.
    let want = |flags: Vec<(bool, bool)>| {
        (flags.iter().filter(|p| p.1).count() as i64, flags.iter().filter(|p| p.0).count() as i64)
    };
    let nar = want(children.iter().map(|c| c.2).collect());
    let learning = want(children.iter().map(|c| c.3).collect());
    assert_eq!(counts(&coverage(&app, &t, "PRIMARY_NAR", &unit, &[]).await["total"]), nar);
    assert_eq!(counts(&coverage(&app, &t, "ORGANISED_LEARNING", &unit, &[]).await["total"]), learning);
    // Ages at the school year's start have no population estimate to divide by.
    let (code, _) = app
        .err(
            "query($u: UUID!) { coverage(indicator: \"PRIMARY_NAR\", orgUnitId: $u, period: \"LAST_12_MONTHS\", denominator: POPULATION) { total { value } } }",
            json!({ "u": unit }),
        )
        .await;
    assert_eq!(code, "VALIDATION");
}

/// Records a school enrolment in `grade` (none: no grade number); returns the enrolment's id.
async fn enrol_in_grade(app: &TestApp, who: &str, date: NaiveDate, grade: Option<i32>) -> String {
    let i = json!({ "serviceTypeCode": "SCHOOL_ENROLMENT", "personId": who, "date": date.to_string(),
        "institution": "School No. 48", "gradeNumber": grade });
    let d =
        app.ok("mutation($i: RecordEnrolmentInput!) { recordEnrolment(input: $i) { id } }", json!({ "i": i })).await;
    d["recordEnrolment"]["id"].as_str().unwrap().to_string()
}

/// The grade a pupil enrolled in `grade` on `start` attends on `on`, counted here by walking the
/// calendar: one up for each 1 September after `start`, up to `on`.
fn grade_by_calendar(grade: i32, start: NaiveDate, on: NaiveDate) -> i32 {
    let septembers = (start.year()..=on.year())
        .filter_map(|y| NaiveDate::from_ymd_opt(y, 9, 1))
        .filter(|d| *d > start && *d <= on)
        .count();
    grade + septembers as i32
}

/// MICS's lower and upper secondary ratios: ages on 1 September (11-14, 15-17) and the grade each
/// pupil attends on the reference date, counted independently from the enrolment's date.
#[tokio::test]
async fn secondary_ratios_follow_each_pupils_grade_from_its_enrolment() {
    let app = TestApp::spawn().await;
    let unit = bayanzurkh(&app).await;
    let h = household(&app, &unit).await;
    let r = reference();
    let s = cbss::domain::school::school_year_start(r);
    let born = |m: u32| months_before(s, m); // m completed months on s
    let day_after = |d: NaiveDate| d + Days::new(1); // a month short of it
    let last_year = s - Days::new(1); // the last day of the school year before
    let years_back = |n: u32| months_before(s, 12 * n) + Days::new(10);
    // (birth, enrolments (start, grade number)).
    type Enrolments = Vec<(NaiveDate, Option<i32>)>;
    let pupils: Vec<(NaiveDate, Enrolments)> = vec![
        (born(132), vec![(last_year, Some(5))]),                // 11, moved up to grade 6
        (born(132), vec![(last_year, Some(4))]),                // 11, in grade 5
        (day_after(born(132)), vec![(s, Some(6))]),             // 10: too young for the ratio
        (day_after(born(180)), vec![(years_back(3), Some(6))]), // 14, grade 9 now
        (born(180), vec![(last_year, Some(9))]),                // 15, moved up to grade 10
        (born(180), vec![(s, Some(9))]),                        // 15, in grade 9 this year
        (born(140), vec![(s, None)]),                           // no grade number: not counted
        (born(150), vec![(months_before(s, 72), Some(1)), (s, Some(5))]), // the older enrolment says 7
        (day_after(born(216)), vec![(s, Some(12))]),            // 17, the last of the upper band
        (born(216), vec![(s, Some(12))]),                       // 18: out
        (born(200), vec![]),                                    // not at school
    ];
    for (birth, enrolments) in &pupils {
        let k = child(&app, &h, "MALE", *birth).await;
        for (start, grade) in enrolments {
            enrol_in_grade(&app, &k, *start, *grade).await;
        }
    }
    // The recount: completed years on s by the calendar, and the highest grade any enrolment
    // gives on r.
    let years = |birth: NaiveDate| {
        let y = s.year() - birth.year();
        if (s.month(), s.day()) < (birth.month(), birth.day()) { y - 1 } else { y }
    };
    let recount = |ages: std::ops::RangeInclusive<i32>, grade: i32| {
        let of_age: Vec<_> = pupils.iter().filter(|(b, _)| ages.contains(&years(*b))).collect();
        let at_grade = of_age
            .iter()
            .filter(|(_, e)| e.iter().any(|(start, g)| g.is_some_and(|g| grade_by_calendar(g, *start, r) >= grade)))
            .count();
        (at_grade as i64, of_age.len() as i64)
    };
    let (lower, upper) = (recount(11..=14, 6), recount(15..=17, 10));
    assert_eq!((lower, upper), ((3, 5), (2, 4)), "the fixture's own count");
    let t = app.admin_token.clone();
    assert_eq!(counts(&coverage(&app, &t, "LOWER_SECONDARY_NAR", &unit, &[]).await["total"]), lower);
    assert_eq!(counts(&coverage(&app, &t, "UPPER_SECONDARY_NAR", &unit, &[]).await["total"]), upper);
    let d = app.ok("{ indicators { code minGrade agesAtSchoolYearStart } }", json!({})).await;
    let grades: Vec<Value> = d["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["code"].as_str().unwrap().ends_with("_NAR"))
        .cloned()
        .collect();
    assert_eq!(
        grades,
        vec![
            json!({ "code": "PRIMARY_NAR", "minGrade": null, "agesAtSchoolYearStart": true }),
            json!({ "code": "LOWER_SECONDARY_NAR", "minGrade": 6, "agesAtSchoolYearStart": true }),
            json!({ "code": "UPPER_SECONDARY_NAR", "minGrade": 10, "agesAtSchoolYearStart": true }),
        ]
    );
}

/// A grade number belongs to a school enrolment and is 1-12; a refused one writes nothing. The
/// grade on a day follows the school year.
#[tokio::test]
async fn a_grade_number_is_checked_and_followed_year_by_year() {
    let app = TestApp::spawn().await;
    let unit = bayanzurkh(&app).await;
    let h = household(&app, &unit).await;
    let r = reference();
    let k = child(&app, &h, "FEMALE", months_before(r, 130)).await;
    let q = "mutation($i: RecordEnrolmentInput!) { recordEnrolment(input: $i) { id } }";
    let enrolments = "query($p: UUID!) { person(id: $p) { serviceRecords { id } } }";
    let before = app.ok(enrolments, json!({ "p": k })).await;
    for (code, grade) in [("SCHOOL_ENROLMENT", 0), ("SCHOOL_ENROLMENT", 13), ("KINDERGARTEN_ENROLMENT", 1)] {
        let i = json!({ "serviceTypeCode": code, "personId": k, "date": r.to_string(), "institution": "X", "gradeNumber": grade });
        let (c, e) = app.err(q, json!({ "i": i })).await;
        assert_eq!(
            (c.as_str(), e["extensions"]["fields"][0]["path"].as_str()),
            ("VALIDATION", Some("input.gradeNumber"))
        );
    }
    assert_eq!(app.ok(enrolments, json!({ "p": k })).await, before, "a refused enrolment writes nothing");
    let start = NaiveDate::from_ymd_opt(2024, 8, 31).unwrap();
    enrol_in_grade(&app, &k, start, Some(3)).await;
    let d = app
        .ok(
            "query($p: UUID!) { person(id: $p) { serviceRecords { enrolment { gradeNumber a: currentGrade(asOf: \"2024-08-31\") b: currentGrade(asOf: \"2024-09-01\") c: currentGrade(asOf: \"2026-09-01\") } } } }",
            json!({ "p": k }),
        )
        .await;
    assert_eq!(d["person"]["serviceRecords"][0]["enrolment"], json!({ "gradeNumber": 3, "a": 3, "b": 4, "c": 6 }));
}

/// MICS's five questions, answered all right or with one wrong (`wrong`: the question's index).
fn knowledge(who: &str, id: &str, date: NaiveDate, wrong: Option<usize>) -> Value {
    let names = ["oneFaithfulPartner", "condomEveryTime", "healthyLookingPerson", "mosquitoBites", "sharingFood"];
    let right = ["YES", "YES", "YES", "NO", "NO"];
    let mut i = json!({ "id": id, "personId": who, "date": date.to_string() });
    for (n, (name, answer)) in names.iter().zip(right).enumerate() {
        let given = if wrong == Some(n) {
            if n == 0 {
                "DONT_KNOW"
            } else if answer == "YES" {
                "NO"
            } else {
                "YES"
            }
        } else {
            answer
        };
        i[name] = json!(given);
    }
    i
}

/// Young people 15-24 (180-299 months on the reference date) by their latest assessment in the
/// period: both age boundaries, the period's first day and the day before, a later wrong answer
/// over an earlier right one, and two on one day (the greater id is the later).
#[tokio::test]
async fn comprehensive_hiv_knowledge_counts_each_young_persons_latest_answers() {
    let app = TestApp::spawn().await;
    let unit = bayanzurkh(&app).await;
    let h = household(&app, &unit).await;
    let r = reference();
    let period = cbss::domain::period::Period::parse("LAST_12_MONTHS", cbss::store::today()).unwrap();
    let (first, before) = (period.from, period.from - Days::new(1));
    let id = |n: u8| format!("00000000-0000-7000-8000-0000000000{n:02}");
    // (birth, assessments (date, id, wrong answer)).
    type Asked = Vec<(NaiveDate, String, Option<usize>)>;
    let people: Vec<(NaiveDate, Asked)> = vec![
        (youngest_at(r, 180), vec![(r, id(1), None)]),  // 15 on the reference date
        (oldest_under(r, 180), vec![(r, id(2), None)]), // 14 years 11 months: out
        (oldest_under(r, 300), vec![(first, id(3), None)]), // 24 years 11 months, the period's first day
        (youngest_at(r, 300), vec![(r, id(4), None)]),  // 25: out
        (months_before(r, 200), vec![(before, id(5), None)]), // asked before the period: out
        (months_before(r, 200), vec![(first, id(6), None), (r, id(7), Some(3))]), // later wrong
        (months_before(r, 210), vec![(first, id(8), Some(0)), (r, id(9), None)]), // later right
        (months_before(r, 220), vec![(r, id(11), Some(4)), (r, id(10), None)]), // same day: id 11 wins
        (months_before(r, 230), vec![(r, id(12), Some(2))]), // one wrong
        (months_before(r, 240), vec![]),                // never asked
    ];
    for (birth, asked) in &people {
        let who = person(&app, &h, "Залуу", "MALE", &birth.to_string()).await;
        for (date, id, wrong) in asked {
            let i = knowledge(&who, id, *date, *wrong);
            let d = app
                .ok("mutation($i: RecordHivKnowledgeInput!) { recordHivKnowledge(input: $i) { id hivKnowledge { comprehensive } } }", json!({ "i": i }))
                .await;
            assert_eq!(d["recordHivKnowledge"]["hivKnowledge"]["comprehensive"], json!(wrong.is_none()));
        }
    }
    // The recount: completed months by the calendar, each person's latest assessment in the period
    // by (date, id).
    // `r` is a month's last day: anyone born in the month m months before has completed m months.
    let months = |b: NaiveDate| (r.year() - b.year()) * 12 + r.month() as i32 - b.month() as i32;
    let mut want = (0, 0);
    for (birth, asked) in &people {
        let latest = asked.iter().filter(|(d, ..)| *d >= first && *d <= r).max_by_key(|(d, id, _)| (*d, id.clone()));
        if let (true, Some((_, _, wrong))) = ((180..=299).contains(&months(*birth)), latest) {
            want.1 += 1;
            want.0 += i64::from(wrong.is_none());
        }
    }
    assert_eq!(want, (3, 6), "the fixture's own count");
    let t = app.admin_token.clone();
    assert_eq!(counts(&coverage(&app, &t, "COMPREHENSIVE_HIV_KNOWLEDGE", &unit, &[]).await["total"]), want);
    // Not a coverage of the population: there is no estimate to divide by.
    let (code, _) = app
        .err(
            "query($u: UUID!) { coverage(indicator: \"COMPREHENSIVE_HIV_KNOWLEDGE\", orgUnitId: $u, period: \"LAST_12_MONTHS\", denominator: POPULATION) { total { value } } }",
            json!({ "u": unit }),
        )
        .await;
    assert_eq!(code, "VALIDATION");
    // Refused: a child of 9, a day in the future; nothing written.
    let young = person(&app, &h, "Бага", "FEMALE", &months_before(r, 108).to_string()).await;
    let q = "mutation($i: RecordHivKnowledgeInput!) { recordHivKnowledge(input: $i) { id } }";
    for i in
        [knowledge(&young, &id(20), r, None), knowledge(&young, &id(21), cbss::store::today() + Days::new(1), None)]
    {
        let (code, _) = app.err(q, json!({ "i": i })).await;
        assert_eq!(code, "VALIDATION");
    }
    let records = app.ok("query($p: UUID!) { person(id: $p) { serviceRecords { id } } }", json!({ "p": young })).await;
    assert_eq!(records["person"]["serviceRecords"], json!([]));
}
