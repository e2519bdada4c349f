//! Streams: memory object streams, and wrappers over any byte or object stream (see
//! the traits in [`abc`](crate::abc)).
//!
//! # Examples
//!
//! Wrappers stack: a channel of byte chunks, seen as a byte stream, seen as text.
//!
//! ```
//! use anyio::streams::object_bytes::{ObjectByteReceiveStream, ObjectByteSendStream};
//! use anyio::streams::text::{TextReceiveStream, TextSendStream};
//!
//! # anyio::run(async {
//! let (tx, rx) = anyio::create_memory_object_stream::<Vec<u8>>(4);
//! let mut sender = TextSendStream::new(ObjectByteSendStream::new(tx));
//! let mut receiver = TextReceiveStream::new(ObjectByteReceiveStream::new(rx));
//! sender.send("héllo").await?;
//! assert_eq!(receiver.receive().await?, "héllo");
//! # anyio::Result::Ok(()) }).unwrap();
//! ```

pub mod buffered;
pub mod file;
pub mod io;
pub mod memory;
pub mod multi_listener;
pub mod object_bytes;
pub mod stapled;
pub mod text;
pub mod tls;
