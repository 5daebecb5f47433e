//! Reporting periods as analysts write them: `2026`, `2026Q3`, `2026-07`, and relative ones
//! (`THIS_MONTH`, `THIS_QUARTER`, `THIS_YEAR`, `LAST_12_MONTHS`, `LAST_24_MONTHS`), each with the
//! period before it.

use chrono::{Datelike, Months, NaiveDate};

/// A closed range of days with the name it was asked by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub label: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Months the period spans (12 for a year), so the previous one has the same length.
    months: u32,
}

impl Period {
    /// Parses `text`; relative periods are taken as of `today`.
    pub fn parse(text: &str, today: NaiveDate) -> Option<Period> {
        let t = text.trim().to_ascii_uppercase();
        let month_start = |d: NaiveDate| d.with_day(1);
        let quarter_start = |d: NaiveDate| NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1);
        let (from, months) = match t.as_str() {
            "THIS_MONTH" => (month_start(today)?, 1),
            "THIS_QUARTER" => (quarter_start(today)?, 3),
            "THIS_YEAR" => (NaiveDate::from_ymd_opt(today.year(), 1, 1)?, 12),
            // The twelve whole months before the current one.
            "LAST_12_MONTHS" => (month_start(today)?.checked_sub_months(Months::new(12))?, 12),
            // The 24 whole months before the current one: MICS's "last 2 years".
            "LAST_24_MONTHS" => (month_start(today)?.checked_sub_months(Months::new(24))?, 24),
            _ => Self::fixed(&t)?,
        };
        Some(Period::spanning(t, from, months))
    }

    /// `2026`, `2026Q3` or `2026-07`: (first day, months).
    fn fixed(t: &str) -> Option<(NaiveDate, u32)> {
        let year = |y: &str| y.parse::<i32>().ok().filter(|y| (1900..=2200).contains(y) && t.len() >= 4);
        if t.len() == 4 {
            return Some((NaiveDate::from_ymd_opt(year(t)?, 1, 1)?, 12));
        }
        if let Some((y, q)) = t.split_once('Q') {
            let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
            return Some((NaiveDate::from_ymd_opt(year(y)?, (q - 1) * 3 + 1, 1)?, 3));
        }
        if let Some((y, m)) = t.split_once('-') {
            if m.len() != 2 {
                return None;
            }
            let m: u32 = m.parse().ok().filter(|m| (1..=12).contains(m))?;
            return Some((NaiveDate::from_ymd_opt(year(y)?, m, 1)?, 1));
        }
        None
    }

    fn spanning(label: String, from: NaiveDate, months: u32) -> Period {
        let to = from.checked_add_months(Months::new(months)).and_then(|d| d.pred_opt()).unwrap_or(from);
        Period { label, from, to, months }
    }

    /// The period of the same length just before this one.
    pub fn previous(&self) -> Period {
        let from = self.from.checked_sub_months(Months::new(self.months)).unwrap_or(self.from);
        let label = match self.months {
            12 if self.from.month() == 1 => format!("{}", from.year()),
            3 if (self.from.month() - 1).is_multiple_of(3) => format!("{}Q{}", from.year(), from.month0() / 3 + 1),
            1 => format!("{}-{:02}", from.year(), from.month()),
            _ => format!("{from}/{}", self.from.pred_opt().unwrap_or(self.from)),
        };
        Period::spanning(label, from, self.months)
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }

    /// The calendar months (`2026-07`) or quarters (`2026Q3`) the period touches, each clipped
    /// to it, in order.
    pub fn split(&self, by_quarter: bool) -> Vec<Period> {
        let mut out = Vec::new();
        let mut start = self.from;
        while start <= self.to {
            let (label, first, months) = if by_quarter {
                let q = start.month0() / 3;
                (format!("{}Q{}", start.year(), q + 1), NaiveDate::from_ymd_opt(start.year(), q * 3 + 1, 1), 3)
            } else {
                (format!("{}-{:02}", start.year(), start.month()), start.with_day(1), 1)
            };
            let Some(first) = first else { break };
            let whole = Period::spanning(label, first, months);
            let next = whole.to.succ_opt();
            out.push(Period { from: whole.from.max(self.from), to: whole.to.min(self.to), ..whole });
            match next {
                Some(n) => start = n,
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn fixed_periods_cover_their_days_and_know_the_one_before() {
        let today = d(2026, 11, 27);
        let y = Period::parse("2026", today).unwrap();
        assert_eq!((y.from, y.to, y.previous().label.as_str()), (d(2026, 1, 1), d(2026, 12, 31), "2025"));
        let q = Period::parse("2026q3", today).unwrap();
        assert_eq!((q.from, q.to), (d(2026, 7, 1), d(2026, 9, 30)));
        assert_eq!((q.previous().label.as_str(), q.previous().from), ("2026Q2", d(2026, 4, 1)));
        let m = Period::parse("2026-03", today).unwrap();
        assert_eq!((m.from, m.to), (d(2026, 3, 1), d(2026, 3, 31)));
        assert_eq!(Period::parse("2026Q1", today).unwrap().previous().label, "2025Q4");
        assert_eq!(Period::parse("2024-02", today).unwrap().to, d(2024, 2, 29));
    }

    #[test]
    fn relative_periods_are_taken_from_today() {
        let today = d(2026, 11, 27);
        let q = Period::parse("THIS_QUARTER", today).unwrap();
        assert_eq!((q.from, q.to, q.previous().from), (d(2026, 10, 1), d(2026, 12, 31), d(2026, 7, 1)));
        let l = Period::parse("LAST_12_MONTHS", today).unwrap();
        assert_eq!((l.from, l.to), (d(2025, 11, 1), d(2026, 10, 31)));
        assert_eq!(l.previous().from, d(2024, 11, 1));
        let two = Period::parse("LAST_24_MONTHS", today).unwrap();
        assert_eq!((two.from, two.to, two.previous().from), (d(2024, 11, 1), d(2026, 10, 31), d(2022, 11, 1)));
        assert!(Period::parse("THIS_MONTH", today).unwrap().contains(today));
    }

    #[test]
    fn periods_split_into_months_and_quarters() {
        let today = d(2026, 11, 27);
        let l = Period::parse("LAST_12_MONTHS", today).unwrap();
        let months = l.split(false);
        assert_eq!(months.len(), 12);
        assert_eq!(
            (months[0].label.as_str(), months[0].from, months[0].to),
            ("2025-11", d(2025, 11, 1), d(2025, 11, 30))
        );
        assert_eq!(months[11].label, "2026-10");
        let quarters = l.split(true);
        assert_eq!(
            quarters.iter().map(|q| q.label.as_str()).collect::<Vec<_>>(),
            ["2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4"]
        );
        // Clipped to the period: the last quarter holds October only.
        assert_eq!((quarters[0].from, quarters[4].to), (d(2025, 11, 1), d(2026, 10, 31)));
        assert_eq!(Period::parse("2026Q3", today).unwrap().split(false).len(), 3);
    }

    #[test]
    fn nonsense_is_refused() {
        let today = d(2026, 11, 27);
        for bad in ["", "26", "2026Q5", "2026-13", "2026-7", "Q3", "1800", "last year"] {
            assert!(Period::parse(bad, today).is_none(), "{bad}");
        }
    }
}
