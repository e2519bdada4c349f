//! `anyio::open_file`, `anyio::wrap_file` and `AsyncFile` (AnyIO's FIO-01..04): every
//! Python open mode and what it allows, bad modes and missing files named in the error,
//! reading line by line (as a stream too, over a file larger than the read-ahead chunk),
//! `read_line` followed by `tell` / `seek` / `write` / `truncate`, the futures-io traits,
//! cancel safety of reads (on a FIFO, so that a read is really pending), and a churn test
//! that leaves no descriptor open. Every test runs under a deadline, in a fresh
//! temporary directory.

use std::io::{SeekFrom, Write};
use std::path::{Path as StdPath, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyio::ErrorKind;
use anyio::abc::AsyncResource;
use futures_lite::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, StreamExt};

/// The descriptor-counting test takes turns with every other test here.
static SERIAL: Mutex<()> = Mutex::new(());

fn bounded<F: std::future::Future>(body: F) -> F::Output {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    anyio::run(anyio::fail_after(30, body)).expect("the test ran out of time")
}

/// A fresh directory holding `name` with `contents`; returns both.
fn dir_with(name: &str, contents: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    (dir, path)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// Whether `err` is an I/O error whose message names `path`.
fn names_path(err: &anyio::Error, path: &StdPath) -> bool {
    err.message().contains(&path.display().to_string())
}

// ---------------------------------------------------------------------------------------
// Modes
// ---------------------------------------------------------------------------------------

#[test]
fn mode_r_reads_and_refuses_writes() {
    bounded(async {
        let (_dir, path) = dir_with("r.txt", b"read me\n");
        for mode in ["r", "rt", "rb"] {
            let mut file = anyio::open_file(&path, mode).await.unwrap();
            assert_eq!(file.read_to_end().await.unwrap(), b"read me\n", "{mode}");
            // Writes are buffered on the blocking pool: the error comes with the write or,
            // at the latest, with the flush.
            let wrote = file.write_all(b"nope").await;
            let flushed = file.flush().await;
            assert!(
                wrote.is_err() || flushed.is_err(),
                "{mode}: a write to a read-only file succeeded"
            );
            let err = wrote.err().or(flushed.err()).unwrap();
            assert!(matches!(err.kind(), ErrorKind::Io(_)), "{err:?}");
            assert!(names_path(&err, &path), "{}", err.message());
        }
        assert_eq!(std::fs::read(&path).unwrap(), b"read me\n");
    });
}

#[test]
fn mode_rt_and_rb_read_the_same_bytes() {
    bounded(async {
        let (_dir, path) = dir_with("both.txt", "héllo\r\nwörld\n".as_bytes());
        let text = anyio::open_file(&path, "rt")
            .await
            .unwrap()
            .read_to_string()
            .await
            .unwrap();
        let bytes = anyio::open_file(&path, "rb")
            .await
            .unwrap()
            .read_to_end()
            .await
            .unwrap();
        assert_eq!(text.as_bytes(), bytes);
        assert_eq!(text, "héllo\r\nwörld\n");
    });
}

#[test]
fn mode_w_creates_or_truncates_and_refuses_reads() {
    bounded(async {
        let (dir, path) = dir_with("w.txt", b"old contents that are long");
        for mode in ["w", "wb", "wt"] {
            std::fs::write(&path, b"old contents that are long").unwrap();
            let mut file = anyio::open_file(&path, mode).await.unwrap();
            // Truncated on open, before anything is written.
            assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "{mode}");
            file.write_all(b"new").await.unwrap();
            let err = file.read(10).await.unwrap_err();
            assert!(matches!(err.kind(), ErrorKind::Io(_)), "{mode}: {err:?}");
            assert!(names_path(&err, &path), "{}", err.message());
            file.aclose_file().await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"new", "{mode}");
        }
        // "w" creates a missing file.
        let fresh = dir.path().join("fresh.txt");
        let mut file = anyio::open_file(&fresh, "w").await.unwrap();
        file.write_all(b"created").await.unwrap();
        file.aclose_file().await.unwrap();
        assert_eq!(std::fs::read(&fresh).unwrap(), b"created");
    });
}

