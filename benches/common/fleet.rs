//! N idle runsvs of one implementation, each with a service and a log service, run from a
//! copy of the program of their own: they share its pages with each other and with nothing
//! else in the bench, so the average Pss per runsv is what each runsv costs on a system
//! running N of them (program pages split N ways, libc pages split system-wide).

use super::config::Config;
use super::procfs;
use super::programs::{install_copies, Impl};
use super::svc::Service;
use std::path::Path;

pub struct Fleet {
    members: Vec<Service>,
}

/// Average memory per runsv of a fleet, in kB.
#[derive(Clone, Copy, Debug)]
pub struct PerInstance {
    pub pss: f64,
    pub private_dirty: f64,
    pub n: usize,
}

impl Fleet {
    /// Starts `cfg.mem_n` runsvs of `imp`; None (with a message) if any of them fails.
    pub fn start(imp: &Impl, root: &Path, cfg: &Config) -> Option<Fleet> {
        let runsv = imp.runsv.as_ref()?;
        let tag = format!("fleet-{}", imp.name);
        let bin = root.join(&tag);
        let started = install_copies(&[("runsv", runsv.as_path())], &bin).and_then(|()| {
            (0..cfg.mem_n)
                .map(|i| {
                    Service::start(
                        &bin.join("runsv"),
                        root,
                        &format!("{tag}-{i}"),
                        true,
                        cfg.min_run,
                    )
                })
                .collect::<Result<Vec<_>, _>>()
        });
        match started {
            Ok(members) => Some(Fleet { members }),
            Err(e) => {
                eprintln!("bench: {} fleet of {}: {e}", imp.name, cfg.mem_n);
                None
            }
        }
    }

    /// Sum of the runsvs' Pss and Private_Dirty (not their children's) divided by N.
    pub fn per_instance(&self) -> Option<PerInstance> {
        let n = self.members.len();
        let mut sum = (0u64, 0u64);
        for svc in &self.members {
            let m = procfs::memory(svc.runsv_pid())?;
            sum = (sum.0 + m.pss, sum.1 + m.private_dirty);
        }
        (n > 0).then(|| PerInstance {
            pss: sum.0 as f64 / n as f64,
            private_dirty: sum.1 as f64 / n as f64,
            n,
        })
    }
}
