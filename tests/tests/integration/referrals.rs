//! Referrals across sectors: the loop from the referring worker to the receiver and back, who
//! sees what on each side, retries and offline answers, and bad input that changes nothing.

use crate::fixtures::{days_ago, household, months_ago, person, unit};
use cbss_tests::{PASSWORD, TestApp};
use serde_json::{Value, json};

const SEND: &str = "mutation($i: SendReferralInput!) { sendReferral(input: $i) { id version status dueBy } }";
const ANSWER: &str = "mutation($i: AnswerReferralInput!) { answerReferral(input: $i) { id version status answerNote closeReason completedOn completedBy { id } } }";
const SEEN: &str = "query($id: UUID!) { referral(id: $id) { id status version overdue person { id } household { id }
    subject { givenName familyName sex ageMonths householdAddress orgUnit { code } }
    fromOrgUnit { code } toOrgUnit { code } steps { fromStatus toStatus } } }";

/// A user of `role` whose capture scope is the unit `code`; answers their token.
async fn worker(app: &TestApp, email: &str, role: &str, code: &str) -> String {
    let u = unit(app, code).await;
    app.ok(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        json!({ "i": { "email": email, "displayName": email, "password": PASSWORD, "roles": [role], "captureUnitIds": [u] } }),
    )
    .await;
    app.login(email).await
}

struct World {
    app: TestApp,
    /// FIELD_WORKER of Bayanzürkh (the child's district): the referrer.
    referrer: String,
    /// PROVIDER of Chingeltei: the receiver, who does not see Bayanzürkh.
    receiver: String,
    /// FIELD_WORKER of Bayangol: neither side.
    neighbour: String,
    child: String,
    home: String,
    chingeltei: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let referrer = worker(&app, "referrer@test.mn", "FIELD_WORKER", "11-BZD").await;
    let receiver = worker(&app, "clinic@test.mn", "PROVIDER", "11-CHD").await;
    let neighbour = worker(&app, "neighbour@test.mn", "FIELD_WORKER", "11-BGL").await;
    let home = household(&app, &unit(&app, "11-BZD").await).await;
    app.ok(
        "mutation($h: UUID!) { updateHousehold(input: { id: $h, address: \"Khoroo 4, building 12\" }) { id } }",
        json!({ "h": home }),
    )
    .await;
    let child = person(&app, &home, "Тэмүүлэн", "MALE", &months_ago(10)).await;
    let chingeltei = unit(&app, "11-CHD").await;
    World { app, referrer, receiver, neighbour, child, home, chingeltei }
}

fn referral_of(w: &World, extra: Value) -> Value {
    let mut i = json!({ "personId": w.child, "need": "NUTRITION", "serviceTypeCode": "VITAMIN_A",
        "toOrgUnitId": w.chingeltei, "urgency": "URGENT", "reason": "Vitamin A overdue; family moved for work" });
    for (k, v) in extra.as_object().unwrap() {
        i[k] = v.clone();
    }
    json!({ "i": i })
}

