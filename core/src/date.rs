//! HTTP dates (RFC 9110 §5.6.7) and the access log's date, from and to Unix seconds.
//!
//! The core has no clock: the caller passes the time. Dates are UTC; the calendar arithmetic is the
//! proleptic Gregorian "days from civil" algorithm (H. Hinnant), so no tables and no floating point.
//! All of it runs on `u32` (days since 1970 stay below 2^22 up to year 9999): a 32-bit device then
//! never calls the 64-bit division routine, which alone is close to 1 KiB of code.

use nom::Parser;
use nom::bytes::complete::take;

use crate::chars::digit;
use crate::rules::PResult;

/// The largest Unix time with a four-digit year: 9999-12-31T23:59:59Z. Later times are clamped to it.
pub const MAX_UNIX_SECS: u64 = 253_402_300_799;

/// The day and month names, three letters each, packed: one compare loop serves both.
const DAY_NAMES: &[u8; 21] = b"SunMonTueWedThuFriSat";
const MONTH_NAMES: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";
/// What follows the three-letter day name in the long names of rfc850-date (`Sun` + `day`).
const LONG_DAY_SUFFIXES: [&[u8]; 7] = [
    b"day", b"day", b"sday", b"nesday", b"rsday", b"day", b"urday",
];

/// The three-letter name number `index` of a packed name table. By value: three byte stores, where
/// copying a slice would call `memcpy`.
fn name(table: &[u8], index: u32) -> [u8; 3] {
    match table.chunks_exact(3).nth(index as usize) {
        Some(&[a, b, c]) => [a, b, c],
        _ => *b"???",
    }
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31); exact for every day up to year 9999.
fn civil_from_days(days: u32) -> (u32, u32, u32) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a year; 719_468 is its distance.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + u32::from(month <= 2), month, day)
}

/// (year >= 1970, month 1..=12, day 1..=31) to days since 1970-01-01.
fn days_from_civil(year: u32, month: u32, day: u32) -> u32 {
    let y = year - u32::from(month <= 2);
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // year >= 1970 keeps this at or above 1970-01-01, so it never goes below zero.
    (era * 146_097 + doe).saturating_sub(719_468)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A broken-down UTC time: year, month (1..=12), day, hour, minute, second, weekday (0 = Sunday).
struct Civil([u32; 7]);

fn to_civil(secs: u64) -> Civil {
    // 86_400 = 2^7 * 675: dividing by 2^7 first brings the clamped time under 2^31, so the rest
    // is 32-bit division (floor(floor(x / a) / b) = floor(x / (a * b))).
    let secs = secs.min(MAX_UNIX_SECS);
    let units = (secs >> 7) as u32;
    let days = units / 675;
    let rem = (units % 675) * 128 + (secs as u32 & 127);
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    Civil([
        year,
        month,
        day,
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        (days + 4) % 7,
    ])
}

/// Fills a date template: for each (offset, width, field of `Civil`), the field in decimal,
/// zero-padded; width 3 means a name (of the weekday for field 6, of the month otherwise). One loop
/// for both date formats.
fn render(out: &mut [u8], civil: &Civil, layout: &[(u8, u8, u8)]) {
    for &(at, width, field) in layout {
        let value = civil.0.get(usize::from(field)).copied().unwrap_or(0);
        let at = usize::from(at);
        let Some(dst) = out.get_mut(at..at + usize::from(width)) else {
            continue;
        };
        if let Ok(dst) = <&mut [u8; 3]>::try_from(&mut *dst) {
            *dst = match field {
                6 => name(DAY_NAMES, value),
                _ => name(MONTH_NAMES, value.wrapping_sub(1)),
            };
        } else {
            let mut value = value;
            for b in dst.iter_mut().rev() {
                *b = b'0' + (value % 10) as u8;
                value /= 10;
            }
        }
    }
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
        render(
            &mut out,
            &c,
            &[
                (0, 3, 6),
                (5, 2, 2),
                (8, 3, 1),
                (12, 4, 0),
                (17, 2, 3),
                (20, 2, 4),
                (23, 2, 5),
            ],
        );
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
    let mut out = *b"01/Jan/1970:00:00:00 +0000";
    let layout = [
        (0, 2, 2),
        (3, 3, 1),
        (7, 4, 0),
        (12, 2, 3),
        (15, 2, 4),
        (18, 2, 5),
    ];
    render(&mut out, &to_civil(secs), &layout);
    out
}

/// `n` digits exactly (`2DIGIT`, `4DIGIT`, ...; n at most 4) as a number.
// Out of line, as are the name and literal steps: each is used several times across the formats.
#[inline(never)]
fn fixed_digits(input: &[u8], n: usize) -> PResult<'_, u32> {
    let (rest, run) = take(n).parse(input)?;
    let mut value = 0;
    for &byte in run {
        if !digit(byte) {
            return Err(nom::Err::Error(()));
        }
        value = value * 10 + u32::from(byte - b'0');
    }
    Ok((rest, value))
}

