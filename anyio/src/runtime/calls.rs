//! Calls into a runtime from threads that are not its own: a result slot that a blocked
//! thread (or an awaiting future) waits on, and the runtime's list of calls in flight,
//! which it fails with `RunFinished` when it is dropped, so that no caller waits forever
//! for a task the executor will never run.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::task::{Context, Poll, Waker};

use crate::base::lock::lock;
use crate::base::task::next_task_id;
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::RuntimeShared;

/// How a call ended.
pub(crate) enum Outcome<T> {
    Value(T),
    Failed(Error),
    Panicked(Box<dyn Any + Send>),
}

impl<T> Outcome<T> {
    /// The value, or the error; a panic resumes on the calling thread.
    pub(crate) fn into_result(self) -> Result<T> {
        match self {
            Outcome::Value(value) => Ok(value),
            Outcome::Failed(error) => Err(error),
            Outcome::Panicked(payload) => std::panic::resume_unwind(payload),
        }
    }
}

struct SlotState<T> {
    outcome: Option<Outcome<T>>,
    /// Set once an outcome was given: later ones are ignored.
    completed: bool,
    waker: Option<Waker>,
}

/// Where one call's outcome lands. The first outcome wins.
pub(crate) struct CallSlot<T> {
    state: Mutex<SlotState<T>>,
    ready: Condvar,
}

impl<T> CallSlot<T> {
    pub(crate) fn new() -> Arc<CallSlot<T>> {
        Arc::new(CallSlot {
            state: Mutex::new(SlotState {
                outcome: None,
                completed: false,
                waker: None,
            }),
            ready: Condvar::new(),
        })
    }

    /// Gives the outcome, unless one was given already; true if this one was kept.
    pub(crate) fn complete(&self, outcome: Outcome<T>) -> bool {
        let waker = {
            let mut state = lock(&self.state);
            if state.completed {
                return false;
            }
            state.completed = true;
            state.outcome = Some(outcome);
            state.waker.take()
        };
        self.ready.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }

    /// Whether an outcome was given.
    pub(crate) fn is_completed(&self) -> bool {
        lock(&self.state).completed
    }

