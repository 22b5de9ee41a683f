//! svstat: daemontools' status report, one line per DIR on stdout, from the first 18 bytes
//! of `supervise/status` — so it reads runsv's 20-byte records and daemontools' own alike.
//! Problems are reported on the DIR's line; the exit code is 0.
//! install: usr/bin

use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use svbox::fsio::ReadError;
use svbox::msg::{fmt_u64, write_all, Line};
use svbox::status::{Status, DAEMONTOOLS_LEN};
use svbox::supervise::{self, Origin};
use svbox::tai::Tai64n;

pub fn main(args: Vec<OsString>) -> i32 {
    let origin = match Origin::here() {
        Ok(o) => o,
        Err(e) => return fatal("unable to open current directory", e),
    };
    let mut line = Vec::with_capacity(128);
    for dir in args.iter().skip(1) {
        line.clear();
        line.extend_from_slice(dir.as_bytes());
        line.extend_from_slice(b": ");
        report(dir, &mut line);
        line.push(b'\n');
        write_all(rustix::stdio::stdout(), &line);
        if let Err(e) = origin.back() {
            return fatal("unable to set directory", e);
        }
    }
    0
}

/// What kept a directory from being reported: the text, and the error if there is one.
type Problem = (&'static str, Option<Errno>);

/// Appends the state of `dir`, or what prevented reading it.
fn report(dir: &OsStr, out: &mut Vec<u8>) {
    match examine(dir) {
        Ok((st, normally_up)) => describe(&st, normally_up, Tai64n::now().sec, out),
        Err((text, err)) => {
            out.extend_from_slice(text.as_bytes());
            if let Some(e) = err {
                out.extend_from_slice(b": ");
                out.extend_from_slice(svbox::errstr::errstr(e.raw_os_error()).as_bytes());
            }
        }
    }
}

/// Changes into `dir` and reads its record, checking in daemontools' order; also says
/// whether the service is normally up (no `down` file).
fn examine(dir: &OsStr) -> Result<(Status, bool), Problem> {
    const BAD: Problem = ("unable to read supervise/status: bad format", None);
    rustix::process::chdir(dir).map_err(|e| ("unable to chdir", Some(e)))?;
    let normally_up = match svbox::filestat::stat(c"down") {
        Ok(_) => false,
        Err(Errno::NOENT) => true,
        Err(e) => return Err(("unable to stat down", Some(e))),
    };
    match supervise::open_ok() {
        Ok(_) => {}
        Err(Errno::NXIO) => return Err(("supervise not running", None)),
        Err(e) => return Err(("unable to open supervise/ok", Some(e))),
    }
    let mut buf = [0u8; DAEMONTOOLS_LEN];
    match supervise::read_status(&mut buf) {
        Err(ReadError::Open(e)) => Err(("unable to open supervise/status", Some(e))),
        Err(ReadError::Read(e)) => Err(("unable to read supervise/status", Some(e))),
        Ok(n) if n < DAEMONTOOLS_LEN => Err(BAD),
        Ok(_) => Status::decode(&buf)
            .map(|st| (st, normally_up))
            .map_err(|_| BAD),
    }
}

/// daemontools' status text for a record, `now` being the current TAI label.
fn describe(st: &Status, normally_up: bool, now: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let up = st.pid != 0;
    if up {
        out.extend_from_slice(b"up (pid ");
        out.extend_from_slice(fmt_u64(u64::from(st.pid), &mut digits));
        out.extend_from_slice(b") ");
    } else {
        out.extend_from_slice(b"down ");
    }
    // daemontools prints the difference through a double (`tai_approx`): exact below 2^53
    // seconds, and for a zeroed record the same rounded figure as daemontools.
    let secs = (now.saturating_sub(st.stamp.sec) as f64) as u64;
    out.extend_from_slice(fmt_u64(secs, &mut digits));
    out.extend_from_slice(b" seconds");
    svbox::supervise::state_suffixes(up, normally_up, st.paused, st.want, |s| {
        out.extend_from_slice(s)
    });
}

fn fatal(what: &str, e: Errno) -> i32 {
    Line::new()
        .s("svstat: fatal: ")
        .s(what)
        .err(e.raw_os_error())
        .to_stderr();
    111
}

#[cfg(test)]
mod tests {
    use super::*;
    use svbox::status::RunState;

    fn text(pid: u32, paused: bool, want: u8, normally_up: bool, age: u64) -> String {
        let st = Status {
            stamp: Tai64n::from_unix(1_000_000, 500),
            pid,
            paused,
            want,
            term: false,
            state: RunState::Down,
        };
        let mut out = Vec::new();
        describe(&st, normally_up, st.stamp.sec + age, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn daemontools_wording() {
        assert_eq!(text(12, false, b'u', true, 3), "up (pid 12) 3 seconds");
        assert_eq!(
            text(12, true, b'd', false, 0),
            "up (pid 12) 0 seconds, normally down, paused, want down"
        );
        assert_eq!(
            text(0, true, b'u', true, 9),
            "down 9 seconds, normally up, want up"
        );
        assert_eq!(text(0, false, b'd', false, 1), "down 1 seconds");
        assert_eq!(text(0, false, 0, true, 1), "down 1 seconds, normally up");
    }

    #[test]
    fn future_stamps_count_as_zero_and_huge_ages_round_like_a_double() {
        let st = Status::decode(&[0u8; 18]).unwrap();
        let mut out = Vec::new();
        describe(&st, false, st.stamp.sec, &mut out);
        assert_eq!(out, b"down 0 seconds");
        out.clear();
        // Seen from daemontools' svstat on an all-zero record (2^62 + 10 + 1795252214 s).
        describe(&st, false, 0x4000_0000_0000_000a + 1_795_252_514, &mut out);
        assert_eq!(out, b"down 4611686020222640128 seconds");
    }
}
