//! SQL for the dimensions answers are broken down by (age band, month, quarter, year), written
//! once for both databases. Column arguments are our own `alias.column` text, never input.

use super::Store;
use crate::access::units_under;
use crate::domain::age;
use crate::domain::age_band::{self, BANDS};
use crate::domain::vocab::OrgUnitLevel;
use chrono::NaiveDate;
use entity::org_unit;
use sea_orm::DbBackend;
use sea_orm::sea_query::{Alias, CaseStatement, Expr, ExprTrait, JoinType, SelectStatement, SimpleExpr};

/// The age band, on `on`, of a person born on `birth`: an exact birthday comparison per band.
pub fn age_band_on(birth: &str, on: NaiveDate) -> SimpleExpr {
    let mut case = CaseStatement::new();
    for b in &BANDS[..BANDS.len() - 1] {
        // Younger than to_months + 1 completed months ⇔ born after that birthday's date.
        let born_after = age::born_on_or_before_for_months(on, b.to_months + 1);
        case = case.case(Expr::cust(birth.to_string()).gt(born_after), Expr::val(b.label));
    }
    case.finally(Expr::val(BANDS[BANDS.len() - 1].label)).into()
}

/// The age band of an age in days (WHO's 30.4375-day month).
pub fn age_band_of_days(days: SimpleExpr) -> SimpleExpr {
    let mut case = CaseStatement::new();
    for b in &BANDS[..BANDS.len() - 1] {
        case = case.case(days.clone().lt(age_band::days_past(b)), Expr::val(b.label));
    }
    case.finally(Expr::val(BANDS[BANDS.len() - 1].label)).into()
}

/// The record key of a row (`domain::cell_key`): the last byte of its UUID column `id`.
pub fn record_key(backend: DbBackend, id: &str) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust(format!("get_byte(uuid_send({id}), 15)")),
        // SQLite holds UUIDs as 16-byte blobs: the last two hex digits, read digit by digit.
        _ => Expr::cust(format!(
            "((instr('0123456789ABCDEF', substr(hex({id}), 31, 1)) - 1) * 16 \
             + instr('0123456789ABCDEF', substr(hex({id}), 32, 1)) - 1)"
        )),
    }
}

/// The key sum of the distinct records whose UUID column is `id` (several rows may name one
/// record: a household's members, a person's service records), modulo 256: the sum of the
/// DISTINCT integers of each id's last 5 bytes, which tell records apart and are each
/// congruent to the record's key modulo 256. Below 2^40 each, so the sum of 8 M of them fits a
/// BIGINT.
pub fn distinct_record_key_sum(backend: DbBackend, id: &str) -> SimpleExpr {
    let tail = match backend {
        DbBackend::Postgres => (11..16)
            .map(|i| format!("get_byte(uuid_send({id}), {i})::bigint * {}", 1i64 << (8 * (15 - i))))
            .collect::<Vec<_>>()
            .join(" + "),
        // SQLite holds UUIDs as 16-byte blobs: the last ten hex digits, read digit by digit.
        _ => (23..33)
            .map(|i| format!("(instr('0123456789ABCDEF', substr(hex({id}), {i}, 1)) - 1) * {}", 1i64 << (4 * (32 - i))))
            .collect::<Vec<_>>()
            .join(" + "),
    };
    Expr::cust(format!("CAST(SUM(DISTINCT {tail}) % 256 AS BIGINT)"))
}

/// Whole days from `earlier` to `later` (two date columns).
pub fn days_between(backend: DbBackend, later: &str, earlier: &str) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust(format!("({later} - {earlier})")),
        _ => Expr::cust(format!("CAST(julianday({later}) - julianday({earlier}) AS INTEGER)")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calendar {
    Month,
    Quarter,
    Year,
}

/// The period label (`2026-07`, `2026Q3`, `2026`) of a date column, as `Period::parse` reads it.
pub fn period_of(backend: DbBackend, date: &str, unit: Calendar) -> SimpleExpr {
    Expr::cust(match (backend, unit) {
        (DbBackend::Postgres, Calendar::Month) => format!("to_char({date}, 'YYYY-MM')"),
        (DbBackend::Postgres, Calendar::Quarter) => format!("to_char({date}, 'YYYY\"Q\"Q')"),
        (DbBackend::Postgres, Calendar::Year) => format!("to_char({date}, 'YYYY')"),
        (_, Calendar::Month) => format!("strftime('%Y-%m', {date})"),
        (_, Calendar::Quarter) => {
            format!("strftime('%Y', {date}) || 'Q' || ((CAST(strftime('%m', {date}) AS INTEGER) + 2) / 3)")
        }
        (_, Calendar::Year) => format!("strftime('%Y', {date})"),
    })
}

impl Store {
    /// The units rows are grouped by: the chosen unit's children, or its units of `level`.
    pub(super) async fn grouping_units(
        &self,
        unit: &org_unit::Model,
        level: Option<OrgUnitLevel>,
    ) -> crate::error::ApiResult<Vec<uuid::Uuid>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let Some(level) = level else {
            return Ok(self.org_unit_children(&[unit.id]).await?.into_iter().map(|c| c.id).collect());
        };
        Ok(org_unit::Entity::find()
            .filter(org_unit::Column::Level.is_in(level.with_equivalent().iter().copied()))
            .filter(Expr::col(org_unit::Column::Id).in_subquery(units_under(&unit.path)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect())
    }

    /// Joins the row's unit as `u` and keeps the rows under `unit` (one range over the
    /// materialised path) that the caller may see. Returns the alias.
    pub(super) fn place(&self, q: &mut SelectStatement, row_unit: SimpleExpr, unit: &org_unit::Model) -> Alias {
        let u = Alias::new("u");
        q.join_as(
            JoinType::InnerJoin,
            org_unit::Entity,
            u.clone(),
            Expr::col((u.clone(), org_unit::Column::Id)).eq(row_unit),
        );
        q.and_where(Expr::col((u.clone(), org_unit::Column::Id)).in_subquery(units_under(&unit.path)));
        if let Some(scope) = self.principal().view.units_condition_at((u.clone(), org_unit::Column::Id)) {
            q.cond_where(scope);
        }
        u
    }
}

/// The unit grouped by whose subtree holds the row's unit `u`, joined as `c`: a child of `unit`,
/// or with `level`, the unit of that level (and its equivalent in the capital) under `unit`.
/// Null for rows placed above it.
pub fn child_unit(
    q: &mut SelectStatement,
    u: &Alias,
    unit: &org_unit::Model,
    level: Option<OrgUnitLevel>,
) -> SimpleExpr {
    let c = Alias::new("c");
    let end = Expr::cust("substr(c.path, 1, length(c.path) - 1) || '0'");
    let col = |k: org_unit::Column| Expr::col((c.clone(), k));
    let which = match level {
        None => col(org_unit::Column::ParentId).eq(unit.id),
        Some(l) => col(org_unit::Column::Level)
            .is_in(l.with_equivalent().iter().copied())
            .and(col(org_unit::Column::Id).in_subquery(units_under(&unit.path))),
    };
    q.join_as(
        JoinType::LeftJoin,
        org_unit::Entity,
        c.clone(),
        which
            .and(Expr::col((u.clone(), org_unit::Column::Path)).gte(col(org_unit::Column::Path)))
            .and(Expr::col((u.clone(), org_unit::Column::Path)).lt(end)),
    );
    col(org_unit::Column::Id)
}
