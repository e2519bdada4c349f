//! The shared state of one cancel scope, and the walks over the scope tree.
//!
//! Scopes form a tree through `parent` links: a scope's parent is the scope that was
//! current when its wrapper was first polled (for a task group's children, the group's
//! scope). The tree is only ever walked upwards, from the code being polled towards the
//! root, and every walk stops at the first shielded scope.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use atomic_waker::AtomicWaker;

use crate::base::lock::lock;

/// Why a scope was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum CancelOrigin {
    /// Not cancelled.
    None = 0,
    /// `cancel()` / `cancel_with_reason()`, or a task group cancelling itself on failure.
    Explicit = 1,
    /// The deadline passed.
    Deadline = 2,
}

/// `deadline` value meaning "no deadline".
const NO_DEADLINE: u64 = u64::MAX;

/// The instant deadlines are measured from; fixed for the life of the process.
#[inline]
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Encodes an instant as nanoseconds since the epoch (instants before it become 0).
#[inline]
fn encode_instant(at: Instant) -> u64 {
    let nanos = at.saturating_duration_since(epoch()).as_nanos();
    u64::try_from(nanos)
        .unwrap_or(NO_DEADLINE - 1)
        .min(NO_DEADLINE - 1)
}

fn decode_instant(nanos: u64) -> Instant {
    epoch() + Duration::from_nanos(nanos)
}

/// The state of one cancel scope, shared by its handles, its wrapper and its children.
pub(crate) struct ScopeState {
    /// Set by `cancel()` or by the wrapper when the deadline passes. Never reset while the
    /// scope is in use (a pooled scope is reset only when no other handle exists).
    cancel_called: AtomicBool,
    /// `CancelOrigin` of the first cancel; written before `cancel_called` is set.
    origin: AtomicU8,
    /// Whether the scope blocks cancellation coming from outer scopes. Changed by
    /// `set_shield` at any time; takes effect at the body's next checkpoint.
    shield: AtomicBool,
    /// Nanoseconds since `epoch()` at which the scope cancels itself, or `NO_DEADLINE`:
    /// what timers and checks read. Instants before the epoch read as the epoch and very
    /// far ones are capped, which fires at the same moments.
    deadline: AtomicU64,
    /// The deadline exactly as it was set, for `deadline()` to read back. Written
    /// together with `deadline` (this one first); read only by users and
    /// `current_effective_deadline`, never on a poll's hot path.
    exact_deadline: Mutex<Option<Instant>>,
    /// Set by the wrapper when it dropped its body because of this scope's cancellation.
    cancelled_caught: AtomicBool,
    /// Set by the first poll of a wrapper; a scope can be entered only once.
    entered: AtomicBool,
    /// The scope that was current when this one was entered (set once, at entry).
    parent: OnceLock<Option<Arc<ScopeState>>>,
    /// The waker of the last poll of the wrapper that delivers this scope's
    /// cancellation; woken by `cancel()`, `set_deadline()` and `set_shield()`.
    pub(crate) waker: AtomicWaker,
    /// The reason given to `cancel_with_reason`, and the name of the task that cancelled.
    reason: Mutex<Option<String>>,
}

impl ScopeState {
    pub(crate) fn new(deadline: Option<Instant>, shield: bool) -> ScopeState {
        ScopeState {
            cancel_called: AtomicBool::new(false),
            origin: AtomicU8::new(CancelOrigin::None as u8),
            shield: AtomicBool::new(shield),
            deadline: AtomicU64::new(deadline.map_or(NO_DEADLINE, encode_instant)),
            exact_deadline: Mutex::new(deadline),
            cancelled_caught: AtomicBool::new(false),
            entered: AtomicBool::new(false),
            parent: OnceLock::new(),
            waker: AtomicWaker::new(),
            reason: Mutex::new(None),
        }
    }

    /// Makes a scope that nobody else refers to any more as good as new, in place
    /// (plain writes; for the scope pool).
    #[inline]
    pub(crate) fn reset_unique(&mut self) {
        *self.cancel_called.get_mut() = false;
        *self.origin.get_mut() = CancelOrigin::None as u8;
        *self.shield.get_mut() = false;
        *self.deadline.get_mut() = NO_DEADLINE;
        *self
            .exact_deadline
            .get_mut()
            .unwrap_or_else(|e| e.into_inner()) = None;
        *self.cancelled_caught.get_mut() = false;
        *self.entered.get_mut() = false;
        if self.parent.get().is_some() {
            self.parent = OnceLock::new();
        }
        self.waker = AtomicWaker::new();
        let reason = self.reason.get_mut().unwrap_or_else(|e| e.into_inner());
        if reason.is_some() {
            *reason = None;
        }
    }

    /// Enters a scope that nobody else refers to yet: plain writes, no atomics.
    #[inline]
    pub(crate) fn enter_unique(
        &mut self,
        parent: Option<Arc<ScopeState>>,
        deadline: Option<Instant>,
    ) {
        *self.entered.get_mut() = true;
        // An unset link reads as "no parent", so a top-level scope skips the `Once` that
        // setting a `OnceLock` costs (a pooled scope's link was reset to unset).
        if parent.is_some() {
            self.parent = OnceLock::from(parent);
        }
        if let Some(at) = deadline {
            *self.deadline.get_mut() = encode_instant(at);
            *self
                .exact_deadline
                .get_mut()
                .unwrap_or_else(|e| e.into_inner()) = Some(at);
        }
    }

    #[inline]
    pub(crate) fn cancel_called(&self) -> bool {
        self.cancel_called.load(Ordering::Acquire)
    }

