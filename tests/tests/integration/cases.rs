//! Child-protection cases on a need-to-know basis: who sees a case (by id, by list, by nested
//! relation, by `changes`, by export) and who does not, the case's steps with every illegal one
//! refused, transfer with accept and reject, the audit of each read and change, and the offline
//! round trip.

use crate::fixtures::{days_ago, household, person, unit};
use cbss_tests::{PASSWORD, TestApp};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const OPEN: &str = "mutation($i: OpenProtectionCaseInput!) { openProtectionCase(input: $i) { id version status reviewDueOn caseWorkerId } }";
const UPDATE: &str = "mutation($i: UpdateProtectionCaseInput!) { updateProtectionCase(input: $i) { id version status riskLevel reviewDueOn caseWorkerId orgUnit { code } closeReason transferToUserId actions { id description doneOn } } }";
const BY_ID: &str = "query($id: UUID!) { protectionCase(id: $id) { id status summary child { givenName ageYears householdAddress orgUnit { code } } person { id } steps { step riskLevel note } } }";
const LIST: &str = "{ protectionCases { totalCount nodes { id } } }";
const NESTED: &str = "query($p: UUID!) { person(id: $p) { id protectionCases { id summary } } }";

/// A user of `roles` whose capture scope is the unit `code`; answers (id, token).
async fn user(app: &TestApp, email: &str, roles: &[&str], code: &str) -> (String, String) {
    let u = unit(app, code).await;
    let made = app
        .ok(
            "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
            json!({ "i": { "email": email, "displayName": email, "password": PASSWORD, "roles": roles, "captureUnitIds": [u] } }),
        )
        .await;
    (made["createUser"]["id"].as_str().unwrap().to_string(), app.login(email).await)
}

