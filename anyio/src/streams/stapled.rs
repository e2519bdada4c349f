//! Two one-way streams stapled into one two-way stream.
//!
//! # Examples
//!
//! Two memory object streams stapled into a connected pair of two-way streams:
//!
//! ```
//! use anyio::abc::{UnreliableObjectReceiveStream, UnreliableObjectSendStream};
//! use anyio::streams::stapled::StapledObjectStream;
//!
//! # anyio::run(async {
//! let (to_b, from_a) = anyio::create_memory_object_stream::<&str>(1);
//! let (to_a, from_b) = anyio::create_memory_object_stream::<&str>(1);
//! let mut a = StapledObjectStream::new(to_b, from_b);
//! let mut b = StapledObjectStream::new(to_a, from_a);
//! a.send("ping").await?;
//! assert_eq!(b.receive().await?, "ping");
//! b.send("pong").await?;
//! assert_eq!(a.receive().await?, "pong");
//! # anyio::Result::Ok(()) }).unwrap();
//! ```

use crate::abc::{
    AsyncResource, ByteReceiveStream, ByteSendStream, ByteStream, ObjectReceiveStream,
    ObjectSendStream, ObjectStream, UnreliableObjectReceiveStream, UnreliableObjectSendStream,
};
use crate::error::Result;
use crate::typed_attr::{TypedAttributeProvider, TypedAttributes};

pub use crate::streams::multi_listener::MultiListener;

/// Implements [`AsyncResource`] (closing both halves, both even if the first fails) and
/// [`TypedAttributeProvider`] (both halves' attributes, the receive half's winning) for a
/// stapled type with fields `send_stream` and `receive_stream`.
macro_rules! stapled_resource {
    ($ty:ident) => {
        impl<S: AsyncResource, R: AsyncResource> AsyncResource for $ty<S, R> {
            async fn aclose(&mut self) -> Result<()> {
                let sent = self.send_stream.aclose().await;
                let received = self.receive_stream.aclose().await;
                sent.and(received)
            }
        }

        impl<S: TypedAttributeProvider, R: TypedAttributeProvider> TypedAttributeProvider
            for $ty<S, R>
        {
            fn extra_attributes(&self) -> TypedAttributes {
                let mut attributes = self.send_stream.extra_attributes();
                attributes.extend(self.receive_stream.extra_attributes());
                attributes
            }
        }
    };
}

/// A [`ByteStream`] made of a send stream and a receive stream.
///
/// `send_eof` closes the send half only; `aclose` closes both. Typed attributes come
/// from both halves, the receive half's winning where both offer one.
///
/// # Cancel safety
///
/// `send` and `receive` are those of the half they forward to. `aclose` closes the send
/// half, then the receive half: cancelled or dropped before it got to the receive half,
/// it leaves that half open.
///
/// # Examples
///
/// ```
/// use anyio::abc::{ByteReceiveStream, ByteSendStream};
/// use anyio::streams::object_bytes::memory_byte_stream_pair;
/// use anyio::streams::stapled::StapledByteStream;
///
/// # anyio::run(async {
/// let (mut left, right) = memory_byte_stream_pair(4);
/// let (right_send, right_receive) = right.into_parts();
/// // Re-staple the halves of one end: an echo through the pair.
/// let mut restapled = StapledByteStream::new(right_send, right_receive);
/// left.send(b"hi").await?;
/// let got = restapled.receive(16).await?;
/// restapled.send(&got).await?;
/// assert_eq!(left.receive(16).await?, b"hi");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct StapledByteStream<S, R> {
    /// The sending half.
    pub send_stream: S,
    /// The receiving half.
    pub receive_stream: R,
}

impl<S, R> StapledByteStream<S, R> {
    /// Staples `send_stream` and `receive_stream`.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::{ObjectByteReceiveStream, ObjectByteSendStream};
    /// use anyio::streams::stapled::StapledByteStream;
    ///
    /// let (tx, rx) = anyio::create_memory_object_stream::<Vec<u8>>(4);
    /// // A loopback byte stream: what it sends, it receives.
    /// let _looped = StapledByteStream::new(ObjectByteSendStream::new(tx), ObjectByteReceiveStream::new(rx));
    /// ```
    pub fn new(send_stream: S, receive_stream: R) -> StapledByteStream<S, R> {
        StapledByteStream {
            send_stream,
            receive_stream,
        }
    }

    /// The two halves.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// let (a, _b) = memory_byte_stream_pair(1);
    /// let (_send, _receive) = a.into_parts();
    /// ```
    pub fn into_parts(self) -> (S, R) {
        (self.send_stream, self.receive_stream)
    }
}

stapled_resource!(StapledByteStream);

