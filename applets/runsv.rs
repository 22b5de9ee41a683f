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

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

pub fn main(args: Vec<OsString>) -> i32 {
    let argv0 = args
        .first()
        .cloned()
        .unwrap_or_else(|| OsString::from("runsv"));
    if args.len() != 2 {
        svbox::msg::usage(&argv0, " dir");
        return 1;
    }
    let dir = &args[1];
    match setup::start(dir, diag::Diag::new(dir.as_bytes())) {
        Ok(mut sv) => supervisor::run(&mut sv),
        Err(code) => code,
    }
}
