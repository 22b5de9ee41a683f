//! Reads a process's memory and scheduling counters from /proc without disturbing it.

use std::fs;

/// Memory of one process from `/proc/PID/smaps_rollup`, in kB.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    pub pss: u64,
    /// Private_Clean + Private_Dirty.
    pub private: u64,
    /// Pages this process wrote (data, heap, stack): never shared with another instance.
    pub private_dirty: u64,
}

fn field(text: &str, name: &str) -> Option<u64> {
    let line = text
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(':'))?;
    line[name.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

pub fn memory(pid: u32) -> Option<Memory> {
    let text = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    Some(Memory {
        pss: field(&text, "Pss")?,
        private: field(&text, "Private_Clean")? + field(&text, "Private_Dirty")?,
        private_dirty: field(&text, "Private_Dirty")?,
    })
}

/// Voluntary plus nonvoluntary context switches of all threads, from `/proc/PID/status`:
/// every wake-up of a sleeping process counts at least one.
pub fn context_switches(pid: u32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(field(&text, "voluntary_ctxt_switches")? + field(&text, "nonvoluntary_ctxt_switches")?)
}
