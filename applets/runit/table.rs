//! runit's process-1 behaviour as one table: (phase, event) → the list of actions to take.
//!
//! Pure: it reads a `View` and returns a `Plan`; `act` performs the actions in order. The
//! stage order, the exit-code rules (2.3.0: a crashed stage 1 skips stage 2, a crashed
//! stage 2 is restarted), the signals of stage 2 and the five-second waits are all here, so
//! the loop in `init` has no policy. Where runit sleeps or blocks in `wait_pid` (its signals
//! blocked meanwhile), svbox waits in its poll loop instead and holds the signals back,
//! acting on them when runit would have: once a stage runs again.

/// One of the three stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    One,
    Two,
    Three,
}

impl Stage {
    pub fn index(self) -> usize {
        match self {
            Stage::One => 0,
            Stage::Two => 1,
            Stage::Three => 2,
        }
    }
}

/// A program runit runs and names in its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prog {
    Stage(Stage),
    CtrlAltDel,
}

/// Where process 1 is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The stage's process runs.
    Running(Stage),
    /// `fork` failed for the stage; it is tried again at the deadline.
    ForkRetry(Stage),
    /// Stage 2 exited 111 or crashed and its process group was killed; it is started again
    /// at the deadline.
    RestartPause,
    /// `ctrlaltdel` runs (stage 2 may exit meanwhile).
    CtrlAltDel,
    /// `fork` failed for `ctrlaltdel`; tried again at the deadline.
    CtrlAltDelRetry,
    /// Stage 2 was sent SIGTERM; SIGKILL follows at the deadline.
    Stopping,
    /// Stage 2 was sent SIGKILL.
    Killing,
    /// After stage 3: everything was killed and the reboot requested; reaping forever.
    Halted,
}

/// Signals received (runit counts them; whether any arrived is what matters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigs {
    pub cont: bool,
    pub int: bool,
}

impl Sigs {
    pub fn any(self) -> bool {
        self.cont || self.int
    }

    pub fn or(self, other: Sigs) -> Sigs {
        Sigs {
            cont: self.cont || other.cont,
            int: self.int || other.int,
        }
    }
}

/// What the table looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    pub phase: Phase,
    /// Stage 2's raw wait status when it exited while `ctrlaltdel` ran.
    pub stage2_exit: Option<i32>,
}

/// Something that happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The current stage's process was reaped with raw wait status `wstat`.
    StageExited { wstat: i32 },
    /// `ctrlaltdel` was reaped; `stopit` = the stopit file is owner-executable now.
    CtrlAltDelExited { wstat: i32, stopit: bool },
    /// SIGCONT and/or SIGINT arrived; `ctrlaltdel`/`stopit` = those files are
    /// owner-executable now.
    Signals {
        sigs: Sigs,
        ctrlaltdel: bool,
        stopit: bool,
    },
    /// The deadline armed by `Wait5` passed.
    Deadline,
    /// A `Start` or `StartCtrlAltDel` could not fork.
    ForkFailed,
}

/// A message (`- runit: …` or `- runit: warning: …`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Say {
    Leave(Prog),
    Failed(Prog),
    Crashed(Prog),
    SkippingStage2,
    KillingStage2,
    Restarting,
    SignalsOnlyInStage2,
    CtrlAltDelRequest,
    NotTerminated,
}

/// One step of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Say(Say),
    /// Enter a phase; disarms the deadline.
    SetPhase(Phase),
    /// Arm the deadline five seconds from now (runit's `sleep(5)`, or its five 1-s polls).
    Wait5,
    Start(Stage),
    StartCtrlAltDel,
    /// Remember (or forget) stage 2's exit seen while `ctrlaltdel` ran.
    Stage2Exit(Option<i32>),
    /// Keep signals for when a stage runs again.
    Hold(Sigs),
    /// `chmod 0` the stopit file, so the request is served once.
    ChmodStopit,
    /// SIGTERM to stage 2's process.
    TermStage2,
    /// SIGKILL to stage 2's process.
    KillStage2,
    /// SIGKILL to stage 2's process group (it is a session leader).
    KillStage2Group,
    /// Kill every process, then reboot, power off or halt.
    Halt,
}

