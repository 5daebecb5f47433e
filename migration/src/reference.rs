//! Reference data embedded in the binary (users have no ../shared): the country's org-unit tree
//! down to Ulaanbaatar's districts, life stages, the service catalogue and immunisation antigens.
//! Ids are UUID v5 of the code, so every installation names the same unit with the same id.

use uuid::Uuid;

const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2b1e_8d4a_4c55_9a0e_cb55_0000_0001);

/// The stable id of a reference row: `kind` is the table, `code` its natural key.
pub fn reference_id(kind: &str, code: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{kind}:{code}").as_bytes())
}

/// Rows of an embedded CSV without quoting (our files never quote), header skipped.
fn rows(csv: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    csv.lines().skip(1).filter(|l| !l.trim().is_empty()).map(|l| l.split(',').collect())
}

fn opt_i32(s: &str) -> Option<i32> {
    s.parse().ok()
}

fn opt_str(s: &'static str) -> Option<&'static str> {
    (!s.is_empty()).then_some(s)
}

pub struct AdminUnit {
    pub code: &'static str,
    /// COUNTRY, REGION, AIMAG, CAPITAL or DISTRICT.
    pub level: String,
    pub parent_code: Option<&'static str>,
    pub name_en: &'static str,
    pub name_mn: &'static str,
}

pub fn admin_units() -> Vec<AdminUnit> {
    rows(include_str!("../data/admin-units.csv"))
        .map(|r| AdminUnit {
            code: r[0],
            level: r[1].to_uppercase(),
            parent_code: opt_str(r[2]),
            name_en: r[3],
            name_mn: r[4],
        })
        .collect()
}

pub struct LifeStage {
    pub code: &'static str,
    pub sort_order: i32,
    pub criterion: &'static str,
    pub min_value: Option<i32>,
    pub min_unit: Option<&'static str>,
    pub max_value: Option<i32>,
    pub max_unit: Option<&'static str>,
    pub name_en: &'static str,
    pub name_mn: &'static str,
}

pub fn life_stages() -> Vec<LifeStage> {
    rows(include_str!("../data/life_stages.csv"))
        .map(|r| LifeStage {
            code: r[0],
            sort_order: r[1].parse().unwrap_or_default(),
            criterion: r[2],
            min_value: opt_i32(r[3]),
            min_unit: opt_str(r[4]),
            max_value: opt_i32(r[5]),
            max_unit: opt_str(r[6]),
            name_en: r[7],
            name_mn: r[8],
        })
        .collect()
}

pub struct ServiceType {
    pub code: &'static str,
    pub sector: &'static str,
    pub life_stage: Option<&'static str>,
    pub min_months: Option<i32>,
    pub max_months: Option<i32>,
    pub target_group: &'static str,
    pub unit: &'static str,
    pub detail_kind: &'static str,
    pub name_en: &'static str,
    pub name_mn: &'static str,
}

pub fn service_types() -> Vec<ServiceType> {
    rows(include_str!("../data/service_types.csv"))
        .map(|r| ServiceType {
            code: r[0],
            sector: r[1],
            life_stage: opt_str(r[2]),
            min_months: opt_i32(r[3]),
            max_months: opt_i32(r[4]),
            target_group: r[5],
            unit: r[6],
            detail_kind: r[7],
            name_en: r[8],
            name_mn: r[9],
        })
        .collect()
}

pub struct Antigen {
    pub code: &'static str,
    pub doses: i32,
    pub name_en: &'static str,
    pub name_mn: &'static str,
    /// Recommended age in days for each dose, in dose order.
    pub dose_ages_days: Vec<i32>,
}

pub fn antigens() -> Vec<Antigen> {
    rows(include_str!("../data/antigens.csv"))
        .map(|r| Antigen {
            code: r[0],
            doses: r[1].parse().unwrap_or_default(),
            name_en: r[2],
            name_mn: r[3],
            dose_ages_days: r[4].split(';').filter_map(|d| d.parse().ok()).collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_units_form_one_tree_with_the_official_counts() {
        let units = admin_units();
        let count = |level: &str| units.iter().filter(|u| u.level == level).count();
        assert_eq!(count("COUNTRY"), 1);
        assert_eq!(count("REGION"), 5);
        assert_eq!(count("AIMAG"), 21);
        assert_eq!(count("CAPITAL"), 1);
        assert_eq!(count("DISTRICT"), 9);
        for u in &units {
            if let Some(p) = u.parent_code {
                assert!(units.iter().any(|x| x.code == p), "{} has unknown parent {p}", u.code);
            }
        }
    }

    #[test]
    fn catalogue_rows_are_complete() {
        let stages = life_stages();
        assert_eq!(stages.len(), 7);
        for s in service_types() {
            assert!(!s.name_mn.is_empty() && !s.name_en.is_empty(), "{}", s.code);
            if let Some(ls) = s.life_stage {
                assert!(stages.iter().any(|x| x.code == ls), "{} names stage {ls}", s.code);
            }
        }
        for a in antigens() {
            assert_eq!(a.doses as usize, a.dose_ages_days.len(), "{}", a.code);
        }
    }
}
