//! Due, overdue and given services of one person from schedules held as data (immunisation doses, vitamin A, growth monitoring, antenatal and postnatal contacts): pure functions over rules, the person's facts and history.

// How a schedule is read (the data: migration/data/immunisation_schedule_mn.csv and
// schedule_rules.csv):
//
// * Immunisation: the doses of an antigen form a series, filled by the valid doses in date order
//   (`dose_validity`; an invalid dose fills nothing, and its repeat waits the minimum interval
//   after it). A dose is due at its recommended age,
//   and never sooner than the minimum interval after the previous dose was given; it is overdue
//   `grace_days` after that and MISSED once the child is older than its catch-up limit. A dose
//   after one not yet given is UPCOMING, dated as if the earlier one were given when due (or
//   today, when that is already past).
// * RECURRING rules (vitamin A, growth monitoring): age bands of one series; the next one is due
//   one interval (of the band of the last one given) after the last one given, or at the start
//   of the first band when none was. The series ends with its last band.
// * CONTACT rules (antenatal and postnatal contacts): each has a window; records fill the
//   contacts in order, each the first open contact whose window holds its date. A contact is due
//   at its due age, overdue after its grace period and MISSED when its window has closed.
// * A series is evaluated while its anchor exists (birth; an open pregnancy; a delivery) and its
//   last window has not closed; immunisation doses while the person is within the schedule's
//   oldest catch-up age. Records dated after the day are ignored.

use super::dose_validity;
use super::vocab::{DoseEvaluation, DueKind, DueStatus, ScheduleAnchor, SchedulePattern, ScheduleUnit};
use chrono::{Days, Months, NaiveDate};
use std::collections::HashMap;

/// The service type of immunisation records.
pub const IMMUNISATION_SERVICE: &str = "IMMUNISATION";

/// One dose of the national immunisation schedule (a row of `antigen_dose`).
#[derive(Clone, Debug, PartialEq)]
pub struct DoseRule {
    pub antigen: String,
    pub dose: i32,
    pub recommended_age_days: i32,
    pub min_interval_days: Option<i32>,
    pub max_age_days: Option<i32>,
    pub grace_days: i32,
    /// Validity (`domain::dose_validity`): the youngest age at which the dose counts.
    pub min_age_days: i32,
    /// Validity: the oldest age at which the dose counts; None: no limit.
    pub max_valid_age_days: Option<i32>,
    /// Validity: days before the minimum age or interval a dose still counts (CDSi: 4).
    pub validity_grace_days: i32,
    /// A live injected vaccine (28 days from another one not given the same day).
    pub live_injected: bool,
    /// Part of the national schedule: listed as due (false: recordable and evaluated only).
    pub in_schedule: bool,
}

/// A row of `schedule_rule`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub code: String,
    pub service_type: String,
    pub kind: DueKind,
    pub pattern: SchedulePattern,
    pub anchor: ScheduleAnchor,
    pub unit: ScheduleUnit,
    pub start: i32,
    /// When a contact is due (default: `start`).
    pub due: Option<i32>,
    /// Last age of the window, in completed units.
    pub end: i32,
    /// Recurring rules: units between two services.
    pub interval: Option<i32>,
    pub grace_days: i32,
    pub sort_order: i32,
}

/// What the schedules need to know about the person on the day.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub birth_date: NaiveDate,
    pub date_of_death: Option<NaiveDate>,
    /// Last menstrual period of the pregnancy open on the day.
    pub open_pregnancy_lmp: Option<NaiveDate>,
    /// The latest delivery (live birth or stillbirth) on or before the day.
    pub last_delivery: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GivenDose {
    pub antigen: String,
    pub date: NaiveDate,
    /// False for doses outside the children's schedule (Td in pregnancy).
    pub evaluated: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GivenService {
    pub service_type: String,
    pub date: NaiveDate,
}

/// What the person received.
#[derive(Clone, Debug, Default)]
pub struct History {
    pub doses: Vec<GivenDose>,
    pub services: Vec<GivenService>,
}

/// One scheduled service and where it stands on the day.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub kind: DueKind,
    /// The rule's code, or `ANTIGEN:dose` for an immunisation dose.
    pub code: String,
    pub service_type: String,
    pub antigen: Option<String>,
    /// The dose number, or the contact's number within its series.
    pub number: Option<i32>,
    pub status: DueStatus,
    pub due_on: Option<NaiveDate>,
    pub overdue_from: Option<NaiveDate>,
    /// The last day it can be given; None: no limit.
    pub closes_on: Option<NaiveDate>,
    pub given_on: Option<NaiveDate>,
}

