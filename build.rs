//! Generates the applet table from the files in `applets/` and the enabled cargo features.
//!
//! Every `applets/NAME.rs` is an applet called NAME, compiled in when the feature NAME is on.
//! Its header may carry `//! install: DIR` (where `svbox --install` links it, default
//! `usr/bin`) and `//! aliases: A B …` (more names that run the same `main`).

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let applets_dir = Path::new(&root).join("applets");
    println!("cargo:rerun-if-changed=applets");

    let mut applets: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(&applets_dir)
        .expect("applets/ is readable")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    entries.sort();
    for path in entries {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let feature = format!("CARGO_FEATURE_{}", name.to_uppercase().replace('-', "_"));
        if env::var_os(&feature).is_none() {
            continue;
        }
        let text = fs::read_to_string(&path).expect("applet source is readable");
        let mut install = String::from("usr/bin");
        let mut aliases = Vec::new();
        for line in text.lines().take_while(|l| l.starts_with("//")) {
            if let Some(v) = line.strip_prefix("//! install:") {
                install = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("//! aliases:") {
                aliases.extend(v.split_whitespace().map(str::to_string));
            }
        }
        applets.push((name, install, aliases));
    }

    let mut out = String::new();
    let mut table: Vec<(String, String, String)> = Vec::new();
    for (name, install, aliases) in &applets {
        let module = format!("applet_{}", name.replace('-', "_"));
        let file = applets_dir.join(format!("{name}.rs"));
        writeln!(
            out,
            "#[path = {:?}]\nmod {module};",
            file.display().to_string()
        )
        .unwrap();
        table.push((name.clone(), install.clone(), module.clone()));
        for alias in aliases {
            table.push((alias.clone(), install.clone(), module.clone()));
        }
    }
    table.sort();
    out.push_str("/// Every applet compiled into this binary, sorted by name.\n");
    out.push_str("pub static APPLETS: &[Applet] = &[\n");
    for (name, install, module) in &table {
        writeln!(
            out,
            "    Applet {{ name: {name:?}, install_dir: {install:?}, main: {module}::main }},"
        )
        .unwrap();
    }
    out.push_str("];\n");
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    fs::write(Path::new(&out_dir).join("applets.rs"), out).expect("OUT_DIR is writable");
    release_link_args(Path::new(&out_dir));
}

/// Linker script for release builds: the executable never unwinds (`panic = "abort"`), so the
/// unwind and exception tables that std, libc and our code bring are dead weight (about 57 KB
/// of the x86_64 binary). crtbegin and crtend keep theirs: crtbegin refers to its .eh_frame.
const DISCARD_UNWIND: &str = "SECTIONS {
  /DISCARD/ : {
    EXCLUDE_FILE(*crtbegin*.o *crtend*.o) *(.eh_frame)
    *(.gcc_except_table .gcc_except_table.*)
    *(.ARM.extab .ARM.extab.* .ARM.exidx .ARM.exidx.*)
  }
}
INSERT AFTER .text;
";

/// Size settings for the static release executable (musl): no unwind tables, and no RELRO
/// (it protects a few hundred bytes of a static binary, and costs a page of padding). Only
/// the `svbox` executable gets them: tests and benches keep their tables, so a failing test
/// still unwinds and reports.
fn release_link_args(out_dir: &Path) {
    let musl = env::var("CARGO_CFG_TARGET_ENV").is_ok_and(|e| e == "musl");
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    if !(musl && release) {
        return;
    }
    let script = out_dir.join("discard-unwind.ld");
    fs::write(&script, DISCARD_UNWIND).expect("OUT_DIR is writable");
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
    println!("cargo:rustc-link-arg-bins=-Wl,-z,norelro");
    use_rust_lld();
}

/// Links with the toolchain's own lld instead of the system's GNU ld where rustc calls `cc`
/// (x86_64 musl on stable), with safe identical-code folding: about 8 KB smaller. Skipped when
/// a linker is configured (cargo-zigbuild's zig links with lld already) or the toolchain has
/// no `gcc-ld` wrapper.
fn use_rust_lld() {
    let target = env::var("TARGET").unwrap_or_default();
    let linker_var = format!(
        "CARGO_TARGET_{}_LINKER",
        target.to_uppercase().replace(['-', '.'], "_")
    );
    println!("cargo:rerun-if-env-changed={linker_var}");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    if !target.starts_with("x86_64-")
        || env::var_os(&linker_var).is_some()
        || env::var_os("RUSTC_LINKER").is_some()
    {
        return;
    }
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let Ok(out) = std::process::Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
    else {
        return;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let host = env::var("HOST").unwrap_or_default();
    let gcc_ld = Path::new(&sysroot).join(format!("lib/rustlib/{host}/bin/gcc-ld"));
    if !gcc_ld.join("ld.lld").is_file() {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-B{}", gcc_ld.display());
    println!("cargo:rustc-link-arg-bins=-fuse-ld=lld");
    println!("cargo:rustc-link-arg-bins=-Wl,--icf=safe");
}
