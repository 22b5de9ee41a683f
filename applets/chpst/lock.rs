//! The lock of `-l`/`-L` and setlock: an exclusive flock on a file opened for appending
//! (created 0600), kept open across exec so the program holds the lock until it exits.

use rustix::fs::{self, FlockOperation, Mode, OFlags};
use rustix::io::Errno;
use std::ffi::OsStr;

/// Which step failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    Open(Errno),
    Lock(Errno),
}

/// Opens and locks `path`, waiting for the lock if `wait`, else failing with EAGAIN.
pub fn take(path: &OsStr, wait: bool) -> Result<(), Failure> {
    // runit's open_append, without close-on-exec: the program inherits the lock.
    let fd = fs::open(
        path,
        OFlags::WRONLY | OFlags::NONBLOCK | OFlags::APPEND | OFlags::CREATE,
        Mode::from_raw_mode(0o600),
    )
    .map_err(Failure::Open)?;
    let op = if wait {
        FlockOperation::LockExclusive
    } else {
        FlockOperation::NonBlockingLockExclusive
    };
    loop {
        match fs::flock(&fd, op) {
            Ok(()) => break,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(Failure::Lock(e)),
        }
    }
    // Left open for good: the descriptor is the lock.
    std::mem::forget(fd);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_0600_and_a_second_lock_fails_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        assert_eq!(take(path.as_os_str(), false), Ok(()));
        // The umask may clear more, never add: no bits beyond 0600.
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o177, 0);
        // flock locks belong to the open file: another open of it conflicts, even here.
        assert_eq!(
            take(path.as_os_str(), false),
            Err(Failure::Lock(Errno::WOULDBLOCK))
        );
        let missing = dir.path().join("no/lock");
        assert_eq!(
            take(missing.as_os_str(), true),
            Err(Failure::Open(Errno::NOENT))
        );
    }
}
