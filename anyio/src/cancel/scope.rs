//! `CancelScope`: the handle, and the wrapper future that runs a body inside it.

use std::cell::RefCell;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use crate::base::context::{self, ScopeLend};
use crate::base::scope::{CancelOrigin, ScopeState};
use crate::cancel::deliver::{DeliveryPoll, Verdict};
use crate::cancel::timer::DeadlineTimer;

/// A unit of work that can be cancelled, by hand or by a deadline, and that can shield
/// its body from outer cancellation.
///
/// A `CancelScope` is a cheap handle (clone it to cancel from another task or thread).
/// [`run`](CancelScope::run) runs a body inside the scope; the scope becomes the parent of
/// every scope and task group entered by the body.
///
/// # The cancellation model
///
/// Cancelling a scope is *level-triggered*: from then on, every checkpoint of its body
/// (every anyio operation, and any suspension point of a foreign future) ends the body.
/// The body is *dropped* at its next suspension point, and `run` returns `None`. Code after
/// an inner scope never runs while an outer scope is cancelled: the outermost cancelled
/// scope below the nearest shield owns the cancellation and is the one whose `run`
/// returns `None` ([`cancelled_caught`](CancelScope::cancelled_caught)).
///
/// A shielded scope ([`set_shield`](CancelScope::set_shield)) keeps its body alive while
/// outer scopes are cancelled; an outer scope waits for the shielded work to finish and
/// drops its body at the first suspension point after it.
///
/// # Examples
///
/// ```
/// use anyio::CancelScope;
///
/// # anyio::run(async {
/// let scope = CancelScope::new();
/// let handle = scope.clone();
/// let result = scope
///     .run(async move {
///         handle.cancel();
///         anyio::sleep_forever().await; // the body is dropped here
///         unreachable!()
///     })
///     .await;
/// assert_eq!(result, None::<()>);
/// assert!(scope.cancel_called() && scope.cancelled_caught());
/// # });
/// ```
#[derive(Clone)]
pub struct CancelScope {
    pub(crate) state: Arc<ScopeState>,
}

impl Default for CancelScope {
    fn default() -> Self {
        CancelScope::new()
    }
}

impl fmt::Debug for CancelScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelScope")
            .field("cancel_called", &self.cancel_called())
            .field("cancelled_caught", &self.cancelled_caught())
            .field("shield", &self.shield())
            .field("deadline", &self.deadline())
            .finish()
    }
}

impl CancelScope {
    /// Creates a scope with no deadline and no shield.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let scope = anyio::CancelScope::new();
    /// assert!(scope.deadline().is_none() && !scope.shield());
    /// assert_eq!(scope.run(async { 5 }).await, Some(5));
    /// assert!(!scope.cancelled_caught());
    /// # });
    /// ```
    pub fn new() -> CancelScope {
        CancelScope {
            state: Arc::new(ScopeState::new(None, false)),
        }
    }

    /// Creates a scope that cancels itself at `deadline`.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let deadline = anyio::current_time() + std::time::Duration::from_millis(10);
    /// let scope = anyio::CancelScope::with_deadline(deadline);
    /// assert_eq!(scope.run(anyio::sleep_forever()).await, None);
    /// assert!(scope.cancelled_caught());
    /// # });
    /// ```
    pub fn with_deadline(deadline: Instant) -> CancelScope {
        CancelScope {
            state: Arc::new(ScopeState::new(Some(deadline), false)),
        }
    }

    /// Creates a shielded scope: outer cancellation does not reach its body.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let outer = anyio::CancelScope::new();
    /// outer.cancel();
    /// let body = anyio::CancelScope::shielded().run(async {
    ///     anyio::sleep(0.001).await; // the outer cancellation does not end this sleep
    ///     "saved"
    /// });
    /// assert_eq!(outer.run(body).await, Some(Some("saved")));
    /// # });
    /// ```
    pub fn shielded() -> CancelScope {
        CancelScope {
            state: Arc::new(ScopeState::new(None, true)),
        }
    }

    /// Cancels the scope. Its body is dropped at its next checkpoint (at once if it is
    /// waiting); calling this again, or after the body finished, does nothing.
    /// May be called from any task or thread.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let scope = anyio::CancelScope::new();
    /// let remote = scope.clone();
    /// let canceller = std::thread::spawn(move || remote.cancel()); // from another thread
    /// assert_eq!(scope.run(anyio::sleep_forever()).await, None);
    /// canceller.join().unwrap();
    /// assert!(scope.cancel_called());
    /// # });
    /// ```
    pub fn cancel(&self) {
        self.state.cancel(CancelOrigin::Explicit, None);
    }

