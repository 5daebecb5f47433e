//! Each recorded dose's verdict (`domain::dose_validity`), kept on its `immunisation` row so that
//! coverage counts valid doses with plain SQL. A person's doses are evaluated together, on every
//! write that can change a verdict: a new dose (a back-filled one can change later ones), a
//! corrected birth date. A record whose verdict changes gets a new version and change number, so
//! devices pull it again. After migrating, `rederive` evaluates every stored dose again when the
//! rules or the evaluation changed since the verdicts were made (`derived_state`).

use super::Store;
use super::write::{execute_all, next_change_seq};
use crate::domain::dose_validity::{self, Recorded, Verdict};
use crate::domain::names;
use crate::domain::schedule::{DoseRule, IMMUNISATION_SERVICE};
use crate::error::ApiResult;
use chrono::NaiveDate;
use entity::{antigen, antigen_dose, derived_state, immunisation, person, service_record, service_type};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, OnConflict, Order, Query, UpdateStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// People evaluated per round of `rederive`.
const REDERIVE_PEOPLE: usize = 500;

/// A dose as stored, with its verdict.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DoseRow {
    pub record_id: Uuid,
    pub antigen_id: Uuid,
    pub date: NaiveDate,
    pub service_type_id: Uuid,
    pub evaluation: Option<String>,
    pub valid_dose_number: Option<i32>,
}

/// The rules every dose is evaluated against (all antigens, in the schedule or not).
pub(crate) struct DoseRules {
    pub rules: Vec<DoseRule>,
    codes: HashMap<Uuid, String>,
    immunisation_type: Option<Uuid>,
}

/// The rule of one dose row of an antigen.
pub(crate) fn dose_rule(a: &antigen::Model, d: &antigen_dose::Model) -> DoseRule {
    DoseRule {
        antigen: a.code.clone(),
        dose: d.dose_number,
        recommended_age_days: d.recommended_age_days,
        min_interval_days: d.min_interval_days,
        max_age_days: d.max_age_days,
        grace_days: d.grace_days,
        min_age_days: d.min_age_days,
        max_valid_age_days: d.max_valid_age_days,
        validity_grace_days: d.validity_grace_days,
        live_injected: a.live_injected,
        in_schedule: a.in_schedule,
    }
}

pub(crate) async fn dose_rules<C: ConnectionTrait>(conn: &C) -> ApiResult<DoseRules> {
    let antigens: HashMap<Uuid, antigen::Model> =
        antigen::Entity::find().all(conn).await?.into_iter().map(|a| (a.id, a)).collect();
    let rules = antigen_dose::Entity::find()
        .all(conn)
        .await?
        .iter()
        .filter_map(|d| Some(dose_rule(antigens.get(&d.antigen_id)?, d)))
        .collect();
    let immunisation_type = service_type::Entity::find()
        .filter(service_type::Column::Code.eq(IMMUNISATION_SERVICE))
        .one(conn)
        .await?
        .map(|s| s.id);
    let codes = antigens.into_values().map(|a| (a.id, a.code)).collect();
    Ok(DoseRules { rules, codes, immunisation_type })
}

