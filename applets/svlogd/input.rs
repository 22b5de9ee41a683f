//! Standard input that a crash cannot lose: from a pipe, bytes are copied with `tee(2)`
//! into a private pipe and read from there, and taken out of stdin only once the lines
//! they hold are written, so a `kill -9` between reading and writing leaves them in the
//! pipe (which runsv holds) for the next svlogd. Any other stdin is read plainly.

use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::pipe::{PipeFlags, SpliceFlags};

/// What one `read` got.
pub enum Got {
    Bytes(usize),
    Nothing,
    Eof,
    Failed(Errno),
}

pub struct Input {
    /// The private pipe (read end, write end) while stdin is a pipe `tee` works on.
    copy: Option<(OwnedFd, OwnedFd)>,
    /// Where consumed bytes are spliced to.
    null: Option<OwnedFd>,
    /// Bytes at the end of the caller's buffer that are still in stdin.
    held: usize,
}

impl Input {
    /// Prepares the private pipe, sized for batches of `cap` bytes.
    pub fn new(cap: usize) -> Input {
        let copy = rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK).ok();
        if let Some((_, w)) = copy.as_ref() {
            // Without the larger size, batches are just smaller.
            let _ = rustix::pipe::fcntl_setpipe_size(w, cap);
        }
        let flags = OFlags::WRONLY | OFlags::CLOEXEC;
        let null = rustix::fs::open("/dev/null", flags, Mode::empty()).ok();
        Input {
            copy,
            null,
            held: 0,
        }
    }

    /// Reads available input into `buf` without blocking (stdin is non-blocking).
    pub fn read(&mut self, buf: &mut [u8]) -> Got {
        if self.held > 0 {
            // Not expected (input is read only after a commit); never read bytes twice.
            self.consume(self.held);
            self.held = 0;
        }
        let stdin = rustix::stdio::stdin();
        while let Some((r, w)) = self.copy.as_ref() {
            match rustix::pipe::tee(stdin, w, buf.len(), SpliceFlags::NONBLOCK) {
                Ok(0) => return Got::Eof,
                Ok(n) => {
                    if read_exact(r, &mut buf[..n]).is_ok() {
                        self.held = n;
                        return Got::Bytes(n);
                    }
                    // The copy is unusable; stdin still has all n bytes for plain reads.
                    self.copy = None;
                }
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) => return Got::Nothing,
                // EINVAL: stdin is not a pipe.
                Err(_) => self.copy = None,
            }
        }
        loop {
            return match rustix::io::read(stdin, &mut *buf) {
                Ok(0) => Got::Eof,
                Ok(n) => Got::Bytes(n),
                Err(Errno::INTR) => continue,
                Err(Errno::AGAIN) => Got::Nothing,
                Err(e) => Got::Failed(e),
            };
        }
    }

    /// Everything but the last `unprocessed` bytes of the buffer is written: takes those
    /// out of stdin.
    pub fn written(&mut self, unprocessed: usize) {
        let done = self.held.saturating_sub(unprocessed);
        if done > 0 {
            self.consume(done);
            self.held -= done;
        }
    }

    /// All complete lines are written; the last `tail` bytes of the buffer are an
    /// unterminated line. Returns how many of them the caller must drop from its buffer
    /// because they stay in stdin: when stdin has more after them (the batch cut the
    /// line), so they come back with the rest of it. Otherwise, or when svlogd is
    /// `ending`, they are consumed and kept in memory (the service is writing that line
    /// just now; a crash loses it).
    pub fn commit(&mut self, tail: usize, ending: bool) -> usize {
        self.written(tail);
        if self.held == 0 {
            return 0;
        }
        let more = !ending && svbox::syscall::bytes_readable(0).is_ok_and(|n| n > self.held);
        let held = std::mem::take(&mut self.held);
        if more {
            return held;
        }
        self.consume(held);
        0
    }

    /// Drops `n` bytes from stdin, by `splice` to /dev/null, else by reading them.
    fn consume(&mut self, mut n: usize) {
        let stdin = rustix::stdio::stdin();
        if let Some(null) = self.null.as_ref() {
            while n > 0 {
                match rustix::pipe::splice(stdin, None, null, None, n, SpliceFlags::NONBLOCK) {
                    Ok(0) => return,
                    Ok(k) => n -= k.min(n),
                    Err(Errno::INTR) => {}
                    Err(_) => break,
                }
            }
        }
        let mut scratch = [0u8; 4096];
        while n > 0 {
            let want = n.min(scratch.len());
            match rustix::io::read(stdin, &mut scratch[..want]) {
                Ok(0) => return,
                Ok(k) => n -= k,
                Err(Errno::INTR) => {}
                Err(_) => return,
            }
        }
    }
}

fn read_exact(fd: &OwnedFd, mut buf: &mut [u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match rustix::io::read(fd, &mut *buf) {
            Ok(0) => return Err(Errno::PIPE),
            Ok(n) => buf = &mut buf[n..],
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
