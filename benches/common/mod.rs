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
