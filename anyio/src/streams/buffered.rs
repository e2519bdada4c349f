//! [`BufferedByteReceiveStream`]: exact-size and delimited reads over any byte stream.
//!
//! # Examples
//!
//! Reading frames of a length byte and that many bytes of payload:
//!
//! ```
//! use anyio::abc::ByteSendStream;
//! use anyio::streams::buffered::BufferedByteReceiveStream;
//! use anyio::streams::object_bytes::memory_byte_stream_pair;
//!
//! # anyio::run(async {
//! let (mut client, server) = memory_byte_stream_pair(4);
//! client.send(b"\x05hello\x03bye").await?;
//! let mut reader = BufferedByteReceiveStream::new(server);
//! for expected in [&b"hello"[..], b"bye"] {
//!     let length = reader.receive_exactly(1).await?[0];
//!     assert_eq!(reader.receive_exactly(length.into()).await?, expected);
//! }
//! # anyio::Result::Ok(()) }).unwrap();
//! ```

use crate::abc::{
    ByteReceiveStream, ByteSendStream, ByteStream, DEFAULT_MAX_BYTES, check_max_bytes,
    forward_resource_to_inner,
};
use crate::error::{Error, ErrorKind, Result};

/// Wraps a byte stream with a buffer, for protocols that read a fixed number of bytes
/// ([`receive_exactly`](BufferedByteReceiveStream::receive_exactly)) or up to a
/// delimiter ([`receive_until`](BufferedByteReceiveStream::receive_until)).
///
/// Bytes read from the inner stream but not returned yet stay in the buffer, also when
/// a receive is cancelled halfway, so nothing is lost. When the inner stream is a
/// [`ByteStream`], so is the wrapper (sends go straight through); it offers the inner
/// stream's typed attributes.
///
/// # Examples
///
/// ```
/// use anyio::abc::ByteSendStream;
/// use anyio::streams::buffered::BufferedByteReceiveStream;
/// use anyio::streams::object_bytes::memory_byte_stream_pair;
///
/// # anyio::run(async {
/// let (mut client, server) = memory_byte_stream_pair(16);
/// client.send(b"GET / HTTP/1.1\r\nHost: x\r\n").await?;
/// let mut reader = BufferedByteReceiveStream::new(server);
/// assert_eq!(reader.receive_until(b"\r\n", 1024).await?, b"GET / HTTP/1.1");
/// assert_eq!(reader.receive_exactly(4).await?, b"Host");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct BufferedByteReceiveStream<S> {
    inner: S,
    buffer: Vec<u8>,
    /// How much of `buffer` is known not to contain `searched_for` (so that a search
    /// resumed after a cancelled `receive_until` does not scan it again). Only valid for
    /// that delimiter: a call with another one starts from the front.
    searched: usize,
    /// The delimiter `searched` refers to.
    searched_for: Vec<u8>,
}

/// A buffered stream over a bidirectional byte stream (AnyIO's `BufferedByteStream`).
///
/// # Examples
///
/// ```
/// use anyio::abc::{ByteReceiveStream, ByteSendStream};
/// use anyio::streams::buffered::BufferedByteStream;
/// use anyio::streams::object_bytes::memory_byte_stream_pair;
///
/// # anyio::run(async {
/// let (a, mut b) = memory_byte_stream_pair(4);
/// let mut a = BufferedByteStream::new(a);
/// a.send(b"ask").await?;
/// assert_eq!(b.receive(64).await?, b"ask");
/// b.send(b"1234").await?;
/// assert_eq!(a.receive_exactly(4).await?, b"1234");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub type BufferedByteStream<S> = BufferedByteReceiveStream<S>;

impl<S> BufferedByteReceiveStream<S> {
    /// Wraps `inner` with an empty buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::buffered::BufferedByteReceiveStream;
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// let (_peer, stream) = memory_byte_stream_pair(1);
    /// let buffered = BufferedByteReceiveStream::new(stream);
    /// assert!(buffered.buffer().is_empty());
    /// ```
    pub fn new(inner: S) -> BufferedByteReceiveStream<S> {
        BufferedByteReceiveStream {
            inner,
            buffer: Vec::new(),
            searched: 0,
            searched_for: Vec::new(),
        }
    }

