//! Adapters between anyio's byte streams and the `futures-io` traits, both ways:
//! [`ByteStreamIo`] shows a byte stream as `futures_io::AsyncRead` / `AsyncWrite`, for
//! code written against those traits (codecs, `futures::io::copy`, ...);
//! [`FuturesIoStream`] shows another library's `AsyncRead + AsyncWrite` as an anyio byte
//! stream.
//!
//! # Examples
//!
//! ```
//! use anyio::abc::ByteReceiveStream;
//! use anyio::streams::io::ByteStreamIo;
//! use anyio::streams::object_bytes::memory_byte_stream_pair;
//!
//! # anyio::run(async {
//! let (a, mut b) = memory_byte_stream_pair(4);
//! let mut writer = ByteStreamIo::new(a); // an anyio stream as a `futures_io::AsyncWrite`
//! futures_lite::io::copy(&b"copied by futures-lite"[..], &mut writer).await?;
//! assert_eq!(b.receive(64).await?, b"copied by futures-lite");
//! # anyio::Result::Ok(()) }).unwrap();
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use crate::abc::{ByteReceiveStream, ByteSendStream};
use crate::error::{ErrorKind, Result};

type Operation<S> = Pin<Box<dyn Future<Output = (S, Outcome)>>>;

enum Outcome {
    Read(Result<Vec<u8>>),
    Write(Result<usize>),
    Close(Result<()>),
}

enum State<S> {
    Idle(S),
    Busy(Operation<S>),
    /// Only while an operation is being started or a panic unwound one.
    Gone,
}

/// Adapts a byte stream to [`futures_io::AsyncRead`] (when it is a
/// [`ByteReceiveStream`]) and [`futures_io::AsyncWrite`] (when it is a
/// [`ByteSendStream`]).
///
/// One operation runs at a time: the adapter owns the stream and moves it into the
/// operation in flight, so the stream must be `'static`, and the adapter is not `Send`.
/// As with other adapters of this kind, a `poll_write` that returned `Pending` has
/// started sending its buffer and must be called again with the same buffer. The end of
/// the stream reads as 0 bytes; `poll_close` closes the stream.
///
/// # Cancel safety
///
/// The stream operation in flight belongs to the adapter, not to the read or write
/// future that polled it: dropping that future (by a cancel scope or from outside) leaves
/// the operation to the adapter's next poll, so bytes received are kept for the next read
/// and a started send completes. Dropping the adapter drops the operation in flight.
///
/// # Examples
///
/// ```
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
/// use anyio::streams::io::ByteStreamIo;
/// use anyio::streams::object_bytes::memory_byte_stream_pair;
///
/// # anyio::run(async {
/// let (a, b) = memory_byte_stream_pair(4);
/// let (mut a, mut b) = (ByteStreamIo::new(a), ByteStreamIo::new(b));
/// a.write_all(b"through futures-io").await?;
/// a.close().await?; // the end of the stream for `b`
/// let mut text = String::new();
/// b.read_to_string(&mut text).await?;
/// assert_eq!(text, "through futures-io");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct ByteStreamIo<S> {
    state: State<S>,
    /// Bytes read beyond what the caller's buffer could take.
    leftover: Vec<u8>,
    read_ready: Option<Result<Vec<u8>>>,
    write_ready: Option<Result<usize>>,
    close_ready: Option<Result<()>>,
}

impl<S> ByteStreamIo<S> {
    /// Wraps `stream`.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::io::ByteStreamIo;
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// let (a, _b) = memory_byte_stream_pair(1);
    /// let _io = ByteStreamIo::new(a);
    /// ```
    pub fn new(stream: S) -> ByteStreamIo<S> {
        ByteStreamIo {
            state: State::Idle(stream),
            leftover: Vec::new(),
            read_ready: None,
            write_ready: None,
            close_ready: None,
        }
    }

    /// The stream back, unless an operation is in flight.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::io::ByteStreamIo;
    /// use anyio::streams::object_bytes::memory_byte_stream_pair;
    ///
    /// let (a, _b) = memory_byte_stream_pair(1);
    /// assert!(ByteStreamIo::new(a).into_inner().is_some());
    /// ```
    pub fn into_inner(self) -> Option<S> {
        match self.state {
            State::Idle(stream) => Some(stream),
            _ => None,
        }
    }

