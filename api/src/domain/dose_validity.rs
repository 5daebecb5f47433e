//! Whether each recorded vaccine dose counts, evaluated from the dates of a child's history the
//! way immunisation registries do (US CDC's CDSi logic, ACIP's general best practice, WHO's
//! minimum ages and intervals: ../shared/domain/VACCINE-VALIDITY.md). The rules are data
//! (`antigen_dose`: minimum age, minimum interval, maximum age, grace period; `antigen`: live
//! injected or not); this module only applies them.
//!
//! * Doses of an antigen are placed in date order; the dose number a worker typed is a label.
//!   The next valid dose fills the first series position not yet filled.
//! * A dose counts when given on or after the position's minimum age and, from the second, the
//!   minimum interval since the previous valid dose, both less the grace period (CDSi's 4 days),
//!   and not after the position's maximum age (no grace: ACIP applies none to maximum ages).
//! * A second dose on a day a dose of the antigen already counts, counts for nothing.
//! * Two live injected vaccines not given the same day must be 28 days apart, with no grace
//!   period (ACIP); a later one within the 28 days counts for nothing. Every earlier live dose
//!   spaces it, valid or not and of any antigen: the interference is the vaccine's, not the
//!   record's.
//! * An invalid dose stays on record and is shown, but advances nothing: the position is due
//!   again (`repeat_due`).

use super::schedule::DoseRule;
use super::vocab::DoseEvaluation;
use chrono::{Days, NaiveDate};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The version of this module's evaluation. Bump it with any change to what `evaluate` decides:
/// stored verdicts made by another version are evaluated again after the next start
/// (`store::doses::rederive`). The test `the_evaluation_is_pinned_to_its_version` fails until
/// it is bumped.
pub const EVALUATION_VERSION: u32 = 2;

/// Days between two live injected vaccines not given the same day (ACIP, CDSi).
pub const LIVE_VACCINE_INTERVAL_DAYS: i64 = 28;

/// A repeat of an invalid dose waits this long after it when its position has no minimum
/// interval of its own (ACIP: space the repeat from the invalid dose by the minimum interval).
pub const REPEAT_INTERVAL_DAYS: i32 = 28;

/// A dose as recorded: the antigen's code and the day. `evaluated` false keeps it out of the
/// children's schedule (Td in pregnancy).
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub antigen: String,
    pub date: NaiveDate,
    pub evaluated: bool,
}

/// What a dose counts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub evaluation: DoseEvaluation,
    /// The series position it fills when valid.
    pub valid_dose: Option<i32>,
}

impl Verdict {
    const fn invalid(evaluation: DoseEvaluation) -> Self {
        Verdict { evaluation, valid_dose: None }
    }
}

fn age_days(birth: NaiveDate, on: NaiveDate) -> i64 {
    (on - birth).num_days()
}

