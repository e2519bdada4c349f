//! Temporary files and directories: `TemporaryFile` (no name), `NamedTemporaryFile`
//! (gone after drop and after `aclose`, kept with `delete(false)`, `prefix` / `suffix`
//! / `dir`), `TemporaryDirectory` (removed with its contents), `mkstemp` / `mkdtemp`
//! (never removed: the tests clean up), `gettempdir`, creation errors that name the
//! directory, and a churn test that leaves no file and no descriptor behind. Every
//! test runs under a deadline and creates its files in a fresh parent directory.

use std::io::SeekFrom;
use std::os::unix::fs::PermissionsExt;
use std::path::Path as StdPath;
use std::sync::Mutex;
use std::time::Duration;

use anyio::ErrorKind;

/// The descriptor-counting tests take turns with every other test here.
static SERIAL: Mutex<()> = Mutex::new(());

fn bounded<F: std::future::Future>(body: F) -> F::Output {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    anyio::run(anyio::fail_after(30, body)).expect("the test ran out of time")
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

fn entries(dir: &StdPath) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Waits (bounded) until the descriptor count is back to `before`; returns the count.
async fn settled_fds(before: usize) -> usize {
    let mut now = open_fds();
    for _ in 0..500 {
        if now <= before {
            break;
        }
        anyio::sleep(Duration::from_millis(10)).await;
        now = open_fds();
    }
    now
}

#[test]
fn temporary_file_has_no_name_and_reads_back() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        let before = open_fds();
        let mut file = anyio::TemporaryFile::new_in(parent.path()).await.unwrap();
        // Nothing visible in the directory, and no path.
        assert!(entries(parent.path()).is_empty());
        assert_eq!(file.path(), None);
        assert_eq!(open_fds(), before + 1);
        file.write_all(b"scratch\nspace\n").await.unwrap();
        file.seek(SeekFrom::Start(0)).await.unwrap();
        assert_eq!(file.read_line().await.unwrap(), "scratch\n");
        assert_eq!(file.read_to_end().await.unwrap(), b"space\n");
        file.aclose().await.unwrap();
        assert_eq!(settled_fds(before).await, before);
        assert!(entries(parent.path()).is_empty());

        // Dropped without aclose: the descriptor goes too.
        let file = anyio::TemporaryFile::new().await.unwrap();
        drop(file);
        assert_eq!(settled_fds(before).await, before);
    });
}

#[test]
fn named_temporary_file_is_gone_after_drop() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        let mut file = anyio::NamedTemporaryFile::new()
            .dir(parent.path())
            .await
            .unwrap();
        let path = file.path().clone();
        assert!(path.as_std().is_file());
        assert_eq!(path.parent().as_std(), parent.path());
        // The file derefs to an AsyncFile that knows its path.
        assert_eq!((*file).path(), Some(path.as_std()));
        file.write_all(b"visible").await.unwrap();
        file.flush().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"visible");
        drop(file);
        assert!(!path.as_std().exists());
        assert!(entries(parent.path()).is_empty());
    });
}

#[test]
fn named_temporary_file_is_gone_after_aclose_with_its_data_written_first() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        let mut file = anyio::NamedTemporaryFile::new()
            .dir(parent.path())
            .await
            .unwrap();
        let path = file.path().clone();
        file.write_all(b"line one\nline two\n").await.unwrap();
        file.seek(SeekFrom::Start(0)).await.unwrap();
        assert_eq!(file.read_line().await.unwrap(), "line one\n");
        // Another reader sees what was written.
        assert_eq!(
            anyio::open_file(&path, "r")
                .await
                .unwrap()
                .read_to_string()
                .await
                .unwrap(),
            "line one\nline two\n"
        );
        file.aclose().await.unwrap();
        assert!(!path.exists().await);
        assert!(entries(parent.path()).is_empty());
    });
}

#[test]
fn named_temporary_file_delete_false_is_kept() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        // Kept after drop.
        let mut file = anyio::NamedTemporaryFile::new()
            .dir(parent.path())
            .delete(false)
            .await
            .unwrap();
        let dropped = file.path().clone();
        file.write_all(b"kept").await.unwrap();
        file.flush().await.unwrap();
        drop(file);
        assert_eq!(std::fs::read(&dropped).unwrap(), b"kept");

        // Kept after aclose, with what was written.
        let mut file = anyio::NamedTemporaryFile::new()
            .dir(parent.path())
            .delete(false)
            .await
            .unwrap();
        let closed = file.path().clone();
        file.write_all(b"also kept").await.unwrap();
        file.aclose().await.unwrap();
        assert_eq!(std::fs::read(&closed).unwrap(), b"also kept");

        assert_eq!(entries(parent.path()).len(), 2);
        std::fs::remove_file(&dropped).unwrap();
        std::fs::remove_file(&closed).unwrap();
    });
}

