//! Per-thread context: which task and cancel scope the code being polled belongs to.
//!
//! Every value here is set around a poll and restored after it (by a guard, so that a
//! panicking poll restores it too). Nothing here is shared between threads: a future
//! that moves to another thread finds that thread's context set by the root that polls
//! it. All of it lives in one thread-local, so a poll pays for one lookup.

use std::cell::{Cell, OnceCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::base::coop;
use crate::base::scope::{ScopeState, effectively_cancelled};
use crate::base::task::{CurrentTask, TaskInfo};

struct Context {
    /// The innermost cancel scope whose body is being polled on this thread, if any.
    scope: Cell<Option<Arc<ScopeState>>>,
    /// Set by a future that returns `Pending` while shielded work inside it is still
    /// running (a shielded scope's body, a task group with live children,
    /// `cancel_shielded_checkpoint`). A delivering scope does not drop a body that
    /// returned `Pending` with this flag set. Each wrapper saves, clears and restores it
    /// around its own poll.
    pending_under_shield: Cell<bool>,
    /// The id of the task being polled (0 outside any anyio task).
    task_id: Cell<u64>,
    /// The identity of the task being polled; moved in by its root for the poll and
    /// moved back out after it, so that reading it needs no registry.
    task: Cell<Option<CurrentTask>>,
    /// Ready operations the current task may still complete before it must yield
    /// (see `coop`).
    budget: Cell<u16>,
    /// Set when a `wait_all_tasks_blocked` future is polled; each activity unit saves,
    /// clears and folds it back, to learn whether it polled a waiter.
    waiter_polled: Cell<bool>,
    /// This thread's activity counter, read by `wait_all_tasks_blocked` through the
    /// registry of each runtime the thread serves. One per thread, for the thread's
    /// life, created when it first enters a runtime.
    activity: OnceCell<Arc<ActivityCounter>>,
    /// The scope state a finished scope wrapper gave back last, unshared and reset: the
    /// next wrapper takes it (see `cancel::scope`'s pool, which holds any others).
    spare_scope: Cell<Option<Arc<ScopeState>>>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            scope: Cell::new(None),
            pending_under_shield: Cell::new(false),
            task_id: Cell::new(0),
            task: Cell::new(None),
            budget: Cell::new(coop::UNCONSTRAINED),
            waiter_polled: Cell::new(false),
            activity: OnceCell::new(),
            spare_scope: Cell::new(None),
        }
    };
}

/// Runs `f` with a borrow of the value in `cell`, which is put back afterwards.
#[inline]
pub(crate) fn peek<T, R>(cell: &Cell<Option<T>>, f: impl FnOnce(Option<&T>) -> R) -> R {
    let value = cell.take();
    // Restored before `f`'s result is returned; `f` cannot re-enter a poll.
    let result = f(value.as_ref());
    cell.set(value);
    result
}

/// Takes the spare scope state, if there is one.
#[inline]
pub(crate) fn take_spare_scope() -> Option<Arc<ScopeState>> {
    CONTEXT.with(|cx| cx.spare_scope.take())
}

/// Takes the spare scope state, if there is one, and clones the current scope, in one
/// visit of the thread-local (a timeout wrapper's first poll).
#[inline]
pub(crate) fn take_spare_scope_and_current() -> (Option<Arc<ScopeState>>, Option<Arc<ScopeState>>) {
    CONTEXT.with(|cx| (cx.spare_scope.take(), peek(&cx.scope, |s| s.cloned())))
}

/// Keeps `state` (unshared and reset) as the spare; returns the one it displaced.
#[inline]
pub(crate) fn put_spare_scope(state: Arc<ScopeState>) -> Option<Arc<ScopeState>> {
    CONTEXT.with(|cx| cx.spare_scope.replace(Some(state)))
}

/// Runs `f` with a borrow of the current scope.
#[inline]
pub(crate) fn with_current_scope<R>(f: impl FnOnce(Option<&Arc<ScopeState>>) -> R) -> R {
    CONTEXT.with(|cx| peek(&cx.scope, f))
}

/// A clone of the current scope handle.
#[inline]
pub(crate) fn current_scope() -> Option<Arc<ScopeState>> {
    with_current_scope(|scope| scope.cloned())
}

