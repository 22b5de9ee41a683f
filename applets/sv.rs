//! sv: control and query services supervised by runsv, as runit's `sv` (and, called by any
//! other name, its LSB init-script mode), with an event-driven wait instead of 420 ms polls.
//! install: usr/bin
//!
//! Size: the phases are `#[inline(never)]` (here and in `sv/`); folded into `main` they
//! made the size-tuned binary larger.

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
use svbox::mono::{Mono, SECOND};
use wait::{Target, Wait, Watcher};

pub fn main(args: Vec<OsString>) -> i32 {
    // A kept `supervise/ok` must never take the number of a closed stdout.
    let start = Mono::now();
    let inv = match options::parse(&args) {
        Ok(inv) => inv,
        Err(code) => return code,
    };
    let mut sv = match Sv::new(inv.lsb, inv.svdir.clone()) {
        Ok(sv) => sv,
        Err(code) => return code,
    };
    let Some(action) = options::action(inv.command, inv.lsb, inv.verbose) else {
        return inv.usage();
    };
    sv.set_first(action.bytes[0]);
    let targets = inv.services.iter().map(|n| Target::new(n)).collect();
    match run(&mut sv, &action, targets, inv.wait_secs, start) {
        Ok(()) => sv.out.exit_code(),
        Err(code) => code,
    }
}

/// Sends the command to every service, then waits if the command does; `Err(code)` means
/// exit now with that code (a fatal error, or the answer of LSB `status`).
#[inline(never)]
fn run(
    sv: &mut Sv,
    action: &options::Action,
    mut targets: Vec<Target<'_>>,
    wait_secs: u64,
    start: Mono,
) -> Result<(), i32> {
    let mut watcher = Watcher::new(action.wait);
    for t in targets.iter_mut() {
        if !sv.enter(t.name) {
            t.alive = false;
            sv.leave()?;
            continue;
        }
        let name = t.name;
        match action.act {
            Act::Control => match sv.control(name, action.bytes) {
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
        bytes: action.bytes,
        kill: action.kill,
        limit: wait_secs.saturating_mul(SECOND),
        start,
    };
    wait::run(sv, &mut targets, &mut watcher, &params)
}