#[test]
fn mode_x_creates_a_new_file_and_fails_on_an_existing_one() {
    bounded(async {
        let (dir, existing) = dir_with("taken.txt", b"keep me");
        for mode in ["x", "xb", "x+"] {
            let err = anyio::open_file(&existing, mode).await.unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Io(std::io::ErrorKind::AlreadyExists),
                "{mode}"
            );
            assert!(names_path(&err, &existing), "{}", err.message());
        }
        assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");

        let fresh = dir.path().join("fresh.txt");
        let mut file = anyio::open_file(&fresh, "x").await.unwrap();
        file.write_all(b"exclusive").await.unwrap();
        file.aclose_file().await.unwrap();
        assert_eq!(std::fs::read(&fresh).unwrap(), b"exclusive");

        // "x+" can read back what it wrote.
        let plus = dir.path().join("plus.txt");
        let mut file = anyio::open_file(&plus, "x+").await.unwrap();
        file.write_all(b"both ways").await.unwrap();
        file.seek(SeekFrom::Start(5)).await.unwrap();
        assert_eq!(file.read_to_end().await.unwrap(), b"ways");
    });
}

#[test]
fn mode_a_appends_even_after_a_seek_and_refuses_reads() {
    bounded(async {
        let (dir, path) = dir_with("a.txt", b"abc");
        let mut file = anyio::open_file(&path, "a").await.unwrap();
        file.write_all(b"def").await.unwrap();
        file.flush().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abcdef");
        // As with O_APPEND in Python: a seek does not move where writes go.
        file.seek(SeekFrom::Start(0)).await.unwrap();
        file.write_all(b"ghi").await.unwrap();
        file.flush().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abcdefghi");
        let err = file.read(10).await.unwrap_err();
        assert!(names_path(&err, &path), "{}", err.message());
        file.aclose_file().await.unwrap();

        // "a" creates a missing file.
        let fresh = dir.path().join("fresh.log");
        let mut file = anyio::open_file(&fresh, "ab").await.unwrap();
        file.write_all(b"line\n").await.unwrap();
        file.aclose_file().await.unwrap();
        assert_eq!(std::fs::read(&fresh).unwrap(), b"line\n");
    });
}

#[test]
fn mode_a_starts_at_the_end_of_the_file() {
    bounded(async {
        let (_dir, path) = dir_with("a.txt", b"abc");
        // Python's FileIO seeks to the end on open in append mode: tell() is the size and
        // a read in "a+" finds nothing until a seek.
        let mut file = anyio::open_file(&path, "a").await.unwrap();
        assert_eq!(file.tell().await.unwrap(), 3);
        let mut file = anyio::open_file(&path, "a+").await.unwrap();
        assert_eq!(file.read_to_end().await.unwrap(), b"");
    });
}

#[test]
fn mode_r_plus_reads_and_overwrites_in_place() {
    bounded(async {
        let (dir, path) = dir_with("rp.txt", b"abcdef");
        let mut file = anyio::open_file(&path, "r+").await.unwrap();
        // Not truncated on open.
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 6);
        assert_eq!(file.read(2).await.unwrap(), b"ab");
        // The write lands at the reader's position, not where the blocking thread's
        // read-ahead left the descriptor.
        file.write_all(b"XY").await.unwrap();
        assert_eq!(file.tell().await.unwrap(), 4);
        assert_eq!(file.read_to_end().await.unwrap(), b"ef");
        file.aclose_file().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abXYef");

        // "r+" does not create.
        let missing = dir.path().join("missing.txt");
        let err = anyio::open_file(&missing, "r+b").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io(std::io::ErrorKind::NotFound));
        assert!(!missing.exists());
    });
}

