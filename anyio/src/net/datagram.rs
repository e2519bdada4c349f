//! What datagram sockets (UDP and UNIX) share: receiving one datagram into a reused
//! buffer, and the errors of using a closed socket.

use std::io;
use std::task::{Context, Poll};

use async_io::Async;

use crate::error::{Error, ErrorKind};

/// The largest datagram a receive returns whole (as AnyIO's 65536); a longer one is
/// truncated by the system.
pub(crate) const MAX_DATAGRAM: usize = 65_536;

/// A socket's receive buffer, allocated at its first receive and reused after; each
/// datagram is copied out at its exact size. It also remembers whether the last poll
/// registered for readiness.
#[derive(Default)]
pub(crate) struct ReceiveBuffer {
    buffer: Option<Box<[u8]>>,
    /// The last poll returned `Pending` after registering for readiness: the next poll
    /// takes the readiness event first (see `stream_io::poll_read_ready_first`, which
    /// explains the wasted receive this saves).
    waited: bool,
}

/// Polls `socket` for one datagram with `receive` (a non-blocking `recv` or `recvfrom`
/// that gives the length and the sender). Cancel-safe: a datagram is taken only in the
/// poll that returns it.
pub(crate) fn poll_receive<S, A>(
    socket: &Async<S>,
    state: &mut ReceiveBuffer,
    cx: &mut Context<'_>,
    receive: impl Fn(&S, &mut [u8]) -> io::Result<(usize, A)>,
) -> Poll<io::Result<(Vec<u8>, A)>> {
    if state.waited {
        match socket.poll_readable(cx) {
            Poll::Ready(Ok(())) => state.waited = false,
            Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
            Poll::Pending => return Poll::Pending,
        }
    }
    let buffer = state
        .buffer
        .get_or_insert_with(|| vec![0; MAX_DATAGRAM].into_boxed_slice());
    loop {
        match receive(socket.get_ref(), buffer) {
            Ok((length, sender)) => return Poll::Ready(Ok((buffer[..length].to_vec(), sender))),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => return Poll::Ready(Err(error)),
        }
        match socket.poll_readable(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
            Poll::Pending => {
                state.waited = true;
                return Poll::Pending;
            }
        }
    }
}

/// One datagram from `socket`, after a checkpoint.
pub(crate) async fn receive<S, A>(
    socket: &Async<S>,
    buffer: &mut ReceiveBuffer,
    receive: impl Fn(&S, &mut [u8]) -> io::Result<(usize, A)>,
) -> io::Result<(Vec<u8>, A)> {
    crate::lowlevel::checkpoint_if_cancelled().await;
    std::future::poll_fn(|cx| poll_receive(socket, buffer, cx, &receive)).await
}

/// The error of using a datagram socket after `aclose`.
pub(crate) fn closed(what: &str) -> Error {
    Error::new(
        ErrorKind::ClosedResource,
        format!("this {what} socket was closed"),
    )
}

/// The error of a failed receive or send, saying what was being done.
pub(crate) fn datagram_error(error: io::Error, doing: impl std::fmt::Display) -> Error {
    Error::with_source(
        ErrorKind::Io(error.kind()),
        format!("could not {doing}: {error}"),
        error,
    )
}

/// The resource and stream traits shared by the four datagram socket types, each with an
/// `inner: Option<Async<_>>` (`None` once closed): `aclose` drops the socket, which
/// closes its descriptor before `aclose` returns (so its address can be bound again at
/// once).
macro_rules! datagram_socket_resource {
    ($socket:ty) => {
        impl $crate::abc::AsyncResource for $socket {
            async fn aclose(&mut self) -> $crate::Result<()> {
                self.inner = None;
                Ok(())
            }
        }
    };
}
pub(crate) use datagram_socket_resource;
