//! Task identity and introspection: `TaskInfo`, `get_current_task`, `get_running_tasks`,
//! and the testing aid `wait_all_tasks_blocked`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::base::context;
use crate::base::task::TaskInfo;

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
#[track_caller]
pub fn get_current_task() -> TaskInfo {
    current_task_info().expect("get_current_task() must be called from a task of an anyio runtime")
}

/// The current task's info, if this thread is polling a task of an anyio runtime: read
/// from the per-thread context, in O(1) whatever the number of tasks.
fn current_task_info() -> Option<TaskInfo> {
    context::current_task_info()
}

/// The info of task `id` if it runs in the current runtime, else a record with only the
/// id (name "unknown"): for statistics that name a task. Compares ids across the
/// runtime's tasks and copies only the match.
pub(crate) fn task_info_by_id(id: u64) -> TaskInfo {
    if id == context::current_task_id()
        && let Some(info) = context::current_task_info()
    {
        return info;
    }
    crate::runtime::current_runtime()
        .and_then(|runtime| runtime.registry.find(id))
        .unwrap_or_else(|| TaskInfo {
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
    crate::runtime::current_runtime().map_or_else(Vec::new, |runtime| runtime.registry.tasks())
}

/// The name of the current task, for messages; "unknown" outside a runtime.
pub(crate) fn current_task_name() -> String {
    context::current_task_name().unwrap_or_else(|| "unknown".to_owned())
}

/// Returns once every other task of the runtime is parked (waiting on something other
/// than the scheduler), so that tests need no guessed sleeps.
///
/// Counts how often tasks run across the runtime's threads (polls of task roots and of
/// group bodies, leaving out those that only polled waiters like this one): once a few
/// yields in a row see nothing else run, and no other thread is in the middle of a poll,
/// every other task is blocked. Several tasks may wait at the same time.
///
/// # Cancel safety
///
/// A checkpoint; holds no data: cancelled by its scope or dropped from outside, it just
/// stops waiting.
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
///
/// # Cancel safety
///
/// As for [`wait_all_tasks_blocked`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let event = anyio::Event::new();
/// anyio::task_group!(|tg| {
///     tg.start_soon(event.wait());
///     let settled: anyio::WaitAllTasksBlocked = anyio::wait_all_tasks_blocked();
///     settled.await; // the child is now parked in `wait`
///     assert_eq!(event.statistics().tasks_waiting, 1);
///     event.set();
/// })
/// .unwrap();
/// # });
/// ```
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
        let Some(runtime) = crate::runtime::current_runtime() else {
            return Poll::Ready(());
        };
        context::mark_waiter_polled();
        let (count, others_busy) = runtime.registry.activity();
        if let Some(last) = self.last_count {
            // A task in the middle of a poll on another thread is not blocked, however
            // long that poll takes.
            if count == last && !others_busy {
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
