//! The TLS listener: good clients are served while a client that stalls, one that sends
//! garbage and one that leaves mid-handshake are dropped (and logged, once each, at
//! debug level, with the error), a cancelled accept keeps the handshakes in progress,
//! and `connect_tcp(..).tls()`. Loopback only.

#[path = "support/tls_certs.rs"]
mod tls_certs;

use std::fmt;
use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream, Listener};
use anyio::net::LocalPort;
use anyio::streams::tls::{ServerSide, StandardCompatible, TlsListener, TlsStream};
use anyio::{ErrorKind, TypedAttributeProvider};
use tls_certs::{Pki, server_config};

async fn tls_listener(pki: &Pki) -> (TlsListener<anyio::net::TcpListener>, u16) {
    let identity = pki.issue(&["localhost", "127.0.0.1"]);
    let tcp = anyio::create_tcp_listener()
        .local_host("127.0.0.1")
        .await
        .unwrap();
    let port = tcp.extra::<LocalPort>().unwrap();
    let listener = TlsListener::new(tcp, Arc::new(server_config(&identity)));
    (listener, port)
}

/// A client that completes a handshake and exchanges one line.
async fn good_client(pki: &Pki, port: u16) -> anyio::Result<Vec<u8>> {
    let tcp = anyio::connect_tcp("127.0.0.1", port).await?;
    let mut tls = TlsStream::connect(tcp, "localhost")
        .config(Arc::new(pki.client_config()))
        .await?;
    tls.send(b"ping").await?;
    let answer = tls.receive(64).await?;
    tls.aclose().await?;
    Ok(answer)
}

#[anyio::test(timeout = 20)]
async fn bad_clients_are_dropped_while_good_ones_are_served() {
    let pki = Pki::new("listener");
    let (listener, port) = tls_listener(&pki).await;
    let mut listener = listener.handshake_timeout(1);
    let served = AtomicUsize::new(0);
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            listener
                .serve_local(|mut stream| {
                    let served = &served;
                    async move {
                        assert!(stream.extra::<ServerSide>().unwrap());
                        let request = stream.receive(64).await?;
                        stream.send(&request).await?;
                        served.fetch_add(1, Ordering::Relaxed);
                        anyio::Result::Ok(())
                    }
                })
                .await
        });
        // A client that connects and says nothing (until the handshake timeout).
        let _staller = anyio::connect_tcp("127.0.0.1", port).await?;
        // A client that sends garbage.
        let mut garbage = anyio::connect_tcp("127.0.0.1", port).await?;
        garbage.send(b"GET / HTTP/1.1\r\n\r\n").await?;
        // A client that leaves in the middle of its handshake.
        let mut leaver = anyio::connect_tcp("127.0.0.1", port).await?;
        leaver.send(&[0x16, 0x03, 0x01, 0x00, 0x50, 0x01]).await?;
        leaver.aclose().await?;
        // Good clients are served meanwhile (the stalled handshake holds nobody up).
        for _ in 0..3 {
            assert_eq!(good_client(&pki, port).await?, b"ping");
        }
        // The garbage client was told off and dropped.
        let dropped = garbage.receive(64).await;
        assert!(dropped.is_err() || !dropped.unwrap().is_empty());
        tg.cancel();
        anyio::Result::Ok(())
    })
    .unwrap();
    assert_eq!(served.load(Ordering::Relaxed), 3);
}

#[anyio::test(timeout = 20)]
async fn a_stalled_client_is_dropped_at_the_handshake_timeout() {
    let pki = Pki::new("stall");
    let (listener, port) = tls_listener(&pki).await;
    let mut listener = listener.handshake_timeout(0.2);
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            let _ = listener.accept().await;
        });
        let mut staller = anyio::connect_tcp("127.0.0.1", port).await?;
        // The server gives up on the handshake and closes the connection.
        let end = staller.receive(64).await.unwrap_err();
        assert!(
            matches!(
                end.kind(),
                ErrorKind::EndOfStream | ErrorKind::BrokenResource
            ),
            "{end}"
        );
        tg.cancel();
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 20)]
async fn a_cancelled_accept_keeps_the_handshake_in_progress() {
    let pki = Pki::new("cancelled-accept");
    let (mut listener, port) = tls_listener(&pki).await;
    let client_config = Arc::new(pki.client_config());
    anyio::task_group!(|tg| {
        let (connected_tx, connected_rx) = anyio::create_memory_object_stream::<()>(1);
        let (go_tx, go_rx) = anyio::create_memory_object_stream::<()>(1);
        tg.start_soon(async move {
            let tcp = anyio::connect_tcp("127.0.0.1", port).await?;
            connected_tx.send(()).await?;
            go_rx.receive().await?;
            let mut tls = TlsStream::connect(tcp, "localhost")
                .config(client_config)
                .await?;
            tls.send(b"made it").await?;
            anyio::Result::Ok(())
        });
        // The connection is accepted, its handshake started, then the accept cancelled.
        connected_rx.receive().await?;
        let first = anyio::move_on_after(0.1, listener.accept()).await;
        assert!(first.is_none());
        go_tx.send(()).await?;
        let mut stream = listener.accept().await?;
        assert_eq!(stream.receive(64).await?, b"made it");
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn the_listener_has_its_listeners_attributes() {
    let pki = Pki::new("listener-attributes");
    let (listener, port) = tls_listener(&pki).await;
    assert_eq!(listener.extra::<LocalPort>().unwrap(), port);
    assert!(listener.extra::<StandardCompatible>().unwrap());
    let relaxed = listener.standard_compatible(false);
    assert!(!relaxed.extra::<StandardCompatible>().unwrap());
}

#[anyio::test(timeout = 10)]
async fn connect_tcp_tls_connects_and_verifies() {
    let pki = Pki::new("connect-tcp");
    let (mut listener, port) = tls_listener(&pki).await;
    let config = Arc::new(pki.client_config());
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            loop {
                // Refused handshakes end on the client's side; accept goes on.
                let mut stream = listener.accept().await?;
                let request = stream.receive(64).await?;
                stream.send(&request).await?;
            }
            #[allow(unreachable_code)]
            anyio::Result::Ok(())
        });
        let mut client = anyio::connect_tcp("localhost", port)
            .tls_config(config.clone())
            .await?;
        client.send(b"over connect_tcp").await?;
        assert_eq!(client.receive(64).await?, b"over connect_tcp");
        // Another name to verify than the one connected to.
        let error = anyio::connect_tcp("127.0.0.1", port)
            .tls_config(config.clone())
            .tls_hostname("elsewhere.test")
            .await
            .unwrap_err();
        assert!(error.to_string().contains("elsewhere.test"), "{error}");
        // The bundled roots do not trust a private authority.
        let error = anyio::connect_tcp("localhost", port)
            .tls()
            .await
            .unwrap_err();
        assert!(error.to_string().contains("not trusted"), "{error}");
        tg.cancel();
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn connect_tcp_tls_can_tolerate_a_bare_close() {
    let pki = Pki::new("connect-tcp-relaxed");
    let (mut listener, port) = tls_listener(&pki).await;
    let config = Arc::new(pki.client_config());
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            let mut stream = listener.accept().await?;
            stream.send(b"bye").await?;
            drop(stream); // no close_notify
            anyio::Result::Ok(())
        });
        let mut client = anyio::connect_tcp("127.0.0.1", port)
            .tls_config(config)
            .tls_hostname("localhost")
            .tls_standard_compatible(false)
            .into_future()
            .await?;
        assert_eq!(client.receive(64).await?, b"bye");
        assert_eq!(
            client.receive(64).await.unwrap_err().kind(),
            ErrorKind::EndOfStream
        );
        anyio::Result::Ok(())
    })
    .unwrap();
}

