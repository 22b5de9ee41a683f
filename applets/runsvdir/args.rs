//! runsvdir's hand-rolled argument handling, kept as runit's: `-P…` sets new-session mode,
//! `--…` is consumed, any other `-x` is the scan directory. The one addition, `-I` (act as
//! init: reap orphans, ordered shutdown), is recognised only as that exact word.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

pub struct Options {
    /// Index of DIR in the arguments.
    pub dir: usize,
    /// Index of the process-title LOG argument, if given.
    pub log: Option<usize>,
    pub new_session: bool,
    pub init: bool,
}

/// `None` means usage.
pub fn parse(args: &[OsString]) -> Option<Options> {
    let mut i = 1;
    let mut new_session = false;
    let mut init = false;
    while let Some(arg) = args.get(i) {
        let b = arg.as_bytes();
        if b == b"-I" {
            init = true;
        } else if b.len() >= 2 && b[0] == b'-' && b[1] == b'P' {
            new_session = true;
        } else if b.len() >= 2 && b[0] == b'-' && b[1] == b'-' {
            i += 1;
            break;
        } else {
            break;
        }
        i += 1;
    }
    if i >= args.len() {
        return None;
    }
    Some(Options {
        dir: i,
        log: (i + 1 < args.len()).then_some(i + 1),
        new_session,
        init,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &[&str]) -> Option<(usize, Option<usize>, bool, bool)> {
        let v: Vec<OsString> = a.iter().map(OsString::from).collect();
        parse(&v).map(|o| (o.dir, o.log, o.new_session, o.init))
    }

    #[test]
    fn runit_compatible() {
        assert_eq!(p(&["runsvdir"]), None);
        assert_eq!(p(&["runsvdir", "-P"]), None);
        assert_eq!(p(&["runsvdir", "d"]), Some((1, None, false, false)));
        assert_eq!(
            p(&["runsvdir", "-Pxyz", "d", "log"]),
            Some((2, Some(3), true, false))
        );
        assert_eq!(p(&["runsvdir", "--", "-d"]), Some((2, None, false, false)));
        assert_eq!(
            p(&["runsvdir", "-x", "l"]),
            Some((1, Some(2), false, false))
        );
        assert_eq!(
            p(&["runsvdir", "-I", "-P", "d"]),
            Some((3, None, true, true))
        );
        assert_eq!(p(&["runsvdir", "-Ix"]), Some((1, None, false, false)));
    }
}