#[test]
fn named_temporary_file_prefix_suffix_and_dir() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        let file = anyio::NamedTemporaryFile::new()
            .prefix("report-")
            .suffix(".csv")
            .dir(parent.path())
            .await
            .unwrap();
        let name = file.path().name().into_owned();
        assert!(name.starts_with("report-"), "{name}");
        assert!(name.ends_with(".csv"), "{name}");
        assert!(name.len() > "report-.csv".len(), "{name}");
        assert_eq!(file.path().suffix(), ".csv");
        assert_eq!(file.path().parent().as_std(), parent.path());

        // Two files never share a name.
        let other = anyio::NamedTemporaryFile::new()
            .prefix("report-")
            .suffix(".csv")
            .dir(parent.path())
            .await
            .unwrap();
        assert_ne!(file.path(), other.path());

        // By default, in gettempdir().
        let default = anyio::NamedTemporaryFile::new().await.unwrap();
        let tmp = anyio::gettempdir().await;
        assert_eq!(default.path().parent(), tmp);
        let path = default.path().clone();
        default.aclose().await.unwrap();
        assert!(!path.as_std().exists());
    });
}

#[test]
fn temporary_directory_is_removed_with_its_contents_on_drop() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        let dir = anyio::TemporaryDirectory::new()
            .dir(parent.path())
            .await
            .unwrap();
        let path = dir.path().clone();
        assert!(path.is_dir().await);
        (&path / "a" / "b").mkdir().parents(true).await.unwrap();
        (&path / "a" / "b" / "deep.txt")
            .write_text("deep")
            .await
            .unwrap();
        (&path / "top.bin")
            .write_bytes(vec![1, 2, 3])
            .await
            .unwrap();
        (&path / "link").symlink_to(parent.path()).await.unwrap();
        drop(dir);
        assert!(!path.as_std().exists());
        // The link was removed, not followed.
        assert!(parent.path().is_dir());
        assert!(entries(parent.path()).is_empty());
    });
}

#[test]
fn temporary_directory_is_removed_on_aclose_and_takes_options() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        let dir = anyio::TemporaryDirectory::new()
            .prefix("build-")
            .suffix("-tmp")
            .dir(parent.path())
            .await
            .unwrap();
        let path = dir.path().clone();
        let name = path.name().into_owned();
        assert!(
            name.starts_with("build-") && name.ends_with("-tmp"),
            "{name}"
        );
        assert!(path.is_absolute());
        assert_eq!(path.parent().as_std(), parent.path());
        (&path / "sub").mkdir().await.unwrap();
        (&path / "sub" / "f").touch().await.unwrap();
        dir.aclose().await.unwrap();
        assert!(!path.exists().await);
        assert!(entries(parent.path()).is_empty());

        // By default, in gettempdir().
        let default = anyio::TemporaryDirectory::new().await.unwrap();
        assert_eq!(default.path().parent(), anyio::gettempdir().await);
        let path = default.path().clone();
        drop(default);
        assert!(!path.as_std().exists());
    });
}

#[test]
fn named_temporary_file_aclose_after_the_file_was_removed() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        let file = anyio::NamedTemporaryFile::new()
            .dir(parent.path())
            .await
            .unwrap();
        std::fs::remove_file(file.path()).unwrap();
        file.aclose().await.unwrap();
    });
}

#[test]
fn temporary_directory_aclose_after_the_directory_was_removed() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        let dir = anyio::TemporaryDirectory::new()
            .dir(parent.path())
            .await
            .unwrap();
        std::fs::remove_dir(dir.path()).unwrap();
        dir.aclose().await.unwrap();
    });
}

#[test]
fn mkstemp_is_not_removed() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        let (file, path) = anyio::mkstemp()
            .prefix("data-")
            .suffix(".bin")
            .dir(parent.path())
            .await
            .unwrap();
        let name = path.name().into_owned();
        assert!(
            name.starts_with("data-") && name.ends_with(".bin"),
            "{name}"
        );
        assert_eq!(path.parent().as_std(), parent.path());
        // The file is open for reading and writing.
        let mut file = anyio::wrap_file(file);
        file.write_all(b"stays").await.unwrap();
        file.seek(SeekFrom::Start(0)).await.unwrap();
        assert_eq!(file.read_to_end().await.unwrap(), b"stays");
        file.aclose_file().await.unwrap();
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), b"stays");

        // By default in gettempdir(); still not removed. Clean up.
        let (file, default) = anyio::mkstemp().await.unwrap();
        drop(file);
        assert_eq!(default.parent(), anyio::gettempdir().await);
        assert!(default.is_file().await);
        default.unlink().await.unwrap();
        path.unlink().await.unwrap();
        assert!(entries(parent.path()).is_empty());
    });
}

