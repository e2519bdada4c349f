//! `anyio::Path`: pathlib's API, with pure methods sync and I/O methods async.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fmt;
use std::ops::Div;
use std::path::{Component, PathBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::fs::pattern::fnmatch;

fn invalid_input(message: String) -> Error {
    Error::new(ErrorKind::Io(std::io::ErrorKind::InvalidInput), message)
}

/// A file system path with Python pathlib's API: pure methods (`name`, `parent`,
/// `join`, `/`, ...) are sync; methods that touch the file system (`exists`,
/// `read_text`, `iterdir`, ...) are async and run on the blocking thread pool.
///
/// Converts to and from `std::path::PathBuf` and `&std::path::Path`, and is accepted
/// wherever `AsRef<std::path::Path>` is.
///
/// # Examples
///
/// ```
/// use anyio::Path;
///
/// let config = Path::new("/etc") / "app" / "config.toml";
/// assert_eq!(config.to_string(), "/etc/app/config.toml");
/// let std_path: &std::path::Path = config.as_ref();
/// assert!(std_path.is_absolute());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Path {
    inner: PathBuf,
}

impl Path {
    /// A path from anything path-like.
    ///
    /// # Examples
    ///
    /// ```
    /// let path = anyio::Path::new("src/lib.rs");
    /// assert_eq!(path.as_std(), std::path::Path::new("src/lib.rs"));
    /// ```
    pub fn new(path: impl AsRef<std::path::Path>) -> Path {
        Path {
            inner: path.as_ref().to_owned(),
        }
    }

    /// The path as a `std::path::Path`.
    ///
    /// # Examples
    ///
    /// ```
    /// let path = anyio::Path::new("a/b");
    /// assert_eq!(path.as_std().components().count(), 2);
    /// ```
    pub fn as_std(&self) -> &std::path::Path {
        &self.inner
    }

    /// The path as a `PathBuf`.
    ///
    /// # Examples
    ///
    /// ```
    /// let path: std::path::PathBuf = anyio::Path::new("a").into_path_buf();
    /// assert_eq!(path, std::path::PathBuf::from("a"));
    /// ```
    pub fn into_path_buf(self) -> PathBuf {
        self.inner
    }

