//! A task in one allocation: a header (the state word, the body's vtable, the task's
//! metadata) followed by the task's body (its future and what polls it).
//!
//! A spawned group child is one of these: its identity (the metadata) is shared by its
//! wakers, its group's list and the thread that polls it, and its body lives beside it,
//! so a child costs one allocation instead of a node plus an executor task.
//!
//! References: every [`RawTask`] and every [`Waker`] made from one counts one reference
//! in the state word. The queue of the executor holds one while the task is scheduled;
//! the runner holds that same one while it polls. The allocation is freed by the drop of
//! the last reference (which drops the body first, unless it was dropped already).
//!
//! The state word: `SCHEDULED` (a reference is in the executor's queue, or the task was
//! woken while it runs), `RUNNING` (one thread polls the body: only that thread touches
//! it), `COMPLETE` (the body was dropped; wakes are ignored), and the reference count
//! above them.
//!
//! A task is always detached: it reports its end through its metadata, not through a
//! join handle.

use std::cell::UnsafeCell;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering, fence};
use std::task::{Context, Poll, Waker};

use crate::os::waker::{WakeTarget, raw_waker};

const SCHEDULED: usize = 1;
const RUNNING: usize = 2;
const COMPLETE: usize = 4;
const REF_ONE: usize = 8;
const REF_MASK: usize = !(REF_ONE - 1);
/// Past this many references the count would come close to overflowing: abort, as
/// `Arc` does.
const MAX_REFS: usize = (usize::MAX / REF_ONE) / 2;

/// What a task's metadata does for it.
pub(crate) trait TaskMeta: Send + Sync + Sized + 'static {
    /// Queues the task to be run (`RawTask::run`) by some thread; the reference moves into
    /// the queue. A closed executor calls `RawTask::cancel` instead, which drops the body
    /// at once. (Merely dropping the reference is allowed too: the task then never runs
    /// again, and its body is dropped with its last reference.)
    fn schedule(task: RawTask<Self>);
}

/// What a task runs: polled by `RawTask::run` only, by one thread at a time, and never
/// moved once the task is created.
pub(crate) trait TaskBody<M>: Send + 'static {
    /// One poll. `task` holds the task's own reference (the runner's), lent for the
    /// poll: the body may move it elsewhere meanwhile (into the thread context, as the
    /// current task) but must put it back before it returns.
    fn poll(self: Pin<&mut Self>, task: &mut Option<RawTask<M>>, cx: &mut Context<'_>) -> Poll<()>
    where
        M: TaskMeta;

    /// Called just before the body is dropped without having completed: its last
    /// reference is gone (the executor dropped it unrun, or nothing can wake it any
    /// more). Runs on whichever thread dropped that reference.
    fn abandon(self: Pin<&mut Self>, meta: &M) {
        let _ = meta;
    }
}

#[repr(C)]
struct Header<M: TaskMeta> {
    state: AtomicUsize,
    vtable: &'static BodyVtable<M>,
    meta: M,
}

/// The operations that depend on the body's type.
struct BodyVtable<M: TaskMeta> {
    poll: PollFn<M>,
    drop_body: unsafe fn(NonNull<Header<M>>, bool),
    dealloc: unsafe fn(NonNull<Header<M>>),
}