/// `2DIGIT`: `day`, `hour`, `minute`, `second` and rfc850's year (RFC 9110 §5.6.7).
fn two_digits(input: &[u8]) -> PResult<'_, u32> {
    fixed_digits(input, 2)
}

/// `year = 4DIGIT` (RFC 9110 §5.6.7).
fn year(input: &[u8]) -> PResult<'_, u32> {
    fixed_digits(input, 4)
}

/// A three-letter name of a packed table, case-sensitive as the grammar's `%s` strings: its index.
#[inline(never)]
fn three_letter_name<'a>(input: &'a [u8], table: &[u8]) -> PResult<'a, u32> {
    let (rest, name) = take(3usize).parse(input)?;
    match table.chunks_exact(3).position(|n| n == name) {
        Some(index) => Ok((rest, index as u32)),
        None => Err(nom::Err::Error(())),
    }
}

/// `day-name = %s"Mon" / %s"Tue" / ...` (RFC 9110 §5.6.7): 0 for Sunday.
fn day_name(input: &[u8]) -> PResult<'_, u32> {
    three_letter_name(input, DAY_NAMES)
}

/// `month = %s"Jan" / %s"Feb" / ...` (RFC 9110 §5.6.7): 0 for January.
fn month(input: &[u8]) -> PResult<'_, u32> {
    three_letter_name(input, MONTH_NAMES)
}

/// `day-name-l = %s"Monday" / %s"Tuesday" / ...` (RFC 9110 §5.6.7), of rfc850-date, after its
/// first three letters (the `day-name` of `weekday`).
fn day_name_l_rest(input: &[u8], weekday: u32) -> PResult<'_, ()> {
    let suffix = LONG_DAY_SUFFIXES
        .get(weekday as usize)
        .copied()
        .unwrap_or_default();
    literal(input, suffix)
}

/// The literal text of a rule (`","`, `SP`, `GMT`), case-sensitive.
#[inline(never)]
fn literal<'a>(input: &'a [u8], text: &[u8]) -> PResult<'a, ()> {
    match input.strip_prefix(text) {
        Some(rest) => Ok((rest, ())),
        None => Err(nom::Err::Error(())),
    }
}

/// `SP time-of-day SP` with `time-of-day = hour ":" minute ":" second` (RFC 9110 §5.6.7): what
/// follows the date in all three formats, in seconds; a leap second 60 is accepted.
fn spaced_time_of_day(input: &[u8]) -> PResult<'_, u32> {
    let (input, ()) = literal(input, b" ")?;
    let (input, hour) = two_digits(input)?;
    let (input, ()) = literal(input, b":")?;
    let (input, minute) = two_digits(input)?;
    let (input, ()) = literal(input, b":")?;
    let (input, second) = two_digits(input)?;
    let (rest, ()) = literal(input, b" ")?;
    if hour <= 23 && minute <= 59 && second <= 60 {
        Ok((rest, hour * 3600 + minute * 60 + second))
    } else {
        Err(nom::Err::Error(()))
    }
}

