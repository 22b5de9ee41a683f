//! runsvchdir: switches runlevels by pointing `current` in `/etc/runit/runsvdir` (runit
//! 2.3.0: `$RUNSVDIR`) at another directory there; `previous` keeps the old link.
//!
//! runit renames `current` to `previous` and then `current.new` to `current`, so for a
//! moment there is no `current` (a runsvdir scanning it then sees nothing). When `current`
//! is a symbolic link, svbox instead writes `previous` as a copy of it and renames
//! `current.new` over `current` in one step; the files left are the same.
//! install: usr/sbin

use rustix::fs::{self, CWD};
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use svbox::msg::{usage, Line};

const DEFAULT_DIR: &str = "/etc/runit/runsvdir";

pub fn main(args: Vec<OsString>) -> i32 {
    let argv0 = args
        .first()
        .cloned()
        .unwrap_or_else(|| OsString::from("runsvchdir"));
    let Some(new) = args.get(1) else {
        usage(&argv0, " dir");
        return 1;
    };
    let fail = Fail { prog: &argv0 };
    let dir = std::env::var_os("RUNSVDIR").unwrap_or_else(|| OsString::from(DEFAULT_DIR));
    let newb = new.as_bytes();
    if newb.first() == Some(&b'.') {
        return fail.x(&[newb, b": must not start with a dot."]);
    }
    if let Err(e) = rustix::process::chdir(dir.as_os_str()) {
        return fail.sys(&[b"unable to chdir: ", dir.as_bytes()], e);
    }
    let target = match fs::stat(new.as_os_str()) {
        Ok(s) => s,
        Err(Errno::NOENT) => return fail.sys(&[newb], Errno::NOENT),
        Err(e) => return fail.sys(&[b"unable to stat: ", newb], e),
    };
    if target.st_mode & 0o170000 != 0o040000 {
        return fail.x(&[newb, b"not a directory."]);
    }
    let current = match fs::stat("current") {
        Ok(s) => s,
        Err(e) => return fail.sys(&[b"unable to stat: current"], e),
    };
    if (current.st_dev, current.st_ino) == (target.st_dev, target.st_ino) {
        Line::new()
            .s("runsvchdir: ")
            .b(newb)
            .s(": current.")
            .to_stdout();
        return 0;
    }
    match fs::unlink("current.new") {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return fail.sys(&[b"unable to unlink: current.new"], e),
    }
    if let Err(e) = fs::symlink(new.as_os_str(), "current.new") {
        return fail.sys(&[b"unable to create: current.new -> ", newb], e);
    }
    let code = match fs::readlink("current", Vec::new()) {
        Ok(old) => switch_link(&fail, old.as_bytes()),
        Err(_) => switch_runit(&fail),
    };
    if code == 0 {
        Line::new()
            .s("runsvchdir: ")
            .b(newb)
            .s(": now current.")
            .to_stdout();
    }
    code
}

/// `current` is a symbolic link to `old`: `previous` becomes a copy of it, then
/// `current.new` replaces `current` atomically.
fn switch_link(fail: &Fail<'_>, old: &[u8]) -> i32 {
    match fs::unlink("previous") {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return fail.sys(&[b"unable to unlink: previous"], e),
    }
    if let Err(e) = fs::symlinkat(OsStr::from_bytes(old), CWD, "previous") {
        return fail.sys(&[b"unable to copy: current to previous"], e);
    }
    if let Err(e) = fs::rename("current.new", "current") {
        fail.warn(&[b"unable to move: current.new to current"], e);
        return 111;
    }
    0
}

/// runit's sequence, for a `current` that is not a symbolic link.
fn switch_runit(fail: &Fail<'_>) -> i32 {
    match fs::unlink("previous") {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return fail.sys(&[b"unable to unlink: previous"], e),
    }
    if let Err(e) = fs::rename("current", "previous") {
        return fail.sys(&[b"unable to copy: current to previous"], e);
    }
    if let Err(e) = fs::rename("current.new", "current") {
        fail.warn(&[b"unable to move: current.new to current"], e);
        if let Err(e) = fs::rename("previous", "current") {
            return fail.sys(&[b"unable to move previous back to current"], e);
        }
        return 111;
    }
    0
}

/// runsvchdir's messages: `PROG: fatal: …`, named by argv[0] as invoked.
struct Fail<'a> {
    prog: &'a OsStr,
}

impl Fail<'_> {
    fn line(&self, parts: &[&[u8]]) -> Line {
        let mut line = Line::new();
        line.os(self.prog).s(": fatal: ");
        for p in parts {
            line.b(p);
        }
        line
    }

    fn warn(&self, parts: &[&[u8]], e: Errno) {
        self.line(parts).err(e.raw_os_error()).to_stderr();
    }

    fn sys(&self, parts: &[&[u8]], e: Errno) -> i32 {
        self.warn(parts, e);
        111
    }

    fn x(&self, parts: &[&[u8]]) -> i32 {
        self.line(parts).to_stderr();
        111
    }
}