#[test]
fn mode_w_plus_truncates_then_reads_back() {
    bounded(async {
        let (_dir, path) = dir_with("wp.txt", b"previous contents");
        let mut file = anyio::open_file(&path, "w+").await.unwrap();
        assert_eq!(file.read_to_end().await.unwrap(), b"");
        file.write_all(b"fresh start").await.unwrap();
        assert_eq!(file.seek(SeekFrom::Start(0)).await.unwrap(), 0);
        assert_eq!(file.read_to_string().await.unwrap(), "fresh start");
        assert_eq!(file.seek(SeekFrom::End(-5)).await.unwrap(), 6);
        assert_eq!(file.read(100).await.unwrap(), b"start");
        file.aclose_file().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"fresh start");
    });
}

#[test]
fn mode_a_plus_appends_and_reads_after_a_seek() {
    bounded(async {
        let (dir, path) = dir_with("ap.txt", b"one\n");
        let mut file = anyio::open_file(&path, "a+").await.unwrap();
        file.write_all(b"two\n").await.unwrap();
        file.seek(SeekFrom::Start(0)).await.unwrap();
        assert_eq!(file.read_line().await.unwrap(), "one\n");
        // A write after reading still goes to the end.
        file.write_all(b"three\n").await.unwrap();
        file.seek(SeekFrom::Start(0)).await.unwrap();
        assert_eq!(file.read_to_string().await.unwrap(), "one\ntwo\nthree\n");
        file.aclose_file().await.unwrap();

        let fresh = dir.path().join("fresh.txt");
        let mut file = anyio::open_file(&fresh, "a+b").await.unwrap();
        file.write_all(b"x").await.unwrap();
        file.aclose_file().await.unwrap();
        assert_eq!(std::fs::read(&fresh).unwrap(), b"x");
    });
}

#[test]
fn modes_accept_letters_in_any_order() {
    bounded(async {
        let (_dir, path) = dir_with("order.txt", b"data");
        for mode in ["br", "tr", "+rb", "b+r"] {
            let mut file = anyio::open_file(&path, mode).await.unwrap();
            assert_eq!(file.read_to_end().await.unwrap(), b"data", "{mode}");
        }
    });
}

#[test]
fn bad_modes_are_rejected_naming_the_mode_and_the_allowed_letters() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("exists.txt");
        std::fs::write(&existing, b"x").unwrap();
        let missing = dir.path().join("missing.txt");
        for mode in [
            "", "rw", "wa", "r++", "rbt", "z", "rU", "R", "b", "+", "w+x",
        ] {
            for path in [&existing, &missing] {
                let err = anyio::open_file(path, mode).await.unwrap_err();
                // The mode is checked before the file system is touched: a missing file
                // with a bad mode is a bad mode.
                assert_eq!(
                    err.kind(),
                    ErrorKind::Io(std::io::ErrorKind::InvalidInput),
                    "{mode:?}: {err:?}"
                );
                let message = err.message();
                assert!(message.contains(&format!("{mode:?}")), "{message}");
                assert!(message.contains("r, w, x, a"), "{message}");
                assert!(message.contains('+'), "{message}");
                assert!(message.contains("b, t"), "{message}");
            }
        }
        assert!(!missing.exists());
        assert_eq!(std::fs::read(&existing).unwrap(), b"x");
    });
}

#[test]
fn a_missing_file_error_names_the_path() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no such file.txt");
        for mode in ["r", "rb", "r+"] {
            let err = anyio::open_file(&missing, mode).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Io(std::io::ErrorKind::NotFound));
            assert!(names_path(&err, &missing), "{}", err.message());
        }
        // A missing parent directory, for a mode that creates.
        let deep = dir.path().join("no/such/dir/file.txt");
        let err = anyio::open_file(&deep, "w").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io(std::io::ErrorKind::NotFound));
        assert!(names_path(&err, &deep), "{}", err.message());
        // A directory opened for writing.
        let err = anyio::open_file(dir.path(), "w").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io(std::io::ErrorKind::IsADirectory));
        assert!(names_path(&err, dir.path()), "{}", err.message());
    });
}

