//! Chapter "Threads and processes".

use std::sync::Arc;
use std::time::Duration;

use anyio::from_thread::{BlockingPortal, start_blocking_portal};
use anyio::{CancelScope, CapacityLimiter};

/// A stand-in for a blocking library call: a C library, a heavy computation.
fn checksum(data: &[u8]) -> u32 {
    std::thread::sleep(Duration::from_millis(2));
    data.iter().map(|&b| u32::from(b)).sum()
}

// ANCHOR: run_sync
async fn checksums_in_threads() -> anyio::Result<()> {
    let files: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 1000]).collect();
    // At most three blocking calls at once, whatever the number of files.
    let limiter = CapacityLimiter::new(3);
    let sums = anyio::gather(files.into_iter().map(|data| {
        // `gather` takes fallible tasks: the call's value, as an `Ok`.
        anyio::to_thread::run_sync(move || anyio::Result::Ok(checksum(&data))).limiter(&limiter)
    }))
    .await?;
    println!("  checksums: {sums:?}");
    Ok(())
}
// ANCHOR_END: run_sync

// ANCHOR: cancel
async fn cancel_a_thread() {
    // Not abandoned (the default): the cancelled caller waits for the thread to return,
    // and the thread can look for the cancel and stop early.
    let scope = CancelScope::new();
    let job_scope = scope.clone();
    anyio::task_group!(|tg| {
        tg.start_soon(async move {
            let steps = job_scope.run(anyio::to_thread::run_sync(|| {
                let mut steps = 0;
                while anyio::from_thread::check_cancelled().is_ok() && steps < 1000 {
                    std::thread::sleep(Duration::from_millis(1));
                    steps += 1;
                }
                steps
            }));
            // The thread's result comes back (finished work is not thrown away), and
            // it shows that the thread stopped early.
            let steps = steps.await.expect("the job returned");
            assert!(steps < 1000);
        });
        anyio::sleep(Duration::from_millis(20)).await;
        scope.cancel();
    })
    .unwrap();
    println!("  the thread saw the cancel and stopped early");

    // Abandoned: the caller gives up at once and the thread runs on, unobserved.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let gave_up = anyio::move_on_after(
        Duration::from_millis(5),
        anyio::to_thread::run_sync(move || {
            std::thread::sleep(Duration::from_millis(50));
            done_tx.send("finished anyway").unwrap();
        })
        .abandon_on_cancel(true),
    )
    .await;
    assert!(gave_up.is_none());
    println!(
        "  abandoned after 5 ms; the thread later: {}",
        done_rx.recv().unwrap()
    );
}
// ANCHOR_END: cancel

// ANCHOR: from_thread
async fn call_back_into_async() -> anyio::Result<()> {
    let (sender, receiver) = anyio::create_memory_object_stream::<String>(4);
    anyio::task_group!(|tg| {
        tg.start_soon(async move {
            while let Ok(line) = receiver.receive().await {
                println!("  async side got {line:?}");
            }
        });
        // A blocking parser that hands each record to async code as it goes.
        anyio::to_thread::run_sync(move || {
            for record in "alpha,beta,gamma".split(',') {
                let sender = sender.clone();
                let record = record.to_owned();
                anyio::from_thread::run(move || async move { sender.send(record).await })??;
            }
            anyio::Result::Ok(())
        })
        .await
    })?;
    Ok(())
}
// ANCHOR_END: from_thread

// ANCHOR: portal
fn sync_code_drives_async_code() -> anyio::Result<()> {
    // No runtime here: plain threads. The portal runs an event loop on a thread of its own.
    let portal = Arc::new(start_blocking_portal()?);
    let workers: Vec<_> = (0..3)
        .map(|i| {
            let portal = portal.clone();
            std::thread::spawn(move || {
                portal.call(move || async move {
                    anyio::sleep(Duration::from_millis(1)).await;
                    i * i
                })
            })
        })
        .collect();
    for worker in workers {
        println!("  a thread got {} from the portal", worker.join().unwrap()?);
    }
    // A task that keeps running in the portal, stopped from outside.
    let ticker = portal.start_task_soon(|| async {
        loop {
            anyio::sleep(Duration::from_millis(1)).await;
        }
    });
    ticker.cancel();
    assert_eq!(
        ticker.wait().unwrap_err().kind(),
        anyio::ErrorKind::Cancelled
    );
    portal.stop(false); // waits for its tasks, then joins its thread
    Ok(())
}
// ANCHOR_END: portal

// ANCHOR: serve
async fn a_portal_inside_a_program() -> i32 {
    BlockingPortal::serve(|portal| async move {
        anyio::to_thread::run_sync(move || {
            portal.call(|| async { 40 }).unwrap() + portal.call_sync(|| 2).unwrap()
        })
        .await
    })
    .await
}
// ANCHOR_END: serve

// ANCHOR: to_process
/// A function that may crash its process, run in worker processes instead.
fn parse_untrusted(input: String) -> usize {
    if input.is_empty() {
        std::process::abort(); // a C library's crash, say
    }
    input.split_whitespace().count()
}

async fn in_worker_processes() -> anyio::Result<()> {
    let words = anyio::to_process::run_sync(parse_untrusted, "one two three".to_owned()).await?;
    println!("  a worker counted {words} words");
    // The worker dies; this call fails, the caller lives on, and the next call gets a
    // fresh worker.
    let crashed = anyio::to_process::run_sync(parse_untrusted, String::new()).await;
    println!("  a crash: {}", crashed.unwrap_err());
    let words = anyio::to_process::run_sync(parse_untrusted, "still fine".to_owned()).await?;
    println!("  and then {words} words from a new worker");
    Ok(())
}
// ANCHOR_END: to_process

fn main() -> anyio::Result<()> {
    // First thing: in a worker process this serves calls and never returns.
    anyio::to_process::init();
    anyio::run(async {
        println!("to_thread:");
        checksums_in_threads().await?;
        cancel_a_thread().await;
        println!("from_thread:");
        call_back_into_async().await?;
        println!(
            "a portal served by a task: {}",
            a_portal_inside_a_program().await
        );
        println!("to_process:");
        in_worker_processes().await?;
        anyio::Result::Ok(())
    })?;
    println!("a portal of its own:");
    sync_code_drives_async_code()
}
