//! chpst and its daemontools-style names (envdir, envuidgid, pgrphack, setuidgid, setlock,
//! softlimit), run as root. The exec'd program is a shell that prints its pid and waits on
//! its stdin; meanwhile the test reads what it got from /proc/PID (ids, groups, signal state,
//! limits, environment and argv byte for byte, root, working directory, nice value, session).
//! chpst is always started with SIGPIPE ignored, SIGUSR1 and SIGTERM blocked and lowered hard
//! limits, so that the reset of the signal state and the clamping of limits are visible.
//!
//! `SVBOX_TEST_CHPST=runit` runs the same tests against runit 2.1.2's chpst (behind links of
//! the tested names), which checks the expectations; what only svbox has (`-C`, `-G`, the
//! signal reset, its usage text, /dev/null on closed standard descriptors) is then skipped
//! or expected the runit way.
mod common;
use common::*;

use nix::libc;
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::thread::JoinHandle;

// ---------------------------------------------------------------------------------------
// The inherited state, the command and its outcome.

fn runit() -> bool {
    chpst_is_runit()
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Fails (never skips) a test that needs root: these tests change uids, chroot and lower nice
/// values, which only root can do. CI runs them as root.
fn need_root() {
    assert!(
        is_root(),
        "tests/chpst.rs must run as root (CI does): this test changes uid/gid, chroots or sets \
         a negative nice value"
    );
}

/// Hard limits lowered before chpst starts (resource, soft, hard): `-o 5000` must then be
/// clamped to 256 and `-m`'s memlock to 1 MiB. Lowered further if the machine's are lower.
fn limit_plan() -> &'static [(Resource, u64, u64); 2] {
    static PLAN: OnceLock<[(Resource, u64, u64); 2]> = OnceLock::new();
    PLAN.get_or_init(|| {
        let fit = |res, soft: u64, hard: u64| {
            let (_, now) = getrlimit(res).unwrap();
            let hard = hard.min(now);
            (res, soft.min(hard), hard)
        };
        [
            fit(Resource::RLIMIT_NOFILE, 64, 256),
            fit(Resource::RLIMIT_MEMLOCK, 65536, 1 << 20),
        ]
    })
}

fn hard_limit(res: Resource) -> u64 {
    limit_plan().iter().find(|p| p.0 == res).unwrap().2
}

/// Runs in the child before chpst is exec'd (after std reset the signal state).
fn inherited_state(plan: &[(Resource, u64, u64); 2]) -> std::io::Result<()> {
    // SAFETY: async-signal-safe calls on local data, in the forked child.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGUSR1);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    for &(res, soft, hard) in plan {
        setrlimit(res, soft, hard)?;
    }
    Ok(())
}

/// `name args…` (name: chpst or an emulation name) in `cwd`, with only `PATH=/usr/bin:/bin` in
/// the environment and the inherited state above.
fn chpst(name: &str, cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(chpst_program(name));
    cmd.args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", "/usr/bin:/bin");
    let plan = *limit_plan();
    // SAFETY: inherited_state only makes async-signal-safe calls.
    unsafe { cmd.pre_exec(move || inherited_state(&plan)) };
    cmd
}

/// The exec'd program: prints its pid, then waits until the test closes its stdin.
const PROBE: [&str; 3] = ["/bin/sh", "-c", "echo $$; read x; exit 0"];

fn with_probe(mut cmd: Command) -> Command {
    cmd.args(PROBE);
    cmd
}

/// A finished command: exit code, stdout, stderr.
#[derive(Debug, PartialEq)]
struct Res {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn want(code: i32, stdout: &str, stderr: &str) -> Res {
    Res {
        code: Some(code),
        stdout: stdout.into(),
        stderr: stderr.into(),
    }
}

/// `chpst: fatal: MSG`, exit 111, nothing on stdout.
fn fatal(msg: &str) -> Res {
    want(111, "", &format!("chpst: fatal: {msg}\n"))
}

/// Runs `cmd` to completion.
fn res(cmd: &mut Command) -> Res {
    let o = run_cmd(cmd);
    Res {
        code: o.code,
        stdout: o.stdout,
        stderr: o.stderr,
    }
}

/// Runs `name args…` in `dir` to completion.
fn run(dir: &Path, name: &str, args: &[&str]) -> Res {
    res(&mut chpst(name, dir, args))
}

/// Runs `chpst -u nobody CHPST args…` in `dir`: the inner chpst runs unprivileged.
fn run_as_nobody(dir: &Path, args: &[&str]) -> Res {
    let mut cmd = chpst("chpst", dir, &["-u", "nobody"]);
    cmd.arg(chpst_program("chpst")).args(args);
    res(&mut cmd)
}

const CHPST_OPTS_SVBOX: &str = " [-vVP012G] [-u user[:group]] [-U user[:group]] [-b argv0] \
[-e dir] [-/ root] [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] \
[-t n] prog";
/// Debian's runit 2.1.2-54.
const CHPST_OPTS_RUNIT: &str = " [-vVP012] [-u user[:group]] [-U user[:group]] [-b argv0] \
[-e dir] [-/ root] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] \
prog";

/// chpst mode's usage message under the program name `prog`.
fn usage(prog: &str) -> String {
    let opts = if runit() {
        CHPST_OPTS_RUNIT
    } else {
        CHPST_OPTS_SVBOX
    };
    format!("usage: {prog}{opts}\n\n")
}

const SOFTLIMIT_OPTS: &str = " [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] \
[-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] \
[-t cpusecs] child";

/// An emulation's usage message.
fn emulation_usage(name: &str) -> String {
    let opts = match name {
        "setuidgid" | "envuidgid" => " account child",
        "envdir" => " dir child",
        "pgrphack" => " child",
        "setlock" => " [ -nNxX ] file program [ arg ... ]",
        "softlimit" => SOFTLIMIT_OPTS,
        _ => unreachable!("{name}"),
    };
    format!("usage: {name}{opts}\n\n")
}

// ---------------------------------------------------------------------------------------
// The probe: a running exec'd program, and what /proc shows of it.

/// A started chpst whose program is `PROBE` (or prints its pid first in the same way); killed
/// and reaped on drop.
struct Probe {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    reaped: bool,
}

impl Probe {
    fn start(mut cmd: Command) -> Probe {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut line = Vec::new();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx
                            .send(String::from_utf8_lossy(&line).into_owned())
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = stderr.read_to_end(&mut v);
            v
        });
        Probe {
            child,
            lines,
            stderr: Some(stderr),
            reaped: false,
        }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The next line of stdout, waiting up to the deadline; None at end of output.
    fn line(&self) -> Option<String> {
        match self.lines.recv_timeout(DEADLINE) {
            Ok(l) => Some(l),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("no output within {DEADLINE:?}"),
        }
    }

    /// A line if one has arrived already.
    fn try_line(&self) -> Option<String> {
        self.lines.try_recv().ok()
    }

