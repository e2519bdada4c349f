//! Chapter "Shielding and async cleanup".

use std::time::Duration;

use anyio::CancelScope;

// ANCHOR: shield
async fn save_even_when_cancelled() {
    let scope = CancelScope::new();
    let handle = scope.clone();
    scope
        .run(async {
            handle.cancel(); // say the user pressed Ctrl-C
            CancelScope::shielded()
                .run(async {
                    // Inside a shield, awaiting works even though the scope is cancelled.
                    anyio::sleep(Duration::from_millis(10)).await;
                    println!("  the document was saved");
                })
                .await;
            anyio::sleep(Duration::from_millis(1)).await; // cancelled here
            println!("  never printed");
        })
        .await;
}
// ANCHOR_END: shield

// ANCHOR: with_cleanup
async fn upload() -> anyio::Result<()> {
    anyio::sleep(Duration::from_secs(3600)).await; // stuck on the network
    Ok(())
}

async fn upload_with_cleanup() {
    let outcome = anyio::move_on_after!(0.01, {
        anyio::with_cleanup(upload(), async {
            // Runs shielded when `upload` is cancelled or fails: tell the server.
            anyio::sleep(Duration::from_millis(5)).await;
            println!("  told the server to discard the partial upload");
        })
        .await
    });
    println!("  the upload finished: {}", outcome.is_some());
}
// ANCHOR_END: with_cleanup

// ANCHOR: bounded_cleanup
async fn cleanup_with_its_own_deadline() {
    let scope = CancelScope::shielded();
    scope
        .run(async {
            // A shield without a deadline could hang forever; give cleanup a budget.
            let done = anyio::move_on_after!(0.01, {
                anyio::sleep(Duration::from_secs(3600)).await; // an unresponsive peer
            });
            println!("  cleanup gave up in time: {}", done.is_none());
        })
        .await;
}
// ANCHOR_END: bounded_cleanup

#[anyio::main]
async fn main() {
    save_even_when_cancelled().await;
    upload_with_cleanup().await;
    cleanup_with_its_own_deadline().await;
}
