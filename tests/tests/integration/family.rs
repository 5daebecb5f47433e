//! Family Empowerment through the API: assessments checked against the household on the day,
//! the roll-up with exact shares and priorities, projects' workflow, partners and totals.

use crate::fixtures::{days_ago, household, months_ago, person, unit};
use cbss_tests::{PASSWORD, TestApp};
use serde_json::{Value, json};

const RECORD: &str = "mutation($i: RecordFamilyAssessmentInput!) { recordFamilyAssessment(input: $i) {
  id met applicable score answers { indicator { code } answer } actions { id status } } }";

/// Answers for the five indicators that apply to every household, in the instrument's order.
fn always(water: bool, latrine: bool, salt: bool, garden: bool, hiv: bool) -> Vec<Value> {
    let yn = |b: bool| if b { "YES" } else { "NO" };
    vec![
        json!({ "indicatorCode": "SAFE_WATER", "answer": yn(water) }),
        json!({ "indicatorCode": "LATRINE_HANDWASHING", "answer": yn(latrine) }),
        json!({ "indicatorCode": "IODISED_SALT", "answer": yn(salt) }),
        json!({ "indicatorCode": "HOME_GARDEN", "answer": yn(garden) }),
        json!({ "indicatorCode": "HIV_KNOWLEDGE", "answer": yn(hiv) }),
    ]
}

async fn adults_household(app: &TestApp, unit_id: &str) -> String {
    let h = household(app, unit_id).await;
    person(app, &h, "Болд", "MALE", "1985-02-02").await;
    person(app, &h, "Сараа", "FEMALE", "1987-03-03").await;
    h
}

async fn assess(app: &TestApp, h: &str, on: &str, answers: Vec<Value>) -> Value {
    let d = app.ok(RECORD, json!({ "i": { "householdId": h, "assessedOn": on, "answers": answers } })).await;
    d["recordFamilyAssessment"].clone()
}

#[tokio::test]
async fn an_inapplicable_yes_is_refused_and_nothing_is_stored_then_a_valid_visit_is_scored() {
    let app = TestApp::spawn().await;
    let d = app.ok("{ orgUnitByCode(code: \"11\") { children { id } } }", json!({})).await;
    let district = d["orgUnitByCode"]["children"][0]["id"].as_str().unwrap().to_string();
    let h = adults_household(&app, &district).await;
    let mut answers = always(true, false, true, false, true);
    answers.insert(0, json!({ "indicatorCode": "GROWTH_CHART", "answer": "YES" }));
    let (code, err) = app.err(RECORD, json!({ "i": { "householdId": h, "answers": answers } })).await;
    assert_eq!(code, "VALIDATION");
    assert_eq!(err["extensions"]["fields"][0]["path"], "input.answers.0.answer");
    assert!(err["extensions"]["fields"][0]["message"].as_str().unwrap().contains("no child under 5"));
    assert_eq!((app.count("family_assessment").await, app.count("assessment_answer").await), (0, 0));

    // An indicator that applies must be answered.
    let (code, err) = app
        .err(RECORD, json!({ "i": { "householdId": h, "answers": always(true, true, true, true, true)[..4] } }))
        .await;
    assert_eq!((code.as_str(), err["extensions"]["fields"][0]["path"].as_str()), ("VALIDATION", Some("input.answers")));

    // A baby born later makes GROWTH_CHART apply from its birth on.
    let baby = person(&app, &h, "Нямаа", "FEMALE", &months_ago(3)).await;
    let mut answers = always(true, false, true, false, true);
    answers.push(json!({ "indicatorCode": "GROWTH_CHART", "answer": "NO" }));
    answers.push(json!({ "indicatorCode": "BIRTH_REGISTERED", "answer": "YES" }));
    answers.push(json!({ "indicatorCode": "NO_HAZARDOUS_WORK", "answer": "YES" }));
    let d = app
        .ok(
            RECORD,
            json!({ "i": { "householdId": h, "answers": answers,
                "actions": [{ "description": "Start a growth chart at the health centre", "personId": baby, "dueOn": days_ago(-14) }] } }),
        )
        .await;
    let a = &d["recordFamilyAssessment"];
    assert_eq!((a["met"].as_i64(), a["applicable"].as_i64(), a["score"].as_f64()), (Some(5), Some(8), Some(62.5)));
    // Every indicator of the instrument has an answer; those that did not apply are NOT_APPLICABLE.
    assert_eq!(a["answers"].as_array().unwrap().len(), 12);
    let answer = |code: &str| {
        a["answers"].as_array().unwrap().iter().find(|x| x["indicator"]["code"] == code).unwrap()["answer"].clone()
    };
    assert_eq!(answer("FULL_IMMUNISATION"), "NOT_APPLICABLE");
    assert_eq!(answer("GROWTH_CHART"), "NO");
    let action = a["actions"][0]["id"].as_str().unwrap().to_string();

    // The next visit follows the action up; the household's history shows the progress.
    let mut answers = always(true, true, true, false, true);
    answers.push(json!({ "indicatorCode": "GROWTH_CHART", "answer": "YES" }));
    answers.push(json!({ "indicatorCode": "BIRTH_REGISTERED", "answer": "YES" }));
    answers.push(json!({ "indicatorCode": "NO_HAZARDOUS_WORK", "answer": "YES" }));
    app.ok(RECORD, json!({ "i": { "householdId": h, "answers": answers, "followUps": [{ "actionId": action, "status": "DONE" }] } }))
        .await;
    let q = "query($id: UUID!) { household(id: $id) { openActions { id } assessments { score actions { status followedUpOn } } } }";
    let d = app.ok(q, json!({ "id": h })).await;
    let history = d["household"]["assessments"].as_array().unwrap();
    assert_eq!(history.iter().map(|a| a["score"].as_f64().unwrap()).collect::<Vec<_>>(), [87.5, 62.5]);
    assert_eq!(history[1]["actions"][0]["status"], "DONE");
    assert_eq!(d["household"]["openActions"], json!([]));
}