    /// Waits for the program's pid line and reads what /proc shows of it. The pid must be
    /// chpst's own: chpst execs the program, it does not fork.
    fn seen(&mut self) -> Seen {
        let Some(line) = self.line() else {
            let out = self.finish();
            panic!("the program did not start: {out:?}");
        };
        let pid: i32 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("expected a pid, got {line:?}"));
        assert_eq!(pid, self.pid(), "the program must replace chpst (same pid)");
        Seen::of(pid)
    }

    /// Closes the program's stdin (ending `read`), waits for the exit and returns the exit
    /// code, the rest of stdout and stderr.
    fn finish(&mut self) -> Res {
        drop(self.child.stdin.take());
        let mut code = None;
        wait_until("the program's exit", || {
            match self.child.try_wait().unwrap() {
                Some(s) => {
                    code = s.code();
                    true
                }
                None => false,
            }
        });
        self.reaped = true;
        let stdout: String = self.lines.iter().collect();
        let stderr = self.stderr.take().unwrap().join().unwrap();
        Res {
            code,
            stdout,
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// `finish` expecting exit 0 and nothing on stderr.
    fn finish_ok(&mut self) -> String {
        let out = self.finish();
        assert_eq!((out.code, out.stderr.as_str()), (Some(0), ""), "{out:?}");
        out.stdout
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `cmd` (its program must be `PROBE`), reads what the program got, ends it.
fn observe(cmd: Command) -> Seen {
    let mut p = Probe::start(cmd);
    let seen = p.seen();
    p.finish_ok();
    seen
}

/// What /proc showed of the exec'd program.
#[derive(Debug)]
struct Seen {
    pid: i32,
    status: String,
    limits: String,
    stat: String,
    environ: Vec<u8>,
    cmdline: Vec<u8>,
    root: PathBuf,
    cwd: PathBuf,
}

impl Seen {
    fn of(pid: i32) -> Seen {
        let p = |f: &str| format!("/proc/{pid}/{f}");
        let text = |f: &str| fs::read_to_string(p(f)).unwrap();
        Seen {
            pid,
            status: text("status"),
            limits: text("limits"),
            stat: text("stat"),
            environ: fs::read(p("environ")).unwrap(),
            cmdline: fs::read(p("cmdline")).unwrap(),
            root: fs::read_link(p("root")).unwrap(),
            cwd: fs::read_link(p("cwd")).unwrap(),
        }
    }

    fn status_field(&self, key: &str) -> &str {
        let prefix = format!("{key}:");
        self.status
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {key} in {}", self.status))
            .trim()
    }

    /// `Uid`, `Gid` (real, effective, saved, fs) or `Groups` (sorted by the kernel).
    fn ids(&self, key: &str) -> Vec<u32> {
        self.status_field(key)
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect()
    }

    fn sigmask(&self, key: &str) -> u64 {
        u64::from_str_radix(self.status_field(key), 16).unwrap()
    }

    /// (soft, hard) of the row of /proc/PID/limits starting with `label`.
    fn limit(&self, label: &str) -> (String, String) {
        let row = self
            .limits
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label} in {}", self.limits));
        let mut f = row.split_whitespace();
        (f.next().unwrap().into(), f.next().unwrap().into())
    }

    /// Field `n` (1-based, as in proc(5)) of /proc/PID/stat, from field 3 on.
    fn stat_field(&self, n: usize) -> i64 {
        let rest = self.stat.rsplit_once(')').unwrap().1;
        rest.split_whitespace().nth(n - 3).unwrap().parse().unwrap()
    }

    fn nice(&self) -> i64 {
        self.stat_field(19)
    }

    fn pgrp(&self) -> i64 {
        self.stat_field(5)
    }

    fn session(&self) -> i64 {
        self.stat_field(6)
    }

    /// The environment entries, in the order the program got them.
    fn env(&self) -> Vec<Vec<u8>> {
        split_nul(&self.environ)
    }

    fn env_sorted(&self) -> Vec<Vec<u8>> {
        let mut v = self.env();
        v.sort();
        v
    }

    /// The value of `name`, which must be set at most once.
    fn var(&self, name: &str) -> Option<Vec<u8>> {
        let prefix = format!("{name}=");
        let hits: Vec<Vec<u8>> = self
            .env()
            .into_iter()
            .filter_map(|e| e.strip_prefix(prefix.as_bytes()).map(<[u8]>::to_vec))
            .collect();
        assert!(hits.len() <= 1, "{name} set twice: {:?}", self.env());
        hits.into_iter().next()
    }

    fn argv(&self) -> Vec<Vec<u8>> {
        split_nul(&self.cmdline)
    }
}

fn split_nul(b: &[u8]) -> Vec<Vec<u8>> {
    b.split(|&c| c == 0)
        .filter(|e| !e.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Environment entries as chpst gets them from `chpst()`, plus `extra`, sorted.
fn env_entries(extra: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = vec![b"PATH=/usr/bin:/bin".to_vec()];
    v.extend(extra.iter().map(|e| e.to_vec()));
    v.sort();
    v
}

fn var(value: &str) -> Option<Vec<u8>> {
    Some(value.as_bytes().to_vec())
}

/// A mask bit as /proc shows it for the probe, a native shell: in the host's numbering,
/// which under qemu-user can differ from the target's (MIPS).
fn bit(sig: i32) -> u64 {
    1 << (host_signal(sig) - 1)
}

fn pipe() -> u64 {
    bit(libc::SIGPIPE)
}

fn usr1_term() -> u64 {
    bit(libc::SIGUSR1) | bit(libc::SIGTERM)
}

/// (SigIgn, SigBlk) of the probe started directly with the inherited state, without chpst.
/// Besides SIGPIPE it may show signals ignored by whatever started the tests (cargo leaves
/// signal 32 ignored); chpst need only reset SIGPIPE.
fn inherited_signals() -> (u64, u64) {
    static SIGS: OnceLock<(u64, u64)> = OnceLock::new();
    *SIGS.get_or_init(|| {
        let t = Tree::new();
        let mut direct = Command::new(PROBE[0]);
        direct.args(&PROBE[1..]).current_dir(t.path());
        let plan = *limit_plan();
        // SAFETY: as in chpst().
        unsafe { direct.pre_exec(move || inherited_state(&plan)) };
        let seen = observe(direct);
        (seen.sigmask("SigIgn"), seen.sigmask("SigBlk"))
    })
}

/// The exec'd program has SIGPIPE at its default and an empty signal mask (svbox); runit
/// passes the inherited state on, which at least shows the setup worked.
fn assert_clean_signals(seen: &Seen) {
    let got = (seen.sigmask("SigIgn"), seen.sigmask("SigBlk"));
    let (ign, blk) = inherited_signals();
    assert_eq!(
        (ign & pipe(), blk),
        (pipe(), usr1_term()),
        "the inherited state"
    );
    if runit() {
        assert_eq!(got, (ign, blk), "runit passes the signal state on");
    } else {
        assert_eq!(
            got,
            (ign & !pipe(), 0),
            "SigIgn and SigBlk of the exec'd program"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures.

/// Our own nice value, which the program's is relative to.
fn own_nice() -> i64 {
    Seen::of(std::process::id() as i32).nice()
}

/// Our own supplementary groups.
fn own_groups() -> Vec<u32> {
    Seen::of(std::process::id() as i32).ids("Groups")
}

/// A directory `rel` in `t` holding files `(name, content)`.
fn envdir(t: &Tree, rel: &str, files: &[(&[u8], &[u8])]) -> PathBuf {
    let dir = t.join(rel);
    fs::create_dir_all(&dir).unwrap();
    for (name, content) in files {
        fs::write(dir.join(OsStr::from_bytes(name)), content).unwrap();
    }
    dir
}

/// Passwd and group entries of the chroot fixture: users and groups the host does not have.
const JAIL_PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
svtest:x:4242:4300:Test User:/home/svtest:/bin/sh\n\
svother:x:4243:4243::/:/bin/sh\n";
const JAIL_GROUP: &str = "root:x:0:\n\
svprimary:x:4300:\n\
sva:x:4301:svtest\n\
svb:x:4302:svother,svtest,svnobody\n\
svc:x:4303:svother\n\
svd:x:4304:svtest\n";

/// A small root directory `rel` in `t`: a static busybox as `/bin/sh`, `/etc/passwd` and
/// `/etc/group` (unless `etc` is false), `/marker`, `/work` and `/home/svtest`.
fn jail(t: &Tree, rel: &str, etc: bool) -> PathBuf {
    let busybox = Path::new("/usr/bin/busybox");
    assert!(
        busybox.is_file(),
        "the chroot tests need a static busybox at /usr/bin/busybox (Debian: busybox-static)"
    );
    let root = t.join(rel);
    for d in ["bin", "etc", "work", "home/svtest"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::copy(busybox, root.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
    if etc {
        fs::write(root.join("etc/passwd"), JAIL_PASSWD).unwrap();
        fs::write(root.join("etc/group"), JAIL_GROUP).unwrap();
    }
    fs::write(root.join("marker"), "jail\n").unwrap();
    root
}

/// A directory anyone may write to (for locks created by `nobody`).
fn public_dir(t: &Tree, rel: &str) -> PathBuf {
    let dir = t.join(rel);
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    // The temporary directory itself is 0700: let nobody through to reach `rel`.
    fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Holds an exclusive flock on `path` (created if missing) until dropped.
fn hold_lock(path: &Path) -> fs::File {
    let f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive).unwrap();
    f
}

/// True if someone holds a lock on `path` (a non-blocking attempt fails).
fn locked(path: &Path) -> bool {
    let f = fs::File::open(path).unwrap();
    match rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => false,
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => true,
        Err(e) => panic!("flock {}: {e}", path.display()),
    }
}

/// True once `pid` has `path` open and sleeps (blocked in flock, for a lock test).
fn waits_with_open(pid: i32, path: &Path) -> bool {
    // /proc shows the resolved path.
    let path = fs::canonicalize(path).unwrap();
    let has_open = fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.flatten()
                .any(|e| fs::read_link(e.path()).is_ok_and(|l| l == *path))
        })
        .unwrap_or(false);
    let sleeping = fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|r| r.1.trim_start().starts_with('S'))
    });
    has_open && sleeping
}

/// Lets `nobody` into the test's temporary directory (created 0700).
fn open_up(t: &Tree) {
    fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
}

// ---------------------------------------------------------------------------------------
// Usage, options and numbers.

#[test]
fn usage_without_a_program() {
    let t = Tree::new();
    let d = t.path();
    assert_eq!(run(d, "chpst", &[]), want(100, "", &usage("chpst")));
    assert_eq!(
        run(d, "chpst", &["-u", "nobody"]),
        want(100, "", &usage("chpst"))
    );
}

#[test]
fn usage_names_the_program_by_its_base_name() {
    let t = Tree::new();
    let d = t.path();
    // chpst_program is an absolute path: the directory is not printed.
    assert!(chpst_program("chpst").is_absolute());
    if runit() {
        // runit is chpst under any other name too; svbox's name picks the applet instead.
        assert_eq!(run(d, "xenvdir", &[]), want(100, "", &usage("xenvdir")));
    }
}

#[test]
fn version_line_then_usage() {
    let t = Tree::new();
    let d = t.path();
    let v = format!(
        "$Id: f279d44141c981dd7535a12260efcf1ef7beed26 $\n{}",
        usage("chpst")
    );
    assert_eq!(run(d, "chpst", &["-V"]), want(100, "", &v));
    assert_eq!(run(d, "chpst", &["-V", "/bin/true"]), want(100, "", &v));
}

#[test]
fn unknown_option_and_missing_argument() {
    let t = Tree::new();
    let d = t.path();
    let u = usage("chpst");
    let illegal = format!("chpst: illegal option -- k\n{u}");
    assert_eq!(
        run(d, "chpst", &["-k", "/bin/true"]),
        want(100, "", &illegal)
    );
    let missing = format!("chpst: option requires an argument -- u\n{u}");
    assert_eq!(run(d, "chpst", &["-u"]), want(100, "", &missing));
}

#[test]
fn bad_numbers_are_usage_errors() {
    let t = Tree::new();
    let cases: &[[&str; 2]] = &[
        ["-n", "x"],
        ["-n", "1x"],
        ["-n", " 1"],
        ["-n", "+-3"],
        ["-m", "1k"],
        ["-d", "-1"],
        ["-o", " 5"],
        ["-o", "5 "],
        ["-o", "+1"],
        ["-p", "x"],
        ["-f", "1.5"],
        ["-c", "x"],
        ["-t", "x"],
        ["-r", "x"],
    ];
    for [opt, n] in cases {
        let got = run(t.path(), "chpst", &[opt, n, "/bin/true"]);
        assert_eq!(got, want(100, "", &usage("chpst")), "{opt} {n:?}");
    }
}

#[test]
fn two_locks_are_a_usage_error() {
    let t = Tree::new();
    for [a, b] in [["-l", "-l"], ["-l", "-L"], ["-L", "-l"], ["-L", "-L"]] {
        let got = run(t.path(), "chpst", &[a, "x", b, "y", "/bin/true"]);
        assert_eq!(got, want(100, "", &usage("chpst")), "{a} {b}");
        assert!(!t.join("x").exists() && !t.join("y").exists());
    }
}

#[test]
fn options_end_at_the_program_or_at_double_dash() {
    let t = Tree::new();
    let d = t.path();
    assert_eq!(
        run(d, "chpst", &["/bin/echo", "-u", "x"]),
        want(0, "-u x\n", "")
    );
    assert_eq!(
        run(d, "chpst", &["--", "/bin/echo", "-V"]),
        want(0, "-V\n", "")
    );
}

// ---------------------------------------------------------------------------------------
// Users and groups.

#[test]
fn user_gets_its_uid_and_only_its_primary_group() {
    need_root();
    let t = Tree::new();
    let seen = observe(with_probe(chpst("chpst", t.path(), &["-u", "nobody"])));
    assert_eq!(seen.ids("Uid"), [65534; 4]);
    assert_eq!(seen.ids("Gid"), [65534; 4]);
    assert_eq!(seen.ids("Groups"), [65534], "root's groups are dropped");
    // Nothing is added to the environment (no HOME, USER, LOGNAME without -G).
    assert_eq!(seen.env_sorted(), env_entries(&[]));
    assert_clean_signals(&seen);
}

#[test]
fn signal_state_is_reset_without_options() {
    let t = Tree::new();
    let seen = observe(with_probe(chpst("chpst", t.path(), &[])));
    assert_clean_signals(&seen);
    assert_eq!(seen.ids("Uid")[0], nix::unistd::getuid().as_raw());
}

#[test]
fn user_with_a_group_list() {
    need_root();
    let t = Tree::new();
    let args = ["-u", "nobody:nogroup:root"];
    let seen = observe(with_probe(chpst("chpst", t.path(), &args)));
    assert_eq!(seen.ids("Uid"), [65534; 4]);
    assert_eq!(
        seen.ids("Gid"),
        [65534; 4],
        "the first group is the primary one"
    );
    assert_eq!(seen.ids("Groups"), [0, 65534]);
}

#[test]
fn numeric_ids_need_no_lookup() {
    need_root();
    let t = Tree::new();
    let args = ["-u", ":1234:5678:91"];
    let seen = observe(with_probe(chpst("chpst", t.path(), &args)));
    assert_eq!(seen.ids("Uid"), [1234; 4]);
    assert_eq!(seen.ids("Gid"), [5678; 4]);
    assert_eq!(seen.ids("Groups"), [91, 5678]);
    // An empty gid field is 0.
    let seen = observe(with_probe(chpst("chpst", t.path(), &["-u", ":1234:"])));
    assert_eq!(seen.ids("Uid"), [1234; 4]);
    assert_eq!(seen.ids("Gid"), [0; 4]);
    assert_eq!(seen.ids("Groups"), [0]);
}

#[test]
fn bad_user_specs_are_fatal() {
    need_root();
    let t = Tree::new();
    let marker = t.join("ran");
    let touch = format!("touch {}", marker.display());
    for (opt, spec, msg) in [
        ("-u", ":0", "invalid uid/gids: 0"),
        ("-u", ":x:1", "invalid uid/gids: x:1"),
        ("-u", "svbox-no-user", "unknown user/group: svbox-no-user"),
        (
            "-u",
            "nobody:svbox-no-group",
            "unknown user/group: nobody:svbox-no-group",
        ),
        ("-U", "svbox-no-user", "unknown user/group: svbox-no-user"),
        ("-U", ":0", "invalid uid/gids: 0"),
    ] {
        let got = run(t.path(), "chpst", &[opt, spec, "/bin/sh", "-c", &touch]);
        assert_eq!(got, fatal(msg), "{opt} {spec}");
        assert!(!marker.exists(), "{opt} {spec}: the program ran");
    }
}

#[test]
fn failed_privilege_drop_stops_before_exec() {
    need_root();
    let t = Tree::new();
    open_up(&t);
    let marker = t.join("ran");
    let touch = format!("touch {}", marker.display());
    // As nobody, the inner chpst cannot setgroups, not even to its own group: it must not
    // go on with the privileges it has.
    for spec in ["root", ":0:0", "nobody"] {
        let got = run_as_nobody(t.path(), &["-u", spec, "/bin/sh", "-c", &touch]);
        assert_eq!(
            got,
            fatal("unable to setgroups: permission denied"),
            "-u {spec}"
        );
        assert!(!marker.exists(), "-u {spec}: the program ran");
    }
}

#[test]
fn dash_capital_u_sets_uid_and_gid_variables_only() {
    need_root();
    let t = Tree::new();
    let seen = observe(with_probe(chpst("chpst", t.path(), &["-U", "nobody"])));
    assert_eq!(seen.ids("Uid"), [0; 4], "-U does not change the uid");
    assert_eq!(
        seen.ids("Groups"),
        own_groups(),
        "-U does not change the groups"
    );
    assert_eq!(
        seen.env_sorted(),
        env_entries(&[b"UID=65534", b"GID=65534"])
    );
    let args = ["-U", "nobody:root:nogroup"];
    let seen = observe(with_probe(chpst("chpst", t.path(), &args)));
    assert_eq!(seen.var("GID"), var("0"), "the first group");
    let seen = observe(with_probe(chpst("chpst", t.path(), &["-U", ":17:18:19"])));
    assert_eq!(seen.env_sorted(), env_entries(&[b"UID=17", b"GID=18"]));
}

// ---------------------------------------------------------------------------------------
// Root, working directory, and the order of operations around them.

#[test]
fn chroot_looks_users_up_inside_the_new_root() {
    need_root();
    let t = Tree::new();
    let d = t.path();
    let root = fs::canonicalize(jail(&t, "root", true)).unwrap();
    let host = fs::read_to_string("/etc/passwd").unwrap_or_default();
    assert!(!host.contains("\nsvtest:") && !host.starts_with("svtest:"));
    let got = run(d, "chpst", &["-u", "svtest", "/bin/true"]);
    assert_eq!(got, fatal("unknown user/group: svtest"));

    let seen = observe(with_probe(chpst(
        "chpst",
        d,
        &["-/", "root", "-u", "svtest"],
    )));
    assert_eq!(seen.root, root);
    assert_eq!(seen.cwd, root, "the working directory is the new root");
    assert_eq!(seen.ids("Uid"), [4242; 4]);
    assert_eq!(seen.ids("Gid"), [4300; 4]);
    assert_eq!(seen.ids("Groups"), [4300]);

    let args = ["-/", "root", "-u", "svtest:svb:sva", "-U", "svother:svc"];
    let seen = observe(with_probe(chpst("chpst", d, &args)));
    assert_eq!(seen.ids("Gid"), [4302; 4]);
    assert_eq!(seen.ids("Groups"), [4301, 4302]);
    assert_eq!(
        (seen.var("UID"), seen.var("GID")),
        (var("4243"), var("4303"))
    );
    // -U looks up inside too: a host user the fixture lacks is unknown.
    let got = run(d, "chpst", &["-/", "root", "-U", "nobody", "/bin/true"]);
    assert_eq!(got, fatal("unknown user/group: nobody"));
}

#[test]
fn missing_passwd_file_is_fatal() {
    need_root();
    let t = Tree::new();
    let d = t.path();
    jail(&t, "root", false);
    for opt in ["-u", "-U"] {
        let got = run(d, "chpst", &["-/", "root", opt, "svtest", "/bin/true"]);
        let msg = "unable to get password/group file entry: file does not exist";
        assert_eq!(got, fatal(msg), "{opt}");
    }
    // The numeric form reads no file.
    let args = ["-/", "root", "-u", ":4242:4300"];
    let seen = observe(with_probe(chpst("chpst", d, &args)));
    assert_eq!(seen.ids("Uid"), [4242; 4]);
}

#[test]
fn envdir_is_read_before_the_chroot_and_the_lock_taken_after_it() {
    need_root();
    let t = Tree::new();
    let root = jail(&t, "root", true);
    envdir(&t, "env", &[(b"WHERE", b"outside\n")]);
    let args = ["-e", "env", "-/", "root", "-l", "lock"];
    let mut p = Probe::start(with_probe(chpst("chpst", t.path(), &args)));
    let seen = p.seen();
    assert_eq!(seen.var("WHERE"), var("outside"));
    assert!(
        root.join("lock").is_file(),
        "the lock is relative to the new root"
    );
    assert!(!t.join("lock").exists());
    assert!(locked(&root.join("lock")), "the program holds the lock");
    p.finish_ok();
    assert!(!locked(&root.join("lock")));
}

#[test]
fn chroot_failures() {
    need_root();
    let t = Tree::new();
    let d = t.path();
    open_up(&t);
    jail(&t, "root", true);
    let got = run(d, "chpst", &["-/", "nonexistent", "/bin/true"]);
    assert_eq!(
        got,
        fatal("unable to change directory: nonexistent: file does not exist")
    );
    // Not root: chroot itself is refused.
    let got = run_as_nobody(d, &["-/", "root", "/bin/true"]);
    assert_eq!(
        got,
        fatal("unable to change root directory: permission denied")
    );
    // The program is looked up inside the new root.
    let got = run(d, "chpst", &["-/", "root", "/bin/true"]);
    assert_eq!(got, fatal("unable to run: /bin/true: file does not exist"));
}

#[test]
fn dash_capital_c_changes_directory_after_the_chroot() {
    if runit() {
        eprintln!("skipping: -C is not in runit 2.1.2");
        return;
    }
    need_root();
    let t = Tree::new();
    let d = t.path();
    let root = fs::canonicalize(jail(&t, "root", true)).unwrap();
    fs::create_dir(t.join("work")).unwrap();
    let seen = observe(with_probe(chpst(
        "chpst",
        d,
        &["-/", "root", "-C", "/work"],
    )));
    assert_eq!((&seen.root, &seen.cwd), (&root, &root.join("work")));
    // Without a chroot: relative to the working directory.
    let seen = observe(with_probe(chpst("chpst", d, &["-C", "work"])));
    assert_eq!(seen.cwd, fs::canonicalize(t.join("work")).unwrap());
    // The lock is relative to the new directory.
    let args = ["-/", "root", "-C", "work", "-l", "lock"];
    let mut p = Probe::start(with_probe(chpst("chpst", d, &args)));
    p.seen();
    assert!(root.join("work/lock").is_file());
    p.finish_ok();
    let got = run(
        d,
        "chpst",
        &["-/", "root", "-C", "/nonexistent", "/bin/true"],
    );
    assert_eq!(
        got,
        fatal("unable to change directory: /nonexistent: file does not exist")
    );
    let got = run(d, "chpst", &["-C", "nonexistent", "/bin/true"]);
    assert_eq!(
        got,
        fatal("unable to change directory: nonexistent: file does not exist")
    );
}

// ---------------------------------------------------------------------------------------
// -G, svbox's login-like user switch.

#[test]
fn dash_capital_g_adds_member_groups_and_login_variables() {
    if runit() {
        eprintln!("skipping: -G is an svbox addition");
        return;
    }
    need_root();
    let t = Tree::new();
    let d = t.path();
    jail(&t, "root", true);
    let seen = observe(with_probe(chpst(
        "chpst",
        d,
        &["-/", "root", "-u", "svtest", "-G"],
    )));
    assert_eq!(seen.ids("Uid"), [4242; 4]);
    assert_eq!(seen.ids("Gid"), [4300; 4]);
    assert_eq!(seen.ids("Groups"), [4300, 4301, 4302, 4304]);
    let login: [&[u8]; 3] = [b"HOME=/home/svtest", b"USER=svtest", b"LOGNAME=svtest"];
    assert_eq!(seen.env_sorted(), env_entries(&login));

    // With a group list: the groups given, then the member groups, no duplicates; the
    // passwd group is not one of them.
    let args = ["-G", "-/", "root", "-u", "svtest:svb"];
    let seen = observe(with_probe(chpst("chpst", d, &args)));
    assert_eq!(seen.ids("Gid"), [4302; 4]);
    assert_eq!(seen.ids("Groups"), [4301, 4302, 4304]);
    assert_eq!(seen.env_sorted(), env_entries(&login));
}

#[test]
fn dash_capital_g_variables_win_over_envdir_and_follow_dash_capital_u() {
    if runit() {
        eprintln!("skipping: -G is an svbox addition");
        return;
    }
    need_root();
    let t = Tree::new();
    let d = t.path();
    jail(&t, "root", true);
    envdir(
        &t,
        "env",
        &[(b"HOME", b"/envdir\n"), (b"LOGNAME", b"envdir\n")],
    );
    let args = ["-e", "env", "-/", "root", "-U", "svtest", "-G"];
    let seen = observe(with_probe(chpst("chpst", d, &args)));
    assert_eq!(seen.ids("Uid"), [0; 4], "-U alone changes no id");
    assert_eq!(seen.ids("Groups"), own_groups());
    let want: [&[u8]; 5] = [
        b"UID=4242",
        b"GID=4300",
        b"HOME=/home/svtest",
        b"USER=svtest",
        b"LOGNAME=svtest",
    ];
    assert_eq!(seen.env_sorted(), env_entries(&want));
    // With both, -u's user is the one logged in.
    let args = ["-/", "root", "-U", "svother", "-u", "svtest", "-G"];
    let seen = observe(with_probe(chpst("chpst", d, &args)));
    assert_eq!(
        (seen.var("USER"), seen.var("UID")),
        (var("svtest"), var("4243"))
    );
}

#[test]
fn dash_capital_g_has_no_effect_on_numeric_ids_or_alone() {
    if runit() {
        eprintln!("skipping: -G is an svbox addition");
        return;
    }
    need_root();
    let t = Tree::new();
    let d = t.path();
    jail(&t, "root", true);
    let args = ["-/", "root", "-u", ":4242:4300", "-G"];
    let seen = observe(with_probe(chpst("chpst", d, &args)));
    assert_eq!(seen.ids("Groups"), [4300]);
    assert_eq!(seen.env_sorted(), env_entries(&[]));
    let seen = observe(with_probe(chpst("chpst", d, &["-G"])));
    assert_eq!(seen.env_sorted(), env_entries(&[]));
    assert_eq!(
        seen.ids("Groups"),
        observe(with_probe(chpst("chpst", d, &[]))).ids("Groups")
    );
}

// ---------------------------------------------------------------------------------------
// Environment, argv and the program lookup.

#[test]
fn environment_and_arguments_pass_byte_for_byte() {
    let t = Tree::new();
    let files: &[(&[u8], &[u8])] = &[
        (b"NEW", b"\xfe\xffvalue\n"),
        (b"KEEP", b"envdir\n"),
        (b"GONE", b""),
        (b"N\xc3", b"x\n"),
    ];
    envdir(&t, "env", files);
    let mut cmd = chpst("chpst", t.path(), &["-e", "env"]);
    cmd.env(
        OsStr::from_bytes(b"RAW\xff"),
        OsStr::from_bytes(b"v\x80\x01"),
    )
    .env("KEEP", "original")
    .env("GONE", "original")
    .env("EMPTY", "");
    cmd.args(PROBE).arg(OsStr::from_bytes(b"arg\xff\n two"));
    let seen = observe(cmd);
    let want: [&[u8]; 5] = [
        b"RAW\xff=v\x80\x01",
        b"KEEP=envdir",
        b"EMPTY=",
        b"NEW=\xfe\xffvalue",
        b"N\xc3=x",
    ];
    assert_eq!(seen.env_sorted(), env_entries(&want));
    let argv: [&[u8]; 4] = [b"/bin/sh", b"-c", PROBE[2].as_bytes(), b"arg\xff\n two"];
    assert_eq!(seen.argv(), argv);
}

#[test]
fn dash_b_replaces_argv0_only() {
    let t = Tree::new();
    let mut cmd = chpst("chpst", t.path(), &[]);
    let script = "echo $$; printf '%s|%s\\n' \"$0\" \"$1\"; read x; exit 0";
    cmd.arg("-b")
        .arg(OsStr::from_bytes(b"n\xe4me"))
        .args(["/bin/sh", "-c", script, "-"])
        .arg(OsStr::from_bytes(b"\xff"));
    let mut p = Probe::start(cmd);
    let argv: [&[u8]; 5] = [b"n\xe4me", b"-c", script.as_bytes(), b"-", b"\xff"];
    assert_eq!(p.seen().argv(), argv);
    // The script's $0 and $1 are the arguments after it.
    assert_eq!(p.finish_ok(), "-|\u{fffd}\n");
    // $0 of a plain `sh -c` is argv[0] itself; the program is still found by its name.
    let got = run(
        t.path(),
        "chpst",
        &["-b", "zero", "sh", "-c", "echo \"$0\""],
    );
    assert_eq!(got, want(0, "zero\n", ""));
    // A failing exec is reported under the replaced name, as runit does.
    let got = run(t.path(), "chpst", &["-b", "zero", "./missing"]);
    assert_eq!(got, fatal("unable to run: zero: file does not exist"));
}

#[test]
fn envdir_file_rules() {
    let t = Tree::new();
    let files: &[(&[u8], &[u8])] = &[
        (b"FIRST", b"first\nsecond\n"),
        (b"TRAIL", b"val \t \t\n"),
        (b"LEAD", b" \tlead"),
        (b"NUL", b"a\0b\0\n"),
        (b"EMPTY_LINE", b"\n"),
        (b"NO_NEWLINE", b"plain"),
        (b"CR", b"cr\r\n"),
        (b"UNSET", b""),
        (b".hidden", b"x\n"),
        (b"E=F", b"y\n"),
    ];
    envdir(&t, "env", files);
    let mut cmd = chpst("chpst", t.path(), &["-e", "env"]);
    cmd.env("UNSET", "was set").env("E", "was set").args(PROBE);
    let seen = observe(cmd);
    let want: [&[u8]; 8] = [
        b"FIRST=first",
        b"TRAIL=val",
        b"LEAD= \tlead",
        b"NUL=a\nb\n",
        b"EMPTY_LINE=",
        b"NO_NEWLINE=plain",
        b"CR=cr\r",
        // A name with `=`: the part before it names the variable replaced.
        b"E=F=y",
    ];
    assert_eq!(seen.env_sorted(), env_entries(&want));
}

#[test]
fn envdir_subdirectories() {
    let t = Tree::new();
    let d = t.path();
    let dir = envdir(&t, "env", &[(b"A", b"a\n")]);
    fs::create_dir(dir.join("sub")).unwrap();
    // -e skips them, with a warning only under -v.
    let seen = observe(with_probe(chpst("chpst", d, &["-e", "env"])));
    assert_eq!(seen.var("A"), var("a"));
    let mut p = Probe::start(with_probe(chpst("chpst", d, &["-v", "-e", "env"])));
    assert_eq!(p.seen().var("A"), var("a"));
    let warning = "chpst: warning: unable to read env/sub: is a directory\n";
    assert_eq!(p.finish(), want(0, "", warning));
    // Under the name envdir they are fatal.
    let got = run(d, "envdir", &["env", "/bin/true"]);
    assert_eq!(got, fatal("unable to read env/sub: is a directory"));
}

#[test]
fn envdir_errors() {
    need_root();
    let t = Tree::new();
    let d = t.path();
    open_up(&t);
    let gone = fatal("unable to switch to directory: missing: file does not exist");
    assert_eq!(run(d, "chpst", &["-e", "missing", "/bin/true"]), gone);
    assert_eq!(run(d, "envdir", &["missing", "/bin/true"]), gone);
    // Unreadable for the user chpst runs as (root reads anything, so that chpst runs as
    // nobody).
    let dir = envdir(&t, "env", &[(b"A", b"a\n"), (b"SECRET", b"s\n")]);
    let mode = |p: &Path, m| fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
    mode(&dir.join("SECRET"), 0o000);
    let got = run_as_nobody(d, &["-e", "env", "/bin/true"]);
    assert_eq!(got, fatal("unable to read env/SECRET: access denied"));
    mode(&dir.join("SECRET"), 0o644);
    mode(&dir, 0o000);
    let got = run_as_nobody(d, &["-e", "env", "/bin/true"]);
    assert_eq!(
        got,
        fatal("unable to switch to directory: env: access denied")
    );
    mode(&dir, 0o311);
    let got = run_as_nobody(d, &["-e", "env", "/bin/true"]);
    assert_eq!(got, fatal("unable to open directory: env: access denied"));
}

#[test]
fn dash_capital_u_wins_over_envdir() {
    need_root();
    let t = Tree::new();
    envdir(&t, "env", &[(b"UID", b"from-envdir\n"), (b"GID", b"\n")]);
    // Whatever the order on the command line: envdir is read first, -U applied later.
    for args in [["-e", "env", "-U", "nobody"], ["-U", "nobody", "-e", "env"]] {
        let seen = observe(with_probe(chpst("chpst", t.path(), &args)));
        assert_eq!(
            seen.env_sorted(),
            env_entries(&[b"UID=65534", b"GID=65534"])
        );
    }
}

#[test]
fn program_is_found_with_the_original_path() {
    let t = Tree::new();
    envdir(&t, "env", &[(b"PATH", b"/nowhere\n")]);
    let got = run(
        t.path(),
        "chpst",
        &["-e", "env", "sh", "-c", "echo \"$PATH\""],
    );
    assert_eq!(got, want(0, "/nowhere\n", ""));
    // Without PATH: /bin:/usr/bin.
    let mut cmd = chpst("chpst", t.path(), &["sh", "-c", "echo ok"]);
    cmd.env_remove("PATH");
    assert_eq!(res(&mut cmd), want(0, "ok\n", ""));
}

#[test]
fn path_search_rules() {
    let t = Tree::new();
    for (dir, mode) in [("p1", 0o644), ("p2", 0o755)] {
        fs::create_dir(t.join(dir)).unwrap();
        let prog = t.join(dir).join("prog");
        fs::write(&prog, format!("#!/bin/sh\necho {dir}\n")).unwrap();
        fs::set_permissions(&prog, fs::Permissions::from_mode(mode)).unwrap();
    }
    let with_path = |path: &str, cwd: &Path| {
        let mut cmd = chpst("chpst", cwd, &["prog"]);
        cmd.env("PATH", path);
        res(&mut cmd)
    };
    // A non-executable match is passed over…
    assert_eq!(with_path("p1:p2", t.path()), want(0, "p2\n", ""));
    // …but its error is the one reported when nothing else is found.
    let denied = fatal("unable to run: prog: access denied");
    assert_eq!(with_path("p1:/nonexistent", t.path()), denied);
    assert_eq!(with_path("/nonexistent:p1", t.path()), denied);
    // An empty element is the working directory.
    let p2 = t.join("p2");
    assert_eq!(with_path("/nonexistent:", &p2), want(0, "p2\n", ""));
    assert_eq!(with_path(":/nonexistent", &p2), want(0, "p2\n", ""));
    let gone = fatal("unable to run: prog: file does not exist");
    assert_eq!(with_path("/nonexistent", t.path()), gone);
}

#[test]
fn exec_failures() {
    let t = Tree::new();
    let d = t.path();
    fs::write(t.join("plain"), "echo hi\n").unwrap();
    let r = |prog: &str| run(d, "chpst", &[prog]);
    assert_eq!(
        r("./missing"),
        fatal("unable to run: ./missing: file does not exist")
    );
    assert_eq!(r("./plain"), fatal("unable to run: ./plain: access denied"));
    assert_eq!(r("/tmp"), fatal("unable to run: /tmp: access denied"));
    let gone = fatal("unable to run: svbox-no-such-program: file does not exist");
    assert_eq!(r("svbox-no-such-program"), gone);
}

#[test]
fn exit_code_and_output_are_the_programs() {
    let t = Tree::new();
    let got = run(
        t.path(),
        "chpst",
        &["/bin/sh", "-c", "echo out; echo err >&2; exit 42"],
    );
    assert_eq!(got, want(42, "out\n", "err\n"));
}

// ---------------------------------------------------------------------------------------
// Nice value, session, descriptors.

#[test]
fn nice_is_relative_and_set_before_the_user_change() {
    need_root();
    let t = Tree::new();
    let d = t.path();
    let base = own_nice();
    let clamp = |n: i64| n.clamp(-20, 19);
    for (inc, want) in [
        ("5", base + 5),
        ("+2", base + 2),
        ("-3", base - 3),
        ("100", 19),
    ] {
        let seen = observe(with_probe(chpst("chpst", d, &["-n", inc])));
        assert_eq!(seen.nice(), clamp(want), "-n {inc}");
    }
    // Lowering needs root: it happens before -u drops it.
    let seen = observe(with_probe(chpst("chpst", d, &["-u", "nobody", "-n", "-5"])));
    assert_eq!((seen.nice(), seen.ids("Uid")[0]), (clamp(base - 5), 65534));
    // Not root: refused.
    let got = run_as_nobody(d, &["-n", "-1", "/bin/true"]);
    assert_eq!(got, fatal("unable to set nice level: permission denied"));
}

#[test]
fn dash_capital_p_starts_a_session() {
    let t = Tree::new();
    let d = t.path();
    let own_session = nix::unistd::getsid(None).unwrap().as_raw() as i64;
    let seen = observe(with_probe(chpst("chpst", d, &[])));
    assert_eq!(seen.session(), own_session);
    assert_ne!(seen.pgrp(), seen.pid as i64);
    let seen = observe(with_probe(chpst("chpst", d, &["-P"])));
    assert_eq!(
        (seen.session(), seen.pgrp()),
        (seen.pid as i64, seen.pid as i64)
    );
    let seen = observe(with_probe(chpst("pgrphack", d, &[])));
    assert_eq!(
        (seen.session(), seen.pgrp()),
        (seen.pid as i64, seen.pid as i64)
    );
}

#[test]
fn failing_setsid_is_ignored() {
    let t = Tree::new();
    // A process group leader cannot start a session: setsid fails, chpst goes on.
    let mut cmd = with_probe(chpst("chpst", t.path(), &["-P"]));
    cmd.process_group(0);
    let seen = observe(cmd);
    assert_eq!(seen.pgrp(), seen.pid as i64);
    assert_ne!(seen.session(), seen.pid as i64);
}

/// `chpst ARGS sh` reporting which of fds 0, 1, 2 it has open, on fd 3 (a copy of stdout);
/// `close_first` is closed before chpst starts.
fn open_fds(t: &Tree, args: &[&str], close_first: Option<i32>) -> Res {
    let mut cmd = chpst("chpst", t.path(), args);
    let script = "r=; for f in 0 1 2; do [ -e /proc/$$/fd/$f ] && r=$r$f; done; echo open:$r >&3";
    cmd.args(["/bin/sh", "-c", script]);
    // SAFETY: dup2 and close are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            libc::dup2(1, 3);
            if let Some(fd) = close_first {
                libc::close(fd);
            }
            Ok(())
        })
    };
    res(&mut cmd)
}

