//! WHO child growth z-scores (2006 standards, 2007 reference) computed exactly as WHO anthro/anthroplus do, from embedded LMS tables; pure code that never touches the database.

// Rules (WHO `anthro` 1.1.0.9000 and `anthroplus` 1.0.0.9000, see the
// README that came with the tables):
//
// * age is used in whole days; months = days / 30.4375;
// * age <= 1826 days: WHO 2006 standards, looked up by day;
//   1827..=6939 days: WHO 2007 reference, interpolated between whole months
//   (weight-for-age only up to 120 months); older or negative: nothing;
// * recumbent length vs standing height: +0.7 cm when measured standing under
//   731 days, -0.7 cm when measured lying from 731 days; a standing
//   measurement under 9 months is treated as an unknown position (no
//   correction, `standing_under_9_months` flag), as in anthro >= 1.1.0;
// * weight-for-length (< 731 days) or weight-for-height (>= 731 days) chosen
//   by age, valid 45.0..=110.0 cm and 65.0..=120.0 cm on the corrected value,
//   with L, M, S interpolated between 0.1 cm rows;
// * restricted LMS beyond +-3 SD for the weight-based indicators only;
// * oedema: no weight-based z-scores, counted as severe (< -3 SD);
// * z-scores are rounded to 2 decimals like R's `round(z, 2)`; plausibility
//   flags and cut-offs (strict inequalities) use the rounded value.

use std::sync::LazyLock;

/// Days per month used by WHO (365.25 / 12).
pub const DAYS_PER_MONTH: f64 = 30.4375;
/// Oldest age (days) covered by the WHO 2006 standards (age in months < 60).
pub const MAX_AGE_DAYS_WHO2006: i64 = 1826;
/// Oldest age (days) covered by the WHO 2007 reference (age in months <= 228).
pub const MAX_AGE_DAYS_WHO2007: i64 = 6939;
/// First day at which the 2006 standards are height-based (24 months).
const FIRST_HEIGHT_DAY: i64 = 731;
/// Length/height correction between lying and standing measurements (cm).
const POSITION_CORRECTION_CM: f64 = 0.7;
/// Upper age limit (months, inclusive) of the WHO 2007 weight-for-age.
const WFA_2007_MAX_MONTHS: f64 = 120.0;
/// Upper age limit (months, inclusive) of the WHO 2007 HFA and BMI-for-age.
const HFA_BMI_2007_MAX_MONTHS: f64 = 228.0;
/// Lower age limit (months, inclusive) of the WHO 2007 reference.
const WHO2007_MIN_MONTHS: f64 = 60.0;
/// Without an age, lengths below this use the WFL table, otherwise WFH.
const UNKNOWN_AGE_WFL_BELOW_CM: f64 = 87.0;
/// Valid range of the weight-for-length table (cm, inclusive).
const WFL_RANGE_CM: (f64, f64) = (45.0, 110.0);
/// Valid range of the weight-for-height table (cm, inclusive).
const WFH_RANGE_CM: (f64, f64) = (65.0, 120.0);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
}

/// Measurement position as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Position {
    /// Recumbent length.
    Lying,
    /// Standing height.
    Standing,
}

/// Which WHO growth reference produced the z-scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reference {
    /// WHO Child Growth Standards 2006 (0 to 1826 days, or age unknown).
    Who2006,
    /// WHO Growth Reference 2007 (1827 to 6939 days).
    Who2007,
}

/// Which 2006 table was used for weight-for-length/height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WflhTable {
    /// Weight-for-length (under 731 days), 45.0..=110.0 cm.
    Wfl,
    /// Weight-for-height (731 days and over), 65.0..=120.0 cm.
    Wfh,
}

/// Age-based indicators for [`reference_curves`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Indicator {
    WeightForAge,
    LengthHeightForAge,
    BmiForAge,
}

/// Severity of an undernutrition finding (`z < -2` moderate, `z < -3` severe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// Assessed, and not below -2 SD.
    None,
    /// Below -2 SD but not below -3 SD.
    Moderate,
    /// Below -3 SD (or oedema, for the weight-based indicators).
    Severe,
}

/// One child measurement. Missing values are `None`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrowthInput {
    pub sex: Sex,
    /// Age in whole days (date of visit minus date of birth). WHO rounds
    /// fractional days half up before calling this.
    pub age_days: Option<i64>,
    pub weight_kg: Option<f64>,
    pub length_height_cm: Option<f64>,
    /// `None`: lying under 731 days, standing from 731 days (no correction).
    pub position: Option<Position>,
    /// Bilateral pitting oedema.
    pub oedema: bool,
}

/// WHO plausibility flags (anthro/anthroplus `f*` columns), on the rounded z.
/// A flag is `false` when its z-score is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags {
    /// `z < -6 || z > 5`.
    pub weight_for_age: bool,
    /// `|z| > 6`.
    pub length_height_for_age: bool,
    /// `|z| > 5`.
    pub weight_for_length_height: bool,
    /// `|z| > 5`.
    pub bmi_for_age: bool,
    /// Standing height recorded under 9 months (anthro `c9mo_flag`): the
    /// position was treated as unknown and no 0.7 cm correction applied.
    pub standing_under_9_months: bool,
}

/// WHO classification from the rounded z-scores (strict inequalities).
///
/// `None` means "not assessable": the z-score is missing, flagged as
/// implausible (WHO leaves flagged values out), or the indicator does not
/// apply at this age. Under 5 (WHO 2006): stunting (HAZ), wasting (WHZ),
/// underweight (WAZ), overweight `WHZ > +2`, obesity `WHZ > +3`.
/// 5-19 years (WHO 2007): stunting (HFA), thinness (BAZ), overweight
/// `BAZ > +1`, obesity `BAZ > +2`. As with the WHO cut-offs, an obese child is
/// also overweight. Oedema counts as severe wasting and severe underweight
/// (under 5) or severe thinness (5-19), and never as overweight/obese.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Classification {
    pub stunting: Option<Severity>,
    pub wasting: Option<Severity>,
    pub underweight: Option<Severity>,
    pub thinness: Option<Severity>,
    pub overweight: Option<bool>,
    pub obesity: Option<bool>,
}

