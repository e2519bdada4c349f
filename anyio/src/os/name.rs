//! A task's name in 16 bytes: a `Cow<'static, str>` without the capacity word and the
//! tag (a borrowed name is a `&'static str`; an owned one a `Box<str>`, told apart by the
//! top bit of the length). Every child task carries one, so its size is part of what a
//! child costs.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;

/// The length's top bit: the bytes are an owned `Box<str>`, freed on drop.
const OWNED: usize = 1 << (usize::BITS - 1);

/// A task name: borrowed (`&'static str`) or owned, in two words.
pub(crate) struct TaskName {
    ptr: NonNull<u8>,
    /// The length, with `OWNED` set for an owned name (no `str` is that long: an
    /// allocation is at most `isize::MAX` bytes).
    len: usize,
    _owns: PhantomData<Box<str>>,
}

// SAFETY: a `TaskName` is either a `&'static str` or a `Box<str>`, both `Send` and `Sync`.
unsafe impl Send for TaskName {}
// SAFETY: as above.
unsafe impl Sync for TaskName {}

impl From<Cow<'static, str>> for TaskName {
    fn from(name: Cow<'static, str>) -> TaskName {
        match name {
            Cow::Borrowed(name) => TaskName {
                ptr: NonNull::from(name.as_bytes()).cast(),
                len: name.len(),
                _owns: PhantomData,
            },
            Cow::Owned(name) => {
                let name: &'static mut str = Box::leak(name.into_boxed_str());
                let len = name.len();
                TaskName {
                    ptr: NonNull::from(name).cast(),
                    len: len | OWNED,
                    _owns: PhantomData,
                }
            }
        }
    }
}

impl Deref for TaskName {
    type Target = str;

    fn deref(&self) -> &str {
        // SAFETY: `ptr` and the length (without `OWNED`) are those of a `str` that lives
        // as long as `self`: a `'static` one, or the box `self` owns.
        unsafe {
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(
                self.ptr.as_ptr(),
                self.len & !OWNED,
            ))
        }
    }
}

impl Drop for TaskName {
    fn drop(&mut self) {
        if self.len & OWNED != 0 {
            let len = self.len & !OWNED;
            // SAFETY: an owned name is the box leaked in `from`, with this pointer and
            // length; it is freed once, here.
            drop(unsafe {
                Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), len) as *mut str)
            });
        }
    }
}

impl fmt::Debug for TaskName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_as_given_and_fit_in_two_words() {
        assert_eq!(std::mem::size_of::<TaskName>(), 16);
        let borrowed = TaskName::from(Cow::Borrowed("my_app::serve"));
        assert_eq!(&*borrowed, "my_app::serve");
        let owned = TaskName::from(Cow::Owned(format!("conn-{}", 7)));
        assert_eq!(&*owned, "conn-7");
        let empty = TaskName::from(Cow::Owned(String::new()));
        assert_eq!(&*empty, "");
        let unicode = TaskName::from(Cow::Owned("tâche-η".to_owned()));
        assert_eq!(&*unicode, "tâche-η");
        drop((borrowed, owned, empty, unicode));
    }
}
