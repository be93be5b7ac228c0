//! Time as the interpreter sees it: monotonic microseconds for timers, and the wall clock
//! (Unix seconds at a fixed UTC offset) for time-of-day, weekday and holiday conditions.
//!
//! The civil-date arithmetic is the days-from-civil algorithm for the proleptic Gregorian
//! calendar, written out because a fixed offset needs nothing of a time-zone library.

/// A point in time, or a duration, in whole microseconds from an epoch the driver chooses.
///
/// Both of Tandem's drivers feed it exactly: the engine counts microseconds, and the
/// simulator's `f64` seconds convert with [`from_secs_f64`](Micros::from_secs_f64), which
/// rounds to the nearest microsecond and round-trips with [`as_secs_f64`](Micros::as_secs_f64)
/// for every value below 2⁵⁰ µs (35 years: two roundings of relative error 2⁻⁵³ each stay
/// under half a microsecond). Arithmetic saturates; it never wraps or panics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Micros(pub u64);

impl Micros {
    /// The epoch.
    pub const ZERO: Micros = Micros(0);

    /// `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Micros {
        Micros(ms.saturating_mul(1000))
    }

    /// `s` seconds.
    pub const fn from_secs(s: u64) -> Micros {
        Micros(s.saturating_mul(1_000_000))
    }

    /// `s` seconds, rounded to the nearest microsecond (negative and NaN give zero).
    pub fn from_secs_f64(s: f64) -> Micros {
        let us = (s * 1e6).round();
        if us.is_nan() || us <= 0.0 {
            Micros(0)
        } else if us >= u64::MAX as f64 {
            Micros(u64::MAX)
        } else {
            Micros(us as u64)
        }
    }

    /// In seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// In whole milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0 / 1000
    }

    /// `self + d`, saturating.
    pub const fn saturating_add(self, d: Micros) -> Micros {
        Micros(self.0.saturating_add(d.0))
    }

    /// `self - d`, saturating at zero.
    pub const fn saturating_sub(self, d: Micros) -> Micros {
        Micros(self.0.saturating_sub(d.0))
    }
}

/// A calendar date (proleptic Gregorian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, 1–31.
    pub day: u8,
}

impl Date {
    /// Parses `YYYY-MM-DD` (years 1900–2200), rejecting impossible dates.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            s.get(r)?.bytes().try_fold(0u32, |a, c| {
                c.is_ascii_digit().then(|| a * 10 + u32::from(c - b'0'))
            })
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let d = Date {
            year: i32::try_from(year).ok()?,
            month: u8::try_from(month).ok()?,
            day: u8::try_from(day).ok()?,
        };
        ((1900..=2200).contains(&d.year)
            && (1..=12).contains(&d.month)
            && d.day >= 1
            && d.day <= days_in_month(d.year, d.month))
        .then_some(d)
    }

    /// Days since 1970-01-01.
    pub fn days_since_epoch(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: year.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
            month,
            day,
        }
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days of the week, Monday first (ISO 8601).
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The wall clock at a fixed offset: what time-of-day, weekday and holiday conditions test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    /// The local date.
    pub date: Date,
    /// Day of the week, 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Minutes since local midnight, 0–1439.
    pub minute: u16,
}

impl LocalTime {
    /// The local time at Unix time `unix_secs` and UTC offset `offset_secs`.
    pub fn at(unix_secs: i64, offset_secs: i32) -> LocalTime {
        let t = unix_secs.saturating_add(i64::from(offset_secs));
        let days = t.div_euclid(86_400);
        let secs = t.rem_euclid(86_400);
        LocalTime {
            date: Date::from_days_since_epoch(days),
            // 1970-01-01 was a Thursday.
            weekday: (days + 3).rem_euclid(7) as u8,
            minute: (secs / 60) as u16,
        }
    }
}

/// Parses a UTC offset `+HH:MM` / `-HH:MM` (or `Z`) into seconds, within ±14:00.
pub fn parse_utc_offset(s: &str) -> Option<i32> {
    if s == "Z" {
        return Some(0);
    }
    let b = s.as_bytes();
    if b.len() != 6 || b[3] != b':' {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let two = |i: usize| -> Option<i32> {
        let (h, l) = (b[i], b[i + 1]);
        (h.is_ascii_digit() && l.is_ascii_digit())
            .then(|| i32::from(h - b'0') * 10 + i32::from(l - b'0'))
    };
    let (h, m) = (two(1)?, two(4)?);
    (m < 60 && h * 60 + m <= 14 * 60).then_some(sign * (h * 3600 + m * 60))
}

/// Parses `HH:MM` (00:00–24:00) into minutes since midnight.
pub fn parse_clock(s: &str) -> Option<u16> {
    let b = s.as_bytes();
    if b.len() != 5
        || b[2] != b':'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
    {
        return None;
    }
    let h = u16::from(b[0] - b'0') * 10 + u16::from(b[1] - b'0');
    let m = u16::from(b[3] - b'0') * 10 + u16::from(b[4] - b'0');
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let d = |s| Date::parse(s).unwrap();
        assert_eq!(d("1970-01-01").days_since_epoch(), 0);
        assert_eq!(d("2000-03-01").days_since_epoch(), 11_017);
        assert_eq!(d("2024-02-29").days_since_epoch(), 19_782);
        assert_eq!(Date::from_days_since_epoch(19_782), d("2024-02-29"));
        assert_eq!(Date::parse("2023-02-29"), None);
        assert_eq!(Date::parse("2024-13-01"), None);
        assert_eq!(Date::parse("2024-1-01"), None);
        // 2025-01-01 00:30 at +08:00 is 2024-12-31 16:30 UTC, a Wednesday locally.
        let t = LocalTime::at(1_735_662_600, 8 * 3600);
        assert_eq!((t.date, t.weekday, t.minute), (d("2025-01-01"), 2, 30));
        let t = LocalTime::at(1_735_662_600, -5 * 3600);
        assert_eq!(
            (t.date, t.weekday, t.minute),
            (d("2024-12-31"), 1, 11 * 60 + 30)
        );
    }

    #[test]
    fn round_trip_of_days() {
        for days in (-100_000..100_000).step_by(37) {
            assert_eq!(Date::from_days_since_epoch(days).days_since_epoch(), days);
        }
    }

    #[test]
    fn offsets_and_clocks() {
        assert_eq!(parse_utc_offset("+08:00"), Some(28_800));
        assert_eq!(parse_utc_offset("-05:30"), Some(-19_800));
        assert_eq!(parse_utc_offset("Z"), Some(0));
        assert_eq!(parse_utc_offset("+15:00"), None);
        assert_eq!(parse_utc_offset("08:00"), None);
        assert_eq!(parse_clock("09:30"), Some(570));
        assert_eq!(parse_clock("24:00"), Some(1440));
        assert_eq!(parse_clock("24:01"), None);
        assert_eq!(parse_clock("9:30"), None);
    }

    #[test]
    fn micros_from_seconds() {
        assert_eq!(Micros::from_secs_f64(1.5), Micros(1_500_000));
        assert_eq!(Micros::from_secs_f64(-1.0), Micros(0));
        assert_eq!(Micros::from_secs_f64(f64::NAN), Micros(0));
        assert_eq!(Micros::from_secs_f64(1e300), Micros(u64::MAX));
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..200_000u64 {
            // Small values, values near the limit, and a spread in between.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let us = match i % 3 {
                0 => i,
                1 => (1 << 50) - 1 - i,
                _ => x >> 14,
            };
            assert_eq!(
                Micros::from_secs_f64(Micros(us).as_secs_f64()),
                Micros(us),
                "{us}"
            );
        }
    }
}
