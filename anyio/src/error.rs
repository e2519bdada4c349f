//! The one error type of the crate: [`Error`], its [`ErrorKind`] and [`Result`].

use std::borrow::Cow;
use std::fmt;
use std::io;

/// A boxed error that can cross threads; the `source()` of an [`Error`].
///
/// # Examples
///
/// ```
/// let boxed: anyio::BoxError = "connection reset".into();
/// assert_eq!(boxed.to_string(), "connection reset");
/// let err = anyio::Error::from_boxed(boxed);
/// assert_eq!(err.kind(), anyio::ErrorKind::Other);
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result<T, anyio::Error>`, with a single type parameter so that
/// `anyio::Result::Ok(x)` infers.
///
/// # Examples
///
/// ```
/// fn parse_port(text: &str) -> anyio::Result<u16> {
///     text.parse().map_err(anyio::Error::other)
/// }
/// assert_eq!(parse_port("8080").unwrap(), 8080);
/// assert_eq!(parse_port("http").unwrap_err().kind(), anyio::ErrorKind::Other);
/// ```
pub type Result<T> = std::result::Result<T, Error>;

/// What kind of failure an [`Error`] reports.
///
/// The names follow AnyIO's exception classes (`BrokenResourceError` becomes
/// [`ErrorKind::BrokenResource`], `TimeoutError` becomes [`ErrorKind::Timeout`], and
/// an exception group becomes [`ErrorKind::Group`]).
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let err = anyio::fail_after(0.0, anyio::sleep_forever()).await.unwrap_err();
/// assert_eq!(err.kind(), anyio::ErrorKind::Timeout);
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The resource is broken beyond repair (the other end went away).
    BrokenResource,
    /// Another task is already using the resource for the same action.
    BusyResource,
    /// The resource was closed by this side and can no longer be used.
    ClosedResource,
    /// The stream ended: no more data will ever arrive.
    EndOfStream,
    /// A stream ended before the requested amount of data arrived.
    IncompleteRead,
    /// A delimiter was not found within the allowed number of bytes.
    DelimiterNotFound,
    /// A `_nowait` operation could not complete without waiting.
    WouldBlock,
    /// A `fail_after` (or a test's `timeout`) deadline expired.
    Timeout,
    /// The operation's task was cancelled where a drop cannot express it
    /// (e.g. `TaskGroup::start` whose child was cancelled before reporting readiness).
    Cancelled,
    /// A typed attribute was requested that the provider does not have.
    TypedAttributeLookup,
    /// An operating-system I/O error of this kind.
    Io(io::ErrorKind),
    /// A TLS failure.
    Tls,
    /// A child process exited unsuccessfully.
    CalledProcess,
    /// Several failures, reported together by a task group; see [`Error::errors`].
    Group,
    /// A task awaited through its [`TaskHandle`](crate::TaskHandle) failed or panicked
    /// (its group reports the failure itself).
    TaskFailed,
    /// A worker process of `to_process` died or broke its protocol
    /// while running a call.
    BrokenWorkerProcess,
    /// A call that needs an anyio runtime (`from_thread`, a portal) came from a thread
    /// that has none: not a `to_thread` worker, and no `lowlevel::EventLoopToken` given.
    NoEventLoop,
    /// The runtime (or portal) that a call was sent to has finished or is stopping.
    RunFinished,
    /// Any other failure, usually a user error wrapped by [`Error::other`].
    Other,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ErrorKind::BrokenResource => "broken resource",
            ErrorKind::BusyResource => "busy resource",
            ErrorKind::ClosedResource => "closed resource",
            ErrorKind::EndOfStream => "end of stream",
            ErrorKind::IncompleteRead => "incomplete read",
            ErrorKind::DelimiterNotFound => "delimiter not found",
            ErrorKind::WouldBlock => "operation would block",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::TypedAttributeLookup => "typed attribute not found",
            ErrorKind::Io(kind) => return write!(f, "I/O error ({kind})"),
            ErrorKind::Tls => "TLS error",
            ErrorKind::CalledProcess => "process failed",
            ErrorKind::Group => "several tasks failed",
            ErrorKind::TaskFailed => "task failed",
            ErrorKind::BrokenWorkerProcess => "broken worker process",
            ErrorKind::NoEventLoop => "no event loop",
            ErrorKind::RunFinished => "run finished",
            ErrorKind::Other => "error",
        };
        f.write_str(text)
    }
}

/// The error type of every fallible anyio operation.
///
/// An `Error` has a [`kind`](Error::kind), a message that says what failed and why,
/// and optionally a [`source`](std::error::Error::source). An error of kind
/// [`ErrorKind::Group`] holds several failures of a task group;
/// [`errors`](Error::errors) iterates the individual failures of any error.
///
/// # Examples
///
/// ```
/// use anyio::{Error, ErrorKind};
///
/// let err = Error::other(std::fmt::Error);
/// assert_eq!(err.kind(), ErrorKind::Other);
/// assert_eq!(err.errors().count(), 1);
///
/// let io: Error = std::io::Error::from(std::io::ErrorKind::NotFound).into();
/// assert_eq!(io.kind(), ErrorKind::Io(std::io::ErrorKind::NotFound));
/// ```
pub struct Error {
    repr: Box<Repr>,
}

