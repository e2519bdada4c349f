//! `TaskGroup`: children that never outlive the group, and errors that are never lost.
//!
//! The public API is here; the run future is in `run.rs`, the children's mini-executor
//! in `children.rs`, and the executor future of a `spawn`ed child in `spawned.rs`.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::CancelScope;
use crate::base::context;
use crate::base::lock::lock;
use crate::base::scope::{CancelOrigin, ScopeState};
use crate::base::task::{TaskIdentity, TaskSource, next_task_id};
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::executor::Executor;
use crate::task::children::{ChildNode, Local, LocalChild, NewChild, SharedChildren, Status};
use crate::task::handle::{self, TaskHandle};
use crate::task::output::TaskOutput;
use crate::task::root::TaskRoot;
use crate::task::run::TaskGroupRun;
use crate::task::spawned::{ChildMeta, ChildTask, SpawnedBody};
use crate::task::status::TaskStatus;

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
    pub(crate) shared: Arc<GroupShared>,
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
    /// Lock order: `TaskGroup::local` before this (never the other way round).
    pub(crate) children: Mutex<SharedChildren>,
    /// Spawned children that have not ended (see `spawned.rs`). Raised only under
    /// `children`, so that the group's last look under that lock is final.
    pub(crate) spawned_live: AtomicUsize,
    /// True while the run future is inside its poll: see `PollingGuard`, which owns the
    /// protocol between this and the three flags below.
    pub(crate) polling: AtomicBool,
    /// A child was started into `TaskGroup::local`'s `new` since the group last looked.
    pub(crate) has_new: AtomicBool,
    /// A child's key was pushed to `children.ready` since the group last took them.
    pub(crate) has_ready: AtomicBool,
    /// The body was woken since it was last polled.
    pub(crate) body_woken: AtomicBool,
    /// Children the run future polls, as of its last round (for `Debug`).
    pub(crate) live_children: AtomicUsize,
}

impl GroupShared {
    /// After a start or a wake set its flag: wakes the group, unless its poll is in
    /// progress (which looks at the flags before it returns).
    #[inline]
    pub(crate) fn wake_unless_polling(&self) {
        if !self.polling.load(Ordering::SeqCst) {
            self.scope.waker.wake();
        }
    }
    /// Reports a failure nobody else will: it becomes a failure of the group, which is
    /// cancelled as for any failure (and so woken).
    pub(crate) fn report_orphaned_failure(&self, error: Error) {
        lock(&self.children).reported.errors.push(error);
        self.scope.cancel(CancelOrigin::Explicit, None);
        self.scope.waker.wake();
    }
}

impl TaskSource for GroupShared {
    fn visit_tasks(&self, visit: &mut dyn FnMut(&dyn TaskIdentity) -> bool) {
        let children = lock(&self.children);
        for task in children.all_tasks() {
            if !visit(task) {
                break;
            }
        }
    }
}

/// The default name of a task whose future is an `F`: the name of the function that made
/// it, as a path (`my_app::server::handle_client`), without the `{{closure}}` segments of
/// async blocks and functions, nor generic arguments (an async block in `main` is
/// named `main`). Any other future is named by its type. Never allocates: the name is a
/// slice of the type's name.
fn default_task_name<F>() -> &'static str {
    let full = std::any::type_name::<F>();
    let mut name = full.split('<').next().unwrap_or(full);
    while let Some(outer) = name.strip_suffix("::{{closure}}") {
        name = outer;
    }
    // A qualified path such as `<T as Trait>::Output` starts with its generics.
    if name.is_empty() { full } else { name }
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
            .field(
                "children",
                &(local.new.len()
                    + self.shared.live_children.load(Ordering::Relaxed)
                    + self.shared.spawned_live.load(Ordering::Relaxed)),
            )
            .field("cancel_called", &self.shared.scope.cancel_called())
            .finish()
    }
}

