//! [`Condition`]: wait for a notification while holding a lock.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use super::lock::{Lock, LockAcquire, LockGuard, LockStatistics};
use super::waiters::{WaitQueue, Withdrawn, wake_all};
use crate::cancel::CancelScopeRun;
use crate::cancel::scope::shielded;
use crate::error::{Error, ErrorKind, Result};

/// A lock plus a queue of tasks waiting to be notified, as in AnyIO and Trio.
///
/// [`acquire`](Condition::acquire) the lock, then [`ConditionGuard::wait`]: the lock is
/// released while waiting and held again when `wait` returns. Notify with
/// [`ConditionGuard::notify`] / [`notify_all`](ConditionGuard::notify_all) (or the same
/// methods on `Condition`, which check that the current task holds the lock).
/// Notifications go to waiters in arrival order; a waiter cancelled before it is
/// notified is skipped, and one dropped after passes the notification on.
///
/// # Examples
///
/// ```
/// use std::sync::Mutex;
///
/// # anyio::run(async {
/// let condition = anyio::Condition::new();
/// let queue = Mutex::new(Vec::new());
/// anyio::task_group!(|tg| {
///     tg.start_soon(async {
///         let mut guard = condition.acquire().await?;
///         guard.wait_for(|| !queue.lock().unwrap().is_empty()).await?;
///         assert_eq!(queue.lock().unwrap().pop(), Some("job"));
///         anyio::Result::Ok(())
///     });
///     anyio::sleep(0.001).await;
///     let guard = condition.acquire().await?;
///     queue.lock().unwrap().push("job");
///     guard.notify(1);
///     anyio::Result::Ok(())
/// })?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct Condition {
    lock: Lock,
    waiters: Mutex<WaitQueue<(), ()>>,
}

/// A snapshot of a [`Condition`], from [`Condition::statistics`].
///
/// # Examples
///
/// ```
/// let condition = anyio::Condition::new();
/// let _guard = condition.acquire_nowait().unwrap();
/// let stats = condition.statistics();
/// assert_eq!(stats.tasks_waiting, 0);
/// assert!(stats.lock_statistics.locked);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConditionStatistics {
    /// Tasks waiting in [`ConditionGuard::wait`] for a notification.
    pub tasks_waiting: usize,
    /// The state of the underlying lock.
    pub lock_statistics: LockStatistics,
}

impl Condition {
    /// A condition with its own lock. Usable before any runtime exists.
    ///
    /// # Examples
    ///
    /// ```
    /// static READY: anyio::Condition = anyio::Condition::new();
    /// assert!(!READY.locked());
    /// ```
    pub const fn new() -> Condition {
        Condition {
            lock: Lock::new(),
            waiters: Mutex::new(WaitQueue::new()),
        }
    }

