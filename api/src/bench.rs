//! A timing harness for the WHO z-score computation (`cbss bench-zscores --n 100000`): a developer's tool, not a test.

use crate::domain::zscore::{self, GrowthInput, Indicator, Position, Sex};
use std::hint::black_box;
use std::time::Instant;

/// `n` deterministic measurements of children 0-19 years, drawn around the WHO curves (about
/// 1 in 10 beyond +-3 SD, some measured in the "wrong" position, a few with oedema).
pub fn measurements(n: usize) -> Vec<GrowthInput> {
    let mut rng = fastrand::Rng::with_seed(20_261_128);
    (0..n)
        .map(|_| {
            let sex = if rng.bool() { Sex::Male } else { Sex::Female };
            let age = rng.i64(0..=zscore::MAX_AGE_DAYS_WHO2007);
            let z = |rng: &mut fastrand::Rng| {
                if rng.u8(0..10) == 0 { rng.f64() * 8.0 - 4.0 } else { rng.f64() * 4.0 - 2.0 }
            };
            let at = |indicator, z: f64| {
                zscore::reference_curves(sex, indicator, age, age, 1).first().map(|p| p.sd[3] + z * (p.sd[4] - p.sd[3]))
            };
            let height = at(Indicator::LengthHeightForAge, z(&mut rng));
            let weight = at(Indicator::WeightForAge, z(&mut rng)).or_else(|| {
                let bmi = at(Indicator::BmiForAge, z(&mut rng))?;
                Some(bmi * (height? / 100.0).powi(2))
            });
            let lying = (age < 731) != (rng.u8(0..20) == 0);
            GrowthInput {
                sex,
                age_days: Some(age),
                weight_kg: weight.map(|w| w.max(0.5)),
                length_height_cm: height,
                position: Some(if lying { Position::Lying } else { Position::Standing }),
                oedema: rng.u16(0..500) == 0,
            }
        })
        .collect()
}

/// Times `zscore::compute` over `n` measurements and describes the result.
pub fn run(n: usize) -> String {
    let started = Instant::now();
    black_box(zscore::compute(&GrowthInput {
        sex: Sex::Male,
        age_days: Some(0),
        weight_kg: Some(3.3),
        length_height_cm: Some(50.0),
        position: None,
        oedema: false,
    }));
    let tables = started.elapsed();
    let inputs = measurements(n);
    let started = Instant::now();
    let mut scored = 0usize;
    for input in &inputs {
        let r = black_box(zscore::compute(black_box(input)));
        scored += usize::from(r.weight_for_age.is_some() || r.bmi_for_age.is_some());
    }
    let elapsed = started.elapsed();
    let per = elapsed.as_secs_f64() / n.max(1) as f64;
    format!(
        "WHO tables embedded and parsed in {:.1} ms (once per process)\n\
         {n} measurements (all four z-scores, flags, classification) in {:.1} ms: \
         {:.2} µs each, {:.0} per second ({scored} with a weight-based z-score)",
        tables.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e3,
        per * 1e6,
        1.0 / per,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_harness_makes_scorable_measurements() {
        let inputs = super::measurements(200);
        assert_eq!(inputs.len(), 200);
        assert!(inputs.iter().all(|i| i.length_height_cm.is_some()));
        assert!(super::run(50).contains("50 measurements"));
    }
}
