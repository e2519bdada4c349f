//! The stream, listener and resource traits, as AnyIO's `anyio.abc`.
//!
//! Object streams carry values of a type `T`; byte streams carry bytes in chunks of any
//! size. Every stream is an [`AsyncResource`] and a [`TypedAttributeProvider`]. The
//! methods are `async fn`s, so the traits are used through generics (`S: ByteStream`),
//! not trait objects.
//!
//! # Examples
//!
//! Code written against the traits works with any stream; here, an in-memory pair:
//!
//! ```
//! use anyio::abc::{ByteReceiveStream, ByteSendStream, ByteStream};
//! use anyio::streams::object_bytes::memory_byte_stream_pair;
//!
//! /// Answers one request with its bytes uppercased.
//! async fn shout(stream: &mut impl ByteStream) -> anyio::Result<()> {
//!     let request = stream.receive(1024).await?;
//!     stream.send(&request.to_ascii_uppercase()).await
//! }
//!
//! # anyio::run(async {
//! let (mut client, mut server) = memory_byte_stream_pair(1);
//! client.send(b"hello").await?;
//! shout(&mut server).await?;
//! assert_eq!(client.receive(64).await?, b"HELLO");
//! # anyio::Result::Ok(()) }).unwrap();
//! ```

#![allow(async_fn_in_trait)]

use std::future::Future;

use crate::error::{Error, ErrorKind, Result};
use crate::task::{TaskGroup, TaskOutput};
use crate::typed_attr::TypedAttributeProvider;

pub use crate::typed_attr::{TypedAttribute, TypedAttributes};

/// Something that must be closed, possibly with I/O (a goodbye message, a flush).
///
/// # Examples
///
/// ```
/// use anyio::abc::AsyncResource;
///
/// # anyio::run(async {
/// let (mut tx, _rx) = anyio::create_memory_object_stream::<u8>(1);
/// tx.aclose().await?;
/// assert!(tx.is_closed());
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub trait AsyncResource {
    /// Closes the resource. Later operations on it fail with
    /// [`ErrorKind::ClosedResource`]; closing again does nothing.
    ///
    /// # Cancel safety
    ///
    /// Depends on the implementation (see the implementing type's documentation): a close
    /// cancelled or dropped halfway may leave the resource partly closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::{AsyncResource, ByteSendStream};
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// # anyio::run(async {
    /// let (mut stream, _peer) = memory_byte_stream_pair(1);
    /// stream.aclose().await?;
    /// stream.aclose().await?; // closing again does nothing
    /// let late = stream.send(b"late").await.unwrap_err();
    /// assert_eq!(late.kind(), anyio::ErrorKind::ClosedResource);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    async fn aclose(&mut self) -> Result<()>;
}

/// Closes `resource` at once, inside a cancelled scope: a close that would send a
/// goodbye or wait for a peer (a TLS close_notify, a flush) gives up at its first
/// checkpoint, and the resource is left closed without it. As AnyIO's
/// `aclose_forcefully`.
///
/// # Errors
///
/// An error the close reports before its first checkpoint; a close cut short by the
/// cancellation is not an error.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let (mut tx, _rx) = anyio::create_memory_object_stream::<u8>(1);
/// anyio::aclose_forcefully(&mut tx).await?;
/// assert!(tx.is_closed());
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub async fn aclose_forcefully<R: AsyncResource + ?Sized>(resource: &mut R) -> Result<()> {
    let scope = crate::CancelScope::new();
    scope.cancel();
    scope.run(resource.aclose()).await.unwrap_or(Ok(()))
}

