//! UDP and UNIX datagram sockets (AnyIO's SOCK-32..36): round trips that report the
//! sender, connected sockets, iteration, attributes, errors that name their input, and
//! receives cancelled at every suspension. Loopback and temporary directories only.

mod common;

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use anyio::abc::{AsyncResource, UnreliableObjectReceiveStream, UnreliableObjectSendStream};
use anyio::net::{
    AddressFamily, Family, LocalAddress, LocalPort, RawSocket, RemoteAddress, RemotePort,
    SocketAddress, UdpSocket,
};
use anyio::{ErrorKind, TypedAttributeProvider};
use common::cancel_points::cancel_at_every_suspension;
use futures_lite::StreamExt;

async fn loopback_udp() -> (UdpSocket, u16) {
    let socket = anyio::create_udp_socket()
        .local_host("127.0.0.1")
        .await
        .unwrap();
    let port = socket.extra::<LocalPort>().unwrap();
    (socket, port)
}

/// A fresh directory for one test's socket files (removed when dropped).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("anyio-net-dgram-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---- UDP ----

#[anyio::test(timeout = 10)]
async fn a_udp_round_trip_reports_the_sender() {
    let (mut server, server_port) = loopback_udp().await;
    let (mut client, client_port) = loopback_udp().await;
    client
        .send_to(b"hello", "127.0.0.1", server_port)
        .await
        .unwrap();
    let (data, sender) = server.receive().await.unwrap();
    assert_eq!(data, b"hello");
    assert_eq!(sender, SocketAddr::from(([127, 0, 0, 1], client_port)));
    // The object stream's send takes the pair a receive gives.
    UnreliableObjectSendStream::send(&mut server, (b"back".to_vec(), sender))
        .await
        .unwrap();
    let (reply, from) = UnreliableObjectReceiveStream::receive(&mut client)
        .await
        .unwrap();
    assert_eq!((reply.as_slice(), from.port()), (&b"back"[..], server_port));
}

#[anyio::test(timeout = 10)]
async fn an_iterated_udp_echo_server_answers_every_datagram() {
    let (mut server, port) = loopback_udp().await;
    let (mut client, _) = loopback_udp().await;
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            // Echo three datagrams, read as a stream.
            for _ in 0..3 {
                let (data, sender) = server.next().await.expect("open")?;
                UnreliableObjectSendStream::send(&mut server, (data, sender)).await?;
            }
            anyio::Result::Ok(())
        });
        for n in 0..3_u8 {
            client.send_to(&[n; 10], "127.0.0.1", port).await?;
            let (echo, _) = client.receive().await?;
            assert_eq!(echo, [n; 10]);
        }
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn a_connected_udp_socket_sends_and_receives_without_addresses() {
    let (mut server, port) = loopback_udp().await;
    let mut client = anyio::create_connected_udp_socket("127.0.0.1", port)
        .await
        .unwrap();
    assert_eq!(client.extra::<RemotePort>().unwrap(), port);
    assert_eq!(
        client.extra::<RemoteAddress>().unwrap(),
        SocketAddress::Ip(SocketAddr::from(([127, 0, 0, 1], port)))
    );
    client.send(b"one").await.unwrap();
    UnreliableObjectSendStream::send(&mut client, b"two".to_vec())
        .await
        .unwrap();
    let (first, from) = server.receive().await.unwrap();
    let (second, _) = server.receive().await.unwrap();
    assert_eq!(
        (first.as_slice(), second.as_slice()),
        (&b"one"[..], &b"two"[..])
    );
    assert_eq!(from.port(), client.extra::<LocalPort>().unwrap());
    server
        .send_to(b"three", from.ip(), from.port())
        .await
        .unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), b"three");
}

