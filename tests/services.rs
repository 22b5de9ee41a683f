//! The example service directories of `var_service/` proven end to end (issue 7): DHCP
//! client, fw, ifplugd and the router pinger under our runsvdir in a network namespace,
//! leasing from busybox udhcpd in another one over a veth pair; getty on a pseudo-terminal;
//! misnamed services; shellcheck. Root is needed (namespaces, mounts); a missing tool fails
//! the test. Nothing leaves the test's namespaces: they are removed on drop (also on panic),
//! and every service runs in a private mount namespace with its own tmpfs on /run.
mod common;
use common::*;

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// tools

fn templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("var_service")
}

/// The directories a tool may be in: PATH, then the sbin directories root's PATH has.
fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A tool the tests cannot do without: its path, or a failure naming the package.
fn require(name: &str, package: &str) -> PathBuf {
    find_tool(name)
        .unwrap_or_else(|| panic!("{name} is missing: install the Debian package {package}"))
}

fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the service tests need root (network and mount namespaces)"
    );
}

fn busybox() -> PathBuf {
    let bb = PathBuf::from("/usr/bin/busybox");
    assert!(bb.is_file(), "busybox is missing: install busybox-static");
    bb
}

/// iproute2's ip (busybox's has no `netns`).
fn iproute2() -> PathBuf {
    let ip = require("ip", "iproute2");
    let v = run_cmd(Command::new(&ip).arg("-V"));
    assert!(
        v.stdout.contains("iproute2"),
        "{} is not iproute2's ip: install iproute2",
        ip.display()
    );
    ip
}

/// A directory of busybox applet symlinks (every applet busybox lists), made once per test
/// process: the tool set of an embedded system.
fn busybox_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let bb = busybox();
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("busybox-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let list = run_cmd(Command::new(&bb).arg("--list"));
        assert_eq!(list.code, Some(0), "busybox --list: {list:?}");
        for name in list.stdout.split_whitespace() {
            symlink(&bb, dir.join(name)).unwrap();
        }
        dir
    })
}

/// Copies a directory tree (files keep their modes, symlinks stay symlinks).
fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let (from, to) = (entry.path(), dst.join(entry.file_name()));
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_dir(&from, &to);
        } else if kind.is_symlink() {
            symlink(fs::read_link(&from).unwrap(), &to).unwrap();
        } else {
            fs::copy(&from, &to).unwrap();
        }
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// The environment every service of a test runs with: our applets, then busybox, then
/// `extra` (tools busybox lacks, stubs); the paths of svbox.conf pointed into the tree.
fn service_env(tree: &Tree, extra: &Path) -> Vec<(OsString, OsString)> {
    let path = std::env::join_paths([bindir(), busybox_dir(), extra]).unwrap();
    let conf = templates().join("svbox.conf");
    [
        ("PATH", path),
        ("SVBOX_CONF", conf.into_os_string()),
        ("SVBOX_SVDIR", tree.join("service").into_os_string()),
        ("SVBOX_RUNDIR", tree.join("run").into_os_string()),
        ("SVBOX_LOGDIR", tree.join("log").into_os_string()),
    ]
    .into_iter()
    .map(|(k, v)| (OsString::from(k), v))
    .collect()
}

/// The shell words that give a program its own tmpfs on /run (in the mount namespace it is
/// already in) and then exec it: utmp, pid files and the like stay in the test.
const PRIVATE_RUN: &str = "mount -t tmpfs svbox-test /run && exec \"$0\" \"$@\"";

/// `sv ARGS` with the test's SVDIR; its stdout.
fn sv(tree: &Tree, args: &[&str]) -> String {
    run_cmd(
        Command::new(applet("sv"))
            .args(args)
            .env("SVDIR", tree.join("service")),
    )
    .stdout
}

/// A service's svlogd log (`current`) in the test's SVBOX_LOGDIR.
fn log(tree: &Tree, name: &str) -> String {
    read(&tree.join(&format!("log/{name}/current")))
}

/// Waits until the log of `name` has gained `needle` after its first `mark` bytes.
fn wait_log(tree: &Tree, name: &str, mark: usize, needle: &str) {
    let mut text = String::new();
    let found = wait_for(DEADLINE, || {
        text = log(tree, name);
        text.get(mark..).unwrap_or("").contains(needle)
    });
    assert!(found, "{name}'s log never showed {needle:?}:\n{text}");
}

