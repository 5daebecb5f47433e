//! Counts shown to de-identified callers survive differencing (`api/src/domain/cell_key.rs`):
//! a total minus its visible rows, two groupings of one unit, and two overlapping filters give
//! noise, not the suppressed count. Each attack is first run on the exact counts (with the old
//! small-cell suppression), where it must succeed, so the test could fail.

use cbss_tests::TestApp;
use serde_json::{Value, json};

// Ages as at the end of this month: the day a de-identified caller's ages are counted on.
const AGG: &str = "query($u: UUID!, $g: [AggregateDimension!]!, $f: AggregateFilter, $on: NaiveDate) {
  aggregate(entity: PEOPLE, orgUnitId: $u, groupBy: $g, filter: $f, asOf: $on) {
    rows { sex ageBand count suppressed } total { count suppressed } } }";

fn month_end() -> String {
    cbss::disclosure::month_end(cbss::store::today()).to_string()
}

/// The units people live in (soums, districts, bags, khoroos).
async fn units(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for level in ["SOUM", "DISTRICT", "BAG"] {
        let d = app
            .ok("query($l: OrgUnitLevel) { orgUnits(level: $l, first: 100) { nodes { id } } }", json!({ "l": level }))
            .await;
        out.extend(d["orgUnits"]["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()));
    }
    out
}

/// An answer as the service answered before cell keys: exact counts, those from 1 to 4 hidden.
fn suppressed_exactly(answer: &Value) -> Value {
    let mut a = answer.clone();
    let hide = |cell: &mut Value| {
        let n = cell["count"].as_i64().unwrap();
        if (1..5).contains(&n) {
            cell["count"] = Value::Null;
            cell["suppressed"] = json!(true);
        }
    };
    for row in a["aggregate"]["rows"].as_array_mut().unwrap() {
        hide(row);
    }
    hide(&mut a["aggregate"]["total"]);
    a
}

/// Total minus visible rows, when exactly one of the `categories` rows is hidden (shown as
/// suppressed, or left out): the attacker's guess of it.
fn total_minus_rows(total: &Value, rows: &Value, categories: usize) -> Option<i64> {
    let rows = rows["aggregate"]["rows"].as_array().unwrap();
    let shown: Vec<i64> = rows.iter().filter_map(|r| r["count"].as_i64()).collect();
    let total = total["aggregate"]["total"]["count"].as_i64()?;
    (categories - shown.len() == 1).then(|| total - shown.iter().sum::<i64>())
}

#[tokio::test]
async fn a_total_minus_its_rows_or_another_grouping_does_not_give_back_a_suppressed_count() {
    let app = TestApp::spawn().await;
    app.seed_demo(1000).await;
    let analyst = app.login("analyst@demo.mn").await;
    let (mut trials, mut exact_before, mut exact_now) = (0, 0, 0);
    for u in units(&app).await {
        let all = json!({ "u": u, "g": ["AGE_BAND"], "f": null, "on": month_end() });
        let (truth, seen) = (app.ok(AGG, all.clone()).await, app.ok_as(&analyst, AGG, all.clone()).await);
        assert_eq!(app.ok_as(&analyst, AGG, all).await, seen, "the same question, the same answer");
        within_three(&seen, &truth);
        // People of one age band by sex, where one sex has 1 to 4: the band's total (and the
        // total of the same people grouped another way) minus the other sex's row.
        for (lo, hi) in BANDS {
            let band = json!({ "person": { "ageMonths": { "gte": lo, "lte": hi } } });
            let by_sex = json!({ "u": u, "g": ["SEX"], "f": band, "on": month_end() });
            let by_place = json!({ "u": u, "g": ["URBAN_RURAL"], "f": band, "on": month_end() });
            let truth = app.ok(AGG, by_sex.clone()).await;
            let hidden: Vec<i64> = truth["aggregate"]["rows"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|r| r["count"].as_i64())
                .filter(|n| (1..5).contains(n))
                .collect();
            let [real] = hidden.as_slice() else { continue };
            let seen = app.ok_as(&analyst, AGG, by_sex).await;
            within_three(&seen, &truth);
            // The same people grouped another way: the same total, so nothing to average.
            let other = app.ok_as(&analyst, AGG, by_place).await;
            assert_eq!(other["aggregate"]["total"], seen["aggregate"]["total"]);
            let before = suppressed_exactly(&truth);
            let Some(guess_before) = total_minus_rows(&before, &before, 2) else { continue };
            trials += 1;
            exact_before += (guess_before == *real) as usize;
            // The attacker knows the hidden count is from 1 to 4.
            let guess = total_minus_rows(&seen, &seen, 2).map(|g| g.clamp(1, 4));
            exact_now += (guess == Some(*real)) as usize;
        }
    }
    assert!(trials >= 30, "too few bands with one suppressed row to test: {trials}");
    assert_eq!(exact_before, trials, "exact counts with suppression alone give the hidden row back every time");
    // With ±3 on each of two cells the best guess is right about 36% of the time (a blind
    // guess: 25%; see `domain::cell_key`): three in four right is far above that.
    assert!(exact_now * 4 <= trials * 3, "differencing recovered {exact_now} of {trials} suppressed counts");
    eprintln!("total minus rows: right {exact_now} of {trials}");
}

const BANDS: [(i64, i64); 12] = [
    (0, 5),
    (6, 11),
    (12, 23),
    (24, 35),
    (36, 47),
    (48, 59),
    (60, 119),
    (120, 179),
    (180, 239),
    (240, 359),
    (360, 599),
    (600, 1799),
];

/// Every count an analyst was shown is within 3 of the truth and never under 5; a row of 1 to 4
/// is left out (as a row of none is), a total of 1 to 4 is suppressed; rows come as the
/// administrator's otherwise.
fn within_three(shown: &Value, real: &Value) {
    let check = |s: &Value, r: &Value| {
        let n = r["count"].as_i64().unwrap();
        match s["count"].as_i64() {
            None => assert!((0..5).contains(&n), "{n} suppressed"),
            Some(v) => assert!((v - n).abs() <= 3 && v >= 5, "{n} shown as {v}"),
        }
    };
    check(&shown["aggregate"]["total"], &real["aggregate"]["total"]);
    let shown = shown["aggregate"]["rows"].as_array().unwrap();
    let mut seen = shown.iter();
    for r in real["aggregate"]["rows"].as_array().unwrap() {
        if (1..5).contains(&r["count"].as_i64().unwrap()) {
            let left_out = shown.iter().all(|s| (&s["sex"], &s["ageBand"]) != (&r["sex"], &r["ageBand"]));
            assert!(left_out, "a row of 1 to 4 is left out: {r}");
            continue;
        }
        let s = seen.next().expect("every other row is shown");
        assert_eq!((&s["sex"], &s["ageBand"]), (&r["sex"], &r["ageBand"]));
        check(s, r);
    }
    assert!(seen.next().is_none(), "no row the administrator does not get");
}

#[tokio::test]
async fn two_overlapping_filters_do_not_give_back_a_small_count() {
    let app = TestApp::spawn().await;
    app.seed_demo(1000).await;
    let analyst = app.login("analyst@demo.mn").await;
    // "People in unit U" minus "people in U not in age band B", where U has 1 to 4 in B.
    let (mut trials, mut exact_before, mut exact_now) = (0, 0, 0);
    for u in units(&app).await {
        let all = json!({ "u": u, "g": [], "f": null, "on": month_end() });
        let (everyone, everyone_seen) = (app.ok(AGG, all.clone()).await, app.ok_as(&analyst, AGG, all).await);
        for (lo, hi) in BANDS {
            let band = json!({ "ageMonths": { "gte": lo, "lte": hi } });
            let only = json!({ "u": u, "g": [], "f": { "person": band }, "on": month_end() });
            let rest = json!({ "u": u, "g": [], "f": { "person": { "not": band } }, "on": month_end() });
            let real = app.ok(AGG, only).await["aggregate"]["total"]["count"].as_i64().unwrap();
            if !(1..5).contains(&real) {
                continue;
            }
            let count = |a: &Value| a["aggregate"]["total"]["count"].as_i64();
            let (rest_real, rest_seen) = (app.ok(AGG, rest.clone()).await, app.ok_as(&analyst, AGG, rest).await);
            let (Some(a), Some(b)) = (count(&everyone_seen), count(&rest_seen)) else { continue };
            trials += 1;
            exact_before += (count(&everyone).unwrap() - count(&rest_real).unwrap() == real) as usize;
            exact_now += ((a - b).clamp(1, 4) == real) as usize;
        }
    }
    assert!(trials >= 30, "too few small bands to test: {trials}");
    assert_eq!(exact_before, trials);
    assert!(exact_now * 4 <= trials * 3, "overlapping filters recovered {exact_now} of {trials} small counts");
    eprintln!("overlapping filters: right {exact_now} of {trials}");
}

#[tokio::test]
async fn coverage_for_an_analyst_is_perturbed_consistently_and_its_rates_follow_the_shown_counts() {
    let app = TestApp::spawn().await;
    app.seed_demo(1000).await;
    let analyst = app.login("analyst@demo.mn").await;
    let country = crate::fixtures::unit(&app, "MN").await;
    let q = "query($u: UUID!) { coverage(indicator: \"GROWTH_MONITORING\", orgUnitId: $u, period: \"LAST_12_MONTHS\",
        groupBy: [ORG_UNIT, SEX], orgUnitLevel: SOUM) { rows { orgUnit { code } sex numerator denominator value suppressed }
        total { numerator denominator value suppressed } } }";
    let real = app.ok(q, json!({ "u": country })).await;
    let seen = app.ok_as(&analyst, q, json!({ "u": country })).await;
    assert_eq!(app.ok_as(&analyst, q, json!({ "u": country })).await, seen, "the same question, the same answer");
    let (mut moved, mut cells) = (0, 0);
    let mut pairs: Vec<(&Value, &Value)> =
        seen["coverage"]["rows"].as_array().unwrap().iter().zip(real["coverage"]["rows"].as_array().unwrap()).collect();
    pairs.push((&seen["coverage"]["total"], &real["coverage"]["total"]));
    for (s, r) in pairs {
        let (n, d) = (r["numerator"].as_i64().unwrap(), r["denominator"].as_i64().unwrap());
        if s["suppressed"] == json!(true) {
            assert!((1..5).contains(&n) || (1..5).contains(&d), "{r} suppressed");
            assert!(s["numerator"].is_null() && s["value"].is_null());
            continue;
        }
        let (sn, sd) = (s["numerator"].as_i64().unwrap(), s["denominator"].as_i64().unwrap());
        assert!((sn - n).abs() <= 3 && (sd - d).abs() <= 3 && sn <= sd, "{r} shown as {s}");
        if sd > 0 {
            let rate = ((sn * 1000) as f64 / sd as f64).round() / 10.0;
            assert_eq!(s["value"].as_f64(), Some(rate), "the rate of the shown counts: {s}");
        }
        cells += 1;
        moved += (sn != n || sd != d) as usize;
    }
    assert!(cells >= 10 && moved * 3 > cells, "counts were perturbed in {moved} of {cells} cells");
}

