//! `TaskHandle`: a child started with `TaskGroup::create_task`, seen from the code that
//! started it: its state, its name, a way to cancel just that child, and its result.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::CancelScope;
use crate::base::coop;
use crate::base::lock::lock;
use crate::error::{Error, ErrorKind, Result};

/// The state of a task started with [`TaskGroup::create_task`](crate::TaskGroup::create_task).
///
/// # Examples
///
/// ```
/// use anyio::TaskState;
///
/// # anyio::run(async {
/// anyio::task_group!(|tg| {
///     let handle = tg.create_task(async { anyio::Result::Ok(6) });
///     assert_eq!(handle.status(), TaskState::Pending);
///     handle.wait().await;
///     assert_eq!(handle.status(), TaskState::Finished);
/// })
/// .unwrap();
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Started, not yet ended.
    Pending,
    /// Ended with a value.
    Finished,
    /// [`TaskHandle::cancel`] was called; the task has not ended yet.
    Cancelling,
    /// Ended by a cancellation (of the handle, or of its group).
    Cancelled,
    /// Ended with an error or a panic (which its group reports too).
    Failed,
}

/// How the task ended, as the handle keeps it.
enum Outcome<T> {
    Running,
    /// The value, until the handle's await takes it.
    Finished(Option<T>),
    Cancelled,
    /// What failed, in words (the group keeps the error itself).
    Failed(String),
}

struct HandleState<T> {
    outcome: Outcome<T>,
    /// Tasks waiting for the end (`wait`, the handle's await).
    waiters: Vec<Waker>,
}

/// The part of a handle that the task's wrapper shares.
struct HandleShared<T> {
    name: String,
    scope: CancelScope,
    cancel_requested: AtomicBool,
    state: Mutex<HandleState<T>>,
}

impl<T> HandleShared<T> {
    /// Records the end (once) and wakes every waiter.
    fn end(&self, outcome: Outcome<T>) {
        let waiters = {
            let mut state = lock(&self.state);
            if !matches!(state.outcome, Outcome::Running) {
                return;
            }
            state.outcome = outcome;
            std::mem::take(&mut state.waiters)
        };
        for waiter in waiters {
            waiter.wake();
        }
    }

