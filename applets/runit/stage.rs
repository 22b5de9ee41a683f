//! Starting a stage (or `ctrlaltdel`): fork, give the child runit's descriptors, session and
//! a clean signal state, announce it, exec. The child prints `enter stage: PATH` itself, as
//! runit's does, so a failing exec is reported after it; nothing is allocated after fork.

use super::console::{say, Kind, CONSOLE};
use nix::libc;
use nix::unistd::{fork, ForkResult};
use std::ffi::CStr;

/// How the child is set up besides the common part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Stage 1: the console as stdin and (where the kernel allows) controlling terminal.
    Console,
    /// Stages 2 and 3: a new session, so stage 2's whole group can be killed.
    Session,
    /// `ctrlaltdel`: as process 1 has it.
    Plain,
}

/// Forks and execs `path` with argv `[path]`; returns the pid or fork's errno.
/// `console` = fds 0 and 1 are the console; the child then gets it as stderr too.
pub fn start(path: &CStr, mode: Mode, console: bool) -> Result<i32, i32> {
    // SAFETY: process 1 is single-threaded; the child only makes system calls and writes
    // stack-built messages before exec or _exit.
    match unsafe { fork() } {
        Ok(ForkResult::Parent { child }) => Ok(child.as_raw()),
        Ok(ForkResult::Child) => child(path, mode, console),
        Err(e) => Err(e as i32),
    }
}

fn child(path: &CStr, mode: Mode, console: bool) -> ! {
    // SAFETY (whole block): plain system calls on this child's own descriptors and state.
    unsafe {
        match mode {
            Mode::Console => {
                let fd = libc::open(CONSOLE.as_ptr(), libc::O_RDWR | libc::O_NONBLOCK);
                if fd >= 0 {
                    let _ = svbox::syscall::ioctl_int(fd, libc::TIOCSCTTY as libc::c_long, 0);
                    libc::fcntl(fd, libc::F_SETFL, libc::O_RDWR);
                    libc::dup2(fd, 0);
                    if fd > 2 {
                        libc::close(fd);
                    }
                } else {
                    let e = nix::errno::Errno::last_raw();
                    say(Kind::Warning, &[b"unable to open /dev/console"], Some(e));
                }
            }
            Mode::Session => {
                libc::setsid();
            }
            Mode::Plain => {}
        }
        if console {
            libc::dup2(1, 2);
        }
        reset_signals();
        say(Kind::Info, &[b"enter stage: ", path.to_bytes()], None);
        let argv = [path.as_ptr(), std::ptr::null()];
        libc::execv(path.as_ptr(), argv.as_ptr());
        let e = nix::errno::Errno::last_raw();
        say(
            Kind::Fatal,
            &[b"unable to start child: ", path.to_bytes()],
            Some(e),
        );
        // runit's child exits 0 here, so a missing stage counts as a successful one.
        libc::_exit(0)
    }
}

/// The kernel's signal set size (`_NSIG / 8`), which `rt_sigaction` insists on.
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
const KERNEL_SIGSET_BYTES: usize = 16;
#[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
const KERNEL_SIGSET_BYTES: usize = 8;

/// Every signal at its default and none blocked: runit 2.3.0 no longer leaves SIGCONT
/// ignored, and whatever process 1 inherited or blocks does not reach the stages.
fn reset_signals() {
    // SAFETY: installing default dispositions and an empty mask in the child.
    unsafe {
        // Through the system call for all (SIGKILL and SIGSTOP just fail): libc refuses the
        // real-time signals it reserves. All zero is SIG_DFL, no flags, empty mask, whatever
        // the kernel's field order.
        let default = [0u64; 8];
        for sig in 1..=64 {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                default.as_ptr(),
                std::ptr::null_mut::<u64>(),
                KERNEL_SIGSET_BYTES,
            );
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
    }
}
