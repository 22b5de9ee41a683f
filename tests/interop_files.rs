//! Our runsv writes the same `supervise/` files as runit's: the same scenario, driven by
//! runit's sv or by ours, runs under runit 2.1.2's runsv and under ours in two sibling
//! trees, and after every step `stat`, `pid` (modulo the pid value), the 20 status bytes
//! (modulo timestamp and pid), whether the timestamp moved, and the names, types and modes
//! of the files in `supervise/` (and `log/supervise/`) must agree.
mod common;
use common::*;

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One directory entry: name, type (`p` FIFO, `f` file, `d` directory) and permission bits.
type Entry = (String, char, u32);

/// What one supervise directory looks like at one moment.
#[derive(Clone, Debug, PartialEq)]
struct Snap {
    stat: String,
    pid_file: String,
    status: Vec<u8>,
    /// Every entry, sorted by name.
    files: Vec<Entry>,
    dir_mode: u32,
}

impl Snap {
    fn take(supervise: &Path) -> Snap {
        let mut files: Vec<_> = fs::read_dir(supervise)
            .map(|d| d.filter_map(Result::ok).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                let t = meta.file_type();
                let kind = match () {
                    _ if t.is_fifo() => 'p',
                    _ if t.is_dir() => 'd',
                    _ if t.is_file() => 'f',
                    _ => '?',
                };
                let name = e.file_name().to_string_lossy().into_owned();
                Some((name, kind, meta.permissions().mode() & 0o7777))
            })
            .collect();
        files.sort();
        let dir_mode = fs::metadata(supervise)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0);
        Snap {
            stat: fs::read_to_string(supervise.join("stat")).unwrap_or_default(),
            pid_file: fs::read_to_string(supervise.join("pid")).unwrap_or_default(),
            status: fs::read(supervise.join("status")).unwrap_or_default(),
            files,
            dir_mode,
        }
    }

    fn pid(&self) -> u32 {
        self.status
            .get(12..16)
            .map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap()))
    }

    fn stamp(&self) -> &[u8] {
        self.status.get(..12).unwrap_or_default()
    }

    /// The pid file agrees with the status record (`PID\n`, or empty when there is no child).
    fn consistent(&self) -> bool {
        let pid = self.pid();
        self.status.len() == 20
            && self.pid_file
                == if pid == 0 {
                    String::new()
                } else {
                    format!("{pid}\n")
                }
    }

    /// Everything that must be equal between runit's runsv and ours: the stat line,
    /// whether there is a pid, the four flag bytes, the directory listing and its mode.
    fn comparable(&self) -> (&str, bool, &[u8], &[Entry], u32) {
        let flags = self.status.get(16..).unwrap_or_default();
        (
            &self.stat,
            self.pid() != 0,
            flags,
            &self.files,
            self.dir_mode,
        )
    }
}

/// The same service in `runit/` (under runit's runsv) and `ours/` (under ours).
struct Twins {
    tree: Tree,
    dirs: [PathBuf; 2],
    runsvs: Vec<Daemon>,
    client: PathBuf,
    with_log: bool,
    /// Snapshots after the previous step: [runit main, ours main, runit log, ours log].
    last: Vec<Snap>,
}

impl Twins {
    /// `client` is the sv that drives both trees; `prepare` finishes each service directory
    /// before its runsv starts.
    fn new(client: PathBuf, with_log: bool, prepare: &dyn Fn(&Path)) -> Twins {
        let tree = Tree::new();
        let dirs = ["runit/svc", "ours/svc"].map(|rel| {
            // A flag file makes the next start ignore TERM, to reach "got TERM".
            let dir = tree.service(
                rel,
                "test -e ignore-term && trap '' TERM\necho started\nexec sleep 1000",
            );
            if with_log {
                fs::create_dir(dir.join("log")).unwrap();
                script(&dir.join("log/run"), "exec cat >./current");
            }
            prepare(&dir);
            dir
        });
        let runsvs = vec![
            start_runsv_with(&peers::runit("runsv"), &dirs[0]),
            start_runsv(&dirs[1]),
        ];
        Twins {
            tree,
            dirs,
            runsvs,
            client,
            with_log,
            last: Vec::new(),
        }
    }

