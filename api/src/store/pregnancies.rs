//! Pregnancies (maternal health and safe motherhood): registration, outcome and the children born.

use super::households::check_version;
use super::write::NewRow;
use super::{Store, today};
use crate::access::Action;
use crate::domain::pregnancy::{self as pregnancy_rules, FollowUp};
use crate::domain::schedule::Rule;
use crate::domain::vocab::DueKind;
use crate::domain::vocab::{BirthAttendant, DeliveryPlace, PregnancyOutcome, Sex};
use crate::domain::{age, validate};
use crate::error::{ApiError, ApiResult, Problems, Unique};
use async_graphql::InputObject;
use chrono::{Days, NaiveDate};
use entity::{person, pregnancy, pregnancy_child, schedule_rule};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set, TryIntoModel};
use uuid::Uuid;

const GESTATION_DAYS: u64 = pregnancy_rules::GESTATION_DAYS.unsigned_abs();
/// A pregnancy is not registered later than 44 weeks after the last period.
const MAX_GESTATION_DAYS: i64 = 44 * 7;

/// A new pregnancy.
#[derive(InputObject, Clone)]
#[graphql(name = "RegisterPregnancyInput")]
pub struct NewPregnancy {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// The woman: 10 to 55 years old on the registration day.
    pub mother_id: Uuid,
    /// Give the last menstrual period, the expected delivery date, or both. On or before the
    /// registration day, at most 44 weeks before it.
    pub last_menstrual_period: Option<NaiveDate>,
    /// The expected delivery date: 280 days after the last menstrual period, when both are given.
    pub expected_delivery_date: Option<NaiveDate>,
    /// The day it is registered: not in the future; defaults to today.
    pub registered_on: Option<NaiveDate>,
}

/// How a pregnancy ended.
#[derive(InputObject, Clone)]
#[graphql(name = "RecordPregnancyOutcomeInput")]
pub struct PregnancyOutcomeInput {
    /// The pregnancy's id.
    pub pregnancy_id: Uuid,
    /// The version the client last saw; a different stored version is a CONFLICT.
    pub expected_version: Option<i32>,
    /// How it ended.
    pub outcome: PregnancyOutcome,
    /// The delivery (or end of pregnancy) date: not in the future, nor before the last menstrual
    /// period.
    pub outcome_date: NaiveDate,
    /// Where the birth took place: required for a LIVE_BIRTH or STILLBIRTH.
    pub delivery_place: Option<DeliveryPlace>,
    /// Who attended the birth: required for a LIVE_BIRTH or STILLBIRTH.
    pub attendant: Option<BirthAttendant>,
    /// Children born of a live birth, already registered as people (twins: two ids).
    #[graphql(default)]
    pub child_ids: Vec<Uuid>,
}

impl Store {
    pub async fn pregnancy(&self, id: Uuid) -> ApiResult<pregnancy::Model> {
        self.visible_by_id::<pregnancy::Entity>(id, "pregnancy").await
    }

    /// The mother's pregnancies, newest first.
    pub async fn pregnancies_of(&self, mother: Uuid) -> ApiResult<Vec<pregnancy::Model>> {
        Ok(self
            .visible(pregnancy::Entity::find().filter(pregnancy::Column::MotherId.eq(mother)))
            .order_by_desc(pregnancy::Column::RegisteredOn)
            .all(self.db())
            .await?)
    }

