//! Family Empowerment: the assessment instrument, family assessments and their roll-up,
//! community-identified projects.

use super::access::Partner;
use super::connection::{Conn, connection, connection_by};
use super::loaders::{many, one, ones};
use super::org_units::OrgUnit;
use super::people::{Household, Person};
use super::{data, identified, shown_id};
use crate::domain::family::percent;
use crate::domain::vocab::{ActionStatus, AppliesWhen, AssessmentAnswer, CipArea, FunderKind, ProjectStatus};
use crate::store::{
    self, NewAssessment, NewProject, NewReport, ProjectFilter, ProjectOrder, SortedPageRequest, encode_sorted_cursor,
};
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    assessment_action, assessment_indicator, assessment_instrument, community_project, family_assessment,
    project_budget_line, project_report, project_transition,
};
use uuid::Uuid;

pub struct AssessmentInstrument(assessment_instrument::Model);

#[Object]
impl AssessmentInstrument {
    /// The version number.
    async fn version(&self) -> i32 {
        self.0.number
    }
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    async fn name_mn(&self) -> &str {
        &self.0.name_mn
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn indicators(&self, ctx: &Context<'_>) -> Result<Vec<AssessmentIndicator>> {
        Ok(data(ctx)?.store.indicators_of(self.0.id).await?.into_iter().map(AssessmentIndicator).collect())
    }
}

pub struct AssessmentIndicator(assessment_indicator::Model);

#[Object]
impl AssessmentIndicator {
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn sort_order(&self) -> i32 {
        self.0.sort_order
    }
    /// What in the household makes it apply.
    async fn applies_when(&self) -> Result<AppliesWhen> {
        Ok(AppliesWhen::from_db(&self.0.applies_when)?)
    }
    /// The community-project area it feeds.
    async fn area(&self) -> Result<CipArea> {
        Ok(CipArea::from_db(&self.0.area)?)
    }
    async fn question_en(&self) -> &str {
        &self.0.question_en
    }
    async fn question_mn(&self) -> &str {
        &self.0.question_mn
    }
}

pub struct FamilyAssessment(pub family_assessment::Model);

#[derive(SimpleObject)]
pub struct AssessmentAnswerItem {
    indicator: AssessmentIndicator,
    answer: AssessmentAnswer,
}

#[Object]
impl FamilyAssessment {
    async fn id(&self, ctx: &Context<'_>) -> Result<Uuid> {
        shown_id(ctx, self.0.id)
    }
    async fn household(&self, ctx: &Context<'_>) -> Result<Option<Household>> {
        Ok(one(&data(ctx)?.loaders.household, self.0.household_id).await?.map(Household))
    }
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        Ok(one(&data(ctx)?.loaders.org_unit, self.0.org_unit_id).await?.map(OrgUnit))
    }
    async fn assessed_on(&self) -> NaiveDate {
        self.0.assessed_on
    }
    /// Indicators met.
    async fn met(&self) -> i32 {
        self.0.met
    }
    /// Indicators that applied to the household on the day.
    async fn applicable(&self) -> i32 {
        self.0.applicable
    }
    /// Met ÷ applicable, in percent (null when nothing applied).
    async fn score(&self) -> Option<f64> {
        percent(self.0.met as i64, self.0.applicable as i64)
    }
    async fn note(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(identified(ctx)?.then_some(self.0.note.as_deref()).flatten())
    }
    /// Every indicator of the instrument with its answer.
    async fn answers(&self, ctx: &Context<'_>) -> Result<Vec<AssessmentAnswerItem>> {
        let loaders = &data(ctx)?.loaders;
        let answers = many(&loaders.answers_of_assessment, self.0.id).await?;
        let indicators = loaders.assessment_indicator.load_many(answers.iter().map(|a| a.indicator_id)).await?;
        let mut out: Vec<AssessmentAnswerItem> = answers
            .into_iter()
            .filter_map(|a| {
                let indicator = indicators.get(&a.indicator_id)?.last()?.clone();
                Some(
                    AssessmentAnswer::from_db(&a.answer)
                        .map(|answer| AssessmentAnswerItem { indicator: AssessmentIndicator(indicator), answer }),
                )
            })
            .collect::<crate::error::ApiResult<_>>()?;
        out.sort_by_key(|a| a.indicator.0.sort_order);
        Ok(out)
    }
    /// Actions agreed at this visit.
    async fn actions(&self, ctx: &Context<'_>) -> Result<Vec<AssessmentAction>> {
        let rows = many(&data(ctx)?.loaders.actions_of_assessment, self.0.id).await?;
        Ok(rows.into_iter().map(AssessmentAction).collect())
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
}

pub struct AssessmentAction(pub assessment_action::Model);

#[Object]
impl AssessmentAction {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn description(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(identified(ctx)?.then_some(self.0.description.as_str()))
    }
    /// The family member who took it on.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let Some(p) = self.0.person_id else { return Ok(None) };
        Ok(one(&data(ctx)?.loaders.person, p).await?.map(Person))
    }
    async fn due_on(&self) -> Option<NaiveDate> {
        self.0.due_on
    }
    async fn status(&self) -> Result<ActionStatus> {
        Ok(ActionStatus::from_db(&self.0.status)?)
    }
    async fn followed_up_on(&self) -> Option<NaiveDate> {
        self.0.followed_up_on
    }
    async fn follow_up_note(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(identified(ctx)?.then_some(self.0.follow_up_note.as_deref()).flatten())
    }
}

