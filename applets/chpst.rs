//! chpst: runs a program with a changed process state (environment directory, user and
//! groups, root, directory, nice level, lock, closed descriptors, resource limits), as
//! runit's chpst; called by one of daemontools' names it acts as that tool.
//! install: usr/bin
//! aliases: envdir envuidgid pgrphack setuidgid setlock softlimit

#[path = "chpst/apply.rs"]
mod apply;
#[path = "chpst/emulations.rs"]
mod emulations;
#[path = "chpst/envdir.rs"]
mod envdir;
#[path = "chpst/limits.rs"]
mod limits;
#[path = "chpst/lock.rs"]
mod lock;
#[path = "chpst/options.rs"]
mod options;
#[path = "chpst/plan.rs"]
mod plan;
#[path = "chpst/report.rs"]
mod report;
#[path = "chpst/uidgid.rs"]
mod uidgid;

use std::ffi::OsString;

pub fn main(args: Vec<OsString>) -> i32 {
    let name = report::progname(&args);
    let plan = match emulations::Tool::named(name) {
        Some(tool) => emulations::parse(tool, &args, name),
        None => options::parse(&args, name),
    };
    match plan {
        Ok(plan) => apply::run(&plan),
        Err(code) => code,
    }
}
