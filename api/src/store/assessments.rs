//! Family assessments (the Triple-A visit): the instrument, recording a visit against the
//! household's composition on the day, the agreed actions and their follow-up, and the roll-up
//! of answers to any unit of the tree.

use super::dimensions::record_key;
use super::{Store, today};
use crate::access::{Action, Scoped, units_under};
use crate::domain::cell_key;
use crate::domain::family::{self, Composition, Member, Tally};
use crate::domain::period::Period;
use crate::domain::validate;
use crate::domain::vocab::{ActionStatus, AppliesWhen, AssessmentAnswer, Sex};
use crate::error::{ApiError, ApiResult, Problems};
use async_graphql::InputObject;
use chrono::NaiveDate;
use entity::{
    assessment_action, assessment_answer, assessment_indicator, assessment_instrument, family_assessment, person,
    pregnancy,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityName, EntityTrait, IdenStatic, QueryFilter, QueryOrder, QuerySelect, Set,
    TryIntoModel,
};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// A family education and assessment visit.
#[derive(InputObject, Clone)]
#[graphql(name = "RecordFamilyAssessmentInput")]
pub struct NewAssessment {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// The household visited.
    pub household_id: Uuid,
    /// The visit's date: not in the future; defaults to today.
    pub assessed_on: Option<NaiveDate>,
    /// The instrument's version number; defaults to the active one.
    pub instrument_version: Option<i32>,
    /// An answer for every indicator that applies to the household on the day; indicators that
    /// do not apply may be left out (they are stored as NOT_APPLICABLE).
    pub answers: Vec<AnswerInput>,
    /// What the family agreed to do.
    #[graphql(default)]
    pub actions: Vec<NewAction>,
    /// What became of actions agreed at earlier visits.
    #[graphql(default)]
    pub follow_ups: Vec<FollowUp>,
    /// A free-text note, at most 2,000 characters.
    pub note: Option<String>,
}

/// The answer to one indicator.
#[derive(InputObject, Clone)]
#[graphql(name = "AssessmentAnswerInput")]
pub struct AnswerInput {
    /// An indicator code of the instrument, e.g. SAFE_WATER; each once.
    pub indicator_code: String,
    /// YES or NO where the indicator applies to the household that day, NOT_APPLICABLE where it
    /// does not.
    pub answer: AssessmentAnswer,
}

/// An action the family agrees to.
#[derive(InputObject, Clone)]
#[graphql(name = "AssessmentActionInput")]
pub struct NewAction {
    /// What the family will do, at most 500 characters.
    pub description: String,
    /// The family member who takes it on.
    pub person_id: Option<Uuid>,
    /// The day it should be done by: not before the visit.
    pub due_on: Option<NaiveDate>,
}

/// What became of an action agreed at an earlier visit.
#[derive(InputObject, Clone)]
#[graphql(name = "AssessmentFollowUpInput")]
pub struct FollowUp {
    /// The action's id (an action agreed with this household).
    pub action_id: Uuid,
    /// DONE, DROPPED, or still OPEN.
    pub status: ActionStatus,
    /// A note, at most 500 characters.
    pub note: Option<String>,
}

/// The households an indicator applied to and met it, each with its records' key sum.
#[derive(Clone, Copy, Default)]
struct Counts {
    applicable: (i64, i64),
    met: (i64, i64),
}

/// One indicator in a roll-up.
pub struct IndicatorSummary {
    pub indicator: assessment_indicator::Model,
    pub now: Tally,
    pub before: Tally,
    /// 1 = the first priority; None when it applied to no household.
    pub priority: Option<usize>,
    /// The counts are too small to show this caller (`domain::cell_key`).
    pub suppressed: bool,
    pub previous_suppressed: bool,
}

pub struct AssessmentSummary {
    pub org_unit: entity::org_unit::Model,
    pub period: Period,
    pub previous: Period,
    /// None when too small to show this caller.
    pub households: Option<i64>,
    pub previous_households: Option<i64>,
    pub indicators: Vec<IndicatorSummary>,
}

impl Store {
    /// The instrument by version number, or the active one.
    pub async fn instrument(&self, number: Option<i32>) -> ApiResult<assessment_instrument::Model> {
        let mut q = assessment_instrument::Entity::find();
        q = match number {
            Some(n) => q.filter(assessment_instrument::Column::Number.eq(n)),
            None => q.filter(assessment_instrument::Column::Active.eq(true)),
        };
        q.order_by_desc(assessment_instrument::Column::Number)
            .one(self.db())
            .await?
            .ok_or_else(|| ApiError::invalid("input.instrumentVersion", "no such instrument version"))
    }

