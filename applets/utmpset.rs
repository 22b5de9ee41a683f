//! utmpset: logs a line out in utmp (and with `-w` in wtmp), as a getty's `finish` script
//! does with `utmpset -w tty5`. The records are written directly in glibc's layout (see
//! `record`): no libc utmp functions, which musl does not implement.
//! `SVBOX_UTMP` and `SVBOX_WTMP` override the files (an svbox addition, for tests).
//! install: usr/sbin

#[path = "utmpset/record.rs"]
mod record;

use record::Record;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{self, FlockOperation, Mode, OFlags, SeekFrom};
use rustix::io::Errno;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use svbox::getopt::Getopt;
use svbox::msg::{usage, Line};

const USAGE: &str = " [-w] line";
const ID: &str = "$Id: cb399098f794012a7f5e6a3a7090b2d53b86c08c $";
const FATAL: &str = "utmpset: fatal: ";
const WARNING: &str = "utmpset: warning: ";

pub fn main(args: Vec<OsString>) -> i32 {
    let argv0 = args.first().map_or(OsStr::new("utmpset"), |a| a);
    let mut wtmp = false;
    let mut opts = Getopt::new(&args, "wV");
    for opt in opts.by_ref() {
        match opt {
            Ok((b'w', _)) => wtmp = true,
            Ok(_) => {
                Line::new().s(ID).to_stderr();
                usage(argv0, USAGE);
                return 1;
            }
            Err(e) => {
                e.print(argv0);
                usage(argv0, USAGE);
                return 1;
            }
        }
    }
    let Some(line) = opts.operands().first() else {
        usage(argv0, USAGE);
        return 1;
    };
    let line = line.as_bytes();
    let utmp = file(c"SVBOX_UTMP", c"/var/run/utmp");
    let wtmp_file = file(c"SVBOX_WTMP", c"/var/log/wtmp");
    if let Err(code) = utmp_logout(&utmp, line) {
        return code;
    }
    if wtmp {
        if let Err(code) = wtmp_logout(&wtmp_file, line) {
            return code;
        }
    }
    0
}

fn file(var: &CStr, default: &CStr) -> CString {
    match svbox::env::var(var) {
        // The environment cannot hold a NUL byte, so this never falls back.
        Some(v) => CString::new(v.into_vec()).unwrap_or_default(),
        None => default.to_owned(),
    }
}

fn fatal(parts: &[&[u8]], e: Option<Errno>) -> i32 {
    let mut l = Line::new();
    l.s(FATAL);
    for p in parts {
        l.b(p);
    }
    if let Some(e) = e {
        l.err(e.raw_os_error());
    }
    l.to_stderr();
    111
}

fn warning(line: &[u8], what: &str, e: Option<Errno>) -> i32 {
    let mut l = Line::new();
    l.s(WARNING).s("unable to logout line ").b(line).s(what);
    match e {
        Some(e) => l.err(e.raw_os_error()),
        None => l.s(": no such entry"),
    };
    l.to_stderr();
    111
}

/// Seconds since the epoch (0 for a clock set before it).
fn now() -> i64 {
    svbox::tai::Tai64n::now().unix_secs().max(0)
}

/// Ends the first logged-in record of `line` in utmp.
fn utmp_logout(path: &CStr, line: &[u8]) -> Result<(), i32> {
    if line.len() > record::LINE_LEN {
        let msg: [&[u8]; 3] = [b"unable to logout line ", line, b" in utmp: name too long"];
        return Err(fatal(&msg, None));
    }
    let fd = fs::open(path, OFlags::RDWR | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| fatal(&[b"unable to open ", path.to_bytes()], Some(e)))?;
    fs::flock(&fd, FlockOperation::LockExclusive)
        .map_err(|e| fatal(&[b"unable to lock: ", path.to_bytes()], Some(e)))?;
    let mut r = Record::zeroed();
    while read_record(&fd, &mut r) {
        if !r.has_user() || r.line() != line {
            continue;
        }
        r.log_out(now());
        let back = -(record::SIZE as i64);
        if rustix::fs::seek(&fd, SeekFrom::Current(back)).is_err() {
            break;
        }
        if matches!(rustix::io::write(&fd, r.bytes()), Ok(n) if n == record::SIZE) {
            return Ok(());
        }
        break;
    }
    Err(warning(line, " in utmp", None))
}

/// Reads one whole record; false at the end (or on a short or failed read).
fn read_record(fd: &OwnedFd, r: &mut Record) -> bool {
    loop {
        match rustix::io::read(fd, r.bytes_mut()) {
            Ok(n) => return n == record::SIZE,
            Err(Errno::INTR) => continue,
            Err(_) => return false,
        }
    }
}

/// Appends a DEAD_PROCESS record for `line` to wtmp; a failed write is cut off again.
fn wtmp_logout(path: &CStr, line: &[u8]) -> Result<(), i32> {
    let fd = svbox::fsio::open_append(path)
        .map_err(|e| fatal(&[b"unable to open ", path.to_bytes()], Some(e)))?;
    fs::flock(&fd, FlockOperation::LockExclusive)
        .map_err(|e| fatal(&[b"unable to lock ", path.to_bytes()], Some(e)))?;
    let size = svbox::filestat::fstat(fd.as_fd())
        .map_err(|e| warning(line, " in wtmp", Some(e)))?
        .size;
    let mut r = Record::zeroed();
    r.set_line(line);
    r.set_dead(now());
    let written = loop {
        match rustix::io::write(&fd, r.bytes()) {
            Err(Errno::INTR) => continue,
            other => break other,
        }
    };
    let e = match written {
        Ok(n) if n == record::SIZE => return Ok(()),
        // A short write means the disk filled up.
        Ok(_) => Errno::NOSPC,
        Err(e) => e,
    };
    let _ = fs::ftruncate(&fd, size as u64);
    Err(warning(line, " in wtmp", Some(e)))
}
