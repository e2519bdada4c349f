//! `FuturesIoStream`: a futures-io reader and writer as an anyio byte stream (the
//! reverse of `ByteStreamIo`; issue 15, point 7).

use anyio::ErrorKind;
use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream, ByteStream};
use anyio::streams::buffered::BufferedByteReceiveStream;
use anyio::streams::io::{ByteStreamIo, FuturesIoStream};
use anyio::streams::object_bytes::memory_byte_stream_pair;

/// A futures-io object for the tests: one end of a memory byte stream behind
/// `ByteStreamIo`, so that the other end shows what was written.
fn futures_io_pair() -> (
    FuturesIoStream<ByteStreamIo<anyio::streams::object_bytes::MemoryByteStream>>,
    anyio::streams::object_bytes::MemoryByteStream,
) {
    let (a, b) = memory_byte_stream_pair(8);
    (FuturesIoStream::new(ByteStreamIo::new(a)), b)
}

#[anyio::test(timeout = 10)]
async fn bytes_go_both_ways() {
    let (mut adapted, mut other) = futures_io_pair();
    adapted.send(b"to the other side").await.unwrap();
    let mut received = Vec::new();
    while received.len() < 17 {
        received.extend(other.receive(64).await.unwrap());
    }
    assert_eq!(received, b"to the other side");
    other.send(b"and back").await.unwrap();
    assert_eq!(adapted.receive(64).await.unwrap(), b"and back");
}

#[anyio::test(timeout = 10)]
async fn receive_gives_at_most_max_bytes() {
    let (mut adapted, mut other) = futures_io_pair();
    other.send(b"abcdef").await.unwrap();
    assert_eq!(adapted.receive(2).await.unwrap(), b"ab");
    assert_eq!(adapted.receive(64).await.unwrap(), b"cdef");
}

#[anyio::test(timeout = 10)]
async fn the_end_of_the_reader_is_end_of_stream() {
    let (mut adapted, mut other) = futures_io_pair();
    other.send_eof().await.unwrap();
    let error = adapted.receive(64).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::EndOfStream);
}

#[anyio::test(timeout = 10)]
async fn send_eof_and_aclose_close_the_writer() {
    let (mut adapted, mut other) = futures_io_pair();
    adapted.send(b"last").await.unwrap();
    adapted.send_eof().await.unwrap();
    assert_eq!(other.receive(64).await.unwrap(), b"last");
    assert_eq!(
        other.receive(64).await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
    let (mut adapted, mut other) = futures_io_pair();
    adapted.aclose().await.unwrap();
    assert_eq!(
        other.receive(64).await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
}

#[anyio::test(timeout = 10)]
async fn a_zero_byte_receive_is_refused() {
    let (mut adapted, _other) = futures_io_pair();
    let error = adapted.receive(0).await.unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Io(std::io::ErrorKind::InvalidInput)
    );
}

#[anyio::test(timeout = 10)]
async fn anyio_wrappers_work_over_it() {
    let (adapted, mut other) = futures_io_pair();
    let mut buffered = BufferedByteReceiveStream::new(adapted);
    other.send(b"line one\nline two\n").await.unwrap();
    assert_eq!(
        buffered.receive_until(b"\n", 64).await.unwrap(),
        b"line one"
    );
    assert_eq!(
        buffered.receive_until(b"\n", 64).await.unwrap(),
        b"line two"
    );
}

#[anyio::test(timeout = 10)]
async fn a_receive_in_a_cancelled_scope_takes_nothing() {
    let (mut adapted, mut other) = futures_io_pair();
    other.send(b"kept").await.unwrap();
    let scope = anyio::CancelScope::new();
    scope.cancel();
    assert!(scope.run(adapted.receive(64)).await.is_none());
    assert_eq!(adapted.receive(64).await.unwrap(), b"kept");
}
