//! The root of a child task: runs the task's future as task `id` and delivers any
//! cancellation of the task by dropping the future at its next suspension point.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;
use pin_project_lite::pin_project;

use crate::cancel::state::{ScopeState, effectively_cancelled};
use crate::runtime::context::{self, ScopeEnter, TaskEnter};
use crate::task::output::{ChildOutcome, TaskOutput};

pin_project! {
    /// Polls a child's future as task `id`.
    ///
    /// A child polled inside its group (`start_soon`) finds the group's scope already
    /// current. A child spawned onto the executor (`spawn`) carries the group's scope in
    /// `parent` and registers its waker in `remote` so that the group can wake it when
    /// the group is cancelled.
    pub(crate) struct TaskRoot<F> {
        #[pin]
        future: Option<F>,
        id: u64,
        parent: Option<Arc<ScopeState>>,
        remote: Option<Arc<AtomicWaker>>,
    }
}

impl<F> TaskRoot<F>
where
    F: Future,
    F::Output: TaskOutput,
{
    /// A root polled by its group, inside the group's scope.
    pub(crate) fn local(future: F, id: u64) -> TaskRoot<F> {
        TaskRoot {
            future: Some(future),
            id,
            parent: None,
            remote: None,
        }
    }

    /// A root polled by the executor, whose parent scope is the group's.
    pub(crate) fn spawned(
        future: F,
        id: u64,
        parent: Arc<ScopeState>,
        remote: Arc<AtomicWaker>,
    ) -> TaskRoot<F> {
        TaskRoot {
            future: Some(future),
            id,
            parent: Some(parent),
            remote: Some(remote),
        }
    }
}

impl<F> Future for TaskRoot<F>
where
    F: Future,
    F::Output: TaskOutput,
{
    type Output = ChildOutcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ChildOutcome> {
        let mut this = self.project();
        let _task = TaskEnter::new(*this.id);
        let _enter = this
            .parent
            .as_ref()
            .map(|p| ScopeEnter::new(Some(p.clone())));
        if let Some(remote) = this.remote.as_ref() {
            remote.register(cx.waker());
        }
        loop {
            // As in a scope wrapper, only a poll that started cancelled may end in a drop.
            let cancelled = context::with_current_scope(effectively_cancelled);
            context::clear_pending_under_shield();
            let Some(future) = this.future.as_mut().as_pin_mut() else {
                panic!("a task root was polled after it finished");
            };
            let polled = catch_unwind(AssertUnwindSafe(|| future.poll(cx)));
            match polled {
                Ok(Poll::Ready(output)) => {
                    this.future.set(None);
                    return Poll::Ready(ChildOutcome::from_output(output));
                }
                Err(payload) => {
                    // Dropping a future that panicked may panic again; contain that too.
                    let _ = catch_unwind(AssertUnwindSafe(|| this.future.set(None)));
                    return Poll::Ready(ChildOutcome::Panicked(payload));
                }
                Ok(Poll::Pending) => {
                    let shielded_work = context::pending_under_shield();
                    if cancelled && !shielded_work {
                        this.future.set(None);
                        return Poll::Ready(ChildOutcome::Cancelled);
                    }
                    if !cancelled && context::with_current_scope(effectively_cancelled) {
                        continue;
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}
