//! The boot test: a real Linux kernel (Debian's linux-image, fetched and unpacked by
//! `tests/boot/fetch-kernel.sh`) boots under qemu-system-x86_64 (software emulation) from
//! an initramfs built here that holds a static musl svbox as `/sbin/init` (runit),
//! busybox-static, the stages `docs/boot/runit/` ships, and two services logging through
//! svlogd. Over the serial console the test sees `sv status` report them up; then the
//! machine halts (`runit-init 0`) or reboots (Ctrl-Alt-Del through qemu's monitor), and the
//! test checks that stage 3 ran, that every line the services wrote is in their logs, and
//! that the VM stopped by itself, powered off or restarting as asked.
//!
//! Under `CI` a missing kernel, qemu or busybox fails the test; elsewhere it skips with a
//! message.

#[path = "boot/cpio.rs"]
mod cpio;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// From qemu's start to its exit by itself; software emulation on a loaded 2-core machine.
const VM_DEADLINE: Duration = Duration::from_secs(300);
/// Stage 3's phase bounds, raised from 7 s on the kernel command line: a loaded machine
/// emulating the VM in software must not make a phase time out (the test fails on that).
const STAGE3_WAITS: &str = "WAIT_SERVICES=30 WAIT_LOGGERS=30";
/// Lines each service must have written: at least 2000 before the shutdown (the driver
/// waits for them), then the 2000 of its last burst on TERM (`tests/boot/guest/writer`).
const MIN_LINES: u64 = 4000;

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");
const TARGET: &str = "x86_64-unknown-linux-musl";

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// What the boots need: the kernel, a static svbox and a static busybox.
struct Parts {
    kernel: PathBuf,
    svbox: PathBuf,
    busybox: PathBuf,
}

/// `None`: skip (outside CI, something that has to come from outside is missing).
fn parts() -> Option<&'static Parts> {
    // Under qemu-user (`.ci/cross test`) there is nothing of the target here: the VM boots
    // the x86_64 release build, which the native run covers; and the cargo it would build
    // with is the cross run's nightly, which has no prebuilt x86_64 musl std.
    if let Some(e) = std::env::var_os("SVBOX_TEST_EMULATED").filter(|e| !e.is_empty()) {
        eprintln!(
            "boot test skipped under {}: it boots the x86_64 build",
            e.to_string_lossy()
        );
        return None;
    }
    static PARTS: OnceLock<Result<Parts, String>> = OnceLock::new();
    match PARTS.get_or_init(find_parts) {
        Ok(p) => Some(p),
        Err(why) if !in_ci() && !why.starts_with("svbox:") => {
            eprintln!("boot test skipped: {why}");
            None
        }
        Err(why) => panic!("boot test: {why}"),
    }
}

fn find_parts() -> Result<Parts, String> {
    let qemu = Command::new("qemu-system-x86_64")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !qemu.is_ok_and(|s| s.success()) {
        return Err("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)".into());
    }
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .map(PathBuf::from)
        .find(|p| is_static(p))
        .ok_or("no static busybox (apt-get install busybox-static)")?;
    let kernel = fetch_kernel()?;
    let svbox = build_svbox()?;
    Ok(Parts {
        kernel,
        svbox,
        busybox,
    })
}

