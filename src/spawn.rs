//! Starting a child: fork, set up its descriptors and directory, give it a clean signal
//! state, exec. Nothing is allocated on either side of the fork, so a supervisor can start
//! children in its steady state; a failure in the child is reported by the caller's
//! callback (with runit's message) before the child exits.

use crate::signals::reset_for_child;
use nix::libc;
use nix::unistd::{fork, ForkResult};
use std::ffi::CStr;
use std::os::unix::io::{AsRawFd, BorrowedFd};

/// The step at which a child failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Setting up stdin/stdout.
    Descriptors,
    /// Changing into `dir`.
    Directory,
    /// `execv` itself.
    Exec,
}

/// What to start and how. `Spawn::new` gives the common case; set fields on top of it with
/// struct update syntax.
pub struct Spawn<'a> {
    /// The file executed; `argv[0]` need not name it (runsvdir runs `/proc/self/exe` as
    /// `runsv`).
    pub program: &'a CStr,
    pub argv: &'a [&'a CStr],
    pub dir: Option<&'a CStr>,
    pub stdin: Option<BorrowedFd<'a>>,
    pub stdout: Option<BorrowedFd<'a>>,
    pub stderr: Option<BorrowedFd<'a>>,
    /// Close fd 1 in the child (sv's `check` runs without stdout).
    pub close_stdout: bool,
    /// Start a new session (`setsid`), as runsvdir's `-P` does for each runsv.
    pub new_session: bool,
    /// When `program` cannot be executed, search this PATH for `argv[0]` as runit's
    /// pathexec does (an empty element is `.`; the first errno other than ENOENT counts).
    pub search_path: Option<&'a [u8]>,
    /// Exit code of the child when setup or exec fails.
    pub failure_exit: i32,
    /// Called in the child on failure with the stage and errno, before it exits.
    pub on_failure: &'a dyn Fn(Stage, i32),
}

const MAX_ARGS: usize = 8;
const MAX_PATH: usize = 4096;

impl<'a> Spawn<'a> {
    /// Executes `argv[0]` with `argv`, inheriting every descriptor; a failing child exits 111.
    pub fn new(argv: &'a [&'a CStr], on_failure: &'a dyn Fn(Stage, i32)) -> Self {
        Spawn {
            program: argv.first().copied().unwrap_or(c""),
            argv,
            dir: None,
            stdin: None,
            stdout: None,
            stderr: None,
            close_stdout: false,
            new_session: false,
            search_path: None,
            failure_exit: 111,
            on_failure,
        }
    }

    /// Forks and execs; returns the child's pid, or the errno of `fork`.
    pub fn start(&self) -> Result<i32, i32> {
        // Built before fork so the child only touches its own stack copy.
        let mut argv: [*const libc::c_char; MAX_ARGS + 1] = [std::ptr::null(); MAX_ARGS + 1];
        for (slot, arg) in argv.iter_mut().zip(self.argv.iter().take(MAX_ARGS)) {
            *slot = arg.as_ptr();
        }
        // SAFETY: the callers are single-threaded daemons and clients; the child calls only
        // async-signal-safe functions and the caller's reporter, which writes to stderr.
        match unsafe { fork() } {
            Ok(ForkResult::Parent { child }) => Ok(child.as_raw()),
            Ok(ForkResult::Child) => {
                let (stage, errno) = self.child(&argv);
                (self.on_failure)(stage, errno);
                // SAFETY: leaving the forked child without running the parent's destructors.
                unsafe { libc::_exit(self.failure_exit) }
            }
            Err(e) => Err(e as i32),
        }
    }

    fn child(&self, argv: &[*const libc::c_char; MAX_ARGS + 1]) -> (Stage, i32) {
        for (fd, target) in [(self.stdin, 0), (self.stdout, 1), (self.stderr, 2)] {
            if let Some(fd) = fd {
                if let Err(e) = move_to(fd, target) {
                    return (Stage::Descriptors, e);
                }
            }
        }
        if self.close_stdout {
            // SAFETY: closing a descriptor number in the child only.
            unsafe { libc::close(1) };
        }
        if self.new_session {
            // SAFETY: plain system call in the child; it cannot fail for a fresh child.
            unsafe { libc::setsid() };
        }
        if let Some(dir) = self.dir {
            // SAFETY: dir is a valid C string.
            if unsafe { libc::chdir(dir.as_ptr()) } != 0 {
                return (Stage::Directory, errno());
            }
        }
        reset_for_child();
        // SAFETY: program is a valid C string; argv is a null-terminated array of them.
        unsafe { libc::execv(self.program.as_ptr(), argv.as_ptr()) };
        let first = errno();
        match self.search_path {
            Some(path) => (Stage::Exec, path_exec(path, argv)),
            None => (Stage::Exec, first),
        }
    }
}