#[tokio::test]
async fn a_referral_goes_to_the_receiver_and_its_answer_comes_back() {
    let w = world().await;
    let app = &w.app;
    let sent = app.ok_as(&w.referrer, SEND, referral_of(&w, json!({}))).await["sendReferral"].clone();
    assert_eq!(sent["status"], "SENT");
    assert_eq!(sent["dueBy"], days_ago(-7), "URGENT is due in 7 days");
    let id = sent["id"].as_str().unwrap().to_string();

    // The receiver sees the minimum to act, although the child lives outside its view scope;
    // nothing else of the child or the household.
    let seen = app.ok_as(&w.receiver, SEEN, json!({ "id": id })).await["referral"].clone();
    assert_eq!(seen["subject"]["givenName"], "Тэмүүлэн");
    assert_eq!(seen["subject"]["ageMonths"], 10);
    assert_eq!(seen["subject"]["householdAddress"], "Khoroo 4, building 12");
    assert_eq!(seen["subject"]["orgUnit"]["code"], "11-BZD");
    assert!(seen["person"].is_null() && seen["household"].is_null(), "{seen:#}");
    // Someone whose view (not capture) holds the receiving unit sees the referral, not the child:
    // the minimum is for who acts on it.
    let (bgl, chd) = (unit(app, "11-BGL").await, w.chingeltei.clone());
    app.ok(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        json!({ "i": { "email": "viewer@test.mn", "displayName": "V", "password": PASSWORD, "roles": ["FIELD_WORKER"],
                       "captureUnitIds": [bgl], "viewUnitIds": [chd] } }),
    )
    .await;
    let viewer = app.login("viewer@test.mn").await;
    let theirs = app.ok_as(&viewer, SEEN, json!({ "id": id })).await["referral"].clone();
    assert_eq!(theirs["status"], "SENT");
    assert!(theirs["subject"].is_null(), "{theirs:#}");
    let direct = app.ok_as(&w.receiver, "query($p: UUID!) { person(id: $p) { id } }", json!({ "p": w.child })).await;
    assert!(direct["person"].is_null(), "the referral opens nothing but itself");
    let hh = app.ok_as(&w.receiver, "query($h: UUID!) { household(id: $h) { id } }", json!({ "h": w.home })).await;
    assert!(hh["household"].is_null());
    let received = app
        .ok_as(
            &w.receiver,
            "query($u: UUID!) { referrals(filter: { orgUnitId: $u, direction: RECEIVED }) { totalCount nodes { id } } }",
            json!({ "u": w.chingeltei }),
        )
        .await;
    assert_eq!(received["referrals"]["totalCount"], 1);
    // Each read of an out-of-scope subject is audited.
    let audit = app.ok("{ auditLog(filter: { action: \"READ_REFERRED\" }) { totalCount } }", json!({})).await;
    assert_eq!(audit["auditLog"]["totalCount"], 1);

    // Only the receiver answers; the referrer cannot accept its own referral.
    let (code, _) = app.err_as(Some(&w.referrer), ANSWER, json!({ "i": { "id": id, "to": "ACCEPTED" } })).await;
    assert_eq!(code, "FORBIDDEN");
    let (code, _) = app
        .err_as(Some(&w.receiver), ANSWER, json!({ "i": { "id": id, "to": "ACCEPTED", "expectedVersion": 7 } }))
        .await;
    assert_eq!(code, "CONFLICT");
    let accepted =
        app.ok_as(&w.receiver, ANSWER, json!({ "i": { "id": id, "to": "ACCEPTED", "expectedVersion": 1 } })).await;
    assert_eq!(accepted["answerReferral"]["version"], 2);
    let (code, e) =
        app.err_as(Some(&w.receiver), ANSWER, json!({ "i": { "id": id, "to": "DECLINED", "note": "no" } })).await;
    assert_eq!((code.as_str(), e["extensions"]["fields"][0]["path"].as_str()), ("VALIDATION", Some("input.to")));

    // Recording the service asked for completes it, in the same write.
    let record = app
        .ok_as(
            &w.referrer,
            "mutation($p: UUID!, $d: NaiveDate!) { recordService(input: { serviceTypeCode: \"VITAMIN_A\", personId: $p, date: $d }) { id } }",
            json!({ "p": w.child, "d": days_ago(0) }),
        )
        .await["recordService"]["id"]
        .clone();
    let done = app.ok_as(&w.referrer, SEEN, json!({ "id": id })).await["referral"].clone();
    assert_eq!(done["status"], "COMPLETED", "the referrer gets the outcome back: {done:#}");
    let steps: Vec<(&str, &str)> = done["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["fromStatus"].as_str().unwrap_or("-"), s["toStatus"].as_str().unwrap()))
        .collect();
    assert_eq!(steps, [("-", "SENT"), ("SENT", "ACCEPTED"), ("ACCEPTED", "COMPLETED")]);
    let full = app
        .ok_as(
            &w.referrer,
            "query($id: UUID!) { referral(id: $id) { version completedBy { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(full["referral"]["completedBy"]["id"], record);
    assert_eq!(full["referral"]["version"], 3);

    // Closed, the receiver keeps the referral's status but no longer sees the child.
    let after = app.ok_as(&w.receiver, SEEN, json!({ "id": id })).await["referral"].clone();
    assert_eq!(after["status"], "COMPLETED");
    assert!(after["subject"].is_null(), "{after:#}");
    let (code, _) = app
        .err_as(Some(&w.receiver), ANSWER, json!({ "i": { "id": id, "to": "CLOSED", "closeReason": "MOVED" } }))
        .await;
    assert_eq!(code, "VALIDATION", "a completed referral is final");
}

#[tokio::test]
async fn a_referral_is_seen_by_its_two_sides_only() {
    let w = world().await;
    let app = &w.app;
    let id = app.ok_as(&w.referrer, SEND, referral_of(&w, json!({}))).await["sendReferral"]["id"].clone();
    // A worker of another district: neither side.
    for token in [&w.neighbour] {
        let d = app.ok_as(token, "query($id: UUID!) { referral(id: $id) { id } }", json!({ "id": id })).await;
        assert!(d["referral"].is_null());
        let list = app.ok_as(token, "{ referrals { totalCount } }", json!({})).await;
        assert_eq!(list["referrals"]["totalCount"], 0);
        let (code, _) =
            app.err_as(Some(token), ANSWER, json!({ "i": { "id": id, "to": "CLOSED", "closeReason": "MOVED" } })).await;
        assert_eq!(code, "NOT_FOUND", "an unseen referral answers as unknown");
    }
    app.ok(
        "mutation { createUser(input: { email: \"analyst@test.mn\", displayName: \"A\", password: \"demo-password\", roles: [ANALYST] }) { id } }",
        json!({}),
    )
    .await;
    let analyst = app.login("analyst@test.mn").await;
    let (code, _) = app.err_as(Some(&analyst), "{ referrals { totalCount } }", json!({})).await;
    assert_eq!(code, "FORBIDDEN", "analysts get counts, not referrals");
    // Relay's node(id): the referral for its sides, null for anyone else.
    let node = "query($id: ID!) { node(id: $id) { ... on Referral { status } } }";
    assert_eq!(app.ok_as(&w.referrer, node, json!({ "id": id })).await["node"]["status"], "SENT");
    for token in [&w.neighbour, &analyst] {
        assert!(app.ok_as(token, node, json!({ "id": id })).await["node"].is_null());
    }

    // Declined, with the reason; the referrer reads the reason back, the receiver loses the child.
    let declined = app
        .ok_as(
            &w.receiver,
            ANSWER,
            json!({ "i": { "id": id, "to": "DECLINED", "note": "No vitamin A stock this month" } }),
        )
        .await;
    assert_eq!(declined["answerReferral"]["answerNote"], "No vitamin A stock this month");
    let back = app.ok_as(&w.referrer, SEEN, json!({ "id": id })).await["referral"].clone();
    assert_eq!(back["status"], "DECLINED");
    assert_eq!(back["subject"]["givenName"], "Тэмүүлэн", "the referrer sees its own child as ever");
    let gone = app.ok_as(&w.receiver, SEEN, json!({ "id": id })).await["referral"].clone();
    assert!(gone["subject"].is_null());

    // Erasing the child removes the free text that may name them; the referral stays counted.
    app.ok(
        "mutation($p: UUID!) { erasePerson(id: $p, reason: \"Request of the family\") { id } }",
        json!({ "p": w.child }),
    )
    .await;
    let q = "query($id: UUID!) { referral(id: $id) { reason answerNote status steps { note } } }";
    let erased = app.ok_as(&w.referrer, q, json!({ "id": id })).await["referral"].clone();
    assert_eq!(erased["reason"], "[erased]");
    assert!(erased["answerNote"].is_null() && erased["steps"].as_array().unwrap().iter().all(|s| s["note"].is_null()));
    assert_eq!(erased["status"], "DECLINED");
}

#[tokio::test]
async fn bad_referrals_and_answers_change_nothing() {
    let w = world().await;
    let app = &w.app;
    let cases = [
        (json!({ "reason": "  " }), "input.reason"),
        (json!({ "householdId": w.home }), "input.householdId"),
        (json!({ "sentOn": days_ago(3), "dueBy": days_ago(4) }), "input.dueBy"),
        (json!({ "sentOn": days_ago(-1) }), "input.sentOn"),
        (json!({ "serviceTypeCode": "NO_SUCH_SERVICE" }), "input.serviceTypeCode"),
        (json!({ "raisedBy": "MEASUREMENT" }), "input.raisedById"),
        (json!({ "raisedBy": "OTHER", "raisedById": w.home }), "input.raisedById"),
        (json!({ "toOrgUnitId": w.home }), "input.toOrgUnitId"),
    ];
    for (extra, path) in cases {
        let (code, e) = app.err_as(Some(&w.referrer), SEND, referral_of(&w, extra.clone())).await;
        assert_eq!(code, "VALIDATION", "{extra}: {e:#}");
        let paths: Vec<&str> =
            e["extensions"]["fields"].as_array().unwrap().iter().filter_map(|f| f["path"].as_str()).collect();
        assert!(paths.contains(&path), "{extra}: {e:#}");
    }
    // The receiver may not refer a child it does not capture.
    let (code, _) = app.err_as(Some(&w.receiver), SEND, referral_of(&w, json!({}))).await;
    assert_eq!(code, "VALIDATION", "a person outside the view scope is unknown");
    assert_eq!(app.count("referral").await, 0);
    assert_eq!(app.count("referral_step").await, 0);

    let id = app.ok_as(&w.referrer, SEND, referral_of(&w, json!({}))).await["sendReferral"]["id"].clone();
    let refused = [
        json!({ "id": id, "to": "DECLINED" }),
        json!({ "id": id, "to": "CLOSED" }),
        json!({ "id": id, "to": "ACCEPTED", "closeReason": "DIED" }),
        json!({ "id": id, "to": "COMPLETED" }),
        json!({ "id": id, "to": "SENT" }),
    ];
    for input in refused {
        let (code, e) = app.err_as(Some(&w.receiver), ANSWER, json!({ "i": input })).await;
        assert_eq!(code, "VALIDATION", "{input}: {e:#}");
    }
    // A record of someone else does not complete it.
    let other = person(app, &w.home, "Ах", "MALE", &months_ago(30)).await;
    let theirs = app
        .ok(
            "mutation($p: UUID!, $d: NaiveDate!) { recordService(input: { serviceTypeCode: \"VITAMIN_A\", personId: $p, date: $d }) { id } }",
            json!({ "p": other, "d": days_ago(0) }),
        )
        .await["recordService"]["id"]
        .clone();
    let (code, _) = app.err(ANSWER, json!({ "i": { "id": id, "to": "COMPLETED", "serviceRecordId": theirs } })).await;
    assert_eq!(code, "VALIDATION");
    let still = app.ok(SEEN, json!({ "id": id })).await["referral"].clone();
    assert_eq!((still["status"].as_str(), still["version"].as_i64()), (Some("SENT"), Some(1)));
    assert_eq!(app.count("referral_step").await, 1);
}

#[tokio::test]
async fn referrals_and_answers_travel_offline_once() {
    let w = world().await;
    let app = &w.app;
    let id = "0193a1c2-0000-7000-8000-00000000a001";
    let push = "mutation($items: [SyncItemInput!]!) { syncPush(items: $items) { items { status error { code message } record { ... on Referral { status version } } } } }";
    let send = json!({ "items": [{ "id": id, "payload": { "referral": referral_of(&w, json!({ "sentOn": days_ago(2) }))["i"] } }] });
    for expected in ["CREATED", "UNCHANGED"] {
        let d = app.ok_as(&w.referrer, push, send.clone()).await;
        assert_eq!(d["syncPush"]["items"][0]["status"], expected, "{d:#}");
    }
    // A retried create answers the stored referral.
    let retried = app.ok_as(&w.referrer, SEND, referral_of(&w, json!({ "id": id, "sentOn": days_ago(2) }))).await;
    assert_eq!(retried["sendReferral"]["version"], 1);
    assert_eq!(app.count("referral").await, 1);

    // The receiver's device pulls it, and answers offline.
    let pulled = app
        .ok_as(
            &w.receiver,
            "{ changes { changes { entity id record { ... on Referral { status subject { givenName } } } } } }",
            json!({}),
        )
        .await;
    let changes = pulled["changes"]["changes"].as_array().unwrap();
    let found: Vec<&Value> = changes.iter().filter(|c| c["entity"] == "REFERRAL").collect();
    assert_eq!(found.len(), 1, "{pulled:#}");
    assert_eq!(found[0]["record"]["subject"]["givenName"], "Тэмүүлэн");
    assert!(changes.iter().all(|c| c["entity"] == "REFERRAL"), "nothing else of Bayanzürkh: {pulled:#}");
    let answer =
        json!({ "items": [{ "id": id, "baseVersion": 1, "payload": { "referralAnswer": { "to": "ACCEPTED" } } }] });
    for expected in ["UPDATED", "UNCHANGED"] {
        let d = app.ok_as(&w.receiver, push, answer.clone()).await;
        assert_eq!(d["syncPush"]["items"][0]["status"], expected, "{d:#}");
    }
    // Answered otherwise since the device's copy: a conflict.
    let stale = json!({ "items": [{ "id": id, "baseVersion": 1, "payload": { "referralAnswer": { "to": "CLOSED", "closeReason": "UNREACHABLE" } } }] });
    let d = app.ok_as(&w.referrer, push, stale).await;
    assert_eq!(d["syncPush"]["items"][0]["status"], "CONFLICT", "{d:#}");
    assert_eq!(d["syncPush"]["items"][0]["record"]["version"], 2);
}

const DUE: &str =
    "query($u: UUID!, $k: [DueKind!], $w: Int = 0) { dueList(orgUnitId: $u, kinds: $k, withinDays: $w, first: 50) {
    totalCount nodes { person { id } daysOverdue urgentFrom referrals { id overdue } items { code } } } }";
