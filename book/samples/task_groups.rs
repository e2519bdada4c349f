//! Chapter "Task groups".

use std::sync::Mutex;
use std::time::Duration;

use anyio::{ErrorKind, TaskStatus};

// ANCHOR: borrowing
async fn fetch_all(urls: &[&str]) -> anyio::Result<Vec<String>> {
    let pages = Mutex::new(Vec::new()); // a local the children borrow
    anyio::task_group!(|tg| {
        for url in urls {
            let pages = &pages;
            tg.start_soon(async move {
                anyio::sleep(Duration::from_millis(5)).await; // pretend to fetch
                pages.lock().unwrap().push(format!("<html>{url}</html>"));
            });
        }
    })?;
    // Every child has ended here, so the borrow is over and `pages` is ours again.
    Ok(pages.into_inner().unwrap())
}
// ANCHOR_END: borrowing

// ANCHOR: spawn
async fn checksum_in_parallel(blocks: Vec<Vec<u8>>) -> anyio::Result<u64> {
    let total = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    anyio::task_group!(|tg| {
        for block in blocks {
            let total = total.clone();
            // `spawn` runs the child on the runtime's worker threads: it must be
            // `Send + 'static`, so it owns what it uses.
            tg.spawn(async move {
                let sum: u64 = block.iter().map(|&b| u64::from(b)).sum();
                total.fetch_add(sum, std::sync::atomic::Ordering::Relaxed);
            });
        }
    })?;
    Ok(total.load(std::sync::atomic::Ordering::Relaxed))
}
// ANCHOR_END: spawn

// ANCHOR: start
/// A "server" that needs a moment to get ready, then serves until cancelled.
async fn serve(status: TaskStatus<u16>) -> anyio::Result<()> {
    anyio::sleep(Duration::from_millis(5)).await; // bind a socket, say
    status.started(8080); // tell the starter we are ready, and on which port
    anyio::sleep_forever().await; // serve until cancelled
    Ok(())
}

async fn start_then_use() -> anyio::Result<()> {
    anyio::task_group!(|tg| {
        let port = tg.start(serve).await?; // waits until `started` was called
        println!("  the server is ready on port {port}");
        tg.cancel(); // stop the server: it would run forever
        anyio::Result::Ok(())
    })?;
    Ok(())
}
// ANCHOR_END: start

// ANCHOR: errors
async fn two_failures() {
    let result = anyio::task_group!(|tg| {
        tg.start_soon(async { Err::<(), _>(anyio::Error::other("disk full")) });
        tg.start_soon(async { Err::<(), _>(anyio::Error::other("network down")) });
        tg.start_soon(async {
            anyio::sleep_forever().await; // cancelled by the first failure
        });
    });
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Group);
    let mut messages: Vec<_> = error.errors().map(|e| e.message().to_owned()).collect();
    messages.sort();
    println!("  the group failed with: {messages:?}");
}
// ANCHOR_END: errors

// ANCHOR: panics
async fn a_panicking_child() {
    let caught = std::panic::AssertUnwindSafe(async {
        let _ = anyio::task_group!(|tg| {
            tg.start_soon(async {
                anyio::sleep(Duration::from_millis(1)).await;
                panic!("a bug in a child");
            });
        });
    });
    // The panic comes out of the group, after its siblings were stopped.
    let outcome = futures_lite::FutureExt::catch_unwind(caught).await;
    println!("  the panic reached the parent: {}", outcome.is_err());
}
// ANCHOR_END: panics

// ANCHOR: without_macros
async fn without_macros() -> anyio::Result<()> {
    let group = anyio::TaskGroup::new();
    let tg = &group;
    let value = group
        .run(async {
            tg.start_soon(anyio::sleep(Duration::from_millis(1)));
            anyio::Result::Ok("the body's value")
        })
        .await?;
    assert_eq!(value, Some("the body's value"));
    Ok(())
}
// ANCHOR_END: without_macros

// ANCHOR: handles
async fn handles() -> anyio::Result<()> {
    anyio::task_group!(|tg| {
        // A task gives its value as `Ok(value)`; an `Err` is its failure, as for any child.
        let size = tg.create_task(async {
            anyio::sleep(Duration::from_millis(2)).await;
            anyio::Result::Ok(4096_u64)
        });
        let ticker = tg.create_task_named("ticker", anyio::sleep_forever());
        assert_eq!(ticker.name(), "ticker");
        assert_eq!(size.await?, 4096); // waits for the task, gives its value
        ticker.cancel(); // this task alone; the group goes on
        assert_eq!(ticker.await.unwrap_err().kind(), ErrorKind::Cancelled);
        anyio::Result::Ok(())
    })?;
    Ok(())
}
// ANCHOR_END: handles

// ANCHOR: helpers
async fn helpers() -> anyio::Result<()> {
    // Values in input order, whatever order the tasks finish in.
    let squares = anyio::gather((1..=3_u64).map(|n| async move {
        anyio::sleep(Duration::from_millis(4 - n)).await;
        anyio::Result::Ok(n * n)
    }))
    .await?;
    assert_eq!(squares, [1, 4, 9]);

    // Futures of different types: a tuple, in argument order.
    let (name, size) = anyio::gather!(async { anyio::Result::Ok("config.toml") }, async {
        anyio::Result::Ok(512_u64)
    },)?;
    assert_eq!((name, size), ("config.toml", 512));

    // One call per item, at most two at a time.
    let lengths = anyio::amap(
        |word: &str| async move { anyio::Result::Ok(word.len()) },
        ["one", "three", "five"],
    )
    .limit(2)
    .await?;
    assert_eq!(lengths, [3, 5, 4]);

    // Values in the order the tasks finish.
    let mut finished = anyio::as_completed([3_u64, 1, 2].map(|ms| async move {
        anyio::sleep(Duration::from_millis(ms)).await;
        anyio::Result::Ok(ms)
    }));
    let mut order = Vec::new();
    while let Some(ms) = finished.next().await {
        order.push(ms?);
    }
    assert_eq!(order, [1, 2, 3]);
    Ok(())
}
// ANCHOR_END: helpers

#[anyio::main]
async fn main() -> anyio::Result<()> {
    let pages = fetch_all(&["/a", "/b", "/c"]).await?;
    println!("  fetched {} pages", pages.len());
    let sum = checksum_in_parallel(vec![vec![1, 2, 3], vec![4, 5, 6]]).await?;
    println!("  checksum {sum}");
    start_then_use().await?;
    two_failures().await;
    std::panic::set_hook(Box::new(|_| {})); // keep the sample's output short
    a_panicking_child().await;
    without_macros().await?;
    handles().await?;
    helpers().await?;
    println!("  handles and helpers: done");
    Ok(())
}
