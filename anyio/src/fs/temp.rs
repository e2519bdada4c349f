//! Temporary files and directories, removed when closed or dropped (on the tempfile
//! crate). Creation and `aclose` run on the blocking thread pool; a drop removes what
//! is left on the dropping thread, as a synchronous drop must.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::pin::Pin;

use crate::error::{Error, ErrorKind, Result};
use crate::fs::file::AsyncFile;
use crate::fs::path::Path;

/// The system's directory for temporary files (`$TMPDIR`, else `/tmp`).
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let dir = anyio::gettempdir().await;
/// assert!(dir.as_std().is_dir());
/// # });
/// ```
pub async fn gettempdir() -> Path {
    crate::lowlevel::checkpoint_if_cancelled().await;
    Path::from(std::env::temp_dir())
}

/// The naming options shared by the temporary file and directory builders.
#[derive(Debug, Clone, Default)]
struct Naming {
    prefix: Option<String>,
    suffix: Option<String>,
    dir: Option<PathBuf>,
}

impl Naming {
    /// A tempfile builder for a file, or for a directory (`for_directory`).
    fn builder(&self, for_directory: bool) -> tempfile::Builder<'_, '_> {
        let mut builder = tempfile::Builder::new();
        // Private to its owner, as Python's: files 0o600 (tempfile's default) and
        // directories 0o700.
        if for_directory {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o700));
        }
        if let Some(prefix) = &self.prefix {
            builder.prefix(prefix);
        }
        if let Some(suffix) = &self.suffix {
            builder.suffix(suffix);
        }
        builder
    }

    fn dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(std::env::temp_dir)
    }

    /// Creates a named temporary file (on the blocking pool).
    async fn create_file(&self) -> Result<(std::fs::File, tempfile::TempPath)> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        let (naming, dir) = (self.clone(), self.dir());
        let created = blocking::unblock(move || naming.builder(false).tempfile_in(naming.dir()))
            .await
            .map_err(|e| creation_error("file", &dir, e))?;
        Ok(created.into_parts())
    }

    /// Creates a temporary directory (on the blocking pool).
    async fn create_dir(&self) -> Result<tempfile::TempDir> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        let (naming, dir) = (self.clone(), self.dir());
        blocking::unblock(move || naming.builder(true).tempdir_in(naming.dir()))
            .await
            .map_err(|e| creation_error("directory", &dir, e))
    }
}

/// A file or directory removed already (by hand) is not an error at cleanup, as in
/// Python.
fn ignore_not_found(error: std::io::Error) -> std::io::Result<()> {
    if error.kind() == std::io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(error)
    }
}

fn creation_error(what: &str, dir: &std::path::Path, error: std::io::Error) -> Error {
    Error::with_source(
        ErrorKind::Io(error.kind()),
        format!(
            "cannot create a temporary {what} in `{}`: {error}",
            dir.display()
        ),
        error,
    )
}

/// Generates the `prefix`, `suffix` and `dir` builder methods.
macro_rules! naming_options {
    ($builder:ident, $example:literal) => {
        impl $builder {
            /// The start of the generated name (default `.tmp`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $example]
            /// ```
            pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
                self.naming.prefix = Some(prefix.into());
                self
            }

            /// The end of the generated name (default none), e.g. `.txt`.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $example]
            /// ```
            pub fn suffix(mut self, suffix: impl Into<String>) -> Self {
                self.naming.suffix = Some(suffix.into());
                self
            }

            /// The directory to create it in (default [`gettempdir`]).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $example]
            /// ```
            pub fn dir(mut self, dir: impl AsRef<std::path::Path>) -> Self {
                self.naming.dir = Some(dir.as_ref().to_owned());
                self
            }
        }
    };
}

/// A temporary file with no name in the file system: it is gone as soon as it is
/// closed or dropped (on Linux it is never visible at all). Derefs to [`AsyncFile`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let mut file = anyio::TemporaryFile::new().await?;
/// file.write_all(b"scratch").await?;
/// file.seek(std::io::SeekFrom::Start(0)).await?;
/// assert_eq!(file.read_to_end().await?, b"scratch");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct TemporaryFile {
    file: AsyncFile,
}

