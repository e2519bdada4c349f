//! The runtime: an executor of our own served by worker threads, and the async-io reactor.
//!
//! This is the only module that touches the executor and the reactor directly.

pub(crate) mod calls;
pub(crate) mod clock;
mod current;
pub(crate) mod deadlines;
pub(crate) mod executor;
mod main_loop;
mod registry;
pub(crate) mod run_vars;
pub(crate) mod seed;
pub(crate) mod thread_pool;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::thread::JoinHandle;

pub(crate) use current::{current_runtime, in_runtime, with_current_runtime};

use crate::base::context;
use crate::base::task::{CurrentTask, RootIdentity, next_task_id};
use crate::error::{Error, Result};
use crate::runtime::deadlines::DeadlineQueue;
use crate::runtime::executor::Executor;
pub(crate) use crate::runtime::registry::Registry;

/// The state of one runtime, shared by its threads and its tasks.
pub(crate) struct RuntimeShared {
    pub(crate) executor: Arc<Executor>,
    /// The runtime's tasks, for introspection and `wait_all_tasks_blocked`.
    pub(crate) registry: Registry,
    /// Scopes waiting for their deadline, served by the timer thread.
    deadlines: DeadlineQueue,
    /// Calls from other threads (`from_thread`, `EventLoopToken`) in flight.
    pub(crate) calls: calls::Calls,
    /// The values of `lowlevel::RunVar`s in this runtime.
    pub(crate) run_vars: run_vars::RunVarValues,
    /// The clock that `current_time`, sleeps and deadlines read.
    pub(crate) clock: clock::Clock,
    /// A seeded runtime's order of polling (see `Builder::seed`).
    pub(crate) seeded: Option<seed::SeededOrder>,
    /// The `to_process` worker pool, made by the first call; shut down (its idle workers
    /// closed and waited for) when the `Runtime` is dropped. (Runtime-local storage until
    /// `lowlevel::RunVar` can hold it.)
    process_pool: std::sync::OnceLock<Arc<crate::to_process::Pool>>,
}

impl RuntimeShared {
    pub(crate) fn deadlines(&self) -> &DeadlineQueue {
        &self.deadlines
    }

    /// This runtime's `to_process` worker pool.
    pub(crate) fn process_pool(&self) -> &Arc<crate::to_process::Pool> {
        self.process_pool
            .get_or_init(|| Arc::new(crate::to_process::Pool::new()))
    }

    /// Spawns a `'static` future onto the worker threads, detached.
    pub(crate) fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        self.executor.spawn(future);
    }
}

/// An anyio runtime: runs a main future on the calling thread, and `spawn`ed tasks on
/// worker threads (and on the calling thread while it waits).
///
/// Dropping the runtime stops its worker threads.
///
/// # Examples
///
/// ```
/// let runtime = anyio::Runtime::builder().worker_threads(2).build().unwrap();
/// let answer = runtime.block_on(async {
///     anyio::sleep(0.001).await;
///     42
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct Runtime {
    shared: Arc<RuntimeShared>,
    /// Closed on drop, which stops the workers.
    stop: Option<async_channel::Sender<()>>,
    /// The timer thread, then the worker threads.
    workers: Vec<JoinHandle<()>>,
    /// How many worker threads serve the executor (0: only the `block_on` thread).
    executor_threads: usize,
    /// Run on every thread that polls tasks, as it starts and as it stops.
    hooks: ThreadHooks,
    /// Counts this runtime among those with a mock clock, while it lives.
    _mock_clock: Option<clock::MockRuntimeGuard>,
    /// The tokio runtime entered on every thread that polls tasks (feature `tokio`);
    /// dropped after the workers have stopped.
    #[cfg(feature = "tokio")]
    tokio: tokio::runtime::Runtime,
}

/// A hook run on the runtime's threads.
type ThreadHook = Arc<dyn Fn() + Send + Sync>;

/// The `on_thread_start` / `on_thread_stop` hooks of a [`Builder`].
#[derive(Clone, Default)]
struct ThreadHooks {
    start: Option<ThreadHook>,
    stop: Option<ThreadHook>,
}

impl std::fmt::Debug for ThreadHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadHooks")
            .field("start", &self.start.is_some())
            .field("stop", &self.stop.is_some())
            .finish()
    }
}

/// While alive, the thread is one that polls tasks: the start hook ran and (feature
/// `tokio`) the tokio runtime is entered; dropped, the stop hook runs.
struct TaskThread<'a> {
    hooks: &'a ThreadHooks,
    #[cfg(feature = "tokio")]
    _tokio: tokio::runtime::EnterGuard<'a>,
}

