//! Family Empowerment (Triple-A) rules: when an assessment indicator applies to a household,
//! how a visit is scored, which project transitions are allowed, and how roll-ups rank priorities.

use super::age;
use super::vocab::{AppliesWhen, AssessmentAnswer, ProjectStatus};
use chrono::NaiveDate;

/// A member of the household as the rules need them, on the assessment day.
pub struct Member {
    pub birth_date: NaiveDate,
    pub date_of_death: Option<NaiveDate>,
    /// Has a pregnancy open on the day.
    pub pregnant: bool,
}

/// What the household is made of on a day: the ages in months of its living members, and
/// whether a woman in it is pregnant.
pub struct Composition {
    ages_months: Vec<i32>,
    pregnant: bool,
}

impl Composition {
    pub fn on(members: &[Member], day: NaiveDate) -> Self {
        let living = members.iter().filter(|m| m.birth_date <= day && m.date_of_death.is_none_or(|d| d > day));
        let (mut ages_months, mut pregnant) = (Vec::new(), false);
        for m in living {
            ages_months.push(age::months(m.birth_date, day));
            pregnant |= m.pregnant;
        }
        Self { ages_months, pregnant }
    }

    fn has_age(&self, months: std::ops::RangeInclusive<i32>) -> bool {
        self.ages_months.iter().any(|a| months.contains(a))
    }

    /// Whether an indicator with this condition applies; and why not, in words, when it does not.
    pub fn applies(&self, when: AppliesWhen) -> Result<(), &'static str> {
        let (ok, why) = match when {
            AppliesWhen::Always => (true, ""),
            AppliesWhen::ChildUnder5 => (self.has_age(0..=59), "no child under 5 lives in the household"),
            AppliesWhen::Child12To23Months => {
                (self.has_age(12..=23), "no child of 12-23 months lives in the household")
            }
            AppliesWhen::Child3To5 => (self.has_age(36..=71), "no child of 3-5 years lives in the household"),
            AppliesWhen::SchoolAgeChild => (self.has_age(72..=215), "no school-age child lives in the household"),
            AppliesWhen::ChildUnder18 => (self.has_age(0..=215), "no child lives in the household"),
            AppliesWhen::Adolescent => (self.has_age(120..=215), "no adolescent lives in the household"),
            AppliesWhen::PregnantWoman => (self.pregnant, "no woman in the household is pregnant"),
        };
        if ok { Ok(()) } else { Err(why) }
    }
}

/// A visit's score: indicators met and indicators that applied.
pub fn score(answers: &[AssessmentAnswer]) -> (i32, i32) {
    let met = answers.iter().filter(|a| **a == AssessmentAnswer::Yes).count() as i32;
    let applicable = answers.iter().filter(|a| **a != AssessmentAnswer::NotApplicable).count() as i32;
    (met, applicable)
}

/// Met ÷ applicable as a percentage (None when nothing applied).
pub fn percent(met: i64, applicable: i64) -> Option<f64> {
    (applicable > 0).then(|| (1000.0 * met as f64 / applicable as f64).round() / 10.0)
}

/// The workflow: proposed → approved → in progress → completed, and cancelled from any open state.
pub fn transition_allowed(from: ProjectStatus, to: ProjectStatus) -> bool {
    use ProjectStatus::*;
    matches!(
        (from, to),
        (Proposed, Approved)
            | (Approved, InProgress)
            | (InProgress, Completed)
            | (Proposed | Approved | InProgress, Cancelled)
    )
}

/// One indicator's tally in a roll-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    pub code: String,
    /// Households where it applied (answered YES or NO).
    pub applicable: i64,
    pub met: i64,
}

/// The indicators in priority order: the lowest share of households meeting them first; among
/// equal shares, the one affecting more households first; then by code. Indicators that applied
/// to no household are not priorities.
pub fn priorities(tallies: &[Tally]) -> Vec<&Tally> {
    let mut ranked: Vec<&Tally> = tallies.iter().filter(|t| t.applicable > 0).collect();
    // Cross-multiplied so equal shares compare equal exactly (no floating point).
    ranked.sort_by(|a, b| {
        (a.met * b.applicable)
            .cmp(&(b.met * a.applicable))
            .then((b.applicable - b.met).cmp(&(a.applicable - a.met)))
            .then(a.code.cmp(&b.code))
    });
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn member(birth: NaiveDate) -> Member {
        Member { birth_date: birth, date_of_death: None, pregnant: false }
    }

    #[test]
    fn indicators_apply_by_the_ages_on_the_day() {
        let day = d(2026, 11, 27);
        // A child who turns 5 (60 months) on the day no longer counts as under 5.
        let c = Composition::on(&[member(d(1990, 1, 1)), member(d(2021, 11, 27))], day);
        assert!(c.applies(AppliesWhen::ChildUnder5).is_err());
        assert!(c.applies(AppliesWhen::Child3To5).is_ok());
        assert!(c.applies(AppliesWhen::Always).is_ok());
        let c = Composition::on(&[member(d(2021, 11, 28))], day);
        assert!(c.applies(AppliesWhen::ChildUnder5).is_ok(), "59 months");
        let c = Composition::on(&[member(d(2025, 11, 27))], day);
        assert!(c.applies(AppliesWhen::Child12To23Months).is_ok(), "12 months");
        // Someone born after the day, or dead by it, is not in the household that day.
        let c = Composition::on(
            &[
                member(d(2026, 12, 1)),
                Member { birth_date: d(2025, 1, 1), date_of_death: Some(d(2026, 1, 1)), pregnant: false },
            ],
            day,
        );
        assert_eq!(c.applies(AppliesWhen::ChildUnder18), Err("no child lives in the household"));
        let c = Composition::on(&[Member { birth_date: d(1995, 1, 1), date_of_death: None, pregnant: true }], day);
        assert!(c.applies(AppliesWhen::PregnantWoman).is_ok());
    }

    #[test]
    fn a_visit_scores_what_applied() {
        use AssessmentAnswer::*;
        assert_eq!(score(&[Yes, No, NotApplicable, Yes]), (2, 3));
        assert_eq!(percent(2, 3), Some(66.7));
        assert_eq!(percent(0, 0), None);
    }

    #[test]
    fn the_workflow_allows_only_its_steps() {
        use ProjectStatus::*;
        assert!(transition_allowed(Proposed, Approved));
        assert!(transition_allowed(InProgress, Cancelled));
        for (a, b) in [
            (Proposed, InProgress),
            (Approved, Proposed),
            (Completed, Cancelled),
            (Cancelled, Approved),
            (Proposed, Completed),
        ] {
            assert!(!transition_allowed(a, b), "{a:?} -> {b:?}");
        }
    }

    #[test]
    fn priorities_put_the_least_met_first() {
        let t = |code: &str, applicable, met| Tally { code: code.into(), applicable, met };
        let tallies = [t("WATER", 10, 9), t("SALT", 4, 1), t("GARDEN", 8, 2), t("NONE", 0, 0), t("HIV", 10, 5)];
        let order: Vec<&str> = priorities(&tallies).iter().map(|t| t.code.as_str()).collect();
        // 25% (8 households) before 25% (4 households), then 50%, then 90%.
        assert_eq!(order, ["GARDEN", "SALT", "HIV", "WATER"]);
    }
}
