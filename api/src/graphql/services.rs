//! GraphQL types of the service catalogue and of service records with their typed details.

use super::growth::{GrowthClassification, GrowthFlags};
use super::loaders::{Batch, many, one};
use super::milestones::MilestoneCheck;
use super::org_units::OrgUnit;
use super::people::{Household, Person, Pregnancy};
use super::schedule::AntigenDose;
use super::{data, node_id};
use crate::domain::school;
use crate::domain::vocab::{
    DetailKind, DoseEvaluation, EnrolmentEndReason, GrowthReference, KnowledgeAnswer, MeasurementPosition, Sector,
    TargetGroup,
};
use crate::store::growth::stored;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    antigen, attendance, enrolment, growth_measurement, hiv_knowledge, immunisation, life_stage, service_record,
    service_type,
};
use std::sync::Arc;
use uuid::Uuid;

pub struct LifeStage(pub life_stage::Model);

/// A stage of the life-cycle chain with its age bounds (reference data): stages are derived from
/// birth dates and open pregnancies, never typed in.
#[Object]
impl LifeStage {
    /// The stage's code: PREGNANCY, NEWBORN, INFANT, EARLY_CHILDHOOD, PRE_SCHOOL, LEARNING_YEARS or
    /// ADOLESCENCE.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// The name in English.
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    /// The name in Mongolian.
    async fn name_mn(&self) -> &str {
        &self.0.name_mn
    }
    /// AGE, or OPEN_PREGNANCY for the maternal stage.
    async fn criterion(&self) -> &str {
        &self.0.criterion
    }
    /// The youngest age in the stage, in `minAgeUnit` (completed units); null for the maternal
    /// stage.
    async fn min_age_value(&self) -> Option<i32> {
        self.0.min_age_value
    }
    /// DAY, MONTH or YEAR (completed units).
    async fn min_age_unit(&self) -> Option<&str> {
        self.0.min_age_unit.as_deref()
    }
    /// The oldest age in the stage, in `maxAgeUnit` (completed units); null for the maternal stage.
    async fn max_age_value(&self) -> Option<i32> {
        self.0.max_age_value
    }
    /// DAY, MONTH or YEAR (completed units).
    async fn max_age_unit(&self) -> Option<&str> {
        self.0.max_age_unit.as_deref()
    }
}

pub struct ServiceType(pub Arc<service_type::Model>);

/// A service of the catalogue (reference data): its sector and life stage, who it is for, at what
/// ages, and the typed detail it is recorded with.
#[Object]
impl ServiceType {
    /// The service type's id.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// The service's code, e.g. VITAMIN_A or ANC_CONTACT.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// The sector it belongs to.
    async fn sector(&self) -> Result<Sector> {
        Ok(Sector::from_db(&self.0.sector)?)
    }
    /// The life stage it belongs to; null for services of no one stage (child protection, parent
    /// training, household services).
    async fn life_stage_code(&self) -> Option<&str> {
        self.0.life_stage_code.as_deref()
    }
    /// The name in English.
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    /// The name in Mongolian.
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
    /// Who it is for; checked, with the eligible ages, when a record is written.
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

/// An immunisation antigen (reference data) with its doses in Mongolia's national schedule.
#[Object]
impl Antigen {
    /// The antigen's id.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// The antigen's code, e.g. BCG, PENTA or MMR (what `recordImmunisation` takes).
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// The name in English.
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    /// The name in Mongolian.
    async fn name_mn(&self) -> &str {
        &self.0.name_mn
    }
    /// How many doses it has: dose numbers run from 1 to this.
    async fn doses(&self) -> i32 {
        self.0.doses
    }
    /// Part of Mongolia's national schedule (false: recordable, never due).
    async fn in_national_schedule(&self) -> bool {
        self.0.in_schedule
    }
    /// A live injected vaccine: one given 1 to 27 days after another one does not count.
    async fn live_injected(&self) -> bool {
        self.0.live_injected
    }
    /// The doses as scheduled: due ages, minimum intervals, catch-up limits.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn dose_schedule(&self, ctx: &Context<'_>) -> Result<Vec<AntigenDose>> {
        let mut doses = many(&data(ctx)?.loaders.doses_of_antigen, self.0.id).await?;
        doses.sort_by_key(|d| d.dose_number);
        Ok(doses.into_iter().map(AntigenDose).collect())
    }
}

