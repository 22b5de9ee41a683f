#![cfg(feature = "svlogd")]
//! svlogd's fault suite: a log directory made read-only and back, `kill -9` of the logger
//! under runsv while the service writes, rotation every few KB under load. In each, the
//! lines out equal the lines in: counted, and checksummed in order with the stamps stripped.

mod common;
use common::*;

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Stdio};
use std::time::Duration;

/// Length of a `-tt` stamp with its separating space.
const STAMP: usize = 26;

fn svlogd() -> PathBuf {
    applet("svlogd")
}

fn numbered(i: usize) -> String {
    format!("line {i:06} of the fault suite\n")
}

/// Every file of `dir` in order (rotated ones, then `current`) with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = rotated(dir)
        .into_iter()
        .map(|n| {
            let bytes = fs::read(dir.join(&n)).unwrap_or_default();
            (n, bytes)
        })
        .collect();
    out.push((
        "current".into(),
        fs::read(dir.join("current")).unwrap_or_default(),
    ));
    out
}

/// The message parts of all logged lines of `dir`, in order (`-tt` stamps stripped).
fn messages(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for (name, bytes) in files(dir) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        for l in text.lines() {
            assert!(l.len() > STAMP && l.as_bytes()[10] == b'_', "{name}: {l:?}");
            out.push(l[STAMP..].to_string());
        }
    }
    out
}

/// Count and an order-sensitive checksum (FNV-1a over the lines and their ends).
fn digest<'a>(lines: impl Iterator<Item = &'a str>) -> (usize, u64) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut n = 0;
    for l in lines {
        n += 1;
        for &b in l.as_bytes().iter().chain(b"\n") {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    (n, h)
}

/// Asserts that `got` (messages) are exactly lines `0..count`, naming what is missing or
/// doubled when not.
fn assert_all_lines(got: &[String], count: usize) {
    let want: Vec<String> = (0..count)
        .map(|i| numbered(i).trim_end().to_string())
        .collect();
    let (a, b) = (
        digest(got.iter().map(String::as_str)),
        digest(want.iter().map(String::as_str)),
    );
    if a != b {
        let mut seen = vec![0u32; count];
        let mut other = 0;
        for g in got {
            match g
                .strip_prefix("line ")
                .and_then(|r| r.get(..6))
                .and_then(|d| d.parse::<usize>().ok())
            {
                Some(i) if i < count => seen[i] += 1,
                _ => other += 1,
            }
        }
        let missing: Vec<usize> = (0..count).filter(|&i| seen[i] == 0).collect();
        let doubled: Vec<usize> = (0..count).filter(|&i| seen[i] > 1).collect();
        let first_diff = got.iter().zip(&want).position(|(g, w)| g != w);
        panic!(
            "lines out != lines in: {a:?} vs {b:?}; missing {} {:?}…, doubled {} {:?}…, \
             foreign {other}, first difference at {first_diff:?}",
            missing.len(),
            &missing[..missing.len().min(10)],
            doubled.len(),
            &doubled[..doubled.len().min(10)],
        );
    }
}

/// `got` without the runs that repeat lines already seen (a batch written again after a
/// kill), and those runs as (first line number, length). Foreign lines stay in place.
fn without_repeats(got: &[String]) -> (Vec<String>, Vec<(usize, usize)>) {
    let number = |g: &str| {
        g.strip_prefix("line ")
            .and_then(|r| r.get(..6))
            .and_then(|d| d.parse::<usize>().ok())
    };
    let mut out = Vec::new();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut next = 0;
    let mut in_run = false;
    for g in got {
        match number(g) {
            Some(i) if i < next => {
                match runs.last_mut() {
                    Some(r) if in_run => r.1 += 1,
                    _ => runs.push((i, 1)),
                }
                in_run = true;
            }
            n => {
                if let Some(i) = n {
                    next = i + 1;
                }
                in_run = false;
                out.push(g.clone());
            }
        }
    }
    (out, runs)
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The unprivileged user svlogd runs as when the tests run as root (root ignores modes).
const NOBODY: u32 = 65534;

fn start_logger(t: &Tree, args: &[&str], as_nobody: bool) -> (Daemon, ChildStdin) {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    let mut d = Daemon::start_with(&svlogd(), &args, t.path(), |c| {
        c.stdin(Stdio::piped());
        if as_nobody {
            c.uid(NOBODY).gid(NOBODY);
        }
    });
    let stdin = d.child.stdin.take().unwrap();
    (d, stdin)
}

/// Writes lines `from..to` on a thread (the pipe blocks while svlogd holds back).
fn write_lines<W: Write + Send + 'static>(
    mut input: W,
    from: usize,
    to: usize,
) -> std::thread::JoinHandle<W> {
    std::thread::spawn(move || {
        let mut text = String::new();
        for i in from..to {
            text += &numbered(i);
        }
        input.write_all(text.as_bytes()).unwrap();
        input
    })
}

/// A directory `log` with `config` that svlogd can write: owned by `NOBODY` (and the
/// tree made traversable) when the tests run as root. Returns whether to run as `NOBODY`.
fn own_log_dir(t: &Tree, config: &str) -> bool {
    let dir = t.join("log");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("config"), config).unwrap();
    let as_nobody = is_root();
    if as_nobody {
        fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
        for p in [&dir, &dir.join("config")] {
            std::os::unix::fs::chown(p, Some(NOBODY), Some(NOBODY)).unwrap();
        }
    }
    as_nobody
}

