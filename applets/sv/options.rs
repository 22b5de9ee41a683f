//! The command line and environment of sv (§4.1, §4.3): options, `SVDIR`/`SVWAIT`, the
//! default services directory, and what a command word means (bytes to send, whether to
//! wait, whether a timeout kills).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use svbox::getopt::Getopt;
use svbox::msg::{basename, usage, Line};
use svbox::scan::scan_ulong;

pub const USAGE: &str = " [-v] [-w sec] command service ...";
pub const USAGE_LSB: &str = " [-w sec] command";
pub const VERSION: &str = "$Id: 900314260c6d52c986c5357673bea2f3bd3f4698 $";

/// Where sv looks for bare service names without `SVDIR`: busybox/Void, Debian, upstream.
const DEFAULT_DIRS: [&std::ffi::CStr; 3] = [c"/var/service", c"/etc/service", c"/service"];

/// What the first pass does for each service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// Send the command bytes to `supervise/control` (unless the skip rule applies).
    Control,
    /// Print the status line(s).
    Status,
    /// Nothing; only the wait phase runs (`check`).
    Nothing,
}

/// A command word, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub act: Act,
    /// The control bytes; also the predicates checked while waiting (`C` = `check`).
    pub bytes: &'static [u8],
    pub wait: bool,
    /// A timeout prints `kill:` and sends `k`.
    pub kill: bool,
}

/// Everything sv needs from its arguments and environment.
pub struct Invocation<'a> {
    /// Program name (basename of argv[0]); in LSB mode also the service name.
    pub progname: &'a OsStr,
    pub lsb: bool,
    pub svdir: OsString,
    pub wait_secs: u64,
    pub verbose: bool,
    pub command: &'a [u8],
    pub services: Vec<&'a [u8]>,
}

impl Invocation<'_> {
    /// The usage exit code for this mode, after printing the usage message.
    pub fn usage(&self) -> i32 {
        print_usage(self.progname, self.lsb)
    }
}

fn print_usage(progname: &OsStr, lsb: bool) -> i32 {
    let (text, code) = if lsb { (USAGE_LSB, 2) } else { (USAGE, 100) };
    usage(progname, text);
    code
}

/// The services directory when `SVDIR` is unset: the first of `DEFAULT_DIRS` that is a
/// directory, else the first.
fn default_svdir() -> OsString {
    let dir = DEFAULT_DIRS
        .into_iter()
        .find(|dir| svbox::filestat::stat(dir).is_ok_and(|s| s.is_dir()))
        .unwrap_or(DEFAULT_DIRS[0]);
    OsString::from_vec(dir.to_bytes().to_vec())
}

/// Parses argv and the environment; `Err(code)` after printing usage or getopt errors.
#[inline(never)]
pub fn parse(args: &[OsString]) -> Result<Invocation<'_>, i32> {
    let argv0 = args
        .first()
        .map(OsString::as_os_str)
        .unwrap_or(OsStr::new("sv"));
    let progname = basename(argv0);
    let lsb = progname.as_bytes() != b"sv";
    let svdir = svbox::env::var(c"SVDIR").unwrap_or_else(default_svdir);
    let mut wait_secs = 7;
    if let Some(w) = svbox::env::var(c"SVWAIT") {
        wait_secs = scan_ulong(w.as_bytes()).0;
    }
    let mut verbose = false;
    let mut getopt = Getopt::new(args, "w:vV");
    for opt in getopt.by_ref() {
        match opt {
            Ok((b'w', value)) => {
                wait_secs = scan_ulong(value.map(OsStr::as_bytes).unwrap_or(b"")).0;
                verbose = true;
            }
            Ok((b'v', _)) => verbose = true,
            Ok(_) => {
                // -V: the version line, then usage (runit's fall-through).
                Line::new().s(VERSION).to_stderr();
                return Err(print_usage(progname, lsb));
            }
            Err(e) => {
                e.print(argv0);
                return Err(print_usage(progname, lsb));
            }
        }
    }
    let operands = getopt.operands();
    let services: Vec<&[u8]> = if lsb {
        vec![progname.as_bytes()]
    } else {
        operands.iter().skip(1).map(|s| s.as_bytes()).collect()
    };
    let (Some(command), false) = (operands.first(), services.is_empty()) else {
        return Err(print_usage(progname, lsb));
    };
    Ok(Invocation {
        progname,
        lsb,
        svdir,
        wait_secs,
        verbose,
        command: command.as_bytes(),
        services,
    })
}

