//! The README's first command: `var_service/demo/start` brings up the demo tree under our
//! runsvdir (a runsv and a logger per service), `sv` can inspect and drive it, and
//! `var_service/demo/stop` takes it down again in order and removes it.
mod common;
use common::*;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn demo_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("var_service/demo")
        .join(name)
}

#[test]
fn demo_starts_is_inspectable_and_stops() {
    let t = Tree::new();
    let out = t.join("start.out");
    let stdout = fs::File::create(&out).unwrap();
    // runsvdir and its runsvs stay in this process group: they die with the Daemon if the
    // test fails.
    let mut start = Daemon::start_with(
        Path::new("/bin/sh"),
        &[demo_script("start").as_os_str()],
        t.path(),
        |cmd| {
            cmd.env("SVBOX", svbox())
                .env("TMPDIR", t.path())
                .stdout(stdout);
        },
    );
    assert_eq!(
        start.wait_exit(),
        Some(0),
        "start failed: {}",
        start.stderr()
    );
    let printed = fs::read_to_string(&out).unwrap();

    let demo = fs::read_dir(t.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("svbox-demo.")
        })
        .expect("a demo directory");
    let service = demo.join("service");
    assert!(
        printed.contains(&format!(
            "stop:    sh {} {}",
            demo_script("stop").display(),
            demo.display()
        )),
        "{printed}"
    );
    assert!(printed.contains("run: ./clock: (pid "), "{printed}");
    assert!(printed.contains("down: ./idle: "), "{printed}");

    let sv = |args: &[&str]| {
        run_cmd(
            Command::new(demo.join("bin/sv"))
                .args(args)
                .env("SVDIR", &service),
        )
    };
    wait_running(&service.join("clock"));
    wait_running(&service.join("flaky/log"));
    let check = sv(&["-w", "10", "check", "clock"]);
    assert_eq!(check.code, Some(0), "{check:?}");
    let once = sv(&["-w", "10", "once", "idle"]);
    assert!(once.stdout.starts_with("ok: run: idle: (pid "), "{once:?}");
    wait_until("idle logged its start", || {
        fs::read_to_string(service.join("idle/log/current"))
            .is_ok_and(|s| s.contains("idle: started as pid"))
    });
    let all = sv(&["status", "clock", "flaky", "idle"]);
    assert_eq!(all.code, Some(0), "{all:?}");
    assert_eq!(all.stdout.lines().count(), 3, "{all:?}");
    assert!(
        all.stdout.lines().all(|l| l.contains("; run: log: (pid ")),
        "{all:?}"
    );

    let stop = run_cmd(Command::new("/bin/sh").arg(demo_script("stop")).arg(&demo));
    assert_eq!(stop.code, Some(0), "{stop:?}");
    assert_eq!(
        stop.stdout.matches(": runsv not running\n").count(),
        3,
        "{stop:?}"
    );
    assert!(!demo.exists(), "stop left {}", demo.display());

    let usage = run_cmd(Command::new("/bin/sh").arg(demo_script("stop")));
    assert_eq!(usage.code, Some(100), "{usage:?}");
}
