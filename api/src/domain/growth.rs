//! Growth measurements as the service stores and charts them: its vocabularies mapped onto the WHO z-score module, the z-score columns a measurement carries, and the chart's age grid.

use super::vocab::{GrowthIndicator, GrowthReference, GrowthSeverity, MeasurementPosition, Sex};
use super::zscore::{self, CurvePoint, GrowthInput, GrowthResult, Indicator, Position, Severity};
use crate::error::Problems;
use chrono::NaiveDate;

/// Chart grid: a point a week under 2 years, a point every 30 days after.
pub const CHART_STEP_UNDER_2_DAYS: i64 = 7;
pub const CHART_STEP_OVER_2_DAYS: i64 = 30;
/// Length (under 731 days) turns into height on this day, with a step in the curves.
const FIRST_HEIGHT_DAY: i64 = 731;

/// The WHO module's input for a measurement described in the service's vocabularies.
pub fn input(
    sex: Sex,
    age_days: Option<i64>,
    weight_kg: Option<f64>,
    length_height_cm: Option<f64>,
    position: Option<MeasurementPosition>,
    oedema: bool,
) -> GrowthInput {
    GrowthInput {
        sex: who_sex(sex),
        age_days,
        weight_kg,
        length_height_cm,
        position: position.map(|p| match p {
            MeasurementPosition::Lying => Position::Lying,
            MeasurementPosition::Standing => Position::Standing,
        }),
        oedema,
    }
}

pub fn who_sex(sex: Sex) -> zscore::Sex {
    match sex {
        Sex::Male => zscore::Sex::Male,
        Sex::Female => zscore::Sex::Female,
    }
}

pub fn reference(r: zscore::Reference) -> GrowthReference {
    match r {
        zscore::Reference::Who2006 => GrowthReference::Who2006,
        zscore::Reference::Who2007 => GrowthReference::Who2007,
    }
}

pub fn severity(s: Severity) -> GrowthSeverity {
    match s {
        Severity::None => GrowthSeverity::None,
        Severity::Moderate => GrowthSeverity::Moderate,
        Severity::Severe => GrowthSeverity::Severe,
    }
}

pub fn indicator(i: GrowthIndicator) -> Indicator {
    match i {
        GrowthIndicator::WeightForAge => Indicator::WeightForAge,
        GrowthIndicator::LengthHeightForAge => Indicator::LengthHeightForAge,
        GrowthIndicator::BmiForAge => Indicator::BmiForAge,
    }
}

/// What a growth measurement stores besides the measured values: its age, the WHO z-scores
/// (rounded to 2 decimals), WHO's plausibility flags and the classification.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stored {
    pub age_days: Option<i64>,
    pub reference: Option<GrowthReference>,
    pub weight_for_age: Option<f64>,
    pub length_height_for_age: Option<f64>,
    pub weight_for_length_height: Option<f64>,
    pub bmi_for_age: Option<f64>,
    pub flag_weight_for_age: bool,
    pub flag_length_height_for_age: bool,
    pub flag_weight_for_length_height: bool,
    pub flag_bmi_for_age: bool,
    pub standing_under_9_months: bool,
    /// A value was given but WHO's tables do not cover it (age over 19 years or under 0, or a
    /// length/height outside the weight-for-length/height table): its z-scores are null.
    pub outside_who_range: bool,
    pub stunting: Option<GrowthSeverity>,
    pub wasting: Option<GrowthSeverity>,
    pub underweight: Option<GrowthSeverity>,
    pub thinness: Option<GrowthSeverity>,
    pub overweight: Option<bool>,
    pub obesity: Option<bool>,
}

/// Computes what a measurement stores.
pub fn stored(input: &GrowthInput) -> Stored {
    let r = zscore::compute(input);
    from_result(input, &r)
}

