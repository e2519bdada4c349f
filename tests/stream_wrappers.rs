//! Stream wrappers and traits: buffered, text, stapled, object-bytes, the futures-io
//! adapter, MultiListener and typed attributes (AnyIO's BUF-*, TXT-*, STP-*).

mod common;

use anyio::abc::{
    AsyncResource, ByteReceiveStream, ByteSendStream, ByteStream, Listener, ObjectStream,
    UnreliableObjectReceiveStream, UnreliableObjectSendStream,
};
use anyio::streams::buffered::{BufferedByteReceiveStream, BufferedByteStream};
use anyio::streams::io::ByteStreamIo;
use anyio::streams::object_bytes::{MemoryByteStream, memory_byte_stream_pair};
use anyio::streams::stapled::{MultiListener, StapledByteStream, StapledObjectStream};
use anyio::streams::text::{TextReceiveStream, TextSendStream, TextStream};
use anyio::{
    ErrorKind, MemoryObjectReceiveStream, TypedAttribute, TypedAttributeProvider, TypedAttributes,
    create_memory_object_stream, wait_all_tasks_blocked,
};
use common::*;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

/// A byte stream whose peer has sent `chunks` and then the end of the stream.
async fn stream_of(chunks: &[&[u8]]) -> MemoryByteStream {
    let (mut peer, stream) = memory_byte_stream_pair(chunks.len().max(1));
    for chunk in chunks {
        peer.send(chunk).await.unwrap();
    }
    peer.send_eof().await.unwrap();
    stream
}

// ---- Buffered ----

#[anyio::test(timeout = 10)]
async fn buffered_receive_exactly_joins_chunks() {
    let mut stream = BufferedByteReceiveStream::new(stream_of(&[b"abcd", b"efgh"]).await);
    assert_eq!(stream.receive_exactly(8).await.unwrap(), b"abcdefgh");
}

#[anyio::test(timeout = 10)]
async fn buffered_receive_exactly_fails_with_incomplete_read_at_the_end() {
    let mut stream = BufferedByteReceiveStream::new(stream_of(&[b"abcd"]).await);
    let error = stream.receive_exactly(8).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::IncompleteRead);
    assert_eq!(stream.buffer(), b"abcd", "what was read stays buffered");
}

#[anyio::test(timeout = 10)]
async fn buffered_receive_until_consumes_the_delimiter() {
    let mut stream = BufferedByteReceiveStream::new(stream_of(&[b"abcd", b"efgh"]).await);
    assert_eq!(stream.receive_until(b"de", 10).await.unwrap(), b"abc");
    assert_eq!(stream.receive_until(b"h", 10).await.unwrap(), b"fg");
}

#[anyio::test(timeout = 10)]
async fn buffered_receive_until_finds_a_delimiter_split_across_chunks() {
    let mut stream = BufferedByteReceiveStream::new(stream_of(&[b"line one\r", b"\nrest"]).await);
    assert_eq!(
        stream.receive_until(b"\r\n", 100).await.unwrap(),
        b"line one"
    );
    assert_eq!(stream.buffer(), b"rest");
}

#[anyio::test(timeout = 10)]
async fn buffered_receive_until_without_the_delimiter_is_an_incomplete_read() {
    let mut stream = BufferedByteReceiveStream::new(stream_of(&[b"abcd", b"efgh"]).await);
    let error = stream.receive_until(b"x", 100).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::IncompleteRead);
    assert_eq!(stream.buffer(), b"abcdefgh");
}

#[anyio::test(timeout = 10)]
async fn buffered_receive_until_past_max_bytes_is_delimiter_not_found() {
    let mut stream = BufferedByteReceiveStream::new(stream_of(&[b"abcdefgh", b"\n"]).await);
    let error = stream.receive_until(b"\n", 4).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::DelimiterNotFound);
    assert!(error.message().contains("first 4 bytes"), "{error}");
    // With a larger limit, the same data is found: nothing was lost.
    assert_eq!(stream.receive_until(b"\n", 100).await.unwrap(), b"abcdefgh");
}

#[anyio::test(timeout = 10)]
async fn buffered_receive_serves_the_buffer_before_the_inner_stream() {
    let mut stream = BufferedByteReceiveStream::new(stream_of(&[b"abcd"]).await);
    stream.feed_data(b"xxx");
    stream.feed_data(b"foo");
    assert_eq!(stream.receive(3).await.unwrap(), b"xxx");
    assert_eq!(stream.receive(100).await.unwrap(), b"foo");
    assert_eq!(stream.receive(100).await.unwrap(), b"abcd");
    assert_eq!(
        stream.receive(100).await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
}

#[anyio::test(timeout = 10)]
async fn byte_receive_of_zero_bytes_is_an_invalid_input_error() {
    let mut buffered = BufferedByteReceiveStream::new(stream_of(&[b"a"]).await);
    let error = buffered.receive(0).await.unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Io(std::io::ErrorKind::InvalidInput)
    );
    let mut stapled = stream_of(&[b"a"]).await;
    assert!(stapled.receive(0).await.is_err());
}

