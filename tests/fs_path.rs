//! `anyio::Path` (AnyIO's FIO-05..15): the pure pathlib methods and their edge cases
//! (`parent` of `/` and of a single name, suffix rules, `relative_to` errors, `match_`
//! relative vs absolute), then the async file-system methods on a fresh temporary
//! directory: stat and friends, reading and writing, `mkdir` / `unlink` / `touch`
//! options, rename / replace / copy / move, links, `chmod`, `resolve`, and the listing
//! streams `iterdir`, `glob`, `rglob` and `walk`. Every async test runs under a
//! deadline.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::{Duration, SystemTime};

use anyio::{ErrorKind, Path};
use futures_lite::StreamExt;

fn bounded<F: std::future::Future>(body: F) -> F::Output {
    anyio::run(anyio::fail_after(30, body)).expect("the test ran out of time")
}

fn io(kind: std::io::ErrorKind) -> ErrorKind {
    ErrorKind::Io(kind)
}

/// Whether `err`'s message names `path`.
fn names(err: &anyio::Error, path: &Path) -> bool {
    err.message().contains(&path.to_string())
}

/// The paths of a listing stream, relative to `base`, sorted (listings come in
/// directory order).
async fn relative_sorted(
    stream: impl futures_lite::Stream<Item = anyio::Result<Path>> + Unpin,
    base: &Path,
) -> Vec<String> {
    let mut found: Vec<String> = stream
        .map(|p| p.unwrap().relative_to(base).unwrap().to_string())
        .collect()
        .await;
    found.sort();
    found
}

// ---------------------------------------------------------------------------------------
// Pure methods
// ---------------------------------------------------------------------------------------

#[test]
fn name_stem_suffix_and_suffixes() {
    let cases: [(&str, &str, &str, &str, &[&str]); 8] = [
        (
            "dir/notes.tar.gz",
            "notes.tar.gz",
            "notes.tar",
            ".gz",
            &[".tar", ".gz"],
        ),
        ("/usr/bin/env", "env", "env", "", &[]),
        ("a/.bashrc", ".bashrc", ".bashrc", "", &[]),
        (
            "a/.config.toml",
            ".config.toml",
            ".config",
            ".toml",
            &[".toml"],
        ),
        ("trailing/slash/", "slash", "slash", "", &[]),
        ("/", "", "", "", &[]),
        ("", "", "", "", &[]),
        ("Makefile", "Makefile", "Makefile", "", &[]),
    ];
    for (path, name, stem, suffix, suffixes) in cases {
        let p = Path::new(path);
        assert_eq!(p.name(), name, "name of {path:?}");
        assert_eq!(p.stem(), stem, "stem of {path:?}");
        assert_eq!(p.suffix(), suffix, "suffix of {path:?}");
        assert_eq!(p.suffixes(), suffixes, "suffixes of {path:?}");
    }
}

#[test]
fn parent_of_root_of_a_single_name_and_of_deeper_paths() {
    assert_eq!(Path::new("/").parent(), Path::new("/"));
    assert_eq!(Path::new("a").parent(), Path::new("."));
    assert_eq!(Path::new("").parent(), Path::new("."));
    assert_eq!(Path::new("/a").parent(), Path::new("/"));
    assert_eq!(Path::new("/usr/bin").parent(), Path::new("/usr"));
    assert_eq!(Path::new("a/b/c.txt").parent(), Path::new("a/b"));
    assert_eq!(Path::new("a/b/").parent(), Path::new("a"));
    assert_eq!(
        Path::new("/a/b/c").parents(),
        [Path::new("/a/b"), Path::new("/a"), Path::new("/")]
    );
    assert!(Path::new("/").parents().is_empty());
}

#[test]
fn parents_of_a_relative_path_end_with_dot() {
    assert_eq!(Path::new("a/b").parents(), [Path::new("a"), Path::new(".")]);
    assert_eq!(Path::new("a").parents(), [Path::new(".")]);
}

#[test]
fn join_div_and_conversions() {
    let base = Path::new("/srv");
    assert_eq!(
        base.join("www/index.html"),
        Path::new("/srv/www/index.html")
    );
    // An absolute right side replaces the left, as in pathlib.
    assert_eq!(base.join("/etc/passwd"), Path::new("/etc/passwd"));
    assert_eq!(&base / "a" / "b", Path::new("/srv/a/b"));
    assert_eq!(base.clone() / Path::new("c"), Path::new("/srv/c"));
    assert_eq!(Path::new("rel") / "/abs", Path::new("/abs"));
    assert_eq!((Path::new("a") / "b").to_string(), "a/b");
    // Conversions both ways.
    let std_path: std::path::PathBuf = Path::new("x/y").into();
    assert_eq!(std_path, std::path::PathBuf::from("x/y"));
    assert_eq!(Path::from("x/y"), Path::from(String::from("x/y")));
    assert_eq!(Path::from(std::path::Path::new("x/y")).as_std(), std_path);
    assert_eq!(Path::new("x/y").into_path_buf(), std_path);
}

