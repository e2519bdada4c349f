//! Chapter "Networking".

use anyio::TypedAttributeProvider;
use anyio::abc::{ByteReceiveStream, ByteSendStream, ByteStream, Listener};
use anyio::net::{LocalPort, TcpStream, UnixStream};

// ANCHOR: server
/// Uppercases what each client sends, one task per client.
async fn shout(mut client: TcpStream) -> anyio::Result<()> {
    loop {
        match client.receive(1024).await {
            Ok(bytes) => client.send(&bytes.to_ascii_uppercase()).await?,
            Err(end) if end.kind() == anyio::ErrorKind::EndOfStream => return Ok(()),
            Err(error) => return Err(error),
        }
    }
}
// ANCHOR_END: server

// ANCHOR: client
/// Sends one request and waits for the whole answer, for two seconds at most.
async fn ask(port: u16, request: &[u8]) -> anyio::Result<Vec<u8>> {
    anyio::fail_after(2, async {
        let mut server = anyio::connect_tcp("localhost", port).await?;
        server.send(request).await?;
        server.send_eof().await?; // no more requests: the server sees the end
        let mut answer = Vec::new();
        loop {
            match server.receive(1024).await {
                Ok(bytes) => answer.extend(bytes),
                Err(end) if end.kind() == anyio::ErrorKind::EndOfStream => return Ok(answer),
                Err(error) => return Err(error),
            }
        }
    })
    .await?
}
// ANCHOR_END: client

async fn server_and_clients() -> anyio::Result<()> {
    let mut listener = anyio::create_tcp_listener().local_host("127.0.0.1").await?;
    let port = listener.extra::<LocalPort>()?;
    anyio::task_group!(|tg| {
        tg.start_soon(async { listener.serve(shout).await });
        let answers =
            anyio::gather([&b"hello"[..], b"structured", b"concurrency"].map(|r| ask(port, r)))
                .await?;
        for answer in answers {
            println!("  {}", String::from_utf8_lossy(&answer));
        }
        tg.cancel(); // stops the server
        anyio::Result::Ok(())
    })?;
    Ok(())
}

// ANCHOR: unix
async fn unix_sockets() -> anyio::Result<()> {
    let path = std::env::temp_dir().join(format!("anyio-book-{}.sock", std::process::id()));
    let mut listener = anyio::create_unix_listener(&path).mode(0o600).await?;
    let mut client: UnixStream = anyio::connect_unix(&path).await?;
    let mut server = listener.accept().await?;
    client.send(b"local only").await?;
    println!(
        "  over {}: {:?}",
        path.display(),
        String::from_utf8(server.receive(64).await?)
    );
    std::fs::remove_file(&path)?;
    Ok(())
}
// ANCHOR_END: unix

// ANCHOR: udp
async fn udp() -> anyio::Result<()> {
    let mut server = anyio::create_udp_socket().local_host("127.0.0.1").await?;
    let port = server.extra::<LocalPort>()?;
    let mut client = anyio::create_connected_udp_socket("127.0.0.1", port).await?;
    client.send(b"are you there?").await?;
    let (question, sender) = server.receive().await?; // one datagram, and who sent it
    server.send_to(b"yes", sender.ip(), sender.port()).await?;
    println!(
        "  {sender} asked {:?}; the answer was {:?}",
        String::from_utf8_lossy(&question),
        String::from_utf8(client.receive().await?)
    );
    Ok(())
}
// ANCHOR_END: udp

#[anyio::main]
async fn main() -> anyio::Result<()> {
    server_and_clients().await?;
    unix_sockets().await?;
    udp().await?;
    Ok(())
}
