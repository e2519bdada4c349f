//! Turns a scope's deadline into a cancellation, for the wrapper that delivers the scope.

use std::pin::Pin;
use std::sync::Arc;
use std::task::Context;
use std::time::Instant;

use async_io::Timer;
use std::future::Future;

use crate::base::scope::{CancelOrigin, ScopeState};
use crate::runtime::RuntimeShared;
use crate::runtime::deadlines::DeadlineKey;

/// Watches one scope's deadline.
///
/// Armed lazily, the first time the body waits while a deadline is set, so that a body
/// that finishes on its first poll costs nothing. Inside an anyio runtime the deadline
/// goes to the runtime's deadline queue; elsewhere (a foreign executor) an async-io timer
/// is used. Follows a moved deadline at the wrapper's next poll.
#[derive(Default)]
pub(crate) struct DeadlineTimer {
    armed: Option<Armed>,
}

impl std::fmt::Debug for DeadlineTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadlineTimer")
            .field("armed", &self.armed.is_some())
            .finish()
    }
}

enum Armed {
    Queue(Arc<RuntimeShared>, DeadlineKey),
    /// Boxed: rare (a foreign executor), and large, and every scope wrapper holds a
    /// `DeadlineTimer`.
    Timer(Box<Timer>, Instant),
}

impl Armed {
    fn deadline(&self) -> Instant {
        match self {
            Armed::Queue(_, (at, _)) | Armed::Timer(_, at) => *at,
        }
    }
}

impl DeadlineTimer {
    /// At the scope's entry: a deadline already past cancels it, with no timer.
    pub(crate) fn check_on_entry(state: &ScopeState) {
        if let Some(deadline) = state.firing_deadline()
            && deadline <= crate::runtime::clock::now()
        {
            state.cancel(CancelOrigin::Deadline, None);
        }
    }

    /// Before polling the body: follows a moved deadline; with an async-io timer, also
    /// cancels the scope when the deadline has passed.
    pub(crate) fn poll_armed(&mut self, state: &Arc<ScopeState>, cx: &mut Context<'_>) {
        let Some(armed) = self.armed.as_mut() else {
            return;
        };
        if state.cancel_called() {
            self.disarm();
            return;
        }
        let deadline = state.firing_deadline();
        if deadline != Some(armed.deadline()) {
            self.disarm();
            if deadline.is_some() {
                self.arm(state, cx);
            }
            return;
        }
        if let Armed::Timer(timer, _) = armed
            && Pin::new(timer).poll(cx).is_ready()
        {
            self.armed = None;
            state.cancel(CancelOrigin::Deadline, None);
        }
    }

    /// After the body returned `Pending`: arms the timer if a deadline is set and none is
    /// armed. Returns true if the scope is now cancelled by its deadline.
    pub(crate) fn arm(&mut self, state: &Arc<ScopeState>, cx: &mut Context<'_>) -> bool {
        if self.armed.is_some() || state.cancel_called() {
            return false;
        }
        let Some(deadline) = state.firing_deadline() else {
            return false;
        };
        if let Some(runtime) = crate::runtime::current_runtime() {
            let key = runtime.deadlines().insert(deadline, state);
            self.armed = Some(Armed::Queue(runtime, key));
            return false;
        }
        let mut timer = Timer::at(deadline);
        if Pin::new(&mut timer).poll(cx).is_ready() {
            state.cancel(CancelOrigin::Deadline, None);
            return true;
        }
        self.armed = Some(Armed::Timer(Box::new(timer), deadline));
        false
    }

    /// Stops watching (the body finished or was dropped).
    #[inline]
    pub(crate) fn disarm(&mut self) {
        // Most wrappers never arm (their body is ready at once): skip moving the whole
        // enum out just to find it empty.
        if self.armed.is_none() {
            return;
        }
        if let Some(Armed::Queue(runtime, key)) = self.armed.take() {
            runtime.deadlines().remove(key);
        }
    }
}

impl Drop for DeadlineTimer {
    fn drop(&mut self) {
        self.disarm();
    }
}
