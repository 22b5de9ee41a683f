//! runsv's startup (§2.2): signals, the service directory, the optional log service and
//! its pipe, `supervise/` (or its symlink target), locks, control and ok FIFOs, and the
//! first status files — in runit's order, with its fatal messages (exit 111).

use super::clock::Mono;
use super::diag::Diag;
use super::files::{self, LOG, MAIN};
use super::svc::{Kind, Service, Shared, Want};
use nix::sys::signal::Signal;
use rustix::fd::OwnedFd;
use rustix::fs::{self as fs, FileType, FlockOperation, Mode};
use rustix::io::Errno;
use std::ffi::{CStr, OsStr};
use svbox::fsio::{open_append, open_read, open_write};
use svbox::signals::SignalQueue;

/// Everything the main loop works on.
pub struct Supervisor {
    pub sh: Shared,
    pub main: Service,
    pub log: Option<Service>,
    pub signals: SignalQueue,
}

/// The names of one service's supervise files, and the wording of their messages.
struct Names {
    supervise: &'static CStr,
    /// `./supervise` or `./log/supervise`, as readlink errors print it.
    shown: &'static [u8],
    lock: &'static CStr,
    control: &'static CStr,
    ok: &'static CStr,
}

const MAIN_NAMES: Names = Names {
    supervise: c"supervise",
    shown: b"./supervise",
    lock: c"supervise/lock",
    control: c"supervise/control",
    ok: c"supervise/ok",
};

const LOG_NAMES: Names = Names {
    supervise: c"log/supervise",
    shown: b"./log/supervise",
    lock: c"log/supervise/lock",
    control: c"log/supervise/control",
    ok: c"log/supervise/ok",
};

type Fatal = i32;

fn errno(e: Errno) -> Option<i32> {
    Some(e.raw_os_error())
}

pub fn start(dir: &OsStr, diag: Diag) -> Result<Supervisor, Fatal> {
    svbox::fsio::fill_std_fds();
    let signals = SignalQueue::new(&[Signal::SIGCHLD, Signal::SIGTERM])
        .map_err(|e| diag.fatal(&[b"unable to create selfpipe"], Some(e as i32)))?;
    rustix::process::chdir(dir)
        .map_err(|e| diag.fatal(&[b"unable to change to directory"], errno(e)))?;

    let now = Mono::now();
    let want = |down: &CStr| {
        if fs::stat(down).is_ok() {
            Want::Down
        } else {
            Want::Up
        }
    };
    let mut main = Service::new(Kind::Main, &MAIN, want(c"down"), now);
    let mut log = None;
    let mut pipe = None;
    match fs::stat(c"log") {
        Err(Errno::NOENT) => {}
        Err(e) => diag.warn(&[b"unable to stat() ./log: "], errno(e)),
        Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::Directory => {
            diag.warn(&[b"./log: not a directory."], None)
        }
        Ok(_) => {
            log = Some(Service::new(Kind::Log, &LOG, want(c"log/down"), now));
            let p = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
                .map_err(|e| diag.fatal(&[b"unable to create log pipe"], errno(e)))?;
            pipe = Some(p);
        }
    }

    supervise_dir(&MAIN_NAMES, &diag)?;
    main.held.push(lock(
        &MAIN_NAMES,
        FlockOperation::NonBlockingLockExclusive,
        &diag,
    )?);
    if let Some(log) = log.as_mut() {
        supervise_dir(&LOG_NAMES, &diag)?;
        log.held
            .push(lock(&LOG_NAMES, FlockOperation::LockExclusive, &diag)?);
    }

    let mut sh = Shared {
        diag,
        pipe,
        pid_changed: true,
    };
    control(&mut main, &MAIN_NAMES, &sh.diag)?;
    files::write(&main, &mut sh.pid_changed, &sh.diag);
    if let Some(log) = log.as_mut() {
        control(log, &LOG_NAMES, &sh.diag)?;
        files::write(log, &mut sh.pid_changed, &sh.diag);
    }
    main.held.push(ok(&MAIN_NAMES, &sh.diag)?);
    if let Some(log) = log.as_mut() {
        log.held.push(ok(&LOG_NAMES, &sh.diag)?);
    }
    Ok(Supervisor {
        sh,
        main,
        log,
        signals,
    })
}

/// Creates `supervise/`, or through a `supervise` symlink its target's last component
/// (relative targets resolve against the link's directory). mkdir errors surface later.
fn supervise_dir(n: &Names, diag: &Diag) -> Result<(), Fatal> {
    if fs::mkdir(n.supervise, Mode::from_raw_mode(0o700)).is_ok() {
        return Ok(());
    }
    let target = match fs::readlink(n.supervise, Vec::new()) {
        Ok(t) => t,
        Err(Errno::NOENT | Errno::INVAL) => return Ok(()),
        Err(e) => return Err(diag.fatal(&[b"unable to readlink ", n.shown], errno(e))),
    };
    // runit reads the link into 256 bytes and refuses a target that fills them.
    if target.as_bytes().len() >= 256 {
        return Err(diag.fatal(&[b"unable to readlink ", n.shown, b": name too long"], None));
    }
    if n.supervise == LOG_NAMES.supervise {
        let here = open_read(c".")
            .map_err(|e| diag.fatal(&[b"unable to open current directory"], errno(e)))?;
        rustix::process::chdir(c"./log")
            .map_err(|e| diag.fatal(&[b"unable to change directory to ./log"], errno(e)))?;
        let _ = fs::mkdir(target.as_c_str(), Mode::from_raw_mode(0o700));
        rustix::process::fchdir(&here)
            .map_err(|e| diag.fatal(&[b"unable to change back to service directory"], errno(e)))?;
    } else {
        let _ = fs::mkdir(target.as_c_str(), Mode::from_raw_mode(0o700));
    }
    Ok(())
}

fn lock(n: &Names, how: FlockOperation, diag: &Diag) -> Result<OwnedFd, Fatal> {
    let path = n.lock.to_bytes();
    let fd = open_append(n.lock).map_err(|e| diag.fatal(&[b"unable to open ", path], errno(e)))?;
    fs::flock(&fd, how).map_err(|e| diag.fatal(&[b"unable to lock ", path], errno(e)))?;
    Ok(fd)
}

fn mkfifo(path: &CStr) {
    let _ = fs::mknodat(fs::CWD, path, FileType::Fifo, Mode::from_raw_mode(0o600), 0);
}

/// The control FIFO, opened for reading and (so reads never see EOF) for writing.
fn control(s: &mut Service, n: &Names, diag: &Diag) -> Result<(), Fatal> {
    let path = n.control.to_bytes();
    mkfifo(n.control);
    let st = fs::stat(n.control).map_err(|e| diag.fatal(&[b"unable to stat ", path], errno(e)))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::Fifo {
        return Err(diag.fatal(&[path, b" exists but is not a fifo"], None));
    }
    let opened = |fd: Result<OwnedFd, Errno>| {
        fd.map_err(|e| diag.fatal(&[b"unable to open ", path], errno(e)))
    };
    s.control = Some(opened(open_read(n.control))?);
    s.held.push(opened(open_write(n.control))?);
    Ok(())
}

fn ok(n: &Names, diag: &Diag) -> Result<OwnedFd, Fatal> {
    mkfifo(n.ok);
    open_read(n.ok).map_err(|e| diag.fatal(&[b"unable to read ", n.ok.to_bytes()], errno(e)))
}
