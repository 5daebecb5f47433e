//! README.md's GraphQL examples, run as written: every operation of every ```graphql block, in
//! README order, through the HTTP endpoint, as the user its block names, against the demo data.
//!
//! The convention (README, after the `login` example):
//! - `# as <email>` names the demo user who runs the operations that follow, up to the next
//!   `# as`; `# as anonymous` sends no token. Every block must name one before its first operation.
//! - `<id of org unit CODE>` is the id `orgUnitByCode(code: "CODE")` answers; `<id of partner NAME>`
//!   the id of the partner of that name. Any other `<…>` is an error.
//! - `# variables: {…}` after an operation gives its variables, `# answers: {…}` part of its
//!   `data` (JSON, possibly over several comment lines); both may hold placeholders.
//!
//! Any error in an answer fails the test, and so does a claim of the README's text that the demo
//! data does not bear out (the checks after the run).

use cbss_tests::TestApp;
use serde_json::{Value, json};
use std::collections::HashMap;

const README: &str = include_str!("../../../README.md");

/// The creates that take a client `id` (README, "Retrying a single create"): every example of
/// them passes one, so that running it again answers the stored record.
const CREATES: [&str; 13] = [
    "createHousehold",
    "registerPerson",
    "registerPregnancy",
    "recordService",
    "recordGrowthMeasurement",
    "recordImmunisation",
    "recordMilestoneCheck",
    "recordEnrolment",
    "recordAttendance",
    "recordConsent",
    "recordFamilyAssessment",
    "proposeCommunityProject",
    "reportCommunityProject",
];

#[derive(Debug)]
struct Op {
    /// README line of the operation's first line.
    line: usize,
    /// A demo user's email, or "anonymous".
    user: String,
    /// The operation, with the block's fragments.
    document: String,
    variables: Option<Value>,
    answers: Option<Value>,
}

/// The ```graphql blocks: (README line of the first line inside, the lines).
fn graphql_blocks(readme: &str) -> Result<Vec<(usize, Vec<&str>)>, String> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, Vec<&str>)> = None;
    for (i, line) in readme.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match &mut open {
            None if line.trim() == "```graphql" => open = Some((i + 2, Vec::new())),
            None if fence && (line.contains("gql") || line.contains("graphql")) => {
                return Err(format!("README line {}: write a GraphQL example's fence as ```graphql", i + 1));
            }
            None => {}
            Some(_) if fence => blocks.push(open.take().expect("open block")),
            Some((_, lines)) => lines.push(line),
        }
    }
    match open {
        Some((line, _)) => Err(format!("README line {}: a ```graphql block is never closed", line - 1)),
        None => Ok(blocks),
    }
}

/// Brace depth after `line`, starting from `depth`; `Err` for what this parser does not read.
/// Strings and comments are skipped. Also returns where the line's text ended when the depth
/// came back to 0 (to refuse two definitions on one line).
fn scan(line: &str, mut depth: i32) -> Result<(i32, Option<usize>), String> {
    if line.contains("\"\"\"") {
        return Err("block strings are not supported".into());
    }
    let mut in_string = false;
    let mut escaped = false;
    let mut closed_at = None;
    for (i, c) in line.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if closed_at.is_some() && !c.is_whitespace() && c != '#' {
            return Err("one definition per line: text after the closing brace".into());
        }
        match c {
            '#' => break,
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    closed_at = Some(i);
                }
                if depth < 0 {
                    return Err("unbalanced braces".into());
                }
            }
            _ => {}
        }
    }
    if in_string {
        return Err("a string runs past the end of its line".into());
    }
    Ok((depth, closed_at))
}

/// JSON in a `# variables:` / `# answers:` comment: `first` and the comment lines after it, as
/// many as it takes to parse. Returns the value and how many more lines it used.
fn comment_json(first: &str, rest: &[&str]) -> Result<(Value, usize), String> {
    let mut text = first.to_string();
    let mut used = 0;
    loop {
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            return Ok((v, used));
        }
        let Some(next) = rest.get(used).and_then(|l| l.trim().strip_prefix('#')) else {
            let e = serde_json::from_str::<Value>(&text).expect_err("does not parse");
            return Err(format!("the JSON does not parse ({e}): {text}"));
        };
        text.push('\n');
        text.push_str(next);
        used += 1;
    }
}