type PollFn<M> =
    unsafe fn(NonNull<Header<M>>, &mut Option<RawTask<M>>, &mut Context<'_>) -> Poll<()>;

/// The allocation: the header first (`repr(C)`), so that a pointer to it is a pointer to
/// the whole.
#[repr(C)]
struct TaskCell<M: TaskMeta, B> {
    header: Header<M>,
    body: UnsafeCell<ManuallyDrop<B>>,
}

impl<M: TaskMeta, B: TaskBody<M>> TaskCell<M, B> {
    const VTABLE: BodyVtable<M> = BodyVtable {
        poll: Self::poll,
        drop_body: Self::drop_body,
        dealloc: Self::dealloc,
    };

    /// # Safety
    /// `header` points into a live `TaskCell<M, B>` whose body is not dropped, and the
    /// caller has set `RUNNING` (so nothing else touches the body).
    unsafe fn poll(
        header: NonNull<Header<M>>,
        task: &mut Option<RawTask<M>>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let cell = header.cast::<TaskCell<M, B>>().as_ptr();
        // SAFETY: as the function's contract says: the body is alive, and this thread
        // has exclusive access to it while `RUNNING` is set. The body never moves: it
        // stays in its allocation until it is dropped in place.
        let body = unsafe { Pin::new_unchecked(&mut **(*cell).body.get()) };
        body.poll(task, cx)
    }

    /// Drops the body; `abandoned`: it did not complete (`TaskBody::abandon` first).
    ///
    /// # Safety
    /// `header` points into a live `TaskCell<M, B>` whose body is not dropped yet, and
    /// nothing else touches the body now or later (its task is being completed or freed).
    unsafe fn drop_body(header: NonNull<Header<M>>, abandoned: bool) {
        let cell = header.cast::<TaskCell<M, B>>().as_ptr();
        // SAFETY: as the function's contract says; the body is dropped exactly once
        // (the caller sets `COMPLETE` or frees the cell right after), in place.
        unsafe {
            if abandoned {
                let body = Pin::new_unchecked(&mut **(*cell).body.get());
                body.abandon(&(*cell).header.meta);
            }
            ManuallyDrop::drop(&mut *(*cell).body.get());
        }
    }

    /// # Safety
    /// `header` points to a `TaskCell<M, B>` made by `Box::into_raw` in `RawTask::new`,
    /// with no reference left; its body is dropped already (or deliberately leaked).
    unsafe fn dealloc(header: NonNull<Header<M>>) {
        let cell = header.cast::<TaskCell<M, B>>().as_ptr();
        // SAFETY: as the function's contract says. Dropping the box drops the header
        // (the metadata) but not the body, which is `ManuallyDrop`.
        drop(unsafe { Box::from_raw(cell) });
    }
}

/// One counted reference to a task.
pub(crate) struct RawTask<M: TaskMeta> {
    header: NonNull<Header<M>>,
}

// SAFETY: the metadata is `Send + Sync`, the body is `Send` and only ever touched by the
// one thread that holds `RUNNING` (or by the drop of the last reference, when no other
// reference exists); the state word is atomic.
unsafe impl<M: TaskMeta> Send for RawTask<M> {}
// SAFETY: as above; `&RawTask` gives access to the metadata (`Sync`) and to wakes, which
// are atomic.
unsafe impl<M: TaskMeta> Sync for RawTask<M> {}

impl<M: TaskMeta> RawTask<M> {
    /// A new task holding `meta` and `body`, not scheduled; this is its only reference.
    pub(crate) fn new<B: TaskBody<M>>(meta: M, body: B) -> RawTask<M> {
        let cell = Box::new(TaskCell {
            header: Header {
                state: AtomicUsize::new(REF_ONE),
                vtable: &TaskCell::<M, B>::VTABLE,
                meta,
            },
            body: UnsafeCell::new(ManuallyDrop::new(body)),
        });
        let cell = NonNull::from(Box::leak(cell));
        RawTask {
            header: cell.cast(),
        }
    }

    fn header(&self) -> &Header<M> {
        // SAFETY: this reference keeps the allocation alive.
        unsafe { self.header.as_ref() }
    }

    /// Whether the task is queued to run (or woken while it runs).
    pub(crate) fn is_scheduled(&self) -> bool {
        self.header().state.load(Ordering::Acquire) & SCHEDULED != 0
    }

    /// Schedules the task unless it is scheduled, running (it then runs again after its
    /// poll) or complete. (The crate wakes its tasks by value, outside its locks.)
    #[cfg(test)]
    pub(crate) fn wake_by_ref(&self) {
        // SAFETY: `self` keeps the allocation alive for the call.
        unsafe { wake_by_ref_raw(self.header) }
    }

    /// Consumes this reference and schedules the task, as `wake_by_ref`.
    pub(crate) fn wake(self) {
        let this = ManuallyDrop::new(self);
        // SAFETY: the reference moves into the call.
        unsafe { wake_raw(this.header) }
    }

    /// Polls the body once. Called with the reference the queue held (so `SCHEDULED`
    /// is set and `RUNNING` is not); the task is queued again if it was woken during the
    /// poll. A panic of the body is resumed here, after the body is dropped (the task is
    /// then complete).
    pub(crate) fn run(self) {
        if !self.claim() {
            // Scheduled after the end (cannot happen through wakes); nothing to run.
            return;
        }
        let header = self.header();
        let ptr = self.header;
        let vtable = header.vtable;
        // A waker lent for the poll: no reference of its own (clones count theirs).
        // SAFETY: the vtable's functions expect a pointer to a live header, which
        // `self` (lent to the body, then back in `slot`) keeps alive throughout.
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(raw_waker(ptr)) });
        let mut cx = Context::from_waker(&waker);
        let mut slot = Some(self);
        let poll = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: `RUNNING` is ours, and the body is alive (not `COMPLETE`).
            unsafe { (vtable.poll)(ptr, &mut slot, &mut cx) }
        }));
        let Some(this) = slot else {
            // The body kept the reference (a bug, or a panic that unwound past its
            // guard): leave the task as it is rather than touch memory this thread no
            // longer holds a reference to.
            match poll {
                Err(payload) => resume_unwind(payload),
                Ok(_) => panic!("a task's body did not give its reference back after a poll"),
            }
        };
        let header = this.header();
        match poll {
            Ok(Poll::Ready(())) => this.finish(false, None),
            Err(payload) => this.finish(false, Some(payload)),
            Ok(Poll::Pending) => {
                let mut state = header.state.load(Ordering::Acquire);
                loop {
                    match header.state.compare_exchange_weak(
                        state,
                        state & !RUNNING,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => break,
                        Err(actual) => state = actual,
                    }
                }
                if state & SCHEDULED != 0 {
                    // Woken during the poll: this reference goes back to the queue.
                    M::schedule(this);
                } else {
                    drop(this);
                }
            }
        }
    }
}

