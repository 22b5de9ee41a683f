//! The svlogd main loop: stdin, the signalfd and deadlines in one `poll`. Input is read in
//! big batches with one clock reading each, split with `memchr`, and each directory's share
//! of a batch goes out in one `write`. A directory that cannot take data stops the reading
//! (back-pressure) until a retry or the processor's exit lets it go on. Input leaves
//! stdin only once its lines are written (`input`), so a crash loses none of it.

use super::input::{Got, Input};
use super::line::{copy_form, Filter};
use super::logdir::{LogDir, Stall};
use super::options::Options;
use super::pattern::select;
use super::report;
use super::stamp::{self, Format};
use super::udp;
use super::zone::Zone;
use nix::sys::signal::Signal;
use rustix::event::{PollFd, PollFlags};
use svbox::mono::{Mono, SECOND};
use svbox::poll::poll;
use svbox::signals::{self, SignalQueue};
use svbox::tai::Tai64n;

/// Input read per batch (more when `-b` asks for more).
const BATCH: usize = 64 * 1024;
/// A directory's pending output is written once it reaches this much, even mid-batch.
const FLUSH_AT: usize = 64 * 1024;
/// Pause before retrying after a file system error (runit sleeps 3 s).
const RETRY: u64 = SECOND;

pub struct Daemon {
    opts: Options,
    format: Format,
    /// The local time zone of `-L` stamps (`None` without `-L`).
    zone: Option<Zone>,
    filter: Filter,
    dirs: Vec<LogDir>,
    signals: SignalQueue,
    input: Input,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    term: bool,
    hup: bool,
    alarm: bool,
    /// The stamp of the batch being processed.
    stamp: Vec<u8>,
    /// Inside a line longer than the buffer (its head is processed).
    in_long: bool,
    retry_at: Option<Mono>,
    waiting_child: bool,
    window: Vec<u8>,
    errout: Vec<u8>,
    sel: Vec<(bool, bool)>,
    dgram: Vec<u8>,
}

impl Daemon {
    pub fn setup(opts: Options) -> Result<Daemon, i32> {
        let signals = match SignalQueue::new(&[
            Signal::SIGTERM,
            Signal::SIGHUP,
            Signal::SIGALRM,
            Signal::SIGCHLD,
        ]) {
            Ok(s) => s,
            Err(e) => {
                report::say("fatal: ", &[b"unable to set up signals"], Some(e as i32));
                return Err(111);
            }
        };
        let stdin = rustix::stdio::stdin();
        if let Ok(flags) = rustix::fs::fcntl_getfl(stdin) {
            let _ = rustix::fs::fcntl_setfl(stdin, flags | rustix::fs::OFlags::NONBLOCK);
        }
        let now = Mono::now();
        let dirs: Vec<LogDir> = opts
            .dirs
            .iter()
            .filter_map(|d| LogDir::open(d, opts.verbose, opts.buflen, now))
            .collect();
        if dirs.is_empty() {
            report::say("fatal: ", &[b"no functional log directories."], None);
            return Err(111);
        }
        let cap = BATCH.max(opts.buflen + 1);
        Ok(Daemon {
            format: Format::from_count(opts.stamps),
            zone: opts.local.then(Zone::from_env),
            filter: Filter::new(opts.linelen, opts.replace, &opts.extra),
            opts,
            dirs,
            signals,
            input: Input::new(cap),
            buf: vec![0; cap],
            start: 0,
            end: 0,
            eof: false,
            term: false,
            hup: false,
            alarm: false,
            stamp: Vec::new(),
            in_long: false,
            retry_at: None,
            waiting_child: false,
            window: Vec::new(),
            errout: Vec::new(),
            sel: Vec::new(),
            dgram: Vec::new(),
        })
    }

    pub fn run(&mut self) -> i32 {
        loop {
            self.signals_in();
            let now = Mono::now();
            let blocked = self.waiting_child || self.retry_at.is_some_and(|t| t > now);
            if !blocked {
                self.retry_at = None;
                self.waiting_child = false;
                let result = self.work(now);
                if let Err(s) = result {
                    self.stalled(s, now);
                } else if self.eof || self.term && self.start == self.end && !self.in_long {
                    return self.finish();
                }
            }
            self.wait(now);
        }
    }

