//! The root query: thin resolvers that parse arguments, call the store and wrap the rows.

use super::connection::{Conn, connection, connection_by};
use super::data;
use super::growth::{GrowthQuestion, GrowthZScores};
use super::milestones::Milestone;
use super::org_units::{OrgUnit, OrgUnitGroup};
use super::people::{Household, Person};
use super::plan::Planned;
use super::schedule::{DueListEntry, ScheduleRule};
use super::services::{Antigen, LifeStage, ServiceType};
use crate::domain::vocab::{DueKind, OrgUnitLevel, Sector};
use crate::error::{ApiError, found};
use crate::store::filters::{HouseholdWhere, PersonWhere};
use crate::store::{
    DueListFilter, HouseholdFilter, HouseholdOrder, OrgUnitFilter, PersonFilter, PersonOrder, SortedPageRequest,
    encode_sorted_cursor,
};
use async_graphql::{Context, Object, Result};
use chrono::NaiveDate;
use uuid::Uuid;

/// The longest round a due list looks ahead.
const MAX_WITHIN_DAYS: i32 = 366;

#[derive(Default)]
pub struct CoreQuery;

#[Object]
impl CoreQuery {
    /// A unit by id; null for an unknown id. The tree is the same for every caller.
    async fn org_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unit's id.")] id: Uuid,
    ) -> Result<Option<OrgUnit>> {
        Ok(data(ctx)?.store.org_unit(id).await?.map(OrgUnit))
    }

    /// A unit by statistics-office code (e.g. "85" for Uvs) or our own code below aimag level;
    /// null for an unknown code.
    async fn org_unit_by_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unit's code, e.g. \"85\" (Uvs) or \"11-BZD-01\" (khoroo 1 of Bayanzürkh).")] code: String,
    ) -> Result<Option<OrgUnit>> {
        Ok(data(ctx)?.store.org_unit_by_code(&code).await?.map(OrgUnit))
    }

    /// Org units, optionally the children of one unit and/or of one level, by id in cursor pages.
    /// The whole tree, whatever the caller's scope.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn org_units(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the children of this unit.")] parent_id: Option<Uuid>,
        #[graphql(desc = "Only the units of this level.")] level: Option<OrgUnitLevel>,
        #[graphql(desc = "How many items to return: 0 to 100 (default 20); more is VALIDATION.")] first: Option<i32>,
        #[graphql(
            desc = "The `endCursor` of the previous page (or an edge's `cursor`); leave out for the first page."
        )]
        after: Option<String>,
    ) -> Result<Conn<OrgUnit>> {
        let store = &data(ctx)?.store;
        let req = store.page_request(first, after)?;
        let page = store.org_units(OrgUnitFilter { parent_id, level }, &req).await?;
        Ok(connection(store, page, |m| m.id, OrgUnit))
    }

    /// Cross-cutting sets of units, such as the programme's focus soums and khoroos.
    async fn org_unit_groups(&self, ctx: &Context<'_>) -> Result<Vec<OrgUnitGroup>> {
        let store = &data(ctx)?.store;
        let groups = store.org_unit_groups().await?;
        let ids: Vec<Uuid> = groups.iter().map(|g| g.id).collect();
        let members = store.org_unit_group_members(&ids).await?;
        Ok(groups
            .into_iter()
            .map(|group| {
                let members = members.iter().filter(|(g, _)| *g == group.id).map(|(_, u)| *u).collect();
                OrgUnitGroup { group, members }
            })
            .collect())
    }

    /// Households in your view scope: `filter` for the common questions, `where` for any
    /// combination (and / or / not); `orderBy` (default: by id), cursor pages. Searching by
    /// address is FORBIDDEN to callers who see data de-identified (ANALYST, RESEARCHER). An
    /// ANALYST reads `totalCount` only (the rows are FORBIDDEN: they could be counted).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn households(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The common conditions (all must hold).")] filter: Option<HouseholdFilter>,
        #[graphql(name = "where", desc = "Any combination of conditions, on top of `filter`.")] cond: Option<
            HouseholdWhere,
        >,
        #[graphql(desc = "The order (ties by id); default by id. A cursor works only with the order it came from.")]
        order_by: Option<HouseholdOrder>,
        #[graphql(desc = "How many items to return: 0 to 100 (default 20); more is VALIDATION.")] first: Option<i32>,
        #[graphql(
            desc = "The `endCursor` of the previous page (or an edge's `cursor`); leave out for the first page."
        )]
        after: Option<String>,
    ) -> Result<Planned<Conn<Household>>> {
        let store = &data(ctx)?.store;
        let filter = filter.unwrap_or_default();
        Ok(Planned(match order_by {
            Some(order) => {
                let req = SortedPageRequest::new(first, after, store.keys())?;
                let page = store.households_ordered(filter, cond, order, &req).await?;
                let o = order.order();
                connection_by(page, |m| encode_sorted_cursor(store.keys(), &(o.key_of)(m), m.id), Household)
            }
            None => {
                let req = store.page_request(first, after)?;
                let page = store.households(filter, cond, &req).await?;
                connection(store, page, |m| m.id, Household)
            }
        }))
    }

    /// A household by id; null when it is unknown or outside your view scope, and always for
    /// callers who see data de-identified (ANALYST, RESEARCHER).
    async fn household(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The household's id.")] id: Uuid,
    ) -> Result<Option<Planned<Household>>> {
        Ok(found(data(ctx)?.store.read_household(id).await)?.map(|m| Planned(Household(m))))
    }

    /// People in your view scope: `filter` for the common questions, `where` for any combination
    /// (and / or / not; ages, services received or not in a window, the household's
    /// attributes); `orderBy` (default: by id), cursor pages. Searching by name or household, and
    /// ordering by names or birth date, are FORBIDDEN to callers who see data de-identified
    /// (ANALYST, RESEARCHER). An ANALYST reads `totalCount` only (the rows are FORBIDDEN: they
    /// could be counted).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn people(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The common conditions (all must hold).")] filter: Option<PersonFilter>,
        #[graphql(
            name = "where",
            desc = "Any combination of conditions, on top of `filter`; ages are counted on `filter.asOf`."
        )]
        cond: Option<PersonWhere>,
        #[graphql(desc = "The order (ties by id); default by id. A cursor works only with the order it came from.")]
        order_by: Option<PersonOrder>,
        #[graphql(desc = "How many items to return: 0 to 100 (default 20); more is VALIDATION.")] first: Option<i32>,
        #[graphql(
            desc = "The `endCursor` of the previous page (or an edge's `cursor`); leave out for the first page."
        )]
        after: Option<String>,
    ) -> Result<Planned<Conn<Person>>> {
        let store = &data(ctx)?.store;
        let filter = filter.unwrap_or_default();
        let conn = match order_by {
            Some(order) => {
                let req = SortedPageRequest::new(first, after, store.keys())?;
                let page = store.people_ordered(filter, cond, order, &req).await?;
                let o = order.order();
                connection_by(page, |m| encode_sorted_cursor(store.keys(), &(o.key_of)(m), m.id), Person)
            }
            None => {
                let req = store.page_request(first, after)?;
                let page = store.people(filter, cond, &req).await?;
                connection(store, page, |m| m.id, Person)
            }
        };
        Ok(Planned(conn))
    }

    /// A person by id; null when unknown or outside your view scope, and always for callers who
    /// see data de-identified (ANALYST, RESEARCHER). Each person shown is a read in the audit log.
    async fn person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's id.")] id: Uuid,
    ) -> Result<Option<Planned<Person>>> {
        Ok(found(data(ctx)?.store.read_person(id).await)?.map(|m| Planned(Person(m))))
    }

    /// The service catalogue (active types, by code), optionally for one life stage or sector.
    async fn service_types(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A life-stage code (see `lifeStages`), e.g. INFANT: the types of that stage.")]
        life_stage: Option<String>,
        #[graphql(desc = "Only the types of this sector.")] sector: Option<Sector>,
    ) -> Result<Vec<ServiceType>> {
        Ok(data(ctx)?
            .store
            .service_types(life_stage, sector)
            .await?
            .into_iter()
            .map(|m| ServiceType(m.into()))
            .collect())
    }

    /// The stages of the life-cycle chain with their age bounds.
    async fn life_stages(&self, ctx: &Context<'_>) -> Result<Vec<LifeStage>> {
        Ok(data(ctx)?.life_stages().await?.iter().map(|(_, m)| LifeStage(m.clone())).collect())
    }

    /// WHO growth z-scores of one measurement (nothing is stored): weight-for-age,
    /// length/height-for-age, weight-for-length/height and BMI-for-age, with the classification
    /// and WHO's plausibility flags.
    async fn growth_z_scores(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The measurement; impossible values (weight outside 0.2-250 kg, length/height outside 20-250 cm) are VALIDATION."
        )]
        input: GrowthQuestion,
    ) -> Result<GrowthZScores> {
        // Like every operation but login and refreshToken, it needs a token.
        data(ctx)?;
        Ok(input.answer()?)
    }

    /// The defaulter-tracing list of a field round: people living in the unit's subtree (in the
    /// caller's scope) who are due or overdue for a scheduled service on `asOf` (default today),
    /// or fall due within `withinDays`; most overdue first. `kinds` narrows the schedules.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn due_list(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The unit whose subtree's people are listed: a soum, bag, district or khoroo (more than 20,000 people to evaluate is VALIDATION)."
        )]
        org_unit_id: Uuid,
        #[graphql(desc = "The day of the round; default today (Mongolia's date).")] as_of: Option<NaiveDate>,
        #[graphql(default = 0, desc = "Also what falls due within this many days after `asOf`: 0 to 366.")]
        within_days: i32,
        #[graphql(desc = "Only these schedules; default all.")] kinds: Option<Vec<DueKind>>,
        #[graphql(desc = "How many items to return: 0 to 100 (default 20); more is VALIDATION.")] first: Option<i32>,
        #[graphql(
            desc = "The `endCursor` of the previous page (or an edge's `cursor`); leave out for the first page."
        )]
        after: Option<String>,
    ) -> Result<Conn<DueListEntry>> {
        let d = data(ctx)?;
        let req = SortedPageRequest::new(first, after, d.store.keys())?;
        if !(0..=MAX_WITHIN_DAYS).contains(&within_days) {
            return Err(ApiError::invalid("withinDays", format!("must be between 0 and {MAX_WITHIN_DAYS}")).into());
        }
        let as_of = d.store.reference_day(as_of);
        let filter = DueListFilter { org_unit_id, as_of, within_days: within_days as u32, kinds };
        let page = d.store.due_list(filter, d.schedule().await?, &req).await?;
        Ok(connection_by(page, |e| e.cursor(d.store.keys()), |entry| DueListEntry { entry, as_of }))
    }

    /// The schedules held as data: vitamin A, growth monitoring, antenatal and postnatal
    /// contacts (immunisation doses: `antigens { doseSchedule }`).
    async fn schedule_rules(&self, ctx: &Context<'_>) -> Result<Vec<ScheduleRule>> {
        Ok(data(ctx)?.schedule().await?.rule_rows.iter().cloned().map(ScheduleRule).collect())
    }

    /// Development milestones checked for children under 6, by domain.
    async fn milestones(&self, ctx: &Context<'_>) -> Result<Vec<Milestone>> {
        Ok(data(ctx)?.milestones().await?.iter().cloned().map(Milestone).collect())
    }

    /// Immunisation antigens and their number of doses.
    async fn antigens(&self, ctx: &Context<'_>) -> Result<Vec<Antigen>> {
        Ok(data(ctx)?.store.antigens().await?.into_iter().map(Antigen).collect())
    }
}

/// The root query. Every field needs an access token (`Authorization: Bearer <accessToken>`,
/// from `login`) and answers UNAUTHENTICATED without one. Personal data (every list, lookup and
/// nested record of it) is cut to the caller's view scope. Callers who see data de-identified
/// (ANALYST, RESEARCHER) get no identifiers, dates about people by month, pseudonymous ids and perturbed
/// counts (README, "What de-identified callers see"); reference data (the org-unit tree,
/// catalogues) is the same for every caller.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    CoreQuery,
    super::nodes::NodeQuery,
    super::access::AccessQuery,
    super::sync::SyncQuery,
    super::family::FamilyQuery,
    super::coverage::CoverageQuery,
    super::aggregate::AggregateQuery,
    super::referrals::ReferralQuery,
    super::cases::CaseQuery,
);
