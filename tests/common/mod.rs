//! Shared test harness: the built binary behind applet-named symlinks, temporary service
//! trees, daemons that are killed with their whole process group when a test ends (even by
//! panic), deadline-bounded waits, and the Debian peers (runit, daemontools, s6).
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

// The /proc helpers the benchmarks use too: processes by parent or by working directory.
#[path = "../../benches/common/sweep.rs"]
mod sweep;
// Each test crate uses some of them (dead_code above is the same allowance for functions).
#[allow(unused_imports)]
pub use sweep::{children, kill_under, pids, ppid, under};

pub use svbox::status::{RunState, Status};

/// How long any single condition may take on a loaded 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// The built multicall binary.
pub fn svbox() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_svbox"))
}

/// A directory of applet-named symlinks to the built binary (created once per test process).
pub fn bindir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("applets-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for name in [
            "runsv",
            "sv",
            "runsvdir",
            "svlogd",
            "chpst",
            "envdir",
            "envuidgid",
            "pgrphack",
            "setuidgid",
            "setlock",
            "softlimit",
            "svc",
            "svok",
            "svstat",
            "runit",
            "runit-init",
            "init",
            "runsvchdir",
            "utmpset",
        ] {
            std::os::unix::fs::symlink(svbox(), dir.join(name)).unwrap();
        }
        dir
    })
}

/// Path of our applet `name` (a symlink to the binary).
pub fn applet(name: &str) -> PathBuf {
    bindir().join(name)
}

/// A temporary directory removed at the end of the test.
pub struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Self {
        Tree {
            dir: tempfile::Builder::new()
                .prefix("svbox-test-")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Creates `rel` (a service directory) with an executable `run` script.
    pub fn service(&self, rel: &str, run_body: &str) -> PathBuf {
        let dir = self.join(rel);
        fs::create_dir_all(&dir).unwrap();
        script(&dir.join("run"), run_body);
        dir
    }
}

impl Default for Tree {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes an executable `#!/bin/sh` script.
pub fn script(path: &Path, body: &str) {
    fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Waits until `cond` holds, polling with growing pauses; panics naming `what` at the deadline.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    assert!(
        wait_for(DEADLINE, &mut cond),
        "timed out after {DEADLINE:?} waiting for {what}"
    );
}

/// Like `wait_until` with a chosen deadline; returns whether the condition came true.
pub fn wait_for(deadline: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    let mut pause = Duration::from_millis(1);
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}

/// A long-running process in its own process group, killed with the group on drop.
pub struct Daemon {
    pub child: Child,
    stderr_path: PathBuf,
}

impl Daemon {
    /// Starts `program args` in `cwd` with stderr captured to a file (read with `stderr()`).
    pub fn start(program: &Path, args: &[&OsStr], cwd: &Path) -> Daemon {
        Self::start_with(program, args, cwd, |_| {})
    }

    /// As `start`, letting the caller adjust the command (environment, stdin, …).
    pub fn start_with(
        program: &Path,
        args: &[&OsStr],
        cwd: &Path,
        adjust: impl FnOnce(&mut Command),
    ) -> Daemon {
        let stderr_path = tempfile::Builder::new()
            .prefix("svbox-stderr-")
            .tempfile()
            .unwrap()
            .into_temp_path();
        let stderr_path = stderr_path.keep().unwrap();
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&stderr_path).unwrap())
            .process_group(0);
        // Daemons start as an init would start them, whatever the test runner inherited
        // (`nohup` ignores HUP, and a shell cannot trap a signal ignored on entry).
        // SAFETY: signal() with SIG_DFL is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                use nix::sys::signal::{signal, SigHandler, Signal};
                for sig in [Signal::SIGHUP, Signal::SIGINT, Signal::SIGQUIT] {
                    let _ = signal(sig, SigHandler::SigDfl);
                }
                Ok(())
            });
        }
        adjust(&mut cmd);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        Daemon { child, stderr_path }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Everything the daemon (and its children) wrote to stderr so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// The exit code if it has exited (None while running or when killed by a signal).
    ///
    /// The exited daemon is left a zombie (`WNOWAIT`): its pid, which is also its process
    /// group's id, then cannot be reused before `drop` has killed the group and reaped it, so
    /// the group kill can never hit another test's processes.
    pub fn try_exit(&mut self) -> Option<Option<i32>> {
        use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
        let pid = nix::unistd::Pid::from_raw(self.pid());
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(pid), flags).unwrap() {
            WaitStatus::Exited(_, code) => Some(Some(code)),
            WaitStatus::Signaled(..) => Some(None),
            _ => None,
        }
    }

    /// Waits (with the deadline) for the daemon to exit and returns its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let mut code = None;
        wait_until("daemon exit", || match self.try_exit() {
            Some(c) => {
                code = c;
                true
            }
            None => false,
        });
        code
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill has no memory effects.
        unsafe { nix::libc::kill(self.pid(), sig) };
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: kill has no memory effects. The group is the one created at spawn, and its
        // id cannot have been reused: the leader is not reaped before the next line.
        unsafe { nix::libc::kill(-self.pid(), nix::libc::SIGKILL) };
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.stderr_path);
    }
}

