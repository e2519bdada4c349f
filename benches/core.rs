//! Core benchmarks, measured side by side with raw smol and tokio in one run.
//!
//! Run with `cargo bench --bench core` (add `-- quick` for fewer repetitions, and any of
//! `spawn`, `memory`, `checkpoint`, `timeout`, `channel` to run only those cases). Each
//! timed case is repeated and the median time per operation is reported, with its ratio
//! to every peer in the same thread configuration, and the target it must meet (issue
//! 10's hot-path targets); misses are marked `MISS` and counted on the last line.

mod harness;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_lite::future::{self, FutureExt};
use harness::{Smol, anyio_runtime, measure, timed, tokio_current, tokio_multi};

const SPAWNS: usize = 100_000;
const SLEEPERS: usize = 10_000;
const CHECKPOINTS: usize = 1_000_000;
const TIMEOUTS: usize = 1_000_000;
const ROUND_TRIPS: usize = 100_000;
const PRODUCERS: usize = 4;
const ITEMS_PER_PRODUCER: usize = 250_000;
const FAN_IN_CAPACITY: usize = 64;

// ---- live heap bytes, counted only while a memory case runs ----

#[path = "../tests/support/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static ALLOCATOR: counting_alloc::CountingAllocator = counting_alloc::CountingAllocator;

/// Live heap bytes since `counting_alloc::start`.
fn counted_bytes() -> f64 {
    counting_alloc::live() as f64
}

// ---- the table ----

