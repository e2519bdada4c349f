//! The waker vtable of the tasks in `raw_task` and `local_task`: a waker is a counted
//! reference to a task's header, and each module says what its wakes do.

use std::marker::PhantomData;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable};

/// A task header that wakers point to.
///
/// # Safety
/// Each function is called with a pointer to a live header on which the caller holds a
/// reference (a waker's own, or one lent for a poll): `increment` counts one more,
/// `wake` consumes the caller's, `wake_by_ref` keeps it, `release` gives it up.
pub(crate) unsafe trait WakeTarget: Sized {
    unsafe fn increment(header: NonNull<Self>);
    unsafe fn wake(header: NonNull<Self>);
    unsafe fn wake_by_ref(header: NonNull<Self>);
    unsafe fn release(header: NonNull<Self>);
}

/// A waker of the task whose header is `header` (counting no reference of its own: the
/// caller decides whether it holds one).
pub(crate) fn raw_waker<T: WakeTarget>(header: NonNull<T>) -> RawWaker {
    RawWaker::new(header.as_ptr().cast_const().cast(), &Vtable::<T>::VTABLE)
}

struct Vtable<T>(PhantomData<T>);

impl<T: WakeTarget> Vtable<T> {
    const VTABLE: RawWakerVTable =
        RawWakerVTable::new(Self::clone, Self::wake, Self::wake_by_ref, Self::drop);

    fn header(data: *const ()) -> NonNull<T> {
        // The data pointer of a waker made by `raw_waker`: never null.
        NonNull::new(data.cast_mut().cast()).expect("a task waker's data is never null")
    }

    unsafe fn clone(data: *const ()) -> RawWaker {
        let header = Self::header(data);
        // SAFETY: the waker being cloned holds (or borrows) a reference; the clone
        // counts its own.
        unsafe { T::increment(header) };
        raw_waker(header)
    }

    unsafe fn wake(data: *const ()) {
        // SAFETY: a waker consumed by `wake` gives up its reference.
        unsafe { T::wake(Self::header(data)) }
    }

    unsafe fn wake_by_ref(data: *const ()) {
        // SAFETY: the waker holds (or borrows) a reference for the call.
        unsafe { T::wake_by_ref(Self::header(data)) }
    }

    unsafe fn drop(data: *const ()) {
        // SAFETY: a dropped waker gives up its reference.
        unsafe { T::release(Self::header(data)) }
    }
}
