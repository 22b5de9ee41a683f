//! Monotonic time for runsvdir's deadlines (back-off, logger throttle, shutdown phases): a
//! clock step at boot must neither stall nor hurry them.

use rustix::event::Timespec;

/// Nanoseconds on CLOCK_MONOTONIC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mono(u64);

pub const SECOND: u64 = 1_000_000_000;

impl Mono {
    pub fn now() -> Mono {
        // libc, not rustix: rustix's vDSO lookup crashes under valgrind (rustix#1559).
        // SAFETY: timespec is plain integers; CLOCK_MONOTONIC always exists.
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
