//! The multicall front end: dispatch by link name and by `svbox APPLET`, busybox-style
//! `--list`, `--list-full`, `--install [-s] DIR`, `--help`, LSB mode through an init.d
//! symlink, and the error for a name that is no applet.
mod common;
use common::*;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

#[test]
fn list_names_every_applet_sorted() {
    let out = run_in(&svbox(), &["--list"], Path::new("/"));
    assert_eq!(out.code, Some(0), "{out:?}");
    let names: Vec<&str> = out.stdout.lines().collect();
    assert!(
        names.contains(&"runsv") && names.contains(&"sv"),
        "{names:?}"
    );
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn list_full_gives_install_directories() {
    let out = run_in(&svbox(), &["--list-full"], Path::new("/"));
    assert_eq!(out.code, Some(0));
    assert!(
        out.stdout.lines().any(|l| l == "usr/bin/sv"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.lines().all(|l| l.contains('/')));
}

#[test]
fn install_makes_hard_links_or_symlinks() {
    // Next to the binary, so that hard links do not cross filesystems.
    let t = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let hard = t.path().join("hard");
    let soft = t.path().join("soft");
    fs::create_dir(&hard).unwrap();
    fs::create_dir(&soft).unwrap();
    let out = run_in(&svbox(), &["--install", hard.to_str().unwrap()], t.path());
    assert_eq!(out.code, Some(0), "{out:?}");
    let exe_ino = fs::metadata(svbox()).unwrap().ino();
    let m = fs::symlink_metadata(hard.join("sv")).unwrap();
    assert!(m.file_type().is_file());
    assert_eq!(m.ino(), exe_ino, "a hard link to the binary");

    let out = run_in(
        &svbox(),
        &["--install", "-s", soft.to_str().unwrap()],
        t.path(),
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let link = fs::read_link(soft.join("runsv")).unwrap();
    assert_eq!(
        fs::canonicalize(link).unwrap(),
        fs::canonicalize(svbox()).unwrap()
    );

    // The installed names work: runsv without arguments prints its usage.
    let out = run_in(&soft.join("runsv"), &[], t.path());
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.starts_with("usage: "), "{out:?}");

    // Installing again over existing links fails per name with a clear message.
    let out = run_in(
        &svbox(),
        &["--install", "-s", soft.to_str().unwrap()],
        t.path(),
    );
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("svbox: unable to link ") && out.stderr.contains("file already exists"),
        "{out:?}"
    );
}

#[test]
fn help_and_bad_front_end_options() {
    let out = run_in(&svbox(), &["--help"], Path::new("/"));
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains("--install"), "{out:?}");
    let out = run_in(&svbox(), &["--bogus"], Path::new("/"));
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("--bogus"), "{out:?}");
    let out = run_in(&svbox(), &[], Path::new("/"));
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("Usage: svbox APPLET"), "{out:?}");
}

#[test]
fn svbox_applet_args_runs_the_applet() {
    let direct = run_in(&svbox(), &["sv"], Path::new("/"));
    let linked = run_in(&applet("sv"), &[], Path::new("/"));
    assert_eq!(direct.code, Some(100));
    assert_eq!(direct.code, linked.code);
    assert_eq!(direct.stderr, linked.stderr);
    assert!(direct.stderr.starts_with("usage: sv "), "{direct:?}");
}

#[test]
fn unknown_applet_is_exit_127() {
    let out = run_in(&svbox(), &["nosuch"], Path::new("/"));
    assert_eq!(out.code, Some(127));
    assert_eq!(out.stderr, "svbox: applet not found: nosuch\n");

    // A link with a mistyped name, called through PATH (no slash), is a mistake too.
    let t = Tree::new();
    std::os::unix::fs::symlink(svbox(), t.join("rnusv")).unwrap();
    let out = run_cmd(Command::new("rnusv").env("PATH", t.path()));
    assert_eq!(out.code, Some(127));
    assert_eq!(out.stderr, "svbox: applet not found: rnusv\n");
}

#[test]
fn init_d_symlink_is_sv_in_lsb_mode() {
    let t = Tree::new();
    let initd = t.join("init.d");
    fs::create_dir(&initd).unwrap();
    std::os::unix::fs::symlink(svbox(), initd.join("foo")).unwrap();
    // LSB usage: `usage: foo [-w sec] command`, exit 2.
    let out = run_in(&initd.join("foo"), &[], t.path());
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains(" [-w sec] command"), "{out:?}");
}

#[test]
fn non_utf8_applet_name_is_reported_as_given() {
    let name = std::ffi::OsStr::from_bytes(b"x\xff");
    let out = run_cmd(Command::new(svbox()).arg(name));
    assert_eq!(out.code, Some(127));
    assert!(
        out.stderr.starts_with("svbox: applet not found: x"),
        "{out:?}"
    );
}
