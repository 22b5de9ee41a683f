#![cfg(feature = "svlogd")]
//! svlogd: options, config directives, rotation, processors, patterns, signals, messages,
//! with real processes and directories, compared with runit's svlogd where useful.

mod common;
use common::*;

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const USAGE: &str = " [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...\n\n";

/// Runs `program args` in `cwd` with `input` on stdin, to completion.
fn feed(program: &Path, args: &[&str], cwd: &Path, input: &[u8]) -> Outcome {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out.into()
}

fn svlogd() -> PathBuf {
    applet("svlogd")
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// The file's text, empty while it does not exist (polled before the logger created it).
fn read(p: &Path) -> String {
    String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned()
}

/// All logged text of `dir`: rotated files in order, then `current`.
fn all_text(dir: &Path) -> String {
    let mut s = String::new();
    for n in rotated(dir) {
        s += &read(&dir.join(n));
    }
    s + &read(&dir.join("current"))
}

fn mkdirs(t: &Tree, names: &[&str]) {
    for n in names {
        fs::create_dir_all(t.join(n)).unwrap();
    }
}

fn start_logger(t: &Tree, args: &[&str]) -> (Daemon, std::process::ChildStdin) {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    let mut d = Daemon::start_with(&svlogd(), &args, t.path(), |c| {
        c.stdin(Stdio::piped());
    });
    let stdin = d.child.stdin.take().unwrap();
    (d, stdin)
}

#[test]
fn usage_version_and_bad_options() {
    let t = Tree::new();
    let p = svlogd();
    let usage = format!("usage: {}{USAGE}", p.display());
    for args in [
        &[][..],
        &["-t"][..],
        &["-r", "ab", "d"][..],
        &["-r", "", "d"][..],
        &["-l", "10", "-b", "10", "d"][..],
    ] {
        let o = run_in(&p, args, t.path());
        assert_eq!(o.code, Some(111), "{args:?}");
        assert_eq!(o.stderr, usage, "{args:?}");
    }
    let o = run_in(&p, &["-x", "d"], t.path());
    assert_eq!(o.code, Some(111));
    assert_eq!(o.stderr, format!("svlogd: illegal option -- x\n{usage}"));
    let o = run_in(&p, &["-l"], t.path());
    assert_eq!(
        o.stderr,
        format!("svlogd: option requires an argument -- l\n{usage}")
    );
    let o = run_in(&p, &["-V", "d"], t.path());
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        format!("$Id: 5e55a90e0a1b35ec47fed3021453c50675ea1117 $\n{usage}")
    );
}

#[test]
fn no_functional_log_directories() {
    let t = Tree::new();
    fs::write(t.join("file"), "").unwrap();
    let o = feed(&svlogd(), &["missing", "file"], t.path(), b"x\n");
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        "svlogd: warning: unable to open log directory: missing: file does not exist\n\
         svlogd: warning: unable to change directory: file: not a directory\n\
         svlogd: fatal: no functional log directories.\n"
    );
}

#[test]
fn lines_modes_and_unterminated_last_line() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    let o = feed(&svlogd(), &["log"], t.path(), b"one\n\ntwo\nlast");
    assert_eq!(o.code, Some(0));
    assert_eq!(o.stderr, "");
    // runit drops "last"; svbox keeps it, newline-terminated.
    assert_eq!(read(&t.join("log/current")), "one\n\ntwo\nlast\n");
    assert_eq!(mode(&t.join("log/current")), 0o744);
    assert_eq!(mode(&t.join("log/lock")), 0o600);
    // A cleanly closed current is appended to.
    let o = feed(&svlogd(), &["log"], t.path(), b"three\n");
    assert_eq!(o.code, Some(0));
    assert_eq!(read(&t.join("log/current")), "one\n\ntwo\nlast\nthree\n");
    assert!(rotated(&t.join("log")).is_empty());
}

