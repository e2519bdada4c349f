//! Chapter "Coming from tokio": the same jobs, side by side.

use std::time::Duration;

// ANCHOR: tokio_joinset
fn with_tokio() -> Vec<u32> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for n in 0..3u32 {
            set.spawn(async move {
                tokio::time::sleep(Duration::from_millis(u64::from(n))).await;
                n * 10
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = set.join_next().await {
            results.push(joined.unwrap()); // a panic arrives here as a JoinError
        }
        results.sort();
        results
    })
}
// ANCHOR_END: tokio_joinset

// ANCHOR: anyio_group
fn with_anyio() -> Vec<u32> {
    anyio::run(async {
        let results = std::sync::Mutex::new(Vec::new());
        anyio::task_group!(|tg| {
            for n in 0..3u32 {
                let results = &results; // borrowed: no Arc, no 'static
                tg.start_soon(async move {
                    anyio::sleep(Duration::from_millis(u64::from(n))).await;
                    results.lock().unwrap().push(n * 10);
                });
            }
        })
        .unwrap();
        let mut results = results.into_inner().unwrap();
        results.sort();
        results
    })
}
// ANCHOR_END: anyio_group

// ANCHOR: tokio_timeout
fn timeout_with_tokio() -> bool {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let slow = tokio::time::sleep(Duration::from_secs(3600));
        tokio::time::timeout(Duration::from_millis(5), slow)
            .await
            .is_err()
    })
}
// ANCHOR_END: tokio_timeout

// ANCHOR: anyio_timeout
fn timeout_with_anyio() -> bool {
    anyio::run(async {
        let slow = anyio::fail_after!(Duration::from_millis(5), {
            anyio::sleep(Duration::from_secs(3600)).await
        });
        slow.is_err()
    })
}
// ANCHOR_END: anyio_timeout

// ANCHOR: tokio_token
fn cancel_with_a_token() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        // tokio: a flag that the worker must check (here with `select!`).
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop_rx.changed() => break,
                    _ = tokio::time::sleep(Duration::from_millis(1)) => {}
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        stop_tx.send(true).unwrap();
        worker.await.unwrap();
    });
}
// ANCHOR_END: tokio_token

// ANCHOR: anyio_scope
fn cancel_with_a_scope() {
    anyio::run(async {
        // anyio: cancelling the scope drops the worker at its next await.
        let scope = anyio::CancelScope::new();
        anyio::task_group!(|tg| {
            tg.start_soon(async {
                scope
                    .run(async {
                        loop {
                            anyio::sleep(Duration::from_millis(1)).await;
                        }
                    })
                    .await;
            });
            anyio::sleep(Duration::from_millis(5)).await;
            scope.cancel();
        })
        .unwrap();
    });
}
// ANCHOR_END: anyio_scope

fn main() {
    assert_eq!(with_tokio(), with_anyio());
    assert!(timeout_with_tokio() && timeout_with_anyio());
    cancel_with_a_token();
    cancel_with_a_scope();
    println!("tokio and anyio agree");
}