fn set_mode(p: &Path, m: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
}

#[test]
fn read_only_directory_pauses_once_and_loses_nothing() {
    let t = Tree::new();
    let as_nobody = own_log_dir(&t, "s4096\nn0\n");
    let dir = t.join("log");
    let (mut d, input) = start_logger(&t, &["-tt", "log"], as_nobody);
    let input = write_lines(input, 0, 2000).join().unwrap();
    wait_until("a rotation", || !rotated(&dir).is_empty());
    set_mode(&dir, 0o555);
    // Enough lines for several rotations, which now fail.
    let writer = write_lines(input, 2000, 4000);
    let said = |d: &Daemon| d.stderr().matches("pausing").count();
    wait_until("pausing message", || said(&d) > 0);
    // The mode change may fall between a rotation's rename and its new `current`.
    let msg = d.stderr();
    assert!(
        [
            "svlogd: pausing: unable to rename current: log: access denied\n",
            "svlogd: pausing: unable to create new current: log: access denied\n",
        ]
        .contains(&msg.as_str()),
        "{msg}"
    );
    set_mode(&dir, 0o755);
    let input = writer.join().unwrap();
    let input = write_lines(input, 4000, 6000).join().unwrap();
    drop(input);
    assert_eq!(d.wait_exit(), Some(0), "{}", d.stderr());
    assert_eq!(d.stderr(), msg, "said once");
    assert_all_lines(&messages(&dir), 6000);
    for (name, bytes) in files(&dir) {
        assert!(bytes.len() <= 4096, "{name}: {}", bytes.len());
    }
}

/// The lines of the kill test. A service writing in blocks that cut lines (stdio
/// buffering) may lose the line a kill finds cut: see svlogd(8).
const KILL_LINES: usize = 100_000;

