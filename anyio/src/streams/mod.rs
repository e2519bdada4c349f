//! Streams: memory object streams, and wrappers over any byte or object stream (see
//! the traits in [`abc`](crate::abc)).

pub mod buffered;
pub mod file;
pub mod io;
pub mod memory;
pub mod multi_listener;
pub mod object_bytes;
pub mod stapled;
pub mod text;
