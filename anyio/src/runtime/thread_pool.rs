//! The pool of threads that `to_thread` jobs run on.
//!
//! Threads are started when a job finds no idle thread (up to `MAX_THREADS`), reused
//! while jobs keep coming, and end after `IDLE_TIMEOUT` without work, so an idle program
//! keeps none. (The `blocking` crate's pool, 1.7, keeps idle threads forever below its
//! limit, hence a pool of our own.) A job is an `async-task` task: its handle is awaited
//! for the result, and dropping the handle before the job started means it never runs.
//!
//! Invariant: `idle` counts the threads waiting for work, and a job is pushed only
//! together with a wake-up of an idle thread or the start of a new one whenever the
//! queue outgrows the idle threads; so a queued job never waits for a busy thread while
//! the pool could grow.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use async_task::{Runnable, Task};

use crate::base::lock::lock;

/// How long a thread waits for work before it ends.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(1);

/// The most threads at once (jobs beyond wait in the queue).
const MAX_THREADS: usize = 512;

/// The name of the pool's threads (within Linux's 15 characters).
pub(crate) const THREAD_NAME: &str = "anyio-thread";

struct Inner {
    queue: VecDeque<Runnable>,
    idle: usize,
    threads: usize,
}

struct Pool {
    inner: Mutex<Inner>,
    work: Condvar,
}

static POOL: Pool = Pool {
    inner: Mutex::new(Inner {
        queue: VecDeque::new(),
        idle: 0,
        threads: 0,
    }),
    work: Condvar::new(),
};

/// Runs `job` on a pool thread. The task resolves to its result (a panic resumes where
/// the task is awaited); dropping the task before the job started means it never runs,
/// and after, that its result is dropped.
pub(crate) fn spawn<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Task<T> {
    // Counted until the job's future is dropped: run, or cancelled before it ran.
    let in_flight = InFlight::new();
    let (runnable, task) = async_task::Builder::new().propagate_panic(true).spawn(
        move |()| async move {
            let _in_flight = in_flight;
            job()
        },
        schedule,
    );
    runnable.schedule();
    task
}

/// Jobs queued or running (a mock clock's autojump waits for them).
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// How many jobs are queued or running.
pub(crate) fn jobs_in_flight() -> usize {
    IN_FLIGHT.load(Ordering::Acquire)
}

struct InFlight;

impl InFlight {
    fn new() -> InFlight {
        IN_FLIGHT.fetch_add(1, Ordering::AcqRel);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
    }
}

fn schedule(runnable: Runnable) {
    let mut inner = lock(&POOL.inner);
    inner.queue.push_back(runnable);
    if inner.queue.len() <= inner.idle {
        drop(inner);
        POOL.work.notify_one();
        return;
    }
    if inner.threads >= MAX_THREADS {
        return; // a busy thread takes it when it is done
    }
    inner.threads += 1;
    let number = inner.threads;
    drop(inner);
    let started = std::thread::Builder::new()
        .name(format!("{THREAD_NAME}-{number}"))
        .spawn(run_jobs);
    if started.is_err() {
        let mut inner = lock(&POOL.inner);
        inner.threads -= 1;
        if inner.threads == 0 {
            // No thread can start and none runs: run the job here rather than leave it
            // queued forever (this blocks the caller, but nothing hangs).
            let waiting = inner.queue.pop_front();
            drop(inner);
            if let Some(runnable) = waiting {
                runnable.run();
            }
        }
        // Otherwise an existing thread takes the job when it is done with its own.
    }
}

/// A pool thread: runs jobs until none comes for `IDLE_TIMEOUT`.
fn run_jobs() {
    let mut inner = lock(&POOL.inner);
    loop {
        while let Some(runnable) = inner.queue.pop_front() {
            drop(inner);
            // A panic is caught by the task (propagated to its awaiter).
            runnable.run();
            inner = lock(&POOL.inner);
        }
        inner.idle += 1;
        let (woken, wait) = POOL
            .work
            .wait_timeout(inner, IDLE_TIMEOUT)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        inner = woken;
        inner.idle -= 1;
        if wait.timed_out() && inner.queue.is_empty() {
            inner.threads -= 1;
            return;
        }
    }
}
