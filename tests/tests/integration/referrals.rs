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