const RECORD: &str = "mutation($p: UUID!, $t: String!, $d: NaiveDate!) { recordService(input: { serviceTypeCode: $t, personId: $p, date: $d }) { id orgUnit { code } } }";

#[tokio::test]
async fn open_referrals_are_on_both_sides_due_lists() {
    let w = world().await;
    let app = &w.app;
    let (bzd, sbd) = (unit(app, "11-BZD").await, unit(app, "11-SBD").await);
    // Sent ten days ago and due three days ago: overdue. Another, to Sükhbaatar, due in five
    // days: on a round of a week, not on today's.
    let late = referral_of(&w, json!({ "sentOn": days_ago(10), "dueBy": days_ago(3) }));
    let late = app.ok_as(&w.referrer, SEND, late).await["sendReferral"]["id"].as_str().unwrap().to_string();
    let soon = referral_of(&w, json!({ "toOrgUnitId": sbd, "dueBy": days_ago(-5) }));
    let soon = app.ok_as(&w.referrer, SEND, soon).await["sendReferral"]["id"].as_str().unwrap().to_string();

    // The referrer's list: the child, with the overdue referral only (REFERRAL alone: no schedule).
    let list = app.ok_as(&w.referrer, DUE, json!({ "u": bzd, "k": ["REFERRAL"] })).await["dueList"].clone();
    let nodes = list["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{list:#}");
    let entry = &nodes[0];
    assert_eq!(entry["person"]["id"], w.child.as_str());
    assert_eq!(entry["referrals"], json!([{ "id": late, "overdue": true }]), "{entry:#}");
    assert_eq!((entry["daysOverdue"].clone(), entry["urgentFrom"].clone()), (json!(3), json!(days_ago(2))));
    assert_eq!(entry["items"], json!([]));
    let week = app.ok_as(&w.referrer, DUE, json!({ "u": bzd, "k": ["REFERRAL"], "w": 7 })).await["dueList"].clone();
    let ids: Vec<&str> =
        week["nodes"][0]["referrals"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [late.as_str(), soon.as_str()], "earliest due first: {week:#}");
    // Without REFERRAL among the kinds, the schedules alone; with every kind, both on one entry.
    let vita = app.ok_as(&w.referrer, DUE, json!({ "u": bzd, "k": ["VITAMIN_A"] })).await["dueList"].clone();
    assert!(vita["nodes"].as_array().unwrap().iter().all(|n| n["referrals"] == json!([])), "{vita:#}");
    let all = app.ok_as(&w.referrer, DUE, json!({ "u": bzd })).await["dueList"].clone();
    let child = all["nodes"].as_array().unwrap().iter().find(|n| n["person"]["id"] == w.child.as_str()).unwrap();
    assert!(!child["items"].as_array().unwrap().is_empty() && child["referrals"].as_array().unwrap().len() == 1);

    // The receiving side: the list of Sükhbaatar, by a health worker there who also sees
    // Bayanzürkh, holds the child referred to it, although the child lives elsewhere.
    app.ok(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        json!({ "i": { "email": "sbd@test.mn", "displayName": "S", "password": PASSWORD, "roles": ["PROVIDER"],
                       "captureUnitIds": [sbd], "viewUnitIds": [sbd, bzd] } }),
    )
    .await;
    let receiving = app.login("sbd@test.mn").await;
    let theirs = app.ok_as(&receiving, DUE, json!({ "u": sbd, "k": ["REFERRAL"], "w": 7 })).await["dueList"].clone();
    assert_eq!(theirs["nodes"][0]["referrals"], json!([{ "id": soon, "overdue": false }]), "{theirs:#}");
    assert_eq!(theirs["nodes"].as_array().unwrap().len(), 1);
    // Others see neither the child nor the referrals on their lists.
    let bgl = unit(app, "11-BGL").await;
    let none = app.ok_as(&w.neighbour, DUE, json!({ "u": bgl, "k": ["REFERRAL"], "w": 30 })).await["dueList"].clone();
    assert_eq!(none["nodes"], json!([]));
    // Answered, a referral leaves the lists.
    app.ok_as(&w.referrer, ANSWER, json!({ "i": { "id": late, "to": "CLOSED", "closeReason": "MOVED" } })).await;
    let after = app.ok_as(&w.referrer, DUE, json!({ "u": bzd, "k": ["REFERRAL"] })).await["dueList"].clone();
    assert_eq!(after["nodes"], json!([]), "{after:#}");
}