#[test]
fn closes_standard_descriptors() {
    let t = Tree::new();
    for (args, open) in [
        (&[][..], "open:012\n"),
        (&["-0"][..], "open:12\n"),
        (&["-1"][..], "open:02\n"),
        (&["-2"][..], "open:01\n"),
        (&["-012"][..], "open:\n"),
        (&["-0", "-2"][..], "open:1\n"),
    ] {
        assert_eq!(open_fds(&t, args, None), want(0, open, ""), "{args:?}");
    }
}

#[test]
fn closing_a_closed_descriptor() {
    let t = Tree::new();
    if runit() {
        // runit: close fails, fatal.
        let got = open_fds(&t, &["-0"], Some(0));
        assert_eq!(
            got,
            fatal("unable to close stdin: file descriptor not open")
        );
        let got = open_fds(&t, &["-1"], Some(1));
        assert_eq!(
            got,
            fatal("unable to close stdout: file descriptor not open")
        );
        // Nobody hears about stderr, but the program does not run.
        let got = open_fds(&t, &["-2"], Some(2));
        assert_eq!((got.code, got.stdout.as_str()), (Some(111), ""));
        // Without the option the closed descriptor is passed on.
        assert_eq!(open_fds(&t, &[], Some(0)), want(0, "open:12\n", ""));
    } else {
        // svbox (like every Rust program) opens /dev/null on a closed standard descriptor
        // at start-up: the option then closes that, and the program runs as asked.
        assert_eq!(open_fds(&t, &["-0"], Some(0)), want(0, "open:12\n", ""));
        assert_eq!(open_fds(&t, &["-1"], Some(1)), want(0, "open:02\n", ""));
        assert_eq!(open_fds(&t, &["-2"], Some(2)), want(0, "open:01\n", ""));
        // Without the option the program gets /dev/null.
        assert_eq!(open_fds(&t, &[], Some(0)), want(0, "open:012\n", ""));
    }
}

