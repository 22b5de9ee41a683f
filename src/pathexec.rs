//! runit's `pathexec`: replace this process by a program, found through the `PATH` of the
//! original environment, with that environment plus an ordered list of changes.
//!
//! The environment is taken from `environ` byte for byte (entries without `=` included) and
//! changed as runit does it: a change `NAME=VALUE` or `NAME` (unset) removes the entries
//! named by the part before its first `=` and then, if it has an `=`, is appended; so a
//! later change wins. Unlike runit, every duplicate of a name is removed, not just the first.

use crate::signals::reset_for_child;
use nix::libc::{self, c_char};
use std::ffi::{CStr, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// The pending changes to the environment of the program, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvChanges {
    changes: Vec<Vec<u8>>,
}

impl EnvChanges {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value` (runit's `pathexec_env(name, value)`).
    pub fn set(&mut self, name: &[u8], value: &[u8]) {
        let mut c = Vec::with_capacity(name.len() + 1 + value.len());
        c.extend_from_slice(name);
        c.push(b'=');
        c.extend_from_slice(value);
        self.changes.push(c);
    }

    /// Removes `name` (runit's `pathexec_env(name, 0)`). A name with `=` in it acts as
    /// `set` of the part before the `=`, as in runit.
    pub fn unset(&mut self, name: &[u8]) {
        self.changes.push(name.to_vec());
    }

    /// Applies the changes to `env`, a list of `NAME=VALUE` entries.
    pub fn apply<'a>(&'a self, env: &mut Vec<&'a [u8]>) {
        for change in &self.changes {
            let split = memchr::memchr(b'=', change).unwrap_or(change.len());
            let name = &change[..split];
            let mut t = 0;
            while t < env.len() {
                let e = env[t];
                if e.len() > split && e.starts_with(name) && e[split] == b'=' {
                    // runit moves the last entry into the hole; keeping that order keeps
                    // `env` output identical to runit's.
                    env.swap_remove(t);
                } else {
                    t += 1;
                }
            }
            if split < change.len() {
                env.push(change);
            }
        }
    }
}

extern "C" {
    static environ: *const *const c_char;
}

/// The entries of the process environment, as they are.
fn original_environ() -> Vec<&'static [u8]> {
    let mut out = Vec::new();
    // SAFETY: `environ` is a null-terminated array of C strings; nothing in this program
    // modifies the environment, so the strings stay valid for its lifetime.
    unsafe {
        let mut p = environ;
        if p.is_null() {
            return out;
        }
        while !(*p).is_null() {
            out.push(CStr::from_ptr(*p).to_bytes());
            p = p.add(1);
        }
    }
    out
}

/// The value of `name` in the original environment (the first entry, as `getenv`).
pub fn original_var(name: &[u8]) -> Option<&'static [u8]> {
    original_environ().into_iter().find_map(|e| {
        (e.len() > name.len() && e.starts_with(name) && e[name.len()] == b'=')
            .then(|| &e[name.len() + 1..])
    })
}

/// Executes `file` with `argv` (its first element replaced by `argv0` when given) and the
/// changed environment, searching the original `PATH` (default `/bin:/usr/bin`, an empty
/// element is `.`) when `file` has no `/`. The program starts with an empty signal mask and
/// SIGPIPE at its default. Returns the errno when nothing could be executed: the last
/// EACCES/EPERM/EISDIR met, else the last error.
pub fn exec(file: &OsStr, argv0: Option<&OsStr>, argv: &[OsString], changes: &EnvChanges) -> i32 {
    let mut env = original_environ();
    changes.apply(&mut env);
    let mut env_buf = Vec::new();
    for e in &env {
        pack(&mut env_buf, e);
    }
    let mut argv_buf = Vec::new();
    for (i, a) in argv.iter().enumerate() {
        let a = match argv0 {
            Some(argv0) if i == 0 => argv0,
            _ => a,
        };
        pack(&mut argv_buf, a.as_bytes());
    }
    let file = file.as_bytes();
    let (Some(envp), Some(argvp), None) = (
        pointers(&env_buf, env.len()),
        pointers(&argv_buf, argv.len()),
        memchr::memchr(0, file),
    ) else {
        return libc::EINVAL;
    };
    reset_for_child();
    let mut candidate = Vec::new();
    if memchr::memchr(b'/', file).is_some() {
        return execve(&mut candidate, b"", file, &argvp, &envp);
    }
    let path = original_var(b"PATH").unwrap_or(b"/bin:/usr/bin");
    let mut saved = 0;
    let mut last = libc::ENOENT;
    for elem in path.split(|&b| b == b':') {
        let dir: &[u8] = if elem.is_empty() { b"." } else { elem };
        last = execve(&mut candidate, dir, file, &argvp, &envp);
        if last != libc::ENOENT {
            saved = last;
            if last != libc::EACCES && last != libc::EPERM && last != libc::EISDIR {
                return last;
            }
        }
    }
    if saved != 0 {
        saved
    } else {
        last
    }
}

/// Appends `s` and a NUL to `buf`.
fn pack(buf: &mut Vec<u8>, s: &[u8]) {
    buf.extend_from_slice(s);
    buf.push(0);
}

/// A null-terminated array of pointers to the `count` strings packed in `buf`; `None` if
/// one of them had a NUL byte of its own.
fn pointers(buf: &[u8], count: usize) -> Option<Vec<*const c_char>> {
    let mut out = Vec::with_capacity(count + 1);
    let mut start = 0;
    for (i, &b) in buf.iter().enumerate() {
        if b == 0 {
            out.push(buf[start..].as_ptr().cast());
            start = i + 1;
        }
    }
    out.push(std::ptr::null());
    (out.len() == count + 1).then_some(out)
}

/// `execve` of `DIR/file` (of `file` when `dir` is empty), built in `path`; returns its errno.
fn execve(
    path: &mut Vec<u8>,
    dir: &[u8],
    file: &[u8],
    argv: &[*const c_char],
    envp: &[*const c_char],
) -> i32 {
    path.clear();
    if !dir.is_empty() {
        path.extend_from_slice(dir);
        path.push(b'/');
    }
    pack(path, file);
    // SAFETY: path is NUL-terminated (file has no NUL); argv and envp are null-terminated
    // arrays of C strings that outlive the call.
    unsafe { libc::execve(path.as_ptr().cast(), argv.as_ptr(), envp.as_ptr()) };
    nix::errno::Errno::last_raw()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::wait_for;
    use nix::unistd::{fork, ForkResult};
    use std::io::Read;
    use std::os::fd::AsRawFd;

    fn applied(env: &[&[u8]], changes: &EnvChanges) -> Vec<Vec<u8>> {
        let mut e = env.to_vec();
        changes.apply(&mut e);
        e.into_iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn changes_apply_in_order_like_runit() {
        let env: &[&[u8]] = &[b"A=1", b"B=2", b"C=3", b"NOEQ", b"D=\xff"];
        let mut c = EnvChanges::new();
        c.set(b"A", b"x");
        assert_eq!(
            applied(env, &c),
            vec![
                b"D=\xff".to_vec(),
                b"B=2".to_vec(),
                b"C=3".to_vec(),
                b"NOEQ".to_vec(),
                b"A=x".to_vec()
            ],
            "runit's swap order"
        );
        let mut c = EnvChanges::new();
        c.set(b"B", b"1");
        c.unset(b"B");
        c.unset(b"NOEQ");
        c.set(b"E", b"");
        c.set(b"E", b"last");
        assert_eq!(
            applied(env, &c),
            vec![
                b"A=1".to_vec(),
                b"D=\xff".to_vec(),
                b"C=3".to_vec(),
                b"NOEQ".to_vec(),
                b"E=last".to_vec()
            ],
            "entries without = are never matched; a later change wins"
        );
        let mut c = EnvChanges::new();
        c.unset(b"A=z");
        assert_eq!(applied(&[b"A=1"], &c), vec![b"A=z".to_vec()]);
        let mut c = EnvChanges::new();
        c.unset(b"A");
        assert!(applied(&[b"A=1", b"A=2", b"AB=3"], &c) == vec![b"AB=3".to_vec()]);
    }

    /// Runs `exec` in a forked child with stdout on a pipe; returns (wait status, output).
    fn run_child(f: impl FnOnce() -> i32) -> (i32, String) {
        let (mut reader, writer) = std::io::pipe().unwrap();
        // SAFETY: the child only execs or writes its errno and exits.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                // SAFETY: plain descriptor calls in the child.
                unsafe { libc::dup2(writer.as_raw_fd(), 1) };
                let e = f();
                let text = format!("errno {e}");
                crate::msg::write_all(rustix::stdio::stdout(), text.as_bytes());
                // SAFETY: leave the child without running the test harness.
                unsafe { libc::_exit(0) }
            }
            ForkResult::Parent { child } => {
                drop(writer);
                let mut out = String::new();
                reader.read_to_string(&mut out).unwrap();
                (wait_for(child.as_raw()).unwrap(), out)
            }
        }
    }

    fn os(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn execs_with_the_changed_environment_and_a_clean_signal_state() {
        let mut c = EnvChanges::new();
        c.set(b"SVBOX_PATHEXEC", b"v\x01w");
        let argv = os(&[
            "sh",
            "-c",
            "echo \"$0 $SVBOX_PATHEXEC\"; grep -E '^Sig(Blk|Ign)' /proc/self/status",
        ]);
        let (status, out) = run_child(|| {
            let mut set = nix::sys::signal::SigSet::empty();
            set.add(nix::sys::signal::Signal::SIGUSR1);
            set.thread_block().unwrap();
            exec(
                OsStr::new("/bin/sh"),
                Some(OsStr::new("renamed")),
                &argv,
                &c,
            )
        });
        assert_eq!(status, 0, "{out}");
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some("renamed v\x01w"));
        assert_eq!(lines.next(), Some("SigBlk:\t0000000000000000"));
        let ign = lines.next().unwrap().trim_start_matches("SigIgn:\t");
        let ign = u64::from_str_radix(ign, 16).unwrap();
        assert_eq!(ign & (1 << 12), 0, "SIGPIPE not ignored: {out}");
    }

    #[test]
    fn path_search_uses_the_original_path_and_reports_errors() {
        // The PATH of this test process is searched; a change to PATH is not.
        let mut c = EnvChanges::new();
        c.set(b"PATH", b"/nonexistent");
        let (status, out) = run_child(|| exec(OsStr::new("sh"), None, &os(&["sh", "-c", ""]), &c));
        assert_eq!((status, out.as_str()), (0, ""));
        let none = EnvChanges::new();
        let (_, out) = run_child(|| exec(OsStr::new("/nonexistent/x"), None, &os(&["x"]), &none));
        assert_eq!(out, format!("errno {}", libc::ENOENT));
        let (_, out) = run_child(|| {
            exec(
                OsStr::new("svbox-no-such-program"),
                None,
                &os(&["x"]),
                &none,
            )
        });
        assert_eq!(out, format!("errno {}", libc::ENOENT));
    }

    /// Runs `exec(name)` in a child whose original PATH is `path`, retrying while a file
    /// just written is still open in another test's fork (ETXTBSY).
    fn search(path: &str, name: &str) -> (i32, String) {
        search_in(path, name, ".")
    }

    fn search_in(path: &str, name: &str, cwd: &str) -> (i32, String) {
        let none = EnvChanges::new();
        loop {
            let r = run_child(|| {
                // The child is single-threaded: changing its environment is safe.
                std::env::set_var("PATH", path);
                std::env::set_current_dir(cwd).unwrap();
                exec(OsStr::new(name), None, &os(&[name]), &none)
            });
            if r.1 != format!("errno {}", libc::ETXTBSY) {
                return r;
            }
        }
    }

    #[test]
    fn path_search_remembers_access_errors_and_stops_at_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mk = |sub: &str, body: &str, mode: u32| {
            let d = dir.path().join(sub);
            std::fs::create_dir(&d).unwrap();
            let f = d.join("svbox-pe");
            std::fs::write(&f, body).unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
            d.to_str().unwrap().to_string()
        };
        let noexec = mk("noexec", "#!/bin/sh\necho noexec\n", 0o644);
        let good = mk("good", "#!/bin/sh\necho good\n", 0o755);
        let garbage = mk("garbage", "\x01\x02 not a program\n", 0o755);
        let (status, out) = search(&format!("/nonexistent:{noexec}:{good}"), "svbox-pe");
        assert_eq!((status, out.as_str()), (0, "good\n"), "EACCES goes on");
        let (_, out) = search(&format!("{noexec}:/nonexistent"), "svbox-pe");
        assert_eq!(
            out,
            format!("errno {}", libc::EACCES),
            "EACCES is remembered"
        );
        let (_, out) = search(&format!("{garbage}:{good}"), "svbox-pe");
        assert_eq!(out, format!("errno {}", libc::ENOEXEC), "other errors stop");
        let (_, out) = search("/:/nonexistent", "tmp");
        assert_eq!(out, format!("errno {}", libc::EACCES), "a directory");
        // An empty element is the current directory.
        let (status, out) = search_in("/nonexistent::/nonexistent", "svbox-pe", &good);
        assert_eq!((status, out.as_str()), (0, "good\n"));
    }

    #[test]
    fn original_var_reads_the_first_entry() {
        let path = std::env::var_os("PATH").unwrap();
        assert_eq!(original_var(b"PATH"), Some(path.as_bytes()));
        assert_eq!(original_var(b"SVBOX_SURELY_UNSET_VARIABLE"), None);
    }
}
