//! Deadlines: `move_on_after`, `move_on_at`, `fail_after`, `fail_at`, and
//! `current_effective_deadline`.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use crate::base::context;
use crate::base::duration::IntoDuration;
use crate::base::scope::effective_deadline;
use crate::cancel::scope::{CancelScopeRun, pooled_scope};
use crate::error::{Error, ErrorKind};

/// Runs `body` with a deadline `delay` from now (measured when the returned future is
/// first polled): `Some(output)` if it finished in time, `None` if the deadline ended it.
///
/// **Plain numbers are seconds**: `move_on_after(1000, ..)` allows 1000 seconds; write
/// `Duration::from_millis(1000)` or `1.0` for one second.
///
/// # Cancel safety
///
/// The body is dropped at its first suspension point after the deadline; that loses what
/// the body's operations lose when dropped. An outer cancellation drops it the same way
/// (this future then does not return); dropping this future from outside drops the body
/// at once.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let slow = anyio::move_on_after(0.01, async {
///     anyio::sleep(10).await;
///     "finished"
/// });
/// assert_eq!(slow.await, None);
/// assert_eq!(anyio::move_on_after(10, async { 5 }).await, Some(5));
/// # });
/// ```
pub fn move_on_after<F: IntoFuture>(
    delay: impl IntoDuration,
    body: F,
) -> MoveOnAfter<F::IntoFuture> {
    MoveOnAfter {
        run: CancelScopeRun::new_after(body.into_future(), delay.into_duration()),
    }
}

/// Like [`move_on_after`], with an absolute deadline.
///
/// # Cancel safety
///
/// As for [`move_on_after`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let deadline = anyio::current_time();
/// assert_eq!(anyio::move_on_at(deadline, anyio::sleep(1)).await, None);
/// # });
/// ```
pub fn move_on_at<F: IntoFuture>(deadline: Instant, body: F) -> MoveOnAfter<F::IntoFuture> {
    let state = pooled_scope();
    state.set_deadline_quiet(Some(deadline));
    MoveOnAfter {
        run: CancelScopeRun::new_pooled(state, body.into_future(), None),
    }
}

/// Runs `body` with a deadline `delay` from now (measured at the first poll): its output,
/// or an error of kind [`ErrorKind::Timeout`] if this deadline ended it.
///
/// **Plain numbers are seconds**: `fail_after(1000, ..)` allows 1000 seconds (about 17
/// minutes); write `Duration::from_millis(1000)` or `1.0` for one second.
///
/// A cancellation from an outer scope is not a timeout: it ends the enclosing body as any
/// cancellation does, and this future is dropped without returning.
///
/// # Errors
///
/// [`ErrorKind::Timeout`] when the deadline passed before the body finished.
///
/// # Cancel safety
///
/// The body is dropped at its first suspension point after the deadline; that loses what
/// the body's operations lose when dropped. An outer cancellation drops it the same way
/// (this future then does not return); dropping this future from outside drops the body
/// at once.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let err = anyio::fail_after(0.01, anyio::sleep(10)).await.unwrap_err();
/// assert_eq!(err.kind(), anyio::ErrorKind::Timeout);
/// assert_eq!(anyio::fail_after(1.5, async { 7 }).await.unwrap(), 7);
/// # });
/// ```
#[doc(alias = "timeout")]
pub fn fail_after<F: IntoFuture>(delay: impl IntoDuration, body: F) -> FailAfter<F::IntoFuture> {
    let delay = delay.into_duration();
    FailAfter {
        run: CancelScopeRun::new_after(body.into_future(), delay),
        limit: Limit::After(delay),
        reason: None,
    }
}

/// Like [`fail_after`], with an absolute deadline.
///
/// # Cancel safety
///
/// As for [`fail_after`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// # anyio::run(async {
/// let soon = anyio::current_time() + Duration::from_millis(5);
/// let err = anyio::fail_at(soon, anyio::sleep_forever()).await.unwrap_err();
/// assert_eq!(err.kind(), anyio::ErrorKind::Timeout);
/// let later = anyio::current_time() + Duration::from_secs(10);
/// assert_eq!(anyio::fail_at(later, async { 3 }).await.unwrap(), 3);
/// # });
/// ```
pub fn fail_at<F: IntoFuture>(deadline: Instant, body: F) -> FailAfter<F::IntoFuture> {
    let state = pooled_scope();
    state.set_deadline_quiet(Some(deadline));
    FailAfter {
        run: CancelScopeRun::new_pooled(state, body.into_future(), None),
        limit: Limit::At,
        reason: None,
    }
}

