//! The cancel-at-every-suspension harness: runs a scenario once per suspension point of
//! an operation, cancelling the operation just before its 1st, 2nd, ... n-th poll, until
//! a run lets the operation complete. Each run checks its own invariants afterwards (no
//! lost item, no leaked lock or token, statistics back at rest, no task left).
//!
//! ```ignore
//! let runs = cancel_at_every_suspension(|point| async move {
//!     let lock = anyio::Lock::new();
//!     let outcome = point.run(lock.acquire()).await; // None: cancelled at its point
//!     drop(outcome);
//!     assert!(!lock.locked());
//!     outcome_completed
//! })
//! .await;
//! ```

use std::future::Future;
use std::pin::pin;

use anyio::CancelScope;

/// Where one run of a scenario cancels its operation.
#[derive(Debug, Clone, Copy)]
pub struct CancelPoint {
    /// The operation's scope is cancelled just before this poll (1-based).
    pub at_poll: usize,
}

impl CancelPoint {
    /// Runs `op` in a fresh cancel scope that is cancelled just before the op's
    /// `at_poll`-th poll: `Some(output)` if the op completed first (it may complete at
    /// that poll: an operation that has taken effect is not undone), `None` if the
    /// cancellation dropped it.
    pub async fn run<F: Future>(self, op: F) -> Option<F::Output> {
        let scope = CancelScope::new();
        let handle = scope.clone();
        let mut polls = 0;
        let mut op = pin!(op);
        scope
            .run(std::future::poll_fn(move |cx| {
                polls += 1;
                if polls == self.at_poll {
                    handle.cancel();
                }
                op.as_mut().poll(cx)
            }))
            .await
    }
}

/// Runs `scenario` with cancel points 1, 2, 3, ... until it reports that its operation
/// completed (`true`), and returns how many runs that took. Panics if the operation never
/// completes within `limit` points (it would otherwise loop forever).
pub async fn cancel_at_every_suspension<S, Fut>(limit: usize, mut scenario: S) -> usize
where
    S: FnMut(CancelPoint) -> Fut,
    Fut: Future<Output = bool>,
{
    for at_poll in 1..=limit {
        if scenario(CancelPoint { at_poll }).await {
            return at_poll;
        }
    }
    panic!("the operation did not complete within {limit} polls");
}
