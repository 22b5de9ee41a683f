//! One log directory (§5.2, §5.7, §5.10, §5.11): its lock, `current`, pending output,
//! rotation into `@<tai64n>.s|.u`, retention, the processor hand-off and write errors kept
//! as back-pressure instead of lost lines.

use super::config::{self, Config};
use super::name::Name;
use super::processor::Job;
use super::report;
use super::udp;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{self, AtFlags, FlockOperation, Mode, OFlags, CWD};
use rustix::io::Errno;
use std::ffi::{CStr, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use svbox::filestat;
use svbox::mono::{Mono, SECOND};

/// Why work on a directory cannot go on now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stall {
    /// A file system error; retry after a pause.
    Io,
    /// The previous processor still runs; retry when it exits.
    Processor,
}

/// A processor run: the `@….u` it works on, and its pid once started.
pub struct Run {
    pub job: Job,
    pub pid: Option<i32>,
}

pub struct LogDir {
    pub name: OsString,
    dir: OwnedFd,
    _lock: OwnedFd,
    current: Option<OwnedFd>,
    /// Bytes in the `current` file.
    size: u64,
    pub cfg: Config,
    pub pending: Vec<u8>,
    /// Next `t` rotation.
    pub timer: Option<Mono>,
    pub run: Option<Run>,
    pub udp: Option<OwnedFd>,
    /// Inside a long line whose head this dir took: the rest goes here too.
    pub cont: bool,
    /// A rotation became due after a completed line.
    pub rotate_due: bool,
    /// An error was reported and not yet cleared by a success (say it once).
    complained: bool,
    verbose: bool,
}

fn open_dir_file(dir: &OwnedFd, name: &CStr, flags: OFlags, mode: u32) -> Result<OwnedFd, Errno> {
    fs::openat(
        dir,
        name,
        flags | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::from_raw_mode(mode),
    )
}

fn open_current(dir: &OwnedFd) -> Result<OwnedFd, (&'static str, Errno)> {
    let flags = OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE;
    let fd = open_dir_file(dir, c"current", flags, 0o600)
        .map_err(|e| ("unable to create new current", e))?;
    fs::fchmod(&fd, Mode::from_raw_mode(0o644))
        .map_err(|e| ("unable to set mode of current", e))?;
    Ok(fd)
}

