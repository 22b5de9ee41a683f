//! Environment directories (`-e DIR`, envdir): every file not starting with `.` sets the
//! variable of its name to its first line (trailing spaces and TABs removed, NUL bytes made
//! newlines), or unsets it when empty. Read as runit does it, from inside DIR (so its
//! messages and permission rules are runit's), returning to the starting directory after.

use super::report;
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::{self, Mode, OFlags};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use svbox::pathexec::EnvChanges;

/// Adds the changes `dir` asks for to `env`; `Err(exit code)` after the message on failure.
// Kept out of its callers: inlined, the binary grows (measured, opt-level z).
#[inline(never)]
pub fn read(
    dir: &OsStr,
    subdirs_fatal: bool,
    verbose: bool,
    env: &mut EnvChanges,
) -> Result<(), i32> {
    let name = dir.as_bytes();
    // O_PATH needs no read permission on the starting directory, unlike runit's open(".").
    let start = fs::open(
        c".",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        report::fatal_err(
            &[b"unable to open current working directory"],
            e.raw_os_error(),
        )
    })?;
    rustix::process::chdir(dir).map_err(|e| {
        report::fatal_err(
            &[b"unable to switch to directory: ", name],
            e.raw_os_error(),
        )
    })?;
    let fd = fs::open(
        c".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| report::fatal_err(&[b"unable to open directory: ", name], e.raw_os_error()))?;
    let cap = value_cap();
    let mut failed = None;
    let listed = svbox::dirlist::each(fd.as_fd(), &mut |file, _| {
        let var = file.to_bytes();
        if var.first() == Some(&b'.') {
            return true;
        }
        match read_value(fd.as_fd(), file, cap) {
            Ok(Some(value)) => env.set(var, &value),
            Ok(None) => env.unset(var),
            Err(Errno::ISDIR) if !subdirs_fatal => {
                if verbose {
                    report::warn_err(
                        &[b"unable to read ", name, b"/", var],
                        Errno::ISDIR.raw_os_error(),
                    );
                }
            }
            Err(e) => {
                failed = Some(report::fatal_err(
                    &[b"unable to read ", name, b"/", var],
                    e.raw_os_error(),
                ));
                return false;
            }
        }
        true
    });
    match listed {
        // A directory removed while being read has no more entries (as readdir).
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => {
            return Err(report::fatal_err(
                &[b"unable to read directory: ", name],
                e.raw_os_error(),
            ))
        }
    }
    if let Some(code) = failed {
        return Err(code);
    }
    rustix::process::fchdir(&start).map_err(|e| {
        report::fatal_err(
            &[b"unable to switch to starting directory"],
            e.raw_os_error(),
        )
    })
}

/// The longest value that can reach a program: Linux refuses (E2BIG) any environment string
/// longer than 32 pages, so a longer value need not be read, only known to be too long.
fn value_cap() -> usize {
    svbox::syscall::page_size().max(4096).saturating_mul(32)
}