/// The operations of one block, with their user, variables and expected answers.
fn operations(start: usize, lines: &[&str]) -> Result<Vec<Op>, String> {
    let at = |i: usize| start + i;
    let mut ops: Vec<Op> = Vec::new();
    let mut fragments = Vec::new();
    let mut user: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim();
        if t.is_empty() {
            i += 1;
            continue;
        }
        if let Some(comment) = t.strip_prefix('#') {
            let comment = comment.trim();
            if let Some(who) = comment.strip_prefix("as ") {
                let who = who.split_whitespace().next().unwrap_or_default();
                if who != "anonymous" && !cbss::seed::DEMO_USERS.iter().any(|(email, ..)| *email == who) {
                    return Err(format!("README line {}: `# as` names no demo user: {t}", at(i)));
                }
                user = Some(who.to_string());
            } else {
                for key in ["variables:", "answers:"] {
                    let Some(first) = comment.strip_prefix(key) else { continue };
                    let (value, used) =
                        comment_json(first, &lines[i + 1..]).map_err(|e| format!("README line {}: {e}", at(i)))?;
                    let op = ops
                        .last_mut()
                        .ok_or_else(|| format!("README line {}: `# {key}` before any operation", at(i)))?;
                    let slot = if key == "variables:" { &mut op.variables } else { &mut op.answers };
                    if slot.replace(value).is_some() {
                        return Err(format!("README line {}: a second `# {key}` for one operation", at(i)));
                    }
                    i += used;
                }
            }
            i += 1;
            continue;
        }
        // A definition: its lines up to the brace that closes it.
        let first = i;
        let mut depth = 0;
        loop {
            let line = lines.get(i).ok_or_else(|| format!("README line {}: the definition never closes", at(first)))?;
            let (d, closed) = scan(line, depth).map_err(|e| format!("README line {}: {e}", at(i)))?;
            depth = d;
            i += 1;
            if closed.is_some() && depth == 0 {
                break;
            }
        }
        let text = lines[first..i].join("\n");
        if text.trim_start().starts_with("fragment ") {
            fragments.push(text);
            continue;
        }
        let user = user.clone().ok_or_else(|| {
            format!("README line {}: the ```graphql block names no user (`# as …`) before this operation", at(first))
        })?;
        ops.push(Op { line: at(first), user, document: text, variables: None, answers: None });
    }
    if ops.is_empty() {
        return Err(format!("README line {start}: a ```graphql block without an operation"));
    }
    for op in &mut ops {
        for f in &fragments {
            op.document.push('\n');
            op.document.push_str(f);
        }
    }
    Ok(ops)
}

/// Every operation of the README, in order.
fn readme_operations(readme: &str) -> Result<Vec<Op>, String> {
    let mut all = Vec::new();
    for (start, lines) in graphql_blocks(readme)? {
        all.extend(operations(start, &lines)?);
    }
    Ok(all)
}

#[derive(Debug, PartialEq)]
enum Placeholder {
    OrgUnit(String),
    Partner(String),
}

/// The placeholders of `text`, each with its span; `Err` for one of no known form.
fn placeholders(text: &str) -> Result<Vec<(std::ops::Range<usize>, Placeholder)>, String> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('<').map(|o| o + from) {
        let close = text[open..].find('>').map(|c| c + open).ok_or_else(|| format!("a `<` never closed: {text}"))?;
        let inner = &text[open + 1..close];
        let p = if let Some(code) = inner.strip_prefix("id of org unit ") {
            Placeholder::OrgUnit(code.to_string())
        } else if let Some(name) = inner.strip_prefix("id of partner ") {
            Placeholder::Partner(name.to_string())
        } else {
            return Err(format!("unresolved placeholder <{inner}>"));
        };
        found.push((open..close + 1, p));
        from = close + 1;
    }
    Ok(found)
}

/// Resolves placeholders as the test's administrator, and logs the demo users in.
struct Runner<'a> {
    app: &'a TestApp,
    ids: HashMap<String, String>,
    tokens: HashMap<String, String>,
}

