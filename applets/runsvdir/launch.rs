//! Starting runsvdir's children with `svbox::spawn`: a runsv per service (argv `runsv NAME`,
//! cwd the scan directory, its own session with -P) and the `.svscan/log` logger. runsv is
//! this very binary, executed through `/proc/self/exe` (the front end names the process
//! `runsv`, so `ps` and `pgrep` see it); without /proc, `runsv` is searched in PATH as
//! runit does.

use std::ffi::{CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::BorrowedFd;
use svbox::msg::Line;
use svbox::spawn::{Spawn, Stage};

pub struct Launcher {
    /// PATH for the fallback search (runit's pathexec default when unset).
    path: Vec<u8>,
    dir: CString,
    new_session: bool,
    prefix: Vec<u8>,
}

impl Launcher {
    pub fn new(dir: &OsStr, new_session: bool, prefix: &[u8]) -> Launcher {
        let path = svbox::env::var(c"PATH")
            .map(|p| p.as_bytes().to_vec())
            .unwrap_or_else(|| b"/bin:/usr/bin".to_vec());
        Launcher {
            path,
            dir: CString::new(dir.as_bytes()).unwrap_or_default(),
            new_session,
            prefix: prefix.to_vec(),
        }
    }

    /// Starts `runsv NAME`; the pid, or the errno of fork.
    pub fn runsv(&self, name: &CStr) -> Result<i32, i32> {
        let report = |_: Stage, errno: i32| {
            Line::new()
                .b(&self.prefix)
                .s("fatal: unable to start runsv ")
                .b(name.to_bytes())
                .err(errno)
                .to_stderr();
        };
        let argv = [c"runsv", name];
        Spawn {
            program: c"/proc/self/exe",
            search_path: Some(&self.path),
            dir: Some(&self.dir),
            new_session: self.new_session,
            failure_exit: 100,
            ..Spawn::new(&argv, &report)
        }
        .start()
    }

    /// Starts `./run` in `logdir` with stdin `input` and stdout/stderr `console`.
    pub fn logger(
        &self,
        logdir: &CStr,
        input: BorrowedFd<'_>,
        console: BorrowedFd<'_>,
    ) -> Result<i32, i32> {
        let report = |_: Stage, errno: i32| {
            Line::new()
                .b(&self.prefix)
                .s("warning: unable to start .svscan/log/run")
                .err(errno)
                .to_stderr();
        };
        Spawn {
            dir: Some(logdir),
            stdin: Some(input),
            stdout: Some(console),
            stderr: Some(console),
            ..Spawn::new(&[c"./run"], &report)
        }
        .start()
    }
}
