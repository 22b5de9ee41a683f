//! The loop of process 1: one `poll` on the signalfd, with a deadline only while one of
//! runit's five-second waits runs. Each wake-up: stderr reopened on the console, signals
//! drained, every exited child reaped (orphans included: process 1 never leaves a zombie,
//! also while it waits), then the events fed to the table and its actions performed. No
//! periodic wake-up: runit's 14-second poll timeout is not needed with a signalfd.

use super::console::{say, Console, Kind};
use super::halt::halt;
use super::stage::{self, Mode};
use super::table::{self, Action, Event, Phase, Prog, Say, Sigs, Stage, View};
use nix::sys::signal::Signal;
use rustix::event::{PollFd, PollFlags};
use svbox::mono::{Mono, SECOND};
use svbox::poll::poll;
use svbox::runitdir::{owner_executable, RunitDir};
use svbox::signals::{reap_any, send, SignalQueue};

pub struct Init {
    dir: RunitDir,
    console: Console,
    signals: SignalQueue,
    phase: Phase,
    stage2_exit: Option<i32>,
    held: Sigs,
    deadline: Option<Mono>,
    /// The running stage's process (stage 2's while ctrlaltdel runs), 0 if none.
    stage: i32,
    /// Stage 2's process group (and session) id, kept after it is reaped.
    stage2_group: i32,
    ctrlaltdel: i32,
}

impl Init {
    pub fn new(dir: RunitDir, console: Console, signals: SignalQueue) -> Init {
        Init {
            dir,
            console,
            signals,
            phase: Phase::Halted,
            stage2_exit: None,
            held: Sigs::default(),
            deadline: None,
            stage: 0,
            stage2_group: 0,
            ctrlaltdel: 0,
        }
    }

    /// Runs the stages and then reaps forever; process 1 never returns.
    pub fn run(mut self) -> ! {
        self.act(Action::SetPhase(Phase::Running(Stage::One)));
        self.act(Action::Start(Stage::One));
        loop {
            self.wait();
            self.console.reget();
            let got = self.signals.drain();
            while let Some((pid, wstat)) = reap_any() {
                if pid == self.stage {
                    self.stage = 0;
                    self.feed(Event::StageExited { wstat });
                } else if pid == self.ctrlaltdel {
                    self.ctrlaltdel = 0;
                    let stopit = owner_executable(&self.dir.stopit);
                    self.feed(Event::CtrlAltDelExited { wstat, stopit });
                }
            }
            let sigs = Sigs {
                cont: got.has(Signal::SIGCONT),
                int: got.has(Signal::SIGINT),
            };
            if sigs.any() {
                self.signals_event(sigs);
            }
            if self.deadline.is_some_and(|d| Mono::now() >= d) {
                self.deadline = None;
                self.feed(Event::Deadline);
            }
        }
    }

    fn wait(&self) {
        let timeout = self.deadline.map(|d| d.timeout_from(Mono::now()));
        let mut fds = [PollFd::from_borrowed_fd(self.signals.fd(), PollFlags::IN)];
        // EINTR or a transient failure just means another look at everything.
        let _ = poll(&mut fds, timeout.as_ref());
    }

    fn signals_event(&mut self, sigs: Sigs) {
        self.feed(Event::Signals {
            sigs,
            ctrlaltdel: owner_executable(&self.dir.ctrlaltdel),
            stopit: owner_executable(&self.dir.stopit),
        });
    }

    fn feed(&mut self, event: Event) {
        let view = View {
            phase: self.phase,
            stage2_exit: self.stage2_exit,
        };
        let plan = table::on_event(&view, event);
        for &step in plan.steps() {
            self.act(step);
        }
        // Signals held back while runit would have had them blocked count once a stage runs.
        if matches!(self.phase, Phase::Running(_)) && self.held.any() {
            let held = std::mem::take(&mut self.held);
            self.signals_event(held);
        }
    }

    fn act(&mut self, step: Action) {
        match step {
            Action::Say(s) => self.say(s),
            Action::SetPhase(p) => {
                self.phase = p;
                self.deadline = None;
            }
            Action::Wait5 => self.deadline = Some(Mono::now().plus(5 * SECOND)),
            Action::Start(stage) => {
                let mode = if stage == Stage::One {
                    Mode::Console
                } else {
                    Mode::Session
                };
                let path = &self.dir.stages[stage.index()];
                match stage::start(path, mode, self.console.ok()) {
                    Ok(pid) => {
                        self.stage = pid;
                        if stage == Stage::Two {
                            self.stage2_group = pid;
                        }
                    }
                    Err(e) => self.fork_failed(Prog::Stage(stage), e),
                }
            }
            Action::StartCtrlAltDel => {
                match stage::start(&self.dir.ctrlaltdel, Mode::Plain, self.console.ok()) {
                    Ok(pid) => self.ctrlaltdel = pid,
                    Err(e) => self.fork_failed(Prog::CtrlAltDel, e),
                }
            }
            Action::Stage2Exit(w) => self.stage2_exit = w,
            Action::Hold(s) => self.held = self.held.or(s),
            Action::ChmodStopit => {
                let _ = rustix::fs::chmod(&*self.dir.stopit, rustix::fs::Mode::empty());
            }
            Action::TermStage2 => send(self.stage, Signal::SIGTERM),
            Action::KillStage2 => send(self.stage, Signal::SIGKILL),
            Action::KillStage2Group => {
                if self.stage2_group > 0 {
                    // SAFETY: kill has no memory effects.
                    unsafe { nix::libc::kill(-self.stage2_group, nix::libc::SIGKILL) };
                }
            }
            Action::Halt => halt(&self.dir, &mut self.console),
        }
    }

    fn fork_failed(&mut self, prog: Prog, errno: i32) {
        let path = self.path(prog);
        say(
            Kind::Fatal,
            &[b"unable to fork for \"", path, b"\" pausing"],
            Some(errno),
        );
        self.feed(Event::ForkFailed);
    }

    fn path(&self, prog: Prog) -> &[u8] {
        match prog {
            Prog::Stage(s) => self.dir.stages[s.index()].to_bytes(),
            Prog::CtrlAltDel => self.dir.ctrlaltdel.to_bytes(),
        }
    }

    fn say(&self, s: Say) {
        let (kind, parts): (Kind, [&[u8]; 2]) = match s {
            Say::Leave(p) => (Kind::Info, [b"leave stage: ", self.path(p)]),
            Say::Failed(p) => (Kind::Warning, [b"child failed: ", self.path(p)]),
            Say::Crashed(p) => (Kind::Warning, [b"child crashed: ", self.path(p)]),
            Say::SkippingStage2 => (Kind::Warning, [b"skipping stage 2...", b""]),
            Say::KillingStage2 => (Kind::Warning, [b"killing all processes in stage 2...", b""]),
            Say::Restarting => (Kind::Warning, [b"restarting.", b""]),
            Say::SignalsOnlyInStage2 => (Kind::Warning, [b"signals only work in stage 2.", b""]),
            Say::CtrlAltDelRequest => (Kind::Info, [b"ctrl-alt-del request...", b""]),
            Say::NotTerminated => (
                Kind::Warning,
                [b"stage 2 not terminated, sending sigkill...", b""],
            ),
        };
        say(kind, &parts, None);
    }
}
