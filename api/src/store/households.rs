//! Households: reads in the caller's view scope, validated writes in its capture scope.

use super::consent::NewConsent;
use super::filters::{HouseholdWhere, NamesUnits};
use super::org_units::holds_households;
use super::page::{self, Page, PageRequest, SortedPageRequest};
use super::write::NewRow;
use super::{Store, today};
use crate::access::Action;
use crate::access::units_under;
use crate::domain::validate;
use crate::domain::vocab::{Dwelling, HouseholdSort, MigrantStatus, SortDirection};
use crate::error::{ApiError, ApiResult, Problems};
use async_graphql::{InputObject, MaybeUndefined};
use chrono::NaiveDate;
use entity::{consent, household};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Select, Set, TryIntoModel};
use uuid::Uuid;

/// The common conditions on a list of households; all given must hold.
#[derive(InputObject, Default, Clone)]
pub struct HouseholdFilter {
    /// Households anywhere in this unit's subtree (an unknown unit is VALIDATION).
    pub org_unit_id: Option<Uuid>,
    /// Households living in this kind of dwelling.
    pub dwelling: Option<Dwelling>,
    /// Herder households (true) or the others (false).
    pub is_herder: Option<bool>,
    /// Households of this migrant status.
    pub migrant_status: Option<MigrantStatus>,
}

/// The order of a list of households; ties go by id.
#[derive(InputObject, Clone, Copy)]
pub struct HouseholdOrder {
    /// What to order by.
    pub field: HouseholdSort,
    /// Ascending (the default) or descending.
    #[graphql(default_with = "SortDirection::Asc")]
    pub direction: SortDirection,
}

impl HouseholdOrder {
    pub fn order(&self) -> page::Order<household::Entity> {
        let desc = self.direction == SortDirection::Desc;
        match self.field {
            HouseholdSort::Id => page::Order {
                key: household::Column::Id,
                desc,
                key_of: |m| m.id.to_string(),
                parse: |k| k.parse::<Uuid>().ok().map(sea_orm::Value::from),
            },
            HouseholdSort::RegisteredOn => page::Order {
                key: household::Column::RegisteredOn,
                desc,
                key_of: |m| m.registered_on.to_string(),
                parse: |k| k.parse::<NaiveDate>().ok().map(sea_orm::Value::from),
            },
        }
    }
}

/// A new household and the consent it is recorded under.
#[derive(InputObject, Clone)]
#[graphql(name = "CreateHouseholdInput")]
pub struct NewHousehold {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// A soum, district, bag or khoroo.
    pub org_unit_id: Uuid,
    /// The address as written, at most 500 characters.
    pub address: Option<String>,
    /// Free text about the household, at most 500 characters.
    pub description: Option<String>,
    /// The kind of dwelling it lives in.
    pub dwelling: Dwelling,
    /// Whether it is a herder household (default false).
    #[graphql(default)]
    pub is_herder: bool,
    /// Whether it lives where it is registered, or has moved; default RESIDENT.
    #[graphql(default_with = "MigrantStatus::Resident")]
    pub migrant_status: MigrantStatus,
    /// The day it was registered: not in the future; defaults to today.
    pub registered_on: Option<NaiveDate>,
    /// The consent (or other legal basis) under which the household's data is recorded.
    pub consent: NewConsent,
}

/// Changes to a household: fields left out are kept.
#[derive(InputObject)]
#[graphql(name = "UpdateHouseholdInput")]
pub struct HouseholdChanges {
    /// The household's id.
    pub id: Uuid,
    /// The version the client last saw; a different stored version is a CONFLICT.
    pub expected_version: Option<i32>,
    /// Moves the household (and its members) to this soum, district, bag or khoroo.
    pub org_unit_id: Option<Uuid>,
    /// The address; null clears it.
    #[graphql(default)]
    pub address: MaybeUndefined<String>,
    /// The description; null clears it.
    #[graphql(default)]
    pub description: MaybeUndefined<String>,
    /// The kind of dwelling.
    pub dwelling: Option<Dwelling>,
    /// Whether it is a herder household.
    pub is_herder: Option<bool>,
    /// Its migrant status.
    pub migrant_status: Option<MigrantStatus>,
    /// The day it was registered: not in the future.
    pub registered_on: Option<NaiveDate>,
}

