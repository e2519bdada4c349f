//! Which runtime the current thread serves.

use std::cell::Cell;
use std::sync::Arc;

use crate::base::context::{self, ActivityCounter, ActivityGuard};
use crate::runtime::RuntimeShared;

thread_local! {
    /// The runtime whose thread this is (the `block_on` thread or a worker).
    static CURRENT_RUNTIME: Cell<Option<Arc<RuntimeShared>>> = const { Cell::new(None) };
}

/// The runtime this thread belongs to, if any.
pub(crate) fn current_runtime() -> Option<Arc<RuntimeShared>> {
    CURRENT_RUNTIME.with(|cell| {
        let rt = cell.take();
        let clone = rt.clone();
        cell.set(rt);
        clone
    })
}

/// Whether this thread is inside a running anyio runtime.
pub(crate) fn in_runtime() -> bool {
    CURRENT_RUNTIME.with(|cell| {
        let rt = cell.take();
        let inside = rt.is_some();
        cell.set(rt);
        inside
    })
}

/// Makes this thread a thread of `runtime`, with an activity counter of its own, until
/// the guard drops (which also removes the counter from the runtime).
pub(crate) fn enter(runtime: &Arc<RuntimeShared>) -> RuntimeGuard {
    let counter = runtime.registry.new_activity_counter();
    let activity = context::enter_activity(counter.clone());
    let previous = CURRENT_RUNTIME.with(|cell| cell.replace(Some(runtime.clone())));
    RuntimeGuard {
        runtime: runtime.clone(),
        counter,
        previous,
        _activity: activity,
    }
}

/// Restores the thread's previous runtime on drop.
pub(crate) struct RuntimeGuard {
    runtime: Arc<RuntimeShared>,
    counter: Arc<ActivityCounter>,
    previous: Option<Arc<RuntimeShared>>,
    _activity: ActivityGuard,
}

impl Drop for RuntimeGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT_RUNTIME.with(|cell| cell.set(previous));
        self.runtime.registry.remove_activity_counter(&self.counter);
    }
}
