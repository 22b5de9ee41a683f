//! chpst's diagnostics: `chpst: fatal: …` / `chpst: warning: …` whatever the name it was
//! called by, usage lines under the name with one leading `d` dropped, and the exit codes
//! (111 fatal, 100 usage).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use svbox::msg::{basename, Line};

pub const FATAL: i32 = 111;
pub const USAGE: i32 = 100;

/// The name chpst goes by: the basename of argv[0] without one leading `d` (so `dsetlock`
/// is `setlock`).
pub fn progname(args: &[OsString]) -> &OsStr {
    let base = args
        .first()
        .map(|a| basename(a).as_bytes())
        .unwrap_or(b"chpst");
    OsStr::from_bytes(base.strip_prefix(b"d").unwrap_or(base))
}

/// argv[0] as given, for getopt's messages (which name the basename without dropping `d`).
pub fn argv0(args: &[OsString]) -> &OsStr {
    args.first().map_or(OsStr::new("chpst"), |a| a.as_os_str())
}

/// `chpst: fatal: PARTS…`; returns the exit code.
pub fn fatal(parts: &[&[u8]]) -> i32 {
    let mut line = Line::new();
    line.s("chpst: fatal: ");
    for p in parts {
        line.b(p);
    }
    line.to_stderr();
    FATAL
}

/// `chpst: fatal: PARTS…: ERR`; returns the exit code.
pub fn fatal_err(parts: &[&[u8]], errno: i32) -> i32 {
    let mut line = Line::new();
    line.s("chpst: fatal: ");
    for p in parts {
        line.b(p);
    }
    line.err(errno).to_stderr();
    FATAL
}

/// `chpst: warning: PARTS…: ERR`.
pub fn warn_err(parts: &[&[u8]], errno: i32) {
    let mut line = Line::new();
    line.s("chpst: warning: ");
    for p in parts {
        line.b(p);
    }
    line.err(errno).to_stderr();
}

/// Prints `usage: NAME TEXT` and the empty line; returns the exit code.
pub fn usage(name: &OsStr, text: &str) -> i32 {
    svbox::msg::usage(name, text);
    USAGE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(argv0: &str) -> String {
        progname(&[OsString::from(argv0)])
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn one_leading_d_is_dropped_from_the_basename() {
        assert_eq!(name("/usr/bin/dsetlock"), "setlock");
        assert_eq!(name("chpst"), "chpst");
        assert_eq!(name("ddenvdir"), "denvdir");
        assert_eq!(name("/x/d/chpst"), "chpst");
        assert_eq!(progname(&[]), "chpst");
    }
}
