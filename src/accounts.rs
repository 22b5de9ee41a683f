//! User and group lookups read straight from `/etc/passwd` and `/etc/group`, without NSS (a
//! static binary has none). Paths are opened at call time, so after a `chroot` the new
//! root's files answer. Lines are parsed as glibc's `files` backend does: leading blanks,
//! empty lines and `#` comments are skipped; so are malformed lines, ids that do not fit
//! 32 bits, and `+`/`-` NIS compat lines. Names are bytes; the first match wins.

use rustix::io::Errno;
use rustix::path::Arg;
use std::ffi::CStr;

/// The password file consulted by the lookups without `_in`.
pub const PASSWD: &CStr = c"/etc/passwd";
/// The group file consulted by the lookups without `_in`.
pub const GROUP: &CStr = c"/etc/group";

/// One entry of the password file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passwd {
    pub name: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
    pub home: Vec<u8>,
    pub shell: Vec<u8>,
}

/// One entry of the group file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub name: Vec<u8>,
    pub gid: u32,
    pub members: Vec<Vec<u8>>,
}

/// The password entry called `name`.
pub fn user_by_name(name: &[u8]) -> Result<Option<Passwd>, Errno> {
    user_by_name_in(PASSWD, name)
}

/// The first password entry with user id `uid`.
pub fn user_by_uid(uid: u32) -> Result<Option<Passwd>, Errno> {
    user_by_uid_in(PASSWD, uid)
}

/// The group called `name`.
pub fn group_by_name(name: &[u8]) -> Result<Option<Group>, Errno> {
    group_by_name_in(GROUP, name)
}

/// The id of the group called `name` (`group_by_name` without the copies).
pub fn group_id(name: &[u8]) -> Result<Option<u32>, Errno> {
    let mut found = None;
    scan(GROUP, GROUP_FIELDS, &mut |f, ids| {
        found = (f[0] == name).then_some(ids[0]);
        found.is_some()
    })?;
    Ok(found)
}

/// The ids of every group that lists `user` as a member, in file order.
pub fn groups_of(user: &[u8]) -> Result<Vec<u32>, Errno> {
    groups_of_in(GROUP, user)
}

pub fn user_by_name_in<P: Arg>(path: P, name: &[u8]) -> Result<Option<Passwd>, Errno> {
    user_where(path, &|f, _| f[0] == name)
}

pub fn user_by_uid_in<P: Arg>(path: P, uid: u32) -> Result<Option<Passwd>, Errno> {
    user_where(path, &|_, ids| ids[0] == uid)
}

pub fn group_by_name_in<P: Arg>(path: P, name: &[u8]) -> Result<Option<Group>, Errno> {
    let mut found = None;
    scan(path, GROUP_FIELDS, &mut |f, ids| {
        if f[0] != name {
            return false;
        }
        found = Some(Group {
            name: name.to_vec(),
            gid: ids[0],
            members: members(f[3]).map(<[u8]>::to_vec).collect(),
        });
        true
    })?;
    Ok(found)
}

pub fn groups_of_in<P: Arg>(path: P, user: &[u8]) -> Result<Vec<u32>, Errno> {
    let mut gids = Vec::new();
    scan(path, GROUP_FIELDS, &mut |f, ids| {
        if members(f[3]).any(|m| m == user) {
            gids.push(ids[0]);
        }
        false
    })?;
    Ok(gids)
}

/// The first password entry `wanted` accepts (given its fields and uid, gid).
fn user_where<P: Arg>(
    path: P,
    wanted: &dyn Fn(&Fields<'_>, [u32; 2]) -> bool,
) -> Result<Option<Passwd>, Errno> {
    let mut found = None;
    scan(path, PASSWD_FIELDS, &mut |f, ids| {
        if !wanted(f, ids) {
            return false;
        }
        found = Some(Passwd {
            name: f[0].to_vec(),
            uid: ids[0],
            gid: ids[1],
            home: f[5].to_vec(),
            shell: f[6].to_vec(),
        });
        true
    })?;
    Ok(found)
}

/// The fields of a line; those the line lacks are empty.
type Fields<'a> = [&'a [u8]; 7];

