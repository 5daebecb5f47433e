//! CSV exports for spreadsheets: the same authentication, scope and de-identification as the
//! GraphQL API (the bearer token, then the store), UTF-8 with a header row.

use crate::app::AppState;
use crate::domain::vocab::{CoverageDimension, DenominatorSource};
use crate::error::{ApiError, ApiResult};
use crate::store::{Store, users};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
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
}

/// The caller of a plain HTTP request, from its bearer token.
async fn store_for(state: &AppState, headers: &HeaderMap) -> ApiResult<Store> {
    let token = crate::app::bearer_token(headers).ok_or(ApiError::Unauthenticated)?;
    let principal = users::principal_for_token(&state.db, &state.keys, &token).await?;
    Ok(Store::new(state.db.clone(), principal, state.keys.clone()))
}

fn error_response(e: ApiError) -> Response {
    let status = match e {
        ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
        ApiError::Forbidden => StatusCode::FORBIDDEN,
        ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
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
    match coverage_rows(&state, &headers, q).await {
        Ok((name, body)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            ],
            body,
        )
            .into_response(),
        Err(e) => error_response(e),
    }
}

async fn coverage_rows(state: &AppState, headers: &HeaderMap, q: CoverageParams) -> ApiResult<(String, Vec<u8>)> {
    let store = store_for(state, headers).await?;
    let mut group_by = Vec::new();
    for part in q.group_by.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        group_by.push(
            CoverageDimension::parse(part)
                .ok_or_else(|| ApiError::invalid("groupBy", format!("unknown dimension {part:?}")))?,
        );
    }
    let source = match q.denominator.as_deref() {
        None => DenominatorSource::Registry,
        Some(d) => {
            DenominatorSource::parse(d).ok_or_else(|| ApiError::invalid("denominator", "REGISTRY or POPULATION"))?
        }
    };
    let c = store.coverage(&q.indicator, q.org_unit_id, &q.period, group_by, source).await?;
    let ids: Vec<Uuid> = c.rows.iter().filter_map(|r| r.org_unit_id).collect();
    let units: HashMap<Uuid, entity::org_unit::Model> =
        store.org_units_by_ids(&ids).await?.into_iter().map(|u| (u.id, u)).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| ApiError::Internal(e.into());
    w.write_record([
        "row",
        "indicator",
        "period",
        "reference_date",
        "org_unit_code",
        "org_unit_name_en",
        "org_unit_name_mn",
        "sex",
        "numerator",
        "denominator",
        "value",
        "suppressed",
    ])
    .map_err(csv_err)?;
    let factor = c.indicator.factor as f64;
    let total = std::iter::once((&c.total, Some(&c.org_unit), "total"));
    let rows = c.rows.iter().map(|r| (r, r.org_unit_id.and_then(|id| units.get(&id)).or(Some(&c.org_unit)), "group"));
    for (cell, unit, kind) in rows.chain(total) {
        let shown = |n: i64| if cell.suppressed { String::new() } else { n.to_string() };
        let value = if cell.suppressed || cell.denominator == 0 {
            String::new()
        } else {
            format!("{:.1}", cell.numerator as f64 * factor / cell.denominator as f64)
        };
        let sex = cell.sex.map(|s| s.as_str()).unwrap_or("");
        w.write_record([
            kind,
            c.indicator.code.as_str(),
            c.period.label.as_str(),
            &c.reference_date.to_string(),
            unit.map_or("", |u| u.code.as_str()),
            unit.map_or("", |u| u.name_en.as_str()),
            unit.map_or("", |u| u.name_mn.as_str()),
            sex,
            &shown(cell.numerator),
            &shown(cell.denominator),
            &value,
            if cell.suppressed { "true" } else { "false" },
        ])
        .map_err(csv_err)?;
    }
    let body = w.into_inner().map_err(|e| ApiError::Internal(anyhow::anyhow!("csv: {e}")))?;
    Ok((format!("coverage-{}-{}.csv", c.indicator.code, c.period.label), body))
}