// ---------------------------------------------------------------------------------------
// Resource limits.

const NOFILE: &str = "Max open files";
const MEMLOCK: &str = "Max locked memory";
const DATA: &str = "Max data size";
const STACK: &str = "Max stack size";
const AS: &str = "Max address space";

fn lim(soft: u64, hard: u64) -> (String, String) {
    (soft.to_string(), hard.to_string())
}

/// Under qemu-user a limit on data, stack or address space is accepted but not set: it
/// would bind qemu's own allocations. The exec'd (native) probe never sees one.
fn unseen_under_qemu(label: &str) -> bool {
    [DATA, STACK, AS].contains(&label)
        && skip_emulated(&format!("qemu-user does not set the limit '{label}'"))
}

#[test]
fn limits_set_the_soft_limit_only() {
    let t = Tree::new();
    let args = [
        "-o",
        "100",
        "-d",
        "200000000",
        "-f",
        "12345",
        "-c",
        "0",
        "-p",
        "77",
        "-r",
        "4444",
        "-t",
        "99",
    ];
    let seen = observe(with_probe(chpst("chpst", t.path(), &args)));
    assert_eq!(
        seen.limit(NOFILE),
        lim(100, hard_limit(Resource::RLIMIT_NOFILE))
    );
    for (label, soft) in [
        (DATA, "200000000"),
        ("Max file size", "12345"),
        ("Max core file size", "0"),
        ("Max processes", "77"),
        ("Max resident set", "4444"),
        ("Max cpu time", "99"),
    ] {
        if unseen_under_qemu(label) {
            continue;
        }
        assert_eq!(seen.limit(label).0, soft, "{label}");
    }
    // Untouched: stack, address space.
    let mine = Seen::of(std::process::id() as i32);
    assert_eq!(seen.limit(STACK), mine.limit(STACK));
    assert_eq!(seen.limit(AS), mine.limit(AS));
}