    /// The bytes received but not returned yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::buffered::BufferedByteReceiveStream;
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// let (_peer, stream) = memory_byte_stream_pair(1);
    /// let mut buffered = BufferedByteReceiveStream::new(stream);
    /// buffered.feed_data(b"abc");
    /// assert_eq!(buffered.buffer(), b"abc");
    /// ```
    pub fn buffer(&self) -> &[u8] {
        &self.buffer
    }

    /// Appends `data` to the buffer: it comes out before anything still in the inner
    /// stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::ByteReceiveStream;
    /// use anyio::streams::buffered::BufferedByteReceiveStream;
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// # anyio::run(async {
    /// let (_peer, stream) = memory_byte_stream_pair(1);
    /// let mut buffered = BufferedByteReceiveStream::new(stream);
    /// buffered.feed_data(b"pushed back");
    /// assert_eq!(buffered.receive(6).await?, b"pushed");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn feed_data(&mut self, data: &[u8]) {
        self.buffer.extend_from_slice(data);
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::buffered::BufferedByteReceiveStream;
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// let (_peer, stream) = memory_byte_stream_pair(1);
    /// let buffered = BufferedByteReceiveStream::new(stream);
    /// let _inner = buffered.get_ref();
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped stream, mutably (reading from it directly skips the buffer).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::buffered::BufferedByteReceiveStream;
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// let (_peer, stream) = memory_byte_stream_pair(1);
    /// let mut buffered = BufferedByteReceiveStream::new(stream);
    /// let _inner = buffered.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped stream and the buffered bytes it had already given.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::buffered::BufferedByteReceiveStream;
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// let (_peer, stream) = memory_byte_stream_pair(1);
    /// let mut buffered = BufferedByteReceiveStream::new(stream);
    /// buffered.feed_data(b"rest");
    /// let (_stream, rest) = buffered.into_parts();
    /// assert_eq!(rest, b"rest");
    /// ```
    pub fn into_parts(self) -> (S, Vec<u8>) {
        (self.inner, self.buffer)
    }

    fn take_front(&mut self, n: usize) -> Vec<u8> {
        let rest = self.buffer.split_off(n);
        self.searched = 0;
        std::mem::replace(&mut self.buffer, rest)
    }
}

impl<S: ByteReceiveStream> BufferedByteReceiveStream<S> {
    /// Reads one more chunk into the buffer; `IncompleteRead` at the end of the stream.
    async fn fill(&mut self, what: &str) -> Result<()> {
        match self.inner.receive(DEFAULT_MAX_BYTES).await {
            Ok(chunk) => {
                self.buffer.extend_from_slice(&chunk);
                Ok(())
            }
            Err(error) if error.kind() == ErrorKind::EndOfStream => Err(Error::new(
                ErrorKind::IncompleteRead,
                format!(
                    "the stream ended before {what} ({} bytes buffered)",
                    self.buffer.len()
                ),
            )),
            Err(error) => Err(error),
        }
    }

