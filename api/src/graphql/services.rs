//! GraphQL types of the service catalogue and of service records with their typed details.

use super::growth::{GrowthClassification, GrowthFlags};
use super::loaders::{Batch, many, one};
use super::milestones::MilestoneCheck;
use super::org_units::OrgUnit;
use super::people::{Household, Person, Pregnancy};
use super::schedule::AntigenDose;
use super::{data, shown_id};
use crate::domain::vocab::{DetailKind, EnrolmentEndReason, GrowthReference, MeasurementPosition, Sector, TargetGroup};
use crate::error::ApiError;
use crate::store::growth::stored;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    antigen, attendance, enrolment, growth_measurement, immunisation, life_stage, service_record, service_type,
};
use std::sync::Arc;
use uuid::Uuid;

pub struct LifeStage(pub life_stage::Model);

#[Object]
impl LifeStage {
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    async fn name_mn(&self) -> &str {
        &self.0.name_mn
    }
    /// AGE, or OPEN_PREGNANCY for the maternal stage.
    async fn criterion(&self) -> &str {
        &self.0.criterion
    }
    async fn min_age_value(&self) -> Option<i32> {
        self.0.min_age_value
    }
    /// DAY, MONTH or YEAR (completed units).
    async fn min_age_unit(&self) -> Option<&str> {
        self.0.min_age_unit.as_deref()
    }
    async fn max_age_value(&self) -> Option<i32> {
        self.0.max_age_value
    }
    async fn max_age_unit(&self) -> Option<&str> {
        self.0.max_age_unit.as_deref()
    }
}

pub struct ServiceType(pub Arc<service_type::Model>);

#[Object]
impl ServiceType {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn sector(&self) -> Result<Sector> {
        Ok(Sector::from_db(&self.0.sector)?)
    }
    async fn life_stage_code(&self) -> Option<&str> {
        self.0.life_stage_code.as_deref()
    }
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    async fn name_mn(&self) -> &str {
        &self.0.name_mn
    }
    /// Youngest eligible age, in completed months.
    async fn min_age_months(&self) -> Option<i32> {
        self.0.min_age_months
    }
    /// Oldest eligible age, in completed months.
    async fn max_age_months(&self) -> Option<i32> {
        self.0.max_age_months
    }
    async fn target_group(&self) -> Result<TargetGroup> {
        Ok(TargetGroup::from_db(&self.0.target_group)?)
    }
    /// What one record counts: a visit, a dose, a session, an enrolment...
    async fn unit(&self) -> &str {
        &self.0.unit
    }
    /// The typed detail recorded with it, and so which mutation records it.
    async fn detail_kind(&self) -> Result<DetailKind> {
        Ok(DetailKind::from_db(&self.0.detail_kind)?)
    }
}

pub struct Antigen(pub antigen::Model);

#[Object]
impl Antigen {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    async fn name_mn(&self) -> &str {
        &self.0.name_mn
    }
    async fn doses(&self) -> i32 {
        self.0.doses
    }
    /// Part of Mongolia's national schedule (false: recordable, never due).
    async fn in_national_schedule(&self) -> bool {
        self.0.in_schedule
    }
    /// The doses as scheduled: due ages, minimum intervals, catch-up limits.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn dose_schedule(&self, ctx: &Context<'_>) -> Result<Vec<AntigenDose>> {
        let mut doses = many(&data(ctx)?.loaders.doses_of_antigen, self.0.id).await?;
        doses.sort_by_key(|d| d.dose_number);
        Ok(doses.into_iter().map(AntigenDose).collect())
    }
}

/// A service record, read whole or, for nested lists whose selection allows it, brief
/// (`service_record::Brief`: without provider, recorder, note and timestamps).
pub struct ServiceRecord {
    row: service_record::Brief,
    /// The columns a brief read leaves out; `None` for a brief row.
    rest: Option<Rest>,
}

