//! Disclosure classes (`api/src/disclosure.rs`): every schema item and CSV column has one, and a
//! de-identified caller (ANALYST) gets no day of any event about a person, by field, filter,
//! sort, `asOf` or export.

use crate::fixtures::unit;
use cbss::disclosure;
use cbss_tests::TestApp;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const SCHEMA: &str = "{ __schema { types { kind name
    fields { name type { kind } args { name } }
    inputFields { name }
    enumValues { name } } } }";

#[tokio::test]
async fn every_field_argument_filter_sort_key_and_csv_column_has_a_disclosure_class() {
    let app = TestApp::spawn().await;
    let types = app.ok(SCHEMA, json!({})).await["__schema"]["types"].as_array().unwrap().clone();
    let mut missing = Vec::new();
    let mut nullable = Vec::new();
    let mut seen = BTreeSet::new();
    for t in &types {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") {
            continue;
        }
        match t["kind"].as_str().unwrap() {
            "OBJECT" | "INTERFACE" => {
                for f in t["fields"].as_array().unwrap() {
                    let field = f["name"].as_str().unwrap();
                    seen.insert(format!("{name}.{field}"));
                    match disclosure::output(name, field) {
                        None => missing.push(format!("field {name}.{field}")),
                        // A withheld field is null, and so is a protected count of 1 to 4.
                        Some(c) if (c.withheld() || c == disclosure::Out::Count) && f["type"]["kind"] == "NON_NULL" => {
                            nullable.push(format!("{name}.{field}"))
                        }
                        Some(_) => {}
                    }
                    for a in f["args"].as_array().unwrap() {
                        let arg = a["name"].as_str().unwrap();
                        if disclosure::input(&format!("{name}.{field}"), arg).is_none() {
                            missing.push(format!("argument {name}.{field}({arg})"));
                        }
                    }
                }
            }
            "INPUT_OBJECT" => {
                for f in t["inputFields"].as_array().unwrap() {
                    let field = f["name"].as_str().unwrap();
                    if disclosure::input(name, field).is_none() {
                        missing.push(format!("input field {name}.{field}"));
                    }
                }
            }
            "ENUM" if name.ends_with("Sort") => {
                for v in t["enumValues"].as_array().unwrap() {
                    let value = v["name"].as_str().unwrap();
                    if disclosure::input(name, value).is_none() {
                        missing.push(format!("sort key {name}.{value}"));
                    }
                }
            }
            _ => {}
        }
    }
    for (head, ty, field) in cbss::export::PEOPLE_COLUMNS.iter().chain(cbss::export::HOUSEHOLD_COLUMNS) {
        if disclosure::output(ty, field).is_none() {
            missing.push(format!("CSV column {head} ({ty}.{field})"));
        }
    }
    assert!(missing.is_empty(), "declare a disclosure class for: {missing:#?}");
    assert!(nullable.is_empty(), "withheld fields must be nullable: {nullable:?}");
    let stale: Vec<String> = disclosure::OUTPUT
        .iter()
        .flat_map(|(t, fs)| fs.iter().map(move |(f, _)| format!("{t}.{f}")))
        .filter(|item| !seen.contains(item))
        .collect();
    assert!(stale.is_empty(), "declared but not in the schema: {stale:?}");
}

/// Every day-level value in `v` (a date, or an instant) with where it was found, and every
/// `ageDays`/`daysOverdue` that is not whole months.
fn days_in(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let at = format!("{path}.{k}");
                if k == "asOf" {
                    // The caller's own `asOf`, moved to the end of its month: not about a person.
                    continue;
                }
                if let Some(n) = v.as_i64()
                    && (k == "ageDays" || k == "daysOverdue")
                    && disclosure::whole_months_in_days(n) != n
                {
                    out.push(format!("{at} = {n}"));
                }
                // A z-score finer than the half SD gives the age in days back out of a weight.
                let z_score = ["weightForAge", "lengthHeightForAge", "weightForLengthHeight", "bmiForAge", "zScore"];
                if let Some(z) = v.as_f64()
                    && z_score.contains(&k.as_str())
                    && (z * 2.0).fract() != 0.0
                {
                    out.push(format!("{at} = {z}"));
                }
                days_in(v, &at, out);
            }
        }
        Value::Array(list) => list.iter().enumerate().for_each(|(i, v)| days_in(v, &format!("{path}.{i}"), out)),
        Value::String(s) => {
            let date = s.get(..10).and_then(|d| d.parse::<chrono::NaiveDate>().ok());
            if let Some(d) = date {
                let midnight = s.len() == 10 || s[10..].starts_with("T00:00:00");
                if chrono::Datelike::day(&d) != 1 || !midnight {
                    out.push(format!("{path} = {s}"));
                }
            }
        }
        _ => {}
    }
}

