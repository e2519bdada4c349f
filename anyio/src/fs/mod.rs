//! Files: [`open_file`](crate::open_file) with Python's mode strings,
//! [`AsyncFile`](crate::AsyncFile), and [`wrap_file`](crate::wrap_file). Reads and
//! writes run on a pool of blocking threads (async-fs), so a slow disk never blocks the
//! event loop.

mod file;
mod mode;

pub use file::{AsyncFile, open_file, wrap_file};
