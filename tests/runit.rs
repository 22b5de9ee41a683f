//! runit as process 1, in a new PID namespace (and a private mount namespace whose
//! /dev/console is a file of the test): stage order and messages, the exit-code rules of
//! runit 2.3.0, stopit/SIGCONT, ctrlaltdel/SIGINT, the five-second waits, orphans reaped,
//! clean signal state of the stages, and the final reboot(2), which the kernel turns into the
//! namespace's init dying of SIGINT (power off, halt) or SIGHUP (reboot). Needs root.
mod common;
use common::*;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ID: &str = "$Id: 25da3b86f7bed4038b8a039d2f8e8c9bbcf0822b $";

/// PID and mount namespaces can be created here (root).
fn namespaces() -> bool {
    let ok = Command::new("unshare")
        .args(["--pid", "--fork", "--mount", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "the runit tests need PID and mount namespaces (root)"
        );
        eprintln!("skipping: cannot create PID and mount namespaces here");
    }
    ok
}

/// A runit control directory `etc/`, a console file, and runit as process 1 of a new PID
/// namespace (`unshare --kill-child`: the namespace dies with the test's process group).
struct Boot {
    tree: Tree,
    d: Option<Daemon>,
    started: Instant,
}

impl Boot {
    fn new() -> Boot {
        let tree = Tree::new();
        fs::create_dir(tree.join("etc")).unwrap();
        fs::write(tree.join("console"), "").unwrap();
        Boot {
            tree,
            d: None,
            started: Instant::now(),
        }
    }

    fn etc(&self) -> PathBuf {
        self.tree.join("etc")
    }

    fn e(&self) -> String {
        self.etc().display().to_string()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.etc().join(name)
    }

    /// Writes the script `etc/NAME`; `E` in `body` is replaced by the etc directory.
    fn stage(&self, name: &str, body: &str) {
        script(
            &self.file(name),
            &body.replace("E/", &format!("{}/", self.e())),
        );
    }

    /// Creates `etc/NAME` with mode 0100 (set, for runit).
    fn set(&self, name: &str) {
        fs::write(self.file(name), "").unwrap();
        fs::set_permissions(self.file(name), fs::Permissions::from_mode(0o100)).unwrap();
    }

    /// Boots `program` (an applet) as process 1.
    fn start_as(&mut self, program: &str) {
        let sh = format!(
            "mount --bind {} /dev/console && exec {}",
            self.tree.join("console").display(),
            applet(program).display()
        );
        let etc = self.etc();
        self.started = Instant::now();
        self.d = Some(Daemon::start_with(
            Path::new("unshare"),
            &[
                "--pid".as_ref(),
                "--fork".as_ref(),
                "--kill-child".as_ref(),
                "--mount-proc".as_ref(),
                "--propagation".as_ref(),
                "private".as_ref(),
                "sh".as_ref(),
                "-c".as_ref(),
                sh.as_ref(),
            ],
            self.tree.path(),
            |cmd| {
                cmd.env("SVBOX_RUNIT_DIR", &etc);
                cmd.env("PATH", format!("{}:/usr/bin:/bin", bindir().display()));
            },
        ));
    }

    fn start(&mut self) {
        self.start_as("runit");
    }

    fn console(&self) -> String {
        fs::read_to_string(self.tree.join("console")).unwrap_or_default()
    }

    /// runit's own lines on the console.
    fn runit_lines(&self) -> Vec<String> {
        self.console()
            .lines()
            .filter(|l| l.starts_with("- runit: "))
            .map(str::to_string)
            .collect()
    }

    fn wait_console(&self, what: &str) {
        let what = what.replace("E/", &format!("{}/", self.e()));
        wait_until(&format!("console line {what:?}"), || {
            self.console().contains(&what)
        });
    }

    /// The host pid of the namespace's process 1 (unshare's child).
    fn init(&self) -> u32 {
        let unshare = self.d.as_ref().unwrap().pid() as u32;
        let mut init = 0;
        wait_until("process 1 found", || {
            init = children(unshare).first().copied().unwrap_or(0);
            init != 0
        });
        init
    }

