//! `Path`'s methods that touch the file system: each runs on the blocking thread pool
//! and is a checkpoint; errors name the path. Directory listings (`iterdir`, `glob`,
//! `rglob`, `walk`) are streams that read entries as they go.

use std::future::{Future, IntoFuture};
use std::io;
use std::path::PathBuf;
use std::pin::Pin;

use futures_core::Stream;
use futures_lite::StreamExt;

use crate::error::{Error, ErrorKind, Result};
use crate::fs::file::{AsyncFile, open_file};
use crate::fs::path::Path;
use crate::fs::pattern::{fnmatch, has_wildcard};
use crate::lowlevel::checkpoint_if_cancelled;

/// An error of `action` on `path`, naming both.
fn path_error(action: &str, path: &std::path::Path, error: io::Error) -> Error {
    Error::with_source(
        ErrorKind::Io(error.kind()),
        format!("cannot {action} `{}`: {error}", path.display()),
        error,
    )
}

/// Runs `f(path)` on the blocking pool after a checkpoint; an error names the path.
async fn blocking_io<T: Send + 'static>(
    path: &Path,
    action: &'static str,
    f: impl FnOnce(PathBuf) -> io::Result<T> + Send + 'static,
) -> Result<T> {
    checkpoint_if_cancelled().await;
    let owned = path.as_std().to_owned();
    blocking::unblock(move || f(owned))
        .await
        .map_err(|e| path_error(action, path.as_std(), e))
}

/// A boxed stream of the listings.
type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send>>;