    /// Runs the client sv with `args` and the service directory of each tree.
    fn sv(&self, args: &[&str]) {
        for dir in &self.dirs {
            let out = run_cmd(
                Command::new(&self.client)
                    .args(args)
                    .arg(dir)
                    .current_dir(self.tree.path()),
            );
            assert_eq!(out.code, Some(0), "sv {args:?} {}: {out:?}", dir.display());
        }
    }

    /// Both files in both trees, with the same contents.
    fn both(&self, rel: &str, body: Option<&str>) {
        for dir in &self.dirs {
            match body {
                Some(b) => script(&dir.join(rel), b),
                None => fs::remove_file(dir.join(rel)).unwrap(),
            }
        }
    }

    fn snaps(&self) -> Vec<Snap> {
        let mut v: Vec<Snap> = self
            .dirs
            .iter()
            .map(|d| Snap::take(&d.join("supervise")))
            .collect();
        if self.with_log {
            v.extend(
                self.dirs
                    .iter()
                    .map(|d| Snap::take(&d.join("log/supervise"))),
            );
        }
        v
    }

    /// Waits until both trees show `main` (and `log`) in `stat` and agree in every compared
    /// respect; `moved` requires a new main pid in both. Fails with both snapshots.
    fn expect(&mut self, what: &str, main: &str, log: &str, moved: bool) {
        let mut snaps = Vec::new();
        let done = wait_for(DEADLINE, || {
            snaps = self.snaps();
            let stats_ok = snaps[..2].iter().all(|s| s.stat == format!("{main}\n"))
                && snaps[2..].iter().all(|s| s.stat == format!("{log}\n"));
            let moved_ok = !moved
                || self.last.is_empty()
                || (0..2).all(|i| snaps[i].pid() != self.last[i].pid());
            stats_ok && moved_ok && self.agree(&snaps)
        });
        assert!(
            done,
            "{what}: runit (first) and ours (second) disagree:\n{snaps:#?}\nbefore:\n{:#?}",
            self.last
        );
        self.last = snaps;
    }

    /// runit's tree and ours agree, each is self-consistent, and the timestamp moved in
    /// both or in neither since the last step.
    fn agree(&self, snaps: &[Snap]) -> bool {
        snaps.chunks(2).enumerate().all(|(k, pair)| {
            let moved = |i: usize| {
                self.last
                    .get(2 * k + i)
                    .map_or(true, |l| l.stamp() != pair[i].stamp())
            };
            pair[0].consistent()
                && pair[1].consistent()
                && pair[0].comparable() == pair[1].comparable()
                && moved(0) == moved(1)
        })
    }
}

fn scenario(client: PathBuf, with_log: bool) {
    let mut t = Twins::new(client, with_log, &|_| {});
    t.expect("start", "run", "run", false);
    t.sv(&["down"]);
    t.expect("down", "down", "run", false);
    t.sv(&["pause"]);
    t.expect("pause while down", "down, paused", "run", false);
    t.sv(&["cont"]);
    t.expect("cont while down", "down", "run", false);
    t.sv(&["up"]);
    t.expect("up", "run", "run", false);
    t.sv(&["pause"]);
    t.expect("pause", "run, paused", "run", false);
    t.sv(&["cont"]);
    t.expect("cont", "run", "run", false);
    t.sv(&["once"]);
    t.expect("once", "run, want down", "run", false);
    t.sv(&["up"]);
    t.expect("up after once", "run", "run", false);

    // A service that ignores TERM: down leaves it running with the TERM flag set.
    t.both("ignore-term", Some(""));
    t.sv(&["term"]);
    t.expect("term", "run", "run", true);
    t.sv(&["down"]);
    t.expect("down ignored", "run, got TERM, want down", "run", false);
    t.both("ignore-term", None);
    t.sv(&["kill"]);
    t.expect("kill", "down", "run", false);
    t.sv(&["up"]);
    t.expect("up again", "run", "run", true);

    // ./finish: its pid is reported while it runs, and down during finish sticks.
    t.both("finish", Some("exec sleep 1000"));
    t.sv(&["term"]);
    t.expect("finish running", "finish", "run", true);
    t.sv(&["down"]);
    t.expect("down during finish", "finish, want down", "run", false);
    for s in &t.last[..2] {
        // SAFETY: kill has no memory effects; the pid is the finish process runsv reports.
        unsafe { nix::libc::kill(s.pid() as i32, nix::libc::SIGKILL) };
    }
    t.expect("finish killed", "down", "run", false);
    t.both("finish", None);
    t.sv(&["up"]);
    t.expect("up after finish", "run", "run", true);

    if with_log {
        let logs: Vec<PathBuf> = t.dirs.iter().map(|d| d.join("log")).collect();
        for args in [["down"], ["up"]] {
            for log in &logs {
                let out = run_cmd(Command::new(&t.client).args(args).arg(log));
                assert_eq!(out.code, Some(0), "{out:?}");
            }
            let state = if args[0] == "down" { "down" } else { "run" };
            t.expect(&format!("log {}", args[0]), "run", state, false);
        }
    }

    t.sv(&["exit"]);
    for d in &mut t.runsvs {
        assert_eq!(d.wait_exit(), Some(0), "runsv exit code");
    }
    t.expect("exit", "down", "down", false);
    assert!(t
        .last
        .iter()
        .all(|s| s.status[17] == b'd' && s.pid_file.is_empty()));
}

