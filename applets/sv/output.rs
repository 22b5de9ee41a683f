//! sv's output (§4.9): report lines on stdout, assembled in a buffer and written one line at
//! a time (runit's `buffer_1` with its explicit flushes); a handful of warnings on stderr;
//! and the count of problems that becomes the exit code.

use rustix::io::Errno;
use svbox::errstr::errstr;
use svbox::msg::write_all;

/// Pending stdout bytes and the problem count.
#[derive(Default)]
pub struct Out {
    buf: Vec<u8>,
    /// Counted `fail:`/`warning:` lines and timeouts.
    pub problems: u32,
}

impl Out {
    /// Appends to the current stdout line without writing it.
    pub fn puts(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Writes what is pending; a closed or broken stdout is ignored.
    pub fn flush(&mut self) {
        if !self.buf.is_empty() {
            write_all(rustix::stdio::stdout(), &self.buf);
            self.buf.clear();
        }
    }

    /// `PREFIX NAME[/log]: TEXT[: ERR]\n`, appended to what is pending and flushed.
    pub fn line(&mut self, prefix: &str, name: &[u8], log: bool, text: &str, err: Option<Errno>) {
        self.puts(prefix.as_bytes());
        self.puts(name);
        if log {
            self.puts(b"/log");
        }
        self.puts(b": ");
        self.puts(text.as_bytes());
        if let Some(e) = err {
            self.puts(b": ");
            self.puts(errstr(e.raw_os_error()).as_bytes());
        }
        self.puts(b"\n");
        self.flush();
    }

    pub fn fail(&mut self, name: &[u8], log: bool, text: &str, err: Option<Errno>) {
        self.problems += 1;
        self.line("fail: ", name, log, text, err);
    }

    pub fn warn(&mut self, name: &[u8], log: bool, text: &str, err: Option<Errno>) {
        self.problems += 1;
        self.line("warning: ", name, log, text, err);
    }

    pub fn ok(&mut self, name: &[u8], log: bool, text: &str) {
        self.line("ok: ", name, log, text, None);
    }

    /// The exit code of normal mode: problems capped at 99.
    pub fn exit_code(&self) -> i32 {
        self.problems.min(99) as i32
    }
}

/// `warning: WHAT NAME/FILE: ERR` on stderr (stat/fork/exec/wait trouble with down, check).
pub fn stderr_warning(what: &str, name: &[u8], file: &str, errno: i32) {
    let mut line = Vec::with_capacity(64 + name.len());
    line.extend_from_slice(b"warning: ");
    line.extend_from_slice(what.as_bytes());
    line.extend_from_slice(name);
    line.extend_from_slice(file.as_bytes());
    line.extend_from_slice(b": ");
    line.extend_from_slice(errstr(errno).as_bytes());
    line.push(b'\n');
    write_all(rustix::stdio::stderr(), &line);
}

/// `fatal: TEXT: ERR` on stderr.
pub fn fatal(text: &str, err: Errno) {
    let mut line = Vec::with_capacity(96);
    line.extend_from_slice(b"fatal: ");
    line.extend_from_slice(text.as_bytes());
    line.extend_from_slice(b": ");
    line.extend_from_slice(errstr(err.raw_os_error()).as_bytes());
    line.push(b'\n');
    write_all(rustix::stdio::stderr(), &line);
}
