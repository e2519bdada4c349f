//! TLS streams (AnyIO's TLS-xx): handshakes over TCP and over in-memory streams,
//! attributes, ALPN, client certificates, certificate errors in words a user can act
//! on, close_notify and truncation, unwrap, half-close, futures-io, and cancellation.
//! Certificates are made at test time; loopback only.

mod common;
#[path = "support/tls_certs.rs"]
mod tls_certs;

use std::future::IntoFuture;
use std::sync::Arc;

use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream, ByteStream, Listener};
use anyio::net::{LocalPort, RemotePort, TcpListener, TcpStream};
use anyio::streams::object_bytes::{MemoryByteStream, memory_byte_stream_pair};
use anyio::streams::tls::{
    AlpnProtocol, CipherSuite, PeerCertificates, ServerName, ServerSide, StandardCompatible,
    TlsStream, TlsVersion,
};
use anyio::{ErrorKind, TypedAttributeProvider};
use common::cancel_points::cancel_at_every_suspension;
use tls_certs::{Pki, server_config};

async fn loopback_listener() -> (TcpListener, u16) {
    let listener = anyio::create_tcp_listener()
        .local_host("127.0.0.1")
        .await
        .unwrap();
    let port = listener.extra::<LocalPort>().unwrap();
    (listener, port)
}

/// A TLS client and server over an in-memory pair, the server's certificate for
/// "localhost".
async fn memory_pair(pki: &Pki) -> (TlsStream<MemoryByteStream>, TlsStream<MemoryByteStream>) {
    let identity = pki.issue(&["localhost"]);
    let (a, b) = memory_byte_stream_pair(16);
    anyio::gather!(
        TlsStream::connect(a, "localhost")
            .config(Arc::new(pki.client_config()))
            .into_future(),
        TlsStream::accept(b, Arc::new(server_config(&identity))).into_future(),
    )
    .unwrap()
}

/// A TLS client and server over TCP on loopback.
async fn tcp_pair(
    client_config: rustls::ClientConfig,
    server_config: rustls::ServerConfig,
    hostname: &str,
) -> (
    anyio::Result<TlsStream<TcpStream>>,
    anyio::Result<TlsStream<TcpStream>>,
) {
    let (mut listener, port) = loopback_listener().await;
    let client = anyio::connect_tcp("127.0.0.1", port).await.unwrap();
    let server = listener.accept().await.unwrap();
    // Each side's outcome, failures included (a failed side does not cancel the other).
    let connect = TlsStream::connect(client, hostname).config(Arc::new(client_config));
    let accept = TlsStream::accept(server, Arc::new(server_config));
    anyio::gather!(async { anyio::Result::Ok(connect.await) }, async {
        anyio::Result::Ok(accept.await)
    },)
    .unwrap()
}

#[anyio::test(timeout = 10)]
async fn bytes_go_both_ways_over_an_in_memory_stream() {
    let pki = Pki::new("memory");
    let (mut client, mut server) = memory_pair(&pki).await;
    client.send(b"hello, world").await.unwrap();
    assert_eq!(server.receive(64).await.unwrap(), b"hello, world");
    server.send(b"hello back").await.unwrap();
    assert_eq!(client.receive(64).await.unwrap(), b"hello back");
}

#[anyio::test(timeout = 10)]
async fn the_attributes_describe_the_session_and_the_transport() {
    let pki = Pki::new("attributes");
    let identity = pki.issue(&["localhost"]);
    let (client, server) =
        tcp_pair(pki.client_config(), server_config(&identity), "localhost").await;
    let (client, server) = (client.unwrap(), server.unwrap());
    assert!(!client.extra::<ServerSide>().unwrap());
    assert!(server.extra::<ServerSide>().unwrap());
    assert!(client.extra::<StandardCompatible>().unwrap());
    assert_eq!(client.extra::<TlsVersion>().unwrap(), "TLSv1.3");
    assert!(client.extra::<CipherSuite>().unwrap().starts_with("TLS13_"));
    assert_eq!(client.extra::<AlpnProtocol>().unwrap(), None);
    assert_eq!(
        client.extra::<ServerName>().unwrap().as_deref(),
        Some("localhost")
    );
    // The server learns the name the client asked for (SNI).
    assert_eq!(
        server.extra::<ServerName>().unwrap().as_deref(),
        Some("localhost")
    );
    assert_eq!(client.extra::<PeerCertificates>().unwrap(), identity.chain);
    assert!(server.extra::<PeerCertificates>().unwrap().is_empty());
    // The transport's own attributes come through.
    assert_eq!(
        client.extra::<RemotePort>().unwrap(),
        server.extra::<LocalPort>().unwrap()
    );
}