#[tokio::test]
async fn an_assessment_roll_up_for_an_analyst_is_perturbed_and_ranks_only_what_it_shows() {
    let app = TestApp::spawn().await;
    app.seed_demo(1000).await;
    let analyst = app.login("analyst@demo.mn").await;
    let q = "query($u: UUID!) { assessmentSummary(orgUnitId: $u, period: \"LAST_12_MONTHS\") { householdsAssessed
        indicators { indicator { code } householdsApplicable householdsMeeting share suppressed priorityRank } } }";
    let (mut shown, mut moved) = (0, 0);
    for code in ["11-BZD-01", "85-ZAVKHAN"] {
        let u = json!({ "u": crate::fixtures::unit(&app, code).await });
        let real = app.ok(q, u.clone()).await["assessmentSummary"].clone();
        let seen = app.ok_as(&analyst, q, u.clone()).await["assessmentSummary"].clone();
        assert_eq!(app.ok_as(&analyst, q, u).await["assessmentSummary"], seen, "the same question, the same answer");
        let n = real["householdsAssessed"].as_i64().unwrap();
        assert!(n >= 5 && (seen["householdsAssessed"].as_i64().unwrap() - n).abs() <= 3);
        for (s, r) in seen["indicators"].as_array().unwrap().iter().zip(real["indicators"].as_array().unwrap()) {
            let (a, m) = (r["householdsApplicable"].as_i64().unwrap(), r["householdsMeeting"].as_i64().unwrap());
            if s["suppressed"] == json!(true) {
                assert!((0..5).contains(&a) || (0..5).contains(&m), "{r} suppressed");
                assert!(s["share"].is_null() && s["priorityRank"].is_null() && s["householdsMeeting"].is_null(), "{s}");
                continue;
            }
            let (sa, sm) = (s["householdsApplicable"].as_i64().unwrap(), s["householdsMeeting"].as_i64().unwrap());
            assert!((sa - a).abs() <= 3 && (sm - m).abs() <= 3 && sm <= sa, "{r} shown as {s}");
            shown += 1;
            moved += (sa != a || sm != m) as usize;
        }
    }
    assert!(shown >= 5 && moved > 0, "{moved} of {shown} indicators perturbed");
}

