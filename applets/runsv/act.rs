//! Carries out a `Plan` from the transition table: the only place where a service's record
//! changes, signals are sent, hooks run and status files are written.

use super::child;
use super::clock::{Mono, SECOND};
use super::files;
use super::hooks;
use super::svc::{Service, Shared};
use super::table::{Action, Plan};
use nix::sys::signal::Signal;
use svbox::signals::send;
use svbox::status::RunState;
use svbox::tai::Tai64n;

pub fn apply(plan: &Plan, s: &mut Service, sh: &mut Shared) {
    for action in plan.steps() {
        match *action {
            Action::SetWant(w) => s.want = w,
            Action::SetState(st) => s.state = st,
            Action::SetPaused(p) => s.paused = p,
            Action::CancelPending => {
                s.pending = false;
                s.hook_ran = false;
            }
            Action::WriteStatus => files::write(s, &mut sh.pid_changed, &sh.diag),
            Action::Start => child::start(s, sh, true),
            Action::Term => {
                if !hooks::run(s.kind, b't', sh) {
                    send(s.pid, Signal::SIGTERM);
                    s.term = true;
                    files::write(s, &mut sh.pid_changed, &sh.diag);
                }
            }
            Action::Cont => send(s.pid, Signal::SIGCONT),
            Action::Notify(byte) => {
                hooks::run(s.kind, byte, sh);
            }
            Action::Signal(byte, sig) => {
                if !hooks::run(s.kind, byte, sh) {
                    send(s.pid, sig);
                }
            }
            Action::Reaped(wstat) => {
                s.pid = 0;
                s.wstat = wstat;
                s.term = false;
                sh.pid_changed = true;
            }
            Action::WentDown => {
                s.state = RunState::Down;
                s.stamp = Tai64n::now();
            }
            Action::Throttle => s.not_before = Mono::now().plus(SECOND),
        }
    }
}