    pub async fn register_pregnancy(&self, input: NewPregnancy) -> ApiResult<pregnancy::Model> {
        self.authorize(Action::RegisterPeople)?;
        let today = today();
        let registered_on = input.registered_on.unwrap_or(today);
        let mut p = Problems::default();
        validate::past_date(&mut p, "input.registeredOn", registered_on, today);
        let edd = match (input.last_menstrual_period, input.expected_delivery_date) {
            (None, None) => {
                p.add("input.lastMenstrualPeriod", "give the last menstrual period or the expected delivery date");
                registered_on
            }
            (lmp, Some(edd)) => {
                if let Some(lmp) = lmp {
                    p.check(
                        (edd - lmp).num_days() == GESTATION_DAYS as i64,
                        "input.expectedDeliveryDate",
                        "must be 280 days after the last menstrual period",
                    );
                }
                edd
            }
            (Some(lmp), None) => lmp + Days::new(GESTATION_DAYS),
        };
        let lmp = pregnancy_rules::lmp(edd);
        p.check(lmp <= registered_on, "input.lastMenstrualPeriod", "must be on or before the registration date");
        p.check(
            (registered_on - lmp).num_days() <= MAX_GESTATION_DAYS,
            "input.lastMenstrualPeriod",
            "is more than 44 weeks before registration",
        );
        p.into_result()?;

        let mother =
            self.person(input.mother_id).await.map_err(|_| ApiError::invalid("input.motherId", "unknown person"))?;
        let mut p = Problems::default();
        p.check(mother.sex == Sex::Female.as_str(), "input.motherId", "must be a woman");
        let years = age::years(mother.birth_date, registered_on);
        p.check((10..=55).contains(&years), "input.motherId", "must be 10 to 55 years old at registration");
        p.check(
            mother.date_of_death.is_none_or(|d| d >= registered_on),
            "input.motherId",
            "is recorded as dead before registration",
        );
        p.into_result()?;
        let unit = self.known_unit(mother.org_unit_id, "input.motherId").await?;
        self.require_consent_of(mother.id, mother.household_id).await?;
        self.check_capture(&unit)?;
        let open = pregnancy::Entity::find()
            .filter(pregnancy::Column::MotherId.eq(mother.id))
            .filter(pregnancy::Column::Outcome.is_null())
            .one(self.db())
            .await?;
        if open.is_some() {
            return Err(ApiError::conflict("the woman already has an open pregnancy; record its outcome first"));
        }
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        if self.id_taken::<pregnancy::Entity>("pregnancy", id).await? {
            return Err(ApiError::conflict("a pregnancy with this id exists"));
        }
        let now = super::now();
        let row = pregnancy::ActiveModel {
            id: Set(id),
            mother_id: Set(mother.id),
            org_unit_id: Set(mother.org_unit_id),
            last_menstrual_period: Set(input.last_menstrual_period),
            expected_delivery_date: Set(edd),
            registered_on: Set(registered_on),
            outcome: Set(None),
            outcome_date: Set(None),
            delivery_place: Set(None),
            attendant: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            change_seq: Set(0),
        };
        let mut saved = row.clone().try_into_model()?;
        saved.change_seq = self
            .insert_new(vec![NewRow::Pregnancy(row)], |w| w.record("CREATE", "pregnancy", saved.id, None, Some(&saved)))
            .await?;
        self.cached(|c| c.free_ids.remove(&("pregnancy", saved.id)));
        Ok(saved)
    }

    pub async fn record_pregnancy_outcome(&self, input: PregnancyOutcomeInput) -> ApiResult<pregnancy::Model> {
        self.authorize(Action::RegisterPeople)?;
        let current = self.pregnancy(input.pregnancy_id).await?;
        let mother = self.person(current.mother_id).await?;
        self.require_consent_of(mother.id, mother.household_id).await?;
        let unit = self.known_unit(current.org_unit_id, "input.pregnancyId").await?;
        self.check_capture(&unit)?;
        check_version(input.expected_version, current.version)?;
        if current.outcome.is_some() {
            return Err(ApiError::conflict("the outcome of this pregnancy is already recorded"));
        }
        let mut p = Problems::default();
        validate::past_date(&mut p, "input.outcomeDate", input.outcome_date, today());
        let lmp = pregnancy_rules::lmp(current.expected_delivery_date);
        p.check(input.outcome_date >= lmp, "input.outcomeDate", "must be after the last menstrual period");
        let birth = matches!(input.outcome, PregnancyOutcome::LiveBirth | PregnancyOutcome::Stillbirth);
        if birth {
            p.check(input.delivery_place.is_some(), "input.deliveryPlace", "is required for a birth");
            p.check(input.attendant.is_some(), "input.attendant", "is required for a birth");
        }
        if input.outcome != PregnancyOutcome::LiveBirth && !input.child_ids.is_empty() {
            p.add("input.childIds", "only a live birth has children");
        }
        for (i, child_id) in input.child_ids.iter().enumerate() {
            let path = format!("input.childIds.{i}");
            if input.child_ids[..i].contains(child_id) {
                p.add(path, "is given twice");
                continue;
            }
            match self.person(*child_id).await {
                Ok(child) => p.check(
                    child.birth_date == input.outcome_date,
                    &path,
                    "the child's birth date must be the outcome date",
                ),
                Err(_) => p.add(path, "unknown person"),
            }
        }
        p.into_result()?;
        let linked = pregnancy_child::Entity::find()
            .filter(pregnancy_child::Column::ChildId.is_in(input.child_ids.iter().copied()))
            .one(self.db())
            .await?;
        if linked.is_some() {
            return Err(Unique::ChildOfPregnancy.error());
        }
        let id = current.id;
        let version = current.version;
        let before = current.clone();
        let mut row: pregnancy::ActiveModel = current.into();
        row.outcome = Set(Some(input.outcome.as_str().into()));
        row.outcome_date = Set(Some(input.outcome_date));
        row.delivery_place = Set(input.delivery_place.map(|d| d.as_str().into()));
        row.attendant = Set(input.attendant.map(|a| a.as_str().into()));
        row.version = Set(version + 1);
        row.updated_at = Set(super::now());
        let children = input.child_ids;
        self.write(move |txn, w| {
            Box::pin(async move {
                row.change_seq = Set(w.seq);
                let res = pregnancy::Entity::update_many()
                    .set(row)
                    .filter(pregnancy::Column::Id.eq(id))
                    .filter(pregnancy::Column::Version.eq(version))
                    .exec(txn)
                    .await?;
                if res.rows_affected == 0 {
                    return Err(ApiError::conflict("the pregnancy was changed by someone else; reload it"));
                }
                if !children.is_empty() {
                    let links = children
                        .into_iter()
                        .map(|child| pregnancy_child::ActiveModel { pregnancy_id: Set(id), child_id: Set(child) });
                    pregnancy_child::Entity::insert_many(links).exec_without_returning(txn).await?;
                }
                let saved =
                    pregnancy::Entity::find_by_id(id).one(txn).await?.ok_or(ApiError::not_found("pregnancy"))?;
                w.record("UPDATE", "pregnancy", id, Some(&before), Some(&saved));
                Ok(saved)
            })
        })
        .await
    }

