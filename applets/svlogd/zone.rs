//! The local time zone of `-L` stamps: the offset from UTC at a moment, decided exactly as
//! musl's `localtime_r` decides it, so a stamp agrees with `date` on the same system.
//!
//! TZ unset means /etc/localtime, empty means UTC. A POSIX rule (`CET-1CEST,M3.5.0,M10.5.0/3`,
//! `<+0330>-3:30`, `UTC`) is used as written; anything else names a TZif file: a path
//! starting with `/` or `.` (after an optional `:`), or a name looked up in
//! /usr/share/zoneinfo, /share/zoneinfo and /etc/zoneinfo. A file that cannot be read or is
//! not TZif means UTC. After a file's last transition its footer rule applies.
//!
//! Why not libc's `localtime_r`: in a static musl binary it brings musl's time-zone code and
//! a malloc that nothing else in svbox needs, 15 KB of a MIPS build. The zone is read once,
//! when svlogd starts (musl also reads it once while TZ stays the same).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// The zone: a TZif file's transitions, then a rule.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Zone {
    /// Transition times (Unix seconds, ascending) and the offset east of UTC from then on.
    changes: Vec<(i64, i32)>,
    /// The offset before the first transition: the file's first standard-time type.
    before: i32,
    rule: Rule,
}

/// A POSIX TZ rule, in musl's terms: offsets are seconds west of UTC.
#[derive(Debug, Default, PartialEq, Eq)]
struct Rule {
    std_west: i32,
    dst_west: i32,
    daylight: bool,
    /// When daylight time starts and ends: `[kind, n|month, week, weekday, time]`, kind
    /// `b'J'`, `b'M'` or 0 (zero-based day of the year). All zero when the rule names none.
    start: [i32; 5],
    end: [i32; 5],
}

const ZONE_DIRS: [&[u8]; 3] = [
    b"/usr/share/zoneinfo/",
    b"/share/zoneinfo/",
    b"/etc/zoneinfo/",
];
/// Larger than any TZif file tzdata makes (the largest are about 4 KB).
const MAX_FILE: usize = 64 * 1024;

impl Zone {
    /// The zone TZ names, or /etc/localtime's.
    pub fn from_env() -> Zone {
        let tz = svbox::env::var(c"TZ");
        Zone::named(tz.as_deref().map_or(b"/etc/localtime", OsStr::as_bytes))
    }

    /// The zone a TZ value names.
    pub fn named(tz: &[u8]) -> Zone {
        if tz.is_empty() || is_posix_rule(tz) {
            return Zone {
                rule: Rule::parse(tz),
                ..Zone::default()
            };
        }
        let name = tz.strip_prefix(b":").unwrap_or(tz);
        let data = match name.first() {
            Some(b'/' | b'.') => read(name),
            _ if name.len() <= 255 && !name.contains(&b'.') => {
                ZONE_DIRS.iter().find_map(|dir| read(&[dir, name].concat()))
            }
            _ => None,
        };
        data.and_then(|d| Zone::from_tzif(&d)).unwrap_or_default()
    }

    /// The offset east of UTC, in seconds, at Unix time `t`.
    pub fn offset_at(&self, t: i64) -> i32 {
        let after = self.changes.partition_point(|&(at, _)| at <= t);
        match after {
            0 if !self.changes.is_empty() => self.before,
            n if n < self.changes.len() => self.changes[n - 1].1,
            _ => self.rule.offset_at(t),
        }
    }