impl<'env> TaskGroup<'env> {
    /// Creates a group; nothing runs until [`run`](TaskGroup::run) is awaited.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let group = anyio::TaskGroup::new();
    /// let tg = &group;
    /// let result = group
    ///     .run(async {
    ///         tg.start_soon(anyio::sleep(0.001));
    ///         anyio::Result::Ok(5)
    ///     })
    ///     .await;
    /// assert_eq!(result.unwrap(), Some(5));
    /// # });
    /// ```
    pub fn new() -> TaskGroup<'env> {
        TaskGroup {
            shared: Arc::new(GroupShared {
                scope: Arc::new(ScopeState::new(None, false)),
                host_task: AtomicU64::new(0),
                children: Mutex::new(SharedChildren::default()),
                spawned_live: AtomicUsize::new(0),
                polling: AtomicBool::new(false),
                has_new: AtomicBool::new(false),
                has_ready: AtomicBool::new(false),
                body_woken: AtomicBool::new(true),
                live_children: AtomicUsize::new(0),
            }),
            local: ManuallyDrop::new(Mutex::new(Local::new())),
        }
    }

    pub(crate) fn lock_local(&self) -> MutexGuard<'_, Local<'env>> {
        lock(&self.local)
    }

    /// The group's cancel scope: cancelling it cancels the body and every child.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # anyio::run(async {
    /// let result = anyio::task_group!(|tg| {
    ///     let deadline = anyio::current_time() + Duration::from_millis(1);
    ///     tg.cancel_scope().set_deadline(Some(deadline));
    ///     tg.start_soon(anyio::sleep_forever()); // ended by the group's deadline too
    ///     anyio::sleep_forever().await;
    /// });
    /// assert_eq!(result.unwrap(), None); // the group's own scope cancelled the body
    /// # });
    /// ```
    pub fn cancel_scope(&self) -> CancelScope {
        CancelScope {
            state: self.shared.scope.clone(),
        }
    }

    /// Cancels the group: the body and every child end at their next checkpoint.
    /// Shorthand for `self.cancel_scope().cancel()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let result = anyio::task_group!(|tg| {
    ///     tg.start_soon(anyio::sleep_forever());
    ///     tg.start_soon(async move {
    ///         anyio::sleep(0.001).await;
    ///         tg.cancel(); // ends the sleep_forever sibling
    ///     });
    /// });
    /// assert!(result.is_ok()); // a cancellation is not a failure
    /// # });
    /// ```
    pub fn cancel(&self) {
        self.shared.scope.cancel(CancelOrigin::Explicit, None);
    }

    /// Starts `future` as a child that runs concurrently inside the group's future.
    ///
    /// The child may borrow anything that outlives the group, including the group
    /// itself; it first runs when the code that started it next yields. It returns `()`
    /// or `Result<_, E>` with any error type `E` (or a `String`, a `&str`); an `Err`
    /// cancels the group and is reported by it.
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
    #[track_caller]
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
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// anyio::task_group!(|tg| {
    ///     tg.start_soon_named("heartbeat", async {
    ///         assert_eq!(anyio::get_current_task().name, "heartbeat");
    ///     });
    /// })
    /// .unwrap();
    /// # });
    /// ```
    #[track_caller]
    pub fn start_soon_named<F>(&self, name: impl Into<Cow<'static, str>>, future: F)
    where
        F: Future + Send + 'env,
        F::Output: TaskOutput,
    {
        if let Err(error) = self.add_local(name.into(), future) {
            panic!("{error}");
        }
    }

    /// Like [`start_soon_named`](TaskGroup::start_soon_named), but returns an error
    /// instead of panicking.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`] if the group has already finished.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// anyio::task_group!(|tg| {
    ///     tg.try_start_soon_named("worker-1", async {
    ///         assert_eq!(anyio::get_current_task().name, "worker-1");
    ///     })?;
    ///     anyio::Result::Ok(())
    /// })?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn try_start_soon_named<F>(
        &self,
        name: impl Into<Cow<'static, str>>,
        future: F,
    ) -> Result<()>
    where
        F: Future + Send + 'env,
        F::Output: TaskOutput,
    {
        self.add_local(name.into(), future)
    }

    /// Like [`start_soon`](TaskGroup::start_soon), but returns an error instead of
    /// panicking.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`] if the group has already finished.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let group = anyio::TaskGroup::new();
    /// let tg = &group;
    /// group.run(async { tg.try_start_soon(anyio::sleep(0.001)) }).await?;
    /// let late = group.try_start_soon(async {}).unwrap_err(); // the group has ended
    /// assert_eq!(late.kind(), anyio::ErrorKind::ClosedResource);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn try_start_soon<F>(&self, future: F) -> Result<()>
    where
        F: Future + Send + 'env,
        F::Output: TaskOutput,
    {
        self.add_local(Cow::Borrowed(default_task_name::<F>()), future)
    }

    fn add_local<F>(&self, name: Cow<'static, str>, future: F) -> Result<()>
    where
        F: Future + Send + 'env,
        F::Output: TaskOutput,
    {
        self.add_child(LocalChild::new(
            self.new_node(name, 0),
            TaskRoot::new(future),
        ))
        .map(|_| ())
    }

    /// Starts `future` as a child like [`start_soon`](TaskGroup::start_soon), and returns
    /// a [`TaskHandle`] on it: its state, a way to cancel just this child, and (awaited)
    /// its value.
    ///
    /// The child's failure is still a failure of the group, reported by the group, even
    /// when the handle is awaited (the await then gives an error of kind
    /// [`ErrorKind::TaskFailed`]).
    ///
    /// # Panics
    ///
    /// Panics if the group has already finished.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// anyio::task_group!(|tg| {
    ///     // A task gives its value as `Ok(value)`; an `Err` is its failure.
    ///     let sum = tg.create_task(async { anyio::Result::Ok(1 + 2) });
    ///     let done = tg.create_task(anyio::sleep(0.001));
    ///     assert_eq!(sum.await.unwrap(), 3);
    ///     assert_eq!(done.await.unwrap(), ());
    /// })
    /// .unwrap();
    /// # });
    /// ```
    #[track_caller]
    pub fn create_task<F>(&self, future: F) -> TaskHandle<<F::Output as TaskOutput>::Value>
    where
        F: Future + Send + 'env,
        F::Output: TaskOutput,
        <F::Output as TaskOutput>::Value: Send + 'env,
    {
        self.create_task_named(default_task_name::<F>(), future)
    }

    /// Like [`create_task`](TaskGroup::create_task), with a task name (the handle's
    /// [`name`](TaskHandle::name), and the task's own in
    /// [`get_current_task`](crate::get_current_task)).
    ///
    /// # Panics
    ///
    /// Panics if the group has already finished.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// anyio::task_group!(|tg| {
    ///     let fetch = tg.create_task_named("fetch", async { anyio::Result::Ok(200) });
    ///     assert_eq!(fetch.name(), "fetch");
    ///     assert_eq!(fetch.await.unwrap(), 200);
    /// })
    /// .unwrap();
    /// # });
    /// ```
    #[track_caller]
    pub fn create_task_named<F>(
        &self,
        name: impl Into<Cow<'static, str>>,
        future: F,
    ) -> TaskHandle<<F::Output as TaskOutput>::Value>
    where
        F: Future + Send + 'env,
        F::Output: TaskOutput,
        <F::Output as TaskOutput>::Value: Send + 'env,
    {
        let name = name.into();
        let (handle, recorder, scope) = handle::new_handle(name.to_string());
        let child = async move {
            let output = scope.run(future).await;
            recorder.finish(output.map(TaskOutput::into_result))
        };
        if let Err(error) = self.add_local(name, child) {
            panic!("{error}");
        }
        handle
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
    #[track_caller]
    pub fn spawn<F>(&self, future: F)
    where
        F: Future + Send + 'static,
        F::Output: TaskOutput,
    {
        if let Err(error) = self.try_spawn(future) {
            panic!("{error}");
        }
    }

    /// Like [`spawn`](TaskGroup::spawn), with a task name.
    ///
    /// # Panics
    ///
    /// As for [`spawn`](TaskGroup::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// anyio::task_group!(|tg| {
    ///     tg.spawn_named("hasher", async {
    ///         assert_eq!(anyio::get_current_task().name, "hasher");
    ///     });
    /// })
    /// .unwrap();
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn_named<F>(&self, name: impl Into<Cow<'static, str>>, future: F)
    where
        F: Future + Send + 'static,
        F::Output: TaskOutput,
    {
        if let Err(error) = self.try_spawn_named(name, future) {
            panic!("{error}");
        }
    }

    /// Like [`spawn`](TaskGroup::spawn), returning an error instead of panicking.
    ///
    /// # Errors
    ///
    /// As for [`try_spawn_named`](TaskGroup::try_spawn_named).
    ///
    /// # Examples
    ///
    /// ```
    /// let outside = anyio::TaskGroup::new().try_spawn(async {}); // no runtime here
    /// assert_eq!(outside.unwrap_err().kind(), anyio::ErrorKind::Other);
    /// # anyio::run(async {
    /// anyio::task_group!(|tg| {
    ///     tg.try_spawn(anyio::sleep(0.001))?;
    ///     anyio::Result::Ok(())
    /// })?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn try_spawn<F>(&self, future: F) -> Result<()>
    where
        F: Future + Send + 'static,
        F::Output: TaskOutput,
    {
        self.try_spawn_named(default_task_name::<F>(), future)
    }

    /// Like [`spawn`](TaskGroup::spawn), with a task name, returning an error instead of
    /// panicking.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`] if the group has already finished;
    /// [`ErrorKind::Other`] outside an anyio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let group = anyio::TaskGroup::new();
    /// group.run(async {}).await?;
    /// let late = group.try_spawn_named("late", async {}).unwrap_err(); // the group has ended
    /// assert_eq!(late.kind(), anyio::ErrorKind::ClosedResource);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn try_spawn_named<F>(&self, name: impl Into<Cow<'static, str>>, future: F) -> Result<()>
    where
        F: Future + Send + 'static,
        F::Output: TaskOutput,
    {
        let shared = &self.shared;
        let new_task = move |executor: Arc<Executor>, future: F, name: Cow<'static, str>| {
            let meta = ChildMeta::new(shared.clone(), executor, next_task_id(), name);
            ChildTask::new(meta, SpawnedBody::new(future, shared.scope.clone()))
        };
        let name = name.into();
        // The common case under one lock: the group runs, the child is listed and starts.
        // (A task is made only to be listed: an unlisted one would report its end.)
        let spawned = crate::runtime::with_current_runtime(|runtime| {
            let mut children = lock(&shared.children);
            if children.spawns_open {
                let task = new_task(runtime.executor.clone(), future, name);
                children.insert_spawned(task.clone(), shared);
                Ok(task)
            } else {
                Err((runtime.executor.clone(), future, name))
            }
        })
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Other,
                "TaskGroup::spawn needs an anyio runtime: call it inside anyio::run, \
                 Runtime::block_on or #[anyio::main], or use start_soon instead",
            )
        })?;
        let (executor, future, name) = match spawned {
            // Woken once the lock is released, and outside `with_current_runtime` (whose
            // runtime the wake finds in the thread context again).
            Ok(task) => {
                task.wake();
                return Ok(());
            }
            Err(refused) => refused,
        };
        // The group is not running yet, or no more.
        let group = self.shared.clone();
        let launch = move |children: &mut SharedChildren| {
            let meta = ChildMeta::new(group.clone(), executor, next_task_id(), name);
            let task = ChildTask::new(meta, SpawnedBody::new(future, group.scope.clone()));
            children.insert_spawned(task.clone(), &group);
            // Woken by the caller, once the lock is released.
            task
        };
        let mut local = self.lock_local();
        match local.status {
            Status::Closed => Err(closed_error()),
            Status::Idle => {
                local.deferred_spawns.push(Box::new(launch));
                Ok(())
            }
            Status::Running => {
                // Its first poll is opening the list right now (and cannot close it
                // while `local` is held here).
                let task = launch(&mut lock(&self.shared.children));
                drop(local);
                task.wake();
                Ok(())
            }
        }
    }

    /// Starts a child and waits until it reports readiness through its [`TaskStatus`](crate::TaskStatus);
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
    /// A checkpoint (the child is launched even in a cancelled scope, then cancelled).
    /// Cancelled or dropped before the child called `started`: the child's own scope is
    /// cancelled, and an error the child still returns goes to the group. Cancelled or
    /// dropped after it: the child stays in the group like any other, and the value it
    /// passed to `started` is dropped.
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
        self.start_named(default_task_name::<Fut>(), f).await
    }

    /// Like [`start`](TaskGroup::start), with a task name.
    ///
    /// # Errors
    ///
    /// As for [`start`](TaskGroup::start).
    ///
    /// # Cancel safety
    ///
    /// As for [`start`](TaskGroup::start).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// anyio::task_group!(|tg| {
    ///     let name = tg
    ///         .start_named("listener", |status| async move {
    ///             status.started(anyio::get_current_task().name);
    ///             anyio::sleep(0.001).await;
    ///         })
    ///         .await?;
    ///     assert_eq!(name, "listener");
    ///     anyio::Result::Ok(())
    /// })?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
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
        // The child is launched even in a cancelled context: it runs up to its first
        // checkpoint, where the cancel lands (AnyIO and Trio do the same).
        let (status, handshake) = crate::task::status::handshake::<V>();
        let child_scope = CancelScope::new();
        let child =
            crate::task::status::StartChild::new(child_scope.run(f(status)), handshake.clone());
        let _abandon = crate::task::status::AbandonOnDrop::new(
            child_scope,
            handshake.clone(),
            self.shared.clone(),
        );
        // Until it reports readiness, the child's parent is the task calling `start`.
        let caller = context::current_task_id();
        let task = LocalChild::new(self.new_node(name.into(), caller), TaskRoot::new(child));
        handshake.set_node(task.node());
        self.add_child(task)?;
        crate::task::status::WaitStarted::new(handshake).await
    }

    /// Like [`start`](TaskGroup::start), and also returns a [`TaskHandle`] on the child
    /// (AnyIO's `start(..., return_handle=True)`): the value passed to
    /// [`TaskStatus::started`], then the handle, whose await gives the child's own value.
    ///
    /// # Errors
    ///
    /// As for [`start`](TaskGroup::start).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// anyio::task_group!(|tg| {
    ///     let (port, server) = tg
    ///         .start_with_handle(|status: anyio::TaskStatus<u16>| async move {
    ///             status.started(8080);
    ///             anyio::sleep_forever().await;
    ///         })
    ///         .await?;
    ///     assert_eq!(port, 8080);
    ///     server.cancel();
    ///     assert_eq!(server.await.unwrap_err().kind(), anyio::ErrorKind::Cancelled);
    ///     anyio::Result::Ok(())
    /// })
    /// .unwrap()
    /// .unwrap();
    /// # });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// As for [`start`](TaskGroup::start).
    pub async fn start_with_handle<V, F, Fut>(
        &self,
        f: F,
    ) -> Result<(V, TaskHandle<<Fut::Output as TaskOutput>::Value>)>
    where
        F: FnOnce(TaskStatus<V>) -> Fut,
        Fut: Future + Send + 'env,
        Fut::Output: TaskOutput,
        <Fut::Output as TaskOutput>::Value: Send + 'env,
        V: Send + 'env,
    {
        self.start_named_with_handle(default_task_name::<Fut>(), f)
            .await
    }

    /// Like [`start_with_handle`](TaskGroup::start_with_handle), with a task name.
    ///
    /// # Errors
    ///
    /// As for [`start`](TaskGroup::start).
    ///
    /// # Cancel safety
    ///
    /// As for [`start`](TaskGroup::start).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// anyio::task_group!(|tg| {
    ///     let (greeting, task) = tg
    ///         .start_named_with_handle("greeter", |status| async move {
    ///             status.started("hello");
    ///             anyio::Result::Ok(42)
    ///         })
    ///         .await?;
    ///     assert_eq!((greeting, task.name()), ("hello", "greeter"));
    ///     assert_eq!(task.await?, 42);
    ///     anyio::Result::Ok(())
    /// })?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn start_named_with_handle<V, F, Fut>(
        &self,
        name: impl Into<Cow<'static, str>>,
        f: F,
    ) -> Result<(V, TaskHandle<<Fut::Output as TaskOutput>::Value>)>
    where
        F: FnOnce(TaskStatus<V>) -> Fut,
        Fut: Future + Send + 'env,
        Fut::Output: TaskOutput,
        <Fut::Output as TaskOutput>::Value: Send + 'env,
        V: Send + 'env,
    {
        let name = name.into();
        let (handle, recorder, scope) = handle::new_handle(name.to_string());
        let value = self
            .start_named(name, move |status| {
                let future = f(status);
                async move {
                    let output = scope.run(future).await;
                    recorder.finish(output.map(TaskOutput::into_result))
                }
            })
            .await?;
        Ok((value, handle))
    }

    /// A new child's identity; `parent` is its parent task while that is not the group's
    /// host (0: the host).
    fn new_node(&self, name: Cow<'static, str>, parent: u64) -> ChildNode {
        ChildNode {
            group: self.shared.clone(),
            key: AtomicU32::new(u32::MAX),
            id: next_task_id(),
            name: name.into(),
            parent: AtomicU64::new(parent),
            queued: AtomicBool::new(true),
            finished: AtomicBool::new(false),
        }
    }

    /// Registers a new child polled inside the group; returns its id.
    fn add_child(&self, task: LocalChild<'env>) -> Result<u64> {
        let id = task.id;
        let mut local = self.lock_local();
        if local.status == Status::Closed {
            return Err(closed_error());
        }
        local.new.push(NewChild { task });
        self.shared.has_new.store(true, Ordering::SeqCst);
        let running = local.status == Status::Running;
        drop(local);
        if running {
            // Started from outside the group's poll (another task sharing the group, a
            // scoped thread): look now.
            self.shared.wake_unless_polling();
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
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let group = anyio::TaskGroup::new();
    /// let tg = &group;
    /// let result = group
    ///     .run(async {
    ///         tg.start_soon(async { Err::<(), _>("child failed") });
    ///         anyio::sleep_forever().await; // cancelled by the child's failure
    ///     })
    ///     .await;
    /// assert_eq!(result.unwrap_err().message(), "child failed");
    /// # });
    /// ```
    pub fn run<F>(&self, body: F) -> TaskGroupRun<'_, 'env, F>
    where
        F: Future,
        F::Output: TaskOutput,
    {
        TaskGroupRun::new(self, body)
    }
}

fn closed_error() -> Error {
    Error::new(
        ErrorKind::ClosedResource,
        "this task group is not active; no new tasks can be started in a group that has \
         finished",
    )
}
