//! Waits with inotify until every service of a set runs (its `supervise/status` shows state
//! run with a pid), from before its `supervise/` directory exists: one inotify instance
//! watches each service directory for `supervise` to appear and then `supervise/` itself
//! for the status replacement, so a measured latency is the supervisor's, not a poll's.

use rustix::event::{poll, PollFd, PollFlags};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::inotify;
use rustix::time::Timespec;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub struct TreeWatch {
    fd: OwnedFd,
    dirs: Vec<PathBuf>,
    /// Whether `dirs[i]/supervise` is watched yet.
    watched: Vec<bool>,
    /// Still to come up; re-checked when an event names them.
    pending: Vec<bool>,
    dirty: Vec<usize>,
    by_wd: HashMap<i32, usize>,
}

impl TreeWatch {
    /// Watches `dirs` (which must exist); nothing is read yet.
    pub fn new(dirs: Vec<PathBuf>) -> Result<TreeWatch, String> {
        let fd = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)
            .map_err(|e| format!("inotify_init: {e}"))?;
        let mut by_wd = HashMap::new();
        for (i, d) in dirs.iter().enumerate() {
            let mask = inotify::WatchFlags::CREATE
                | inotify::WatchFlags::MOVED_TO
                | inotify::WatchFlags::ONLYDIR;
            let wd = inotify::add_watch(&fd, d, mask)
                .map_err(|e| format!("inotify_add_watch {}: {e}", d.display()))?;
            by_wd.insert(wd, i);
        }
        let n = dirs.len();
        Ok(TreeWatch {
            fd,
            dirs,
            watched: vec![false; n],
            pending: vec![true; n],
            dirty: (0..n).collect(),
            by_wd,
        })
    }

    fn watch_supervise(&mut self, i: usize) {
        if self.watched[i] {
            return;
        }
        let sup = self.dirs[i].join("supervise");
        let mask = inotify::WatchFlags::MOVED_TO
            | inotify::WatchFlags::CLOSE_WRITE
            | inotify::WatchFlags::MODIFY;
        // Fails while supervise/ does not exist yet; its creation is an event on the parent.
        if let Ok(wd) = inotify::add_watch(&self.fd, &sup, mask) {
            self.by_wd.insert(wd, i);
            self.watched[i] = true;
        }
    }

    /// Reads all queued events and marks the services they name for a re-check.
    fn drain(&mut self) {
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 8192];
        let mut reader = inotify::Reader::new(self.fd.as_fd(), &mut buf);
        loop {
            match reader.next() {
                Ok(ev) => {
                    if ev.events().contains(inotify::ReadFlags::QUEUE_OVERFLOW) {
                        self.dirty.extend(0..self.dirs.len());
                    } else if let Some(&i) = self.by_wd.get(&ev.wd()) {
                        self.dirty.push(i);
                    }
                }
                Err(_) => return,
            }
        }
    }

    fn check(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        for i in dirty {
            if !self.pending[i] {
                continue;
            }
            self.watch_supervise(i);
            if super::svc::running_pid(&self.dirs[i]).is_some() {
                self.pending[i] = false;
            }
        }
    }

    /// How many services do not run yet.
    pub fn left(&self) -> usize {
        self.pending.iter().filter(|&&p| p).count()
    }

    /// Returns true as soon as every service runs, false at `deadline`.
    pub fn wait_all(&mut self, deadline: Instant) -> bool {
        loop {
            self.drain();
            self.check();
            if self.left() == 0 {
                return true;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            let ts = Timespec {
                tv_sec: left.as_secs() as _,
                tv_nsec: left.subsec_nanos() as _,
            };
            let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
            let _ = poll(&mut fds, Some(&ts));
        }
    }
}

/// The status of a service directory, for error messages.
pub fn describe(dir: &Path) -> String {
    match super::svc::read_status(dir) {
        Some(s) => format!("{}: {:?} pid {}", dir.display(), s.state, s.pid),
        None => format!("{}: no status", dir.display()),
    }
}
