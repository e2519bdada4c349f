//! A producer/consumer pipeline with backpressure: a fast reader, a slow transformer and
//! a writer, connected by small memory object streams. When the transformer falls
//! behind, the bounded streams fill up and the reader waits instead of piling up work.
//!
//! Run it with `cargo run --example pipeline`.

use std::time::{Duration, Instant};

use anyio::{ErrorKind, MemoryObjectReceiveStream, MemoryObjectSendStream};

/// Reads "lines" as fast as it can; `send` waits whenever the next stage is full.
async fn read_lines(lines: MemoryObjectSendStream<String>) -> anyio::Result<()> {
    let started = Instant::now();
    for n in 0..12 {
        lines.send(format!("line {n}")).await?;
        let waiting = lines.statistics().current_buffer_used;
        println!(
            "read    line {n:>2} at {:>3} ms ({waiting} queued)",
            started.elapsed().as_millis()
        );
    }
    Ok(()) // dropping `lines` tells the transformer that the input has ended
}

/// The slow stage: 5 ms per line.
async fn transform(
    lines: MemoryObjectReceiveStream<String>,
    shouted: MemoryObjectSendStream<String>,
) -> anyio::Result<()> {
    loop {
        let line = match lines.receive().await {
            Ok(line) => line,
            Err(e) if e.kind() == ErrorKind::EndOfStream => return Ok(()),
            Err(e) => return Err(e),
        };
        anyio::sleep(Duration::from_millis(5)).await;
        shouted.send(line.to_uppercase()).await?;
    }
}

/// Writes the results; returns how many it wrote.
async fn write(shouted: MemoryObjectReceiveStream<String>) -> usize {
    let mut written = 0;
    while let Ok(line) = shouted.receive().await {
        println!("wrote   {line}");
        written += 1;
    }
    written
}

// ANCHOR: main
#[anyio::main]
async fn main() -> anyio::Result<()> {
    // Two items of slack between stages: the reader can only run 2 lines ahead.
    let (lines_tx, lines_rx) = anyio::create_memory_object_stream(2);
    let (shouted_tx, shouted_rx) = anyio::create_memory_object_stream(2);
    let written = anyio::task_group!(|tg| {
        tg.start_soon(read_lines(lines_tx));
        tg.start_soon(transform(lines_rx, shouted_tx));
        anyio::Result::Ok(write(shouted_rx).await)
    })?
    .expect("nothing cancelled the pipeline");
    println!("done: {written} lines went through three stages");
    Ok(())
}
// ANCHOR_END: main