impl Path {
    /// The current working directory.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let here = anyio::Path::cwd().await?;
    /// assert!(here.is_absolute());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn cwd() -> Result<Path> {
        checkpoint_if_cancelled().await;
        Ok(Path::from(std::env::current_dir()?))
    }

    /// The user's home directory (`$HOME`).
    ///
    /// # Errors
    ///
    /// An error of kind [`Other`](ErrorKind::Other) when `HOME` is not set.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// # if std::env::var_os("HOME").is_some() {
    /// let home = anyio::Path::home().await?;
    /// assert!(home.is_absolute());
    /// # }
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn home() -> Result<Path> {
        checkpoint_if_cancelled().await;
        std::env::var_os("HOME")
            .map(|home| Path::from(PathBuf::from(home)))
            .ok_or_else(|| Error::new(ErrorKind::Other, "the HOME variable is not set"))
    }

    /// Whether something exists at this path (following symbolic links).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// assert!(anyio::Path::new("Cargo.toml").exists().await);
    /// assert!(!anyio::Path::new("no/such/file").exists().await);
    /// # });
    /// ```
    pub async fn exists(&self) -> bool {
        blocking_io(self, "look at", std::fs::metadata)
            .await
            .is_ok()
    }

    /// Whether this is a regular file (following symbolic links).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// assert!(anyio::Path::new("Cargo.toml").is_file().await);
    /// assert!(!anyio::Path::new("src").is_file().await);
    /// # });
    /// ```
    pub async fn is_file(&self) -> bool {
        blocking_io(self, "look at", std::fs::metadata)
            .await
            .is_ok_and(|m| m.is_file())
    }

    /// Whether this is a directory (following symbolic links).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// assert!(anyio::Path::new("src").is_dir().await);
    /// # });
    /// ```
    pub async fn is_dir(&self) -> bool {
        blocking_io(self, "look at", std::fs::metadata)
            .await
            .is_ok_and(|m| m.is_dir())
    }

    /// Whether this is a symbolic link.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// assert!(!anyio::Path::new("Cargo.toml").is_symlink().await);
    /// # });
    /// ```
    pub async fn is_symlink(&self) -> bool {
        blocking_io(self, "look at", std::fs::symlink_metadata)
            .await
            .is_ok_and(|m| m.file_type().is_symlink())
    }

    /// The metadata (following symbolic links).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let meta = anyio::Path::new("Cargo.toml").stat().await?;
    /// assert!(meta.len() > 0);
    /// let err = anyio::Path::new("missing.txt").stat().await.unwrap_err();
    /// assert!(err.message().contains("`missing.txt`"));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn stat(&self) -> Result<std::fs::Metadata> {
        blocking_io(self, "stat", std::fs::metadata).await
    }

    /// The metadata of the link itself, for a symbolic link.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let meta = anyio::Path::new("Cargo.toml").lstat().await?;
    /// assert!(meta.is_file());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn lstat(&self) -> Result<std::fs::Metadata> {
        blocking_io(self, "stat", std::fs::symlink_metadata).await
    }

    /// The whole file.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let bytes = anyio::Path::new("Cargo.toml").read_bytes().await?;
    /// assert!(bytes.starts_with(b"[package]"));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read_bytes(&self) -> Result<Vec<u8>> {
        blocking_io(self, "read", std::fs::read).await
    }

    /// The whole file as UTF-8 text.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let text = anyio::Path::new("Cargo.toml").read_text().await?;
    /// assert!(text.contains("name"));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read_text(&self) -> Result<String> {
        blocking_io(self, "read text from", std::fs::read_to_string).await
    }

    /// Writes `data` as the whole file (created or truncated).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// let file = dir.path() / "data.bin";
    /// file.write_bytes(b"\x00\x01").await?;
    /// assert_eq!(file.read_bytes().await?, b"\x00\x01");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write_bytes(&self, data: impl Into<Vec<u8>>) -> Result<()> {
        let data = data.into();
        blocking_io(self, "write", move |p| std::fs::write(p, data)).await
    }

    /// Writes `text` as the whole file (created or truncated).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// let file = dir.path() / "note.txt";
    /// file.write_text("hello").await?;
    /// assert_eq!(file.read_text().await?, "hello");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn write_text(&self, text: impl Into<String>) -> Result<()> {
        let text = text.into();
        blocking_io(self, "write", move |p| std::fs::write(p, text)).await
    }

    /// Opens the file with a Python mode string (see [`open_file`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let mut file = anyio::Path::new("Cargo.toml").open("r").await?;
    /// assert_eq!(file.read_line().await?, "[package]\n");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn open(&self, mode: &str) -> Result<AsyncFile> {
        open_file(self, mode).await
    }

    /// Creates the directory; options: [`parents`](MkDir::parents),
    /// [`exist_ok`](MkDir::exist_ok), [`mode`](MkDir::mode).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// let nested = dir.path() / "a" / "b";
    /// nested.mkdir().parents(true).await?;
    /// assert!(nested.is_dir().await);
    /// nested.mkdir().exist_ok(true).await?; // already there: fine
    /// assert!(nested.mkdir().await.is_err());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn mkdir(&self) -> MkDir<'_> {
        MkDir {
            path: self,
            parents: false,
            exist_ok: false,
            mode: 0o777,
        }
    }

    /// Removes the file (or symbolic link); option
    /// [`missing_ok`](Unlink::missing_ok).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// let file = dir.path() / "gone";
    /// file.touch().await?;
    /// file.unlink().await?;
    /// file.unlink().missing_ok(true).await?; // already gone: fine
    /// assert!(file.unlink().await.is_err());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn unlink(&self) -> Unlink<'_> {
        Unlink {
            path: self,
            missing_ok: false,
        }
    }

    /// Creates the file if missing, or updates its modification time; option
    /// [`exist_ok`](Touch::exist_ok) (default `true`).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// let file = dir.path() / "marker";
    /// file.touch().await?;
    /// assert!(file.is_file().await);
    /// assert!(file.touch().exist_ok(false).await.is_err());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn touch(&self) -> Touch<'_> {
        Touch {
            path: self,
            exist_ok: true,
        }
    }

    /// Removes the (empty) directory.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// let sub = dir.path() / "sub";
    /// sub.mkdir().await?;
    /// sub.rmdir().await?;
    /// assert!(!sub.exists().await);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn rmdir(&self) -> Result<()> {
        blocking_io(self, "remove the directory", std::fs::remove_dir).await
    }

    /// Renames this path to `target` (replacing a file there) and returns the new path.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// let old = dir.path() / "old";
    /// old.write_text("x").await?;
    /// let new = old.rename(dir.path() / "new").await?;
    /// assert!(new.exists().await && !old.exists().await);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn rename(&self, target: impl AsRef<std::path::Path>) -> Result<Path> {
        let target = target.as_ref().to_owned();
        let renamed = target.clone();
        blocking_io(self, "rename", move |p| std::fs::rename(p, target)).await?;
        Ok(Path::from(renamed))
    }

    /// Renames this path to `target`, replacing what is there (the same as
    /// [`rename`](Path::rename) on Unix).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// let (a, b) = (dir.path() / "a", dir.path() / "b");
    /// a.write_text("new").await?;
    /// b.write_text("old").await?;
    /// a.replace(&b).await?;
    /// assert_eq!(b.read_text().await?, "new");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn replace(&self, target: impl AsRef<std::path::Path>) -> Result<Path> {
        self.rename(target).await
    }

    /// The absolute path with symbolic links and `..` resolved. A path that does not
    /// exist is resolved as far as it does, and the rest appended (pathlib's
    /// non-strict `resolve`).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let resolved = anyio::Path::new("src/../Cargo.toml").resolve().await?;
    /// assert!(resolved.is_absolute());
    /// assert_eq!(resolved.name(), "Cargo.toml");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn resolve(&self) -> Result<Path> {
        blocking_io(self, "resolve", |p| {
            let absolute = std::path::absolute(&p)?;
            // The longest existing start, canonicalized, then the rest with `.` and `..`
            // applied as written.
            let parts: Vec<std::path::Component<'_>> = absolute.components().collect();
            for split in (1..=parts.len()).rev() {
                let start: PathBuf = parts[..split].iter().collect();
                match std::fs::canonicalize(&start) {
                    Ok(mut resolved) => {
                        for part in &parts[split..] {
                            match part {
                                std::path::Component::ParentDir => {
                                    resolved.pop();
                                }
                                std::path::Component::Normal(name) => resolved.push(name),
                                _ => {}
                            }
                        }
                        return Ok(resolved);
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                }
            }
            Ok(absolute)
        })
        .await
        .map(Path::from)
    }

    /// The target of this symbolic link.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// let link = dir.path() / "link";
    /// link.symlink_to("target.txt").await?;
    /// assert_eq!(link.readlink().await?, anyio::Path::new("target.txt"));
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn readlink(&self) -> Result<Path> {
        blocking_io(self, "read the link", std::fs::read_link)
            .await
            .map(Path::from)
    }

    /// Makes this path a symbolic link to `target`.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// (dir.path() / "real").write_text("x").await?;
    /// let link = dir.path() / "alias";
    /// link.symlink_to(dir.path() / "real").await?;
    /// assert!(link.is_symlink().await);
    /// assert_eq!(link.read_text().await?, "x");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn symlink_to(&self, target: impl AsRef<std::path::Path>) -> Result<()> {
        let target = target.as_ref().to_owned();
        blocking_io(self, "create the symbolic link", move |p| {
            std::os::unix::fs::symlink(target, p)
        })
        .await
    }

    /// Makes this path a hard link to `target`.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// let original = dir.path() / "original";
    /// original.write_text("shared").await?;
    /// let link = dir.path() / "hard";
    /// link.hardlink_to(&original).await?;
    /// assert_eq!(link.read_text().await?, "shared");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn hardlink_to(&self, target: impl AsRef<std::path::Path>) -> Result<()> {
        let target = target.as_ref().to_owned();
        blocking_io(self, "create the hard link", move |p| {
            std::fs::hard_link(target, p)
        })
        .await
    }

    /// Sets the permission bits (e.g. `0o644`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    ///
    /// # anyio::run(async {
    /// let file = anyio::NamedTemporaryFile::new().await?;
    /// file.path().chmod(0o600).await?;
    /// let mode = file.path().stat().await?.permissions().mode();
    /// assert_eq!(mode & 0o777, 0o600);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn chmod(&self, mode: u32) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        blocking_io(self, "change the mode of", move |p| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
        })
        .await
    }

    /// Copies this file (contents and permissions) to `target` and returns the target.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// let copy = anyio::Path::new("Cargo.toml").copy(dir.path() / "copy.toml").await?;
    /// assert_eq!(copy.read_bytes().await?, std::fs::read("Cargo.toml")?);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn copy(&self, target: impl AsRef<std::path::Path>) -> Result<Path> {
        let target = target.as_ref().to_owned();
        let copied = target.clone();
        blocking_io(self, "copy", move |p| std::fs::copy(p, target)).await?;
        Ok(Path::from(copied))
    }

    /// Moves this file or directory to `target` (a rename, or a copy and a removal
    /// across file systems) and returns the target.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// let here = dir.path() / "here";
    /// here.write_text("x").await?;
    /// let there = here.move_(dir.path() / "there").await?;
    /// assert!(there.exists().await && !here.exists().await);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn move_(&self, target: impl AsRef<std::path::Path>) -> Result<Path> {
        let target = target.as_ref().to_owned();
        let moved = target.clone();
        blocking_io(self, "move", move |p| match std::fs::rename(&p, &target) {
            Err(e) if e.kind() == io::ErrorKind::CrossesDevices => {
                if std::fs::symlink_metadata(&p)?.is_dir() {
                    return Err(io::Error::new(
                        io::ErrorKind::CrossesDevices,
                        "moving a directory across file systems is not supported",
                    ));
                }
                std::fs::copy(&p, &target)?;
                std::fs::remove_file(&p)
            }
            other => other,
        })
        .await?;
        Ok(Path::from(moved))
    }

    /// The entries of this directory, as a stream read as it goes (never the whole
    /// directory at once). An error opening the directory is the first item.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    ///
    /// # anyio::run(async {
    /// let names: Vec<String> = anyio::Path::new("src")
    ///     .iterdir()
    ///     .map(|entry| entry.unwrap().name().into_owned())
    ///     .collect()
    ///     .await;
    /// assert!(!names.is_empty());
    /// # });
    /// ```
    pub fn iterdir(&self) -> impl Stream<Item = Result<Path>> + Send + Unpin + use<> {
        let root = self.as_std().to_owned();
        Box::pin(futures_lite::stream::unfold(
            ListState::Start(root),
            |state| async move {
                match state {
                    ListState::Start(dir) => {
                        checkpoint_if_cancelled().await;
                        match async_fs::read_dir(&dir).await {
                            Ok(entries) => next_entry(entries, dir).await,
                            Err(e) => Some((
                                Err(path_error("list the directory", &dir, e)),
                                ListState::Done,
                            )),
                        }
                    }
                    ListState::Reading(entries, dir) => next_entry(entries, dir).await,
                    ListState::Done => None,
                }
            },
        )) as BoxStream<Path>
    }

    /// The paths below this directory that match `pattern` (relative, `/`-separated;
    /// each component may use `*`, `?`, `[...]`; `**` matches any number of
    /// directories), as a stream that reads directories as it goes. Directories that
    /// cannot be read are skipped, as pathlib does.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    ///
    /// # anyio::run(async {
    /// let manifests: Vec<anyio::Path> =
    ///     anyio::Path::new(".").glob("*.toml").map(Result::unwrap).collect().await;
    /// assert!(manifests.iter().any(|p| p.name() == "Cargo.toml"));
    /// # });
    /// ```
    pub fn glob(&self, pattern: &str) -> impl Stream<Item = Result<Path>> + Send + Unpin + use<> {
        let components: Vec<String> = pattern
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .map(str::to_owned)
            .collect();
        let walker = Glob {
            components,
            stack: vec![(self.as_std().to_owned(), 0)],
            active: None,
        };
        Box::pin(futures_lite::stream::unfold(
            walker,
            |mut walker| async move {
                let item = walker.next().await?;
                Some((item, walker))
            },
        )) as BoxStream<Path>
    }

    /// [`glob`](Path::glob) with `**/` in front: matches at any depth.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    ///
    /// # anyio::run(async {
    /// let sources: Vec<anyio::Path> =
    ///     anyio::Path::new("src").rglob("*.rs").map(Result::unwrap).collect().await;
    /// assert!(sources.iter().all(|p| p.suffix() == ".rs"));
    /// # });
    /// ```
    pub fn rglob(&self, pattern: &str) -> impl Stream<Item = Result<Path>> + Send + Unpin + use<> {
        self.glob(&format!("**/{pattern}"))
    }

    /// The directory tree, top-down: for each directory, its path, the names of its
    /// subdirectories and the names of its other entries (pathlib's `walk`). Each
    /// directory is listed when the stream reaches it; an error listing one is an item
    /// of its own, and the walk goes on. Symbolic links to directories are not
    /// followed.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    ///
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// (dir.path() / "sub").mkdir().await?;
    /// (dir.path() / "sub" / "f.txt").touch().await?;
    /// let mut walk = dir.path().walk();
    /// let (top, dirs, files) = walk.next().await.unwrap()?;
    /// assert_eq!((&top, dirs, files), (dir.path(), vec!["sub".to_owned()], vec![]));
    /// let (sub, dirs, files) = walk.next().await.unwrap()?;
    /// assert_eq!((sub.name(), dirs.len(), files), ("sub".into(), 0, vec!["f.txt".to_owned()]));
    /// assert!(walk.next().await.is_none());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn walk(
        &self,
    ) -> impl Stream<Item = Result<(Path, Vec<String>, Vec<String>)>> + Send + Unpin + use<> {
        let stack = vec![self.as_std().to_owned()];
        Box::pin(futures_lite::stream::unfold(
            stack,
            |mut stack| async move {
                let dir = stack.pop()?;
                checkpoint_if_cancelled().await;
                let listed = blocking::unblock({
                    let dir = dir.clone();
                    move || -> io::Result<(Vec<String>, Vec<String>)> {
                        let (mut dirs, mut files) = (Vec::new(), Vec::new());
                        for entry in std::fs::read_dir(&dir)? {
                            let entry = entry?;
                            let name = entry.file_name().to_string_lossy().into_owned();
                            if entry.file_type()?.is_dir() {
                                dirs.push(name);
                            } else {
                                files.push(name);
                            }
                        }
                        dirs.sort();
                        files.sort();
                        Ok((dirs, files))
                    }
                })
                .await;
                match listed {
                    Ok((dirs, files)) => {
                        stack.extend(dirs.iter().rev().map(|name| dir.join(name)));
                        Some((Ok((Path::from(dir), dirs, files)), stack))
                    }
                    Err(e) => Some((Err(path_error("list the directory", &dir, e)), stack)),
                }
            },
        )) as BoxStream<(Path, Vec<String>, Vec<String>)>
    }
}

