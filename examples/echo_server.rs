//! A TCP echo server and its clients in one program: the server serves each connection
//! in a task of its own, spawned on the runtime's worker threads (so the server uses
//! every core), and a handler that meets a bad client (one that disconnects
//! mid-message, or sends nothing within a deadline) ends only that connection.
//!
//! Run it with `cargo run --example echo_server`.

use std::time::Duration;

use anyio::TypedAttributeProvider;
use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream, ByteStream, Listener};
use anyio::net::{LocalPort, TcpStream};

/// Echoes one client's bytes until it closes; never fails, so one bad client cannot end
/// the server (a handler's failure would end `serve`, as in AnyIO).
async fn handle(mut client: TcpStream) {
    let peer = client
        .extra::<anyio::net::RemoteAddress>()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let outcome: anyio::Result<usize> = async {
        let mut echoed = 0;
        loop {
            // A client that stays silent for a second is dropped.
            let chunk = match anyio::fail_after(1, client.receive(1024)).await? {
                Ok(chunk) => chunk,
                Err(error) if error.kind() == anyio::ErrorKind::EndOfStream => break,
                Err(error) => return Err(error),
            };
            client.send(&chunk).await?;
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

/// A well-behaved client: sends lines, reads them back, closes.
async fn good_client(port: u16, id: u32) -> anyio::Result<()> {
    let mut stream = anyio::connect_tcp("127.0.0.1", port).await?;
    for n in 0..3 {
        let line = format!("client {id} line {n}\n");
        stream.send(line.as_bytes()).await?;
        let mut back = Vec::new();
        while back.len() < line.len() {
            back.extend(stream.receive(1024).await?);
        }
        assert_eq!(back, line.as_bytes());
    }
    stream.send_eof().await?;
    Ok(())
}

/// A client that goes away mid-conversation.
async fn rude_client(port: u16) -> anyio::Result<()> {
    let mut stream = anyio::connect_tcp("127.0.0.1", port).await?;
    stream.send(b"half a mess").await?;
    stream.aclose().await
}

#[anyio::main]
async fn main() -> anyio::Result<()> {
    let mut listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    let port = listener.extra::<LocalPort>()?;
    println!("echo server on 127.0.0.1:{port}");
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            listener
                .serve(|client| async move { handle(client).await })
                .await
        });
        anyio::task_group!(|clients| {
            for id in 0..4 {
                clients.start_soon(good_client(port, id));
            }
            clients.start_soon(rude_client(port));
        })?;
        // Let the last handlers finish their output, then stop the server.
        anyio::sleep(Duration::from_millis(20)).await;
        tg.cancel();
        anyio::Result::Ok(())
    })?;
    println!("all clients served; the server stopped");
    Ok(())
}
