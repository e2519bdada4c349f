//! [`Event`]: a flag that tasks can wait for.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::waiters::{WaitQueue, wake_all};
use crate::{CancelScope, CancelScopeRun};

/// A one-shot flag: [`set`](Event::set) once, and every task in [`wait`](Event::wait)
/// (now or later) goes on.
///
/// Share it by reference (children started with `start_soon` may borrow it) or in an
/// `Arc` for spawned children.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let ready = anyio::Event::new();
/// anyio::task_group!(|tg| {
///     tg.start_soon(async {
///         ready.wait().await;
///         println!("the other task is ready");
///     });
///     anyio::sleep(0.001).await;
///     ready.set();
/// })
/// .unwrap();
/// assert!(ready.is_set());
/// # });
/// ```
pub struct Event {
    set: AtomicBool,
    waiters: Mutex<WaitQueue<(), ()>>,
}

/// A snapshot of an [`Event`], from [`Event::statistics`].
///
/// # Examples
///
/// ```
/// let event = anyio::Event::new();
/// assert_eq!(event.statistics().tasks_waiting, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventStatistics {
    /// Tasks waiting in [`Event::wait`].
    pub tasks_waiting: usize,
}

impl Event {
    /// An event that is not set. Usable before any runtime exists.
    ///
    /// # Examples
    ///
    /// ```
    /// static SHUTDOWN: anyio::Event = anyio::Event::new();
    /// assert!(!SHUTDOWN.is_set());
    /// ```
    pub const fn new() -> Event {
        Event {
            set: AtomicBool::new(false),
            waiters: Mutex::new(WaitQueue::new()),
        }
    }

    /// Sets the flag and wakes every waiter; later calls do nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = anyio::Event::new();
    /// event.set();
    /// event.set(); // no effect
    /// assert!(event.is_set());
    /// ```
    pub fn set(&self) {
        if self.set.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut wakers = Vec::new();
        self.lock_waiters().grant_all(|()| (), &mut wakers);
        wake_all(wakers);
    }

    /// Whether [`set`](Event::set) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = anyio::Event::new();
    /// assert!(!event.is_set());
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    /// Waits until the flag is set.
    ///
    /// A checkpoint: in a cancelled scope it does not return even if the flag is set. A
    /// wait that the flag already satisfied is not turned into a cancellation.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, with nothing to lose: cancelled by its scope or dropped from outside,
    /// the waiter just leaves the queue; the flag and the other waiters are unaffected.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let event = anyio::Event::new();
    /// event.set();
    /// event.wait().await; // already set: returns at once
    /// # });
    /// ```
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            key: None,
        }
    }

    /// Runs `body` until it finishes (`Some(output)`) or this event is set (`None`: the
    /// body is cancelled at its next checkpoint, as by a cancel scope): shutdown on an
    /// event, in one line. An event set already cancels the body at its first
    /// checkpoint.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let stop = anyio::Event::new();
    /// let mut jobs = 0;
    /// anyio::task_group!(|tg| {
    ///     tg.start_soon(async {
    ///         anyio::sleep(0.01).await;
    ///         stop.set();
    ///     });
    ///     let worked = stop
    ///         .cancel_on_set(async {
    ///             loop {
    ///                 anyio::sleep(0.001).await;
    ///                 jobs += 1;
    ///             }
    ///         })
    ///         .await;
    ///     assert_eq!(worked, None); // stopped by the event
    /// })
    /// .unwrap();
    /// assert!(jobs > 0);
    /// # });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// As for [`CancelScope::run`](crate::CancelScope::run): cancelled from outside, the
    /// body is dropped at its next checkpoint.
    pub fn cancel_on_set<F: Future>(&self, body: F) -> CancelOnSet<'_, F> {
        let scope = CancelScope::new();
        CancelOnSet {
            watch: self.wait(),
            fired: false,
            run: scope.run(body),
            scope,
        }
    }

    /// The event's state.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = anyio::Event::new();
    /// assert_eq!(event.statistics().tasks_waiting, 0);
    /// ```
    pub fn statistics(&self) -> EventStatistics {
        EventStatistics {
            tasks_waiting: self.lock_waiters().len(),
        }
    }

    fn lock_waiters(&self) -> std::sync::MutexGuard<'_, WaitQueue<(), ()>> {
        crate::base::lock::lock(&self.waiters)
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The future of [`Event::cancel_on_set`].
    ///
    /// # Cancel safety
    ///
    /// As for [`Event::cancel_on_set`].
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let stop = anyio::Event::new();
    /// stop.set(); // already set: the body ends at its first checkpoint
    /// let run: anyio::CancelOnSet<'_, _> = stop.cancel_on_set(anyio::sleep_forever());
    /// assert_eq!(run.await, None);
    /// let unset = anyio::Event::new();
    /// assert_eq!(unset.cancel_on_set(async { 7 }).await, Some(7));
    /// # });
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct CancelOnSet<'a, F> {
        watch: EventWait<'a>,
        fired: bool,
        scope: CancelScope,
        #[pin]
        run: CancelScopeRun<F>,
    }
}

impl<F> fmt::Debug for CancelOnSet<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelOnSet")
            .field("fired", &self.fired)
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for CancelOnSet<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        let this = self.project();
        // The watch waits in the event's queue, so that a `set` wakes this task.
        if !*this.fired && Pin::new(&mut *this.watch).poll(cx).is_ready() {
            *this.fired = true;
            this.scope.cancel();
        }
        this.run.poll(cx)
    }
}

/// Future of [`Event::wait`].
///
/// # Cancel safety
///
/// As for [`Event::wait`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let event = anyio::Event::new();
/// let waiting: anyio::EventWait<'_> = event.wait();
/// let gave_up = anyio::move_on_after(0.001, waiting).await;
/// assert_eq!(gave_up, None);
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct EventWait<'a> {
    event: &'a Event,
    key: Option<usize>,
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait").finish_non_exhaustive()
    }
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let event = self.event;
        match self.key {
            None => {
                std::task::ready!(crate::base::coop::poll_start(cx));
                if event.is_set() {
                    return Poll::Ready(());
                }
                let mut waiters = event.lock_waiters();
                // Checked again under the mutex: `set` stores the flag before draining.
                if event.is_set() {
                    return Poll::Ready(());
                }
                self.key = Some(waiters.push((), cx.waker()));
                Poll::Pending
            }
            Some(key) => {
                if event.lock_waiters().poll_granted(key, cx.waker()).is_some() {
                    self.key = None;
                    return Poll::Ready(());
                }
                Poll::Pending
            }
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.event.lock_waiters().withdraw(key);
        }
    }
}