/// Marks the future being polled as pending inside shielded work.
#[inline]
pub(crate) fn set_pending_under_shield() {
    CONTEXT.with(|cx| cx.pending_under_shield.set(true));
}

/// Clears the shield flag before polling a body again.
#[inline]
pub(crate) fn clear_pending_under_shield() {
    CONTEXT.with(|cx| cx.pending_under_shield.set(false));
}

/// Whether the innermost enclosing wrapper's body reported shielded pending work so far.
#[inline]
pub(crate) fn pending_under_shield() -> bool {
    CONTEXT.with(|cx| cx.pending_under_shield.get())
}

/// The id of the task being polled on this thread (0 outside any anyio task).
#[inline]
pub(crate) fn current_task_id() -> u64 {
    CONTEXT.with(|cx| cx.task_id.get())
}

/// The info of the task being polled on this thread, in O(1).
pub(crate) fn current_task_info() -> Option<TaskInfo> {
    CONTEXT.with(|cx| peek(&cx.task, |task| task.map(|task| task.identity().info())))
}

/// The name of the task being polled on this thread, in O(1).
pub(crate) fn current_task_name() -> Option<String> {
    CONTEXT.with(|cx| {
        peek(&cx.task, |task| {
            task.map(|task| task.identity().name().to_owned())
        })
    })
}

/// The current scope and the budget cell, in one visit of the thread-local (the start
/// of every operation reads both).
#[inline]
pub(crate) fn with_scope_and_budget<R>(
    f: impl FnOnce(Option<&Arc<ScopeState>>, &Cell<u16>) -> R,
) -> R {
    CONTEXT.with(|cx| peek(&cx.scope, |scope| f(scope, &cx.budget)))
}

/// Makes `scope` current and clears the shield flag; returns what they were.
#[inline]
fn enter_scope(scope: Option<Arc<ScopeState>>) -> (Option<Arc<ScopeState>>, bool) {
    CONTEXT.with(|cx| {
        (
            cx.scope.replace(scope),
            cx.pending_under_shield.replace(false),
        )
    })
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
        let (previous, saved_flag) = enter_scope(scope);
        ScopeEnter {
            previous,
            saved_flag,
            report_shielded: false,
        }
    }
}

impl Drop for ScopeEnter {
    #[inline]
    fn drop(&mut self) {
        let report = self.saved_flag || self.report_shielded;
        let previous = self.previous.take();
        CONTEXT.with(|cx| {
            cx.scope.set(previous);
            cx.pending_under_shield.set(report);
        });
    }
}

/// Like `ScopeEnter` for a scope that its owner keeps in `slot` (a spawned task's parent
/// scope, a scope wrapper's own scope): the `Arc` moves into the thread context for the
/// poll and back on drop, with no reference count traffic; meanwhile the slot holds the
/// scope that was current.
pub(crate) struct ScopeLend<'a> {
    slot: &'a mut Option<Arc<ScopeState>>,
    saved_flag: bool,
    returned: bool,
}

impl<'a> ScopeLend<'a> {
    #[inline]
    pub(crate) fn new(slot: &'a mut Option<Arc<ScopeState>>) -> ScopeLend<'a> {
        let (previous, saved_flag) = enter_scope(slot.take());
        *slot = previous;
        ScopeLend {
            slot,
            saved_flag,
            returned: false,
        }
    }

    /// Gives the scope back now; returns the pending-under-shield flag the body left.
    #[inline]
    pub(crate) fn give_back(mut self) -> bool {
        self.restore()
    }

    #[inline]
    fn restore(&mut self) -> bool {
        self.returned = true;
        let previous = self.slot.take();
        let saved_flag = self.saved_flag;
        let (lent, body_flag) = CONTEXT.with(|cx| {
            (
                cx.scope.replace(previous),
                cx.pending_under_shield.replace(saved_flag),
            )
        });
        *self.slot = lent;
        body_flag
    }
}

impl Drop for ScopeLend<'_> {
    #[inline]
    fn drop(&mut self) {
        if !self.returned {
            self.restore();
        }
    }
}

