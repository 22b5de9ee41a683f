//! djb's `scan_ulong`, the one decimal reader behind runit's lenient numbers (`sv -w`,
//! svlogd's `-l`/`-b` and config lines, chpst's limits, TZ rules).

/// Leading decimal digits of `s` as a number, saturating instead of wrapping, and how many
/// digits were used (0 digits: the value is 0).
pub fn scan_ulong(s: &[u8]) -> (u64, usize) {
    let mut value: u64 = 0;
    let mut used = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            break;
        }
        value = value.saturating_mul(10).saturating_add(u64::from(c - b'0'));
        used += 1;
    }
    (value, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_numbers() {
        assert_eq!(scan_ulong(b"12abc"), (12, 2));
        assert_eq!(scan_ulong(b"abc"), (0, 0));
        assert_eq!(scan_ulong(b""), (0, 0));
        assert_eq!(scan_ulong(b"99999999999999999999999"), (u64::MAX, 23));
    }
}
