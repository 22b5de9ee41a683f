//! Custom control hooks `control/<c>` (§2.8): run synchronously for the main service when
//! the file's owner-execute bit is set; "success" (exit code 0, or killed by a signal, as
//! runit counts it) suppresses the default signal.

use super::svc::{Kind, Shared};
use std::ffi::CStr;
use svbox::signals::wait_for;
use svbox::spawn::{Spawn, Stage};

/// Runs `control/<byte>` if it exists and is executable; true if it succeeded.
pub fn run(kind: Kind, byte: u8, sh: &Shared) -> bool {
    if kind == Kind::Log {
        return false;
    }
    let mut buf = *b"control/?\0";
    buf[8] = byte;
    let Ok(path) = CStr::from_bytes_with_nul(&buf) else {
        return false; // a NUL control byte names no hook
    };
    match svbox::filestat::stat(path) {
        Ok(st) if st.owner_executable() => {}
        Ok(_) | Err(rustix::io::Errno::NOENT) => return false,
        Err(e) => {
            sh.diag.warn(
                &[b"unable to stat ", path.to_bytes()],
                Some(e.raw_os_error()),
            );
            return false;
        }
    }
    let report = |stage: Stage, errno: i32| match stage {
        Stage::Descriptors => sh.diag.warn(
            &[b"unable to setup stdout for ", path.to_bytes()],
            Some(errno),
        ),
        _ => {
            sh.diag.fatal(&[b"unable to run control/?"], Some(errno));
        }
    };
    let argv = [path];
    let spawn = Spawn {
        stdout: sh.log_writer(),
        ..Spawn::new(&argv, &report)
    };
    let pid = match spawn.start() {
        Ok(pid) => pid,
        Err(errno) => {
            sh.diag
                .warn(&[b"unable to fork for ", path.to_bytes()], Some(errno));
            return false;
        }
    };
    match wait_for(pid) {
        Ok(wstat) => wstat >> 8 == 0,
        Err(e) => {
            sh.diag.warn(
                &[b"unable to wait for child ", path.to_bytes()],
                Some(e as i32),
            );
            false
        }
    }
}