#[test]
fn with_name_with_stem_and_with_suffix() {
    let p = Path::new("dir/report.tar.gz");
    assert_eq!(
        p.with_name("other.txt").unwrap(),
        Path::new("dir/other.txt")
    );
    assert_eq!(p.with_stem("archive").unwrap(), Path::new("dir/archive.gz"));
    assert_eq!(
        p.with_suffix(".bz2").unwrap(),
        Path::new("dir/report.tar.bz2")
    );
    assert_eq!(p.with_suffix("").unwrap(), Path::new("dir/report.tar"));
    assert_eq!(
        Path::new("README").with_suffix(".md").unwrap(),
        Path::new("README.md")
    );

    // A suffix must start with a dot, and be more than the dot.
    for bad in ["md", "."] {
        let err = Path::new("a/b").with_suffix(bad).unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::InvalidInput));
        assert!(
            err.message().contains(&format!("{bad:?}")),
            "{}",
            err.message()
        );
    }
    assert!(
        Path::new("a/b")
            .with_suffix("md")
            .unwrap_err()
            .message()
            .contains("start with a dot")
    );

    // No name to replace.
    for nameless in ["/", ""] {
        let err = Path::new(nameless).with_name("x").unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::InvalidInput));
        assert!(
            Path::new(nameless).with_suffix(".txt").is_err(),
            "{nameless:?}"
        );
        assert!(Path::new(nameless).with_stem("x").is_err(), "{nameless:?}");
    }
    // Names that are not one component.
    for bad in ["", "a/b", "."] {
        let err = p.with_name(bad).unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::InvalidInput), "{bad:?}");
    }
}

#[test]
fn with_stem_empty_on_a_name_with_a_suffix_errors() {
    let err = Path::new("a/b.txt").with_stem("").unwrap_err();
    assert_eq!(err.kind(), io(std::io::ErrorKind::InvalidInput));
}

#[test]
fn relative_to_and_is_relative_to() {
    let p = Path::new("/etc/app/conf.d/main.conf");
    assert_eq!(
        p.relative_to("/etc").unwrap(),
        Path::new("app/conf.d/main.conf")
    );
    assert_eq!(
        p.relative_to("/etc/app/").unwrap(),
        Path::new("conf.d/main.conf")
    );
    assert_eq!(p.relative_to(&p).unwrap(), Path::new(".")); // pathlib: itself is `.`
    assert!(p.is_relative_to("/"));
    assert!(p.is_relative_to("/etc/app"));
    assert!(p.is_relative_to(&p));
    // Whole components only: /etcx is not inside /etc.
    assert!(!Path::new("/etcx/a").is_relative_to("/etc"));
    assert!(Path::new("/etcx/a").relative_to("/etc").is_err());
    // Relative and absolute never mix.
    assert!(!Path::new("etc/app").is_relative_to("/etc"));

    let err = p.relative_to("/usr/lib").unwrap_err();
    assert_eq!(err.kind(), io(std::io::ErrorKind::InvalidInput));
    let message = err.message();
    assert!(message.contains("`/etc/app/conf.d/main.conf`"), "{message}");
    assert!(message.contains("`/usr/lib`"), "{message}");
}

#[test]
fn is_absolute_and_parts() {
    assert!(Path::new("/tmp").is_absolute());
    assert!(!Path::new("tmp/x").is_absolute());
    assert!(!Path::new("").is_absolute());
    assert_eq!(
        Path::new("/usr/bin/env").parts(),
        ["/", "usr", "bin", "env"]
    );
    assert_eq!(Path::new("a/../b").parts(), ["a", "..", "b"]);
    assert_eq!(Path::new("a//b/").parts(), ["a", "b"]);
    assert_eq!(Path::new("/").parts(), ["/"]);
    assert!(Path::new("").parts().is_empty());
}

