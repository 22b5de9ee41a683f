//! One service as sv sees it (§4.2, §4.4, §4.5): entering its directory by name and
//! returning, reading `supervise/ok` + `supervise/status`, the status line, the `status`
//! command (with the log part) and sending control bytes.

use super::output::{fatal, stderr_warning, Out};
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use svbox::fsio::ReadError;
use svbox::msg::fmt_u64;
use svbox::status::{RunState, Status, RUNIT_LEN};
use svbox::supervise::{self, Origin, SendError};
use svbox::tai::Tai64n;

/// What a status read found.
pub enum Got {
    /// `supervise/ok` has no reader; the `fail:`/`ok:` line is printed.
    NotRunning,
    /// A counted warning is printed.
    Failed,
    /// The record, and the `supervise/ok` write end that proved runsv alive.
    Status(Status, OwnedFd),
}

/// How the run continues after a per-service action.
pub enum Flow {
    Continue,
    /// Exit now with this code (LSB `status`).
    Exit(i32),
}

/// State shared by all services of one sv run.
pub struct Sv {
    pub out: Out,
    pub lsb: bool,
    svdir: OsString,
    /// First byte of the command: decides `ok:` vs `fail:` for "runsv not running".
    first: u8,
    /// When sv started, compared with status stamps at full precision (§9.7 fix).
    pub tstart: Tai64n,
    /// "Now" for the `Ns` of status lines: the start, then the start of each wait round.
    pub tnow: Tai64n,
    curdir: Origin,
}

impl Sv {
    /// Opens the current directory to return to; `Err(code)` after the fatal message.
    #[inline(never)]
    pub fn new(lsb: bool, svdir: OsString) -> Result<Sv, i32> {
        let tstart = Tai64n::now();
        let curdir = Origin::here().map_err(|e| {
            fatal("unable to open current directory", e);
            fatal_code(lsb)
        })?;
        Ok(Sv {
            out: Out::default(),
            lsb,
            svdir,
            first: 0,
            tstart,
            tnow: tstart,
            curdir,
        })
    }

    /// Sets the command's first byte once the command is decoded.
    pub fn set_first(&mut self, first: u8) {
        self.first = first;
    }

    /// Changes into the service directory: bare names (not starting with `/` or `.`, not
    /// ending in `/`) under SVDIR, everything else relative to the current directory.
    pub fn enter(&mut self, name: &[u8]) -> bool {
        let dir = OsStr::from_bytes(name);
        let bare = !matches!(name.first(), None | Some(b'/' | b'.')) && name.last() != Some(&b'/');
        let result = if bare {
            rustix::process::chdir(self.svdir.as_os_str())
                .and_then(|()| rustix::process::chdir(dir))
        } else {
            rustix::process::chdir(dir)
        };
        match result {
            Ok(()) => true,
            Err(e) => {
                self.out.fail(
                    name,
                    false,
                    "unable to change to service directory",
                    Some(e),
                );
                false
            }
        }
    }

    /// Returns to the original directory; `Err(code)` after the fatal message.
    pub fn leave(&mut self) -> Result<(), i32> {
        self.curdir.back().map_err(|e| {
            self.out.flush();
            fatal("unable to change to original directory", e);
            fatal_code(self.lsb)
        })
    }

    /// `runsv not running`: `ok:` when `command` is `x` (exit), else a counted `fail:`.
    fn not_running(&mut self, name: &[u8], log: bool, command: u8) {
        if command == b'x' {
            self.out.ok(name, log, "runsv not running");
        } else {
            self.out.fail(name, log, "runsv not running", None);
        }
    }

    /// runit's `svstatus_get` in the current directory.
    pub fn status_get(&mut self, name: &[u8], log: bool) -> Got {
        let ok = match supervise::open_ok() {
            Ok(fd) => fd,
            Err(Errno::NXIO) => {
                self.not_running(name, log, self.first);
                return Got::NotRunning;
            }
            Err(e) => {
                self.out
                    .warn(name, log, "unable to open supervise/ok", Some(e));
                return Got::Failed;
            }
        };
        const BAD: (&str, Option<Errno>) = ("unable to read supervise/status: bad format", None);
        let mut buf = [0u8; RUNIT_LEN];
        // One read, as runit does: a file of at least 20 bytes is a record.
        let problem = match supervise::read_status(&mut buf) {
            Ok(RUNIT_LEN) => match Status::decode(&buf) {
                Ok(status) => return Got::Status(status, ok),
                Err(_) => BAD,
            },
            Ok(_) => BAD,
            Err(ReadError::Open(e)) => ("unable to open supervise/status", Some(e)),
            Err(ReadError::Read(e)) => ("unable to read supervise/status", Some(e)),
        };
        self.out.warn(name, log, problem.0, problem.1);
        Got::Failed
    }

