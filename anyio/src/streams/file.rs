//! Byte streams that read from or write to a file.
//!
//! # Examples
//!
//! ```
//! use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream};
//! use anyio::streams::file::{FileReadStream, FileWriteStream};
//!
//! # anyio::run(async {
//! let dir = std::env::temp_dir().join(format!("anyio-doc-files-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let mut writer = FileWriteStream::from_path(dir.join("notes.txt"), false).await?;
//! writer.send(b"written by anyio").await?;
//! writer.aclose().await?;
//! let mut reader = FileReadStream::from_path(dir.join("notes.txt")).await?;
//! assert_eq!(reader.receive(64).await?, b"written by anyio");
//! # std::fs::remove_dir_all(&dir)?;
//! # anyio::Result::Ok(()) }).unwrap();
//! ```

use std::path::{Path, PathBuf};

use futures_lite::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::abc::{AsyncResource, ByteReceiveStream, ByteSendStream, check_max_bytes};
use crate::error::{Error, ErrorKind, Result};
use crate::typed_attr::{TypedAttribute, TypedAttributeProvider, TypedAttributes};

pub use std::io::SeekFrom;

/// Typed attribute: the path of a file stream opened with `from_path`.
///
/// # Examples
///
/// ```
/// use anyio::TypedAttributeProvider;
/// use anyio::streams::file::{FilePath, FileWriteStream};
///
/// # anyio::run(async {
/// let path = std::env::temp_dir().join("anyio-doc-path-attr.txt");
/// let stream = FileWriteStream::from_path(&path, false).await?;
/// assert_eq!(stream.extra::<FilePath>()?, path);
/// # std::fs::remove_file(&path)?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct FilePath;

impl TypedAttribute for FilePath {
    type Value = PathBuf;
}

/// Typed attribute: the file descriptor of a file stream (Unix).
///
/// # Examples
///
/// ```
/// use anyio::TypedAttributeProvider;
/// use anyio::streams::file::{FileDescriptor, FileWriteStream};
///
/// # anyio::run(async {
/// let path = std::env::temp_dir().join("anyio-doc-fd-attr.txt");
/// let stream = FileWriteStream::from_path(&path, false).await?;
/// assert!(stream.extra::<FileDescriptor>()? >= 0);
/// # std::fs::remove_file(&path)?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[cfg(unix)]
#[derive(Debug)]
pub struct FileDescriptor;

#[cfg(unix)]
impl TypedAttribute for FileDescriptor {
    type Value = std::os::unix::io::RawFd;
}

/// The file of a file stream, or why there is none.
#[derive(Debug)]
struct OpenFile {
    file: Option<async_fs::File>,
    path: Option<PathBuf>,
}

impl OpenFile {
    fn new(file: async_fs::File, path: Option<PathBuf>) -> OpenFile {
        OpenFile {
            file: Some(file),
            path,
        }
    }

    fn get(&mut self) -> Result<&mut async_fs::File> {
        self.file
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::ClosedResource, "the file stream is closed"))
    }

    fn attributes(&self) -> TypedAttributes {
        let mut attributes = TypedAttributes::new();
        if let Some(path) = &self.path {
            attributes.insert::<FilePath>(path.clone());
        }
        #[cfg(unix)]
        if let Some(file) = &self.file {
            use std::os::unix::io::AsRawFd;
            attributes.insert::<FileDescriptor>(file.as_raw_fd());
        }
        attributes
    }

    async fn seek(&mut self, position: SeekFrom) -> Result<u64> {
        Ok(self.get()?.seek(position).await?)
    }
}

/// A [`ByteReceiveStream`] reading a file from its current position.
///
/// Offers the [`FilePath`] (when opened by path) and, on Unix, [`FileDescriptor`]
/// attributes.
///
/// # Cancel safety
///
/// No file operation is an anyio checkpoint: each runs on a blocking thread, and a
/// cancellation drops the call where it waits for that thread (a call whose result is
/// ready completes even in a cancelled scope). `receive` loses no bytes: dropped before
/// it returned, it took none (bytes read ahead stay in the file handle for the next call).
///
/// # Examples
///
/// ```
/// use anyio::abc::ByteReceiveStream;
/// use anyio::streams::file::{FilePath, FileReadStream};
/// use anyio::TypedAttributeProvider;
///
/// # anyio::run(async {
/// let path = std::env::temp_dir().join("anyio-doc-file-read.txt");
/// std::fs::write(&path, "Hello")?;
/// let mut stream = FileReadStream::from_path(&path).await?;
/// assert_eq!(stream.receive(3).await?, b"Hel");
/// assert_eq!(stream.receive(3).await?, b"lo");
/// assert_eq!(stream.receive(3).await.unwrap_err().kind(), anyio::ErrorKind::EndOfStream);
/// assert_eq!(stream.extra::<FilePath>()?, path);
/// # std::fs::remove_file(&path)?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct FileReadStream {
    file: OpenFile,
}

