//! Child-protection cases on a need-to-know basis: a case worker opens a case for a child of its
//! capture scope; the case's plan (actions with due days), reviews, transfer to another worker
//! with accept/reject, closure and reopening are its steps (`domain::protection`), each
//! versioned and audited, and every read of a case is audited too. Who sees a case is
//! `access::cases_condition`; who may take a step is `Store::case_roles`.

use super::page::{self, Page, PageRequest};
use super::{Store, today};
use crate::access::{Action, Principal, cases_condition};
use crate::domain::protection::{CaseRole, review_in_days, step_allowed};
use crate::domain::vocab::{CaseCloseReason, CaseStatus, CaseStep, ProtectionConcern, RiskLevel, Role};
use crate::domain::{age, validate};
use crate::error::{ApiError, ApiResult, Problems};
use async_graphql::InputObject;
use chrono::{Days, NaiveDate};
use entity::{org_unit, protection_case, protection_case_action, protection_case_step};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select, Set,
};
use uuid::Uuid;

/// A protection case as the case worker (or a supervisor) opens it.
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "OpenProtectionCaseInput")]
pub struct NewProtectionCase {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// The child (under 18 on `openedOn`), of your capture scope.
    pub person_id: Uuid,
    /// What the case is about.
    pub concern: ProtectionConcern,
    /// The risk as first assessed; it sets when the first review is due.
    pub risk_level: RiskLevel,
    /// The day it was opened: not in the future; today when left out.
    pub opened_on: Option<NaiveDate>,
    /// What is known, at most 2,000 characters.
    pub summary: Option<String>,
    /// The case worker who owns it: a user holding CASE_WORKER whose capture scope holds the
    /// child's unit. You, when left out (then you must be a case worker).
    pub case_worker_id: Option<Uuid>,
}

/// An action of a case plan.
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "CaseActionInput")]
pub struct NewCaseAction {
    /// A client-generated id (offline clients; a retry adds nothing twice).
    pub id: Option<Uuid>,
    /// What is to be done, by whom; 1 to 1,000 characters.
    pub description: String,
    /// By when: on or after the day the case was opened.
    pub due_on: NaiveDate,
}

/// A step of a protection case, as `updateProtectionCase` and a sync item carry it.
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "ProtectionCaseChangeInput")]
pub struct CaseChange {
    /// REVIEW, PLAN, TRANSFER, ACCEPT_TRANSFER, REJECT_TRANSFER, CLOSE or REOPEN.
    pub step: CaseStep,
    /// What was found or decided, at most 1,000 characters; required to reject a transfer.
    pub note: Option<String>,
    /// REVIEW: the risk as re-assessed (required); the next review is due from it.
    pub risk_level: Option<RiskLevel>,
    /// PLAN: actions to add.
    pub add_actions: Option<Vec<NewCaseAction>>,
    /// PLAN: actions of this case done today.
    pub done_action_ids: Option<Vec<Uuid>>,
    /// TRANSFER: the case worker offered the case (holding CASE_WORKER, its capture scope holding
    /// `toOrgUnitId`).
    pub to_user_id: Option<Uuid>,
    /// TRANSFER: the unit that would manage it; the case's own when left out.
    pub to_org_unit_id: Option<Uuid>,
    /// CLOSE: why (required).
    pub close_reason: Option<CaseCloseReason>,
}

/// `updateProtectionCase`'s input: the case, the version you saw and the step.
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "UpdateProtectionCaseInput")]
pub struct CaseUpdate {
    /// The case.
    pub id: Uuid,
    /// The version you last saw: a CONFLICT when it changed since.
    pub expected_version: Option<i32>,
    /// The step.
    #[graphql(flatten)]
    pub change: CaseChange,
}

/// Which cases `protectionCases` lists (each given condition must hold), among those you see.
#[derive(InputObject, Clone, Debug, Default)]
#[graphql(name = "ProtectionCaseFilter")]
pub struct CaseFilter {
    /// Managed in this unit's subtree.
    pub org_unit_id: Option<Uuid>,
    /// Only these statuses.
    pub status: Option<Vec<CaseStatus>>,
    /// Only those assigned to you.
    pub assigned_to_me: Option<bool>,
    /// Only those with a transfer pending to you (or, for a supervisor, to your units).
    pub transfer_pending: Option<bool>,
    /// Only open cases whose review is due before this day: overdue on it.
    pub review_overdue_on: Option<NaiveDate>,
}

/// How many actions one PLAN step may add (or complete).
const MAX_ACTIONS: usize = 50;

