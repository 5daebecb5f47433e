//! Analysts' questions through the API: coverage by age band, urban/rural and month;
//! `aggregate` with composable filters (has / has not received a service in a window); lists
//! with `where`, `orderBy` and cursor pages; CSV exports of lists and aggregates. Expected
//! figures are worked out here from the fixture children.

use crate::fixtures::{household, person, unit};
use cbss_tests::{PASSWORD, TestApp};
use chrono::{Datelike, Days, Months, NaiveDate};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The day LAST_12_MONTHS is counted on: the last day of the previous month.
fn reference() -> NaiveDate {
    cbss::domain::period::Period::parse("LAST_12_MONTHS", cbss::store::today()).unwrap().to
}

fn months_before(d: NaiveDate, m: u32) -> NaiveDate {
    d.checked_sub_months(Months::new(m)).unwrap()
}

fn day(d: NaiveDate, back: u64) -> String {
    (d - Days::new(back)).to_string()
}

async fn service(app: &TestApp, code: &str, who: &str, date: &str) {
    app.ok(
        "mutation($i: RecordServiceInput!) { recordService(input: $i) { id } }",
        json!({ "i": { "serviceTypeCode": code, "personId": who, "date": date } }),
    )
    .await;
}

async fn measure(app: &TestApp, who: &str, date: &str) {
    app.ok(
        "mutation($i: RecordGrowthMeasurementInput!) { recordGrowthMeasurement(input: $i) { id } }",
        json!({ "i": { "personId": who, "date": date, "weightKg": 9.0, "lengthHeightCm": 75.0 } }),
    )
    .await;
}

/// Two places: an urban khoroo and a rural bag, each with a household of children.
struct World {
    country: String,
    urban_girl_8m: String,
    urban_boy_30m: String,
    rural_girl_50m: String,
    rural_boy_13m: String,
    rural_boy_5m: String,
    urban_home: String,
    rural_home: String,
}

/// Vitamin A: urban girl 8 m dosed, urban boy 30 m never; rural girl 50 m dosed, rural boy 13 m
/// dosed, rural boy 5 m (too young to count). Measured: the urban girl two months before the
/// reference day, the urban boy three days before it.
async fn world(app: &TestApp) -> World {
    app.seed_demo(0).await;
    let r = reference();
    let (khoroo, bag) = (unit(app, "11-SKHD-01").await, unit(app, "85-TARIALAN-B1").await);
    let (uh, rh) = (household(app, &khoroo).await, household(app, &bag).await);
    let w = World {
        country: unit(app, "MN").await,
        urban_girl_8m: person(app, &uh, "Сарнай", "FEMALE", &months_before(r, 8).to_string()).await,
        urban_boy_30m: person(app, &uh, "Бат", "MALE", &months_before(r, 30).to_string()).await,
        rural_girl_50m: person(app, &rh, "Оюун", "FEMALE", &months_before(r, 50).to_string()).await,
        rural_boy_13m: person(app, &rh, "Тулга", "MALE", &months_before(r, 13).to_string()).await,
        rural_boy_5m: person(app, &rh, "Тэмүүлэн", "MALE", &months_before(r, 5).to_string()).await,
        urban_home: uh,
        rural_home: rh,
    };
    for who in [&w.urban_girl_8m, &w.rural_girl_50m, &w.rural_boy_13m] {
        service(app, "VITAMIN_A", who, &day(r, 10)).await;
    }
    measure(app, &w.urban_girl_8m, &months_before(r, 2).to_string()).await;
    measure(app, &w.urban_boy_30m, &day(r, 3)).await;
    w
}

/// A URL with encoded query parameters.
fn with(url: &str, params: &[(&str, &str)]) -> reqwest::Url {
    reqwest::Url::parse_with_params(url, params).unwrap()
}

fn counts(row: &Value) -> (i64, i64) {
    (row["numerator"].as_i64().unwrap(), row["denominator"].as_i64().unwrap())
}

/// Rows keyed by one field.
fn by(rows: &Value, key: &str) -> HashMap<String, (i64, i64)> {
    rows.as_array().unwrap().iter().map(|r| (r[key].as_str().unwrap_or("").to_string(), counts(r))).collect()
}

