//! A TLS echo server and its clients in one program, on loopback. At start it makes a
//! certificate authority and a certificate for "localhost" and 127.0.0.1 (with rcgen),
//! then serves TLS with a `TlsListener` over a TCP listener. The listener runs the
//! handshakes side by side, so a client that sends garbage instead of a TLS hello is
//! dropped (and logged through `tracing` at debug level) without holding up anyone;
//! the handlers catch their own errors, so a client that misbehaves after its
//! handshake ends only its own connection. The clients connect with
//! `connect_tcp(..).tls_config(..)`, which verifies the server's certificate against
//! the authority made here.
//!
//! Run it with `cargo run --example tls_echo`.

use std::error::Error;
use std::sync::Arc;

use anyio::TypedAttributeProvider;
use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream, Listener};
use anyio::net::{LocalPort, RemoteAddress, TcpStream};
use anyio::streams::tls::{CipherSuite, TlsListener, TlsStream, TlsVersion};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// How many well-behaved clients connect.
const CLIENTS: usize = 3;

/// A server configuration with a certificate for "localhost" and 127.0.0.1, signed by a
/// certificate authority made for the occasion, and a client configuration that trusts
/// that authority (and nothing else).
fn configs() -> Result<(Arc<ServerConfig>, Arc<ClientConfig>), Box<dyn Error + Send + Sync>> {
    // The certificate authority: self-signed, allowed to sign others.
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "tls_echo example CA");
    let ca = ca_params.self_signed(&ca_key)?;

    // The server's certificate: names that parse as IP addresses become IP names.
    let server_key = KeyPair::generate()?;
    let mut server_params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "tls_echo example server");
    let server_cert = server_params.signed_by(&server_key, &ca, &ca_key)?;
    let server_key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![server_cert.der().clone()], server_key)?;

    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone())?;
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok((Arc::new(server), Arc::new(client)))
}

/// Echoes one client's bytes until it closes the TLS session; never fails, so one bad
/// client cannot end the server (a handler's failure would end `serve`, as in AnyIO).
async fn handle(mut stream: TlsStream<TcpStream>) {
    let peer = stream
        .extra::<RemoteAddress>()
        .map(|address| address.to_string())
        .unwrap_or_default();
    let outcome: anyio::Result<usize> = async {
        let mut echoed = 0;
        loop {
            // A client that stays silent for two seconds is dropped.
            let chunk = match anyio::fail_after(2, stream.receive(1024)).await? {
                Ok(chunk) => chunk,
                // The client's close_notify: a clean end.
                Err(error) if error.kind() == anyio::ErrorKind::EndOfStream => break,
                Err(error) => return Err(error),
            };
            stream.send(&chunk).await?;
            echoed += chunk.len();
        }
        Ok(echoed)
    }
    .await;
    match outcome {
        Ok(bytes) => println!("  server: {peer} done, echoed {bytes} bytes"),
        Err(error) => println!("  server: {peer} dropped: {error}"),
    }
}

/// A well-behaved client: connects over TLS (verifying the server's certificate for
/// "localhost"), sends lines, reads each back, and closes the session.
async fn good_client(port: u16, id: usize, config: Arc<ClientConfig>) -> anyio::Result<()> {
    let mut stream = anyio::connect_tcp("localhost", port)
        .tls_config(config)
        .await?;
    if id == 0 {
        println!(
            "client 0: negotiated {} with {}",
            stream.extra::<TlsVersion>()?,
            stream.extra::<CipherSuite>()?
        );
    }
    for n in 0..3 {
        let line = format!("client {id} line {n}\n");
        stream.send(line.as_bytes()).await?;
        let mut back = Vec::new();
        while back.len() < line.len() {
            back.extend(stream.receive(1024).await?);
        }
        assert_eq!(back, line.as_bytes(), "client {id} got a wrong echo");
    }
    stream.aclose().await?; // sends close_notify: the server sees a clean end
    println!("client {id}: all lines came back");
    Ok(())
}

/// A client that speaks plain HTTP to the TLS port. Its handshake fails, so the server
/// closes the connection (its handler never runs); the listener logs the failure and
/// goes on serving.
async fn garbage_client(port: u16) -> anyio::Result<()> {
    let mut stream = anyio::connect_tcp("127.0.0.1", port).await?;
    stream
        .send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await?;
    let mut answer = Vec::new();
    // Whatever the server sends until it closes the connection.
    let end = loop {
        match stream.receive(1024).await {
            Ok(bytes) => answer.extend(bytes),
            Err(end) => break end,
        }
    };
    println!(
        "garbage client: the server hung up ({}) after {} bytes back",
        end.kind(),
        answer.len()
    );
    Ok(())
}

#[anyio::main]
async fn main() -> anyio::Result<()> {
    let (server_config, client_config) = configs().map_err(anyio::Error::other)?;
    let tcp = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    let port = tcp.extra::<LocalPort>()?;
    // A client that has not finished its handshake within 5 s is dropped.
    let mut listener = TlsListener::new(tcp, server_config).handshake_timeout(5);
    println!("TLS echo server on 127.0.0.1:{port}");
    // Each handler reports here when its client is done, so the server stops only
    // after every handler had its say.
    let (done_tx, done_rx) = anyio::create_memory_object_stream::<()>(CLIENTS);
    anyio::fail_after(10, async {
        anyio::task_group!(|tg| {
            tg.start_soon(async {
                listener
                    .serve(move |stream| {
                        let done = done_tx.clone();
                        async move {
                            handle(stream).await;
                            let _ = done.send(()).await;
                        }
                    })
                    .await
            });
            // The garbage first: the server survives it and serves the others.
            garbage_client(port).await?;
            anyio::task_group!(|clients| {
                for id in 0..CLIENTS {
                    clients.start_soon(good_client(port, id, client_config.clone()));
                }
            })?;
            for _ in 0..CLIENTS {
                done_rx.receive().await?;
            }
            tg.cancel(); // stops the server
            anyio::Result::Ok(())
        })
    })
    .await??;
    println!("all clients served; the server stopped");
    Ok(())
}
