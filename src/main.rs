//! The multicall front end: picks the applet from `argv[0]` (or `svbox APPLET ARGS`) and
//! implements busybox-style `--list`, `--list-full`, `--install [-s] [DIR]` and `--help`.
//!
//! The entry point is C's `main`, not std's: std's start-up (argument copies, thread and
//! stack-overflow set-up) costs 3–4 KB that svbox does not need. The two things of it svbox
//! relies on are done here: SIGPIPE ignored, closed descriptors 0–2 opened on /dev/null.

#![cfg_attr(not(test), no_main)]

mod frontend;

/// svbox's own allocator instead of libc's malloc: see src/heap.rs.
#[cfg(not(test))]
#[global_allocator]
static HEAP: svbox::heap::Heap = svbox::heap::Heap::new();

/// One entry of the generated applet table.
pub struct Applet {
    pub name: &'static str,
    /// Directory, relative to `/`, that `svbox --install` without DIR links it into.
    pub install_dir: &'static str,
    pub main: fn(Vec<std::ffi::OsString>) -> i32,
}

include!(concat!(env!("OUT_DIR"), "/applets.rs"));

/// Runs the applet and returns its exit code to libc, which exits with it. Nothing is left to
/// flush: every applet writes with write(2) directly.
#[cfg_attr(not(test), no_mangle)]
extern "C" fn main(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    use std::os::unix::ffi::OsStringExt;
    // As std's start-up does: a write to a closed pipe fails with EPIPE instead of killing.
    // Children get the default back (svbox::spawn, pathexec).
    // SAFETY: installing SIG_IGN has no preconditions.
    unsafe { nix::libc::signal(nix::libc::SIGPIPE, nix::libc::SIG_IGN) };
    svbox::fsio::fill_std_fds();
    let count = usize::try_from(argc).unwrap_or(0);
    let mut args = Vec::with_capacity(count);
    for i in 0..count {
        // SAFETY: the kernel gives argc valid NUL-terminated strings in argv.
        let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
        args.push(std::ffi::OsString::from_vec(arg.to_bytes().to_vec()));
    }
    frontend::run(args)
}