#[test]
fn match_relative_patterns_from_the_right_and_absolute_ones_whole() {
    let p = Path::new("/src/fs/path.rs");
    let cases = [
        ("*.rs", true),
        ("path.rs", true),
        ("fs/*.rs", true),
        ("*/*.rs", true),
        ("src/*/*.rs", true),
        ("*/*/*.rs", true),
        ("*/*/*/*.rs", false), // more components than the path
        ("*.txt", false),
        ("src/*.rs", false),
        ("p?th.rs", true),
        ("[op]ath.rs", true),
        ("[!p]ath.rs", false),
        ("/src/fs/path.rs", true),
        ("/src/*/*.rs", true),
        ("/*.rs", false), // absolute: the whole path
        ("/fs/*.rs", false),
        ("", false),
    ];
    for (pattern, expected) in cases {
        assert_eq!(p.match_(pattern), expected, "{p} vs {pattern:?}");
    }
    // An absolute pattern never matches a relative path.
    assert!(Path::new("src/lib.rs").match_("src/*.rs"));
    assert!(!Path::new("src/lib.rs").match_("/src/*.rs"));
    // `*` matches hidden names too, as in pathlib.
    assert!(Path::new("a/.hidden").match_("*"));
}

// ---------------------------------------------------------------------------------------
// Stat, read, write
// ---------------------------------------------------------------------------------------

#[test]
fn exists_is_file_is_dir_and_stat() {
    bounded(async {
        let tmp = anyio::TemporaryDirectory::new().await.unwrap();
        let dir = tmp.path().clone();
        let file = &dir / "f.txt";
        file.write_text("12345").await.unwrap();
        let missing = &dir / "missing";

        assert!(file.exists().await && file.is_file().await && !file.is_dir().await);
        assert!(dir.exists().await && dir.is_dir().await && !dir.is_file().await);
        assert!(!missing.exists().await && !missing.is_file().await && !missing.is_dir().await);
        assert!(!file.is_symlink().await);

        assert_eq!(file.stat().await.unwrap().len(), 5);
        assert!(dir.stat().await.unwrap().is_dir());
        let err = missing.stat().await.unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::NotFound));
        assert!(names(&err, &missing), "{}", err.message());
        let err = missing.lstat().await.unwrap_err();
        assert!(names(&err, &missing), "{}", err.message());
        // Beneath a file: not found either way.
        assert!(!(&file / "child").exists().await);
    });
}

#[test]
fn read_and_write_bytes_and_text() {
    bounded(async {
        let tmp = anyio::TemporaryDirectory::new().await.unwrap();
        let bin = tmp.path() / "data.bin";
        bin.write_bytes(vec![0u8, 1, 2, 255]).await.unwrap();
        assert_eq!(bin.read_bytes().await.unwrap(), [0, 1, 2, 255]);
        // Overwrites, from a slice or an array too.
        bin.write_bytes(&b"xy"[..]).await.unwrap();
        assert_eq!(bin.read_bytes().await.unwrap(), b"xy");
        bin.write_bytes(*b"z").await.unwrap();
        assert_eq!(bin.read_bytes().await.unwrap(), b"z");

        let text = tmp.path() / "text.txt";
        text.write_text("héllo\r\nworld").await.unwrap();
        // Bytes as they are: no newline translation.
        assert_eq!(text.read_text().await.unwrap(), "héllo\r\nworld");
        text.write_text(String::from("short")).await.unwrap();
        assert_eq!(text.read_text().await.unwrap(), "short");

        bin.write_bytes(vec![0xff, 0xfe]).await.unwrap();
        let err = bin.read_text().await.unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::InvalidData));
        assert!(names(&err, &bin), "{}", err.message());

        let missing = tmp.path() / "missing.txt";
        for err in [
            missing.read_bytes().await.unwrap_err(),
            missing.read_text().await.unwrap_err(),
        ] {
            assert_eq!(err.kind(), io(std::io::ErrorKind::NotFound));
            assert!(names(&err, &missing), "{}", err.message());
        }
        let nowhere = tmp.path() / "no" / "dir" / "f.txt";
        let err = nowhere.write_text("x").await.unwrap_err();
        assert!(names(&err, &nowhere), "{}", err.message());
    });
}

#[test]
fn cwd_and_home() {
    bounded(async {
        let cwd = Path::cwd().await.unwrap();
        assert!(cwd.is_absolute());
        assert_eq!(cwd.as_std(), std::env::current_dir().unwrap());
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(
                Path::home().await.unwrap().as_std(),
                std::path::Path::new(&home)
            );
        }
    });
}

// ---------------------------------------------------------------------------------------
// mkdir, unlink, touch, rmdir
// ---------------------------------------------------------------------------------------