    /// Drives the operation in flight (if any) to completion and stashes its outcome;
    /// then hands out the idle stream.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<&mut S> {
        if let State::Busy(operation) = &mut self.state {
            let (stream, outcome) = ready!(operation.as_mut().poll(cx));
            match outcome {
                Outcome::Read(result) => self.read_ready = Some(result),
                Outcome::Write(result) => self.write_ready = Some(result),
                Outcome::Close(result) => self.close_ready = Some(result),
            }
            self.state = State::Idle(stream);
        }
        match &mut self.state {
            State::Idle(stream) => Poll::Ready(stream),
            _ => panic!("ByteStreamIo used after a panic in one of its operations"),
        }
    }

    fn start(&mut self, operation: impl FnOnce(S) -> Operation<S>) {
        if let State::Idle(stream) = std::mem::replace(&mut self.state, State::Gone) {
            self.state = State::Busy(operation(stream));
        }
    }
}

impl<S> fmt::Debug for ByteStreamIo<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByteStreamIo")
            .field("busy", &matches!(self.state, State::Busy(_)))
            .finish_non_exhaustive()
    }
}

impl<S> Unpin for ByteStreamIo<S> {}

impl<S: ByteReceiveStream + 'static> futures_io::AsyncRead for ByteStreamIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            if !this.leftover.is_empty() {
                let n = buf.len().min(this.leftover.len());
                buf[..n].copy_from_slice(&this.leftover[..n]);
                this.leftover.drain(..n);
                return Poll::Ready(Ok(n));
            }
            ready!(this.poll_idle(cx));
            match this.read_ready.take() {
                Some(Ok(data)) => this.leftover = data,
                Some(Err(error)) if error.kind() == ErrorKind::EndOfStream => {
                    return Poll::Ready(Ok(0));
                }
                Some(Err(error)) => return Poll::Ready(Err(error.into())),
                None => {
                    let max_bytes = buf.len();
                    this.start(|mut stream| {
                        Box::pin(async move {
                            let result = stream.receive(max_bytes).await;
                            (stream, Outcome::Read(result))
                        })
                    });
                }
            }
        }
    }
}

impl<S: ByteSendStream + 'static> futures_io::AsyncWrite for ByteStreamIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            ready!(this.poll_idle(cx));
            if let Some(result) = this.write_ready.take() {
                return Poll::Ready(result.map_err(Into::into));
            }
            if buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            let data = buf.to_vec();
            this.start(|mut stream| {
                Box::pin(async move {
                    let len = data.len();
                    let result = stream.send(&data).await.map(|()| len);
                    (stream, Outcome::Write(result))
                })
            });
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Sends complete in full; only an operation in flight needs finishing.
        let this = self.get_mut();
        ready!(this.poll_idle(cx));
        match this.write_ready.take() {
            Some(Err(error)) => Poll::Ready(Err(error.into())),
            _ => Poll::Ready(Ok(())),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            ready!(this.poll_idle(cx));
            if let Some(result) = this.close_ready.take() {
                return Poll::Ready(result.map_err(Into::into));
            }
            this.start(|mut stream| {
                Box::pin(async move {
                    let result = stream.aclose().await;
                    (stream, Outcome::Close(result))
                })
            });
        }
    }
}

/// Adapts a [`futures_io::AsyncRead`] + [`futures_io::AsyncWrite`] (another library's
/// socket, pipe or codec) to anyio's byte stream traits: the reverse of
/// [`ByteStreamIo`]. With it, that I/O works with anyio's wrappers (buffered, text,
/// stapled streams) and with code written against [`ByteStream`](crate::abc::ByteStream).
///
/// `receive(max)` reads up to `max` bytes (at most [`DEFAULT_MAX_BYTES`](crate::abc::DEFAULT_MAX_BYTES) at once) and
/// reports the end of the stream (a read of 0 bytes) as an error of kind
/// [`ErrorKind::EndOfStream`]; `send` writes all the bytes; `send_eof` and `aclose`
/// close the writing side (`poll_close`). Each starts with a checkpoint.
///
/// # Cancel safety
///
/// As the inner reader's and writer's: a `receive` cancelled or dropped before its read
/// returned loses nothing when the inner `poll_read` is atomic (as a socket's is); a
/// `send` cancelled halfway may have written part of its bytes.
///
/// # Examples
///
/// ```
/// use anyio::abc::{ByteReceiveStream, ByteSendStream};
/// use anyio::streams::io::{ByteStreamIo, FuturesIoStream};
/// use anyio::streams::object_bytes::memory_byte_stream_pair;
///
/// # anyio::run(async {
/// // A futures-io object (here an anyio stream seen through `ByteStreamIo`) becomes a
/// // byte stream again.
/// let (a, mut b) = memory_byte_stream_pair(4);
/// let mut a = FuturesIoStream::new(ByteStreamIo::new(a));
/// a.send(b"round trip").await?;
/// assert_eq!(b.receive(64).await?, b"round trip");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct FuturesIoStream<T> {
    inner: T,
}

