//! The ordered shutdown as process 1 or with -I (SIGTERM/SIGINT, or SIGHUP with exit 111):
//! every runsv is TERMed (runsv stops its service, lets its logger drain and exit, then
//! exits), then runsvdir's own logger gets EOF and drains, then runsvdir exits — or, as
//! process 1, stays to reap. Each phase is bounded; what is left at its end is SIGKILLed.

use super::clock::{Mono, SECOND};
use super::daemon::Daemon;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Runsvs,
    Logger,
    /// Process 1 must not exit: reap forever.
    Parked,
}

pub struct Stop {
    phase: Phase,
    until: Mono,
    code: i32,
}

impl Stop {
    pub fn deadline(&self) -> Option<Mono> {
        (self.phase != Phase::Parked).then_some(self.until)
    }
}

/// Seconds per phase: `SVBOX_SHUTDOWN_TIMEOUT`, default 7 (runit's sv default).
fn phase_time() -> u64 {
    std::env::var("SVBOX_SHUTDOWN_TIMEOUT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(7)
        .saturating_mul(SECOND)
}

impl Daemon {
    pub fn begin_stop(&mut self, code: i32) {
        for pid in self.table.all_pids() {
            svbox::signals::send(pid, Signal::SIGTERM);
            svbox::signals::send(pid, Signal::SIGCONT);
        }
        self.queue.clear();
        self.backoff.clear();
        self.stop = Some(Stop {
            phase: Phase::Runsvs,
            until: Mono::now().plus(phase_time()),
            code,
        });
    }

    /// Advances the shutdown; `Some(code)` when runsvdir should exit now.
    pub fn stopping(&mut self, now: Mono) -> Option<i32> {
        let stop = self.stop.as_mut()?;
        if stop.phase == Phase::Runsvs {
            if self.table.runsv_count() > 0 && now < stop.until {
                return None;
            }
            for pid in self.table.all_pids() {
                if self.new_session {
                    // The runsv's session holds its services and loggers too.
                    let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
                }
                svbox::signals::send(pid, Signal::SIGKILL);
            }
            stop.phase = Phase::Logger;
            stop.until = now.plus(phase_time());
            if let Some(s) = self.svscan.as_mut() {
                if s.pid == 0 {
                    // Down (restart throttle): it must still read what is in the pipe.
                    s.restart_at = Some(now);
                    s.tick(now, &self.launcher, &mut self.out);
                }
                s.close_writers(&mut self.out);
                s.close_reader();
            }
        }
        if stop.phase == Phase::Logger {
            let running = self.svscan.as_ref().map_or(0, |s| s.pid);
            if running != 0 && now < stop.until {
                return None;
            }
            if running != 0 {
                svbox::signals::send(running, Signal::SIGKILL);
            }
            if !self.pid1 {
                return Some(stop.code);
            }
            stop.phase = Phase::Parked;
        }
        None
    }
}
