//! The runtime's deadline queue: one thread that cancels scopes whose deadline passed.
//!
//! A scope with a deadline registers here the first time its body waits (a body that
//! finishes on its first poll never does). Registering is a map insert under a lock, with
//! no system call unless the new deadline is the earliest; this keeps `fail_after` around a
//! briefly-waiting body cheap, where an async-io timer per scope costs a reactor
//! notification each.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Instant;

use crate::base::scope::{CancelOrigin, ScopeState};

/// Identifies one registration: its deadline and a unique number.
pub(crate) type DeadlineKey = (Instant, u64);

#[derive(Default)]
pub(crate) struct DeadlineQueue {
    state: Mutex<QueueState>,
    /// Signalled when the earliest deadline moves earlier, or on stop.
    changed: Condvar,
}

#[derive(Default)]
struct QueueState {
    /// Scopes by deadline. Entries are removed by their wrapper when it stops waiting,
    /// or by the timer thread when they fire.
    entries: BTreeMap<DeadlineKey, Weak<ScopeState>>,
    next_id: u64,
    /// The deadline the timer thread sleeps until (`None`: until notified). A new
    /// deadline needs a notification only if it is earlier.
    sleeping_until: Option<Instant>,
    stop: bool,
}

impl DeadlineQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        crate::base::lock::lock(&self.state)
    }

    /// Registers `scope` to be cancelled at `at`.
    pub(crate) fn insert(&self, at: Instant, scope: &Arc<ScopeState>) -> DeadlineKey {
        let mut state = self.lock();
        let key = (at, state.next_id);
        state.next_id += 1;
        state.entries.insert(key, Arc::downgrade(scope));
        let wake = state.sleeping_until.is_none_or(|until| at < until);
        if wake {
            // Set now, so that a burst of earlier deadlines notifies once.
            state.sleeping_until = Some(at);
        }
        drop(state);
        if wake {
            self.changed.notify_one();
        }
        key
    }

    /// Removes a registration (no-op if it already fired).
    pub(crate) fn remove(&self, key: DeadlineKey) {
        self.lock().entries.remove(&key);
    }

    /// Stops the timer thread.
    pub(crate) fn stop(&self) {
        self.lock().stop = true;
        self.changed.notify_all();
    }

    /// The timer thread's loop: waits for the earliest deadline and cancels its scope.
    pub(crate) fn run(&self) {
        let mut due = Vec::new();
        loop {
            let mut state = self.lock();
            loop {
                if state.stop {
                    return;
                }
                let now = Instant::now();
                match state.entries.first_key_value() {
                    Some((&(at, _), _)) if at <= now => {
                        while let Some(entry) = state.entries.first_entry() {
                            if entry.key().0 > now {
                                break;
                            }
                            due.push(entry.remove());
                        }
                        break;
                    }
                    Some((&(at, _), _)) => {
                        state.sleeping_until = Some(at);
                        state = self
                            .changed
                            .wait_timeout(state, at - now)
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                    }
                    None => {
                        state.sleeping_until = None;
                        state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                    }
                }
            }
            drop(state);
            // Cancel outside the lock: cancelling wakes tasks.
            for scope in due.drain(..) {
                if let Some(scope) = scope.upgrade()
                    // The deadline may have moved later since it was registered.
                    && scope.deadline_passed(Instant::now())
                {
                    scope.cancel(CancelOrigin::Deadline, None);
                }
            }
        }
    }
}