    /// Blocks this thread until the outcome is given, and takes it.
    pub(crate) fn wait(&self) -> Outcome<T> {
        let mut state = lock(&self.state);
        loop {
            if let Some(outcome) = state.outcome.take() {
                return outcome;
            }
            assert!(!state.completed, "a call's outcome was taken twice");
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Takes the outcome if it was given; otherwise registers `cx`'s waker.
    pub(crate) fn poll_outcome(&self, cx: &mut Context<'_>) -> Poll<Outcome<T>> {
        let mut state = lock(&self.state);
        if let Some(outcome) = state.outcome.take() {
            return Poll::Ready(outcome);
        }
        assert!(!state.completed, "a call's outcome was taken twice");
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

/// A call in flight, as the runtime sees it: something it can fail.
pub(crate) trait PendingCall: Send + Sync {
    fn fail(&self, error: Error);
}

impl<T: Send> PendingCall for CallSlot<T> {
    fn fail(&self, error: Error) {
        self.complete(Outcome::Failed(error));
    }
}

/// Gives a slot an outcome exactly once: the one given to `complete`, or, if the
/// completer is dropped first (its future was cancelled, or dropped unpolled), an error
/// of kind `on_drop`.
pub(crate) struct Completer<T> {
    slot: Option<Arc<CallSlot<T>>>,
    on_drop: ErrorKind,
}

impl<T> Completer<T> {
    pub(crate) fn new(slot: Arc<CallSlot<T>>, on_drop: ErrorKind) -> Completer<T> {
        Completer {
            slot: Some(slot),
            on_drop,
        }
    }

    pub(crate) fn complete(mut self, outcome: Outcome<T>) {
        if let Some(slot) = self.slot.take() {
            slot.complete(outcome);
        }
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            let message = match self.on_drop {
                ErrorKind::Cancelled => "the call was cancelled before it finished",
                ErrorKind::RunFinished => "the runtime finished before the call ran",
                _ => "the call was dropped before it finished",
            };
            slot.complete(Outcome::Failed(Error::new(self.on_drop, message)));
        }
    }
}

/// The runtime's side of calls from other threads.
#[derive(Default)]
pub(crate) struct Calls {
    /// Set when the runtime is dropped: no call is accepted after.
    finished: AtomicBool,
    /// Threads serving the executor right now (the workers, and a `block_on` caller).
    serving: AtomicUsize,
    /// Calls sent to the executor and not yet seen to complete.
    pending: Mutex<Vec<Weak<dyn PendingCall>>>,
}

impl Calls {
    pub(crate) fn finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// Counts a thread that serves the executor until the guard drops.
    pub(crate) fn serve(&self) -> ServingGuard<'_> {
        self.serving.fetch_add(1, Ordering::AcqRel);
        ServingGuard(self)
    }

    /// Fails every call in flight; none is accepted after.
    pub(crate) fn finish(&self) {
        self.finished.store(true, Ordering::Release);
        let pending = std::mem::take(&mut *lock(&self.pending));
        for call in pending.iter().filter_map(Weak::upgrade) {
            call.fail(Error::new(
                ErrorKind::RunFinished,
                "the runtime finished before the call completed",
            ));
        }
    }

    fn register(&self, call: Weak<dyn PendingCall>) {
        let mut pending = lock(&self.pending);
        pending.retain(|call| call.strong_count() > 0);
        pending.push(call);
    }
}

/// Counts a serving thread while alive.
pub(crate) struct ServingGuard<'a>(&'a Calls);

impl Drop for ServingGuard<'_> {
    fn drop(&mut self) {
        self.0.serving.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs `call` as a new task of `runtime`, outside any scope, and gives its outcome to
/// `slot`. Refused with `RunFinished` when the runtime has finished, or when no thread
/// serves it right now (a runtime without worker threads between two `block_on`s).
pub(crate) fn spawn_call<T: Send + 'static>(
    runtime: &Arc<RuntimeShared>,
    slot: &Arc<CallSlot<T>>,
    call: Pin<Box<dyn Future<Output = ()> + Send>>,
) -> Result<()> {
    let calls = &runtime.calls;
    if calls.finished() || calls.serving.load(Ordering::Acquire) == 0 {
        return Err(Error::new(
            ErrorKind::RunFinished,
            "the runtime has finished (or no thread runs it now): the call cannot run",
        ));
    }
    let weak: Weak<CallSlot<T>> = Arc::downgrade(slot);
    calls.register(weak);
    runtime.spawn(CallTask::new(call));
    // Dropped meanwhile: `finish` ran before the registration, or after it; either way
    // the slot has an outcome or will get one from the task being dropped.
    if calls.finished() {
        slot.complete(Outcome::Failed(Error::new(
            ErrorKind::RunFinished,
            "the runtime finished before the call ran",
        )));
    }
    Ok(())
}

/// Runs `call` as a new task of `runtime` (a call whose caller's slot is registered
/// elsewhere, or not at all: if the runtime never runs it, dropping it fails the slot).
pub(crate) fn spawn_orphan_call(
    runtime: &Arc<RuntimeShared>,
    call: Pin<Box<dyn Future<Output = ()> + Send>>,
) {
    runtime.spawn(CallTask::new(call));
}

pin_project_lite::pin_project! {
    /// A call run as a root task of its own: an anyio task (with an id) outside any
    /// scope.
    struct CallTask<F> {
        #[pin]
        future: F,
        id: u64,
        identity: Option<crate::base::task::CurrentTask>,
    }
}

impl<F> CallTask<F> {
    fn new(future: F) -> CallTask<F> {
        let id = next_task_id();
        CallTask {
            future,
            id,
            identity: Some(crate::base::task::CurrentTask::Root(Arc::new(
                crate::base::task::RootIdentity {
                    id,
                    name: "call from another thread",
                },
            ))),
        }
    }
}

impl<F: Future> Future for CallTask<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _scope = crate::base::context::ScopeEnter::new(None);
        let _task = crate::base::context::TaskEnter::new(*this.id, this.identity);
        this.future.poll(cx)
    }
}