impl<'a> TaskThread<'a> {
    fn enter(
        hooks: &'a ThreadHooks,
        #[cfg(feature = "tokio")] tokio: &'a tokio::runtime::Handle,
    ) -> TaskThread<'a> {
        #[cfg(feature = "tokio")]
        let entered = tokio.enter();
        if let Some(start) = &hooks.start {
            start();
        }
        TaskThread {
            hooks,
            #[cfg(feature = "tokio")]
            _tokio: entered,
        }
    }
}

impl Drop for TaskThread<'_> {
    fn drop(&mut self) {
        if let Some(stop) = &self.hooks.stop {
            stop();
        }
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("threads", &self.workers.len())
            .finish()
    }
}

/// Configures a [`Runtime`].
///
/// # Examples
///
/// ```
/// let runtime = anyio::Runtime::builder()
///     .worker_threads(0) // everything on the calling thread
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// runtime.block_on(async {});
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    worker_threads: Option<usize>,
    thread_name: String,
    hooks: ThreadHooks,
    clock: Option<clock::MockClock>,
    seed: Option<u64>,
}

impl Builder {
    /// The number of background threads serving `spawn`ed tasks (default: the available
    /// parallelism). With 0, every task runs on the thread calling `block_on`.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = anyio::Runtime::builder().worker_threads(0).build().unwrap();
    /// let caller = std::thread::current().id();
    /// runtime.block_on(async {
    ///     anyio::task_group!(|tg| {
    ///         tg.spawn(async move { assert_eq!(std::thread::current().id(), caller) });
    ///     })
    ///     .unwrap();
    /// });
    /// ```
    pub fn worker_threads(mut self, threads: usize) -> Builder {
        self.worker_threads = Some(threads);
        self
    }