#[tokio::test]
async fn a_page_of_households_shows_each_its_own_visits_answers_and_actions() {
    // One list, read through the batched loaders: every household, visit and answer must get
    // its own rows back, not a neighbour's.
    let app = TestApp::spawn().await;
    let k = unit(&app, "11-SKHD").await;
    let (a, b, c) =
        (adults_household(&app, &k).await, adults_household(&app, &k).await, adults_household(&app, &k).await);
    let action = |what: &str| json!([{ "description": what, "dueOn": days_ago(-7) }]);
    let d = app
        .ok(RECORD, json!({ "i": { "householdId": a, "assessedOn": days_ago(90), "answers": always(false, false, false, false, false), "actions": action("Dig a latrine") } }))
        .await;
    let first = d["recordFamilyAssessment"]["actions"][0]["id"].as_str().unwrap().to_string();
    app.ok(
        RECORD,
        json!({ "i": { "householdId": a, "assessedOn": days_ago(10), "answers": always(true, true, false, false, false),
        "followUps": [{ "actionId": first, "status": "DONE" }], "actions": action("Buy iodised salt") } }),
    )
    .await;
    app.ok(RECORD, json!({ "i": { "householdId": b, "assessedOn": days_ago(20), "answers": always(true, true, true, true, true) } }))
        .await;
    let q = "query($u: UUID!) { households(filter: { orgUnitId: $u }, first: 10) { edges { node { id
      openActions { description } assessments { score answers { indicator { code } answer } actions { description status } } } } } }";
    let d = app.ok(q, json!({ "u": k })).await;
    let nodes = d["households"]["edges"].as_array().unwrap();
    let of = |h: &str| nodes.iter().find(|e| e["node"]["id"] == h).unwrap()["node"].clone();
    let (a, b, c) = (of(&a), of(&b), of(&c));
    let scores = |h: &Value| {
        h["assessments"].as_array().unwrap().iter().map(|v| v["score"].as_f64().unwrap()).collect::<Vec<_>>()
    };
    assert_eq!((scores(&a), scores(&b), scores(&c)), (vec![40.0, 0.0], vec![100.0], vec![]));
    let yes = |v: &Value| {
        v["answers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["answer"] == "YES")
            .map(|x| x["indicator"]["code"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(yes(&a["assessments"][0]), ["SAFE_WATER", "LATRINE_HANDWASHING"]);
    assert_eq!(yes(&b["assessments"][0]).len(), 5);
    assert_eq!(a["assessments"][0]["actions"], json!([{ "description": "Buy iodised salt", "status": "OPEN" }]));
    assert_eq!(a["assessments"][1]["actions"], json!([{ "description": "Dig a latrine", "status": "DONE" }]));
    assert_eq!(a["openActions"], json!([{ "description": "Buy iodised salt" }]));
    assert_eq!(
        (b["openActions"].clone(), b["assessments"][0]["actions"].clone(), c["openActions"].clone()),
        (json!([]), json!([]), json!([]))
    );
}

#[tokio::test]
async fn a_roll_up_over_three_khoroos_gives_the_exact_shares_changes_and_priorities() {
    let app = TestApp::spawn().await;
    app.seed_demo(30).await;
    // Songinokhairkhan's khoroos: the demo data's own visits are elsewhere.
    let (k1, k2, k3) = (unit(&app, "11-SKHD-01").await, unit(&app, "11-SKHD-02").await, unit(&app, "11-SKHD-03").await);
    let elsewhere = unit(&app, "11-BZD-02").await;
    let (this, before) = (days_ago(40), days_ago(420));
    let h1 = adults_household(&app, &k1).await;
    assess(&app, &h1, &this, always(true, false, true, false, true)).await;
    assess(&app, &h1, &before, always(false, false, true, false, false)).await;
    let h2 = adults_household(&app, &k1).await;
    person(&app, &h2, "Тэмүүжин", "MALE", &months_ago(30)).await;
    let mut answers = always(true, true, false, false, false);
    answers.extend([
        json!({ "indicatorCode": "GROWTH_CHART", "answer": "YES" }),
        json!({ "indicatorCode": "BIRTH_REGISTERED", "answer": "YES" }),
        json!({ "indicatorCode": "NO_HAZARDOUS_WORK", "answer": "YES" }),
    ]);
    assess(&app, &h2, &this, answers).await;
    let h3 = adults_household(&app, &k2).await;
    assess(&app, &h3, &this, always(false, false, true, false, true)).await;
    let h4 = adults_household(&app, &k3).await;
    // Two visits in the period: only the latest counts.
    assess(&app, &h4, &days_ago(70), always(false, false, false, false, false)).await;
    assess(&app, &h4, &this, always(true, false, true, true, false)).await;
    let h5 = adults_household(&app, &elsewhere).await;
    assess(&app, &h5, &this, always(false, false, false, false, false)).await;

    let bzd = unit(&app, "11-SKHD").await;
    let q = "query($u: UUID!) { assessmentSummary(orgUnitId: $u, period: \"LAST_12_MONTHS\") {
      householdsAssessed previousHouseholdsAssessed
      indicators { indicator { code } householdsApplicable householdsMeeting share previousShare change priorityRank suppressed }
      priorities { indicator { code } } } }";
    let d = app.ok(q, json!({ "u": bzd })).await;
    let s = &d["assessmentSummary"];
    assert_eq!((s["householdsAssessed"].as_i64(), s["previousHouseholdsAssessed"].as_i64()), (Some(4), Some(1)));
    let row = |code: &str| {
        s["indicators"].as_array().unwrap().iter().find(|i| i["indicator"]["code"] == code).unwrap().clone()
    };
    let got = |code: &str| {
        let r = row(code);
        (
            r["householdsApplicable"].as_i64().unwrap(),
            r["householdsMeeting"].as_i64().unwrap(),
            r["share"].as_f64(),
            r["change"].as_f64(),
        )
    };
    assert_eq!(got("SAFE_WATER"), (4, 3, Some(75.0), Some(75.0)));
    assert_eq!(got("LATRINE_HANDWASHING"), (4, 1, Some(25.0), Some(25.0)));
    assert_eq!(got("IODISED_SALT"), (4, 3, Some(75.0), Some(-25.0)));
    assert_eq!(got("HOME_GARDEN"), (4, 1, Some(25.0), Some(25.0)));
    assert_eq!(got("HIV_KNOWLEDGE"), (4, 2, Some(50.0), Some(50.0)));
    assert_eq!(got("GROWTH_CHART"), (1, 1, Some(100.0), None));
    assert_eq!(got("FULL_IMMUNISATION"), (0, 0, None, None));
    assert!(row("FULL_IMMUNISATION")["priorityRank"].is_null());
    let order: Vec<&str> =
        s["priorities"].as_array().unwrap().iter().map(|p| p["indicator"]["code"].as_str().unwrap()).collect();
    assert_eq!(
        order,
        [
            "HOME_GARDEN",
            "LATRINE_HANDWASHING",
            "HIV_KNOWLEDGE",
            "IODISED_SALT",
            "SAFE_WATER",
            "BIRTH_REGISTERED",
            "GROWTH_CHART",
            "NO_HAZARDOUS_WORK"
        ]
    );
    // An analyst sees no count under 5 households: a small area cannot be re-identified.
    let analyst = app.login("analyst@demo.mn").await;
    let a = app.ok_as(&analyst, q, json!({ "u": bzd })).await;
    assert!(a["assessmentSummary"]["householdsAssessed"].is_null());
    let water = a["assessmentSummary"]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"]["code"] == "SAFE_WATER")
        .unwrap()
        .clone();
    assert_eq!((water["share"].clone(), water["householdsApplicable"].clone()), (json!(null), json!(null)));
    // One khoroo alone: its own households only.
    let d = app.ok(q, json!({ "u": k2 })).await;
    assert_eq!(d["assessmentSummary"]["householdsAssessed"], 1);
    let (code, _) = app
        .err(
            "query($u: UUID!) { assessmentSummary(orgUnitId: $u, period: \"2026Q9\") { householdsAssessed } }",
            json!({ "u": bzd }),
        )
        .await;
    assert_eq!(code, "VALIDATION");
}

const PROJECTS: &str = "query($o: ProjectOrder, $a: String) {
  communityProjects(orderBy: $o, first: 2, after: $a) {
    totalCount edges { node { title createdAt } } pageInfo { hasNextPage endCursor } } }";