#[anyio::test(timeout = 10)]
async fn reuse_port_lets_two_udp_sockets_bind_one_port() {
    let first = anyio::create_udp_socket()
        .local_host("127.0.0.1")
        .reuse_port(true)
        .await
        .unwrap();
    let port = first.extra::<LocalPort>().unwrap();
    let second = anyio::create_udp_socket()
        .local_host("127.0.0.1")
        .local_port(port)
        .reuse_port(true)
        .await
        .unwrap();
    assert_eq!(second.extra::<LocalPort>().unwrap(), port);
    // A connected socket may share it too.
    let (_, other) = loopback_udp().await;
    let third = anyio::create_connected_udp_socket("127.0.0.1", other)
        .local_host("127.0.0.1")
        .local_port(port)
        .reuse_port(true)
        .await
        .unwrap();
    assert_eq!(third.extra::<LocalPort>().unwrap(), port);
}

#[anyio::test(timeout = 10)]
async fn a_port_in_use_is_an_error_naming_the_address() {
    let (_first, port) = loopback_udp().await;
    let error = anyio::create_udp_socket()
        .local_host("127.0.0.1")
        .local_port(port)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io(std::io::ErrorKind::AddrInUse));
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{port}")),
        "{error}"
    );
}

#[anyio::test(timeout = 10)]
async fn a_socket_with_no_local_host_still_gets_a_port() {
    let socket = anyio::create_udp_socket().await.unwrap();
    assert_ne!(socket.extra::<LocalPort>().unwrap(), 0);
    assert_eq!(socket.extra::<Family>().unwrap(), AddressFamily::Inet);
    let v6 = anyio::create_udp_socket()
        .family(AddressFamily::Inet6)
        .await
        .unwrap();
    assert_ne!(v6.extra::<LocalPort>().unwrap(), 0);
    assert_eq!(v6.extra::<Family>().unwrap(), AddressFamily::Inet6);
}

#[anyio::test(timeout = 10)]
async fn aclose_releases_the_address_at_once() {
    let (mut socket, port) = loopback_udp().await;
    socket.aclose().await.unwrap();
    let again = anyio::create_udp_socket()
        .local_host("127.0.0.1")
        .local_port(port)
        .await
        .unwrap();
    assert_eq!(again.extra::<LocalPort>().unwrap(), port);
}

#[anyio::test(timeout = 10)]
async fn a_closed_udp_socket_refuses_further_use() {
    let (mut socket, port) = loopback_udp().await;
    socket.aclose().await.unwrap();
    socket.aclose().await.unwrap(); // closing again does nothing
    let receive = socket.receive().await.unwrap_err();
    assert_eq!(receive.kind(), ErrorKind::ClosedResource);
    let send = socket.send_to(b"x", "127.0.0.1", port).await.unwrap_err();
    assert_eq!(send.kind(), ErrorKind::ClosedResource);
    assert!(socket.next().await.is_none());
    assert!(socket.extra::<LocalPort>().is_err());

    let (_, other) = loopback_udp().await;
    let mut connected = anyio::create_connected_udp_socket("127.0.0.1", other)
        .await
        .unwrap();
    anyio::aclose_forcefully(&mut connected).await.unwrap();
    assert_eq!(
        connected.send(b"x").await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
    assert_eq!(
        connected.receive().await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
}

#[anyio::test(timeout = 10)]
async fn a_udp_socket_has_its_attributes() {
    let (socket, port) = loopback_udp().await;
    assert_eq!(
        socket.extra::<LocalAddress>().unwrap(),
        SocketAddress::Ip(SocketAddr::from(([127, 0, 0, 1], port)))
    );
    assert_eq!(socket.extra::<Family>().unwrap(), AddressFamily::Inet);
    assert!(socket.extra::<RawSocket>().unwrap() >= 0);
    let missing = socket.extra::<RemoteAddress>().unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::TypedAttributeLookup);
}

#[anyio::test(timeout = 10)]
async fn send_to_resolves_a_host_name() {
    let (mut server, port) = loopback_udp().await;
    let (mut client, _) = loopback_udp().await;
    client.send_to(b"by name", "localhost", port).await.unwrap();
    assert_eq!(server.receive().await.unwrap().0, b"by name");
}

#[anyio::test(timeout = 10)]
async fn an_oversized_datagram_is_an_error_naming_its_size() {
    let (mut client, _) = loopback_udp().await;
    let (_server, port) = loopback_udp().await;
    let error = client
        .send_to(&vec![0; 70_000], "127.0.0.1", port)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("70000 bytes"), "{message}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
}

#[anyio::test(timeout = 10)]
async fn an_unresolvable_remote_host_is_named() {
    let error = anyio::create_connected_udp_socket("no-such-host.invalid", 9)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("no-such-host.invalid"),
        "{error}"
    );
}