    fn signal_init(&self, sig: i32) {
        // SAFETY: kill has no memory effects.
        unsafe { nix::libc::kill(self.init() as i32, sig) };
    }

    /// Waits for the namespace to end and returns the signal its process 1 died of
    /// (unshare re-raises it, or exits 128 + it).
    fn ended_by(&mut self) -> i32 {
        use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
        let pid = nix::unistd::Pid::from_raw(self.d.as_ref().unwrap().pid());
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        let mut sig = None;
        wait_until("the namespace's end", || {
            match waitid(Id::Pid(pid), flags) {
                Ok(WaitStatus::Signaled(_, s, _)) => {
                    sig = Some(s as i32);
                    true
                }
                Ok(WaitStatus::Exited(_, code)) => {
                    sig = Some(code - 128);
                    true
                }
                _ => false,
            }
        });
        sig.unwrap_or(0)
    }

    /// The expected runit lines, `E/` standing for the etc directory.
    fn expect(&self, lines: &[&str]) -> Vec<String> {
        lines
            .iter()
            .map(|l| format!("- runit: {}", l.replace("E/", &format!("{}/", self.e()))))
            .collect()
    }
}

fn stat_fields(pid: u32) -> Vec<String> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    s.rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn zombie(pid: u32) -> bool {
    stat_fields(pid).first().is_some_and(|s| s == "Z")
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Waits until `pid` has read its pending signals and sits still in its poll.
fn settled(pid: u32) {
    let pending = |pid: u32| {
        fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("SigPnd:") || l.starts_with("ShdPnd:"))
            .any(|l| !l.ends_with("0000000000000000"))
    };
    let mut last = context_switches(pid as i32);
    wait_until("process 1 settled", || {
        std::thread::sleep(Duration::from_millis(100));
        let now = context_switches(pid as i32);
        !pending(pid) && std::mem::replace(&mut last, now) == now
    });
}

/// Stage scripts that leave a marker each and end on their own.
fn simple_stages(b: &Boot) {
    b.stage("1", "echo one >E/ran1");
    b.stage("2", "echo two >E/ran2");
    b.stage("3", "echo three >E/ran3");
}

#[test]
fn not_process_1_is_refused() {
    let t = Tree::new();
    let o = run_in(&applet("runit"), &[], t.path());
    assert_eq!(o.code, Some(111));
    assert_eq!(o.stderr, "- runit: fatal: must be run as process no 1.\n");
    assert_eq!(o.stdout, "");
    if peers::available() {
        let peer = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers/runit/sbin/runit");
        let p = run_in(&peer, &[], t.path());
        assert_same_outcome("not process 1", (&applet("runit"), &o), (&peer, &p));
    }
}

#[test]
fn stages_run_in_order_then_power_off() {
    if !namespaces() {
        return;
    }
    let mut b = Boot::new();
    b.stage(
        "1",
        "read -r _ _ _ _ pgrp sid _ </proc/$$/stat; echo \"$$ $sid\" >E/s1\n\
         grep -E '^Sig(Blk|Ign)' /proc/self/status >E/sig1",
    );
    b.stage(
        "2",
        "read -r _ _ _ _ pgrp sid _ </proc/$$/stat; echo \"$$ $sid\" >E/s2\n\
         grep -E '^Sig(Blk|Ign)' /proc/self/status >E/sig2; echo stage2 output",
    );
    b.stage("3", "test -e E/s2 && echo three >E/ran3");
    b.start();
    assert_eq!(b.ended_by(), nix::libc::SIGINT, "{}", b.console());
    assert_eq!(
        b.runit_lines(),
        b.expect(&[
            &format!("{ID}: booting."),
            "enter stage: E/1",
            "leave stage: E/1",
            "enter stage: E/2",
            "leave stage: E/2",
            "enter stage: E/3",
            "leave stage: E/3",
            "sending KILL signal to all processes...",
            "power off...",
        ])
    );
    // Stages write to the console too.
    assert!(b.console().contains("\nstage2 output\n"));
    assert_eq!(fs::read_to_string(b.file("ran3")).unwrap(), "three\n");
    // Stage 1 stays in process 1's session; stages 2 and 3 lead their own.
    let s1 = fs::read_to_string(b.file("s1")).unwrap();
    assert!(s1.ends_with(" 1\n"), "stage 1 session: {s1}");
    let s2: Vec<String> = fs::read_to_string(b.file("s2"))
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(s2[0], s2[1], "stage 2 leads a session");
    // Nothing blocked, nothing ignored: SIGCONT (bit 18) in particular (2.3.0).
    for f in ["sig1", "sig2"] {
        let mut sig = fs::read_to_string(b.file(f)).unwrap();
        if emulated().is_some() {
            // qemu-user keeps host signal 32 ignored for itself; the stages (native shells)
            // inherit that, and no guest program can reset it.
            sig = sig.replace("SigIgn:\t0000000080000000", "SigIgn:\t0000000000000000");
        }
        assert_eq!(
            sig, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n",
            "{f}"
        );
    }
}