// ---------------------------------------------------------------------------------------
// Lines
// ---------------------------------------------------------------------------------------

async fn all_lines(file: &mut anyio::AsyncFile) -> Vec<String> {
    file.lines().map(Result::unwrap).collect().await
}

#[test]
fn lines_stream_keeps_newlines_and_the_last_line_without_one() {
    bounded(async {
        let (dir, path) = dir_with("lines.txt", b"first\nsecond\n\nlast");
        let mut file = anyio::open_file(&path, "r").await.unwrap();
        assert_eq!(
            all_lines(&mut file).await,
            ["first\n", "second\n", "\n", "last"]
        );
        // The stream has ended; so has the file.
        assert_eq!(file.read_line().await.unwrap(), "");
        assert!(file.lines().next().await.is_none());

        // A file ending with a newline has no empty last line.
        let ended = dir.path().join("ended.txt");
        std::fs::write(&ended, b"a\nb\n").unwrap();
        let mut file = anyio::open_file(&ended, "r").await.unwrap();
        assert_eq!(all_lines(&mut file).await, ["a\n", "b\n"]);

        // An empty file has no lines.
        let empty = dir.path().join("empty.txt");
        std::fs::write(&empty, b"").unwrap();
        let mut file = anyio::open_file(&empty, "r").await.unwrap();
        assert!(all_lines(&mut file).await.is_empty());
        assert_eq!(file.read_line().await.unwrap(), "");

        // Only newlines.
        std::fs::write(&empty, b"\n\n").unwrap();
        let mut file = anyio::open_file(&empty, "r").await.unwrap();
        assert_eq!(all_lines(&mut file).await, ["\n", "\n"]);
    });
}

#[test]
fn lines_of_a_large_file_with_long_lines() {
    bounded(async {
        // Lengths around the 8 KiB read-ahead chunk, and far beyond it.
        let lengths = [0, 1, 8190, 8191, 8192, 8193, 20_000, 3, 65_536, 100, 16_383];
        let mut expected = Vec::new();
        for (i, len) in lengths.iter().enumerate() {
            let letter = char::from(b'a' + (i % 26) as u8);
            let mut line: String = std::iter::repeat_n(letter, *len).collect();
            line.push('\n');
            expected.push(line);
        }
        expected.push("the end, without a newline".to_owned());
        let contents = expected.concat();
        assert!(contents.len() > 8 * 1024 * 10);
        let (_dir, path) = dir_with("big.txt", contents.as_bytes());

        let mut file = anyio::open_file(&path, "r").await.unwrap();
        let lines = all_lines(&mut file).await;
        assert_eq!(lines.len(), expected.len());
        for (i, (got, want)) in lines.iter().zip(&expected).enumerate() {
            assert!(
                got == want,
                "line {i}: {} bytes, want {}",
                got.len(),
                want.len()
            );
        }

        // read_line by read_line, with the position checked after each.
        let mut file = anyio::open_file(&path, "rb").await.unwrap();
        let mut position = 0;
        for want in &expected {
            let line = file.read_line().await.unwrap();
            assert_eq!(line.len(), want.len());
            position += want.len() as u64;
            assert_eq!(file.tell().await.unwrap(), position);
        }
        assert_eq!(file.read_line().await.unwrap(), "");
    });
}

#[test]
fn read_line_keeps_crlf_and_multibyte_text() {
    bounded(async {
        // Files are bytes in every mode: no newline translation (unlike Python's default
        // text mode, FIO-12), and a multi-byte character is never split.
        let (_dir, path) = dir_with("crlf.txt", "dos\r\nünï\r\n€\n".as_bytes());
        let mut file = anyio::open_file(&path, "rt").await.unwrap();
        assert_eq!(all_lines(&mut file).await, ["dos\r\n", "ünï\r\n", "€\n"]);
    });
}

