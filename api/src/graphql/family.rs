//! Family Empowerment: the assessment instrument, family assessments and their roll-up,
//! community-identified projects.

use super::access::Partner;
use super::connection::{Conn, connection, connection_by};
use super::loaders::{many, one, ones};
use super::org_units::OrgUnit;
use super::people::{Household, Person};
use super::{data, node_id};
use crate::domain::family::percent;
use crate::domain::vocab::{ActionStatus, AppliesWhen, AssessmentAnswer, CipArea, FunderKind, ProjectStatus};
use crate::store::{
    self, NewAssessment, NewProject, NewReport, ProjectFilter, ProjectOrder, SortedPageRequest, encode_sorted_cursor,
};
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    assessment_action, assessment_indicator, assessment_instrument, community_project, family_assessment,
    project_budget_line, project_report, project_transition,
};
use uuid::Uuid;

pub struct AssessmentInstrument(assessment_instrument::Model);

/// A version of the family assessment instrument (the Triple-A visit's indicators), reference data.
#[Object]
impl AssessmentInstrument {
    /// The version number.
    async fn version(&self) -> i32 {
        self.0.number
    }
    /// The name in English.
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    /// The name in Mongolian.
    async fn name_mn(&self) -> &str {
        &self.0.name_mn
    }
    /// Whether it is the version in use: visits are recorded with it by default, and roll-ups use
    /// it.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Its indicators, in the instrument's order.
    async fn indicators(&self, ctx: &Context<'_>) -> Result<Vec<AssessmentIndicator>> {
        Ok(data(ctx)?.store.indicators_of(self.0.id).await?.into_iter().map(AssessmentIndicator).collect())
    }
}

pub struct AssessmentIndicator(assessment_indicator::Model);

/// One indicator of the family assessment instrument: a yes/no question about the household, the
/// household condition that makes it apply, and the project area it feeds.
#[Object]
impl AssessmentIndicator {
    /// The indicator's code, e.g. SAFE_WATER or LATRINE_HANDWASHING.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Its place in the instrument, from 1.
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
    /// The question, in English.
    async fn question_en(&self) -> &str {
        &self.0.question_en
    }
    /// The question, in Mongolian.
    async fn question_mn(&self) -> &str {
        &self.0.question_mn
    }
}

pub struct FamilyAssessment(pub family_assessment::Model);

/// One indicator of a visit with its answer.
#[derive(SimpleObject)]
pub struct AssessmentAnswerItem {
    /// The indicator.
    indicator: AssessmentIndicator,
    /// The answer; NOT_APPLICABLE when the indicator did not apply to the household that day.
    answer: AssessmentAnswer,
}

/// A family education and assessment visit (Triple-A) of a household: its answers, score, and the
/// actions agreed.
#[Object]
impl FamilyAssessment {
    /// The visit's id (a pseudonym for callers who see data de-identified).
    pub(super) async fn id(&self) -> Result<ID> {
        node_id(self.0.id)
    }
    /// The household visited.
    async fn household(&self, ctx: &Context<'_>) -> Result<Option<Household>> {
        Ok(one(&data(ctx)?.loaders.household, self.0.household_id).await?.map(Household))
    }
    /// The household's unit at the time of the visit.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        Ok(one(&data(ctx)?.loaders.org_unit, self.0.org_unit_id).await?.map(OrgUnit))
    }
    /// The day of the visit.
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
    /// A free-text note; null for callers who see data de-identified, or when none was given.
    async fn note(&self) -> Result<Option<&str>> {
        Ok(self.0.note.as_deref())
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
    /// The row's version, raised by one on every change: send it back as `expectedVersion` (or a
    /// sync item's `baseVersion`).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

pub struct AssessmentAction(pub assessment_action::Model);

/// An action a family agreed to at a visit, and what became of it at a later one.
#[Object]
impl AssessmentAction {
    /// The action's id: a later visit's `followUps` name it.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// What the family will do; null for callers who see data de-identified.
    async fn description(&self) -> Result<Option<&str>> {
        Ok(Some(self.0.description.as_str()))
    }
    /// The family member who took it on.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let Some(p) = self.0.person_id else { return Ok(None) };
        Ok(one(&data(ctx)?.loaders.person, p).await?.map(Person))
    }
    /// The day it should be done by; null when none was set.
    async fn due_on(&self) -> Option<NaiveDate> {
        self.0.due_on
    }
    /// OPEN until a follow-up says DONE or DROPPED.
    async fn status(&self) -> Result<ActionStatus> {
        Ok(ActionStatus::from_db(&self.0.status)?)
    }
    /// The day of the visit that followed it up last; null until then.
    async fn followed_up_on(&self) -> Option<NaiveDate> {
        self.0.followed_up_on
    }
    /// The follow-up's note; null for callers who see data de-identified, or when none was given.
    async fn follow_up_note(&self) -> Result<Option<&str>> {
        Ok(self.0.follow_up_note.as_deref())
    }
}

