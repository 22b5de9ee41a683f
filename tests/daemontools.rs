//! Our `svc`, `svok` and `svstat` (daemontools 0.76's clients) against our runsv and against
//! supervise/ directories served by the test: every svstat form and error, each svc letter's
//! effect, svc's deduplication and warnings, svok's exit codes.
mod common;
use common::*;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

fn tool(name: &str, args: &[&str], cwd: &Path) -> Outcome {
    run_in(&applet(name), args, cwd)
}

/// Asserts exit code, stdout and stderr of a finished command.
fn expect(out: &Outcome, code: i32, stdout: &str, stderr: &str, what: &str) {
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (Some(code), stdout, stderr),
        "{what}"
    );
}

/// svstat's line for `name` with the elapsed seconds replaced by `S`, and those seconds.
fn svstat(name: &str, cwd: &Path) -> (String, u64) {
    let out = tool("svstat", &[name], cwd);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (Some(0), ""),
        "svstat {name}"
    );
    svstat_shape(out.stdout)
}

/// Waits until svstat prints `want` (`S` standing for the seconds, which must be small).
fn expect_svstat(name: &str, cwd: &Path, want: &str) {
    expect_svstat_shape(&format!("svstat {name}"), want, || svstat(name, cwd));
}

fn svc(flags: &str, name: &str, cwd: &Path) {
    let out = tool("svc", &[flags, name], cwd);
    expect(&out, 0, "", "", &format!("svc {flags} {name}"));
}

fn wait_status(svdir: &Path, what: &str, cond: impl Fn(&Status) -> bool) -> Status {
    let mut last = None;
    wait_until(what, || {
        last = status(svdir);
        last.as_ref().is_some_and(&cond)
    });
    last.unwrap()
}

#[test]
fn svstat_reports_each_state_of_runsv() {
    let t = Tree::new();
    let root = t.path();
    let dir = t.service("s", "exec sleep 1000");
    let _runsv = start_runsv(&dir);
    let pid = wait_running(&dir);
    expect_svstat("s", root, &format!("s: up (pid {pid}) S seconds\n"));

    svc("-p", "s", root);
    expect_svstat("s", root, &format!("s: up (pid {pid}) S seconds, paused\n"));
    svc("-c", "s", root);
    expect_svstat("s", root, &format!("s: up (pid {pid}) S seconds\n"));

    svc("-o", "s", root);
    expect_svstat(
        "s",
        root,
        &format!("s: up (pid {pid}) S seconds, want down\n"),
    );
    svc("-u", "s", root);
    expect_svstat("s", root, &format!("s: up (pid {pid}) S seconds\n"));

    fs::write(dir.join("down"), "").unwrap();
    expect_svstat(
        "s",
        root,
        &format!("s: up (pid {pid}) S seconds, normally down\n"),
    );
    fs::remove_file(dir.join("down")).unwrap();

    svc("-d", "s", root);
    expect_svstat("s", root, "s: down S seconds, normally up\n");
    fs::write(dir.join("down"), "").unwrap();
    expect_svstat("s", root, "s: down S seconds\n");

    // The elapsed time counts from the stamp: wait until it is at least one second old.
    wait_past_stamp(&dir);
    let (_, secs) = svstat("s", root);
    assert!((1..=5).contains(&secs), "elapsed {secs}");
}

#[test]
fn svstat_normally_down_and_want_up() {
    let t = Tree::new();
    let root = t.path();
    let dir = t.service("quiet", "exec sleep 1000");
    fs::write(dir.join("down"), "").unwrap();
    let _runsv = start_runsv(&dir);
    expect_svstat("quiet", root, "quiet: down S seconds\n");
    svc("-u", "quiet", root);
    let pid = wait_running(&dir);
    expect_svstat(
        "quiet",
        root,
        &format!("quiet: up (pid {pid}) S seconds, normally down\n"),
    );

    // A service that keeps failing is down and wants up between attempts.
    let broken = t.service("broken", "exit 1");
    let _runsv2 = start_runsv(&broken);
    expect_svstat(
        "broken",
        root,
        "broken: down S seconds, normally up, want up\n",
    );
    svc("-d", "broken", root);
    expect_svstat("broken", root, "broken: down S seconds, normally up\n");
}