impl Item {
    /// Days since it became overdue (0 on the first overdue day), when it is overdue.
    pub fn days_overdue(&self, on: NaiveDate) -> Option<i64> {
        match (self.status, self.overdue_from) {
            (DueStatus::Overdue, Some(from)) => Some((on - from).num_days()),
            _ => None,
        }
    }

    /// Whether a field round ending `within_days` after `on` should act on it: due or overdue
    /// now, or falling due by the end of the round.
    pub fn actionable(&self, on: NaiveDate, within_days: u32) -> bool {
        match self.status {
            DueStatus::Due | DueStatus::Overdue => true,
            DueStatus::Upcoming => self.due_on.is_some_and(|d| d <= on + Days::new(u64::from(within_days))),
            DueStatus::Given | DueStatus::Missed => false,
        }
    }
}

/// `anchor` plus `n` units (calendar months for MONTH).
fn plus(anchor: NaiveDate, n: i32, unit: ScheduleUnit) -> Option<NaiveDate> {
    let n = u32::try_from(n).ok()?;
    match unit {
        ScheduleUnit::Day => anchor.checked_add_days(Days::new(u64::from(n))),
        ScheduleUnit::Week => anchor.checked_add_days(Days::new(7 * u64::from(n))),
        ScheduleUnit::Month => anchor.checked_add_months(Months::new(n)),
    }
}

/// The last day on which the age counted from `anchor` is still `end` completed units.
fn last_day(anchor: NaiveDate, end: i32, unit: ScheduleUnit) -> Option<NaiveDate> {
    plus(anchor, end.checked_add(1)?, unit)?.pred_opt()
}

fn days(date: NaiveDate, n: i32) -> Option<NaiveDate> {
    date.checked_add_days(Days::new(u64::try_from(n).ok()?))
}

/// Where an item that is not given stands on `on`.
fn status(on: NaiveDate, due: NaiveDate, overdue_from: NaiveDate, closes: Option<NaiveDate>) -> DueStatus {
    if closes.is_some_and(|c| on > c) {
        DueStatus::Missed
    } else if on >= overdue_from {
        DueStatus::Overdue
    } else if on >= due {
        DueStatus::Due
    } else {
        DueStatus::Upcoming
    }
}

/// Everything scheduled for the person on `on`: immunisation doses first, then the rules in
/// their order.
pub fn evaluate(doses: &[DoseRule], rules: &[Rule], facts: &Facts, history: &History, on: NaiveDate) -> Vec<Item> {
    if on < facts.birth_date || facts.date_of_death.is_some_and(|d| d <= on) {
        return Vec::new();
    }
    let mut items = immunisations(doses, facts.birth_date, &history.doses, on);
    // Rules grouped into series by service type (bands or contacts of one service), in order.
    let mut sorted: Vec<&Rule> = rules.iter().collect();
    sorted.sort_by_key(|r| (r.sort_order, r.code.clone()));
    let mut series: Vec<Vec<&Rule>> = Vec::new();
    for rule in sorted {
        match series.iter_mut().find(|s| {
            s[0].service_type == rule.service_type && s[0].pattern == rule.pattern && s[0].anchor == rule.anchor
        }) {
            Some(s) => s.push(rule),
            None => series.push(vec![rule]),
        }
    }
    for s in series {
        let anchor = match s[0].anchor {
            ScheduleAnchor::Birth => Some(facts.birth_date),
            ScheduleAnchor::Lmp => facts.open_pregnancy_lmp,
            ScheduleAnchor::Delivery => facts.last_delivery,
        };
        let Some(anchor) = anchor.filter(|a| *a <= on) else {
            continue;
        };
        let mut dates: Vec<NaiveDate> = history
            .services
            .iter()
            .filter(|g| g.service_type == s[0].service_type && g.date >= anchor && g.date <= on)
            .map(|g| g.date)
            .collect();
        dates.sort_unstable();
        match s[0].pattern {
            SchedulePattern::Recurring => items.extend(recurring(&s, anchor, &dates, on)),
            SchedulePattern::Contact => items.extend(contacts(&s, anchor, &dates, on)),
        }
    }
    items
}