/// An x86-64 ELF executable without a PT_INTERP program header (no dynamic loader).
fn is_static(path: &Path) -> bool {
    let Ok(b) = std::fs::read(path) else {
        return false;
    };
    let u16_at = |o: usize| {
        b.get(o..o + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
    };
    let u64_at = |o: usize| {
        b.get(o..o + 8)
            .map(|s| u64::from_le_bytes(s.try_into().unwrap()) as usize)
    };
    // ELF64, little-endian.
    if !b.starts_with(b"\x7fELF\x02\x01") {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    (0..phnum).all(|i| {
        let at = phoff + i * phentsize;
        b.get(at..at + 4)
            .is_some_and(|t| u32::from_le_bytes(t.try_into().unwrap()) != 3)
    })
}

fn fetch_kernel() -> Result<PathBuf, String> {
    let script = Path::new(MANIFEST).join("tests/boot/fetch-kernel.sh");
    let out = Command::new("sh")
        .arg(&script)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || path.is_empty() || !Path::new(&path).is_file() {
        return Err(format!(
            "no kernel from tests/boot/fetch-kernel.sh: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(PathBuf::from(path))
}

/// The static release build `.ci/run` makes too (same target directory, same features).
fn build_svbox() -> Result<PathBuf, String> {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|d| {
            if d.is_absolute() {
                d
            } else {
                Path::new(MANIFEST).join(d)
            }
        })
        .unwrap_or_else(|| Path::new(MANIFEST).join("target"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let out = Command::new(cargo)
        .args(["build", "--release", "--target", TARGET])
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(MANIFEST)
        .output()
        .map_err(|e| format!("svbox: cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "svbox: cargo build --release --target {TARGET} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let bin = target_dir.join(TARGET).join("release/svbox");
    if !is_static(&bin) {
        return Err(format!(
            "svbox: {} is not a static executable",
            bin.display()
        ));
    }
    Ok(bin)
}

/// One entry of the initramfs.
enum Node {
    Dir,
    File(u32, Vec<u8>),
    Link(String),
    Char(u32, u32),
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The applets a binary lists with `--list-full` (busybox) as install paths.
fn listed(program: &Path, arg: &str) -> Vec<String> {
    let out = Command::new(program).arg(arg).output().unwrap();
    assert!(out.status.success(), "{} {arg} failed", program.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().trim_start_matches('/').to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Builds the initramfs in `target/boot/` and returns its path.
fn initramfs(p: &Parts) -> PathBuf {
    static IMAGE: OnceLock<PathBuf> = OnceLock::new();
    IMAGE.get_or_init(|| build_initramfs(p)).clone()
}

fn build_initramfs(p: &Parts) -> PathBuf {
    let top = Path::new(MANIFEST);
    let mut tree: BTreeMap<String, Node> = BTreeMap::new();
    for d in [
        "bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "run", "tmp",
        "root", "var", "var/log", "var/lib",
    ] {
        tree.insert(d.into(), Node::Dir);
    }
    tree.insert("dev/console".into(), Node::Char(5, 1));
    tree.insert("dev/null".into(), Node::Char(1, 3));

    // busybox first: its runit applets and its init are then replaced by svbox's.
    tree.insert("bin/busybox".into(), Node::File(0o755, read(&p.busybox)));
    for path in listed(&p.busybox, "--list-full") {
        if path.contains('/') && path != "bin/busybox" {
            tree.insert(path, Node::Link("/bin/busybox".into()));
        }
    }
    tree.insert("usr/bin/svbox".into(), Node::File(0o755, read(&p.svbox)));
    let applets = listed(&p.svbox, "--list-full");
    for path in &applets {
        tree.insert(path.clone(), Node::Link("/usr/bin/svbox".into()));
    }
    let names: Vec<&str> = applets
        .iter()
        .map(|a| a.rsplit('/').next().unwrap())
        .collect();
    for needed in ["runit", "runit-init", "runsvdir", "runsv", "sv", "svlogd"] {
        assert!(
            names.contains(&needed),
            "svbox has no {needed} applet (its applets: {names:?})"
        );
    }
    // The kernel runs /sbin/init (rdinit=); as process 1 runit-init hands over to runit.
    tree.insert("sbin/init".into(), Node::Link("/usr/bin/svbox".into()));
    // runit-init runs /sbin/runit by that path, wherever the applet installs.
    tree.insert("sbin/runit".into(), Node::Link("/usr/bin/svbox".into()));

    // The stages exactly as docs/boot/runit ships them; control files in /run (README).
    tree.insert("etc/runit".into(), Node::Dir);
    for stage in ["1", "2", "3", "ctrlaltdel"] {
        let data = read(&top.join("docs/boot/runit").join(stage));
        tree.insert(format!("etc/runit/{stage}"), Node::File(0o755, data));
    }
    tree.insert(
        "etc/runit/stopit".into(),
        Node::Link("/run/runit/stopit".into()),
    );
    tree.insert(
        "etc/runit/reboot".into(),
        Node::Link("/run/runit/reboot".into()),
    );
    tree.insert(
        "etc/hostname".into(),
        Node::File(0o644, b"svbox-boot\n".to_vec()),
    );

    // The test's own additions: stage 3's check hook and three services.
    let guest = top.join("tests/boot/guest");
    tree.insert("etc/runit/3.d".into(), Node::Dir);
    tree.insert(
        "etc/runit/3.d/boottest".into(),
        Node::File(0o755, read(&guest.join("check-logs"))),
    );
    tree.insert("etc/service".into(), Node::Dir);
    for svc in ["alpha", "beta"] {
        tree.insert(format!("etc/service/{svc}"), Node::Dir);
        tree.insert(
            format!("etc/service/{svc}/run"),
            Node::File(0o755, read(&guest.join("writer"))),
        );
        tree.insert(format!("etc/service/{svc}/log"), Node::Dir);
        tree.insert(
            format!("etc/service/{svc}/log/run"),
            Node::File(0o755, read(&guest.join("log-run"))),
        );
    }
    tree.insert("etc/service/driver".into(), Node::Dir);
    tree.insert(
        "etc/service/driver/run".into(),
        Node::File(0o755, read(&guest.join("driver"))),
    );

    let dir = boot_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("initramfs.cpio");
    let tmp = dir.join(format!("initramfs.cpio.{}", std::process::id()));
    let file = std::io::BufWriter::new(std::fs::File::create(&tmp).unwrap());
    let mut archive = cpio::Archive::new(file);
    // Sorted paths put every directory before what it holds.
    for (name, node) in &tree {
        match node {
            Node::Dir => archive.dir(name, 0o755),
            Node::File(mode, data) => archive.file(name, *mode, data),
            Node::Link(target) => archive.symlink(name, target),
            Node::Char(major, minor) => archive.char_device(name, 0o600, *major, *minor),
        }
        .unwrap();
    }
    archive.finish().unwrap();
    // Whole or not at all, for a boot of another test process starting meanwhile.
    std::fs::rename(&tmp, &path).unwrap();
    path
}

fn boot_dir() -> PathBuf {
    std::env::var_os("SVBOX_BOOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(MANIFEST).join("target/boot"))
}

/// A running VM: its serial console lines arrive on `lines`; killed on drop.
struct Vm {
    child: Child,
    lines: Receiver<String>,
    log: Vec<String>,
    monitor: PathBuf,
    /// Kept open until the VM is gone, so qemu reads every command.
    monitor_stream: Option<UnixStream>,
    started: Instant,
    name: &'static str,
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.monitor);
    }
}

impl Vm {
    fn start(p: &Parts, name: &'static str, mode: &str) -> Vm {
        let image = initramfs(p);
        // Not under target/: a socket path must stay short.
        let monitor =
            std::env::temp_dir().join(format!("svbox-boot-{name}-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&monitor);
        let mut child = Command::new("qemu-system-x86_64")
            .args([
                "-nodefaults",
                "-no-user-config",
                "-machine",
                "pc",
                "-accel",
                "tcg",
            ])
            .args(["-m", "256", "-smp", "1", "-display", "none", "-no-reboot"])
            .args(["-serial", "stdio", "-monitor"])
            .arg(format!("unix:{},server=on,wait=off", monitor.display()))
            .arg("-kernel")
            .arg(&p.kernel)
            .arg("-initrd")
            .arg(&image)
            .arg("-append")
            .arg(format!(
                "console=ttyS0 panic=-1 quiet rdinit=/sbin/init boottest={mode} {STAGE3_WAITS}"
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("qemu-system-x86_64 did not start");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut buf = Vec::new();
            // Bytes, not UTF-8 lines: the console may carry anything.
            while reader.read_until(b'\n', &mut buf).is_ok_and(|n| n > 0) {
                let line = String::from_utf8_lossy(&buf);
                let _ = tx.send(line.trim_end_matches(['\r', '\n']).to_string());
                buf.clear();
            }
        });
        Vm {
            child,
            lines,
            log: Vec::new(),
            monitor,
            monitor_stream: None,
            started: Instant::now(),
            name,
        }
    }

    fn left(&self) -> Duration {
        VM_DEADLINE.saturating_sub(self.started.elapsed())
    }

    fn fail(&mut self, why: &str) -> ! {
        let _ = self.child.kill();
        panic!(
            "{}: {why} after {:.1} s; serial console:\n{}",
            self.name,
            self.started.elapsed().as_secs_f64(),
            self.log.join("\n")
        );
    }

    /// Next console line; `None` once qemu has closed its output.
    fn next_line(&mut self) -> Option<String> {
        match self.lines.recv_timeout(self.left()) {
            Ok(line) => {
                eprintln!(
                    "[{} {:6.1}] {line}",
                    self.name,
                    self.started.elapsed().as_secs_f64()
                );
                if line.contains("BOOTTEST fail") {
                    self.log.push(line);
                    self.fail("the guest reported a failure");
                }
                self.log.push(line.clone());
                Some(line)
            }
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => self.fail("deadline passed"),
        }
    }

    /// Reads the console up to a line containing `marker`; the time it was seen.
    fn expect(&mut self, marker: &str) -> f64 {
        loop {
            match self.next_line() {
                Some(line) if line.contains(marker) => return self.started.elapsed().as_secs_f64(),
                Some(_) => {}
                None => self.fail(&format!("qemu exited before {marker:?}")),
            }
        }
    }

    /// Reads the console to its end and waits for qemu to exit by itself.
    fn finish(&mut self) -> f64 {
        while self.next_line().is_some() {}
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => {
                    return self.started.elapsed().as_secs_f64()
                }
                Ok(Some(status)) => self.fail(&format!("qemu exited with {status}")),
                Ok(None) if self.left().is_zero() => self.fail("qemu did not exit"),
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => self.fail(&format!("waiting for qemu: {e}")),
            }
        }
    }

    fn monitor_command(&mut self, command: &str) {
        match UnixStream::connect(&self.monitor)
            .and_then(|mut s| s.write_all(format!("{command}\n").as_bytes()).map(|_| s))
        {
            Ok(stream) => self.monitor_stream = Some(stream),
            Err(e) => self.fail(&format!("qemu monitor {}: {e}", self.monitor.display())),
        }
    }
}

/// `key=value` fields of a `BOOTTEST log NAME ...` line.
fn field(line: &str, key: &str) -> u64 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")).map(str::to_string))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key}= in {line:?}"))
}

/// Everything the console showed from the action on: stage 3, no line lost, the end.
fn check_shutdown(vm: &mut Vm, action: &str, last_kernel_line: &str) {
    let log = vm.log.clone();
    let at = |what: &str| log.iter().position(|l| l.contains(what));
    let acted = at(action).unwrap_or_else(|| vm.fail(&format!("no {action:?}")));
    for step in [
        "enter stage: /etc/runit/3",
        // The bounds from the kernel command line reached stage 3.
        "stage 3: stopping services, at most 30 s...",
        "stage 3: stopping loggers, at most 30 s...",
        "stage 3: done.",
    ] {
        match at(step) {
            Some(i) if i > acted => {}
            _ => vm.fail(&format!("{step:?} missing after {action:?}")),
        }
    }
    // Orderly: every phase finished in time, nothing had to be killed.
    if let Some(l) = log[acted..]
        .iter()
        .find(|l| l.starts_with("timeout: ") || l.starts_with("kill: "))
    {
        vm.fail(&format!("stage 3 was not orderly: {l:?}"));
    }
    for name in ["alpha", "beta"] {
        let stopped = format!("BOOTTEST stopped {name} ");
        let Some(wrote) = log.iter().find_map(|l| {
            l.strip_prefix(&stopped)
                .and_then(|n| n.trim().parse::<u64>().ok())
        }) else {
            vm.fail(&format!("{name} did not report its last line on TERM"));
        };
        let report = format!("BOOTTEST log {name} ");
        let Some(line) = log.iter().find(|l| l.starts_with(&report)).cloned() else {
            vm.fail(&format!("stage 3 did not check {name}'s log"));
        };
        let (lines, first, last) = (
            field(&line, "lines"),
            field(&line, "first"),
            field(&line, "last"),
        );
        let (gaps, bad, rotated) = (
            field(&line, "gaps"),
            field(&line, "bad"),
            field(&line, "rotated"),
        );
        if wrote < MIN_LINES {
            vm.fail(&format!("{name} wrote only {wrote} lines"));
        }
        if lines != wrote || first != 1 || last != wrote || gaps != 0 || bad != 0 {
            vm.fail(&format!("{name} wrote 1..{wrote}, its log holds: {line:?}"));
        }
        if rotated == 0 {
            vm.fail(&format!("{name}'s log never rotated: {line:?}"));
        }
    }
    let end = log
        .iter()
        .rev()
        .find(|l| l.contains("reboot: "))
        .cloned()
        .unwrap_or_default();
    if !end.contains(last_kernel_line) {
        vm.fail(&format!(
            "the kernel's last word is {end:?}, not {last_kernel_line:?}"
        ));
    }
}

/// Boots, waits for `sv status` to show both services and their loggers up.
fn boot_until_up(p: &Parts, name: &'static str, mode: &str) -> Vm {
    let mut vm = Vm::start(p, name, mode);
    vm.expect("enter stage: /etc/runit/1");
    vm.expect("BOOTTEST status begin");
    let up = vm.expect("BOOTTEST status end");
    let n = vm.log.len();
    let status = &vm.log[n - 3..n - 1];
    for (line, svc) in status.iter().zip(["alpha", "beta"]) {
        let prefix = format!("run: /etc/service/{svc}: (pid ");
        if !line.starts_with(&prefix) || !line.contains("; run: log: (pid ") {
            let why = format!("sv status for {svc}: {line:?}");
            vm.fail(&why);
        }
    }
    eprintln!("{name}: both services up after {up:.1} s");
    vm
}

#[test]
fn halt_with_runit_init_0_stops_in_order_and_powers_off() {
    let Some(p) = parts() else { return };
    let mut vm = boot_until_up(p, "halt", "halt");
    vm.expect("BOOTTEST runit-init 0");
    let end = vm.finish();
    check_shutdown(&mut vm, "BOOTTEST runit-init 0", "reboot: Power down");
    eprintln!("halt: qemu exited by itself after {end:.1} s");
}

#[test]
fn ctrl_alt_del_stops_in_order_and_reboots() {
    let Some(p) = parts() else { return };
    let mut vm = boot_until_up(p, "reboot", "reboot");
    vm.expect("BOOTTEST press ctrl-alt-delete");
    vm.monitor_command("sendkey ctrl-alt-delete");
    vm.expect("Ctrl-Alt-Del: the system is going down for reboot.");
    let end = vm.finish();
    check_shutdown(
        &mut vm,
        "Ctrl-Alt-Del: the system is going down for reboot.",
        "reboot: Restarting system",
    );
    eprintln!("reboot: qemu exited by itself after {end:.1} s");
}
