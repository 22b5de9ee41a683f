//! The wait-phase predicates (§4.6) and the `check` script (§4.7): has the command taken
//! effect? Stamps are compared with sv's start time at full TAI64N precision, so a record
//! written before runsv acted on the command never counts (§9 item 7).

use super::output::stderr_warning;
use super::service::{Got, Sv};
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use svbox::signals::wait_for;
use svbox::spawn::Spawn;
use svbox::status::{RunState, Status};

/// The outcome of one evaluation.
pub enum Verdict {
    /// Satisfied (the `ok:` line is printed) or runsv gone for `x`.
    Done,
    /// Dropped after a printed problem.
    Error,
    /// Not yet; `check_only` when the `check` script was the only thing failing. Carries
    /// the `supervise/ok` write end of this read.
    Pending { check_only: bool, ok: OwnedFd },
}

/// Runs `./check` in the current directory: true if absent, or if it exits 0 (or cannot be
/// executed at all, or dies by a signal — runit's quirks).
pub fn check_script(name: &[u8]) -> bool {
    match svbox::filestat::stat(c"check") {
        Ok(_) => {}
        Err(Errno::NOENT) => return true,
        Err(e) => {
            stderr_warning("unable to stat ", name, "/check", e.raw_os_error());
            return false;
        }
    }
    let report = |_stage: svbox::spawn::Stage, errno: i32| {
        stderr_warning("unable to run ", name, "/check", errno)
    };
    // An exec failure counts as a pass (exit 0), as in runit.
    let spawn = Spawn {
        close_stdout: true,
        failure_exit: 0,
        ..Spawn::new(&[c"./check"], &report)
    };
    let pid = match spawn.start() {
        Ok(pid) => pid,
        Err(errno) => {
            stderr_warning("unable to fork for ", name, "/check", errno);
            return false;
        }
    };
    match wait_for(pid) {
        Ok(wstat) => wstat >> 8 == 0,
        Err(e) => {
            stderr_warning("unable to wait for child ", name, "/check", e as i32);
            false
        }
    }
}

/// Why a predicate is not (yet) satisfied.
enum Unmet {
    Status,
    Check,
}

fn holds(sv: &Sv, name: &[u8], c: u8, st: &Status) -> Result<(), Unmet> {
    let pid = st.pid != 0;
    // 2.3.0: `check` waits for the wanted state.
    let c = match c {
        b'C' if st.want == b'd' => b'd',
        b'C' => b'u',
        c => c,
    };
    let before_start = st.stamp < sv.tstart;
    match c {
        b'x' => Err(Unmet::Status),
        b'u' if !pid || st.state != RunState::Run => Err(Unmet::Status),
        b'u' if !check_script(name) => Err(Unmet::Check),
        // A down record that still wants up predates runsv's reading of our `d` (§9.7).
        b'd' if pid || st.state != RunState::Down || st.want != b'd' => Err(Unmet::Status),
        b't' | b'k' if !pid && st.want == b'd' => Ok(()),
        b't' | b'k' if before_start || !pid || st.term => Err(Unmet::Status),
        b't' | b'k' if !check_script(name) => Err(Unmet::Check),
        b'o' if (!pid && before_start) || (pid && st.want != b'd') => Err(Unmet::Status),
        b'p' if pid && !st.paused => Err(Unmet::Status),
        b'c' if pid && st.paused => Err(Unmet::Status),
        _ => Ok(()),
    }
}

/// runit's `check`: evaluates every byte of `bytes` on a fresh status read of the current
/// directory and prints `ok: STATUS` when all hold.
#[inline(never)]
pub fn evaluate(sv: &mut Sv, name: &[u8], bytes: &[u8]) -> Verdict {
    let (st, ok) = match sv.status_get(name, false) {
        Got::Status(st, ok) => (st, ok),
        Got::NotRunning if bytes.first() == Some(&b'x') => return Verdict::Done,
        Got::NotRunning | Got::Failed => return Verdict::Error,
    };
    for &c in bytes {
        match holds(sv, name, c, &st) {
            Ok(()) => {}
            Err(Unmet::Status) => {
                return Verdict::Pending {
                    check_only: false,
                    ok,
                }
            }
            Err(Unmet::Check) => {
                return Verdict::Pending {
                    check_only: true,
                    ok,
                }
            }
        }
    }
    sv.out.puts(b"ok: ");
    sv.status_print(name, name, &st);
    sv.out.puts(b"\n");
    sv.out.flush();
    Verdict::Done
}