impl Store {
    /// The cases the caller sees (`access::cases_condition`).
    pub(crate) fn visible_cases(&self, select: Select<protection_case::Entity>) -> Select<protection_case::Entity> {
        match cases_condition(self.principal()) {
            Some(c) => select.filter(c),
            None => select,
        }
    }

    /// Each case read is in the audit log (who read which case, when).
    pub(super) async fn log_case_reads(&self, cases: &[protection_case::Model]) -> ApiResult<()> {
        // Together, so the read log commits a page's entries at once, not one by one.
        let entries = cases.iter().map(|c| self.auditor().entry("READ", "protection_case", Some(c.id), None, None));
        futures_util::future::try_join_all(entries.map(|e| self.log_read(e))).await?;
        Ok(())
    }

    /// A case the caller sees, its read audited (NOT_FOUND otherwise).
    pub async fn protection_case(&self, id: Uuid) -> ApiResult<protection_case::Model> {
        self.authorize(Action::ManageCases)?;
        let found = self.case_unaudited(id).await?;
        self.log_case_reads(std::slice::from_ref(&found)).await?;
        Ok(found)
    }

    async fn case_unaudited(&self, id: Uuid) -> ApiResult<protection_case::Model> {
        self.visible_cases(protection_case::Entity::find_by_id(id))
            .one(self.db())
            .await?
            .ok_or(ApiError::not_found("protection case"))
    }

    pub async fn protection_cases(
        &self,
        filter: CaseFilter,
        req: &PageRequest,
    ) -> ApiResult<Page<protection_case::Model>> {
        use protection_case::Column as C;
        self.authorize(Action::ManageCases)?;
        let mut q = self.visible_cases(protection_case::Entity::find());
        if let Some(unit) = filter.org_unit_id {
            let unit = self.known_unit(unit, "filter.orgUnitId").await?;
            q = q.filter(Expr::col(C::OrgUnitId).in_subquery(crate::access::units_under(&unit.path)));
        }
        if let Some(statuses) = filter.status {
            q = q.filter(C::Status.is_in(statuses.iter().map(|s| s.as_str())));
        }
        let me = self.principal().user_id.unwrap_or_default();
        if filter.assigned_to_me == Some(true) {
            q = q.filter(C::AssignedTo.eq(me));
        }
        if filter.transfer_pending == Some(true) {
            let mut to_me = Condition::any().add(C::TransferToUser.eq(me));
            if self.principal().has(Role::Supervisor) || self.principal().has(Role::Admin) {
                to_me = match self.principal().capture.units_condition(C::TransferToUnit) {
                    Some(units) => to_me.add(units),
                    None => Condition::all().add(C::TransferToUnit.is_not_null()),
                };
            }
            q = q.filter(to_me);
        }
        if let Some(day) = filter.review_overdue_on {
            q = q.filter(C::Status.eq(CaseStatus::Open.as_str())).filter(C::ReviewDueOn.lt(day));
        }
        let page = page::fetch(self.pool(), q, C::Id, req).await?;
        self.log_case_reads(&page.items).await?;
        Ok(page)
    }

    /// The cases of these children the caller sees (none for a caller who works on no cases),
    /// each read audited.
    pub async fn cases_of_people(&self, people: &[Uuid]) -> ApiResult<Vec<protection_case::Model>> {
        if !self.principal().may(Action::ManageCases) {
            return Ok(Vec::new());
        }
        let found = self
            .visible_cases(protection_case::Entity::find())
            .filter(protection_case::Column::PersonId.is_in(people.iter().copied()))
            .order_by_asc(protection_case::Column::Id)
            .all(self.db())
            .await?;
        self.log_case_reads(&found).await?;
        Ok(found)
    }

    /// The plan of these cases (which the caller has read), oldest first.
    pub async fn case_actions(&self, cases: &[Uuid]) -> ApiResult<Vec<protection_case_action::Model>> {
        Ok(protection_case_action::Entity::find()
            .filter(protection_case_action::Column::CaseId.is_in(cases.iter().copied()))
            .order_by_asc(protection_case_action::Column::Id)
            .all(self.db())
            .await?)
    }

    /// The history of these cases (which the caller has read), oldest first.
    pub async fn case_steps(&self, cases: &[Uuid]) -> ApiResult<Vec<protection_case_step::Model>> {
        Ok(protection_case_step::Entity::find()
            .filter(protection_case_step::Column::CaseId.is_in(cases.iter().copied()))
            .order_by_asc(protection_case_step::Column::Id)
            .all(self.db())
            .await?)
    }