    /// Waits for the lock and takes it (see [`Lock::acquire`]).
    ///
    /// Like every anyio operation, this is a checkpoint.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Other`] if the current task already holds it.
    ///
    /// # Cancel safety
    ///
    /// As for [`Lock::acquire`]: nothing is taken unless it returns the guard.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let condition = anyio::Condition::new();
    /// let guard = condition.acquire().await?;
    /// assert!(condition.locked());
    /// drop(guard);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn acquire(&self) -> Result<ConditionGuard<'_>> {
        let guard = self.lock.acquire().await?;
        Ok(self.guard(guard))
    }

    /// Takes the lock without waiting.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::WouldBlock`] if it is held.
    ///
    /// # Examples
    ///
    /// ```
    /// let condition = anyio::Condition::new();
    /// let guard = condition.acquire_nowait().unwrap();
    /// assert!(condition.locked());
    /// drop(guard);
    /// assert!(!condition.locked());
    /// ```
    pub fn acquire_nowait(&self) -> Result<ConditionGuard<'_>> {
        Ok(self.guard(self.lock.acquire_nowait()?))
    }

    /// Whether some task holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let condition = anyio::Condition::new();
    /// assert!(!condition.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// Wakes up to `n` waiters.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Other`] if the current task does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let condition = anyio::Condition::new();
    /// assert!(condition.notify(1).is_err()); // the lock is not held
    /// let _guard = condition.acquire().await?;
    /// condition.notify(1)?; // nobody waits: nothing happens
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn notify(&self, n: usize) -> Result<()> {
        self.check_held()?;
        self.notify_held(n);
        Ok(())
    }

    /// Wakes every waiter.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Other`] if the current task does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let condition = anyio::Condition::new();
    /// let _guard = condition.acquire().await?;
    /// condition.notify_all()?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn notify_all(&self) -> Result<()> {
        self.notify(usize::MAX)
    }

    /// The condition's state.
    ///
    /// # Examples
    ///
    /// ```
    /// let condition = anyio::Condition::new();
    /// let stats = condition.statistics();
    /// assert_eq!(stats.tasks_waiting, 0);
    /// assert!(!stats.lock_statistics.locked);
    /// ```
    pub fn statistics(&self) -> ConditionStatistics {
        ConditionStatistics {
            tasks_waiting: self.lock_waiters().len(),
            lock_statistics: self.lock.statistics(),
        }
    }

    fn guard<'a>(&'a self, lock: LockGuard<'a>) -> ConditionGuard<'a> {
        ConditionGuard {
            condition: self,
            lock: Some(lock),
        }
    }

    fn check_held(&self) -> Result<()> {
        if self.lock.held_by_current_task() {
            Ok(())
        } else {
            Err(not_holding())
        }
    }

    fn notify_held(&self, n: usize) {
        let mut wakers = Vec::new();
        {
            let mut waiters = self.lock_waiters();
            while wakers.len() < n {
                let Some(key) = waiters.first_live() else {
                    break;
                };
                wakers.push(waiters.grant(key, ()).1);
            }
        }
        wake_all(wakers);
    }

    fn lock_waiters(&self) -> std::sync::MutexGuard<'_, WaitQueue<(), ()>> {
        crate::base::lock::lock(&self.waiters)
    }
}

fn not_holding() -> Error {
    Error::new(
        ErrorKind::Other,
        "the current task does not hold the condition's lock",
    )
}

impl Default for Condition {
    fn default() -> Condition {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("locked", &self.locked())
            .finish_non_exhaustive()
    }
}

/// Holds a [`Condition`]'s lock; releases it when dropped.
///
/// # Examples
///
/// ```
/// let condition = anyio::Condition::new();
/// {
///     let _guard = condition.acquire_nowait().unwrap();
///     assert!(condition.locked());
/// }
/// assert!(!condition.locked());
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ConditionGuard<'a> {
    condition: &'a Condition,
    /// `None` while a `wait` has released the lock (or after one was interrupted).
    lock: Option<LockGuard<'a>>,
}