/// Receives objects of type `T`, possibly not all of them, possibly out of order: a UDP
/// socket receives datagrams this way. The reliable [`ObjectReceiveStream`] is a
/// subtrait that promises order and completeness; code that can live with losses takes
/// this trait, and so accepts both.
///
/// # Examples
///
/// ```
/// use anyio::abc::UnreliableObjectReceiveStream;
///
/// /// Waits for the first datagram (or object) whose payload is `wanted`.
/// async fn wait_for(
///     stream: &mut impl UnreliableObjectReceiveStream<Vec<u8>>,
///     wanted: &[u8],
/// ) -> anyio::Result<()> {
///     while stream.receive().await? != wanted {}
///     Ok(())
/// }
///
/// # anyio::run(async {
/// let (tx, mut rx) = anyio::create_memory_object_stream(2);
/// tx.send_nowait(b"noise".to_vec()).unwrap();
/// tx.send_nowait(b"ready".to_vec()).unwrap();
/// wait_for(&mut rx, b"ready").await?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub trait UnreliableObjectReceiveStream<T>: AsyncResource + TypedAttributeProvider {
    /// The next object.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::EndOfStream`] when the peer closed its end;
    /// [`ErrorKind::ClosedResource`] if this end was closed;
    /// [`ErrorKind::BrokenResource`] if the stream broke.
    ///
    /// # Cancel safety
    ///
    /// Depends on the implementation (see the implementing type's documentation). A
    /// cancel-safe one loses no object when a receive is cancelled or dropped before it
    /// returned it, as
    /// [`MemoryObjectReceiveStream::receive`](crate::MemoryObjectReceiveStream::receive).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::abc::UnreliableObjectReceiveStream;
    /// use anyio::net::LocalPort;
    ///
    /// # anyio::run(async {
    /// let mut server = anyio::create_udp_socket().local_host("127.0.0.1").await?;
    /// let port = server.extra::<LocalPort>()?;
    /// let mut client = anyio::create_connected_udp_socket("127.0.0.1", port).await?;
    /// client.send(b"datagram").await?;
    /// let (data, _sender) = UnreliableObjectReceiveStream::receive(&mut server).await?;
    /// assert_eq!(data, b"datagram");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    async fn receive(&mut self) -> Result<T>;
}

/// Sends objects of type `T`, with no promise that each arrives, or arrives in order: a
/// UDP socket sends datagrams this way. The reliable [`ObjectSendStream`] is a subtrait.
///
/// # Examples
///
/// ```
/// use anyio::abc::UnreliableObjectSendStream;
///
/// /// Sends a greeting over any object stream, reliable or not.
/// async fn hello(stream: &mut impl UnreliableObjectSendStream<Vec<u8>>) -> anyio::Result<()> {
///     stream.send(b"hello".to_vec()).await
/// }
///
/// # anyio::run(async {
/// let (mut tx, rx) = anyio::create_memory_object_stream(1);
/// hello(&mut tx).await?;
/// assert_eq!(rx.receive().await?, b"hello");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub trait UnreliableObjectSendStream<T>: AsyncResource + TypedAttributeProvider {
    /// Sends `item` to the peer(s).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`] if this end was closed;
    /// [`ErrorKind::BrokenResource`] if the peer is gone or the stream broke.
    ///
    /// # Cancel safety
    ///
    /// Depends on the implementation (see the implementing type's documentation), which
    /// says whether a cancelled send may still deliver its item;
    /// [`MemoryObjectSendStream::send`](crate::MemoryObjectSendStream::send) never does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use anyio::TypedAttributeProvider;
    /// use anyio::abc::UnreliableObjectSendStream;
    /// use anyio::net::LocalPort;
    ///
    /// # anyio::run(async {
    /// let mut socket = anyio::create_udp_socket().local_host("127.0.0.1").await?;
    /// let myself = SocketAddr::from(([127, 0, 0, 1], socket.extra::<LocalPort>()?));
    /// socket.send((b"to myself".to_vec(), myself)).await?; // a (datagram, address) pair
    /// assert_eq!(socket.receive().await?, (b"to myself".to_vec(), myself));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    async fn send(&mut self, item: T) -> Result<()>;
}

/// Both directions of an unreliable object stream. Every type that is both an
/// [`UnreliableObjectReceiveStream<T>`] and an [`UnreliableObjectSendStream<T>`] is one.
///
/// # Examples
///
/// ```
/// use anyio::abc::UnreliableObjectStream;
///
/// /// Answers one request with its payload reversed.
/// async fn answer_one(
///     stream: &mut impl UnreliableObjectStream<Vec<u8>>,
/// ) -> anyio::Result<()> {
///     let mut request = stream.receive().await?;
///     request.reverse();
///     stream.send(request).await
/// }
///
/// # anyio::run(async {
/// let (tx, rx) = anyio::create_memory_object_stream(1);
/// let mut looped = anyio::streams::stapled::StapledObjectStream::new(tx, rx);
/// anyio::abc::UnreliableObjectSendStream::send(&mut looped, b"abc".to_vec()).await?;
/// answer_one(&mut looped).await?;
/// assert_eq!(anyio::abc::UnreliableObjectReceiveStream::receive(&mut looped).await?, b"cba");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub trait UnreliableObjectStream<T>:
    UnreliableObjectReceiveStream<T> + UnreliableObjectSendStream<T>
{
}