/// One case: each anyio variant against each peer, in one thread configuration.
struct Row {
    case: &'static str,
    config: &'static str,
    unit: &'static str,
    anyio: Vec<(&'static str, f64)>,
    peers: Vec<(&'static str, f64)>,
    /// (anyio variant, peer, largest ratio allowed): issue 10's targets.
    targets: Vec<(&'static str, &'static str, f64)>,
}

fn spawn_rows(reps: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    for (config, extra, tokio_rt) in [
        ("1 thread", 0, tokio_current()),
        ("2 threads", 1, tokio_multi(2)),
    ] {
        let rt = anyio_runtime(extra);
        let start_soon = measure(reps, SPAWNS, || {
            rt.block_on(timed(async {
                anyio::task_group!(|tg| {
                    for _ in 0..SPAWNS {
                        tg.start_soon(async {});
                    }
                })
                .unwrap();
            }))
        });
        let spawn = measure(reps, SPAWNS, || {
            rt.block_on(timed(async {
                anyio::task_group!(|tg| {
                    for _ in 0..SPAWNS {
                        tg.spawn(async {});
                    }
                })
                .unwrap();
            }))
        });
        let smol = Smol::new(extra);
        let smol_ns = measure(reps, SPAWNS, || {
            smol.block_on(timed(async {
                let tasks: Vec<_> = (0..SPAWNS).map(|_| smol.executor.spawn(async {})).collect();
                for task in tasks {
                    task.await;
                }
            }))
        });
        let tokio_ns = measure(reps, SPAWNS, || {
            tokio_rt.block_on(timed(async {
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..SPAWNS {
                    set.spawn(async {});
                }
                while set.join_next().await.is_some() {}
            }))
        });
        let targets = if extra == 0 {
            vec![("start_soon", "smol", 1.0), ("spawn", "smol", 1.5)]
        } else {
            vec![("spawn", "smol", 1.0)]
        };
        rows.push(Row {
            case: "spawn+join 100k",
            config,
            unit: "ns",
            anyio: vec![("start_soon", start_soon), ("spawn", spawn)],
            peers: vec![("smol", smol_ns), ("tokio", tokio_ns)],
            targets,
        });
    }
    rows
}

/// Heap bytes per task of `SLEEPERS` tasks that have each been polled once and wait.
fn memory_row() -> Row {
    let rt = anyio_runtime(0);
    let start_soon = rt.block_on(async {
        let polled = AtomicUsize::new(0);
        counting_alloc::start();
        let mut bytes = 0.0;
        anyio::task_group!(|tg| {
            for _ in 0..SLEEPERS {
                let polled = &polled;
                tg.start_soon(async move {
                    polled.fetch_add(1, Ordering::Relaxed);
                    std::future::pending::<()>().await;
                });
            }
            while polled.load(Ordering::Relaxed) < SLEEPERS {
                anyio::lowlevel::checkpoint().await;
            }
            bytes = counted_bytes();
            tg.cancel();
        })
        .unwrap();
        counting_alloc::stop();
        bytes / SLEEPERS as f64
    });
    let spawn = rt.block_on(async {
        let polled = Arc::new(AtomicUsize::new(0));
        counting_alloc::start();
        let mut bytes = 0.0;
        anyio::task_group!(|tg| {
            for _ in 0..SLEEPERS {
                let polled = polled.clone();
                tg.spawn(async move {
                    polled.fetch_add(1, Ordering::Relaxed);
                    drop(polled);
                    std::future::pending::<()>().await;
                });
            }
            while polled.load(Ordering::Relaxed) < SLEEPERS {
                anyio::lowlevel::checkpoint().await;
            }
            bytes = counted_bytes();
            tg.cancel();
        })
        .unwrap();
        counting_alloc::stop();
        bytes / SLEEPERS as f64
    });
    let smol = Smol::new(0);
    let smol_bytes = smol.block_on(async {
        let polled = Arc::new(AtomicUsize::new(0));
        counting_alloc::start();
        let tasks: Vec<_> = (0..SLEEPERS)
            .map(|_| {
                let polled = polled.clone();
                smol.executor.spawn(async move {
                    polled.fetch_add(1, Ordering::Relaxed);
                    drop(polled);
                    std::future::pending::<()>().await;
                })
            })
            .collect();
        while polled.load(Ordering::Relaxed) < SLEEPERS {
            future::yield_now().await;
        }
        let bytes = counted_bytes();
        drop(tasks);
        counting_alloc::stop();
        bytes / SLEEPERS as f64
    });
    let tokio_rt = tokio_current();
    let tokio_bytes = tokio_rt.block_on(async {
        let polled = Arc::new(AtomicUsize::new(0));
        counting_alloc::start();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..SLEEPERS {
            let polled = polled.clone();
            set.spawn(async move {
                polled.fetch_add(1, Ordering::Relaxed);
                drop(polled);
                std::future::pending::<()>().await;
            });
        }
        while polled.load(Ordering::Relaxed) < SLEEPERS {
            tokio::task::yield_now().await;
        }
        let bytes = counted_bytes();
        set.abort_all();
        while set.join_next().await.is_some() {}
        counting_alloc::stop();
        bytes / SLEEPERS as f64
    });
    Row {
        case: "memory per sleeping task 10k",
        config: "1 thread",
        unit: "B",
        anyio: vec![("start_soon", start_soon), ("spawn", spawn)],
        peers: vec![("smol", smol_bytes), ("tokio", tokio_bytes)],
        targets: vec![("start_soon", "smol", 1.0), ("spawn", "smol", 1.0)],
    }
}

fn checkpoint_row(reps: usize) -> Row {
    let rt = anyio_runtime(0);
    let in_main = measure(reps, CHECKPOINTS, || {
        rt.block_on(timed(async {
            for _ in 0..CHECKPOINTS {
                anyio::lowlevel::checkpoint().await;
            }
        }))
    });
    let in_spawned = measure(reps, CHECKPOINTS, || {
        rt.block_on(timed(async {
            anyio::task_group!(|tg| {
                tg.spawn(async {
                    for _ in 0..CHECKPOINTS {
                        anyio::lowlevel::checkpoint().await;
                    }
                });
            })
            .unwrap();
        }))
    });
    let smol = Smol::new(0);
    let smol_ns = measure(reps, CHECKPOINTS, || {
        smol.block_on(timed(async {
            smol.executor
                .spawn(async {
                    for _ in 0..CHECKPOINTS {
                        future::yield_now().await;
                    }
                })
                .await;
        }))
    });
    let tokio_rt = tokio_current();
    let tokio_ns = measure(reps, CHECKPOINTS, || {
        tokio_rt.block_on(timed(async {
            tokio::spawn(async {
                for _ in 0..CHECKPOINTS {
                    tokio::task::yield_now().await;
                }
            })
            .await
            .unwrap();
        }))
    });
    Row {
        case: "checkpoint vs yield 1M",
        config: "1 thread",
        unit: "ns",
        anyio: vec![("main task", in_main), ("spawned", in_spawned)],
        peers: vec![("smol", smol_ns), ("tokio", tokio_ns)],
        targets: vec![("spawned", "smol", 1.1)],
    }
}

fn timeout_rows(reps: usize) -> Vec<Row> {
    let long = Duration::from_secs(60);
    let mut rows = Vec::new();
    for (case, pending_once, max) in [
        ("timeout, ready body 1M", false, 1.2),
        ("timeout, pending-once body 1M", true, 1.0),
    ] {
        let body = move || async move {
            if pending_once {
                future::yield_now().await;
            }
            1_u32
        };
        let rt = anyio_runtime(0);
        let anyio_ns = measure(reps, TIMEOUTS, || {
            rt.block_on(timed(async {
                for _ in 0..TIMEOUTS {
                    let value = anyio::fail_after(long, body()).await.unwrap();
                    std::hint::black_box(value);
                }
            }))
        });
        let smol = Smol::new(0);
        let smol_ns = measure(reps, TIMEOUTS, || {
            smol.block_on(timed(async {
                for _ in 0..TIMEOUTS {
                    // Created eagerly, as a timeout must be: the deadline is taken now.
                    let timer = async_io::Timer::after(long);
                    let timer = async {
                        timer.await;
                        None
                    };
                    let value = async { Some(body().await) }.or(timer).await.unwrap();
                    std::hint::black_box(value);
                }
            }))
        });
        let tokio_rt = tokio_current();
        let tokio_ns = measure(reps, TIMEOUTS, || {
            tokio_rt.block_on(timed(async {
                for _ in 0..TIMEOUTS {
                    let value = tokio::time::timeout(long, body()).await.unwrap();
                    std::hint::black_box(value);
                }
            }))
        });
        rows.push(Row {
            case,
            config: "1 thread",
            unit: "ns",
            anyio: vec![("fail_after", anyio_ns)],
            peers: vec![("smol", smol_ns), ("tokio", tokio_ns)],
            targets: vec![("fail_after", "tokio", max)],
        });
    }
    rows
}

/// Ping-pong between two spawned tasks, per message: anyio memory streams against smol
/// tasks over async-channel.
fn ping_pong_row(reps: usize) -> Row {
    let ops = ROUND_TRIPS * 2;
    let rt = anyio_runtime(0);
    let anyio_ns = measure(reps, ops, || {
        rt.block_on(timed(async {
            let (ping_tx, ping_rx) = anyio::create_memory_object_stream::<usize>(1);
            let (pong_tx, pong_rx) = anyio::create_memory_object_stream::<usize>(1);
            anyio::task_group!(|tg| {
                tg.spawn(async move {
                    while let Ok(n) = ping_rx.receive().await {
                        pong_tx.send(n).await.unwrap();
                    }
                });
                tg.spawn(async move {
                    for n in 0..ROUND_TRIPS {
                        ping_tx.send(n).await.unwrap();
                        pong_rx.receive().await.unwrap();
                    }
                });
            })
            .unwrap();
        }))
    });
    let smol = Smol::new(0);
    let smol_ns = measure(reps, ops, || {
        smol.block_on(timed(async {
            let (ping_tx, ping_rx) = async_channel::bounded::<usize>(1);
            let (pong_tx, pong_rx) = async_channel::bounded::<usize>(1);
            let echo = smol.executor.spawn(async move {
                while let Ok(n) = ping_rx.recv().await {
                    pong_tx.send(n).await.unwrap();
                }
            });
            let driver = smol.executor.spawn(async move {
                for n in 0..ROUND_TRIPS {
                    ping_tx.send(n).await.unwrap();
                    pong_rx.recv().await.unwrap();
                }
            });
            driver.await;
            echo.await;
        }))
    });
    Row {
        case: "ping-pong, two spawned tasks",
        config: "1 thread",
        unit: "ns",
        anyio: vec![("memory", anyio_ns)],
        peers: vec![("smol+async-channel", smol_ns)],
        targets: vec![("memory", "smol+async-channel", 1.0)],
    }
}

/// Four spawned producers into one consumer, per item.
fn fan_in_row(reps: usize) -> Row {
    let ops = PRODUCERS * ITEMS_PER_PRODUCER;
    let rt = anyio_runtime(0);
    let anyio_ns = measure(reps, ops, || {
        rt.block_on(timed(async {
            let (tx, rx) = anyio::create_memory_object_stream::<usize>(FAN_IN_CAPACITY);
            anyio::task_group!(|tg| {
                for _ in 0..PRODUCERS {
                    let tx = tx.clone();
                    tg.spawn(async move {
                        for n in 0..ITEMS_PER_PRODUCER {
                            tx.send(n).await.unwrap();
                        }
                    });
                }
                drop(tx);
                let mut received = 0;
                while rx.receive().await.is_ok() {
                    received += 1;
                }
                assert_eq!(received, ops);
            })
            .unwrap();
        }))
    });
    let smol = Smol::new(0);
    let async_channel_ns = measure(reps, ops, || {
        smol.block_on(timed(async {
            let (tx, rx) = async_channel::bounded::<usize>(FAN_IN_CAPACITY);
            for _ in 0..PRODUCERS {
                let tx = tx.clone();
                smol.executor
                    .spawn(async move {
                        for n in 0..ITEMS_PER_PRODUCER {
                            tx.send(n).await.unwrap();
                        }
                    })
                    .detach();
            }
            drop(tx);
            let mut received = 0;
            while rx.recv().await.is_ok() {
                received += 1;
            }
            assert_eq!(received, ops);
        }))
    });
    let flume_ns = measure(reps, ops, || {
        smol.block_on(timed(async {
            let (tx, rx) = flume::bounded::<usize>(FAN_IN_CAPACITY);
            for _ in 0..PRODUCERS {
                let tx = tx.clone();
                smol.executor
                    .spawn(async move {
                        for n in 0..ITEMS_PER_PRODUCER {
                            tx.send_async(n).await.unwrap();
                        }
                    })
                    .detach();
            }
            drop(tx);
            let mut received = 0;
            while rx.recv_async().await.is_ok() {
                received += 1;
            }
            assert_eq!(received, ops);
        }))
    });
    Row {
        case: "fan-in 4x250k, capacity 64",
        config: "1 thread",
        unit: "ns",
        anyio: vec![("memory", anyio_ns)],
        peers: vec![("async-channel", async_channel_ns), ("flume", flume_ns)],
        targets: vec![("memory", "async-channel", 1.0), ("memory", "flume", 1.3)],
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `quick` lowers the repetitions; case names filter.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "quick");
    let reps = if quick { 3 } else { 11 };
    let cases = ["spawn", "memory", "checkpoint", "timeout", "channel"];
    let filters: Vec<&str> = cases
        .into_iter()
        .filter(|case| args.iter().any(|a| a == case))
        .collect();
    let wanted = |case: &str| filters.is_empty() || filters.contains(&case);

    let mut rows = Vec::new();
    if wanted("spawn") {
        rows.extend(spawn_rows(reps));
    }
    if wanted("memory") {
        rows.push(memory_row());
    }
    if wanted("checkpoint") {
        rows.push(checkpoint_row(reps));
    }
    if wanted("timeout") {
        rows.extend(timeout_rows(reps));
    }
    if wanted("channel") {
        rows.push(ping_pong_row(reps));
        rows.push(fan_in_row(reps));
    }

    println!(
        "{:<30} {:<10} {:<11} {:>9}  {:<19} {:>9} {:>7}  {:<8} met",
        "case", "threads", "anyio", "value", "peer", "value", "ratio", "target"
    );
    let mut misses = 0;
    for row in &rows {
        for (op, value) in &row.anyio {
            for (peer, peer_value) in &row.peers {
                let ratio = value / peer_value;
                let target = row
                    .targets
                    .iter()
                    .find(|(t_op, t_peer, _)| t_op == op && t_peer == peer);
                let (target, met) = match target {
                    Some((_, _, max)) if ratio <= *max => (format!("<={max:.1}x"), "ok"),
                    Some((_, _, max)) => {
                        misses += 1;
                        (format!("<={max:.1}x"), "MISS")
                    }
                    None => (String::new(), ""),
                };
                println!(
                    "{:<30} {:<10} {:<11} {:>6.1} {:<2} {:<19} {:>6.1} {:<2} {:>6.2}x  {:<8} {}",
                    row.case,
                    row.config,
                    op,
                    value,
                    row.unit,
                    peer,
                    peer_value,
                    row.unit,
                    ratio,
                    target,
                    met
                );
            }
        }
    }
    println!(
        "(times: median ns per operation of {reps} runs; memory: heap bytes per task; \
         ratios below 1 mean anyio is cheaper)"
    );
    println!("targets missed: {misses} (the targets are issue 10's, single thread unless said)");
}
