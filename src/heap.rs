//! svbox's memory allocator, installed as the global allocator of the executable.
//!
//! Why not libc's malloc: svbox allocates little (argument vectors, a few tables and buffers
//! set up once), yet a general-purpose malloc costs 8–10 KB of every static binary (zig's
//! libc for MIPS: 8 KB, a third of it counting CPUs). Rust hands the size back on every free
//! and reallocation, so this allocator needs no block headers and no search:
//!
//! - requests up to 4 KiB are rounded up to a power of two from 16 bytes (nine classes), cut
//!   from 32 KiB anonymous mappings at their natural alignment, and kept on one free list per
//!   class when freed (LIFO, so a steady state reuses the same warm blocks);
//! - larger requests get a mapping of their own, given back with munmap and grown with mremap.
//!
//! Memory is never returned from a class to the system; svbox's daemons reach their steady
//! state after set-up and allocate nothing more (runsv's steady state is allocation-free).
//! A spin lock makes it sound should a thread ever allocate; svbox itself is single-threaded.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicBool, Ordering};
use nix::libc;

mod valgrind;

/// The smallest block: room for the free list's link on every target.
const MIN_SHIFT: u32 = 4;
/// The largest block served from a class; larger ones are mappings of their own.
const MAX_SMALL: usize = 4096;
const CLASSES: usize = (MAX_SMALL.trailing_zeros() - MIN_SHIFT + 1) as usize;
/// Classes are cut from mappings of this size. Only the pages touched count as memory.
const CHUNK: usize = 32 * 1024;
/// Mapping lengths are rounded to this, so that munmap and mremap see the length mmap saw
/// (the kernel rounds further up to its own page size, the same way every time).
const ROUND: usize = 4096;

struct State {
    /// Head of each class's free list; a free block's first word points to the next one.
    free: [*mut u8; CLASSES],
    /// The unused rest of the current chunk.
    next: usize,
    end: usize,
}

/// The allocator. `svbox`'s `main.rs` installs one as `#[global_allocator]`.
pub struct Heap {
    busy: AtomicBool,
    state: UnsafeCell<State>,
}

// SAFETY: `state` is only touched with `busy` held.
unsafe impl Sync for Heap {}

impl Heap {
    pub const fn new() -> Heap {
        Heap {
            busy: AtomicBool::new(false),
            state: UnsafeCell::new(State {
                free: [null_mut(); CLASSES],
                next: 0,
                end: 0,
            }),
        }
    }

    fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        while self
            .busy
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        // SAFETY: `busy` is held, so this is the only reference.
        let result = f(unsafe { &mut *self.state.get() });
        self.busy.store(false, Ordering::Release);
        result
    }
}

impl Default for Heap {
    fn default() -> Heap {
        Heap::new()
    }
}

/// The bytes a layout occupies: a block of at least its size, aligned at least as it asks.
/// Blocks are aligned to their own size, so the larger of the two decides.
fn footprint(layout: Layout) -> usize {
    layout.size().max(layout.align())
}

/// The class of a small footprint: 0 for up to 16 bytes, 1 for up to 32, ...
fn class_of(bytes: usize) -> usize {
    let shift = usize::BITS - (bytes.max(1) - 1).leading_zeros();
    shift.saturating_sub(MIN_SHIFT) as usize
}

fn map_length(bytes: usize) -> usize {
    (bytes + (ROUND - 1)) & !(ROUND - 1)
}