impl<M: TaskMeta> RawTask<M> {
    /// Drops the body (with `TaskBody::abandon` first if `abandoned`), marks the task
    /// complete and gives up this reference, which must be the one that holds `RUNNING`;
    /// then resumes `panic`, if any. A panic of the drop itself is resumed after the task
    /// is marked complete (the rest of the body is then leaked, never dropped twice).
    fn finish(self, abandoned: bool, panic: Option<Box<dyn std::any::Any + Send>>) {
        let (ptr, vtable) = (self.header, self.header().vtable);
        let dropped = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: `RUNNING` is held by this reference and the body is alive; the
            // task is marked `COMPLETE` next, so nothing touches the body again.
            unsafe { (vtable.drop_body)(ptr, abandoned) }
        }));
        self.header().complete();
        drop(self);
        if let Some(payload) = panic.or(dropped.err()) {
            resume_unwind(payload);
        }
    }

    /// Drops a scheduled task's body without running it (a closed executor's job): takes
    /// `RUNNING` as `run` does, then drops the body as abandoned and completes the task.
    /// Called with the reference the queue held.
    pub(crate) fn cancel(self) {
        if self.claim() {
            self.finish(true, None);
        }
    }

    /// Clears `SCHEDULED` and sets `RUNNING`, unless the task is complete (then returns
    /// false). Called with the queue's reference, so `SCHEDULED` is set and `RUNNING`
    /// is not: nobody else polls the task meanwhile.
    fn claim(&self) -> bool {
        let header = self.header();
        let mut state = header.state.load(Ordering::Acquire);
        loop {
            if state & COMPLETE != 0 {
                return false;
            }
            debug_assert!(
                state & SCHEDULED != 0 && state & RUNNING == 0,
                "a task is claimed only through its queued reference"
            );
            let claimed = (state & !SCHEDULED) | RUNNING;
            match header.state.compare_exchange_weak(
                state,
                claimed,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }
}

impl<M: TaskMeta> Header<M> {
    /// Marks the body dropped (and not running or scheduled any more).
    fn complete(&self) {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let done = (state & REF_MASK) | COMPLETE;
            match self
                .state
                .compare_exchange_weak(state, done, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
    }
}

impl<M: TaskMeta> Deref for RawTask<M> {
    type Target = M;

    fn deref(&self) -> &M {
        &self.header().meta
    }
}

impl<M: TaskMeta> Clone for RawTask<M> {
    fn clone(&self) -> Self {
        // SAFETY: `self` keeps the allocation alive; the new reference is counted.
        unsafe { increment(self.header) };
        RawTask {
            header: self.header,
        }
    }
}

impl<M: TaskMeta> Drop for RawTask<M> {
    fn drop(&mut self) {
        // SAFETY: this reference is given up here.
        unsafe { release::<M>(self.header) }
    }
}

impl<M: TaskMeta> PartialEq for RawTask<M> {
    fn eq(&self, other: &Self) -> bool {
        self.header == other.header
    }
}

/// # Safety
/// `header` is alive (the caller holds a reference).
unsafe fn increment<M: TaskMeta>(header: NonNull<Header<M>>) {
    // SAFETY: the caller's reference keeps the header alive.
    let state = unsafe { &header.as_ref().state };
    // Relaxed, as for `Arc::clone`: a new reference is made from an existing one.
    if state.fetch_add(REF_ONE, Ordering::Relaxed) / REF_ONE > MAX_REFS {
        std::process::abort();
    }
}

/// Gives up one reference; the last one drops the body (unless it was dropped already)
/// and frees the task.
///
/// # Safety
/// The caller holds the reference given up, and does not use `header` afterwards.
unsafe fn release<M: TaskMeta>(header: NonNull<Header<M>>) {
    // SAFETY: the caller's reference keeps the header alive until the decrement.
    let (state, vtable) = unsafe {
        let header = header.as_ref();
        (&header.state, header.vtable)
    };
    let previous = state.fetch_sub(REF_ONE, Ordering::Release);
    if previous & REF_MASK != REF_ONE {
        return;
    }
    // Pairs with the other references' releases, as in `Arc::drop`.
    fence(Ordering::Acquire);
    // SAFETY: no reference is left, so no thread runs or will run the body; it is
    // dropped once (unless `COMPLETE` says it was), then the cell is freed.
    unsafe {
        if previous & COMPLETE == 0 {
            (vtable.drop_body)(header, true);
        }
        (vtable.dealloc)(header);
    }
}

/// # Safety
/// The caller holds a reference to `header` for the whole call.
unsafe fn wake_by_ref_raw<M: TaskMeta>(header: NonNull<Header<M>>) {
    // SAFETY: the caller's reference keeps the header alive.
    let state = unsafe { &header.as_ref().state };
    let mut current = state.load(Ordering::Acquire);
    loop {
        if current & (COMPLETE | SCHEDULED) != 0 {
            return;
        }
        // Running: the runner queues it again after its poll, with its own reference.
        // Idle: the queue gets a new reference.
        let next = match current & RUNNING {
            0 => (current | SCHEDULED) + REF_ONE,
            _ => current | SCHEDULED,
        };
        match state.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                if current & RUNNING == 0 {
                    M::schedule(RawTask { header });
                }
                return;
            }
            Err(actual) => current = actual,
        }
    }
}