/// The doses of these people, each person's in the order they are evaluated: by date, then as
/// recorded.
pub(crate) async fn dose_rows<C: ConnectionTrait>(conn: &C, people: &[Uuid]) -> ApiResult<HashMap<Uuid, Vec<DoseRow>>> {
    let (i, r) = (Alias::new("i"), Alias::new("r"));
    let mut out: HashMap<Uuid, Vec<DoseRow>> = HashMap::new();
    for chunk in people.chunks(1000) {
        let stmt = Query::select()
            .columns([
                (i.clone(), immunisation::Column::ServiceRecordId),
                (i.clone(), immunisation::Column::PersonId),
                (i.clone(), immunisation::Column::AntigenId),
                (i.clone(), immunisation::Column::Evaluation),
                (i.clone(), immunisation::Column::ValidDoseNumber),
            ])
            .columns([
                (r.clone(), service_record::Column::ServiceDate),
                (r.clone(), service_record::Column::ServiceTypeId),
            ])
            .from_as(immunisation::Entity, i.clone())
            .join_as(
                JoinType::InnerJoin,
                service_record::Entity,
                r.clone(),
                Expr::col((r.clone(), service_record::Column::Id))
                    .equals((i.clone(), immunisation::Column::ServiceRecordId)),
            )
            .and_where(Expr::col((i.clone(), immunisation::Column::PersonId)).is_in(chunk.iter().copied()))
            .order_by((r.clone(), service_record::Column::ServiceDate), Order::Asc)
            .order_by((r.clone(), service_record::Column::CreatedAt), Order::Asc)
            .order_by((r.clone(), service_record::Column::Id), Order::Asc)
            .to_owned();
        for row in conn.query_all(&stmt).await? {
            let person: Uuid = row.try_get("", "person_id")?;
            out.entry(person).or_default().push(DoseRow {
                record_id: row.try_get("", "service_record_id")?,
                antigen_id: row.try_get("", "antigen_id")?,
                date: row.try_get("", "service_date")?,
                service_type_id: row.try_get("", "service_type_id")?,
                evaluation: row.try_get("", "evaluation")?,
                valid_dose_number: row.try_get("", "valid_dose_number")?,
            });
        }
    }
    Ok(out)
}

impl DoseRules {
    /// The verdict on each of a person's doses (`rows` in evaluation order).
    pub(crate) fn verdicts(&self, birth: NaiveDate, rows: &[DoseRow]) -> Vec<Verdict> {
        let recorded: Vec<Recorded> = rows
            .iter()
            .map(|r| Recorded {
                antigen: self.codes.get(&r.antigen_id).cloned().unwrap_or_default(),
                date: r.date,
                evaluated: Some(r.service_type_id) == self.immunisation_type,
            })
            .collect();
        dose_validity::evaluate(&self.rules, birth, &recorded)
    }

    /// Evaluates a person's doses: the rows as they then stand, and those whose stored verdict
    /// changed.
    pub(crate) fn reevaluate(&self, birth: NaiveDate, mut rows: Vec<DoseRow>) -> (Vec<DoseRow>, Vec<DoseRow>) {
        let verdicts = self.verdicts(birth, &rows);
        let mut changed = Vec::new();
        for (row, v) in rows.iter_mut().zip(verdicts) {
            let evaluation = Some(v.evaluation.as_str().to_string());
            if row.evaluation != evaluation || row.valid_dose_number != v.valid_dose {
                row.evaluation = evaluation;
                row.valid_dose_number = v.valid_dose;
                changed.push(row.clone());
            }
        }
        (rows, changed)
    }
}

/// Stores changed verdicts, in a write with change number `seq`: each row's verdict, and a new
/// version and change number on their records (the verdict is part of what devices pull).
pub(crate) fn verdict_updates(changed: &[DoseRow], seq: i64) -> Vec<UpdateStatement> {
    if changed.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<UpdateStatement> = changed
        .iter()
        .map(|row| {
            Query::update()
                .table(immunisation::Entity)
                .value(immunisation::Column::Evaluation, row.evaluation.clone())
                .value(immunisation::Column::ValidDoseNumber, row.valid_dose_number)
                .and_where(Expr::col(immunisation::Column::ServiceRecordId).eq(row.record_id))
                .to_owned()
        })
        .collect();
    out.push(
        Query::update()
            .table(service_record::Entity)
            .value(service_record::Column::Version, Expr::col(service_record::Column::Version).add(1))
            .value(service_record::Column::ChangeSeq, seq)
            .and_where(Expr::col(service_record::Column::Id).is_in(changed.iter().map(|r| r.record_id)))
            .to_owned(),
    );
    out
}

