//! A service's `supervise/` directory as clients (sv, svc, svok, svstat) reach it, the same
//! for runsv and daemontools' supervise: liveness by a write-open of the `ok` FIFO, commands
//! written to `control`, the status record taken with one read; and the way back to the
//! directory a client started in, since each service is entered with `chdir`.

use crate::fsio::{open_read, open_write, ReadError};
use rustix::fd::OwnedFd;
use rustix::io::Errno;

/// The liveness FIFO: opening it for writing fails with ENXIO unless a supervisor runs.
pub const OK: &str = "supervise/ok";
/// The command FIFO.
pub const CONTROL: &str = "supervise/control";
/// The binary status record (20 bytes from runsv, 18 from daemontools).
pub const STATUS: &str = "supervise/status";

/// Opens `supervise/ok` of the current directory for writing; `Err(NXIO)` means no
/// supervisor, other errors mean the directory is not usable.
pub fn open_ok() -> Result<OwnedFd, Errno> {
    open_write(OK)
}

/// Why `send` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// `supervise/control` could not be opened (NXIO: no supervisor).
    Open(Errno),
    /// The write failed; a short write is reported as AGAIN.
    Write(Errno),
}

/// Writes `bytes` to `supervise/control` of the current directory in one non-blocking
/// write: a FIFO write of at most PIPE_BUF bytes is atomic, so the supervisor sees them in
/// order, not interleaved with another client's, and a stuck supervisor cannot hang us.
pub fn send(bytes: &[u8]) -> Result<(), SendError> {
    let fd = open_write(CONTROL).map_err(SendError::Open)?;
    if bytes.is_empty() {
        return Ok(());
    }
    let written = loop {
        match rustix::io::write(&fd, bytes) {
            Err(Errno::INTR) => continue,
            other => break other,
        }
    };
    match written {
        Ok(n) if n == bytes.len() => Ok(()),
        Ok(_) => Err(SendError::Write(Errno::AGAIN)),
        Err(e) => Err(SendError::Write(e)),
    }
}

/// Reads the start of `supervise/status` into `buf` with a single read, as runit and
/// daemontools do (the file is replaced by rename, so one read sees one whole record).
pub fn read_status(buf: &mut [u8]) -> Result<usize, ReadError> {
    let fd = open_read(STATUS).map_err(ReadError::Open)?;
    loop {
        match rustix::io::read(&fd, &mut *buf) {
            Err(Errno::INTR) => continue,
            other => return other.map_err(ReadError::Read),
        }
    }
}

/// The directory a client started in, to return to after each service.
pub struct Origin(OwnedFd);

impl Origin {
    /// Opens the current directory.
    pub fn here() -> Result<Origin, Errno> {
        open_read(".").map(Origin)
    }

    /// Changes back to it.
    pub fn back(&self) -> Result<(), Errno> {
        rustix::process::fchdir(&self.0)
    }
}

// Tested through the applets (tests/daemontools.rs, tests/sv.rs): every function here works
// on the process-wide current directory, which unit tests running in threads must not change.

/// The suffixes sv and svstat print after the elapsed time, in their order (`, normally
/// down`, `, normally up`, `, paused`, `, want up`, `, want down`), each passed to `put`.
pub fn state_suffixes(
    up: bool,
    normally_up: bool,
    paused: bool,
    want: u8,
    mut put: impl FnMut(&[u8]),
) {
    if up && !normally_up {
        put(b", normally down");
    }
    if !up && normally_up {
        put(b", normally up");
    }
    if up && paused {
        put(b", paused");
    }
    if !up && want == b'u' {
        put(b", want up");
    }
    if up && want == b'd' {
        put(b", want down");
    }
}