/// A user with one role, logged in.
async fn user_with(app: &TestApp, email: &str, role: &str) -> String {
    let i = json!({ "email": email, "displayName": role, "password": cbss_tests::PASSWORD, "roles": [role] });
    app.ok("mutation($i: CreateUserInput!) { createUser(input: $i) { id } }", json!({ "i": i })).await;
    app.login(email).await
}

/// A list's rows could be counted one by one: an analyst gets a list as its protected
/// `totalCount` only, and a researcher's `totalCount` is protected as every count is.
#[tokio::test]
async fn an_analyst_reads_a_list_as_its_protected_count_and_never_its_rows() {
    let app = TestApp::spawn().await;
    let analyst = user_with(&app, "tables@t.mn", "ANALYST").await;
    let researcher = user_with(&app, "micro@t.mn", "RESEARCHER").await;
    let khoroo = crate::fixtures::unit(&app, "11-BZD").await;
    let h = crate::fixtures::household(&app, &khoroo).await;
    let count = "query($u: UUID!) { people(filter: { orgUnitId: $u, bornFrom: \"2019-02-01\", bornTo: \"2019-02-28\" }) { totalCount } }";
    let u = json!({ "u": khoroo });
    let mut born = 0;
    for n in 1..=12 {
        crate::fixtures::person(&app, &h, "Ану", "FEMALE", &format!("2019-02-{:02}", n * 2)).await;
        born += 1;
        let exact = app.ok(count, u.clone()).await["people"]["totalCount"].as_i64().unwrap();
        assert_eq!(exact, born, "the administrator counts exactly (or the test could not fail)");
        for token in [&analyst, &researcher] {
            let seen = app.ok_as(token, count, u.clone()).await["people"]["totalCount"].clone();
            if born < 5 {
                assert_eq!(seen, Value::Null, "{born} people: a count from 1 to 4 is never shown");
            } else {
                let seen = seen.as_i64().unwrap();
                assert!(seen >= 5 && (seen - born).abs() <= 3, "{seen} shown for {born}");
                let again = app.ok_as(token, count, u.clone()).await["people"]["totalCount"].clone();
                assert_eq!(again, json!(seen), "the same people, the same answer");
            }
        }
    }
    let none = "{ people(filter: { bornFrom: \"1900-01-01\", bornTo: \"1900-01-31\" }) { totalCount } }";
    let zero = app.ok_as(&analyst, none, json!({})).await["people"]["totalCount"].clone();
    assert_eq!(zero, Value::Null, "a zero is suppressed as 1 to 4 are: it would tell them apart");

    // The rows, in every shape a client sends them: refused at their own path, the planned page
    // and the executor alike.
    let shapes = [
        ("{ people(first: 5) { edges { node { id } } } }", json!(["people", "edges"])),
        ("{ people(first: 5) { nodes { ageMonths } } }", json!(["people", "nodes"])),
        ("{ people(first: 5) { totalCount pageInfo { hasNextPage } } }", json!(["people", "pageInfo"])),
        (
            "query Q { people(first: 5) { ...Page } } fragment Page on PersonConnection { edges { node { sex } } }",
            json!(["people", "edges"]),
        ),
        ("{ households(first: 5) { nodes { dwelling } } }", json!(["households", "nodes"])),
    ];
    for (q, path) in shapes {
        let (code, e) = app.err_as(Some(&analyst), q, json!({})).await;
        assert_eq!((code.as_str(), &e["path"]), ("FORBIDDEN", &path), "{q}: {e}");
        let rows = app.ok_as(&researcher, q, json!({})).await;
        assert!(rows.to_string().len() > 40, "a researcher reads the rows: {rows}");
    }
    let export = |list: &str, token: &str| {
        app.client.get(format!("{}/export/{list}.csv", app.base)).bearer_auth(token.to_string()).send()
    };
    for list in ["people", "households"] {
        assert_eq!(export(list, &analyst).await.unwrap().status(), 403, "{list}.csv");
        assert_eq!(export(list, &researcher).await.unwrap().status(), 200, "{list}.csv");
    }
}