impl<T> FuturesIoStream<T> {
    /// Wraps `inner`.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::{ByteReceiveStream, ByteSendStream};
    /// use anyio::streams::io::FuturesIoStream;
    /// use futures_lite::io::Cursor;
    ///
    /// # anyio::run(async {
    /// let mut stream = FuturesIoStream::new(Cursor::new(Vec::new()));
    /// stream.send(b"hello").await?;
    /// assert_eq!(stream.get_ref().get_ref(), b"hello");
    /// stream.get_mut().set_position(0); // read back from the start
    /// assert_eq!(stream.receive(64).await?, b"hello");
    /// assert_eq!(stream.into_inner().position(), 5);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn new(inner: T) -> Self {
        FuturesIoStream { inner }
    }

    /// The wrapped reader and writer.
    ///
    /// # Examples
    ///
    /// ```
    /// # use anyio::streams::io::FuturesIoStream;
    /// let stream = FuturesIoStream::new(futures_lite::io::Cursor::new(b"abc".to_vec()));
    /// assert_eq!(stream.get_ref().get_ref(), b"abc");
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped reader and writer, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// # use anyio::streams::io::FuturesIoStream;
    /// let mut stream = FuturesIoStream::new(futures_lite::io::Cursor::new(b"abc".to_vec()));
    /// stream.get_mut().set_position(2);
    /// assert_eq!(stream.get_ref().position(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the reader and writer.
    ///
    /// # Examples
    ///
    /// ```
    /// # use anyio::streams::io::FuturesIoStream;
    /// let stream = FuturesIoStream::new(futures_lite::io::Cursor::new(b"abc".to_vec()));
    /// assert_eq!(stream.into_inner().into_inner(), b"abc");
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T> fmt::Debug for FuturesIoStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FuturesIoStream").finish_non_exhaustive()
    }
}

impl<T> FuturesIoStream<T>
where
    T: futures_io::AsyncWrite + Unpin,
{
    async fn close_writer(&mut self) -> Result<()> {
        checkpoint_then(std::future::poll_fn(|cx| {
            Pin::new(&mut self.inner).poll_close(cx)
        }))
        .await
    }
}

/// Runs `io` after a checkpoint, with its error as an anyio error.
async fn checkpoint_then<R>(io: impl Future<Output = io::Result<R>>) -> Result<R> {
    crate::lowlevel::checkpoint_if_cancelled().await;
    Ok(io.await?)
}

impl<T> crate::abc::AsyncResource for FuturesIoStream<T>
where
    T: futures_io::AsyncWrite + Unpin,
{
    async fn aclose(&mut self) -> Result<()> {
        self.close_writer().await
    }
}

impl<T> crate::TypedAttributeProvider for FuturesIoStream<T> {}

impl<T> ByteReceiveStream for FuturesIoStream<T>
where
    T: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    async fn receive(&mut self, max_bytes: usize) -> Result<Vec<u8>> {
        crate::abc::check_max_bytes(max_bytes)?;
        let mut buffer = vec![0; max_bytes.min(crate::abc::DEFAULT_MAX_BYTES)];
        let read = checkpoint_then(std::future::poll_fn(|cx| {
            Pin::new(&mut self.inner).poll_read(cx, &mut buffer)
        }))
        .await?;
        if read == 0 {
            return Err(crate::error::Error::new(
                ErrorKind::EndOfStream,
                "the futures-io reader reached its end",
            ));
        }
        buffer.truncate(read);
        Ok(buffer)
    }
}

impl<T> ByteSendStream for FuturesIoStream<T>
where
    T: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    async fn send(&mut self, data: &[u8]) -> Result<()> {
        let mut rest = data;
        crate::lowlevel::checkpoint_if_cancelled().await;
        while !rest.is_empty() {
            let written =
                std::future::poll_fn(|cx| Pin::new(&mut self.inner).poll_write(cx, rest)).await?;
            if written == 0 {
                return Err(io::Error::from(io::ErrorKind::WriteZero).into());
            }
            rest = &rest[written..];
        }
        Ok(std::future::poll_fn(|cx| Pin::new(&mut self.inner).poll_flush(cx)).await?)
    }
}

impl<T> crate::abc::ByteStream for FuturesIoStream<T>
where
    T: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    async fn send_eof(&mut self) -> Result<()> {
        self.close_writer().await
    }
}
