//! TLS benchmarks over loopback, side by side in one run with tokio-rustls on tokio
//! (both on rustls with the ring provider, one thread each): an echo of 64-byte messages
//! (10 connections x 1,000 round trips) and the handshake rate (TCP connect, TLS 1.3
//! handshake, close, one after the other).
//!
//! Run with `cargo bench --bench tls` (add `-- quick` for fewer repetitions). Reports the
//! median time per operation and anyio's ratio to tokio-rustls.

mod harness;

use std::sync::Arc;
use std::time::Duration;

use harness::{anyio_runtime, measure, timed};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

const CONNECTIONS: usize = 10;
const ROUND_TRIPS: usize = 1_000;
const MESSAGE: usize = 64;
const HANDSHAKES: usize = 300;

struct Configs {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
}

/// A fresh pair of configurations (so that no contender resumes another's sessions).
fn configs() -> Configs {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = CertificateDer::from(made.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Configs {
        client: Arc::new(client),
        server: Arc::new(server),
    }
}

// ---- anyio ----

async fn anyio_echo(configs: &Configs) -> Duration {
    use anyio::TypedAttributeProvider;
    use anyio::abc::{ByteReceiveStream, ByteSendStream, Listener};
    use anyio::streams::tls::{TlsListener, TlsStream};
    let tcp = anyio::create_tcp_listener()
        .local_host("127.0.0.1")
        .await
        .unwrap();
    let port = tcp.extra::<anyio::net::LocalPort>().unwrap();
    let mut listener = TlsListener::new(tcp, configs.server.clone());
    let mut elapsed = Duration::ZERO;
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            listener
                .serve(|mut stream| async move {
                    let mut buffer = Vec::with_capacity(MESSAGE);
                    loop {
                        match stream.receive(MESSAGE - buffer.len()).await {
                            Ok(bytes) => buffer.extend(bytes),
                            Err(_) => return,
                        }
                        if buffer.len() == MESSAGE {
                            if stream.send(&buffer).await.is_err() {
                                return;
                            }
                            buffer.clear();
                        }
                    }
                })
                .await
        });
        let mut clients = Vec::new();
        for _ in 0..CONNECTIONS {
            let tcp = anyio::connect_tcp("127.0.0.1", port).await.unwrap();
            let stream = TlsStream::connect(tcp, "localhost")
                .config(configs.client.clone())
                .await
                .unwrap();
            clients.push(stream);
        }
        elapsed = timed(async {
            anyio::task_group!(|group| {
                for mut stream in clients.drain(..) {
                    group.start_soon(async move {
                        let message = [7_u8; MESSAGE];
                        for _ in 0..ROUND_TRIPS {
                            stream.send(&message).await?;
                            let mut received = 0;
                            while received < MESSAGE {
                                received += stream.receive(MESSAGE - received).await?.len();
                            }
                        }
                        anyio::Result::Ok(())
                    });
                }
            })
            .unwrap();
        })
        .await;
        tg.cancel();
    })
    .unwrap();
    elapsed
}

async fn anyio_handshakes(configs: &Configs) -> Duration {
    use anyio::TypedAttributeProvider;
    use anyio::abc::{AsyncResource, Listener};
    use anyio::streams::tls::{TlsListener, TlsStream};
    let tcp = anyio::create_tcp_listener()
        .local_host("127.0.0.1")
        .await
        .unwrap();
    let port = tcp.extra::<anyio::net::LocalPort>().unwrap();
    let mut listener = TlsListener::new(tcp, configs.server.clone());
    let mut elapsed = Duration::ZERO;
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            loop {
                let Ok(stream) = listener.accept().await else {
                    return;
                };
                drop(stream);
            }
        });
        elapsed = timed(async {
            for _ in 0..HANDSHAKES {
                let tcp = anyio::connect_tcp("127.0.0.1", port).await.unwrap();
                let mut stream = TlsStream::connect(tcp, "localhost")
                    .config(configs.client.clone())
                    .await
                    .unwrap();
                stream.aclose().await.unwrap();
            }
        })
        .await;
        tg.cancel();
    })
    .unwrap();
    elapsed
}

// ---- tokio-rustls ----

async fn tokio_echo(configs: &Configs) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(configs.server.clone());
    let server = tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tcp.set_nodelay(true).unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buffer = [0_u8; MESSAGE];
                while stream.read_exact(&mut buffer).await.is_ok() {
                    if stream.write_all(&buffer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let connector = tokio_rustls::TlsConnector::from(configs.client.clone());
    let mut clients = Vec::new();
    for _ in 0..CONNECTIONS {
        let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        clients.push(connector.connect(name, tcp).await.unwrap());
    }
    let elapsed = timed(async {
        let tasks: Vec<_> = clients
            .into_iter()
            .map(|mut stream| {
                tokio::spawn(async move {
                    let message = [7_u8; MESSAGE];
                    let mut buffer = [0_u8; MESSAGE];
                    for _ in 0..ROUND_TRIPS {
                        stream.write_all(&message).await.unwrap();
                        stream.read_exact(&mut buffer).await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    })
    .await;
    server.abort();
    elapsed
}

async fn tokio_handshakes(configs: &Configs) -> Duration {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(configs.server.clone());
    let server = tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tcp.set_nodelay(true).unwrap();
            if let Ok(stream) = acceptor.accept(tcp).await {
                drop(stream);
            }
        }
    });
    let connector = tokio_rustls::TlsConnector::from(configs.client.clone());
    let elapsed = timed(async {
        for _ in 0..HANDSHAKES {
            let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
            tcp.set_nodelay(true).unwrap();
            let name = ServerName::try_from("localhost").unwrap();
            let mut stream = connector.connect(name, tcp).await.unwrap();
            stream.shutdown().await.unwrap();
        }
    })
    .await;
    server.abort();
    elapsed
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let reps = if quick { 3 } else { 7 };
    let rt = anyio_runtime(0);
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (anyio_configs, tokio_configs) = (configs(), configs());
    println!(
        "{:<34} {:>10} {:>14} {:>10}  anyio/peer",
        "case (1 thread)", "anyio ns", "peer", "peer ns"
    );
    let echo_ops = CONNECTIONS * ROUND_TRIPS;
    let anyio_echo_ns = measure(reps, echo_ops, || rt.block_on(anyio_echo(&anyio_configs)));
    let tokio_echo_ns = measure(reps, echo_ops, || {
        tokio_rt.block_on(tokio_echo(&tokio_configs))
    });
    let anyio_hs_ns = measure(reps, HANDSHAKES, || {
        rt.block_on(anyio_handshakes(&anyio_configs))
    });
    let tokio_hs_ns = measure(reps, HANDSHAKES, || {
        tokio_rt.block_on(tokio_handshakes(&tokio_configs))
    });
    for (case, anyio_ns, tokio_ns) in [
        (
            "TLS echo 10x1000x64 B (per trip)",
            anyio_echo_ns,
            tokio_echo_ns,
        ),
        ("connect + TLS handshake + close", anyio_hs_ns, tokio_hs_ns),
    ] {
        println!(
            "{case:<34} {anyio_ns:>10.0} {:>14} {tokio_ns:>10.0}  {:>6.2}x",
            "tokio-rustls",
            anyio_ns / tokio_ns
        );
    }
    println!("(median ns per operation of {reps} runs; ratios below 1 mean anyio is faster)");
}
