//! HTTP dates (RFC 9110 §5.6.7) and the access log's date, from and to Unix seconds.
//!
//! The core has no clock: the caller passes the time. Dates are UTC; the calendar arithmetic is the
//! proleptic Gregorian "days from civil" algorithm (H. Hinnant), so no tables and no floating point.

/// The largest Unix time with a four-digit year: 9999-12-31T23:59:59Z. Later times are clamped to it.
pub const MAX_UNIX_SECS: u64 = 253_402_300_799;

const SECS_PER_DAY: u64 = 86_400;
const DAY_NAMES: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
const LONG_DAY_NAMES: [&[u8]; 7] = [
    b"Sunday",
    b"Monday",
    b"Tuesday",
    b"Wednesday",
    b"Thursday",
    b"Friday",
    b"Saturday",
];
const MONTH_NAMES: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: u32,
    month: u32, // 1..=12
    day: u32,   // 1..=31
    hour: u32,
    minute: u32,
    second: u32,
    weekday: usize, // 0 = Sunday
}

/// Days since 1970-01-01 to a (year, month, day); valid for every `days` below `MAX_UNIX_SECS / 86400`.
fn civil_from_days(days: u64) -> (u32, u32, u32) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a year; 719_468 is its distance.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    // Bounded by MAX_UNIX_SECS: year <= 9999, so the narrowing is lossless.
    (year as u32, month as u32, day as u32)
}

/// (year, month, day) to days since 1970-01-01; `None` before 1970.
fn days_from_civil(year: u32, month: u32, day: u32) -> Option<u64> {
    let y = u64::from(year) - u64::from(month <= 2);
    let era = y / 400;
    let yoe = y - era * 400;
    let m = u64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + u64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn to_civil(secs: u64) -> Civil {
    let secs = secs.min(MAX_UNIX_SECS);
    let days = secs / SECS_PER_DAY;
    let rem = secs % SECS_PER_DAY;
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: (rem / 60 % 60) as u32,
        second: (rem % 60) as u32,
        // 1970-01-01 was a Thursday.
        weekday: ((days + 4) % 7) as usize,
    }
}

/// Writes `value` as `N` zero-padded decimal digits into `out` (an exact-length slice).
fn put_digits(out: &mut [u8], mut value: u32) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = at
        .checked_add(bytes.len())
        .and_then(|end| out.get_mut(at..end))
    {
        dst.copy_from_slice(bytes);
    }
}

fn put_num(out: &mut [u8], at: usize, width: usize, value: u32) {
    if let Some(dst) = at.checked_add(width).and_then(|end| out.get_mut(at..end)) {
        put_digits(dst, value);
    }
}

fn month_name(month: u32) -> &'static [u8; 3] {
    MONTH_NAMES
        .get((month as usize).wrapping_sub(1))
        .copied()
        .unwrap_or(b"Jan")
}

/// An IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`: always 29 ASCII bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HttpDate([u8; 29]);

impl HttpDate {
    /// Renders a Unix time (seconds since 1970-01-01T00:00:00Z). Times after year 9999 are clamped
    /// to [`MAX_UNIX_SECS`], since the format has a four-digit year.
    pub fn from_unix(secs: u64) -> Self {
        let c = to_civil(secs);
        let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
        put(
            &mut out,
            0,
            DAY_NAMES.get(c.weekday).copied().unwrap_or(b"Thu"),
        );
        put_num(&mut out, 5, 2, c.day);
        put(&mut out, 8, month_name(c.month));
        put_num(&mut out, 12, 4, c.year);
        put_num(&mut out, 17, 2, c.hour);
        put_num(&mut out, 20, 2, c.minute);
        put_num(&mut out, 23, 2, c.second);
        Self(out)
    }

    /// The 29 bytes of the date.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The date as text.
    pub fn as_str(&self) -> &str {
        // Every byte written is ASCII, so this never takes the fallback.
        core::str::from_utf8(&self.0).unwrap_or("Thu, 01 Jan 1970 00:00:00 GMT")
    }
}

impl core::fmt::Debug for HttpDate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("HttpDate").field(&self.as_str()).finish()
    }
}

impl core::fmt::Display for HttpDate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for HttpDate {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.as_str())
    }
}

