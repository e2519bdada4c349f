//! Task identity and introspection: `TaskInfo`, `get_current_task`, `get_running_tasks`,
//! and the testing aid `wait_all_tasks_blocked`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use crate::runtime::context;

/// Hands out task ids; unique within the process, never 0.
static NEXT_TASK_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_task_id() -> u64 {
    NEXT_TASK_ID.fetch_add(1, Ordering::Relaxed)
}

/// What is known about a running task.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let me = anyio::get_current_task();
/// assert_eq!(me.name, "main");
/// assert_eq!(me.parent_id, None);
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskInfo {
    /// Unique within the process.
    pub id: u64,
    /// The name given at start, or else the type name of the task's future.
    pub name: String,
    /// The task that runs the group this task belongs to; `None` for the main task.
    pub parent_id: Option<u64>,
}

/// The task being run.
///
/// # Panics
///
/// Panics outside a task of an anyio runtime.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let main = anyio::get_current_task().id;
/// anyio::task_group!(|tg| {
///     tg.start_soon_named("worker", async move {
///         let me = anyio::get_current_task();
///         assert_eq!(me.name, "worker");
///         assert_eq!(me.parent_id, Some(main));
///     });
/// })
/// .unwrap();
/// # });
/// ```
pub fn get_current_task() -> TaskInfo {
    current_task_info().expect("get_current_task() must be called from a task of an anyio runtime")
}

/// The current task's info, if this thread is polling a task of an anyio runtime.
fn current_task_info() -> Option<TaskInfo> {
    find_task(context::current_task_id())
}

/// Task `id` of the current runtime, if it runs there.
fn find_task(id: u64) -> Option<TaskInfo> {
    context::current_runtime()?
        .tasks()
        .into_iter()
        .find(|task| task.id == id)
}

/// The info of task `id` if it runs in the current runtime, else a record with only the
/// id (name "unknown"): for statistics that name a task.
pub(crate) fn task_info_by_id(id: u64) -> TaskInfo {
    find_task(id).unwrap_or_else(|| TaskInfo {
        id,
        name: "unknown".to_owned(),
        parent_id: None,
    })
}

/// Every task of the current runtime: the main task and every child of every live group.
///
/// Returns an empty list outside a runtime.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let before = anyio::get_running_tasks().len();
/// anyio::task_group!(|tg| {
///     tg.start_soon(anyio::sleep(0.01));
///     anyio::wait_all_tasks_blocked().await;
///     assert_eq!(anyio::get_running_tasks().len(), before + 1);
/// })
/// .unwrap();
/// assert_eq!(anyio::get_running_tasks().len(), before);
/// # });
/// ```
pub fn get_running_tasks() -> Vec<TaskInfo> {
    context::current_runtime().map_or_else(Vec::new, |runtime| runtime.tasks())
}

/// The name of the current task, for messages; "unknown" outside a runtime.
pub(crate) fn current_task_name() -> String {
    current_task_info().map_or_else(|| "unknown".to_owned(), |task| task.name)
}

/// Returns once every other task of the runtime is parked (waiting on something other
/// than the scheduler), so that tests need no guessed sleeps.
///
/// Counts how often tasks run across the runtime's threads (polls of task roots and of
/// group bodies, leaving out those that only polled waiters like this one): once a few
/// yields in a row see nothing else run, every other task is blocked. Several tasks may
/// wait at the same time.
///
/// # Cancel safety
///
/// A checkpoint; holds no data.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// # anyio::run(async {
/// let reached = AtomicBool::new(false);
/// anyio::task_group!(|tg| {
///     tg.start_soon(async {
///         reached.store(true, Ordering::SeqCst);
///         anyio::sleep_forever().await;
///     });
///     anyio::wait_all_tasks_blocked().await;
///     assert!(reached.load(Ordering::SeqCst));
///     tg.cancel();
/// })
/// .unwrap();
/// # });
/// ```
pub fn wait_all_tasks_blocked() -> WaitAllTasksBlocked {
    WaitAllTasksBlocked {
        last_count: None,
        quiet_rounds: 0,
    }
}

/// Consecutive quiet yields needed before all other tasks count as blocked.
const QUIET_ROUNDS: u32 = 3;

/// The future of [`wait_all_tasks_blocked`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct WaitAllTasksBlocked {
    /// The runtime's poll count when this future last yielded.
    last_count: Option<u64>,
    quiet_rounds: u32,
}

impl Future for WaitAllTasksBlocked {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if crate::lowlevel::is_cancelled() {
            return Poll::Pending;
        }
        let Some(runtime) = context::current_runtime() else {
            return Poll::Ready(());
        };
        context::mark_waiter_polled();
        let count = runtime.total_polls();
        if let Some(last) = self.last_count {
            if count == last {
                self.quiet_rounds += 1;
            } else {
                self.quiet_rounds = 0;
            }
            if self.quiet_rounds >= QUIET_ROUNDS {
                return Poll::Ready(());
            }
        }
        self.last_count = Some(count);
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