/// How often the logger is killed (`SVBOX_FAULT_KILLS` for longer runs).
fn kills() -> usize {
    std::env::var("SVBOX_FAULT_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6)
}

// A kill during a file write leaves a line torn at a page boundary (the kernel stops the
// write for the fatal signal); the next logger cuts it off the unfinished `current`.
#[test]
fn kill_9_of_the_logger_under_runsv_loses_nothing() {
    let t = Tree::new();
    // One `write` per line (the printf builtin), at full speed: the logger is at work.
    let body = format!(
        "i=0\nwhile [ $i -lt {KILL_LINES} ]; do\n\
         \tprintf 'line %06d of the fault suite\\n' $i\n\
         \ti=$((i+1))\ndone\n: >done\nexec sleep 1000"
    );
    let svc = t.service("svc", &body);
    let log = svc.join("log");
    let dir = log.join("main");
    fs::create_dir_all(&dir).unwrap();
    // Rotations too, so a kill also falls between a rotation and the rest of its batch.
    fs::write(dir.join("config"), "s65536\nn0\n").unwrap();
    script(
        &log.join("run"),
        &format!("exec {} -tt main", svlogd().display()),
    );
    let _runsv = start_runsv(&svc);
    // Lines logged so far (the logger may be writing: only newlines are counted).
    let count = || -> usize {
        files(&dir)
            .iter()
            .map(|(_, b)| b.iter().filter(|&&c| c == b'\n').count())
            .sum()
    };
    let mut seed = unix_now() ^ u64::from(std::process::id());
    for _ in 0..kills() {
        let pid = wait_running(&log);
        let before = count();
        // Let the logger take some input first: the kill then hits it at work.
        wait_for(Duration::from_secs(2), || count() > before);
        // Fault injection, not synchronisation: a varying moment within its work.
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_micros((seed >> 33) % 20_000));
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        wait_until("logger restarted", || {
            status(&log).is_some_and(|s| s.pid != 0 && s.pid != pid && s.state == RunState::Run)
        });
    }
    wait_until("service done", || svc.join("done").exists());
    let all = wait_for(DEADLINE, || count() >= KILL_LINES);
    let got = messages(&dir);
    assert!(all, "{} of {KILL_LINES} lines", got.len());
    if std::env::var_os("SVBOX_FAULT_DEBUG").is_some() {
        for (name, bytes) in files(&dir) {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let ls: Vec<&str> = text.lines().collect();
            eprintln!(
                "{name}: {} lines, first {:?} last {:?}",
                ls.len(),
                ls.first(),
                ls.last()
            );
        }
    }
    // A kill in the one system call between a write and taking its bytes out of the pipe
    // makes the next logger write that batch again: seen about once in 20 kills of a
    // logger kept busy with one-line batches. Nothing may be lost or reordered; a
    // repeat must be one re-delivered batch (at most 64 KiB) per kill.
    let (deduped, repeats) = without_repeats(&got);
    assert_all_lines(&deduped, KILL_LINES);
    assert!(repeats.len() <= kills(), "{repeats:?}");
    assert!(repeats.iter().all(|&(_, n)| n * 31 <= 65536), "{repeats:?}");
    if !repeats.is_empty() {
        eprintln!("re-delivered batches (first line, lines): {repeats:?}");
    }
    // The killed loggers left unclean `current`s, kept as `.u` files.
    assert!(
        rotated(&dir).iter().any(|n| n.ends_with(".u")),
        "{:?}",
        rotated(&dir)
    );
}

#[test]
fn rotation_every_4k_under_load_keeps_every_line_whole_and_in_order() {
    let t = Tree::new();
    let dir = t.join("log");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("config"), "s4096\nn1000000\n").unwrap();
    let (mut d, input) = start_logger(&t, &["-tt", "log"], false);
    drop(write_lines(input, 0, 100_000).join().unwrap());
    assert_eq!(d.wait_exit(), Some(0), "{}", d.stderr());
    assert_eq!(d.stderr(), "");
    let names = rotated(&dir);
    assert!(names.len() > 1000, "{}", names.len());
    assert!(names.iter().all(|n| n.ends_with(".s")), "{names:?}");
    for (name, bytes) in files(&dir) {
        assert!(bytes.len() <= 4096, "{name}: {}", bytes.len());
        assert!(
            bytes.is_empty() || bytes.ends_with(b"\n"),
            "{name} ends inside a line"
        );
    }
    assert_all_lines(&messages(&dir), 100_000);
}

/// An unfinished `current` (mode 644) holding `old`, then svlogd `args` given `input`:
/// returns the rotated `.u` file's bytes (if any) and the new `current`.
fn restart_over(old: &[u8], args: &[&str], input: &[u8]) -> (Option<Vec<u8>>, Vec<u8>) {
    let t = Tree::new();
    let dir = t.join("log");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("current"), old).unwrap();
    set_mode(&dir.join("current"), 0o644);
    let mut args = args.to_vec();
    args.push("log");
    let (mut d, mut stdin) = start_logger(&t, &args, false);
    stdin.write_all(input).unwrap();
    drop(stdin);
    assert_eq!(d.wait_exit(), Some(0), "{}", d.stderr());
    assert_eq!(d.stderr(), "");
    let u = rotated(&dir);
    assert!(u.len() <= 1 && u.iter().all(|n| n.ends_with(".u")), "{u:?}");
    let u = u.first().map(|n| fs::read(dir.join(n)).unwrap());
    (u, fs::read(dir.join("current")).unwrap())
}

