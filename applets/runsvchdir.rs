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
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use svbox::filestat;
use svbox::msg::{usage, Line};

const DEFAULT_DIR: &[u8] = b"/etc/runit/runsvdir";

pub fn main(args: Vec<OsString>) -> i32 {
    let argv0 = args.first().map_or(OsStr::new("runsvchdir"), |a| a);
    let Some(new) = args.get(1) else {
        usage(argv0, " dir");
        return 1;
    };
    let fail = Fail { prog: argv0 };
    let env = svbox::env::var(c"RUNSVDIR");
    let dir = env.as_ref().map_or(DEFAULT_DIR, |d| d.as_bytes());
    let newb = new.as_bytes();
    if newb.first() == Some(&b'.') {
        return fail.x(&[newb, b": must not start with a dot."]);
    }
    // Neither argv nor the environment can hold a NUL byte: these never fall back.
    let cdir = CString::new(dir).unwrap_or_default();
    let cnew = CString::new(newb).unwrap_or_default();
    if let Err(e) = rustix::process::chdir(cdir.as_c_str()) {
        return fail.sys(&[b"unable to chdir: ", dir], e);
    }
    let target = match filestat::stat(cnew.as_c_str()) {
        Ok(s) => s,
        Err(Errno::NOENT) => return fail.sys(&[newb], Errno::NOENT),
        Err(e) => return fail.sys(&[b"unable to stat: ", newb], e),
    };
    if !target.is_dir() {
        return fail.x(&[newb, b"not a directory."]);
    }
    let current = match filestat::stat(c"current") {
        Ok(s) => s,
        Err(e) => return fail.sys(&[b"unable to stat: current"], e),
    };
    let same = (current.dev, current.ino) == (target.dev, target.ino);
    if !same {
        let code = switch(&fail, &cnew, newb);
        if code != 0 {
            return code;
        }
    }
    Line::new()
        .s("runsvchdir: ")
        .b(newb)
        .s(if same { ": current." } else { ": now current." })
        .to_stdout();
    0
}

/// Points `current` at `new` (through `current.new`), keeping the old one as `previous`.
fn switch(fail: &Fail<'_>, new: &CStr, newb: &[u8]) -> i32 {
    match fs::unlink(c"current.new") {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return fail.sys(&[b"unable to unlink: current.new"], e),
    }
    if let Err(e) = fs::symlink(new, c"current.new") {
        return fail.sys(&[b"unable to create: current.new -> ", newb], e);
    }
    match fs::readlink(c"current", Vec::new()) {
        Ok(old) => switch_link(fail, &old),
        Err(_) => switch_runit(fail),
    }
}

/// `current` is a symbolic link to `old`: `previous` becomes a copy of it, then
/// `current.new` replaces `current` atomically.
fn switch_link(fail: &Fail<'_>, old: &CStr) -> i32 {
    match fs::unlink(c"previous") {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return fail.sys(&[b"unable to unlink: previous"], e),
    }
    if let Err(e) = fs::symlinkat(old, CWD, c"previous") {
        return fail.sys(&[b"unable to copy: current to previous"], e);
    }
    if let Err(e) = fs::rename(c"current.new", c"current") {
        fail.warn(&[b"unable to move: current.new to current"], e);
        return 111;
    }
    0
}

/// runit's sequence, for a `current` that is not a symbolic link.
fn switch_runit(fail: &Fail<'_>) -> i32 {
    match fs::unlink(c"previous") {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return fail.sys(&[b"unable to unlink: previous"], e),
    }
    if let Err(e) = fs::rename(c"current", c"previous") {
        return fail.sys(&[b"unable to copy: current to previous"], e);
    }
    if let Err(e) = fs::rename(c"current.new", c"current") {
        fail.warn(&[b"unable to move: current.new to current"], e);
        if let Err(e) = fs::rename(c"previous", c"current") {
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
