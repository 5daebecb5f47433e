//! Growth measurements' WHO z-scores: computed on every write (a new measurement, a correction, a person's corrected birth date or sex), filled in after migrating for rows older than the columns, and read back for charts.

use super::Store;
use super::households::check_version;
use crate::access::Action;
use crate::domain::growth::{self, Stored};
use crate::domain::validate;
use crate::domain::vocab::{GrowthIndicator, GrowthReference, GrowthSeverity, MeasurementPosition, Sex};
use crate::domain::zscore::CurvePoint;
use crate::error::{ApiError, ApiResult, Problems};
use async_graphql::{InputObject, MaybeUndefined};
use chrono::NaiveDate;
use entity::{growth_measurement, person, service_record};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Measurements read per batch when filling in z-scores.
const BACKFILL_BATCH: u64 = 500;

/// Corrected values of a growth measurement: fields left out are kept, null clears them.
#[derive(InputObject)]
#[graphql(name = "CorrectGrowthMeasurementInput")]
pub struct GrowthCorrection {
    /// The measurement's id (its service record's id).
    pub id: Uuid,
    /// The service record's version the client last saw; a different stored version is a CONFLICT.
    pub expected_version: i32,
    /// Weight in kg, 0.2 to 250. Leave out to keep, null to clear.
    #[graphql(default)]
    pub weight_kg: MaybeUndefined<f64>,
    /// Length or height in cm as measured, 20 to 250. Leave out to keep, null to clear.
    #[graphql(default)]
    pub length_height_cm: MaybeUndefined<f64>,
    /// How length/height was measured. Leave out to keep, null to clear.
    #[graphql(default)]
    pub position: MaybeUndefined<MeasurementPosition>,
    /// Mid-upper arm circumference in mm, 50 to 500. Leave out to keep, null to clear.
    #[graphql(default)]
    pub muac_mm: MaybeUndefined<f64>,
    /// Bilateral pitting oedema. Leave out to keep.
    pub oedema: Option<bool>,
}

/// The checks every measurement passes: physically possible values (impossible ones are refused;
/// possible ones outside WHO's tables are stored, with null z-scores), and something measured.
pub(crate) fn check_measurement(
    p: &mut Problems,
    weight_kg: Option<f64>,
    length_height_cm: Option<f64>,
    muac_mm: Option<f64>,
    oedema: bool,
) {
    validate::in_range(p, "input.weightKg", weight_kg, validate::WEIGHT_KG, "kg");
    validate::in_range(p, "input.lengthHeightCm", length_height_cm, validate::LENGTH_HEIGHT_CM, "cm");
    validate::in_range(p, "input.muacMm", muac_mm, validate::MUAC_MM, "mm");
    if weight_kg.is_none() && length_height_cm.is_none() && muac_mm.is_none() && !oedema {
        p.add("input.weightKg", "give at least one measurement");
    }
}

/// The z-scores of a measurement of `person` taken on `date`.
pub(crate) fn compute(
    person: &person::Model,
    date: NaiveDate,
    weight_kg: Option<f64>,
    length_height_cm: Option<f64>,
    position: Option<MeasurementPosition>,
    oedema: bool,
) -> ApiResult<Stored> {
    let sex = Sex::from_db(&person.sex)?;
    let age = (date - person.birth_date).num_days();
    Ok(growth::stored(&growth::input(sex, Some(age), weight_kg, length_height_cm, position, oedema)))
}

/// The z-scores of a stored row, recomputed from its own values.
fn recompute(person: &person::Model, date: NaiveDate, m: &growth_measurement::Model) -> ApiResult<Stored> {
    let position = m.position.as_deref().map(MeasurementPosition::from_db).transpose()?;
    compute(person, date, m.weight_kg, m.length_height_cm, position, m.oedema)
}

/// Writes the z-score columns into a row.
pub(crate) fn set_zscores(row: &mut growth_measurement::ActiveModel, s: &Stored) {
    let text = |v: Option<GrowthSeverity>| v.map(|v| v.as_str().to_string());
    row.age_days = Set(s.age_days.and_then(|a| i32::try_from(a).ok()));
    row.who_reference = Set(s.reference.map(|r| r.as_str().to_string()));
    row.waz = Set(s.weight_for_age);
    row.haz = Set(s.length_height_for_age);
    row.whz = Set(s.weight_for_length_height);
    row.baz = Set(s.bmi_for_age);
    row.flag_waz = Set(s.flag_weight_for_age);
    row.flag_haz = Set(s.flag_length_height_for_age);
    row.flag_whz = Set(s.flag_weight_for_length_height);
    row.flag_baz = Set(s.flag_bmi_for_age);
    row.flag_standing_under_9m = Set(s.standing_under_9_months);
    row.outside_who_range = Set(s.outside_who_range);
    row.stunting = Set(text(s.stunting));
    row.wasting = Set(text(s.wasting));
    row.underweight = Set(text(s.underweight));
    row.thinness = Set(text(s.thinness));
    row.overweight = Set(s.overweight);
    row.obesity = Set(s.obesity);
}