/// The result of a finished command.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// When it was collected: elapsed times two runs print may differ by the time between.
    pub finished: Instant,
}

impl From<Output> for Outcome {
    fn from(o: Output) -> Self {
        Outcome {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            finished: Instant::now(),
        }
    }
}

/// Runs a command to completion (bounded by the deadline) and collects its output.
pub fn run_cmd(cmd: &mut Command) -> Outcome {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let mut e = Vec::new();
    let _ = err.read_to_end(&mut e);
    let end = Instant::now() + DEADLINE * 2;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("command {cmd:?} did not finish");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Output {
        status,
        stdout: reader.join().unwrap(),
        stderr: e,
    }
    .into()
}

/// Runs `program args` in `cwd`.
pub fn run_in(program: &Path, args: &[&str], cwd: &Path) -> Outcome {
    run_cmd(Command::new(program).args(args).current_dir(cwd))
}

/// Reads and decodes `svdir/supervise/status` (or `svdir/log/supervise/status`).
pub fn status(svdir: &Path) -> Option<Status> {
    let bytes = fs::read(svdir.join("supervise/status")).ok()?;
    Status::decode(&bytes).ok()
}

/// True once `svdir/supervise/ok` has a reader (a supervisor is running there).
pub fn supervised(svdir: &Path) -> bool {
    svbox::fsio::open_write(svdir.join("supervise/ok").as_path()).is_ok()
}

/// Waits until the main service of `svdir` runs a process, returning its pid.
pub fn wait_running(svdir: &Path) -> u32 {
    let mut pid = 0;
    wait_until(&format!("{} running", svdir.display()), || {
        match status(svdir) {
            Some(s) if s.state == RunState::Run && s.pid != 0 => {
                pid = s.pid;
                true
            }
            _ => false,
        }
    });
    pid
}

/// True if a process with this pid exists (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// The Debian peers unpacked under target/peers by tests/peers/fetch.sh.
pub mod peers {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers")
    }

    /// Fetches the peers once. In CI a failure fails the test; elsewhere it skips it.
    pub fn available() -> bool {
        static FETCHED: OnceLock<bool> = OnceLock::new();
        let ok = *FETCHED.get_or_init(|| {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/fetch.sh");
            Command::new("sh")
                .arg(script)
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        });
        if !ok {
            assert!(
                std::env::var_os("CI").is_none(),
                "Debian peers could not be fetched (tests/peers/fetch.sh)"
            );
            eprintln!("skipping: Debian peers unavailable (run tests/peers/fetch.sh)");
        }
        ok
    }

    /// runit 2.1.2's program `name` (sv, runsv, runsvdir, svlogd, chpst).
    pub fn runit(name: &str) -> PathBuf {
        root().join("runit/usr/bin").join(name)
    }

    /// daemontools 0.76's program `name` (svstat, svok, svc, supervise, …).
    pub fn daemontools(name: &str) -> PathBuf {
        root().join("daemontools/usr/bin").join(name)
    }

    /// s6's program `name`, with the library path it needs set on `cmd`.
    pub fn s6(name: &str, cmd: &mut Command) -> PathBuf {
        let lib = root()
            .join("s6/usr/lib")
            .join(format!("{}-linux-gnu", std::env::consts::ARCH));
        cmd.env("LD_LIBRARY_PATH", lib);
        root().join("s6/usr/bin").join(name)
    }
}

