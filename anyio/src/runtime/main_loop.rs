//! The loop of `Runtime::block_on`: polls the main future and runs executor tasks on
//! the calling thread, and sleeps (letting async-io's reactor wait for I/O and timers)
//! only when neither has anything to do.
//!
//! `async_io::block_on(executor.run(main))` would do the same work, but it polls the
//! reactor (two system calls) every time the main future is woken while it runs; a main
//! task that wakes often (a group whose children talk to it, a loop of checkpoints)
//! would pay that on every wake. Here a wake only sets a flag, and the loop runs inside
//! one `block_on` that it returns to only when idle, or after a budget of busy rounds
//! (so that I/O events are seen even while the loop stays busy).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use crate::runtime::executor::{Executor, Ticker};
use atomic_waker::AtomicWaker;

/// How many executor tasks run between two polls of a woken main future.
const TASKS_PER_MAIN_POLL: usize = 64;

/// The main future's waker: a flag, plus the waker of the idle wait (if any).
struct MainWake {
    woken: AtomicBool,
    /// True while the loop is in (or entering) its idle wait: only then does a wake need
    /// to go through `idle`. A main task that wakes itself during its poll (a yield)
    /// then costs one swap.
    sleeping: AtomicBool,
    idle: AtomicWaker,
}

impl Wake for MainWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // SeqCst pairs with `MainWoken::poll`: either this sees `sleeping` set, or the
        // sleeper sees `woken` set; never neither.
        if !self.woken.swap(true, Ordering::SeqCst) && self.sleeping.load(Ordering::SeqCst) {
            self.idle.wake();
        }
    }
}

/// A fresh main-future waker, woken (so that the first round polls the main future).
fn main_wake() -> (Arc<MainWake>, Waker) {
    let wake = Arc::new(MainWake {
        woken: AtomicBool::new(true),
        sleeping: AtomicBool::new(false),
        idle: AtomicWaker::new(),
    });
    let waker = Waker::from(wake.clone());
    (wake, waker)
}

/// How many rounds (a poll of the woken main future, then up to `TASKS_PER_MAIN_POLL`
/// executor tasks) run back to back before the reactor gets a look for I/O events.
const ROUNDS_PER_REACTOR_POLL: usize = 16;

/// Runs `future` to completion on this thread, serving `executor`'s tasks meanwhile.
/// `alone`: the runtime has no worker threads, so this thread runs every task.
pub(crate) fn run<F: Future>(executor: &Executor, future: F, alone: bool) -> F::Output {
    if alone {
        run_alone(executor, future)
    } else {
        run_with_workers(executor, future)
    }
}

/// `run` for a runtime without worker threads. One `async_io::block_on` spans the whole
/// run, so that this thread drives the reactor whenever the loop is idle and async-io's
/// own thread stays asleep (entering and leaving `block_on` at every idle moment wakes
/// that thread, which then takes the reactor and hands each event over to this one: two
/// context switches per event).
fn run_alone<F: Future>(executor: &Executor, future: F) -> F::Output {
    let (wake, waker) = main_wake();
    async_io::block_on(MainLoop {
        executor,
        future,
        wake,
        waker,
        ticker: executor.ticker(),
    })
}

/// `run` for a runtime with worker threads: the loop sleeps in a `block_on` of its own
/// each time it is idle, so that the workers (or async-io's thread) may drive the reactor
/// meanwhile and the tasks that I/O wakes spread over every thread.
fn run_with_workers<F: Future>(executor: &Executor, future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let (wake, waker) = main_wake();
    let mut cx = Context::from_waker(&waker);
    loop {
        if wake.woken.swap(false, Ordering::AcqRel)
            && let Poll::Ready(output) = future.as_mut().poll(&mut cx)
        {
            return output;
        }
        let mut ran = 0;
        while ran < TASKS_PER_MAIN_POLL && executor.try_tick() {
            ran += 1;
        }
        if ran > 0 || wake.woken.load(Ordering::Acquire) {
            continue;
        }
        // Nothing to do: wait for a wake of the main future or a task to run (the
        // reactor is driven meanwhile).
        async_io::block_on(futures_lite::future::or(
            MainWoken { wake: &wake },
            executor.ticker(),
        ));
        // Busy again: later wakes need not unpark that finished wait.
        wake.sleeping.store(false, Ordering::SeqCst);
        drop(wake.idle.take());
    }
}

pin_project_lite::pin_project! {
    /// The loop as one future: polled by `block_on` only when it returned `Pending`
    /// because it was idle (or after a budget of busy rounds, to let the reactor in).
    struct MainLoop<'a, F> {
        executor: &'a Executor,
        #[pin]
        future: F,
        wake: Arc<MainWake>,
        // The main future's waker (a `MainWake`): a self-wake costs one swap.
        waker: Waker,
        // Waits for a task to be scheduled while the loop is idle (kept across polls,
        // so that the executor knows this thread as a sleeper to notify).
        ticker: Ticker<'a>,
    }
}

impl<F: Future> Future for MainLoop<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let wake = &**this.wake;
        // Busy from here on: later wakes need not unpark `block_on`.
        wake.sleeping.store(false, Ordering::SeqCst);
        wake.idle.register(cx.waker());
        for _ in 0..ROUNDS_PER_REACTOR_POLL {
            if wake.woken.swap(false, Ordering::AcqRel) {
                let mut main_cx = Context::from_waker(this.waker);
                if let Poll::Ready(output) = this.future.as_mut().poll(&mut main_cx) {
                    return Poll::Ready(output);
                }
            }
            let mut ran = 0;
            while ran < TASKS_PER_MAIN_POLL && this.executor.try_tick() {
                ran += 1;
            }
            if ran > 0 || wake.woken.load(Ordering::Acquire) {
                continue;
            }
            // Nothing to do: wait (in `block_on`, which drives the reactor) for a wake of
            // the main future or a task to run.
            if this.ticker.poll_tick(cx).is_ready() {
                // It ran a task that was scheduled meanwhile.
                continue;
            }
            // A seeded runtime moves its mock clock here, when nothing is left to run.
            if crate::runtime::seed::jump_when_idle() {
                continue;
            }
            // SeqCst pairs with `MainWake::wake_by_ref`: either this sees `woken`, or the
            // waker sees `sleeping` and wakes `block_on`.
            wake.sleeping.store(true, Ordering::SeqCst);
            if wake.woken.load(Ordering::SeqCst) {
                wake.sleeping.store(false, Ordering::SeqCst);
                continue;
            }
            return Poll::Pending;
        }
        // Busy for a while: `block_on` polls the reactor (a wake makes it look at once,
        // without blocking), then polls the loop again.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Resolves once the main future was woken.
struct MainWoken<'a> {
    wake: &'a MainWake,
}

impl Future for MainWoken<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.wake.idle.register(cx.waker());
        self.wake.sleeping.store(true, Ordering::SeqCst);
        if self.wake.woken.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
