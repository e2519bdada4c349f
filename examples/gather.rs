//! Task handles and result helpers: check a few "mirrors" concurrently, collect their
//! answers in order (`gather`), take the fastest ones first (`as_completed`), bound the
//! work in flight (`amap` with `limit`), and keep a handle on a background task.
//!
//! Run it with `cargo run --example gather`.

use std::time::{Duration, Instant};

/// A pretend network check: each mirror answers after its own latency.
async fn ping(mirror: &str, latency_ms: u64) -> anyio::Result<(String, u64)> {
    anyio::sleep(Duration::from_millis(latency_ms)).await;
    if mirror.starts_with("down") {
        return Err(anyio::Error::new(
            anyio::ErrorKind::BrokenResource,
            format!("{mirror} does not answer"),
        ));
    }
    Ok((mirror.to_owned(), latency_ms))
}

#[anyio::main]
async fn main() -> anyio::Result<()> {
    let mirrors = [("eu", 12), ("us", 4), ("asia", 8)];
    let started = Instant::now();

    // All at once, answers in input order.
    let answers = anyio::gather(mirrors.map(|(name, ms)| ping(name, ms))).await?;
    println!("gather (input order):");
    for (name, ms) in &answers {
        println!("  {name}: {ms} ms");
    }

    // The fastest first.
    println!("as_completed (fastest first):");
    let mut fastest = anyio::as_completed(mirrors.map(|(name, ms)| ping(name, ms)));
    while let Some(answer) = fastest.next().await {
        let (name, ms) = answer?;
        println!("  {name}: {ms} ms");
    }

    // Many items, at most two in flight.
    let latencies = anyio::amap(|(name, ms)| ping(name, ms), mirrors)
        .limit(2)
        .await?;
    println!("amap with limit(2): {} answers", latencies.len());

    // Different types at once, as a tuple.
    let (best, count) = anyio::gather!(ping("us", 4), async { anyio::Result::Ok(mirrors.len()) })?;
    println!("gather!: best {} of {count}", best.0);

    // A failure surfaces as a task group's do: the others are cancelled.
    let failed = anyio::gather([ping("eu", 50), ping("down-1", 2)]).await;
    println!("a failing mirror: {}", failed.expect_err("down-1 fails"));

    // A handle on a background task: its value, or cancel it alone.
    anyio::task_group!(|tg| {
        let heartbeat = tg.create_task_named("heartbeat", async {
            let mut beats = 0_u32;
            loop {
                anyio::sleep(Duration::from_millis(3)).await;
                beats += 1;
                if beats == 100 {
                    return anyio::Result::Ok(beats);
                }
            }
        });
        let check = tg.create_task(ping("eu", 10));
        let (name, ms) = check.await?;
        println!(
            "handle: {name} answered in {ms} ms; {} is {:?}",
            heartbeat.name(),
            heartbeat.status()
        );
        heartbeat.cancel();
        heartbeat.wait().await;
        println!(
            "handle: {} is now {:?}",
            heartbeat.name(),
            heartbeat.status()
        );
        anyio::Result::Ok(())
    })?;

    println!("all done in {} ms", started.elapsed().as_millis());
    Ok(())
}
