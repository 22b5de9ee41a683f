//! `cargo bench --bench sv_runsv`: svbox's `sv` and `runsv` side by side with runit 2.1.2's
//! (the Debian binaries in `target/peers/`). One run measures both and prints one Markdown
//! table with medians, p90s and the ratio runit/svbox; docs/benchmarks.md explains each
//! metric. Iteration counts come from `SVBOX_BENCH_*` environment variables (see `Config`).

mod common;

use common::cleanup;
use common::config::Config;
use common::fleet::{Fleet, PerInstance};
use common::measure::{
    bench_status, interleaved, kill_once, part, restart_once, start_pool, summary, sv_works, Idle,
    Reading,
};
use common::procfs;
use common::programs::{implementations, machine, Impl};
use common::stats::{table, Row, Summary};
use common::svc::Service;
use common::watch::StatusWatch;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Metric 1 rows. Also finds out which svs work (ours may be a stub) and clears the others.
fn status_rows(imps: &mut [Impl; 3], root: &Path, cfg: &Config) -> Vec<Row> {
    let own: Vec<Option<Service>> = imps
        .iter()
        .map(|imp| {
            match Service::start(
                imp.runsv.as_ref()?,
                root,
                &format!("status-{}", imp.name),
                true,
                cfg.min_run,
            ) {
                Ok(s) => Some(s),
                Err(e) => {
                    eprintln!("bench: {} runsv not usable (stub?): {e}", imp.name);
                    None
                }
            }
        })
        .collect();
    let [ours_own, _, runit_own] = [&own[0], &own[1], &own[2]];
    if let Some(probe) = ours_own.as_ref().or(runit_own.as_ref()) {
        for imp in imps.iter_mut() {
            if !sv_works(imp, &probe.dir) {
                imp.sv = None;
            }
        }
    }
    for (imp, svc) in imps.iter_mut().zip(&own) {
        if svc.is_none() {
            imp.runsv = None;
        }
    }
    let whose = if ours_own.is_some() {
        "svbox's"
    } else {
        "runit's (svbox runsv not usable)"
    };
    let same = ours_own
        .as_ref()
        .or(runit_own.as_ref())
        .map(|s| s.dir.clone());
    let mut combos: Vec<(PathBuf, PathBuf)> = Vec::new();
    // A pair already listed (svbox's own runsv is also the shared one) is measured once.
    let mut add = |imp: &Impl, dir: Option<PathBuf>| -> Option<usize> {
        let pair = (imp.sv.clone()?, dir?);
        Some(combos.iter().position(|c| *c == pair).unwrap_or_else(|| {
            combos.push(pair);
            combos.len() - 1
        }))
    };
    let same_ours = add(&imps[0], same.clone());
    let same_musl = add(&imps[1], same.clone());
    let same_runit = add(&imps[2], same.clone());
    let own_ours = add(&imps[0], ours_own.as_ref().map(|s| s.dir.clone()));
    let own_runit = add(&imps[2], runit_own.as_ref().map(|s| s.dir.clone()));
    eprintln!("bench: sv status x {}", cfg.status_iters);
    let refs: Vec<(&Path, &Path)> = combos
        .iter()
        .map(|(a, b)| (a.as_path(), b.as_path()))
        .collect();
    let samples = bench_status(&refs, cfg.status_iters);
    let pick = |i: Option<usize>| i.and_then(|i| summary(&samples[i]));
    let mut rows = vec![Row {
        metric: format!("`sv status`, both svs against {whose} runsv"),
        unit: "ms",
        svbox: pick(same_ours),
        runit: pick(same_runit),
    }];
    if cfg.musl {
        rows.push(Row {
            metric: format!("`sv status`, static musl svbox sv vs runit sv, against {whose} runsv"),
            unit: "ms",
            svbox: pick(same_musl),
            runit: pick(same_runit),
        });
    }
    rows.push(Row {
        metric: "`sv status`, each sv against its own runsv".into(),
        unit: "ms",
        svbox: pick(own_ours),
        runit: pick(own_runit),
    });
    rows
}