pub struct ServiceRecord(pub service_record::Model);

impl From<service_record::Model> for ServiceRecord {
    fn from(m: service_record::Model) -> Self {
        Self(m)
    }
}

impl ServiceRecord {
    /// The records of `key` for the list field being resolved.
    pub(super) async fn list(whole: &DataLoader<Batch<service_record::Model>>, key: Uuid) -> Result<Vec<Self>> {
        Self::list_where(whole, key, |_| true).await
    }

    /// `list`, keeping the records whose pregnancy `keep` accepts (a pregnancy's records are
    /// its mother's that name it).
    pub(super) async fn list_where(
        whole: &DataLoader<Batch<service_record::Model>>,
        key: Uuid,
        keep: impl Fn(Option<Uuid>) -> bool,
    ) -> Result<Vec<Self>> {
        let rows = many(whole, key).await?;
        Ok(rows.iter().filter(|r| keep(r.pregnancy_id)).cloned().map(Self).collect())
    }
}

/// A service given to a person or a household on a day, with its typed detail where its type has
/// one (growth measurement, immunisation, enrolment, attendance, milestones). Its id is a pseudonym
/// for callers who see data de-identified.
#[Object]
impl ServiceRecord {
    /// The record's id; a stable pseudonym for callers who see data de-identified.
    pub(super) async fn id(&self) -> Result<ID> {
        node_id(self.0.id)
    }
    /// What was given.
    async fn service_type(&self, ctx: &Context<'_>) -> Result<Option<ServiceType>> {
        Ok(data(ctx)?.service_type(self.0.service_type_id).await?.map(ServiceType))
    }
    /// The person served; null for a household service.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let Some(p) = self.0.person_id else {
            return Ok(None);
        };
        Ok(one(&data(ctx)?.loaders.person, p).await?.map(Person))
    }
    /// The household served, for household services (water, sanitation, garden); null for a
    /// person's.
    async fn household(&self, ctx: &Context<'_>) -> Result<Option<Household>> {
        let Some(h) = self.0.household_id else {
            return Ok(None);
        };
        Ok(one(&data(ctx)?.loaders.household, h).await?.map(Household))
    }
    /// The pregnancy a maternal service belongs to; null for other services.
    async fn pregnancy(&self, ctx: &Context<'_>) -> Result<Option<Pregnancy>> {
        let Some(p) = self.0.pregnancy_id else {
            return Ok(None);
        };
        Ok(one(&data(ctx)?.loaders.pregnancy, p).await?.map(Pregnancy))
    }
    /// The day it was given (for attendance, the period's last day).
    async fn date(&self) -> NaiveDate {
        self.0.service_date
    }
    /// Where the service was delivered.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        Ok(one(&data(ctx)?.loaders.org_unit, self.0.org_unit_id).await?.map(OrgUnit))
    }
    /// Who gave it (a facility or a worker), as recorded; null when not given.
    async fn provider(&self) -> Option<&str> {
        self.0.provider.as_deref()
    }
    /// The user who recorded it.
    async fn recorded_by(&self) -> Option<Uuid> {
        self.0.recorded_by
    }
    /// A free-text note, as recorded; null when not given.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// The growth measurement, for GROWTH_MONITORING records.
    async fn growth_measurement(&self, ctx: &Context<'_>) -> Result<Option<GrowthMeasurement>> {
        Ok(one(&data(ctx)?.loaders.growth_of_record, self.0.id).await?.map(GrowthMeasurement))
    }
    /// The antigen and dose, for immunisation records.
    async fn immunisation(&self, ctx: &Context<'_>) -> Result<Option<Immunisation>> {
        Ok(one(&data(ctx)?.loaders.immunisation_of_record, self.0.id).await?.map(Immunisation))
    }
    /// The institution and its end, for enrolment records (kindergarten, school, ...).
    async fn enrolment(&self, ctx: &Context<'_>) -> Result<Option<Enrolment>> {
        Ok(one(&data(ctx)?.loaders.enrolment_of_record, self.0.id).await?.map(Enrolment))
    }
    /// The five answers, for HIV knowledge assessments.
    async fn hiv_knowledge(&self, ctx: &Context<'_>) -> Result<Option<HivKnowledge>> {
        Ok(one(&data(ctx)?.loaders.hiv_knowledge_of_record, self.0.id).await?.map(HivKnowledge))
    }
    /// The period and days attended, for attendance records (SCHOOL_ATTENDANCE, ...).
    async fn attendance(&self, ctx: &Context<'_>) -> Result<Option<Attendance>> {
        Ok(one(&data(ctx)?.loaders.attendance_of_record, self.0.id).await?.map(Attendance))
    }
    /// The milestones checked, for DEVELOPMENT_CHECK records.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn milestone_checks(&self, ctx: &Context<'_>) -> Result<Vec<MilestoneCheck>> {
        Ok(many(&data(ctx)?.loaders.milestone_checks_of_record, self.0.id)
            .await?
            .into_iter()
            .map(MilestoneCheck)
            .collect())
    }
    /// The record's version, raised by one on every change (a corrected measurement, an enrolment's
    /// end, z-scores recomputed for a corrected birth date or sex): send it back as
    /// `expectedVersion`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was recorded (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The service record a detail belongs to.
