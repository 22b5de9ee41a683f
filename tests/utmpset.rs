//! utmpset on utmp/wtmp files of glibc records (built with libc's `utmpx`, which is glibc's
//! layout on this target): the logged-out record, the wtmp record, every message and exit
//! code, and the same files and output as Debian's utmpset (run in a private mount
//! namespace whose /run and /var/log are empty tmpfs).
mod common;
use common::*;

use nix::libc;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const ID: &str = "$Id: cb399098f794012a7f5e6a3a7090b2d53b86c08c $";
const SIZE: usize = std::mem::size_of::<libc::utmpx>();

fn record(kind: i16, line: &str, user: &str, host: &str, pid: i32) -> Vec<u8> {
    // SAFETY: utmpx is plain data; all-zero is valid.
    let mut u: libc::utmpx = unsafe { std::mem::zeroed() };
    u.ut_type = kind;
    u.ut_pid = pid;
    for (dst, src) in [
        (&mut u.ut_line[..], line),
        (&mut u.ut_user[..], user),
        (&mut u.ut_host[..], host),
        (&mut u.ut_id[..], "t5"),
    ] {
        for (d, s) in dst.iter_mut().zip(src.bytes()) {
            *d = s as libc::c_char;
        }
    }
    u.ut_tv.tv_sec = 1_000_000;
    u.ut_tv.tv_usec = 7;
    // SAFETY: reading the bytes of a plain-data struct.
    unsafe { std::slice::from_raw_parts((&u as *const libc::utmpx).cast::<u8>(), SIZE) }.to_vec()
}

fn parse(bytes: &[u8]) -> Vec<libc::utmpx> {
    bytes
        .chunks_exact(SIZE)
        // SAFETY: SIZE bytes read into a plain-data struct.
        .map(|c| unsafe { std::ptr::read_unaligned(c.as_ptr().cast::<libc::utmpx>()) })
        .collect()
}

fn text(field: &[libc::c_char]) -> String {
    field
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8 as char)
        .collect()
}

/// utmp: tty1 (root from h1), tty5 (bob from h5), a LOGIN record for tty6 (no user).
fn utmp() -> Vec<u8> {
    let mut v = record(libc::USER_PROCESS, "tty1", "root", "h1", 101);
    v.extend(record(libc::USER_PROCESS, "tty5", "bob", "h5", 105));
    v.extend(record(libc::LOGIN_PROCESS, "tty6", "", "", 106));
    v
}

fn utmpset(t: &Tree, args: &[&str]) -> Outcome {
    run_cmd(
        Command::new(applet("utmpset"))
            .args(args)
            .env("SVBOX_UTMP", t.join("utmp"))
            .env("SVBOX_WTMP", t.join("wtmp"))
            .current_dir(t.path()),
    )
}

fn now() -> i64 {
    unix_now() as i64
}

#[test]
fn logs_the_line_out_in_utmp_and_wtmp() {
    let t = Tree::new();
    fs::write(t.join("utmp"), utmp()).unwrap();
    let before = now();
    let o = utmpset(&t, &["-w", "tty5"]);
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (Some(0), "", "")
    );
    let after = fs::read(t.join("utmp")).unwrap();
    let orig = utmp();
    assert_eq!(after.len(), orig.len());
    // Other records untouched, byte for byte.
    assert_eq!(after[..SIZE], orig[..SIZE]);
    assert_eq!(after[2 * SIZE..], orig[2 * SIZE..]);
    let r = parse(&after)[1];
    assert_eq!(r.ut_type, libc::DEAD_PROCESS);
    assert_eq!(
        (text(&r.ut_user), text(&r.ut_host)),
        (String::new(), String::new())
    );
    assert_eq!(
        (text(&r.ut_line), text(&r.ut_id), r.ut_pid),
        ("tty5".into(), "t5".into(), 105)
    );
    let sec = r.ut_tv.tv_sec as i64;
    assert!(sec >= before && sec <= now(), "{sec}");
    assert_eq!(r.ut_tv.tv_usec, 7, "microseconds kept");
    // wtmp: created 0600, one DEAD_PROCESS record with the line and the time only.
    let w = fs::read(t.join("wtmp")).unwrap();
    assert_eq!(
        fs::metadata(t.join("wtmp")).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let w = parse(&w);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].ut_type, libc::DEAD_PROCESS);
    assert_eq!(text(&w[0].ut_line), "tty5");
    assert_eq!((w[0].ut_pid, w[0].ut_user[0], w[0].ut_id[0]), (0, 0, 0));
    assert!(w[0].ut_tv.tv_sec as i64 >= before);
    // Logged out already: no such entry; -w appends nothing then.
    let o = utmpset(&t, &["-w", "tty5"]);
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        "utmpset: warning: unable to logout line tty5 in utmp: no such entry\n"
    );
    assert_eq!(fs::read(t.join("wtmp")).unwrap().len(), SIZE);
    // Without -w, wtmp is not touched.
    let o = utmpset(&t, &["tty1"]);
    assert_eq!(o.code, Some(0));
    assert_eq!(fs::read(t.join("wtmp")).unwrap().len(), SIZE);
    assert_eq!(
        parse(&fs::read(t.join("utmp")).unwrap())[0].ut_type,
        libc::DEAD_PROCESS
    );
}

