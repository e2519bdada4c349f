//! A `spawn`ed child: an executor task that reports its own end to its group.
//!
//! The group keeps no slot and no handle for it, only its node in
//! `SharedChildren::spawned` (for `get_running_tasks`, and for waking it when the group's
//! cancellation changes) and a count (`GroupShared::spawned_live`) that it waits on. The
//! task ends without the group's lock: it marks its node `finished` and counts itself
//! out (a failure is recorded under the lock first). It wakes the group only when that
//! matters: its last spawned child ended, one failed, or enough ended to sweep.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::base::context::SpawnedTaskEnter;
use crate::base::lock::lock;
use crate::base::scope::{CancelOrigin, ScopeState, effectively_cancelled};
use crate::base::task::TaskIdentity;
use crate::task::children::ChildNode;
use crate::task::group::GroupShared;
use crate::task::output::{ChildOutcome, TaskOutput};
use crate::task::root::deliver;

pin_project! {
    /// The executor's future of a spawned child: the child's future, run as its task in
    /// its group's scope under the delivery protocol, and the report to the group.
    ///
    /// Invariant: the child is counted in its group's `spawned_live` until `report`
    /// runs, which happens exactly once: at the future's end, or at the drop of a task
    /// that never ended (the executor dropped it). A child whose group closed first (the
    /// group's run future was dropped) finds its node `finished`: it drops its future at
    /// its next poll, and reports nothing.
    pub(crate) struct SpawnedTask<F> {
        #[pin]
        future: Option<F>,
        // The group's scope, lent to the thread context during a poll (the slot then
        // holds the scope that was current).
        parent: Option<Arc<ScopeState>>,
        node: Arc<ChildNode>,
        // The node again, as the task identity that moves into the thread context for a
        // poll (`None` meanwhile): a second reference, so that no downcast is needed to
        // get the node back after each poll.
        identity: Option<Arc<dyn TaskIdentity>>,
        reported: bool,
        // The executor task's waker is in `node.remote` (registered at the first
        // `Pending`; the waker of an executor task never changes).
        registered: bool,
    }

    impl<F> PinnedDrop for SpawnedTask<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.reported {
                report(this.node, ChildOutcome::Cancelled, *this.registered);
            }
        }
    }
}

impl<F> SpawnedTask<F>
where
    F: Future,
    F::Output: TaskOutput,
{
    /// `node` must be listed and counted in its group already (`insert_spawned`).
    pub(crate) fn new(future: F, node: Arc<ChildNode>) -> Self {
        SpawnedTask {
            future: Some(future),
            parent: Some(node.group.scope.clone()),
            identity: Some(node.clone()),
            node,
            reported: false,
            registered: false,
        }
    }
}

impl<F> Future for SpawnedTask<F>
where
    F: Future,
    F::Output: TaskOutput,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let node = &**this.node;
        if node.finished.load(Ordering::Acquire) {
            // The group is gone: the executor drops this future (and the child's) when
            // this returns.
            *this.reported = true;
            return Poll::Ready(());
        }
        let (poll, started_cancelled) = {
            let (_enter, cancelled) = SpawnedTaskEnter::new(node.id, this.identity, this.parent);
            (deliver(this.future, cx, cancelled), cancelled)
        };
        match poll {
            Poll::Ready(outcome) => {
                *this.reported = true;
                report(node, outcome, *this.registered);
                Poll::Ready(())
            }
            Poll::Pending => {
                if !*this.registered {
                    // Registered only once the task parks: a child that ends at its
                    // first poll never pays for it. Before this, a change of the group's
                    // cancellation woke nobody: compare with what the poll started from.
                    node.remote.register(cx.waker());
                    *this.registered = true;
                    if effectively_cancelled(Some(&node.group.scope)) != started_cancelled
                        || node.finished.load(Ordering::Acquire)
                    {
                        // The cancellation changed, or the group closed, before the
                        // registration (the group's wake was lost): poll again.
                        cx.waker().wake_by_ref();
                    }
                }
                Poll::Pending
            }
        }
    }
}

/// Whenever the count of live spawned children falls to a multiple of this, the group is
/// woken to sweep the ended ones out of its list (so a group that sleeps while its
/// children end does not hold their nodes until it wakes).
const SWEEP_EVERY: usize = 1024;

/// Records the child's outcome and counts it out of its group (the list drops its node
/// at the next sweep); cancels the group if the child failed, and wakes it if this was
/// its last spawned child. `registered`: the node holds the executor task's waker.
fn report(node: &ChildNode, outcome: ChildOutcome, registered: bool) {
    if node.finished.swap(true, Ordering::AcqRel) {
        // The group closed first: nobody waits for the report.
        return;
    }
    if registered {
        // Frees the executor task's memory now rather than at the sweep.
        drop(node.remote.take());
    }
    let group: &GroupShared = &node.group;
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
