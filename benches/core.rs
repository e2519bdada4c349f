//! Core benchmarks, measured side by side with raw smol and tokio.
//!
//! Run with `cargo bench --bench core` (add `-- quick` for fewer rounds, and any of
//! `spawn`, `memory`, `checkpoint`, `timeout`, `channel` to run only those cases).
//!
//! Each figure (one contender in one case) is measured in a fresh process (this binary,
//! run again with `--figure <key>`), so that no contender inherits another's heap, and
//! the contenders of a case take turns in interleaved rounds; a figure is the median of
//! its rounds. Each anyio figure is printed with its ratio to every peer and the target
//! it must meet (issue 10's hot-path targets); misses are marked `MISS` and counted on
//! the last line.

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

// ---- the cases ----

/// One case: its contenders (anyio's first), and issue 10's targets for it.
struct Case {
    /// The filter word that selects it.
    group: &'static str,
    name: &'static str,
    threads: &'static str,
    unit: &'static str,
    anyio: &'static [&'static str],
    peers: &'static [&'static str],
    /// (anyio contender, peer, largest ratio allowed).
    targets: &'static [(&'static str, &'static str, f64)],
}

const CASES: &[Case] = &[
    Case {
        group: "spawn",
        name: "spawn+join 100k",
        threads: "1 thread",
        unit: "ns",
        anyio: &["start_soon", "spawn"],
        peers: &["smol", "tokio"],
        targets: &[("start_soon", "smol", 1.0), ("spawn", "smol", 1.5)],
    },
    Case {
        group: "spawn",
        name: "spawn+join 100k",
        threads: "2 threads",
        unit: "ns",
        anyio: &["start_soon", "spawn"],
        peers: &["smol", "tokio"],
        targets: &[("spawn", "smol", 1.0)],
    },
    Case {
        group: "memory",
        name: "memory per sleeping task 10k",
        threads: "1 thread",
        unit: "B",
        anyio: &["start_soon", "spawn"],
        peers: &["smol", "tokio"],
        targets: &[("start_soon", "smol", 1.0), ("spawn", "smol", 1.0)],
    },
    Case {
        group: "checkpoint",
        name: "checkpoint vs yield 1M",
        threads: "1 thread",
        unit: "ns",
        anyio: &["main task", "spawned"],
        peers: &["smol", "tokio"],
        targets: &[("spawned", "smol", 1.1)],
    },
    Case {
        group: "timeout",
        name: "timeout, ready body 1M",
        threads: "1 thread",
        unit: "ns",
        anyio: &["fail_after"],
        peers: &["smol", "tokio"],
        targets: &[("fail_after", "tokio", 1.2)],
    },
    Case {
        group: "timeout",
        name: "timeout, pending-once body 1M",
        threads: "1 thread",
        unit: "ns",
        anyio: &["fail_after"],
        peers: &["smol", "tokio"],
        targets: &[("fail_after", "tokio", 1.0)],
    },
    Case {
        group: "channel",
        name: "ping-pong, two spawned tasks",
        threads: "1 thread",
        unit: "ns",
        anyio: &["memory"],
        peers: &["smol+async-channel"],
        targets: &[("memory", "smol+async-channel", 1.0)],
    },
    Case {
        group: "channel",
        name: "fan-in 4x250k, capacity 64",
        threads: "1 thread",
        unit: "ns",
        anyio: &["memory"],
        peers: &["async-channel", "flume"],
        targets: &[("memory", "async-channel", 1.0), ("memory", "flume", 1.3)],
    },
];

/// Measures one figure in this process: contender `who` in case `case`; `reps` timed
/// runs after a warm-up (the median), or one count of memory.
fn figure(case: &Case, who: &str, reps: usize) -> f64 {
    let extra_threads = usize::from(case.threads == "2 threads");
    match (case.name, who) {
        ("spawn+join 100k", who) => spawn_join(who, extra_threads, reps),
        ("memory per sleeping task 10k", who) => sleeping_task_bytes(who),
        ("checkpoint vs yield 1M", who) => checkpoints(who, reps),
        ("timeout, ready body 1M", who) => timeouts(who, false, reps),
        ("timeout, pending-once body 1M", who) => timeouts(who, true, reps),
        ("ping-pong, two spawned tasks", who) => ping_pong(who, reps),
        ("fan-in 4x250k, capacity 64", who) => fan_in(who, reps),
        (case, who) => panic!("no figure {who:?} in case {case:?}"),
    }
}

