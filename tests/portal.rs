//! Blocking portals: `start_blocking_portal`, `BlockingPortal` (`call`, `call_sync`,
//! `start_task_soon`, `start_task`, `stop`, `is_running`, `serve`), `PortalFuture` and
//! `BlockingPortalProvider` (AnyIO's `test_from_thread.py`, behaviours FT-10, FT-11,
//! FT-13, FT-15, FT-16, FT-17, and TT-11, TT-12).
//!
//! Covered: calls from plain threads return values, errors and panics, for any future;
//! calls from the portal's own loop are refused and calls after `stop` fail with
//! `RunFinished`; `stop(false)` waits for calls in flight from other threads and
//! `stop(true)` cancels them, as dropping the portal does (which also joins its thread);
//! `start_task_soon` futures give results, can be cancelled later or at once, fail after
//! `stop`, and are resolved by `stop(true)`; `start_task` mirrors `TaskGroup::start`;
//! `serve` runs a portal inside a running program, and a portal can be started and used
//! from async code; a provider starts a fresh portal for sequential users, shares one
//! between nested and concurrent users, and leaves no thread behind.
//!
//! Tests that need no runtime of their own run their body on a thread under `bounded`,
//! which fails the test if the body takes more than 10 s; the others use
//! `#[anyio::test(timeout = ..)]`. A portal's thread is identified by its kernel id
//! (`/proc/self/task/TID`), since other tests start portals at the same time. No timing
//! assertions: a sleep only gives something a chance to happen that must not.

mod common;

use std::panic::resume_unwind;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use anyio::from_thread::{BlockingPortal, BlockingPortalProvider, start_blocking_portal};
use anyio::{ErrorKind, TaskStatus, to_thread};
use common::*;

/// The most a test may take.
const LIMIT: Duration = Duration::from_secs(10);

/// Runs `body` on a thread of its own and fails the test if it takes longer than
/// `LIMIT` (a hang fails the test instead of stalling the suite); resumes its panic.
fn bounded<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let output = body();
        let _ = done_tx.send(());
        output
    });
    match done_rx.recv_timeout(LIMIT) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => {
            thread.join().unwrap_or_else(|panic| resume_unwind(panic))
        }
        Err(RecvTimeoutError::Timeout) => panic!("the test did not finish within {LIMIT:?}"),
    }
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

/// The panic message of a payload, for `&str` and `String` payloads.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

// FT-10: a plain thread calls async code through the portal.
#[test]
fn call_returns_the_value_of_an_async_call() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        let value = portal
            .call(|| async {
                anyio::sleep(0.001).await;
                3
            })
            .unwrap();
        assert_eq!(value, 3);
        portal.stop(false);
    });
}

// FT-12 (in part): calls run as tasks on the portal's own thread, named for it.
#[test]
fn call_sync_runs_in_a_task_on_the_portals_thread() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        let caller = std::thread::current().id();
        let (task_id, thread, name) = portal
            .call_sync(|| {
                let me = std::thread::current();
                (
                    anyio::get_current_task().id,
                    me.id(),
                    me.name().map(String::from),
                )
            })
            .unwrap();
        assert!(task_id > 0);
        assert_ne!(thread, caller);
        assert!(name.unwrap_or_default().starts_with("anyio-portal-"));
        let other = start_blocking_portal().unwrap();
        let other_name = other
            .call_sync(|| std::thread::current().name().map(String::from))
            .unwrap();
        let first_name = portal
            .call_sync(|| std::thread::current().name().map(String::from))
            .unwrap();
        assert_ne!(
            first_name, other_name,
            "each portal has a thread of its own"
        );
    });
}

// FT-10: any future will do, not only async blocks.
#[test]
fn call_accepts_any_future() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        assert_eq!(portal.call(|| std::future::ready(5)).unwrap(), 5);
        portal.call(|| anyio::sleep(0.001)).unwrap();
        let event = Arc::new(anyio::Event::new());
        let setter = event.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1));
            setter.set();
        });
        let waited = event.clone();
        portal
            .call(move || async move { waited.wait().await })
            .unwrap();
        assert!(event.is_set());
    });
}

