//! Ages in completed days, months and years, as the programme counts them (a child is
//! "11 months" until the day before the first birthday).

use chrono::{Datelike, NaiveDate};

pub fn days(birth: NaiveDate, on: NaiveDate) -> i64 {
    (on - birth).num_days()
}

/// Completed calendar months; a birth on the 31st completes a month on the last day of a shorter month.
pub fn months(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut m = (on.year() - birth.year()) * 12 + on.month() as i32 - birth.month() as i32;
    if on.day() < birth.day() && !(is_last_day_of_month(on) && on.day() < birth.day()) {
        m -= 1;
    }
    m
}

/// The year and month of birth, `YYYY-MM`: what de-identified callers are shown instead of
/// the date.
pub fn birth_month(birth: NaiveDate) -> String {
    format!("{:04}-{:02}", birth.year(), birth.month())
}

pub fn years(birth: NaiveDate, on: NaiveDate) -> i32 {
    months(birth, on).div_euclid(12)
}

fn is_last_day_of_month(d: NaiveDate) -> bool {
    d.succ_opt().is_none_or(|n| n.month() != d.month())
}

/// The latest birth date at which a person is at least `m` completed months old on `on`.
pub fn born_on_or_before_for_months(on: NaiveDate, m: i32) -> NaiveDate {
    let b = on.checked_sub_months(chrono::Months::new(m.max(0) as u32)).unwrap_or(NaiveDate::MIN);
    if is_last_day_of_month(on) { last_day_of_month(b) } else { b }
}

/// Birth dates (earliest, latest; inclusive) of people `min` to `max` completed months old on `on`.
pub fn born_for_months(on: NaiveDate, min: i32, max: i32) -> (NaiveDate, NaiveDate) {
    let earliest = born_on_or_before_for_months(on, max + 1).succ_opt().unwrap_or(NaiveDate::MAX);
    (earliest, born_on_or_before_for_months(on, min))
}

/// The last day of `d`'s month.
pub fn last_day_of_month(d: NaiveDate) -> NaiveDate {
    let mut x = d;
    while !is_last_day_of_month(x) {
        x = x.succ_opt().unwrap_or(x);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_age_band_in_months_is_a_range_of_birth_dates() {
        let on = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let (earliest, latest) = born_for_months(on, 180, 599);
        assert_eq!((years(latest, on), years(latest.succ_opt().unwrap(), on)), (15, 14));
        assert_eq!((years(earliest, on), years(earliest.pred_opt().unwrap(), on)), (49, 50));
    }

    #[test]
    fn birth_month_is_year_and_month() {
        assert_eq!(birth_month(d("2024-03-09")), "2024-03");
        assert_eq!(birth_month(d("0999-12-31")), "0999-12");
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn months_are_completed_months() {
        assert_eq!(months(d("2025-03-15"), d("2026-03-14")), 11);
        assert_eq!(months(d("2025-03-15"), d("2026-03-15")), 12);
        assert_eq!(months(d("2026-01-31"), d("2026-02-28")), 1, "end of a short month completes it");
        assert_eq!(months(d("2026-01-31"), d("2026-02-27")), 0);
        assert_eq!(years(d("2020-06-01"), d("2026-05-31")), 5);
        assert_eq!(years(d("2020-06-01"), d("2026-06-01")), 6);
    }

    #[test]
    fn month_bound_matches_months() {
        for (on, m) in [
            ("2026-11-27", 0),
            ("2026-11-27", 11),
            ("2026-11-27", 12),
            ("2026-02-28", 1),
            ("2026-04-30", 2),
            ("2026-11-27", 60),
        ] {
            let on = d(on);
            let b = born_on_or_before_for_months(on, m);
            assert!(months(b, on) >= m);
            assert!(months(b.succ_opt().unwrap(), on) < m);
        }
    }
}
