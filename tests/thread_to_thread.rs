//! `to_thread::run_sync`: running blocking code on worker threads (AnyIO's
//! `test_to_thread.py`, behaviours TT-01..TT-05, TT-07, TT-12, and FT-08's pooling).
//!
//! Covered: values, errors and panics of a job reach its caller; a caller cancelled before
//! the call, or while its job waits for a limiter token, never runs the job; limiters
//! (custom and the per-runtime default of 40, resized) bound the jobs running at once
//! and show the tokens borrowed while they run; `abandon_on_cancel(false)` makes a
//! cancelled caller wait for its job and get its result (the cancel lands at its next
//! checkpoint), `abandon_on_cancel(true)` returns at once and lets the job finish later; a job runs outside any task; nothing a job captured or returned
//! is kept afterwards; and the pool's threads are reused, are not the loop's, and exit
//! once idle (10,000 calls in a row, 1,000 at once through a limiter of 40).
//!
//! The pool of worker threads belongs to the process, so the tests that count its
//! threads run alone: every other test of this file holds `POOL` for reading while it
//! runs, those take it for writing. That is why these tests are plain `#[test]`s that
//! take the lock first and then start their runtime (`run_bounded`, which bounds the
//! body with `fail_after`, as `#[anyio::test(timeout = ..)]` does). Threads are counted
//! in `/proc/self/task`, by name (the pool's are `anyio-thread-N`), because the test
//! harness starts threads of its own meanwhile.
//!
//! No timing assertions: events and channels order things; a sleep only gives something
//! a chance to happen that must not.

mod common;

use std::collections::HashSet;
use std::future::{Future, IntoFuture};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use anyio::{CancelScope, CapacityLimiter, Error, ErrorKind, to_thread};
use common::*;
use futures_lite::FutureExt;

/// Held for reading by every test that runs jobs, for writing by those that count the
/// pool's threads.
static POOL: RwLock<()> = RwLock::new(());

fn shared_pool() -> RwLockReadGuard<'static, ()> {
    POOL.read().unwrap_or_else(PoisonError::into_inner)
}

fn pool_alone() -> RwLockWriteGuard<'static, ()> {
    POOL.write().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `body` on a new runtime, failing the test if it takes more than `seconds`.
fn run_bounded<F: Future>(seconds: u64, body: F) -> F::Output {
    let runtime = anyio::Runtime::new().expect("a runtime");
    runtime.block_on(async move {
        match anyio::fail_after(seconds, body).await {
            Ok(output) => output,
            Err(_) => panic!("the test did not finish within {seconds} s"),
        }
    })
}

/// Runs `body` as most tests do: next to the other such tests, bounded to 10 s.
fn run_shared<F: Future>(body: F) -> F::Output {
    let _pool = shared_pool();
    run_bounded(10, body)
}

/// The calling thread's kernel id: its entry in `/proc/self/task`.
fn tid() -> u32 {
    let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    link.file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.parse().ok())
        .expect("a thread id")
}

fn thread_alive(tid: u32) -> bool {
    std::path::Path::new(&format!("/proc/self/task/{tid}")).exists()
}

/// The threads of the worker pool (named `anyio-thread-N`) alive now.
fn pool_threads() -> HashSet<u32> {
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    tasks
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            let tid = entry.file_name().to_str()?.parse().ok()?;
            comm.starts_with("anyio-thread-").then_some(tid)
        })
        .collect()
}

/// Looks at `condition` every 50 ms for up to about 5 s; whether it came true.
fn wait_until(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    condition()
}

/// Counts the jobs inside a section and remembers the most seen at once.
#[derive(Default)]
struct Occupancy {
    inside: AtomicUsize,
    most: AtomicUsize,
}

