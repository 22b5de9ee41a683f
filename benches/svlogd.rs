//! `cargo bench --bench svlogd [--features svlogd]`: log throughput of svbox's `svlogd`
//! side by side with runit 2.1.2's `svlogd` and Debian's `s6-log`, on one deterministic
//! syslog-like log fed through a pipe: MB/s, CPU time and peak RSS, without rotation and
//! with rotation every 1 MB and every 100 KB. Every run's output is read back and checked
//! line for line against the input. Knobs: `SVBOX_BENCH_LOG_MB` (input size, default 200),
//! `SVBOX_BENCH_LOG_RUNS` (runs per logger and scenario, default 3); without `--bench` it
//! is a smoke run on 2 MB.

#[allow(dead_code)] // the other benches' modules are shared but unused here
mod common;

use common::cleanup;
use common::config::env_num;
use common::logcheck::{expected, Expected, Output, Stamp, Verdict};
use common::logrun::{run, Invocation, Run};
use common::logtable::{table, Row};
use common::programs::{machine, manifest_dir, runit_bin};
use common::stats::Summary;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Files a logger may keep: more than any scenario produces, so nothing is deleted and
/// the whole output can be checked.
const KEEP: u64 = 100_000;
/// "No rotation": a size limit far above the output (s6-log has no way to switch size
/// rotation off).
const NO_ROTATION: u64 = 4_000_000_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// svlogd's interface: `svlogd -tt DIR`, `s`/`n` in DIR/config.
    Svlogd,
    /// `s6-log nKEEP sSIZE T DIR`.
    S6Log,
}

struct Logger {
    name: &'static str,
    program: PathBuf,
    env: Vec<(OsString, OsString)>,
    kind: Kind,
}

impl Logger {
    fn stamp(&self) -> Stamp {
        match self.kind {
            Kind::Svlogd => Stamp::SvlogdTt,
            Kind::S6Log => Stamp::S6Iso,
        }
    }

    /// Prepares a fresh `dir` for a run with size limit `size` and says how to start it.
    fn prepare(&self, dir: &Path, size: u64) -> Result<Invocation, String> {
        let err = |e: std::io::Error| format!("{}: {e}", dir.display());
        if dir.exists() {
            fs::remove_dir_all(dir).map_err(err)?;
        }
        fs::create_dir_all(dir).map_err(err)?;
        let args: Vec<OsString> = match self.kind {
            Kind::Svlogd => {
                fs::write(dir.join("config"), format!("s{size}\nn{KEEP}\n")).map_err(err)?;
                vec!["-tt".into(), dir.into()]
            }
            Kind::S6Log => vec![
                format!("n{KEEP}").into(),
                format!("s{size}").into(),
                "T".into(),
                dir.into(),
            ],
        };
        Ok(Invocation {
            program: self.program.clone(),
            args,
            env: self.env.clone(),
        })
    }
}

/// svbox's svlogd through an applet-named symlink, if the binary has the applet.
fn ours(bin: &Path) -> Option<Logger> {
    let host = Path::new(env!("CARGO_BIN_EXE_svbox"));
    let listed = Command::new(host)
        .arg("--list")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l == "svlogd")
        })
        .unwrap_or(false);
    if !listed {
        eprintln!(
            "bench: svbox has no svlogd applet (build with --features svlogd): its column is n/a"
        );
        return None;
    }
    let link = bin.join("svlogd");
    let _ = fs::create_dir_all(bin);
    if let Err(e) = std::os::unix::fs::symlink(host, &link) {
        eprintln!("bench: {}: {e}", link.display());
        return None;
    }
    Some(Logger {
        name: "svbox",
        program: link,
        env: Vec::new(),
        kind: Kind::Svlogd,
    })
}

fn runit() -> Option<Logger> {
    let program = runit_bin()?.join("svlogd");
    program.is_file().then_some(Logger {
        name: "runit",
        program,
        env: Vec::new(),
        kind: Kind::Svlogd,
    })
}

