//! The pool of worker processes: one per anyio runtime (plus one for code outside any
//! runtime), with the default limiter of its calls.
//!
//! Workers are reused, most recently used first. One idle for [`MAX_IDLE`] is retired
//! (its socket closed, so it exits, and it is waited for) when a call next looks for a
//! worker: there is no timer and no thread watching the idle ones. When the runtime is
//! dropped, its pool closes every idle worker and waits for all of them to exit.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::protocol::{self, Reply};
use super::raw::{self, CodeRef};
use super::worker::{Reaper, Worker};
use super::worker_mode::Launch;
use crate::base::lock::lock;
use crate::error::{Error, ErrorKind, Result};
use crate::sync::{Borrower, CapacityLimiter};

/// How long a worker may stay idle before it is retired.
pub(super) const MAX_IDLE: Duration = Duration::from_secs(5 * 60);

/// How long dropping a runtime waits for its workers to exit.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// Worker processes, and the limiter of the calls that use them.
pub(crate) struct Pool {
    /// Idle workers, oldest first; changed by calls checking workers out and in.
    idle: Mutex<IdleList<Worker>>,
    /// Waits for dropped workers.
    reaper: Arc<Reaper>,
    /// `to_process::current_default_process_limiter()`: one token per CPU.
    limiter: Arc<CapacityLimiter>,
    /// Set by [`shutdown`](Pool::shutdown): workers checked in later are closed.
    closed: AtomicBool,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("idle", &lock(&self.idle).len())
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

/// A function and its argument, encoded for a worker.
#[derive(Debug)]
pub(super) struct Prepared {
    pub(super) code: CodeRef,
    pub(super) argument: Vec<u8>,
}

impl Pool {
    pub(crate) fn new() -> Pool {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Pool {
            idle: Mutex::new(IdleList::default()),
            reaper: Arc::default(),
            limiter: Arc::new(CapacityLimiter::new(cpus)),
            closed: AtomicBool::new(false),
        }
    }

    /// The pool of the runtime this thread serves, or outside any runtime the pool of
    /// the process (which lives as long as the process).
    pub(super) fn current() -> Arc<Pool> {
        static OUTSIDE_RUNTIMES: OnceLock<Arc<Pool>> = OnceLock::new();
        crate::runtime::with_current_runtime(|runtime| runtime.process_pool().clone())
            .unwrap_or_else(|| {
                OUTSIDE_RUNTIMES
                    .get_or_init(|| Arc::new(Pool::new()))
                    .clone()
            })
    }

    pub(super) fn limiter(&self) -> &Arc<CapacityLimiter> {
        &self.limiter
    }

    /// Runs `call` on a worker (an idle one, or a new one) and returns the encoded
    /// result; `name` names the function in errors.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BrokenWorkerProcess`] if no worker could be started, or the worker
    /// died or disagreed about the code (it is then waited for and replaced by the next
    /// call); [`ErrorKind::Other`] if the function panicked or its argument or result
    /// could not be encoded (the worker is then reused).
    ///
    /// # Cancel safety
    ///
    /// Dropped while a worker runs the call, that worker is killed with SIGKILL and
    /// waited for in the background.
    pub(super) async fn run(
        &self,
        launch: &Launch,
        name: &str,
        call: &Prepared,
    ) -> Result<Vec<u8>> {
        let request =
            protocol::call(&raw::own_stamp(), &call.code, &call.argument).map_err(|error| {
                Error::with_source(
                    ErrorKind::Other,
                    format!("cannot call `{name}`: {error}"),
                    error,
                )
            })?;
        let mut worker = match self.checkout() {
            Some(worker) => worker,
            None => Worker::start(launch, &self.reaper).await.map_err(|error| {
                Error::new(error.kind(), format!("cannot run `{name}`: {error}"))
            })?,
        };
        let pid = worker.pid();
        let reply = match worker.call(&request).await {
            Ok(body) => protocol::parse_reply(&body),
            Err(_) => {
                let status = worker.end().await;
                return Err(Error::new(
                    ErrorKind::BrokenWorkerProcess,
                    format!("worker process {pid} died while running `{name}` ({status})"),
                ));
            }
        };
        let error = |kind, message: String| Err(Error::new(kind, message));
        match reply {
            Some(Reply::Returned(result)) => {
                self.checkin(worker);
                Ok(result)
            }
            Some(Reply::Panicked(message)) => {
                self.checkin(worker);
                error(
                    ErrorKind::Other,
                    format!("`{name}` panicked in worker process {pid}: {message}"),
                )
            }
            Some(Reply::Failed(message)) => {
                self.checkin(worker);
                error(
                    ErrorKind::Other,
                    format!("calling `{name}` failed: {message}"),
                )
            }
            Some(Reply::Mismatch(message)) => error(
                ErrorKind::BrokenWorkerProcess,
                format!("worker process {pid} cannot run `{name}`: {message}"),
            ),
            None => error(
                ErrorKind::BrokenWorkerProcess,
                format!("worker process {pid} sent an unreadable reply to a call of `{name}`"),
            ),
        }
    }