impl Occupancy {
    fn enter(&self) {
        let now = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.inside.fetch_sub(1, Ordering::SeqCst);
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

/// The panic message of a payload, for `&str` and `String` payloads.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[test]
fn the_job_returns_its_value_from_a_pool_thread() {
    run_shared(async {
        let caller = std::thread::current().id();
        let (value, thread, name) = to_thread::run_sync(|| {
            let me = std::thread::current();
            (
                (1..=100u32).sum::<u32>(),
                me.id(),
                me.name().map(String::from),
            )
        })
        .await;
        assert_eq!(value, 5050);
        assert_ne!(thread, caller);
        assert!(name.unwrap_or_default().starts_with("anyio-thread-"));
    });
}

// TT-02: an error of the job reaches the caller unchanged.
#[test]
fn an_error_of_the_job_reaches_the_caller_unchanged() {
    run_shared(async {
        let result = to_thread::run_sync(|| {
            Err::<(), _>(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such thing",
            ))
        })
        .await;
        let error = result.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(error.to_string(), "no such thing");

        let result = to_thread::run_sync(|| Err::<(), _>(fail("anyio error"))).await;
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Other);
        assert_eq!(error.message(), "anyio error");
    });
}

// TT-02: a panic of the job resumes in the caller, with its message.
#[test]
fn a_panic_in_the_job_resumes_in_the_caller_with_its_message() {
    let _pool = shared_pool();
    let runtime = anyio::Runtime::new().expect("a runtime");
    let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(async {
            let _: u32 = to_thread::run_sync(|| panic!("job failed: {}", 42)).await;
        })
    }));
    let payload = caught.expect_err("the job's panic resumes in the caller");
    assert_eq!(panic_message(&*payload), "job failed: 42");
}

#[test]
fn a_task_can_catch_the_panic_of_its_job_and_go_on() {
    run_shared(async {
        let caught = AssertUnwindSafe(
            to_thread::run_sync(|| -> u32 { panic!("job panicked") }).into_future(),
        )
        .catch_unwind()
        .await;
        assert_eq!(panic_message(&*caught.unwrap_err()), "job panicked");
        // The runtime and the pool go on.
        assert_eq!(to_thread::run_sync(|| 7).await, 7);
        assert_eq!(
            to_thread::current_default_thread_limiter().borrowed_tokens(),
            0
        );
    });
}

// TT-01: cancelled before the call, the job never runs and the task stops at the call.
#[test]
fn a_caller_cancelled_before_the_call_never_runs_the_job() {
    run_shared(async {
        let state = counter();
        let ran = flag();
        let scope = CancelScope::new();
        scope.cancel();
        let out = scope
            .run(async {
                state.store(1, Ordering::SeqCst);
                let job_ran = ran.clone();
                to_thread::run_sync(move || set(&job_ran)).await;
                state.store(2, Ordering::SeqCst);
            })
            .await;
        assert_eq!(out, None);
        assert!(scope.cancelled_caught());
        anyio::sleep(0.05).await; // a chance for a job that was sent off anyway
        assert!(!is_set(&ran));
        assert_eq!(count(&state), 1, "the task stopped at the call");
    });
}

// TT-01, with a task group cancelled before its child reaches the call.
#[test]
fn a_group_cancelled_before_its_child_reaches_the_call_never_runs_the_job() {
    run_shared(async {
        let state = counter();
        let ran = flag();
        anyio::task_group!(|tg| {
            let state = state.clone();
            let job_ran = ran.clone();
            tg.start_soon(async move {
                state.store(1, Ordering::SeqCst);
                to_thread::run_sync(move || set(&job_ran)).await;
                state.store(2, Ordering::SeqCst);
            });
            tg.cancel();
        })
        .unwrap();
        anyio::sleep(0.05).await; // a chance for a job that was sent off anyway
        assert!(!is_set(&ran));
        assert!(count(&state) < 2, "the child never got past the call");
    });
}

