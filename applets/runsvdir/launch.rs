//! Starting children without allocating after fork: a runsv per service (argv `runsv NAME`,
//! cwd the scan directory, own session with -P) and the `.svscan/log` logger. runsv is this
//! very binary: the `runsv` found in PATH if it is the same file (so `ps`/`pgrep` see the
//! name `runsv`), else `/proc/self/exe`; if that cannot be executed, PATH as runit does.

use nix::libc;
use std::ffi::{CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use svbox::msg::Line;

pub struct Launcher {
    exe: CString,
    /// PATH for the fallback search (runit's pathexec default when unset).
    path: Vec<u8>,
    dir: CString,
    new_session: bool,
    prefix: Vec<u8>,
}

impl Launcher {
    pub fn new(dir: &OsStr, new_session: bool, prefix: &[u8]) -> Launcher {
        let path = std::env::var_os("PATH")
            .map(|p| p.as_bytes().to_vec())
            .unwrap_or_else(|| b"/bin:/usr/bin".to_vec());
        let me = rustix::fs::stat("/proc/self/exe").ok();
        let mut exe = CString::from(c"/proc/self/exe");
        if let Some(me) = me {
            for elem in path.split(|&b| b == b':') {
                let mut cand = if elem.is_empty() {
                    b".".to_vec()
                } else {
                    elem.to_vec()
                };
                cand.extend_from_slice(b"/runsv");
                let Ok(c) = CString::new(cand) else { continue };
                if let Ok(st) = rustix::fs::stat(c.as_c_str()) {
                    if st.st_dev == me.st_dev && st.st_ino == me.st_ino && elem.starts_with(b"/") {
                        exe = c;
                        break;
                    }
                }
            }
        }
        Launcher {
            exe,
            path,
            dir: CString::new(dir.as_bytes()).unwrap_or_default(),
            new_session,
            prefix: prefix.to_vec(),
        }
    }

    /// Starts `runsv NAME`; the pid, or the errno of fork.
    pub fn runsv(&self, name: &CStr) -> Result<i32, i32> {
        let argv: [*const libc::c_char; 3] = [c"runsv".as_ptr(), name.as_ptr(), std::ptr::null()];
        // SAFETY: runsvdir is single-threaded; the child only makes system calls on data
        // prepared before the fork and then exits.
        match unsafe { libc::fork() } {
            -1 => Err(errno()),
            0 => {
                svbox::signals::reset_for_child();
                if self.new_session {
                    // SAFETY: plain system call in the child.
                    unsafe { libc::setsid() };
                }
                // SAFETY: valid C strings; argv is null-terminated.
                let e = unsafe {
                    if libc::chdir(self.dir.as_ptr()) != 0 {
                        errno()
                    } else {
                        libc::execv(self.exe.as_ptr(), argv.as_ptr());
                        self.path_exec(&argv)
                    }
                };
                let mut line = Line::new();
                line.b(&self.prefix)
                    .s("fatal: unable to start runsv ")
                    .b(name.to_bytes())
                    .err(e);
                line.to_stderr();
                // SAFETY: leaving the child without running the parent's destructors.
                unsafe { libc::_exit(100) }
            }
            pid => Ok(pid),
        }
    }

    /// runit's pathexec: every PATH element (empty = `.`); the first errno other than
    /// ENOENT wins.
    fn path_exec(&self, argv: &[*const libc::c_char; 3]) -> i32 {
        let mut saved = 0;
        let mut buf = [0u8; 4096];
        for elem in self.path.split(|&b| b == b':') {
            let elem: &[u8] = if elem.is_empty() { b"." } else { elem };
            let n = elem.len();
            if n + 7 > buf.len() {
                continue;
            }
            buf[..n].copy_from_slice(elem);
            buf[n..n + 7].copy_from_slice(b"/runsv\0");
            // SAFETY: buf holds a NUL-terminated path; argv is null-terminated.
            unsafe { libc::execv(buf.as_ptr().cast(), argv.as_ptr()) };
            let e = errno();
            if e != libc::ENOENT && saved == 0 {
                saved = e;
            }
        }
        if saved == 0 {
            libc::ENOENT
        } else {
            saved
        }
    }

    /// Starts `./run` in `logdir` with stdin `input` and stdout/stderr `console`.
    pub fn logger(&self, logdir: &CStr, input: i32, console: i32) -> Result<i32, i32> {
        let argv: [*const libc::c_char; 2] = [c"./run".as_ptr(), std::ptr::null()];
        // SAFETY: as in `runsv`.
        match unsafe { libc::fork() } {
            -1 => Err(errno()),
            0 => {
                svbox::signals::reset_for_child();
                // SAFETY: descriptor calls and exec on data prepared before the fork.
                let e = unsafe {
                    if libc::dup2(input, 0) < 0
                        || libc::dup2(console, 1) < 0
                        || libc::dup2(console, 2) < 0
                        || libc::chdir(logdir.as_ptr()) != 0
                    {
                        errno()
                    } else {
                        libc::execv(argv[0], argv.as_ptr());
                        errno()
                    }
                };
                let mut line = Line::new();
                line.b(&self.prefix)
                    .s("warning: unable to start .svscan/log/run")
                    .err(e);
                line.to_stderr();
                // SAFETY: as above.
                unsafe { libc::_exit(111) }
            }
            pid => Ok(pid),
        }
    }
}

fn errno() -> i32 {
    nix::errno::Errno::last_raw()
}
