//! Tools for tests: [`task_tree`], a picture of every task of the runtime, and the
//! watchdog behind `#[anyio::test(timeout = ..)]`.
//!
//! # Virtual time
//!
//! A [`MockClock`] given to a runtime (`Builder::clock`, or `#[anyio::test(autojump)]`)
//! replaces the system clock for `current_time()`, `sleep` and every deadline of that
//! runtime. With autojump, a test of timeouts runs in milliseconds:
//!
//! ```
//! use anyio::testing::MockClock;
//!
//! // What `#[anyio::test(autojump)]` sets up for a test:
//! let runtime = anyio::Runtime::builder()
//!     .clock(MockClock::new().autojump_threshold(0))
//!     .build()
//!     .unwrap();
//! runtime.block_on(async {
//!     let start = anyio::current_time();
//!     for delay in [1, 2, 4, 8] {
//!         anyio::sleep(delay).await; // 15 virtual seconds in all
//!     }
//!     assert_eq!(anyio::current_time() - start, std::time::Duration::from_secs(15));
//! });
//! ```
//!
//! Under `#[anyio::test(autojump, timeout = s)]` the timeout counts real time (virtual
//! time may pass in jumps), and so does the watchdog.
//!
//! # Seeded schedules
//!
//! `#[anyio::test(seed = N)]` runs the test on one thread with a mock clock that
//! autojumps, and polls the ready children of every task group in an order drawn from
//! the seed (see [`Builder::seed`](crate::Builder::seed)): the same seed gives the same
//! interleaving, and on failure the message says "re-run with seed = N".
//! `seed = random` draws a new seed each run (printed on failure); `seeds = K` runs the
//! body under seeds 0 to K-1 in turn, a small explorer of schedules.
//!
//! Deterministic: the order of group children, the clock, and so everything that
//! depends only on them. Not deterministic: I/O readiness (the operating system's),
//! threads (`to_thread`, `to_process`), and wakes from other threads.
//!
//! # The watchdog
//!
//! `#[anyio::test(timeout = s)]` runs the test's body under `fail_after(s)`, and also
//! starts a watchdog thread. If the body has not ended `s` seconds plus a grace period
//! (a quarter of `s`, at least 2 s) after it started, the cancel did not stop it: some
//! task ignores cancellation (a shielded wait that never ends, a thread blocked in a
//! task). The watchdog then prints the test's name, the timeout and the [`task_tree`] to
//! stderr and ends the test process with exit code 101 (a failed test's): a thread
//! that never returns cannot be failed otherwise, and a hung test must not hang the
//! whole suite.
//!
//! # Examples
//!
//! ```
//! # anyio::run(async {
//! anyio::task_group!(|tg| {
//!     tg.start_soon_named("sleeper", anyio::sleep(0.05));
//!     anyio::sleep(0.01).await; // the sleeper has started and waits
//!     let tree = anyio::testing::task_tree().to_string();
//!     assert!(tree.contains("main"));
//!     assert!(tree.contains("sleeper"));
//! })
//! .unwrap();
//! # });
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use crate::runtime::clock::MockClock;

use crate::base::lock::lock;
use crate::base::task::{TaskDescription, TaskInfo};
use crate::runtime::{Runtime, RuntimeShared};

/// Every task of a runtime at one moment, as a tree: each task with its name, id,
/// state (running, ready to run, waiting, finished) and the scopes around it (deadline,
/// shield, cancel called and why), children under their parents. From [`task_tree`];
/// print it with `{}`.
///
/// The scopes listed for a group's child are its group's scope and the scopes around
/// that group; scopes that a task entered inside its own body are not visible from
/// outside it.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let tree: anyio::testing::TaskTree = anyio::testing::task_tree();
/// assert_eq!(tree.len(), 1); // the main task alone
/// println!("{tree}");
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct TaskTree {
    tasks: Vec<(TaskInfo, TaskDescription)>,
    /// The task that asked for the tree, if it is one (shown as running).
    current: Option<u64>,
}

/// The tree of every task of the current runtime (empty outside one).
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// anyio::task_group!(|tg| {
///     tg.start_soon_named("worker", anyio::sleep(0.05));
///     anyio::sleep(0.01).await;
///     let tree = anyio::testing::task_tree();
///     let worker = tree.to_string().lines().find(|l| l.contains("worker")).unwrap().to_owned();
///     assert!(worker.contains("waiting"));
/// })
/// .unwrap();
/// # });
/// ```
pub fn task_tree() -> TaskTree {
    let current = crate::base::context::current_task_id();
    crate::runtime::with_current_runtime(|runtime| {
        let mut tree = tree_of(runtime);
        tree.current = (current != 0).then_some(current);
        tree
    })
    .unwrap_or_default()
}

fn tree_of(runtime: &RuntimeShared) -> TaskTree {
    TaskTree {
        tasks: runtime.registry.described_tasks(),
        current: None,
    }
}

impl TaskTree {
    /// How many tasks it holds.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(anyio::testing::task_tree().is_empty()); // outside any runtime
    /// ```
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether it holds no task (outside any runtime).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(anyio::testing::task_tree().len(), 0);
    /// ```
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The tasks, each with its id, name and parent.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let names: Vec<String> =
    ///     anyio::testing::task_tree().tasks().map(|task| task.name.clone()).collect();
    /// assert_eq!(names, ["main"]);
    /// # });
    /// ```
    pub fn tasks(&self) -> impl Iterator<Item = &TaskInfo> + '_ {
        self.tasks.iter().map(|(info, _)| info)
    }
}