// TT-03: four jobs on a limiter of three: three run at once, and the limiter shows them.
#[test]
fn a_custom_limiter_bounds_the_jobs_running_at_once_and_shows_their_tokens() {
    run_shared(async {
        let limiter = CapacityLimiter::new(3);
        let occupancy = Arc::new(Occupancy::default());
        let (started_tx, started_rx) = async_channel::unbounded::<usize>();
        let (release_tx, release_rx) = async_channel::unbounded::<()>();
        anyio::task_group!(|tg| {
            let limiter = &limiter;
            for i in 0..4 {
                let occupancy = occupancy.clone();
                let started_tx = started_tx.clone();
                let release_rx = release_rx.clone();
                tg.start_soon(async move {
                    to_thread::run_sync(move || {
                        occupancy.enter();
                        started_tx.send_blocking(i).unwrap();
                        release_rx.recv_blocking().unwrap();
                        occupancy.leave();
                    })
                    .limiter(limiter)
                    .await;
                });
            }
            for _ in 0..3 {
                started_rx.recv().await.unwrap();
            }
            let stats = limiter.statistics();
            assert_eq!(stats.borrowed_tokens, 3);
            assert_eq!(stats.total_tokens, 3);
            assert_eq!(stats.borrowers.len(), 3);
            assert_eq!(stats.tasks_waiting, 1);
            anyio::sleep(0.05).await; // a chance for a fourth job to start, which it must not
            assert!(started_rx.try_recv().is_err(), "a fourth job started");
            for _ in 0..4 {
                release_tx.send(()).await.unwrap();
            }
        })
        .unwrap();
        assert_eq!(occupancy.most(), 3);
        assert_eq!(limiter.borrowed_tokens(), 0);
    });
}

// One task's jobs each borrow a token of their own: two of them run at once.
#[test]
fn two_jobs_of_one_task_run_at_once_on_a_limiter_of_two() {
    run_shared(async {
        let limiter = CapacityLimiter::new(2);
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let values = anyio::gather((0..2).map(|i| {
            let barrier = barrier.clone();
            to_thread::run_sync(move || {
                barrier.wait(); // both jobs must run at once to get past this
                anyio::Result::Ok(i)
            })
            .limiter(&limiter)
        }))
        .await
        .unwrap();
        assert_eq!(values, [0, 1]);
        assert_eq!(limiter.borrowed_tokens(), 0);
    });
}

// A job still waiting for a token when its caller is cancelled never runs.
#[test]
fn a_job_queued_on_a_full_limiter_whose_caller_is_cancelled_never_runs() {
    run_shared(async {
        let limiter = CapacityLimiter::new(1);
        let queued_scope = CancelScope::new();
        let queued_ran = flag();
        let watch = Arc::new(());
        let (started_tx, started_rx) = async_channel::bounded::<()>(1);
        let (release_tx, release_rx) = async_channel::bounded::<()>(1);
        anyio::task_group!(|tg| {
            let limiter = &limiter;
            let queued_scope = &queued_scope;
            tg.start_soon(async move {
                to_thread::run_sync(move || {
                    started_tx.send_blocking(()).unwrap();
                    release_rx.recv_blocking().unwrap();
                })
                .limiter(limiter)
                .await;
            });
            started_rx.recv().await.unwrap();
            let job_ran = queued_ran.clone();
            let job_watch = watch.clone();
            tg.start_soon(async move {
                let job = to_thread::run_sync(move || {
                    let _watch = job_watch;
                    set(&job_ran);
                });
                assert_eq!(queued_scope.run(job.limiter(limiter)).await, None);
            });
            while limiter.statistics().tasks_waiting == 0 {
                anyio::sleep(0.005).await; // until the second job waits for the token
            }
            queued_scope.cancel();
            while limiter.statistics().tasks_waiting != 0 {
                anyio::sleep(0.005).await; // until it has stopped waiting
            }
            release_tx.send(()).await.unwrap();
        })
        .unwrap();
        // The token is free again: a job on it runs, and the cancelled one did not.
        to_thread::run_sync(|| ()).limiter(&limiter).await;
        anyio::sleep(0.05).await; // a chance for the cancelled job to run anyway
        assert!(!is_set(&queued_ran));
        assert!(queued_scope.cancelled_caught());
        assert_eq!(Arc::strong_count(&watch), 1, "the job was dropped unrun");
        assert_eq!(limiter.borrowed_tokens(), 0);
    });
}

