//! The root mutation: each write is one store call, validated and scoped there.

use super::data;
use super::people::{Household, Person, Pregnancy};
use super::services::ServiceRecord;
use crate::store::{
    GrowthCorrection, HouseholdChanges, NewGrowthMeasurement, NewHousehold, NewImmunisation, NewMilestoneCheck,
    NewPerson, NewPregnancy, NewServiceRecord, PersonChanges, PregnancyOutcomeInput,
};
use async_graphql::{Context, Object, Result};

#[derive(Default)]
pub struct CoreMutation;

#[Object]
impl CoreMutation {
    async fn create_household(&self, ctx: &Context<'_>, input: NewHousehold) -> Result<Household> {
        Ok(Household(data(ctx)?.store.create_household(input).await?))
    }

    async fn update_household(&self, ctx: &Context<'_>, input: HouseholdChanges) -> Result<Household> {
        Ok(Household(data(ctx)?.store.update_household(input).await?))
    }

    async fn register_person(&self, ctx: &Context<'_>, input: NewPerson) -> Result<Person> {
        Ok(Person(data(ctx)?.store.register_person(input).await?))
    }

    async fn update_person(&self, ctx: &Context<'_>, input: PersonChanges) -> Result<Person> {
        Ok(Person(data(ctx)?.store.update_person(input).await?))
    }

    async fn register_pregnancy(&self, ctx: &Context<'_>, input: NewPregnancy) -> Result<Pregnancy> {
        Ok(Pregnancy(data(ctx)?.store.register_pregnancy(input).await?))
    }

    async fn record_pregnancy_outcome(&self, ctx: &Context<'_>, input: PregnancyOutcomeInput) -> Result<Pregnancy> {
        Ok(Pregnancy(data(ctx)?.store.record_pregnancy_outcome(input).await?))
    }

    /// Records a service without a typed detail (vitamin A, antenatal contact, household water...).
    async fn record_service(&self, ctx: &Context<'_>, input: NewServiceRecord) -> Result<ServiceRecord> {
        Ok(ServiceRecord::from(data(ctx)?.store.record_service(input).await?))
    }

    async fn record_growth_measurement(&self, ctx: &Context<'_>, input: NewGrowthMeasurement) -> Result<ServiceRecord> {
        Ok(ServiceRecord::from(data(ctx)?.store.record_growth_measurement(input).await?))
    }

    /// Records an enrolment in kindergarten, ger-kindergarten, outreach ECD, school or
    /// non-formal education.
    async fn record_enrolment(&self, ctx: &Context<'_>, input: crate::store::NewEnrolment) -> Result<ServiceRecord> {
        Ok(ServiceRecord::from(data(ctx)?.store.record_enrolment(input).await?))
    }

    /// Records attendance for an enrolment over a period (days present of days expected), as a
    /// SCHOOL_ATTENDANCE or PRESCHOOL_ATTENDANCE record dated the period's last day. Periods of
    /// one enrolment may not overlap (CONFLICT).
    async fn record_attendance(&self, ctx: &Context<'_>, input: crate::store::NewAttendance) -> Result<ServiceRecord> {
        Ok(ServiceRecord::from(data(ctx)?.store.record_attendance(input).await?))
    }

    /// Ends an open enrolment on `endedOn` (completed, dropped out, transferred, moved, died);
    /// the child stops counting as enrolled from the next day. A stale `expectedVersion`, or an
    /// enrolment already ended, is a CONFLICT.
    async fn end_enrolment(&self, ctx: &Context<'_>, input: crate::store::EndEnrolment) -> Result<ServiceRecord> {
        Ok(ServiceRecord::from(data(ctx)?.store.end_enrolment(input).await?))
    }

    async fn record_immunisation(&self, ctx: &Context<'_>, input: NewImmunisation) -> Result<ServiceRecord> {
        Ok(ServiceRecord::from(data(ctx)?.store.record_immunisation(input).await?))
    }

    /// Corrects a growth measurement's values (left out: kept; null: cleared): re-validated, its
    /// z-scores recomputed and its service record's version bumped; a stale `expectedVersion` is
    /// a CONFLICT and changes nothing.
    async fn correct_growth_measurement(&self, ctx: &Context<'_>, input: GrowthCorrection) -> Result<ServiceRecord> {
        Ok(ServiceRecord::from(data(ctx)?.store.correct_growth_measurement(input).await?))
    }

    /// Records a development check of a child under 6: the milestones checked and whether each
    /// was achieved (a DEVELOPMENT_CHECK service record).
    async fn record_milestone_check(&self, ctx: &Context<'_>, input: NewMilestoneCheck) -> Result<ServiceRecord> {
        Ok(ServiceRecord::from(data(ctx)?.store.record_milestone_check(input).await?))
    }
}

/// The root mutation: the core API and the access-control API, merged.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    CoreMutation,
    super::access::AccessMutation,
    super::sync::SyncMutation,
    super::family::FamilyMutation,
    super::coverage::CoverageMutation,
);