/// Where an `iterdir` stream is.
enum ListState {
    Start(PathBuf),
    Reading(async_fs::ReadDir, PathBuf),
    Done,
}

async fn next_entry(
    mut entries: async_fs::ReadDir,
    dir: PathBuf,
) -> Option<(Result<Path>, ListState)> {
    match entries.next().await? {
        Ok(entry) => Some((
            Ok(Path::from(entry.path())),
            ListState::Reading(entries, dir),
        )),
        Err(e) => Some((
            Err(path_error("list the directory", &dir, e)),
            ListState::Reading(entries, dir),
        )),
    }
}

/// A glob in progress: directories still to look at, each with the index of the
/// pattern component it must match next, and the listing being read.
struct Glob {
    components: Vec<String>,
    stack: Vec<(PathBuf, usize)>,
    active: Option<(async_fs::ReadDir, PathBuf, usize)>,
}

impl Glob {
    async fn next(&mut self) -> Option<Result<Path>> {
        loop {
            if let Some((entries, dir, index)) = &mut self.active {
                let index = *index;
                match entries.next().await {
                    None => self.active = None,
                    Some(Err(_)) => {} // an entry that vanished: skipped
                    Some(Ok(entry)) => {
                        let path = dir.join(entry.file_name());
                        let is_dir = async_fs::metadata(&path).await.is_ok_and(|m| m.is_dir());
                        let is_link = entry.file_type().await.is_ok_and(|t| t.is_symlink());
                        if self.components[index] == "**" {
                            // Recurse with the same component (not through links).
                            if is_dir && !is_link {
                                self.stack.push((path, index));
                            }
                            continue;
                        }
                        let name = entry.file_name();
                        if fnmatch(&self.components[index], &name.to_string_lossy()) {
                            if index + 1 == self.components.len() {
                                return Some(Ok(Path::from(path)));
                            }
                            if is_dir {
                                self.stack.push((path, index + 1));
                            }
                        }
                    }
                }
                continue;
            }
            let (dir, index) = self.stack.pop()?;
            checkpoint_if_cancelled().await;
            if index == self.components.len() {
                // Reached through `**` matching nothing more: the directory itself.
                return Some(Ok(Path::from(dir)));
            }
            let component = &self.components[index];
            if component == "**" {
                self.stack.push((dir.clone(), index + 1));
                if let Ok(entries) = async_fs::read_dir(&dir).await {
                    self.active = Some((entries, dir, index));
                }
            } else if !has_wildcard(component) {
                let candidate = dir.join(component);
                if let Ok(meta) = async_fs::symlink_metadata(&candidate).await {
                    if index + 1 == self.components.len() {
                        return Some(Ok(Path::from(candidate)));
                    }
                    if meta.is_dir()
                        || async_fs::metadata(&candidate)
                            .await
                            .is_ok_and(|m| m.is_dir())
                    {
                        self.stack.push((candidate, index + 1));
                    }
                }
            } else if let Ok(entries) = async_fs::read_dir(&dir).await {
                self.active = Some((entries, dir, index));
            }
        }
    }
}