#[test]
fn same_files_as_runit() {
    if !peers::available() {
        return;
    }
    let t = Tree::new();
    mkdirs(&t, &["a/x", "a/y", "a/z", "b/x", "b/y", "b/z"]);
    for side in ["a", "b"] {
        fs::write(t.join(side).join("z/config"), "s2000\nn0\n").unwrap();
        fs::write(t.join(side).join("y/config"), "-*\n+keep*\n").unwrap();
    }
    let mut input = Vec::new();
    for i in 0..2000 {
        input.extend_from_slice(format!("line {i} ctl\t\u{1}é\n").as_bytes());
        if i % 7 == 0 {
            input.extend_from_slice(format!("keep {i}\n").as_bytes());
        }
    }
    let args = ["-r", "_", "-R", "n", "-l", "12", "x", "y"];
    let ours = feed(&svlogd(), &args, &t.join("a"), &input);
    let theirs = feed(&peers::runit("svlogd"), &args, &t.join("b"), &input);
    assert_eq!((ours.code, theirs.code), (Some(0), Some(0)));
    for d in ["x", "y"] {
        let a = fs::read(t.join("a").join(d).join("current")).unwrap();
        let b = fs::read(t.join("b").join(d).join("current")).unwrap();
        assert!(!a.is_empty());
        assert_eq!(a, b, "dir {d}");
    }
    // Size rotation cuts the same files (names differ only by their stamps) while lines
    // are not longer than LEN; with longer lines runit may split one across two files.
    let ours = feed(&svlogd(), &["-l", "40", "z"], &t.join("a"), &input);
    let theirs = feed(
        &peers::runit("svlogd"),
        &["-l", "40", "z"],
        &t.join("b"),
        &input,
    );
    assert_eq!((ours.code, theirs.code), (Some(0), Some(0)));
    let sizes = |side: &str| -> Vec<u64> {
        let dir = t.join(side).join("z");
        rotated(&dir)
            .iter()
            .map(|n| fs::metadata(dir.join(n)).unwrap().len())
            .collect()
    };
    assert!(sizes("a").len() > 10);
    assert_eq!(sizes("a"), sizes("b"));
    assert_eq!(all_text(&t.join("a/z")), all_text(&t.join("b/z")));
}

fn stamped(args: &[&str]) -> String {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    let mut all = args.to_vec();
    all.push("log");
    let o = feed(&svlogd(), &all, t.path(), b"a\tb\n");
    assert_eq!(o.code, Some(0));
    read(&t.join("log/current"))
}

fn check_calendar(line: &str, sep: char) {
    let b = line.as_bytes();
    assert_eq!(line.len(), 26 + 4, "{line:?}");
    for (i, &c) in b[..25].iter().enumerate() {
        match i {
            4 | 7 => assert_eq!(c, b'-'),
            10 => assert_eq!(c, sep as u8),
            13 | 16 => assert_eq!(c, b':'),
            19 => assert_eq!(c, b'.'),
            _ => assert!(c.is_ascii_digit(), "{line:?}"),
        }
    }
    assert_eq!(&line[25..], " a\tb\n");
    let now = unix_now();
    let secs = now % 86400;
    let hour: u64 = line[11..13].parse().unwrap();
    // The stamp is UTC: its hour is the current UTC hour (or the previous one at :00).
    assert!(
        hour == secs / 3600 || (hour + 1) % 24 == secs / 3600,
        "{line:?}"
    );
}

