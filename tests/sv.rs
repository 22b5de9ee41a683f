//! sv against real runsv processes (ours, or runit's with SVBOX_TEST_RUNSV=runit) and
//! against hand-made `supervise/` directories where exact bytes and corrupt records matter.

mod common;
use common::*;

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use svbox::tai::Tai64n;

const USAGE: &str = "usage: sv [-v] [-w sec] command service ...\n\n";

/// sv with SVDIR = the tree, SVWAIT unset, run in the tree.
fn sv_cmd(tree: &Tree) -> Command {
    let mut c = Command::new(applet("sv"));
    c.env("SVDIR", tree.path())
        .env_remove("SVWAIT")
        .current_dir(tree.path());
    c
}

fn sv(tree: &Tree, args: &[&str]) -> Outcome {
    run_cmd(sv_cmd(tree).args(args))
}

/// Replaces the seconds count of status lines (`) 3s`, `: 0s`) by `N`.
fn norm(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && i > 0 && b[i - 1] == b' ' {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j < b.len() && b[j] == b's' {
                out.push('N');
                i = j;
                continue;
            }
        }
        out.push(b[i] as char);
        i += 1;
    }
    out
}

fn assert_outcome(o: &Outcome, code: i32, stdout: &str, stderr: &str) {
    assert_eq!(
        (o.code, norm(&o.stdout).as_str(), o.stderr.as_str()),
        (Some(code), stdout, stderr),
        "{o:?}"
    );
}

/// A service whose run script sleeps (optionally with a `down` file and a logger).
fn sleeper(tree: &Tree, name: &str) -> PathBuf {
    tree.service(name, "exec sleep 1000")
}

fn with_log(dir: &Path) {
    fs::create_dir_all(dir.join("log")).unwrap();
    script(&dir.join("log/run"), "exec cat >/dev/null");
}

/// A `supervise/` made by hand: the test holds the read ends of `ok` and `control`.
struct Fake {
    ok: Option<File>,
    control: File,
    dir: PathBuf,
}

fn fifo(path: &Path) {
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
}

fn open_reader(path: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .unwrap()
}

fn record(pid: u32, want: u8, state: RunState, age_secs: i64) -> [u8; 20] {
    let now = Tai64n::now();
    let stamp = Tai64n::from_unix(now.unix_secs() - age_secs, now.nano);
    Status {
        stamp,
        pid,
        paused: false,
        want,
        term: false,
        state,
    }
    .encode()
}

impl Fake {
    fn new(dir: &Path, status: &[u8]) -> Fake {
        let sup = dir.join("supervise");
        fs::create_dir_all(&sup).unwrap();
        fifo(&sup.join("ok"));
        fifo(&sup.join("control"));
        fs::write(sup.join("status"), status).unwrap();
        Fake {
            ok: Some(open_reader(&sup.join("ok"))),
            control: open_reader(&sup.join("control")),
            dir: dir.to_path_buf(),
        }
    }

    /// Everything written to `supervise/control` so far.
    fn sent(&mut self) -> String {
        let mut buf = Vec::new();
        let _ = self.control.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }

    fn set(&self, status: &[u8]) {
        fs::write(self.dir.join("supervise/status"), status).unwrap();
    }

