//! A FIFO queue of parked waiters, kept inside a primitive's mutex.
//!
//! Each waiter owns one slot from the moment it parks until it has observed the outcome
//! (or was dropped), so a slot index stays valid for its owner without generations:
//!
//! - `Queued`: linked into the FIFO, with its waker, the cancel scope it waits in, and a
//!   payload (e.g. the item a sender offers).
//! - `Granted`: unlinked; the resource (a lock, a token, an item) was handed to it. The
//!   owner takes it on its next poll, or, when dropped first, passes it on.
//!
//! Granting skips waiters whose scope is already cancelled (they are about to be dropped
//! and must not swallow the resource) but leaves them queued until their drop unlinks
//! them. That is AnyIO's rule: a cancel that came first wins over a hand-off; a hand-off
//! that came first wins over a later cancel.
//!
//! A skipped waiter is woken (once per skip): cancellation is not monotonic (a shield
//! raised above it lifts it), so a waiter passed over while cancelled may find itself
//! live again before anything polled it; woken, it looks at the resource again instead
//! of staying parked beside a free one. Still cancelled, it is simply dropped there (the
//! delivery protocol's rule 3, `cancel/deliver.rs`).

use std::sync::Arc;
use std::task::Waker;

use crate::base::context;
use crate::base::scope::{ScopeState, effectively_cancelled};

const NIL: usize = usize::MAX;

pub(crate) struct WaitQueue<P, G> {
    slots: Vec<Slot<P, G>>,
    free: usize,
    head: usize,
    tail: usize,
    queued: usize,
}

enum Slot<P, G> {
    Vacant {
        next_free: usize,
    },
    Queued {
        payload: P,
        waker: Waker,
        scope: Option<Arc<ScopeState>>,
        /// Woken because a grant skipped it; cleared when its owner polls again.
        skip_woken: bool,
        prev: usize,
        next: usize,
    },
    Granted(G),
}

/// What a dropped waiter left behind.
pub(crate) enum Withdrawn<P, G> {
    /// It was still queued: here is its payload back.
    Queued(P),
    /// The resource had been handed to it: pass it on.
    Granted(G),
}

impl<P, G> WaitQueue<P, G> {
    pub(crate) const fn new() -> WaitQueue<P, G> {
        WaitQueue {
            slots: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            queued: 0,
        }
    }