impl<'a> ConditionGuard<'a> {
    /// Releases the lock, waits for a notification, and takes the lock again.
    ///
    /// A checkpoint.
    ///
    /// # Cancel safety
    ///
    /// - Cancelled at its start (its scope was already cancelled) or dropped before its
    ///   first poll: it has not released the lock, and this guard keeps it.
    /// - Cancelled (or dropped) *before* a notification reached it: it leaves the queue,
    ///   and the lock is not taken again: this guard no longer holds it
    ///   ([`holds_lock`](ConditionGuard::holds_lock) is false, `wait` and `notify` refuse
    ///   to run) until [`reacquire`](ConditionGuard::reacquire) takes it back.
    /// - Cancelled *after* a notification reached it: it re-takes the lock shielded from
    ///   the cancellation (as AnyIO does) and returns `Ok` holding it; the cancellation
    ///   then ends the body at its next checkpoint. The notification is never lost: a
    ///   wait dropped from outside anyio before it could return passes it on to the next
    ///   waiter (and this guard then does not hold the lock).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Other`] if this guard no longer holds the lock because an earlier
    /// wait was interrupted.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let condition = anyio::Condition::new();
    /// anyio::task_group!(|tg| {
    ///     let mut guard = condition.acquire().await?;
    ///     tg.start_soon(async {
    ///         condition.acquire().await?.notify(1);
    ///         anyio::Result::Ok(())
    ///     });
    ///     guard.wait().await?; // released the lock until notified
    ///     assert!(condition.locked());
    ///     anyio::Result::Ok(())
    /// })?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn wait(&mut self) -> ConditionWait<'_, 'a> {
        ConditionWait {
            guard: self,
            stage: Stage::Start,
        }
    }

    /// Waits until `predicate` returns true, checking it first and after each
    /// notification (with the lock held).
    ///
    /// A checkpoint when it waits; if `predicate` is already true it returns at once.
    ///
    /// # Errors
    ///
    /// As for [`wait`](ConditionGuard::wait).
    ///
    /// # Cancel safety
    ///
    /// As for [`wait`](ConditionGuard::wait), for the wait in progress: this guard has lost
    /// the lock only if that wait was cancelled or dropped before it was notified (or
    /// dropped from outside while re-taking the lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    ///
    /// # anyio::run(async {
    /// let condition = anyio::Condition::new();
    /// let ready = AtomicBool::new(false);
    /// anyio::task_group!(|tg| {
    ///     tg.start_soon(async {
    ///         let guard = condition.acquire().await?;
    ///         ready.store(true, SeqCst);
    ///         guard.notify_all();
    ///         anyio::Result::Ok(())
    ///     });
    ///     let mut guard = condition.acquire().await?;
    ///     guard.wait_for(|| ready.load(SeqCst)).await?;
    ///     anyio::Result::Ok(())
    /// })?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn wait_for(&mut self, mut predicate: impl FnMut() -> bool) -> Result<()> {
        while !predicate() {
            self.wait().await?;
        }
        Ok(())
    }

    /// Whether this guard holds the condition's lock: true unless a
    /// [`wait`](ConditionGuard::wait) was interrupted before it was notified.
    ///
    /// # Examples
    ///
    /// ```
    /// let condition = anyio::Condition::new();
    /// let guard = condition.acquire_nowait().unwrap();
    /// assert!(guard.holds_lock());
    /// ```
    pub fn holds_lock(&self) -> bool {
        self.lock.is_some()
    }

    /// Takes the lock back after an interrupted [`wait`](ConditionGuard::wait); returns
    /// at once if this guard holds it.
    ///
    /// A checkpoint unless this guard already holds the lock.
    ///
    /// # Errors
    ///
    /// As for [`Lock::acquire`].
    ///
    /// # Cancel safety
    ///
    /// As for [`Lock::acquire`]: cancelled or dropped while waiting, the guard still does
    /// not hold the lock; a lock handed over before a cancel is kept (the guard holds it).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let condition = anyio::Condition::new();
    /// let mut guard = condition.acquire().await?;
    /// assert!(anyio::move_on_after(0.001, guard.wait()).await.is_none());
    /// assert!(!guard.holds_lock());
    /// guard.reacquire().await?;
    /// assert!(guard.holds_lock() && condition.locked());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn reacquire(&mut self) -> Result<()> {
        if self.lock.is_none() {
            self.lock = Some(self.condition.lock.acquire().await?);
        }
        Ok(())
    }

    #[track_caller]
    fn assert_holds_lock(&self, what: &str) {
        assert!(
            self.lock.is_some(),
            "ConditionGuard::{what} on a guard whose wait was interrupted: it no longer holds \
             the lock; call reacquire().await first"
        );
    }

    /// Wakes up to `n` waiters.
    ///
    /// # Panics
    ///
    /// Panics if this guard lost the lock to an interrupted wait (see
    /// [`reacquire`](ConditionGuard::reacquire)).
    ///
    /// # Examples
    ///
    /// ```
    /// let condition = anyio::Condition::new();
    /// let guard = condition.acquire_nowait().unwrap();
    /// guard.notify(2); // wakes up to two waiters (none here)
    /// ```
    #[track_caller]
    pub fn notify(&self, n: usize) {
        self.assert_holds_lock("notify");
        self.condition.notify_held(n);
    }

    /// Wakes every waiter.
    ///
    /// # Panics
    ///
    /// As for [`notify`](ConditionGuard::notify).
    ///
    /// # Examples
    ///
    /// ```
    /// let condition = anyio::Condition::new();
    /// let guard = condition.acquire_nowait().unwrap();
    /// guard.notify_all();
    /// ```
    #[track_caller]
    pub fn notify_all(&self) {
        self.assert_holds_lock("notify_all");
        self.condition.notify_held(usize::MAX);
    }
}

