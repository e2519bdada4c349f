//! A `spawn`ed child: an executor task that reports its own end to its group.
//!
//! The group keeps no slot and no handle for it, only its node in
//! `SharedChildren::spawned` (for `get_running_tasks`, for waking it when the group's
//! cancellation changes, and for the count the group waits on). The task removes its
//! node and records its outcome itself, under one lock of the group's `children`, and
//! wakes the group only when that matters: its last spawned child ended, or one failed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::base::lock::lock;
use crate::base::scope::{CancelOrigin, effectively_cancelled};
use crate::task::children::ChildNode;
use crate::task::group::GroupShared;
use crate::task::output::ChildOutcome;

pin_project! {
    /// The executor's future of a spawned child: its root, and the report to the group.
    ///
    /// Invariant: the child's node is in its group's `spawned` list until `report` runs,
    /// which happens exactly once: at the root's end, or at the drop of a task that never
    /// ended (the executor dropped it). A child whose group closed first (the group's run
    /// future was dropped) finds its node `finished`: it drops its future at its next
    /// poll, and reports nothing.
    pub(crate) struct SpawnedTask<F> {
        #[pin]
        root: F,
        node: Arc<ChildNode>,
        reported: bool,
        // The executor task's waker is in `node.remote` (registered at the first
        // `Pending`; the waker of an executor task never changes).
        registered: bool,
    }

    impl<F> PinnedDrop for SpawnedTask<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.reported {
                report(this.node, ChildOutcome::Cancelled);
            }
        }
    }
}

impl<F> SpawnedTask<F>
where
    F: Future<Output = ChildOutcome>,
{
    /// `node` must be in its group's `spawned` list already.
    pub(crate) fn new(root: F, node: Arc<ChildNode>) -> Self {
        SpawnedTask {
            root,
            node,
            reported: false,
            registered: false,
        }
    }
}

impl<F> Future for SpawnedTask<F>
where
    F: Future<Output = ChildOutcome>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if this.node.finished.load(Ordering::Acquire) {
            // The group is gone: the executor drops the root (and the user's future)
            // when this returns.
            *this.reported = true;
            return Poll::Ready(());
        }
        // Before the first registration, a change of the group's cancellation wakes
        // nobody: remember what the root's first poll starts from, to compare below.
        let group_scope = &this.node.group.scope;
        let before = (!*this.registered).then(|| effectively_cancelled(Some(group_scope)));
        match this.root.poll(cx) {
            Poll::Ready(outcome) => {
                *this.reported = true;
                report(this.node, outcome);
                Poll::Ready(())
            }
            Poll::Pending => {
                if let Some(before) = before {
                    // Registered only once the task parks: a child that ends at its
                    // first poll never pays for it.
                    this.node.remote.register(cx.waker());
                    *this.registered = true;
                    if effectively_cancelled(Some(group_scope)) != before
                        || this.node.finished.load(Ordering::Acquire)
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

/// Takes the child's node out of its group's `spawned` list and records its outcome;
/// cancels the group if the child failed, and wakes it if this was its last spawned child.
fn report(node: &ChildNode, outcome: ChildOutcome) {
    let group: &GroupShared = &node.group;
    let (failed, last) = {
        let mut children = lock(&group.children);
        if node.finished.load(Ordering::Acquire) {
            // The group closed meanwhile (under this lock): nobody waits for the report.
            return;
        }
        node.finished.store(true, Ordering::Release);
        children.remove_spawned(node.key.load(Ordering::Acquire));
        let failed = children.reported.record(outcome);
        (failed, children.spawned_live == 0)
    };
    if failed {
        // Wakes the group too.
        group.scope.cancel(CancelOrigin::Explicit, None);
    }
    if last {
        group.scope.waker.wake();
    }
}
