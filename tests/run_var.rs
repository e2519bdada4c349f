//! `lowlevel::RunVar`: a variable with one value per runtime (AnyIO's `test_lowlevel.py`,
//! behaviours LL-04..LL-07).
//!
//! Covered: before a value is set `get` fails naming the variable (or gives the default,
//! or `get_or`'s); a value is shared by every task of its runtime (host, children,
//! spawned tasks on worker threads), by its `to_thread` jobs and by calls made with its
//! token, but not by other runtimes (one after another, or at once) nor by a portal's;
//! each new runtime starts empty; code outside any runtime shares one set of values;
//! two variables with the same name keep values of their own; `reset` puts back the
//! previous value (nested, down to the default or to no value), and refuses a token of
//! another variable, naming both; values are dropped with their runtime or on reset.
//! (A token moved into `reset` cannot be used twice: the compiler refuses it, so
//! AnyIO's "token already used" case has no test here.)
//!
//! Each test uses variables of its own (tests run in parallel in one process), and is
//! bounded in time: `#[anyio::test(timeout = ..)]`, or `bounded` for tests that start
//! runtimes themselves.

use std::panic::resume_unwind;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use anyio::lowlevel::{self, RunVar};
use anyio::{ErrorKind, to_thread};

/// The most a test may take.
const LIMIT: Duration = Duration::from_secs(10);

/// Runs `body` on a thread of its own and fails the test if it takes longer than
/// `LIMIT`; resumes its panic.
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

// LL-04: before a value is set, `get` fails and names the variable.
#[anyio::test(timeout = 10)]
async fn get_before_set_fails_naming_the_variable() {
    static UNSET: RunVar<u32> = RunVar::new("unset_var");
    let error = UNSET.get().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Other);
    assert!(error.message().contains("`unset_var`"), "{error}");
    assert_eq!(UNSET.get_or(9), 9);
    assert_eq!(UNSET.name(), "unset_var");
    let _token = UNSET.set(1);
    assert_eq!(UNSET.get().unwrap(), 1);
    assert_eq!(UNSET.get_or(9), 1);
}

// LL-04: one value for the whole runtime: a child sees the host's, the host the child's.
#[anyio::test(timeout = 10)]
async fn a_value_is_shared_by_the_tasks_of_a_runtime() {
    static SHARED: RunVar<&str> = RunVar::new("shared_by_tasks");
    drop(SHARED.set("from the host"));
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            assert_eq!(SHARED.get().unwrap(), "from the host");
            drop(SHARED.set("from a child"));
        });
    })
    .unwrap();
    assert_eq!(SHARED.get().unwrap(), "from a child");
}

// Spawned tasks, on the runtime's worker threads, share the value too.
#[anyio::test(timeout = 10, worker_threads = 2)]
async fn a_value_is_shared_with_spawned_tasks_on_worker_threads() {
    static SPAWNED: RunVar<u32> = RunVar::new("shared_by_spawned");
    drop(SPAWNED.set(1));
    let (seen_tx, seen_rx) = async_channel::bounded(4);
    anyio::task_group!(|tg| {
        for _ in 0..4 {
            let seen_tx = seen_tx.clone();
            tg.spawn(async move { seen_tx.send(SPAWNED.get().unwrap()).await.unwrap() });
        }
    })
    .unwrap();
    for _ in 0..4 {
        assert_eq!(seen_rx.recv().await.unwrap(), 1);
    }
    anyio::task_group!(|tg| {
        tg.spawn(async { drop(SPAWNED.set(2)) });
    })
    .unwrap();
    assert_eq!(SPAWNED.get().unwrap(), 2);
}

// LL-04: each new runtime starts with no value.
#[test]
fn each_new_runtime_starts_with_no_value() {
    static PER_RUN: RunVar<u32> = RunVar::new("per_run");
    bounded(|| {
        anyio::run(async {
            assert!(PER_RUN.get().is_err());
            drop(PER_RUN.set(1));
            assert_eq!(PER_RUN.get().unwrap(), 1);
        });
        let runtime = anyio::Runtime::new().unwrap();
        runtime.block_on(async {
            assert!(PER_RUN.get().is_err(), "a new runtime has no value");
            drop(PER_RUN.set(2));
        });
        // One runtime, two block_on calls: the same values.
        runtime.block_on(async { assert_eq!(PER_RUN.get().unwrap(), 2) });
    });
}

