//! runsv's diagnostics: `runsv DIR: fatal: …` and `runsv DIR: warning: …` lines with djb
//! error strings, each written to stderr with one write; write errors are ignored.

use std::ffi::{CStr, CString};
use svbox::msg::Line;

/// The service directory as given, which every message names: `runsv DIR: `.
pub struct Diag {
    dir: CString,
}

/// Exit code of every fatal startup error.
pub const FATAL: i32 = 111;

impl Diag {
    pub fn new(dir: CString) -> Diag {
        Diag { dir }
    }

    /// The directory, for `chdir`.
    pub fn dir(&self) -> &CStr {
        &self.dir
    }

    fn say(&self, kind: &str, parts: &[&[u8]], errno: Option<i32>) {
        let mut line = Line::new();
        line.s("runsv ").b(self.dir.as_bytes()).s(": ").s(kind);
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