const COVERAGE: &str = "query($i: String!, $u: UUID!, $g: [CoverageDimension!]!) {
  coverage(indicator: $i, orgUnitId: $u, period: \"LAST_12_MONTHS\", groupBy: $g) {
    rows { ageBand urbanRural period sex numerator denominator }
    total { numerator denominator } } }";

#[tokio::test]
async fn coverage_breaks_down_by_age_band_urban_rural_and_month() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let cov = |i: &'static str, g: Value| {
        let (app, u) = (&app, w.country.clone());
        async move { app.ok(COVERAGE, json!({ "i": i, "u": u, "g": g })).await["coverage"].clone() }
    };
    let c = cov("VITAMIN_A", json!(["AGE_BAND"])).await;
    let bands = by(&c["rows"], "ageBand");
    let expected: HashMap<String, (i64, i64)> =
        [("6-11M", (1, 1)), ("12-23M", (1, 1)), ("24-35M", (0, 1)), ("48-59M", (1, 1))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
    assert_eq!(bands, expected);
    assert_eq!(counts(&c["total"]), (3, 4));

    let c = cov("VITAMIN_A", json!(["URBAN_RURAL", "SEX"])).await;
    let rows = c["rows"].as_array().unwrap();
    let cell =
        |s: &str, x: &str| rows.iter().find(|r| r["urbanRural"] == s && r["sex"] == x).map(counts).unwrap_or((0, 0));
    assert_eq!(
        [cell("URBAN", "FEMALE"), cell("URBAN", "MALE"), cell("RURAL", "FEMALE"), cell("RURAL", "MALE")],
        [(1, 1), (0, 1), (1, 1), (1, 1)]
    );
    let (n, d) = rows.iter().map(counts).fold((0, 0), |(n, d), (a, b)| (n + a, d + b));
    assert_eq!((n, d), counts(&c["total"]), "the groups add up to the total");

    // Growth monitoring by month: each month counts the children measured in it.
    let c = cov("GROWTH_MONITORING", json!(["MONTH"])).await;
    let r = reference();
    let label = |d: NaiveDate| format!("{}-{:02}", d.year(), d.month());
    let months = by(&c["rows"], "period");
    assert_eq!(months.get(&label(r)).map(|c| c.0), Some(1), "{months:?}");
    assert_eq!(months.get(&label(months_before(r, 2))).map(|c| c.0), Some(1), "{months:?}");
    assert_eq!(months.values().map(|c| c.0).sum::<i64>(), 2);
    assert!(months.len() <= 12 && months.keys().all(|k| k.len() == 7));
    // The whole period's total counts each child once, as at its last day.
    assert_eq!(counts(&c["total"]), (2, 5));
    let q = cov("GROWTH_MONITORING", json!(["QUARTER"])).await;
    assert!(q["rows"].as_array().unwrap().iter().all(|r| r["period"].as_str().unwrap().contains('Q')));

    // By aimag over the whole country: Ulaanbaatar stands beside the aimags.
    let q = "query($u: UUID!) { coverage(indicator: \"VITAMIN_A\", orgUnitId: $u, period: \"LAST_12_MONTHS\",
        groupBy: [ORG_UNIT], orgUnitLevel: AIMAG) { rows { orgUnit { code level } numerator denominator } } }";
    let c = app.ok(q, json!({ "u": w.country })).await["coverage"].clone();
    let rows: HashMap<String, (i64, i64)> = c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["orgUnit"]["code"].as_str().unwrap().to_string(), counts(r)))
        .collect();
    let expected: HashMap<String, (i64, i64)> = [("11".to_string(), (1, 2)), ("85".to_string(), (2, 2))].into();
    assert_eq!(rows, expected);

    // School attendance counts an enrolment from years ago that is still open.
    let pupil = person(&app, &w.rural_home, "Ану", "FEMALE", &months_before(r, 120).to_string()).await;
    person(&app, &w.rural_home, "Болд", "MALE", &months_before(r, 100).to_string()).await;
    app.ok(
        "mutation($i: RecordEnrolmentInput!) { recordEnrolment(input: $i) { id } }",
        json!({ "i": { "serviceTypeCode": "SCHOOL_ENROLMENT", "personId": pupil, "date": months_before(r, 48).to_string(),
                       "institution": "Tarialan school", "grade": "1" } }),
    )
    .await;
    let c = cov("SCHOOL_ATTENDANCE", json!([])).await;
    assert_eq!(counts(&c["total"]), (1, 2));

    // Births have no sex; MONTH and QUARTER together make no sense.
    let (code, _) = app.err(COVERAGE, json!({ "i": "SKILLED_BIRTH_ATTENDANCE", "u": w.country, "g": ["SEX"] })).await;
    assert_eq!(code, "VALIDATION");
    let (code, _) = app.err(COVERAGE, json!({ "i": "VITAMIN_A", "u": w.country, "g": ["MONTH", "QUARTER"] })).await;
    assert_eq!(code, "VALIDATION");
}

