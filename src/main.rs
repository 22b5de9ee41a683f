//! The multicall front end: picks the applet from `argv[0]` (or `svbox APPLET ARGS`) and
//! implements busybox-style `--list`, `--list-full`, `--install [-s] [DIR]` and `--help`.

mod frontend;

/// One entry of the generated applet table.
pub struct Applet {
    pub name: &'static str,
    /// Directory, relative to `/`, that `svbox --install` without DIR links it into.
    pub install_dir: &'static str,
    pub main: fn(Vec<std::ffi::OsString>) -> i32,
}

include!(concat!(env!("OUT_DIR"), "/applets.rs"));

fn main() {
    let code = frontend::run(std::env::args_os().collect());
    std::process::exit(code);
}