#[test]
fn timestamp_formats() {
    let tai = stamped(&["-t"]);
    assert_eq!(tai.len(), 25 + 5, "{tai:?}");
    assert!(tai.starts_with("@4000000"));
    assert!(tai[1..25]
        .bytes()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    let secs = u64::from_str_radix(&tai[1..17], 16).unwrap() - 0x4000_0000_0000_000a;
    assert!(unix_now().abs_diff(secs) < 60);
    let nano = u64::from_str_radix(&tai[17..25], 16).unwrap();
    assert_eq!(nano % 1000, 500);
    assert!(tai.ends_with(" a\tb\n"));
    check_calendar(&stamped(&["-tt"]), '_');
    check_calendar(&stamped(&["-ttt"]), 'T');
    check_calendar(&stamped(&["-tttt"]), 'T');
}

#[test]
fn replacement_characters() {
    let t = Tree::new();
    mkdirs(&t, &["r", "rr"]);
    let input = "ctl\tchars\u{1}é\nabcdef\n".as_bytes();
    let o = feed(&svlogd(), &["-r", "_", "r"], t.path(), input);
    assert_eq!(o.code, Some(0));
    assert_eq!(read(&t.join("r/current")), "ctl_chars___\nabcdef\n");
    let o = feed(&svlogd(), &["-R", "bd", "rr"], t.path(), input);
    assert_eq!(o.code, Some(0));
    assert_eq!(read(&t.join("rr/current")), "ctl_chars___\na_c_ef\n");
}

#[test]
fn patterns_select_dirs_and_stderr() {
    let t = Tree::new();
    mkdirs(&t, &["sel", "all"]);
    fs::write(t.join("sel/config"), "-*\n+foo*\n-foobar\ne*err*\n").unwrap();
    let input = b"foo one\nfoobar\nfoobarx\nan err here\nfoo err\n";
    let o = feed(&svlogd(), &["sel", "all"], t.path(), input);
    assert_eq!(o.code, Some(0));
    assert_eq!(read(&t.join("sel/current")), "foo one\nfoobarx\nfoo err\n");
    assert_eq!(read(&t.join("all/current")), String::from_utf8_lossy(input));
    assert_eq!(o.stderr, "an err here\nfoo err\n");
}

#[test]
fn long_lines_whole_in_files_marked_on_stderr() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    fs::write(t.join("log/config"), "e*\np> \n").unwrap();
    let long = "x".repeat(100_000);
    let input = format!("abcdefghij\nabcdefghijk\n\t{long}\nshort\n");
    let o = feed(
        &svlogd(),
        &["-l", "10", "-r", "_", "log"],
        t.path(),
        input.as_bytes(),
    );
    assert_eq!(o.code, Some(0));
    let expect = format!("> abcdefghij\n> abcdefghijk\n> _{long}\n> short\n");
    assert_eq!(read(&t.join("log/current")), expect);
    assert_eq!(
        o.stderr,
        "> abcdefghij...\n> abcdefghij...\n> _xxxxxxxxx...\n> short\n"
    );
}

#[test]
fn size_rotation_and_retention() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    fs::write(t.join("log/config"), "s200\nn3\n").unwrap();
    let mut input = String::new();
    for i in 0..100 {
        input += &format!("line {i:03}\n");
    }
    let o = feed(&svlogd(), &["-l", "20", "log"], t.path(), input.as_bytes());
    assert_eq!(o.code, Some(0));
    let dir = t.join("log");
    let names = rotated(&dir);
    assert_eq!(names.len(), 3, "{names:?}");
    for n in &names {
        assert_eq!(n.len(), 27);
        assert!(n.ends_with(".s"));
        assert!(n[1..25].bytes().all(|c| c.is_ascii_hexdigit()));
        let p = dir.join(n);
        assert_eq!(mode(&p), 0o744);
        let text = read(&p);
        assert!(
            text.len() <= 200 && text.len() >= 180,
            "{n}: {}",
            text.len()
        );
        assert!(text.ends_with('\n') && text.starts_with("line "));
    }
    // The newest lines are all there, in order, none split.
    let text = all_text(&dir);
    assert!(input.ends_with(&text), "{text}");
    assert_eq!(text.lines().count() * 9, text.len());
}

#[test]
fn lowering_n_deletes_one_per_rotation_and_n0_keeps_all() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    let line = "0123456789012345678\n";
    fs::write(t.join("log/config"), "s100\nn0\n").unwrap();
    let o = feed(
        &svlogd(),
        &["-l", "10", "log"],
        t.path(),
        line.repeat(50).as_bytes(),
    );
    assert_eq!(o.code, Some(0));
    let before = rotated(&t.join("log")).len();
    assert!(before >= 8, "{before}");
    fs::write(t.join("log/config"), "s100\nn2\n").unwrap();
    let o = feed(
        &svlogd(),
        &["-l", "10", "log"],
        t.path(),
        line.repeat(10).as_bytes(),
    );
    assert_eq!(o.code, Some(0));
    let after = rotated(&t.join("log")).len();
    // Each rotation adds one file and removes at most one.
    assert_eq!(after, before, "{before} -> {after}");
}