impl Runner<'_> {
    async fn id(&mut self, p: &Placeholder) -> String {
        let key = format!("{p:?}");
        if let Some(id) = self.ids.get(&key) {
            return id.clone();
        }
        let id = match p {
            Placeholder::OrgUnit(code) => {
                let d =
                    self.app.ok("query($c: String!) { orgUnitByCode(code: $c) { id } }", json!({ "c": code })).await;
                d["orgUnitByCode"]["id"].as_str().unwrap_or_else(|| panic!("no org unit {code}")).to_string()
            }
            Placeholder::Partner(name) => {
                let d = self.app.ok("{ partners { id name } }", json!({})).await;
                let partners = d["partners"].as_array().expect("partners");
                let p = partners.iter().find(|p| p["name"] == name.as_str());
                p.unwrap_or_else(|| panic!("no partner {name:?} in {partners:?}"))["id"].as_str().unwrap().to_string()
            }
        };
        self.ids.insert(key, id.clone());
        id
    }

    async fn resolve(&mut self, text: &str, line: usize) -> String {
        let found = placeholders(text).unwrap_or_else(|e| panic!("README line {line}: {e}"));
        let mut out = text.to_string();
        for (span, p) in found.into_iter().rev() {
            let id = self.id(&p).await;
            out.replace_range(span, &id);
        }
        out
    }

    async fn resolve_json(&mut self, v: &Value, line: usize) -> Value {
        let text = self.resolve(&v.to_string(), line).await;
        serde_json::from_str(&text).expect("JSON with ids in place of placeholders")
    }

    async fn token(&mut self, user: &str) -> Option<String> {
        if user == "anonymous" {
            return None;
        }
        if !self.tokens.contains_key(user) {
            let token = self.app.login(user).await;
            self.tokens.insert(user.to_string(), token);
        }
        self.tokens.get(user).cloned()
    }
}

/// Whether `actual` holds everything `expected` says: objects by key, arrays element by element
/// (same length), numbers by value.
fn holds(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|x| holds(x, v))),
        (Value::Array(a), Value::Array(e)) => a.len() == e.len() && a.iter().zip(e).all(|(x, v)| holds(x, v)),
        (Value::Number(a), Value::Number(e)) => a.as_f64() == e.as_f64(),
        _ => actual == expected,
    }
}

/// The answers (`data`) of the operations with the root field `field`, in README order.
fn answers_of<'a>(ran: &'a [Value], field: &str) -> Vec<&'a Value> {
    let found: Vec<&Value> = ran.iter().filter_map(|data| data.get(field)).collect();
    assert!(!found.is_empty(), "no README example answers `{field}` any more: update the checks in readme.rs");
    found
}

fn answer_of<'a>(ran: &'a [Value], field: &str) -> &'a Value {
    let found = answers_of(ran, field);
    assert_eq!(found.len(), 1, "more than one README example answers `{field}`");
    found[0]
}

/// The README's claim about the roll-up's first priority: "`CODE` comes first, area `AREA`".
fn claimed_first_priority(readme: &str) -> (String, String) {
    let at = readme.find("` comes first, area `").expect("the README says which priority comes first");
    let code = readme[..at].rsplit('`').next().unwrap().to_string();
    let area = readme[at + "` comes first, area `".len()..].split('`').next().unwrap().to_string();
    (code, area)
}

