//! One sample of each metric (timing `sv`, SIGKILL to new pid, idle counters) and the
//! alternation between implementations.

use super::config::Config;
use super::procfs;
use super::programs::Impl;
use super::stats::Summary;
use super::svc::{next_ready, running_pid, Service};
use super::watch::StatusWatch;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Milliseconds from spawning `sv` until its first stdout line was read, and until it had
/// exited.
#[derive(Clone, Copy)]
pub struct Timing {
    pub line: f64,
    pub exit: f64,
}

/// Runs `sv ARGS DIR` once and times it; fails unless it exits 0 with stdout starting with
/// `expect`.
pub fn time_sv(sv: &Path, args: &[&str], dir: &Path, expect: &str) -> Result<Timing, String> {
    let start = Instant::now();
    let mut child = Command::new(sv)
        .args(args)
        .arg(dir)
        .env_remove("SVDIR")
        .env_remove("SVWAIT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", sv.display()))?;
    let mut stdout = Vec::new();
    let mut line = None;
    if let Some(mut out) = child.stdout.take() {
        let mut buf = [0u8; 512];
        while let Ok(n @ 1..) = out.read(&mut buf) {
            stdout.extend_from_slice(&buf[..n]);
            if line.is_none() && buf[..n].contains(&b'\n') {
                line = Some(start.elapsed());
            }
        }
    }
    let mut stderr = Vec::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_end(&mut stderr);
    }
    let status = child
        .wait()
        .map_err(|e| format!("wait for {}: {e}", sv.display()))?;
    let exit = start.elapsed();
    let stdout = String::from_utf8_lossy(&stdout);
    if !status.success() || !stdout.starts_with(expect) {
        return Err(format!(
            "{} {} {}: {status} stdout {:?} stderr {:?}",
            sv.display(),
            args.join(" "),
            dir.display(),
            stdout.trim_end(),
            String::from_utf8_lossy(&stderr).trim_end()
        ));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    Ok(Timing {
        line: ms(line.unwrap_or(exit)),
        exit: ms(exit),
    })
}

/// Whether `sv status` of this implementation works against a running service.
pub fn sv_works(imp: &Impl, dir: &Path) -> bool {
    let Some(sv) = &imp.sv else { return false };
    match time_sv(sv, &["status"], dir, "run: ") {
        Ok(_) => true,
        Err(e) => {
            eprintln!("bench: {} sv not usable (stub?): {e}", imp.name);
            false
        }
    }
}

/// Metric 1: `sv status` latency for several (sv, service) combinations, interleaved so
/// every combination sees the same machine load. Returns one sample set per combination.
pub fn bench_status(combos: &[(&Path, &Path)], iters: usize) -> Vec<Option<Vec<f64>>> {
    let warmup = 10;
    let mut samples: Vec<Option<Vec<f64>>> = combos
        .iter()
        .map(|_| Some(Vec::with_capacity(iters)))
        .collect();
    for i in 0..warmup + iters {
        for (slot, (sv, dir)) in samples.iter_mut().zip(combos) {
            let Some(v) = slot else { continue };
            match time_sv(sv, &["status"], dir, "run: ") {
                Ok(t) if i >= warmup => v.push(t.exit),
                Ok(_) => {}
                Err(e) => {
                    eprintln!("bench: dropping a combination: {e}");
                    *slot = None;
                }
            }
        }
    }
    samples
}

/// A pool of services, each under its own runsv of one implementation.
pub fn start_pool(
    runsv: &Path,
    root: &Path,
    tag: &str,
    cfg: &Config,
) -> Result<Vec<Service>, String> {
    (0..cfg.pool)
        .map(|i| Service::start(runsv, root, &format!("{tag}-{i}"), false, cfg.min_run))
        .collect()
}

/// Metric 2, one sample: `sv -w 7 restart` on the pool member that is ready first.
pub fn restart_once(sv: &Path, pool: &mut [Service], min_run: Duration) -> Result<Timing, String> {
    let svc = &mut pool[next_ready(pool)];
    svc.wait_ready();
    let old = running_pid(&svc.dir).ok_or("service not running before restart")?;
    let t = time_sv(sv, &["-w", "7", "restart"], &svc.dir, "ok: run: ")?;
    svc.ready_at = Instant::now() + min_run;
    let new = running_pid(&svc.dir).ok_or("service not running after restart")?;
    svc.remember_pids();
    if new == old {
        return Err(format!("sv reported ok but the pid is still {old}"));
    }
    Ok(t)
}