    /// Exactly `nbytes` bytes.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::IncompleteRead`] if the stream ends first (the bytes read stay in the
    /// buffer).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe if the inner stream's `receive` is: bytes read before a cancellation
    /// (or a drop) stay in the buffer for the next call. A checkpoint when it reads from
    /// the inner stream (if that `receive` is one); with enough bytes buffered it returns
    /// at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::{ByteSendStream, ByteStream};
    /// use anyio::streams::buffered::BufferedByteReceiveStream;
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// # anyio::run(async {
    /// let (mut peer, stream) = memory_byte_stream_pair(4);
    /// let mut buffered = BufferedByteReceiveStream::new(stream);
    /// peer.send(b"12").await?;
    /// peer.send(b"345").await?;
    /// peer.send_eof().await?;
    /// assert_eq!(buffered.receive_exactly(4).await?, b"1234");
    /// let short = buffered.receive_exactly(4).await.unwrap_err();
    /// assert_eq!(short.kind(), anyio::ErrorKind::IncompleteRead);
    /// assert_eq!(buffered.buffer(), b"5");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn receive_exactly(&mut self, nbytes: usize) -> Result<Vec<u8>> {
        while self.buffer.len() < nbytes {
            self.fill(&format!("{nbytes} bytes could be read")).await?;
        }
        Ok(self.take_front(nbytes))
    }

    /// The bytes before the next `delimiter` (which is consumed, not returned), looking
    /// at no more than `max_bytes` bytes before it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::DelimiterNotFound`] if `max_bytes` bytes were read without it;
    /// [`ErrorKind::IncompleteRead`] if the stream ends first. Either way the bytes read
    /// stay in the buffer.
    ///
    /// # Cancel safety
    ///
    /// As for [`receive_exactly`](BufferedByteReceiveStream::receive_exactly): bytes read
    /// stay in the buffer, and a later call with the same delimiter resumes the search
    /// where this one stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::ByteSendStream;
    /// use anyio::streams::buffered::BufferedByteReceiveStream;
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// # anyio::run(async {
    /// let (mut peer, stream) = memory_byte_stream_pair(4);
    /// let mut buffered = BufferedByteReceiveStream::new(stream);
    /// peer.send(b"key=value;too long without a delimiter").await?;
    /// assert_eq!(buffered.receive_until(b";", 64).await?, b"key=value");
    /// let error = buffered.receive_until(b";", 8).await.unwrap_err();
    /// assert_eq!(error.kind(), anyio::ErrorKind::DelimiterNotFound);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn receive_until(&mut self, delimiter: &[u8], max_bytes: usize) -> Result<Vec<u8>> {
        assert!(
            !delimiter.is_empty(),
            "receive_until needs a non-empty delimiter"
        );
        if self.searched_for != delimiter {
            self.searched = 0;
            self.searched_for.clear();
            self.searched_for.extend_from_slice(delimiter);
        }
        loop {
            let start = self.searched.saturating_sub(delimiter.len() - 1);
            if let Some(at) = find(&self.buffer[start..], delimiter) {
                let end = start + at;
                if end <= max_bytes {
                    let found = self.take_front(end);
                    self.take_front(delimiter.len());
                    return Ok(found);
                }
                // Found too far: a later call with a larger limit must find it again.
                self.searched = 0;
            } else {
                self.searched = self.buffer.len();
            }
            if self.buffer.len() >= max_bytes {
                return Err(Error::new(
                    ErrorKind::DelimiterNotFound,
                    format!("no delimiter {delimiter:?} within the first {max_bytes} bytes"),
                ));
            }
            self.fill("the delimiter was found").await?;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

forward_resource_to_inner!(BufferedByteReceiveStream, inner);

impl<S: ByteReceiveStream> ByteReceiveStream for BufferedByteReceiveStream<S> {
    /// Buffered bytes first, else a chunk from the inner stream.
    ///
    /// # Cancel safety
    ///
    /// Buffered bytes are returned at once, without a checkpoint; otherwise as for the
    /// inner stream's `receive`.
    async fn receive(&mut self, max_bytes: usize) -> Result<Vec<u8>> {
        check_max_bytes(max_bytes)?;
        if self.buffer.is_empty() {
            return self.inner.receive(max_bytes).await;
        }
        let n = max_bytes.min(self.buffer.len());
        Ok(self.take_front(n))
    }
}

impl<S: ByteSendStream> ByteSendStream for BufferedByteReceiveStream<S> {
    async fn send(&mut self, data: &[u8]) -> Result<()> {
        self.inner.send(data).await
    }
}

impl<S: ByteStream> ByteStream for BufferedByteReceiveStream<S> {
    async fn send_eof(&mut self) -> Result<()> {
        self.inner.send_eof().await
    }
}
