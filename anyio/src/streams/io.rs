//! [`ByteStreamIo`]: a byte stream as `futures_io::AsyncRead` / `AsyncWrite`, for code
//! written against those traits (codecs, `futures::io::copy`, ...).

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
