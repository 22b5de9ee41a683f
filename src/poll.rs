//! `poll` with a timeout: the one system call every event loop of svbox waits in.
//!
//! rustix's libc backend (32-bit MIPS, PowerPC) hands its own 64-bit `Timespec` to the libc
//! crate's `ppoll`, which on 32-bit musl binds the old entry point with a 32-bit `time_t`: on
//! big-endian MIPS every timeout then reads as about zero and each event loop spins until its
//! deadline. Here the timeout reaches libc as libc's own `timespec`, on every target.

use nix::libc;
use rustix::event::{PollFd, Timespec};
use rustix::io::Errno;

// rustix's PollFd is a pollfd (fd, events, revents) in both of its backends.
const _: () =
    assert!(std::mem::size_of::<PollFd<'static>>() == std::mem::size_of::<libc::pollfd>());

/// Waits until one of `fds` is ready or `timeout` (None: forever) has passed; the number of
/// ready descriptors, as rustix's `poll`.
pub fn poll(fds: &mut [PollFd<'_>], timeout: Option<&Timespec>) -> Result<usize, Errno> {
    let ts = timeout.map(to_libc);
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: PollFd has pollfd's layout (checked above) and fds is valid for its length;
    // ts_ptr is null or points to a timespec that lives across the call.
    let n = unsafe {
        libc::ppoll(
            fds.as_mut_ptr().cast::<libc::pollfd>(),
            fds.len() as libc::nfds_t,
            ts_ptr,
            std::ptr::null(),
        )
    };
    usize::try_from(n).map_err(|_| Errno::from_raw_os_error(nix::errno::Errno::last_raw()))
}

// time_t and the nanosecond field are 32 or 64 bits depending on the target, so some of these
// casts do nothing on x86_64; a relative timeout past 2038 is clamped, not wrapped.
#[allow(clippy::unnecessary_cast)]
fn to_libc(t: &Timespec) -> libc::timespec {
    // SAFETY: timespec is plain integers (some targets add private padding): zero is valid.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // time_t is 32 bits in the libc crate's view of 32-bit musl (named deprecated there).
    let max = if std::mem::size_of_val(&ts.tv_sec) == 4 {
        i64::from(i32::MAX)
    } else {
        i64::MAX
    };
    ts.tv_sec = t.tv_sec.clamp(0, max) as _;
    ts.tv_nsec = t.tv_nsec.clamp(0, 999_999_999) as _;
    ts
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::event::PollFlags;
    use std::time::{Duration, Instant};

    #[test]
    fn waits_for_the_timeout_then_sees_a_ready_pipe() {
        let (r, w) = rustix::pipe::pipe().unwrap();
        let mut fds = [PollFd::new(&r, PollFlags::IN)];
        let start = Instant::now();
        let t = Timespec {
            tv_sec: 0,
            tv_nsec: 150_000_000,
        };
        assert_eq!(poll(&mut fds, Some(&t)), Ok(0));
        assert!(
            start.elapsed() >= Duration::from_millis(150),
            "returned early"
        );
        rustix::io::write(&w, b"x").unwrap();
        assert_eq!(poll(&mut fds, None), Ok(1));
        assert!(fds[0].revents().contains(PollFlags::IN));
    }
}