#[anyio::test(timeout = 10)]
async fn buffered_byte_stream_sends_through_and_send_eof_closes_only_sending() {
    let (client, mut server) = memory_byte_stream_pair(4);
    let mut client: BufferedByteStream<MemoryByteStream> = BufferedByteStream::new(client);
    client.send(b"hello").await.unwrap();
    assert_eq!(server.receive(64).await.unwrap(), b"hello");
    client.send_eof().await.unwrap();
    assert_eq!(
        client.send(b"more").await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
    assert_eq!(
        server.receive(64).await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
    server.send(b"reply").await.unwrap();
    assert_eq!(client.receive_exactly(5).await.unwrap(), b"reply");
    client.aclose().await.unwrap();
    assert_eq!(
        client.receive(1).await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
}

#[anyio::test(timeout = 10)]
async fn buffered_receive_exactly_cancelled_halfway_keeps_the_bytes() {
    let (mut peer, stream) = memory_byte_stream_pair(4);
    let mut stream = BufferedByteReceiveStream::new(stream);
    peer.send(b"abc").await.unwrap();
    let waited = anyio::move_on_after!(0.02, { stream.receive_exactly(6).await });
    assert!(waited.is_none());
    assert_eq!(stream.buffer(), b"abc");
    peer.send(b"def").await.unwrap();
    assert_eq!(stream.receive_exactly(6).await.unwrap(), b"abcdef");
}

// ---- Text ----

#[anyio::test(timeout = 10)]
async fn text_receive_waits_for_the_rest_of_a_split_character() {
    let (mut peer, stream) = memory_byte_stream_pair(4);
    let mut text = TextReceiveStream::new(stream);
    let bytes = "åäö".as_bytes(); // two bytes each
    peer.send(&bytes[..3]).await.unwrap(); // "å" and half of "ä"
    assert_eq!(text.receive().await.unwrap(), "å");
    peer.send(&bytes[3..]).await.unwrap();
    assert_eq!(text.receive().await.unwrap(), "äö");
}

#[anyio::test(timeout = 10)]
async fn text_send_encodes_utf8() {
    let (stream, mut peer) = memory_byte_stream_pair(4);
    let mut text = TextSendStream::new(stream);
    text.send("åäö").await.unwrap();
    UnreliableObjectSendStream::send(&mut text, "€".to_owned())
        .await
        .unwrap();
    assert_eq!(peer.receive(64).await.unwrap(), "åäö".as_bytes());
    assert_eq!(peer.receive(64).await.unwrap(), "€".as_bytes());
}

#[anyio::test(timeout = 10)]
async fn text_receive_rejects_invalid_utf8_with_an_error() {
    let mut text = TextReceiveStream::new(stream_of(&[b"ok \xff bad"]).await);
    let error = text.receive().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io(std::io::ErrorKind::InvalidData));
    assert!(error.message().contains("0xff"), "{error}");
}

#[anyio::test(timeout = 10)]
async fn lossy_text_receive_replaces_each_invalid_byte() {
    let mut text = TextReceiveStream::lossy(stream_of(&[b"a\xff\xfeb"]).await);
    assert_eq!(text.receive().await.unwrap(), "a\u{FFFD}\u{FFFD}b");
}

#[anyio::test(timeout = 10)]
async fn text_stream_cut_inside_a_character_is_an_error_then_the_end() {
    let mut text = TextReceiveStream::new(stream_of(&["€".as_bytes()[..2].as_ref()]).await);
    let error = text.receive().await.unwrap_err();
    assert!(
        error.message().contains("inside a UTF-8 character"),
        "{error}"
    );
    assert_eq!(
        text.receive().await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
}

#[anyio::test(timeout = 10)]
async fn text_stream_is_bidirectional_and_offers_no_attributes_of_its_own() {
    let (a, b) = memory_byte_stream_pair(4);
    let (mut a, mut b) = (TextStream::new(a), TextStream::new(b));
    a.send("ping").await.unwrap();
    assert_eq!(b.receive().await.unwrap(), "ping");
    UnreliableObjectSendStream::send(&mut b, "pong".to_owned())
        .await
        .unwrap();
    assert_eq!(
        UnreliableObjectReceiveStream::receive(&mut a)
            .await
            .unwrap(),
        "pong"
    );
    assert!(a.extra_attributes().is_empty());
    ObjectStream::send_eof(&mut a).await.unwrap();
    assert_eq!(
        b.receive().await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
}

// ---- Stapled ----

#[anyio::test(timeout = 10)]
async fn stapled_byte_stream_delegates_to_its_halves() {
    let (a, mut b) = memory_byte_stream_pair(4);
    let (send_half, receive_half) = a.into_parts();
    let mut stapled = StapledByteStream::new(send_half, receive_half);
    stapled.send(b"to b").await.unwrap();
    assert_eq!(b.receive(2).await.unwrap(), b"to");
    b.send(b"to a").await.unwrap();
    assert_eq!(stapled.receive(64).await.unwrap(), b"to a");
}

#[anyio::test(timeout = 10)]
async fn stapled_send_eof_is_idempotent_and_keeps_receiving() {
    let (mut a, mut b) = memory_byte_stream_pair(4);
    a.send_eof().await.unwrap();
    a.send_eof().await.unwrap();
    assert_eq!(
        a.send(b"x").await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
    b.send(b"still open").await.unwrap();
    assert_eq!(a.receive(64).await.unwrap(), b"still open");
}

#[anyio::test(timeout = 10)]
async fn stapled_aclose_closes_both_halves() {
    let (mut a, _b) = memory_byte_stream_pair(4);
    a.aclose().await.unwrap();
    assert_eq!(
        a.send(b"x").await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
    assert_eq!(
        a.receive(1).await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
}

#[anyio::test(timeout = 10)]
async fn stapled_object_stream_carries_items_in_order_then_ends() {
    let (tx, rx) = create_memory_object_stream::<u32>(4);
    let mut stream = StapledObjectStream::new(tx, rx);
    for n in 0..3 {
        UnreliableObjectSendStream::send(&mut stream, n)
            .await
            .unwrap();
    }
    stream.send_eof().await.unwrap();
    for n in 0..3 {
        assert_eq!(
            UnreliableObjectReceiveStream::receive(&mut stream)
                .await
                .unwrap(),
            n
        );
    }
    assert_eq!(
        UnreliableObjectReceiveStream::receive(&mut stream)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::EndOfStream
    );
    assert_eq!(
        UnreliableObjectSendStream::send(&mut stream, 9)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::ClosedResource
    );
    stream.aclose().await.unwrap();
    assert_eq!(
        UnreliableObjectReceiveStream::receive(&mut stream)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::ClosedResource
    );
}

#[anyio::test(timeout = 10)]
async fn object_byte_receive_splits_large_chunks_and_skips_empty_ones() {
    let (tx, rx) = create_memory_object_stream::<Vec<u8>>(4);
    let mut bytes = anyio::streams::object_bytes::ObjectByteReceiveStream::new(rx);
    tx.send_nowait(Vec::new()).unwrap();
    tx.send_nowait(b"abcdef".to_vec()).unwrap();
    assert_eq!(bytes.receive(4).await.unwrap(), b"abcd");
    assert_eq!(bytes.receive(4).await.unwrap(), b"ef");
}

// ---- futures-io adapter ----

#[anyio::test(timeout = 10)]
async fn futures_io_adapter_reads_and_writes_through_a_byte_stream() {
    let (a, b) = memory_byte_stream_pair(4);
    let (mut a, mut b) = (ByteStreamIo::new(a), ByteStreamIo::new(b));
    a.write_all(b"0123456789").await.unwrap();
    a.flush().await.unwrap();
    let mut first = [0; 4];
    b.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"0123");
    a.close().await.unwrap();
    let mut rest = Vec::new();
    b.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"456789");
}

#[anyio::test(timeout = 10)]
async fn futures_io_adapter_reports_stream_errors_as_io_errors() {
    let (a, b) = memory_byte_stream_pair(4);
    drop(b);
    let mut a = ByteStreamIo::new(a);
    let error = a.write_all(b"nobody listens").await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe);
}

// ---- MultiListener ----

/// A listener whose connections arrive over a memory stream.
struct TestListener {
    incoming: MemoryObjectReceiveStream<String>,
    name: &'static str,
}

struct ListenerName;
impl TypedAttribute for ListenerName {
    type Value = &'static str;
}

impl TypedAttributeProvider for TestListener {
    fn extra_attributes(&self) -> TypedAttributes {
        TypedAttributes::new().with::<ListenerName>(self.name)
    }
}

impl AsyncResource for TestListener {
    async fn aclose(&mut self) -> anyio::Result<()> {
        self.incoming.close();
        Ok(())
    }
}

impl Listener for TestListener {
    type Stream = String;

    async fn accept(&mut self) -> anyio::Result<String> {
        self.incoming.receive().await
    }
}

fn test_listener(name: &'static str) -> (anyio::MemoryObjectSendStream<String>, TestListener) {
    let (tx, incoming) = create_memory_object_stream(4);
    (tx, TestListener { incoming, name })
}

#[anyio::test(timeout = 10)]
async fn multi_listener_accepts_from_every_listener() {
    let (a_tx, a) = test_listener("a");
    let (b_tx, b) = test_listener("b");
    let mut both = MultiListener::new(vec![a, b]);
    b_tx.send_nowait("b1".into()).unwrap();
    a_tx.send_nowait("a1".into()).unwrap();
    let mut accepted = vec![both.accept().await.unwrap(), both.accept().await.unwrap()];
    accepted.sort();
    assert_eq!(accepted, ["a1", "b1"]);
}

#[anyio::test(timeout = 10)]
async fn multi_listener_attributes_come_from_the_last_listener_offering_them() {
    let (_a_tx, a) = test_listener("first");
    let (_b_tx, b) = test_listener("second");
    let both = MultiListener::new(vec![a, b]);
    assert_eq!(both.extra::<ListenerName>().unwrap(), "second");
}

#[anyio::test(timeout = 10)]
async fn multi_listener_serve_runs_a_handler_per_connection_until_accepting_ends() {
    let (a_tx, a) = test_listener("a");
    let (b_tx, b) = test_listener("b");
    let mut first = MultiListener::new(vec![a]);
    first.extend(MultiListener::new(vec![b]));
    assert_eq!(first.listeners().len(), 2);
    let handled = counter();
    let result = anyio::task_group!(|tg| {
        tg.start_soon(async {
            for n in 0..3 {
                a_tx.send(format!("a{n}")).await?;
                b_tx.send(format!("b{n}")).await?;
            }
            wait_all_tasks_blocked().await;
            a_tx.close(); // listener a now fails to accept: serve ends
            anyio::Result::Ok(())
        });
        first
            .serve(|connection: String| {
                let handled = handled.clone();
                async move {
                    assert!(connection.starts_with('a') || connection.starts_with('b'));
                    bump(&handled);
                }
            })
            .await
    });
    assert_eq!(result.unwrap_err().kind(), ErrorKind::EndOfStream);
    assert_eq!(count(&handled), 6);
}

#[anyio::test(timeout = 10)]
async fn listener_serve_ends_with_a_handler_failure() {
    let (tx, mut listener) = test_listener("solo");
    tx.send_nowait("bad".into()).unwrap();
    let error = listener
        .serve(|connection: String| async move {
            Err::<(), _>(anyio::Error::other(format!("cannot handle {connection}")))
        })
        .await
        .unwrap_err();
    assert_eq!(error.message(), "cannot handle bad");
}

#[anyio::test(timeout = 10)]
async fn empty_multi_listener_accepts_nothing() {
    let mut none: MultiListener<TestListener> = MultiListener::new(Vec::new());
    assert_eq!(
        none.accept().await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
}

// ---- Typed attributes ----

#[anyio::test(timeout = 10)]
async fn missing_typed_attribute_is_a_lookup_error_naming_it_or_the_default() {
    let (_tx, listener) = test_listener("x");
    struct Missing;
    impl TypedAttribute for Missing {
        type Value = u16;
    }
    let error = listener.extra::<Missing>().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TypedAttributeLookup);
    assert!(error.message().contains("Missing"), "{error}");
    assert_eq!(listener.extra_or::<Missing>(8080), 8080);
    assert_eq!(listener.extra::<ListenerName>().unwrap(), "x");
}

#[anyio::test(timeout = 10)]
async fn wrappers_forward_their_inner_streams_attributes() {
    struct Origin;
    impl TypedAttribute for Origin {
        type Value = String;
    }
    struct Tagged(MemoryByteStream);
    impl TypedAttributeProvider for Tagged {
        fn extra_attributes(&self) -> TypedAttributes {
            TypedAttributes::new().with::<Origin>("tagged".into())
        }
    }
    impl AsyncResource for Tagged {
        async fn aclose(&mut self) -> anyio::Result<()> {
            self.0.aclose().await
        }
    }
    impl ByteReceiveStream for Tagged {
        async fn receive(&mut self, max_bytes: usize) -> anyio::Result<Vec<u8>> {
            self.0.receive(max_bytes).await
        }
    }
    let (a, _b) = memory_byte_stream_pair(1);
    let text = TextReceiveStream::new(BufferedByteReceiveStream::new(Tagged(a)));
    assert_eq!(text.extra::<Origin>().unwrap(), "tagged");
}

#[test]
fn typed_attribute_sets_insert_get_and_extend() {
    struct Port;
    impl TypedAttribute for Port {
        type Value = u16;
    }
    struct Host;
    impl TypedAttribute for Host {
        type Value = String;
    }
    let mut base = TypedAttributes::new().with::<Port>(1);
    base.extend(
        TypedAttributes::new()
            .with::<Port>(2)
            .with::<Host>("h".into()),
    );
    assert_eq!(base.get::<Port>(), Some(&2));
    assert_eq!(base.get::<Host>().map(String::as_str), Some("h"));
    assert_eq!(base.len(), 2);
    assert!(format!("{base:?}").contains("Port"));
}
