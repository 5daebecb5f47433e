//! Child-protection cases: the types, the lists and the two mutations (open, update).

use super::connection::{Conn, connection};
use super::data;
use super::loaders::{many, one};
use super::org_units::OrgUnit;
use super::people::Person;
use super::referrals::ReferredPerson;
use crate::domain::vocab::{CaseCloseReason, CaseStatus, CaseStep, ProtectionConcern, RiskLevel};
use crate::store::{CaseFilter, CaseUpdate, NewProtectionCase, ReferredSubject, today};
use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{protection_case, protection_case_action, protection_case_step};
use uuid::Uuid;

pub struct ProtectionCase(pub protection_case::Model);

/// A child-protection case, seen only by the case worker it is assigned to, the supervisors of
/// the unit managing it and administrators (and, while a transfer is pending, by the worker and
/// supervisors it is offered to). Every read is in the audit log.
#[Object]
impl ProtectionCase {
    /// The case's id.
    pub(super) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The version number (for `expectedVersion`).
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// OPEN or CLOSED.
    async fn status(&self) -> Result<CaseStatus> {
        Ok(CaseStatus::from_db(&self.0.status)?)
    }
    /// What the case is about.
    async fn concern(&self) -> Result<ProtectionConcern> {
        Ok(ProtectionConcern::from_db(&self.0.concern)?)
    }
    /// The risk as last assessed.
    async fn risk_level(&self) -> Result<RiskLevel> {
        Ok(RiskLevel::from_db(&self.0.risk_level)?)
    }
    /// What is known, as the case worker wrote it.
    async fn summary(&self) -> Option<&str> {
        self.0.summary.as_deref()
    }
    /// The day it was opened.
    async fn opened_on(&self) -> NaiveDate {
        self.0.opened_on
    }
    /// The next review is due by this day.
    async fn review_due_on(&self) -> NaiveDate {
        self.0.review_due_on
    }
    /// Open and its review due before today.
    async fn review_overdue(&self) -> bool {
        self.0.status == CaseStatus::Open.as_str() && self.0.review_due_on < today()
    }
    /// The day it was closed.
    async fn closed_on(&self) -> Option<NaiveDate> {
        self.0.closed_on
    }
    /// Why it was closed.
    async fn close_reason(&self) -> Result<Option<CaseCloseReason>> {
        Ok(self.0.close_reason.as_deref().map(CaseCloseReason::from_db).transpose()?)
    }
    /// The unit managing the case.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        Ok(one(&data(ctx)?.loaders.org_unit, self.0.org_unit_id).await?.map(OrgUnit))
    }
    /// The case worker (user id) who owns it.
    async fn case_worker_id(&self) -> Uuid {
        self.0.assigned_to
    }
    /// The user who opened it.
    async fn opened_by(&self) -> Option<Uuid> {
        self.0.opened_by
    }
    /// A pending transfer: the case worker it is offered to.
    async fn transfer_to_user_id(&self) -> Option<Uuid> {
        self.0.transfer_to_user
    }
    /// A pending transfer: the unit that would manage it.
    async fn transfer_to_org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        let Some(unit) = self.0.transfer_to_unit else { return Ok(None) };
        Ok(one(&data(ctx)?.loaders.org_unit, unit).await?.map(OrgUnit))
    }
    /// A pending transfer: why.
    async fn transfer_note(&self) -> Option<&str> {
        self.0.transfer_note.as_deref()
    }
    /// The child's minimum (name, age, sex, household address, unit), wherever the child lives.
    async fn child(&self, ctx: &Context<'_>) -> Result<ReferredPerson> {
        let child = one(&data(ctx)?.loaders.child_of_case, self.0.id).await?;
        Ok(ReferredPerson(child.unwrap_or(ReferredSubject { person: None, household: None })))
    }
    /// The child as any other record: null outside your view scope.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(one(&data(ctx)?.loaders.person, self.0.person_id).await?.map(Person))
    }
    /// The case plan: its actions, oldest first.
    async fn actions(&self, ctx: &Context<'_>) -> Result<Vec<ProtectionCaseAction>> {
        let actions = many(&data(ctx)?.loaders.actions_of_case, self.0.id).await?;
        Ok(actions.into_iter().map(ProtectionCaseAction).collect())
    }
    /// Every step, oldest first: opened, reviewed, planned, transferred, closed...
    async fn steps(&self, ctx: &Context<'_>) -> Result<Vec<ProtectionCaseStep>> {
        let steps = many(&data(ctx)?.loaders.steps_of_case, self.0.id).await?;
        Ok(steps.into_iter().map(ProtectionCaseStep).collect())
    }
    /// When it was opened (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct ProtectionCaseAction(protection_case_action::Model);

