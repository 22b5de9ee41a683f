//! runsv's behaviour as one table: (service state, event) → the list of actions to take.
//!
//! Pure: it reads a `View` and returns a `Plan`; `act` performs the actions in order. Every
//! rule of runit 2.1.2's control bytes (§2.7), child exits (§2.6) and exit sequence (§2.10)
//! is here, so the supervisor loop itself has no policy.

use super::svc::{Kind, View, Want};
use nix::sys::signal::Signal;
use svbox::status::RunState;

/// Something that happened to one service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A byte read from its `control` FIFO (SIGTERM arrives as `x` for the main service).
    Control(u8),
    /// Its child exited with raw wait status `wstat`; `finish` = `./finish` is readable (only
    /// asked for a main service not already finishing); `short` = `./run` started < 1 s ago.
    Exited {
        wstat: i32,
        finish: bool,
        short: bool,
    },
}

/// One step of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    SetWant(Want),
    SetState(RunState),
    SetPaused(bool),
    /// Forget a start that `u`/`o` left waiting for a deadline.
    CancelPending,
    WriteStatus,
    /// Start `./run` now, or at the deadline if one holds starts back.
    Start,
    /// Unless hook `control/t` succeeds: SIGTERM, set the TERM flag, write status.
    Term,
    /// SIGCONT to the child, no hook.
    Cont,
    /// Run hook `control/<byte>` for its side effects only.
    Notify(u8),
    /// Unless hook `control/<byte>` succeeds: send the signal.
    Signal(u8, Signal),
    /// The child is gone: pid 0, keep its wait status, clear the TERM flag.
    Reaped(i32),
    /// State down, timestamp now.
    WentDown,
    /// Hold the next start back by one second.
    Throttle,
}

const CAPACITY: usize = 8;

/// A short, fixed-size list of actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    steps: [Action; CAPACITY],
    len: usize,
}

impl Plan {
    fn new() -> Plan {
        Plan {
            steps: [Action::WriteStatus; CAPACITY],
            len: 0,
        }
    }

    // Out of line: inlined, each of the many call sites would carry the bounds check.
    #[inline(never)]
    fn push(&mut self, action: Action) {
        // The longest plan (`d` while running) has 6 steps.
        if self.len < CAPACITY {
            self.steps[self.len] = action;
            self.len += 1;
        }
    }

    pub fn steps(&self) -> &[Action] {
        &self.steps[..self.len]
    }

    /// runit's `stopservice` for a service whose want is (now) `want`.
    fn stop(&mut self, v: &View, want: Want) {
        if v.has_pid {
            self.push(Action::Term);
        }
        match want {
            Want::Down => {
                self.push(Action::Cont);
                self.push(Action::Notify(b'd'));
            }
            Want::Exit => {
                self.push(Action::Cont);
                self.push(Action::Notify(b'x'));
            }
            // No CONT: a paused service given `t` stays stopped with TERM pending.
            Want::Up => {}
        }
    }
}

/// runit's stop sequence on its own, for a start that finds an old child still recorded.
pub fn stop_plan(v: &View) -> Plan {
    let mut p = Plan::new();
    p.stop(v, v.want);
    p
}

/// Whether the supervisor should have a child running for this service.
pub fn wants_child(v: &View) -> bool {
    !v.has_pid && (v.want == Want::Up || v.state == RunState::Finish || v.pending)
}

fn signal_for(byte: u8) -> Option<Signal> {
    Some(match byte {
        b'h' => Signal::SIGHUP,
        b'a' => Signal::SIGALRM,
        b'i' => Signal::SIGINT,
        b'q' => Signal::SIGQUIT,
        b'1' => Signal::SIGUSR1,
        b'2' => Signal::SIGUSR2,
        _ => return None,
    })
}

