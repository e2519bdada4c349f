//! Byte streams over object streams of `Vec<u8>` chunks, and an in-memory connected pair
//! of byte streams built from them (for tests and in-process pipes).
//!
//! # Examples
//!
//! ```
//! use anyio::abc::{ByteReceiveStream, ByteSendStream};
//! use anyio::streams::object_bytes::memory_byte_stream_pair;
//!
//! # anyio::run(async {
//! let (mut a, mut b) = memory_byte_stream_pair(4); // like a connected socket pair
//! a.send(b"ping").await?;
//! assert_eq!(b.receive(64).await?, b"ping");
//! b.send(b"pong").await?;
//! assert_eq!(a.receive(64).await?, b"pong");
//! # anyio::Result::Ok(()) }).unwrap();
//! ```

use crate::abc::{
    ByteReceiveStream, ByteSendStream, ObjectReceiveStream, ObjectSendStream, check_max_bytes,
    forward_resource_to_inner,
};
use crate::error::Result;
use crate::streams::memory::{
    MemoryObjectReceiveStream, MemoryObjectSendStream, create_memory_object_stream,
};
use crate::streams::stapled::StapledByteStream;

/// A [`ByteReceiveStream`] over an object stream of byte chunks: a chunk larger than the
/// requested `max_bytes` is returned in pieces.
///
/// # Cancel safety
///
/// `receive` is cancel-safe if the inner stream's `receive` is: the rest of a chunk stays
/// in this wrapper for the next call, and a chunk is taken only in the poll that returns
/// (part of) it. With bytes left over it returns at once, without a checkpoint.
///
/// # Examples
///
/// ```
/// use anyio::abc::ByteReceiveStream;
/// use anyio::streams::object_bytes::ObjectByteReceiveStream;
///
/// # anyio::run(async {
/// let (tx, rx) = anyio::create_memory_object_stream::<Vec<u8>>(1);
/// tx.send_nowait(b"chunk".to_vec()).unwrap();
/// let mut bytes = ObjectByteReceiveStream::new(rx);
/// assert_eq!(bytes.receive(3).await?, b"chu");
/// assert_eq!(bytes.receive(3).await?, b"nk");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct ObjectByteReceiveStream<R> {
    inner: R,
    leftover: Vec<u8>,
}

impl<R> ObjectByteReceiveStream<R> {
    /// Wraps an object stream of `Vec<u8>` chunks.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::ObjectByteReceiveStream;
    ///
    /// let (_tx, rx) = anyio::create_memory_object_stream::<Vec<u8>>(1);
    /// let _bytes = ObjectByteReceiveStream::new(rx);
    /// ```
    pub fn new(inner: R) -> ObjectByteReceiveStream<R> {
        ObjectByteReceiveStream {
            inner,
            leftover: Vec::new(),
        }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::ObjectByteReceiveStream;
    ///
    /// let (_tx, rx) = anyio::create_memory_object_stream::<Vec<u8>>(1);
    /// let rx = ObjectByteReceiveStream::new(rx).into_inner();
    /// assert!(!rx.is_closed());
    /// ```
    pub fn into_inner(self) -> R {
        self.inner
    }
}

forward_resource_to_inner!(ObjectByteReceiveStream, inner);

impl<R: ObjectReceiveStream<Vec<u8>>> ByteReceiveStream for ObjectByteReceiveStream<R> {
    async fn receive(&mut self, max_bytes: usize) -> Result<Vec<u8>> {
        check_max_bytes(max_bytes)?;
        while self.leftover.is_empty() {
            // Empty chunks carry nothing; skip them.
            self.leftover = self.inner.receive().await?;
        }
        if self.leftover.len() <= max_bytes {
            return Ok(std::mem::take(&mut self.leftover));
        }
        let rest = self.leftover.split_off(max_bytes);
        Ok(std::mem::replace(&mut self.leftover, rest))
    }
}

/// A [`ByteSendStream`] over an object stream of byte chunks: each send is one chunk.
///
/// # Cancel safety
///
/// `send` is one `send` of the inner stream (of a copy of the data), so it sends all of
/// it or nothing when that send does, as a memory object stream's does. Sending no bytes
/// returns at once, without a checkpoint.
///
/// # Examples
///
/// ```
/// use anyio::abc::ByteSendStream;
/// use anyio::streams::object_bytes::ObjectByteSendStream;
///
/// # anyio::run(async {
/// let (tx, rx) = anyio::create_memory_object_stream::<Vec<u8>>(1);
/// let mut bytes = ObjectByteSendStream::new(tx);
/// bytes.send(b"one chunk").await?;
/// assert_eq!(rx.receive().await?, b"one chunk");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct ObjectByteSendStream<S> {
    inner: S,
}