impl<S: ByteSendStream, R: ByteReceiveStream> ByteReceiveStream for StapledByteStream<S, R> {
    async fn receive(&mut self, max_bytes: usize) -> Result<Vec<u8>> {
        self.receive_stream.receive(max_bytes).await
    }
}

impl<S: ByteSendStream, R: ByteReceiveStream> ByteSendStream for StapledByteStream<S, R> {
    async fn send(&mut self, data: &[u8]) -> Result<()> {
        self.send_stream.send(data).await
    }
}

impl<S: ByteSendStream, R: ByteReceiveStream> ByteStream for StapledByteStream<S, R> {
    /// Closes the send half; receiving goes on.
    ///
    /// # Cancel safety
    ///
    /// As for the send half's `aclose`.
    async fn send_eof(&mut self) -> Result<()> {
        self.send_stream.aclose().await
    }
}

/// An [`ObjectStream`] made of a send stream and a receive stream of `T`.
///
/// `send_eof` closes the send half only; `aclose` closes both. Typed attributes come
/// from both halves, the receive half's winning where both offer one.
///
/// # Cancel safety
///
/// `send` and `receive` are those of the half they forward to. `aclose` closes the send
/// half, then the receive half: cancelled or dropped before it got to the receive half,
/// it leaves that half open.
///
/// # Examples
///
/// ```
/// use anyio::abc::{ObjectStream, UnreliableObjectReceiveStream, UnreliableObjectSendStream};
/// use anyio::streams::stapled::StapledObjectStream;
///
/// # anyio::run(async {
/// let (tx, rx) = anyio::create_memory_object_stream::<u32>(4);
/// let mut looped = StapledObjectStream::new(tx, rx);
/// UnreliableObjectSendStream::send(&mut looped, 1).await?;
/// looped.send_eof().await?;
/// assert_eq!(UnreliableObjectReceiveStream::receive(&mut looped).await?, 1);
/// let end = UnreliableObjectReceiveStream::receive(&mut looped).await.unwrap_err();
/// assert_eq!(end.kind(), anyio::ErrorKind::EndOfStream);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct StapledObjectStream<S, R> {
    /// The sending half.
    pub send_stream: S,
    /// The receiving half.
    pub receive_stream: R,
}

impl<S, R> StapledObjectStream<S, R> {
    /// Staples `send_stream` and `receive_stream`.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::stapled::StapledObjectStream;
    ///
    /// let (tx, rx) = anyio::create_memory_object_stream::<String>(4);
    /// let stream = StapledObjectStream::new(tx, rx);
    /// assert!(!stream.send_stream.is_closed());
    /// ```
    pub fn new(send_stream: S, receive_stream: R) -> StapledObjectStream<S, R> {
        StapledObjectStream {
            send_stream,
            receive_stream,
        }
    }

    /// The two halves.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::stapled::StapledObjectStream;
    ///
    /// let (tx, rx) = anyio::create_memory_object_stream::<u8>(1);
    /// let (tx, rx) = StapledObjectStream::new(tx, rx).into_parts();
    /// tx.send_nowait(1).unwrap();
    /// assert_eq!(rx.receive_nowait().unwrap(), 1);
    /// ```
    pub fn into_parts(self) -> (S, R) {
        (self.send_stream, self.receive_stream)
    }
}

stapled_resource!(StapledObjectStream);

impl<T, S: UnreliableObjectSendStream<T>, R: UnreliableObjectReceiveStream<T>>
    UnreliableObjectReceiveStream<T> for StapledObjectStream<S, R>
{
    async fn receive(&mut self) -> Result<T> {
        self.receive_stream.receive().await
    }
}

impl<T, S: UnreliableObjectSendStream<T>, R: UnreliableObjectReceiveStream<T>>
    UnreliableObjectSendStream<T> for StapledObjectStream<S, R>
{
    async fn send(&mut self, item: T) -> Result<()> {
        self.send_stream.send(item).await
    }
}

impl<T, S: ObjectSendStream<T>, R: ObjectReceiveStream<T>> ObjectReceiveStream<T>
    for StapledObjectStream<S, R>
{
}

impl<T, S: ObjectSendStream<T>, R: ObjectReceiveStream<T>> ObjectSendStream<T>
    for StapledObjectStream<S, R>
{
}

impl<T, S: ObjectSendStream<T>, R: ObjectReceiveStream<T>> ObjectStream<T>
    for StapledObjectStream<S, R>
{
    /// Closes the send half; receiving goes on.
    ///
    /// # Cancel safety
    ///
    /// As for the send half's `aclose`.
    async fn send_eof(&mut self) -> Result<()> {
        self.send_stream.aclose().await
    }
}
