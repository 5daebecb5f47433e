//! CSV exports for spreadsheets: the same authentication, scope and de-identification as the
//! GraphQL API (the bearer token, then the store), UTF-8 with a header row. Filters come as the
//! GraphQL input's JSON in a query parameter (`where={"ageMonths":{"lte":59}}`) and are read by
//! the very input types the API uses. Lists are streamed page by page (keyset), so an export of
//! a whole country holds one page in memory; an error before the first byte is a JSON error with
//! its status, one after it cuts the download short.

use crate::app::AppState;
use crate::auth::caller::caller_for_token;
use crate::disclosure;
use crate::domain::vocab::{
    AggregateDimension, AggregateEntity, CoverageDimension, DenominatorSource, Measure, OrgUnitLevel,
};
use crate::error::{ApiError, ApiResult};
use crate::replica::Freshness;
use crate::store::Store;
use crate::store::aggregate::{AggregateCell, AggregateFilter, AggregateQuestion};
use crate::store::filters::{HouseholdWhere, PersonWhere};
use crate::store::{HouseholdFilter, Page, PageRequest, PersonFilter};
use async_graphql::{InputType, Value};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageParams {
    indicator: String,
    org_unit_id: Uuid,
    period: String,
    /// Comma-separated: ORG_UNIT, SEX.
    #[serde(default)]
    group_by: String,
    /// REGISTRY (default) or POPULATION.
    denominator: Option<String>,
    /// Grouped by ORG_UNIT: rows at this level (e.g. AIMAG).
    org_unit_level: Option<String>,
}

fn level_param(text: Option<&str>) -> ApiResult<Option<OrgUnitLevel>> {
    text.map(|l| {
        OrgUnitLevel::parse(l).ok_or_else(|| ApiError::invalid("orgUnitLevel", format!("unknown level {l:?}")))
    })
    .transpose()
}

/// The caller of a plain HTTP request, from its bearer token.
async fn store_for(state: &AppState, headers: &HeaderMap) -> ApiResult<Store> {
    let token = crate::app::bearer_token(headers).ok_or(ApiError::Unauthenticated)?;
    let (principal, session) = caller_for_token(&state.db, &state.keys, &state.principals, &token).await?;
    Ok(state.store(principal).with_session(session))
}

/// The store a list export reads with: a de-identified caller's from the replica (analytics);
/// an identified caller's lists stay on the primary, as in the API, so that a person erased a
/// moment ago is never in them.
async fn list_store(state: &AppState, headers: &HeaderMap) -> ApiResult<Store> {
    let store = store_for(state, headers).await?;
    Ok(if store.identified() { store } else { store.analytics().await })
}

/// A CSV file's name, its bytes, and how fresh it is when read from the replica.
type Csv = (String, Vec<u8>, Option<Freshness>);

fn error_response(e: ApiError) -> Response {
    let status = match e {
        ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
        ApiError::Forbidden => StatusCode::FORBIDDEN,
        ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
        ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = async_graphql::Error::from(e);
    (status, axum::Json(serde_json::json!({ "errors": [body] }))).into_response()
}

/// `GET /export/coverage.csv?indicator=&orgUnitId=&period=&groupBy=ORG_UNIT,SEX`: the rows of
/// `coverage`, then the total.
pub async fn coverage_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CoverageParams>,
) -> Response {
    match crate::app::to_the_end(async move { coverage_rows(&state, &headers, q).await }).await {
        Ok((name, body, fresh)) => csv_response(&name, Body::from(body), fresh),
        Err(e) => error_response(e),
    }
}

/// A CSV download; read from the replica, it says how fresh it is (`X-Data-As-Of`: it holds
/// every change committed before then).
fn csv_response(name: &str, body: Body, fresh: Option<Freshness>) -> Response {
    let mut res = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response();
    if let Some(fresh) = fresh {
        let as_of = fresh.as_of.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let headers = res.headers_mut();
        headers.insert("x-data-source", header::HeaderValue::from_static("replica"));
        if let Ok(v) = header::HeaderValue::from_str(&as_of) {
            headers.insert("x-data-as-of", v);
        }
    }
    res
}

/// Comma-separated enum names.
fn group_by_list<T>(text: &str, parse: fn(&str) -> Option<T>) -> ApiResult<Vec<T>> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        out.push(parse(part).ok_or_else(|| ApiError::invalid("groupBy", format!("unknown dimension {part:?}")))?);
    }
    Ok(out)
}

