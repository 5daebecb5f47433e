//! Community-identified projects (CIPs): proposal with objectives, priority indicators, budget
//! lines and partners; the status workflow (each step recorded with who and when); monitoring
//! reports; the households and people reached; lists and totals.

use super::page::{self, Page, PageRequest, SortedPageRequest};
use super::{Store, today};
use crate::access::{Action, projects_condition};
use crate::domain::cell_key;
use crate::domain::family::transition_allowed;
use crate::domain::period::Period;
use crate::domain::validate;
use crate::domain::vocab::{CipArea, FunderKind, ProjectSort, ProjectStatus, Role, SortDirection};
use crate::error::{ApiError, ApiResult, Problems};
use async_graphql::InputObject;
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    assessment_indicator, community_project, household, partner, person, project_budget_line, project_indicator,
    project_partner, project_reach, project_report, project_transition,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
    Set,
};
use std::collections::HashSet;
use uuid::Uuid;

/// A community-identified project as proposed.
#[derive(InputObject, Clone)]
#[graphql(name = "ProposeCommunityProjectInput")]
pub struct NewProject {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// The soum, bag, district or khoroo whose community chose it.
    pub org_unit_id: Uuid,
    /// The area it works in.
    pub area: CipArea,
    /// Its title, at most 200 characters.
    pub title: String,
    /// Its objectives, at most 5,000 characters.
    pub objectives: String,
    /// The planned first day.
    pub starts_on: Option<NaiveDate>,
    /// The planned last day: not before `startsOn`.
    pub ends_on: Option<NaiveDate>,
    /// The assessment indicators (codes) whose priority it answers.
    #[graphql(default)]
    pub indicator_codes: Vec<String>,
    /// Its budget, line by line.
    #[graphql(default)]
    pub budget_lines: Vec<NewBudgetLine>,
    /// Partner organisations that carry it out.
    #[graphql(default)]
    pub implementing_partner_ids: Vec<Uuid>,
}

/// A line of a project's budget.
#[derive(InputObject, Clone)]
#[graphql(name = "BudgetLineInput")]
pub struct NewBudgetLine {
    /// What the money is for, at most 300 characters.
    pub description: String,
    /// In tögrög (MNT), more than 0.
    pub amount_mnt: i64,
    /// Who pays it.
    pub funder: FunderKind,
    /// The partner organisation paying, when `funder` is PARTNER.
    pub partner_id: Option<Uuid>,
}

/// A monitoring report of a community project.
#[derive(InputObject, Clone)]
#[graphql(name = "ProjectReportInput")]
pub struct NewReport {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// The project reported on.
    pub project_id: Uuid,
    /// The day of the report: not in the future; defaults to today.
    pub reported_on: Option<NaiveDate>,
    /// Progress, 0-100 percent.
    pub progress_percent: i32,
    /// What was done, at most 5,000 characters.
    pub narrative: String,
    /// Households reached so far (cumulative).
    pub households_reached: i32,
    /// People reached so far (cumulative).
    pub people_reached: i32,
}

/// Which community projects to list; all given must hold.
#[derive(InputObject, Default)]
pub struct ProjectFilter {
    /// Projects anywhere in this unit's subtree (an unknown unit is VALIDATION).
    pub org_unit_id: Option<Uuid>,
    /// Projects of this area.
    pub area: Option<CipArea>,
    /// Projects in this status.
    pub status: Option<ProjectStatus>,
    /// Projects this partner organisation funds or implements.
    pub partner_id: Option<Uuid>,
    /// Projects running at some time in this period (2026, 2026Q3, 2026-07, THIS_YEAR, ...): their
    /// planned dates overlap it (a date not set counts as open-ended).
    pub period: Option<String>,
}

/// The order of a list of projects; ties go by id.
#[derive(InputObject, Clone, Copy)]
pub struct ProjectOrder {
    /// What to order by.
    pub field: ProjectSort,
    /// Ascending (the default) or descending.
    #[graphql(default_with = "SortDirection::Asc")]
    pub direction: SortDirection,
}

