//! daemontools 0.76's `svstat`, `svok` and `svc` against our runsv: they read the first 18
//! bytes of `supervise/status`, probe `supervise/ok` and write to `supervise/control`, so a
//! drop-in runsv must keep serving them. Each scenario also runs under runit's runsv, which
//! checks the expectations themselves.
mod common;
use common::*;

use std::fs;
use std::path::Path;
use std::process::Command;

/// Runs daemontools' `tool args` in `cwd`.
fn dt(tool: &str, args: &[&str], cwd: &Path) -> Outcome {
    run_cmd(
        Command::new(peers::daemontools(tool))
            .args(args)
            .current_dir(cwd),
    )
}

/// svstat's line for `name` with the elapsed seconds replaced by `S`, and those seconds.
fn svstat(name: &str, cwd: &Path) -> (String, u64) {
    let out = dt("svstat", &[name], cwd);
    assert_eq!(out.code, Some(0), "svstat {name}: {out:?}");
    assert_eq!(out.stderr, "", "svstat {name}");
    svstat_shape(out.stdout)
}

/// Waits until svstat prints `want` (with `S` for the seconds, which must be small).
fn expect_svstat(name: &str, cwd: &Path, want: &str) {
    expect_svstat_shape(&format!("svstat {name}"), want, || svstat(name, cwd));
}

fn svc(flags: &str, name: &str, cwd: &Path) {
    let out = dt("svc", &[flags, name], cwd);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (Some(0), "", ""),
        "svc {flags} {name}"
    );
}

fn scenario(supervisor: &Path) {
    let t = Tree::new();
    let root = t.path();
    let svc_dir = t.service("svc", "exec sleep 1000");
    fs::create_dir(svc_dir.join("log")).unwrap();
    script(&svc_dir.join("log/run"), "exec cat >./current");

    // Nothing supervises it yet.
    assert_eq!(
        dt("svok", &["svc"], root).code,
        Some(100),
        "svok before runsv"
    );
    let mut runsv = start_runsv_with(supervisor, &svc_dir);
    let ok = dt("svok", &["svc"], root);
    assert_eq!(
        (ok.code, ok.stdout.as_str(), ok.stderr.as_str()),
        (Some(0), "", ""),
        "svok while running"
    );
    assert_eq!(
        dt("svok", &["svc/log"], root).code,
        Some(0),
        "svok on the log service"
    );

    let pid = wait_running(&svc_dir);
    expect_svstat("svc", root, &format!("svc: up (pid {pid}) S seconds\n"));
    let log_pid = wait_running(&svc_dir.join("log"));
    expect_svstat(
        "svc/log",
        root,
        &format!("svc/log: up (pid {log_pid}) S seconds\n"),
    );

    svc("-d", "svc", root);
    expect_svstat("svc", root, "svc: down S seconds, normally up\n");
    assert!(!alive(pid), "svc -d left the service running");

    svc("-u", "svc", root);
    let pid = wait_running(&svc_dir);
    expect_svstat("svc", root, &format!("svc: up (pid {pid}) S seconds\n"));

    svc("-p", "svc", root);
    expect_svstat(
        "svc",
        root,
        &format!("svc: up (pid {pid}) S seconds, paused\n"),
    );
    svc("-c", "svc", root);
    expect_svstat("svc", root, &format!("svc: up (pid {pid}) S seconds\n"));

    svc("-o", "svc", root);
    expect_svstat(
        "svc",
        root,
        &format!("svc: up (pid {pid}) S seconds, want down\n"),
    );
    svc("-u", "svc", root);
    expect_svstat("svc", root, &format!("svc: up (pid {pid}) S seconds\n"));

    fs::write(svc_dir.join("down"), "").unwrap();
    expect_svstat(
        "svc",
        root,
        &format!("svc: up (pid {pid}) S seconds, normally down\n"),
    );
    fs::remove_file(svc_dir.join("down")).unwrap();

    svc("-t", "svc", root);
    wait_until("a new process after svc -t", || {
        status(&svc_dir).is_some_and(|s| s.pid != 0 && s.pid != pid)
    });
    let pid = wait_running(&svc_dir);
    svc("-k", "svc", root);
    wait_until("a new process after svc -k", || {
        status(&svc_dir).is_some_and(|s| s.pid != 0 && s.pid != pid)
    });

    svc("-x", "svc", root);
    assert_eq!(
        runsv.wait_exit(),
        Some(0),
        "runsv after svc -x: {}",
        runsv.stderr()
    );
    assert_eq!(
        dt("svok", &["svc"], root).code,
        Some(100),
        "svok after exit"
    );
    assert_eq!(svstat("svc", root).0, "svc: supervise not running\n");
}

/// A service that cannot start is down and wants up between attempts.
fn failing_service(supervisor: &Path) {
    let t = Tree::new();
    let dir = t.service("broken", "exit 1");
    let _runsv = start_runsv_with(supervisor, &dir);
    expect_svstat(
        "broken",
        t.path(),
        "broken: down S seconds, normally up, want up\n",
    );
    svc("-d", "broken", t.path());
    expect_svstat("broken", t.path(), "broken: down S seconds, normally up\n");
}

#[test]
fn daemontools_tools_work_with_our_runsv() {
    if peers::available() {
        scenario(&runsv_program());
        failing_service(&runsv_program());
    }
}

#[test]
fn daemontools_tools_work_with_runit_runsv() {
    if peers::available() {
        scenario(&peers::runit("runsv"));
        failing_service(&peers::runit("runsv"));
    }
}