fn optional_text(p: &mut Problems, path: &str, v: Option<String>) -> Option<String> {
    v.map(|t| validate::text(p, path, &t, 500))
}

/// The id column of a household's row, whose last byte is its record key (`domain::cell_key`).
const HOUSEHOLD_ID: &str = "household.id";

impl Store {
    pub async fn households(
        &self,
        filter: HouseholdFilter,
        cond: Option<HouseholdWhere>,
        req: &PageRequest,
    ) -> ApiResult<Page<household::Model>> {
        let Some(unit) = filter.org_unit_id else {
            let q = self.households_select(filter, cond).await?;
            let page = page::fetch(self.pool(), q.clone(), household::Column::Id, req).await?;
            return Ok(self.counted(page, &q, HOUSEHOLD_ID));
        };
        let unit = self.known_unit(unit, "filter.orgUnitId").await?;
        let q = self.households_select(HouseholdFilter { org_unit_id: None, ..filter }, cond).await?;
        let whole = page::in_subtree(q.clone(), household::Column::OrgUnitId, &unit.path);
        let (unit_column, id) = (household::Column::OrgUnitId, household::Column::Id);
        let page = page::fetch_in_subtree(self.pool(), q, unit_column, &unit.path, id, req).await?;
        Ok(self.counted(page, &whole, HOUSEHOLD_ID))
    }

    /// Households in an order other than by id.
    pub async fn households_ordered(
        &self,
        filter: HouseholdFilter,
        cond: Option<HouseholdWhere>,
        order: HouseholdOrder,
        req: &SortedPageRequest,
    ) -> ApiResult<Page<household::Model>> {
        if !self.identified()
            && crate::disclosure::input("HouseholdSort", order.field.as_str()) != Some(crate::disclosure::In::Safe)
        {
            // An order by a day (and its cursors) would tell the days apart.
            return Err(ApiError::Forbidden);
        }
        let Some(unit) = filter.org_unit_id else {
            let q = self.households_select(filter, cond).await?;
            let page = page::fetch_ordered(self.pool(), q.clone(), &order.order(), household::Column::Id, req).await?;
            return Ok(self.counted(page, &q, HOUSEHOLD_ID));
        };
        let unit = self.known_unit(unit, "filter.orgUnitId").await?;
        let q = self.households_select(HouseholdFilter { org_unit_id: None, ..filter }, cond).await?;
        let whole = page::in_subtree(q.clone(), household::Column::OrgUnitId, &unit.path);
        let (order, id) = (order.order(), household::Column::Id);
        let page =
            page::fetch_ordered_in_subtree(self.pool(), q, household::Column::OrgUnitId, &unit.path, &order, id, req)
                .await?;
        Ok(self.counted(page, &whole, HOUSEHOLD_ID))
    }

    async fn households_select(
        &self,
        filter: HouseholdFilter,
        cond: Option<HouseholdWhere>,
    ) -> ApiResult<Select<household::Entity>> {
        let mut q = self.visible(household::Entity::find());
        if let Some(unit) = filter.org_unit_id {
            let unit = self.known_unit(unit, "filter.orgUnitId").await?;
            q = q.filter(Expr::col(household::Column::OrgUnitId).in_subquery(units_under(&unit.path)));
        }
        if let Some(d) = filter.dwelling {
            q = q.filter(household::Column::Dwelling.eq(d.as_str()));
        }
        if let Some(h) = filter.is_herder {
            q = q.filter(household::Column::IsHerder.eq(h));
        }
        if let Some(m) = filter.migrant_status {
            q = q.filter(household::Column::MigrantStatus.eq(m.as_str()));
        }
        if let Some(w) = cond {
            let mut ids = Vec::new();
            w.unit_ids(&mut ids);
            let mut cx = self.compiler(ids, today(), "where").await?;
            q = q.filter(cx.household(&w, "household", "where")?);
        }
        Ok(q)
    }

