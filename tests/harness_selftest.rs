//! Checks the test harness itself: applet links, daemon clean-up, peers.
mod common;
use common::*;

#[test]
fn applet_links_run_the_binary() {
    let out = run_in(&svbox(), &["--list"], Path::new("/"));
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.lines().any(|l| l == "sv"));
    assert!(applet("sv").exists());
}

#[test]
fn daemon_group_is_killed_on_drop() {
    let t = Tree::new();
    let pidfile = t.join("pid");
    let d = Daemon::start(
        Path::new("/bin/sh"),
        &[
            "-c".as_ref(),
            format!("sleep 1000 & echo $! > {}; wait", pidfile.display()).as_ref(),
        ],
        t.path(),
    );
    wait_until("pid file", || {
        std::fs::read_to_string(&pidfile)
            .map(|s| s.ends_with('\n'))
            .unwrap_or(false)
    });
    let grandchild: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(alive(grandchild));
    drop(d);
    wait_until("grandchild gone", || !alive(grandchild));
}

use std::path::Path;
