//! `cargo bench --bench runsvdir`: svbox's `runsvdir` (with its `runsv`) side by side with
//! runit 2.1.2's: new-service latency, idle wake-ups, memory per service, and the time a
//! large tree takes to come up. One Markdown table with medians, p90s and runit/svbox
//! ratios; docs/benchmarks.md explains each metric. Counts come from `SVBOX_BENCH_*`
//! variables (see `Knobs`); without `--bench` it is a smoke run with small counts.

#[allow(dead_code)] // the sv/runsv bench's modules are shared but unused here
mod common;

use common::cleanup;
use common::config::env_num;
use common::programs::machine;
use common::scanbench::{tree_once, IdleMemory, IdleTree, NewService, WakeupCount, TREE_DEADLINE};
use common::stats::{table, Row, Summary};
use common::svdir::{implementations, DirImpl};
use common::sweep;
use common::treewatch::TreeWatch;
use std::path::Path;
use std::time::{Duration, Instant};

struct Knobs {
    /// `SVBOX_BENCH_NEW_SVBOX` / `SVBOX_BENCH_NEW_RUNIT`: new-service samples.
    new_svbox: usize,
    new_runit: usize,
    /// `SVBOX_BENCH_IDLE_SECS`: the idle window of the wake-up count (it runs while the
    /// other metrics are measured on other runsvdirs).
    idle: Duration,
    /// `SVBOX_BENCH_MEM_SERVICES`: services of the idle tree (half with a logger).
    mem_services: usize,
    /// `SVBOX_BENCH_TREE` services, started `SVBOX_BENCH_TREE_RUNS` times per implementation.
    tree: usize,
    tree_runs: usize,
    /// `SVBOX_BENCH_MUSL=0` skips the static musl build.
    musl: bool,
}

impl Knobs {
    fn from_env(full: bool) -> Knobs {
        let n = |name, bench, smoke| env_num(name, if full { bench } else { smoke });
        Knobs {
            new_svbox: n("SVBOX_BENCH_NEW_SVBOX", 20, 3).max(1) as usize,
            new_runit: n("SVBOX_BENCH_NEW_RUNIT", 5, 1).max(1) as usize,
            idle: Duration::from_secs(n("SVBOX_BENCH_IDLE_SECS", 30, 2)),
            mem_services: n("SVBOX_BENCH_MEM_SERVICES", 50, 4).max(2) as usize,
            tree: n("SVBOX_BENCH_TREE", 500, 20).max(1) as usize,
            tree_runs: n("SVBOX_BENCH_TREE_RUNS", 3, 1).max(1) as usize,
            musl: n("SVBOX_BENCH_MUSL", 1, 0) != 0,
        }
    }
}

/// The pause before new-service sample `i`. runit's runsvdir looks at its directory every
/// 5 s (1 s after a change), so its latency depends on where in that cycle the link comes:
/// its samples are spread over the 6 s cycle. Ours get short spreads so that a scan
/// throttle, if any, is met at different phases too.
fn phase(imp: &DirImpl, i: usize) -> Duration {
    if imp.name == "runit" {
        Duration::from_millis((i as u64 * 1300) % 6000)
    } else {
        Duration::from_millis((i as u64 % 5) * 250)
    }
}

/// Metric 1: new-service latency, svbox (host) and runit alternating.
fn new_service_row(imps: &[Option<DirImpl>; 3], root: &Path, k: &Knobs) -> Row {
    let pair = [(&imps[0], k.new_svbox), (&imps[2], k.new_runit)];
    let mut subjects: Vec<Option<(NewService, Vec<f64>)>> = pair
        .iter()
        .map(|(imp, n)| {
            let imp = imp.as_ref()?;
            match NewService::start(imp, root, *n) {
                Ok(s) => Some((s, Vec::new())),
                Err(e) => {
                    eprintln!("bench: {}: {e}", imp.name);
                    None
                }
            }
        })
        .collect();
    // Both runsvdirs finish their first scan (runit's sleeps 1 s on a fresh directory).
    std::thread::sleep(Duration::from_millis(1500));
    let most = k.new_svbox.max(k.new_runit);
    eprintln!(
        "bench: new-service latency x {} (svbox) / {} (runit)",
        k.new_svbox, k.new_runit
    );
    for i in 0..most {
        for ((imp, n), slot) in pair.iter().zip(subjects.iter_mut()) {
            let (Some(imp), Some((subject, samples))) = (imp, slot.as_mut()) else {
                continue;
            };
            if i >= *n {
                continue;
            }
            std::thread::sleep(phase(imp, i));
            match subject.once() {
                Ok(v) => samples.push(v),
                Err(e) => {
                    eprintln!("bench: {}: dropping new-service column: {e}", imp.name);
                    *slot = None;
                }
            }
        }
    }
    let mut sums = subjects
        .into_iter()
        .map(|s| s.and_then(|(_, v)| Summary::of(&v)));
    Row {
        metric: "new service: `symlink()` into the scan dir until its status shows run".into(),
        unit: "ms",
        svbox: sums.next().flatten(),
        runit: sums.next().flatten(),
    }
}