// Errors come back unchanged; a panic resumes on the calling thread; the portal goes on.
#[test]
fn errors_and_panics_of_calls_reach_the_calling_thread() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        let result = portal
            .call(|| async { Err::<(), _>(fail("failed in the portal")) })
            .unwrap();
        assert_eq!(result.unwrap_err().message(), "failed in the portal");

        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            portal.call(|| async {
                anyio::lowlevel::checkpoint().await;
                panic!("portal call panicked: {}", 1)
            })
        }));
        assert_eq!(
            panic_message(&*panicked.unwrap_err()),
            "portal call panicked: 1"
        );
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            portal.call_sync(|| -> u8 { panic!("sync portal call panicked") })
        }));
        assert_eq!(
            panic_message(&*panicked.unwrap_err()),
            "sync portal call panicked"
        );
        assert!(portal.is_running());
        assert_eq!(portal.call_sync(|| 1).unwrap(), 1);
    });
}

// FT-10: from its own loop, a portal call would wait for itself: refused.
#[test]
fn calls_from_the_portals_own_loop_are_refused() {
    bounded(|| {
        let portal = Arc::new(start_blocking_portal().unwrap());
        let inner = portal.clone();
        let errors = portal
            .call(move || async move {
                let call = inner.call(|| async {}).unwrap_err();
                let call_sync = inner.call_sync(|| ()).unwrap_err();
                let start = inner
                    .start_task(|status: TaskStatus<()>| async move { status.started(()) })
                    .unwrap_err();
                drop(inner);
                (call, call_sync, start)
            })
            .unwrap();
        for error in [&errors.0, &errors.1, &errors.2] {
            assert_eq!(error.kind(), ErrorKind::Other);
            assert!(error.message().contains("own event loop"), "{error}");
        }
        assert!(portal.is_running());
        portal.stop(false);
    });
}

// FT-10: after `stop`, calls fail with `RunFinished`.
#[test]
fn calls_after_stop_give_run_finished() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        assert!(portal.is_running());
        portal.stop(false);
        assert!(!portal.is_running());
        let errors = [
            portal.call(|| async {}).unwrap_err(),
            portal.call_sync(|| ()).unwrap_err(),
            portal
                .start_task(|status: TaskStatus<()>| async move { status.started(()) })
                .unwrap_err(),
        ];
        for error in errors {
            assert_eq!(error.kind(), ErrorKind::RunFinished, "{error}");
        }
        portal.stop(true); // stopping again is harmless
    });
}

// FT-13: a task started after `stop` fails at once, with `RunFinished` (as documented
// on `start_task_soon` and `PortalFuture::wait`).
#[test]
fn start_task_soon_after_stop_gives_run_finished() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        portal.stop(false);
        let late = portal.start_task_soon(|| async {});
        assert!(late.is_finished(), "it failed at once");
        let error = late.wait().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::RunFinished, "{error}");
    });
}

// FT-11: a normal stop waits for the calls in flight from other threads.
#[test]
fn stop_without_cancel_waits_for_calls_in_flight_from_other_threads() {
    bounded(|| {
        let portal = Arc::new(start_blocking_portal().unwrap());
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let (gate_tx, gate_rx) = async_channel::unbounded::<()>();
        let callers: Vec<_> = (0..2)
            .map(|i| {
                let (portal, started_tx, gate_rx) =
                    (portal.clone(), started_tx.clone(), gate_rx.clone());
                std::thread::spawn(move || {
                    portal.call(move || async move {
                        started_tx.send(()).unwrap();
                        gate_rx.recv().await.unwrap();
                        i
                    })
                })
            })
            .collect();
        started_rx.recv().unwrap();
        started_rx.recv().unwrap();
        let stopped = flag();
        let stopper = {
            let (portal, stopped) = (portal.clone(), stopped.clone());
            std::thread::spawn(move || {
                portal.stop(false);
                set(&stopped);
            })
        };
        std::thread::sleep(Duration::from_millis(50)); // a chance for stop to return early
        assert!(!is_set(&stopped));
        gate_tx.send_blocking(()).unwrap();
        gate_tx.send_blocking(()).unwrap();
        let results: Vec<_> = callers.into_iter().map(|c| c.join().unwrap()).collect();
        assert_eq!(
            results.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
            [0, 1]
        );
        stopper.join().unwrap();
        assert!(is_set(&stopped));
        assert_eq!(
            portal.call(|| async {}).unwrap_err().kind(),
            ErrorKind::RunFinished
        );
    });
}

