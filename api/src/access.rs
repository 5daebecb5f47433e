//! Who may see and write what: the caller's `Principal` and the one translation of its org-unit
//! scopes into SQL conditions. Every read and write of the store goes through here; resolvers never
//! filter by scope themselves.

use crate::domain::vocab::Role;
use entity::{
    assessment_action, attendance, community_project, consent, enrolment, family_assessment, growth_measurement,
    hiv_knowledge, household, immunisation, milestone_check, org_unit, person, pregnancy, project_budget_line,
    project_partner, protection_case, referral, service_record, tombstone,
};
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, EntityTrait};
use uuid::Uuid;

/// A set of org-unit subtrees, each named by its root's materialised path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Everywhere,
    Subtrees(Vec<String>),
}

impl Scope {
    /// `column IN (units of the scope)`, or None when the scope is everywhere.
    pub fn units_condition(&self, column: impl ColumnTrait) -> Option<Condition> {
        self.units_condition_at(column)
    }

    /// `units_condition` for any column reference (a qualified one, `(alias, column)`).
    pub fn units_condition_at<C: IntoColumnRef + Clone>(&self, column: C) -> Option<Condition> {
        match self {
            Scope::Everywhere => None,
            Scope::Subtrees(paths) => {
                let mut any = Condition::any();
                for path in paths {
                    any = any.add(Expr::col(column.clone()).in_subquery(units_under(path)));
                }
                // An empty scope sees nothing.
                Some(if paths.is_empty() { Condition::all().add(Expr::val(1).eq(0)) } else { any })
            }
        }
    }

    pub fn covers_path(&self, unit_path: &str) -> bool {
        match self {
            Scope::Everywhere => true,
            Scope::Subtrees(paths) => paths.iter().any(|p| unit_path.starts_with(p.as_str())),
        }
    }
}

/// Ids of the units in the subtree rooted at `path`: one indexed range over the bytewise-ordered
/// path (every descendant path starts with `path`, which ends in '/', and '0' follows '/').
pub fn units_under(path: &str) -> SelectStatement {
    let (start, end) = subtree_bounds(path);
    Query::select()
        .column(org_unit::Column::Id)
        .from(org_unit::Entity)
        .and_where(Expr::col(org_unit::Column::Path).gte(start))
        .and_where(Expr::col(org_unit::Column::Path).lt(end))
        .to_owned()
}

/// The paths of the subtree rooted at `path`: from `path` (included) to its end (excluded).
pub fn subtree_bounds(path: &str) -> (String, String) {
    (path.to_string(), format!("{}0", &path[..path.len().saturating_sub(1)]))
}

/// The caller of one request.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: Option<Uuid>,
    pub roles: Vec<Role>,
    /// Where the caller may read.
    pub view: Scope,
    /// Where the caller may write.
    pub capture: Scope,
    /// Sees no names, registry numbers, phones or exact birth dates, and pseudonyms for ids.
    pub deidentified: bool,
    /// De-identified and reads statistical tables only: no records one by one (ANALYST without
    /// RESEARCHER), since rows can be counted exactly.
    pub tables_only: bool,
    /// The partner organisation the caller works for, if any.
    pub partner_id: Option<Uuid>,
}

/// The partner organisations a caller may list (`Principal::partners_visible`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartnersVisible {
    All,
    Own(Uuid),
}

/// What a caller may do, apart from where: the role matrix of README.md, in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Households, people, pregnancies and consent.
    RegisterPeople,
    /// Service records and their details.
    RecordServices,
    /// Users, the audit log, erasure.
    Administer,
    /// Family assessments (Triple-A visits) and the actions agreed at them.
    AssessFamilies,
    /// Proposing community projects, reporting on them, recording their reach.
    ManageProjects,
    /// Approving, starting, completing or cancelling community projects (local government's
    /// decision; administrators here).
    DecideProjects,
    /// Sending referrals, and answering those a caller's unit receives.
    Refer,
    /// Opening child-protection cases and working on those a caller may see
    /// (`cases_condition`).
    ManageCases,
}

impl Principal {
    /// The service itself: the CLI and demo seeding.
    pub fn system() -> Self {
        Self {
            user_id: None,
            roles: vec![Role::Admin],
            view: Scope::Everywhere,
            capture: Scope::Everywhere,
            deidentified: false,
            tables_only: false,
            partner_id: None,
        }
    }

    /// A caller without a valid token: sees and writes nothing.
    pub fn anonymous() -> Self {
        Self {
            user_id: None,
            roles: vec![],
            view: Scope::Subtrees(vec![]),
            capture: Scope::Subtrees(vec![]),
            deidentified: true,
            tables_only: true,
            partner_id: None,
        }
    }