/// Like [`fail_after`]; `reason` appears in the timeout error's message. Plain numbers
/// are seconds, as for [`fail_after`].
///
/// # Cancel safety
///
/// As for [`fail_after`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let err = anyio::fail_after_with_reason(0, "waiting for the config", anyio::sleep(1))
///     .await
///     .unwrap_err();
/// assert!(err.to_string().contains("waiting for the config"));
/// # });
/// ```
pub fn fail_after_with_reason<F: IntoFuture>(
    delay: impl IntoDuration,
    reason: impl Into<String>,
    body: F,
) -> FailAfter<F::IntoFuture> {
    let mut fail = fail_after(delay, body);
    fail.reason = Some(reason.into());
    fail
}

/// The earliest deadline in effect for the code being polled, looking up through the
/// enclosing scopes to the nearest shield.
///
/// `None` means no deadline. In a cancelled scope the deadline has in effect passed, and
/// this returns the current time.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// assert_eq!(anyio::current_effective_deadline(), None);
/// anyio::move_on_after(10, async {
///     let deadline = anyio::current_effective_deadline().unwrap();
///     assert!(deadline > anyio::current_time());
/// })
/// .await;
/// # });
/// ```
pub fn current_effective_deadline() -> Option<Instant> {
    context::with_current_scope(effective_deadline)
        .unwrap_or_else(|()| Some(crate::runtime::clock::now()))
}

pin_project! {
    /// The future of [`move_on_after`] and [`move_on_at`].
    ///
    /// # Cancel safety
    ///
    /// As for [`move_on_after`].
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let pending: anyio::MoveOnAfter<_> = anyio::move_on_after(0.001, anyio::sleep_forever());
    /// assert_eq!(pending.await, None); // the deadline ended the body
    /// assert_eq!(anyio::move_on_after(10, async { 1 }).await, Some(1));
    /// # });
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct MoveOnAfter<F> {
        #[pin]
        run: CancelScopeRun<F>,
    }
}

impl<F: Future> Future for MoveOnAfter<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().run.poll(cx)
    }
}

#[derive(Debug, Clone, Copy)]
enum Limit {
    After(Duration),
    At,
}

pin_project! {
    /// The future of [`fail_after`], [`fail_at`] and [`fail_after_with_reason`].
    ///
    /// # Cancel safety
    ///
    /// As for [`fail_after`].
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let attempt: anyio::FailAfter<_> = anyio::fail_after(0.001, anyio::sleep_forever());
    /// let err = attempt.await.unwrap_err();
    /// assert_eq!(err.kind(), anyio::ErrorKind::Timeout);
    /// assert!(err.message().contains("timed out"));
    /// # });
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct FailAfter<F> {
        #[pin]
        run: CancelScopeRun<F>,
        limit: Limit,
        reason: Option<String>,
    }
}

impl<F: Future> Future for FailAfter<F> {
    type Output = Result<F::Output, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.run.poll_scope(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(output)) => Poll::Ready(Ok(output)),
            Poll::Ready(Err(outcome)) => {
                let limit = match *this.limit {
                    Limit::After(delay) => format!("after {delay:?}"),
                    Limit::At => "at its deadline".to_owned(),
                };
                let mut message = format!(
                    "task '{}' timed out {limit}",
                    crate::task::current_task_name()
                );
                if !outcome.timed_out {
                    // Only a deadline scope's own cancel reaches here; kept distinct anyway.
                    message.push_str(" (cancelled)");
                }
                if let Some(reason) = this.reason.take().or(outcome.reason) {
                    message.push_str(": ");
                    message.push_str(&reason);
                }
                Poll::Ready(Err(Error::new(ErrorKind::Timeout, message)))
            }
        }
    }
}