impl TemporaryFile {
    /// Creates one in [`gettempdir`] (see [`TemporaryFile::new_in`] for another
    /// directory).
    ///
    /// # Errors
    ///
    /// The I/O error of creating it, naming the directory.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let file = anyio::TemporaryFile::new().await?;
    /// drop(file); // gone
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn new() -> Result<TemporaryFile> {
        TemporaryFile::new_in(std::env::temp_dir()).await
    }

    /// Creates one in `dir`.
    ///
    /// # Errors
    ///
    /// The I/O error of creating it, naming the directory.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// let file = anyio::TemporaryFile::new_in(dir.path()).await?;
    /// # drop(file);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn new_in(dir: impl AsRef<std::path::Path>) -> Result<TemporaryFile> {
        crate::lowlevel::checkpoint_if_cancelled().await;
        let dir = dir.as_ref().to_owned();
        let file = blocking::unblock({
            let dir = dir.clone();
            move || tempfile::tempfile_in(dir)
        })
        .await
        .map_err(|e| creation_error("file", &dir, e))?;
        Ok(TemporaryFile {
            file: crate::fs::file::wrap_file(file),
        })
    }

    /// Closes the file, which removes it.
    ///
    /// # Errors
    ///
    /// An error of flushing what was written.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let file = anyio::TemporaryFile::new().await?;
    /// file.aclose().await?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn aclose(mut self) -> Result<()> {
        self.file.flush().await
    }
}

impl Deref for TemporaryFile {
    type Target = AsyncFile;

    fn deref(&self) -> &AsyncFile {
        &self.file
    }
}

impl DerefMut for TemporaryFile {
    fn deref_mut(&mut self) -> &mut AsyncFile {
        &mut self.file
    }
}

/// A temporary file with a name ([`path`](NamedTemporaryFile::path)), removed when
/// closed or dropped (unless [`delete(false)`](NamedTemporaryFileBuilder::delete)).
/// Derefs to [`AsyncFile`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let mut file = anyio::NamedTemporaryFile::new().suffix(".txt").await?;
/// file.write_all(b"named").await?;
/// file.flush().await?;
/// let path = file.path().clone();
/// assert_eq!(std::fs::read(&path)?, b"named");
/// assert!(path.to_string().ends_with(".txt"));
/// file.aclose().await?;
/// assert!(!path.as_std().exists());
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct NamedTemporaryFile {
    file: AsyncFile,
    path: Path,
    /// Removes the file on drop (`None`: kept, or removed already).
    guard: Option<tempfile::TempPath>,
}

impl fmt::Debug for NamedTemporaryFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamedTemporaryFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The options of a [`NamedTemporaryFile`]; await it to create the file.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let builder: anyio::NamedTemporaryFileBuilder = anyio::NamedTemporaryFile::new();
/// let file = builder.prefix("report-").await?;
/// assert!(file.path().to_string().contains("report-"));
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use = "the file is created only when the builder is awaited"]
pub struct NamedTemporaryFileBuilder {
    naming: Naming,
    delete: bool,
}

naming_options!(
    NamedTemporaryFileBuilder,
    "# anyio::run(async {\nlet dir = anyio::TemporaryDirectory::new().await?;\nlet file = anyio::NamedTemporaryFile::new().prefix(\"log-\").suffix(\".txt\").dir(dir.path()).await?;\nlet name = file.path().to_string();\nassert!(name.contains(\"log-\") && name.ends_with(\".txt\"));\n# anyio::Result::Ok(()) }).unwrap();"
);

impl NamedTemporaryFileBuilder {
    /// Whether the file is removed on close or drop (default `true`).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let file = anyio::NamedTemporaryFile::new().delete(false).await?;
    /// let path = file.path().clone();
    /// drop(file);
    /// assert!(path.as_std().exists()); // kept: remove it yourself
    /// std::fs::remove_file(&path)?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn delete(mut self, delete: bool) -> Self {
        self.delete = delete;
        self
    }
}