    /// A TZif file (RFC 8536): version 2 and later's 64-bit data when present.
    fn from_tzif(d: &[u8]) -> Option<Zone> {
        if !d.starts_with(b"TZif") {
            return None;
        }
        let be32 = |at: usize| Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?));
        // The i-th count of the header at `at`: isut, isstd, leap, time, type, char. None
        // beyond the file's length, so that no offset computed from counts can overflow.
        let count = |at: usize, i: usize| {
            be32(at + 20 + 4 * i)
                .map(|n| n as usize)
                .filter(|&n| n <= d.len())
        };
        let (mut at, mut width) = (0, 4);
        if d.get(4) != Some(&0) {
            // Skip the 32-bit data of version 1.
            at = 44;
            for (i, size) in [1, 1, 8, 5, 6, 1].into_iter().enumerate() {
                at += count(0, i)? * size;
            }
            width = 8;
        }
        let (times, types) = (count(at, 3)?, count(at, 4)?);
        let times_at = at + 44;
        let index_at = times_at + times * width;
        let types_at = index_at + times;
        let ty = |i: usize| {
            Some((
                be32(types_at + 6 * i)? as i32,
                *d.get(types_at + 6 * i + 4)?,
            ))
        };
        let mut changes = Vec::with_capacity(times);
        for i in 0..times {
            let at = times_at + i * width;
            let mut when = i64::from(be32(at)? as i32);
            if width == 8 {
                when = when << 32 | i64::from(be32(at + 4)?);
            }
            changes.push((when, ty(usize::from(*d.get(index_at + i)?))?.0));
        }
        // musl's choices: the first standard-time type, and the first daylight one.
        let (mut std, mut dst) = (None, None);
        for i in 0..types {
            let (off, is_dst) = ty(i)?;
            if is_dst != 0 {
                dst.get_or_insert(off)
            } else {
                std.get_or_insert(off)
            };
        }
        let before = std.or(ty(0).map(|t| t.0)).unwrap_or(0);
        let rule = match d.strip_suffix(b"\n") {
            Some(body) => Rule::parse(&body[memchr::memrchr(b'\n', body)? + 1..]),
            // A version 1 file has no rule: musl builds one of those two types.
            None => {
                let std_west = std.or(dst).unwrap_or(0).wrapping_neg();
                let dst_west = dst.map_or(std_west, i32::wrapping_neg);
                Rule {
                    std_west,
                    dst_west,
                    daylight: dst.is_some(),
                    ..Rule::default()
                }
            }
        };
        Some(Zone {
            changes,
            before,
            rule,
        })
    }
}

fn read(path: &[u8]) -> Option<Vec<u8>> {
    let mut buf = vec![0; MAX_FILE];
    let n = svbox::fsio::read_prefix(path, &mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}

/// musl's test: a name followed by an offset, or the names UTC and GMT alone.
fn is_posix_rule(tz: &[u8]) -> bool {
    if tz[0] == b':' {
        return false;
    }
    let mut s = tz;
    let name = take_name(&mut s);
    s.len() < tz.len()
        && (matches!(s.first(), Some(b'+' | b'-' | b'0'..=b'9'))
            || name == b"UTC"
            || name == b"GMT")
}

/// A zone abbreviation: letters, or anything between `<` and `>`.
fn take_name<'a>(s: &mut &'a [u8]) -> &'a [u8] {
    let (name, skip) = match s.strip_prefix(b"<") {
        Some(rest) => {
            let n = rest.iter().position(|&c| c == b'>').unwrap_or(rest.len());
            (&rest[..n], 1 + n + usize::from(n < rest.len()))
        }
        None => {
            let n = s
                .iter()
                .position(|c| !c.is_ascii_alphabetic())
                .unwrap_or(s.len());
            (&s[..n], n)
        }
    };
    *s = &s[skip..];
    name
}

fn take_int(s: &mut &[u8]) -> i32 {
    let (value, used) = svbox::scan::scan_ulong(s);
    *s = &s[used..];
    value.min(i32::MAX as u64) as i32
}

/// `[+-]hh[:mm[:ss]]` in seconds.
fn take_offset(s: &mut &[u8]) -> i32 {
    let negative = s.first() == Some(&b'-');
    if matches!(s.first(), Some(b'+' | b'-')) {
        *s = &s[1..];
    }
    let mut off = take_int(s).wrapping_mul(3600);
    for scale in [60, 1] {
        match s.strip_prefix(b":") {
            Some(rest) => *s = rest,
            None => break,
        }
        off = off.wrapping_add(take_int(s).wrapping_mul(scale));
    }
    if negative {
        off.wrapping_neg()
    } else {
        off
    }
}