fn s6_log() -> Option<Logger> {
    let s6 = manifest_dir().join("target/peers/s6/usr");
    let program = s6.join("bin/s6-log");
    if !program.is_file() {
        eprintln!(
            "bench: {} missing (tests/peers/fetch.sh): s6-log column is n/a",
            program.display()
        );
        return None;
    }
    let lib = s6.join(format!("lib/{}-linux-gnu", std::env::consts::ARCH));
    Some(Logger {
        name: "s6-log",
        program,
        env: vec![("LD_LIBRARY_PATH".into(), lib.into())],
        kind: Kind::S6Log,
    })
}

struct Scenario {
    label: &'static str,
    size: u64,
}

const SCENARIOS: [Scenario; 3] = [
    Scenario {
        label: "no rotation",
        size: NO_ROTATION,
    },
    Scenario {
        label: "rotation every 1 MB (s1000000)",
        size: 1_000_000,
    },
    Scenario {
        label: "rotation every 100 KB (s100000)",
        size: 100_000,
    },
];

/// The runs of one logger in one scenario, and how its outputs compared with the input.
#[derive(Default)]
struct Cell {
    runs: Vec<Run>,
    lost_last: usize,
    files: usize,
    error: Option<String>,
}

/// One run: prepare, run, read back, verify, clean up.
fn once(
    logger: &Logger,
    sc: &Scenario,
    root: &Path,
    input: &Path,
    want: &Expected,
    limit: Duration,
    cell: &mut Cell,
) -> Result<(), String> {
    let dir = root.join(format!("out-{}", logger.name));
    let inv = logger.prepare(&dir, sc.size)?;
    let stderr = root.join(format!("stderr-{}", logger.name));
    let r = run(&inv, root, input, &dir, &stderr, limit)?;
    let out = Output::read(&dir, logger.stamp())?;
    let verdict = out.verdict(want);
    eprintln!(
        "bench:   {:6} {:32} {:7.1} MB/s  cpu {:5.2} s  VmHWM {:6} kB (ru_maxrss {:6})  {} files  {} lines  {:?}",
        logger.name,
        sc.label,
        want.bytes as f64 / 1e6 / r.wall.as_secs_f64(),
        r.cpu.as_secs_f64(),
        r.hwm_kb,
        r.max_rss_kb,
        out.files,
        out.digest.lines,
        verdict
    );
    let _ = fs::remove_dir_all(&dir);
    match verdict {
        Verdict::Wrong => {
            return Err(format!(
                "output differs from the input: {} lines (want {}), {} without a stamp, {} bytes after the last newline",
                out.digest.lines, want.all.lines, out.unstamped, out.trailing
            ))
        }
        Verdict::LostLastLine => cell.lost_last += 1,
        Verdict::Complete => {}
    }
    cell.files = out.files;
    cell.runs.push(r);
    Ok(())
}