const PEOPLE: &str = "query($where: PersonWhere) { people(first: 20, where: $where) { totalCount edges { node {
    ...Everything
    household { id address description registeredOn createdAt updatedAt
      consents { id householdId givenBy givenOn withdrawnOn }
      assessments { id assessedOn note actions { id description dueOn followedUpOn followUpNote } } }
    pregnancies { id lastMenstrualPeriod expectedDeliveryDate registeredOn gestationWeeks outcomeDate
      children { id birthDate birthMonth } }
} } } }
fragment Everything on Person {
    id givenName familyName birthDate birthMonth ageMonths registryNumber phone disability dateOfDeath createdAt updatedAt
    serviceRecords { id date createdAt provider recordedBy note
      growthMeasurement { id date ageDays weightForAge lengthHeightForAge weightForLengthHeight bmiForAge } immunisation { id date }
      enrolment { id institution gradeNumber currentGrade endedOn attendance { id enrolmentId periodStart periodEnd } }
      hivKnowledge { id record { id date } comprehensive } }
    dueServices { dueDate overdueFrom closesOn givenOn daysOverdue }
    growthChart(indicator: WEIGHT_FOR_AGE) { points { id date ageDays zScore } }
    milestones { asOf ageMonths domains { lastCheckedOn items { checkedOn achievedOn } } }
}";

#[tokio::test]
async fn a_de_identified_caller_gets_no_day_of_any_event_about_a_person() {
    let app = TestApp::spawn().await;
    app.seed_demo(300).await;
    // An analyst reads no rows at all; a researcher reads them de-identified.
    let (code, e) = app.err_as(Some(&app.login("analyst@demo.mn").await), PEOPLE, json!({})).await;
    assert_eq!(code, "FORBIDDEN", "{e}");
    let researcher = app.login("researcher@demo.mn").await;
    let mut reached = 0;
    // Children, mothers, everyone: each shape of person the demo data has.
    for cond in [
        json!({ "ageMonths": { "lte": 59 } }),
        json!({ "sex": { "eq": "FEMALE" }, "ageYears": { "gte": 15 } }),
        json!(null),
    ] {
        let vars = json!({ "where": cond });
        let real = app.ok(PEOPLE, vars.clone()).await;
        let mut days = Vec::new();
        days_in(&real, "", &mut days);
        assert!(days.len() > 100, "the administrator sees days (or the test could not fail): {}", days.len());
        reached += days.len();
        let seen = app.ok_as(&researcher, PEOPLE, vars).await;
        let mut leaked = Vec::new();
        days_in(&seen, "", &mut leaked);
        assert!(leaked.is_empty(), "days reached the researcher: {:#?}", &leaked[..leaked.len().min(20)]);
        let text = seen.to_string();
        for withheld in ["\"givenName\":\"", "\"address\":\"", "\"disability\":\"", "\"note\":\"", "\"provider\":\""] {
            assert!(!text.contains(withheld), "{withheld} reached the researcher");
        }
    }
    assert!(reached > 1000);

    // A due list is a round: its window swept a day at a time would date each due service.
    let soum = unit(&app, "85-ZAVKHAN").await;
    let q = "query($u: UUID!) { dueList(orgUnitId: $u, withinDays: 30, first: 50) { totalCount } }";
    assert!(app.ok(q, json!({ "u": soum })).await["dueList"]["totalCount"].as_i64().unwrap() > 0);
    let (code, _) = app.err_as(Some(&researcher), q, json!({ "u": soum })).await;
    assert_eq!(code, "FORBIDDEN");
}

