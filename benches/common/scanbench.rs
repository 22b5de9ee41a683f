//! One sample of each runsvdir metric: a new service's latency, a whole tree's start-up, and
//! the idle tree whose wake-ups and memory are read at the end.

use super::procfs;
use super::svdir::{make_services, DirImpl, Scan};
use super::sweep;
use super::treewatch::{describe, TreeWatch};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a tree of up to a few hundred services may take to come up.
pub const TREE_DEADLINE: Duration = Duration::from_secs(120);

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A runsvdir on an initially empty scan directory, and prepared services to link in.
pub struct NewService {
    scan: Scan,
    prepared: Vec<PathBuf>,
    next: usize,
}

impl NewService {
    pub fn start(imp: &DirImpl, root: &Path, n: usize) -> Result<NewService, String> {
        let base = root.join(format!("new-{}", imp.name));
        let dir = base.join("scan");
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let prepared = make_services(&base.join("prepared"), "s", n, 0)?;
        let scan = Scan::start(imp, &dir, base.join("stderr"))?;
        Ok(NewService {
            scan,
            prepared,
            next: 0,
        })
    }

    /// One sample: symlinks the next prepared service into the scan directory and times
    /// until its status shows run with a pid.
    pub fn once(&mut self) -> Result<f64, String> {
        let svc = self
            .prepared
            .get(self.next)
            .ok_or("no prepared service left")?
            .clone();
        self.next += 1;
        if let Some(st) = self.scan.group.exited() {
            return Err(format!(
                "runsvdir exited ({st}): {}",
                self.scan.group.stderr().trim_end()
            ));
        }
        let mut watch = TreeWatch::new(vec![svc.clone()])?;
        let link = self.scan.dir.join(svc.file_name().unwrap_or_default());
        let start = Instant::now();
        std::os::unix::fs::symlink(&svc, &link).map_err(|e| format!("{}: {e}", link.display()))?;
        if watch.wait_all(start + Duration::from_secs(30)) {
            Ok(ms(start.elapsed()))
        } else {
            Err(format!("not running after 30 s: {}", describe(&svc)))
        }
    }
}

/// One sample of the big-tree metric: `n` fresh services in a fresh scan directory under
/// `base`; time from starting runsvdir until every status shows run. Everything is killed
/// and removed again before returning.
pub fn tree_once(imp: &DirImpl, base: &Path, n: usize) -> Result<f64, String> {
    let dir = base.join("scan");
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let services = make_services(&dir, "t", n, 0)?;
    // As on a booting system, the tree was prepared long before: runit's runsvdir would
    // otherwise wait 1 s because the directory changed within the current second.
    age(&dir, Duration::from_secs(60))?;
    let mut watch = TreeWatch::new(services)?;
    let start = Instant::now();
    let scan = Scan::start(imp, &dir, base.join("stderr"))?;
    let up = watch.wait_all(start + TREE_DEADLINE);
    let took = start.elapsed();
    let err = scan.group.stderr();
    drop(scan);
    let left = sweep::kill_under(base, Duration::from_secs(10));
    let _ = fs::remove_dir_all(base);
    if !up {
        return Err(format!(
            "{} of {n} services not running after {TREE_DEADLINE:?}: {}",
            watch.left(),
            err.trim_end()
        ));
    }
    if left > 0 {
        return Err(format!("{left} processes survived the tree's clean-up"));
    }
    Ok(ms(took))
}

/// Sets `dir`'s mtime `ago` into the past.
pub fn age(dir: &Path, ago: Duration) -> Result<(), String> {
    let when = std::time::SystemTime::now() - ago;
    fs::File::open(dir)
        .and_then(|f| f.set_times(fs::FileTimes::new().set_modified(when)))
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// A runsvdir with `n` services (every second one with a logger) left idle.
pub struct IdleTree {
    scan: Scan,
    pub services: usize,
}

/// Memory per service (runsvdir + runsvs, divided by the services), and of runsvdir alone,
/// in kB.
#[derive(Clone, Copy)]
pub struct IdleMemory {
    pub pss: f64,
    pub private_dirty: f64,
    pub runsvdir_pss: f64,
    pub runsvdir_private_dirty: f64,
    pub n: usize,
}

/// Counts a process's context switches over a window, from a thread of its own, so the
/// window is exact while the bench does other work.
pub struct WakeupCount {
    thread: std::thread::JoinHandle<Option<u64>>,
}

impl WakeupCount {
    pub fn start(pid: u32, window: Duration) -> WakeupCount {
        let before = procfs::context_switches(pid);
        WakeupCount {
            thread: std::thread::spawn(move || {
                std::thread::sleep(window);
                Some(procfs::context_switches(pid)?.saturating_sub(before?))
            }),
        }
    }

    /// Waits for the window's end; None if the process could not be read.
    pub fn finish(self) -> Option<u64> {
        self.thread.join().ok().flatten()
    }
}

impl IdleTree {
    /// Starts runsvdir on `n` services from a private copy of `imp`'s programs.
    pub fn start(imp: &DirImpl, root: &Path, n: usize) -> Result<(IdleTree, TreeWatch), String> {
        let base = root.join(format!("mem-{}", imp.name));
        let own = imp.copy_to(&base.join("bin"))?;
        let dir = base.join("scan");
        let services = make_services(&dir, "m", n, 2)?;
        let mut dirs = services.clone();
        dirs.extend(
            services
                .iter()
                .map(|d| d.join("log"))
                .filter(|l| l.is_dir()),
        );
        let watch = TreeWatch::new(dirs)?;
        let scan = Scan::start(&own, &dir, base.join("stderr"))?;
        Ok((IdleTree { scan, services: n }, watch))
    }

    pub fn stderr(&self) -> String {
        self.scan.group.stderr()
    }

    pub fn pid(&self) -> u32 {
        self.scan.pid()
    }

    /// Memory now. Fails unless runsvdir still has exactly one runsv per service.
    pub fn memory(&self) -> Result<IdleMemory, String> {
        let (pss, dirty, runsvs) = self.scan.memory().ok_or("cannot read smaps_rollup")?;
        if runsvs != self.services {
            return Err(format!(
                "runsvdir has {runsvs} children, expected {} runsvs",
                self.services
            ));
        }
        let own = procfs::memory(self.pid()).ok_or("runsvdir is gone")?;
        let n = self.services as f64;
        Ok(IdleMemory {
            pss: pss as f64 / n,
            private_dirty: dirty as f64 / n,
            runsvdir_pss: own.pss as f64,
            runsvdir_private_dirty: own.private_dirty as f64,
            n: self.services,
        })
    }
}