/// Median and p90 of a cell's runs; zeros (a VmHWM never sampled) are left out.
fn summary(cell: &Cell, f: fn(&Run, u64) -> f64, bytes: u64) -> Option<Summary> {
    if cell.error.is_some() {
        return None;
    }
    let v: Vec<f64> = cell
        .runs
        .iter()
        .map(|r| f(r, bytes))
        .filter(|&x| x > 0.0)
        .collect();
    Summary::of(&v)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    if !full {
        eprintln!("bench: not started by `cargo bench` (no --bench): smoke run on a small log");
    }
    let mb = env_num("SVBOX_BENCH_LOG_MB", if full { 200 } else { 2 }).max(1);
    let runs = env_num("SVBOX_BENCH_LOG_RUNS", if full { 3 } else { 1 }).max(1) as usize;
    // Under target/ (not /tmp, which may be a tmpfs): the logs go to the disk the build uses.
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let tmp = match tempfile::Builder::new()
        .prefix("svbox-logbench-")
        .tempdir_in(base)
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "bench: cannot create a directory in {}: {e}",
                base.display()
            );
            std::process::exit(1);
        }
    };
    let root = tmp.path().to_path_buf();
    cleanup::install(root.clone());
    eprintln!("bench: {}", machine());
    eprintln!("bench: logs and outputs under {}", base.display());

    let prepared = common::loggen::input(&base.join("svlogd-bench"), mb)
        .and_then(|input| expected(&input).map(|want| (input, want)));
    let (input, want) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("bench: input: {e}");
            std::process::exit(1);
        }
    };
    eprintln!(
        "bench: input {} ({} bytes, {} lines + 1 unterminated)",
        input.display(),
        want.bytes,
        want.complete.lines
    );
    let loggers = [ours(&root.join("bin")), runit(), s6_log()];
    // Generous: runit does about 50 MB/s here; a logger this slow is broken.
    let limit = Duration::from_secs(60 + mb);

    let mut cells: Vec<[Cell; 3]> = SCENARIOS.iter().map(|_| Default::default()).collect();
    for round in 0..runs {
        eprintln!("bench: round {}/{runs}", round + 1);
        for (sc, row) in SCENARIOS.iter().zip(cells.iter_mut()) {
            for (logger, cell) in loggers.iter().zip(row.iter_mut()) {
                let Some(logger) = logger else { continue };
                if cell.error.is_some() {
                    continue;
                }
                if let Err(e) = once(logger, sc, &root, &input, &want, limit, cell) {
                    eprintln!("bench: {} ({}): {e}", logger.name, sc.label);
                    cell.error = Some(e);
                }
            }
        }
    }

    let mut rows = Vec::new();
    for (sc, row) in SCENARIOS.iter().zip(&cells) {
        let sums = |f: fn(&Run, u64) -> f64| [0, 1, 2].map(|i| summary(&row[i], f, want.bytes));
        rows.push(Row {
            metric: format!("throughput, -tt, {}", sc.label),
            unit: "MB/s",
            higher_is_better: true,
            cells: sums(|r, b| b as f64 / 1e6 / r.wall.as_secs_f64()),
        });
        rows.push(Row {
            metric: format!("CPU (user+sys), {}", sc.label),
            unit: "s",
            higher_is_better: false,
            cells: sums(|r, _| r.cpu.as_secs_f64()),
        });
        rows.push(Row {
            metric: format!("peak RSS (VmHWM), {}", sc.label),
            unit: "kB",
            higher_is_better: false,
            cells: sums(|r, _| r.hwm_kb as f64),
        });
    }

    for (logger, name) in loggers.iter().zip(["svbox", "runit", "s6-log"]) {
        match logger {
            Some(l) => println!("{name}: {}", l.program.display()),
            None => println!("{name}: not available (its column is n/a)"),
        }
    }
    println!("{}", machine());
    println!(
        "input: {} MB ({} lines + 1 unterminated), {runs} run(s) per cell, alternating loggers",
        want.bytes as f64 / 1e6,
        want.complete.lines
    );
    println!("\n{}", table(&rows));

    // The targets: svbox's time at most half of s6-log's, a third of runit's.
    let mb_s = &rows[0];
    for (peer, needed) in [(1, 3.0), (2, 2.0)] {
        if let (Some(o), Some(p)) = (mb_s.cells[0], mb_s.cells[peer]) {
            let gain = o.median / p.median;
            let name = ["svbox", "runit", "s6-log"][peer];
            let met = if gain >= needed { "met" } else { "NOT met" };
            println!("target, no rotation: svbox at least {needed}x as fast as {name}: {gain:.2}x, {met}");
        }
    }
    let mut failed = 0;
    for (sc, row) in SCENARIOS.iter().zip(&cells) {
        for (logger, cell) in loggers.iter().zip(row) {
            let Some(logger) = logger else { continue };
            if let Some(e) = &cell.error {
                failed += 1;
                println!("ERROR: {} ({}): {e}", logger.name, sc.label);
            } else if cell.lost_last > 0 {
                println!(
                    "WARNING: {} ({}): dropped the unterminated last line in {} of {} runs (every other line kept)",
                    logger.name,
                    sc.label,
                    cell.lost_last,
                    cell.runs.len()
                );
            } else {
                println!(
                    "ok: {} ({}): all {} lines in every run ({} files)",
                    logger.name, sc.label, want.all.lines, cell.files
                );
            }
        }
    }
    drop(tmp);
    // A smoke run is a check: every available logger must run and keep every line.
    if !full && failed > 0 {
        eprintln!("bench: smoke run failed: {failed} cells not measured or wrong");
        std::process::exit(1);
    }
}
