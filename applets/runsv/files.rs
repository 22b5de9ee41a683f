//! `supervise/pid`, `stat` and `status`: built in stack buffers and replaced atomically
//! through `X.new` + rename, in runit's order and with its warnings (§1.2–1.4).

use super::diag::Diag;
use super::svc::{Service, Want};
use std::ffi::CStr;
use svbox::fsio::{replace, ReplaceError};
use svbox::msg::fmt_u64;
use svbox::status::RunState;

/// The files of one service, relative to the service directory.
pub struct Paths {
    pub status: &'static CStr,
    pub status_new: &'static CStr,
    pub stat: &'static CStr,
    pub stat_new: &'static CStr,
    pub pid: &'static CStr,
    pub pid_new: &'static CStr,
}

pub static MAIN: Paths = Paths {
    status: c"supervise/status",
    status_new: c"supervise/status.new",
    stat: c"supervise/stat",
    stat_new: c"supervise/stat.new",
    pid: c"supervise/pid",
    pid_new: c"supervise/pid.new",
};

pub static LOG: Paths = Paths {
    status: c"log/supervise/status",
    status_new: c"log/supervise/status.new",
    stat: c"log/supervise/stat",
    stat_new: c"log/supervise/stat.new",
    pid: c"log/supervise/pid",
    pid_new: c"log/supervise/pid.new",
};

/// A small stack buffer for file contents.
struct Buf {
    bytes: [u8; 64],
    len: usize,
}

impl Buf {
    fn new() -> Buf {
        Buf {
            bytes: [0; 64],
            len: 0,
        }
    }

    fn put(&mut self, s: &[u8]) {
        let n = s.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }

    fn get(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// `stat`'s line: `STATE[, paused][, got TERM][, want down|exit]\n`.
fn stat_line(s: &Service) -> Buf {
    let mut b = Buf::new();
    b.put(s.state.name().as_bytes());
    if s.paused {
        b.put(b", paused");
    }
    if s.term {
        b.put(b", got TERM");
    }
    if s.state != RunState::Down {
        match s.want {
            Want::Down => b.put(b", want down"),
            Want::Exit => b.put(b", want exit"),
            Want::Up => {}
        }
    }
    b.put(b"\n");
    b
}

/// Writes the three files of `s`. `pid_changed` is runit's flag shared by both services:
/// `pid` is rewritten only while it is set, and a successful rewrite clears it.
pub fn write(s: &Service, pid_changed: &mut bool, diag: &Diag) {
    let p = s.paths;
    if *pid_changed {
        let mut b = Buf::new();
        if s.pid != 0 {
            let mut digits = [0u8; 20];
            b.put(fmt_u64(s.pid as u32 as u64, &mut digits));
            b.put(b"\n");
        }
        match replace(p.pid_new, p.pid, b.get()) {
            Ok(()) => *pid_changed = false,
            // A failed write keeps the old file (and the flag, to retry); status still goes out.
            Err(ReplaceError::Write(_) | ReplaceError::PartialWrite) => {}
            Err(ReplaceError::Open(e)) => return open_failed(p.pid_new, e, diag),
            Err(ReplaceError::Rename(e)) => {
                diag.warn(
                    &[b"unable to rename pid.new to ", p.pid.to_bytes()],
                    Some(e.raw_os_error()),
                );
                return;
            }
        }
    }
    match replace(p.stat_new, p.stat, stat_line(s).get()) {
        Ok(()) | Err(ReplaceError::Write(_) | ReplaceError::PartialWrite) => {}
        Err(ReplaceError::Open(e)) => return open_failed(p.stat_new, e, diag),
        // runit goes on to `status` when only the rename failed.
        Err(ReplaceError::Rename(e)) => diag.warn(
            &[b"unable to rename stat.new to ", p.stat.to_bytes()],
            Some(e.raw_os_error()),
        ),
    }
    match replace(p.status_new, p.status, &s.status().encode()) {
        Ok(()) => {}
        Err(ReplaceError::Open(e)) => open_failed(p.status_new, e, diag),
        Err(ReplaceError::Write(e)) => diag.warn(
            &[b"unable to write ", p.status_new.to_bytes()],
            Some(e.raw_os_error()),
        ),
        Err(ReplaceError::PartialWrite) => diag.warn(
            &[
                b"unable to write ",
                p.status_new.to_bytes(),
                b": partial write.",
            ],
            None,
        ),
        Err(ReplaceError::Rename(e)) => diag.warn(
            &[b"unable to rename status.new to ", p.status.to_bytes()],
            Some(e.raw_os_error()),
        ),
    }
}

fn open_failed(new: &CStr, e: rustix::io::Errno, diag: &Diag) {
    diag.warn(
        &[b"unable to open ", new.to_bytes()],
        Some(e.raw_os_error()),
    );
}

#[cfg(test)]
mod tests {
    use super::super::clock::Mono;
    use super::super::svc::Kind;
    use super::*;

    #[test]
    fn stat_lines() {
        let mut s = Service::new(Kind::Main, &MAIN, Want::Up, Mono::now());
        assert_eq!(stat_line(&s).get(), b"down\n");
        s.want = Want::Exit;
        s.paused = true;
        assert_eq!(stat_line(&s).get(), b"down, paused\n");
        s.state = RunState::Run;
        s.term = true;
        assert_eq!(stat_line(&s).get(), b"run, paused, got TERM, want exit\n");
        s.paused = false;
        s.want = Want::Down;
        assert_eq!(stat_line(&s).get(), b"run, got TERM, want down\n");
        s.state = RunState::Finish;
        s.term = false;
        s.want = Want::Up;
        assert_eq!(stat_line(&s).get(), b"finish\n");
    }
}