fn map(len: usize) -> *mut u8 {
    // SAFETY: a new private anonymous mapping touches no existing memory.
    let p = unsafe {
        libc::mmap(
            null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        null_mut()
    } else {
        p.cast()
    }
}

impl State {
    fn take(&mut self, class: usize) -> *mut u8 {
        let head = self.free[class];
        if !head.is_null() {
            valgrind::defined(head, core::mem::size_of::<*mut u8>());
            // SAFETY: a free block's first word is the link written by `give`.
            self.free[class] = unsafe { head.cast::<*mut u8>().read() };
            return head;
        }
        let size = 1usize << (class as u32 + MIN_SHIFT);
        let mut start = (self.next + (size - 1)) & !(size - 1);
        if start + size > self.end {
            // The rest of the old chunk stays unused: it was never touched, so it costs no
            // memory, and keeping no list of remnants keeps this small.
            let chunk = map(CHUNK);
            if chunk.is_null() {
                return null_mut();
            }
            start = chunk as usize;
            self.end = start + CHUNK;
        }
        self.next = start + size;
        start as *mut u8
    }

    fn give(&mut self, block: *mut u8, class: usize) {
        // SAFETY: the block is at least 16 bytes, aligned to its size, and no longer in use.
        unsafe { block.cast::<*mut u8>().write(self.free[class]) };
        self.free[class] = block;
    }
}

// SAFETY: blocks of a class never overlap (cut once from a chunk, then only recycled through
// the free list), are aligned to their size, which is at least the layout's alignment, and
// large blocks are page-aligned mappings; alignments beyond a page are refused.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let bytes = footprint(layout);
        let p = if bytes <= MAX_SMALL {
            self.with_state(|s| s.take(class_of(bytes)))
        } else if layout.align() <= ROUND {
            map(map_length(bytes))
        } else {
            null_mut()
        };
        if !p.is_null() {
            valgrind::allocated(p, layout.size(), false);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout contract is passed on unchanged.
        let p = unsafe { self.alloc(layout) };
        // A fresh mapping is zero already: writing it would only make every page resident
        // (svlogd's 64 KiB input buffer is allocated zeroed).
        if !p.is_null() && footprint(layout) <= MAX_SMALL {
            // SAFETY: p is a block of at least layout.size() bytes.
            unsafe { p.write_bytes(0, layout.size()) };
        } else if !p.is_null() {
            valgrind::defined(p, layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let bytes = footprint(layout);
        if bytes <= MAX_SMALL {
            self.with_state(|s| s.give(ptr, class_of(bytes)));
            valgrind::freed(ptr);
        } else {
            valgrind::freed(ptr);
            // SAFETY: the caller gives back a mapping `alloc` made with this length.
            unsafe { libc::munmap(ptr.cast(), map_length(bytes)) };
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = footprint(layout);
        let new = new_size.max(layout.align());
        if old > MAX_SMALL && new > MAX_SMALL {
            // SAFETY: ptr is a mapping of the old length; the kernel may move it.
            let p = unsafe {
                libc::mremap(
                    ptr.cast(),
                    map_length(old),
                    map_length(new),
                    libc::MREMAP_MAYMOVE,
                )
            };
            if p == libc::MAP_FAILED {
                return null_mut();
            }
            valgrind::freed(ptr);
            valgrind::allocated(p.cast(), new_size, false);
            valgrind::defined(p.cast(), layout.size().min(new_size));
            return p.cast();
        }
        if old <= MAX_SMALL && new <= MAX_SMALL && class_of(old) == class_of(new) {
            valgrind::resized(ptr, layout.size(), new_size);
            return ptr;
        }
        // SAFETY: the caller guarantees new_size, rounded to the alignment, fits an isize.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: new_layout has a non-zero size (new_size is non-zero by contract).
        let p = unsafe { self.alloc(new_layout) };
        if !p.is_null() {
            // SAFETY: both blocks hold at least the smaller size and do not overlap.
            unsafe { core::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size)) };
            // SAFETY: ptr was allocated with layout and is not used again.
            unsafe { self.dealloc(ptr, layout) };
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn classes_are_powers_of_two_from_sixteen() {
        assert_eq!(class_of(1), 0);
        assert_eq!(class_of(16), 0);
        assert_eq!(class_of(17), 1);
        assert_eq!(class_of(32), 1);
        assert_eq!(class_of(4096), CLASSES - 1);
        assert_eq!(CLASSES, 9);
    }

    #[test]
    fn blocks_are_aligned_distinct_and_recycled() {
        let heap = Heap::new();
        let mut blocks = Vec::new();
        for (size, align) in [(1, 1), (24, 8), (100, 4), (64, 64), (3000, 8), (16, 16)] {
            let l = layout(size, align);
            let p = unsafe { heap.alloc(l) };
            assert!(!p.is_null());
            assert_eq!(
                p as usize % footprint(l).next_power_of_two().min(MAX_SMALL),
                0
            );
            unsafe { p.write_bytes(0xa5, size) };
            blocks.push((p, l));
        }
        for (i, &(p, l)) in blocks.iter().enumerate() {
            for &(q, m) in &blocks[i + 1..] {
                let (a, b) = (p as usize, q as usize);
                assert!(a + l.size() <= b || b + m.size() <= a, "blocks overlap");
            }
        }
        let (p, l) = blocks[1];
        unsafe { heap.dealloc(p, l) };
        // The same class hands the freed block out again.
        assert_eq!(unsafe { heap.alloc(layout(30, 2)) }, p);
    }

    #[test]
    fn many_small_blocks_span_chunks() {
        let heap = Heap::new();
        let l = layout(4096, 8);
        let blocks: Vec<_> = (0..3 * CHUNK / 4096)
            .map(|_| unsafe { heap.alloc(l) })
            .collect();
        for (i, &p) in blocks.iter().enumerate() {
            assert!(!p.is_null());
            unsafe { p.write_bytes(i as u8, 4096) };
        }
        for (i, &p) in blocks.iter().enumerate() {
            assert!(unsafe { std::slice::from_raw_parts(p, 4096) }
                .iter()
                .all(|&b| b == i as u8));
        }
    }

    #[test]
    fn realloc_keeps_contents_across_every_kind_of_block() {
        let heap = Heap::new();
        let mut l = layout(5, 1);
        let mut p = unsafe { heap.alloc(l) };
        unsafe { p.copy_from_nonoverlapping(b"hello".as_ptr(), 5) };
        // Same class, other class, large, larger (mremap), back to small.
        for size in [12, 200, 10_000, 300_000, 40] {
            p = unsafe { heap.realloc(p, l, size) };
            assert!(!p.is_null());
            assert_eq!(unsafe { std::slice::from_raw_parts(p, 5) }, b"hello");
            l = layout(size, 1);
        }
        unsafe { heap.dealloc(p, l) };
    }

    #[test]
    fn zeroed_blocks_are_zero_also_when_recycled() {
        let heap = Heap::new();
        for size in [40, 5000] {
            let l = layout(size, 8);
            let p = unsafe { heap.alloc(l) };
            unsafe { p.write_bytes(0xff, size) };
            unsafe { heap.dealloc(p, l) };
            let z = unsafe { heap.alloc_zeroed(l) };
            assert!(unsafe { std::slice::from_raw_parts(z, size) }
                .iter()
                .all(|&b| b == 0));
        }
    }

    #[test]
    fn large_blocks_are_mappings_given_back() {
        let heap = Heap::new();
        let l = layout(1 << 20, 4096);
        let p = unsafe { heap.alloc(l) };
        assert!(!p.is_null());
        assert_eq!(p as usize % 4096, 0);
        unsafe { p.write_bytes(1, 1 << 20) };
        unsafe { heap.dealloc(p, l) };
        assert!(unsafe { heap.alloc(layout(8192, 8192)) }.is_null());
    }
}