#[test]
fn read_line_and_read_to_string_reject_invalid_utf8_naming_the_path() {
    bounded(async {
        let (_dir, path) = dir_with("bad.txt", b"good\n\xff\xfe bad\nafter\n");
        let mut file = anyio::open_file(&path, "r").await.unwrap();
        assert_eq!(file.read_line().await.unwrap(), "good\n");
        let err = file.read_line().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io(std::io::ErrorKind::InvalidData));
        assert!(names_path(&err, &path), "{}", err.message());

        // As a stream: the good line, then the error, then the end.
        let mut file = anyio::open_file(&path, "r").await.unwrap();
        let items: Vec<anyio::Result<String>> = file.lines().collect().await;
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().unwrap(), "good\n");
        assert!(items[1].is_err());

        let mut file = anyio::open_file(&path, "r").await.unwrap();
        let err = file.read_to_string().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io(std::io::ErrorKind::InvalidData));
        assert!(names_path(&err, &path), "{}", err.message());
    });
}

#[test]
fn read_line_then_tell_seek_and_read() {
    bounded(async {
        let (_dir, path) = dir_with("pos.txt", b"one\ntwo\nthree\n");
        let mut file = anyio::open_file(&path, "r").await.unwrap();
        assert_eq!(file.read_line().await.unwrap(), "one\n");
        // The file itself was read ahead; the position is the caller's.
        assert_eq!(file.tell().await.unwrap(), 4);
        assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 4);
        assert_eq!(file.read_line().await.unwrap(), "two\n");
        assert_eq!(file.tell().await.unwrap(), 8);
        // A relative seek counts from the caller's position.
        assert_eq!(file.seek(SeekFrom::Current(-3)).await.unwrap(), 5);
        assert_eq!(file.read_line().await.unwrap(), "wo\n");
        // read and read_to_end continue right after the line.
        assert_eq!(file.read(2).await.unwrap(), b"th");
        assert_eq!(file.tell().await.unwrap(), 10);
        assert_eq!(file.read_to_end().await.unwrap(), b"ree\n");
        assert_eq!(file.read(10).await.unwrap(), b"");
        assert_eq!(file.tell().await.unwrap(), 14);
        // Back to the start.
        file.seek(SeekFrom::Start(0)).await.unwrap();
        assert_eq!(file.read_line().await.unwrap(), "one\n");
        assert_eq!(file.read_to_string().await.unwrap(), "two\nthree\n");
    });
}

#[test]
fn a_write_after_read_line_lands_right_after_the_line() {
    bounded(async {
        let (_dir, path) = dir_with("rw.txt", b"one\ntwo\nthree\n");
        let mut file = anyio::open_file(&path, "r+").await.unwrap();
        assert_eq!(file.read_line().await.unwrap(), "one\n");
        file.write_all(b"TWO\n").await.unwrap();
        assert_eq!(file.tell().await.unwrap(), 8);
        assert_eq!(file.read_line().await.unwrap(), "three\n");
        assert_eq!(file.read_line().await.unwrap(), "");
        file.aclose_file().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one\nTWO\nthree\n");

        // `write` (possibly partial) behaves the same.
        let mut file = anyio::open_file(&path, "r+").await.unwrap();
        file.read_line().await.unwrap();
        let mut rest: &[u8] = b"2wo\n";
        while !rest.is_empty() {
            let n = file.write(rest).await.unwrap();
            rest = &rest[n..];
        }
        file.aclose_file().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one\n2wo\nthree\n");
    });
}