// TT-04: without abandon, a cancelled caller waits for its job to return, gets its
// result (as AnyIO does), and stops at its next checkpoint.
#[test]
fn without_abandon_a_cancelled_caller_resumes_only_after_its_job_returns() {
    run_shared(async {
        let scope = CancelScope::new();
        let log = Arc::new(Mutex::new(Vec::<&str>::new()));
        let (started_tx, started_rx) = async_channel::bounded::<()>(1);
        let (release_tx, release_rx) = async_channel::bounded::<()>(1);
        anyio::task_group!(|tg| {
            let scope = &scope;
            let job_log = log.clone();
            let caller_log = log.clone();
            tg.start_soon(async move {
                let job = to_thread::run_sync(move || {
                    started_tx.send_blocking(()).unwrap();
                    release_rx.recv_blocking().unwrap();
                    job_log.lock().unwrap().push("job returned");
                    "result"
                })
                .abandon_on_cancel(false);
                let out = scope
                    .run(async {
                        let result = job.await;
                        assert_eq!(result, "result", "finished work is not thrown away");
                        caller_log.lock().unwrap().push("caller resumed");
                        anyio::lowlevel::checkpoint().await;
                        caller_log.lock().unwrap().push("past the next checkpoint");
                    })
                    .await;
                assert_eq!(out, None, "the cancel lands at the next checkpoint");
            });
            started_rx.recv().await.unwrap();
            scope.cancel();
            anyio::sleep(0.05).await; // a chance for the caller to resume early
            assert!(log.lock().unwrap().is_empty());
            release_tx.send(()).await.unwrap();
        })
        .unwrap();
        assert_eq!(*log.lock().unwrap(), ["job returned", "caller resumed"]);
        assert!(scope.cancelled_caught());
    });
}

// TT-04: with abandon, a cancelled caller returns at once; the job finishes later.
#[test]
fn with_abandon_a_cancelled_caller_returns_at_once_and_the_job_finishes_later() {
    run_shared(async {
        let scope = CancelScope::new();
        let job_done = flag();
        let (started_tx, started_rx) = async_channel::bounded::<()>(1);
        let (release_tx, release_rx) = async_channel::bounded::<()>(1);
        let (done_tx, done_rx) = async_channel::bounded::<&str>(1);
        anyio::task_group!(|tg| {
            let scope = &scope;
            let job_done = job_done.clone();
            tg.start_soon(async move {
                let job = to_thread::run_sync(move || {
                    started_tx.send_blocking(()).unwrap();
                    release_rx.recv_blocking().unwrap();
                    set(&job_done);
                    done_tx.send_blocking("finished").unwrap();
                })
                .abandon_on_cancel(true);
                assert_eq!(scope.run(job).await, None);
            });
            started_rx.recv().await.unwrap();
            scope.cancel();
        })
        .unwrap();
        // The caller has returned although its job still waits for its release.
        assert!(scope.cancelled_caught());
        assert!(!is_set(&job_done));
        let limiter = to_thread::current_default_thread_limiter();
        assert_eq!(
            limiter.borrowed_tokens(),
            0,
            "the token was given back at once"
        );
        release_tx.send(()).await.unwrap();
        assert_eq!(done_rx.recv().await.unwrap(), "finished");
        assert!(is_set(&job_done));
    });
}

// TT-05: an abandoned job runs on, and a second job can unblock it.
#[test]
fn an_abandoned_job_runs_on_and_a_second_job_can_unblock_it() {
    run_shared(async {
        let (started_tx, started_rx) = async_channel::bounded::<()>(1);
        let (release_tx, release_rx) = async_channel::bounded::<()>(1);
        let (done_tx, done_rx) = async_channel::bounded::<u32>(1);
        let scope = CancelScope::new();
        anyio::task_group!(|tg| {
            let scope = &scope;
            tg.start_soon(async move {
                let job = to_thread::run_sync(move || {
                    started_tx.send_blocking(()).unwrap();
                    release_rx.recv_blocking().unwrap();
                    done_tx.send_blocking(1).unwrap();
                });
                assert_eq!(scope.run(job.abandon_on_cancel(true)).await, None);
            });
            started_rx.recv().await.unwrap();
            scope.cancel();
        })
        .unwrap();
        to_thread::run_sync(move || release_tx.send_blocking(()).unwrap()).await;
        assert_eq!(done_rx.recv().await.unwrap(), 1);
    });
}

// TT-07: inside the job there is no task and no runtime (a runtime can even be started).
#[test]
fn the_job_runs_outside_any_task_and_any_runtime() {
    run_shared(async {
        let (in_a_task, nested) = to_thread::run_sync(|| {
            let in_a_task = std::panic::catch_unwind(anyio::get_current_task).is_ok();
            // anyio::run refuses to start inside a running runtime; here it starts.
            let nested = anyio::run(async { anyio::get_current_task().id > 0 });
            (in_a_task, nested)
        })
        .await;
        assert!(!in_a_task);
        assert!(nested);
    });
}

