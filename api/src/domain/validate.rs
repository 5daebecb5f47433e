//! Field checks shared by every write path (single mutations today, sync batches later):
//! formats of identifiers and the physically possible ranges of measurements.

use crate::error::Problems;
use chrono::NaiveDate;

/// The earliest date the service accepts for anything (births of the oldest living people).
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("valid date"),
};

/// A date that happened: not in the future, not before 1900.
pub fn past_date(p: &mut Problems, path: &str, date: NaiveDate, today: NaiveDate) {
    if date > today {
        p.add(path, "must not be in the future");
    } else if date < EARLIEST_DATE {
        p.add(path, "must not be before 1900-01-01");
    }
}

/// Mongolian civil registry number: two Cyrillic letters then eight digits (e.g. УБ99032512).
/// Returns the normalised (upper-case) form.
pub fn registry_number(p: &mut Problems, path: &str, raw: &str) -> String {
    let value: String = raw.trim().to_uppercase();
    let chars: Vec<char> = value.chars().collect();
    let ok = chars.len() == 10
        && chars[..2].iter().all(|c| ('А'..='Я').contains(c) || matches!(c, 'Ё' | 'Ө' | 'Ү'))
        && chars[2..].iter().all(|c| c.is_ascii_digit());
    if !ok {
        p.add(path, "must be two Cyrillic letters followed by eight digits");
    }
    value
}

/// A Mongolian phone number: eight digits, optionally after +976. Returns the eight digits.
pub fn phone(p: &mut Problems, path: &str, raw: &str) -> String {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let local = digits.strip_prefix("+976").unwrap_or(&digits);
    if local.len() != 8 || !local.chars().all(|c| c.is_ascii_digit()) {
        p.add(path, "must be eight digits, optionally after +976");
    }
    local.to_string()
}

/// Ranges outside which a value cannot be a real measurement of a person: rejected. Values
/// inside them but outside WHO's tables are stored, with the z-scores left null.
pub const WEIGHT_KG: (f64, f64) = (0.2, 250.0);
pub const LENGTH_HEIGHT_CM: (f64, f64) = (20.0, 250.0);
pub const MUAC_MM: (f64, f64) = (50.0, 500.0);

pub fn in_range(p: &mut Problems, path: &str, value: Option<f64>, (lo, hi): (f64, f64), unit: &str) {
    if value.is_some_and(|v| !v.is_finite() || v < lo || v > hi) {
        p.add(path, format!("must be between {lo} and {hi} {unit}"));
    }
}

/// Trimmed text, or an error when it is blank or longer than `max` characters.
pub fn text(p: &mut Problems, path: &str, raw: &str, max: usize) -> String {
    let t = raw.trim().to_string();
    if t.is_empty() {
        p.add(path, "must not be blank");
    } else if t.chars().count() > max {
        p.add(path, format!("must be at most {max} characters"));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked_and_normalised() {
        let mut p = Problems::default();
        assert_eq!(registry_number(&mut p, "r", " уб99032512 "), "УБ99032512");
        assert_eq!(phone(&mut p, "t", "+976 9911-2233"), "99112233");
        assert!(p.into_result().is_ok());
        let mut p = Problems::default();
        registry_number(&mut p, "r", "AB99032512");
        phone(&mut p, "t", "12345");
        in_range(&mut p, "w", Some(0.0), WEIGHT_KG, "kg");
        in_range(&mut p, "h", Some(400.0), LENGTH_HEIGHT_CM, "cm");
        in_range(&mut p, "m", Some(f64::NAN), MUAC_MM, "mm");
        let Err(crate::error::ApiError::Validation(errors)) = p.into_result() else { panic!() };
        assert_eq!(errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), ["r", "t", "w", "h", "m"]);
    }
}
