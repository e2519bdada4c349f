//! [`Lock`]: a fair, task-owned mutual-exclusion lock.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use super::waiters::{WaitQueue, Withdrawn};
use crate::base::context;
use crate::error::{Error, ErrorKind, Result};
use crate::lowlevel::is_cancelled;
use crate::task::TaskInfo;

/// Bit of [`Lock::state`]: someone holds the lock.
const LOCKED: u8 = 1;
/// Bit of [`Lock::state`]: the wait queue is not empty, so acquiring and releasing go
/// through the mutex.
const QUEUED: u8 = 2;

/// A lock that one task holds at a time, handed to waiters in the order they came.
///
/// [`acquire`](Lock::acquire) returns a [`LockGuard`] that releases the lock when dropped.
/// The lock is not reentrant: acquiring it again from the task that holds it is an error
/// instead of a deadlock. It guards no data; keep the data beside it (or use the lock to
/// order access to something outside the program).
///
/// # Fairness and cancellation
///
/// A released lock passes straight to the longest-waiting task (no barging: a task that
/// arrives later cannot take it first). A waiter whose cancel scope was cancelled before
/// the hand-off is skipped; a waiter dropped after the lock was handed to it passes it
/// on. Either way a cancelled acquire leaves the lock as if the waiter had never come.
///
/// # Checkpoints
///
/// `acquire` is a checkpoint: in a cancelled scope it does not take the lock (even a free
/// one) and the scope drops it. It only suspends when it has to wait; an uncontended
/// acquire does not yield to the scheduler (AnyIO's `fast_acquire=True`).
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicI32, Ordering::SeqCst};
///
/// # anyio::run(async {
/// let lock = anyio::Lock::new();
/// let balance = AtomicI32::new(100);
/// anyio::task_group!(|tg| {
///     for _ in 0..3 {
///         tg.start_soon(async {
///             let _guard = lock.acquire().await?;
///             let read = balance.load(SeqCst);
///             anyio::sleep(0.001).await; // without the lock, another task would interleave
///             balance.store(read - 10, SeqCst);
///             anyio::Result::Ok(())
///         });
///     }
/// })?;
/// assert_eq!(balance.load(SeqCst), 70);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct Lock {
    state: AtomicU8,
    /// Task id of the holder; 0 when free or held outside an anyio task.
    owner: AtomicU64,
    waiters: Mutex<WaitQueue<u64, ()>>,
}

/// A snapshot of a [`Lock`], from [`Lock::statistics`].
///
/// # Examples
///
/// ```
/// let lock = anyio::Lock::new();
/// let stats = lock.statistics();
/// assert!(!stats.locked);
/// assert_eq!(stats.owner, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockStatistics {
    /// Whether some task holds the lock.
    pub locked: bool,
    /// The task holding the lock (`None` when free, or held from outside an anyio task).
    pub owner: Option<TaskInfo>,
    /// Tasks waiting in [`Lock::acquire`].
    pub tasks_waiting: usize,
}

impl Lock {
    /// A free lock. Usable before any runtime exists (e.g. in a `static`).
    ///
    /// # Examples
    ///
    /// ```
    /// static LOCK: anyio::Lock = anyio::Lock::new();
    /// assert!(!LOCK.locked());
    /// ```
    pub const fn new() -> Lock {
        Lock {
            state: AtomicU8::new(0),
            owner: AtomicU64::new(0),
            waiters: Mutex::new(WaitQueue::new()),
        }
    }

