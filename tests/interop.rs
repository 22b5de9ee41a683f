//! runit 2.1.2's `sv` and ours, side by side against one supervisor: runit's sv drives our
//! runsv and our sv drives runit's runsv. After every step the other sv repeats it (or, for
//! read-only steps, both just look), and the two must print the same stdout and stderr and
//! exit with the same code. Elapsed seconds may differ by 1 (the clock can tick between the
//! two runs); pids may differ only where both runs legitimately restart the service.
mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a step does to the service, which decides how the two outputs are compared.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Running it twice leaves the same state: outputs must match exactly.
    Same,
    /// Each run starts a new process: `(pid N)` is compared as the pid each run left behind.
    Restarts,
}
use Kind::*;

/// One supervised service and the two clients.
struct Pair {
    tree: Tree,
    svc: PathBuf,
    runsv: Daemon,
    /// The driving sv first, the other second.
    svs: [PathBuf; 2],
}

impl Pair {
    /// `svc` under `supervisor`, optionally with a logger; `driver` is the sv that acts first.
    fn new(supervisor: &Path, with_log: bool, driver: PathBuf, other: PathBuf) -> Pair {
        let tree = Tree::new();
        // HUP, ALRM and USR1 are ignored so that signalling steps leave the same process running.
        let svc = tree.service(
            "svc",
            "trap '' HUP ALRM USR1\necho started\nexec sleep 1000",
        );
        if with_log {
            std::fs::create_dir(svc.join("log")).unwrap();
            script(&svc.join("log/run"), "exec cat >./current");
        }
        let runsv = start_runsv_with(supervisor, &svc);
        wait_running(&svc);
        if with_log {
            wait_running(&svc.join("log"));
        }
        Pair {
            tree,
            svc,
            runsv,
            svs: [driver, other],
        }
    }

    fn sv(&self, program: &Path, args: &[&str]) -> Outcome {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(self.tree.path())
            .env("SVDIR", self.tree.path());
        run_cmd(&mut cmd)
    }

    /// Runs `args` with both svs and compares; `expect` is a prefix the reference output
    /// must start with, so that two equally wrong outputs cannot pass.
    fn step(&self, kind: Kind, args: &[&str], expect: &str) -> Outcome {
        let mut outs = Vec::new();
        for sv in &self.svs {
            if kind == Restarts {
                wait_past_stamp(&self.svc);
            }
            let mut out = self.sv(sv, args);
            if kind == Restarts {
                let pid = status(&self.svc).unwrap().pid;
                assert_ne!(pid, 0, "sv {args:?}: service not running afterwards");
                out.stdout = out.stdout.replace(&format!("(pid {pid})"), "(pid P)");
            }
            outs.push(out);
        }
        self.compare(args, outs, expect)
    }

