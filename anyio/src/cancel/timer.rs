//! The timer that turns a scope's deadline into a cancellation.

use std::pin::Pin;
use std::task::Context;
use std::time::Instant;

use async_io::Timer;
use std::future::Future;

use crate::cancel::state::{CancelOrigin, ScopeState};

/// Watches one scope's deadline for the wrapper that delivers the scope.
///
/// Armed lazily, the first time the body waits while a deadline is set, so that a body
/// that finishes on its first poll costs no timer. Re-armed when the deadline moves.
#[derive(Debug, Default)]
pub(crate) struct DeadlineTimer {
    timer: Option<Timer>,
    /// The deadline `timer` is armed for.
    armed_for: Option<Instant>,
}

impl DeadlineTimer {
    /// At the scope's entry: a deadline already past cancels it, with no timer.
    pub(crate) fn check_on_entry(state: &ScopeState) {
        if let Some(deadline) = state.deadline()
            && deadline <= Instant::now()
        {
            state.cancel(CancelOrigin::Deadline, None);
        }
    }

    /// Before polling the body: if a timer is armed, follows a moved deadline and cancels
    /// the scope when the deadline has passed.
    pub(crate) fn poll_armed(&mut self, state: &ScopeState, cx: &mut Context<'_>) {
        let Some(timer) = self.timer.as_mut() else {
            return;
        };
        if state.cancel_called() {
            self.timer = None;
            return;
        }
        let deadline = state.deadline();
        if deadline != self.armed_for {
            self.armed_for = deadline;
            match deadline {
                Some(at) => timer.set_at(at),
                None => {
                    self.timer = None;
                    return;
                }
            }
        }
        if Pin::new(timer).poll(cx).is_ready() {
            self.timer = None;
            state.cancel(CancelOrigin::Deadline, None);
        }
    }

    /// After the body returned `Pending`: arms the timer if a deadline is set and none is
    /// armed. Returns true if the deadline has already passed (the scope is now cancelled).
    pub(crate) fn arm(&mut self, state: &ScopeState, cx: &mut Context<'_>) -> bool {
        if self.timer.is_some() || state.cancel_called() {
            return false;
        }
        let Some(deadline) = state.deadline() else {
            return false;
        };
        let mut timer = Timer::at(deadline);
        if Pin::new(&mut timer).poll(cx).is_ready() {
            state.cancel(CancelOrigin::Deadline, None);
            return true;
        }
        self.timer = Some(timer);
        self.armed_for = Some(deadline);
        false
    }
}