// FT-11: a stop that cancels ends the calls in flight: their callers get `Cancelled`.
#[test]
fn stop_with_cancel_ends_calls_in_flight_from_other_threads() {
    bounded(|| {
        let portal = Arc::new(start_blocking_portal().unwrap());
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let callers: Vec<_> = (0..2)
            .map(|_| {
                let (portal, started_tx) = (portal.clone(), started_tx.clone());
                std::thread::spawn(move || {
                    portal.call(move || async move {
                        started_tx.send(()).unwrap();
                        anyio::sleep(3).await;
                    })
                })
            })
            .collect();
        started_rx.recv().unwrap();
        started_rx.recv().unwrap();
        portal.stop(true);
        for caller in callers {
            let error = caller.join().unwrap().unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Cancelled);
        }
        assert!(!portal.is_running());
    });
}

// Dropping a portal cancels its tasks and joins its thread.
#[test]
fn dropping_the_portal_cancels_its_tasks_and_joins_its_thread() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        let thread = portal.call_sync(tid).unwrap();
        assert!(thread_alive(thread));
        let dropped = flag();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let task_dropped = dropped.clone();
        let task = portal.start_task_soon(move || async move {
            let _guard = DropFlag(task_dropped);
            started_tx.send(()).unwrap();
            anyio::sleep_forever().await
        });
        started_rx.recv().unwrap();
        drop(portal);
        assert!(
            is_set(&dropped),
            "the task was dropped before the drop returned"
        );
        assert_eq!(task.wait().unwrap_err().kind(), ErrorKind::Cancelled);
        assert!(
            wait_until(|| !thread_alive(thread)),
            "the portal's thread {thread} is still alive"
        );
    });
}

// FT-13: start_task_soon gives its result, waited for or awaited.
#[test]
fn start_task_soon_gives_the_result_waited_for_or_awaited() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        let waited = portal.start_task_soon(|| async {
            anyio::sleep(0.001).await;
            "waited"
        });
        let awaited = portal.start_task_soon(|| async { "awaited" });
        assert_eq!(waited.wait().unwrap(), "waited");
        assert_eq!(anyio::run(awaited).unwrap(), "awaited");
        portal.stop(false);
    });
}

// Dropping a PortalFuture does not cancel its task.
#[test]
fn dropping_a_portal_future_leaves_its_task_running() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        let (gate_tx, gate_rx) = async_channel::bounded::<()>(1);
        let (done_tx, done_rx) = mpsc::channel();
        drop(portal.start_task_soon(move || async move {
            gate_rx.recv().await.unwrap();
            done_tx.send("done").unwrap();
        }));
        gate_tx.send_blocking(()).unwrap();
        assert_eq!(done_rx.recv().unwrap(), "done");
        portal.stop(false);
    });
}