#[test]
fn mkdir_parents_and_exist_ok() {
    bounded(async {
        let tmp = anyio::TemporaryDirectory::new().await.unwrap();
        let nested = tmp.path() / "a" / "b" / "c";

        // A missing parent without parents(true).
        let err = nested.mkdir().await.unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::NotFound));
        assert!(names(&err, &nested), "{}", err.message());
        assert!(!(tmp.path() / "a").exists().await);

        nested.mkdir().parents(true).await.unwrap();
        assert!(nested.is_dir().await);

        // An existing directory is an error unless exist_ok, even with parents.
        for parents in [false, true] {
            let err = nested.mkdir().parents(parents).await.unwrap_err();
            assert_eq!(
                err.kind(),
                io(std::io::ErrorKind::AlreadyExists),
                "{parents}"
            );
            assert!(names(&err, &nested), "{}", err.message());
            nested
                .mkdir()
                .parents(parents)
                .exist_ok(true)
                .await
                .unwrap();
        }
        // exist_ok does not excuse a file in the way.
        let file = tmp.path() / "file";
        file.touch().await.unwrap();
        for parents in [false, true] {
            let err = file
                .mkdir()
                .parents(parents)
                .exist_ok(true)
                .await
                .unwrap_err();
            assert_eq!(
                err.kind(),
                io(std::io::ErrorKind::AlreadyExists),
                "{parents}"
            );
        }
        assert!(file.is_file().await);
        // Nor a file as a parent.
        assert!((&file / "sub").mkdir().parents(true).await.is_err());

        // mode.
        let private = tmp.path() / "private";
        private.mkdir().mode(0o700).await.unwrap();
        assert_eq!(
            private.stat().await.unwrap().permissions().mode() & 0o777,
            0o700
        );
    });
}

#[test]
fn unlink_and_missing_ok() {
    bounded(async {
        let tmp = anyio::TemporaryDirectory::new().await.unwrap();
        let file = tmp.path() / "gone.txt";
        file.write_text("x").await.unwrap();
        file.unlink().await.unwrap();
        assert!(!file.exists().await);

        let err = file.unlink().await.unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::NotFound));
        assert!(names(&err, &file), "{}", err.message());
        file.unlink().missing_ok(true).await.unwrap();
        // missing_ok does not hide other errors: a directory is not unlinked.
        let sub = tmp.path() / "sub";
        sub.mkdir().await.unwrap();
        assert!(sub.unlink().missing_ok(true).await.is_err());
        assert!(sub.is_dir().await);
        // A missing parent is "missing" too.
        (tmp.path() / "no" / "such")
            .unlink()
            .missing_ok(true)
            .await
            .unwrap();
    });
}

#[test]
fn touch_creates_updates_and_exist_ok() {
    bounded(async {
        let tmp = anyio::TemporaryDirectory::new().await.unwrap();
        let file = tmp.path() / "marker";
        file.touch().await.unwrap();
        assert!(file.is_file().await);
        assert_eq!(file.stat().await.unwrap().len(), 0);

        // An existing file: contents kept, modification time updated.
        file.write_text("contents").await.unwrap();
        let old = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(old)
            .unwrap();
        file.touch().await.unwrap();
        assert_eq!(file.read_text().await.unwrap(), "contents");
        assert!(file.stat().await.unwrap().modified().unwrap() > old + Duration::from_secs(60));

        let err = file.touch().exist_ok(false).await.unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::AlreadyExists));
        assert!(names(&err, &file), "{}", err.message());
        assert_eq!(file.read_text().await.unwrap(), "contents");
        // exist_ok(false) on a new file creates it.
        let new = tmp.path() / "new";
        new.touch().exist_ok(false).await.unwrap();
        assert!(new.is_file().await);
    });
}

#[test]
fn rmdir_removes_only_empty_directories() {
    bounded(async {
        let tmp = anyio::TemporaryDirectory::new().await.unwrap();
        let sub = tmp.path() / "sub";
        sub.mkdir().await.unwrap();
        (&sub / "f").touch().await.unwrap();
        let err = sub.rmdir().await.unwrap_err();
        assert!(names(&err, &sub), "{}", err.message());
        (&sub / "f").unlink().await.unwrap();
        sub.rmdir().await.unwrap();
        assert!(!sub.exists().await);
        let err = sub.rmdir().await.unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::NotFound));
    });
}

// ---------------------------------------------------------------------------------------
// rename, replace, copy, move
// ---------------------------------------------------------------------------------------

