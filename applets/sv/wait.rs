//! The wait phase (§4.6), event-driven: each waiting service's `supervise/` is watched with
//! inotify (runsv renames a new `status` into place) and runsv's `supervise/ok` is kept open
//! for writing (POLLERR when runsv, its only reader, exits). One `poll` waits for those,
//! the per-service re-check time and the timeout. The 420 ms re-check of runit remains as a
//! safety net for filesystems without inotify; a failing `check` script alone is re-run on
//! a short back-off instead.

use super::predicate::{evaluate, Verdict};
use super::service::Sv;
use rustix::event::{PollFd, PollFlags};
use rustix::fd::OwnedFd;
use rustix::fs::inotify;
use rustix::io::Errno;
use std::mem::MaybeUninit;
use svbox::mono::{Mono, SECOND};
use svbox::poll::poll;

const MILLISECOND: u64 = SECOND / 1000;
/// runit's polling interval, kept as the fallback re-check (nanoseconds).
const RECHECK: u64 = 420 * MILLISECOND;
/// First re-run delay of a failing `check` script; doubles up to `RECHECK`.
const CHECK_BACKOFF: u64 = 5 * MILLISECOND;

/// One service named on the command line.
pub struct Target<'a> {
    pub name: &'a [u8],
    pub alive: bool,
    wd: Option<i32>,
    ok: Option<OwnedFd>,
    dirty: bool,
    /// When the next timed re-check is due; zero (due at once) until the first round.
    due: Mono,
    backoff: u64,
}

impl<'a> Target<'a> {
    #[inline(never)]
    pub fn new(name: &'a [u8]) -> Target<'a> {
        Target {
            name,
            alive: true,
            wd: None,
            ok: None,
            dirty: false,
            due: Mono::default(),
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
        let limit = svbox::syscall::get_limit(nix::libc::RLIMIT_NOFILE as nix::libc::c_int)
            .map_or(4096, |(soft, _)| soft);
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
    pub fn watch(&self, target: &mut Target<'_>) {
        if let Some(fd) = &self.fd {
            let flags = inotify::WatchFlags::MOVED_TO
                | inotify::WatchFlags::CLOSE_WRITE
                | inotify::WatchFlags::DELETE_SELF
                | inotify::WatchFlags::MOVE_SELF;
            target.wd = inotify::add_watch(fd, "supervise", flags).ok();
        }
    }

    /// Keeps (or replaces) the `supervise/ok` write end of `target` if the budget allows.
    pub fn keep(&mut self, target: &mut Target<'_>, ok: OwnedFd) {
        if target.ok.is_some() {
            target.ok = Some(ok);
        } else if self.kept < self.budget {
            self.kept += 1;
            target.ok = Some(ok);
        }
    }

    fn release(&mut self, target: &mut Target<'_>) {
        if target.ok.take().is_some() {
            self.kept -= 1;
        }
    }

    /// Marks the targets whose status changed; reads until the queue is empty.
    #[inline(never)]
    fn drain(&self, targets: &mut [Target<'_>]) {
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
    /// The wait time in nanoseconds.
    pub limit: u64,
    pub start: Mono,
}

/// Waits until every alive target satisfies the predicates or times out; `Err(code)` on a
/// fatal error.
#[inline(never)]
pub fn run(
    sv: &mut Sv,
    targets: &mut [Target<'_>],
    w: &mut Watcher,
    p: &Wait<'_>,
) -> Result<(), i32> {
    // As in runit, the first round (right after sending) counts as elapsed 0: it never
    // times out, even with a wait of 0.
    let mut first = true;
    loop {
        let now = Mono::now();
        let over = !first && now.since(p.start) > p.limit;
        first = false;
        sv.tnow = svbox::tai::Tai64n::now();
        for t in targets.iter_mut() {
            if !t.alive || !(t.dirty || over || now >= t.due) {
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
#[inline(never)]
fn round(
    sv: &mut Sv,
    t: &mut Target<'_>,
    w: &mut Watcher,
    p: &Wait<'_>,
    over: bool,
) -> Result<(), i32> {
    t.dirty = false;
    if !sv.enter(t.name) {
        t.alive = false;
        w.release(t);
        return sv.leave();
    }
    if t.wd.is_none() {
        // supervise/ was replaced (or missing before): watch the current one.
        w.watch(t);
    }
    let name = t.name;
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
            t.due = Mono::now().plus(delay);
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
#[inline(never)]
fn sleep(targets: &mut [Target<'_>], w: &mut Watcher, p: &Wait<'_>) {
    let now = Mono::now();
    // Wake just after the limit (a timeout needs elapsed > wait), or at the first re-check
    // due, and at the latest after `RECHECK`.
    let mut wake = p
        .start
        .plus(p.limit)
        .plus(MILLISECOND)
        .min(now.plus(RECHECK));
    for t in targets.iter().filter(|t| t.alive) {
        wake = wake.min(t.due);
    }
    let timeout = wake.timeout_from(now);
    // Which target each descriptor belongs to; `targets.len()` stands for inotify.
    let mut owners = Vec::with_capacity(targets.len() + 1);
    let mut fds = Vec::with_capacity(targets.len() + 1);
    if let Some(fd) = &w.fd {
        fds.push(PollFd::new(fd, PollFlags::IN));
        owners.push(targets.len());
    }
    for (i, t) in targets.iter().enumerate() {
        if let (true, Some(ok)) = (t.alive, &t.ok) {
            // Nothing requested: only POLLERR (reader gone) and POLLHUP are reported.
            fds.push(PollFd::new(ok, PollFlags::empty()));
            owners.push(i);
        }
    }
    if !matches!(poll(&mut fds, Some(&timeout)), Ok(n) if n > 0) {
        return;
    }
    for (owner, fd) in owners.iter_mut().zip(&fds) {
        if fd.revents().is_empty() {
            *owner = usize::MAX;
        }
    }
    drop(fds);
    for owner in owners {
        if owner == targets.len() {
            w.drain(targets);
        } else if let Some(t) = targets.get_mut(owner) {
            // The level-triggered POLLERR would repeat: drop the descriptor, re-check.
            t.dirty = true;
            w.release(t);
        }
    }
}
