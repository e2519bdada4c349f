//! A group's local child (`start_soon`, `start`) in one allocation: a header (reference
//! count, the body's vtable, the child's node) followed by the child's future, which may
//! borrow from the group's environment (`'env`).
//!
//! Three kinds of handle reach the allocation:
//! - [`LocalTask`]: the one owner, held by the group's run future. Only it polls the
//!   future and drops it (at the child's end, or when the owner is dropped), so the
//!   future never outlives `'env`: the owner cannot (it carries `'env`), and nothing else
//!   ever touches the future. A forgotten owner leaks the allocation, future included.
//! - [`NodeRef`]: a counted, `'static` reference to the node (the registry's, a `start`
//!   handshake's), and every [`Waker`] made for the child (its wakes call
//!   [`LocalMeta::wake`]). The last reference frees the allocation; the future is gone by
//!   then (the owner's reference is one of them).
//! - [`Lent`]: the node lent to the thread context for the length of one poll, without a
//!   count; [`LocalTask::poll`] takes it back before it returns.

use std::alloc::Layout;
use std::cell::UnsafeCell;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering, fence};
use std::task::{Context, Poll, Waker};

use crate::os::waker::{WakeTarget, raw_waker};

/// Past this many references the count would come close to overflowing: abort, as
/// `Arc` does.
const MAX_REFS: usize = isize::MAX as usize;

/// What a local child's node does for it.
pub(crate) trait LocalMeta: Send + Sync + Sized + 'static {
    /// The child future's output.
    type Output;

    /// A waker of the child was woken: queue the child for its group's next round.
    fn wake(&self);
}

#[repr(C)]
struct Header<M: LocalMeta> {
    refs: AtomicUsize,
    vtable: &'static LocalVtable<M>,
    meta: M,
}

/// The operations that depend on the future's type.
struct LocalVtable<M: LocalMeta> {
    poll: PollFn<M>,
    drop_future: unsafe fn(NonNull<Header<M>>),
    layout: Layout,
}

type PollFn<M> = unsafe fn(NonNull<Header<M>>, &mut Context<'_>) -> Poll<<M as LocalMeta>::Output>;

/// The allocation: the header first (`repr(C)`), so that a pointer to it is a pointer to
/// the whole.
#[repr(C)]
struct LocalCell<M: LocalMeta, F> {
    header: Header<M>,
    future: UnsafeCell<ManuallyDrop<F>>,
}

impl<M: LocalMeta, F: Future<Output = M::Output>> LocalCell<M, F> {
    const VTABLE: LocalVtable<M> = LocalVtable {
        poll: Self::poll,
        drop_future: Self::drop_future,
        layout: Layout::new::<Self>(),
    };

    /// # Safety
    /// `header` points into a live `LocalCell<M, F>` whose future is not dropped, and the
    /// caller is its owner (`&mut LocalTask`), so nothing else touches the future.
    unsafe fn poll(header: NonNull<Header<M>>, cx: &mut Context<'_>) -> Poll<M::Output> {
        let cell = header.cast::<LocalCell<M, F>>().as_ptr();
        // SAFETY: as the contract says; the future never moves (it stays in its
        // allocation until it is dropped in place).
        let future = unsafe { Pin::new_unchecked(&mut **(*cell).future.get()) };
        future.poll(cx)
    }

    /// # Safety
    /// As for `poll`; the future is dropped once (the owner is being dropped).
    unsafe fn drop_future(header: NonNull<Header<M>>) {
        let cell = header.cast::<LocalCell<M, F>>().as_ptr();
        // SAFETY: as the contract says.
        unsafe { ManuallyDrop::drop(&mut *(*cell).future.get()) }
    }
}

/// The owner of a local child: polls its future, and drops it when dropped.
pub(crate) struct LocalTask<'env, M: LocalMeta> {
    header: NonNull<Header<M>>,
    /// The future may borrow for `'env` (and is `Send`: see `new`).
    _env: PhantomData<&'env mut ()>,
}

