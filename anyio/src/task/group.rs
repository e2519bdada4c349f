//! `TaskGroup`: children that never outlive the group, and errors that are never lost.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Wake;
use std::task::{Context, Poll, Waker};

use atomic_waker::AtomicWaker;
use pin_project_lite::pin_project;

use crate::cancel::state::{CancelOrigin, ScopeState, effectively_cancelled};
use crate::cancel::timer::DeadlineTimer;
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::RuntimeShared;
use crate::runtime::context::{self, ScopeEnter};
use crate::task::info::next_task_id;
use crate::task::output::{ChildOutcome, TaskOutput};
use crate::task::root::TaskRoot;
use crate::{CancelScope, lowlevel};

/// A child's future as the group stores it.
pub(crate) type ChildFuture<'env> = Pin<Box<dyn Future<Output = ChildOutcome> + Send + 'env>>;

/// A group of concurrent tasks that all end before the group does.
///
/// Children started with [`start_soon`](TaskGroup::start_soon) run concurrently *inside*
/// the group's future: they may borrow local variables of the enclosing function and use
/// the group itself. Children started with [`spawn`](TaskGroup::spawn) run in parallel on
/// the runtime's worker threads and must be `Send + 'static`; the group still waits for
/// them and cancels them.
///
/// When the body or a child fails (returns `Err`) or panics, the group's
/// [cancel scope](TaskGroup::cancel_scope) is cancelled: every other child is dropped at
/// its next checkpoint. Once all have ended, the group returns the failure: one failure
/// as that error itself, several as one error of kind
/// [`ErrorKind::Group`] ([`Error::errors`] iterates them). A panic resumes in the caller
/// once the other children have stopped. Cancellations are never failures.
///
/// Most code uses the [`task_group!`](crate::task_group) macro; without macros, create
/// the group as a local, bind a reference, and [`run`](TaskGroup::run) the body:
///
/// # Examples
///
/// ```
/// use std::sync::Mutex;
/// use anyio::TaskGroup;
///
/// # anyio::run(async {
/// let results = Mutex::new(Vec::new()); // children may borrow locals
/// let group = TaskGroup::new();
/// let tg = &group;
/// group
///     .run(async {
///         for i in 0..3 {
///             let results = &results;
///             tg.start_soon(async move {
///                 anyio::sleep(0.001 * i as f64).await;
///                 results.lock().unwrap().push(i);
///             });
///         }
///     })
///     .await
///     .unwrap();
/// assert_eq!(results.into_inner().unwrap(), [0, 1, 2]);
/// # });
/// ```
#[doc(alias = "create_task_group")]
pub struct TaskGroup<'env> {
    shared: Arc<GroupShared>,
    /// Never dropped by `TaskGroup` itself (so that children may borrow the group for
    /// `'env`); the run future drains and drops every child, on completion and in its
    /// own `Drop`. A group that is never run leaks the children started into it.
    local: ManuallyDrop<Mutex<Local<'env>>>,
}

/// The part of a group that wakers and the task registry reach: `'static`.
pub(crate) struct GroupShared {
    /// The group's cancel scope: cancelled by `cancel()`, by a failure, or by its
    /// deadline. Its waker is the group future's waker, also woken by children.
    pub(crate) scope: Arc<ScopeState>,
    /// The task that runs the group (parent of every child); set at the first poll.
    pub(crate) host_task: AtomicU64,
    /// Lock order: `Local` before `SharedState` (never the other way round).
    pub(crate) state: Mutex<SharedState>,
}

pub(crate) struct SharedState {
    /// Keys of children woken since the group last looked; each key at most once
    /// (guarded by `ChildNode::queued`).
    ready: Vec<usize>,
    /// The live children by key, for wakers and `get_running_tasks`.
    /// Invariant: `nodes[k]` is `Some` exactly while slot `k` holds a child.
    pub(crate) nodes: Vec<Option<Arc<ChildNode>>>,
}

