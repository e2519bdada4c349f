//! [`ResourceGuard`]: catch two tasks using a single-user resource at once.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, ErrorKind, Result};

/// Makes concurrent use of a resource an error instead of a silent interleaving.
///
/// A stream that one task at a time may read keeps a `ResourceGuard("reading from")`
/// and calls [`enter`](ResourceGuard::enter) for the duration of each read; a second
/// task reading meanwhile gets [`ErrorKind::BusyResource`].
///
/// # Examples
///
/// ```
/// use anyio::{ErrorKind, ResourceGuard};
///
/// let guard = ResourceGuard::new("reading from");
/// let busy = guard.enter().unwrap();
/// let error = guard.enter().unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::BusyResource);
/// assert_eq!(error.message(), "another task is already reading from this resource");
/// drop(busy);
/// assert!(guard.enter().is_ok());
/// ```
pub struct ResourceGuard {
    action: Cow<'static, str>,
    busy: AtomicBool,
}

impl ResourceGuard {
    /// A guard whose error names `action` ("reading from", "writing to", "using", ...).
    ///
    /// # Examples
    ///
    /// ```
    /// let guard = anyio::ResourceGuard::new("reading from");
    /// assert!(!guard.is_busy());
    /// ```
    pub fn new(action: impl Into<Cow<'static, str>>) -> ResourceGuard {
        ResourceGuard {
            action: action.into(),
            busy: AtomicBool::new(false),
        }
    }

    /// Marks the resource as in use until the returned token is dropped.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BusyResource`] ("another task is already {action} this resource") if
    /// it is in use.
    ///
    /// # Examples
    ///
    /// ```
    /// let guard = anyio::ResourceGuard::new("using");
    /// let _token = guard.enter().unwrap();
    /// assert_eq!(guard.enter().unwrap_err().kind(), anyio::ErrorKind::BusyResource);
    /// ```
    pub fn enter(&self) -> Result<ResourceGuardToken<'_>> {
        if self.busy.swap(true, Ordering::Acquire) {
            return Err(Error::new(
                ErrorKind::BusyResource,
                format!("another task is already {} this resource", self.action),
            ));
        }
        Ok(ResourceGuardToken { guard: self })
    }

    /// Whether the resource is in use.
    ///
    /// # Examples
    ///
    /// ```
    /// let guard = anyio::ResourceGuard::default();
    /// let token = guard.enter().unwrap();
    /// assert!(guard.is_busy());
    /// drop(token);
    /// assert!(!guard.is_busy());
    /// ```
    pub fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Acquire)
    }
}

impl Default for ResourceGuard {
    /// A guard for "using".
    fn default() -> ResourceGuard {
        ResourceGuard::new("using")
    }
}

impl fmt::Debug for ResourceGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceGuard")
            .field("action", &self.action)
            .field("busy", &self.is_busy())
            .finish()
    }
}

/// Proof that a [`ResourceGuard`] was entered; leaves it when dropped.
///
/// # Examples
///
/// ```
/// let guard = anyio::ResourceGuard::default();
/// {
///     let _token: anyio::ResourceGuardToken<'_> = guard.enter().unwrap();
/// }
/// assert!(guard.enter().is_ok());
/// ```
#[must_use = "the resource is free again as soon as the token is dropped"]
pub struct ResourceGuardToken<'a> {
    guard: &'a ResourceGuard,
}

impl fmt::Debug for ResourceGuardToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceGuardToken").finish_non_exhaustive()
    }
}

impl Drop for ResourceGuardToken<'_> {
    fn drop(&mut self) {
        self.guard.busy.store(false, Ordering::Release);
    }
}