#[test]
fn truncate_shrinks_and_extends_without_moving_the_position() {
    bounded(async {
        let (_dir, path) = dir_with("t.txt", b"abcdefgh");
        let mut file = anyio::open_file(&path, "r+").await.unwrap();
        file.seek(SeekFrom::Start(6)).await.unwrap();
        file.truncate(3).await.unwrap();
        assert_eq!(file.tell().await.unwrap(), 6);
        assert_eq!(std::fs::read(&path).unwrap(), b"abc");
        // Extending fills with zeros.
        file.truncate(5).await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abc\0\0");
        // Python's truncate() with no size: at the position, after a line.
        file.seek(SeekFrom::Start(0)).await.unwrap();
        std::fs::write(&path, b"keep\ndrop\n").unwrap();
        assert_eq!(file.read_line().await.unwrap(), "keep\n");
        let here = file.tell().await.unwrap();
        file.truncate(here).await.unwrap();
        assert_eq!(file.read_line().await.unwrap(), "");
        file.aclose_file().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"keep\n");

        // Written data is flushed before the cut.
        let mut file = anyio::open_file(&path, "w+").await.unwrap();
        file.write_all(b"0123456789").await.unwrap();
        file.truncate(4).await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"0123");

        // A read-only file cannot be truncated; the error names it.
        let mut file = anyio::open_file(&path, "r").await.unwrap();
        let err = file.truncate(1).await.unwrap_err();
        assert!(names_path(&err, &path), "{}", err.message());
        assert_eq!(std::fs::read(&path).unwrap(), b"0123");
    });
}

#[test]
fn truncate_after_a_read_keeps_the_unread_data() {
    bounded(async {
        let (_dir, path) = dir_with("t.txt", b"abcdef");
        let mut file = anyio::open_file(&path, "r+").await.unwrap();
        assert_eq!(file.read(2).await.unwrap(), b"ab");
        file.truncate(4).await.unwrap();
        assert_eq!(file.read_to_end().await.unwrap(), b"cd");
    });
}

#[test]
fn sync_all_after_a_read_keeps_the_unread_data() {
    bounded(async {
        let (_dir, path) = dir_with("s.txt", b"abcdef");
        let mut file = anyio::open_file(&path, "r+").await.unwrap();
        assert_eq!(file.read(2).await.unwrap(), b"ab");
        file.sync_all().await.unwrap();
        assert_eq!(file.read_to_end().await.unwrap(), b"cdef");
    });
}

#[test]
fn sync_all_writes_everything_out() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("durable.bin");
        let mut file = anyio::open_file(&path, "wb").await.unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
        file.write_all(&data).await.unwrap();
        file.sync_all().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), data);
    });
}

// ---------------------------------------------------------------------------------------
// futures-io, wrap_file, path, aclose
// ---------------------------------------------------------------------------------------

#[test]
fn futures_io_copy_between_two_files() {
    bounded(async {
        let data: Vec<u8> = (0..1_000_003u32).map(|i| (i * 7 % 256) as u8).collect();
        let (dir, source) = dir_with("source.bin", &data);
        let target = dir.path().join("target.bin");
        let mut from = anyio::open_file(&source, "rb").await.unwrap();
        let mut to = anyio::open_file(&target, "wb").await.unwrap();
        let copied = futures_lite::io::copy(&mut from, &mut to).await.unwrap();
        assert_eq!(copied, data.len() as u64);
        AsyncWriteExt::close(&mut to).await.unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), data);
    });
}

#[test]
fn futures_io_traits_agree_with_read_line() {
    bounded(async {
        let (_dir, path) = dir_with("mixed.txt", b"head\nbody\ntail\n");
        let mut file = anyio::open_file(&path, "r+").await.unwrap();
        assert_eq!(file.read_line().await.unwrap(), "head\n");
        // AsyncRead gives the read-ahead bytes first.
        let mut four = [0u8; 4];
        AsyncReadExt::read_exact(&mut file, &mut four)
            .await
            .unwrap();
        assert_eq!(&four, b"body");
        assert_eq!(file.read_line().await.unwrap(), "\n");
        // AsyncSeek counts from the caller's position.
        assert_eq!(
            AsyncSeekExt::seek(&mut file, SeekFrom::Current(0))
                .await
                .unwrap(),
            10
        );
        file.seek(SeekFrom::Start(0)).await.unwrap();
        assert_eq!(file.read_line().await.unwrap(), "head\n");
        assert_eq!(
            AsyncSeekExt::seek(&mut file, SeekFrom::Current(1))
                .await
                .unwrap(),
            6
        );
        assert_eq!(file.read_line().await.unwrap(), "ody\n");
        // AsyncWrite after read_line lands after the line.
        AsyncWriteExt::write_all(&mut file, b"TAIL").await.unwrap();
        AsyncWriteExt::flush(&mut file).await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"head\nbody\nTAIL\n");
        // read_to_end through the trait, after a line.
        file.seek(SeekFrom::Start(0)).await.unwrap();
        file.read_line().await.unwrap();
        let mut rest = Vec::new();
        AsyncReadExt::read_to_end(&mut file, &mut rest)
            .await
            .unwrap();
        assert_eq!(rest, b"body\nTAIL\n");
    });
}