/// Output of [`compute`]. Z-scores are rounded to 2 decimals; `None` means
/// not defined (missing input, out of range, or oedema).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GrowthResult {
    /// `None` when the age is negative or over 6939 days (nothing computed).
    pub reference: Option<Reference>,
    /// Length/height after the +-0.7 cm rule (anthro `clenhei`).
    pub corrected_length_height_cm: Option<f64>,
    /// BMI (kg/m^2) from the corrected length/height, unrounded.
    pub bmi: Option<f64>,
    pub weight_for_age: Option<f64>,
    pub length_height_for_age: Option<f64>,
    pub weight_for_length_height: Option<f64>,
    /// Table used (or that would be used) for weight-for-length/height.
    pub wflh_table: Option<WflhTable>,
    pub bmi_for_age: Option<f64>,
    pub flags: Flags,
    pub classification: Classification,
}

/// One point of the reference curves: the -3..=+3 SD values (index 0 is -3 SD,
/// index 3 the median, index 6 is +3 SD).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    pub age_days: i64,
    pub sd: [f64; 7],
}

// ---------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
struct Lms {
    l: f64,
    m: f64,
    s: f64,
}

impl Lms {
    fn lerp(self, upper: Lms, t: f64) -> Lms {
        Lms {
            l: self.l + t * (upper.l - self.l),
            m: self.m + t * (upper.m - self.m),
            s: self.s + t * (upper.s - self.s),
        }
    }
}

/// Rows indexed by `key - first_key`, one vector per sex. The key is a day, a
/// month or a length in millimetres (tenths of a cm).
struct Table {
    first_key: i64,
    rows: [Vec<Lms>; 2],
}

impl Table {
    fn get(&self, sex: Sex, key: i64) -> Option<Lms> {
        let index = usize::try_from(key.checked_sub(self.first_key)?).ok()?;
        self.rows[sex_index(sex)].get(index).copied()
    }
}

struct Tables {
    wfa_2006: Table,
    lhfa_2006: Table,
    bmi_2006: Table,
    wfl_2006: Table,
    wfh_2006: Table,
    wfa_2007: Table,
    hfa_2007: Table,
    bmi_2007: Table,
}

fn sex_index(sex: Sex) -> usize {
    match sex {
        Sex::Male => 0,
        Sex::Female => 1,
    }
}

/// Parses `sex,key,L,M,S` with a header line. `key_scale` is 1 for days and
/// months, 10 for lengths in cm (stored as millimetres). Rows of one sex must
/// be contiguous and consecutive from `first_key` to `last_key`. The data are
/// embedded at compile time, so a malformed file is a build defect: panic.
fn parse_table(name: &str, csv: &str, key_scale: f64, first_key: i64, last_key: i64) -> Table {
    fn fail(name: &str, line_no: usize, line: &str, what: &str) -> ! {
        panic!("{name}:{line_no}: {what}: {line:?}")
    }
    let mut rows: [Vec<Lms>; 2] = [Vec::new(), Vec::new()];
    for (index, line) in csv.lines().enumerate().skip(1) {
        if line.is_empty() {
            continue;
        }
        let line_no = index + 1;
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != 5 {
            fail(name, line_no, line, "expected 5 fields");
        }
        let number = |i: usize| -> f64 {
            fields[i].parse::<f64>().unwrap_or_else(|_| fail(name, line_no, line, "not a number"))
        };
        let sex = match fields[0] {
            "1" => 0,
            "2" => 1,
            _ => fail(name, line_no, line, "sex must be 1 or 2"),
        };
        let key = (number(1) * key_scale).round() as i64;
        if key != first_key + rows[sex].len() as i64 {
            fail(name, line_no, line, "rows are not consecutive");
        }
        rows[sex].push(Lms { l: number(2), m: number(3), s: number(4) });
    }
    let expected = (last_key - first_key + 1) as usize;
    assert!(rows.iter().all(|r| r.len() == expected), "{name}: expected {expected} rows per sex");
    Table { first_key, rows }
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| Tables {
    wfa_2006: parse_table(
        "who2006_wfa_by_day.csv",
        include_str!("../../data/who/who2006_wfa_by_day.csv"),
        1.0,
        0,
        MAX_AGE_DAYS_WHO2006,
    ),
    lhfa_2006: parse_table(
        "who2006_lhfa_by_day.csv",
        include_str!("../../data/who/who2006_lhfa_by_day.csv"),
        1.0,
        0,
        MAX_AGE_DAYS_WHO2006,
    ),
    bmi_2006: parse_table(
        "who2006_bmi_by_day.csv",
        include_str!("../../data/who/who2006_bmi_by_day.csv"),
        1.0,
        0,
        MAX_AGE_DAYS_WHO2006,
    ),
    wfl_2006: parse_table(
        "who2006_wfl_by_length.csv",
        include_str!("../../data/who/who2006_wfl_by_length.csv"),
        10.0,
        450,
        1100,
    ),
    wfh_2006: parse_table(
        "who2006_wfh_by_height.csv",
        include_str!("../../data/who/who2006_wfh_by_height.csv"),
        10.0,
        650,
        1200,
    ),
    wfa_2007: parse_table(
        "who2007_wfa_by_month.csv",
        include_str!("../../data/who/who2007_wfa_by_month.csv"),
        1.0,
        60,
        121,
    ),
    hfa_2007: parse_table(
        "who2007_hfa_by_month.csv",
        include_str!("../../data/who/who2007_hfa_by_month.csv"),
        1.0,
        60,
        229,
    ),
    bmi_2007: parse_table(
        "who2007_bmi_by_month.csv",
        include_str!("../../data/who/who2007_bmi_by_month.csv"),
        1.0,
        60,
        229,
    ),
});

/// WHO 2007: linear interpolation between whole months (anthroplus).
fn lms_by_month(table: &Table, sex: Sex, months: f64) -> Option<Lms> {
    let low = months.trunc();
    let upper = (months + 1.0).trunc();
    let diff = months - low;
    let lms = table.get(sex, low as i64)?;
    if diff > 0.0 { Some(lms.lerp(table.get(sex, upper as i64)?, diff)) } else { Some(lms) }
}

