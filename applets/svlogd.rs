//! svlogd: reads log lines on stdin and writes them to log directories with runit 2.1.2's
//! options, config file, rotation, processors and messages, but in batches, never dropping
//! an unterminated last line, and holding input back instead of losing it on write errors.
//! install: usr/bin

#[path = "svlogd/config.rs"]
mod config;
#[path = "svlogd/daemon.rs"]
mod daemon;
#[path = "svlogd/input.rs"]
mod input;
#[path = "svlogd/line.rs"]
mod line;
#[path = "svlogd/logdir.rs"]
mod logdir;
#[path = "svlogd/name.rs"]
mod name;
#[path = "svlogd/options.rs"]
mod options;
#[path = "svlogd/pattern.rs"]
mod pattern;
#[path = "svlogd/processor.rs"]
mod processor;
#[path = "svlogd/report.rs"]
mod report;
#[path = "svlogd/stamp.rs"]
mod stamp;
#[path = "svlogd/udp.rs"]
mod udp;
#[path = "svlogd/zone.rs"]
mod zone;

use options::Stop;
use std::ffi::OsString;

pub fn main(args: Vec<OsString>) -> i32 {
    let argv0 = args
        .first()
        .cloned()
        .unwrap_or_else(|| OsString::from("svlogd"));
    match options::parse(&args) {
        Ok(opts) => match daemon::Daemon::setup(opts) {
            Ok(mut d) => d.run(),
            Err(code) => code,
        },
        Err(stop) => {
            if stop == Stop::Version {
                svbox::msg::Line::new().s(options::VERSION).to_stderr();
            }
            svbox::msg::usage(&argv0, options::USAGE);
            111
        }
    }
}
