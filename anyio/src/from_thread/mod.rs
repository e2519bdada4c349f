//! Calling into async code from threads: from a [`to_thread`](crate::to_thread) job back
//! into its event loop, and from any thread through a [`BlockingPortal`] or an
//! [`EventLoopToken`](crate::lowlevel::EventLoopToken).
//!
//! # From a `to_thread` job
//!
//! A function that [`to_thread::run_sync`](crate::to_thread::run_sync) runs on a worker
//! thread can call back into the task that awaits it (its *host*):
//!
//! - [`run`] runs an async closure there and blocks the thread until it ends;
//! - [`run_sync`] runs a plain closure there (on the event loop, between polls);
//! - [`check_cancelled`] tells the thread that its host has been cancelled.
//!
//! The host runs such a call inside its own poll, in its own cancel scopes: a cancel of
//! the host reaches the call at its next checkpoint (the call then returns an error of
//! kind [`Cancelled`](crate::ErrorKind::Cancelled)). If the host has stopped waiting (the
//! job was abandoned on cancel), calls run as tasks of their own on the runtime.
//!
//! # From any thread
//!
//! - [`start_blocking_portal`] starts an event loop on a thread of its own and returns a
//!   [`BlockingPortal`] that any thread can send work to;
//! - [`BlockingPortal::serve`] serves a portal from inside a running task instead;
//! - [`BlockingPortalProvider`] shares one lazily started portal between threads;
//! - [`lowlevel::current_token`](crate::lowlevel::current_token) gives a token that
//!   other threads use to run calls on the current runtime.
//!
//! Closures, futures and results cross threads, so they are `Send + 'static`. A panic in
//! a call resumes on the thread that made it.
//!
//! # Examples
//!
//! ```
//! # anyio::run(async {
//! // Blocking code that needs to call back into async code.
//! let answer = anyio::to_thread::run_sync(|| {
//!     let doubled = anyio::from_thread::run(|| async {
//!         anyio::sleep(0.001).await;
//!         21 * 2
//!     })?;
//!     anyio::from_thread::check_cancelled()?;
//!     anyio::Result::Ok(doubled)
//! })
//! .await;
//! assert_eq!(answer.unwrap(), 42);
//! # });
//! ```

pub(crate) mod host;
mod portal;
mod provider;

use std::future::IntoFuture;

use futures_lite::FutureExt;

use crate::error::{Error, ErrorKind, Result};
use crate::runtime::calls::{CallSlot, Completer, Outcome, spawn_call};

pub use portal::{BlockingPortal, PortalFuture, start_blocking_portal};
pub use provider::{BlockingPortalProvider, ProvidedPortal};

/// Runs `f()`'s future in the event loop of the task that awaits this thread's
/// [`to_thread`](crate::to_thread) job, and returns its output.
///
/// The future runs inside that task's poll and its cancel scopes, so a cancel of the
/// task ends it at its next checkpoint. Blocks this thread until the future ends.
///
/// # Errors
///
/// - [`NoEventLoop`](ErrorKind::NoEventLoop) when this thread is not running a
///   `to_thread` job (use a [`BlockingPortal`] or an
///   [`EventLoopToken`](crate::lowlevel::EventLoopToken) there);
/// - [`Cancelled`](ErrorKind::Cancelled) when the task was cancelled before the future
///   ended (the future was dropped at a checkpoint);
/// - [`RunFinished`](ErrorKind::RunFinished) when the job was abandoned and its runtime
///   has finished.
///
/// # Panics
///
/// Resumes a panic of `f` or of its future on this thread.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let event = std::sync::Arc::new(anyio::Event::new());
/// let setter = event.clone();
/// anyio::to_thread::run_sync(move || {
///     anyio::from_thread::run(move || async move { setter.set() }).unwrap();
/// })
/// .await;
/// assert!(event.is_set());
/// # });
/// ```
pub fn run<F, Fut, T>(f: F) -> Result<T>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: IntoFuture<Output = T>,
    Fut::IntoFuture: Send + 'static,
    T: Send + 'static,
{
    call_from_job(|completer| async_call(f, completer))
}

/// Runs `f` in the event loop of the task that awaits this thread's
/// [`to_thread`](crate::to_thread) job, and returns its result.
///
/// # Errors
///
/// As for [`run`].
///
/// # Panics
///
/// Resumes a panic of `f` on this thread.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let name = anyio::to_thread::run_sync(|| {
///     anyio::from_thread::run_sync(|| anyio::get_current_task().name).unwrap()
/// })
/// .await;
/// assert_eq!(name, "main"); // run by the task that awaits the job
/// # });
/// ```
pub fn run_sync<F, T>(f: F) -> Result<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    call_from_job(|completer| sync_call(f, completer))
}