impl IntoFuture for NamedTemporaryFileBuilder {
    type Output = Result<NamedTemporaryFile>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<NamedTemporaryFile>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (file, temp_path) = self.naming.create_file().await?;
            let path = Path::new(&*temp_path);
            let guard = if self.delete {
                Some(temp_path)
            } else {
                let _ = temp_path.keep();
                None
            };
            Ok(NamedTemporaryFile {
                file: AsyncFile::new(async_fs::File::from(file), Some(path.clone().into())),
                path,
                guard,
            })
        })
    }
}

impl NamedTemporaryFile {
    /// A builder: `NamedTemporaryFile::new().await` creates the file in
    /// [`gettempdir`]; `prefix`, `suffix`, `dir` and `delete` change that.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let file = anyio::NamedTemporaryFile::new().await?;
    /// assert!(file.path().as_std().exists());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    // `new().await` is the pinned spelling: `new` returns the builder that creates it.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> NamedTemporaryFileBuilder {
        NamedTemporaryFileBuilder {
            naming: Naming::default(),
            delete: true,
        }
    }

    /// The file's path.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let file = anyio::NamedTemporaryFile::new().await?;
    /// assert!(file.path().as_std().starts_with(std::env::temp_dir()));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes and closes the file, and removes it (unless created with
    /// `delete(false)`).
    ///
    /// # Errors
    ///
    /// An error of flushing or of removing the file, naming it.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let file = anyio::NamedTemporaryFile::new().await?;
    /// let path = file.path().clone();
    /// file.aclose().await?;
    /// assert!(!path.as_std().exists());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn aclose(mut self) -> Result<()> {
        self.file.flush().await?;
        if let Some(guard) = self.guard.take() {
            let path = self.path.clone();
            blocking::unblock(move || guard.close())
                .await
                .or_else(ignore_not_found)
                .map_err(|e| {
                    Error::with_source(
                        ErrorKind::Io(e.kind()),
                        format!("cannot remove the temporary file `{path}`: {e}"),
                        e,
                    )
                })?;
        }
        Ok(())
    }
}

impl Deref for NamedTemporaryFile {
    type Target = AsyncFile;

    fn deref(&self) -> &AsyncFile {
        &self.file
    }
}

impl DerefMut for NamedTemporaryFile {
    fn deref_mut(&mut self) -> &mut AsyncFile {
        &mut self.file
    }
}

/// A temporary directory ([`path`](TemporaryDirectory::path)), removed with
/// everything in it when closed or dropped. Prefer [`aclose`](TemporaryDirectory::aclose)
/// for a large tree: it removes it on the blocking thread pool, where a drop removes it
/// on the thread that drops it.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let dir = anyio::TemporaryDirectory::new().await?;
/// std::fs::write(dir.path().as_std().join("inside"), b"x")?;
/// let path = dir.path().clone();
/// dir.aclose().await?;
/// assert!(!path.as_std().exists());
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub struct TemporaryDirectory {
    path: Path,
    /// Removes the directory on drop (`None` once removed).
    guard: Option<tempfile::TempDir>,
}

impl fmt::Debug for TemporaryDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemporaryDirectory")
            .field("path", &self.path)
            .finish()
    }
}

/// The options of a [`TemporaryDirectory`]; await it to create the directory.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let builder: anyio::TemporaryDirectoryBuilder = anyio::TemporaryDirectory::new();
/// let dir = builder.suffix("-work").await?;
/// assert!(dir.path().to_string().ends_with("-work"));
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use = "the directory is created only when the builder is awaited"]
pub struct TemporaryDirectoryBuilder {
    naming: Naming,
}

naming_options!(
    TemporaryDirectoryBuilder,
    "# anyio::run(async {\nlet parent = anyio::TemporaryDirectory::new().await?;\nlet dir = anyio::TemporaryDirectory::new().prefix(\"build-\").suffix(\"-1\").dir(parent.path()).await?;\nassert!(dir.path().as_std().starts_with(parent.path()));\nassert!(dir.path().to_string().ends_with(\"-1\"));\n# anyio::Result::Ok(()) }).unwrap();"
);

impl IntoFuture for TemporaryDirectoryBuilder {
    type Output = Result<TemporaryDirectory>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<TemporaryDirectory>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let created = self.naming.create_dir().await?;
            Ok(TemporaryDirectory {
                path: Path::new(created.path()),
                guard: Some(created),
            })
        })
    }
}

