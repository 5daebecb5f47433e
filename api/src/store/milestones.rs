//! Development milestones: the reference items, checks recorded at a DEVELOPMENT_CHECK service record, and a child's progress per domain.

use super::Store;
use super::write::NewRow;
use crate::domain::milestones::{self, Check, DomainProgress, Milestone};
use crate::domain::vocab::{DetailKind, DevelopmentDomain};
use crate::error::{ApiResult, Problems};
use async_graphql::InputObject;
use chrono::NaiveDate;
use entity::{milestone, milestone_check, person, service_record};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::collections::HashMap;
use uuid::Uuid;

/// The most items one check may record.
const MAX_ITEMS: usize = 100;

/// A development check: the milestones checked and whether each was achieved.
#[derive(InputObject, Clone)]
#[graphql(name = "RecordMilestoneCheckInput")]
pub struct NewMilestoneCheck {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// A child under 6 (DEVELOPMENT_CHECK is for 0-71 months).
    pub person_id: Uuid,
    /// The day of the check: not in the future.
    pub date: NaiveDate,
    /// Where it was delivered; defaults to the person's unit.
    pub org_unit_id: Option<Uuid>,
    /// Who checked (a facility or a worker), at most 200 characters.
    pub provider: Option<String>,
    /// A free-text note, at most 2,000 characters.
    pub note: Option<String>,
    /// The items checked, each once (1 to 100).
    pub items: Vec<MilestoneCheckItem>,
}

/// One milestone checked.
#[derive(InputObject, Clone)]
#[graphql(name = "MilestoneCheckItemInput")]
pub struct MilestoneCheckItem {
    /// A milestone code from `milestones`, e.g. MOTOR_WALKS_ALONE (its domain comes with it).
    pub milestone_code: String,
    /// Whether the child did it.
    pub achieved: bool,
}

impl Store {
    /// The reference milestones, by domain and order.
    pub async fn milestones(&self) -> ApiResult<Vec<milestone::Model>> {
        if let Some(Some(all)) = self.cached(|c| c.milestones.clone()) {
            return Ok(all);
        }
        let all = milestone::Entity::find().order_by_asc(milestone::Column::SortOrder).all(self.db()).await?;
        self.cached(|c| c.milestones = Some(all.clone()));
        Ok(all)
    }

    pub async fn milestones_by_ids(&self, ids: &[Uuid]) -> ApiResult<Vec<milestone::Model>> {
        Ok(milestone::Entity::find().filter(milestone::Column::Id.is_in(ids.iter().copied())).all(self.db()).await?)
    }

    /// Records a development check: one DEVELOPMENT_CHECK service record and its items, in one
    /// transaction.
    pub async fn record_milestone_check(&self, input: NewMilestoneCheck) -> ApiResult<service_record::Model> {
        let reference = self.milestones().await?;
        let by_code: HashMap<&str, &milestone::Model> = reference.iter().map(|m| (m.code.as_str(), m)).collect();
        let mut p = Problems::default();
        if input.items.is_empty() {
            p.add("input.items", "give at least one milestone");
        } else if input.items.len() > MAX_ITEMS {
            p.add("input.items", format!("at most {MAX_ITEMS} milestones"));
        }
        let mut seen = Vec::new();
        let mut rows = Vec::new();
        for (i, item) in input.items.iter().enumerate() {
            let path = format!("input.items.{i}.milestoneCode");
            match by_code.get(item.milestone_code.as_str()) {
                None => p.add(path, format!("unknown milestone {:?}", item.milestone_code)),
                Some(_) if seen.contains(&item.milestone_code) => p.add(path, "is checked twice"),
                Some(m) => {
                    seen.push(item.milestone_code.clone());
                    rows.push((m.id, item.achieved));
                }
            }
        }
        p.into_result()?;
        let record = input.record();
        let checked = self.check_record(record, DetailKind::Milestones).await?;
        let person_id = input.person_id;
        let detail = serde_json::json!(
            rows.iter().map(|(m, a)| serde_json::json!({ "milestone_id": m, "achieved": a })).collect::<Vec<_>>()
        )
        .to_string();
        let id = checked.id;
        let rows = rows
            .into_iter()
            .map(|(milestone_id, achieved)| {
                NewRow::MilestoneCheck(milestone_check::ActiveModel {
                    service_record_id: Set(id),
                    milestone_id: Set(milestone_id),
                    person_id: Set(person_id),
                    achieved: Set(achieved),
                })
            })
            .collect();
        self.insert_record(checked, rows, Some(detail)).await
    }
}

/// The reference milestones as the domain rules take them.
pub fn milestone_rules(rows: &[milestone::Model]) -> ApiResult<Vec<Milestone>> {
    rows.iter()
        .map(|m| {
            Ok(Milestone {
                code: m.code.clone(),
                domain: DevelopmentDomain::from_db(&m.domain)?,
                expected_from_months: m.expected_from_months,
                expected_by_months: m.expected_by_months,
            })
        })
        .collect()
}

/// A child's progress in every domain on `on`, from their checks and the records they belong to.
pub fn milestone_progress(
    reference: &[milestone::Model],
    person: &person::Model,
    checks: &[milestone_check::Model],
    records: &[service_record::Model],
    on: NaiveDate,
) -> ApiResult<Vec<DomainProgress>> {
    let codes: HashMap<Uuid, &str> = reference.iter().map(|m| (m.id, m.code.as_str())).collect();
    let dates: HashMap<Uuid, NaiveDate> = records.iter().map(|r| (r.id, r.service_date)).collect();
    let checks: Vec<Check> = checks
        .iter()
        .filter_map(|c| {
            Some(Check {
                milestone: (*codes.get(&c.milestone_id)?).to_string(),
                date: *dates.get(&c.service_record_id)?,
                achieved: c.achieved,
            })
        })
        .collect();
    Ok(milestones::progress(&milestone_rules(reference)?, person.birth_date, &checks, on))
}
