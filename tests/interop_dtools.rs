//! Our `svc`, `svok` and `svstat` against daemontools 0.76's (Debian): the same command in the
//! same state must give the same stdout, stderr and exit code (elapsed seconds ±1), against
//! our runsv and against daemontools' own `supervise`, and on broken or hand-made
//! `supervise/` directories; the letters svc sends must be the same bytes.
mod common;
use common::*;

use std::fs;
use std::path::{Path, PathBuf};

fn ours(tool: &str) -> PathBuf {
    applet(tool)
}

fn theirs(tool: &str) -> PathBuf {
    peers::daemontools(tool)
}

/// Runs `tool args` in `cwd` with both implementations and asserts the same outcome.
fn same(tool: &str, args: &[&str], cwd: &Path, step: &str) -> Outcome {
    let (a, b) = (ours(tool), theirs(tool));
    let oa = run_in(&a, args, cwd);
    let ob = run_in(&b, args, cwd);
    assert_same_outcome(step, (&a, &oa), (&b, &ob));
    oa
}

/// As `same`, for a live service whose state may move between the two runs (a restart):
/// retries until both agree, then fails with the last pair.
fn same_settled(tool: &str, args: &[&str], cwd: &Path, step: &str) -> Outcome {
    let (a, b) = (ours(tool), theirs(tool));
    let mut last = None;
    let agreed = wait_for(DEADLINE, || {
        let oa = run_in(&a, args, cwd);
        let ob = run_in(&b, args, cwd);
        let eq = oa.code == ob.code
            && same_but_seconds(&oa.stdout, &ob.stdout)
            && same_but_seconds(&oa.stderr, &ob.stderr);
        last = Some((oa, ob));
        eq
    });
    let (oa, ob) = last.unwrap();
    if !agreed {
        assert_same_outcome(step, (&a, &oa), (&b, &ob));
    }
    oa
}

/// `svc args` with both tools on a fake supervise: same outcome and the same bytes sent.
fn same_svc(args: &[&str], cwd: &Path, fake: &FakeSupervise, step: &str) {
    fake.received();
    let oa = run_in(&ours("svc"), args, cwd);
    let sent_a = fake.received();
    let ob = run_in(&theirs("svc"), args, cwd);
    let sent_b = fake.received();
    assert_same_outcome(step, (&ours("svc"), &oa), (&theirs("svc"), &ob));
    assert_eq!(
        String::from_utf8_lossy(&sent_a),
        String::from_utf8_lossy(&sent_b),
        "{step}: bytes sent"
    );
}

