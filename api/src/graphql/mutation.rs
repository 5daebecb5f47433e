//! The root mutation: each write is one store call, validated and scoped there.

use super::data;
use super::people::{Household, Person, Pregnancy};
use super::services::ServiceRecord;
use super::sync::SyncRecord;
use crate::error::ApiError;
use crate::store::Creation;
use crate::store::sync::SyncPayload;
use crate::store::{
    GrowthCorrection, HouseholdChanges, NewGrowthMeasurement, NewHivKnowledge, NewHousehold, NewImmunisation,
    NewMilestoneCheck, NewPerson, NewPregnancy, NewServiceRecord, PersonChanges, PregnancyOutcomeInput,
};
use async_graphql::{Context, Object, OutputType, Result};

/// A create mutation's answer (`Store::create`): the record made, or for a retry with the same
/// id and content the stored one. A CONFLICT with a stored record the caller may see shows it
/// in `extensions.current`, resolved with this field's own selection, as the answer would have.
pub(crate) async fn created<T>(ctx: &Context<'_>, new: impl Into<Creation>) -> Result<T>
where
    T: TryFrom<SyncRecord> + OutputType,
{
    match data(ctx)?.store.create(new.into()).await {
        Ok(row) => T::try_from(SyncRecord::from(row))
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("a create answered a record of another kind")).into()),
        Err(ApiError::Conflict { message, current: Some(row), path }) => {
            // Resolved as `T` itself: a union resolves only the fields of its fragments.
            let fields = ctx.with_selection_set(&ctx.item.node.selection_set);
            let shown = match T::try_from(SyncRecord::from((*row).clone())) {
                Ok(stored) => stored.resolve(&fields, ctx.item).await.ok(),
                Err(_) => None,
            };
            Err(ApiError::Conflict { message, current: Some(row), path }.into_graphql(shown))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Default)]
pub struct CoreMutation;

#[Object]
impl CoreMutation {
    /// Registers a household in a soum, district, bag or khoroo of your capture scope, with the
    /// consent (or other legal basis) it is recorded under (ADMIN, FIELD_WORKER, PARTNER).
    /// Retry-safe with a client `id`: sent again with the same content it answers the stored
    /// record; with other content it is a CONFLICT that shows the stored one in
    /// `extensions.current`.
    /// Errors: VALIDATION (a field, an unknown unit or one above soum level), FORBIDDEN (your role,
    /// or a unit outside your capture scope), CONFLICT (the id is taken).
    async fn create_household(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The household and its consent.")] input: NewHousehold,
    ) -> Result<Household> {
        created(ctx, SyncPayload::Household(input)).await
    }

    /// Changes a household in your capture scope: fields left out are kept, a null `address` or
    /// `description` is cleared; moving it to another unit moves its members. A change that changes
    /// nothing answers the household as it is (no new version).
    /// Errors: NOT_FOUND (unknown, or outside your view scope), VALIDATION, FORBIDDEN (your role,
    /// or the current or new unit outside your capture scope), CONFLICT (a stale
    /// `expectedVersion`), CONSENT_REQUIRED (no consent in force for the household).
    async fn update_household(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The household's id and the fields to change.")] input: HouseholdChanges,
    ) -> Result<Household> {
        Ok(Household(data(ctx)?.store.atomic(|s| Box::pin(s.update_household(input))).await?))
    }