/// The Common Log Format date, e.g. `27/Nov/2026:01:02:03 +0000` (always UTC, 26 bytes).
pub fn clf_date(secs: u64) -> [u8; 26] {
    let c = to_civil(secs);
    let mut out = *b"01/Jan/1970:00:00:00 +0000";
    put_num(&mut out, 0, 2, c.day);
    put(&mut out, 3, month_name(c.month));
    put_num(&mut out, 7, 4, c.year);
    put_num(&mut out, 12, 2, c.hour);
    put_num(&mut out, 15, 2, c.minute);
    put_num(&mut out, 18, 2, c.second);
    out
}

/// A cursor over the date text; every step returns `None` on a mismatch.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn literal(&mut self, lit: &[u8]) -> Option<()> {
        self.rest = self.rest.strip_prefix(lit)?;
        Some(())
    }

    fn digits(&mut self, n: usize) -> Option<u32> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        let mut value: u32 = 0;
        for &b in head {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
        }
        self.rest = tail;
        Some(value)
    }

    fn one_of(&mut self, names: &[&[u8]]) -> Option<usize> {
        let i = names.iter().position(|n| self.rest.starts_with(n))?;
        let len = names.get(i)?.len();
        self.rest = self.rest.get(len..)?;
        Some(i)
    }

    fn month(&mut self) -> Option<u32> {
        let names: [&[u8]; 12] = MONTH_NAMES.map(|m| m.as_slice());
        let i = self.one_of(&names)?;
        Some(i as u32 + 1)
    }

    /// `time-of-day = hour ":" minute ":" second` (RFC 9110 §5.6.7); a leap second 60 is accepted.
    fn time_of_day(&mut self) -> Option<(u32, u32, u32)> {
        let hour = self.digits(2)?;
        self.literal(b":")?;
        let minute = self.digits(2)?;
        self.literal(b":")?;
        let second = self.digits(2)?;
        (hour <= 23 && minute <= 59 && second <= 60).then_some((hour, minute, second))
    }

    fn end(&self) -> Option<()> {
        self.rest.is_empty().then_some(())
    }
}

