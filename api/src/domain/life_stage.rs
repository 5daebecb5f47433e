//! Life stages derived from dates, never typed in. The bounds are reference data (the
//! `life_stage` table); this module only applies them.

use super::age;
use chrono::{Days, NaiveDate};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgeUnit {
    Day,
    Month,
    Year,
}

impl AgeUnit {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "DAY" => Some(Self::Day),
            "MONTH" => Some(Self::Month),
            "YEAR" => Some(Self::Year),
            _ => None,
        }
    }

    fn age(self, birth: NaiveDate, on: NaiveDate) -> i64 {
        match self {
            Self::Day => age::days(birth, on),
            Self::Month => age::months(birth, on) as i64,
            Self::Year => age::years(birth, on) as i64,
        }
    }

    /// The latest birth date at which the age on `on` is at least `value` of this unit.
    fn latest_birth_for(self, value: i32, on: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => on.checked_sub_days(Days::new(value.max(0) as u64)).unwrap_or(NaiveDate::MIN),
            Self::Month => age::born_on_or_before_for_months(on, value),
            Self::Year => age::born_on_or_before_for_months(on, value * 12),
        }
    }
}

/// An inclusive bound on completed age.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgeBound {
    pub value: i32,
    pub unit: AgeUnit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Criterion {
    Age { min: Option<AgeBound>, max: Option<AgeBound> },
    OpenPregnancy,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageRule {
    pub code: String,
    pub sort_order: i32,
    pub criterion: Criterion,
}

impl StageRule {
    fn age_matches(&self, birth: NaiveDate, on: NaiveDate) -> bool {
        match &self.criterion {
            Criterion::Age { min, max } => {
                min.is_none_or(|b| b.unit.age(birth, on) >= b.value as i64)
                    && max.is_none_or(|b| b.unit.age(birth, on) <= b.value as i64)
            }
            Criterion::OpenPregnancy => false,
        }
    }

    /// Birth dates (earliest, latest; inclusive) of the people in this stage on `on`, for
    /// filtering in SQL. None for a stage not defined by age.
    pub fn birth_date_range(&self, on: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let Criterion::Age { min, max } = &self.criterion else {
            return None;
        };
        let latest = min.map_or(on, |b| b.unit.latest_birth_for(b.value, on));
        let earliest = max
            .map_or(NaiveDate::MIN, |b| b.unit.latest_birth_for(b.value + 1, on).succ_opt().unwrap_or(NaiveDate::MAX));
        Some((earliest, latest))
    }
}

/// The stage of a person on `on`: an open pregnancy comes first (maternal health follows the
/// woman, whatever her age), then the age stages in their order. None for adults, and before birth.
pub fn stage_on<'r>(
    rules: impl IntoIterator<Item = &'r StageRule>,
    birth: NaiveDate,
    on: NaiveDate,
    open_pregnancy: bool,
) -> Option<&'r StageRule> {
    let mut ordered: Vec<&StageRule> = rules.into_iter().collect();
    if let Some(r) = ordered.iter().find(|r| open_pregnancy && r.criterion == Criterion::OpenPregnancy) {
        return Some(r);
    }
    if on < birth {
        return None;
    }
    ordered.sort_by_key(|r| r.sort_order);
    ordered.into_iter().find(|r| r.age_matches(birth, on))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(value: i32, unit: AgeUnit) -> Option<AgeBound> {
        Some(AgeBound { value, unit })
    }

    /// The stages of DOMAIN.md §3, as the reference migration loads them.
    fn rules() -> Vec<StageRule> {
        use AgeUnit::*;
        let age = |code: &str, order, min, max| StageRule {
            code: code.into(),
            sort_order: order,
            criterion: Criterion::Age { min, max },
        };
        vec![
            StageRule { code: "PREGNANCY".into(), sort_order: 1, criterion: Criterion::OpenPregnancy },
            age("NEWBORN", 2, bound(0, Day), bound(27, Day)),
            age("INFANT", 3, bound(28, Day), bound(11, Month)),
            age("EARLY_CHILDHOOD", 4, bound(12, Month), bound(35, Month)),
            age("PRE_SCHOOL", 5, bound(36, Month), bound(71, Month)),
            age("LEARNING_YEARS", 6, bound(6, Year), bound(11, Year)),
            age("ADOLESCENCE", 7, bound(12, Year), bound(18, Year)),
        ]
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn stage(birth: &str, on: &str) -> Option<String> {
        stage_on(&rules(), d(birth), d(on), false).map(|r| r.code.clone())
    }

    #[test]
    fn stages_change_on_the_boundary_days() {
        assert_eq!(stage("2026-11-01", "2026-11-28").as_deref(), Some("NEWBORN")); // 27 days
        assert_eq!(stage("2026-11-01", "2026-11-29").as_deref(), Some("INFANT")); // 28 days
        assert_eq!(stage("2025-11-28", "2026-11-27").as_deref(), Some("INFANT")); // 11 months
        assert_eq!(stage("2025-11-27", "2026-11-27").as_deref(), Some("EARLY_CHILDHOOD"));
        assert_eq!(stage("2023-11-28", "2026-11-27").as_deref(), Some("EARLY_CHILDHOOD")); // 35 months
        assert_eq!(stage("2023-11-27", "2026-11-27").as_deref(), Some("PRE_SCHOOL"));
        assert_eq!(stage("2020-11-28", "2026-11-27").as_deref(), Some("PRE_SCHOOL")); // 71 months
        assert_eq!(stage("2020-11-27", "2026-11-27").as_deref(), Some("LEARNING_YEARS"));
        assert_eq!(stage("2008-11-28", "2026-11-27").as_deref(), Some("ADOLESCENCE")); // 17
        assert_eq!(stage("2007-11-28", "2026-11-27").as_deref(), Some("ADOLESCENCE")); // 18
        assert_eq!(stage("2007-11-27", "2026-11-27"), None, "19-year-olds are adults");
        assert_eq!(stage("2026-12-01", "2026-11-27"), None, "not born yet");
    }

    #[test]
    fn an_open_pregnancy_comes_first() {
        let r = rules();
        assert_eq!(stage_on(&r, d("2008-01-01"), d("2026-11-27"), true).unwrap().code, "PREGNANCY");
    }

    #[test]
    fn birth_date_ranges_agree_with_stage_on() {
        let r = rules();
        for on in ["2026-11-27", "2026-02-28", "2024-02-29", "2026-03-31"] {
            let on = d(on);
            for rule in r.iter().filter(|x| x.criterion != Criterion::OpenPregnancy) {
                let (earliest, latest) = rule.birth_date_range(on).unwrap();
                assert_eq!(
                    stage_on(&r, latest, on, false).map(|x| &x.code),
                    Some(&rule.code),
                    "{} latest on {on}",
                    rule.code
                );
                assert_eq!(
                    stage_on(&r, earliest, on, false).map(|x| &x.code),
                    Some(&rule.code),
                    "{} earliest on {on}",
                    rule.code
                );
                assert_ne!(stage_on(&r, latest.succ_opt().unwrap(), on, false).map(|x| &x.code), Some(&rule.code));
                assert_ne!(stage_on(&r, earliest.pred_opt().unwrap(), on, false).map(|x| &x.code), Some(&rule.code));
            }
        }
    }
}
