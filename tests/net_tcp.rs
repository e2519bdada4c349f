//! TCP: connect (with Happy Eyeballs), listen, accept, bytes both ways, attributes, and
//! no descriptor left behind. Loopback only.

mod common;

use std::future::IntoFuture;
use std::net::SocketAddr;

use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream, ByteStream, Listener};
use anyio::net::{
    AddressFamily, Family, LocalAddress, LocalPort, RemoteAddress, RemotePort, SocketAddress,
    TcpListener, TcpStream,
};

use anyio::{ErrorKind, TypedAttributeProvider};
use common::cancel_points::cancel_at_every_suspension;

async fn loopback_listener() -> (TcpListener, u16) {
    let listener = anyio::create_tcp_listener()
        .local_host("127.0.0.1")
        .await
        .unwrap();
    let port = listener.extra::<LocalPort>().unwrap();
    (listener, port)
}

async fn connected_pair() -> (TcpStream, TcpStream) {
    let (mut listener, port) = loopback_listener().await;
    let client = anyio::connect_tcp("127.0.0.1", port).await.unwrap();
    let server = listener.accept().await.unwrap();
    (client, server)
}

#[anyio::test(timeout = 10)]
async fn bytes_go_both_ways_and_send_eof_ends_one_direction() {
    let (mut client, mut server) = connected_pair().await;
    client.send(b"question").await.unwrap();
    assert_eq!(server.receive(64).await.unwrap(), b"question");
    server.send(b"answer").await.unwrap();
    assert_eq!(client.receive(64).await.unwrap(), b"answer");
    client.send_eof().await.unwrap();
    assert_eq!(
        server.receive(64).await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
    server.send(b"still open this way").await.unwrap();
    assert_eq!(client.receive(64).await.unwrap(), b"still open this way");
}

#[anyio::test(timeout = 10)]
async fn a_large_send_arrives_whole_and_in_order() {
    let (mut client, mut server) = connected_pair().await;
    let data: Vec<u8> = (0..1_000_000_u32).map(|n| (n % 251) as u8).collect();
    let received = anyio::task_group!(|tg| {
        let data = &data;
        let client = &mut client;
        tg.start_soon(async move {
            client.send(data).await?;
            client.send_eof().await
        });
        let mut received = Vec::new();
        loop {
            match server.receive(65_536).await {
                Ok(chunk) => received.extend(chunk),
                Err(error) if error.kind() == ErrorKind::EndOfStream => break,
                Err(error) => return Err(error),
            }
        }
        anyio::Result::Ok(received)
    })
    .unwrap()
    .unwrap();
    assert_eq!(received, data);
}

#[anyio::test(timeout = 10)]
async fn the_attributes_name_both_ends() {
    let (client, server) = connected_pair().await;
    let client_local = client.extra::<LocalAddress>().unwrap();
    let server_remote = server.extra::<RemoteAddress>().unwrap();
    assert_eq!(client_local, server_remote);
    assert_eq!(
        client.extra::<RemotePort>().unwrap(),
        server.extra::<LocalPort>().unwrap()
    );
    assert_eq!(client.extra::<Family>().unwrap(), AddressFamily::Inet);
    let SocketAddress::Ip(address) = server.extra::<LocalAddress>().unwrap() else {
        panic!("a TCP stream has an IP address");
    };
    assert!(address.ip().is_loopback());
}

#[anyio::test(timeout = 10)]
async fn a_closed_stream_refuses_further_use_and_the_peer_sees_the_end() {
    let (mut client, mut server) = connected_pair().await;
    client.aclose().await.unwrap();
    assert_eq!(
        client.send(b"x").await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
    assert_eq!(
        server.receive(64).await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
}

#[anyio::test(timeout = 10)]
async fn connecting_to_a_closed_port_reports_the_address_tried() {
    let port = {
        let (listener, port) = loopback_listener().await;
        drop(listener);
        port
    };
    let error = anyio::connect_tcp("127.0.0.1", port).await.unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Io(std::io::ErrorKind::ConnectionRefused)
    );
    let message = error.to_string();
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
}

#[anyio::test(timeout = 10)]
async fn happy_eyeballs_falls_back_at_once_when_an_address_refuses() {
    // "localhost" may resolve to ::1 and 127.0.0.1; only IPv4 listens. A refused attempt
    // starts the next one at once, so even a long delay costs nothing.
    let (mut listener, port) = loopback_listener().await;
    let started = std::time::Instant::now();
    let client = anyio::connect_tcp("localhost", port)
        .happy_eyeballs_delay(5)
        .await
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    let server = listener.accept().await.unwrap();
    assert_eq!(
        client.extra::<LocalAddress>().unwrap(),
        server.extra::<RemoteAddress>().unwrap()
    );
}

#[anyio::test(timeout = 10)]
async fn connecting_with_a_local_address_binds_it() {
    let (mut listener, port) = loopback_listener().await;
    let client = anyio::connect_tcp("127.0.0.1", port)
        .local_host("127.0.0.1")
        .await
        .unwrap();
    let server = listener.accept().await.unwrap();
    let SocketAddress::Ip(local) = client.extra::<LocalAddress>().unwrap() else {
        panic!("an IP address");
    };
    assert_eq!(local.ip().to_string(), "127.0.0.1");
    assert_eq!(server.extra::<RemotePort>().unwrap(), local.port());
}

#[anyio::test(timeout = 10)]
async fn an_unresolvable_host_is_named_in_the_error() {
    let error = anyio::connect_tcp("no-such-host.invalid", 80)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("no-such-host.invalid"),
        "{error}"
    );
}

#[anyio::test(timeout = 10)]
async fn getaddrinfo_resolves_localhost_and_filters_families() {
    let all = anyio::getaddrinfo("localhost", 8080).await.unwrap();
    assert!(!all.is_empty());
    assert!(all.iter().all(|a| a.ip().is_loopback() && a.port() == 8080));
    let v4 = anyio::getaddrinfo("localhost", 8080)
        .family(AddressFamily::Inet)
        .await
        .unwrap();
    assert!(v4.iter().all(SocketAddr::is_ipv4));
    let error = anyio::getaddrinfo("127.0.0.1", 1)
        .family(AddressFamily::Inet6)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("127.0.0.1"), "{error}");
}