/// `Jn`, `n` or `Mm.w.d`, then `/time` (02:00 when absent).
fn take_date(s: &mut &[u8]) -> [i32; 5] {
    let mut r = [0; 5];
    match s.first() {
        Some(b'M') => {
            r[0] = i32::from(b'M');
            for field in &mut r[1..4] {
                *s = s.get(1..).unwrap_or_default();
                *field = take_int(s);
            }
        }
        first => {
            if first == Some(&b'J') {
                r[0] = i32::from(b'J');
                *s = &s[1..];
            }
            r[1] = take_int(s);
        }
    }
    r[4] = match s.strip_prefix(b"/") {
        Some(rest) => {
            *s = rest;
            take_offset(s)
        }
        None => 7200,
    };
    r
}

impl Rule {
    fn parse(mut s: &[u8]) -> Rule {
        let s = &mut s;
        take_name(s);
        let std_west = take_offset(s);
        let daylight = !take_name(s).is_empty();
        let dst_west = match s.first() {
            Some(b'+' | b'-' | b'0'..=b'9') if daylight => take_offset(s),
            _ if daylight => std_west.wrapping_sub(3600),
            _ => std_west,
        };
        let mut rule = Rule {
            std_west,
            dst_west,
            daylight,
            ..Rule::default()
        };
        for date in [&mut rule.start, &mut rule.end] {
            match s.strip_prefix(b",") {
                Some(rest) => *s = rest,
                None => break,
            }
            *date = take_date(s);
        }
        rule
    }

    fn offset_at(&self, t: i64) -> i32 {
        let west = if self.daylight && self.in_daylight_time(t) {
            self.dst_west
        } else {
            self.std_west
        };
        west.wrapping_neg()
    }