pub fn from_result(input: &GrowthInput, r: &GrowthResult) -> Stored {
    let c = r.classification;
    Stored {
        age_days: input.age_days,
        reference: r.reference.map(reference),
        weight_for_age: r.weight_for_age,
        length_height_for_age: r.length_height_for_age,
        weight_for_length_height: r.weight_for_length_height,
        bmi_for_age: r.bmi_for_age,
        flag_weight_for_age: r.flags.weight_for_age,
        flag_length_height_for_age: r.flags.length_height_for_age,
        flag_weight_for_length_height: r.flags.weight_for_length_height,
        flag_bmi_for_age: r.flags.bmi_for_age,
        standing_under_9_months: r.flags.standing_under_9_months,
        outside_who_range: outside_who_range(input, r),
        stunting: c.stunting.map(severity),
        wasting: c.wasting.map(severity),
        underweight: c.underweight.map(severity),
        thinness: c.thinness.map(severity),
        overweight: c.overweight,
        obesity: c.obesity,
    }
}

/// Whether a value the WHO references could have scored lies outside their tables: an age
/// outside 0..=6939 days, or a weight with a length/height outside the weight-for-length (45-110
/// cm) or weight-for-height (65-120 cm) table chosen for the age.
pub fn outside_who_range(input: &GrowthInput, r: &GrowthResult) -> bool {
    let weight = input.weight_kg.is_some_and(|w| w.is_finite() && w > 0.0);
    let length = input.length_height_cm.is_some_and(|h| h.is_finite() && h > 0.0);
    if r.reference.is_none() {
        return weight || length;
    }
    weight
        && !input.oedema
        && r.wflh_table.is_some()
        && r.corrected_length_height_cm.is_some()
        && r.weight_for_length_height.is_none()
}

/// The age of a `growthZScores` question: `ageDays`, or `birthDate` and `measuredOn`, or none
/// (then only weight-for-length/height is computed, as WHO does). Problems go to `p`.
pub fn query_age(
    p: &mut Problems,
    age_days: Option<i32>,
    birth_date: Option<NaiveDate>,
    measured_on: Option<NaiveDate>,
) -> Option<i64> {
    match (age_days, birth_date, measured_on) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            p.add("input.ageDays", "give ageDays or birthDate and measuredOn, not both");
            None
        }
        (Some(a), None, None) => {
            if a < 0 {
                p.add("input.ageDays", "must not be negative");
            }
            Some(i64::from(a))
        }
        (None, Some(b), Some(m)) => {
            if m < b {
                p.add("input.measuredOn", "must not be before the birth date");
            }
            Some((m - b).num_days())
        }
        (None, Some(_), None) => {
            p.add("input.measuredOn", "is required with birthDate");
            None
        }
        (None, None, Some(_)) => {
            p.add("input.birthDate", "is required with measuredOn");
            None
        }
        (None, None, None) => None,
    }
}

/// The value a chart plots for an indicator: weight, the length/height after WHO's +-0.7 cm
/// rule, or BMI.
pub fn chart_value(indicator: GrowthIndicator, input: &GrowthInput, r: &GrowthResult) -> Option<f64> {
    match indicator {
        GrowthIndicator::WeightForAge => input.weight_kg,
        GrowthIndicator::LengthHeightForAge => r.corrected_length_height_cm,
        GrowthIndicator::BmiForAge => r.bmi,
    }
}

/// The z-score of a stored measurement for an indicator.
pub fn chart_z(indicator: GrowthIndicator, s: &Stored) -> (Option<f64>, bool) {
    match indicator {
        GrowthIndicator::WeightForAge => (s.weight_for_age, s.flag_weight_for_age),
        GrowthIndicator::LengthHeightForAge => (s.length_height_for_age, s.flag_length_height_for_age),
        GrowthIndicator::BmiForAge => (s.bmi_for_age, s.flag_bmi_for_age),
    }
}

/// Ages (days) at which a chart up to `to_age_days` draws the reference curves: every week
/// under 2 years, every 30 days after, plus both sides of the steps at 730/731 days (length to
/// height) and 1826/1827 days (WHO 2006 to 2007) and the last day.
pub fn chart_ages(to_age_days: i64) -> Vec<i64> {
    let to = to_age_days.max(0);
    let mut ages: Vec<i64> = (0..FIRST_HEIGHT_DAY.min(to + 1)).step_by(CHART_STEP_UNDER_2_DAYS as usize).collect();
    let mut age = FIRST_HEIGHT_DAY;
    while age <= to {
        ages.push(age);
        age += CHART_STEP_OVER_2_DAYS;
    }
    for edge in [FIRST_HEIGHT_DAY - 1, zscore::MAX_AGE_DAYS_WHO2006, zscore::MAX_AGE_DAYS_WHO2006 + 1, to] {
        if edge <= to {
            ages.push(edge);
        }
    }
    ages.sort_unstable();
    ages.dedup();
    ages
}

