//! `BlockingPortal`: an event loop that threads send work to.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::task::{Context, Poll};
use std::thread::JoinHandle;

use futures_lite::FutureExt;

use crate::base::lock::lock;
use crate::cancel::CancelScope;
use crate::error::{Error, ErrorKind, Result};
use crate::from_thread::{async_call, host, sync_call};
use crate::runtime::calls::{CallSlot, Completer, Outcome};
use crate::runtime::{Runtime, RuntimeShared};
use crate::task::{TaskGroup, TaskOutput, TaskStatus};

/// Starts a task in the portal's group (run on the portal's event loop).
type Start = Box<dyn for<'g> FnOnce(&'g TaskGroup<'g>) + Send>;

enum Request {
    Start(Start),
    Stop { cancel_remaining: bool },
}

/// What the portal's handles share with its event loop.
struct PortalShared {
    requests: async_channel::Sender<Request>,
    /// The runtime serving the portal: its threads must not block on the portal.
    runtime: Mutex<Option<Weak<RuntimeShared>>>,
    /// Set when the event loop has stopped serving (and its tasks have ended).
    stopped: Mutex<bool>,
    stopped_changed: Condvar,
}

impl PortalShared {
    fn mark_stopped(&self) {
        *lock(&self.stopped) = true;
        self.stopped_changed.notify_all();
    }

    fn wait_stopped(&self) {
        let mut stopped = lock(&self.stopped);
        while !*stopped {
            stopped = self
                .stopped_changed
                .wait(stopped)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Records the runtime of the calling code as the one serving the portal.
    fn record_runtime(&self) {
        *lock(&self.runtime) = host::runtime_of_this_thread().map(|rt| Arc::downgrade(&rt));
    }

    /// Whether the calling thread is one of the threads that run the portal's loop.
    fn on_loop_thread(&self) -> bool {
        let runtime = lock(&self.runtime).as_ref().and_then(Weak::upgrade);
        let Some(runtime) = runtime else { return false };
        crate::runtime::with_current_runtime(|current| Arc::ptr_eq(current, &runtime))
            .unwrap_or(false)
    }

    /// Whether the calling thread runs a `to_thread` job for a task of the portal's
    /// runtime: that task (perhaps one of the portal's own) waits for the job, so the
    /// job must not wait for the portal's tasks to end.
    fn in_a_job_of_the_loop(&self) -> bool {
        let runtime = lock(&self.runtime).as_ref().and_then(Weak::upgrade);
        let Some(runtime) = runtime else { return false };
        let host = host::current_link().and_then(|link| link.runtime());
        host.is_some_and(|host| Arc::ptr_eq(&host, &runtime))
    }
}

/// Hands out portal numbers, for thread names.
static NEXT_PORTAL: AtomicU64 = AtomicU64::new(1);

/// An event loop that any thread can send work to: blocking code calls async code
/// through it ([`call`](BlockingPortal::call), [`call_sync`](BlockingPortal::call_sync)),
/// or starts tasks there ([`start_task_soon`](BlockingPortal::start_task_soon),
/// [`start_task`](BlockingPortal::start_task)) and waits for them later.
///
/// Each call runs as a task of the portal's task group. A portal made by
/// [`start_blocking_portal`] runs its loop on a thread of its own (an anyio runtime
/// without worker threads); one made by [`BlockingPortal::serve`] serves from a task of
/// a running program. Share a portal between threads with an `Arc`, or use a
/// [`BlockingPortalProvider`](crate::from_thread::BlockingPortalProvider).
///
/// Dropping a portal from [`start_blocking_portal`] cancels its remaining tasks and joins
/// its thread, as dropping a runtime does; call [`stop(false)`](BlockingPortal::stop)
/// first to wait for them instead.
///
/// # Examples
///
/// ```
/// let portal = anyio::from_thread::start_blocking_portal().unwrap();
/// // Plain blocking code, no runtime here:
/// let answer = portal
///     .call(|| async {
///         anyio::sleep(0.001).await;
///         42
///     })
///     .unwrap();
/// assert_eq!(answer, 42);
/// portal.stop(false); // waits for its tasks, then joins its thread
/// ```
pub struct BlockingPortal {
    shared: Arc<PortalShared>,
    /// The portal's own thread (for `start_blocking_portal`).
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl fmt::Debug for BlockingPortal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingPortal")
            .field("running", &self.is_running())
            .finish_non_exhaustive()
    }
}

/// Starts an event loop on a new thread (named `anyio-portal-N`) and returns a portal
/// to it.
///
/// # Errors
///
/// An [`Io`](ErrorKind::Io) error if the thread or its runtime cannot be started.
///
/// # Examples
///
/// ```
/// let portal = anyio::from_thread::start_blocking_portal().unwrap();
/// let name = portal.call_sync(|| std::thread::current().name().map(String::from)).unwrap();
/// assert!(name.unwrap().starts_with("anyio-portal-"));
/// ```
pub fn start_blocking_portal() -> Result<BlockingPortal> {
    let (portal, requests) = BlockingPortal::unstarted();
    let name = format!(
        "anyio-portal-{}",
        NEXT_PORTAL.fetch_add(1, Ordering::Relaxed)
    );
    let runtime = Runtime::builder()
        .worker_threads(0)
        .thread_name(name.clone())
        .build()?;
    let shared = portal.shared.clone();
    let thread = std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            runtime.block_on(serve_requests(&shared, requests));
        })
        .map_err(Error::from)?;
    *lock(&portal.thread) = Some(thread);
    Ok(portal)
}