/// The z-score columns of a stored row.
pub fn stored(m: &growth_measurement::Model) -> ApiResult<Stored> {
    let severity = |v: &Option<String>| v.as_deref().map(GrowthSeverity::from_db).transpose();
    Ok(Stored {
        age_days: m.age_days.map(i64::from),
        reference: m.who_reference.as_deref().map(GrowthReference::from_db).transpose()?,
        weight_for_age: m.waz,
        length_height_for_age: m.haz,
        weight_for_length_height: m.whz,
        bmi_for_age: m.baz,
        flag_weight_for_age: m.flag_waz,
        flag_length_height_for_age: m.flag_haz,
        flag_weight_for_length_height: m.flag_whz,
        flag_bmi_for_age: m.flag_baz,
        standing_under_9_months: m.flag_standing_under_9m,
        outside_who_range: m.outside_who_range,
        stunting: severity(&m.stunting)?,
        wasting: severity(&m.wasting)?,
        underweight: severity(&m.underweight)?,
        thinness: severity(&m.thinness)?,
        overweight: m.overweight,
        obesity: m.obesity,
    })
}

impl Store {
    /// Corrects a measurement: re-validates it, recomputes its z-scores and bumps its service
    /// record's version, in one transaction; a stale `expectedVersion` is a CONFLICT.
    pub async fn correct_growth_measurement(&self, input: GrowthCorrection) -> ApiResult<service_record::Model> {
        self.authorize(Action::RecordServices)?;
        let record = self.service_record(input.id).await?;
        let current = growth_measurement::Entity::find_by_id(input.id)
            .one(self.db())
            .await?
            .ok_or(ApiError::not_found("growth measurement"))?;
        let person = self.person(current.person_id).await?;
        let unit = self.known_unit(person.org_unit_id, "input.id").await?;
        self.check_capture(&unit)?;
        self.require_consent_of(person.id, person.household_id).await?;
        check_version(Some(input.expected_version), record.version)?;
        let pick = |change: MaybeUndefined<f64>, old: Option<f64>| match change {
            MaybeUndefined::Value(v) => Some(v),
            MaybeUndefined::Null => None,
            MaybeUndefined::Undefined => old,
        };
        let weight = pick(input.weight_kg, current.weight_kg);
        let length = pick(input.length_height_cm, current.length_height_cm);
        let muac = pick(input.muac_mm, current.muac_mm);
        let position = match input.position {
            MaybeUndefined::Value(p) => Some(p),
            MaybeUndefined::Null => None,
            MaybeUndefined::Undefined => current.position.as_deref().map(MeasurementPosition::from_db).transpose()?,
        };
        let oedema = input.oedema.unwrap_or(current.oedema);
        let mut p = Problems::default();
        check_measurement(&mut p, weight, length, muac, oedema);
        p.into_result()?;
        let z = compute(&person, record.service_date, weight, length, position, oedema)?;
        let before = current.clone();
        let mut row: growth_measurement::ActiveModel = current.into();
        row.weight_kg = Set(weight);
        row.length_height_cm = Set(length);
        row.position = Set(position.map(|p| p.as_str().into()));
        row.muac_mm = Set(muac);
        row.oedema = Set(oedema);
        set_zscores(&mut row, &z);
        let (id, version) = (record.id, record.version);
        self.write(move |txn, w| {
            Box::pin(async move {
                super::services::bump_record(txn, w.seq, id, version, "measurement").await?;
                let after = row.update(txn).await?;
                w.record("UPDATE", "growth_measurement", id, Some(&before), Some(&after));
                service_record::Entity::find_by_id(id).one(txn).await?.ok_or(ApiError::not_found("service record"))
            })
        })
        .await
    }
}

/// Recomputes the z-scores of every measurement of a person whose birth date or sex changed
/// (inside the caller's transaction).
pub(crate) async fn recompute_person<C: ConnectionTrait>(conn: &C, person: &person::Model, seq: i64) -> ApiResult<()> {
    let rows =
        growth_measurement::Entity::find().filter(growth_measurement::Column::PersonId.eq(person.id)).all(conn).await?;
    let dates = record_dates(conn, rows.iter().map(|r| r.service_record_id)).await?;
    // The records' content changed: devices pull them again, with a new version.
    service_record::Entity::update_many()
        .col_expr(service_record::Column::Version, Expr::col(service_record::Column::Version).add(1))
        .col_expr(service_record::Column::ChangeSeq, Expr::value(seq))
        .filter(service_record::Column::Id.is_in(dates.keys().copied()))
        .exec(conn)
        .await?;
    for m in rows {
        let Some(date) = dates.get(&m.service_record_id).copied() else {
            continue;
        };
        let z = recompute(person, date, &m)?;
        let mut row: growth_measurement::ActiveModel = m.into();
        set_zscores(&mut row, &z);
        row.update(conn).await?;
    }
    Ok(())
}