    /// Replaces the record the way runsv does: `status.new`, then rename.
    fn replace(&self, status: &[u8]) {
        let tmp = self.dir.join("supervise/status.new");
        fs::write(&tmp, status).unwrap();
        fs::rename(&tmp, self.dir.join("supervise/status")).unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// Usage, options, environment

#[test]
fn usage_and_options() {
    let t = Tree::new();
    assert_outcome(&sv(&t, &[]), 100, "", USAGE);
    assert_outcome(&sv(&t, &["status"]), 100, "", USAGE);
    let v = format!("$Id: 900314260c6d52c986c5357673bea2f3bd3f4698 $\n{USAGE}");
    assert_outcome(&sv(&t, &["-V", "status", "x"]), 100, "", &v);
    let w = format!("sv: option requires an argument -- w\n{USAGE}");
    assert_outcome(&sv(&t, &["-w"]), 100, "", &w);
    let z = format!("sv: illegal option -- z\n{USAGE}");
    assert_outcome(&sv(&t, &["-z", "status", "x"]), 100, "", &z);
    for bad in ["bogus", "", "rest", "fuzz", "force", "Up", "3", "-"] {
        assert_outcome(&sv(&t, &[bad, "x"]), 100, "", USAGE);
    }
    // Called by path, the program name is still the basename.
    let o = run_cmd(Command::new(applet("sv")).current_dir(t.path()));
    assert_eq!(o.stderr, USAGE);
}

#[test]
fn missing_service_directory_and_default_svdir() {
    let t = Tree::new();
    let o = sv(&t, &["status", "nosuch"]);
    assert_outcome(
        &o,
        1,
        "fail: nosuch: unable to change to service directory: file does not exist\n",
        "",
    );
    let abs = t.join("gone");
    let o = sv(&t, &["status", abs.to_str().unwrap()]);
    let want = format!(
        "fail: {}: unable to change to service directory: file does not exist\n",
        abs.display()
    );
    assert_outcome(&o, 1, &want, "");
    // No SVDIR: /var/service, /etc/service or /service; none holds this name.
    let name = "svbox-no-such-service-4711";
    let o = run_cmd(sv_cmd(&t).env_remove("SVDIR").args(["status", name]));
    assert_outcome(
        &o,
        1,
        &format!("fail: {name}: unable to change to service directory: file does not exist\n"),
        "",
    );
    // A file where the service should be.
    fs::write(t.join("plain"), "").unwrap();
    let o = sv(&t, &["up", "plain"]);
    assert_outcome(
        &o,
        1,
        "fail: plain: unable to change to service directory: not a directory\n",
        "",
    );
}

#[test]
fn never_supervised_directory() {
    let t = Tree::new();
    sleeper(&t, "x");
    let o = sv(&t, &["status", "x"]);
    assert_outcome(
        &o,
        1,
        "warning: x: unable to open supervise/ok: file does not exist\n",
        "",
    );
    let o = sv(&t, &["-v", "up", "./x"]);
    assert_outcome(
        &o,
        1,
        "warning: ./x: unable to open supervise/ok: file does not exist\n",
        "",
    );
}

#[test]
fn exit_code_counts_problems_and_caps_at_99() {
    let t = Tree::new();
    let names: Vec<String> = (0..100).map(|i| format!("missing{i}")).collect();
    let mut args = vec!["status"];
    args.extend(names.iter().map(String::as_str));
    let o = sv(&t, &args);
    assert_eq!(o.code, Some(99));
    assert_eq!(o.stdout.lines().count(), 100);
    assert_eq!(
        o.stdout.lines().last(),
        Some("fail: missing99: unable to change to service directory: file does not exist")
    );
    let o = sv(&t, &["status", "a", "b", "c"]);
    assert_eq!(o.code, Some(3));
}

#[test]
fn lenient_wait_values() {
    let t = Tree::new();
    let dir = t.join("x");
    fs::create_dir_all(&dir).unwrap();
    let mut fake = Fake::new(&dir, &record(0, b'd', RunState::Down, 5));
    // -w abc and SVWAIT=junk mean 0 seconds: timeout right after the first round.
    let cases: [(&[&str], Option<&str>); 3] = [
        (&["-w", "abc", "up", "x"], None),
        (&["-v", "up", "x"], Some("junk")),
        (&["-w0", "up", "x"], None),
    ];
    for (args, env) in cases {
        let begin = Instant::now();
        let mut cmd = sv_cmd(&t);
        cmd.args(args);
        if let Some(e) = env {
            cmd.env("SVWAIT", e);
        }
        let o = run_cmd(&mut cmd);
        assert_outcome(&o, 1, "timeout: down: x: Ns, normally up\n", "");
        assert!(
            begin.elapsed() < Duration::from_secs(5),
            "{:?}",
            begin.elapsed()
        );
        assert_eq!(fake.sent(), "u");
        fake.set(&record(0, b'd', RunState::Down, 5));
    }
    // SVWAIT=1 waits a second; -w overrides it.
    let begin = Instant::now();
    let o = run_cmd(sv_cmd(&t).env("SVWAIT", "1").args(["-v", "up", "x"]));
    assert_outcome(&o, 1, "timeout: down: x: Ns, normally up\n", "");
    assert!(begin.elapsed() >= Duration::from_secs(1));
    let begin = Instant::now();
    let o = run_cmd(sv_cmd(&t).env("SVWAIT", "30").args(["-w", "0", "up", "x"]));
    assert_eq!(o.code, Some(1));
    assert!(begin.elapsed() < Duration::from_secs(5));
}

// ---------------------------------------------------------------------------------------
// Bytes sent, skip rule, status read errors (hand-made supervise/)

#[test]
fn every_command_sends_its_bytes() {
    let t = Tree::new();
    let dir = t.join("x");
    fs::create_dir_all(&dir).unwrap();
    let running = record(4242, b'u', RunState::Run, 10);
    let mut fake = Fake::new(&dir, &running);
    let quiet = [
        ("up", ""), // skipped: already wants up
        ("down", "d"),
        ("once", "o"),
        ("pause", "p"),
        ("cont", "c"),
        ("hup", "h"),
        ("alarm", "a"),
        ("interrupt", "i"),
        ("quit", "q"),
        ("1", "1"),
        ("2", "2"),
        ("kill", "k"),
        ("term", "t"),
        ("exit", "x"),
        ("e", "x"),
        ("uppity", ""),
        ("dx", "d"),
    ];
    for (cmd, bytes) in quiet {
        let o = sv(&t, &[cmd, "x"]);
        assert_outcome(&o, 0, "", "");
        assert_eq!(fake.sent(), bytes, "{cmd}");
    }
    // Waiting commands with SVWAIT=0: the timeout line, and `k` after a kill-timeout.
    let waiting = [
        ("restart", "tcu", "timeout: run: x: (pid 4242) Ns\n"),
        ("try-restart", "tc", "timeout: run: x: (pid 4242) Ns\n"),
        ("stop", "d", "timeout: run: x: (pid 4242) Ns\n"),
        ("shutdown", "x", "timeout: run: x: (pid 4242) Ns\n"),
        ("force-restart", "tcuk", "kill: run: x: (pid 4242) Ns\n"),
        ("force-reload", "tck", "kill: run: x: (pid 4242) Ns\n"),
        ("force-stop", "dk", "kill: run: x: (pid 4242) Ns\n"),
        ("force-shutdown", "xk", "kill: run: x: (pid 4242) Ns\n"),
        ("X", "xk", "kill: run: x: (pid 4242) Ns\n"),
        ("Exit", "xk", "kill: run: x: (pid 4242) Ns\n"),
        ("Down", "dk", "kill: run: x: (pid 4242) Ns\n"),
        ("T", "tck", "kill: run: x: (pid 4242) Ns\n"),
    ];
    for (cmd, bytes, line) in waiting {
        let o = run_cmd(sv_cmd(&t).env("SVWAIT", "0").args([cmd, "x"]));
        assert_outcome(&o, 1, line, "");
        assert_eq!(fake.sent(), bytes, "{cmd}");
    }
    // Satisfied at once: reload (h), -v hup, start of a running service, check.
    for args in [
        &["reload", "x"][..],
        &["-v", "hup", "x"],
        &["start", "x"],
        &["check", "x"],
        &["-v", "cont", "x"],
    ] {
        let o = sv(&t, args);
        assert_outcome(&o, 0, "ok: run: x: (pid 4242) Ns\n", "");
    }
    assert_eq!(fake.sent(), "hhc");
    // The skip rule for d: re-sent after once (want d), not while a TERM is pending.
    fake.set(&record(4242, b'd', RunState::Run, 10));
    assert_outcome(&sv(&t, &["down", "x"]), 0, "", "");
    assert_eq!(fake.sent(), "d");
    let mut term = Status::decode(&record(4242, b'd', RunState::Run, 10)).unwrap();
    term.term = true;
    fake.set(&term.encode());
    assert_outcome(&sv(&t, &["down", "x"]), 0, "", "");
    assert_eq!(fake.sent(), "");
    assert_outcome(&sv(&t, &["up", "x"]), 0, "", "");
    assert_eq!(fake.sent(), "u");
}

#[test]
fn corrupt_and_short_status_files() {
    let t = Tree::new();
    let dir = t.join("x");
    fs::create_dir_all(&dir).unwrap();
    let good = record(77, b'u', RunState::Run, 0);
    let fake = Fake::new(&dir, &good);
    let bad_format = "warning: x: unable to read supervise/status: bad format\n";
    let mut bad_state = good;
    bad_state[19] = 9;
    for bytes in [&good[..18], &good[..5], &[][..], &bad_state[..]] {
        fake.set(bytes);
        assert_outcome(&sv(&t, &["status", "x"]), 1, bad_format, "");
        assert_outcome(&sv(&t, &["up", "x"]), 1, bad_format, "");
    }
    fs::remove_file(dir.join("supervise/status")).unwrap();
    let o = sv(&t, &["status", "x"]);
    assert_outcome(
        &o,
        1,
        "warning: x: unable to open supervise/status: file does not exist\n",
        "",
    );
    fs::create_dir(dir.join("supervise/status")).unwrap();
    let o = sv(&t, &["status", "x"]);
    assert_outcome(
        &o,
        1,
        "warning: x: unable to read supervise/status: is a directory\n",
        "",
    );
}

#[test]
fn runsv_not_running() {
    let t = Tree::new();
    let dir = t.join("x");
    fs::create_dir_all(dir.join("supervise")).unwrap();
    fifo(&dir.join("supervise/ok"));
    fs::write(
        dir.join("supervise/status"),
        record(0, b'd', RunState::Down, 1),
    )
    .unwrap();
    assert_outcome(
        &sv(&t, &["status", "x"]),
        1,
        "fail: x: runsv not running\n",
        "",
    );
    assert_outcome(
        &sv(&t, &["-v", "up", "x"]),
        1,
        "fail: x: runsv not running\n",
        "",
    );
    // For exit/shutdown that is the goal, not a failure.
    assert_outcome(&sv(&t, &["exit", "x"]), 0, "ok: x: runsv not running\n", "");
    assert_outcome(
        &sv(&t, &["shutdown", "x"]),
        0,
        "ok: x: runsv not running\n",
        "",
    );
    // LSB status: the fail line and exit 1 (runit 2.1.2 and 2.3.0 alike).
    let lsb = lsb_link(&t, "x");
    let o = run_cmd(Command::new(&lsb).env("SVDIR", t.path()).arg("status"));
    assert_outcome(&o, 1, "fail: x: runsv not running\n", "");
}

#[test]
fn non_utf8_names_pass_through() {
    let t = Tree::new();
    let name = OsString::from_vec(b"sv\xff\xfe".to_vec());
    let dir = t.path().join(&name);
    fs::create_dir_all(&dir).unwrap();
    let _fake = Fake::new(&dir, &record(99, b'u', RunState::Run, 0));
    let out = sv_cmd(&t).arg("status").arg(&name).output().unwrap();
    let mut want = b"run: sv\xff\xfe: (pid 99) ".to_vec();
    assert!(out.stdout.starts_with(&want), "{:?}", out);
    assert!(out.stdout.ends_with(b"s\n"));
    assert_eq!(out.status.code(), Some(0));
    let missing = OsString::from_vec(b"no\xc0pe".to_vec());
    let out = sv_cmd(&t).arg("up").arg(&missing).output().unwrap();
    want = b"fail: no\xc0pe: unable to change to service directory: file does not exist\n".to_vec();
    assert_eq!(out.stdout, want);
    assert_eq!(out.status.code(), Some(1));
}

// ---------------------------------------------------------------------------------------
// Status lines against a real runsv

fn wait_status(t: &Tree, args: &[&str], want: &str) -> Outcome {
    let mut last = None;
    let ok = wait_for(DEADLINE, || {
        let o = sv(t, args);
        let hit = norm(&o.stdout) == want;
        last = Some(o);
        hit
    });
    let o = last.unwrap();
    assert!(ok, "wanted {want:?}, last {o:?}");
    o
}

#[test]
fn status_lines_with_log() {
    let t = Tree::new();
    let dir = sleeper(&t, "x");
    with_log(&dir);
    let _runsv = start_runsv(&dir);
    let pid = wait_running(&dir);
    let log = wait_running(&dir.join("log"));
    let line = format!("run: x: (pid {pid}) Ns; run: log: (pid {log}) Ns\n");
    let o = wait_status(&t, &["status", "x"], &line);
    assert_eq!((o.code, o.stderr.as_str()), (Some(0), ""));
    // Any s-word is status; -v does not make status wait.
    assert_outcome(&sv(&t, &["-v", "stat", "x"]), 0, &line, "");
    assert_outcome(
        &sv(&t, &["s", "./x"]),
        0,
        &line.replace("run: x:", "run: ./x:"),
        "",
    );

    assert_outcome(
        &sv(&t, &["-v", "pause", "x"]),
        0,
        &format!("ok: run: x: (pid {pid}) Ns, paused\n"),
        "",
    );
    assert_outcome(
        &sv(&t, &["status", "x"]),
        0,
        &format!("run: x: (pid {pid}) Ns, paused; run: log: (pid {log}) Ns\n"),
        "",
    );
    assert_outcome(
        &sv(&t, &["-v", "cont", "x"]),
        0,
        &format!("ok: run: x: (pid {pid}) Ns\n"),
        "",
    );
    assert_outcome(
        &sv(&t, &["-v", "down", "x"]),
        0,
        "ok: down: x: Ns, normally up\n",
        "",
    );
    assert_outcome(
        &sv(&t, &["status", "x"]),
        0,
        &format!("down: x: Ns, normally up; run: log: (pid {log}) Ns\n"),
        "",
    );
    let o = sv(&t, &["-v", "once", "x"]);
    assert_eq!(o.code, Some(0));
    let once = wait_running(&dir);
    assert_eq!(
        norm(&o.stdout),
        format!("ok: run: x: (pid {once}) Ns, want down\n")
    );
    // Two services, in order.
    let o = sv(&t, &["status", "x", "missing"]);
    assert_outcome(
        &o,
        1,
        &format!(
            "run: x: (pid {once}) Ns, want down; run: log: (pid {log}) Ns\nfail: missing: unable to change to service directory: file does not exist\n"
        ),
        "",
    );
}

#[test]
fn status_lines_normally_down_got_term_want_up() {
    let t = Tree::new();
    let dir = t.service("x", "trap '' TERM\nexec sleep 1000");
    fs::write(dir.join("down"), "").unwrap();
    let _runsv = start_runsv(&dir);
    assert_outcome(&sv(&t, &["status", "x"]), 0, "down: x: Ns\n", "");
    let o = sv(&t, &["start", "x"]);
    let pid = wait_running(&dir);
    assert_outcome(
        &o,
        0,
        &format!("ok: run: x: (pid {pid}) Ns, normally down\n"),
        "",
    );
    // TERM is ignored: want down with a pending TERM, and the wait times out.
    let o = sv(&t, &["-w", "1", "down", "x"]);
    assert_outcome(
        &o,
        1,
        &format!("timeout: run: x: (pid {pid}) Ns, normally down, want down, got TERM\n"),
        "",
    );
    assert_outcome(
        &sv(&t, &["status", "x"]),
        0,
        &format!("run: x: (pid {pid}) Ns, normally down, want down, got TERM\n"),
        "",
    );
    // A service that cannot start: down, but want up.
    let t2 = Tree::new();
    let bad = t2.join("bad");
    fs::create_dir_all(&bad).unwrap();
    fs::write(bad.join("run"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(bad.join("run"), fs::Permissions::from_mode(0o644)).unwrap();
    let _runsv2 = start_runsv(&bad);
    wait_status(
        &t2,
        &["status", "bad"],
        "down: bad: Ns, normally up, want up\n",
    );
}

#[test]
fn status_log_trouble() {
    let t = Tree::new();
    let dir = sleeper(&t, "x");
    let _runsv = start_runsv(&dir);
    let pid = wait_running(&dir);
    assert_outcome(
        &sv(&t, &["status", "x"]),
        0,
        &format!("run: x: (pid {pid}) Ns\n"),
        "",
    );
    // log/ made after runsv started: only the warning, not the main record again.
    fs::create_dir(dir.join("log")).unwrap();
    let o = sv(&t, &["status", "x"]);
    assert_outcome(
        &o,
        1,
        &format!("run: x: (pid {pid}) Ns; warning: x/log: unable to open supervise/ok: file does not exist\n"),
        "",
    );
    fs::remove_dir(dir.join("log")).unwrap();
    fs::write(dir.join("log"), "").unwrap();
    let o = sv(&t, &["status", "x"]);
    assert_outcome(
        &o,
        1,
        &format!(
            "run: x: (pid {pid}) Ns; warning: x/log: unable to change directory: not a directory\n"
        ),
        "",
    );
    // An unexaminable down file: stderr warning, no status text, not counted.
    std::os::unix::fs::symlink("down", dir.join("down")).unwrap();
    let o = sv(&t, &["status", "x"]);
    let err = "warning: unable to stat x/down: symbolic link loop\n";
    assert_outcome(
        &o,
        1,
        "; warning: x/log: unable to change directory: not a directory\n",
        err,
    );
    fs::remove_file(dir.join("log")).unwrap();
    assert_outcome(&sv(&t, &["status", "x"]), 0, "\n", err);
}

// ---------------------------------------------------------------------------------------
// The wait phase

/// Waits until the current run of `dir` has lasted over a second, so runsv's restart
/// throttle (a blocking 1 s sleep after short runs) does not apply to the next restart.
fn settle(dir: &Path) -> u32 {
    let pid = wait_running(dir);
    wait_until("a run older than 1 s", || {
        status(dir)
            .is_some_and(|s| s.pid == pid && Tai64n::now().unix_secs() - s.stamp.unix_secs() >= 2)
    });
    pid
}

#[test]
fn restart_prints_the_new_pid_quickly() {
    let t = Tree::new();
    let dir = sleeper(&t, "x");
    let _runsv = start_runsv(&dir);
    let old = settle(&dir);
    let begin = Instant::now();
    let o = sv(&t, &["-w", "7", "restart", "x"]);
    let took = begin.elapsed();
    let new = wait_running(&dir);
    assert_ne!(old, new);
    assert_outcome(&o, 0, &format!("ok: run: x: (pid {new}) Ns\n"), "");
    assert!(!alive(old));
    // runit polls every 420 ms; the event-driven wait must be far below that.
    assert!(
        took < Duration::from_millis(300),
        "sv restart took {took:?}"
    );
}

#[test]
fn once_and_term_wait_for_runsv() {
    let t = Tree::new();
    let dir = sleeper(&t, "x");
    fs::write(dir.join("down"), "").unwrap();
    let _runsv = start_runsv(&dir);
    // -v once on a down service must not report the old down record.
    let o = sv(&t, &["-v", "once", "x"]);
    let pid = wait_running(&dir);
    assert_outcome(
        &o,
        0,
        &format!("ok: run: x: (pid {pid}) Ns, normally down, want down\n"),
        "",
    );
    let pid = settle(&dir);
    let o = sv(&t, &["-v", "term", "x"]);
    // want is down after once: term stops it for good.
    assert_outcome(&o, 0, "ok: down: x: Ns\n", "");
    assert!(!alive(pid));
    let o = sv(&t, &["up", "x"]);
    assert_outcome(&o, 0, "", "");
    let pid = settle(&dir);
    let o = sv(&t, &["-v", "term", "x"]);
    let new = wait_running(&dir);
    assert_ne!(pid, new);
    assert_outcome(
        &o,
        0,
        &format!("ok: run: x: (pid {new}) Ns, normally down\n"),
        "",
    );
}

#[test]
fn force_stop_kills_a_service_ignoring_term() {
    let t = Tree::new();
    let dir = t.service("x", "trap '' TERM\nexec sleep 1000");
    let _runsv = start_runsv(&dir);
    let pid = wait_running(&dir);
    wait_service_program(pid, nix::libc::SIGTERM);
    let o = sv(&t, &["-w", "1", "force-stop", "x"]);
    assert_outcome(
        &o,
        1,
        &format!("kill: run: x: (pid {pid}) Ns, want down, got TERM\n"),
        "",
    );
    wait_until("killed", || {
        !alive(pid) && status(&dir).is_some_and(|s| s.pid == 0)
    });
    assert_outcome(
        &sv(&t, &["status", "x"]),
        0,
        "down: x: Ns, normally up\n",
        "",
    );
}

#[test]
fn exit_waits_until_runsv_is_gone() {
    let t = Tree::new();
    let dir = sleeper(&t, "x");
    let mut runsv = start_runsv(&dir);
    wait_running(&dir);
    let begin = Instant::now();
    let o = sv(&t, &["-v", "exit", "x"]);
    assert_outcome(&o, 0, "ok: x: runsv not running\n", "");
    assert!(begin.elapsed() < Duration::from_secs(5));
    assert_eq!(runsv.wait_exit(), Some(0));
    assert_outcome(
        &sv(&t, &["shutdown", "x"]),
        0,
        "ok: x: runsv not running\n",
        "",
    );
}

#[test]
fn check_script_is_rerun_until_it_passes() {
    let t = Tree::new();
    let dir = sleeper(&t, "x");
    fs::write(dir.join("down"), "").unwrap();
    script(
        &dir.join("check"),
        "n=$(cat count 2>/dev/null || echo 0)\nn=$((n + 1))\necho $n >count\n[ $n -ge 3 ]",
    );
    let _runsv = start_runsv(&dir);
    let o = sv(&t, &["start", "x"]);
    let pid = wait_running(&dir);
    assert_outcome(
        &o,
        0,
        &format!("ok: run: x: (pid {pid}) Ns, normally down\n"),
        "",
    );
    assert_eq!(fs::read_to_string(dir.join("count")).unwrap(), "3\n");
    // 2.3.0 `check`: a service that wants up but is down is waited for, not passed.
    assert_outcome(&sv(&t, &["-v", "down", "x"]), 0, "ok: down: x: Ns\n", "");
    assert_outcome(&sv(&t, &["check", "x"]), 0, "ok: down: x: Ns\n", "");
    // A check that never passes: timeout with the run line.
    script(&dir.join("check"), "exit 1");
    let o = sv(&t, &["-w", "1", "start", "x"]);
    let pid = wait_running(&dir);
    assert_outcome(
        &o,
        1,
        &format!("timeout: run: x: (pid {pid}) Ns, normally down\n"),
        "",
    );
    let o = sv(&t, &["-w", "1", "check", "x"]);
    assert_outcome(
        &o,
        1,
        &format!("timeout: run: x: (pid {pid}) Ns, normally down\n"),
        "",
    );
}

#[test]
fn check_waits_for_the_wanted_state() {
    let t = Tree::new();
    let dir = t.join("x");
    fs::create_dir_all(&dir).unwrap();
    let mut fake = Fake::new(&dir, &record(0, b'u', RunState::Down, 3));
    // Wants up but is down: 2.1.2 said ok, 2.3.0 (and we) wait and time out.
    let o = sv(&t, &["-w", "1", "check", "x"]);
    assert_outcome(&o, 1, "timeout: down: x: Ns, normally up, want up\n", "");
    // Wants down and is down: ok; nothing is ever sent.
    fake.set(&record(0, b'd', RunState::Down, 3));
    assert_outcome(
        &sv(&t, &["check", "x"]),
        0,
        "ok: down: x: Ns, normally up\n",
        "",
    );
    assert_eq!(fake.sent(), "");
}

#[test]
fn check_exec_failure_passes_and_stdout_is_closed() {
    let t = Tree::new();
    let dir = sleeper(&t, "x");
    fs::write(dir.join("check"), "#!/bin/sh\nexit 1\n").unwrap();
    fs::set_permissions(dir.join("check"), fs::Permissions::from_mode(0o644)).unwrap();
    let _runsv = start_runsv(&dir);
    let pid = wait_running(&dir);
    let o = sv(&t, &["check", "x"]);
    assert_outcome(
        &o,
        0,
        &format!("ok: run: x: (pid {pid}) Ns\n"),
        "warning: unable to run x/check: access denied\n",
    );
    // The check runs without stdout: it fails if fd 1 is open.
    script(&dir.join("check"), "[ -e /proc/$$/fd/1 ] && exit 1\nexit 0");
    let o = sv(&t, &["check", "x"]);
    assert_outcome(&o, 0, &format!("ok: run: x: (pid {pid}) Ns\n"), "");
}

#[test]
fn stdout_closed_is_no_crash() {
    let t = Tree::new();
    let dir = sleeper(&t, "x");
    let _runsv = start_runsv(&dir);
    let old = settle(&dir);
    let run = |args: &[&str]| {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg("exec \"$0\" \"$@\" >&-")
            .arg(applet("sv"))
            .args(args)
            .env("SVDIR", t.path());
        run_cmd(&mut c)
    };
    assert_outcome(&run(&["status", "x"]), 0, "", "");
    assert_outcome(&run(&["-v", "restart", "x"]), 0, "", "");
    let new = wait_running(&dir);
    assert_ne!(old, new);
    assert_outcome(&run(&["status", "nosuch"]), 1, "", "");
}

#[test]
fn names_with_slashes_are_relative_to_cwd() {
    let t = Tree::new();
    let dir = sleeper(&t, "x");
    fs::write(dir.join("down"), "").unwrap();
    let _runsv = start_runsv(&dir);
    let elsewhere = Tree::new();
    let run = |args: &[&str]| {
        run_cmd(
            Command::new(applet("sv"))
                .args(args)
                .current_dir(t.path())
                .env("SVDIR", elsewhere.path()),
        )
    };
    assert_outcome(
        &run(&["status", "x"]),
        1,
        "fail: x: unable to change to service directory: file does not exist\n",
        "",
    );
    assert_outcome(&run(&["status", "x/"]), 0, "down: x/: Ns\n", "");
    // The wait phase resolves the name the same way (runit 2.1.2 did not, §9 item 16).
    let o = run(&["-v", "up", "x/"]);
    let pid = wait_running(&dir);
    assert_outcome(
        &o,
        0,
        &format!("ok: run: x/: (pid {pid}) Ns, normally down\n"),
        "",
    );
    assert_outcome(&run(&["-v", "down", "./x"]), 0, "ok: down: ./x: Ns\n", "");
}

// ---------------------------------------------------------------------------------------
// LSB init-script mode

/// `TREE/init.d/NAME` -> our binary.
fn lsb_link(t: &Tree, name: &str) -> PathBuf {
    let dir = t.join("init.d");
    fs::create_dir_all(&dir).unwrap();
    let link = dir.join(name);
    if !link.exists() {
        std::os::unix::fs::symlink(svbox(), &link).unwrap();
    }
    link
}

fn lsb(t: &Tree, name: &str, args: &[&str]) -> Outcome {
    run_cmd(
        Command::new(lsb_link(t, name))
            .args(args)
            .env("SVDIR", t.path())
            .env_remove("SVWAIT")
            .current_dir(t.path()),
    )
}

#[test]
fn lsb_mode() {
    let t = Tree::new();
    let dir = sleeper(&t, "foo");
    with_log(&dir);
    let lsb_usage = "usage: foo [-w sec] command\n\n";
    assert_outcome(&lsb(&t, "foo", &[]), 2, "", lsb_usage);
    assert_outcome(&lsb(&t, "foo", &["stat"]), 2, "", lsb_usage);
    assert_outcome(&lsb(&t, "foo", &["bogus"]), 2, "", lsb_usage);
    assert_outcome(
        &lsb(&t, "foo", &["-V", "status"]),
        2,
        "",
        &format!("$Id: 900314260c6d52c986c5357673bea2f3bd3f4698 $\n{lsb_usage}"),
    );
    // Not supervised yet: status unknown.
    assert_outcome(
        &lsb(&t, "foo", &["status"]),
        4,
        "warning: foo: unable to open supervise/ok: file does not exist\n",
        "",
    );
    let _runsv = start_runsv(&dir);
    let pid = wait_running(&dir);
    let log = wait_running(&dir.join("log"));
    // Extra operands are ignored; the service is the program name.
    let o = lsb(&t, "foo", &["status", "ignored"]);
    assert_outcome(
        &o,
        0,
        &format!("run: foo: (pid {pid}) Ns; run: log: (pid {log}) Ns\n"),
        "",
    );
    assert_outcome(
        &lsb(&t, "foo", &["stop"]),
        0,
        "ok: down: foo: Ns, normally up\n",
        "",
    );
    // Main down, log up: 3 (from the main service, 2.3.0).
    assert_outcome(
        &lsb(&t, "foo", &["status"]),
        3,
        &format!("down: foo: Ns, normally up; run: log: (pid {log}) Ns\n"),
        "",
    );
    let o = lsb(&t, "foo", &["start"]);
    let pid = wait_running(&dir);
    assert_outcome(&o, 0, &format!("ok: run: foo: (pid {pid}) Ns\n"), "");
    // Main up, log down: 0 (2.1.2 said 3).
    assert_outcome(
        &sv(&t, &["-v", "down", "foo/log"]),
        0,
        "ok: down: foo/log: Ns, normally up\n",
        "",
    );
    assert_outcome(
        &lsb(&t, "foo", &["status"]),
        0,
        &format!("run: foo: (pid {pid}) Ns; down: log: Ns, normally up\n"),
        "",
    );
    // An unexaminable down file: 4.
    std::os::unix::fs::symlink("down", dir.join("down")).unwrap();
    let o = lsb(&t, "foo", &["status"]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            Some(4),
            "warning: unable to stat foo/down: symbolic link loop\n"
        ),
        "{o:?}"
    );
}

#[test]
fn lsb_name_other_than_sv_by_svbox_dispatch() {
    // `svbox sv` is sv proper, not LSB mode.
    let t = Tree::new();
    let o = run_cmd(
        Command::new(svbox())
            .args(["sv", "status", "nosuch"])
            .env("SVDIR", t.path()),
    );
    assert_outcome(
        &o,
        1,
        "fail: nosuch: unable to change to service directory: file does not exist\n",
        "",
    );
}

// ---------------------------------------------------------------------------------------
// Byte-for-byte agreement with runit's sv on the same records

#[test]
fn status_output_matches_runit_sv() {
    if !peers::available() {
        return;
    }
    let t = Tree::new();
    let mk = |name: &str, pid: u32, paused: bool, want: u8, term: bool, state: RunState| {
        let dir = t.join(name);
        fs::create_dir_all(&dir).unwrap();
        let mut st = Status::decode(&record(pid, want, state, 4)).unwrap();
        st.paused = paused;
        st.term = term;
        (dir.clone(), st.encode())
    };
    let mut fakes = Vec::new();
    let cases = [
        mk("run", 123, false, b'u', false, RunState::Run),
        mk("busy", 124, true, b'd', true, RunState::Run),
        mk("finish", 0, false, b'u', false, RunState::Finish),
        mk("finpid", 125, false, b'd', false, RunState::Finish),
        mk("downup", 0, false, b'u', false, RunState::Down),
        mk("downdown", 0, true, b'd', true, RunState::Down),
        mk("withdown", 126, false, b'u', false, RunState::Run),
        mk("withlog", 127, false, b'u', false, RunState::Run),
        mk("short", 1, false, b'u', false, RunState::Run),
    ];
    for (dir, rec) in &cases {
        fakes.push(Fake::new(dir, rec));
    }
    fs::write(t.join("withdown/down"), "").unwrap();
    fs::write(t.join("downdown/down"), "").unwrap();
    fs::create_dir_all(t.join("withlog/log")).unwrap();
    fakes.push(Fake::new(
        &t.join("withlog/log"),
        &record(0, b'd', RunState::Down, 9),
    ));
    fakes[8].set(&record(1, b'u', RunState::Run, 0)[..18]);
    // Unsupervised, not running, a log that is a file, a missing service.
    fs::create_dir_all(t.join("bare")).unwrap();
    fs::create_dir_all(t.join("dead/supervise")).unwrap();
    fifo(&t.join("dead/supervise/ok"));
    let logfile = mk("logfile", 128, false, b'u', false, RunState::Run);
    fakes.push(Fake::new(&logfile.0, &logfile.1));
    fs::write(t.join("logfile/log"), "").unwrap();

    let names = [
        "run",
        "busy",
        "finish",
        "finpid",
        "downup",
        "downdown",
        "withdown",
        "withlog",
        "short",
        "bare",
        "dead",
        "logfile",
        "missing",
        "./run",
        "/nonexistent",
    ];
    for cmd in [
        &["status"][..],
        &["up"],
        &["-v", "hup"],
        &["-w0", "pause"],
        &["exit"],
        &["-w0", "once"],
        &["-w0", "term"],
    ] {
        let mut args: Vec<&str> = cmd.to_vec();
        args.extend(names);
        let ours = run_cmd(sv_cmd(&t).args(&args));
        let theirs = run_cmd(
            Command::new(peers::runit("sv"))
                .args(&args)
                .env("SVDIR", t.path())
                .current_dir(t.path()),
        );
        assert_eq!(
            (ours.code, norm(&ours.stdout), ours.stderr.clone()),
            (theirs.code, norm(&theirs.stdout), theirs.stderr.clone()),
            "sv {args:?}"
        );
        for f in fakes.iter_mut() {
            f.sent();
        }
    }
}

// ---------------------------------------------------------------------------------------
// The wake-ups of the wait phase, one at a time (hand-made supervise/)

/// Starts `sv ARGS` with piped output; returns it once `fake` received `bytes`.
fn start_waiting(t: &Tree, fake: &mut Fake, args: &[&str], bytes: &str) -> std::process::Child {
    let child = sv_cmd(t)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut got = String::new();
    wait_until("sv to send its command", || {
        got.push_str(&fake.sent());
        got == bytes
    });
    child
}

/// Waits (bounded) for `child` to exit; returns its code, stdout and how long that took.
fn finish(mut child: std::process::Child) -> (Option<i32>, String, Duration) {
    let begin = Instant::now();
    let mut code = None;
    wait_until("sv to exit", || match child.try_wait().unwrap() {
        Some(s) => {
            code = s.code();
            true
        }
        None => false,
    });
    let took = begin.elapsed();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    (code, norm(&out), took)
}

#[test]
fn a_renamed_status_wakes_the_wait() {
    let t = Tree::new();
    let dir = t.join("x");
    fs::create_dir_all(&dir).unwrap();
    let mut fake = Fake::new(&dir, &record(0, b'd', RunState::Down, 3));
    // An absurd wait must not overflow anything.
    let child = start_waiting(
        &t,
        &mut fake,
        &["-w", "99999999999999999999999", "up", "x"],
        "u",
    );
    fake.replace(&record(555, b'u', RunState::Run, 0));
    let (code, out, took) = finish(child);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "ok: run: x: (pid 555) Ns\n")
    );
    // runit would notice at its next 420 ms poll.
    assert!(took < Duration::from_millis(300), "took {took:?}");
}

#[test]
fn the_exit_of_runsv_wakes_the_wait() {
    let t = Tree::new();
    let dir = t.join("x");
    fs::create_dir_all(&dir).unwrap();
    let mut fake = Fake::new(&dir, &record(555, b'u', RunState::Run, 3));
    let child = start_waiting(&t, &mut fake, &["-w", "60", "exit", "x"], "x");
    // The last reader of supervise/ok goes away, as when runsv exits; no file changes.
    fake.ok = None;
    let (code, out, took) = finish(child);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "ok: x: runsv not running\n")
    );
    assert!(took < Duration::from_millis(300), "took {took:?}");
}

#[test]
fn fatal_when_the_current_directory_cannot_be_opened() {
    use std::os::unix::process::CommandExt;
    let t = Tree::new();
    fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let dir = t.join("noread");
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o111)).unwrap();
    let lsb = lsb_link(&t, "foo");
    let msg = "fatal: unable to open current directory: access denied\n";
    for (program, code) in [(applet("sv"), 100), (lsb, 151)] {
        let mut cmd = Command::new(program);
        cmd.args(["status", "x"])
            .current_dir(&dir)
            .env("SVDIR", t.path());
        if nix::unistd::geteuid().is_root() {
            cmd.uid(65534).gid(65534);
        }
        assert_outcome(&run_cmd(&mut cmd), code, "", msg);
    }
}