const CAPACITY: usize = 12;

/// A short, fixed-size list of actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    steps: [Action; CAPACITY],
    len: usize,
}

impl Plan {
    fn new() -> Plan {
        Plan {
            steps: [Action::Wait5; CAPACITY],
            len: 0,
        }
    }

    // Out of line: inlined, each of the many call sites would carry the bounds check.
    #[inline(never)]
    fn push(&mut self, action: Action) {
        // The longest plan (ctrlaltdel ends after stage 2 crashed) has 9 steps.
        if self.len < CAPACITY {
            self.steps[self.len] = action;
            self.len += 1;
        }
    }

    pub fn steps(&self) -> &[Action] {
        &self.steps[..self.len]
    }

    fn start(&mut self, stage: Stage) {
        self.push(Action::SetPhase(Phase::Running(stage)));
        self.push(Action::Start(stage));
    }

    /// A stage's process exited: runit 2.3.0's rules.
    fn stage_exit(&mut self, stage: Stage, wstat: i32) {
        let crashed = wstat & 0x7f != 0;
        let code = (wstat >> 8) & 0xff;
        let prog = Prog::Stage(stage);
        if crashed {
            self.push(Action::Say(Say::Crashed(prog)));
        } else if code != 0 {
            self.push(Action::Say(Say::Failed(prog)));
        }
        match stage {
            Stage::One if crashed || code == 100 => {
                self.push(Action::Say(Say::Leave(prog)));
                self.push(Action::Say(Say::SkippingStage2));
                self.start(Stage::Three);
            }
            Stage::Two if crashed || code == 111 => {
                self.push(Action::Say(Say::KillingStage2));
                self.push(Action::KillStage2Group);
                self.push(Action::SetPhase(Phase::RestartPause));
                self.push(Action::Wait5);
            }
            Stage::One => {
                self.push(Action::Say(Say::Leave(prog)));
                self.start(Stage::Two);
            }
            Stage::Two => {
                self.push(Action::Say(Say::Leave(prog)));
                self.start(Stage::Three);
            }
            Stage::Three => {
                self.push(Action::Say(Say::Leave(prog)));
                self.push(Action::SetPhase(Phase::Halted));
                self.push(Action::Halt);
            }
        }
    }

    /// SIGTERM to stage 2, SIGKILL after five seconds.
    fn stop_stage2(&mut self) {
        self.push(Action::TermStage2);
        self.push(Action::SetPhase(Phase::Stopping));
        self.push(Action::Wait5);
    }

    /// Stage 2 is gone after a stop request: on to stage 3.
    fn stopped(&mut self) {
        self.push(Action::Say(Say::Leave(Prog::Stage(Stage::Two))));
        self.start(Stage::Three);
    }
}