#[test]
fn wrap_file_gives_async_access_to_a_std_file() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wrapped.txt");
        let std_file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        let mut file = anyio::wrap_file(std_file);
        assert_eq!(file.path(), None);
        file.write_all(b"line one\nline two\n").await.unwrap();
        file.seek(SeekFrom::Start(0)).await.unwrap();
        assert_eq!(file.read_line().await.unwrap(), "line one\n");
        assert_eq!(file.tell().await.unwrap(), 9);
        file.aclose_file().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"line one\nline two\n");

        // Wrapping keeps the std file's position.
        let mut std_file = std::fs::File::open(&path).unwrap();
        std::io::Seek::seek(&mut std_file, SeekFrom::Start(5)).unwrap();
        let mut file = anyio::wrap_file(std_file);
        assert_eq!(file.read_line().await.unwrap(), "one\n");

        // A read-only std file stays read-only.
        let mut file = anyio::wrap_file(std::fs::File::open(&path).unwrap());
        let wrote = file.write_all(b"x").await;
        let flushed = file.flush().await;
        assert!(wrote.is_err() || flushed.is_err());
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), b"line one\nline two\n");
    });
}

#[test]
fn path_open_aclose_and_the_path_of_a_file() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.txt");
        let mut file = anyio::open_file(&path, "w").await.unwrap();
        assert_eq!(file.path(), Some(path.as_path()));
        file.write_all(b"via aclose").await.unwrap();
        AsyncResource::aclose(&mut file).await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"via aclose");

        let mut file = anyio::Path::new(&path).open("r").await.unwrap();
        assert_eq!(file.path(), Some(path.as_path()));
        assert_eq!(file.read_to_string().await.unwrap(), "via aclose");
        assert_eq!(file.read(100).await.unwrap(), b"");
        assert_eq!(file.read_to_end().await.unwrap(), b"");
        assert_eq!(file.read_line().await.unwrap(), "");

        // read(max) gives at most max bytes.
        file.seek(SeekFrom::Start(0)).await.unwrap();
        assert_eq!(file.read(3).await.unwrap(), b"via");
        assert_eq!(file.tell().await.unwrap(), 3);
    });
}

#[test]
fn a_read_of_zero_bytes_loses_nothing() {
    bounded(async {
        let (_dir, path) = dir_with("zero.txt", b"via aclose");
        let mut file = anyio::open_file(&path, "r").await.unwrap();
        assert_eq!(file.read(0).await.unwrap(), b"");
        assert_eq!(file.read(3).await.unwrap(), b"via");

        let mut file = anyio::open_file(&path, "r").await.unwrap();
        let mut empty = [0u8; 0];
        assert_eq!(AsyncReadExt::read(&mut file, &mut empty).await.unwrap(), 0);
        assert_eq!(file.read_to_end().await.unwrap(), b"via aclose");

        // Larger than the blocking thread's 8 MiB pipe.
        let big = vec![b'x'; 9 << 20];
        std::fs::write(&path, &big).unwrap();
        let mut file = anyio::open_file(&path, "r").await.unwrap();
        let zero = anyio::move_on_after(Duration::from_secs(5), file.read(0)).await;
        assert_eq!(zero.expect("read(0) hung").unwrap(), b"");
        assert_eq!(file.read_to_end().await.unwrap().len(), big.len());
    });
}

