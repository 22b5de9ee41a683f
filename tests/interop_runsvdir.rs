//! Our runsvdir among runit 2.1.2's programs: runit's `sv` controls services that our
//! runsvdir (and the runsv it starts) supervises, and one service tree — with a logger, a
//! `down` file, a `finish` script, a second name for one service, and entries runsvdir must
//! skip — comes up identically under runit's runsvdir and ours (the same `sv status`
//! output, pids and seconds aside). `SVBOX_TEST_RUNSVDIR=runit` puts runit's runsvdir in
//! our place, to check the tests themselves against the reference.
mod common;
use common::*;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// runsvdir and the directory whose `runsv` it should run (first in its PATH).
fn ours() -> (PathBuf, PathBuf) {
    match std::env::var("SVBOX_TEST_RUNSVDIR").as_deref() {
        Ok("runit") => runit(),
        _ => (applet("runsvdir"), bindir().to_path_buf()),
    }
}

fn runit() -> (PathBuf, PathBuf) {
    let bin = peers::runit("runsvdir");
    let dir = bin.parent().unwrap().to_path_buf();
    (bin, dir)
}

/// A runsvdir started with `-P` on `TREE/service`, from `TREE`. On drop it gets SIGHUP
/// (it TERMs its runsvs) and then every process left with its cwd in the tree is killed:
/// `-P` puts the runsvs in sessions of their own, out of reach of the group kill.
struct Svdir {
    daemon: Daemon,
    root: PathBuf,
}

impl Svdir {
    fn start((program, runsv_dir): (PathBuf, PathBuf), root: &Path) -> Svdir {
        let path = format!("{}:/usr/bin:/bin", runsv_dir.display());
        let daemon = Daemon::start_with(
            &program,
            &[OsStr::new("-P"), OsStr::new("service")],
            root,
            |cmd| {
                cmd.env("PATH", path).env_remove("SVDIR");
            },
        );
        Svdir {
            daemon,
            root: root.canonicalize().unwrap(),
        }
    }

    fn scan(&self) -> PathBuf {
        self.root.join("service")
    }

    /// The runsv supervising `svdir` (a child of runsvdir whose cwd is `svdir`).
    fn runsv_of(&self, svdir: &Path) -> Option<u32> {
        let svdir = svdir.canonicalize().ok()?;
        self.runsvs()
            .into_iter()
            .find(|p| fs::read_link(format!("/proc/{p}/cwd")).is_ok_and(|c| c == svdir))
    }

    fn runsvs(&self) -> Vec<u32> {
        let me = self.daemon.pid() as u32;
        children(me).into_iter().filter(|&p| alive(p)).collect()
    }

    /// SIGHUP, and runsvdir's exit code (runit: 111 after TERMing every runsv).
    fn hangup(&mut self) -> Option<i32> {
        self.daemon.signal(nix::libc::SIGHUP);
        self.daemon.wait_exit()
    }
}

impl Drop for Svdir {
    fn drop(&mut self) {
        self.daemon.signal(nix::libc::SIGHUP);
        wait_for(DEADLINE / 3, || self.daemon.try_exit().is_some());
        let gone = wait_for(DEADLINE, || {
            let left: Vec<u32> = under(&self.root)
                .into_iter()
                .filter(|&p| alive(p))
                .collect();
            for &p in &left {
                // SAFETY: kill has no memory effects; p runs inside this test's tree.
                unsafe { nix::libc::kill(p as i32, nix::libc::SIGKILL) };
            }
            left.is_empty()
        });
        if !gone && !std::thread::panicking() {
            panic!("processes left in {}", self.root.display());
        }
    }
}

/// Runs `sv ARGS` with SVDIR set to the scan directory.
fn sv(program: &Path, scan: &Path, args: &[&str]) -> Outcome {
    run_cmd(
        Command::new(program)
            .args(args)
            .current_dir(scan)
            .env("SVDIR", scan)
            .env_remove("SVWAIT"),
    )
}

