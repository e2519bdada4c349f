//! The runtime's deadline queue: one thread that cancels scopes whose deadline passed,
//! and (with a mock clock) wakes sleepers whose time came.
//!
//! A scope with a deadline registers here the first time its body waits (a body that
//! finishes on its first poll never does). Registering is a map insert under a lock, with
//! no system call unless the new deadline is the earliest; this keeps `fail_after` around a
//! briefly-waiting body cheap, where an async-io timer per scope costs a reactor
//! notification each.
//!
//! The thread reads the runtime's clock. With the system clock it waits for the earliest
//! deadline in real time. With a mock clock it waits for as long as that takes at the
//! clock's rate (forever at rate 0, until the clock is moved), and, with autojump, it
//! moves the clock to the earliest deadline once every task has stayed blocked for the
//! threshold and no thread job is in flight.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::base::scope::{CancelOrigin, ScopeState};
use crate::runtime::clock::Clock;
use crate::runtime::registry::Registry;

/// Identifies one registration: its deadline and a unique number.
pub(crate) type DeadlineKey = (Instant, u64);

/// How often autojump looks whether the tasks are still blocked, at least.
const AUTOJUMP_LOOK: Duration = Duration::from_millis(1);

/// How many looks in a row must see no task run before autojump moves the clock.
const AUTOJUMP_QUIET_LOOKS: u32 = 3;

#[derive(Default)]
pub(crate) struct DeadlineQueue {
    state: Mutex<QueueState>,
    /// Signalled when the earliest deadline moves earlier, when the clock changes, or on
    /// stop.
    changed: Condvar,
}

#[derive(Default)]
struct QueueState {
    /// Scopes by deadline. Entries are removed by their wrapper when it stops waiting,
    /// or by the timer thread when they fire.
    entries: BTreeMap<DeadlineKey, Weak<ScopeState>>,
    /// Sleepers by deadline (mock clocks only: the system clock's sleeps use async-io's
    /// timers). Removed by their `Sleep` when dropped, or here when woken.
    sleepers: BTreeMap<DeadlineKey, Waker>,
    next_id: u64,
    /// The deadline the timer thread sleeps until, if it sleeps with a timeout.
    sleeping_until: Option<Instant>,
    stop: bool,
}

impl QueueState {
    fn next_key(&mut self, at: Instant) -> DeadlineKey {
        let key = (at, self.next_id);
        self.next_id += 1;
        key
    }

    fn earliest(&self) -> Option<Instant> {
        let scope = self.entries.first_key_value().map(|(&(at, _), _)| at);
        let sleeper = self.sleepers.first_key_value().map(|(&(at, _), _)| at);
        match (scope, sleeper) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl DeadlineQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        crate::base::lock::lock(&self.state)
    }

    /// Registers `scope` to be cancelled at `at`.
    pub(crate) fn insert(&self, at: Instant, scope: &Arc<ScopeState>) -> DeadlineKey {
        let mut state = self.lock();
        let key = state.next_key(at);
        state.entries.insert(key, Arc::downgrade(scope));
        self.wake_if_earliest(state, at);
        key
    }

    pub(crate) fn remove(&self, key: DeadlineKey) {
        self.lock().entries.remove(&key);
    }

    /// Registers a sleeper to be woken at `at` (mock clocks).
    pub(crate) fn insert_sleeper(&self, at: Instant, waker: &Waker) -> DeadlineKey {
        let mut state = self.lock();
        let key = state.next_key(at);
        state.sleepers.insert(key, waker.clone());
        self.wake_if_earliest(state, at);
        key
    }

    /// Refreshes a sleeper's waker; false if it was woken (and removed) meanwhile.
    pub(crate) fn update_sleeper(&self, key: DeadlineKey, waker: &Waker) -> bool {
        match self.lock().sleepers.get_mut(&key) {
            Some(registered) => {
                if !registered.will_wake(waker) {
                    *registered = waker.clone();
                }
                true
            }
            None => false,
        }
    }

    pub(crate) fn remove_sleeper(&self, key: DeadlineKey) {
        self.lock().sleepers.remove(&key);
    }

    fn wake_if_earliest(&self, mut state: std::sync::MutexGuard<'_, QueueState>, at: Instant) {
        let wake = state.sleeping_until.is_none_or(|until| at < until);
        if wake {
            // Set now, so that a burst of earlier deadlines notifies once.
            state.sleeping_until = Some(at);
        }
        drop(state);
        if wake {
            self.changed.notify_one();
        }
    }