    /// The last component (`""` if there is none, as for `/` or `..`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(anyio::Path::new("dir/notes.tar.gz").name(), "notes.tar.gz");
    /// assert_eq!(anyio::Path::new("/").name(), "");
    /// ```
    pub fn name(&self) -> Cow<'_, str> {
        self.inner
            .file_name()
            .map_or(Cow::Borrowed(""), OsStr::to_string_lossy)
    }

    /// The last component without its suffix.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(anyio::Path::new("dir/notes.tar.gz").stem(), "notes.tar");
    /// assert_eq!(anyio::Path::new(".bashrc").stem(), ".bashrc");
    /// ```
    pub fn stem(&self) -> Cow<'_, str> {
        self.inner
            .file_stem()
            .map_or(Cow::Borrowed(""), OsStr::to_string_lossy)
    }

    /// The last component's suffix, with its dot (`""` if none).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(anyio::Path::new("notes.tar.gz").suffix(), ".gz");
    /// assert_eq!(anyio::Path::new("Makefile").suffix(), "");
    /// ```
    pub fn suffix(&self) -> Cow<'_, str> {
        match self.inner.extension() {
            Some(ext) => Cow::Owned(format!(".{}", ext.to_string_lossy())),
            None => Cow::Borrowed(""),
        }
    }

    /// Every suffix of the last component, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(anyio::Path::new("notes.tar.gz").suffixes(), [".tar", ".gz"]);
    /// ```
    pub fn suffixes(&self) -> Vec<String> {
        let name = self.name();
        let name = name.trim_start_matches('.');
        name.split('.').skip(1).map(|s| format!(".{s}")).collect()
    }

    /// The directory containing this path: `.` for a single relative component, the
    /// path itself for a root.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::Path;
    ///
    /// assert_eq!(Path::new("/usr/bin").parent(), Path::new("/usr"));
    /// assert_eq!(Path::new("file").parent(), Path::new("."));
    /// assert_eq!(Path::new("/").parent(), Path::new("/"));
    /// ```
    pub fn parent(&self) -> Path {
        match self.inner.parent() {
            Some(parent) if parent.as_os_str().is_empty() => Path::new("."),
            Some(parent) => Path::new(parent),
            None if self.inner.as_os_str().is_empty() => Path::new("."),
            None => self.clone(),
        }
    }

    /// Every ancestor, nearest first (not the path itself).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::Path;
    ///
    /// let parents = Path::new("/a/b/c").parents();
    /// assert_eq!(parents, [Path::new("/a/b"), Path::new("/a"), Path::new("/")]);
    /// assert_eq!(Path::new("a/b").parents(), [Path::new("a"), Path::new(".")]);
    /// assert_eq!(Path::new("a/b").parents(), [Path::new("a"), Path::new(".")]);
    /// ```
    pub fn parents(&self) -> Vec<Path> {
        // A relative path's last ancestor is `.` (as its `parent` is), as in pathlib.
        self.inner
            .ancestors()
            .skip(1)
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    Path::new(p)
                }
            })
            .collect()
    }

    /// This path joined with `other` (pathlib's `/`; an absolute `other` replaces it).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::Path;
    ///
    /// assert_eq!(Path::new("a").join("b/c"), Path::new("a/b/c"));
    /// assert_eq!(Path::new("a").join("/etc"), Path::new("/etc"));
    /// ```
    pub fn join(&self, other: impl AsRef<std::path::Path>) -> Path {
        Path {
            inner: self.inner.join(other),
        }
    }

    /// This path with its last component replaced.
    ///
    /// # Errors
    ///
    /// An [`Io`](ErrorKind::Io)`(InvalidInput)` error naming the path when it has no
    /// last component, or when `name` is empty or contains a `/`.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::Path;
    ///
    /// assert_eq!(Path::new("a/b.txt").with_name("c.md").unwrap(), Path::new("a/c.md"));
    /// assert!(Path::new("/").with_name("x").is_err());
    /// ```
    pub fn with_name(&self, name: &str) -> Result<Path> {
        if self.inner.file_name().is_none() {
            return Err(invalid_input(format!("`{self}` has no name to replace")));
        }
        if name.is_empty() || name.contains('/') || name == "." {
            return Err(invalid_input(format!("{name:?} is not a valid file name")));
        }
        Ok(Path {
            inner: self.inner.with_file_name(name),
        })
    }

    /// This path with its last component's stem replaced (the suffix is kept).
    ///
    /// # Errors
    ///
    /// As for [`with_name`](Path::with_name).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::Path;
    ///
    /// assert_eq!(Path::new("a/b.txt").with_stem("c").unwrap(), Path::new("a/c.txt"));
    /// ```
    pub fn with_stem(&self, stem: &str) -> Result<Path> {
        if stem.is_empty() {
            return Err(invalid_input(format!(
                "an empty stem would leave `{self}` with only a suffix as its name"
            )));
        }
        let name = format!("{stem}{}", self.suffix());
        self.with_name(&name)
    }

    /// This path with its suffix replaced (or added, or removed with `""`).
    ///
    /// # Errors
    ///
    /// An [`Io`](ErrorKind::Io)`(InvalidInput)` error when `suffix` is neither empty
    /// nor starts with a dot, or when the path has no name.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::Path;
    ///
    /// assert_eq!(Path::new("a/b.txt").with_suffix(".md").unwrap(), Path::new("a/b.md"));
    /// assert_eq!(Path::new("a/b.txt").with_suffix("").unwrap(), Path::new("a/b"));
    /// let err = Path::new("a/b").with_suffix("md").unwrap_err();
    /// assert!(err.message().contains("start with a dot"));
    /// ```
    pub fn with_suffix(&self, suffix: &str) -> Result<Path> {
        if !suffix.is_empty() && (!suffix.starts_with('.') || suffix == ".") {
            return Err(invalid_input(format!(
                "invalid suffix {suffix:?}: a suffix is empty or must start with a dot, as in \".txt\""
            )));
        }
        if self.inner.file_name().is_none() {
            return Err(invalid_input(format!("`{self}` has an empty name")));
        }
        let name = format!("{}{suffix}", self.stem());
        Ok(Path {
            inner: self.inner.with_file_name(name),
        })
    }

    /// This path relative to `base`.
    ///
    /// # Errors
    ///
    /// An [`Io`](ErrorKind::Io)`(InvalidInput)` error naming both paths when this path
    /// is not inside `base`.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::Path;
    ///
    /// assert_eq!(Path::new("/etc/app/conf").relative_to("/etc").unwrap(), Path::new("app/conf"));
    /// assert_eq!(Path::new("/etc").relative_to("/etc").unwrap(), Path::new("."));
    /// let err = Path::new("/etc").relative_to("/usr").unwrap_err();
    /// assert!(err.message().contains("`/etc` is not inside `/usr`"));
    /// ```
    pub fn relative_to(&self, base: impl AsRef<std::path::Path>) -> Result<Path> {
        let base = base.as_ref();
        let rest = self
            .inner
            .strip_prefix(base)
            .map_err(|_| invalid_input(format!("`{self}` is not inside `{}`", base.display())))?;
        // pathlib: a path relative to itself is `.`.
        Ok(if rest.as_os_str().is_empty() {
            Path::new(".")
        } else {
            Path::new(rest)
        })
    }

    /// Whether this path is inside `base` (or is `base`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(anyio::Path::new("/etc/app").is_relative_to("/etc"));
    /// assert!(!anyio::Path::new("/etc").is_relative_to("/usr"));
    /// ```
    pub fn is_relative_to(&self, base: impl AsRef<std::path::Path>) -> bool {
        self.inner.starts_with(base)
    }

    /// Whether the path is absolute.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(anyio::Path::new("/tmp").is_absolute());
    /// assert!(!anyio::Path::new("tmp").is_absolute());
    /// ```
    pub fn is_absolute(&self) -> bool {
        self.inner.is_absolute()
    }

    /// The components: the root (`/`) if any, then each name.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(anyio::Path::new("/usr/bin/env").parts(), ["/", "usr", "bin", "env"]);
    /// assert_eq!(anyio::Path::new("a/../b").parts(), ["a", "..", "b"]);
    /// ```
    pub fn parts(&self) -> Vec<String> {
        self.inner
            .components()
            .map(|c| match c {
                Component::RootDir => "/".to_owned(),
                other => other.as_os_str().to_string_lossy().into_owned(),
            })
            .collect()
    }

    /// Whether the path matches a glob-style `pattern` (`*`, `?`, `[...]` within a
    /// component): a relative pattern matches from the right, an absolute one the whole
    /// path (pathlib's `match`; named with a `_` as `match` is a Rust keyword).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::Path;
    ///
    /// assert!(Path::new("src/fs/path.rs").match_("*.rs"));
    /// assert!(Path::new("src/fs/path.rs").match_("fs/*.rs"));
    /// assert!(!Path::new("src/fs/path.rs").match_("/fs/*.rs"));
    /// assert!(Path::new("/src/fs/path.rs").match_("/src/*/*.rs"));
    /// ```
    pub fn match_(&self, pattern: &str) -> bool {
        let names: Vec<String> = self
            .parts()
            .into_iter()
            .filter(|part| part != "/")
            .collect();
        let absolute = pattern.starts_with('/');
        let wanted: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
        if wanted.is_empty() || wanted.len() > names.len() {
            return false;
        }
        if absolute && (!self.is_absolute() || wanted.len() != names.len()) {
            return false;
        }
        names
            .iter()
            .rev()
            .zip(wanted.iter().rev())
            .all(|(name, pattern)| fnmatch(pattern, name))
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl fmt::Display for Path {
    /// The path, with any non-UTF-8 bytes replaced.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner.display(), f)
    }
}

