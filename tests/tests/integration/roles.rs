//! The README's table of root fields by role is the source of truth: every root field of the
//! schema is in it, and each role is refused (FORBIDDEN) exactly where it says "no". An allowed
//! call may still fail for its own reasons (an id out of scope, a bad value): anything but
//! FORBIDDEN or UNAUTHENTICATED counts as allowed.

use crate::fixtures::unit;
use cbss_tests::TestApp;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const ROLES: [&str; 8] =
    ["ADMIN", "ANALYST", "RESEARCHER", "PARTNER", "FIELD_WORKER", "PROVIDER", "CASE_WORKER", "SUPERVISOR"];

/// The README's "Root fields by role" table: field → the roles it says "yes" (or a qualified
/// yes) for.
fn readme_matrix() -> BTreeMap<String, BTreeSet<&'static str>> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme
        .find("| root field | ADMIN | ANALYST | RESEARCHER | PARTNER | FIELD_WORKER | PROVIDER | CASE_WORKER | SUPERVISOR |")
        .expect("the table");
    let mut out = BTreeMap::new();
    for line in readme[start..].lines().skip(2) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let allowed: BTreeSet<&str> =
            ROLES.iter().zip(&cells[1..]).filter(|(_, c)| !c.starts_with("no")).map(|(r, _)| *r).collect();
        for field in cells[0].split(',') {
            out.insert(field.replace('`', "").trim().to_string(), allowed.clone());
        }
    }
    out
}

struct Ids {
    person: String,
    household: String,
    pregnancy: String,
    measurement: String,
    enrolment: String,
    consent: String,
    project: String,
    assessment: String,
    user: String,
    unit: String,
}