/// Cuts a line torn by a `kill -9` off the end of an unfinished `current` (the kernel
/// stops a file write at a page boundary for a fatal signal). Such a line's input was
/// never taken out of stdin, so the next logger writes it whole. An unterminated tail of
/// `buflen` bytes or more is kept: it can be the head of a long line whose input is gone.
/// Returns the size left.
fn trim_torn_line(dir: &OwnedFd, size: u64, buflen: usize) -> Result<u64, Errno> {
    let fd = open_dir_file(dir, c"current", OFlags::RDWR, 0)?;
    let want = usize::try_from(size).unwrap_or(usize::MAX).min(buflen);
    let from = size - want as u64;
    let mut tail = vec![0u8; want];
    let mut got = 0;
    while got < want {
        match rustix::io::pread(&fd, &mut tail[got..], from + got as u64) {
            Ok(0) => return Ok(size),
            Ok(n) => got += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    let keep = match memchr::memrchr(b'\n', &tail) {
        Some(i) => from + i as u64 + 1,
        None if from == 0 => 0,
        None => return Ok(size),
    };
    if keep < size {
        fs::ftruncate(&fd, keep)?;
    }
    Ok(keep)
}

/// A fresh `@<tai64n>.X` name that does not exist in `dir`.
fn fresh_name(dir: &OwnedFd, suffix: u8) -> Name {
    loop {
        let name = Name::now(suffix);
        if matches!(filestat::lstat_at(dir.as_fd(), name.c()), Err(Errno::NOENT)) {
            return name;
        }
    }
}

impl LogDir {
    /// Opens `name` as §5.2 says, printing runit's warnings; `None` if it is disabled.
    /// `buflen` is the input buffer's size (see `trim_torn_line`).
    pub fn open(name: &OsStr, verbose: bool, buflen: usize, now: Mono) -> Option<LogDir> {
        let d = name.as_bytes();
        let dir = match fs::openat(CWD, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) => {
                report::warn_dir("unable to open log directory: ", d, e);
                return None;
            }
        };
        match filestat::fstat(dir.as_fd()) {
            Ok(st) if st.is_dir() => {}
            Ok(_) => {
                report::warn_dir("unable to change directory: ", d, Errno::NOTDIR);
                return None;
            }
            Err(e) => {
                report::warn_dir("unable to change directory: ", d, e);
                return None;
            }
        }
        let flags = OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE;
        let lock = match open_dir_file(&dir, c"lock", flags, 0o600)
            .and_then(|l| fs::flock(&l, FlockOperation::NonBlockingLockExclusive).map(|_| l))
        {
            Ok(l) => l,
            Err(e) => {
                report::warn_dir("unable to lock directory: ", d, e);
                return None;
            }
        };
        let cfg = match open_dir_file(&dir, c"config", OFlags::RDONLY, 0)
            .and_then(svbox::fsio::read_to_end)
        {
            Ok(text) => {
                if verbose {
                    report::info(&[b"read: ", d, b"/config"]);
                }
                let (cfg, warnings) = config::parse(&text);
                for w in warnings {
                    report::warn(&[w.what.as_bytes(), &w.rest], None);
                }
                cfg
            }
            Err(Errno::NOENT) => Config::default(),
            Err(e) => {
                report::warn_dir("unable to read config: ", d, e);
                Config::default()
            }
        };
        let mut ld = LogDir {
            name: name.to_os_string(),
            dir,
            _lock: lock,
            current: None,
            size: 0,
            timer: (cfg.timeout > 0).then(|| now.plus(cfg.timeout.saturating_mul(SECOND))),
            udp: cfg.udp.and_then(|_| udp::socket()),
            cfg,
            pending: Vec::new(),
            run: None,
            cont: false,
            rotate_due: false,
            complained: false,
            verbose,
        };
        match filestat::stat_at(ld.dir.as_fd(), c"current") {
            Ok(st) if st.size > 0 && !st.owner_executable() => {
                let size = trim_torn_line(&ld.dir, st.size, buflen).unwrap_or_else(|e| {
                    report::warn_dir("unable to trim current: ", d, e);
                    st.size
                });
                // Only a torn line: the emptied file stays `current`.
                if size > 0 {
                    let to = fresh_name(&ld.dir, b'u');
                    if let Err(e) = fs::renameat(&ld.dir, c"current", &ld.dir, to.c()) {
                        report::warn_dir("unable to rename current: ", d, e);
                        return None;
                    }
                    ld.remove_oldest();
                }
                if verbose {
                    report::info(&[b"new: ", d, b"/current"]);
                }
            }
            Ok(st) => {
                ld.size = st.size;
                if verbose {
                    report::info(&[b"append: ", d, b"/current"]);
                }
            }
            Err(Errno::NOENT) => {
                if verbose {
                    report::info(&[b"new: ", d, b"/current"]);
                }
            }
            Err(e) => {
                report::warn_dir("unable to stat current: ", d, e);
                return None;
            }
        }
        match open_current(&ld.dir) {
            Ok(fd) => ld.current = Some(fd),
            Err((_, e)) => {
                report::warn_dir("unable to open current: ", d, e);
                return None;
            }
        }
        Some(ld)
    }

    fn dname(&self) -> &[u8] {
        self.name.as_bytes()
    }

    /// Bytes `current` would have after writing what is pending.
    pub fn fill(&self) -> u64 {
        self.size + self.pending.len() as u64
    }

    fn trouble(&mut self, what: &str, e: Errno) -> Stall {
        if !self.complained {
            self.complained = true;
            report::pausing(what, self.name.as_bytes(), e.raw_os_error());
        }
        Stall::Io
    }

    fn ok(&mut self) {
        self.complained = false;
    }

    /// Writes everything pending (one `write` in the normal case). On ENOSPC, deletes the
    /// oldest file when `N < n` allows it; other errors keep the data for a later retry.
    pub fn flush(&mut self) -> Result<(), Stall> {
        if self.current.is_none() {
            match open_current(&self.dir) {
                Ok(fd) => self.current = Some(fd),
                Err((what, e)) => return Err(self.trouble(what, e)),
            }
        }
        let mut done = 0;
        let result = loop {
            if done == self.pending.len() {
                break Ok(());
            }
            let Some(fd) = self.current.as_ref() else {
                break Ok(());
            };
            match rustix::io::write(fd, &self.pending[done..]) {
                Ok(n) => {
                    done += n;
                    self.size += n as u64;
                }
                Err(Errno::INTR) => {}
                Err(Errno::NOSPC) if self.cfg.nmin < self.cfg.nmax && self.free_space() => {}
                Err(e) => break Err(self.trouble("unable to write to current", e)),
            }
        };
        self.pending.drain(..done);
        if result.is_ok() {
            self.ok();
        }
        result
    }

    /// Disk full: deletes the oldest `@` file if more than `N` exist.
    fn free_space(&mut self) -> bool {
        let (count, oldest) = self.scan(false);
        match oldest {
            Some(old) if count > self.cfg.nmin => {
                let d = self.dname().to_vec();
                report::warn(
                    &[b"out of disk space, delete: ", &d, b"/", old.bytes()],
                    None,
                );
                fs::unlinkat(&self.dir, old.c(), AtFlags::empty()).is_ok()
            }
            _ => false,
        }
    }

    /// Counts the 27-byte `@` names and finds the smallest, never the `.u` a processor
    /// works on (runit 2.3.0); with `clean`, unlinks processor leftovers (`.t`).
    fn scan(&self, clean: bool) -> (u64, Option<Name>) {
        let busy = self.run.as_ref().map(|r| r.job.input);
        let mut count = 0;
        let mut oldest: Option<Name> = None;
        // An own descriptor for "." reads from the start; RawDir allocates nothing.
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let Ok(fd) = fs::openat(&self.dir, c".", flags, Mode::empty()) else {
            return (0, None);
        };
        let _ = svbox::dirlist::each(fd.as_fd(), &mut |name, _| {
            let Some(n) = Name::parse(name.to_bytes()) else {
                return true;
            };
            if busy == Some(n) {
                return true;
            }
            if clean && n.suffix() == b't' {
                if let Err(e) = fs::unlinkat(&self.dir, n.c(), AtFlags::empty()) {
                    let d = self.dname();
                    report::warn(
                        &[b"unable to unlink processor leftover: ", d, b"/", n.bytes()],
                        Some(e.raw_os_error()),
                    );
                }
                return true;
            }
            count += 1;
            if oldest.map_or(true, |o| n < o) {
                oldest = Some(n);
            }
            true
        });
        (count, oldest)
    }

    /// "Remove oldest": at most one file beyond `n`.
    fn remove_oldest(&mut self) {
        let (count, oldest) = self.scan(true);
        if let Some(old) = oldest {
            if self.cfg.nmax != 0 && count > self.cfg.nmax {
                if self.verbose {
                    report::info(&[b"delete: ", self.dname(), b"/", old.bytes()]);
                }
                if let Err(e) = fs::unlinkat(&self.dir, old.c(), AtFlags::empty()) {
                    report::warn(
                        &[b"unable to unlink: ", self.dname(), b"/", old.bytes()],
                        Some(e.raw_os_error()),
                    );
                }
            }
        }
    }

    /// Rotates `current` if it is not empty (§5.7).
    pub fn rotate(&mut self) -> Result<(), Stall> {
        match self.run.as_ref() {
            Some(r) if r.pid.is_some() => return Err(Stall::Processor),
            // Its fork failed: retried after the pause, before this rotation.
            Some(_) => return Err(Stall::Io),
            None => {}
        }
        self.flush()?;
        self.rotate_due = false;
        if self.size == 0 {
            return Ok(());
        }
        let Some(fd) = self.current.as_ref() else {
            return Ok(());
        };
        if let Err(e) = fs::fsync(fd) {
            return Err(self.trouble("unable to fsync current logfile", e));
        }
        if let Err(e) = fs::fchmod(fd, Mode::from_raw_mode(0o744)) {
            return Err(self.trouble("unable to set mode of current", e));
        }
        let suffix = if self.cfg.processor.is_some() {
            b'u'
        } else {
            b's'
        };
        let to = fresh_name(&self.dir, suffix);
        if let Err(e) = fs::renameat(&self.dir, c"current", &self.dir, to.c()) {
            return Err(self.trouble("unable to rename current", e));
        }
        if self.verbose {
            let mut digits = [0u8; 20];
            let size = svbox::msg::fmt_u64(self.size, &mut digits).to_vec();
            report::info(&[
                b"rename: ",
                self.dname(),
                b"/current ",
                to.bytes(),
                b" ",
                &size,
            ]);
        }
        self.current = None;
        self.size = 0;
        if let Some(cmd) = self.cfg.processor.as_deref() {
            self.run = Job::new(to, cmd, self.name.as_bytes()).map(|job| Run { job, pid: None });
        }
        self.remove_oldest();
        self.start_processor();
        match open_current(&self.dir) {
            Ok(fd) => self.current = Some(fd),
            Err((what, e)) => return Err(self.trouble(what, e)),
        }
        self.ok();
        Ok(())
    }

    /// Starts the processor of a rotation that has none running yet.
    pub fn start_processor(&mut self) -> bool {
        let Some(run) = self.run.as_mut() else {
            return true;
        };
        if run.pid.is_some() {
            return true;
        }
        if self.verbose {
            report::info(&[
                b"processing: ",
                self.name.as_bytes(),
                b"/",
                run.job.input.bytes(),
            ]);
        }
        match run.job.start(self.dir.as_fd()) {
            Ok(pid) => {
                run.pid = Some(pid);
                true
            }
            Err(e) => {
                let e = Errno::from_raw_os_error(e);
                self.trouble("unable to fork for processor", e);
                false
            }
        }
    }

    /// The processor `pid` exited with `wstat`; true if it was this dir's.
    pub fn processor_exited(&mut self, pid: i32, wstat: i32) -> bool {
        let Some(run) = self.run.as_mut() else {
            return false;
        };
        if run.pid != Some(pid) {
            return false;
        }
        run.pid = None;
        let d = self.name.as_bytes();
        let out = run.job.output;
        if (wstat >> 8) & 0xff != 0 {
            report::warn(&[b"processor failed, restart: ", d], None);
            let _ = fs::unlinkat(&self.dir, out.c(), AtFlags::empty());
            self.start_processor();
            return true;
        }
        let done = out.with_suffix(b's');
        if let Err(e) = fs::renameat(&self.dir, out.c(), &self.dir, done.c()) {
            report::warn_dir("unable to rename processed: ", d, e);
        }
        let _ = fs::chmodat(
            &self.dir,
            done.c(),
            Mode::from_raw_mode(0o744),
            AtFlags::empty(),
        );
        let input = run.job.input;
        if let Err(e) = fs::unlinkat(&self.dir, input.c(), AtFlags::empty()) {
            report::warn(
                &[b"unable to unlink: ", d, b"/", input.bytes()],
                Some(e.raw_os_error()),
            );
        }
        if let Err(e) = fs::renameat(&self.dir, c"newstate", &self.dir, c"state") {
            report::warn_dir("unable to rename state: ", d, e);
        }
        if self.verbose {
            report::info(&[b"processed: ", d, b"/", done.bytes()]);
        }
        self.run = None;
        true
    }

    /// Flushes, syncs and marks `current` complete (0744); the lock goes with `self`.
    pub fn close(&mut self) -> Result<(), Stall> {
        self.flush()?;
        if let Some(fd) = self.current.as_ref() {
            let _ = fs::fsync(fd);
            let _ = fs::fchmod(fd, Mode::from_raw_mode(0o744));
        }
        if self.verbose {
            report::info(&[b"close: ", self.name.as_bytes()]);
        }
        Ok(())
    }
}
