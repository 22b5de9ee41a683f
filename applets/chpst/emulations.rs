//! The daemontools names chpst answers to, each parsed as runit parses it and mapped onto
//! the same plan: setuidgid, envuidgid, envdir, pgrphack, setlock (runit's inverted -n/-N:
//! failing at once is the default) and softlimit (`=` for "up to the hard limit").

use super::limits::Limit;
use super::options;
use super::plan::{self, Account, EnvDir, Lock, Plan};
use super::report;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use svbox::getopt::Getopt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Setuidgid,
    Envuidgid,
    Envdir,
    Pgrphack,
    Setlock,
    Softlimit,
}

impl Tool {
    /// The tool `name` (already without its leading `d`) emulates, if any.
    pub fn named(name: &OsStr) -> Option<Tool> {
        // A table, not a match: a match on byte strings compiles to unrolled comparisons.
        const NAMES: [(&[u8], Tool); 6] = [
            (b"setuidgid", Tool::Setuidgid),
            (b"envuidgid", Tool::Envuidgid),
            (b"envdir", Tool::Envdir),
            (b"pgrphack", Tool::Pgrphack),
            (b"setlock", Tool::Setlock),
            (b"softlimit", Tool::Softlimit),
        ];
        NAMES
            .iter()
            .find(|(n, _)| *n == name.as_bytes())
            .map(|&(_, tool)| tool)
    }

    fn usage(self) -> &'static str {
        match self {
            Tool::Setuidgid | Tool::Envuidgid => " account child",
            Tool::Envdir => " dir child",
            Tool::Pgrphack => " child",
            Tool::Setlock => " [ -nNxX ] file program [ arg ... ]",
            Tool::Softlimit => " [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child",
        }
    }
}

/// Parses `args` for `tool`; `Err(exit code)` once usage has been printed.
pub fn parse<'a>(tool: Tool, args: &'a [OsString], name: &OsStr) -> Result<Plan<'a>, i32> {
    let usage = || report::usage(name, tool.usage());
    let rest = args.get(1..).unwrap_or_default();
    match tool {
        Tool::Setuidgid | Tool::Envuidgid | Tool::Envdir => {
            let [first, prog @ ..] = rest else {
                return Err(usage());
            };
            if prog.is_empty() {
                return Err(usage());
            }
            let mut p = Plan::new(prog);
            let account = Account {
                spec: first,
                extended: false,
            };
            match tool {
                Tool::Setuidgid => p.set_user = Some(account),
                Tool::Envuidgid => p.env_user = Some(account),
                _ => {
                    p.envdir = Some(EnvDir {
                        dir: first,
                        subdirs_fatal: true,
                    })
                }
            }
            Ok(p)
        }
        Tool::Pgrphack => {
            if rest.is_empty() {
                return Err(usage());
            }
            let mut p = Plan::new(rest);
            p.setsid = true;
            Ok(p)
        }
        Tool::Setlock => setlock(args, usage),
        Tool::Softlimit => softlimit(args, name, usage),
    }
}

fn setlock(args: &[OsString], usage: impl Fn() -> i32) -> Result<Plan<'_>, i32> {
    let mut wait = false;
    let mut quiet = false;
    let mut opts = Getopt::new(args, "nNxX");
    for opt in opts.by_ref() {
        match opt {
            Ok((b'n', _)) => wait = true,
            Ok((b'N', _)) => wait = false,
            Ok((b'x', _)) => quiet = true,
            Ok((_, _)) => quiet = false,
            Err(e) => {
                e.print(report::argv0(args));
                return Err(usage());
            }
        }
    }
    let [file, prog @ ..] = opts.operands() else {
        return Err(usage());
    };
    if prog.is_empty() {
        return Err(usage());
    }
    let mut p = Plan::new(prog);
    p.lock = Some(Lock { path: file, wait });
    p.quiet = quiet;
    Ok(p)
}

