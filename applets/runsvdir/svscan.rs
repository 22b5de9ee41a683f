//! The `.svscan/log` logger: when the scan directory holds `.svscan/log/run`, runsvdir makes
//! a pipe its stdout and stderr (inherited by every runsv and by services without a log of
//! their own) and runs that logger on the read end. runsvdir keeps both ends, so nothing is
//! lost while the logger restarts (at most once a second).

use super::clock::{Mono, SECOND};
use super::launch::Launcher;
use super::out::Out;
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::pipe::PipeFlags;
use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;

pub struct Svscan {
    dir: CString,
    read: Option<OwnedFd>,
    write: Option<OwnedFd>,
    /// The original stderr, for the logger's own output and for after shutdown.
    console: OwnedFd,
    pub pid: i32,
    started: Mono,
    pub restart_at: Option<Mono>,
    /// Shutting down: an exit is final.
    closing: bool,
}

impl Svscan {
    /// Sets the logger up if `DIR/.svscan/log/run` exists; fd 1 and 2 become the pipe.
    pub fn setup(scandir: &OsStr, out: &mut Out) -> Option<Svscan> {
        let mut dir = scandir.as_bytes().to_vec();
        dir.extend_from_slice(b"/.svscan/log/run");
        svbox::filestat::stat(&CString::new(dir.as_slice()).ok()?).ok()?;
        dir.truncate(dir.len() - 4);
        let dir = CString::new(dir).ok()?;
        let console = rustix::io::fcntl_dupfd_cloexec(rustix::stdio::stderr(), 3).ok()?;
        let (r, w) = match rustix::pipe::pipe_with(PipeFlags::CLOEXEC) {
            Ok(p) => p,
            Err(e) => {
                out.warn(
                    b"unable to create pipe for .svscan/log",
                    b"",
                    Some(e.raw_os_error()),
                );
                return None;
            }
        };
        if rustix::stdio::dup2_stdout(&w).is_err() || rustix::stdio::dup2_stderr(&w).is_err() {
            return None;
        }
        // A separate open file description, so runsvdir's own writes can be non-blocking
        // while the children's stay blocking.
        let mut own = b"/proc/self/fd/".to_vec();
        own.extend_from_slice(svbox::msg::fmt_u64(w.as_raw_fd() as u64, &mut [0; 20]));
        out.own = rustix::fs::open(
            own.as_slice(),
            OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok();
        out.toggle = out.own.is_none();
        let now = Mono::now();
        Some(Svscan {
            dir,
            read: Some(r),
            write: Some(w),
            console,
            pid: 0,
            started: now,
            restart_at: Some(now),
            closing: false,
        })
    }

    /// Starts the logger if it is due.
    pub fn tick(&mut self, now: Mono, launcher: &Launcher, out: &mut Out) {
        if self.pid != 0 || !self.restart_at.is_some_and(|t| now >= t) {
            return;
        }
        let Some(read) = self.read.as_ref() else {
            return;
        };
        match launcher.logger(&self.dir, read.as_fd(), self.console.as_fd()) {
            Ok(pid) => {
                self.pid = pid;
                self.started = now;
                self.restart_at = None;
            }
            Err(e) => {
                out.warn(b"unable to fork for .svscan/log", b"", Some(e));
                self.restart_at = Some(now.plus(SECOND));
            }
        }
    }

    /// Notes the logger's exit; restarts at once unless it ran for less than a second.
    pub fn exited(&mut self, now: Mono) {
        self.pid = 0;
        if self.closing {
            return;
        }
        self.restart_at = Some(if now.since(self.started) < SECOND {
            self.started.plus(SECOND)
        } else {
            now
        });
    }

    /// Closes every write end runsvdir holds (fd 1 and 2 go back to the original stderr), so
    /// the logger reads EOF once the last child holding one is gone. The read end is kept
    /// only while the logger has not got it yet.
    pub fn close_writers(&mut self, out: &mut Out) {
        out.own = None;
        out.toggle = false;
        self.write = None;
        let _ = rustix::stdio::dup2_stdout(&self.console);
        let _ = rustix::stdio::dup2_stderr(&self.console);
        self.restart_at = None;
        self.closing = true;
    }

    /// Forgets the read end (after the logger has it).
    pub fn close_reader(&mut self) {
        self.read = None;
    }
}
