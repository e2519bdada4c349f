//! `wait_readable`, `wait_writable`, `notify_closing` and `getnameinfo`.

use std::io::{Read, Write};

use anyio::ErrorKind;

#[anyio::test(timeout = 10)]
async fn wait_readable_returns_when_data_arrives() {
    let (mut a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
    anyio::task_group!(|tg| {
        tg.start_soon(async move {
            anyio::sleep(0.005).await;
            a.write_all(b"late").unwrap();
        });
        anyio::wait_readable(&b).await.unwrap();
        b.set_nonblocking(true).unwrap();
        let mut buffer = [0; 8];
        assert_eq!(b.read(&mut buffer).unwrap(), 4);
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn wait_readable_leaves_the_descriptor_blocking_mode_alone() {
    let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    a.write_all(b"x").unwrap();
    anyio::wait_readable(&b).await.unwrap();
    let flags = rustix::fs::fcntl_getfl(&b).unwrap();
    assert!(
        !flags.contains(rustix::fs::OFlags::NONBLOCK),
        "wait_readable made the descriptor non-blocking"
    );
}

#[anyio::test(timeout = 10)]
async fn wait_writable_returns_at_once_on_an_empty_buffer() {
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    anyio::fail_after(1, anyio::wait_writable(&a))
        .await
        .unwrap()
        .unwrap();
}

#[anyio::test(timeout = 10)]
async fn notify_closing_wakes_a_waiter_with_closed_resource() {
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let error = anyio::task_group!(|tg| {
        tg.start_soon(async {
            anyio::wait_all_tasks_blocked().await;
            anyio::notify_closing(&a);
        });
        anyio::wait_readable(&a).await
    })
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ClosedResource);
    // The descriptor can be waited on again afterwards.
    let again = anyio::move_on_after(0.01, anyio::wait_readable(&a)).await;
    assert!(
        again.is_none(),
        "nothing to read: the second wait times out"
    );
}

#[anyio::test(timeout = 10)]
async fn a_cancelled_wait_deregisters_the_descriptor() {
    let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    for _ in 0..3 {
        assert!(
            anyio::move_on_after(0.002, anyio::wait_readable(&b))
                .await
                .is_none()
        );
    }
    a.write_all(b"now").unwrap();
    anyio::wait_readable(&b).await.unwrap();
}

#[anyio::test(timeout = 10)]
async fn getnameinfo_names_the_loopback_address() {
    let (host, service) = anyio::getnameinfo("127.0.0.1:22".parse().unwrap())
        .await
        .unwrap();
    assert!(!host.is_empty());
    assert!(service == "ssh" || service == "22", "{service}");
}
