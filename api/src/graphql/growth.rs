//! GraphQL types of WHO growth z-scores: the `growthZScores` question and answer, the classification and flags a measurement carries, and growth charts with their reference curves.

use crate::domain::growth::{self, Stored};
use crate::domain::validate;
use crate::domain::vocab::{GrowthIndicator, GrowthReference, GrowthSeverity, MeasurementPosition, Sex};
use crate::domain::zscore;
use crate::error::{ApiResult, Problems};
use crate::store::growth::Chart;
use async_graphql::{InputObject, SimpleObject};
use chrono::NaiveDate;
use uuid::Uuid;

/// A measurement to score against the WHO references (nothing is stored).
#[derive(InputObject)]
#[graphql(name = "GrowthInput")]
pub struct GrowthQuestion {
    /// The child's sex.
    pub sex: Sex,
    /// Age in whole days on the day of measurement; or give birthDate and measuredOn. Without an
    /// age only weight-for-length/height is computed, as WHO does.
    pub age_days: Option<i32>,
    /// The birth date, with `measuredOn` (instead of `ageDays`).
    pub birth_date: Option<NaiveDate>,
    /// The day of the measurement, with `birthDate`.
    pub measured_on: Option<NaiveDate>,
    /// Weight in kg (0.2 to 250).
    pub weight_kg: Option<f64>,
    /// Length or height in cm as measured (20 to 250).
    pub length_height_cm: Option<f64>,
    /// LYING or STANDING; when absent WHO assumes LYING under 2 years and STANDING from 2.
    pub position: Option<MeasurementPosition>,
    /// Bilateral pitting oedema: no weight-based z-scores, counted as severe wasting.
    #[graphql(default)]
    pub oedema: bool,
}

impl GrowthQuestion {
    /// Validates the question and answers it.
    pub fn answer(&self) -> ApiResult<GrowthZScores> {
        let mut p = Problems::default();
        let age = growth::query_age(&mut p, self.age_days, self.birth_date, self.measured_on);
        validate::in_range(&mut p, "input.weightKg", self.weight_kg, validate::WEIGHT_KG, "kg");
        validate::in_range(&mut p, "input.lengthHeightCm", self.length_height_cm, validate::LENGTH_HEIGHT_CM, "cm");
        p.into_result()?;
        let input = growth::input(self.sex, age, self.weight_kg, self.length_height_cm, self.position, self.oedema);
        let result = zscore::compute(&input);
        let stored = growth::from_result(&input, &result);
        Ok(GrowthZScores {
            reference: stored.reference,
            age_days: age,
            corrected_length_height_cm: result.corrected_length_height_cm,
            bmi: result.bmi,
            weight_for_age: stored.weight_for_age,
            length_height_for_age: stored.length_height_for_age,
            weight_for_length_height: stored.weight_for_length_height,
            bmi_for_age: stored.bmi_for_age,
            classification: GrowthClassification::from(&stored),
            flags: GrowthFlags::from(&stored),
        })
    }
}

/// WHO z-scores of a measurement, each rounded to 2 decimals (null: not defined for this age or
/// length, a missing value, or oedema for the weight-based ones).
#[derive(SimpleObject)]
pub struct GrowthZScores {
    /// WHO_2006 (Child Growth Standards, to 1826 days) or WHO_2007 (Growth Reference, 1827 to
    /// 6939 days); null outside them.
    pub reference: Option<GrowthReference>,
    /// The age used, in whole days; null when none was given.
    pub age_days: Option<i64>,
    /// Length/height after WHO's rule: +0.7 cm standing under 2 years, -0.7 cm lying from 2.
    pub corrected_length_height_cm: Option<f64>,
    /// kg/m2 from the corrected length/height.
    pub bmi: Option<f64>,
    /// Weight-for-age z-score (WAZ): defined to 10 years.
    pub weight_for_age: Option<f64>,
    /// Length/height-for-age z-score (HAZ), on the corrected length/height.
    pub length_height_for_age: Option<f64>,
    /// Weight-for-length/height z-score (WHZ): under 5 years (or without an age), for 45-110 cm
    /// lying or 65-120 cm standing.
    pub weight_for_length_height: Option<f64>,
    /// BMI-for-age z-score (BAZ).
    pub bmi_for_age: Option<f64>,
    /// The WHO classification of these z-scores.
    pub classification: GrowthClassification,
    /// WHO's plausibility flags, and whether a value is outside WHO's tables.
    pub flags: GrowthFlags,
}

/// WHO classification on the rounded z-scores (strict inequalities; null: not assessable, or
/// its z-score is flagged implausible). Under 5: stunting HAZ, wasting WHZ, underweight WAZ (below
/// -2 moderate, below -3 severe; oedema is severe wasting), overweight WHZ > +2, obesity WHZ > +3.
/// 5-19 years: stunting HAZ, thinness BAZ, overweight BAZ > +1, obesity BAZ > +2.
#[derive(SimpleObject)]
pub struct GrowthClassification {
    /// From HAZ: below -2 MODERATE, below -3 SEVERE.
    pub stunting: Option<GrowthSeverity>,
    /// Under 5, from WHZ: below -2 MODERATE, below -3 (or oedema) SEVERE.
    pub wasting: Option<GrowthSeverity>,
    /// Under 5, from WAZ: below -2 MODERATE, below -3 (or oedema) SEVERE.
    pub underweight: Option<GrowthSeverity>,
    /// 5-19 years, from BAZ: below -2 MODERATE, below -3 (or oedema) SEVERE.
    pub thinness: Option<GrowthSeverity>,
    /// Under 5: WHZ above +2; 5-19 years: BAZ above +1.
    pub overweight: Option<bool>,
    /// Under 5: WHZ above +3; 5-19 years: BAZ above +2.
    pub obesity: Option<bool>,
}