/// The actions for `event` on a service in state `v`.
pub fn on_event(v: &View, event: Event) -> Plan {
    let mut p = Plan::new();
    let running = v.state == RunState::Run;
    match event {
        Event::Exited {
            wstat,
            finish,
            short,
        } => {
            p.push(Action::Reaped(wstat));
            if v.kind == Kind::Main && v.state != RunState::Finish && finish {
                p.push(Action::SetState(RunState::Finish));
                p.push(Action::WriteStatus);
            } else {
                p.push(Action::WentDown);
                p.push(Action::WriteStatus);
                if short {
                    p.push(Action::Throttle);
                }
            }
        }
        Event::Control(byte) => match byte {
            b'd' => {
                p.push(Action::SetWant(Want::Down));
                p.push(Action::CancelPending);
                p.push(Action::WriteStatus);
                if running {
                    p.stop(v, Want::Down);
                }
            }
            b'u' | b'o' => {
                p.push(Action::SetWant(if byte == b'u' {
                    Want::Up
                } else {
                    Want::Down
                }));
                p.push(Action::WriteStatus);
                if v.state == RunState::Down {
                    p.push(Action::Start);
                }
            }
            b'x' if v.kind == Kind::Main => {
                p.push(Action::SetWant(Want::Exit));
                p.push(Action::CancelPending);
                p.push(Action::WriteStatus);
                if running {
                    p.stop(v, Want::Exit);
                }
            }
            b't' if running => p.stop(v, v.want),
            b'k' => {
                if running {
                    p.push(Action::Signal(b'k', Signal::SIGKILL));
                }
                // runit marks it down at once and writes status only when it is reaped.
                p.push(Action::SetState(RunState::Down));
            }
            b'p' | b'c' => {
                let pause = byte == b'p';
                if running {
                    let sig = if pause {
                        Signal::SIGSTOP
                    } else {
                        Signal::SIGCONT
                    };
                    p.push(Action::Signal(byte, sig));
                }
                p.push(Action::SetPaused(pause));
                p.push(Action::WriteStatus);
            }
            _ => {
                if let (true, Some(sig)) = (running, signal_for(byte)) {
                    p.push(Action::Signal(byte, sig));
                }
            }
        },
    }
    p
}

/// What the end of a loop iteration decides (§2.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Continue,
    /// Exit 0 now.
    Exit,
    /// Give the logger want exit and EOF (close runsv's ends of the log pipe).
    ReleaseLog,
}

pub fn ending(main: &View, log: Option<&View>) -> Ending {
    if main.want != Want::Exit || main.state != RunState::Down {
        return Ending::Continue;
    }
    match log {
        Some(l) if l.has_pid => {
            if l.want == Want::Exit {
                Ending::Continue
            } else {
                Ending::ReleaseLog
            }
        }
        _ => Ending::Exit,
    }
}

#[cfg(test)]
mod tests {
    use super::Action::*;
    use super::{ending, on_event, wants_child, Action, Ending, Event, Kind, RunState, View, Want};
    use nix::sys::signal::Signal as Sig;

    fn view(kind: Kind, state: RunState, want: Want) -> View {
        View {
            kind,
            state,
            want,
            has_pid: state != RunState::Down,
            pending: false,
        }
    }

    fn plan(v: View, byte: u8) -> Vec<Action> {
        on_event(&v, Event::Control(byte)).steps().to_vec()
    }

    #[test]
    fn down_while_running_terms_then_conts_then_notifies() {
        let v = view(Kind::Main, RunState::Run, Want::Up);
        let want = vec![
            SetWant(Want::Down),
            CancelPending,
            WriteStatus,
            Term,
            Cont,
            Notify(b'd'),
        ];
        assert_eq!(plan(v, b'd'), want);
        let v = view(Kind::Main, RunState::Finish, Want::Up);
        assert_eq!(
            plan(v, b'd'),
            vec![SetWant(Want::Down), CancelPending, WriteStatus]
        );
    }

    #[test]
    fn term_without_cont_when_want_up() {
        let v = view(Kind::Main, RunState::Run, Want::Up);
        assert_eq!(plan(v, b't'), vec![Term]);
        assert_eq!(
            plan(view(Kind::Main, RunState::Down, Want::Up), b't'),
            vec![]
        );
        let v = view(Kind::Main, RunState::Run, Want::Exit);
        assert_eq!(plan(v, b't'), vec![Term, Cont, Notify(b'x')]);
    }