/// Returns an error of kind [`Cancelled`](ErrorKind::Cancelled) if the task that
/// awaits this thread's [`to_thread`](crate::to_thread) job has been cancelled (or has
/// stopped waiting for it); `Ok(())` otherwise.
///
/// A long job calls it now and then to stop early: with `abandon_on_cancel(false)` its
/// caller waits for it to return.
///
/// # Errors
///
/// [`Cancelled`](ErrorKind::Cancelled) as above;
/// [`NoEventLoop`](ErrorKind::NoEventLoop) when this thread is not running a
/// `to_thread` job.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// // Outside a job there is nothing to check.
/// let err = anyio::from_thread::check_cancelled().unwrap_err();
/// assert_eq!(err.kind(), anyio::ErrorKind::NoEventLoop);
///
/// let scope = anyio::CancelScope::new();
/// let job_scope = scope.clone();
/// let (started_tx, started_rx) = std::sync::mpsc::channel();
/// let (proceed_tx, proceed_rx) = std::sync::mpsc::channel::<()>();
/// let (seen_tx, seen_rx) = std::sync::mpsc::channel();
/// anyio::task_group!(|tg| {
///     tg.start_soon(async move {
///         let job = anyio::to_thread::run_sync(move || {
///             started_tx.send(()).unwrap();
///             proceed_rx.recv().unwrap(); // until the scope was cancelled
///             seen_tx.send(anyio::from_thread::check_cancelled().is_err()).unwrap();
///         });
///         // The job's result comes back; the cancel lands at the next checkpoint.
///         assert_eq!(job_scope.run(job).await, Some(()));
///     });
///     anyio::to_thread::run_sync(move || started_rx.recv().unwrap()).await;
///     scope.cancel(); // the job goes on: its caller waits for it
///     anyio::sleep(0.01).await;
///     proceed_tx.send(()).unwrap();
/// })
/// .unwrap();
/// assert!(seen_rx.recv().unwrap()); // the job saw the cancel
/// # });
/// ```
pub fn check_cancelled() -> Result<()> {
    let link = host::current_link().ok_or_else(|| {
        Error::new(
            ErrorKind::NoEventLoop,
            "from_thread::check_cancelled() can only be called from a thread running a \
             to_thread::run_sync job",
        )
    })?;
    if link.is_cancelled() {
        Err(Error::new(
            ErrorKind::Cancelled,
            "the task that awaits this to_thread job was cancelled",
        ))
    } else {
        Ok(())
    }
}

/// A call that runs `f()`'s future and gives its outcome (or its panic) to `completer`.
pub(crate) fn async_call<F, Fut, T>(f: F, completer: Completer<T>) -> host::Call
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: IntoFuture<Output = T>,
    Fut::IntoFuture: Send + 'static,
    T: Send + 'static,
{
    Box::new(move || {
        Box::pin(async move {
            let outcome = match std::panic::AssertUnwindSafe(async move { f().into_future().await })
                .catch_unwind()
                .await
            {
                Ok(value) => Outcome::Value(value),
                Err(payload) => Outcome::Panicked(payload),
            };
            completer.complete(outcome);
        })
    })
}

/// A call that runs `f` and gives its result (or its panic) to `completer`.
pub(crate) fn sync_call<F, T>(f: F, completer: Completer<T>) -> host::Call
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Box::new(move || {
        Box::pin(async move {
            let outcome = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
                Ok(value) => Outcome::Value(value),
                Err(payload) => Outcome::Panicked(payload),
            };
            completer.complete(outcome);
        })
    })
}

/// Sends a call from a `to_thread` job to its host (or, with the host gone, to the
/// runtime) and blocks until it ends.
fn call_from_job<T: Send + 'static>(make: impl FnOnce(Completer<T>) -> host::Call) -> Result<T> {
    let link = host::current_link().ok_or_else(|| {
        Error::new(
            ErrorKind::NoEventLoop,
            "not inside a to_thread::run_sync job, and no event loop token was given: \
             from other threads, use lowlevel::current_token() or a BlockingPortal",
        )
    })?;
    let slot = CallSlot::new();
    let call = make(Completer::new(slot.clone(), ErrorKind::Cancelled));
    if let Err(call) = link.send(call) {
        let runtime = link.runtime().ok_or_else(|| {
            Error::new(
                ErrorKind::RunFinished,
                "the task that started this to_thread job stopped waiting for it, and no \
                 anyio runtime is left to run the call",
            )
        })?;
        spawn_call(&runtime, &slot, call())?;
    }
    drop(link);
    slot.wait().into_result()
}