#[tokio::test]
async fn projects_list_in_the_order_asked_two_at_a_time() {
    let app = TestApp::spawn().await;
    let k = unit(&app, "11-BZD").await;
    let codes = ["HOME_GARDEN", "IODISED_SALT", "SAFE_WATER"];
    for (i, title) in ["Bravo garden", "Charlie playground", "Alpha water point"].into_iter().enumerate() {
        let line = json!({ "description": title, "amountMnt": 1000 * (i + 1), "funder": "COMMUNITY" });
        app.ok(
            "mutation($i: ProposeCommunityProjectInput!) { proposeCommunityProject(input: $i) { id } }",
            json!({ "i": { "orgUnitId": k, "area": "WATER_SANITATION", "title": title, "objectives": "for the test",
                "indicatorCodes": [codes[i]], "budgetLines": [line] } }),
        )
        .await;
    }
    // The nested lists of a page of projects, each read for all of them at once: each its own.
    let d = app
        .ok(
            "{ communityProjects(first: 3) { edges { node { title indicatorCodes budgetLines { description amountMnt }
              transitions { toStatus } reports { id } totals { budgetMnt byFunder { amountMnt } } } } } }",
            json!({}),
        )
        .await;
    for e in d["communityProjects"]["edges"].as_array().unwrap() {
        let n = &e["node"];
        let i =
            ["Bravo garden", "Charlie playground", "Alpha water point"].iter().position(|t| n["title"] == *t).unwrap();
        let amount = 1000 * (i as i64 + 1);
        assert_eq!(n["indicatorCodes"], json!([codes[i]]));
        assert_eq!(n["budgetLines"], json!([{ "description": n["title"], "amountMnt": amount }]));
        assert_eq!(n["transitions"], json!([{ "toStatus": "PROPOSED" }]));
        assert_eq!(n["reports"], json!([]));
        assert_eq!(n["totals"], json!({ "budgetMnt": amount, "byFunder": [{ "amountMnt": amount }] }));
    }
    let walk = |order: Value| {
        let app = &app;
        async move {
            let (mut seen, mut after) = (Vec::new(), Value::Null);
            loop {
                let d = app.ok(PROJECTS, json!({ "o": order, "a": after })).await["communityProjects"].clone();
                assert_eq!(d["totalCount"], 3);
                for e in d["edges"].as_array().unwrap() {
                    seen.push(e["node"]["title"].as_str().unwrap().split(' ').next().unwrap().to_string());
                }
                if !d["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                    return seen;
                }
                after = d["pageInfo"]["endCursor"].clone();
            }
        }
    };
    assert_eq!(walk(json!({ "field": "TITLE" })).await, ["Alpha", "Bravo", "Charlie"]);
    assert_eq!(walk(json!({ "field": "TITLE", "direction": "DESC" })).await, ["Charlie", "Bravo", "Alpha"]);
    assert_eq!(walk(json!({ "field": "CREATED_AT", "direction": "DESC" })).await, ["Alpha", "Charlie", "Bravo"]);
    assert_eq!(walk(json!({ "field": "CREATED_AT" })).await, ["Bravo", "Charlie", "Alpha"]);
    // A cursor of one order is not one of another.
    let d = app.ok(PROJECTS, json!({ "o": { "field": "TITLE" } })).await;
    let cursor = d["communityProjects"]["pageInfo"]["endCursor"].clone();
    let (code, _) = app.err(PROJECTS, json!({ "o": { "field": "CREATED_AT" }, "a": cursor })).await;
    assert_eq!(code, "VALIDATION");
}