/// A child's identity and waker; shared by its waker clones and the registry.
pub(crate) struct ChildNode {
    group: Arc<GroupShared>,
    /// The slot of the child; set before the child is first polled.
    key: AtomicUsize,
    pub(crate) id: u64,
    pub(crate) name: Cow<'static, str>,
    /// True while the key is in `SharedState::ready`.
    queued: AtomicBool,
    /// Set when the child ended; wakes after that are ignored (its slot may be reused).
    finished: AtomicBool,
}

impl Wake for ChildNode {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.finished.load(Ordering::Acquire) || self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Ok(mut state) = self.group.state.lock() {
            state.ready.push(self.key.load(Ordering::Acquire));
        }
        self.group.scope.waker.wake();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// Created; children may be queued but nothing runs yet.
    Idle,
    /// The run future is active.
    Running,
    /// The run future finished or was dropped; starting a task is an error.
    Closed,
}

/// The `'env` part of a group: the children's futures. Behind `TaskGroup::local`.
struct Local<'env> {
    status: Status,
    /// True while the run future is polling children (and has taken `slots` out).
    polling: bool,
    /// Children started since the group last looked; polled first at its next round.
    new: Vec<(ChildFuture<'env>, Arc<ChildNode>)>,
    slots: Vec<Option<Slot<'env>>>,
    free: Vec<usize>,
    /// Children in `new` and `slots`.
    alive: usize,
}

struct Slot<'env> {
    future: ChildFuture<'env>,
    node: Arc<ChildNode>,
    waker: Waker,
}

impl Default for TaskGroup<'_> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl fmt::Debug for TaskGroup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.lock_local();
        f.debug_struct("TaskGroup")
            .field("status", &local.status)
            .field("children", &local.alive)
            .field("cancel_called", &self.shared.scope.cancel_called())
            .finish()
    }
}