    /// The child of each of these cases (by id, those the caller sees): the minimum to work the
    /// case wherever the child lives (`ReferredPerson`); the cases' reads are audited where they
    /// are listed or fetched, not again here.
    pub async fn case_children(&self, ids: &[Uuid]) -> ApiResult<Vec<(Uuid, super::ReferredSubject)>> {
        let cases = self
            .visible_cases(
                protection_case::Entity::find().filter(protection_case::Column::Id.is_in(ids.iter().copied())),
            )
            .all(self.db())
            .await?;
        let (people, households) = self.minimum_rows(cases.iter().map(|c| c.person_id).collect(), vec![]).await?;
        Ok(cases
            .iter()
            .map(|c| {
                let person = people.get(&c.person_id).cloned();
                let household = person.as_ref().and_then(|p| p.household_id).and_then(|h| households.get(&h).cloned());
                (c.id, super::ReferredSubject { person, household })
            })
            .collect())
    }

    /// How the caller stands to a case (`domain::protection::CaseRole`).
    async fn case_roles(&self, c: &protection_case::Model) -> ApiResult<Vec<CaseRole>> {
        let p = self.principal();
        let admin = p.has(Role::Admin);
        let supervises = |unit: Option<org_unit::Model>| {
            admin || (p.has(Role::Supervisor) && unit.is_some_and(|u| p.capture.covers_path(&u.path)))
        };
        let mut roles = Vec::new();
        if admin || (p.has(Role::CaseWorker) && p.user_id == Some(c.assigned_to)) {
            roles.push(CaseRole::Owner);
        }
        if supervises(self.org_unit(c.org_unit_id).await?) {
            roles.push(CaseRole::Supervisor);
        }
        if let Some(unit) = c.transfer_to_unit {
            let offered = p.has(Role::CaseWorker) && p.user_id.is_some() && p.user_id == c.transfer_to_user;
            if offered || supervises(self.org_unit(unit).await?) {
                roles.push(CaseRole::Transferee);
            }
        }
        Ok(roles)
    }

    /// A case worker who may own a case managed in `unit`: an active user holding CASE_WORKER
    /// whose capture scope holds the unit.
    async fn check_case_worker(&self, user: Uuid, unit: &org_unit::Model, path: &str) -> ApiResult<()> {
        let fits = |p: &Principal| p.has(Role::CaseWorker) && p.capture.covers_path(&unit.path);
        match self.principal_of_user(user).await? {
            Some(p) if fits(&p) => Ok(()),
            _ => Err(ApiError::invalid(path, "is not a case worker of the case's unit")),
        }
    }

    /// Opens a case (`openProtectionCase`). No household consent is asked: a child's protection
    /// does not wait on the family's agreement, which is why so few may see the case.
    pub async fn open_protection_case(&self, input: NewProtectionCase) -> ApiResult<protection_case::Model> {
        self.authorize(Action::ManageCases)?;
        let mut p = Problems::default();
        let opened_on = input.opened_on.unwrap_or_else(today);
        validate::past_date(&mut p, "input.openedOn", opened_on, today());
        let summary = input.summary.as_deref().map(|t| validate::lines(&mut p, "input.summary", t, 2000));
        p.into_result()?;
        let child =
            self.person(input.person_id).await.map_err(|_| ApiError::invalid("input.personId", "unknown person"))?;
        if opened_on < child.birth_date {
            return Err(ApiError::invalid("input.openedOn", "is before the child was born"));
        }
        if age::years(child.birth_date, opened_on) >= 18 {
            return Err(ApiError::invalid("input.personId", "is not a child (under 18) on the day it is opened"));
        }
        let unit = self.known_unit(child.org_unit_id, "input.personId").await?;
        self.check_capture(&unit)?;
        let me = self.principal().user_id;
        let assigns = self.principal().has(Role::Supervisor) || self.principal().has(Role::Admin);
        let worker = match (input.case_worker_id, me) {
            (Some(w), _) if w != me.unwrap_or_default() && !assigns => return Err(ApiError::Forbidden),
            (Some(w), _) => w,
            (None, Some(me)) if self.principal().has(Role::CaseWorker) => me,
            _ => return Err(ApiError::invalid("input.caseWorkerId", "names the case worker who owns the case")),
        };
        self.check_case_worker(worker, &unit, "input.caseWorkerId").await?;
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        if self.id_taken::<protection_case::Entity>("protection_case", id).await? {
            return Err(ApiError::conflict("a protection case with this id exists"));
        }
        let now = super::now();
        let row = protection_case::Model {
            id,
            created_at: now,
            updated_at: now,
            version: 1,
            person_id: child.id,
            org_unit_id: unit.id,
            concern: input.concern.as_str().into(),
            risk_level: input.risk_level.as_str().into(),
            status: CaseStatus::Open.as_str().into(),
            opened_on,
            review_due_on: opened_on + Days::new(review_in_days(input.risk_level)),
            closed_on: None,
            close_reason: None,
            summary,
            assigned_to: worker,
            opened_by: me,
            transfer_to_user: None,
            transfer_to_unit: None,
            transfer_note: None,
            change_seq: 0,
        };
        let risk = Some(input.risk_level);
        self.write(move |txn, w| {
            Box::pin(async move {
                let mut row = row;
                row.change_seq = w.seq;
                let active: protection_case::ActiveModel = row.clone().into();
                protection_case::Entity::insert(active.reset_all()).exec_without_returning(txn).await?;
                step(id, CaseStep::Open, me, risk, None, None).insert(txn).await?;
                w.record("CREATE", "protection_case", id, None, Some(&row));
                Ok(row)
            })
        })
        .await
    }

