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
        let log: &[u8] = if log { b"/log" } else { b"" };
        for part in [prefix.as_bytes(), name, log, b": ", text.as_bytes()] {
            self.puts(part);
        }
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
    stderr_line(
        &[b"warning: ", what.as_bytes(), name, file.as_bytes()],
        errno,
    );
}

/// `fatal: TEXT: ERR` on stderr.
pub fn fatal(text: &str, err: Errno) {
    stderr_line(&[b"fatal: ", text.as_bytes()], err.raw_os_error());
}

/// `PARTS: ERR` as one line on stderr.
fn stderr_line(parts: &[&[u8]], errno: i32) {
    let mut line = parts.concat();
    line.extend_from_slice(b": ");
    line.extend_from_slice(errstr(errno).as_bytes());
    line.push(b'\n');
    write_all(rustix::stdio::stderr(), &line);
}