#[test]
fn rename_and_replace() {
    bounded(async {
        let tmp = anyio::TemporaryDirectory::new().await.unwrap();
        let old = tmp.path() / "old.txt";
        old.write_text("payload").await.unwrap();
        let new = old.rename(tmp.path() / "new.txt").await.unwrap();
        assert_eq!(new, tmp.path() / "new.txt");
        assert!(!old.exists().await);
        assert_eq!(new.read_text().await.unwrap(), "payload");

        // rename over an existing file replaces it (POSIX), and so does replace.
        let other = tmp.path() / "other.txt";
        other.write_text("other").await.unwrap();
        let back = other.rename(&new).await.unwrap();
        assert_eq!(back.read_text().await.unwrap(), "other");
        assert!(!other.exists().await);
        let third = tmp.path() / "third.txt";
        third.write_text("third").await.unwrap();
        let replaced = third.replace(&new).await.unwrap();
        assert_eq!(replaced, new);
        assert_eq!(new.read_text().await.unwrap(), "third");

        // Directories rename too.
        let dir = tmp.path() / "d1";
        dir.mkdir().await.unwrap();
        (&dir / "inside").write_text("i").await.unwrap();
        let moved = dir.rename(tmp.path() / "d2").await.unwrap();
        assert_eq!((&moved / "inside").read_text().await.unwrap(), "i");

        let missing = tmp.path() / "missing";
        let err = missing.rename(tmp.path() / "x").await.unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::NotFound));
        assert!(names(&err, &missing), "{}", err.message());
    });
}

#[test]
fn copy_keeps_the_source_and_move_does_not() {
    bounded(async {
        let tmp = anyio::TemporaryDirectory::new().await.unwrap();
        let source = tmp.path() / "source.sh";
        source.write_text("#!/bin/sh\necho hi\n").await.unwrap();
        source.chmod(0o751).await.unwrap();

        let copy = source.copy(tmp.path() / "copy.sh").await.unwrap();
        assert_eq!(copy, tmp.path() / "copy.sh");
        assert_eq!(copy.read_text().await.unwrap(), "#!/bin/sh\necho hi\n");
        assert_eq!(
            copy.stat().await.unwrap().permissions().mode() & 0o777,
            0o751
        );
        assert!(source.exists().await);
        // Copying over an existing file overwrites it.
        let existing = tmp.path() / "existing";
        existing
            .write_text("a much longer original text")
            .await
            .unwrap();
        source.copy(&existing).await.unwrap();
        assert_eq!(existing.read_text().await.unwrap(), "#!/bin/sh\necho hi\n");

        let moved = source.move_(tmp.path() / "moved.sh").await.unwrap();
        assert_eq!(moved, tmp.path() / "moved.sh");
        assert!(!source.exists().await);
        assert_eq!(moved.read_text().await.unwrap(), "#!/bin/sh\necho hi\n");

        // A directory moves with its contents.
        let dir = tmp.path() / "tree";
        (&dir / "sub").mkdir().parents(true).await.unwrap();
        (&dir / "sub" / "leaf").write_text("leaf").await.unwrap();
        let moved_dir = dir.move_(tmp.path() / "tree2").await.unwrap();
        assert!(!dir.exists().await);
        assert_eq!(
            (&moved_dir / "sub" / "leaf").read_text().await.unwrap(),
            "leaf"
        );

        let missing = tmp.path() / "missing";
        let err = missing.copy(tmp.path() / "c").await.unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::NotFound));
        assert!(names(&err, &missing), "{}", err.message());
        let err = missing.move_(tmp.path() / "m").await.unwrap_err();
        assert!(names(&err, &missing), "{}", err.message());
    });
}

// ---------------------------------------------------------------------------------------
// Links, chmod, resolve
// ---------------------------------------------------------------------------------------

