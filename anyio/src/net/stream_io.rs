//! What TCP and UNIX stream sockets share: receive, send and the errors they report.

use std::future::Future;
use std::io;
use std::task::Poll;

use async_io::Async;
use futures_lite::AsyncWriteExt;

use crate::error::{Error, ErrorKind, Result};

/// Up to `max_bytes` bytes from `socket`; the peer's close is `EndOfStream`. Cancel-safe:
/// a read takes bytes only in the poll that returns them.
pub(crate) async fn receive<S>(socket: &Async<S>, max_bytes: usize, what: &str) -> Result<Vec<u8>>
where
    for<'a> &'a S: io::Read,
{
    crate::abc::check_max_bytes(max_bytes)?;
    crate::lowlevel::checkpoint_if_cancelled().await;
    let mut buffer = vec![0; max_bytes.min(crate::abc::DEFAULT_MAX_BYTES)];
    let read = poll_read_ready_first(socket, &mut buffer)
        .await
        .map_err(|error| stream_error(error, what))?;
    if read == 0 {
        return Err(Error::new(
            ErrorKind::EndOfStream,
            format!("the peer closed the {what} connection"),
        ));
    }
    buffer.truncate(read);
    Ok(buffer)
}

/// Up to `buffer.len()` bytes from `socket` into `buffer`; 0 at the peer's close.
/// Cancel-safe as [`receive`].
pub(crate) async fn receive_into<S>(
    socket: &Async<S>,
    buffer: &mut [u8],
    what: &str,
) -> Result<usize>
where
    for<'a> &'a S: io::Read,
{
    crate::lowlevel::checkpoint_if_cancelled().await;
    poll_read_ready_first(socket, buffer)
        .await
        .map_err(|error| stream_error(error, what))
}

/// One read from `socket` into `buffer`, waiting for readiness as needed.
///
/// Unlike async-io's own `poll_read`, a poll that follows a readiness wake first takes
/// that wake's event (no system call) before it reads. async-io remembers a delivered
/// event until a `poll_readable` sees it; reading first would leave it there, and the
/// next read that finds no data would then see that stale event, read again and fail
/// again before it registers: one wasted `recv` per wait.
fn poll_read_ready_first<'a, S>(
    socket: &'a Async<S>,
    buffer: &'a mut [u8],
) -> impl Future<Output = io::Result<usize>> + 'a
where
    for<'b> &'b S: io::Read,
{
    let mut waited = false;
    std::future::poll_fn(move |cx| {
        if waited {
            match socket.poll_readable(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
        loop {
            match io::Read::read(&mut socket.get_ref(), buffer) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                other => return Poll::Ready(other),
            }
            match socket.poll_readable(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => {
                    waited = true;
                    return Poll::Pending;
                }
            }
        }
    })
}

/// Sends all of `data` on `socket`.
pub(crate) async fn send<S>(socket: &Async<S>, data: &[u8], what: &str) -> Result<()>
where
    for<'a> &'a Async<S>: futures_io::AsyncWrite,
{
    crate::lowlevel::checkpoint_if_cancelled().await;
    let mut writer = socket;
    writer
        .write_all(data)
        .await
        .map_err(|error| stream_error(error, what))
}

/// A connection reset or broken by the peer is a broken resource, as in AnyIO.
pub(crate) fn stream_error(error: io::Error, what: &str) -> Error {
    match error.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => Error::with_source(
            ErrorKind::BrokenResource,
            format!("the {what} connection is broken: {error}"),
            error,
        ),
        _ => error.into(),
    }
}

/// The error of using a stream after `aclose`.
pub(crate) fn closed(what: &str) -> Error {
    Error::new(
        ErrorKind::ClosedResource,
        format!("this {what} stream was closed"),
    )
}

/// The stream traits of a socket stream type with an `inner: Option<Async<_>>` (`None`
/// once closed) and a `socket()` accessor that reports a closed stream: `aclose` (a
/// shutdown, then the socket is dropped), `receive`, `send`, `send_eof` (a write
/// shutdown), and `futures_io::AsyncRead` / `AsyncWrite`. `$what` names the kind of
/// connection in errors.
macro_rules! socket_stream_impls {
    ($stream:ty, $what:expr) => {
        impl $crate::abc::AsyncResource for $stream {
            async fn aclose(&mut self) -> $crate::Result<()> {
                if let Some(stream) = self.inner.take() {
                    // Dropping the socket closes it; a shutdown first tells the peer at once.
                    let _ = stream.get_ref().shutdown(::std::net::Shutdown::Both);
                }
                Ok(())
            }
        }

        impl $crate::abc::ByteReceiveStream for $stream {
            async fn receive(&mut self, max_bytes: usize) -> $crate::Result<Vec<u8>> {
                $crate::net::stream_io::receive(self.socket()?, max_bytes, $what).await
            }
        }

        impl $crate::abc::ByteSendStream for $stream {
            async fn send(&mut self, data: &[u8]) -> $crate::Result<()> {
                $crate::net::stream_io::send(self.socket()?, data, $what).await
            }
        }

        impl $crate::abc::ByteStream for $stream {
            async fn send_eof(&mut self) -> $crate::Result<()> {
                $crate::lowlevel::checkpoint_if_cancelled().await;
                Ok(self
                    .socket()?
                    .get_ref()
                    .shutdown(::std::net::Shutdown::Write)?)
            }
        }

        impl futures_io::AsyncRead for $stream {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                match self.get_mut().inner.as_mut() {
                    Some(stream) => ::std::pin::Pin::new(stream).poll_read(cx, buf),
                    None => {
                        ::std::task::Poll::Ready(Err(::std::io::ErrorKind::NotConnected.into()))
                    }
                }
            }
        }

        impl futures_io::AsyncWrite for $stream {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                match self.get_mut().inner.as_mut() {
                    Some(stream) => ::std::pin::Pin::new(stream).poll_write(cx, buf),
                    None => {
                        ::std::task::Poll::Ready(Err(::std::io::ErrorKind::NotConnected.into()))
                    }
                }
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                match self.get_mut().inner.as_mut() {
                    Some(stream) => ::std::pin::Pin::new(stream).poll_flush(cx),
                    None => ::std::task::Poll::Ready(Ok(())),
                }
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                match self.get_mut().inner.as_mut() {
                    Some(stream) => ::std::pin::Pin::new(stream).poll_close(cx),
                    None => ::std::task::Poll::Ready(Ok(())),
                }
            }
        }
    };
}
pub(crate) use socket_stream_impls;

