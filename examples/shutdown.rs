//! Graceful shutdown of workers on a deadline: workers process jobs until a shutdown
//! event; each then finishes its current job and flushes its state (shielded cleanup),
//! and the whole shutdown is bounded by a deadline so that a stuck worker cannot keep
//! the program alive.
//!
//! Run it with `cargo run --example shutdown`.

use std::time::{Duration, Instant};

use anyio::{CancelScope, Event};

/// Works until `stop` is set, then cleans up. Worker 2 is stuck in its cleanup.
async fn worker(id: u32, stop: &Event) -> anyio::Result<()> {
    let mut done = 0;
    // Work until asked to stop: the loop is cancelled at its next checkpoint once `stop`
    // is set.
    stop.cancel_on_set(async {
        loop {
            anyio::sleep(Duration::from_millis(3)).await; // one job
            done += 1;
        }
    })
    .await;
    // Cleanup is shielded from the outer cancellation but bounded by its own deadline.
    CancelScope::shielded()
        .run(async {
            let flush_time = if id == 2 { 3600 } else { 5 };
            let flushed = anyio::move_on_after!(Duration::from_millis(50), {
                anyio::sleep(Duration::from_millis(flush_time)).await;
            });
            match flushed {
                Some(()) => println!("worker {id}: did {done} jobs, flushed its state"),
                None => println!("worker {id}: did {done} jobs, gave up flushing (stuck)"),
            }
        })
        .await;
    Ok(())
}

#[anyio::main]
async fn main() -> anyio::Result<()> {
    let stop = Event::new();
    let started = Instant::now();
    // The whole program, shutdown included, must end within 2 seconds.
    anyio::fail_after!(2, {
        anyio::task_group!(|tg| {
            for id in 1..=3 {
                let stop = &stop;
                tg.start_soon(async move { worker(id, stop).await });
            }
            anyio::sleep(Duration::from_millis(20)).await;
            println!("shutting down after {} ms", started.elapsed().as_millis());
            stop.set();
        })
    })??;
    println!(
        "all workers stopped after {} ms",
        started.elapsed().as_millis()
    );
    Ok(())
}