#[anyio::test(timeout = 10)]
async fn alpn_picks_the_protocol_both_ends_have() {
    let pki = Pki::new("alpn");
    let identity = pki.issue(&["localhost"]);
    let mut client_config = pki.client_config();
    client_config.alpn_protocols = vec![b"dummy1".to_vec(), b"dummy2".to_vec()];
    let mut server_config = server_config(&identity);
    server_config.alpn_protocols = vec![b"dummy2".to_vec(), b"dummy3".to_vec()];
    let (client, server) = tcp_pair(client_config, server_config, "localhost").await;
    assert_eq!(
        client.unwrap().extra::<AlpnProtocol>().unwrap(),
        Some(b"dummy2".to_vec())
    );
    assert_eq!(
        server.unwrap().extra::<AlpnProtocol>().unwrap(),
        Some(b"dummy2".to_vec())
    );
}

#[anyio::test(timeout = 10)]
async fn no_shared_alpn_protocol_is_an_error_saying_so() {
    let pki = Pki::new("no-alpn");
    let identity = pki.issue(&["localhost"]);
    let mut client_config = pki.client_config();
    client_config.alpn_protocols = vec![b"h2".to_vec()];
    let mut server_config = server_config(&identity);
    server_config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let (client, server) = tcp_pair(client_config, server_config, "localhost").await;
    let server_error = server.unwrap_err();
    assert_eq!(server_error.kind(), ErrorKind::Tls);
    assert!(server_error.to_string().contains("ALPN"), "{server_error}");
    let client_error = client.unwrap_err();
    assert!(client_error.to_string().contains("alert"), "{client_error}");
}

#[anyio::test(timeout = 10)]
async fn a_client_certificate_is_accepted_and_seen_by_the_server() {
    let servers = Pki::new("servers");
    let clients = Pki::new("clients");
    let server_identity = servers.issue(&["localhost"]);
    let client_identity = clients.issue(&["client.test"]);
    let (client, server) = tcp_pair(
        servers.client_config_with_cert(&client_identity),
        tls_certs::server_config_requiring_clients(&server_identity, &clients),
        "localhost",
    )
    .await;
    let (mut client, mut server) = (client.unwrap(), server.unwrap());
    assert_eq!(
        server.extra::<PeerCertificates>().unwrap(),
        client_identity.chain
    );
    client.send(b"authenticated").await.unwrap();
    assert_eq!(server.receive(64).await.unwrap(), b"authenticated");
}

#[anyio::test(timeout = 10)]
async fn a_client_without_the_required_certificate_is_refused() {
    let servers = Pki::new("servers");
    let clients = Pki::new("clients");
    let server_identity = servers.issue(&["localhost"]);
    let (client, server) = tcp_pair(
        servers.client_config(),
        tls_certs::server_config_requiring_clients(&server_identity, &clients),
        "localhost",
    )
    .await;
    let server_error = server.unwrap_err();
    assert_eq!(server_error.kind(), ErrorKind::Tls);
    assert!(
        server_error
            .to_string()
            .contains("presented no certificate"),
        "{server_error}"
    );
    // In TLS 1.3 the client learns it at its first receive (the alert comes after its
    // handshake finished).
    if let Ok(mut client) = client {
        let error = client.receive(64).await.unwrap_err();
        assert!(error.to_string().contains("alert"), "{error}");
    }
}