/// One call of each root field, as (field, document, variables): well-formed, naming records
/// of the demo data in Zavkhan soum.
fn calls(ids: &Ids) -> Vec<(&'static str, String, Value)> {
    let none = || json!({});
    let q = |s: &str| s.to_string();
    vec![
        ("orgUnit", q("query($u: UUID!) { orgUnit(id: $u) { id } }"), json!({ "u": ids.unit })),
        ("orgUnitByCode", q("{ orgUnitByCode(code: \"85\") { id } }"), none()),
        ("orgUnits", q("{ orgUnits(first: 1) { totalCount } }"), none()),
        ("orgUnitGroups", q("{ orgUnitGroups { id } }"), none()),
        ("households", q("{ households(first: 1) { totalCount } }"), none()),
        ("household", q("query($h: UUID!) { household(id: $h) { id } }"), json!({ "h": ids.household })),
        ("people", q("{ people(first: 1) { totalCount } }"), none()),
        ("person", q("query($p: UUID!) { person(id: $p) { id } }"), json!({ "p": ids.person })),
        ("serviceTypes", q("{ serviceTypes { code } }"), none()),
        ("lifeStages", q("{ lifeStages { code } }"), none()),
        (
            "growthZScores",
            q("{ growthZScores(input: { sex: MALE, ageDays: 300, weightKg: 9 }) { weightForAge } }"),
            none(),
        ),
        (
            "dueList",
            q("query($u: UUID!) { dueList(orgUnitId: $u, first: 1) { totalCount } }"),
            json!({ "u": ids.unit }),
        ),
        ("scheduleRules", q("{ scheduleRules { code } }"), none()),
        ("milestones", q("{ milestones { code } }"), none()),
        ("antigens", q("{ antigens { code } }"), none()),
        ("node", q("query($p: ID!) { node(id: $p) { id } }"), json!({ "p": ids.person })),
        ("nodes", q("query($p: ID!) { nodes(ids: [$p]) { id } }"), json!({ "p": ids.person })),
        ("me", q("{ me { id } }"), none()),
        ("users", q("{ users { id } }"), none()),
        ("partners", q("{ partners { id } }"), none()),
        ("auditLog", q("{ auditLog(first: 1) { totalCount } }"), none()),
        ("changes", q("{ changes(first: 1) { hasMore } }"), none()),
        ("assessmentInstrument", q("{ assessmentInstrument { version } }"), none()),
        ("familyAssessment", q("query($a: UUID!) { familyAssessment(id: $a) { id } }"), json!({ "a": ids.assessment })),
        (
            "assessmentSummary",
            q(
                "query($u: UUID!) { assessmentSummary(orgUnitId: $u, period: \"LAST_12_MONTHS\") { householdsAssessed } }",
            ),
            json!({ "u": ids.unit }),
        ),
        ("communityProjects", q("{ communityProjects(first: 1) { totalCount } }"), none()),
        ("communityProject", q("query($p: UUID!) { communityProject(id: $p) { id } }"), json!({ "p": ids.project })),
        ("referrals", q("{ referrals(first: 1) { totalCount } }"), none()),
        ("referral", q("query($p: UUID!) { referral(id: $p) { id } }"), json!({ "p": ids.person })),
        (
            "sendReferral",
            q(
                "mutation($p: UUID!, $u: UUID!) { sendReferral(input: { personId: $p, need: HEALTH, toOrgUnitId: $u, reason: \"Measles dose overdue\" }) { id } }",
            ),
            json!({ "p": ids.person, "u": ids.unit }),
        ),
        (
            "answerReferral",
            q("mutation($p: UUID!) { answerReferral(input: { id: $p, to: ACCEPTED }) { id } }"),
            json!({ "p": ids.person }),
        ),
        ("protectionCases", q("{ protectionCases(first: 1) { totalCount } }"), none()),
        ("protectionCase", q("query($p: UUID!) { protectionCase(id: $p) { id } }"), json!({ "p": ids.person })),
        (
            "openProtectionCase",
            q(
                "mutation($p: UUID!) { openProtectionCase(input: { personId: $p, concern: NEGLECT, riskLevel: LOW }) { id } }",
            ),
            json!({ "p": ids.person }),
        ),
        (
            "updateProtectionCase",
            q("mutation($p: UUID!) { updateProtectionCase(input: { id: $p, step: REVIEW, riskLevel: LOW }) { id } }"),
            json!({ "p": ids.person }),
        ),
        ("indicators", q("{ indicators { code } }"), none()),
        (
            "coverage",
            q(
                "query($u: UUID!) { coverage(indicator: \"VITAMIN_A\", orgUnitId: $u, period: \"LAST_12_MONTHS\") { total { value } } }",
            ),
            json!({ "u": ids.unit }),
        ),
        (
            "aggregate",
            q("query($u: UUID!) { aggregate(entity: PEOPLE, orgUnitId: $u) { total { count } } }"),
            json!({ "u": ids.unit }),
        ),
        (
            "createHousehold",
            q(
                "mutation($u: UUID!) { createHousehold(input: { orgUnitId: $u, dwelling: GER, consent: { givenBy: \"Оюун\", purpose: \"CBSS\" } }) { id } }",
            ),
            json!({ "u": ids.unit }),
        ),
        (
            "updateHousehold",
            q("mutation($h: UUID!) { updateHousehold(input: { id: $h, isHerder: true }) { id } }"),
            json!({ "h": ids.household }),
        ),
        (
            "registerPerson",
            q(
                "mutation($h: UUID!) { registerPerson(input: { householdId: $h, givenName: \"Бат\", familyName: \"Дорж\", sex: MALE, birthDate: \"2024-01-02\" }) { id } }",
            ),
            json!({ "h": ids.household }),
        ),
        (
            "updatePerson",
            q("mutation($p: UUID!) { updatePerson(input: { id: $p, birthDateEstimated: false }) { id } }"),
            json!({ "p": ids.person }),
        ),
        (
            "registerPregnancy",
            q("mutation($p: UUID!) { registerPregnancy(input: { motherId: $p }) { id } }"),
            json!({ "p": ids.person }),
        ),
        (
            "recordPregnancyOutcome",
            q(
                "mutation($g: UUID!) { recordPregnancyOutcome(input: { pregnancyId: $g, outcome: LIVE_BIRTH, outcomeDate: \"2026-01-02\" }) { id } }",
            ),
            json!({ "g": ids.pregnancy }),
        ),
        (
            "recordService",
            q(
                "mutation($p: UUID!) { recordService(input: { serviceTypeCode: \"VITAMIN_A\", personId: $p, date: \"2026-01-02\" }) { id } }",
            ),
            json!({ "p": ids.person }),
        ),
        (
            "recordGrowthMeasurement",
            q(
                "mutation($p: UUID!) { recordGrowthMeasurement(input: { personId: $p, date: \"2026-01-02\", weightKg: 9 }) { id } }",
            ),
            json!({ "p": ids.person }),
        ),
        (
            "recordEnrolment",
            q(
                "mutation($p: UUID!) { recordEnrolment(input: { serviceTypeCode: \"SCHOOL_ENROLMENT\", personId: $p, date: \"2026-01-02\", institution: \"School 1\" }) { id } }",
            ),
            json!({ "p": ids.person }),
        ),
        (
            "recordAttendance",
            q(
                "mutation($e: UUID!) { recordAttendance(input: { serviceTypeCode: \"SCHOOL_ATTENDANCE\", enrolmentId: $e, periodStart: \"2026-01-01\", periodEnd: \"2026-01-31\", daysPresent: 1, daysExpected: 2 }) { id } }",
            ),
            json!({ "e": ids.enrolment }),
        ),
        (
            "endEnrolment",
            q(
                "mutation($e: UUID!) { endEnrolment(input: { id: $e, expectedVersion: 99, endedOn: \"2026-01-02\", reason: MOVED }) { id } }",
            ),
            json!({ "e": ids.enrolment }),
        ),
        (
            "recordImmunisation",
            q(
                "mutation($p: UUID!) { recordImmunisation(input: { personId: $p, date: \"2026-01-02\", antigenCode: \"MMR\", doseNumber: 2 }) { id } }",
            ),
            json!({ "p": ids.person }),
        ),
        (
            "correctGrowthMeasurement",
            q(
                "mutation($m: UUID!) { correctGrowthMeasurement(input: { id: $m, expectedVersion: 99, weightKg: 9 }) { id } }",
            ),
            json!({ "m": ids.measurement }),
        ),
        (
            "recordMilestoneCheck",
            q(
                "mutation($p: UUID!) { recordMilestoneCheck(input: { personId: $p, date: \"2026-01-02\", items: [] }) { id } }",
            ),
            json!({ "p": ids.person }),
        ),
        (
            "recordHivKnowledge",
            q(
                "mutation($p: UUID!) { recordHivKnowledge(input: { personId: $p, date: \"2026-01-02\", oneFaithfulPartner: YES, condomEveryTime: YES, healthyLookingPerson: YES, mosquitoBites: NO, sharingFood: NO }) { id } }",
            ),
            json!({ "p": ids.person }),
        ),
        (
            "login",
            q("mutation { login(email: \"nobody@demo.mn\", password: \"wrong-password-1\") { accessToken } }"),
            none(),
        ),
        (
            "transitionCommunityProject to APPROVED or CANCELLED",
            q("mutation($p: UUID!) { transitionCommunityProject(id: $p, to: CANCELLED, expectedVersion: 99) { id } }"),
            json!({ "p": ids.project }),
        ),
        ("refreshToken", q("mutation { refreshToken(refreshToken: \"not-a-token\") { accessToken } }"), none()),
        ("logout", q("mutation { logout(refreshToken: \"not-a-token\") }"), none()),
        (
            "changePassword",
            q(
                "mutation { changePassword(currentPassword: \"wrong-password-1\", newPassword: \"another-password-2\") }",
            ),
            none(),
        ),
        (
            "createUser",
            q(
                "mutation { createUser(input: { email: \"roles-test@demo.mn\", displayName: \"R\", password: \"a-long-password-1\", roles: [] }) { id } }",
            ),
            none(),
        ),
        ("updateUser", q("mutation($u: UUID!) { updateUser(input: { id: $u }) { id } }"), json!({ "u": ids.user })),
        (
            "resetPassword",
            q("mutation($u: UUID!) { resetPassword(userId: $u, newPassword: \"x\") }"),
            json!({ "u": ids.user }),
        ),
        ("createPartner", q("mutation { createPartner(name: \"\", kind: NGO, unitIds: []) { id } }"), none()),
        (
            "recordConsent",
            q(
                "mutation($h: UUID!) { recordConsent(input: { householdId: $h, givenBy: \"Оюун\", purpose: \"CBSS\" }) { id } }",
            ),
            json!({ "h": ids.household }),
        ),
        (
            "withdrawConsent",
            q("mutation($c: UUID!) { withdrawConsent(id: $c, withdrawnOn: \"2030-01-01\") { id } }"),
            json!({ "c": ids.consent }),
        ),
        (
            "erasePerson",
            q("mutation($p: UUID!) { erasePerson(id: $p, reason: \"\") { id } }"),
            json!({ "p": ids.person }),
        ),
        ("syncPush", q("mutation { syncPush(items: [], dryRun: true) { committed } }"), none()),
        (
            "recordFamilyAssessment",
            q(
                "mutation($h: UUID!) { recordFamilyAssessment(input: { householdId: $h, assessedOn: \"2030-01-01\", answers: [] }) { id } }",
            ),
            json!({ "h": ids.household }),
        ),
        (
            "proposeCommunityProject",
            q(
                "mutation($u: UUID!) { proposeCommunityProject(input: { orgUnitId: $u, area: GARDENING, title: \"\", objectives: \"\" }) { id } }",
            ),
            json!({ "u": ids.unit }),
        ),
        (
            "transitionCommunityProject",
            q(
                "mutation($p: UUID!) { transitionCommunityProject(id: $p, to: IN_PROGRESS, expectedVersion: 99) { id } }",
            ),
            json!({ "p": ids.project }),
        ),
        (
            "reportCommunityProject",
            q(
                "mutation($p: UUID!) { reportCommunityProject(input: { projectId: $p, progressPercent: 500, narrative: \"\", householdsReached: 0, peopleReached: 0 }) { id } }",
            ),
            json!({ "p": ids.project }),
        ),
        (
            "linkProjectReach",
            q("mutation($p: UUID!) { linkProjectReach(projectId: $p, householdIds: [], personIds: []) { id } }"),
            json!({ "p": ids.project }),
        ),
        ("importPopulation", q("mutation { importPopulation(csv: \"\") { imported } }"), none()),
    ]
}