impl TemporaryDirectory {
    /// A builder: `TemporaryDirectory::new().await` creates the directory in
    /// [`gettempdir`]; `prefix`, `suffix` and `dir` change that.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// assert!(dir.path().as_std().is_dir());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    // `new().await` is the pinned spelling: `new` returns the builder that creates it.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> TemporaryDirectoryBuilder {
        TemporaryDirectoryBuilder {
            naming: Naming::default(),
        }
    }

    /// The directory's path.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// assert!(dir.path().as_std().is_absolute());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the directory and everything in it (on the blocking thread pool).
    ///
    /// # Errors
    ///
    /// The error of removing it, naming the directory.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// dir.aclose().await?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn aclose(mut self) -> Result<()> {
        if let Some(guard) = self.guard.take() {
            let path = self.path.clone();
            blocking::unblock(move || guard.close())
                .await
                .or_else(ignore_not_found)
                .map_err(|e| {
                    Error::with_source(
                        ErrorKind::Io(e.kind()),
                        format!("cannot remove the temporary directory `{path}`: {e}"),
                        e,
                    )
                })?;
        }
        Ok(())
    }
}

/// Creates a temporary file and returns it with its path: AnyIO's `mkstemp`. It is
/// *not* removed for you. Options: `prefix`, `suffix`, `dir`.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let (file, path) = anyio::mkstemp().suffix(".dat").await?;
/// drop(file);
/// assert!(path.as_std().exists());
/// std::fs::remove_file(&path)?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub fn mkstemp() -> MkStemp {
    MkStemp {
        naming: Naming::default(),
    }
}

/// The options of [`mkstemp`]; await it to create the file.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let call: anyio::MkStemp = anyio::mkstemp().prefix("x");
/// let (_file, path) = call.await?;
/// std::fs::remove_file(&path)?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use = "the file is created only when the call is awaited"]
pub struct MkStemp {
    naming: Naming,
}

naming_options!(
    MkStemp,
    "# anyio::run(async {\nlet dir = anyio::TemporaryDirectory::new().await?;\nlet (_file, path) = anyio::mkstemp().prefix(\"data-\").suffix(\".bin\").dir(dir.path()).await?;\nassert!(path.to_string().contains(\"data-\"));\nassert!(path.as_std().starts_with(dir.path()));\n# anyio::Result::Ok(()) }).unwrap();"
);

impl IntoFuture for MkStemp {
    type Output = Result<(std::fs::File, Path)>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<(std::fs::File, Path)>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (file, temp_path) = self.naming.create_file().await?;
            let path = temp_path.keep().map_err(|e| Error::from(e.error))?;
            Ok((file, Path::from(path)))
        })
    }
}

/// Creates a temporary directory and returns its path: AnyIO's `mkdtemp`. It is *not*
/// removed for you. Options: `prefix`, `suffix`, `dir`.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let path = anyio::mkdtemp().prefix("work-").await?;
/// assert!(path.as_std().is_dir());
/// std::fs::remove_dir(&path)?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub fn mkdtemp() -> MkDtemp {
    MkDtemp {
        naming: Naming::default(),
    }
}

/// The options of [`mkdtemp`]; await it to create the directory.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let call: anyio::MkDtemp = anyio::mkdtemp().suffix("-x");
/// let path = call.await?;
/// std::fs::remove_dir(&path)?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use = "the directory is created only when the call is awaited"]
pub struct MkDtemp {
    naming: Naming,
}

naming_options!(
    MkDtemp,
    "# anyio::run(async {\nlet parent = anyio::TemporaryDirectory::new().await?;\nlet path = anyio::mkdtemp().prefix(\"tmp-\").suffix(\"-d\").dir(parent.path()).await?;\nassert!(path.to_string().contains(\"tmp-\"));\nassert!(path.as_std().is_dir());\n# anyio::Result::Ok(()) }).unwrap();"
);

impl IntoFuture for MkDtemp {
    type Output = Result<Path>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Path>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { Ok(Path::from(self.naming.create_dir().await?.keep())) })
    }
}