    /// Waits for the lock and takes it.
    ///
    /// Like every anyio operation, this is a checkpoint.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Other`] if the current task already holds the lock.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: cancelled or dropped while waiting, it leaves the queue (a release
    /// skips a waiter whose scope is cancelled). If the lock was handed to it before the
    /// cancel, it returns the guard and the body ends at its next checkpoint, releasing it;
    /// dropped from outside after the hand-off, it passes the lock to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let lock = anyio::Lock::new();
    /// let guard = lock.acquire().await?;
    /// assert!(lock.locked());
    /// drop(guard);
    /// assert!(!lock.locked());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn acquire(&self) -> LockAcquire<'_> {
        LockAcquire {
            lock: self,
            key: None,
        }
    }

    /// Takes the lock if it is free. (A released lock passes straight to the first
    /// waiter, so it is never free while a task waits for it.)
    ///
    /// # Errors
    ///
    /// [`ErrorKind::WouldBlock`] if it is held; [`ErrorKind::Other`] if the
    /// current task already holds it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = anyio::Lock::new();
    /// let guard = lock.acquire_nowait().unwrap();
    /// let again = anyio::run(async { lock.acquire_nowait().map(drop) });
    /// assert_eq!(again.unwrap_err().kind(), anyio::ErrorKind::WouldBlock);
    /// drop(guard);
    /// assert!(!lock.locked());
    /// ```
    pub fn acquire_nowait(&self) -> Result<LockGuard<'_>> {
        if self.try_lock_fast() {
            return Ok(self.guard());
        }
        self.check_not_owner()?;
        let _waiters = self.lock_waiters();
        let state = self.state.load(Ordering::Acquire);
        if state & LOCKED == 0 && self.try_set_locked(state) {
            return Ok(self.guard());
        }
        Err(Error::new(
            ErrorKind::WouldBlock,
            "the lock is held by another task",
        ))
    }

    /// Whether some task holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = anyio::Lock::new();
    /// let _guard = lock.acquire_nowait().unwrap();
    /// assert!(lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.state.load(Ordering::Acquire) & LOCKED != 0
    }

    /// The lock's state: locked, owner, waiters.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let lock = anyio::Lock::new();
    /// let _guard = lock.acquire().await.unwrap();
    /// let stats = lock.statistics();
    /// assert!(stats.locked);
    /// assert_eq!(stats.owner.unwrap().id, anyio::get_current_task().id);
    /// assert_eq!(stats.tasks_waiting, 0);
    /// # });
    /// ```
    pub fn statistics(&self) -> LockStatistics {
        let tasks_waiting = self.lock_waiters().len();
        let locked = self.locked();
        // The task lookup walks the runtime's task list: only for a held lock.
        let owner = match self.owner.load(Ordering::Acquire) {
            id if locked && id != 0 => Some(crate::task::task_info_by_id(id)),
            _ => None,
        };
        LockStatistics {
            locked,
            owner,
            tasks_waiting,
        }
    }

    #[inline]
    fn try_lock_fast(&self) -> bool {
        self.try_set_locked(0)
    }

    /// Sets `LOCKED` over `state` (which has it clear) and records the owner.
    #[inline]
    fn try_set_locked(&self, state: u8) -> bool {
        if self
            .state
            .compare_exchange(state, state | LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            self.owner
                .store(context::current_task_id(), Ordering::Relaxed);
            true
        } else {
            false
        }
    }

    /// With the waiters mutex held: takes the lock if it is free (any waiters left in the
    /// queue were skipped as cancelled), else sets `QUEUED` so that the holder's release
    /// goes through the mutex and sees the waiter the caller is about to park.
    fn lock_or_mark_queued(&self) -> bool {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let (new, locked) = if state & LOCKED == 0 {
                (state | LOCKED, true)
            } else {
                (state | QUEUED, false)
            };
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if locked {
                        self.owner
                            .store(context::current_task_id(), Ordering::Relaxed);
                    }
                    return locked;
                }
                Err(actual) => state = actual,
            }
        }
    }

    fn check_not_owner(&self) -> Result<()> {
        let me = context::current_task_id();
        if me != 0 && self.locked() && self.owner.load(Ordering::Relaxed) == me {
            return Err(Error::new(
                ErrorKind::Other,
                "this task already holds the lock (anyio::Lock is not reentrant)",
            ));
        }
        Ok(())
    }

    fn guard(&self) -> LockGuard<'_> {
        LockGuard { lock: self }
    }

    fn lock_waiters(&self) -> std::sync::MutexGuard<'_, WaitQueue<u64, ()>> {
        crate::base::lock::lock(&self.waiters)
    }

    /// Releases the lock: hands it to the first live waiter, or frees it.
    #[inline]
    pub(crate) fn release(&self) {
        if self
            .state
            .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.release_contended();
        }
    }

    #[cold]
    fn release_contended(&self) {
        let waker = {
            let mut waiters = self.lock_waiters();
            self.release_locked(&mut waiters)
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Release with the waiters mutex held; returns the waker of the new owner.
    fn release_locked(&self, waiters: &mut WaitQueue<u64, ()>) -> Option<Waker> {
        match waiters.first_live() {
            Some(key) => {
                let (task, waker) = waiters.grant(key, ());
                self.owner.store(task, Ordering::Relaxed);
                let queued = if waiters.is_empty() { 0 } else { QUEUED };
                self.state.store(LOCKED | queued, Ordering::Release);
                Some(waker)
            }
            None => {
                let queued = if waiters.is_empty() { 0 } else { QUEUED };
                self.owner.store(0, Ordering::Relaxed);
                self.state.store(queued, Ordering::Release);
                None
            }
        }
    }

    /// Whether the current task holds the lock (for [`Condition`](crate::Condition)).
    pub(crate) fn held_by_current_task(&self) -> bool {
        let me = context::current_task_id();
        self.locked() && self.owner.load(Ordering::Relaxed) == me
    }
}

impl Default for Lock {
    fn default() -> Lock {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .finish_non_exhaustive()
    }
}

/// Future of [`Lock::acquire`].
///
/// # Cancel safety
///
/// As for [`Lock::acquire`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let lock = anyio::Lock::new();
/// let acquire: anyio::LockAcquire<'_> = lock.acquire();
/// let _guard = acquire.await?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct LockAcquire<'a> {
    lock: &'a Lock,
    /// The waiter's slot once it has parked.
    key: Option<usize>,
}