// TT-12: nothing the job captured or returned is kept once the call returned.
#[test]
fn the_job_and_its_result_are_not_kept_after_the_call() {
    run_shared(async {
        let watch = Arc::new(());
        let captured = watch.clone();
        let returned = to_thread::run_sync(move || {
            let copy = captured.clone();
            drop(captured);
            copy
        })
        .await;
        assert_eq!(Arc::strong_count(&watch), 2);
        drop(returned);
        assert_eq!(Arc::strong_count(&watch), 1);

        // A panicking job's captures are dropped too.
        let captured = watch.clone();
        let caught = AssertUnwindSafe(
            to_thread::run_sync(move || {
                let _keep = &captured;
                panic!("drop me")
            })
            .into_future(),
        )
        .catch_unwind()
        .await;
        assert!(caught.is_err());
        assert_eq!(Arc::strong_count(&watch), 1);
    });
}

// TT-12: a cancelled caller gets its job's result; nothing of it is kept afterwards.
#[test]
fn the_result_of_a_job_whose_caller_was_cancelled_is_not_kept() {
    run_shared(async {
        let watch = Arc::new(());
        let captured = watch.clone();
        let scope = CancelScope::new();
        let (started_tx, started_rx) = async_channel::bounded::<()>(1);
        let (release_tx, release_rx) = async_channel::bounded::<()>(1);
        anyio::task_group!(|tg| {
            let scope = &scope;
            let watch = &watch;
            tg.start_soon(async move {
                let job = to_thread::run_sync(move || {
                    started_tx.send_blocking(()).unwrap();
                    release_rx.recv_blocking().unwrap();
                    captured
                });
                let out = scope
                    .run(async {
                        let returned = job.await;
                        assert!(Arc::ptr_eq(&returned, watch));
                        drop(returned);
                        anyio::lowlevel::checkpoint().await;
                    })
                    .await;
                assert!(out.is_none());
            });
            started_rx.recv().await.unwrap();
            scope.cancel();
            release_tx.send(()).await.unwrap();
        })
        .unwrap();
        assert!(scope.cancelled_caught());
        assert_eq!(Arc::strong_count(&watch), 1);
    });
}

// TT-12: an abandoned job drops what it captured when it ends.
#[test]
fn an_abandoned_job_drops_its_captures_when_it_ends() {
    run_shared(async {
        let watch = Arc::new(());
        let captured = watch.clone();
        let (started_tx, started_rx) = async_channel::bounded::<()>(1);
        let (release_tx, release_rx) = async_channel::bounded::<()>(1);
        let scope = CancelScope::new();
        anyio::task_group!(|tg| {
            let scope = &scope;
            tg.start_soon(async move {
                let job = to_thread::run_sync(move || {
                    started_tx.send_blocking(()).unwrap();
                    release_rx.recv_blocking().unwrap();
                    captured
                });
                assert!(scope.run(job.abandon_on_cancel(true)).await.is_none());
            });
            started_rx.recv().await.unwrap();
            scope.cancel();
        })
        .unwrap();
        assert_eq!(Arc::strong_count(&watch), 2, "the job still runs");
        release_tx.send(()).await.unwrap();
        while Arc::strong_count(&watch) != 1 {
            anyio::sleep(0.01).await; // until the job has ended and its result is dropped
        }
    });
}

// The default limiter: 40 tokens, one per runtime, the same one in the runtime's jobs.
#[test]
fn the_default_limiter_has_40_tokens_and_belongs_to_its_runtime() {
    let _pool = shared_pool();
    let first = run_bounded(10, async {
        let limiter = to_thread::current_default_thread_limiter();
        assert_eq!(limiter.total_tokens(), 40);
        assert!(Arc::ptr_eq(
            &limiter,
            &to_thread::current_default_thread_limiter()
        ));
        let in_a_job = to_thread::run_sync(to_thread::current_default_thread_limiter).await;
        assert!(Arc::ptr_eq(&limiter, &in_a_job));
        limiter.set_total_tokens(3);
        assert_eq!(
            to_thread::current_default_thread_limiter().total_tokens(),
            3
        );
        limiter
    });
    let second = run_bounded(10, async { to_thread::current_default_thread_limiter() });
    assert!(!Arc::ptr_eq(&first, &second));
    assert_eq!(second.total_tokens(), 40);
    assert_eq!(first.total_tokens(), 3);
}

