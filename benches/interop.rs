//! anyio inside tokio (no anyio runtime), against tokio's own tools for the same jobs, all
//! on one tokio current-thread runtime (`block_on`):
//!
//! - an anyio task group starting 10,000 `start_soon` children that do nothing, against
//!   a tokio `JoinSet` spawning 10,000 tasks and joining them;
//! - `anyio::fail_after(60, ready)` 100,000 times, against
//!   `tokio::time::timeout(60 s, ready)` 100,000 times (a body that is ready at once);
//! - the same around a body that yields once (`tokio::task::yield_now`), so that the
//!   deadline has to be armed: anyio arms an async-io timer outside its own runtime.
//!
//! Run with `cargo bench --bench interop` (add `-- quick` for fewer repetitions).
//! Reports the median time per operation of each side and anyio's ratio to tokio.

mod harness;

use std::future::ready;
use std::hint::black_box;
use std::time::Duration;

use harness::{measure, timed, tokio_current};

const CHILDREN: usize = 10_000;
const TIMEOUTS: usize = 100_000;

async fn anyio_group() {
    anyio::task_group!(|tg| {
        for _ in 0..CHILDREN {
            tg.start_soon(async {});
        }
    })
    .expect("the group failed");
}

async fn tokio_join_set() {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..CHILDREN {
        set.spawn(async {});
    }
    while let Some(joined) = set.join_next().await {
        joined.expect("a task failed");
    }
}

async fn anyio_fail_after() {
    for i in 0..TIMEOUTS {
        let value = anyio::fail_after(60, ready(i)).await.expect("timed out");
        black_box(value);
    }
}

async fn tokio_timeout() {
    for i in 0..TIMEOUTS {
        let value = tokio::time::timeout(Duration::from_secs(60), ready(i))
            .await
            .expect("timed out");
        black_box(value);
    }
}

async fn anyio_fail_after_pending_once() {
    for i in 0..TIMEOUTS {
        let value = anyio::fail_after(60, async {
            tokio::task::yield_now().await;
            i
        })
        .await
        .expect("timed out");
        black_box(value);
    }
}

async fn tokio_timeout_pending_once() {
    for i in 0..TIMEOUTS {
        let value = tokio::time::timeout(Duration::from_secs(60), async {
            tokio::task::yield_now().await;
            i
        })
        .await
        .expect("timed out");
        black_box(value);
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let reps = if quick { 3 } else { 7 };
    let rt = tokio_current();
    println!(
        "{:<36} {:<14} {:>10} {:>11} {:>10}  anyio/peer",
        "case", "executor", "anyio ns", "peer", "peer ns"
    );
    let executor = "tokio 1 thread";

    let case = "group of 10,000 children (per child)";
    let anyio_ns = measure(reps, CHILDREN, || rt.block_on(timed(anyio_group())));
    let peer_ns = measure(reps, CHILDREN, || rt.block_on(timed(tokio_join_set())));
    println!(
        "{case:<36} {executor:<14} {anyio_ns:>10.0} {:>11} {peer_ns:>10.0}  {:>6.2}x",
        "JoinSet",
        anyio_ns / peer_ns
    );

    let case = "fail_after(60, ready) (per call)";
    let anyio_ns = measure(reps, TIMEOUTS, || rt.block_on(timed(anyio_fail_after())));
    let peer_ns = measure(reps, TIMEOUTS, || rt.block_on(timed(tokio_timeout())));
    println!(
        "{case:<36} {executor:<14} {anyio_ns:>10.1} {:>11} {peer_ns:>10.1}  {:>6.2}x",
        "timeout",
        anyio_ns / peer_ns
    );

    let case = "fail_after(60, pending once)";
    let anyio_ns = measure(reps, TIMEOUTS, || {
        rt.block_on(timed(anyio_fail_after_pending_once()))
    });
    let peer_ns = measure(reps, TIMEOUTS, || {
        rt.block_on(timed(tokio_timeout_pending_once()))
    });
    println!(
        "{case:<36} {executor:<14} {anyio_ns:>10.1} {:>11} {peer_ns:>10.1}  {:>6.2}x",
        "timeout",
        anyio_ns / peer_ns
    );
    println!("(median ns per operation of {reps} runs; ratios below 1 mean anyio is faster)");
}