#[test]
fn the_readme_convention_is_enforced_by_the_parser() {
    let ops = readme_operations(README).unwrap_or_else(|e| panic!("{e}"));
    assert!(ops.len() >= 11, "the README's examples: {ops:#?}");
    // A block that names no user, a placeholder of no known form, JSON that does not parse.
    let err = operations(1, &["{ me { email } }"]).unwrap_err();
    assert!(err.contains("names no user"), "{err}");
    let err = operations(1, &["# the round", "{ me { email } }"]).unwrap_err();
    assert!(err.contains("names no user"), "{err}");
    let err = operations(1, &["# as admin@test.mn", "{ me { email } }"]).unwrap_err();
    assert!(err.contains("names no demo user"), "{err}");
    assert!(graphql_blocks("```gql\n{ me { email } }\n```\n").unwrap_err().contains("```graphql"));
    assert!(placeholders("{ orgUnit(id: \"<Uvs id>\") { id } }").unwrap_err().contains("<Uvs id>"));
    let err = operations(1, &["# as admin@demo.mn", "query($u: UUID!) { orgUnit(id: $u) { id } }", "# variables: {"])
        .unwrap_err();
    assert!(err.contains("does not parse"), "{err}");
    // Users switch within a block; variables and answers span comment lines; strings may hold braces.
    let ops = operations(
        10,
        &[
            "# as admin@demo.mn — the approval",
            "mutation { a(note: \"} {\") { status } }",
            "# answers: { \"a\":",
            "#   { \"status\": \"APPROVED\" } }",
            "# as anonymous",
            "query Q($x: Int) {",
            "  b(x: $x) { id }",
            "}",
            "# variables: { \"x\": \"<id of org unit 85>\" }",
        ],
    )
    .unwrap();
    assert_eq!(ops.len(), 2);
    assert_eq!(
        (ops[0].line, ops[0].user.as_str(), ops[1].line, ops[1].user.as_str()),
        (11, "admin@demo.mn", 15, "anonymous")
    );
    assert_eq!(ops[0].answers, Some(json!({ "a": { "status": "APPROVED" } })));
    assert_eq!(
        placeholders(&ops[1].variables.as_ref().unwrap().to_string()).unwrap()[0].1,
        Placeholder::OrgUnit("85".into())
    );
}

