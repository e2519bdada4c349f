//! Calling back into async code from threads: `from_thread::{run, run_sync,
//! check_cancelled}` inside `to_thread` jobs, and `lowlevel::current_token()` /
//! `EventLoopToken` from any thread (AnyIO's `test_from_thread.py`, behaviours FT-01..FT-07,
//! and TT-12 for the calls).
//!
//! Covered: values, errors and panics of calls into the loop reach the job's thread; the
//! calls run in the task that awaits the job, and can drive an async stream; a cancelled
//! host makes `check_cancelled` fail (abandoned or not), and cancels a call in flight
//! (the thread gets `Cancelled`), while its scope reports `cancelled_caught`; an abandoned
//! job's later calls run on the runtime, and fail with `RunFinished` once it has ended;
//! outside a job these functions fail with `NoEventLoop` (pointing at `current_token`);
//! tokens work from plain threads and from inside jobs, and fail with `RunFinished` once
//! their runtime has finished (or, without worker threads, is not running), with
//! `NoEventLoop` when made outside any runtime, and with an error from the runtime's own
//! thread; nothing a call captured is kept.
//!
//! Every test is bounded in time (`#[anyio::test(timeout = ..)]`, or a channel waited on
//! with a timeout for those that manage runtimes themselves). No timing assertions.

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyio::{CancelScope, Error, ErrorKind, from_thread, lowlevel, to_thread};
use common::*;

/// How long a test waits on a plain channel before it fails.
const LIMIT: Duration = Duration::from_secs(10);

/// The panic message of a payload, for `&str` and `String` payloads.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

// FT-06: an async call into the loop returns its value to the thread.
#[anyio::test(timeout = 10)]
async fn run_returns_the_value_of_an_async_call_into_the_loop() {
    let value = to_thread::run_sync(|| {
        from_thread::run(|| async {
            anyio::sleep(0.001).await;
            3
        })
    })
    .await;
    assert_eq!(value.unwrap(), 3);
}

// FT-06: the calls run in the task that awaits the job, on its thread.
#[anyio::test(timeout = 10)]
async fn calls_run_in_the_task_that_awaits_the_job() {
    let host = anyio::get_current_task().id;
    let host_thread = std::thread::current().id();
    let (job_thread, sync_seen, async_seen) = to_thread::run_sync(|| {
        let sync_seen =
            from_thread::run_sync(|| (anyio::get_current_task().id, std::thread::current().id()))
                .unwrap();
        let async_seen = from_thread::run(|| async {
            anyio::lowlevel::checkpoint().await;
            anyio::get_current_task().id
        })
        .unwrap();
        (std::thread::current().id(), sync_seen, async_seen)
    })
    .await;
    assert_ne!(job_thread, host_thread);
    assert_eq!(sync_seen, (host, host_thread));
    assert_eq!(async_seen, host);
}

// FT-06: errors of the calls come back unchanged.
#[anyio::test(timeout = 10)]
async fn errors_of_calls_into_the_loop_come_back_unchanged() {
    let (from_async, from_sync) = to_thread::run_sync(|| {
        let from_async = from_thread::run(|| async {
            anyio::sleep(0.001).await;
            Err::<(), _>(Error::new(ErrorKind::BrokenResource, "broken in the loop"))
        });
        let from_sync = from_thread::run_sync(|| "x".parse::<u32>());
        (from_async, from_sync)
    })
    .await;
    let error = from_async.unwrap().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BrokenResource);
    assert_eq!(error.message(), "broken in the loop");
    let error = from_sync.unwrap().unwrap_err();
    assert_eq!(error, "x".parse::<u32>().unwrap_err());
}

// A panic in a call resumes on the job's thread, with its message.
#[anyio::test(timeout = 10)]
async fn a_panic_in_a_call_resumes_on_the_jobs_thread() {
    let (sync_message, async_message, after) = to_thread::run_sync(|| {
        let sync_panic = std::panic::catch_unwind(|| {
            from_thread::run_sync(|| -> u32 { panic!("sync call failed: {}", 7) })
        });
        let async_panic = std::panic::catch_unwind(|| {
            from_thread::run(|| async {
                anyio::lowlevel::checkpoint().await;
                panic!("async call failed")
            })
        });
        // The host goes on serving calls.
        let after = from_thread::run_sync(|| 5).unwrap();
        (
            panic_message(&*sync_panic.unwrap_err()),
            panic_message(&*async_panic.unwrap_err()),
            after,
        )
    })
    .await;
    assert_eq!(sync_message, "sync call failed: 7");
    assert_eq!(async_message, "async call failed");
    assert_eq!(after, 5);
}

