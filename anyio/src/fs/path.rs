//! `anyio::Path`: pathlib's API, with pure methods sync and I/O methods async.

use std::ffi::OsStr;
use std::fmt;
use std::ops::Div;
use std::path::PathBuf;

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