/// The runsv the tests drive: ours, or runit's with `SVBOX_TEST_RUNSV=runit` (for developing
/// a client against the reference before our supervisor is ready).
pub fn runsv_program() -> PathBuf {
    match std::env::var("SVBOX_TEST_RUNSV").as_deref() {
        Ok("runit") => peers::runit("runsv"),
        _ => applet("runsv"),
    }
}

/// Starts `runsv DIRNAME` in the parent of `svdir` and waits until it is supervising.
pub fn start_runsv(svdir: &Path) -> Daemon {
    start_runsv_with(&runsv_program(), svdir)
}

/// Starts the given runsv program on `svdir` and waits until `supervise/ok` has a reader.
pub fn start_runsv_with(program: &Path, svdir: &Path) -> Daemon {
    let parent = svdir.parent().unwrap();
    let name = svdir.file_name().unwrap();
    let mut d = Daemon::start(program, &[name], parent);
    let ok = wait_for(DEADLINE, || supervised(svdir) || d.try_exit().is_some());
    assert!(
        ok && supervised(svdir),
        "runsv did not come up on {}: {}",
        svdir.display(),
        d.stderr()
    );
    d
}
// ---- Added for the interoperability tests (tests/interop_*.rs). ----

/// The sv the tests call "ours": our applet, or runit's with `SVBOX_TEST_SV=runit` (to check
/// a test against the reference before our client is ready).
pub fn sv_program() -> PathBuf {
    match std::env::var("SVBOX_TEST_SV").as_deref() {
        Ok("runit") => peers::runit("sv"),
        _ => applet("sv"),
    }
}

/// Wall-clock seconds since the epoch (the clock runit's timestamps use).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Waits until the wall clock has left the second of `svdir`'s status timestamp. sv compares
/// whole seconds, so only then can a new start not be confused with the previous one.
pub fn wait_past_stamp(svdir: &Path) {
    let stamp = status(svdir).expect("readable status").stamp.unix_secs();
    wait_until("the next second", || unix_now() as i64 > stamp);
}

/// True if `a` and `b` are equal byte for byte, except that elapsed-time numbers (a decimal
/// after a space and followed by `s` or ` seconds`, as sv and svstat print them) may differ
/// by at most 1: the clock can tick between two invocations.
pub fn same_but_seconds(a: &str, b: &str) -> bool {
    same_but_seconds_within(a, b, 1)
}

/// `same_but_seconds` with elapsed times allowed to differ by at most `slack`.
pub fn same_but_seconds_within(a: &str, b: &str, slack: u64) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let elapsed_at = |s: &[u8], k: usize| {
            if k == 0 || s[k - 1] != b' ' || !s[k].is_ascii_digit() {
                return None;
            }
            let end = k + s[k..].iter().take_while(|c| c.is_ascii_digit()).count();
            let rest = &s[end..];
            let unit = rest.starts_with(b"s") || rest.starts_with(b" seconds");
            let n: u64 = std::str::from_utf8(&s[k..end]).ok()?.parse().ok()?;
            unit.then_some((n, end))
        };
        match (elapsed_at(a, i), elapsed_at(b, j)) {
            (Some((x, ei)), Some((y, ej))) if x.abs_diff(y) <= slack => (i, j) = (ei, ej),
            _ if a[i] == b[j] => (i, j) = (i + 1, j + 1),
            _ => return false,
        }
    }
    i == a.len() && j == b.len()
}