struct Rest {
    provider: Option<String>,
    recorded_by: Option<Uuid>,
    note: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<service_record::Model> for ServiceRecord {
    fn from(m: service_record::Model) -> Self {
        let row = service_record::Brief {
            id: m.id,
            service_type_id: m.service_type_id,
            person_id: m.person_id,
            household_id: m.household_id,
            pregnancy_id: m.pregnancy_id,
            service_date: m.service_date,
            org_unit_id: m.org_unit_id,
            version: m.version,
        };
        let rest = Rest { provider: m.provider, recorded_by: m.recorded_by, note: m.note, created_at: m.created_at };
        Self { row, rest: Some(rest) }
    }
}

impl ServiceRecord {
    /// The fields a brief row cannot answer. A new field that reads a column `Brief` lacks
    /// belongs here, and reads it through `rest()`.
    const NOT_BRIEF: [&str; 4] = ["provider", "recordedBy", "note", "createdAt"];

    /// The records of `key` for the list field being resolved: brief when it selects none of
    /// `NOT_BRIEF` (in fragments too; a field under `@skip` counts as selected, which errs on
    /// the whole row).
    pub(super) async fn list(
        ctx: &Context<'_>,
        whole: &DataLoader<Batch<service_record::Model>>,
        brief: &DataLoader<Batch<service_record::Brief>>,
        key: Uuid,
    ) -> Result<Vec<Self>> {
        Self::list_where(ctx, whole, brief, key, |_| true).await
    }

    /// `list`, keeping the records whose pregnancy `keep` accepts (a pregnancy's records are
    /// its mother's that name it).
    pub(super) async fn list_where(
        ctx: &Context<'_>,
        whole: &DataLoader<Batch<service_record::Model>>,
        brief: &DataLoader<Batch<service_record::Brief>>,
        key: Uuid,
        keep: impl Fn(Option<Uuid>) -> bool,
    ) -> Result<Vec<Self>> {
        let look = ctx.look_ahead();
        if Self::NOT_BRIEF.iter().any(|f| look.field(f).exists()) {
            let rows = many(whole, key).await?;
            return Ok(rows.into_iter().filter(|r| keep(r.pregnancy_id)).map(Self::from).collect());
        }
        let rows = many(brief, key).await?;
        Ok(rows.into_iter().filter(|r| keep(r.pregnancy_id)).map(|row| Self { row, rest: None }).collect())
    }

    /// What a brief read leaves out, for a field in `NOT_BRIEF`: a brief row there is a bug,
    /// answered as one rather than with an empty value.
    fn rest(&self) -> Result<&Rest> {
        self.rest.as_ref().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("a brief service record was asked for a field it lacks")).into()
        })
    }
}