async fn ids(app: &TestApp) -> Ids {
    let zavkhan = unit(app, "85-ZAVKHAN").await;
    let first = |v: &Value, path: &[&str]| {
        let mut v = v;
        for p in path {
            v = if let Ok(i) = p.parse::<usize>() { &v[i] } else { &v[*p] };
        }
        v.as_str().unwrap_or_else(|| panic!("no {path:?} in {v}")).to_string()
    };
    let d = app
        .ok(
            "query($u: UUID!) { people(filter: { orgUnitId: $u }, where: { ageMonths: { lte: 59 } }, first: 1) { nodes { id household { id consents { id } } } } }",
            json!({ "u": zavkhan }),
        )
        .await;
    let person = first(&d, &["people", "nodes", "0", "id"]);
    let household = first(&d, &["people", "nodes", "0", "household", "id"]);
    let consent = first(&d, &["people", "nodes", "0", "household", "consents", "0", "id"]);
    let d = app
        .ok(
            "query($u: UUID!) { people(filter: { orgUnitId: $u, lifeStage: \"LEARNING_YEARS\" }, first: 50) { nodes { serviceRecords { enrolment { id } growthMeasurement { id } } pregnancies { id } } } }",
            json!({ "u": zavkhan }),
        )
        .await;
    let records: Vec<&Value> =
        d["people"]["nodes"].as_array().unwrap().iter().flat_map(|n| n["serviceRecords"].as_array().unwrap()).collect();
    let enrolment = records.iter().find_map(|r| r["enrolment"]["id"].as_str()).expect("an enrolment").to_string();
    let m = app
        .ok(
            "query($u: UUID!) { people(filter: { orgUnitId: $u }, where: { ageMonths: { lte: 59 } }, first: 50) { nodes { growthMeasurements { id } } } }",
            json!({ "u": zavkhan }),
        )
        .await;
    let measurement = m["people"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|n| n["growthMeasurements"][0]["id"].as_str())
        .expect("a measurement")
        .to_string();
    let g = app
        .ok(
            "query($u: UUID!) { people(filter: { orgUnitId: $u, sex: FEMALE }, where: { ageYears: { gte: 15 } }, first: 100) { nodes { pregnancies { id } } } }",
            json!({ "u": zavkhan }),
        )
        .await;
    let pregnancy = g["people"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|n| n["pregnancies"][0]["id"].as_str())
        .expect("a pregnancy")
        .to_string();
    // A project in Zavkhan soum that the demo NGO implements: in every caller's reach.
    let p = app.ok("{ users { id email } partners { id name } }", json!({})).await;
    let ngo = p["partners"].as_array().unwrap().iter().find(|x| x["name"] == "Demo NGO (Uvs)").unwrap()["id"].clone();
    let made = app
        .ok(
            "mutation($u: UUID!, $n: UUID!) { proposeCommunityProject(input: { orgUnitId: $u, area: GARDENING, title: \"Gardens\", objectives: \"Vegetables\", implementingPartnerIds: [$n] }) { id } }",
            json!({ "u": zavkhan, "n": ngo }),
        )
        .await;
    let project = first(&made, &["proposeCommunityProject", "id"]);
    let user = p["users"].as_array().unwrap().iter().find(|u| u["email"] == "field.bayanzurkh@demo.mn").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = app
        .ok(
            "query($u: UUID!) { households(filter: { orgUnitId: $u }, first: 100) { nodes { assessments { id } } } }",
            json!({ "u": zavkhan }),
        )
        .await;
    let assessment = a["households"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|n| n["assessments"][0]["id"].as_str())
        .expect("an assessment")
        .to_string();
    Ids { person, household, pregnancy, measurement, enrolment, consent, project, assessment, user, unit: zavkhan }
}

