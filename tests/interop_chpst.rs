//! The same command lines through runit 2.1.2's chpst (Debian's binary, behind links named
//! chpst, envdir, setlock, …), daemontools 0.76's envdir, setuidgid, envuidgid, softlimit,
//! pgrphack and setlock, and ours. The exec'd program reports what it got (environment and
//! argv byte for byte, ids and groups, ignored and blocked signals, limits, nice value,
//! session, open standard descriptors, working directory; inside a chroot what busybox's
//! `id`, `pwd` and `ls` show), and exit code, stdout and stderr must be equal byte for byte.
//!
//! Allowed differences: chpst mode's usage line (svbox adds `G` and `[-C pwd]`); against
//! daemontools, whose messages carry its own prefixes and whose usage exits differ, only
//! runs the reference completes with exit 0 are compared whole, the others by exit code.
//! daemontools' setlock waits by default where runit's fails at once (runit inverted -n/-N),
//! so it is compared on a free lock only; locks that are taken are compared with runit's.
//! chpst starts with a clean signal state here: svbox resets an ignored SIGPIPE and the
//! signal mask where runit passes them on (by design; tests/chpst.rs covers it). "Ours" is
//! `chpst_program`, so `SVBOX_TEST_CHPST=runit` checks the harness against runit itself.
mod common;
use common::*;

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The exec'd program's report, for `/bin/sh` (dash) outside a chroot.
const REPORT: &str = r#"cat /proc/$$/environ; echo; cat /proc/$$/cmdline; echo
while read -r k v; do
  case $k in Uid:|Gid:|Groups:|SigIgn:|SigBlk:) echo "$k $v" ;; esac
done </proc/$$/status
cat /proc/$$/limits
read -r _ _ _ _ pgrp sid rest </proc/$$/stat
set -- $rest; shift 12
echo "nice $1"
[ "$pgrp" = $$ ] && echo "process group leader"
[ "$sid" = $$ ] && echo "session leader"
for f in 0 1 2; do [ -e /proc/$$/fd/$f ] && echo "fd $f open"; done
echo "cwd $(pwd -P)"
exit 0"#;

/// `REPORT`, under qemu-user with two things it cannot show alike: the environment sorted
/// (qemu hands an emulated program its environment in reverse order, and chpst keeps the
/// order it got), and without the data, stack and address space limits (qemu accepts them
/// but does not set them: they would bind qemu itself).
fn report() -> String {
    if emulated().is_none() {
        return REPORT.to_string();
    }
    let sorted = REPORT.replacen(
        "cat /proc/$$/environ;",
        "/usr/bin/sort -z /proc/$$/environ;",
        1,
    );
    let adapted = sorted.replacen(
        "cat /proc/$$/limits",
        "/usr/bin/grep -Ev '^Max (data size|stack size|address space) ' /proc/$$/limits",
        1,
    );
    assert!(sorted != REPORT && adapted != sorted, "REPORT changed");
    adapted
}

/// The report inside the chroot fixture (busybox's shell and applets, no /proc there).
const JAIL_REPORT: &str = r#"echo "ids $(id -u) $(id -g) $(id -G)"
echo "UID=$UID GID=$GID HOME=$HOME"
echo "cwd $(pwd)"; ls /; exit 0"#;

const CHPST_OPTS_SVBOX: &str = " [-vVP012G] [-u user[:group]] [-U user[:group]] [-b argv0] \
[-e dir] [-/ root] [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] \
[-t n] prog";
const CHPST_OPTS_RUNIT: &str = " [-vVP012] [-u user[:group]] [-U user[:group]] [-b argv0] \
[-e dir] [-/ root] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] \
prog";

/// One command line.
struct Case {
    /// The name both programs are called by.
    name: &'static str,
    /// `REPORT`, `JAIL_REPORT` and `INNER` (the same program again, as chpst) are expanded.
    args: Vec<OsString>,
    /// Added to `PATH=/usr/bin:/bin`.
    env: Vec<(OsString, OsString)>,
    /// Needs the chroot fixtures (`root` with passwd and group files, `bare` without).
    jail: bool,
}

fn case(name: &'static str, args: &[&str]) -> Case {
    Case {
        name,
        args: args.iter().map(OsString::from).collect(),
        env: Vec::new(),
        jail: args
            .iter()
            .any(|a| ["JAIL_REPORT", "root", "bare"].contains(a)),
    }
}