#[anyio::test(timeout = 10)]
async fn a_client_certificate_from_an_unknown_authority_is_refused() {
    let servers = Pki::new("servers");
    let clients = Pki::new("clients");
    let strangers = Pki::new("strangers");
    let server_identity = servers.issue(&["localhost"]);
    let stranger = strangers.issue(&["client.test"]);
    let (_client, server) = tcp_pair(
        servers.client_config_with_cert(&stranger),
        tls_certs::server_config_requiring_clients(&server_identity, &clients),
        "localhost",
    )
    .await;
    let error = server.unwrap_err();
    assert!(error.to_string().contains("not trusted"), "{error}");
}

#[anyio::test(timeout = 10)]
async fn a_wrong_host_name_names_both_names() {
    let pki = Pki::new("names");
    let identity = pki.issue(&["localhost"]);
    let (client, _server) =
        tcp_pair(pki.client_config(), server_config(&identity), "other.test").await;
    let error = client.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Tls);
    let message = error.to_string();
    assert!(message.contains("other.test"), "{message}");
    assert!(message.contains("localhost"), "{message}");
}

#[anyio::test(timeout = 10)]
async fn an_untrusted_certificate_is_refused_with_its_reason() {
    let trusted = Pki::new("trusted");
    let untrusted = Pki::new("untrusted");
    let identity = untrusted.issue(&["localhost"]);
    let (client, _server) = tcp_pair(
        trusted.client_config(),
        server_config(&identity),
        "localhost",
    )
    .await;
    let error = client.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Tls);
    assert!(error.to_string().contains("not trusted"), "{error}");
    assert!(std::error::Error::source(&error).is_some());
}

#[anyio::test(timeout = 10)]
async fn the_default_client_config_does_not_trust_a_private_authority() {
    let pki = Pki::new("private");
    let identity = pki.issue(&["localhost"]);
    let (mut listener, port) = loopback_listener().await;
    let config = Arc::new(server_config(&identity));
    let (client, _server) = anyio::gather!(
        async {
            let tcp = anyio::connect_tcp("127.0.0.1", port).await?;
            // The bundled Mozilla roots.
            anyio::Result::Ok(TlsStream::connect(tcp, "localhost").await)
        },
        async {
            let tcp = listener.accept().await?;
            anyio::Result::Ok(TlsStream::accept(tcp, config).await)
        },
    )
    .unwrap();
    assert!(client.unwrap_err().to_string().contains("not trusted"));
}

#[anyio::test(timeout = 10)]
async fn an_expired_certificate_is_refused_as_expired() {
    let pki = Pki::new("expired");
    let identity = pki.issue_expired(&["localhost"]);
    let (client, _server) =
        tcp_pair(pki.client_config(), server_config(&identity), "localhost").await;
    let error = client.unwrap_err();
    assert!(error.to_string().contains("expired"), "{error}");
}

#[anyio::test(timeout = 10)]
async fn an_ip_address_works_as_the_server_name() {
    let pki = Pki::new("ip");
    let identity = pki.issue(&["127.0.0.1"]);
    let (client, server) =
        tcp_pair(pki.client_config(), server_config(&identity), "127.0.0.1").await;
    let (mut client, mut server) = (client.unwrap(), server.unwrap());
    client.send(b"by address").await.unwrap();
    assert_eq!(server.receive(64).await.unwrap(), b"by address");
}

#[anyio::test(timeout = 10)]
async fn no_shared_protocol_version_is_an_error_saying_so() {
    let pki = Pki::new("versions");
    let identity = pki.issue(&["localhost"]);
    let (client, server) = tcp_pair(
        tls_certs::client_config_tls13_only(&pki),
        tls_certs::server_config_tls12_only(&identity),
        "localhost",
    )
    .await;
    let error = server.unwrap_err();
    assert!(error.to_string().contains("protocol version"), "{error}");
    assert_eq!(client.unwrap_err().kind(), ErrorKind::Tls);
}

