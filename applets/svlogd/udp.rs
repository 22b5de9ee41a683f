//! The UDP copies of `u`/`U` (§5.5): one socket per directory and a hand-built
//! `sockaddr_in` (std::net would bring in libc's resolver for nothing).

use super::config::UdpAddr;
use nix::libc;
use rustix::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A new unbound IPv4 datagram socket.
pub fn socket() -> Option<OwnedFd> {
    // SAFETY: a plain system call.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    // SAFETY: a non-negative result is a new descriptor that nothing else owns.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends `data` as one datagram to `to`; true if all of it went.
pub fn send(sock: &OwnedFd, data: &[u8], to: UdpAddr) -> bool {
    // SAFETY: sockaddr_in is plain integers; all-zero is a valid value.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = to.port.to_be();
    // The octets in memory order are network byte order on every target.
    sa.sin_addr.s_addr = u32::from_ne_bytes(to.ip);
    // SAFETY: data and sa are valid for the lengths passed.
    let n = unsafe {
        libc::sendto(
            sock.as_raw_fd(),
            data.as_ptr().cast(),
            data.len(),
            libc::MSG_NOSIGNAL,
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    usize::try_from(n).is_ok_and(|n| n == data.len())
}