async fn record_dates<C: ConnectionTrait>(
    conn: &C,
    ids: impl Iterator<Item = Uuid>,
) -> ApiResult<HashMap<Uuid, NaiveDate>> {
    let rows: Vec<(Uuid, NaiveDate)> = service_record::Entity::find()
        .filter(service_record::Column::Id.is_in(ids))
        .select_only()
        .column(service_record::Column::Id)
        .column(service_record::Column::ServiceDate)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Fills in the z-scores of measurements stored before they were computed on write (their
/// `age_days` is null); run after migrating, in batches, one transaction a batch. Returns how
/// many rows it filled.
pub async fn backfill(db: &DatabaseConnection) -> ApiResult<u64> {
    let mut filled = 0;
    let mut after = Uuid::nil();
    loop {
        let rows = growth_measurement::Entity::find()
            .filter(growth_measurement::Column::AgeDays.is_null())
            .filter(growth_measurement::Column::ServiceRecordId.gt(after))
            .order_by_asc(growth_measurement::Column::ServiceRecordId)
            .limit(BACKFILL_BATCH)
            .all(db)
            .await?;
        let Some(last) = rows.last() else {
            return Ok(filled);
        };
        after = last.service_record_id;
        let dates = record_dates(db, rows.iter().map(|r| r.service_record_id)).await?;
        let people: HashMap<Uuid, person::Model> = person::Entity::find()
            .filter(person::Column::Id.is_in(rows.iter().map(|r| r.person_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let txn = db.begin().await?;
        for m in rows {
            let (Some(person), Some(date)) = (people.get(&m.person_id), dates.get(&m.service_record_id).copied())
            else {
                continue;
            };
            let z = recompute(person, date, &m)?;
            let mut row: growth_measurement::ActiveModel = m.into();
            set_zscores(&mut row, &z);
            row.update(&txn).await?;
            filled += 1;
        }
        txn.commit().await?;
    }
}

/// One measurement on a growth chart.
pub struct ChartPoint {
    pub measurement_id: Uuid,
    pub date: NaiveDate,
    pub age_days: i64,
    /// Weight (kg), length/height after WHO's +-0.7 cm rule (cm) or BMI (kg/m2).
    pub value: Option<f64>,
    pub z_score: Option<f64>,
    /// WHO's plausibility flag for this indicator.
    pub flagged: bool,
}

/// A child's growth chart for one indicator: the measurements with their stored z-scores, and
/// the WHO curves for the child's sex from birth to the later of `on` and the last measurement.
pub struct Chart {
    pub points: Vec<ChartPoint>,
    pub curves: Vec<CurvePoint>,
}

pub fn chart(
    person: &person::Model,
    indicator: GrowthIndicator,
    measurements: &[growth_measurement::Model],
    records: &[service_record::Model],
    on: NaiveDate,
) -> ApiResult<Chart> {
    let sex = Sex::from_db(&person.sex)?;
    let dates: HashMap<Uuid, NaiveDate> = records.iter().map(|r| (r.id, r.service_date)).collect();
    let mut points = Vec::new();
    for m in measurements {
        let Some(date) = dates.get(&m.service_record_id).copied() else {
            continue;
        };
        let s = stored(m)?;
        let age = s.age_days.unwrap_or((date - person.birth_date).num_days());
        let position = m.position.as_deref().map(MeasurementPosition::from_db).transpose()?;
        let input = growth::input(sex, Some(age), m.weight_kg, m.length_height_cm, position, m.oedema);
        let result = crate::domain::zscore::compute(&input);
        let (z_score, flagged) = growth::chart_z(indicator, &s);
        points.push(ChartPoint {
            measurement_id: m.service_record_id,
            date,
            age_days: age,
            value: growth::chart_value(indicator, &input, &result),
            z_score,
            flagged,
        });
    }
    points.sort_by_key(|p| (p.date, p.measurement_id));
    let until = points.iter().map(|p| p.age_days).chain([(on - person.birth_date).num_days()]).max().unwrap_or(0);
    Ok(Chart { curves: growth::chart_curves(sex, indicator, until), points })
}