// Two runtimes running at once each have a value of their own.
#[test]
fn two_runtimes_running_at_once_keep_values_of_their_own() {
    static AT_ONCE: RunVar<u32> = RunVar::new("at_once");
    bounded(|| {
        let both_set = Arc::new(Barrier::new(2));
        let runtimes: Vec<_> = (0..2)
            .map(|i| {
                let both_set = both_set.clone();
                std::thread::spawn(move || {
                    anyio::run(async move {
                        drop(AT_ONCE.set(i));
                        both_set.wait(); // both runtimes have set theirs
                        AT_ONCE.get().unwrap()
                    })
                })
            })
            .collect();
        let seen: Vec<u32> = runtimes.into_iter().map(|r| r.join().unwrap()).collect();
        assert_eq!(seen, [0, 1]);
    });
}

// A runtime's jobs see its values, and their sets are the runtime's.
#[anyio::test(timeout = 10)]
async fn a_value_is_visible_in_the_runtimes_jobs() {
    static IN_JOBS: RunVar<u32> = RunVar::with_default("in_jobs", 0);
    drop(IN_JOBS.set(5));
    let seen = to_thread::run_sync(|| {
        let seen = IN_JOBS.get().unwrap();
        drop(IN_JOBS.set(6));
        seen
    })
    .await;
    assert_eq!(seen, 5);
    assert_eq!(IN_JOBS.get().unwrap(), 6);
}

// Calls made with a runtime's token, from a plain thread, see its values.
#[anyio::test(timeout = 10)]
async fn calls_through_a_token_see_the_runtimes_values() {
    static VIA_TOKEN: RunVar<u32> = RunVar::new("via_token");
    drop(VIA_TOKEN.set(3));
    let token = lowlevel::current_token();
    let (tx, rx) = async_channel::bounded(1);
    std::thread::spawn(move || {
        let outside = VIA_TOKEN.get().ok(); // this plain thread is in no runtime
        let inside = token.run_sync(|| {
            let seen = VIA_TOKEN.get().unwrap();
            drop(VIA_TOKEN.set(4));
            seen
        });
        tx.send_blocking((outside, inside)).unwrap();
    });
    let (outside, inside) = rx.recv().await.unwrap();
    assert_eq!(outside, None);
    assert_eq!(inside.unwrap(), 3);
    assert_eq!(VIA_TOKEN.get().unwrap(), 4);
}

// A blocking portal runs a runtime of its own: it does not see this runtime's values.
#[anyio::test(timeout = 10)]
async fn a_portal_has_values_of_its_own() {
    static NOT_IN_PORTAL: RunVar<u32> = RunVar::new("not_in_portal");
    drop(NOT_IN_PORTAL.set(1));
    let seen = to_thread::run_sync(|| {
        let portal = anyio::from_thread::start_blocking_portal().unwrap();
        let before = portal.call_sync(|| NOT_IN_PORTAL.get().ok()).unwrap();
        portal.call_sync(|| drop(NOT_IN_PORTAL.set(2))).unwrap();
        let after = portal.call_sync(|| NOT_IN_PORTAL.get().ok()).unwrap();
        portal.stop(false);
        (before, after)
    })
    .await;
    assert_eq!(seen, (None, Some(2)));
    assert_eq!(NOT_IN_PORTAL.get().unwrap(), 1);
}

// Outside any runtime, plain threads share one set of values, apart from runtimes'.
#[test]
fn outside_any_runtime_plain_threads_share_one_set_of_values() {
    static OUTSIDE: RunVar<u32> = RunVar::new("outside_any_runtime");
    bounded(|| {
        drop(OUTSIDE.set(7));
        let other_thread = std::thread::spawn(|| OUTSIDE.get().ok()).join().unwrap();
        assert_eq!(other_thread, Some(7));
        let in_a_runtime = anyio::run(async { OUTSIDE.get().ok() });
        assert_eq!(in_a_runtime, None);
        assert_eq!(OUTSIDE.get().unwrap(), 7);
    });
}

