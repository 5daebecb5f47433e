//! Development milestones of one child: per item whether it was achieved, not yet or late, and per domain whether the child is on track (so "on track in 3 of 4 domains" can be counted).

// A milestone is expected between `expected_from_months` and `expected_by_months` (completed
// months, reference data). Checks are read up to the day asked about:
// * ACHIEVED: some check found it achieved (once achieved, always achieved);
// * DELAYED: the latest check found it not achieved when the child was older than
//   `expected_by_months`;
// * NOT_YET: the latest check found it not achieved, within its window then;
// * NOT_CHECKED: never checked.
// A domain is on track when at least one of its items was checked and none is DELAYED; it is not
// assessed (None) when none was checked.

use super::age;
use super::vocab::{DevelopmentDomain, MilestoneStatus};
use chrono::NaiveDate;

#[derive(Clone, Debug, PartialEq)]
pub struct Milestone {
    pub code: String,
    pub domain: DevelopmentDomain,
    pub expected_from_months: i32,
    pub expected_by_months: i32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub milestone: String,
    pub date: NaiveDate,
    pub achieved: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ItemProgress {
    pub code: String,
    pub status: MilestoneStatus,
    /// The latest check of the item.
    pub checked_on: Option<NaiveDate>,
    /// The first check that found it achieved.
    pub achieved_on: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DomainProgress {
    pub domain: DevelopmentDomain,
    /// None: no item of the domain checked yet.
    pub on_track: Option<bool>,
    pub last_checked_on: Option<NaiveDate>,
    pub items: Vec<ItemProgress>,
}

/// Progress in every domain (in `DevelopmentDomain::ALL` order) on `on`, items in the order of
/// `milestones`.
pub fn progress(milestones: &[Milestone], birth: NaiveDate, checks: &[Check], on: NaiveDate) -> Vec<DomainProgress> {
    DevelopmentDomain::ALL
        .iter()
        .map(|domain| {
            let items: Vec<ItemProgress> =
                milestones.iter().filter(|m| m.domain == *domain).map(|m| item(m, birth, checks, on)).collect();
            let checked: Vec<&ItemProgress> = items.iter().filter(|i| i.checked_on.is_some()).collect();
            DomainProgress {
                domain: *domain,
                on_track: (!checked.is_empty()).then(|| checked.iter().all(|i| i.status != MilestoneStatus::Delayed)),
                last_checked_on: checked.iter().filter_map(|i| i.checked_on).max(),
                items,
            }
        })
        .collect()
}

fn item(m: &Milestone, birth: NaiveDate, checks: &[Check], on: NaiveDate) -> ItemProgress {
    let mut mine: Vec<&Check> = checks.iter().filter(|c| c.milestone == m.code && c.date <= on).collect();
    mine.sort_by_key(|c| c.date);
    let achieved_on = mine.iter().find(|c| c.achieved).map(|c| c.date);
    let latest = mine.last();
    let status = match (achieved_on, latest) {
        (Some(_), _) => MilestoneStatus::Achieved,
        (None, Some(c)) if age::months(birth, c.date) > m.expected_by_months => MilestoneStatus::Delayed,
        (None, Some(_)) => MilestoneStatus::NotYet,
        (None, None) => MilestoneStatus::NotChecked,
    };
    ItemProgress { code: m.code.clone(), status, checked_on: latest.map(|c| c.date), achieved_on }
}

/// How many domains are on track, and how many were assessed.
pub fn on_track_count(domains: &[DomainProgress]) -> (usize, usize) {
    let assessed = domains.iter().filter(|d| d.on_track.is_some()).count();
    let on_track = domains.iter().filter(|d| d.on_track == Some(true)).count();
    (on_track, assessed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn m(code: &str, domain: DevelopmentDomain, from: i32, by: i32) -> Milestone {
        Milestone { code: code.into(), domain, expected_from_months: from, expected_by_months: by }
    }

    fn check(code: &str, date: &str, achieved: bool) -> Check {
        Check { milestone: code.into(), date: d(date), achieved }
    }

    #[test]
    fn items_are_achieved_not_yet_delayed_or_not_checked() {
        use DevelopmentDomain::*;
        let ms = [
            m("WALKS", Motor, 8, 17),
            m("SITS", Motor, 3, 9),
            m("WORDS", Language, 12, 23),
            m("SMILES", SocioEmotional, 1, 3),
        ];
        let birth = d("2024-01-10");
        let checks = [
            check("SITS", "2024-08-01", true),
            check("WALKS", "2024-12-01", false),  // 10 months: not yet
            check("WALKS", "2025-08-01", false),  // 18 months: delayed
            check("WORDS", "2025-08-01", false),  // 18 months: within 12-23
            check("SMILES", "2024-06-01", false), // 4 months: delayed...
            check("SMILES", "2024-07-01", true),  // ...then achieved
        ];
        let p = progress(&ms, birth, &checks, d("2025-09-01"));
        assert_eq!(p.len(), 4);
        let motor = &p[0];
        assert_eq!(motor.domain, Motor);
        assert_eq!(motor.items[0].status, MilestoneStatus::Delayed);
        assert_eq!(motor.items[1].status, MilestoneStatus::Achieved);
        assert_eq!(motor.on_track, Some(false));
        assert_eq!(motor.last_checked_on, Some(d("2025-08-01")));
        assert_eq!(p[1].items[0].status, MilestoneStatus::NotYet);
        assert_eq!(p[1].on_track, Some(true));
        assert_eq!(p[2].items[0].status, MilestoneStatus::Achieved);
        assert_eq!(p[2].items[0].achieved_on, Some(d("2024-07-01")));
        assert_eq!(p[2].on_track, Some(true));
        assert_eq!(p[3].on_track, None, "cognitive not assessed");
        assert_eq!(on_track_count(&p), (2, 3));
        // Before the 18-month check walking was only "not yet".
        let p = progress(&ms, birth, &checks, d("2025-01-01"));
        assert_eq!(p[0].items[0].status, MilestoneStatus::NotYet);
        assert_eq!(p[0].on_track, Some(true));
        assert_eq!(p[1].on_track, None);
    }

    #[test]
    fn the_window_ends_with_its_last_completed_month() {
        let ms = [m("SITS", DevelopmentDomain::Motor, 3, 9)];
        let birth = d("2025-01-15");
        // 9 months and a few days: still within the window.
        let p = progress(&ms, birth, &[check("SITS", "2025-10-20", false)], d("2025-11-01"));
        assert_eq!(p[0].items[0].status, MilestoneStatus::NotYet);
        // 10 completed months: late.
        let p = progress(&ms, birth, &[check("SITS", "2025-11-15", false)], d("2025-12-01"));
        assert_eq!(p[0].items[0].status, MilestoneStatus::Delayed);
    }
}