/// The WHO -3..=+3 SD curves for a chart up to `to_age_days` (ages where the indicator is not
/// defined are left out).
pub fn chart_curves(sex: Sex, indicator: GrowthIndicator, to_age_days: i64) -> Vec<CurvePoint> {
    let (sex, indicator) = (who_sex(sex), self::indicator(indicator));
    chart_ages(to_age_days).into_iter().flat_map(|age| zscore::reference_curves(sex, indicator, age, age, 1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(age: i64, weight: f64, lenhei: f64) -> GrowthInput {
        input(Sex::Female, Some(age), Some(weight), Some(lenhei), Some(MeasurementPosition::Lying), false)
    }

    #[test]
    fn stored_carries_the_z_scores_and_classification() {
        let s = stored(&measure(500, 9.0, 76.0));
        assert_eq!(s.reference, Some(GrowthReference::Who2006));
        assert_eq!(s.age_days, Some(500));
        assert!(s.weight_for_age.is_some() && s.weight_for_length_height.is_some());
        assert!(s.stunting.is_some() && s.wasting.is_some() && s.overweight.is_some());
        assert!(!s.outside_who_range);
    }

    #[test]
    fn values_outside_the_who_tables_are_flagged_not_scored() {
        // 44 cm is below the weight-for-length table (45-110 cm).
        let s = stored(&measure(3, 2.4, 44.0));
        assert_eq!(s.weight_for_length_height, None);
        assert!(s.outside_who_range);
        assert!(s.length_height_for_age.is_some());
        // 20 years old: no reference at all.
        let s = stored(&measure(7305, 60.0, 170.0));
        assert_eq!((s.reference, s.weight_for_age, s.bmi_for_age), (None, None, None));
        assert!(s.outside_who_range);
        // Over 10 years WHO defines no weight-for-age: not a range problem.
        let s = stored(&measure(4000, 35.0, 145.0));
        assert_eq!(s.weight_for_age, None);
        assert!(!s.outside_who_range);
        // Oedema leaves weight-based scores out on purpose.
        let mut i = measure(500, 9.0, 76.0);
        i.oedema = true;
        assert!(!stored(&i).outside_who_range);
    }

    #[test]
    fn the_age_of_a_question_comes_one_way() {
        let d = |s: &str| s.parse::<NaiveDate>().ok();
        let mut p = Problems::default();
        assert_eq!(query_age(&mut p, Some(10), None, None), Some(10));
        assert_eq!(query_age(&mut p, None, d("2026-01-01"), d("2026-01-31")), Some(30));
        assert_eq!(query_age(&mut p, None, None, None), None);
        assert!(p.into_result().is_ok());
        for (a, b, m) in [
            (Some(-1), None, None),
            (Some(3), d("2026-01-01"), None),
            (None, d("2026-01-01"), None),
            (None, d("2026-02-01"), d("2026-01-01")),
        ] {
            let mut p = Problems::default();
            query_age(&mut p, a, b, m);
            assert!(p.into_result().is_err(), "{a:?} {b:?} {m:?}");
        }
    }

    #[test]
    fn chart_grid_is_weekly_then_monthly_with_the_steps() {
        let ages = chart_ages(800);
        assert_eq!(&ages[..3], &[0, 7, 14]);
        assert!(ages.contains(&730) && ages.contains(&731) && ages.contains(&761));
        assert_eq!(ages.last(), Some(&800));
        assert!(ages.windows(2).all(|w| w[0] < w[1]));
        let five_years = chart_ages(1900);
        assert!(five_years.contains(&1826) && five_years.contains(&1827));
        assert!(five_years.len() < 180, "{}", five_years.len());
        let curves = chart_curves(Sex::Male, GrowthIndicator::WeightForAge, 100);
        assert_eq!(curves[0].sd[3], 3.3464);
        assert_eq!(curves.last().map(|c| c.age_days), Some(100));
        // Weight-for-age stops at 10 years.
        let curves = chart_curves(Sex::Male, GrowthIndicator::WeightForAge, 5000);
        assert!(curves.iter().all(|c| c.age_days <= 3652));
    }
}
