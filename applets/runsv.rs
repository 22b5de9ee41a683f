//! runsv: supervises one service directory (`./run`, `./finish`, `./log/run`) as runit 2.1.2
//! does, byte for byte in its files and messages, but without ever blocking: the restart
//! throttle and fork retries are poll deadlines, so control bytes are served at all times.
//! install: usr/bin

#[path = "runsv/act.rs"]
mod act;
#[path = "runsv/child.rs"]
mod child;
use svbox::mono as clock;
#[path = "runsv/diag.rs"]
mod diag;
#[path = "runsv/files.rs"]
mod files;
#[path = "runsv/hooks.rs"]
mod hooks;
#[path = "runsv/setup.rs"]
mod setup;
#[path = "runsv/supervisor.rs"]
mod supervisor;
#[path = "runsv/svc.rs"]
mod svc;
#[path = "runsv/table.rs"]
mod table;

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStringExt;

pub fn main(args: Vec<OsString>) -> i32 {
    if args.len() != 2 {
        let argv0 = args.first().map_or(OsStr::new("runsv"), |a| a.as_os_str());
        svbox::msg::usage(argv0, " dir");
        return 1;
    }
    let mut args = args;
    // An argument never holds a NUL; the C string is made once, for chdir and the messages.
    let Ok(dir) = CString::new(args.swap_remove(1).into_vec()) else {
        return diag::FATAL;
    };
    match setup::start(diag::Diag::new(dir)) {
        Ok(mut sv) => supervisor::run(&mut sv),
        Err(code) => code,
    }
}
