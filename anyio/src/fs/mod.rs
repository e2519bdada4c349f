//! Files: [`open_file`](crate::open_file) with Python's mode strings,
//! [`AsyncFile`](crate::AsyncFile), and [`wrap_file`](crate::wrap_file). Reads and
//! writes run on a pool of blocking threads (async-fs), so a slow disk never blocks the
//! event loop. [`Path`](crate::Path) is pathlib's API; temporary files and
//! directories are removed when closed or dropped.

mod file;
mod mode;
mod path;
mod path_io;
mod pattern;
mod temp;

pub use file::{AsyncFile, open_file, wrap_file};
pub use path::Path;
pub use path_io::{MkDir, Touch, Unlink};
pub use temp::{
    MkDtemp, MkStemp, NamedTemporaryFile, NamedTemporaryFileBuilder, TemporaryDirectory,
    TemporaryDirectoryBuilder, TemporaryFile, gettempdir, mkdtemp, mkstemp,
};