// FT-06: a thread can drive an async stream, one call per item.
#[anyio::test(timeout = 10)]
async fn a_thread_can_drive_an_async_stream_one_item_at_a_time() {
    let (tx, rx) = anyio::create_memory_object_stream::<u32>(0);
    let rx = Arc::new(rx);
    let items = anyio::task_group!(|tg| {
        tg.start_soon(async move {
            for item in [1, 2, 3] {
                tx.send(item).await.unwrap();
            }
        });
        let items = to_thread::run_sync(move || {
            let mut items = Vec::new();
            loop {
                let rx = rx.clone();
                match from_thread::run(move || async move { rx.receive().await }).unwrap() {
                    Ok(item) => items.push(item),
                    Err(end) => {
                        assert_eq!(end.kind(), ErrorKind::EndOfStream);
                        return items;
                    }
                }
            }
        })
        .await;
        anyio::Result::Ok(items)
    })
    .unwrap()
    .unwrap();
    assert_eq!(items, [1, 2, 3]);
}

// Calls nest: a call into the loop can itself run a job on another thread.
#[anyio::test(timeout = 10)]
async fn a_call_into_the_loop_can_run_a_job_of_its_own() {
    let outer = std::thread::current().id();
    let (first, second) = to_thread::run_sync(|| {
        let first = std::thread::current().id();
        let second = from_thread::run(|| async {
            to_thread::run_sync(|| std::thread::current().id()).await
        })
        .unwrap();
        (first, second)
    })
    .await;
    assert_ne!(first, outer);
    assert_ne!(second, outer);
}

// Many calls in a row from one job: each runs, in order.
#[anyio::test(timeout = 10)]
async fn a_hundred_calls_from_one_job_run_in_order() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let job_seen = seen.clone();
    to_thread::run_sync(move || {
        for i in 0..100 {
            let seen = job_seen.clone();
            if i % 2 == 0 {
                from_thread::run_sync(move || seen.lock().unwrap().push(i)).unwrap();
            } else {
                from_thread::run(move || async move { seen.lock().unwrap().push(i) }).unwrap();
            }
        }
    })
    .await;
    assert_eq!(*seen.lock().unwrap(), (0..100).collect::<Vec<_>>());
}

#[anyio::test(timeout = 10)]
async fn check_cancelled_is_ok_while_the_caller_is_not_cancelled() {
    let checked = to_thread::run_sync(from_thread::check_cancelled).await;
    assert!(checked.is_ok());
}

// FT-01: a job whose caller was cancelled sees it in check_cancelled, and stops there.
#[anyio::test(timeout = 10)]
async fn check_cancelled_fails_once_the_caller_is_cancelled_and_stops_the_job() {
    let scope = CancelScope::new();
    let (started_tx, started_rx) = async_channel::bounded::<()>(1);
    let (kind_tx, kind_rx) = async_channel::bounded::<ErrorKind>(1);
    let after = flag();
    anyio::task_group!(|tg| {
        let scope = &scope;
        let after = after.clone();
        tg.start_soon(async move {
            let job = to_thread::run_sync(move || -> anyio::Result<()> {
                from_thread::check_cancelled()?;
                started_tx.send_blocking(()).unwrap();
                // Cooperative: checks now and then until its caller is cancelled.
                let error = loop {
                    match from_thread::check_cancelled() {
                        Ok(()) => std::thread::sleep(Duration::from_millis(1)),
                        Err(error) => break error,
                    }
                };
                kind_tx.send_blocking(error.kind()).unwrap();
                Err(error)?;
                set(&after);
                Ok(())
            });
            let out = scope
                .run(async {
                    // The job's own result reaches its cancelled caller...
                    let result = job.await;
                    assert_eq!(result.unwrap_err().kind(), ErrorKind::Cancelled);
                    // ...which stops at its next checkpoint.
                    anyio::lowlevel::checkpoint().await;
                    unreachable!("past a checkpoint in a cancelled scope");
                })
                .await;
            assert!(out.is_none());
        });
        started_rx.recv().await.unwrap();
        scope.cancel();
    })
    .unwrap();
    assert_eq!(kind_rx.recv().await.unwrap(), ErrorKind::Cancelled);
    assert!(!is_set(&after));
    assert!(scope.cancelled_caught());
}