    /// The principal of a user with these roles; `capture` and `view` are the unit paths of the
    /// user's own scopes, `partner_units` those its partner organisation is assigned to.
    pub fn for_user(
        user_id: Uuid,
        roles: Vec<Role>,
        capture: Vec<String>,
        view: Vec<String>,
        partner_units: Vec<String>,
    ) -> Self {
        let has = |r: Role| roles.contains(&r);
        let case_work = has(Role::CaseWorker) || has(Role::Supervisor);
        let writes = has(Role::FieldWorker) || has(Role::Partner) || has(Role::Provider) || case_work;
        let (view, capture) = if has(Role::Admin) {
            (Scope::Everywhere, Scope::Everywhere)
        } else {
            let mut seen: Vec<String> = Vec::new();
            if has(Role::FieldWorker) || has(Role::Provider) || case_work {
                // Capture implies view: a worker reads what they write.
                seen.extend(capture.iter().cloned());
                seen.extend(view);
            }
            if has(Role::Partner) {
                seen.extend(partner_units);
            }
            let view = if has(Role::Analyst) || has(Role::Researcher) {
                Scope::Everywhere
            } else {
                Scope::Subtrees(dedup(seen))
            };
            (view, Scope::Subtrees(if writes { dedup(capture) } else { vec![] }))
        };
        // An analyst or researcher who holds no role that reads identifiable data sees it
        // de-identified; an analyst without the researcher's role, as tables only.
        let statistical = |r: &Role| matches!(r, Role::Analyst | Role::Researcher);
        let deidentified = roles.iter().any(statistical) && roles.iter().all(statistical);
        let tables_only = deidentified && !has(Role::Researcher);
        Self { user_id: Some(user_id), roles, view, capture, deidentified, tables_only, partner_id: None }
    }

    /// The same principal, working for a partner organisation.
    pub fn with_partner(mut self, partner_id: Option<Uuid>) -> Self {
        self.partner_id = partner_id;
        self
    }

