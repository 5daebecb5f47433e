//! Referrals across sectors: the types, the lists and the two mutations (send, answer).

use super::access::Partner;
use super::connection::{Conn, connection};
use super::data;
use super::loaders::{many, one};
use super::org_units::OrgUnit;
use super::people::{Household, Person};
use super::services::{ServiceRecord, ServiceType};
use crate::domain::age;
use crate::domain::vocab::{ReferralCloseReason, ReferralNeed, ReferralStatus, ReferralTrigger, ReferralUrgency, Sex};
use crate::store::{NewReferral, ReferralAnswer, ReferralFilter, ReferredSubject, today};
use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{referral, referral_step};
use uuid::Uuid;

pub struct Referral(pub referral::Model);

/// A referral of a person (or a household) from the unit it lives in to a receiving unit, for a
/// need. Seen by both sides: the units of the sender's and the receiver's view scopes (and the
/// receiving partner organisation's staff). The receiver sees the referred person's minimum
/// (`subject`) while the referral is open, wherever the person lives.
#[Object]
impl Referral {
    /// The referral's id.
    pub(super) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The version number (for `expectedVersion`).
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Where it is in its lifecycle.
    async fn status(&self) -> Result<ReferralStatus> {
        Ok(ReferralStatus::from_db(&self.0.status)?)
    }
    /// The need, by sector.
    async fn need(&self) -> Result<ReferralNeed> {
        Ok(ReferralNeed::from_db(&self.0.need)?)
    }
    /// The service of the catalogue asked for; null when the referral names a need only.
    async fn service_type(&self, ctx: &Context<'_>) -> Result<Option<ServiceType>> {
        let Some(id) = self.0.service_type_id else { return Ok(None) };
        Ok(data(ctx)?.service_type(id).await?.map(ServiceType))
    }
    /// How soon the receiver should act.
    async fn urgency(&self) -> Result<ReferralUrgency> {
        Ok(ReferralUrgency::from_db(&self.0.urgency)?)
    }
    /// The day it was sent.
    async fn sent_on(&self) -> NaiveDate {
        self.0.sent_on
    }
    /// By when the receiver should act.
    async fn due_by(&self) -> NaiveDate {
        self.0.due_by
    }
    /// Open (SENT or ACCEPTED) and past `dueBy` today.
    async fn overdue(&self) -> Result<bool> {
        let open = crate::domain::referral::is_open(ReferralStatus::from_db(&self.0.status)?);
        Ok(open && self.0.due_by < today())
    }
    /// Why it was sent.
    async fn reason(&self) -> Option<&str> {
        Some(&self.0.reason)
    }
    /// What raised it; null when not said.
    async fn raised_by(&self) -> Result<Option<ReferralTrigger>> {
        Ok(self.0.raised_by.as_deref().map(ReferralTrigger::from_db).transpose()?)
    }
    /// The assessment action or measurement (service record) that raised it.
    async fn raised_by_id(&self) -> Option<Uuid> {
        self.0.raised_by_id
    }
    /// The referring side: the unit the subject lived in when it was sent.
    #[graphql(name = "fromOrgUnit")]
    async fn sending_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        Ok(one(&data(ctx)?.loaders.org_unit, self.0.from_org_unit_id).await?.map(OrgUnit))
    }
    /// The receiving unit.
    async fn to_org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        Ok(one(&data(ctx)?.loaders.org_unit, self.0.to_org_unit_id).await?.map(OrgUnit))
    }
    /// The receiving partner organisation, if any.
    async fn to_partner(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        let Some(id) = self.0.to_partner_id else { return Ok(None) };
        Ok(one(&data(ctx)?.loaders.partner, id).await?.map(Partner))
    }
    /// The receiving facility or provider, as the referrer named it.
    async fn provider(&self) -> Option<&str> {
        self.0.provider.as_deref()
    }
    /// The user who sent it.
    async fn sent_by(&self) -> Option<Uuid> {
        self.0.sent_by
    }
    /// Why it was closed (CLOSED).
    async fn close_reason(&self) -> Result<Option<ReferralCloseReason>> {
        Ok(self.0.close_reason.as_deref().map(ReferralCloseReason::from_db).transpose()?)
    }
    /// The receiver's latest note (why it was declined, what was done): the counter-referral.
    async fn answer_note(&self) -> Option<&str> {
        self.0.answer_note.as_deref()
    }
    /// The day the need was met (COMPLETED).
    async fn completed_on(&self) -> Option<NaiveDate> {
        self.0.completed_on
    }
    /// The day it stopped asking anyone to act: declined or closed (the day of that answer) or
    /// completed (`completedOn`); null while open.
    async fn ended_on(&self) -> Option<NaiveDate> {
        self.0.ended_on
    }
    /// The service record that met the need, when you may see it.
    async fn completed_by(&self, ctx: &Context<'_>) -> Result<Option<ServiceRecord>> {
        let Some(id) = self.0.completed_by_record_id else { return Ok(None) };
        Ok(one(&data(ctx)?.loaders.record, id).await?.map(ServiceRecord::from))
    }
    /// The referred person or household, as the receiver needs it to act: while the referral is
    /// open, even where the person lives outside your view scope (each such read is in the audit
    /// log); afterwards only within it. Null when you may not see it.
    async fn subject(&self, ctx: &Context<'_>) -> Result<Option<ReferredPerson>> {
        Ok(one(&data(ctx)?.loaders.subject_of_referral, self.0.id).await?.map(ReferredPerson))
    }
    /// The person referred, as any other record: null outside your view scope.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let Some(p) = self.0.person_id else { return Ok(None) };
        Ok(one(&data(ctx)?.loaders.person, p).await?.map(Person))
    }
    /// The household, as any other record: null outside your view scope.
    async fn household(&self, ctx: &Context<'_>) -> Result<Option<Household>> {
        let Some(h) = self.0.household_id else { return Ok(None) };
        Ok(one(&data(ctx)?.loaders.household, h).await?.map(Household))
    }
    /// Every step, oldest first: who moved it, when, from and to.
    async fn steps(&self, ctx: &Context<'_>) -> Result<Vec<ReferralStep>> {
        let steps = many(&data(ctx)?.loaders.steps_of_referral, self.0.id).await?;
        Ok(steps.into_iter().map(ReferralStep).collect())
    }
    /// When it was sent (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct ReferredPerson(pub(super) ReferredSubject);