/// One event a [`Recorder`] saw: its level, its target and its fields (name and value,
/// the value as its `Debug` text, which for a `%value` field is its `Display` text).
#[derive(Debug, Clone)]
struct Logged {
    level: tracing::Level,
    target: String,
    fields: Vec<(String, String)>,
}

impl Logged {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A minimal `tracing` subscriber: records every event, ignores spans.
struct Recorder {
    events: Arc<Mutex<Vec<Logged>>>,
}

struct FieldsVisitor<'a>(&'a mut Vec<(String, String)>);

impl tracing::field::Visit for FieldsVisitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

impl tracing::Subscriber for Recorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Vec::new();
        event.record(&mut FieldsVisitor(&mut fields));
        self.events.lock().unwrap().push(Logged {
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            fields,
        });
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

/// Reads until the server ends the connection (it drops a client whose handshake failed
/// only after logging the failure).
async fn until_dropped(client: &mut anyio::net::TcpStream) {
    while client.receive(1024).await.is_ok() {}
}

#[test]
fn each_failed_handshake_is_logged_once_at_debug_level_with_its_error() {
    const GARBAGE_CLIENTS: usize = 2;
    let events = Arc::new(Mutex::new(Vec::new()));
    let recorder = Recorder {
        events: events.clone(),
    };
    // The subscriber is this thread's, and with no worker threads the listener's
    // handshakes (and their logs) run on this thread too.
    tracing::subscriber::with_default(recorder, || {
        let runtime = anyio::Runtime::builder().worker_threads(0).build().unwrap();
        runtime
            .block_on(anyio::fail_after(10, async {
                let pki = Pki::new("logged");
                let (listener, port) = tls_listener(&pki).await;
                let mut listener = listener.handshake_timeout(1);
                anyio::task_group!(|tg| {
                    tg.start_soon(async {
                        listener
                            .serve(|mut stream| async move {
                                let request = stream.receive(64).await?;
                                stream.send(&request).await
                            })
                            .await
                    });
                    // A client that says nothing: dropped at the handshake timeout.
                    let mut staller = anyio::connect_tcp("127.0.0.1", port).await?;
                    // Clients that speak HTTP to the TLS port.
                    for _ in 0..GARBAGE_CLIENTS {
                        let mut garbage = anyio::connect_tcp("127.0.0.1", port).await?;
                        garbage.send(b"GET / HTTP/1.1\r\n\r\n").await?;
                        until_dropped(&mut garbage).await;
                    }
                    // A good client's handshake is not logged.
                    assert_eq!(good_client(&pki, port).await?, b"ping");
                    until_dropped(&mut staller).await;
                    tg.cancel();
                    anyio::Result::Ok(())
                })
            }))
            .unwrap()
            .unwrap();
    });
    let events = events.lock().unwrap();
    let logged: Vec<&Logged> = events
        .iter()
        .filter(|event| event.target.starts_with("anyio"))
        .collect();
    assert_eq!(logged.len(), GARBAGE_CLIENTS + 1, "{logged:#?}");
    for event in &logged {
        assert_eq!(event.level, tracing::Level::DEBUG, "{event:?}");
        assert!(event.field("error").is_some(), "no error field: {event:?}");
    }
    let errors: Vec<&str> = logged.iter().filter_map(|e| e.field("error")).collect();
    let garbage = errors
        .iter()
        .filter(|error| error.contains("did not speak TLS"))
        .count();
    assert_eq!(garbage, GARBAGE_CLIENTS, "{errors:#?}");
    let stalled = errors
        .iter()
        .filter(|error| error.contains("did not finish its TLS handshake"))
        .count();
    assert_eq!(stalled, 1, "{errors:#?}");
}