fn spawn_join(who: &str, extra_threads: usize, reps: usize) -> f64 {
    match who {
        "start_soon" | "spawn" => {
            let rt = anyio_runtime(extra_threads);
            let spawned = who == "spawn";
            measure(reps, SPAWNS, || {
                rt.block_on(timed(async {
                    anyio::task_group!(|tg| {
                        for _ in 0..SPAWNS {
                            if spawned {
                                tg.spawn(async {});
                            } else {
                                tg.start_soon(async {});
                            }
                        }
                    })
                    .unwrap();
                }))
            })
        }
        "smol" => {
            let smol = Smol::new(extra_threads);
            measure(reps, SPAWNS, || {
                smol.block_on(timed(async {
                    let tasks: Vec<_> =
                        (0..SPAWNS).map(|_| smol.executor.spawn(async {})).collect();
                    for task in tasks {
                        task.await;
                    }
                }))
            })
        }
        "tokio" => {
            let tokio_rt = match extra_threads {
                0 => tokio_current(),
                n => tokio_multi(n + 1),
            };
            measure(reps, SPAWNS, || {
                tokio_rt.block_on(timed(async {
                    let mut set = tokio::task::JoinSet::new();
                    for _ in 0..SPAWNS {
                        set.spawn(async {});
                    }
                    while set.join_next().await.is_some() {}
                }))
            })
        }
        _ => unreachable!(),
    }
}

/// Heap bytes per task of `SLEEPERS` tasks that have each been polled once and wait.
fn sleeping_task_bytes(who: &str) -> f64 {
    let polled = Arc::new(AtomicUsize::new(0));
    let sleeper = |polled: Arc<AtomicUsize>| async move {
        polled.fetch_add(1, Ordering::Relaxed);
        drop(polled);
        std::future::pending::<()>().await;
    };
    let all_polled = || polled.load(Ordering::Relaxed) == SLEEPERS;
    match who {
        "start_soon" | "spawn" => {
            let rt = anyio_runtime(0);
            rt.block_on(async {
                counting_alloc::start();
                let mut bytes = 0.0;
                anyio::task_group!(|tg| {
                    for _ in 0..SLEEPERS {
                        if who == "spawn" {
                            tg.spawn(sleeper(polled.clone()));
                        } else {
                            tg.start_soon(sleeper(polled.clone()));
                        }
                    }
                    while !all_polled() {
                        anyio::lowlevel::checkpoint().await;
                    }
                    bytes = counted_bytes();
                    tg.cancel();
                })
                .unwrap();
                bytes
            })
        }
        "smol" => {
            let smol = Smol::new(0);
            smol.block_on(async {
                counting_alloc::start();
                let tasks: Vec<_> = (0..SLEEPERS)
                    .map(|_| smol.executor.spawn(sleeper(polled.clone())))
                    .collect();
                while !all_polled() {
                    future::yield_now().await;
                }
                let bytes = counted_bytes();
                drop(tasks);
                bytes
            })
        }
        "tokio" => tokio_current().block_on(async {
            counting_alloc::start();
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..SLEEPERS {
                set.spawn(sleeper(polled.clone()));
            }
            while !all_polled() {
                tokio::task::yield_now().await;
            }
            let bytes = counted_bytes();
            set.abort_all();
            while set.join_next().await.is_some() {}
            bytes
        }),
        _ => unreachable!(),
    }
    .max(0.0)
        / SLEEPERS as f64
}

fn checkpoints(who: &str, reps: usize) -> f64 {
    match who {
        "main task" => {
            let rt = anyio_runtime(0);
            measure(reps, CHECKPOINTS, || {
                rt.block_on(timed(async {
                    for _ in 0..CHECKPOINTS {
                        anyio::lowlevel::checkpoint().await;
                    }
                }))
            })
        }
        "spawned" => {
            let rt = anyio_runtime(0);
            measure(reps, CHECKPOINTS, || {
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
            })
        }
        "smol" => {
            let smol = Smol::new(0);
            measure(reps, CHECKPOINTS, || {
                smol.block_on(timed(async {
                    smol.executor
                        .spawn(async {
                            for _ in 0..CHECKPOINTS {
                                future::yield_now().await;
                            }
                        })
                        .await;
                }))
            })
        }
        "tokio" => {
            let tokio_rt = tokio_current();
            measure(reps, CHECKPOINTS, || {
                tokio_rt.block_on(timed(async {
                    tokio::spawn(async {
                        for _ in 0..CHECKPOINTS {
                            tokio::task::yield_now().await;
                        }
                    })
                    .await
                    .unwrap();
                }))
            })
        }
        _ => unreachable!(),
    }
}