    /// musl's comparison: both changes of the UTC year of `t`, the start at standard time and
    /// the end at daylight time; a start after the end is a southern-hemisphere year.
    fn in_daylight_time(&self, t: i64) -> bool {
        let (year, _, _) = super::stamp::civil_from_days(t.div_euclid(86_400));
        let year = year.clamp(-1_000_000, 1_000_000) as i32;
        let start = date_in_year(&self.start, year) + i64::from(self.std_west);
        let end = date_in_year(&self.end, year) + i64::from(self.dst_west);
        if start < end {
            (start..end).contains(&t)
        } else {
            !(end..start).contains(&t)
        }
    }
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The days of each month in a common year.
const MONTH_DAYS: [u8; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// Days from 1970-01-01 to January 1st of `year`.
fn year_start(year: i32) -> i32 {
    let y = year - 1;
    365 * (year - 1970) + (y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400)) - 477
}

/// The Unix time (as UTC) at which a rule date of `year` happens, before the zone's offset.
/// Day counts fit 32 bits for any year a clock shows; 64-bit arithmetic is dear on 32-bit
/// targets.
fn date_in_year(r: &[i32; 5], year: i32) -> i64 {
    let leap = is_leap(year);
    let mut day = year_start(year);
    if r[0] != i32::from(b'M') {
        let mut x = r[1];
        if r[0] == i32::from(b'J') && (x < 60 || !leap) {
            x -= 1;
        }
        day += x;
    } else {
        let month = r[1].clamp(1, 12) as usize;
        let mut length = 0;
        for (m, &days) in MONTH_DAYS[..month].iter().enumerate() {
            day += length;
            length = i32::from(days) + i32::from(m == 1 && leap);
        }
        let weekday = (day + 4).rem_euclid(7);
        let days = (r[3] - weekday).rem_euclid(7);
        let week = if r[2] == 5 && days + 28 >= length {
            4
        } else {
            r[2]
        };
        day += days + 7 * (week - 1);
    }
    i64::from(day) * 86_400 + i64::from(r[4])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix time of a UTC date and time.
    fn at(y: i32, mo: u32, d: u32, h: i64, mi: i64) -> i64 {
        let days: i32 = MONTH_DAYS[..mo as usize - 1]
            .iter()
            .map(|&n| i32::from(n))
            .sum();
        let days = days + i32::from(mo > 2 && is_leap(y));
        i64::from(year_start(y) + days + d as i32 - 1) * 86_400 + h * 3600 + mi * 60
    }

    #[test]
    fn year_starts() {
        assert_eq!(year_start(1970), 0);
        assert_eq!(year_start(1971), 365);
        assert_eq!(year_start(2000), 10_957);
        assert_eq!(year_start(2026), 20_454);
        assert_eq!(year_start(1969), -365);
    }

    #[test]
    fn version_1_file_without_a_rule() {
        // Two transitions between a standard (+1 h) and a daylight (+2 h) type.
        let mut f = b"TZif".to_vec();
        f.extend([0; 16]);
        for n in [0u32, 0, 0, 2, 2, 8] {
            f.extend(n.to_be_bytes());
        }
        f.extend(1_000_000i32.to_be_bytes());
        f.extend(2_000_000i32.to_be_bytes());
        f.extend([1, 0]);
        f.extend(3600i32.to_be_bytes());
        f.extend([0, 0]);
        f.extend(7200i32.to_be_bytes());
        f.extend([1, 4]);
        f.extend(b"CET\0CEST");
        let z = Zone::from_tzif(&f).unwrap();
        assert_eq!(z.changes, [(1_000_000, 7200), (2_000_000, 3600)]);
        assert_eq!(z.offset_at(999_999), 3600);
        assert_eq!(z.offset_at(1_500_000), 7200);
        // After the table musl applies daylight time: the rule names no dates.
        assert_eq!(z.offset_at(3_000_000), 7200);
        assert_eq!(Zone::from_tzif(&f[..60]), None);
    }

    #[test]
    fn fixed_offsets() {
        assert_eq!(Zone::named(b"").offset_at(0), 0);
        assert_eq!(Zone::named(b"UTC").offset_at(1 << 40), 0);
        assert_eq!(Zone::named(b"XYZ-3").offset_at(0), 3 * 3600);
        assert_eq!(Zone::named(b"<+0530>-5:30").offset_at(0), 5 * 3600 + 1800);
        assert_eq!(Zone::named(b"EST+5").offset_at(0), -5 * 3600);
        assert_eq!(Zone::named(b"AB-1:02:03").offset_at(0), 3723);
    }

    #[test]
    fn european_rule_changes_at_one_utc() {
        let z = Zone::named(b"CET-1CEST,M3.5.0,M10.5.0/3");
        // 2026: last Sunday of March is the 29th, of October the 25th.
        assert_eq!(z.offset_at(at(2026, 3, 29, 0, 59)), 3600);
        assert_eq!(z.offset_at(at(2026, 3, 29, 1, 0)), 7200);
        assert_eq!(z.offset_at(at(2026, 10, 25, 0, 59)), 7200);
        assert_eq!(z.offset_at(at(2026, 10, 25, 1, 0)), 3600);
        assert_eq!(z.offset_at(at(2026, 12, 31, 23, 59)), 3600);
    }

    #[test]
    fn southern_and_julian_rules() {
        // Sydney: daylight from the first Sunday of October to the first of April.
        let z = Zone::named(b"AEST-10AEDT,M10.1.0,M4.1.0/3");
        assert_eq!(z.offset_at(at(2026, 1, 15, 0, 0)), 11 * 3600);
        assert_eq!(z.offset_at(at(2026, 4, 4, 15, 59)), 11 * 3600);
        assert_eq!(z.offset_at(at(2026, 4, 4, 16, 0)), 10 * 3600);
        assert_eq!(z.offset_at(at(2026, 10, 3, 16, 0)), 11 * 3600);
        // J60 is March 1st in every year; 59 (zero-based) is March 1st only in leap years.
        let j = Zone::named(b"A0B,J60/0,J300");
        assert_eq!(j.offset_at(at(2024, 3, 1, 0, 0) - 1), 0);
        assert_eq!(j.offset_at(at(2024, 3, 1, 0, 0)), 3600);
        let n = Zone::named(b"A0B,59/0,300");
        assert_eq!(n.offset_at(at(2024, 2, 29, 0, 0)), 3600);
        assert_eq!(n.offset_at(at(2023, 2, 28, 23, 59)), 0);
    }

    #[test]
    fn daylight_without_dates_is_musls_all_year() {
        // musl takes missing dates as zero, so daylight time never ends; glibc would assume
        // US rules. svlogd agrees with the libc it runs beside.
        assert_eq!(
            Zone::named(b"EST5EDT").offset_at(at(2026, 1, 1, 12, 0)),
            -4 * 3600
        );
    }

    #[test]
    fn bad_files_and_names_mean_utc() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk");
        std::fs::write(&junk, b"TZif2 but far too short").unwrap();
        for tz in [
            junk.as_os_str().as_bytes(),
            b"/nonexistent/zone",
            b":No/Such_Zone",
            b"../x",
        ] {
            assert_eq!(
                Zone::named(tz),
                Zone::default(),
                "{}",
                String::from_utf8_lossy(tz)
            );
        }
        // Counts far beyond the file: refused, not allocated or overflowed.
        let mut huge = b"TZif2".to_vec();
        huge.extend([0; 15]);
        huge.extend([0xff; 24]);
        huge.extend([0; 100]);
        assert_eq!(Zone::from_tzif(&huge), None);
        huge[4] = 0;
        assert_eq!(Zone::from_tzif(&huge), None);
        let truncated = std::fs::read("/usr/share/zoneinfo/Europe/Berlin").unwrap();
        std::fs::write(&junk, &truncated[..truncated.len() / 2]).unwrap();
        assert_eq!(Zone::named(junk.as_os_str().as_bytes()), Zone::default());
    }

