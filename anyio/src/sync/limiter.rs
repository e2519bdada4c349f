//! [`CapacityLimiter`]: tokens borrowed by tasks (or other borrowers), one each.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::waiters::{WaitQueue, Withdrawn, wake_all};
use crate::base::context;
use crate::error::{Error, ErrorKind, Result};
use crate::lowlevel::is_cancelled;

/// Who holds a token of a [`CapacityLimiter`]: a task, or anything else you name.
///
/// # Examples
///
/// ```
/// use anyio::Borrower;
///
/// assert_eq!(Borrower::from("worker-1"), Borrower::Named("worker-1".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Borrower {
    /// A task, by its id ([`TaskInfo::id`](crate::TaskInfo::id)); what
    /// [`CapacityLimiter::acquire`] uses.
    Task(u64),
    /// Any other borrower, by name.
    Named(Arc<str>),
}

impl Borrower {
    /// The task being polled (id 0 outside an anyio task).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let me = anyio::Borrower::current_task();
    /// assert_eq!(me, anyio::Borrower::Task(anyio::get_current_task().id));
    /// # });
    /// ```
    pub fn current_task() -> Borrower {
        Borrower::Task(context::current_task_id())
    }
}

impl From<&str> for Borrower {
    fn from(name: &str) -> Borrower {
        Borrower::Named(name.into())
    }
}

impl From<String> for Borrower {
    fn from(name: String) -> Borrower {
        Borrower::Named(name.into())
    }
}

impl fmt::Display for Borrower {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Borrower::Task(id) => write!(f, "task {id}"),
            Borrower::Named(name) => write!(f, "{name:?}"),
        }
    }
}

/// Limits how many borrowers use something at once: each holds at most one of
/// `total_tokens` tokens.
///
/// Unlike a [`Semaphore`](crate::Semaphore), a limiter knows who holds its tokens: a
/// borrower cannot take two, releasing without holding one is an error, and the total
/// can change while tokens are out. Tokens go to waiters in arrival order (a released
/// token is reserved for the longest-waiting borrower), skipping waiters cancelled
/// before the hand-off; a waiter dropped after it passes the token on.
///
/// `usize::MAX` tokens means no limit.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// # anyio::run(async {
/// let limiter = anyio::CapacityLimiter::new(3);
/// let busy = AtomicUsize::new(0);
/// anyio::task_group!(|tg| {
///     for _ in 0..10 {
///         tg.start_soon(async {
///             let _token = limiter.acquire().await?;
///             assert!(busy.fetch_add(1, Ordering::SeqCst) < 3);
///             anyio::sleep(0.001).await; // e.g. a download
///             busy.fetch_sub(1, Ordering::SeqCst);
///             anyio::Result::Ok(())
///         });
///     }
/// })?;
/// assert_eq!(limiter.borrowed_tokens(), 0);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct CapacityLimiter {
    inner: Mutex<LimiterInner>,
}

struct LimiterInner {
    total_tokens: usize,
    borrowers: Vec<Borrower>,
    /// Payload: the borrower; grant: the same borrower, now holding a token.
    waiters: WaitQueue<Borrower, Borrower>,
}

/// A snapshot of a [`CapacityLimiter`], from [`CapacityLimiter::statistics`].
///
/// # Examples
///
/// ```
/// let limiter = anyio::CapacityLimiter::new(3);
/// let stats = limiter.statistics();
/// assert_eq!((stats.borrowed_tokens, stats.total_tokens), (0, 3));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CapacityLimiterStatistics {
    /// Tokens currently held.
    pub borrowed_tokens: usize,
    /// The limit.
    pub total_tokens: usize,
    /// Who holds the tokens, in the order they got them.
    pub borrowers: Vec<Borrower>,
    /// Borrowers waiting for a token.
    pub tasks_waiting: usize,
}

impl CapacityLimiter {
    /// A limiter with `total_tokens` tokens (0 is allowed: everyone waits until the
    /// total is raised). Usable before any runtime exists.
    ///
    /// # Examples
    ///
    /// ```
    /// static DOWNLOADS: anyio::CapacityLimiter = anyio::CapacityLimiter::new(10);
    /// assert_eq!(DOWNLOADS.total_tokens(), 10);
    /// ```
    pub const fn new(total_tokens: usize) -> CapacityLimiter {
        CapacityLimiter {
            inner: Mutex::new(LimiterInner {
                total_tokens,
                borrowers: Vec::new(),
                waiters: WaitQueue::new(),
            }),
        }
    }

