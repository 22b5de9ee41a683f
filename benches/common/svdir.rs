//! runsvdir implementations and running scan directories: private copies of `runsvdir` +
//! `runsv` per implementation, prepared service directories, a runsvdir started (without
//! `-P`, so its runsvs and their services stay in its process group) with `PATH` leading to
//! its own `runsv`, and the memory of a runsvdir together with its runsvs.

use super::cleanup::Group;
use super::procfs;
use super::programs::{install_copies, manifest_dir, musl_binary};
use super::svc::script;
use super::sweep;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One runsvdir implementation: a directory holding `runsvdir` and the `runsv` it runs.
#[derive(Clone)]
pub struct DirImpl {
    pub name: &'static str,
    /// Where the programs came from (for the report).
    pub source: PathBuf,
    pub runsvdir: PathBuf,
    pub runsv: PathBuf,
}

impl DirImpl {
    /// A further private copy of the programs in `dir` (so a measurement's processes share
    /// pages only with each other).
    pub fn copy_to(&self, dir: &Path) -> Result<DirImpl, String> {
        install_copies(
            &[
                ("runsvdir", self.runsvdir.as_path()),
                ("runsv", self.runsv.as_path()),
            ],
            dir,
        )?;
        Ok(DirImpl {
            runsvdir: dir.join("runsvdir"),
            runsv: dir.join("runsv"),
            ..self.clone()
        })
    }
}

/// Whether the svbox binary has a `runsvdir` applet (it may not have landed yet).
pub fn has_runsvdir(svbox: &Path) -> bool {
    Command::new(svbox).arg("--list").output().is_ok_and(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .any(|l| l == "runsvdir")
    })
}

fn svbox_impl(name: &'static str, binary: &Path, dir: &Path) -> Option<DirImpl> {
    if !has_runsvdir(binary) {
        eprintln!(
            "bench: {} has no runsvdir applet yet: {name} columns are skipped",
            binary.display()
        );
        return None;
    }
    let imp = DirImpl {
        name,
        source: binary.to_path_buf(),
        runsvdir: binary.to_path_buf(),
        runsv: binary.to_path_buf(),
    };
    imp.copy_to(dir)
        .map_err(|e| eprintln!("bench: {name}: {e}"))
        .ok()
}

/// svbox host build, svbox static musl build (if `musl`), runit 2.1.2: each may be missing.
pub fn implementations(root: &Path, musl: bool) -> [Option<DirImpl>; 3] {
    let host = svbox_impl(
        "svbox",
        Path::new(env!("CARGO_BIN_EXE_svbox")),
        &root.join("bin"),
    );
    let musl = musl
        .then(musl_binary)
        .flatten()
        .and_then(|b| svbox_impl("svbox-musl", &b, &root.join("musl")));
    let bin = manifest_dir().join("target/peers/runit/usr/bin");
    if !bin.join("runsvdir").is_file() {
        let _ = Command::new("sh")
            .arg(manifest_dir().join("tests/peers/fetch.sh"))
            .status();
    }
    let runit = if bin.join("runsvdir").is_file() && bin.join("runsv").is_file() {
        DirImpl {
            name: "runit",
            source: bin.join("runsvdir"),
            runsvdir: bin.join("runsvdir"),
            runsv: bin.join("runsv"),
        }
        .copy_to(&root.join("runit"))
        .map_err(|e| eprintln!("bench: runit: {e}"))
        .ok()
    } else {
        eprintln!("bench: runit 2.1.2 unavailable (tests/peers/fetch.sh failed)");
        None
    };
    [host, musl, runit]
}

/// Creates service directory `dir`: `run` = `exec sleep 3600`, optionally `log/run` =
/// `exec cat >/dev/null`.
pub fn make_service(dir: &Path, with_log: bool) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    script(&dir.join("run"), "exec sleep 3600")?;
    if with_log {
        fs::create_dir_all(dir.join("log")).map_err(|e| format!("{}/log: {e}", dir.display()))?;
        script(&dir.join("log/run"), "exec cat >/dev/null")?;
    }
    Ok(())
}

/// `n` service directories `prefix-0` … under `parent`, every `log_every`-th with a logger
/// (0: none).
pub fn make_services(
    parent: &Path,
    prefix: &str,
    n: usize,
    log_every: usize,
) -> Result<Vec<PathBuf>, String> {
    (0..n)
        .map(|i| {
            let dir = parent.join(format!("{prefix}-{i}"));
            make_service(&dir, log_every != 0 && i % log_every == 0)?;
            Ok(dir)
        })
        .collect()
}

/// A runsvdir running on a scan directory.
pub struct Scan {
    pub dir: PathBuf,
    pub group: Group,
}

impl Scan {
    /// Starts `imp`'s runsvdir on `dir` (which must exist) with `PATH` = its own directory,
    /// `/usr/bin`, `/bin`. It runs through env(1), which execs it in place (same pid).
    pub fn start(imp: &DirImpl, dir: &Path, stderr: PathBuf) -> Result<Scan, String> {
        let bin = imp.runsvdir.parent().unwrap_or(Path::new("/"));
        let path = format!("PATH={}:/usr/bin:/bin", bin.display());
        let runsvdir = imp.runsvdir.to_string_lossy();
        let scandir = dir.to_string_lossy();
        let group = Group::start(
            Path::new("/usr/bin/env"),
            &[&path, &runsvdir, &scandir],
            dir,
            stderr,
        )?;
        Ok(Scan {
            dir: dir.to_path_buf(),
            group,
        })
    }

    pub fn pid(&self) -> u32 {
        self.group.pid()
    }

    /// runsvdir's children (its runsvs).
    pub fn runsvs(&self) -> Vec<u32> {
        sweep::children(self.pid())
    }

    /// Pss and Private_Dirty (kB) summed over runsvdir and its runsvs, and how many runsvs.
    pub fn memory(&self) -> Option<(u64, u64, usize)> {
        let runsvs = self.runsvs();
        let mut sum = (0, 0);
        for pid in std::iter::once(self.pid()).chain(runsvs.iter().copied()) {
            let m = procfs::memory(pid)?;
            sum = (sum.0 + m.pss, sum.1 + m.private_dirty);
        }
        Some((sum.0, sum.1, runsvs.len()))
    }
}