// ---------------------------------------------------------------------------------------
// network namespaces

static NETNS: AtomicUsize = AtomicUsize::new(0);

/// A network namespace named `svbox-test-PID-N-TAG`, deleted on drop (its veth ends go
/// with it).
struct Netns {
    ip: PathBuf,
    name: String,
}

impl Netns {
    fn new(tag: &str) -> Netns {
        let ip = iproute2();
        let n = NETNS.fetch_add(1, Ordering::Relaxed);
        let name = format!("svbox-test-{}-{n}-{tag}", std::process::id());
        let out = run_cmd(Command::new(&ip).args(["netns", "add", &name]));
        assert_eq!(out.code, Some(0), "ip netns add {name}: {out:?}");
        Netns { ip, name }
    }

    /// `ip -n NAME ARGS`, which must succeed; its stdout.
    fn ip(&self, args: &[&str]) -> String {
        let out = run_cmd(Command::new(&self.ip).args(["-n", &self.name]).args(args));
        assert_eq!(out.code, Some(0), "ip -n {} {args:?}: {out:?}", self.name);
        out.stdout
    }

    /// Starts `program args` inside the namespace, with its own /run and only `env`.
    fn start(&self, program: &Path, args: &[&OsStr], env: &[(OsString, OsString)]) -> Daemon {
        let mut argv: Vec<OsString> = ["netns", "exec", &self.name]
            .iter()
            .map(OsString::from)
            .collect();
        argv.push(busybox().into_os_string());
        argv.extend(["sh", "-c", PRIVATE_RUN].map(OsString::from));
        argv.push(program.as_os_str().to_owned());
        argv.extend(args.iter().map(|a| a.to_os_string()));
        start_clean(&self.ip, &argv, Path::new("/"), env)
    }
}

/// `Daemon::start` with only `env` in the environment.
fn start_clean(
    program: &Path,
    args: &[OsString],
    cwd: &Path,
    env: &[(OsString, OsString)],
) -> Daemon {
    let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
    Daemon::start_with(program, &args, cwd, |cmd| {
        cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    })
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new(&self.ip)
            .args(["netns", "del", &self.name])
            .status();
    }
}

// ---------------------------------------------------------------------------------------
// dhcp_IF, fw, ifplugd_IF, dhcp_IF_pinger

const UDHCPD_CONF: &str = "interface veth0
start 10.77.0.100
end 10.77.0.109
max_leases 10
min_lease 10
option subnet 255.255.255.0
option router 10.77.0.1
option dns 10.77.0.1
option domain svbox.test
option lease 30
";

/// The client side's eth0 IPv4 addresses, one `ip -o` line each.
fn eth0_v4(cli: &Netns) -> String {
    cli.ip(&["-o", "-4", "addr", "show", "dev", "eth0"])
}

/// The address of the current lease (`addr eth0 A/24` in run/eth0.ipconf), if any.
fn leased(tree: &Tree) -> Option<String> {
    read(&tree.join("run/eth0.ipconf"))
        .lines()
        .find_map(|l| l.strip_prefix("addr eth0 "))
        .map(|a| a.split_whitespace().next().unwrap_or("").to_string())
}

/// True once fw has applied the lease: the leased address is on eth0 and the default
/// route goes through the router.
fn configured(tree: &Tree, cli: &Netns) -> bool {
    match leased(tree) {
        Some(addr) => {
            eth0_v4(cli).contains(&format!("inet {addr} "))
                && cli
                    .ip(&["route", "show", "default"])
                    .contains("default via 10.77.0.1 dev eth0")
        }
        None => false,
    }
}