const PROJECT: &str = "id status version totals { budgetMnt byFunder { funder amountMnt } householdsLinked peopleLinked householdsReported peopleReported }
  transitions { fromStatus toStatus byUserId at } partners { role partner { name } } indicatorCodes";

#[tokio::test]
async fn a_project_walks_its_workflow_partners_see_only_theirs_and_reach_adds_up() {
    let app = TestApp::spawn().await;
    app.seed_demo(30).await;
    let (k1, k2) = (unit(&app, "11-BZD-02").await, unit(&app, "11-SKHD-01").await);
    let list = "{ communityProjects(first: 50) { totalCount edges { node { id } } } }";
    let demo_projects = app.ok(list, json!({})).await["communityProjects"]["totalCount"].as_i64().unwrap();
    let steps_before = app.count("audit_log WHERE action = 'TRANSITION'").await;
    let partner = |name: &str, unit: &str| {
        let (name, unit) = (name.to_string(), unit.to_string());
        let app = &app;
        async move {
            let d = app
                .ok(
                    "mutation($n: String!, $u: UUID!) { createPartner(name: $n, kind: NGO, unitIds: [$u]) { id } }",
                    json!({ "n": name, "u": unit }),
                )
                .await;
            d["createPartner"]["id"].as_str().unwrap().to_string()
        }
    };
    let (p1, p2) = (partner("Хүүхдийн төлөө ТББ", &k1).await, partner("Other NGO", &k2).await);
    app.ok(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        json!({ "i": { "email": "staff@ngo.mn", "displayName": "NGO staff", "password": PASSWORD, "roles": ["PARTNER"], "partnerId": p1 } }),
    )
    .await;
    let staff = app.login("staff@ngo.mn").await;

    let propose =
        format!("mutation($i: ProposeCommunityProjectInput!) {{ proposeCommunityProject(input: $i) {{ {PROJECT} }} }}");
    let d = app
        .ok(
            &propose,
            json!({ "i": { "orgUnitId": k1, "area": "WATER_SANITATION", "title": "Latrines and hand-washing stations",
                "objectives": "Every household in the khoroo has an improved latrine and a hand-washing station",
                "indicatorCodes": ["LATRINE_HANDWASHING"],
                "budgetLines": [
                    { "description": "Materials", "amountMnt": 5_000_000, "funder": "LOCAL_GOVERNMENT" },
                    { "description": "Hand-washing stations", "amountMnt": 3_000_000, "funder": "UNICEF" },
                    { "description": "Training of volunteers", "amountMnt": 2_500_000, "funder": "PARTNER", "partnerId": p1 } ],
                "implementingPartnerIds": [p1] } }),
        )
        .await;
    let project = d["proposeCommunityProject"].clone();
    let id = project["id"].as_str().unwrap().to_string();
    assert_eq!(project["status"], "PROPOSED");
    assert_eq!(project["totals"]["budgetMnt"], 10_500_000);
    let by_funder: i64 =
        project["totals"]["byFunder"].as_array().unwrap().iter().map(|f| f["amountMnt"].as_i64().unwrap()).sum();
    assert_eq!(by_funder, 10_500_000, "the funders' totals add up to the budget");
    let other = app
        .ok(
            &propose,
            json!({ "i": { "orgUnitId": k2, "area": "GARDENING", "title": "Gardens", "objectives": "Home gardens", "implementingPartnerIds": [p2] } }),
        )
        .await;
    let other = other["proposeCommunityProject"]["id"].as_str().unwrap().to_string();

    let step = format!(
        "mutation($id: UUID!, $to: ProjectStatus!) {{ transitionCommunityProject(id: $id, to: $to) {{ {PROJECT} }} }}"
    );
    let (code, _) = app.err(&step, json!({ "id": id, "to": "IN_PROGRESS" })).await;
    assert_eq!(code, "VALIDATION", "a proposal cannot start before it is approved");
    let (code, _) = app.err_as(Some(&staff), &step, json!({ "id": id, "to": "APPROVED" })).await;
    assert_eq!(code, "FORBIDDEN", "approval is the local government's");
    app.ok(&step, json!({ "id": id, "to": "APPROVED" })).await;
    app.ok_as(&staff, &step, json!({ "id": id, "to": "IN_PROGRESS" })).await;
    let report = "mutation($i: ProjectReportInput!) { reportCommunityProject(input: $i) { id progressPercent } }";
    app.ok_as(&staff, report, json!({ "i": { "projectId": id, "progressPercent": 40, "narrative": "12 latrines built", "householdsReached": 3, "peopleReached": 7 } }))
        .await;
    let households: Vec<String> =
        [household(&app, &k1).await, household(&app, &k1).await, household(&app, &k1).await].into();
    let people = [
        person(&app, &households[0], "Ану", "FEMALE", "2015-05-05").await,
        person(&app, &households[1], "Бат", "MALE", "2012-01-01").await,
    ];
    let link = format!(
        "mutation($id: UUID!, $h: [UUID!]!, $p: [UUID!]!) {{ linkProjectReach(projectId: $id, householdIds: $h, personIds: $p) {{ {PROJECT} }} }}"
    );
    app.ok_as(&staff, &link, json!({ "id": id, "h": households, "p": people })).await;
    // Linking again adds nothing.
    app.ok_as(&staff, &link, json!({ "id": id, "h": households[..1], "p": [] })).await;
    let done = app.ok_as(&staff, &step, json!({ "id": id, "to": "COMPLETED" })).await;
    let p = &done["transitionCommunityProject"];
    assert_eq!(p["status"], "COMPLETED");
    assert_eq!(
        (
            p["totals"]["householdsLinked"].as_i64(),
            p["totals"]["peopleLinked"].as_i64(),
            p["totals"]["householdsReported"].as_i64(),
            p["totals"]["peopleReported"].as_i64()
        ),
        (Some(3), Some(2), Some(3), Some(7))
    );
    let steps: Vec<(Value, Value)> =
        p["transitions"].as_array().unwrap().iter().map(|t| (t["fromStatus"].clone(), t["toStatus"].clone())).collect();
    assert_eq!(
        steps,
        [
            (json!(null), json!("PROPOSED")),
            (json!("PROPOSED"), json!("APPROVED")),
            (json!("APPROVED"), json!("IN_PROGRESS")),
            (json!("IN_PROGRESS"), json!("COMPLETED"))
        ]
    );
    assert!(p["transitions"].as_array().unwrap().iter().all(|t| t["byUserId"].is_string() && t["at"].is_string()));
    let (code, _) = app.err(&step, json!({ "id": id, "to": "CANCELLED" })).await;
    assert_eq!(code, "VALIDATION", "a completed project stays completed");
    assert_eq!(app.count("audit_log WHERE action = 'TRANSITION'").await, steps_before + 3);

    // The partner's staff see their project only, and cannot work on another's.
    let seen = app.ok_as(&staff, list, json!({})).await;
    assert_eq!(seen["communityProjects"]["totalCount"], 1);
    assert_eq!(seen["communityProjects"]["edges"][0]["node"]["id"], json!(id));
    let d = app.ok_as(&staff, "query($id: UUID!) { communityProject(id: $id) { id } }", json!({ "id": other })).await;
    assert!(d["communityProject"].is_null());
    assert_eq!(app.ok(list, json!({})).await["communityProjects"]["totalCount"], demo_projects + 2);
    let filtered = app
        .ok(
            "query($p: UUID!) { communityProjects(filter: { partnerId: $p, status: COMPLETED }) { totalCount } }",
            json!({ "p": p1 }),
        )
        .await;
    assert_eq!(filtered["communityProjects"]["totalCount"], 1);
    // Their roll-ups cover their assigned unit, not others.
    let h = adults_household(&app, &k2).await;
    assess(&app, &h, &days_ago(40), always(true, true, true, true, true)).await;
    let q = "query($u: UUID!) { assessmentSummary(orgUnitId: $u, period: \"LAST_12_MONTHS\") { householdsAssessed } }";
    assert_eq!(app.ok_as(&staff, q, json!({ "u": k2 })).await["assessmentSummary"]["householdsAssessed"], 0);
    assert_eq!(app.ok(q, json!({ "u": k2 })).await["assessmentSummary"]["householdsAssessed"], 1);
}

