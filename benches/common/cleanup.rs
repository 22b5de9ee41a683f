//! Owns the bench's process groups: every supervisor runs in a group registered here, and
//! the groups are SIGKILLed when their guard drops, on panic, and on SIGINT/SIGTERM/SIGHUP,
//! so no runsv or service outlives a run (not even an interrupted one).

use nix::libc;
use nix::sys::signal::{SigSet, Signal};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};

const SLOTS: usize = 1024;

// A fixed table of atomics so the panic hook can walk it without locks or allocation.
static GROUPS: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];

fn register(pgid: i32) {
    for slot in &GROUPS {
        if slot
            .compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
    // Table full: the guard's Drop still kills the group; only panic/interrupt clean-up misses it.
}

fn unregister(pgid: i32) {
    for slot in &GROUPS {
        let _ = slot.compare_exchange(pgid, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// SIGKILLs every registered group.
pub fn kill_all() {
    for slot in &GROUPS {
        let pgid = slot.load(Ordering::SeqCst);
        if pgid > 0 {
            // SAFETY: kill has no memory effects.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
    }
}

/// Kills the registered groups on panic, and on SIGINT/SIGTERM/SIGHUP also removes `root`
/// and exits (128 + signal). Call before starting any thread or process: the signals are
/// blocked here and taken by a dedicated thread (children get a clean mask from std).
pub fn install(root: PathBuf) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        kill_all();
        previous(info);
    }));
    let mut set = SigSet::empty();
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(sig);
    }
    if set.thread_block().is_err() {
        return;
    }
    std::thread::spawn(move || {
        if let Ok(sig) = set.wait() {
            kill_all();
            let _ = fs::remove_dir_all(&root);
            eprintln!("bench: interrupted by {sig}, processes killed");
            std::process::exit(128 + sig as i32);
        }
    });
}

/// A process started in its own process group, killed with the whole group on drop.
pub struct Group {
    child: Child,
    stderr: PathBuf,
    /// More pids to kill on drop (processes that may have left the group).
    pub extra: Vec<u32>,
}

impl Group {
    /// Starts `program args` in `cwd`, stdin/stdout on /dev/null, stderr into `stderr`.
    pub fn start(
        program: &Path,
        args: &[&str],
        cwd: &Path,
        stderr: PathBuf,
    ) -> Result<Group, String> {
        let err = fs::File::create(&stderr).map_err(|e| format!("{}: {e}", stderr.display()))?;
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(program)
                .args(args)
                .current_dir(cwd)
                .env_remove("SVDIR")
                .env_remove("SVWAIT")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(err)
                .process_group(0)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", program.display()))?
        };
        register(child.id() as i32);
        Ok(Group {
            child,
            stderr,
            extra: Vec::new(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the leader has exited (it is reaped then).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// What the group wrote to stderr so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        for &pid in &self.extra {
            if pid > 1 {
                // SAFETY: kill has no memory effects.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
        }
        // SAFETY: kill has no memory effects; the group is the one created at spawn.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.kill();
        let _ = self.child.wait();
        unregister(pgid);
    }
}
