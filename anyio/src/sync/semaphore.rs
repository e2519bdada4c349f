//! [`Semaphore`]: a fair counter of available slots.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use super::waiters::{WaitQueue, Withdrawn};
use crate::error::{Error, ErrorKind, Result};
use crate::lowlevel::is_cancelled;

/// Bit of [`Semaphore::state`]: the wait queue is not empty. The value is `state >> 1`.
const QUEUED: usize = 1;
const ONE: usize = 2;

/// A counter of slots: [`acquire`](Semaphore::acquire) takes one (waiting while there is
/// none), dropping the guard gives it back.
///
/// Slots go to waiters in arrival order: a released slot is handed to the
/// longest-waiting task, so a task that comes later cannot take it first. A waiter whose
/// scope was cancelled before the hand-off is skipped; one dropped after it passes the
/// slot on. `acquire` is a checkpoint and suspends only when it has to wait.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// # anyio::run(async {
/// let slots = anyio::Semaphore::new(2);
/// let inside = AtomicUsize::new(0);
/// anyio::task_group!(|tg| {
///     for _ in 0..5 {
///         tg.start_soon(async {
///             let _slot = slots.acquire().await;
///             let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
///             assert!(now <= 2, "at most two tasks inside");
///             anyio::sleep(0.001).await;
///             inside.fetch_sub(1, Ordering::SeqCst);
///         });
///     }
/// })
/// .unwrap();
/// assert_eq!(slots.value(), 2);
/// # });
/// ```
pub struct Semaphore {
    state: AtomicUsize,
    max_value: Option<usize>,
    waiters: Mutex<WaitQueue<(), ()>>,
}

/// A snapshot of a [`Semaphore`], from [`Semaphore::statistics`].
///
/// # Examples
///
/// ```
/// let semaphore = anyio::Semaphore::new(1);
/// assert_eq!(semaphore.statistics().tasks_waiting, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SemaphoreStatistics {
    /// Tasks waiting in [`Semaphore::acquire`].
    pub tasks_waiting: usize,
}

impl Semaphore {
    /// The largest value a semaphore can hold (`usize::MAX / 2`: one bit of the counter
    /// marks a non-empty wait queue).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::Semaphore;
    ///
    /// assert!(Semaphore::with_max_value(0, Semaphore::MAX_VALUE).is_ok());
    /// assert!(Semaphore::with_max_value(0, Semaphore::MAX_VALUE + 1).is_err());
    /// ```
    pub const MAX_VALUE: usize = usize::MAX >> 1;

    /// A semaphore with `initial_value` free slots and no maximum other than
    /// [`MAX_VALUE`](Semaphore::MAX_VALUE).
    ///
    /// # Panics
    ///
    /// Panics if `initial_value` exceeds [`Semaphore::MAX_VALUE`] (see
    /// [`with_max_value`](Semaphore::with_max_value) for a fallible constructor).
    ///
    /// # Examples
    ///
    /// ```
    /// static SLOTS: anyio::Semaphore = anyio::Semaphore::new(4);
    /// assert_eq!(SLOTS.value(), 4);
    /// ```
    #[track_caller]
    pub const fn new(initial_value: usize) -> Semaphore {
        assert!(
            initial_value <= Semaphore::MAX_VALUE,
            "Semaphore::new: the initial value exceeds Semaphore::MAX_VALUE (usize::MAX / 2)"
        );
        Semaphore {
            state: AtomicUsize::new(initial_value << 1),
            max_value: None,
            waiters: Mutex::new(WaitQueue::new()),
        }
    }

    /// A semaphore whose value may never exceed `max_value`:
    /// [`release`](Semaphore::release) beyond it is an error.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Other`] if `initial_value > max_value`, or if `max_value` exceeds
    /// [`Semaphore::MAX_VALUE`].
    ///
    /// # Examples
    ///
    /// ```
    /// let slots = anyio::Semaphore::with_max_value(1, 2).unwrap();
    /// slots.release().unwrap();
    /// assert_eq!(slots.value(), 2);
    /// assert!(slots.release().is_err());
    /// assert_eq!(slots.value(), 2);
    /// ```
    pub fn with_max_value(initial_value: usize, max_value: usize) -> Result<Semaphore> {
        if max_value > Semaphore::MAX_VALUE {
            return Err(Error::new(
                ErrorKind::Other,
                format!(
                    "a semaphore's max value ({max_value}) cannot exceed Semaphore::MAX_VALUE \
                     ({})",
                    Semaphore::MAX_VALUE
                ),
            ));
        }
        if initial_value > max_value {
            return Err(Error::new(
                ErrorKind::Other,
                format!(
                    "a semaphore's initial value ({initial_value}) cannot exceed its max value \
                     ({max_value})"
                ),
            ));
        }
        Ok(Semaphore {
            max_value: Some(max_value),
            ..Semaphore::new(initial_value)
        })
    }

