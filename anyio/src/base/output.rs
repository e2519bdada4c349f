//! `TaskOutput`: what a task, a group body or a cleaned-up body may return.

use crate::error::{BoxError, Error};

/// The output of a task group body or child: `()` or `Result<T, E>` with any error type
/// `E` (`E: Into<Box<dyn std::error::Error + Send + Sync>>`: an error type, a boxed
/// error, a `String`, a `&str`).
///
/// An `Err` is a failure: it cancels the group and is reported by it.
///
/// # Examples
///
/// ```
/// use anyio::TaskOutput;
///
/// assert!(!().is_failure());
/// let failed: Result<(), std::io::Error> = Err(std::io::ErrorKind::Other.into());
/// assert!(failed.is_failure());
/// assert_eq!(Ok::<_, anyio::Error>(3).into_result().unwrap(), 3);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not something a task may return",
    label = "this task returns `{Self}`",
    note = "a task or group body returns `()` or a `Result<T, E>` whose `E` is any error type, a boxed error, a `String` or a `&str` (its `Err` is the task's failure)",
    note = "to give a value to a `TaskHandle`, return it as `Ok(value)`, e.g. `anyio::Result::Ok(value)`"
)]
pub trait TaskOutput {
    /// The value on success.
    type Value;

    /// Whether this output is a failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TaskOutput;
    ///
    /// assert!(Err::<(), _>("disk full").is_failure());
    /// assert!(!Ok::<u8, anyio::Error>(1).is_failure());
    /// assert!(!().is_failure());
    /// ```
    fn is_failure(&self) -> bool;

    /// The value, or the failure as an [`anyio::Error`](Error).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use anyio::{ErrorKind, TaskOutput};
    ///
    /// assert_eq!(Ok::<_, String>(5).into_result().unwrap(), 5);
    /// let text = Err::<(), _>("disk full").into_result().unwrap_err();
    /// assert_eq!(text.kind(), ErrorKind::Other);
    /// let missing = Err::<(), _>(io::Error::from(io::ErrorKind::NotFound)).into_result();
    /// assert_eq!(missing.unwrap_err().kind(), ErrorKind::Io(io::ErrorKind::NotFound)); // kept
    /// ```
    fn into_result(self) -> Result<Self::Value, Error>;
}

impl TaskOutput for () {
    type Value = ();

    fn is_failure(&self) -> bool {
        false
    }

    fn into_result(self) -> Result<(), Error> {
        Ok(())
    }
}

/// Any error type may be a task's failure: an `anyio::Error` or an `io::Error` keeps its
/// kind; any other error (a user type, a boxed error, a `String` or a `&str`) becomes an
/// error of kind [`Other`](crate::ErrorKind::Other) whose source it is, reachable by
/// [`Error::downcast_ref`].
impl<T, E: Into<BoxError>> TaskOutput for Result<T, E> {
    type Value = T;

    fn is_failure(&self) -> bool {
        self.is_err()
    }

    fn into_result(self) -> Result<T, Error> {
        self.map_err(|error| Error::from_boxed(error.into()))
    }
}

/// Names the never type `!` on stable Rust, through the return type of a function
/// pointer, so that a body that never returns (`loop { .. }`, `panic!()`) is a valid task.
#[doc(hidden)]
pub trait NeverHack {
    /// The function's return type.
    type Output;
}

impl<R> NeverHack for fn() -> R {
    type Output = R;
}

/// The never type `!`.
type Never = <fn() -> ! as NeverHack>::Output;

impl TaskOutput for Never {
    type Value = ();

    fn is_failure(&self) -> bool {
        false
    }

    fn into_result(self) -> Result<(), Error> {
        self
    }
}
