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

/// A decimal number as a C string in a stack buffer.
struct Num {
    buf: [u8; 24],
    len: usize,
}

impl Num {
    fn new(value: u64, negative: bool) -> Num {
        let mut digits = [0u8; 20];
        let d = fmt_u64(value, &mut digits);
        let mut buf = [0u8; 24];
        let mut len = 0;
        if negative {
            buf[0] = b'-';
            len = 1;
        }
        buf[len..len + d.len()].copy_from_slice(d);
        len += d.len();
        Num { buf, len: len + 1 } // includes the NUL already in buf
    }

    fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_with_nul(&self.buf[..self.len]).unwrap_or(c"")
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
    let argv_run = [c"./run"];
    let kind = s.kind;
    let diag = &sh.diag;
    let report = |stage: Stage, errno: i32| {
        let what: &[&[u8]] = match (kind, stage, finishing) {
            (Kind::Log, Stage::Descriptors, _) => {
                &[b"unable to setup filedescriptor for ./log/run"]
            }
            (Kind::Log, Stage::Directory, _) => &[b"unable to change directory to ./log"],
            (Kind::Log, Stage::Exec, _) => &[b"unable to start log/./run"],
            (Kind::Main, Stage::Exec, true) => &[b"unable to start ./finish"],
            (Kind::Main, Stage::Exec, false) => &[b"unable to start ./run"],
            (Kind::Main, _, _) => &[b"unable to setup filedescriptor for ./run"],
        };
        diag.fatal(what, Some(errno));
    };
    let spawn = match kind {
        Kind::Main => Spawn {
            stdout: sh.log_writer(),
            ..Spawn::new(if finishing { &argv_finish } else { &argv_run }, &report)
        },
        Kind::Log => Spawn {
            dir: Some(c"./log"),
            stdin: sh.log_reader(),
            ..Spawn::new(&argv_run, &report)
        },
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