#[anyio::test(timeout = 10)]
async fn a_peer_that_does_not_speak_tls_is_reported_as_such() {
    let (mut listener, port) = loopback_listener().await;
    let (client, _) = anyio::gather!(
        async {
            let tcp = anyio::connect_tcp("127.0.0.1", port).await?;
            anyio::Result::Ok(TlsStream::connect(tcp, "localhost").await)
        },
        async {
            let mut plain = listener.accept().await?;
            let _hello = plain.receive(4096).await?;
            plain
                .send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await?;
            anyio::Result::Ok(plain)
        },
    )
    .unwrap();
    let error = client.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Tls);
    assert!(error.to_string().contains("did not speak TLS"), "{error}");
}

#[anyio::test(timeout = 10)]
async fn unwrap_ends_tls_and_plain_text_goes_on() {
    let pki = Pki::new("unwrap");
    let (mut client, mut server) = memory_pair(&pki).await;
    client.send(b"over TLS").await.unwrap();
    assert_eq!(server.receive(64).await.unwrap(), b"over TLS");
    let (client_side, server_side) = anyio::gather!(client.unwrap(), async {
        let (mut plain, leftover) = server.unwrap().await?;
        plain.send(b"in plain text").await?;
        anyio::Result::Ok((plain, leftover))
    })
    .unwrap();
    let ((mut plain_client, mut early), (_plain_server, server_leftover)) =
        (client_side, server_side);
    assert!(server_leftover.is_empty());
    // The plain text may have come with the close_notify (then it is in `early`).
    while early.len() < b"in plain text".len() {
        early.extend(plain_client.receive(64).await.unwrap());
    }
    assert_eq!(early, b"in plain text");
}

#[anyio::test(timeout = 10)]
async fn a_close_without_close_notify_is_a_broken_stream_when_standard_compatible() {
    let pki = Pki::new("ragged");
    let identity = pki.issue(&["localhost"]);
    let (client, server) =
        tcp_pair(pki.client_config(), server_config(&identity), "localhost").await;
    let (mut client, server) = (client.unwrap(), server.unwrap());
    // Dropped, the server's socket closes with no close_notify (as in a truncation).
    drop(server);
    let error = client.receive(64).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BrokenResource);
    assert!(error.to_string().contains("close_notify"), "{error}");
}

#[anyio::test(timeout = 10)]
async fn without_standard_compatible_a_bare_close_ends_the_stream() {
    let pki = Pki::new("ragged-ok");
    let identity = pki.issue(&["localhost"]);
    let (mut listener, port) = loopback_listener().await;
    let config = Arc::new(server_config(&identity));
    let client_config = Arc::new(pki.client_config());
    let (mut client, mut server) = anyio::gather!(
        async {
            let tcp = anyio::connect_tcp("127.0.0.1", port).await?;
            TlsStream::connect(tcp, "localhost")
                .config(client_config)
                .standard_compatible(false)
                .await
        },
        async {
            let tcp = listener.accept().await?;
            TlsStream::accept(tcp, config)
                .standard_compatible(false)
                .await
        },
    )
    .unwrap();
    assert!(!client.extra::<StandardCompatible>().unwrap());
    server.send(b"last words").await.unwrap();
    server.aclose().await.unwrap(); // no close_notify without standard_compatible
    assert_eq!(client.receive(64).await.unwrap(), b"last words");
    let end = client.receive(64).await.unwrap_err();
    assert_eq!(end.kind(), ErrorKind::EndOfStream);
}