/// The verdict on each dose, in the order given. Doses are evaluated in date order; doses of
/// one day keep the order given (the order they were recorded in).
pub fn evaluate(rules: &[DoseRule], birth: NaiveDate, doses: &[Recorded]) -> Vec<Verdict> {
    let mut series: HashMap<&str, Vec<&DoseRule>> = HashMap::new();
    for r in rules {
        series.entry(r.antigen.as_str()).or_default().push(r);
    }
    for s in series.values_mut() {
        s.sort_by_key(|r| r.dose);
    }
    let live = |antigen: &str| series.get(antigen).is_some_and(|s| s.iter().any(|r| r.live_injected));
    let mut order: Vec<usize> = (0..doses.len()).collect();
    order.sort_by_key(|&i| doses[i].date);
    let mut verdicts = vec![Verdict::invalid(DoseEvaluation::NotEvaluated); doses.len()];
    // The valid doses' dates of each antigen, and the days any live injected vaccine was given.
    let mut valid: HashMap<&str, Vec<NaiveDate>> = HashMap::new();
    let mut live_given: Vec<NaiveDate> = Vec::new();
    for i in order {
        let d = &doses[i];
        let Some(positions) = series.get(d.antigen.as_str()).filter(|_| d.evaluated) else {
            continue;
        };
        let is_live = live(&d.antigen);
        let too_close = is_live && live_conflict(&live_given, d.date);
        if is_live {
            live_given.push(d.date);
        }
        let given = valid.entry(d.antigen.as_str()).or_default();
        let verdict = if given.last() == Some(&d.date) {
            Verdict::invalid(DoseEvaluation::SameDay)
        } else if let Some(target) = positions.get(given.len()) {
            let age = age_days(birth, d.date);
            let grace = i64::from(target.validity_grace_days);
            let too_soon = target
                .min_interval_days
                .zip(given.last())
                .is_some_and(|(interval, last)| (d.date - *last).num_days() < i64::from(interval) - grace);
            // No grace before birth: a dose dated before a (corrected) birth date never counts.
            if age < (i64::from(target.min_age_days) - grace).max(0) {
                Verdict::invalid(DoseEvaluation::TooEarly)
            } else if too_soon {
                Verdict::invalid(DoseEvaluation::TooSoon)
            } else if target.max_valid_age_days.is_some_and(|max| age > i64::from(max)) {
                Verdict::invalid(DoseEvaluation::TooLate)
            } else if too_close {
                Verdict::invalid(DoseEvaluation::LiveVaccineTooSoon)
            } else {
                given.push(d.date);
                Verdict { evaluation: DoseEvaluation::Valid, valid_dose: Some(target.dose) }
            }
        } else {
            Verdict::invalid(DoseEvaluation::Extra)
        };
        verdicts[i] = verdict;
    }
    verdicts
}

