//! Proof that a logger kept every line: a line count and an order-sensitive checksum of
//! the message parts (timestamps stripped), computed the same way over the input and over
//! a log directory's files read back in rotation order.

use std::fs;
use std::io::Read;
use std::path::Path;

/// The timestamp a logger puts before each line, to be stripped before hashing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    None,
    /// svlogd `-tt`: `YYYY-MM-DD_HH:MM:SS.xxxxx ` (26 bytes).
    SvlogdTt,
    /// s6-log `T`: `YYYY-MM-DD HH:MM:SS.nnnnnnnnn  ` (31 bytes: it adds its own blank
    /// after the stamp's separator).
    S6Iso,
}

impl Stamp {
    /// The message part of `line`, or None if the stamp is not there.
    fn strip(self, line: &[u8]) -> Option<&[u8]> {
        let (len, sep) = match self {
            Stamp::None => return Some(line),
            Stamp::SvlogdTt => (26, b'_'),
            Stamp::S6Iso => (31, b' '),
        };
        let ok = line.len() >= len
            && line[4] == b'-'
            && line[7] == b'-'
            && line[10] == sep
            && line[13] == b':'
            && line[19] == b'.'
            && line[len - 1] == b' ';
        ok.then(|| &line[len..])
    }
}

fn mix(h: u64) -> u64 {
    let h = (h ^ (h >> 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^ (h >> 29)
}

/// A 64-bit hash of one message, eight bytes at a time.
fn line_hash(msg: &[u8]) -> u64 {
    let mut h = 0xCBF2_9CE4_8422_2325u64 ^ msg.len() as u64;
    let mut chunks = msg.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = mix(h ^ u64::from_le_bytes(w));
    }
    let mut w = [0u8; 8];
    w[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    mix(h ^ u64::from_le_bytes(w) ^ 0xFF)
}

/// Lines seen and the running checksum: equal digests mean the same messages in the same
/// order (up to a 64-bit collision).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Digest {
    pub lines: u64,
    pub hash: u64,
}

impl Digest {
    const EMPTY: Digest = Digest { lines: 0, hash: 0 };

    fn add(&mut self, msg: &[u8]) {
        self.lines += 1;
        self.hash = mix(self.hash.rotate_left(17) ^ line_hash(msg));
    }

    /// This digest followed by one more line.
    pub fn plus(mut self, msg: &[u8]) -> Digest {
        self.add(msg);
        self
    }
}

/// Splits a byte stream (possibly delivered across several files) into lines.
pub struct Scanner {
    stamp: Stamp,
    carry: Vec<u8>,
    pub digest: Digest,
    /// Lines whose stamp was missing or malformed (hashed whole, so the digest differs).
    pub unstamped: u64,
}

impl Scanner {
    pub fn new(stamp: Stamp) -> Scanner {
        Scanner {
            stamp,
            carry: Vec::new(),
            digest: Digest::EMPTY,
            unstamped: 0,
        }
    }

    fn line(&mut self, line: &[u8]) {
        match self.stamp.strip(line) {
            Some(msg) => self.digest.add(msg),
            None => {
                self.unstamped += 1;
                self.digest.add(line);
            }
        }
    }

    pub fn feed(&mut self, mut data: &[u8]) {
        if !self.carry.is_empty() {
            let Some(nl) = memchr::memchr(b'\n', data) else {
                self.carry.extend_from_slice(data);
                return;
            };
            let mut line = std::mem::take(&mut self.carry);
            line.extend_from_slice(&data[..nl]);
            self.line(&line);
            data = &data[nl + 1..];
        }
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', data) {
            self.line(&data[start..nl]);
            start = nl + 1;
        }
        self.carry.extend_from_slice(&data[start..]);
    }

    /// Feeds a whole file through a fixed buffer.
    pub fn feed_file(&mut self, path: &Path, buf: &mut [u8]) -> Result<u64, String> {
        let err = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut f = fs::File::open(path).map_err(err)?;
        let mut total = 0u64;
        loop {
            match f.read(buf) {
                Ok(0) => return Ok(total),
                Ok(n) => {
                    total += n as u64;
                    self.feed(&buf[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(err(e)),
            }
        }
    }

    /// The digest of the complete lines, and the unterminated rest (empty if none).
    pub fn finish(self) -> (Digest, Vec<u8>) {
        (self.digest, self.carry)
    }
}

/// What the input should come out as.
#[derive(Clone, Debug)]
pub struct Expected {
    /// The input's complete lines.
    pub complete: Digest,
    /// Those followed by the unterminated last line (what a logger that keeps it writes).
    pub all: Digest,
    pub bytes: u64,
}

pub fn expected(input: &Path) -> Result<Expected, String> {
    let mut s = Scanner::new(Stamp::None);
    let bytes = s.feed_file(input, &mut vec![0u8; 1 << 20])?;
    let (complete, rest) = s.finish();
    let all = if rest.is_empty() {
        complete
    } else {
        complete.plus(&rest)
    };
    Ok(Expected {
        complete,
        all,
        bytes,
    })
}

/// How a logger's output compares with its input.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// Every line, in order.
    Complete,
    /// Every terminated line, but the unterminated last one was dropped (runit does this).
    LostLastLine,
    /// Anything else: lines lost, duplicated, reordered or altered.
    Wrong,
}

/// The log directory's contents read back: rotated files (`@…`, oldest first by name),
/// then `current`.
pub struct Output {
    pub digest: Digest,
    pub unstamped: u64,
    /// Bytes left after the last newline (an unterminated line on disk).
    pub trailing: usize,
    pub files: usize,
    pub bytes: u64,
}

impl Output {
    pub fn read(dir: &Path, stamp: Stamp) -> Result<Output, String> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .filter(|n| n.as_encoded_bytes().first() == Some(&b'@'))
            .collect();
        names.sort();
        names.push("current".into());
        let mut s = Scanner::new(stamp);
        let mut buf = vec![0u8; 1 << 20];
        let mut bytes = 0;
        for n in &names {
            let p = dir.join(n);
            if p.exists() {
                bytes += s.feed_file(&p, &mut buf)?;
            }
        }
        let unstamped = s.unstamped;
        let (digest, rest) = s.finish();
        Ok(Output {
            digest,
            unstamped,
            trailing: rest.len(),
            files: names.len(),
            bytes,
        })
    }

    pub fn verdict(&self, want: &Expected) -> Verdict {
        if self.trailing != 0 || self.unstamped != 0 {
            Verdict::Wrong
        } else if self.digest == want.all {
            Verdict::Complete
        } else if self.digest == want.complete {
            Verdict::LostLastLine
        } else {
            Verdict::Wrong
        }
    }
}