/// Re-evaluates a person's doses in a write with change number `seq` (after their birth date
/// changed).
pub(crate) async fn reevaluate_person<C: ConnectionTrait>(conn: &C, person: &person::Model, seq: i64) -> ApiResult<()> {
    let rules = dose_rules(conn).await?;
    let rows = dose_rows(conn, &[person.id]).await?.remove(&person.id).unwrap_or_default();
    Ok(execute_all(conn, verdict_updates(&rules.reevaluate(person.birth_date, rows).1, seq)).await?)
}

/// The name of the dose verdicts in `derived_state`.
const DERIVED: &str = "dose_verdicts";

/// Evaluates every stored dose again when the rules or the evaluation differ from those the
/// stored verdicts were made with (and the first time, for rows stored before evaluation
/// existed): a round of people at a time, each in its own transaction; only changed verdicts are
/// written, under one new change number a round. Returns how many verdicts changed.
pub async fn rederive(db: &DatabaseConnection) -> ApiResult<u64> {
    let rules = dose_rules(db).await?;
    let fingerprint = dose_validity::fingerprint(&rules.rules);
    let stored = derived_state::Entity::find_by_id(DERIVED).one(db).await?;
    if stored.as_ref().is_some_and(|s| s.fingerprint == fingerprint) {
        return Ok(0);
    }
    let mut changed_total = 0;
    let mut after: Option<Uuid> = None;
    loop {
        let mut next = immunisation::Entity::find()
            .select_only()
            .distinct()
            .column(immunisation::Column::PersonId)
            .order_by_asc(immunisation::Column::PersonId)
            .limit(REDERIVE_PEOPLE as u64);
        if let Some(last) = after {
            next = next.filter(immunisation::Column::PersonId.gt(last));
        }
        let people: Vec<Uuid> = next.into_tuple().all(db).await?;
        let Some(last) = people.last().copied() else {
            break;
        };
        after = Some(last);
        // An erased person's birth date is coarsened: their verdicts stay as made on the true one.
        let births: HashMap<Uuid, NaiveDate> = person::Entity::find()
            .select_only()
            .column(person::Column::Id)
            .column(person::Column::BirthDate)
            .filter(person::Column::Id.is_in(people.iter().copied()))
            .filter(person::Column::GivenName.ne(names::ERASED))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let txn = db.begin().await?;
        let mut changed = Vec::new();
        for (person, rows) in dose_rows(&txn, &people).await? {
            if let Some(birth) = births.get(&person) {
                changed.extend(rules.reevaluate(*birth, rows).1);
            }
        }
        if !changed.is_empty() {
            let seq = next_change_seq(&txn).await?;
            execute_all(&txn, verdict_updates(&changed, seq)).await?;
            changed_total += changed.len() as u64;
        }
        txn.commit().await?;
    }
    let state = derived_state::ActiveModel {
        name: Set(DERIVED.into()),
        fingerprint: Set(fingerprint),
        derived_at: Set(chrono::Utc::now()),
    };
    derived_state::Entity::insert(state)
        .on_conflict(
            OnConflict::column(derived_state::Column::Name)
                .update_columns([derived_state::Column::Fingerprint, derived_state::Column::DerivedAt])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(changed_total)
}

impl Store {
    /// The dose rules, read once per batch.
    pub(crate) async fn dose_rules(&self) -> ApiResult<Arc<DoseRules>> {
        if let Some(Some(r)) = self.cached(|c| c.dose_rules.clone()) {
            return Ok(r);
        }
        let rules = Arc::new(dose_rules(self.db()).await?);
        self.cached(|c| c.dose_rules = Some(rules.clone()));
        Ok(rules)
    }

    /// A person's doses; a batch knows those of its people.
    pub(crate) async fn dose_rows_of(&self, person: Uuid) -> ApiResult<Vec<DoseRow>> {
        if let Some(Some(rows)) = self.cached(|c| c.doses.get(&person).cloned()) {
            return Ok(rows);
        }
        Ok(dose_rows(self.db(), &[person]).await?.remove(&person).unwrap_or_default())
    }
}