#[test]
fn dhcp_fw_ifplugd_and_pinger_follow_link_and_router() {
    require_root();
    let bb = busybox();
    let tree = Tree::new();
    let extra = tree.join("extra");
    fs::create_dir(&extra).unwrap();
    // ifplugd: busybox's when it has one, else Debian's.
    let has_ifplugd = busybox_dir().join("ifplugd").exists();
    if !has_ifplugd {
        symlink(require("ifplugd", "ifplugd"), extra.join("ifplugd")).unwrap();
    }
    // No nft here: a stub that records how fw calls it.
    script(
        &extra.join("nft"),
        &format!(
            "echo \"nft $*\" >>{}/nft.calls",
            tree.path().to_str().unwrap()
        ),
    );

    let srv = Netns::new("srv");
    let cli = Netns::new("cli");
    srv.ip(&[
        "link", "add", "veth0", "type", "veth", "peer", "name", "eth0", "netns", &cli.name,
    ]);
    srv.ip(&["addr", "add", "10.77.0.1/24", "dev", "veth0"]);
    srv.ip(&["link", "set", "veth0", "up"]);

    let tp = tree.path().to_str().unwrap();
    let conf = tree.join("udhcpd.conf");
    fs::write(
        &conf,
        format!("{UDHCPD_CONF}lease_file {tp}/udhcpd.leases\npidfile {tp}/udhcpd.pid\n"),
    )
    .unwrap();
    fs::write(tree.join("udhcpd.leases"), "").unwrap();
    // -a 100: a 100 ms ARP probe of each offered address instead of 2 s.
    let dhcpd_args: Vec<&OsStr> = ["udhcpd", "-f", "-a", "100"]
        .iter()
        .map(OsStr::new)
        .chain([conf.as_os_str()])
        .collect();
    let mut dhcpd = srv.start(&bb, &dhcpd_args, &[]);

    // The templates as a device has them in /etc/sv; /var/service links two of them and
    // holds copies of the others. conf files make every timeout short.
    let sv_dir = tree.join("sv");
    for t in ["dhcp_IF", "fw", "ifplugd_IF", "dhcp_IF_pinger"] {
        copy_dir(&templates().join(t), &sv_dir.join(t));
    }
    fs::write(
        sv_dir.join("dhcp_IF/conf"),
        "UDHCPC_OPTS='-t 3 -T 1 -A 1'\n",
    )
    .unwrap();
    fs::write(
        sv_dir.join("ifplugd_IF/conf"),
        "IFPLUGD_OPTS='-t 1 -u 0 -d 0'\n",
    )
    .unwrap();
    fs::write(
        sv_dir.join("dhcp_IF_pinger/conf"),
        "PINGER_INTERVAL=1\nPINGER_RETRY=1\nPINGER_FAILS=2\n",
    )
    .unwrap();
    fs::copy(
        sv_dir.join("fw/firewall.nft.example"),
        sv_dir.join("fw/firewall.nft"),
    )
    .unwrap();
    let service = tree.join("service");
    fs::create_dir(&service).unwrap();
    if emulated().is_some() {
        // svbox_name reads the name runsv was given from /proc/$PPID/cmdline, which under
        // qemu-user starts with the interpreter: copies are named by their directory instead.
        copy_dir(&sv_dir.join("dhcp_IF"), &service.join("dhcp_eth0"));
        copy_dir(&sv_dir.join("ifplugd_IF"), &service.join("ifplugd_eth0"));
    } else {
        symlink("../sv/dhcp_IF", service.join("dhcp_eth0")).unwrap();
        symlink("../sv/ifplugd_IF", service.join("ifplugd_eth0")).unwrap();
    }
    copy_dir(&sv_dir.join("fw"), &service.join("fw"));
    copy_dir(
        &sv_dir.join("dhcp_IF_pinger"),
        &service.join("dhcp_eth0_pinger"),
    );

    let env = service_env(&tree, &extra);
    let mut svd = cli.start(&applet("runsvdir"), &[service.as_os_str()], &env);
    let dhcp = service.join("dhcp_eth0");

    // 1. Leased, and applied by fw: address, default route, lo, resolv.conf, firewall.
    // The first wait also tells why nothing came up, if so (a namespace or mount refused).
    let up = wait_for(DEADLINE, || configured(&tree, &cli));
    assert!(
        up,
        "no lease applied\nrunsvdir: {}\nudhcpd: {}\ndhcp_eth0: {}\nfw: {}",
        svd.stderr(),
        dhcpd.stderr(),
        log(&tree, "dhcp_eth0"),
        log(&tree, "fw")
    );
    let addr = leased(&tree).unwrap();
    assert!(
        addr.starts_with("10.77.0.10") && addr.ends_with("/24"),
        "{addr}"
    );
    assert!(
        cli.ip(&["-o", "-4", "addr", "show", "dev", "lo"])
            .contains("inet 127.0.0.1/8"),
        "fw's static lo.ipconf brought lo up"
    );
    wait_log(&tree, "fw", 0, &format!("+ ip addr add {addr} dev eth0"));
    wait_log(
        &tree,
        "fw",
        0,
        "+ ip route replace default via 10.77.0.1 dev eth0",
    );
    wait_log(&tree, "fw", 0, "+ nft -f ./firewall.nft");
    wait_until("fw done, down until asked again", || {
        sv(&tree, &["status", "fw"]).starts_with("down: fw: ")
            && read(&tree.join("run/resolv.conf")).contains("nameserver 10.77.0.1")
    });
    let resolv = read(&tree.join("run/resolv.conf"));
    assert!(resolv.contains("search svbox.test"), "{resolv}");
    assert!(read(&tree.join("nft.calls")).contains("nft -f ./firewall.nft"));
    let fw_status = sv(&tree, &["status", "fw"]);
    assert!(
        fw_status.contains("normally up; run: log: (pid "),
        "{fw_status}"
    );
    for name in ["dhcp_eth0", "ifplugd_eth0", "dhcp_eth0_pinger"] {
        let s = sv(&tree, &["status", name]);
        assert!(
            s.starts_with(&format!("run: {name}: (pid ")) && s.contains("; run: log: (pid "),
            "{s}"
        );
    }
    wait_log(&tree, "dhcp_eth0", 0, "starting udhcpc on eth0");
    wait_log(
        &tree,
        "dhcp_eth0",
        0,
        &format!("eth0: bound {addr} via 10.77.0.1"),
    );
    wait_log(&tree, "dhcp_eth0_pinger", 0, "router of eth0: 10.77.0.1");

    // 2. Cable out: ifplugd takes dhcp_eth0 down, whose finish removes the address.
    let plug_mark = log(&tree, "ifplugd_eth0").len();
    let dhcp_mark = log(&tree, "dhcp_eth0").len();
    srv.ip(&["link", "set", "veth0", "down"]);
    wait_until("dhcp_eth0 down and its address gone", || {
        sv(&tree, &["status", "dhcp_eth0"]).starts_with("down: dhcp_eth0: ")
            && !eth0_v4(&cli).contains(" inet ")
    });
    assert!(leased(&tree).is_none(), "the lease file is gone");
    wait_log(
        &tree,
        "ifplugd_eth0",
        plug_mark,
        "eth0: link down: sv d dhcp_eth0",
    );
    wait_log(
        &tree,
        "dhcp_eth0",
        dhcp_mark,
        &format!("eth0: removed {addr}"),
    );
    wait_until(
        "fw dropped the lease's DNS and its record of the lease",
        || {
            !read(&tree.join("run/resolv.conf")).contains("nameserver")
                && !read(&tree.join("run/fw.applied")).contains("eth0")
        },
    );
    assert!(read(&tree.join("run/fw.applied")).contains("addr lo 127.0.0.1/8"));
    assert_eq!(cli.ip(&["route", "show", "default"]).trim(), "");

    // 3. Cable back: dhcp_eth0 up again and leased again.
    let plug_mark = log(&tree, "ifplugd_eth0").len();
    let ping_mark = log(&tree, "dhcp_eth0_pinger").len();
    srv.ip(&["link", "set", "veth0", "up"]);
    wait_until("eth0 leased again", || configured(&tree, &cli));
    assert!(sv(&tree, &["status", "dhcp_eth0"]).starts_with("run: dhcp_eth0: (pid "));
    wait_log(
        &tree,
        "ifplugd_eth0",
        plug_mark,
        "eth0: link up: sv u dhcp_eth0",
    );
    wait_log(
        &tree,
        "dhcp_eth0_pinger",
        ping_mark,
        "router of eth0: 10.77.0.1",
    );

    // 4. The router dies (DHCP server and its address gone): the pinger restarts dhcp_eth0,
    // whose finish drops the address; no new lease comes.
    let old_pid = wait_running(&dhcp);
    let ping_mark = log(&tree, "dhcp_eth0_pinger").len();
    let dhcp_mark = log(&tree, "dhcp_eth0").len();
    dhcpd.signal(nix::libc::SIGTERM);
    dhcpd.wait_exit();
    srv.ip(&["addr", "del", "10.77.0.1/24", "dev", "veth0"]);
    wait_log(
        &tree,
        "dhcp_eth0_pinger",
        ping_mark,
        "router 10.77.0.1 did not answer (2/2)",
    );
    wait_log(&tree, "dhcp_eth0_pinger", ping_mark, "restarting dhcp_eth0");
    wait_until("a new udhcpc", || {
        status(&dhcp).is_some_and(|s| s.state == RunState::Run && s.pid != old_pid)
    });
    wait_until("the dead lease's address is gone", || {
        !eth0_v4(&cli).contains(" inet ")
    });
    wait_log(&tree, "dhcp_eth0", dhcp_mark, "udhcpc: received SIGTERM");
    wait_log(&tree, "dhcp_eth0", dhcp_mark, "eth0: removed ");
    wait_log(&tree, "dhcp_eth0", dhcp_mark, "starting udhcpc on eth0");
    assert!(leased(&tree).is_none(), "no server, no lease");

    // runsvdir takes every runsv and service down on HUP.
    svd.signal(nix::libc::SIGHUP);
    svd.wait_exit();
    assert!(
        !svd.stderr().contains("fatal"),
        "runsvdir's stderr: {}",
        svd.stderr()
    );
}

