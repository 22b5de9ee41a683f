//! Shared helpers of the svbox-versus-runit benchmarks: process clean-up, supervised
//! service trees, status watching, /proc readers and the results table.

pub mod cleanup;
pub mod config;
pub mod measure;
pub mod procfs;
pub mod programs;
pub mod stats;
pub mod svc;
pub mod watch;
