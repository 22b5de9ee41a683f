//! System calls made directly where libc's wrapper brings machinery that svbox never needs.
//!
//! musl's setuid, setgid, setgroups and setrlimit stop every thread to apply the change to
//! each (`__synccall`, with semaphores and timed waits: 2.5 KB of a MIPS binary); its ioctl
//! converts time64 structures (1 KB); its sysconf carries a table of every parameter (1 KB).
//! svbox is single-threaded, so the calling thread's ids are the process's; prlimit is
//! process-wide by definition; the ioctls used here pass an int.

use nix::libc;

fn result(r: libc::c_long) -> Result<(), i32> {
    if r < 0 {
        Err(nix::errno::Errno::last_raw())
    } else {
        Ok(())
    }
}

// ARM (and i386) kept 16-bit-id calls under the old numbers; the 32-bit ones are the "32"s.
#[cfg(not(any(target_arch = "arm", target_arch = "x86")))]
use libc::{SYS_setgid as SYS_SETGID, SYS_setgroups as SYS_SETGROUPS, SYS_setuid as SYS_SETUID};
#[cfg(any(target_arch = "arm", target_arch = "x86"))]
use libc::{
    SYS_setgid32 as SYS_SETGID, SYS_setgroups32 as SYS_SETGROUPS, SYS_setuid32 as SYS_SETUID,
};

/// setgroups(2): the supplementary groups. `Err(errno)`.
pub fn set_groups(gids: &[libc::gid_t]) -> Result<(), i32> {
    // SAFETY: the pointer and length describe the live slice.
    result(unsafe { libc::syscall(SYS_SETGROUPS, gids.len() as libc::c_long, gids.as_ptr()) })
}

/// setgid(2). `Err(errno)`.
pub fn set_gid(gid: libc::gid_t) -> Result<(), i32> {
    // SAFETY: plain integer argument.
    result(unsafe { libc::syscall(SYS_SETGID, gid as libc::c_long) })
}

/// setuid(2). `Err(errno)`.
pub fn set_uid(uid: libc::uid_t) -> Result<(), i32> {
    // SAFETY: plain integer argument.
    result(unsafe { libc::syscall(SYS_SETUID, uid as libc::c_long) })
}

/// The (soft, hard) limit of `resource` (a `RLIMIT_*`). `Err(errno)`.
pub fn get_limit(resource: libc::c_int) -> Result<(libc::rlim_t, libc::rlim_t), i32> {
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `old` is a valid rlimit to fill; no new limit is passed.
    let r = unsafe { libc::prlimit(0, resource as _, std::ptr::null(), &mut old) };
    result(r as libc::c_long).map(|()| (old.rlim_cur, old.rlim_max))
}

/// Sets `resource`'s soft and hard limit. `Err(errno)`.
pub fn set_limit(resource: libc::c_int, soft: libc::rlim_t, hard: libc::rlim_t) -> Result<(), i32> {
    let new = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: `new` is a valid rlimit; the old one is not asked for.
    let r = unsafe { libc::prlimit(0, resource as _, &new, std::ptr::null_mut()) };
    result(r as libc::c_long)
}

/// ioctl(2) with an int argument (TIOCSCTTY's "steal" flag). `Err(errno)`.
pub fn ioctl_int(fd: libc::c_int, request: libc::c_long, arg: libc::c_int) -> Result<(), i32> {
    // Every variadic argument is passed as a long: that is what the kernel's entry reads.
    let (fd, arg) = (libc::c_long::from(fd), libc::c_long::from(arg));
    // SAFETY: the requests used with this take an int by value.
    result(unsafe { libc::syscall(libc::SYS_ioctl, fd, request, arg) })
}

/// The number of bytes waiting to be read on `fd` (FIONREAD). `Err(errno)`.
pub fn bytes_readable(fd: libc::c_int) -> Result<usize, i32> {
    let mut n: libc::c_int = 0;
    let (fd, request) = (libc::c_long::from(fd), libc::FIONREAD as libc::c_long);
    // SAFETY: FIONREAD writes one int to the pointer given.
    result(unsafe { libc::syscall(libc::SYS_ioctl, fd, request, &mut n as *mut libc::c_int) })
        .map(|()| usize::try_from(n).unwrap_or(0))
}

/// The kernel's page size, from the auxiliary vector (4096 if it is missing).
pub fn page_size() -> usize {
    // SAFETY: getauxval only reads the vector the kernel passed.
    match unsafe { libc::getauxval(libc::AT_PAGESZ) } {
        0 => 4096,
        n => n as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_back_what_was_set() {
        // Its type is the C library's (an unsigned enum on glibc).
        const NOFILE: libc::c_int = libc::RLIMIT_NOFILE as libc::c_int;
        let (soft, hard) = get_limit(NOFILE).unwrap();
        let lower = soft.min(hard).min(512);
        set_limit(NOFILE, lower, hard).unwrap();
        assert_eq!(get_limit(NOFILE).unwrap(), (lower, hard));
        set_limit(NOFILE, soft, hard).unwrap();
        assert_eq!(set_limit(NOFILE, 2, 1), Err(libc::EINVAL));
    }

    #[test]
    fn readable_bytes_of_a_pipe() {
        let (r, w) = rustix::pipe::pipe().unwrap();
        rustix::io::write(&w, b"hello").unwrap();
        use std::os::fd::AsRawFd;
        assert_eq!(bytes_readable(r.as_raw_fd()), Ok(5));
        assert_eq!(bytes_readable(-1), Err(libc::EBADF));
    }

    #[test]
    fn page_size_is_a_power_of_two() {
        assert!(page_size().is_power_of_two() && page_size() >= 4096);
    }

    #[test]
    fn setting_ids_to_the_current_ones_succeeds() {
        // Always allowed, root or not: the ids stay what they are.
        // SAFETY: getuid/getgid cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        set_gid(gid).unwrap();
        set_uid(uid).unwrap();
        if uid != 0 {
            assert_eq!(set_groups(&[gid]), Err(libc::EPERM));
        }
    }
}