impl fmt::Debug for ConditionGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionGuard")
            .field("holds_lock", &self.lock.is_some())
            .finish()
    }
}

enum Stage<'a> {
    Start,
    Waiting(usize),
    /// Notified: re-taking the lock, shielded from cancellation (AnyIO does the same), so
    /// that a notified waiter always returns holding the lock.
    Reacquiring(Pin<Box<CancelScopeRun<LockAcquire<'a>>>>),
    Done,
}

/// Future of [`ConditionGuard::wait`].
///
/// # Cancel safety
///
/// As for [`ConditionGuard::wait`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let condition = anyio::Condition::new();
/// let mut guard = condition.acquire().await?;
/// // Nobody notifies: give up after a millisecond (the lock is then not held).
/// let waited = anyio::move_on_after(0.001, guard.wait()).await;
/// assert!(waited.is_none());
/// assert!(!condition.locked());
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct ConditionWait<'g, 'a> {
    guard: &'g mut ConditionGuard<'a>,
    stage: Stage<'a>,
}

impl fmt::Debug for ConditionWait<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionWait").finish_non_exhaustive()
    }
}

impl Future for ConditionWait<'_, '_> {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = &mut *self;
        let condition = this.guard.condition;
        loop {
            match &mut this.stage {
                Stage::Start => {
                    if this.guard.lock.is_none() {
                        this.stage = Stage::Done;
                        return Poll::Ready(Err(not_holding()));
                    }
                    std::task::ready!(crate::base::coop::poll_start(cx));
                    // Park first, then release: a notifier needs the lock, so it cannot
                    // notify before this waiter is queued.
                    let key = condition.lock_waiters().push((), cx.waker());
                    this.stage = Stage::Waiting(key);
                    this.guard.lock = None;
                    return Poll::Pending;
                }
                Stage::Waiting(key) => {
                    let key = *key;
                    if condition
                        .lock_waiters()
                        .poll_granted(key, cx.waker())
                        .is_none()
                    {
                        return Poll::Pending;
                    }
                    this.stage = Stage::Reacquiring(Box::pin(shielded(condition.lock.acquire())));
                }
                Stage::Reacquiring(acquire) => {
                    let result = std::task::ready!(acquire.as_mut().poll(cx))
                        .expect("a shielded scope is never cancelled from outside");
                    this.stage = Stage::Done;
                    return Poll::Ready(result.map(|lock| this.guard.lock = Some(lock)));
                }
                Stage::Done => panic!("ConditionWait polled after completion"),
            }
        }
    }
}

impl Drop for ConditionWait<'_, '_> {
    fn drop(&mut self) {
        let condition = self.guard.condition;
        match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Waiting(key) => {
                let withdrawn = condition.lock_waiters().withdraw(key);
                if let Withdrawn::Granted(()) = withdrawn {
                    // Notified but gone: the notification goes to the next waiter.
                    condition.notify_held(1);
                }
            }
            Stage::Reacquiring(acquire) => {
                // Notified, but dropped before it could return (only a drop from outside
                // anyio gets here: the re-take is shielded): pass the notification on.
                drop(acquire);
                condition.notify_held(1);
            }
            Stage::Start | Stage::Done => {}
        }
    }
}
