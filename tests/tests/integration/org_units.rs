//! The org-unit tree and its reference data.

use crate::fixtures::unit;
use cbss_tests::TestApp;
use serde_json::json;

#[tokio::test]
async fn the_reference_tree_has_mongolias_regions_aimags_and_districts() {
    let app = TestApp::spawn().await;
    for (level, n) in [("REGION", 5), ("AIMAG", 21), ("CAPITAL", 1), ("DISTRICT", 9)] {
        let d = app
            .ok("query($l: OrgUnitLevel) { orgUnits(level: $l, first: 100) { totalCount } }", json!({ "l": level }))
            .await;
        assert_eq!(d["orgUnits"]["totalCount"], n, "{level}");
    }
    let d = app
        .ok(
            "{ orgUnitByCode(code: \"85\") { nameEn nameMn level parent { code nameEn } ancestors { code } } }",
            json!({}),
        )
        .await;
    let uvs = &d["orgUnitByCode"];
    assert_eq!(uvs["nameEn"], "Uvs");
    assert_eq!(uvs["nameMn"], "Увс");
    assert_eq!(uvs["level"], "AIMAG");
    assert_eq!(uvs["parent"]["code"], "R-W");
    assert_eq!(uvs["ancestors"], json!([{ "code": "MN" }, { "code": "R-W" }]));
}

#[tokio::test]
async fn children_of_ulaanbaatar_are_its_nine_districts() {
    let app = TestApp::spawn().await;
    let ub = unit(&app, "11").await;
    let d = app
        .ok(
            "query($p: UUID) { orgUnits(parentId: $p, first: 50) { totalCount edges { node { level } } } }",
            json!({ "p": ub }),
        )
        .await;
    assert_eq!(d["orgUnits"]["totalCount"], 9);
    assert!(d["orgUnits"]["edges"].as_array().unwrap().iter().all(|e| e["node"]["level"] == "DISTRICT"));
}

#[tokio::test]
async fn the_catalogue_covers_the_life_cycle_chain() {
    let app = TestApp::spawn().await;
    let d = app
        .ok("{ lifeStages { code } serviceTypes { code lifeStageCode detailKind } antigens { code doses } }", json!({}))
        .await;
    let stages: Vec<&str> = d["lifeStages"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect();
    assert_eq!(
        stages,
        ["PREGNANCY", "NEWBORN", "INFANT", "EARLY_CHILDHOOD", "PRE_SCHOOL", "LEARNING_YEARS", "ADOLESCENCE"]
    );
    let types = d["serviceTypes"].as_array().unwrap();
    for code in [
        "ANC_CONTACT",
        "PNC_NEWBORN",
        "IMMUNISATION",
        "GROWTH_MONITORING",
        "VITAMIN_A",
        "KINDERGARTEN_ENROLMENT",
        "SCHOOL_ENROLMENT",
        "HIV_STI_PREVENTION",
        "CHILD_PROTECTION_CASE",
        "HOUSEHOLD_WATER",
    ] {
        assert!(types.iter().any(|t| t["code"] == code), "{code} missing");
    }
    assert!(d["antigens"].as_array().unwrap().iter().any(|a| a["code"] == "PENTA" && a["doses"] == 3));
}

#[tokio::test]
async fn demo_data_puts_people_in_the_focus_areas_and_outside_them() {
    let app = TestApp::spawn().await;
    app.seed_demo(600).await;
    let d = app.ok("{ orgUnitGroups { code members { code level } } }", json!({})).await;
    let groups = d["orgUnitGroups"].as_array().unwrap();
    let soums = groups.iter().find(|g| g["code"] == "FOCUS_SOUMS").unwrap()["members"].as_array().unwrap().len();
    let khoroos = groups.iter().find(|g| g["code"] == "FOCUS_KHOROOS").unwrap()["members"].as_array().unwrap().len();
    assert_eq!((soums, khoroos), (8, 12));
    for code in ["85-ZAVKHAN", "11-BZD-01", "85-NAURAN", "11-BZD-04", "81"] {
        let u = unit(&app, code).await;
        let d = app.ok("query($u: UUID) { people(filter: { orgUnitId: $u }) { totalCount } }", json!({ "u": u })).await;
        assert!(d["people"]["totalCount"].as_i64().unwrap() > 0, "nobody in {code}");
    }
}
