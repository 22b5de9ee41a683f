//! A directory's entries without allocating: rustix's `RawDir` over a stack buffer, in one
//! place, so the binary holds one copy of the loop (rustix's allocating `Dir` is not used).

use rustix::fd::BorrowedFd;
use rustix::fs::{FileType, RawDir};
use rustix::io::Errno;
use std::ffi::CStr;
use std::mem::MaybeUninit;

/// Calls `each` with every entry's name and type (`.` and `..` included, as readdir gives
/// them) until it returns false or the directory ends. Reads from the descriptor's current
/// position, so give it a freshly opened directory.
pub fn each(
    dir: BorrowedFd<'_>,
    each: &mut dyn FnMut(&CStr, FileType) -> bool,
) -> Result<(), Errno> {
    // Entries are at most 280 bytes (names up to 255): one page holds at least one.
    let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
    let mut entries = RawDir::new(dir, &mut buf);
    while let Some(entry) = entries.next() {
        let entry = entry?;
        if !each(entry.file_name(), entry.file_type()) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn lists_every_entry_and_stops_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..300 {
            // Long names: more than one 4 KB buffer of entries.
            std::fs::write(dir.path().join(format!("{i:0>200}")), b"").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let open = || std::fs::File::open(dir.path()).unwrap();
        let fd = open();
        let mut names = Vec::new();
        each(fd.as_fd(), &mut |name, ftype| {
            names.push((name.to_bytes().to_vec(), ftype));
            true
        })
        .unwrap();
        assert_eq!(names.len(), 300 + 1 + 2);
        assert!(names.contains(&(b"sub".to_vec(), FileType::Directory)));
        assert!(names.contains(&(b"..".to_vec(), FileType::Directory)));
        let fd = open();
        let mut seen = 0;
        each(fd.as_fd(), &mut |_, _| {
            seen += 1;
            seen < 5
        })
        .unwrap();
        assert_eq!(seen, 5);
    }
}
