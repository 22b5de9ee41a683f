//! The main loop: one `poll` over the signalfd, the inotify descriptor and the LOG pipe,
//! with a deadline only while something is due (a held-back start, the stat fallback when
//! inotify cannot be used, the logger's restart, LOG ageing, a shutdown phase). Idle, it
//! makes no system call at all.

use super::args::Options;
use super::clock::{Mono, SECOND};
use super::launch::Launcher;
use super::out::Out;
use super::scan::{self, DirStamp, Scan, Scanner};
use super::stop::Stop;
use super::svscan::Svscan;
use super::table::Table;
use super::title::Title;
use super::watch::Watch;
use nix::sys::signal::Signal;
use rustix::event::{PollFd, PollFlags};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use svbox::poll::poll;
use svbox::signals::{reap_any, SignalQueue};

/// runsvs started per loop iteration, so signals and events are served during a big start.
const BATCH: usize = 64;
/// runit's poll interval, used only where inotify says nothing.
const FALLBACK: u64 = 5 * SECOND;
/// A runsv that lived less than this is held back before the next attempt.
const QUICK: u64 = SECOND;

pub struct Daemon {
    pub dir: OsString,
    pub out: Out,
    pub signals: SignalQueue,
    pub watch: Option<Watch>,
    pub table: Table,
    pub launcher: Launcher,
    pub rescan: bool,
    /// Next stat-based look at the directory (no inotify, or the directory is unusable).
    pub fallback_at: Option<Mono>,
    pub stamp: Option<DirStamp>,
    pub svscan: Option<Svscan>,
    pub new_session: bool,
    pub init: bool,
    pub pid1: bool,
    pub stop: Option<Stop>,
}

impl Daemon {
    pub fn setup(args: &[OsString], opts: Options) -> Result<Daemon, i32> {
        let dir = args[opts.dir].clone();
        let mut out = Out::new(dir.as_bytes());
        let pid1 = rustix::process::getpid().as_raw_nonzero().get() == 1;
        let init = opts.init || pid1;
        if let Some(k) = opts.log {
            if args[k].len() < 7 {
                out.warn(b"log must have at least seven characters.", b"", None);
                out.warn(b"log service disabled.", b"", None);
            } else if let Some(t) = Title::locate(args, k) {
                out.title = Some(t);
            }
        }
        // SIGALRM: Debian's forced rescan (its autopkgtest sends it); here a plain rescan.
        let sigs = [
            Signal::SIGCHLD,
            Signal::SIGTERM,
            Signal::SIGHUP,
            Signal::SIGALRM,
            Signal::SIGINT,
        ];
        if init && !pid1 {
            // Orphans of services come to this process instead of to the real init.
            let _ = nix::sys::prctl::set_child_subreaper(true);
        }
        let signals = match SignalQueue::new(&sigs[..4 + usize::from(init)]) {
            Ok(s) => s,
            Err(e) => {
                let mut line = svbox::msg::Line::new();
                line.b(out.prefix())
                    .s("fatal: unable to set up signals")
                    .err(e as i32);
                line.to_stderr();
                return Err(100);
            }
        };
        let svscan = Svscan::setup(&dir, &mut out);
        if svscan.is_none() {
            if let Some(t) = out.title.as_mut() {
                if t.capture_stderr().is_err() {
                    out.title = None;
                }
            }
        }
        if let Some(t) = out.title.as_mut() {
            t.feed(b".");
        }
        let launcher = Launcher::new(&dir, opts.new_session, out.prefix());
        Ok(Daemon {
            dir,
            out,
            signals,
            watch: Watch::new(),
            table: Table::default(),
            launcher,
            rescan: true,
            fallback_at: None,
            stamp: None,
            svscan,
            new_session: opts.new_session,
            init,
            pid1,
            stop: None,
        })
    }

    pub fn run(&mut self) -> i32 {
        loop {
            let now = Mono::now();
            if let Some(s) = self.svscan.as_mut() {
                s.tick(now, &self.launcher, &mut self.out);
            }
            if self.stop.is_none() {
                self.look(now);
                self.start_batch(now);
            } else if let Some(code) = self.stopping(now) {
                return code;
            }
            self.wait(now);
            let got = self.signals.drain();
            self.reap();
            if let Some(w) = self.watch.as_ref() {
                if w.drain() {
                    self.rescan = true;
                }
            }
            if let Some(t) = self.out.title.as_mut() {
                t.drain();
            }
            if self.stop.is_some() {
                continue;
            }
            if got.has(Signal::SIGALRM) {
                self.rescan = true;
            }
            if self.init && (got.has(Signal::SIGTERM) || got.has(Signal::SIGINT)) {
                self.begin_stop(0);
            } else if self.init && got.has(Signal::SIGHUP) {
                self.begin_stop(111);
            } else if got.has(Signal::SIGHUP) {
                for pid in self.table.all_pids() {
                    svbox::signals::send(pid, Signal::SIGTERM);
                }
                return 111;
            } else if got.has(Signal::SIGTERM) {
                return 0;
            }
        }
    }