#[Object]
impl ServiceRecord {
    /// A stable pseudonym for callers who see data de-identified.
    async fn id(&self, ctx: &Context<'_>) -> Result<Uuid> {
        shown_id(ctx, self.row.id)
    }
    async fn service_type(&self, ctx: &Context<'_>) -> Result<Option<ServiceType>> {
        Ok(data(ctx)?.service_type(self.row.service_type_id).await?.map(ServiceType))
    }
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let Some(p) = self.row.person_id else {
            return Ok(None);
        };
        Ok(one(&data(ctx)?.loaders.person, p).await?.map(Person))
    }
    async fn household(&self, ctx: &Context<'_>) -> Result<Option<Household>> {
        let Some(h) = self.row.household_id else {
            return Ok(None);
        };
        Ok(one(&data(ctx)?.loaders.household, h).await?.map(Household))
    }
    async fn pregnancy(&self, ctx: &Context<'_>) -> Result<Option<Pregnancy>> {
        let Some(p) = self.row.pregnancy_id else {
            return Ok(None);
        };
        Ok(one(&data(ctx)?.loaders.pregnancy, p).await?.map(Pregnancy))
    }
    async fn date(&self) -> NaiveDate {
        self.row.service_date
    }
    /// Where the service was delivered.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        Ok(one(&data(ctx)?.loaders.org_unit, self.row.org_unit_id).await?.map(OrgUnit))
    }
    async fn provider(&self) -> Result<Option<&str>> {
        Ok(self.rest()?.provider.as_deref())
    }
    /// The user who recorded it.
    async fn recorded_by(&self) -> Result<Option<Uuid>> {
        Ok(self.rest()?.recorded_by)
    }
    async fn note(&self) -> Result<Option<&str>> {
        Ok(self.rest()?.note.as_deref())
    }
    /// The growth measurement, for GROWTH_MONITORING records.
    async fn growth_measurement(&self, ctx: &Context<'_>) -> Result<Option<GrowthMeasurement>> {
        Ok(one(&data(ctx)?.loaders.growth_of_record, self.row.id).await?.map(GrowthMeasurement))
    }
    /// The antigen and dose, for immunisation records.
    async fn immunisation(&self, ctx: &Context<'_>) -> Result<Option<Immunisation>> {
        Ok(one(&data(ctx)?.loaders.immunisation_of_record, self.row.id).await?.map(Immunisation))
    }
    /// The institution and its end, for enrolment records (kindergarten, school, ...).
    async fn enrolment(&self, ctx: &Context<'_>) -> Result<Option<Enrolment>> {
        Ok(one(&data(ctx)?.loaders.enrolment_of_record, self.row.id).await?.map(Enrolment))
    }
    /// The period and days attended, for attendance records (SCHOOL_ATTENDANCE, ...).
    async fn attendance(&self, ctx: &Context<'_>) -> Result<Option<Attendance>> {
        Ok(one(&data(ctx)?.loaders.attendance_of_record, self.row.id).await?.map(Attendance))
    }
    /// The milestones checked, for DEVELOPMENT_CHECK records.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn milestone_checks(&self, ctx: &Context<'_>) -> Result<Vec<MilestoneCheck>> {
        Ok(many(&data(ctx)?.loaders.milestone_checks_of_record, self.row.id)
            .await?
            .into_iter()
            .map(MilestoneCheck)
            .collect())
    }
    async fn version(&self) -> i32 {
        self.row.version
    }
    async fn created_at(&self) -> Result<DateTime<Utc>> {
        Ok(self.rest()?.created_at)
    }
}

/// The service record a detail belongs to.
async fn record_of(ctx: &Context<'_>, id: Uuid) -> Result<Option<ServiceRecord>> {
    Ok(one(&data(ctx)?.loaders.record, id).await?.map(ServiceRecord::from))
}

pub struct GrowthMeasurement(pub growth_measurement::Model);

#[Object]
impl GrowthMeasurement {
    /// The id of its service record (a pseudonym for de-identified callers).
    async fn id(&self, ctx: &Context<'_>) -> Result<Uuid> {
        shown_id(ctx, self.0.service_record_id)
    }
    async fn record(&self, ctx: &Context<'_>) -> Result<Option<ServiceRecord>> {
        record_of(ctx, self.0.service_record_id).await
    }
    async fn date(&self, ctx: &Context<'_>) -> Result<Option<NaiveDate>> {
        Ok(one(&data(ctx)?.loaders.record, self.0.service_record_id).await?.map(|r| r.service_date))
    }
    async fn weight_kg(&self) -> Option<f64> {
        self.0.weight_kg
    }
    async fn length_height_cm(&self) -> Option<f64> {
        self.0.length_height_cm
    }
    async fn position(&self) -> Result<Option<MeasurementPosition>> {
        Ok(self.0.position.as_deref().map(MeasurementPosition::from_db).transpose()?)
    }
    async fn muac_mm(&self) -> Option<f64> {
        self.0.muac_mm
    }
    async fn oedema(&self) -> bool {
        self.0.oedema
    }
    /// Age on the day of measurement, in whole days.
    async fn age_days(&self) -> Option<i32> {
        self.0.age_days
    }
    /// The WHO reference of the z-scores (null: the age is outside WHO's references).
    async fn reference(&self) -> Result<Option<GrowthReference>> {
        Ok(stored(&self.0)?.reference)
    }
    /// WHO z-scores computed when the measurement was recorded or corrected (2 decimals).
    async fn weight_for_age(&self) -> Option<f64> {
        self.0.waz
    }
    async fn length_height_for_age(&self) -> Option<f64> {
        self.0.haz
    }
    async fn weight_for_length_height(&self) -> Option<f64> {
        self.0.whz
    }
    async fn bmi_for_age(&self) -> Option<f64> {
        self.0.baz
    }
    async fn classification(&self) -> Result<GrowthClassification> {
        Ok(GrowthClassification::from(&stored(&self.0)?))
    }
    async fn flags(&self) -> Result<GrowthFlags> {
        Ok(GrowthFlags::from(&stored(&self.0)?))
    }
}

