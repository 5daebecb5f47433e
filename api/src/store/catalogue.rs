//! Reference data as the service reads it: life stages, service types, antigens, org-unit groups.
//! Reference data is public inside the service, so it is not scoped.

use super::Store;
use crate::domain::life_stage::{AgeBound, AgeUnit, Criterion, StageRule};
use crate::domain::validate;
use crate::error::{ApiError, ApiResult};
use entity::{antigen, antigen_dose, life_stage, service_type};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// The life-stage rules built from the `life_stage` table.
pub type LifeStageRules = Vec<(StageRule, life_stage::Model)>;

fn bound(value: Option<i32>, unit: &Option<String>) -> ApiResult<Option<AgeBound>> {
    match (value, unit) {
        (Some(value), Some(unit)) => AgeUnit::parse(unit)
            .map(|unit| Some(AgeBound { value, unit }))
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("life_stage has unknown unit {unit}"))),
        _ => Ok(None),
    }
}

pub fn stage_rule(m: &life_stage::Model) -> ApiResult<StageRule> {
    let criterion = match m.criterion.as_str() {
        "OPEN_PREGNANCY" => Criterion::OpenPregnancy,
        _ => Criterion::Age {
            min: bound(m.min_age_value, &m.min_age_unit)?,
            max: bound(m.max_age_value, &m.max_age_unit)?,
        },
    };
    Ok(StageRule { code: m.code.clone(), sort_order: m.sort_order, criterion })
}

impl Store {
    pub async fn life_stages(&self) -> ApiResult<LifeStageRules> {
        let rows = life_stage::Entity::find().order_by_asc(life_stage::Column::SortOrder).all(self.db()).await?;
        rows.into_iter().map(|m| Ok((stage_rule(&m)?, m))).collect()
    }

    pub async fn service_types(
        &self,
        life_stage: Option<String>,
        sector: Option<crate::domain::vocab::Sector>,
    ) -> ApiResult<Vec<service_type::Model>> {
        let mut q = service_type::Entity::find()
            .filter(service_type::Column::Active.eq(true))
            .order_by_asc(service_type::Column::Code);
        if let Some(ls) = life_stage {
            let ls = validate::term("lifeStage", &ls)?;
            q = q.filter(service_type::Column::LifeStageCode.eq(ls));
        }
        if let Some(s) = sector {
            q = q.filter(service_type::Column::Sector.eq(s.as_str()));
        }
        Ok(q.all(self.db()).await?)
    }

    pub async fn service_type_by_code(&self, code: &str, path: &str) -> ApiResult<service_type::Model> {
        if let Some(Some(st)) = self.cached(|c| c.service_types.get(code).cloned()) {
            return Ok(st);
        }
        // A code no service type can have (a NUL, a control character) is not looked up.
        let found = if validate::plain(code) {
            service_type::Entity::find()
                .filter(service_type::Column::Code.eq(code))
                .filter(service_type::Column::Active.eq(true))
                .one(self.db())
                .await?
        } else {
            None
        };
        let st = found.ok_or_else(|| ApiError::invalid(path, format!("unknown service type {code:?}")))?;
        self.cached(|c| c.service_types.insert(code.to_string(), st.clone()));
        Ok(st)
    }

    pub async fn antigens(&self) -> ApiResult<Vec<antigen::Model>> {
        Ok(antigen::Entity::find().order_by_asc(antigen::Column::Code).all(self.db()).await?)
    }

    /// The doses of the given antigens, in dose order.
    pub async fn doses_of_antigens(&self, ids: &[Uuid]) -> ApiResult<Vec<antigen_dose::Model>> {
        Ok(antigen_dose::Entity::find()
            .filter(antigen_dose::Column::AntigenId.is_in(ids.iter().copied()))
            .order_by_asc(antigen_dose::Column::DoseNumber)
            .all(self.db())
            .await?)
    }
}