#[test]
fn limit_above_the_hard_limit_is_clamped() {
    let t = Tree::new();
    let hard = hard_limit(Resource::RLIMIT_NOFILE);
    let seen = observe(with_probe(chpst("chpst", t.path(), &["-o", "5000"])));
    assert_eq!(seen.limit(NOFILE), lim(hard, hard));
}

#[test]
fn dash_m_sets_data_stack_memlock_and_address_space() {
    let t = Tree::new();
    let seen = observe(with_probe(chpst("chpst", t.path(), &["-m", "300000000"])));
    for label in [DATA, STACK, AS] {
        if unseen_under_qemu(label) {
            continue;
        }
        assert_eq!(seen.limit(label).0, "300000000", "{label}");
    }
    let memlock = hard_limit(Resource::RLIMIT_MEMLOCK);
    assert_eq!(seen.limit(MEMLOCK), lim(memlock, memlock), "clamped");
    // A later option wins.
    let args = ["-m", "300000000", "-d", "200000000"];
    let seen = observe(with_probe(chpst("chpst", t.path(), &args)));
    if !unseen_under_qemu(DATA) {
        assert_eq!(seen.limit(DATA).0, "200000000");
    }
}

#[test]
fn softlimit_name() {
    let t = Tree::new();
    let d = t.path();
    let args = [
        "-a",
        "300000000",
        "-c",
        "1",
        "-d",
        "200000000",
        "-f",
        "12345",
        "-l",
        "65536",
        "-o",
        "99",
        "-p",
        "77",
        "-r",
        "4444",
        "-s",
        "1000000",
        "-t",
        "99",
    ];
    let seen = observe(with_probe(chpst("softlimit", d, &args)));
    for (label, soft) in [
        (AS, "300000000"),
        ("Max core file size", "1"),
        (DATA, "200000000"),
        ("Max file size", "12345"),
        (MEMLOCK, "65536"),
        (NOFILE, "99"),
        ("Max processes", "77"),
        ("Max resident set", "4444"),
        (STACK, "1000000"),
        ("Max cpu time", "99"),
    ] {
        if unseen_under_qemu(label) {
            continue;
        }
        assert_eq!(seen.limit(label).0, soft, "{label}");
    }
    // `=` raises the soft limit to the hard one; more than the hard one is clamped.
    let hard = hard_limit(Resource::RLIMIT_NOFILE);
    for n in ["=", "9999"] {
        let seen = observe(with_probe(chpst("softlimit", d, &["-o", n])));
        assert_eq!(seen.limit(NOFILE), lim(hard, hard), "-o {n}");
    }
    let seen = observe(with_probe(chpst("softlimit", d, &["-m", "300000000"])));
    for label in [DATA, STACK, AS] {
        if unseen_under_qemu(label) {
            continue;
        }
        assert_eq!(seen.limit(label).0, "300000000", "{label}");
    }
}