struct World {
    app: TestApp,
    /// CASE_WORKER of Bayanzürkh: opens the case and owns it.
    worker: (String, String),
    /// Another CASE_WORKER of Bayanzürkh: not assigned, sees nothing.
    colleague: (String, String),
    /// SUPERVISOR of Bayanzürkh.
    supervisor: String,
    /// CASE_WORKER of Chingeltei: the transfer's receiver.
    receiver: (String, String),
    /// FIELD_WORKER, PROVIDER and PARTNER of Bayanzürkh, and an ANALYST: none of them sees a case.
    outsiders: Vec<(&'static str, String)>,
    child: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let worker = user(&app, "cw@test.mn", &["CASE_WORKER"], "11-BZD").await;
    let colleague = user(&app, "cw2@test.mn", &["CASE_WORKER"], "11-BZD").await;
    let supervisor = user(&app, "sup@test.mn", &["SUPERVISOR"], "11-BZD").await.1;
    let receiver = user(&app, "cw.chd@test.mn", &["CASE_WORKER"], "11-CHD").await;
    let field = user(&app, "fw@test.mn", &["FIELD_WORKER"], "11-BZD").await.1;
    let provider = user(&app, "clinic@test.mn", &["PROVIDER"], "11-BZD").await.1;
    let bzd = unit(&app, "11-BZD").await;
    let ngo = app
        .ok(
            "mutation($u: UUID!) { createPartner(name: \"NGO\", kind: NGO, unitIds: [$u]) { id } }",
            json!({ "u": bzd }),
        )
        .await["createPartner"]["id"]
        .clone();
    app.ok(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        json!({ "i": { "email": "ngo@test.mn", "displayName": "N", "password": PASSWORD, "roles": ["PARTNER"], "partnerId": ngo, "captureUnitIds": [bzd] } }),
    )
    .await;
    let partner = app.login("ngo@test.mn").await;
    app.ok(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        json!({ "i": { "email": "analyst@test.mn", "displayName": "A", "password": PASSWORD, "roles": ["ANALYST"] } }),
    )
    .await;
    let analyst = app.login("analyst@test.mn").await;
    let home = household(&app, &bzd).await;
    app.ok(
        "mutation($h: UUID!) { updateHousehold(input: { id: $h, address: \"Khoroo 7, ger 3\" }) { id } }",
        json!({ "h": home }),
    )
    .await;
    let child = person(&app, &home, "Номин", "FEMALE", &days_ago(9 * 365)).await;
    let outsiders = vec![("FIELD_WORKER", field), ("PROVIDER", provider), ("PARTNER", partner), ("ANALYST", analyst)];
    World { app, worker, colleague, supervisor, receiver, outsiders, child }
}

async fn open(w: &World) -> String {
    let i = json!({ "i": { "personId": w.child, "concern": "VIOLENCE", "riskLevel": "HIGH", "summary": "Bruises seen at the home visit" } });
    let made = w.app.ok_as(&w.worker.1, OPEN, i).await["openProtectionCase"].clone();
    assert_eq!(made["status"], "OPEN");
    assert_eq!(made["reviewDueOn"], days_ago(-7), "HIGH risk is reviewed within 7 days");
    assert_eq!(made["caseWorkerId"], w.worker.0.as_str());
    made["id"].as_str().unwrap().to_string()
}

fn step(id: &str, version: i64, extra: Value) -> Value {
    let mut i = json!({ "id": id, "expectedVersion": version });
    for (k, v) in extra.as_object().unwrap() {
        i[k] = v.clone();
    }
    json!({ "i": i })
}

#[tokio::test]
async fn a_case_is_seen_only_by_its_case_worker_the_supervisor_and_administrators() {
    let w = world().await;
    let app = &w.app;
    let id = open(&w).await;

    for (who, token) in [("case worker", &w.worker.1), ("supervisor", &w.supervisor), ("admin", &app.admin_token)] {
        let seen = app.ok_as(token, BY_ID, json!({ "id": id })).await["protectionCase"].clone();
        assert_eq!(seen["summary"], "Bruises seen at the home visit", "{who}");
        assert_eq!(seen["child"]["givenName"], "Номин", "{who}");
        assert_eq!(app.ok_as(token, LIST, json!({})).await["protectionCases"]["totalCount"], 1, "{who}");
        let nested = app.ok_as(token, NESTED, json!({ "p": w.child })).await;
        assert_eq!(nested["person"]["protectionCases"][0]["id"], id.as_str(), "{who}: {nested:#}");
    }

    // Another case worker of the same unit: the case does not exist for them.
    let other = &w.colleague.1;
    assert!(app.ok_as(other, BY_ID, json!({ "id": id })).await["protectionCase"].is_null());
    assert_eq!(app.ok_as(other, LIST, json!({})).await["protectionCases"]["totalCount"], 0);
    let nested = app.ok_as(other, NESTED, json!({ "p": w.child })).await;
    assert_eq!(nested["person"]["protectionCases"], json!([]), "{nested:#}");
    let (code, _) =
        app.err_as(Some(other), UPDATE, step(&id, 1, json!({ "step": "CLOSE", "closeReason": "NEEDS_MET" }))).await;
    assert_eq!(code, "NOT_FOUND");

    // The unit's field worker, provider and partner see the child, not the case; the analyst
    // neither.
    for (role, token) in &w.outsiders {
        let (code, _) = app.err_as(Some(token), BY_ID, json!({ "id": id })).await;
        assert_eq!(code, "FORBIDDEN", "{role}");
        let (code, _) = app.err_as(Some(token), LIST, json!({})).await;
        assert_eq!(code, "FORBIDDEN", "{role}");
        if *role != "ANALYST" {
            let nested = app.ok_as(token, NESTED, json!({ "p": w.child })).await;
            assert_eq!(nested["person"]["id"], w.child.as_str(), "{role} sees the child");
            assert_eq!(nested["person"]["protectionCases"], json!([]), "{role}: {nested:#}");
            let pulled = app.ok_as(token, "{ changes(first: 500) { changes { entity } } }", json!({})).await;
            let entities: Vec<&Value> =
                pulled["changes"]["changes"].as_array().unwrap().iter().map(|c| &c["entity"]).collect();
            assert!(!entities.is_empty(), "{role} pulls the unit's records");
            assert!(entities.iter().all(|e| *e != "PROTECTION_CASE"), "{role}: {pulled:#}");
            let csv = app
                .client
                .get(format!("{}/export/people.csv", app.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(csv.contains("Номин") && !csv.contains("Bruises"), "{role}'s export: {csv}");
        }
    }
    // The case worker's device pulls it.
    let pulled = app.ok_as(&w.worker.1, "{ changes(first: 500) { changes { entity id } } }", json!({})).await;
    let cases: Vec<&Value> =
        pulled["changes"]["changes"].as_array().unwrap().iter().filter(|c| c["entity"] == "PROTECTION_CASE").collect();
    assert_eq!(cases.len(), 1, "{pulled:#}");

    // A protection case is not a service record anyone in the unit reads.
    let (code, e) = app
        .err_as(
            Some(&w.outsiders[0].1),
            "mutation($p: UUID!) { recordService(input: { serviceTypeCode: \"CHILD_PROTECTION_CASE\", personId: $p, date: \"2026-01-02\" }) { id } }",
            json!({ "p": w.child }),
        )
        .await;
    assert_eq!(code, "VALIDATION");
    assert!(e["message"].as_str().unwrap().contains("openProtectionCase"), "{e:#}");

    // Every read is audited: three callers by id, list and nested (9 reads), and the worker's pull.
    let audit = app
        .ok(
            "{ auditLog(filter: { entity: \"protection_case\", action: \"READ\" }) { totalCount nodes { userId } } }",
            json!({}),
        )
        .await;
    assert_eq!(audit["auditLog"]["totalCount"], 10, "{audit:#}");

    // Relay's node(id) answers as protectionCase(id) does, audited; null (not an error) for
    // everyone else, as for any record out of reach.
    let node = "query($id: ID!) { node(id: $id) { id ... on ProtectionCase { summary } } }";
    let seen = app.ok_as(&w.worker.1, node, json!({ "id": id })).await;
    assert_eq!(seen["node"]["summary"], "Bruises seen at the home visit");
    for token in w.outsiders.iter().map(|o| &o.1).chain([&w.colleague.1]) {
        assert!(app.ok_as(token, node, json!({ "id": id })).await["node"].is_null());
    }
    let audit = app
        .ok("{ auditLog(filter: { entity: \"protection_case\", action: \"READ\" }) { totalCount } }", json!({}))
        .await;
    assert_eq!(audit["auditLog"]["totalCount"], 11);
}

#[tokio::test]
async fn a_case_is_planned_reviewed_transferred_and_closed_with_every_illegal_step_refused() {
    let w = world().await;
    let app = &w.app;
    let id = open(&w).await;
    let me = &w.worker.1;

    // The plan: two actions, then one done.
    let planned = app
        .ok_as(
            me,
            UPDATE,
            step(
                &id,
                1,
                json!({ "step": "PLAN", "addActions": [
                { "description": "Safety plan with the mother", "dueOn": days_ago(-3) },
                { "description": "School visit", "dueOn": days_ago(-10) }] }),
            ),
        )
        .await["updateProtectionCase"]
        .clone();
    let first_action = planned["actions"][0]["id"].as_str().unwrap().to_string();
    let done = app.ok_as(me, UPDATE, step(&id, 2, json!({ "step": "PLAN", "doneActionIds": [first_action] }))).await;
    assert_eq!(done["updateProtectionCase"]["actions"][0]["doneOn"], days_ago(0));
    assert!(done["updateProtectionCase"]["actions"][1]["doneOn"].is_null());
    let (code, _) =
        app.err_as(Some(me), UPDATE, step(&id, 3, json!({ "step": "PLAN", "doneActionIds": [first_action] }))).await;
    assert_eq!(code, "VALIDATION", "done once");
    let (code, _) = app.err_as(Some(me), UPDATE, step(&id, 3, json!({ "step": "PLAN" }))).await;
    assert_eq!(code, "VALIDATION", "a plan step changes the plan");
    // A review re-assesses the risk; the next review follows it.
    let (code, _) = app.err_as(Some(me), UPDATE, step(&id, 3, json!({ "step": "REVIEW" }))).await;
    assert_eq!(code, "VALIDATION", "a review says the risk");
    let (code, _) = app
        .err_as(
            Some(me),
            UPDATE,
            step(&id, 3, json!({ "step": "CLOSE", "riskLevel": "LOW", "closeReason": "NEEDS_MET" })),
        )
        .await;
    assert_eq!(code, "VALIDATION", "a risk level is a review's");
    let (code, _) = app.err_as(Some(me), UPDATE, step(&id, 2, json!({ "step": "REVIEW", "riskLevel": "LOW" }))).await;
    assert_eq!(code, "CONFLICT", "a stale version");
    let reviewed = app
        .ok_as(me, UPDATE, step(&id, 3, json!({ "step": "REVIEW", "riskLevel": "LOW", "note": "Mother engaged" })))
        .await;
    assert_eq!(reviewed["updateProtectionCase"]["reviewDueOn"], days_ago(-90));
    let (code, _) = app.err_as(Some(me), UPDATE, step(&id, 4, json!({ "step": "OPEN" }))).await;
    assert_eq!(code, "VALIDATION");
    let (code, _) = app.err_as(Some(me), UPDATE, step(&id, 4, json!({ "step": "ACCEPT_TRANSFER" }))).await;
    assert_eq!(code, "VALIDATION", "nothing to accept");

    // A transfer to a worker of Chingeltei, rejected: the case stays, and the receiver stops seeing it.
    let (rid, receiver) = (&w.receiver.0, &w.receiver.1);
    let chd = unit(app, "11-CHD").await;
    let (code, _) = app.err_as(Some(me), UPDATE, step(&id, 4, json!({ "step": "TRANSFER", "toUserId": rid }))).await;
    assert_eq!(code, "VALIDATION", "the receiver is no case worker of Bayanzürkh");
    let (code, _) = app
        .err_as(Some(me), UPDATE, step(&id, 4, json!({ "step": "TRANSFER", "toUserId": uuid::Uuid::now_v7() })))
        .await;
    assert_eq!(code, "VALIDATION");
    let offer =
        json!({ "step": "TRANSFER", "toUserId": rid, "toOrgUnitId": chd, "note": "Family moved to Chingeltei" });
    let t = app.ok_as(me, UPDATE, step(&id, 4, offer.clone())).await;
    assert_eq!(t["updateProtectionCase"]["transferToUserId"], rid.as_str());
    let seen = app.ok_as(receiver, BY_ID, json!({ "id": id })).await["protectionCase"].clone();
    assert_eq!(seen["child"]["givenName"], "Номин", "offered, the receiver sees what it decides on");
    let (code, _) =
        app.err_as(Some(receiver), UPDATE, step(&id, 5, json!({ "step": "REVIEW", "riskLevel": "HIGH" }))).await;
    assert_eq!(code, "FORBIDDEN", "not theirs until accepted");
    let (code, _) =
        app.err_as(Some(me), UPDATE, step(&id, 5, json!({ "step": "CLOSE", "closeReason": "MOVED" }))).await;
    assert_eq!(code, "VALIDATION", "not while a transfer is pending");
    let (code, _) = app.err_as(Some(me), UPDATE, step(&id, 5, json!({ "step": "ACCEPT_TRANSFER" }))).await;
    assert_eq!(code, "FORBIDDEN", "the owner does not accept for the receiver");
    let (code, _) = app.err_as(Some(receiver), UPDATE, step(&id, 5, json!({ "step": "REJECT_TRANSFER" }))).await;
    assert_eq!(code, "VALIDATION", "a rejection says why");
    app.ok_as(receiver, UPDATE, step(&id, 5, json!({ "step": "REJECT_TRANSFER", "note": "Not in our khoroo" }))).await;
    assert!(app.ok_as(receiver, BY_ID, json!({ "id": id })).await["protectionCase"].is_null());

    // Offered again and accepted: the case is the receiver's, managed in Chingeltei; the first
    // worker and Bayanzürkh's supervisor no longer see it.
    app.ok_as(me, UPDATE, step(&id, 6, offer)).await;
    let taken =
        app.ok_as(receiver, UPDATE, step(&id, 7, json!({ "step": "ACCEPT_TRANSFER" }))).await["updateProtectionCase"]
            .clone();
    assert_eq!(taken["caseWorkerId"], rid.as_str());
    assert_eq!(taken["orgUnit"]["code"], "11-CHD");
    assert!(taken["transferToUserId"].is_null());
    assert!(app.ok_as(me, BY_ID, json!({ "id": id })).await["protectionCase"].is_null());
    assert!(app.ok_as(&w.supervisor, BY_ID, json!({ "id": id })).await["protectionCase"].is_null());
    // Their devices drop it: a tombstone in their pulls, not in the field worker's of the unit.
    let pull = "{ changes(first: 500) { changes { entity id deleted deletedReason } } }";
    for (who, token, seen) in
        [("worker", me, true), ("supervisor", &w.supervisor, true), ("field worker", &w.outsiders[0].1, false)]
    {
        let pulled = app.ok_as(token, pull, json!({})).await;
        let dropped =
            pulled["changes"]["changes"].as_array().unwrap().iter().any(|c| {
                c["entity"] == "PROTECTION_CASE" && c["deleted"] == true && c["deletedReason"] == "TRANSFERRED"
            });
        assert_eq!(dropped, seen, "{who}: {pulled:#}");
    }
    let theirs = app.ok_as(receiver, BY_ID, json!({ "id": id })).await["protectionCase"].clone();
    assert_eq!(theirs["child"]["householdAddress"], "Khoroo 7, ger 3");
    assert!(theirs["person"].is_null(), "the case opens nothing else of the child: {theirs:#}");

    // Closed by its worker; reopened by an administrator only (a supervisor's step).
    let closed =
        app.ok_as(receiver, UPDATE, step(&id, 8, json!({ "step": "CLOSE", "closeReason": "NEEDS_MET" }))).await;
    assert_eq!(closed["updateProtectionCase"]["status"], "CLOSED");
    let (code, _) =
        app.err_as(Some(receiver), UPDATE, step(&id, 9, json!({ "step": "REVIEW", "riskLevel": "LOW" }))).await;
    assert_eq!(code, "VALIDATION", "a closed case is not worked on");
    let (code, _) = app.err_as(Some(receiver), UPDATE, step(&id, 9, json!({ "step": "REOPEN" }))).await;
    assert_eq!(code, "FORBIDDEN");
    let reopened = app.ok(UPDATE, step(&id, 9, json!({ "step": "REOPEN" }))).await;
    assert_eq!(reopened["updateProtectionCase"]["status"], "OPEN");

    let history = app.ok(BY_ID, json!({ "id": id })).await["protectionCase"]["steps"].clone();
    let steps: Vec<&str> = history.as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        steps,
        [
            "OPEN",
            "PLAN",
            "PLAN",
            "REVIEW",
            "TRANSFER",
            "REJECT_TRANSFER",
            "TRANSFER",
            "ACCEPT_TRANSFER",
            "CLOSE",
            "REOPEN"
        ]
    );
    let audit = app
        .ok("{ auditLog(filter: { entity: \"protection_case\", action: \"TRANSITION\" }) { totalCount } }", json!({}))
        .await;
    assert_eq!(audit["auditLog"]["totalCount"], 9, "each step audited");
    let created = app
        .ok("{ auditLog(filter: { entity: \"protection_case\", action: \"CREATE\" }) { totalCount } }", json!({}))
        .await;
    assert_eq!(created["auditLog"]["totalCount"], 1);
}

#[tokio::test]
async fn cases_travel_offline_once_and_bad_input_opens_none() {
    let w = world().await;
    let app = &w.app;
    let (id, action) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
    let push = "mutation($items: [SyncItemInput!]!) { syncPush(items: $items) { items { status error { code } record { ... on ProtectionCase { version actions { id } } } } } }";
    let batch = json!({ "items": [
        { "id": id, "payload": { "protectionCase": { "personId": w.child, "concern": "NEGLECT", "riskLevel": "MEDIUM", "openedOn": days_ago(3) } } },
        { "id": id, "baseVersion": 1, "payload": { "protectionCaseChange": { "step": "PLAN", "addActions": [{ "id": action, "description": "Home visit", "dueOn": days_ago(-5) }] } } },
    ] });
    for expected in [["CREATED", "UPDATED"], ["UNCHANGED", "UNCHANGED"]] {
        let d = app.ok_as(&w.worker.1, push, batch.clone()).await;
        let items = d["syncPush"]["items"].as_array().unwrap();
        assert_eq!([&items[0]["status"], &items[1]["status"]], expected, "{d:#}");
        assert_eq!(items[1]["record"]["actions"].as_array().unwrap().len(), 1, "added once: {d:#}");
    }
    assert_eq!(app.count("protection_case").await, 1);
    assert_eq!(app.count("protection_case_action").await, 1);
    // Changed on the server since the device's copy: a conflict, another plan on the same version
    // too (not taken for a retry). Each shows the case, and each such read is audited, although
    // a dry run writes nothing.
    let reads = "{ auditLog(filter: { entity: \"protection_case\", action: \"READ\" }) { totalCount } }";
    let before = app.ok(reads, json!({})).await["auditLog"]["totalCount"].as_i64().unwrap();
    let other_plan =
        json!({ "step": "PLAN", "addActions": [{ "description": "Another visit", "dueOn": days_ago(-6) }] });
    for change in [json!({ "step": "REVIEW", "riskLevel": "HIGH" }), other_plan] {
        let stale = json!({ "items": [{ "id": id, "baseVersion": 1, "payload": { "protectionCaseChange": change } }] });
        let dry = "mutation($items: [SyncItemInput!]!) { syncPush(items: $items, dryRun: true) { items { status record { ... on ProtectionCase { version } } } } }";
        let d = app.ok_as(&w.worker.1, dry, stale).await;
        assert_eq!(d["syncPush"]["items"][0]["status"], "CONFLICT", "{d:#}");
        assert_eq!(d["syncPush"]["items"][0]["record"]["version"], 2, "{d:#}");
    }
    let after = app.ok(reads, json!({})).await["auditLog"]["totalCount"].as_i64().unwrap();
    assert!(after >= before + 2, "the dry runs' reads are audited: {before} then {after}");
    assert_eq!(app.count("protection_case_action").await, 1);
    // A field worker's device cannot open one.
    let other = json!({ "items": [{ "id": uuid::Uuid::now_v7(), "payload": { "protectionCase": { "personId": w.child, "concern": "NEGLECT", "riskLevel": "LOW" } } }] });
    let d = app.ok_as(&w.outsiders[0].1, push, other).await;
    assert_eq!(d["syncPush"]["items"][0]["error"]["code"], "FORBIDDEN", "{d:#}");

    // Bad input changes nothing: an adult, a future day, someone who is no case worker, a
    // supervisor who names nobody.
    let adult = person(app, &household(app, &unit(app, "11-BZD").await).await, "Бат", "MALE", "1990-01-01").await;
    let cases = [
        (&w.worker.1, json!({ "personId": adult, "concern": "NEGLECT", "riskLevel": "LOW" }), "input.personId"),
        (
            &w.worker.1,
            json!({ "personId": w.child, "concern": "NEGLECT", "riskLevel": "LOW", "openedOn": days_ago(-1) }),
            "input.openedOn",
        ),
        (
            &w.supervisor,
            json!({ "personId": w.child, "concern": "NEGLECT", "riskLevel": "LOW", "caseWorkerId": w.receiver.0 }),
            "input.caseWorkerId",
        ),
        (&w.supervisor, json!({ "personId": w.child, "concern": "NEGLECT", "riskLevel": "LOW" }), "input.caseWorkerId"),
    ];
    for (token, input, path) in cases {
        let (code, e) = app.err_as(Some(token), OPEN, json!({ "i": input })).await;
        assert_eq!(code, "VALIDATION", "{e:#}");
        assert_eq!(e["extensions"]["fields"][0]["path"], path, "{e:#}");
    }
    let (code, _) = app
        .err_as(
            Some(&w.receiver.1),
            OPEN,
            json!({ "i": { "personId": w.child, "concern": "NEGLECT", "riskLevel": "LOW" } }),
        )
        .await;
    assert!(code == "VALIDATION" || code == "FORBIDDEN", "a child outside the capture scope: {code}");
    // A case worker opens cases for itself only; a supervisor, for a case worker of the unit.
    let (code, _) = app
        .err_as(
            Some(&w.worker.1),
            OPEN,
            json!({ "i": { "personId": w.child, "concern": "NEGLECT", "riskLevel": "LOW", "caseWorkerId": w.colleague.0 } }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    // A supervisor opens one for a case worker of the unit.
    let assigned = app
        .ok_as(&w.supervisor, OPEN, json!({ "i": { "personId": w.child, "concern": "STREET_CHILD", "riskLevel": "LOW", "caseWorkerId": w.colleague.0 } }))
        .await;
    assert_eq!(assigned["openProtectionCase"]["caseWorkerId"], w.colleague.0.as_str());
    assert_eq!(app.count("protection_case").await, 2);
    // A transfer to someone who stopped working cases meanwhile cannot be accepted.
    let c = assigned["openProtectionCase"]["id"].as_str().unwrap().to_string();
    app.ok_as(&w.colleague.1, UPDATE, step(&c, 1, json!({ "step": "TRANSFER", "toUserId": w.worker.0 }))).await;
    app.ok(
        "mutation($u: UUID!) { updateUser(input: { id: $u, roles: [FIELD_WORKER] }) { id } }",
        json!({ "u": w.worker.0 }),
    )
    .await;
    let (code, e) = app.err_as(Some(&w.supervisor), UPDATE, step(&c, 2, json!({ "step": "ACCEPT_TRANSFER" }))).await;
    assert_eq!(code, "VALIDATION", "{e:#}");
    app.ok_as(
        &w.supervisor,
        UPDATE,
        step(&c, 2, json!({ "step": "REJECT_TRANSFER", "note": "No longer a case worker" })),
    )
    .await;
}

const COVERAGE: &str = "query($c: String!, $u: UUID!, $p: String!) { coverage(indicator: $c, orgUnitId: $u, period: $p) { total { numerator denominator value suppressed } } }";

#[tokio::test]
async fn case_and_referral_indicators_are_recounted_on_their_boundaries() {
    let w = world().await;
    let app = &w.app;
    let bzd = unit(app, "11-BZD").await;
    let home = household(app, &bzd).await;
    // Children 0-17: Номин (case open), one whose case is closed today, one of 215 completed
    // months (the last month of 17, case open), a toddler without a case. Adults do not count.
    let closed = person(app, &home, "Саруул", "FEMALE", &crate::fixtures::months_ago(100)).await;
    let oldest = person(app, &home, "Тэмүүжин", "MALE", &crate::fixtures::months_ago(215)).await;
    person(app, &home, "Бат", "MALE", &crate::fixtures::months_ago(24)).await;
    person(app, &home, "Ээж", "FEMALE", "1990-01-01").await;
    open(&w).await;
    let open_for = |child: &String| json!({ "i": { "personId": child, "concern": "NEGLECT", "riskLevel": "LOW" } });
    app.ok_as(&w.worker.1, OPEN, open_for(&oldest)).await;
    let c =
        app.ok_as(&w.worker.1, OPEN, open_for(&closed)).await["openProtectionCase"]["id"].as_str().unwrap().to_string();
    app.ok_as(&w.worker.1, UPDATE, step(&c, 1, json!({ "step": "CLOSE", "closeReason": "NEEDS_MET" }))).await;

    let asked = json!({ "c": "OPEN_PROTECTION_CASES", "u": bzd, "p": "THIS_MONTH" });
    let exact = app.ok(COVERAGE, asked.clone()).await["coverage"]["total"].clone();
    assert_eq!((exact["numerator"].clone(), exact["denominator"].clone()), (json!(2), json!(4)), "{exact:#}");
    assert_eq!(exact["value"], 500.0, "per 1,000 children");
    // Anyone but an administrator gets protected counts: 2 is withheld, even for the supervisor.
    for token in [&w.supervisor, &w.outsiders[0].1, &w.outsiders[3].1] {
        let seen = app.ok_as(token, COVERAGE, asked.clone()).await["coverage"]["total"].clone();
        assert_eq!((seen["suppressed"].clone(), seen["numerator"].clone()), (json!(true), json!(null)), "{seen:#}");
    }

    // Referrals of Bayanzürkh to its own clinic: sent and due today, completed (on time); sent and
    // due yesterday, still open (overdue); sent and due yesterday, completed today (late).
    let (field, clinic) = (&w.outsiders[0].1, &w.outsiders[1].1);
    let send = |sent: i64, due: i64| {
        json!({ "i": { "personId": w.child, "need": "HEALTH", "toOrgUnitId": bzd, "reason": "Check-up",
                       "sentOn": days_ago(sent), "dueBy": days_ago(due) } })
    };
    let sent_q = "mutation($i: SendReferralInput!) { sendReferral(input: $i) { id } }";
    let done = "mutation($id: UUID!) { answerReferral(input: { id: $id, to: COMPLETED, note: \"Seen\" }) { status } }";
    let mut ids = Vec::new();
    for (sent, due) in [(0, 0), (1, 1), (1, 1)] {
        ids.push(app.ok_as(field, sent_q, send(sent, due)).await["sendReferral"]["id"].as_str().unwrap().to_string());
    }
    for id in [&ids[0], &ids[2]] {
        assert_eq!(app.ok_as(clinic, done, json!({ "id": id })).await["answerReferral"]["status"], "COMPLETED");
    }
    let total = |code: &str| {
        let v = json!({ "c": code, "u": bzd, "p": "THIS_YEAR" });
        async move { app.ok(COVERAGE, v).await["coverage"]["total"].clone() }
    };
    // On 1 January yesterday's two belong to last year's count.
    let yesterday_counts = days_ago(1)[..4] == days_ago(0)[..4];
    let both = |c: &Value| (c["numerator"].clone(), c["denominator"].clone());
    let completed = total("REFERRALS_COMPLETED").await;
    let on_time = total("REFERRALS_ON_TIME").await;
    if yesterday_counts {
        assert_eq!(both(&completed), (json!(2), json!(3)), "{completed:#}");
        assert_eq!(completed["value"], 66.7);
        assert_eq!(both(&on_time), (json!(1), json!(3)), "{on_time:#}");
    } else {
        assert_eq!((both(&completed), both(&on_time)), ((json!(1), json!(1)), (json!(1), json!(1))));
    }
    let (code, _) = app
        .err(
            "query($u: UUID!) { coverage(indicator: \"REFERRALS_COMPLETED\", orgUnitId: $u, period: \"2026\", groupBy: [SEX]) { total { value } } }",
            json!({ "u": bzd }),
        )
        .await;
    assert_eq!(code, "VALIDATION", "a referral has no sex");
}

#[tokio::test]
async fn a_case_closed_and_reopened_was_not_open_in_between() {
    use chrono::{Datelike, Duration};
    let w = world().await;
    let app = &w.app;
    let bzd = unit(app, "11-BZD").await;
    // The last days of last month and of the month before.
    let first = cbss::store::today().with_day(1).unwrap();
    let last_month = first - Duration::days(1);
    let month_before = last_month.with_day(1).unwrap() - Duration::days(1);
    let opened = (month_before - Duration::days(40)).to_string();
    let i = json!({ "i": { "personId": w.child, "concern": "NEGLECT", "riskLevel": "LOW", "openedOn": opened } });
    let c = app.ok_as(&w.worker.1, OPEN, i).await["openProtectionCase"]["id"].as_str().unwrap().to_string();
    app.ok_as(&w.worker.1, UPDATE, step(&c, 1, json!({ "step": "CLOSE", "closeReason": "NEEDS_MET" }))).await;
    app.ok_as(&w.supervisor, UPDATE, step(&c, 2, json!({ "step": "REOPEN", "note": "Neglect again" }))).await;
    // The fixture: closed five days before the end of the month before last, reopened five days
    // before the end of last month (the service dates a step the day it is taken).
    let backend = app.db.get_database_backend();
    for (kind, day) in [("CLOSE", month_before - Duration::days(5)), ("REOPEN", last_month - Duration::days(5))] {
        let sql = format!("UPDATE protection_case_step SET on_day = '{day}' WHERE step = '{kind}'");
        app.db.execute_raw(sea_orm::Statement::from_string(backend, sql)).await.expect("step day");
    }
    let at = |period: String| {
        let v = json!({ "c": "OPEN_PROTECTION_CASES", "u": bzd, "p": period });
        async move { app.ok(COVERAGE, v).await["coverage"]["total"].clone() }
    };
    let month = |d: chrono::NaiveDate| d.format("%Y-%m").to_string();
    // Closed at the end of the month before last, open again at the end of last month and today.
    for (period, open) in [(month(month_before), 0), (month(last_month), 1), ("THIS_MONTH".to_string(), 1)] {
        let total = at(period.clone()).await;
        assert_eq!((total["numerator"].clone(), total["denominator"].clone()), (json!(open), json!(1)), "{period}");
    }
}
