//! The three timestamp formats of §5.6: `@`+24 hex (TAI64N), and UTC
//! `YYYY-MM-DD_HH:MM:SS.FFFFF` / `…THH…`, computed with civil-from-days arithmetic.

use super::zone::Zone;
use svbox::tai::Tai64n;

/// Which stamp `-t`, `-tt` or `-ttt` selects (0 = none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    None,
    Tai,
    Utc(u8),
}

impl Format {
    pub fn from_count(t: u8) -> Format {
        match t {
            0 => Format::None,
            1 => Format::Tai,
            2 => Format::Utc(b'_'),
            _ => Format::Utc(b'T'),
        }
    }
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn push_num(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut digits = [0u8; 20];
    let text = svbox::msg::fmt_u64(v, &mut digits);
    for _ in text.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(text);
}

/// Appends the stamp for `now` plus its separating space (nothing for `Format::None`).
pub fn append(out: &mut Vec<u8>, format: Format, now: &Tai64n) {
    match format {
        Format::None => {}
        Format::Tai => {
            out.extend_from_slice(&now.hex());
            out.push(b' ');
        }
        Format::Utc(sep) => {
            let secs = now.unix_secs();
            let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
            let sod = secs.rem_euclid(86_400) as u64;
            if y < 0 {
                out.push(b'-');
            }
            push_num(out, y.unsigned_abs(), 4);
            out.push(b'-');
            push_num(out, u64::from(m), 2);
            out.push(b'-');
            push_num(out, u64::from(d), 2);
            out.push(sep);
            push_num(out, sod / 3600, 2);
            out.push(b':');
            push_num(out, sod / 60 % 60, 2);
            out.push(b':');
            push_num(out, sod % 60, 2);
            out.push(b'.');
            push_num(out, u64::from(now.nano.min(999_999_999)) / 10_000, 5);
            out.push(b' ');
        }
    }
}

/// `now` moved by the local time zone's offset from UTC at that moment (`-L`). The TAI64N
/// stamp is never shifted.
pub fn local(now: &Tai64n, zone: &Zone) -> Tai64n {
    let secs = now.unix_secs();
    Tai64n::from_unix(
        secs.saturating_add(i64::from(zone.offset_at(secs))),
        now.nano,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: Format, secs: i64, nano: u32) -> String {
        let mut v = Vec::new();
        append(&mut v, f, &Tai64n::from_unix(secs, nano));
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn formats() {
        assert_eq!(text(Format::None, 0, 0), "");
        assert_eq!(
            text(Format::Tai, 0x6b011cea - 10, 0x0c639f8c),
            "@400000006b011cea0c639f8c "
        );
        assert_eq!(
            text(Format::Utc(b'_'), 1_795_235_040, 224_690_500),
            "2026-11-21_04:24:00.22469 "
        );
        assert_eq!(
            text(Format::Utc(b'T'), 1_795_235_040, 226_350_500),
            "2026-11-21T04:24:00.22635 "
        );
        assert_eq!(
            text(Format::Utc(b'_'), 0, 500),
            "1970-01-01_00:00:00.00000 "
        );
        assert_eq!(
            text(Format::Utc(b'_'), 951_782_400 - 1, 999_999_500),
            "2000-02-28_23:59:59.99999 "
        );
        assert_eq!(text(Format::Utc(b'_'), 951_868_800, 0)[..10], *"2000-03-01");
        assert_eq!(
            text(Format::Utc(b'_'), 4_107_542_400, 0)[..10],
            *"2100-03-01"
        );
    }

    #[test]
    fn civil_matches_day_by_day_walk() {
        let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
        for day in 0..200_000 {
            assert_eq!(civil_from_days(day), (y, m, d));
            let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
            let len = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            d += 1;
            if d > len[m as usize - 1] {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn local_keeps_fraction() {
        let t = Tai64n::from_unix(1_795_235_040, 123_456_500);
        let l = local(&t, &Zone::named(b"<+0530>-5:30"));
        assert_eq!(l.nano, t.nano);
        assert_eq!(l.unix_secs() - t.unix_secs(), 19_800);
    }

    #[test]
    fn counts() {
        assert_eq!(Format::from_count(0), Format::None);
        assert_eq!(Format::from_count(1), Format::Tai);
        assert_eq!(Format::from_count(3), Format::Utc(b'T'));
        assert_eq!(Format::from_count(9), Format::Utc(b'T'));
    }
}
