//! `EventLoopToken`: a handle other threads use to run calls on a runtime.

use std::fmt;
use std::future::IntoFuture;
use std::sync::{Arc, Weak};

use crate::error::{Error, ErrorKind, Result};
use crate::from_thread::host;
use crate::from_thread::{async_call, sync_call};
use crate::runtime::RuntimeShared;
use crate::runtime::calls::{CallSlot, Completer, spawn_call};

/// A handle on the runtime that [`current_token`] was called in: any thread can run
/// calls on that runtime through it ([`run`](EventLoopToken::run),
/// [`run_sync`](EventLoopToken::run_sync)), each as a new task outside any scope.
///
/// The token does not keep the runtime alive: once the runtime is dropped, calls fail
/// with [`RunFinished`](ErrorKind::RunFinished). A runtime without worker threads runs
/// calls only while some thread is inside its `block_on`; at other times they fail the
/// same way.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let token = anyio::lowlevel::current_token();
/// let answer = anyio::to_thread::run_sync(move || {
///     std::thread::spawn(move || token.run(|| async { 6 * 7 }))
///         .join()
///         .unwrap()
/// })
/// .await;
/// assert_eq!(answer.unwrap(), 42);
/// # });
/// ```
#[derive(Clone)]
pub struct EventLoopToken {
    /// `None`: made outside any runtime.
    runtime: Option<Weak<RuntimeShared>>,
}

impl fmt::Debug for EventLoopToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.runtime {
            None => "no runtime",
            Some(runtime) if runtime.strong_count() == 0 => "finished",
            Some(_) => "running",
        };
        f.debug_struct("EventLoopToken")
            .field("runtime", &state)
            .finish()
    }
}

/// A token for the runtime running the calling code: the runtime of this thread, or of
/// the task that awaits this thread's `to_thread` job.
///
/// Outside any anyio runtime this still returns a token, whose calls fail with
/// [`NoEventLoop`](ErrorKind::NoEventLoop).
///
/// # Examples
///
/// ```
/// let token = anyio::run(async { anyio::lowlevel::current_token() });
/// // That runtime has finished: the token says so rather than hang.
/// let err = token.run_sync(|| ()).unwrap_err();
/// assert_eq!(err.kind(), anyio::ErrorKind::RunFinished);
/// ```
pub fn current_token() -> EventLoopToken {
    EventLoopToken {
        runtime: host::runtime_of_this_thread().map(|runtime| Arc::downgrade(&runtime)),
    }
}

impl EventLoopToken {
    /// Runs `f()`'s future as a new task of the token's runtime, blocking this thread
    /// until it ends, and returns its output.
    ///
    /// # Errors
    ///
    /// - [`NoEventLoop`](ErrorKind::NoEventLoop): the token was made outside any runtime;
    /// - [`RunFinished`](ErrorKind::RunFinished): the runtime has finished (or, without
    ///   worker threads, is not running now), or finished before the call ended;
    /// - [`Other`](ErrorKind::Other): called from a thread of that runtime itself, which
    ///   would wait for itself (await the future there instead).
    ///
    /// # Panics
    ///
    /// Resumes a panic of `f` or of its future on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let token = anyio::lowlevel::current_token();
    /// let handle = std::thread::spawn(move || {
    ///     token.run(|| async {
    ///         anyio::sleep(0.001).await;
    ///         "done"
    ///     })
    /// });
    /// let result = anyio::to_thread::run_sync(move || handle.join().unwrap()).await;
    /// assert_eq!(result.unwrap(), "done");
    /// # });
    /// ```
    pub fn run<F, Fut, T>(&self, f: F) -> Result<T>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: IntoFuture<Output = T>,
        Fut::IntoFuture: Send + 'static,
        T: Send + 'static,
    {
        self.call(|completer| async_call(f, completer))
    }

    /// Runs `f` as a new task of the token's runtime, blocking this thread until it
    /// ends, and returns its result.
    ///
    /// # Errors
    ///
    /// As for [`run`](EventLoopToken::run).
    ///
    /// # Panics
    ///
    /// Resumes a panic of `f` on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let token = anyio::lowlevel::current_token();
    /// let handle = std::thread::spawn(move || token.run_sync(|| 1 + 1));
    /// let result = anyio::to_thread::run_sync(move || handle.join().unwrap()).await;
    /// assert_eq!(result.unwrap(), 2);
    /// # });
    /// ```
    pub fn run_sync<F, T>(&self, f: F) -> Result<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.call(|completer| sync_call(f, completer))
    }

    fn call<T: Send + 'static>(&self, make: impl FnOnce(Completer<T>) -> host::Call) -> Result<T> {
        let Some(runtime) = &self.runtime else {
            return Err(Error::new(
                ErrorKind::NoEventLoop,
                "this EventLoopToken was made outside any anyio runtime",
            ));
        };
        let runtime = runtime.upgrade().ok_or_else(|| {
            Error::new(
                ErrorKind::RunFinished,
                "the runtime of this EventLoopToken has finished",
            )
        })?;
        let own_thread =
            crate::runtime::with_current_runtime(|current| Arc::ptr_eq(current, &runtime));
        if own_thread == Some(true) {
            return Err(Error::new(
                ErrorKind::Other,
                "EventLoopToken::run was called from a thread of the token's own runtime, \
                 which would wait for itself: await the future there instead",
            ));
        }
        let slot = CallSlot::new();
        let call = make(Completer::new(slot.clone(), ErrorKind::Cancelled));
        spawn_call(&runtime, &slot, call())?;
        // Not kept while waiting: the token must not keep the runtime alive.
        drop(runtime);
        slot.wait().into_result()
    }
}