impl From<&Stored> for GrowthClassification {
    fn from(s: &Stored) -> Self {
        Self {
            stunting: s.stunting,
            wasting: s.wasting,
            underweight: s.underweight,
            thinness: s.thinness,
            overweight: s.overweight,
            obesity: s.obesity,
        }
    }
}

/// WHO's plausibility flags (true: the z-score is probably a measurement error), and the
/// service's own flag for values outside WHO's tables.
#[derive(SimpleObject)]
pub struct GrowthFlags {
    /// WAZ < -6 or > +5.
    pub weight_for_age: bool,
    /// |HAZ| > 6.
    pub length_height_for_age: bool,
    /// |WHZ| > 5.
    pub weight_for_length_height: bool,
    /// |BAZ| > 5.
    pub bmi_for_age: bool,
    /// Standing height under 9 months: treated as an unknown position, not corrected.
    pub standing_under_9_months: bool,
    /// A value was given that WHO's tables do not cover (age over 19 years, or a length/height
    /// outside the weight-for-length/height table): its z-scores are null.
    pub outside_who_range: bool,
}

impl From<&Stored> for GrowthFlags {
    fn from(s: &Stored) -> Self {
        Self {
            weight_for_age: s.flag_weight_for_age,
            length_height_for_age: s.flag_length_height_for_age,
            weight_for_length_height: s.flag_weight_for_length_height,
            bmi_for_age: s.flag_bmi_for_age,
            standing_under_9_months: s.standing_under_9_months,
            outside_who_range: s.outside_who_range,
        }
    }
}

/// A child's growth chart: measurements and the WHO curves to draw them on.
#[derive(SimpleObject)]
pub struct GrowthChart {
    /// What is charted.
    pub indicator: GrowthIndicator,
    /// The child's sex: the curves are this sex's.
    pub sex: Sex,
    /// The child's measurements, oldest first.
    pub points: Vec<GrowthChartPoint>,
    /// WHO reference curves for the child's sex, from birth to the child's age (or the last
    /// measurement): weekly under 2 years, every 30 days after, with both sides of the steps at
    /// 730/731 days (length to height) and 1826/1827 days (WHO 2006 to 2007).
    pub curves: Vec<GrowthCurvePoint>,
}

/// One measurement on a growth chart.
#[derive(SimpleObject)]
pub struct GrowthChartPoint {
    /// The measurement's id (a pseudonym for callers who see data de-identified, as
    /// `GrowthMeasurement.id`).
    pub id: Uuid,
    /// The day it was measured.
    pub date: NaiveDate,
    /// The child's age that day, in whole days.
    pub age_days: i64,
    /// Weight (kg), length/height after the +-0.7 cm rule (cm) or BMI (kg/m2).
    pub value: Option<f64>,
    /// The stored z-score for this indicator.
    pub z_score: Option<f64>,
    /// WHO's plausibility flag for this indicator.
    pub flagged: bool,
}

/// The values of the -3 to +3 SD curves at one age (4 decimals).
#[derive(SimpleObject)]
pub struct GrowthCurvePoint {
    /// The age, in days.
    pub age_days: i64,
    /// The -3 SD curve, in the indicator's unit (kg, cm or kg/m²).
    pub sd_minus3: f64,
    /// The -2 SD curve.
    pub sd_minus2: f64,
    /// The -1 SD curve.
    pub sd_minus1: f64,
    /// The median.
    pub median: f64,
    /// The +1 SD curve.
    pub sd_plus1: f64,
    /// The +2 SD curve.
    pub sd_plus2: f64,
    /// The +3 SD curve.
    pub sd_plus3: f64,
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

impl GrowthChart {
    /// The chart as the caller may see it: `shown` gives each measurement's id as the caller's
    /// other fields do (a pseudonym for callers who see data de-identified).
    pub fn new(indicator: GrowthIndicator, sex: Sex, chart: Chart) -> Self {
        Self {
            indicator,
            sex,
            points: chart
                .points
                .into_iter()
                .map(|p| GrowthChartPoint {
                    id: p.measurement_id,
                    date: p.date,
                    age_days: p.age_days,
                    value: p.value,
                    z_score: p.z_score,
                    flagged: p.flagged,
                })
                .collect(),
            curves: chart
                .curves
                .into_iter()
                .map(|c| GrowthCurvePoint {
                    age_days: c.age_days,
                    sd_minus3: round4(c.sd[0]),
                    sd_minus2: round4(c.sd[1]),
                    sd_minus1: round4(c.sd[2]),
                    median: round4(c.sd[3]),
                    sd_plus1: round4(c.sd[4]),
                    sd_plus2: round4(c.sd[5]),
                    sd_plus3: round4(c.sd[6]),
                })
                .collect(),
        }
    }
}