#[test]
fn mkdtemp_is_not_removed() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        let path = anyio::mkdtemp()
            .prefix("work-")
            .suffix("-d")
            .dir(parent.path())
            .await
            .unwrap();
        let name = path.name().into_owned();
        assert!(name.starts_with("work-") && name.ends_with("-d"), "{name}");
        assert!(path.is_dir().await);
        assert_eq!(path.parent().as_std(), parent.path());
        (&path / "f").touch().await.unwrap();
        let other = anyio::mkdtemp().dir(parent.path()).await.unwrap();
        assert_ne!(path, other);
        assert!(path.is_dir().await && other.is_dir().await);

        let default = anyio::mkdtemp().await.unwrap();
        assert_eq!(default.parent(), anyio::gettempdir().await);
        assert!(default.is_dir().await);
        default.rmdir().await.unwrap();
        std::fs::remove_dir_all(&path).unwrap();
        other.rmdir().await.unwrap();
        assert!(entries(parent.path()).is_empty());
    });
}

#[test]
fn temporary_files_are_private_to_the_user() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        let named = anyio::NamedTemporaryFile::new()
            .dir(parent.path())
            .await
            .unwrap();
        let (file, path) = anyio::mkstemp().dir(parent.path()).await.unwrap();
        drop(file);
        for path in [named.path(), &path] {
            let mode = path.stat().await.unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{path}: {mode:o}");
        }
        path.unlink().await.unwrap();
    });
}

#[test]
fn temporary_directories_are_private_to_the_user() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        let dir = anyio::TemporaryDirectory::new()
            .dir(parent.path())
            .await
            .unwrap();
        let path = anyio::mkdtemp().dir(parent.path()).await.unwrap();
        let modes = [
            dir.path().stat().await.unwrap().permissions().mode() & 0o777,
            path.stat().await.unwrap().permissions().mode() & 0o777,
        ];
        path.rmdir().await.unwrap();
        assert_eq!(modes, [0o700, 0o700], "{:o} {:o}", modes[0], modes[1]);
    });
}

#[test]
fn gettempdir_is_the_system_temporary_directory() {
    bounded(async {
        let dir = anyio::gettempdir().await;
        assert_eq!(dir.as_std(), std::env::temp_dir());
        assert!(dir.is_dir().await);
    });
}

#[test]
fn creation_errors_name_the_directory() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        let missing = parent.path().join("no/such/dir");
        let shown = missing.display().to_string();
        let check = |err: anyio::Error| {
            assert_eq!(err.kind(), ErrorKind::Io(std::io::ErrorKind::NotFound));
            assert!(err.message().contains(&shown), "{}", err.message());
        };
        check(anyio::TemporaryFile::new_in(&missing).await.unwrap_err());
        check(
            anyio::NamedTemporaryFile::new()
                .dir(&missing)
                .await
                .unwrap_err(),
        );
        check(
            anyio::TemporaryDirectory::new()
                .dir(&missing)
                .await
                .unwrap_err(),
        );
        check(anyio::mkstemp().dir(&missing).await.unwrap_err());
        check(anyio::mkdtemp().dir(&missing).await.unwrap_err());
        assert!(!missing.exists());
    });
}

#[test]
fn temporary_file_churn_leaves_no_file_and_no_descriptor() {
    bounded(async {
        let parent = tempfile::tempdir().unwrap();
        // Warm up.
        anyio::NamedTemporaryFile::new()
            .dir(parent.path())
            .await
            .unwrap()
            .aclose()
            .await
            .unwrap();
        let before = open_fds();
        for i in 0..100 {
            let mut named = anyio::NamedTemporaryFile::new()
                .dir(parent.path())
                .await
                .unwrap();
            named.write_all(format!("{i}\n").as_bytes()).await.unwrap();
            if i % 2 == 0 {
                named.aclose().await.unwrap();
            } else {
                drop(named);
            }
            let dir = anyio::TemporaryDirectory::new()
                .dir(parent.path())
                .await
                .unwrap();
            (dir.path() / "f").touch().await.unwrap();
            let mut unnamed = anyio::TemporaryFile::new_in(dir.path()).await.unwrap();
            unnamed.write_all(b"x").await.unwrap();
            drop(unnamed);
            if i % 2 == 0 {
                dir.aclose().await.unwrap();
            } else {
                drop(dir);
            }
        }
        let after = settled_fds(before).await;
        assert!(
            after <= before,
            "{before} descriptors before, {after} after"
        );
        assert!(
            entries(parent.path()).is_empty(),
            "{:?}",
            entries(parent.path())
        );
    });
}