async fn record_of(ctx: &Context<'_>, id: Uuid) -> Result<Option<ServiceRecord>> {
    Ok(one(&data(ctx)?.loaders.record, id).await?.map(ServiceRecord::from))
}

pub struct GrowthMeasurement(pub growth_measurement::Model);

/// A growth measurement (the detail of a GROWTH_MONITORING record) with the WHO z-scores, flags and
/// classification stored when it was recorded or last corrected.
#[Object]
impl GrowthMeasurement {
    /// The id of its service record (a pseudonym for de-identified callers).
    async fn id(&self) -> Result<Uuid> {
        Ok(self.0.service_record_id)
    }
    /// Its service record.
    async fn record(&self, ctx: &Context<'_>) -> Result<Option<ServiceRecord>> {
        record_of(ctx, self.0.service_record_id).await
    }
    /// The day it was measured (its record's date).
    async fn date(&self, ctx: &Context<'_>) -> Result<Option<NaiveDate>> {
        Ok(one(&data(ctx)?.loaders.record, self.0.service_record_id).await?.map(|r| r.service_date))
    }
    /// Weight in kg; null when not measured.
    async fn weight_kg(&self) -> Option<f64> {
        self.0.weight_kg
    }
    /// Length or height in cm as measured (before WHO's 0.7 cm correction for position); null when
    /// not measured.
    async fn length_height_cm(&self) -> Option<f64> {
        self.0.length_height_cm
    }
    /// How length/height was measured; null when not recorded.
    async fn position(&self) -> Result<Option<MeasurementPosition>> {
        Ok(self.0.position.as_deref().map(MeasurementPosition::from_db).transpose()?)
    }
    /// Mid-upper arm circumference in mm; null when not measured.
    async fn muac_mm(&self) -> Option<f64> {
        self.0.muac_mm
    }
    /// Bilateral pitting oedema: no weight-based z-scores, counted as severe wasting.
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
    /// Weight-for-age z-score (WAZ), 2 decimals; null where WHO defines none (over 10 years),
    /// when weight is missing, or with oedema.
    async fn weight_for_age(&self) -> Option<f64> {
        self.0.waz
    }
    /// Length/height-for-age z-score (HAZ), 2 decimals; null where WHO defines none or
    /// length/height is missing.
    async fn length_height_for_age(&self) -> Option<f64> {
        self.0.haz
    }
    /// Weight-for-length/height z-score (WHZ), 2 decimals; null where WHO defines none (over 5
    /// years, or a length/height outside its table), when a value is missing, or with oedema.
    async fn weight_for_length_height(&self) -> Option<f64> {
        self.0.whz
    }
    /// BMI-for-age z-score (BAZ), 2 decimals; null where WHO defines none, when a value is missing,
    /// or with oedema.
    async fn bmi_for_age(&self) -> Option<f64> {
        self.0.baz
    }
    /// The WHO classification of the stored z-scores.
    async fn classification(&self) -> Result<GrowthClassification> {
        Ok(GrowthClassification::from(&stored(&self.0)?))
    }
    /// WHO's plausibility flags, and whether a value is outside WHO's tables.
    async fn flags(&self) -> Result<GrowthFlags> {
        Ok(GrowthFlags::from(&stored(&self.0)?))
    }
}

