//! runit's file-open conventions (§0.4 of the behaviour spec) and atomic replacement of small
//! files through `NAME.new` and `rename`, so readers never see a partial status.

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{self, Mode, OFlags};
use rustix::io::Errno;
use rustix::path::Arg;

/// `O_RDONLY|O_NONBLOCK`
pub fn open_read<P: Arg>(path: P) -> Result<OwnedFd, Errno> {
    fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// `O_WRONLY|O_NONBLOCK`: on a FIFO with no reader this fails with ENXIO.
pub fn open_write<P: Arg>(path: P) -> Result<OwnedFd, Errno> {
    fs::open(
        path,
        OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// `O_WRONLY|O_NONBLOCK|O_APPEND|O_CREAT`, mode 0600.
pub fn open_append<P: Arg>(path: P) -> Result<OwnedFd, Errno> {
    fs::open(
        path,
        OFlags::WRONLY | OFlags::NONBLOCK | OFlags::APPEND | OFlags::CREATE | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
}

/// `O_WRONLY|O_NONBLOCK|O_TRUNC|O_CREAT`, mode 0644.
pub fn open_trunc<P: Arg>(path: P) -> Result<OwnedFd, Errno> {
    fs::open(
        path,
        OFlags::WRONLY | OFlags::NONBLOCK | OFlags::TRUNC | OFlags::CREATE | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )
}

/// Gives fds 0–2 a `/dev/null` if they are closed, so that no descriptor opened later (a
/// lock, a FIFO, a kept `supervise/ok`) takes their number and receives diagnostics or
/// children's output. `main` calls it before any applet runs.
pub fn fill_std_fds() {
    for fd in 0..3 {
        // SAFETY: only probed with F_GETFD; an invalid number yields EBADF.
        let probe = rustix::io::fcntl_getfd(unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) });
        if probe == Err(Errno::BADF) {
            if let Ok(null) = fs::open(c"/dev/null", OFlags::RDWR, Mode::empty()) {
                // The lowest free number is `fd` itself: keep it open for good.
                std::mem::forget(null);
            }
        }
    }
}

/// Why an atomic replacement failed; each maps to one of runit's warnings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplaceError {
    Open(Errno),
    Write(Errno),
    PartialWrite,
    Rename(Errno),
}

/// Writes `data` to `tmp` and renames it over `dst`. On a failed write `tmp` is removed.
pub fn replace<P: Arg + Copy, Q: Arg>(tmp: P, dst: Q, data: &[u8]) -> Result<(), ReplaceError> {
    let fd = open_trunc(tmp).map_err(ReplaceError::Open)?;
    let written = loop {
        match rustix::io::write(&fd, data) {
            Err(Errno::INTR) => continue,
            other => break other,
        }
    };
    drop(fd);
    match written {
        Ok(n) if n == data.len() => {}
        Ok(_) => {
            let _ = fs::unlink(tmp);
            return Err(ReplaceError::PartialWrite);
        }
        Err(e) => {
            let _ = fs::unlink(tmp);
            return Err(ReplaceError::Write(e));
        }
    }
    fs::rename(tmp, dst).map_err(ReplaceError::Rename)
}

/// Reads up to `buf.len()` bytes from the start of `path`, returning how many were read.
pub fn read_prefix<P: Arg>(path: P, buf: &mut [u8]) -> Result<usize, ReadError> {
    let fd = open_read(path).map_err(ReadError::Open)?;
    let mut got = 0;
    while got < buf.len() {
        match rustix::io::read(&fd, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(ReadError::Read(e)),
        }
    }
    Ok(got)
}

/// Everything left to read on `fd`, for files known to be small (account and config files);
/// a huge one costs memory, not correctness.
pub fn read_to_end<Fd: AsFd>(fd: Fd) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match rustix::io::read(&fd, &mut chunk) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Why `read_prefix` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    Open(Errno),
    Read(Errno),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_to_end_reads_past_its_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        std::fs::write(&path, &data).unwrap();
        assert_eq!(read_to_end(open_read(path.as_path()).unwrap()), Ok(data));
    }

    #[test]
    fn replace_is_atomic_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("stat.new");
        let dst = dir.path().join("stat");
        replace(tmp.as_path(), dst.as_path(), b"run\n").unwrap();
        assert!(!tmp.exists());
        let mut buf = [0u8; 16];
        assert_eq!(read_prefix(dst.as_path(), &mut buf), Ok(4));
        assert_eq!(&buf[..4], b"run\n");
    }

    #[test]
    fn replace_reports_where_it_failed() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("missing/stat.new");
        let r = replace(tmp.as_path(), dir.path().join("stat").as_path(), b"x");
        assert_eq!(r, Err(ReplaceError::Open(Errno::NOENT)));
    }

    #[test]
    fn write_open_of_fifo_without_reader_is_enxio() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("ok");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert_eq!(open_write(fifo.as_path()).err(), Some(Errno::NXIO));
        let _reader = open_read(fifo.as_path()).unwrap();
        assert!(open_write(fifo.as_path()).is_ok());
    }
}