/// A reporting period as the roll-up used it.
#[derive(SimpleObject)]
pub struct PeriodRange {
    /// The period as asked for, in upper case: `2026`, `2026Q3`, `2026-07`, `LAST_12_MONTHS`...
    pub label: String,
    /// Its first day.
    pub from: NaiveDate,
    /// Its last day.
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

/// One indicator in a roll-up of visits: the households it applied to, the share meeting it, the
/// change since the previous period and its priority.
#[Object]
impl IndicatorSummary {
    /// The indicator.
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

/// The roll-up of family assessment visits under a unit in a period, by the active instrument's
/// indicators.
#[Object]
impl AssessmentSummary {
    /// The unit rolled up to (its whole subtree, in your view scope).
    async fn org_unit(&self) -> OrgUnit {
        OrgUnit(self.0.org_unit.clone())
    }
    /// The period.
    async fn period(&self) -> PeriodRange {
        (&self.0.period).into()
    }
    /// The period of the same length just before it, for `previousShare` and `change`.
    async fn previous_period(&self) -> PeriodRange {
        (&self.0.previous).into()
    }
    /// Households visited in the period (each counted once, by its latest visit); null when
    /// too few to show a caller who sees data de-identified.
    async fn households_assessed(&self) -> Option<i64> {
        self.0.households
    }
    /// Households visited in the previous period; null when too few to show a caller who sees data
    /// de-identified.
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

/// A partner organisation working on a project, and how.
#[derive(SimpleObject)]
pub struct ProjectPartner {
    /// The organisation.
    partner: Partner,
    /// FUNDER or IMPLEMENTER.
    role: String,
}

pub struct BudgetLine(project_budget_line::Model);

/// A line of a project's budget.
#[Object]
impl BudgetLine {
    /// What the money is for.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The amount, in tögrög (MNT).
    async fn amount_mnt(&self) -> i64 {
        self.0.amount_mnt
    }
    /// Who pays it.
    async fn funder(&self) -> Result<FunderKind> {
        Ok(FunderKind::from_db(&self.0.funder)?)
    }
    /// The paying partner organisation, for a PARTNER line; null otherwise.
    async fn partner_id(&self) -> Option<Uuid> {
        self.0.partner_id
    }
}

pub struct ProjectTransition(project_transition::Model);

/// One step of a project's workflow: who moved it, when, from what to what.
#[Object]
impl ProjectTransition {
    /// Null for the proposal itself.
    #[graphql(name = "fromStatus")]
    async fn status_before(&self) -> Result<Option<ProjectStatus>> {
        Ok(self.0.from_status.as_deref().map(ProjectStatus::from_db).transpose()?)
    }
    /// The status it moved to.
    #[graphql(name = "toStatus")]
    async fn status_after(&self) -> Result<ProjectStatus> {
        Ok(ProjectStatus::from_db(&self.0.to_status)?)
    }
    /// The user who made the step.
    async fn by_user_id(&self) -> Option<Uuid> {
        self.0.by_user
    }
    /// When (UTC).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// Why, as noted with the step; null when none was given.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

pub struct ProjectReport(pub project_report::Model);

/// A monitoring report of a community project. Seen with its project.
#[Object]
impl ProjectReport {
    /// The report's id.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// The day of the report.
    async fn reported_on(&self) -> NaiveDate {
        self.0.reported_on
    }
    /// Progress, 0 to 100 percent.
    async fn progress_percent(&self) -> i32 {
        self.0.progress_percent
    }
    /// What was done, in words.
    async fn narrative(&self) -> &str {
        &self.0.narrative
    }
    /// Households reached so far (cumulative).
    async fn households_reached(&self) -> i32 {
        self.0.households_reached
    }
    /// People reached so far (cumulative).
    async fn people_reached(&self) -> i32 {
        self.0.people_reached
    }
}

/// A project's budget from one kind of funder.
#[derive(SimpleObject)]
pub struct FunderTotal {
    /// The kind of funder.
    funder: FunderKind,
    /// Their lines summed, in tögrög (MNT).
    amount_mnt: i64,
}

/// A project's totals: budget, and reach (linked records and the latest report's figures).
#[derive(SimpleObject)]
pub struct ProjectTotals {
    /// The whole budget, in tögrög (MNT).
    budget_mnt: i64,
    /// The budget by kind of funder, in the order the lines first name them.
    by_funder: Vec<FunderTotal>,
    /// Households linked as reached (`linkProjectReach`), those outside your view scope too.
    /// For de-identified callers protected by the cell-key method: null for 0 to 4, otherwise
    /// within ±3; null for nobody else.
    households_linked: Option<i64>,
    /// People linked as reached, those outside your view scope too; protected as
    /// `householdsLinked` is.
    people_linked: Option<i64>,
    /// Households reached by the latest report (0 before any).
    households_reported: i64,
    /// People reached by the latest report (0 before any).
    people_reported: i64,
}

/// A community-identified project (CIP): a unit's community chose it from the assessment
/// priorities; it has objectives, a budget with funders, partners, a workflow, monitoring reports
/// and the households and people it reached. Partner staff see the projects their organisation
/// funds or implements; everyone else sees those in their view scope.
#[Object]
impl CommunityProject {
    /// The project's id (a UUID).
    pub(super) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The unit whose community chose it.
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        Ok(one(&data(ctx)?.loaders.org_unit, self.0.org_unit_id).await?.map(OrgUnit))
    }
    /// The area it works in.
    async fn area(&self) -> Result<CipArea> {
        Ok(CipArea::from_db(&self.0.area)?)
    }
    /// Its title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Its objectives, in words.
    async fn objectives(&self) -> &str {
        &self.0.objectives
    }
    /// Where it is in its workflow.
    async fn status(&self) -> Result<ProjectStatus> {
        Ok(ProjectStatus::from_db(&self.0.status)?)
    }
    /// The planned first day; null when not set.
    async fn starts_on(&self) -> Option<NaiveDate> {
        self.0.starts_on
    }
    /// The planned last day; null when not set.
    async fn ends_on(&self) -> Option<NaiveDate> {
        self.0.ends_on
    }
    /// The row's version, raised by one on every change: send it back as `expectedVersion` (or a
    /// sync item's `baseVersion`). A transition raises it.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was proposed (recorded).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The assessment indicators (codes) whose priority it answers.
    async fn indicator_codes(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let rows = many(&data(ctx)?.loaders.indicators_of_project, self.0.id).await?;
        Ok(rows.into_iter().map(|i| i.indicator_code).collect())
    }
    /// Its budget lines.
    async fn budget_lines(&self, ctx: &Context<'_>) -> Result<Vec<BudgetLine>> {
        Ok(many(&data(ctx)?.loaders.budget_of_project, self.0.id).await?.into_iter().map(BudgetLine).collect())
    }
    /// The partner organisations that fund (through a budget line) or implement it.
    async fn partners(&self, ctx: &Context<'_>) -> Result<Vec<ProjectPartner>> {
        let rows = many(&data(ctx)?.loaders.partners_of_project, self.0.id).await?;
        Ok(rows.into_iter().map(|(link, p)| ProjectPartner { partner: Partner(p), role: link.role }).collect())
    }
    /// Every step of its workflow, oldest first: who, when, from and to.
    async fn transitions(&self, ctx: &Context<'_>) -> Result<Vec<ProjectTransition>> {
        let rows = many(&data(ctx)?.loaders.transitions_of_project, self.0.id).await?;
        Ok(rows.into_iter().map(ProjectTransition).collect())
    }
    /// Its monitoring reports, oldest first.
    async fn reports(&self, ctx: &Context<'_>) -> Result<Vec<ProjectReport>> {
        Ok(many(&data(ctx)?.loaders.reports_of_project, self.0.id).await?.into_iter().map(ProjectReport).collect())
    }
    /// Households it reached (those the caller may see); FORBIDDEN to an ANALYST, who reads
    /// `totals` instead.
    async fn households_reached(&self, ctx: &Context<'_>) -> Result<Vec<Household>> {
        let ids = self.reached(ctx, "HOUSEHOLD").await?;
        Ok(ones(&data(ctx)?.loaders.household, &ids).await?.into_iter().map(Household).collect())
    }
    /// People it reached (those the caller may see); FORBIDDEN to an ANALYST, who reads `totals`
    /// instead.
    async fn people_reached(&self, ctx: &Context<'_>) -> Result<Vec<Person>> {
        let ids = self.reached(ctx, "PERSON").await?;
        Ok(ones(&data(ctx)?.loaders.person, &ids).await?.into_iter().map(Person).collect())
    }
    /// Budget and reach totals.
    async fn totals(&self, ctx: &Context<'_>) -> Result<ProjectTotals> {
        let d = data(ctx)?;
        let loaders = &d.loaders;
        let lines = many(&loaders.budget_of_project, self.0.id).await?;
        let links = many(&loaders.reach_of_project, self.0.id).await?;
        let reports = many(&loaders.reports_of_project, self.0.id).await?;
        let t = d.store.project_totals(&lines, &links, &reports)?;
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
    async fn assessment_instrument(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The version number; default the active one. An unknown version is VALIDATION.")]
        version: Option<i32>,
    ) -> Result<AssessmentInstrument> {
        Ok(AssessmentInstrument(data(ctx)?.store.instrument(version).await?))
    }

    /// A family assessment visit by id; null when unknown or outside your view scope.
    /// FORBIDDEN to an ANALYST, who reads tables only.
    async fn family_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The visit's id.")] id: Uuid,
    ) -> Result<Option<FamilyAssessment>> {
        Ok(crate::error::found(data(ctx)?.store.family_assessment(id).await)?.map(FamilyAssessment))
    }

