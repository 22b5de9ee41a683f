//! runsv's startup (§2.2): signals, the service directory, the optional log service and
//! its pipe, `supervise/` (or its symlink target), locks, control and ok FIFOs, and the
//! first status files — in runit's order, with its fatal messages (exit 111).

use super::clock::Mono;
use super::diag::Diag;
use super::files::{self, main_name, LOG, MAIN};
use super::svc::{Kind, Service, Shared, Want};
use nix::sys::signal::Signal;
use rustix::fd::OwnedFd;
use rustix::fs::{self as fs, FileType, FlockOperation, Mode};
use rustix::io::Errno;
use std::ffi::CStr;
use svbox::filestat;
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
    lock: &'static CStr,
    control: &'static CStr,
    ok: &'static CStr,
}

const LOG_NAMES: Names = Names {
    supervise: c"log/supervise",
    lock: c"log/supervise/lock",
    control: c"log/supervise/control",
    ok: c"log/supervise/ok",
};

const MAIN_NAMES: Names = Names {
    supervise: main_name(LOG_NAMES.supervise),
    lock: main_name(LOG_NAMES.lock),
    control: main_name(LOG_NAMES.control),
    ok: main_name(LOG_NAMES.ok),
};

const READLINK: &[u8] = b"unable to readlink ./";

type Fatal = i32;

fn errno(e: Errno) -> Option<i32> {
    Some(e.raw_os_error())
}

// Out of line: inlined into `main`, it made the binary bigger.
#[inline(never)]
pub fn start(diag: Diag) -> Result<Supervisor, Fatal> {
    let signals = SignalQueue::new(&[Signal::SIGCHLD, Signal::SIGTERM])
        .map_err(|e| diag.fatal(&[b"unable to create selfpipe"], Some(e as i32)))?;
    rustix::process::chdir(diag.dir())
        .map_err(|e| diag.fatal(&[b"unable to change to directory"], errno(e)))?;

    let now = Mono::now();
    let want = |down: &CStr| {
        if filestat::stat(down).is_ok() {
            Want::Down
        } else {
            Want::Up
        }
    };
    let mut main = Service::new(Kind::Main, &MAIN, want(c"down"), now);
    let mut log = None;
    let mut pipe = None;
    match filestat::stat(c"log") {
        Err(Errno::NOENT) => {}
        Err(e) => diag.warn(&[b"unable to stat() ./log: "], errno(e)),
        Ok(st) if !st.is_dir() => diag.warn(&[b"./log: not a directory."], None),
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
    // runit reads the link into 256 bytes and refuses a target that fills them.
    let mut buf = [0u8; 257];
    let len = match fs::readlinkat_raw(fs::CWD, n.supervise, &mut buf[..256]) {
        Ok(len) => len,
        Err(Errno::NOENT | Errno::INVAL) => return Ok(()),
        // runit prints `./supervise` or `./log/supervise`.
        Err(e) => return Err(diag.fatal(&[READLINK, n.supervise.to_bytes()], errno(e))),
    };
    if len >= 256 {
        let name = n.supervise.to_bytes();
        return Err(diag.fatal(&[READLINK, name, b": name too long"], None));
    }
    // A link target holds no NUL, so the first one is the terminator after it.
    let Ok(target) = CStr::from_bytes_until_nul(&buf) else {
        return Ok(());
    };
    if n.supervise == LOG_NAMES.supervise {
        let here = open_read(c".")
            .map_err(|e| diag.fatal(&[b"unable to open current directory"], errno(e)))?;
        rustix::process::chdir(c"./log")
            .map_err(|e| diag.fatal(&[b"unable to change directory to ./log"], errno(e)))?;
        let _ = fs::mkdir(target, Mode::from_raw_mode(0o700));
        rustix::process::fchdir(&here)
            .map_err(|e| diag.fatal(&[b"unable to change back to service directory"], errno(e)))?;
    } else {
        let _ = fs::mkdir(target, Mode::from_raw_mode(0o700));
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
    let st =
        filestat::stat(n.control).map_err(|e| diag.fatal(&[b"unable to stat ", path], errno(e)))?;
    if !st.is_fifo() {
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
