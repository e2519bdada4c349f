//! UNIX stream sockets: connect, listen (replacing stale socket files), bytes both ways,
//! descriptor passing, abstract names, attributes.

mod common;

use std::io::{Read, Seek, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream, ByteStream, Listener};
use anyio::net::{AddressFamily, Family, LocalAddress, RemoteAddress, SocketAddress, UnixStream};
use anyio::{ErrorKind, TypedAttributeProvider};
use common::cancel_points::cancel_at_every_suspension;

/// A fresh directory for one test's socket files (removed when dropped).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("anyio-net-unix-{}-{name}", std::process::id()));
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

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    (
        UnixStream::from_std(a).unwrap(),
        UnixStream::from_std(b).unwrap(),
    )
}

#[anyio::test(timeout = 10)]
async fn connect_listen_accept_and_echo() {
    let dir = TempDir::new("echo");
    let path = dir.path("echo.sock");
    let mut listener = anyio::create_unix_listener(&path).await.unwrap();
    let mut client = anyio::connect_unix(&path).await.unwrap();
    let mut server = listener.accept().await.unwrap();
    client.send(b"ping").await.unwrap();
    assert_eq!(server.receive(64).await.unwrap(), b"ping");
    server.send(b"pong").await.unwrap();
    assert_eq!(client.receive(64).await.unwrap(), b"pong");
    client.send_eof().await.unwrap();
    assert_eq!(
        server.receive(64).await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
}

#[anyio::test(timeout = 10)]
async fn attributes_name_the_path_and_the_family() {
    let dir = TempDir::new("attrs");
    let path = dir.path("attrs.sock");
    let mut listener = anyio::create_unix_listener(&path).await.unwrap();
    let client = anyio::connect_unix(&path).await.unwrap();
    let server = listener.accept().await.unwrap();
    assert_eq!(
        server.extra::<LocalAddress>().unwrap(),
        SocketAddress::Unix(path.clone())
    );
    assert_eq!(
        client.extra::<RemoteAddress>().unwrap(),
        SocketAddress::Unix(path.clone())
    );
    assert_eq!(listener.extra::<Family>().unwrap(), AddressFamily::Unix);
}

#[anyio::test(timeout = 10)]
async fn a_stale_socket_file_is_replaced() {
    let dir = TempDir::new("stale");
    let path = dir.path("stale.sock");
    // A listener that went away without removing its file.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let mut listener = anyio::create_unix_listener(&path).await.unwrap();
    let _client = anyio::connect_unix(&path).await.unwrap();
    listener.accept().await.unwrap();
}

#[anyio::test(timeout = 10)]
async fn a_live_socket_is_not_replaced() {
    let dir = TempDir::new("live");
    let path = dir.path("live.sock");
    let _live = anyio::create_unix_listener(&path).await.unwrap();
    let error = anyio::create_unix_listener(&path).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io(std::io::ErrorKind::AddrInUse));
    assert!(error.to_string().contains("live.sock"), "{error}");
}