impl ProjectOrder {
    pub fn order(&self) -> page::Order<community_project::Entity> {
        let desc = self.direction == SortDirection::Desc;
        match self.field {
            ProjectSort::Id => page::Order {
                key: community_project::Column::Id,
                desc,
                key_of: |m| m.id.to_string(),
                parse: |k| k.parse::<Uuid>().ok().map(sea_orm::Value::from),
            },
            ProjectSort::Title => page::Order {
                key: community_project::Column::Title,
                desc,
                key_of: |m| m.title.clone(),
                parse: |k| Some(sea_orm::Value::from(k.to_string())),
            },
            ProjectSort::CreatedAt => page::Order {
                key: community_project::Column::CreatedAt,
                desc,
                key_of: |m| m.created_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                parse: |k| k.parse::<DateTime<Utc>>().ok().map(sea_orm::Value::from),
            },
        }
    }
}

/// A project's totals.
pub struct ProjectTotals {
    pub budget_mnt: i64,
    pub by_funder: Vec<(FunderKind, i64)>,
    /// Protected by the cell-key method for de-identified callers (`None`: 0 to 4).
    pub households_linked: Option<i64>,
    pub people_linked: Option<i64>,
    /// From the latest monitoring report.
    pub households_reported: i64,
    pub people_reported: i64,
}

impl Store {
    /// `select` cut to the projects the caller may see (see `access::projects_condition`).
    pub(crate) fn visible_projects(
        &self,
        select: Select<community_project::Entity>,
    ) -> Select<community_project::Entity> {
        match projects_condition(self.principal()) {
            Some(c) => select.filter(c),
            None => select,
        }
    }

    /// `select` cut to the reports of projects the caller may see: a report is seen with its
    /// project.
    pub(crate) fn visible_reports(&self, select: Select<project_report::Entity>) -> Select<project_report::Entity> {
        match projects_condition(self.principal()) {
            Some(c) => {
                let seen =
                    community_project::Entity::find().filter(c).select_only().column(community_project::Column::Id);
                select.filter(project_report::Column::ProjectId.in_subquery(seen.into_query()))
            }
            None => select,
        }
    }

    pub async fn community_project(&self, id: Uuid) -> ApiResult<community_project::Model> {
        self.visible_projects(community_project::Entity::find_by_id(id))
            .one(self.db())
            .await?
            .ok_or(ApiError::not_found("community project"))
    }

    pub async fn community_projects(
        &self,
        filter: ProjectFilter,
        req: &PageRequest,
    ) -> ApiResult<Page<community_project::Model>> {
        let q = self.projects_select(filter).await?;
        page::fetch(self.pool(), q, community_project::Column::Id, req).await
    }

    pub async fn community_projects_ordered(
        &self,
        filter: ProjectFilter,
        order: ProjectOrder,
        req: &SortedPageRequest,
    ) -> ApiResult<Page<community_project::Model>> {
        let q = self.projects_select(filter).await?;
        page::fetch_ordered(self.pool(), q, &order.order(), community_project::Column::Id, req).await
    }

