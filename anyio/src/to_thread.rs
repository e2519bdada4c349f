//! Running blocking code on worker threads: [`run_sync`].
//!
//! A job runs on a pool of reused threads (anyio's own, named `anyio-thread-N`: threads
//! are started as jobs need them and end after a second idle), and at most as many jobs run at
//! once as the limiter has tokens: by default the runtime's
//! [`current_default_thread_limiter`] (40 tokens, resizable).
//!
//! The task that awaits a job is its *host*. The job's thread can call back into it with
//! [`from_thread`](crate::from_thread) (`run`, `run_sync`, `check_cancelled`).
//!
//! # Cancellation
//!
//! - A job still waiting for a limiter token when its caller is cancelled never runs.
//! - Once it runs, a thread cannot be interrupted. By default the cancelled caller waits
//!   for the job to return (the wait is shielded) and gets its result, as AnyIO does: no
//!   finished work is thrown away, and the cancel is delivered at the caller's next
//!   checkpoint. The job can notice the cancel with
//!   [`from_thread::check_cancelled`](crate::from_thread::check_cancelled) and return
//!   early.
//! - With [`abandon_on_cancel(true)`](RunSync::abandon_on_cancel) the cancel is delivered
//!   at once and the job runs on, unobserved; its limiter token is given back at once.
//!
//! # Examples
//!
//! ```
//! # anyio::run(async {
//! let total: u64 = anyio::to_thread::run_sync(|| (1..=1_000u64).sum()).await;
//! assert_eq!(total, 500_500);
//!
//! // At most two jobs at once, through a limiter of one's own.
//! let limiter = anyio::CapacityLimiter::new(2);
//! let lengths = anyio::gather((0..4).map(|i| {
//!     anyio::to_thread::run_sync(move || std::fs::read_dir(".").map(|d| d.count() + i))
//!         .limiter(&limiter)
//! }))
//! .await
//! .unwrap();
//! assert_eq!(lengths.len(), 4);
//! # });
//! ```

use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use crate::base::context;
use crate::base::lock::lock;
use crate::base::task::next_task_id;
use crate::from_thread::host::{self, HostLink};
use crate::lowlevel::{RunVar, checkpoint_if_cancelled, is_cancelled};
use crate::runtime::calls::spawn_orphan_call;
use crate::sync::{Borrower, CapacityLimiter};

/// The default limiter of each runtime (and of code outside any runtime).
static DEFAULT_LIMITER: RunVar<Arc<CapacityLimiter>> = RunVar::new("default thread limiter");

/// Serializes the creation of default limiters, so that two first callers share one.
static DEFAULT_LIMITER_INIT: Mutex<()> = Mutex::new(());

/// Tokens of a new default limiter.
const DEFAULT_THREAD_TOKENS: usize = 40;

/// The limiter that [`run_sync`] uses when given none: one per runtime, 40 tokens at
/// first. Resize it with
/// [`set_total_tokens`](CapacityLimiter::set_total_tokens).
///
/// Outside any anyio runtime (under another executor) one limiter serves the process.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let limiter = anyio::to_thread::current_default_thread_limiter();
/// assert_eq!(limiter.total_tokens(), 40);
/// limiter.set_total_tokens(8); // for the rest of this runtime
/// assert_eq!(anyio::to_thread::current_default_thread_limiter().total_tokens(), 8);
/// # });
/// ```
pub fn current_default_thread_limiter() -> Arc<CapacityLimiter> {
    if let Ok(limiter) = DEFAULT_LIMITER.get() {
        return limiter;
    }
    let _init = lock(&DEFAULT_LIMITER_INIT);
    DEFAULT_LIMITER.get().unwrap_or_else(|_| {
        let limiter = Arc::new(CapacityLimiter::new(DEFAULT_THREAD_TOKENS));
        let _ = DEFAULT_LIMITER.set(limiter.clone());
        limiter
    })
}