#[anyio::test(timeout = 10)]
async fn a_listener_on_all_interfaces_uses_one_port_for_every_family() {
    let listener = anyio::create_tcp_listener().await.unwrap();
    let addresses = listener.local_addresses();
    assert!(!addresses.is_empty());
    let port = addresses[0].port();
    assert!(addresses.iter().all(|a| a.port() == port), "{addresses:?}");
    let mut listener = listener;
    let client = anyio::connect_tcp("127.0.0.1", port).await.unwrap();
    let server = listener.accept().await.unwrap();
    assert_eq!(
        client.extra::<LocalAddress>().unwrap(),
        server.extra::<RemoteAddress>().unwrap()
    );
}

#[anyio::test(timeout = 10)]
async fn listening_on_a_port_in_use_is_an_error_naming_the_address() {
    let (_listener, port) = loopback_listener().await;
    let error = anyio::create_tcp_listener()
        .local_host("127.0.0.1")
        .local_port(port)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io(std::io::ErrorKind::AddrInUse));
    assert!(error.to_string().contains(&port.to_string()), "{error}");
}

#[anyio::test(timeout = 10)]
async fn reuse_port_lets_two_listeners_share_a_port() {
    let first = anyio::create_tcp_listener()
        .local_host("127.0.0.1")
        .reuse_port(true)
        .await
        .unwrap();
    let port = first.extra::<LocalPort>().unwrap();
    let second = anyio::create_tcp_listener()
        .local_host("127.0.0.1")
        .local_port(port)
        .reuse_port(true)
        .await
        .unwrap();
    assert_eq!(second.extra::<LocalPort>().unwrap(), port);
}