#[tokio::test]
async fn every_readme_example_runs_as_written_against_the_demo_data() {
    let ops = readme_operations(README).unwrap_or_else(|e| panic!("{e}"));

    // Every create passes a client id.
    for op in &ops {
        let flat = op.document.split_whitespace().collect::<Vec<_>>().join(" ");
        for create in CREATES {
            for (at, _) in flat.match_indices(&format!("{create}(")) {
                assert!(
                    flat[at..].starts_with(&format!("{create}(input: {{ id: \"")),
                    "README line {}: `{create}` without a client id first in its input",
                    op.line
                );
            }
        }
    }

    let app = TestApp::spawn().await;
    app.seed_demo(cbss::seed::DEFAULT_PEOPLE).await;
    let mut runner = Runner { app: &app, ids: HashMap::new(), tokens: HashMap::new() };
    let mut ran = Vec::new();
    for op in &ops {
        let document = runner.resolve(&op.document, op.line).await;
        let variables = match &op.variables {
            Some(v) => runner.resolve_json(v, op.line).await,
            None => json!({}),
        };
        let token = runner.token(&op.user).await;
        let body = app.gql_as(token.as_deref(), &document, variables).await;
        assert!(
            body.get("errors").is_none_or(Value::is_null) && body["data"].is_object(),
            "README line {} as {}: the example fails:\n{document}\n{body:#}",
            op.line,
            op.user
        );
        if let Some(expected) = &op.answers {
            let expected = runner.resolve_json(expected, op.line).await;
            assert!(
                holds(&body["data"], &expected),
                "README line {} as {}: the answer is not what `# answers:` says:\n{:#}\nexpected {expected:#}",
                op.line,
                op.user,
                body["data"]
            );
        }
        ran.push(body["data"].clone());
    }

    // login: a token.
    assert!(answer_of(&ran, "login")["accessToken"].as_str().is_some_and(|t| !t.is_empty()));

    // syncPush: items in any order (the measurement before its child, before its household).
    let push = answer_of(&ran, "syncPush");
    assert_eq!(push["summary"], json!({ "created": 3, "unchanged": 0, "updated": 0, "conflicts": 0, "rejected": 0 }));
    assert!(answer_of(&ran, "changes")["changes"].as_array().is_some_and(|c| !c.is_empty()));

    // coverage: REGISTRY is the default, and the rows add up to the total.
    let coverages = answers_of(&ran, "coverage");
    assert_eq!(coverages.len(), 2, "VITAMIN_A by unit and sex, then referrals by need");
    let (by_need, c) = if coverages[0]["total"].get("medianDays").is_some() {
        (coverages[0], coverages[1])
    } else {
        (coverages[1], coverages[0])
    };
    assert_eq!(
        by_need["total"]["numerator"].as_i64(),
        by_need["rows"].as_array().map(|r| r.iter().filter_map(|x| x["numerator"].as_i64()).sum())
    );
    assert!(by_need["total"].as_object().is_some_and(|t| t.contains_key("medianDays")), "{by_need:#}");
    assert_eq!(c["denominatorSource"], "REGISTRY");
    let rows = c["rows"].as_array().expect("rows");
    assert!(!rows.is_empty());
    for key in ["numerator", "denominator"] {
        let sum: i64 = rows.iter().map(|r| r[key].as_i64().expect("a partner sees no suppression")).sum();
        assert_eq!(Some(sum), c["total"][key].as_i64(), "coverage rows add up to the total's {key}: {c:#}");
    }

    // aggregate, as an analyst: no count from 1 to 4 shows.
    let a = answer_of(&ran, "aggregate");
    assert!(a["total"]["count"].as_i64().is_some_and(|n| n > 0), "{a:#}");
    for r in a["rows"].as_array().expect("rows") {
        match r["count"].as_i64() {
            Some(n) => assert!(r["suppressed"] == false && (n == 0 || n >= 5), "{r}"),
            None => assert_eq!(r["suppressed"], true, "{r}"),
        }
    }

    // The roll-up's first priority is the one the text names.
    let (code, area) = claimed_first_priority(README);
    let s = answer_of(&ran, "assessmentSummary");
    let first = &s["priorities"][0];
    assert_eq!(
        (first["priorityRank"].as_i64(), first["indicator"]["code"].as_str(), first["indicator"]["area"].as_str()),
        (Some(1), Some(code.as_str()), Some(area.as_str())),
        "the README says `{code}` comes first, area `{area}`; the summary answers {s:#}"
    );

    // The project's walk: proposed, approved by the administrator, started by the partner.
    let steps: Vec<&str> =
        answers_of(&ran, "transitionCommunityProject").iter().map(|t| t["status"].as_str().unwrap()).collect();
    assert_eq!(steps, ["APPROVED", "IN_PROGRESS"]);
    let p = answer_of(&ran, "communityProject");
    let walk: Vec<(&str, &str)> = p["transitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .map(|t| (t["fromStatus"].as_str().unwrap_or("-"), t["toStatus"].as_str().unwrap()))
        .collect();
    assert!(walk.ends_with(&[("PROPOSED", "APPROVED"), ("APPROVED", "IN_PROGRESS")]), "{p:#}");
    assert_eq!(p["reports"].as_array().map(Vec::len), Some(1), "{p:#}");

    // The partner's people in Uvs.
    for alias in ["under5", "preschool"] {
        let n = ran.iter().find_map(|data| data.get(alias)).expect(alias)["totalCount"].as_i64();
        assert!(n.is_some_and(|n| n > 0), "no {alias} in Uvs");
    }

    // The researcher's ids are pseudonyms: no person has one.
    let node = &answer_of(&ran, "people")["edges"][0]["node"];
    assert_eq!(node["lifeStage"]["code"], "EARLY_CHILDHOOD");
    let q = "query($id: UUID!) { person(id: $id) { id } }";
    assert_eq!(app.ok(q, json!({ "id": node["id"] })).await["person"], Value::Null, "{node}");

    // The round: most overdue first; the chart holds the measurement recorded above.
    let due = answer_of(&ran, "dueList");
    let overdue: Vec<i64> =
        due["edges"].as_array().expect("edges").iter().map(|e| e["node"]["daysOverdue"].as_i64().unwrap()).collect();
    assert!(!overdue.is_empty() && overdue.windows(2).all(|w| w[0] >= w[1]), "{overdue:?}");
    let points = answer_of(&ran, "person")["growthChart"]["points"].as_array().expect("points").clone();
    assert!(points.iter().any(|p| p["date"] == "2026-11-20" && p["value"].as_f64() == Some(9.1)), "{points:?}");
}
