//! The runtime: an async-executor served by worker threads, and the async-io reactor.
//!
//! This is the only module that touches the executor and the reactor directly.

pub(crate) mod context;
pub(crate) mod deadlines;
mod main_loop;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::thread::JoinHandle;

use async_executor::{Executor, Task};

use crate::error::{Error, Result};
use crate::runtime::deadlines::DeadlineQueue;
use crate::task::{GroupShared, TaskInfo, next_task_id};

/// The state of one runtime, shared by its threads and its tasks.
pub(crate) struct RuntimeShared {
    executor: Executor<'static>,
    /// The task run by `block_on` (id 0 when none is running).
    main_task: AtomicU64,
    /// Live task groups, for `get_running_tasks`. Entries are removed when a group ends.
    groups: Mutex<Vec<Option<Weak<GroupShared>>>>,
    /// Per-thread counts of task-root polls, for `wait_all_tasks_blocked`.
    poll_counters: Mutex<Vec<Arc<AtomicU64>>>,
    /// Scopes waiting for their deadline, served by the timer thread.
    deadlines: DeadlineQueue,
}

impl RuntimeShared {
    pub(crate) fn deadlines(&self) -> &DeadlineQueue {
        &self.deadlines
    }

    /// Spawns a `'static` future onto the worker threads.
    pub(crate) fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Task<T> {
        self.executor.spawn(future)
    }

    pub(crate) fn register_group(&self, group: Weak<GroupShared>) -> usize {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = groups.iter().position(Option::is_none) {
            groups[key] = Some(group);
            key
        } else {
            groups.push(Some(group));
            groups.len() - 1
        }
    }

    pub(crate) fn unregister_group(&self, key: usize) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = groups.get_mut(key) {
            *slot = None;
        }
    }

    /// Every task: the main task and the children of every live group.
    pub(crate) fn tasks(&self) -> Vec<TaskInfo> {
        let mut tasks = Vec::new();
        let main = self.main_task.load(Ordering::Acquire);
        if main != 0 {
            tasks.push(TaskInfo {
                id: main,
                name: "main".to_owned(),
                parent_id: None,
            });
        }
        let groups: Vec<Arc<GroupShared>> = {
            let groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
            groups.iter().flatten().filter_map(Weak::upgrade).collect()
        };
        for group in groups {
            let host = group.host_task.load(Ordering::Acquire);
            let state = group.state.lock().unwrap_or_else(|e| e.into_inner());
            tasks.extend(state.nodes.iter().flatten().map(|node| TaskInfo {
                id: node.id,
                name: node.name.to_string(),
                parent_id: (host != 0).then_some(host),
            }));
        }
        tasks
    }

    fn new_poll_counter(&self) -> Arc<AtomicU64> {
        let counter = Arc::new(AtomicU64::new(0));
        self.poll_counters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(counter.clone());
        counter
    }

    /// Task-root polls so far, summed over the runtime's threads.
    pub(crate) fn total_polls(&self) -> u64 {
        let counters = self.poll_counters.lock().unwrap_or_else(|e| e.into_inner());
        counters
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
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
    workers: Vec<JoinHandle<()>>,
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
}

impl Builder {
    /// The number of background threads serving `spawn`ed tasks (default: the available
    /// parallelism). With 0, every task runs on the thread calling `block_on`.
    pub fn worker_threads(mut self, threads: usize) -> Builder {
        self.worker_threads = Some(threads);
        self
    }

    /// The name of the worker threads (default `anyio-worker`).
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = name.into();
        self
    }

    /// Starts the worker threads.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::Io`](crate::ErrorKind::Io) error if a thread cannot be started.
    pub fn build(self) -> Result<Runtime> {
        let threads = self.worker_threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let shared = Arc::new(RuntimeShared {
            executor: Executor::new(),
            main_task: AtomicU64::new(0),
            groups: Mutex::new(Vec::new()),
            poll_counters: Mutex::new(Vec::new()),
            deadlines: DeadlineQueue::default(),
        });
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let mut runtime = Runtime {
            shared: shared.clone(),
            stop: Some(stop),
            workers: Vec::with_capacity(threads),
        };
        let timer = shared.clone();
        let timer_thread = std::thread::Builder::new()
            .name(format!("{}-timer", self.thread_name))
            .spawn(move || timer.deadlines.run())
            .map_err(Error::from)?;
        runtime.workers.push(timer_thread);
        for index in 0..threads {
            let shared = shared.clone();
            let stopped = stopped.clone();
            let counter = shared.new_poll_counter();
            let worker = std::thread::Builder::new()
                .name(format!("{}-{index}", self.thread_name))
                .spawn(move || {
                    let _runtime = context::enter_runtime(shared.clone(), counter);
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
    pub fn new() -> Result<Runtime> {
        Runtime::builder().build()
    }

    /// A builder to configure a runtime.
    pub fn builder() -> Builder {
        Builder {
            worker_threads: None,
            thread_name: "anyio-worker".to_owned(),
        }
    }

    /// Runs `future` to completion on the calling thread, as the runtime's main task.
    /// The future need not be `Send`.
    ///
    /// # Panics
    ///
    /// Panics if called from inside a running anyio runtime (await the future there
    /// instead), and resumes any panic of `future`.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        assert!(
            !context::in_runtime(),
            "anyio::run() or Runtime::block_on() was called from inside a running anyio \
             runtime; await the future instead, or start it in a task group"
        );
        let counter = self.shared.new_poll_counter();
        let _runtime = context::enter_runtime(self.shared.clone(), counter);
        let id = next_task_id();
        self.shared.main_task.store(id, Ordering::Release);
        struct ClearMain<'a>(&'a RuntimeShared);
        impl Drop for ClearMain<'_> {
            fn drop(&mut self) {
                self.0.main_task.store(0, Ordering::Release);
            }
        }
        let _clear = ClearMain(&self.shared);
        let main = MainTask { future, id };
        main_loop::run(&self.shared.executor, main)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        drop(self.stop.take());
        self.shared.deadlines.stop();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

pin_project_lite::pin_project! {
    /// Polls the main future as the main task.
    struct MainTask<F> {
        #[pin]
        future: F,
        id: u64,
    }
}

impl<F: Future> Future for MainTask<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _task = context::TaskEnter::new(*this.id);
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
pub fn run<F: Future>(future: F) -> F::Output {
    assert!(
        !context::in_runtime(),
        "anyio::run() was called from inside a running anyio runtime; await the future \
         instead, or start it in a task group"
    );
    Runtime::new()
        .unwrap_or_else(|e| panic!("anyio::run() could not start the runtime: {e}"))
        .block_on(future)
}