/// Runs `f` on a worker thread and returns its result; a panic in `f` resumes in the
/// caller. Options: [`limiter`](RunSync::limiter),
/// [`abandon_on_cancel`](RunSync::abandon_on_cancel); see the [module
/// docs](self#cancellation) for what a cancel does.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let text = anyio::to_thread::run_sync(|| std::fs::read_to_string("Cargo.toml")).await;
/// assert!(text.unwrap().contains("[package]"));
/// # });
/// ```
pub fn run_sync<F, T>(f: F) -> RunSync<'static, F>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    RunSync {
        f,
        limiter: None,
        abandon_on_cancel: false,
    }
}

/// A [`run_sync`] call and its options; await it to run the job.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let limiter = anyio::CapacityLimiter::new(1);
/// let call: anyio::to_thread::RunSync<'_, _> =
///     anyio::to_thread::run_sync(|| 2 + 2).limiter(&limiter).abandon_on_cancel(false);
/// assert_eq!(call.await, 4);
/// # });
/// ```
#[must_use = "the job runs only when the call is awaited"]
pub struct RunSync<'a, F> {
    f: F,
    limiter: Option<&'a CapacityLimiter>,
    abandon_on_cancel: bool,
}

impl<F> fmt::Debug for RunSync<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunSync")
            .field("limiter", &self.limiter)
            .field("abandon_on_cancel", &self.abandon_on_cancel)
            .finish_non_exhaustive()
    }
}

impl<F> RunSync<'_, F> {
    /// Takes a token of `limiter` (instead of the default limiter's) for the job's run.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let limiter = anyio::CapacityLimiter::new(1);
    /// let borrowed = anyio::to_thread::run_sync({
    ///     let watch = std::sync::Arc::new(());
    ///     move || drop(watch)
    /// })
    /// .limiter(&limiter)
    /// .await;
    /// assert_eq!(limiter.borrowed_tokens(), 0); // given back once the job returned
    /// # let _ = borrowed;
    /// # });
    /// ```
    pub fn limiter(self, limiter: &CapacityLimiter) -> RunSync<'_, F> {
        RunSync {
            f: self.f,
            limiter: Some(limiter),
            abandon_on_cancel: self.abandon_on_cancel,
        }
    }

    /// What a cancel does once the job runs: `false` (the default) waits for it to
    /// return, shielded, and returns its result (the cancel is delivered at the next
    /// checkpoint); `true` delivers the cancel at once and lets the job run on,
    /// unobserved.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let (release, wait) = std::sync::mpsc::channel::<()>();
    /// let done = anyio::move_on_after(
    ///     0.01,
    ///     anyio::to_thread::run_sync(move || wait.recv()).abandon_on_cancel(true),
    /// )
    /// .await;
    /// assert!(done.is_none()); // gave up after 10 ms; the thread still waits
    /// release.send(()).unwrap(); // and now returns, unobserved
    /// # });
    /// ```
    pub fn abandon_on_cancel(mut self, abandon: bool) -> Self {
        self.abandon_on_cancel = abandon;
        self
    }
}

impl<'a, F, T> IntoFuture for RunSync<'a, F>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    type Output = T;
    type IntoFuture = RunSyncFuture<'a, T>;

    fn into_future(self) -> RunSyncFuture<'a, T> {
        let RunSync {
            f,
            limiter,
            abandon_on_cancel,
        } = self;
        RunSyncFuture {
            inner: Box::pin(async move {
                checkpoint_if_cancelled().await;
                let default;
                let limiter = match limiter {
                    Some(limiter) => limiter,
                    None => {
                        default = current_default_thread_limiter();
                        &*default
                    }
                };
                // A borrower of its own: two jobs of one task (or of two foreign tasks,
                // which share "task 0") never collide.
                let token = limiter
                    .acquire_on_behalf_of(Borrower::Task(next_task_id()))
                    .await;
                let _token = token.unwrap_or_else(|e| unreachable!("a fresh borrower: {e}"));
                JobWait::start(f, abandon_on_cancel).await
            }),
        }
    }
}

/// The future of a [`run_sync`] call.
///
/// # Cancel safety
///
/// See the [module docs](self#cancellation). Dropped before the job started, the job
/// never runs; dropped while it runs, it runs on, unobserved.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let job: anyio::to_thread::RunSyncFuture<'_, i32> =
///     std::future::IntoFuture::into_future(anyio::to_thread::run_sync(|| 7));
/// assert_eq!(job.await, 7);
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct RunSyncFuture<'a, T> {
    inner: Pin<Box<dyn Future<Output = T> + Send + 'a>>,
}

