//! Mongolia's school year and grades, as MICS's education indicators read them: ages are taken on
//! the first day of the school year, and a pupil's grade is followed from the one recorded at
//! enrolment.
//!
//! General education has 12 grades: primary 1-5 (entry at 6), lower secondary 6-9, upper
//! secondary 10-12. A pupil moves up one grade each school year — Mongolia's schools promote
//! every pupil (repetition is not practised in general education) — until an enrolment records
//! another grade; a repeated or skipped year is recorded as a new enrolment.

use chrono::{Datelike, NaiveDate};
use std::ops::RangeInclusive;

/// The service type of an enrolment in general education, the one enrolment with a grade number.
pub const ENROLMENT_TYPE: &str = "SCHOOL_ENROLMENT";

/// The grades of general education.
pub const GRADES: RangeInclusive<i32> = 1..=12;

/// The first grade of lower secondary education.
pub const LOWER_SECONDARY: i32 = 6;

/// Mongolia's school year starts on 1 September.
const SCHOOL_YEAR_MONTH: u32 = 9;

/// The first day of Mongolia's school year holding `on`: 1 September of its year, or of the year
/// before when `on` is earlier in the year (MICS takes education ages on it).
pub fn school_year_start(on: NaiveDate) -> NaiveDate {
    let this_year = NaiveDate::from_ymd_opt(on.year(), SCHOOL_YEAR_MONTH, 1).unwrap_or(on);
    if on >= this_year { this_year } else { this_year.with_year(on.year() - 1).unwrap_or(this_year) }
}

/// The school year holding `on`, named by the calendar year it starts in (2026 for 2026/27).
pub fn school_year(on: NaiveDate) -> i32 {
    school_year_start(on).year()
}

/// The school year a pupil recorded in `grade` on `started_on` attended (or would have attended)
/// grade 1: what the store keeps (`enrolment.first_grade_year`), so a grade on any date is a
/// comparison of one column.
pub fn first_grade_year(started_on: NaiveDate, grade: i32) -> i32 {
    school_year(started_on) - grade + 1
}

/// The grade a pupil attends on `on`, from `first_grade_year`.
pub fn grade_on(first_grade_year: i32, on: NaiveDate) -> i32 {
    school_year(on) - first_grade_year + 1
}

/// The latest `first_grade_year` of a pupil attending `grade` or higher on `on`.
pub fn first_grade_year_for(grade: i32, on: NaiveDate) -> i32 {
    school_year(on) - grade + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_school_year_starts_on_1_september() {
        assert_eq!(school_year_start(d(2026, 8, 31)), d(2025, 9, 1));
        assert_eq!(school_year_start(d(2026, 9, 1)), d(2026, 9, 1));
        assert_eq!(school_year_start(d(2027, 2, 28)), d(2026, 9, 1));
        assert_eq!((school_year(d(2026, 8, 31)), school_year(d(2026, 9, 1))), (2025, 2026));
    }

    #[test]
    fn a_pupil_moves_up_a_grade_on_each_1_september() {
        // Enrolled in grade 5 in March 2026 (school year 2025/26).
        let first = first_grade_year(d(2026, 3, 10), 5);
        assert_eq!(first, 2021);
        assert_eq!(grade_on(first, d(2026, 3, 10)), 5);
        assert_eq!(grade_on(first, d(2026, 8, 31)), 5);
        assert_eq!(grade_on(first, d(2026, 9, 1)), LOWER_SECONDARY);
        assert_eq!(grade_on(first, d(2027, 8, 31)), 6);
        for on in [d(2026, 8, 31), d(2026, 9, 1), d(2030, 1, 1)] {
            for grade in GRADES {
                assert_eq!(
                    grade_on(first, on) >= grade,
                    first <= first_grade_year_for(grade, on),
                    "grade {grade} on {on}"
                );
            }
        }
    }
}
