//! Where runsvdir's own diagnostics go: stderr as runit, the process-title area directly when
//! LOG is in use (writing into the pipe runsvdir itself drains could block it), and a
//! non-blocking descriptor of the `.svscan/log` pipe when that logger is supervised (a stuck
//! logger must never wedge the supervisor).

use super::title::Title;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::OFlags;
use svbox::msg::Line;

pub struct Out {
    /// `runsvdir DIR: `
    prefix: Vec<u8>,
    pub title: Option<Title>,
    pub own: Option<OwnedFd>,
    /// No separate descriptor could be opened (no /proc): make fd 2 non-blocking around
    /// each own write instead.
    pub toggle: bool,
}

impl Out {
    pub fn new(dir: &[u8]) -> Out {
        let mut prefix = b"runsvdir ".to_vec();
        prefix.extend_from_slice(dir);
        prefix.extend_from_slice(b": ");
        Out {
            prefix,
            title: None,
            own: None,
            toggle: false,
        }
    }

    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// `runsvdir DIR: warning: A B: ERR` (no `: ERR` when `errno` is None).
    pub fn warn(&mut self, a: &[u8], b: &[u8], errno: Option<i32>) {
        let mut line = Line::new();
        line.b(&self.prefix).s("warning: ").b(a).b(b);
        if let Some(e) = errno {
            line.err(e);
        }
        self.emit(&mut line);
    }

    /// Writes a finished line (without its newline) to wherever diagnostics go.
    pub fn emit(&mut self, line: &mut Line) {
        if let Some(t) = self.title.as_mut() {
            t.feed(line.as_bytes());
            t.feed(b"\n");
        }
        match self.own.as_ref() {
            Some(fd) => line.write_to(fd.as_fd()),
            None if self.toggle => {
                let fd = rustix::stdio::stderr();
                let old = rustix::fs::fcntl_getfl(fd).unwrap_or(OFlags::empty());
                let _ = rustix::fs::fcntl_setfl(fd, old | OFlags::NONBLOCK);
                line.to_stderr();
                let _ = rustix::fs::fcntl_setfl(fd, old);
            }
            None if self.title.is_none() => line.to_stderr(),
            None => {}
        }
    }
}
