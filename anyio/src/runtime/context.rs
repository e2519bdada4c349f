//! Per-thread context: which runtime, task and cancel scope the code being polled belongs to.
//!
//! Every value here is set around a poll and restored after it (by a guard, so that a
//! panicking poll restores it too). Nothing here is shared between threads: a future
//! that moves to another thread finds that thread's context set by the root that polls it.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::cancel::state::ScopeState;
use crate::runtime::RuntimeShared;

thread_local! {
    /// The innermost cancel scope whose body is being polled on this thread, if any.
    static CURRENT_SCOPE: Cell<Option<Arc<ScopeState>>> = const { Cell::new(None) };

    /// Set by a future that returns `Pending` while shielded work inside it is still
    /// running (a shielded scope's body, a task group with live children,
    /// `cancel_shielded_checkpoint`). A delivering scope does not drop a body that
    /// returned `Pending` with this flag set. Each wrapper saves, clears and restores it
    /// around its own poll.
    static PENDING_UNDER_SHIELD: Cell<bool> = const { Cell::new(false) };

    /// The id of the task being polled on this thread (0 outside any anyio task).
    static CURRENT_TASK: Cell<u64> = const { Cell::new(0) };

    /// The runtime whose thread this is (the `block_on` thread or a worker).
    static CURRENT_RUNTIME: Cell<Option<Arc<RuntimeShared>>> = const { Cell::new(None) };

    /// Set when a `wait_all_tasks_blocked` future is polled; each activity unit saves,
    /// clears and folds it back, to learn whether it polled a waiter.
    static WAITER_POLLED: Cell<bool> = const { Cell::new(false) };

    /// Counts activity units (task-root polls, group-body polls) on this thread that did
    /// not poll a `wait_all_tasks_blocked` waiter; read by `wait_all_tasks_blocked`.
    static POLL_COUNTER: Cell<Option<Arc<AtomicU64>>> = const { Cell::new(None) };
}

/// Runs `f` with a borrow of the current scope.
#[inline]
pub(crate) fn with_current_scope<R>(f: impl FnOnce(Option<&Arc<ScopeState>>) -> R) -> R {
    CURRENT_SCOPE.with(|cell| {
        let scope = cell.take();
        // Restore before `f`'s result is returned; `f` cannot re-enter a poll.
        let result = f(scope.as_ref());
        cell.set(scope);
        result
    })
}

/// A clone of the current scope handle.
#[inline]
pub(crate) fn current_scope() -> Option<Arc<ScopeState>> {
    with_current_scope(|scope| scope.cloned())
}

/// Marks the future being polled as pending inside shielded work.
#[inline]
pub(crate) fn set_pending_under_shield() {
    PENDING_UNDER_SHIELD.with(|flag| flag.set(true));
}

/// Clears the shield flag before polling a body again.
#[inline]
pub(crate) fn clear_pending_under_shield() {
    PENDING_UNDER_SHIELD.with(|flag| flag.set(false));
}

/// Whether the innermost enclosing wrapper's body reported shielded pending work so far.
#[inline]
pub(crate) fn pending_under_shield() -> bool {
    PENDING_UNDER_SHIELD.with(Cell::get)
}

/// The id of the task being polled on this thread (0 outside any anyio task).
#[inline]
pub(crate) fn current_task_id() -> u64 {
    CURRENT_TASK.with(Cell::get)
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

/// Makes this thread a thread of `runtime` until the guard drops.
pub(crate) fn enter_runtime(runtime: Arc<RuntimeShared>, counter: Arc<AtomicU64>) -> RuntimeGuard {
    let previous_counter = POLL_COUNTER.with(|cell| cell.replace(Some(counter)));
    let previous = CURRENT_RUNTIME.with(|cell| cell.replace(Some(runtime)));
    RuntimeGuard {
        previous,
        previous_counter,
    }
}

/// Restores the thread's previous runtime on drop.
pub(crate) struct RuntimeGuard {
    previous: Option<Arc<RuntimeShared>>,
    previous_counter: Option<Arc<AtomicU64>>,
}

impl Drop for RuntimeGuard {
    fn drop(&mut self) {
        CURRENT_RUNTIME.with(|cell| cell.set(self.previous.take()));
        POLL_COUNTER.with(|cell| cell.set(self.previous_counter.take()));
    }
}

/// Sets the current scope and clears the shield flag for one poll of a scope's body;
/// restores both on drop, folding the body's flag into the saved one.
pub(crate) struct ScopeEnter {
    previous: Option<Arc<ScopeState>>,
    saved_flag: bool,
    /// The flag to report outward on restore, beyond the saved one.
    pub(crate) report_shielded: bool,
}

impl ScopeEnter {
    /// Enters `scope` (or no scope) for the duration of one poll.
    #[inline]
    pub(crate) fn new(scope: Option<Arc<ScopeState>>) -> ScopeEnter {
        let previous = CURRENT_SCOPE.with(|cell| cell.replace(scope));
        let saved_flag = PENDING_UNDER_SHIELD.with(|flag| flag.replace(false));
        ScopeEnter {
            previous,
            saved_flag,
            report_shielded: false,
        }
    }

    /// Clears the body's shield flag before polling it again in the same poll.
    #[inline]
    pub(crate) fn reset_flag(&self) {
        PENDING_UNDER_SHIELD.with(|flag| flag.set(false));
    }
}

impl Drop for ScopeEnter {
    #[inline]
    fn drop(&mut self) {
        CURRENT_SCOPE.with(|cell| cell.set(self.previous.take()));
        let report = self.saved_flag || self.report_shielded;
        PENDING_UNDER_SHIELD.with(|flag| flag.set(report));
    }
}

/// Marks the thread as polling the task `id` (a task root) until dropped.
pub(crate) struct TaskEnter {
    previous_task: u64,
    _activity: Activity,
}

impl TaskEnter {
    /// Enters task `id`; the poll counts as activity for `wait_all_tasks_blocked`.
    pub(crate) fn new(id: u64) -> TaskEnter {
        let _activity = Activity::new();
        let previous_task = CURRENT_TASK.with(|cell| cell.replace(id));
        TaskEnter {
            previous_task,
            _activity,
        }
    }
}

impl Drop for TaskEnter {
    fn drop(&mut self) {
        CURRENT_TASK.with(|cell| cell.set(self.previous_task));
    }
}

/// One unit of task activity (a task-root poll or a group-body poll). When it ends, it
/// counts as activity unless a `wait_all_tasks_blocked` waiter was polled inside it:
/// waiters are blocked by definition, and so is the code that only polled them.
pub(crate) struct Activity {
    saved_waiter: bool,
}

impl Activity {
    pub(crate) fn new() -> Activity {
        Activity {
            saved_waiter: WAITER_POLLED.with(|flag| flag.replace(false)),
        }
    }
}

impl Drop for Activity {
    fn drop(&mut self) {
        let waiter = WAITER_POLLED.with(Cell::get);
        if !waiter {
            POLL_COUNTER.with(|cell| {
                let counter = cell.take();
                if let Some(counter) = &counter {
                    // Only this thread writes its counter; readers want a fresh value only.
                    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                }
                cell.set(counter);
            });
        }
        WAITER_POLLED.with(|flag| flag.set(self.saved_waiter || waiter));
    }
}

/// Records that a `wait_all_tasks_blocked` waiter is being polled.
pub(crate) fn mark_waiter_polled() {
    WAITER_POLLED.with(|flag| flag.set(true));
}
