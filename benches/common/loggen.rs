//! The svlogd bench's input: a deterministic syslog-like log (lines of 40–200 bytes with
//! timestamps and pids, a few long lines, an unterminated last line), generated once and
//! kept under the bench's target dir so later runs reuse it.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Bump when the generator changes, so an old cached file is not reused.
const VERSION: u32 = 1;

/// splitmix64: small, fast, and the same sequence on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in lo..=hi.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() as usize % items.len()]
    }
}

const HOSTS: &[&str] = &["gw01", "edge-7", "cam03", "router", "nas"];
const PROGS: &[&str] = &[
    "sshd",
    "kernel",
    "dhcpcd",
    "ntpd",
    "crond",
    "nginx",
    "dropbear",
    "udhcpc",
    "app",
    "mosquitto",
    "wpa_supplicant",
    "hostapd",
];
const WORDS: &[&str] = &[
    "connection",
    "from",
    "port",
    "accepted",
    "closed",
    "timeout",
    "retrying",
    "user",
    "session",
    "opened",
    "for",
    "request",
    "GET",
    "/api/v1/status",
    "200",
    "bytes",
    "link",
    "up",
    "down",
    "eth0",
    "wlan0",
    "lease",
    "renewed",
    "address",
    "10.0.3.17",
    "error",
    "warning:",
    "failed",
    "ok",
    "queue",
    "depth",
    "latency",
    "ms",
    "sync",
    "clock",
    "offset",
    "-0.000213",
    "temperature",
    "47C",
    "fan",
    "rpm",
    "disk",
    "usage",
];
const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// One line without its newline, of `len` bytes (at least the header's length).
fn line(rng: &mut Rng, second: u64, len: usize, out: &mut Vec<u8>) {
    let start = out.len();
    let day = second / 86_400;
    let _ = write!(
        out,
        "{} {:2} {:02}:{:02}:{:02} {} {}[{}]: ",
        MONTHS[(day / 28 % 12) as usize],
        day % 28 + 1,
        second / 3600 % 24,
        second / 60 % 60,
        second % 60,
        rng.pick(HOSTS),
        rng.pick(PROGS),
        rng.range(1, 32_767),
    );
    let header = out.len() - start;
    while out.len() - start < len {
        let w = rng.pick(WORDS);
        out.extend_from_slice(w.as_bytes());
        out.push(b' ');
    }
    out.truncate(start + len.max(header));
    // No trailing blank, as a real message.
    if out.last() == Some(&b' ') {
        out.pop();
        out.push(b'.');
    }
}

/// A long line (a dumped request body, a stack trace joined on one line): longer than
/// svlogd's default 1000-byte window and 1024-byte buffer, shorter than s6-log's
/// 8192-byte line limit (a longer one would be split by s6-log into two lines).
fn long_line(rng: &mut Rng, second: u64, out: &mut Vec<u8>) {
    let len = rng.range(1_500, 6_000) as usize;
    line(rng, second, 60, out);
    out.extend_from_slice(b" payload={");
    let mut n = 0;
    while n < len {
        let _ = write!(out, "\"k{n}\":\"{:016x}\",", rng.next());
        n += 26;
    }
    out.extend_from_slice(b"\"end\":1}");
}

/// Writes about `bytes` bytes of log to `path` (through a temporary file): complete lines,
/// then one unterminated line.
fn generate(path: &Path, bytes: u64) -> std::io::Result<()> {
    // Per process: two smoke runs sharing a target dir may generate at once.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = write_log(&tmp, bytes).and_then(|_| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

fn write_log(tmp: &Path, bytes: u64) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(tmp)?);
    let mut rng = Rng(0x5EED_0000 + u64::from(VERSION));
    let mut second = 1_700_000_000u64 % 86_400;
    let mut written = 0u64;
    let mut buf = Vec::with_capacity(8192);
    while written < bytes {
        buf.clear();
        if rng.next() % 2000 == 0 {
            long_line(&mut rng, second, &mut buf);
        } else {
            // Mostly short and medium lines, as real logs: the sum of two uniforms.
            let len = (rng.range(20, 100) + rng.range(20, 100)) as usize;
            line(&mut rng, second, len, &mut buf);
        }
        second += rng.next() % 3 / 2;
        buf.push(b'\n');
        w.write_all(&buf)?;
        written += buf.len() as u64;
    }
    buf.clear();
    line(&mut rng, second, 77, &mut buf);
    buf.extend_from_slice(b" (last line, no newline)");
    w.write_all(&buf)?;
    w.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// The cached input of `mb` MB (10^6 bytes) under `dir`, generated if missing.
pub fn input(dir: &Path, mb: u64) -> Result<PathBuf, String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("svlogd-input-v{VERSION}-{mb}MB.log"));
    if !path.is_file() {
        eprintln!("bench: generating {} ({mb} MB)", path.display());
        generate(&path, mb * 1_000_000).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(path)
}