    /// Scans when an event or a failed attempt asks for it, or when the stat fallback finds
    /// the directory changed.
    fn look(&mut self, now: Mono) {
        let fallback_due = self.fallback_at.is_some_and(|t| now >= t);
        if !self.rescan && !fallback_due {
            return;
        }
        self.fallback_at = None;
        let stamp = match scan::stamp(&self.dir) {
            Ok(s) => s,
            Err(e) => {
                self.out
                    .warn(b"unable to stat ", self.dir.as_bytes(), Some(e));
                self.fallback_at = Some(now.plus(FALLBACK));
                return;
            }
        };
        let watched = match self.watch.as_ref() {
            Some(w) => w.add(self.dir.as_bytes()),
            None => false,
        };
        if !watched {
            self.fallback_at = Some(now.plus(FALLBACK));
            if !self.rescan && self.stamp == Some(stamp) {
                return;
            }
        }
        self.rescan = false;
        let mut scanner = Scanner {
            dir: &self.dir,
            out: &mut self.out,
            table: &mut self.table,
            watch: self.watch.as_ref(),
        };
        match scanner.scan() {
            Scan::Done => self.stamp = Some(stamp),
            Scan::Failed => {
                self.stamp = None;
                self.fallback_at = Some(now.plus(if watched { SECOND } else { FALLBACK }));
            }
        }
    }

    /// Starts up to BATCH pending runsvs whose hold-back (if any) is over, in the order the
    /// services were found.
    fn start_batch(&mut self, now: Mono) {
        let mut started = 0;
        for e in self.table.entries.iter_mut() {
            if started == BATCH {
                break;
            }
            if !e.pending || e.retry_at.is_some_and(|t| now < t) {
                continue;
            }
            started += 1;
            match self.launcher.runsv(&e.name) {
                Ok(pid) => {
                    e.pid = pid;
                    e.started = now;
                    e.pending = false;
                    e.retry_at = None;
                }
                Err(errno) => {
                    self.out
                        .warn(b"unable to fork for ", e.name.to_bytes(), Some(errno));
                    e.retry_at = Some(now.plus(SECOND));
                }
            }
        }
    }

    fn wait(&mut self, now: Mono) {
        let mut deadline: Option<Mono> = None;
        let mut at = |t: Mono| deadline = Some(deadline.map_or(t, |d: Mono| d.min(t)));
        if self.stop.is_none() {
            if self.rescan {
                at(now);
            }
            if let Some(t) = self.fallback_at {
                at(t);
            }
            for e in self.table.entries.iter().filter(|e| e.pending) {
                at(e.retry_at.unwrap_or(now));
            }
        }
        if let Some(t) = self.svscan.as_ref().and_then(|s| s.restart_at) {
            at(t);
        }
        if let Some(t) = self.out.title.as_mut() {
            at(t.age(now));
        }
        if let Some(t) = self.stop.as_ref().and_then(|s| s.deadline()) {
            at(t);
        }
        let timeout = deadline.map(|d| d.timeout_from(Mono::now()));
        let sig = self.signals.fd();
        let mut fds = [
            PollFd::from_borrowed_fd(sig, PollFlags::IN),
            PollFd::from_borrowed_fd(self.watch.as_ref().map_or(sig, |w| w.fd()), PollFlags::IN),
            PollFd::from_borrowed_fd(sig, PollFlags::IN),
        ];
        let mut n = 2;
        if let Some(r) = self.out.title.as_ref().and_then(|t| t.read.as_ref()) {
            fds[2] = PollFd::new(r, PollFlags::IN);
            n = 3;
        }
        let _ = poll(&mut fds[..n], timeout.as_ref());
    }

    /// Reaps every exited child: runsvs are restarted (held back after a quick death), the
    /// logger is restarted, anything else (orphans as process 1) is just collected.
    fn reap(&mut self) {
        let now = Mono::now();
        let mut released = false;
        while let Some((pid, _)) = reap_any() {
            if let Some(s) = self.svscan.as_mut().filter(|s| s.pid == pid) {
                s.exited(now);
                continue;
            }
            if let Some(i) = self.table.leaving.iter().position(|&p| p == pid) {
                self.table.leaving.swap_remove(i);
                released = true;
                continue;
            }
            let Some(e) = self.table.running(pid) else {
                continue;
            };
            e.pid = 0;
            if self.stop.is_some() {
                continue;
            }
            e.pending = true;
            if now.since(e.started) < QUICK {
                e.retry_at = Some(e.started.plus(QUICK));
            } else {
                released = true;
            }
        }
        // A runsv that had been running (or was told to leave) may have held the lock a
        // held-back one is waiting for: try those now rather than at their deadline.
        if released {
            for e in self.table.entries.iter_mut() {
                e.retry_at = None;
            }
        }
    }
}