pub struct Immunisation(pub immunisation::Model);

/// The antigen and dose of an immunisation record.
#[Object]
impl Immunisation {
    /// The id of its service record (a pseudonym for de-identified callers).
    async fn id(&self) -> Result<Uuid> {
        Ok(self.0.service_record_id)
    }
    /// Its service record.
    async fn record(&self, ctx: &Context<'_>) -> Result<Option<ServiceRecord>> {
        record_of(ctx, self.0.service_record_id).await
    }
    /// The day the dose was given (its record's date).
    async fn date(&self, ctx: &Context<'_>) -> Result<Option<NaiveDate>> {
        Ok(one(&data(ctx)?.loaders.record, self.0.service_record_id).await?.map(|r| r.service_date))
    }
    /// The antigen given.
    async fn antigen(&self, ctx: &Context<'_>) -> Result<Option<Antigen>> {
        Ok(one(&data(ctx)?.loaders.antigen, self.0.antigen_id).await?.map(Antigen))
    }
    /// The dose as the worker recorded it (1 to the antigen's `doses`): a label. Which position
    /// of the series it fills comes from the dates of the child's doses: `validDoseNumber`.
    async fn dose_number(&self) -> i32 {
        self.0.dose_number
    }
    /// Whether the dose counts, evaluated from the dates of the child's doses and birth against
    /// the schedule's minimum ages and intervals (with their grace period) and maximum ages; a
    /// dose that does not count stays on record and is due again. Null for de-identified
    /// callers (with the dose's month it would bound the age in days).
    async fn evaluation(&self) -> Result<Option<DoseEvaluation>> {
        Ok(self.0.evaluation.as_deref().map(DoseEvaluation::from_db).transpose()?)
    }
    /// The position of the series this dose fills (VALID doses only), e.g. 2 for a dose typed
    /// as 3 after a dose 2 that did not count. Null for de-identified callers.
    async fn valid_dose_number(&self) -> Option<i32> {
        self.0.valid_dose_number
    }
}

pub struct Enrolment(pub enrolment::Model);

