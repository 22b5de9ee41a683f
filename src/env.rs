//! Environment variables read through libc's `getenv`: svbox never changes its own
//! environment, so std's environment lock and copies (about 1 KB) buy nothing.

use std::ffi::{CStr, OsString};
use std::os::unix::ffi::OsStringExt;

/// The value of `name`, if set (an empty value is `Some("")`).
pub fn var(name: &CStr) -> Option<OsString> {
    // SAFETY: name is NUL-terminated; nothing in svbox calls setenv or putenv, so the
    // returned string stays valid while it is copied.
    let value = unsafe { nix::libc::getenv(name.as_ptr()) };
    if value.is_null() {
        return None;
    }
    // SAFETY: getenv returns a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(value) }.to_bytes();
    Some(OsString::from_vec(bytes.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_process_was_given() {
        // The test harness's own environment: PATH is set, this name is not.
        assert_eq!(var(c"PATH"), std::env::var_os("PATH"));
        assert_eq!(var(c"SVBOX_SURELY_UNSET_VARIABLE"), None);
    }
}