#[test]
fn unclean_current_becomes_u_file() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    fs::write(t.join("log/current"), "crashed\n").unwrap();
    fs::set_permissions(t.join("log/current"), fs::Permissions::from_mode(0o644)).unwrap();
    let o = feed(&svlogd(), &["log"], t.path(), b"new\n");
    assert_eq!(o.code, Some(0));
    let names = rotated(&t.join("log"));
    assert_eq!(names.len(), 1);
    assert!(names[0].ends_with(".u"));
    assert_eq!(read(&t.join("log").join(&names[0])), "crashed\n");
    assert_eq!(read(&t.join("log/current")), "new\n");
}

#[test]
fn processor_success_and_state() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    fs::write(t.join("log/state"), "old state\n").unwrap();
    fs::write(
        t.join("log/config"),
        "s100\n!tr a-z A-Z; echo X >&5; cat <&4 >&2\n",
    )
    .unwrap();
    let line = "abcdefghijklmnopqrs\n";
    let o = feed(
        &svlogd(),
        &["-l", "10", "log"],
        t.path(),
        line.repeat(5).as_bytes(),
    );
    assert_eq!(o.code, Some(0));
    let names = rotated(&t.join("log"));
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].ends_with(".s"));
    let p = t.join("log").join(&names[0]);
    assert_eq!(read(&p), "ABCDEFGHIJKLMNOPQRS\n".repeat(5));
    assert_eq!(mode(&p), 0o744);
    assert_eq!(read(&t.join("log/state")), "X\n");
    assert!(o.stderr.contains("old state\n"), "{}", o.stderr);
    assert!(!t.join("log/newstate").exists());
}

#[test]
fn processor_failure_is_restarted() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    fs::write(
        t.join("log/config"),
        "s100\n!if [ -e ../failed ]; then cat; else : >../failed; exit 1; fi\n",
    )
    .unwrap();
    let line = "abcdefghijklmnopqrs\n";
    let o = feed(
        &svlogd(),
        &["-l", "10", "log"],
        t.path(),
        line.repeat(5).as_bytes(),
    );
    assert_eq!(o.code, Some(0));
    assert_eq!(
        o.stderr,
        "svlogd: warning: processor failed, restart: log\n"
    );
    let names = rotated(&t.join("log"));
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].ends_with(".s"));
    assert_eq!(read(&t.join("log").join(&names[0])), line.repeat(5));
}

#[test]
fn slow_processor_holds_back_input_without_loss() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    fs::write(t.join("log/config"), "s100\nn0\n!sleep 0.3; cat\n").unwrap();
    let line = "abcdefghijklmnopqrs\n";
    let o = feed(
        &svlogd(),
        &["-l", "10", "log"],
        t.path(),
        line.repeat(20).as_bytes(),
    );
    assert_eq!(o.code, Some(0));
    let dir = t.join("log");
    let names = rotated(&dir);
    assert!(names.iter().all(|n| n.ends_with(".s")), "{names:?}");
    assert_eq!(all_text(&dir), line.repeat(20));
}

#[test]
fn signals_alarm_hup_term() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    let dir = t.join("log");
    let (mut d, mut input) = start_logger(&t, &["-v", "log"]);
    input.write_all(b"first\n").unwrap();
    wait_until("first line", || read(&dir.join("current")) == "first\n");
    assert_eq!(mode(&dir.join("current")), 0o644);
    d.signal(nix::libc::SIGALRM);
    wait_until("rotation", || rotated(&dir).len() == 1);
    assert_eq!(read(&dir.join(&rotated(&dir)[0])), "first\n");
    fs::write(dir.join("config"), "p> \n").unwrap();
    d.signal(nix::libc::SIGHUP);
    wait_until("reread", || d.stderr().contains("info: read: log/config"));
    input.write_all(b"second\npartial").unwrap();
    wait_until("second", || read(&dir.join("current")) == "> second\n");
    d.signal(nix::libc::SIGTERM);
    assert_eq!(d.wait_exit(), Some(0));
    assert_eq!(read(&dir.join("current")), "> second\n> partial\n");
    assert_eq!(mode(&dir.join("current")), 0o744);
    let err = d.stderr();
    for m in [
        "svlogd: info: new: log/current\n",
        "svlogd: info: sigalarm received.\n",
        "svlogd: info: rename: log/current @",
        "svlogd: info: sighangup received.\n",
        "svlogd: info: close: log\n",
        "svlogd: info: append: log/current\n",
        "svlogd: info: sigterm received.\n",
    ] {
        assert!(err.contains(m), "{m:?} not in {err}");
    }
}