impl<T, S: UnreliableObjectReceiveStream<T> + UnreliableObjectSendStream<T>>
    UnreliableObjectStream<T> for S
{
}

/// Receives objects of type `T`, in order, none missed: an
/// [`UnreliableObjectReceiveStream`] that promises it. Its `receive` is the supertrait's,
/// so code calling it by path names that trait.
///
/// # Examples
///
/// ```
/// use anyio::abc::ObjectReceiveStream;
///
/// /// Sums every number a stream carries, whatever the stream.
/// async fn sum(stream: &mut impl ObjectReceiveStream<u64>) -> anyio::Result<u64> {
///     let mut total = 0;
///     loop {
///         match stream.receive().await {
///             Ok(n) => total += n,
///             Err(e) if e.kind() == anyio::ErrorKind::EndOfStream => return Ok(total),
///             Err(e) => return Err(e),
///         }
///     }
/// }
///
/// # anyio::run(async {
/// let (tx, mut rx) = anyio::create_memory_object_stream(4);
/// for n in [1, 2, 3] {
///     tx.send_nowait(n).unwrap();
/// }
/// drop(tx);
/// assert_eq!(sum(&mut rx).await?, 6);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub trait ObjectReceiveStream<T>: UnreliableObjectReceiveStream<T> {}

/// Sends objects of type `T`, in order, none missed: an [`UnreliableObjectSendStream`]
/// that promises it.
///
/// # Examples
///
/// ```
/// use anyio::abc::ObjectSendStream;
///
/// async fn greet(stream: &mut impl ObjectSendStream<String>) -> anyio::Result<()> {
///     stream.send("hello".to_owned()).await
/// }
///
/// # anyio::run(async {
/// let (mut tx, rx) = anyio::create_memory_object_stream(1);
/// greet(&mut tx).await?;
/// assert_eq!(rx.receive().await?, "hello");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub trait ObjectSendStream<T>: UnreliableObjectSendStream<T> {}

/// Both directions of an object stream.
///
/// # Examples
///
/// ```
/// use anyio::abc::{ObjectStream, UnreliableObjectReceiveStream};
/// use anyio::streams::stapled::StapledObjectStream;
///
/// # anyio::run(async {
/// let (tx, rx) = anyio::create_memory_object_stream::<u8>(1);
/// let mut stream = StapledObjectStream::new(tx, rx);
/// stream.send_eof().await?;
/// let end = UnreliableObjectReceiveStream::receive(&mut stream).await.unwrap_err();
/// assert_eq!(end.kind(), anyio::ErrorKind::EndOfStream);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub trait ObjectStream<T>: ObjectReceiveStream<T> + ObjectSendStream<T> {
    /// Tells the peer no more objects will come, keeping the receiving direction open.
    ///
    /// # Cancel safety
    ///
    /// Depends on the implementation (see the implementing type's documentation).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::{ObjectStream, UnreliableObjectReceiveStream, UnreliableObjectSendStream};
    /// use anyio::streams::stapled::StapledObjectStream;
    ///
    /// # anyio::run(async {
    /// let (to_b, from_a) = anyio::create_memory_object_stream::<&str>(1);
    /// let (to_a, from_b) = anyio::create_memory_object_stream::<&str>(1);
    /// let mut a = StapledObjectStream::new(to_b, from_b);
    /// let mut b = StapledObjectStream::new(to_a, from_a);
    /// a.send_eof().await?; // a is done sending, but still receives
    /// let end = UnreliableObjectReceiveStream::receive(&mut b).await.unwrap_err();
    /// assert_eq!(end.kind(), anyio::ErrorKind::EndOfStream);
    /// UnreliableObjectSendStream::send(&mut b, "still there?").await?;
    /// assert_eq!(UnreliableObjectReceiveStream::receive(&mut a).await?, "still there?");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    async fn send_eof(&mut self) -> Result<()>;
}

