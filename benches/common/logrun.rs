//! One timed logger run: the logger reads the input file through a pipe fed by a writer
//! thread; timed from spawn until it has exited at EOF and its files are fsynced, with
//! its CPU time from wait4(2) and its peak RSS (VmHWM) sampled by a watchdog thread that
//! also kills a logger that never exits.

use nix::libc;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How to start one logger on one directory.
pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
}

/// What one run measured.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    /// Spawn until exit, plus the fsync of every output file afterwards.
    pub wall: Duration,
    /// User + system time of the logger (and any children it reaped).
    pub cpu: Duration,
    /// ru_maxrss, kB. Linux carries the high-water mark of the pre-exec image over exec,
    /// so this is at least the bench process's own RSS when it spawned the logger.
    pub max_rss_kb: u64,
    /// The logger's own peak RSS: `VmHWM` of its address space, sampled every `SAMPLE`
    /// until it exits (0 if it exited before the first sample).
    pub hwm_kb: u64,
}

/// How often the logger's VmHWM is read: rare enough to cost the run nothing measurable.
const SAMPLE: Duration = Duration::from_millis(10);

/// `VmHWM` of a live process, kB (None once it is a zombie).
fn vm_hwm(pid: libc::pid_t) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line["VmHWM:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn tv(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

/// Blocks until `pid` has exited, without reaping it (so its pid cannot be reused while
/// the watchdog may still signal it).
fn wait_exited(pid: libc::pid_t) -> Result<(), String> {
    loop {
        // SAFETY: a zeroed siginfo_t is a valid out-parameter for waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid writes only into `info`.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("waitid {pid}: {e}"));
        }
    }
}

/// Reaps `pid`: its wait status and resource usage.
fn reap(pid: libc::pid_t) -> Result<(i32, libc::rusage), String> {
    loop {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid out-parameter for wait4.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 writes only into `status` and `usage`.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4 {pid}: {e}"));
        }
    }
}

/// fsyncs every file in `dir` and `dir` itself.
fn sync_dir(dir: &Path) -> Result<(), String> {
    let err = |p: &Path, e: std::io::Error| format!("fsync {}: {e}", p.display());
    for entry in fs::read_dir(dir).map_err(|e| err(dir, e))? {
        let path = entry.map_err(|e| err(dir, e))?.path();
        if path.is_file() {
            fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| err(&path, e))?;
        }
    }
    fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| err(dir, e))
}

/// Runs `inv` in `cwd` with `input` on its stdin (through a pipe) and `dir` as its log
/// directory (already prepared). Fails if it does not exit 0 within `limit`.
pub fn run(
    inv: &Invocation,
    cwd: &Path,
    input: &Path,
    dir: &Path,
    stderr: &Path,
    limit: Duration,
) -> Result<Run, String> {
    let name = inv.program.display().to_string();
    let errfile = fs::File::create(stderr).map_err(|e| format!("{}: {e}", stderr.display()))?;
    let mut src = fs::File::open(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let start = Instant::now();
    let mut child = Command::new(&inv.program)
        .args(&inv.args)
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(errfile)
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let Some(mut pipe) = child.stdin.take() else {
        return Err("no stdin pipe".into());
    };
    // std::io::copy splices from the file into the pipe: the writer costs little CPU.
    let writer = std::thread::spawn(move || std::io::copy(&mut src, &mut pipe));
    let (cancel, cancelled) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        // A first sample at once: a short run may end before the first period.
        let mut hwm = vm_hwm(pid).unwrap_or(0);
        loop {
            match cancelled.recv_timeout(SAMPLE) {
                Err(mpsc::RecvTimeoutError::Timeout) if start.elapsed() >= limit => {
                    // SAFETY: kill has no memory effects; the pid is not reaped before
                    // this thread ends.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    return (true, hwm);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    hwm = vm_hwm(pid).unwrap_or(0).max(hwm);
                }
                _ => return (false, hwm),
            }
        }
    });
    let exited = wait_exited(pid);
    let _ = cancel.send(());
    let (killed, hwm) = watchdog.join().unwrap_or((false, 0));
    exited?;
    let (status, usage) = reap(pid)?;
    let written = writer.join();
    sync_dir(dir)?;
    let wall = start.elapsed();
    if killed {
        return Err(format!("{name} did not exit within {limit:?} (killed)"));
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        let how = if libc::WIFSIGNALED(status) {
            format!("killed by signal {}", libc::WTERMSIG(status))
        } else {
            format!("exit {}", libc::WEXITSTATUS(status))
        };
        let msg = fs::read_to_string(stderr).unwrap_or_default();
        return Err(format!("{name}: {how}: {}", msg.trim_end()));
    }
    match written {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(format!("{name} did not read all its input: {e}")),
        Err(_) => return Err("writer thread panicked".into()),
    }
    Ok(Run {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        max_rss_kb: usage.ru_maxrss.max(0) as u64,
        hwm_kb: hwm,
    })
}