#[tokio::test]
async fn the_receiver_records_the_service_for_a_child_it_does_not_see() {
    let w = world().await;
    let app = &w.app;
    let id =
        app.ok_as(&w.referrer, SEND, referral_of(&w, json!({ "sentOn": days_ago(4) }))).await["sendReferral"]["id"]
            .as_str()
            .unwrap()
            .to_string();
    let records = || app.count("service_record");
    let before = records().await;
    // Not the service asked for, not someone else's child, not a neighbour: refused, nothing written.
    for (token, service) in [(&w.receiver, "VITAMIN_D"), (&w.neighbour, "VITAMIN_A")] {
        let (code, e) = app.err_as(Some(token), RECORD, json!({ "p": w.child, "t": service, "d": days_ago(1) })).await;
        assert_eq!(
            (code.as_str(), e["extensions"]["fields"][0]["path"].as_str()),
            ("VALIDATION", Some("input.personId"))
        );
    }
    assert_eq!(records().await, before);
    // The receiver records the dose, at its own unit; the record completes the referral. Sent
    // again (a retry after a lost answer) it is the same record, by mutation or by syncPush.
    let with_id = "mutation($id: UUID!, $p: UUID!, $d: NaiveDate!) { recordService(input: { id: $id, serviceTypeCode: \"VITAMIN_A\", personId: $p, date: $d }) { id orgUnit { code } } }";
    let rid = "0193a1c2-0000-7000-8000-00000000a001";
    let vars = json!({ "id": rid, "p": w.child, "d": days_ago(1) });
    let given = app.ok_as(&w.receiver, with_id, vars.clone()).await;
    assert_eq!(app.ok_as(&w.receiver, with_id, vars).await, given, "a retry answers the stored record");
    let push = "mutation($i: [SyncItemInput!]!) { syncPush(items: $i) { summary { created unchanged rejected } } }";
    let item = json!([{ "id": rid, "payload": { "serviceRecord": {
        "id": rid, "serviceTypeCode": "VITAMIN_A", "personId": w.child, "date": days_ago(1) } } }]);
    let pushed = app.ok_as(&w.receiver, push, json!({ "i": item })).await;
    assert_eq!(pushed["syncPush"]["summary"], json!({ "created": 0, "unchanged": 1, "rejected": 0 }));
    assert_eq!(given["recordService"]["orgUnit"]["code"], "11-CHD");
    let q = "query($id: UUID!) { referral(id: $id) { status completedOn endedOn completedBy { id } } }";
    let back = app.ok_as(&w.referrer, q, json!({ "id": id })).await["referral"].clone();
    assert_eq!(back["status"], "COMPLETED");
    assert_eq!((back["completedOn"].clone(), back["endedOn"].clone()), (json!(days_ago(1)), json!(days_ago(1))));
    assert_eq!(back["completedBy"]["id"], given["recordService"]["id"]);
    let audit = app.ok("{ auditLog(filter: { action: \"ON_REFERRAL\" }) { totalCount } }", json!({})).await;
    assert_eq!(audit["auditLog"]["totalCount"], 1, "the write names the referral that allowed it");
    // The child stays unseen to the receiver, and the referral no longer lets it write.
    let direct = app.ok_as(&w.receiver, "query($p: UUID!) { person(id: $p) { id } }", json!({ "p": w.child })).await;
    assert!(direct["person"].is_null());
    let (code, _) =
        app.err_as(Some(&w.receiver), RECORD, json!({ "p": w.child, "t": "VITAMIN_A", "d": days_ago(0) })).await;
    assert_eq!(code, "VALIDATION");
    assert_eq!(records().await, before + 1);
}