/// A date as the three formats give it: year, month (0 for January), day, seconds of the day.
type DateFields = (u32, u32, u32, u32);

// The three formats are written as sequences of `?` steps rather than nom tuples: each tuple
// element is a generic instantiation, and the steps keep the parser near its hand-written size.

/// `IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT` with `date1 = day SP month SP year`
/// (RFC 9110 §5.6.7), after the day name.
fn imf_fixdate(input: &[u8]) -> PResult<'_, DateFields> {
    let (input, ()) = literal(input, b", ")?;
    let (input, day) = two_digits(input)?;
    let (input, ()) = literal(input, b" ")?;
    let (input, month) = month(input)?;
    let (input, ()) = literal(input, b" ")?;
    let (input, year) = year(input)?;
    let (input, time) = spaced_time_of_day(input)?;
    let (rest, ()) = literal(input, b"GMT")?;
    Ok((rest, (year, month, day, time)))
}

/// `rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT` with
/// `date2 = day "-" month "-" 2DIGIT` (RFC 9110 §5.6.7), after the first three letters of the
/// day name (of `weekday`). The two-digit year: see [`parse_http_date`].
fn rfc850_date(input: &[u8], weekday: u32) -> PResult<'_, DateFields> {
    let (input, ()) = day_name_l_rest(input, weekday)?;
    let (input, ()) = literal(input, b", ")?;
    let (input, day) = two_digits(input)?;
    let (input, ()) = literal(input, b"-")?;
    let (input, month) = month(input)?;
    let (input, ()) = literal(input, b"-")?;
    let (input, yy) = two_digits(input)?;
    let (input, time) = spaced_time_of_day(input)?;
    let (rest, ()) = literal(input, b"GMT")?;
    let year = if yy >= 70 { 1900 + yy } else { 2000 + yy };
    Ok((rest, (year, month, day, time)))
}

/// `asctime-date = day-name SP date3 SP time-of-day SP year` with
/// `date3 = month SP ( 2DIGIT / ( SP DIGIT ) )` (RFC 9110 §5.6.7), after the day name.
fn asctime_date(input: &[u8]) -> PResult<'_, DateFields> {
    let (input, ()) = literal(input, b" ")?;
    let (input, month) = month(input)?;
    let (input, ()) = literal(input, b" ")?;
    let (input, day) = match literal(input, b" ") {
        Ok((input, ())) => fixed_digits(input, 1)?,
        Err(_) => two_digits(input)?,
    };
    let (input, time) = spaced_time_of_day(input)?;
    let (rest, year) = year(input)?;
    Ok((rest, (year, month, day, time)))
}

/// Parses an HTTP date in any of the three formats of RFC 9110 §5.6.7 (IMF-fixdate, rfc850,
/// asctime) to Unix seconds.
///
/// Strict: names are case-sensitive as the grammar says, no extra whitespace, the day must exist in
/// its month. The weekday name must be a real one but is not checked against the date, as other
/// recipients do. `None` for anything else, and for dates before 1970 (not representable).
///
/// ```text
/// IMF-fixdate  = day-name "," SP day SP month SP year SP time-of-day SP GMT
/// rfc850-date  = day-name-l "," SP day "-" month "-" 2DIGIT SP time-of-day SP GMT
/// asctime-date = day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time-of-day SP year
/// ```
/// rfc850's two-digit year: RFC 9110 §5.6.7 reads one more than 50 years ahead of now as the
/// past century. The core has no clock, so it uses the fixed POSIX pivot: 70–99 are 19xx, 00–69
/// are 20xx.
pub fn parse_http_date(value: &[u8]) -> Option<u64> {
    // HTTP-date = IMF-fixdate / obs-date; obs-date = rfc850-date / asctime-date. The three begin
    // with the same three letters of the day name: read once, the byte after them picks the format.
    let (after_name, weekday) = day_name(value).ok()?;
    let parsed = match after_name.first() {
        Some(b',') => imf_fixdate(after_name),
        Some(b' ') => asctime_date(after_name),
        _ => rfc850_date(after_name, weekday),
    };
    let Ok(([], (year, month, day, time))) = parsed else {
        return None;
    };
    let month = month + 1;
    if year < 1970 || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(u64::from(days) * 86_400 + u64::from(time))
}