#[anyio::test(timeout = 10)]
async fn serve_runs_a_handler_per_connection() {
    let (mut listener, port) = loopback_listener().await;
    let result = anyio::move_on_after(5, async {
        anyio::task_group!(|tg| {
            tg.start_soon(async {
                listener
                    .serve(|mut stream: TcpStream| async move {
                        let request = stream.receive(64).await?;
                        stream.send(&request).await
                    })
                    .await
            });
            for n in 0..3_u8 {
                let mut client = anyio::connect_tcp("127.0.0.1", port).await?;
                client.send(&[n; 4]).await?;
                assert_eq!(client.receive(64).await?, [n; 4]);
            }
            tg.cancel();
            anyio::Result::Ok(())
        })
    })
    .await;
    assert!(result.expect("served in time").is_ok());
}

#[anyio::test(timeout = 10)]
async fn an_accept_cancelled_at_every_suspension_loses_no_connection() {
    cancel_at_every_suspension(20, |point| async move {
        let (mut listener, port) = loopback_listener().await;
        anyio::task_group!(|tg| {
            tg.start_soon(async move {
                let mut client = anyio::connect_tcp("127.0.0.1", port).await?;
                client.send(b"x").await
            });
            let accepted = point.run(listener.accept()).await;
            let completed = accepted.is_some();
            let mut server = match accepted {
                Some(server) => server?,
                // Cancelled: the connection is still queued for the next accept.
                None => listener.accept().await?,
            };
            assert_eq!(server.receive(8).await?, b"x");
            anyio::Result::Ok(completed)
        })
        .unwrap()
        .unwrap()
    })
    .await;
}

#[anyio::test(timeout = 30)]
async fn sixty_four_concurrent_clients_through_serve() {
    let (mut listener, port) = loopback_listener().await;
    let served = anyio::task_group!(|tg| {
        tg.start_soon(async {
            listener
                .serve(|mut stream: TcpStream| async move {
                    loop {
                        match stream.receive(64).await {
                            Ok(bytes) => stream.send(&bytes).await?,
                            Err(end) if end.kind() == ErrorKind::EndOfStream => return Ok(()),
                            Err(error) => return Err(error),
                        }
                    }
                })
                .await
        });
        let answers = anyio::gather((0..64_u8).map(|n| async move {
            let mut client = anyio::connect_tcp("127.0.0.1", port).await?;
            let mut echoed = Vec::new();
            for _ in 0..10 {
                client.send(&[n; 16]).await?;
                let mut got = Vec::new();
                while got.len() < 16 {
                    got.extend(client.receive(16 - got.len()).await?);
                }
                echoed.extend(got);
            }
            anyio::Result::Ok(echoed)
        }))
        .await?;
        tg.cancel();
        anyio::Result::Ok(answers)
    })
    .unwrap()
    .unwrap();
    assert_eq!(served.len(), 64);
    for (n, echoed) in served.iter().enumerate() {
        assert_eq!(echoed, &vec![n as u8; 160]);
    }
}

/// A listener whose accept queue is full: a further connection attempt gets no answer
/// (its SYN is dropped), as from a host that blackholes the traffic.
fn blackhole() -> (std::net::TcpListener, Vec<std::net::TcpStream>, SocketAddr) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    socket.listen(0).unwrap();
    let listener = std::net::TcpListener::from(socket);
    let address = listener.local_addr().unwrap();
    // Fill the queue: connections that are never accepted.
    let mut fillers = Vec::new();
    while fillers.len() < 8 {
        match std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_millis(200))
        {
            Ok(stream) => fillers.push(stream),
            Err(_) => break, // the queue is full: this attempt was not answered
        }
    }
    (listener, fillers, address)
}

