//! The bench's knobs, read from `SVBOX_BENCH_*` environment variables.

use std::time::Duration;

/// Knobs, each overridable by an environment variable.
pub struct Config {
    /// `SVBOX_BENCH_STATUS`: timed `sv status` runs per combination.
    pub status_iters: usize,
    /// `SVBOX_BENCH_RESTARTS`: timed `sv -w 7 restart` runs per implementation.
    pub restarts: usize,
    /// `SVBOX_BENCH_KILLS`: timed SIGKILL-to-new-pid cycles per implementation.
    pub kills: usize,
    /// `SVBOX_BENCH_POOL`: services (each under its own runsv) restarted round robin.
    pub pool: usize,
    /// `SVBOX_BENCH_IDLE_SECS`: minimum idle window for the wake-up count.
    pub idle: Duration,
    /// `SVBOX_BENCH_MIN_RUN_MS`: how long a run must have lasted before it is ended, so
    /// runsv's 1 s restart throttle never fires.
    pub min_run: Duration,
    /// `SVBOX_BENCH_MEM_N`: idle runsvs per implementation whose average memory is reported.
    pub mem_n: usize,
    /// `SVBOX_BENCH_MUSL=0` skips building and measuring the static musl binary.
    pub musl: bool,
}

pub fn env_num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("bench: ignoring {name}={v:?} (not a number), using {default}");
            default
        }),
        Err(_) => default,
    }
}

impl Config {
    /// `cargo bench` passes `--bench`; without it (`cargo test --all-targets`) the defaults
    /// shrink to a smoke run that only proves every measurement works.
    pub fn from_env(full: bool) -> Config {
        let n = |name, bench, smoke| env_num(name, if full { bench } else { smoke });
        Config {
            status_iters: n("SVBOX_BENCH_STATUS", 300, 5).max(1) as usize,
            restarts: n("SVBOX_BENCH_RESTARTS", 40, 2).max(1) as usize,
            kills: n("SVBOX_BENCH_KILLS", 40, 2).max(1) as usize,
            pool: n("SVBOX_BENCH_POOL", 6, 2).max(1) as usize,
            idle: Duration::from_secs(n("SVBOX_BENCH_IDLE_SECS", 10, 0)),
            min_run: Duration::from_millis(env_num("SVBOX_BENCH_MIN_RUN_MS", 1100).max(1000)),
            mem_n: n("SVBOX_BENCH_MEM_N", 10, 2).max(1) as usize,
            musl: n("SVBOX_BENCH_MUSL", 1, 0) != 0,
        }
    }
}