/// # Safety
/// The caller gives up one reference to `header`.
unsafe fn wake_raw<M: TaskMeta>(header: NonNull<Header<M>>) {
    // SAFETY: the caller's reference keeps the header alive until it is given up below
    // (to the queue, or released).
    let state = unsafe { &header.as_ref().state };
    let mut current = state.load(Ordering::Acquire);
    loop {
        if current & (COMPLETE | SCHEDULED | RUNNING) != 0 {
            // Nothing to queue: set the flag if it runs (the runner queues it), then
            // give the reference up.
            if current & (COMPLETE | SCHEDULED) == 0 {
                match state.compare_exchange_weak(
                    current,
                    current | SCHEDULED,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {}
                    Err(actual) => {
                        current = actual;
                        continue;
                    }
                }
            }
            // SAFETY: the caller's reference is given up here.
            unsafe { release::<M>(header) };
            return;
        }
        // Idle: the caller's reference moves into the queue.
        match state.compare_exchange_weak(
            current,
            current | SCHEDULED,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                M::schedule(RawTask { header });
                return;
            }
            Err(actual) => current = actual,
        }
    }
}

// SAFETY: each function does what `WakeTarget` says, with the caller's reference.
unsafe impl<M: TaskMeta> WakeTarget for Header<M> {
    unsafe fn increment(header: NonNull<Self>) {
        // SAFETY: as the trait says.
        unsafe { increment(header) }
    }