/// Metric 4: a fresh tree of `k.tree` services, runsvdir start until all run; the three
/// implementations alternate. One row per svbox build.
fn tree_rows(imps: &[Option<DirImpl>; 3], root: &Path, k: &Knobs) -> Vec<Row> {
    let mut samples: Vec<Option<Vec<f64>>> = imps
        .iter()
        .map(|i| i.as_ref().map(|_| Vec::new()))
        .collect();
    eprintln!("bench: {}-service tree start-up x {}", k.tree, k.tree_runs);
    for run in 0..k.tree_runs {
        for (imp, slot) in imps.iter().zip(samples.iter_mut()) {
            let (Some(imp), Some(v)) = (imp, slot.as_mut()) else {
                continue;
            };
            let base = root.join(format!("tree-{}-{run}", imp.name));
            match tree_once(imp, &base, k.tree) {
                Ok(ms) => v.push(ms),
                Err(e) => {
                    eprintln!("bench: {}: dropping tree column: {e}", imp.name);
                    *slot = None;
                }
            }
        }
    }
    let sums: Vec<Option<Summary>> = samples
        .iter()
        .map(|s| s.as_deref().and_then(Summary::of))
        .collect();
    let mut rows = Vec::new();
    for (i, build) in [(0, "host build"), (1, "static musl")] {
        if i == 1 && !k.musl {
            continue;
        }
        rows.push(Row {
            metric: format!(
                "runsvdir start on {} prepared services until every status shows run (svbox {build})",
                k.tree
            ),
            unit: "ms",
            svbox: sums[i],
            runit: sums[2],
        });
    }
    rows
}