/// An action of a case plan.
#[Object]
impl ProtectionCaseAction {
    /// The action's id (for `doneActionIds`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What is to be done, by whom.
    async fn description(&self) -> Option<&str> {
        Some(&self.0.description)
    }
    /// By when.
    async fn due_on(&self) -> NaiveDate {
        self.0.due_on
    }
    /// The day it was done; null while still to do.
    async fn done_on(&self) -> Option<NaiveDate> {
        self.0.done_on
    }
    /// Still to do and due before today.
    async fn overdue(&self) -> bool {
        self.0.done_on.is_none() && self.0.due_on < today()
    }
}

pub struct ProtectionCaseStep(protection_case_step::Model);

/// One step of a case's history.
#[Object]
impl ProtectionCaseStep {
    /// What was done.
    async fn step(&self) -> Result<CaseStep> {
        Ok(CaseStep::from_db(&self.0.step)?)
    }
    /// The user who did it.
    async fn by_user_id(&self) -> Option<Uuid> {
        self.0.by_user
    }
    /// When (UTC).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The risk level it set (opening, review).
    async fn risk_level(&self) -> Result<Option<RiskLevel>> {
        Ok(self.0.risk_level.as_deref().map(RiskLevel::from_db).transpose()?)
    }
    /// Why, as noted with the step.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

#[derive(Default)]
pub struct CaseQuery;

#[Object]
impl CaseQuery {
    /// The child-protection cases you work on: assigned to you, managed in a unit you supervise,
    /// or offered to you by a transfer. CASE_WORKER, SUPERVISOR and ADMIN only (FORBIDDEN for
    /// the others: analysts get protected counts through `coverage`). Every case listed is in
    /// the audit log. Errors: FORBIDDEN, VALIDATION (an unknown unit, `first`).
    async fn protection_cases(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which cases; default all you may see.")] filter: Option<CaseFilter>,
        #[graphql(desc = "How many items to return: 0 to 100 (default 20); more is VALIDATION.")] first: Option<i32>,
        #[graphql(
            desc = "The `endCursor` of the previous page (or an edge's `cursor`); leave out for the first page."
        )]
        after: Option<String>,
    ) -> Result<Conn<ProtectionCase>> {
        let store = &data(ctx)?.store;
        let req = store.page_request(first, after)?;
        let page = store.protection_cases(filter.unwrap_or_default(), &req).await?;
        Ok(connection(store, page, |c| c.id, ProtectionCase))
    }

    /// A child-protection case by id; null when unknown or not one you work on (audited).
    /// CASE_WORKER, SUPERVISOR and ADMIN only. Errors: FORBIDDEN.
    async fn protection_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case's id.")] id: Uuid,
    ) -> Result<Option<ProtectionCase>> {
        Ok(crate::error::found(data(ctx)?.store.protection_case(id).await)?.map(ProtectionCase))
    }
}

#[derive(Default)]
pub struct CaseMutation;

#[Object]
impl CaseMutation {
    /// Opens a child-protection case for a child (under 18) of your capture scope, owned by you
    /// (CASE_WORKER) or by the case worker you name (SUPERVISOR, ADMIN). No household consent is
    /// asked. Retry-safe with a client `id`: sent again with the same content it answers the
    /// stored case; with other content it is a CONFLICT.
    /// Errors: VALIDATION (a field, an unknown person, not a child, a case worker who does not
    /// hold CASE_WORKER in the child's unit), FORBIDDEN (your role, or the child outside your
    /// capture scope), CONFLICT (the id is taken).
    async fn open_protection_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case.")] input: NewProtectionCase,
    ) -> Result<ProtectionCase> {
        super::mutation::created(ctx, crate::store::sync::SyncPayload::ProtectionCase(input)).await
    }

    /// Takes one step of a case: REVIEW (with the risk re-assessed), PLAN (actions added or
    /// done), TRANSFER (to another case worker, and unit), ACCEPT_TRANSFER or REJECT_TRANSFER
    /// (with a note; by the worker offered it or a supervisor of its unit), CLOSE (with the
    /// reason), REOPEN (a supervisor). Errors: NOT_FOUND (unknown, or not a case you see),
    /// FORBIDDEN (your role, or a step that is another's), VALIDATION (a step the case's status
    /// does not allow, a missing or misplaced field), CONFLICT (a stale `expectedVersion`).
    async fn update_protection_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case and the step.")] input: CaseUpdate,
    ) -> Result<ProtectionCase> {
        let store = &data(ctx)?.store;
        Ok(ProtectionCase(store.atomic(|s| Box::pin(s.update_protection_case(input))).await?))
    }
}
