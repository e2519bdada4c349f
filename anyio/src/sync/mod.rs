//! Synchronization primitives: [`Event`], [`Lock`], [`Condition`], [`Semaphore`],
//! [`CapacityLimiter`] and [`ResourceGuard`].
//!
//! All are fair (first come, first served), usable before a runtime exists, and
//! cancel-safe: a wait that is cancelled leaves the primitive as if the waiter had never
//! come, and a lock, slot or token handed to a waiter that is dropped before it sees it
//! passes on to the next waiter.

mod condition;
mod event;
mod limiter;
mod lock;
mod resource_guard;
mod semaphore;
pub(crate) mod waiters;

pub use condition::{Condition, ConditionGuard, ConditionStatistics, ConditionWait};
pub use event::{CancelOnSet, Event, EventStatistics, EventWait};
pub use limiter::{
    Borrower, CapacityLimiter, CapacityLimiterStatistics, LimiterAcquire, LimiterGuard,
};
#[allow(deprecated)]
pub use lock::Acquire;
pub use lock::{Lock, LockAcquire, LockGuard, LockStatistics};
pub use resource_guard::{ResourceGuard, ResourceGuardToken};
pub use semaphore::{Semaphore, SemaphoreAcquire, SemaphoreGuard, SemaphoreStatistics};
