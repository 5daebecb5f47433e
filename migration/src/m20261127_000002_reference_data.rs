//! Loads the reference data of `crate::reference` into the tables of the core schema.

use crate::reference::{self, reference_id};
use crate::rows::insert;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000002_reference_data"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Parents come before children in the CSV, so paths can be built in one pass.
        let units = reference::admin_units();
        let mut paths: std::collections::HashMap<&str, (String, i32)> = Default::default();
        let mut rows = Vec::new();
        for u in &units {
            let id = reference_id("org_unit", u.code);
            let (parent_path, depth) = match u.parent_code {
                Some(p) => {
                    let (pp, d) = paths
                        .get(p)
                        .cloned()
                        .ok_or_else(|| DbErr::Migration(format!("{} before its parent", u.code)))?;
                    (pp, d + 1)
                }
                None => ("/".to_string(), 0),
            };
            let path = format!("{parent_path}{id}/");
            paths.insert(u.code, (path.clone(), depth));
            rows.push(vec![
                id.into(),
                u.code.into(),
                u.name_en.into(),
                u.name_mn.into(),
                u.level.clone().into(),
                u.parent_code.map(|p| reference_id("org_unit", p)).into(),
                path.into(),
                depth.into(),
            ]);
        }
        insert(manager, "org_unit", &["code", "name_en", "name_mn", "level", "parent_id", "path", "depth"], rows)
            .await?;

        let rows = reference::life_stages()
            .into_iter()
            .map(|s| {
                vec![
                    reference_id("life_stage", s.code).into(),
                    s.code.into(),
                    s.name_en.into(),
                    s.name_mn.into(),
                    s.sort_order.into(),
                    s.criterion.into(),
                    s.min_value.into(),
                    s.min_unit.into(),
                    s.max_value.into(),
                    s.max_unit.into(),
                ]
            })
            .collect();
        insert(
            manager,
            "life_stage",
            &[
                "code",
                "name_en",
                "name_mn",
                "sort_order",
                "criterion",
                "min_age_value",
                "min_age_unit",
                "max_age_value",
                "max_age_unit",
            ],
            rows,
        )
        .await?;

        let rows = reference::service_types()
            .into_iter()
            .map(|s| {
                vec![
                    reference_id("service_type", s.code).into(),
                    s.code.into(),
                    s.sector.into(),
                    s.life_stage.into(),
                    s.name_en.into(),
                    s.name_mn.into(),
                    s.min_months.into(),
                    s.max_months.into(),
                    s.target_group.into(),
                    s.unit.into(),
                    s.detail_kind.into(),
                ]
            })
            .collect();
        insert(
            manager,
            "service_type",
            &[
                "code",
                "sector",
                "life_stage_code",
                "name_en",
                "name_mn",
                "min_age_months",
                "max_age_months",
                "target_group",
                "unit",
                "detail_kind",
            ],
            rows,
        )
        .await?;

        let antigens = reference::antigens();
        let rows = antigens
            .iter()
            .map(|a| {
                vec![
                    reference_id("antigen", a.code).into(),
                    a.code.into(),
                    a.name_en.into(),
                    a.name_mn.into(),
                    a.doses.into(),
                ]
            })
            .collect();
        insert(manager, "antigen", &["code", "name_en", "name_mn", "doses"], rows).await?;
        let mut rows = Vec::new();
        for a in &antigens {
            let mut previous: Option<i32> = None;
            for (i, age) in a.dose_ages_days.iter().enumerate() {
                let dose = i as i32 + 1;
                // Minimum interval between doses of a series: four weeks (WHO's rule for the primary series).
                let interval = previous.map(|_| 28);
                rows.push(vec![
                    reference_id("antigen_dose", &format!("{}:{dose}", a.code)).into(),
                    reference_id("antigen", a.code).into(),
                    dose.into(),
                    (*age).into(),
                    interval.into(),
                ]);
                previous = Some(*age);
            }
        }
        insert(
            manager,
            "antigen_dose",
            &["antigen_id", "dose_number", "recommended_age_days", "min_interval_days"],
            rows,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["antigen_dose", "antigen", "service_type", "life_stage", "org_unit"] {
            manager.exec_stmt(Query::delete().from_table(t).to_owned()).await?;
        }
        Ok(())
    }
}
