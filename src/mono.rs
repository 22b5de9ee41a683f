//! Monotonic time for the daemons' deadlines (restart throttles, fork retries, shutdown
//! phases): a clock step (no RTC at boot, NTP) must neither stall nor hurry them. Status
//! timestamps stay wall-clock (`tai`).

use rustix::event::Timespec;

/// Nanoseconds on CLOCK_MONOTONIC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mono(u64);

pub const SECOND: u64 = 1_000_000_000;

impl Mono {
    pub fn now() -> Mono {
        // libc, not rustix: rustix's vDSO lookup crashes under valgrind (rustix#1559).
        // SAFETY: timespec is plain integers (zeroed also covers targets whose timespec
        // has private padding fields); CLOCK_MONOTONIC always exists.
        let mut ts: nix::libc::timespec = unsafe { std::mem::zeroed() };
        // SAFETY: ts is a valid, writable timespec.
        unsafe { nix::libc::clock_gettime(nix::libc::CLOCK_MONOTONIC, &mut ts) };
        Mono(
            (ts.tv_sec as u64)
                .wrapping_mul(SECOND)
                .wrapping_add(ts.tv_nsec as u64),
        )
    }

    pub fn plus(self, ns: u64) -> Mono {
        Mono(self.0.saturating_add(ns))
    }

    /// Nanoseconds from `earlier` to `self`, 0 if `earlier` is later.
    pub fn since(self, earlier: Mono) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The poll timeout that ends at `self` when it is now `now`.
    pub fn timeout_from(self, now: Mono) -> Timespec {
        let ns = self.since(now);
        Timespec {
            tv_sec: (ns / SECOND) as _,
            tv_nsec: (ns % SECOND) as _,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        let a = Mono(5 * SECOND + 7);
        assert_eq!(a.plus(SECOND).since(a), SECOND);
        assert_eq!(a.since(a.plus(1)), 0);
        let t = a.plus(SECOND + 250).timeout_from(a);
        assert_eq!((t.tv_sec, t.tv_nsec), (1, 250));
        let first = Mono::now();
        assert!(Mono::now() >= first);
    }
}