    pub async fn indicators_of(&self, instrument: Uuid) -> ApiResult<Vec<assessment_indicator::Model>> {
        Ok(assessment_indicator::Entity::find()
            .filter(assessment_indicator::Column::InstrumentId.eq(instrument))
            .order_by_asc(assessment_indicator::Column::SortOrder)
            .all(self.db())
            .await?)
    }

    pub async fn indicators_by_ids(&self, ids: &[Uuid]) -> ApiResult<Vec<assessment_indicator::Model>> {
        Ok(assessment_indicator::Entity::find()
            .filter(assessment_indicator::Column::Id.is_in(ids.iter().copied()))
            .all(self.db())
            .await?)
    }

    /// Who lives in the household, as the applicability rules need them, on `day`.
    pub(crate) async fn composition(&self, household: Uuid, day: NaiveDate) -> ApiResult<Composition> {
        let members = person::Entity::find().filter(person::Column::HouseholdId.eq(household)).all(self.db()).await?;
        let women: Vec<Uuid> = members.iter().filter(|m| m.sex == Sex::Female.as_str()).map(|m| m.id).collect();
        let follow_up = self.pregnancy_follow_up().await?;
        let pregnant: HashSet<Uuid> = pregnancy::Entity::find()
            .filter(pregnancy::Column::MotherId.is_in(women))
            .filter(
                Expr::col(pregnancy::Column::MotherId)
                    .in_subquery(super::pregnancies::open_pregnancy_mothers(day, follow_up, false)),
            )
            .all(self.db())
            .await?
            .into_iter()
            .map(|p| p.mother_id)
            .collect();
        let members: Vec<Member> = members
            .iter()
            .map(|m| Member {
                birth_date: m.birth_date,
                date_of_death: m.date_of_death,
                pregnant: pregnant.contains(&m.id),
            })
            .collect();
        Ok(Composition::on(&members, day))
    }

