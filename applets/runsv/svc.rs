//! The record runsv keeps per supervised program (the main service or the log service):
//! runit's state, want, flags, pid and timestamp, plus the deadline that replaces runit's
//! blocking `sleep`.

use super::clock::Mono;
use super::files::Paths;
use rustix::fd::OwnedFd;
use svbox::status::{RunState, Status};
use svbox::tai::Tai64n;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Up,
    Down,
    Exit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Main,
    Log,
}

/// What the transition table needs to know about a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    pub kind: Kind,
    pub state: RunState,
    pub want: Want,
    /// A child (run or finish) is recorded.
    pub has_pid: bool,
    /// A start was asked for (`u`, `o`) while a deadline held it back.
    pub pending: bool,
}

pub struct Service {
    pub kind: Kind,
    pub state: RunState,
    pub want: Want,
    pub paused: bool,
    pub term: bool,
    pub pid: i32,
    /// Raw wait status of the last run, for `./finish`'s arguments.
    pub wstat: i32,
    /// Wall-clock time of the last run start or of going down (status bytes 0–11).
    pub stamp: Tai64n,
    /// When `./run` was last started, for the throttle.
    pub started: Mono,
    /// No start before this instant (restart throttle, fork retry).
    pub not_before: Mono,
    pub pending: bool,
    /// `control/u` already ran for a start that is waiting to retry a failed fork.
    pub hook_ran: bool,
    pub paths: &'static Paths,
    /// Read end of `control` (set up at startup).
    pub control: Option<OwnedFd>,
    /// The lock, `ok` and the write end of `control`: only held open.
    pub held: Vec<OwnedFd>,
}

impl Service {
    pub fn new(kind: Kind, paths: &'static Paths, want: Want, now: Mono) -> Service {
        Service {
            kind,
            state: RunState::Down,
            want,
            paused: false,
            term: false,
            pid: 0,
            wstat: 0,
            stamp: Tai64n::now(),
            started: now,
            not_before: now,
            pending: false,
            hook_ran: false,
            paths,
            control: None,
            held: Vec::with_capacity(3),
        }
    }

    pub fn view(&self) -> View {
        View {
            kind: self.kind,
            state: self.state,
            want: self.want,
            has_pid: self.pid != 0,
            pending: self.pending,
        }
    }

    pub fn status(&self) -> Status {
        Status {
            stamp: self.stamp,
            pid: self.pid as u32,
            paused: self.paused,
            want: if self.want == Want::Up { b'u' } else { b'd' },
            term: self.term,
            state: self.state,
        }
    }

    /// Whether a start is wanted and allowed at `now`.
    pub fn due(&self, now: Mono) -> bool {
        super::table::wants_child(&self.view()) && now >= self.not_before
    }

    /// The instant a wanted start is waiting for, if any.
    pub fn deadline(&self, now: Mono) -> Option<Mono> {
        (super::table::wants_child(&self.view()) && now < self.not_before)
            .then_some(self.not_before)
    }
}

/// What both services share: diagnostics, the log pipe and runit's shared "pid changed" flag.
pub struct Shared {
    pub diag: super::diag::Diag,
    /// Read and write ends of the log pipe, held until the exit sequence releases them.
    pub pipe: Option<(OwnedFd, OwnedFd)>,
    pub pid_changed: bool,
}

impl Shared {
    /// Where main-service children (run, finish, hooks) write their stdout.
    pub fn log_writer(&self) -> Option<rustix::fd::BorrowedFd<'_>> {
        use rustix::fd::AsFd;
        self.pipe.as_ref().map(|(_, w)| w.as_fd())
    }

    pub fn log_reader(&self) -> Option<rustix::fd::BorrowedFd<'_>> {
        use rustix::fd::AsFd;
        self.pipe.as_ref().map(|(r, _)| r.as_fd())
    }
}