// SAFETY: `new` takes only `Send` futures; the node is `Send + Sync`; the count is atomic.
unsafe impl<M: LocalMeta> Send for LocalTask<'_, M> {}

impl<'env, M: LocalMeta> LocalTask<'env, M> {
    /// A child with node `meta` and future `future`, owned by the returned handle.
    pub(crate) fn new<F>(meta: M, future: F) -> LocalTask<'env, M>
    where
        F: Future<Output = M::Output> + Send + 'env,
    {
        let cell = Box::new(LocalCell {
            header: Header {
                refs: AtomicUsize::new(1),
                vtable: &LocalCell::<M, F>::VTABLE,
                meta,
            },
            future: UnsafeCell::new(ManuallyDrop::new(future)),
        });
        LocalTask {
            header: NonNull::from(Box::leak(cell)).cast(),
            _env: PhantomData,
        }
    }

    fn header(&self) -> &Header<M> {
        // SAFETY: the owner's reference keeps the allocation alive.
        unsafe { self.header.as_ref() }
    }

    /// A counted reference to the node.
    pub(crate) fn node(&self) -> NodeRef<M> {
        // SAFETY: the owner's reference keeps the header alive while it is counted.
        unsafe { increment(self.header) };
        NodeRef {
            header: self.header,
        }
    }

    /// Polls the future once, with a waker of this child (counted only if the future
    /// clones it). `around` runs the poll (its second argument) with the node lent to it,
    /// and must give the node back; if it does not, or it unwinds, the process aborts
    /// (the lent node would otherwise outlive what keeps it valid).
    pub(crate) fn poll(
        &mut self,
        around: impl FnOnce(Lent<M>, &mut dyn FnMut() -> Poll<M::Output>) -> (Lent<M>, Poll<M::Output>),
    ) -> Poll<M::Output> {
        let header = self.header;
        let vtable = self.header().vtable;
        // SAFETY: the vtable's functions expect a pointer to a live header, which `self`
        // keeps alive for the whole poll; the waker is not dropped (no count of its own).
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(raw_waker(header)) });
        let mut cx = Context::from_waker(&waker);
        // SAFETY: `&mut self` makes this the only access to the future, which is alive
        // (it is dropped only with the owner).
        let mut poll_future = || unsafe { (vtable.poll)(header, &mut cx) };
        let guard = AbortOnUnwind;
        let (back, poll) = around(Lent { header }, &mut poll_future);
        std::mem::forget(guard);
        if back.header != header {
            // Not the node lent (a lent node of another task would be live elsewhere).
            std::process::abort();
        }
        poll
    }
}

impl<M: LocalMeta> Deref for LocalTask<'_, M> {
    type Target = M;

    fn deref(&self) -> &M {
        &self.header().meta
    }
}

impl<M: LocalMeta> Drop for LocalTask<'_, M> {
    fn drop(&mut self) {
        // SAFETY: the owner drops the future, once, while its reference keeps the
        // allocation alive; then gives that reference up.
        unsafe {
            (self.header().vtable.drop_future)(self.header);
            release(self.header);
        }
    }
}

/// Aborts the process if dropped during a panic's unwinding (see `LocalTask::poll`).
struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        std::process::abort();
    }
}

/// A counted reference to a local child's node.
pub(crate) struct NodeRef<M: LocalMeta> {
    header: NonNull<Header<M>>,
}

// SAFETY: a `NodeRef` gives access to the node only (`Send + Sync`) and to wakes, which
// go through `LocalMeta::wake` (`&self`); the count is atomic.
unsafe impl<M: LocalMeta> Send for NodeRef<M> {}
// SAFETY: as above.
unsafe impl<M: LocalMeta> Sync for NodeRef<M> {}

impl<M: LocalMeta> Deref for NodeRef<M> {
    type Target = M;

    fn deref(&self) -> &M {
        // SAFETY: this reference keeps the allocation alive.
        unsafe { &self.header.as_ref().meta }
    }
}

