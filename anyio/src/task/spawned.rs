//! A `spawn`ed child: one executor task (`os::raw_task`) holding the child's identity
//! and its future, which reports its own end to its group.
//!
//! The group keeps no slot for it, only a reference to its task in
//! `SharedChildren::spawned` (for `get_running_tasks`, and for waking it when the group's
//! cancellation changes) and a count (`GroupShared::spawned_live`) that it waits on. The
//! task ends without the group's lock: it marks itself `finished` and counts itself out
//! (a failure is recorded under the lock first). It wakes the group only when that
//! matters: its last spawned child ended, one failed, or enough ended to sweep.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::base::context::SpawnedTaskEnter;
use crate::base::lock::lock;
use crate::base::scope::{CancelOrigin, ScopeState};
use crate::base::task::{TaskDescription, TaskIdentity};
use crate::os::name::TaskName;
use crate::os::raw_task::{RawTask, TaskBody, TaskMeta};
use crate::runtime::executor::{Executor, Job};
use crate::task::group::GroupShared;
use crate::task::output::{ChildOutcome, TaskOutput};
use crate::task::root::deliver;

/// A spawned child's task: its identity (`ChildMeta`) and its future in one allocation.
pub(crate) type ChildTask = RawTask<ChildMeta>;

/// A spawned child's identity, in its task's header.
pub(crate) struct ChildMeta {
    pub(crate) group: Arc<GroupShared>,
    /// Where the task is queued when it is woken from a thread of another runtime, or
    /// of none.
    executor: Arc<Executor>,
    /// The task id, and `FINISHED` (one word: a flag of its own would take 8 bytes with
    /// its padding).
    id_finished: AtomicU64,
    pub(crate) name: TaskName,
}

/// In `ChildMeta::id_finished`: set when the child reported its end, or when its group
/// closed first; a child that finds it set at a poll drops its future without reporting.
/// (Task ids count up from 1 and never reach it.)
const FINISHED: u64 = 1 << 63;

impl ChildMeta {
    /// The identity of a new child of `group`, whose task is queued on `executor`.
    pub(crate) fn new(
        group: Arc<GroupShared>,
        executor: Arc<Executor>,
        id: u64,
        name: Cow<'static, str>,
    ) -> ChildMeta {
        debug_assert!(id & FINISHED == 0);
        ChildMeta {
            group,
            executor,
            id_finished: AtomicU64::new(id),
            name: name.into(),
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id_finished.load(Ordering::Relaxed) & !FINISHED
    }

    /// The executor the task is queued on.
    pub(crate) fn executor(&self) -> &Arc<Executor> {
        &self.executor
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.id_finished.load(Ordering::Acquire) & FINISHED != 0
    }

    /// Marks the child finished; returns whether it was already.
    pub(crate) fn finish(&self) -> bool {
        self.id_finished.fetch_or(FINISHED, Ordering::AcqRel) & FINISHED != 0
    }
}

impl TaskMeta for ChildMeta {
    fn schedule(task: ChildTask) {
        // On a thread of the task's own runtime (the common case: the child woke itself,
        // or a sibling woke it), that runtime's executor is reached without touching the
        // reference count of the one in the task.
        let mut task = Some(task);
        crate::runtime::with_current_runtime(|runtime| {
            let ours = task
                .as_ref()
                .is_some_and(|task| Arc::ptr_eq(&runtime.executor, &task.executor));
            if ours && let Some(task) = task.take() {
                runtime.executor.push(Job::Child(task));
            }
        });
        if let Some(task) = task {
            let executor = task.executor.clone();
            executor.push(Job::Child(task));
        }
    }
}

impl TaskIdentity for ChildTask {
    fn id(&self) -> u64 {
        ChildMeta::id(self)
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn parent_id(&self) -> Option<u64> {
        let host = self.group.host_task.load(Ordering::Acquire);
        (host != 0).then_some(host)
    }

    fn describe(&self) -> TaskDescription {
        let state = if self.is_finished() {
            "finished"
        } else if self.is_scheduled() {
            "ready to run"
        } else {
            "waiting"
        };
        TaskDescription {
            state: Some(state),
            scopes: self.group.scope.describe_chain(),
        }
    }
}

pin_project! {
    /// What a spawned child's task runs: the child's future, in its task and its group's
    /// scope, under the delivery protocol; then the report to the group.
    ///
    /// Invariant: the child is counted in its group's `spawned_live` until `report` runs,
    /// which happens exactly once (guarded by `FINISHED`): at the future's
    /// end, or when the task is abandoned (the executor dropped it unrun). A child whose
    /// group closed first finds `FINISHED` set: it drops its future at its next poll, and
    /// reports nothing.
    pub(crate) struct SpawnedBody<F> {
        #[pin]
        future: Option<F>,
        // The group's scope, lent to the thread context during a poll (the slot then
        // holds the scope that was current).
        parent: Option<Arc<ScopeState>>,
    }
}

impl<F> SpawnedBody<F> {
    /// The body of a child of the group whose scope is `scope`.
    pub(crate) fn new(future: F, scope: Arc<ScopeState>) -> Self {
        SpawnedBody {
            future: Some(future),
            parent: Some(scope),
        }
    }
}

impl<F> TaskBody<ChildMeta> for SpawnedBody<F>
where
    F: Future + Send + 'static,
    F::Output: TaskOutput,
{
    fn poll(self: Pin<&mut Self>, task: &mut Option<ChildTask>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let meta = task.as_ref().expect("the runner lends the task");
        if meta.is_finished() {
            // The group is gone: the future is dropped with this body.
            return Poll::Ready(());
        }
        let id = meta.id();
        let poll = {
            let (_enter, cancelled) = SpawnedTaskEnter::new(id, task, this.parent);
            deliver(this.future, cx, cancelled)
        };
        match poll {
            Poll::Ready(outcome) => {
                report(task.as_ref().expect("the task is back"), outcome);
                Poll::Ready(())
            }
            // A change of the group's cancellation wakes this task through the group's
            // list (a wake during this poll makes the runner poll it again).
            Poll::Pending => Poll::Pending,
        }
    }

    fn abandon(self: Pin<&mut Self>, meta: &ChildMeta) {
        report(meta, ChildOutcome::Cancelled);
    }
}

/// Whenever the count of live spawned children falls to a multiple of this, the group is
/// woken to sweep the ended ones out of its list (so a group that sleeps while its
/// children end does not hold their tasks until it wakes).
const SWEEP_EVERY: usize = 256;

/// Records the child's outcome and counts it out of its group (the list drops its task
/// at the next sweep); cancels the group if the child failed, and wakes it if this was
/// its last spawned child.
fn report(meta: &ChildMeta, outcome: ChildOutcome) {
    if meta.finish() {
        // The group closed first: nobody waits for the report.
        return;
    }
    let group: &GroupShared = &meta.group;
    let failed = match outcome {
        ChildOutcome::Done => false,
        // Recorded before the count below, which the group's last look reads first.
        outcome => lock(&group.children).reported.record(outcome),
    };
    let live = group.spawned_live.fetch_sub(1, Ordering::AcqRel) - 1;
    if failed {
        // Wakes the group too.
        group.scope.cancel(CancelOrigin::Explicit, None);
    }
    if live == 0 || live % SWEEP_EVERY == 0 {
        group.scope.waker.wake();
    }
}
