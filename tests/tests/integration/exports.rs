//! CSV exports arrive whole whatever the client accepts (issue 30): every browser asks for gzip
//! or br, and the compression layer reads a streamed list export differently from a plain body.
//! Each export is fetched by clients that decode gzip, br or deflate themselves (reqwest with
//! compression on) and by one that asks for nothing; every body is the same, line for line, with
//! its header, one line per row of the list (lists of several pages, of less than a page and
//! empty) and a complete last line.

use crate::fixtures::unit;
use cbss_tests::TestApp;
use serde_json::json;

/// A client that accepts one encoding (None: none, the body comes as it is) and decodes it.
fn client(encoding: Option<&str>) -> reqwest::Client {
    let plain = reqwest::Client::builder().no_gzip().no_brotli().no_deflate();
    match encoding {
        None => plain,
        Some("gzip") => plain.gzip(true),
        Some("br") => plain.brotli(true),
        Some("deflate") => plain.deflate(true),
        Some(other) => panic!("no client for {other}"),
    }
    .build()
    .expect("client")
}

const ENCODINGS: [Option<&str>; 4] = [Some("gzip"), Some("br"), Some("deflate"), None];

/// The fields of a CSV line, quotes honoured (no cell of these exports spans lines).
fn fields(line: &str) -> usize {
    let mut quoted = false;
    1 + line
        .chars()
        .filter(|&c| {
            if c == '"' {
                quoted = !quoted;
            }
            c == ',' && !quoted
        })
        .count()
}

/// Fetches `path` with `query` through every client and checks each body is whole: `head` as its
/// first line, `rows` lines after it, every line (the last one too) as wide as the header and
/// ended by a newline, and the same bytes whatever the encoding. Returns the body.
async fn whole(app: &TestApp, path: &str, query: &[(&str, &str)], head: &str, rows: usize) -> String {
    let url = format!("{}{path}", app.base);
    // gzip and br are what the server compresses: the response says so (an undecoded fetch).
    for encoding in ["gzip", "br"] {
        let res = app
            .client
            .get(&url)
            .query(query)
            .bearer_auth(&app.admin_token)
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path} {query:?} ({encoding})");
        assert_eq!(res.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some(encoding), "{path}");
        let raw = res.bytes().await;
        assert!(raw.is_ok(), "{path} {query:?}: the {encoding} body was cut short: {raw:?}");
    }
    let mut first: Option<String> = None;
    for encoding in ENCODINGS {
        let name = encoding.unwrap_or("identity");
        let res = client(encoding).get(&url).query(query).bearer_auth(&app.admin_token).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path} {query:?} ({name})");
        let body =
            res.text().await.unwrap_or_else(|e| panic!("{path} {query:?}: the {name} body was cut short: {e:?}"));
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(lines.first().copied(), Some(head), "{path} {query:?} ({name}): the header");
        assert_eq!(lines.len(), rows + 1, "{path} {query:?} ({name}): the header and {rows} rows");
        assert!(body.ends_with('\n'), "{path} {query:?} ({name}): the last line is cut: {:?}", lines.last());
        let width = fields(head);
        if let Some(bad) = lines.iter().position(|l| fields(l) != width) {
            panic!("{path} {query:?} ({name}): line {} is not {width} fields: {:?}", bad + 1, lines[bad]);
        }
        match &first {
            None => first = Some(body),
            Some(first) => assert!(*first == body, "{path} {query:?}: the {name} body differs from the gzip one"),
        }
    }
    first.unwrap()
}

const PEOPLE_HEAD: &str =
    "id,given_name,family_name,sex,birth_date,birth_month,org_unit_code,household_id,disability,date_of_death";
const HOUSEHOLDS_HEAD: &str = "id,org_unit_code,address,dwelling,is_herder,migrant_status,registered_on";

/// The list's size by the GraphQL API, for the same `where`.
async fn total(app: &TestApp, list: &str, cond: &str) -> usize {
    let kind = if list == "people" { "PersonWhere" } else { "HouseholdWhere" };
    let q = format!("query($w: {kind}) {{ {list}(where: $w, first: 1) {{ totalCount }} }}");
    let w: serde_json::Value = serde_json::from_str(cond).unwrap();
    app.ok(&q, json!({ "w": w })).await[list]["totalCount"].as_u64().unwrap() as usize
}