#[test]
fn svstat_shows_a_running_finish_as_up() {
    let t = Tree::new();
    let root = t.path();
    let dir = t.service("f", "exec sleep 1000");
    script(&dir.join("finish"), "exec sleep 1000");
    let _runsv = start_runsv(&dir);
    let run_pid = wait_running(&dir);
    svc("-d", "f", root);
    let st = wait_status(&dir, "finish running", |s| {
        s.state == RunState::Finish && s.pid != 0
    });
    assert_ne!(st.pid, run_pid);
    // daemontools knows no finish: a pid means up, and want is down.
    expect_svstat(
        "f",
        root,
        &format!("f: up (pid {}) S seconds, want down\n", st.pid),
    );
}

#[test]
fn svstat_errors_are_reported_on_the_line_and_exit_0() {
    let t = Tree::new();
    let root = t.path();
    fs::create_dir(t.join("bare")).unwrap();
    fs::create_dir(t.join("file")).unwrap();
    fs::write(t.join("file/supervise"), "").unwrap();
    fs::create_dir(t.join("loop")).unwrap();
    std::os::unix::fs::symlink("down", t.join("loop/down")).unwrap();
    let fake = FakeSupervise::new(&t.join("nostatus"));
    let short = FakeSupervise::new(&t.join("short"));
    short.set_status(b"0123456789");
    let empty = FakeSupervise::new(&t.join("empty"));
    empty.set_status(b"");
    let _isdir = FakeSupervise::new(&t.join("isdir"));
    fs::create_dir(t.join("isdir/supervise/status")).unwrap();

    // supervise not running: runsv has exited and left its FIFOs behind.
    let gone = t.service("gone", "exec sleep 1000");
    let mut runsv = start_runsv(&gone);
    svc("-dx", "gone", root);
    assert_eq!(runsv.wait_exit(), Some(0));

    let out = tool(
        "svstat",
        &[
            "missing", "bare", "file", "loop", "nostatus", "short", "empty", "isdir", "gone", "-x",
        ],
        root,
    );
    expect(
        &out,
        0,
        "missing: unable to chdir: file does not exist\n\
         bare: unable to open supervise/ok: file does not exist\n\
         file: unable to open supervise/ok: not a directory\n\
         loop: unable to stat down: symbolic link loop\n\
         nostatus: unable to open supervise/status: file does not exist\n\
         short: unable to read supervise/status: bad format\n\
         empty: unable to read supervise/status: bad format\n\
         isdir: unable to read supervise/status: is a directory\n\
         gone: supervise not running\n\
         -x: unable to chdir: file does not exist\n",
        "",
        "svstat on broken directories",
    );
    drop(fake);

    expect(
        &tool("svstat", &[], root),
        0,
        "",
        "",
        "svstat without arguments",
    );
}

#[test]
fn svstat_reads_daemontools_18_byte_records() {
    let t = Tree::new();
    let root = t.path();
    let fake = FakeSupervise::new(&t.join("dt"));
    let now = unix_now() as i64;

    fake.set_status(&daemontools_record(now - 100, 4242, true, b'd'));
    let (line, secs) = svstat("dt", root);
    assert_eq!(line, "dt: up (pid 4242) S seconds, paused, want down\n");
    assert!((100..=105).contains(&secs), "elapsed {secs}");

    fs::write(t.join("dt/down"), "").unwrap();
    assert_eq!(
        svstat("dt", root).0,
        "dt: up (pid 4242) S seconds, normally down, paused, want down\n"
    );
    // After `o` daemontools writes want 0: no want is shown.
    fake.set_status(&daemontools_record(now, 7, false, 0));
    expect_svstat("dt", root, "dt: up (pid 7) S seconds, normally down\n");
    fs::remove_file(t.join("dt/down")).unwrap();

    // A stamp in the future counts as 0 seconds; paused is ignored while down.
    fake.set_status(&daemontools_record(now + 1000, 0, true, b'u'));
    let out = tool("svstat", &["dt"], root);
    expect(
        &out,
        0,
        "dt: down 0 seconds, normally up, want up\n",
        "",
        "future stamp",
    );

    // A longer (runit) record is read by its first 18 bytes alike.
    let mut runit = daemontools_record(now, 99, false, b'u');
    runit.extend_from_slice(&[1, 2]);
    fake.set_status(&runit);
    expect_svstat("dt", root, "dt: up (pid 99) S seconds\n");

    // An all-zero record: daemontools' age through a double, rounded to 1024 s.
    fake.set_status(&[0; 18]);
    let (line, secs) = svstat("dt", root);
    assert_eq!(line, "dt: down S seconds, normally up\n");
    let exact = 0x4000_0000_0000_000a_u64 + unix_now();
    assert_eq!(secs % 1024, 0, "{secs}");
    assert!(secs.abs_diff(exact) <= 1024, "{secs} vs {exact}");
}

