//! svok: daemontools' liveness test. Exits 0 if a supervisor (runsv or daemontools'
//! supervise) runs in DIR, 100 if not, 111 if DIR cannot be examined.
//! install: usr/bin

use rustix::io::Errno;
use std::ffi::OsString;
use svbox::msg::Line;

pub fn main(args: Vec<OsString>) -> i32 {
    let Some(dir) = args.get(1) else {
        Line::new().s("svok: usage: svok dir").to_stderr();
        return 100;
    };
    if let Err(e) = rustix::process::chdir(dir.as_os_str()) {
        Line::new()
            .s("svok: fatal: unable to chdir to ")
            .os(dir)
            .err(e.raw_os_error())
            .to_stderr();
        return 111;
    }
    match svbox::supervise::open_ok() {
        Ok(_) => 0,
        Err(Errno::NOENT | Errno::NXIO) => 100,
        Err(e) => {
            Line::new()
                .s("svok: fatal: unable to open ")
                .os(dir)
                .s("/supervise/ok")
                .err(e.raw_os_error())
                .to_stderr();
            111
        }
    }
}