pub struct Immunisation(pub immunisation::Model);

#[Object]
impl Immunisation {
    /// The id of its service record (a pseudonym for de-identified callers).
    async fn id(&self, ctx: &Context<'_>) -> Result<Uuid> {
        shown_id(ctx, self.0.service_record_id)
    }
    async fn record(&self, ctx: &Context<'_>) -> Result<Option<ServiceRecord>> {
        record_of(ctx, self.0.service_record_id).await
    }
    async fn date(&self, ctx: &Context<'_>) -> Result<Option<NaiveDate>> {
        Ok(one(&data(ctx)?.loaders.record, self.0.service_record_id).await?.map(|r| r.service_date))
    }
    async fn antigen(&self, ctx: &Context<'_>) -> Result<Option<Antigen>> {
        Ok(one(&data(ctx)?.loaders.antigen, self.0.antigen_id).await?.map(Antigen))
    }
    async fn dose_number(&self) -> i32 {
        self.0.dose_number
    }
}

pub struct Enrolment(pub enrolment::Model);

#[Object]
impl Enrolment {
    /// The id of its service record (a pseudonym for de-identified callers).
    async fn id(&self, ctx: &Context<'_>) -> Result<Uuid> {
        shown_id(ctx, self.0.service_record_id)
    }
    async fn record(&self, ctx: &Context<'_>) -> Result<Option<ServiceRecord>> {
        record_of(ctx, self.0.service_record_id).await
    }
    /// The kindergarten, school or programme.
    async fn institution(&self) -> &str {
        &self.0.institution
    }
    async fn grade(&self) -> Option<&str> {
        self.0.grade.as_deref()
    }
    /// The last day of the enrolment; null while it is open.
    async fn ended_on(&self) -> Option<NaiveDate> {
        self.0.ended_on
    }
    async fn end_reason(&self) -> Result<Option<EnrolmentEndReason>> {
        Ok(self.0.end_reason.as_deref().map(EnrolmentEndReason::from_db).transpose()?)
    }
    /// The attendance recorded for it, period by period.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn attendance(&self, ctx: &Context<'_>) -> Result<Vec<Attendance>> {
        Ok(many(&data(ctx)?.loaders.attendance_of_enrolment, self.0.service_record_id)
            .await?
            .into_iter()
            .map(Attendance)
            .collect())
    }
}

pub struct Attendance(pub attendance::Model);

#[Object]
impl Attendance {
    /// The attendance record's id (a pseudonym for de-identified callers).
    async fn id(&self, ctx: &Context<'_>) -> Result<Uuid> {
        shown_id(ctx, self.0.service_record_id)
    }
    /// The enrolment's id (a pseudonym for de-identified callers).
    async fn enrolment_id(&self, ctx: &Context<'_>) -> Result<Uuid> {
        shown_id(ctx, self.0.enrolment_id)
    }
    async fn period_start(&self) -> NaiveDate {
        self.0.period_start
    }
    async fn period_end(&self) -> NaiveDate {
        self.0.period_end
    }
    async fn days_present(&self) -> i32 {
        self.0.days_present
    }
    async fn days_expected(&self) -> i32 {
        self.0.days_expected
    }
    /// Days present per 100 days expected.
    async fn rate(&self) -> f64 {
        // daysExpected is at least 1 on write
        100.0 * f64::from(self.0.days_present) / f64::from(self.0.days_expected.max(1))
    }
}