#[anyio::test(timeout = 10)]
async fn a_proper_close_is_the_end_of_the_stream_and_then_closed() {
    let pki = Pki::new("close");
    let (mut client, mut server) = memory_pair(&pki).await;
    server.aclose().await.unwrap();
    assert_eq!(
        client.receive(64).await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
    client.aclose().await.unwrap();
    assert_eq!(
        client.receive(64).await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
    assert_eq!(
        client.send(b"x").await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
}

#[anyio::test(timeout = 10)]
async fn send_eof_half_closes_and_the_reply_still_arrives() {
    let pki = Pki::new("half-close");
    let (mut client, mut server) = memory_pair(&pki).await;
    client.send(b"request").await.unwrap();
    client.send_eof().await.unwrap();
    assert_eq!(server.receive(64).await.unwrap(), b"request");
    assert_eq!(
        server.receive(64).await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
    server.send(b"reply").await.unwrap();
    assert_eq!(client.receive(64).await.unwrap(), b"reply");
    assert_eq!(
        client.send(b"more").await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
}

#[anyio::test(timeout = 10)]
async fn receiving_zero_bytes_is_refused() {
    let pki = Pki::new("zero");
    let (mut client, _server) = memory_pair(&pki).await;
    let error = client.receive(0).await.unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Io(std::io::ErrorKind::InvalidInput)
    );
}

#[anyio::test(timeout = 20)]
async fn a_megabyte_goes_each_way_intact() {
    let pki = Pki::new("large");
    let identity = pki.issue(&["localhost"]);
    let (client, server) =
        tcp_pair(pki.client_config(), server_config(&identity), "localhost").await;
    let (mut client, mut server) = (client.unwrap(), server.unwrap());
    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    let data = &data;
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            client.send(data).await?;
            let mut back = Vec::new();
            while back.len() < data.len() {
                back.extend(client.receive(65_536).await?);
            }
            assert!(back == *data, "the echo differs");
            anyio::Result::Ok(())
        });
        let mut received = 0;
        while received < data.len() {
            let chunk = server.receive(65_536).await?;
            received += chunk.len();
            server.send(&chunk).await?;
        }
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn futures_io_reads_and_writes_over_tcp() {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    let pki = Pki::new("futures-io");
    let identity = pki.issue(&["localhost"]);
    let (client, server) =
        tcp_pair(pki.client_config(), server_config(&identity), "localhost").await;
    let (mut client, mut server) = (client.unwrap(), server.unwrap());
    client.write_all(b"through futures-io").await.unwrap();
    client.flush().await.unwrap();
    client.close().await.unwrap(); // close_notify
    let mut text = String::new();
    server.read_to_string(&mut text).await.unwrap();
    assert_eq!(text, "through futures-io");
}

#[anyio::test(timeout = 10)]
async fn a_cancelled_handshake_closes_the_transport() {
    let (mut listener, port) = loopback_listener().await;
    let tcp = anyio::connect_tcp("127.0.0.1", port).await.unwrap();
    let mut server = listener.accept().await.unwrap();
    // The server never answers: the client's handshake waits until cancelled.
    let outcome =
        anyio::move_on_after(0.05, TlsStream::connect(tcp, "localhost").into_future()).await;
    assert!(outcome.is_none());
    let _client_hello = server.receive(4096).await.unwrap();
    let end = server.receive(4096).await.unwrap_err();
    assert_eq!(
        end.kind(),
        ErrorKind::EndOfStream,
        "the client socket is still open"
    );
}

#[anyio::test(timeout = 20)]
async fn a_receive_cancelled_at_every_suspension_loses_nothing() {
    let pki = Arc::new(Pki::new("cancel"));
    cancel_at_every_suspension(30, |point| {
        let pki = pki.clone();
        async move {
            let (mut client, mut server) = memory_pair(&pki).await;
            anyio::task_group!(|tg| {
                tg.start_soon(async {
                    anyio::wait_all_tasks_blocked().await;
                    server.send(b"no byte lost").await
                });
                let received = point.run(client.receive(64)).await;
                let completed = received.is_some();
                let data = match received {
                    Some(data) => data?,
                    None => client.receive(64).await?,
                };
                assert_eq!(data, b"no byte lost");
                anyio::Result::Ok(completed)
            })
            .unwrap()
            .unwrap()
        }
    })
    .await;
}

#[anyio::test(timeout = 10)]
async fn an_invalid_server_name_is_named() {
    let (a, _b) = memory_byte_stream_pair(4);
    let error = TlsStream::connect(a, "not a host name!").await.unwrap_err();
    assert!(error.to_string().contains("not a host name!"), "{error}");
}