    /// Waits for a free slot and takes it.
    ///
    /// Like every anyio operation, this is a checkpoint.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: cancelled or dropped while waiting, it leaves the queue (a release
    /// skips a waiter whose scope is cancelled). If a slot was handed to it before the
    /// cancel, it returns the guard and the body ends at its next checkpoint, giving the
    /// slot back; dropped from outside after the hand-off, it passes the slot on.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let semaphore = anyio::Semaphore::new(1);
    /// let slot = semaphore.acquire().await;
    /// assert_eq!(semaphore.value(), 0);
    /// drop(slot);
    /// # });
    /// ```
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        SemaphoreAcquire {
            semaphore: self,
            key: None,
        }
    }

    /// Takes a free slot without waiting.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::WouldBlock`] if no slot is free.
    ///
    /// # Examples
    ///
    /// ```
    /// let slots = anyio::Semaphore::new(1);
    /// let slot = slots.acquire_nowait().unwrap();
    /// assert_eq!(slots.value(), 0);
    /// assert_eq!(slots.acquire_nowait().unwrap_err().kind(), anyio::ErrorKind::WouldBlock);
    /// drop(slot);
    /// assert_eq!(slots.value(), 1);
    /// ```
    pub fn acquire_nowait(&self) -> Result<SemaphoreGuard<'_>> {
        if self.try_take(false) {
            return Ok(self.guard());
        }
        let _waiters = self.lock_waiters();
        if self.try_take(true) {
            return Ok(self.guard());
        }
        Err(Error::new(
            ErrorKind::WouldBlock,
            "the semaphore has no free slot",
        ))
    }

    /// Adds one slot (e.g. one taken by a guard that was
    /// [`forget`](SemaphoreGuard::forget)-ed): hands it to the first waiter, or raises the
    /// value.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Other`] if the value would exceed the max value (or
    /// [`Semaphore::MAX_VALUE`]); nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = anyio::Semaphore::new(0);
    /// semaphore.release().unwrap();
    /// assert_eq!(semaphore.value(), 1);
    /// ```
    pub fn release(&self) -> Result<()> {
        self.release_checked(true)
    }

    /// The number of free slots.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = anyio::Semaphore::new(3);
    /// let _slot = semaphore.acquire_nowait().unwrap();
    /// assert_eq!(semaphore.value(), 2);
    /// ```
    pub fn value(&self) -> usize {
        self.state.load(Ordering::Acquire) >> 1
    }

    /// The max value given at construction.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(anyio::Semaphore::new(1).max_value(), None);
    /// assert_eq!(anyio::Semaphore::with_max_value(1, 5).unwrap().max_value(), Some(5));
    /// ```
    pub fn max_value(&self) -> Option<usize> {
        self.max_value
    }

    /// The semaphore's state.
    ///
    /// # Examples
    ///
    /// ```
    /// let slots = anyio::Semaphore::new(0);
    /// assert_eq!(slots.statistics().tasks_waiting, 0);
    /// ```
    pub fn statistics(&self) -> SemaphoreStatistics {
        SemaphoreStatistics {
            tasks_waiting: self.lock_waiters().len(),
        }
    }

    fn guard(&self) -> SemaphoreGuard<'_> {
        SemaphoreGuard {
            semaphore: self,
            armed: true,
        }
    }

    fn lock_waiters(&self) -> std::sync::MutexGuard<'_, WaitQueue<(), ()>> {
        crate::base::lock::lock(&self.waiters)
    }

    /// Takes a slot if the value is positive. Without the mutex (`locked == false`) only
    /// while nobody is queued; with it, any time (waiters left queued when slots are free
    /// were skipped as cancelled).
    #[inline]
    fn try_take(&self, locked: bool) -> bool {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state < ONE || (!locked && state & QUEUED != 0) {
                return false;
            }
            match self.state.compare_exchange_weak(
                state,
                state - ONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }

    /// With the mutex held: takes a slot, or marks the queue non-empty (the caller then
    /// parks) so that releases go through the mutex.
    fn take_or_mark_queued(&self) -> bool {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let (new, took) = if state >= ONE {
                (state - ONE, true)
            } else {
                (state | QUEUED, false)
            };
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return took,
                Err(actual) => state = actual,
            }
        }
    }

    fn release_checked(&self, check_max: bool) -> Result<()> {
        let mut state = self.state.load(Ordering::Acquire);
        while state & QUEUED == 0 {
            self.check_room(state >> 1, check_max)?;
            match self.state.compare_exchange_weak(
                state,
                state + ONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => state = actual,
            }
        }
        let waker = {
            let mut waiters = self.lock_waiters();
            self.release_locked(&mut waiters, check_max)?
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Whether one more slot fits: under the max value if `check_max`, and always under
    /// `MAX_VALUE` (beyond it the counter would overflow into the queue bit).
    fn check_room(&self, value: usize, check_max: bool) -> Result<()> {
        match self.max_value.filter(|_| check_max) {
            Some(max) if value >= max => Err(Error::new(
                ErrorKind::Other,
                format!("releasing would raise the semaphore above its max value ({max})"),
            )),
            _ if value >= Semaphore::MAX_VALUE => Err(Error::new(
                ErrorKind::Other,
                "releasing would raise the semaphore above Semaphore::MAX_VALUE",
            )),
            _ => Ok(()),
        }
    }

    /// With the mutex held: gives the slot to the first live waiter, or adds it to the
    /// value. Returns the waker to wake once the mutex is released.
    fn release_locked(
        &self,
        waiters: &mut WaitQueue<(), ()>,
        check_max: bool,
    ) -> Result<Option<Waker>> {
        if let Some(key) = waiters.first_live() {
            let ((), waker) = waiters.grant(key, ());
            if waiters.is_empty() {
                self.state.fetch_and(!QUEUED, Ordering::AcqRel);
            }
            return Ok(Some(waker));
        }
        let state = self.state.load(Ordering::Acquire);
        self.check_room(state >> 1, check_max)?;
        let queued = if waiters.is_empty() { 0 } else { QUEUED };
        // Under the mutex with QUEUED set nobody else changes the state; without it, only
        // lock-free takes can (they lower the value), so add rather than store.
        self.state.fetch_add(ONE, Ordering::AcqRel);
        if queued == 0 {
            self.state.fetch_and(!QUEUED, Ordering::AcqRel);
        }
        Ok(None)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .field("max_value", &self.max_value)
            .finish_non_exhaustive()
    }
}

/// Future of [`Semaphore::acquire`].
///
/// # Cancel safety
///
/// As for [`Semaphore::acquire`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let semaphore = anyio::Semaphore::new(0);
/// let acquire: anyio::SemaphoreAcquire<'_> = semaphore.acquire();
/// assert!(anyio::move_on_after(0.001, acquire).await.is_none());
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct SemaphoreAcquire<'a> {
    semaphore: &'a Semaphore,
    key: Option<usize>,
}