/// A GraphQL input object given as JSON in a query parameter.
fn input<T: InputType>(json: Option<&str>, param: &str) -> ApiResult<Option<T>> {
    let Some(json) = json else { return Ok(None) };
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| ApiError::invalid(param, format!("is not JSON: {e}")))?;
    let value = async_graphql::Value::from_json(value).map_err(|e| ApiError::invalid(param, e.to_string()))?;
    T::parse(Some(value))
        .map(Some)
        .map_err(|e| ApiError::invalid(param, e.into_server_error(Default::default()).message))
}

/// One CSV line; every CSV the service writes goes through here, so every cell is `safe_cell`.
fn csv_line<I: IntoIterator<Item = S>, S: AsRef<str>>(fields: I) -> ApiResult<Bytes> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(fields.into_iter().map(|f| safe_cell(f.as_ref()).into_owned()))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Bytes::from(w.into_inner().map_err(|e| ApiError::Internal(anyhow::anyhow!("csv: {e}")))?))
}

/// A cell a spreadsheet opens as text, never as a formula (OWASP's CSV-injection advice): text
/// beginning with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`. Numbers
/// (`-1.5`, a z-score) stay numbers.
fn safe_cell(text: &str) -> std::borrow::Cow<'_, str> {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && text.trim().parse::<f64>().map_or(true, |n| !n.is_finite()) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregateParams {
    entity: String,
    org_unit_id: Uuid,
    /// JSON of `AggregateFilter`.
    filter: Option<String>,
    #[serde(default)]
    group_by: String,
    #[serde(default)]
    measures: String,
    as_of: Option<NaiveDate>,
    org_unit_level: Option<String>,
}

/// `GET /export/aggregate.csv?entity=PEOPLE&orgUnitId=&filter={…}&groupBy=ORG_UNIT&measures=COUNT`:
/// the rows of `aggregate`, then the total.
pub async fn aggregate_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AggregateParams>,
) -> Response {
    match crate::app::to_the_end(async move { aggregate_rows(&state, &headers, q).await }).await {
        Ok((name, body, fresh)) => csv_response(&name, Body::from(body), fresh),
        Err(e) => error_response(e),
    }
}

async fn aggregate_rows(state: &AppState, headers: &HeaderMap, q: AggregateParams) -> ApiResult<Csv> {
    let store = store_for(state, headers).await?.analytics().await;
    let entity = AggregateEntity::parse(&q.entity).ok_or_else(|| ApiError::invalid("entity", "unknown entity"))?;
    let measures = q
        .measures
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| Measure::parse(m).ok_or_else(|| ApiError::invalid("measures", format!("unknown measure {m:?}"))))
        .collect::<ApiResult<Vec<_>>>()?;
    let question = AggregateQuestion {
        entity,
        org_unit_id: q.org_unit_id,
        filter: input::<AggregateFilter>(q.filter.as_deref(), "filter")?.unwrap_or_default(),
        group_by: group_by_list(&q.group_by, AggregateDimension::parse)?,
        level: level_param(q.org_unit_level.as_deref())?,
        measures,
        as_of: q.as_of,
        total: true,
    };
    let agg = store.aggregate(question).await?;
    let ids: Vec<Uuid> = agg.rows.iter().filter_map(|r| r.org_unit_id).collect();
    let units: HashMap<Uuid, entity::org_unit::Model> =
        store.org_units_by_ids(&ids).await?.into_iter().map(|u| (u.id, u)).collect();
    let mut body = Vec::new();
    let mut head: Vec<String> = [
        "row",
        "entity",
        "as_of",
        "org_unit_code",
        "org_unit_name_en",
        "org_unit_name_mn",
        "sex",
        "age_band",
        "urban_rural",
        "period",
        "service_type",
        "dwelling",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    head.extend(agg.measures.iter().map(|m| m.as_str().to_ascii_lowercase()));
    head.push("suppressed".into());
    body.extend_from_slice(&csv_line(&head)?);
    let total = agg.total.iter().map(|t| (t, Some(&agg.org_unit), "total"));
    let rows =
        agg.rows.iter().map(|r| (r, r.org_unit_id.and_then(|id| units.get(&id)).or(Some(&agg.org_unit)), "group"));
    for (cell, unit, kind) in rows.chain(total) {
        let mut line: Vec<String> = vec![
            kind.into(),
            agg.entity.as_str().into(),
            agg.as_of.to_string(),
            unit.map_or(String::new(), |u| u.code.clone()),
            unit.map_or(String::new(), |u| u.name_en.clone()),
            unit.map_or(String::new(), |u| u.name_mn.clone()),
            cell.sex.map_or("", |s| s.as_str()).into(),
            cell.age_band.unwrap_or("").into(),
            cell.settlement.map_or("", |s| s.as_str()).into(),
            cell.period.clone().unwrap_or_default(),
            cell.service_type.clone().unwrap_or_default(),
            cell.dwelling.clone().unwrap_or_default(),
        ];
        line.extend(agg.measures.iter().map(|m| measure_text(cell, *m)));
        line.push(cell.suppressed.to_string());
        body.extend_from_slice(&csv_line(&line)?);
    }
    Ok((format!("aggregate-{}.csv", agg.entity.as_str().to_ascii_lowercase()), body, store.freshness()))
}

