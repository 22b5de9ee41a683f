//! TAI64N timestamps as runit writes them: label = 2^62 + 10 + unix seconds, nanoseconds
//! taken from the wall clock at microsecond precision plus 500 (runit's `taia_now`).

/// 2^62 + 10: the TAI64 label of the Unix epoch as libtai computes it (no leap seconds).
pub const TAI_EPOCH: u64 = 0x4000_0000_0000_000A;

/// A TAI64N label: seconds (with the 2^62 offset) and nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tai64n {
    pub sec: u64,
    pub nano: u32,
}

impl Tai64n {
    /// The wall clock now, quantised as runit does (`usec * 1000 + 500`).
    pub fn now() -> Self {
        // Through libc, not rustix: rustix's own vDSO lookup crashes under valgrind
        // (rustix#1559), and the allocation tests run runsv under memcheck.
        // SAFETY: timespec is plain integers (zeroed also covers targets whose timespec
        // has private padding fields); CLOCK_REALTIME always exists.
        let mut ts: nix::libc::timespec = unsafe { std::mem::zeroed() };
        // SAFETY: ts is a valid, writable timespec.
        unsafe { nix::libc::clock_gettime(nix::libc::CLOCK_REALTIME, &mut ts) };
        #[allow(clippy::useless_conversion)] // time_t is 32 bits on some targets
        let secs = i64::from(ts.tv_sec);
        Self::from_unix(secs, (ts.tv_nsec as u32 / 1000) * 1000 + 500)
    }

    pub fn from_unix(secs: i64, nano: u32) -> Self {
        Tai64n {
            sec: TAI_EPOCH.wrapping_add(secs as u64),
            nano,
        }
    }

    /// Seconds since the Unix epoch.
    pub fn unix_secs(&self) -> i64 {
        self.sec.wrapping_sub(TAI_EPOCH) as i64
    }

    /// The 12-byte external form: big-endian seconds then big-endian nanoseconds.
    pub fn pack(&self) -> [u8; 12] {
        let mut out = [0u8; 12];
        out[..8].copy_from_slice(&self.sec.to_be_bytes());
        out[8..].copy_from_slice(&self.nano.to_be_bytes());
        out
    }

    pub fn unpack(bytes: &[u8; 12]) -> Self {
        let mut sec = [0u8; 8];
        let mut nano = [0u8; 4];
        sec.copy_from_slice(&bytes[..8]);
        nano.copy_from_slice(&bytes[8..]);
        Tai64n {
            sec: u64::from_be_bytes(sec),
            nano: u32::from_be_bytes(nano),
        }
    }

    /// `@` followed by 24 lower-case hex digits, as svlogd and tai64n print it.
    pub fn hex(&self) -> [u8; 25] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b'@'; 25];
        for (i, byte) in self.pack().iter().enumerate() {
            out[1 + 2 * i] = HEX[(byte >> 4) as usize];
            out[2 + 2 * i] = HEX[(byte & 15) as usize];
        }
        out
    }

    /// Seconds elapsed from `self` to `later`, 0 if `later` is earlier.
    pub fn secs_until(&self, later: &Tai64n) -> u64 {
        later.sec.saturating_sub(self.sec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_observed_runit_status_bytes() {
        // From the spec: 40 00 00 00 6b 01 1c ad 27 79 3f 5c = unix 1795234979, 662257500 ns.
        let t = Tai64n::from_unix(1_795_234_979, 662_257_500);
        assert_eq!(
            t.pack(),
            [0x40, 0, 0, 0, 0x6b, 0x01, 0x1c, 0xad, 0x27, 0x79, 0x3f, 0x5c]
        );
        assert_eq!(Tai64n::unpack(&t.pack()), t);
        assert_eq!(t.unix_secs(), 1_795_234_979);
    }

    #[test]
    fn hex_form() {
        let t = Tai64n::from_unix(0, 500);
        assert_eq!(&t.hex(), b"@400000000000000a000001f4");
    }

    #[test]
    fn now_is_quantised_like_runit() {
        let t = Tai64n::now();
        assert_eq!(t.nano % 1000, 500);
        assert!(t.unix_secs() > 1_600_000_000);
    }
}
