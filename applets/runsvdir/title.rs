//! The process-title LOG area (runit §3.5): the bytes of the LOG argument in this process's
//! original argv memory, where `ps` reads them, become a window that scrolls what children
//! write to runsvdir's stderr. The first five bytes stay; every non-NUL byte shifts the rest
//! left by one. Found through `/proc/self/stat` (arg_start, arg_end) since std copies argv.

use super::clock::{Mono, SECOND};
use super::procstat;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::OFlags;
use rustix::pipe::PipeFlags;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// runit writes a `.` at start and then every 900 s so old text ages out.
const AGE: u64 = 900 * SECOND;

pub struct Title {
    area: usize,
    len: usize,
    /// Read end of the pipe that is runsvdir's fd 2, when children's stderr comes here.
    pub read: Option<OwnedFd>,
    pub next_dot: Mono,
}

impl Title {
    /// Locates argument `k` of `args` in the original argv memory. `None` if /proc is not
    /// there or the memory does not hold what std says the argument is.
    pub fn locate(args: &[OsString], k: usize) -> Option<Title> {
        let mut buf = [0u8; procstat::BUF];
        let stat = procstat::read(b"self", &mut buf)?;
        let start = usize::try_from(procstat::field(stat, 45)?).ok()?;
        let end = usize::try_from(procstat::field(stat, 46)?).ok()?;
        if start == 0 || end <= start {
            return None;
        }
        // SAFETY: [arg_start, arg_end) is this process's own mapped argument memory.
        let mem = unsafe { std::slice::from_raw_parts(start as *const u8, end - start) };
        // The NUL-terminated strings there; the last args.len() of them are the arguments.
        let strings = || {
            mem.split_inclusive(|&b| b == 0)
                .filter(|s| s.ends_with(&[0]))
        };
        let index = strings().count().checked_sub(args.len())? + k;
        let arg = strings().nth(index)?;
        let want = args.get(k)?.as_bytes();
        if arg[..arg.len() - 1] != *want || want.len() < 7 {
            return None;
        }
        let from = arg.as_ptr() as usize - start;
        let to = from + want.len();
        Some(Title {
            area: start + from,
            len: to - from,
            read: None,
            next_dot: Mono::now().plus(AGE),
        })
    }

    /// Makes fd 2 the write end of a new pipe whose read end this title drains. The write
    /// end stays blocking (unlike runit) so children's stderr never fails with EAGAIN.
    pub fn capture_stderr(&mut self) -> rustix::io::Result<()> {
        let (r, w) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC)?;
        rustix::fs::fcntl_setfl(&r, OFlags::NONBLOCK)?;
        rustix::stdio::dup2_stderr(&w)?;
        self.read = Some(r);
        Ok(())
    }

    /// Appends bytes to the window (NULs dropped), shifting older bytes out on the left.
    pub fn feed(&mut self, bytes: &[u8]) {
        // SAFETY: area..area+len is exactly the LOG argument's bytes, in writable argv
        // memory owned by this process; nothing else holds a Rust reference to it.
        let w = unsafe { std::slice::from_raw_parts_mut(self.area as *mut u8, self.len) };
        let win = &mut w[5..];
        for chunk in bytes.split(|&b| b == 0) {
            // Only the last win.len() bytes of a chunk can remain visible.
            let chunk = &chunk[chunk.len().saturating_sub(win.len())..];
            let n = chunk.len();
            win.copy_within(n.., 0);
            let keep = win.len() - n;
            win[keep..].copy_from_slice(chunk);
        }
    }

    /// Drains the pipe into the window.
    pub fn drain(&mut self) {
        let mut buf = [0u8; 1024];
        loop {
            let Some(fd) = self.read.as_ref() else { return };
            match rustix::io::read(fd.as_fd(), &mut buf) {
                Ok(0) => return,
                Ok(n) => self.feed(&buf[..n]),
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => return,
            }
        }
    }

    /// Writes the ageing dot when due; returns the next deadline.
    pub fn age(&mut self, now: Mono) -> Mono {
        if now >= self.next_dot {
            self.feed(b".");
            self.next_dot = now.plus(AGE);
        }
        self.next_dot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrolls_left_keeping_five_bytes_and_dropping_nuls() {
        let mut mem = *b"log: .......";
        let mut t = Title {
            area: mem.as_mut_ptr() as usize,
            len: mem.len(),
            read: None,
            next_dot: Mono::now(),
        };
        t.feed(b"ab\0c");
        t.feed(b"d");
        assert_eq!(&mem, b"log: ...abcd");
        let mut t = Title {
            area: mem.as_mut_ptr() as usize,
            len: mem.len(),
            read: None,
            next_dot: Mono::now(),
        };
        t.feed(b"0123456789");
        assert_eq!(&mem, b"log: 3456789");
    }
}
