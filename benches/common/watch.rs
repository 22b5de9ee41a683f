//! Waits for a change of `supervise/status` with inotify, so the measured latency is the
//! supervisor's and not a polling interval's.

use rustix::event::{poll, PollFd, PollFlags};
use rustix::fd::OwnedFd;
use rustix::fs::inotify;
use rustix::time::Timespec;
use std::path::{Path, PathBuf};
use std::time::Instant;
use svbox::status::Status;

pub struct StatusWatch {
    fd: OwnedFd,
    dir: PathBuf,
}

impl StatusWatch {
    /// Watches `svdir/supervise` for the rename (or write) that replaces `status`.
    pub fn new(svdir: &Path) -> Result<StatusWatch, String> {
        let fd = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)
            .map_err(|e| format!("inotify_init: {e}"))?;
        let sup = svdir.join("supervise");
        let mask = inotify::WatchFlags::MOVED_TO
            | inotify::WatchFlags::CLOSE_WRITE
            | inotify::WatchFlags::MODIFY;
        inotify::add_watch(&fd, &sup, mask)
            .map_err(|e| format!("inotify_add_watch {}: {e}", sup.display()))?;
        Ok(StatusWatch {
            fd,
            dir: svdir.to_path_buf(),
        })
    }

    fn drain(&self) {
        let mut buf = [0u8; 4096];
        while matches!(rustix::io::read(&self.fd, &mut buf), Ok(n) if n > 0) {}
    }

    /// Returns the first status satisfying `cond`, re-reading it after every event; None at
    /// the deadline.
    pub fn wait(&self, deadline: Instant, mut cond: impl FnMut(&Status) -> bool) -> Option<Status> {
        loop {
            self.drain();
            if let Some(s) = super::svc::read_status(&self.dir) {
                if cond(&s) {
                    return Some(s);
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            let ts = Timespec {
                tv_sec: left.as_secs() as _,
                tv_nsec: left.subsec_nanos() as _,
            };
            let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
            let _ = poll(&mut fds, Some(&ts));
        }
    }
}
