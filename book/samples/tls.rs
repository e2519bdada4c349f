//! Chapter "Networking", section "TLS". Besides anyio, it uses rustls and rcgen (both
//! dev-dependencies of this workspace) for the configurations and the certificates.

use std::error::Error;
use std::sync::Arc;

use anyio::TypedAttributeProvider;
use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream, Listener};
use anyio::net::{LocalPort, TcpStream};
use anyio::streams::object_bytes::memory_byte_stream_pair;
use anyio::streams::tls::{CipherSuite, TlsListener, TlsStream, TlsVersion};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

// ANCHOR: certificates
/// A private certificate authority, a server configuration with a certificate it signed
/// for "localhost", and a client configuration that trusts that authority.
fn configs() -> Result<(Arc<ServerConfig>, Arc<ClientConfig>), Box<dyn Error + Send + Sync>> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca.self_signed(&ca_key)?;
    let key = KeyPair::generate()?;
    let cert =
        CertificateParams::new(vec!["localhost".to_owned()])?.signed_by(&key, &ca, &ca_key)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)?;
    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone())?;
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok((Arc::new(server), Arc::new(client)))
}
// ANCHOR_END: certificates

// ANCHOR: any_stream
/// TLS over an in-memory pair of byte streams: any `ByteStream` will do.
async fn over_any_stream(
    server_config: Arc<ServerConfig>,
    client_config: Arc<ClientConfig>,
) -> anyio::Result<()> {
    let (client_side, server_side) = memory_byte_stream_pair(16);
    // The two handshakes need each other, so they run side by side.
    let (mut client, mut server) = anyio::gather!(
        TlsStream::connect(client_side, "localhost").config(client_config),
        TlsStream::accept(server_side, server_config),
    )?;
    client.send(b"hello over TLS").await?;
    let received = server.receive(64).await?;
    println!(
        "  {:?} over {} with {}",
        String::from_utf8_lossy(&received),
        client.extra::<TlsVersion>()?,
        client.extra::<CipherSuite>()?
    );
    Ok(())
}
// ANCHOR_END: any_stream

// ANCHOR: server
/// Uppercases what each client sends. It catches its own errors: a handler's failure
/// would end `serve`, and with it the server.
async fn shout(mut client: TlsStream<TcpStream>) {
    let outcome: anyio::Result<()> = async {
        loop {
            match client.receive(1024).await {
                Ok(bytes) => client.send(&bytes.to_ascii_uppercase()).await?,
                // The client's close_notify.
                Err(end) if end.kind() == anyio::ErrorKind::EndOfStream => return Ok(()),
                Err(error) => return Err(error),
            }
        }
    }
    .await;
    if let Err(error) = outcome {
        println!("  a client was dropped: {error}");
    }
}

async fn tls_server(
    server_config: Arc<ServerConfig>,
    client_config: Arc<ClientConfig>,
) -> anyio::Result<()> {
    let tcp = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    let port = tcp.extra::<LocalPort>()?;
    // A client gets 5 seconds for its handshake.
    let mut listener = TlsListener::new(tcp, server_config).handshake_timeout(5);
    anyio::task_group!(|tg| {
        tg.start_soon(async { listener.serve(shout).await });
        clients(port, client_config).await?;
        tg.cancel(); // stops the server
        anyio::Result::Ok(())
    })?;
    Ok(())
}
// ANCHOR_END: server

// ANCHOR: client
async fn clients(port: u16, client_config: Arc<ClientConfig>) -> anyio::Result<()> {
    // The default configuration trusts the public authorities only, not ours.
    if let Err(error) = anyio::connect_tcp("localhost", port).tls().await {
        println!("  with the default roots: {error}");
    }
    // With a configuration that trusts our authority.
    let mut server = anyio::connect_tcp("localhost", port)
        .tls_config(client_config)
        .await?;
    server.send(b"hello, tls").await?;
    let mut answer = Vec::new();
    while answer.len() < b"hello, tls".len() {
        answer.extend(server.receive(1024).await?);
    }
    println!(
        "  the server answered {:?}",
        String::from_utf8_lossy(&answer)
    );
    server.aclose().await // sends close_notify
}
// ANCHOR_END: client

// ANCHOR: starttls
/// Reads exactly `expected.len()` bytes, after `early` (bytes already received), and
/// checks them.
async fn expect(
    stream: &mut impl ByteReceiveStream,
    mut early: Vec<u8>,
    expected: &[u8],
) -> anyio::Result<()> {
    while early.len() < expected.len() {
        early.extend(stream.receive(expected.len() - early.len()).await?);
    }
    assert_eq!(early, expected);
    Ok(())
}

/// Plain text, then TLS, then plain text again, over one TCP connection.
async fn starttls(
    server_config: Arc<ServerConfig>,
    client_config: Arc<ClientConfig>,
) -> anyio::Result<()> {
    let mut listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    let port = listener.extra::<LocalPort>()?;
    let client = async {
        let mut tcp = anyio::connect_tcp("127.0.0.1", port).await?;
        tcp.send(b"STARTTLS\n").await?;
        expect(&mut tcp, Vec::new(), b"GO AHEAD\n").await?; // before any TLS byte
        let mut tls = TlsStream::connect(tcp, "localhost")
            .config(client_config)
            .await?;
        tls.send(b"the secret part\n").await?;
        // Both ends leave TLS; what the server sent after its close_notify comes back
        // with the TCP stream.
        let (mut tcp, early) = tls.unwrap().await?;
        expect(&mut tcp, early, b"plain again\n").await?;
        println!("  plain text, then TLS, then plain text again");
        anyio::Result::Ok(())
    };
    let server = async {
        let mut tcp = listener.accept().await?;
        expect(&mut tcp, Vec::new(), b"STARTTLS\n").await?;
        tcp.send(b"GO AHEAD\n").await?;
        let mut tls = TlsStream::accept(tcp, server_config).await?;
        expect(&mut tls, Vec::new(), b"the secret part\n").await?;
        let (mut tcp, _) = tls.unwrap().await?;
        tcp.send(b"plain again\n").await?;
        anyio::Result::Ok(())
    };
    anyio::gather!(client, server)?;
    Ok(())
}
// ANCHOR_END: starttls

#[anyio::main]
async fn main() -> anyio::Result<()> {
    let (server_config, client_config) = configs().map_err(anyio::Error::other)?;
    anyio::fail_after(10, async {
        over_any_stream(server_config.clone(), client_config.clone()).await?;
        tls_server(server_config.clone(), client_config.clone()).await?;
        starttls(server_config, client_config).await
    })
    .await?
}