#[test]
fn same_files_as_runit_driven_by_runit_sv() {
    if peers::available() {
        scenario(peers::runit("sv"), false);
    }
}

#[test]
fn same_files_as_runit_driven_by_our_sv() {
    if peers::available() {
        scenario(sv_program(), false);
    }
}

#[test]
fn same_files_as_runit_with_log_driven_by_runit_sv() {
    if peers::available() {
        scenario(peers::runit("sv"), true);
    }
}

#[test]
fn same_files_as_runit_with_log_driven_by_our_sv() {
    if peers::available() {
        scenario(sv_program(), true);
    }
}

#[test]
fn same_files_as_runit_normally_down() {
    if !peers::available() {
        return;
    }
    let mut t = Twins::new(sv_program(), true, &|d| {
        fs::write(d.join("down"), "").unwrap()
    });
    t.expect("start", "down", "run", false);
    assert!(t.last[..2].iter().all(|s| s.status[17] == b'd'));
    t.sv(&["once"]);
    t.expect("once", "run, want down", "run", true);
    t.sv(&["down"]);
    t.expect("down", "down", "run", false);
    t.sv(&["exit"]);
    for d in &mut t.runsvs {
        assert_eq!(d.wait_exit(), Some(0), "runsv exit code");
    }
    t.expect("exit", "down", "down", false);
}

/// `supervise` and `log/supervise` as dangling symlinks (state on tmpfs for a read-only
/// root, spec 1.5): both runsvs create the link targets and work through the links.
#[test]
fn same_files_as_runit_supervise_symlinks() {
    if !peers::available() {
        return;
    }
    let mut t = Twins::new(sv_program(), true, &|d| {
        let name = d.parent().unwrap().join("state");
        fs::create_dir(&name).unwrap();
        std::os::unix::fs::symlink("../state/svc", d.join("supervise")).unwrap();
        std::os::unix::fs::symlink(name.join("log"), d.join("log/supervise")).unwrap();
    });
    t.expect("start", "run", "run", false);
    for dir in t.dirs.clone() {
        let state = dir.parent().unwrap().join("state");
        for (link, target) in [
            ("supervise", state.join("svc")),
            ("log/supervise", state.join("log")),
        ] {
            assert!(fs::symlink_metadata(dir.join(link))
                .unwrap()
                .file_type()
                .is_symlink());
            assert!(
                target.join("status").is_file(),
                "{} has no status",
                target.display()
            );
        }
    }
    t.sv(&["down"]);
    t.expect("down", "down", "run", false);
    t.sv(&["exit"]);
    for d in &mut t.runsvs {
        assert_eq!(d.wait_exit(), Some(0), "runsv exit code");
    }
    t.expect("exit", "down", "down", false);
}
