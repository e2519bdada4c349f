//! The link between a `to_thread` job and the task that awaits it (its *host*): the
//! job's thread reads the host's cancellation through it (`check_cancelled`) and sends
//! calls into the event loop through it (`from_thread::run`), which the host runs inside
//! its own poll, in its own scopes.
//!
//! A job's thread sends at most one call at a time (it blocks until the call ends), so
//! the link holds one slot, not a queue. When the host goes away first (an abandoned
//! job), calls run as tasks of their own on the runtime instead.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::Waker;

use atomic_waker::AtomicWaker;

use crate::base::lock::lock;
use crate::runtime::RuntimeShared;

/// A call from a job's thread, made into a future by the host (or by the runtime).
pub(crate) type Call = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

struct Slot {
    call: Option<Call>,
    /// The host stopped waiting for the job: calls go to the runtime.
    host_gone: bool,
}

/// Shared by a job's thread and its host.
pub(crate) struct HostLink {
    /// Whether the host is in a cancelled scope (as of its latest poll), or gone.
    cancelled: AtomicBool,
    slot: Mutex<Slot>,
    host: AtomicWaker,
    /// The host's runtime, if it runs in one.
    runtime: Option<Weak<RuntimeShared>>,
}

impl HostLink {
    pub(crate) fn new(runtime: Option<Weak<RuntimeShared>>) -> Arc<HostLink> {
        Arc::new(HostLink {
            cancelled: AtomicBool::new(false),
            slot: Mutex::new(Slot {
                call: None,
                host_gone: false,
            }),
            host: AtomicWaker::new(),
            runtime,
        })
    }

    pub(crate) fn runtime(&self) -> Option<Arc<RuntimeShared>> {
        self.runtime.as_ref().and_then(Weak::upgrade)
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// The host's view of its cancellation, refreshed at each of its polls.
    pub(crate) fn set_cancelled(&self, cancelled: bool) {
        self.cancelled.store(cancelled, Ordering::Release);
    }

    /// From the job's thread: hands `call` to the host; gives it back if the host is gone.
    pub(crate) fn send(&self, call: Call) -> Result<(), Call> {
        {
            let mut slot = lock(&self.slot);
            if slot.host_gone {
                return Err(call);
            }
            debug_assert!(
                slot.call.is_none(),
                "a job's thread sends one call at a time"
            );
            slot.call = Some(call);
        }
        self.host.wake();
        Ok(())
    }

    /// From the host: the call waiting, if any; otherwise the host is woken by the next.
    pub(crate) fn take_call(&self, waker: &Waker) -> Option<Call> {
        self.host.register(waker);
        lock(&self.slot).call.take()
    }

    /// From the host, as it stops waiting for the job: later calls go to the runtime,
    /// and so does one that arrived unserved (returned).
    pub(crate) fn host_gone(&self) -> Option<Call> {
        self.cancelled.store(true, Ordering::Release);
        let mut slot = lock(&self.slot);
        slot.host_gone = true;
        slot.call.take()
    }
}

thread_local! {
    /// The link of the job this thread runs, while it runs one.
    static CURRENT_LINK: RefCell<Option<Arc<HostLink>>> = const { RefCell::new(None) };
}

/// The link of the `to_thread` job running on this thread.
pub(crate) fn current_link() -> Option<Arc<HostLink>> {
    CURRENT_LINK.with(|link| link.borrow().clone())
}

/// Makes `link` this thread's until the guard drops.
pub(crate) fn enter(link: Arc<HostLink>) -> LinkGuard {
    let previous = CURRENT_LINK.with(|current| current.borrow_mut().replace(link));
    LinkGuard { previous }
}

/// Restores the thread's previous link (none, for a pool thread) on drop.
pub(crate) struct LinkGuard {
    previous: Option<Arc<HostLink>>,
}

impl Drop for LinkGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT_LINK.with(|current| *current.borrow_mut() = previous);
    }
}

/// The runtime that calls from this thread go to: the thread's own, or the host's of the
/// job it runs.
pub(crate) fn runtime_of_this_thread() -> Option<Arc<RuntimeShared>> {
    crate::runtime::current_runtime().or_else(|| current_link().and_then(|link| link.runtime()))
}