    /// Cancels the scope, recording `reason`; the reason and the name of the task that
    /// called this appear in messages about the cancellation.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let scope = anyio::CancelScope::new();
    /// scope.cancel_with_reason("shutting down");
    /// assert_eq!(scope.cancel_reason().as_deref(), Some("shutting down (cancelled by task 'main')"));
    /// # });
    /// ```
    pub fn cancel_with_reason(&self, reason: impl Into<String>) {
        let reason = format!(
            "{} (cancelled by task '{}')",
            reason.into(),
            crate::task::current_task_name()
        );
        self.state.cancel(CancelOrigin::Explicit, Some(reason));
    }

    /// The reason given to [`cancel_with_reason`](CancelScope::cancel_with_reason), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let scope = anyio::CancelScope::new();
    /// assert_eq!(scope.cancel_reason(), None);
    /// scope.cancel_with_reason("config reloaded");
    /// assert!(scope.cancel_reason().unwrap().starts_with("config reloaded"));
    /// ```
    pub fn cancel_reason(&self) -> Option<String> {
        self.state.reason()
    }

    /// Whether the scope has been cancelled, by hand or by its deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// let scope = anyio::CancelScope::new();
    /// assert!(!scope.cancel_called());
    /// scope.cancel();
    /// assert!(scope.cancel_called());
    /// ```
    pub fn cancel_called(&self) -> bool {
        self.state.cancel_called()
    }

    /// Whether this scope's own cancellation ended its body (its `run` returned `None`).
    /// False when an outer scope's cancellation ended the body instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let (outer, inner) = (anyio::CancelScope::new(), anyio::CancelScope::new());
    /// outer.cancel();
    /// inner.cancel();
    /// assert_eq!(outer.run(inner.run(anyio::sleep_forever())).await, None);
    /// assert!(outer.cancelled_caught());
    /// assert!(!inner.cancelled_caught()); // the outermost cancelled scope owns the cancellation
    /// # });
    /// ```
    pub fn cancelled_caught(&self) -> bool {
        self.state.cancelled_caught()
    }

    /// The instant at which the scope cancels itself, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let at = anyio::current_time() + Duration::from_secs(5);
    /// assert_eq!(anyio::CancelScope::with_deadline(at).deadline(), Some(at));
    /// assert_eq!(anyio::CancelScope::new().deadline(), None);
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.state.deadline()
    }

    /// Moves the deadline (earlier or later, or `None` for no deadline) at any time,
    /// also while the body runs. A deadline in the past cancels the scope at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # anyio::run(async {
    /// let scope = anyio::CancelScope::new();
    /// let handle = scope.clone();
    /// let result = scope
    ///     .run(async move {
    ///         handle.set_deadline(Some(anyio::current_time() + Duration::from_millis(1)));
    ///         anyio::sleep(10).await; // ended by the new deadline
    ///     })
    ///     .await;
    /// assert_eq!(result, None);
    /// # });
    /// ```
    pub fn set_deadline(&self, deadline: Option<Instant>) {
        self.state.set_deadline(deadline);
    }

    /// Whether the scope shields its body from outer cancellation.
    ///
    /// # Examples
    ///
    /// ```
    /// let scope = anyio::CancelScope::new();
    /// assert!(!scope.shield());
    /// scope.set_shield(true);
    /// assert!(scope.shield() && anyio::CancelScope::shielded().shield());
    /// ```
    pub fn shield(&self) -> bool {
        self.state.shield()
    }

    /// Turns the shield on or off; takes effect at the body's next checkpoint.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let (outer, inner) = (anyio::CancelScope::new(), anyio::CancelScope::shielded());
    /// let handle = inner.clone();
    /// outer.cancel();
    /// let body = inner.run(async move {
    ///     anyio::sleep(0.001).await; // shielded: this sleep runs to its end
    ///     handle.set_shield(false);
    ///     anyio::sleep(0.001).await; // no longer shielded: the body ends here
    ///     unreachable!()
    /// });
    /// assert_eq!(outer.run(body).await, None::<Option<()>>);
    /// # });
    /// ```
    pub fn set_shield(&self, shield: bool) {
        self.state.set_shield(shield);
    }

    /// Runs `body` inside this scope: `Some(output)` if it finished, `None` if this scope's
    /// cancellation dropped it.
    ///
    /// # Cancel safety
    ///
    /// Holds nothing of its own: a cancellation loses what `body`'s operations lose when
    /// dropped. An outer scope's cancellation drops `body` at its next suspension point
    /// and this future does not return (unless this scope is shielded: `body` then runs
    /// on). Dropping this future from outside drops `body` at once, wherever it is.
    ///
    /// # Panics
    ///
    /// Panics when polled if the scope was already entered: a scope runs one body once.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let scope = anyio::CancelScope::new();
    /// assert_eq!(scope.run(async { "done" }).await, Some("done"));
    /// let expired = anyio::CancelScope::with_deadline(anyio::current_time());
    /// assert_eq!(expired.run(anyio::sleep(10)).await, None);
    /// # });
    /// ```
    pub fn run<F: IntoFuture>(&self, body: F) -> CancelScopeRun<F::IntoFuture> {
        CancelScopeRun::new(self.state.clone(), body.into_future(), None)
    }
}