#[test]
fn time_rotation() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    fs::write(t.join("log/config"), "t1\n").unwrap();
    let dir = t.join("log");
    let (mut d, mut input) = start_logger(&t, &["log"]);
    input.write_all(b"tick\n").unwrap();
    wait_until("time rotation", || rotated(&dir).len() == 1);
    assert_eq!(read(&dir.join(&rotated(&dir)[0])), "tick\n");
    assert_eq!(read(&dir.join("current")), "");
    drop(input);
    assert_eq!(d.wait_exit(), Some(0));
}

#[test]
fn second_logger_cannot_lock() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    let (_d, mut input) = start_logger(&t, &["log"]);
    input.write_all(b"x\n").unwrap();
    wait_until("first logger", || read(&t.join("log/current")) == "x\n");
    let o = feed(&svlogd(), &["log"], t.path(), b"y\n");
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        "svlogd: warning: unable to lock directory: log: temporary failure\n\
         svlogd: fatal: no functional log directories.\n"
    );
}

#[test]
fn udp_copies() {
    let t = Tree::new();
    mkdirs(&t, &["both", "only"]);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    let port = sock.local_addr().unwrap().port();
    fs::write(t.join("both/config"), format!("u127.0.0.1:{port}\npp: \n")).unwrap();
    fs::write(t.join("only/config"), format!("U127.0.0.1:{port}\n")).unwrap();
    let o = feed(
        &svlogd(),
        &["-l", "5", "both", "only"],
        t.path(),
        b"hello world\nab\n",
    );
    assert_eq!(o.code, Some(0));
    let mut got = Vec::new();
    let mut buf = [0u8; 100];
    for _ in 0..4 {
        let n = sock.recv(&mut buf).unwrap();
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    got.sort();
    assert_eq!(got, ["ab\n", "hello...\n", "p: ab\n", "p: hello...\n"]);
    assert_eq!(read(&t.join("both/current")), "p: hello world\np: ab\n");
    assert_eq!(read(&t.join("only/current")), "");
}

#[test]
fn bad_udp_config_warns() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    fs::write(t.join("log/config"), "u1.2.3\nu1.2.3.4:0\n").unwrap();
    let o = feed(&svlogd(), &["log"], t.path(), b"x\n");
    assert_eq!(o.code, Some(0));
    assert_eq!(
        o.stderr,
        "svlogd: warning: unable to scan ip address: 1.2.3\n\
         svlogd: warning: unable to scan port number: 1.2.3.4:0\n"
    );
    assert_eq!(read(&t.join("log/current")), "x\n");
}

#[test]
fn big_input_is_complete() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    fs::write(t.join("log/config"), "s100000\nn0\n").unwrap();
    let mut input = String::new();
    for i in 0..100_000 {
        input += &format!("line number {i}\n");
    }
    let o = feed(&svlogd(), &["-tt", "log"], t.path(), input.as_bytes());
    assert_eq!(o.code, Some(0));
    let text = all_text(&t.join("log"));
    let stripped: String = text.lines().map(|l| format!("{}\n", &l[26..])).collect();
    assert_eq!(stripped, input);
    for n in rotated(&t.join("log")) {
        assert!(fs::metadata(t.join("log").join(n)).unwrap().len() <= 100_000);
    }
}

