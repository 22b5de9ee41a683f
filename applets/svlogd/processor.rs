//! Starting a `!processor` (§5.8): `/bin/sh -c CMD` in the log dir with stdin = `@X.u`,
//! stdout = `@X.t`, fd 4 = `state`, fd 5 = `newstate`. Everything the child needs is built
//! before `fork`, and the child only makes system calls.

use super::name::Name;
use super::report;
use nix::libc;
use std::ffi::CString;
use std::os::unix::io::{AsRawFd, BorrowedFd};

/// The prepared arguments of one processor run.
pub struct Job {
    pub input: Name,
    pub output: Name,
    cmd: CString,
    dir: Vec<u8>,
}

impl Job {
    /// `input` is the `@….u` name.
    pub fn new(input: Name, cmd: &[u8], dir: &[u8]) -> Option<Job> {
        let end = memchr::memchr(0, cmd).unwrap_or(cmd.len());
        Some(Job {
            input,
            output: input.with_suffix(b't'),
            cmd: CString::new(&cmd[..end]).ok()?,
            dir: dir.to_vec(),
        })
    }

    /// Forks the processor; returns its pid or the errno of `fork`.
    pub fn start(&self, dirfd: BorrowedFd<'_>) -> Result<i32, i32> {
        let argv = [
            c"sh".as_ptr(),
            c"-c".as_ptr(),
            self.cmd.as_ptr(),
            std::ptr::null(),
        ];
        // SAFETY: svlogd is single-threaded; the child only makes system calls and writes
        // a stack-built message before `_exit`.
        match unsafe { nix::unistd::fork() } {
            Ok(nix::unistd::ForkResult::Parent { child }) => Ok(child.as_raw()),
            Ok(nix::unistd::ForkResult::Child) => {
                let (what, errno) = self.child(dirfd.as_raw_fd(), &argv);
                report::say("fatal: ", &[what.as_bytes(), &self.dir], Some(errno));
                // SAFETY: leaving the child without running the parent's destructors.
                unsafe { libc::_exit(111) }
            }
            Err(e) => Err(e as i32),
        }
    }

    fn child(&self, dirfd: i32, argv: &[*const libc::c_char; 4]) -> (&'static str, i32) {
        // SAFETY (whole function): plain system calls on valid C strings and descriptors.
        unsafe {
            if libc::fchdir(dirfd) != 0 {
                return ("unable to change directory: ", errno());
            }
            let fd = libc::open(self.input.c().as_ptr(), libc::O_RDONLY);
            if fd < 0 || libc::dup2(fd, 0) < 0 {
                return ("unable to open input for processor: ", errno());
            }
            let trunc = libc::O_WRONLY | libc::O_TRUNC | libc::O_CREAT;
            let fd = libc::open(self.output.c().as_ptr(), trunc, 0o644);
            if fd < 0 || libc::dup2(fd, 1) < 0 {
                return ("unable to open output for processor: ", errno());
            }
            let mut fd = libc::open(c"state".as_ptr(), libc::O_RDONLY);
            if fd < 0 && errno() == libc::ENOENT {
                let made = libc::open(c"state".as_ptr(), trunc, 0o644);
                if made >= 0 {
                    libc::close(made);
                }
                fd = libc::open(c"state".as_ptr(), libc::O_RDONLY);
            }
            if fd < 0 || libc::dup2(fd, 4) < 0 {
                return ("unable to open state for processor: ", errno());
            }
            let fd = libc::open(c"newstate".as_ptr(), trunc, 0o644);
            if fd < 0 || libc::dup2(fd, 5) < 0 {
                return ("unable to open newstate for processor: ", errno());
            }
            svbox::signals::reset_for_child();
            libc::execv(c"/bin/sh".as_ptr(), argv.as_ptr());
            ("unable to run processor: ", errno())
        }
    }
}

fn errno() -> i32 {
    nix::errno::Errno::last_raw()
}
