//! The delivery protocol: when a poll may drop a cancelled body, and how every change of
//! cancellation reaches the futures that are parked.
//!
//! Three kinds of future run a body under cancellation and use this protocol: a scope
//! wrapper (`CancelScopeRun`: its own scope), a task root (`TaskRoot`: the task's
//! context) and a task group's run future (its body and, through their roots, its
//! children). They differ only in *which* cancellation they deliver; the rules below are
//! the same for all three and are written only here.
//!
//! # The state, who changes it, and what can flip back
//!
//! Per scope (`base::scope::ScopeState`):
//! - `cancel_called`: set by `cancel()`, by a deadline that passed, by a group on a
//!   failure. **Never flips back** while the scope is in use.
//! - `shield`: set and cleared by `set_shield` at any time. **Flips both ways.**
//! - `deadline`: moved by `set_deadline` at any time; once it passes, the deadline queue
//!   (or the wrapper's timer) sets `cancel_called`.
//! - `cancelled_caught`: set once, by the wrapper that dropped the body for this scope.
//!
//! Derived, and therefore **not monotonic**: code is *effectively cancelled* when a scope
//! from its current scope up to and including the nearest shielded scope is cancelled; a
//! scope is *delivering* when it is cancelled and no scope above it, up to the nearest
//! shield, is (the outermost cancelled scope below a shield owns the cancellation, as in
//! Trio). Raising a shield between a cancelled scope and the code un-cancels the code;
//! lowering it cancels the code again.
//!
//! Per poll (`base::context`): the *pending-under-shield* flag, set by a future that
//! returns `Pending` while shielded work inside it is still running (a shielded scope's
//! body, a group with live children, `cancel_shielded_checkpoint`). Each wrapper saves,
//! clears and restores it around its body's poll.
//!
//! # The rules
//!
//! 1. **Only a poll that started cancelled may drop.** The cancellation state is read
//!    before the body is polled ([`DeliveryPoll::begin`]). A cancel that arrives during
//!    the poll may have come after the body passed its checkpoints, so such a poll does
//!    not drop: it polls the body again at once ([`Verdict::Repoll`]).
//! 2. **Shielded work is never cut short.** A poll that started cancelled drops the body
//!    only if the body returned `Pending` with the pending-under-shield flag clear
//!    ([`Verdict::Drop`]); otherwise it waits for the shielded work and drops at the
//!    first `Pending` after it.
//! 3. **Every change is re-delivered, in both directions.** A future that parks other
//!    futures below a scope (a group parks its children, and wakes its spawned children's
//!    executor tasks through their nodes) remembers the effective cancellation it last acted on
//!    ([`CancelWatch`]) and wakes everything it parked whenever it changes: on a cancel
//!    so that parked children reach a checkpoint and are dropped; on an un-cancel (a
//!    shield raised) so that operations that returned `Pending` *because* they were
//!    cancelled (a checkpoint, a waiter skipped by a hand-off) look again. Operations
//!    re-check on every poll rather than remember a cancel.
//! 4. **Every change wakes.** `cancel()`, `set_deadline()` and `set_shield()` wake the
//!    scope's wrapper, whose poll reaches the parked futures through rule 3.
//!
//! Invariant: a future parked below a scope whose effective cancellation changed is
//! polled again before its group can finish; so a group never waits forever for a child
//! that a cancel should have dropped, and a waiter that was skipped while cancelled is
//! never left parked next to a free resource once the cancel is lifted.
//!
//! The invariant holds for anyio's own futures (scope wrappers, groups, task roots),
//! which poll their bodies whenever they are polled. A foreign combinator that polls
//! only the sub-futures that were woken (`FuturesUnordered`, say) is woken too, but may
//! leave an un-cancelled waiter parked until something wakes that waiter itself.

/// What to do after a body returned `Pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Drop the body: the cancellation is delivered here.
    Drop,
    /// Poll the body again now: it was cancelled during this poll (rule 1).
    Repoll,
    /// Wait to be woken.
    Wait,
}

/// One poll of a body that a cancellation may end.
#[derive(Debug, Clone, Copy)]
#[must_use]
pub(crate) struct DeliveryPoll {
    cancelled: bool,
}

impl DeliveryPoll {
    /// Before polling the body: `cancelled` is whether this future delivers a
    /// cancellation right now (for a scope wrapper, whether its scope is delivering;
    /// for a task root or a group body, whether its context is effectively cancelled).
    #[inline]
    pub(crate) fn begin(cancelled: bool) -> DeliveryPoll {
        DeliveryPoll { cancelled }
    }

    /// Whether this poll started cancelled (and so may end in a drop).
    #[inline]
    pub(crate) fn started_cancelled(self) -> bool {
        self.cancelled
    }

    /// After the body returned `Pending`: `shielded_work` is the body's
    /// pending-under-shield flag, `cancelled_now` reads the state again.
    #[inline]
    pub(crate) fn after_pending(
        self,
        shielded_work: bool,
        cancelled_now: impl FnOnce() -> bool,
    ) -> Verdict {
        if self.cancelled {
            if shielded_work {
                Verdict::Wait
            } else {
                Verdict::Drop
            }
        } else if cancelled_now() {
            Verdict::Repoll
        } else {
            Verdict::Wait
        }
    }
}

/// The effective cancellation a future last acted on (rule 3).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CancelWatch {
    seen: bool,
}

impl CancelWatch {
    /// Records `now`; true if it differs from what was seen before (re-deliver).
    #[inline]
    pub(crate) fn changed(&mut self, now: bool) -> bool {
        let changed = self.seen != now;
        self.seen = now;
        changed
    }

    /// The state last recorded.
    #[inline]
    pub(crate) fn seen(self) -> bool {
        self.seen
    }
}
