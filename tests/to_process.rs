//! `to_process::run_sync`: calls in worker processes of this test binary.
//!
//! Each `#[anyio::test]` here can also serve as a worker: started by `to_process` with
//! the worker variable set, it serves calls instead of running its body (see the module
//! docs of `anyio::to_process`, "How worker mode is entered"). Every test runs on its own
//! runtime, so it has its own pool of workers and its own default limiter.

use std::collections::BTreeSet;
use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyio::to_process::{self, run_sync};
use anyio::{CapacityLimiter, ErrorKind};
use serde::{Deserialize, Serialize};

// The functions the workers run.

fn double(x: i64) -> i64 {
    x * 2
}

fn shout(text: String) -> String {
    text.to_uppercase() + "!"
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Point {
    x: i32,
    y: i32,
    label: String,
}

fn mirror(point: Point) -> Point {
    Point {
        x: -point.x,
        y: -point.y,
        label: point.label.chars().rev().collect(),
    }
}

fn sorted(mut numbers: Vec<u32>) -> Vec<u32> {
    numbers.sort_unstable();
    numbers
}

fn worker_pid(_: ()) -> u32 {
    std::process::id()
}

fn pid_after(millis: u64) -> u32 {
    std::thread::sleep(Duration::from_millis(millis));
    std::process::id()
}

fn explode(message: String) -> u32 {
    panic!("{message}");
}

fn crash(_: ()) -> u32 {
    // No core file from this test, whatever the machine's settings.
    let hard = rustix::process::getrlimit(rustix::process::Resource::Core).maximum;
    let no_core = rustix::process::Rlimit {
        current: Some(0),
        maximum: hard,
    };
    let _ = rustix::process::setrlimit(rustix::process::Resource::Core, no_core);
    std::process::abort();
}

fn touch_after((millis, path): (u64, PathBuf)) -> String {
    std::thread::sleep(Duration::from_millis(millis));
    std::fs::write(&path, "ran").unwrap();
    "finished".to_owned()
}

fn touch(path: PathBuf) {
    std::fs::write(path, "ran").unwrap();
}

/// Runs `double` in a worker of its own (a worker of the worker), and says which
/// process it ran in and which process asked.
fn double_in_a_worker_of_mine(x: i64) -> (i64, u32, u32) {
    anyio::run(async {
        let doubled = run_sync(double, x).await?;
        let grandchild = run_sync(worker_pid, ()).await?;
        anyio::Result::Ok((doubled, grandchild, std::process::id()))
    })
    .unwrap()
}

// Helpers.

/// Whether a process with this pid exists (a zombie counts: it has not been waited for).
fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether our child `pid` has exited and can be waited for (without waiting for it).
fn waitable(pid: u32) -> bool {
    use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};
    let pid = Pid::from_raw(pid.try_into().unwrap()).unwrap();
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    matches!(waitid(WaitId::Pid(pid), options), Ok(Some(_)))
}

/// Waits up to 5 s for `pid` to be gone (exited and waited for).
async fn gone(pid: u32) -> bool {
    for _ in 0..500 {
        if !exists(pid) {
            return true;
        }
        anyio::sleep(0.01).await;
    }
    false
}

/// The pids of this process's children (from every thread's list).
fn children() -> BTreeSet<u32> {
    let mut pids = BTreeSet::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        pids.extend(
            list.split_whitespace()
                .filter_map(|pid| pid.parse::<u32>().ok()),
        );
    }
    pids
}

/// A path in the temporary directory that nothing has written yet.
fn fresh_path(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!(
        "anyio-to-process-{tag}-{}-{nanos}",
        std::process::id()
    ))
}

// The tests.

#[anyio::test]
async fn values_of_every_shape_round_trip() -> anyio::Result<()> {
    anyio::fail_after(30, async {
        assert_eq!(run_sync(double, 21).await?, 42);
        assert_eq!(run_sync(shout, "hello".to_owned()).await?, "HELLO!");
        let point = Point {
            x: 3,
            y: -4,
            label: "abc".into(),
        };
        let expected = Point {
            x: -3,
            y: 4,
            label: "cba".into(),
        };
        assert_eq!(run_sync(mirror, point).await?, expected);
        assert_eq!(run_sync(sorted, vec![5, 1, 4, 2]).await?, [1, 2, 4, 5]);
        // A closure that captures nothing, and a fn pointer.
        assert_eq!(run_sync(|(a, b): (u8, u8)| a + b, (2, 3)).await?, 5);
        let pointer: fn(i64) -> i64 = double;
        assert_eq!(run_sync(pointer, -8).await?, -16);
        anyio::Result::Ok(())
    })
    .await?
}

