//! runsv's diagnostics: `runsv DIR: fatal: …` and `runsv DIR: warning: …` lines with djb
//! error strings, each written to stderr with one write; write errors are ignored.

use svbox::msg::Line;

/// The `runsv DIR: ` prefix, built once at startup.
pub struct Diag {
    prefix: Vec<u8>,
}

/// Exit code of every fatal startup error.
pub const FATAL: i32 = 111;

impl Diag {
    pub fn new(dir: &[u8]) -> Diag {
        let mut prefix = Vec::with_capacity(dir.len() + 8);
        prefix.extend_from_slice(b"runsv ");
        prefix.extend_from_slice(dir);
        prefix.extend_from_slice(b": ");
        Diag { prefix }
    }

    fn say(&self, kind: &str, parts: &[&[u8]], errno: Option<i32>) {
        let mut line = Line::new();
        line.b(&self.prefix).s(kind);
        for part in parts {
            line.b(part);
        }
        if let Some(e) = errno {
            line.err(e);
        }
        line.to_stderr();
    }

    /// Prints a fatal message and returns the exit code for it.
    pub fn fatal(&self, parts: &[&[u8]], errno: Option<i32>) -> i32 {
        self.say("fatal: ", parts, errno);
        FATAL
    }

    pub fn warn(&self, parts: &[&[u8]], errno: Option<i32>) {
        self.say("warning: ", parts, errno);
    }
}
