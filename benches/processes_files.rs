//! Processes and files against the crates they are built on and against tokio, in one
//! run:
//!
//! - spawn and wait for `true`, 500 times one after the other: `anyio::open_process`
//!   (no pipes) + `wait` against `status()` of async-process used directly and of
//!   `tokio::process`, and `anyio::run_process` (stdout and stderr collected, as it
//!   always does) against their `output()`;
//! - how long a cancelled `run_process(["sleep", "30"])` takes to end, from the cancel
//!   until the process is gone from /proc (killed and reaped), 50 times;
//! - write then read a 64 MiB file in 64 KiB chunks: `anyio::AsyncFile`, against
//!   async-fs and `tokio::fs`.
//!
//! Run with `cargo bench --bench processes_files` (add `-- quick` for fewer
//! repetitions). Reports the median time per operation and anyio's ratio to each peer.

mod harness;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use harness::{anyio_runtime, measure, timed};

const SPAWNS: usize = 500;
const FILE_SIZE: usize = 64 << 20;
const CHUNK: usize = 64 << 10;

async fn anyio_run_process() {
    for _ in 0..SPAWNS {
        black_box(anyio::run_process(["true"]).await.unwrap());
    }
}

async fn anyio_open_process() {
    for _ in 0..SPAWNS {
        let mut process = anyio::open_process(["true"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .await
            .unwrap();
        black_box(process.wait().await.unwrap());
    }
}

async fn async_process_spawn() {
    for _ in 0..SPAWNS {
        let status = async_process::Command::new("true").status().await.unwrap();
        black_box(status);
    }
}

async fn async_process_output() {
    for _ in 0..SPAWNS {
        let output = async_process::Command::new("true").output().await.unwrap();
        black_box(output);
    }
}

async fn tokio_process_output() {
    for _ in 0..SPAWNS {
        let output = tokio::process::Command::new("true").output().await.unwrap();
        black_box(output);
    }
}

async fn tokio_process_spawn() {
    for _ in 0..SPAWNS {
        let status = tokio::process::Command::new("true").status().await.unwrap();
        black_box(status);
    }
}

async fn anyio_file(path: &Path) -> Duration {
    let start = Instant::now();
    let chunk = vec![7u8; CHUNK];
    let mut file = anyio::open_file(path, "wb").await.unwrap();
    for _ in 0..FILE_SIZE / CHUNK {
        file.write_all(&chunk).await.unwrap();
    }
    file.flush().await.unwrap();
    drop(file);
    let mut file = anyio::open_file(path, "rb").await.unwrap();
    let mut total = 0;
    loop {
        let data = file.read(CHUNK).await.unwrap();
        if data.is_empty() {
            break;
        }
        total += data.len();
    }
    assert_eq!(total, FILE_SIZE);
    start.elapsed()
}

async fn async_fs_file(path: &Path) -> Duration {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    let start = Instant::now();
    let chunk = vec![7u8; CHUNK];
    let mut file = async_fs::File::create(path).await.unwrap();
    for _ in 0..FILE_SIZE / CHUNK {
        file.write_all(&chunk).await.unwrap();
    }
    file.flush().await.unwrap();
    drop(file);
    let mut file = async_fs::File::open(path).await.unwrap();
    let mut buffer = vec![0u8; CHUNK];
    let mut total = 0;
    loop {
        let read = file.read(&mut buffer).await.unwrap();
        if read == 0 {
            break;
        }
        total += read;
    }
    assert_eq!(total, FILE_SIZE);
    start.elapsed()
}

async fn tokio_file(path: &Path) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let start = Instant::now();
    let chunk = vec![7u8; CHUNK];
    let mut file = tokio::fs::File::create(path).await.unwrap();
    for _ in 0..FILE_SIZE / CHUNK {
        file.write_all(&chunk).await.unwrap();
    }
    file.flush().await.unwrap();
    drop(file);
    let mut file = tokio::fs::File::open(path).await.unwrap();
    let mut buffer = vec![0u8; CHUNK];
    let mut total = 0;
    loop {
        let read = file.read(&mut buffer).await.unwrap();
        if read == 0 {
            break;
        }
        total += read;
    }
    assert_eq!(total, FILE_SIZE);
    start.elapsed()
}

const CANCELS: usize = 50;

/// The time from cancelling a `run_process` of `sleep 30` until its process is gone.
async fn cancel_to_reaped() -> Duration {
    let mut total = Duration::ZERO;
    let dir = tempfile::tempdir().unwrap();
    for i in 0..CANCELS {
        let pid_file = dir.path().join(format!("pid{i}"));
        let command = format!("echo $$ > {}; exec sleep 30", pid_file.display());
        let scope = anyio::CancelScope::new();
        let canceller = scope.clone();
        let pid_path = pid_file.clone();
        let (pid, cancelled_at) = anyio::task_group!(|tg| {
            tg.start_soon(async move {
                let _ = scope.run(anyio::run_process(command)).await;
            });
            // Wait until the shell wrote its pid (the process runs), then cancel.
            let pid = loop {
                if let Ok(text) = std::fs::read_to_string(&pid_path)
                    && let Ok(pid) = text.trim().parse::<u32>()
                {
                    break pid;
                }
                anyio::sleep(Duration::from_millis(1)).await;
            };
            let cancelled_at = Instant::now();
            canceller.cancel();
            anyio::Result::Ok((pid, cancelled_at))
        })
        .unwrap()
        .unwrap();
        while Path::new(&format!("/proc/{pid}")).exists() {
            anyio::sleep(Duration::from_micros(100)).await;
        }
        total += cancelled_at.elapsed();
    }
    total
}

fn report(case: &str, unit: &str, anyio_ns: f64, peers: &[(&str, f64)]) {
    let mut line = format!("{case:<30} anyio {:>9.1} {unit}", anyio_ns);
    for (name, ns) in peers {
        line += &format!("   {name} {ns:>9.1} {unit} ({:.2}x)", anyio_ns / ns);
    }
    println!("{line}");
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let reps = if quick { 3 } else { 7 };
    let anyio = anyio_runtime(0);
    // With its I/O driver (the shared harness's runtime has only timers).
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("(medians of {reps} runs; ratios are anyio / peer, below 1 is faster)");

    let run_process = measure(reps, SPAWNS, || anyio.block_on(timed(anyio_run_process())));
    let open_process = measure(reps, SPAWNS, || anyio.block_on(timed(anyio_open_process())));
    let direct = measure(reps, SPAWNS, || {
        async_io::block_on(timed(async_process_spawn()))
    });
    let tokio_ns = measure(reps, SPAWNS, || {
        tokio.block_on(timed(tokio_process_spawn()))
    });
    let direct_output = measure(reps, SPAWNS, || {
        async_io::block_on(timed(async_process_output()))
    });
    let tokio_output = measure(reps, SPAWNS, || {
        tokio.block_on(timed(tokio_process_output()))
    });
    report(
        "`true`: open_process + wait",
        "us",
        open_process / 1e3,
        &[
            ("status()", direct / 1e3),
            ("tokio status()", tokio_ns / 1e3),
        ],
    );
    report(
        "`true`: run_process",
        "us",
        run_process / 1e3,
        &[
            ("output()", direct_output / 1e3),
            ("tokio output()", tokio_output / 1e3),
        ],
    );

    let cancel_ns = measure(reps, CANCELS, || anyio.block_on(cancel_to_reaped()));
    println!(
        "{:<30} anyio {:>9.1} us (kill at once, reaped in the background)",
        "cancel to reaped `sleep 30`",
        cancel_ns / 1e3
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big");
    let anyio_ms = measure(reps, 1, || anyio.block_on(anyio_file(&path))) / 1e6;
    let async_fs_ms = measure(reps, 1, || async_io::block_on(async_fs_file(&path))) / 1e6;
    let tokio_ms = measure(reps, 1, || tokio.block_on(tokio_file(&path))) / 1e6;
    report(
        "64 MiB write+read, 64 KiB chunks",
        "ms",
        anyio_ms,
        &[("async-fs", async_fs_ms), ("tokio::fs", tokio_ms)],
    );
}