    /// (pregnancy, child) links of the given pregnancies.
    pub async fn children_of_pregnancies(&self, ids: &[Uuid]) -> ApiResult<Vec<pregnancy_child::Model>> {
        Ok(pregnancy_child::Entity::find()
            .filter(pregnancy_child::Column::PregnancyId.is_in(ids.iter().copied()))
            .all(self.db())
            .await?)
    }

    /// Facts eligibility rules need about a woman on a date: an open pregnancy, and days since
    /// her most recent delivery.
    pub(crate) async fn maternal_state(
        &self,
        mother: &person::Model,
        on: NaiveDate,
    ) -> ApiResult<(Option<pregnancy::Model>, Option<i64>)> {
        // Registration takes women of 10 to 55 (and a delivery reaches a year back): nobody
        // else can be or have recently been pregnant, so most children cost no query here.
        if mother.sex != Sex::Female.as_str() || age::years(mother.birth_date, on) < 10 {
            return Ok((None, None));
        }
        // A pregnancy starts at the last menstrual period, not at registration: the contact at
        // which it is registered may be entered before the registration itself.
        let all = pregnancy::Entity::find()
            .filter(pregnancy::Column::MotherId.eq(mother.id))
            .filter(pregnancy::Column::ExpectedDeliveryDate.lte(on + Days::new(GESTATION_DAYS)))
            .filter(
                Condition::any()
                    .add(pregnancy::Column::OutcomeDate.is_null())
                    .add(pregnancy::Column::OutcomeDate.lte(on + Days::new(365))),
            )
            .all(self.db())
            .await?;
        let follow_up = self.pregnancy_follow_up().await?;
        let open = all
            .iter()
            .find(|p| pregnancy_rules::is_open(p.expected_delivery_date, p.outcome_date, on, follow_up))
            .cloned();
        let since = all.iter().filter_map(|p| p.outcome_date).filter(|d| *d <= on).map(|d| (on - d).num_days()).min();
        Ok((open, since))
    }
}

impl Store {
    /// The margins of a pregnancy without an outcome: the schedule's PREGNANCY_OUTCOME rule
    /// (read once per batch).
    pub(crate) async fn pregnancy_follow_up(&self) -> ApiResult<FollowUp> {
        if let Some(Some(f)) = self.cached(|c| c.follow_up) {
            return Ok(f);
        }
        let rows = schedule_rule::Entity::find()
            .filter(schedule_rule::Column::Active.eq(true))
            .filter(schedule_rule::Column::Kind.eq(DueKind::PregnancyOutcome.as_str()))
            .order_by_asc(schedule_rule::Column::SortOrder)
            .all(self.db())
            .await?;
        let rules = rows.iter().map(super::schedule::rule).collect::<ApiResult<Vec<Rule>>>()?;
        let f = FollowUp::from_rules(&rules);
        self.cached(|c| c.follow_up = Some(f));
        Ok(f)
    }
}

/// Ids of women with a pregnancy open on `on` (`domain::pregnancy::is_open`, in SQL); `by_month`
/// for de-identified callers, whose derivations see every date at the first of its month.
pub(crate) fn open_pregnancy_mothers(on: NaiveDate, follow_up: FollowUp, by_month: bool) -> SelectStatement {
    let b = pregnancy_rules::open_bounds(on, follow_up, by_month);
    let mut q = Query::select();
    q.column(pregnancy::Column::MotherId)
        .from(pregnancy::Entity)
        .and_where(Expr::col(pregnancy::Column::ExpectedDeliveryDate).lte(b.latest))
        .cond_where(
            Condition::any()
                .add(pregnancy::Column::OutcomeDate.is_null())
                .add(pregnancy::Column::OutcomeDate.gt(b.outcome_after)),
        );
    if let Some(earliest) = b.earliest {
        q.and_where(Expr::col(pregnancy::Column::ExpectedDeliveryDate).gte(earliest));
    }
    q
}
