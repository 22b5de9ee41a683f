//! Valgrind client requests that describe `Heap`'s blocks to memcheck, so that valgrind
//! counts svbox's allocations ("total heap usage", which the runsv steady-state test reads)
//! and checks them as it checks malloc's: reads of freed blocks, writes past the end.
//!
//! Only debug builds on x86_64 make them (the tests' builds; valgrind runs nowhere else
//! here); natively the sequence is a few rotations that leave every register as it was.
//! Release builds compile the functions to nothing.

#[cfg(all(debug_assertions, target_arch = "x86_64"))]
fn request(code: usize, a1: usize, a2: usize, a3: usize, a4: usize) {
    let args = [code, a1, a2, a3, a4, 0];
    // SAFETY: valgrind's "special instruction preamble" for amd64 (valgrind.h): rdi is rotated
    // by 128 bits in all, so it is unchanged; valgrind reads the request at rax and writes
    // its answer to rdx. Natively the flags are the only other thing touched.
    unsafe {
        core::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            in("rax") args.as_ptr(),
            inout("rdx") 0usize => _,
            options(nostack),
        );
    }
}

#[cfg(not(all(debug_assertions, target_arch = "x86_64")))]
#[inline(always)]
fn request(_code: usize, _a1: usize, _a2: usize, _a3: usize, _a4: usize) {}

const MALLOCLIKE_BLOCK: usize = 0x1301;
const FREELIKE_BLOCK: usize = 0x1302;
const RESIZEINPLACE_BLOCK: usize = 0x130b;
/// memcheck's own requests start at 'M', 'C' in the top bytes.
const MAKE_MEM_DEFINED: usize = 0x4d43_0000 + 2;

/// `p` now holds a block of `size` bytes (its contents undefined unless `zeroed`).
#[inline(always)]
pub fn allocated(p: *mut u8, size: usize, zeroed: bool) {
    request(MALLOCLIKE_BLOCK, p as usize, size, 0, usize::from(zeroed));
}

/// The block at `p` is free: any access is an error until it is handed out again.
#[inline(always)]
pub fn freed(p: *mut u8) {
    request(FREELIKE_BLOCK, p as usize, 0, 0, 0);
}

/// The block at `p` grew or shrank where it is.
#[inline(always)]
pub fn resized(p: *mut u8, old: usize, new: usize) {
    request(RESIZEINPLACE_BLOCK, p as usize, old, new, 0);
}

/// `len` bytes at `p` hold defined values (the allocator's own link in a free block, or
/// contents moved by the kernel with mremap).
#[inline(always)]
pub fn defined(p: *mut u8, len: usize) {
    request(MAKE_MEM_DEFINED, p as usize, len, 0, 0);
}
