//! The runtime's executor: one queue of runnable jobs, served by the worker threads and by
//! the `block_on` thread between polls of the main task.
//!
//! A job is either a root task (an async-task `Runnable`: calls from other threads) or a
//! spawned group child (a `ChildTask`, whose allocation holds its identity and its future
//! together: see `os::raw_task`). Every task here is detached: a root task reports its
//! outcome through its own slot, a child through its group.
//!
//! When the runtime is dropped, the executor closes: the jobs still queued are dropped
//! (their futures with them), and so are the root tasks and the spawned children that it
//! holds but nothing would run any more (it knows them through their groups). While it
//! closes, wakes still queue their tasks, which the closing thread drops (holding no
//! lock); a task woken after that is dropped by the wake itself, on the waking thread.
//! Either way a dropped child reports to its group, so the crate wakes tasks outside the
//! group's lock.
//!
//! Idle threads wait as *sleepers*: each registers a waker and is woken by the next push.
//! The push and the sleeper's registration are ordered by SeqCst fences on both sides
//! (push, fence, read the sleeper count / count, fence, look at the queue again), so a
//! job is never left in the queue while every thread sleeps.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};

use concurrent_queue::ConcurrentQueue;

use crate::base::lock::lock;
use crate::task::group::GroupShared;
use crate::task::spawned::ChildTask;

/// Something the executor runs once when it is popped.
pub(crate) enum Job {
    Root(async_task::Runnable),
    Child(ChildTask),
}

impl Job {
    /// Drops the job without running it (the executor is closed): its future is dropped
    /// now, as async-executor's drop did, not whenever its last waker goes (a task that
    /// holds its own waker would never go).
    fn cancel(self) {
        match self {
            // Dropping a runnable drops its future.
            Job::Root(runnable) => drop(runnable),
            Job::Child(task) => task.cancel(),
        }
    }

    fn run(self) {
        match self {
            Job::Root(runnable) => {
                runnable.run();
            }
            Job::Child(task) => task.run(),
        }
    }
}

/// How many jobs a worker runs between two looks at its own future (its stop signal)
/// and at the reactor.
const JOBS_PER_ROUND: usize = 128;

/// The queue of runnable jobs and the threads sleeping until there is one.
pub(crate) struct Executor {
    queue: ConcurrentQueue<Job>,
    sleepers: Mutex<Sleepers>,
    /// How many sleepers wait un-notified (`sleepers.waiting.len()`), readable without the
    /// lock: a push with nobody asleep costs a fence and this load.
    waiting: AtomicUsize,
    /// Set once the runtime is dropped: jobs pushed later are dropped at once.
    closed: AtomicBool,
    /// A waker of each live root task: keeps a task that nothing can wake alive until
    /// the runtime is dropped (a call that waits forever then fails with `RunFinished`,
    /// rather than being dropped as soon as its last waker is), and wakes it then, so
    /// that it is dropped.
    roots: Mutex<Roots>,
    /// The groups with spawned children queued here, each listed once (by its first
    /// such child): `close` drops those children, which nothing would run any more
    /// (their group may run on another runtime, or its run future may be gone).
    groups: Mutex<Groups>,
}

/// The list of `Executor::groups`, swept of ended groups when it reaches `sweep_at`
/// (twice its length after the last sweep: amortized O(1) per listing).
struct Groups {
    list: Vec<Weak<GroupShared>>,
    sweep_at: usize,
}

/// The shortest list of groups that is swept.
const GROUPS_SWEPT_FROM: usize = 16;

#[derive(Default)]
struct Roots {
    wakers: Vec<Option<Waker>>,
    free: Vec<usize>,
}

#[derive(Default)]
struct Sleepers {
    /// Sleepers not yet notified, with their ids.
    waiting: Vec<(usize, Waker)>,
    next_id: usize,
}

impl Default for Executor {
    fn default() -> Self {
        Executor {
            queue: ConcurrentQueue::unbounded(),
            sleepers: Mutex::new(Sleepers::default()),
            waiting: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            roots: Mutex::new(Roots::default()),
            groups: Mutex::new(Groups {
                list: Vec::new(),
                sweep_at: GROUPS_SWEPT_FROM,
            }),
        }
    }
}

impl Executor {
    /// Queues `job` and wakes a sleeping thread if there is one.
    pub(crate) fn push(&self, job: Job) {
        if self.closed.load(Ordering::Acquire) {
            // A late wake (the runtime is gone): the job is dropped here.
            job.cancel();
            return;
        }
        // The queue is never closed: while the runtime closes (`closed` not yet set),
        // jobs still queue, and the closing thread drops them.
        let _ = self.queue.push(job);
        // Pairs with the fence in `Ticker::poll_tick`: either this sees the sleeper
        // counted, or the sleeper sees the job. Pairs too with `close`: either this
        // sees `closed` (and drops what is queued itself), or `close`'s last look at
        // the queue sees the job.
        fence(Ordering::SeqCst);
        if self.closed.load(Ordering::Relaxed) {
            let mut panic = None;
            self.drain(&mut panic);
            if let Some(payload) = panic {
                std::panic::resume_unwind(payload);
            }
            return;
        }
        if self.waiting.load(Ordering::Relaxed) > 0 {
            self.notify_one();
        }
    }

