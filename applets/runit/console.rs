//! The console and process 1's messages.
//!
//! Like runit, process 1 writes to `/dev/console` as fds 0, 1 and 2, and opens it again as
//! stderr after every wake-up (so a console that appears later, once stage 1 has mounted
//! /dev, is used). Unlike runit, two descriptions are kept: process 1's own stderr stays
//! non-blocking (a stuck serial line must not stop it reaping; the message is lost as
//! runit's would be), while fds 0 and 1, which the stages inherit (and their stderr, see
//! `stage`), are blocking, so a stage's output does not fail with EAGAIN. Both are opened
//! with O_APPEND, harmless on a terminal, so a plain file bound over /dev/console (the tests)
//! keeps every line.

use rustix::fd::{AsRawFd, OwnedFd};
use rustix::fs::{self, Mode, OFlags};
use std::ffi::CStr;
use svbox::msg::Line;

pub const CONSOLE: &CStr = c"/dev/console";

/// Whether fds 0 and 1 are the console (stages then also get it as stderr).
pub struct Console {
    ok: bool,
}

impl Console {
    /// Makes the console fds 0, 1 and 2 where it can be opened, and fills any standard
    /// descriptor still closed, so that no later descriptor takes its number.
    pub fn open() -> Console {
        let mut console = Console { ok: false };
        console.reget();
        fill_closed();
        console
    }

    pub fn ok(&self) -> bool {
        self.ok
    }

    /// Opens the console again as stderr (runit's "reget stderr"), and as fds 0 and 1 the
    /// first time it can be opened.
    pub fn reget(&mut self) {
        if let Some(fd) = open(false) {
            move_to(fd, &[2]);
        }
        if !self.ok {
            if let Some(fd) = open(true) {
                move_to(fd, &[0, 1]);
                self.ok = true;
            }
        }
    }
}

fn open(blocking: bool) -> Option<OwnedFd> {
    // O_NONBLOCK for the open itself: a serial console without carrier must not hang it.
    let flags = OFlags::WRONLY | OFlags::NONBLOCK | OFlags::APPEND | OFlags::CLOEXEC;
    let fd = fs::open(CONSOLE, flags, Mode::empty()).ok()?;
    if blocking {
        let _ = fs::fcntl_setfl(&fd, OFlags::WRONLY | OFlags::APPEND);
    }
    Some(fd)
}

/// Duplicates `fd` onto each of `targets` (dup2 clears close-on-exec) and closes it.
fn move_to(fd: OwnedFd, targets: &[i32]) {
    for &t in targets {
        // SAFETY: dup2 onto a standard descriptor number this process owns.
        unsafe { nix::libc::dup2(fd.as_raw_fd(), t) };
    }
}

/// Gives every closed standard descriptor `/dev/null`, or a pipe end where there is no
/// `/dev/null` yet (early boot).
fn fill_closed() {
    for fd in 0..3 {
        // SAFETY: only probed; an invalid number yields EBADF.
        let probe = rustix::io::fcntl_getfd(unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) });
        if probe != Err(rustix::io::Errno::BADF) {
            continue;
        }
        match fs::open(c"/dev/null", OFlags::RDWR, Mode::empty()) {
            // The lowest free number is `fd` itself: keep it open for good.
            Ok(null) => std::mem::forget(null),
            Err(_) => {
                if let Ok((r, w)) = rustix::pipe::pipe() {
                    std::mem::forget(r);
                    std::mem::forget(w);
                }
            }
        }
    }
}

/// The kinds of runit's messages.
#[derive(Clone, Copy)]
pub enum Kind {
    Info,
    Warning,
    Fatal,
}

/// Writes `- runit: [warning: |fatal: ]PARTS[: ERR]` to stderr in one write.
pub fn say(kind: Kind, parts: &[&[u8]], errno: Option<i32>) {
    let mut line = Line::new();
    line.s(match kind {
        Kind::Info => "- runit: ",
        Kind::Warning => "- runit: warning: ",
        Kind::Fatal => "- runit: fatal: ",
    });
    for part in parts {
        line.b(part);
    }
    if let Some(e) = errno {
        line.err(e);
    }
    line.to_stderr();
}
