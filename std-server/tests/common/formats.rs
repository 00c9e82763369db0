//! Formats the tests check: IMF-fixdate and CLF times, the Combined Log Format line, digests, and
//! deterministic test bytes.

use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]; // 1970-01-01 was a Thursday

/// Seconds since the Unix epoch now.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn two_digits(s: &str, max: u32) -> Option<u32> {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
        .filter(|&v| v <= max)
}

fn date_time(y: &str, mon: &str, d: &str, hms: &str) -> Option<u64> {
    if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i64 = y.parse().ok()?;
    let month = MONTHS.iter().position(|m| *m == mon)? as u32 + 1;
    let day = two_digits(d, 31).filter(|&d| d >= 1)?;
    let mut t = hms.split(':');
    let (h, mi, s) = (t.next()?, t.next()?, t.next()?);
    if t.next().is_some() {
        return None;
    }
    let (h, mi, s) = (two_digits(h, 23)?, two_digits(mi, 59)?, two_digits(s, 60)?);
    let days = days_from_civil(year, month, day);
    if days < 0 {
        return None;
    }
    Some(days as u64 * 86_400 + u64::from(h) * 3600 + u64::from(mi) * 60 + u64::from(s))
}

/// Unix seconds of a strict IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7),
/// including a weekday that matches the date; `None` for anything else.
pub fn parse_imf_fixdate(s: &str) -> Option<u64> {
    if s.len() != 29 {
        return None;
    }
    let (wd, rest) = s.split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    if parts.len() != 5 || parts[4] != "GMT" {
        return None;
    }
    let secs = date_time(parts[2], parts[1], parts[0], parts[3])?;
    (WEEKDAYS[((secs / 86_400) % 7) as usize] == wd).then_some(secs)
}

/// Unix seconds of a Common Log Format time `27/Nov/2026:01:02:03 +0000`; `None` if malformed.
pub fn parse_clf_time(s: &str) -> Option<u64> {
    let (stamp, zone) = s.split_once(' ')?;
    if zone.len() != 5
        || !(zone.starts_with('+') || zone.starts_with('-'))
        || !zone[1..].bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut it = stamp.splitn(3, '/');
    let (d, mon, rest) = (it.next()?, it.next()?, it.next()?);
    let (y, hms) = rest.split_once(':')?;
    let local = date_time(y, mon, d, hms)? as i64;
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let offset: i64 = zone[1..3].parse::<i64>().ok()? * 3600 + zone[3..5].parse::<i64>().ok()? * 60;
    u64::try_from(local - sign * offset).ok()
}

/// One access-log line in the Combined Log Format, fields as written (quoted ones still escaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLine {
    pub client: String,
    pub ident: String,
    pub user: String,
    /// Inside the brackets, e.g. `27/Nov/2026:01:02:03 +0000`.
    pub time: String,
    /// Inside the quotes, escaped as written, e.g. `GET /a.html HTTP/1.1`.
    pub request: String,
    pub status: u16,
    /// Digits or `-`.
    pub bytes: String,
    pub referer: String,
    pub user_agent: String,
}

/// Parses `client ident user [time] "request" status bytes "referer" "user-agent"` strictly:
/// single spaces, a valid CLF time, quoted fields whose only escapes are `\"`, `\\` and `\xHH`
/// with no raw control bytes, a 3-digit status, bytes as digits or `-`, nothing after.
pub fn parse_access_line(line: &str) -> Option<AccessLine> {
    fn word(s: &str) -> Option<(&str, &str)> {
        let end = s.find(' ')?;
        let w = &s[..end];
        (!w.is_empty()).then_some((w, &s[end + 1..]))
    }
    fn quoted(s: &str) -> Option<(String, &str)> {
        let s = s.strip_prefix('"')?;
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'"' => return Some((s[..i].to_string(), &s[i + 1..])),
                b'\\' => match bytes.get(i + 1)? {
                    b'"' | b'\\' => i += 2,
                    b'x' => {
                        let hex = s.get(i + 2..i + 4)?;
                        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                            return None;
                        }
                        i += 4;
                    }
                    _ => return None,
                },
                b if b < 0x20 || b == 0x7f => return None,
                _ => i += 1,
            }
        }
        None
    }
    let (client, rest) = word(line)?;
    let (ident, rest) = word(rest)?;
    let (user, rest) = word(rest)?;
    let rest = rest.strip_prefix('[')?;
    let (time, rest) = rest.split_once("] ")?;
    parse_clf_time(time)?;
    let (request, rest) = quoted(rest)?;
    let rest = rest.strip_prefix(' ')?;
    let (status, rest) = word(rest)?;
    if status.len() != 3 || !status.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (bytes, rest) = word(rest)?;
    if bytes != "-" && !bytes.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (referer, rest) = quoted(rest)?;
    let rest = rest.strip_prefix(' ')?;
    let (user_agent, rest) = quoted(rest)?;
    if !rest.is_empty() {
        return None;
    }
    Some(AccessLine {
        client: client.to_string(),
        ident: ident.to_string(),
        user: user.to_string(),
        time: time.to_string(),
        request,
        status: status.parse().ok()?,
        bytes: bytes.to_string(),
        referer,
        user_agent,
    })
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `len` deterministic pseudo-random bytes (xorshift64*), different for each `seed`.
pub fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A tiny valid PNG (1x1, red), for tests that want a real image.
pub const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xDE, 0x00, 0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x08, 0xD7, 0x63, 0xF8, 0xCF, 0xC0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xDD, 0x8D, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E,
    0x44, 0xAE, 0x42, 0x60, 0x82,
];