#[test]
fn svstat_passes_names_through_and_survives_a_closed_stdout() {
    let t = Tree::new();
    let out = Command::new(applet("svstat"))
        .arg(OsStr::from_bytes(b"\xff\xfe"))
        .current_dir(t.path())
        .output()
        .unwrap();
    assert_eq!(
        out.stdout,
        b"\xff\xfe: unable to chdir: file does not exist\n"
    );
    assert_eq!(out.status.code(), Some(0));

    let closed = run_cmd(
        Command::new("sh")
            .arg("-c")
            .arg("\"$0\" missing >&-; echo \"rc=$?\" >&2")
            .arg(applet("svstat"))
            .current_dir(t.path()),
    );
    assert_eq!(closed.stderr, "rc=0\n", "svstat with stdout closed");
}

#[test]
fn svc_letters_take_effect_in_runsv() {
    let t = Tree::new();
    let root = t.path();
    let dir = t.service(
        "s",
        "for s in HUP ALRM INT; do trap \"echo $s >>signals\" $s; done\n\
         trap 'kill $!; exit 0' TERM\n\
         echo $$ >ready\n\
         while :; do sleep 1000 & wait $!; done",
    );
    let signals = dir.join("signals");
    let got = || fs::read_to_string(&signals).unwrap_or_default();
    let mut runsv = start_runsv(&dir);
    let pid = wait_running(&dir);
    // A signal before the traps are set would kill the shell instead.
    wait_until("traps set", || {
        fs::read_to_string(dir.join("ready")).is_ok_and(|r| r.trim() == pid.to_string())
    });

    for (letter, name) in [("-h", "HUP"), ("-a", "ALRM"), ("-i", "INT")] {
        svc(letter, "s", root);
        wait_until(&format!("{name} delivered"), || {
            got().lines().any(|l| l == name)
        });
    }
    assert_eq!(
        status(&dir).unwrap().pid,
        pid,
        "hup/alrm/int keep the process"
    );

    svc("-p", "s", root);
    wait_status(&dir, "paused", |s| s.paused && s.pid == pid);
    svc("-c", "s", root);
    wait_status(&dir, "continued", |s| !s.paused && s.pid == pid);

    svc("-t", "s", root);
    let st = wait_status(&dir, "restart after TERM", |s| {
        s.state == RunState::Run && s.pid != 0 && s.pid != pid
    });
    svc("-k", "s", root);
    let st = wait_status(&dir, "restart after KILL", |s| {
        s.state == RunState::Run && s.pid != 0 && s.pid != st.pid
    });
    assert!(!alive(pid));

    svc("-o", "s", root);
    wait_status(&dir, "once", |s| s.want == b'd' && s.pid == st.pid);
    svc("-d", "s", root);
    wait_status(&dir, "down", |s| {
        s.state == RunState::Down && s.want == b'd'
    });
    svc("-u", "s", root);
    let st = wait_status(&dir, "up", |s| s.state == RunState::Run && s.pid != 0);

    // Letters are sent in the order given: down, then exit.
    svc("-dx", "s", root);
    assert_eq!(runsv.wait_exit(), Some(0), "{}", runsv.stderr());
    assert!(!alive(st.pid));
}

#[test]
fn svc_sends_each_letter_once_in_order_of_first_appearance() {
    let t = Tree::new();
    let root = t.path();
    let fake = FakeSupervise::new(&t.join("f"));
    let out = tool("svc", &["-tcutc", "-uuu", "-d", "-xkk", "f"], root);
    expect(&out, 0, "", "", "svc with repeated letters");
    assert_eq!(fake.received(), b"tcudxk");

    let all = "-udopchaitkxudopchaitkxudopchaitkx";
    expect(
        &tool("svc", &[all, "f"], root),
        0,
        "",
        "",
        "svc all letters",
    );
    assert_eq!(fake.received(), b"udopchaitkx", "max 20, dedup");

    expect(&tool("svc", &["f"], root), 0, "", "", "svc without letters");
    assert_eq!(fake.received(), b"");

    // `--` ends the options; the same letters go to every directory.
    let other = FakeSupervise::new(&t.join("-u"));
    expect(
        &tool("svc", &["-h", "--", "-u", "f"], root),
        0,
        "",
        "",
        "svc --",
    );
    assert_eq!(
        (other.received(), fake.received()),
        (b"h".to_vec(), b"h".to_vec())
    );
}

