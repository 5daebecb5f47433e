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

/// Rows of an embedded CSV whose first lines may be `#` comments (source notes), header skipped.
fn commented_rows(csv: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    csv.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).skip(1).map(|l| l.split(',').collect())
}

/// One dose of Mongolia's national immunisation schedule (`immunisation_schedule_mn.csv`).
pub struct ScheduledDose {
    pub antigen: &'static str,
    pub dose: i32,
    pub recommended_age_days: i32,
    pub min_interval_days: Option<i32>,
    pub max_age_days: Option<i32>,
    pub grace_days: i32,
    pub in_schedule: bool,
}

pub fn immunisation_schedule() -> Vec<ScheduledDose> {
    commented_rows(include_str!("../data/immunisation_schedule_mn.csv"))
        .map(|r| ScheduledDose {
            antigen: r[0],
            dose: r[1].parse().unwrap_or_default(),
            recommended_age_days: r[2].parse().unwrap_or_default(),
            min_interval_days: opt_i32(r[3]),
            max_age_days: opt_i32(r[4]),
            grace_days: r[5].parse().unwrap_or_default(),
            in_schedule: r[6] == "true",
        })
        .collect()
}

/// A schedule held as data (`schedule_rules.csv`): vitamin A, growth monitoring, antenatal and
/// postnatal contacts.
pub struct ScheduleRule {
    pub code: &'static str,
    pub service_type: &'static str,
    pub kind: &'static str,
    pub pattern: &'static str,
    pub anchor: &'static str,
    pub unit: &'static str,
    pub start: i32,
    pub due: Option<i32>,
    pub end: i32,
    pub interval: Option<i32>,
    pub grace_days: i32,
    pub life_stage: Option<&'static str>,
    pub sort_order: i32,
    pub name_en: &'static str,
    pub name_mn: &'static str,
}

pub fn schedule_rules() -> Vec<ScheduleRule> {
    commented_rows(include_str!("../data/schedule_rules.csv"))
        .map(|r| ScheduleRule {
            code: r[0],
            service_type: r[1],
            kind: r[2],
            pattern: r[3],
            anchor: r[4],
            unit: r[5],
            start: r[6].parse().unwrap_or_default(),
            due: opt_i32(r[7]),
            end: r[8].parse().unwrap_or_default(),
            interval: opt_i32(r[9]),
            grace_days: r[10].parse().unwrap_or_default(),
            life_stage: opt_str(r[11]),
            sort_order: r[12].parse().unwrap_or_default(),
            name_en: r[13],
            name_mn: r[14],
        })
        .collect()
}

/// A development milestone with its expected window (`milestones.csv`).
pub struct Milestone {
    pub code: &'static str,
    pub domain: &'static str,
    pub expected_from_months: i32,
    pub expected_by_months: i32,
    pub sort_order: i32,
    pub name_en: &'static str,
    pub name_mn: &'static str,
}

pub fn milestones() -> Vec<Milestone> {
    commented_rows(include_str!("../data/milestones.csv"))
        .map(|r| Milestone {
            code: r[0],
            domain: r[1],
            expected_from_months: r[2].parse().unwrap_or_default(),
            expected_by_months: r[3].parse().unwrap_or_default(),
            sort_order: r[4].parse().unwrap_or_default(),
            name_en: r[5],
            name_mn: r[6],
        })
        .collect()
}

/// An indicator of the family assessment instrument (`assessment_indicators_v1.csv`).
pub struct AssessmentIndicator {
    pub code: &'static str,
    pub sort_order: i32,
    pub applies_when: &'static str,
    pub area: &'static str,
    pub question_en: &'static str,
    pub question_mn: &'static str,
}

pub fn assessment_indicators_v1() -> Vec<AssessmentIndicator> {
    commented_rows(include_str!("../data/assessment_indicators_v1.csv"))
        .map(|r| AssessmentIndicator {
            code: r[0],
            sort_order: r[1].parse().unwrap_or_default(),
            applies_when: r[2],
            area: r[3],
            question_en: r[4],
            question_mn: r[5],
        })
        .collect()
}

/// The coverage indicators (`indicators.csv`), as raw fields in the file's column order.
pub fn indicators() -> Vec<Vec<&'static str>> {
    commented_rows(include_str!("../data/indicators.csv")).collect()
}

/// When a dose counts (`dose_validity_mn.csv`).
pub struct DoseValidity {
    pub antigen: &'static str,
    pub dose: i32,
    pub min_age_days: i32,
    pub max_valid_age_days: Option<i32>,
    pub validity_grace_days: i32,
    pub live_injected: bool,
}

pub fn dose_validity() -> Vec<DoseValidity> {
    commented_rows(include_str!("../data/dose_validity_mn.csv"))
        .map(|r| DoseValidity {
            antigen: r[0],
            dose: r[1].parse().unwrap_or_default(),
            min_age_days: r[2].parse().unwrap_or_default(),
            max_valid_age_days: opt_i32(r[3]),
            validity_grace_days: r[4].parse().unwrap_or_default(),
            live_injected: r[5] == "true",
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

    #[test]
    fn health_schedules_are_complete() {
        let antigens = antigens();
        let doses = immunisation_schedule();
        for d in &doses {
            assert!(antigens.iter().any(|a| a.code == d.antigen), "{} is not an antigen", d.antigen);
            assert!(d.dose >= 1 && d.grace_days >= 1, "{}:{}", d.antigen, d.dose);
            if d.in_schedule {
                assert!(d.max_age_days.is_some(), "{}:{} needs a max age", d.antigen, d.dose);
            }
        }
        for a in &antigens {
            let mut numbers: Vec<i32> = doses.iter().filter(|d| d.antigen == a.code).map(|d| d.dose).collect();
            numbers.sort();
            assert_eq!(numbers, (1..=numbers.len() as i32).collect::<Vec<_>>(), "{}", a.code);
            assert!(!numbers.is_empty(), "{} has no doses", a.code);
        }
        let stages = life_stages();
        let types = service_types();
        let rules = schedule_rules();
        assert_eq!(rules.iter().filter(|r| r.service_type == "ANC_CONTACT").count(), 8);
        for r in &rules {
            assert!(types.iter().any(|t| t.code == r.service_type), "{}", r.code);
            assert!(r.life_stage.is_none_or(|l| stages.iter().any(|s| s.code == l)));
            assert!(r.start <= r.end && r.due.unwrap_or(r.start) <= r.end, "{}", r.code);
            assert_eq!(r.pattern == "RECURRING", r.interval.is_some(), "{}", r.code);
            assert!(!r.name_en.is_empty() && !r.name_mn.is_empty(), "{}", r.code);
        }
        let milestones = milestones();
        for domain in ["MOTOR", "LANGUAGE", "SOCIO_EMOTIONAL", "COGNITIVE"] {
            assert!(milestones.iter().filter(|m| m.domain == domain).count() >= 5, "{domain}");
        }
        for m in &milestones {
            assert!(m.expected_from_months < m.expected_by_months && m.expected_by_months < 72);
        }
    }
}