#[anyio::test(timeout = 10)]
async fn a_udp_receive_cancelled_at_every_suspension_loses_no_datagram() {
    cancel_at_every_suspension(20, |point| async move {
        let (mut server, port) = loopback_udp().await;
        let (mut client, _) = loopback_udp().await;
        anyio::task_group!(|tg| {
            tg.start_soon(async move {
                anyio::wait_all_tasks_blocked().await;
                client.send_to(b"datagram", "127.0.0.1", port).await
            });
            let received = point.run(server.receive()).await;
            let completed = received.is_some();
            let (data, _) = match received {
                Some(received) => received?,
                // Cancelled: the datagram waits for the next receive.
                None => server.receive().await?,
            };
            assert_eq!(data, b"datagram");
            anyio::Result::Ok(completed)
        })
        .unwrap()
        .unwrap()
    })
    .await;
}

#[anyio::test(timeout = 10)]
async fn datagrams_keep_their_boundaries() {
    let (mut server, port) = loopback_udp().await;
    let mut client = anyio::create_connected_udp_socket("127.0.0.1", port)
        .await
        .unwrap();
    for size in [1_usize, 100, 1500, 65_507] {
        client.send(vec![7; size]).await.unwrap();
        let (data, _) = server.receive().await.unwrap();
        assert_eq!(data.len(), size);
    }
}

// ---- UNIX datagrams ----

#[anyio::test(timeout = 10)]
async fn a_unix_datagram_round_trip_reports_the_sender_path() {
    let dir = TempDir::new("round-trip");
    let mut server = anyio::create_unix_datagram_socket()
        .local_path(dir.path("server.sock"))
        .await
        .unwrap();
    let mut client = anyio::create_unix_datagram_socket()
        .local_path(dir.path("client.sock"))
        .await
        .unwrap();
    client
        .send_to(b"hello", dir.path("server.sock"))
        .await
        .unwrap();
    let (data, sender) = server.receive().await.unwrap();
    assert_eq!(
        (data.as_slice(), sender.clone()),
        (&b"hello"[..], dir.path("client.sock"))
    );
    UnreliableObjectSendStream::send(&mut server, (b"reply".to_vec(), sender))
        .await
        .unwrap();
    let (reply, from) = client.next().await.unwrap().unwrap();
    assert_eq!(
        (reply.as_slice(), from),
        (&b"reply"[..], dir.path("server.sock"))
    );
    assert_eq!(server.extra::<Family>().unwrap(), AddressFamily::Unix);
    assert_eq!(
        server.extra::<LocalAddress>().unwrap(),
        SocketAddress::Unix(dir.path("server.sock"))
    );
}

#[anyio::test(timeout = 10)]
async fn an_unnamed_sender_has_an_empty_path() {
    let dir = TempDir::new("unnamed");
    let mut server = anyio::create_unix_datagram_socket()
        .local_path(dir.path("server.sock"))
        .await
        .unwrap();
    let mut client = anyio::create_unix_datagram_socket().await.unwrap();
    assert!(client.extra::<LocalAddress>().is_err());
    client
        .send_to(b"anon", dir.path("server.sock"))
        .await
        .unwrap();
    let (data, sender) = server.receive().await.unwrap();
    assert_eq!(data, b"anon");
    assert_eq!(sender, PathBuf::new());
}

