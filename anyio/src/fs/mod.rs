//! Files: [`open_file`] with Python's mode strings, [`AsyncFile`], and [`wrap_file`].
//! Reads and writes run on a pool of blocking threads (async-fs), so a slow disk never
//! blocks the event loop. [`Path`] is pathlib's API; temporary files and directories
//! are removed when closed or dropped. Everything here is also at the crate root.
//!
//! # Examples
//!
//! ```
//! use futures_lite::StreamExt;
//!
//! # anyio::run(async {
//! let dir = anyio::fs::TemporaryDirectory::new().await?;
//! let path = dir.path() / "greeting.txt";
//! path.write_text("hello\nworld\n").await?;
//! let mut file = anyio::fs::open_file(&path, "r").await?;
//! let lines: Vec<String> = file.lines().try_collect().await?;
//! assert_eq!(lines, ["hello\n", "world\n"]);
//! # anyio::Result::Ok(()) }).unwrap();
//! ```

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