fn measure_text(c: &AggregateCell, m: Measure) -> String {
    if c.suppressed {
        return String::new();
    }
    let f = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.2}"));
    match m {
        Measure::Count => c.count.to_string(),
        Measure::People => c.people.map_or(String::new(), |n| n.to_string()),
        Measure::Households => c.households.map_or(String::new(), |n| n.to_string()),
        Measure::MeanHaz => f(c.mean_haz),
        Measure::MeanWhz => f(c.mean_whz),
        Measure::MeanWaz => f(c.mean_waz),
    }
}

#[derive(serde::Deserialize)]
pub struct ListParams {
    /// JSON of the list's `filter` input.
    filter: Option<String>,
    /// JSON of the list's `where` input.
    #[serde(rename = "where")]
    cond: Option<String>,
}

/// Rows of a streamed list export, one page at a time.
const EXPORT_PAGE: usize = 1000;

/// Streams `pages` (a page after a cursor) as CSV lines under `head`, `line` per item.
fn stream_csv<M, F, Fut>(
    (name, fresh): (&str, Option<Freshness>),
    head: &[&str],
    first: Page<M>,
    id: fn(&M) -> Uuid,
    line: impl Fn(&M) -> Vec<String> + Send + 'static,
    next: F,
) -> ApiResult<Response>
where
    M: Send + 'static,
    F: Fn(Uuid) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ApiResult<Page<M>>> + Send,
{
    let head = csv_line(head)?;
    let state = (Some(first), None::<Uuid>, Some(head), line, next);
    let stream = futures_util::stream::unfold(state, move |(page, after, head, line, next)| async move {
        if let Some(head) = head {
            return Some((Ok::<_, std::io::Error>(head), (page, after, None, line, next)));
        }
        let page = match page {
            Some(p) => p,
            None => {
                let after = after?;
                match next(after).await {
                    Ok(p) => p,
                    Err(e) => return Some((Err(std::io::Error::other(e.to_string())), (None, None, None, line, next))),
                }
            }
        };
        let mut chunk = Vec::new();
        for m in &page.items {
            match csv_line(line(m)) {
                Ok(b) => chunk.extend_from_slice(&b),
                Err(e) => return Some((Err(std::io::Error::other(e.to_string())), (None, None, None, line, next))),
            }
        }
        let after = if page.has_next { page.items.last().map(id) } else { None };
        if chunk.is_empty() && after.is_none() {
            return None;
        }
        Some((Ok(Bytes::from(chunk)), (None, after, None, line, next)))
    });
    // Fused: once ended it stays ended. The compression layer (tower-http's `BodyIntoStream`,
    // gzip and br) polls the body once more after its last `None`, looking for trailers, and an
    // unfused `unfold` panics there ("must not be polled after it returned `Poll::Ready(None)`"):
    // the connection dropped with the last pages still unsent.
    Ok(csv_response(name, Body::from_stream(futures_util::StreamExt::fuse(stream)), fresh))
}

/// A column of a list's CSV: its header and the schema field it shows, whose disclosure class
/// decides what a de-identified caller gets in it.
pub type Column = (&'static str, &'static str, &'static str);

pub const PEOPLE_COLUMNS: &[Column] = &[
    ("id", "Person", "id"),
    ("given_name", "Person", "givenName"),
    ("family_name", "Person", "familyName"),
    ("sex", "Person", "sex"),
    ("birth_date", "Person", "birthDate"),
    ("birth_month", "Person", "birthMonth"),
    ("org_unit_code", "OrgUnit", "code"),
    ("household_id", "Household", "id"),
    ("disability", "Person", "disability"),
    ("date_of_death", "Person", "dateOfDeath"),
];

pub const HOUSEHOLD_COLUMNS: &[Column] = &[
    ("id", "Household", "id"),
    ("org_unit_code", "OrgUnit", "code"),
    ("address", "Household", "address"),
    ("dwelling", "Household", "dwelling"),
    ("is_herder", "Household", "isHerder"),
    ("migrant_status", "Household", "migrantStatus"),
    ("registered_on", "Household", "registeredOn"),
];

/// Refuses a list's export to a caller who may not read its rows (the class of the connection's
/// `nodes`, which the export's lines are).
fn rows_readable(store: &Store, connection: &str) -> ApiResult<()> {
    let class = disclosure::output(connection, "nodes").unwrap_or(disclosure::Out::Records);
    disclosure::readable(store.reader(), class)
}

fn heads(columns: &[Column]) -> Vec<&'static str> {
    columns.iter().map(|(head, _, _)| *head).collect()
}