    /// Runs `args` with both svs at the same time, for steps that change nothing but take
    /// long enough (a timeout) for the elapsed seconds to drift apart when run in turn.
    fn step_together(&self, args: &[&str], expect: &str) -> Outcome {
        let outs = std::thread::scope(|s| {
            let runs: Vec<_> = self
                .svs
                .iter()
                .map(|sv| s.spawn(|| self.sv(sv, args)))
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        self.compare(args, outs, expect)
    }

    fn compare(&self, args: &[&str], mut outs: Vec<Outcome>, expect: &str) -> Outcome {
        let step = format!("sv {}", args.join(" "));
        assert_same_outcome(&step, (&self.svs[0], &outs[0]), (&self.svs[1], &outs[1]));
        assert!(
            outs[0].stdout.starts_with(expect),
            "{step}: expected output starting with {expect:?}, got {:?}",
            outs[0]
        );
        outs.swap_remove(0)
    }

    /// Both svs print the status of `name`: must agree and start with `expect`.
    fn status(&self, name: &str, expect: &str) {
        self.step(Same, &["status", name], expect);
    }
}

/// The whole command set against one supervisor, with or without a log service.
fn scenario(supervisor: &Path, with_log: bool, driver: PathBuf, other: PathBuf) {
    let mut p = Pair::new(supervisor, with_log, driver, other);
    let log = if with_log { "; run: log: (pid " } else { "\n" };
    p.status("svc", "run: svc: (pid ");
    p.step(Same, &["-v", "status", "svc"], "run: svc: (pid ");
    p.step(Same, &["status", "./svc", "svc/"], "run: ./svc: (pid ");
    p.step(Same, &["s", "svc"], "run: svc: (pid ");
    p.step(Same, &["stat", "svc"], "run: svc: (pid ");
    p.step(Same, &["--", "status", "svc"], "run: svc: (pid ");
    p.step(Same, &["-w", "0", "status", "svc"], "run: svc: (pid ");
    // Lenient numbers: non-digits make a wait of 0 s; a running service is ok at once.
    p.step(Same, &["-w", "abc", "up", "svc"], "ok: run: svc: (pid ");
    p.step(Same, &["-w2x", "up", "svc"], "ok: run: svc: (pid ");
    p.step(Same, &["status", "svc", "svc/log", "."], "run: svc: (pid ");

    // down / up, waiting and not waiting.
    p.step(Same, &["-w", "5", "down", "svc"], "ok: down: svc: ");
    p.status("svc", "down: svc: ");
    p.step(Same, &["-v", "down", "svc"], "ok: down: svc: ");
    p.step(Same, &["-w5", "up", "svc"], "ok: run: svc: (pid ");
    p.status("svc", "run: svc: (pid ");
    p.step(Same, &["up", "svc"], "");
    p.step(Same, &["-w", "5", "start", "svc"], "ok: run: svc: (pid ");

    // pause / cont.
    p.step(Same, &["-w", "5", "pause", "svc"], "ok: run: svc: (pid ");
    p.status("svc", "run: svc: (pid ");
    assert!(status(&p.svc).unwrap().paused);
    p.step(Same, &["-v", "cont", "svc"], "ok: run: svc: (pid ");
    assert!(!status(&p.svc).unwrap().paused);

    // once, on a running and on a stopped service.
    p.step(Same, &["-w", "5", "once", "svc"], "ok: run: svc: (pid ");
    p.status("svc", "run: svc: (pid ");
    p.step(Same, &["-w", "5", "down", "svc"], "ok: down: svc: ");
    wait_past_stamp(&p.svc);
    let once = p.step(Same, &["-w", "5", "once", "svc"], "ok: run: svc: (pid ");
    assert!(once.stdout.ends_with(", want down\n"), "{once:?}");
    // `sv -v up` on a running service may report before runsv read the `u` (whole-second
    // race, spec 4.6), so the want change is awaited on disk before comparing.
    p.step(Same, &["up", "svc"], "");
    wait_until("want up", || status(&p.svc).unwrap().want == b'u');
    p.step(Same, &["-w", "5", "up", "svc"], "ok: run: svc: (pid ");

    // Signals that make runsv start a new process.
    p.step(
        Restarts,
        &["-w", "5", "term", "svc"],
        "ok: run: svc: (pid P) ",
    );
    p.status("svc", "run: svc: (pid ");
    p.step(
        Restarts,
        &["-w", "5", "kill", "svc"],
        "ok: run: svc: (pid P) ",
    );
    p.status("svc", "run: svc: (pid ");
    p.step(
        Restarts,
        &["-w", "5", "restart", "svc"],
        "ok: run: svc: (pid P) ",
    );
    p.step(Restarts, &["-v", "t", "svc"], "ok: run: svc: (pid P) ");
    p.step(Same, &["hup", "svc"], "");
    p.step(Same, &["-v", "alarm", "svc"], "ok: run: svc: (pid ");
    p.step(Same, &["-w", "5", "1", "svc"], "ok: run: svc: (pid ");

    // check: passes on a running service, times out while ./check fails, and a service
    // that is down and wants down passes at once (2.1.2 and 2.3.0 agree on that case).
    p.step(Same, &["-w", "5", "check", "svc"], "ok: run: svc: (pid ");
    script(&p.svc.join("check"), "test -e ready");
    let timeout = p.step_together(&["-w", "1", "check", "svc"], "timeout: run: svc: (pid ");
    assert_eq!(timeout.code, Some(1));
    std::fs::write(p.svc.join("ready"), "").unwrap();
    p.step(Same, &["-w", "5", "check", "svc"], "ok: run: svc: (pid ");
    p.step(Same, &["-w", "5", "down", "svc"], "ok: down: svc: ");
    p.step(Same, &["-w", "5", "check", "svc"], "ok: down: svc: ");
    p.step(Same, &["-w", "5", "up", "svc"], "ok: run: svc: (pid ");

    // State finish: `./finish` runs (and is reported with its pid) after run was stopped.
    script(&p.svc.join("finish"), "exec sleep 1000");
    wait_past_stamp(&p.svc);
    p.sv(&p.svs[0], &["term", "svc"]);
    let mut finish = 0;
    wait_until("finish running", || match status(&p.svc) {
        Some(s) if s.state == RunState::Finish && s.pid != 0 => {
            finish = s.pid;
            true
        }
        _ => false,
    });
    p.status("svc", &format!("finish: svc: (pid {finish}) "));
    p.step_together(
        &["-w", "1", "up", "svc"],
        &format!("timeout: finish: svc: (pid {finish}) "),
    );
    p.step(Same, &["down", "svc"], "");
    // sv down does not wait: runsv takes the byte from its FIFO when it next runs.
    wait_until("want down recorded", || {
        status(&p.svc).is_some_and(|s| s.want == b'd')
    });
    let line = p.step(Same, &["status", "svc"], "finish: svc: (pid ");
    assert!(line.stdout.contains(", want down"), "{line:?}");
    std::fs::remove_file(p.svc.join("finish")).unwrap();
    // SAFETY: kill has no memory effects; the pid is the finish process runsv reports.
    unsafe { nix::libc::kill(finish as i32, nix::libc::SIGKILL) };
    wait_until("down after finish", || {
        status(&p.svc).is_some_and(|s| s.state == RunState::Down)
    });
    p.status("svc", "down: svc: ");
    p.step(Same, &["-w", "5", "up", "svc"], "ok: run: svc: (pid ");

    // The full status line, with the log part when there is one.
    let line = p.step(Same, &["status", "svc"], "run: svc: (pid ");
    assert!(line.stdout.contains(log), "{line:?}");
    if with_log {
        p.status("svc/log", "run: svc/log: (pid ");
        p.step(Same, &["-w", "5", "down", "svc/log"], "ok: down: svc/log: ");
        p.status("svc", "run: svc: (pid ");
        let both = p.step(Same, &["status", "svc"], "run: svc: (pid ");
        assert!(both.stdout.contains("; down: log: "), "{both:?}");
        p.step(
            Same,
            &["-w", "5", "up", "svc/log"],
            "ok: run: svc/log: (pid ",
        );
    }

    // Several services, one of them bad: one line each, problems counted.
    let many = p.step(Same, &["status", "svc", "nosuch"], "run: svc: (pid ");
    assert_eq!(many.code, Some(1));

    // exit: the driver makes runsv exit; then both see it gone.
    p.step(
        Same,
        &["-w", "5", "exit", "svc"],
        "ok: svc: runsv not running\n",
    );
    assert_eq!(p.runsv.wait_exit(), Some(0), "runsv exit status");
    let gone = p.step(Same, &["status", "svc"], "fail: svc: runsv not running\n");
    assert_eq!(gone.code, Some(1));
    p.step(
        Same,
        &["-w", "5", "up", "svc"],
        "fail: svc: runsv not running\n",
    );
    p.step(Same, &["exit", "svc"], "ok: svc: runsv not running\n");
}

fn ours_under_runit(with_log: bool) {
    if !peers::available() {
        return;
    }
    scenario(
        &peers::runit("runsv"),
        with_log,
        sv_program(),
        peers::runit("sv"),
    );
}

fn runit_under_ours(with_log: bool) {
    if !peers::available() {
        return;
    }
    scenario(&runsv_program(), with_log, peers::runit("sv"), sv_program());
}

#[test]
fn our_sv_drives_runit_runsv() {
    ours_under_runit(false);
}

#[test]
fn our_sv_drives_runit_runsv_with_log() {
    ours_under_runit(true);
}

#[test]
fn runit_sv_drives_our_runsv() {
    runit_under_ours(false);
}

#[test]
fn runit_sv_drives_our_runsv_with_log() {
    runit_under_ours(true);
}

/// Mistakes that need no supervisor: usage, version, missing and unsupervised services.
#[test]
fn errors_match_runit() {
    if !peers::available() {
        return;
    }
    let t = Tree::new();
    std::fs::create_dir(t.join("unsupervised")).unwrap();
    std::fs::create_dir(t.join("plain")).unwrap();
    std::fs::write(t.join("plain/supervise"), "").unwrap();
    // An 18-byte (daemontools) status behind a live `ok` FIFO: sv must call it bad format.
    std::fs::create_dir_all(t.join("short/supervise")).unwrap();
    std::fs::write(t.join("short/supervise/status"), [0u8; 18]).unwrap();
    nix::unistd::mkfifo(
        &t.join("short/supervise/ok"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let _reader = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(t.join("short/supervise/ok"))
        .unwrap();
    let cases: &[&[&str]] = &[
        &[],
        &["status"],
        &["-V"],
        &["-x", "status", "svc"],
        &["-w"],
        &["bogus", "svc"],
        &["reboot", "svc"],
        &["fly", "svc"],
        &["", "svc"],
        &["status", "nosuch", "./nosuch", "/nonexistent/x"],
        &["status", "unsupervised"],
        &["-w", "1", "up", "unsupervised"],
        &["exit", "unsupervised"],
        &["status", "plain"],
        &["status", "short"],
        &["-", "status", "svc"],
        &["status", ""],
        &["-w", "1", "status", "."],
    ];
    let (ours, theirs) = (sv_program(), peers::runit("sv"));
    for args in cases {
        let run = |program: &Path| {
            let mut cmd = Command::new(program);
            run_cmd(cmd.args(*args).current_dir(t.path()).env("SVDIR", t.path()))
        };
        let (a, b) = (run(&theirs), run(&ours));
        assert_same_outcome(
            &format!("sv {}", args.join(" ")),
            (&theirs, &a),
            (&ours, &b),
        );
        assert!(
            a.code.is_some_and(|c| c != 0),
            "sv {args:?} should fail: {a:?}"
        );
    }
}

#[test]
fn seconds_comparison_tolerates_one_tick_only() {
    assert!(same_but_seconds(
        "run: a: (pid 12) 3s; run: log: (pid 9) 3s\n",
        "run: a: (pid 12) 4s; run: log: (pid 9) 2s\n"
    ));
    assert!(same_but_seconds(
        "a: up (pid 5) 10 seconds",
        "a: up (pid 5) 9 seconds"
    ));
    assert!(!same_but_seconds(
        "run: a: (pid 12) 3s",
        "run: a: (pid 12) 5s"
    ));
    assert!(!same_but_seconds(
        "run: a: (pid 12) 3s",
        "run: a: (pid 13) 3s"
    ));
    assert!(!same_but_seconds("down: a: 3s", "down: a: 3s, normally up"));
    assert!(!same_but_seconds("x 1y", "x 2y"));
}

/// LSB init-script mode (sv called through a link named after the service): same output
/// and exit codes as runit's, for a service without a log (see below for one with a log).
#[test]
fn lsb_mode_matches_runit() {
    if !peers::available() {
        return;
    }
    let t = Tree::new();
    // HUP (reload) is ignored so that the same process keeps running. The name is no
    // applet's (`svc` now is one: a link by that name runs svc, not sv).
    let svc = t.service("websvc", "trap '' HUP\nexec sleep 1000");
    let _runsv = start_runsv(&svc);
    wait_running(&svc);
    let (theirs, ours) = (t.join("runit/websvc"), t.join("ours/websvc"));
    for (link, target) in [(&theirs, peers::runit("sv")), (&ours, sv_program())] {
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, link).unwrap();
    }
    let lsb = |link: &Path, args: &[&str]| {
        let mut cmd = Command::new(link);
        run_cmd(cmd.args(args).current_dir(t.path()).env("SVDIR", t.path()))
    };
    let cases: &[(&[&str], Option<i32>)] = &[
        (&["status"], Some(0)),
        (&["-w", "5", "stop"], Some(0)),
        (&["status"], Some(3)),
        (&["start"], Some(0)),
        (&["status"], Some(0)),
        (&["reload"], Some(0)),
        (&["stat"], Some(2)),
        (&["bogus"], Some(2)),
        (&[], Some(2)),
        (&["-w", "5", "force-stop"], Some(0)),
        (&["try-restart"], Some(0)),
        (&["-w", "5", "start", "ignored", "args"], Some(0)),
    ];
    for (args, code) in cases {
        let step = format!("svc {}", args.join(" "));
        let (a, b) = (lsb(&theirs, args), lsb(&ours, args));
        assert_same_outcome(&step, (&theirs, &a), (&ours, &b));
        assert_eq!(a.code, *code, "{step}: {a:?}");
    }
}

/// Where svbox deliberately differs from 2.1.2 (docs/compatibility.md), pinned on both
/// sides so that the table stays true: LSB `status` takes its exit code from the main
/// service, not the log (2.3.0), and an unreadable `log/supervise` is reported without
/// printing the main service's stale status as the log's.
#[test]
fn documented_differences_from_2_1_2() {
    if !peers::available() {
        return;
    }
    let t = Tree::new();
    let svc = t.service("svc", "exec sleep 1000");
    std::fs::create_dir(svc.join("log")).unwrap();
    script(&svc.join("log/run"), "exec cat >/dev/null");
    let _runsv = start_runsv(&svc);
    wait_running(&svc);
    let log_pid = wait_running(&svc.join("log"));
    let sv = |program: &Path, args: &[&str]| {
        let mut cmd = Command::new(program);
        run_cmd(cmd.args(args).current_dir(t.path()).env("SVDIR", t.path()))
    };
    let down = sv(&peers::runit("sv"), &["-w", "5", "down", "svc/log"]);
    assert_eq!(down.code, Some(0), "{down:?}");
    assert!(!alive(log_pid));
    let (theirs, ours) = (t.join("runit/svc"), t.join("ours/svc"));
    for (link, target) in [(&theirs, peers::runit("sv")), (&ours, svbox())] {
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, link).unwrap();
    }
    assert_eq!(
        sv(&theirs, &["status"]).code,
        Some(3),
        "runit 2.1.2: the log's state"
    );
    assert_eq!(
        sv(&ours, &["status"]).code,
        Some(0),
        "svbox: the main service's state"
    );

    // A log/ directory that appeared after runsv started has no supervise/ of its own.
    let late = t.service("late", "exec sleep 1000");
    let _late_runsv = start_runsv(&late);
    wait_running(&late);
    std::fs::create_dir(late.join("log")).unwrap();
    let theirs = sv(&peers::runit("sv"), &["status", "late"]);
    let ours = sv(&applet("sv"), &["status", "late"]);
    let warning = "; warning: late/log: unable to open supervise/ok: file does not exist\n";
    assert!(
        theirs.stdout.contains(warning) && theirs.stdout.contains("\nrun: log: (pid "),
        "{theirs:?}"
    );
    assert!(
        ours.stdout.starts_with("run: late: (pid ") && ours.stdout.ends_with(warning),
        "{ours:?}"
    );
    assert_eq!((theirs.code, ours.code), (Some(1), Some(1)));
}