/// Metrics 2 and 3 rows, svbox (host build) against runit, on pools restarted round robin.
fn restart_rows(imps: &[Impl; 3], root: &Path, cfg: &Config) -> Vec<Row> {
    let pair = [&imps[0], &imps[2]];
    let mut pools: Vec<Option<Vec<Service>>> = pair
        .iter()
        .map(|imp| {
            let runsv = imp.runsv.as_ref()?;
            start_pool(runsv, root, &format!("pool-{}", imp.name), cfg)
                .map_err(|e| eprintln!("bench: {} pool: {e}", imp.name))
                .ok()
        })
        .collect();

    eprintln!(
        "bench: sv -w 7 restart x {} (pool of {})",
        cfg.restarts, cfg.pool
    );
    let mut subjects: Vec<Option<(&Path, &mut Vec<Service>)>> = pools
        .iter_mut()
        .zip(pair)
        .map(|(p, imp)| Some((imp.sv.as_deref()?, p.as_mut()?)))
        .collect();
    let restart = interleaved(cfg.restarts, &mut subjects, |(sv, pool)| {
        restart_once(sv, pool, cfg.min_run)
    });
    drop(subjects);

    eprintln!("bench: SIGKILL to new pid x {}", cfg.kills);
    let mut subjects: Vec<Option<(&mut Vec<Service>, Vec<StatusWatch>)>> = pools
        .iter_mut()
        .map(|p| {
            let p = p.as_mut()?;
            match p
                .iter()
                .map(|s| StatusWatch::new(&s.dir))
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(w) => Some((p, w)),
                Err(e) => {
                    eprintln!("bench: {e}");
                    None
                }
            }
        })
        .collect();
    let kill = interleaved(cfg.kills, &mut subjects, |(pool, watches)| {
        kill_once(pool, watches, cfg.min_run)
    });
    vec![
        Row {
            metric: "`sv -w 7 restart` round trip to sv's exit (each sv with its own runsv)".into(),
            unit: "ms",
            svbox: summary(&part(&restart[0], |t| t.exit)),
            runit: summary(&part(&restart[1], |t| t.exit)),
        },
        Row {
            metric: "`sv -w 7 restart` until its `ok:` line is read (same runs)".into(),
            unit: "ms",
            svbox: summary(&part(&restart[0], |t| t.line)),
            runit: summary(&part(&restart[1], |t| t.line)),
        },
        Row {
            metric: "runsv: SIGKILL of `run` to new pid in `supervise/status`".into(),
            unit: "ms",
            svbox: summary(&kill[0]),
            runit: summary(&kill[1]),
        },
    ]
}