#[test]
fn symlink_to_readlink_and_is_symlink() {
    bounded(async {
        let tmp = anyio::TemporaryDirectory::new().await.unwrap();
        let real = tmp.path() / "real.txt";
        real.write_text("real").await.unwrap();

        // A relative target is stored as given.
        let link = tmp.path() / "link";
        link.symlink_to("real.txt").await.unwrap();
        assert!(link.is_symlink().await);
        assert!(link.exists().await && link.is_file().await);
        assert_eq!(link.readlink().await.unwrap(), Path::new("real.txt"));
        assert_eq!(link.read_text().await.unwrap(), "real");
        assert!(link.lstat().await.unwrap().file_type().is_symlink());
        assert!(link.stat().await.unwrap().is_file());

        // A dangling link: it is a link, but nothing exists behind it.
        let dangling = tmp.path() / "dangling";
        dangling.symlink_to(tmp.path() / "nowhere").await.unwrap();
        assert!(dangling.is_symlink().await);
        assert!(!dangling.exists().await && !dangling.is_file().await);
        assert_eq!(dangling.readlink().await.unwrap(), tmp.path() / "nowhere");
        assert!(dangling.lstat().await.is_ok());
        assert!(dangling.stat().await.is_err());

        // A link to a directory.
        let dir_link = tmp.path() / "dir_link";
        dir_link.symlink_to(tmp.path()).await.unwrap();
        assert!(dir_link.is_dir().await && dir_link.is_symlink().await);

        // Errors name the path.
        let err = real.readlink().await.unwrap_err();
        assert!(names(&err, &real), "{}", err.message());
        let err = link.symlink_to("elsewhere").await.unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::AlreadyExists));
        assert!(names(&err, &link), "{}", err.message());
        // unlink removes the link, not the target.
        link.unlink().await.unwrap();
        assert!(!link.is_symlink().await && real.exists().await);
    });
}

#[test]
fn hardlink_to_shares_the_file() {
    bounded(async {
        let tmp = anyio::TemporaryDirectory::new().await.unwrap();
        let original = tmp.path() / "original";
        original.write_text("shared").await.unwrap();
        let hard = tmp.path() / "hard";
        hard.hardlink_to(&original).await.unwrap();
        assert_eq!(hard.read_text().await.unwrap(), "shared");
        assert!(!hard.is_symlink().await);
        let (a, b) = (original.stat().await.unwrap(), hard.stat().await.unwrap());
        assert_eq!(a.ino(), b.ino());
        assert_eq!(a.nlink(), 2);
        // Same file: a write through one is seen through the other.
        let mut file = hard.open("a").await.unwrap();
        file.write_all(b"+more").await.unwrap();
        file.aclose_file().await.unwrap();
        assert_eq!(original.read_text().await.unwrap(), "shared+more");
        // Removing one name keeps the other.
        original.unlink().await.unwrap();
        assert_eq!(hard.stat().await.unwrap().nlink(), 1);

        let err = hard.hardlink_to(tmp.path() / "missing").await.unwrap_err();
        assert!(names(&err, &hard), "{}", err.message());
    });
}

#[test]
fn chmod_sets_the_permission_bits() {
    bounded(async {
        let tmp = anyio::TemporaryDirectory::new().await.unwrap();
        let file = tmp.path() / "f";
        file.touch().await.unwrap();
        for mode in [0o600, 0o644, 0o400, 0o755, 0o000] {
            file.chmod(mode).await.unwrap();
            let got = file.stat().await.unwrap().permissions().mode() & 0o7777;
            assert_eq!(got, mode, "{mode:o}");
        }
        file.chmod(0o644).await.unwrap();
        let missing = tmp.path() / "missing";
        let err = missing.chmod(0o600).await.unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::NotFound));
        assert!(names(&err, &missing), "{}", err.message());
    });
}

#[test]
fn resolve_dotdot_links_and_a_missing_tail() {
    bounded(async {
        let tmp = anyio::TemporaryDirectory::new().await.unwrap();
        let root = Path::from(std::fs::canonicalize(tmp.path()).unwrap());
        (tmp.path() / "dir" / "sub")
            .mkdir()
            .parents(true)
            .await
            .unwrap();
        (tmp.path() / "dir" / "f.txt").touch().await.unwrap();

        let dotted = tmp.path() / "dir" / "sub" / ".." / "f.txt";
        assert_eq!(dotted.resolve().await.unwrap(), &root / "dir" / "f.txt");

        // Links are followed.
        let link = tmp.path() / "link";
        link.symlink_to(tmp.path() / "dir" / "sub").await.unwrap();
        assert_eq!((&link / "..").resolve().await.unwrap(), &root / "dir");
        assert_eq!(link.resolve().await.unwrap(), &root / "dir" / "sub");

        // A missing tail is appended to what exists.
        let missing = tmp.path() / "dir" / "missing" / "deeper.txt";
        assert_eq!(
            missing.resolve().await.unwrap(),
            &root / "dir" / "missing" / "deeper.txt"
        );
        // A relative path resolves against the working directory.
        let here = Path::new(".").resolve().await.unwrap();
        assert_eq!(here.as_std(), std::fs::canonicalize(".").unwrap());
        let absent = Path::new("surely-not-here-xyz").resolve().await.unwrap();
        assert!(absent.is_absolute());
        assert_eq!(absent.name(), "surely-not-here-xyz");
    });
}