    /// Waiters still queued (including cancelled ones not dropped yet).
    pub(crate) fn len(&self) -> usize {
        self.queued
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// Parks a waiter at the back, remembering the cancel scope being polled.
    pub(crate) fn push(&mut self, payload: P, waker: &Waker) -> usize {
        let slot = Slot::Queued {
            payload,
            waker: waker.clone(),
            scope: context::current_scope(),
            skip_woken: false,
            prev: self.tail,
            next: NIL,
        };
        let key = if self.free == NIL {
            self.slots.push(slot);
            self.slots.len() - 1
        } else {
            let key = self.free;
            let Slot::Vacant { next_free } = self.slots[key] else {
                unreachable!("the free list holds vacant slots only")
            };
            self.free = next_free;
            self.slots[key] = slot;
            key
        };
        if self.tail == NIL {
            self.head = key;
        } else {
            self.set_next(self.tail, key);
        }
        self.tail = key;
        self.queued += 1;
        key
    }

    /// The owner's poll: takes the grant if there is one, else refreshes the waker.
    pub(crate) fn poll_granted(&mut self, key: usize, waker: &Waker) -> Option<G> {
        match &mut self.slots[key] {
            Slot::Granted(_) => match self.vacate(key) {
                Slot::Granted(grant) => Some(grant),
                _ => unreachable!(),
            },
            Slot::Queued {
                waker: parked,
                skip_woken,
                ..
            } => {
                if !parked.will_wake(waker) {
                    parked.clone_from(waker);
                }
                *skip_woken = false;
                None
            }
            Slot::Vacant { .. } => unreachable!("a waiter polled a slot it does not own"),
        }
    }

    /// The owner gives up its slot (dropped, or served by other means).
    pub(crate) fn withdraw(&mut self, key: usize) -> Withdrawn<P, G> {
        if let Slot::Queued { .. } = self.slots[key] {
            self.unlink(key);
        }
        match self.vacate(key) {
            Slot::Queued { payload, .. } => Withdrawn::Queued(payload),
            Slot::Granted(grant) => Withdrawn::Granted(grant),
            Slot::Vacant { .. } => unreachable!("a waiter withdrew a slot it does not own"),
        }
    }

    /// The first queued waiter whose scope is not cancelled, to grant something to;
    /// wakes the cancelled waiters it passes over (see the module docs).
    pub(crate) fn first_live(&mut self) -> Option<usize> {
        let mut key = self.head;
        while key != NIL {
            let Slot::Queued {
                scope,
                next,
                waker,
                skip_woken,
                ..
            } = &mut self.slots[key]
            else {
                unreachable!("the queue links queued slots only")
            };
            if !effectively_cancelled(scope.as_ref()) {
                return Some(key);
            }
            if !*skip_woken {
                // Wakers only schedule a task: none of them takes a primitive's mutex.
                *skip_woken = true;
                waker.wake_by_ref();
            }
            key = *next;
        }
        None
    }

    /// Whether a queued waiter's scope is not cancelled (a query: wakes nobody).
    pub(crate) fn has_live(&self) -> bool {
        let mut key = self.head;
        while key != NIL {
            let Slot::Queued { scope, next, .. } = &self.slots[key] else {
                unreachable!("the queue links queued slots only")
            };
            if !effectively_cancelled(scope.as_ref()) {
                return true;
            }
            key = *next;
        }
        false
    }

    /// The payload of a queued waiter.
    pub(crate) fn payload(&self, key: usize) -> &P {
        match &self.slots[key] {
            Slot::Queued { payload, .. } => payload,
            _ => unreachable!("payload of a slot that is not queued"),
        }
    }

    /// Hands `grant` to a queued waiter: unlinks it and returns its payload and waker
    /// (to be woken after the primitive's mutex is released).
    pub(crate) fn grant(&mut self, key: usize, grant: G) -> (P, Waker) {
        self.unlink(key);
        match std::mem::replace(&mut self.slots[key], Slot::Granted(grant)) {
            Slot::Queued { payload, waker, .. } => (payload, waker),
            _ => unreachable!("granted a slot that is not queued"),
        }
    }

    /// Grants every queued waiter, cancelled or not, with `make(payload)`.
    pub(crate) fn grant_all(&mut self, make: impl FnMut(P) -> G, wakers: &mut Vec<Waker>) {
        self.grant_matching(|_| true, make, wakers);
    }

    /// Grants every queued waiter whose payload matches `select`, cancelled or not,
    /// with `make(payload)`.
    pub(crate) fn grant_matching(
        &mut self,
        select: impl Fn(&P) -> bool,
        mut make: impl FnMut(P) -> G,
        wakers: &mut Vec<Waker>,
    ) {
        let mut key = self.head;
        while key != NIL {
            let Slot::Queued { payload, next, .. } = &self.slots[key] else {
                unreachable!("the queue links queued slots only")
            };
            let (selected, next) = (select(payload), *next);
            if selected {
                self.unlink(key);
                let Slot::Queued { payload, waker, .. } =
                    std::mem::replace(&mut self.slots[key], Slot::Vacant { next_free: NIL })
                else {
                    unreachable!("checked queued above")
                };
                self.slots[key] = Slot::Granted(make(payload));
                wakers.push(waker);
            }
            key = next;
        }
    }

    fn vacate(&mut self, key: usize) -> Slot<P, G> {
        let slot = std::mem::replace(
            &mut self.slots[key],
            Slot::Vacant {
                next_free: self.free,
            },
        );
        self.free = key;
        slot
    }

    fn unlink(&mut self, key: usize) {
        let Slot::Queued { prev, next, .. } = self.slots[key] else {
            unreachable!("unlinked a slot that is not queued")
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.set_next(prev, next);
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.set_prev(next, prev);
        }
        self.queued -= 1;
    }

    fn set_next(&mut self, key: usize, to: usize) {
        if let Slot::Queued { next, .. } = &mut self.slots[key] {
            *next = to;
        }
    }

    fn set_prev(&mut self, key: usize, to: usize) {
        if let Slot::Queued { prev, .. } = &mut self.slots[key] {
            *prev = to;
        }
    }
}

/// Wakes wakers collected under a mutex, after it was released.
pub(crate) fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waker() -> Waker {
        Waker::noop().clone()
    }

    #[test]
    fn grants_in_fifo_order_and_reuses_slots() {
        let mut queue: WaitQueue<u32, &str> = WaitQueue::new();
        let a = queue.push(1, &waker());
        let b = queue.push(2, &waker());
        let c = queue.push(3, &waker());
        assert_eq!(queue.len(), 3);
        assert!(matches!(queue.withdraw(b), Withdrawn::Queued(2)));
        assert_eq!(queue.first_live(), Some(a));
        assert_eq!(queue.grant(a, "first").0, 1);
        assert_eq!(queue.first_live(), Some(c));
        assert_eq!(queue.poll_granted(a, &waker()), Some("first"));
        let d = queue.push(4, &waker());
        assert!(d == a || d == b, "a vacant slot is reused");
        assert_eq!(queue.grant(c, "second").0, 3);
        assert_eq!(queue.first_live(), Some(d));
        assert!(matches!(queue.withdraw(c), Withdrawn::Granted("second")));
        let mut wakers = Vec::new();
        queue.grant_all(
            |payload| if payload == 4 { "fourth" } else { "?" },
            &mut wakers,
        );
        assert_eq!(wakers.len(), 1);
        assert!(queue.is_empty());
        assert_eq!(queue.poll_granted(d, &waker()), Some("fourth"));
    }
}
