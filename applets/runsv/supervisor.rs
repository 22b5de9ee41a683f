//! The main loop: one `poll` over the signalfd and the control FIFOs, with a deadline only
//! while a start is held back (restart throttle, fork retry). Each iteration keeps runit's
//! order (§2.4): start log, start run/finish, wait, signals, reap all, one control byte for
//! main then log, SIGTERM as `x`, exit check. Nothing here allocates.

use super::act;
use super::child;
use super::clock::{Mono, SECOND};
use super::setup::Supervisor;
use super::svc::{Kind, Service, Shared};
use super::table::{self, Ending, Event};
use nix::sys::signal::Signal;
use rustix::event::{PollFd, PollFlags};
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::OFlags;
use std::ffi::CStr;
use svbox::poll::poll;
use svbox::signals::reap_any;

/// Runs until told to exit; returns the exit code (0).
// Out of line: inlined into `main`, it made the binary bigger.
#[inline(never)]
pub fn run(sv: &mut Supervisor) -> i32 {
    let mut got_term = false;
    loop {
        let now = Mono::now();
        if let Some(log) = sv.log.as_mut() {
            if log.due(now) {
                child::start(log, &mut sv.sh, false);
            }
        }
        if sv.main.due(now) {
            child::start(&mut sv.main, &mut sv.sh, false);
        }

        wait(sv, now);

        got_term |= sv.signals.drain().has(Signal::SIGTERM);
        while let Some((pid, wstat)) = reap_any() {
            if pid == sv.main.pid {
                exited(&mut sv.main, &mut sv.sh, wstat);
            } else if let Some(log) = sv.log.as_mut().filter(|l| l.pid == pid) {
                exited(log, &mut sv.sh, wstat);
            }
        }

        if let Some(byte) = read_byte(&sv.main) {
            control(&mut sv.main, &mut sv.sh, byte);
        }
        if let Some(log) = sv.log.as_mut() {
            if let Some(byte) = read_byte(log) {
                control(log, &mut sv.sh, byte);
            }
        }
        if got_term {
            got_term = false;
            control(&mut sv.main, &mut sv.sh, b'x');
        }

        match table::ending(&sv.main.view(), sv.log.as_ref().map(|l| l.view()).as_ref()) {
            Ending::Continue => {}
            Ending::Exit => return 0,
            Ending::ReleaseLog => {
                if let Some(log) = sv.log.as_mut() {
                    log.want = super::svc::Want::Exit;
                    super::files::write(log, &mut sv.sh.pid_changed, &sv.sh.diag);
                }
                // Dropping closes both ends; close(2) errors on a pipe cannot happen here.
                sv.sh.pipe = None;
            }
        }
    }
}

/// Blocks until a signal, a control byte, or the earliest held-back start is due. `now` is
/// the instant the starts were decided at, so a deadline passing since then still counts.
fn wait(sv: &Supervisor, now: Mono) {
    let log = sv.log.as_ref().and_then(|l| l.deadline(now));
    let deadline = match (sv.main.deadline(now), log) {
        (Some(main), Some(log)) => Some(main.min(log)),
        (main, log) => main.or(log),
    };
    let timeout = deadline.map(|d| d.timeout_from(Mono::now()));
    let events = PollFlags::IN;
    // Setup guarantees both control FIFOs; a missing one would just repeat the signalfd.
    let spare = sv.signals.fd();
    let mut fds = [
        PollFd::from_borrowed_fd(spare, events),
        PollFd::from_borrowed_fd(control_fd(&sv.main, spare), events),
        PollFd::from_borrowed_fd(
            sv.log.as_ref().map_or(spare, |l| control_fd(l, spare)),
            events,
        ),
    ];
    let n = if sv.log.is_some() { 3 } else { 2 };
    // EINTR (a stop/continue of runsv) just means another iteration.
    let _ = poll(&mut fds[..n], timeout.as_ref());
}

fn control_fd<'a>(s: &'a Service, spare: BorrowedFd<'a>) -> BorrowedFd<'a> {
    s.control.as_ref().map_or(spare, |fd| fd.as_fd())
}

/// At most one byte from the service's control FIFO (runsv holds a writer: never EOF).
fn read_byte(s: &Service) -> Option<u8> {
    let fd = s.control.as_ref()?;
    let mut b = [0u8; 1];
    match rustix::io::read(fd, &mut b) {
        Ok(1) => Some(b[0]),
        _ => None,
    }
}

fn control(s: &mut Service, sh: &mut Shared, byte: u8) {
    let plan = table::on_event(&s.view(), Event::Control(byte));
    act::apply(&plan, s, sh);
}

fn exited(s: &mut Service, sh: &mut Shared, wstat: i32) {
    let finish =
        s.kind == Kind::Main && s.state != svbox::status::RunState::Finish && readable(c"finish");
    let short = Mono::now().since(s.started) < SECOND;
    let plan = table::on_event(
        &s.view(),
        Event::Exited {
            wstat,
            finish,
            short,
        },
    );
    act::apply(&plan, s, sh);
}

/// runit tests for `./finish` by opening it for reading, not by its execute bit.
fn readable(path: &CStr) -> bool {
    rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .is_ok()
}