impl BlockingPortal {
    /// A portal whose loop has not started, and the receiving end of its requests.
    fn unstarted() -> (BlockingPortal, async_channel::Receiver<Request>) {
        let (requests, received) = async_channel::unbounded();
        let portal = BlockingPortal {
            shared: Arc::new(PortalShared {
                requests,
                runtime: Mutex::new(None),
                stopped: Mutex::new(false),
                stopped_changed: Condvar::new(),
            }),
            thread: Mutex::new(None),
        };
        (portal, received)
    }

    /// Serves a portal from the calling task while `body(portal)` runs: the portal's
    /// calls run as tasks of a group of this task. When `body` returns, the portal stops
    /// taking calls and waits for the tasks it started, then returns `body`'s output.
    /// (AnyIO's `async with BlockingPortal() as portal`.)
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// use anyio::from_thread::BlockingPortal;
    ///
    /// let sum = BlockingPortal::serve(|portal| async move {
    ///     // Blocking code on a worker thread, calling back through the portal.
    ///     anyio::to_thread::run_sync(move || {
    ///         (1..=3).map(|i| portal.call(move || async move { i * 10 }).unwrap()).sum::<i32>()
    ///     })
    ///     .await
    /// })
    /// .await;
    /// assert_eq!(sum, 60);
    /// # });
    /// ```
    pub async fn serve<F, Fut>(body: F) -> Fut::Output
    where
        F: FnOnce(Arc<BlockingPortal>) -> Fut,
        Fut: Future,
    {
        let (portal, requests) = BlockingPortal::unstarted();
        let portal = Arc::new(portal);
        let shared = portal.shared.clone();
        // Before the body's first poll: a call from the body is refused, not a deadlock.
        shared.record_runtime();
        let serving = serve_requests(&shared, requests);
        let stopper = portal.shared.requests.clone();
        let body = async move {
            let output = body(portal).await;
            let _ = stopper.try_send(Request::Stop {
                cancel_remaining: false,
            });
            output
        };
        let (output, ()) = futures_lite::future::zip(body, serving).await;
        output
    }

    /// Whether the portal still takes calls.
    ///
    /// # Examples
    ///
    /// ```
    /// let portal = anyio::from_thread::start_blocking_portal().unwrap();
    /// assert!(portal.is_running());
    /// portal.stop(false);
    /// assert!(!portal.is_running());
    /// ```
    pub fn is_running(&self) -> bool {
        !self.shared.requests.is_closed()
    }

