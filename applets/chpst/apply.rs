//! Carries out a plan in runit's order: setsid, envdir, chroot, chdir, nice, `-U`, `-u`
//! (setgroups, setgid, setuid, checked), lock, closing fds, limits; then execs the program.

use super::envdir;
use super::lock::{self, Failure};
use super::plan::{Account, Plan};
use super::report;
use super::uidgid::{self, Ids};
use nix::unistd::{self, Gid, Uid};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use svbox::accounts::Passwd;
use svbox::msg::fmt_u64;
use svbox::pathexec::{self, EnvChanges};

/// Runs the plan; returns only on failure, with the exit code.
pub fn run(plan: &Plan<'_>) -> i32 {
    match prepare(plan) {
        Ok(env) => exec(plan, &env),
        Err(code) => code,
    }
}

/// Every step before exec; the environment changes for the program.
// Kept out of its callers: inlined, the binary grows (measured, opt-level z).
#[inline(never)]
fn prepare(plan: &Plan<'_>) -> Result<EnvChanges, i32> {
    let mut env = EnvChanges::new();
    if plan.setsid {
        // As runit: a process group leader cannot, and that is fine.
        let _ = unistd::setsid();
    }
    if let Some(d) = plan.envdir {
        envdir::read(d.dir, d.subdirs_fatal, plan.verbose, &mut env)?;
    }
    if let Some(root) = plan.root {
        rustix::process::chdir(root).map_err(|e| {
            report::fatal_err(&[b"unable to change directory: ", root.as_bytes()], raw(e))
        })?;
        rustix::process::chroot(c".")
            .map_err(|e| report::fatal_err(&[b"unable to change root directory"], raw(e)))?;
    }
    if let Some(dir) = plan.chdir {
        rustix::process::chdir(dir).map_err(|e| {
            report::fatal_err(&[b"unable to change directory: ", dir.as_bytes()], raw(e))
        })?;
    }
    if plan.nice != 0 {
        // nice(3) reports a refused raise as EPERM, and so does runit.
        rustix::process::nice(plan.nice).map_err(|e| {
            let e = if e == Errno::ACCESS { Errno::PERM } else { e };
            report::fatal_err(&[b"unable to set nice level"], raw(e))
        })?;
    }
    let mut login: Option<Passwd> = None;
    if let Some(account) = plan.env_user {
        let ids = resolve(account)?;
        let mut digits = [0u8; 20];
        env.set(b"GID", fmt_u64(u64::from(primary(&ids)), &mut digits));
        env.set(b"UID", fmt_u64(u64::from(ids.uid), &mut digits));
        login = ids.user;
    }
    if let Some(account) = plan.set_user {
        let mut ids = resolve(account)?;
        if plan.login {
            uidgid::add_memberships(&mut ids)
                .map_err(|e| uidgid::report(e, account.spec, account.extended))?;
        }
        become_user(&ids)?;
        login = ids.user;
    }
    if plan.login {
        if let Some(user) = login {
            env.set(b"HOME", &user.home);
            env.set(b"USER", &user.name);
            env.set(b"LOGNAME", &user.name);
        }
    }
    if let Some(l) = plan.lock {
        if let Err(failure) = lock::take(l.path, l.wait) {
            if plan.quiet {
                return Err(0);
            }
            let (what, e): (&[u8], Errno) = match failure {
                Failure::Open(e) => (b"unable to open lock: ", e),
                Failure::Lock(e) => (b"unable to lock: ", e),
            };
            return Err(report::fatal_err(&[what, l.path.as_bytes()], raw(e)));
        }
    }
    for (fd, what) in [
        (0, &b"unable to close stdin"[..]),
        (1, b"unable to close stdout"),
        (2, b"unable to close stderr"),
    ] {
        if plan.close[fd as usize] {
            unistd::close(fd).map_err(|e| report::fatal_err(&[what], e as i32))?;
        }
    }
    plan.limits.apply()?;
    Ok(env)
}

fn resolve(account: Account<'_>) -> Result<Ids, i32> {
    uidgid::resolve(account.spec.as_bytes(), account.extended)
        .map_err(|e| uidgid::report(e, account.spec, account.extended))
}

fn primary(ids: &Ids) -> u32 {
    ids.gids.first().copied().unwrap_or_default()
}

/// setgroups, setgid, setuid, and a check that all real and effective ids are the new ones.
fn become_user(ids: &Ids) -> Result<(), i32> {
    let gid = Gid::from_raw(primary(ids));
    let uid = Uid::from_raw(ids.uid);
    svbox::syscall::set_groups(&ids.gids)
        .map_err(|e| report::fatal_err(&[b"unable to setgroups"], e))?;
    svbox::syscall::set_gid(gid.as_raw())
        .map_err(|e| report::fatal_err(&[b"unable to setgid"], e))?;
    svbox::syscall::set_uid(uid.as_raw())
        .map_err(|e| report::fatal_err(&[b"unable to setuid"], e))?;
    let dropped = unistd::getuid() == uid
        && unistd::geteuid() == uid
        && unistd::getgid() == gid
        && unistd::getegid() == gid;
    if !dropped {
        return Err(report::fatal(&[b"unable to drop privileges"]));
    }
    Ok(())
}

/// Execs the program (argv[0] replaced by `-b`'s); returns the exit code if that failed.
/// The message names argv[0] as passed, `-b`'s when given, as runit's does.
fn exec(plan: &Plan<'_>, env: &EnvChanges) -> i32 {
    let Some(file) = plan.prog.first() else {
        return report::FATAL;
    };
    let errno = pathexec::exec(file, plan.argv0, plan.prog, env);
    if plan.quiet {
        return 0;
    }
    let named = plan.argv0.unwrap_or(file);
    report::fatal_err(&[b"unable to run: ", OsStr::as_bytes(named)], errno)
}

fn raw(e: Errno) -> i32 {
    e.raw_os_error()
}