    /// Waits for a token for the current task.
    ///
    /// Like every anyio operation, this is a checkpoint.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Other`] if the current task already holds one of its tokens.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: cancelled or dropped while waiting, it leaves the queue (tokens skip a
    /// waiter whose scope is cancelled). If a token was handed to it before the cancel, it
    /// returns the guard and the body ends at its next checkpoint, giving the token back;
    /// dropped from outside after the hand-off, it passes the token on.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let limiter = anyio::CapacityLimiter::new(1);
    /// let token = limiter.acquire().await?;
    /// assert_eq!(limiter.borrowed_tokens(), 1);
    /// drop(token);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn acquire(&self) -> LimiterAcquire<'_> {
        self.acquire_on_behalf_of(Borrower::current_task())
    }

    /// Waits for a token for `borrower` (see [`acquire`](CapacityLimiter::acquire)).
    ///
    /// Like every anyio operation, this is a checkpoint.
    ///
    /// # Cancel safety
    ///
    /// As for [`acquire`](CapacityLimiter::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let limiter = anyio::CapacityLimiter::new(2);
    /// let a = limiter.acquire_on_behalf_of("job a").await?;
    /// let b = limiter.acquire_on_behalf_of("job b").await?;
    /// assert_eq!(limiter.available_tokens(), 0);
    /// drop((a, b));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn acquire_on_behalf_of(&self, borrower: impl Into<Borrower>) -> LimiterAcquire<'_> {
        LimiterAcquire {
            limiter: self,
            borrower: Some(borrower.into()),
            key: None,
        }
    }

    /// Takes a token for the current task without waiting.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::WouldBlock`] if every token is held (or reserved for a waiter);
    /// [`ErrorKind::Other`] if the task already holds one.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let limiter = anyio::CapacityLimiter::new(1);
    /// let _token = limiter.acquire_nowait()?;
    /// assert_eq!(limiter.available_tokens(), 0);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn acquire_nowait(&self) -> Result<LimiterGuard<'_>> {
        self.acquire_on_behalf_of_nowait(Borrower::current_task())
    }

    /// Takes a token for `borrower` without waiting (see
    /// [`acquire_nowait`](CapacityLimiter::acquire_nowait)).
    ///
    /// # Examples
    ///
    /// ```
    /// let limiter = anyio::CapacityLimiter::new(1);
    /// let token = limiter.acquire_on_behalf_of_nowait("a").unwrap();
    /// let refused = limiter.acquire_on_behalf_of_nowait("b").unwrap_err();
    /// assert_eq!(refused.kind(), anyio::ErrorKind::WouldBlock);
    /// drop(token);
    /// assert_eq!(limiter.available_tokens(), 1);
    /// ```
    pub fn acquire_on_behalf_of_nowait(
        &self,
        borrower: impl Into<Borrower>,
    ) -> Result<LimiterGuard<'_>> {
        let borrower = borrower.into();
        let mut inner = self.lock_inner();
        inner.check_not_borrowing(&borrower)?;
        if inner.borrowers.len() < inner.total_tokens {
            inner.borrowers.push(borrower.clone());
            return Ok(self.guard(borrower));
        }
        Err(Error::new(
            ErrorKind::WouldBlock,
            "every token of the capacity limiter is borrowed",
        ))
    }

    /// Gives back the current task's token (one kept with
    /// [`LimiterGuard::forget`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Other`] if the task holds no token of this limiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let limiter = anyio::CapacityLimiter::new(1);
    /// limiter.acquire().await?.forget(); // keep the token past the guard
    /// limiter.release()?;
    /// assert_eq!(limiter.borrowed_tokens(), 0);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn release(&self) -> Result<()> {
        self.release_on_behalf_of(Borrower::current_task())
    }

    /// Gives back `borrower`'s token.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Other`] if `borrower` holds no token of this limiter.
    ///
    /// # Examples
    ///
    /// ```
    /// let limiter = anyio::CapacityLimiter::new(2);
    /// limiter.acquire_on_behalf_of_nowait("job").unwrap().forget();
    /// assert_eq!(limiter.borrowed_tokens(), 1);
    /// limiter.release_on_behalf_of("job").unwrap();
    /// assert!(limiter.release_on_behalf_of("job").is_err());
    /// ```
    pub fn release_on_behalf_of(&self, borrower: impl Into<Borrower>) -> Result<()> {
        let borrower = borrower.into();
        let wakers = {
            let mut inner = self.lock_inner();
            let Some(index) = inner.borrowers.iter().position(|b| *b == borrower) else {
                return Err(Error::new(
                    ErrorKind::Other,
                    format!("{borrower} holds no token of this capacity limiter"),
                ));
            };
            inner.borrowers.remove(index);
            inner.admit_waiters()
        };
        wake_all(wakers);
        Ok(())
    }

    /// The limit.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(anyio::CapacityLimiter::new(40).total_tokens(), 40);
    /// ```
    pub fn total_tokens(&self) -> usize {
        self.lock_inner().total_tokens
    }

    /// Changes the limit. Raising it admits waiters at once; lowering it below the
    /// number borrowed takes nothing back, but no token is lent until enough are returned.
    ///
    /// # Examples
    ///
    /// ```
    /// let limiter = anyio::CapacityLimiter::new(1);
    /// limiter.set_total_tokens(3);
    /// assert_eq!(limiter.available_tokens(), 3);
    /// ```
    pub fn set_total_tokens(&self, total_tokens: usize) {
        let wakers = {
            let mut inner = self.lock_inner();
            inner.total_tokens = total_tokens;
            inner.admit_waiters()
        };
        wake_all(wakers);
    }

    /// Tokens currently held.
    ///
    /// # Examples
    ///
    /// ```
    /// let limiter = anyio::CapacityLimiter::new(2);
    /// let _token = limiter.acquire_on_behalf_of_nowait("x").unwrap();
    /// assert_eq!(limiter.borrowed_tokens(), 1);
    /// ```
    pub fn borrowed_tokens(&self) -> usize {
        self.lock_inner().borrowers.len()
    }

    /// Tokens that could be lent now.
    ///
    /// # Examples
    ///
    /// ```
    /// let limiter = anyio::CapacityLimiter::new(2);
    /// let _token = limiter.acquire_on_behalf_of_nowait("x").unwrap();
    /// assert_eq!(limiter.available_tokens(), 1);
    /// ```
    pub fn available_tokens(&self) -> usize {
        let inner = self.lock_inner();
        inner.total_tokens.saturating_sub(inner.borrowers.len())
    }

    /// The limiter's state.
    ///
    /// # Examples
    ///
    /// ```
    /// let limiter = anyio::CapacityLimiter::new(2);
    /// let _token = limiter.acquire_on_behalf_of_nowait("a").unwrap();
    /// let stats = limiter.statistics();
    /// assert_eq!(stats.borrowed_tokens, 1);
    /// assert_eq!(stats.total_tokens, 2);
    /// assert_eq!(stats.borrowers, ["a".into()]);
    /// assert_eq!(stats.tasks_waiting, 0);
    /// ```
    pub fn statistics(&self) -> CapacityLimiterStatistics {
        let inner = self.lock_inner();
        CapacityLimiterStatistics {
            borrowed_tokens: inner.borrowers.len(),
            total_tokens: inner.total_tokens,
            borrowers: inner.borrowers.clone(),
            tasks_waiting: inner.waiters.len(),
        }
    }

    fn guard(&self, borrower: Borrower) -> LimiterGuard<'_> {
        LimiterGuard {
            limiter: self,
            borrower: Some(borrower),
        }
    }

    fn lock_inner(&self) -> std::sync::MutexGuard<'_, LimiterInner> {
        crate::base::lock::lock(&self.inner)
    }
}