#[tokio::test]
async fn every_root_field_answers_each_role_as_the_readme_says() {
    let app = TestApp::spawn().await;
    app.seed_demo(300).await;
    let ids = ids(&app).await;
    let zavkhan = ids.unit.clone();
    app.ok(
        "mutation($u: UUID!) { createUser(input: { email: \"provider.zavkhan@demo.mn\", displayName: \"P\", password: \"demo-password\", roles: [PROVIDER], captureUnitIds: [$u], viewUnitIds: [$u] }) { id } }",
        json!({ "u": zavkhan }),
    )
    .await;
    // The demo partner's staff get a capture scope (Uvs), so that a write its role allows is not
    // refused by scope.
    let partner = app.ok("{ users { id email } }", json!({})).await["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "ngo.uvs@demo.mn")
        .unwrap()["id"]
        .clone();
    let uvs = unit(&app, "85").await;
    app.ok("mutation($u: UUID!, $s: UUID!) { updateUser(input: { id: $u, captureUnitIds: [$s], viewUnitIds: [] }) { id } }", json!({ "u": partner, "s": uvs })).await;
    let tokens = [
        ("ADMIN", app.admin_token.clone()),
        ("ANALYST", app.login("analyst@demo.mn").await),
        ("RESEARCHER", app.login("researcher@demo.mn").await),
        ("PARTNER", app.login("ngo.uvs@demo.mn").await),
        ("FIELD_WORKER", app.login("field.zavkhan@demo.mn").await),
        ("PROVIDER", app.login("provider.zavkhan@demo.mn").await),
        ("CASE_WORKER", app.login("caseworker.zavkhan@demo.mn").await),
        ("SUPERVISOR", app.login("supervisor.zavkhan@demo.mn").await),
    ];
    let matrix = readme_matrix();
    let schema =
        app.ok("{ __schema { queryType { fields { name } } mutationType { fields { name } } } }", json!({})).await;
    let roots: BTreeSet<String> = ["queryType", "mutationType"]
        .iter()
        .flat_map(|t| {
            schema["__schema"][t]["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_string())
        })
        .collect();
    let listed: BTreeSet<String> = matrix.keys().map(|k| k.split(' ').next().unwrap().to_string()).collect();
    let mut wrong = Vec::new();
    if listed != roots {
        wrong.push(format!("the README's table of root fields by role lists {listed:?}; the schema's are {roots:?}"));
    }
    let mut observed = BTreeMap::new();
    for (field, document, variables) in calls(&ids) {
        let mut allowed = BTreeSet::new();
        for (role, token) in &tokens {
            let body = app.gql_as(Some(token), &document, variables.clone()).await;
            let code = body["errors"][0]["extensions"]["code"].as_str().unwrap_or("");
            if code == "INTERNAL" || (body["errors"][0].is_object() && code.is_empty()) {
                wrong.push(format!("{field} as {role}: {body}"));
            }
            if code != "FORBIDDEN" {
                allowed.insert(*role);
            }
        }
        if matrix.get(field) != Some(&allowed) {
            wrong.push(format!("{field}: README says {:?}, the service allows {allowed:?}", matrix.get(field)));
        }
        observed.insert(field, allowed);
    }
    assert_eq!(observed.len(), roots.len() + 1, "a call for every root field (two for transitions)");
    assert!(wrong.is_empty(), "{wrong:#?}");
}