/// Metrics 2 and 3 for each svbox build against runit.
fn idle_rows(memory: &[Option<IdleMemory>; 3], wakeups: &[Option<u64>; 3], k: &Knobs) -> Vec<Row> {
    let one = |r: &Option<IdleMemory>, f: fn(&IdleMemory) -> f64| {
        r.as_ref().map(|r| Summary {
            n: r.n,
            ..Summary::single(f(r))
        })
    };
    let count = |w: &Option<u64>| w.map(|w| Summary::single(w as f64));
    let n = k.mem_services;
    let secs = k.idle.as_secs();
    let mut rows = Vec::new();
    for (i, build) in [(0, "host build"), (1, "static musl")] {
        if i == 1 && !k.musl {
            continue;
        }
        let (mine, theirs) = (&memory[i], &memory[2]);
        rows.push(Row {
            metric: format!("(runsvdir + runsvs) Pss / {n} services, half logged (svbox {build})"),
            unit: "kB",
            svbox: one(mine, |r| r.pss),
            runit: one(theirs, |r| r.pss),
        });
        rows.push(Row {
            metric: format!("(runsvdir + runsvs) Private_Dirty / {n} services (svbox {build})"),
            unit: "kB",
            svbox: one(mine, |r| r.private_dirty),
            runit: one(theirs, |r| r.private_dirty),
        });
        // The n column of the runsvdir-alone rows is 1: one process.
        let alone = |r: &Option<IdleMemory>, f: fn(&IdleMemory) -> f64| {
            r.as_ref().map(|r| Summary::single(f(r)))
        };
        rows.push(Row {
            metric: format!("runsvdir alone: Pss, same tree (svbox {build})"),
            unit: "kB",
            svbox: alone(mine, |r| r.runsvdir_pss),
            runit: alone(theirs, |r| r.runsvdir_pss),
        });
        rows.push(Row {
            metric: format!("runsvdir alone: Private_Dirty, same tree (svbox {build})"),
            unit: "kB",
            svbox: alone(mine, |r| r.runsvdir_private_dirty),
            runit: alone(theirs, |r| r.runsvdir_private_dirty),
        });
        rows.push(Row {
            metric: format!(
                "runsvdir wake-ups (context switches) in {secs} s idle, {n} services (svbox {build})"
            ),
            unit: "count",
            svbox: count(&wakeups[i]),
            runit: count(&wakeups[2]),
        });
    }
    rows
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    if !full {
        eprintln!("bench: not started by `cargo bench` (no --bench): smoke run with small counts");
    }
    let k = Knobs::from_env(full);
    let tmp = match tempfile::Builder::new().prefix("svbox-bench-").tempdir() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("bench: cannot create a temporary directory: {e}");
            std::process::exit(1);
        }
    };
    let root = tmp.path().to_path_buf();
    cleanup::install(root.clone());
    let imps = implementations(&root, k.musl);
    eprintln!("bench: {}", machine());

    // The idle trees come up first; their wake-up window runs alongside the other metrics.
    eprintln!("bench: idle trees of {} services", k.mem_services);
    let (mut idle, mut watches): (Vec<Option<IdleTree>>, Vec<Option<TreeWatch>>) = imps
        .iter()
        .map(|imp| {
            let imp = imp.as_ref()?;
            IdleTree::start(imp, &root, k.mem_services)
                .map_err(|e| eprintln!("bench: {} idle tree: {e}", imp.name))
                .ok()
        })
        .map(|started| match started {
            Some((tree, watch)) => (Some(tree), Some(watch)),
            None => (None, None),
        })
        .unzip();
    let deadline = Instant::now() + TREE_DEADLINE;
    for (tree, watch) in idle.iter_mut().zip(watches.iter_mut()) {
        if let (Some(t), Some(w)) = (tree.as_ref(), watch.as_mut()) {
            if !w.wait_all(deadline) {
                eprintln!(
                    "bench: idle tree not up ({} left): {}",
                    w.left(),
                    t.stderr()
                );
                *tree = None;
            }
        }
    }
    drop(watches);
    // Let the start-up settle (runit's runsvdir rescans 1 s after finding new services).
    std::thread::sleep(Duration::from_millis(1500));
    let counts: Vec<Option<WakeupCount>> = idle
        .iter()
        .map(|t| t.as_ref().map(|t| WakeupCount::start(t.pid(), k.idle)))
        .collect();

    let mut rows = vec![new_service_row(&imps, &root, &k)];
    rows.extend(tree_rows(&imps, &root, &k));

    if counts.iter().any(Option::is_some) {
        eprintln!(
            "bench: waiting for the end of the {} s idle window",
            k.idle.as_secs()
        );
    }
    let wakeups: Vec<Option<u64>> = counts
        .into_iter()
        .map(|c| c.and_then(WakeupCount::finish))
        .collect();
    let memory: Vec<Option<IdleMemory>> = idle
        .iter()
        .map(|t| {
            t.as_ref()?
                .memory()
                .map_err(|e| eprintln!("bench: idle tree: {e}"))
                .ok()
        })
        .collect();
    let mut all = idle_rows(
        &[memory[0], memory[1], memory[2]],
        &[wakeups[0], wakeups[1], wakeups[2]],
        &k,
    );
    all.append(&mut rows);
    drop(idle);
    let survivors = sweep::kill_under(&root, Duration::from_secs(10));

    for (imp, name) in imps.iter().zip(["svbox", "svbox-musl", "runit"]) {
        match imp {
            Some(i) => println!("{name}: {}", i.source.display()),
            None => println!("{name}: not available"),
        }
    }
    println!("{}", machine());
    println!("\n{}", table(&all));
    if survivors > 0 {
        eprintln!("bench: {survivors} processes survived the clean-up");
    }
    // A smoke run is a check: every cell of an available implementation must be measured.
    let missing = all
        .iter()
        .filter(|r| {
            (imps[0].is_some() && r.svbox.is_none()) || (imps[2].is_some() && r.runit.is_none())
        })
        .count();
    if !full && (missing > 0 || survivors > 0) {
        eprintln!("bench: smoke run failed: {missing} rows not measured");
        drop(tmp);
        std::process::exit(1);
    }
}