/// The options of [`Path::mkdir`]; await it to create the directory.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let dir = anyio::TemporaryDirectory::new().await?;
/// let path = dir.path() / "x";
/// let call: anyio::fs::MkDir<'_> = path.mkdir();
/// call.await?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
#[must_use = "the directory is created only when the call is awaited"]
pub struct MkDir<'a> {
    path: &'a Path,
    parents: bool,
    exist_ok: bool,
    mode: u32,
}

impl MkDir<'_> {
    /// Creates missing parents too (default `false`).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// (dir.path() / "a/b/c").mkdir().parents(true).await?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn parents(mut self, parents: bool) -> Self {
        self.parents = parents;
        self
    }

    /// An existing directory is not an error (default `false`).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// dir.path().mkdir().exist_ok(true).await?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn exist_ok(mut self, exist_ok: bool) -> Self {
        self.exist_ok = exist_ok;
        self
    }

    /// The permission bits, before the umask (default `0o777`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    ///
    /// # anyio::run(async {
    /// let dir = anyio::TemporaryDirectory::new().await?;
    /// let private = dir.path() / "private";
    /// private.mkdir().mode(0o700).await?;
    /// assert_eq!(private.stat().await?.permissions().mode() & 0o077, 0);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }
}

impl<'a> IntoFuture for MkDir<'a> {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let MkDir {
                path,
                parents,
                exist_ok,
                mode,
            } = self;
            blocking_io(path, "create the directory", move |p| {
                use std::os::unix::fs::DirBuilderExt;
                // `recursive` tolerates an existing directory; pathlib does not unless
                // `exist_ok`.
                if !exist_ok && std::fs::symlink_metadata(&p).is_ok() {
                    return Err(io::Error::from(io::ErrorKind::AlreadyExists));
                }
                let created = std::fs::DirBuilder::new()
                    .recursive(parents)
                    .mode(mode)
                    .create(&p);
                match created {
                    Err(e)
                        if e.kind() == io::ErrorKind::AlreadyExists && exist_ok && p.is_dir() =>
                    {
                        Ok(())
                    }
                    other => other,
                }
            })
            .await
        })
    }
}