#[tokio::test]
async fn household_indicators_count_each_household_by_its_latest_visit() {
    let app = TestApp::spawn().await;
    let d = app.ok("{ orgUnitByCode(code: \"11\") { id children { id } } }", json!({})).await;
    let ub = d["orgUnitByCode"]["id"].as_str().unwrap().to_string();
    let district = d["orgUnitByCode"]["children"][0]["id"].as_str().unwrap().to_string();
    let r = cbss::domain::period::Period::parse("LAST_12_MONTHS", cbss::store::today()).unwrap();
    let on = |days: u64| (r.to - chrono::Days::new(days)).to_string();
    let (h1, h2, h3) = (
        adults_household(&app, &district).await,
        adults_household(&app, &district).await,
        adults_household(&app, &district).await,
    );
    // h1: no safe water, then safe water at the later visit; h2: none; h3: safe water, but
    // visited before the period only.
    assess(&app, &h1, &on(60), always(false, true, true, true, true)).await;
    assess(&app, &h1, &on(5), always(true, false, true, true, true)).await;
    assess(&app, &h2, &on(30), always(false, false, true, true, true)).await;
    assess(&app, &h3, &(r.from - chrono::Days::new(3)).to_string(), always(true, true, true, true, true)).await;
    let q = "query($i: String!, $u: UUID!) { coverage(indicator: $i, orgUnitId: $u, period: \"LAST_12_MONTHS\",
        groupBy: [ORG_UNIT]) { rows { numerator denominator } total { numerator denominator value } } }";
    let water = app.ok(q, json!({ "i": "HOUSEHOLDS_SAFE_WATER", "u": ub })).await["coverage"].clone();
    assert_eq!((water["total"]["numerator"].clone(), water["total"]["denominator"].clone()), (json!(1), json!(2)));
    assert_eq!(water["total"]["value"], 50.0);
    assert_eq!(water["rows"].as_array().unwrap().len(), 1);
    // Latrine: h1's latest visit says no, h2 no.
    let latrine = app.ok(q, json!({ "i": "HOUSEHOLDS_SANITATION", "u": ub })).await["coverage"].clone();
    assert_eq!(latrine["total"]["numerator"], 0);
    // Birth registration applies only where there are children: nobody here.
    let births = app.ok(q, json!({ "i": "HOUSEHOLDS_BIRTHS_REGISTERED", "u": ub })).await["coverage"].clone();
    assert_eq!(births["total"]["denominator"], 0);
    let sex = "query($u: UUID!) { coverage(indicator: \"HOUSEHOLDS_SAFE_WATER\", orgUnitId: $u, period: \"2026\", groupBy: [SEX]) { total { value } } }";
    assert_eq!(app.err(sex, json!({ "u": ub })).await.0, "VALIDATION");
}

