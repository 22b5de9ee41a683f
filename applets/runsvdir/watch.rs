//! Change notification for the scan directory through inotify, so a new, removed or renamed
//! service is seen at once instead of at runit's 5-s poll. Parents of symlinked services'
//! targets are watched too, so a directory replaced behind a symlink is seen as well. Any
//! event only means "rescan": the scan itself decides what changed.

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use rustix::path::Arg;

pub struct Watch {
    fd: OwnedFd,
}

fn dir_events() -> WatchFlags {
    WatchFlags::CREATE
        | WatchFlags::DELETE
        | WatchFlags::MOVED_FROM
        | WatchFlags::MOVED_TO
        | WatchFlags::ATTRIB
        | WatchFlags::DELETE_SELF
        | WatchFlags::MOVE_SELF
        | WatchFlags::ONLYDIR
}

impl Watch {
    pub fn new() -> Option<Watch> {
        inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
            .ok()
            .map(|fd| Watch { fd })
    }

    pub fn fd(&self) -> rustix::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Watches a directory (adding the same inode again is a cheap no-op in the kernel).
    pub fn add<P: Arg>(&self, path: P) -> bool {
        inotify::add_watch(&self.fd, path, dir_events()).is_ok()
    }

    /// Reads and discards every queued event; true if there was any.
    pub fn drain(&self) -> bool {
        let mut buf = [0u8; 4096];
        let mut any = false;
        loop {
            match rustix::io::read(&self.fd, &mut buf) {
                Ok(n) if n > 0 => any = true,
                Err(rustix::io::Errno::INTR) => continue,
                _ => return any,
            }
        }
    }
}