/// One line's cells, each as its column's field shows it to the caller (`disclosure`): a
/// withheld value is an empty cell.
fn cells<const N: usize>(store: &Store, columns: &[Column], values: [Value; N]) -> Vec<String> {
    debug_assert_eq!(columns.len(), N);
    columns
        .iter()
        .zip(values)
        .map(|((_, ty, field), v)| {
            let v = if store.identified() {
                v
            } else {
                let class = disclosure::class_of(ty, field);
                disclosure::shown(class, v, |id| store.public_id(id))
            };
            match v {
                Value::Null => String::new(),
                Value::String(s) => s,
                other => other.to_string(),
            }
        })
        .collect()
}

/// `GET /export/people.csv?filter={…}&where={…}`: every person the list query would give, in id
/// order; names, exact birth dates and ids as the API shows them to this caller.
pub async fn people_csv(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<ListParams>) -> Response {
    match people_stream(&state, &headers, q).await {
        Ok(r) => r,
        Err(e) => error_response(e),
    }
}

async fn people_stream(state: &AppState, headers: &HeaderMap, q: ListParams) -> ApiResult<Response> {
    let store = std::sync::Arc::new(list_store(state, headers).await?);
    rows_readable(&store, "PersonConnection")?;
    let fresh = store.freshness();
    let filter: PersonFilter = input(q.filter.as_deref(), "filter")?.unwrap_or_default();
    let cond: Option<PersonWhere> = input(q.cond.as_deref(), "where")?;
    let page = |after: Option<Uuid>| PageRequest { first: EXPORT_PAGE, after };
    let first = store.people(filter.clone(), cond.clone(), &page(None)).await?;
    let units: HashMap<Uuid, String> = store.unit_codes().await?;
    let shown = store.clone();
    let line = move |p: &entity::person::Model| {
        let unit = units.get(&p.org_unit_id).cloned();
        cells(
            &shown,
            PEOPLE_COLUMNS,
            [
                Value::String(p.id.to_string()),
                Value::String(p.given_name.clone()),
                Value::String(p.family_name.clone()),
                Value::String(p.sex.clone()),
                Value::String(p.birth_date.to_string()),
                Value::String(crate::domain::age::birth_month(p.birth_date)),
                unit.map_or(Value::Null, Value::String),
                p.household_id.map_or(Value::Null, |h| Value::String(h.to_string())),
                p.disability.clone().map_or(Value::Null, Value::String),
                p.date_of_death.map_or(Value::Null, |d| Value::String(d.to_string())),
            ],
        )
    };
    let next = move |after: Uuid| {
        let (store, filter, cond) = (store.clone(), filter.clone(), cond.clone());
        async move { store.people(filter, cond, &page(Some(after))).await }
    };
    stream_csv(("people.csv", fresh), &heads(PEOPLE_COLUMNS), first, |p| p.id, line, next)
}

/// `GET /export/households.csv?filter={…}&where={…}`: every household the list query would give.
pub async fn households_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListParams>,
) -> Response {
    match households_stream(&state, &headers, q).await {
        Ok(r) => r,
        Err(e) => error_response(e),
    }
}