    /// Appends the status line (without newline) for the current directory; 1 if a pid
    /// is recorded, 2 if not, 0 if `down` could not be examined (nothing printed then).
    pub fn status_print(&mut self, label: &[u8], service: &[u8], st: &Status) -> u8 {
        let normally_up = match svbox::filestat::stat(c"down") {
            Ok(_) => false,
            Err(Errno::NOENT) => true,
            Err(e) => {
                stderr_warning("unable to stat ", service, "/down", e.raw_os_error());
                return 0;
            }
        };
        let out = &mut self.out;
        out.puts(st.state.name().as_bytes());
        out.puts(b": ");
        out.puts(label);
        out.puts(b": ");
        let mut digits = [0u8; 20];
        if st.state != RunState::Down {
            out.puts(b"(pid ");
            out.puts(fmt_u64(u64::from(st.pid), &mut digits));
            out.puts(b") ");
        }
        let secs = self.tnow.sec.saturating_sub(st.stamp.sec);
        out.puts(fmt_u64(secs, &mut digits));
        out.puts(b"s");
        let pid = st.pid != 0;
        svbox::supervise::state_suffixes(pid, normally_up, st.paused, st.want, |s| out.puts(s));
        if pid && st.term {
            out.puts(b", got TERM");
        }
        if pid {
            1
        } else {
            2
        }
    }

    /// The `status` command for the service in the current directory.
    #[inline(never)]
    pub fn status(&mut self, name: &[u8]) -> Flow {
        let st = match self.status_get(name, false) {
            Got::Status(st, _) => st,
            Got::Failed if self.lsb => return Flow::Exit(4),
            Got::Failed | Got::NotRunning => return Flow::Continue,
        };
        // 2.3.0: the LSB exit code is the main service's, whatever the log says.
        let rc = self.status_print(name, name, &st);
        match rustix::process::chdir("log") {
            Err(Errno::NOENT) => self.out.puts(b"\n"),
            Err(e) => {
                self.out.puts(b"; ");
                self.out
                    .warn(name, true, "unable to change directory", Some(e));
            }
            Ok(()) => {
                self.out.puts(b"; ");
                // A failed log read prints its own line; runit then also printed the main
                // service's record as the log's (§9 item 15), which is not repeated here.
                if let Got::Status(log, _) = self.status_get(name, true) {
                    self.status_print(b"log", name, &log);
                    self.out.puts(b"\n");
                }
            }
        }
        self.out.flush();
        if self.lsb {
            return Flow::Exit(match rc {
                1 => 0,
                2 => 3,
                _ => 4,
            });
        }
        Flow::Continue
    }

    /// Sends `bytes` unless the skip rule says runsv already wants it; `None` drops the
    /// service, else the `supervise/ok` descriptor of the status read.
    pub fn control(&mut self, name: &[u8], bytes: &[u8]) -> Option<OwnedFd> {
        let (st, ok) = match self.status_get(name, false) {
            Got::Status(st, ok) => (st, ok),
            _ => return None,
        };
        // `d` is re-sent after `once` (want is already `d`) unless a TERM is pending.
        if st.want == bytes[0] && (bytes[0] != b'd' || st.term) {
            return Some(ok);
        }
        // One write: runsv must see the bytes of `tcu` in order, and a FIFO write of so few
        // bytes is atomic.
        let problem = match supervise::send(bytes) {
            Ok(()) => return Some(ok),
            Err(SendError::Open(Errno::NXIO)) => {
                self.not_running(name, false, bytes[0]);
                return None;
            }
            Err(SendError::Open(e)) => ("unable to open supervise/control", e),
            Err(SendError::Write(e)) => ("unable to write to supervise/control", e),
        };
        self.out.warn(name, false, problem.0, Some(problem.1));
        None
    }
}

/// Exit code of a fatal error: 100, or 151 in LSB mode.
pub fn fatal_code(lsb: bool) -> i32 {
    if lsb {
        151
    } else {
        100
    }
}