#[test]
fn reboot_file_reboots() {
    if !namespaces() {
        return;
    }
    let mut b = Boot::new();
    simple_stages(&b);
    b.set("reboot");
    b.set("nosync");
    b.start();
    assert_eq!(b.ended_by(), nix::libc::SIGHUP, "{}", b.console());
    let lines = b.runit_lines();
    assert_eq!(
        lines[lines.len() - 2..],
        b.expect(&["sending KILL signal to all processes...", "system reboot."])
    );
}

#[test]
fn missing_stages_are_reported_and_passed() {
    if !namespaces() {
        return;
    }
    let mut b = Boot::new();
    b.start();
    assert_eq!(b.ended_by(), nix::libc::SIGINT, "{}", b.console());
    let mut want = vec![format!("{ID}: booting.")];
    for n in 1..=3 {
        want.push(format!("enter stage: E/{n}"));
        want.push(format!(
            "fatal: unable to start child: E/{n}: file does not exist"
        ));
        want.push(format!("leave stage: E/{n}"));
    }
    want.push("sending KILL signal to all processes...".into());
    want.push("power off...".into());
    let want: Vec<&str> = want.iter().map(String::as_str).collect();
    assert_eq!(b.runit_lines(), b.expect(&want));
}

#[test]
fn stage1_exit_100_or_crash_skips_stage2() {
    if !namespaces() {
        return;
    }
    for (body, first) in [
        ("exit 100", "warning: child failed: E/1"),
        ("kill -KILL $$", "warning: child crashed: E/1"),
    ] {
        let mut b = Boot::new();
        simple_stages(&b);
        b.stage("1", body);
        b.start();
        assert_eq!(b.ended_by(), nix::libc::SIGINT, "{}", b.console());
        assert_eq!(
            b.runit_lines()[1..6],
            b.expect(&[
                "enter stage: E/1",
                first,
                "leave stage: E/1",
                "warning: skipping stage 2...",
                "enter stage: E/3",
            ])
        );
        assert!(!b.file("ran2").exists(), "stage 2 ran");
        assert!(b.file("ran3").exists());
    }
    // Any other failure of stage 1 goes on to stage 2.
    let mut b = Boot::new();
    simple_stages(&b);
    b.stage("1", "exit 1");
    b.start();
    b.ended_by();
    assert!(b.file("ran2").exists(), "{}", b.console());
}

