//! TLS and descriptors: 1,000 sequential TLS connections leave the process's count of
//! open descriptors where it was. A binary of its own, so no other test opens sockets
//! meanwhile.

#[path = "support/tls_certs.rs"]
mod tls_certs;

use std::sync::Arc;

use anyio::TypedAttributeProvider;
use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream, Listener};
use anyio::net::LocalPort;
use anyio::streams::tls::{TlsListener, TlsStream};
use tls_certs::{Pki, server_config};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

#[test]
fn a_thousand_tls_connections_leave_no_descriptor() {
    anyio::run(anyio::fail_after(120, async {
        let pki = Pki::new("churn");
        let identity = pki.issue(&["localhost"]);
        let client_config = Arc::new(pki.client_config());
        let tcp = anyio::create_tcp_listener()
            .local_host("127.0.0.1")
            .await
            .unwrap();
        let port = tcp.extra::<LocalPort>().unwrap();
        let mut listener = TlsListener::new(tcp, Arc::new(server_config(&identity)));
        // One connection first, so that lazily opened descriptors are counted before.
        let before = anyio::task_group!(|tg| {
            tg.start_soon(async {
                let mut server = listener.accept().await?;
                server.aclose().await
            });
            let tcp = anyio::connect_tcp("127.0.0.1", port).await?;
            let mut tls = TlsStream::connect(tcp, "localhost")
                .config(client_config.clone())
                .await?;
            tls.aclose().await?;
            anyio::Result::Ok(())
        });
        before.unwrap();
        let before = open_fds();
        anyio::task_group!(|tg| {
            tg.start_soon(async {
                loop {
                    let mut server = listener.accept().await?;
                    let request = server.receive(16).await?;
                    server.send(&request).await?;
                    server.aclose().await?;
                }
                #[allow(unreachable_code)]
                anyio::Result::Ok(())
            });
            for n in 0..1_000_u32 {
                let tcp = anyio::connect_tcp("127.0.0.1", port).await?;
                let mut tls = TlsStream::connect(tcp, "localhost")
                    .config(client_config.clone())
                    .await?;
                tls.send(&n.to_be_bytes()).await?;
                assert_eq!(tls.receive(16).await?, n.to_be_bytes());
                tls.aclose().await?;
            }
            tg.cancel();
            anyio::Result::Ok(())
        })
        .unwrap();
        assert_eq!(open_fds(), before, "a TLS connection kept a descriptor");
    }))
    .expect("the churn ran out of time");
}