impl FileReadStream {
    /// Opens `path` for reading.
    ///
    /// # Errors
    ///
    /// The I/O error of opening it.
    ///
    /// # Cancel safety
    ///
    /// Not an anyio checkpoint (see [`FileReadStream`]). Dropped while opening, the file
    /// may still be opened on its blocking thread; it is then closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::streams::file::FileReadStream;
    ///
    /// # anyio::run(async {
    /// let missing = FileReadStream::from_path("/no/such/file").await.unwrap_err();
    /// assert_eq!(missing.kind(), anyio::ErrorKind::Io(std::io::ErrorKind::NotFound));
    /// # });
    /// ```
    pub async fn from_path(path: impl AsRef<Path>) -> Result<FileReadStream> {
        let path = path.as_ref().to_path_buf();
        let file = async_fs::File::open(&path).await?;
        Ok(FileReadStream {
            file: OpenFile::new(file, Some(path)),
        })
    }

    /// Reads from an already open file.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::ByteReceiveStream;
    /// use anyio::streams::file::FileReadStream;
    ///
    /// # anyio::run(async {
    /// let path = std::env::temp_dir().join("anyio-doc-read-new.txt");
    /// std::fs::write(&path, "data")?;
    /// let mut stream = FileReadStream::new(std::fs::File::open(&path)?);
    /// assert_eq!(stream.receive(64).await?, b"data");
    /// # std::fs::remove_file(&path)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn new(file: std::fs::File) -> FileReadStream {
        FileReadStream {
            file: OpenFile::new(async_fs::File::from(file), None),
        }
    }

    /// Moves the read position; returns the new position from the start.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`] after `aclose`; the I/O error of seeking.
    ///
    /// # Cancel safety
    ///
    /// Not an anyio checkpoint. Dropped before it returned, the seek may still be carried
    /// out on its blocking thread, so the position is unknown until
    /// [`tell`](FileReadStream::tell) reports it.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::ByteReceiveStream;
    /// use anyio::streams::file::{FileReadStream, SeekFrom};
    ///
    /// # anyio::run(async {
    /// let path = std::env::temp_dir().join("anyio-doc-read-seek.txt");
    /// std::fs::write(&path, "0123456789")?;
    /// let mut stream = FileReadStream::from_path(&path).await?;
    /// assert_eq!(stream.seek(SeekFrom::End(-3)).await?, 7);
    /// assert_eq!(stream.receive(64).await?, b"789");
    /// # std::fs::remove_file(&path)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn seek(&mut self, position: SeekFrom) -> Result<u64> {
        self.file.seek(position).await
    }

    /// The read position, from the start.
    ///
    /// # Errors
    ///
    /// As for [`seek`](FileReadStream::seek).
    ///
    /// # Cancel safety
    ///
    /// Not an anyio checkpoint. It moves nothing: cancelled or dropped, it loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::ByteReceiveStream;
    /// use anyio::streams::file::FileReadStream;
    ///
    /// # anyio::run(async {
    /// let path = std::env::temp_dir().join("anyio-doc-read-tell.txt");
    /// std::fs::write(&path, "abc")?;
    /// let mut stream = FileReadStream::from_path(&path).await?;
    /// stream.receive(2).await?;
    /// assert_eq!(stream.tell().await?, 2);
    /// # std::fs::remove_file(&path)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn tell(&mut self) -> Result<u64> {
        self.file.seek(SeekFrom::Current(0)).await
    }
}

impl AsyncResource for FileReadStream {
    async fn aclose(&mut self) -> Result<()> {
        self.file.file = None;
        Ok(())
    }
}

impl TypedAttributeProvider for FileReadStream {
    fn extra_attributes(&self) -> TypedAttributes {
        self.file.attributes()
    }
}

impl ByteReceiveStream for FileReadStream {
    async fn receive(&mut self, max_bytes: usize) -> Result<Vec<u8>> {
        check_max_bytes(max_bytes)?;
        let file = self.file.get()?;
        let mut buffer = vec![0; max_bytes.min(crate::abc::DEFAULT_MAX_BYTES)];
        let n = file.read(&mut buffer).await?;
        if n == 0 {
            return Err(Error::new(
                ErrorKind::EndOfStream,
                "the end of the file was reached",
            ));
        }
        buffer.truncate(n);
        Ok(buffer)
    }
}

/// A [`ByteSendStream`] writing a file.
///
/// Data is flushed by `aclose` (and by [`flush`](FileWriteStream::flush)). Offers the
/// same attributes as [`FileReadStream`].
///
/// # Cancel safety
///
/// As for [`FileReadStream`], no operation is an anyio checkpoint. A `send` cancelled or
/// dropped halfway may have written part of its data, and how much is not reported.
/// Data sent but not flushed may be lost if the stream is dropped without `flush` or
/// `aclose`.
///
/// # Examples
///
/// ```
/// use anyio::abc::{AsyncResource, ByteSendStream};
/// use anyio::streams::file::FileWriteStream;
///
/// # anyio::run(async {
/// let path = std::env::temp_dir().join("anyio-doc-file-write.txt");
/// let mut stream = FileWriteStream::from_path(&path, false).await?;
/// stream.send(b"Hello, ").await?;
/// stream.send(b"world").await?;
/// stream.aclose().await?;
/// assert_eq!(std::fs::read_to_string(&path)?, "Hello, world");
/// # std::fs::remove_file(&path)?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct FileWriteStream {
    file: OpenFile,
}