/// WHO 2006 WFL/WFH: interpolation between 0.1 cm rows, with the same
/// floating-point steps as anthro (`trunc(x * 10) / 10`, `trunc(x * 10 + 1)`).
fn lms_by_length(table: &Table, sex: Sex, cm: f64) -> Option<Lms> {
    let low_mm = (cm * 10.0).trunc();
    let upper_mm = (cm * 10.0 + 1.0).trunc();
    let diff = (cm - low_mm / 10.0) / 0.1;
    let lms = table.get(sex, low_mm as i64)?;
    if diff > 0.0 { Some(lms.lerp(table.get(sex, upper_mm as i64)?, diff)) } else { Some(lms) }
}

// ---------------------------------------------------------------------------
// LMS arithmetic
// ---------------------------------------------------------------------------

/// Unrestricted LMS z-score.
fn lms_z(y: f64, p: Lms) -> f64 {
    if p.l == 0.0 { (y / p.m).ln() / p.s } else { ((y / p.m).powf(p.l) - 1.0) / (p.s * p.l) }
}

/// Measurement at `k` SD: `M (1 + L S k)^(1/L)`, or `M exp(S k)` when L = 0.
fn lms_value(p: Lms, k: f64) -> f64 {
    if p.l == 0.0 { p.m * (p.s * k).exp() } else { p.m * (1.0 + p.l * p.s * k).powf(1.0 / p.l) }
}

/// Restricted application of the LMS method (weight-based indicators): beyond
/// +-3 SD the z-score is extrapolated linearly with the 2-3 SD distance.
fn lms_z_restricted(y: f64, p: Lms) -> f64 {
    let z = lms_z(y, p);
    if z > 3.0 {
        let sd3 = lms_value(p, 3.0);
        3.0 + (y - sd3) / (sd3 - lms_value(p, 2.0))
    } else if z < -3.0 {
        let sd3neg = lms_value(p, -3.0);
        -3.0 + (y - sd3neg) / (lms_value(p, -2.0) - sd3neg)
    } else {
        z
    }
}

/// `round(x, 2)` as R (>= 4.0.0) does it: take the nearer of the two 2-decimal
/// candidates around `x`; on an exact tie take the even one.
fn round2(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let (sign, ax) = if x < 0.0 { (-1.0, -x) } else { (1.0, x) };
    let x100 = ax * 100.0;
    let down100 = x100.floor();
    let down = down100 / 100.0;
    let up = x100.ceil() / 100.0;
    let (du, dd) = (up - ax, ax - down);
    let rounded = if du < dd || (du == dd && down100 % 2.0 == 1.0) { up } else { down };
    sign * rounded
}

/// Rounded z-score, or `None` if the arithmetic did not give a finite value.
fn finish(z: f64) -> Option<f64> {
    z.is_finite().then(|| round2(z))
}

fn positive(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite() && *v > 0.0)
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/// Computes the WHO z-scores, flags and classification for one measurement.
pub fn compute(input: &GrowthInput) -> GrowthResult {
    let age = input.age_days;
    let reference = match age {
        None => Reference::Who2006,
        Some(d) if (0..=MAX_AGE_DAYS_WHO2006).contains(&d) => Reference::Who2006,
        Some(d) if (MAX_AGE_DAYS_WHO2006 + 1..=MAX_AGE_DAYS_WHO2007).contains(&d) => Reference::Who2007,
        Some(_) => return GrowthResult::default(),
    };
    let tables = &*TABLES;
    let sex = input.sex;
    let months = age.map(|d| d as f64 / DAYS_PER_MONTH);

    // Standing under 9 months: position unknown, no correction (anthro >= 1.1.0).
    let standing_under_9_months = input.position == Some(Position::Standing) && months.is_some_and(|m| m < 9.0);
    let position = if standing_under_9_months { None } else { input.position };

    let weight = positive(input.weight_kg);
    let clenhei = positive(positive(input.length_height_cm).map(|h| match (age, position) {
        (Some(d), Some(Position::Standing)) if d < FIRST_HEIGHT_DAY => h + POSITION_CORRECTION_CM,
        (Some(d), Some(Position::Lying)) if d >= FIRST_HEIGHT_DAY => h - POSITION_CORRECTION_CM,
        _ => h,
    }));
    let bmi = match (weight, clenhei) {
        (Some(w), Some(h)) => {
            let metres = h / 100.0;
            Some(w / (metres * metres))
        }
        _ => None,
    };
    // Weight-based z-scores are not computed with oedema.
    let weight_z = if input.oedema { None } else { weight };
    let bmi_z = if input.oedema { None } else { bmi };

    let mut result = GrowthResult {
        reference: Some(reference),
        corrected_length_height_cm: clenhei,
        bmi,
        ..GrowthResult::default()
    };

    match (reference, age) {
        (Reference::Who2006, Some(day)) => {
            result.weight_for_age =
                weight_z.zip(tables.wfa_2006.get(sex, day)).and_then(|(w, p)| finish(lms_z_restricted(w, p)));
            result.length_height_for_age =
                clenhei.zip(tables.lhfa_2006.get(sex, day)).and_then(|(h, p)| finish(lms_z(h, p)));
            result.bmi_for_age =
                bmi_z.zip(tables.bmi_2006.get(sex, day)).and_then(|(b, p)| finish(lms_z_restricted(b, p)));
            result.wflh_table = Some(if day < FIRST_HEIGHT_DAY { WflhTable::Wfl } else { WflhTable::Wfh });
        }
        (Reference::Who2006, None) => {
            // Only weight-for-length/height can be computed without an age.
            result.wflh_table = match (position, clenhei) {
                (Some(Position::Lying), _) => Some(WflhTable::Wfl),
                (Some(Position::Standing), _) => Some(WflhTable::Wfh),
                (None, Some(h)) if h < UNKNOWN_AGE_WFL_BELOW_CM => Some(WflhTable::Wfl),
                (None, Some(_)) => Some(WflhTable::Wfh),
                (None, None) => None,
            };
        }
        (Reference::Who2007, _) => {
            let m = months.unwrap_or(f64::NAN);
            if (WHO2007_MIN_MONTHS..=WFA_2007_MAX_MONTHS).contains(&m) {
                result.weight_for_age = weight_z
                    .zip(lms_by_month(&tables.wfa_2007, sex, m))
                    .and_then(|(w, p)| finish(lms_z_restricted(w, p)));
            }
            if (WHO2007_MIN_MONTHS..=HFA_BMI_2007_MAX_MONTHS).contains(&m) {
                result.length_height_for_age =
                    clenhei.zip(lms_by_month(&tables.hfa_2007, sex, m)).and_then(|(h, p)| finish(lms_z(h, p)));
                result.bmi_for_age =
                    bmi_z.zip(lms_by_month(&tables.bmi_2007, sex, m)).and_then(|(b, p)| finish(lms_z_restricted(b, p)));
            }
        }
    }

    if let (Some(table), Some(h), Some(w)) = (result.wflh_table, clenhei, weight_z) {
        let (lms_table, (min, max)) = match table {
            WflhTable::Wfl => (&tables.wfl_2006, WFL_RANGE_CM),
            WflhTable::Wfh => (&tables.wfh_2006, WFH_RANGE_CM),
        };
        if (min..=max).contains(&h) {
            result.weight_for_length_height =
                lms_by_length(lms_table, sex, h).and_then(|p| finish(lms_z_restricted(w, p)));
        }
    }

    result.flags = Flags {
        weight_for_age: result.weight_for_age.is_some_and(|z| !(-6.0..=5.0).contains(&z)),
        length_height_for_age: result.length_height_for_age.is_some_and(|z| z.abs() > 6.0),
        weight_for_length_height: result.weight_for_length_height.is_some_and(|z| z.abs() > 5.0),
        bmi_for_age: result.bmi_for_age.is_some_and(|z| z.abs() > 5.0),
        standing_under_9_months,
    };
    result.classification = classify(&result, input.oedema);
    result
}

