//! runsvdir: starts one runsv per service directory of a scan directory and keeps it running,
//! as runit 2.1.2 does (arguments, messages, signals, identity by device and inode), but
//! reacting at once through inotify, without a service limit, with an optional supervised
//! logger for its own output (`.svscan/log`) and an ordered shutdown as process 1.
//! install: usr/bin

#[path = "runsvdir/args.rs"]
mod args;
use svbox::mono as clock;
#[path = "runsvdir/daemon.rs"]
mod daemon;
#[path = "runsvdir/launch.rs"]
mod launch;
#[path = "runsvdir/out.rs"]
mod out;
#[path = "runsvdir/procstat.rs"]
mod procstat;
#[path = "runsvdir/scan.rs"]
mod scan;
#[path = "runsvdir/stop.rs"]
mod stop;
#[path = "runsvdir/svscan.rs"]
mod svscan;
#[path = "runsvdir/table.rs"]
mod table;
#[path = "runsvdir/title.rs"]
mod title;
#[path = "runsvdir/watch.rs"]
mod watch;

use std::ffi::OsString;

pub fn main(args: Vec<OsString>) -> i32 {
    let argv0 = args
        .first()
        .cloned()
        .unwrap_or_else(|| OsString::from("runsvdir"));
    match args::parse(&args) {
        Some(opts) => match daemon::Daemon::setup(&args, opts) {
            Ok(mut d) => d.run(),
            Err(code) => code,
        },
        None => {
            svbox::msg::usage(&argv0, " [-P] dir");
            1
        }
    }
}