    /// Takes one step of a case (`updateProtectionCase`).
    pub async fn update_protection_case(&self, input: CaseUpdate) -> ApiResult<protection_case::Model> {
        self.authorize(Action::ManageCases)?;
        let current = self.case_unaudited(input.id).await?;
        let change = input.change;
        let status = CaseStatus::from_db(&current.status)?;
        let pending = current.transfer_to_unit.is_some();
        let roles = self.case_roles(&current).await?;
        if !step_allowed(status, pending, change.step, &roles) {
            let everyone = [CaseRole::Owner, CaseRole::Supervisor, CaseRole::Transferee];
            return Err(if step_allowed(status, pending, change.step, &everyone) {
                ApiError::Forbidden
            } else {
                let why = match (pending, change.step) {
                    (true, _) => format!("cannot be taken on a {} case with a transfer pending", status.as_str()),
                    (false, _) => format!("cannot be taken on a {} case", status.as_str()),
                };
                ApiError::invalid("input.step", why)
            });
        }
        super::households::check_version(input.expected_version, current.version)?;
        let mut p = Problems::default();
        let note = change.note.as_deref().map(|t| validate::lines(&mut p, "input.note", t, 1000));
        let only = |p: &mut Problems, given: bool, field: &str, step: CaseStep| {
            if given && change.step != step {
                p.add(field, format!("is given only with {}", step.as_str()));
            }
        };
        only(&mut p, change.risk_level.is_some(), "input.riskLevel", CaseStep::Review);
        only(&mut p, change.add_actions.is_some(), "input.addActions", CaseStep::Plan);
        only(&mut p, change.done_action_ids.is_some(), "input.doneActionIds", CaseStep::Plan);
        only(&mut p, change.to_user_id.is_some(), "input.toUserId", CaseStep::Transfer);
        only(&mut p, change.to_org_unit_id.is_some(), "input.toOrgUnitId", CaseStep::Transfer);
        only(&mut p, change.close_reason.is_some(), "input.closeReason", CaseStep::Close);
        let mut row = current.clone();
        let mut new_actions = Vec::new();
        let mut done = Vec::new();
        let me = self.principal().user_id;
        match change.step {
            CaseStep::Open => {}
            CaseStep::Review => match change.risk_level {
                Some(risk) => {
                    row.risk_level = risk.as_str().into();
                    row.review_due_on = today() + Days::new(review_in_days(risk));
                }
                None => p.add("input.riskLevel", "is the risk as re-assessed"),
            },
            CaseStep::Plan => {
                for (i, a) in change.add_actions.iter().flatten().enumerate() {
                    let path = format!("input.addActions.{i}");
                    let description = validate::lines(&mut p, &format!("{path}.description"), &a.description, 1000);
                    p.check(!description.is_empty(), &format!("{path}.description"), "must not be empty");
                    p.check(a.due_on >= current.opened_on, &format!("{path}.dueOn"), "is before the case was opened");
                    let within = a.due_on <= today() + Days::new(5 * 366);
                    p.check(within, &format!("{path}.dueOn"), "is more than 5 years ahead");
                    if a.id.is_some() && change.add_actions.iter().flatten().take(i).any(|b| b.id == a.id) {
                        p.add(format!("{path}.id"), "is given twice");
                    }
                    new_actions.push(protection_case_action::ActiveModel {
                        id: Set(a.id.unwrap_or_else(Uuid::now_v7)),
                        case_id: Set(current.id),
                        description: Set(description),
                        due_on: Set(a.due_on),
                        done_on: Set(None),
                        added_by: Set(me),
                        added_at: Set(super::now()),
                    });
                }
                done = change.done_action_ids.clone().unwrap_or_default();
                if new_actions.len() > MAX_ACTIONS {
                    p.add("input.addActions", format!("at most {MAX_ACTIONS} actions a step"));
                }
                if done.len() > MAX_ACTIONS {
                    p.add("input.doneActionIds", format!("at most {MAX_ACTIONS} actions a step"));
                }
                p.check(!new_actions.is_empty() || !done.is_empty(), "input.addActions", "adds or completes an action");
            }
            CaseStep::Transfer => {
                let to_unit = match change.to_org_unit_id {
                    Some(u) => self.known_unit(u, "input.toOrgUnitId").await?,
                    None => self.known_unit(current.org_unit_id, "input.toOrgUnitId").await?,
                };
                match change.to_user_id {
                    Some(u) if u == current.assigned_to => p.add("input.toUserId", "already owns the case"),
                    Some(u) => {
                        self.check_case_worker(u, &to_unit, "input.toUserId").await?;
                        row.transfer_to_user = Some(u);
                        row.transfer_to_unit = Some(to_unit.id);
                        row.transfer_note = note.clone();
                    }
                    None => p.add("input.toUserId", "names the case worker offered the case"),
                }
            }
            CaseStep::AcceptTransfer => {
                // The one offered it must still work cases there.
                if let (Some(user), Some(unit)) = (current.transfer_to_user, current.transfer_to_unit) {
                    let unit = self.known_unit(unit, "input.step").await?;
                    self.check_case_worker(user, &unit, "input.step").await.map_err(|_| {
                        ApiError::invalid("input.step", "the case worker offered it no longer works cases there")
                    })?;
                }
                row.assigned_to = current.transfer_to_user.unwrap_or(current.assigned_to);
                row.org_unit_id = current.transfer_to_unit.unwrap_or(current.org_unit_id);
                (row.transfer_to_user, row.transfer_to_unit, row.transfer_note) = (None, None, None);
            }
            CaseStep::RejectTransfer => {
                if note.as_deref().is_none_or(str::is_empty) {
                    p.add("input.note", "says why the transfer is rejected");
                }
                (row.transfer_to_user, row.transfer_to_unit, row.transfer_note) = (None, None, None);
            }
            CaseStep::Close => match change.close_reason {
                Some(reason) => {
                    row.status = CaseStatus::Closed.as_str().into();
                    row.close_reason = Some(reason.as_str().into());
                    row.closed_on = Some(today());
                }
                None => p.add("input.closeReason", "says why it is closed"),
            },
            CaseStep::Reopen => {
                row.status = CaseStatus::Open.as_str().into();
                (row.close_reason, row.closed_on) = (None, None);
                let risk = RiskLevel::from_db(&current.risk_level)?;
                row.review_due_on = today() + Days::new(review_in_days(risk));
            }
        }
        p.into_result()?;
        for (i, a) in change.add_actions.iter().flatten().enumerate() {
            if let Some(id) = a.id
                && self.id_taken::<protection_case_action::Entity>("protection_case_action", id).await?
            {
                return Err(ApiError::conflict(format!("input.addActions.{i}.id is taken")));
            }
        }
        if !done.is_empty() {
            let open: Vec<Uuid> = self
                .case_actions(&[current.id])
                .await?
                .into_iter()
                .filter(|a| a.done_on.is_none())
                .map(|a| a.id)
                .collect();
            if let Some(i) = done.iter().position(|d| !open.contains(d)) {
                return Err(ApiError::invalid(
                    format!("input.doneActionIds.{i}"),
                    "is not an action of this case still to do",
                ));
            }
        }
        row.version = current.version + 1;
        row.updated_at = super::now();
        let (kind, risk, key) = (change.step, change.risk_level, change_key(&change));
        self.write(move |txn, w| {
            Box::pin(async move {
                let mut row = row;
                row.change_seq = w.seq;
                let res = protection_case::Entity::update_many()
                    .set(protection_case::ActiveModel::from(row.clone()).reset_all())
                    .filter(protection_case::Column::Id.eq(row.id))
                    .filter(protection_case::Column::Version.eq(current.version))
                    .exec(txn)
                    .await?;
                if res.rows_affected == 0 {
                    return Err(ApiError::conflict("the case was changed by someone else; reload it"));
                }
                for action in new_actions {
                    action.insert(txn).await?;
                }
                if !done.is_empty() {
                    protection_case_action::Entity::update_many()
                        .col_expr(protection_case_action::Column::DoneOn, Expr::value(today()))
                        .filter(protection_case_action::Column::Id.is_in(done))
                        .exec(txn)
                        .await?;
                }
                step(row.id, kind, me, risk, note.clone(), Some(key)).insert(txn).await?;
                // Those who stop seeing the case (the unit it left, or the one that turned it
                // down) drop it from their devices; at the same change number the case itself
                // follows for those who still see it.
                let left = match kind {
                    CaseStep::AcceptTransfer => Some(current.org_unit_id),
                    CaseStep::RejectTransfer => current.transfer_to_unit,
                    _ => None,
                };
                if let Some(unit) = left {
                    let why = if kind == CaseStep::AcceptTransfer { "TRANSFERRED" } else { "REJECTED" };
                    super::write::tombstone(txn, super::write::CASE_TOMBSTONE, row.id, unit, w.seq, why).await?;
                }
                let changes = super::audit::diff(Some(&current), Some(&row));
                let detail = match &note {
                    Some(n) => format!("{}: {n}", kind.as_str()),
                    None => kind.as_str().to_string(),
                };
                w.note("TRANSITION", "protection_case", row.id, changes, Some(detail));
                Ok(row)
            })
        })
        .await
    }