/// Reference curves (-3..=+3 SD) for charts, for ages `from_age_days`,
/// `from_age_days + step_days`, ... up to `to_age_days` inclusive. Ages where
/// the indicator is not defined (negative, weight-for-age over 120 months,
/// others over 228 months) are skipped. A non-positive step gives no points.
///
/// Note the steps in the curves at 731 days (length to height) and at 1827
/// days (2006 standards to 2007 reference) for length/height and BMI.
pub fn reference_curves(
    sex: Sex,
    indicator: Indicator,
    from_age_days: i64,
    to_age_days: i64,
    step_days: i64,
) -> Vec<CurvePoint> {
    if step_days <= 0 {
        return Vec::new();
    }
    let last = to_age_days.min(match indicator {
        Indicator::WeightForAge => (WFA_2007_MAX_MONTHS * DAYS_PER_MONTH).floor() as i64,
        _ => MAX_AGE_DAYS_WHO2007,
    });
    // First grid point that is not negative.
    let mut age = if from_age_days < 0 {
        let steps = (-i128::from(from_age_days)).div_euclid(i128::from(step_days))
            + i128::from((-i128::from(from_age_days)).rem_euclid(i128::from(step_days)) != 0);
        match i64::try_from(i128::from(from_age_days) + steps * i128::from(step_days)) {
            Ok(a) => a,
            Err(_) => return Vec::new(),
        }
    } else {
        from_age_days
    };
    let mut points = Vec::new();
    while age <= last {
        if let Some(p) = lms_for_age(sex, indicator, age) {
            let mut sd = [0.0; 7];
            for (value, k) in sd.iter_mut().zip(-3..=3) {
                *value = lms_value(p, f64::from(k));
            }
            points.push(CurvePoint { age_days: age, sd });
        }
        match age.checked_add(step_days) {
            Some(next) => age = next,
            None => break,
        }
    }
    points
}

/// L, M, S for an age-based indicator, by day (2006) or interpolated (2007).
fn lms_for_age(sex: Sex, indicator: Indicator, age_days: i64) -> Option<Lms> {
    let tables = &*TABLES;
    if age_days < 0 {
        return None;
    }
    if age_days <= MAX_AGE_DAYS_WHO2006 {
        let table = match indicator {
            Indicator::WeightForAge => &tables.wfa_2006,
            Indicator::LengthHeightForAge => &tables.lhfa_2006,
            Indicator::BmiForAge => &tables.bmi_2006,
        };
        return table.get(sex, age_days);
    }
    let months = age_days as f64 / DAYS_PER_MONTH;
    let (table, max_months) = match indicator {
        Indicator::WeightForAge => (&tables.wfa_2007, WFA_2007_MAX_MONTHS),
        Indicator::LengthHeightForAge => (&tables.hfa_2007, HFA_BMI_2007_MAX_MONTHS),
        Indicator::BmiForAge => (&tables.bmi_2007, HFA_BMI_2007_MAX_MONTHS),
    };
    if months > max_months {
        return None;
    }
    lms_by_month(table, sex, months)
}

fn below(z: f64) -> Severity {
    if z < -3.0 {
        Severity::Severe
    } else if z < -2.0 {
        Severity::Moderate
    } else {
        Severity::None
    }
}