// FT-02: an abandoned job sees the cancel in check_cancelled too.
#[anyio::test(timeout = 10)]
async fn check_cancelled_fails_in_an_abandoned_job() {
    let scope = CancelScope::new();
    let (started_tx, started_rx) = async_channel::bounded::<()>(1);
    let (release_tx, release_rx) = async_channel::bounded::<()>(1);
    let (kind_tx, kind_rx) = async_channel::bounded::<Option<ErrorKind>>(1);
    anyio::task_group!(|tg| {
        let scope = &scope;
        tg.start_soon(async move {
            let job = to_thread::run_sync(move || {
                started_tx.send_blocking(()).unwrap();
                release_rx.recv_blocking().unwrap();
                let checked = from_thread::check_cancelled();
                kind_tx
                    .send_blocking(checked.err().map(|e| e.kind()))
                    .unwrap();
            });
            assert!(scope.run(job.abandon_on_cancel(true)).await.is_none());
        });
        started_rx.recv().await.unwrap();
        scope.cancel();
    })
    .unwrap();
    assert!(scope.cancelled_caught());
    release_tx.send(()).await.unwrap();
    assert_eq!(kind_rx.recv().await.unwrap(), Some(ErrorKind::Cancelled));
}

// FT-03: outside a job, check_cancelled has nothing to check.
#[anyio::test(timeout = 10)]
async fn check_cancelled_outside_a_job_gives_no_event_loop() {
    let in_a_task = from_thread::check_cancelled().unwrap_err();
    assert_eq!(in_a_task.kind(), ErrorKind::NoEventLoop);
    assert!(in_a_task.message().contains("to_thread"), "{in_a_task}");
    let (tx, rx) = async_channel::bounded(1);
    std::thread::spawn(move || {
        let kind = from_thread::check_cancelled().unwrap_err().kind();
        tx.send_blocking(kind).unwrap();
    });
    assert_eq!(rx.recv().await.unwrap(), ErrorKind::NoEventLoop);
}

// FT-07: without a job or a token, run and run_sync say how to get one.
#[anyio::test(timeout = 10)]
async fn run_outside_a_job_gives_no_event_loop_pointing_at_current_token() {
    let (tx, rx) = async_channel::bounded(1);
    std::thread::spawn(move || {
        let from_run = from_thread::run(|| async { 1 }).unwrap_err();
        let from_run_sync = from_thread::run_sync(|| 1).unwrap_err();
        tx.send_blocking((from_run, from_run_sync)).unwrap();
    });
    let (from_run, from_run_sync) = rx.recv().await.unwrap();
    for error in [&from_run, &from_run_sync] {
        assert_eq!(error.kind(), ErrorKind::NoEventLoop);
        assert!(error.message().contains("current_token"), "{error}");
    }
    // Not from a task of the loop either: that is no job.
    let in_a_task = from_thread::run_sync(|| 1).unwrap_err();
    assert_eq!(in_a_task.kind(), ErrorKind::NoEventLoop);
}

// FT-04: a call into the loop that cancels the host's scope is itself cancelled: the
// thread gets `Cancelled` (not the call's own timeout), and the scope catches the cancel.
#[anyio::test(timeout = 10)]
async fn a_call_cancelled_by_the_hosts_scope_gives_the_thread_cancelled() {
    let scope = CancelScope::new();
    let call_scope = scope.clone();
    let (result_tx, result_rx) = async_channel::bounded(1);
    let reached_end = flag();
    let call_reached_end = reached_end.clone();
    let job = to_thread::run_sync(move || {
        let result = from_thread::run(move || async move {
            call_scope.cancel();
            let slept = anyio::fail_after(5, anyio::sleep_forever()).await;
            set(&call_reached_end);
            slept
        });
        result_tx
            .send_blocking(result.map(|_| ()).map_err(|e| e.kind()))
            .unwrap();
    });
    let out = scope
        .run(async {
            job.await;
            anyio::lowlevel::checkpoint().await; // where the cancel lands
        })
        .await;
    assert_eq!(out, None);
    assert!(scope.cancelled_caught());
    assert_eq!(result_rx.recv().await.unwrap(), Err(ErrorKind::Cancelled));
    assert!(!is_set(&reached_end));
}