#[anyio::test]
async fn sequential_calls_reuse_one_worker() -> anyio::Result<()> {
    anyio::fail_after(30, async {
        let first = run_sync(worker_pid, ()).await?;
        assert_ne!(first, std::process::id(), "the call ran in a worker");
        assert_eq!(run_sync(worker_pid, ()).await?, first);
        assert_eq!(run_sync(worker_pid, ()).await?, first);
        anyio::Result::Ok(())
    })
    .await?
}

#[anyio::test]
async fn calls_beyond_the_limiter_wait_for_a_token() -> anyio::Result<()> {
    let limiter = CapacityLimiter::new(2);
    let pids = Mutex::new(Vec::new());
    let finished = AtomicUsize::new(0);
    let (most_borrowed, most_waiting) = (AtomicUsize::new(0), AtomicUsize::new(0));
    anyio::fail_after(30, async {
        anyio::task_group!(|tg| {
            for _ in 0..6 {
                tg.start_soon(async {
                    let pid = run_sync(pid_after, 200).limiter(&limiter).await?;
                    pids.lock().unwrap().push(pid);
                    finished.fetch_add(1, Ordering::SeqCst);
                    anyio::Result::Ok(())
                });
            }
            tg.start_soon(async {
                while finished.load(Ordering::SeqCst) < 6 {
                    let stats = limiter.statistics();
                    most_borrowed.fetch_max(stats.borrowed_tokens, Ordering::SeqCst);
                    most_waiting.fetch_max(stats.tasks_waiting, Ordering::SeqCst);
                    anyio::sleep(0.005).await;
                }
            });
        })
    })
    .await??;
    assert_eq!(most_borrowed.load(Ordering::SeqCst), 2);
    assert!(most_waiting.load(Ordering::SeqCst) >= 3);
    let pids: BTreeSet<u32> = pids.into_inner().unwrap().into_iter().collect();
    assert!(pids.len() <= 2, "two tokens, at most two workers: {pids:?}");
    assert_eq!(limiter.borrowed_tokens(), 0);
    Ok(())
}

#[anyio::test]
async fn a_panic_comes_back_with_its_message_and_the_worker_lives_on() -> anyio::Result<()> {
    anyio::fail_after(30, async {
        let before = run_sync(worker_pid, ()).await?;
        let error = run_sync(explode, "kaboom at the worker".to_owned())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Other);
        let message = error.to_string();
        assert!(message.contains("to_process::explode"), "{message}");
        assert!(message.contains("kaboom at the worker"), "{message}");
        assert!(message.contains("tests/to_process.rs"), "{message}");
        assert_eq!(run_sync(worker_pid, ()).await?, before, "the same worker");
        anyio::Result::Ok(())
    })
    .await?
}

#[anyio::test]
async fn a_worker_that_aborts_is_reported_broken_and_replaced() -> anyio::Result<()> {
    anyio::fail_after(30, async {
        let before = run_sync(worker_pid, ()).await?;
        let error = run_sync(crash, ()).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BrokenWorkerProcess);
        let message = error.to_string();
        assert!(message.contains("to_process::crash"), "{message}");
        assert!(message.contains("SIGABRT"), "{message}");
        assert!(gone(before).await, "the dead worker was waited for");
        let after = run_sync(worker_pid, ()).await?;
        assert_ne!(after, before, "a new worker");
        assert_eq!(run_sync(double, 4).await?, 8);
        anyio::Result::Ok(())
    })
    .await?
}

#[anyio::test]
async fn a_worker_killed_while_idle_is_waited_for_and_replaced() -> anyio::Result<()> {
    anyio::fail_after(30, async {
        let before = run_sync(worker_pid, ()).await?;
        let pid = rustix::process::Pid::from_raw(before.try_into().unwrap()).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::KILL)
            .map_err(std::io::Error::from)?;
        // `kill` returns before the process has died: wait until it can be waited for.
        while !waitable(before) {
            anyio::sleep(0.005).await;
        }
        let after = run_sync(worker_pid, ()).await?;
        assert_ne!(after, before);
        assert!(!exists(before), "the killed worker is no zombie");
        anyio::Result::Ok(())
    })
    .await?
}

#[anyio::test]
async fn a_cancellable_call_kills_its_worker_when_cancelled() -> anyio::Result<()> {
    anyio::fail_after(30, async {
        let worker = run_sync(worker_pid, ()).await?;
        let started = Instant::now();
        let outcome = anyio::move_on_after(
            0.3,
            run_sync(pid_after, 60_000).cancellable(true).into_future(),
        )
        .await;
        assert!(outcome.is_none(), "cancelled");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "did not wait for the call"
        );
        assert!(gone(worker).await, "the worker was killed and waited for");
        assert_ne!(run_sync(worker_pid, ()).await?, worker, "a new worker");
        anyio::Result::Ok(())
    })
    .await?
}

