//! Structured concurrency written with the macros only: a simulated mirror check that
//! asks three mirrors at once, gives each attempt a deadline, retries once, and gives a
//! best-effort extra stage whatever time is left.
//!
//! Run it with `cargo run --example macros`.

use std::sync::Mutex;
use std::time::Duration;

/// Pretends to download from a mirror: each mirror has its own (simulated) latency.
async fn fetch(mirror: &str, attempt: u32) -> anyio::Result<usize> {
    let latency_ms = match (mirror, attempt) {
        ("fast", _) => 5,
        ("flaky", 1) => 500, // the first attempt hangs; the retry is quick
        ("flaky", _) => 10,
        _ => 2_000, // "slow" never makes it in time
    };
    anyio::sleep(Duration::from_millis(latency_ms)).await;
    Ok(mirror.len() * 1_000)
}

/// Two attempts, each with a 50 ms deadline.
async fn fetch_with_retry(mirror: &str) -> anyio::Result<usize> {
    let mut last_error = None;
    for attempt in 1..=2 {
        match anyio::fail_after!(0.05, { fetch(mirror, attempt).await }) {
            Ok(result) => return result,
            Err(timeout) => {
                println!("  {mirror}: attempt {attempt} timed out");
                last_error = Some(timeout);
            }
        }
    }
    Err(last_error.expect("at least one attempt ran"))
}

#[anyio::main]
async fn main() -> anyio::Result<()> {
    println!("checking three mirrors at once");
    let sizes = Mutex::new(Vec::new());
    let unreachable = Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        for mirror in ["fast", "flaky", "slow"] {
            let (sizes, unreachable) = (&sizes, &unreachable);
            tg.start_soon(async move {
                // A mirror that cannot be reached is recorded, not a failure of the group:
                // returning the error instead would cancel the other checks.
                match fetch_with_retry(mirror).await {
                    Ok(bytes) => sizes.lock().unwrap().push((mirror, bytes)),
                    Err(error) => unreachable.lock().unwrap().push((mirror, error)),
                }
            });
        }
    })?;
    let mut sizes = sizes.into_inner().unwrap();
    sizes.sort();
    for (mirror, bytes) in &sizes {
        println!("{mirror}: {bytes} bytes");
    }
    for (mirror, error) in unreachable.into_inner().unwrap() {
        println!("{mirror}: unreachable ({:?})", error.kind());
    }

    // Best effort: verify checksums for at most 30 ms, keeping what finished.
    let verified = Mutex::new(0);
    let finished = anyio::move_on_after!(0.03, {
        for _ in &sizes {
            anyio::sleep(0.02).await; // each verification takes 20 ms
            *verified.lock().unwrap() += 1;
        }
    });
    let verified = verified.into_inner().unwrap();
    match finished {
        Some(()) => println!("verified all {verified} downloads"),
        None => println!("verified {verified} of {} before moving on", sizes.len()),
    }
    Ok(())
}
