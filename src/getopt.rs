//! djb-compatible option parsing over raw `OsString` arguments.
//!
//! Options are recognised only before the first operand (no permutation); `--` ends them and
//! is consumed; a lone `-` is an operand; flags cluster (`-tt`, `-012`) and values may be
//! glued (`-w3`, `-uroot`) or separate (`-w 3`). Errors print djb's messages.

use crate::msg::{basename, Line};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// What went wrong with an option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GetoptError {
    /// `PROG: illegal option -- X`
    Illegal(u8),
    /// `PROG: option requires an argument -- X`
    MissingArgument(u8),
}

impl GetoptError {
    /// Prints djb's message, naming the program by the basename of `argv0`.
    pub fn print(&self, argv0: &OsStr) {
        let (text, opt) = match *self {
            GetoptError::Illegal(c) => (": illegal option -- ", c),
            GetoptError::MissingArgument(c) => (": option requires an argument -- ", c),
        };
        Line::new()
            .os(basename(argv0))
            .s(text)
            .b(&[opt])
            .to_stderr();
    }
}

/// An iterator over the options of `args[1..]`; afterwards `operands()` gives the rest.
pub struct Getopt<'a> {
    args: &'a [OsString],
    spec: &'static [u8],
    index: usize,
    offset: usize,
    done: bool,
}

impl<'a> Getopt<'a> {
    /// `spec` lists the option letters, each followed by `:` if it takes a value.
    pub fn new(args: &'a [OsString], spec: &'static str) -> Self {
        Getopt {
            args,
            spec: spec.as_bytes(),
            index: 1,
            offset: 0,
            done: false,
        }
    }

    /// The arguments after the options (valid once the iterator returned `None`).
    pub fn operands(&self) -> &'a [OsString] {
        &self.args[self.index.min(self.args.len())..]
    }

    fn takes_value(&self, c: u8) -> Option<bool> {
        let pos = self.spec.iter().position(|&s| s == c && s != b':')?;
        Some(self.spec.get(pos + 1) == Some(&b':'))
    }
}

impl<'a> Iterator for Getopt<'a> {
    type Item = Result<(u8, Option<&'a OsStr>), GetoptError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let args = self.args;
        let Some(arg) = args.get(self.index).map(|a| a.as_bytes()) else {
            self.done = true;
            return None;
        };
        if self.offset == 0 {
            if arg.len() < 2 || arg[0] != b'-' {
                self.done = true;
                return None;
            }
            if arg == b"--" {
                self.index += 1;
                self.done = true;
                return None;
            }
            self.offset = 1;
        }
        let c = arg[self.offset];
        let rest = &arg[self.offset + 1..];
        self.offset += 1;
        if rest.is_empty() {
            // This argument is used up; a value, if one is due, is the next one.
            self.index += 1;
            self.offset = 0;
        }
        match self.takes_value(c) {
            None => Some(Err(GetoptError::Illegal(c))),
            Some(false) => Some(Ok((c, None))),
            Some(true) => {
                let value = if !rest.is_empty() {
                    self.index += 1;
                    self.offset = 0;
                    rest
                } else if let Some(v) = args.get(self.index) {
                    self.index += 1;
                    v.as_bytes()
                } else {
                    self.done = true;
                    return Some(Err(GetoptError::MissingArgument(c)));
                };
                Some(Ok((c, Some(OsStr::from_bytes(value)))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    type Parsed = (Vec<Result<(u8, Option<String>), GetoptError>>, Vec<String>);

    fn parse(list: &[&str], spec: &'static str) -> Parsed {
        let a = args(list);
        let mut g = Getopt::new(&a, spec);
        let opts: Vec<_> = g
            .by_ref()
            .map(|r| r.map(|(c, v)| (c, v.map(|v| v.to_string_lossy().into_owned()))))
            .collect();
        let rest = g
            .operands()
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        (opts, rest)
    }

    #[test]
    fn clusters_and_glued_values() {
        let (o, r) = parse(&["svlogd", "-tt", "-l100", "dir"], "tvr:R:l:b:");
        assert_eq!(
            o,
            vec![
                Ok((b't', None)),
                Ok((b't', None)),
                Ok((b'l', Some("100".into())))
            ]
        );
        assert_eq!(r, vec!["dir"]);
        let (o, r) = parse(&["sv", "-w7", "up", "x"], "w:vV");
        assert_eq!(o, vec![Ok((b'w', Some("7".into())))]);
        assert_eq!(r, vec!["up", "x"]);
        let (o, _) = parse(&["chpst", "-vuroot", "p"], "u:v");
        assert_eq!(o, vec![Ok((b'v', None)), Ok((b'u', Some("root".into())))]);
    }

    #[test]
    fn separate_values_and_no_permutation() {
        let (o, r) = parse(&["sv", "-w", "3", "status", "-v"], "w:v");
        assert_eq!(o, vec![Ok((b'w', Some("3".into())))]);
        assert_eq!(r, vec!["status", "-v"]);
    }

    #[test]
    fn double_dash_and_lone_dash() {
        let (o, r) = parse(&["x", "-v", "--", "-w"], "w:v");
        assert_eq!(o, vec![Ok((b'v', None))]);
        assert_eq!(r, vec!["-w"]);
        let (o, r) = parse(&["x", "-", "a"], "v");
        assert!(o.is_empty());
        assert_eq!(r, vec!["-", "a"]);
    }

    #[test]
    fn errors() {
        let (o, _) = parse(&["sv", "-z", "x"], "w:v");
        assert_eq!(o, vec![Err(GetoptError::Illegal(b'z'))]);
        let (o, _) = parse(&["sv", "-w"], "w:v");
        assert_eq!(o, vec![Err(GetoptError::MissingArgument(b'w'))]);
        let (o, _) = parse(&["sv", "-:"], "w:v");
        assert_eq!(o, vec![Err(GetoptError::Illegal(b':'))]);
    }

    #[test]
    fn non_utf8_values_pass_through() {
        let a = vec![
            OsString::from("x"),
            OsString::from_vec(b"-e\xff\xfe".to_vec()),
            OsString::from("p"),
        ];
        let mut g = Getopt::new(&a, "e:");
        assert_eq!(
            g.next(),
            Some(Ok((b'e', Some(OsStr::from_bytes(b"\xff\xfe")))))
        );
        assert_eq!(g.next(), None);
        assert_eq!(g.operands(), &a[2..]);
    }
}