    #[inline]
    pub(crate) fn shield(&self) -> bool {
        self.shield.load(Ordering::Acquire)
    }

    #[inline]
    pub(crate) fn origin(&self) -> CancelOrigin {
        match self.origin.load(Ordering::Acquire) {
            1 => CancelOrigin::Explicit,
            2 => CancelOrigin::Deadline,
            _ => CancelOrigin::None,
        }
    }

    pub(crate) fn cancelled_caught(&self) -> bool {
        self.cancelled_caught.load(Ordering::Acquire)
    }

    #[inline]
    pub(crate) fn set_cancelled_caught(&self) {
        self.cancelled_caught.store(true, Ordering::Release);
    }

    pub(crate) fn reason(&self) -> Option<String> {
        lock(&self.reason).clone()
    }

    #[inline]
    pub(crate) fn parent(&self) -> Option<&Arc<ScopeState>> {
        self.parent.get().and_then(Option::as_ref)
    }

    /// Records entry by a wrapper: links the parent. Returns false if already entered.
    #[inline]
    pub(crate) fn enter(&self, parent: Option<Arc<ScopeState>>) -> bool {
        if self.entered.swap(true, Ordering::AcqRel) {
            return false;
        }
        let _ = self.parent.set(parent);
        true
    }

    /// Cancels the scope (first cancel wins the origin and reason) and wakes its wrapper.
    pub(crate) fn cancel(&self, origin: CancelOrigin, reason: Option<String>) {
        if self.cancel_called() {
            return;
        }
        if let Some(reason) = reason {
            lock(&self.reason).get_or_insert(reason);
        }
        let _ = self.origin.compare_exchange(
            CancelOrigin::None as u8,
            origin as u8,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        self.cancel_called.store(true, Ordering::Release);
        self.waker.wake();
    }

    pub(crate) fn set_shield(&self, shield: bool) {
        if self.shield.swap(shield, Ordering::AcqRel) != shield {
            self.waker.wake();
        }
    }

    /// The deadline exactly as it was set.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        *lock(&self.exact_deadline)
    }

    /// The deadline as timers see it: the moment it fires (see `deadline`'s field).
    #[inline]
    pub(crate) fn firing_deadline(&self) -> Option<Instant> {
        match self.deadline.load(Ordering::Acquire) {
            NO_DEADLINE => None,
            nanos => Some(decode_instant(nanos)),
        }
    }

    /// Whether the deadline has passed at `now`.
    #[inline]
    pub(crate) fn deadline_passed(&self, now: Instant) -> bool {
        self.firing_deadline().is_some_and(|at| at <= now)
    }

    /// Stores the deadline without checking or waking (used at entry, before any wait).
    #[inline]
    pub(crate) fn set_deadline_quiet(&self, deadline: Option<Instant>) {
        *lock(&self.exact_deadline) = deadline;
        self.deadline.store(
            deadline.map_or(NO_DEADLINE, encode_instant),
            Ordering::Release,
        );
    }

    /// Sets the deadline; a deadline already past cancels the scope at once.
    pub(crate) fn set_deadline(&self, deadline: Option<Instant>) {
        self.set_deadline_quiet(deadline);
        if let Some(at) = deadline
            && at <= Instant::now()
        {
            self.cancel(CancelOrigin::Deadline, None);
            return;
        }
        // The wrapper re-arms its timer at its next poll.
        self.waker.wake();
    }

    /// Whether this scope delivers its own cancellation: it is cancelled, and no outer
    /// scope up to the nearest shield is cancelled too (the outermost cancelled scope
    /// below a shield owns the cancellation, as in Trio).
    #[inline]
    pub(crate) fn is_delivering(&self) -> bool {
        self.cancel_called() && (self.shield() || !effectively_cancelled(self.parent()))
    }
}

/// The scopes whose cancellation reaches code whose current scope is `scope`: from it
/// upwards, up to and including the nearest shielded scope.
#[inline]
fn up_to_shield(scope: Option<&Arc<ScopeState>>) -> impl Iterator<Item = &Arc<ScopeState>> {
    let mut next = scope;
    std::iter::from_fn(move || {
        let state = next?;
        next = if state.shield() { None } else { state.parent() };
        Some(state)
    })
}

/// Whether code whose current scope is `scope` is cancelled: some scope from it up to
/// and including the nearest shielded scope has been cancelled.
#[inline]
pub(crate) fn effectively_cancelled(scope: Option<&Arc<ScopeState>>) -> bool {
    up_to_shield(scope).any(|state| state.cancel_called())
}

/// The earliest deadline in effect for code in `scope`, or `Err(())` if it is cancelled.
/// Reads the exact deadlines (a lock per scope): this walk serves users, not polls.
pub(crate) fn effective_deadline(scope: Option<&Arc<ScopeState>>) -> Result<Option<Instant>, ()> {
    up_to_shield(scope).try_fold(None, |earliest: Option<Instant>, state| {
        if state.cancel_called() {
            return Err(());
        }
        Ok(match (earliest, state.deadline()) {
            (Some(e), Some(at)) => Some(e.min(at)),
            (e, at) => e.or(at),
        })
    })
}

/// The reason of the first cancelled scope from `scope` up to the nearest shield, if it
/// was given one with `cancel_with_reason`.
pub(crate) fn cancel_reason(scope: Option<&Arc<ScopeState>>) -> Option<String> {
    up_to_shield(scope)
        .find(|state| state.cancel_called())
        .and_then(|state| state.reason())
}
