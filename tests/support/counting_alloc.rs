//! A global allocator that counts heap bytes, for the memory tests and the memory
//! benchmark: the one place outside the library that needs `unsafe` (a `GlobalAlloc`
//! cannot be written without it). Every call goes to the system allocator unchanged.
//!
//! Counting is off until `start` is called, so that a benchmark binary pays one relaxed
//! load per allocation in its timed cases.
#![allow(dead_code)] // each user needs only some of these functions

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};

pub struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
/// Bytes allocated and not yet freed since counting started.
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// Bytes allocated since counting started (a `realloc` counts its new size).
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

fn counted_alloc(size: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_add(size as isize, Ordering::Relaxed);
        ALLOCATED.fetch_add(size, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters are only arithmetic on the sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, forwarded.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            counted_alloc(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, forwarded.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            counted_alloc(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's pointer and layout, forwarded.
        unsafe { System.dealloc(ptr, layout) };
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's pointer, layout and size, forwarded.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() && COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
            ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        }
        new
    }
}

/// Starts counting from zero.
pub fn start() {
    LIVE.store(0, Ordering::SeqCst);
    ALLOCATED.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
}

/// Stops counting (the counters keep their values).
pub fn stop() {
    COUNTING.store(false, Ordering::SeqCst);
}

/// Bytes allocated and not freed since `start` (frees of older blocks count too).
pub fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}

/// Bytes allocated since `start`.
pub fn allocated() -> usize {
    ALLOCATED.load(Ordering::SeqCst)
}
