//! A line-based chat server and its clients in one program. Each line a client sends
//! goes to every other client. The fan-out is a memory object stream: every handler
//! sends its client's lines into one stream, a broadcaster task reads it and puts each
//! line into the inbox (another memory object stream) of every other client, and each
//! handler's writer task sends its inbox to its client. A client that disconnects in
//! the middle of a line, or stops reading, disturbs no one else.
//!
//! Run it with `cargo run --example chat`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyio::TypedAttributeProvider;
use anyio::abc::{AsyncResource, ByteSendStream, Listener};
use anyio::net::{LocalPort, TcpStream};
use anyio::streams::buffered::BufferedByteReceiveStream;
use anyio::{MemoryObjectReceiveStream, MemoryObjectSendStream};

/// The longest line a client may send.
const MAX_LINE: usize = 1024;
/// Lines a client's inbox holds; a client that falls further behind misses lines.
const INBOX: usize = 64;

/// The chat room: the stream every handler posts into, and the inbox of each client.
struct Room {
    posts: MemoryObjectSendStream<(u64, String)>,
    inboxes: Mutex<Vec<(u64, MemoryObjectSendStream<String>)>>,
    next_id: AtomicU64,
}

impl Room {
    /// Hands each post to every inbox but its author's, until the room closes.
    async fn broadcast(&self, posts: MemoryObjectReceiveStream<(u64, String)>) {
        while let Ok((author, line)) = posts.receive().await {
            let mut inboxes = self.inboxes.lock().unwrap();
            // A full inbox (a client that stopped reading) misses the line; a closed
            // one (a client that left) is dropped from the room.
            inboxes.retain(|(id, inbox)| {
                *id == author
                    || match inbox.send_nowait(line.clone()) {
                        Ok(()) => true,
                        Err(error) => error.kind() == anyio::ErrorKind::WouldBlock,
                    }
            });
        }
    }
}

/// Serves one client: its first line is its name, every later line is posted to the
/// room. Never fails, so one client's trouble does not end the server.
async fn handle(mut stream: TcpStream, room: Arc<Room>) {
    let id = room.next_id.fetch_add(1, Ordering::Relaxed);
    let (reader, mut writer) = stream.split();
    let mut reader = BufferedByteReceiveStream::new(reader);
    let Ok(name) = read_line(&mut reader).await else {
        return;
    };
    let (inbox_tx, inbox) = anyio::create_memory_object_stream::<String>(INBOX);
    room.inboxes.lock().unwrap().push((id, inbox_tx));
    let welcome = format!("welcome, {name}\n");
    let outcome = anyio::task_group!(|tg| {
        writer.send(welcome.as_bytes()).await?;
        tg.start_soon(async {
            // The writer: the client's inbox, out to the socket.
            while let Ok(line) = inbox.receive().await {
                writer.send(line.as_bytes()).await?;
            }
            anyio::Result::Ok(())
        });
        // The reader: every complete line goes to the room. The end of the stream, or
        // an incomplete last line, ends the session; the partial line is never posted.
        while let Ok(line) = read_line(&mut reader).await {
            room.posts.send((id, format!("{name}: {line}\n"))).await?;
        }
        tg.cancel();
        anyio::Result::Ok(())
    });
    inbox.close();
    if let Err(error) = outcome {
        println!("  server: {name} dropped: {error}");
    } else {
        println!("  server: {name} left");
    }
}

/// One line, without its newline, as text.
async fn read_line(
    reader: &mut BufferedByteReceiveStream<anyio::net::TcpReceiveHalf<'_>>,
) -> anyio::Result<String> {
    let line = reader.receive_until(b"\n", MAX_LINE).await?;
    String::from_utf8(line).map_err(anyio::Error::other)
}

/// A chat client: joins under `name`, waits for its welcome.
async fn join(port: u16, name: &str) -> anyio::Result<BufferedByteReceiveStream<TcpStream>> {
    let mut stream = anyio::connect_tcp("127.0.0.1", port).await?;
    stream.send(format!("{name}\n").as_bytes()).await?;
    let mut stream = BufferedByteReceiveStream::new(stream);
    let welcome = stream.receive_until(b"\n", MAX_LINE).await?;
    println!("{name} <- {}", String::from_utf8_lossy(&welcome));
    Ok(stream)
}

/// Says `line`, then reads until it heard `expected` from the others.
async fn talk(
    mut stream: BufferedByteReceiveStream<TcpStream>,
    name: &str,
    line: &str,
    expected: &str,
) -> anyio::Result<()> {
    stream.send(format!("{line}\n").as_bytes()).await?;
    let heard = stream.receive_until(b"\n", MAX_LINE).await?;
    let heard = String::from_utf8_lossy(&heard);
    println!("{name} <- {heard}");
    assert_eq!(heard, expected, "{name} heard the wrong line");
    stream.get_mut().aclose().await
}

#[anyio::main]
async fn main() -> anyio::Result<()> {
    let mut listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    let port = listener.extra::<LocalPort>()?;
    println!("chat server on 127.0.0.1:{port}");
    let (posts, posted) = anyio::create_memory_object_stream(INBOX);
    let room = Arc::new(Room {
        posts,
        inboxes: Mutex::new(Vec::new()),
        next_id: AtomicU64::new(0),
    });
    anyio::fail_after(10, async {
        anyio::task_group!(|tg| {
            tg.start_soon(room.broadcast(posted));
            tg.start_soon(async {
                let room = room.clone();
                listener
                    .serve(move |client| handle(client, room.clone()))
                    .await
            });
            let alice = join(port, "alice").await?;
            let bob = join(port, "bob").await?;
            // A client that leaves in the middle of a line: its half line is dropped.
            let mut rude = join(port, "rude").await?;
            rude.send(b"this line never ends").await?;
            rude.get_mut().aclose().await?;
            anyio::task_group!(|talks| {
                talks.start_soon(talk(alice, "alice", "hi bob", "bob: hi alice"));
                talks.start_soon(talk(bob, "bob", "hi alice", "alice: hi bob"));
            })?;
            tg.cancel();
            anyio::Result::Ok(())
        })
    })
    .await??;
    println!("everyone heard everyone; the server stopped");
    Ok(())
}
