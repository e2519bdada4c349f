//! `TaskStatus` and the readiness handshake behind `TaskGroup::start`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;
use pin_project_lite::pin_project;

use crate::CancelScope;
use crate::base::lock::lock;
use crate::base::scope::cancel_reason;
use crate::cancel::CancelScopeRun;
use crate::error::{Error, ErrorKind, Result};
use crate::task::children::ChildRef;
use crate::task::group::GroupShared;
use crate::task::output::TaskOutput;

/// The handle through which a child started with
/// [`TaskGroup::start`](crate::TaskGroup::start) reports that it is ready.
///
/// `started` consumes the status, so it can be called at most once. Dropping the status
/// without calling it leaves `start` waiting until the child ends, which then reports
/// an error.
///
/// # Examples
///
/// ```
/// use anyio::TaskStatus;
///
/// async fn serve(status: TaskStatus<&'static str>) {
///     status.started("listening");
///     anyio::sleep(0.001).await;
/// }
///
/// # anyio::run(async {
/// anyio::task_group!(|tg| {
///     assert_eq!(tg.start(serve).await?, "listening");
///     anyio::Result::Ok(())
/// })
/// .unwrap();
/// # });
/// ```
pub struct TaskStatus<V> {
    handshake: Arc<Handshake<V>>,
}

impl<V> fmt::Debug for TaskStatus<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskStatus").finish_non_exhaustive()
    }
}

impl<V> TaskStatus<V> {
    /// The handshake behind this status, to tell later whether `started` was called.
    pub(crate) fn handshake(&self) -> Arc<Handshake<V>> {
        self.handshake.clone()
    }

    /// Reports readiness: the waiting `start` call returns `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    ///
    /// # anyio::run(async {
    /// let served = &AtomicBool::new(false);
    /// anyio::task_group!(|tg| {
    ///     let greeting = tg.start(|status| async move {
    ///         status.started("ready"); // `start` returns "ready"...
    ///         anyio::sleep(0.001).await;
    ///         served.store(true, SeqCst); // ...and the child goes on
    ///     });
    ///     assert_eq!(greeting.await.unwrap(), "ready");
    /// })?;
    /// assert!(served.load(SeqCst));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn started(self, value: V) {
        if let Some(node) = self.handshake.node.get() {
            // From now on the child belongs to the group: its parent is the group's host.
            node.parent.store(0, Ordering::Release);
        }
        let mut state = self.handshake.lock();
        match std::mem::replace(&mut *state, State::Taken) {
            State::Waiting => *state = State::Started(value),
            // The caller of `start` went away: nobody wants the value.
            other => *state = other,
        }
        drop(state);
        self.handshake.waker.wake();
    }
}

/// The shared state of one `start` call.
pub(crate) struct Handshake<V> {
    state: Mutex<State<V>>,
    /// The waker of the task waiting in `start`.
    waker: AtomicWaker,
    /// The child's node, set by `start` right after adding the child (before the child
    /// is first polled).
    node: OnceLock<ChildRef>,
}

enum State<V> {
    /// The child has not reported yet.
    Waiting,
    /// `started` was called; the value waits for the caller.
    Started(V),
    /// The child ended before `started`; the error waits for the caller.
    Failed(Error),
    /// The caller took the outcome, or went away (see `Abandoned`).
    Taken,
    /// The caller of `start` was dropped before the child reported: a failure of the
    /// child now goes to the group.
    Abandoned,
}

impl<V> Handshake<V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<V>> {
        lock(&self.state)
    }

    /// Records the child's node, so that `started` can hand the child to the group.
    pub(crate) fn set_node(&self, node: ChildRef) {
        let _ = self.node.set(node);
    }

    /// The child ended before `started` with `error`; returns it back if the caller is
    /// gone (so that the group reports it).
    fn fail(&self, error: Error) -> Option<Error> {
        let mut state = self.lock();
        match &*state {
            State::Waiting => {
                *state = State::Failed(error);
                drop(state);
                self.waker.wake();
                None
            }
            State::Abandoned => Some(error),
            // Already started: this is an ordinary failure of the group.
            _ => Some(error),
        }
    }

    /// Whether the child has neither called `started` nor ended.
    pub(crate) fn is_waiting(&self) -> bool {
        matches!(*self.lock(), State::Waiting)
    }
}

/// A new handshake: the status for the child, the shared state for the caller.
pub(crate) fn handshake<V>() -> (TaskStatus<V>, Arc<Handshake<V>>) {
    let handshake = Arc::new(Handshake {
        state: Mutex::new(State::Waiting),
        waker: AtomicWaker::new(),
        node: OnceLock::new(),
    });
    (
        TaskStatus {
            handshake: handshake.clone(),
        },
        handshake,
    )
}

