//! runsvchdir in a temporary `$RUNSVDIR` (runit 2.3.0): switching `current`, `previous`
//! kept, every message and exit code, `current` never missing during a switch, and the same
//! output as Debian's runsvchdir where it does not need `/etc/runit/runsvdir`.
mod common;
use common::*;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

/// A runsvdir directory with runlevels `default` and `single`, `current` → `default`.
fn levels() -> Tree {
    let t = Tree::new();
    fs::create_dir(t.join("default")).unwrap();
    fs::create_dir(t.join("single")).unwrap();
    symlink("default", t.join("current")).unwrap();
    t
}

fn chdir_to(dir: &Path, args: &[&str]) -> Outcome {
    run_cmd(
        Command::new(applet("runsvchdir"))
            .args(args)
            .env("RUNSVDIR", dir)
            .current_dir("/"),
    )
}

fn link(p: &Path) -> String {
    fs::read_link(p).unwrap().display().to_string()
}

#[test]
fn switches_current_and_keeps_previous() {
    let t = levels();
    let o = chdir_to(t.path(), &["single"]);
    assert_eq!(o.code, Some(0));
    assert_eq!(o.stdout, "runsvchdir: single: now current.\n");
    assert_eq!(o.stderr, "");
    assert_eq!(link(&t.join("current")), "single");
    assert_eq!(link(&t.join("previous")), "default");
    assert!(!t.join("current.new").exists());
    // Already current.
    let o = chdir_to(t.path(), &["single"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (Some(0), "runsvchdir: single: current.\n")
    );
    // And back.
    let o = chdir_to(t.path(), &["default"]);
    assert_eq!(o.stdout, "runsvchdir: default: now current.\n");
    assert_eq!(link(&t.join("current")), "default");
    assert_eq!(link(&t.join("previous")), "single");
}

#[test]
fn a_real_current_directory_becomes_previous() {
    let t = Tree::new();
    fs::create_dir(t.join("current")).unwrap();
    fs::write(t.join("current/marker"), "").unwrap();
    fs::create_dir(t.join("single")).unwrap();
    let o = chdir_to(t.path(), &["single"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (Some(0), "runsvchdir: single: now current.\n")
    );
    assert_eq!(link(&t.join("current")), "single");
    assert!(t.join("previous/marker").exists());
}

#[test]
fn current_never_disappears_while_switching() {
    let t = levels();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut looks = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                assert!(
                    fs::symlink_metadata(t.join("current")).is_ok(),
                    "current missing"
                );
                looks += 1;
            }
            looks
        });
        for i in 0..100 {
            let to = if i % 2 == 0 { "single" } else { "default" };
            let o = chdir_to(t.path(), &[to]);
            assert_eq!(o.code, Some(0), "{o:?}");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(watcher.join().unwrap() > 100);
    });
}

#[test]
fn bad_input() {
    let t = levels();
    fs::write(t.join("file"), "").unwrap();
    let p = applet("runsvchdir").display().to_string();
    let cases: &[(&[&str], &str)] = &[
        (&[".hidden"], ".hidden: must not start with a dot."),
        (&[".."], "..: must not start with a dot."),
        (&["missing"], "missing: file does not exist"),
        (&[""], ": file does not exist"),
        (&["file"], "filenot a directory."),
    ];
    for (args, msg) in cases {
        let o = chdir_to(t.path(), args);
        assert_eq!(o.code, Some(111), "{args:?}");
        assert_eq!(o.stderr, format!("{p}: fatal: {msg}\n"), "{args:?}");
        assert_eq!(o.stdout, "");
    }
    let o = chdir_to(t.path(), &[]);
    assert_eq!((o.code, o.stderr), (Some(1), format!("usage: {p} dir\n\n")));
    // The runsvdir directory missing.
    let o = chdir_to(&t.join("nowhere"), &["single"]);
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        format!(
            "{p}: fatal: unable to chdir: {}: file does not exist\n",
            t.join("nowhere").display()
        )
    );
    // No current.
    fs::remove_file(t.join("current")).unwrap();
    let o = chdir_to(t.path(), &["single"]);
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        format!("{p}: fatal: unable to stat: current: file does not exist\n")
    );
    // previous a non-empty directory: cannot be replaced, current stays.
    symlink("default", t.join("current")).unwrap();
    fs::create_dir(t.join("previous")).unwrap();
    fs::write(t.join("previous/x"), "").unwrap();
    let o = chdir_to(t.path(), &["single"]);
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        format!("{p}: fatal: unable to unlink: previous: is a directory\n")
    );
    assert_eq!(link(&t.join("current")), "default");
}

#[test]
fn same_output_as_debian_runsvchdir() {
    if !peers::available() || Path::new("/etc/runit/runsvdir").exists() {
        return;
    }
    let peer = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers/runit/usr/sbin/runsvchdir");
    let ours = named_link("chdir-ours", &svbox(), "runsvchdir");
    let theirs = named_link("chdir-theirs", &peer, "runsvchdir");
    for args in [&[][..], &[".x"], &["single"]] {
        let run = |prog: &Path| {
            run_cmd(
                Command::new("runsvchdir")
                    .args(args)
                    .env("PATH", prog.parent().unwrap())
                    .env_remove("RUNSVDIR")
                    .current_dir("/"),
            )
        };
        let (a, b) = (run(&ours), run(&theirs));
        assert_same_outcome(&format!("{args:?}"), (&ours, &a), (&theirs, &b));
    }
}