fn timeouts(who: &str, pending_once: bool, reps: usize) -> f64 {
    let long = Duration::from_secs(60);
    let body = move || async move {
        if pending_once {
            future::yield_now().await;
        }
        1_u32
    };
    match who {
        "fail_after" => {
            let rt = anyio_runtime(0);
            measure(reps, TIMEOUTS, || {
                rt.block_on(timed(async {
                    for _ in 0..TIMEOUTS {
                        let value = anyio::fail_after(long, body()).await.unwrap();
                        std::hint::black_box(value);
                    }
                }))
            })
        }
        "smol" => {
            let smol = Smol::new(0);
            measure(reps, TIMEOUTS, || {
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
            })
        }
        "tokio" => {
            let tokio_rt = tokio_current();
            measure(reps, TIMEOUTS, || {
                tokio_rt.block_on(timed(async {
                    for _ in 0..TIMEOUTS {
                        let value = tokio::time::timeout(long, body()).await.unwrap();
                        std::hint::black_box(value);
                    }
                }))
            })
        }
        _ => unreachable!(),
    }
}

/// Ping-pong between two spawned tasks, per message.
fn ping_pong(who: &str, reps: usize) -> f64 {
    let ops = ROUND_TRIPS * 2;
    match who {
        "memory" => {
            let rt = anyio_runtime(0);
            measure(reps, ops, || {
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
            })
        }
        "smol+async-channel" => {
            let smol = Smol::new(0);
            measure(reps, ops, || {
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
            })
        }
        _ => unreachable!(),
    }
}

/// Four spawned producers into one consumer, per item.
fn fan_in(who: &str, reps: usize) -> f64 {
    let ops = PRODUCERS * ITEMS_PER_PRODUCER;
    match who {
        "memory" => {
            let rt = anyio_runtime(0);
            measure(reps, ops, || {
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
            })
        }
        "async-channel" => {
            let smol = Smol::new(0);
            measure(reps, ops, || {
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
            })
        }
        "flume" => {
            let smol = Smol::new(0);
            measure(reps, ops, || {
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
            })
        }
        _ => unreachable!(),
    }
}

// ---- the driver ----

/// A figure's key on the command line: `<case index>/<contender>`.
fn figure_key(index: usize, who: &str) -> String {
    format!("{index}/{who}")
}

/// Runs one figure in a fresh process of this binary; its stdout is the value.
fn figure_in_child(index: usize, who: &str, reps: usize) -> f64 {
    let output = std::process::Command::new(std::env::current_exe().expect("own path"))
        .args([
            "--figure",
            &figure_key(index, who),
            "--reps",
            &reps.to_string(),
        ])
        .output()
        .expect("run a figure");
    assert!(
        output.status.success(),
        "figure {who:?} of {:?} failed: {}",
        CASES[index].name,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("a figure prints one number")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(key) = value_of("--figure") {
        let (index, who) = key.split_once('/').expect("<case>/<contender>");
        let case = &CASES[index.parse::<usize>().expect("a case index")];
        let reps = value_of("--reps").map_or(3, |r| r.parse().expect("a count"));
        println!("{}", figure(case, who, reps));
        return;
    }

    // `cargo bench` passes `--bench`; `quick` lowers the rounds; group names filter.
    let quick = args.iter().any(|a| a == "quick");
    let (rounds, reps) = if quick { (3, 1) } else { (5, 3) };
    let filters: Vec<&str> = CASES
        .iter()
        .map(|case| case.group)
        .filter(|group| args.iter().any(|a| a == group))
        .collect();

    println!(
        "{:<30} {:<10} {:<11} {:>9}  {:<19} {:>9} {:>7}  {:<8} met",
        "case", "threads", "anyio", "value", "peer", "value", "ratio", "target"
    );
    let mut misses = 0;
    for (index, case) in CASES.iter().enumerate() {
        if !filters.is_empty() && !filters.contains(&case.group) {
            continue;
        }
        let contenders: Vec<&str> = case.anyio.iter().chain(case.peers).copied().collect();
        let mut samples = vec![Vec::new(); contenders.len()];
        for _ in 0..rounds {
            for (who, samples) in contenders.iter().zip(&mut samples) {
                samples.push(figure_in_child(index, who, reps));
            }
        }
        let values: Vec<f64> = samples.into_iter().map(median).collect();
        let value = |name: &str| values[contenders.iter().position(|c| *c == name).unwrap()];
        for op in case.anyio {
            for peer in case.peers {
                let ratio = value(op) / value(peer);
                let target = case
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
                    case.name,
                    case.threads,
                    op,
                    value(op),
                    case.unit,
                    peer,
                    value(peer),
                    case.unit,
                    ratio,
                    target,
                    met
                );
            }
        }
    }
    println!(
        "(each figure: median of {rounds} interleaved rounds, each a fresh process timing \
         {reps} run(s) after a warm-up; times in ns per operation, memory in heap bytes per \
         task; ratios below 1 mean anyio is cheaper)"
    );
    println!("targets missed: {misses} (the targets are issue 10's, single thread unless said)");
}