fn to_unix(year: u32, month: u32, day: u32, (h, m, s): (u32, u32, u32)) -> Option<u64> {
    if day == 0 || day > days_in_month(year, month) || year > 9999 {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    let secs = days
        .checked_mul(SECS_PER_DAY)?
        .checked_add(u64::from(h) * 3600 + u64::from(m) * 60 + u64::from(s))?;
    Some(secs)
}

/// `IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT`, `date1 = day SP month SP year`.
fn imf_fixdate(value: &[u8]) -> Option<u64> {
    let mut c = Cursor { rest: value };
    let names: [&[u8]; 7] = DAY_NAMES.map(|d| d.as_slice());
    c.one_of(&names)?;
    c.literal(b", ")?;
    let day = c.digits(2)?;
    c.literal(b" ")?;
    let month = c.month()?;
    c.literal(b" ")?;
    let year = c.digits(4)?;
    c.literal(b" ")?;
    let time = c.time_of_day()?;
    c.literal(b" GMT")?;
    c.end()?;
    to_unix(year, month, day, time)
}

/// `rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT`, `date2 = day "-" month "-" 2DIGIT`.
///
/// RFC 9110 §5.6.7 reads a two-digit year more than 50 years ahead of now as the past century. The
/// core has no clock, so it uses the fixed POSIX pivot: 70–99 are 19xx, 00–69 are 20xx.
fn rfc850_date(value: &[u8]) -> Option<u64> {
    let mut c = Cursor { rest: value };
    c.one_of(&LONG_DAY_NAMES)?;
    c.literal(b", ")?;
    let day = c.digits(2)?;
    c.literal(b"-")?;
    let month = c.month()?;
    c.literal(b"-")?;
    let yy = c.digits(2)?;
    c.literal(b" ")?;
    let time = c.time_of_day()?;
    c.literal(b" GMT")?;
    c.end()?;
    let year = if yy >= 70 { 1900 + yy } else { 2000 + yy };
    to_unix(year, month, day, time)
}

/// `asctime-date = day-name SP date3 SP time-of-day SP year`, `date3 = month SP ( 2DIGIT / ( SP DIGIT ))`.
fn asctime_date(value: &[u8]) -> Option<u64> {
    let mut c = Cursor { rest: value };
    let names: [&[u8]; 7] = DAY_NAMES.map(|d| d.as_slice());
    c.one_of(&names)?;
    c.literal(b" ")?;
    let month = c.month()?;
    c.literal(b" ")?;
    let day = if c.literal(b" ").is_some() {
        c.digits(1)?
    } else {
        c.digits(2)?
    };
    c.literal(b" ")?;
    let time = c.time_of_day()?;
    c.literal(b" ")?;
    let year = c.digits(4)?;
    c.end()?;
    to_unix(year, month, day, time)
}

/// Parses an HTTP date in any of the three formats of RFC 9110 §5.6.7 (IMF-fixdate, rfc850,
/// asctime) to Unix seconds.
///
/// Strict: names are case-sensitive as the grammar says, no extra whitespace, the day must exist in
/// its month. The weekday name must be a real one but is not checked against the date, as other
/// recipients do. `None` for anything else, and for dates before 1970 (not representable).
pub fn parse_http_date(value: &[u8]) -> Option<u64> {
    imf_fixdate(value)
        .or_else(|| rfc850_date(value))
        .or_else(|| asctime_date(value))
}

#[cfg(test)]
// reason: a test should fail loudly on a broken assumption.
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    // (Unix seconds, IMF-fixdate) pairs checked against `date -u -d @SECS '+%a, %d %b %Y %T GMT'`.
    const KNOWN: &[(u64, &str)] = &[
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (951_868_799, "Tue, 29 Feb 2000 23:59:59 GMT"),
        (951_868_800, "Wed, 01 Mar 2000 00:00:00 GMT"),
        (1_000_000_000, "Sun, 09 Sep 2001 01:46:40 GMT"),
        (1_234_567_890, "Fri, 13 Feb 2009 23:31:30 GMT"),
        (2_147_483_647, "Tue, 19 Jan 2038 03:14:07 GMT"),
        (2_147_483_648, "Tue, 19 Jan 2038 03:14:08 GMT"),
        (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
        (4_102_444_799, "Thu, 31 Dec 2099 23:59:59 GMT"),
        (1_795_741_323, "Fri, 27 Nov 2026 01:02:03 GMT"),
        (MAX_UNIX_SECS, "Fri, 31 Dec 9999 23:59:59 GMT"),
    ];

    #[test]
    fn formats_known_timestamps() {
        for &(secs, text) in KNOWN {
            assert_eq!(HttpDate::from_unix(secs).as_str(), text, "{secs}");
            assert_eq!(HttpDate::from_unix(secs).as_bytes(), text.as_bytes());
        }
    }

    #[test]
    fn parses_known_timestamps_back() {
        for &(secs, text) in KNOWN {
            assert_eq!(parse_http_date(text.as_bytes()), Some(secs), "{text}");
        }
    }

    #[test]
    fn clamps_after_year_9999() {
        assert_eq!(
            HttpDate::from_unix(u64::MAX).as_str(),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
        assert_eq!(&clf_date(u64::MAX), b"31/Dec/9999:23:59:59 +0000");
    }

    #[test]
    fn round_trips_every_day_boundary_and_a_spread_of_times() {
        // Every day from 1970 to 2200 at 00:00:00 and 23:59:59, plus odd offsets.
        let mut secs = 0u64;
        while secs < 7_258_118_400 {
            for t in [secs, secs + 86_399, secs + 45_296] {
                let d = HttpDate::from_unix(t);
                assert_eq!(parse_http_date(d.as_bytes()), Some(t), "{d}");
            }
            secs += 86_400;
        }
    }

    #[test]
    fn weekday_cycle() {
        // 1970-01-04 was a Sunday; seven consecutive days cover every name once.
        let names: std::vec::Vec<std::string::String> = (3..10)
            .map(|d| HttpDate::from_unix(d * 86_400).as_str()[..3].into())
            .collect();
        assert_eq!(names, ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]);
    }

    #[test]
    fn the_three_formats_of_rfc_9110() {
        // RFC 9110 §5.6.7's own example in its three spellings.
        let want = Some(784_111_777);
        assert_eq!(parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"), want);
        assert_eq!(parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT"), want);
        assert_eq!(parse_http_date(b"Sun Nov  6 08:49:37 1994"), want);
        assert_eq!(parse_http_date(b"Sun Nov 06 08:49:37 1994"), want);
    }

    #[test]
    fn rfc850_two_digit_year_pivot() {
        assert_eq!(
            parse_http_date(b"Thursday, 01-Jan-70 00:00:00 GMT"),
            Some(0)
        );
        assert_eq!(
            parse_http_date(b"Saturday, 01-Jan-00 00:00:00 GMT"),
            Some(946_684_800)
        );
        assert_eq!(
            parse_http_date(b"Friday, 27-Nov-26 01:02:03 GMT"),
            Some(1_795_741_323)
        );
        assert_eq!(
            parse_http_date(b"Friday, 31-Dec-99 23:59:59 GMT"),
            Some(946_684_799)
        );
    }

    #[test]
    fn leap_second_is_accepted() {
        assert_eq!(
            parse_http_date(b"Sat, 31 Dec 2016 23:59:60 GMT"),
            Some(1_483_228_800)
        );
    }

    #[test]
    fn rejects_malformed_dates() {
        for bad in [
            &b""[..],
            b"Sun, 06 Nov 1994 08:49:37",
            b"Sun, 06 Nov 1994 08:49:37 UTC",
            b"Sun, 06 Nov 1994 08:49:37 gmt",
            b"sun, 06 Nov 1994 08:49:37 GMT",
            b"Sun, 06 nov 1994 08:49:37 GMT",
            b"Sun, 6 Nov 1994 08:49:37 GMT",
            b"Sun, 06 Nov 94 08:49:37 GMT",
            b"Sun,  06 Nov 1994 08:49:37 GMT",
            b" Sun, 06 Nov 1994 08:49:37 GMT",
            b"Sun, 06 Nov 1994 08:49:37 GMT ",
            b"Sun, 06 Nov 1994 08:49:37 GMTX",
            b"Sun, 06 Nov 1994 8:49:37 GMT",
            b"Sun, 06 Nov 1994 24:00:00 GMT",
            b"Sun, 06 Nov 1994 23:60:00 GMT",
            b"Sun, 06 Nov 1994 23:59:61 GMT",
            b"Sun, 00 Nov 1994 08:49:37 GMT",
            b"Sun, 31 Nov 1994 08:49:37 GMT",
            b"Thu, 29 Feb 1900 00:00:00 GMT",
            b"Fri, 29 Feb 2019 00:00:00 GMT",
            b"Wed, 31 Dec 1969 23:59:59 GMT",
            b"Foo, 06 Nov 1994 08:49:37 GMT",
            b"Sun, 06 Nov 1994 08:49:37 +0000",
            b"Sun, 06 Nov 1994 08:49:3x GMT",
            b"Sun, 06 Nov +994 08:49:37 GMT",
            b"Sunday, 06-Nov-1994 08:49:37 GMT",
            b"Sun, 06-Nov-94 08:49:37 GMT",
            b"Sunday, 6-Nov-94 08:49:37 GMT",
            b"Sun Nov 6 08:49:37 1994",
            b"Sun Nov  6 08:49:37 94",
            b"Sun Nov  6 08:49:37 1994 GMT",
            b"1994-11-06T08:49:37Z",
            b"784111777",
            b"Sun, 06 Nov 1994 08:49:37 GMT\0",
            "Sun, 06 Nov 1994 08:49:37 GMT\u{e9}".as_bytes(),
        ] {
            assert_eq!(
                parse_http_date(bad),
                None,
                "{:?}",
                std::string::String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn accepts_feb_29_in_leap_years() {
        assert_eq!(
            parse_http_date(b"Thu, 29 Feb 2024 12:00:00 GMT"),
            Some(1_709_208_000)
        );
        assert_eq!(
            parse_http_date(b"Thu, 29 Feb 2024 12:00:00 GMT")
                .map(|s| std::format!("{}", HttpDate::from_unix(s))),
            Some("Thu, 29 Feb 2024 12:00:00 GMT".into())
        );
    }

    #[test]
    fn clf_dates() {
        assert_eq!(&clf_date(1_795_741_323), b"27/Nov/2026:01:02:03 +0000");
        assert_eq!(&clf_date(0), b"01/Jan/1970:00:00:00 +0000");
        assert_eq!(&clf_date(784_111_777), b"06/Nov/1994:08:49:37 +0000");
    }

    #[test]
    fn debug_shows_the_text() {
        assert_eq!(
            std::format!("{:?}", HttpDate::from_unix(0)),
            "HttpDate(\"Thu, 01 Jan 1970 00:00:00 GMT\")"
        );
    }
}
