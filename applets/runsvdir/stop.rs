//! The ordered shutdown as process 1 or with -I (SIGTERM/SIGINT, or SIGHUP with exit 111):
//! every runsv is TERMed (runsv stops its service, lets its logger drain and exit, then
//! exits), then runsvdir's own logger gets EOF and drains, then runsvdir exits — or, as
//! the machine's process 1, stays to reap (a container's process 1 exits). Each phase is bounded; what is left at its end is SIGKILLed.

use super::clock::{Mono, SECOND};
use super::daemon::Daemon;
use super::procstat;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use rustix::fd::AsFd;
use std::os::unix::ffi::OsStrExt;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Runsvs,
    Logger,
    /// The machine's process 1 must not exit: reap forever.
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
    svbox::env::var(c"SVBOX_SHUTDOWN_TIMEOUT")
        .and_then(|v| procstat::number(v.as_bytes()))
        .unwrap_or(7)
        .saturating_mul(SECOND)
}

impl Daemon {
    pub fn begin_stop(&mut self, code: i32) {
        for pid in self.table.all_pids() {
            svbox::signals::send(pid, Signal::SIGTERM);
            svbox::signals::send(pid, Signal::SIGCONT);
        }
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
            // Without -P services share runsvdir's group, and orphans of double-forking
            // services were reparented here (PID 1 or subreaper): everything below this
            // process but the .svscan logger, which still has to drain, goes.
            let logger = self.svscan.as_ref().map_or(0, |s| s.pid);
            for pid in descendants(rustix::process::getpid().as_raw_nonzero().get(), logger) {
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
            // Nothing else in its namespace should stay.
            let _ = nix::sys::signal::kill(Pid::from_raw(-1), Signal::SIGKILL);
            if !in_initial_pid_namespace() {
                // A container's process 1: its exit ends the container, as `docker stop`
                // expects; only the real init must never exit.
                return Some(stop.code);
            }
            stop.phase = Phase::Parked;
        }
        None
    }
}

/// Whether this is the machine's first PID namespace (the kernel gives it the fixed inode
/// PROC_PID_INIT_INO); without /proc, assume so, since exiting there would panic the kernel.
fn in_initial_pid_namespace() -> bool {
    const PROC_PID_INIT_INO: u64 = 0xEFFF_FFFC;
    svbox::filestat::stat(c"/proc/self/ns/pid").map_or(true, |st| st.ino == PROC_PID_INIT_INO)
}

/// The processes below `root` in the process tree, from `/proc`, leaving out the subtree of
/// `spare` (0: none). Runs once, at the shutdown deadline, so it may allocate.
fn descendants(root: i32, spare: i32) -> Vec<i32> {
    let mut parents: Vec<(i32, i32)> = Vec::new();
    if let Ok(fd) = svbox::fsio::open_read(c"/proc") {
        let _ = svbox::dirlist::each(fd.as_fd(), &mut |name, _| {
            if let Some(p) = parent_of(name.to_bytes()) {
                parents.push(p);
            }
            true
        });
    }
    // Breadth first: the children of root, then those of each process found, in turn.
    let mut found: Vec<i32> = Vec::new();
    let mut parent = root;
    let mut next = 0;
    loop {
        for &(pid, ppid) in &parents {
            if ppid == parent && pid != spare && !found.contains(&pid) {
                found.push(pid);
            }
        }
        let Some(&p) = found.get(next) else {
            return found;
        };
        parent = p;
        next += 1;
    }
}

/// (pid, ppid) of the process whose `/proc` entry is `name`; `None` for other entries.
fn parent_of(name: &[u8]) -> Option<(i32, i32)> {
    let pid = i32::try_from(procstat::number(name)?).ok()?;
    let mut buf = [0u8; procstat::BUF];
    let ppid = procstat::field(procstat::read(name, &mut buf)?, 1)?;
    Some((pid, i32::try_from(ppid).ok()?))
}

#[cfg(test)]
mod tests {
    use super::descendants;
    use std::process::Command;

    fn child_of(parent: i32) -> Option<i32> {
        let all = descendants(parent, 0);
        all.first().copied()
    }

    #[test]
    fn finds_children_and_grandchildren_but_not_the_spared_subtree() {
        let me = std::process::id() as i32;
        let start = || {
            Command::new("/bin/sh")
                .args(["-c", "sleep 30 & wait"])
                .spawn()
                .unwrap()
        };
        let (mut kept, mut spared) = (start(), start());
        let (k, sp) = (kept.id() as i32, spared.id() as i32);
        let mut grandchildren = (None, None);
        for _ in 0..2000 {
            grandchildren = (child_of(k), child_of(sp));
            if grandchildren.0.is_some() && grandchildren.1.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let found = descendants(me, sp);
        for pid in [grandchildren.0, grandchildren.1].into_iter().flatten() {
            svbox::signals::send(pid, nix::sys::signal::Signal::SIGKILL);
        }
        let _ = (kept.wait(), spared.wait());
        let (Some(gk), Some(gs)) = grandchildren else {
            panic!("the shells did not start their sleeps");
        };
        assert!(found.contains(&k) && found.contains(&gk), "{found:?}");
        assert!(!found.contains(&sp) && !found.contains(&gs), "{found:?}");
    }
}