#[test]
fn resolve_normalizes_dotdot_in_a_missing_tail() {
    bounded(async {
        let tmp = anyio::TemporaryDirectory::new().await.unwrap();
        let root = Path::from(std::fs::canonicalize(tmp.path()).unwrap());
        let path = tmp.path() / "missing" / ".." / "x";
        assert_eq!(path.resolve().await.unwrap(), &root / "x");
    });
}

// ---------------------------------------------------------------------------------------
// Listings
// ---------------------------------------------------------------------------------------

/// root/
///   a.txt  b.txt  c.rs  .hidden.txt
///   sub/   x.rs  y.txt  deep/ z.rs  deep/w.md
///   other/ q.rs
///   apple/ (empty)
async fn tree() -> anyio::TemporaryDirectory {
    let tmp = anyio::TemporaryDirectory::new().await.unwrap();
    let root = tmp.path();
    for dir in ["sub/deep", "other", "apple"] {
        (root / dir).mkdir().parents(true).await.unwrap();
    }
    for file in [
        "a.txt",
        "b.txt",
        "c.rs",
        ".hidden.txt",
        "sub/x.rs",
        "sub/y.txt",
        "sub/deep/z.rs",
        "sub/deep/w.md",
        "other/q.rs",
    ] {
        (root / file).write_text(file).await.unwrap();
    }
    tmp
}

#[test]
fn iterdir_lists_direct_children() {
    bounded(async {
        let tmp = tree().await;
        let names = relative_sorted(tmp.path().iterdir(), tmp.path()).await;
        assert_eq!(
            names,
            [
                ".hidden.txt",
                "a.txt",
                "apple",
                "b.txt",
                "c.rs",
                "other",
                "sub"
            ]
        );
        // Each entry is the directory joined with the name.
        let first = tmp.path().iterdir().next().await.unwrap().unwrap();
        assert_eq!(first.parent(), *tmp.path());
        // An empty directory.
        assert!(
            relative_sorted((tmp.path() / "apple").iterdir(), tmp.path())
                .await
                .is_empty()
        );
    });
}

#[test]
fn iterdir_of_a_missing_directory_gives_the_error_first() {
    bounded(async {
        let tmp = tree().await;
        let missing = tmp.path() / "missing";
        let items: Vec<anyio::Result<Path>> = missing.iterdir().collect().await;
        assert_eq!(items.len(), 1);
        let err = items.into_iter().next().unwrap().unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::NotFound));
        assert!(names(&err, &missing), "{}", err.message());

        // A file is not a directory.
        let file = tmp.path() / "a.txt";
        let mut stream = file.iterdir();
        let err = stream.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::NotADirectory));
        assert!(stream.next().await.is_none());
    });
}

#[test]
fn glob_patterns_on_a_tree() {
    bounded(async {
        let tmp = tree().await;
        let root = tmp.path();
        let glob = |pattern: &str| relative_sorted(root.glob(pattern), root);
        assert_eq!(glob("*.txt").await, [".hidden.txt", "a.txt", "b.txt"]);
        assert_eq!(glob("sub/*.rs").await, ["sub/x.rs"]);
        assert_eq!(
            glob("**/*.rs").await,
            ["c.rs", "other/q.rs", "sub/deep/z.rs", "sub/x.rs"]
        );
        assert_eq!(glob("[ab]*").await, ["a.txt", "apple", "b.txt"]);
        assert_eq!(glob("[!.ab]*").await, ["c.rs", "other", "sub"]);
        assert_eq!(glob("?.rs").await, ["c.rs"]);
        // Literal components, wherever they are.
        assert_eq!(glob("sub/deep/z.rs").await, ["sub/deep/z.rs"]);
        assert_eq!(glob("sub/*/w.md").await, ["sub/deep/w.md"]);
        assert_eq!(glob("*/deep").await, ["sub/deep"]);
        assert_eq!(glob("**/deep/*").await, ["sub/deep/w.md", "sub/deep/z.rs"]);
        assert_eq!(glob("./sub//x.rs").await, ["sub/x.rs"]);
        // Nothing to match.
        assert!(glob("*.zip").await.is_empty());
        assert!(glob("nope/*.rs").await.is_empty());
        assert!(glob("a.txt/*").await.is_empty());
        // `**` alone: the directory and every directory below it.
        assert_eq!(glob("**").await, [".", "apple", "other", "sub", "sub/deep"]);
        // Matched paths start with the directory globbed.
        let one = root.glob("c.rs").next().await.unwrap().unwrap();
        assert_eq!(one, root / "c.rs");
    });
}