#[test]
fn line_torn_by_a_kill_is_cut_off_and_written_again_whole() {
    let (u, current) = restart_over(b"one\ntwo\nthr", &[], b"three\nfour\n");
    assert_eq!(u.as_deref(), Some(&b"one\ntwo\n"[..]));
    assert_eq!(current, b"three\nfour\n");
    // Nothing but a torn line: no `.u` at all.
    let (u, current) = restart_over(b"thr", &[], b"three\n");
    assert_eq!(u, None);
    assert_eq!(current, b"three\n");
}

#[test]
fn unterminated_tail_as_long_as_the_buffer_is_kept() {
    // With -b 16, a tail of 16 bytes or more can be the head of a long line whose input
    // is gone: it stays.
    let old = b"one\nthe head of a long line";
    let (u, current) = restart_over(old, &["-l", "10", "-b", "16"], b"its rest\n");
    assert_eq!(u.as_deref(), Some(&old[..]));
    assert_eq!(current, b"its rest\n");
}

fn start_on(t: &Tree, stdin: &rustix::fd::OwnedFd, as_nobody: bool) -> Daemon {
    let stdin = stdin.try_clone().unwrap();
    Daemon::start_with(
        &svlogd(),
        &[OsStr::new("-tt"), OsStr::new("log")],
        t.path(),
        |c| {
            c.stdin(Stdio::from(stdin));
            if as_nobody {
                c.uid(NOBODY).gid(NOBODY);
            }
        },
    )
}

#[test]
fn kill_9_while_paused_loses_nothing() {
    let t = Tree::new();
    let as_nobody = own_log_dir(&t, "s4096\nn0\n");
    let dir = t.join("log");
    // The test holds the read end, as runsv does, so the pipe outlives the logger.
    // Close-on-exec: no other test's child may hold the write end open.
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    let mut d = start_on(&t, &r, as_nobody);
    let w = write_lines(fs::File::from(w), 0, 2000).join().unwrap();
    wait_until("a rotation", || !rotated(&dir).is_empty());
    set_mode(&dir, 0o555);
    let writer = write_lines(w, 2000, 4000);
    wait_until("pausing message", || d.stderr().contains("pausing"));
    d.signal(nix::libc::SIGKILL);
    assert_eq!(d.wait_exit(), None);
    set_mode(&dir, 0o755);
    let mut d = start_on(&t, &r, as_nobody);
    drop(r);
    let w = writer.join().unwrap();
    drop(write_lines(w, 4000, 6000).join().unwrap());
    assert_eq!(d.wait_exit(), Some(0), "{}", d.stderr());
    assert_eq!(d.stderr(), "");
    assert_all_lines(&messages(&dir), 6000);
}

#[test]
fn stdin_that_is_not_a_pipe_is_read_plainly() {
    let t = Tree::new();
    fs::create_dir(t.join("log")).unwrap();
    let mut text = String::new();
    for i in 0..50_000 {
        text += &numbered(i);
    }
    fs::write(t.join("input"), &text).unwrap();
    let mut d = Daemon::start_with(
        &svlogd(),
        &[OsStr::new("-tt"), OsStr::new("log")],
        t.path(),
        |c| {
            c.stdin(fs::File::open(t.join("input")).unwrap());
        },
    );
    assert_eq!(d.wait_exit(), Some(0), "{}", d.stderr());
    assert_eq!(d.stderr(), "");
    assert_all_lines(&messages(&t.join("log")), 50_000);
}

#[test]
fn half_written_line_is_kept_idle_and_completed() {
    let t = Tree::new();
    fs::create_dir(t.join("log")).unwrap();
    let (mut d, mut input) = start_logger(&t, &["log"], false);
    let current = t.join("log/current");
    input.write_all(b"first\nhalf a ").unwrap();
    wait_until("first line", || {
        fs::read(&current).unwrap_or_default() == b"first\n"
    });
    // The half line is taken out of the pipe and kept: nothing to poll for.
    assert_idle(d.pid(), "svlogd holding half a line");
    input.write_all(b"line\nlast").unwrap();
    wait_until("completed line", || {
        fs::read(&current).unwrap_or_default() == b"first\nhalf a line\n"
    });
    drop(input);
    assert_eq!(d.wait_exit(), Some(0), "{}", d.stderr());
    assert_eq!(fs::read(&current).unwrap(), b"first\nhalf a line\nlast\n");
}
