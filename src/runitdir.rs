//! runit's control directory, `/etc/runit`, shared by `runit` (process 1) and `runit-init`.
//!
//! `SVBOX_RUNIT_DIR` overrides the directory: an svbox addition so that tests (and systems
//! whose `/etc` is read-only) need not use `/etc/runit`. Debian's `/run/runit.*` names are
//! not used; a read-only `/etc` links `stopit` and `reboot` into `/run` instead.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

/// The environment variable that overrides the directory.
pub const DIR_ENV: &std::ffi::CStr = c"SVBOX_RUNIT_DIR";

/// The directory runit uses.
pub const DEFAULT_DIR: &[u8] = b"/etc/runit";

/// The files of one control directory, as C strings ready for system calls.
pub struct RunitDir {
    /// `1`, `2` and `3`.
    pub stages: [CString; 3],
    pub ctrlaltdel: CString,
    pub stopit: CString,
    pub reboot: CString,
    pub nosync: CString,
}

impl RunitDir {
    /// The directory named by `SVBOX_RUNIT_DIR`, else `/etc/runit`.
    pub fn from_env() -> RunitDir {
        match crate::env::var(DIR_ENV) {
            Some(dir) if !dir.is_empty() => RunitDir::at(dir.as_bytes()),
            _ => RunitDir::at(DEFAULT_DIR),
        }
    }

    pub fn at(dir: &[u8]) -> RunitDir {
        let [one, two, three, ctrlaltdel, stopit, reboot, nosync] =
            ["1", "2", "3", "ctrlaltdel", "stopit", "reboot", "nosync"].map(|name| {
                let mut path = dir.to_vec();
                path.push(b'/');
                path.extend_from_slice(name.as_bytes());
                // The environment cannot hold a NUL byte, so this never falls back.
                CString::new(path).unwrap_or_default()
            });
        RunitDir {
            stages: [one, two, three],
            ctrlaltdel,
            stopit,
            reboot,
            nosync,
        }
    }
}

/// True if `path` exists and its owner may execute it: how runit decides that a control
/// file (`stopit`, `reboot`, `ctrlaltdel`) is set.
pub fn owner_executable(path: &std::ffi::CStr) -> bool {
    crate::filestat::stat(path).is_ok_and(|s| s.owner_executable())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_under_the_directory() {
        let d = RunitDir::at(b"/x/y");
        assert_eq!(d.stages[1].as_bytes(), b"/x/y/2");
        assert_eq!(d.stopit.as_bytes(), b"/x/y/stopit");
        assert_eq!(d.nosync.as_bytes(), b"/x/y/nosync");
        assert_eq!(
            RunitDir::at(DEFAULT_DIR).reboot.as_bytes(),
            b"/etc/runit/reboot"
        );
    }

    #[test]
    fn executable_means_owner_x() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("stopit");
        let c = CString::new(f.as_os_str().as_bytes()).unwrap();
        assert!(!owner_executable(&c));
        std::fs::write(&f, "").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o100)).unwrap();
        assert!(owner_executable(&c));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o011)).unwrap();
        assert!(!owner_executable(&c));
    }
}
