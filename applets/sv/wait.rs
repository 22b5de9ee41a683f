//! The wait phase (§4.6), event-driven: each waiting service's `supervise/` is watched with
//! inotify (runsv renames a new `status` into place) and runsv's `supervise/ok` is kept open
//! for writing (POLLERR when runsv, its only reader, exits). One `poll` waits for those,
//! the per-service re-check time and the timeout. The 420 ms re-check of runit remains as a
//! safety net for filesystems without inotify; a failing `check` script alone is re-run on
//! a short back-off instead.

use super::predicate::{evaluate, Verdict};
use super::service::Sv;
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fd::OwnedFd;
use rustix::fs::inotify;
use rustix::io::Errno;
use std::ffi::OsString;
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

/// runit's polling interval, kept as the fallback re-check.
const RECHECK: Duration = Duration::from_millis(420);
/// First re-run delay of a failing `check` script; doubles up to `RECHECK`.
const CHECK_BACKOFF: Duration = Duration::from_millis(5);

/// One service named on the command line.
pub struct Target {
    pub name: OsString,
    pub alive: bool,
    wd: Option<i32>,
    ok: Option<OwnedFd>,
    dirty: bool,
    due: Option<Instant>,
    backoff: Duration,
}

impl Target {
    pub fn new(name: OsString) -> Target {
        Target {
            name,
            alive: true,
            wd: None,
            ok: None,
            dirty: false,
            due: None,
            backoff: CHECK_BACKOFF,
        }
    }
}

/// The inotify instance and the budget of kept `supervise/ok` descriptors.
pub struct Watcher {
    fd: Option<OwnedFd>,
    budget: usize,
    kept: usize,
}

impl Watcher {
    /// Without inotify (or when not waiting) everything falls back to timed re-checks.
    pub fn new(enabled: bool) -> Watcher {
        let fd = if enabled {
            inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC).ok()
        } else {
            None
        };
        // Keep well inside the descriptor limit: runit needs none of these, so running
        // out must never turn into an error.
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(4096);
        let budget = usize::try_from(limit.saturating_sub(64) / 2)
            .unwrap_or(usize::MAX)
            .min(4096);
        Watcher {
            fd,
            budget,
            kept: 0,
        }
    }

    /// Watches `supervise/` of the service in the current directory.
    pub fn watch(&self, target: &mut Target) {
        if let Some(fd) = &self.fd {
            let flags = inotify::WatchFlags::MOVED_TO
                | inotify::WatchFlags::CLOSE_WRITE
                | inotify::WatchFlags::DELETE_SELF
                | inotify::WatchFlags::MOVE_SELF;
            target.wd = inotify::add_watch(fd, "supervise", flags).ok();
        }
    }

    /// Keeps (or replaces) the `supervise/ok` write end of `target` if the budget allows.
    pub fn keep(&mut self, target: &mut Target, ok: OwnedFd) {
        if target.ok.is_some() {
            target.ok = Some(ok);
        } else if self.kept < self.budget {
            self.kept += 1;
            target.ok = Some(ok);
        }
    }

    fn release(&mut self, target: &mut Target) {
        if target.ok.take().is_some() {
            self.kept -= 1;
        }
    }

    /// Marks the targets whose status changed; reads until the queue is empty.
    fn drain(&self, targets: &mut [Target]) {
        let Some(fd) = &self.fd else { return };
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        let mut reader = inotify::Reader::new(fd, &mut buf);
        loop {
            let event = match reader.next() {
                Ok(e) => e,
                Err(Errno::INTR) => continue,
                Err(_) => return,
            };
            let flags = event.events();
            let wd = event.wd();
            if flags.contains(inotify::ReadFlags::QUEUE_OVERFLOW) {
                targets.iter_mut().for_each(|t| t.dirty = true);
                continue;
            }
            let gone = flags.intersects(
                inotify::ReadFlags::IGNORED
                    | inotify::ReadFlags::DELETE_SELF
                    | inotify::ReadFlags::MOVE_SELF,
            );
            let status = event.file_name().is_some_and(|n| n.to_bytes() == b"status");
            if !(gone || status) {
                continue;
            }
            for t in targets.iter_mut().filter(|t| t.wd == Some(wd)) {
                t.dirty = true;
                if flags.contains(inotify::ReadFlags::IGNORED) {
                    t.wd = None;
                }
            }
        }
    }
}

/// Parameters of the wait.
pub struct Wait<'a> {
    pub bytes: &'a [u8],
    pub kill: bool,
    pub limit: Duration,
    pub start: Instant,
}

