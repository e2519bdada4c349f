//! Chapter "Synchronization primitives".

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyio::{CapacityLimiter, Condition, Event, Lock, Semaphore};

// ANCHOR: event
async fn start_together() {
    let go = Event::new();
    anyio::task_group!(|tg| {
        for runner in ["ada", "bob"] {
            let go = &go;
            tg.start_soon(async move {
                go.wait().await; // every runner waits for the same signal
                println!("  {runner} starts running");
            });
        }
        anyio::sleep(Duration::from_millis(5)).await;
        println!("  ready, set, go");
        go.set();
    })
    .unwrap();
}
// ANCHOR_END: event

// ANCHOR: lock
async fn one_writer_at_a_time() -> anyio::Result<()> {
    let log_lock = Lock::new();
    let lines = std::sync::Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        for writer in ["a", "b"] {
            let (log_lock, lines) = (&log_lock, &lines);
            tg.start_soon(async move {
                // Both lines of a writer stay together although it awaits between them.
                let _guard = log_lock.acquire().await?;
                lines.lock().unwrap().push(format!("{writer}: begin"));
                anyio::sleep(Duration::from_millis(2)).await;
                lines.lock().unwrap().push(format!("{writer}: end"));
                anyio::Result::Ok(())
            });
        }
    })?;
    println!("  {:?}", lines.into_inner().unwrap());
    Ok(())
}
// ANCHOR_END: lock

// ANCHOR: semaphore
async fn at_most_two() {
    let slots = Semaphore::new(2);
    let inside = AtomicUsize::new(0);
    let peak = AtomicUsize::new(0);
    anyio::task_group!(|tg| {
        for _ in 0..6 {
            tg.start_soon(async {
                let _slot = slots.acquire().await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                anyio::sleep(Duration::from_millis(2)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
            });
        }
    })
    .unwrap();
    println!("  at most {} inside at once", peak.load(Ordering::SeqCst));
}
// ANCHOR_END: semaphore

// ANCHOR: limiter
async fn limited_downloads() -> anyio::Result<()> {
    let limiter = CapacityLimiter::new(3);
    anyio::task_group!(|tg| {
        for file in 0..8 {
            let limiter = &limiter;
            tg.start_soon(async move {
                let _token = limiter.acquire().await?; // one token per task
                anyio::sleep(Duration::from_millis(2)).await; // "download"
                if file == 0 {
                    let stats = limiter.statistics();
                    println!(
                        "  {} downloading, {} waiting",
                        stats.borrowed_tokens, stats.tasks_waiting
                    );
                }
                anyio::Result::Ok(())
            });
        }
    })?;
    Ok(())
}
// ANCHOR_END: limiter

// ANCHOR: condition
async fn wait_for_stock() -> anyio::Result<()> {
    let shelf = Condition::new();
    let stock = AtomicUsize::new(0);
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            let mut guard = shelf.acquire().await?;
            guard.wait_for(|| stock.load(Ordering::SeqCst) >= 2).await?;
            println!("  the buyer found {} items", stock.load(Ordering::SeqCst));
            anyio::Result::Ok(())
        });
        for _ in 0..2 {
            anyio::sleep(Duration::from_millis(2)).await;
            let guard = shelf.acquire().await?;
            stock.fetch_add(1, Ordering::SeqCst);
            guard.notify_all(); // the buyer checks its condition again
        }
        anyio::Result::Ok(())
    })?;
    Ok(())
}
// ANCHOR_END: condition

#[anyio::main]
async fn main() -> anyio::Result<()> {
    start_together().await;
    one_writer_at_a_time().await?;
    at_most_two().await;
    limited_downloads().await?;
    wait_for_stock().await?;
    Ok(())
}
