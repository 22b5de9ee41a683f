//! runit-init (and `init`) when not process 1: `0`/`6` set the control files and send
//! process 1 SIGCONT (inside a PID namespace, whose process 1 is a shell trapping it), usage
//! and `-V` (exit 0, as runit), errors, and the same output as Debian's runit-init.
mod common;
use common::*;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const ID: &str = "$Id: f075d98bf7dd17c893021f9572cbb970cdad8dcf $";

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Runs `runit-init ARG` as a child of a shell that is process 1 of a new PID namespace
/// and reports SIGCONT; returns runit-init's outcome and whether SIGCONT arrived.
fn in_namespace(dir: &Path, arg: &str) -> Option<(Outcome, bool)> {
    let sh = format!(
        "trap 'echo CONT' CONT; {} {arg}; echo rc=$?",
        applet("runit-init").display()
    );
    let o = run_cmd(
        Command::new("unshare")
            .args(["--pid", "--fork", "sh", "-c", &sh])
            .env("SVBOX_RUNIT_DIR", dir),
    );
    if o.code != Some(0) {
        assert!(
            std::env::var_os("CI").is_none(),
            "PID namespaces needed: {o:?}"
        );
        return None;
    }
    let rc = o
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("rc="))
        .unwrap()
        .parse()
        .unwrap();
    let cont = o.stdout.lines().any(|l| l == "CONT");
    Some((
        Outcome {
            code: Some(rc),
            stdout: String::new(),
            stderr: o.stderr,
            finished: o.finished,
        },
        cont,
    ))
}

#[test]
fn zero_sets_stopit_and_clears_reboot() {
    let t = Tree::new();
    fs::write(t.join("reboot"), "").unwrap();
    fs::set_permissions(t.join("reboot"), fs::Permissions::from_mode(0o100)).unwrap();
    fs::write(t.join("stopit"), "old contents").unwrap();
    let Some((o, cont)) = in_namespace(t.path(), "0") else {
        return;
    };
    assert_eq!((o.code, o.stderr.as_str()), (Some(0), ""));
    assert!(cont, "process 1 got SIGCONT");
    assert_eq!(mode(&t.join("stopit")), 0o100);
    assert_eq!(fs::read(t.join("stopit")).unwrap(), b"", "truncated");
    assert_eq!(mode(&t.join("reboot")), 0);
    // Without a reboot file, 0 only sets stopit (only the first character counts).
    let t = Tree::new();
    let (o, cont) = in_namespace(t.path(), "0trailing").unwrap();
    assert_eq!((o.code, cont), (Some(0), true));
    assert_eq!(mode(&t.join("stopit")), 0o100);
    assert!(!t.join("reboot").exists());
}

#[test]
fn six_sets_stopit_and_reboot() {
    let t = Tree::new();
    let Some((o, cont)) = in_namespace(t.path(), "6") else {
        return;
    };
    assert_eq!((o.code, o.stderr.as_str(), cont), (Some(0), "", true));
    assert_eq!(mode(&t.join("stopit")), 0o100);
    assert_eq!(mode(&t.join("reboot")), 0o100);
}

#[test]
fn usage_and_version_exit_0() {
    let t = Tree::new();
    for name in ["runit-init", "init"] {
        let prog = applet(name);
        let usage = format!("usage: {} 0|6\n\n", prog.display());
        for args in [&[][..], &[""], &["1"], &["-x"], &["s"], &["--", "0"]] {
            let o = run_in(&prog, args, t.path());
            assert_eq!((o.code, o.stdout.as_str()), (Some(0), ""), "{args:?}");
            assert_eq!(o.stderr, usage, "{args:?}");
        }
        let o = run_in(&prog, &["-V"], t.path());
        assert_eq!(o.code, Some(0));
        assert_eq!(o.stderr, format!("{ID}\n\n{usage}"));
    }
    // Nothing was written anywhere.
    assert_eq!(fs::read_dir(t.path()).unwrap().count(), 0);
}

#[test]
fn errors_exit_111() {
    let t = Tree::new();
    let prog = applet("runit-init");
    let missing = t.join("missing");
    let env_run = |dir: &Path, arg: &str| {
        run_cmd(
            Command::new(&prog)
                .arg(arg)
                .env("SVBOX_RUNIT_DIR", dir)
                .current_dir(t.path()),
        )
    };
    let o = env_run(&missing, "0");
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        format!(
            "init: fatal: unable to create {}/stopit: file does not exist\n",
            missing.display()
        )
    );
    // stopit a directory.
    let d = t.join("d");
    fs::create_dir_all(d.join("stopit")).unwrap();
    let o = env_run(&d, "6");
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        format!(
            "init: fatal: unable to create {}/stopit: is a directory\n",
            d.display()
        )
    );
    // A reboot file whose mode cannot change (procfs refuses chmod even to root).
    let p = t.join("p");
    fs::create_dir(&p).unwrap();
    std::os::unix::fs::symlink("/proc/self/status", p.join("reboot")).unwrap();
    let o = env_run(&p, "0");
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        format!(
            "init: fatal: unable to chmod {}/reboot: permission denied\n",
            p.display()
        )
    );
    let o = env_run(&p, "6");
    assert_eq!(o.code, Some(111));
    assert!(
        o.stderr.starts_with("init: fatal: unable to ") && o.stderr.contains("/reboot: "),
        "{}",
        o.stderr
    );
}

#[test]
fn same_output_as_debian_runit_init() {
    if !peers::available() {
        return;
    }
    let peer =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers/runit/lib/runit/runit-init");
    let t = Tree::new();
    // Both under the same name and directory, so argv[0] in the usage line is the same.
    let ours: PathBuf = named_link("init-ours", &svbox(), "runit-init");
    let theirs: PathBuf = named_link("init-theirs", &peer, "runit-init");
    for args in [&[][..], &[""], &["x"], &["-V"], &["-Vx"], &["9"]] {
        let a = run_cmd(
            Command::new("runit-init")
                .args(args)
                .current_dir(t.path())
                .env("PATH", ours.parent().unwrap()),
        );
        let b = run_cmd(
            Command::new("runit-init")
                .args(args)
                .current_dir(t.path())
                .env("PATH", theirs.parent().unwrap()),
        );
        assert_same_outcome(&format!("{args:?}"), (&ours, &a), (&theirs, &b));
    }
}