/// Metric 3, one sample: SIGKILL the run of the pool member that is ready first and time
/// until runsv has written a new pid to `supervise/status` (seen through inotify).
pub fn kill_once(
    pool: &mut [Service],
    watches: &[StatusWatch],
    min_run: Duration,
) -> Result<f64, String> {
    let i = next_ready(pool);
    let svc = &mut pool[i];
    svc.wait_ready();
    let old = running_pid(&svc.dir).ok_or("service not running before kill")?;
    let start = Instant::now();
    // SAFETY: kill has no memory effects; `old` is the service's own process.
    if unsafe { nix::libc::kill(old as i32, nix::libc::SIGKILL) } != 0 {
        return Err(format!("kill {old}: {}", std::io::Error::last_os_error()));
    }
    let deadline = start + Duration::from_secs(10);
    let seen = watches[i].wait(deadline, |s| {
        s.state == svbox::status::RunState::Run && s.pid != 0 && s.pid != old
    });
    let ms = start.elapsed().as_secs_f64() * 1e3;
    svc.ready_at = Instant::now() + min_run;
    svc.remember_pids();
    seen.map(|_| ms)
        .ok_or_else(|| format!("no new pid in {} within 10 s", svc.dir.display()))
}

/// Runs `one` for `n` samples per implementation, alternating between them.
pub fn interleaved<T, S>(
    n: usize,
    subjects: &mut [Option<T>],
    mut one: impl FnMut(&mut T) -> Result<S, String>,
) -> Vec<Option<Vec<S>>> {
    let mut samples: Vec<Option<Vec<S>>> = subjects
        .iter()
        .map(|s| s.as_ref().map(|_| Vec::new()))
        .collect();
    for _ in 0..n {
        for (subject, slot) in subjects.iter_mut().zip(samples.iter_mut()) {
            let (Some(subject), Some(v)) = (subject.as_mut(), slot.as_mut()) else {
                continue;
            };
            match one(subject) {
                Ok(sample) => v.push(sample),
                Err(e) => {
                    eprintln!("bench: dropping a column: {e}");
                    *slot = None;
                }
            }
        }
    }
    samples
}

/// One field of every timing in a sample set.
pub fn part(samples: &Option<Vec<Timing>>, f: fn(&Timing) -> f64) -> Option<Vec<f64>> {
    samples.as_ref().map(|v| v.iter().map(f).collect())
}

pub fn summary(samples: &Option<Vec<f64>>) -> Option<Summary> {
    samples.as_deref().and_then(Summary::of)
}

/// Wake-ups over the window and memory at its end, if the process could be read.
pub type Reading = Option<(f64, procfs::Memory)>;

/// Idle supervisors (service + log) whose wake-ups are counted over the whole bench.
pub struct Idle {
    pub svc: Service,
    pub switches: u64,
}

impl Idle {
    pub fn start(imp: &Impl, root: &Path, cfg: &Config) -> Option<Idle> {
        let runsv = imp.runsv.as_ref()?;
        match Service::start(
            runsv,
            root,
            &format!("idle-{}", imp.name),
            true,
            cfg.min_run,
        ) {
            Ok(svc) => Some(Idle { svc, switches: 0 }),
            Err(e) => {
                eprintln!("bench: {} runsv not usable (stub?): {e}", imp.name);
                None
            }
        }
    }

    /// Opens the window: remembers the context-switch count.
    pub fn open(&mut self) {
        self.switches = procfs::context_switches(self.svc.runsv_pid()).unwrap_or(0);
    }

    /// Wake-ups since `open`, and memory now.
    pub fn close(&self) -> Option<(f64, procfs::Memory)> {
        let pid = self.svc.runsv_pid();
        let now = procfs::context_switches(pid)?;
        Some((
            now.saturating_sub(self.switches) as f64,
            procfs::memory(pid)?,
        ))
    }
}