#[test]
fn softlimit_errors() {
    let t = Tree::new();
    let d = t.path();
    let u = emulation_usage("softlimit");
    let illegal = format!("softlimit: illegal option -- k\n{u}");
    assert_eq!(
        run(d, "softlimit", &["-k", "3", "/bin/true"]),
        want(100, "", &illegal)
    );
    // A bad number prints chpst's usage under softlimit's name (runit's quirk).
    let got = run(d, "softlimit", &["-o", "x", "/bin/true"]);
    assert_eq!(got, want(100, "", &usage("softlimit")));
    assert_eq!(run(d, "softlimit", &["-o", "5"]), want(100, "", &u));
}

// ---------------------------------------------------------------------------------------
// Locks.

/// `name args… lock PROG` must wait while the test holds the lock, run PROG once it is
/// released, and PROG must hold the lock then.
fn assert_waits_for_the_holder(name: &str, args: &[&str]) {
    let t = Tree::new();
    let lock = t.join("lock");
    let held = hold_lock(&lock);
    let mut p = Probe::start(with_probe(chpst(name, t.path(), args)));
    wait_until("waiting for the lock", || waits_with_open(p.pid(), &lock));
    assert_eq!(
        p.try_line(),
        None,
        "the program ran while the lock was held"
    );
    drop(held);
    p.seen();
    assert!(locked(&lock), "the program holds the lock");
    p.finish_ok();
}

