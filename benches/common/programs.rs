//! The programs compared: svbox's host and static musl builds and runit 2.1.2, each copied
//! into the bench's directory, and a description of the machine.

use super::config::Config;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One implementation of the two programs (`sv`, `runsv`), either of which may be missing
/// or not yet working.
#[derive(Clone)]
pub struct Impl {
    pub name: &'static str,
    /// Where the programs were copied from (for the report).
    pub source: PathBuf,
    pub sv: Option<PathBuf>,
    pub runsv: Option<PathBuf>,
}

pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Private copies of the programs in `dir`: `sources` are (name, file) pairs, and names
/// sharing a file become symlinks to one copy (the multicall binary). Copies keep page
/// sharing with unrelated processes (other tests running runit's runsv) out of the memory
/// figures.
pub fn install_copies(sources: &[(&str, &Path)], dir: &Path) -> Result<(), String> {
    let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    for (name, file) in sources {
        let target = dir.join(name);
        match sources.iter().find(|(_, f)| f == file) {
            Some((first, _)) if first != name => {
                std::os::unix::fs::symlink(first, &target).map_err(|e| err(&target, e))?
            }
            // Written back before use: pages of a dirty file would count as Private_Dirty.
            _ => fs::copy(file, &target)
                .and_then(|_| fs::File::open(&target)?.sync_all())
                .map_err(|e| err(&target, e))?,
        }
    }
    Ok(())
}

/// An implementation whose `sv` and `runsv` are copied from `sv` and `runsv` into `dir`.
pub fn copied(name: &'static str, sv: &Path, runsv: &Path, dir: &Path) -> Result<Impl, String> {
    install_copies(&[("runsv", runsv), ("sv", sv)], dir)?;
    Ok(Impl {
        name,
        source: runsv.to_path_buf(),
        sv: Some(dir.join("sv")),
        runsv: Some(dir.join("runsv")),
    })
}

/// runit 2.1.2's bin directory, fetching the Debian peers first if they are missing.
pub fn runit_bin() -> Option<PathBuf> {
    let bin = manifest_dir().join("target/peers/runit/usr/bin");
    let present = |b: &Path| b.join("sv").is_file() && b.join("runsv").is_file();
    if !present(&bin) {
        eprintln!("bench: runit peers missing, running tests/peers/fetch.sh");
        let _ = Command::new("sh")
            .arg(manifest_dir().join("tests/peers/fetch.sh"))
            .status();
    }
    if present(&bin) {
        Some(bin)
    } else {
        eprintln!("bench: runit 2.1.2 unavailable (tests/peers/fetch.sh failed): runit columns are skipped");
        None
    }
}

/// The static musl release build, (re)built with cargo into this bench's target dir.
pub fn musl_binary() -> Option<PathBuf> {
    let triple = format!("{}-unknown-linux-musl", std::env::consts::ARCH);
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()?
        .to_path_buf();
    let binary = target_dir.join(&triple).join("release/svbox");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!(
        "bench: cargo build --release --target {triple} --target-dir {}",
        target_dir.display()
    );
    let built = Command::new(cargo)
        .args(["build", "--release", "--target", &triple, "--target-dir"])
        .arg(&target_dir)
        .current_dir(manifest_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status();
    match built {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!("bench: musl build failed ({s}); using an older build if there is one"),
        Err(e) => eprintln!("bench: cannot run cargo ({e}); using an older build if there is one"),
    }
    if binary.is_file() {
        Some(binary)
    } else {
        eprintln!(
            "bench: no musl build at {}: musl rows are skipped",
            binary.display()
        );
        None
    }
}

pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_default();
    format!("nproc {cpus}, {model}, Linux {}, {date}", kernel.trim())
}

/// The three implementations: svbox (host build), svbox (static musl build), runit.
pub fn implementations(root: &Path, cfg: &Config) -> Result<[Impl; 3], String> {
    let host = Path::new(env!("CARGO_BIN_EXE_svbox"));
    let ours = copied("svbox", host, host, &root.join("bin"))?;
    let musl = match cfg.musl.then(musl_binary).flatten() {
        Some(b) => copied("svbox-musl", &b, &b, &root.join("musl"))?,
        None => Impl {
            name: "svbox-musl",
            source: PathBuf::new(),
            sv: None,
            runsv: None,
        },
    };
    let runit = match runit_bin() {
        Some(d) => copied(
            "runit",
            &d.join("sv"),
            &d.join("runsv"),
            &root.join("runit"),
        )?,
        None => Impl {
            name: "runit",
            source: PathBuf::new(),
            sv: None,
            runsv: None,
        },
    };
    Ok([ours, musl, runit])
}