fn immunisations(doses: &[DoseRule], birth: NaiveDate, given: &[GivenDose], on: NaiveDate) -> Vec<Item> {
    // Beyond the oldest catch-up age only what was given is listed.
    let schedule_end =
        doses.iter().filter(|d| d.in_schedule).map(|d| d.max_age_days).try_fold(0, |acc, m| m.map(|m| acc.max(m)));
    let in_schedule = schedule_end.is_none_or(|end| days(birth, end).is_none_or(|e| on <= e));
    let mut antigens: Vec<&str> = Vec::new();
    for d in doses.iter().filter(|d| d.in_schedule) {
        if !antigens.contains(&d.antigen.as_str()) {
            antigens.push(&d.antigen);
        }
    }
    // Positions are filled by valid doses; the latest invalid dose of each antigen spaces its
    // repeat.
    let recorded: Vec<dose_validity::Recorded> = given
        .iter()
        .filter(|g| g.date <= on)
        .map(|g| dose_validity::Recorded { antigen: g.antigen.clone(), date: g.date, evaluated: g.evaluated })
        .collect();
    let verdicts = dose_validity::evaluate(doses, birth, &recorded);
    let mut given_on: HashMap<(&str, i32), NaiveDate> = HashMap::new();
    let mut last_invalid: HashMap<&str, NaiveDate> = HashMap::new();
    for (g, v) in recorded.iter().zip(&verdicts) {
        match (v.valid_dose, v.evaluation) {
            (Some(n), _) => {
                given_on.insert((g.antigen.as_str(), n), g.date);
            }
            (None, DoseEvaluation::NotEvaluated | DoseEvaluation::SameDay | DoseEvaluation::Extra) => {}
            (None, _) => {
                let last = last_invalid.entry(g.antigen.as_str()).or_insert(g.date);
                *last = (*last).max(g.date);
            }
        }
    }
    // A live injected vaccine not yet given waits 28 days after the last live dose.
    let is_live = |antigen: &str| doses.iter().any(|d| d.antigen == antigen && d.live_injected);
    let live_from = dose_validity::live_spacing(recorded.iter().filter(|g| is_live(&g.antigen)).map(|g| g.date), on);
    let mut items = Vec::new();
    for antigen in antigens {
        let mut series: Vec<&DoseRule> = doses.iter().filter(|d| d.antigen == antigen).collect();
        series.sort_by_key(|d| d.dose);
        let spaced_from = live_from.filter(|_| is_live(antigen));
        // The date the previous dose was given, or would be if given when due (or today).
        let mut previous: Option<NaiveDate> = None;
        let mut previous_given = true;
        for d in series {
            let Some(recommended) = days(birth, d.recommended_age_days) else {
                continue;
            };
            let mut due = match (previous, d.min_interval_days) {
                (Some(p), Some(interval)) => days(p, interval).map_or(recommended, |e| e.max(recommended)),
                _ => recommended,
            };
            // The position an invalid dose failed to fill: its repeat waits after it.
            let given = given_on.get(&(antigen, d.dose)).copied();
            if previous_given
                && given.is_none()
                && let Some(invalid) = last_invalid.get(antigen).filter(|i| previous.is_none_or(|p| **i > p))
                && let Some(repeat) = dose_validity::repeat_due(d, *invalid)
            {
                due = due.max(repeat);
            }
            if given.is_none()
                && let Some(spaced) = spaced_from
            {
                due = due.max(spaced);
            }
            let overdue_from = days(due, d.grace_days).unwrap_or(due);
            let closes = d.max_age_days.and_then(|m| days(birth, m));
            let status = match given {
                Some(_) => DueStatus::Given,
                None if closes.is_some_and(|c| on > c) => DueStatus::Missed,
                None if !previous_given => DueStatus::Upcoming,
                None => status(on, due, overdue_from, closes),
            };
            if given.is_some() || in_schedule {
                items.push(Item {
                    kind: DueKind::Immunisation,
                    code: format!("{antigen}:{}", d.dose),
                    service_type: IMMUNISATION_SERVICE.into(),
                    antigen: Some(antigen.into()),
                    number: Some(d.dose),
                    status,
                    due_on: Some(due),
                    overdue_from: Some(overdue_from),
                    closes_on: closes,
                    given_on: given,
                });
            }
            previous = Some(given.unwrap_or(due.max(on)));
            previous_given = given.is_some();
        }
    }
    items
}