/// A visit's day and its answers by indicator code.
type Visit = (chrono::NaiveDate, Vec<(String, String)>);

/// Every HOUSEHOLDS_* indicator recounted here from the answers given: each household by its
/// latest visit in the period (visits on the period's first and last days count, the day before
/// and after do not), an answer that did not apply left out.
#[tokio::test]
async fn every_household_indicator_is_recounted_from_each_households_latest_visit() {
    let app = TestApp::spawn().await;
    let d = app.ok("{ orgUnitByCode(code: \"11\") { id children { id } } }", json!({})).await;
    let ub = d["orgUnitByCode"]["id"].as_str().unwrap().to_string();
    let district = d["orgUnitByCode"]["children"][0]["id"].as_str().unwrap().to_string();
    let r = cbss::domain::period::Period::parse("LAST_12_MONTHS", cbss::store::today()).unwrap();
    let indicators = [
        ("HOUSEHOLDS_SAFE_WATER", "SAFE_WATER"),
        ("HOUSEHOLDS_SANITATION", "LATRINE_HANDWASHING"),
        ("HOUSEHOLDS_IODISED_SALT", "IODISED_SALT"),
        ("HOUSEHOLDS_BIRTHS_REGISTERED", "BIRTH_REGISTERED"),
        ("HOUSEHOLDS_HIV_KNOWLEDGE", "HIV_KNOWLEDGE"),
    ];
    let mut state: u64 = 7;
    let mut next = |n: u64| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    // The days of the boundaries, and ordinary ones.
    let special = [r.from, r.to, r.from.pred_opt().unwrap(), r.to.succ_opt().unwrap()];
    // Per household: its visits as recorded.
    let mut visits: Vec<Vec<Visit>> = Vec::new();
    for i in 0..14 {
        let h = adults_household(&app, &district).await;
        // Every third household has a school-age child: birth registration applies to it.
        let child = i % 3 == 0;
        if child {
            person(&app, &h, "Хүү", "MALE", &(cbss::store::today() - chrono::Months::new(96)).to_string()).await;
        }
        let mut days: Vec<chrono::NaiveDate> = (0..1 + next(3))
            .map(|_| if next(3) == 0 { special[next(4) as usize] } else { r.to - chrono::Days::new(next(420)) })
            .collect();
        days.sort();
        days.dedup();
        // Recorded out of date order: the latest is the latest by date.
        days.reverse();
        let mut list = Vec::new();
        for day in days {
            let yn = |b: bool| if b { "YES" } else { "NO" };
            let mut answers: Vec<(String, String)> =
                ["SAFE_WATER", "LATRINE_HANDWASHING", "IODISED_SALT", "HOME_GARDEN", "HIV_KNOWLEDGE"]
                    .iter()
                    .map(|c| (c.to_string(), yn(next(2) == 0).to_string()))
                    .collect();
            if child {
                for c in ["SCHOOL", "BIRTH_REGISTERED", "NO_HAZARDOUS_WORK"] {
                    answers.push((c.to_string(), yn(next(2) == 0).to_string()));
                }
            }
            let body: Vec<Value> = answers.iter().map(|(c, a)| json!({ "indicatorCode": c, "answer": a })).collect();
            assess(&app, &h, &day.to_string(), body).await;
            list.push((day, answers));
        }
        visits.push(list);
    }
    let q = "query($i: String!, $u: UUID!) { coverage(indicator: $i, orgUnitId: $u, period: \"LAST_12_MONTHS\") {
        total { numerator denominator } } }";
    let mut seen_both = false;
    for (indicator, code) in indicators {
        let (mut num, mut den) = (0, 0);
        for household in &visits {
            let latest = household.iter().filter(|(day, _)| r.from <= *day && *day <= r.to).max_by_key(|(day, _)| *day);
            if let Some(answer) = latest.and_then(|(_, a)| a.iter().find(|(c, _)| c == code)) {
                den += 1;
                num += (answer.1 == "YES") as i64;
            }
        }
        seen_both |= num > 0 && num < den;
        let d = app.ok(q, json!({ "i": indicator, "u": ub })).await;
        let t = &d["coverage"]["total"];
        assert_eq!((t["numerator"].as_i64(), t["denominator"].as_i64()), (Some(num), Some(den)), "{indicator}");
    }
    assert!(seen_both, "the fixture has households on both sides");
}
