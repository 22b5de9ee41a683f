//! sv: control and query services supervised by runsv, as runit's `sv` (and, called by any
//! other name, its LSB init-script mode), with an event-driven wait instead of 420 ms polls.
//! install: usr/bin

#[path = "sv/options.rs"]
mod options;
#[path = "sv/output.rs"]
mod output;
#[path = "sv/predicate.rs"]
mod predicate;
#[path = "sv/service.rs"]
mod service;
#[path = "sv/wait.rs"]
mod wait;

use options::Act;
use service::{Flow, Sv};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::time::Instant;
use wait::{Target, Wait, Watcher};

pub fn main(args: Vec<OsString>) -> i32 {
    // A kept `supervise/ok` must never take the number of a closed stdout.
    svbox::fsio::fill_std_fds();
    let start = Instant::now();
    let inv = match options::parse(&args) {
        Ok(inv) => inv,
        Err(code) => return code,
    };
    let mut sv = match Sv::new(inv.lsb, inv.svdir.clone()) {
        Ok(sv) => sv,
        Err(code) => return code,
    };
    let Some(action) = options::action(inv.command.as_bytes(), inv.lsb, inv.verbose) else {
        return inv.usage();
    };
    sv.set_first(action.bytes[0]);
    match run(&mut sv, &action, inv.services, inv.wait_secs, start) {
        Ok(()) => sv.out.exit_code(),
        Err(code) => code,
    }
}

/// Sends the command to every service, then waits if the command does; `Err(code)` means
/// exit now with that code (a fatal error, or the answer of LSB `status`).
fn run(
    sv: &mut Sv,
    action: &options::Action,
    names: Vec<OsString>,
    wait_secs: u64,
    start: Instant,
) -> Result<(), i32> {
    let mut targets: Vec<Target> = names.into_iter().map(Target::new).collect();
    let mut watcher = Watcher::new(action.wait);
    for t in targets.iter_mut() {
        if !sv.enter(&t.name) {
            t.alive = false;
            sv.leave()?;
            continue;
        }
        let name = t.name.as_bytes();
        match action.act {
            Act::Control => match sv.control(name, &action.bytes) {
                Some(ok) if action.wait => watcher.keep(t, ok),
                Some(_) => {}
                None => t.alive = false,
            },
            Act::Status => match sv.status(name) {
                Flow::Exit(code) => {
                    sv.leave()?;
                    return Err(code);
                }
                Flow::Continue => {}
            },
            Act::Nothing => {}
        }
        if t.alive && action.wait {
            watcher.watch(t);
        }
        sv.leave()?;
    }
    if !action.wait {
        return Ok(());
    }
    let params = Wait {
        bytes: &action.bytes,
        kill: action.kill,
        limit: std::time::Duration::from_secs(wait_secs),
        start,
    };
    wait::run(sv, &mut targets, &mut watcher, &params)
}