impl<T> fmt::Debug for RunSyncFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunSyncFuture").finish_non_exhaustive()
    }
}

impl<T> Future for RunSyncFuture<'_, T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.inner.as_mut().poll(cx)
    }
}

/// A call of the job's thread into the host's event loop, being run.
type RunningCall = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The host's wait for a running job: serves the job's calls, and applies the cancel
/// policy.
struct JobWait<T> {
    /// `None` once the job has returned.
    job: Option<async_task::Task<std::thread::Result<T>>>,
    /// The job's result, between the job's end and this poll's return.
    result: Option<T>,
    link: Arc<HostLink>,
    call: Option<RunningCall>,
    abandon_on_cancel: bool,
}

impl<T: Send + 'static> JobWait<T> {
    fn start<F: FnOnce() -> T + Send + 'static>(f: F, abandon_on_cancel: bool) -> JobWait<T> {
        let link = HostLink::new(host::runtime_of_this_thread().map(|rt| Arc::downgrade(&rt)));
        let job_link = link.clone();
        let job = crate::runtime::thread_pool::spawn(move || {
            let _link = host::enter(job_link);
            catch_unwind(AssertUnwindSafe(f))
        });
        JobWait {
            job: Some(job),
            result: None,
            link,
            call: None,
            abandon_on_cancel,
        }
    }
}

// Nothing in a `JobWait` is pinned: the result is only ever moved.
impl<T> Unpin for JobWait<T> {}

impl<T> JobWait<T> {
    /// Runs the job's calls into the event loop, in the host's context: a cancel drops a
    /// call at its next checkpoint, as it would any other body (its caller then gets a
    /// `Cancelled` error), unless the call is inside shielded work.
    /// Returns whether the call being run is pending inside shielded work, which the
    /// host must not cut short (rule 2 of `cancel/deliver.rs`), abandoned or not.
    fn serve_calls(&mut self, cx: &mut Context<'_>, cancelled: bool) -> bool {
        loop {
            if self.call.is_none() {
                match self.link.take_call(cx.waker()) {
                    Some(call) => self.call = Some(call()),
                    None => return false,
                }
            }
            let call = self.call.as_mut().expect("taken above");
            let outer_flag = context::pending_under_shield();
            context::clear_pending_under_shield();
            let poll = call.as_mut().poll(cx);
            let shielded_work = context::pending_under_shield();
            if !outer_flag {
                context::clear_pending_under_shield();
            }
            match poll {
                // The thread may send its next call at once: look again.
                Poll::Ready(()) => self.call = None,
                Poll::Pending if cancelled && !shielded_work => self.call = None,
                Poll::Pending => return shielded_work,
            }
        }
    }
}

impl<T> Future for JobWait<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        let cancelled = is_cancelled();
        this.link.set_cancelled(cancelled);
        let call_shielded = this.serve_calls(cx, cancelled);
        if let Some(job) = this.job.as_mut() {
            match Pin::new(job).poll(cx) {
                Poll::Ready(Ok(value)) => {
                    this.job = None;
                    this.result = Some(value);
                }
                Poll::Ready(Err(payload)) => {
                    this.job = None;
                    resume_unwind(payload)
                }
                Poll::Pending => {}
            }
        }
        match this.result.take() {
            // Cancelled or not: the work is done, and its result is the caller's. A
            // cancel is delivered at the caller's next checkpoint.
            Some(value) => Poll::Ready(value),
            None => {
                if cancelled && (!this.abandon_on_cancel || call_shielded) {
                    // Shielded: the scope waits for the job (or for the shielded work of
                    // the call it runs) before it drops anything.
                    context::set_pending_under_shield();
                }
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for JobWait<T> {
    fn drop(&mut self) {
        if self.job.is_none() {
            return;
        }
        // The job runs on, unobserved: its calls go to the runtime from now on (one
        // already waiting, too); a call being run is dropped (its caller gets `Cancelled`).
        self.call = None;
        if let Some(call) = self.link.host_gone() {
            match self.link.runtime() {
                Some(runtime) => spawn_orphan_call(&runtime, call()),
                None => drop(call),
            }
        }
    }
}