/// A digest of what decides every verdict: the evaluation's version and the rules' validity
/// columns. Stored verdicts made under another fingerprint are stale.
pub fn fingerprint(rules: &[DoseRule]) -> String {
    let mut lines: Vec<String> = rules
        .iter()
        .map(|r| {
            format!(
                "{}|{}|{}|{:?}|{:?}|{}|{}",
                r.antigen,
                r.dose,
                r.min_age_days,
                r.min_interval_days,
                r.max_valid_age_days,
                r.validity_grace_days,
                r.live_injected
            )
        })
        .collect();
    lines.sort();
    let digest = Sha256::digest(format!("v{EVALUATION_VERSION}\n{}", lines.join("\n")));
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a live injected vaccine given `on` falls within 28 days after one of the live doses
/// `given` (the same day does not conflict).
fn live_conflict(given: &[NaiveDate], on: NaiveDate) -> bool {
    given.iter().any(|g| (1..LIVE_VACCINE_INTERVAL_DAYS).contains(&(on - *g).num_days()))
}

/// The earliest day a live injected vaccine may follow the live doses given before `on`.
pub fn live_spacing(given: impl IntoIterator<Item = NaiveDate>, on: NaiveDate) -> Option<NaiveDate> {
    given
        .into_iter()
        .filter(|g| *g <= on)
        .max()
        .and_then(|last| last.checked_add_days(Days::new(LIVE_VACCINE_INTERVAL_DAYS.unsigned_abs())))
}

/// The earliest day the repeat of an invalid dose given on `invalid_on` may be given, for the
/// position `target`.
pub fn repeat_due(target: &DoseRule, invalid_on: NaiveDate) -> Option<NaiveDate> {
    let wait = target.min_interval_days.unwrap_or(REPEAT_INTERVAL_DAYS);
    invalid_on.checked_add_days(Days::new(u64::try_from(wait).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use DoseEvaluation::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn rule(antigen: &str, dose: i32, min_age: i32, interval: Option<i32>) -> DoseRule {
        DoseRule {
            antigen: antigen.into(),
            dose,
            recommended_age_days: min_age,
            min_interval_days: interval,
            max_age_days: Some(1825),
            grace_days: 28,
            min_age_days: min_age,
            max_valid_age_days: None,
            validity_grace_days: 4,
            live_injected: false,
            in_schedule: true,
        }
    }

    fn rules() -> Vec<DoseRule> {
        let live = |r: DoseRule| DoseRule { live_injected: true, ..r };
        vec![
            live(rule("BCG", 1, 0, None)),
            rule("PENTA", 1, 42, None),
            rule("PENTA", 2, 70, Some(28)),
            rule("PENTA", 3, 98, Some(28)),
            live(rule("MMR", 1, 274, None)),
            live(rule("MMR", 2, 302, Some(28))),
            DoseRule { max_valid_age_days: Some(104), ..rule("ROTA", 1, 42, None) },
        ]
    }

    const BIRTH: &str = "2026-01-01";

    fn at(antigen: &str, age: u64) -> Recorded {
        Recorded { antigen: antigen.into(), date: d(BIRTH) + Days::new(age), evaluated: true }
    }

    fn eval(doses: &[Recorded]) -> Vec<(DoseEvaluation, Option<i32>)> {
        evaluate(&rules(), d(BIRTH), doses).into_iter().map(|v| (v.evaluation, v.valid_dose)).collect()
    }

    #[test]
    fn the_minimum_age_counts_with_four_days_of_grace() {
        // Pentavalent 1 from 42 days: 38 is within the grace period, 37 is not.
        assert_eq!(eval(&[at("PENTA", 38)]), [(Valid, Some(1))]);
        assert_eq!(eval(&[at("PENTA", 37)]), [(TooEarly, None)]);
        // At 10 days: too early; the repeat at 61 days is dose 1.
        assert_eq!(eval(&[at("PENTA", 10), at("PENTA", 61)]), [(TooEarly, None), (Valid, Some(1))]);
        // A birth dose counts from the day of birth: no grace before it.
        assert_eq!(eval(&[at("BCG", 0)]), [(Valid, Some(1))]);
        let before_birth = Recorded { date: d(BIRTH) - Days::new(1), ..at("BCG", 0) };
        assert_eq!(eval(&[before_birth]), [(TooEarly, None)]);
    }

    #[test]
    fn the_minimum_interval_runs_from_the_previous_valid_dose() {
        // 24 days after dose 1 is within the grace of 28; 23 is not.
        assert_eq!(eval(&[at("PENTA", 61), at("PENTA", 85)]), [(Valid, Some(1)), (Valid, Some(2))]);
        assert_eq!(eval(&[at("PENTA", 61), at("PENTA", 84)]), [(Valid, Some(1)), (TooSoon, None)]);
        // Ten days after dose 1, then four weeks after dose 1: the second counts as dose 2
        // even though it is only 18 days after the invalid one.
        assert_eq!(
            eval(&[at("PENTA", 61), at("PENTA", 71), at("PENTA", 89)]),
            [(Valid, Some(1)), (TooSoon, None), (Valid, Some(2))]
        );
    }

    #[test]
    fn the_series_comes_from_dates_not_from_typed_numbers() {
        // Recorded out of order (a back-filled dose): evaluated in date order.
        assert_eq!(eval(&[at("PENTA", 95), at("PENTA", 61)]), [(Valid, Some(2)), (Valid, Some(1))]);
        // A fourth dose of a three-dose series counts for nothing.
        assert_eq!(
            eval(&[at("PENTA", 61), at("PENTA", 91), at("PENTA", 122), at("PENTA", 160)]).last(),
            Some(&(Extra, None))
        );
        // Two on one day: one counts.
        assert_eq!(eval(&[at("PENTA", 61), at("PENTA", 61)]), [(Valid, Some(1)), (SameDay, None)]);
    }

    #[test]
    fn measles_before_nine_months_does_not_count_as_the_first_dose() {
        assert_eq!(eval(&[at("MMR", 150)]), [(TooEarly, None)]);
        assert_eq!(eval(&[at("MMR", 270)]), [(Valid, Some(1))]);
    }

    #[test]
    fn live_injected_vaccines_not_given_together_are_28_days_apart_without_grace() {
        assert_eq!(eval(&[at("BCG", 260), at("MMR", 280)]), [(Valid, Some(1)), (LiveVaccineTooSoon, None)]);
        assert_eq!(eval(&[at("BCG", 260), at("MMR", 287)]), [(Valid, Some(1)), (LiveVaccineTooSoon, None)]);
        assert_eq!(eval(&[at("BCG", 260), at("MMR", 288)]), [(Valid, Some(1)), (Valid, Some(1))]);
        // Given the same day: both count.
        assert_eq!(eval(&[at("BCG", 280), at("MMR", 280)]), [(Valid, Some(1)), (Valid, Some(1))]);
        // An invalid live dose spaces the next one too, of the same antigen or another.
        assert_eq!(eval(&[at("MMR", 262), at("MMR", 280)]), [(TooEarly, None), (LiveVaccineTooSoon, None)]);
        assert_eq!(eval(&[at("MMR", 262), at("MMR", 290)]), [(TooEarly, None), (Valid, Some(1))]);
        assert_eq!(
            eval(&[at("MMR", 262), at("BCG", 270), at("BCG", 300)]),
            [(TooEarly, None), (LiveVaccineTooSoon, None), (Valid, Some(1))]
        );
        // A non-live vaccine is not spaced.
        assert_eq!(eval(&[at("MMR", 280), at("PENTA", 290)]), [(Valid, Some(1)), (Valid, Some(1))]);
    }

    #[test]
    fn a_live_vaccine_is_due_28_days_after_the_last_live_dose() {
        let given = [d("2026-03-01"), d("2026-02-01"), d("2026-05-01")];
        assert_eq!(live_spacing(given, d("2026-04-01")), Some(d("2026-03-29")));
        assert_eq!(live_spacing([], d("2026-04-01")), None);
    }

    #[test]
    fn a_dose_after_its_maximum_age_does_not_count() {
        assert_eq!(eval(&[at("ROTA", 104)]), [(Valid, Some(1))]);
        assert_eq!(eval(&[at("ROTA", 105)]), [(TooLate, None)]);
    }

    #[test]
    fn doses_outside_the_rules_are_not_evaluated() {
        let maternal = Recorded { evaluated: false, ..at("PENTA", 61) };
        assert_eq!(eval(&[maternal, at("HPV", 4000)]), [(NotEvaluated, None), (NotEvaluated, None)]);
    }

    #[test]
    fn the_fingerprint_follows_the_validity_rules_not_their_order_or_the_due_ages() {
        let mut r = rules();
        let fp = fingerprint(&r);
        r.reverse();
        assert_eq!(fingerprint(&r), fp);
        r[0].recommended_age_days += 7;
        assert_eq!(fingerprint(&r), fp, "a due age decides no verdict");
        r[0].min_age_days += 1;
        assert_ne!(fingerprint(&r), fp);
    }

    /// Verdicts on a fixed spread of histories, digested: the digest changes whenever what
    /// `evaluate` decides does, and must then be pinned again with a new `EVALUATION_VERSION`,
    /// so that stored verdicts are evaluated again.
    #[test]
    fn the_evaluation_is_pinned_to_its_version() {
        let antigens = ["BCG", "PENTA", "MMR", "ROTA", "HPV"];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        let mut out = String::new();
        for _ in 0..2000 {
            let doses: Vec<Recorded> = (0..1 + next(6))
                .map(|_| Recorded {
                    antigen: antigens[next(antigens.len() as u64) as usize].into(),
                    date: d(BIRTH) + Days::new(next(420)),
                    evaluated: next(20) > 0,
                })
                .collect();
            for v in evaluate(&rules(), d(BIRTH), &doses) {
                out.push_str(&format!("{:?}{:?};", v.evaluation, v.valid_dose));
            }
            out.push('\n');
        }
        let digest: String = Sha256::digest(out).iter().take(8).map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            (EVALUATION_VERSION, digest.as_str()),
            (2, "92ad67466ce5bab4"),
            "evaluate decides differently: bump EVALUATION_VERSION and pin the new digest"
        );
    }

    #[test]
    fn a_repeat_waits_the_minimum_interval_after_the_invalid_dose() {
        let r = rules();
        assert_eq!(repeat_due(&r[2], d("2026-03-01")), Some(d("2026-03-29")));
        assert_eq!(repeat_due(&r[1], d("2026-01-11")), Some(d("2026-02-08")), "dose 1: four weeks");
    }
}
