//! The stream, listener and resource traits, as AnyIO's `anyio.abc`.
//!
//! Object streams carry values of a type `T`; byte streams carry bytes in chunks of any
//! size. Every stream is an [`AsyncResource`] and a [`TypedAttributeProvider`]. The
//! methods are `async fn`s, so the traits are used through generics (`S: ByteStream`),
//! not trait objects.

#![allow(async_fn_in_trait)]

use std::future::Future;

use crate::error::{Error, ErrorKind, Result};
use crate::task::{TaskGroup, TaskOutput};
use crate::typed_attr::TypedAttributeProvider;

pub use crate::typed_attr::{TypedAttribute, TypedAttributes};

/// Something that must be closed, possibly with I/O (a goodbye message, a flush).
pub trait AsyncResource {
    /// Closes the resource. Later operations on it fail with
    /// [`ErrorKind::ClosedResource`]; closing again does nothing.
    async fn aclose(&mut self) -> Result<()>;
}

/// Receives objects of type `T`, in order, none missed.
pub trait ObjectReceiveStream<T>: AsyncResource + TypedAttributeProvider {
    /// The next object.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::EndOfStream`] when the peer closed its end;
    /// [`ErrorKind::ClosedResource`] if this end was closed;
    /// [`ErrorKind::BrokenResource`] if the stream broke.
    async fn receive(&mut self) -> Result<T>;
}

/// Sends objects of type `T`, in order, none missed.
pub trait ObjectSendStream<T>: AsyncResource + TypedAttributeProvider {
    /// Sends `item` to the peer(s).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`] if this end was closed;
    /// [`ErrorKind::BrokenResource`] if the peer is gone or the stream broke.
    async fn send(&mut self, item: T) -> Result<()>;
}

/// Both directions of an object stream.
pub trait ObjectStream<T>: ObjectReceiveStream<T> + ObjectSendStream<T> {
    /// Tells the peer no more objects will come, keeping the receiving direction open.
    async fn send_eof(&mut self) -> Result<()>;
}

/// Receives bytes from one peer.
pub trait ByteReceiveStream: AsyncResource + TypedAttributeProvider {
    /// Up to `max_bytes` bytes (at least one).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::EndOfStream`] when the peer closed its end; an
    /// [`ErrorKind::Io`]`(InvalidInput)` error if `max_bytes` is 0.
    async fn receive(&mut self, max_bytes: usize) -> Result<Vec<u8>>;
}

/// Sends bytes to one peer.
pub trait ByteSendStream: AsyncResource + TypedAttributeProvider {
    /// Sends all of `data`.
    async fn send(&mut self, data: &[u8]) -> Result<()>;
}

/// Both directions of a byte stream.
pub trait ByteStream: ByteReceiveStream + ByteSendStream {
    /// Tells the peer no more bytes will come, keeping the receiving direction open.
    async fn send_eof(&mut self) -> Result<()>;
}

/// The default chunk size of byte receives (as AnyIO's 65536).
pub const DEFAULT_MAX_BYTES: usize = 65_536;

/// Accepts incoming connections (or other streams).
pub trait Listener: AsyncResource + TypedAttributeProvider {
    /// What an accepted connection is.
    type Stream;

    /// Waits for the next connection.
    async fn accept(&mut self) -> Result<Self::Stream>;

    /// Accepts connections until accepting fails, running `handler` on each in a task of
    /// its own. A handler that fails (returns `Err` or panics) cancels the others and
    /// ends `serve` with its error, as in any task group.
    ///
    /// # Errors
    ///
    /// The error that stopped accepting, or the handlers' failures.
    async fn serve<H, F>(&mut self, handler: H) -> Result<()>
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
