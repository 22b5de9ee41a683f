//! Starting `./run`, `./finish A B` or `log/run` (runit's `startservice`, §2.5), with the
//! children's own fatal messages. A failed fork is retried after 5 s through a deadline
//! instead of runit's blocking `sleep(5)`.

use super::act;
use super::clock::{Mono, SECOND};
use super::files;
use super::hooks;
use super::svc::{Kind, Service, Shared};
use super::table;
use std::ffi::CStr;
use svbox::msg::fmt_u64;
use svbox::spawn::{Spawn, Stage};
use svbox::status::RunState;
use svbox::tai::Tai64n;

const FORK_RETRY: u64 = 5 * SECOND;

/// A decimal number as a C string in a stack buffer (NUL-padded).
struct Num {
    buf: [u8; 24],
}

impl Num {
    fn new(value: u64, negative: bool) -> Num {
        let mut digits = [0u8; 20];
        let d = fmt_u64(value, &mut digits);
        let mut buf = [0u8; 24];
        let start = usize::from(negative);
        buf[0] = b'-';
        buf[start..start + d.len()].copy_from_slice(d);
        Num { buf }
    }

    fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"")
    }
}

/// Starts the service's next program. `explicit` marks a start asked for by `u`/`o`, which
/// must survive a deadline even when want is down.
pub fn start(s: &mut Service, sh: &mut Shared, explicit: bool) {
    let now = Mono::now();
    if now < s.not_before {
        s.pending |= explicit;
        return;
    }
    let finishing = s.kind == Kind::Main && s.state == RunState::Finish;
    // runit runs `control/u` once and then retries only the fork.
    if !finishing && !s.hook_ran {
        hooks::run(s.kind, b'u', sh);
    }
    if s.pid != 0 {
        // runit: "should never happen" — a `k` whose hook left the old child running.
        let plan = table::stop_plan(&s.view());
        act::apply(&plan, s, sh);
    }
    let (code, stat) = finish_args(s.wstat);
    let argv_finish = [c"./finish", code.as_cstr(), stat.as_cstr()];
    let argv: &[&CStr] = if finishing { &argv_finish } else { &[c"./run"] };
    let log = s.kind == Kind::Log;
    let diag = &sh.diag;
    let report = |stage: Stage, errno: i32| {
        let what: &[u8] = match (log, stage, finishing) {
            (true, Stage::Descriptors, _) => b"unable to setup filedescriptor for ./log/run",
            (true, Stage::Directory, _) => b"unable to change directory to ./log",
            (true, Stage::Exec, _) => b"unable to start log/./run",
            (false, Stage::Exec, true) => b"unable to start ./finish",
            (false, Stage::Exec, false) => b"unable to start ./run",
            (false, _, _) => b"unable to setup filedescriptor for ./run",
        };
        diag.fatal(&[what], Some(errno));
    };
    // The log service reads the pipe in ./log; the main service's children write to it.
    let spawn = Spawn {
        dir: log.then_some(c"./log"),
        stdin: if log { sh.log_reader() } else { None },
        stdout: if log { None } else { sh.log_writer() },
        ..Spawn::new(argv, &report)
    };
    let pid = match spawn.start() {
        Ok(pid) => pid,
        Err(errno) => {
            sh.diag.warn(&[b"unable to fork, sleeping"], Some(errno));
            s.not_before = now.plus(FORK_RETRY);
            s.pending |= explicit;
            s.hook_ran = !finishing;
            return;
        }
    };
    if !finishing {
        s.stamp = Tai64n::now();
        s.started = now;
        s.state = RunState::Run;
    }
    s.pid = pid;
    s.pending = false;
    s.hook_ran = false;
    s.paused = false;
    s.term = false;
    sh.pid_changed = true;
    files::write(s, &mut sh.pid_changed, &sh.diag);
}

/// `./finish`'s arguments: exit code or `-1` for a signal death, and `wstat & 0xff`.
fn finish_args(wstat: i32) -> (Num, Num) {
    let code = if wstat & 0x7f != 0 {
        Num::new(1, true)
    } else {
        Num::new(((wstat >> 8) & 0xff) as u64, false)
    };
    (code, Num::new((wstat & 0xff) as u64, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(wstat: i32) -> (String, String) {
        let (a, b) = finish_args(wstat);
        let s = |n: &Num| n.as_cstr().to_str().unwrap().to_string();
        (s(&a), s(&b))
    }

    #[test]
    fn finish_arguments_as_runit() {
        assert_eq!(args(3 << 8), ("3".into(), "0".into()));
        assert_eq!(args(111 << 8), ("111".into(), "0".into()));
        assert_eq!(args(15), ("-1".into(), "15".into()));
        assert_eq!(args(11 | 0x80), ("-1".into(), "139".into()));
        assert_eq!(args(0), ("0".into(), "0".into()));
    }
}