const BY_NEED: &str =
    "query($c: String!, $u: UUID!) { coverage(indicator: $c, orgUnitId: $u, period: \"THIS_YEAR\", groupBy: [NEED]) {
    rows { need numerator denominator value medianDays suppressed } total { numerator denominator medianDays } } }";

#[tokio::test]
async fn referral_indicators_are_recounted_by_need_with_their_median_days() {
    let w = world().await;
    let app = &w.app;
    let bzd = unit(app, "11-BZD").await;
    // (need, sent days ago, due days ago, completed days ago by a record or left open); a record
    // completes each referral of its service, so each need completes at most once here.
    let fixtures: [(&str, &str, i64, i64, Option<i64>); 5] = [
        ("NUTRITION", "VITAMIN_A", 9, 2, Some(3)),
        ("HEALTH", "BREASTFEEDING_COUNSELLING", 5, 4, Some(0)),
        ("HEALTH", "VITAMIN_D", 2, 0, Some(2)),
        ("HEALTH", "MICRONUTRIENT_POWDER", 6, 1, None),
        ("CIVIL_REGISTRATION", "BIRTH_REGISTRATION", 1, -3, None),
    ];
    for (need, service, sent, due, done) in fixtures {
        let i = referral_of(
            &w,
            json!({ "need": need, "serviceTypeCode": service, "toOrgUnitId": bzd, "sentOn": days_ago(sent), "dueBy": days_ago(due) }),
        );
        app.ok_as(&w.referrer, SEND, i).await;
        if let Some(done) = done {
            app.ok_as(&w.referrer, RECORD, json!({ "p": w.child, "t": service, "d": days_ago(done) })).await;
        }
    }
    // The recount: this year's referrals (sent since 1 January), by need.
    let year = &days_ago(0)[..4];
    let this_year: Vec<_> = fixtures.iter().filter(|f| &days_ago(f.2)[..4] == year).collect();
    let median = |mut v: Vec<i64>| -> Value {
        v.sort();
        match v.len() {
            0 => Value::Null,
            n if n % 2 == 1 => json!(v[n / 2] as f64),
            n => json!((v[n / 2 - 1] + v[n / 2]) as f64 / 2.0),
        }
    };
    let days = |f: &&&(&str, &str, i64, i64, Option<i64>)| f.4.map(|d| f.2 - d);
    for (code, counted) in [("REFERRALS_COMPLETED", false), ("REFERRALS_ON_TIME", true)] {
        let got = app.ok(BY_NEED, json!({ "c": code, "u": bzd })).await["coverage"].clone();
        let mut needs: Vec<&str> = this_year.iter().map(|f| f.0).collect();
        needs.sort();
        needs.dedup();
        let mut expected = Vec::new();
        let mut all_days = Vec::new();
        for need in needs {
            // ON_TIME counts those due by today; its numerator, those done by their due day.
            let rows: Vec<_> = this_year.iter().filter(|f| f.0 == need && (!counted || f.3 >= 0)).collect();
            let hits: Vec<_> = rows.iter().filter(|f| f.4.is_some_and(|d| !counted || d >= f.3)).collect();
            let d: Vec<i64> = hits.iter().filter_map(|f| days(f)).collect();
            all_days.extend(d.clone());
            if rows.is_empty() {
                continue;
            }
            expected.push(
                json!({ "need": need, "numerator": hits.len(), "denominator": rows.len(), "medianDays": median(d) }),
            );
        }
        let rows: Vec<Value> = got["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| json!({ "need": r["need"], "numerator": r["numerator"], "denominator": r["denominator"], "medianDays": r["medianDays"] }))
            .collect();
        assert_eq!(rows, expected, "{code}: {got:#}");
        assert_eq!(got["total"]["medianDays"], median(all_days), "{code}: {got:#}");
    }
    // Open today: the two left open, and no other; overdue, the one past its due day.
    let overdue = app.ok(BY_NEED, json!({ "c": "REFERRALS_OVERDUE", "u": bzd })).await["coverage"].clone();
    assert_eq!((overdue["total"]["numerator"].clone(), overdue["total"]["denominator"].clone()), (json!(1), json!(2)));
    assert!(overdue["total"]["medianDays"].is_null(), "not an indicator of a duration");
    // NEED is for indicators counted per referral; analysts get the cells protected, with no
    // median where a cell is withheld.
    let (code, _) = app.err(BY_NEED, json!({ "c": "VITAMIN_A", "u": bzd })).await;
    assert_eq!(code, "VALIDATION");
    app.ok(
        "mutation { createUser(input: { email: \"analyst@test.mn\", displayName: \"A\", password: \"demo-password\", roles: [ANALYST] }) { id } }",
        json!({}),
    )
    .await;
    let analyst = app.login("analyst@test.mn").await;
    let seen = app.ok_as(&analyst, BY_NEED, json!({ "c": "REFERRALS_COMPLETED", "u": bzd })).await["coverage"].clone();
    for row in seen["rows"].as_array().unwrap() {
        assert_eq!(row["suppressed"], true, "cells of 1 to 3 referrals: {seen:#}");
        assert!(row["medianDays"].is_null() && row["numerator"].is_null());
    }
}

#[tokio::test]
async fn a_write_on_a_referral_tells_nothing_of_the_person_and_answers_that_referral_only() {
    let w = world().await;
    let app = &w.app;
    let baby = person(app, &w.home, "Бямба", "FEMALE", &months_ago(3)).await;
    let w = &w;
    let send = |extra: Value| {
        let i = referral_of(w, extra);
        async move { app.ok_as(&w.referrer, SEND, i).await["sendReferral"]["id"].as_str().unwrap().to_string() }
    };
    let early = send(json!({ "personId": baby, "sentOn": days_ago(2) })).await;
    let need_only = send(json!({ "personId": baby, "serviceTypeCode": null, "need": "HEALTH" })).await;
    let ours = send(json!({ "sentOn": days_ago(3) })).await;
    let theirs = send(json!({ "toOrgUnitId": unit(app, "11-BGL").await, "sentOn": days_ago(3) })).await;
    let before = app.count("service_record").await;
    let refused = |token: &String, vars: Value| {
        let token = token.clone();
        async move { app.err_as(Some(&token), RECORD, vars).await }
    };
    // Too young, before the referral, somewhere else, or a need only: refused before the person
    // is looked at, or in words that say nothing of the baby's age.
    let (code, e) = refused(&w.receiver, json!({ "p": baby, "t": "VITAMIN_A", "d": days_ago(0) })).await;
    assert_eq!(code, "VALIDATION");
    assert_eq!(e["extensions"]["fields"][0]["path"], "input.date");
    assert_eq!(
        e["extensions"]["fields"][0]["message"],
        "VITAMIN_A cannot be given to the referred person on this date"
    );
    let (code, e) = refused(&w.receiver, json!({ "p": w.child, "t": "VITAMIN_A", "d": days_ago(4) })).await;
    assert_eq!(
        (code.as_str(), e["extensions"]["fields"][0]["message"].as_str()),
        ("VALIDATION", Some("is before the referral was sent"))
    );
    let elsewhere = "mutation($p: UUID!, $u: UUID!, $d: NaiveDate!) { recordService(input: { serviceTypeCode: \"VITAMIN_A\", personId: $p, date: $d, orgUnitId: $u }) { id } }";
    let (code, _) = app
        .err_as(Some(&w.receiver), elsewhere, json!({ "p": baby, "u": unit(app, "11-BZD").await, "d": days_ago(0) }))
        .await;
    assert_eq!(code, "FORBIDDEN", "the place is checked first: no answer about the baby");
    let (code, e) = refused(&w.receiver, json!({ "p": baby, "t": "VITAMIN_D", "d": days_ago(0) })).await;
    assert_eq!((code.as_str(), e["extensions"]["fields"][0]["path"].as_str()), ("VALIDATION", Some("input.personId")));
    assert_eq!(app.count("service_record").await, before);

    // A receiver who sees the child but may not write for it (view, not capture) serves it on
    // the referral too.
    app.ok(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        json!({ "i": { "email": "viewing@test.mn", "displayName": "V", "password": PASSWORD, "roles": ["PROVIDER"],
                       "captureUnitIds": [w.chingeltei], "viewUnitIds": [w.chingeltei, unit(app, "11-BZD").await] } }),
    )
    .await;
    let viewing = app.login("viewing@test.mn").await;
    app.ok_as(&viewing, RECORD, json!({ "p": w.child, "t": "VITAMIN_A", "d": days_ago(0) })).await;
    // It answers its own referral; the one sent to Bayangol stays open for Bayangol to answer.
    let status = |id: String| async move {
        app.ok("query($id: UUID!) { referral(id: $id) { status } }", json!({ "id": id })).await["referral"]["status"]
            .clone()
    };
    assert_eq!(status(ours).await, "COMPLETED");
    assert_eq!(status(theirs).await, "SENT");
    assert_eq!((status(early).await, status(need_only.clone()).await), (json!("SENT"), json!("SENT")));
    // The need only is answered as such.
    let done = app
        .ok_as(
            &w.receiver,
            ANSWER,
            json!({ "i": { "id": need_only, "to": "COMPLETED", "note": "Seen at the clinic" } }),
        )
        .await;
    assert_eq!(done["answerReferral"]["status"], "COMPLETED");
}

#[tokio::test]
async fn an_analyst_gets_a_median_of_ten_or_more_in_whole_days() {
    let w = world().await;
    let app = &w.app;
    let bzd = unit(app, "11-BZD").await;
    // Fourteen referrals sent three days ago, seven for vitamin A met by a record yesterday (2
    // days) and seven for vitamin D met today (3 days): a median of 2.5.
    for service in ["VITAMIN_A", "VITAMIN_D"].repeat(7) {
        let i = referral_of(
            &w,
            json!({ "serviceTypeCode": service, "toOrgUnitId": bzd, "sentOn": days_ago(3), "dueBy": days_ago(-5) }),
        );
        app.ok_as(&w.referrer, SEND, i).await;
    }
    for (service, day) in [("VITAMIN_A", 1), ("VITAMIN_D", 0)] {
        app.ok_as(&w.referrer, RECORD, json!({ "p": w.child, "t": service, "d": days_ago(day) })).await;
    }
    let q = "query($u: UUID!) { coverage(indicator: \"REFERRALS_COMPLETED\", orgUnitId: $u, period: \"THIS_YEAR\") { total { numerator medianDays } } }";
    let exact = app.ok(q, json!({ "u": bzd })).await["coverage"]["total"].clone();
    if days_ago(3)[..4] != days_ago(0)[..4] {
        // 1 to 3 January: sent last year.
        assert_eq!(exact, json!({ "numerator": 0, "medianDays": null }));
        return;
    }
    assert_eq!(exact, json!({ "numerator": 14, "medianDays": 2.5 }));
    app.ok(
        "mutation { createUser(input: { email: \"analyst@test.mn\", displayName: \"A\", password: \"demo-password\", roles: [ANALYST] }) { id } }",
        json!({}),
    )
    .await;
    let analyst = app.login("analyst@test.mn").await;
    let seen = app.ok_as(&analyst, q, json!({ "u": bzd })).await["coverage"]["total"].clone();
    assert!(seen["numerator"].as_i64().is_some_and(|n| (11..=17).contains(&n)), "{seen:#}");
    assert_eq!(seen["medianDays"], 2.0, "floored: a half would tell the count is even");
}

#[tokio::test]
async fn a_household_referred_as_a_whole_is_served_by_the_receiver() {
    let w = world().await;
    let app = &w.app;
    let i = json!({ "i": { "householdId": w.home, "need": "WASH", "serviceTypeCode": "HOUSEHOLD_SANITATION",
        "toOrgUnitId": w.chingeltei, "reason": "No latrine", "sentOn": days_ago(2) } });
    let id = app.ok_as(&w.referrer, SEND, i).await["sendReferral"]["id"].as_str().unwrap().to_string();
    let seen = app.ok_as(&w.receiver, SEEN, json!({ "id": id })).await["referral"].clone();
    assert_eq!(seen["subject"]["householdAddress"], "Khoroo 4, building 12", "{seen:#}");
    let record = "mutation($h: UUID!, $t: String!, $d: NaiveDate!) { recordService(input: { serviceTypeCode: $t, householdId: $h, date: $d }) { id orgUnit { code } } }";
    // Another household service, or before the referral: refused.
    let (code, e) =
        app.err_as(Some(&w.receiver), record, json!({ "h": w.home, "t": "HOUSEHOLD_WATER", "d": days_ago(0) })).await;
    assert_eq!(
        (code.as_str(), e["extensions"]["fields"][0]["path"].as_str()),
        ("VALIDATION", Some("input.householdId"))
    );
    let (code, _) = app
        .err_as(Some(&w.receiver), record, json!({ "h": w.home, "t": "HOUSEHOLD_SANITATION", "d": days_ago(3) }))
        .await;
    assert_eq!(code, "VALIDATION");
    let done =
        app.ok_as(&w.receiver, record, json!({ "h": w.home, "t": "HOUSEHOLD_SANITATION", "d": days_ago(0) })).await;
    assert_eq!(done["recordService"]["orgUnit"]["code"], "11-CHD");
    let back = app.ok_as(&w.referrer, SEEN, json!({ "id": id })).await["referral"].clone();
    assert_eq!(back["status"], "COMPLETED");
    let hh = app.ok_as(&w.receiver, "query($h: UUID!) { household(id: $h) { id } }", json!({ "h": w.home })).await;
    assert!(hh["household"].is_null(), "the household stays unseen");
}