/// Whole command words (§4.3): the bytes they send, and whether a timeout kills.
const WORDS: [(&[u8], &[u8], bool); 11] = [
    (b"check", b"C", false),
    (b"force-reload", b"tc", true),
    (b"force-restart", b"tcu", true),
    (b"force-shutdown", b"x", true),
    (b"force-stop", b"d", true),
    (b"reload", b"h", false),
    (b"restart", b"tcu", false),
    (b"shutdown", b"x", false),
    (b"start", b"u", false),
    (b"stop", b"d", false),
    (b"try-restart", b"tc", false),
];

/// Capital first letters: wait, and kill on timeout.
const CAPITALS: [(u8, &[u8]); 4] = [(b'X', b"x"), (b'E', b"x"), (b'D', b"d"), (b'T', b"tc")];

/// First letters sent as they are, waiting only with `-v`/`-w`.
const LETTERS: &[u8] = b"tcudophaikq12";

/// Decodes a command word (§4.3); `None` means usage.
pub fn action(command: &[u8], lsb: bool, verbose: bool) -> Option<Action> {
    let first = *command.first()?;
    let (bytes, wait, kill): (&'static [u8], bool, bool) =
        if let Some(&(_, bytes, kill)) = WORDS.iter().find(|w| w.0 == command) {
            (bytes, true, kill)
        } else if let Some(&(_, bytes)) = CAPITALS.iter().find(|c| c.0 == first) {
            (bytes, true, true)
        } else if first == b'x' || first == b'e' {
            (b"x", verbose, false)
        } else if first == b's' && (!lsb || command == b"status") {
            (b"s", false, false)
        } else {
            let i = LETTERS.iter().position(|&c| c == first)?;
            (&LETTERS[i..=i], verbose, false)
        };
    let act = match bytes {
        b"C" => Act::Nothing,
        b"s" => Act::Status,
        _ => Act::Control,
    };
    Some(Action {
        act,
        bytes,
        wait,
        kill,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(cmd: &str, verbose: bool) -> Option<(Vec<u8>, bool, bool)> {
        action(cmd.as_bytes(), false, verbose).map(|a| (a.bytes.to_vec(), a.wait, a.kill))
    }

    #[test]
    fn first_letter_and_exact_words() {
        assert_eq!(bytes("up", false), Some((b"u".to_vec(), false, false)));
        assert_eq!(bytes("upxyz", true), Some((b"u".to_vec(), true, false)));
        assert_eq!(bytes("start", false), Some((b"u".to_vec(), true, false)));
        assert_eq!(bytes("stop", false), Some((b"d".to_vec(), true, false)));
        assert_eq!(bytes("shutdown", false), Some((b"x".to_vec(), true, false)));
        assert_eq!(bytes("exit", false), Some((b"x".to_vec(), false, false)));
        assert_eq!(bytes("e", true), Some((b"x".to_vec(), true, false)));
        assert_eq!(
            bytes("restart", false),
            Some((b"tcu".to_vec(), true, false))
        );
        assert_eq!(bytes("reload", false), Some((b"h".to_vec(), true, false)));
        assert_eq!(
            bytes("try-restart", false),
            Some((b"tc".to_vec(), true, false))
        );
        assert_eq!(bytes("term", false), Some((b"t".to_vec(), false, false)));
        assert_eq!(bytes("cont", false), Some((b"c".to_vec(), false, false)));
        assert_eq!(bytes("check", false), Some((b"C".to_vec(), true, false)));
        assert_eq!(
            bytes("force-stop", false),
            Some((b"d".to_vec(), true, true))
        );
        assert_eq!(
            bytes("force-restart", false),
            Some((b"tcu".to_vec(), true, true))
        );
        assert_eq!(
            bytes("force-reload", false),
            Some((b"tc".to_vec(), true, true))
        );
        assert_eq!(
            bytes("force-shutdown", false),
            Some((b"x".to_vec(), true, true))
        );
        assert_eq!(bytes("Xyz", false), Some((b"x".to_vec(), true, true)));
        assert_eq!(bytes("Exit", false), Some((b"x".to_vec(), true, true)));
        assert_eq!(bytes("Down", false), Some((b"d".to_vec(), true, true)));
        assert_eq!(bytes("Term", false), Some((b"tc".to_vec(), true, true)));
        assert_eq!(bytes("1", false), Some((b"1".to_vec(), false, false)));
        assert_eq!(bytes("2x", false), Some((b"2".to_vec(), false, false)));
    }

    #[test]
    fn usage_words() {
        for bad in ["", "rest", "force", "fuzz", "bogus", "Up", "3", "-"] {
            assert_eq!(bytes(bad, false), None, "{bad}");
        }
        assert_eq!(
            action(b"stat", false, false).map(|a| a.act),
            Some(Act::Status)
        );
        assert_eq!(action(b"stat", true, false), None);
        assert_eq!(
            action(b"status", true, true).map(|a| (a.act, a.wait)),
            Some((Act::Status, false))
        );
    }
}