    /// The name of the worker threads (default `anyio-worker`).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = anyio::Runtime::builder().worker_threads(1).thread_name("db-pool");
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// builder.build().unwrap().block_on(async {
    ///     anyio::task_group!(|tg| {
    ///         tg.spawn(async move { tx.send(std::thread::current().name().map(String::from)) });
    ///         // Blocks this thread (only to show the name), so the worker runs the task.
    ///         assert!(rx.recv().unwrap().unwrap().starts_with("db-pool"));
    ///     })
    ///     .unwrap();
    /// });
    /// ```
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = name.into();
        self
    }

    /// Runs `hook` on every thread that polls tasks, when it starts: each worker
    /// thread, and the thread calling [`Runtime::block_on`] at the start of each call.
    /// For thread-local setup, such as entering a runtime of another library (with the
    /// `tokio` feature, anyio enters its own tokio runtime there already).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let counter = started.clone();
    /// let runtime = anyio::Runtime::builder()
    ///     .worker_threads(2)
    ///     .on_thread_start(move || {
    ///         counter.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// runtime.block_on(async {});
    /// drop(runtime); // joins the workers: both have started by now
    /// assert_eq!(started.load(Ordering::Relaxed), 3); // two workers and one block_on
    /// ```
    pub fn on_thread_start(mut self, hook: impl Fn() + Send + Sync + 'static) -> Builder {
        self.hooks.start = Some(Arc::new(hook));
        self
    }

    /// Runs `hook` on every thread that polls tasks, when it stops: each worker thread
    /// as the runtime shuts down, and the thread calling [`Runtime::block_on`] at the
    /// end of each call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let stopped = Arc::new(AtomicUsize::new(0));
    /// let counter = stopped.clone();
    /// let runtime = anyio::Runtime::builder()
    ///     .worker_threads(1)
    ///     .on_thread_stop(move || {
    ///         counter.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// runtime.block_on(async {});
    /// assert_eq!(stopped.load(Ordering::Relaxed), 1); // the block_on call ended
    /// drop(runtime);
    /// assert_eq!(stopped.load(Ordering::Relaxed), 2); // and the worker stopped
    /// ```
    pub fn on_thread_stop(mut self, hook: impl Fn() + Send + Sync + 'static) -> Builder {
        self.hooks.stop = Some(Arc::new(hook));
        self
    }

    /// The clock of the runtime: `current_time()`, `sleep` and every deadline follow
    /// it. Default: the system's monotonic clock. A test gives a
    /// [`MockClock`](crate::testing::MockClock) to control time.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::testing::MockClock;
    ///
    /// let clock = MockClock::new().autojump_threshold(0);
    /// let runtime = anyio::Runtime::builder().clock(clock).build().unwrap();
    /// let start = std::time::Instant::now();
    /// runtime.block_on(anyio::sleep(3600)); // an hour, virtually
    /// assert!(start.elapsed() < std::time::Duration::from_secs(60));
    /// ```
    pub fn clock(mut self, clock: crate::testing::MockClock) -> Builder {
        self.clock = Some(clock);
        self
    }

    /// Makes the runtime's schedule reproducible: the ready children of every task group
    /// are polled in an order drawn from `seed`, and a mock clock's autojump (if any)
    /// happens on the thread that runs the tasks, when nothing is left to run. With
    /// `worker_threads(0)` and a mock clock, as `#[anyio::test(seed = N)]` sets up, the
    /// same seed then gives the same interleaving, and other seeds other ones.
    ///
    /// Not covered: I/O readiness and threads (`to_thread`, `to_process`) run at their
    /// own speed, and tasks spawned onto worker threads run wherever they land.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Mutex;
    ///
    /// fn order_with(seed: u64) -> Vec<u32> {
    ///     let runtime = anyio::Runtime::builder().worker_threads(0).seed(seed).build().unwrap();
    ///     let order = Mutex::new(Vec::new());
    ///     runtime.block_on(async {
    ///         anyio::task_group!(|tg| {
    ///             for id in 0..8 {
    ///                 let order = &order;
    ///                 tg.start_soon(async move { order.lock().unwrap().push(id) });
    ///             }
    ///         })
    ///         .unwrap();
    ///     });
    ///     order.into_inner().unwrap()
    /// }
    /// assert_eq!(order_with(7), order_with(7)); // a seed replays
    /// ```
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = Some(seed);
        self
    }

    /// Starts the worker threads.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::Io`](crate::ErrorKind::Io) error if a thread cannot be started.
    ///
    /// # Examples
    ///
    /// ```
    /// fn main() -> anyio::Result<()> {
    ///     let runtime = anyio::Runtime::builder().worker_threads(2).build()?;
    ///     assert_eq!(runtime.block_on(async { 6 * 7 }), 42);
    ///     Ok(())
    /// }
    /// ```
    pub fn build(self) -> Result<Runtime> {
        let threads = self.worker_threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let shared = Arc::new(RuntimeShared {
            executor: Arc::default(),
            registry: Registry::default(),
            deadlines: DeadlineQueue::default(),
            calls: calls::Calls::default(),
            run_vars: run_vars::RunVarValues::default(),
            clock: match &self.clock {
                Some(mock) => clock::Clock::Mock(mock.clone()),
                None => clock::Clock::System,
            },
            seeded: self.seed.map(seed::SeededOrder::new),
            process_pool: std::sync::OnceLock::new(),
        });
        let (stop, stopped) = async_channel::bounded::<()>(1);
        #[cfg(feature = "tokio")]
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(format!("{}-tokio", self.thread_name))
            .enable_all()
            .build()
            .map_err(Error::from)?;
        if let Some(mock) = &self.clock {
            mock.attach(Arc::downgrade(&shared));
        }
        let mut runtime = Runtime {
            shared: shared.clone(),
            stop: Some(stop),
            workers: Vec::with_capacity(threads + 1),
            executor_threads: threads,
            hooks: self.hooks.clone(),
            _mock_clock: self.clock.as_ref().map(|_| clock::MockRuntimeGuard::new()),
            #[cfg(feature = "tokio")]
            tokio,
        };
        let timer = shared.clone();
        let timer_thread = std::thread::Builder::new()
            .name(format!("{}-timer", self.thread_name))
            .spawn(move || {
                // A seeded runtime without workers jumps in its loop instead.
                let jumps_here = timer.seeded.is_none() || threads > 0;
                timer
                    .deadlines
                    .run(&timer.clock, &timer.registry, jumps_here)
            })
            .map_err(Error::from)?;
        runtime.workers.push(timer_thread);
        for index in 0..threads {
            let shared = shared.clone();
            let stopped = stopped.clone();
            let hooks = self.hooks.clone();
            #[cfg(feature = "tokio")]
            let tokio = runtime.tokio.handle().clone();
            let worker = std::thread::Builder::new()
                .name(format!("{}-{index}", self.thread_name))
                .spawn(move || {
                    let _thread = TaskThread::enter(
                        &hooks,
                        #[cfg(feature = "tokio")]
                        &tokio,
                    );
                    let _runtime = current::enter(&shared);
                    let _serving = shared.calls.serve();
                    async_io::block_on(shared.executor.run(async {
                        let _ = stopped.recv().await;
                    }));
                })
                .map_err(Error::from)?;
            runtime.workers.push(worker);
        }
        Ok(runtime)
    }
}

