//! Core benchmarks, measured side by side with tokio and raw smol in one run.
//!
//! Run with `cargo bench --bench core` (add `-- quick` for fewer repetitions). Each case
//! is repeated and the median time per operation is reported, with the ratio to raw smol
//! in the same thread configuration and to tokio, and the target it must meet (issue
//! 10's hot-path targets); misses are marked `MISS` and counted on the last line.

mod harness;

use std::time::Duration;

use futures_lite::future::{self, FutureExt};
use harness::{Smol, anyio_runtime, measure, timed, tokio_current, tokio_multi};

const SPAWNS: usize = 100_000;
const CHECKPOINTS: usize = 1_000_000;
const TIMEOUTS: usize = 1_000_000;

// ---- the cases ----

struct Row {
    case: &'static str,
    config: &'static str,
    /// Each anyio variant: its name, ns per operation, and the target it must meet.
    anyio: Vec<(&'static str, f64, Option<Target>)>,
    smol: f64,
    tokio: f64,
}

/// A performance target: anyio's time over a peer's in the same run (issue 10).
#[derive(Clone, Copy)]
enum Target {
    Smol(f64),
    Tokio(f64),
}

impl Target {
    fn describe(self) -> String {
        match self {
            Target::Smol(max) => format!("<={max:.1}x smol"),
            Target::Tokio(max) => format!("<={max:.1}x tokio"),
        }
    }

    fn met(self, ns: f64, row: &Row) -> bool {
        match self {
            Target::Smol(max) => ns / row.smol <= max,
            Target::Tokio(max) => ns / row.tokio <= max,
        }
    }
}

fn spawn_rows(reps: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    // Targets: (start_soon, spawn) for each thread configuration.
    for (config, extra, tokio_rt, targets) in [
        (
            "1 thread",
            0,
            tokio_current(),
            [Some(Target::Smol(1.0)), Some(Target::Smol(1.5))],
        ),
        (
            "2 threads",
            1,
            tokio_multi(2),
            [None, Some(Target::Smol(1.0))],
        ),
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
        rows.push(Row {
            case: "spawn+join 100k",
            config,
            anyio: vec![
                ("start_soon", start_soon, targets[0]),
                ("spawn", spawn, targets[1]),
            ],
            smol: smol_ns,
            tokio: tokio_ns,
        });
    }
    rows
}

fn checkpoint_row(reps: usize) -> Row {
    let rt = anyio_runtime(0);
    let anyio_ns = measure(reps, CHECKPOINTS, || {
        rt.block_on(timed(async {
            for _ in 0..CHECKPOINTS {
                anyio::lowlevel::checkpoint().await;
            }
        }))
    });
    let smol = Smol::new(0);
    let smol_ns = measure(reps, CHECKPOINTS, || {
        smol.block_on(timed(async {
            for _ in 0..CHECKPOINTS {
                future::yield_now().await;
            }
        }))
    });
    let tokio_rt = tokio_current();
    let tokio_ns = measure(reps, CHECKPOINTS, || {
        tokio_rt.block_on(timed(async {
            for _ in 0..CHECKPOINTS {
                tokio::task::yield_now().await;
            }
        }))
    });
    Row {
        case: "checkpoint vs yield 1M",
        config: "1 thread",
        anyio: vec![("checkpoint", anyio_ns, Some(Target::Smol(1.1)))],
        smol: smol_ns,
        tokio: tokio_ns,
    }
}

fn timeout_rows(reps: usize) -> Vec<Row> {
    let long = Duration::from_secs(60);
    let mut rows = Vec::new();
    for (case, pending_once, target) in [
        ("timeout, ready body 1M", false, Target::Tokio(1.2)),
        ("timeout, pending-once body 1M", true, Target::Tokio(1.0)),
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
            anyio: vec![("fail_after", anyio_ns, Some(target))],
            smol: smol_ns,
            tokio: tokio_ns,
        });
    }
    rows
}

fn main() {
    // `cargo bench` passes `--bench`; `quick` lowers the repetitions.
    let quick = std::env::args().any(|a| a == "quick");
    let reps = if quick { 3 } else { 11 };
    let mut rows = spawn_rows(reps);
    rows.push(checkpoint_row(reps));
    rows.extend(timeout_rows(reps));

    println!(
        "{:<31} {:<10} {:<11} {:>10} {:>10} {:>10} {:>9} {:>9}  {:<16} met",
        "case",
        "threads",
        "anyio op",
        "anyio ns",
        "smol ns",
        "tokio ns",
        "/smol",
        "/tokio",
        "target"
    );
    let mut misses = 0;
    for row in &rows {
        for (op, ns, target) in &row.anyio {
            let (target, met) = match target {
                Some(target) if target.met(*ns, row) => (target.describe(), "ok"),
                Some(target) => {
                    misses += 1;
                    (target.describe(), "MISS")
                }
                None => (String::new(), ""),
            };
            println!(
                "{:<31} {:<10} {:<11} {:>10.1} {:>10.1} {:>10.1} {:>8.2}x {:>8.2}x  {:<16} {}",
                row.case,
                row.config,
                op,
                ns,
                row.smol,
                row.tokio,
                ns / row.smol,
                ns / row.tokio,
                target,
                met
            );
        }
    }
    println!("(median ns per operation of {reps} runs; ratios below 1 mean anyio is faster)");
    println!("targets missed: {misses} (the targets are issue 10's, single thread unless said)");
}
