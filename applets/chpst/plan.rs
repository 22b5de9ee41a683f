//! The parsed command line, whatever the name chpst was called by: what to change before
//! the program runs. `apply` carries it out in runit's order.

use super::limits::Limits;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// A user/group SPEC and how to read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Account<'a> {
    pub spec: &'a OsStr,
    /// chpst's syntax (`user[:group…]`, `:uid:gid…`); otherwise a plain account name
    /// (setuidgid, envuidgid).
    pub extended: bool,
}

/// An environment directory to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnvDir<'a> {
    pub dir: &'a OsStr,
    /// envdir: a subdirectory is an error; `chpst -e` skips it.
    pub subdirs_fatal: bool,
}

/// A lock file to hold while the program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lock<'a> {
    pub path: &'a OsStr,
    /// Wait for the lock instead of failing at once.
    pub wait: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Plan<'a> {
    pub verbose: bool,
    pub setsid: bool,
    pub envdir: Option<EnvDir<'a>>,
    pub root: Option<&'a OsStr>,
    pub chdir: Option<&'a OsStr>,
    pub nice: i32,
    pub env_user: Option<Account<'a>>,
    pub set_user: Option<Account<'a>>,
    /// `-G`: the user's /etc/group memberships and HOME, USER, LOGNAME.
    pub login: bool,
    pub lock: Option<Lock<'a>>,
    /// Close fds 0, 1, 2.
    pub close: [bool; 3],
    pub limits: Limits,
    /// Replaces argv[0] of the program (`-b`).
    pub argv0: Option<&'a OsStr>,
    /// The program and its arguments (never empty).
    pub prog: &'a [OsString],
    /// setlock -x: a failed lock or exec exits 0 without a message.
    pub quiet: bool,
}

impl<'a> Plan<'a> {
    /// Runs `prog` and changes nothing.
    pub fn new(prog: &'a [OsString]) -> Self {
        Plan {
            verbose: false,
            setsid: false,
            envdir: None,
            root: None,
            chdir: None,
            nice: 0,
            env_user: None,
            set_user: None,
            login: false,
            lock: None,
            close: [false; 3],
            limits: Limits::default(),
            argv0: None,
            prog,
            quiet: false,
        }
    }
}

/// djb's `scan_ulong` made strict: digits only (none reads as 0, as in runit); a value too
/// large for 64 bits saturates instead of wrapping around.
pub fn number(arg: &OsStr) -> Option<u64> {
    let digits = arg.as_bytes();
    let (value, used) = svbox::scan::scan_ulong(digits);
    (used == digits.len()).then_some(value)
}

/// The `-n` increment: a number with an optional leading `+` or `-`, clamped to `i32`.
pub fn nice_increment(arg: &OsStr) -> Option<i32> {
    let bytes = arg.as_bytes();
    let (negative, rest) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let n = i64::try_from(number(OsStr::from_bytes(rest))?).unwrap_or(i64::MAX);
    let n = if negative { -n } else { n };
    Some(n.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Option<u64> {
        number(OsStr::new(s))
    }

    fn nice(s: &str) -> Option<i32> {
        nice_increment(OsStr::new(s))
    }

    #[test]
    fn numbers_are_digits_only() {
        assert_eq!(n("0"), Some(0));
        assert_eq!(n("1024"), Some(1024));
        assert_eq!(n(""), Some(0), "runit reads no digits as 0");
        assert_eq!(n("99999999999999999999999"), Some(u64::MAX));
        for bad in ["x", "1x", " 1", "+1", "-1", "1 ", "="] {
            assert_eq!(n(bad), None, "{bad}");
        }
        assert_eq!(number(OsStr::from_bytes(b"1\xff")), None);
    }

    #[test]
    fn nice_takes_a_sign() {
        assert_eq!(nice("5"), Some(5));
        assert_eq!(nice("+5"), Some(5));
        assert_eq!(nice("-5"), Some(-5));
        assert_eq!(nice("-"), Some(0));
        assert_eq!(nice(""), Some(0));
        assert_eq!(nice("99999999999"), Some(i32::MAX));
        assert_eq!(nice("-99999999999999999999999"), Some(i32::MIN));
        for bad in ["+-1", "--1", "1-", "x", "- 1"] {
            assert_eq!(nice(bad), None, "{bad}");
        }
    }
}