const AGGREGATE: &str = "query($e: AggregateEntity!, $u: UUID!, $f: AggregateFilter, $g: [AggregateDimension!]!, $m: [Measure!]!, $on: NaiveDate) {
  aggregate(entity: $e, orgUnitId: $u, filter: $f, groupBy: $g, measures: $m, asOf: $on) {
    rows { orgUnit { code } sex ageBand urbanRural period serviceType dwelling count people households meanHaz suppressed }
    total { count people households suppressed } } }";

#[tokio::test]
async fn aggregate_answers_has_and_has_not_questions_by_any_dimension() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let agg = |token: Option<String>, e: &'static str, f: Value, g: Value, m: Value| {
        let (app, u) = (&app, w.country.clone());
        async move {
            // Ages as on the fixture's reference day.
            let vars = json!({ "e": e, "u": u, "f": f, "g": g, "m": m, "on": reference().to_string() });
            match token {
                Some(t) => app.ok_as(&t, AGGREGATE, vars).await["aggregate"].clone(),
                None => app.ok(AGGREGATE, vars).await["aggregate"].clone(),
            }
        }
    };
    // Children 6-59 months without vitamin A in the last 6 months, by urban/rural: the urban boy.
    let without = json!({ "person": { "ageMonths": { "gte": 6, "lte": 59 },
        "not": { "received": { "services": ["VITAMIN_A"], "withinDays": 183 } } } });
    let a = agg(None, "PEOPLE", without.clone(), json!(["URBAN_RURAL"]), json!([])).await;
    assert_eq!(
        a["rows"],
        json!([{ "orgUnit": null, "sex": null, "ageBand": null, "urbanRural": "URBAN", "period": null,
        "serviceType": null, "dwelling": null, "count": 1, "people": null, "households": null, "meanHaz": null, "suppressed": false }])
    );
    assert_eq!(a["total"]["count"], 1);
    // ... and with it: three; by region (the rows add up).
    let with = json!({ "person": { "ageMonths": { "gte": 6, "lte": 59 },
        "received": { "services": ["VITAMIN_A"], "withinDays": 183 } } });
    let a = agg(None, "PEOPLE", with, json!(["ORG_UNIT"]), json!(["COUNT", "HOUSEHOLDS"])).await;
    assert_eq!(a["total"]["count"], 3);
    assert_eq!(a["total"]["households"], 2);
    let sum: i64 = a["rows"].as_array().unwrap().iter().map(|r| r["count"].as_i64().unwrap()).sum();
    assert_eq!(sum, 3);
    assert_eq!(a["rows"].as_array().unwrap().len(), 2, "Ulaanbaatar and the Western region: {a:#}");

    // or / and / not compose: girls, or boys under 12 months → 2 girls + the 5-month-old.
    let f = json!({ "person": { "or": [ { "sex": { "eq": "FEMALE" } },
        { "and": [ { "sex": { "in": ["MALE"] } }, { "ageMonths": { "lt": 12 } } ] } ] } });
    assert_eq!(agg(None, "PEOPLE", f, json!([]), json!([])).await["total"]["count"], 3);
    // Households with an infant, by dwelling: the rural one.
    let f = json!({ "household": { "hasMember": { "ageMonths": { "lt": 12 } }, "urbanRural": "RURAL" } });
    let a = agg(None, "HOUSEHOLDS", f, json!(["DWELLING"]), json!([])).await;
    assert_eq!((a["rows"][0]["dwelling"].clone(), a["total"]["count"].clone()), (json!("GER"), json!(1)));

    // Service records by service type, with distinct people; measurements by age band.
    let f = json!({ "serviceRecord": { "service": { "in": ["VITAMIN_A", "GROWTH_MONITORING"] } } });
    let a = agg(None, "SERVICE_RECORDS", f, json!(["SERVICE_TYPE"]), json!(["COUNT", "PEOPLE"])).await;
    let types: HashMap<String, (i64, i64)> = a["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["serviceType"].as_str().unwrap().to_string(),
                (r["count"].as_i64().unwrap(), r["people"].as_i64().unwrap()),
            )
        })
        .collect();
    assert_eq!(types.get("VITAMIN_A"), Some(&(3, 3)), "{a:#}");
    let a = agg(
        None,
        "GROWTH_MEASUREMENTS",
        json!({ "person": { "sex": { "eq": "MALE" } } }),
        json!(["AGE_BAND"]),
        json!(["COUNT", "MEAN_HAZ"]),
    )
    .await;
    assert_eq!(a["rows"].as_array().unwrap().len(), 1);
    assert_eq!((a["rows"][0]["ageBand"].clone(), a["rows"][0]["count"].clone()), (json!("24-35M"), json!(1)));
    assert!(a["rows"][0]["meanHaz"].is_number());

    // An analyst: the same question, with counts under 5 withheld; names cannot be searched.
    app.ok(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        json!({ "i": { "email": "an@t.mn", "displayName": "Analyst", "password": PASSWORD, "roles": ["ANALYST"] } }),
    )
    .await;
    let analyst = app.login("an@t.mn").await;
    let a = agg(Some(analyst.clone()), "PEOPLE", without, json!(["URBAN_RURAL"]), json!([])).await;
    // A row of 1 to 4 is left out, as a row of none is; the total of 1 to 4 is suppressed.
    assert_eq!(a["rows"], json!([]), "{a}");
    assert_eq!((a["total"]["count"].clone(), a["total"]["suppressed"].clone()), (json!(null), json!(true)));
    let vars = json!({ "e": "PEOPLE", "u": w.country, "f": { "person": { "name": "Бат" } }, "g": [], "m": [] });
    assert_eq!(app.err_as(Some(&analyst), AGGREGATE, vars).await.0, "FORBIDDEN");

    // Nonsense is refused with its path, and nothing else happens.
    for (e, f, g, m) in [
        ("PEOPLE", json!({}), json!(["SERVICE_TYPE"]), json!([])),
        ("HOUSEHOLDS", json!({}), json!(["SEX"]), json!([])),
        ("PEOPLE", json!({}), json!([]), json!(["MEAN_HAZ"])),
        ("PEOPLE", json!({ "person": { "received": { "services": [] } } }), json!([]), json!([])),
        ("HOUSEHOLDS", json!({ "household": { "dwelling": { "eq": "CASTLE" } } }), json!([]), json!([])),
    ] {
        let (code, _) = app.err(AGGREGATE, json!({ "e": e, "u": w.country, "f": f, "g": g, "m": m })).await;
        assert_eq!(code, "VALIDATION", "{e} {f} {g} {m}");
    }
}