/// An enrolment in a kindergarten, ger-kindergarten, outreach ECD, school or non-formal education
/// (the detail of an enrolment record): open from its record's date until `endedOn`.
#[Object]
impl Enrolment {
    /// The id of its service record (a pseudonym for de-identified callers).
    async fn id(&self) -> Result<Uuid> {
        Ok(self.0.service_record_id)
    }
    /// Its service record: its date is the day the child was enrolled.
    async fn record(&self, ctx: &Context<'_>) -> Result<Option<ServiceRecord>> {
        record_of(ctx, self.0.service_record_id).await
    }
    /// The kindergarten, school or programme.
    async fn institution(&self) -> &str {
        &self.0.institution
    }
    /// The grade or group, as recorded; null when not given.
    async fn grade(&self) -> Option<&str> {
        self.0.grade.as_deref()
    }
    /// A school enrolment's grade of general education (1-12) on its record's date; null when
    /// not recorded.
    async fn grade_number(&self) -> Option<i32> {
        self.0.grade_number
    }
    /// The grade attended in the school year holding `asOf` (default today) while enrolled: the
    /// recorded grade, one up on each 1 September since; null without a grade number.
    async fn current_grade(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day; default today (Mongolia's date).")] as_of: Option<NaiveDate>,
    ) -> Result<Option<i32>> {
        let on = data(ctx)?.store.reference_day(as_of);
        Ok(self.0.first_grade_year.map(|first| school::grade_on(first, on)))
    }
    /// The last day of the enrolment; null while it is open.
    async fn ended_on(&self) -> Option<NaiveDate> {
        self.0.ended_on
    }
    /// Why it ended; null while it is open.
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

pub struct HivKnowledge(pub hiv_knowledge::Model);

/// An HIV knowledge assessment's answers to MICS's five prompted questions (the detail of an
/// HIV_KNOWLEDGE_ASSESSMENT record).
#[Object]
impl HivKnowledge {
    /// The id of its service record (a pseudonym for de-identified callers).
    async fn id(&self) -> Result<Uuid> {
        Ok(self.0.service_record_id)
    }
    /// Its service record: its date is the day of the assessment.
    async fn record(&self, ctx: &Context<'_>) -> Result<Option<ServiceRecord>> {
        record_of(ctx, self.0.service_record_id).await
    }
    /// Can people reduce their chance of getting HIV by having just one uninfected sex partner who
    /// has no other sex partners? (right: YES)
    async fn one_faithful_partner(&self) -> Result<KnowledgeAnswer> {
        Ok(KnowledgeAnswer::from_db(&self.0.one_faithful_partner)?)
    }
    /// Can people reduce their chance of getting HIV by using a condom every time they have sex?
    /// (right: YES)
    async fn condom_every_time(&self) -> Result<KnowledgeAnswer> {
        Ok(KnowledgeAnswer::from_db(&self.0.condom_every_time)?)
    }
    /// Is it possible for a healthy-looking person to have HIV? (right: YES)
    async fn healthy_looking_person(&self) -> Result<KnowledgeAnswer> {
        Ok(KnowledgeAnswer::from_db(&self.0.healthy_looking_person)?)
    }
    /// Can people get HIV from mosquito bites? (right: NO)
    async fn mosquito_bites(&self) -> Result<KnowledgeAnswer> {
        Ok(KnowledgeAnswer::from_db(&self.0.mosquito_bites)?)
    }
    /// Can people get HIV by sharing food with a person who has HIV? (right: NO)
    async fn sharing_food(&self) -> Result<KnowledgeAnswer> {
        Ok(KnowledgeAnswer::from_db(&self.0.sharing_food)?)
    }
    /// All five answered right: comprehensive knowledge as MICS counts it (HA.1).
    async fn comprehensive(&self) -> bool {
        self.0.comprehensive
    }
}

pub struct Attendance(pub attendance::Model);

/// Attendance over a period for an enrolment (the detail of a SCHOOL_ATTENDANCE or
/// PRESCHOOL_ATTENDANCE record).
#[Object]
impl Attendance {
    /// The attendance record's id (a pseudonym for de-identified callers).
    async fn id(&self) -> Result<Uuid> {
        Ok(self.0.service_record_id)
    }
    /// The enrolment's id (a pseudonym for de-identified callers).
    async fn enrolment_id(&self) -> Result<Uuid> {
        Ok(self.0.enrolment_id)
    }
    /// The first day of the period.
    async fn period_start(&self) -> NaiveDate {
        self.0.period_start
    }
    /// The last day of the period (the record's date).
    async fn period_end(&self) -> NaiveDate {
        self.0.period_end
    }
    /// Days the child attended: 0 to `daysExpected`.
    async fn days_present(&self) -> i32 {
        self.0.days_present
    }
    /// Days the institution was open to the child in the period: 1 to the period's length.
    async fn days_expected(&self) -> i32 {
        self.0.days_expected
    }
    /// Days present per 100 days expected.
    async fn rate(&self) -> f64 {
        // daysExpected is at least 1 on write
        100.0 * f64::from(self.0.days_present) / f64::from(self.0.days_expected.max(1))
    }
}
