//! Official population estimates: imported from CSV, and turned into the population-based
//! denominators of coverage indicators.

use super::Store;
use crate::access::{Action, units_under};
use crate::domain::validate;
use crate::domain::vocab::Sex;
use crate::error::{ApiError, ApiResult, FieldError, Problems};
use entity::{org_unit, population_estimate};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use std::collections::HashMap;
use uuid::Uuid;

/// The columns an import file has, in any order.
const COLUMNS: [&str; 6] = ["org_unit_code", "year", "sex", "age_from_years", "age_to_years", "population"];

pub struct PopulationImport {
    pub imported: usize,
    /// Estimates that replaced one with the same unit, year, sex and ages.
    pub replaced: usize,
}

struct Row {
    unit: Uuid,
    year: i32,
    sex: String,
    from: i32,
    to: i32,
    population: i64,
}

impl Store {
    /// Imports estimates from CSV (header row with `COLUMNS`; sex MALE, FEMALE or BOTH).
    /// All or nothing: every bad line is reported (`csv.line N`) and nothing is stored.
    pub async fn import_population(&self, text: &str, source: Option<String>) -> ApiResult<PopulationImport> {
        self.authorize(Action::Administer)?;
        let mut p = Problems::default();
        let source = source.map(|s| validate::text(&mut p, "source", &s, 200));
        p.into_result()?;
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
        let headers =
            reader.headers().map_err(|e| ApiError::invalid("csv", format!("unreadable header: {e}")))?.clone();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let mut idx = HashMap::new();
        for name in COLUMNS {
            idx.insert(name, col(name).ok_or_else(|| ApiError::invalid("csv", format!("the header lacks {name}")))?);
        }
        let records: Vec<csv::StringRecord> = reader
            .records()
            .collect::<Result<_, _>>()
            .map_err(|e| ApiError::invalid("csv", format!("unreadable: {e}")))?;
        // A code no unit can have (a NUL, a control character) is not looked up: it is unknown.
        let codes: Vec<String> = records
            .iter()
            .map(|r| r.get(idx["org_unit_code"]).unwrap_or("").to_string())
            .filter(|c| validate::plain(c))
            .collect();
        let units: HashMap<String, Uuid> = org_unit::Entity::find()
            .filter(org_unit::Column::Code.is_in(codes))
            .all(self.db())
            .await?
            .into_iter()
            .map(|u| (u.code, u.id))
            .collect();
        let mut problems = Vec::new();
        let mut rows = Vec::new();
        // Two lines for the same estimate: which one holds is not for the import to guess.
        let mut lines: HashMap<(Uuid, i64, String, i64, i64), usize> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            let path = format!("csv.line {}", i + 2);
            let field = |name: &str| r.get(idx[name]).unwrap_or("");
            let int = |name: &str| field(name).parse::<i64>().ok();
            let unit = units.get(field("org_unit_code")).copied();
            let sex = field("sex").to_ascii_uppercase();
            let (year, from, to, population) =
                (int("year"), int("age_from_years"), int("age_to_years"), int("population"));
            let why = match (unit, year, from, to, population) {
                (None, ..) => Some(format!("unknown org unit {:?}", field("org_unit_code"))),
                (_, None, ..) | (_, _, None, ..) | (_, _, _, None, _) | (.., None) => {
                    Some("a number is missing".into())
                }
                (_, Some(y), ..) if !(1990..=2100).contains(&y) => Some("year must be 1990 to 2100".into()),
                (_, _, Some(f), Some(t), _) if f < 0 || t < f || t > 120 => {
                    Some("ages must be 0 <= from <= to <= 120".into())
                }
                (.., Some(p)) if p < 0 => Some("population must not be negative".into()),
                _ if !matches!(sex.as_str(), "MALE" | "FEMALE" | "BOTH") => {
                    Some("sex must be MALE, FEMALE or BOTH".into())
                }
                _ => None,
            };
            match (why, unit, year, from, to, population) {
                (Some(message), ..) => problems.push(FieldError::new(path, message)),
                (None, Some(unit), Some(year), Some(from), Some(to), Some(population)) => {
                    if let Some(first) = lines.insert((unit, year, sex.clone(), from, to), i + 2) {
                        problems.push(FieldError::new(path, format!("repeats the estimate of line {first}")));
                        continue;
                    }
                    rows.push(Row { unit, year: year as i32, sex, from: from as i32, to: to as i32, population })
                }
                _ => problems.push(FieldError::new(path, "unreadable")),
            }
        }
        if !problems.is_empty() {
            return Err(ApiError::Validation(problems));
        }
        let imported = rows.len();
        let replaced = self
            .write(move |txn, w| {
                Box::pin(async move {
                    let mut replaced = 0;
                    let now = super::now();
                    for r in rows {
                        let old = population_estimate::Entity::delete_many()
                            .filter(population_estimate::Column::OrgUnitId.eq(r.unit))
                            .filter(population_estimate::Column::Year.eq(r.year))
                            .filter(population_estimate::Column::Sex.eq(r.sex.clone()))
                            .filter(population_estimate::Column::AgeFromYears.eq(r.from))
                            .filter(population_estimate::Column::AgeToYears.eq(r.to))
                            .exec(txn)
                            .await?;
                        replaced += old.rows_affected as usize;
                        population_estimate::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            created_at: Set(now),
                            updated_at: Set(now),
                            version: Set(1),
                            org_unit_id: Set(r.unit),
                            year: Set(r.year),
                            sex: Set(r.sex),
                            age_from_years: Set(r.from),
                            age_to_years: Set(r.to),
                            population: Set(r.population),
                            source: Set(source.clone()),
                        }
                        .insert(txn)
                        .await?;
                    }
                    w.note(
                        "IMPORT",
                        "population_estimate",
                        Uuid::nil(),
                        None,
                        Some(format!("{imported} estimates, {replaced} replaced")),
                    );
                    Ok(replaced)
                })
            })
            .await?;
        Ok(PopulationImport { imported, replaced })
    }

    /// Estimated people aged `min..=max` completed months in `year`, of `sex` (None: both), for
    /// every unit of the subtree at `path`: a unit's own estimate when it has one, otherwise the
    /// sum of its children's. Bands are prorated by months (people spread evenly in a band); for
    /// both sexes a band's BOTH estimate is used when there is one, else its MALE + FEMALE.
    pub(crate) async fn population(
        &self,
        path: &str,
        year: i32,
        (min, max): (i32, i32),
        sex: Option<Sex>,
    ) -> ApiResult<PopulationTree> {
        let units = org_unit::Entity::find()
            .filter(Expr::col(org_unit::Column::Id).in_subquery(units_under(path)))
            .all(self.db())
            .await?;
        let estimates = population_estimate::Entity::find()
            .filter(population_estimate::Column::Year.eq(year))
            .filter(Expr::col(population_estimate::Column::OrgUnitId).in_subquery(units_under(path)))
            .all(self.db())
            .await?;
        let mut own: HashMap<Uuid, Vec<&population_estimate::Model>> = HashMap::new();
        for e in &estimates {
            own.entry(e.org_unit_id).or_default().push(e);
        }
        let share = |e: &population_estimate::Model| {
            let (from, to) = (e.age_from_years * 12, e.age_to_years * 12 + 11);
            let overlap = Ord::max(Ord::min(to, max) - Ord::max(from, min) + 1, 0) as f64;
            e.population as f64 * overlap / (to - from + 1) as f64
        };
        let mut values = HashMap::new();
        for (unit, rows) in &own {
            // For both sexes, a band's BOTH estimate when there is one, else its MALE + FEMALE.
            let has_both = |e: &population_estimate::Model| {
                rows.iter().any(|o| {
                    o.sex == "BOTH" && o.age_from_years == e.age_from_years && o.age_to_years == e.age_to_years
                })
            };
            let wanted: Vec<&&population_estimate::Model> = match sex {
                Some(s) => rows.iter().filter(|e| e.sex == s.as_str()).collect(),
                None => rows.iter().filter(|e| e.sex == "BOTH" || !has_both(e)).collect(),
            };
            if !wanted.is_empty() {
                values.insert(*unit, wanted.iter().map(|e| share(e)).sum::<f64>());
            }
        }
        let children: HashMap<Uuid, Vec<Uuid>> = units.iter().fold(HashMap::new(), |mut m, u| {
            if let Some(p) = u.parent_id {
                m.entry(p).or_default().push(u.id);
            }
            m
        });
        Ok(PopulationTree { own: values, children })
    }
}

/// Estimates of a subtree, for `PopulationTree::of`.
pub(crate) struct PopulationTree {
    own: HashMap<Uuid, f64>,
    children: HashMap<Uuid, Vec<Uuid>>,
}

impl PopulationTree {
    /// The unit's own estimate, else the sum of its children's (None when nothing covers it).
    pub(crate) fn of(&self, unit: Uuid) -> Option<f64> {
        if let Some(v) = self.own.get(&unit) {
            return Some(*v);
        }
        let parts: Vec<f64> = self.children.get(&unit).into_iter().flatten().filter_map(|c| self.of(*c)).collect();
        (!parts.is_empty()).then(|| parts.iter().sum())
    }
}
