//! One scan of the scan directory (runit §3.2): dot-names skipped, entries followed through
//! symlinks, identity by (device, inode) of the target, services that disappeared get their
//! runsv TERMed and are forgotten. New and runsv-less services are queued for a start.

use super::out::Out;
use super::table::{Entry, Table};
use super::watch::Watch;
use nix::sys::signal::Signal;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use std::collections::VecDeque;
use std::ffi::{CStr, OsStr};
use std::os::unix::ffi::OsStrExt;

/// What the last look at the directory itself found.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct DirStamp {
    pub dev: u64,
    pub ino: u64,
    pub mtime: (i64, i64),
}

/// Outcome of a scan attempt.
pub enum Scan {
    Done,
    /// The directory could not be read: keep what is known, try again later.
    Failed,
}

pub struct Scanner<'a> {
    pub dir: &'a OsStr,
    pub out: &'a mut Out,
    pub table: &'a mut Table,
    pub queue: &'a mut VecDeque<super::table::Key>,
    pub watch: Option<&'a Watch>,
}

pub fn stamp(dir: &OsStr) -> Result<DirStamp, i32> {
    match rustix::fs::stat(dir.as_bytes()) {
        Ok(st) => Ok(DirStamp {
            dev: st.st_dev,
            ino: st.st_ino,
            mtime: (st.st_mtime, st.st_mtime_nsec as i64),
        }),
        Err(e) => Err(e.raw_os_error()),
    }
}

impl Scanner<'_> {
    pub fn scan(&mut self) -> Scan {
        let d = self.dir.as_bytes();
        let fd = match rustix::fs::open(
            d,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(e) => {
                self.out
                    .warn(b"unable to open directory ", d, Some(e.raw_os_error()));
                return Scan::Failed;
            }
        };
        let mut dirp = match rustix::fs::Dir::read_from(&fd) {
            Ok(x) => x,
            Err(e) => {
                self.out
                    .warn(b"unable to open directory ", d, Some(e.raw_os_error()));
                return Scan::Failed;
            }
        };
        self.table.generation += 1;
        let generation = self.table.generation;
        while let Some(item) = dirp.read() {
            let ent = match item {
                Ok(ent) => ent,
                Err(e) => {
                    self.out
                        .warn(b"unable to read directory ", d, Some(e.raw_os_error()));
                    return Scan::Failed;
                }
            };
            let name = ent.file_name();
            if name.to_bytes().first() == Some(&b'.') {
                continue;
            }
            self.entry(&fd, name, ent.file_type(), generation);
        }
        self.remove_unseen(generation);
        Scan::Done
    }

    fn entry(&mut self, fd: &rustix::fd::OwnedFd, name: &CStr, ftype: FileType, gen: u64) {
        let st = match rustix::fs::statat(fd, name, AtFlags::empty()) {
            Ok(st) => st,
            Err(e) => {
                self.out
                    .warn(b"unable to stat ", name.to_bytes(), Some(e.raw_os_error()));
                return;
            }
        };
        if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
            return;
        }
        let key = (st.st_dev, st.st_ino);
        if let Some(e) = self.table.map.get_mut(&key) {
            if e.seen == gen {
                return;
            }
            e.seen = gen;
            if e.name.as_c_str() != name {
                e.name = name.to_owned();
            }
            if e.pid == 0 && !e.pending {
                e.pending = true;
                self.queue.push_back(key);
            }
            return;
        }
        if ftype == FileType::Symlink || ftype == FileType::Unknown {
            if let Some(w) = self.watch {
                // NAME/.. resolves to the target's parent: a target replaced there is seen.
                let mut p = self.dir.as_bytes().to_vec();
                p.push(b'/');
                p.extend_from_slice(name.to_bytes());
                p.extend_from_slice(b"/..");
                w.add(p.as_slice());
            }
        }
        self.table.map.insert(
            key,
            Entry {
                name: name.to_owned(),
                pid: 0,
                started: super::clock::Mono::default(),
                seen: gen,
                pending: true,
                retry_at: None,
            },
        );
        self.queue.push_back(key);
    }

    fn remove_unseen(&mut self, gen: u64) {
        let table = &mut *self.table;
        let leaving = &mut table.leaving;
        let by_pid = &mut table.by_pid;
        table.map.retain(|_, e| {
            if e.seen == gen {
                return true;
            }
            if e.pid > 0 {
                svbox::signals::send(e.pid, Signal::SIGTERM);
                by_pid.remove(&e.pid);
                leaving.push(e.pid);
            }
            false
        });
    }
}