/// WHO cut-offs on the rounded z-scores; flagged (implausible) values are not
/// classified, as in WHO prevalence analysis.
fn classify(r: &GrowthResult, oedema: bool) -> Classification {
    let usable = |z: Option<f64>, flagged: bool| z.filter(|_| !flagged);
    let hfa = usable(r.length_height_for_age, r.flags.length_height_for_age);
    let wfa = usable(r.weight_for_age, r.flags.weight_for_age);
    let wflh = usable(r.weight_for_length_height, r.flags.weight_for_length_height);
    let bfa = usable(r.bmi_for_age, r.flags.bmi_for_age);
    let stunting = hfa.map(below);
    match r.reference {
        None => Classification::default(),
        Some(Reference::Who2006) => Classification {
            stunting,
            wasting: if oedema { Some(Severity::Severe) } else { wflh.map(below) },
            underweight: if oedema { Some(Severity::Severe) } else { wfa.map(below) },
            thinness: None,
            overweight: if oedema { Some(false) } else { wflh.map(|z| z > 2.0) },
            obesity: if oedema { Some(false) } else { wflh.map(|z| z > 3.0) },
        },
        Some(Reference::Who2007) => Classification {
            stunting,
            wasting: None,
            underweight: None,
            thinness: if oedema { Some(Severity::Severe) } else { bfa.map(below) },
            overweight: if oedema { Some(false) } else { bfa.map(|z| z > 1.0) },
            obesity: if oedema { Some(false) } else { bfa.map(|z| z > 2.0) },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: &str = include_str!("../../data/who/vectors.csv");

    fn input(sex: Sex, age: i64, weight: f64, lenhei: f64, position: Position) -> GrowthInput {
        GrowthInput {
            sex,
            age_days: Some(age),
            weight_kg: Some(weight),
            length_height_cm: Some(lenhei),
            position: Some(position),
            oedema: false,
        }
    }

    fn opt(field: &str) -> Option<f64> {
        (!field.is_empty()).then(|| field.parse().expect("number"))
    }

    fn assert_close(what: &str, got: Option<f64>, want: Option<f64>, tol: f64) -> f64 {
        match (got, want) {
            (None, None) => 0.0,
            (Some(g), Some(w)) => {
                let d = (g - w).abs();
                assert!(d <= tol, "{what}: got {g}, want {w}");
                d
            }
            _ => panic!("{what}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn tables_parse() {
        let t = &*TABLES;
        assert_eq!(t.wfa_2006.rows[0].len(), 1827);
        assert_eq!(t.wfl_2006.rows[1].len(), 651);
        assert_eq!(t.wfh_2006.rows[1].len(), 551);
        assert_eq!(t.hfa_2007.rows[0].len(), 170);
        assert_eq!(t.wfa_2007.rows[1].len(), 62);
        assert_eq!(t.wfa_2006.get(Sex::Male, 0), Some(Lms { l: 0.3487, m: 3.3464, s: 0.14602 }));
        assert_eq!(t.wfl_2006.get(Sex::Male, 451).map(|p| p.m), Some(2.4577));
        assert_eq!(t.wfl_2006.get(Sex::Male, 449), None);
        assert_eq!(t.wfh_2006.get(Sex::Female, 1201), None);
    }

    #[test]
    fn reference_vectors() {
        let mut count = 0;
        let mut max_diff: f64 = 0.0;
        for line in VECTORS.lines().skip(1).filter(|l| !l.is_empty()) {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 13, "{line}");
            let id = f[0];
            let sex = match f[1] {
                "1" => Sex::Male,
                "2" => Sex::Female,
                other => panic!("sex {other}"),
            };
            let position = match f[5] {
                "L" => Some(Position::Lying),
                "H" => Some(Position::Standing),
                _ => None,
            };
            let r = compute(&GrowthInput {
                sex,
                age_days: Some(f[2].parse().expect("age")),
                weight_kg: opt(f[3]),
                length_height_cm: opt(f[4]),
                position,
                oedema: false,
            });
            let reference = match f[6] {
                "who2006" => Some(Reference::Who2006),
                "who2007" => Some(Reference::Who2007),
                "" => None,
                other => panic!("reference {other}"),
            };
            assert_eq!(r.reference, reference, "id {id} reference");
            assert_close(&format!("id {id} clenhei"), r.corrected_length_height_cm, opt(f[7]), 1e-9);
            let table = match f[11] {
                "wfl" => Some(WflhTable::Wfl),
                "wfh" => Some(WflhTable::Wfh),
                "" => None,
                other => panic!("wflh_table {other}"),
            };
            assert_eq!(r.wflh_table, table, "id {id} wflh_table");
            let checks = [
                ("zwfa", r.weight_for_age, opt(f[8])),
                ("zlhfa", r.length_height_for_age, opt(f[9])),
                ("zwflh", r.weight_for_length_height, opt(f[10])),
                ("zbmi", r.bmi_for_age, opt(f[12])),
            ];
            for (name, got, want) in checks {
                max_diff = max_diff.max(assert_close(&format!("id {id} {name}"), got, want, 0.01 + 1e-9));
            }
            count += 1;
        }
        assert_eq!(count, 60);
        eprintln!("reference vectors: {count} matched, max |diff| = {max_diff:.4}");
    }

    #[test]
    fn restricted_lms_both_sides_for_weight_but_not_length() {
        let p = TABLES.wfa_2006.get(Sex::Male, 0).expect("row");
        let (sd2, sd3) = (lms_value(p, 2.0), lms_value(p, 3.0));
        let (sdm2, sdm3) = (lms_value(p, -2.0), lms_value(p, -3.0));
        // Half a 2-3 SD distance beyond +3 SD and below -3 SD.
        let heavy = sd3 + 0.5 * (sd3 - sd2);
        let light = sdm3 - 0.5 * (sdm2 - sdm3);
        assert!((lms_z_restricted(heavy, p) - 3.5).abs() < 1e-12);
        assert!((lms_z_restricted(light, p) + 3.5).abs() < 1e-12);
        // The plain LMS formula would give something else.
        assert!((lms_z(heavy, p) - 3.5).abs() > 0.02);
        assert!((lms_z(light, p) + 3.5).abs() > 0.02);

        let r = compute(&input(Sex::Male, 0, heavy, 49.9, Position::Lying));
        assert_eq!(r.weight_for_age, Some(3.5));
        let r = compute(&input(Sex::Male, 0, light, 49.9, Position::Lying));
        assert_eq!(r.weight_for_age, Some(-3.5));
        assert_eq!(r.classification.underweight, Some(Severity::Severe));

        // BMI-for-age (negative L) takes the restricted branch too.
        let b = TABLES.bmi_2006.get(Sex::Female, 400).expect("row");
        let bmi = lms_value(b, 3.0) + (lms_value(b, 3.0) - lms_value(b, 2.0));
        assert!((lms_z_restricted(bmi, b) - 4.0).abs() < 1e-12);
        assert!((lms_z(bmi, b) - 4.0).abs() > 0.05);

        // Length/height-for-age is never restricted: plain ((y/M) - 1) / S.
        let h = TABLES.lhfa_2006.get(Sex::Female, 100).expect("row");
        let short = h.m * (1.0 - 4.2 * h.s);
        let r = compute(&input(Sex::Female, 100, 5.0, short, Position::Lying));
        assert_eq!(r.length_height_for_age, Some(-4.2));
    }

    #[test]
    fn l_zero_uses_exponential_form() {
        let p = Lms { l: 0.0, m: 10.0, s: 0.1 };
        assert!((lms_value(p, 2.0) - 10.0 * 0.2f64.exp()).abs() < 1e-12);
        assert!((lms_z(10.0 * 0.2f64.exp(), p) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn oedema_drops_weight_based_scores_and_counts_as_severe() {
        let mut i = input(Sex::Female, 500, 13.0, 72.0, Position::Lying);
        i.oedema = true;
        let r = compute(&i);
        assert_eq!(r.weight_for_age, None);
        assert_eq!(r.weight_for_length_height, None);
        assert_eq!(r.bmi_for_age, None);
        assert_eq!(r.length_height_for_age, Some(-2.51));
        assert_eq!(r.wflh_table, Some(WflhTable::Wfl));
        assert!(r.bmi.is_some());
        let c = r.classification;
        assert_eq!(c.wasting, Some(Severity::Severe));
        assert_eq!(c.underweight, Some(Severity::Severe));
        assert_eq!(c.stunting, Some(Severity::Moderate));
        assert_eq!((c.overweight, c.obesity), (Some(false), Some(false)));
        assert_eq!(c.thinness, None);
        assert_eq!(r.flags, Flags::default());

        // Even without a weight, oedema is severe wasting.
        i.weight_kg = None;
        assert_eq!(compute(&i).classification.wasting, Some(Severity::Severe));

        // 5-19 years: severe thinness.
        let mut i = input(Sex::Male, 3417, 33.0, 138.3, Position::Standing);
        i.oedema = true;
        let r = compute(&i);
        assert_eq!((r.weight_for_age, r.bmi_for_age), (None, None));
        assert_eq!(r.length_height_for_age, Some(0.63));
        assert_eq!(r.classification.thinness, Some(Severity::Severe));
        assert_eq!(r.classification.wasting, None);
    }

    #[test]
    fn non_positive_or_missing_measurements_give_none() {
        for bad in [0.0, -1.0, f64::NAN] {
            let r = compute(&input(Sex::Male, 400, bad, 75.0, Position::Lying));
            assert_eq!(r.weight_for_age, None);
            assert_eq!(r.weight_for_length_height, None);
            assert_eq!(r.bmi_for_age, None);
            assert_eq!(r.bmi, None);
            assert!(r.length_height_for_age.is_some());
            assert_eq!(r.classification.wasting, None);

            let r = compute(&input(Sex::Male, 400, 9.0, bad, Position::Lying));
            assert_eq!(r.corrected_length_height_cm, None);
            assert_eq!(r.length_height_for_age, None);
            assert_eq!(r.weight_for_length_height, None);
            assert_eq!(r.bmi_for_age, None);
            assert!(r.weight_for_age.is_some());
        }
        // A tiny lying measurement that the -0.7 cm rule would make negative.
        let r = compute(&input(Sex::Male, 800, 9.0, 0.5, Position::Lying));
        assert_eq!(r.corrected_length_height_cm, None);
        assert_eq!(r.bmi_for_age, None);

        let r = compute(&GrowthInput {
            sex: Sex::Female,
            age_days: Some(100),
            weight_kg: None,
            length_height_cm: None,
            position: None,
            oedema: false,
        });
        assert_eq!(r.reference, Some(Reference::Who2006));
        assert_eq!((r.weight_for_age, r.length_height_for_age, r.bmi_for_age), (None, None, None));
        assert_eq!(r.classification.stunting, None);
    }

    #[test]
    fn lying_standing_correction_at_730_731_days() {
        let c = |age, position| {
            let r = compute(&input(Sex::Male, age, 11.0, 80.0, position));
            (r.corrected_length_height_cm, r.wflh_table)
        };
        let close = |(v, t): (Option<f64>, Option<WflhTable>), want: f64, table| {
            assert!((v.expect("clenhei") - want).abs() < 1e-9);
            assert_eq!(t, Some(table));
        };
        close(c(730, Position::Standing), 80.7, WflhTable::Wfl);
        close(c(730, Position::Lying), 80.0, WflhTable::Wfl);
        close(c(731, Position::Lying), 79.3, WflhTable::Wfh);
        close(c(731, Position::Standing), 80.0, WflhTable::Wfh);
        // Position unknown: assumed correct for age, no correction.
        let mut i = input(Sex::Male, 730, 11.0, 80.0, Position::Lying);
        i.position = None;
        assert_eq!(compute(&i).corrected_length_height_cm, Some(80.0));
        i.age_days = Some(731);
        assert_eq!(compute(&i).corrected_length_height_cm, Some(80.0));
        // The correction also applies to the 2007 reference.
        let r = compute(&input(Sex::Female, 2000, 18.0, 110.0, Position::Lying));
        assert_eq!(r.reference, Some(Reference::Who2007));
        assert!((r.corrected_length_height_cm.expect("clenhei") - 109.3).abs() < 1e-9);
    }

    #[test]
    fn standing_under_nine_months_is_not_corrected() {
        // 273 days = 8.97 months: standing is implausible, no correction.
        let r = compute(&input(Sex::Female, 273, 8.0, 68.0, Position::Standing));
        assert_eq!(r.corrected_length_height_cm, Some(68.0));
        assert!(r.flags.standing_under_9_months);
        assert!(r.length_height_for_age.is_some());
        // 274 days = 9.002 months: usual +0.7 cm.
        let r = compute(&input(Sex::Female, 274, 8.0, 68.0, Position::Standing));
        assert!((r.corrected_length_height_cm.expect("clenhei") - 68.7).abs() < 1e-9);
        assert!(!r.flags.standing_under_9_months);
        // Lying under 9 months is fine.
        let r = compute(&input(Sex::Female, 10, 3.5, 50.0, Position::Lying));
        assert!(!r.flags.standing_under_9_months);
        assert_eq!(r.corrected_length_height_cm, Some(50.0));
    }

    #[test]
    fn wfl_wfh_ranges_on_corrected_length() {
        let wflh =
            |age, lenhei, position| compute(&input(Sex::Male, age, 8.0, lenhei, position)).weight_for_length_height;
        assert_eq!(wflh(10, 44.9, Position::Lying), None);
        assert!(wflh(10, 45.0, Position::Lying).is_some());
        assert!(wflh(700, 110.0, Position::Lying).is_some());
        assert_eq!(wflh(700, 110.1, Position::Lying), None);
        // 44.3 standing at 300 days becomes 45.0 (or just under, like R).
        assert_eq!(wflh(300, 44.3, Position::Standing).is_some(), 44.3 + 0.7 >= 45.0);
        assert_eq!(wflh(800, 64.9, Position::Standing), None);
        assert!(wflh(800, 65.0, Position::Standing).is_some());
        assert!(wflh(800, 120.0, Position::Standing).is_some());
        assert_eq!(wflh(800, 120.1, Position::Standing), None);
        // Range checked after correction: 65.6 lying at 800 days is 64.9 cm.
        assert_eq!(wflh(800, 65.6, Position::Lying), None);
        assert!(wflh(800, 65.7, Position::Lying).is_some());
        // Table chosen by age, not by position.
        let r = compute(&input(Sex::Male, 700, 9.0, 75.0, Position::Standing));
        assert_eq!(r.wflh_table, Some(WflhTable::Wfl));
    }

    #[test]
    fn wfl_interpolates_between_rows() {
        let t = &TABLES.wfl_2006;
        let (lo, hi) = (t.get(Sex::Female, 700).expect("row"), t.get(Sex::Female, 701).expect("row"));
        let p = lms_by_length(t, Sex::Female, 70.05).expect("lms");
        assert!((p.m - (lo.m + hi.m) / 2.0).abs() < 1e-9);
        assert!((p.s - (lo.s + hi.s) / 2.0).abs() < 1e-9);
        assert_eq!(lms_by_length(t, Sex::Female, 70.0), Some(lo));
        assert_eq!(lms_by_length(t, Sex::Female, 110.0), t.get(Sex::Female, 1100));
    }

    #[test]
    fn age_limits() {
        let at = |age| compute(&input(Sex::Female, age, 20.0, 110.0, Position::Standing));
        let r = at(1826);
        assert_eq!(r.reference, Some(Reference::Who2006));
        assert!(r.weight_for_length_height.is_some());
        let r = at(1827);
        assert_eq!(r.reference, Some(Reference::Who2007));
        assert_eq!((r.weight_for_length_height, r.wflh_table), (None, None));
        assert!(r.weight_for_age.is_some() && r.bmi_for_age.is_some());
        assert!(at(3652).weight_for_age.is_some());
        let r = at(3653);
        assert_eq!(r.weight_for_age, None);
        assert!(r.length_height_for_age.is_some());
        assert!(at(6939).length_height_for_age.is_some());
        assert_eq!(at(6940), GrowthResult::default());
        assert_eq!(at(-1), GrowthResult::default());
    }

    #[test]
    fn who2007_interpolates_between_months() {
        // 1948 days is exactly 64 months: the month row is used as is.
        let row = TABLES.hfa_2007.get(Sex::Male, 64).expect("row");
        let r = compute(&input(Sex::Male, 1948, 18.0, row.m, Position::Standing));
        assert_eq!(r.length_height_for_age, Some(0.0));
        // Half-way between months 64 and 65 (not a whole day, so use lms directly).
        let next = TABLES.hfa_2007.get(Sex::Male, 65).expect("row");
        let p = lms_by_month(&TABLES.hfa_2007, Sex::Male, 64.5).expect("lms");
        assert!((p.m - (row.m + next.m) / 2.0).abs() < 1e-9);
    }

    #[test]
    fn unknown_age_uses_length_rule_for_wflh_only() {
        let mut i = input(Sex::Male, 0, 10.0, 80.0, Position::Lying);
        i.age_days = None;
        i.position = None;
        let r = compute(&i);
        assert_eq!(r.reference, Some(Reference::Who2006));
        assert_eq!(r.wflh_table, Some(WflhTable::Wfl));
        assert!(r.weight_for_length_height.is_some());
        assert_eq!((r.weight_for_age, r.length_height_for_age, r.bmi_for_age), (None, None, None));
        assert_eq!(r.corrected_length_height_cm, Some(80.0));
        i.length_height_cm = Some(90.0);
        assert_eq!(compute(&i).wflh_table, Some(WflhTable::Wfh));
        // A recorded position wins over the 87 cm rule (as in anthro).
        i.position = Some(Position::Lying);
        let r = compute(&i);
        assert_eq!(r.wflh_table, Some(WflhTable::Wfl));
        assert_eq!(r.corrected_length_height_cm, Some(90.0));
    }

    #[test]
    fn plausibility_flags_exclude_classification() {
        let p = TABLES.lhfa_2006.get(Sex::Male, 400).expect("row");
        let r = compute(&input(Sex::Male, 400, 9.0, p.m * (1.0 - 6.5 * p.s), Position::Lying));
        assert_eq!(r.length_height_for_age, Some(-6.5));
        assert!(r.flags.length_height_for_age);
        assert_eq!(r.classification.stunting, None);
        let r = compute(&input(Sex::Male, 400, 9.0, p.m * (1.0 - 6.0 * p.s), Position::Lying));
        assert_eq!(r.length_height_for_age, Some(-6.0));
        assert!(!r.flags.length_height_for_age);
        assert_eq!(r.classification.stunting, Some(Severity::Severe));

        let w = TABLES.wfa_2006.get(Sex::Male, 400).expect("row");
        let heavy = lms_value(w, 3.0) + 2.5 * (lms_value(w, 3.0) - lms_value(w, 2.0));
        let r = compute(&input(Sex::Male, 400, heavy, 75.0, Position::Lying));
        assert_eq!(r.weight_for_age, Some(5.5));
        assert!(r.flags.weight_for_age);
        assert_eq!(r.classification.underweight, None);
    }

    fn classified(reference: Reference, hfa: f64, wfa: f64, wflh: f64, bfa: f64) -> Classification {
        let r = GrowthResult {
            reference: Some(reference),
            length_height_for_age: Some(hfa),
            weight_for_age: Some(wfa),
            weight_for_length_height: Some(wflh),
            bmi_for_age: Some(bfa),
            ..GrowthResult::default()
        };
        classify(&r, false)
    }

    #[test]
    fn classification_cut_offs_are_strict() {
        use Reference::{Who2006, Who2007};
        let c = classified(Who2006, -2.00, -2.00, -2.00, 0.0);
        assert_eq!(c.stunting, Some(Severity::None));
        assert_eq!(c.underweight, Some(Severity::None));
        assert_eq!(c.wasting, Some(Severity::None));
        let c = classified(Who2006, -2.01, -2.01, -2.01, 0.0);
        assert_eq!(c.stunting, Some(Severity::Moderate));
        assert_eq!(c.underweight, Some(Severity::Moderate));
        assert_eq!(c.wasting, Some(Severity::Moderate));
        let c = classified(Who2006, -3.00, -3.00, -3.00, 0.0);
        assert_eq!(c.stunting, Some(Severity::Moderate));
        assert_eq!(c.wasting, Some(Severity::Moderate));
        let c = classified(Who2006, -3.01, -3.01, -3.01, 0.0);
        assert_eq!(c.stunting, Some(Severity::Severe));
        assert_eq!(c.underweight, Some(Severity::Severe));
        assert_eq!(c.wasting, Some(Severity::Severe));

        let c = classified(Who2006, 0.0, 0.0, 2.00, 9.0);
        assert_eq!((c.overweight, c.obesity), (Some(false), Some(false)));
        let c = classified(Who2006, 0.0, 0.0, 2.01, 9.0);
        assert_eq!((c.overweight, c.obesity), (Some(true), Some(false)));
        let c = classified(Who2006, 0.0, 0.0, 3.00, 0.0);
        assert_eq!((c.overweight, c.obesity), (Some(true), Some(false)));
        let c = classified(Who2006, 0.0, 0.0, 3.01, 0.0);
        assert_eq!((c.overweight, c.obesity), (Some(true), Some(true)));
        assert_eq!(c.thinness, None);

        let c = classified(Who2007, -2.00, 0.0, 0.0, -2.00);
        assert_eq!((c.stunting, c.thinness), (Some(Severity::None), Some(Severity::None)));
        assert_eq!((c.wasting, c.underweight), (None, None));
        let c = classified(Who2007, -2.01, 0.0, 0.0, -3.01);
        assert_eq!((c.stunting, c.thinness), (Some(Severity::Moderate), Some(Severity::Severe)));
        let c = classified(Who2007, 0.0, 0.0, 0.0, 1.00);
        assert_eq!((c.overweight, c.obesity), (Some(false), Some(false)));
        let c = classified(Who2007, 0.0, 0.0, 0.0, 1.01);
        assert_eq!((c.overweight, c.obesity), (Some(true), Some(false)));
        let c = classified(Who2007, 0.0, 0.0, 0.0, 2.00);
        assert_eq!((c.overweight, c.obesity), (Some(true), Some(false)));
        let c = classified(Who2007, 0.0, 0.0, 0.0, 2.01);
        assert_eq!((c.overweight, c.obesity), (Some(true), Some(true)));
    }

    #[test]
    fn classification_through_compute_at_minus_two() {
        // A height exactly on the -2 SD curve rounds to -2.00: not stunted.
        let p = TABLES.lhfa_2006.get(Sex::Female, 1000).expect("row");
        let at = |h| compute(&input(Sex::Female, 1000, 12.0, h, Position::Standing));
        let r = at(lms_value(p, -2.0));
        assert_eq!(r.length_height_for_age, Some(-2.0));
        assert_eq!(r.classification.stunting, Some(Severity::None));
        let r = at(lms_value(p, -2.01));
        assert_eq!(r.length_height_for_age, Some(-2.01));
        assert_eq!(r.classification.stunting, Some(Severity::Moderate));
    }

    #[test]
    fn rounding_matches_r() {
        assert_eq!(round2(-2.004), -2.0);
        assert_eq!(round2(-2.006), -2.01);
        assert_eq!(round2(2.675), 2.67); // 2.67499999... in binary
        assert_eq!(round2(0.125), 0.12); // exact tie: to even
        assert_eq!(round2(0.375), 0.38); // exact tie: to even
        assert_eq!(round2(-0.125), -0.12);
        assert_eq!(round2(1.0), 1.0);
        assert_eq!(round2(0.0), 0.0);
    }

    #[test]
    fn curves() {
        let wfa = reference_curves(Sex::Male, Indicator::WeightForAge, 0, 10_000, 1);
        assert_eq!(wfa.first().map(|p| p.age_days), Some(0));
        assert_eq!(wfa.last().map(|p| p.age_days), Some(3652));
        assert_eq!(wfa.len(), 3653);
        assert_eq!(wfa[0].sd[3], 3.3464);
        for p in &wfa {
            assert!(p.sd.windows(2).all(|w| w[0] < w[1]), "monotone at {}", p.age_days);
        }
        // Each SD line has the z-score of its index.
        let p = TABLES.wfa_2006.get(Sex::Male, 0).expect("row");
        for (k, v) in wfa[0].sd.iter().enumerate() {
            assert!((lms_z(*v, p) - (k as f64 - 3.0)).abs() < 1e-9);
        }
        let bmi = reference_curves(Sex::Female, Indicator::BmiForAge, -10, 6939, 7);
        assert_eq!(bmi.first().map(|p| p.age_days), Some(4));
        assert_eq!(bmi.last().map(|p| p.age_days), Some(6934));
        assert!(bmi.windows(2).all(|w| w[1].age_days - w[0].age_days == 7));
        let h = reference_curves(Sex::Female, Indicator::LengthHeightForAge, 6930, 7000, 1);
        assert_eq!(h.last().map(|p| p.age_days), Some(6939));
        assert!(reference_curves(Sex::Male, Indicator::BmiForAge, 0, 100, 0).is_empty());
        assert!(reference_curves(Sex::Male, Indicator::BmiForAge, 100, 0, 1).is_empty());
        assert!(reference_curves(Sex::Male, Indicator::BmiForAge, i64::MIN, i64::MIN + 5, 3).is_empty());
    }
}