#[test]
fn full_length_lines_match_and_longer_ones_are_refused() {
    let t = Tree::new();
    let long = "x".repeat(32);
    fs::write(
        t.join("utmp"),
        record(libc::USER_PROCESS, &long, "u", "", 1),
    )
    .unwrap();
    let o = utmpset(&t, &["-w", &long]);
    assert_eq!((o.code, o.stderr.as_str()), (Some(0), ""));
    assert_eq!(
        parse(&fs::read(t.join("wtmp")).unwrap())[0].ut_line.len(),
        32
    );
    let longer = "x".repeat(33);
    let o = utmpset(&t, &[&longer]);
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        format!("utmpset: fatal: unable to logout line {longer} in utmp: name too long\n")
    );
}

#[test]
fn bad_input() {
    let t = Tree::new();
    let p = applet("utmpset").display().to_string();
    let usage = format!("usage: {p} [-w] line\n\n");
    let o = utmpset(&t, &[]);
    assert_eq!((o.code, o.stderr.clone()), (Some(1), usage.clone()));
    let o = utmpset(&t, &["-w"]);
    assert_eq!((o.code, o.stderr.clone()), (Some(1), usage.clone()));
    let o = utmpset(&t, &["-x", "tty1"]);
    assert_eq!(o.code, Some(1));
    assert_eq!(o.stderr, format!("utmpset: illegal option -- x\n{usage}"));
    let o = utmpset(&t, &["-V", "tty1"]);
    assert_eq!(
        (o.code, o.stderr.clone()),
        (Some(1), format!("{ID}\n{usage}"))
    );
    // No utmp.
    let o = utmpset(&t, &["tty1"]);
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        format!(
            "utmpset: fatal: unable to open {}: file does not exist\n",
            t.join("utmp").display()
        )
    );
    // An unusable wtmp: utmp is changed first, as runit does.
    fs::write(t.join("utmp"), utmp()).unwrap();
    fs::create_dir(t.join("wtmp")).unwrap();
    let o = utmpset(&t, &["-w", "tty1"]);
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        format!(
            "utmpset: fatal: unable to open {}: is a directory\n",
            t.join("wtmp").display()
        )
    );
    // A full disk.
    let o = run_cmd(
        Command::new(applet("utmpset"))
            .args(["-w", "tty5"])
            .env("SVBOX_UTMP", t.join("utmp"))
            .env("SVBOX_WTMP", "/dev/full"),
    );
    assert_eq!(o.code, Some(111));
    assert_eq!(
        o.stderr,
        "utmpset: warning: unable to logout line tty5 in wtmp: out of disk space\n"
    );
}

/// Blanks `ut_tv.tv_sec` of every record (the two programs may run in different seconds).
fn without_times(mut bytes: Vec<u8>) -> Vec<u8> {
    // SAFETY: offset computation on a zeroed plain-data struct.
    let at = std::mem::offset_of!(libc::utmpx, ut_tv);
    let len = {
        let u: libc::utmpx = unsafe { std::mem::zeroed() };
        std::mem::size_of_val(&u.ut_tv.tv_sec)
    };
    for chunk in bytes.chunks_exact_mut(SIZE) {
        chunk[at..at + len].fill(0);
    }
    bytes
}