    /// Records a visit: every answer checked against the household's composition on the day
    /// (an indicator that does not apply can only be NOT_APPLICABLE), the score computed, the
    /// agreed actions and the follow-ups of earlier ones written with it, in one transaction.
    pub async fn record_family_assessment(&self, input: NewAssessment) -> ApiResult<family_assessment::Model> {
        self.authorize(Action::AssessFamilies)?;
        let today = today();
        let day = input.assessed_on.unwrap_or(today);
        let mut p = Problems::default();
        validate::past_date(&mut p, "input.assessedOn", day, today);
        let note = input.note.as_deref().map(|t| validate::lines(&mut p, "input.note", t, 2000));
        let mut descriptions = Vec::new();
        for (i, a) in input.actions.iter().enumerate() {
            descriptions.push(validate::text(&mut p, &format!("input.actions.{i}.description"), &a.description, 500));
            if a.due_on.is_some_and(|d| d < day) {
                p.add(format!("input.actions.{i}.dueOn"), "must not be before the visit");
            }
        }
        p.into_result()?;
        let household = self
            .household(input.household_id)
            .await
            .map_err(|_| ApiError::invalid("input.householdId", "unknown household"))?;
        let unit = self.known_unit(household.org_unit_id, "input.householdId").await?;
        self.check_capture(&unit)?;
        self.require_consent(self.db(), household.id).await?;
        let instrument = self.instrument(input.instrument_version).await?;
        let indicators = self.indicators_of(instrument.id).await?;
        let composition = self.composition(household.id, day).await?;

        let mut p = Problems::default();
        let mut given: HashMap<&str, AssessmentAnswer> = HashMap::new();
        for (i, a) in input.answers.iter().enumerate() {
            let Some(ind) = indicators.iter().find(|x| x.code == a.indicator_code) else {
                p.add(format!("input.answers.{i}.indicatorCode"), format!("unknown indicator {:?}", a.indicator_code));
                continue;
            };
            if given.insert(ind.code.as_str(), a.answer).is_some() {
                p.add(format!("input.answers.{i}.indicatorCode"), "is answered twice");
                continue;
            }
            match (composition.applies(AppliesWhen::from_db(&ind.applies_when)?), a.answer) {
                (Err(why), AssessmentAnswer::Yes | AssessmentAnswer::No) => {
                    p.add(format!("input.answers.{i}.answer"), format!("must be NOT_APPLICABLE: {why}"))
                }
                (Ok(()), AssessmentAnswer::NotApplicable) => {
                    p.add(format!("input.answers.{i}.answer"), "applies to this household: answer YES or NO")
                }
                _ => {}
            }
        }
        let mut answers = Vec::new();
        for ind in &indicators {
            let applies = composition.applies(AppliesWhen::from_db(&ind.applies_when)?).is_ok();
            match given.get(ind.code.as_str()) {
                Some(a) => answers.push((ind.id, *a)),
                None if applies => {
                    p.add("input.answers", format!("{} applies to this household and is not answered", ind.code))
                }
                None => answers.push((ind.id, AssessmentAnswer::NotApplicable)),
            }
        }
        let members: HashSet<Uuid> = person::Entity::find()
            .filter(person::Column::HouseholdId.eq(household.id))
            .select_only()
            .column(person::Column::Id)
            .into_tuple::<Uuid>()
            .all(self.db())
            .await?
            .into_iter()
            .collect();
        for (i, a) in input.actions.iter().enumerate() {
            if a.person_id.is_some_and(|m| !members.contains(&m)) {
                p.add(format!("input.actions.{i}.personId"), "is not a member of the household");
            }
        }
        let mut follow_ups = Vec::new();
        for (i, f) in input.follow_ups.iter().enumerate() {
            if input.follow_ups[..i].iter().any(|g| g.action_id == f.action_id) {
                p.add(format!("input.followUps.{i}.actionId"), "is given twice");
                continue;
            }
            let found = assessment_action::Entity::find_by_id(f.action_id).one(self.db()).await?;
            match found.filter(|a| a.household_id == household.id) {
                None => p.add(format!("input.followUps.{i}.actionId"), "is not an action agreed with this household"),
                Some(action) => {
                    let note = f
                        .note
                        .as_deref()
                        .map(|t| validate::lines(&mut p, &format!("input.followUps.{i}.note"), t, 500));
                    follow_ups.push((action, f.status, note));
                }
            }
        }
        p.into_result()?;
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        if self.id_taken::<family_assessment::Entity>("family_assessment", id).await? {
            return Err(ApiError::conflict("a family assessment with this id exists"));
        }
        let (met, applicable) = family::score(&answers.iter().map(|(_, a)| *a).collect::<Vec<_>>());
        let now = super::now();
        let row = family_assessment::ActiveModel {
            id: Set(id),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            change_seq: Set(0),
            household_id: Set(household.id),
            org_unit_id: Set(household.org_unit_id),
            instrument_id: Set(instrument.id),
            assessed_on: Set(day),
            assessor_id: Set(self.principal().user_id),
            met: Set(met),
            applicable: Set(applicable),
            note: Set(note),
        };
        let answer_rows: Vec<assessment_answer::ActiveModel> = answers
            .iter()
            .map(|(indicator, a)| assessment_answer::ActiveModel {
                assessment_id: Set(id),
                indicator_id: Set(*indicator),
                answer: Set(a.as_str().into()),
            })
            .collect();
        let action_rows: Vec<assessment_action::ActiveModel> = input
            .actions
            .iter()
            .zip(descriptions)
            .map(|(a, description)| assessment_action::ActiveModel {
                id: Set(Uuid::now_v7()),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
                assessment_id: Set(id),
                household_id: Set(household.id),
                description: Set(description),
                person_id: Set(a.person_id),
                due_on: Set(a.due_on),
                status: Set(ActionStatus::Open.as_str().into()),
                followed_up_on: Set(None),
                follow_up_note: Set(None),
            })
            .collect();
        let saved = self
            .write(move |txn, w| {
                Box::pin(async move {
                    let mut row = row;
                    row.change_seq = Set(w.seq);
                    let saved = row.insert(txn).await?;
                    assessment_answer::Entity::insert_many(answer_rows).exec_without_returning(txn).await?;
                    w.record("CREATE", "family_assessment", saved.id, None, Some(&saved));
                    for action in action_rows {
                        let action = action.try_into_model()?;
                        w.record("CREATE", "assessment_action", action.id, None, Some(&action));
                        assessment_action::ActiveModel::from(action).insert(txn).await?;
                    }
                    for (before, status, note) in follow_ups {
                        let mut change: assessment_action::ActiveModel = before.clone().into();
                        change.status = Set(status.as_str().into());
                        change.followed_up_on = Set(Some(day));
                        change.follow_up_note = Set(note);
                        change.version = Set(before.version + 1);
                        change.updated_at = Set(super::now());
                        let after = change.update(txn).await?;
                        w.record("UPDATE", "assessment_action", after.id, Some(&before), Some(&after));
                    }
                    Ok(saved)
                })
            })
            .await?;
        self.cached(|c| c.free_ids.remove(&("family_assessment", saved.id)));
        Ok(saved)
    }