// LL-05: a token of another variable is refused, naming both; nothing changes.
#[anyio::test(timeout = 10)]
async fn reset_with_a_token_of_another_variable_fails_naming_both() {
    static FIRST: RunVar<u32> = RunVar::new("first_var");
    static SECOND: RunVar<u32> = RunVar::with_default("second_var", 20);
    let token = FIRST.set(1);
    let error = SECOND.reset(token).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Other);
    assert!(error.message().contains("`first_var`"), "{error}");
    assert!(error.message().contains("`second_var`"), "{error}");
    assert_eq!(FIRST.get().unwrap(), 1);
    assert_eq!(SECOND.get().unwrap(), 20);
}

// LL-06: two variables with the same name keep values of their own, and their defaults.
#[anyio::test(timeout = 10)]
async fn variables_with_the_same_name_do_not_share_values() {
    static ONE: RunVar<u32> = RunVar::with_default("same_name", 1);
    static TWO: RunVar<u32> = RunVar::with_default("same_name", 2);
    assert_eq!(ONE.get().unwrap(), 1);
    assert_eq!(TWO.get().unwrap(), 2);
    let token = ONE.set(10);
    assert_eq!(ONE.get().unwrap(), 10);
    assert_eq!(TWO.get().unwrap(), 2);
    // Same name, other variable: its token is refused all the same.
    assert!(TWO.reset(token).is_err());
    assert_eq!(ONE.get().unwrap(), 10);
}

// LL-07: reset puts back the previous value, down to the default.
#[anyio::test(timeout = 10)]
async fn reset_puts_back_the_previous_value_down_to_the_default() {
    static LEVEL: RunVar<u32> = RunVar::with_default("level", 3);
    let outer = LEVEL.set(5);
    assert_eq!(LEVEL.get().unwrap(), 5);
    let inner = LEVEL.set(4);
    assert_eq!(LEVEL.get().unwrap(), 4);
    LEVEL.reset(inner).unwrap();
    assert_eq!(LEVEL.get().unwrap(), 5);
    LEVEL.reset(outer).unwrap();
    assert_eq!(LEVEL.get().unwrap(), 3);
}

// Without a default, reset to "no value" makes `get` fail again.
#[anyio::test(timeout = 10)]
async fn reset_of_the_first_set_leaves_no_value() {
    static FRESH: RunVar<String> = RunVar::new("fresh");
    let token = FRESH.set("debug".to_owned());
    assert_eq!(FRESH.get().unwrap(), "debug");
    FRESH.reset(token).unwrap();
    assert!(FRESH.get().is_err());
    assert_eq!(FRESH.get_or("fallback".to_owned()), "fallback");
}

// Values are dropped on reset and with their runtime: no leaked `Arc`s.
#[test]
fn values_are_dropped_on_reset_and_with_their_runtime() {
    static HELD: RunVar<Arc<()>> = RunVar::new("held");
    bounded(|| {
        let watch = Arc::new(());
        let runtime = anyio::Runtime::new().unwrap();
        runtime.block_on(async {
            let token = HELD.set(watch.clone());
            assert_eq!(Arc::strong_count(&watch), 2);
            HELD.reset(token).unwrap();
            assert_eq!(Arc::strong_count(&watch), 1);
            let first = HELD.set(watch.clone());
            let second = HELD.set(Arc::new(()));
            // The second token keeps the first value, to put it back.
            assert_eq!(Arc::strong_count(&watch), 2);
            drop(second);
            drop(first);
            assert_eq!(Arc::strong_count(&watch), 1, "dropped tokens keep nothing");
            drop(HELD.set(watch.clone()));
        });
        assert_eq!(Arc::strong_count(&watch), 2, "kept while its runtime lives");
        drop(runtime);
        assert_eq!(Arc::strong_count(&watch), 1, "dropped with its runtime");
    });
}
