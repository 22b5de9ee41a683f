//! `cargo bench --bench chpst`: the start-up cost of svbox's `chpst` (host and static musl
//! builds) side by side with runit 2.1.2's `chpst` and daemontools 0.76's `envdir` and
//! `setuidgid`: wall time from spawn to exit of `chpst -u nobody /bin/true` and
//! `envdir DIR /bin/true` (DIR holding 10 files), and of `/bin/true` alone as the baseline.
//! The programs alternate run by run; one Markdown table with medians, p90s and ratios is
//! printed. Knobs: `SVBOX_BENCH_CHPST_RUNS` (timed runs per cell, default 2000),
//! `SVBOX_BENCH_MUSL=0` (no musl build). Without `--bench` it is a smoke run (20 runs per
//! cell, no musl build) that exits 1 if a program does not work or a cell stays empty.

#[allow(dead_code)] // the other benches' modules are shared but unused here
mod common;

use common::config::env_num;
use common::programs::{install_copies, machine, manifest_dir, musl_binary, runit_bin};
use common::stats::Summary;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The implementations, in table order.
const COLUMNS: [&str; 4] = ["svbox", "svbox musl", "runit", "daemontools"];

/// One program invocation to time: `program args…`.
#[derive(Clone)]
struct Invocation {
    program: PathBuf,
    args: Vec<String>,
}

