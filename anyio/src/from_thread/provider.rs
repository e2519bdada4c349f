//! `BlockingPortalProvider`: one portal, started on first use and shared while in use.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use crate::base::lock::lock;
use crate::error::Result;
use crate::from_thread::portal::{BlockingPortal, start_blocking_portal};

#[derive(Default)]
struct Shared {
    portal: Option<Arc<BlockingPortal>>,
    users: usize,
}

/// Shares one [`BlockingPortal`] between threads: the first [`portal`](Self::portal)
/// call starts it, later calls share it while any user holds it, and the last user to
/// let go stops it (waiting for its tasks) and joins its thread. The next use starts a
/// fresh one.
///
/// # Examples
///
/// ```
/// use anyio::from_thread::BlockingPortalProvider;
///
/// static PROVIDER: BlockingPortalProvider = BlockingPortalProvider::new();
///
/// let threads: Vec<_> = (0..3)
///     .map(|i| {
///         std::thread::spawn(move || {
///             let portal = PROVIDER.portal().unwrap();
///             portal.call(move || async move { i * 2 }).unwrap()
///         })
///     })
///     .collect();
/// let results: Vec<i32> = threads.into_iter().map(|t| t.join().unwrap()).collect();
/// assert_eq!(results, [0, 2, 4]);
/// ```
pub struct BlockingPortalProvider {
    shared: Mutex<Shared>,
}

impl fmt::Debug for BlockingPortalProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = lock(&self.shared);
        f.debug_struct("BlockingPortalProvider")
            .field("users", &shared.users)
            .finish()
    }
}

impl Default for BlockingPortalProvider {
    fn default() -> Self {
        BlockingPortalProvider::new()
    }
}

impl BlockingPortalProvider {
    /// A provider with no portal yet; usable in a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// let provider = anyio::from_thread::BlockingPortalProvider::new();
    /// let portal = provider.portal().unwrap();
    /// assert_eq!(portal.call_sync(|| 5).unwrap(), 5);
    /// ```
    pub const fn new() -> BlockingPortalProvider {
        BlockingPortalProvider {
            shared: Mutex::new(Shared {
                portal: None,
                users: 0,
            }),
        }
    }

    /// The shared portal, started if no one uses it now; held until the returned value
    /// is dropped.
    ///
    /// # Errors
    ///
    /// As for [`start_blocking_portal`].
    ///
    /// # Examples
    ///
    /// ```
    /// let provider = anyio::from_thread::BlockingPortalProvider::new();
    /// let first = provider.portal().unwrap();
    /// let second = provider.portal().unwrap(); // nested: the same portal
    /// let thread = |p: &anyio::from_thread::BlockingPortal| {
    ///     p.call_sync(|| std::thread::current().id()).unwrap()
    /// };
    /// assert_eq!(thread(&first), thread(&second));
    /// ```
    pub fn portal(&self) -> Result<ProvidedPortal<'_>> {
        let mut shared = lock(&self.shared);
        let portal = match &shared.portal {
            Some(portal) => portal.clone(),
            None => {
                let portal = Arc::new(start_blocking_portal()?);
                shared.portal = Some(portal.clone());
                portal
            }
        };
        shared.users += 1;
        Ok(ProvidedPortal {
            provider: self,
            portal: Some(portal),
        })
    }
}

/// A use of a [`BlockingPortalProvider`]'s portal; derefs to the [`BlockingPortal`].
///
/// # Examples
///
/// ```
/// let provider = anyio::from_thread::BlockingPortalProvider::new();
/// let portal: anyio::from_thread::ProvidedPortal<'_> = provider.portal().unwrap();
/// assert!(portal.is_running());
/// ```
pub struct ProvidedPortal<'a> {
    provider: &'a BlockingPortalProvider,
    portal: Option<Arc<BlockingPortal>>,
}

impl fmt::Debug for ProvidedPortal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ProvidedPortal").field(&self.portal).finish()
    }
}

impl Deref for ProvidedPortal<'_> {
    type Target = BlockingPortal;

    fn deref(&self) -> &BlockingPortal {
        self.portal.as_ref().expect("held until drop")
    }
}

impl Drop for ProvidedPortal<'_> {
    fn drop(&mut self) {
        let last = {
            let mut shared = lock(&self.provider.shared);
            shared.users -= 1;
            if shared.users == 0 {
                shared.portal.take()
            } else {
                None
            }
        };
        drop(self.portal.take());
        if let Some(portal) = last {
            // The last user: stop outside the lock (it blocks until the tasks end).
            portal.stop(false);
        }
    }
}