/// The minimum of a person (or household) someone needs to act on a referral or a protection
/// case, wherever they live: who, how old, where to find them. Nothing else of the household.
#[Object]
impl ReferredPerson {
    /// The person's given name; null for a household's referral.
    async fn given_name(&self) -> Option<&str> {
        self.0.person.as_ref().map(|p| p.given_name.as_str())
    }
    /// The person's family name.
    async fn family_name(&self) -> Option<&str> {
        self.0.person.as_ref().map(|p| p.family_name.as_str())
    }
    /// The person's sex.
    async fn sex(&self) -> Result<Option<Sex>> {
        Ok(self.0.person.as_ref().map(|p| Sex::from_db(&p.sex)).transpose()?)
    }
    /// Completed years of age today.
    async fn age_years(&self) -> Option<i32> {
        self.0.person.as_ref().map(|p| age::years(p.birth_date, today()))
    }
    /// Completed months of age today.
    async fn age_months(&self) -> Option<i32> {
        self.0.person.as_ref().map(|p| age::months(p.birth_date, today()))
    }
    /// The household's address.
    async fn household_address(&self) -> Option<&str> {
        self.0.household.as_ref().and_then(|h| h.address.as_deref())
    }
    /// The unit the person (or household) lives in.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<super::org_units::OrgUnit>> {
        let unit = match (&self.0.person, &self.0.household) {
            (Some(p), _) => p.org_unit_id,
            (None, Some(h)) => h.org_unit_id,
            (None, None) => return Ok(None),
        };
        Ok(one(&data(ctx)?.loaders.org_unit, unit).await?.map(super::org_units::OrgUnit))
    }
}