/// `name:passwd:uid:gid[:gecos[:home[:shell]]]`; the shell is the rest of the line.
const PASSWD_FIELDS: (usize, usize) = (7, 2);
/// `name:passwd:gid[:member,member…]`.
const GROUP_FIELDS: (usize, usize) = (4, 1);

/// Calls `each` with the fields and ids of every entry of the file at `path` until it returns
/// true. `shape` is (fields, ids): a line is split into at most that many fields (the last
/// one keeps the rest of the line), and needs the name, the password and that many ids.
/// Skipped: empty and `#` lines, empty and `+`/`-` names, ids that are not 32-bit numbers.
fn scan<P: Arg>(
    path: P,
    shape: (usize, usize),
    each: &mut dyn FnMut(&Fields<'_>, [u32; 2]) -> bool,
) -> Result<(), Errno> {
    scan_text(&read_all(path)?, shape, each);
    Ok(())
}

fn scan_text(
    text: &[u8],
    (fields, ids): (usize, usize),
    each: &mut dyn FnMut(&Fields<'_>, [u32; 2]) -> bool,
) {
    for line in text.split(|&b| b == b'\n') {
        let line = trim_start(line);
        let mut f: Fields<'_> = [b""; 7];
        let mut n = 0;
        for field in line.splitn(fields, |&b| b == b':') {
            f[n] = field;
            n += 1;
        }
        let mut id = [0; 2];
        let valid = n >= 2 + ids
            && !matches!(f[0].first(), None | Some(b'#' | b'+' | b'-'))
            && (0..ids).all(|i| parse_id(f[2 + i]).map(|v| id[i] = v).is_some());
        if valid && each(&f, id) {
            return;
        }
    }
}

/// The members of a group's member list: leading blanks removed, empty ones dropped.
fn members(list: &[u8]) -> impl Iterator<Item = &[u8]> {
    list.split(|&b| b == b',')
        .map(trim_start)
        .filter(|m| !m.is_empty())
}

fn trim_start(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| !b.is_ascii_whitespace());
    &s[start.unwrap_or(s.len())..]
}

fn read_all<P: Arg>(path: P) -> Result<Vec<u8>, Errno> {
    crate::fsio::read_to_end(crate::fsio::open_read(path)?)
}

/// A decimal id: digits only, at least one, fitting 32 bits.
pub fn parse_id(field: &[u8]) -> Option<u32> {
    let (value, used) = crate::scan::scan_ulong(field);
    if used == 0 || used < field.len() {
        return None;
    }
    u32::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn ids_are_digits_only_and_fit_32_bits() {
        assert_eq!(parse_id(b"0"), Some(0));
        assert_eq!(parse_id(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_id(b"4294967296"), None);
        assert_eq!(parse_id(b"99999999999999999999999"), None);
        for bad in [&b""[..], b"12a", b"+1", b"-1", b" 1"] {
            assert_eq!(parse_id(bad), None);
        }
    }

    fn fixture(dir: &tempfile::TempDir, name: &str, text: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const PASSWD_TEXT: &[u8] = b"root:x:0:0:root:/root:/bin/sh\n\
        # a comment:x:5:5::/:/bin/sh\n\
        \n\
        +nis:x:10:10::/nis:/bin/sh\n\
        -blocked:x:11:11::/b:/bin/sh\n\
        badid:x:1x:1::/:/bin/sh\n\
        huge:x:4294967296:1::/:/bin/sh\n\
        short:x:12\n\
        noshell:x:13:14\n\
        \t  indented:x:15:16:Gecos, with comma:/home/in:/bin/sh:extra\n\
        max:x:4294967295:4294967295::/m:/bin/sh\n\
        \xffbyte:x:17:17::/h\xfe:/bin/sh\n\
        root:x:99:99:second root:/other:/bin/sh";

    #[test]
    fn passwd_lookups_by_name_and_uid() {
        let dir = tempfile::tempdir().unwrap();
        let p = fixture(&dir, "passwd", PASSWD_TEXT);
        let root = user_by_name_in(p.as_path(), b"root").unwrap().unwrap();
        assert_eq!(
            root,
            Passwd {
                name: b"root".to_vec(),
                uid: 0,
                gid: 0,
                home: b"/root".to_vec(),
                shell: b"/bin/sh".to_vec()
            },
            "first match wins"
        );
        let ind = user_by_name_in(p.as_path(), b"indented").unwrap().unwrap();
        assert_eq!((ind.uid, ind.gid), (15, 16));
        assert_eq!(ind.home, b"/home/in");
        assert_eq!(
            ind.shell, b"/bin/sh:extra",
            "the shell is the rest of the line"
        );
        let ns = user_by_name_in(p.as_path(), b"noshell").unwrap().unwrap();
        assert_eq!((ns.uid, ns.gid, ns.home.len()), (13, 14, 0));
        let max = user_by_name_in(p.as_path(), b"max").unwrap().unwrap();
        assert_eq!(max.uid, u32::MAX);
        let bytes = user_by_name_in(p.as_path(), b"\xffbyte").unwrap().unwrap();
        assert_eq!(bytes.home, b"/h\xfe");
        assert_eq!(user_by_uid_in(p.as_path(), 17).unwrap(), Some(bytes));
        assert_eq!(
            user_by_uid_in(p.as_path(), 99).unwrap().unwrap().home,
            b"/other"
        );
    }

    #[test]
    fn malformed_comment_and_compat_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let p = fixture(&dir, "passwd", PASSWD_TEXT);
        for name in [
            &b"+nis"[..],
            b"nis",
            b"-blocked",
            b"blocked",
            b"badid",
            b"huge",
            b"short",
            b"# a comment",
            b"",
            b"root:x",
        ] {
            assert_eq!(user_by_name_in(p.as_path(), name).unwrap(), None);
        }
        assert_eq!(user_by_uid_in(p.as_path(), 10).unwrap(), None);
        assert_eq!(user_by_uid_in(p.as_path(), 5).unwrap(), None);
    }

    #[test]
    fn groups_and_memberships() {
        let dir = tempfile::tempdir().unwrap();
        let g = fixture(
            &dir,
            "group",
            b"root:x:0:\n\
              wheel:x:10:root, alice ,,bob\n\
              +compat:x:20:alice\n\
              users:x:100:alice\n\
              nomembers:x:30\n\
              bad:x::alice\n\
              wheel:x:11:alice\n",
        );
        let wheel = group_by_name_in(g.as_path(), b"wheel").unwrap().unwrap();
        assert_eq!(wheel.gid, 10);
        assert_eq!(
            wheel.members,
            vec![b"root".to_vec(), b"alice ".to_vec(), b"bob".to_vec()],
            "leading blanks go, empty members are dropped"
        );
        assert_eq!(
            group_by_name_in(g.as_path(), b"nomembers")
                .unwrap()
                .unwrap()
                .gid,
            30
        );
        assert_eq!(group_by_name_in(g.as_path(), b"bad").unwrap(), None);
        assert_eq!(group_by_name_in(g.as_path(), b"+compat").unwrap(), None);
        assert_eq!(groups_of_in(g.as_path(), b"bob").unwrap(), vec![10]);
        assert_eq!(groups_of_in(g.as_path(), b"alice").unwrap(), vec![100, 11]);
        assert_eq!(groups_of_in(g.as_path(), b"root").unwrap(), vec![10]);
        assert!(groups_of_in(g.as_path(), b"nobody").unwrap().is_empty());
    }

    #[test]
    fn missing_files_report_their_errno() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none");
        assert_eq!(
            user_by_name_in(missing.as_path(), b"root"),
            Err(Errno::NOENT)
        );
        assert_eq!(
            group_by_name_in(missing.as_path(), b"root"),
            Err(Errno::NOENT)
        );
        assert_eq!(groups_of_in(dir.path(), b"root"), Err(Errno::ISDIR));
    }
}