/// `split` for a socket stream type (as made by [`socket_stream_impls`]), and its two
/// halves: each borrows the stream, so one task can receive while another sends.
macro_rules! socket_stream_halves {
    ($stream:ident, $receive_half:ident, $send_half:ident, $what:expr, $example:literal) => {
        impl $stream {
            /// Splits the stream into a receiving and a sending half that borrow it, so
            /// that one task can receive while another sends (e.g. a chat client's reader
            /// and writer). Both halves offer the stream's typed attributes.
            ///
            /// # Examples
            ///
            #[doc = $example]
            pub fn split(&mut self) -> ($receive_half<'_>, $send_half<'_>) {
                let stream = &*self;
                ($receive_half { stream }, $send_half { stream })
            }
        }

        #[doc = concat!("The receiving half of a [`", stringify!($stream), "`], from [`split`](", stringify!($stream), "::split).")]
        ///
        /// # Cancel safety
        ///
        /// As for the stream's `receive`: cancel-safe.
        ///
        /// # Examples
        ///
        #[doc = concat!("See [`", stringify!($stream), "::split`].")]
        ///
        /// ```
        #[doc = concat!("# let _ = std::mem::size_of::<anyio::net::", stringify!($receive_half), "<'static>>();")]
        /// ```
        #[derive(Debug)]
        pub struct $receive_half<'a> {
            stream: &'a $stream,
        }

        #[doc = concat!("The sending half of a [`", stringify!($stream), "`], from [`split`](", stringify!($stream), "::split).")]
        ///
        /// # Cancel safety
        ///
        /// As for the stream's `send`: a send cancelled halfway may have sent part of its
        /// bytes.
        ///
        /// # Examples
        ///
        #[doc = concat!("See [`", stringify!($stream), "::split`].")]
        ///
        /// ```
        #[doc = concat!("# let _ = std::mem::size_of::<anyio::net::", stringify!($send_half), "<'static>>();")]
        /// ```
        #[derive(Debug)]
        pub struct $send_half<'a> {
            stream: &'a $stream,
        }

        impl $crate::typed_attr::TypedAttributeProvider for $receive_half<'_> {
            fn extra_attributes(&self) -> $crate::typed_attr::TypedAttributes {
                self.stream.extra_attributes()
            }
        }

        impl $crate::typed_attr::TypedAttributeProvider for $send_half<'_> {
            fn extra_attributes(&self) -> $crate::typed_attr::TypedAttributes {
                self.stream.extra_attributes()
            }
        }

        impl $crate::abc::AsyncResource for $receive_half<'_> {
            /// Shuts the receiving direction down (the stream itself stays open until it
            /// is closed or dropped).
            async fn aclose(&mut self) -> $crate::Result<()> {
                if let Ok(socket) = self.stream.socket() {
                    let _ = socket.get_ref().shutdown(::std::net::Shutdown::Read);
                }
                Ok(())
            }
        }

        impl $crate::abc::AsyncResource for $send_half<'_> {
            /// Shuts the sending direction down: the peer sees the end of the stream.
            async fn aclose(&mut self) -> $crate::Result<()> {
                if let Ok(socket) = self.stream.socket() {
                    let _ = socket.get_ref().shutdown(::std::net::Shutdown::Write);
                }
                Ok(())
            }
        }

        impl $crate::abc::ByteReceiveStream for $receive_half<'_> {
            async fn receive(&mut self, max_bytes: usize) -> $crate::Result<Vec<u8>> {
                $crate::net::stream_io::receive(self.stream.socket()?, max_bytes, $what).await
            }
        }

        impl $crate::abc::ByteSendStream for $send_half<'_> {
            async fn send(&mut self, data: &[u8]) -> $crate::Result<()> {
                $crate::net::stream_io::send(self.stream.socket()?, data, $what).await
            }
        }

        impl futures_io::AsyncRead for $receive_half<'_> {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                match self.stream.inner.as_ref() {
                    Some(mut socket) => ::std::pin::Pin::new(&mut socket).poll_read(cx, buf),
                    None => {
                        ::std::task::Poll::Ready(Err(::std::io::ErrorKind::NotConnected.into()))
                    }
                }
            }
        }

        impl futures_io::AsyncWrite for $send_half<'_> {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                match self.stream.inner.as_ref() {
                    Some(mut socket) => ::std::pin::Pin::new(&mut socket).poll_write(cx, buf),
                    None => {
                        ::std::task::Poll::Ready(Err(::std::io::ErrorKind::NotConnected.into()))
                    }
                }
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                if let Some(socket) = self.stream.inner.as_ref() {
                    let _ = socket.get_ref().shutdown(::std::net::Shutdown::Write);
                }
                ::std::task::Poll::Ready(Ok(()))
            }
        }
    };
}
pub(crate) use socket_stream_halves;