    unsafe fn wake(header: NonNull<Self>) {
        // SAFETY: as the trait says.
        unsafe { wake_raw(header) }
    }

    unsafe fn wake_by_ref(header: NonNull<Self>) {
        // SAFETY: as the trait says.
        unsafe { wake_by_ref_raw(header) }
    }

    unsafe fn release(header: NonNull<Self>) {
        // SAFETY: as the trait says.
        unsafe { release(header) }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::future::Future;
    use std::sync::atomic::AtomicBool;
    use std::sync::{Arc, Mutex};

    use super::*;

    type Queue = Arc<Mutex<VecDeque<RawTask<TestMeta>>>>;

    struct TestMeta {
        queue: Queue,
        freed: Arc<AtomicUsize>,
        abandoned: Arc<AtomicUsize>,
    }

    impl TaskMeta for TestMeta {
        fn schedule(task: RawTask<Self>) {
            let queue = task.queue.clone();
            queue.lock().unwrap().push_back(task);
        }
    }

    impl Drop for TestMeta {
        fn drop(&mut self) {
            self.freed.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A future as a body; counts its drops, and checks that no two polls overlap.
    struct FutureBody<F> {
        future: F,
        dropped: Arc<AtomicUsize>,
        in_poll: AtomicBool,
    }

    impl<F> Drop for FutureBody<F> {
        fn drop(&mut self) {
            self.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl<F: Future<Output = ()> + Send + Unpin + 'static> TaskBody<TestMeta> for FutureBody<F> {
        fn poll(
            self: Pin<&mut Self>,
            task: &mut Option<RawTask<TestMeta>>,
            cx: &mut Context<'_>,
        ) -> Poll<()> {
            let this = self.get_mut();
            assert!(
                !this.in_poll.swap(true, Ordering::SeqCst),
                "two polls at once"
            );
            // The reference may travel during the poll, as a spawned child's does (into
            // the thread context, and back by a guard, even on a panic).
            struct Lent<'a> {
                slot: &'a mut Option<RawTask<TestMeta>>,
                task: Option<RawTask<TestMeta>>,
            }
            impl Drop for Lent<'_> {
                fn drop(&mut self) {
                    *self.slot = self.task.take();
                }
            }
            let lent = Lent {
                task: Some(task.take().expect("the runner lends its reference")),
                slot: task,
            };
            assert!(lent.task.is_some());
            let poll = Pin::new(&mut this.future).poll(cx);
            drop(lent);
            this.in_poll.store(false, Ordering::SeqCst);
            poll
        }

        fn abandon(self: Pin<&mut Self>, meta: &TestMeta) {
            meta.abandoned.fetch_add(1, Ordering::SeqCst);
        }
    }

    struct Fixture {
        queue: Queue,
        freed: Arc<AtomicUsize>,
        dropped: Arc<AtomicUsize>,
        abandoned: Arc<AtomicUsize>,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                queue: Queue::default(),
                freed: Arc::default(),
                dropped: Arc::default(),
                abandoned: Arc::default(),
            }
        }

        fn task<F>(&self, future: F) -> RawTask<TestMeta>
        where
            F: Future<Output = ()> + Send + Unpin + 'static,
        {
            let meta = TestMeta {
                queue: self.queue.clone(),
                freed: self.freed.clone(),
                abandoned: self.abandoned.clone(),
            };
            RawTask::new(
                meta,
                FutureBody {
                    future,
                    dropped: self.dropped.clone(),
                    in_poll: AtomicBool::new(false),
                },
            )
        }

        fn pop(&self) -> Option<RawTask<TestMeta>> {
            self.queue.lock().unwrap().pop_front()
        }

        /// Runs queued tasks until none is left; returns how many ran.
        fn run_all(&self) -> usize {
            let mut ran = 0;
            while let Some(task) = self.pop() {
                task.run();
                ran += 1;
            }
            ran
        }

        fn counts(&self) -> (usize, usize) {
            (
                self.dropped.load(Ordering::SeqCst),
                self.freed.load(Ordering::SeqCst),
            )
        }
    }

