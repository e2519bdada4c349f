//! TCP sockets and descriptors: connection churn and cancelled connection attempts
//! leave no descriptor open. A binary of its own, with its tests taking turns: they count
//! the process's open descriptors.

mod common;

use std::future::IntoFuture;
use std::sync::Mutex;

use anyio::TypedAttributeProvider;
use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream, Listener};
use anyio::net::{LocalPort, TcpListener};
use common::cancel_points::cancel_at_every_suspension;

/// One counting test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

async fn loopback_listener() -> (TcpListener, u16) {
    let listener = anyio::create_tcp_listener()
        .local_host("127.0.0.1")
        .await
        .unwrap();
    let port = listener.extra::<LocalPort>().unwrap();
    (listener, port)
}

/// Runs `body` on a runtime of its own while no other counting test runs, under a
/// deadline.
fn counting<F: std::future::Future<Output = ()>>(body: F) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    anyio::run(anyio::fail_after(30, body)).expect("the test ran out of time");
}

#[test]
fn a_connect_cancelled_at_every_suspension_leaves_no_descriptor() {
    counting(a_connect_cancelled());
}

async fn a_connect_cancelled() {
    let (_listener, port) = loopback_listener().await;
    let before = open_fds();
    cancel_at_every_suspension(20, |point| async move {
        let connected = point
            .run(anyio::connect_tcp("127.0.0.1", port).into_future())
            .await;
        let completed = connected.is_some();
        drop(connected);
        completed
    })
    .await;
    // Cancelled attempts closed their sockets, and the connection that completed was
    // dropped (the server sides waiting in the listener's backlog are the kernel's until
    // accepted, not descriptors of this process).
    assert_eq!(open_fds(), before, "a cancelled attempt kept its socket");
}

#[test]
fn connection_churn_leaves_no_descriptor_behind() {
    counting(connection_churn());
}

async fn connection_churn() {
    let (mut listener, port) = loopback_listener().await;
    let before = open_fds();
    for _ in 0..10_000 {
        let (mut client, mut server) = {
            let client = anyio::connect_tcp("127.0.0.1", port).await.unwrap();
            (client, listener.accept().await.unwrap())
        };
        client.send(b"ping").await.unwrap();
        assert_eq!(server.receive(8).await.unwrap(), b"ping");
        client.aclose().await.unwrap();
        drop(server);
    }
    // Connection attempts cancelled at once close their sockets too.
    for _ in 0..100 {
        let connect = anyio::connect_tcp("127.0.0.1", port).into_future();
        let _ = anyio::move_on_after(0, connect).await;
    }
    // The last of those may have been accepted into the backlog: drain what is there.
    while let Some(Ok(stream)) = anyio::move_on_after(0.01, listener.accept()).await {
        drop(stream);
    }
    assert_eq!(open_fds(), before, "descriptors leaked");
}

#[test]
fn datagram_socket_churn_leaves_no_descriptor() {
    counting(datagram_churn());
}

async fn datagram_churn() {
    let before = open_fds();
    let mut server = anyio::create_udp_socket()
        .local_host("127.0.0.1")
        .await
        .unwrap();
    let port = server.extra::<LocalPort>().unwrap();
    for n in 0..1_000_u32 {
        let mut client = anyio::create_connected_udp_socket("127.0.0.1", port)
            .await
            .unwrap();
        client.send(n.to_be_bytes()).await.unwrap();
        assert_eq!(server.receive().await.unwrap().0, n.to_be_bytes());
        if n % 2 == 0 {
            client.aclose().await.unwrap();
        } // else dropped
        let unix = anyio::create_unix_datagram_socket().await.unwrap();
        drop(unix);
    }
    server.aclose().await.unwrap();
    assert_eq!(open_fds(), before, "a datagram socket kept its descriptor");
}