impl<S> ObjectByteSendStream<S> {
    /// Wraps an object stream of `Vec<u8>` chunks.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::ObjectByteSendStream;
    ///
    /// let (tx, _rx) = anyio::create_memory_object_stream::<Vec<u8>>(1);
    /// let _bytes = ObjectByteSendStream::new(tx);
    /// ```
    pub fn new(inner: S) -> ObjectByteSendStream<S> {
        ObjectByteSendStream { inner }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::object_bytes::ObjectByteSendStream;
    ///
    /// let (tx, _rx) = anyio::create_memory_object_stream::<Vec<u8>>(1);
    /// let tx = ObjectByteSendStream::new(tx).into_inner();
    /// assert!(!tx.is_closed());
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

forward_resource_to_inner!(ObjectByteSendStream, inner);

impl<S: ObjectSendStream<Vec<u8>>> ByteSendStream for ObjectByteSendStream<S> {
    async fn send(&mut self, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.inner.send(data.to_vec()).await
    }
}

/// One end of [`memory_byte_stream_pair`].
///
/// # Examples
///
/// ```
/// use anyio::streams::object_bytes::{MemoryByteStream, memory_byte_stream_pair};
///
/// let (a, _b): (MemoryByteStream, MemoryByteStream) = memory_byte_stream_pair(8);
/// let (_send_half, _receive_half) = a.into_parts();
/// ```
pub type MemoryByteStream = StapledByteStream<
    ObjectByteSendStream<MemoryObjectSendStream<Vec<u8>>>,
    ObjectByteReceiveStream<MemoryObjectReceiveStream<Vec<u8>>>,
>;

/// Two connected in-memory byte streams: what one sends, the other receives. Each
/// direction buffers up to `max_chunks` sends before `send` waits. `send_eof` on one end
/// makes the other's receives end with [`ErrorKind::EndOfStream`](crate::ErrorKind).
///
/// # Examples
///
/// ```
/// use anyio::abc::{ByteReceiveStream, ByteSendStream, ByteStream};
/// use anyio::streams::object_bytes::memory_byte_stream_pair;
///
/// # anyio::run(async {
/// let (mut a, mut b) = memory_byte_stream_pair(4);
/// a.send(b"ping").await?;
/// assert_eq!(b.receive(2).await?, b"pi");
/// assert_eq!(b.receive(1024).await?, b"ng");
/// a.send_eof().await?;
/// assert_eq!(b.receive(1024).await.unwrap_err().kind(), anyio::ErrorKind::EndOfStream);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub fn memory_byte_stream_pair(max_chunks: usize) -> (MemoryByteStream, MemoryByteStream) {
    let (a_tx, b_rx) = create_memory_object_stream(max_chunks);
    let (b_tx, a_rx) = create_memory_object_stream(max_chunks);
    (
        StapledByteStream::new(
            ObjectByteSendStream::new(a_tx),
            ObjectByteReceiveStream::new(a_rx),
        ),
        StapledByteStream::new(
            ObjectByteSendStream::new(b_tx),
            ObjectByteReceiveStream::new(b_rx),
        ),
    )
}