// FT-04: the same when another task cancels the host while the call waits.
#[anyio::test(timeout = 10)]
async fn a_call_in_flight_when_its_host_is_cancelled_gives_the_thread_cancelled() {
    let scope = CancelScope::new();
    let (in_call_tx, in_call_rx) = async_channel::bounded::<()>(1);
    let (result_tx, result_rx) = async_channel::bounded(1);
    let dropped = flag();
    let call_dropped = dropped.clone();
    anyio::task_group!(|tg| {
        let scope = &scope;
        tg.start_soon(async move {
            let job = to_thread::run_sync(move || {
                let result = from_thread::run(move || async move {
                    let _guard = DropFlag(call_dropped);
                    in_call_tx.send(()).await.unwrap();
                    anyio::sleep_forever().await
                });
                result_tx
                    .send_blocking(result.map_err(|e| e.kind()))
                    .unwrap();
            });
            let out = scope
                .run(async {
                    job.await;
                    anyio::lowlevel::checkpoint().await; // where the cancel lands
                })
                .await;
            assert!(out.is_none());
        });
        in_call_rx.recv().await.unwrap();
        scope.cancel();
    })
    .unwrap();
    assert_eq!(result_rx.recv().await.unwrap(), Err(ErrorKind::Cancelled));
    assert!(is_set(&dropped));
    assert!(scope.cancelled_caught());
}

// FT-05: abandoned, the host's scope catches the cancel at once; a call in flight is
// dropped (its thread gets `Cancelled`), and later calls run on the runtime.
#[anyio::test(timeout = 10)]
async fn calls_of_an_abandoned_job_run_on_the_runtime() {
    let scope = CancelScope::new();
    let (in_call_tx, in_call_rx) = async_channel::bounded::<()>(1);
    let (release_tx, release_rx) = async_channel::bounded::<()>(1);
    let (result_tx, result_rx) = async_channel::bounded(1);
    let host = anyio::get_current_task().id;
    anyio::task_group!(|tg| {
        let scope = &scope;
        tg.start_soon(async move {
            let job = to_thread::run_sync(move || {
                let in_flight = from_thread::run(move || async move {
                    in_call_tx.send(()).await.unwrap();
                    anyio::sleep_forever().await
                });
                release_rx.recv_blocking().unwrap();
                let later = from_thread::run(|| async {
                    anyio::sleep(0.001).await;
                    anyio::get_current_task().id
                });
                result_tx
                    .send_blocking((in_flight.map_err(|e| e.kind()), later))
                    .unwrap();
            });
            assert!(scope.run(job.abandon_on_cancel(true)).await.is_none());
        });
        in_call_rx.recv().await.unwrap();
        scope.cancel();
    })
    .unwrap();
    assert!(scope.cancelled_caught());
    release_tx.send(()).await.unwrap();
    let (in_flight, later) = result_rx.recv().await.unwrap();
    assert_eq!(in_flight, Err(ErrorKind::Cancelled));
    let runner = later.expect("a call of an abandoned job runs on the runtime");
    assert_ne!(runner, host, "it runs as a task of its own");
}

// An abandoned job whose runtime has finished gets `RunFinished` from its calls.
#[test]
fn calls_of_an_abandoned_job_after_its_runtime_ended_give_run_finished() {
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (result_tx, result_rx) = std::sync::mpsc::channel();
    let runtime = anyio::Runtime::new().unwrap();
    runtime.block_on(async {
        let (started_tx, started_rx) = async_channel::bounded::<()>(1);
        let scope = CancelScope::new();
        anyio::task_group!(|tg| {
            let scope = &scope;
            tg.start_soon(async move {
                let job = to_thread::run_sync(move || {
                    started_tx.send_blocking(()).unwrap();
                    release_rx.recv().unwrap();
                    let run = from_thread::run(|| async { 1 }).map_err(|e| e.kind());
                    let run_sync = from_thread::run_sync(|| 1).map_err(|e| e.kind());
                    let checked = from_thread::check_cancelled().map_err(|e| e.kind());
                    result_tx.send((run, run_sync, checked)).unwrap();
                });
                assert!(scope.run(job.abandon_on_cancel(true)).await.is_none());
            });
            anyio::fail_after(10, started_rx.recv())
                .await
                .unwrap()
                .unwrap();
            scope.cancel();
        })
        .unwrap();
    });
    drop(runtime);
    release_tx.send(()).unwrap();
    let (run, run_sync, checked) = result_rx.recv_timeout(LIMIT).unwrap();
    assert_eq!(run, Err(ErrorKind::RunFinished));
    assert_eq!(run_sync, Err(ErrorKind::RunFinished));
    assert_eq!(checked, Err(ErrorKind::Cancelled));
}

