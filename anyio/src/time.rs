//! Sleeping and the clock: `sleep`, `sleep_until`, `sleep_forever`, `current_time`.

pub use crate::base::duration::IntoDuration;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use std::sync::Arc;

use async_io::Timer;

use crate::runtime::RuntimeShared;
use crate::runtime::deadlines::DeadlineKey;

use crate::lowlevel::is_cancelled;

/// The current time of the runtime's clock (a monotonic [`Instant`]).
///
/// # Examples
///
/// ```
/// let before = anyio::current_time();
/// assert!(anyio::current_time() >= before);
/// ```
pub fn current_time() -> Instant {
    crate::runtime::clock::now()
}

/// Waits for `delay` (a `Duration` or seconds). A zero delay still yields once.
///
/// **Plain numbers are seconds**: `sleep(100)` waits 100 seconds; write
/// `Duration::from_millis(100)` or `0.1` for 100 milliseconds.
///
/// # Cancel safety
///
/// A checkpoint: in a cancelled scope the sleep ends the body at once, even with a zero
/// delay. Dropping it early has no effect beyond the sleep not finishing.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let start = anyio::current_time();
/// anyio::sleep(0.01).await;
/// assert!(start.elapsed() >= std::time::Duration::from_millis(10));
/// # });
/// ```
#[doc(alias = "sleep_for")]
pub fn sleep(delay: impl IntoDuration) -> Sleep {
    Sleep::until(crate::runtime::clock::now().checked_add(delay.into_duration()))
}

/// Waits until `deadline`; a deadline in the past still yields once.
///
/// # Cancel safety
///
/// As for [`sleep`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let deadline = anyio::current_time() + std::time::Duration::from_millis(5);
/// anyio::sleep_until(deadline).await;
/// assert!(anyio::current_time() >= deadline);
/// # });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::until(Some(deadline))
}

/// Waits until cancelled.
///
/// # Cancel safety
///
/// As for [`sleep`]: holds no data; a cancellation (or a drop) is the only way it ends.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// assert_eq!(anyio::move_on_after(0.01, anyio::sleep_forever()).await, None);
/// # });
/// ```
pub fn sleep_forever() -> Sleep {
    Sleep::until(None)
}

/// The future returned by [`sleep`], [`sleep_until`] and [`sleep_forever`].
///
/// # Cancel safety
///
/// As for [`sleep`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let nap: anyio::Sleep = anyio::sleep(0.005);
/// let wake_at = nap.deadline().unwrap();
/// nap.await;
/// assert!(anyio::current_time() >= wake_at);
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    /// `None`: sleep until cancelled.
    deadline: Option<Instant>,
    timer: Option<Timer>,
    /// With a mock clock: the sleeper's registration in the runtime's deadline queue.
    queued: Option<(Arc<RuntimeShared>, DeadlineKey)>,
    /// Set once the timer returned `Pending`: the sleep has then yielded.
    waited: bool,
    /// Set once the sleep yielded for a deadline that had already passed.
    yielded: bool,
}

impl Sleep {
    fn until(deadline: Option<Instant>) -> Sleep {
        Sleep {
            deadline,
            timer: None,
            queued: None,
            waited: false,
            yielded: false,
        }
    }

    /// The instant this sleep ends at (`None` for `sleep_forever`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let at = anyio::current_time() + Duration::from_millis(5);
    /// assert_eq!(anyio::sleep_until(at).deadline(), Some(at));
    /// assert_eq!(anyio::sleep_forever().deadline(), None);
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

impl std::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Sleep {
    /// With a mock clock: waits in the runtime's deadline queue, which the clock drives,
    /// and never on async-io's timers (a virtual deadline is no real instant). `None`
    /// when the runtime's clock is the system's.
    fn poll_mock_clock(&mut self, deadline: Instant, cx: &mut Context<'_>) -> Option<Poll<()>> {
        if let Some((runtime, key)) = &self.queued {
            if runtime.clock.now() < deadline
                && runtime.deadlines().update_sleeper(*key, cx.waker())
            {
                return Some(Poll::Pending);
            }
            // Due (or woken by the queue, which removed the registration).
            runtime.deadlines().remove_sleeper(*key);
            self.queued = None;
            return Some(Poll::Ready(()));
        }
        if self.timer.is_some() {
            return None;
        }
        let runtime = crate::runtime::clock::mock_runtime()?;
        if runtime.clock.now() >= deadline {
            // Already past on the first poll: still a scheduling point.
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Some(Poll::Pending);
        }
        let key = runtime.deadlines().insert_sleeper(deadline, cx.waker());
        self.queued = Some((runtime, key));
        self.waited = true;
        Some(Poll::Pending)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some((runtime, key)) = self.queued.take() {
            runtime.deadlines().remove_sleeper(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if is_cancelled() {
            return Poll::Pending;
        }
        let Some(deadline) = self.deadline else {
            return Poll::Pending;
        };
        let this = &mut *self;
        if this.yielded {
            return Poll::Ready(());
        }
        if let Some(poll) = this.poll_mock_clock(deadline, cx) {
            return poll;
        }
        let timer = this.timer.get_or_insert_with(|| Timer::at(deadline));
        if Pin::new(timer).poll(cx).is_pending() {
            this.waited = true;
            return Poll::Pending;
        }
        if this.waited {
            return Poll::Ready(());
        }
        // Already past on the first poll: still a scheduling point.
        this.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