    pub async fn household(&self, id: Uuid) -> ApiResult<household::Model> {
        if let Some(Some(found)) = self.cached(|c| c.households.get(&id).cloned()) {
            return Ok(found);
        }
        let found = self.visible_by_id::<household::Entity>(id, "household").await?;
        self.cached(|c| c.households.insert(id, found.clone()));
        Ok(found)
    }

    /// Keeps a household this batch wrote (or read in bulk) for the batch's later items.
    pub(crate) fn remember_household(&self, h: &household::Model, consented: bool) {
        self.cached(|c| {
            c.free_ids.remove(&("household", h.id));
            c.households.insert(h.id, h.clone());
            if consented {
                c.consented.insert(h.id);
            }
        });
    }

    /// A household looked up by id for a caller; never for de-identified callers.
    pub async fn read_household(&self, id: Uuid) -> ApiResult<household::Model> {
        if !self.identified() {
            return Err(ApiError::not_found("household"));
        }
        self.household(id).await
    }

    /// The unit a household may be placed in by this caller.
    async fn household_unit(&self, id: Uuid, path: &str) -> ApiResult<entity::org_unit::Model> {
        let unit = self.known_unit(id, path).await?;
        if !holds_households(&unit) {
            return Err(ApiError::invalid(path, "households are placed in a soum, district, bag or khoroo"));
        }
        self.check_capture(&unit)?;
        Ok(unit)
    }

    pub async fn create_household(&self, input: NewHousehold) -> ApiResult<household::Model> {
        self.authorize(Action::RegisterPeople)?;
        let mut p = Problems::default();
        let registered_on = input.registered_on.unwrap_or_else(today);
        validate::past_date(&mut p, "input.registeredOn", registered_on, today());
        let address = optional_text(&mut p, "input.address", input.address);
        let description = input.description.map(|t| validate::lines(&mut p, "input.description", &t, 500));
        p.into_result()?;
        self.household_unit(input.org_unit_id, "input.orgUnitId").await?;
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        if input.consent.representative_for.is_some() {
            // A new household has no members yet: a child's representative consents later, with
            // `recordConsent`, once the child is registered in it.
            return Err(ApiError::invalid(
                "input.consent.representativeFor",
                "a new household has no members yet: record a representative's consent after registering the child",
            ));
        }
        let consent = input.consent.row(id, self.principal().user_id, "input.consent")?;
        if self.id_taken::<household::Entity>("household", id).await? {
            return Err(ApiError::conflict("a household with this id exists"));
        }
        if input.consent.id.is_some() && self.id_taken::<consent::Entity>("consent", *consent.id.as_ref()).await? {
            return Err(ApiError::conflict("a consent with this id exists"));
        }
        let now = super::now();
        let row = household::ActiveModel {
            id: Set(id),
            org_unit_id: Set(input.org_unit_id),
            address: Set(address),
            description: Set(description),
            dwelling: Set(input.dwelling.as_str().into()),
            is_herder: Set(input.is_herder),
            migrant_status: Set(input.migrant_status.as_str().into()),
            registered_on: Set(registered_on),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            change_seq: Set(0),
        };
        let mut saved = row.clone().try_into_model()?;
        let given = consent.clone().try_into_model()?;
        saved.change_seq = self
            .insert_new(vec![NewRow::Household(row), NewRow::Consent(consent)], |w| {
                w.record("CREATE", "household", saved.id, None, Some(&saved));
                w.record("CREATE", "consent", given.id, None, Some(&given));
            })
            .await?;
        self.remember_household(&saved, true);
        Ok(saved)
    }

