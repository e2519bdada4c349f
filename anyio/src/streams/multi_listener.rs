//! [`MultiListener`]: several listeners served as one.
//!
//! # Examples
//!
//! ```
//! use anyio::TypedAttributeProvider;
//! use anyio::abc::Listener;
//! use anyio::net::LocalPort;
//! use anyio::streams::multi_listener::MultiListener;
//!
//! # anyio::run(async {
//! let first = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
//! let second = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
//! let port = second.extra::<LocalPort>()?;
//! let mut both = MultiListener::new(vec![first, second]);
//! let _client = anyio::connect_tcp("127.0.0.1", port).await?;
//! let server = both.accept().await?; // from whichever listener has a connection
//! assert_eq!(server.extra::<LocalPort>()?, port);
//! # anyio::Result::Ok(()) }).unwrap();
//! ```

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use crate::abc::{AsyncResource, Listener};
use crate::error::{Error, ErrorKind, Result};
use crate::typed_attr::{TypedAttributeProvider, TypedAttributes};

/// Listens on several listeners at once (e.g. IPv4 and IPv6): `accept` returns the first
/// connection any of them accepts, and `serve` serves them all.
///
/// Typed attributes come from every listener, later ones winning where several offer
/// the same attribute.
///
/// # Examples
///
/// ```
/// use anyio::abc::{AsyncResource, Listener};
/// use anyio::streams::stapled::MultiListener;
/// use anyio::{MemoryObjectReceiveStream, TypedAttributeProvider};
///
/// /// A listener whose "connections" arrive over a memory stream.
/// struct Inbox(MemoryObjectReceiveStream<&'static str>);
/// impl TypedAttributeProvider for Inbox {}
/// impl AsyncResource for Inbox {
///     async fn aclose(&mut self) -> anyio::Result<()> {
///         self.0.close();
///         Ok(())
///     }
/// }
/// impl Listener for Inbox {
///     type Stream = &'static str;
///     async fn accept(&mut self) -> anyio::Result<&'static str> {
///         self.0.receive().await
///     }
/// }
///
/// # anyio::run(async {
/// let (a_tx, a_rx) = anyio::create_memory_object_stream(1);
/// let (b_tx, b_rx) = anyio::create_memory_object_stream(1);
/// let mut both = MultiListener::new(vec![Inbox(a_rx), Inbox(b_rx)]);
/// b_tx.send_nowait("from b").unwrap();
/// assert_eq!(both.accept().await?, "from b");
/// a_tx.send_nowait("from a").unwrap();
/// assert_eq!(both.accept().await?, "from a");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct MultiListener<L> {
    listeners: Vec<L>,
    /// The listener to look at first, rotated for fairness.
    next: usize,
}

impl<L> MultiListener<L> {
    /// Serves `listeners` together.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::stapled::MultiListener;
    ///
    /// let listeners: MultiListener<()> = MultiListener::new(vec![(), ()]);
    /// assert_eq!(listeners.listeners().len(), 2);
    /// ```
    pub fn new(listeners: Vec<L>) -> MultiListener<L> {
        MultiListener { listeners, next: 0 }
    }

    /// Adds the listeners of `other` (flattening, as AnyIO does for nested ones).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::stapled::MultiListener;
    ///
    /// let mut listeners = MultiListener::new(vec![1]);
    /// listeners.extend(MultiListener::new(vec![2, 3]));
    /// assert_eq!(listeners.listeners(), [1, 2, 3]);
    /// ```
    pub fn extend(&mut self, other: MultiListener<L>) {
        self.listeners.extend(other.listeners);
    }

    /// The listeners.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::stapled::MultiListener;
    ///
    /// assert!(MultiListener::<u8>::new(Vec::new()).listeners().is_empty());
    /// ```
    pub fn listeners(&self) -> &[L] {
        &self.listeners
    }
}

impl<L: AsyncResource> AsyncResource for MultiListener<L> {
    /// Closes every listener (all of them, even if one fails; the first error is
    /// returned).
    ///
    /// # Cancel safety
    ///
    /// The listeners are closed one after another: cancelled or dropped halfway, those
    /// after the one being closed stay open, and that one is left as its own `aclose`
    /// leaves it.
    async fn aclose(&mut self) -> Result<()> {
        let mut first_error = None;
        for listener in &mut self.listeners {
            if let Err(error) = listener.aclose().await {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl<L: TypedAttributeProvider> TypedAttributeProvider for MultiListener<L> {
    fn extra_attributes(&self) -> TypedAttributes {
        let mut attributes = TypedAttributes::new();
        for listener in &self.listeners {
            attributes.extend(listener.extra_attributes());
        }
        attributes
    }
}

impl<L: Listener> Listener for MultiListener<L> {
    type Stream = L::Stream;

    /// The first connection any listener accepts. The other listeners' accepts are
    /// dropped, so they must be cancel-safe (give up without losing a connection).
    ///
    /// # Errors
    ///
    /// The first error of a listener; [`ErrorKind::ClosedResource`] with no listeners.
    ///
    /// # Cancel safety
    ///
    /// Cancelled or dropped, it drops every listener's accept in progress: it loses a
    /// connection only if a listener's accept does when dropped. A checkpoint if all the
    /// listeners' accepts are.
    async fn accept(&mut self) -> Result<L::Stream> {
        if self.listeners.is_empty() {
            return Err(Error::new(
                ErrorKind::ClosedResource,
                "a MultiListener without listeners accepts nothing",
            ));
        }
        let count = self.listeners.len();
        let start = self.next % count;
        self.next = self.next.wrapping_add(1);
        let (head, tail) = self.listeners.split_at_mut(start);
        let mut accepts: Vec<Pin<Box<_>>> = tail
            .iter_mut()
            .chain(head.iter_mut())
            .map(|listener| Box::pin(listener.accept()))
            .collect();
        poll_fn(|cx| {
            for accept in &mut accepts {
                if let Poll::Ready(result) = accept.as_mut().poll(cx) {
                    return Poll::Ready(result);
                }
            }
            Poll::Pending
        })
        .await
    }
}