impl Invocation {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }

    /// Milliseconds from spawn to exit; an error unless it exits 0.
    fn time(&self) -> Result<f64, String> {
        let start = Instant::now();
        let status = self
            .command()
            .status()
            .map_err(|e| format!("{}: {e}", self.program.display()))?;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        if status.success() {
            Ok(ms)
        } else {
            Err(format!(
                "{} {:?}: {status}",
                self.program.display(),
                self.args
            ))
        }
    }

    /// The same invocation with `/bin/sh -c SCRIPT` in place of `/bin/true`.
    fn with_script(&self, script: &str) -> Invocation {
        let mut args = self.args.clone();
        args.pop();
        args.extend(["/bin/sh".into(), "-c".into(), script.into()]);
        Invocation {
            program: self.program.clone(),
            args,
        }
    }

    /// Checks that the program does its job: `script` run in `/bin/true`'s place prints
    /// `expect`.
    fn check(&self, script: &str, expect: &str) -> Result<(), String> {
        let out = self
            .with_script(script)
            .command()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("{}: {e}", self.program.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && stdout == expect {
            Ok(())
        } else {
            Err(format!(
                "{} {:?}: {}, stdout {stdout:?}, stderr {:?}",
                self.program.display(),
                self.args,
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

/// One table row: a command and its invocation per column (None: not applicable/usable).
struct Line {
    what: String,
    cells: [Option<Invocation>; 4],
    samples: [Vec<f64>; 4],
}

/// Where each implementation's programs were copied (None if it is missing).
struct Bins {
    dirs: [Option<PathBuf>; 4],
}

fn install(root: &Path, musl: bool) -> Result<Bins, String> {
    let host = PathBuf::from(env!("CARGO_BIN_EXE_svbox"));
    let names = |file: &Path| -> Vec<(&'static str, PathBuf)> {
        vec![
            ("chpst", file.to_path_buf()),
            ("envdir", file.to_path_buf()),
        ]
    };
    let mut dirs: [Option<PathBuf>; 4] = Default::default();
    let mut put = |i: usize, sources: Vec<(&str, PathBuf)>| -> Result<(), String> {
        let dir = root.join(COLUMNS[i].replace(' ', "-"));
        let refs: Vec<(&str, &Path)> = sources.iter().map(|(n, p)| (*n, p.as_path())).collect();
        install_copies(&refs, &dir)?;
        dirs[i] = Some(dir);
        Ok(())
    };
    put(0, names(&host))?;
    if let Some(b) = musl.then(musl_binary).flatten() {
        put(1, names(&b))?;
    }
    if let Some(bin) = runit_bin() {
        put(2, names(&bin.join("chpst")))?;
    }
    let dt = manifest_dir().join("target/peers/daemontools/usr/bin");
    if dt.join("envdir").is_file() && dt.join("setuidgid").is_file() {
        put(
            3,
            vec![
                ("envdir", dt.join("envdir")),
                ("setuidgid", dt.join("setuidgid")),
            ],
        )?;
    } else {
        eprintln!("bench: daemontools peers missing: its column is skipped");
    }
    Ok(Bins { dirs })
}

/// The envdir of the `envdir` row: 10 files like a service's configuration.
fn make_envdir(root: &Path) -> Result<PathBuf, String> {
    let dir = root.join("env");
    let err = |e: std::io::Error| format!("{}: {e}", dir.display());
    fs::create_dir_all(&dir).map_err(err)?;
    for i in 0..10 {
        let value = format!("value-{i} of a typical setting, /some/path/{i}\n");
        fs::write(dir.join(format!("VAR{i:02}")), value).map_err(err)?;
    }
    Ok(dir)
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn lines(bins: &Bins, envdir: &Path) -> Vec<Line> {
    let inv = |dir: &Option<PathBuf>, prog: &str, args: &[&str]| {
        dir.as_ref().map(|d| Invocation {
            program: d.join(prog),
            args: args.iter().map(|a| a.to_string()).collect(),
        })
    };
    let d = &bins.dirs;
    let env = envdir.to_str().unwrap_or_default();
    // The same program in every column: the cost of spawning /bin/true itself, and by its
    // ratios (which should be 1.00) the noise between columns.
    let true_alone = Some(Invocation {
        program: "/bin/true".into(),
        args: Vec::new(),
    });
    let mut lines = vec![Line {
        what: "baseline: `/bin/true` alone, in every column".into(),
        cells: [(); 4].map(|_| true_alone.clone()),
        samples: Default::default(),
    }];
    if is_root() {
        let args = ["-u", "nobody", "/bin/true"];
        lines.push(Line {
            what: "`chpst -u nobody /bin/true` (daemontools: `setuidgid nobody /bin/true`)".into(),
            cells: [
                inv(&d[0], "chpst", &args),
                inv(&d[1], "chpst", &args),
                inv(&d[2], "chpst", &args),
                inv(&d[3], "setuidgid", &["nobody", "/bin/true"]),
            ],
            samples: Default::default(),
        });
    } else {
        eprintln!("bench: not root: the `chpst -u nobody` row is skipped");
    }
    let args = [env, "/bin/true"];
    lines.push(Line {
        what: "`envdir DIR /bin/true`, 10 files in DIR".into(),
        cells: [
            inv(&d[0], "envdir", &args),
            inv(&d[1], "envdir", &args),
            inv(&d[2], "envdir", &args),
            inv(&d[3], "envdir", &args),
        ],
        samples: Default::default(),
    });
    lines
}

/// Drops (with a message) every cell whose program does not do its job.
fn check(lines: &mut [Line]) -> usize {
    let mut broken = 0;
    for line in lines.iter_mut() {
        for (i, cell) in line.cells.iter_mut().enumerate() {
            let Some(inv) = cell else { continue };
            let result = if line.what.starts_with("baseline") {
                Ok(())
            } else if line.what.contains("envdir") {
                inv.check(
                    "echo \"$VAR03\"",
                    "value-3 of a typical setting, /some/path/3\n",
                )
            } else {
                inv.check("id -u", "65534\n")
            };
            if let Err(e) = result {
                eprintln!("bench: {} not usable: {e}", COLUMNS[i]);
                *cell = None;
                broken += 1;
            }
        }
    }
    broken
}

/// Times every cell `runs` times, the cells of a line alternating run by run.
fn measure(lines: &mut [Line], runs: usize) -> Result<(), String> {
    for line in lines.iter_mut() {
        let cells: Vec<(usize, Invocation)> = line
            .cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i, c.clone()?)))
            .collect();
        eprintln!("bench: {} x {runs}", line.what);
        for _ in 0..runs.min(20) {
            for (_, inv) in &cells {
                inv.time()?;
            }
        }
        for round in 0..runs {
            // Rotate the order so no program always runs right after another.
            for k in 0..cells.len() {
                let (i, inv) = &cells[(round + k) % cells.len()];
                line.samples[*i].push(inv.time()?);
            }
        }
    }
    Ok(())
}

fn ms(s: Option<Summary>) -> (String, String) {
    match s {
        None => ("–".into(), "–".into()),
        Some(s) => (
            format!("{:.3}", s.median),
            s.p90.map_or("–".into(), |p| format!("{p:.3}")),
        ),
    }
}

fn ratio(theirs: Option<Summary>, ours: Option<Summary>) -> String {
    match (theirs, ours) {
        (Some(t), Some(o)) if o.median > 0.0 => format!("{:.2}", t.median / o.median),
        _ => "–".into(),
    }
}

/// The Markdown table: medians and p90s in ms, and ratios theirs/ours of the medians (above
/// 1: svbox starts faster).
fn table(lines: &[Line]) -> String {
    let mut out = String::from(
        "| command | n | svbox median | svbox p90 | svbox musl median | svbox musl p90 \
         | runit median | runit p90 | daemontools median | daemontools p90 \
         | runit/svbox | runit/svbox musl | daemontools/svbox |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for line in lines {
        let s: Vec<Option<Summary>> = line.samples.iter().map(|v| Summary::of(v)).collect();
        let n = s.iter().flatten().map(|s| s.n).max().unwrap_or(0);
        let cells: Vec<String> = s
            .iter()
            .flat_map(|s| {
                let (m, p) = ms(*s);
                [m, p]
            })
            .collect();
        out.push_str(&format!(
            "| {} | {n} | {} | {} | {} | {} |\n",
            line.what,
            cells.join(" | "),
            ratio(s[2], s[0]),
            ratio(s[2], s[1]),
            ratio(s[3], s[0]),
        ));
    }
    out
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    if !full {
        eprintln!("bench: not started by `cargo bench` (no --bench): smoke run with small counts");
    }
    let runs = env_num("SVBOX_BENCH_CHPST_RUNS", if full { 2000 } else { 20 }).max(1) as usize;
    let musl = env_num("SVBOX_BENCH_MUSL", if full { 1 } else { 0 }) != 0;
    let tmp = match tempfile::Builder::new()
        .prefix("svbox-bench-chpst-")
        .tempdir()
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("bench: cannot create a temporary directory: {e}");
            std::process::exit(1);
        }
    };
    let root = tmp.path();
    let prepared = install(root, musl).and_then(|bins| Ok((bins, make_envdir(root)?)));
    let (bins, envdir) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::exit(1);
        }
    };
    eprintln!("bench: {}", machine());
    let mut lines = lines(&bins, &envdir);
    let broken = check(&mut lines);
    if let Err(e) = measure(&mut lines, runs) {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
    for (name, dir) in COLUMNS.iter().zip(&bins.dirs) {
        match dir {
            Some(d) => println!("{name}: {}", d.display()),
            None => println!("{name}: skipped"),
        }
    }
    println!("{}", machine());
    println!("\n{}", table(&lines));
    // A smoke run is a check: every program present must work and be measured.
    let empty = lines
        .iter()
        .flat_map(|l| l.cells.iter().zip(&l.samples))
        .filter(|(c, s)| c.is_some() && s.is_empty())
        .count();
    if !full && (broken > 0 || empty > 0 || bins.dirs[0].is_none()) {
        eprintln!("bench: smoke run failed: {broken} programs not usable, {empty} cells empty");
        drop(tmp);
        std::process::exit(1);
    }
}