thread_local! {
    /// Scopes of finished `move_on_after`/`fail_after` wrappers that nobody else refers
    /// to, kept for reuse so that a timeout around a ready future allocates nothing
    /// (beyond the one spare in the thread's context, which is used first).
    static SCOPE_POOL: RefCell<Vec<Arc<ScopeState>>> = const { RefCell::new(Vec::new()) };
}

const SCOPE_POOL_LIMIT: usize = 64;

/// A fresh, unshared scope state, from the pool when one is there.
#[inline]
pub(crate) fn pooled_scope() -> Arc<ScopeState> {
    context::take_spare_scope().unwrap_or_else(pool_or_new_scope)
}

/// A scope state from the pool beyond the spare, or a new one.
fn pool_or_new_scope() -> Arc<ScopeState> {
    // A pooled scope was reset when it was recycled, and nobody has seen it since.
    SCOPE_POOL
        .with(|pool| pool.try_borrow_mut().ok().and_then(|mut p| p.pop()))
        .unwrap_or_else(|| Arc::new(ScopeState::new(None, false)))
}

/// Runs `body` shielded from outer cancellation, on a pooled scope (no allocation once
/// warm): for operations that must finish what they started, such as re-taking a lock.
pub(crate) fn shielded<F: Future>(body: F) -> CancelScopeRun<F> {
    let state = pooled_scope();
    state.set_shield(true);
    CancelScopeRun::new_pooled(state, body, None)
}

/// Returns a scope to the pool if nothing else refers to it.
#[inline]
fn recycle_scope(mut state: Arc<ScopeState>) {
    let Some(unique) = Arc::get_mut(&mut state) else {
        return;
    };
    unique.reset_unique();
    // The spare first: a thread that runs one timeout after another reuses one state.
    let Some(displaced) = context::put_spare_scope(state) else {
        return;
    };
    SCOPE_POOL.with(|pool| {
        if let Ok(mut pool) = pool.try_borrow_mut()
            && pool.len() < SCOPE_POOL_LIMIT
        {
            pool.push(displaced);
        }
    });
}

pin_project! {
    /// The future returned by [`CancelScope::run`]: resolves to `Some(output)` or, if the
    /// scope's cancellation ended the body, `None`.
    ///
    /// # Cancel safety
    ///
    /// As for [`CancelScope::run`].
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let scope = anyio::CancelScope::new();
    /// let run: anyio::CancelScopeRun<_> = scope.run(async {
    ///     anyio::sleep(0.001).await;
    ///     4
    /// });
    /// scope.cancel(); // before the first poll: the body ends at its first checkpoint
    /// assert_eq!(run.await, None);
    /// # });
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct CancelScopeRun<F> {
        // `None` before the first poll of a `new_after` wrapper, and once finished (the
        // state may then have gone back to the pool).
        state: Option<Arc<ScopeState>>,
        #[pin]
        body: Option<F>,
        timer: DeadlineTimer,
        // For `move_on_after`/`fail_after`: the deadline is this long after entry.
        relative: Option<Duration>,
        // Whether the scope state came from the pool and may go back to it.
        recyclable: bool,
        entered: bool,
    }

    impl<F> PinnedDrop for CancelScopeRun<F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if this.state.is_none() {
                // Finished: the body and the timer are gone already.
                return;
            }
            // The body may hold scopes whose parent link points at this scope: drop it first.
            this.body.set(None);
            this.timer.disarm();
            if let Some(state) = this.state.take() && *this.recyclable {
                recycle_scope(state);
            }
        }
    }
}

impl<F: Future> CancelScopeRun<F> {
    pub(crate) fn new(
        state: Arc<ScopeState>,
        body: F,
        relative: Option<Duration>,
    ) -> CancelScopeRun<F> {
        CancelScopeRun {
            state: Some(state),
            body: Some(body),
            timer: DeadlineTimer::default(),
            relative,
            recyclable: false,
            entered: false,
        }
    }

