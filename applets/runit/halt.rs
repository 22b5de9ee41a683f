//! The end: after stage 3, kill every process, then reboot, power off or halt, as runit does
//! it — in a child, so that process 1 goes on reaping (inside a PID namespace the kernel
//! ends the namespace's init with SIGHUP for a reboot, SIGINT for a power-off or halt).

use super::console::{say, Console, Kind};
use nix::libc;
use nix::unistd::{fork, ForkResult};
use svbox::runitdir::{owner_executable, RunitDir};

pub fn halt(dir: &RunitDir, console: &mut Console) {
    console.reget();
    say(
        Kind::Info,
        &[b"sending KILL signal to all processes..."],
        None,
    );
    // SAFETY: kill has no memory effects; -1 spares process 1 itself.
    unsafe { libc::kill(-1, libc::SIGKILL) };
    // SAFETY: process 1 is single-threaded; the child only makes system calls.
    match unsafe { fork() } {
        Ok(ForkResult::Parent { .. }) => {}
        Ok(ForkResult::Child) => {
            shut_down(dir);
            // SAFETY: leaving the child.
            unsafe { libc::_exit(0) }
        }
        // As runit: without a child, process 1 does it itself.
        Err(_) => shut_down(dir),
    }
}

fn shut_down(dir: &RunitDir) {
    if owner_executable(&dir.reboot) {
        say(Kind::Info, &[b"system reboot."], None);
        sync_unless(dir);
        reboot(libc::RB_AUTOBOOT);
    } else {
        say(Kind::Info, &[b"power off..."], None);
        sync_unless(dir);
        reboot(libc::RB_POWER_OFF);
        super::pause(2);
        say(Kind::Info, &[b"system halt."], None);
        sync_unless(dir);
        reboot(libc::RB_HALT_SYSTEM);
    }
}

/// `sync()` unless `nosync` exists (runit 2.2.0).
fn sync_unless(dir: &RunitDir) {
    if svbox::filestat::stat(&dir.nosync).is_err() {
        // SAFETY: sync has no arguments and cannot fail.
        unsafe { libc::sync() };
    }
}

fn reboot(cmd: libc::c_int) {
    // SAFETY: reboot takes a plain command number.
    unsafe { libc::reboot(cmd) };
}