#[test]
fn svc_warns_per_directory_and_exits_0() {
    let t = Tree::new();
    let root = t.path();
    fs::create_dir(t.join("bare")).unwrap();
    fs::create_dir_all(t.join("notrunning/supervise")).unwrap();
    nix::unistd::mkfifo(
        &t.join("notrunning/supervise/control"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    fs::create_dir_all(t.join("isdir/supervise/control")).unwrap();
    let good = FakeSupervise::new(&t.join("good"));
    let out = tool(
        "svc",
        &["-u", "missing", "bare", "notrunning", "isdir", "good"],
        root,
    );
    expect(
        &out,
        0,
        "",
        "svc: warning: unable to chdir to missing: file does not exist\n\
         svc: warning: unable to control bare: file does not exist\n\
         svc: warning: unable to control notrunning: supervise not running\n\
         svc: warning: unable to control isdir: is a directory\n",
        "svc on broken directories",
    );
    assert_eq!(
        good.received(),
        b"u",
        "the good directory still got its letter"
    );
}

/// daemontools' svc blocks forever on a supervisor that stopped reading; ours reports it.
#[test]
fn svc_does_not_hang_on_a_full_control_fifo() {
    let t = Tree::new();
    let root = t.path();
    let fake = FakeSupervise::new(&t.join("stuck"));
    let writer = svbox::fsio::open_write(t.join("stuck/supervise/control").as_path()).unwrap();
    while rustix::io::write(&writer, &[b'c'; 4096]).is_ok() {}
    let out = tool("svc", &["-u", "stuck"], root);
    expect(
        &out,
        0,
        "",
        "svc: warning: error writing commands to stuck: temporary failure\n",
        "svc on a full FIFO",
    );
    assert!(!fake.received().contains(&b'u'));
}

#[test]
fn svc_bad_option_prints_the_summary_exits_100_and_sends_nothing() {
    let t = Tree::new();
    let root = t.path();
    let fake = FakeSupervise::new(&t.join("f"));
    let summary = "svc options: u up, d down, o once, x exit, p pause, c continue, \
                   h hup, a alarm, i interrupt, t term, k kill\n";
    // q, 1 and 2 are runit's letters, unknown to daemontools' svc.
    for bad in ["-q", "-1", "-uq", "-2"] {
        let out = tool("svc", &[bad, "f"], root);
        let c = bad.chars().last().unwrap();
        expect(
            &out,
            100,
            "",
            &format!("svc: illegal option -- {c}\n{summary}"),
            bad,
        );
    }
    assert_eq!(fake.received(), b"", "nothing sent after a bad option");
    // Called through a path, the message names the basename.
    let out = run_in(&applet("svc"), &["-z"], root);
    assert!(out.stderr.starts_with("svc: illegal option -- z\n"));
}

#[test]
fn svok_exit_codes_and_messages() {
    let t = Tree::new();
    let root = t.path();
    expect(
        &tool("svok", &[], root),
        100,
        "",
        "svok: usage: svok dir\n",
        "svok without arguments",
    );
    expect(
        &tool("svok", &["missing"], root),
        111,
        "",
        "svok: fatal: unable to chdir to missing: file does not exist\n",
        "missing dir",
    );
    fs::create_dir(t.join("bare")).unwrap();
    expect(&tool("svok", &["bare"], root), 100, "", "", "no supervise/");
    fs::create_dir(t.join("file")).unwrap();
    fs::write(t.join("file/supervise"), "").unwrap();
    expect(
        &tool("svok", &["file"], root),
        111,
        "",
        "svok: fatal: unable to open file/supervise/ok: not a directory\n",
        "supervise is a file",
    );
    fs::create_dir_all(t.join("okdir/supervise/ok")).unwrap();
    expect(
        &tool("svok", &["okdir"], root),
        111,
        "",
        "svok: fatal: unable to open okdir/supervise/ok: is a directory\n",
        "ok is a directory",
    );

    let dir = t.service("s", "exec sleep 1000");
    let mut runsv = start_runsv(&dir);
    expect(&tool("svok", &["s"], root), 0, "", "", "runsv running");
    expect(
        &tool("svok", &["s", "missing"], root),
        0,
        "",
        "",
        "extra args",
    );
    svc("-dx", "s", root);
    assert_eq!(runsv.wait_exit(), Some(0));
    expect(&tool("svok", &["s"], root), 100, "", "", "runsv gone");
}
