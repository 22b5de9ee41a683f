//! Reading `/proc/PID/stat` as bytes into a stack buffer and picking its numeric fields,
//! without std::fs, UTF-8 checks or str parsing.

use std::ffi::CStr;

/// Room for a whole stat line (52 fields of at most 20 digits, a comm of at most 64).
pub const BUF: usize = 2048;

/// The stat line of `/proc/NAME/stat` (NAME a pid or `self`), read into `buf`.
pub fn read<'a>(name: &[u8], buf: &'a mut [u8; BUF]) -> Option<&'a [u8]> {
    // `/proc/` NAME `/stat` NUL
    let mut path = [0u8; 32];
    let end = 6 + name.len() + 5;
    if end >= path.len() {
        return None;
    }
    path[..6].copy_from_slice(b"/proc/");
    path[6..6 + name.len()].copy_from_slice(name);
    path[6 + name.len()..end].copy_from_slice(b"/stat");
    let path = CStr::from_bytes_with_nul(&path[..=end]).ok()?;
    let n = svbox::fsio::read_prefix(path, buf).ok()?;
    Some(&buf[..n])
}

/// Field `n` after the command name, counting the state as 0 (the ppid is 1, arg_start
/// 45). `comm` may hold anything, so the fields begin after the last `)`.
pub fn field(stat: &[u8], n: usize) -> Option<u64> {
    let close = memchr::memrchr(b')', stat)?;
    let mut fields = stat[close + 1..]
        .split(u8::is_ascii_whitespace)
        .filter(|f| !f.is_empty());
    number(fields.nth(n)?)
}

/// A decimal number as `u64::from_str` takes it: an optional `+`, then only digits.
pub fn number(text: &[u8]) -> Option<u64> {
    let digits = text.strip_prefix(b"+").unwrap_or(text);
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_from_str() {
        for t in [
            "0",
            "+7",
            "18446744073709551615",
            "",
            "+",
            "-1",
            "1 ",
            "18446744073709551616",
        ] {
            assert_eq!(number(t.as_bytes()), t.parse::<u64>().ok(), "{t:?}");
        }
    }

    #[test]
    fn fields_after_the_last_paren() {
        let stat = b"12 (a) b) 1) S 7  9\n";
        assert_eq!(field(stat, 1), Some(7));
        assert_eq!(field(stat, 2), Some(9));
        assert_eq!(field(stat, 0), None);
        assert_eq!(field(stat, 3), None);
        let mut buf = [0; BUF];
        let own = read(b"self", &mut buf).unwrap();
        assert_eq!(
            field(own, 1),
            Some(u64::from(std::os::unix::process::parent_id()))
        );
    }
}
