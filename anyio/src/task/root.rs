//! The root of a child task: runs the task's future and delivers any cancellation of
//! the task by dropping the future at its next suspension point.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::base::context;
use crate::cancel::deliver::{DeliveryPoll, Verdict};
use crate::task::output::{ChildOutcome, TaskOutput, drop_contained};

pin_project! {
    /// Polls a local child's future (`start_soon`, `start`) inside its task, which its
    /// group enters, and in its group's scope, which is current there; delivers the
    /// task's cancellation. (A spawned child's task body, `SpawnedBody`, enters
    /// its task and scope itself and runs the same `deliver`.)
    pub(crate) struct TaskRoot<F> {
        #[pin]
        future: Option<F>,
    }
}

impl<F> TaskRoot<F>
where
    F: Future,
    F::Output: TaskOutput,
{
    pub(crate) fn new(future: F) -> TaskRoot<F> {
        TaskRoot {
            future: Some(future),
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
        let cancelled = context::begin_task_poll();
        deliver(self.project().future, cx, cancelled)
    }
}

/// One poll of a task's future under the delivery protocol (`cancel/deliver.rs`): polls
/// it until it is ready, or waits, or a cancellation drops it at a suspension point.
/// `cancelled`: whether the task was effectively cancelled as the poll began (with the
/// pending-under-shield flag clear); the current scope is the task's meanwhile.
pub(crate) fn deliver<F>(
    mut future: Pin<&mut Option<F>>,
    cx: &mut Context<'_>,
    mut cancelled: bool,
) -> Poll<ChildOutcome>
where
    F: Future,
    F::Output: TaskOutput,
{
    loop {
        let delivery = DeliveryPoll::begin(cancelled);
        let Some(body) = future.as_mut().as_pin_mut() else {
            panic!("a task root was polled after it finished");
        };
        match catch_unwind(AssertUnwindSafe(|| body.poll(cx))) {
            Ok(Poll::Ready(output)) => {
                future.set(None);
                return Poll::Ready(ChildOutcome::from_output(output));
            }
            Err(payload) => {
                // Dropping a future that panicked may panic again; contain that too.
                let _ = drop_contained(future);
                return Poll::Ready(ChildOutcome::Panicked(payload));
            }
            Ok(Poll::Pending) => {
                let (shielded_work, cancelled_now) = context::after_pending_state();
                match delivery.after_pending(shielded_work, || cancelled_now) {
                    Verdict::Drop => {
                        return Poll::Ready(match drop_contained(future) {
                            Ok(()) => ChildOutcome::Cancelled,
                            Err(payload) => ChildOutcome::Panicked(payload),
                        });
                    }
                    Verdict::Repoll => {
                        context::clear_pending_under_shield();
                        cancelled = cancelled_now;
                    }
                    Verdict::Wait => return Poll::Pending,
                }
            }
        }
    }
}