/// Under qemu-user on a big-endian target, the records in the byte order of Debian's x86_64
/// utmpset (and back: the swap is its own inverse); else unchanged. utmp holds integers in
/// the byte order of the machine, so the peer has to get and give its own.
fn peer_order(mut bytes: Vec<u8>) -> Vec<u8> {
    if emulated().is_none() || cfg!(target_endian = "little") {
        return bytes;
    }
    use std::mem::{offset_of, size_of_val};
    // SAFETY: utmpx is plain data; all-zero is valid.
    let u: libc::utmpx = unsafe { std::mem::zeroed() };
    let exit = offset_of!(libc::utmpx, ut_exit);
    let tv = offset_of!(libc::utmpx, ut_tv);
    let session = exit + size_of_val(&u.ut_exit);
    let integers = [
        (offset_of!(libc::utmpx, ut_type), size_of_val(&u.ut_type)),
        (offset_of!(libc::utmpx, ut_pid), size_of_val(&u.ut_pid)),
        (exit, size_of_val(&u.ut_exit.e_termination)),
        (
            offset_of!(libc::utmpx, ut_exit.e_exit),
            size_of_val(&u.ut_exit.e_exit),
        ),
        (session, tv - session),
        (tv, size_of_val(&u.ut_tv.tv_sec)),
        (
            tv + offset_of!(libc::timeval, tv_usec),
            size_of_val(&u.ut_tv.tv_usec),
        ),
    ];
    for chunk in bytes.chunks_exact_mut(SIZE) {
        for (at, len) in integers {
            chunk[at..at + len].reverse();
        }
    }
    bytes
}

#[test]
fn same_files_and_output_as_debian_utmpset() {
    if !peers::available() || !Path::new("/var/run").exists() {
        return;
    }
    let peer = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers/runit/usr/sbin/utmpset");
    let t = Tree::new();
    let ours = named_link("utmpset-ours", &svbox(), "utmpset");
    let theirs = named_link("utmpset-theirs", &peer, "utmpset");
    let mut results = Vec::new();
    for (tag, prog) in [("ours", &ours), ("theirs", &theirs)] {
        let order = |bytes| {
            if tag == "ours" {
                bytes
            } else {
                peer_order(bytes)
            }
        };
        fs::write(t.join("utmp.in"), order(utmp())).unwrap();
        // Both read /var/run/utmp and /var/log/wtmp: fresh tmpfs in a private namespace.
        let sh = format!(
            "mount -t tmpfs none /run && mount -t tmpfs none /var/log || exit 99\n\
             mkdir -p /var/run; cp {input} /var/run/utmp\n\
             for a in '-w tty5' '-w tty5' 'tty6' '-V' ''; do utmpset $a; echo \"rc=$?\"; done\n\
             cp /var/run/utmp {out}.utmp; cp /var/log/wtmp {out}.wtmp",
            input = t.join("utmp.in").display(),
            out = t.join(tag).display(),
        );
        let o = run_cmd(
            Command::new("unshare")
                .args(["--mount", "--propagation", "private", "sh", "-c", &sh])
                .env(
                    "PATH",
                    format!("{}:/usr/bin:/bin", prog.parent().unwrap().display()),
                ),
        );
        if o.code == Some(99) || o.code == Some(1) && o.stdout.is_empty() {
            assert!(std::env::var_os("CI").is_none(), "mount namespace: {o:?}");
            return;
        }
        let utmp = without_times(order(fs::read(t.join(&format!("{tag}.utmp"))).unwrap()));
        let wtmp = without_times(order(fs::read(t.join(&format!("{tag}.wtmp"))).unwrap()));
        results.push((o, utmp, wtmp));
    }
    let (a, b) = (&results[0], &results[1]);
    assert_same_outcome("utmpset runs", (&ours, &a.0), (&theirs, &b.0));
    assert_eq!(a.1, b.1, "utmp");
    assert_eq!(a.2, b.2, "wtmp");
    assert_eq!(a.2.len(), SIZE);
}
