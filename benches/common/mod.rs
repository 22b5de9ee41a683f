//! Shared helpers of the svbox-versus-runit benchmarks: process clean-up, supervised
//! service trees, fleets of idle runsvs, status watching, /proc readers and the results table.

pub mod cleanup;
pub mod config;
pub mod fleet;
pub mod measure;
pub mod procfs;
pub mod programs;
pub mod stats;
pub mod svc;
pub mod watch;
// runsvdir bench modules (unused by the sv/runsv bench, hence the allows).
#[allow(dead_code)]
pub mod scanbench;
#[allow(dead_code)]
pub mod svdir;
#[allow(dead_code)]
pub mod sweep;
#[allow(dead_code)]
pub mod treewatch;
// svlogd bench modules (unused by the other benches).
#[allow(dead_code)]
pub mod logcheck;
#[allow(dead_code)]
pub mod loggen;
#[allow(dead_code)]
pub mod logrun;
#[allow(dead_code)]
pub mod logtable;