    async fn projects_select(&self, filter: ProjectFilter) -> ApiResult<Select<community_project::Entity>> {
        let mut q = self.visible_projects(community_project::Entity::find());
        if let Some(unit) = filter.org_unit_id {
            let unit = self.known_unit(unit, "filter.orgUnitId").await?;
            q = q.filter(
                Expr::col(community_project::Column::OrgUnitId).in_subquery(crate::access::units_under(&unit.path)),
            );
        }
        if let Some(a) = filter.area {
            q = q.filter(community_project::Column::Area.eq(a.as_str()));
        }
        if let Some(s) = filter.status {
            q = q.filter(community_project::Column::Status.eq(s.as_str()));
        }
        if let Some(p) = filter.partner_id {
            q = q.filter(crate::access::projects_of_partner(p));
        }
        if let Some(text) = filter.period {
            let period = Period::parse(&text, today())
                .ok_or_else(|| ApiError::invalid("filter.period", "use 2026, 2026Q3, 2026-07 or THIS_YEAR..."))?;
            q = q
                .filter(
                    Condition::any()
                        .add(community_project::Column::StartsOn.is_null())
                        .add(community_project::Column::StartsOn.lte(period.to)),
                )
                .filter(
                    Condition::any()
                        .add(community_project::Column::EndsOn.is_null())
                        .add(community_project::Column::EndsOn.gte(period.from)),
                );
        }
        Ok(q)
    }

    /// Partners linked to a project (funders through budget lines, implementers).
    async fn project_partner_ids(&self, project: Uuid) -> ApiResult<HashSet<Uuid>> {
        let mut ids: HashSet<Uuid> = project_partner::Entity::find()
            .filter(project_partner::Column::ProjectId.eq(project))
            .all(self.db())
            .await?
            .into_iter()
            .map(|p| p.partner_id)
            .collect();
        ids.extend(
            project_budget_line::Entity::find()
                .filter(project_budget_line::Column::ProjectId.eq(project))
                .all(self.db())
                .await?
                .into_iter()
                .filter_map(|l| l.partner_id),
        );
        Ok(ids)
    }

    /// Whether the caller may work on this project: administrators; field workers whose capture
    /// scope holds its unit; staff of a partner that funds or implements it.
    async fn check_manage(&self, project: &community_project::Model) -> ApiResult<()> {
        self.authorize(Action::ManageProjects)?;
        let p = self.principal();
        if p.has(Role::Admin) {
            return Ok(());
        }
        let unit = self.known_unit(project.org_unit_id, "id").await?;
        if p.has(Role::FieldWorker) && p.capture.covers_path(&unit.path) {
            return Ok(());
        }
        if let Some(partner) = p.partner_id.filter(|_| p.has(Role::Partner))
            && self.project_partner_ids(project.id).await?.contains(&partner)
        {
            return Ok(());
        }
        Err(ApiError::Forbidden)
    }

