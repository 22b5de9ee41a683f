//! sv (stub being written).
//! install: usr/bin

use std::ffi::OsString;

pub fn main(_args: Vec<OsString>) -> i32 {
    111
}