    /// Registers a person in a household (or, without one, in a soum, district, bag or khoroo) of
    /// your capture scope (ADMIN, FIELD_WORKER, PARTNER). Retry-safe with a client `id`: sent again
    /// with the same content it answers the stored record; with other content it is a CONFLICT that
    /// shows the stored one in `extensions.current`.
    /// Errors: VALIDATION (a field, an unknown household or unit), FORBIDDEN (your role, or outside
    /// your capture scope), CONSENT_REQUIRED (the household has no consent in force), CONFLICT (the
    /// registry number is another person's, or the id is taken).
    async fn register_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person.")] input: NewPerson,
    ) -> Result<Person> {
        created(ctx, SyncPayload::Person(input)).await
    }

    /// Changes a person in your capture scope: fields left out are kept, a null clears the optional
    /// ones. A corrected birth date or sex recomputes the z-scores of every growth measurement of
    /// theirs. A change that changes nothing answers the person as they are (no new version).
    /// Errors: NOT_FOUND (unknown, or outside your view scope), VALIDATION, FORBIDDEN (your role,
    /// or outside your capture scope), CONFLICT (a stale `expectedVersion`, or the registry number
    /// is another person's), CONSENT_REQUIRED (their old or new household has no consent in force).
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's id and the fields to change.")] input: PersonChanges,
    ) -> Result<Person> {
        Ok(Person(data(ctx)?.store.atomic(|s| Box::pin(s.update_person(input))).await?))
    }

    /// Registers a pregnancy of a woman of 10 to 55 years in your capture scope (ADMIN,
    /// FIELD_WORKER, PARTNER); one open pregnancy at a time. Retry-safe with a client `id`: sent
    /// again with the same content it answers the stored record; with other content it is a
    /// CONFLICT that shows the stored one in `extensions.current`.
    /// Errors: VALIDATION (dates; an unknown mother, a man, outside 10-55 years, or dead by the
    /// day), FORBIDDEN (your role, or outside your capture scope), CONSENT_REQUIRED, CONFLICT (she
    /// has an open pregnancy, or the id is taken).
    async fn register_pregnancy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The pregnancy.")] input: NewPregnancy,
    ) -> Result<Pregnancy> {
        created(ctx, SyncPayload::Pregnancy(input)).await
    }

    /// Records how a pregnancy ended, once, with the children born of a live birth (already
    /// registered, born on the outcome date).
    /// Errors: NOT_FOUND (unknown pregnancy, or outside your view scope), VALIDATION (dates; a
    /// birth without place or attendant; children of an outcome other than a live birth, unknown,
    /// or born on another day), FORBIDDEN (your role, or outside your capture scope),
    /// CONSENT_REQUIRED, CONFLICT (a stale `expectedVersion`, an outcome already recorded, or a
    /// child linked to another pregnancy).
    async fn record_pregnancy_outcome(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The pregnancy and its outcome.")] input: PregnancyOutcomeInput,
    ) -> Result<Pregnancy> {
        Ok(Pregnancy(data(ctx)?.store.atomic(|s| Box::pin(s.record_pregnancy_outcome(input))).await?))
    }

    /// Records a service without a typed detail (vitamin A, antenatal contact, household water...)
    /// given to a person or a household in your capture scope (ADMIN, FIELD_WORKER, PARTNER,
    /// PROVIDER). Retry-safe with a client `id`: sent again with the same content it answers the
    /// stored record; with other content it is a CONFLICT that shows the stored one in
    /// `extensions.current`.
    /// Errors: VALIDATION (a field; an unknown service type, person, household or unit; a person
    /// not in the service's target group or eligible ages on the day), FORBIDDEN (your role, or the
    /// person or household outside your capture scope), CONSENT_REQUIRED (the household has no
    /// consent in force), CONFLICT (the id is taken).
    async fn record_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service given.")] input: NewServiceRecord,
    ) -> Result<ServiceRecord> {
        created(ctx, SyncPayload::ServiceRecord(input)).await
    }

    /// Records a growth measurement (a GROWTH_MONITORING record) of a person in your capture scope,
    /// with its WHO z-scores, flags and classification computed and stored (ADMIN, FIELD_WORKER,
    /// PARTNER, PROVIDER). Retry-safe with a client `id`: sent again with the same content it
    /// answers the stored record; with other content it is a CONFLICT that shows the stored one in
    /// `extensions.current`.
    /// Errors: VALIDATION (nothing measured, or weight outside 0.2-250 kg, length/height outside
    /// 20-250 cm, MUAC outside 50-500 mm; an unknown person or unit; a date in the future; a person
    /// of 19 years or more on the day), FORBIDDEN (your role, or the person outside your capture
    /// scope), CONSENT_REQUIRED (their household has no consent in force), CONFLICT (the id is
    /// taken).
    async fn record_growth_measurement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The measurement.")] input: NewGrowthMeasurement,
    ) -> Result<ServiceRecord> {
        created(ctx, SyncPayload::GrowthMeasurement(input)).await
    }

    /// Records an enrolment in kindergarten, ger-kindergarten, outreach ECD, school or
    /// non-formal education, of a person in your capture scope (ADMIN, FIELD_WORKER, PARTNER,
    /// PROVIDER). Retry-safe with a client `id`: sent again with the same content it answers the
    /// stored record; with other content it is a CONFLICT that shows the stored one in
    /// `extensions.current`.
    /// Errors: VALIDATION (a field; an unknown enrolment type, person or unit; a person not in the
    /// type's target group or eligible ages on the day), FORBIDDEN (your role, or the person outside
    /// your capture scope), CONSENT_REQUIRED (their household has no consent in force), CONFLICT
    /// (the id is taken).
    async fn record_enrolment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The enrolment.")] input: crate::store::NewEnrolment,
    ) -> Result<ServiceRecord> {
        created(ctx, SyncPayload::Enrolment(input)).await
    }

    /// Records attendance for an enrolment over a period (days present of days expected), as a
    /// SCHOOL_ATTENDANCE or PRESCHOOL_ATTENDANCE record dated the period's last day. Periods of
    /// one enrolment may not overlap (CONFLICT). Retry-safe with a client `id`: sent again with the
    /// same content it answers the stored record; with other content it is a CONFLICT that shows
    /// the stored one in `extensions.current`.
    /// Errors: VALIDATION (an unknown enrolment; an attendance type of another life stage; a
    /// period longer than 366 days, outside the enrolment or in the future; days out of range;
    /// eligibility as for `recordService`), FORBIDDEN (your role, or the child outside your capture
    /// scope), CONSENT_REQUIRED, CONFLICT (an overlapping period, or the id is taken).
    async fn record_attendance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The enrolment, the period and the days.")] input: crate::store::NewAttendance,
    ) -> Result<ServiceRecord> {
        created(ctx, SyncPayload::Attendance(input)).await
    }

    /// Ends an open enrolment on `endedOn` (completed, dropped out, transferred, moved, died);
    /// the child stops counting as enrolled from the next day. A stale `expectedVersion`, or an
    /// enrolment already ended, is a CONFLICT. Answers the enrolment's service record, its version
    /// raised.
    /// Errors: NOT_FOUND (unknown, outside your view scope, or not an enrolment), VALIDATION
    /// (`endedOn` in the future or before the enrolment began), FORBIDDEN (your role, or the child
    /// outside your capture scope), CONSENT_REQUIRED, CONFLICT.
    async fn end_enrolment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The enrolment, its version, the last day and why.")] input: crate::store::EndEnrolment,
    ) -> Result<ServiceRecord> {
        Ok(ServiceRecord::from(data(ctx)?.store.atomic(|s| Box::pin(s.end_enrolment(input))).await?))
    }

    /// Records a dose of an antigen (an IMMUNISATION record, or TD_MATERNAL for a pregnant woman)
    /// given to a person in your capture scope (ADMIN, FIELD_WORKER, PARTNER, PROVIDER). Every
    /// dose given is recorded, also one given again (after an invalid dose, or beyond the series):
    /// the series is evaluated from the dates (`evaluation`). Retry-safe with a client `id`: sent again with the same content it
    /// answers the stored record; with other content it is a CONFLICT that shows the stored one in
    /// `extensions.current`.
    /// Errors: VALIDATION (an unknown antigen or a dose number outside its doses; an unknown
    /// service type, person or unit; for IMMUNISATION a person older than 215 months (17 years 11
    /// months), for TD_MATERNAL a woman without an open pregnancy, on the day), FORBIDDEN (your role, or the person outside your
    /// capture scope), CONSENT_REQUIRED (their household has no consent in force), CONFLICT (the id
    /// is taken).
    async fn record_immunisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The dose given.")] input: NewImmunisation,
    ) -> Result<ServiceRecord> {
        created(ctx, SyncPayload::Immunisation(input)).await
    }

    /// Corrects a growth measurement's values (left out: kept; null: cleared): re-validated, its
    /// z-scores recomputed and its service record's version bumped; a stale `expectedVersion` is
    /// a CONFLICT and changes nothing.
    /// Errors: NOT_FOUND (unknown, or outside your view scope), VALIDATION (as for
    /// `recordGrowthMeasurement`), FORBIDDEN (your role, or the child outside your capture scope),
    /// CONSENT_REQUIRED, CONFLICT.
    async fn correct_growth_measurement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The measurement, its version and the values to change.")] input: GrowthCorrection,
    ) -> Result<ServiceRecord> {
        Ok(ServiceRecord::from(data(ctx)?.store.atomic(|s| Box::pin(s.correct_growth_measurement(input))).await?))
    }

    /// Records a development check of a child under 6: the milestones checked and whether each
    /// was achieved (a DEVELOPMENT_CHECK service record), in your capture scope (ADMIN,
    /// FIELD_WORKER, PARTNER, PROVIDER). Retry-safe with a client `id`: sent again with the same
    /// content it answers the stored record; with other content it is a CONFLICT that shows the
    /// stored one in `extensions.current`.
    /// Errors: VALIDATION (no items, more than 100, an unknown milestone or one checked twice; a
    /// child outside 0-71 months on the day), FORBIDDEN (your role, or outside your capture scope),
    /// CONSENT_REQUIRED, CONFLICT (the id is taken).
    async fn record_milestone_check(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The child, the day and the milestones checked.")] input: NewMilestoneCheck,
    ) -> Result<ServiceRecord> {
        created(ctx, SyncPayload::MilestoneCheck(input)).await
    }

    /// Records an HIV knowledge assessment of a person of 10-49 years: their answers to MICS's
    /// five prompted questions (an HIV_KNOWLEDGE_ASSESSMENT service record), in your capture scope
    /// (ADMIN, FIELD_WORKER, PARTNER, PROVIDER). `HivKnowledge.comprehensive` says whether all five
    /// are right; COMPREHENSIVE_HIV_KNOWLEDGE counts it. Retry-safe with a client `id`, as
    /// `recordService`.
    /// Errors: VALIDATION (a person outside 120-599 months on the day, a future date),
    /// FORBIDDEN (your role, or outside your capture scope), CONSENT_REQUIRED, CONFLICT (the id is
    /// taken).
    async fn record_hiv_knowledge(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The young person, the day and the five answers.")] input: NewHivKnowledge,
    ) -> Result<ServiceRecord> {
        created(ctx, SyncPayload::HivKnowledge(input)).await
    }
}

/// The root mutation. Every field but `login` and `refreshToken` needs an access token and
/// answers UNAUTHENTICATED without one; any may answer INTERNAL (a fault of the service, logged;
/// nothing was written). Each field lists the other `extensions.code` values it answers. A
/// refused write changes nothing; VALIDATION lists every problem in `extensions.fields` as
/// `{ path, message }`.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    CoreMutation,
    super::access::AccessMutation,
    super::sync::SyncMutation,
    super::family::FamilyMutation,
    super::coverage::CoverageMutation,
    super::referrals::ReferralMutation,
    super::cases::CaseMutation,
);