#[anyio::test]
async fn a_call_that_is_not_cancellable_finishes_before_the_cancel_lands() -> anyio::Result<()> {
    let path = fresh_path("shielded");
    let result = Mutex::new(None);
    let past_the_next_checkpoint = AtomicBool::new(false);
    let started = Instant::now();
    let scope = anyio::CancelScope::new();
    anyio::fail_after(30, async {
        anyio::task_group!(|tg| {
            tg.start_soon(async {
                anyio::sleep(0.1).await;
                scope.cancel();
            });
            let outcome = scope
                .run(async {
                    let value = run_sync(touch_after, (600, path.clone())).await;
                    *result.lock().unwrap() = Some(value);
                    anyio::lowlevel::checkpoint().await;
                    past_the_next_checkpoint.store(true, Ordering::SeqCst);
                })
                .await;
            assert!(outcome.is_none());
        })
    })
    .await??;
    assert!(scope.cancelled_caught());
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "waited for the call"
    );
    assert_eq!(result.into_inner().unwrap().unwrap()?, "finished");
    assert!(path.exists(), "the function ran to its end");
    assert!(
        !past_the_next_checkpoint.load(Ordering::SeqCst),
        "then the cancel landed"
    );
    std::fs::remove_file(&path)?;
    Ok(())
}

#[anyio::test]
async fn a_call_queued_on_a_full_limiter_never_runs_when_cancelled() -> anyio::Result<()> {
    let path = fresh_path("queued");
    let limiter = CapacityLimiter::new(1);
    anyio::fail_after(30, async {
        let held = limiter.acquire_on_behalf_of_nowait("holder")?;
        let call = run_sync(touch, path.clone())
            .limiter(&limiter)
            .into_future();
        assert!(anyio::move_on_after(0.2, call).await.is_none());
        assert_eq!(limiter.statistics().tasks_waiting, 0, "it left the queue");
        drop(held);
        // The limiter works on, and a worker started now finds nothing left to do.
        assert_eq!(run_sync(double, 1).limiter(&limiter).await?, 2);
        anyio::sleep(0.1).await;
        anyio::Result::Ok(())
    })
    .await??;
    assert!(!path.exists(), "the cancelled call never ran");
    assert_eq!(limiter.borrowed_tokens(), 0);
    Ok(())
}

#[anyio::test]
async fn a_function_in_a_worker_can_start_workers_of_its_own() -> anyio::Result<()> {
    anyio::fail_after(30, async {
        let (doubled, grandchild, child) = run_sync(double_in_a_worker_of_mine, 21).await?;
        assert_eq!(doubled, 42);
        let me = std::process::id();
        assert!(child != me && grandchild != me && grandchild != child);
        assert!(
            !exists(grandchild),
            "the worker's runtime waited for its own worker"
        );
        anyio::Result::Ok(())
    })
    .await?
}

#[anyio::test]
async fn errors_name_the_function_and_say_what_went_wrong() -> anyio::Result<()> {
    anyio::fail_after(30, async {
        let offset = 3;
        let error = run_sync(move |x: i32| x + offset, 1).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Other);
        let message = error.to_string();
        assert!(message.contains("{{closure}}"), "{message}");
        assert!(message.contains("captures variables"), "{message}");

        let error = run_sync(explode, "named".to_owned()).await.unwrap_err();
        assert!(
            error.to_string().contains("`to_process::explode` panicked"),
            "{error}"
        );
        anyio::Result::Ok(())
    })
    .await?
}

#[anyio::test]
async fn the_default_limiter_has_a_token_per_cpu() -> anyio::Result<()> {
    anyio::fail_after(30, async {
        let limiter = to_process::current_default_process_limiter();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(limiter.total_tokens(), cpus);
        assert_eq!(run_sync(double, 5).await?, 10);
        assert_eq!(limiter.borrowed_tokens(), 0, "given back");
        anyio::Result::Ok(())
    })
    .await?
}

/// A plain `#[test]`: it enters worker mode through `init`, and owns its runtime, so it
/// can look at the processes after the runtime is gone.
#[test]
fn no_worker_outlives_its_runtime() {
    to_process::init();
    let pids = anyio::run(async {
        anyio::fail_after(30, async {
            let limiter = CapacityLimiter::new(3);
            let calls = (0..3).map(|_| run_sync(pid_after, 300).limiter(&limiter).into_future());
            anyio::gather(calls).await
        })
        .await?
    })
    .unwrap();
    let pids: BTreeSet<u32> = pids.into_iter().collect();
    assert!(!pids.is_empty());
    for pid in &pids {
        assert!(!exists(*pid), "worker {pid} outlived its runtime");
    }
    assert!(children().is_disjoint(&pids));
}