    /// Runs `f()`'s future as a task of the portal, blocking this thread until it ends,
    /// and returns its output.
    ///
    /// # Errors
    ///
    /// - [`RunFinished`](ErrorKind::RunFinished): the portal is not running;
    /// - [`Cancelled`](ErrorKind::Cancelled): the portal was stopped with its tasks
    ///   cancelled before this one ended;
    /// - [`Other`](ErrorKind::Other): called from the portal's own event loop, which
    ///   would wait for itself.
    ///
    /// # Panics
    ///
    /// Resumes a panic of `f` or of its future on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let portal = anyio::from_thread::start_blocking_portal().unwrap();
    /// let event = std::sync::Arc::new(anyio::Event::new());
    /// let set = event.clone();
    /// portal.call(move || async move { set.set() }).unwrap();
    /// assert!(event.is_set());
    /// ```
    pub fn call<F, Fut, T>(&self, f: F) -> Result<T>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: IntoFuture<Output = T>,
        Fut::IntoFuture: Send + 'static,
        T: Send + 'static,
    {
        self.check_caller()?;
        let slot = CallSlot::new();
        let name = std::any::type_name::<F>();
        let call = async_call(f, Completer::new(slot.clone(), ErrorKind::Cancelled));
        self.send(Request::Start(Box::new(move |tg| {
            tg.start_soon_named(name, call())
        })))?;
        slot.wait().into_result()
    }

