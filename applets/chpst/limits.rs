//! Resource limits (`-m -d -o -p -f -c -r -t`, softlimit's options): only soft limits
//! change, never above the hard limit; softlimit's `=` means "as high as the hard limit".

use super::report;
use nix::libc::rlim_t;
use nix::sys::resource::Resource;

/// A requested soft limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Value(u64),
    /// softlimit's `=`.
    Hard,
}

/// The limits runit knows, in the order it sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Data,
    Stack,
    Memlock,
    As,
    Nofile,
    Nproc,
    Fsize,
    Core,
    Rss,
    Cpu,
}

/// Each limit with its resource and its option letter (the same in chpst and softlimit).
const ORDER: [(Which, Resource, u8); 10] = [
    (Which::Data, Resource::RLIMIT_DATA, b'd'),
    (Which::Stack, Resource::RLIMIT_STACK, b's'),
    (Which::Memlock, Resource::RLIMIT_MEMLOCK, b'l'),
    (Which::As, Resource::RLIMIT_AS, b'a'),
    (Which::Nofile, Resource::RLIMIT_NOFILE, b'o'),
    (Which::Nproc, Resource::RLIMIT_NPROC, b'p'),
    (Which::Fsize, Resource::RLIMIT_FSIZE, b'f'),
    (Which::Core, Resource::RLIMIT_CORE, b'c'),
    (Which::Rss, Resource::RLIMIT_RSS, b'r'),
    (Which::Cpu, Resource::RLIMIT_CPU, b't'),
];

/// The requested limits; later requests for the same limit replace earlier ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    wanted: [Option<Limit>; 10],
}

impl Limits {
    pub fn set(&mut self, which: Which, limit: Limit) {
        self.wanted[which as usize] = Some(limit);
    }

    /// `-m`: data, stack, locked memory and address space.
    pub fn set_memory(&mut self, limit: Limit) {
        for w in [Which::Data, Which::Stack, Which::Memlock, Which::As] {
            self.set(w, limit);
        }
    }

    /// The option `-LETTER`: `m` for memory or the letter of one limit.
    pub fn set_option(&mut self, letter: u8, limit: Limit) {
        if letter == b'm' {
            self.set_memory(limit);
        }
        for (which, _, l) in ORDER {
            if l == letter {
                self.set(which, limit);
            }
        }
    }

    pub fn get(&self, which: Which) -> Option<Limit> {
        self.wanted[which as usize]
    }

    /// Sets every requested soft limit; `Err(exit code)` after the message on failure.
    pub fn apply(&self) -> Result<(), i32> {
        for (which, resource, _) in ORDER {
            let Some(limit) = self.get(which) else {
                continue;
            };
            let resource = resource as nix::libc::c_int;
            let (_, hard) = svbox::syscall::get_limit(resource)
                .map_err(|e| report::fatal_err(&[b"unable to getrlimit()"], e))?;
            svbox::syscall::set_limit(resource, soft(limit, hard), hard)
                .map_err(|e| report::fatal_err(&[b"unable to setrlimit()"], e))?;
        }
        Ok(())
    }
}

/// The soft limit to set for `limit` under the hard limit `hard`.
fn soft(limit: Limit, hard: rlim_t) -> rlim_t {
    match limit {
        Limit::Value(v) if u128::from(v) <= u128::from(hard) => v as rlim_t,
        _ => hard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_limits_never_exceed_the_hard_limit() {
        assert_eq!(soft(Limit::Value(10), 100), 10);
        assert_eq!(soft(Limit::Value(100), 100), 100);
        assert_eq!(soft(Limit::Value(101), 100), 100);
        assert_eq!(soft(Limit::Hard, 100), 100);
        assert_eq!(soft(Limit::Value(u64::MAX), rlim_t::MAX), rlim_t::MAX);
    }

    #[test]
    fn memory_sets_four_limits_and_later_requests_win() {
        let mut l = Limits::default();
        l.set_memory(Limit::Value(5));
        l.set(Which::Data, Limit::Hard);
        assert_eq!(l.get(Which::Data), Some(Limit::Hard));
        assert_eq!(l.get(Which::Stack), Some(Limit::Value(5)));
        assert_eq!(l.get(Which::Memlock), Some(Limit::Value(5)));
        assert_eq!(l.get(Which::As), Some(Limit::Value(5)));
        assert_eq!(l.get(Which::Nofile), None);
    }
}