impl<M: LocalMeta> Clone for NodeRef<M> {
    fn clone(&self) -> Self {
        // SAFETY: `self` keeps the header alive while the new reference is counted.
        unsafe { increment(self.header) };
        NodeRef {
            header: self.header,
        }
    }
}

impl<M: LocalMeta> Drop for NodeRef<M> {
    fn drop(&mut self) {
        // SAFETY: this reference is given up here.
        unsafe { release(self.header) }
    }
}

/// A local child's node, lent for one poll (see `LocalTask::poll`): valid while it
/// exists, since the poll that lent it takes it back before the owner can go away.
pub(crate) struct Lent<M: LocalMeta> {
    header: NonNull<Header<M>>,
}

// SAFETY: as for `NodeRef`.
unsafe impl<M: LocalMeta> Send for Lent<M> {}
// SAFETY: as for `NodeRef`.
unsafe impl<M: LocalMeta> Sync for Lent<M> {}

impl<M: LocalMeta> Deref for Lent<M> {
    type Target = M;

    fn deref(&self) -> &M {
        // SAFETY: a `Lent` exists only during the poll of the owner that made it (which
        // keeps the allocation alive), and is never copied: see `LocalTask::poll`.
        unsafe { &self.header.as_ref().meta }
    }
}

/// # Safety
/// The caller holds a reference to `header`.
unsafe fn increment<M: LocalMeta>(header: NonNull<Header<M>>) {
    // SAFETY: the caller's reference keeps the header alive.
    let refs = unsafe { &header.as_ref().refs };
    if refs.fetch_add(1, Ordering::Relaxed) > MAX_REFS {
        std::process::abort();
    }
}

/// Gives up one reference; the last one drops the node and frees the allocation (the
/// future was dropped by its owner before the owner's reference was given up).
///
/// # Safety
/// The caller holds the reference given up, and does not use `header` afterwards.
unsafe fn release<M: LocalMeta>(header: NonNull<Header<M>>) {
    // SAFETY: the caller's reference keeps the header alive until the decrement.
    let (refs, layout) = unsafe {
        let header = header.as_ref();
        (&header.refs, header.vtable.layout)
    };
    if refs.fetch_sub(1, Ordering::Release) != 1 {
        return;
    }
    // Pairs with the other references' releases, as in `Arc::drop`.
    fence(Ordering::Acquire);
    // SAFETY: no reference is left: the node is dropped in place, and the allocation
    // (made by `Box` with this layout in `new`) freed; the future is not touched.
    unsafe {
        std::ptr::drop_in_place(&raw mut (*header.as_ptr()).meta);
        std::alloc::dealloc(header.as_ptr().cast(), layout);
    }
}

// SAFETY: each function does what `WakeTarget` says, with the caller's reference.
unsafe impl<M: LocalMeta> WakeTarget for Header<M> {
    unsafe fn increment(header: NonNull<Self>) {
        // SAFETY: as the trait says.
        unsafe { increment(header) }
    }

    unsafe fn wake(header: NonNull<Self>) {
        // SAFETY: as the trait says: the reference is held for the wake, then given up.
        unsafe {
            header.as_ref().meta.wake();
            release(header);
        }
    }

    unsafe fn wake_by_ref(header: NonNull<Self>) {
        // SAFETY: as the trait says.
        unsafe { header.as_ref().meta.wake() }
    }