#[cfg(test)]
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
    fn round_trips_a_spread_of_times_to_year_9999() {
        let mut secs = 0u64;
        while secs <= MAX_UNIX_SECS {
            let d = HttpDate::from_unix(secs);
            assert_eq!(parse_http_date(d.as_bytes()), Some(secs), "{d}");
            let clf = clf_date(secs);
            assert_eq!(&clf[..2], &d.as_bytes()[5..7]);
            assert_eq!(&clf[3..6], &d.as_bytes()[8..11]);
            let year_and_time = std::format!("{}:{}", &d.as_str()[12..16], &d.as_str()[17..25]);
            assert_eq!(&clf[7..20], year_and_time.as_bytes());
            secs += 1_234_567 * 97;
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
    fn obs_date_forms() {
        // rfc850-date: every long day name, a two-digit year on both sides of the pivot.
        for (text, secs) in [
            (&b"Monday, 07-Nov-94 00:00:00 GMT"[..], 784_166_400),
            (b"Tuesday, 08-Nov-94 00:00:00 GMT", 784_252_800),
            (b"Wednesday, 09-Nov-94 00:00:00 GMT", 784_339_200),
            (b"Thursday, 10-Nov-94 00:00:00 GMT", 784_425_600),
            (b"Friday, 11-Nov-94 00:00:00 GMT", 784_512_000),
            (b"Saturday, 12-Nov-94 00:00:00 GMT", 784_598_400),
            (b"Sunday, 13-Nov-94 00:00:00 GMT", 784_684_800),
            (b"Sunday, 31-Dec-69 23:59:59 GMT", 3_155_759_999),
            (b"Sunday, 29-Feb-04 00:00:00 GMT", 1_078_012_800),
        ] {
            assert_eq!(parse_http_date(text), Some(secs), "{text:?}");
        }
        // asctime-date: a day of one digit after two spaces, or of two digits.
        assert_eq!(parse_http_date(b"Thu Jan  1 00:00:00 1970"), Some(0),);
        assert_eq!(
            parse_http_date(b"Sun Dec 31 23:59:59 9999"),
            Some(MAX_UNIX_SECS),
        );
        assert_eq!(
            parse_http_date(b"Tue Feb 29 12:00:00 2000"),
            Some(951_825_600)
        );
        for bad in [
            &b"Sunay, 06-Nov-94 08:49:37 GMT"[..],
            b"Sundays, 06-Nov-94 08:49:37 GMT",
            b"Sunday, 06-Nov-94 08:49:37 UTC",
            b"Sunday, 06-nov-94 08:49:37 GMT",
            b"Sunday, 29-Feb-01 00:00:00 GMT",
            b"Sunday, 06-Nov-94 8:49:37 GMT",
            b"Sun Nov 006 08:49:37 1994",
            b"Sun Nov   6 08:49:37 1994",
            b"Sun Nov  06 08:49:37 1994",
            b"Sun Feb 29 08:49:37 2001",
            b"Sun Nov  6 08:49:37 19940",
            b"Sun  Nov  6 08:49:37 1994",
            b"Sun\tNov  6 08:49:37 1994",
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
            b"Sat, 01 Jan 0000 00:00:00 GMT",
            b"Mon, 01 Mar 0000 00:00:00 GMT",
            b"Fri, 31 Dec 1969 23:59:59 GMT",
            b"Sat Jan  1 00:00:00 0000",
            b"Sunday, 06-Nov-94 08:49:37 GMT ",
            b"Sunday 06-Nov-94 08:49:37 GMT",
            b"Sunday, 06 Nov 1994 08:49:37 GMT",
            b"Sun Nov  6 08:49:37 1994 ",
            b"Mon,",
            b"Mo",
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