#[anyio::test(timeout = 20)]
async fn happy_eyeballs_moves_on_from_an_address_that_blackholes() {
    let (_blackhole, _fillers, unanswered) = blackhole();
    let (mut listener, port) = loopback_listener().await;
    let good = SocketAddr::from(([127, 0, 0, 1], port));
    // The first attempt never completes; after the delay the second one wins, and the
    // first is cancelled (its socket closed).
    let client = anyio::fail_after(
        10,
        anyio::net::connect_tcp_addresses([unanswered, good])
            .happy_eyeballs_delay(0.05)
            .into_future(),
    )
    .await
    .expect("the blackholed address held the connection up")
    .unwrap();
    assert_eq!(client.extra::<RemotePort>().unwrap(), port);
    let _server = listener.accept().await.unwrap();
}

#[anyio::test(timeout = 20)]
async fn a_refused_attempt_starts_the_next_at_once_whatever_the_delay() {
    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap(); // the listener is dropped: the port refuses
    let (_listener, port) = loopback_listener().await;
    let good = SocketAddr::from(([127, 0, 0, 1], port));
    // A delay of an hour: only the refusal can start the second attempt in time.
    let client = anyio::fail_after(
        10,
        anyio::net::connect_tcp_addresses([refused, good])
            .happy_eyeballs_delay(3600)
            .into_future(),
    )
    .await
    .expect("the refusal did not start the next attempt")
    .unwrap();
    assert_eq!(client.extra::<RemotePort>().unwrap(), port);
}

#[anyio::test(timeout = 10)]
async fn every_failed_address_is_reported() {
    let closed = |_| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    };
    let addresses: Vec<SocketAddr> = (0..3).map(closed).collect();
    let error = anyio::net::connect_tcp_addresses(addresses.clone())
        .await
        .unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Io(std::io::ErrorKind::ConnectionRefused)
    );
    let message = error.to_string();
    assert!(message.contains("tried 3"), "{message}");
    for address in addresses {
        assert!(message.contains(&address.to_string()), "{message}");
    }
    let none = anyio::net::connect_tcp_addresses([]).await.unwrap_err();
    assert_eq!(none.kind(), ErrorKind::Io(std::io::ErrorKind::InvalidInput));
}

#[anyio::test(timeout = 10)]
async fn a_host_name_that_is_not_valid_idna_is_named() {
    let error = anyio::connect_tcp("bad\u{fffd}name.example", 80)
        .await
        .unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Io(std::io::ErrorKind::InvalidInput)
    );
    assert!(
        error.to_string().contains("bad\u{fffd}name.example"),
        "{error}"
    );
}

/// Blocks its thread until `parties` threads are inside, or `patience` passed: `true`
/// if they all met.
struct Rendezvous {
    arrived: std::sync::Mutex<usize>,
    all_in: std::sync::Condvar,
}

impl Rendezvous {
    fn meet(&self, parties: usize, patience: std::time::Duration) -> bool {
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.all_in.notify_all();
        let (arrived, _) = self
            .all_in
            .wait_timeout_while(arrived, patience, |arrived| *arrived < parties)
            .unwrap();
        *arrived >= parties
    }
}

#[anyio::test(timeout = 20, worker_threads = 2)]
async fn serve_runs_handlers_in_parallel_on_the_worker_threads() {
    let (mut listener, port) = loopback_listener().await;
    // Both clients are queued before serve starts, so both handlers are spawned at once.
    let mut clients = Vec::new();
    for _ in 0..2 {
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        clients.push(TcpStream::from_std(client).unwrap());
    }
    let rendezvous = std::sync::Arc::new(Rendezvous {
        arrived: std::sync::Mutex::new(0),
        all_in: std::sync::Condvar::new(),
    });
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            listener
                .serve(move |mut stream: TcpStream| {
                    let rendezvous = rendezvous.clone();
                    async move {
                        // Each handler blocks its thread until the other one is running
                        // too: only handlers on two threads at once can both say yes.
                        let met = rendezvous.meet(2, std::time::Duration::from_secs(5));
                        stream.send(if met { b"y" } else { b"n" }).await
                    }
                })
                .await
        });
        for client in &mut clients {
            assert_eq!(
                client.receive(1).await?,
                b"y",
                "the handlers did not run in parallel"
            );
        }
        tg.cancel();
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn serve_local_handlers_borrow_from_the_caller() {
    let (mut listener, port) = loopback_listener().await;
    let greeted = std::sync::Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            listener
                .serve_local(|mut stream: TcpStream| {
                    let greeted = &greeted; // a borrow, not an Arc
                    async move {
                        let name = stream.receive(64).await?;
                        greeted.lock().unwrap().push(name);
                        stream.send(b"hello").await
                    }
                })
                .await
        });
        for name in ["ann", "bob"] {
            let mut client = anyio::connect_tcp("127.0.0.1", port).await?;
            client.send(name.as_bytes()).await?;
            assert_eq!(client.receive(64).await?, b"hello");
        }
        tg.cancel();
        anyio::Result::Ok(())
    })
    .unwrap();
    assert_eq!(
        greeted.into_inner().unwrap(),
        [b"ann".to_vec(), b"bob".to_vec()]
    );
}