// FT-13: a task cancelled through its future sees the cancellation.
#[test]
fn cancelling_a_running_task_through_its_future() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let dropped = flag();
        let task_dropped = dropped.clone();
        let task = portal.start_task_soon(move || async move {
            let _guard = DropFlag(task_dropped);
            started_tx.send(()).unwrap();
            anyio::sleep_forever().await
        });
        started_rx.recv().unwrap();
        assert!(!task.is_finished());
        task.cancel();
        assert!(wait_until(|| task.is_finished()));
        assert_eq!(task.wait().unwrap_err().kind(), ErrorKind::Cancelled);
        assert!(is_set(&dropped));
        assert!(portal.is_running(), "only that task was cancelled");
        assert_eq!(portal.call_sync(|| 2).unwrap(), 2);
    });
}

// FT-13: a task cancelled before it started never gets past its first checkpoint.
#[test]
fn cancelling_a_task_before_it_started() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        // Hold the portal's only thread, so the next task cannot start yet.
        let (holding_tx, holding_rx) = mpsc::channel::<()>();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let holder = portal.start_task_soon(move || async move {
            holding_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        });
        holding_rx.recv().unwrap();
        let past_checkpoint = flag();
        let past = past_checkpoint.clone();
        let task = portal.start_task_soon(move || async move {
            anyio::lowlevel::checkpoint().await;
            set(&past);
        });
        task.cancel();
        release_tx.send(()).unwrap();
        holder.wait().unwrap();
        assert_eq!(task.wait().unwrap_err().kind(), ErrorKind::Cancelled);
        assert!(!is_set(&past_checkpoint));
        portal.stop(false);
    });
}

// FT-16: a stop that cancels resolves every pending future.
#[test]
fn stop_with_cancel_resolves_pending_futures() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        let pending: Vec<_> = (0..3)
            .map(|_| portal.start_task_soon(anyio::sleep_forever))
            .collect();
        portal.stop(true);
        for future in pending {
            assert!(future.is_finished());
            assert_eq!(future.wait().unwrap_err().kind(), ErrorKind::Cancelled);
        }
    });
}

// FT-15 (TG-12, TG-13): start_task gives the task's future and the value it started with.
#[test]
fn start_task_gives_the_start_value_and_the_future() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        let (future, value) = portal
            .start_task(|status| async move {
                status.started("foo");
                anyio::sleep(0.001).await;
                // Like a child of `TaskGroup::start`, the task returns `()` or a `Result`.
                anyio::Result::Ok(8)
            })
            .unwrap();
        assert_eq!(value, "foo");
        assert_eq!(future.wait().unwrap().unwrap(), 8);

        let (future, ()) = portal
            .start_task(|status| async move { status.started(()) })
            .unwrap();
        future.wait().unwrap();

        let (server, port) = portal
            .start_task(|status| async move {
                status.started(8080_u16);
                anyio::sleep_forever().await
            })
            .unwrap();
        assert_eq!(port, 8080);
        server.cancel();
        assert_eq!(server.wait().unwrap_err().kind(), ErrorKind::Cancelled);
        portal.stop(false);
    });
}

// FT-15 (TG-20): a task that never calls `started` gives an error.
#[test]
fn start_task_without_started_gives_an_error() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        let error = portal
            .start_task(|_status: TaskStatus<u32>| async {})
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Other);
        assert!(
            error.message().contains("without calling started"),
            "{error}"
        );
        assert!(portal.is_running());
        portal.stop(false);
    });
}

// FT-15 (TG-18): a task that fails before `started` gives its own error to the caller.
#[test]
fn start_task_failing_before_started_gives_its_own_error() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        let error = portal
            .start_task(|_status: TaskStatus<u32>| async {
                Err::<(), _>(anyio::Error::new(ErrorKind::BrokenResource, "bind failed"))
            })
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BrokenResource, "{error}");
        assert_eq!(error.message(), "bind failed");
        portal.stop(false);
    });
}

// FT-15 (TG-19): a task that fails after `started`: the caller gets the start value, the
// future the failure.
#[test]
fn start_task_failing_after_started_gives_the_value_then_the_failure() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        let (future, value) = portal
            .start_task(|status| async move {
                status.started(2);
                anyio::lowlevel::checkpoint().await;
                Err::<(), _>(fail("foo"))
            })
            .unwrap();
        assert_eq!(value, 2);
        assert_eq!(future.wait().unwrap().unwrap_err().message(), "foo");
        assert!(portal.is_running());
        portal.stop(false);
    });
}

