//! One utmp/wtmp record in glibc's `struct utmp` layout for this target, as bytes.
//!
//! The files are written by glibc programs (login, getty, sshd), so glibc's layout is the
//! one to read and write, also from a musl build (whose `struct utmpx` differs and whose
//! utmp functions do nothing). On glibc targets the offsets come from libc's `utmpx`; on
//! others they are glibc's layout with 32-bit `ut_session` and `ut_tv`, which every glibc
//! port with a 32-bit ABI uses. Integers are in the target's byte order, as glibc writes them.

pub const LINE_LEN: usize = 32;
const USER_LEN: usize = 32;
const HOST_LEN: usize = 256;
/// `ut_type` of a record whose session ended.
const DEAD_PROCESS: i16 = 8;
/// Room for the largest layout (400 bytes: 64-bit `ut_session`/`ut_tv`).
const MAX: usize = 512;

#[cfg(target_env = "gnu")]
mod layout {
    use nix::libc::utmpx;
    use std::mem::{offset_of, size_of};
    pub const SIZE: usize = size_of::<utmpx>();
    pub const TYPE: usize = offset_of!(utmpx, ut_type);
    pub const LINE: usize = offset_of!(utmpx, ut_line);
    pub const USER: usize = offset_of!(utmpx, ut_user);
    pub const HOST: usize = offset_of!(utmpx, ut_host);
    /// `ut_tv.tv_sec` is the first member of `ut_tv`.
    pub const TV_SEC: usize = offset_of!(utmpx, ut_tv);
    pub fn tv_sec_len() -> usize {
        // SAFETY: utmpx is plain integers and arrays; all-zero is a valid value.
        let u: utmpx = unsafe { std::mem::zeroed() };
        std::mem::size_of_val(&u.ut_tv.tv_sec)
    }
}

#[cfg(not(target_env = "gnu"))]
mod layout {
    pub const SIZE: usize = 384;
    pub const TYPE: usize = 0;
    pub const LINE: usize = 8;
    pub const USER: usize = 44;
    pub const HOST: usize = 76;
    pub const TV_SEC: usize = 340;
    pub fn tv_sec_len() -> usize {
        4
    }
}

pub use layout::SIZE;

/// A record's bytes.
pub struct Record {
    bytes: [u8; MAX],
}

impl Record {
    /// All zero.
    pub fn zeroed() -> Record {
        Record { bytes: [0; MAX] }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..SIZE]
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[..SIZE]
    }

    /// `ut_line` up to its first NUL (all 32 bytes when it has none).
    pub fn line(&self) -> &[u8] {
        cstr(&self.bytes[layout::LINE..layout::LINE + LINE_LEN])
    }

    /// Whether `ut_user` is not empty (the line is logged in).
    pub fn has_user(&self) -> bool {
        self.bytes[layout::USER] != 0
    }

    /// Copies `line` (at most 32 bytes) into `ut_line`.
    pub fn set_line(&mut self, line: &[u8]) {
        let n = line.len().min(LINE_LEN);
        self.bytes[layout::LINE..layout::LINE + n].copy_from_slice(&line[..n]);
    }

    /// Marks the record's session ended at `now`: no user, no host, DEAD_PROCESS.
    pub fn log_out(&mut self, now: i64) {
        self.bytes[layout::USER..layout::USER + USER_LEN].fill(0);
        self.bytes[layout::HOST..layout::HOST + HOST_LEN].fill(0);
        self.set_dead(now);
    }

    /// Sets `ut_type` to DEAD_PROCESS and `ut_tv.tv_sec` to `now` (truncated to 32 bits
    /// where glibc's field has them, as glibc does).
    pub fn set_dead(&mut self, now: i64) {
        self.bytes[layout::TYPE..layout::TYPE + 2].copy_from_slice(&DEAD_PROCESS.to_ne_bytes());
        let at = layout::TV_SEC;
        if layout::tv_sec_len() == 8 {
            self.bytes[at..at + 8].copy_from_slice(&now.to_ne_bytes());
        } else {
            self.bytes[at..at + 4].copy_from_slice(&(now as i32).to_ne_bytes());
        }
    }
}

fn cstr(field: &[u8]) -> &[u8] {
    match memchr::memchr(0, field) {
        Some(n) => &field[..n],
        None => field,
    }
}

#[cfg(all(test, target_env = "gnu"))]
mod tests {
    use super::*;
    use nix::libc::utmpx;

    fn as_utmpx(r: &Record) -> utmpx {
        assert_eq!(SIZE, std::mem::size_of::<utmpx>());
        // SAFETY: SIZE bytes of plain data read into a plain-data struct.
        unsafe { std::ptr::read_unaligned(r.bytes().as_ptr().cast::<utmpx>()) }
    }

    #[test]
    fn fields_land_where_libc_has_them() {
        let mut r = Record::zeroed();
        r.bytes_mut()[layout::USER] = b'u';
        r.bytes_mut()[layout::HOST] = b'h';
        r.set_line(b"tty5");
        assert!(r.has_user());
        assert_eq!(r.line(), b"tty5");
        let u = as_utmpx(&r);
        assert_eq!(
            u.ut_line[..5],
            [b't' as _, b't' as _, b'y' as _, b'5' as _, 0]
        );
        assert_eq!(u.ut_user[0], b'u' as _);
        r.log_out(1_700_000_000);
        let u = as_utmpx(&r);
        assert_eq!(u.ut_type, nix::libc::DEAD_PROCESS);
        assert_eq!(u.ut_tv.tv_sec as i64, 1_700_000_000);
        assert_eq!((u.ut_user[0], u.ut_host[0]), (0, 0));
        assert!(!r.has_user());
    }

    #[test]
    fn a_full_line_has_no_nul() {
        let mut r = Record::zeroed();
        r.set_line(&[b'x'; 40]);
        assert_eq!(r.line(), &[b'x'; 32][..]);
    }
}