/// Asserts that two command outcomes agree in exit code, stdout and stderr (see
/// `same_but_seconds`; elapsed times may also differ by the seconds between the two runs,
/// which a loaded machine stretches), naming the step and both programs on failure.
pub fn assert_same_outcome(step: &str, (pa, a): (&Path, &Outcome), (pb, b): (&Path, &Outcome)) {
    let apart = if a.finished > b.finished {
        a.finished - b.finished
    } else {
        b.finished - a.finished
    };
    let slack = 1 + apart.as_secs() + u64::from(apart.subsec_nanos() > 0);
    let ok = a.code == b.code
        && same_but_seconds_within(&a.stdout, &b.stdout, slack)
        && same_but_seconds_within(&a.stderr, &b.stderr, slack);
    assert!(
        ok,
        "{step}: outcomes differ\n{}: {a:?}\n{}: {b:?}",
        pa.display(),
        pb.display()
    );
}

/// Voluntary plus involuntary context switches of `pid` so far: unchanged over an interval
/// means the process made no blocking system call and was not woken.
pub fn context_switches(pid: i32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("ctxt_switches"))
        .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
        .sum()
}

/// Waits until `pid` has settled into an idle wait, then asserts it stays asleep for 1.2 s.
pub fn assert_idle(pid: i32, what: &str) {
    let mut last = context_switches(pid);
    wait_until(&format!("{what} settles"), || {
        std::thread::sleep(Duration::from_millis(100));
        let now = context_switches(pid);
        std::mem::replace(&mut last, now) == now
    });
    let before = context_switches(pid);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(context_switches(pid), before, "idle {what} woke up");
}

/// Names of svlogd's rotated files (`@…`) in `dir`, in name (= time) order.
pub fn rotated(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('@'))
        .collect();
    v.sort();
    v
}

// ---- Added for the chpst tests (tests/chpst.rs, tests/interop_chpst.rs). ----

/// True with `SVBOX_TEST_CHPST=runit`: the chpst tests then drive runit 2.1.2's chpst (to
/// check their expectations against the reference) and skip what only svbox has.
pub fn chpst_is_runit() -> bool {
    std::env::var("SVBOX_TEST_CHPST").as_deref() == Ok("runit")
}