// ---------------------------------------------------------------------------------------
// Cancellation
// ---------------------------------------------------------------------------------------

/// A FIFO with a writer thread that has it open and writes what comes through the
/// channel (then closes it when the channel is dropped).
fn fifo_with_writer(dir: &StdPath) -> (PathBuf, std::sync::mpsc::Sender<Vec<u8>>) {
    let fifo = dir.join("fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let path = fifo.clone();
    std::thread::spawn(move || {
        // Blocks until the test opens the reading end.
        let mut writer = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        for data in rx {
            writer.write_all(&data).unwrap();
        }
    });
    (fifo, tx)
}

#[test]
fn a_cancelled_read_loses_no_data() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let (fifo, writer) = fifo_with_writer(dir.path());
        let mut file = anyio::open_file(&fifo, "rb").await.unwrap();
        // Nothing has been written: the read is pending until the deadline drops it.
        let cancelled = anyio::move_on_after(Duration::from_millis(100), file.read(100)).await;
        assert!(cancelled.is_none());
        writer.send(b"hello\n".to_vec()).unwrap();
        drop(writer);
        assert_eq!(file.read_to_end().await.unwrap(), b"hello\n");
    });
}

#[test]
fn a_cancelled_read_line_loses_no_data() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let (fifo, writer) = fifo_with_writer(dir.path());
        let mut file = anyio::open_file(&fifo, "rb").await.unwrap();
        let cancelled = anyio::move_on_after(Duration::from_millis(100), file.read_line()).await;
        assert!(cancelled.is_none());
        writer.send(b"hello\n".to_vec()).unwrap();
        drop(writer);
        let line = file.read_line().await.unwrap();
        assert!(
            line == "hello\n",
            "got {} bytes, {} of them NUL",
            line.len(),
            line.bytes().filter(|&b| b == 0).count()
        );
        assert_eq!(file.read_line().await.unwrap(), "");
    });
}

// ---------------------------------------------------------------------------------------
// Descriptors
// ---------------------------------------------------------------------------------------

#[test]
fn open_write_close_churn_leaves_no_descriptor() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("churn.txt");
        // Warm up the blocking pool and the runtime.
        anyio::open_file(&path, "w")
            .await
            .unwrap()
            .aclose_file()
            .await
            .unwrap();
        let before = open_fds();
        for i in 0..200 {
            let mut file = anyio::open_file(&path, "w").await.unwrap();
            file.write_all(format!("cycle {i}\n").as_bytes())
                .await
                .unwrap();
            file.aclose_file().await.unwrap();
            drop(file);
            // A read as well, through read_line's read-ahead.
            let mut file = anyio::open_file(&path, "r").await.unwrap();
            assert_eq!(file.read_line().await.unwrap(), format!("cycle {i}\n"));
        }
        // Descriptors still held by a blocking task close when it ends: a bounded wait.
        let mut after = open_fds();
        for _ in 0..500 {
            if after <= before {
                break;
            }
            anyio::sleep(Duration::from_millis(10)).await;
            after = open_fds();
        }
        assert!(
            after <= before,
            "{before} descriptors before, {after} after"
        );
    });
}

#[test]
fn aclose_file_closes_the_file() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("closed.txt");
        anyio::open_file(&path, "w")
            .await
            .unwrap()
            .aclose_file()
            .await
            .unwrap();
        let before = open_fds();
        let mut file = anyio::open_file(&path, "w").await.unwrap();
        assert_eq!(open_fds(), before + 1);
        file.write_all(b"data").await.unwrap();
        file.aclose_file().await.unwrap();
        let mut after = open_fds();
        for _ in 0..500 {
            if after <= before {
                break;
            }
            anyio::sleep(Duration::from_millis(10)).await;
            after = open_fds();
        }
        assert_eq!(
            after, before,
            "the descriptor is still open after aclose_file"
        );
        // Python: "I/O operation on closed file".
        assert!(file.write_all(b"more").await.is_err());
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), b"data");
    });
}