/// Receives bytes from one peer.
///
/// # Examples
///
/// ```
/// use anyio::abc::{ByteReceiveStream, ByteSendStream};
/// use anyio::streams::object_bytes::memory_byte_stream_pair;
///
/// # anyio::run(async {
/// let (mut a, mut b) = memory_byte_stream_pair(1);
/// a.send(b"abc").await?;
/// assert_eq!(b.receive(2).await?, b"ab");
/// assert_eq!(b.receive(2).await?, b"c");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub trait ByteReceiveStream: AsyncResource + TypedAttributeProvider {
    /// Up to `max_bytes` bytes (at least one).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::EndOfStream`] when the peer closed its end; an
    /// [`ErrorKind::Io`]`(InvalidInput)` error if `max_bytes` is 0.
    ///
    /// # Cancel safety
    ///
    /// Depends on the implementation (see the implementing type's documentation). A
    /// cancel-safe one loses no bytes when a receive is cancelled or dropped before it
    /// returned them: they come with the next receive.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::{ByteReceiveStream, ByteSendStream, ByteStream};
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// # anyio::run(async {
    /// let (mut a, mut b) = memory_byte_stream_pair(1);
    /// a.send(b"hello").await?;
    /// a.send_eof().await?;
    /// assert_eq!(b.receive(3).await?, b"hel"); // at most `max_bytes`
    /// assert_eq!(b.receive(3).await?, b"lo");
    /// let end = b.receive(3).await.unwrap_err();
    /// assert_eq!(end.kind(), anyio::ErrorKind::EndOfStream);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    async fn receive(&mut self, max_bytes: usize) -> Result<Vec<u8>>;
}

/// Sends bytes to one peer.
///
/// # Examples
///
/// ```
/// use anyio::abc::{ByteReceiveStream, ByteSendStream};
/// use anyio::streams::object_bytes::memory_byte_stream_pair;
///
/// # anyio::run(async {
/// let (mut a, mut b) = memory_byte_stream_pair(1);
/// a.send(b"data").await?;
/// assert_eq!(b.receive(1024).await?, b"data");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub trait ByteSendStream: AsyncResource + TypedAttributeProvider {
    /// Sends all of `data`.
    ///
    /// # Cancel safety
    ///
    /// Depends on the implementation (see the implementing type's documentation). Unless
    /// it says otherwise, a send cancelled or dropped halfway may have sent part of `data`,
    /// and how much is not reported.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::{ByteReceiveStream, ByteSendStream};
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// # anyio::run(async {
    /// let (mut a, mut b) = memory_byte_stream_pair(1);
    /// a.send(b"hello").await?;
    /// assert_eq!(b.receive(64).await?, b"hello");
    /// drop(b); // the peer is gone
    /// let lost = a.send(b"anyone?").await.unwrap_err();
    /// assert_eq!(lost.kind(), anyio::ErrorKind::BrokenResource);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    async fn send(&mut self, data: &[u8]) -> Result<()>;
}

/// Both directions of a byte stream.
///
/// # Examples
///
/// ```
/// use anyio::abc::{ByteReceiveStream, ByteSendStream, ByteStream};
/// use anyio::streams::object_bytes::memory_byte_stream_pair;
///
/// # anyio::run(async {
/// let (mut a, mut b) = memory_byte_stream_pair(1);
/// a.send_eof().await?; // a can still receive
/// b.send(b"late reply").await?;
/// assert_eq!(a.receive(64).await?, b"late reply");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub trait ByteStream: ByteReceiveStream + ByteSendStream {
    /// Tells the peer no more bytes will come, keeping the receiving direction open.
    ///
    /// # Cancel safety
    ///
    /// Depends on the implementation (see the implementing type's documentation).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::{ByteReceiveStream, ByteSendStream, ByteStream};
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// # anyio::run(async {
    /// let (mut a, mut b) = memory_byte_stream_pair(1);
    /// a.send(b"last words").await?;
    /// a.send_eof().await?;
    /// assert_eq!(b.receive(64).await?, b"last words");
    /// let end = b.receive(64).await.unwrap_err(); // what came before the end comes first
    /// assert_eq!(end.kind(), anyio::ErrorKind::EndOfStream);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    async fn send_eof(&mut self) -> Result<()>;
}

/// The default chunk size of byte receives (as AnyIO's 65536).
///
/// # Examples
///
/// ```
/// assert_eq!(anyio::abc::DEFAULT_MAX_BYTES, 64 * 1024);
/// ```
pub const DEFAULT_MAX_BYTES: usize = 65_536;