impl Case {
    fn env(mut self, name: &[u8], value: &[u8]) -> Case {
        self.env.push((
            OsStr::from_bytes(name).to_owned(),
            OsStr::from_bytes(value).to_owned(),
        ));
        self
    }

    fn arg(mut self, arg: &[u8]) -> Case {
        self.args.push(OsStr::from_bytes(arg).to_owned());
        self
    }

    fn describe(&self) -> String {
        let args: Vec<_> = self.args.iter().map(|a| a.to_string_lossy()).collect();
        format!("{} {}", self.name, args.join(" "))
    }
}

/// What one run printed, byte for byte.
#[derive(Debug, PartialEq)]
struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Run {
    fn show(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            String::from_utf8_lossy(&self.stdout),
            String::from_utf8_lossy(&self.stderr)
        )
    }
}

/// The directory a case runs in: envdirs, PATH directories, a public directory, a lock held
/// by the test (`held`) and, when asked, the chroot fixtures.
struct Fixture {
    tree: Tree,
    _held: fs::File,
}

const JAIL_PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
svtest:x:4242:4300:Test User:/home/svtest:/bin/sh\n";
const JAIL_GROUP: &str = "root:x:0:\nsvprimary:x:4300:\nsva:x:4301:svtest\nsvb:x:4302:svtest\n";

