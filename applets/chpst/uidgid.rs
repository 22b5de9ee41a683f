//! User/group SPECs: `user`, `user:group[:group…]` (up to 60 groups) and the numeric
//! `:uid:gid[:gid…]`, looked up in the (possibly new) root's /etc/passwd and /etc/group,
//! and `-G`'s additions: the user's group memberships and login variables.

use super::report;
use std::os::unix::ffi::OsStrExt;
use svbox::accounts::{self, Passwd};

/// At most this many groups are read from a SPEC; more are ignored, as in runit.
const SPEC_GROUPS: usize = 60;
/// Linux's NGROUPS_MAX: the longest supplementary group list.
const NGROUPS_MAX: usize = 65536;

/// What a SPEC resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    /// The primary gid first; the whole list becomes the supplementary groups.
    pub gids: Vec<u32>,
    /// The password entry, for the named forms.
    pub user: Option<Passwd>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A malformed numeric SPEC.
    Invalid,
    /// No such user or group.
    Unknown,
    /// The password or group file could not be read.
    Lookup(i32),
}

/// Resolves `spec`: chpst's syntax when `extended`, else a plain account name.
pub fn resolve(spec: &[u8], extended: bool) -> Result<Ids, Error> {
    if !extended {
        let user = lookup_user(spec)?;
        return Ok(Ids {
            uid: user.uid,
            gids: vec![user.gid],
            user: Some(user),
        });
    }
    if let Some(numeric) = spec.strip_prefix(b":") {
        let (uid, gids) = parse_numeric(numeric).ok_or(Error::Invalid)?;
        return Ok(Ids {
            uid,
            gids,
            user: None,
        });
    }
    let mut parts = spec.split(|&b| b == b':');
    let name = parts.next().unwrap_or_default();
    let user = lookup_user(name)?;
    let mut gids = Vec::new();
    if memchr::memchr(b':', spec).is_some() {
        for group in parts.take(SPEC_GROUPS) {
            let g = accounts::group_by_name(group)
                .map_err(|e| Error::Lookup(e.raw_os_error()))?
                .ok_or(Error::Unknown)?;
            gids.push(g.gid);
        }
    } else {
        gids.push(user.gid);
    }
    Ok(Ids {
        uid: user.uid,
        gids,
        user: Some(user),
    })
}

fn lookup_user(name: &[u8]) -> Result<Passwd, Error> {
    accounts::user_by_name(name)
        .map_err(|e| Error::Lookup(e.raw_os_error()))?
        .ok_or(Error::Unknown)
}

/// `uid:gid[:gid…]` (after the leading `:`): an empty field is 0, at most 60 gids. runit
/// wraps numbers beyond 32 bits around (`:4294967296:0` would be root); they are invalid.
fn parse_numeric(spec: &[u8]) -> Option<(u32, Vec<u32>)> {
    let colon = memchr::memchr(b':', spec)?;
    let uid = id(&spec[..colon])?;
    let rest = &spec[colon + 1..];
    let gids: Vec<u32> = rest.split(|&b| b == b':').map(id).collect::<Option<_>>()?;
    // runit reads 60 gids; a 61st field is left over and makes the SPEC invalid, except
    // the empty one after a trailing `:` of the 60th.
    match gids.len() {
        n if n <= SPEC_GROUPS => Some((uid, gids)),
        n if n == SPEC_GROUPS + 1 && rest.ends_with(b":") => {
            Some((uid, gids[..SPEC_GROUPS].to_vec()))
        }
        _ => None,
    }
}

