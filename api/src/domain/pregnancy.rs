//! When a pregnancy is open, one definition for every path: the life stage, the lists by stage,
//! the schedules, eligibility and household composition (`store::people::open_pregnancies` is its
//! SQL twin, proven equal below).
//!
//! A pregnancy is open from its last menstrual period (its expected delivery date less 280 days,
//! Naegele's rule) until its outcome is recorded — and, without one, until the end of the window
//! of the schedule's PREGNANCY_OUTCOME rule (data, `schedule_rule`): from its start the outcome is
//! due on the field worker's list (42 weeks: WHO's post-term), after its end the pregnancy leaves
//! the PREGNANCY stage and every list, its outcome unknown until someone records it.

use super::age::last_day_of_month;
use super::schedule::Rule;
use super::vocab::{DueKind, PregnancyStatus, ScheduleUnit};
use chrono::{Datelike, Days, NaiveDate};

/// Naegele's rule: delivery is expected 280 days after the last menstrual period.
pub const GESTATION_DAYS: i64 = 280;

/// The margins of a pregnancy without an outcome, in days after its last menstrual period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FollowUp {
    /// The first day the outcome is due; None: never.
    pub outcome_due: Option<i64>,
    /// The last day it is open without an outcome; None: until one is recorded.
    pub open_through: Option<i64>,
}

impl FollowUp {
    /// The margins of the (first active) PREGNANCY_OUTCOME rule; none without one.
    pub fn from_rules<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> Self {
        let Some(r) = rules.into_iter().find(|r| r.kind == DueKind::PregnancyOutcome) else {
            return FollowUp::default();
        };
        // Completed units: the window's last day is the end unit's last day.
        let (first, last) = match r.unit {
            ScheduleUnit::Day => (1, 0),
            ScheduleUnit::Week => (7, 6),
            // Calendar months differ in length; LMP-anchored rules are kept in days or weeks.
            ScheduleUnit::Month => (31, 30),
        };
        FollowUp {
            outcome_due: Some(i64::from(r.due.unwrap_or(r.start)) * first),
            open_through: Some(i64::from(r.end) * first + last),
        }
    }
}

/// The last menstrual period of a pregnancy expected on `edd`.
pub fn lmp(edd: NaiveDate) -> NaiveDate {
    edd - Days::new(GESTATION_DAYS.unsigned_abs())
}

/// Where a pregnancy expected on `edd` stands on `on`; None before its last menstrual period.
pub fn status(edd: NaiveDate, outcome_date: Option<NaiveDate>, on: NaiveDate, f: FollowUp) -> Option<PregnancyStatus> {
    if outcome_date.is_some_and(|d| d <= on) {
        return Some(PregnancyStatus::Ended);
    }
    let day = (on - lmp(edd)).num_days();
    if day < 0 {
        None
    } else if f.open_through.is_some_and(|t| day > t) {
        Some(PregnancyStatus::OutcomeUnknown)
    } else if f.outcome_due.is_some_and(|d| day >= d) {
        Some(PregnancyStatus::OutcomeDue)
    } else {
        Some(PregnancyStatus::Open)
    }
}

/// Whether the pregnancy is open on `on` (OPEN or OUTCOME_DUE).
pub fn is_open(edd: NaiveDate, outcome_date: Option<NaiveDate>, on: NaiveDate, f: FollowUp) -> bool {
    matches!(status(edd, outcome_date, on, f), Some(PregnancyStatus::Open | PregnancyStatus::OutcomeDue))
}

/// What SQL compares a pregnancy's stored dates with to find those open on `on`: an expected
/// delivery date in [`earliest`, `latest`] and no outcome on or before `outcome_after`. With
/// `by_month`, the bounds select what `is_open` says of the dates moved to the first of their
/// month (what de-identified callers' derivations see), so a list by stage and the stage shown
/// on its rows agree and tell no day apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenBounds {
    pub earliest: Option<NaiveDate>,
    pub latest: NaiveDate,
    pub outcome_after: NaiveDate,
}

pub fn open_bounds(on: NaiveDate, f: FollowUp, by_month: bool) -> OpenBounds {
    let latest = on + Days::new(GESTATION_DAYS.unsigned_abs());
    let earliest = f.open_through.and_then(|t| latest.checked_sub_days(Days::new(t.unsigned_abs())));
    if !by_month {
        return OpenBounds { earliest, latest, outcome_after: on };
    }
    // month_start(d) <= x  <=>  d <= the last day of x's month;
    // month_start(d) >= x  <=>  d >= x when x is a first of month, else d after x's month.
    OpenBounds {
        earliest: earliest.map(|e| if e.day() == 1 { e } else { last_day_of_month(e) + Days::new(1) }),
        latest: last_day_of_month(latest),
        outcome_after: last_day_of_month(on),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PregnancyStatus::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    /// The demo's margins: due from day 294 (42 weeks), open through day 335 (47 completed weeks).
    const F: FollowUp = FollowUp { outcome_due: Some(294), open_through: Some(335) };

    #[test]
    fn the_outcome_falls_due_at_42_weeks_and_the_pregnancy_closes_after_the_second_margin() {
        let edd = d("2026-10-08"); // LMP 2026-01-01
        let at = |day: u64| status(edd, None, d("2026-01-01") + Days::new(day), F);
        assert_eq!(status(edd, None, d("2025-12-31"), F), None);
        assert_eq!(at(0), Some(Open));
        assert_eq!(at(293), Some(Open));
        assert_eq!(at(294), Some(OutcomeDue));
        assert_eq!(at(335), Some(OutcomeDue));
        assert_eq!(at(336), Some(OutcomeUnknown));
        // An outcome ends it on its day, whenever it is recorded.
        let ended = d("2026-11-01");
        assert_eq!(status(edd, Some(ended), ended.pred_opt().unwrap(), F), Some(OutcomeDue));
        assert_eq!(status(edd, Some(ended), ended, F), Some(Ended));
        // Without the rule, a pregnancy stays open until its outcome.
        assert_eq!(status(edd, None, d("2030-01-01"), FollowUp::default()), Some(Open));
    }

    #[test]
    fn the_sql_bounds_select_exactly_the_open_pregnancies_by_day_and_by_month() {
        let first = |d: NaiveDate| d.with_day(1).unwrap();
        for on in [d("2026-06-15"), d("2026-06-30"), d("2026-03-01")] {
            for f in [F, FollowUp::default()] {
                for by_month in [false, true] {
                    // De-identified callers' reference day is the last of its month.
                    let on = if by_month { last_day_of_month(on) } else { on };
                    let b = open_bounds(on, f, by_month);
                    for offset in -400..400 {
                        let edd = on + chrono::Duration::days(offset);
                        for outcome in [None, Some(on - Days::new(3)), Some(on), Some(on + Days::new(9))] {
                            let sql = edd <= b.latest
                                && b.earliest.is_none_or(|e| edd >= e)
                                && outcome.is_none_or(|o| o > b.outcome_after);
                            let want = if by_month {
                                is_open(first(edd), outcome.map(first), on, f)
                            } else {
                                is_open(edd, outcome, on, f)
                            };
                            assert_eq!(sql, want, "{edd} {outcome:?} on {on} {f:?} by month {by_month}");
                        }
                    }
                }
            }
        }
    }
}