/// runit's pathexec: tries `ELEMENT/argv[0]` for every element of `path`.
fn path_exec(path: &[u8], argv: &[*const libc::c_char; MAX_ARGS + 1]) -> i32 {
    // SAFETY: argv[0] is a valid C string (or null, handled).
    let name = if argv[0].is_null() {
        &[][..]
    } else {
        unsafe { CStr::from_ptr(argv[0]) }.to_bytes()
    };
    let mut saved = 0;
    let mut buf = [0u8; MAX_PATH];
    for elem in path.split(|&b| b == b':') {
        let elem: &[u8] = if elem.is_empty() { b"." } else { elem };
        let len = elem.len() + 1 + name.len();
        if len + 1 > buf.len() {
            continue;
        }
        buf[..elem.len()].copy_from_slice(elem);
        buf[elem.len()] = b'/';
        buf[elem.len() + 1..len].copy_from_slice(name);
        buf[len] = 0;
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

/// Makes `target` a copy of `fd` that survives exec.
fn move_to(fd: BorrowedFd<'_>, target: i32) -> Result<(), i32> {
    let raw = fd.as_raw_fd();
    // SAFETY: plain descriptor calls on numbers owned by this (child) process.
    let rc = unsafe {
        if raw == target {
            // dup2 onto itself keeps FD_CLOEXEC, which would close it at exec.
            libc::fcntl(raw, libc::F_SETFD, 0)
        } else {
            libc::dup2(raw, target)
        }
    };
    if rc < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

fn errno() -> i32 {
    nix::errno::Errno::last_raw()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::wait_for;
    use std::io::Read;
    use std::os::unix::io::AsFd;

    fn run(spawn: &Spawn<'_>) -> i32 {
        let pid = spawn.start().expect("fork");
        wait_for(pid).expect("wait")
    }

    #[test]
    fn child_gets_stdout_dir_and_a_clean_signal_state() {
        let dir = tempfile::tempdir().unwrap();
        let (mut reader, writer) = std::io::pipe().unwrap();
        let dir_c = std::ffi::CString::new(dir.path().to_str().unwrap()).unwrap();
        // SigBlk must be empty and SIGPIPE (bit 13) not ignored, whatever the parent has:
        // this thread blocks SIGUSR2, and Rust's runtime ignores SIGPIPE.
        let mut blocked = nix::sys::signal::SigSet::empty();
        blocked.add(nix::sys::signal::Signal::SIGUSR2);
        blocked.thread_block().unwrap();
        let script = c"pwd; grep -E '^Sig(Blk|Ign)' /proc/self/status";
        let argv = [c"/bin/sh", c"-c", script];
        let spawn = Spawn {
            dir: Some(&dir_c),
            stdout: Some(writer.as_fd()),
            ..Spawn::new(&argv, &|_, _| {})
        };
        assert_eq!(run(&spawn), 0);
        drop(writer);
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        let mut lines = out.lines();
        assert_eq!(
            lines.next(),
            Some(dir.path().canonicalize().unwrap().to_str().unwrap())
        );
        assert_eq!(lines.next(), Some("SigBlk:\t0000000000000000"));
        let ign = u64::from_str_radix(lines.next().unwrap().trim_start_matches("SigIgn:\t"), 16);
        assert_eq!(
            ign.unwrap() & (1 << (13 - 1)),
            0,
            "SIGPIPE must not be ignored: {out}"
        );
    }

    #[test]
    fn failures_are_reported_in_the_child_with_the_chosen_exit_code() {
        let (mut reader, writer) = std::io::pipe().unwrap();
        let report = |stage: Stage, errno: i32| {
            let text = format!("{stage:?} {}", crate::errstr::errstr(errno));
            crate::msg::write_all(writer.as_fd(), text.as_bytes());
        };
        let exec = Spawn::new(&[c"/nonexistent/run"], &report);
        assert_eq!(run(&exec), 111 << 8);
        let chdir = Spawn {
            dir: Some(c"/nonexistent"),
            failure_exit: 7,
            ..exec
        };
        assert_eq!(run(&chdir), 7 << 8);
        drop(writer);
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        assert_eq!(out, "Exec file does not existDirectory file does not exist");
    }

    #[test]
    fn closed_stdout_is_closed_in_the_child() {
        let (mut reader, writer) = std::io::pipe().unwrap();
        let script = c"echo lost 2>/dev/null; [ -e /proc/self/fd/1 ] && exit 1; exit 0";
        let argv = [c"/bin/sh", c"-c", script];
        let spawn = Spawn {
            stdout: Some(writer.as_fd()),
            close_stdout: true,
            ..Spawn::new(&argv, &|_, _| {})
        };
        assert_eq!(run(&spawn), 0);
        drop(writer);
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        assert_eq!(out, "");
    }

    #[test]
    fn program_differs_from_argv0_and_path_search_is_the_fallback() {
        let (mut reader, writer) = std::io::pipe().unwrap();
        // Runs /bin/sh under the name `sh-as-runsv`: $0 shows argv[0], not the file.
        let argv = [c"sh-as-runsv", c"-c", c"echo $0"];
        let direct = Spawn {
            program: c"/bin/sh",
            stdout: Some(writer.as_fd()),
            ..Spawn::new(&argv, &|_, _| {})
        };
        assert_eq!(run(&direct), 0);
        // A program that cannot be executed: `sh` is then found in the PATH given.
        let argv = [c"sh", c"-c", c"echo found"];
        let searched = Spawn {
            program: c"/nonexistent/sh",
            search_path: Some(b"/nonexistent:/bin"),
            stdout: Some(writer.as_fd()),
            ..Spawn::new(&argv, &|_, _| {})
        };
        assert_eq!(run(&searched), 0);
        let missing = Spawn {
            program: c"/nonexistent/sh",
            search_path: Some(b"/nonexistent:"),
            ..Spawn::new(&argv, &|_, _| {})
        };
        assert_eq!(run(&missing), 111 << 8);
        drop(writer);
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        assert_eq!(out, "sh-as-runsv\nfound\n");
    }
}