/// One age band of a recurring series, as dates.
struct Band<'a> {
    rule: &'a Rule,
    from: NaiveDate,
    to: NaiveDate,
}

fn recurring(rules: &[&Rule], anchor: NaiveDate, dates: &[NaiveDate], on: NaiveDate) -> Vec<Item> {
    let mut bands: Vec<Band> = rules
        .iter()
        .filter_map(|r| {
            Some(Band { rule: r, from: plus(anchor, r.start, r.unit)?, to: last_day(anchor, r.end, r.unit)? })
        })
        .collect();
    bands.sort_by_key(|b| b.from);
    let (Some(first), Some(last)) = (bands.first(), bands.last()) else {
        return Vec::new();
    };
    let (start, end) = (first.from, last.to);
    if on > end {
        return Vec::new();
    }
    let band_of = |d: NaiveDate| bands.iter().find(|b| b.from <= d && d <= b.to);
    let item = |band: &Band, status, due_on, overdue_from, given_on| Item {
        kind: band.rule.kind,
        code: band.rule.code.clone(),
        service_type: band.rule.service_type.clone(),
        antigen: None,
        number: None,
        status,
        due_on,
        overdue_from,
        closes_on: Some(end),
        given_on,
    };
    let given: Vec<NaiveDate> = dates.iter().copied().filter(|d| start <= *d && *d <= end).collect();
    let mut items: Vec<Item> =
        given.iter().filter_map(|d| Some(item(band_of(*d)?, DueStatus::Given, None, None, Some(*d)))).collect();
    let next = match given.last().and_then(|d| Some((*d, band_of(*d)?))) {
        None => Some(start),
        Some((d, band)) => plus(d, band.rule.interval.unwrap_or(1).max(1), band.rule.unit),
    };
    if let Some(next) = next.map(|n| n.max(start)).filter(|n| *n <= end)
        && let Some(band) = band_of(next)
    {
        let overdue_from = days(next, band.rule.grace_days).unwrap_or(next);
        let status = status(on, next, overdue_from, None);
        items.push(item(band, status, Some(next), Some(overdue_from), None));
    }
    items
}