// TT-12 for the calls: what a call captured or returned is not kept.
#[anyio::test(timeout = 10)]
async fn nothing_a_call_captured_is_kept_after_it() {
    let watch = Arc::new(());
    let (for_sync, for_async) = (watch.clone(), watch.clone());
    let returned = to_thread::run_sync(move || {
        let first = from_thread::run_sync(move || for_sync).unwrap();
        let second = from_thread::run(move || async move {
            anyio::lowlevel::checkpoint().await;
            for_async
        })
        .unwrap();
        (first, second)
    })
    .await;
    assert_eq!(Arc::strong_count(&watch), 3);
    drop(returned);
    assert_eq!(Arc::strong_count(&watch), 1);
}

// FT-07: a plain thread (no job) calls into the runtime with a token.
#[anyio::test(timeout = 10)]
async fn a_plain_thread_calls_into_the_runtime_with_a_token() {
    let token = lowlevel::current_token();
    let main = anyio::get_current_task().id;
    let (tx, rx) = async_channel::bounded(1);
    std::thread::spawn(move || {
        let from_run = token.run(|| async {
            anyio::sleep(0.001).await;
            anyio::get_current_task().id
        });
        let from_run_sync = token.run_sync(|| 4);
        tx.send_blocking((from_run, from_run_sync)).unwrap();
    });
    let (from_run, from_run_sync) = rx.recv().await.unwrap();
    let runner = from_run.unwrap();
    assert_ne!(runner, main, "each call is a task of its own");
    assert_eq!(from_run_sync.unwrap(), 4);
}

// A token is `Clone`: many threads use it at once.
#[anyio::test(timeout = 10)]
async fn a_token_serves_many_threads_at_once() {
    let token = lowlevel::current_token();
    let total = counter();
    let (done_tx, done_rx) = async_channel::unbounded::<()>();
    for _ in 0..4 {
        let (token, total, done_tx) = (token.clone(), total.clone(), done_tx.clone());
        std::thread::spawn(move || {
            for _ in 0..25 {
                let total = total.clone();
                token.run(move || async move { bump(&total) }).unwrap();
            }
            done_tx.send_blocking(()).unwrap();
        });
    }
    for _ in 0..4 {
        done_rx.recv().await.unwrap();
    }
    assert_eq!(count(&total), 100);
}

// A token from inside a job is the host's runtime's.
#[anyio::test(timeout = 10)]
async fn a_token_made_in_a_job_calls_into_the_hosts_runtime() {
    let runs = counter();
    let seen = runs.clone();
    let value = to_thread::run_sync(move || {
        let token = lowlevel::current_token();
        std::thread::spawn(move || {
            token.run_sync(move || {
                bump(&seen);
                anyio::get_current_task().id > 0
            })
        })
        .join()
        .unwrap()
    })
    .await;
    assert!(value.unwrap());
    assert_eq!(count(&runs), 1);
}

// FT-07: a token from a finished runtime says so rather than hang.
#[test]
fn a_token_of_a_finished_runtime_gives_run_finished() {
    let token = anyio::run(async { lowlevel::current_token() });
    assert_eq!(
        token.run_sync(|| ()).unwrap_err().kind(),
        ErrorKind::RunFinished
    );
    assert_eq!(
        token.run(|| async {}).unwrap_err().kind(),
        ErrorKind::RunFinished
    );
    assert!(format!("{token:?}").contains("finished"));
}

// A token made outside any runtime has nothing to call into.
#[test]
fn a_token_made_outside_any_runtime_gives_no_event_loop() {
    let token = lowlevel::current_token();
    assert_eq!(
        token.run_sync(|| ()).unwrap_err().kind(),
        ErrorKind::NoEventLoop
    );
    assert_eq!(
        token.run(|| async {}).unwrap_err().kind(),
        ErrorKind::NoEventLoop
    );
}

// From the runtime's own thread a token call would wait for itself: an error instead.
#[anyio::test(timeout = 10)]
async fn a_token_call_from_its_own_runtime_is_refused() {
    let token = lowlevel::current_token();
    let error = token.run_sync(|| ()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Other);
    let error = token.run(|| async {}).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Other);
}

