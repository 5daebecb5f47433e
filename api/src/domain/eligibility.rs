//! Who may receive a service: the service type's target group and eligible age range (completed
//! months on the day of service), applied to what is known of the person on that day.

use super::age;
use super::vocab::{Sex, TargetGroup};
use chrono::NaiveDate;

/// What eligibility needs to know about a person on the day of a service.
pub struct Recipient {
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub date_of_death: Option<NaiveDate>,
    /// A pregnancy registered by that day and without an outcome before it.
    pub pregnant: bool,
    /// Days since the end of her most recent pregnancy, when there is one.
    pub days_since_delivery: Option<i64>,
}

/// The rule of a service type.
pub struct Eligibility {
    pub target_group: TargetGroup,
    pub min_age_months: Option<i32>,
    pub max_age_months: Option<i32>,
}

/// Postnatal care for the mother runs six weeks after delivery.
pub const POSTNATAL_DAYS: i64 = 42;
/// The programme's young people (adolescents and youth, as HIV indicators count them: to 24).
const YOUNG_PERSON_MAX_MONTHS: i32 = 24 * 12 + 11;
const CHILD_MAX_MONTHS: i32 = 18 * 12 + 11;
const CAREGIVER_MIN_MONTHS: i32 = 15 * 12;

/// Why a person cannot receive the service on `date`, or None when they can.
pub fn refusal(rule: &Eligibility, who: &Recipient, date: NaiveDate) -> Option<String> {
    if date < who.birth_date {
        return Some("is before the person's birth".into());
    }
    if who.date_of_death.is_some_and(|d| date > d) {
        return Some("is after the person's death".into());
    }
    let months = age::months(who.birth_date, date);
    let group_ok = match rule.target_group {
        TargetGroup::Child => months <= CHILD_MAX_MONTHS,
        TargetGroup::YoungPerson => months <= YOUNG_PERSON_MAX_MONTHS,
        TargetGroup::PregnantWoman => who.sex == Sex::Female && who.pregnant,
        TargetGroup::Mother => {
            who.sex == Sex::Female && who.days_since_delivery.is_some_and(|d| (0..=POSTNATAL_DAYS).contains(&d))
        }
        TargetGroup::Caregiver => months >= CAREGIVER_MIN_MONTHS,
        TargetGroup::AnyPerson => true,
        TargetGroup::Household => {
            return Some("is a household service: give a householdId, not a person".into());
        }
    };
    if !group_ok {
        return Some(format!(
            "the person is not in the service's target group ({}) on that date",
            rule.target_group.as_str()
        ));
    }
    let too_young = rule.min_age_months.is_some_and(|m| months < m);
    let too_old = rule.max_age_months.is_some_and(|m| months > m);
    if too_young || too_old {
        let range = match (rule.min_age_months, rule.max_age_months) {
            (Some(lo), Some(hi)) => format!("{lo}–{hi} months"),
            (Some(lo), None) => format!("{lo} months or older"),
            (None, Some(hi)) => format!("up to {hi} months"),
            (None, None) => String::new(),
        };
        return Some(format!("the person is {months} months old on that date; the service is for {range}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(birth: &str) -> Recipient {
        Recipient {
            sex: Sex::Male,
            birth_date: birth.parse().unwrap(),
            date_of_death: None,
            pregnant: false,
            days_since_delivery: None,
        }
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn vitamin_a_is_for_6_to_59_months() {
        let rule = Eligibility { target_group: TargetGroup::Child, min_age_months: Some(6), max_age_months: Some(59) };
        assert!(refusal(&rule, &child("2026-05-27"), d("2026-11-26")).is_some(), "5 months");
        assert!(refusal(&rule, &child("2026-05-27"), d("2026-11-27")).is_none(), "6 months");
        assert!(refusal(&rule, &child("2021-11-28"), d("2026-11-27")).is_none(), "59 months");
        assert!(refusal(&rule, &child("2021-11-27"), d("2026-11-27")).is_some(), "60 months");
        assert!(refusal(&rule, &child("2026-12-01"), d("2026-11-27")).is_some(), "before birth");
    }

    #[test]
    fn maternal_services_need_a_pregnancy_or_a_recent_delivery() {
        let anc = Eligibility { target_group: TargetGroup::PregnantWoman, min_age_months: None, max_age_months: None };
        let pnc = Eligibility { target_group: TargetGroup::Mother, min_age_months: None, max_age_months: None };
        let mut woman = child("1995-01-01");
        woman.sex = Sex::Female;
        assert!(refusal(&anc, &woman, d("2026-11-27")).is_some());
        woman.pregnant = true;
        assert!(refusal(&anc, &woman, d("2026-11-27")).is_none());
        woman.days_since_delivery = Some(42);
        assert!(refusal(&pnc, &woman, d("2026-11-27")).is_none());
        woman.days_since_delivery = Some(43);
        assert!(refusal(&pnc, &woman, d("2026-11-27")).is_some());
        let man = child("1995-01-01");
        assert!(refusal(&anc, &man, d("2026-11-27")).is_some());
    }
}