// TT-12: nothing a portal call captured or returned is kept.
#[test]
fn nothing_a_portal_call_captured_is_kept() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        let watch = Arc::new(());
        let captured = watch.clone();
        let returned = portal
            .call(move || async move {
                anyio::lowlevel::checkpoint().await;
                captured
            })
            .unwrap();
        drop(returned);
        let captured = watch.clone();
        portal.call_sync(move || drop(captured)).unwrap();
        let captured = watch.clone();
        let task = portal.start_task_soon(move || async move {
            let _keep = captured;
            anyio::sleep_forever().await
        });
        task.cancel();
        assert!(task.wait().is_err());
        portal.stop(false);
        assert_eq!(Arc::strong_count(&watch), 1);
    });
}

// FT-17 / serve: a portal served from inside a running program.
#[anyio::test(timeout = 10)]
async fn serve_runs_a_portal_inside_a_running_program() {
    let sum = BlockingPortal::serve(|portal| async move {
        to_thread::run_sync(move || {
            (1..=3)
                .map(|i| portal.call(move || async move { i * 10 }).unwrap())
                .sum::<i32>()
        })
        .await
    })
    .await;
    assert_eq!(sum, 60);
}

// serve: when its body returns, it waits for the tasks the portal started.
#[anyio::test(timeout = 10)]
async fn serve_waits_for_the_tasks_the_portal_started() {
    let finished = flag();
    let task_finished = finished.clone();
    BlockingPortal::serve(|portal| async move {
        to_thread::run_sync(move || {
            drop(portal.start_task_soon(move || async move {
                anyio::sleep(0.02).await;
                set(&task_finished);
            }));
        })
        .await;
    })
    .await;
    assert!(is_set(&finished));
}

// serve: calls from its own loop are refused; once it returned, the portal is stopped.
#[anyio::test(timeout = 10)]
async fn a_served_portal_refuses_its_own_loop_and_stops_with_serve() {
    let portal = BlockingPortal::serve(|portal| async move {
        assert!(portal.is_running());
        // (Not on the body's first poll: see the test below.)
        anyio::lowlevel::checkpoint().await;
        let error = portal.call(|| async {}).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Other);
        assert!(error.message().contains("own event loop"), "{error}");
        let error = portal.call_sync(|| ()).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Other);
        // Awaiting a task of the portal from its own loop is fine.
        assert_eq!(portal.start_task_soon(|| async { 4 }).await.unwrap(), 4);
        portal
    })
    .await;
    assert!(!portal.is_running());
    let error = to_thread::run_sync(move || portal.call(|| async {}).unwrap_err()).await;
    assert_eq!(error.kind(), ErrorKind::RunFinished);
}

// serve: a call from the serving loop is refused even before the body's first await.
// (Bounded by a thread of its own: the bug blocks the loop's thread for good.)
#[test]
fn a_served_portal_refuses_its_own_loop_on_the_first_poll() {
    bounded(|| {
        anyio::run(BlockingPortal::serve(|portal| async move {
            let error = portal.call_sync(|| ()).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Other);
        }));
    });
}

// FT-17: a portal started and used from async code does not deadlock.
#[anyio::test(timeout = 10)]
async fn a_blocking_portal_can_be_started_and_used_from_async_code() {
    let portal = Arc::new(start_blocking_portal().unwrap());
    // Directly: this task's thread blocks briefly, the portal runs on its own.
    assert_eq!(portal.call(|| async { 1 }).unwrap(), 1);
    let from_a_job = portal.clone();
    let value = to_thread::run_sync(move || from_a_job.call_sync(|| 2).unwrap()).await;
    assert_eq!(value, 2);
    let awaited = portal.start_task_soon(|| async {
        anyio::sleep(0.001).await;
        3
    });
    assert_eq!(awaited.await.unwrap(), 3);
    to_thread::run_sync(move || portal.stop(false)).await;
}

