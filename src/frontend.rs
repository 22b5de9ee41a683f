//! Dispatch on the name the binary was called by, and svbox's own options.
//!
//! A name that is no applet is `sv` in LSB init-script mode when it is a symlink called by
//! path (`/etc/init.d/NAME start`), as runit's `sv` is installed; otherwise it is a mistake,
//! reported with exit 127 like busybox does.

use crate::{Applet, APPLETS};
use argh::FromArgs;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use svbox::msg::{basename, Line};

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

fn find(name: &OsStr) -> Option<&'static Applet> {
    let name = name.as_bytes();
    APPLETS
        .binary_search_by(|a| a.name.as_bytes().cmp(name))
        .ok()
        .map(|i| &APPLETS[i])
}

/// runit's chpst drops one leading `d` from the name it is called by (`dsetlock` acts as
/// setlock), so `dNAME` runs NAME when NAME is chpst or one of its aliases.
fn find_d_name(name: &OsStr) -> Option<&'static Applet> {
    let rest = name.as_bytes().strip_prefix(b"d")?;
    let applet = find(OsStr::from_bytes(rest))?;
    let chpst = find(OsStr::new("chpst"))?;
    (applet.main as usize == chpst.main as usize).then_some(applet)
}

/// Runs `applet`, named as such in `ps -o comm` and `pgrep` even when it was executed
/// through another name (runsvdir starts runsv through `/proc/self/exe`).
fn enter(applet: &Applet, args: Vec<OsString>) -> i32 {
    if let Ok(name) = std::ffi::CString::new(applet.name) {
        let _ = nix::sys::prctl::set_name(&name);
    }
    (applet.main)(args)
}

/// Runs the applet `args[0]` names, or the front end; returns the exit code.
pub fn run(mut args: Vec<OsString>) -> i32 {
    let argv0 = args
        .first()
        .cloned()
        .unwrap_or_else(|| OsString::from(FRONT_END));
    let name = basename(&argv0).to_os_string();
    if let Some(applet) = find(&name).or_else(|| find_d_name(&name)) {
        return enter(applet, args);
    }
    if name.as_bytes().starts_with(FRONT_END.as_bytes()) {
        if args.len() < 2 {
            print_help();
            return 1;
        }
        if !args[1].as_bytes().starts_with(b"-") {
            args.remove(0);
            return match find(&args[0]) {
                Some(applet) => enter(applet, args),
                None => not_found(&args[0]),
            };
        }
        return front_end(&args);
    }
    if let Some(sv) = find(OsStr::new("sv")) {
        let path = Path::new(&argv0);
        if argv0.as_bytes().contains(&b'/')
            && path
                .symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
        {
            return (sv.main)(args);
        }
    }
    not_found(&name)
}

fn not_found(name: &OsStr) -> i32 {
    Line::new()
        .s(FRONT_END)
        .s(": applet not found: ")
        .os(name)
        .to_stderr();
    127
}

fn print_help() {
    let mut text = String::from(
        "svbox: runit-compatible process supervision in one executable\n\n\
         Usage: svbox APPLET [ARGS...]\n   or: APPLET [ARGS...]  (through a link named APPLET)\n   \
         or: svbox --list | --list-full | --install [-s] [DIR] | --help\n\nApplets:",
    );
    for a in APPLETS {
        text.push(' ');
        text.push_str(a.name);
    }
    text.push('\n');
    svbox::msg::write_all(rustix::stdio::stderr(), text.as_bytes());
}

fn front_end(args: &[OsString]) -> i32 {
    let strings: Option<Vec<&str>> = args[1..].iter().map(|a| a.to_str()).collect();
    let Some(strings) = strings else {
        Line::new()
            .s(FRONT_END)
            .s(": arguments are not valid UTF-8")
            .to_stderr();
        return 1;
    };
    let options = match Options::from_args(&[FRONT_END], &strings) {
        Ok(o) => o,
        Err(early) => {
            let ok = early.status.is_ok();
            let fd = if ok {
                rustix::stdio::stdout()
            } else {
                rustix::stdio::stderr()
            };
            svbox::msg::write_all(fd, early.output.as_bytes());
            svbox::msg::write_all(fd, b"\n");
            return if ok { 0 } else { 1 };
        }
    };
    let mut out = String::new();
    if options.list || options.list_full {
        for a in APPLETS {
            if options.list_full {
                out.push_str(a.install_dir);
                out.push('/');
            }
            out.push_str(a.name);
            out.push('\n');
        }
        svbox::msg::write_all(rustix::stdio::stdout(), out.as_bytes());
        return 0;
    }
    if options.install {
        return install(options.symlinks, options.dir.as_deref());
    }
    print_help();
    1
}

fn install(symlinks: bool, dir: Option<&str>) -> i32 {
    let exe = match std::fs::read_link("/proc/self/exe") {
        Ok(p) => p,
        Err(e) => {
            Line::new()
                .s(FRONT_END)
                .s(": unable to find own executable")
                .err(e.raw_os_error().unwrap_or(0))
                .to_stderr();
            return 1;
        }
    };
    let mut failures = 0;
    for a in APPLETS {
        let target: PathBuf = match dir {
            Some(d) => Path::new(d).join(a.name),
            None => Path::new("/").join(a.install_dir).join(a.name),
        };
        let result = if symlinks {
            std::os::unix::fs::symlink(&exe, &target)
        } else {
            std::fs::hard_link(&exe, &target)
        };
        if let Err(e) = result {
            Line::new()
                .s(FRONT_END)
                .s(": unable to link ")
                .os(target.as_os_str())
                .err(e.raw_os_error().unwrap_or(0))
                .to_stderr();
            failures += 1;
        }
    }
    if failures > 0 {
        1
    } else {
        0
    }
}
