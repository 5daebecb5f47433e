//! GraphQL types of development milestones: the reference items, the checks recorded, and a child's progress per domain.

use super::data;
use super::loaders::one;
use crate::domain::milestones::{DomainProgress, ItemProgress};
use crate::domain::vocab::{DevelopmentDomain, MilestoneStatus};
use async_graphql::{Context, Object, Result};
use chrono::NaiveDate;
use entity::{milestone, milestone_check};

pub struct Milestone(pub milestone::Model);

/// A development milestone and the ages it is expected in.
#[Object]
impl Milestone {
    /// The milestone's code, e.g. MOTOR_WALKS_ALONE (what `recordMilestoneCheck` takes).
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// The development domain it belongs to.
    async fn domain(&self) -> Result<DevelopmentDomain> {
        Ok(DevelopmentDomain::from_db(&self.0.domain)?)
    }
    /// What the child does, in English.
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    /// What the child does, in Mongolian.
    async fn name_mn(&self) -> &str {
        &self.0.name_mn
    }
    /// Completed months from which children typically achieve it.
    async fn expected_from_months(&self) -> i32 {
        self.0.expected_from_months
    }
    /// Completed months by which it is expected: not achieved at a check after this age, the
    /// child is not on track in its domain.
    async fn expected_by_months(&self) -> i32 {
        self.0.expected_by_months
    }
}

pub struct MilestoneCheck(pub milestone_check::Model);

/// One milestone checked at a development check.
#[Object]
impl MilestoneCheck {
    /// The milestone checked.
    async fn milestone(&self, ctx: &Context<'_>) -> Result<Option<Milestone>> {
        Ok(one(&data(ctx)?.loaders.milestone, self.0.milestone_id).await?.map(Milestone))
    }
    /// Whether the child was found to achieve it.
    async fn achieved(&self) -> bool {
        self.0.achieved
    }
}

pub struct MilestoneProgress {
    pub as_of: NaiveDate,
    pub age_months: i32,
    pub domains: Vec<DomainProgress>,
    pub reference: Vec<milestone::Model>,
}

/// A child's development on a day, per domain.
#[Object]
impl MilestoneProgress {
    /// The day the progress is assessed on (checks after it are not counted).
    async fn as_of(&self) -> NaiveDate {
        self.as_of
    }
    /// The child's age that day, in completed months.
    async fn age_months(&self) -> i32 {
        self.age_months
    }
    /// Domains on track (of the four), for "on track in 3 of 4 domains".
    async fn on_track_domains(&self) -> i32 {
        crate::domain::milestones::on_track_count(&self.domains).0 as i32
    }
    /// Domains with at least one milestone checked.
    async fn assessed_domains(&self) -> i32 {
        crate::domain::milestones::on_track_count(&self.domains).1 as i32
    }
    /// Each of the four domains.
    async fn domains(&self) -> Vec<DomainMilestones> {
        self.domains
            .iter()
            .map(|d| DomainMilestones { progress: d.clone(), reference: self.reference.clone() })
            .collect()
    }
}

pub struct DomainMilestones {
    progress: DomainProgress,
    reference: Vec<milestone::Model>,
}

/// A child's milestones in one domain.
#[Object]
impl DomainMilestones {
    /// The domain.
    async fn domain(&self) -> DevelopmentDomain {
        self.progress.domain
    }
    /// True: milestones were checked and none is DELAYED; false: one is; null: none checked.
    async fn on_track(&self) -> Option<bool> {
        self.progress.on_track
    }
    /// The day of the latest check of a milestone of the domain; null when none was checked.
    async fn last_checked_on(&self) -> Option<NaiveDate> {
        self.progress.last_checked_on
    }
    /// Every milestone of the domain with its status.
    async fn items(&self) -> Vec<MilestoneItem> {
        self.progress
            .items
            .iter()
            .filter_map(|i| {
                let m = self.reference.iter().find(|m| m.code == i.code)?;
                Some(MilestoneItem { milestone: m.clone(), progress: i.clone() })
            })
            .collect()
    }
}

pub struct MilestoneItem {
    milestone: milestone::Model,
    progress: ItemProgress,
}

/// One milestone for one child.
#[Object]
impl MilestoneItem {
    /// The milestone.
    async fn milestone(&self) -> Milestone {
        Milestone(self.milestone.clone())
    }
    /// Where the child stands with it.
    async fn status(&self) -> MilestoneStatus {
        self.progress.status
    }
    /// The latest check of the item.
    async fn checked_on(&self) -> Option<NaiveDate> {
        self.progress.checked_on
    }
    /// The first check that found it achieved.
    async fn achieved_on(&self) -> Option<NaiveDate> {
        self.progress.achieved_on
    }
}