// TT-11: sequential users each get a fresh portal thread, which is gone afterwards.
#[test]
fn a_provider_starts_a_fresh_portal_for_sequential_users() {
    bounded(|| {
        let provider = BlockingPortalProvider::new();
        let first = provider.portal().unwrap().call_sync(tid).unwrap();
        assert!(
            wait_until(|| !thread_alive(first)),
            "thread {first} left behind"
        );
        let second = provider.portal().unwrap().call_sync(tid).unwrap();
        assert_ne!(first, second);
        assert!(
            wait_until(|| !thread_alive(second)),
            "thread {second} left behind"
        );
    });
}

// TT-11: nested users share one portal, which stops when the last lets go.
#[test]
fn a_provider_shares_one_portal_between_nested_users() {
    bounded(|| {
        let provider = BlockingPortalProvider::new();
        let outer = provider.portal().unwrap();
        let inner = provider.portal().unwrap();
        let thread = outer.call_sync(tid).unwrap();
        assert_eq!(inner.call_sync(tid).unwrap(), thread);
        drop(inner);
        assert!(outer.is_running(), "the outer user still holds it");
        assert_eq!(outer.call_sync(tid).unwrap(), thread);
        drop(outer);
        assert!(
            wait_until(|| !thread_alive(thread)),
            "thread {thread} left behind"
        );
    });
}

// TT-11: concurrent users from three threads share a single portal thread.
#[test]
fn a_provider_shares_one_portal_thread_between_concurrent_users() {
    bounded(|| {
        let provider = BlockingPortalProvider::new();
        let together = Barrier::new(3);
        let threads: Vec<u32> = std::thread::scope(|scope| {
            let users: Vec<_> = (0..3)
                .map(|_| {
                    scope.spawn(|| {
                        let portal = provider.portal().unwrap();
                        let thread = portal.call_sync(tid).unwrap();
                        together.wait(); // all three hold the portal at once
                        thread
                    })
                })
                .collect();
            users.into_iter().map(|u| u.join().unwrap()).collect()
        });
        assert!(threads.iter().all(|&t| t == threads[0]), "{threads:?}");
        assert!(
            wait_until(|| !thread_alive(threads[0])),
            "thread {} left behind",
            threads[0]
        );
    });
}

// Review findings: serving ends cleanly however it ends.

#[test]
fn a_start_task_function_that_panics_leaves_a_portal_that_stops() {
    bounded(|| {
        let portal = start_blocking_portal().unwrap();
        let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            portal.start_task(|_status: anyio::TaskStatus<()>| -> std::future::Ready<()> {
                panic!("no future for you")
            })
        }));
        let payload = started.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"no future for you"));
        // The portal still serves, and stops (and drops) without hanging.
        assert_eq!(portal.call_sync(|| 3).unwrap(), 3);
        portal.stop(false);
        drop(portal);
    });
}

#[test]
fn a_cancelled_serve_releases_stop_callers_and_fails_late_calls() {
    bounded(|| {
        anyio::run(async {
            let (portal_tx, portal_rx) = std::sync::mpsc::channel();
            let served = anyio::move_on_after(
                0.05,
                BlockingPortal::serve(|portal| async move {
                    portal_tx.send(portal).unwrap();
                    anyio::sleep_forever().await;
                }),
            )
            .await;
            assert!(served.is_none());
            let portal = portal_rx.recv().unwrap();
            // From another thread: `stop` returns, and calls say the portal is gone.
            let outcome = anyio::to_thread::run_sync(move || {
                portal.stop(false);
                portal.call_sync(|| ()).unwrap_err().kind()
            })
            .await;
            assert_eq!(outcome, anyio::ErrorKind::RunFinished);
        });
    });
}