/// A project's reach is a count of records too: protected for de-identified callers, and the
/// records it reached are rows an analyst may not read.
#[tokio::test]
async fn a_projects_reach_is_a_protected_count_and_its_records_rows() {
    let app = TestApp::spawn().await;
    app.seed_demo(300).await;
    let project = &app.ok("{ communityProjects(first: 1) { nodes { id orgUnit { id } } } }", json!({})).await["communityProjects"]
        ["nodes"][0];
    let u = json!({ "u": project["orgUnit"]["id"] });
    let ids = |d: &Value, list: &str| -> Vec<Value> {
        d[list]["nodes"].as_array().unwrap().iter().map(|n| n["id"].clone()).collect()
    };
    let people = ids(
        &app.ok("query($u: UUID!) { people(filter: { orgUnitId: $u }, first: 7) { nodes { id } } }", u.clone()).await,
        "people",
    );
    let households = ids(
        &app.ok("query($u: UUID!) { households(filter: { orgUnitId: $u }, first: 3) { nodes { id } } }", u).await,
        "households",
    );
    assert_eq!((people.len(), households.len()), (7, 3));
    app.ok(
        "mutation($id: UUID!, $h: [UUID!]!, $p: [UUID!]!) { linkProjectReach(projectId: $id, householdIds: $h, personIds: $p) { id } }",
        json!({ "id": project["id"], "h": households, "p": people }),
    )
    .await;
    let totals = "query($id: UUID!) { communityProject(id: $id) { totals { householdsLinked peopleLinked } } }";
    let id = json!({ "id": project["id"] });
    let exact = app.ok(totals, id.clone()).await["communityProject"]["totals"].clone();
    assert_eq!(exact, json!({ "householdsLinked": 3, "peopleLinked": 7 }));
    let analyst = app.login("analyst@demo.mn").await;
    let researcher = app.login("researcher@demo.mn").await;
    for token in [&analyst, &researcher] {
        let seen = app.ok_as(token, totals, id.clone()).await["communityProject"]["totals"].clone();
        assert_eq!(seen["householdsLinked"], Value::Null, "3 households: not shown");
        let h = seen["peopleLinked"].as_i64().unwrap();
        assert!(h >= 5 && (h - 7).abs() <= 3, "{seen}");
    }
    let reached = "query($id: UUID!) { communityProject(id: $id) { peopleReached { id } } }";
    let (code, e) = app.err_as(Some(&analyst), reached, id.clone()).await;
    assert_eq!((code.as_str(), &e["path"]), ("FORBIDDEN", &json!(["communityProject", "peopleReached"])), "{e}");
    let seen = app.ok_as(&researcher, reached, id).await["communityProject"]["peopleReached"].clone();
    let seen: Vec<Value> = seen.as_array().unwrap().iter().map(|p| p["id"].clone()).collect();
    assert!(seen.len() == 7 && seen.iter().all(|p| !people.contains(p)), "pseudonyms: {seen:?}");
}

