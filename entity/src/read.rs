//! Reading rows into models faster on PostgreSQL than sea-orm's derived `FromQueryResult`.
//!
//! The derived reader looks every column up by its name twice (a SipHash each), builds the
//! name with a `format!`, and formats an error string for every NULL it meets: on a page of 50
//! people with their households and ~200 service records, reading rows took a third of the
//! server's instructions (callgrind). A model with `by_position!` is read by column position
//! when the row's column at that position has the field's name (as `Entity::find()` and
//! `SELECT t.*` give them), by name otherwise, through sqlx's own typed decoding; SQLite rows
//! and prefixed (joined) reads still go through sea-orm.

use sea_orm::sqlx::postgres::{PgColumn, PgRow};
use sea_orm::sqlx::{Column, Decode, Postgres, Row, Type};
use sea_orm::{DbErr, FromQueryResult, QueryResult, RuntimeErr, TryGetError, TryGetable};

/// A model's own reader of PostgreSQL rows, when it has one (`by_position!`); the default
/// leaves the row to sea-orm.
pub trait FromPgRow: Sized {
    fn from_pg_row(_row: &PgRow) -> Option<Result<Self, sea_orm::sqlx::Error>> {
        None
    }
}

/// `M` read with its `FromPgRow` where it can be, with sea-orm's reader where not: use as
/// `select.into_model::<Read<M>>()`.
pub struct Read<M>(pub M);

impl<M> Read<M> {
    /// The models of rows read.
    pub fn models(rows: Vec<Read<M>>) -> Vec<M> {
        rows.into_iter().map(|r| r.0).collect()
    }
}

impl<M: FromQueryResult + FromPgRow> FromQueryResult for Read<M> {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        if pre.is_empty()
            && let Some(read) = res.try_as_pg_row().and_then(M::from_pg_row)
        {
            return read.map(Read).map_err(|e| DbErr::Type(e.to_string()));
        }
        M::from_query_result(res, pre).map(Read)
    }
}

/// The value of column `name`, expected at `position`.
#[doc(hidden)]
pub fn column<'r, T>(
    row: &'r PgRow,
    columns: &[PgColumn],
    position: usize,
    name: &str,
) -> Result<T, sea_orm::sqlx::Error>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    if columns.get(position).is_some_and(|c| c.name() == name) { row.try_get(position) } else { row.try_get(name) }
}

/// `FromPgRow` for models read by column position, and `Projected` for reading them from
/// projections. The struct literals they build name every field, so a column added to the model
/// and not here does not compile.
macro_rules! by_position {
    ($($model:ident :: $ty:ident { $($field:ident),* $(,)? })*) => {$(
        impl $crate::read::Projected for $crate::$model::$ty {
            fn from_projection(res: &QueryResult) -> Result<Self, DbErr> {
                Ok(Self { $($field: projected_column(res, stringify!($field))?),* })
            }
        }

        impl $crate::read::FromPgRow for $crate::$model::$ty {
            fn from_pg_row(row: &sea_orm::sqlx::postgres::PgRow) -> Option<Result<Self, sea_orm::sqlx::Error>> {
                use sea_orm::sqlx::Row;
                let columns = row.columns();
                let mut position = 0usize;
                let mut next = || {
                    position += 1;
                    position - 1
                };
                Some((|| Ok(Self { $($field: $crate::read::column(row, columns, next(), stringify!($field))?),* }))())
            }
        }
    )*};
}

/// `FromPgRow` left to sea-orm.
macro_rules! by_name {
    ($($model:ident),* $(,)?) => {$(
        impl $crate::read::FromPgRow for $crate::$model::Model {}
    )*};
}

by_position! {
    person::Model {
        id, household_id, org_unit_id, given_name, family_name, search_name, sex, birth_date,
        birth_date_estimated, relation_to_head, registry_number, phone, disability, date_of_death,
        created_at, updated_at, version, change_seq,
    }
    household::Model {
        id, org_unit_id, address, description, dwelling, is_herder, migrant_status, registered_on,
        created_at, updated_at, version, change_seq,
    }
    service_record::Model {
        id, service_type_id, person_id, household_id, pregnancy_id, service_date, org_unit_id,
        provider, recorded_by, note, created_at, updated_at, version, change_seq,
    }
}

/// A model read from a projection: a row holding only the columns an answer selected. The
/// columns it lacks take their type's default, so use it only where nothing reads them (the
/// query planner selects the columns its selected fields declare, `graphql::plan`).
pub struct Projection<M>(pub M);

/// `FromQueryResult` for rows of some of a model's columns (`projected!`).
pub trait Projected: Sized {
    fn from_projection(res: &QueryResult) -> Result<Self, DbErr>;
}

impl<M: Projected> FromQueryResult for Projection<M> {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        debug_assert!(pre.is_empty(), "projections are read unprefixed");
        M::from_projection(res).map(Projection)
    }
}

/// The value of column `name`, or the type's default when the row does not hold the column.
#[doc(hidden)]
pub fn projected_column<T: TryGetable + Default>(res: &QueryResult, name: &str) -> Result<T, DbErr> {
    match T::try_get(res, "", name) {
        Ok(v) => Ok(v),
        Err(TryGetError::DbErr(DbErr::Query(RuntimeErr::SqlxError(e))))
            if matches!(*e, sea_orm::sqlx::Error::ColumnNotFound(_)) =>
        {
            Ok(T::default())
        }
        Err(e) => Err(e.into()),
    }
}

by_name!(
    antigen,
    antigen_dose,
    app_user,
    assessment_action,
    assessment_answer,
    assessment_indicator,
    assessment_instrument,
    attendance,
    audit_log,
    community_project,
    consent,
    enrolment,
    family_assessment,
    growth_measurement,
    hiv_knowledge,
    immunisation,
    indicator,
    life_stage,
    milestone,
    milestone_check,
    org_unit,
    org_unit_group,
    org_unit_group_member,
    partner,
    partner_assignment,
    population_estimate,
    pregnancy,
    pregnancy_child,
    project_budget_line,
    project_indicator,
    project_partner,
    project_reach,
    project_report,
    project_transition,
    protection_case,
    protection_case_action,
    protection_case_step,
    referral,
    referral_step,
    refresh_token,
    schedule_rule,
    service_type,
    tombstone,
    user_role,
    user_scope,
    user_session,
);
