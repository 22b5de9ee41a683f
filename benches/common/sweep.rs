//! Finds processes by their place in a runsvdir tree (children of a pid, or a working
//! directory under a path) and kills what a tree leaves behind: with `runsvdir -P` the
//! runsvs leave runsvdir's process group, so group kills alone do not reach them.

use nix::libc;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

/// Every process id in /proc.
pub fn pids() -> impl Iterator<Item = u32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
}

/// The parent pid from `/proc/PID/stat` (the field after the parenthesised command name).
pub fn ppid(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The live children of `pid`.
pub fn children(pid: u32) -> Vec<u32> {
    pids().filter(|&p| ppid(p) == Some(pid)).collect()
}

/// Processes (other than this one) whose working directory is `root` or below it.
pub fn under(root: &Path) -> Vec<u32> {
    // /proc shows resolved working directories; the root may come with a symlink in it.
    let root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let me = std::process::id();
    pids()
        .filter(|&p| p != me)
        .filter(|p| fs::read_link(format!("/proc/{p}/cwd")).is_ok_and(|cwd| cwd.starts_with(&root)))
        .collect()
}

/// SIGKILLs every process under `root` until none is left (or `deadline` passes); returns
/// how many are still there.
pub fn kill_under(root: &Path, deadline: Duration) -> usize {
    let end = Instant::now() + deadline;
    loop {
        let left = under(root);
        if left.is_empty() || Instant::now() >= end {
            return left.len();
        }
        for &p in &left {
            // SAFETY: kill has no memory effects.
            unsafe { libc::kill(p as i32, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
