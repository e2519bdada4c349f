//! Low-level checkpoints, for writing your own anyio-aware operations; per-runtime
//! variables ([`RunVar`]); and tokens that let other threads call into a runtime
//! ([`current_token`]).
//!
//! Every anyio operation is a *checkpoint*: started in a cancelled scope, it returns
//! `Pending` at once so that the scope drops the body there. These functions let your own
//! futures behave the same way.
//!
//! Operations that complete at once also spend the task's cooperative budget (see the
//! crate docs, "Cooperative scheduling"): after 128 of them in a row the next one yields.
//! [`checkpoint`] always yields; [`checkpoint_if_cancelled`] never does.
//!
//! # Examples
//!
//! A long computation that lets other tasks run, and obeys cancellation, as an anyio
//! operation does:
//!
//! ```
//! async fn sum(numbers: &[u64]) -> u64 {
//!     let mut total = 0;
//!     for chunk in numbers.chunks(1000) {
//!         anyio::lowlevel::checkpoint().await; // yields; ends here if cancelled
//!         total += chunk.iter().sum::<u64>();
//!     }
//!     total
//! }
//!
//! # anyio::run(async {
//! let numbers: Vec<u64> = (1..=10_000).collect();
//! assert_eq!(sum(&numbers).await, 50_005_000);
//! let scope = anyio::CancelScope::new();
//! scope.cancel();
//! assert_eq!(scope.run(sum(&numbers)).await, None); // stopped at the first checkpoint
//! # });
//! ```

mod run_var;
mod token;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::base::context;
use crate::base::scope::effectively_cancelled;

pub use run_var::{RunVar, RunVarToken};
pub use token::{EventLoopToken, current_token};

/// Whether the code being polled is in an effectively cancelled scope: some scope from
/// the current one up to and including the nearest shielded one has been cancelled.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// assert!(!anyio::lowlevel::is_cancelled());
/// let scope = anyio::CancelScope::new();
/// scope.cancel();
/// let seen = scope.run(async { anyio::lowlevel::is_cancelled() }).await;
/// assert_eq!(seen, Some(true));
/// # });
/// ```
#[inline]
pub fn is_cancelled() -> bool {
    context::with_current_scope(effectively_cancelled)
}

/// Yields to the scheduler once; if the task is cancelled, the body ends here instead.
///
/// # Cancel safety
///
/// Holds no data: in a cancelled scope this is where the body is dropped, and dropping
/// it from outside has no effect beyond the yield not happening.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// anyio::lowlevel::checkpoint().await;
/// # });
/// ```
pub fn checkpoint() -> Checkpoint {
    Checkpoint {
        kind: CheckpointKind::Full,
        yielded: false,
    }
}

/// Ends the body here if the task is cancelled; otherwise returns at once, without
/// yielding.
///
/// # Cancel safety
///
/// Holds no data: in a cancelled scope this is where the body is dropped, and dropping
/// it from outside has no effect.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// anyio::lowlevel::checkpoint_if_cancelled().await; // not cancelled: returns at once
/// # });
/// ```
pub fn checkpoint_if_cancelled() -> Checkpoint {
    Checkpoint {
        kind: CheckpointKind::IfCancelled,
        yielded: false,
    }
}

/// Yields to the scheduler once, and is never where a cancellation ends the body (it
/// waits as shielded work).
///
/// # Cancel safety
///
/// Holds no data. A cancelled scope waits for this yield and drops the body at its next
/// checkpoint after it; dropping it from outside has no effect.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let scope = anyio::CancelScope::new();
/// scope.cancel();
/// let done = scope
///     .run(async {
///         anyio::lowlevel::cancel_shielded_checkpoint().await;
///         "got past it"
///     })
///     .await;
/// assert_eq!(done, Some("got past it"));
/// # });
/// ```
pub fn cancel_shielded_checkpoint() -> Checkpoint {
    Checkpoint {
        kind: CheckpointKind::Shielded,
        yielded: false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CheckpointKind {
    Full,
    IfCancelled,
    Shielded,
}

/// The future of [`checkpoint`], [`checkpoint_if_cancelled`] and
/// [`cancel_shielded_checkpoint`].
///
/// # Cancel safety
///
/// As for the function that returned it.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let scope = anyio::CancelScope::new();
/// scope.cancel();
/// let yielding: anyio::lowlevel::Checkpoint = anyio::lowlevel::checkpoint();
/// assert_eq!(scope.run(yielding).await, None); // a cancelled body ends here
/// # });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Checkpoint {
    kind: CheckpointKind,
    yielded: bool,
}

impl Future for Checkpoint {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.kind == CheckpointKind::Shielded {
            if self.yielded {
                return Poll::Ready(());
            }
            self.yielded = true;
            cx.waker().wake_by_ref();
            context::set_pending_under_shield();
            return Poll::Pending;
        }
        // Re-checked on every poll: a shield raised meanwhile lifts the cancellation.
        if is_cancelled() {
            return Poll::Pending;
        }
        if self.kind == CheckpointKind::IfCancelled || self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
