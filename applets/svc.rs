//! svc: daemontools' control client. Sends the option letters (deduplicated, in order of
//! first appearance) to `supervise/control` of each DIR; problems are warnings, exit 0.
//! install: usr/bin

use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use svbox::getopt::Getopt;
use svbox::msg::Line;
use svbox::supervise::{self, Origin, SendError};

const OPTIONS: &str = "svc options: u up, d down, o once, x exit, p pause, c continue, \
                       h hup, a alarm, i interrupt, t term, k kill";

pub fn main(args: Vec<OsString>) -> i32 {
    // daemontools keeps at most 20; only 11 letters exist, so deduplication decides.
    let mut data = [0u8; 20];
    let mut len = 0;
    let mut opts = Getopt::new(&args, "udopchaitkx");
    for opt in opts.by_ref() {
        match opt {
            Ok((c, _)) => {
                if len < data.len() && !data[..len].contains(&c) {
                    data[len] = c;
                    len += 1;
                }
            }
            Err(e) => {
                e.print(&args[0]);
                Line::new().s(OPTIONS).to_stderr();
                return 100;
            }
        }
    }
    let dirs = opts.operands();
    // Opened after the options, as daemontools does: a bad option never touches the disk.
    let origin = match Origin::here() {
        Ok(o) => o,
        Err(e) => return fatal("unable to open current directory", e),
    };
    for dir in dirs {
        control(dir, &data[..len]);
        if let Err(e) = origin.back() {
            return fatal("unable to set directory", e);
        }
    }
    0
}

/// Sends `letters` to the supervisor of `dir`, warning on failure.
fn control(dir: &OsStr, letters: &[u8]) {
    if let Err(e) = rustix::process::chdir(dir) {
        warn("unable to chdir to ", dir, Some(e));
        return;
    }
    match supervise::send(letters) {
        Ok(()) => {}
        Err(SendError::Open(Errno::NXIO)) => warn("unable to control ", dir, None),
        Err(SendError::Open(e)) => warn("unable to control ", dir, Some(e)),
        Err(SendError::Write(e)) => warn("error writing commands to ", dir, Some(e)),
    }
}

/// `svc: warning: WHAT DIR: ERR`, or `: supervise not running` without an error.
fn warn(what: &str, dir: &OsStr, err: Option<Errno>) {
    let mut line = Line::new();
    line.s("svc: warning: ").s(what).os(dir);
    match err {
        Some(e) => line.err(e.raw_os_error()),
        None => line.s(": supervise not running"),
    };
    line.to_stderr();
}

fn fatal(what: &str, e: Errno) -> i32 {
    Line::new()
        .s("svc: fatal: ")
        .s(what)
        .err(e.raw_os_error())
        .to_stderr();
    111
}