impl Fixture {
    fn new(jail: bool) -> Fixture {
        let tree = Tree::new();
        let at = |rel: &str| tree.join(rel);
        fs::set_permissions(tree.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let files: &[(&str, &[u8])] = &[
            ("env/FIRST", b"first\nsecond\n"),
            ("env/TRAIL", b"val \t \t\n"),
            ("env/NUL", b"a\0b\0\n"),
            ("env/EMPTY_LINE", b"\n"),
            ("env/GONE", b""),
            ("env/KEEP", b"from envdir\n"),
            ("env/UID", b"from envdir\n"),
            ("env/RAW", b"\xfe\xff\n"),
            ("env/.hidden", b"x\n"),
            ("env/E=F", b"y\n"),
            ("env2/A", b"a\n"),
            ("env3/A", b"a\n"),
            ("env3/SECRET", b"s\n"),
            ("p1/prog", b"#!/bin/sh\necho p1\n"),
            ("p2/prog", b"#!/bin/sh\necho p2\n"),
            ("plain", b"echo hi\n"),
        ];
        for (rel, content) in files {
            fs::create_dir_all(at(rel).parent().unwrap()).unwrap();
            fs::write(at(rel), content).unwrap();
        }
        fs::create_dir(at("env2/sub")).unwrap();
        let mode = |rel: &str, m| fs::set_permissions(at(rel), fs::Permissions::from_mode(m));
        mode("env3/SECRET", 0o000).unwrap();
        mode("p2/prog", 0o755).unwrap();
        fs::create_dir(at("pub")).unwrap();
        mode("pub", 0o777).unwrap();
        let held = fs::File::create(at("held")).unwrap();
        rustix::fs::flock(&held, rustix::fs::FlockOperation::LockExclusive).unwrap();
        if jail {
            for (rel, etc) in [("root", true), ("bare", false)] {
                make_jail(&at(rel), etc);
            }
        }
        Fixture { tree, _held: held }
    }
}

fn make_jail(root: &Path, etc: bool) {
    let busybox = Path::new("/usr/bin/busybox");
    assert!(
        busybox.is_file(),
        "a static busybox is needed at /usr/bin/busybox"
    );
    for d in ["bin", "etc", "home/svtest"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::copy(busybox, root.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
    if etc {
        fs::write(root.join("etc/passwd"), JAIL_PASSWD).unwrap();
        fs::write(root.join("etc/group"), JAIL_GROUP).unwrap();
    }
}

/// Runs `program` (called as the case's name) with the case's arguments in `dir`; `inner` is
/// the same implementation called as chpst.
fn run(program: &Path, inner: &Path, case: &Case, dir: &Path) -> Run {
    let mut cmd = Command::new(program);
    for a in &case.args {
        match a.to_str() {
            Some("REPORT") => cmd.args(["/bin/sh", "-c", &report()]),
            Some("JAIL_REPORT") => cmd.args(["/bin/sh", "-c", JAIL_REPORT]),
            Some("INNER") => cmd.arg(inner),
            _ => cmd.arg(a),
        };
    }
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(case.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let mut stderr = Vec::new();
    let _ = err.read_to_end(&mut stderr);
    let end = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{}: {} did not finish", case.describe(), program.display());
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Run {
        code: status.code(),
        stdout: reader.join().unwrap(),
        stderr,
    }
}

/// Replaces svbox's chpst usage options with runit's (the one allowed difference).
fn runit_usage(stderr: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(stderr);
    if !text.contains(CHPST_OPTS_SVBOX) {
        return stderr.to_vec();
    }
    text.replace(CHPST_OPTS_SVBOX, CHPST_OPTS_RUNIT)
        .into_bytes()
}

/// How the two runs are compared.
#[derive(Clone, Copy, PartialEq)]
enum Compare {
    /// Everything, byte for byte (runit's chpst).
    Exact,
    /// Everything when the reference exits 0, else the exit code (daemontools).
    ExitCodeOnFailure,
}

/// Runs every case through ours and the reference (`reference(name)`), each in a fresh fixture,
/// and fails listing every case whose outcomes differ.
fn differential(cases: &[Case], reference: impl Fn(&str) -> PathBuf, how: Compare) {
    let mut failures = Vec::new();
    for case in cases {
        let fixture = Fixture::new(case.jail);
        let dir = fixture.tree.path();
        let ours_program = chpst_program(case.name);
        let their_program = reference(case.name);
        let mut ours = run(&ours_program, &chpst_program("chpst"), case, dir);
        let theirs = run(&their_program, &reference("chpst"), case, dir);
        ours.stderr = runit_usage(&ours.stderr);
        let same = match how {
            Compare::ExitCodeOnFailure if theirs.code != Some(0) => ours.code == theirs.code,
            _ => ours == theirs,
        };
        // Two equally broken reports must not pass: a completed report ends as it should.
        let marker: &[u8] = if case.args.iter().any(|a| a == "JAIL_REPORT") {
            b"\nbin\n"
        } else {
            b"\ncwd /"
        };
        let reported = case
            .args
            .iter()
            .any(|a| a == "REPORT" || a == "JAIL_REPORT");
        // (`setlock -x` exits 0 without running it.)
        let ran = theirs.code == Some(0) && !theirs.stdout.is_empty();
        if reported && ran && !contains(&theirs.stdout, marker) {
            failures.push(format!(
                "=== {}: the reference's report is incomplete:\n{}",
                case.describe(),
                theirs.show()
            ));
        }
        if !same {
            failures.push(format!(
                "=== {}\n--- ours ({}):\n{}\n--- theirs ({}):\n{}",
                case.describe(),
                ours_program.display(),
                ours.show(),
                their_program.display(),
                theirs.show()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// softlimit with every limit it knows, each set to a value of its own.
#[rustfmt::skip]
const EVERY_SOFTLIMIT: &[&str] = &[
    "-a", "300000000", "-c", "1", "-d", "200000000", "-f", "12345", "-l", "65536", "-o", "99",
    "-p", "77", "-r", "4444", "-s", "1000000", "-t", "99", "REPORT",
];

/// runit's chpst called as `name`.
fn runit_as(name: &str) -> PathBuf {
    named_link("runit", &peers::runit("chpst"), name)
}

#[test]
fn chpst_options_against_runit() {
    if !peers::available() {
        return;
    }
    let cases = vec![
        case("chpst", &[]),
        case("chpst", &["-V"]),
        case("chpst", &["-k", "REPORT"]),
        case("chpst", &["-u"]),
        case("chpst", &["-l", "a", "-L", "b", "REPORT"]),
        case("chpst", &["-n", "1x", "REPORT"]),
        case("chpst", &["-o", "1k", "REPORT"]),
        case("chpst", &["REPORT"])
            .env(b"RAW\xff", b"v\x80\x01")
            .env(b"EMPTY", b""),
        case("chpst", &["--", "/bin/echo", "-u", "x"]),
        case("chpst", &["-b"])
            .arg(b"n\xe4me")
            .arg(b"REPORT")
            .arg(b"\xff\n"),
        case("chpst", &["-b", "zero", "./missing"]),
        case("chpst", &["-n", "5", "REPORT"]),
        case("chpst", &["-n", "-3", "REPORT"]),
        case("chpst", &["-n", "+2", "REPORT"]),
        case("chpst", &["-P", "REPORT"]),
        case("chpst", &["-0", "-2", "REPORT"]),
        case(
            "chpst",
            &[
                "-o",
                "100",
                "-d",
                "200000000",
                "-f",
                "12345",
                "-c",
                "0",
                "-p",
                "77",
                "-r",
                "4444",
                "-t",
                "99",
                "REPORT",
            ],
        ),
        case("chpst", &["-m", "300000000", "REPORT"]),
        case("chpst", &["-o", "999999999", "REPORT"]),
        case("chpst", &["-l", "lock", "REPORT"]),
        case("chpst", &["-L", "lock", "REPORT"]),
        case("chpst", &["-L", "held", "REPORT"]),
        case("chpst", &["-l", "missing/lock", "REPORT"]),
        case("chpst", &["./missing"]),
        case("chpst", &["./plain"]),
        case("chpst", &["/tmp"]),
        case("chpst", &["svbox-no-such-program"]),
        case("chpst", &["prog"]).env(b"PATH", b"p1:p2"),
        case("chpst", &["prog"]).env(b"PATH", b"p1:/nonexistent"),
        case("chpst", &["sh", "-c", "echo $PATH"]).env(b"PATH", b"/nonexistent:/bin:"),
        case("chpst", &["-e", "env", "sh", "-c", "echo $PATH"]),
        case("chpst", &["-/", "nonexistent", "REPORT"]),
    ];
    differential(&cases, runit_as, Compare::Exact);
}

#[test]
fn chpst_users_and_environment_against_runit() {
    if !peers::available() {
        return;
    }
    let cases = vec![
        case("chpst", &["-u", "nobody", "REPORT"]),
        case("chpst", &["-u", "nobody:nogroup:root", "REPORT"]),
        case("chpst", &["-u", ":1234:5678:91", "REPORT"]),
        case("chpst", &["-u", ":1234:", "REPORT"]),
        case("chpst", &["-u", ":0", "REPORT"]),
        case("chpst", &["-u", "svbox-no-user", "REPORT"]),
        case("chpst", &["-u", "nobody:svbox-no-group", "REPORT"]),
        case("chpst", &["-U", "nobody", "REPORT"]),
        case("chpst", &["-U", "nobody:root", "REPORT"]),
        case("chpst", &["-U", ":17:18", "REPORT"]),
        case("chpst", &["-u", "nobody", "-n", "-5", "REPORT"]),
        case("chpst", &["-e", "env", "REPORT"])
            .env(b"GONE", b"original")
            .env(b"KEEP", b"original")
            .env(b"E", b"original")
            .env(b"N\xff", b"v\xfe"),
        case("chpst", &["-e", "env", "-U", "nobody", "REPORT"]).env(b"UID", b"original"),
        case("chpst", &["-v", "-e", "env2", "REPORT"]),
        case("chpst", &["-e", "missing", "REPORT"]),
        case("chpst", &["-u", "nobody", "-l", "pub/lock", "REPORT"]),
        case(
            "chpst",
            &["-u", "nobody", "INNER", "-u", "root", "/bin/true"],
        ),
        case("chpst", &["-u", "nobody", "INNER", "-n", "-1", "/bin/true"]),
        case(
            "chpst",
            &["-u", "nobody", "INNER", "-e", "env3", "/bin/true"],
        ),
        case(
            "chpst",
            &["-u", "nobody", "INNER", "-l", "lock", "/bin/true"],
        ),
        case(
            "chpst",
            &["-u", "nobody", "INNER", "-/", "root", "/bin/true"],
        ),
    ];
    differential(&cases, runit_as, Compare::Exact);
}

#[test]
fn chpst_chroot_against_runit() {
    if !peers::available() {
        return;
    }
    let cases = vec![
        case("chpst", &["-/", "root", "JAIL_REPORT"]),
        case("chpst", &["-/", "root", "-u", "svtest", "JAIL_REPORT"]),
        case(
            "chpst",
            &["-/", "root", "-u", "svtest:svb:sva", "JAIL_REPORT"],
        ),
        case("chpst", &["-/", "root", "-U", "svtest:svb", "JAIL_REPORT"]),
        case("chpst", &["-/", "root", "-u", "nobody", "JAIL_REPORT"]),
        case("chpst", &["-e", "env", "-/", "root", "JAIL_REPORT"]),
        case("chpst", &["-/", "root", "/bin/true"]),
        case("chpst", &["-/", "bare", "-u", "svtest", "JAIL_REPORT"]),
        case("chpst", &["-/", "bare", "-U", "svtest", "JAIL_REPORT"]),
        case("chpst", &["-/", "bare", "-u", ":4242:4300", "JAIL_REPORT"]),
    ];
    differential(&cases, runit_as, Compare::Exact);
}

#[test]
fn emulations_against_runit() {
    if !peers::available() {
        return;
    }
    let mut cases = Vec::new();
    for name in [
        "envdir",
        "setuidgid",
        "envuidgid",
        "pgrphack",
        "setlock",
        "softlimit",
    ] {
        cases.push(case(name, &[]));
    }
    cases.extend([
        case("envdir", &["env"]),
        case("envdir", &["env", "REPORT"]).env(b"GONE", b"original"),
        case("envdir", &["env2", "REPORT"]),
        case("envdir", &["missing", "REPORT"]),
        case("envdir", &["env", "./missing"]),
        case("setuidgid", &["nobody"]),
        case("setuidgid", &["nobody", "REPORT"]),
        case("setuidgid", &["svbox-no-user", "REPORT"]),
        case("setuidgid", &[":0:0", "REPORT"]),
        case("envuidgid", &["nobody", "REPORT"]),
        case("envuidgid", &["svbox-no-user", "REPORT"]),
        case("pgrphack", &["REPORT"]),
        case("softlimit", EVERY_SOFTLIMIT),
        case("softlimit", &["-m", "300000000", "REPORT"]),
        case("softlimit", &["-o", "=", "REPORT"]),
        case("softlimit", &["-o", "x", "REPORT"]),
        case("softlimit", &["-k", "REPORT"]),
        case("setlock", &["lock"]),
        case("setlock", &["lock", "REPORT"]),
        case("setlock", &["held", "REPORT"]),
        case("setlock", &["-N", "held", "REPORT"]),
        case("setlock", &["-x", "held", "REPORT"]),
        case("setlock", &["-xX", "held", "REPORT"]),
        case("setlock", &["-x", "missing/lock", "REPORT"]),
        case("setlock", &["-x", "lock", "./missing"]),
        case("setlock", &["lock", "./missing"]),
        case("setlock", &["-k", "lock", "REPORT"]),
    ]);
    differential(&cases, runit_as, Compare::Exact);
}

#[test]
fn names_with_a_leading_d_against_runit() {
    if !peers::available() {
        return;
    }
    let cases = vec![
        case("dchpst", &[]),
        case("dchpst", &["-k", "REPORT"]),
        case("dsetlock", &["held", "REPORT"]),
        case("denvdir", &["env", "REPORT"]),
        case("dsoftlimit", &["-o", "50", "REPORT"]),
    ];
    differential(&cases, runit_as, Compare::Exact);
}

#[test]
fn emulations_against_daemontools() {
    if !peers::available() {
        return;
    }
    let cases = vec![
        case("envdir", &["env", "REPORT"])
            .env(b"GONE", b"original")
            .env(b"N\xff", b"v\xfe"),
        case("envdir", &["env2", "REPORT"]),
        case("envdir", &["missing", "REPORT"]),
        case("envdir", &["env", "./missing"]),
        case("setuidgid", &["nobody", "REPORT"]),
        case("setuidgid", &["svbox-no-user", "REPORT"]),
        case("envuidgid", &["nobody", "REPORT"]),
        case("envuidgid", &["svbox-no-user", "REPORT"]),
        case("pgrphack", &["REPORT"]),
        case("softlimit", EVERY_SOFTLIMIT),
        case("softlimit", &["-m", "300000000", "REPORT"]),
        case("softlimit", &["-o", "=", "REPORT"]),
        case("softlimit", &["-o", "x", "REPORT"]),
        case("softlimit", &["-k", "REPORT"]),
        case("setlock", &["lock", "REPORT"]),
        case("setlock", &["lock", "./missing"]),
    ];
    differential(&cases, peers::daemontools, Compare::ExitCodeOnFailure);
}
