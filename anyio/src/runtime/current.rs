//! Which runtime the current thread serves.

use std::cell::Cell;
use std::sync::Arc;

use crate::base::context::{self, ActivityCounter};
use crate::runtime::RuntimeShared;

thread_local! {
    /// The runtime whose thread this is (the `block_on` thread or a worker).
    static CURRENT_RUNTIME: Cell<Option<Arc<RuntimeShared>>> = const { Cell::new(None) };
}

/// The runtime this thread belongs to, if any.
pub(crate) fn current_runtime() -> Option<Arc<RuntimeShared>> {
    CURRENT_RUNTIME.with(|cell| context::peek(cell, |rt| rt.cloned()))
}

/// Runs `f` with a borrow of this thread's runtime (no reference count traffic); `None`
/// outside any runtime. `f` must not look up the current runtime itself.
#[inline]
pub(crate) fn with_current_runtime<R>(f: impl FnOnce(&Arc<RuntimeShared>) -> R) -> Option<R> {
    CURRENT_RUNTIME.with(|cell| context::peek(cell, |rt| rt.map(f)))
}

/// Whether this thread is inside a running anyio runtime.
pub(crate) fn in_runtime() -> bool {
    CURRENT_RUNTIME.with(|cell| context::peek(cell, |rt| rt.is_some()))
}

/// Makes this thread a thread of `runtime` until the guard drops: the runtime lists the
/// thread's activity counter meanwhile (and forgets it after).
pub(crate) fn enter(runtime: &Arc<RuntimeShared>) -> RuntimeGuard {
    let counter = context::thread_activity_counter();
    runtime.registry.add_activity_counter(counter.clone());
    let previous = CURRENT_RUNTIME.with(|cell| cell.replace(Some(runtime.clone())));
    RuntimeGuard {
        runtime: runtime.clone(),
        counter,
        previous,
    }
}

/// Restores the thread's previous runtime on drop.
pub(crate) struct RuntimeGuard {
    runtime: Arc<RuntimeShared>,
    counter: Arc<ActivityCounter>,
    previous: Option<Arc<RuntimeShared>>,
}

impl Drop for RuntimeGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT_RUNTIME.with(|cell| cell.set(previous));
        self.runtime.registry.remove_activity_counter(&self.counter);
    }
}
