//! Dispatch on the name the binary was called by, and svbox's own options.
//!
//! A name that is no applet is `sv` in LSB init-script mode when it is a symlink called by
//! path (`/etc/init.d/NAME start`), as runit's `sv` is installed; otherwise it is a mistake,
//! reported with exit 127 like busybox does.

use crate::{Applet, APPLETS};
use argh::FromArgs;
use std::ffi::{CStr, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use svbox::msg::{basename, write_all, Line};

const FRONT_END: &str = "svbox";

/// svbox: runit-style process supervision in one executable.
///
/// Usage: svbox APPLET [ARGS...], or call it through a link named after the applet.
#[derive(FromArgs)]
struct Options {
    /// list the applets
    #[argh(switch)]
    list: bool,
    /// list the applets with their install directories
    #[argh(switch)]
    list_full: bool,
    /// link every applet into DIR (or its own directory under /): hard links, or symlinks with -s
    #[argh(switch)]
    install: bool,
    /// with --install: make symbolic links
    #[argh(switch, short = 's')]
    symlinks: bool,
    /// with --install: the directory
    #[argh(positional)]
    dir: Option<String>,
}

fn find(name: &[u8]) -> Option<&'static Applet> {
    APPLETS.iter().find(|a| a.name.as_bytes() == name)
}

/// runit's chpst drops one leading `d` from the name it is called by (`dsetlock` acts as
/// setlock), so `dNAME` runs NAME when NAME is chpst or one of its aliases.
fn find_d_name(name: &[u8]) -> Option<&'static Applet> {
    let applet = find(name.strip_prefix(b"d")?)?;
    let chpst = find(b"chpst")?;
    (applet.main as usize == chpst.main as usize).then_some(applet)
}

/// Runs `applet`, named as such in `ps -o comm` and `pgrep` even when it was executed
/// through another name (runsvdir starts runsv through `/proc/self/exe`).
fn enter(applet: &Applet, args: Vec<OsString>) -> i32 {
    // The kernel keeps 15 bytes of a name; applet names are shorter.
    let mut buf = [0u8; 16];
    let n = applet.name.len().min(15);
    buf[..n].copy_from_slice(&applet.name.as_bytes()[..n]);
    if let Ok(name) = CStr::from_bytes_with_nul(&buf[..=n]) {
        let _ = nix::sys::prctl::set_name(name);
    }
    (applet.main)(args)
}

/// Runs the applet `args[0]` names, or the front end; returns the exit code.
pub fn run(mut args: Vec<OsString>) -> i32 {
    let argv0 = args
        .first()
        .map_or(OsStr::new(FRONT_END), |a| a.as_os_str());
    let name = basename(argv0);
    if let Some(applet) = find(name.as_bytes()).or_else(|| find_d_name(name.as_bytes())) {
        return enter(applet, args);
    }
    if name.as_bytes().starts_with(FRONT_END.as_bytes()) {
        if args.len() < 2 {
            print_help();
            return 1;
        }
        if !args[1].as_bytes().starts_with(b"-") {
            args.remove(0);
            return match find(args[0].as_bytes()) {
                Some(applet) => enter(applet, args),
                None => not_found(&args[0]),
            };
        }
        return front_end(&args);
    }
    if let Some(sv) = find(b"sv") {
        if argv0.as_bytes().contains(&b'/')
            && std::ffi::CString::new(argv0.as_bytes())
                .is_ok_and(|p| svbox::filestat::lstat(&p).is_ok_and(|m| m.is_symlink()))
        {
            return (sv.main)(args);
        }
    }
    not_found(name)
}

fn not_found(name: &OsStr) -> i32 {
    complain(": applet not found: ", name.as_bytes(), None);
    127
}

/// `svbox: TEXT[SUBJECT][: ERR]` on stderr.
fn complain(text: &str, subject: &[u8], errno: Option<i32>) {
    let mut line = Line::new();
    line.s(FRONT_END).s(text).b(subject);
    if let Some(e) = errno {
        line.err(e);
    }
    line.to_stderr();
}

fn print_help() {
    let mut text = b"svbox: runit-compatible process supervision in one executable\n\n\
         Usage: svbox APPLET [ARGS...]\n   or: APPLET [ARGS...]  (through a link named APPLET)\n   \
         or: svbox --list | --list-full | --install [-s] [DIR] | --help\n\nApplets:"
        .to_vec();
    for a in APPLETS {
        text.push(b' ');
        text.extend_from_slice(a.name.as_bytes());
    }
    text.push(b'\n');
    write_all(rustix::stdio::stderr(), &text);
}

#[inline(never)]
fn front_end(args: &[OsString]) -> i32 {
    let mut strings = Vec::with_capacity(args.len());
    for arg in &args[1..] {
        let Some(s) = arg.to_str() else {
            complain(": arguments are not valid UTF-8", b"", None);
            return 1;
        };
        strings.push(s);
    }
    let options = match Options::from_args(&[FRONT_END], &strings) {
        Ok(o) => o,
        Err(early) => {
            let ok = early.status.is_ok();
            let fd = if ok {
                rustix::stdio::stdout()
            } else {
                rustix::stdio::stderr()
            };
            write_all(fd, early.output.as_bytes());
            write_all(fd, b"\n");
            return if ok { 0 } else { 1 };
        }
    };
    if options.list || options.list_full {
        let mut out = Vec::new();
        for a in APPLETS {
            if options.list_full {
                out.extend_from_slice(a.install_dir.as_bytes());
                out.push(b'/');
            }
            out.extend_from_slice(a.name.as_bytes());
            out.push(b'\n');
        }
        write_all(rustix::stdio::stdout(), &out);
        return 0;
    }
    if options.install {
        return install(options.symlinks, options.dir.as_deref());
    }
    print_help();
    1
}

/// Appends `part` to the path `path` as `Path::push` does for a relative part.
fn push_path(path: &mut Vec<u8>, part: &[u8]) {
    if path.last().is_some_and(|&c| c != b'/') {
        path.push(b'/');
    }
    path.extend_from_slice(part);
}

#[inline(never)]
fn install(symlinks: bool, dir: Option<&str>) -> i32 {
    let exe = match rustix::fs::readlink(c"/proc/self/exe", Vec::new()) {
        Ok(p) => p,
        Err(e) => {
            complain(
                ": unable to find own executable",
                b"",
                Some(e.raw_os_error()),
            );
            return 1;
        }
    };
    let mut failures = 0;
    for a in APPLETS {
        let mut target = Vec::new();
        match dir {
            Some(d) => target.extend_from_slice(d.as_bytes()),
            None => push_path(&mut target, &[b"/", a.install_dir.as_bytes()].concat()),
        }
        push_path(&mut target, a.name.as_bytes());
        // Arguments and applet names hold no NUL, so this never fails.
        target.push(0);
        let result = match CStr::from_bytes_with_nul(&target) {
            Ok(path) if symlinks => rustix::fs::symlink(exe.as_c_str(), path),
            Ok(path) => rustix::fs::link(exe.as_c_str(), path),
            Err(_) => Err(rustix::io::Errno::INVAL),
        };
        if let Err(e) = result {
            let path = &target[..target.len() - 1];
            complain(": unable to link ", path, Some(e.raw_os_error()));
            failures += 1;
        }
    }
    i32::from(failures > 0)
}
