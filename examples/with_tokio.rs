//! anyio's structured concurrency inside a plain tokio program, with no anyio runtime: a
//! tokio TCP echo server (`tokio::net`, one `tokio::spawn`ed task per connection), and
//! tokio TCP clients driven from anyio task groups. Each client is a `start_soon` child;
//! each exchange is bounded by `fail_after`; a client that waits for an answer that never
//! comes gives up with `move_on_after`; a client that fails cancels its siblings and its
//! error comes out of the group. tokio runs everything (`#[tokio::main]`); anyio's task
//! groups, cancel scopes and deadlines work under it as under any executor.
//!
//! Run it with `cargo run --example with_tokio`.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A line echo server, all tokio: one task per connection, each line sent back as it is.
async fn echo_server(listener: TcpListener) {
    while let Ok((socket, peer)) = listener.accept().await {
        tokio::spawn(async move {
            let (reader, mut writer) = socket.into_split();
            let mut lines = BufReader::new(reader).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if writer
                    .write_all(format!("{line}\n").as_bytes())
                    .await
                    .is_err()
                {
                    break;
                }
            }
            println!("  server: {peer} closed");
        });
    }
}

/// One client's exchange: connect, send a line, read the echo (tokio I/O throughout).
async fn exchange(address: SocketAddr, message: &str) -> anyio::Result<String> {
    let stream = TcpStream::connect(address).await?;
    let (reader, mut writer) = stream.into_split();
    writer.write_all(format!("{message}\n").as_bytes()).await?;
    let mut reply = String::new();
    BufReader::new(reader).read_line(&mut reply).await?;
    Ok(reply.trim_end().to_owned())
}

/// A client that connects and waits for the server to speak first: an echo server
/// never does.
async fn wait_for_a_greeting(address: SocketAddr) -> anyio::Result<String> {
    let stream = TcpStream::connect(address).await?;
    let mut greeting = String::new();
    BufReader::new(stream).read_line(&mut greeting).await?;
    Ok(greeting)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyio::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(echo_server(listener));
    println!("tokio echo server on {address}");

    // 1. Five clients and an impatient listener, as children of one anyio task group.
    let replies = Mutex::new(Vec::new());
    let start = Instant::now();
    anyio::task_group!(|tg| {
        for id in 1..=5 {
            let replies = &replies; // children borrow locals: no Arc
            tg.start_soon(async move {
                let message = format!("hello from client {id}");
                // The whole exchange (connect, send, receive) within two seconds.
                let reply = anyio::fail_after(2, exchange(address, &message)).await??;
                println!("  client {id}: got {reply:?}");
                replies.lock().unwrap().push(reply);
                anyio::Result::Ok(())
            });
        }
        tg.start_soon(async move {
            let heard =
                anyio::move_on_after(Duration::from_millis(200), wait_for_a_greeting(address))
                    .await;
            match heard {
                None => println!("  listener: no greeting within 200 ms, moved on"),
                Some(greeting) => println!("  listener: heard {greeting:?}"),
            }
        });
    })?;
    let replies = replies.into_inner().unwrap();
    assert_eq!(replies.len(), 5);
    println!(
        "group 1: {} echoes and one give-up in {:?}; every child has ended",
        replies.len(),
        start.elapsed()
    );

    // 2. A client that fails (nothing listens on its port) cancels its siblings: a slow
    // client is dropped at its next suspension point, and the group returns the error.
    let unused = TcpListener::bind("127.0.0.1:0").await?.local_addr()?; // closed at once
    let result = anyio::task_group!(|tg| {
        tg.start_soon(async move {
            tokio::time::sleep(Duration::from_secs(3600)).await; // a very slow client
            println!("  slow client: never printed, it was cancelled");
        });
        tg.start_soon(async move {
            let reply = anyio::fail_after(2, exchange(unused, "anyone there?")).await??;
            anyio::Result::Ok(reply)
        });
    });
    let error = result.unwrap_err();
    println!("group 2 failed as expected: {error}");

    // 3. A deadline around a whole group: every client shares it, and the group has
    // waited for all of them when the timeout comes out.
    let timed_out = anyio::fail_after(Duration::from_millis(50), async {
        anyio::task_group!(|tg| {
            for _ in 0..3 {
                tg.start_soon(wait_for_a_greeting(address)); // never answered
            }
        })
    })
    .await;
    assert_eq!(timed_out.unwrap_err().kind(), anyio::ErrorKind::Timeout);
    println!("group 3: timed out after 50 ms, its three clients stopped");

    // Dropping a tokio JoinHandle would leave the server running: abort it.
    server.abort();
    let _ = server.await;
    println!("done");
    Ok(())
}