impl FileWriteStream {
    /// Opens `path` for writing, creating it if needed: truncated, or appended to with
    /// `append`.
    ///
    /// # Errors
    ///
    /// The I/O error of opening it.
    ///
    /// # Cancel safety
    ///
    /// Not an anyio checkpoint. Dropped while opening, the file may still be opened (and
    /// so created, or truncated without `append`) on its blocking thread; it is then
    /// closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::{AsyncResource, ByteSendStream};
    /// use anyio::streams::file::FileWriteStream;
    ///
    /// # anyio::run(async {
    /// let path = std::env::temp_dir().join("anyio-doc-write-append.txt");
    /// std::fs::write(&path, "one ")?;
    /// let mut stream = FileWriteStream::from_path(&path, true).await?;
    /// stream.send(b"two").await?;
    /// stream.aclose().await?;
    /// assert_eq!(std::fs::read_to_string(&path)?, "one two");
    /// # std::fs::remove_file(&path)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn from_path(path: impl AsRef<Path>, append: bool) -> Result<FileWriteStream> {
        let path = path.as_ref().to_path_buf();
        let file = async_fs::OpenOptions::new()
            .write(true)
            .create(true)
            .append(append)
            .truncate(!append)
            .open(&path)
            .await?;
        Ok(FileWriteStream {
            file: OpenFile::new(file, Some(path)),
        })
    }

    /// Writes to an already open file.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::{AsyncResource, ByteSendStream};
    /// use anyio::streams::file::FileWriteStream;
    ///
    /// # anyio::run(async {
    /// let path = std::env::temp_dir().join("anyio-doc-write-new.txt");
    /// let mut stream = FileWriteStream::new(std::fs::File::create(&path)?);
    /// stream.send(b"made elsewhere").await?;
    /// stream.aclose().await?;
    /// assert_eq!(std::fs::read(&path)?, b"made elsewhere");
    /// # std::fs::remove_file(&path)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn new(file: std::fs::File) -> FileWriteStream {
        FileWriteStream {
            file: OpenFile::new(async_fs::File::from(file), None),
        }
    }

    /// Writes buffered data through to the file.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ClosedResource`] after `aclose`; the I/O error of writing.
    ///
    /// # Cancel safety
    ///
    /// Not an anyio checkpoint. Cancelled or dropped, it loses nothing: the data keeps
    /// going to the file on its blocking thread, and the next `flush` or `aclose` waits
    /// for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::ByteSendStream;
    /// use anyio::streams::file::FileWriteStream;
    ///
    /// # anyio::run(async {
    /// let path = std::env::temp_dir().join("anyio-doc-write-flush.txt");
    /// let mut stream = FileWriteStream::from_path(&path, false).await?;
    /// stream.send(b"visible").await?;
    /// stream.flush().await?;
    /// assert_eq!(std::fs::read(&path)?, b"visible");
    /// # std::fs::remove_file(&path)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn flush(&mut self) -> Result<()> {
        Ok(self.file.get()?.flush().await?)
    }

    /// Moves the write position; returns the new position from the start.
    ///
    /// # Errors
    ///
    /// As for [`flush`](FileWriteStream::flush).
    ///
    /// # Cancel safety
    ///
    /// As for [`FileReadStream::seek`]: the position is unknown after a cancelled seek.
    /// Data sent before it is still written where it was going.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::abc::{AsyncResource, ByteSendStream};
    /// use anyio::streams::file::{FileWriteStream, SeekFrom};
    ///
    /// # anyio::run(async {
    /// let path = std::env::temp_dir().join("anyio-doc-write-seek.txt");
    /// let mut stream = FileWriteStream::from_path(&path, false).await?;
    /// stream.send(b"hello").await?;
    /// stream.seek(SeekFrom::Start(0)).await?;
    /// stream.send(b"J").await?;
    /// stream.aclose().await?;
    /// assert_eq!(std::fs::read(&path)?, b"Jello");
    /// # std::fs::remove_file(&path)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn seek(&mut self, position: SeekFrom) -> Result<u64> {
        self.file.seek(position).await
    }
}

impl AsyncResource for FileWriteStream {
    /// Flushes and closes the file.
    ///
    /// # Cancel safety
    ///
    /// Not an anyio checkpoint. The stream counts as closed from the first poll; cancelled
    /// or dropped during the flush, the file is dropped unflushed, and data not yet
    /// written may be lost.
    async fn aclose(&mut self) -> Result<()> {
        if let Some(mut file) = self.file.file.take() {
            file.flush().await?;
        }
        Ok(())
    }
}

impl TypedAttributeProvider for FileWriteStream {
    fn extra_attributes(&self) -> TypedAttributes {
        self.file.attributes()
    }
}

impl ByteSendStream for FileWriteStream {
    async fn send(&mut self, data: &[u8]) -> Result<()> {
        Ok(self.file.get()?.write_all(data).await?)
    }
}