/// Marks the thread as polling a task (a task root or the main task) until dropped: its
/// id and identity are current, it gets a fresh cooperative budget, and the poll counts
/// as activity for `wait_all_tasks_blocked`.
///
/// The identity moves from the root's slot into the thread-local for the poll (no
/// reference count changes) and back on drop; meanwhile the slot holds the value of the
/// task this one is nested in (a group child is polled inside its host's poll).
pub(crate) struct TaskEnter<'a> {
    slot: &'a mut Option<CurrentTask>,
    previous_id: u64,
    previous_budget: u16,
    /// As in `Activity` (which this inlines, to touch the thread-local once per poll).
    saved_waiter: bool,
}

impl<'a> TaskEnter<'a> {
    /// Enters task `id`, whose identity is in `slot`.
    #[inline]
    pub(crate) fn new(id: u64, slot: &'a mut Option<CurrentTask>) -> TaskEnter<'a> {
        let identity = slot.take();
        let (previous_id, previous_budget, previous, saved_waiter) = CONTEXT.with(|cx| {
            (
                cx.task_id.replace(id),
                cx.budget.replace(coop::BUDGET),
                cx.task.replace(identity),
                cx.begin_activity(),
            )
        });
        *slot = previous;
        TaskEnter {
            slot,
            previous_id,
            previous_budget,
            saved_waiter,
        }
    }
}

impl Drop for TaskEnter<'_> {
    #[inline]
    fn drop(&mut self) {
        let previous = self.slot.take();
        let identity = CONTEXT.with(|cx| {
            cx.end_activity(self.saved_waiter);
            cx.task_id.set(self.previous_id);
            cx.budget.set(self.previous_budget);
            cx.task.replace(previous)
        });
        *self.slot = identity;
    }
}

/// `TaskEnter` and `ScopeLend` in one visit of the thread-local, for a task polled by the
/// executor under a parent scope of its own (a spawned child): its task reference and its
/// parent scope move into the context for the poll and back on drop.
pub(crate) struct SpawnedTaskEnter<'a> {
    task: &'a mut Option<crate::task::spawned::ChildTask>,
    scope: &'a mut Option<Arc<ScopeState>>,
    previous_task: Option<CurrentTask>,
    previous_id: u64,
    previous_budget: u16,
    saved_waiter: bool,
    saved_flag: bool,
}

impl<'a> SpawnedTaskEnter<'a> {
    /// Enters task `id` with its task reference and parent scope; also returns whether
    /// the task is effectively cancelled (read before the poll, for the delivery
    /// protocol).
    #[inline]
    pub(crate) fn new(
        id: u64,
        task: &'a mut Option<crate::task::spawned::ChildTask>,
        scope: &'a mut Option<Arc<ScopeState>>,
    ) -> (SpawnedTaskEnter<'a>, bool) {
        let cancelled = effectively_cancelled(scope.as_ref());
        let (current, lent) = (task.take().map(CurrentTask::Spawned), scope.take());
        let (previous_id, previous_budget, previous_task, saved_waiter, previous_scope, saved_flag) =
            CONTEXT.with(|cx| {
                (
                    cx.task_id.replace(id),
                    cx.budget.replace(coop::BUDGET),
                    cx.task.replace(current),
                    cx.begin_activity(),
                    cx.scope.replace(lent),
                    cx.pending_under_shield.replace(false),
                )
            });
        *scope = previous_scope;
        let enter = SpawnedTaskEnter {
            task,
            scope,
            previous_task,
            previous_id,
            previous_budget,
            saved_waiter,
            saved_flag,
        };
        (enter, cancelled)
    }
}

impl Drop for SpawnedTaskEnter<'_> {
    #[inline]
    fn drop(&mut self) {
        let (previous_task, previous_scope) = (self.previous_task.take(), self.scope.take());
        let (current, lent) = CONTEXT.with(|cx| {
            cx.end_activity(self.saved_waiter);
            cx.task_id.set(self.previous_id);
            cx.budget.set(self.previous_budget);
            cx.pending_under_shield.set(self.saved_flag);
            (
                cx.task.replace(previous_task),
                cx.scope.replace(previous_scope),
            )
        });
        *self.task = match current {
            Some(CurrentTask::Spawned(task)) => Some(task),
            // The value put there by `new` comes back (the context is restored in order).
            _ => unreachable!("a spawned task's reference comes back from the thread context"),
        };
        *self.scope = lent;
    }
}

