//! Chapter "Cancellation".

use std::time::Duration;

use anyio::CancelScope;

/// Prints when dropped: shows the moment a cancelled body is dropped.
struct Noisy(&'static str);

impl Drop for Noisy {
    fn drop(&mut self) {
        println!("  dropped: {}", self.0);
    }
}

// ANCHOR: by_hand
async fn cancel_by_hand() {
    let scope = CancelScope::new();
    let handle = scope.clone(); // handles share the scope; any of them can cancel
    let outcome = scope
        .run(async {
            let _guard = Noisy("the body of the scope");
            handle.cancel();
            println!("  still running: cancelling does not stop code between awaits");
            anyio::sleep(Duration::from_secs(3600)).await; // the next suspension point
            println!("  never printed");
        })
        .await;
    assert_eq!(outcome, None); // None: the body was cancelled
    println!(
        "  cancel_called {}, cancelled_caught {}",
        scope.cancel_called(),
        scope.cancelled_caught()
    );
}
// ANCHOR_END: by_hand

// ANCHOR: from_another_task
async fn cancel_from_another_task() {
    let scope = CancelScope::new();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            scope
                .run(async {
                    let _guard = Noisy("the worker's loop");
                    loop {
                        anyio::sleep(Duration::from_millis(1)).await; // do some work
                    }
                })
                .await;
            println!("  the worker goes on after its scope");
        });
        anyio::sleep(Duration::from_millis(10)).await;
        scope.cancel();
    })
    .unwrap();
}
// ANCHOR_END: from_another_task

// ANCHOR: nested
async fn nested_scopes() {
    let outer = CancelScope::new();
    outer
        .run(async {
            let inner = CancelScope::new();
            inner
                .run(async {
                    outer.cancel(); // cancel the *outer* scope from inside the inner one
                    anyio::sleep(Duration::from_secs(3600)).await;
                })
                .await;
            // The outer scope is cancelled too, so this line must not run: the inner
            // `run` does not return into a cancelled scope; the outer scope delivers.
            println!("  never printed");
        })
        .await;
    println!("  outer cancelled_caught: {}", outer.cancelled_caught());
}
// ANCHOR_END: nested

// ANCHOR: group_cancel
async fn cancel_a_group() {
    anyio::task_group!(|tg| {
        for n in 0..3 {
            tg.start_soon(async move {
                let _guard = Noisy(["child 0", "child 1", "child 2"][n]);
                anyio::sleep_forever().await;
            });
        }
        anyio::sleep(Duration::from_millis(5)).await;
        tg.cancel(); // cancels the body and every child
    })
    .unwrap();
    println!("  the group ended: every child was dropped");
}
// ANCHOR_END: group_cancel

#[anyio::main]
async fn main() {
    println!("by hand:");
    cancel_by_hand().await;
    println!("from another task:");
    cancel_from_another_task().await;
    println!("nested scopes:");
    nested_scopes().await;
    println!("a whole group:");
    cancel_a_group().await;
}