    fn stalled(&mut self, s: Stall, now: Mono) {
        match s {
            Stall::Io => self.retry_at = Some(now.plus(RETRY)),
            Stall::Processor => self.waiting_child = true,
        }
    }

    fn signals_in(&mut self) {
        let got = self.signals.drain();
        let verbose = self.opts.verbose;
        if got.has(Signal::SIGCHLD) {
            if verbose {
                report::info(&[b"sigchild received."]);
            }
            while let Some((pid, wstat)) = signals::reap_any() {
                for d in self.dirs.iter_mut() {
                    if d.processor_exited(pid, wstat) {
                        break;
                    }
                }
            }
            self.waiting_child = false;
        }
        if got.has(Signal::SIGTERM) {
            if verbose {
                report::info(&[b"sigterm received."]);
            }
            self.term = true;
        }
        if got.has(Signal::SIGHUP) {
            if verbose {
                report::info(&[b"sighangup received."]);
            }
            self.hup = true;
        }
        if got.has(Signal::SIGALRM) {
            if verbose {
                report::info(&[b"sigalarm received."]);
            }
            self.alarm = true;
        }
    }

    /// Everything that can be done now: buffered lines, due rotations, a pending reopen.
    fn work(&mut self, now: Mono) -> Result<(), Stall> {
        for d in self.dirs.iter_mut() {
            if !d.start_processor() {
                return Err(Stall::Io);
            }
        }
        self.process(false)?;
        if self.alarm {
            for d in self.dirs.iter_mut() {
                if d.fill() > 0 {
                    d.rotate()?;
                }
            }
            self.alarm = false;
        }
        for d in self.dirs.iter_mut() {
            if let Some(t) = d.timer {
                if t <= now {
                    if d.fill() > 0 {
                        d.rotate()?;
                    }
                    d.timer = Some(now.plus(d.cfg.timeout.saturating_mul(SECOND)));
                }
            }
        }
        if self.hup && !self.in_long {
            self.reopen(now)?;
            self.hup = false;
        }
        Ok(())
    }

    fn reopen(&mut self, now: Mono) -> Result<(), Stall> {
        match self.dirs.iter().find_map(|d| d.run.as_ref()) {
            Some(r) if r.pid.is_some() => return Err(Stall::Processor),
            Some(_) => return Err(Stall::Io),
            None => {}
        }
        while let Some(d) = self.dirs.last_mut() {
            d.close()?;
            self.dirs.pop();
        }
        let dirs: Vec<LogDir> = self
            .opts
            .dirs
            .iter()
            .filter_map(|d| LogDir::open(d, self.opts.verbose, self.opts.buflen, now))
            .collect();
        if dirs.is_empty() {
            report::say("fatal: ", &[b"no functional log directories."], None);
            // Nothing is buffered (messages go out with write(2)): libc's exit is enough, and
            // std's exit would bring its stdout flush machinery into the binary.
            // SAFETY: exit has no preconditions.
            unsafe { nix::libc::exit(111) };
        }
        self.dirs = dirs;
        Ok(())
    }

