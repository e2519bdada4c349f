//! Synchronization and memory-stream benchmarks, side by side in one run with tokio
//! (mpsc, Mutex), async-channel, flume and async-lock, all on one thread.
//!
//! Run with `cargo bench --bench sync` (add `-- quick` for fewer repetitions). Reports
//! the median ns per operation and the ratio of anyio to the best competitor.

mod harness;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use harness::{Smol, anyio_runtime, measure, timed, tokio_current};

const ROUND_TRIPS: usize = 100_000; // 200,000 messages
const PRODUCERS: usize = 4;
const ITEMS_PER_PRODUCER: usize = 250_000;
const FAN_IN_CAPACITY: usize = 64;
const LOCK_TASKS: usize = 100;
const LOCKS_PER_TASK: usize = 10_000;

struct Row {
    case: &'static str,
    results: Vec<(&'static str, f64)>,
}

fn ping_pong(reps: usize) -> Row {
    let ops = ROUND_TRIPS * 2;
    let rt = anyio_runtime(0);
    let anyio_ns = measure(reps, ops, || {
        rt.block_on(timed(async {
            let (ping_tx, ping_rx) = anyio::create_memory_object_stream::<usize>(1);
            let (pong_tx, pong_rx) = anyio::create_memory_object_stream::<usize>(1);
            anyio::task_group!(|tg| {
                tg.start_soon(async move {
                    while let Ok(n) = ping_rx.receive().await {
                        pong_tx.send(n).await.unwrap();
                    }
                });
                for n in 0..ROUND_TRIPS {
                    ping_tx.send(n).await.unwrap();
                    pong_rx.receive().await.unwrap();
                }
                drop(ping_tx);
            })
            .unwrap();
        }))
    });
    // The echo as a spawned executor task, as the competitors run it.
    let anyio_spawn_ns = measure(reps, ops, || {
        rt.block_on(timed(async {
            let (ping_tx, ping_rx) = anyio::create_memory_object_stream::<usize>(1);
            let (pong_tx, pong_rx) = anyio::create_memory_object_stream::<usize>(1);
            anyio::task_group!(|tg| {
                tg.spawn(async move {
                    while let Ok(n) = ping_rx.receive().await {
                        pong_tx.send(n).await.unwrap();
                    }
                });
                for n in 0..ROUND_TRIPS {
                    ping_tx.send(n).await.unwrap();
                    pong_rx.receive().await.unwrap();
                }
                drop(ping_tx);
            })
            .unwrap();
        }))
    });
    let tokio_rt = tokio_current();
    let tokio_ns = measure(reps, ops, || {
        tokio_rt.block_on(timed(async {
            let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel::<usize>(1);
            let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<usize>(1);
            let echo = tokio::spawn(async move {
                while let Some(n) = ping_rx.recv().await {
                    pong_tx.send(n).await.unwrap();
                }
            });
            for n in 0..ROUND_TRIPS {
                ping_tx.send(n).await.unwrap();
                pong_rx.recv().await.unwrap();
            }
            drop(ping_tx);
            echo.await.unwrap();
        }))
    });
    let smol = Smol::new(0);
    let async_channel_ns = measure(reps, ops, || {
        smol.block_on(timed(async {
            let (ping_tx, ping_rx) = async_channel::bounded::<usize>(1);
            let (pong_tx, pong_rx) = async_channel::bounded::<usize>(1);
            let echo = smol.executor.spawn(async move {
                while let Ok(n) = ping_rx.recv().await {
                    pong_tx.send(n).await.unwrap();
                }
            });
            for n in 0..ROUND_TRIPS {
                ping_tx.send(n).await.unwrap();
                pong_rx.recv().await.unwrap();
            }
            drop(ping_tx);
            echo.await;
        }))
    });
    let flume_ns = measure(reps, ops, || {
        smol.block_on(timed(async {
            let (ping_tx, ping_rx) = flume::bounded::<usize>(1);
            let (pong_tx, pong_rx) = flume::bounded::<usize>(1);
            let echo = smol.executor.spawn(async move {
                while let Ok(n) = ping_rx.recv_async().await {
                    pong_tx.send_async(n).await.unwrap();
                }
            });
            for n in 0..ROUND_TRIPS {
                ping_tx.send_async(n).await.unwrap();
                pong_rx.recv_async().await.unwrap();
            }
            drop(ping_tx);
            echo.await;
        }))
    });
    Row {
        case: "ping-pong, capacity 1 (per message)",
        results: vec![
            ("anyio", anyio_ns),
            ("anyio spawn", anyio_spawn_ns),
            ("tokio mpsc", tokio_ns),
            ("async-channel", async_channel_ns),
            ("flume", flume_ns),
        ],
    }
}

fn fan_in(reps: usize) -> Row {
    let ops = PRODUCERS * ITEMS_PER_PRODUCER;
    let rt = anyio_runtime(0);
    let anyio_ns = measure(reps, ops, || {
        rt.block_on(timed(async {
            let (tx, rx) = anyio::create_memory_object_stream::<usize>(FAN_IN_CAPACITY);
            anyio::task_group!(|tg| {
                for _ in 0..PRODUCERS {
                    let tx = tx.clone();
                    tg.start_soon(async move {
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
    // Producers as spawned executor tasks, as the competitors run them.
    let anyio_spawn_ns = measure(reps, ops, || {
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
    let tokio_rt = tokio_current();
    let tokio_ns = measure(reps, ops, || {
        tokio_rt.block_on(timed(async {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<usize>(FAN_IN_CAPACITY);
            for _ in 0..PRODUCERS {
                let tx = tx.clone();
                tokio::spawn(async move {
                    for n in 0..ITEMS_PER_PRODUCER {
                        tx.send(n).await.unwrap();
                    }
                });
            }
            drop(tx);
            let mut received = 0;
            while rx.recv().await.is_some() {
                received += 1;
            }
            assert_eq!(received, ops);
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
        case: "fan-in 4x250k, capacity 64 (per item)",
        results: vec![
            ("anyio", anyio_ns),
            ("anyio spawn", anyio_spawn_ns),
            ("tokio mpsc", tokio_ns),
            ("async-channel", async_channel_ns),
            ("flume", flume_ns),
        ],
    }
}

fn lock_unlock(reps: usize) -> Row {
    let ops = LOCK_TASKS * LOCKS_PER_TASK;
    let rt = anyio_runtime(0);
    let anyio_ns = measure(reps, ops, || {
        rt.block_on(timed(async {
            let lock = anyio::Lock::new();
            let counter = AtomicUsize::new(0);
            anyio::task_group!(|tg| {
                for _ in 0..LOCK_TASKS {
                    tg.start_soon(async {
                        for _ in 0..LOCKS_PER_TASK {
                            let _guard = lock.acquire().await.unwrap();
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
            })
            .unwrap();
            assert_eq!(counter.load(Ordering::Relaxed), ops);
        }))
    });
    let tokio_rt = tokio_current();
    let tokio_ns = measure(reps, ops, || {
        tokio_rt.block_on(timed(async {
            let lock = Arc::new(tokio::sync::Mutex::new(()));
            let counter = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..LOCK_TASKS)
                .map(|_| {
                    let (lock, counter) = (lock.clone(), counter.clone());
                    tokio::spawn(async move {
                        for _ in 0..LOCKS_PER_TASK {
                            let _guard = lock.lock().await;
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(counter.load(Ordering::Relaxed), ops);
        }))
    });
    let local = async_executor::LocalExecutor::new();
    let async_lock_ns = measure(reps, ops, || {
        async_io::block_on(local.run(timed(async {
            let lock = Rc::new(async_lock::Mutex::new(()));
            let counter = Rc::new(Cell::new(0));
            let tasks: Vec<_> = (0..LOCK_TASKS)
                .map(|_| {
                    let (lock, counter) = (lock.clone(), counter.clone());
                    local.spawn(async move {
                        for _ in 0..LOCKS_PER_TASK {
                            let _guard = lock.lock().await;
                            counter.set(counter.get() + 1);
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await;
            }
            assert_eq!(counter.get(), ops);
        })))
    });
    Row {
        case: "lock/unlock 100x10k (per pair)",
        results: vec![
            ("anyio", anyio_ns),
            ("tokio Mutex", tokio_ns),
            ("async-lock", async_lock_ns),
        ],
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let reps = if quick { 3 } else { 11 };
    // Optional filters: `ping`, `fan`, `lock` run only the named cases.
    let wanted = |name: &str| {
        let filters: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| ["ping", "fan", "lock"].contains(&a.as_str()))
            .collect();
        filters.is_empty() || filters.iter().any(|f| f == name)
    };
    let mut rows = Vec::new();
    if wanted("ping") {
        rows.push(ping_pong(reps));
    }
    if wanted("fan") {
        rows.push(fan_in(reps));
    }
    if wanted("lock") {
        rows.push(lock_unlock(reps));
    }
    for row in &rows {
        println!("{}", row.case);
        let (_, anyio_ns) = row.results[0];
        let best = row
            .results
            .iter()
            .filter(|(name, _)| !name.starts_with("anyio"))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("competitors");
        for (name, ns) in &row.results {
            println!(
                "  {name:<14} {ns:>9.1} ns   anyio/this {:>6.2}x",
                anyio_ns / ns
            );
        }
        println!("  anyio vs best ({}): {:.2}x", best.0, anyio_ns / best.1);
    }
    println!(
        "(median ns per operation of {reps} runs, one thread; ratios below 1 mean anyio is faster)"
    );
}