#[test]
fn rglob_matches_at_any_depth() {
    bounded(async {
        let tmp = tree().await;
        let root = tmp.path();
        assert_eq!(
            relative_sorted(root.rglob("*.rs"), root).await,
            relative_sorted(root.glob("**/*.rs"), root).await
        );
        assert_eq!(
            relative_sorted(root.rglob("*.txt"), root).await,
            [".hidden.txt", "a.txt", "b.txt", "sub/y.txt"]
        );
        assert_eq!(
            relative_sorted(root.rglob("z.rs"), root).await,
            ["sub/deep/z.rs"]
        );
        assert_eq!(
            relative_sorted((root / "sub").rglob("*"), root).await,
            [
                "sub/deep",
                "sub/deep/w.md",
                "sub/deep/z.rs",
                "sub/x.rs",
                "sub/y.txt"
            ]
        );
        // A missing directory has no matches (and no error), as in pathlib.
        assert!(
            relative_sorted((root / "missing").rglob("*"), root)
                .await
                .is_empty()
        );
    });
}

#[test]
fn glob_does_not_recurse_through_symlinked_directories() {
    bounded(async {
        let tmp = tree().await;
        let root = tmp.path();
        (root / "loop").symlink_to(root).await.unwrap();
        // `**` does not follow the link (it would loop forever), but a `*` component
        // does list it.
        let all_rs = relative_sorted(root.rglob("*.rs"), root).await;
        assert_eq!(all_rs, ["c.rs", "other/q.rs", "sub/deep/z.rs", "sub/x.rs"]);
        assert_eq!(relative_sorted(root.glob("lo*"), root).await, ["loop"]);
    });
}

#[test]
fn walk_is_top_down_with_sorted_names() {
    bounded(async {
        let tmp = tree().await;
        let root = tmp.path();
        let walked: Vec<(String, Vec<String>, Vec<String>)> = root
            .walk()
            .map(|item| {
                let (dir, dirs, files) = item.unwrap();
                (dir.relative_to(root).unwrap().to_string(), dirs, files)
            })
            .collect()
            .await;
        let s = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            walked,
            [
                (
                    ".".to_string(),
                    s(&["apple", "other", "sub"]),
                    s(&[".hidden.txt", "a.txt", "b.txt", "c.rs"])
                ),
                ("apple".into(), s(&[]), s(&[])),
                ("other".into(), s(&[]), s(&["q.rs"])),
                ("sub".into(), s(&["deep"]), s(&["x.rs", "y.txt"])),
                ("sub/deep".into(), s(&[]), s(&["w.md", "z.rs"])),
            ]
        );
    });
}

#[test]
fn walk_lists_symlinks_as_files_and_reports_errors_as_items() {
    bounded(async {
        let tmp = tree().await;
        let root = tmp.path();
        (root / "other" / "up").symlink_to(root).await.unwrap();
        let walked: Vec<_> = (root / "other").walk().map(Result::unwrap).collect().await;
        assert_eq!(walked.len(), 1);
        assert_eq!(walked[0].1, Vec::<String>::new());
        assert_eq!(walked[0].2, ["q.rs", "up"]);

        // A missing root: the error, then the end.
        let missing = root / "missing";
        let mut walk = missing.walk();
        let err = walk.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io(std::io::ErrorKind::NotFound));
        assert!(names(&err, &missing), "{}", err.message());
        assert!(walk.next().await.is_none());
    });
}

#[test]
fn touch_updates_a_directory_and_a_read_only_file() {
    anyio::run(anyio::fail_after(30, async {
        let dir = anyio::TemporaryDirectory::new().await.unwrap();
        let sub = dir.path() / "sub";
        sub.mkdir().await.unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let times = std::fs::FileTimes::new()
            .set_modified(old)
            .set_accessed(old);
        std::fs::File::open(sub.as_std())
            .unwrap()
            .set_times(times)
            .unwrap();
        sub.touch().await.unwrap(); // a directory cannot be opened for writing
        assert!(sub.stat().await.unwrap().modified().unwrap() > old);

        let file = dir.path() / "read-only";
        file.write_text("x").await.unwrap();
        file.chmod(0o444).await.unwrap();
        file.touch().await.unwrap();
        assert_eq!(
            file.read_text().await.unwrap(),
            "x",
            "touch leaves the contents"
        );
    }))
    .unwrap();
}
