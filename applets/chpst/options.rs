//! chpst's own command line (runit 2.1.2's options, 2.2.0's `-C`, svbox's `-G`).

use super::limits::Limit;
use super::plan::{self, Account, EnvDir, Lock, Plan};
use super::report;
use std::ffi::{OsStr, OsString};
use svbox::getopt::Getopt;

pub const USAGE: &str = " [-vVP012G] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root] [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] prog";

const VERSION: &[u8] = b"$Id: f279d44141c981dd7535a12260efcf1ef7beed26 $";

const SPEC: &str = "u:U:b:e:m:d:o:p:f:c:r:t:/:C:n:l:L:vP012VG";

/// Parses `args`; `Err(exit code)` once usage has been printed.
// Kept out of its callers: inlined, the binary grows (measured, opt-level z).
#[inline(never)]
pub fn parse<'a>(args: &'a [OsString], name: &OsStr) -> Result<Plan<'a>, i32> {
    let usage = || report::usage(name, USAGE);
    let limit = |arg: &OsStr| plan::number(arg).map(Limit::Value).ok_or_else(usage);
    let mut p = Plan::new(&[]);
    let mut opts = Getopt::new(args, SPEC);
    for opt in opts.by_ref() {
        let (c, arg) = match opt {
            Ok((c, arg)) => (c, arg.unwrap_or_default()),
            Err(e) => {
                e.print(report::argv0(args));
                return Err(usage());
            }
        };
        match c {
            b'u' => p.set_user = Some(extended(arg)),
            b'U' => p.env_user = Some(extended(arg)),
            b'b' => p.argv0 = Some(arg),
            b'e' => {
                p.envdir = Some(EnvDir {
                    dir: arg,
                    subdirs_fatal: false,
                })
            }
            b'm' | b'd' | b'o' | b'p' | b'f' | b'c' | b'r' | b't' => {
                p.limits.set_option(c, limit(arg)?)
            }
            b'/' => p.root = Some(arg),
            b'C' => p.chdir = Some(arg),
            b'n' => p.nice = plan::nice_increment(arg).ok_or_else(usage)?,
            b'l' | b'L' => {
                if p.lock.is_some() {
                    return Err(usage());
                }
                p.lock = Some(Lock {
                    path: arg,
                    wait: c == b'l',
                });
            }
            b'v' => p.verbose = true,
            b'P' => p.setsid = true,
            b'0' => p.close[0] = true,
            b'1' => p.close[1] = true,
            b'2' => p.close[2] = true,
            b'G' => p.login = true,
            _ => {
                // -V, the only letter left: the version line, then usage.
                svbox::msg::Line::new().b(VERSION).to_stderr();
                return Err(usage());
            }
        }
    }
    p.prog = opts.operands();
    if p.prog.is_empty() {
        return Err(usage());
    }
    Ok(p)
}

fn extended(spec: &OsStr) -> Account<'_> {
    Account {
        spec,
        extended: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applet_chpst::limits::Which;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn ok(list: &[&str]) -> Plan<'static> {
        let a: &'static [OsString] = Box::leak(args(list).into_boxed_slice());
        parse(a, OsStr::new("chpst")).unwrap()
    }

    fn code(list: &[&str]) -> i32 {
        let a = args(list);
        parse(&a, OsStr::new("chpst")).unwrap_err()
    }

    #[test]
    fn every_option() {
        let p = ok(&[
            "chpst", "-vP012G", "-u", "a:b", "-Uc", "-b", "zero", "-e", "env", "-/", "/r", "-C",
            "/w", "-n", "-3", "-L", "lk", "-m", "10", "-d", "20", "-o", "30", "-p", "40", "-f",
            "50", "-c", "60", "-r", "70", "-t", "80", "prog", "-x", "arg",
        ]);
        assert!(p.verbose && p.setsid && p.login);
        assert_eq!(p.close, [true; 3]);
        assert_eq!(p.set_user.unwrap().spec, "a:b");
        assert!(p.set_user.unwrap().extended);
        assert_eq!(p.env_user.unwrap().spec, "c");
        assert_eq!(p.argv0.unwrap(), "zero");
        assert_eq!(
            p.envdir,
            Some(EnvDir {
                dir: OsStr::new("env"),
                subdirs_fatal: false
            })
        );
        assert_eq!(
            (p.root.unwrap(), p.chdir.unwrap()),
            ("/r".as_ref(), "/w".as_ref())
        );
        assert_eq!(p.nice, -3);
        assert_eq!(
            p.lock,
            Some(Lock {
                path: OsStr::new("lk"),
                wait: false
            })
        );
        let v = |w| p.limits.get(w);
        assert_eq!(v(Which::Data), Some(Limit::Value(20)), "-d after -m wins");
        assert_eq!(v(Which::Stack), Some(Limit::Value(10)));
        assert_eq!(v(Which::Memlock), Some(Limit::Value(10)));
        assert_eq!(v(Which::As), Some(Limit::Value(10)));
        assert_eq!(v(Which::Nofile), Some(Limit::Value(30)));
        assert_eq!(v(Which::Nproc), Some(Limit::Value(40)));
        assert_eq!(v(Which::Fsize), Some(Limit::Value(50)));
        assert_eq!(v(Which::Core), Some(Limit::Value(60)));
        assert_eq!(v(Which::Rss), Some(Limit::Value(70)));
        assert_eq!(v(Which::Cpu), Some(Limit::Value(80)));
        assert_eq!(p.prog, &args(&["prog", "-x", "arg"])[..]);
        assert!(!p.quiet);
    }

    #[test]
    fn defaults_change_nothing() {
        let p = ok(&["chpst", "prog"]);
        assert_eq!(p, Plan::new(&args(&["prog"])));
        let p = ok(&["chpst", "-l", "lk", "--", "-prog"]);
        assert!(p.lock.unwrap().wait);
        assert_eq!(p.prog, &args(&["-prog"])[..]);
    }

    #[test]
    fn usage_errors_exit_100() {
        assert_eq!(code(&["chpst"]), 100, "no program");
        assert_eq!(code(&["chpst", "-v"]), 100);
        assert_eq!(code(&["chpst", "-z", "prog"]), 100);
        assert_eq!(code(&["chpst", "-u"]), 100);
        assert_eq!(code(&["chpst", "-m", "1k", "prog"]), 100);
        assert_eq!(
            code(&["chpst", "-o", "=", "prog"]),
            100,
            "`=` is softlimit's"
        );
        assert_eq!(code(&["chpst", "-n", "1.5", "prog"]), 100);
        assert_eq!(code(&["chpst", "-l", "a", "-L", "b", "prog"]), 100);
        assert_eq!(code(&["chpst", "-l", "a", "-l", "a", "prog"]), 100);
        assert_eq!(code(&["chpst", "-V", "prog"]), 100);
    }
}
