//! The crate's one policy for its internal mutexes: a poisoned lock is used anyway.
//!
//! No internal lock is held while user code runs (items are dropped and futures polled
//! after the guard is released; so are wakers woken, except the wake a wait queue gives
//! a cancelled waiter it skips, which only schedules a task), and every critical section
//! leaves its data consistent before anything in it can panic. So a poisoned mutex only means that
//! some unrelated panic unwound through a guard; its data is sound, and refusing it would
//! turn one panic into a cascade of them, or into a lost wake-up.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, recovering the guard if a panic poisoned it.
#[inline]
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