// The default limiter, resized, bounds the jobs that run at once, and shows them.
#[test]
fn the_default_limiter_resized_bounds_the_jobs_running_at_once() {
    run_shared(async {
        let limiter = to_thread::current_default_thread_limiter();
        limiter.set_total_tokens(2);
        let occupancy = Arc::new(Occupancy::default());
        let (started_tx, started_rx) = async_channel::unbounded::<()>();
        let (release_tx, release_rx) = async_channel::unbounded::<()>();
        anyio::task_group!(|tg| {
            for _ in 0..5 {
                let occupancy = occupancy.clone();
                let started_tx = started_tx.clone();
                let release_rx = release_rx.clone();
                tg.start_soon(async move {
                    to_thread::run_sync(move || {
                        occupancy.enter();
                        started_tx.send_blocking(()).unwrap();
                        release_rx.recv_blocking().unwrap();
                        occupancy.leave();
                    })
                    .await;
                });
            }
            for _ in 0..2 {
                started_rx.recv().await.unwrap();
            }
            let stats = limiter.statistics();
            assert_eq!(stats.borrowed_tokens, 2);
            assert_eq!(stats.tasks_waiting, 3);
            anyio::sleep(0.05).await; // a chance for a third job to start, which it must not
            assert!(started_rx.try_recv().is_err(), "a third job started");
            for _ in 0..5 {
                release_tx.send(()).await.unwrap();
            }
        })
        .unwrap();
        assert_eq!(occupancy.most(), 2);
        assert_eq!(limiter.borrowed_tokens(), 0);
    });
}

// A job in a deadline: the builder goes straight into `move_on_after`.
#[test]
fn an_abandoned_job_under_a_deadline_gives_up_and_finishes_later() {
    run_shared(async {
        let (release_tx, release_rx) = async_channel::bounded::<()>(1);
        let (done_tx, done_rx) = async_channel::bounded::<()>(1);
        let job = to_thread::run_sync(move || {
            release_rx.recv_blocking().unwrap();
            done_tx.send_blocking(()).unwrap();
            "late"
        })
        .abandon_on_cancel(true);
        assert_eq!(anyio::move_on_after(0.01, job).await, None);
        release_tx.send(()).await.unwrap();
        done_rx.recv().await.unwrap();

        let limiter = CapacityLimiter::new(1);
        let job = to_thread::run_sync(|| "in time").limiter(&limiter);
        let done = anyio::fail_after(5, job).await;
        assert_eq!(done.map_err(|e: Error| e.kind()), Ok("in time"));
    });
}

// FT-08: sequential calls run on the pool's threads, never the loop's, and reuse them.
#[test]
fn sequential_calls_reuse_idle_pool_threads_and_not_the_loop_thread() {
    let _pool = pool_alone();
    run_bounded(20, async {
        let loop_thread = tid();
        to_thread::run_sync(|| ()).await; // at least one pool thread exists now
        let before = pool_threads();
        let mut used = Vec::new();
        for _ in 0..5 {
            anyio::sleep(0.02).await; // a chance for the last job's thread to go idle
            used.push(to_thread::run_sync(tid).await);
        }
        assert!(!used.contains(&loop_thread));
        assert!(
            used.iter().all(|thread| before.contains(thread)),
            "sequential calls started new threads: pool before {before:?}, used {used:?}"
        );
    });
}

// FT-08 / the module docs: a pool thread exits after a second idle.
#[test]
fn a_pool_thread_exits_once_idle() {
    let _pool = pool_alone();
    let used = run_bounded(10, to_thread::run_sync(tid).into_future());
    assert!(
        wait_until(|| !thread_alive(used)),
        "pool thread {used} still alive after 5 s idle (pool: {:?})",
        pool_threads()
    );
}

