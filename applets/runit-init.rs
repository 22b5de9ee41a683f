//! runit-init: `runit-init 0` halts and `runit-init 6` reboots a system whose process 1 is
//! runit, by setting the `stopit` (and `reboot`) file and sending process 1 SIGCONT. Run as
//! process 1 (the kernel starting `/sbin/init`), it becomes `/sbin/runit`.
//! install: sbin
//! aliases: init

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use svbox::msg::{usage, Line};
use svbox::runitdir::RunitDir;

const USAGE: &str = " 0|6";
/// runit-init's version line, with the empty line runit prints after it.
const ID: &str = "$Id: f075d98bf7dd17c893021f9572cbb970cdad8dcf $\n";
const FATAL: &str = "init: fatal: ";

pub fn main(args: Vec<OsString>) -> i32 {
    let argv0 = args
        .first()
        .map_or(OsStr::new("runit-init"), |a| a.as_os_str());
    if rustix::process::getpid().as_raw_nonzero().get() == 1 {
        return become_runit();
    }
    let arg = args.get(1).map(|a| a.as_bytes()).unwrap_or(b"");
    let dir = RunitDir::from_env();
    let result = match arg.first() {
        Some(b'0') => halt(&dir),
        Some(b'6') => reboot(&dir),
        Some(b'-') if arg.get(1) == Some(&b'V') => {
            Line::new().s(ID).to_stderr();
            usage(argv0, USAGE);
            return 0;
        }
        _ => {
            usage(argv0, USAGE);
            return 0;
        }
    };
    match result {
        Ok(()) => {
            // SAFETY: kill has no memory effects.
            unsafe { nix::libc::kill(1, nix::libc::SIGCONT) };
            0
        }
        Err((what, path, errno)) => {
            Line::new()
                .s(FATAL)
                .s(what)
                .b(path.to_bytes())
                .err(errno)
                .to_stderr();
            111
        }
    }
}

type Failure<'a> = (&'static str, &'a std::ffi::CStr, i32);

fn halt(dir: &RunitDir) -> Result<(), Failure<'_>> {
    set(&dir.stopit)?;
    match rustix::fs::chmod(&*dir.reboot, rustix::fs::Mode::empty()) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err(("unable to chmod ", &dir.reboot, e.raw_os_error())),
    }
}

fn reboot(dir: &RunitDir) -> Result<(), Failure<'_>> {
    set(&dir.stopit)?;
    set(&dir.reboot)
}

/// Creates `path` (runit's open_trunc) and makes it mode 0100: "set" for process 1.
fn set(path: &std::ffi::CStr) -> Result<(), Failure<'_>> {
    svbox::fsio::open_trunc(path).map_err(|e| ("unable to create ", path, e.raw_os_error()))?;
    rustix::fs::chmod(path, rustix::fs::Mode::from_raw_mode(0o100))
        .map_err(|e| ("unable to chmod ", path, e.raw_os_error()))
}

/// As process 1: exec `/sbin/runit`. If that fails, runit-init would exit and the kernel
/// panic; svbox runs its own runit instead when it has one.
fn become_runit() -> i32 {
    let argv = [c"runit".as_ptr(), std::ptr::null()];
    // SAFETY: valid C strings, a null-terminated argv; execv keeps the environment.
    unsafe { nix::libc::execv(c"/sbin/runit".as_ptr(), argv.as_ptr()) };
    let errno = nix::errno::Errno::last_raw();
    #[cfg(feature = "runit")]
    {
        Line::new()
            .s("init: warning: unable to start runit")
            .err(errno)
            .to_stderr();
        // runit takes no arguments.
        crate::applet_runit::main(Vec::new())
    }
    #[cfg(not(feature = "runit"))]
    {
        Line::new()
            .s(FATAL)
            .s("unable to start runit")
            .err(errno)
            .to_stderr();
        111
    }
}