impl fmt::Debug for SemaphoreAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreAcquire").finish_non_exhaustive()
    }
}

impl<'a> Future for SemaphoreAcquire<'a> {
    type Output = SemaphoreGuard<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let semaphore = self.semaphore;
        let Some(key) = self.key else {
            std::task::ready!(crate::base::coop::poll_start(cx));
            if semaphore.try_take(false) {
                return Poll::Ready(semaphore.guard());
            }
            let mut waiters = semaphore.lock_waiters();
            if semaphore.take_or_mark_queued() {
                return Poll::Ready(semaphore.guard());
            }
            self.key = Some(waiters.push((), cx.waker()));
            return Poll::Pending;
        };
        let mut waiters = semaphore.lock_waiters();
        if waiters.poll_granted(key, cx.waker()).is_some() {
            self.key = None;
            return Poll::Ready(semaphore.guard());
        }
        if is_cancelled() {
            return Poll::Pending;
        }
        // Skipped while cancelled and then shielded: take a free slot now.
        if semaphore.try_take(true) {
            waiters.withdraw(key);
            self.key = None;
            if waiters.is_empty() {
                semaphore.state.fetch_and(!QUEUED, Ordering::AcqRel);
            }
            return Poll::Ready(semaphore.guard());
        }
        Poll::Pending
    }
}

impl Drop for SemaphoreAcquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let semaphore = self.semaphore;
        let waker = {
            let mut waiters = semaphore.lock_waiters();
            match waiters.withdraw(key) {
                Withdrawn::Granted(()) => semaphore
                    .release_locked(&mut waiters, false)
                    .unwrap_or(None),
                Withdrawn::Queued(()) => {
                    if waiters.is_empty() {
                        semaphore.state.fetch_and(!QUEUED, Ordering::AcqRel);
                    }
                    None
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A slot of a [`Semaphore`]; gives it back when dropped.
///
/// # Examples
///
/// ```
/// let semaphore = anyio::Semaphore::new(1);
/// {
///     let _slot = semaphore.acquire_nowait().unwrap();
///     assert_eq!(semaphore.value(), 0);
/// }
/// assert_eq!(semaphore.value(), 1);
/// ```
#[must_use = "the slot is given back as soon as the guard is dropped"]
pub struct SemaphoreGuard<'a> {
    semaphore: &'a Semaphore,
    armed: bool,
}

impl SemaphoreGuard<'_> {
    /// Keeps the slot taken: it is not given back on drop (give it back later with
    /// [`Semaphore::release`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = anyio::Semaphore::new(1);
    /// semaphore.acquire_nowait().unwrap().forget();
    /// assert_eq!(semaphore.value(), 0);
    /// semaphore.release().unwrap();
    /// assert_eq!(semaphore.value(), 1);
    /// ```
    pub fn forget(mut self) {
        self.armed = false;
    }
}

impl fmt::Debug for SemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard").finish_non_exhaustive()
    }
}

impl Drop for SemaphoreGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            // The slot came from this semaphore, so giving it back cannot exceed the max
            // unless `release` added extra slots meanwhile; then the value is capped.
            let _ = self.semaphore.release_checked(true);
        }
    }
}