/// The actions for `event` in the situation `v`.
// Out of line: inlined into `Init::feed`, it made the binary bigger.
#[inline(never)]
pub fn on_event(v: &View, event: Event) -> Plan {
    let mut p = Plan::new();
    match (v.phase, event) {
        (Phase::Halted, _) => {}
        (
            Phase::Running(Stage::Two),
            Event::Signals {
                sigs,
                ctrlaltdel,
                stopit,
            },
        ) => {
            if sigs.int && ctrlaltdel {
                // The stopit check follows when ctrlaltdel has exited (it may create stopit).
                p.push(Action::Say(Say::CtrlAltDelRequest));
                p.push(Action::SetPhase(Phase::CtrlAltDel));
                p.push(Action::StartCtrlAltDel);
            } else if sigs.cont && stopit {
                p.push(Action::ChmodStopit);
                p.stop_stage2();
            }
        }
        (Phase::Running(_), Event::Signals { sigs, .. }) if sigs.any() => {
            p.push(Action::Say(Say::SignalsOnlyInStage2));
        }
        (_, Event::Signals { sigs, .. }) if sigs.any() => p.push(Action::Hold(sigs)),
        (Phase::Running(stage), Event::StageExited { wstat }) => p.stage_exit(stage, wstat),
        (Phase::CtrlAltDel | Phase::CtrlAltDelRetry, Event::StageExited { wstat }) => {
            p.push(Action::Stage2Exit(Some(wstat)));
        }
        (Phase::Stopping | Phase::Killing, Event::StageExited { .. }) => p.stopped(),
        (Phase::CtrlAltDel, Event::CtrlAltDelExited { wstat, stopit }) => {
            if wstat & 0x7f != 0 {
                p.push(Action::Say(Say::Crashed(Prog::CtrlAltDel)));
            }
            p.push(Action::Say(Say::Leave(Prog::CtrlAltDel)));
            // ctrlaltdel counts as a SIGCONT.
            match (stopit, v.stage2_exit) {
                (true, None) => {
                    p.push(Action::ChmodStopit);
                    p.stop_stage2();
                }
                (true, Some(_)) => {
                    p.push(Action::ChmodStopit);
                    p.push(Action::Stage2Exit(None));
                    p.stopped();
                }
                (false, None) => p.push(Action::SetPhase(Phase::Running(Stage::Two))),
                (false, Some(w)) => {
                    p.push(Action::Stage2Exit(None));
                    p.push(Action::SetPhase(Phase::Running(Stage::Two)));
                    p.stage_exit(Stage::Two, w);
                }
            }
        }
        (Phase::ForkRetry(stage), Event::Deadline) => p.start(stage),
        (Phase::CtrlAltDelRetry, Event::Deadline) => {
            p.push(Action::SetPhase(Phase::CtrlAltDel));
            p.push(Action::StartCtrlAltDel);
        }
        (Phase::RestartPause, Event::Deadline) => {
            p.push(Action::Say(Say::Restarting));
            p.start(Stage::Two);
        }
        (Phase::Stopping, Event::Deadline) => {
            p.push(Action::Say(Say::NotTerminated));
            p.push(Action::KillStage2);
            p.push(Action::SetPhase(Phase::Killing));
        }
        (Phase::Running(stage), Event::ForkFailed) => {
            p.push(Action::SetPhase(Phase::ForkRetry(stage)));
            p.push(Action::Wait5);
        }
        (Phase::CtrlAltDel, Event::ForkFailed) => {
            p.push(Action::SetPhase(Phase::CtrlAltDelRetry));
            p.push(Action::Wait5);
        }
        _ => {}
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::{
        ChmodStopit, Halt, Hold, KillStage2, KillStage2Group, SetPhase, Stage2Exit, Start,
        StartCtrlAltDel, TermStage2, Wait5,
    };

    const ONE: Prog = Prog::Stage(Stage::One);
    const TWO: Prog = Prog::Stage(Stage::Two);
    const THREE: Prog = Prog::Stage(Stage::Three);

    fn in_phase(phase: Phase) -> View {
        View {
            phase,
            stage2_exit: None,
        }
    }

    fn exit(code: i32) -> Event {
        Event::StageExited { wstat: code << 8 }
    }

    fn sigs(cont: bool, int: bool, ctrlaltdel: bool, stopit: bool) -> Event {
        Event::Signals {
            sigs: Sigs { cont, int },
            ctrlaltdel,
            stopit,
        }
    }

    fn plan(v: View, e: Event) -> Vec<Action> {
        on_event(&v, e).steps().to_vec()
    }

    #[test]
    fn stages_run_in_order() {
        let r = |s| in_phase(Phase::Running(s));
        assert_eq!(
            plan(r(Stage::One), exit(0)),
            [
                Action::Say(Say::Leave(ONE)),
                SetPhase(Phase::Running(Stage::Two)),
                Start(Stage::Two)
            ]
        );
        assert_eq!(
            plan(r(Stage::Two), exit(0)),
            [
                Action::Say(Say::Leave(TWO)),
                SetPhase(Phase::Running(Stage::Three)),
                Start(Stage::Three)
            ]
        );
        assert_eq!(
            plan(r(Stage::Three), exit(3)),
            [
                Action::Say(Say::Failed(THREE)),
                Action::Say(Say::Leave(THREE)),
                SetPhase(Phase::Halted),
                Halt
            ]
        );
    }

    #[test]
    fn stage1_failing_with_100_or_crashing_skips_stage2() {
        let skip = |first| {
            vec![
                Action::Say(first),
                Action::Say(Say::Leave(ONE)),
                Action::Say(Say::SkippingStage2),
                SetPhase(Phase::Running(Stage::Three)),
                Start(Stage::Three),
            ]
        };
        let v = in_phase(Phase::Running(Stage::One));
        assert_eq!(plan(v, exit(100)), skip(Say::Failed(ONE)));
        assert_eq!(
            plan(v, Event::StageExited { wstat: 9 }),
            skip(Say::Crashed(ONE))
        );
        // Any other failure still runs stage 2.
        assert_eq!(plan(v, exit(1)).last(), Some(&Start(Stage::Two)));
    }

    #[test]
    fn stage2_failing_with_111_or_crashing_is_restarted_after_five_seconds() {
        let v = in_phase(Phase::Running(Stage::Two));
        let restart = |first| {
            vec![
                Action::Say(first),
                Action::Say(Say::KillingStage2),
                KillStage2Group,
                SetPhase(Phase::RestartPause),
                Wait5,
            ]
        };
        assert_eq!(plan(v, exit(111)), restart(Say::Failed(TWO)));
        assert_eq!(
            plan(v, Event::StageExited { wstat: 11 | 0x80 }),
            restart(Say::Crashed(TWO))
        );
        assert_eq!(
            plan(in_phase(Phase::RestartPause), Event::Deadline),
            [
                Action::Say(Say::Restarting),
                SetPhase(Phase::Running(Stage::Two)),
                Start(Stage::Two)
            ]
        );
        assert_eq!(
            plan(v, exit(1)),
            [
                Action::Say(Say::Failed(TWO)),
                Action::Say(Say::Leave(TWO)),
                SetPhase(Phase::Running(Stage::Three)),
                Start(Stage::Three)
            ]
        );
    }

    #[test]
    fn signals_work_only_in_stage2() {
        for s in [Stage::One, Stage::Three] {
            assert_eq!(
                plan(in_phase(Phase::Running(s)), sigs(true, true, true, true)),
                [Action::Say(Say::SignalsOnlyInStage2)]
            );
        }
        let two = in_phase(Phase::Running(Stage::Two));
        assert_eq!(plan(two, sigs(true, false, false, false)), []);
        assert_eq!(plan(two, sigs(false, true, false, true)), []);
        assert_eq!(
            plan(two, sigs(true, false, false, true)),
            [ChmodStopit, TermStage2, SetPhase(Phase::Stopping), Wait5]
        );
        assert_eq!(
            plan(two, sigs(false, true, true, false)),
            [
                Action::Say(Say::CtrlAltDelRequest),
                SetPhase(Phase::CtrlAltDel),
                StartCtrlAltDel
            ]
        );
    }

    #[test]
    fn signals_are_held_while_runit_would_block_them() {
        for phase in [
            Phase::ForkRetry(Stage::Two),
            Phase::RestartPause,
            Phase::CtrlAltDel,
            Phase::Stopping,
            Phase::Killing,
        ] {
            assert_eq!(
                plan(in_phase(phase), sigs(true, false, false, true)),
                [Hold(Sigs {
                    cont: true,
                    int: false
                })]
            );
        }
        assert_eq!(
            plan(in_phase(Phase::Halted), sigs(true, true, true, true)),
            []
        );
    }

    #[test]
    fn stopping_stage2() {
        let stopping = in_phase(Phase::Stopping);
        assert_eq!(
            plan(stopping, Event::Deadline),
            [
                Action::Say(Say::NotTerminated),
                KillStage2,
                SetPhase(Phase::Killing)
            ]
        );
        let on_to_three = vec![
            Action::Say(Say::Leave(TWO)),
            SetPhase(Phase::Running(Stage::Three)),
            Start(Stage::Three),
        ];
        // Whatever stage 2's status, no warning: it was asked to stop.
        assert_eq!(plan(stopping, exit(111)), on_to_three);
        assert_eq!(plan(in_phase(Phase::Killing), exit(0)), on_to_three);
    }

    #[test]
    fn ctrlaltdel_then_stopit() {
        let cad = in_phase(Phase::CtrlAltDel);
        let done = |stopit| Event::CtrlAltDelExited { wstat: 0, stopit };
        assert_eq!(
            plan(cad, done(true)),
            [
                Action::Say(Say::Leave(Prog::CtrlAltDel)),
                ChmodStopit,
                TermStage2,
                SetPhase(Phase::Stopping),
                Wait5
            ]
        );
        assert_eq!(
            plan(cad, done(false)),
            [
                Action::Say(Say::Leave(Prog::CtrlAltDel)),
                SetPhase(Phase::Running(Stage::Two))
            ]
        );
        assert_eq!(
            plan(
                cad,
                Event::CtrlAltDelExited {
                    wstat: 6,
                    stopit: false
                }
            )[0],
            Action::Say(Say::Crashed(Prog::CtrlAltDel))
        );
        // Stage 2 exiting meanwhile is remembered and handled afterwards.
        assert_eq!(plan(cad, exit(111)), [Stage2Exit(Some(111 << 8))]);
        let exited = View {
            phase: Phase::CtrlAltDel,
            stage2_exit: Some(111 << 8),
        };
        let p = plan(exited, done(false));
        assert_eq!(
            p[1..4],
            [
                Stage2Exit(None),
                SetPhase(Phase::Running(Stage::Two)),
                Action::Say(Say::Failed(TWO))
            ]
        );
        assert_eq!(p.last(), Some(&Wait5));
        let p = plan(exited, done(true));
        assert_eq!(
            p[1..],
            [
                ChmodStopit,
                Stage2Exit(None),
                Action::Say(Say::Leave(TWO)),
                SetPhase(Phase::Running(Stage::Three)),
                Start(Stage::Three)
            ]
        );
    }

    #[test]
    fn fork_failures_are_retried_after_five_seconds() {
        assert_eq!(
            plan(in_phase(Phase::Running(Stage::One)), Event::ForkFailed),
            [SetPhase(Phase::ForkRetry(Stage::One)), Wait5]
        );
        assert_eq!(
            plan(in_phase(Phase::ForkRetry(Stage::One)), Event::Deadline),
            [SetPhase(Phase::Running(Stage::One)), Start(Stage::One)]
        );
        assert_eq!(
            plan(in_phase(Phase::CtrlAltDel), Event::ForkFailed),
            [SetPhase(Phase::CtrlAltDelRetry), Wait5]
        );
        assert_eq!(
            plan(in_phase(Phase::CtrlAltDelRetry), Event::Deadline),
            [SetPhase(Phase::CtrlAltDel), StartCtrlAltDel]
        );
    }

    #[test]
    fn every_plan_fits() {
        let phases = [
            Phase::Running(Stage::One),
            Phase::Running(Stage::Two),
            Phase::Running(Stage::Three),
            Phase::ForkRetry(Stage::Two),
            Phase::RestartPause,
            Phase::CtrlAltDel,
            Phase::CtrlAltDelRetry,
            Phase::Stopping,
            Phase::Killing,
            Phase::Halted,
        ];
        for phase in phases {
            for stage2_exit in [None, Some(0), Some(9), Some(111 << 8)] {
                let v = View { phase, stage2_exit };
                for wstat in [0, 9, 100 << 8, 111 << 8] {
                    for stopit in [false, true] {
                        let e = Event::CtrlAltDelExited { wstat, stopit };
                        assert!(on_event(&v, e).len < CAPACITY);
                        assert!(on_event(&v, Event::StageExited { wstat }).len < CAPACITY);
                    }
                }
            }
        }
    }
}