const PEOPLE: &str = "query($w: PersonWhere, $o: PersonOrder, $a: String) {
  people(where: $w, orderBy: $o, first: 2, after: $a) {
    edges { cursor node { id birthDate } } pageInfo { hasNextPage endCursor } totalCount } }";

#[tokio::test]
async fn lists_take_where_and_order_by_with_cursor_pages_and_export_as_csv() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    // Children under 5 (all five), youngest first, two at a time.
    let f = json!({ "ageMonths": { "lt": 60 }, "household": { "orgUnit": { "under": w.country } } });
    let order = json!({ "field": "BIRTH_DATE", "direction": "DESC" });
    let (mut seen, mut after) = (Vec::new(), Value::Null);
    loop {
        let d = app.ok(PEOPLE, json!({ "w": f, "o": order, "a": after })).await["people"].clone();
        assert_eq!(d["totalCount"], 5);
        for e in d["edges"].as_array().unwrap() {
            seen.push((
                e["node"]["birthDate"].as_str().unwrap().to_string(),
                e["node"]["id"].as_str().unwrap().to_string(),
            ));
        }
        if !d["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = d["pageInfo"]["endCursor"].clone();
    }
    let ids: Vec<&str> = seen.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, [&w.rural_boy_5m, &w.urban_girl_8m, &w.rural_boy_13m, &w.urban_boy_30m, &w.rural_girl_50m]);
    // Households by registration date; a `where` naming an unknown unit is refused.
    let d = app
        .ok("{ households(orderBy: { field: REGISTERED_ON }, first: 10) { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(d["households"]["edges"].as_array().unwrap().len(), 2);
    let bad = json!({ "orgUnit": { "under": "00000000-0000-0000-0000-000000000000" } });
    assert_eq!(app.err(PEOPLE, json!({ "w": bad })).await.0, "VALIDATION");

    // The same list as CSV, streamed, with Cyrillic names.
    let url = format!("{}/export/people.csv", app.base);
    let res =
        app.client.get(with(&url, &[("where", &f.to_string())])).bearer_auth(&app.admin_token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines[0],
        "id,given_name,family_name,sex,birth_date,birth_month,org_unit_code,household_id,disability,date_of_death"
    );
    assert_eq!(lines.len(), 6, "{body}");
    assert!(body.contains("Тэмүүлэн,Дорж,MALE"), "{body}");
    assert!(body.contains(&w.rural_home) && body.contains(&w.urban_home));
    let anonymous = app.client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let bad = app
        .client
        .get(with(&url, &[("where", "{\"ageMonths\": 5}")]))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // An aggregate as CSV: rows then the total.
    let agg = format!("{}/export/aggregate.csv", app.base);
    let filter = json!({ "person": { "ageMonths": { "gte": 6, "lte": 59 } } }).to_string();
    let res = app
        .client
        .get(with(
            &agg,
            &[
                ("entity", "PEOPLE"),
                ("orgUnitId", &w.country),
                ("filter", &filter),
                ("groupBy", "URBAN_RURAL"),
                ("measures", "COUNT,HOUSEHOLDS"),
                ("asOf", &reference().to_string()),
            ],
        ))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[0].ends_with("dwelling,count,households,suppressed"), "{body}");
    assert!(
        lines.iter().any(|l| l.starts_with("group,PEOPLE") && l.contains(",URBAN,") && l.ends_with(",2,1,false")),
        "{body}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("group,PEOPLE") && l.contains(",RURAL,") && l.ends_with(",2,1,false")),
        "{body}"
    );
    assert!(lines[3].starts_with("total,PEOPLE") && lines[3].ends_with(",4,2,false"), "{body}");
}