impl fmt::Debug for LockAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockAcquire")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

impl<'a> Future for LockAcquire<'a> {
    type Output = Result<LockGuard<'a>>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let lock = self.lock;
        let Some(key) = self.key else {
            std::task::ready!(crate::base::coop::poll_start(cx));
            if lock.try_lock_fast() {
                return Poll::Ready(Ok(lock.guard()));
            }
            if let Err(error) = lock.check_not_owner() {
                return Poll::Ready(Err(error));
            }
            let mut waiters = lock.lock_waiters();
            if lock.lock_or_mark_queued() {
                return Poll::Ready(Ok(lock.guard()));
            }
            self.key = Some(waiters.push(context::current_task_id(), cx.waker()));
            return Poll::Pending;
        };
        let mut waiters = lock.lock_waiters();
        if waiters.poll_granted(key, cx.waker()).is_some() {
            self.key = None;
            return Poll::Ready(Ok(lock.guard()));
        }
        if is_cancelled() {
            return Poll::Pending;
        }
        // Skipped while cancelled and then shielded: take a free lock now.
        let state = lock.state.load(Ordering::Acquire);
        if state & LOCKED == 0 && lock.try_set_locked(state) {
            waiters.withdraw(key);
            self.key = None;
            if waiters.is_empty() {
                lock.state.fetch_and(!QUEUED, Ordering::AcqRel);
            }
            return Poll::Ready(Ok(lock.guard()));
        }
        Poll::Pending
    }
}

impl Drop for LockAcquire<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.withdraw(key);
        }
    }
}

impl LockAcquire<'_> {
    /// Leaves the queue, passing on a lock that was already handed over.
    #[cold]
    fn withdraw(&self, key: usize) {
        let waker = {
            let mut waiters = self.lock.lock_waiters();
            match waiters.withdraw(key) {
                Withdrawn::Granted(()) => self.lock.release_locked(&mut waiters),
                Withdrawn::Queued(_) => {
                    if waiters.is_empty() {
                        self.lock.state.fetch_and(!QUEUED, Ordering::AcqRel);
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

/// Holds a [`Lock`]; releases it when dropped.
///
/// # Examples
///
/// ```
/// let lock = anyio::Lock::new();
/// {
///     let guard = lock.acquire_nowait().unwrap();
///     assert!(guard.lock().locked());
/// } // released here
/// assert!(!lock.locked());
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl LockGuard<'_> {
    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = anyio::Lock::new();
    /// let guard = lock.acquire_nowait().unwrap();
    /// assert!(std::ptr::eq(guard.lock(), &lock));
    /// ```
    pub fn lock(&self) -> &Lock {
        self.lock
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}

impl Drop for LockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.lock.release();
    }
}

/// The former name of [`LockAcquire`], kept so that code written against it compiles.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let lock = anyio::Lock::new();
/// #[allow(deprecated)]
/// let acquire: anyio::Acquire<'_> = lock.acquire(); // the same type as `LockAcquire`
/// let _guard = acquire.await?;
/// assert!(lock.locked());
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[deprecated(note = "renamed LockAcquire, beside SemaphoreAcquire and LimiterAcquire")]
pub type Acquire<'a> = LockAcquire<'a>;
