//! The root of a child task: runs the task's future and delivers any
//! cancellation of the task by dropping the future at its next suspension point.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::base::context::{self, ScopeLend};
use crate::base::scope::{ScopeState, effectively_cancelled};
use crate::cancel::deliver::{DeliveryPoll, Verdict};
use crate::task::output::{ChildOutcome, TaskOutput, drop_contained};

pin_project! {
    /// Polls a child's future inside its task (which its group or its `SpawnedTask`
    /// enters), and delivers the task's cancellation.
    ///
    /// A child polled inside its group (`start_soon`) finds the group's scope already
    /// current. A child spawned onto the executor (`spawn`) carries the group's scope in
    /// `parent` (its `SpawnedTask` makes it wakeable by the group).
    pub(crate) struct TaskRoot<F> {
        #[pin]
        future: Option<F>,
        parent: Option<Arc<ScopeState>>,
    }
}

impl<F> TaskRoot<F>
where
    F: Future,
    F::Output: TaskOutput,
{
    /// A root polled by its group, inside the group's scope, as the task whose identity
    /// the group makes current around the poll.
    pub(crate) fn local(future: F) -> TaskRoot<F> {
        TaskRoot {
            future: Some(future),
            parent: None,
        }
    }

    /// A root polled by the executor (inside the task that its `SpawnedTask` enters),
    /// whose parent scope is the group's.
    pub(crate) fn spawned(future: F, parent: Arc<ScopeState>) -> TaskRoot<F> {
        TaskRoot {
            future: Some(future),
            parent: Some(parent),
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
        let _enter = this.parent.is_some().then(|| ScopeLend::new(this.parent));
        loop {
            let delivery = DeliveryPoll::begin(context::with_current_scope(effectively_cancelled));
            context::clear_pending_under_shield();
            let Some(future) = this.future.as_mut().as_pin_mut() else {
                panic!("a task root was polled after it finished");
            };
            match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                Ok(Poll::Ready(output)) => {
                    this.future.set(None);
                    return Poll::Ready(ChildOutcome::from_output(output));
                }
                Err(payload) => {
                    // Dropping a future that panicked may panic again; contain that too.
                    let _ = drop_contained(this.future);
                    return Poll::Ready(ChildOutcome::Panicked(payload));
                }
                Ok(Poll::Pending) => {
                    let verdict = delivery.after_pending(context::pending_under_shield(), || {
                        context::with_current_scope(effectively_cancelled)
                    });
                    match verdict {
                        Verdict::Drop => {
                            return Poll::Ready(match drop_contained(this.future) {
                                Ok(()) => ChildOutcome::Cancelled,
                                Err(payload) => ChildOutcome::Panicked(payload),
                            });
                        }
                        Verdict::Repoll => continue,
                        Verdict::Wait => return Poll::Pending,
                    }
                }
            }
        }
    }
}