    #[test]
    fn a_task_ready_at_once_runs_once_and_is_freed_with_its_last_reference() {
        let fixture = Fixture::new();
        let task = fixture.task(std::future::ready(()));
        let kept = task.clone();
        task.wake();
        assert!(kept.is_scheduled());
        assert_eq!(fixture.run_all(), 1);
        assert_eq!(fixture.counts(), (1, 0), "the body is dropped at its end");
        kept.wake_by_ref();
        assert_eq!(
            fixture.run_all(),
            0,
            "a complete task is never queued again"
        );
        drop(kept);
        assert_eq!(fixture.counts(), (1, 1));
    }

    #[test]
    fn a_stored_waker_schedules_the_task_again() {
        let fixture = Fixture::new();
        let stored: Arc<Mutex<Option<Waker>>> = Arc::default();
        let polls = Arc::new(AtomicUsize::new(0));
        let (slot, count) = (stored.clone(), polls.clone());
        let task = fixture.task(std::future::poll_fn(move |cx| {
            if count.fetch_add(1, Ordering::SeqCst) == 0 {
                *slot.lock().unwrap() = Some(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        }));
        task.wake();
        assert_eq!(fixture.run_all(), 1);
        assert_eq!(fixture.counts(), (0, 0));
        let waker = stored.lock().unwrap().take().unwrap();
        waker.wake_by_ref();
        waker.wake_by_ref();
        assert_eq!(fixture.run_all(), 1, "two wakes before a run queue it once");
        assert_eq!(polls.load(Ordering::SeqCst), 2);
        assert_eq!(
            fixture.counts(),
            (1, 0),
            "the waker still holds the allocation"
        );
        drop(waker);
        assert_eq!(fixture.counts(), (1, 1));
    }

    #[test]
    fn a_task_woken_during_its_poll_is_queued_again_after_it() {
        let fixture = Fixture::new();
        let polls = Arc::new(AtomicUsize::new(0));
        let count = polls.clone();
        let task = fixture.task(std::future::poll_fn(move |cx| {
            if count.fetch_add(1, Ordering::SeqCst) < 3 {
                cx.waker().wake_by_ref();
                // A wake by value too (through a clone, which counts a reference).
                let clone = cx.waker().clone();
                clone.wake();
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        }));
        task.wake();
        assert_eq!(fixture.run_all(), 4);
        assert_eq!(polls.load(Ordering::SeqCst), 4);
        assert_eq!(fixture.counts(), (1, 1));
    }

    #[test]
    fn dropping_every_reference_of_a_waiting_task_drops_its_body() {
        let fixture = Fixture::new();
        let stored: Arc<Mutex<Option<Waker>>> = Arc::default();
        let slot = stored.clone();
        let task = fixture.task(std::future::poll_fn(move |cx| {
            *slot.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        }));
        let kept = task.clone();
        task.wake();
        fixture.run_all();
        drop(kept);
        assert_eq!(fixture.counts(), (0, 0));
        // The body holds its own waker: dropping that waker (from outside) frees it.
        let waker = stored.lock().unwrap().take().unwrap();
        drop(waker);
        assert_eq!(fixture.counts(), (1, 1));
        assert_eq!(fixture.abandoned.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_queued_task_dropped_unrun_drops_its_body() {
        let fixture = Fixture::new();
        let task = fixture.task(std::future::pending::<()>());
        task.wake();
        let queued = fixture.pop().unwrap();
        drop(queued);
        assert_eq!(fixture.counts(), (1, 1));
        assert_eq!(fixture.abandoned.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_panicking_body_is_dropped_and_its_panic_resumed() {
        let fixture = Fixture::new();
        let task = fixture.task(std::future::poll_fn(|_| -> Poll<()> { panic!("boom") }));
        let kept = task.clone();
        task.wake();
        let queued = fixture.pop().unwrap();
        let result = catch_unwind(AssertUnwindSafe(|| queued.run()));
        assert!(result.is_err());
        kept.wake_by_ref();
        assert!(fixture.pop().is_none(), "a task that panicked is complete");
        assert_eq!(fixture.counts(), (1, 0));
        drop(kept);
        assert_eq!(fixture.counts(), (1, 1));
    }

    #[test]
    fn a_body_whose_drop_panics_after_its_end_is_dropped_once() {
        struct PanicOnDrop(Arc<AtomicUsize>);
        impl Drop for PanicOnDrop {
            fn drop(&mut self) {
                if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("the drop panics");
                }
            }
        }
        let fixture = Fixture::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = PanicOnDrop(drops.clone());
        // The closure (and its guard) is dropped with the body, after the poll.
        let task = fixture.task(std::future::poll_fn(move |_| {
            let _ = &guard;
            Poll::Ready(())
        }));
        let kept = task.clone();
        task.wake();
        let queued = fixture.pop().unwrap();
        assert!(catch_unwind(AssertUnwindSafe(|| queued.run())).is_err());
        drop(kept);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the body was dropped twice"
        );
        assert_eq!(fixture.freed.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_cancelled_task_drops_its_body_at_once_even_while_its_waker_lives() {
        let fixture = Fixture::new();
        let stored: Arc<Mutex<Option<Waker>>> = Arc::default();
        let slot = stored.clone();
        let task = fixture.task(std::future::poll_fn(move |cx| {
            *slot.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        }));
        task.wake();
        fixture.run_all();
        let waker = stored.lock().unwrap().take().unwrap();
        waker.wake_by_ref();
        // The executor is closed: the queued reference is cancelled instead of run.
        fixture.pop().unwrap().cancel();
        assert_eq!(fixture.counts(), (1, 0));
        assert_eq!(fixture.abandoned.load(Ordering::SeqCst), 1);
        waker.wake_by_ref();
        assert!(fixture.pop().is_none(), "a cancelled task is complete");
        drop(waker);
        assert_eq!(fixture.counts(), (1, 1));
    }

    #[test]
    fn wakes_from_other_threads_race_the_runner_without_overlapping_polls() {
        const THREADS: usize = 3;
        const WAKES: usize = if cfg!(miri) { 20 } else { 2_000 };
        let fixture = Fixture::new();
        let polls = Arc::new(AtomicUsize::new(0));
        let finish = Arc::new(AtomicBool::new(false));
        let stored: Arc<Mutex<Option<Waker>>> = Arc::default();
        let (count, done, slot) = (polls.clone(), finish.clone(), stored.clone());
        let task = fixture.task(std::future::poll_fn(move |cx| {
            count.fetch_add(1, Ordering::SeqCst);
            if done.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            let mut slot = slot.lock().unwrap();
            if slot.is_none() {
                *slot = Some(cx.waker().clone());
            }
            Poll::Pending
        }));
        let kept = task.clone();
        task.wake();
        fixture.run_all();
        let waker = stored.lock().unwrap().clone().unwrap();
        let wakers: Vec<_> = (0..THREADS)
            .map(|_| {
                let waker = waker.clone();
                std::thread::spawn(move || {
                    for _ in 0..WAKES {
                        waker.wake_by_ref();
                    }
                })
            })
            .collect();
        let mut alive = wakers.len();
        while alive > 0 {
            fixture.run_all();
            alive = wakers.iter().filter(|t| !t.is_finished()).count();
            std::thread::yield_now();
        }
        for thread in wakers {
            thread.join().unwrap();
        }
        finish.store(true, Ordering::SeqCst);
        waker.wake();
        fixture.run_all();
        assert_eq!(fixture.counts(), (1, 0));
        drop(stored.lock().unwrap().take());
        drop(kept);
        assert_eq!(fixture.counts(), (1, 1));
        assert!(polls.load(Ordering::SeqCst) >= 2);
    }
}
