//! User/group SPECs: `user`, `user:group[:group…]` (up to 60 groups) and the numeric
//! `:uid:gid[:gid…]`, looked up in the (possibly new) root's /etc/passwd and /etc/group,
//! and `-G`'s additions: the user's group memberships and login variables.

use super::report;
use std::ffi::CStr;
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
// Kept out of its callers: inlined, the binary grows (measured, opt-level z).
#[inline(never)]
pub fn resolve(spec: &[u8], extended: bool) -> Result<Ids, Error> {
    if let (true, Some(numeric)) = (extended, spec.strip_prefix(b":")) {
        let (uid, gids) = parse_numeric(numeric).ok_or(Error::Invalid)?;
        return Ok(Ids {
            uid,
            gids,
            user: None,
        });
    }
    let (name, groups) = match memchr::memchr(b':', spec) {
        Some(colon) if extended => (&spec[..colon], Some(&spec[colon + 1..])),
        _ => (spec, None),
    };
    let user = lookup_user(name)?;
    let mut gids = Vec::new();
    match groups {
        Some(groups) => {
            for group in groups.split(|&b| b == b':').take(SPEC_GROUPS) {
                let gid = accounts::group_id(group)
                    .map_err(|e| Error::Lookup(e.raw_os_error()))?
                    .ok_or(Error::Unknown)?;
                gids.push(gid);
            }
        }
        None => gids.push(user.gid),
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
    let mut gids = Vec::new();
    let mut fields = spec[colon + 1..].split(|&b| b == b':');
    while let Some(field) = fields.next() {
        // runit reads 60 gids; a 61st field is left over and makes the SPEC invalid, except
        // the empty one after a trailing `:` of the 60th.
        if gids.len() == SPEC_GROUPS {
            return (field.is_empty() && fields.next().is_none()).then_some((uid, gids));
        }
        gids.push(id(field)?);
    }
    Some((uid, gids))
}

/// A decimal id field; empty is 0.
fn id(field: &[u8]) -> Option<u32> {
    if field.is_empty() {
        return Some(0);
    }
    accounts::parse_id(field)
}

/// `-G`: appends the groups of /etc/group that list the user (not already in the list).
pub fn add_memberships(ids: &mut Ids) -> Result<(), Error> {
    add_memberships_from(ids, accounts::GROUP)
}

fn add_memberships_from(ids: &mut Ids, group_file: &CStr) -> Result<(), Error> {
    let Some(user) = &ids.user else {
        return Ok(());
    };
    let found = accounts::groups_of_in(group_file, &user.name)
        .map_err(|e| Error::Lookup(e.raw_os_error()))?;
    for gid in found {
        if ids.gids.len() >= NGROUPS_MAX {
            break;
        }
        // A linear search: a user is a member of few groups.
        if !ids.gids.contains(&gid) {
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

    use std::os::unix::ffi::OsStringExt;

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
        let file = std::ffi::CString::new(file.into_os_string().into_vec()).unwrap();
        let file = file.as_c_str();
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
        let missing = std::ffi::CString::new(missing.into_os_string().into_vec()).unwrap();
        assert_eq!(
            add_memberships_from(&mut ids, &missing),
            Err(Error::Lookup(nix::libc::ENOENT))
        );
    }
}
