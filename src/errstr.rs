//! djb's error strings: the text runit prints for an errno (`file does not exist`, not libc's
//! `No such file or directory`). Scripts and tests match these strings, so they are part of
//! the interface.

use nix::libc;

/// The runit text for `errno`; `unknown error` for anything outside djb's table.
pub fn errstr(errno: i32) -> &'static str {
    let index = ERRNOS
        .iter()
        .position(|&e| i32::from(e) == errno)
        .unwrap_or(ERRNOS.len());
    // Skip `index` texts; each ends with a NUL.
    let mut rest = TEXTS.as_bytes();
    for _ in 0..index {
        if let Some(end) = rest.iter().position(|&b| b == 0) {
            rest = &rest[end + 1..];
        }
    }
    let len = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    // SAFETY: TEXTS is ASCII, so any byte range of it is UTF-8.
    unsafe { std::str::from_utf8_unchecked(&rest[..len]) }
}

/// Builds the two halves of the table from one list, so that they cannot drift apart: the
/// errno values (i16: MIPS numbers reach 1133) and their texts, NUL-separated, in one string
/// (a table of `&str` would cost 16 bytes a text on 64-bit targets).
macro_rules! table {
    ($($errno:expr => $text:literal,)*) => {
        const ERRNOS: &[i16] = &[$($errno as i16,)*];
        const TEXTS: &str = concat!($($text, "\0",)* "unknown error\0");
    };
}

// Constants come from libc so that targets with other numbers (MIPS) map correctly.
table! {
    0 => "no error",
    libc::EINTR => "interrupted system call",
    libc::ENOMEM => "out of memory",
    libc::ENOENT => "file does not exist",
    libc::ETXTBSY => "text busy",
    libc::EIO => "input/output error",
    libc::EEXIST => "file already exists",
    libc::ETIMEDOUT => "timed out",
    libc::EINPROGRESS => "operation in progress",
    libc::EAGAIN => "temporary failure",
    libc::ENOSPC => "out of disk space",
    libc::EDQUOT => "disk quota exceeded",
    libc::EPIPE => "broken pipe",
    libc::EACCES => "access denied",
    libc::EPERM => "permission denied",
    libc::ENXIO => "device not configured",
    libc::EISDIR => "is a directory",
    libc::ENOTDIR => "not a directory",
    libc::ENOEXEC => "exec format error",
    libc::E2BIG => "argument list too long",
    libc::EBADF => "file descriptor not open",
    libc::ECHILD => "no child processes",
    libc::EDEADLK => "deadlock",
    libc::EFAULT => "bad address",
    libc::ENOTBLK => "not a block device",
    libc::EBUSY => "device busy",
    libc::EXDEV => "cross-device link",
    libc::ENODEV => "device does not support operation",
    libc::EINVAL => "invalid argument",
    libc::ENFILE => "system cannot open more files",
    libc::EMFILE => "process cannot open more files",
    libc::ENOTTY => "not a tty",
    libc::EFBIG => "file too big",
    libc::ESPIPE => "unseekable descriptor",
    libc::EROFS => "read-only file system",
    libc::EMLINK => "too many links",
    libc::EDOM => "input out of range",
    libc::ERANGE => "output out of range",
    libc::EALREADY => "operation already in progress",
    libc::ENOTSOCK => "not a socket",
    libc::EDESTADDRREQ => "destination address required",
    libc::EMSGSIZE => "message too long",
    libc::EPROTOTYPE => "incorrect protocol type",
    libc::ENOPROTOOPT => "protocol not available",
    libc::EPROTONOSUPPORT => "protocol not supported",
    libc::ESOCKTNOSUPPORT => "socket type not supported",
    libc::EOPNOTSUPP => "operation not supported",
    libc::EPFNOSUPPORT => "protocol family not supported",
    libc::EAFNOSUPPORT => "address family not supported",
    libc::EADDRINUSE => "address already used",
    libc::EADDRNOTAVAIL => "address not available",
    libc::ENETDOWN => "network down",
    libc::ENETUNREACH => "network unreachable",
    libc::ENETRESET => "network reset",
    libc::ECONNABORTED => "connection aborted",
    libc::ECONNRESET => "connection reset",
    libc::ENOBUFS => "out of buffer space",
    libc::EISCONN => "already connected",
    libc::ENOTCONN => "not connected",
    libc::ESHUTDOWN => "socket shut down",
    libc::ETOOMANYREFS => "too many references",
    libc::ECONNREFUSED => "connection refused",
    libc::ELOOP => "symbolic link loop",
    libc::ENAMETOOLONG => "file name too long",
    libc::EHOSTDOWN => "host down",
    libc::EHOSTUNREACH => "host unreachable",
    libc::ENOTEMPTY => "directory not empty",
    libc::EUSERS => "too many users",
    libc::ESTALE => "stale NFS file handle",
    libc::EREMOTE => "too many levels of remote in path",
    libc::ENOLCK => "no locks available",
    libc::ENOSYS => "system call not available",
    libc::EIDRM => "identifier removed",
    libc::ENOMSG => "no message of desired type",
    libc::ENOSTR => "not a stream device",
    libc::ETIME => "timer expired",
    libc::ENOSR => "out of stream resources",
    libc::ENOLINK => "link severed",
    libc::EPROTO => "protocol error",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn djb_strings_not_libc() {
        assert_eq!(errstr(libc::ENOENT), "file does not exist");
        assert_eq!(errstr(libc::EACCES), "access denied");
        assert_eq!(errstr(libc::EAGAIN), "temporary failure");
        assert_eq!(errstr(libc::ENXIO), "device not configured");
        assert_eq!(errstr(libc::ENOTDIR), "not a directory");
        assert_eq!(errstr(0), "no error");
        assert_eq!(errstr(9999), "unknown error");
        assert_eq!(errstr(-1), "unknown error");
    }

    #[test]
    fn every_entry_maps_to_its_own_text() {
        assert_eq!(errstr(libc::EINTR), "interrupted system call");
        assert_eq!(errstr(libc::EWOULDBLOCK), "temporary failure");
        assert_eq!(errstr(libc::EDQUOT), "disk quota exceeded");
        assert_eq!(errstr(libc::EPROTO), "protocol error");
        assert_eq!(TEXTS.split('\0').count(), ERRNOS.len() + 2);
    }
}