/// A decimal id field; empty is 0.
fn id(field: &[u8]) -> Option<u32> {
    if !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    field.iter().try_fold(0u32, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// `-G`: appends the groups of /etc/group that list the user (not already in the list).
pub fn add_memberships(ids: &mut Ids) -> Result<(), Error> {
    add_memberships_from(ids, accounts::GROUP)
}

fn add_memberships_from(ids: &mut Ids, group_file: &str) -> Result<(), Error> {
    let Some(user) = &ids.user else {
        return Ok(());
    };
    let found = accounts::groups_of_in(group_file, &user.name)
        .map_err(|e| Error::Lookup(e.raw_os_error()))?;
    let mut seen = ids.gids.clone();
    seen.sort_unstable();
    for gid in found {
        if ids.gids.len() >= NGROUPS_MAX {
            break;
        }
        if let Err(at) = seen.binary_search(&gid) {
            seen.insert(at, gid);
            ids.gids.push(gid);
        }
    }
    Ok(())
}

/// Prints the message for a failed SPEC; returns the exit code.
pub fn report(error: Error, spec: &std::ffi::OsStr, extended: bool) -> i32 {
    let spec = spec.as_bytes();
    match (error, extended) {
        (Error::Invalid, _) => report::fatal(&[b"invalid uid/gids: ", &spec[1.min(spec.len())..]]),
        (Error::Lookup(e), true) => {
            report::fatal_err(&[b"unable to get password/group file entry"], e)
        }
        (Error::Lookup(e), false) => report::fatal_err(&[b"unable to get password file entry"], e),
        (Error::Unknown, true) => report::fatal(&[b"unknown user/group: ", spec]),
        (Error::Unknown, false) => report::fatal(&[b"unknown account: ", spec]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(spec: &str) -> Option<(u32, Vec<u32>)> {
        parse_numeric(spec.as_bytes())
    }

    #[test]
    fn numeric_specs() {
        assert_eq!(numeric("0:0"), Some((0, vec![0])));
        assert_eq!(numeric("5:6:7"), Some((5, vec![6, 7])));
        assert_eq!(numeric("5:"), Some((5, vec![0])), "an empty gid field is 0");
        assert_eq!(numeric("5:6:"), Some((5, vec![6, 0])));
        assert_eq!(numeric(":6"), Some((0, vec![6])), "an empty uid field is 0");
        assert_eq!(numeric("0"), None, "`:0` lacks the gid part");
        assert_eq!(numeric(""), None);
        assert_eq!(numeric("x:0"), None);
        assert_eq!(numeric("0:1x"), None);
        assert_eq!(numeric("0: 1"), None);
        assert_eq!(
            numeric("4294967295:4294967295"),
            Some((u32::MAX, vec![u32::MAX]))
        );
        assert_eq!(numeric("4294967296:0"), None, "no wrap-around to root");
        assert_eq!(numeric("0:4294967296"), None);
    }

    #[test]
    fn numeric_specs_take_up_to_sixty_groups() {
        let list = |n: usize| (1..=n).map(|g| g.to_string()).collect::<Vec<_>>().join(":");
        let sixty = numeric(&format!("9:{}", list(60))).unwrap();
        assert_eq!(sixty.1, (1..=60).collect::<Vec<u32>>());
        assert_eq!(numeric(&format!("9:{}:", list(60))).unwrap().1.len(), 60);
        assert_eq!(numeric(&format!("9:{}", list(61))), None);
        assert_eq!(numeric(&format!("9:{}::", list(60))), None);
    }

    #[test]
    fn extended_numeric_resolution_needs_no_files() {
        assert_eq!(
            resolve(b":1:2:3", true),
            Ok(Ids {
                uid: 1,
                gids: vec![2, 3],
                user: None
            })
        );
        assert_eq!(resolve(b":0", true), Err(Error::Invalid));
        assert_eq!(resolve(b":", true), Err(Error::Invalid));
    }

    #[test]
    fn memberships_are_appended_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("group");
        std::fs::write(
            &file,
            "a:x:5:alice\nb:x:7:bob,alice\nc:x:8:alice\nd:x:7:alice\ne:x:9:carol\n",
        )
        .unwrap();
        let file = file.to_str().unwrap();
        let alice = Passwd {
            name: b"alice".to_vec(),
            uid: 1000,
            gid: 5,
            home: b"/home/alice".to_vec(),
            shell: b"/bin/sh".to_vec(),
        };
        let mut ids = Ids {
            uid: 1000,
            gids: vec![5, 5],
            user: Some(alice),
        };
        add_memberships_from(&mut ids, file).unwrap();
        assert_eq!(ids.gids, vec![5, 5, 7, 8], "given groups stay as they are");
        let mut numeric = Ids {
            uid: 0,
            gids: vec![1],
            user: None,
        };
        add_memberships_from(&mut numeric, file).unwrap();
        assert_eq!(numeric.gids, vec![1], "numeric SPECs get nothing");
        let missing = dir.path().join("none");
        assert_eq!(
            add_memberships_from(&mut ids, missing.to_str().unwrap()),
            Err(Error::Lookup(nix::libc::ENOENT))
        );
    }
}
