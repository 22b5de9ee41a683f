//! `supervise/pid`, `stat` and `status`: built in stack buffers and replaced atomically
//! through `X.new` + rename, in runit's order and with its warnings (§1.2–1.4).

use super::diag::Diag;
use super::svc::{Service, Want};
use std::ffi::CStr;
use svbox::fsio::{replace, ReplaceError};
use svbox::msg::Line;
use svbox::status::RunState;

/// A file and the `.new` file it is replaced through, relative to the service directory.
pub struct File {
    pub dst: &'static CStr,
    pub new: &'static CStr,
}

/// The files of one service.
pub struct Paths {
    pub status: File,
    pub stat: File,
    pub pid: File,
}

/// The main service's name for a file: the log service's name without `log/`, sharing its
/// bytes (each name is stored once).
pub const fn main_name(log: &'static CStr) -> &'static CStr {
    match CStr::from_bytes_with_nul(log.to_bytes_with_nul().split_at(4).1) {
        Ok(name) => name,
        Err(_) => panic!("not a log/ name"),
    }
}

macro_rules! paths {
    ($($field:ident: $dst:literal $new:literal,)*) => {
        pub static MAIN: Paths = Paths {
            $($field: File { dst: main_name($dst), new: main_name($new) },)*
        };
        pub static LOG: Paths = Paths { $($field: File { dst: $dst, new: $new },)* };
    };
}

paths! {
    status: c"log/supervise/status" c"log/supervise/status.new",
    stat: c"log/supervise/stat" c"log/supervise/stat.new",
    pid: c"log/supervise/pid" c"log/supervise/pid.new",
}

/// `stat`'s line: `STATE[, paused][, got TERM][, want down|exit]\n`.
fn stat_line(s: &Service) -> Line {
    let mut b = Line::new();
    b.s(s.state.name());
    if s.paused {
        b.b(b", paused");
    }
    if s.term {
        b.b(b", got TERM");
    }
    if s.state != RunState::Down {
        b.b(match s.want {
            Want::Down => b", want down",
            Want::Exit => b", want exit",
            Want::Up => b"",
        });
    }
    b.b(b"\n");
    b
}

/// Writes the three files of `s`. `pid_changed` is runit's flag shared by both services:
/// `pid` is rewritten only while it is set, and a successful rewrite clears it.
pub fn write(s: &Service, pid_changed: &mut bool, diag: &Diag) {
    let p = s.paths;
    if *pid_changed {
        let mut b = Line::new();
        if s.pid != 0 {
            b.num(u64::from(s.pid as u32)).b(b"\n");
        }
        match put(&p.pid, b.as_bytes(), false, diag) {
            Ok(()) => *pid_changed = false,
            // A failed write keeps the old file (and the flag, to retry); status still goes out.
            Err(ReplaceError::Write(_) | ReplaceError::PartialWrite) => {}
            Err(ReplaceError::Open(_) | ReplaceError::Rename(_)) => return,
        }
    }
    // runit goes on to `status` when only the rename failed.
    if let Err(ReplaceError::Open(_)) = put(&p.stat, stat_line(s).as_bytes(), false, diag) {
        return;
    }
    let _ = put(&p.status, &s.status().encode(), true, diag);
}

/// `replace` with runit's warnings: open and rename failures always, write failures only
/// when `warn_write` (runit ignores them for `pid` and `stat`). One function for the three
/// files keeps the warnings in one place (and the binary small).
fn put(file: &File, data: &[u8], warn_write: bool, diag: &Diag) -> Result<(), ReplaceError> {
    let result = replace(file.new, file.dst, data);
    let path = file.new.to_bytes();
    match result {
        Ok(()) => {}
        Err(ReplaceError::Open(e)) => diag.warn(&[b"unable to open ", path], errno(e)),
        Err(ReplaceError::Rename(e)) => {
            // runit names the new file without its directory: `unable to rename pid.new to …`.
            let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
            diag.warn(
                &[b"unable to rename ", name, b" to ", file.dst.to_bytes()],
                errno(e),
            );
        }
        Err(ReplaceError::Write(e)) if warn_write => {
            diag.warn(&[b"unable to write ", path], errno(e))
        }
        Err(ReplaceError::PartialWrite) if warn_write => {
            diag.warn(&[b"unable to write ", path, b": partial write."], None)
        }
        Err(ReplaceError::Write(_) | ReplaceError::PartialWrite) => {}
    }
    result
}

fn errno(e: rustix::io::Errno) -> Option<i32> {
    Some(e.raw_os_error())
}

#[cfg(test)]
mod tests {
    use super::super::clock::Mono;
    use super::super::svc::Kind;
    use super::*;

    #[test]
    fn stat_lines() {
        let mut s = Service::new(Kind::Main, &MAIN, Want::Up, Mono::now());
        assert_eq!(stat_line(&s).as_bytes(), b"down\n");
        s.want = Want::Exit;
        s.paused = true;
        assert_eq!(stat_line(&s).as_bytes(), b"down, paused\n");
        s.state = RunState::Run;
        s.term = true;
        assert_eq!(
            stat_line(&s).as_bytes(),
            b"run, paused, got TERM, want exit\n"
        );
        s.paused = false;
        s.want = Want::Down;
        assert_eq!(stat_line(&s).as_bytes(), b"run, got TERM, want down\n");
        s.state = RunState::Finish;
        s.term = false;
        s.want = Want::Up;
        assert_eq!(stat_line(&s).as_bytes(), b"finish\n");
    }
}