fn softlimit<'a>(
    args: &'a [OsString],
    name: &OsStr,
    usage: impl Fn() -> i32,
) -> Result<Plan<'a>, i32> {
    let mut p = Plan::new(&[]);
    let mut opts = Getopt::new(args, "a:c:d:f:l:m:o:p:r:s:t:");
    for opt in opts.by_ref() {
        let (c, arg) = match opt {
            Ok((c, arg)) => (c, arg.unwrap_or_default()),
            Err(e) => {
                e.print(report::argv0(args));
                return Err(usage());
            }
        };
        // runit's quirk: a bad number prints chpst's usage text (under this name).
        let limit = if arg.as_bytes() == b"=" {
            Limit::Hard
        } else {
            Limit::Value(plan::number(arg).ok_or_else(|| report::usage(name, options::USAGE))?)
        };
        // Every option letter of softlimit names a limit.
        p.limits.set_option(c, limit);
    }
    p.prog = opts.operands();
    if p.prog.is_empty() {
        return Err(usage());
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applet_chpst::limits::Which;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn run(tool: Tool, list: &[&str]) -> Result<Plan<'static>, i32> {
        let a: &'static [OsString] = Box::leak(args(list).into_boxed_slice());
        parse(tool, a, OsStr::new(list[0]))
    }

    #[test]
    fn names() {
        assert_eq!(Tool::named(OsStr::new("setlock")), Some(Tool::Setlock));
        assert_eq!(Tool::named(OsStr::new("envdir")), Some(Tool::Envdir));
        assert_eq!(Tool::named(OsStr::new("chpst")), None);
        assert_eq!(
            Tool::named(OsStr::new("dsetlock")),
            None,
            "d is dropped before"
        );
    }

    #[test]
    fn account_and_dir_tools_take_no_options() {
        let p = run(Tool::Setuidgid, &["setuidgid", "-u", "prog", "a"]).unwrap();
        assert_eq!(
            p.set_user,
            Some(Account {
                spec: OsStr::new("-u"),
                extended: false
            })
        );
        assert_eq!(p.prog, &args(&["prog", "a"])[..]);
        let p = run(Tool::Envuidgid, &["envuidgid", "root", "prog"]).unwrap();
        assert_eq!(p.env_user.unwrap().spec, "root");
        assert_eq!(p.set_user, None);
        let p = run(Tool::Envdir, &["envdir", "d", "prog"]).unwrap();
        assert!(p.envdir.unwrap().subdirs_fatal);
        let p = run(Tool::Pgrphack, &["pgrphack", "prog"]).unwrap();
        assert!(p.setsid);
        for (tool, list) in [
            (Tool::Setuidgid, &["setuidgid", "root"][..]),
            (Tool::Envuidgid, &["envuidgid"][..]),
            (Tool::Envdir, &["envdir", "d"][..]),
            (Tool::Pgrphack, &["pgrphack"][..]),
        ] {
            assert_eq!(run(tool, list).unwrap_err(), 100, "{list:?}");
        }
    }

    #[test]
    fn setlock_defaults_to_failing_at_once_and_last_option_wins() {
        let p = run(Tool::Setlock, &["setlock", "f", "prog"]).unwrap();
        assert_eq!(
            (p.lock, p.quiet),
            (
                Some(Lock {
                    path: OsStr::new("f"),
                    wait: false
                }),
                false
            )
        );
        let p = run(Tool::Setlock, &["setlock", "-nx", "-Nn", "f", "prog"]).unwrap();
        assert!(p.lock.unwrap().wait && p.quiet);
        let p = run(Tool::Setlock, &["setlock", "-xX", "f", "prog"]).unwrap();
        assert!(!p.quiet);
        assert_eq!(run(Tool::Setlock, &["setlock", "f"]).unwrap_err(), 100);
        assert_eq!(
            run(Tool::Setlock, &["setlock", "-z", "f", "p"]).unwrap_err(),
            100
        );
    }

    #[test]
    fn softlimit_values() {
        let p = run(
            Tool::Softlimit,
            &["softlimit", "-m", "5", "-s", "=", "-o", "7", "prog"],
        );
        let p = p.unwrap();
        assert_eq!(p.limits.get(Which::Data), Some(Limit::Value(5)));
        assert_eq!(p.limits.get(Which::As), Some(Limit::Value(5)));
        assert_eq!(p.limits.get(Which::Stack), Some(Limit::Hard));
        assert_eq!(p.limits.get(Which::Nofile), Some(Limit::Value(7)));
        assert_eq!(p.limits.get(Which::Cpu), None);
        let p = run(
            Tool::Softlimit,
            &["softlimit", "-a1", "-c2", "-d3", "-f4", "-l5", "p"],
        );
        let p = p.unwrap();
        assert_eq!(p.limits.get(Which::As), Some(Limit::Value(1)));
        assert_eq!(p.limits.get(Which::Memlock), Some(Limit::Value(5)));
        let p = run(Tool::Softlimit, &["softlimit", "-p6", "-r7", "-t8", "p"]).unwrap();
        assert_eq!(p.limits.get(Which::Nproc), Some(Limit::Value(6)));
        assert_eq!(p.limits.get(Which::Rss), Some(Limit::Value(7)));
        assert_eq!(p.limits.get(Which::Cpu), Some(Limit::Value(8)));
        for bad in [
            &["softlimit", "-o", "x", "p"][..],
            &["softlimit", "-o", "=="],
            &["softlimit", "-z", "p"],
            &["softlimit", "-o"],
            &["softlimit", "-o", "5"],
        ] {
            assert_eq!(run(Tool::Softlimit, bad).unwrap_err(), 100, "{bad:?}");
        }
    }
}