/// Waits until every alive target satisfies the predicates or times out; `Err(code)` on a
/// fatal error.
pub fn run(sv: &mut Sv, targets: &mut [Target], w: &mut Watcher, p: &Wait<'_>) -> Result<(), i32> {
    // As in runit, the first round (right after sending) counts as elapsed 0: it never
    // times out, even with a wait of 0.
    let mut first = true;
    loop {
        let now = Instant::now();
        let over = !first && now.duration_since(p.start) > p.limit;
        first = false;
        sv.tnow = svbox::tai::Tai64n::now();
        for t in targets.iter_mut() {
            if !t.alive || !(t.dirty || over || t.due.map_or(true, |d| now >= d)) {
                continue;
            }
            round(sv, t, w, p, over)?;
        }
        if targets.iter().all(|t| !t.alive) {
            return Ok(());
        }
        sleep(targets, w, p);
    }
}

/// One evaluation of one target, with the timeout rule.
fn round(
    sv: &mut Sv,
    t: &mut Target,
    w: &mut Watcher,
    p: &Wait<'_>,
    over: bool,
) -> Result<(), i32> {
    t.dirty = false;
    if !sv.enter(&t.name) {
        t.alive = false;
        w.release(t);
        return sv.leave();
    }
    if t.wd.is_none() {
        // supervise/ was replaced (or missing before): watch the current one.
        w.watch(t);
    }
    let owned = t.name.clone();
    let name = owned.as_bytes();
    match evaluate(sv, name, p.bytes) {
        Verdict::Done | Verdict::Error => t.alive = false,
        Verdict::Pending { check_only, ok } => {
            w.keep(t, ok);
            let delay = if check_only {
                let d = t.backoff;
                t.backoff = (t.backoff * 2).min(RECHECK);
                d
            } else {
                t.backoff = CHECK_BACKOFF;
                RECHECK
            };
            t.due = Some(Instant::now() + delay);
        }
    }
    if t.alive && over {
        sv.out.puts(if p.kill { b"kill: " } else { b"timeout: " });
        if let super::service::Got::Status(st, _) = sv.status_get(name, false) {
            sv.status_print(name, name, &st);
            sv.out.problems += 1;
        }
        sv.out.puts(b"\n");
        sv.out.flush();
        if p.kill {
            sv.control(name, b"k");
        }
        t.alive = false;
    }
    if !t.alive {
        w.release(t);
    }
    sv.leave()
}

/// Blocks until a watched status changes, a runsv exits, a re-check is due or the wait
/// time is over.
fn sleep(targets: &mut [Target], w: &mut Watcher, p: &Wait<'_>) {
    let now = Instant::now();
    // Wake just after the limit: a timeout needs elapsed > wait.
    let mut wake = p
        .limit
        .checked_add(Duration::from_millis(1))
        .and_then(|l| p.start.checked_add(l));
    for t in targets.iter().filter(|t| t.alive) {
        if let Some(d) = t.due {
            wake = Some(wake.map_or(d, |x| x.min(d)));
        }
    }
    let timeout = wake.map(|x| {
        let left = x.saturating_duration_since(now).min(RECHECK);
        Timespec {
            tv_sec: left.as_secs() as _,
            tv_nsec: left.subsec_nanos() as _,
        }
    });
    let mut owners = Vec::with_capacity(targets.len());
    let mut fds = Vec::with_capacity(targets.len() + 1);
    if let Some(fd) = &w.fd {
        fds.push(PollFd::new(fd, PollFlags::IN));
        owners.push(usize::MAX);
    }
    for (i, t) in targets.iter().enumerate() {
        if let (true, Some(ok)) = (t.alive, &t.ok) {
            // Nothing requested: only POLLERR (reader gone) and POLLHUP are reported.
            fds.push(PollFd::new(ok, PollFlags::empty()));
            owners.push(i);
        }
    }
    match poll(&mut fds, timeout.as_ref()) {
        Ok(n) if n > 0 => {}
        _ => return,
    }
    let ready: Vec<(usize, PollFlags)> = fds
        .iter()
        .zip(&owners)
        .map(|(f, &o)| (o, f.revents()))
        .collect();
    drop(fds);
    for (owner, revents) in ready {
        if revents.is_empty() {
            continue;
        }
        if owner == usize::MAX {
            w.drain(targets);
        } else {
            // The level-triggered POLLERR would repeat: drop the descriptor, re-check.
            let t = &mut targets[owner];
            t.dirty = true;
            w.release(t);
        }
    }
}
