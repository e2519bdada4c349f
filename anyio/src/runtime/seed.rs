//! Seeded schedules: a runtime built with `Builder::seed` polls the ready children of
//! each task group in an order drawn from its seed, and moves its mock clock itself when
//! idle, on the thread that runs the tasks. With no seeded runtime in the process, the
//! check is one relaxed atomic load.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::base::lock::lock;

/// How many seeded runtimes exist.
static SEEDED_RUNTIMES: AtomicUsize = AtomicUsize::new(0);

/// A seeded runtime's random numbers (xorshift64*: small, fast, and the same on every
/// platform, so that a seed replays anywhere).
pub(crate) struct SeededOrder {
    state: Mutex<u64>,
}

impl SeededOrder {
    pub(crate) fn new(seed: u64) -> SeededOrder {
        SEEDED_RUNTIMES.fetch_add(1, Ordering::Relaxed);
        // Never zero (xorshift's fixed point); the same seed gives the same stream.
        let state = seed ^ 0x9E37_79B9_7F4A_7C15;
        SeededOrder {
            state: Mutex::new(if state == 0 { 1 } else { state }),
        }
    }

    fn next(&self) -> u64 {
        let mut state = lock(&self.state);
        let mut x = *state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Shuffles `items` (Fisher-Yates).
    fn shuffle<T>(&self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

impl Drop for SeededOrder {
    fn drop(&mut self) {
        SEEDED_RUNTIMES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether any seeded runtime exists (the fast path's check).
#[inline]
pub(crate) fn any_seeded() -> bool {
    SEEDED_RUNTIMES.load(Ordering::Relaxed) > 0
}

/// In a seeded runtime, shuffles the ready children of a group before they are polled.
#[inline]
pub(crate) fn shuffle_ready<T>(items: &mut [T]) {
    if items.len() < 2 || !any_seeded() {
        return;
    }
    crate::runtime::with_current_runtime(|runtime| {
        if let Some(order) = &runtime.seeded {
            order.shuffle(items);
        }
    });
}

/// In a seeded runtime with an autojumping mock clock, called by the loop when nothing
/// is left to run: moves the clock to the next deadline and fires what falls due, on
/// this thread. True if it did (the loop then runs what was woken).
pub(crate) fn jump_when_idle() -> bool {
    if !any_seeded() {
        return false;
    }
    crate::runtime::with_current_runtime(|runtime| {
        if runtime.seeded.is_none() {
            return false;
        }
        let Some(mock) = runtime.clock.mock() else {
            return false;
        };
        if mock.autojump().is_none()
            || crate::runtime::thread_pool::jobs_in_flight() > 0
            || crate::runtime::clock::held()
        {
            return false;
        }
        let Some(at) = runtime.deadlines().earliest() else {
            return false;
        };
        mock.advance_to(at);
        runtime.deadlines().clock_changed(mock.now());
        true
    })
    .unwrap_or(false)
}
