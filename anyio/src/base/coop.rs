//! The cooperative budget: a task that keeps finding its operations ready still yields.
//!
//! An anyio operation that can complete at once (an uncontended lock, an item already in
//! a stream's buffer, an event already set) completes without suspending: that is what
//! makes it cheap. But a task looping over such operations would then never suspend,
//! and its siblings (in the same group, or on the same thread) would never run. So each
//! task poll starts with a budget of [`BUDGET`] ready operations; every operation that
//! completes at once spends one, and once the budget is spent the next operation yields
//! once (it wakes its task and returns `Pending`) before it completes. The budget is
//! refilled at the next poll of the task.
//!
//! The rule, as users see it: *a task never runs more than about 128 anyio operations in
//! a row without yielding.* Code outside any anyio task (a foreign executor, a plain
//! `block_on`) has no budget and never yields for it. The yield is a suspension point
//! like any other: in a cancelled scope it is where the body is dropped.

use std::cell::Cell;
use std::task::{Context, Poll};

use crate::base::context;
use crate::base::scope::effectively_cancelled;

/// Ready operations a task may complete in one poll before one of them yields.
pub(crate) const BUDGET: u16 = 128;

/// The budget outside any task: never spent.
pub(crate) const UNCONSTRAINED: u16 = u16::MAX;

/// Spends one unit of `budget`; true if there was none left.
#[inline]
fn spend(budget: &Cell<u16>) -> bool {
    match budget.get() {
        UNCONSTRAINED => false,
        0 => true,
        left => {
            budget.set(left - 1);
            false
        }
    }
}

/// The start of an anyio operation, which is a checkpoint: `Pending` if the code being
/// polled is cancelled (the delivering scope drops it here) or if the task's budget is
/// spent (it wakes its task and yields once).
#[inline]
pub(crate) fn poll_start(cx: &mut Context<'_>) -> Poll<()> {
    // A cancelled operation spends nothing: it is about to be dropped.
    let (cancelled, spent) = context::with_scope_and_budget(|scope, budget| {
        let cancelled = effectively_cancelled(scope);
        (cancelled, !cancelled && spend(budget))
    });
    if cancelled {
        return Poll::Pending;
    }
    if spent {
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    Poll::Ready(())
}
