//! Streams: memory object streams, and wrappers over any byte or object stream.

pub mod memory;