#[test]
fn broken_and_hand_made_directories() {
    if !peers::available() {
        return;
    }
    let t = Tree::new();
    let root = t.path();
    fs::create_dir(t.join("bare")).unwrap();
    fs::create_dir(t.join("file")).unwrap();
    fs::write(t.join("file/supervise"), "").unwrap();
    fs::create_dir(t.join("loop")).unwrap();
    std::os::unix::fs::symlink("down", t.join("loop/down")).unwrap();
    fs::create_dir_all(t.join("okdir/supervise/ok")).unwrap();
    fs::create_dir_all(t.join("okdir/supervise/control")).unwrap();
    fs::create_dir_all(t.join("notrunning/supervise")).unwrap();
    for fifo in ["ok", "control"] {
        nix::unistd::mkfifo(
            &t.join("notrunning/supervise").join(fifo),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
    }
    let _nostatus = FakeSupervise::new(&t.join("nostatus"));
    let short = FakeSupervise::new(&t.join("short"));
    short.set_status(b"0123456789abcdef\x01");
    // Not compared: a status that cannot be read (a directory: EISDIR). daemontools' svstat
    // compares read()'s -1 as unsigned, misses the error and prints its stale buffer; ours
    // prints `unable to read supervise/status: is a directory` (tests/daemontools.rs).

    let now = unix_now() as i64;
    let dt = FakeSupervise::new(&t.join("dt"));
    let records: Vec<(&str, Vec<u8>)> = vec![
        ("up", daemontools_record(now - 42, 4242, false, b'u')),
        ("paused", daemontools_record(now - 3, 17, true, b'u')),
        ("want down", daemontools_record(now - 3, 17, false, b'd')),
        ("once", daemontools_record(now - 3, 17, false, 0)),
        ("down", daemontools_record(now - 9, 0, false, b'd')),
        ("down paused", daemontools_record(now - 9, 0, true, b'd')),
        ("want up", daemontools_record(now - 9, 0, false, b'u')),
        ("future", daemontools_record(now + 500, 0, false, b'u')),
        ("zero", vec![0; 18]),
        ("runit finish", {
            let mut r = daemontools_record(now - 1, 55, false, b'd');
            r.extend_from_slice(&[1, 2]);
            r
        }),
        ("runit down", {
            let mut r = daemontools_record(now - 1, 0, true, b'u');
            r.extend_from_slice(&[0, 0]);
            r
        }),
    ];
    for (what, record) in &records {
        dt.set_status(record);
        for down in [false, true] {
            if down {
                fs::write(t.join("dt/down"), "").unwrap();
            }
            same_settled(
                "svstat",
                &["dt"],
                root,
                &format!("svstat {what} down={down}"),
            );
            same("svok", &["dt"], root, &format!("svok {what}"));
            let _ = fs::remove_file(t.join("dt/down"));
        }
    }

    let dirs = [
        "missing",
        "bare",
        "file",
        "loop",
        "okdir",
        "notrunning",
        "nostatus",
        "short",
        "-x",
        "",
    ];
    same("svstat", &dirs, root, "svstat on every broken dir");
    same("svstat", &[], root, "svstat without arguments");
    for dir in dirs {
        same("svstat", &[dir], root, &format!("svstat {dir}"));
        same("svok", &[dir], root, &format!("svok {dir}"));
        same("svc", &["-u", dir], root, &format!("svc -u {dir}"));
    }
    same("svok", &[], root, "svok without arguments");
    same("svok", &["dt", "missing"], root, "svok with two arguments");

    let mut all = vec!["-du"];
    all.extend_from_slice(&dirs);
    all.push("dt");
    same_svc(&all, root, &dt, "svc on every broken dir");
    for args in [
        &["-tcutc", "-uuu", "-d", "-xkk", "dt"][..],
        &["-udopchaitkxudopchaitkxudopchaitkx", "dt"],
        &["dt"],
        &["-h", "--", "dt", "dt"],
        &["-q", "dt"],
        &["-u1", "dt"],
        &["-2"],
        &["-"],
        &[],
    ] {
        same_svc(args, root, &dt, &format!("svc {args:?}"));
    }
}

/// Steps a live service through its states with svc (ours and theirs in turn), comparing
/// svstat and svok at each state.
fn live(supervisor: &Path) {
    let t = Tree::new();
    let root = t.path();
    let dir = t.service("s", "exec sleep 1000");
    let compare = |step: &str| {
        same_settled("svstat", &["s"], root, &format!("svstat after {step}"));
        same("svok", &["s"], root, &format!("svok after {step}"));
    };
    compare("nothing");
    let mut sup = start_runsv_with(supervisor, &dir);
    let mut pid = wait_running(&dir);
    compare("start");

    let mut turn = 0;
    let mut svc = |flags: &str| {
        let tool = if turn % 2 == 0 {
            ours("svc")
        } else {
            theirs("svc")
        };
        turn += 1;
        let out = run_in(&tool, &[flags, "s"], root);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (Some(0), "", ""),
            "{} {flags}",
            tool.display()
        );
    };
    let wait = |what: &str, cond: &dyn Fn(&Status) -> bool| {
        wait_until(what, || status(&dir).is_some_and(|s| cond(&s)));
    };

    svc("-d");
    wait("down", &|s| s.pid == 0);
    compare("-d");
    fs::write(dir.join("down"), "").unwrap();
    compare("-d with a down file");
    svc("-u");
    wait("up", &|s| s.pid != 0);
    compare("-u with a down file");
    fs::remove_file(dir.join("down")).unwrap();
    pid = status(&dir).map_or(pid, |s| s.pid);
    svc("-p");
    wait("paused", &|s| s.paused);
    compare("-p");
    svc("-c");
    wait("continued", &|s| !s.paused);
    compare("-c");
    svc("-o");
    wait("once", &|s| s.want != b'u');
    compare("-o");
    svc("-u");
    wait("want up", &|s| s.want == b'u');
    compare("-u");
    svc("-t");
    wait("restarted by TERM", &|s| s.pid != 0 && s.pid != pid);
    pid = status(&dir).map_or(pid, |s| s.pid);
    compare("-t");
    svc("-k");
    wait("restarted by KILL", &|s| s.pid != 0 && s.pid != pid);
    compare("-k");
    svc("-dx");
    assert_eq!(sup.wait_exit(), Some(0), "{}", sup.stderr());
    compare("-dx");

    // A service that cannot start: down and wanting up between attempts.
    let broken = t.service("broken", "exit 1");
    let _sup = start_runsv_with(supervisor, &broken);
    same_settled("svstat", &["broken"], root, "failing service");
    same_settled("svstat", &["s", "broken", "missing"], root, "three dirs");
}

#[test]
fn against_our_runsv() {
    if peers::available() {
        live(&runsv_program());
    }
}

#[test]
fn against_daemontools_supervise() {
    if peers::available() {
        live(&theirs("supervise"));
    }
}