impl Runtime {
    /// A runtime with the default configuration.
    ///
    /// # Errors
    ///
    /// As for [`Builder::build`].
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = anyio::Runtime::new().unwrap();
    /// assert_eq!(runtime.block_on(async { 1 + 1 }), 2);
    /// assert_eq!(runtime.block_on(async { "again" }), "again"); // one runtime, many futures
    /// ```
    pub fn new() -> Result<Runtime> {
        Runtime::builder().build()
    }

    /// A builder to configure a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = anyio::Runtime::builder().worker_threads(1).build().unwrap();
    /// let value = runtime.block_on(anyio::fail_after(1, async { 5 }));
    /// assert_eq!(value.unwrap(), 5);
    /// ```
    pub fn builder() -> Builder {
        Builder {
            worker_threads: None,
            thread_name: "anyio-worker".to_owned(),
            hooks: ThreadHooks::default(),
            clock: None,
            seed: None,
        }
    }

    /// Runs `future` to completion on the calling thread, as the runtime's main task.
    /// The future need not be `Send`.
    ///
    /// # Panics
    ///
    /// Panics if called from inside a running anyio runtime (await the future there
    /// instead), and resumes any panic of `future`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// let runtime = anyio::Runtime::new().unwrap();
    /// let shared = Rc::new(5); // not `Send`: fine for the main task
    /// let doubled = runtime.block_on(async move {
    ///     anyio::sleep(0.001).await;
    ///     *shared * 2
    /// });
    /// assert_eq!(doubled, 10);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        assert!(
            !in_runtime(),
            "anyio::run() or Runtime::block_on() was called from inside a running anyio \
             runtime; await the future instead, or start it in a task group"
        );
        let _thread = TaskThread::enter(
            &self.hooks,
            #[cfg(feature = "tokio")]
            self.tokio.handle(),
        );
        let _runtime = current::enter(&self.shared);
        let _serving = self.shared.calls.serve();
        // The main task starts outside any scope, even when `block_on` is called from
        // inside a foreign poll of anyio code (whose scope is current on this thread).
        let _scope = context::ScopeEnter::new(None);
        let id = next_task_id();
        self.shared.registry.main_task.store(id, Ordering::Release);
        struct ClearMain<'a>(&'a RuntimeShared);
        impl Drop for ClearMain<'_> {
            fn drop(&mut self) {
                self.0.registry.main_task.store(0, Ordering::Release);
            }
        }
        let _clear = ClearMain(&self.shared);
        let main = MainTask {
            future,
            id,
            identity: Some(CurrentTask::Root(Arc::new(RootIdentity {
                id,
                name: "main",
            }))),
        };
        // Without worker threads, this thread runs every task and drives the reactor.
        main_loop::run(&self.shared.executor, main, self.executor_threads == 0)
    }
}

impl Runtime {
    /// The shared state, for the crate's own tools (the test watchdog).
    pub(crate) fn shared(&self) -> &Arc<RuntimeShared> {
        &self.shared
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        drop(self.stop.take());
        self.shared.deadlines.stop();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        // No thread runs the executor any more: calls still waiting for it fail, and
        // the jobs still queued are dropped.
        self.shared.calls.finish();
        self.shared.executor.close();
        self.shared.run_vars.clear();
        if let Some(pool) = self.shared.process_pool.get() {
            pool.shutdown();
        }
    }
}

pin_project_lite::pin_project! {
    /// Polls the main future as the main task.
    struct MainTask<F> {
        #[pin]
        future: F,
        id: u64,
        identity: Option<CurrentTask>,
    }
}

impl<F: Future> Future for MainTask<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _task = context::TaskEnter::new(*this.id, this.identity);
        this.future.poll(cx)
    }
}

/// Runs `future` to completion on a new runtime with the default configuration, and
/// returns its output. The future need not be `Send`.
///
/// # Panics
///
/// Panics if called from inside a running anyio runtime, or if the runtime's threads
/// cannot be started; resumes any panic of `future`.
///
/// # Examples
///
/// ```
/// let answer = anyio::run(async {
///     anyio::sleep(0.001).await;
///     42
/// });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    assert!(
        !in_runtime(),
        "anyio::run() was called from inside a running anyio runtime; await the future \
         instead, or start it in a task group"
    );
    Runtime::new()
        .unwrap_or_else(|e| panic!("anyio::run() could not start the runtime: {e}"))
        .block_on(future)
}
