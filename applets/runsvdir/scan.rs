//! One scan of the scan directory (runit §3.2): dot-names skipped, entries followed through
//! symlinks, identity by (device, inode) of the target, services that disappeared get their
//! runsv TERMed and are forgotten. New and runsv-less services are marked for a start.

use super::out::Out;
use super::table::{Entry, Table};
use super::watch::Watch;
use nix::sys::signal::Signal;
use rustix::fd::AsFd;
use rustix::fs::{FileType, Mode, OFlags};
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
    pub watch: Option<&'a Watch>,
}

pub fn stamp(dir: &OsStr) -> Result<DirStamp, i32> {
    let Ok(path) = std::ffi::CString::new(dir.as_bytes()) else {
        return Err(rustix::io::Errno::INVAL.raw_os_error());
    };
    match svbox::filestat::stat(&path) {
        Ok(st) => Ok(DirStamp {
            dev: st.dev,
            ino: st.ino,
            mtime: st.mtime,
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
        self.table.generation += 1;
        let generation = self.table.generation;
        let listed = svbox::dirlist::each(fd.as_fd(), &mut |name, ftype| {
            if name.to_bytes().first() != Some(&b'.') {
                self.entry(&fd, name, ftype, generation);
            }
            true
        });
        if let Err(e) = listed {
            self.out
                .warn(b"unable to read directory ", d, Some(e.raw_os_error()));
            return Scan::Failed;
        }
        self.remove_unseen(generation);
        Scan::Done
    }

    fn entry(&mut self, fd: &rustix::fd::OwnedFd, name: &CStr, ftype: FileType, gen: u64) {
        let st = match svbox::filestat::stat_at(fd.as_fd(), name) {
            Ok(st) => st,
            Err(e) => {
                self.out
                    .warn(b"unable to stat ", name.to_bytes(), Some(e.raw_os_error()));
                return;
            }
        };
        if !st.is_dir() {
            return;
        }
        let key = (st.dev, st.ino);
        if let Some(e) = self.table.get(key) {
            if e.seen == gen {
                return;
            }
            e.seen = gen;
            if e.name.as_c_str() != name {
                e.name = name.to_owned();
            }
            if e.pid == 0 {
                e.pending = true;
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
        self.table.entries.push(Entry {
            key,
            name: name.to_owned(),
            pid: 0,
            started: super::clock::Mono::default(),
            seen: gen,
            pending: true,
            retry_at: None,
        });
    }

    fn remove_unseen(&mut self, gen: u64) {
        let table = &mut *self.table;
        let leaving = &mut table.leaving;
        table.entries.retain(|e| {
            if e.seen == gen {
                return true;
            }
            if e.pid > 0 {
                svbox::signals::send(e.pid, Signal::SIGTERM);
                leaving.push(e.pid);
            }
            false
        });
    }
}
