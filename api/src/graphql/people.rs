//! GraphQL types of households, people and pregnancies.

use super::growth::GrowthChart;
use super::loaders::{many, one, ones};
use super::milestones::MilestoneProgress;
use super::org_units::OrgUnit;
use super::schedule::DueService;
use super::services::{GrowthMeasurement, Immunisation, LifeStage, ServiceRecord};
use super::{data, node_id};
use crate::domain::pregnancy as pregnancy_rules;
use crate::domain::pregnancy::FollowUp;
use crate::domain::vocab::{
    BirthAttendant, DeliveryPlace, Disability, Dwelling, GrowthIndicator, MigrantStatus, PregnancyOutcome,
    PregnancyStatus, RelationToHead, Sex,
};
use crate::domain::{age, life_stage};
use crate::store::schedule::RecordFact;
use crate::store::{LifeStageRules, Store, growth, milestone_progress, today};
use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{household, life_stage as life_stage_row, person, pregnancy};

pub struct Household(pub household::Model);

/// A household: the people who live together, placed in a soum, district, bag or khoroo. Callers
/// who see data de-identified (ANALYST, RESEARCHER) get a pseudonymous id and no address or description.
#[Object]
impl Household {
    /// The household's id; a stable pseudonym for callers who see data de-identified.
    pub(super) async fn id(&self) -> Result<ID> {
        node_id(self.0.id)
    }
    /// The soum, district, bag or khoroo it lives in.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        Ok(one(&data(ctx)?.loaders.org_unit, self.0.org_unit_id).await?.map(OrgUnit))
    }
    /// The address as written; null when not recorded, and for callers who see data de-identified.
    async fn address(&self) -> Result<Option<&str>> {
        Ok(self.0.address.as_deref())
    }
    /// Free text about the household; null when not recorded, and for callers who see data
    /// de-identified.
    async fn description(&self) -> Result<Option<&str>> {
        Ok(self.0.description.as_deref())
    }
    /// Consents and other legal bases recorded for the household.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn consents(&self, ctx: &Context<'_>) -> Result<Vec<super::access::Consent>> {
        Ok(many(&data(ctx)?.loaders.consents_of_household, self.0.id)
            .await?
            .into_iter()
            .map(super::access::Consent)
            .collect())
    }
    /// The kind of dwelling it lives in.
    async fn dwelling(&self) -> Result<Dwelling> {
        Ok(Dwelling::from_db(&self.0.dwelling)?)
    }
    /// Whether it is a herder household.
    async fn is_herder(&self) -> bool {
        self.0.is_herder
    }
    /// Whether it lives where it is registered, or has moved.
    async fn migrant_status(&self) -> Result<MigrantStatus> {
        Ok(MigrantStatus::from_db(&self.0.migrant_status)?)
    }
    /// The day it was registered in the service.
    async fn registered_on(&self) -> NaiveDate {
        self.0.registered_on
    }
    /// The people living in the household.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<Person>> {
        Ok(many(&data(ctx)?.loaders.members, self.0.id).await?.into_iter().map(Person).collect())
    }
    /// Household-level services (water, sanitation, garden), newest first.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn service_records(&self, ctx: &Context<'_>) -> Result<Vec<ServiceRecord>> {
        let loaders = &data(ctx)?.loaders;
        ServiceRecord::list(&loaders.records_of_household, self.0.id).await
    }
    /// Family assessment visits, newest first: the household's progress.
    async fn assessments(&self, ctx: &Context<'_>) -> Result<Vec<super::family::FamilyAssessment>> {
        let rows = many(&data(ctx)?.loaders.assessments_of_household, self.0.id).await?;
        Ok(rows.into_iter().map(super::family::FamilyAssessment).collect())
    }
    /// Actions agreed with the family and not yet followed up.
    async fn open_actions(&self, ctx: &Context<'_>) -> Result<Vec<super::family::AssessmentAction>> {
        let rows = many(&data(ctx)?.loaders.open_actions_of_household, self.0.id).await?;
        Ok(rows.into_iter().map(super::family::AssessmentAction).collect())
    }
    /// The row's version, raised by one on every change: send it back as `expectedVersion` (or a
    /// sync item's `baseVersion`).
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was first recorded (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct Person(pub person::Model);

/// A person, placed in the unit of their household (or registered in a unit without one). Callers
/// who see data de-identified (ANALYST, RESEARCHER) get a pseudonymous id and null names, registry number,
/// phone and birth date (`birthMonth` and `ageMonths` instead).
#[Object]
impl Person {
    /// The person's id; a stable pseudonym for callers who see data de-identified.
    pub(super) async fn id(&self) -> Result<ID> {
        node_id(self.0.id)
    }
    /// The household they live in; null for a person registered without one.
    async fn household(&self, ctx: &Context<'_>) -> Result<Option<Household>> {
        let Some(h) = self.0.household_id else {
            return Ok(None);
        };
        Ok(one(&data(ctx)?.loaders.household, h).await?.map(Household))
    }
    /// Where the person lives (the household's unit).
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        Ok(one(&data(ctx)?.loaders.org_unit, self.0.org_unit_id).await?.map(OrgUnit))
    }
    /// The given name; null for callers who see data de-identified.
    async fn given_name(&self) -> Result<Option<&str>> {
        Ok(Some(self.0.given_name.as_str()))
    }
    /// The family (patronymic) name; null for callers who see data de-identified.
    async fn family_name(&self) -> Result<Option<&str>> {
        Ok(Some(self.0.family_name.as_str()))
    }
    /// Their sex.
    async fn sex(&self) -> Result<Sex> {
        Ok(Sex::from_db(&self.0.sex)?)
    }
    /// The birth date; null for callers who see data de-identified (they get `birthMonth` and
    /// `ageMonths`).
    async fn birth_date(&self) -> Result<Option<NaiveDate>> {
        Ok(Some(self.0.birth_date))
    }
    /// Year and month of birth, `YYYY-MM`: shown to every caller.
    async fn birth_month(&self) -> String {
        age::birth_month(self.0.birth_date)
    }
    /// Whether the birth date is an estimate (set too by erasure, which moves it to the first of
    /// its month).
    async fn birth_date_estimated(&self) -> bool {
        self.0.birth_date_estimated
    }
    /// Completed months of age on `asOf` (default today).
    async fn age_months(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The day; default today (Mongolia's date). For callers who see data de-identified, the last day of its month."
        )]
        as_of: Option<NaiveDate>,
    ) -> Result<i32> {
        Ok(age::months(self.0.birth_date, data(ctx)?.store.reference_day(as_of)))
    }
    /// The life stage on `asOf` (default today), derived from the birth date and an open
    /// pregnancy; null for adults.
    async fn life_stage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day; default today (Mongolia's date).")] as_of: Option<NaiveDate>,
    ) -> Result<Option<LifeStage>> {
        let d = data(ctx)?;
        let on = d.store.reference_day(as_of);
        let pregnancies = many(&d.loaders.pregnancies_of_mother, self.0.id).await?;
        let follow_up = d.schedule().await?.follow_up;
        let stages = d.life_stages().await?;
        Ok(life_stage_of(&d.store, stages, follow_up, &self.0, &pregnancies, on).map(|m| LifeStage(m.clone())))
    }
    /// How they are related to the head of their household; null when not recorded.
    async fn relation_to_head(&self) -> Result<Option<RelationToHead>> {
        Ok(self.0.relation_to_head.as_deref().map(RelationToHead::from_db).transpose()?)
    }
    /// The civil registry number; null when not recorded, and for callers who see data
    /// de-identified.
    async fn registry_number(&self) -> Result<Option<&str>> {
        Ok(self.0.registry_number.as_deref())
    }
    /// The phone number (eight digits); null when not recorded, and for callers who see data
    /// de-identified.
    async fn phone(&self) -> Result<Option<&str>> {
        Ok(self.0.phone.as_deref())
    }
    /// A functional difficulty (Washington Group domain); null when none is recorded, and for
    /// callers who see data de-identified (a special category of personal data).
    async fn disability(&self) -> Result<Option<Disability>> {
        Ok(self.0.disability.as_deref().map(Disability::from_db).transpose()?)
    }
    /// The day they died; null while alive (or not recorded), and for callers who see data
    /// de-identified (an exact date about one person).
    async fn date_of_death(&self) -> Result<Option<NaiveDate>> {
        Ok(self.0.date_of_death)
    }
    /// Her pregnancies, newest first.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn pregnancies(&self, ctx: &Context<'_>) -> Result<Vec<Pregnancy>> {
        let mut list = many(&data(ctx)?.loaders.pregnancies_of_mother, self.0.id).await?;
        list.sort_by_key(|p| std::cmp::Reverse(p.registered_on));
        Ok(list.into_iter().map(Pregnancy).collect())
    }
    /// The child's protection cases, to those who work on them only (the assigned case worker,
    /// the unit's supervisors, administrators): empty for everyone else. Each read is audited.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn protection_cases(&self, ctx: &Context<'_>) -> Result<Vec<super::cases::ProtectionCase>> {
        let list = many(&data(ctx)?.loaders.cases_of_person, self.0.id).await?;
        Ok(list.into_iter().map(super::cases::ProtectionCase).collect())
    }
    /// Every service the person received, newest first.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn service_records(&self, ctx: &Context<'_>) -> Result<Vec<ServiceRecord>> {
        let loaders = &data(ctx)?.loaders;
        ServiceRecord::list(&loaders.records_of_person, self.0.id).await
    }
    /// Their growth measurements, with the z-scores stored with each.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn growth_measurements(&self, ctx: &Context<'_>) -> Result<Vec<GrowthMeasurement>> {
        Ok(many(&data(ctx)?.loaders.growth_of_person, self.0.id).await?.into_iter().map(GrowthMeasurement).collect())
    }
    /// The doses they received (immunisation records).
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn immunisations(&self, ctx: &Context<'_>) -> Result<Vec<Immunisation>> {
        Ok(many(&data(ctx)?.loaders.immunisations_of_person, self.0.id).await?.into_iter().map(Immunisation).collect())
    }
    /// What the schedules hold for the person on `asOf` (default today): immunisation doses,
    /// vitamin A, growth monitoring, antenatal and postnatal contacts, each GIVEN, DUE, OVERDUE,
    /// UPCOMING or MISSED with its dates.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn due_services(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day; default today (Mongolia's date).")] as_of: Option<NaiveDate>,
    ) -> Result<Vec<DueService>> {
        let d = data(ctx)?;
        let on = d.store.reference_day(as_of);
        let schedule = d.schedule().await?;
        let records = many(&d.loaders.records_of_person, self.0.id).await?;
        let records: Vec<RecordFact> = d.store.derived(&records).iter().map(RecordFact::of).collect();
        let doses = many(&d.loaders.immunisations_of_person, self.0.id).await?;
        let pregnancies = many(&d.loaders.pregnancies_of_mother, self.0.id).await?;
        let person = d.store.derived_row(&self.0);
        Ok(schedule
            .evaluate(&person, &d.store.derived(&pregnancies), &records, &d.store.derived(&doses), on)
            .into_iter()
            .map(|i| DueService::new(i, on))
            .collect())
    }
    /// The child's measurements for one indicator with their z-scores, and the WHO reference
    /// curves (-3 to +3 SD) for the child's sex from birth to their age on `asOf` (default
    /// today) or their last measurement.
    async fn growth_chart(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to chart: weight-for-age, length/height-for-age or BMI-for-age.")]
        indicator: GrowthIndicator,
        #[graphql(desc = "The day the curves run to (at least to the last measurement); default today.")] as_of: Option<
            NaiveDate,
        >,
    ) -> Result<GrowthChart> {
        let d = data(ctx)?;
        let measurements = many(&d.loaders.growth_of_person, self.0.id).await?;
        let records = many(&d.loaders.records_of_person, self.0.id).await?;
        let (person, measurements, records) =
            (d.store.derived_row(&self.0), d.store.derived(&measurements), d.store.derived(&records));
        let chart = growth::chart(&person, indicator, &measurements, &records, d.store.reference_day(as_of))?;
        Ok(GrowthChart::new(indicator, Sex::from_db(&self.0.sex)?, chart))
    }
    /// Development milestones checked so far and whether the child is on track in each domain
    /// on `asOf` (default today).
    async fn milestones(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day; default today (Mongolia's date).")] as_of: Option<NaiveDate>,
    ) -> Result<MilestoneProgress> {
        let d = data(ctx)?;
        let on = d.store.reference_day(as_of);
        let reference = d.milestones().await?;
        let checks = many(&d.loaders.milestone_checks_of_person, self.0.id).await?;
        let records = many(&d.loaders.records_of_person, self.0.id).await?;
        let (person, records) = (d.store.derived_row(&self.0), d.store.derived(&records));
        Ok(MilestoneProgress {
            as_of: on,
            age_months: age::months(person.birth_date, on),
            domains: milestone_progress(reference, &person, &checks, &records, on)?,
            reference: reference.to_vec(),
        })
    }
    /// The row's version, raised by one on every change: send it back as `expectedVersion` (or a
    /// sync item's `baseVersion`).
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When they were first recorded (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When their record was last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct Pregnancy(pub pregnancy::Model);

/// A pregnancy, from its registration to its outcome (maternal health and safe motherhood). Its id
/// is a pseudonym for callers who see data de-identified.
#[Object]
impl Pregnancy {
    /// The pregnancy's id; a stable pseudonym for callers who see data de-identified.
    pub(super) async fn id(&self) -> Result<ID> {
        node_id(self.0.id)
    }
    /// The woman.
    async fn mother(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(one(&data(ctx)?.loaders.person, self.0.mother_id).await?.map(Person))
    }
    /// The first day of the last menstrual period, when it was given; null when only the expected
    /// delivery date was.
    async fn last_menstrual_period(&self) -> Option<NaiveDate> {
        self.0.last_menstrual_period
    }
    /// The expected delivery date: 280 days after the last menstrual period (given, or derived from
    /// it).
    async fn expected_delivery_date(&self) -> NaiveDate {
        self.0.expected_delivery_date
    }
    /// The day it was registered.
    async fn registered_on(&self) -> NaiveDate {
        self.0.registered_on
    }
    /// Completed weeks of gestation on `asOf` (default today), while the pregnancy is open (see
    /// `status`).
    async fn gestation_weeks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day; default today (Mongolia's date).")] as_of: Option<NaiveDate>,
    ) -> Result<Option<i64>> {
        let follow_up = data(ctx)?.schedule().await?.follow_up;
        Ok(gestation_weeks(&self.0, as_of.unwrap_or_else(today), follow_up))
    }
    /// Where it stands on `asOf` (default today): OPEN from the last menstrual period,
    /// OUTCOME_DUE from 42 weeks without an outcome (it is then on the due list), OUTCOME_UNKNOWN
    /// after 47 completed weeks without one (out of the PREGNANCY stage and every list), ENDED
    /// from its outcome date; null before the last menstrual period. The margins are the
    /// PREGNANCY_OUTCOME schedule rule's.
    async fn status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day; default today (Mongolia's date).")] as_of: Option<NaiveDate>,
    ) -> Result<Option<PregnancyStatus>> {
        let d = data(ctx)?;
        let follow_up = d.schedule().await?.follow_up;
        Ok(pregnancy_status(&d.store, &self.0, d.store.reference_day(as_of), follow_up))
    }
    /// How it ended; null while it is open.
    async fn outcome(&self) -> Result<Option<PregnancyOutcome>> {
        Ok(self.0.outcome.as_deref().map(PregnancyOutcome::from_db).transpose()?)
    }
    /// The day of the delivery (or of the end of the pregnancy); null while it is open.
    async fn outcome_date(&self) -> Option<NaiveDate> {
        self.0.outcome_date
    }
    /// Where the birth took place (required for a birth); null while the pregnancy is open.
    async fn delivery_place(&self) -> Result<Option<DeliveryPlace>> {
        Ok(self.0.delivery_place.as_deref().map(DeliveryPlace::from_db).transpose()?)
    }
    /// Who attended the birth (required for a birth); null while the pregnancy is open.
    async fn attendant(&self) -> Result<Option<BirthAttendant>> {
        Ok(self.0.attendant.as_deref().map(BirthAttendant::from_db).transpose()?)
    }
    /// Whether a doctor, nurse or midwife attended the birth.
    async fn skilled_attendance(&self) -> Option<bool> {
        skilled_attendance(&self.0)
    }
    /// Children born of this pregnancy.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Person>> {
        let d = data(ctx)?;
        let ids = many(&d.loaders.children_of_pregnancy, self.0.id).await?;
        Ok(ones(&d.loaders.person, &ids).await?.into_iter().map(Person).collect())
    }
    /// Services given during this pregnancy (antenatal contacts, Td, iron–folic acid).
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn service_records(&self, ctx: &Context<'_>) -> Result<Vec<ServiceRecord>> {
        let loaders = &data(ctx)?.loaders;
        ServiceRecord::list_where(&loaders.records_of_person, self.0.mother_id, |p| p == Some(self.0.id)).await
    }
    /// The row's version, raised by one on every change: send it back as `expectedVersion` (or a
    /// sync item's `baseVersion`).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// The `gestationWeeks` field's rule: completed weeks on `on` while the pregnancy is open.
pub(super) fn gestation_weeks(p: &pregnancy::Model, on: NaiveDate, follow_up: FollowUp) -> Option<i64> {
    pregnancy_rules::is_open(p.expected_delivery_date, p.outcome_date, on, follow_up)
        .then(|| (on - pregnancy_rules::lmp(p.expected_delivery_date)).num_days().div_euclid(7))
}

/// The `status` field's rule, on the pregnancy as the caller sees it (coarsened for
/// de-identified callers).
pub(super) fn pregnancy_status(
    store: &Store,
    p: &pregnancy::Model,
    on: NaiveDate,
    follow_up: FollowUp,
) -> Option<PregnancyStatus> {
    let p = store.derived_row(p);
    pregnancy_rules::status(p.expected_delivery_date, p.outcome_date, on, follow_up)
}

/// The `skilledAttendance` field's rule: a doctor, nurse or midwife attended the birth.
pub(super) fn skilled_attendance(p: &pregnancy::Model) -> Option<bool> {
    p.attendant.as_deref().map(|a| a == "DOCTOR" || a == "NURSE_MIDWIFE")
}

/// A person's life stage on `on`, from their birth date and their pregnancies as the caller sees
/// them (coarsened for de-identified callers): the `lifeStage` field's rule, for the resolver and
/// for planned pages.
pub(super) fn life_stage_of<'r>(
    store: &Store,
    stages: &'r LifeStageRules,
    follow_up: FollowUp,
    person: &person::Model,
    pregnancies: &[pregnancy::Model],
    on: NaiveDate,
) -> Option<&'r life_stage_row::Model> {
    let open = (store.derived(pregnancies).iter())
        .any(|p| pregnancy_rules::is_open(p.expected_delivery_date, p.outcome_date, on, follow_up));
    let rule = life_stage::stage_on(stages.iter().map(|(r, _)| r), store.derived_row(person).birth_date, on, open)?;
    stages.iter().find(|(r, _)| std::ptr::eq(r, rule)).map(|(_, m)| m)
}