    /// Whether `change` is the case's latest step, taken by the caller on top of version
    /// `base` (a retry of it, from a device that did not hear the answer).
    pub(super) async fn case_change_applied(
        &self,
        current: &protection_case::Model,
        base: i32,
        change: &CaseChange,
    ) -> ApiResult<bool> {
        if current.version != base + 1 {
            return Ok(false);
        }
        let last = self.case_steps(&[current.id]).await?.pop();
        let key = change_key(change);
        Ok(last.is_some_and(|s| s.by_user == self.principal().user_id && s.change_key.as_deref() == Some(&key)))
    }
}

/// Erasure of a person: the free text of their cases, plans and steps is removed (the cases stay,
/// so every count still adds up); case workers' devices pull the scrubbed cases.
pub(super) async fn erase_texts<C: ConnectionTrait>(conn: &C, person: Uuid, seq: i64) -> ApiResult<()> {
    let theirs = || {
        Query::select()
            .column(protection_case::Column::Id)
            .from(protection_case::Entity)
            .and_where(Expr::col(protection_case::Column::PersonId).eq(person))
            .to_owned()
    };
    protection_case_step::Entity::update_many()
        .col_expr(protection_case_step::Column::Note, Expr::value(Option::<String>::None))
        .filter(Expr::col(protection_case_step::Column::CaseId).in_subquery(theirs()))
        .exec(conn)
        .await?;
    protection_case_action::Entity::update_many()
        .col_expr(protection_case_action::Column::Description, Expr::value(crate::domain::names::ERASED))
        .filter(Expr::col(protection_case_action::Column::CaseId).in_subquery(theirs()))
        .exec(conn)
        .await?;
    protection_case::Entity::update_many()
        .col_expr(protection_case::Column::Summary, Expr::value(Option::<String>::None))
        .col_expr(protection_case::Column::TransferNote, Expr::value(Option::<String>::None))
        .col_expr(protection_case::Column::Version, Expr::col(protection_case::Column::Version).add(1))
        .col_expr(protection_case::Column::ChangeSeq, Expr::value(seq))
        .filter(protection_case::Column::PersonId.eq(person))
        .exec(conn)
        .await?;
    Ok(())
}

/// A digest of a step's input (`protection_case_step.change_key`).
fn change_key(change: &CaseChange) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(format!("{change:?}").as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A step of a case's history.
fn step(
    case: Uuid,
    kind: CaseStep,
    by: Option<Uuid>,
    risk: Option<RiskLevel>,
    note: Option<String>,
    change_key: Option<String>,
) -> protection_case_step::ActiveModel {
    protection_case_step::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case),
        step: Set(kind.as_str().into()),
        by_user: Set(by),
        at: Set(super::now()),
        on_day: Set(Some(today())),
        risk_level: Set(risk.map(|r| r.as_str().into())),
        note: Set(note),
        change_key: Set(change_key),
    }
}