    /// Drops every queued job; the first panic of a job's drop is kept in `panic` (the
    /// other jobs are still dropped).
    fn drain(&self, panic: &mut Option<Box<dyn std::any::Any + Send>>) {
        while let Ok(job) = self.queue.pop() {
            contain(panic, || job.cancel());
        }
    }

    fn notify_one(&self) {
        let woken = {
            let mut sleepers = lock(&self.sleepers);
            let woken = sleepers.waiting.pop();
            self.waiting
                .store(sleepers.waiting.len(), Ordering::Relaxed);
            woken
        };
        if let Some((_, waker)) = woken {
            waker.wake();
        }
    }

    /// Spawns a detached root task, kept alive (see `roots`) until it ends or the
    /// runtime is dropped.
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let executor = Arc::downgrade(self);
        let schedule = move |runnable| match executor.upgrade() {
            Some(executor) => executor.push(Job::Root(runnable)),
            // The runtime is gone: dropping the runnable drops the future.
            None => drop(runnable),
        };
        let key = Arc::new(AtomicUsize::new(usize::MAX));
        let listed = RootListed {
            executor: Arc::downgrade(self),
            key: key.clone(),
        };
        let (runnable, task) = async_task::spawn(
            async move {
                let _listed = listed;
                future.await;
            },
            schedule,
        );
        task.detach();
        {
            let mut roots = lock(&self.roots);
            let waker = Some(runnable.waker());
            let index = match roots.free.pop() {
                Some(index) => {
                    roots.wakers[index] = waker;
                    index
                }
                None => {
                    roots.wakers.push(waker);
                    roots.wakers.len() - 1
                }
            };
            key.store(index, Ordering::Release);
        }
        runnable.schedule();
    }

    /// Lists `group` as one with spawned children here (see `groups`); ended groups are
    /// swept out as the list doubles.
    pub(crate) fn list_group(&self, group: &Arc<GroupShared>) {
        let mut groups = lock(&self.groups);
        if self.closed.load(Ordering::Relaxed) {
            // Closed (its children are dropped as they are woken).
            return;
        }
        if groups.list.len() >= groups.sweep_at {
            groups.list.retain(|group| group.strong_count() > 0);
            groups.sweep_at = (2 * groups.list.len()).max(GROUPS_SWEPT_FROM);
        }
        groups.list.push(Arc::downgrade(group));
    }

    /// Runs one queued job, if there is one.
    pub(crate) fn try_tick(&self) -> bool {
        match self.queue.pop() {
            Ok(job) => {
                job.run();
                true
            }
            Err(_) => false,
        }
    }

    /// A waiter for the next job, which keeps its place among the sleepers across polls.
    pub(crate) fn ticker(&self) -> Ticker<'_> {
        Ticker {
            executor: self,
            id: None,
        }
    }

    /// Runs jobs until `future` completes (a worker thread's loop).
    pub(crate) async fn run<T>(&self, future: impl Future<Output = T>) -> T {
        let mut future = std::pin::pin!(future);
        let mut ticker = self.ticker();
        std::future::poll_fn(|cx| {
            loop {
                if let Poll::Ready(output) = future.as_mut().poll(cx) {
                    return Poll::Ready(output);
                }
                let mut ran = 0;
                while ran < JOBS_PER_ROUND && self.try_tick() {
                    ran += 1;
                }
                if ran == JOBS_PER_ROUND {
                    // Busy: let `block_on` look at the reactor (without blocking: the
                    // wake makes it poll this again at once).
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                match ticker.poll_tick(cx) {
                    // It ran a job pushed meanwhile: more may follow.
                    Poll::Ready(()) => continue,
                    Poll::Pending => return Poll::Pending,
                }
            }
        })
        .await
    }

    /// Closes the queue and drops the jobs still in it (their futures with them); jobs
    /// scheduled later are dropped as they are pushed.
    pub(crate) fn close(&self) {
        let mut panic = None;
        // Until `closed` is set, wakes still queue their tasks, so that the tasks are
        // dropped here (this thread holds no lock) rather than inside a waker's caller.
        self.drain(&mut panic);
        // Each root task still alive is queued, so dropped (outside the lock: the drop
        // unlists it). The free list goes too: a later spawn lists into an empty table.
        let roots = std::mem::take(&mut *lock(&self.roots));
        for waker in roots.wakers.into_iter().flatten() {
            waker.wake();
        }
        self.drain(&mut panic);
        // Each spawned child still here is queued, so dropped: it reports to its group
        // as cancelled (outside every lock: the report takes its group's).
        let groups = std::mem::take(&mut lock(&self.groups).list);
        for group in groups.iter().filter_map(Weak::upgrade) {
            let children = lock(&group.children).spawned_on(self);
            for task in children {
                task.wake();
            }
            self.drain(&mut panic);
        }
        {
            // Under the lock `list_group` takes: no group is listed after this.
            let _groups = lock(&self.groups);
            self.closed.store(true, Ordering::SeqCst);
        }
        // Pairs with the fence in `push`.
        fence(Ordering::SeqCst);
        self.drain(&mut panic);
        let sleepers = std::mem::take(&mut lock(&self.sleepers).waiting);
        for (_, waker) in sleepers {
            waker.wake();
        }
        if let Some(payload) = panic {
            std::panic::resume_unwind(payload);
        }
    }
}

