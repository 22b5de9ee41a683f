//! svlogd's diagnostics (§0.1, §5): `svlogd: warning|fatal|pausing|info: ...` lines.

use rustix::io::Errno;
use svbox::msg::Line;

/// Writes `svlogd: KIND: PARTS...[: ERR]` to stderr in one write.
pub fn say(kind: &str, parts: &[&[u8]], errno: Option<i32>) {
    let mut line = Line::new();
    line.s("svlogd: ").s(kind);
    for p in parts {
        line.b(p);
    }
    if let Some(e) = errno {
        line.err(e);
    }
    line.to_stderr();
}

pub fn warn(parts: &[&[u8]], errno: Option<i32>) {
    say("warning: ", parts, errno);
}

/// `warning: WHAT` + `DIR: ERR`, the most common form.
#[inline(never)]
pub fn warn_dir(what: &str, dir: &[u8], e: Errno) {
    warn(&[what.as_bytes(), dir], Some(e.raw_os_error()));
}

pub fn info(parts: &[&[u8]]) {
    say("info: ", parts, None);
}

pub fn pausing(what: &str, dir: &[u8], errno: i32) {
    say("pausing: ", &[what.as_bytes(), b": ", dir], Some(errno));
}