    /// Needs tzdata (CI installs it).
    #[test]
    fn zone_files_give_their_offsets() {
        let berlin = Zone::named(b"Europe/Berlin");
        assert_eq!(Zone::named(b":/usr/share/zoneinfo/Europe/Berlin"), berlin);
        assert_eq!(berlin.offset_at(at(2026, 3, 29, 0, 59)), 3600);
        assert_eq!(berlin.offset_at(at(2026, 3, 29, 1, 0)), 7200);
        // Past any table (footer rule) and before it (local mean time, +0:53:28).
        assert_eq!(berlin.offset_at(at(2200, 7, 1, 0, 0)), 7200);
        assert_eq!(berlin.offset_at(-(1 << 40)), 3208);
        assert_eq!(
            Zone::named(b"Asia/Kolkata").offset_at(at(2026, 1, 1, 0, 0)),
            19_800
        );
        let new_york = Zone::named(b"America/New_York");
        assert_eq!(new_york.offset_at(at(2026, 3, 8, 6, 59)), -5 * 3600);
        assert_eq!(new_york.offset_at(at(2026, 3, 8, 7, 0)), -4 * 3600);
        assert_eq!(
            Zone::named(b"Australia/Sydney").offset_at(at(2026, 1, 15, 0, 0)),
            11 * 3600
        );
    }

    /// Zone files parse, and where a table and its footer rule both
    /// cover a year their offsets agree hour by hour.
    #[test]
    fn every_zone_table_agrees_with_its_rule() {
        let mut checked = 0;
        for name in [
            "Europe/Berlin",
            "Europe/London",
            "America/New_York",
            "America/Santiago",
            "Australia/Sydney",
            "Pacific/Auckland",
            "Asia/Tehran",
            "America/Sao_Paulo",
            "Asia/Kolkata",
            "Pacific/Chatham",
        ] {
            let z = Zone::named(name.as_bytes());
            assert_ne!(z, Zone::default(), "{name}");
            let last = z.changes.last().map_or(0, |c| c.0);
            // The year before the table's last transition: table and rule both apply.
            let (year, _, _) = super::super::stamp::civil_from_days(last.div_euclid(86_400) - 366);
            let from = at(year as i32, 1, 1, 0, 0).max(at(2025, 1, 1, 0, 0));
            if from > last {
                continue;
            }
            for hour in 0..(last - from) / 3600 {
                let t = from + hour * 3600;
                assert_eq!(z.offset_at(t), z.rule.offset_at(t), "{name} at {t}");
            }
            checked += 1;
        }
        assert!(checked >= 5, "only {checked} zones had a table beyond 2025");
    }
}
