//! `AsyncFile`: a file with async methods, opened with Python's mode strings.

use std::fmt;
use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::AsyncSeek;
use futures_lite::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::abc::AsyncResource;
use crate::error::{Error, ErrorKind, Result};
use crate::fs::mode::Mode;
use crate::lowlevel::checkpoint_if_cancelled;

/// The largest buffer one `read` allocates.
const MAX_READ: usize = 1 << 20;

/// How much `read_line` reads ahead at a time.
const LINE_CHUNK: usize = 8 * 1024;

/// Opens the file at `path` with a Python mode string: `"r"` (read), `"w"` (write,
/// truncating or creating), `"x"` (create, failing if it exists), `"a"` (append), each
/// optionally with `+` (read and write) and `b` or `t` (accepted; files are bytes
/// either way, and text is read with [`read_to_string`](AsyncFile::read_to_string) and
/// [`read_line`](AsyncFile::read_line)).
///
/// # Errors
///
/// An [`Io`](ErrorKind::Io)`(InvalidInput)` error for a bad mode, saying which letters
/// are allowed; otherwise the I/O error of opening, with the path in its message.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("notes.txt");
/// let mut file = anyio::open_file(&path, "w").await?;
/// file.write_all(b"first\nsecond\n").await?;
/// file.aclose_file().await?;
///
/// let mut file = anyio::open_file(&path, "r").await?;
/// assert_eq!(file.read_line().await?, "first\n");
/// assert_eq!(file.read_to_string().await?, "second\n");
///
/// let err = anyio::open_file(&path, "rw").await.unwrap_err();
/// assert!(err.message().contains("r, w, x, a"));
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub async fn open_file(path: impl AsRef<Path>, mode: &str) -> Result<AsyncFile> {
    let path = path.as_ref();
    let mode = Mode::parse(mode)?;
    checkpoint_if_cancelled().await;
    let file = mode.open_options().open(path).await.map_err(|e| {
        Error::with_source(
            ErrorKind::Io(e.kind()),
            format!("cannot open `{}`: {e}", path.display()),
            e,
        )
    })?;
    let mut file = AsyncFile::new(file, Some(path.to_owned()));
    if mode.append {
        // As Python: an appending file starts at its end (for `tell` and for reads).
        let end = file.file()?.seek(SeekFrom::End(0)).await;
        end.map_err(|e| file.io_error("seek in", e))?;
    }
    Ok(file)
}

/// Wraps an open `std::fs::File` as an [`AsyncFile`] (its reads and writes then run on
/// the blocking thread pool).
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let mut file = anyio::wrap_file(tempfile::tempfile()?);
/// file.write_all(b"wrapped").await?;
/// file.seek(std::io::SeekFrom::Start(0)).await?;
/// assert_eq!(file.read_to_end().await?, b"wrapped");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub fn wrap_file(file: std::fs::File) -> AsyncFile {
    AsyncFile::new(async_fs::File::from(file), None)
}

/// An open file with async methods (AnyIO's `AsyncFile`), from [`open_file`],
/// [`wrap_file`] or [`Path::open`](crate::Path::open). Also `futures_io::AsyncRead`,
/// `AsyncWrite` and `AsyncSeek`.
///
/// Reads and writes run on a pool of blocking threads (async-fs). Each method is a
/// checkpoint.
///
/// # Cancel safety
///
/// A cancelled read loses no data: what the thread read meanwhile comes with the next
/// read. A cancelled write may have written part of its data.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
///
/// # anyio::run(async {
/// let mut file = anyio::wrap_file(tempfile::tempfile()?);
/// file.write_all(b"a\nb\nc").await?;
/// file.seek(std::io::SeekFrom::Start(0)).await?;
/// let lines: Vec<String> = file.lines().map(Result::unwrap).collect().await;
/// assert_eq!(lines, ["a\n", "b\n", "c"]);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct AsyncFile {
    /// `None` once closed.
    file: Option<async_fs::File>,
    /// The last operation read: async-fs may have read ahead on its thread, so the
    /// file's position must be settled (a seek) before a write, truncate or sync.
    after_read: bool,
    /// Bytes read ahead (by `read_line`) and not given out yet: `buffer[consumed..]`.
    /// The file's own position is past them.
    buffer: Vec<u8>,
    consumed: usize,
    path: Option<PathBuf>,
}