/// A symbolic link named `name` to `target`, in a per-process directory keyed by `set`.
/// chpst picks its mode by the name it is called with, so each name needs its own link.
pub fn named_link(set: &str, target: &Path, name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("names-{set}-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let link = dir.join(name);
    match std::os::unix::fs::symlink(target, &link) {
        Ok(()) => {}
        // Another test thread made the same link first.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => panic!("cannot link {}: {e}", link.display()),
    }
    link
}

/// The chpst the tests drive, called as `name` (`chpst`, an emulation name such as `envdir`
/// or `setlock`, or any other name): ours, or runit's with `SVBOX_TEST_CHPST=runit` — the
/// same binary behind a link of that name, as runit itself selects the emulation by name.
pub fn chpst_program(name: &str) -> PathBuf {
    if chpst_is_runit() {
        named_link("runit", &peers::runit("chpst"), name)
    } else {
        named_link("svbox", &svbox(), name)
    }
}

// ---- Added for the daemontools tools (tests/daemontools.rs, tests/interop_dtools.rs). ----

/// A `supervise/` served by the test itself: `ok` and `control` FIFOs held open for reading
/// (clients see a live supervisor), a status file of any content, and the control bytes
/// clients wrote.
pub struct FakeSupervise {
    pub svdir: PathBuf,
    _ok: std::os::fd::OwnedFd,
    control: std::os::fd::OwnedFd,
}

impl FakeSupervise {
    /// Creates `svdir/supervise/{ok,control}` and opens both for reading.
    pub fn new(svdir: &Path) -> Self {
        let sup = svdir.join("supervise");
        fs::create_dir_all(&sup).unwrap();
        let mode = nix::sys::stat::Mode::from_bits_truncate(0o600);
        for fifo in ["ok", "control"] {
            nix::unistd::mkfifo(&sup.join(fifo), mode).unwrap();
        }
        let open = |name: &str| svbox::fsio::open_read(sup.join(name).as_path()).unwrap();
        FakeSupervise {
            svdir: svdir.to_path_buf(),
            _ok: open("ok"),
            control: open("control"),
        }
    }

    /// Replaces `supervise/status` with `bytes`.
    pub fn set_status(&self, bytes: &[u8]) {
        fs::write(self.svdir.join("supervise/status"), bytes).unwrap();
    }

    /// The bytes written to `supervise/control` since the last call.
    pub fn received(&self) -> Vec<u8> {
        let mut all = Vec::new();
        let mut buf = [0u8; 256];
        while let Ok(n @ 1..) = rustix::io::read(&self.control, &mut buf) {
            all.extend_from_slice(&buf[..n]);
        }
        all
    }
}

/// A daemontools (18-byte) status record stamped `unix` seconds.
pub fn daemontools_record(unix: i64, pid: u32, paused: bool, want: u8) -> Vec<u8> {
    let mut r = svbox::tai::Tai64n::from_unix(unix, 0).pack().to_vec();
    r.extend_from_slice(&pid.to_le_bytes());
    r.push(paused as u8);
    r.push(want);
    r
}

/// An `svstat` output line with its seconds replaced by `S`, and those seconds.
pub fn svstat_shape(line: String) -> (String, u64) {
    let Some(end) = line.find(" seconds") else {
        return (line, 0);
    };
    let start = line[..end].rfind(' ').map_or(0, |i| i + 1);
    let secs = line[start..end].parse().unwrap_or(u64::MAX);
    (format!("{}S{}", &line[..start], &line[end..]), secs)
}

/// Waits until `svstat()` (an svstat run, shaped by `svstat_shape`) gives `want`, whose
/// seconds must then be small.
pub fn expect_svstat_shape(what: &str, want: &str, mut svstat: impl FnMut() -> (String, u64)) {
    let mut last = (String::new(), 0);
    let ok = wait_for(DEADLINE, || {
        last = svstat();
        last.0 == want
    });
    assert!(ok, "{what}: expected {want:?}, got {last:?}");
    assert!(last.1 <= 5, "{what}: elapsed {} seconds", last.1);
}

// ---- Added for the runs under qemu-user (`.ci/cross test TARGET`). ----

/// The emulator the tests run under (`SVBOX_TEST_EMULATED`, such as `qemu-arm`, which
/// `.ci/cross test` sets), or `None` natively.
pub fn emulated() -> Option<String> {
    std::env::var("SVBOX_TEST_EMULATED")
        .ok()
        .filter(|e| !e.is_empty())
}

/// Under emulation prints why the test (or a part of it) is skipped and returns true:
/// for what qemu-user cannot do, never for what svbox gets wrong. Natively false.
pub fn skip_emulated(why: &str) -> bool {
    match emulated() {
        Some(e) => {
            eprintln!("skipping under {e}: {why}");
            true
        }
        None => false,
    }
}

/// `n` natively, `small` under emulation: for pure-volume workloads (line or loop counts)
/// whose point survives a smaller count.
pub fn volume(n: usize, small: usize) -> usize {
    if emulated().is_some() {
        small.min(n)
    } else {
        n
    }
}

/// The argv of process `pid` as its program sees it (`/proc/PID/cmdline`, NUL-terminated
/// fields). A program that binfmt_misc runs under qemu-user (flag P) shows the host
/// `INTERPRETER\0/path/to/exe\0argv0\0…`; under emulation those two leading fields are dropped.
pub fn cmdline(pid: u32) -> Vec<u8> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if emulated().is_none() {
        return raw;
    }
    let first = raw.split(|&b| b == 0).next().unwrap_or(&[]);
    let name = first.rsplit(|&b| b == b'/').next().unwrap_or(&[]);
    let qemu = name.starts_with(b"qemu-") || name.ends_with(b"-binfmt-P");
    if !qemu {
        return raw;
    }
    let mut fields = raw.splitn(3, |&b| b == 0);
    fields.next();
    fields.next();
    fields.next().unwrap_or(&[]).to_vec()
}