/// Every run of digits becomes `N`: pids and elapsed seconds differ between two trees.
fn digits_out(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_digits = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

#[test]
fn runit_sv_controls_services_under_our_runsvdir() {
    if !peers::available() {
        return;
    }
    let tree = Tree::new();
    let svc = tree.service("service/svc", "exec sleep 1000");
    let dir = Svdir::start(ours(), tree.path());
    let sv_runit = peers::runit("sv");
    let scan = dir.scan();
    let pid = wait_running(&svc);

    let out = sv(&sv_runit, &scan, &["status", "svc"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stdout.starts_with(&format!("run: svc: (pid {pid}) ")) && out.stdout.ends_with("s\n"),
        "{out:?}"
    );

    let out = sv(&sv_runit, &scan, &["down", "svc"]);
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), ""), "{out:?}");
    wait_until("svc down", || {
        status(&svc).is_some_and(|s| s.state == RunState::Down)
    });
    assert!(!alive(pid), "the service survived `sv down`");
    let out = sv(&sv_runit, &scan, &["status", "svc"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(digits_out(&out.stdout), "down: svc: Ns, normally up\n");

    let out = sv(&sv_runit, &scan, &["-v", "up", "svc"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let up = status(&svc).unwrap().pid;
    assert_ne!(up, 0);
    assert_eq!(
        digits_out(&out.stdout),
        "ok: run: svc: (pid N) Ns\n",
        "{out:?}"
    );
    assert!(out.stdout.contains(&format!("(pid {up})")), "{out:?}");

    // 2.1.2's sv compares whole seconds: a restart in the second of the last start would
    // be taken as done at once.
    wait_past_stamp(&svc);
    let out = sv(&sv_runit, &scan, &["-v", "restart", "svc"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(digits_out(&out.stdout), "ok: run: svc: (pid N) Ns\n");
    let restarted = status(&svc).unwrap().pid;
    assert!(restarted != 0 && restarted != up, "restart kept pid {up}");
    assert!(!alive(up), "the old run survived `sv restart`");

    // `sv exit` ends runsv; runsvdir notices and starts a new one, which starts the service.
    let old_runsv = dir
        .runsv_of(&svc)
        .expect("a runsv child of runsvdir on svc");
    let out = sv(&sv_runit, &scan, &["exit", "svc"]);
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), ""), "{out:?}");
    wait_until("a new runsv for svc", || {
        dir.runsv_of(&svc).is_some_and(|p| p != old_runsv)
    });
    assert!(!alive(old_runsv), "the old runsv did not exit");
    wait_until("svc running under the new runsv", || {
        status(&svc).is_some_and(|s| s.state == RunState::Run && s.pid != 0 && s.pid != restarted)
    });
    let out = sv(&sv_runit, &scan, &["status", "svc"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(digits_out(&out.stdout), "run: svc: (pid N) Ns\n");
    assert_eq!(dir.runsvs().len(), 1, "one service, one runsv");
    assert!(dir.daemon.stderr().is_empty(), "{}", dir.daemon.stderr());
}

/// The tree both runsvdirs run, under `root/service`.
fn make_tree(root: &Path) {
    let tree = |rel: &str| root.join("service").join(rel);
    fs::create_dir_all(tree("")).unwrap();
    fs::create_dir_all(tree("plain")).unwrap();
    script(&tree("plain/run"), "exec sleep 1000");
    fs::create_dir_all(tree("logged/log")).unwrap();
    script(&tree("logged/run"), "echo hello\nexec sleep 1000");
    script(&tree("logged/log/run"), "exec cat >/dev/null");
    fs::create_dir_all(tree("downed")).unwrap();
    script(&tree("downed/run"), "exec sleep 1000");
    fs::write(tree("downed/down"), "").unwrap();
    // run ends at once; finish then holds the service in state finish.
    fs::create_dir_all(tree("finishing")).unwrap();
    script(&tree("finishing/run"), "exit 3");
    script(&tree("finishing/finish"), "exec sleep 1000");
    // Not services: a dot directory, a plain file, a dangling link; and a second name.
    fs::create_dir_all(tree(".hidden")).unwrap();
    script(&tree(".hidden/run"), "exec sleep 1000");
    fs::write(tree("notadir"), "").unwrap();
    std::os::unix::fs::symlink("nowhere", tree("dangling")).unwrap();
    std::os::unix::fs::symlink("plain", tree("alias")).unwrap();
}

/// Waits until every service of the tree is in its settled state.
fn wait_settled(scan: &Path) {
    wait_running(&scan.join("plain"));
    wait_running(&scan.join("logged"));
    wait_running(&scan.join("logged/log"));
    wait_until("downed supervised and down", || {
        supervised(&scan.join("downed"))
            && status(&scan.join("downed")).is_some_and(|s| s.state == RunState::Down)
    });
    wait_until("finishing in state finish", || {
        status(&scan.join("finishing")).is_some_and(|s| s.state == RunState::Finish && s.pid != 0)
    });
}

const NAMES: [&str; 9] = [
    "plain",
    "alias",
    "logged",
    "logged/log",
    "downed",
    "finishing",
    ".hidden",
    "notadir",
    "dangling",
];

#[test]
fn one_tree_comes_up_alike_under_runit_runsvdir_and_ours() {
    if !peers::available() {
        return;
    }
    let theirs_tree = Tree::new();
    let ours_tree = Tree::new();
    make_tree(theirs_tree.path());
    make_tree(ours_tree.path());
    let mut theirs = Svdir::start(runit(), theirs_tree.path());
    let mut mine = Svdir::start(ours(), ours_tree.path());
    wait_settled(&theirs.scan());
    wait_settled(&mine.scan());

    for dir in [&theirs, &mine] {
        assert!(
            !dir.scan().join(".hidden/supervise").exists(),
            "a dot entry was started"
        );
        // plain, logged, downed, finishing: alias is plain again, the rest are not services.
        wait_until("four runsvs", || dir.runsvs().len() == 4);
    }
    for program in [peers::runit("sv"), sv_program()] {
        let mut args = vec!["status"];
        args.extend(NAMES);
        let a = sv(&program, &theirs.scan(), &args);
        let b = sv(&program, &mine.scan(), &args);
        let expect = "run: plain: (pid N) Ns\nrun: alias: (pid N) Ns\nrun: logged: (pid N) Ns; \
                      run: log: (pid N) Ns\nrun: logged/log: (pid N) Ns\ndown: downed: Ns\n\
                      finish: finishing: (pid N) Ns\n\
                      warning: .hidden: unable to open supervise/ok: file does not exist\n\
                      fail: notadir: unable to change to service directory: not a directory\n\
                      fail: dangling: unable to change to service directory: file does not exist\n";
        assert_eq!(
            digits_out(&a.stdout),
            expect,
            "{}: reference output changed: {a:?}",
            program.display()
        );
        assert_eq!(
            (a.code, digits_out(&a.stdout), digits_out(&a.stderr)),
            (b.code, digits_out(&b.stdout), digits_out(&b.stderr)),
            "{}: runit's tree vs ours",
            program.display()
        );
        assert_eq!(a.code, Some(3), "three names are not services: {a:?}");
    }
    let same_pid = |d: &Svdir| status(&d.scan().join("alias")).map(|s| s.pid);
    assert_eq!(
        same_pid(&mine),
        status(&mine.scan().join("plain")).map(|s| s.pid)
    );
    assert_eq!(
        same_pid(&theirs),
        status(&theirs.scan().join("plain")).map(|s| s.pid)
    );

    // Both warn about the dangling link, and about nothing else.
    for d in [&theirs, &mine] {
        wait_until("the warning about the dangling link", || {
            d.daemon.stderr().contains("dangling")
        });
    }
    let warnings = |d: &Svdir| {
        let mut v: Vec<String> = d.daemon.stderr().lines().map(str::to_owned).collect();
        v.sort();
        v.dedup();
        v
    };
    assert_eq!(
        warnings(&theirs),
        ["runsvdir service: warning: unable to stat dangling: file does not exist"]
    );
    assert_eq!(warnings(&mine), warnings(&theirs));

    // SIGHUP: both TERM their runsvs and exit 111.
    let plain_runsv = mine
        .runsv_of(&mine.scan().join("plain"))
        .expect("the runsv of plain");
    assert_eq!(theirs.hangup(), Some(111));
    assert_eq!(mine.hangup(), Some(111));
    wait_until("plain's runsv ends after SIGHUP", || !alive(plain_runsv));
}