impl<'env> TaskGroup<'env> {
    /// Creates a group; nothing runs until [`run`](TaskGroup::run) is awaited.
    pub fn new() -> TaskGroup<'env> {
        TaskGroup {
            shared: Arc::new(GroupShared {
                scope: Arc::new(ScopeState::new(None, false)),
                host_task: AtomicU64::new(0),
                state: Mutex::new(SharedState {
                    ready: Vec::new(),
                    nodes: Vec::new(),
                }),
            }),
            local: ManuallyDrop::new(Mutex::new(Local {
                status: Status::Idle,
                polling: false,
                new: Vec::new(),
                slots: Vec::new(),
                free: Vec::new(),
                alive: 0,
            })),
        }
    }

    fn lock_local(&self) -> MutexGuard<'_, Local<'env>> {
        // Children's panics are caught outside the lock, so poisoning means a bug here;
        // the data is still consistent at every unlock, so keep going.
        self.local.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The group's cancel scope: cancelling it cancels the body and every child.
    pub fn cancel_scope(&self) -> CancelScope {
        CancelScope {
            state: self.shared.scope.clone(),
        }
    }

    /// Cancels the group: the body and every child end at their next checkpoint.
    /// Shorthand for `self.cancel_scope().cancel()`.
    pub fn cancel(&self) {
        self.shared.scope.cancel(CancelOrigin::Explicit, None);
    }

    /// Starts `future` as a child that runs concurrently inside the group's future.
    ///
    /// The child may borrow anything that outlives the group, including the group
    /// itself; it first runs when the code that started it next yields. It returns `()`
    /// or `Result<_, E>` with `E: Into<anyio::Error>`; an `Err` cancels the group and is
    /// reported by it.
    ///
    /// # Panics
    ///
    /// Panics if the group has already finished; see
    /// [`try_start_soon`](TaskGroup::try_start_soon) for the fallible form.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let result = anyio::task_group!(|tg| {
    ///     tg.start_soon(async { anyio::sleep(0.001).await });
    ///     tg.start_soon(async { anyio::Result::Ok(()) });
    /// });
    /// assert!(result.is_ok());
    /// # });
    /// ```
    pub fn start_soon<F>(&self, future: F)
    where
        F: Future + Send + 'env,
        F::Output: TaskOutput,
    {
        if let Err(error) = self.try_start_soon(future) {
            panic!("{error}");
        }
    }

    /// Like [`start_soon`](TaskGroup::start_soon), with a task name for
    /// [`get_running_tasks`](crate::get_running_tasks) and messages.
    ///
    /// # Panics
    ///
    /// Panics if the group has already finished.
    pub fn start_soon_named<F>(&self, name: impl Into<Cow<'static, str>>, future: F)
    where
        F: Future + Send + 'env,
        F::Output: TaskOutput,
    {
        if let Err(error) = self.add_local(name.into(), future) {
            panic!("{error}");
        }
    }

    /// Like [`start_soon`](TaskGroup::start_soon), but returns an error instead of
    /// panicking.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`] if the group has already finished.
    pub fn try_start_soon<F>(&self, future: F) -> Result<()>
    where
        F: Future + Send + 'env,
        F::Output: TaskOutput,
    {
        self.add_local(Cow::Borrowed(std::any::type_name::<F>()), future)
    }

    fn add_local<F>(&self, name: Cow<'static, str>, future: F) -> Result<()>
    where
        F: Future + Send + 'env,
        F::Output: TaskOutput,
    {
        self.add_child(name, |id| Box::pin(TaskRoot::local(future, id)))
            .map(|_| ())
    }

    /// Starts `future` as a child on the runtime's worker threads, in parallel with the
    /// rest of the program; the group waits for it and cancels it like any other child.
    ///
    /// # Panics
    ///
    /// Panics if the group has already finished, or if called outside an anyio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// # anyio::run(async {
    /// let total = Arc::new(AtomicUsize::new(0));
    /// anyio::task_group!(|tg| {
    ///     for i in 1..=4 {
    ///         let total = total.clone();
    ///         tg.spawn(async move {
    ///             total.fetch_add(i, Ordering::Relaxed);
    ///         });
    ///     }
    /// })
    /// .unwrap();
    /// assert_eq!(total.load(Ordering::Relaxed), 10);
    /// # });
    /// ```
    pub fn spawn<F>(&self, future: F)
    where
        F: Future + Send + 'static,
        F::Output: TaskOutput,
    {
        if let Err(error) = self.try_spawn_named(std::any::type_name::<F>(), future) {
            panic!("{error}");
        }
    }

    /// Like [`spawn`](TaskGroup::spawn), with a task name, returning an error instead of
    /// panicking.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`] if the group has already finished;
    /// [`ErrorKind::Other`] outside an anyio runtime.
    pub fn try_spawn_named<F>(&self, name: impl Into<Cow<'static, str>>, future: F) -> Result<()>
    where
        F: Future + Send + 'static,
        F::Output: TaskOutput,
    {
        let runtime = context::current_runtime().ok_or_else(|| {
            Error::new(
                ErrorKind::Other,
                "TaskGroup::spawn needs an anyio runtime: call it inside anyio::run, \
                 Runtime::block_on or #[anyio::main], or use start_soon instead",
            )
        })?;
        let scope = self.shared.scope.clone();
        self.add_child(name.into(), move |id| {
            let remote = Arc::new(AtomicWaker::new());
            let root = TaskRoot::spawned(future, id, scope, remote.clone());
            Box::pin(SpawnedChild::new(runtime, root, remote))
        })
        .map(|_| ())
    }

    /// Starts a child and waits until it reports readiness through its [`TaskStatus`];
    /// returns the value passed to [`TaskStatus::started`].
    ///
    /// Until then the child runs in a scope of its own that is cancelled if this call is
    /// cancelled (or dropped). After it, the child belongs to the group like any other.
    ///
    /// # Errors
    ///
    /// - the child's own error, if it fails before calling `started` (the group does not
    ///   report that error again);
    /// - [`ErrorKind::Other`] if the child finishes without calling `started`;
    /// - [`ErrorKind::Cancelled`] if the child was cancelled before calling `started`;
    /// - [`ErrorKind::ClosedResource`] if the group has already finished.
    ///
    /// # Cancel safety
    ///
    /// A checkpoint. If this future is dropped before the child called `started`, the
    /// child is cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// anyio::task_group!(|tg| {
    ///     let port = tg
    ///         .start(|status| async move {
    ///             status.started(8080_u16); // e.g. once the listener is bound
    ///             anyio::sleep(0.001).await;
    ///         })
    ///         .await?;
    ///     assert_eq!(port, 8080);
    ///     anyio::Result::Ok(())
    /// })
    /// .unwrap();
    /// # });
    /// ```
    pub async fn start<V, F, Fut>(&self, f: F) -> Result<V>
    where
        F: FnOnce(TaskStatus<V>) -> Fut,
        Fut: Future + Send + 'env,
        Fut::Output: TaskOutput,
        V: Send + 'env,
    {
        self.start_named(std::any::type_name::<Fut>(), f).await
    }

    /// Like [`start`](TaskGroup::start), with a task name.
    ///
    /// # Errors
    ///
    /// As for [`start`](TaskGroup::start).
    pub async fn start_named<V, F, Fut>(
        &self,
        name: impl Into<Cow<'static, str>>,
        f: F,
    ) -> Result<V>
    where
        F: FnOnce(TaskStatus<V>) -> Fut,
        Fut: Future + Send + 'env,
        Fut::Output: TaskOutput,
        V: Send + 'env,
    {
        lowlevel::checkpoint_if_cancelled().await;
        let (status, handshake) = crate::task::status::handshake::<V>();
        let child_scope = CancelScope::new();
        let child =
            crate::task::status::StartChild::new(child_scope.run(f(status)), handshake.clone());
        let _abandon = crate::task::status::AbandonOnDrop::new(child_scope, handshake.clone());
        self.add_child(name.into(), |id| Box::pin(TaskRoot::local(child, id)))?;
        crate::task::status::WaitStarted::new(handshake).await
    }

    /// Registers a new child, built by `make` from its task id.
    fn add_child(
        &self,
        name: Cow<'static, str>,
        make: impl FnOnce(u64) -> ChildFuture<'env>,
    ) -> Result<u64> {
        if self.lock_local().status == Status::Closed {
            return Err(closed_error());
        }
        let id = next_task_id();
        let node = Arc::new(ChildNode {
            group: self.shared.clone(),
            key: AtomicUsize::new(usize::MAX),
            id,
            name,
            queued: AtomicBool::new(true),
            finished: AtomicBool::new(false),
        });
        let future = make(id);
        let mut local = self.lock_local();
        if local.status == Status::Closed {
            return Err(closed_error());
        }
        local.new.push((future, node));
        local.alive += 1;
        let wake = local.status == Status::Running && !local.polling;
        drop(local);
        if wake {
            // Started from outside the group's poll (e.g. a scoped thread): look now.
            self.shared.scope.waker.wake();
        }
        Ok(id)
    }

    /// Runs `body` inside the group's cancel scope, with the children, until all have
    /// ended.
    ///
    /// Resolves to `Ok(Some(value))` with the body's value, `Ok(None)` if the group's own
    /// scope cancelled the body before it finished, or `Err` with every failure of the
    /// body and the children (see [`TaskGroup`]).
    ///
    /// # Cancel safety
    ///
    /// When an outer scope is cancelled, the group counts as shielded work until its last
    /// child has ended, so no child outlives it; if the body or a child failed, the group
    /// then returns that error even while the outer scope is cancelled. If the returned
    /// future is dropped by something other than a cancel scope (e.g. a foreign
    /// `select!`), every child is dropped at once and spawned children are cancelled
    /// without being awaited.
    ///
    /// # Panics
    ///
    /// Panics when polled if the group was already run: a group runs once. Resumes the
    /// panic of a child or of the body once every other child has ended.
    pub fn run<F>(&self, body: F) -> TaskGroupRun<'_, 'env, F>
    where
        F: Future,
        F::Output: TaskOutput,
    {
        TaskGroupRun {
            group: self,
            body: Some(body),
            value: None,
            failures: Vec::new(),
            panic: None,
            timer: DeadlineTimer::default(),
            registration: None,
            ready: Vec::new(),
            finished_keys: Vec::new(),
            started: false,
            finished: false,
            cancel_seen: false,
            body_cancelled: false,
            body_shielded: false,
            waited: false,
            body_waker: None,
        }
    }
}

fn closed_error() -> Error {
    Error::new(
        ErrorKind::ClosedResource,
        "this task group is not active; no new tasks can be started in a group that has \
         finished",
    )
}

pub use crate::task::status::TaskStatus;

pin_project! {
    /// The future of [`TaskGroup::run`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct TaskGroupRun<'g, 'env, F>
    where
        F: Future,
        F::Output: TaskOutput,
    {
        group: &'g TaskGroup<'env>,
        #[pin]
        body: Option<F>,
        value: Option<<F::Output as TaskOutput>::Value>,
        failures: Vec<Error>,
        panic: Option<Box<dyn Any + Send + 'static>>,
        timer: DeadlineTimer,
        // The runtime's registry entry for this group (removed when it ends).
        registration: Option<(Arc<RuntimeShared>, usize)>,
        // Scratch lists, kept to avoid allocating on every poll.
        ready: Vec<usize>,
        finished_keys: Vec<usize>,
        started: bool,
        finished: bool,
        // The group's code has seen it effectively cancelled (all children were woken).
        cancel_seen: bool,
        // The body was dropped by a cancellation.
        body_cancelled: bool,
        // The body's last poll returned `Pending` inside shielded work; kept across the
        // polls that do not poll the body.
        body_shielded: bool,
        // The group has returned `Pending` at least once.
        waited: bool,
        // The body's own waker, so that the body is polled only when woken.
        body_waker: Option<(Arc<BodyWake>, Waker)>,
    }

    impl<'g, 'env, F> PinnedDrop for TaskGroupRun<'g, 'env, F>
    where
        F: Future,
        F::Output: TaskOutput,
    {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if *this.finished || !*this.started {
                return;
            }
            // Dropped from outside anyio before the end: drop every child now.
            this.body.set(None);
            close(this.group, this.registration);
        }
    }
}

/// Marks the group closed and drops whatever children remain (outside the lock: a
/// child's drop may touch the group).
fn close(group: &TaskGroup<'_>, registration: &mut Option<(Arc<RuntimeShared>, usize)>) {
    let (new, slots) = {
        let mut local = group.lock_local();
        local.status = Status::Closed;
        local.alive = 0;
        (
            std::mem::take(&mut local.new),
            std::mem::take(&mut local.slots),
        )
    };
    for slot in slots.iter().flatten() {
        slot.node.finished.store(true, Ordering::Release);
    }
    drop(new);
    drop(slots);
    if let Ok(mut state) = group.shared.state.lock() {
        // Breaks the node -> group reference cycle.
        state.nodes.clear();
        state.ready.clear();
    }
    if let Some((runtime, key)) = registration.take() {
        runtime.unregister_group(key);
    }
}

impl<F> Future for TaskGroupRun<'_, '_, F>
where
    F: Future,
    F::Output: TaskOutput,
{
    type Output = Result<Option<<F::Output as TaskOutput>::Value>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let group = *this.group;
        let scope = &group.shared.scope;
        assert!(
            !*this.finished,
            "a TaskGroup's run future was polled after it completed"
        );

        if !*this.started {
            *this.started = true;
            {
                let mut local = group.lock_local();
                assert!(
                    local.status == Status::Idle,
                    "a TaskGroup can be run only once; create a new TaskGroup for each run"
                );
                local.status = Status::Running;
            }
            assert!(
                scope.enter(context::current_scope()),
                "the cancel scope of a TaskGroup was entered elsewhere; a group's scope \
                 belongs to its run"
            );
            group
                .shared
                .host_task
                .store(context::current_task_id(), Ordering::Release);
            if let Some(runtime) = context::current_runtime() {
                let key = runtime.register_group(Arc::downgrade(&group.shared));
                *this.registration = Some((runtime, key));
            }
            DeadlineTimer::check_on_entry(scope);
        } else {
            this.timer.poll_armed(scope, cx);
        }
        // Registered before looking at any child, so no wake from now on is lost.
        scope.waker.register(cx.waker());

        let mut enter = ScopeEnter::new(Some(scope.clone()));
        let mut rounds = 0;
        loop {
            let cancelled = effectively_cancelled(Some(scope));
            let wake_all = cancelled && !*this.cancel_seen;
            *this.cancel_seen |= cancelled;

            let (body_wake, body_waker) = this.body_waker.get_or_insert_with(|| {
                let wake = Arc::new(BodyWake {
                    woken: AtomicBool::new(true),
                    group: group.shared.clone(),
                });
                (wake.clone(), Waker::from(wake))
            });
            let poll_body = body_wake.woken.swap(false, Ordering::AcqRel) || wake_all;
            let mut body_yielded = false;
            if let Some(body) = this.body.as_mut().as_pin_mut().filter(|_| poll_body) {
                context::clear_pending_under_shield();
                let _activity = context::Activity::new();
                let mut body_cx = Context::from_waker(body_waker);
                match catch_unwind(AssertUnwindSafe(|| body.poll(&mut body_cx))) {
                    Ok(Poll::Ready(output)) => {
                        this.body.set(None);
                        match output.into_result() {
                            Ok(value) => *this.value = Some(value),
                            Err(error) => {
                                this.failures.push(error);
                                scope.cancel(CancelOrigin::Explicit, None);
                            }
                        }
                    }
                    Ok(Poll::Pending) => {
                        // Woken during its own poll: it yielded, to let other tasks run.
                        body_yielded = body_wake.woken.load(Ordering::Acquire);
                        *this.body_shielded = context::pending_under_shield();
                        if cancelled && !*this.body_shielded {
                            this.body.set(None);
                            *this.body_cancelled = true;
                        }
                    }
                    Err(payload) => {
                        let _ = catch_unwind(AssertUnwindSafe(|| this.body.set(None)));
                        this.panic.get_or_insert(payload);
                        scope.cancel(CancelOrigin::Explicit, None);
                    }
                }
            }

            let more = poll_children(
                group,
                wake_all,
                this.ready,
                this.finished_keys,
                this.failures,
                this.panic,
            );

            if !cancelled && effectively_cancelled(Some(scope)) {
                // Cancelled during this round: deliver it now rather than at a later poll.
                continue;
            }
            let body_woken =
                this.body.is_some() && !body_yielded && body_wake.woken.load(Ordering::Acquire);
            if body_woken || more {
                // The body or children woke each other (e.g. over a channel): serve them
                // here, like a small executor, rather than through a reschedule of the
                // whole group; after a budget of rounds, let other tasks run. Those that
                // woke themselves (yielded) wait for the next poll of the group.
                rounds += 1;
                if rounds < ROUNDS_PER_POLL {
                    continue;
                }
                cx.waker().wake_by_ref();
            }
            break;
        }

        let alive = group.lock_local().alive;
        if alive == 0 && this.body.is_none() {
            let cancelled = effectively_cancelled(Some(scope));
            if this.panic.is_none()
                && this.failures.is_empty()
                && cancelled
                && !scope.is_delivering()
                && (*this.body_cancelled || *this.waited)
            {
                // Cancelled from outside: stay pending so that the delivering scope drops
                // the group and the code after it does not run.
                enter.report_shielded = false;
                return Poll::Pending;
            }
            *this.finished = true;
            drop(enter);
            close(group, this.registration);
            if let Some(payload) = this.panic.take() {
                resume_unwind(payload);
            }
            if !this.failures.is_empty() {
                return Poll::Ready(Err(Error::from_failures(std::mem::take(this.failures))));
            }
            if *this.body_cancelled {
                scope.set_cancelled_caught();
            }
            return Poll::Ready(Ok(this.value.take()));
        }

        *this.waited = true;
        if !*this.cancel_seen && this.timer.arm(scope, cx) {
            cx.waker().wake_by_ref();
        }
        enter.report_shielded = alive > 0 || (this.body.is_some() && *this.body_shielded);
        Poll::Pending
    }
}

/// How many rounds of body and child polls a group runs in one poll of its own while they
/// keep waking each other, before it yields to the executor.
const ROUNDS_PER_POLL: usize = 32;

/// Polls the children that are new or woken (all of them if `wake_all`); records their
/// failures and panics. Returns whether children other than those that yielded are
/// ready to be polled.
fn poll_children<'env>(
    group: &TaskGroup<'env>,
    wake_all: bool,
    ready: &mut Vec<usize>,
    finished_keys: &mut Vec<usize>,
    failures: &mut Vec<Error>,
    panic: &mut Option<Box<dyn Any + Send + 'static>>,
) -> bool {
    let scope = &group.shared.scope;
    let (new, mut slots, mut free) = {
        let mut local = group.lock_local();
        local.polling = true;
        (
            std::mem::take(&mut local.new),
            std::mem::take(&mut local.slots),
            std::mem::take(&mut local.free),
        )
    };

    {
        let mut state = group.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        for (future, node) in new {
            let key = free.pop().unwrap_or_else(|| {
                slots.push(None);
                slots.len() - 1
            });
            node.key.store(key, Ordering::Release);
            if state.nodes.len() <= key {
                state.nodes.resize(key + 1, None);
            }
            state.nodes[key] = Some(node.clone());
            ready.push(key);
            let waker = Waker::from(node.clone());
            slots[key] = Some(Slot {
                future,
                node,
                waker,
            });
        }
        if wake_all {
            state.ready.clear();
            ready.clear();
            for (key, slot) in slots.iter().enumerate() {
                if let Some(slot) = slot {
                    slot.node.queued.store(true, Ordering::Release);
                    ready.push(key);
                }
            }
        } else {
            ready.append(&mut state.ready);
        }
    }

    // Children woken during their own poll: they yielded to let other tasks run.
    let mut yielded = 0;
    for &key in ready.iter() {
        let Some(slot) = slots.get_mut(key).and_then(Option::as_mut) else {
            continue;
        };
        slot.node.queued.store(false, Ordering::Release);
        let mut cx = Context::from_waker(&slot.waker);
        let poll = slot.future.as_mut().poll(&mut cx);
        if poll.is_pending() && slot.node.queued.load(Ordering::Acquire) {
            yielded += 1;
        }
        if let Poll::Ready(outcome) = poll {
            slot.node.finished.store(true, Ordering::Release);
            slots[key] = None;
            free.push(key);
            finished_keys.push(key);
            match outcome {
                ChildOutcome::Done | ChildOutcome::Cancelled => {}
                ChildOutcome::Failed(error) => {
                    failures.push(error);
                    scope.cancel(CancelOrigin::Explicit, None);
                }
                ChildOutcome::Panicked(payload) => {
                    panic.get_or_insert(payload);
                    scope.cancel(CancelOrigin::Explicit, None);
                }
            }
        }
    }
    ready.clear();

    let more_new = {
        let mut local = group.lock_local();
        local.slots = slots;
        local.free = free;
        local.alive -= finished_keys.len();
        local.polling = false;
        !local.new.is_empty()
    };
    let mut state = group.shared.state.lock().unwrap_or_else(|e| e.into_inner());
    for key in finished_keys.drain(..) {
        state.nodes[key] = None;
    }
    more_new || state.ready.len() > yielded
}

