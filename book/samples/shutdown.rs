//! Chapter "Cancellation", section "Shutdown on an event".

use std::time::Duration;

use anyio::Event;

// ANCHOR: shutdown
/// Serves jobs until `stop` is set, then reports what it did.
async fn serve(name: &str, stop: &Event) -> anyio::Result<()> {
    let mut jobs = 0;
    // The loop is cancelled at its next checkpoint once `stop` is set.
    let finished = stop
        .cancel_on_set(async {
            loop {
                anyio::sleep(Duration::from_millis(2)).await; // one job
                jobs += 1;
            }
        })
        .await;
    assert!(finished.is_none(), "only the event ends this loop");
    println!("  {name} stopped after {jobs} jobs");
    Ok(())
}

async fn run_until_stopped() -> anyio::Result<()> {
    let stop = Event::new();
    anyio::task_group!(|tg| {
        for name in ["reader", "writer"] {
            let stop = &stop;
            tg.start_soon(async move { serve(name, stop).await });
        }
        anyio::sleep(Duration::from_millis(10)).await;
        stop.set(); // e.g. on a signal, or a "quit" command
    })?;
    Ok(())
}
// ANCHOR_END: shutdown

#[anyio::main]
async fn main() -> anyio::Result<()> {
    run_until_stopped().await
}