    /// The visits of these households, newest first.
    pub async fn assessments_of(&self, households: &[Uuid]) -> ApiResult<Vec<family_assessment::Model>> {
        Ok(self
            .visible(
                family_assessment::Entity::find()
                    .filter(family_assessment::Column::HouseholdId.is_in(households.iter().copied())),
            )
            .order_by_desc(family_assessment::Column::AssessedOn)
            .order_by_desc(family_assessment::Column::Id)
            .all(self.db())
            .await?)
    }

    pub async fn family_assessment(&self, id: Uuid) -> ApiResult<family_assessment::Model> {
        self.visible_by_id::<family_assessment::Entity>(id, "family assessment").await
    }

    pub async fn answers_of(&self, assessments: &[Uuid]) -> ApiResult<Vec<assessment_answer::Model>> {
        Ok(assessment_answer::Entity::find()
            .filter(assessment_answer::Column::AssessmentId.is_in(assessments.iter().copied()))
            .all(self.db())
            .await?)
    }

    /// Actions agreed at these visits.
    pub async fn actions_of(&self, assessments: &[Uuid]) -> ApiResult<Vec<assessment_action::Model>> {
        Ok(self
            .visible(
                assessment_action::Entity::find()
                    .filter(assessment_action::Column::AssessmentId.is_in(assessments.iter().copied())),
            )
            .order_by_asc(assessment_action::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Households' actions still open.
    pub async fn open_actions_of(&self, households: &[Uuid]) -> ApiResult<Vec<assessment_action::Model>> {
        Ok(self
            .visible(
                assessment_action::Entity::find()
                    .filter(assessment_action::Column::HouseholdId.is_in(households.iter().copied()))
                    .filter(assessment_action::Column::Status.eq(ActionStatus::Open.as_str())),
            )
            .order_by_asc(assessment_action::Column::Id)
            .all(self.db())
            .await?)
    }

    /// The roll-up of visits in `period` anywhere under `unit_id` and in the caller's scope:
    /// each household counted once, by its latest visit in the period.
    pub async fn assessment_summary(&self, unit_id: Uuid, period: &str) -> ApiResult<AssessmentSummary> {
        let period = Period::parse(period, today()).ok_or_else(|| {
            ApiError::invalid(
                "period",
                "use 2026, 2026Q3, 2026-07, THIS_MONTH, THIS_QUARTER, THIS_YEAR, LAST_12_MONTHS or LAST_24_MONTHS",
            )
        })?;
        let previous = period.previous();
        let unit = self.known_unit(unit_id, "orgUnitId").await?;
        let instrument = self.instrument(None).await?;
        let indicators = self.indicators_of(instrument.id).await?;
        let (households, now) = self.tallies(&unit.path, &period).await?;
        let (previous_households, before) = self.tallies(&unit.path, &previous).await?;
        // For de-identified callers every count is perturbed with its cell key, and shares and
        // ranks follow the shown counts (`domain::cell_key`).
        let deidentified = !self.identified();
        let publish = |(n, key): (i64, i64)| match deidentified {
            false => Some(n),
            true => cell_key::protect(n, key).value(),
        };
        let tally = |t: &HashMap<String, Counts>, code: &str| {
            let c = t.get(code).copied().unwrap_or_default();
            match (publish(c.applicable), publish(c.met)) {
                (Some(applicable), Some(met)) => {
                    (Tally { code: code.to_string(), applicable, met: Ord::min(met, applicable) }, false)
                }
                _ => (Tally { code: code.to_string(), applicable: 0, met: 0 }, true),
            }
        };
        let current: Vec<Tally> = indicators.iter().map(|i| tally(&now, &i.code).0).collect();
        let ranks: HashMap<String, usize> =
            family::priorities(&current).iter().enumerate().map(|(n, t)| (t.code.clone(), n + 1)).collect();
        let indicators = indicators
            .into_iter()
            .map(|i| {
                let ((now, suppressed), (before, previous_suppressed)) =
                    (tally(&now, &i.code), tally(&before, &i.code));
                IndicatorSummary {
                    suppressed,
                    previous_suppressed,
                    now,
                    before,
                    priority: if suppressed { None } else { ranks.get(&i.code).copied() },
                    indicator: i,
                }
            })
            .collect();
        let shown = publish;
        Ok(AssessmentSummary {
            org_unit: unit,
            period,
            previous,
            households: shown(households),
            previous_households: shown(previous_households),
            indicators,
        })
    }

    /// (households assessed, code → (applicable, met)) for the latest visit per household in the
    /// period, counted by the database.
    async fn tallies(&self, path: &str, period: &Period) -> ApiResult<((i64, i64), HashMap<String, Counts>)> {
        use family_assessment::Column as F;
        let f2 = Alias::new("f2");
        // A later visit of the same household in the period hides this one.
        let later = Query::select()
            .expr(Expr::val(1))
            .from_as(family_assessment::Entity, f2.clone())
            .and_where(Expr::col((f2.clone(), F::HouseholdId)).equals((family_assessment::Entity, F::HouseholdId)))
            .and_where(Expr::col((f2.clone(), F::AssessedOn)).between(period.from, period.to))
            .cond_where(
                sea_orm::Condition::any()
                    .add(
                        Expr::col((f2.clone(), F::AssessedOn))
                            .gt(Expr::col((family_assessment::Entity, F::AssessedOn))),
                    )
                    .add(
                        sea_orm::Condition::all()
                            .add(
                                Expr::col((f2.clone(), F::AssessedOn))
                                    .equals((family_assessment::Entity, F::AssessedOn)),
                            )
                            .add(Expr::col((f2, F::Id)).gt(Expr::col((family_assessment::Entity, F::Id)))),
                    ),
            )
            .to_owned();
        let mut latest = sea_orm::Condition::all()
            .add(Expr::col((family_assessment::Entity, F::OrgUnitId)).in_subquery(units_under(path)))
            .add(Expr::col((family_assessment::Entity, F::AssessedOn)).between(period.from, period.to))
            .add(Expr::exists(later).not());
        if let Some(scope) = family_assessment::Entity::in_scope(&self.principal().view) {
            latest = latest.add(scope);
        }
        // Each household's record key (`domain::cell_key`), summed per cell.
        let backend = sea_orm::ConnectionTrait::get_database_backend(self.db());
        let key = || {
            let id = format!("{}.{}", family_assessment::Entity.table_name(), F::HouseholdId.as_str());
            let sum: SimpleExpr = Func::sum(record_key(backend, &id)).into();
            SimpleExpr::from(Func::coalesce([sum, Expr::val(0)]))
        };
        let households: (i64, i64) = family_assessment::Entity::find()
            .select_only()
            .column_as(Expr::col((family_assessment::Entity, F::Id)).count(), "n")
            .column_as(key(), "k")
            .filter(latest.clone())
            .into_tuple()
            .one(self.db())
            .await?
            .unwrap_or((0, 0));
        let rows: Vec<(String, String, i64, i64)> = assessment_answer::Entity::find()
            .select_only()
            .column(assessment_indicator::Column::Code)
            .column(assessment_answer::Column::Answer)
            .column_as(Expr::col((assessment_answer::Entity, assessment_answer::Column::AssessmentId)).count(), "n")
            .column_as(key(), "k")
            .join(
                sea_orm::JoinType::InnerJoin,
                assessment_answer::Entity::belongs_to(family_assessment::Entity)
                    .from(assessment_answer::Column::AssessmentId)
                    .to(family_assessment::Column::Id)
                    .into(),
            )
            .join(
                sea_orm::JoinType::InnerJoin,
                assessment_answer::Entity::belongs_to(assessment_indicator::Entity)
                    .from(assessment_answer::Column::IndicatorId)
                    .to(assessment_indicator::Column::Id)
                    .into(),
            )
            .filter(latest)
            .group_by(assessment_indicator::Column::Code)
            .group_by(assessment_answer::Column::Answer)
            .into_tuple()
            .all(self.db())
            .await?;
        let mut out: HashMap<String, Counts> = HashMap::new();
        for (code, answer, n, k) in rows {
            let e = out.entry(code).or_default();
            match AssessmentAnswer::from_db(&answer)? {
                AssessmentAnswer::Yes => {
                    e.applicable = (e.applicable.0 + n, e.applicable.1 + k);
                    e.met = (n, k);
                }
                AssessmentAnswer::No => e.applicable = (e.applicable.0 + n, e.applicable.1 + k),
                AssessmentAnswer::NotApplicable => {}
            }
        }
        Ok((households, out))
    }
}
