//! GraphQL types of the org-unit tree.

use super::data;
use super::loaders::{many, one, ones};
use crate::domain::vocab::{OrgUnitLevel, Settlement};
use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use entity::{org_unit, org_unit_group};
use uuid::Uuid;

pub struct OrgUnit(pub org_unit::Model);

/// A unit of Mongolia's administrative tree: the country, a region, an aimag or the capital, a soum
/// or district, a bag or khoroo. The tree is reference data every signed-in caller reads whole;
/// what is scoped is the personal data placed in it.
#[Object]
impl OrgUnit {
    /// The unit's id (a UUID).
    pub(super) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Statistics-office code for aimags (e.g. 85 Uvs), our own codes below.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// The name in English (Latin letters).
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    /// The name in Mongolian (Cyrillic letters).
    async fn name_mn(&self) -> &str {
        &self.0.name_mn
    }
    /// Its level in the tree.
    async fn level(&self) -> Result<OrgUnitLevel> {
        Ok(OrgUnitLevel::from_db(&self.0.level)?)
    }
    /// 0 for the country, 1 for regions, and so on down.
    async fn depth(&self) -> i32 {
        self.0.depth
    }
    /// The first day the unit exists in this form (units are created, split and merged over time);
    /// null when not recorded.
    async fn valid_from(&self) -> Option<NaiveDate> {
        self.0.valid_from
    }
    /// The last day the unit exists in this form; null while it is current (or when not recorded).
    async fn valid_to(&self) -> Option<NaiveDate> {
        self.0.valid_to
    }
    /// URBAN (Ulaanbaatar's districts and khoroos) or RURAL (soums and bags); null above.
    async fn settlement(&self) -> Result<Option<Settlement>> {
        Ok(self.0.settlement.as_deref().map(Settlement::from_db).transpose()?)
    }
    /// Demo units carry plausible, not official, names.
    async fn is_demo(&self) -> bool {
        self.0.is_demo
    }
    /// The unit one level up; null for the country.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(one(&data(ctx)?.loaders.org_unit, parent).await?.map(OrgUnit))
    }
    /// The units one level down, by code.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<OrgUnit>> {
        Ok(many(&data(ctx)?.loaders.org_unit_children, self.0.id).await?.into_iter().map(OrgUnit).collect())
    }
    /// From the country down to this unit's parent.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<OrgUnit>> {
        let ids: Vec<Uuid> =
            self.0.path.split('/').filter_map(|s| s.parse().ok()).filter(|id| *id != self.0.id).collect();
        Ok(ones(&data(ctx)?.loaders.org_unit, &ids).await?.into_iter().map(OrgUnit).collect())
    }
    /// The row's version, raised by one on every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

pub struct OrgUnitGroup {
    pub group: org_unit_group::Model,
    pub members: Vec<Uuid>,
}

/// A cross-cutting set of units, such as the programme's focus soums (FOCUS_SOUMS) and khoroos
/// (FOCUS_KHOROOS).
#[Object]
impl OrgUnitGroup {
    /// The group's id.
    async fn id(&self) -> Uuid {
        self.group.id
    }
    /// The group's code, e.g. FOCUS_SOUMS.
    async fn code(&self) -> &str {
        &self.group.code
    }
    /// The name in English.
    async fn name_en(&self) -> &str {
        &self.group.name_en
    }
    /// The name in Mongolian.
    async fn name_mn(&self) -> &str {
        &self.group.name_mn
    }
    /// The units in the group.
    #[graphql(complexity = "super::NESTED_LIST_WEIGHT * child_complexity")]
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<OrgUnit>> {
        Ok(ones(&data(ctx)?.loaders.org_unit, &self.members).await?.into_iter().map(OrgUnit).collect())
    }
}