    /// Processes the complete lines in the buffer (and with `last`, the unterminated
    /// rest as a line), then writes every directory's pending output.
    fn process(&mut self, last: bool) -> Result<(), Stall> {
        let buf = std::mem::take(&mut self.buf);
        let result = self.lines(&buf, last);
        self.buf = buf;
        if !self.errout.is_empty() {
            svbox::msg::write_all(rustix::stdio::stderr(), &self.errout);
            self.errout.clear();
        }
        result?;
        for d in self.dirs.iter_mut() {
            if !d.pending.is_empty() {
                d.flush()?;
            }
        }
        // Before the slow rotation (fsync): a crash there must not write these lines twice.
        self.written();
        for d in self.dirs.iter_mut() {
            if d.rotate_due {
                d.rotate()?;
            }
        }
        let ending = self.eof || self.term;
        let back = self.input.commit(self.end - self.start, ending);
        if back > 0 {
            // Those bytes come again from stdin, with the rest of their line.
            self.end -= back;
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        Ok(())
    }

    /// After writes that left nothing pending: what was processed may leave stdin.
    fn written(&mut self) {
        if self.dirs.iter().all(|d| d.pending.is_empty()) {
            self.input.written(self.end - self.start);
        }
    }

    fn lines(&mut self, buf: &[u8], last: bool) -> Result<(), Stall> {
        for d in self.dirs.iter_mut() {
            if !d.pending.is_empty() {
                d.flush()?;
            }
        }
        while self.start < self.end {
            let avail = &buf[self.start..self.end];
            let (seg, complete, used) = match memchr::memchr(b'\n', avail) {
                Some(i) => (&avail[..i], true, i + 1),
                None if last => (avail, true, avail.len()),
                // The head of a line longer than the buffer, or more of one: passed on now,
                // whole lines stay in one file because rotation waits for the line's end.
                None if self.in_long || self.end == buf.len() && self.start == 0 => {
                    (avail, false, avail.len())
                }
                None => break,
            };
            self.segment(seg, complete)?;
            self.start += used;
            let mut flushed = false;
            for d in self.dirs.iter_mut() {
                if d.pending.len() >= FLUSH_AT {
                    d.flush()?;
                    flushed = true;
                }
            }
            if flushed {
                self.written();
            }
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        Ok(())
    }

    fn segment(&mut self, seg: &[u8], complete: bool) -> Result<(), Stall> {
        let linelen = self.opts.linelen as u64;
        if self.in_long {
            for d in self.dirs.iter_mut().filter(|d| d.cont) {
                d.pending.extend_from_slice(seg);
                if complete {
                    d.pending.push(b'\n');
                    d.cont = false;
                    check_size(d, linelen);
                }
            }
            self.in_long = !complete;
            return Ok(());
        }
        let n = self.filter.window(seg, &mut self.window);
        let rest = &seg[n..];
        let mark = self.filter.marked(&self.window);
        self.sel.clear();
        for d in self.dirs.iter() {
            self.sel.push(select(&d.cfg.instructions, &self.window));
        }
        // Rotations first, so a failing one leaves this line wholly unprocessed; and
        // everything before it written, so a stall there holds back no written input.
        let extra = self.stamp.len() + seg.len() + 1;
        let sel = &self.sel;
        if self
            .dirs
            .iter()
            .zip(sel)
            .any(|(d, s)| rotation_due(d, s.0, extra))
        {
            for d in self.dirs.iter_mut() {
                if !d.pending.is_empty() {
                    d.flush()?;
                }
            }
            self.written();
        }
        for (d, &(log, _)) in self.dirs.iter_mut().zip(self.sel.iter()) {
            if rotation_due(d, log, extra) {
                d.rotate()?;
            }
        }
        for (d, &(log, err)) in self.dirs.iter_mut().zip(self.sel.iter()) {
            if err {
                copy_form(
                    &mut self.errout,
                    &self.stamp,
                    &d.cfg.prefix,
                    &self.window,
                    mark,
                );
            }
            if !log {
                continue;
            }
            if let Some(addr) = d.cfg.udp {
                self.dgram.clear();
                copy_form(
                    &mut self.dgram,
                    &self.stamp,
                    &d.cfg.prefix,
                    &self.window,
                    mark,
                );
                let warning: &[u8] = match d.udp.as_ref() {
                    Some(sock) if udp::send(sock, &self.dgram, addr) => b"",
                    Some(_) => b"warning: failure sending through udp: ",
                    None => b"warning: no udp socket available: ",
                };
                if !warning.is_empty() {
                    d.pending.extend_from_slice(warning);
                    d.pending.extend_from_slice(&self.dgram);
                }
                if d.cfg.udp_only {
                    continue;
                }
            }
            d.pending.extend_from_slice(&self.stamp);
            d.pending.extend_from_slice(&d.cfg.prefix);
            d.pending.extend_from_slice(&self.window);
            d.pending.extend_from_slice(rest);
            if complete {
                d.pending.push(b'\n');
                check_size(d, linelen);
            } else {
                d.cont = true;
            }
        }
        self.in_long = !complete;
        Ok(())
    }

    /// Polls stdin (when input may be taken), the signals and the earliest deadline.
    fn wait(&mut self, now: Mono) {
        let mut deadline = self.retry_at;
        for d in &self.dirs {
            if let Some(t) = d.timer {
                deadline = Some(deadline.map_or(t, |x| x.min(t)));
            }
        }
        if self.start > 0 && self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let reading = !self.eof
            && self.end < self.buf.len()
            && self.retry_at.is_none()
            && !self.waiting_child
            && (!self.term || self.start < self.end || self.in_long);
        if reading && self.term {
            // Terminating inside a line: take what is there now to complete it.
            self.read_input();
            if !self.eof && !self.buf[self.start..self.end].contains(&b'\n') {
                self.eof = true;
            }
            return;
        }
        let stdin = rustix::stdio::stdin();
        let mut fds = [
            PollFd::from_borrowed_fd(self.signals.fd(), PollFlags::IN),
            PollFd::from_borrowed_fd(stdin, PollFlags::IN),
        ];
        let n = if reading { 2 } else { 1 };
        let timeout = deadline.map(|t| t.timeout_from(now));
        let _ = poll(&mut fds[..n], timeout.as_ref());
        if reading && !fds[1].revents().is_empty() {
            self.read_input();
        }
    }

    fn read_input(&mut self) {
        match self.input.read(&mut self.buf[self.end..]) {
            Got::Eof => self.eof = true,
            Got::Bytes(n) => {
                self.end += n;
                self.stamp.clear();
                if self.format != Format::None {
                    let mut now = Tai64n::now();
                    if let (Some(zone), Format::Utc(_)) = (&self.zone, self.format) {
                        now = stamp::local(&now, zone);
                    }
                    stamp::append(&mut self.stamp, self.format, &now);
                }
            }
            Got::Nothing => {}
            Got::Failed(e) => {
                report::warn(&[b"unable to read standard input"], Some(e.raw_os_error()));
                self.eof = true;
            }
        }
    }

    /// EOF or SIGTERM: the last line even without its newline, processors, close, exit 0.
    fn finish(&mut self) -> i32 {
        loop {
            let now = Mono::now();
            let mut result = self.process(true);
            if result.is_ok() {
                result = self.wait_processors();
            }
            if result.is_ok() {
                while let Some(d) = self.dirs.last_mut() {
                    if let Err(s) = d.close() {
                        result = Err(s);
                        break;
                    }
                    self.dirs.pop();
                }
            }
            match result {
                Ok(()) => return 0,
                Err(s) => {
                    self.stalled(s, now);
                    // Only the signalfd and the retry deadline: no more input is taken.
                    self.eof = true;
                    self.wait(now);
                    self.signals_in();
                    self.retry_at = None;
                    self.waiting_child = false;
                }
            }
        }
    }

    fn wait_processors(&mut self) -> Result<(), Stall> {
        for d in self.dirs.iter_mut() {
            while let Some(pid) = d.run.as_ref().and_then(|r| r.pid) {
                match signals::wait_for(pid) {
                    Ok(wstat) => {
                        d.processor_exited(pid, wstat);
                    }
                    Err(_) => {
                        d.run = None;
                    }
                }
            }
            if d.run.is_some() && !d.start_processor() {
                return Err(Stall::Io);
            }
        }
        Ok(())
    }
}

/// Before a line of `extra` bytes plus the prefix: whether `d` must rotate first.
fn rotation_due(d: &LogDir, log: bool, extra: usize) -> bool {
    let need = (extra + d.cfg.prefix.len()) as u64;
    let to_file = log && !d.cfg.udp_only;
    let size = d.cfg.size;
    d.rotate_due || to_file && size > 0 && d.fill() > 0 && d.fill() + need > size
}

/// After a complete line: rotate once `current` is within LEN bytes of `s` (or at `s`
/// when `s` is not larger than LEN, where runit would split lines).
fn check_size(d: &mut LogDir, linelen: u64) {
    let s = d.cfg.size;
    if s == 0 {
        return;
    }
    let threshold = if s > linelen { s - linelen } else { s };
    if d.fill() >= threshold {
        d.rotate_due = true;
    }
}
