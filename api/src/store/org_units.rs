//! Org units: the administrative tree every record is placed in. The tree itself is public
//! reference data; what is scoped is the personal data placed in it.

use super::Store;
use super::page::{self, Page, PageRequest};
use crate::domain::vocab::OrgUnitLevel;
use crate::error::{ApiError, ApiResult};
use entity::{org_unit, org_unit_group, org_unit_group_member};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

#[derive(Default)]
pub struct OrgUnitFilter {
    pub parent_id: Option<Uuid>,
    pub level: Option<OrgUnitLevel>,
}

impl Store {
    pub async fn org_unit(&self, id: Uuid) -> ApiResult<Option<org_unit::Model>> {
        if let Some(Some(unit)) = self.cached(|c| c.units.get(&id).cloned()) {
            return Ok(Some(unit));
        }
        let unit = org_unit::Entity::find_by_id(id).one(self.db()).await?;
        if let Some(u) = &unit {
            self.cached(|c| c.units.insert(id, u.clone()));
        }
        Ok(unit)
    }

    pub async fn org_unit_by_code(&self, code: &str) -> ApiResult<Option<org_unit::Model>> {
        let mut p = crate::error::Problems::default();
        let code = crate::domain::validate::clean(&mut p, "code", code, crate::domain::validate::Kind::Line);
        p.into_result()?;
        Ok(org_unit::Entity::find().filter(org_unit::Column::Code.eq(code)).one(self.db()).await?)
    }

    pub async fn org_units(&self, filter: OrgUnitFilter, req: &PageRequest) -> ApiResult<Page<org_unit::Model>> {
        let mut q = org_unit::Entity::find();
        if let Some(p) = filter.parent_id {
            q = q.filter(org_unit::Column::ParentId.eq(p));
        }
        if let Some(l) = filter.level {
            q = q.filter(org_unit::Column::Level.eq(l.as_str()));
        }
        page::fetch(self.pool(), q, org_unit::Column::Id, req).await
    }

    /// Every unit's code by id (for exports; the tree is small).
    pub async fn unit_codes(&self) -> ApiResult<std::collections::HashMap<Uuid, String>> {
        Ok(org_unit::Entity::find().all(self.db()).await?.into_iter().map(|u| (u.id, u.code)).collect())
    }

    pub async fn org_units_by_ids(&self, ids: &[Uuid]) -> ApiResult<Vec<org_unit::Model>> {
        Ok(org_unit::Entity::find().filter(org_unit::Column::Id.is_in(ids.iter().copied())).all(self.db()).await?)
    }

    pub async fn org_unit_children(&self, parents: &[Uuid]) -> ApiResult<Vec<org_unit::Model>> {
        Ok(org_unit::Entity::find()
            .filter(org_unit::Column::ParentId.is_in(parents.iter().copied()))
            .order_by_asc(org_unit::Column::Code)
            .all(self.db())
            .await?)
    }

    /// The unit named by a filter or an input field; unknown ids are a VALIDATION error at `path`.
    pub(crate) async fn known_unit(&self, id: Uuid, path: &str) -> ApiResult<org_unit::Model> {
        self.org_unit(id).await?.ok_or_else(|| ApiError::invalid(path, "unknown org unit"))
    }

    pub async fn org_unit_groups(&self) -> ApiResult<Vec<org_unit_group::Model>> {
        Ok(org_unit_group::Entity::find().order_by_asc(org_unit_group::Column::Code).all(self.db()).await?)
    }

    /// Member unit ids of the given groups, as (group, unit) pairs.
    pub async fn org_unit_group_members(&self, groups: &[Uuid]) -> ApiResult<Vec<(Uuid, Uuid)>> {
        Ok(org_unit_group_member::Entity::find()
            .filter(org_unit_group_member::Column::GroupId.is_in(groups.iter().copied()))
            .select_only()
            .column(org_unit_group_member::Column::GroupId)
            .column(org_unit_group_member::Column::OrgUnitId)
            .into_tuple()
            .all(self.db())
            .await?)
    }

    /// Refuses a write placed outside the caller's capture scope.
    pub(crate) fn check_capture(&self, unit: &org_unit::Model) -> ApiResult<()> {
        if self.principal().capture.covers_path(&unit.path) { Ok(()) } else { Err(ApiError::Forbidden) }
    }
}

/// Households and people live in the lower levels of the tree.
pub fn holds_households(unit: &org_unit::Model) -> bool {
    OrgUnitLevel::parse(&unit.level).is_some_and(|l| {
        matches!(l, OrgUnitLevel::Soum | OrgUnitLevel::District | OrgUnitLevel::Bag | OrgUnitLevel::Khoroo)
    })
}