#[tokio::test]
async fn no_de_identified_caller_can_find_a_birth_day_by_filter_sort_as_of_or_export() {
    let app = TestApp::spawn().await;
    app.seed_demo(300).await;
    let analyst = app.login("analyst@demo.mn").await;
    let researcher = app.login("researcher@demo.mn").await;
    let refused = |code: &str, error: &Value, path: &str| {
        assert_eq!(code, "VALIDATION", "{error}");
        let paths: Vec<&str> =
            error["extensions"]["fields"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
        assert_eq!(paths, [path], "{error}");
    };
    let count = "query($f: PersonFilter, $w: PersonWhere) { people(filter: $f, where: $w) { totalCount } }";
    let day = json!({ "f": { "bornFrom": "2024-03-17", "bornTo": "2024-03-17" } });
    let (code, e) = app.err_as(Some(&analyst), count, day.clone()).await;
    refused(&code, &e, "filter.bornFrom");
    let (code, e) = app.err_as(Some(&analyst), count, json!({ "w": { "birthDate": { "eq": "2024-03-17" } } })).await;
    refused(&code, &e, "where.birthDate.eq");
    let (code, e) = app.err_as(Some(&analyst), count, json!({ "w": { "birthDate": { "gte": "2024-03-17" } } })).await;
    refused(&code, &e, "where.birthDate.gte");
    let nested = json!({ "w": { "household": { "hasMember": { "birthDate": { "lte": "2024-03-17" } } } } });
    let (code, e) = app.err_as(Some(&analyst), count, nested).await;
    refused(&code, &e, "where.household.hasMember.birthDate.lte");
    let (code, e) = app
        .err_as(Some(&analyst), count, json!({ "w": { "received": { "services": ["BCG"], "from": "2024-03-17" } } }))
        .await;
    refused(&code, &e, "where.received.from");
    let (code, _) =
        app.err_as(Some(&analyst), "{ people(orderBy: { field: BIRTH_DATE }) { totalCount } }", json!({})).await;
    assert_eq!(code, "FORBIDDEN");
    let (code, _) =
        app.err_as(Some(&analyst), "{ households(orderBy: { field: REGISTERED_ON }) { totalCount } }", json!({})).await;
    assert_eq!(code, "FORBIDDEN");
    let uvs = unit(&app, "85").await;
    let agg = "query($u: UUID!, $f: AggregateFilter) { aggregate(entity: PEOPLE, orgUnitId: $u, filter: $f) { asOf total { count } } }";
    let (code, e) = app
        .err_as(Some(&analyst), agg, json!({ "u": uvs, "f": { "person": { "birthDate": { "eq": "2024-03-17" } } } }))
        .await;
    refused(&code, &e, "filter.person.birthDate.eq");
    let res = app
        .client
        .get(format!("{}/export/people.csv", app.base))
        .query(&[("where", r#"{"birthDate":{"eq":"2024-03-17"}}"#)])
        .bearer_auth(&researcher)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"], "VALIDATION");

    let res = app.client.get(format!("{}/export/people.csv", app.base)).bearer_auth(&analyst).send().await.unwrap();
    assert_eq!(res.status(), 403, "an analyst exports no rows");

    // Cursors of de-identified callers' pages are their own: none matches the one another role is given for
    // the same person, and they page as well.
    let page = "query($a: String) { people(first: 20, after: $a) { edges { cursor } pageInfo { endCursor } } }";
    let cursors = |d: &Value| -> Vec<String> {
        d["people"]["edges"].as_array().unwrap().iter().map(|e| e["cursor"].as_str().unwrap().to_string()).collect()
    };
    let (theirs, mine) = (app.ok_as(&researcher, page, json!({})).await, app.ok(page, json!({})).await);
    assert!(
        cursors(&theirs).iter().all(|c| !cursors(&mine).contains(c)),
        "a cursor links an analyst's row to an identified one"
    );
    let next = app.ok_as(&researcher, page, json!({ "a": theirs["people"]["pageInfo"]["endCursor"] })).await;
    assert_eq!(cursors(&next).len(), 20);
    assert!(cursors(&next).iter().all(|c| !cursors(&theirs).contains(c)));

    // Whole months answer, as the administrator's count does but for the cell key's ±3.
    let month = json!({ "f": { "bornFrom": "2024-01-01", "bornTo": "2024-06-30" } });
    let theirs = app.ok_as(&analyst, count, month.clone()).await["people"]["totalCount"].as_i64().unwrap();
    let mine = app.ok(count, month).await["people"]["totalCount"].as_i64().unwrap();
    assert!(mine >= 5 && (theirs - mine).abs() <= 3, "{theirs} for {mine}");
    assert!(app.ok(count, day).await["people"]["totalCount"].is_number(), "the administrator may ask by day");

    // `asOf` moves to the end of its month: every day of a month answers the same.
    let ages = "query($d: NaiveDate) { people(first: 100, where: { ageMonths: { lte: 59 } }) { edges { node { ageMonths(asOf: $d) lifeStage(asOf: $d) { code } dueServices(asOf: $d) { status } } } } }";
    let first = app.ok_as(&researcher, ages, json!({ "d": "2026-03-01" })).await;
    for d in ["2026-03-02", "2026-03-16", "2026-03-31"] {
        assert_eq!(app.ok_as(&researcher, ages, json!({ "d": d })).await, first, "asOf {d} told days apart");
    }
    let differs = app.ok(ages, json!({ "d": "2026-03-01" })).await != app.ok(ages, json!({ "d": "2026-03-31" })).await;
    assert!(differs, "the days differ for the administrator (or the test could not fail)");
    let d = app.ok_as(&analyst, agg, json!({ "u": uvs, "f": null })).await;
    assert_eq!(d["aggregate"]["asOf"], json!(disclosure::month_end(cbss::store::today()).to_string()));
}

#[test]
fn the_readme_shows_the_declared_classes() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let table = disclosure::readme_table();
    assert!(
        readme.contains(&table),
        "README.md's table of what de-identified callers get is out of date; it is:\n{table}"
    );
}

#[tokio::test]
async fn two_children_born_in_one_month_look_the_same_to_a_researcher_in_everything_derived() {
    let app = TestApp::spawn().await;
    let unit_id = unit(&app, "11-BZD").await;
    let h = crate::fixtures::household(&app, &unit_id).await;
    // Born on the 2nd and the 27th of last month, each given BCG three days later.
    let month = disclosure::month_start(cbss::store::today()) - chrono::Months::new(1);
    for day in [1, 26] {
        let born = month + chrono::Days::new(day);
        let p = crate::fixtures::person(&app, &h, "Ану", "FEMALE", &born.to_string()).await;
        app.ok(
            "mutation($p: UUID!, $d: NaiveDate!) { recordImmunisation(input: { personId: $p, date: $d, antigenCode: \"BCG\", doseNumber: 1 }) { id } }",
            json!({ "p": p, "d": (born + chrono::Days::new(3)).to_string() }),
        )
        .await;
    }
    app.ok(
        "mutation { createUser(input: { email: \"analyst@test.mn\", displayName: \"A\", password: \"a-long-password-1\", roles: [RESEARCHER] }) { id } }",
        json!({}),
    )
    .await;
    let body = app
        .gql_as(
            None,
            "mutation { login(email: \"analyst@test.mn\", password: \"a-long-password-1\") { accessToken } }",
            json!({}),
        )
        .await;
    let analyst = body["data"]["login"]["accessToken"].as_str().unwrap().to_string();
    let q = "query($u: UUID!) { people(filter: { orgUnitId: $u }) { nodes { birthMonth ageMonths lifeStage { code }
        dueServices { code status dueDate overdueFrom closesOn givenOn daysOverdue }
        milestones { ageMonths domains { onTrack } } growthChart(indicator: WEIGHT_FOR_AGE) { curves { ageDays } } } } }";
    let seen = app.ok_as(&analyst, q, json!({ "u": unit_id })).await;
    let nodes = seen["people"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0], nodes[1], "an analyst told two children of one birth month apart");
    let real = app.ok(q, json!({ "u": unit_id })).await;
    assert_ne!(real["people"]["nodes"][0], real["people"]["nodes"][1], "they differ for the administrator");
}
