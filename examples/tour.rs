//! A short guided tour of anyio: task groups, timeouts, cancellation, shields and
//! memory object streams.
//!
//! Run it with `cargo run --example tour`.

use std::sync::Mutex;
use std::time::Duration;

use anyio::CancelScope;

#[anyio::main]
async fn main() -> anyio::Result<()> {
    // 1. A task group: children may borrow locals, and the group waits for all of them.
    println!("1. task groups");
    let pages = Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        for (url, delay_ms) in [("/a", 30), ("/b", 10), ("/c", 20)] {
            let pages = &pages;
            tg.start_soon(async move {
                anyio::sleep(Duration::from_millis(delay_ms)).await; // "fetch" the page
                println!("   fetched {url} after {delay_ms} ms");
                pages.lock().unwrap().push(url);
            });
        }
    })?;
    println!(
        "   the group ended with all {} pages",
        pages.lock().unwrap().len()
    );

    // 2. Errors are never lost: a failing child cancels its siblings, and the group
    //    returns the failure once every child has stopped.
    println!("2. a failing child");
    let err = anyio::task_group!(|tg| {
        tg.start_soon(async {
            anyio::sleep(10).await;
            println!("   never printed: the sibling is cancelled");
        });
        tg.start_soon(async {
            anyio::sleep(0.01).await;
            Err::<(), _>(anyio::Error::other("the database is down"))
        });
    })
    .unwrap_err();
    println!("   the group failed: {err}");

    // 3. Timeouts: fail_after is an error, move_on_after just gives up.
    println!("3. timeouts");
    let slow = anyio::fail_after!(0.02, { anyio::sleep(1).await });
    println!("   fail_after: {}", slow.unwrap_err());
    let skipped = anyio::move_on_after!(0.02, {
        anyio::sleep(1).await;
        "finished"
    });
    println!("   move_on_after: {skipped:?}");

    // 4. Cancellation by hand, and a shield that lets cleanup finish.
    println!("4. cancellation and shields");
    let scope = CancelScope::new();
    let handle = scope.clone();
    let outcome = scope
        .run(async {
            handle.cancel();
            CancelScope::shielded()
                .run(async {
                    anyio::sleep(0.01).await; // runs although the scope is cancelled
                    println!("   shielded cleanup finished");
                })
                .await;
            anyio::sleep(1).await; // the first checkpoint after the shield ends the body
            println!("   never printed");
        })
        .await;
    println!(
        "   body finished: {}, cancelled_caught: {}",
        outcome.is_some(),
        scope.cancelled_caught()
    );

    // 5. Streams: a bounded channel between tasks; the producer waits when it is full,
    //    and the consumer sees the end of the stream when every sender is gone.
    println!("5. memory object streams");
    let (tx, rx) = anyio::create_memory_object_stream::<u32>(1);
    anyio::task_group!(|tg| {
        tg.start_soon(async move {
            for n in 1..=3 {
                tx.send(n).await?; // waits while the one-item buffer is full
            }
            anyio::Result::Ok(()) // `tx` is dropped: the stream ends
        });
        let mut sum = 0;
        while let Ok(n) = rx.receive().await {
            println!("   received {n}");
            sum += n;
        }
        println!("   the stream ended; sum {sum}");
    })?;
    Ok(())
}
