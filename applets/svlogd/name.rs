//! The `@<tai64n>.X` names of finished log files, kept NUL-terminated so that system
//! calls take them without a copy.

use std::ffi::CStr;
use svbox::tai::Tai64n;

/// `@` + 24 hex digits + `.` + suffix, then a NUL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Name([u8; 28]);

impl Name {
    /// The name for now with `suffix` (`s`, `u` or `t`).
    pub fn now(suffix: u8) -> Name {
        let mut n = [0u8; 28];
        n[..25].copy_from_slice(&Tai64n::now().hex());
        n[25] = b'.';
        n[26] = suffix;
        Name(n)
    }

    /// A directory entry's name if it has the length of one (27 bytes, leading `@`).
    pub fn parse(entry: &[u8]) -> Option<Name> {
        let mut n = [0u8; 28];
        if entry.len() != 27 || entry[0] != b'@' {
            return None;
        }
        n[..27].copy_from_slice(entry);
        Some(Name(n))
    }

    pub fn suffix(&self) -> u8 {
        self.0[26]
    }

    pub fn with_suffix(mut self, suffix: u8) -> Name {
        self.0[26] = suffix;
        self
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0[..27]
    }

    pub fn c(&self) -> &CStr {
        // Never fails: the only NUL is the last byte (entries and hex digits have none).
        CStr::from_bytes_with_nul(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let n = Name::now(b'u');
        assert_eq!(n.bytes().len(), 27);
        assert_eq!(n.bytes()[0], b'@');
        assert_eq!(n.c().to_bytes(), n.bytes());
        assert_eq!(n.with_suffix(b's').suffix(), b's');
        assert_eq!(Name::parse(n.bytes()), Some(n));
        assert_eq!(Name::parse(b"current"), None);
        assert_eq!(Name::parse(b"x40000000000000000000000000.s"), None);
    }
}
