//! A `spawn`ed child as its group sees it: a handle on an executor task.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::cancel::deliver::CancelWatch;
use crate::lowlevel;
use crate::runtime::RuntimeShared;
use crate::task::children::ChildNode;
use crate::task::output::ChildOutcome;

/// Spawns the child's root onto the executor at its first poll, then waits for it.
///
/// The root runs on another thread, so the group's wake of this handle does not reach
/// it: the handle passes every change of the group's effective cancellation on to the
/// root through the node's `remote` waker (the delivery protocol's rule 3), in both directions.
pub(crate) struct SpawnedChild<F: Future + Send + 'static> {
    unspawned: Option<(Arc<RuntimeShared>, F)>,
    task: Option<async_executor::Task<ChildOutcome>>,
    /// The child's node, whose `remote` waker reaches the executor task.
    node: Arc<ChildNode>,
    watch: CancelWatch,
}

impl<F> SpawnedChild<F>
where
    F: Future<Output = ChildOutcome> + Send + 'static,
{
    pub(crate) fn new(runtime: Arc<RuntimeShared>, root: F, node: Arc<ChildNode>) -> Self {
        SpawnedChild {
            unspawned: Some((runtime, root)),
            task: None,
            node,
            watch: CancelWatch::default(),
        }
    }
}

impl<F> Future for SpawnedChild<F>
where
    F: Future<Output = ChildOutcome> + Send + 'static,
{
    type Output = ChildOutcome;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ChildOutcome> {
        // `SpawnedChild` is Unpin: it holds `F` unpinned until it moves into the task.
        let this = &mut *self;
        if let Some((runtime, root)) = this.unspawned.take() {
            this.task = Some(runtime.spawn(root));
        }
        if this.watch.changed(lowlevel::is_cancelled()) {
            this.node.remote.wake();
        }
        match this.task.as_mut() {
            Some(task) => Pin::new(task).poll(cx),
            None => Poll::Ready(ChildOutcome::Cancelled),
        }
    }
}

impl<F: Future + Send + 'static> Unpin for SpawnedChild<F> {}