#[test]
fn stage2_exit_111_and_crash_restart_it_after_5s() {
    if !namespaces() {
        return;
    }
    let mut b = Boot::new();
    simple_stages(&b);
    b.stage(
        "2",
        "n=$(cat E/count 2>/dev/null || echo 0); n=$((n + 1)); echo $n >E/count\n\
         case $n in\n\
         1) sleep 1000 & echo $! >E/bg; exit 111 ;;\n\
         2) kill -0 $(cat E/bg) 2>/dev/null && echo alive >E/bgstate || echo gone >E/bgstate\n\
            kill -KILL $$ ;;\n\
         esac\n\
         exit 0",
    );
    b.start();
    assert_eq!(b.ended_by(), nix::libc::SIGINT, "{}", b.console());
    let elapsed = b.started.elapsed();
    assert_eq!(
        b.runit_lines()[3..14],
        b.expect(&[
            "enter stage: E/2",
            "warning: child failed: E/2",
            "warning: killing all processes in stage 2...",
            "warning: restarting.",
            "enter stage: E/2",
            "warning: child crashed: E/2",
            "warning: killing all processes in stage 2...",
            "warning: restarting.",
            "enter stage: E/2",
            "leave stage: E/2",
            "enter stage: E/3",
        ])
    );
    assert_eq!(fs::read_to_string(b.file("count")).unwrap(), "3\n");
    // The first run's background process went with its process group.
    assert_eq!(fs::read_to_string(b.file("bgstate")).unwrap(), "gone\n");
    assert!(elapsed >= Duration::from_millis(9900), "{elapsed:?}");
}

#[test]
fn sigcont_with_stopit_ends_stage2() {
    if !namespaces() {
        return;
    }
    let mut b = Boot::new();
    simple_stages(&b);
    b.stage("2", "echo $$ >E/s2; exec sleep 1000");
    b.start();
    b.wait_console("enter stage: E/2");
    wait_until("stage 2 runs", || b.file("s2").exists());
    let init = b.init();
    // Without stopit (and without ctrlaltdel), SIGCONT and SIGINT change nothing.
    b.signal_init(nix::libc::SIGCONT);
    b.signal_init(nix::libc::SIGINT);
    settled(init);
    assert!(
        !b.console().contains(&format!("leave stage: {}/2", b.e())),
        "{}",
        b.console()
    );
    assert_eq!(children(init).len(), 1, "stage 2 still runs");
    b.set("stopit");
    b.signal_init(nix::libc::SIGCONT);
    assert_eq!(b.ended_by(), nix::libc::SIGINT, "{}", b.console());
    assert_eq!(
        b.runit_lines()[3..],
        b.expect(&[
            "enter stage: E/2",
            "leave stage: E/2",
            "enter stage: E/3",
            "leave stage: E/3",
            "sending KILL signal to all processes...",
            "power off...",
        ])
    );
    assert_eq!(mode(&b.file("stopit")), 0, "stopit is reset");
}

#[test]
fn stage2_ignoring_term_is_killed_after_5s() {
    if !namespaces() {
        return;
    }
    let mut b = Boot::new();
    simple_stages(&b);
    b.stage(
        "2",
        "trap '' TERM; echo >E/ready; while :; do sleep 1; done",
    );
    b.start();
    wait_until("stage 2 runs", || b.file("ready").exists());
    b.set("stopit");
    b.signal_init(nix::libc::SIGCONT);
    let asked = Instant::now();
    b.wait_console("warning: stage 2 not terminated, sending sigkill...");
    let waited = asked.elapsed();
    assert!(waited >= Duration::from_millis(4900), "{waited:?}");
    assert_eq!(b.ended_by(), nix::libc::SIGINT, "{}", b.console());
    assert_eq!(
        b.runit_lines()[4..7],
        b.expect(&[
            "warning: stage 2 not terminated, sending sigkill...",
            "leave stage: E/2",
            "enter stage: E/3",
        ])
    );
}

#[test]
fn ctrlaltdel_on_sigint() {
    if !namespaces() {
        return;
    }
    let mut b = Boot::new();
    simple_stages(&b);
    b.stage("2", "echo >E/ready; exec sleep 1000");
    // As Debian's: ask for a reboot.
    b.stage(
        "ctrlaltdel",
        "echo >E/cad; touch E/stopit E/reboot; chmod 100 E/stopit E/reboot",
    );
    b.start();
    wait_until("stage 2 runs", || b.file("ready").exists());
    b.signal_init(nix::libc::SIGINT);
    assert_eq!(b.ended_by(), nix::libc::SIGHUP, "{}", b.console());
    assert_eq!(
        b.runit_lines()[3..],
        b.expect(&[
            "enter stage: E/2",
            "ctrl-alt-del request...",
            "enter stage: E/ctrlaltdel",
            "leave stage: E/ctrlaltdel",
            "leave stage: E/2",
            "enter stage: E/3",
            "leave stage: E/3",
            "sending KILL signal to all processes...",
            "system reboot.",
        ])
    );
}