/// The host's number for the target's signal `sig`: what a native program (a shell the
/// tests start, /proc/PID/status of one) sees. The same natively; under emulation the
/// target's numbering (MIPS: SIGUSR1 is 16) is translated by qemu into the host's, which is
/// x86_64's (the generic Linux numbers).
pub fn host_signal(sig: i32) -> i32 {
    if emulated().is_none() {
        return sig;
    }
    use nix::libc::*;
    const NAMES: [(i32, i32); 30] = [
        (SIGHUP, 1),
        (SIGINT, 2),
        (SIGQUIT, 3),
        (SIGILL, 4),
        (SIGTRAP, 5),
        (SIGABRT, 6),
        (SIGBUS, 7),
        (SIGFPE, 8),
        (SIGKILL, 9),
        (SIGUSR1, 10),
        (SIGSEGV, 11),
        (SIGUSR2, 12),
        (SIGPIPE, 13),
        (SIGALRM, 14),
        (SIGTERM, 15),
        (SIGCHLD, 17),
        (SIGCONT, 18),
        (SIGSTOP, 19),
        (SIGTSTP, 20),
        (SIGTTIN, 21),
        (SIGTTOU, 22),
        (SIGURG, 23),
        (SIGXCPU, 24),
        (SIGXFSZ, 25),
        (SIGVTALRM, 26),
        (SIGPROF, 27),
        (SIGWINCH, 28),
        (SIGIO, 29),
        (SIGPWR, 30),
        (SIGSYS, 31),
    ];
    NAMES
        .iter()
        .find(|&&(target, _)| target == sig)
        .map_or(sig, |&(_, host)| host)
}

/// The uid the `RLIMIT_NPROC` tests run as: nobody natively; under emulation a uid of this
/// test process's own. The limit counts every task of the uid machine-wide, and CI runs the
/// emulated suites of two targets side by side, both with processes of nobody's.
pub fn nproc_uid() -> u32 {
    match emulated() {
        Some(_) => 1_000_000 + std::process::id(),
        None => 65534,
    }
}

/// Whether `pid`, a service runsv started, runs its program, with `ignored` (a target
/// signal number, 0 for none) among its ignored signals. Until it execs, the child is a copy
/// of runsv and runs its parent's executable: svbox, or the qemu-user or valgrind that runs
/// svbox. A signal sent in that window can kill it before the script's `trap` (natively on a
/// loaded machine too), and valgrind even drops the signals pending at `execve`.
pub fn runs_its_program(pid: u32, ignored: i32) -> bool {
    let exe = |p: u32| fs::read_link(format!("/proc/{p}/exe")).ok();
    let own = exe(pid);
    let ignoring = || {
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let mask = status
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:"))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(0);
        mask & (1 << (host_signal(ignored) - 1)) != 0
    };
    own.is_some()
        && ppid(pid).is_some_and(|parent| exe(parent) != own)
        && (ignored == 0 || ignoring())
}

/// Waits until `pid`, a service runsv just started, runs its program (`runs_its_program`).
pub fn wait_service_program(pid: u32, ignored: i32) {
    wait_until(&format!("process {pid} runs its program"), || {
        runs_its_program(pid, ignored)
    });
}
