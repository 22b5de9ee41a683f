//! The command line and environment of sv (§4.1, §4.3): options, `SVDIR`/`SVWAIT`, the
//! default services directory, and what a command word means (bytes to send, whether to
//! wait, whether a timeout kills).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use svbox::getopt::Getopt;
use svbox::msg::{basename, usage, Line};

pub const USAGE: &str = " [-v] [-w sec] command service ...";
pub const USAGE_LSB: &str = " [-w sec] command";
pub const VERSION: &str = "$Id: 900314260c6d52c986c5357673bea2f3bd3f4698 $";

/// Where sv looks for bare service names without `SVDIR`: busybox/Void, Debian, upstream.
const DEFAULT_DIRS: [&str; 3] = ["/var/service", "/etc/service", "/service"];

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
    pub bytes: Vec<u8>,
    pub wait: bool,
    /// A timeout prints `kill:` and sends `k`.
    pub kill: bool,
}

/// Everything sv needs from its arguments and environment.
pub struct Invocation {
    /// Program name (basename of argv[0]); in LSB mode also the service name.
    pub progname: OsString,
    pub lsb: bool,
    pub svdir: OsString,
    pub wait_secs: u64,
    pub verbose: bool,
    pub command: OsString,
    pub services: Vec<OsString>,
}

impl Invocation {
    /// The usage exit code for this mode, after printing the usage message.
    pub fn usage(&self) -> i32 {
        print_usage(&self.progname, self.lsb)
    }
}

fn print_usage(progname: &OsStr, lsb: bool) -> i32 {
    if lsb {
        usage(progname, USAGE_LSB);
        2
    } else {
        usage(progname, USAGE);
        100
    }
}

/// djb's `scan_ulong`: leading decimal digits, 0 if there are none (saturating, not wrapping).
pub fn scan_ulong(text: &[u8]) -> u64 {
    let mut value: u64 = 0;
    for &c in text.iter().take_while(|c| c.is_ascii_digit()) {
        value = value.saturating_mul(10).saturating_add(u64::from(c - b'0'));
    }
    value
}

/// The services directory when `SVDIR` is unset: the first of `DEFAULT_DIRS` that is a
/// directory, else the first.
fn default_svdir() -> OsString {
    for dir in DEFAULT_DIRS {
        if rustix::fs::stat(dir)
            .is_ok_and(|s| rustix::fs::FileType::from_raw_mode(s.st_mode).is_dir())
        {
            return OsString::from(dir);
        }
    }
    OsString::from(DEFAULT_DIRS[0])
}

/// Parses argv and the environment; `Err(code)` after printing usage or getopt errors.
pub fn parse(args: &[OsString]) -> Result<Invocation, i32> {
    let argv0 = args
        .first()
        .map(OsString::as_os_str)
        .unwrap_or(OsStr::new("sv"));
    let progname = basename(argv0).to_os_string();
    let lsb = progname.as_bytes() != b"sv";
    let svdir = std::env::var_os("SVDIR").unwrap_or_else(default_svdir);
    let mut wait_secs = 7;
    if let Some(w) = std::env::var_os("SVWAIT") {
        wait_secs = scan_ulong(w.as_bytes());
    }
    let mut verbose = false;
    let mut getopt = Getopt::new(args, "w:vV");
    for opt in getopt.by_ref() {
        match opt {
            Ok((b'w', value)) => {
                wait_secs = scan_ulong(value.map(OsStr::as_bytes).unwrap_or(b""));
                verbose = true;
            }
            Ok((b'v', _)) => verbose = true,
            Ok(_) => {
                // -V: the version line, then usage (runit's fall-through).
                Line::new().s(VERSION).to_stderr();
                return Err(print_usage(&progname, lsb));
            }
            Err(e) => {
                e.print(argv0);
                return Err(print_usage(&progname, lsb));
            }
        }
    }
    let operands = getopt.operands();
    let Some((command, rest)) = operands.split_first() else {
        return Err(print_usage(&progname, lsb));
    };
    let services = if lsb {
        vec![progname.clone()]
    } else {
        rest.to_vec()
    };
    if services.is_empty() {
        return Err(print_usage(&progname, lsb));
    }
    Ok(Invocation {
        progname,
        lsb,
        svdir,
        wait_secs,
        verbose,
        command: command.clone(),
        services,
    })
}

/// Decodes a command word (§4.3); `None` means usage.
pub fn action(command: &[u8], lsb: bool, verbose: bool) -> Option<Action> {
    let send = |bytes: &[u8], wait: bool, kill: bool| Action {
        act: Act::Control,
        bytes: bytes.to_vec(),
        wait,
        kill,
    };
    let first = *command.first()?;
    let a = match first {
        b'x' | b'e' => send(b"x", verbose, false),
        b'X' | b'E' => send(b"x", true, true),
        b'D' => send(b"d", true, true),
        b'T' => send(b"tc", true, true),
        b't' if command == b"try-restart" => send(b"tc", true, false),
        b'c' if command == b"check" => Action {
            act: Act::Nothing,
            bytes: b"C".to_vec(),
            wait: true,
            kill: false,
        },
        b't' | b'c' | b'u' | b'd' | b'o' | b'p' | b'h' | b'a' | b'i' | b'k' | b'q' | b'1'
        | b'2' => send(&[first], verbose, false),
        b's' => match command {
            b"shutdown" => send(b"x", true, false),
            b"start" => send(b"u", true, false),
            b"stop" => send(b"d", true, false),
            b"status" => Action {
                act: Act::Status,
                bytes: b"s".to_vec(),
                wait: false,
                kill: false,
            },
            _ if lsb => return None,
            _ => Action {
                act: Act::Status,
                bytes: b"s".to_vec(),
                wait: false,
                kill: false,
            },
        },
        b'r' => match command {
            b"restart" => send(b"tcu", true, false),
            b"reload" => send(b"h", true, false),
            _ => return None,
        },
        b'f' => match command {
            b"force-reload" => send(b"tc", true, true),
            b"force-restart" => send(b"tcu", true, true),
            b"force-shutdown" => send(b"x", true, true),
            b"force-stop" => send(b"d", true, true),
            _ => return None,
        },
        _ => return None,
    };
    Some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(cmd: &str, verbose: bool) -> Option<(Vec<u8>, bool, bool)> {
        action(cmd.as_bytes(), false, verbose).map(|a| (a.bytes, a.wait, a.kill))
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

    #[test]
    fn lenient_numbers() {
        assert_eq!(scan_ulong(b"12abc"), 12);
        assert_eq!(scan_ulong(b"abc"), 0);
        assert_eq!(scan_ulong(b""), 0);
        assert_eq!(scan_ulong(b"99999999999999999999999"), u64::MAX);
    }
}
