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

/// Encodes an instant as nanoseconds since the epoch (instants before it become 0, very
/// far ones are capped); the flag says whether the encoding is exact.
#[inline]
fn encode_instant(at: Instant) -> (u64, bool) {
    match at.checked_duration_since(epoch()) {
        Some(since) => match u64::try_from(since.as_nanos()) {
            Ok(nanos) if nanos < NO_DEADLINE - 1 => (nanos, true),
            _ => (NO_DEADLINE - 1, false),
        },
        None => (0, false),
    }
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
    /// The deadline exactly as it was set, for `deadline()` to read back, when
    /// `deadline` cannot hold it exactly (`deadline_inexact`; an instant before the epoch
    /// or centuries ahead); `None` otherwise. Written under its lock together with the
    /// flag and `deadline`; read only by users and `current_effective_deadline`.
    exact_deadline: Mutex<Option<Instant>>,
    /// Whether `exact_deadline` holds the deadline (else `deadline` decodes exactly).
    deadline_inexact: AtomicBool,
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
        let state = ScopeState {
            cancel_called: AtomicBool::new(false),
            origin: AtomicU8::new(CancelOrigin::None as u8),
            shield: AtomicBool::new(shield),
            deadline: AtomicU64::new(NO_DEADLINE),
            exact_deadline: Mutex::new(None),
            deadline_inexact: AtomicBool::new(false),
            cancelled_caught: AtomicBool::new(false),
            entered: AtomicBool::new(false),
            parent: OnceLock::new(),
            waker: AtomicWaker::new(),
            reason: Mutex::new(None),
        };
        state.set_deadline_quiet(deadline);
        state
    }

    /// Makes a scope that nobody else refers to any more as good as new, in place
    /// (plain writes; for the scope pool).
    #[inline]
    pub(crate) fn reset_unique(&mut self) {
        *self.cancel_called.get_mut() = false;
        *self.origin.get_mut() = CancelOrigin::None as u8;
        *self.shield.get_mut() = false;
        *self.deadline.get_mut() = NO_DEADLINE;
        if std::mem::take(self.deadline_inexact.get_mut()) {
            *self
                .exact_deadline
                .get_mut()
                .unwrap_or_else(|e| e.into_inner()) = None;
        }
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

    /// Enters a pooled scope that nobody else refers to yet (reset by `reset_unique`,
    /// or new): no read-modify-write unless it has a parent or an inexact deadline.
    #[inline]
    pub(crate) fn enter_fresh(&self, parent: Option<Arc<ScopeState>>, deadline: Option<Instant>) {
        self.entered.store(true, Ordering::Relaxed);
        // An unset link reads as "no parent", so a top-level scope skips the `Once` that
        // setting a `OnceLock` costs (a pooled scope's link was reset to unset).
        if parent.is_some() {
            let _ = self.parent.set(parent);
        }
        if deadline.is_some() {
            self.set_deadline_quiet(deadline);
        }
    }

    /// `enter_fresh` with a deadline `delay` from now. The common case stores the
    /// deadline's encoding (now's plus the delay) without building its `Instant`.
    #[inline]
    pub(crate) fn enter_fresh_after(&self, parent: Option<Arc<ScopeState>>, delay: Duration) {
        self.enter_fresh(parent, None);
        let now = crate::runtime::clock::now();
        let encoded = now
            .checked_duration_since(epoch())
            .and_then(|since| since.checked_add(delay))
            .and_then(|at| u64::try_from(at.as_nanos()).ok())
            .filter(|&nanos| nanos < NO_DEADLINE - 1);
        match encoded {
            Some(nanos) if !self.deadline_inexact.load(Ordering::Acquire) => {
                self.deadline.store(nanos, Ordering::Release);
            }
            // Before the epoch, centuries ahead, or beyond `Instant`: no deadline then.
            _ => self.set_deadline_quiet(now.checked_add(delay)),
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

    /// The scope in words, for task trees: its deadline, shield and cancellation.
    pub(crate) fn describe(&self, now: Instant) -> String {
        let mut parts = Vec::new();
        match self.deadline() {
            Some(at) if at > now => {
                parts.push(format!("deadline in {:.3} s", (at - now).as_secs_f64()))
            }
            Some(_) => parts.push("deadline passed".to_owned()),
            None => {}
        }
        if self.shield() {
            parts.push("shielded".to_owned());
        }
        if self.cancel_called() {
            let why = match self.origin() {
                CancelOrigin::Deadline => "by its deadline".to_owned(),
                _ => match self.reason() {
                    Some(reason) => format!("({reason})"),
                    None => "explicitly".to_owned(),
                },
            };
            parts.push(format!("cancel called {why}"));
        }
        if parts.is_empty() {
            "no deadline, not cancelled".to_owned()
        } else {
            parts.join(", ")
        }
    }

    pub(crate) fn reason(&self) -> Option<String> {
        lock(&self.reason).clone()
    }

    #[inline]
    /// This scope and the scopes around it, innermost first, each described in words.
    pub(crate) fn describe_chain(&self) -> Vec<String> {
        let now = Instant::now();
        let mut scopes = vec![self.describe(now)];
        let mut scope = self.parent();
        while let Some(current) = scope {
            scopes.push(current.describe(now));
            scope = current.parent();
        }
        scopes
    }

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
        if self.deadline_inexact.load(Ordering::Acquire) {
            let exact = lock(&self.exact_deadline);
            // Read under the lock its setter holds: the pair is consistent.
            if self.deadline_inexact.load(Ordering::Acquire) {
                return *exact;
            }
        }
        self.firing_deadline()
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
    /// Takes the lock of `exact_deadline` only for an inexact deadline, or to replace one.
    #[inline]
    pub(crate) fn set_deadline_quiet(&self, deadline: Option<Instant>) {
        let (encoded, exact) = deadline.map_or((NO_DEADLINE, true), encode_instant);
        if exact && !self.deadline_inexact.load(Ordering::Acquire) {
            self.deadline.store(encoded, Ordering::Release);
            return;
        }
        let mut stored = lock(&self.exact_deadline);
        *stored = deadline.filter(|_| !exact);
        self.deadline_inexact.store(!exact, Ordering::Release);
        self.deadline.store(encoded, Ordering::Release);
    }

    /// Sets the deadline; a deadline already past cancels the scope at once.
    pub(crate) fn set_deadline(&self, deadline: Option<Instant>) {
        self.set_deadline_quiet(deadline);
        if let Some(at) = deadline
            && at <= crate::runtime::clock::now()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `deadline()` reads back exactly what was set, whether the encoded form holds it
    /// (the common case, with no lock) or not (before the epoch, centuries ahead).
    #[test]
    fn a_deadline_reads_back_exactly_as_set() {
        let state = ScopeState::new(None, false);
        assert_eq!(state.deadline(), None);
        let soon = Instant::now() + Duration::new(5, 123_456_789);
        state.set_deadline_quiet(Some(soon));
        assert_eq!(state.deadline(), Some(soon));
        assert_eq!(state.firing_deadline(), Some(soon));

        let far = Instant::now() + Duration::from_secs(1_000 * 365 * 86_400);
        state.set_deadline_quiet(Some(far));
        assert_eq!(state.deadline(), Some(far));
        assert!(state.firing_deadline().is_some_and(|at| at < far), "capped");

        if let Some(before_epoch) = epoch().checked_sub(Duration::from_nanos(1)) {
            state.set_deadline_quiet(Some(before_epoch));
            assert_eq!(state.deadline(), Some(before_epoch));
            assert_eq!(state.firing_deadline(), Some(epoch()));
        }

        // Back to an exact one, and to none: the stored exact value is dropped.
        state.set_deadline_quiet(Some(soon));
        assert_eq!(state.deadline(), Some(soon));
        state.set_deadline_quiet(None);
        assert_eq!(state.deadline(), None);
        assert_eq!(state.firing_deadline(), None);

        let mut state = ScopeState::new(Some(far), true);
        assert_eq!(state.deadline(), Some(far));
        state.reset_unique();
        assert_eq!(state.deadline(), None);
        assert!(!state.shield());
    }
}