struct Repr {
    kind: ErrorKind,
    message: Cow<'static, str>,
    source: Option<BoxError>,
    /// The member failures of a `Group` error, in the order they happened; empty otherwise.
    group: Vec<Error>,
}

impl Error {
    /// Creates an error of `kind` with a message saying what failed.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = anyio::Error::new(anyio::ErrorKind::WouldBlock, "the lock is held");
    /// assert_eq!(err.to_string(), "the lock is held");
    /// ```
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Error {
        Error {
            repr: Box::new(Repr {
                kind,
                message: message.into(),
                source: None,
                group: Vec::new(),
            }),
        }
    }

    /// Wraps any user error as kind [`ErrorKind::Other`]; its text becomes the message and
    /// the original stays reachable through `source()` and [`Error::downcast_ref`].
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(Debug)]
    /// struct NotFound;
    /// impl std::fmt::Display for NotFound {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         f.write_str("page not found")
    ///     }
    /// }
    /// impl std::error::Error for NotFound {}
    ///
    /// let err = anyio::Error::other(NotFound);
    /// assert_eq!(err.to_string(), "page not found");
    /// assert!(err.downcast_ref::<NotFound>().is_some());
    /// ```
    pub fn other<E>(error: E) -> Error
    where
        E: Into<BoxError>,
    {
        let source: BoxError = error.into();
        let mut err = Error::new(ErrorKind::Other, source.to_string());
        err.repr.source = Some(source);
        err
    }

    /// An error from any boxed error: an `anyio::Error` or an `io::Error` inside keeps
    /// its kind; anything else becomes an error of kind [`ErrorKind::Other`] with it as
    /// the source (see [`other`](Error::other)).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::{BoxError, Error, ErrorKind};
    ///
    /// let timeout: BoxError = Box::new(Error::new(ErrorKind::Timeout, "too slow"));
    /// assert_eq!(Error::from_boxed(timeout).kind(), ErrorKind::Timeout);
    /// let text: BoxError = "plain words".into();
    /// let err = Error::from_boxed(text);
    /// assert_eq!((err.kind(), err.to_string()), (ErrorKind::Other, "plain words".to_owned()));
    /// ```
    pub fn from_boxed(error: BoxError) -> Error {
        match error.downcast::<Error>() {
            Ok(error) => *error,
            Err(error) => match error.downcast::<io::Error>() {
                Ok(error) => Error::from(*error),
                Err(error) => Error::other(error),
            },
        }
    }

    /// Creates an error of `kind` with a message and a source error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::error::Error as _;
    /// use anyio::{Error, ErrorKind};
    ///
    /// let cause = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
    /// let err = Error::with_source(ErrorKind::BrokenResource, "the peer went away", cause);
    /// assert_eq!(err.to_string(), "the peer went away");
    /// assert!(err.source().is_some());
    /// assert!(err.downcast_ref::<std::io::Error>().is_some());
    /// ```
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<Cow<'static, str>>,
        source: impl Into<BoxError>,
    ) -> Error {
        let mut err = Error::new(kind, message);
        err.repr.source = Some(source.into());
        err
    }

    /// Combines the failures of a task group: one failure is returned as itself, several
    /// as one error of kind [`ErrorKind::Group`].
    ///
    /// # Panics
    ///
    /// Panics if `errors` is empty: a group with no failure has no error.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::{Error, ErrorKind};
    /// let one = Error::from_failures(vec![Error::new(ErrorKind::Other, "a")]);
    /// assert_eq!(one.kind(), ErrorKind::Other);
    /// let two = Error::from_failures(vec![
    ///     Error::new(ErrorKind::Other, "a"),
    ///     Error::new(ErrorKind::Timeout, "b"),
    /// ]);
    /// assert_eq!(two.kind(), ErrorKind::Group);
    /// assert_eq!(two.errors().count(), 2);
    /// ```
    #[track_caller]
    pub fn from_failures(mut errors: Vec<Error>) -> Error {
        assert!(
            !errors.is_empty(),
            "Error::from_failures needs at least one failure"
        );
        if errors.len() == 1 {
            return errors.pop().expect("length checked above");
        }
        let summary: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let mut err = Error::new(
            ErrorKind::Group,
            format!("{} tasks failed: {}", errors.len(), summary.join("; ")),
        );
        err.repr.group = errors;
        err
    }

    /// The kind of this error.
    ///
    /// # Examples
    ///
    /// ```
    /// let err: anyio::Error = std::io::Error::from(std::io::ErrorKind::TimedOut).into();
    /// assert_eq!(err.kind(), anyio::ErrorKind::Io(std::io::ErrorKind::TimedOut));
    /// let closed = anyio::Error::new(anyio::ErrorKind::ClosedResource, "closed");
    /// assert_eq!(closed.kind(), anyio::ErrorKind::ClosedResource);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.repr.kind
    }

    /// The message, without the kind or the source.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::{Error, ErrorKind};
    ///
    /// let err = Error::with_source(ErrorKind::Other, "loading the config", std::fmt::Error);
    /// assert_eq!(err.message(), "loading the config"); // nothing of the source's text
    /// ```
    pub fn message(&self) -> &str {
        &self.repr.message
    }

    /// Iterates the individual failures: the members of a [`ErrorKind::Group`] error
    /// (flattening nested groups), or this error itself for any other kind.
    ///
    /// # Examples
    ///
    /// ```
    /// # use anyio::{Error, ErrorKind};
    /// let err = Error::new(ErrorKind::Timeout, "too slow");
    /// let kinds: Vec<_> = err.errors().map(|e| e.kind()).collect();
    /// assert_eq!(kinds, [ErrorKind::Timeout]);
    /// ```
    pub fn errors(&self) -> impl Iterator<Item = &Error> + '_ {
        let mut stack = vec![self];
        std::iter::from_fn(move || {
            while let Some(err) = stack.pop() {
                if err.repr.kind == ErrorKind::Group {
                    stack.extend(err.repr.group.iter().rev());
                } else {
                    return Some(err);
                }
            }
            None
        })
    }

    /// The direct members of a [`ErrorKind::Group`] error (nested groups stay nested);
    /// empty for any other kind.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::{Error, ErrorKind};
    ///
    /// let inner = Error::from_failures(vec![
    ///     Error::new(ErrorKind::Other, "b"),
    ///     Error::new(ErrorKind::Other, "c"),
    /// ]);
    /// let outer = Error::from_failures(vec![Error::new(ErrorKind::Timeout, "a"), inner]);
    /// assert_eq!(outer.group_members().len(), 2); // the nested group stays one member
    /// assert_eq!(outer.errors().count(), 3);
    /// assert!(Error::new(ErrorKind::Other, "alone").group_members().is_empty());
    /// ```
    pub fn group_members(&self) -> &[Error] {
        &self.repr.group
    }

    /// Returns the source error if it is of type `E`.
    ///
    /// # Examples
    ///
    /// ```
    /// let err: anyio::Error = std::io::Error::from(std::io::ErrorKind::NotFound).into();
    /// let io = err.downcast_ref::<std::io::Error>().unwrap();
    /// assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    /// assert!(err.downcast_ref::<std::fmt::Error>().is_none());
    /// ```
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.repr.source.as_deref()?.downcast_ref::<E>()
    }

    /// The process that failed, for an error of kind
    /// [`CalledProcess`](ErrorKind::CalledProcess) (from `run_process(..).check(true)`
    /// or [`CompletedProcess::check_returncode`](crate::CompletedProcess::check_returncode)).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let err = anyio::run_process("echo partial; exit 3").await.unwrap_err();
    /// let failed = err.completed_process().unwrap();
    /// assert_eq!(failed.returncode, 3);
    /// assert_eq!(failed.stdout, b"partial\n");
    /// # });
    /// ```
    pub fn completed_process(&self) -> Option<&crate::CompletedProcess> {
        self.repr
            .source
            .as_ref()?
            .downcast_ref::<crate::process::ProcessFailed>()
            .map(|failed| &failed.0)
    }

    /// Whether this error or any member of its group is of `kind`.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::{Error, ErrorKind};
    ///
    /// let err = Error::from_failures(vec![
    ///     Error::new(ErrorKind::Other, "bad input"),
    ///     Error::new(ErrorKind::Timeout, "too slow"),
    /// ]);
    /// assert!(err.contains(ErrorKind::Timeout));
    /// assert!(!err.contains(ErrorKind::BrokenResource));
    /// ```
    pub fn contains(&self, kind: ErrorKind) -> bool {
        self.errors().any(|e| e.kind() == kind)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repr.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.repr.kind)
            .field("message", &self.repr.message);
        if let Some(source) = &self.repr.source {
            d.field("source", source);
        }
        if !self.repr.group.is_empty() {
            d.field("errors", &self.repr.group);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.repr.source {
            Some(source) => Some(&**source),
            None => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Error {
        let kind = ErrorKind::Io(error.kind());
        Error::with_source(kind, error.to_string(), error)
    }
}

impl From<Error> for io::Error {
    fn from(error: Error) -> io::Error {
        let kind = match error.kind() {
            ErrorKind::Io(kind) => kind,
            ErrorKind::Timeout => io::ErrorKind::TimedOut,
            ErrorKind::WouldBlock => io::ErrorKind::WouldBlock,
            ErrorKind::EndOfStream | ErrorKind::IncompleteRead => io::ErrorKind::UnexpectedEof,
            ErrorKind::BrokenResource => io::ErrorKind::BrokenPipe,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_groups_flatten_in_order() {
        let inner = Error::from_failures(vec![
            Error::new(ErrorKind::Other, "b"),
            Error::new(ErrorKind::Other, "c"),
        ]);
        let outer = Error::from_failures(vec![Error::new(ErrorKind::Other, "a"), inner]);
        let messages: Vec<_> = outer.errors().map(|e| e.message().to_owned()).collect();
        assert_eq!(messages, ["a", "b", "c"]);
        assert_eq!(outer.group_members().len(), 2);
    }
}