#[tokio::test]
async fn list_exports_are_whole_under_every_encoding_longer_and_shorter_than_a_page() {
    let app = TestApp::spawn().await;
    // More than two pages of 1,000 people; fewer than a page of households.
    app.seed_demo(2_100).await;
    let everyone = total(&app, "people", "null").await;
    assert!(everyone > 2_000, "{everyone} people: more than two pages");
    let body = whole(&app, "/export/people.csv", &[], PEOPLE_HEAD, everyone).await;
    let ids: std::collections::HashSet<&str> = body.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(ids.len(), everyone, "each person once");

    // Fewer than a page, and none at all: the header alone.
    for cond in [r#"{"ageMonths":{"lt":60}}"#, r#"{"name":"no such name"}"#] {
        let n = total(&app, "people", cond).await;
        assert!(n < 1_000, "{cond}: {n}");
        whole(&app, "/export/people.csv", &[("where", cond)], PEOPLE_HEAD, n).await;
    }

    let households = total(&app, "households", "null").await;
    assert!((1..1_000).contains(&households), "{households} households: less than a page");
    whole(&app, "/export/households.csv", &[], HOUSEHOLDS_HEAD, households).await;
    for cond in [r#"{"isHerder":true}"#, r#"{"address":"no such address"}"#] {
        let n = total(&app, "households", cond).await;
        whole(&app, "/export/households.csv", &[("where", cond)], HOUSEHOLDS_HEAD, n).await;
    }
}

#[tokio::test]
async fn table_exports_are_whole_under_every_encoding() {
    let app = TestApp::spawn().await;
    app.seed_demo(600).await;
    let country = unit(&app, "MN").await;

    // Coverage by soum and sex: the rows of the API's answer, then the total.
    let q = "query($u: UUID!) { coverage(indicator: \"VITAMIN_A\", orgUnitId: $u, period: \"LAST_12_MONTHS\",
        groupBy: [ORG_UNIT, SEX], orgUnitLevel: SOUM) { rows { sex } } }";
    let rows = app.ok(q, json!({ "u": country })).await["coverage"]["rows"].as_array().unwrap().len();
    assert!(rows > 20, "{rows} coverage rows");
    let head = "row,indicator,period,reference_date,org_unit_code,org_unit_name_en,org_unit_name_mn,sex,age_band,urban_rural,need,sub_period,numerator,denominator,value,median_days,suppressed";
    let query = [
        ("indicator", "VITAMIN_A"),
        ("orgUnitId", country.as_str()),
        ("period", "LAST_12_MONTHS"),
        ("groupBy", "ORG_UNIT,SEX"),
        ("orgUnitLevel", "SOUM"),
    ];
    let body = whole(&app, "/export/coverage.csv", &query, head, rows + 1).await;
    assert!(body.lines().last().unwrap().starts_with("total,VITAMIN_A,"), "{body}");

    // People by soum, sex and age band.
    let q = "query($u: UUID!) { aggregate(entity: PEOPLE, orgUnitId: $u, groupBy: [ORG_UNIT, SEX, AGE_BAND],
        orgUnitLevel: SOUM, measures: [COUNT]) { rows { sex } } }";
    let rows = app.ok(q, json!({ "u": country })).await["aggregate"]["rows"].as_array().unwrap().len();
    assert!(rows > 100, "{rows} aggregate rows");
    let head = "row,entity,as_of,org_unit_code,org_unit_name_en,org_unit_name_mn,sex,age_band,urban_rural,period,service_type,dwelling,count,suppressed";
    let query = [
        ("entity", "PEOPLE"),
        ("orgUnitId", country.as_str()),
        ("groupBy", "ORG_UNIT,SEX,AGE_BAND"),
        ("orgUnitLevel", "SOUM"),
        ("measures", "COUNT"),
    ];
    let body = whole(&app, "/export/aggregate.csv", &query, head, rows + 1).await;
    assert!(body.lines().last().unwrap().starts_with("total,PEOPLE,"), "{body}");
}