    /// Runs `f` on the portal's event loop, blocking this thread until it returns.
    ///
    /// # Errors
    ///
    /// As for [`call`](BlockingPortal::call).
    ///
    /// # Panics
    ///
    /// Resumes a panic of `f` on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let portal = anyio::from_thread::start_blocking_portal().unwrap();
    /// let in_a_task = portal.call_sync(|| anyio::get_current_task().id > 0).unwrap();
    /// assert!(in_a_task);
    /// ```
    pub fn call_sync<F, T>(&self, f: F) -> Result<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.check_caller()?;
        let slot = CallSlot::new();
        let name = std::any::type_name::<F>();
        let call = sync_call(f, Completer::new(slot.clone(), ErrorKind::Cancelled));
        self.send(Request::Start(Box::new(move |tg| {
            tg.start_soon_named(name, call())
        })))?;
        slot.wait().into_result()
    }

    /// Starts `f()`'s future as a task of the portal and returns at once; the
    /// [`PortalFuture`] gives its output later, or cancels it.
    ///
    /// A portal that is not running gives a future that fails with
    /// [`RunFinished`](ErrorKind::RunFinished).
    ///
    /// # Examples
    ///
    /// ```
    /// let portal = anyio::from_thread::start_blocking_portal().unwrap();
    /// let slow = portal.start_task_soon(|| anyio::sleep_forever());
    /// let quick = portal.start_task_soon(|| async { "quick" });
    /// assert_eq!(quick.wait().unwrap(), "quick");
    /// slow.cancel();
    /// assert_eq!(slow.wait().unwrap_err().kind(), anyio::ErrorKind::Cancelled);
    /// ```
    pub fn start_task_soon<F, Fut, T>(&self, f: F) -> PortalFuture<T>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: IntoFuture<Output = T>,
        Fut::IntoFuture: Send + 'static,
        T: Send + 'static,
    {
        let slot = CallSlot::new();
        let scope = CancelScope::new();
        let call = async_call(f, Completer::new(slot.clone(), ErrorKind::Cancelled));
        let task_scope = scope.clone();
        let name = std::any::type_name::<F>();
        let start: Start = Box::new(move |tg| {
            tg.start_soon_named(name, async move {
                task_scope.run(call()).await;
            })
        });
        if let Err(refused) = self.shared.requests.try_send(Request::Start(start)) {
            // The outcome first: dropping the refused request drops its completer,
            // which would report a cancel.
            slot.complete(Outcome::Failed(not_running()));
            drop(refused);
        }
        PortalFuture { slot, scope }
    }

    /// Starts a task that reports readiness through its [`TaskStatus`] (as
    /// [`TaskGroup::start`] does), and returns once it has: with its [`PortalFuture`]
    /// and the value it passed to `started`.
    ///
    /// # Errors
    ///
    /// The task's own error, or an error of kind [`Other`](ErrorKind::Other), when it
    /// ended without calling `started`; otherwise as for [`call`](BlockingPortal::call).
    ///
    /// # Examples
    ///
    /// ```
    /// let portal = anyio::from_thread::start_blocking_portal().unwrap();
    /// let (server, port) = portal
    ///     .start_task(|status| async move {
    ///         status.started(8080_u16); // e.g. once a listener is bound
    ///         anyio::sleep_forever().await;
    ///     })
    ///     .unwrap();
    /// assert_eq!(port, 8080);
    /// server.cancel();
    /// assert!(server.wait().is_err());
    /// ```
    pub fn start_task<F, Fut, T, V>(&self, f: F) -> Result<(PortalFuture<T>, V)>
    where
        F: FnOnce(TaskStatus<V>) -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
        T: TaskOutput + Send + 'static,
        V: Send + 'static,
    {
        self.check_caller()?;
        let slot = CallSlot::new();
        let started = CallSlot::new();
        let scope = CancelScope::new();
        let task_scope = scope.clone();
        let completer = Completer::new(slot.clone(), ErrorKind::Cancelled);
        let started_by_child = started.clone();
        let started_completer = Completer::new(started.clone(), ErrorKind::Cancelled);
        let name = std::any::type_name::<F>();
        let start: Start = Box::new(move |tg| {
            tg.start_soon(async move {
                let result = tg
                    .start_named(name, move |status| {
                        let handshake = status.handshake();
                        // `f` itself may panic before it gives a future: call it
                        // inside the future, where the panic is caught.
                        let task = async move { f(status).await };
                        async move {
                            let ended = task_scope.run(AssertUnwindSafe(task).catch_unwind()).await;
                            // Ended before `started`: the failure or the panic is the
                            // caller's, as `TaskGroup::start` reports it (first outcome
                            // wins over `start`'s own "ended without started").
                            match ended {
                                None => drop(completer), // cancelled
                                Some(Ok(output))
                                    if handshake.is_waiting() && output.is_failure() =>
                                {
                                    if let Err(error) = output.into_result() {
                                        started_by_child.complete(Outcome::Failed(error));
                                    }
                                }
                                Some(Err(payload)) if handshake.is_waiting() => {
                                    started_by_child.complete(Outcome::Panicked(payload));
                                }
                                Some(Ok(output)) => completer.complete(Outcome::Value(output)),
                                Some(Err(payload)) => {
                                    completer.complete(Outcome::Panicked(payload))
                                }
                            }
                        }
                    })
                    .await;
                started_completer.complete(match result {
                    Ok(value) => Outcome::Value(value),
                    Err(error) => Outcome::Failed(error),
                });
            })
        });
        self.send(Request::Start(start))?;
        let value = started.wait().into_result()?;
        Ok((PortalFuture { slot, scope }, value))
    }

    /// Stops the portal: it takes no more calls, its tasks are cancelled if
    /// `cancel_remaining` (otherwise waited for), and then, for a portal from
    /// [`start_blocking_portal`], its thread is joined. Blocks until all that is done;
    /// called from the portal's own loop (or from a `to_thread` job of one of its
    /// tasks), it only asks the loop to stop.
    ///
    /// # Examples
    ///
    /// ```
    /// let portal = anyio::from_thread::start_blocking_portal().unwrap();
    /// let pending = portal.start_task_soon(|| anyio::sleep_forever());
    /// portal.stop(true);
    /// assert_eq!(pending.wait().unwrap_err().kind(), anyio::ErrorKind::Cancelled);
    /// let err = portal.call(|| async {}).unwrap_err();
    /// assert_eq!(err.kind(), anyio::ErrorKind::RunFinished);
    /// ```
    pub fn stop(&self, cancel_remaining: bool) {
        let _ = self
            .shared
            .requests
            .try_send(Request::Stop { cancel_remaining });
        if self.shared.on_loop_thread() || self.shared.in_a_job_of_the_loop() {
            return;
        }
        self.shared.wait_stopped();
        let thread = lock(&self.thread).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    fn send(&self, request: Request) -> Result<()> {
        self.shared.requests.try_send(request).map_err(|_| {
            Error::new(
                ErrorKind::RunFinished,
                "this blocking portal is not running",
            )
        })
    }

    fn check_caller(&self) -> Result<()> {
        if self.shared.on_loop_thread() {
            return Err(Error::new(
                ErrorKind::Other,
                "this method of BlockingPortal cannot be called from the portal's own event \
                 loop, which would wait for itself: await the future there instead",
            ));
        }
        Ok(())
    }
}

fn not_running() -> Error {
    Error::new(
        ErrorKind::RunFinished,
        "this blocking portal is not running",
    )
}