async fn households_stream(state: &AppState, headers: &HeaderMap, q: ListParams) -> ApiResult<Response> {
    let store = std::sync::Arc::new(list_store(state, headers).await?);
    rows_readable(&store, "HouseholdConnection")?;
    let fresh = store.freshness();
    let filter: HouseholdFilter = input(q.filter.as_deref(), "filter")?.unwrap_or_default();
    let cond: Option<HouseholdWhere> = input(q.cond.as_deref(), "where")?;
    let page = |after: Option<Uuid>| PageRequest { first: EXPORT_PAGE, after };
    let first = store.households(filter.clone(), cond.clone(), &page(None)).await?;
    let units: HashMap<Uuid, String> = store.unit_codes().await?;
    let shown = store.clone();
    let line = move |h: &entity::household::Model| {
        let unit = units.get(&h.org_unit_id).cloned();
        cells(
            &shown,
            HOUSEHOLD_COLUMNS,
            [
                Value::String(h.id.to_string()),
                unit.map_or(Value::Null, Value::String),
                h.address.clone().map_or(Value::Null, Value::String),
                Value::String(h.dwelling.clone()),
                Value::Boolean(h.is_herder),
                Value::String(h.migrant_status.clone()),
                Value::String(h.registered_on.to_string()),
            ],
        )
    };
    let next = move |after: Uuid| {
        let (store, filter, cond) = (store.clone(), filter.clone(), cond.clone());
        async move { store.households(filter, cond, &page(Some(after))).await }
    };
    stream_csv(("households.csv", fresh), &heads(HOUSEHOLD_COLUMNS), first, |h| h.id, line, next)
}

async fn coverage_rows(state: &AppState, headers: &HeaderMap, q: CoverageParams) -> ApiResult<Csv> {
    let store = store_for(state, headers).await?.analytics().await;
    let source = match q.denominator.as_deref() {
        None => DenominatorSource::Registry,
        Some(d) => {
            DenominatorSource::parse(d).ok_or_else(|| ApiError::invalid("denominator", "REGISTRY or POPULATION"))?
        }
    };
    let group_by = group_by_list(&q.group_by, CoverageDimension::parse)?;
    let level = level_param(q.org_unit_level.as_deref())?;
    let c = store.coverage(&q.indicator, q.org_unit_id, &q.period, group_by, level, source, true).await?;
    let ids: Vec<Uuid> = c.rows.iter().filter_map(|r| r.org_unit_id).collect();
    let units: HashMap<Uuid, entity::org_unit::Model> =
        store.org_units_by_ids(&ids).await?.into_iter().map(|u| (u.id, u)).collect();
    let mut body = csv_line([
        "row",
        "indicator",
        "period",
        "reference_date",
        "org_unit_code",
        "org_unit_name_en",
        "org_unit_name_mn",
        "sex",
        "age_band",
        "urban_rural",
        "need",
        "sub_period",
        "numerator",
        "denominator",
        "value",
        "median_days",
        "suppressed",
    ])?
    .to_vec();
    let factor = c.indicator.factor as f64;
    let total = c.total.iter().map(|t| (t, Some(&c.org_unit), "total"));
    let rows = c.rows.iter().map(|r| (r, r.org_unit_id.and_then(|id| units.get(&id)).or(Some(&c.org_unit)), "group"));
    for (cell, unit, kind) in rows.chain(total) {
        let shown = |n: i64| if cell.suppressed { String::new() } else { n.to_string() };
        let value = if cell.suppressed || cell.denominator == 0 {
            String::new()
        } else {
            format!("{:.1}", cell.numerator as f64 * factor / cell.denominator as f64)
        };
        let sex = cell.sex.map(|s| s.as_str()).unwrap_or("");
        body.extend_from_slice(&csv_line([
            kind,
            c.indicator.code.as_str(),
            c.period.label.as_str(),
            &c.reference_date.to_string(),
            unit.map_or("", |u| u.code.as_str()),
            unit.map_or("", |u| u.name_en.as_str()),
            unit.map_or("", |u| u.name_mn.as_str()),
            sex,
            cell.age_band.unwrap_or(""),
            cell.settlement.map_or("", |s| s.as_str()),
            cell.need.map_or("", |n| n.as_str()),
            cell.period.as_deref().unwrap_or(""),
            &shown(cell.numerator),
            &shown(cell.denominator),
            &value,
            &cell.median_days.map_or(String::new(), |m| m.to_string()),
            if cell.suppressed { "true" } else { "false" },
        ])?);
    }
    Ok((format!("coverage-{}-{}.csv", c.indicator.code, c.period.label), body, store.freshness()))
}

#[cfg(test)]
mod tests {
    use super::safe_cell;

    #[test]
    fn formulas_are_shown_as_text_and_numbers_stay_numbers() {
        for risky in ["=HYPERLINK(\"http://x\",\"y\")", "+cmd", "-1+1|calc", "@SUM(A1)", "\tx", "\rx", "-inf", "-"] {
            assert_eq!(safe_cell(risky), format!("'{risky}"), "{risky:?}");
        }
        for plain in ["Ананд", "-1.5", "+3", "-2", "12", "", "a=b", "2026-07"] {
            assert_eq!(safe_cell(plain), plain, "{plain:?}");
        }
    }
}