pub struct ReferralStep(referral_step::Model);

/// One step of a referral's lifecycle.
#[Object]
impl ReferralStep {
    /// Null for the sending itself.
    #[graphql(name = "fromStatus")]
    async fn status_before(&self) -> Result<Option<ReferralStatus>> {
        Ok(self.0.from_status.as_deref().map(ReferralStatus::from_db).transpose()?)
    }
    /// The status it moved to.
    async fn to_status(&self) -> Result<ReferralStatus> {
        Ok(ReferralStatus::from_db(&self.0.to_status)?)
    }
    /// The user who made the step (for a completion by a service record: who recorded it).
    async fn by_user_id(&self) -> Option<Uuid> {
        self.0.by_user
    }
    /// When (UTC).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// Why, as noted with the step.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

#[derive(Default)]
pub struct ReferralQuery;

#[Object]
impl ReferralQuery {
    /// Referrals you see: sent from or to a unit of your view scope, or to your partner
    /// organisation. For identified callers (ANALYST and RESEARCHER: FORBIDDEN).
    /// Errors: FORBIDDEN, VALIDATION (an unknown unit, `direction` without `orgUnitId`, `first`).
    async fn referrals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which referrals; default all you may see.")] filter: Option<ReferralFilter>,
        #[graphql(desc = "How many items to return: 0 to 100 (default 20); more is VALIDATION.")] first: Option<i32>,
        #[graphql(
            desc = "The `endCursor` of the previous page (or an edge's `cursor`); leave out for the first page."
        )]
        after: Option<String>,
    ) -> Result<Conn<Referral>> {
        let store = &data(ctx)?.store;
        let req = store.page_request(first, after)?;
        let page = store.referrals(filter.unwrap_or_default(), &req).await?;
        Ok(connection(store, page, |r| r.id, Referral))
    }

    /// A referral by id; null when unknown or not one you see. ANALYST and RESEARCHER: FORBIDDEN.
    async fn referral(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The referral's id.")] id: Uuid,
    ) -> Result<Option<Referral>> {
        Ok(crate::error::found(data(ctx)?.store.referral(id).await)?.map(Referral))
    }
}

#[derive(Default)]
pub struct ReferralMutation;

#[Object]
impl ReferralMutation {
    /// Refers a person (or a household) of your capture scope to a receiving unit for a need
    /// (ADMIN, FIELD_WORKER, PARTNER, PROVIDER). Retry-safe with a client `id`: sent again with
    /// the same content it answers the stored referral; with other content it is a CONFLICT.
    /// Errors: VALIDATION (a field, an unknown person, household, unit, partner, service type or
    /// triggering record), FORBIDDEN (your role, or the subject outside your capture scope),
    /// CONSENT_REQUIRED, CONFLICT (the id is taken).
    async fn send_referral(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The referral.")] input: NewReferral,
    ) -> Result<Referral> {
        super::mutation::created(ctx, crate::store::sync::SyncPayload::Referral(input)).await
    }

    /// Answers a referral: ACCEPTED or DECLINED (with a note) by the receiver, COMPLETED by the
    /// receiver (with the service record that met the need), CLOSED by either side (with the
    /// reason). Recording a service a referral asks for completes it by itself.
    /// Errors: NOT_FOUND (unknown, or not one you see), FORBIDDEN (your role, or not your side's
    /// step), VALIDATION (a step its status does not allow, a missing note or reason, a service
    /// record that does not fit), CONFLICT (a stale `expectedVersion`).
    async fn answer_referral(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The referral and the step.")] input: ReferralAnswer,
    ) -> Result<Referral> {
        let store = &data(ctx)?.store;
        Ok(Referral(store.atomic(|s| Box::pin(s.answer_referral(input))).await?))
    }
}