/// The waker of a group's body: marks the body for polling and wakes the group.
struct BodyWake {
    woken: AtomicBool,
    group: Arc<GroupShared>,
}

impl Wake for BodyWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::AcqRel) {
            self.group.scope.waker.wake();
        }
    }
}

/// A `spawn`ed child as its group sees it: spawns the task onto the executor at its
/// first poll, then waits for it; wakes it when the group is cancelled.
struct SpawnedChild<F: Future + Send + 'static> {
    unspawned: Option<(Arc<RuntimeShared>, F)>,
    task: Option<async_executor::Task<ChildOutcome>>,
    remote: Arc<AtomicWaker>,
}

impl<F> SpawnedChild<F>
where
    F: Future<Output = ChildOutcome> + Send + 'static,
{
    fn new(runtime: Arc<RuntimeShared>, root: F, remote: Arc<AtomicWaker>) -> Self {
        SpawnedChild {
            unspawned: Some((runtime, root)),
            task: None,
            remote,
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
        if lowlevel::is_cancelled() {
            this.remote.wake();
        }
        match this.task.as_mut() {
            Some(task) => Pin::new(task).poll(cx),
            None => Poll::Ready(ChildOutcome::Cancelled),
        }
    }
}

impl<F: Future + Send + 'static> Unpin for SpawnedChild<F> {}