    /// `Ready` once the task has ended (then `f` reads the outcome); else a checkpoint
    /// (cancellation, budget), and `cx` waits for the end. An ended task's outcome comes
    /// first, even in a cancelled scope: the failure of a task cancels its group, and the
    /// code awaiting its handle still learns how it ended.
    fn poll_end<R>(&self, cx: &mut Context<'_>, f: impl FnOnce(&mut Outcome<T>) -> R) -> Poll<R> {
        {
            let mut state = lock(&self.state);
            if !matches!(state.outcome, Outcome::Running) {
                return Poll::Ready(f(&mut state.outcome));
            }
        }
        if coop::poll_start(cx).is_pending() {
            return Poll::Pending;
        }
        let mut state = lock(&self.state);
        if !matches!(state.outcome, Outcome::Running) {
            return Poll::Ready(f(&mut state.outcome));
        }
        if !state.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            state.waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A handle on a task started with [`TaskGroup::create_task`](crate::TaskGroup::create_task):
/// awaiting it gives the task's value.
///
/// The task belongs to its group like any other child: the group waits for it, and a
/// failure of the task is a failure of the group (which reports the error itself) even
/// when the handle was awaited. Dropping the handle does not cancel the task.
///
/// Awaiting the handle gives:
/// - `Ok(value)` when the task finished;
/// - an error of kind [`ErrorKind::Cancelled`] when it was cancelled (by
///   [`cancel`](TaskHandle::cancel) or by its group);
/// - an error of kind [`ErrorKind::TaskFailed`] naming the failure when it failed or
///   panicked.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// anyio::task_group!(|tg| {
///     let answer = tg.create_task(async { anyio::Result::Ok(6 * 7) });
///     let never = tg.create_task(anyio::sleep_forever());
///     never.cancel();
///     assert_eq!(answer.await.unwrap(), 42);
///     assert_eq!(never.await.unwrap_err().kind(), anyio::ErrorKind::Cancelled);
/// })
/// .unwrap();
/// # });
/// ```
///
/// # Cancel safety
///
/// Awaiting the handle is a checkpoint while the task runs (a task that has ended gives
/// its outcome at once, even in a cancelled scope); cancelled or dropped, that await
/// drops the handle (and the value, if the task had finished) but not the task.
/// [`wait`](TaskHandle::wait) can be cancelled and called again.
pub struct TaskHandle<T> {
    shared: Arc<HandleShared<T>>,
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("name", &self.shared.name)
            .field("status", &self.status())
            .finish()
    }
}

impl<T> TaskHandle<T> {
    /// The task's name: the one given to
    /// [`create_task_named`](crate::TaskGroup::create_task_named), or else the path of
    /// the function that made its future (see [`TaskInfo::name`](crate::TaskInfo::name)).
    ///
    /// # Examples
    ///
    /// ```
    /// async fn download() -> anyio::Result<u32> {
    ///     Ok(3)
    /// }
    ///
    /// # anyio::run(async {
    /// anyio::task_group!(|tg| {
    ///     assert_eq!(tg.create_task_named("fetch", download()).name(), "fetch");
    ///     assert!(tg.create_task(download()).name().ends_with("download"));
    /// })
    /// .unwrap();
    /// # });
    /// ```
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The task's state now.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TaskState;
    ///
    /// # anyio::run(async {
    /// anyio::task_group!(|tg| {
    ///     let task = tg.create_task(anyio::sleep_forever());
    ///     assert_eq!(task.status(), TaskState::Pending);
    ///     task.cancel();
    ///     assert_eq!(task.status(), TaskState::Cancelling);
    ///     task.wait().await;
    ///     assert_eq!(task.status(), TaskState::Cancelled);
    /// })
    /// .unwrap();
    /// # });
    /// ```
    pub fn status(&self) -> TaskState {
        match lock(&self.shared.state).outcome {
            Outcome::Running if self.shared.cancel_requested.load(Ordering::Acquire) => {
                TaskState::Cancelling
            }
            Outcome::Running => TaskState::Pending,
            Outcome::Finished(_) => TaskState::Finished,
            Outcome::Cancelled => TaskState::Cancelled,
            Outcome::Failed(_) => TaskState::Failed,
        }
    }

    /// Cancels this task alone (its own cancel scope): it ends at its next checkpoint,
    /// as [`TaskState::Cancelled`]; the group goes on. A task cancelled before it first
    /// ran still runs up to its first checkpoint. Does nothing once the task has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// anyio::task_group!(|tg| {
    ///     let stuck = tg.create_task(anyio::sleep_forever());
    ///     let other = tg.create_task(async { anyio::Result::Ok("unaffected") });
    ///     stuck.cancel(); // the rest of the group goes on
    ///     assert_eq!(stuck.await.unwrap_err().kind(), anyio::ErrorKind::Cancelled);
    ///     assert_eq!(other.await.unwrap(), "unaffected");
    /// })
    /// .unwrap();
    /// # });
    /// ```
    pub fn cancel(&self) {
        self.shared.cancel_requested.store(true, Ordering::Release);
        self.shared.scope.cancel();
    }

    /// Waits until the task has ended, however it ended (never fails).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// anyio::task_group!(|tg| {
    ///     let task = tg.create_task(async { anyio::Result::Ok(1) });
    ///     task.wait().await; // does not take the value
    ///     assert_eq!(task.status(), anyio::TaskState::Finished);
    ///     assert_eq!(task.await.unwrap(), 1);
    /// })
    /// .unwrap();
    /// # });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// A checkpoint while the task runs; nothing is lost when it is cancelled.
    pub fn wait(&self) -> TaskWait<'_, T> {
        TaskWait { handle: self }
    }
}

/// The future of [`TaskHandle::wait`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// anyio::task_group!(|tg| {
///     let task = tg.create_task(anyio::sleep_forever());
///     let waiting: anyio::TaskWait<'_, ()> = task.wait();
///     assert_eq!(anyio::move_on_after(0.001, waiting).await, None); // gave up waiting
///     task.cancel();
///     task.wait().await; // and waited again
///     assert_eq!(task.status(), anyio::TaskState::Cancelled);
/// })
/// .unwrap();
/// # });
/// ```
///
/// # Cancel safety
///
/// As for [`TaskHandle::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct TaskWait<'a, T> {
    handle: &'a TaskHandle<T>,
}