impl LimiterInner {
    fn check_not_borrowing(&self, borrower: &Borrower) -> Result<()> {
        if self.borrowers.contains(borrower) {
            return Err(Error::new(
                ErrorKind::Other,
                format!("{borrower} already holds a token of this capacity limiter"),
            ));
        }
        Ok(())
    }

    /// Lends free tokens to live waiters, first come first served.
    fn admit_waiters(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        while self.borrowers.len() < self.total_tokens {
            let Some(key) = self.waiters.first_live() else {
                break;
            };
            let borrower = self.waiters.payload(key).clone();
            let (_, waker) = self.waiters.grant(key, borrower.clone());
            self.borrowers.push(borrower);
            wakers.push(waker);
        }
        wakers
    }
}

impl fmt::Debug for CapacityLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock_inner();
        f.debug_struct("CapacityLimiter")
            .field("total_tokens", &inner.total_tokens)
            .field("borrowed_tokens", &inner.borrowers.len())
            .finish_non_exhaustive()
    }
}

/// Future of [`CapacityLimiter::acquire`] and
/// [`acquire_on_behalf_of`](CapacityLimiter::acquire_on_behalf_of).
///
/// # Cancel safety
///
/// As for [`CapacityLimiter::acquire`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let limiter = anyio::CapacityLimiter::new(0);
/// let acquire: anyio::LimiterAcquire<'_> = limiter.acquire();
/// assert!(anyio::move_on_after(0.001, acquire).await.is_none());
/// assert_eq!(limiter.statistics().tasks_waiting, 0); // the cancelled wait left
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct LimiterAcquire<'a> {
    limiter: &'a CapacityLimiter,
    /// Until parked (then the queue holds it).
    borrower: Option<Borrower>,
    key: Option<usize>,
}