impl AsRef<std::path::Path> for Path {
    fn as_ref(&self) -> &std::path::Path {
        &self.inner
    }
}

impl AsRef<OsStr> for Path {
    fn as_ref(&self) -> &OsStr {
        self.inner.as_os_str()
    }
}

impl From<PathBuf> for Path {
    fn from(inner: PathBuf) -> Path {
        Path { inner }
    }
}

impl From<&std::path::Path> for Path {
    fn from(path: &std::path::Path) -> Path {
        Path::new(path)
    }
}

impl From<&str> for Path {
    fn from(path: &str) -> Path {
        Path::new(path)
    }
}

impl From<String> for Path {
    fn from(path: String) -> Path {
        Path { inner: path.into() }
    }
}

impl From<Path> for PathBuf {
    fn from(path: Path) -> PathBuf {
        path.inner
    }
}

impl<P: AsRef<std::path::Path>> Div<P> for Path {
    type Output = Path;

    /// `path / "child"`: pathlib's `/` (a joined absolute path replaces the left side).
    fn div(self, child: P) -> Path {
        Path {
            inner: self.inner.join(child),
        }
    }
}

impl<P: AsRef<std::path::Path>> Div<P> for &Path {
    type Output = Path;

    fn div(self, child: P) -> Path {
        Path {
            inner: self.inner.join(child),
        }
    }
}