// 10,000 calls in a row leave no extra threads once the pool is idle.
#[test]
fn ten_thousand_calls_in_a_row_leave_no_extra_threads() {
    let _pool = pool_alone();
    let before = pool_threads();
    let used = run_bounded(60, async {
        let mut used = HashSet::new();
        for i in 0..10_000u32 {
            let (echo, thread) = to_thread::run_sync(move || (i, tid())).await;
            assert_eq!(echo, i);
            used.insert(thread);
        }
        used
    });
    let settled = wait_until(|| {
        pool_threads().len() <= before.len() && used.iter().all(|&t| !thread_alive(t))
    });
    assert!(
        settled,
        "pool threads before: {before:?}; after 5 s idle: {:?}; used: {used:?}",
        pool_threads()
    );
}

// 1,000 calls at once through a limiter of 40: at most 40 run at once.
#[test]
fn a_thousand_concurrent_calls_through_a_limiter_of_40_run_at_most_40_at_once() {
    run_shared(async {
        let limiter = CapacityLimiter::new(40);
        let occupancy = Arc::new(Occupancy::default());
        let done = counter();
        anyio::task_group!(|tg| {
            for i in 0..1000 {
                let (limiter, done, occupancy) = (&limiter, &done, occupancy.clone());
                tg.start_soon(async move {
                    let echo = to_thread::run_sync(move || {
                        occupancy.enter();
                        std::thread::sleep(Duration::from_millis(1));
                        occupancy.leave();
                        i
                    })
                    .limiter(limiter)
                    .await;
                    assert_eq!(echo, i);
                    bump(done);
                });
            }
        })
        .unwrap();
        assert_eq!(count(&done), 1000);
        assert!(
            occupancy.most() <= 40,
            "{} jobs ran at once",
            occupancy.most()
        );
        assert_eq!(limiter.borrowed_tokens(), 0);
    });
}

// 1,000 calls at once through a limiter of 40: at most 40 run at once, and no extra
// threads are left once the pool is idle.
#[test]
fn a_thousand_concurrent_calls_through_a_limiter_of_40_leave_no_extra_threads() {
    let _pool = pool_alone();
    let before = pool_threads();
    let used = run_bounded(60, async {
        let limiter = CapacityLimiter::new(40);
        let occupancy = Arc::new(Occupancy::default());
        let used = Mutex::new(HashSet::new());
        anyio::task_group!(|tg| {
            for _ in 0..1000 {
                let (limiter, used, occupancy) = (&limiter, &used, occupancy.clone());
                tg.start_soon(async move {
                    let thread = to_thread::run_sync(move || {
                        occupancy.enter();
                        std::thread::sleep(Duration::from_millis(1));
                        occupancy.leave();
                        tid()
                    })
                    .limiter(limiter)
                    .await;
                    used.lock().unwrap().insert(thread);
                });
            }
        })
        .unwrap();
        assert!(
            occupancy.most() <= 40,
            "{} jobs ran at once",
            occupancy.most()
        );
        assert_eq!(limiter.borrowed_tokens(), 0);
        used.into_inner().unwrap()
    });
    let settled = wait_until(|| {
        pool_threads().len() <= before.len() && used.iter().all(|&t| !thread_alive(t))
    });
    assert!(
        settled,
        "pool threads before: {before:?}; after 5 s idle: {:?}; used: {used:?}",
        pool_threads()
    );
}

// A job that cancels its own caller (through `from_thread`) before it returns: the
// caller gets the result every time (300 rounds: the job may return before or after the
// host's poll that ran the cancel ends), and the cancel lands at its next checkpoint.
#[test]
fn a_job_that_cancels_its_own_caller_still_returns_its_result() {
    run_shared(async {
        for round in 0..300 {
            let scope = CancelScope::new();
            let job_scope = scope.clone();
            let mut got = None;
            let out = scope
                .run(async {
                    got = Some(
                        to_thread::run_sync(move || {
                            anyio::from_thread::run_sync(move || job_scope.cancel()).unwrap();
                            round
                        })
                        .await,
                    );
                    anyio::lowlevel::checkpoint().await;
                })
                .await;
            assert_eq!(got, Some(round));
            assert_eq!(out, None);
            assert!(scope.cancelled_caught());
        }
    });
}