impl fmt::Debug for LimiterAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LimiterAcquire").finish_non_exhaustive()
    }
}

impl<'a> Future for LimiterAcquire<'a> {
    type Output = Result<LimiterGuard<'a>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let limiter = self.limiter;
        let Some(key) = self.key else {
            std::task::ready!(crate::base::coop::poll_start(cx));
            let borrower = self.borrower.take().expect("polled after completion");
            let mut inner = limiter.lock_inner();
            if let Err(error) = inner.check_not_borrowing(&borrower) {
                return Poll::Ready(Err(error));
            }
            // Free tokens mean no live waiter is queued: releases hand tokens over at once.
            if inner.borrowers.len() < inner.total_tokens {
                inner.borrowers.push(borrower.clone());
                return Poll::Ready(Ok(limiter.guard(borrower)));
            }
            self.key = Some(inner.waiters.push(borrower, cx.waker()));
            return Poll::Pending;
        };
        let mut inner = limiter.lock_inner();
        if let Some(borrower) = inner.waiters.poll_granted(key, cx.waker()) {
            self.key = None;
            return Poll::Ready(Ok(limiter.guard(borrower)));
        }
        if is_cancelled() {
            return Poll::Pending;
        }
        // Skipped while cancelled and then shielded: take a free token now.
        if inner.borrowers.len() < inner.total_tokens {
            let Withdrawn::Queued(borrower) = inner.waiters.withdraw(key) else {
                unreachable!("checked not granted above")
            };
            self.key = None;
            inner.borrowers.push(borrower.clone());
            return Poll::Ready(Ok(limiter.guard(borrower)));
        }
        Poll::Pending
    }
}

impl Drop for LimiterAcquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let wakers = {
            let mut inner = self.limiter.lock_inner();
            match inner.waiters.withdraw(key) {
                Withdrawn::Granted(borrower) => {
                    inner.borrowers.retain(|b| *b != borrower);
                    inner.admit_waiters()
                }
                Withdrawn::Queued(_) => return,
            }
        };
        wake_all(wakers);
    }
}

/// A token of a [`CapacityLimiter`]; gives it back when dropped.
///
/// # Examples
///
/// ```
/// let limiter = anyio::CapacityLimiter::new(1);
/// {
///     let token = limiter.acquire_on_behalf_of_nowait("job").unwrap();
///     assert_eq!(token.borrower(), Some(&anyio::Borrower::from("job")));
/// }
/// assert_eq!(limiter.borrowed_tokens(), 0);
/// ```
#[must_use = "the token is given back as soon as the guard is dropped"]
pub struct LimiterGuard<'a> {
    limiter: &'a CapacityLimiter,
    borrower: Option<Borrower>,
}

impl LimiterGuard<'_> {
    /// Who holds this token.
    ///
    /// # Examples
    ///
    /// ```
    /// let limiter = anyio::CapacityLimiter::new(1);
    /// let token = limiter.acquire_on_behalf_of_nowait("job").unwrap();
    /// assert_eq!(token.borrower(), Some(&"job".into()));
    /// ```
    pub fn borrower(&self) -> Option<&Borrower> {
        self.borrower.as_ref()
    }

    /// Keeps the token: it is not given back on drop (give it back with
    /// [`CapacityLimiter::release_on_behalf_of`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let limiter = anyio::CapacityLimiter::new(1);
    /// limiter.acquire_on_behalf_of_nowait("job").unwrap().forget();
    /// assert_eq!(limiter.borrowed_tokens(), 1);
    /// limiter.release_on_behalf_of("job").unwrap();
    /// ```
    pub fn forget(mut self) {
        self.borrower = None;
    }
}

impl fmt::Debug for LimiterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LimiterGuard")
            .field("borrower", &self.borrower)
            .finish()
    }
}

impl Drop for LimiterGuard<'_> {
    fn drop(&mut self) {
        if let Some(borrower) = self.borrower.take() {
            // Released by hand already: nothing to give back.
            let _ = self.limiter.release_on_behalf_of(borrower);
        }
    }
}