/// Whether this test process may make a private mount namespace (root in a container).
fn can_unshare() -> bool {
    Command::new("unshare")
        .args(["-m", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn full_disk_holds_lines_back_and_writes_them_later() {
    if !can_unshare() {
        return;
    }
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    let script = format!(
        "mount -t tmpfs -o size=128k none log && exec {} log",
        svlogd().display()
    );
    let (mut d, mut input) = {
        let mut d = Daemon::start_with(
            Path::new("unshare"),
            &[
                OsStr::new("-m"),
                OsStr::new("sh"),
                OsStr::new("-c"),
                OsStr::new(&script),
            ],
            t.path(),
            |c| {
                c.stdin(Stdio::piped());
            },
        );
        let stdin = d.child.stdin.take().unwrap();
        (d, stdin)
    };
    // The logger's view of its directory, inside its own mount namespace.
    let inside = PathBuf::from(format!("/proc/{}/root{}", d.pid(), t.join("log").display()));
    wait_until("logger on tmpfs", || inside.join("lock").exists());
    let mut filler = fs::File::create(inside.join("filler")).unwrap();
    let block = vec![b'f'; 4096];
    while filler.write_all(&block).is_ok() {}
    drop(filler);
    let mut lines = String::new();
    for i in 0..3000 {
        lines += &format!("line {i:05} of the full disk test\n");
    }
    let text = lines.clone();
    let writer = std::thread::spawn(move || {
        input.write_all(text.as_bytes()).unwrap();
        input
    });
    let msg = "svlogd: pausing: unable to write to current: log: out of disk space\n";
    wait_until("pausing message", || d.stderr().contains(msg));
    fs::remove_file(inside.join("filler")).unwrap();
    let input = writer.join().unwrap();
    wait_until("all lines", || {
        fs::read(inside.join("current")).is_ok_and(|c| c == lines.as_bytes())
    });
    assert_eq!(d.stderr(), msg, "said once");
    drop(input);
    assert_eq!(d.wait_exit(), Some(0));
}

#[test]
fn local_time_stamps() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    let before = unix_now();
    let mut cmd = Command::new(svlogd());
    cmd.args(["-ttL", "log"])
        .current_dir(t.path())
        .env("TZ", "XYZ-3");
    let o = run_cmd(&mut cmd);
    assert_eq!(o.code, Some(0));
    let after = unix_now();
    // Three hours ahead of UTC; the stamp is bounded by the clock before and after.
    let text = read(&t.join("log/current"));
    assert_eq!(text, "");
    let o = feed_env(&["-ttL", "log"], t.path(), b"x\n", ("TZ", "XYZ-3"));
    assert_eq!(o.code, Some(0));
    let line = read(&t.join("log/current"));
    let hour: u64 = line[11..13].parse().unwrap();
    let hours: Vec<u64> = [before, after + 2]
        .iter()
        .map(|s| (s + 3 * 3600) % 86400 / 3600)
        .collect();
    assert!(hours.contains(&hour), "{line:?} {hours:?}");
    let utc = feed_env(&["-tt", "log"], t.path(), b"y\n", ("TZ", "XYZ-3"));
    assert_eq!(utc.code, Some(0));
    let last = read(&t.join("log/current"));
    let last = last.lines().last().unwrap();
    let hour: u64 = last[11..13].parse().unwrap();
    let utc_hours: Vec<u64> = [before, after + 2]
        .iter()
        .map(|s| s % 86400 / 3600)
        .collect();
    assert!(utc_hours.contains(&hour), "{last:?}");
}

/// `-L` with a zone file (by name and by path), and with zones that cannot be read (UTC,
/// no complaint, nothing lost). Needs tzdata (CI installs it).
#[test]
fn local_time_from_zone_files_and_utc_for_unreadable_zones() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    let cases = [
        ("Asia/Kolkata", 19_800),
        (":/usr/share/zoneinfo/Asia/Kathmandu", 20_700),
        ("No/Such_Zone", 0),
        ("/etc/passwd", 0),
        ("", 0),
    ];
    for (i, (tz, offset)) in cases.into_iter().enumerate() {
        let before = unix_now();
        let line = format!("line {i}\n");
        let o = feed_env(&["-ttL", "log"], t.path(), line.as_bytes(), ("TZ", tz));
        let after = unix_now() + 2;
        assert_eq!((o.code, o.stderr.as_str()), (Some(0), ""), "TZ={tz}");
        let text = read(&t.join("log/current"));
        let last = text.lines().last().unwrap();
        assert!(last.ends_with(&format!(" line {i}")), "TZ={tz}: {last:?}");
        let minute = |s: &str| -> u64 {
            s[11..13].parse::<u64>().unwrap() * 60 + s[14..16].parse::<u64>().unwrap()
        };
        let (lo, hi) = ((before + offset) / 60 % 1440, (after + offset) / 60 % 1440);
        let m = minute(last);
        let inside = if lo <= hi {
            (lo..=hi).contains(&m)
        } else {
            m >= lo || m <= hi
        };
        assert!(inside, "TZ={tz}: {last:?} not within minutes {lo}..={hi}");
    }
}

fn feed_env(args: &[&str], cwd: &Path, input: &[u8], env: (&str, &str)) -> Outcome {
    let mut child = Command::new(svlogd())
        .args(args)
        .current_dir(cwd)
        .env(env.0, env.1)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap().into()
}

#[test]
fn killed_processor_counts_as_success() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    fs::write(t.join("log/config"), "s100\n!cat; kill -9 $$\n").unwrap();
    let line = "abcdefghijklmnopqrs\n";
    let o = feed(
        &svlogd(),
        &["-l", "10", "log"],
        t.path(),
        line.repeat(5).as_bytes(),
    );
    assert_eq!(o.code, Some(0));
    assert_eq!(o.stderr, "");
    let names = rotated(&t.join("log"));
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].ends_with(".s"));
    assert_eq!(read(&t.join("log").join(&names[0])), line.repeat(5));
}