// Without worker threads, a runtime serves token calls only inside `block_on`.
#[test]
fn a_runtime_without_workers_serves_token_calls_only_while_it_runs() {
    let runtime = anyio::Runtime::builder().worker_threads(0).build().unwrap();
    let token = runtime.block_on(async {
        let token = lowlevel::current_token();
        let caller = token.clone();
        let (tx, rx) = async_channel::bounded(1);
        std::thread::spawn(move || tx.send_blocking(caller.run_sync(|| 6 * 7)).unwrap());
        let answer = anyio::fail_after(10, rx.recv()).await.unwrap().unwrap();
        assert_eq!(answer.unwrap(), 42);
        token
    });
    // Not running now: the call fails rather than wait for the next block_on.
    let (tx, rx) = std::sync::mpsc::channel();
    let caller = token.clone();
    std::thread::spawn(move || {
        tx.send(caller.run_sync(|| ()).map_err(|e| e.kind()))
            .unwrap()
    });
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), Err(ErrorKind::RunFinished));
    drop(runtime);
    assert_eq!(
        token.run_sync(|| ()).unwrap_err().kind(),
        ErrorKind::RunFinished
    );
}

// A call in flight when its runtime is dropped fails with `RunFinished`, not a hang.
#[test]
fn a_token_call_in_flight_when_the_runtime_is_dropped_gives_run_finished() {
    let runtime = anyio::Runtime::new().unwrap();
    let (result_tx, result_rx) = std::sync::mpsc::channel();
    runtime.block_on(async {
        let token = lowlevel::current_token();
        let (in_call_tx, in_call_rx) = async_channel::bounded::<()>(1);
        std::thread::spawn(move || {
            let result = token.run(move || async move {
                in_call_tx.send(()).await.unwrap();
                anyio::sleep_forever().await
            });
            result_tx.send(result.map_err(|e| e.kind())).unwrap();
        });
        anyio::fail_after(10, in_call_rx.recv())
            .await
            .unwrap()
            .unwrap();
    });
    drop(runtime);
    assert_eq!(
        result_rx.recv_timeout(LIMIT).unwrap(),
        Err(ErrorKind::RunFinished)
    );
}

// TT-12 / FT-07: a token (here kept by a job's thread) does not keep its runtime alive.
#[test]
fn a_token_does_not_keep_its_runtime_alive() {
    let (token_tx, token_rx) = std::sync::mpsc::channel();
    let runtime = anyio::Runtime::new().unwrap();
    runtime.block_on(async {
        to_thread::run_sync(move || token_tx.send(lowlevel::current_token()).unwrap()).await;
    });
    let token = token_rx.recv_timeout(LIMIT).unwrap();
    assert!(format!("{token:?}").contains("running"));
    drop(runtime);
    assert!(format!("{token:?}").contains("finished"));
    assert_eq!(
        token.run(|| async {}).unwrap_err().kind(),
        ErrorKind::RunFinished
    );
}

// A deadline of the job's caller reaches the job through check_cancelled, so the job
// can stop early; the caller still gets what it returned.
#[anyio::test(timeout = 10)]
async fn a_deadline_of_the_caller_is_seen_by_check_cancelled() {
    let checks = counter();
    let job_checks = checks.clone();
    let out = anyio::move_on_after(
        0.05,
        to_thread::run_sync(move || {
            while from_thread::check_cancelled().is_ok() {
                job_checks.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(1));
            }
            "stopped early"
        }),
    )
    .await;
    // The job's result reaches its caller; the deadline lands at its next checkpoint.
    assert_eq!(out, Some("stopped early"));
    assert!(count(&checks) > 0);
}

#[test]
fn an_abandoned_job_does_not_cut_short_the_shielded_work_of_its_call() {
    anyio::run(anyio::fail_after(30, async {
        let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let started = Arc::new(anyio::Event::new());
        let scope = anyio::CancelScope::new();
        let (flag, call_started, job_scope) = (finished.clone(), started.clone(), scope.clone());
        anyio::task_group!(|tg| {
            tg.start_soon(async move {
                let job = anyio::to_thread::run_sync(move || {
                    let _ = anyio::from_thread::run(move || async move {
                        anyio::CancelScope::shielded()
                            .run(async {
                                call_started.set();
                                anyio::sleep(0.05).await;
                                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                            })
                            .await;
                    });
                })
                .abandon_on_cancel(true);
                job_scope.run(job).await;
            });
            started.wait().await;
            scope.cancel(); // while the call is inside its shielded scope
        })
        .unwrap();
        // The caller waited for the call's shielded work before it was dropped.
        assert!(finished.load(std::sync::atomic::Ordering::SeqCst));
    }))
    .unwrap();
}