    pub async fn update_household(&self, input: HouseholdChanges) -> ApiResult<household::Model> {
        self.authorize(Action::RegisterPeople)?;
        let current = self.household(input.id).await?;
        let current_unit = self.known_unit(current.org_unit_id, "input.id").await?;
        self.check_capture(&current_unit)?;
        let mut p = Problems::default();
        let mut row: household::ActiveModel = current.clone().into();
        if let Some(d) = input.registered_on {
            validate::past_date(&mut p, "input.registeredOn", d, today());
            row.registered_on = Set(d);
        }
        match input.address {
            MaybeUndefined::Value(a) => row.address = Set(Some(validate::text(&mut p, "input.address", &a, 500))),
            MaybeUndefined::Null => row.address = Set(None),
            MaybeUndefined::Undefined => {}
        }
        match input.description {
            MaybeUndefined::Value(a) => {
                row.description = Set(Some(validate::lines(&mut p, "input.description", &a, 500)))
            }
            MaybeUndefined::Null => row.description = Set(None),
            MaybeUndefined::Undefined => {}
        }
        p.into_result()?;
        if let Some(d) = input.dwelling {
            row.dwelling = Set(d.as_str().into());
        }
        if let Some(h) = input.is_herder {
            row.is_herder = Set(h);
        }
        if let Some(m) = input.migrant_status {
            row.migrant_status = Set(m.as_str().into());
        }
        let moved_to = match input.org_unit_id {
            Some(unit) if unit != current.org_unit_id => {
                self.household_unit(unit, "input.orgUnitId").await?;
                row.org_unit_id = Set(unit);
                Some(unit)
            }
            _ => None,
        };
        if unchanged(&row, &current)? {
            // Nothing to write (a retried or repeated update): no new version, no conflict.
            return Ok(current);
        }
        check_version(input.expected_version, current.version)?;
        self.require_consent(self.db(), current.id).await?;
        self.save_versioned(current, row, moved_to).await
    }

    /// Writes a household change only if nobody changed it since it was read, moving its
    /// members with it when its unit changed; all in one transaction.
    async fn save_versioned(
        &self,
        before: household::Model,
        mut row: household::ActiveModel,
        moved_to: Option<Uuid>,
    ) -> ApiResult<household::Model> {
        let (id, read_version) = (before.id, before.version);
        row.version = Set(read_version + 1);
        row.updated_at = Set(super::now());
        let saved = self
            .write(move |txn, w| {
                Box::pin(async move {
                    row.change_seq = Set(w.seq);
                    let res = household::Entity::update_many()
                        .set(row)
                        .filter(household::Column::Id.eq(id))
                        .filter(household::Column::Version.eq(read_version))
                        .exec(txn)
                        .await?;
                    if res.rows_affected == 0 {
                        return Err(ApiError::conflict("the household was changed by someone else; reload it"));
                    }
                    if let Some(unit) = moved_to {
                        entity::person::Entity::update_many()
                            .col_expr(entity::person::Column::OrgUnitId, Expr::value(unit))
                            .col_expr(
                                entity::person::Column::Version,
                                Expr::col(entity::person::Column::Version).add(1),
                            )
                            .col_expr(entity::person::Column::UpdatedAt, Expr::value(super::now()))
                            .col_expr(entity::person::Column::ChangeSeq, Expr::value(w.seq))
                            .filter(entity::person::Column::HouseholdId.eq(id))
                            .exec(txn)
                            .await?;
                    }
                    let saved =
                        household::Entity::find_by_id(id).one(txn).await?.ok_or(ApiError::not_found("household"))?;
                    w.record("UPDATE", "household", id, Some(&before), Some(&saved));
                    Ok(saved)
                })
            })
            .await?;
        self.remember_household(&saved, false);
        if moved_to.is_some() {
            self.cached(|c| c.people.retain(|_, p| p.household_id != Some(id)));
        }
        Ok(saved)
    }
}

/// Whether applying `row` to `current` would change nothing.
pub(crate) fn unchanged<A, M>(row: &A, current: &M) -> ApiResult<bool>
where
    A: ActiveModelTrait + sea_orm::TryIntoModel<M> + Clone,
    M: sea_orm::ModelTrait + PartialEq,
{
    Ok(row.clone().try_into_model()? == *current)
}

/// Optimistic concurrency: a client that says which version it edited must have edited the latest.
pub(crate) fn check_version(expected: Option<i32>, stored: i32) -> ApiResult<()> {
    match expected {
        Some(v) if v != stored => {
            Err(ApiError::conflict(format!("expected version {v}, but the stored version is {stored}")))
        }
        _ => Ok(()),
    }
}
