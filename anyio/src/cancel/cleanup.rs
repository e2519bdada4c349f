//! `with_cleanup`: async cleanup that runs, shielded, when a body is cancelled or fails.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::base::context;
use crate::base::output::TaskOutput;
use crate::cancel::scope::{CancelScope, CancelScopeRun};
use crate::lowlevel;

/// Runs `body`; if it fails (returns `Err`) or is cancelled, runs `cleanup` to completion
/// in a shielded scope first. The async counterpart of Python's
/// `try: ... finally: with CancelScope(shield=True): await cleanup()`.
///
/// - On success, `cleanup` does not run and the body's output is returned.
/// - On failure, `cleanup` runs, then the body's `Err` is returned.
/// - On cancellation, the body is dropped, `cleanup` runs shielded (outer cancellation
///   does not reach it), and then the cancellation goes on: the code after this future
///   does not run.
///
/// Give the cleanup its own deadline (e.g. wrap it in [`move_on_after`](fn@crate::move_on_after))
/// if it could wait forever.
///
/// # Cancel safety
///
/// Cancelled by a scope, the body is dropped at its suspension point and `cleanup` then
/// runs to completion, shielded. Dropped by something other than a cancel scope (e.g. a
/// foreign `select!`), the body and the cleanup are simply dropped: a cleanup not
/// started never runs, and one under way is cut short.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// # anyio::run(async {
/// let cleaned = AtomicBool::new(false);
/// let result = anyio::move_on_after(
///     0.01,
///     anyio::with_cleanup(
///         async {
///             anyio::sleep_forever().await;
///             anyio::Result::Ok(())
///         },
///         async {
///             anyio::sleep(0.01).await; // waits even though the scope is cancelled
///             cleaned.store(true, Ordering::SeqCst);
///         },
///     ),
/// )
/// .await;
/// assert!(result.is_none());
/// assert!(cleaned.load(Ordering::SeqCst));
/// # });
/// ```
#[doc(alias = "finally")]
pub fn with_cleanup<F, C>(body: F, cleanup: C) -> WithCleanup<F, C>
where
    F: Future,
    F::Output: TaskOutput,
    C: Future<Output = ()>,
{
    WithCleanup {
        body: Some(body),
        cleanup: Some(cleanup),
        running: None,
        failure: None,
    }
}

pin_project! {
    /// The future of [`with_cleanup`].
    ///
    /// # Cancel safety
    ///
    /// As for [`with_cleanup`].
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut cleaned = false;
    /// let failing: anyio::WithCleanup<_, _> = anyio::with_cleanup(
    ///     async { Err::<(), _>("disk full") },
    ///     async { cleaned = true },
    /// );
    /// assert_eq!(failing.await, Err("disk full")); // the failure, after the cleanup
    /// assert!(cleaned);
    /// # });
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct WithCleanup<F: Future, C> {
        #[pin]
        body: Option<F>,
        // The cleanup, until it starts.
        cleanup: Option<C>,
        // The cleanup once started, in a shielded scope.
        #[pin]
        running: Option<CancelScopeRun<C>>,
        // The body's failed output, returned once the cleanup is done.
        failure: Option<F::Output>,
    }
}

impl<F, C> Future for WithCleanup<F, C>
where
    F: Future,
    F::Output: TaskOutput,
    C: Future<Output = ()>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        if let Some(body) = this.body.as_mut().as_pin_mut() {
            match body.poll(cx) {
                Poll::Ready(output) if !output.is_failure() => {
                    this.body.set(None);
                    return Poll::Ready(output);
                }
                Poll::Ready(output) => {
                    this.body.set(None);
                    *this.failure = Some(output);
                }
                Poll::Pending => {
                    // A cancelled body that is not doing shielded work is about to be
                    // dropped by the scope delivering the cancellation: clean up first.
                    if !lowlevel::is_cancelled() || context::pending_under_shield() {
                        return Poll::Pending;
                    }
                    this.body.set(None);
                }
            }
            let cleanup = this.cleanup.take().expect("cleanup starts once");
            this.running.set(Some(CancelScope::shielded().run(cleanup)));
        }
        match this.running.as_mut().as_pin_mut() {
            Some(running) => {
                if running.poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.running.set(None);
            }
            None if this.failure.is_none() => {
                // Cleaned up after a cancellation: wait to be dropped by its scope.
                return Poll::Pending;
            }
            None => {}
        }
        match this.failure.take() {
            Some(output) => Poll::Ready(output),
            None => Poll::Pending,
        }
    }
}