/// Runs `f`, keeping its panic in `panic` if none is kept yet.
fn contain(panic: &mut Option<Box<dyn std::any::Any + Send>>, f: impl FnOnce()) {
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        panic.get_or_insert(payload);
    }
}

/// Unlists a root task from `Executor::roots` when its future ends or is dropped.
struct RootListed {
    executor: Weak<Executor>,
    /// The task's index in `roots.wakers`; set right after the spawn, before the task
    /// first runs.
    key: Arc<AtomicUsize>,
}

impl Drop for RootListed {
    fn drop(&mut self) {
        let Some(executor) = self.executor.upgrade() else {
            return;
        };
        let index = self.key.load(Ordering::Acquire);
        let mut roots = lock(&executor.roots);
        // Emptied by `close` meanwhile: nothing to unlist.
        if let Some(slot) = roots.wakers.get_mut(index)
            && slot.take().is_some()
        {
            roots.free.push(index);
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // No spawned child is left here (each holds the executor), and the groups may be
        // locked by the thread that dropped the last child: only the queue is emptied.
        self.closed.store(true, Ordering::SeqCst);
        self.drain(&mut None);
    }
}

/// A thread's wait for the next job (see `Executor::ticker`).
pub(crate) struct Ticker<'a> {
    executor: &'a Executor,
    /// The id under which this waits among the sleepers, while it does.
    id: Option<usize>,
}

impl Ticker<'_> {
    /// Runs one job if there is one (`Ready`), or registers `cx`'s waker to be woken by
    /// the next push (`Pending`).
    pub(crate) fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let executor = self.executor;
        loop {
            if let Ok(job) = executor.queue.pop() {
                self.wake_up();
                job.run();
                return Poll::Ready(());
            }
            if executor.closed.load(Ordering::Acquire) {
                self.wake_up();
                return Poll::Pending;
            }
            {
                let mut sleepers = lock(&executor.sleepers);
                match self
                    .id
                    .and_then(|id| sleepers.waiting.iter_mut().find(|(i, _)| *i == id))
                {
                    Some((_, waker)) => {
                        if !waker.will_wake(cx.waker()) {
                            waker.clone_from(cx.waker());
                        }
                    }
                    None => {
                        // New, or notified already (and asleep again).
                        let id = *self.id.get_or_insert_with(|| {
                            sleepers.next_id += 1;
                            sleepers.next_id
                        });
                        sleepers.waiting.push((id, cx.waker().clone()));
                    }
                }
                executor
                    .waiting
                    .store(sleepers.waiting.len(), Ordering::Relaxed);
            }
            // Pairs with the fence in `Executor::push`.
            fence(Ordering::SeqCst);
            if executor.queue.is_empty() {
                return Poll::Pending;
            }
        }
    }

    /// Leaves the sleepers (this has a job to run, or stops waiting); returns whether it
    /// had been notified (taken off the list by a push) since it last registered.
    fn wake_up(&mut self) -> bool {
        let Some(id) = self.id.take() else {
            return false;
        };
        let executor = self.executor;
        let mut sleepers = lock(&executor.sleepers);
        let before = sleepers.waiting.len();
        sleepers.waiting.retain(|(i, _)| *i != id);
        let notified = sleepers.waiting.len() == before;
        executor
            .waiting
            .store(sleepers.waiting.len(), Ordering::Relaxed);
        notified
    }
}

impl Drop for Ticker<'_> {
    fn drop(&mut self) {
        // A notification this ticker took but will not act on goes to another sleeper,
        // so that the job it announced is not left in the queue while every thread
        // sleeps.
        if self.wake_up() && !self.executor.queue.is_empty() {
            self.executor.notify_one();
        }
    }
}

impl Future for Ticker<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_tick(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_spawned_after_the_executor_closed_is_dropped_not_listed_into_a_stale_slot() {
        let executor = Arc::new(Executor::default());
        executor.spawn(async {});
        while executor.try_tick() {}
        // The ended task left a free slot in the root table.
        assert_eq!(lock(&executor.roots).free.len(), 1);
        executor.close();
        let dropped = Arc::new(AtomicBool::new(false));
        struct SetOnDrop(Arc<AtomicBool>);
        impl Drop for SetOnDrop {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let guard = SetOnDrop(dropped.clone());
        executor.spawn(async move {
            let _guard = guard;
        });
        assert!(
            dropped.load(Ordering::SeqCst),
            "a closed executor drops a new task"
        );
        assert!(!executor.try_tick());
    }
}