/// Accepts incoming connections (or other streams).
///
/// # Examples
///
/// ```
/// use anyio::abc::{AsyncResource, Listener};
/// use anyio::{MemoryObjectReceiveStream, TypedAttributeProvider};
///
/// /// "Connections" (here: names) arrive over a memory stream.
/// struct Inbox(MemoryObjectReceiveStream<String>);
/// impl TypedAttributeProvider for Inbox {}
/// impl AsyncResource for Inbox {
///     async fn aclose(&mut self) -> anyio::Result<()> {
///         self.0.close();
///         Ok(())
///     }
/// }
/// impl Listener for Inbox {
///     type Stream = String;
///     async fn accept(&mut self) -> anyio::Result<String> {
///         self.0.receive().await
///     }
/// }
///
/// # anyio::run(async {
/// let (tx, rx) = anyio::create_memory_object_stream(2);
/// tx.send_nowait("alice".to_owned()).unwrap();
/// tx.send_nowait("bob".to_owned()).unwrap();
/// drop(tx); // accepting then fails with EndOfStream, which ends serve
/// let served = Inbox(rx)
///     .serve(|name| async move { println!("hello, {name}") })
///     .await;
/// assert_eq!(served.unwrap_err().kind(), anyio::ErrorKind::EndOfStream);
/// # });
/// ```
pub trait Listener: AsyncResource + TypedAttributeProvider {
    /// What an accepted connection is.
    type Stream;

    /// Waits for the next connection.
    ///
    /// # Cancel safety
    ///
    /// Depends on the implementation (see the implementing type's documentation). A
    /// cancel-safe one loses no connection when an accept is cancelled or dropped;
    /// [`MultiListener`](crate::streams::multi_listener::MultiListener) needs this of its
    /// listeners.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::TypedAttributeProvider;
    /// use anyio::abc::Listener;
    /// use anyio::net::{LocalPort, RemotePort};
    ///
    /// # anyio::run(async {
    /// let mut listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// let client = anyio::connect_tcp("127.0.0.1", listener.extra::<LocalPort>()?).await?;
    /// let server = listener.accept().await?; // the server's end of that connection
    /// assert_eq!(server.extra::<RemotePort>()?, client.extra::<LocalPort>()?);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    async fn accept(&mut self) -> Result<Self::Stream>;

    /// Accepts connections until accepting fails, running `handler` on each in a task of
    /// its own, spawned on the runtime's worker threads (see
    /// [`TaskGroup::spawn`]), so a server uses every core. A handler that fails (returns
    /// `Err` or panics) cancels the others and ends `serve` with its error, as in any
    /// task group: a handler that should outlive a bad client catches its own errors.
    ///
    /// The handler's future must own what it uses (`Send + 'static`); for handlers that
    /// borrow from the caller, use [`serve_local`](Listener::serve_local). Outside an
    /// anyio runtime (e.g. under another executor), the handlers run as
    /// [`serve_local`](Listener::serve_local)'s do.
    ///
    /// # Errors
    ///
    /// The error that stopped accepting, or the handlers' failures.
    ///
    /// # Cancel safety
    ///
    /// As for [`TaskGroup::run`]: cancelled, the accept in progress is dropped at its
    /// suspension point (losing what `accept` loses then), and the running handlers are
    /// cancelled and waited for. Dropped from outside, the handlers are dropped at their
    /// next suspension point.
    ///
    /// # Examples
    ///
    /// A TCP server that greets each client and counts them. The handlers run on the
    /// worker threads, so what they share, they share by `Arc`:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use anyio::TypedAttributeProvider;
    /// use anyio::abc::{ByteReceiveStream, ByteSendStream, Listener};
    /// use anyio::net::{LocalPort, TcpStream};
    ///
    /// # anyio::run(async {
    /// let mut listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    /// let port = listener.extra::<LocalPort>()?;
    /// let served = Arc::new(AtomicUsize::new(0));
    /// let counter = Arc::clone(&served);
    /// anyio::task_group!(|tg| {
    ///     tg.start_soon(listener.serve(move |mut client: TcpStream| {
    ///         let counter = Arc::clone(&counter); // each handler owns its own `Arc`
    ///         async move {
    ///             counter.fetch_add(1, Ordering::Relaxed);
    ///             client.send(b"hello").await
    ///         }
    ///     }));
    ///     let mut client = anyio::connect_tcp("127.0.0.1", port).await?;
    ///     assert_eq!(client.receive(64).await?, b"hello");
    ///     tg.cancel(); // stops the server
    ///     anyio::Result::Ok(())
    /// })?;
    /// assert_eq!(served.load(Ordering::Relaxed), 1);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    async fn serve<H, F>(&mut self, handler: H) -> Result<()>
    where
        H: Fn(Self::Stream) -> F,
        F: Future + Send + 'static,
        F::Output: TaskOutput,
        Self: Sized,
    {
        let on_workers = crate::runtime::with_current_runtime(|_| ()).is_some();
        let group = TaskGroup::new();
        let tg = &group;
        group
            .run(async {
                loop {
                    match self.accept().await {
                        Ok(stream) if on_workers => tg.spawn(handler(stream)),
                        Ok(stream) => tg.start_soon(handler(stream)),
                        Err(error) => return Err::<(), Error>(error),
                    }
                }
            })
            .await
            .map(drop)
    }

