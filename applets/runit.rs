//! runit: process 1. Runs `/etc/runit/1`, `2` and `3` as runit 2.3.0 does (stage 2 restarted
//! when it exits 111 or crashes; SIGCONT with `stopit` or SIGINT with `ctrlaltdel` end stage
//! 2), then kills everything and reboots, powers off or halts. Event-driven: a signalfd and
//! one poll, runit's waits as deadlines, orphans reaped at once; it never exits.
//! install: sbin

#[path = "runit/console.rs"]
mod console;
#[path = "runit/halt.rs"]
mod halt;
#[path = "runit/init.rs"]
mod init;
#[path = "runit/stage.rs"]
mod stage;
#[path = "runit/table.rs"]
mod table;

use console::{say, Console, Kind};
use nix::sys::signal::Signal;
use std::ffi::OsString;
use svbox::mono::{Mono, SECOND};
use svbox::runitdir::RunitDir;
use svbox::signals::SignalQueue;

/// The version runit 2.1.2 prints at boot.
const ID: &[u8] = b"$Id: 25da3b86f7bed4038b8a039d2f8e8c9bbcf0822b $";

/// The signals runit blocks; CHLD, CONT and INT are acted on, the rest are read and dropped.
const SIGNALS: [Signal; 7] = [
    Signal::SIGALRM,
    Signal::SIGCHLD,
    Signal::SIGCONT,
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGPIPE,
    Signal::SIGTERM,
];

/// Sleeps `secs` seconds, as runit's `sleep`: a poll on no descriptors, repeated after an
/// interruption, until a monotonic deadline (smaller than std's sleep, used nowhere else).
fn pause(secs: u64) {
    let end = Mono::now().plus(secs * SECOND);
    loop {
        let now = Mono::now();
        if now >= end {
            return;
        }
        let _ = svbox::poll::poll(&mut [], Some(&end.timeout_from(now)));
    }
}

pub fn main(_args: Vec<OsString>) -> i32 {
    if rustix::process::getpid().as_raw_nonzero().get() != 1 {
        say(Kind::Fatal, &[b"must be run as process no 1."], None);
        return 111;
    }
    let _ = rustix::process::setsid();
    let console = Console::open();
    let signals = loop {
        match SignalQueue::new(&SIGNALS) {
            Ok(q) => break q,
            Err(e) => {
                say(
                    Kind::Fatal,
                    &[b"unable to create signalfd, pausing"],
                    Some(e as i32),
                );
                pause(5);
            }
        }
    };
    // Ctrl-Alt-Del becomes SIGINT to process 1 instead of an immediate reboot.
    // SAFETY: reboot with RB_DISABLE_CAD only changes that setting.
    unsafe { nix::libc::reboot(nix::libc::RB_DISABLE_CAD) };
    say(Kind::Info, &[ID, b": booting."], None);
    init::Init::new(RunitDir::from_env(), console, signals).run()
}