#[test]
fn full_disk_deletes_old_files_down_to_big_n() {
    if !can_unshare() {
        return;
    }
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    let script = format!(
        "mount -t tmpfs -o size=64k none log && printf 's8000\\nn20\\nN1\\n' >log/config && exec {} -l 100 log",
        svlogd().display()
    );
    let mut d = Daemon::start_with(
        Path::new("unshare"),
        &[
            OsStr::new("-m"),
            OsStr::new("sh"),
            OsStr::new("-c"),
            OsStr::new(&script),
        ],
        t.path(),
        |c| {
            c.stdin(Stdio::piped());
        },
    );
    let mut input = d.child.stdin.take().unwrap();
    let inside = PathBuf::from(format!("/proc/{}/root{}", d.pid(), t.join("log").display()));
    wait_until("logger on tmpfs", || inside.join("lock").exists());
    let mut lines = String::new();
    for i in 0..4000 {
        lines += &format!("line {i:05} of the delete test\n");
    }
    let text = lines.clone();
    let writer = std::thread::spawn(move || {
        input.write_all(text.as_bytes()).unwrap();
        input
    });
    let input = writer.join().unwrap();
    // Old files were deleted to make room; what is left is the newest lines, complete.
    wait_until("all written", || {
        let mut all = String::new();
        for n in rotated(&inside) {
            all += &read(&inside.join(n));
        }
        all += &read(&inside.join("current"));
        all.len() > 1000
            && lines.ends_with(&all)
            && all.ends_with("line 03999 of the delete test\n")
    });
    assert!(
        d.stderr()
            .contains("svlogd: warning: out of disk space, delete: log/@"),
        "{}",
        d.stderr()
    );
    assert!(!d.stderr().contains("pausing"), "{}", d.stderr());
    drop(input);
    assert_eq!(d.wait_exit(), Some(0));
}

#[test]
fn idle_svlogd_makes_no_system_calls() {
    let t = Tree::new();
    mkdirs(&t, &["log"]);
    let (d, mut stdin) = start_logger(&t, &["-tt", "log"]);
    stdin.write_all(b"one line\n").unwrap();
    wait_until("line written", || {
        read(&t.join("log/current")).contains("one line")
    });
    assert_idle(d.pid(), "svlogd");
    drop(stdin);
}