    /// The most recently used live idle worker, after retiring those idle too long.
    fn checkout(&self) -> Option<Worker> {
        let (found, retired) = {
            let mut idle = lock(&self.idle);
            let mut retired = idle.take_expired(Instant::now(), MAX_IDLE);
            let found = loop {
                let Some((mut worker, since)) = idle.items.pop() else {
                    break None;
                };
                if !worker.has_exited() {
                    break Some(worker);
                }
                // Killed from outside while idle: waited for now, and forgotten.
                retired.push((worker, since));
            };
            (found, retired)
        };
        // Closed outside the lock: dropping a worker hands it to the reaper.
        drop(retired);
        found
    }

    /// Puts a worker that finished a call back in the pool.
    fn checkin(&self, worker: Worker) {
        if self.closed.load(Ordering::Acquire) {
            return; // dropped: closed and waited for
        }
        lock(&self.idle).push(worker, Instant::now());
    }

    /// Closes every idle worker and waits (up to a few seconds) until every worker the
    /// pool let go of has exited. Workers still running a call are closed when that call
    /// ends or is dropped.
    pub(crate) fn shutdown(&self) {
        self.closed.store(true, Ordering::Release);
        let idle = std::mem::take(&mut lock(&self.idle).items);
        drop(idle);
        self.reaper.wait_all(SHUTDOWN_WAIT);
    }
}

/// Items with the time each became idle, oldest first.
#[derive(Debug)]
struct IdleList<T> {
    items: Vec<(T, Instant)>,
}

impl<T> Default for IdleList<T> {
    fn default() -> Self {
        IdleList { items: Vec::new() }
    }
}

impl<T> IdleList<T> {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn push(&mut self, item: T, now: Instant) {
        self.items.push((item, now));
    }

    /// Removes and returns the items idle for `max_idle` or longer at `now`.
    fn take_expired(&mut self, now: Instant, max_idle: Duration) -> Vec<(T, Instant)> {
        let fresh = self
            .items
            .iter()
            .position(|(_, since)| now.duration_since(*since) < max_idle)
            .unwrap_or(self.items.len());
        self.items.drain(..fresh).collect()
    }
}

/// A borrower of the limiter for one call: unique, so that a task may make several calls
/// at once and may hold a token of the same limiter itself.
pub(super) fn borrower(name: &str) -> Borrower {
    static CALLS: AtomicU64 = AtomicU64::new(1);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    Borrower::from(format!("to_process::run_sync({name}) #{call}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_idle_too_long_are_retired_oldest_first() {
        let start = Instant::now();
        let mut idle = IdleList::default();
        idle.push("a", start);
        idle.push("b", start + Duration::from_secs(100));
        idle.push("c", start + Duration::from_secs(250));
        let retired = idle.take_expired(start + MAX_IDLE + Duration::from_secs(150), MAX_IDLE);
        let names: Vec<_> = retired.into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(idle.len(), 1);
        assert!(idle.take_expired(start, MAX_IDLE).is_empty());
    }

    #[test]
    fn each_call_borrows_as_itself() {
        assert_ne!(borrower("f"), borrower("f"));
    }

    #[test]
    fn the_default_limiter_has_a_token_per_cpu() {
        let cpus = std::thread::available_parallelism().unwrap().get();
        assert_eq!(Pool::new().limiter().total_tokens(), cpus);
    }
}