    pub fn is_authenticated(&self) -> bool {
        !self.roles.is_empty()
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn may(&self, action: Action) -> bool {
        let any = |rs: &[Role]| self.roles.iter().any(|r| rs.contains(r));
        match action {
            Action::RegisterPeople => any(&[Role::Admin, Role::FieldWorker, Role::Partner]),
            Action::RecordServices => any(&[Role::Admin, Role::FieldWorker, Role::Partner, Role::Provider]),
            Action::Administer => any(&[Role::Admin]),
            Action::AssessFamilies => any(&[Role::Admin, Role::FieldWorker, Role::Partner]),
            Action::ManageProjects => any(&[Role::Admin, Role::FieldWorker, Role::Partner]),
            Action::DecideProjects => any(&[Role::Admin]),
            Action::Refer => any(&[
                Role::Admin,
                Role::FieldWorker,
                Role::Partner,
                Role::Provider,
                Role::CaseWorker,
                Role::Supervisor,
            ]),
            Action::ManageCases => any(&[Role::Admin, Role::CaseWorker, Role::Supervisor]),
        }
    }

    /// Which partner organisations (with their units) this caller may list: administrators all,
    /// a partner's staff their own; for everyone else `None` (FORBIDDEN), since who funds and
    /// implements what, where, is the administrators' business.
    pub fn partners_visible(&self) -> Option<PartnersVisible> {
        if self.may(Action::Administer) {
            Some(PartnersVisible::All)
        } else if self.roles.contains(&Role::Partner) {
            self.partner_id.map(PartnersVisible::Own)
        } else {
            None
        }
    }

    /// The roles as stored in the audit log.
    pub fn role_names(&self) -> String {
        self.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
    }
}

fn dedup(mut paths: Vec<String>) -> Vec<String> {
    paths.sort();
    paths.dedup();
    paths
}

/// Entities whose rows are personal data and are visible only inside the caller's view scope.
pub trait Scoped: EntityTrait {
    /// The condition that keeps only rows inside `scope` (None: no restriction).
    fn in_scope(scope: &Scope) -> Option<Condition>;
}

/// Ids of the people inside `scope` (None: everyone).
fn person_ids_in(scope: &Scope) -> Option<SelectStatement> {
    let cond = scope.units_condition(person::Column::OrgUnitId)?;
    Some(Query::select().column(person::Column::Id).from(person::Entity).cond_where(cond).to_owned())
}

fn person_column_in(scope: &Scope, column: impl ColumnTrait) -> Option<Condition> {
    Some(Condition::all().add(Expr::col(column).in_subquery(person_ids_in(scope)?)))
}

impl Scoped for person::Entity {
    fn in_scope(scope: &Scope) -> Option<Condition> {
        scope.units_condition(person::Column::OrgUnitId)
    }
}

impl Scoped for household::Entity {
    fn in_scope(scope: &Scope) -> Option<Condition> {
        scope.units_condition(household::Column::OrgUnitId)
    }
}

impl Scoped for pregnancy::Entity {
    fn in_scope(scope: &Scope) -> Option<Condition> {
        person_column_in(scope, pregnancy::Column::MotherId)
    }
}

impl Scoped for service_record::Entity {
    /// A record is visible when its subject (person or household) is.
    fn in_scope(scope: &Scope) -> Option<Condition> {
        let people = person_ids_in(scope)?;
        let households = scope.units_condition(household::Column::OrgUnitId)?;
        let hh =
            Query::select().column(household::Column::Id).from(household::Entity).cond_where(households).to_owned();
        Some(
            Condition::any()
                .add(Expr::col(service_record::Column::PersonId).in_subquery(people))
                .add(Expr::col(service_record::Column::HouseholdId).in_subquery(hh)),
        )
    }
}

impl Scoped for growth_measurement::Entity {
    fn in_scope(scope: &Scope) -> Option<Condition> {
        person_column_in(scope, growth_measurement::Column::PersonId)
    }
}

impl Scoped for immunisation::Entity {
    fn in_scope(scope: &Scope) -> Option<Condition> {
        person_column_in(scope, immunisation::Column::PersonId)
    }
}

impl Scoped for hiv_knowledge::Entity {
    fn in_scope(scope: &Scope) -> Option<Condition> {
        person_column_in(scope, hiv_knowledge::Column::PersonId)
    }
}

impl Scoped for milestone_check::Entity {
    fn in_scope(scope: &Scope) -> Option<Condition> {
        person_column_in(scope, milestone_check::Column::PersonId)
    }
}

impl Scoped for consent::Entity {
    fn in_scope(scope: &Scope) -> Option<Condition> {
        let units = scope.units_condition(household::Column::OrgUnitId)?;
        let households =
            Query::select().column(household::Column::Id).from(household::Entity).cond_where(units).to_owned();
        Some(Condition::all().add(Expr::col(consent::Column::HouseholdId).in_subquery(households)))
    }
}

impl Scoped for tombstone::Entity {
    fn in_scope(scope: &Scope) -> Option<Condition> {
        scope.units_condition(tombstone::Column::OrgUnitId)
    }
}

impl Scoped for family_assessment::Entity {
    fn in_scope(scope: &Scope) -> Option<Condition> {
        scope.units_condition(family_assessment::Column::OrgUnitId)
    }
}

impl Scoped for assessment_action::Entity {
    fn in_scope(scope: &Scope) -> Option<Condition> {
        let units = scope.units_condition(household::Column::OrgUnitId)?;
        let households =
            Query::select().column(household::Column::Id).from(household::Entity).cond_where(units).to_owned();
        Some(Condition::all().add(Expr::col(assessment_action::Column::HouseholdId).in_subquery(households)))
    }
}

/// Projects a partner organisation funds (a budget line) or implements.
pub fn projects_of_partner(partner: Uuid) -> Condition {
    let linked = Query::select()
        .column(project_partner::Column::ProjectId)
        .from(project_partner::Entity)
        .and_where(project_partner::Column::PartnerId.eq(partner))
        .to_owned();
    let funds = Query::select()
        .column(project_budget_line::Column::ProjectId)
        .from(project_budget_line::Entity)
        .and_where(project_budget_line::Column::PartnerId.eq(partner))
        .to_owned();
    Condition::any()
        .add(Expr::col(community_project::Column::Id).in_subquery(linked))
        .add(Expr::col(community_project::Column::Id).in_subquery(funds))
}

/// The community projects a caller sees (None: all). Staff of a partner organisation see the
/// projects their organisation funds or implements, wherever they are, and no others; everyone
/// else sees the projects in their view scope.
pub fn projects_condition(p: &Principal) -> Option<Condition> {
    let staff_only = p.has(Role::Partner)
        && !p.has(Role::Admin)
        && !p.has(Role::FieldWorker)
        && !p.has(Role::Analyst)
        && !p.has(Role::Researcher);
    if staff_only {
        let Some(partner) = p.partner_id else {
            return Some(Condition::all().add(Expr::val(1).eq(0)));
        };
        return Some(projects_of_partner(partner));
    }
    p.view.units_condition(community_project::Column::OrgUnitId)
}

/// The referrals a caller sees (None: all): those sent from or to a unit of its view scope, and
/// those sent to the partner organisation it works for. The referrer keeps seeing what became of
/// a referral; the receiver sees it wherever the person lives (the subject's minimum:
/// `Store::referral_subjects`).
pub fn referrals_condition(p: &Principal) -> Option<Condition> {
    let from = p.view.units_condition(referral::Column::FromOrgUnitId)?;
    let to = p.view.units_condition(referral::Column::ToOrgUnitId)?;
    let mut any = Condition::any().add(from).add(to);
    if let Some(partner) = p.partner_id {
        any = any.add(referral::Column::ToPartnerId.eq(partner));
    }
    Some(any)
}

/// The child-protection cases a caller sees (None: all), on a need-to-know basis: the case
/// worker a case is assigned to; the supervisors whose capture scope holds the unit managing it;
/// while a transfer is pending, the worker it is offered to and the supervisors of the unit it
/// would move to; administrators all. Nobody else: not the unit's other workers, partners,
/// providers, nor analysts (who get protected counts only).
pub fn cases_condition(p: &Principal) -> Option<Condition> {
    if p.has(Role::Admin) {
        return None;
    }
    let mut any = Condition::any().add(Expr::val(1).eq(0));
    let (Some(user), true) = (p.user_id, p.may(Action::ManageCases)) else {
        return Some(any);
    };
    any = any.add(protection_case::Column::AssignedTo.eq(user)).add(protection_case::Column::TransferToUser.eq(user));
    if p.has(Role::Supervisor) {
        let managed = p.capture.units_condition(protection_case::Column::OrgUnitId)?;
        let incoming = p.capture.units_condition(protection_case::Column::TransferToUnit)?;
        any = any.add(managed).add(incoming);
    }
    Some(any)
}

impl Scoped for enrolment::Entity {
    fn in_scope(scope: &Scope) -> Option<Condition> {
        person_column_in(scope, enrolment::Column::PersonId)
    }
}

impl Scoped for attendance::Entity {
    /// Attendance is visible with its enrolment.
    fn in_scope(scope: &Scope) -> Option<Condition> {
        let enrolments = Query::select()
            .column(enrolment::Column::ServiceRecordId)
            .from(enrolment::Entity)
            .cond_where(person_column_in(scope, enrolment::Column::PersonId)?)
            .to_owned();
        Some(Condition::all().add(Expr::col(attendance::Column::EnrolmentId).in_subquery(enrolments)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_give_their_scopes() {
        let id = Uuid::nil();
        let analyst = Principal::for_user(id, vec![Role::Analyst], vec![], vec![], vec![]);
        assert!(
            analyst.deidentified && analyst.view == Scope::Everywhere && analyst.capture == Scope::Subtrees(vec![])
        );
        assert!(analyst.tables_only && !analyst.may(Action::RecordServices));
        let researcher = Principal::for_user(id, vec![Role::Researcher], vec![], vec![], vec![]);
        assert!(researcher.deidentified && !researcher.tables_only && researcher.view == Scope::Everywhere);
        let both = Principal::for_user(id, vec![Role::Analyst, Role::Researcher], vec![], vec![], vec![]);
        assert!(both.deidentified && !both.tables_only);
        let partner = Principal::for_user(id, vec![Role::Partner], vec![], vec![], vec!["/uvs/".into()]);
        assert_eq!(partner.view, Scope::Subtrees(vec!["/uvs/".into()]));
        assert!(!partner.deidentified);
        let worker = Principal::for_user(id, vec![Role::FieldWorker], vec!["/z/".into()], vec![], vec![]);
        assert_eq!(worker.view, Scope::Subtrees(vec!["/z/".into()]));
        assert_eq!(worker.capture, Scope::Subtrees(vec!["/z/".into()]));
        let provider = Principal::for_user(id, vec![Role::Provider], vec!["/f/".into()], vec![], vec![]);
        assert!(provider.may(Action::RecordServices) && !provider.may(Action::RegisterPeople));
        let both = Principal::for_user(id, vec![Role::Analyst, Role::Admin], vec![], vec![], vec![]);
        assert!(!both.deidentified && !both.tables_only);
    }

    #[test]
    fn a_subtree_covers_its_descendants_only() {
        let s = Scope::Subtrees(vec!["/a/b/".into()]);
        assert!(s.covers_path("/a/b/"));
        assert!(s.covers_path("/a/b/c/"));
        assert!(!s.covers_path("/a/bc/"));
        assert!(!s.covers_path("/a/"));
    }
}