#[test]
fn dash_l_waits_for_the_holder() {
    assert_waits_for_the_holder("chpst", &["-l", "lock"]);
}

#[test]
fn dash_capital_l_fails_at_once() {
    let t = Tree::new();
    let d = t.path();
    let _held = hold_lock(&t.join("lock"));
    let got = run(d, "chpst", &["-L", "lock", "/bin/true"]);
    assert_eq!(got, fatal("unable to lock: lock: temporary failure"));
    // Free: it takes the lock and runs.
    let mut p = Probe::start(with_probe(chpst("chpst", d, &["-L", "free"])));
    p.seen();
    assert!(locked(&t.join("free")));
    p.finish_ok();
}

#[test]
fn lock_is_created_as_the_new_user() {
    need_root();
    let t = Tree::new();
    let d = t.path();
    public_dir(&t, "pub");
    let mut p = Probe::start(with_probe(chpst(
        "chpst",
        d,
        &["-u", "nobody", "-l", "pub/lock"],
    )));
    p.seen();
    let meta = fs::metadata(t.join("pub/lock")).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o7777),
        (65534, 65534, 0o600)
    );
    p.finish_ok();
    // …who may not be allowed to.
    fs::set_permissions(t.join("pub"), fs::Permissions::from_mode(0o755)).unwrap();
    let got = run(
        d,
        "chpst",
        &["-u", "nobody", "-l", "pub/other", "/bin/true"],
    );
    assert_eq!(got, fatal("unable to open lock: pub/other: access denied"));
    let got = run(d, "chpst", &["-l", "missing/lock", "/bin/true"]);
    assert_eq!(
        got,
        fatal("unable to open lock: missing/lock: file does not exist")
    );
}