#[anyio::test(timeout = 10)]
async fn a_file_that_is_not_a_socket_is_not_replaced() {
    let dir = TempDir::new("file");
    let path = dir.path("data.txt");
    std::fs::write(&path, b"precious").unwrap();
    let error = anyio::create_unix_listener(&path).await.unwrap_err();
    assert!(error.to_string().contains("data.txt"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
}

#[anyio::test(timeout = 10)]
async fn the_mode_is_applied_to_the_socket_file() {
    let dir = TempDir::new("mode");
    let path = dir.path("private.sock");
    let _listener = anyio::create_unix_listener(&path)
        .mode(0o600)
        .await
        .unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[anyio::test(timeout = 10)]
async fn connecting_to_a_missing_socket_names_the_path() {
    let dir = TempDir::new("missing");
    let path = dir.path("nobody.sock");
    let error = anyio::connect_unix(&path).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io(std::io::ErrorKind::NotFound));
    assert!(error.to_string().contains("nobody.sock"), "{error}");
}

#[cfg(target_os = "linux")]
#[anyio::test(timeout = 10)]
async fn abstract_names_need_no_file() {
    let name = format!("\0anyio-test-abstract-{}", std::process::id());
    let mut listener = anyio::create_unix_listener(&name).await.unwrap();
    let mut client = anyio::connect_unix(&name).await.unwrap();
    let mut server = listener.accept().await.unwrap();
    client.send(b"abstract").await.unwrap();
    assert_eq!(server.receive(64).await.unwrap(), b"abstract");
    assert_eq!(
        listener.extra::<LocalAddress>().unwrap(),
        SocketAddress::Unix(PathBuf::from(&name))
    );
}

#[anyio::test(timeout = 10)]
async fn a_file_descriptor_passes_to_the_peer() {
    let (mut a, mut b) = pair();
    let dir = TempDir::new("fd");
    let mut file = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.path("shared.txt"))
        .unwrap();
    file.write_all(b"through SCM_RIGHTS").unwrap();
    a.send_fds(b"take this", &[file.as_fd()]).await.unwrap();
    let (message, fds) = b.receive_fds(64, 2).await.unwrap();
    assert_eq!(message, b"take this");
    assert_eq!(fds.len(), 1);
    let mut received = std::fs::File::from(fds.into_iter().next().unwrap());
    received.rewind().unwrap();
    let mut text = String::new();
    received.read_to_string(&mut text).unwrap();
    assert_eq!(text, "through SCM_RIGHTS");
}

#[anyio::test(timeout = 10)]
async fn several_descriptors_pass_in_one_message() {
    let (mut a, mut b) = pair();
    let (x, y) = std::os::unix::net::UnixStream::pair().unwrap();
    a.send_fds(b"two", &[x.as_fd(), y.as_fd()]).await.unwrap();
    let (_, fds) = b.receive_fds(8, 4).await.unwrap();
    assert_eq!(fds.len(), 2);
}

#[anyio::test(timeout = 10)]
async fn send_fds_refuses_an_empty_message() {
    let (mut a, _b) = pair();
    let (x, _y) = std::os::unix::net::UnixStream::pair().unwrap();
    let error = a.send_fds(b"", &[x.as_fd()]).await.unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Io(std::io::ErrorKind::InvalidInput)
    );
}

#[anyio::test(timeout = 10)]
async fn a_closed_stream_refuses_use_and_its_peer_sees_the_end() {
    let (mut a, mut b) = pair();
    a.aclose().await.unwrap();
    assert_eq!(
        a.receive(8).await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
    assert_eq!(
        b.receive(8).await.unwrap_err().kind(),
        ErrorKind::EndOfStream
    );
}

#[anyio::test(timeout = 10)]
async fn a_closed_listener_refuses_to_accept() {
    let dir = TempDir::new("closed-listener");
    let mut listener = anyio::create_unix_listener(dir.path("l.sock"))
        .await
        .unwrap();
    listener.aclose().await.unwrap();
    assert_eq!(
        listener.accept().await.unwrap_err().kind(),
        ErrorKind::ClosedResource
    );
}

#[anyio::test(timeout = 10)]
async fn a_receive_cancelled_at_every_suspension_loses_no_byte() {
    cancel_at_every_suspension(20, |point| async move {
        let (mut a, mut b) = pair();
        anyio::task_group!(|tg| {
            tg.start_soon(async move {
                anyio::lowlevel::checkpoint().await;
                a.send(b"in flight").await
            });
            let first = point.run(b.receive(64)).await;
            let completed = first.is_some();
            let mut received = match first {
                Some(bytes) => bytes?,
                None => Vec::new(),
            };
            while received.len() < 9 {
                received.extend(b.receive(64).await?);
            }
            assert_eq!(received, b"in flight");
            anyio::Result::Ok(completed)
        })
        .unwrap()
        .unwrap()
    })
    .await;
}
