//! Turning one input line into what svlogd writes (§5.5): the replaced window of the first
//! LEN bytes (used for patterns, stderr and UDP), the raw rest kept whole for log files.

/// How bytes of the window are replaced (`-r`/`-R`).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub linelen: usize,
    pub replace: Option<u8>,
    /// 256 flags: replace this byte (non-printables plus `-R` bytes).
    table: Vec<bool>,
}

impl Filter {
    pub fn new(linelen: usize, replace: Option<u8>, extra: &[u8]) -> Filter {
        let mut table = vec![false; 256];
        if replace.is_some() {
            for (b, slot) in table.iter_mut().enumerate() {
                *slot = !(32..=126).contains(&b);
            }
            for &b in extra {
                table[usize::from(b)] = true;
            }
        }
        Filter {
            linelen,
            replace,
            table,
        }
    }

    /// Puts the window of `line` (at most LEN bytes, replaced) into `out` and returns the
    /// offset in `line` where the untouched rest begins.
    pub fn window(&self, line: &[u8], out: &mut Vec<u8>) -> usize {
        let n = line.len().min(self.linelen);
        out.clear();
        out.extend_from_slice(&line[..n]);
        if let Some(c) = self.replace {
            for b in out.iter_mut() {
                if self.table[usize::from(*b)] {
                    *b = c;
                }
            }
        }
        n
    }

    /// Whether stderr and UDP copies get the `...` mark (window exactly LEN bytes).
    pub fn marked(&self, window: &[u8]) -> bool {
        window.len() == self.linelen
    }
}

/// Appends `[stamp][prefix]window[...]\n`: the stderr and UDP form of a line.
pub fn copy_form(out: &mut Vec<u8>, stamp: &[u8], prefix: &[u8], window: &[u8], mark: bool) {
    out.extend_from_slice(stamp);
    out.extend_from_slice(prefix);
    out.extend_from_slice(window);
    if mark {
        out.extend_from_slice(b"...");
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacement() {
        let f = Filter::new(1000, Some(b'_'), b"");
        let mut w = Vec::new();
        let line = "ctl\tchars\u{1}é".as_bytes();
        assert_eq!(f.window(line, &mut w), line.len());
        assert_eq!(w, b"ctl_chars___");
        let f = Filter::new(1000, Some(b'_'), b"bd");
        f.window(b"abcdef", &mut w);
        assert_eq!(w, b"a_c_ef");
        let f = Filter::new(1000, None, b"");
        f.window(b"a\tb", &mut w);
        assert_eq!(w, b"a\tb");
    }

    #[test]
    fn window_and_mark() {
        let f = Filter::new(4, Some(b'.'), b"");
        let mut w = Vec::new();
        assert_eq!(f.window(b"ab\x01defgh", &mut w), 4);
        assert_eq!(w, b"ab.d");
        assert!(f.marked(&w));
        f.window(b"abc", &mut w);
        assert!(!f.marked(&w));
        let mut out = Vec::new();
        copy_form(&mut out, b"@x ", b"p: ", b"abcd", true);
        assert_eq!(out, b"@x p: abcd...\n");
    }
}
