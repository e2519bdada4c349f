//! Running blocking functions on threads, against tokio's `spawn_blocking` and the
//! `blocking` crate's `unblock` (what smol uses), in one run:
//!
//! - round trip: 10,000 calls of a trivial function, one after the other;
//! - 10,000 concurrent calls through a limit of 40 at a time (anyio: the default
//!   thread limiter; tokio and blocking: a semaphore of 40 permits taken around each
//!   call, so that each side runs at most 40 jobs at once).
//!
//! - worker processes: 200 `to_process::run_sync` calls of a trivial function, one
//!   after the other, against starting a process per call (`/bin/true` through
//!   async-process, spawn and wait).
//!
//! Each side runs on one thread of its own runtime (anyio `worker_threads(0)`, tokio
//! current-thread, `async_io::block_on` for `blocking`). Run with
//! `cargo bench --bench threads` (add `-- quick` for fewer repetitions). Reports the
//! median time per call and anyio's ratio to each peer.

mod harness;

use std::hint::black_box;
use std::sync::Arc;

use harness::{anyio_runtime, measure, timed, tokio_current};

const CALLS: usize = 10_000;
const LIMIT: usize = 40;

async fn anyio_round_trips() {
    for i in 0..CALLS {
        black_box(anyio::to_thread::run_sync(move || black_box(i)).await);
    }
}

async fn tokio_round_trips() {
    for i in 0..CALLS {
        black_box(
            tokio::task::spawn_blocking(move || black_box(i))
                .await
                .unwrap(),
        );
    }
}

async fn blocking_round_trips() {
    for i in 0..CALLS {
        black_box(blocking::unblock(move || black_box(i)).await);
    }
}

async fn anyio_concurrent() {
    anyio::task_group!(|tg| {
        for i in 0..CALLS {
            tg.start_soon(async move {
                black_box(anyio::to_thread::run_sync(move || black_box(i)).await);
            });
        }
    })
    .unwrap();
}

async fn tokio_concurrent() {
    let permits = Arc::new(tokio::sync::Semaphore::new(LIMIT));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..CALLS {
        let permits = permits.clone();
        set.spawn(async move {
            let _permit = permits.acquire().await.unwrap();
            black_box(
                tokio::task::spawn_blocking(move || black_box(i))
                    .await
                    .unwrap(),
            );
        });
    }
    while let Some(joined) = set.join_next().await {
        joined.unwrap();
    }
}

fn blocking_concurrent(executor: &async_executor::LocalExecutor<'_>) {
    let permits = Arc::new(async_lock::Semaphore::new(LIMIT));
    let tasks: Vec<_> = (0..CALLS)
        .map(|i| {
            let permits = permits.clone();
            executor.spawn(async move {
                let _permit = permits.acquire().await;
                black_box(blocking::unblock(move || black_box(i)).await);
            })
        })
        .collect();
    async_io::block_on(executor.run(async {
        for task in tasks {
            task.await;
        }
    }));
}

const PROCESS_CALLS: usize = 200;

fn double(x: u64) -> u64 {
    x * 2
}

async fn anyio_process_round_trips() {
    for i in 0..PROCESS_CALLS as u64 {
        let doubled = anyio::to_process::run_sync(double, i).await.unwrap();
        black_box(doubled);
    }
}

async fn process_per_call() {
    for _ in 0..PROCESS_CALLS {
        let status = async_process::Command::new("true").status().await.unwrap();
        black_box(status);
    }
}

fn report(case: &str, anyio_ns: f64, peers: &[(&str, f64)]) {
    let mut line = format!("{case:<34} anyio {anyio_ns:>8.0} ns");
    for (name, ns) in peers {
        line += &format!("   {name} {ns:>8.0} ns ({:.2}x)", anyio_ns / ns);
    }
    println!("{line}");
}

fn main() {
    // In a worker process of the `to_process` case, this serves calls and never returns.
    anyio::to_process::init();
    let quick = std::env::args().any(|a| a == "quick");
    let reps = if quick { 3 } else { 7 };
    let anyio = anyio_runtime(0);
    let tokio = tokio_current();
    println!("(median ns per call of {reps} runs; ratios are anyio / peer, below 1 is faster)");

    let anyio_ns = measure(reps, CALLS, || anyio.block_on(timed(anyio_round_trips())));
    let tokio_ns = measure(reps, CALLS, || tokio.block_on(timed(tokio_round_trips())));
    let blocking_ns = measure(reps, CALLS, || {
        async_io::block_on(timed(blocking_round_trips()))
    });
    report(
        "round trip, one call at a time",
        anyio_ns,
        &[
            ("tokio spawn_blocking", tokio_ns),
            ("blocking::unblock", blocking_ns),
        ],
    );

    let anyio_ns = measure(reps, CALLS, || anyio.block_on(timed(anyio_concurrent())));
    let tokio_ns = measure(reps, CALLS, || tokio.block_on(timed(tokio_concurrent())));
    let executor = async_executor::LocalExecutor::new();
    let blocking_ns = measure(reps, CALLS, || {
        let start = std::time::Instant::now();
        blocking_concurrent(&executor);
        start.elapsed()
    });
    report(
        "10,000 at once, 40 at a time",
        anyio_ns,
        &[
            ("tokio spawn_blocking", tokio_ns),
            ("blocking::unblock", blocking_ns),
        ],
    );

    let anyio_ns = measure(reps, PROCESS_CALLS, || {
        anyio.block_on(timed(anyio_process_round_trips()))
    });
    let spawn_ns = measure(reps, PROCESS_CALLS, || {
        async_io::block_on(timed(process_per_call()))
    });
    report(
        "to_process round trip",
        anyio_ns,
        &[("a process per call", spawn_ns)],
    );
}