    /// Visits in `period` (2026, 2026Q3, 2026-07, THIS_QUARTER, LAST_12_MONTHS, ...) anywhere
    /// under the unit, in your scope: per indicator the households it applied to, the share
    /// meeting it, the change since the previous period, and the priorities.
    async fn assessment_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unit rolled up to (its whole subtree); an unknown unit is VALIDATION.")]
        org_unit_id: Uuid,
        #[graphql(
            desc = "2026, 2026Q3, 2026-07, THIS_MONTH, THIS_QUARTER, THIS_YEAR, LAST_12_MONTHS (the twelve whole months before this one) or LAST_24_MONTHS (MICS's last 2 years); anything else is VALIDATION."
        )]
        period: String,
    ) -> Result<AssessmentSummary> {
        Ok(AssessmentSummary(data(ctx)?.store.analytics().await.assessment_summary(org_unit_id, &period).await?))
    }

    /// Community projects you may see (partner staff: their organisation's; others: in their view
    /// scope), filtered; `orderBy` (default: by id), cursor pages.
    async fn community_projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which projects; default all you may see.")] filter: Option<ProjectFilter>,
        #[graphql(desc = "The order (ties by id); default by id. A cursor works only with the order it came from.")]
        order_by: Option<ProjectOrder>,
        #[graphql(desc = "How many items to return: 0 to 100 (default 20); more is VALIDATION.")] first: Option<i32>,
        #[graphql(
            desc = "The `endCursor` of the previous page (or an edge's `cursor`); leave out for the first page."
        )]
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

    /// A community project by id; null when unknown or not one you may see.
    async fn community_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project's id.")] id: Uuid,
    ) -> Result<Option<CommunityProject>> {
        Ok(crate::error::found(data(ctx)?.store.community_project(id).await)?.map(CommunityProject))
    }
}