impl fmt::Display for TaskTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tasks.is_empty() {
            return writeln!(f, "(no tasks: not inside an anyio runtime)");
        }
        let ids: std::collections::HashSet<u64> = self.tasks.iter().map(|(t, _)| t.id).collect();
        let mut children: BTreeMap<Option<u64>, Vec<usize>> = BTreeMap::new();
        for (index, (task, _)) in self.tasks.iter().enumerate() {
            // A parent that is not listed (it ended) makes the task a root.
            let parent = task.parent_id.filter(|parent| ids.contains(parent));
            children.entry(parent).or_default().push(index);
        }
        let mut stack: Vec<(usize, usize)> = children
            .get(&None)
            .map(|roots| roots.iter().rev().map(|&i| (i, 0)).collect())
            .unwrap_or_default();
        while let Some((index, depth)) = stack.pop() {
            let (task, description) = &self.tasks[index];
            let state = if self.current == Some(task.id) {
                "running (it asked for this tree)"
            } else {
                description.state.unwrap_or("running or waiting")
            };
            writeln!(
                f,
                "{}{} (task {}): {state}",
                "    ".repeat(depth),
                task.name,
                task.id
            )?;
            for scope in &description.scopes {
                writeln!(f, "{}  in a scope: {scope}", "    ".repeat(depth))?;
            }
            if let Some(kids) = children.get(&Some(task.id)) {
                stack.extend(kids.iter().rev().map(|&i| (i, depth + 1)));
            }
        }
        Ok(())
    }
}

/// Runs `body` for at most `seconds` of real time (`None` after that), whatever the
/// runtime's clock: the timeout of `#[anyio::test(autojump, timeout = ..)]`.
#[doc(hidden)]
pub async fn real_time_limit<F: std::future::Future>(seconds: f64, body: F) -> Option<F::Output> {
    let limit = Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX);
    let expired = async move {
        async_io::Timer::after(limit).await;
        None
    };
    futures_lite::future::or(async move { Some(body.await) }, expired).await
}

/// Runs `run_one` once per seed, stopping at the first failure (a panic, or an output
/// that is a failure), which it reports with the seed that reproduces it: the body of
/// `#[anyio::test(seed = ..)]` and `#[anyio::test(seeds = ..)]`.
#[doc(hidden)]
pub fn run_with_seeds<T: crate::TaskOutput>(
    seeds: impl IntoIterator<Item = u64>,
    test: &str,
    mut run_one: impl FnMut(u64) -> T,
) -> T {
    let mut last = None;
    for seed in seeds {
        let report = || {
            eprintln!(
                "test `{test}` failed with seed = {seed}: re-run with seed = {seed} \
                 (`#[anyio::test(seed = {seed})]`) to replay its schedule"
            );
        };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_one(seed))) {
            Ok(output) if output.is_failure() => {
                report();
                return output;
            }
            Ok(output) => last = Some(output),
            Err(panic) => {
                report();
                std::panic::resume_unwind(panic);
            }
        }
    }
    last.expect("`seeds` gives at least one seed")
}

/// A seed for `seed = random`: different in each run (time and process id).
#[doc(hidden)]
pub fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

/// Ends the test process when a test outlives its timeout plus a grace period.
#[doc(hidden)]
pub struct Watchdog {
    state: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watchdog").finish_non_exhaustive()
    }
}

/// The grace after a test's timeout before the watchdog ends the process.
pub(crate) fn grace(timeout: Duration) -> Duration {
    (timeout / 4).max(Duration::from_secs(2))
}

impl Watchdog {
    /// Watches `runtime` for `timeout` plus the grace; disarmed when dropped.
    #[doc(hidden)]
    pub fn start(runtime: &Runtime, timeout_secs: f64, test: &'static str) -> Watchdog {
        let timeout = Duration::try_from_secs_f64(timeout_secs).unwrap_or(Duration::MAX);
        let limit = timeout.saturating_add(grace(timeout));
        let state = Arc::new((Mutex::new(false), Condvar::new()));
        let watched = std::sync::Arc::downgrade(runtime.shared());
        let thread_state = state.clone();
        let thread = std::thread::Builder::new()
            .name("anyio-watchdog".to_owned())
            .spawn(move || {
                let (done, changed) = &*thread_state;
                let until = Instant::now().checked_add(limit);
                let mut finished = lock(done);
                while !*finished {
                    let left = match until {
                        Some(until) => until.saturating_duration_since(Instant::now()),
                        None => Duration::from_secs(3600),
                    };
                    if until.is_some() && left.is_zero() {
                        break;
                    }
                    finished = changed
                        .wait_timeout(finished, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                if *finished {
                    return;
                }
                let tree = watched.upgrade().map(|rt| tree_of(&rt)).unwrap_or_default();
                eprintln!(
                    "test `{test}` did not end within its timeout of {timeout_secs} s plus a \
                     grace of {:.1} s: the cancel did not stop it, so some task ignores \
                     cancellation (a shielded wait, or a thread blocked in a task).\n\
                     The tasks of its runtime:\n{tree}",
                    grace(timeout).as_secs_f64()
                );
                std::process::exit(101);
            })
            .ok();
        Watchdog { state, thread }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let (done, changed) = &*self.state;
        *lock(done) = true;
        changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