impl<T> fmt::Debug for TaskWait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskWait")
            .field("task", &self.handle.shared.name)
            .finish()
    }
}

impl<T> Future for TaskWait<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.handle.shared.poll_end(cx, |_| ())
    }
}

/// The future of awaiting a [`TaskHandle`].
///
/// # Examples
///
/// ```
/// use std::future::IntoFuture;
///
/// # anyio::run(async {
/// anyio::task_group!(|tg| {
///     let task = tg.create_task(async { anyio::Result::Ok("value") });
///     let join: anyio::TaskJoin<&str> = task.into_future();
///     assert_eq!(join.await.unwrap(), "value");
/// })
/// .unwrap();
/// # });
/// ```
///
/// # Cancel safety
///
/// A checkpoint. Cancelled or dropped, it drops the handle (and the value, if the task
/// had finished); the task itself goes on.
#[must_use = "futures do nothing unless awaited"]
pub struct TaskJoin<T> {
    handle: TaskHandle<T>,
}

impl<T> fmt::Debug for TaskJoin<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskJoin")
            .field("task", &self.handle.shared.name)
            .finish()
    }
}

impl<T> IntoFuture for TaskHandle<T> {
    type Output = Result<T>;
    type IntoFuture = TaskJoin<T>;

    fn into_future(self) -> TaskJoin<T> {
        TaskJoin { handle: self }
    }
}

impl<T> Unpin for TaskJoin<T> {}

impl<T> Future for TaskJoin<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let name = &self.handle.shared.name;
        self.handle.shared.poll_end(cx, |outcome| match outcome {
            Outcome::Finished(value) => value.take().ok_or_else(|| {
                Error::new(
                    ErrorKind::Other,
                    format!("the value of task '{name}' was already taken"),
                )
            }),
            Outcome::Cancelled => Err(Error::new(
                ErrorKind::Cancelled,
                format!("the task '{name}' was cancelled"),
            )),
            Outcome::Failed(failure) => Err(Error::new(
                ErrorKind::TaskFailed,
                format!("the task '{name}' failed: {failure}"),
            )),
            Outcome::Running => unreachable!("poll_end reads only an ended task"),
        })
    }
}

/// Records the end of a `create_task` child into its handle: by `finish`, or at its drop
/// (the child was dropped by a cancellation of its group, or unwound from a panic).
pub(crate) struct HandleRecorder<T> {
    shared: Arc<HandleShared<T>>,
}

impl<T> Drop for HandleRecorder<T> {
    fn drop(&mut self) {
        // A no-op if `finish` recorded the end already.
        self.shared.end(if std::thread::panicking() {
            Outcome::Failed("it panicked".to_owned())
        } else {
            Outcome::Cancelled
        });
    }
}

impl<T> HandleRecorder<T> {
    /// The child's output: `Some` if it ended by itself, `None` if its handle's scope
    /// cancelled it. Returns what the child reports to its group.
    pub(crate) fn finish(self, output: Option<Result<T>>) -> Result<()> {
        match output {
            Some(Ok(value)) => {
                self.shared.end(Outcome::Finished(Some(value)));
                Ok(())
            }
            Some(Err(error)) => {
                self.shared.end(Outcome::Failed(error.to_string()));
                Err(error)
            }
            None => {
                self.shared.end(Outcome::Cancelled);
                Ok(())
            }
        }
    }
}

/// A new handle for a task named `name`, its recorder, and the cancel scope the task
/// must run in.
pub(crate) fn new_handle<T>(name: String) -> (TaskHandle<T>, HandleRecorder<T>, CancelScope) {
    let scope = CancelScope::new();
    let shared = Arc::new(HandleShared {
        name,
        scope: scope.clone(),
        cancel_requested: AtomicBool::new(false),
        state: Mutex::new(HandleState {
            outcome: Outcome::Running,
            waiters: Vec::new(),
        }),
    });
    let recorder = HandleRecorder {
        shared: shared.clone(),
    };
    (TaskHandle { shared }, recorder, scope)
}