impl fmt::Debug for AsyncFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl AsyncFile {
    pub(crate) fn new(file: async_fs::File, path: Option<PathBuf>) -> AsyncFile {
        AsyncFile {
            file: Some(file),
            after_read: false,
            buffer: Vec::new(),
            consumed: 0,
            path,
        }
    }

    /// The path the file was opened at (`None` for a wrapped file).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let file = anyio::open_file("Cargo.toml", "r").await?;
    /// assert_eq!(file.path(), Some(std::path::Path::new("Cargo.toml")));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn read_ahead(&self) -> &[u8] {
        &self.buffer[self.consumed..]
    }

    /// Takes up to `max` read-ahead bytes.
    fn take_read_ahead(&mut self, max: usize) -> Vec<u8> {
        let end = self.consumed.saturating_add(max).min(self.buffer.len());
        let taken = self.buffer[self.consumed..end].to_vec();
        self.consumed = end;
        if self.consumed == self.buffer.len() {
            self.buffer.clear();
            self.consumed = 0;
        }
        taken
    }

    /// The open file, or an error once it is closed.
    fn file(&mut self) -> Result<&mut async_fs::File> {
        self.file.as_mut().ok_or_else(|| {
            Error::new(
                ErrorKind::ClosedResource,
                "the file was closed by this side",
            )
        })
    }

    /// Moves the file's position back to where the reader is (over read-ahead bytes,
    /// ours and async-fs's), so that a write, truncate, sync or seek starts there.
    async fn settle(&mut self) -> Result<()> {
        let ahead = self.read_ahead().len();
        if ahead > 0 {
            let settled = self.file()?.seek(SeekFrom::Current(-(ahead as i64))).await;
            settled.map_err(|e| self.io_error("seek in", e))?;
        } else if self.after_read {
            // Only for async-fs's own read-ahead; a pipe or a terminal cannot seek, and
            // has no position to settle.
            let _ = self.file()?.seek(SeekFrom::Current(0)).await;
        }
        self.buffer.clear();
        self.consumed = 0;
        self.after_read = false;
        Ok(())
    }

    fn io_error(&self, action: &str, error: io::Error) -> Error {
        match &self.path {
            Some(path) => Error::with_source(
                ErrorKind::Io(error.kind()),
                format!("cannot {action} `{}`: {error}", path.display()),
                error,
            ),
            None => Error::from(error),
        }
    }

    /// Up to `max` bytes (at most 1 MiB at a time); an empty `Vec` at the end of the
    /// file.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut file = anyio::open_file("Cargo.toml", "rb").await?;
    /// let start = file.read(9).await?;
    /// assert_eq!(start, b"[package]");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read(&mut self, max: usize) -> Result<Vec<u8>> {
        checkpoint_if_cancelled().await;
        if max == 0 {
            return Ok(Vec::new());
        }
        if !self.read_ahead().is_empty() {
            return Ok(self.take_read_ahead(max));
        }
        // Up to `max`, in a buffer of at most `MAX_READ` (a `read(usize::MAX)` reads what
        // comes, not an impossible allocation).
        let mut data = vec![0; max.min(MAX_READ)];
        self.after_read = true;
        let read = self.file()?.read(&mut data).await;
        let read = read.map_err(|e| self.io_error("read", e))?;
        data.truncate(read);
        Ok(data)
    }

    /// Everything from the current position to the end.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut file = anyio::open_file("Cargo.toml", "rb").await?;
    /// assert_eq!(file.read_to_end().await?, std::fs::read("Cargo.toml")?);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read_to_end(&mut self) -> Result<Vec<u8>> {
        checkpoint_if_cancelled().await;
        let mut data = self.take_read_ahead(usize::MAX);
        self.after_read = true;
        let read = self.file()?.read_to_end(&mut data).await;
        read.map_err(|e| self.io_error("read", e))?;
        Ok(data)
    }

    /// Everything from the current position to the end, as UTF-8 text.
    ///
    /// # Errors
    ///
    /// An [`Io`](ErrorKind::Io)`(InvalidData)` error if the text is not UTF-8.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut file = anyio::open_file("Cargo.toml", "r").await?;
    /// assert!(file.read_to_string().await?.starts_with("[package]"));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read_to_string(&mut self) -> Result<String> {
        let data = self.read_to_end().await?;
        String::from_utf8(data).map_err(|e| {
            self.io_error(
                "read text from",
                io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()),
            )
        })
    }

    /// The next line, with its `\n`; the last line may have none; `""` at the end of
    /// the file (as Python's `readline` and `BufRead::read_line`).
    ///
    /// # Errors
    ///
    /// An [`Io`](ErrorKind::Io)`(InvalidData)` error if the line is not UTF-8.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut file = anyio::wrap_file(tempfile::tempfile()?);
    /// file.write_all(b"one\ntwo").await?;
    /// file.seek(std::io::SeekFrom::Start(0)).await?;
    /// assert_eq!(file.read_line().await?, "one\n");
    /// assert_eq!(file.read_line().await?, "two");
    /// assert_eq!(file.read_line().await?, "");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read_line(&mut self) -> Result<String> {
        checkpoint_if_cancelled().await;
        let mut searched = 0;
        loop {
            let ahead = self.read_ahead();
            if let Some(at) = ahead[searched..].iter().position(|&b| b == b'\n') {
                let line = self.take_read_ahead(searched + at + 1);
                return self.line_text(line);
            }
            searched = ahead.len();
            // Compact, then read more after what is there. The chunk is appended only
            // once read, so a cancelled read leaves the buffer as it was.
            self.buffer.drain(..self.consumed);
            self.consumed = 0;
            let mut chunk = vec![0; LINE_CHUNK];
            self.after_read = true;
            let read = self.file()?.read(&mut chunk).await;
            let read = read.map_err(|e| self.io_error("read", e))?;
            if read == 0 {
                let rest = self.take_read_ahead(usize::MAX);
                return self.line_text(rest);
            }
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }

    fn line_text(&self, line: Vec<u8>) -> Result<String> {
        String::from_utf8(line).map_err(|e| {
            self.io_error(
                "read a line of text from",
                io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()),
            )
        })
    }

    /// The remaining lines, each with its `\n` (see [`read_line`](AsyncFile::read_line)),
    /// as a stream that ends at the end of the file. Reads a chunk at a time: a huge
    /// file is never read into memory at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    ///
    /// # anyio::run(async {
    /// let mut file = anyio::open_file("Cargo.toml", "r").await?;
    /// let first = file.lines().next().await.unwrap()?;
    /// assert_eq!(first, "[package]\n");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn lines(
        &mut self,
    ) -> impl futures_core::Stream<Item = Result<String>> + Send + Unpin + '_ {
        Box::pin(futures_lite::stream::unfold(
            Some(self),
            |file| async move {
                let file = file?;
                match file.read_line().await {
                    Ok(line) if line.is_empty() => None,
                    Ok(line) => Some((Ok(line), Some(file))),
                    Err(e) => Some((Err(e), None)),
                }
            },
        ))
    }

    /// Writes some of `data` and returns how much.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut file = anyio::wrap_file(tempfile::tempfile()?);
    /// let written = file.write(b"abc").await?;
    /// assert!(written > 0 && written <= 3);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write(&mut self, data: &[u8]) -> Result<usize> {
        checkpoint_if_cancelled().await;
        self.settle().await?;
        let written = self.file()?.write(data).await;
        written.map_err(|e| self.io_error("write to", e))
    }

    /// Writes all of `data`.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = tempfile::tempdir()?;
    /// let mut file = anyio::open_file(dir.path().join("f"), "w").await?;
    /// file.write_all(b"all of it").await?;
    /// file.flush().await?;
    /// assert_eq!(std::fs::read(dir.path().join("f"))?, b"all of it");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write_all(&mut self, data: &[u8]) -> Result<()> {
        checkpoint_if_cancelled().await;
        self.settle().await?;
        let written = self.file()?.write_all(data).await;
        written.map_err(|e| self.io_error("write to", e))
    }

    /// Moves the position; returns the new position from the start.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut file = anyio::open_file("Cargo.toml", "r").await?;
    /// assert_eq!(file.seek(std::io::SeekFrom::Start(1)).await?, 1);
    /// assert_eq!(file.read(7).await?, b"package");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn seek(&mut self, position: SeekFrom) -> Result<u64> {
        checkpoint_if_cancelled().await;
        self.settle().await?;
        let moved = self.file()?.seek(position).await;
        moved.map_err(|e| self.io_error("seek in", e))
    }

    /// The current position from the start.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut file = anyio::open_file("Cargo.toml", "r").await?;
    /// file.read_line().await?;
    /// assert_eq!(file.tell().await?, "[package]\n".len() as u64);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn tell(&mut self) -> Result<u64> {
        checkpoint_if_cancelled().await;
        let ahead = self.read_ahead().len() as u64;
        let position = self.file()?.seek(SeekFrom::Current(0)).await;
        let position = position.map_err(|e| self.io_error("seek in", e))?;
        Ok(position - ahead)
    }

    /// Writes out what is buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut file = anyio::wrap_file(tempfile::tempfile()?);
    /// file.write_all(b"x").await?;
    /// file.flush().await?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn flush(&mut self) -> Result<()> {
        checkpoint_if_cancelled().await;
        let flushed = self.file()?.flush().await;
        flushed.map_err(|e| self.io_error("flush", e))
    }

    /// Cuts (or extends with zeros) the file to `size` bytes; the position does not
    /// move. (Python's `truncate()` without a size is `truncate(file.tell().await?)`.)
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut file = anyio::wrap_file(tempfile::tempfile()?);
    /// file.write_all(b"abcdef").await?;
    /// file.truncate(2).await?;
    /// file.seek(std::io::SeekFrom::Start(0)).await?;
    /// assert_eq!(file.read_to_end().await?, b"ab");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn truncate(&mut self, size: u64) -> Result<()> {
        checkpoint_if_cancelled().await;
        self.settle().await?;
        self.file()?.flush().await?;
        let truncated = self.file()?.set_len(size).await;
        truncated.map_err(|e| self.io_error("truncate", e))
    }

    /// Writes out what is buffered and waits for the data and metadata to reach the
    /// disk (`fsync`).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut file = anyio::wrap_file(tempfile::tempfile()?);
    /// file.write_all(b"durable").await?;
    /// file.sync_all().await?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn sync_all(&mut self) -> Result<()> {
        checkpoint_if_cancelled().await;
        self.settle().await?;
        self.file()?.flush().await?;
        let synced = self.file()?.sync_all().await;
        synced.map_err(|e| self.io_error("sync", e))
    }

    /// Flushes and closes the file (the same as [`AsyncResource::aclose`], without
    /// importing the trait). Later operations give an error of kind
    /// [`ClosedResource`](ErrorKind::ClosedResource); closing again does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut file = anyio::wrap_file(tempfile::tempfile()?);
    /// file.write_all(b"bye").await?;
    /// file.aclose_file().await?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn aclose_file(&mut self) -> Result<()> {
        if self.file.is_none() {
            return Ok(());
        }
        let flushed = self.flush().await;
        self.file = None; // closes the descriptor
        flushed
    }

    /// `settle` in a poll, for the futures-io traits.
    fn poll_settle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let ahead = self.read_ahead().len();
        if ahead > 0 {
            let file = self.poll_file()?;
            ready!(Pin::new(file).poll_seek(cx, SeekFrom::Current(-(ahead as i64))))?;
        } else if self.after_read {
            // As in `settle`: best effort, for files that can seek.
            let file = self.poll_file()?;
            let _ = ready!(Pin::new(file).poll_seek(cx, SeekFrom::Current(0)));
        }
        self.buffer.clear();
        self.consumed = 0;
        self.after_read = false;
        Poll::Ready(Ok(()))
    }

    /// The open file for the futures-io traits.
    fn poll_file(&mut self) -> io::Result<&mut async_fs::File> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::BrokenPipe, "the file was closed"))
    }
}

impl AsyncResource for AsyncFile {
    /// Flushes and closes the file (see [`AsyncFile::aclose_file`]).
    async fn aclose(&mut self) -> Result<()> {
        self.aclose_file().await
    }
}

impl futures_io::AsyncRead for AsyncFile {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if !this.read_ahead().is_empty() {
            let taken = this.take_read_ahead(buf.len());
            buf[..taken.len()].copy_from_slice(&taken);
            return Poll::Ready(Ok(taken.len()));
        }
        this.after_read = true;
        Pin::new(this.poll_file()?).poll_read(cx, buf)
    }
}

impl futures_io::AsyncWrite for AsyncFile {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_settle(cx))?;
        Pin::new(this.poll_file()?).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().file.as_mut() {
            Some(file) => Pin::new(file).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.file.as_mut() {
            Some(file) => {
                ready!(Pin::new(file).poll_flush(cx))?;
                this.file = None;
                Poll::Ready(Ok(()))
            }
            None => Poll::Ready(Ok(())),
        }
    }
}

impl futures_io::AsyncSeek for AsyncFile {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        position: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        ready!(this.poll_settle(cx))?;
        Pin::new(this.poll_file()?).poll_seek(cx, position)
    }
}
