//! The cell-key method (consistent perturbation), as the Australian Bureau of Statistics'
//! TableBuilder and the UK's 2021 Census outputs use it, for counts shown to de-identified
//! callers.
//!
//! Every counted record has a permanent record key from 0 to 255 (the last byte of its id: a
//! UUID's random bits, never shown to a de-identified caller, who sees only pseudonyms). A
//! cell's key is the sum of its records' keys modulo 256, so the same records always make the
//! same cell key, and the published perturbation table below maps (count, cell key) to a small
//! adjustment. Every cell, totals too, is perturbed on its own: asking again gives the same
//! answer (nothing to average), and a total minus its rows, or one filter minus another, gives
//! noise, not people.
//!
//! Parameters (public; the keys are what is secret): counts from 0 to 4 are suppressed (shown
//! as null: a zero shown would tell that a suppressed cell holds someone); a count of 5 or more
//! is shown within ±3 of the truth and never under 5, the adjustment drawn from −3…+3 with probabilities 10%, 15%, 15%, 20%, 15%, 15%, 10%. Why
//! ±3: an attacker who knows a hidden count is from 1 to 4 and subtracts two answers (a total
//! and its visible rows, or two overlapping filters) guesses it right about 45% of the time with
//! ±2 and about 36% with ±3 (a blind guess: 25%), and is never certain but in rare corners
//! (both adjustments at their bounds, opposite ways).

/// Counts from 1 to `SMALL - 1` are suppressed.
pub const SMALL: i64 = 5;
/// The record keys' range: 0 to `KEYS - 1`.
pub const KEYS: i64 = 256;

/// A count as a de-identified caller may see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protected {
    Shown(i64),
    Suppressed,
}

impl Protected {
    pub fn value(self) -> Option<i64> {
        match self {
            Protected::Shown(n) => Some(n),
            Protected::Suppressed => None,
        }
    }
}

/// The perturbation table: 256 slots, the adjustment of each.
fn adjustment(slot: u8) -> i64 {
    match slot {
        0..=25 => -3,
        26..=63 => -2,
        64..=101 => -1,
        102..=153 => 0,
        154..=191 => 1,
        192..=229 => 2,
        _ => 3,
    }
}

/// The slot of (count, cell key): a fixed mix of both, so that one cell key gives different
/// adjustments to different counts.
fn slot(count: i64, cell_key: i64) -> u8 {
    let mut x =
        (count as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (cell_key as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 29;
    (x & 0xFF) as u8
}

/// The record key of a record with id `id`: the last byte of the UUID, as
/// `store::dimensions::record_key` reads it in SQL.
pub fn record_key(id: uuid::Uuid) -> i64 {
    id.as_bytes()[15] as i64
}

/// `count` records whose keys sum to `key_sum`, as published.
pub fn protect(count: i64, key_sum: i64) -> Protected {
    // Zero too: were it shown, a suppressed cell would tell that someone is there, and a
    // question about one person (a birth month, a bag and a condition) would answer for them.
    if count < SMALL {
        return Protected::Suppressed;
    }
    let cell_key = key_sum.rem_euclid(KEYS);
    Protected::Shown((count + adjustment(slot(count, cell_key))).max(SMALL))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_under_five_and_zero_alike_are_suppressed() {
        for key in 0..KEYS {
            for n in 0..SMALL {
                assert_eq!(protect(n, key), Protected::Suppressed);
            }
        }
    }

    #[test]
    fn counts_move_at_most_three_never_under_five_and_the_same_cell_always_the_same_way() {
        for n in SMALL..300 {
            for key in 0..KEYS {
                let Protected::Shown(shown) = protect(n, key) else { panic!("{n} suppressed") };
                assert!((shown - n).abs() <= 3 && shown >= SMALL, "{n} {key} -> {shown}");
                assert_eq!(protect(n, key + KEYS), protect(n, key), "only the key modulo 256 counts");
            }
        }
    }

    #[test]
    fn adjustments_average_zero_in_the_published_shares() {
        let mut seen = [0i64; 7];
        let mut sum = 0;
        for n in 100..200 {
            for key in 0..KEYS {
                let d = protect(n, key).value().unwrap() - n;
                seen[(d + 3) as usize] += 1;
                sum += d;
            }
        }
        let total: i64 = seen.iter().sum();
        let share = |i: usize| seen[i] as f64 / total as f64;
        for (i, want) in [0.10, 0.15, 0.15, 0.20, 0.15, 0.15, 0.10].into_iter().enumerate() {
            assert!((share(i) - want).abs() < 0.02, "adjustment {} in {:.3} of cells", i as i64 - 3, share(i));
        }
        assert!((sum as f64 / total as f64).abs() < 0.02, "mean adjustment {}", sum as f64 / total as f64);
    }
}
