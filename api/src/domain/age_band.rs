//! The standard age bands answers are broken down by: the under-five bands programmes report
//! (0–5, 6–11, 12–23, 24–35, 36–47, 48–59 months), then five- and wider year bands.

/// A band of completed months, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeBand {
    pub label: &'static str,
    pub from_months: i32,
    pub to_months: i32,
}

const fn band(label: &'static str, from_months: i32, to_months: i32) -> AgeBand {
    AgeBand { label, from_months, to_months }
}

/// Every band, youngest first; together they cover every age once.
pub const BANDS: &[AgeBand] = &[
    band("0-5M", 0, 5),
    band("6-11M", 6, 11),
    band("12-23M", 12, 23),
    band("24-35M", 24, 35),
    band("36-47M", 36, 47),
    band("48-59M", 48, 59),
    band("5-9Y", 60, 119),
    band("10-14Y", 120, 179),
    band("15-19Y", 180, 239),
    band("20-24Y", 240, 299),
    band("25-34Y", 300, 419),
    band("35-49Y", 420, 599),
    band("50-64Y", 600, 779),
    band("65+Y", 780, i32::MAX),
];

/// WHO's month for ages counted in days (growth measurements): 365.25 / 12 days.
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// The band of an age in completed months.
pub fn of_months(months: i32) -> &'static AgeBand {
    BANDS.iter().find(|b| months <= b.to_months).unwrap_or(&BANDS[BANDS.len() - 1])
}

/// The band a label names.
pub fn by_label(label: &str) -> Option<&'static AgeBand> {
    BANDS.iter().find(|b| b.label == label)
}

/// The first day-age past a band, on WHO's day-month: ages in days below it are in the band
/// or a younger one.
pub fn days_past(b: &AgeBand) -> i64 {
    ((b.to_months as f64 + 1.0) * DAYS_PER_MONTH).ceil() as i64
}

/// The bands that overlap `min..=max` months, each clipped to it (for population denominators
/// of an indicator's age range).
pub fn within(min: i32, max: i32) -> Vec<AgeBand> {
    BANDS
        .iter()
        .filter(|b| b.from_months <= max && b.to_months >= min)
        .map(|b| AgeBand { label: b.label, from_months: b.from_months.max(min), to_months: b.to_months.min(max) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_age_has_exactly_one_band() {
        for m in 0..1200 {
            let n = BANDS.iter().filter(|b| b.from_months <= m && m <= b.to_months).count();
            assert_eq!(n, 1, "{m} months");
        }
        assert_eq!(of_months(11).label, "6-11M");
        assert_eq!(of_months(12).label, "12-23M");
        assert_eq!(of_months(59).label, "48-59M");
        assert_eq!(of_months(60).label, "5-9Y");
        assert_eq!(of_months(1000).label, "65+Y");
    }

    #[test]
    fn bands_within_an_indicator_range_are_clipped() {
        let b = within(6, 59);
        assert_eq!(b.first().unwrap(), &AgeBand { label: "6-11M", from_months: 6, to_months: 11 });
        assert_eq!(b.len(), 5);
        let school = within(72, 215);
        assert_eq!(school.iter().map(|b| b.label).collect::<Vec<_>>(), ["5-9Y", "10-14Y", "15-19Y"]);
        assert_eq!((school[0].from_months, school[2].to_months), (72, 215));
    }

    #[test]
    fn day_ages_follow_who_months() {
        // 6 months = 182.6 days: day 182 is still 5 months, day 183 is 6.
        assert_eq!(days_past(by_label("0-5M").unwrap()), 183);
        assert_eq!(days_past(by_label("48-59M").unwrap()), 1827);
    }
}