#[anyio::test(timeout = 10, worker_threads = 2)]
async fn a_failing_handler_ends_serve_with_its_error() {
    let (mut listener, port) = loopback_listener().await;
    let error = anyio::task_group!(|tg| {
        tg.start_soon(async move {
            let _client = anyio::connect_tcp("127.0.0.1", port).await?;
            anyio::sleep_forever().await;
            anyio::Result::Ok(())
        });
        listener
            .serve(|_stream: TcpStream| async move {
                Err::<(), _>(anyio::Error::other("the handler gave up"))
            })
            .await
    })
    .unwrap_err();
    assert!(error.to_string().contains("the handler gave up"), "{error}");
}

#[anyio::test(timeout = 10)]
async fn a_split_stream_receives_and_sends_at_once() {
    let (mut client, mut server) = connected_pair().await;
    let (mut reader, mut writer) = client.split();
    assert_eq!(
        reader.extra::<RemotePort>().unwrap(),
        writer.extra::<RemotePort>().unwrap()
    );
    anyio::task_group!(|tg| {
        // The reader waits first; the writer's data comes back through the server.
        tg.start_soon(async {
            assert_eq!(reader.receive(64).await?, b"round trip");
            anyio::Result::Ok(())
        });
        anyio::wait_all_tasks_blocked().await;
        writer.send(b"round trip").await?;
        let request = server.receive(64).await?;
        server.send(&request).await?;
        // Closing the send half is a half-close: the server sees the end.
        writer.aclose().await?;
        let end = server.receive(64).await.unwrap_err();
        assert_eq!(end.kind(), ErrorKind::EndOfStream);
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn a_reset_connection_is_broken_with_the_system_error_as_its_cause() {
    let (mut listener, port) = loopback_listener().await;
    let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut server = listener.accept().await.unwrap();
    // Closing with a zero linger time resets the connection.
    socket2::SockRef::from(&client)
        .set_linger(Some(std::time::Duration::ZERO))
        .unwrap();
    drop(client);
    let error = server.receive(64).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BrokenResource);
    let cause = std::error::Error::source(&error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .expect("the system's error is the cause");
    assert_eq!(cause.kind(), std::io::ErrorKind::ConnectionReset);
    // After the local close, the stream is closed rather than broken.
    server.aclose().await.unwrap();
    assert_eq!(
        server.receive(64).await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
}

#[anyio::test(timeout = 10)]
async fn sending_to_a_peer_that_closed_ends_in_a_broken_resource() {
    let (mut client, server) = connected_pair().await;
    drop(server);
    let mut outcome = Ok(());
    for _ in 0..200 {
        outcome = client.send(b"anyone there?").await;
        if outcome.is_err() {
            break;
        }
        anyio::sleep(0.005).await;
    }
    assert_eq!(outcome.unwrap_err().kind(), ErrorKind::BrokenResource);
    client.aclose().await.unwrap();
    assert_eq!(
        client.send(b"x").await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
}
