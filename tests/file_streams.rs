//! File streams (AnyIO's FST-* behaviours).

use std::path::PathBuf;

use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream};
use anyio::streams::file::{FilePath, FileReadStream, FileWriteStream, SeekFrom};
use anyio::{ErrorKind, TypedAttributeProvider};

/// A fresh path in the temporary directory, removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> TempPath {
        let unique = format!("anyio-test-{}-{name}", std::process::id());
        TempPath(std::env::temp_dir().join(unique))
    }

    fn with(name: &str, contents: &str) -> TempPath {
        let path = TempPath::new(name);
        std::fs::write(&path.0, contents).unwrap();
        path
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[anyio::test(timeout = 10)]
async fn read_stream_from_path_reads_in_pieces_then_ends() {
    let file = TempPath::with("read", "Hello");
    let mut stream = FileReadStream::from_path(&file.0).await.unwrap();
    assert_eq!(stream.receive(3).await.unwrap(), b"Hel");
    assert_eq!(stream.receive(3).await.unwrap(), b"lo");
    assert_eq!(
        stream.receive(3).await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
}

#[anyio::test(timeout = 10)]
async fn read_stream_over_an_open_file_behaves_the_same() {
    let file = TempPath::with("read-open", "Hello");
    let mut stream = FileReadStream::new(std::fs::File::open(&file.0).unwrap());
    assert_eq!(stream.receive(3).await.unwrap(), b"Hel");
    assert_eq!(stream.receive(3).await.unwrap(), b"lo");
    assert!(
        stream.extra::<FilePath>().is_err(),
        "no path for an open file"
    );
}

#[anyio::test(timeout = 10)]
async fn read_stream_after_close_is_a_closed_resource() {
    let file = TempPath::with("read-closed", "Hello");
    let mut stream = FileReadStream::from_path(&file.0).await.unwrap();
    stream.aclose().await.unwrap();
    assert_eq!(
        stream.receive(1).await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
}

#[anyio::test(timeout = 10)]
async fn read_stream_refuses_zero_bytes() {
    let file = TempPath::with("read-zero", "Hello");
    let mut stream = FileReadStream::from_path(&file.0).await.unwrap();
    assert!(stream.receive(0).await.is_err());
}

#[anyio::test(timeout = 10)]
async fn read_stream_seeks_and_tells() {
    let file = TempPath::with("seek", "Hello");
    let mut stream = FileReadStream::from_path(&file.0).await.unwrap();
    assert_eq!(stream.seek(SeekFrom::Start(2)).await.unwrap(), 2);
    assert_eq!(stream.tell().await.unwrap(), 2);
    assert_eq!(stream.receive(100).await.unwrap(), b"llo");
    assert_eq!(stream.tell().await.unwrap(), 5);
}

#[anyio::test(timeout = 10)]
async fn file_streams_offer_their_path_and_descriptor() {
    let file = TempPath::with("attributes", "x");
    let read = FileReadStream::from_path(&file.0).await.unwrap();
    assert_eq!(read.extra::<FilePath>().unwrap(), file.0);
    let write = FileWriteStream::from_path(&file.0, true).await.unwrap();
    assert_eq!(write.extra::<FilePath>().unwrap(), file.0);
    #[cfg(unix)]
    {
        use anyio::streams::file::FileDescriptor;
        assert!(read.extra::<FileDescriptor>().unwrap() > 2);
        assert!(write.extra::<FileDescriptor>().unwrap() > 2);
    }
}

#[anyio::test(timeout = 10)]
async fn write_stream_writes_chunks_in_order() {
    let file = TempPath::new("write");
    let mut stream = FileWriteStream::from_path(&file.0, false).await.unwrap();
    stream.send(b"Hello, ").await.unwrap();
    stream.send(b"World!").await.unwrap();
    stream.aclose().await.unwrap();
    assert_eq!(std::fs::read_to_string(&file.0).unwrap(), "Hello, World!");
}

#[anyio::test(timeout = 10)]
async fn write_stream_in_append_mode_appends() {
    let file = TempPath::with("append", "Hello");
    let mut stream = FileWriteStream::from_path(&file.0, true).await.unwrap();
    stream.send(b", World!").await.unwrap();
    stream.aclose().await.unwrap();
    assert_eq!(std::fs::read_to_string(&file.0).unwrap(), "Hello, World!");
}

#[anyio::test(timeout = 10)]
async fn write_stream_after_close_is_a_closed_resource() {
    let file = TempPath::new("write-closed");
    let mut stream = FileWriteStream::from_path(&file.0, false).await.unwrap();
    stream.aclose().await.unwrap();
    assert_eq!(
        stream.send(b"late").await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
}

#[anyio::test(timeout = 10)]
async fn opening_a_missing_file_is_an_io_not_found_error() {
    let missing = TempPath::new("missing");
    let error = FileReadStream::from_path(&missing.0).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io(std::io::ErrorKind::NotFound));
}