    /// The earliest deadline or sleeper registered.
    pub(crate) fn earliest(&self) -> Option<Instant> {
        self.lock().earliest()
    }

    /// The clock moved or changed its rate: what is due at `now` fires at once, on the
    /// calling thread (so that a test's `jump` has woken the sleepers it made due before
    /// it returns), and the timer thread looks again.
    pub(crate) fn clock_changed(&self, now: Instant) {
        let (mut due, mut woken) = (Vec::new(), Vec::new());
        {
            let mut state = self.lock();
            take_due(&mut state, now, &mut due, &mut woken);
            self.changed.notify_all();
        }
        fire(&mut due, &mut woken, now);
    }

    pub(crate) fn stop(&self) {
        self.lock().stop = true;
        self.changed.notify_all();
    }

    /// The timer thread's loop, until `stop`.
    /// `jumps_here`: whether this thread autojumps; a seeded runtime's loop does it
    /// itself, on the thread that runs the tasks, so that the order stays the seed's.
    pub(crate) fn run(&self, clock: &Clock, registry: &Registry, jumps_here: bool) {
        let mut due = Vec::new();
        let mut woken = Vec::new();
        // Autojump's view of the tasks: the activity count last seen, and for how many
        // looks it stayed the same with nothing running.
        let mut quiet: Option<(u64, u32)> = None;
        loop {
            let mut state = self.lock();
            loop {
                if state.stop {
                    return;
                }
                let now = clock.now();
                let Some(at) = state.earliest() else {
                    state.sleeping_until = None;
                    quiet = None;
                    state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                    continue;
                };
                if at <= now {
                    take_due(&mut state, now, &mut due, &mut woken);
                    quiet = None;
                    break;
                }
                let wait = match clock {
                    Clock::System => Some(at - now),
                    Clock::Mock(mock) => {
                        let until_due = mock.real_time_until(at);
                        match mock.autojump().filter(|_| jumps_here) {
                            None => until_due,
                            Some(threshold) => {
                                if autojump_ready(registry, &mut quiet) {
                                    // Everything is blocked: time passes at once.
                                    mock.advance_to(at);
                                    continue;
                                }
                                let look = threshold
                                    .checked_div(AUTOJUMP_QUIET_LOOKS)
                                    .unwrap_or(Duration::ZERO)
                                    .max(AUTOJUMP_LOOK);
                                Some(until_due.map_or(look, |due| due.min(look)))
                            }
                        }
                    }
                };
                state.sleeping_until = Some(at);
                state = match wait {
                    Some(wait) => {
                        self.changed
                            .wait_timeout(state, wait)
                            .unwrap_or_else(|e| e.into_inner())
                            .0
                    }
                    None => self.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
                };
            }
            drop(state);
            fire(&mut due, &mut woken, clock.now());
        }
    }
}

/// Moves the scopes and sleepers due at `now` out of the queue.
fn take_due(
    state: &mut QueueState,
    now: Instant,
    due: &mut Vec<Weak<ScopeState>>,
    woken: &mut Vec<Waker>,
) {
    while let Some(entry) = state.entries.first_entry() {
        if entry.key().0 > now {
            break;
        }
        due.push(entry.remove());
    }
    while let Some(entry) = state.sleepers.first_entry() {
        if entry.key().0 > now {
            break;
        }
        woken.push(entry.remove());
    }
}

/// Cancels the due scopes and wakes the due sleepers; outside the lock, since both
/// wake tasks.
fn fire(due: &mut Vec<Weak<ScopeState>>, woken: &mut Vec<Waker>, now: Instant) {
    for scope in due.drain(..) {
        if let Some(scope) = scope.upgrade()
            // The deadline may have moved later since it was registered.
            && scope.deadline_passed(now)
        {
            scope.cancel(CancelOrigin::Deadline, None);
        }
    }
    for waker in woken.drain(..) {
        waker.wake();
    }
}

/// Whether autojump may move the clock now: no task has run for `AUTOJUMP_QUIET_LOOKS`
/// looks in a row (spread over the threshold by the caller), none is in a poll, and no
/// thread job or worker-process call is in flight.
fn autojump_ready(registry: &Registry, quiet: &mut Option<(u64, u32)>) -> bool {
    let (count, busy) = registry.activity();
    if busy || crate::runtime::thread_pool::jobs_in_flight() > 0 || crate::runtime::clock::held() {
        *quiet = None;
        return false;
    }
    let looks = match *quiet {
        Some((last, looks)) if last == count => looks + 1,
        _ => 0,
    };
    *quiet = Some((count, looks));
    looks >= AUTOJUMP_QUIET_LOOKS
}
