//! Living with tokio (feature `tokio`): what a program that mixes anyio and tokio tasks
//! needs beyond the tokio runtime that every anyio runtime then runs and enters on each
//! of its threads (so tokio-based crates work in any anyio task, `spawn`ed or not).
//!
//! # Examples
//!
//! ```
//! # anyio::run(async {
//! // A tokio timer and a tokio task, inside an anyio program.
//! tokio::time::sleep(std::time::Duration::from_millis(1)).await;
//! let task = anyio::tokio_compat::AbortOnDrop::new(tokio::spawn(async { 6 * 7 }));
//! assert_eq!(task.await.unwrap(), 42);
//! # });
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::task::{JoinError, JoinHandle};

/// A tokio task handle that aborts its task when dropped.
///
/// Dropping a plain [`JoinHandle`] detaches its task: it runs on unobserved. Inside a
/// cancel scope that is rarely what is meant: the scope is cancelled, the `await` on the
/// handle is dropped, and the task goes on. Wrapped in `AbortOnDrop`, the task is
/// aborted instead, so it ends with the scope, as an anyio child would.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// # anyio::run(async {
/// let finished = Arc::new(AtomicBool::new(false));
/// let flag = finished.clone();
/// let task = anyio::tokio_compat::AbortOnDrop::new(tokio::spawn(async move {
///     tokio::time::sleep(std::time::Duration::from_millis(50)).await;
///     flag.store(true, Ordering::Relaxed);
/// }));
/// // The scope gives up first: the await is dropped, and with it the task.
/// assert!(anyio::move_on_after(0.001, task).await.is_none());
/// anyio::sleep(0.1).await;
/// assert!(!finished.load(Ordering::Relaxed), "the task was aborted");
/// # });
/// ```
#[derive(Debug)]
#[must_use = "dropping an AbortOnDrop aborts its task"]
pub struct AbortOnDrop<T> {
    handle: JoinHandle<T>,
}

impl<T> AbortOnDrop<T> {
    /// Takes over `handle`: its task is aborted when this is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let task = anyio::tokio_compat::AbortOnDrop::new(tokio::spawn(async { "done" }));
    /// assert_eq!(task.await.unwrap(), "done");
    /// # });
    /// ```
    pub fn new(handle: JoinHandle<T>) -> AbortOnDrop<T> {
        AbortOnDrop { handle }
    }

    /// Aborts the task now (as dropping does); awaiting then gives a cancelled
    /// [`JoinError`] unless the task had finished.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let task = anyio::tokio_compat::AbortOnDrop::new(tokio::spawn(std::future::pending::<()>()));
    /// task.abort();
    /// assert!(task.await.unwrap_err().is_cancelled());
    /// # });
    /// ```
    pub fn abort(&self) {
        self.handle.abort();
    }

    /// Whether the task has finished (or was aborted and has stopped).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let task = anyio::tokio_compat::AbortOnDrop::new(tokio::spawn(async {}));
    /// while !task.is_finished() {
    ///     anyio::sleep(0.001).await;
    /// }
    /// # });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.handle).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.handle.abort();
    }
}