/// Metrics 4 and 5 rows: each svbox build against runit.
fn idle_rows(
    idle: &[Option<Idle>; 3],
    fleets: &[Option<Fleet>; 3],
    window: f64,
    cfg: &Config,
) -> Vec<Row> {
    let theirs: Reading = idle[2].as_ref().and_then(Idle::close);
    let their_fleet = fleets[2].as_ref().and_then(Fleet::per_instance);
    let mut rows = Vec::new();
    for (mine, fleet, build) in [
        (&idle[0], &fleets[0], "host build"),
        (&idle[1], &fleets[1], "static musl build"),
    ] {
        if build.contains("musl") && !cfg.musl {
            continue;
        }
        let mine: Reading = mine.as_ref().and_then(Idle::close);
        let my_fleet = fleet.as_ref().and_then(Fleet::per_instance);
        let one = |r: Reading, f: fn(&(f64, procfs::Memory)) -> f64| {
            r.as_ref().map(|r| Summary::single(f(r)))
        };
        rows.push(Row {
            metric: format!("runsv Pss, idle with service + log (svbox {build})"),
            unit: "kB",
            svbox: one(mine, |r| r.1.pss as f64),
            runit: one(theirs, |r| r.1.pss as f64),
        });
        rows.push(Row {
            metric: format!("runsv Private_Clean + Private_Dirty, idle (svbox {build})"),
            unit: "kB",
            svbox: one(mine, |r| r.1.private as f64),
            runit: one(theirs, |r| r.1.private as f64),
        });
        rows.push(Row {
            metric: format!("runsv Private_Dirty (never shared), idle (svbox {build})"),
            unit: "kB",
            svbox: one(mine, |r| r.1.private_dirty as f64),
            runit: one(theirs, |r| r.1.private_dirty as f64),
        });
        // The n column of these rows is the number of runsvs averaged.
        let avg = |f: Option<PerInstance>, v: fn(&PerInstance) -> f64| {
            f.as_ref().map(|f| Summary {
                n: f.n,
                ..Summary::single(v(f))
            })
        };
        let n = cfg.mem_n;
        rows.push(Row {
            metric: format!(
                "runsv Pss per instance, {n} idle runsvs with service + log (svbox {build})"
            ),
            unit: "kB",
            svbox: avg(my_fleet, |f| f.pss),
            runit: avg(their_fleet, |f| f.pss),
        });
        rows.push(Row {
            metric: format!("runsv Private_Dirty per instance, same {n} runsvs (svbox {build})"),
            unit: "kB",
            svbox: avg(my_fleet, |f| f.private_dirty),
            runit: avg(their_fleet, |f| f.private_dirty),
        });
        rows.push(Row {
            metric: format!(
                "runsv wake-ups (context switches) in {window:.0} s idle (svbox {build})"
            ),
            unit: "count",
            svbox: one(mine, |r| r.0),
            runit: one(theirs, |r| r.0),
        });
    }
    rows
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    if !full {
        eprintln!("bench: not started by `cargo bench` (no --bench): smoke run with small counts");
    }
    let cfg = Config::from_env(full);
    let tmp = match tempfile::Builder::new().prefix("svbox-bench-").tempdir() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("bench: cannot create a temporary directory: {e}");
            std::process::exit(1);
        }
    };
    let root = tmp.path();
    cleanup::install(root.to_path_buf());
    let mut imps = match implementations(root, &cfg) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("bench: {e}");
            return;
        }
    };
    eprintln!("bench: {}", machine());

    // The idle supervisors start first so their wake-up window spans the whole bench.
    let mut idle = [
        Idle::start(&imps[0], root, &cfg),
        Idle::start(&imps[1], root, &cfg),
        Idle::start(&imps[2], root, &cfg),
    ];
    // The fleets of metric 4 (per-instance memory) idle through the whole bench as well.
    eprintln!("bench: {} idle runsvs per implementation", cfg.mem_n);
    let fleets = [
        Fleet::start(&imps[0], root, &cfg),
        Fleet::start(&imps[1], root, &cfg),
        Fleet::start(&imps[2], root, &cfg),
    ];
    // Let the start-up (status writes, log start) settle before the window opens.
    std::thread::sleep(Duration::from_millis(300));
    let opened = Instant::now();
    idle.iter_mut().flatten().for_each(Idle::open);

    let mut rows = status_rows(&mut imps, root, &cfg);
    rows.extend(restart_rows(&imps, root, &cfg));

    let left = cfg.idle.saturating_sub(opened.elapsed());
    if !left.is_zero() {
        eprintln!("bench: idle window, {:.1} s more", left.as_secs_f64());
        std::thread::sleep(left);
    }
    rows.extend(idle_rows(
        &idle,
        &fleets,
        opened.elapsed().as_secs_f64(),
        &cfg,
    ));
    drop(idle);
    drop(fleets);

    for imp in &imps {
        if imp.source.as_os_str().is_empty() {
            println!("{}: skipped", imp.name);
            continue;
        }
        let state = |p: &Option<PathBuf>| {
            if p.is_some() {
                "measured"
            } else {
                "not usable"
            }
        };
        println!(
            "{}: {} (sv {}, runsv {})",
            imp.name,
            imp.source.display(),
            state(&imp.sv),
            state(&imp.runsv)
        );
    }
    println!("{}", machine());
    println!("\n{}", table(&rows));
    // A smoke run is a check: every svbox cell, and every runit cell when runit is there,
    // must have been measured.
    let runit_there = imps[2].runsv.is_some();
    let missing = rows
        .iter()
        .filter(|r| r.svbox.is_none() || (runit_there && r.runit.is_none()))
        .count();
    if !full && missing > 0 {
        eprintln!("bench: smoke run failed: {missing} rows not measured");
        drop(tmp);
        std::process::exit(1);
    }
}