#[anyio::test(timeout = 10)]
async fn a_connected_unix_datagram_socket_talks_to_its_peer() {
    let dir = TempDir::new("connected");
    let mut server = anyio::create_unix_datagram_socket()
        .local_path(dir.path("server.sock"))
        .await
        .unwrap();
    let mut client = anyio::create_connected_unix_datagram_socket(dir.path("server.sock"))
        .local_path(dir.path("client.sock"))
        .local_mode(0o600)
        .await
        .unwrap();
    assert_eq!(
        client.extra::<RemoteAddress>().unwrap(),
        SocketAddress::Unix(dir.path("server.sock"))
    );
    let mode = std::fs::metadata(dir.path("client.sock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    client.send(b"ping").await.unwrap();
    let (data, sender) = server.receive().await.unwrap();
    assert_eq!(data, b"ping");
    server.send_to(b"pong", &sender).await.unwrap();
    assert_eq!(
        UnreliableObjectReceiveStream::receive(&mut client)
            .await
            .unwrap(),
        b"pong"
    );
}

#[anyio::test(timeout = 10)]
async fn abstract_unix_datagram_names_work() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let name = format!("\0anyio-test-dgram-{}", std::process::id());
    let mut server = anyio::create_unix_datagram_socket()
        .local_path(&name)
        .await
        .unwrap();
    let mut client = anyio::create_connected_unix_datagram_socket(&name)
        .await
        .unwrap();
    client.send(b"abstract").await.unwrap();
    assert_eq!(server.receive().await.unwrap().0, b"abstract");
}

#[anyio::test(timeout = 10)]
async fn a_stale_datagram_socket_file_is_replaced_and_a_live_one_is_an_error() {
    let dir = TempDir::new("stale");
    let path = dir.path("dgram.sock");
    // A socket file whose socket is gone (closed without removing the file).
    drop(std::os::unix::net::UnixDatagram::bind(&path).unwrap());
    let live = anyio::create_unix_datagram_socket()
        .local_path(&path)
        .await
        .expect("the stale file is replaced");
    let error = anyio::create_unix_datagram_socket()
        .local_path(&path)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io(std::io::ErrorKind::AddrInUse));
    assert!(error.to_string().contains("dgram.sock"), "{error}");
    drop(live);
}

#[anyio::test(timeout = 10)]
async fn a_missing_unix_datagram_peer_is_an_error_naming_the_path() {
    let dir = TempDir::new("missing");
    let error = anyio::create_connected_unix_datagram_socket(dir.path("nobody.sock"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io(std::io::ErrorKind::NotFound));
    assert!(error.to_string().contains("nobody.sock"), "{error}");
    let mut socket = anyio::create_unix_datagram_socket().await.unwrap();
    let error = socket
        .send_to(b"x", dir.path("nobody.sock"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("nobody.sock"), "{error}");
}

#[anyio::test(timeout = 10)]
async fn a_unix_datagram_receive_cancelled_at_every_suspension_loses_nothing() {
    cancel_at_every_suspension(20, |point| async move {
        let dir = TempDir::new(&format!("cancel-{}", point.at_poll));
        let path = dir.path("receiver.sock");
        let mut b = anyio::create_unix_datagram_socket()
            .local_path(&path)
            .await
            .unwrap();
        let mut a = anyio::create_unix_datagram_socket().await.unwrap();
        anyio::task_group!(|tg| {
            tg.start_soon(async {
                anyio::wait_all_tasks_blocked().await;
                a.send_to(b"datagram", &path).await
            });
            let received = point.run(b.receive()).await;
            let completed = received.is_some();
            let data = match received {
                Some(received) => received?.0,
                None => b.receive().await?.0,
            };
            assert_eq!(data, b"datagram");
            anyio::Result::Ok(completed)
        })
        .unwrap()
        .unwrap()
    })
    .await;
}