/// A distinct count is perturbed with the keys of what it counts: one set of households,
/// reached through different people (or counted as households), answers the same every time,
/// so there is nothing to average.
#[tokio::test]
async fn one_set_of_households_counts_the_same_however_it_is_reached() {
    let app = TestApp::spawn().await;
    let analyst = user_with(&app, "distinct@t.mn", "ANALYST").await;
    let district = crate::fixtures::unit(&app, "11-BZD").await;
    for i in 0..9 {
        let h = crate::fixtures::household(&app, &district).await;
        crate::fixtures::person(&app, &h, "Бат", "MALE", &format!("198{i}-05-10")).await;
        crate::fixtures::person(&app, &h, "Сувд", "FEMALE", &format!("199{i}-07-20")).await;
    }
    let q = "query($u: UUID!, $f: AggregateFilter) { aggregate(entity: PEOPLE, orgUnitId: $u, measures: [HOUSEHOLDS], filter: $f) { total { households } } }";
    let mut answers = Vec::new();
    for f in [
        json!(null),
        json!({ "person": { "sex": { "eq": "MALE" } } }),
        json!({ "person": { "sex": { "eq": "FEMALE" } } }),
        json!({ "person": { "ageYears": { "gte": 20 } } }),
        json!({ "person": { "not": { "ageYears": { "eq": 99 } } } }),
    ] {
        let exact = app.ok(q, json!({ "u": district, "f": f })).await["aggregate"]["total"]["households"].clone();
        assert_eq!(exact, 9, "every filter reaches the nine households");
        answers.push(
            app.ok_as(&analyst, q, json!({ "u": district, "f": f })).await["aggregate"]["total"]["households"].clone(),
        );
    }
    let listed = "query($u: UUID!) { households(filter: { orgUnitId: $u }) { totalCount } }";
    answers.push(app.ok_as(&analyst, listed, json!({ "u": district })).await["households"]["totalCount"].clone());
    assert!(answers.iter().all(|a| a == &answers[0]), "one set of households, one answer: {answers:?}");
    let n = answers[0].as_i64().unwrap();
    assert!(n >= 5 && (n - 9).abs() <= 3, "{n}");
}