#[test]
fn signals_outside_stage2_only_warn() {
    if !namespaces() {
        return;
    }
    let mut b = Boot::new();
    simple_stages(&b);
    b.stage(
        "1",
        "echo >E/ready; while [ ! -e E/go ]; do sleep 0.01; done",
    );
    b.set("stopit");
    b.start();
    wait_until("stage 1 runs", || b.file("ready").exists());
    b.signal_init(nix::libc::SIGCONT);
    b.wait_console("warning: signals only work in stage 2.");
    fs::write(b.file("go"), "").unwrap();
    assert_eq!(b.ended_by(), nix::libc::SIGINT, "{}", b.console());
    assert!(b.file("ran2").exists(), "stage 2 ran: {}", b.console());
    assert_eq!(mode(&b.file("stopit")), 0o100, "stopit untouched");
}

#[test]
fn orphans_are_reaped_and_process_1_idles() {
    if !namespaces() {
        return;
    }
    let mut b = Boot::new();
    simple_stages(&b);
    b.stage(
        "2",
        "for i in 1 2 3; do sh -c \"sh -c 'sleep 0.2; echo >E/orphan$i' &\"; done\n\
         exec sleep 1000",
    );
    b.start();
    for i in 1..=3 {
        wait_until("orphan done", || b.file(&format!("orphan{i}")).exists());
    }
    let init = b.init();
    // Only stage 2 is left under process 1: the orphans were reaped, no zombie remains.
    wait_until("orphans reaped", || {
        let c = children(init);
        c.len() == 1 && !zombie(c[0])
    });
    // No periodic wake-up while nothing happens.
    assert_idle(init as i32, "process 1");
}

#[test]
fn runit_init_inside_halts_and_reboots() {
    if !namespaces() {
        return;
    }
    for (arg, sig, last) in [
        ("0", nix::libc::SIGINT, "power off..."),
        ("6", nix::libc::SIGHUP, "system reboot."),
    ] {
        let mut b = Boot::new();
        simple_stages(&b);
        b.stage("2", "echo >E/ready; exec sleep 1000");
        // Stage 3 waits for runit-init to have exited: its final kill would take it along.
        b.stage("3", "while [ ! -e E/go ]; do sleep 0.01; done");
        b.start();
        wait_until("stage 2 runs", || b.file("ready").exists());
        let o = run_cmd(
            Command::new("nsenter")
                .args(["-t", &b.init().to_string(), "-p", "--"])
                .arg(applet("runit-init"))
                .arg(arg)
                .env("SVBOX_RUNIT_DIR", b.etc()),
        );
        assert_eq!((o.code, o.stderr.as_str()), (Some(0), ""));
        fs::write(b.file("go"), "").unwrap();
        assert_eq!(b.ended_by(), sig, "{}", b.console());
        assert_eq!(b.runit_lines().last().unwrap(), &format!("- runit: {last}"));
        assert!(b.console().contains(&format!("leave stage: {}/2\n", b.e())));
    }
}

#[test]
fn init_as_process_1_falls_back_to_the_builtin_runit() {
    if !namespaces() || Path::new("/sbin/runit").exists() {
        return;
    }
    let mut b = Boot::new();
    simple_stages(&b);
    b.start_as("init");
    assert_eq!(b.ended_by(), nix::libc::SIGINT, "{}", b.console());
    assert!(b.file("ran3").exists());
    assert_eq!(
        b.d.as_ref().unwrap().stderr(),
        "init: warning: unable to start runit: file does not exist\n"
    );
    assert_eq!(b.runit_lines()[0], format!("- runit: {ID}: booting."));
}