/// The value file `name` in `dir` gives: `None` if it is empty (unset).
fn read_value(
    dir: BorrowedFd<'_>,
    name: &std::ffi::CStr,
    cap: usize,
) -> Result<Option<Vec<u8>>, Errno> {
    let fd = fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut first = FirstLine::new(cap);
    let mut chunk = [0u8; 4096];
    loop {
        match rustix::io::read(&fd, &mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                if !first.feed(&chunk[..n]) {
                    break;
                }
            }
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(first.finish())
}

/// The first line of a file, fed in pieces, kept up to `cap + 1` bytes: a value longer than
/// `cap` keeps `cap + 1` bytes, enough for exec to refuse it as runit's whole value would be.
struct FirstLine {
    line: Vec<u8>,
    cap: usize,
    empty: bool,
    /// A byte other than a space or TAB was cut off: the value is longer than `cap`.
    too_long: bool,
}

impl FirstLine {
    fn new(cap: usize) -> Self {
        FirstLine {
            line: Vec::new(),
            cap,
            empty: true,
            too_long: false,
        }
    }

    /// Takes the next bytes; false once the rest of the file cannot matter.
    fn feed(&mut self, data: &[u8]) -> bool {
        self.empty &= data.is_empty();
        let (data, more) = match memchr::memchr(b'\n', data) {
            Some(i) => (&data[..i], false),
            None => (data, true),
        };
        let room = (self.cap + 1)
            .saturating_sub(self.line.len())
            .min(data.len());
        self.line.extend_from_slice(&data[..room]);
        if data[room..].iter().any(|&b| b != b' ' && b != b'\t') {
            self.too_long = true;
            return false;
        }
        more
    }

    fn finish(mut self) -> Option<Vec<u8>> {
        if self.empty {
            return None;
        }
        if !self.too_long {
            let end = self
                .line
                .iter()
                .rposition(|&b| b != b' ' && b != b'\t')
                .map_or(0, |i| i + 1);
            self.line.truncate(end);
        }
        for b in self.line.iter_mut() {
            if *b == 0 {
                *b = b'\n';
            }
        }
        Some(self.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(pieces: &[&[u8]], cap: usize) -> Option<Vec<u8>> {
        let mut f = FirstLine::new(cap);
        for p in pieces {
            if !f.feed(p) {
                break;
            }
        }
        f.finish()
    }

    #[test]
    fn first_line_rules() {
        let v = |content: &[u8]| value(&[content], 1000);
        assert_eq!(v(b""), None, "an empty file unsets");
        assert_eq!(v(b"\n"), Some(b"".to_vec()), "a lone newline sets empty");
        assert_eq!(v(b"value"), Some(b"value".to_vec()));
        assert_eq!(v(b"a b \t \nsecond line"), Some(b"a b".to_vec()));
        assert_eq!(
            v(b"  lead"),
            Some(b"  lead".to_vec()),
            "leading blanks stay"
        );
        assert_eq!(
            v(b"x\r \n"),
            Some(b"x\r".to_vec()),
            "only spaces and TABs go"
        );
        assert_eq!(
            v(b"x\0y\0"),
            Some(b"x\ny\n".to_vec()),
            "NUL becomes newline"
        );
        assert_eq!(v(b"\0 "), Some(b"\n".to_vec()));
        assert_eq!(v(b" \t\n"), Some(b"".to_vec()));
        assert_eq!(v(b"\xff\xfe"), Some(b"\xff\xfe".to_vec()));
    }

    #[test]
    fn pieces_join_and_reading_stops_at_the_newline() {
        assert_eq!(
            value(&[b"ab", b"c ", b"\t", b"d\nignored"], 1000),
            Some(b"abc \td".to_vec())
        );
        let mut f = FirstLine::new(1000);
        assert!(f.feed(b"abc"));
        assert!(
            !f.feed(b"d\nrest"),
            "nothing after the first newline is needed"
        );
        assert_eq!(value(&[b"", b"x"], 1000), Some(b"x".to_vec()));
    }

    #[test]
    fn values_beyond_the_cap_stay_too_long_to_exec() {
        // Trailing blanks past the cap still trim away.
        assert_eq!(value(&[b"abcd", b"    \t\n"], 4), Some(b"abcd".to_vec()));
        assert_eq!(value(&[b"abcd "], 4), Some(b"abcd".to_vec()));
        // A real byte past the cap: cap + 1 bytes are kept (and exec will refuse them).
        assert_eq!(value(&[b"abcd  x"], 4), Some(b"abcd ".to_vec()));
        assert_eq!(value(&[b"abcdefgh"], 4), Some(b"abcde".to_vec()));
        assert_eq!(value(&[b"abcd", b"e", b"f"], 4), Some(b"abcde".to_vec()));
        assert_eq!(value(&[b"\0\0\0\0\0\0"], 4), Some(b"\n\n\n\n\n".to_vec()));
    }
}
