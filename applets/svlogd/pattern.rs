//! svlogd's own pattern matcher (`pmatch`: `*c` skips to the first `c`, `+c` eats a run of
//! `c`, no backtracking) and the selection rules of `+ - e E` instructions.

/// One `config` pattern instruction: its directive byte and its pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    pub kind: u8,
    pub pattern: Vec<u8>,
}

/// runit's `pmatch`, byte for byte (a NUL in the pattern ends it, as in C).
pub fn pmatch(pattern: &[u8], line: &[u8]) -> bool {
    let end = pattern
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(pattern.len());
    let p = &pattern[..end];
    let (mut pi, mut si) = (0usize, 0usize);
    loop {
        let Some(&c) = p.get(pi) else {
            return si == line.len();
        };
        pi += 1;
        match c {
            b'*' => {
                let Some(&next) = p.get(pi) else {
                    return true;
                };
                match line[si..].iter().position(|&b| b == next) {
                    Some(off) => si += off,
                    None => return false,
                }
            }
            b'+' => {
                // A trailing `+` would make C read past the pattern; treat it as no match.
                let Some(&next) = p.get(pi) else {
                    return false;
                };
                pi += 1;
                if line.get(si) != Some(&next) {
                    return false;
                }
                // runit returns a match as soon as the line is used up inside the run.
                loop {
                    match line.get(si) {
                        None => return true,
                        Some(&b) if b == next => si += 1,
                        Some(_) => break,
                    }
                }
            }
            _ => {
                if line.get(si) != Some(&c) {
                    return false;
                }
                si += 1;
            }
        }
    }
}

/// Selection of one line for a directory: (to the log, copied to stderr). Last match wins.
pub fn select(instructions: &[Instruction], line: &[u8]) -> (bool, bool) {
    let (mut log, mut err) = (true, false);
    for ins in instructions {
        let affects_log = matches!(ins.kind, b'+' | b'-');
        // Skip the matcher when the outcome could not change.
        let wanted = matches!(ins.kind, b'+' | b'e');
        if affects_log && log == wanted || !affects_log && err == wanted {
            continue;
        }
        if pmatch(&ins.pattern, line) {
            if affects_log {
                log = wanted;
            } else {
                err = wanted;
            }
        }
    }
    (log, err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(list: &[&str]) -> Vec<Instruction> {
        list.iter()
            .map(|s| Instruction {
                kind: s.as_bytes()[0],
                pattern: s.as_bytes()[1..].to_vec(),
            })
            .collect()
    }

    #[test]
    fn star_and_literals() {
        assert!(pmatch(b"foo*", b"foo"));
        assert!(pmatch(b"foo*", b"foobar"));
        assert!(!pmatch(b"foo*", b"fo"));
        assert!(pmatch(b"*", b""));
        assert!(pmatch(b"*", b"anything"));
        assert!(pmatch(b"", b""));
        assert!(!pmatch(b"", b"x"));
        assert!(pmatch(b"abc", b"abc"));
        assert!(!pmatch(b"abc", b"abcd"));
        assert!(!pmatch(b"?", b"x"));
        assert!(pmatch(b"?", b"?"));
    }

    #[test]
    fn first_star_stops_at_first_occurrence() {
        assert!(!pmatch(b"*pid*", b"tcpsvd: info: pid 1977"));
        assert!(pmatch(b"*: *: pid *", b"tcpsvd: info: pid 1977"));
        assert!(pmatch(b"*err*", b"an err here"));
        assert!(!pmatch(b"*x", b"abc"));
        // No backtracking: the star stops at the first 'b', then "bc" must follow.
        assert!(!pmatch(b"*bc", b"abxbc"));
    }

    #[test]
    fn plus_runs() {
        assert!(pmatch(b"a+bc", b"abbbc"));
        assert!(pmatch(b"a+bc", b"abc"));
        assert!(!pmatch(b"a+bc", b"ac"));
        // runit's quirk: a line used up inside the run matches whatever follows.
        assert!(pmatch(b"+ab", b"aa"));
        assert!(!pmatch(b"+a", b""));
        assert!(!pmatch(b"x+", b"x"));
    }

    /// Random patterns and lines over a small alphabet: no panic, and the laws that hold
    /// for svlogd's matcher.
    #[test]
    fn property_random() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alpha = b"ab*+\0";
        for _ in 0..50_000 {
            let pl = (next() % 8) as usize;
            let ll = (next() % 10) as usize;
            let p: Vec<u8> = (0..pl).map(|_| alpha[(next() % 5) as usize]).collect();
            let l: Vec<u8> = (0..ll).map(|_| alpha[(next() % 2) as usize]).collect();
            let m = pmatch(&p, &l);
            let literal = !p.iter().any(|b| b"*+\0".contains(b));
            if literal {
                assert_eq!(m, p == l, "{p:?} {l:?}");
            }
            let mut star = p.clone();
            star.push(b'*');
            if m && literal {
                // A literal that matches still matches with a star after it.
                assert!(pmatch(&star, &l), "{p:?} {l:?}");
            }
            assert!(pmatch(b"*", &l));
            let _ = select(
                &[Instruction {
                    kind: b'e',
                    pattern: p.clone(),
                }],
                &l,
            );
        }
    }

    #[test]
    fn nul_ends_pattern() {
        assert!(pmatch(b"ab\0cd", b"ab"));
    }

    #[test]
    fn selection_last_match_wins() {
        let list = ins(&["-*", "+foo*", "-foobar", "e*err*"]);
        assert_eq!(select(&list, b"foo one"), (true, false));
        assert_eq!(select(&list, b"foobarx"), (true, false));
        assert_eq!(select(&list, b"foobar"), (false, false));
        assert_eq!(select(&list, b"foo err"), (true, true));
        assert_eq!(select(&list, b"an err here"), (false, true));
        assert_eq!(select(&list, b"bar"), (false, false));
        assert_eq!(select(&ins(&["-"]), b""), (false, false));
        assert_eq!(select(&ins(&["-"]), b"x"), (true, false));
        assert_eq!(select(&ins(&["e*", "Ex"]), b"x"), (true, false));
        assert_eq!(select(&[], b"x"), (true, false));
    }
}