fn contacts(rules: &[&Rule], anchor: NaiveDate, dates: &[NaiveDate], on: NaiveDate) -> Vec<Item> {
    struct Window<'a> {
        rule: &'a Rule,
        open: NaiveDate,
        due: NaiveDate,
        close: NaiveDate,
        given: Option<NaiveDate>,
    }
    let mut windows: Vec<Window> = rules
        .iter()
        .filter_map(|r| {
            Some(Window {
                rule: r,
                open: plus(anchor, r.start, r.unit)?,
                due: plus(anchor, r.due.unwrap_or(r.start), r.unit)?,
                close: last_day(anchor, r.end, r.unit)?,
                given: None,
            })
        })
        .collect();
    if windows.iter().all(|w| on > w.close) {
        return Vec::new();
    }
    for d in dates {
        if let Some(w) = windows.iter_mut().find(|w| w.given.is_none() && w.open <= *d && *d <= w.close) {
            w.given = Some(*d);
        }
    }
    windows
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let overdue_from = days(w.due, w.rule.grace_days).unwrap_or(w.due);
            Item {
                kind: w.rule.kind,
                code: w.rule.code.clone(),
                service_type: w.rule.service_type.clone(),
                antigen: None,
                number: Some(i as i32 + 1),
                status: match w.given {
                    Some(_) => DueStatus::Given,
                    None => status(on, w.due, overdue_from, Some(w.close)),
                },
                due_on: Some(w.due),
                overdue_from: Some(overdue_from),
                closes_on: Some(w.close),
                given_on: w.given,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn dose(antigen: &str, dose: i32, age: i32, interval: Option<i32>) -> DoseRule {
        DoseRule {
            antigen: antigen.into(),
            dose,
            recommended_age_days: age,
            min_interval_days: interval,
            max_age_days: Some(1825),
            grace_days: 28,
            min_age_days: age.min(42),
            max_valid_age_days: None,
            validity_grace_days: 4,
            live_injected: false,
            in_schedule: true,
        }
    }

    fn doses() -> Vec<DoseRule> {
        let mut v = vec![DoseRule { max_age_days: Some(28), grace_days: 1, ..dose("HEPB_BIRTH", 1, 0, None) }];
        v.extend([dose("PENTA", 1, 61, None), dose("PENTA", 2, 91, Some(28)), dose("PENTA", 3, 122, Some(28))]);
        v
    }

    #[allow(clippy::too_many_arguments)]
    fn rule(
        code: &str,
        service: &str,
        kind: DueKind,
        pattern: SchedulePattern,
        anchor: ScheduleAnchor,
        unit: ScheduleUnit,
        (start, due, end): (i32, Option<i32>, i32),
        interval: Option<i32>,
        grace_days: i32,
        sort_order: i32,
    ) -> Rule {
        Rule {
            code: code.into(),
            service_type: service.into(),
            kind,
            pattern,
            anchor,
            unit,
            start,
            due,
            end,
            interval,
            grace_days,
            sort_order,
        }
    }

    fn rules() -> Vec<Rule> {
        use DueKind::*;
        use ScheduleAnchor::*;
        use SchedulePattern::*;
        use ScheduleUnit::*;
        let mut v = vec![
            rule("VITAMIN_A", "VITAMIN_A", VitaminA, Recurring, Birth, Month, (6, None, 59), Some(6), 30, 1),
            rule(
                "GM_0_11",
                "GROWTH_MONITORING",
                GrowthMonitoring,
                Recurring,
                Birth,
                Month,
                (0, None, 11),
                Some(1),
                14,
                2,
            ),
            rule(
                "GM_12_23",
                "GROWTH_MONITORING",
                GrowthMonitoring,
                Recurring,
                Birth,
                Month,
                (12, None, 23),
                Some(3),
                30,
                3,
            ),
            rule(
                "GM_24_59",
                "GROWTH_MONITORING",
                GrowthMonitoring,
                Recurring,
                Birth,
                Month,
                (24, None, 59),
                Some(6),
                30,
                4,
            ),
        ];
        let anc = [
            (0, 0, 19, 84),
            (13, 20, 25, 14),
            (21, 26, 29, 14),
            (27, 30, 33, 14),
            (31, 34, 35, 7),
            (35, 36, 37, 7),
            (37, 38, 39, 7),
            (39, 40, 42, 7),
        ];
        for (i, (start, due, end, grace)) in anc.into_iter().enumerate() {
            v.push(rule(
                &format!("ANC_{}", i + 1),
                "ANC_CONTACT",
                AntenatalCare,
                Contact,
                Lmp,
                Week,
                (start, Some(due), end),
                None,
                grace,
                10 + i as i32,
            ));
        }
        let pnc = [(0, 0, 1, 1), (2, 2, 4, 2), (5, 7, 14, 7), (28, 35, 42, 7)];
        for (i, (start, due, end, grace)) in pnc.into_iter().enumerate() {
            v.push(rule(
                &format!("PNC_MOTHER_{}", i + 1),
                "PNC_MOTHER",
                PostnatalCare,
                Contact,
                Delivery,
                Day,
                (start, Some(due), end),
                None,
                grace,
                20 + i as i32,
            ));
        }
        v
    }

    fn child(birth: &str) -> Facts {
        Facts { birth_date: d(birth), ..Facts::default() }
    }

    fn given(antigen: &str, _label: i32, date: &str) -> GivenDose {
        GivenDose { antigen: antigen.into(), date: d(date), evaluated: true }
    }

    fn service(code: &str, date: &str) -> GivenService {
        GivenService { service_type: code.into(), date: d(date) }
    }

    fn find<'a>(items: &'a [Item], code: &str) -> &'a Item {
        items.iter().find(|i| i.code == code).unwrap_or_else(|| panic!("no {code} in {items:#?}"))
    }

    #[test]
    fn a_missed_dose_becomes_overdue_after_its_grace_period() {
        // Born 2026-01-01: PENTA 3 due at 122 days (2026-05-03), overdue 28 days later.
        let history = History {
            doses: vec![
                given("HEPB_BIRTH", 1, "2026-01-01"),
                given("PENTA", 1, "2026-03-03"),
                given("PENTA", 2, "2026-04-02"),
            ],
            services: vec![],
        };
        let at = |on| evaluate(&doses(), &[], &child("2026-01-01"), &history, d(on));
        let items = at("2026-05-10");
        let p3 = find(&items, "PENTA:3");
        assert_eq!(p3.status, DueStatus::Due);
        assert_eq!((p3.due_on, p3.overdue_from), (Some(d("2026-05-03")), Some(d("2026-05-31"))));
        let items = at("2026-06-05");
        let p3 = find(&items, "PENTA:3");
        assert_eq!(p3.status, DueStatus::Overdue);
        assert_eq!(p3.days_overdue(d("2026-06-05")), Some(5));
        assert_eq!(find(&items, "PENTA:1").given_on, Some(d("2026-03-03")));
        assert_eq!(find(&items, "HEPB_BIRTH:1").status, DueStatus::Given);
    }

    #[test]
    fn minimum_intervals_push_a_late_series_back() {
        // PENTA 1 given late at 150 days: dose 2 is due 28 days after it, not at 91 days.
        let history = History { doses: vec![given("PENTA", 1, "2026-05-31")], services: vec![] };
        let items = evaluate(&doses(), &[], &child("2026-01-01"), &history, d("2026-06-10"));
        let p2 = find(&items, "PENTA:2");
        assert_eq!((p2.status, p2.due_on), (DueStatus::Upcoming, Some(d("2026-06-28"))));
        // Dose 3 waits for dose 2: upcoming, dated as if dose 2 were given when due.
        let p3 = find(&items, "PENTA:3");
        assert_eq!((p3.status, p3.due_on), (DueStatus::Upcoming, Some(d("2026-07-26"))));
        // The birth dose window (28 days) has closed.
        assert_eq!(find(&items, "HEPB_BIRTH:1").status, DueStatus::Missed);
    }

    #[test]
    fn a_live_vaccine_is_due_no_sooner_than_28_days_after_another_live_dose() {
        // MMR 1 from 274 days (2026-10-02); BCG given late on 2026-09-20 pushes it to 2026-10-18.
        let live = |r: DoseRule| DoseRule { live_injected: true, min_age_days: r.recommended_age_days, ..r };
        let mut rules = doses();
        rules.extend([live(dose("BCG", 1, 0, None)), live(dose("MMR", 1, 274, None))]);
        let history = History { doses: vec![given("BCG", 1, "2026-09-20")], services: vec![] };
        let items = evaluate(&rules, &[], &child("2026-01-01"), &history, d("2026-10-05"));
        let mmr = find(&items, "MMR:1");
        assert_eq!((mmr.status, mmr.due_on), (DueStatus::Upcoming, Some(d("2026-10-18"))));
        // A non-live vaccine is not held back.
        assert_eq!(find(&items, "PENTA:1").due_on, Some(d("2026-03-03")));
    }

    #[test]
    fn a_series_not_started_is_overdue_from_the_first_dose_and_the_rest_wait() {
        let items = evaluate(&doses(), &[], &child("2026-01-01"), &History::default(), d("2026-08-01"));
        assert_eq!(find(&items, "PENTA:1").status, DueStatus::Overdue);
        assert_eq!(find(&items, "PENTA:2").status, DueStatus::Upcoming);
        // Projected from today: dose 2 four weeks after a dose 1 given today.
        assert_eq!(find(&items, "PENTA:2").due_on, Some(d("2026-08-29")));
    }

    #[test]
    fn past_the_oldest_catch_up_age_only_given_doses_are_listed() {
        let history = History { doses: vec![given("PENTA", 1, "2010-03-03")], services: vec![] };
        let items = evaluate(&doses(), &[], &child("2010-01-01"), &history, d("2026-01-01"));
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].status, DueStatus::Given);
    }

    #[test]
    fn growth_monitoring_intervals_follow_the_age_band() {
        let rules = rules();
        let facts = child("2025-01-15");
        // Never measured at 3 months: due since birth, overdue after 14 days.
        let items = evaluate(&[], &rules, &facts, &History::default(), d("2025-04-20"));
        let gm = find(&items, "GM_0_11");
        assert_eq!((gm.status, gm.due_on), (DueStatus::Overdue, Some(d("2025-01-15"))));
        // Measured at 13 months: the next is 3 months later.
        let history = History { doses: vec![], services: vec![service("GROWTH_MONITORING", "2026-02-20")] };
        let items = evaluate(&[], &rules, &facts, &history, d("2026-03-01"));
        let gm: Vec<&Item> = items.iter().filter(|i| i.kind == DueKind::GrowthMonitoring).collect();
        assert_eq!(gm.len(), 2);
        assert_eq!(gm[0].status, DueStatus::Given);
        assert_eq!((gm[1].code.as_str(), gm[1].status), ("GM_12_23", DueStatus::Upcoming));
        assert_eq!(gm[1].due_on, Some(d("2026-05-20")));
        // Measured at 11.5 months: monthly still, so the next falls in the 12-23 band.
        let history = History { doses: vec![], services: vec![service("GROWTH_MONITORING", "2025-12-30")] };
        let items = evaluate(&[], &rules, &facts, &history, d("2026-02-15"));
        let next =
            items.iter().find(|i| i.kind == DueKind::GrowthMonitoring && i.status != DueStatus::Given).expect("next");
        assert_eq!((next.code.as_str(), next.due_on), ("GM_12_23", Some(d("2026-01-30"))));
        assert_eq!(next.overdue_from, Some(d("2026-03-01")));
        assert_eq!(next.status, DueStatus::Due);
        // After 59 months: nothing.
        let items = evaluate(&[], &rules, &facts, &History::default(), d("2030-01-15"));
        assert!(items.iter().all(|i| i.kind != DueKind::GrowthMonitoring), "{items:#?}");
    }

    #[test]
    fn vitamin_a_every_six_months_from_six_to_59_months() {
        let rules = rules();
        let facts = child("2025-01-31");
        let items = evaluate(&[], &rules, &facts, &History::default(), d("2025-07-30"));
        let a = find(&items, "VITAMIN_A");
        // Six months after 31 January is 31 July: not due yet.
        assert_eq!((a.status, a.due_on), (DueStatus::Upcoming, Some(d("2025-07-31"))));
        let history = History { doses: vec![], services: vec![service("VITAMIN_A", "2025-08-10")] };
        let items = evaluate(&[], &rules, &facts, &history, d("2026-03-01"));
        let next = items.iter().find(|i| i.code == "VITAMIN_A" && i.status != DueStatus::Given).expect("next");
        assert_eq!(next.due_on, Some(d("2026-02-10")));
        assert_eq!(next.overdue_from, Some(d("2026-03-12")));
        assert_eq!(next.status, DueStatus::Due);
        assert_eq!(next.closes_on, Some(d("2030-01-30")));
        // Nothing due before 6 months' age for a dose the child cannot get.
        let items = evaluate(&[], &rules, &facts, &History::default(), d("2030-01-31"));
        assert!(items.iter().all(|i| i.code != "VITAMIN_A"));
    }

    #[test]
    fn a_pregnancy_at_30_weeks_has_missed_passed_contacts_and_is_due_for_the_fourth() {
        let rules = rules();
        let lmp = d("2026-01-01");
        let on = lmp + Days::new(30 * 7);
        let mut woman = child("1995-05-05");
        woman.open_pregnancy_lmp = Some(lmp);
        let history = History {
            doses: vec![],
            services: vec![
                service("ANC_CONTACT", "2026-03-20"), // 11 weeks
                service("ANC_CONTACT", "2026-05-22"), // 20 weeks
            ],
        };
        let items = evaluate(&[], &rules, &woman, &history, on);
        let anc: Vec<(i32, DueStatus)> = items
            .iter()
            .filter(|i| i.kind == DueKind::AntenatalCare)
            .map(|i| (i.number.unwrap_or(0), i.status))
            .collect();
        use DueStatus::*;
        assert_eq!(
            anc,
            [(1, Given), (2, Given), (3, Missed), (4, Due), (5, Upcoming), (6, Upcoming), (7, Upcoming), (8, Upcoming)]
        );
        let fourth = find(&items, "ANC_4");
        assert_eq!((fourth.due_on, fourth.overdue_from), (Some(on), Some(on + Days::new(14))));
        // A week earlier the 26-week contact was overdue.
        let items = evaluate(&[], &rules, &woman, &history, on - Days::new(7));
        assert_eq!(find(&items, "ANC_3").status, Overdue);
        // No open pregnancy: no antenatal contacts.
        let items = evaluate(&[], &rules, &child("1995-05-05"), &history, on);
        assert!(items.iter().all(|i| i.kind != DueKind::AntenatalCare));
    }

    #[test]
    fn postnatal_checks_run_six_weeks_from_the_delivery() {
        let rules = rules();
        let mut mother = child("1995-05-05");
        mother.last_delivery = Some(d("2026-03-01"));
        let history = History { doses: vec![], services: vec![service("PNC_MOTHER", "2026-03-02")] };
        let at = |on: &str| evaluate(&[], &rules, &mother, &history, d(on));
        let items = at("2026-03-04");
        assert_eq!(find(&items, "PNC_MOTHER_1").status, DueStatus::Given);
        assert_eq!(find(&items, "PNC_MOTHER_2").status, DueStatus::Due);
        let items = at("2026-03-06");
        assert_eq!(find(&items, "PNC_MOTHER_2").status, DueStatus::Missed);
        assert_eq!(find(&items, "PNC_MOTHER_3").status, DueStatus::Upcoming);
        let items = at("2026-04-12");
        assert_eq!(find(&items, "PNC_MOTHER_4").status, DueStatus::Overdue);
        assert!(at("2026-04-13").is_empty(), "the postnatal period is over");
    }

    #[test]
    fn nothing_is_due_before_birth_or_after_death() {
        let mut facts = child("2026-01-01");
        assert!(evaluate(&doses(), &rules(), &facts, &History::default(), d("2025-12-31")).is_empty());
        facts.date_of_death = Some(d("2026-02-01"));
        assert!(evaluate(&doses(), &rules(), &facts, &History::default(), d("2026-03-01")).is_empty());
    }

    #[test]
    fn actionable_items_are_due_overdue_or_due_within_the_round() {
        let items = evaluate(&doses(), &[], &child("2026-01-01"), &History::default(), d("2026-02-25"));
        let p1 = find(&items, "PENTA:1");
        assert_eq!(p1.status, DueStatus::Upcoming);
        assert!(!p1.actionable(d("2026-02-25"), 5));
        assert!(p1.actionable(d("2026-02-25"), 6));
        assert!(!find(&items, "HEPB_BIRTH:1").actionable(d("2026-02-25"), 30), "missed");
    }
}