    unsafe fn release(header: NonNull<Self>) {
        // SAFETY: as the trait says.
        unsafe { release(header) }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Counts {
        wakes: AtomicUsize,
        freed: AtomicUsize,
    }

    struct TestNode {
        counts: Arc<Counts>,
        id: u64,
    }

    impl LocalMeta for TestNode {
        type Output = u32;

        fn wake(&self) {
            self.counts.wakes.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Drop for TestNode {
        fn drop(&mut self) {
            self.counts.freed.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Polls `task` as the group does, checking the lent node on the way.
    fn poll(task: &mut LocalTask<'_, TestNode>, id: u64) -> Poll<u32> {
        task.poll(|lent, poll| {
            assert_eq!(lent.id, id);
            let poll = poll();
            (lent, poll)
        })
    }

    #[test]
    fn a_future_borrowing_its_environment_runs_and_is_dropped_by_its_owner() {
        let counts = Arc::new(Counts::default());
        let mut borrowed = vec![1_u32, 2, 3];
        let stored: Arc<Mutex<Option<Waker>>> = Arc::default();
        {
            let slot = stored.clone();
            let data = &mut borrowed;
            let mut first = true;
            let future = std::future::poll_fn(move |cx| {
                data.push(4);
                if std::mem::take(&mut first) {
                    *slot.lock().unwrap() = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Poll::Ready(data.iter().sum())
            });
            let node = TestNode {
                counts: counts.clone(),
                id: 7,
            };
            let mut task = LocalTask::new(node, future);
            let registry = task.node();
            assert_eq!(poll(&mut task, 7), Poll::Pending);
            let waker = stored.lock().unwrap().take().unwrap();
            waker.wake_by_ref();
            // A wake by value too (through a clone, which counts a reference).
            let clone = waker.clone();
            clone.wake();
            assert_eq!(counts.wakes.load(Ordering::SeqCst), 2);
            assert_eq!(poll(&mut task, 7), Poll::Ready(14));
            drop(task);
            // The registry's reference and the waker keep the node, not the future.
            assert_eq!(registry.id, 7);
            assert_eq!(counts.freed.load(Ordering::SeqCst), 0);
            drop(registry);
            drop(waker);
            assert_eq!(counts.freed.load(Ordering::SeqCst), 1);
        }
        assert_eq!(borrowed, [1, 2, 3, 4, 4]);
    }

    #[test]
    fn an_owner_dropped_before_its_future_ends_drops_the_future() {
        struct DropCounter(Arc<AtomicUsize>);
        impl Drop for DropCounter {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let counts = Arc::new(Counts::default());
        let dropped = Arc::new(AtomicUsize::new(0));
        let guard = DropCounter(dropped.clone());
        let future = async move {
            let _guard = guard;
            std::future::pending::<u32>().await
        };
        let node = TestNode {
            counts: counts.clone(),
            id: 1,
        };
        let mut task = LocalTask::new(node, future);
        assert_eq!(poll(&mut task, 1), Poll::Pending);
        let registry = task.node();
        drop(task);
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
        assert_eq!(counts.freed.load(Ordering::SeqCst), 0);
        drop(registry);
        assert_eq!(counts.freed.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn wakers_from_other_threads_reach_the_node_while_the_owner_polls() {
        const WAKES: usize = if cfg!(miri) { 20 } else { 2_000 };
        let counts = Arc::new(Counts::default());
        let stored: Arc<Mutex<Option<Waker>>> = Arc::default();
        let slot = stored.clone();
        let mut polls = 0;
        let future = std::future::poll_fn(move |cx| {
            polls += 1;
            *slot.lock().unwrap() = Some(cx.waker().clone());
            if polls == 3 {
                Poll::Ready(polls)
            } else {
                Poll::Pending
            }
        });
        let node = TestNode {
            counts: counts.clone(),
            id: 2,
        };
        let mut task = LocalTask::new(node, future);
        assert_eq!(poll(&mut task, 2), Poll::Pending);
        let waker = stored.lock().unwrap().clone().unwrap();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let waker = waker.clone();
                std::thread::spawn(move || {
                    for _ in 0..WAKES {
                        waker.wake_by_ref();
                    }
                })
            })
            .collect();
        assert_eq!(poll(&mut task, 2), Poll::Pending);
        assert_eq!(poll(&mut task, 2), Poll::Ready(3));
        drop(task);
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(counts.wakes.load(Ordering::SeqCst), 2 * WAKES);
        drop(stored.lock().unwrap().take());
        assert_eq!(counts.freed.load(Ordering::SeqCst), 0);
        drop(waker);
        assert_eq!(counts.freed.load(Ordering::SeqCst), 1);
    }
}