/// A reporting period as the roll-up used it.
#[derive(SimpleObject)]
pub struct PeriodRange {
    pub label: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl From<&crate::domain::period::Period> for PeriodRange {
    fn from(p: &crate::domain::period::Period) -> Self {
        Self { label: p.label.clone(), from: p.from, to: p.to }
    }
}

pub struct IndicatorSummary(store::IndicatorSummary);

impl IndicatorSummary {
    fn share_now(&self) -> Option<f64> {
        if self.0.suppressed { None } else { percent(self.0.now.met, self.0.now.applicable) }
    }

    fn share_before(&self) -> Option<f64> {
        if self.0.previous_suppressed { None } else { percent(self.0.before.met, self.0.before.applicable) }
    }
}

#[Object]
impl IndicatorSummary {
    async fn indicator(&self) -> AssessmentIndicator {
        AssessmentIndicator(self.0.indicator.clone())
    }
    /// Households whose latest visit in the period found the indicator applicable (null when
    /// `suppressed`).
    async fn households_applicable(&self) -> Option<i64> {
        (!self.0.suppressed).then_some(self.0.now.applicable)
    }
    /// ... of which met it.
    async fn households_meeting(&self) -> Option<i64> {
        (!self.0.suppressed).then_some(self.0.now.met)
    }
    /// Percent of applicable households meeting it (null when it applied to none).
    async fn share(&self) -> Option<f64> {
        self.share_now()
    }
    /// The share in the previous period of the same length.
    async fn previous_share(&self) -> Option<f64> {
        self.share_before()
    }
    /// Change since the previous period, in percentage points.
    async fn change(&self) -> Option<f64> {
        let (a, b) = (self.share_now()?, self.share_before()?);
        Some(((a - b) * 10.0).round() / 10.0)
    }
    /// Fewer than 5 households for a caller who sees data de-identified: counts and shares are
    /// withheld so a small area cannot be re-identified.
    async fn suppressed(&self) -> bool {
        self.0.suppressed
    }
    /// 1 is the first priority: the lowest share (ties: more households affected first).
    async fn priority_rank(&self) -> Option<i32> {
        self.0.priority.map(|p| p as i32)
    }
}

pub struct AssessmentSummary(store::AssessmentSummary);

#[Object]
impl AssessmentSummary {
    async fn org_unit(&self) -> OrgUnit {
        OrgUnit(self.0.org_unit.clone())
    }
    async fn period(&self) -> PeriodRange {
        (&self.0.period).into()
    }
    async fn previous_period(&self) -> PeriodRange {
        (&self.0.previous).into()
    }
    /// Households visited in the period (each counted once, by its latest visit); null when
    /// too few to show a caller who sees data de-identified.
    async fn households_assessed(&self) -> Option<i64> {
        self.0.households
    }
    async fn previous_households_assessed(&self) -> Option<i64> {
        self.0.previous_households
    }
    /// Every indicator of the active instrument, in the instrument's order.
    async fn indicators(&self) -> Vec<IndicatorSummary> {
        self.0.indicators.iter().map(|i| IndicatorSummary(clone_summary(i))).collect()
    }
    /// The indicators that applied somewhere, first priority first.
    async fn priorities(&self) -> Vec<IndicatorSummary> {
        let mut ranked: Vec<&store::IndicatorSummary> =
            self.0.indicators.iter().filter(|i| i.priority.is_some()).collect();
        ranked.sort_by_key(|i| i.priority);
        ranked.into_iter().map(|i| IndicatorSummary(clone_summary(i))).collect()
    }
}

fn clone_summary(i: &store::IndicatorSummary) -> store::IndicatorSummary {
    store::IndicatorSummary {
        indicator: i.indicator.clone(),
        now: i.now.clone(),
        before: i.before.clone(),
        priority: i.priority,
        suppressed: i.suppressed,
        previous_suppressed: i.previous_suppressed,
    }
}

pub struct CommunityProject(pub community_project::Model);

#[derive(SimpleObject)]
pub struct ProjectPartner {
    partner: Partner,
    /// FUNDER or IMPLEMENTER.
    role: String,
}

pub struct BudgetLine(project_budget_line::Model);

#[Object]
impl BudgetLine {
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn amount_mnt(&self) -> i64 {
        self.0.amount_mnt
    }
    async fn funder(&self) -> Result<FunderKind> {
        Ok(FunderKind::from_db(&self.0.funder)?)
    }
    async fn partner_id(&self) -> Option<Uuid> {
        self.0.partner_id
    }
}

pub struct ProjectTransition(project_transition::Model);

#[Object]
impl ProjectTransition {
    /// Null for the proposal itself.
    #[graphql(name = "fromStatus")]
    async fn status_before(&self) -> Result<Option<ProjectStatus>> {
        Ok(self.0.from_status.as_deref().map(ProjectStatus::from_db).transpose()?)
    }
    #[graphql(name = "toStatus")]
    async fn status_after(&self) -> Result<ProjectStatus> {
        Ok(ProjectStatus::from_db(&self.0.to_status)?)
    }
    /// The user who made the step.
    async fn by_user_id(&self) -> Option<Uuid> {
        self.0.by_user
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

pub struct ProjectReport(pub project_report::Model);

#[Object]
impl ProjectReport {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn reported_on(&self) -> NaiveDate {
        self.0.reported_on
    }
    async fn progress_percent(&self) -> i32 {
        self.0.progress_percent
    }
    async fn narrative(&self) -> &str {
        &self.0.narrative
    }
    async fn households_reached(&self) -> i32 {
        self.0.households_reached
    }
    async fn people_reached(&self) -> i32 {
        self.0.people_reached
    }
}

#[derive(SimpleObject)]
pub struct FunderTotal {
    funder: FunderKind,
    amount_mnt: i64,
}

/// A project's totals: budget, and reach (linked records and the latest report's figures).
#[derive(SimpleObject)]
pub struct ProjectTotals {
    budget_mnt: i64,
    by_funder: Vec<FunderTotal>,
    households_linked: i64,
    people_linked: i64,
    households_reported: i64,
    people_reported: i64,
}

#[Object]
impl CommunityProject {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        Ok(one(&data(ctx)?.loaders.org_unit, self.0.org_unit_id).await?.map(OrgUnit))
    }
    async fn area(&self) -> Result<CipArea> {
        Ok(CipArea::from_db(&self.0.area)?)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn objectives(&self) -> &str {
        &self.0.objectives
    }
    async fn status(&self) -> Result<ProjectStatus> {
        Ok(ProjectStatus::from_db(&self.0.status)?)
    }
    async fn starts_on(&self) -> Option<NaiveDate> {
        self.0.starts_on
    }
    async fn ends_on(&self) -> Option<NaiveDate> {
        self.0.ends_on
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was proposed (recorded).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The assessment indicators (codes) whose priority it answers.
    async fn indicator_codes(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let rows = many(&data(ctx)?.loaders.indicators_of_project, self.0.id).await?;
        Ok(rows.into_iter().map(|i| i.indicator_code).collect())
    }
    async fn budget_lines(&self, ctx: &Context<'_>) -> Result<Vec<BudgetLine>> {
        Ok(many(&data(ctx)?.loaders.budget_of_project, self.0.id).await?.into_iter().map(BudgetLine).collect())
    }
    async fn partners(&self, ctx: &Context<'_>) -> Result<Vec<ProjectPartner>> {
        let rows = many(&data(ctx)?.loaders.partners_of_project, self.0.id).await?;
        Ok(rows.into_iter().map(|(link, p)| ProjectPartner { partner: Partner(p), role: link.role }).collect())
    }
    /// Every step of its workflow, oldest first: who, when, from and to.
    async fn transitions(&self, ctx: &Context<'_>) -> Result<Vec<ProjectTransition>> {
        let rows = many(&data(ctx)?.loaders.transitions_of_project, self.0.id).await?;
        Ok(rows.into_iter().map(ProjectTransition).collect())
    }
    async fn reports(&self, ctx: &Context<'_>) -> Result<Vec<ProjectReport>> {
        Ok(many(&data(ctx)?.loaders.reports_of_project, self.0.id).await?.into_iter().map(ProjectReport).collect())
    }
    /// Households it reached (those the caller may see).
    async fn households_reached(&self, ctx: &Context<'_>) -> Result<Vec<Household>> {
        let ids = self.reached(ctx, "HOUSEHOLD").await?;
        Ok(ones(&data(ctx)?.loaders.household, &ids).await?.into_iter().map(Household).collect())
    }
    /// People it reached (those the caller may see).
    async fn people_reached(&self, ctx: &Context<'_>) -> Result<Vec<Person>> {
        let ids = self.reached(ctx, "PERSON").await?;
        Ok(ones(&data(ctx)?.loaders.person, &ids).await?.into_iter().map(Person).collect())
    }
    async fn totals(&self, ctx: &Context<'_>) -> Result<ProjectTotals> {
        let loaders = &data(ctx)?.loaders;
        let lines = many(&loaders.budget_of_project, self.0.id).await?;
        let links = many(&loaders.reach_of_project, self.0.id).await?;
        let reports = many(&loaders.reports_of_project, self.0.id).await?;
        let t = store::ProjectTotals::of(&lines, &links, &reports)?;
        Ok(ProjectTotals {
            budget_mnt: t.budget_mnt,
            by_funder: t.by_funder.into_iter().map(|(funder, amount_mnt)| FunderTotal { funder, amount_mnt }).collect(),
            households_linked: t.households_linked,
            people_linked: t.people_linked,
            households_reported: t.households_reported,
            people_reported: t.people_reported,
        })
    }
}

impl CommunityProject {
    /// Ids of the households or people (`kind`) it reached, linked or not visible to the caller.
    async fn reached(&self, ctx: &Context<'_>, kind: &str) -> Result<Vec<Uuid>> {
        let links = many(&data(ctx)?.loaders.reach_of_project, self.0.id).await?;
        Ok(links.into_iter().filter(|l| l.kind == kind).map(|l| l.subject_id).collect())
    }
}

#[derive(Default)]
pub struct FamilyQuery;

#[Object]
impl FamilyQuery {
    /// The family assessment instrument: a version, or the active one.
    async fn assessment_instrument(&self, ctx: &Context<'_>, version: Option<i32>) -> Result<AssessmentInstrument> {
        Ok(AssessmentInstrument(data(ctx)?.store.instrument(version).await?))
    }

    async fn family_assessment(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<FamilyAssessment>> {
        match data(ctx)?.store.family_assessment(id).await {
            Ok(a) => Ok(Some(FamilyAssessment(a))),
            Err(crate::error::ApiError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Visits in `period` (2026, 2026Q3, 2026-07, THIS_QUARTER, LAST_12_MONTHS, ...) anywhere
    /// under the unit, in your scope: per indicator the households it applied to, the share
    /// meeting it, the change since the previous period, and the priorities.
    async fn assessment_summary(
        &self,
        ctx: &Context<'_>,
        org_unit_id: Uuid,
        period: String,
    ) -> Result<AssessmentSummary> {
        Ok(AssessmentSummary(data(ctx)?.store.assessment_summary(org_unit_id, &period).await?))
    }

    /// Community projects in your scope, filtered; `orderBy` (default: by id), cursor pages.
    async fn community_projects(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProjectFilter>,
        order_by: Option<ProjectOrder>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<CommunityProject>> {
        let store = &data(ctx)?.store;
        let filter = filter.unwrap_or_default();
        let Some(order) = order_by else {
            let req = store.page_request(first, after)?;
            let page = store.community_projects(filter, &req).await?;
            return Ok(connection(store, page, |p| p.id, CommunityProject));
        };
        let req = SortedPageRequest::new(first, after, store.keys())?;
        let page = store.community_projects_ordered(filter, order, &req).await?;
        let o = order.order();
        Ok(connection_by(page, |m| encode_sorted_cursor(store.keys(), &(o.key_of)(m), m.id), CommunityProject))
    }

    async fn community_project(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<CommunityProject>> {
        match data(ctx)?.store.community_project(id).await {
            Ok(p) => Ok(Some(CommunityProject(p))),
            Err(crate::error::ApiError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[derive(Default)]
pub struct FamilyMutation;

#[Object]
impl FamilyMutation {
    /// Records a family education and assessment visit. Answers are checked against who lives in
    /// the household on the day: an indicator that does not apply must be NOT_APPLICABLE.
    async fn record_family_assessment(&self, ctx: &Context<'_>, input: NewAssessment) -> Result<FamilyAssessment> {
        Ok(FamilyAssessment(data(ctx)?.store.record_family_assessment(input).await?))
    }

    /// Proposes a community-identified project (status PROPOSED).
    async fn propose_community_project(&self, ctx: &Context<'_>, input: NewProject) -> Result<CommunityProject> {
        Ok(CommunityProject(data(ctx)?.store.propose_community_project(input).await?))
    }

    /// PROPOSED → APPROVED → IN_PROGRESS → COMPLETED, or CANCELLED from an open state; anything
    /// else is refused. Approving and cancelling are for administrators (local government).
    async fn transition_community_project(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        to: ProjectStatus,
        expected_version: Option<i32>,
        note: Option<String>,
    ) -> Result<CommunityProject> {
        Ok(CommunityProject(data(ctx)?.store.transition_community_project(id, to, expected_version, note).await?))
    }

    /// A monitoring report (reach figures are cumulative).
    async fn report_community_project(&self, ctx: &Context<'_>, input: NewReport) -> Result<ProjectReport> {
        Ok(ProjectReport(data(ctx)?.store.report_community_project(input).await?))
    }

    /// Links the households and people a project reached.
    async fn link_project_reach(
        &self,
        ctx: &Context<'_>,
        project_id: Uuid,
        #[graphql(default)] household_ids: Vec<Uuid>,
        #[graphql(default)] person_ids: Vec<Uuid>,
    ) -> Result<CommunityProject> {
        Ok(CommunityProject(data(ctx)?.store.link_project_reach(project_id, household_ids, person_ids).await?))
    }
}