    /// As [`serve`](Listener::serve), with each handler a child task on the serving
    /// task's thread (as [`TaskGroup::start_soon`] runs them), so the handlers may borrow
    /// from the caller: a shared state without an `Arc`, a counter, a channel end.
    ///
    /// # Errors
    ///
    /// As for [`serve`](Listener::serve).
    ///
    /// # Cancel safety
    ///
    /// As for [`serve`](Listener::serve); dropped from outside, the handlers are dropped
    /// at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # use anyio::abc::{AsyncResource, Listener};
    /// # use anyio::{MemoryObjectReceiveStream, TypedAttributeProvider};
    /// # struct Inbox(MemoryObjectReceiveStream<String>);
    /// # impl TypedAttributeProvider for Inbox {}
    /// # impl AsyncResource for Inbox {
    /// #     async fn aclose(&mut self) -> anyio::Result<()> { Ok(()) }
    /// # }
    /// # impl Listener for Inbox {
    /// #     type Stream = String;
    /// #     async fn accept(&mut self) -> anyio::Result<String> { self.0.receive().await }
    /// # }
    ///
    /// # anyio::run(async {
    /// let (tx, rx) = anyio::create_memory_object_stream(2);
    /// tx.send_nowait("alice".to_owned()).unwrap();
    /// drop(tx);
    /// let greeted = std::sync::Mutex::new(Vec::new()); // borrowed, not shared by Arc
    /// let _ = Inbox(rx)
    ///     .serve_local(|name| {
    ///         let greeted = &greeted;
    ///         async move { greeted.lock().unwrap().push(name) }
    ///     })
    ///     .await;
    /// assert_eq!(greeted.into_inner().unwrap(), ["alice"]);
    /// # });
    /// ```
    async fn serve_local<H, F>(&mut self, handler: H) -> Result<()>
    where
        H: Fn(Self::Stream) -> F,
        F: Future + Send,
        F::Output: TaskOutput,
        Self: Sized,
    {
        let handler = &handler;
        let group = TaskGroup::new();
        let tg = &group;
        group
            .run(async {
                loop {
                    match self.accept().await {
                        Ok(stream) => tg.start_soon(handler(stream)),
                        Err(error) => return Err::<(), Error>(error),
                    }
                }
            })
            .await
            .map(drop)
    }
}

// A `&mut` of a stream is a stream, so wrappers can borrow one.
impl<S: AsyncResource> AsyncResource for &mut S {
    async fn aclose(&mut self) -> Result<()> {
        (**self).aclose().await
    }
}

impl<S: TypedAttributeProvider> TypedAttributeProvider for &mut S {
    fn extra_attributes(&self) -> TypedAttributes {
        (**self).extra_attributes()
    }
}

impl<S: ByteReceiveStream> ByteReceiveStream for &mut S {
    async fn receive(&mut self, max_bytes: usize) -> Result<Vec<u8>> {
        (**self).receive(max_bytes).await
    }
}

impl<S: ByteSendStream> ByteSendStream for &mut S {
    async fn send(&mut self, data: &[u8]) -> Result<()> {
        (**self).send(data).await
    }
}

/// Implements [`AsyncResource`] and [`TypedAttributeProvider`] for a wrapper `$ty<S>` by
/// forwarding both to its field `$field` (closing the wrapper closes the inner stream;
/// the wrapper offers the inner stream's attributes).
macro_rules! forward_resource_to_inner {
    ($ty:ident, $field:ident) => {
        impl<S: $crate::abc::AsyncResource> $crate::abc::AsyncResource for $ty<S> {
            async fn aclose(&mut self) -> $crate::Result<()> {
                self.$field.aclose().await
            }
        }

        impl<S: $crate::TypedAttributeProvider> $crate::TypedAttributeProvider for $ty<S> {
            fn extra_attributes(&self) -> $crate::TypedAttributes {
                self.$field.extra_attributes()
            }
        }
    };
}
pub(crate) use forward_resource_to_inner;

/// The error of a byte receive asked for zero bytes.
pub(crate) fn check_max_bytes(max_bytes: usize) -> Result<()> {
    if max_bytes == 0 {
        return Err(Error::new(
            ErrorKind::Io(std::io::ErrorKind::InvalidInput),
            "max_bytes must be at least 1",
        ));
    }
    Ok(())
}
