//! One-line diagnostics built on the stack and written with a single `write(2)`.
//!
//! Daemons must not allocate in their steady state nor panic on a closed stderr, so messages
//! are assembled in a fixed buffer (truncated, but still newline-terminated, when too long)
//! and written once; a failed write is ignored, as runit's buffered stderr would.

use crate::errstr::errstr;
use std::ffi::OsStr;
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::BorrowedFd;

const CAPACITY: usize = 2048;

/// A message line under construction.
pub struct Line {
    /// Uninitialised but for the first `len` bytes: zeroing 2 KB for every message would
    /// cost time and, at each of the many call sites, code.
    buf: MaybeUninit<[u8; CAPACITY]>,
    len: usize,
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

impl Line {
    pub const fn new() -> Self {
        Line {
            buf: MaybeUninit::uninit(),
            len: 0,
        }
    }

    /// Appends bytes, keeping one byte free for the final newline.
    // Out of line: it is called from very many places.
    #[inline(never)]
    pub fn b(&mut self, bytes: &[u8]) -> &mut Self {
        let room = CAPACITY - 1 - self.len;
        let n = bytes.len().min(room);
        // SAFETY: len + n <= CAPACITY - 1, so the copy stays inside buf; `bytes` is a shared
        // borrow and cannot overlap the exclusively borrowed buf.
        unsafe {
            let end = self.buf.as_mut_ptr().cast::<u8>().add(self.len);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), end, n);
        }
        self.len += n;
        self
    }

    pub fn s(&mut self, text: &str) -> &mut Self {
        self.b(text.as_bytes())
    }

    pub fn os(&mut self, text: &OsStr) -> &mut Self {
        self.b(text.as_bytes())
    }

    /// Appends a decimal number.
    pub fn num(&mut self, value: u64) -> &mut Self {
        let mut digits = [0u8; 20];
        self.b(fmt_u64(value, &mut digits))
    }

    /// Appends a signed decimal number.
    pub fn inum(&mut self, value: i64) -> &mut Self {
        if value < 0 {
            self.b(b"-");
        }
        self.num(value.unsigned_abs())
    }

    /// Appends `: ` and the djb error string for `errno`.
    pub fn err(&mut self, errno: i32) -> &mut Self {
        self.s(": ").s(errstr(errno))
    }

    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: the first len bytes were written by `b`.
        unsafe { std::slice::from_raw_parts(self.buf.as_ptr().cast::<u8>(), self.len) }
    }

    /// Terminates the line with `\n` and writes it to `fd` in one call.
    pub fn write_to(&mut self, fd: BorrowedFd<'_>) {
        // SAFETY: `b` keeps len <= CAPACITY - 1, so the newline fits; then the first len + 1
        // bytes are initialised.
        let line = unsafe {
            let start = self.buf.as_mut_ptr().cast::<u8>();
            start.add(self.len).write(b'\n');
            std::slice::from_raw_parts(start, self.len + 1)
        };
        write_all(fd, line);
    }

    /// Writes the line to standard error.
    pub fn to_stderr(&mut self) {
        self.write_to(rustix::stdio::stderr());
    }

    /// Writes the line to standard output.
    pub fn to_stdout(&mut self) {
        self.write_to(rustix::stdio::stdout());
    }
}

/// Writes all of `bytes`, retrying on EINTR and short writes, giving up silently on errors.
pub fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(0) => return,
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return,
        }
    }
}

/// Formats `value` in decimal into `buf`, returning the digits.
pub fn fmt_u64(mut value: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Prints `usage: ARGV0 USAGE` and the extra empty line runit's usage printer adds.
pub fn usage(argv0: &OsStr, usage: &str) {
    let mut line = Line::new();
    line.s("usage: ").os(argv0).s(usage).s("\n");
    line.to_stderr();
}

/// The part of `path` after its last `/`.
pub fn basename(path: &OsStr) -> &OsStr {
    let bytes = path.as_bytes();
    match bytes.iter().rposition(|&b| b == b'/') {
        Some(i) => OsStr::from_bytes(&bytes[i + 1..]),
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_lines_with_djb_errors() {
        let mut l = Line::new();
        l.s("runsv x: fatal: unable to lock supervise/lock")
            .err(nix::libc::EAGAIN);
        assert_eq!(
            l.as_bytes(),
            b"runsv x: fatal: unable to lock supervise/lock: temporary failure"
        );
    }

    #[test]
    fn numbers() {
        let mut l = Line::new();
        l.num(0)
            .s(" ")
            .num(u64::MAX)
            .s(" ")
            .inum(-1)
            .s(" ")
            .inum(42);
        assert_eq!(l.as_bytes(), b"0 18446744073709551615 -1 42");
    }

    #[test]
    fn overlong_lines_are_truncated_not_panicking() {
        let mut l = Line::new();
        for _ in 0..1000 {
            l.s("0123456789");
        }
        assert_eq!(l.as_bytes().len(), CAPACITY - 1);
    }

    #[test]
    fn basename_of_paths() {
        assert_eq!(basename(OsStr::new("/etc/init.d/foo")), "foo");
        assert_eq!(basename(OsStr::new("sv")), "sv");
        assert_eq!(basename(OsStr::new("dir/")), "");
    }
}