pin_project! {
    /// The child of a `start` call: its body in a scope of its own, and the handshake.
    pub(crate) struct StartChild<F: Future, V> {
        #[pin]
        run: CancelScopeRun<F>,
        handshake: Arc<Handshake<V>>,
    }

    impl<F: Future, V> PinnedDrop for StartChild<F, V> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped (cancelled by its group) before reporting: tell the caller.
            let this = this.project();
            if this.handshake.is_waiting() {
                let _ = this.handshake.fail(cancelled_before_started());
            }
        }
    }
}

impl<F: Future, V> StartChild<F, V> {
    pub(crate) fn new(run: CancelScopeRun<F>, handshake: Arc<Handshake<V>>) -> Self {
        StartChild { run, handshake }
    }
}

/// The error for a child cancelled before `started`, with the reason of the cancel
/// (the child runs inside its group's scope, so the current scope leads to it).
fn cancelled_before_started() -> Error {
    let mut message =
        "the task started with TaskGroup::start was cancelled before it called started()"
            .to_owned();
    if let Some(reason) = crate::base::context::with_current_scope(cancel_reason) {
        message.push_str(": ");
        message.push_str(&reason);
    }
    Error::new(ErrorKind::Cancelled, message)
}

impl<F, V> Future for StartChild<F, V>
where
    F: Future,
    F::Output: TaskOutput,
{
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.project();
        let output = match this.run.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(output) => output,
        };
        let waiting = this.handshake.is_waiting();
        let result = match output {
            // A cancellation is never a failure, whoever waits.
            None => {
                if waiting {
                    let _ = this.handshake.fail(cancelled_before_started());
                }
                Ok(())
            }
            Some(output) => match output.into_result() {
                Ok(_) if waiting => {
                    let error = Error::new(
                        ErrorKind::Other,
                        "the task started with TaskGroup::start exited without calling \
                         started()",
                    );
                    // Reported to the caller of `start`, or dropped with it.
                    let _ = this.handshake.fail(error);
                    Ok(())
                }
                Ok(_) => Ok(()),
                Err(error) => this.handshake.fail(error).map_or(Ok(()), Err),
            },
        };
        Poll::Ready(result)
    }
}

/// Cancels the child of a `start` call if the caller goes away before it reported; if
/// the child had already failed and the caller went away without taking the error, the
/// error goes to the group (errors are never lost).
pub(crate) struct AbandonOnDrop<V> {
    scope: CancelScope,
    handshake: Arc<Handshake<V>>,
    group: Arc<GroupShared>,
}

impl<V> AbandonOnDrop<V> {
    pub(crate) fn new(
        scope: CancelScope,
        handshake: Arc<Handshake<V>>,
        group: Arc<GroupShared>,
    ) -> Self {
        AbandonOnDrop {
            scope,
            handshake,
            group,
        }
    }
}

impl<V> Drop for AbandonOnDrop<V> {
    fn drop(&mut self) {
        let mut state = self.handshake.lock();
        match std::mem::replace(&mut *state, State::Taken) {
            State::Waiting => {
                *state = State::Abandoned;
                drop(state);
                self.scope.cancel();
            }
            State::Failed(error) => {
                drop(state);
                self.group.report_orphaned_failure(error);
            }
            other => *state = other,
        }
    }
}

/// Waits for the child of a `start` call to report.
pub(crate) struct WaitStarted<V> {
    handshake: Arc<Handshake<V>>,
}

impl<V> WaitStarted<V> {
    pub(crate) fn new(handshake: Arc<Handshake<V>>) -> Self {
        WaitStarted { handshake }
    }
}

impl<V> Future for WaitStarted<V> {
    type Output = Result<V>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<V>> {
        // An outcome already there is returned even in a cancelled scope (the child's
        // error must not be dropped with the caller); while waiting, a cancelled caller
        // just stays pending, to be dropped by its scope.
        self.handshake.waker.register(cx.waker());
        let mut state = self.handshake.lock();
        match std::mem::replace(&mut *state, State::Taken) {
            State::Started(value) => Poll::Ready(Ok(value)),
            State::Failed(error) => Poll::Ready(Err(error)),
            State::Waiting => {
                *state = State::Waiting;
                Poll::Pending
            }
            other => {
                *state = other;
                Poll::Pending
            }
        }
    }
}
