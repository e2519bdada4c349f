//! The loop of `Runtime::block_on`: polls the main future and runs executor tasks on
//! the calling thread, and sleeps (letting async-io's reactor wait for I/O and timers)
//! only when neither has anything to do.
//!
//! `async_io::block_on(executor.run(main))` would do the same work, but it polls the
//! reactor (two system calls) every time the main future is woken while it runs; a main
//! task that wakes often (a group whose children talk to it, a loop of checkpoints)
//! would pay that on every wake. Here a wake only sets a flag.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use async_executor::Executor;
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

/// Runs `future` to completion on this thread, serving `executor`'s tasks meanwhile.
pub(crate) fn run<F: Future>(executor: &Executor<'static>, future: F) -> F::Output {
    let mut future = pin!(future);
    let wake = Arc::new(MainWake {
        woken: AtomicBool::new(true),
        sleeping: AtomicBool::new(false),
        idle: AtomicWaker::new(),
    });
    let waker = Waker::from(wake.clone());
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
            executor.tick(),
        ));
        // Busy again: later wakes need not unpark that finished wait.
        wake.sleeping.store(false, Ordering::SeqCst);
        drop(wake.idle.take());
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