impl Drop for BlockingPortal {
    fn drop(&mut self) {
        if lock(&self.thread).is_some() {
            self.stop(true);
        }
    }
}

/// The portal's event loop: runs each request's task in one group until asked to
/// stop, then fails the requests left unread and marks the portal stopped.
async fn serve_requests(shared: &Arc<PortalShared>, requests: async_channel::Receiver<Request>) {
    shared.record_runtime();
    // However serving ends (stopped, cancelled, dropped, or a panic unwinding through
    // it), the portal stops taking calls, the calls left unread are failed, and `stop`
    // callers are released.
    let _stopped = StoppedOnDrop {
        shared,
        requests: &requests,
    };
    let group = TaskGroup::new();
    let tg = &group;
    let serving = group.run(async {
        while let Ok(request) = requests.recv().await {
            match request {
                Request::Start(start) => start(tg),
                Request::Stop { cancel_remaining } => {
                    if cancel_remaining {
                        tg.cancel();
                    }
                    break;
                }
            }
        }
        requests.close();
    });
    // The tasks report their own failures to their callers: the group never fails.
    let _ = serving.await;
}

/// Ends a portal's serving when dropped (see `serve_requests`).
struct StoppedOnDrop<'a> {
    shared: &'a PortalShared,
    requests: &'a async_channel::Receiver<Request>,
}

impl Drop for StoppedOnDrop<'_> {
    fn drop(&mut self) {
        self.requests.close();
        while let Ok(unread) = self.requests.try_recv() {
            drop(unread); // a call's completer tells its caller
        }
        self.shared.mark_stopped();
    }
}

/// A task started by [`BlockingPortal::start_task_soon`] or
/// [`BlockingPortal::start_task`]: wait for its output from a thread
/// ([`wait`](PortalFuture::wait)) or await it; [`cancel`](PortalFuture::cancel) it.
///
/// Dropping it does not cancel the task.
///
/// # Examples
///
/// ```
/// let portal = anyio::from_thread::start_blocking_portal().unwrap();
/// let task: anyio::from_thread::PortalFuture<u32> = portal.start_task_soon(|| async { 7 });
/// assert_eq!(task.wait().unwrap(), 7);
/// ```
pub struct PortalFuture<T> {
    slot: Arc<CallSlot<T>>,
    scope: CancelScope,
}

impl<T> fmt::Debug for PortalFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortalFuture")
            .field("done", &self.slot.is_completed())
            .finish()
    }
}

impl<T> PortalFuture<T> {
    /// Blocks this thread until the task ends, and returns its output.
    ///
    /// # Errors
    ///
    /// [`Cancelled`](ErrorKind::Cancelled) when the task was cancelled (by
    /// [`cancel`](PortalFuture::cancel) or by a stop that cancels), and
    /// [`RunFinished`](ErrorKind::RunFinished) when the portal was not running.
    ///
    /// # Panics
    ///
    /// Resumes a panic of the task on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let portal = anyio::from_thread::start_blocking_portal().unwrap();
    /// let task = portal.start_task_soon(|| async { "done" });
    /// assert_eq!(task.wait().unwrap(), "done");
    /// ```
    pub fn wait(self) -> Result<T> {
        self.slot.wait().into_result()
    }

    /// Cancels the task (its scope): it ends at its next checkpoint, and the future
    /// gives an error of kind [`Cancelled`](ErrorKind::Cancelled). No effect on a task
    /// that has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// let portal = anyio::from_thread::start_blocking_portal().unwrap();
    /// let task = portal.start_task_soon(|| anyio::sleep_forever());
    /// task.cancel();
    /// assert!(task.wait().is_err());
    /// ```
    pub fn cancel(&self) {
        self.scope.cancel();
    }

    /// Whether the task has ended (its output is waiting).
    ///
    /// # Examples
    ///
    /// ```
    /// let portal = anyio::from_thread::start_blocking_portal().unwrap();
    /// let task = portal.start_task_soon(|| anyio::sleep_forever());
    /// assert!(!task.is_finished());
    /// task.cancel();
    /// assert!(task.wait().is_err());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.slot.is_completed()
    }
}

impl<T> Future for PortalFuture<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        self.slot.poll_outcome(cx).map(Outcome::into_result)
    }
}