    #[test]
    fn exit_only_for_main() {
        let v = view(Kind::Log, RunState::Run, Want::Up);
        assert_eq!(plan(v, b'x'), vec![]);
        let v = view(Kind::Main, RunState::Run, Want::Up);
        assert_eq!(
            plan(v, b'x')[..3],
            [SetWant(Want::Exit), CancelPending, WriteStatus]
        );
    }

    #[test]
    fn kill_marks_down_without_status() {
        let v = view(Kind::Main, RunState::Run, Want::Up);
        assert_eq!(
            plan(v, b'k'),
            vec![Signal(b'k', Sig::SIGKILL), SetState(RunState::Down)]
        );
        let v = view(Kind::Main, RunState::Finish, Want::Up);
        assert_eq!(plan(v, b'k'), vec![SetState(RunState::Down)]);
    }

    #[test]
    fn pause_flag_set_even_when_down_and_signals_only_when_running() {
        let down = view(Kind::Main, RunState::Down, Want::Down);
        assert_eq!(plan(down, b'p'), vec![SetPaused(true), WriteStatus]);
        assert_eq!(plan(down, b'h'), vec![]);
        let run = view(Kind::Main, RunState::Run, Want::Up);
        assert_eq!(plan(run, b'h'), vec![Signal(b'h', Sig::SIGHUP)]);
        assert_eq!(plan(run, b'2'), vec![Signal(b'2', Sig::SIGUSR2)]);
        assert_eq!(plan(run, b'e'), vec![]);
        assert_eq!(plan(run, b'\n'), vec![]);
    }

    #[test]
    fn up_and_once_start_only_from_down() {
        let down = view(Kind::Main, RunState::Down, Want::Down);
        assert_eq!(
            plan(down, b'o'),
            vec![SetWant(Want::Down), WriteStatus, Start]
        );
        assert_eq!(
            plan(down, b'u'),
            vec![SetWant(Want::Up), WriteStatus, Start]
        );
        let fin = view(Kind::Main, RunState::Finish, Want::Down);
        assert_eq!(plan(fin, b'u'), vec![SetWant(Want::Up), WriteStatus]);
    }

    #[test]
    fn exits_go_to_finish_or_down_with_throttle() {
        let run = view(Kind::Main, RunState::Run, Want::Up);
        let e = |finish, short| Event::Exited {
            wstat: 256,
            finish,
            short,
        };
        assert_eq!(
            on_event(&run, e(true, true)).steps(),
            [Reaped(256), SetState(RunState::Finish), WriteStatus]
        );
        assert_eq!(
            on_event(&run, e(false, true)).steps(),
            [Reaped(256), WentDown, WriteStatus, Throttle]
        );
        let fin = view(Kind::Main, RunState::Finish, Want::Up);
        assert_eq!(
            on_event(&fin, e(true, false)).steps(),
            [Reaped(256), WentDown, WriteStatus]
        );
        let log = view(Kind::Log, RunState::Run, Want::Up);
        assert_eq!(
            on_event(&log, e(true, false)).steps(),
            [Reaped(256), WentDown, WriteStatus]
        );
    }

    #[test]
    fn starts_wanted() {
        let mut v = view(Kind::Main, RunState::Down, Want::Down);
        assert!(!wants_child(&v));
        v.pending = true;
        assert!(wants_child(&v));
        v = view(Kind::Main, RunState::Finish, Want::Down);
        v.has_pid = false;
        assert!(wants_child(&v));
        assert!(!wants_child(&view(Kind::Main, RunState::Run, Want::Up)));
    }

    #[test]
    fn exit_sequence() {
        let main = view(Kind::Main, RunState::Down, Want::Exit);
        assert_eq!(ending(&main, None), Ending::Exit);
        let log = view(Kind::Log, RunState::Run, Want::Up);
        assert_eq!(ending(&main, Some(&log)), Ending::ReleaseLog);
        let log = view(Kind::Log, RunState::Run, Want::Exit);
        assert_eq!(ending(&main, Some(&log)), Ending::Continue);
        let log = view(Kind::Log, RunState::Down, Want::Exit);
        assert_eq!(ending(&main, Some(&log)), Ending::Exit);
        let main = view(Kind::Main, RunState::Finish, Want::Exit);
        assert_eq!(ending(&main, None), Ending::Continue);
    }
}
