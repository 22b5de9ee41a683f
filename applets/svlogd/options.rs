//! Command line of svlogd (§5.1): `-t` count, `-r`, `-R`, `-l`, `-b`, `-v`, `-V`, dirs.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use svbox::getopt::Getopt;

pub const USAGE: &str = " [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...";
pub const VERSION: &str = "$Id: 5e55a90e0a1b35ec47fed3021453c50675ea1117 $";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub stamps: u8,
    /// The replacement byte; set by `-r` or (as `_`) by `-R`.
    pub replace: Option<u8>,
    /// Bytes replaced besides the non-printable ones (`-R`).
    pub extra: Vec<u8>,
    pub linelen: usize,
    pub buflen: usize,
    pub verbose: bool,
    /// `-L` (svbox): `-tt`/`-ttt` stamps in local time instead of UTC.
    pub local: bool,
    pub dirs: Vec<OsString>,
}

/// Why parsing stopped: usage (after an optional getopt message) or `-V`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Usage,
    Version,
}

fn number(v: &OsStr) -> usize {
    usize::try_from(svbox::scan::scan_ulong(v.as_bytes()).0).unwrap_or(usize::MAX)
}

/// Parses `args` (args[0] = argv[0]); getopt messages are printed here.
pub fn parse(args: &[OsString]) -> Result<Options, Stop> {
    let mut o = Options {
        stamps: 0,
        replace: None,
        extra: Vec::new(),
        linelen: 1000,
        buflen: 1024,
        verbose: false,
        local: false,
        dirs: Vec::new(),
    };
    let argv0 = args.first().map(|a| a.as_os_str()).unwrap_or_default();
    let mut g = Getopt::new(args, "R:r:l:b:tvVL");
    for item in g.by_ref() {
        match item {
            Err(e) => {
                e.print(argv0);
                return Err(Stop::Usage);
            }
            Ok((c, v)) => {
                let v = v.unwrap_or_default();
                match c {
                    b't' => o.stamps = (o.stamps + 1).min(3),
                    b'v' => o.verbose = true,
                    b'L' => o.local = true,
                    b'V' => return Err(Stop::Version),
                    b'r' => match v.as_bytes() {
                        [b] => o.replace = Some(*b),
                        _ => return Err(Stop::Usage),
                    },
                    b'R' => {
                        o.extra = v.as_bytes().to_vec();
                        o.replace.get_or_insert(b'_');
                    }
                    b'l' => o.linelen = number(v),
                    b'b' => o.buflen = number(v),
                    _ => return Err(Stop::Usage),
                }
            }
        }
    }
    if o.linelen == 0 {
        o.linelen = 1000;
    }
    if o.buflen == 0 {
        o.buflen = 1024;
    }
    if o.buflen <= o.linelen {
        return Err(Stop::Usage);
    }
    o.dirs = g.operands().to_vec();
    if o.dirs.is_empty() {
        return Err(Stop::Usage);
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[&str]) -> Result<Options, Stop> {
        let v: Vec<OsString> = list.iter().map(OsString::from).collect();
        parse(&v)
    }

    #[test]
    fn flags() {
        let o = p(&["svlogd", "-tttt", "-v", "d1", "d2"]).unwrap();
        assert_eq!((o.stamps, o.verbose, o.local), (3, true, false));
        assert!(p(&["svlogd", "-ttL", "d"]).unwrap().local);
        assert_eq!(o.dirs, vec![OsString::from("d1"), OsString::from("d2")]);
        assert_eq!((o.linelen, o.buflen, o.replace), (1000, 1024, None));
        let o = p(&["svlogd", "-R", "bd", "d"]).unwrap();
        assert_eq!((o.replace, o.extra.as_slice()), (Some(b'_'), &b"bd"[..]));
        let o = p(&["svlogd", "-R", "bd", "-r", "x", "d"]).unwrap();
        assert_eq!(o.replace, Some(b'x'));
        let o = p(&["svlogd", "-rx", "-Rq", "d"]).unwrap();
        assert_eq!(o.replace, Some(b'x'));
        let o = p(&["svlogd", "-l0", "-b0", "d"]).unwrap();
        assert_eq!((o.linelen, o.buflen), (1000, 1024));
        let o = p(&["svlogd", "-l", "5", "-b", "6", "--", "-d"]).unwrap();
        assert_eq!((o.linelen, o.buflen), (5, 6));
        assert_eq!(o.dirs, vec![OsString::from("-d")]);
    }

    #[test]
    fn usage_cases() {
        assert_eq!(p(&["svlogd"]), Err(Stop::Usage));
        assert_eq!(p(&["svlogd", "-t"]), Err(Stop::Usage));
        assert_eq!(p(&["svlogd", "-r", "", "d"]), Err(Stop::Usage));
        assert_eq!(p(&["svlogd", "-r", "ab", "d"]), Err(Stop::Usage));
        assert_eq!(
            p(&["svlogd", "-l", "10", "-b", "10", "d"]),
            Err(Stop::Usage)
        );
        assert_eq!(p(&["svlogd", "-l", "2000", "d"]), Err(Stop::Usage));
        assert_eq!(p(&["svlogd", "-V", "d"]), Err(Stop::Version));
    }
}
