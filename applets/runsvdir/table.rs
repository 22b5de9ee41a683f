//! The services runsvdir knows: one record per (device, inode) of an entry's target, with
//! the runsv running for it. No fixed size; a record is a name, a pid and two stamps.

use super::clock::Mono;
use std::collections::HashMap;
use std::ffi::CString;

/// A service's identity: (st_dev, st_ino) of the directory an entry leads to.
pub type Key = (u64, u64);

pub struct Entry {
    /// The entry's name in the last scan (first one in readdir order for several links).
    pub name: CString,
    /// The runsv's pid, 0 when none runs.
    pub pid: i32,
    pub started: Mono,
    /// Scan generation that last saw the entry.
    pub seen: u64,
    /// Waiting in the start queue or the back-off list.
    pub pending: bool,
    /// Earliest start after a runsv that died at once (lock conflict) or a failed fork.
    pub retry_at: Option<Mono>,
}

#[derive(Default)]
pub struct Table {
    pub map: HashMap<Key, Entry>,
    pub by_pid: HashMap<i32, Key>,
    /// runsvs of removed services, TERMed and not yet reaped.
    pub leaving: Vec<i32>,
    pub generation: u64,
}

impl Table {
    /// Every runsv this runsvdir started that has not been reaped.
    pub fn all_pids(&self) -> impl Iterator<Item = i32> + '_ {
        self.by_pid
            .keys()
            .copied()
            .chain(self.leaving.iter().copied())
    }

    pub fn runsv_count(&self) -> usize {
        self.by_pid.len() + self.leaving.len()
    }
}