/// The options of [`Path::unlink`]; await it to remove the file.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let file = anyio::NamedTemporaryFile::new().delete(false).await?;
/// let call: anyio::fs::Unlink<'_> = file.path().unlink();
/// call.await?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
#[must_use = "the file is removed only when the call is awaited"]
pub struct Unlink<'a> {
    path: &'a Path,
    missing_ok: bool,
}

impl Unlink<'_> {
    /// A missing file is not an error (default `false`).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// anyio::Path::new("/no/such/file").unlink().missing_ok(true).await?;
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn missing_ok(mut self, missing_ok: bool) -> Self {
        self.missing_ok = missing_ok;
        self
    }
}

impl<'a> IntoFuture for Unlink<'a> {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let missing_ok = self.missing_ok;
            blocking_io(self.path, "remove", move |p| {
                match std::fs::remove_file(p) {
                    Err(e) if e.kind() == io::ErrorKind::NotFound && missing_ok => Ok(()),
                    other => other,
                }
            })
            .await
        })
    }
}

/// The options of [`Path::touch`]; await it to touch the file.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let dir = anyio::TemporaryDirectory::new().await?;
/// let path = dir.path() / "t";
/// let call: anyio::fs::Touch<'_> = path.touch();
/// call.await?;
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
#[must_use = "the file is touched only when the call is awaited"]
pub struct Touch<'a> {
    path: &'a Path,
    exist_ok: bool,
}

impl Touch<'_> {
    /// An existing file is not an error (default `true`; its modification time is
    /// updated).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let file = anyio::NamedTemporaryFile::new().await?;
    /// assert!(file.path().touch().exist_ok(false).await.is_err());
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn exist_ok(mut self, exist_ok: bool) -> Self {
        self.exist_ok = exist_ok;
        self
    }
}

impl<'a> IntoFuture for Touch<'a> {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let exist_ok = self.exist_ok;
            blocking_io(self.path, "touch", move |p| {
                // An existing file (or directory) only gets its times updated, as
                // pathlib's `utime` does: no need to open it for writing.
                if std::fs::metadata(&p).is_ok() {
                    if !exist_ok {
                        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
                    }
                    let now = std::time::SystemTime::now();
                    let times = std::fs::FileTimes::new()
                        .set_accessed(now)
                        .set_modified(now);
                    return std::fs::File::open(&p)?.set_times(times);
                }
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .create(exist_ok)
                    .create_new(!exist_ok)
                    .truncate(false)
                    .open(&p)?;
                file.set_modified(std::time::SystemTime::now())
            })
            .await
        })
    }
}