/// Before a local task's poll (in its group's scope): clears the pending-under-shield
/// flag and reads whether the task is effectively cancelled (one visit).
#[inline]
pub(crate) fn begin_task_poll() -> bool {
    CONTEXT.with(|cx| {
        cx.pending_under_shield.set(false);
        peek(&cx.scope, effectively_cancelled)
    })
}

/// After a body returned `Pending`: its pending-under-shield flag, and whether the
/// current scope is effectively cancelled now (one visit of the thread-local).
#[inline]
pub(crate) fn after_pending_state() -> (bool, bool) {
    CONTEXT.with(|cx| {
        (
            cx.pending_under_shield.get(),
            peek(&cx.scope, effectively_cancelled),
        )
    })
}

/// Counts one thread's task activity, for `wait_all_tasks_blocked`. Only its own
/// thread writes it; any thread reads it.
#[derive(Debug, Default)]
pub(crate) struct ActivityCounter {
    /// Activity units in progress on the thread (nested: a group child's poll runs
    /// inside its host's). Non-zero while a poll is under way, however long it takes.
    active: AtomicU64,
    /// Activity units finished on the thread that did not poll a waiter.
    polls: AtomicU64,
}

impl ActivityCounter {
    /// Whether a poll is under way on the counter's thread.
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire) != 0
    }

    /// Finished activity units so far.
    pub(crate) fn polls(&self) -> u64 {
        self.polls.load(Ordering::Acquire)
    }
}

/// This thread's activity counter (created at the first call).
pub(crate) fn thread_activity_counter() -> Arc<ActivityCounter> {
    CONTEXT.with(|cx| cx.activity.get_or_init(Arc::default).clone())
}

/// Whether `counter` is this thread's activity counter.
pub(crate) fn is_current_activity(counter: &Arc<ActivityCounter>) -> bool {
    CONTEXT.with(|cx| cx.activity.get().is_some_and(|c| Arc::ptr_eq(c, counter)))
}

/// One unit of task activity (a task-root poll or a group-body poll). While it runs, its
/// thread counts as active; when it ends, it counts as a poll unless a
/// `wait_all_tasks_blocked` waiter was polled inside it: waiters are blocked by
/// definition, and so is the code that only polled them.
pub(crate) struct Activity {
    saved_waiter: bool,
}

impl Activity {
    /// Starts an activity unit (a group-body poll; task polls use `TaskEnter`).
    #[inline]
    pub(crate) fn new() -> Activity {
        Activity {
            saved_waiter: CONTEXT.with(Context::begin_activity),
        }
    }
}

impl Drop for Activity {
    #[inline]
    fn drop(&mut self) {
        CONTEXT.with(|cx| cx.end_activity(self.saved_waiter));
    }
}

impl Context {
    /// Starts an activity unit: marks the thread active; returns the saved waiter flag.
    #[inline]
    fn begin_activity(&self) -> bool {
        if let Some(counter) = self.activity.get() {
            // Single writer: a load and a store suffice.
            let active = counter.active.load(Ordering::Relaxed);
            counter.active.store(active + 1, Ordering::Release);
        }
        self.waiter_polled.replace(false)
    }

    /// Ends an activity unit started by `begin_activity`.
    #[inline]
    fn end_activity(&self, saved_waiter: bool) {
        let waiter = self.waiter_polled.get();
        if let Some(counter) = self.activity.get() {
            // The poll is counted before the thread stops being active, so a reader
            // that sees it idle also sees the poll.
            if !waiter {
                let polls = counter.polls.load(Ordering::Relaxed);
                counter.polls.store(polls + 1, Ordering::Release);
            }
            // Units end in the reverse order they started, so those that started before
            // the thread had a counter (it may enter its first runtime in the middle of
            // a poll) end when every counted one has: at zero, they lower nothing.
            let active = counter.active.load(Ordering::Relaxed);
            if active != 0 {
                counter.active.store(active - 1, Ordering::Release);
            }
        }
        self.waiter_polled.set(saved_waiter || waiter);
    }
}

/// Records that a `wait_all_tasks_blocked` waiter is being polled.
pub(crate) fn mark_waiter_polled() {
    CONTEXT.with(|cx| cx.waiter_polled.set(true));
}