    /// A wrapper whose scope, with a deadline `delay` after its first poll, comes from
    /// the pool at that poll and goes back to it when done.
    pub(crate) fn new_after(body: F, delay: Duration) -> CancelScopeRun<F> {
        CancelScopeRun {
            state: None,
            body: Some(body),
            timer: DeadlineTimer::default(),
            relative: Some(delay),
            recyclable: true,
            entered: false,
        }
    }

    /// A wrapper over a scope from the pool, returned to it when done.
    pub(crate) fn new_pooled(
        state: Arc<ScopeState>,
        body: F,
        relative: Option<Duration>,
    ) -> CancelScopeRun<F> {
        let mut run = CancelScopeRun::new(state, body, relative);
        run.recyclable = true;
        run
    }
}

/// What a finished scope wrapper reports to `move_on_after`/`fail_after`.
pub(crate) struct ScopeOutcome {
    pub(crate) timed_out: bool,
    pub(crate) reason: Option<String>,
}

impl<F: Future> CancelScopeRun<F> {
    /// Polls like `Future::poll`, and on cancellation also says whether it was the deadline.
    pub(crate) fn poll_scope(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<F::Output, ScopeOutcome>> {
        let mut this = self.project();
        if !*this.entered {
            *this.entered = true;
            let parent = match this.state {
                Some(_) => context::current_scope(),
                None => {
                    // `new_after`: the state comes from the pool now.
                    let (spare, parent) = context::take_spare_scope_and_current();
                    *this.state = Some(spare.unwrap_or_else(pool_or_new_scope));
                    parent
                }
            };
            let relative = this.relative.take();
            let state = this
                .state
                .as_mut()
                .expect("CancelScopeRun polled after completion");
            if *this.recyclable {
                // A pooled scope nobody else can see yet.
                match relative {
                    Some(delay) => state.enter_fresh_after(parent, delay),
                    None => state.enter_fresh(parent, None),
                }
            } else {
                let deadline =
                    relative.and_then(|delay| crate::runtime::clock::now().checked_add(delay));
                assert!(
                    state.enter(parent),
                    "a CancelScope was entered twice: each scope runs exactly one body; \
                     create a new CancelScope for the second body"
                );
                if relative.is_some() {
                    state.set_deadline_quiet(deadline);
                }
            }
            if relative.is_some_and(|delay| delay.is_zero()) {
                state.cancel(CancelOrigin::Deadline, None);
            } else if relative.is_none() {
                DeadlineTimer::check_on_entry(state);
            }
        }
        let state = this
            .state
            .as_ref()
            .expect("CancelScopeRun polled after completion");
        this.timer.poll_armed(state, cx);

        loop {
            let state = this.state.as_ref().expect("checked above");
            let delivery = DeliveryPoll::begin(state.is_delivering());
            let body = this
                .body
                .as_mut()
                .as_pin_mut()
                .expect("CancelScopeRun polled after completion");
            // The scope is current for the body's poll: lent to the thread context.
            let lend = ScopeLend::new(this.state);
            let poll = body.poll(cx);
            let shielded_work = lend.give_back();
            let state = this.state.as_ref().expect("given back by the lend");
            if let Poll::Ready(output) = poll {
                this.body.set(None);
                this.timer.disarm();
                self::finish(this.state, *this.recyclable);
                return Poll::Ready(Ok(output));
            }
            // Registered before the state is read again, so a cancel from now on wakes us.
            state.waker.register(cx.waker());
            match delivery.after_pending(shielded_work, || state.is_delivering()) {
                Verdict::Drop => {
                    this.body.set(None);
                    this.timer.disarm();
                    state.set_cancelled_caught();
                    let outcome = ScopeOutcome {
                        timed_out: state.origin() == CancelOrigin::Deadline,
                        reason: state.reason(),
                    };
                    self::finish(this.state, *this.recyclable);
                    return Poll::Ready(Err(outcome));
                }
                Verdict::Repoll => continue,
                Verdict::Wait => {}
            }
            if this.timer.arm(state, cx) {
                continue;
            }
            if shielded_work || state.shield() {
                // Outward: this wrapper waits for shielded work.
                context::set_pending_under_shield();
            }
            return Poll::Pending;
        }
    }
}

/// Releases the wrapper's hold on the scope state once its body is gone.
#[inline]
fn finish(state: &mut Option<Arc<ScopeState>>, recyclable: bool) {
    if let Some(state) = state.take()
        && recyclable
    {
        recycle_scope(state);
    }
}

impl<F: Future> Future for CancelScopeRun<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.poll_scope(cx).map(Result::ok)
    }
}
