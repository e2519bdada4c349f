//! Chapter "Processes, files and signals".

use std::time::Duration;

use futures_lite::StreamExt;

// ANCHOR: run_process
async fn run_a_command() -> anyio::Result<()> {
    // A string runs through the shell; a list of arguments runs the program directly.
    let listing = anyio::run_process(["ls", "-1", "/"]).await?;
    let entries = String::from_utf8_lossy(&listing.stdout).lines().count();
    println!("  / has {entries} entries");

    let counted = anyio::run_process("wc -w")
        .input("three little words")
        .await?;
    println!(
        "  wc counted {}",
        String::from_utf8_lossy(&counted.stdout).trim()
    );

    // A non-zero exit is an error that says what ran and how it ended.
    let failed = anyio::run_process("ls /no/such/dir").await.unwrap_err();
    println!("  {}", failed.message().lines().next().unwrap_or_default());
    Ok(())
}
// ANCHOR_END: run_process

// ANCHOR: open_process
async fn talk_to_a_process() -> anyio::Result<()> {
    use anyio::abc::{ByteReceiveStream, ByteSendStream};

    let mut process = anyio::open_process(["tr", "a-z", "A-Z"]).await?;
    let mut stdin = process.stdin.take().expect("piped");
    stdin.send(b"shout this").await?;
    drop(stdin); // closing stdin ends tr's input
    let loud = process.stdout.as_mut().expect("piped").receive(64).await?;
    println!("  tr answered {:?}", String::from_utf8_lossy(&loud));
    println!("  and exited with {}", process.wait().await?);

    // Cancelled, a process is killed and reaped: nothing outlives its scope.
    let gave_up = anyio::move_on_after(Duration::from_millis(50), async {
        let mut sleeper = anyio::open_process(["sleep", "60"]).await?;
        sleeper.wait().await
    })
    .await;
    println!("  a sleeper cut off after 50 ms: {}", gave_up.is_none());
    Ok(())
}
// ANCHOR_END: open_process

// ANCHOR: files
async fn files_and_paths() -> anyio::Result<()> {
    let dir = anyio::TemporaryDirectory::new().await?; // removed when dropped
    let notes = dir.path() / "notes.txt";
    notes.write_text("first\nsecond\nthird\n").await?;

    let mut file = anyio::open_file(&notes, "a").await?; // Python's mode strings
    file.write_all(b"fourth\n").await?;
    file.aclose_file().await?;

    let mut file = notes.open("r").await?;
    let mut lines = file.lines(); // a stream, read a chunk at a time
    while let Some(line) = lines.next().await {
        print!("  line: {}", line?);
    }

    (dir.path() / "logs" / "old").mkdir().parents(true).await?;
    (dir.path() / "logs" / "old" / "a.log").touch().await?;
    let logs: Vec<anyio::Path> = dir.path().rglob("*.log").try_collect().await?;
    println!(
        "  found {} log file(s), e.g. {}",
        logs.len(),
        logs[0].name()
    );
    Ok(())
}
// ANCHOR_END: files

// ANCHOR: signals
async fn wait_for_a_signal() -> anyio::Result<()> {
    let mut signals = anyio::open_signal_receiver([anyio::Signal::Usr1]).await?;
    // Someone sends us SIGUSR1 (here: ourselves, through `kill`).
    anyio::run_process(format!("kill -USR1 {}", std::process::id())).await?;
    let signal = signals.receive().await?;
    println!("  received {signal:?}");
    Ok(()) // dropping the receiver restores SIGUSR1's default action
}
// ANCHOR_END: signals

#[anyio::main]
async fn main() -> anyio::Result<()> {
    println!("run_process:");
    run_a_command().await?;
    println!("open_process:");
    talk_to_a_process().await?;
    println!("files and paths:");
    files_and_paths().await?;
    println!("signals:");
    wait_for_a_signal().await
}
