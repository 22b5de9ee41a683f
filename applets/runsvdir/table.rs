//! The services runsvdir knows: one record per (device, inode) of an entry's target, with
//! the runsv running for it. No fixed size; a record is a name, a pid and two stamps. A
//! scan directory holds tens to a few hundred services, so a plain vector searched
//! linearly serves them (a hash map would cost kilobytes of code for nothing).

use super::clock::Mono;
use std::ffi::CString;

/// A service's identity: (st_dev, st_ino) of the directory an entry leads to.
pub type Key = (u64, u64);

pub struct Entry {
    pub key: Key,
    /// The entry's name in the last scan (first one in readdir order for several links).
    pub name: CString,
    /// The runsv's pid, 0 when none runs.
    pub pid: i32,
    pub started: Mono,
    /// Scan generation that last saw the entry.
    pub seen: u64,
    /// A runsv is to be started (no runsv runs).
    pub pending: bool,
    /// Earliest start after a runsv that died at once (lock conflict) or a failed fork;
    /// `None` for one that is not pending.
    pub retry_at: Option<Mono>,
}

#[derive(Default)]
pub struct Table {
    pub entries: Vec<Entry>,
    /// runsvs of removed services, TERMed and not yet reaped.
    pub leaving: Vec<i32>,
    pub generation: u64,
}

impl Table {
    pub fn get(&mut self, key: Key) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.key == key)
    }

    /// The service whose runsv has this pid.
    pub fn running(&mut self, pid: i32) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.pid != 0 && e.pid == pid)
    }

    /// Every runsv this runsvdir started that has not been reaped.
    pub fn all_pids(&self) -> impl Iterator<Item = i32> + '_ {
        self.entries
            .iter()
            .map(|e| e.pid)
            .filter(|&p| p != 0)
            .chain(self.leaving.iter().copied())
    }

    pub fn runsv_count(&self) -> usize {
        self.all_pids().count()
    }
}
