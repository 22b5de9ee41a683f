//! Smoke tests of the chpst applet and its daemontools names: a few real runs through
//! applet-named symlinks (the thorough suites are tests/chpst.rs and tests/interop_chpst.rs).

mod common;
use common::*;
use std::fs;
use std::process::Command;

const CHPST_USAGE: &str = "usage: chpst [-vVP012G] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root] [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] prog\n\n";

fn run(name: &str, args: &[&str], cwd: &std::path::Path) -> Outcome {
    run_in(&applet(name), args, cwd)
}

#[test]
fn chpst_e_sets_and_unsets_from_first_lines() {
    let t = Tree::new();
    let env = t.join("env");
    fs::create_dir(&env).unwrap();
    fs::write(env.join("VALUE"), "a b \t\nsecond line\n").unwrap();
    fs::write(env.join("NUL"), b"x\0y").unwrap();
    fs::write(env.join("EMPTYLINE"), "\n").unwrap();
    fs::write(env.join("SVBOX_SMOKE_GONE"), "").unwrap();
    fs::write(env.join(".hidden"), "no").unwrap();
    fs::create_dir(env.join("sub")).unwrap();
    let script = "printf '[%s][%s][%s][%s]' \"$VALUE\" \"$NUL\" \"$EMPTYLINE\" \
                  \"${SVBOX_SMOKE_GONE-unset}\"; env | grep -c '^.hidden='; true";
    let o = run_cmd(
        Command::new(applet("chpst"))
            .args(["-e", "env", "sh", "-c", script])
            .env("SVBOX_SMOKE_GONE", "present")
            .current_dir(t.path()),
    );
    assert_eq!(o.code, Some(0), "{o:?}");
    assert_eq!(o.stdout, "[a b][x\ny][][unset]0\n", "dot files are skipped");
    assert_eq!(
        o.stderr, "",
        "a subdirectory is skipped silently without -v"
    );
    let o = run("chpst", &["-v", "-e", "env", "true"], t.path());
    assert_eq!(o.code, Some(0));
    assert_eq!(
        o.stderr,
        "chpst: warning: unable to read env/sub: is a directory\n"
    );
}

#[test]
fn envdir_is_fatal_on_subdirectories_and_missing_dirs() {
    let t = Tree::new();
    let env = t.join("env");
    fs::create_dir(&env).unwrap();
    fs::write(env.join("GREETING"), "hello\n").unwrap();
    let o = run("envdir", &["env", "sh", "-c", "echo $GREETING"], t.path());
    assert_eq!((o.code, o.stdout.as_str()), (Some(0), "hello\n"));
    fs::create_dir(env.join("sub")).unwrap();
    let o = run("envdir", &["env", "true"], t.path());
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        "chpst: fatal: unable to read env/sub: is a directory\n"
    );
    let o = run("envdir", &["missing", "true"], t.path());
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        "chpst: fatal: unable to switch to directory: missing: file does not exist\n"
    );
}

#[test]
fn softlimit_o_sets_the_soft_limit_below_the_hard_one() {
    let t = Tree::new();
    let o = run(
        "softlimit",
        &["-o", "17", "sh", "-c", "ulimit -n"],
        t.path(),
    );
    assert_eq!((o.code, o.stdout.as_str()), (Some(0), "17\n"), "{o:?}");
    let hard = run("chpst", &["sh", "-c", "ulimit -H -n"], t.path());
    let o = run("softlimit", &["-o", "=", "sh", "-c", "ulimit -n"], t.path());
    assert_eq!(
        o.stdout, hard.stdout,
        "`=` raises the soft limit to the hard one"
    );
    let o = run(
        "chpst",
        &["-o", "99999999999999999999999", "sh", "-c", "ulimit -n"],
        t.path(),
    );
    assert_eq!(o.stdout, hard.stdout, "too high is clamped");
}

#[test]
fn usage_errors_exit_100() {
    let t = Tree::new();
    let o = run("chpst", &[], t.path());
    assert_eq!((o.code, o.stderr.as_str()), (Some(100), CHPST_USAGE));
    let o = run("chpst", &["-z", "true"], t.path());
    assert_eq!(o.code, Some(100));
    assert_eq!(
        o.stderr,
        format!("chpst: illegal option -- z\n{CHPST_USAGE}")
    );
    let o = run("chpst", &["-V", "true"], t.path());
    assert_eq!(
        o.stderr,
        format!("$Id: f279d44141c981dd7535a12260efcf1ef7beed26 $\n{CHPST_USAGE}")
    );
    let o = run("softlimit", &["-o", "many", "true"], t.path());
    assert_eq!(o.code, Some(100));
    assert!(o.stderr.starts_with("usage: softlimit [-vVP012G]"), "{o:?}");
    let o = run("setlock", &["file"], t.path());
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            Some(100),
            "usage: setlock [ -nNxX ] file program [ arg ... ]\n\n"
        )
    );
    assert!(!t.join("file").exists(), "nothing done on a usage error");
}

#[test]
fn exec_failures_and_unknown_users_exit_111() {
    let t = Tree::new();
    let o = run("chpst", &["svbox-no-such-program"], t.path());
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        "chpst: fatal: unable to run: svbox-no-such-program: file does not exist\n"
    );
    let o = run("chpst", &["-u", ":0", "true"], t.path());
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (Some(111), "chpst: fatal: invalid uid/gids: 0\n")
    );
    let o = run("setuidgid", &["svbox-no-such-user", "true"], t.path());
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            Some(111),
            "chpst: fatal: unknown account: svbox-no-such-user\n"
        )
    );
    let o = run(
        "setlock",
        &["-x", "lock", "svbox-no-such-program"],
        t.path(),
    );
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (Some(0), ""),
        "-x: exit 0 silently"
    );
}

#[test]
fn setlock_fails_at_once_while_the_lock_is_held() {
    let t = Tree::new();
    // The holder waits for the lock (-l), so an early probe holding it briefly is harmless.
    let mut holder = Daemon::start(
        &applet("chpst"),
        &[
            "-l".as_ref(),
            "lock".as_ref(),
            "sleep".as_ref(),
            "30".as_ref(),
        ],
        t.path(),
    );
    wait_until("the lock is held", || {
        let o = run("setlock", &["lock", "true"], t.path());
        o.code == Some(111) && o.stderr == "chpst: fatal: unable to lock: lock: temporary failure\n"
    });
    assert_eq!(holder.try_exit(), None, "the holder still runs");
}