#[test]
fn setlock_fails_at_once_by_default() {
    let t = Tree::new();
    let d = t.path();
    let _held = hold_lock(&t.join("lock"));
    let taken = fatal("unable to lock: lock: temporary failure");
    assert_eq!(run(d, "setlock", &["lock", "/bin/true"]), taken);
    assert_eq!(run(d, "setlock", &["-N", "lock", "/bin/true"]), taken);
    assert_eq!(run(d, "setlock", &["-xX", "lock", "/bin/true"]), taken);
    // -x: silently 0 when the lock is taken, cannot be opened, or the program cannot run.
    let silent = want(0, "", "");
    assert_eq!(run(d, "setlock", &["-x", "lock", "/bin/true"]), silent);
    assert_eq!(run(d, "setlock", &["-Xx", "lock", "/bin/true"]), silent);
    assert_eq!(
        run(d, "setlock", &["-x", "missing/lock", "/bin/true"]),
        silent
    );
    assert_eq!(run(d, "setlock", &["-x", "free", "./missing"]), silent);
    let gone = fatal("unable to run: ./missing: file does not exist");
    assert_eq!(run(d, "setlock", &["free", "./missing"]), gone);
    let meta = fs::metadata(t.join("free")).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o600);
    let got = run(d, "setlock", &["missing/lock", "/bin/true"]);
    assert_eq!(
        got,
        fatal("unable to open lock: missing/lock: file does not exist")
    );
}

#[test]
fn setlock_n_waits() {
    assert_waits_for_the_holder("setlock", &["-Nn", "lock"]);
}

#[test]
fn setlock_runs_its_program_and_passes_the_exit_code() {
    let t = Tree::new();
    let got = run(
        t.path(),
        "setlock",
        &["lock", "/bin/sh", "-c", "echo hi; exit 7", "x"],
    );
    assert_eq!(got, want(7, "hi\n", ""));
}

// ---------------------------------------------------------------------------------------
// The other names.

#[test]
fn emulation_usages() {
    let t = Tree::new();
    let d = t.path();
    for name in [
        "setuidgid",
        "envuidgid",
        "envdir",
        "pgrphack",
        "setlock",
        "softlimit",
    ] {
        let u = want(100, "", &emulation_usage(name));
        assert_eq!(run(d, name, &[]), u, "{name}");
    }
    let short: &[(&str, &[&str])] = &[
        ("setuidgid", &["nobody"]),
        ("envuidgid", &["nobody"]),
        ("envdir", &["."]),
        ("setlock", &["lock"]),
        ("setlock", &["-n"]),
    ];
    for (name, args) in short {
        assert_eq!(
            run(d, name, args),
            want(100, "", &emulation_usage(name)),
            "{name}"
        );
    }
    let illegal = format!(
        "setlock: illegal option -- k\n{}",
        emulation_usage("setlock")
    );
    assert_eq!(
        run(d, "setlock", &["-k", "lock", "/bin/true"]),
        want(100, "", &illegal)
    );
}

#[test]
fn names_with_a_leading_d() {
    let t = Tree::new();
    let d = t.path();
    // One leading `d` is dropped: the usage line shows the name without it, getopt's
    // message the name as called.
    assert_eq!(run(d, "dchpst", &[]), want(100, "", &usage("chpst")));
    let illegal = format!("dchpst: illegal option -- k\n{}", usage("chpst"));
    assert_eq!(
        run(d, "dchpst", &["-k", "/bin/true"]),
        want(100, "", &illegal)
    );
    for name in [
        "setuidgid",
        "envuidgid",
        "envdir",
        "pgrphack",
        "setlock",
        "softlimit",
    ] {
        let u = want(100, "", &emulation_usage(name));
        assert_eq!(run(d, &format!("d{name}"), &[]), u, "d{name}");
    }
    let _held = hold_lock(&t.join("lock"));
    let taken = fatal("unable to lock: lock: temporary failure");
    assert_eq!(run(d, "dsetlock", &["lock", "/bin/true"]), taken);
    envdir(&t, "env", &[(b"A", b"a\n")]);
    let seen = observe(with_probe(chpst("denvdir", d, &["env"])));
    assert_eq!(seen.env_sorted(), env_entries(&[b"A=a"]));
    let got = run(d, "dchpst", &["-e", "env", "/bin/sh", "-c", "echo $A"]);
    assert_eq!(got, want(0, "a\n", ""));
}

#[test]
fn setuidgid_name() {
    need_root();
    let t = Tree::new();
    let seen = observe(with_probe(chpst("setuidgid", t.path(), &["nobody"])));
    assert_eq!(seen.ids("Uid"), [65534; 4]);
    assert_eq!(seen.ids("Gid"), [65534; 4]);
    assert_eq!(seen.ids("Groups"), [65534]);
    assert_eq!(seen.env_sorted(), env_entries(&[]));
    assert_clean_signals(&seen);
    for account in ["svbox-no-such-user", ":0:0", "nobody:nogroup"] {
        let got = run(t.path(), "setuidgid", &[account, "/bin/true"]);
        assert_eq!(got, fatal(&format!("unknown account: {account}")));
    }
}

#[test]
fn envuidgid_name() {
    need_root();
    let t = Tree::new();
    let seen = observe(with_probe(chpst("envuidgid", t.path(), &["nobody"])));
    assert_eq!(seen.ids("Uid"), [0; 4]);
    assert_eq!(
        seen.env_sorted(),
        env_entries(&[b"UID=65534", b"GID=65534"])
    );
    let got = run(t.path(), "envuidgid", &["svbox-no-such-user", "/bin/true"]);
    assert_eq!(got, fatal("unknown account: svbox-no-such-user"));
}

#[test]
fn envdir_name() {
    let t = Tree::new();
    let d = t.path();
    envdir(&t, "env", &[(b"A", b"a \n"), (b"B", b"")]);
    let mut cmd = with_probe(chpst("envdir", d, &["env"]));
    cmd.env("B", "set");
    let seen = observe(cmd);
    assert_eq!(seen.env_sorted(), env_entries(&[b"A=a"]));
    assert_clean_signals(&seen);
    let got = run(d, "envdir", &["env", "./missing"]);
    assert_eq!(got, fatal("unable to run: ./missing: file does not exist"));
    // Options are not envdir's: `-e` is the directory.
    let got = run(d, "envdir", &["-e", "/bin/true"]);
    assert_eq!(
        got,
        fatal("unable to switch to directory: -e: file does not exist")
    );
}

#[test]
fn pgrphack_name_runs_the_program() {
    let t = Tree::new();
    let got = run(t.path(), "pgrphack", &["/bin/sh", "-c", "echo hi; exit 3"]);
    assert_eq!(got, want(3, "hi\n", ""));
}

/// Keeps the helpers honest: without chpst the probe shows the state chpst inherits.
#[test]
fn probe_sees_the_inherited_state() {
    let (ign, blk) = inherited_signals();
    assert_eq!((ign & pipe(), blk), (pipe(), usr1_term()));
    let t = Tree::new();
    let mut direct = Command::new(PROBE[0]);
    direct.args(&PROBE[1..]).current_dir(t.path());
    let plan = *limit_plan();
    // SAFETY: as in chpst().
    unsafe { direct.pre_exec(move || inherited_state(&plan)) };
    let seen = observe(direct);
    let hard = hard_limit(Resource::RLIMIT_NOFILE);
    assert_eq!(seen.limit(NOFILE), lim(hard.min(64), hard));
}
