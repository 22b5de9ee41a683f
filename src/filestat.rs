//! `stat`, `fstatat` and `fstat` through libc, with the few fields svbox reads.
//!
//! rustix's own `stat` on 32-bit libc targets (MIPS, PowerPC) looks `statx` up at run time
//! with `dlsym`, and a static musl `dlsym` drags in printf and soft-float code: about 21 KB of
//! a 32-bit MIPS binary for one lookup. libc's `fstatat` does the same job (it tries statx and
//! falls back to the old system calls on kernels before 4.11).

use nix::libc;
use rustix::io::Errno;
use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd};

/// What svbox needs of a `struct stat`, in the same width on every target.
#[derive(Clone, Copy, Debug)]
pub struct FileStat {
    pub mode: u32,
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    /// Modification time: seconds and nanoseconds since the epoch.
    pub mtime: (i64, i64),
}

impl FileStat {
    pub fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }

    pub fn is_file(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFREG
    }

    pub fn is_fifo(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFIFO
    }

    pub fn is_symlink(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFLNK
    }

    /// True if the owner may execute it (runit's test for control files and hooks).
    pub fn owner_executable(&self) -> bool {
        self.mode & 0o100 != 0
    }
}

/// `stat(path)`: follows symbolic links.
pub fn stat(path: &CStr) -> Result<FileStat, Errno> {
    at(libc::AT_FDCWD, path, 0)
}

/// `lstat(path)`: a symbolic link itself.
pub fn lstat(path: &CStr) -> Result<FileStat, Errno> {
    at(libc::AT_FDCWD, path, libc::AT_SYMLINK_NOFOLLOW)
}

/// `fstatat(dir, path, 0)`: follows symbolic links.
pub fn stat_at(dir: BorrowedFd<'_>, path: &CStr) -> Result<FileStat, Errno> {
    at(dir.as_raw_fd(), path, 0)
}

/// `fstatat(dir, path, AT_SYMLINK_NOFOLLOW)`: a symbolic link itself.
pub fn lstat_at(dir: BorrowedFd<'_>, path: &CStr) -> Result<FileStat, Errno> {
    at(dir.as_raw_fd(), path, libc::AT_SYMLINK_NOFOLLOW)
}

/// `fstat(fd)`.
pub fn fstat(fd: BorrowedFd<'_>) -> Result<FileStat, Errno> {
    at(fd.as_raw_fd(), c"", libc::AT_EMPTY_PATH)
}

fn at(dir: libc::c_int, path: &CStr, flags: libc::c_int) -> Result<FileStat, Errno> {
    // SAFETY: all-zero bytes are a valid `struct stat` (plain integers).
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated and `st` is a writable `struct stat`.
    if unsafe { libc::fstatat(dir, path.as_ptr(), &mut st, flags) } != 0 {
        return Err(Errno::from_raw_os_error(nix::errno::Errno::last_raw()));
    }
    Ok(widen(&st))
}

// The field types differ between targets (st_dev is 32 bits on MIPS, time_t is 32 bits in
// libc's view of 32-bit musl), so some of these casts do nothing on x86_64.
#[allow(clippy::unnecessary_cast)]
fn widen(st: &libc::stat) -> FileStat {
    FileStat {
        mode: st.st_mode as u32,
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
        size: st.st_size as u64,
        mtime: (st.st_mtime as i64, st.st_mtime_nsec as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn stat_sees_a_directory_and_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"12345").unwrap();
        let c =
            |p: &std::path::Path| std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        let d = stat(&c(dir.path())).unwrap();
        assert!(d.is_dir() && !d.is_file());
        let f = stat(&c(&file)).unwrap();
        assert!(f.is_file() && f.size == 5 && !f.owner_executable());
        let open = std::fs::File::open(&file).unwrap();
        let by_fd = fstat(open.as_fd()).unwrap();
        assert_eq!((by_fd.dev, by_fd.ino), (f.dev, f.ino));
    }

    #[test]
    fn lstat_at_does_not_follow_and_errors_carry_the_errno() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("missing", dir.path().join("l")).unwrap();
        let fd = std::fs::File::open(dir.path()).unwrap();
        let l = lstat_at(fd.as_fd(), c"l").unwrap();
        assert!(l.is_symlink());
        let by_path = lstat(
            &std::ffi::CString::new(dir.path().join("l").into_os_string().into_encoded_bytes())
                .unwrap(),
        )
        .unwrap();
        assert!(by_path.is_symlink() && !by_path.is_file());
        assert_eq!(stat_at(fd.as_fd(), c"l").unwrap_err(), Errno::NOENT);
        assert_eq!(stat(c"/nonexistent/x").unwrap_err(), Errno::NOENT);
    }
}