/// Exports are safe to open in a spreadsheet: a cell that would start a formula is text.
#[tokio::test]
async fn exports_neutralise_formulas_and_keep_numbers() {
    let app = TestApp::spawn().await;
    let h = household(&app, &unit(&app, "11-BZD").await).await;
    app.ok(
        "mutation($h: UUID!) { updateHousehold(input: { id: $h, address: \"@SUM(1+1)\" }) { id } }",
        json!({ "h": h }),
    )
    .await;
    for given in ["=HYPERLINK(\"http://evil.example\",\"y\")", "+cmd|' /C calc'!A0", "-2+3"] {
        person(&app, &h, given, "FEMALE", "2020-01-01").await;
    }
    let get = |path: &'static str| app.client.get(format!("{}{path}", app.base)).bearer_auth(&app.admin_token).send();
    let people = get("/export/people.csv").await.unwrap().text().await.unwrap();
    assert!(people.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"y\"\")\""), "{people}");
    assert!(people.contains("'+cmd|"), "{people}");
    assert!(people.contains(",'-2+3,"), "{people}");
    assert!(!people.lines().any(|l| l.split(',').any(|c| c.starts_with(['=', '+', '@']))), "{people}");
    let households = get("/export/households.csv").await.unwrap().text().await.unwrap();
    assert!(households.contains("'@SUM(1+1)"), "{households}");
}