// ---------------------------------------------------------------------------------------
// getty_TTY

/// A pseudo-terminal master (non-blocking) and its slave's number.
fn open_pty() -> (fs::File, u32) {
    use nix::libc;
    // SAFETY: plain calls on a descriptor this function owns; ptsname_r writes into buf.
    unsafe {
        let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(fd >= 0, "posix_openpt failed");
        let owned = OwnedFd::from_raw_fd(fd);
        assert_eq!(libc::grantpt(fd), 0);
        assert_eq!(libc::unlockpt(fd), 0);
        let mut buf = [0 as libc::c_char; 64];
        assert_eq!(libc::ptsname_r(fd, buf.as_mut_ptr(), buf.len()), 0);
        let name = std::ffi::CStr::from_ptr(buf.as_ptr()).to_str().unwrap();
        let n = name.strip_prefix("/dev/pts/").unwrap().parse().unwrap();
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        (fs::File::from(owned), n)
    }
}

/// Appends what the terminal shows to `seen`; no data and "no slave open" (EIO, between
/// two gettys) both just add nothing.
fn drain(master: &mut fs::File, seen: &mut String) {
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = master.read(&mut buf) {
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

/// Kills the gettys seen on drop: each is a session leader, out of reach of the group
/// kill of runsvdir's `Daemon`.
struct Gettys(Vec<u32>);

impl Drop for Gettys {
    fn drop(&mut self) {
        for &pid in &self.0 {
            let comm = read(Path::new(&format!("/proc/{pid}/comm")));
            if comm.trim() == "getty" {
                // SAFETY: kill has no memory effects.
                unsafe { nix::libc::kill(pid as i32, nix::libc::SIGKILL) };
            }
        }
    }
}

#[test]
fn getty_prompts_on_its_terminal_and_again_after_each_exit() {
    require_root();
    let bb = busybox();
    let (mut master, n) = open_pty();
    let tree = Tree::new();
    let service = tree.join("service");
    // getty_pts_N: the '_' after the first one stands for '/', so this serves /dev/pts/N.
    let svdir = service.join(format!("getty_pts_{n}"));
    copy_dir(&templates().join("getty_TTY"), &svdir);
    let extra = tree.join("extra");
    fs::create_dir(&extra).unwrap();
    let env = service_env(&tree, &extra);

    let mut gettys = Gettys(Vec::new());
    // A private mount namespace for getty's utmp record (on the private /run).
    let mut args: Vec<OsString> = [
        "unshare",
        "-m",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        PRIVATE_RUN,
    ]
    .map(OsString::from)
    .to_vec();
    args.push(applet("runsvdir").into_os_string());
    args.push(service.clone().into_os_string());
    let mut svd = start_clean(&bb, &args, tree.path(), &env);

    let tty = format!("/dev/pts/{n}");
    let mut seen = String::new();
    let mut first = 0;
    wait_until("the first login prompt", || {
        drain(&mut master, &mut seen);
        first = status(&svdir).map_or(0, |s| s.pid);
        seen.contains(" login: ") && first != 0
    });
    gettys.0.push(first);
    assert_eq!(
        fs::read_link(format!("/proc/{first}/fd/0")).unwrap(),
        Path::new(&tty),
        "the getty reads {tty}"
    );
    let st = sv(&tree, &["status", svdir.to_str().unwrap()]);
    assert!(
        st.starts_with(&format!("run: {}: (pid {first}) ", svdir.display())),
        "{st}"
    );

    // ^D at the prompt ends busybox getty (as a logout ends the login session it became):
    // runsv starts a new getty, which prompts again.
    seen.clear();
    master.write_all(b"\x04").unwrap();
    let mut second = 0;
    wait_until("a new getty's prompt", || {
        drain(&mut master, &mut seen);
        second = status(&svdir).map_or(0, |s| s.pid);
        second != first && second != 0 && seen.contains(" login: ")
    });
    gettys.0.push(second);
    assert!(!alive(first), "the first getty is gone");
    assert_eq!(
        fs::read_link(format!("/proc/{second}/fd/0")).unwrap(),
        Path::new(&tty)
    );

    svd.signal(nix::libc::SIGHUP);
    svd.wait_exit();
    wait_until("the getty stops with runsvdir", || !alive(second));
}

// ---------------------------------------------------------------------------------------
// bad names, shellcheck

#[test]
fn a_misnamed_service_says_why_and_stays_down() {
    let tree = Tree::new();
    let service = tree.join("service");
    // `dhcp_` names no interface; `dhcp_pinger` lacks the one between dhcp_ and _pinger.
    copy_dir(&templates().join("dhcp_IF"), &service.join("dhcp_"));
    copy_dir(
        &templates().join("dhcp_IF_pinger"),
        &service.join("dhcp_pinger"),
    );
    let extra = tree.join("extra");
    fs::create_dir(&extra).unwrap();
    let env = service_env(&tree, &extra);
    let args = [service.clone().into_os_string()];
    let mut svd = start_clean(&applet("runsvdir"), &args, tree.path(), &env);
    for (name, want) in [("dhcp_", ""), ("dhcp_pinger", "_pinger")] {
        let message = format!(
            "{name}: fatal: the directory name must be PREFIX_NAME{want}, with the interface or terminal as NAME"
        );
        wait_until(&format!("{name} down with a message"), || {
            sv(&tree, &["status", name]).starts_with(&format!("down: {name}: "))
                && log(&tree, name).contains(&message)
        });
    }
    // Had runsv restarted them, a second message would be there after its 1 s pause.
    std::thread::sleep(Duration::from_millis(1500));
    for name in ["dhcp_", "dhcp_pinger"] {
        assert_eq!(log(&tree, name).matches("fatal").count(), 1, "{name}");
        let st = sv(&tree, &["status", name]);
        assert!(
            st.starts_with(&format!("down: {name}: ")) && st.contains("normally up"),
            "{st}"
        );
    }
    svd.signal(nix::libc::SIGHUP);
    svd.wait_exit();
}

/// The scripts of the example services, with svbox.conf (sourced, so no shebang).
fn service_scripts() -> Vec<PathBuf> {
    let mut found = vec![templates().join("svbox.conf")];
    for t in ["getty_TTY", "dhcp_IF", "fw", "ifplugd_IF", "dhcp_IF_pinger"] {
        let dir = templates().join(t);
        assert!(dir.join("README").is_file(), "{t}/README");
        assert!(dir.join("run").is_file(), "{t}/run");
        for sub in [dir.clone(), dir.join("log")] {
            for e in fs::read_dir(&sub).into_iter().flatten() {
                let p = e.unwrap().path();
                if p.is_file() && read(&p).starts_with("#!/bin/sh\n") {
                    let mode = fs::metadata(&p).unwrap().permissions().mode();
                    assert!(mode & 0o111 == 0o111, "{} is not executable", p.display());
                    found.push(p);
                }
            }
        }
    }
    found.sort();
    found
}

#[test]
fn scripts_are_posix_sh_and_shellcheck_clean() {
    let shellcheck = require("shellcheck", "shellcheck");
    let scripts = service_scripts();
    // svbox.conf; run and log/run of each service; the handlers; finish.
    assert!(scripts.len() >= 13, "{scripts:?}");
    // The var_service/.shellcheckrc has it follow `. svbox.conf` (like -x); -s sh holds
    // every script to POSIX sh whatever its shebang says.
    let out = run_cmd(
        Command::new(shellcheck)
            .args(["-s", "sh"])
            .args(&scripts)
            .current_dir(templates()),
    );
    assert_eq!(
        out.code,
        Some(0),
        "shellcheck:\n{}{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(out.stdout, "");
}