#[derive(Default)]
pub struct FamilyMutation;

#[Object]
impl FamilyMutation {
    /// Records a family education and assessment visit. Answers are checked against who lives in
    /// the household on the day: an indicator that does not apply must be NOT_APPLICABLE. For a
    /// household in your capture scope (ADMIN, FIELD_WORKER, PARTNER). Retry-safe with a client
    /// `id`: sent again with the same content it answers the stored record; with other content it
    /// is a CONFLICT that shows the stored one in `extensions.current`.
    /// Errors: VALIDATION (an unknown household, instrument version, indicator or action; an
    /// answer that does not fit the household, or one missing; a date in the future; a member not
    /// of the household), FORBIDDEN (your role, or outside your capture scope), CONSENT_REQUIRED,
    /// CONFLICT (the id is taken).
    async fn record_family_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The visit: its answers, the actions agreed and the follow-ups of earlier ones.")]
        input: NewAssessment,
    ) -> Result<FamilyAssessment> {
        super::mutation::created(ctx, crate::store::sync::SyncPayload::FamilyAssessment(input)).await
    }

    /// Proposes a community-identified project (status PROPOSED): ADMIN anywhere, FIELD_WORKER in
    /// their capture scope, PARTNER staff in their organisation's units (the organisation becomes
    /// an implementer). Retry-safe with a client `id`: sent again with the same content it answers
    /// the stored record; with other content it is a CONFLICT that shows the stored one in
    /// `extensions.current`.
    /// Errors: VALIDATION (a field; an unknown unit, indicator or partner; a PARTNER line without a
    /// partner or another line with one), FORBIDDEN (your role, or a unit you may not propose in),
    /// CONFLICT (the id is taken).
    async fn propose_community_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project.")] input: NewProject,
    ) -> Result<CommunityProject> {
        super::mutation::created(ctx, crate::store::sync::SyncPayload::CommunityProject(input)).await
    }

    /// PROPOSED → APPROVED → IN_PROGRESS → COMPLETED, or CANCELLED from an open state; anything
    /// else is refused. Approving and cancelling are for administrators (local government);
    /// starting and completing are for whoever works on the project (ADMIN, a FIELD_WORKER whose
    /// capture scope holds it, staff of a partner that funds or implements it). Each step is kept
    /// in `transitions`.
    /// Errors: NOT_FOUND (unknown, or not one you may see), FORBIDDEN, VALIDATION (a move the
    /// workflow does not allow, a blank note or one over 500 characters), CONFLICT (a stale
    /// `expectedVersion`).
    async fn transition_community_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project's id.")] id: Uuid,
        #[graphql(desc = "The status to move to.")] to: ProjectStatus,
        #[graphql(desc = "The version you last saw; a different stored version is a CONFLICT.")]
        expected_version: Option<i32>,
        #[graphql(desc = "Why, kept with the step.")] note: Option<String>,
    ) -> Result<CommunityProject> {
        Ok(CommunityProject(data(ctx)?.store.transition_community_project(id, to, expected_version, note).await?))
    }

    /// Adds a monitoring report (reach figures are cumulative) to an APPROVED, IN_PROGRESS or
    /// COMPLETED project you work on (as for `transitionCommunityProject`). Retry-safe with a
    /// client `id`: sent again with the same content it answers the stored record; with other
    /// content it is a CONFLICT that shows the stored one in `extensions.current`.
    /// Errors: NOT_FOUND (unknown project, or not one you may see), FORBIDDEN, VALIDATION (a
    /// project with nothing to report yet, a date in the future, progress outside 0-100, a
    /// negative count, a blank or over-long narrative), CONFLICT (the id is taken).
    async fn report_community_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report.")] input: NewReport,
    ) -> Result<ProjectReport> {
        super::mutation::created(ctx, crate::store::sync::SyncPayload::ProjectReport(input)).await
    }

    /// Links the households and people a project reached (ones already linked are skipped), for
    /// a project you work on (as for `transitionCommunityProject`); answers the project.
    /// Errors: NOT_FOUND (unknown project, or not one you may see), FORBIDDEN, VALIDATION (a
    /// household or person unknown or outside your view scope).
    async fn link_project_reach(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project's id.")] project_id: Uuid,
        #[graphql(default, desc = "Households it reached.")] household_ids: Vec<Uuid>,
        #[graphql(default, desc = "People it reached.")] person_ids: Vec<Uuid>,
    ) -> Result<CommunityProject> {
        Ok(CommunityProject(data(ctx)?.store.link_project_reach(project_id, household_ids, person_ids).await?))
    }
}
