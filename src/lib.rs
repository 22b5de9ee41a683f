//! The shared core of svbox: every mechanism more than one applet needs lives here once.
//! Applets (in `applets/`) stay thin and build on these modules.

pub mod accounts;
pub mod dirlist;
pub mod env;
pub mod errstr;
pub mod filestat;
pub mod fsio;
pub mod getopt;
pub mod heap;
pub mod mono;
pub mod msg;
pub mod pathexec;
pub mod poll;
pub mod runitdir;
pub mod scan;
pub mod signals;
pub mod spawn;
pub mod status;
pub mod supervise;
pub mod syscall;
pub mod tai;
