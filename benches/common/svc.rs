//! Service directories under one supervisor each: creation, start of runsv, status reads and
//! the bookkeeping that keeps every measured run longer than runsv's 1 s restart throttle.

use super::cleanup::Group;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use svbox::status::{RunState, Status};

/// How long setup steps (runsv coming up, a service starting) may take.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// Writes an executable `#!/bin/sh` script.
pub fn script(path: &Path, body: &str) -> Result<(), String> {
    fs::write(path, format!("#!/bin/sh\n{body}\n"))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads and decodes `dir/supervise/status`.
pub fn read_status(dir: &Path) -> Option<Status> {
    let bytes = fs::read(dir.join("supervise/status")).ok()?;
    Status::decode(&bytes).ok()
}

/// The pid of a running `run` (state run, pid set), if any.
pub fn running_pid(dir: &Path) -> Option<u32> {
    read_status(dir)
        .filter(|s| s.state == RunState::Run && s.pid != 0)
        .map(|s| s.pid)
}

/// True once `dir/supervise/ok` has a reader, i.e. a runsv is supervising `dir`.
fn supervised(dir: &Path) -> bool {
    svbox::fsio::open_write(dir.join("supervise/ok").as_path()).is_ok()
}

/// Polls `cond` with growing pauses until it holds or `deadline` passes (setup only; the
/// measured waits use inotify, see `watch`).
pub fn poll_until(deadline: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    let mut pause = Duration::from_millis(1);
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// One service directory (`run` = `exec sleep`, optionally a `log/run` = `exec cat`)
/// supervised by its own runsv.
pub struct Service {
    pub dir: PathBuf,
    pub runsv: Group,
    /// Earliest moment the current run may be ended without runsv's throttle kicking in.
    pub ready_at: Instant,
}

impl Service {
    /// Creates `root/name` and starts `runsv name` in `root`; returns once the service (and
    /// its log) runs.
    pub fn start(
        runsv: &Path,
        root: &Path,
        name: &str,
        with_log: bool,
        min_run: Duration,
    ) -> Result<Service, String> {
        let dir = root.join(name);
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        script(&dir.join("run"), "exec sleep 3600")?;
        if with_log {
            fs::create_dir_all(dir.join("log"))
                .map_err(|e| format!("{}/log: {e}", dir.display()))?;
            script(&dir.join("log/run"), "exec cat >/dev/null")?;
        }
        let started = Instant::now();
        let stderr = root.join(format!("{name}.stderr"));
        let mut group = Group::start(runsv, &[name], root, stderr)?;
        let mut gone = None;
        let up = poll_until(DEADLINE, || {
            if let Some(st) = group.exited() {
                gone = Some(st);
                return true;
            }
            supervised(&dir)
                && running_pid(&dir).is_some()
                && (!with_log || running_pid(&dir.join("log")).is_some())
        });
        if let Some(st) = gone {
            return Err(format!(
                "{} exited ({st}): {}",
                runsv.display(),
                group.stderr().trim_end()
            ));
        }
        if !up {
            return Err(format!(
                "{} did not bring up {} within {DEADLINE:?}: {}",
                runsv.display(),
                dir.display(),
                group.stderr().trim_end()
            ));
        }
        let mut svc = Service {
            dir,
            runsv: group,
            ready_at: started + min_run,
        };
        svc.remember_pids();
        Ok(svc)
    }

    /// Records the current service pids so the guard kills them even if they left the group.
    pub fn remember_pids(&mut self) {
        for dir in [self.dir.clone(), self.dir.join("log")] {
            if let Some(s) = read_status(&dir) {
                if s.pid != 0 && !self.runsv.extra.contains(&s.pid) {
                    self.runsv.extra.push(s.pid);
                }
            }
        }
    }

    /// Sleeps until the current run has lasted long enough not to be throttled.
    pub fn wait_ready(&self) {
        let now = Instant::now();
        if self.ready_at > now {
            std::thread::sleep(self.ready_at - now);
        }
    }

    pub fn runsv_pid(&self) -> u32 {
        self.runsv.pid()
    }
}

/// Index of the pool member whose run became restartable first (round robin in practice).
pub fn next_ready(pool: &[Service]) -> usize {
    let mut best = 0;
    for (i, s) in pool.iter().enumerate() {
        if s.ready_at < pool[best].ready_at {
            best = i;
        }
    }
    best
}