    pub async fn propose_community_project(&self, input: NewProject) -> ApiResult<community_project::Model> {
        self.authorize(Action::ManageProjects)?;
        let mut p = Problems::default();
        let title = validate::text(&mut p, "input.title", &input.title, 200);
        let objectives = validate::lines(&mut p, "input.objectives", &input.objectives, 5000);
        if let (Some(s), Some(e)) = (input.starts_on, input.ends_on) {
            p.check(e >= s, "input.endsOn", "must not be before the start");
        }
        let mut descriptions = Vec::new();
        for (i, l) in input.budget_lines.iter().enumerate() {
            descriptions.push(validate::text(
                &mut p,
                &format!("input.budgetLines.{i}.description"),
                &l.description,
                300,
            ));
            p.check(l.amount_mnt > 0, &format!("input.budgetLines.{i}.amountMnt"), "must be more than 0");
            match (l.funder, l.partner_id) {
                (FunderKind::Partner, None) => {
                    p.add(format!("input.budgetLines.{i}.partnerId"), "is required for a PARTNER line")
                }
                (f, Some(_)) if f != FunderKind::Partner => {
                    p.add(format!("input.budgetLines.{i}.partnerId"), "only a PARTNER line names a partner")
                }
                _ => {}
            }
        }
        let known: HashSet<String> =
            assessment_indicator::Entity::find().all(self.db()).await?.into_iter().map(|i| i.code).collect();
        for (i, code) in input.indicator_codes.iter().enumerate() {
            p.check(known.contains(code), &format!("input.indicatorCodes.{i}"), "is not an assessment indicator");
        }
        let mut partners: Vec<Uuid> = input.implementing_partner_ids.clone();
        partners.extend(input.budget_lines.iter().filter_map(|l| l.partner_id));
        let existing: HashSet<Uuid> = partner::Entity::find()
            .filter(partner::Column::Id.is_in(partners.iter().copied()))
            .all(self.db())
            .await?
            .into_iter()
            .map(|x| x.id)
            .collect();
        for (i, id) in input.implementing_partner_ids.iter().enumerate() {
            p.check(existing.contains(id), &format!("input.implementingPartnerIds.{i}"), "unknown partner");
        }
        for (i, l) in input.budget_lines.iter().enumerate() {
            if l.partner_id.is_some_and(|id| !existing.contains(&id)) {
                p.add(format!("input.budgetLines.{i}.partnerId"), "unknown partner");
            }
        }
        p.into_result()?;
        let unit = self.known_unit(input.org_unit_id, "input.orgUnitId").await?;
        let principal = self.principal();
        // Partner staff propose in the units their organisation is assigned to, and implement it.
        let mut implementers = input.implementing_partner_ids.clone();
        let allowed = principal.has(Role::Admin)
            || (principal.has(Role::FieldWorker) && principal.capture.covers_path(&unit.path))
            || (principal.has(Role::Partner) && principal.view.covers_path(&unit.path));
        if !allowed {
            return Err(ApiError::Forbidden);
        }
        if principal.has(Role::Partner) && !principal.has(Role::Admin) {
            implementers.extend(principal.partner_id);
        }
        implementers.sort();
        implementers.dedup();
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        if self.id_taken::<community_project::Entity>("community_project", id).await? {
            return Err(ApiError::conflict("a community project with this id exists"));
        }
        let now = super::now();
        let row = community_project::ActiveModel {
            id: Set(id),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            org_unit_id: Set(unit.id),
            area: Set(input.area.as_str().into()),
            title: Set(title),
            objectives: Set(objectives),
            status: Set(ProjectStatus::Proposed.as_str().into()),
            starts_on: Set(input.starts_on),
            ends_on: Set(input.ends_on),
            proposed_by: Set(principal.user_id),
            change_seq: Set(0),
        };
        let user = principal.user_id;
        let codes = input.indicator_codes;
        let lines = input.budget_lines;
        self.write(move |txn, w| {
            Box::pin(async move {
                let mut row = row;
                row.change_seq = Set(w.seq);
                let saved = row.insert(txn).await?;
                w.record("CREATE", "community_project", saved.id, None, Some(&saved));
                let mut seen = HashSet::new();
                for code in codes.into_iter().filter(|c| seen.insert(c.clone())) {
                    project_indicator::ActiveModel { project_id: Set(id), indicator_code: Set(code) }
                        .insert(txn)
                        .await?;
                }
                for partner_id in implementers {
                    project_partner::ActiveModel {
                        project_id: Set(id),
                        partner_id: Set(partner_id),
                        role: Set("IMPLEMENTER".into()),
                    }
                    .insert(txn)
                    .await?;
                }
                for (l, description) in lines.into_iter().zip(descriptions) {
                    let line = project_budget_line::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        created_at: Set(now),
                        updated_at: Set(now),
                        version: Set(1),
                        project_id: Set(id),
                        description: Set(description),
                        amount_mnt: Set(l.amount_mnt),
                        funder: Set(l.funder.as_str().into()),
                        partner_id: Set(l.partner_id),
                    }
                    .insert(txn)
                    .await?;
                    if let Some(p) = l.partner_id {
                        let exists =
                            project_partner::Entity::find_by_id((id, p, "FUNDER".to_string())).one(txn).await?;
                        if exists.is_none() {
                            project_partner::ActiveModel {
                                project_id: Set(id),
                                partner_id: Set(p),
                                role: Set("FUNDER".into()),
                            }
                            .insert(txn)
                            .await?;
                        }
                    }
                    w.record("CREATE", "project_budget_line", line.id, None, Some(&line));
                }
                project_transition::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    project_id: Set(id),
                    from_status: Set(None),
                    to_status: Set(ProjectStatus::Proposed.as_str().into()),
                    by_user: Set(user),
                    at: Set(now),
                    note: Set(None),
                }
                .insert(txn)
                .await?;
                Ok(saved)
            })
        })
        .await
    }

    /// Moves a project along its workflow; other moves are refused. Approving and cancelling are
    /// decisions (DecideProjects); starting and completing belong to whoever manages it.
    pub async fn transition_community_project(
        &self,
        id: Uuid,
        to: ProjectStatus,
        expected_version: Option<i32>,
        note: Option<String>,
    ) -> ApiResult<community_project::Model> {
        // The role first: a role that may never do this learns nothing of the project.
        self.authorize(Action::ManageProjects)?;
        if matches!(to, ProjectStatus::Approved | ProjectStatus::Cancelled) {
            self.authorize(Action::DecideProjects)?;
        }
        let current = self.community_project(id).await?;
        self.check_manage(&current).await?;
        let from = ProjectStatus::from_db(&current.status)?;
        if !transition_allowed(from, to) {
            return Err(ApiError::invalid("to", format!("a {} project cannot become {}", from.as_str(), to.as_str())));
        }
        super::households::check_version(expected_version, current.version)?;
        let mut p = Problems::default();
        let note = note.as_deref().map(|t| validate::lines(&mut p, "note", t, 500));
        p.into_result()?;
        let user = self.principal().user_id;
        self.write(move |txn, w| {
            Box::pin(async move {
                let mut row: community_project::ActiveModel = current.clone().into();
                row.status = Set(to.as_str().into());
                row.version = Set(current.version + 1);
                row.updated_at = Set(super::now());
                row.change_seq = Set(w.seq);
                let res = community_project::Entity::update_many()
                    .set(row)
                    .filter(community_project::Column::Id.eq(id))
                    .filter(community_project::Column::Version.eq(current.version))
                    .exec(txn)
                    .await?;
                if res.rows_affected == 0 {
                    return Err(ApiError::conflict("the project was changed by someone else; reload it"));
                }
                let saved = community_project::Entity::find_by_id(id)
                    .one(txn)
                    .await?
                    .ok_or(ApiError::not_found("community project"))?;
                project_transition::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    project_id: Set(id),
                    from_status: Set(Some(from.as_str().into())),
                    to_status: Set(to.as_str().into()),
                    by_user: Set(user),
                    at: Set(super::now()),
                    note: Set(note.clone()),
                }
                .insert(txn)
                .await?;
                w.note("TRANSITION", "community_project", id, super::audit::diff(Some(&current), Some(&saved)), note);
                Ok(saved)
            })
        })
        .await
    }

    /// A monitoring report, for projects approved, in progress or completed.
    pub async fn report_community_project(&self, input: NewReport) -> ApiResult<project_report::Model> {
        let project = self.community_project(input.project_id).await?;
        self.check_manage(&project).await?;
        let status = ProjectStatus::from_db(&project.status)?;
        if !matches!(status, ProjectStatus::Approved | ProjectStatus::InProgress | ProjectStatus::Completed) {
            return Err(ApiError::invalid(
                "input.projectId",
                format!("a {} project has nothing to report", status.as_str()),
            ));
        }
        let day = input.reported_on.unwrap_or_else(today);
        let mut p = Problems::default();
        validate::past_date(&mut p, "input.reportedOn", day, today());
        p.check((0..=100).contains(&input.progress_percent), "input.progressPercent", "must be 0 to 100");
        p.check(input.households_reached >= 0, "input.householdsReached", "must not be negative");
        p.check(input.people_reached >= 0, "input.peopleReached", "must not be negative");
        let narrative = validate::lines(&mut p, "input.narrative", &input.narrative, 5000);
        p.into_result()?;
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        if self.id_taken::<project_report::Entity>("project_report", id).await? {
            return Err(ApiError::conflict("a report with this id exists"));
        }
        let now = super::now();
        let row = project_report::ActiveModel {
            id: Set(id),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            project_id: Set(project.id),
            reported_on: Set(day),
            progress_percent: Set(input.progress_percent),
            narrative: Set(narrative),
            households_reached: Set(input.households_reached),
            people_reached: Set(input.people_reached),
            reported_by: Set(self.principal().user_id),
            change_seq: Set(0),
        };
        self.write(move |txn, w| {
            Box::pin(async move {
                let mut row = row;
                row.change_seq = Set(w.seq);
                let saved = row.insert(txn).await?;
                w.record("CREATE", "project_report", saved.id, None, Some(&saved));
                Ok(saved)
            })
        })
        .await
    }

    /// Links households and people the project reached (ones already linked are skipped); each
    /// must be visible to the caller. Returns the project.
    pub async fn link_project_reach(
        &self,
        project_id: Uuid,
        household_ids: Vec<Uuid>,
        person_ids: Vec<Uuid>,
    ) -> ApiResult<community_project::Model> {
        self.authorize(Action::ManageProjects)?;
        let project = self.community_project(project_id).await?;
        self.check_manage(&project).await?;
        let households = self.visible_where_in::<household::Entity>(household::Column::Id, &household_ids).await?;
        let people = self.visible_where_in::<person::Entity>(person::Column::Id, &person_ids).await?;
        let mut p = Problems::default();
        for (i, id) in household_ids.iter().enumerate() {
            p.check(households.iter().any(|h| h.id == *id), &format!("householdIds.{i}"), "unknown household");
        }
        for (i, id) in person_ids.iter().enumerate() {
            p.check(people.iter().any(|x| x.id == *id), &format!("personIds.{i}"), "unknown person");
        }
        p.into_result()?;
        let linked: HashSet<(String, Uuid)> = project_reach::Entity::find()
            .filter(project_reach::Column::ProjectId.eq(project_id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|r| (r.kind, r.subject_id))
            .collect();
        let mut rows: Vec<project_reach::ActiveModel> = Vec::new();
        let mut add = |kind: &str, id: Uuid, unit: Uuid| {
            if !linked.contains(&(kind.to_string(), id)) && !rows.iter().any(|r| r.subject_id.as_ref() == &id) {
                rows.push(project_reach::ActiveModel {
                    project_id: Set(project_id),
                    kind: Set(kind.into()),
                    subject_id: Set(id),
                    org_unit_id: Set(unit),
                });
            }
        };
        for h in &households {
            add("HOUSEHOLD", h.id, h.org_unit_id);
        }
        for x in &people {
            add("PERSON", x.id, x.org_unit_id);
        }
        let count = rows.len();
        if count > 0 {
            self.write(move |txn, w| {
                Box::pin(async move {
                    project_reach::Entity::insert_many(rows).exec_without_returning(txn).await?;
                    w.note("LINK_REACH", "community_project", project_id, None, Some(format!("{count} linked")));
                    Ok(())
                })
            })
            .await?;
        }
        Ok(project)
    }

    // The reads below take many projects at once: the DataLoaders of a list of projects call
    // each once per request, not once per project.

    /// Priority indicators (codes) of these projects, by code.
    pub async fn project_indicators(&self, projects: &[Uuid]) -> ApiResult<Vec<project_indicator::Model>> {
        Ok(project_indicator::Entity::find()
            .filter(project_indicator::Column::ProjectId.is_in(projects.iter().copied()))
            .order_by_asc(project_indicator::Column::IndicatorCode)
            .all(self.db())
            .await?)
    }

    pub async fn project_budget(&self, projects: &[Uuid]) -> ApiResult<Vec<project_budget_line::Model>> {
        Ok(project_budget_line::Entity::find()
            .filter(project_budget_line::Column::ProjectId.is_in(projects.iter().copied()))
            .order_by_asc(project_budget_line::Column::Id)
            .all(self.db())
            .await?)
    }

    pub async fn project_partners(
        &self,
        projects: &[Uuid],
    ) -> ApiResult<Vec<(project_partner::Model, partner::Model)>> {
        let links = project_partner::Entity::find()
            .filter(project_partner::Column::ProjectId.is_in(projects.iter().copied()))
            .all(self.db())
            .await?;
        let orgs = partner::Entity::find()
            .filter(partner::Column::Id.is_in(links.iter().map(|l| l.partner_id)))
            .all(self.db())
            .await?;
        Ok(links
            .into_iter()
            .filter_map(|l| orgs.iter().find(|o| o.id == l.partner_id).cloned().map(|o| (l, o)))
            .collect())
    }

    pub async fn project_transitions(&self, projects: &[Uuid]) -> ApiResult<Vec<project_transition::Model>> {
        Ok(project_transition::Entity::find()
            .filter(project_transition::Column::ProjectId.is_in(projects.iter().copied()))
            .order_by_asc(project_transition::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Monitoring reports, oldest first (the last of a project's is its latest).
    pub async fn project_reports(&self, projects: &[Uuid]) -> ApiResult<Vec<project_report::Model>> {
        Ok(project_report::Entity::find()
            .filter(project_report::Column::ProjectId.is_in(projects.iter().copied()))
            .order_by_asc(project_report::Column::ReportedOn)
            .order_by_asc(project_report::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Links to the households and people the projects reached (the linked rows themselves are
    /// read through the scoped loaders: a caller sees only those in scope).
    pub async fn project_reach(&self, projects: &[Uuid]) -> ApiResult<Vec<project_reach::Model>> {
        Ok(project_reach::Entity::find()
            .filter(project_reach::Column::ProjectId.is_in(projects.iter().copied()))
            .order_by_asc(project_reach::Column::SubjectId)
            .all(self.db())
            .await?)
    }
}

impl Store {
    /// A project's totals as this caller may see them.
    pub fn project_totals(
        &self,
        lines: &[project_budget_line::Model],
        links: &[project_reach::Model],
        reports: &[project_report::Model],
    ) -> ApiResult<ProjectTotals> {
        ProjectTotals::of(lines, links, reports, !self.identified())
    }
}

impl ProjectTotals {
    /// A project's totals from its budget lines, reach links and reports (oldest first); the
    /// counts of linked records protected when `protect` (a de-identified caller).
    fn of(
        lines: &[project_budget_line::Model],
        links: &[project_reach::Model],
        reports: &[project_report::Model],
        protect: bool,
    ) -> ApiResult<Self> {
        let linked = |kind: &str| {
            let ids: Vec<Uuid> = links.iter().filter(|l| l.kind == kind).map(|l| l.subject_id).collect();
            let n = ids.len() as i64;
            match protect {
                true => cell_key::protect(n, ids.iter().map(|id| cell_key::record_key(*id)).sum()).value(),
                false => Some(n),
            }
        };
        let mut by_funder: Vec<(FunderKind, i64)> = Vec::new();
        for l in lines {
            let f = FunderKind::from_db(&l.funder)?;
            match by_funder.iter_mut().find(|(k, _)| *k == f) {
                Some((_, sum)) => *sum += l.amount_mnt,
                None => by_funder.push((f, l.amount_mnt)),
            }
        }
        let latest = reports.last();
        Ok(Self {
            budget_mnt: lines.iter().map(|l| l.amount_mnt).sum(),
            by_funder,
            households_linked: linked("HOUSEHOLD"),
            people_linked: linked("PERSON"),
            households_reported: latest.map_or(0, |r| r.households_reached as i64),
            people_reported: latest.map_or(0, |r| r.people_reached as i64),
        })
    }
}
