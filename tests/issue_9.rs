//! Regression tests for the defects of issue 9 (the memory-use defects are in
//! `issue_9_memory.rs`, whose counting allocator would disturb these). Each failed on
//! the code before its fix.

mod common;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyio::streams::buffered::BufferedByteReceiveStream;
use anyio::streams::object_bytes::memory_byte_stream_pair;
use anyio::{
    CancelScope, Condition, ErrorKind, Lock, Semaphore, TaskGroup, TaskStatus,
    create_memory_object_stream, lowlevel, wait_all_tasks_blocked,
};
use common::*;
use futures_lite::future::poll_once;

// ---- helpers ----

/// Runs the future made by `make` on a runtime of its own, on a thread of its own, and
/// fails if it has not finished within `secs` seconds.
///
/// For the hangs where a cancellation is lost: an `#[anyio::test(timeout = ..)]` cannot
/// end those, because the test's own timeout is one more outer cancellation that the
/// stuck group does not deliver either. The hung thread is left behind.
fn within<Fut: Future<Output = ()>>(secs: u64, make: impl FnOnce() -> Fut + Send + 'static) {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| anyio::run(make())));
        let _ = done.send(outcome);
    });
    match finished.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("hung: the scenario did not finish within {secs} s (see its output)"),
    }
}

/// Yields until `flag` is set, for at most `secs` seconds; returns whether it was set.
async fn wait_for_flag(flag: &std::sync::atomic::AtomicBool, secs: f64) -> bool {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    while !is_set(flag) {
        if Instant::now() > deadline {
            return false;
        }
        anyio::sleep(0.005).await;
    }
    true
}

// ---- 1. A cancellation lost when a shield between the cancelled scope and a group is
// raised and lowered again ----

/// Outer scope O, then scope S, then group G whose child C is in shielded work when O is
/// cancelled. The controller (outside O) cancels O, lets G see it, raises S's shield,
/// waits until C has parked (in `sleep_forever`, or on a held lock), then lowers the
/// shield: G must be cancelled again, C dropped, and
/// O's run must return `None`.
fn lost_cancellation_scenario(park_on_lock: bool) {
    within(5, move || async move {
        let outer = CancelScope::new();
        let between = CancelScope::new();
        let lock = Lock::new();
        let entered = flag();
        let parked = flag();
        let dropped = flag();
        let got_lock = flag();
        let outer_done = flag();
        let lowered_at = Mutex::new(None::<Instant>);
        let result = anyio::task_group!(|top| {
            // The controller, outside O.
            top.start_soon(async {
                let guard = lock.acquire().await?;
                assert!(wait_for_flag(&entered, 2.0).await, "C never started");
                outer.cancel();
                // G sees the cancellation; C, in shielded work, stays.
                wait_all_tasks_blocked().await;
                between.set_shield(true);
                anyio::sleep(0.4).await; // C's shielded sleep (0.2 s) ends; C parks
                assert!(is_set(&parked), "C did not park while S was shielded");
                if park_on_lock {
                    assert_eq!(lock.statistics().tasks_waiting, 1, "C waits for the lock");
                }
                eprintln!("C parked; lowering the shield of S");
                *lowered_at.lock().unwrap() = Some(Instant::now());
                between.set_shield(false);
                // Keep the lock until O is done, so that only the cancel can end C's wait.
                wait_for_flag(&outer_done, 2.0).await;
                drop(guard);
                anyio::Result::Ok(())
            });
            let result = outer
                .run(between.run(async {
                    anyio::task_group!(|g| {
                        g.start_soon(async {
                            let _dropped = DropFlag(dropped.clone());
                            set(&entered);
                            CancelScope::shielded().run(anyio::sleep(0.2)).await;
                            set(&parked);
                            if park_on_lock {
                                let _guard = lock.acquire().await?;
                                set(&got_lock);
                            }
                            anyio::sleep_forever().await;
                            anyio::Result::Ok(())
                        });
                    })
                }))
                .await;
            set(&outer_done);
            anyio::Result::Ok(result)
        });
        let result = result.unwrap().unwrap();
        assert!(result.is_none(), "O's cancellation ended its body");
        assert!(outer.cancelled_caught());
        assert!(is_set(&dropped), "C was dropped");
        assert!(!is_set(&got_lock), "C never took the lock");
        let lowered_at = lowered_at.lock().unwrap().expect("the shield was lowered");
        assert!(
            lowered_at.elapsed() < Duration::from_secs(2),
            "O ended promptly after the shield was lowered"
        );
        assert!(!lock.locked());
        assert_eq!(lock.statistics().tasks_waiting, 0);
    });
}

#[test]
fn a_child_parked_in_sleep_forever_is_cancelled_when_the_shield_between_is_lowered_again() {
    lost_cancellation_scenario(false);
}

#[test]
fn a_child_parked_on_a_lock_is_cancelled_when_the_shield_between_is_lowered_again() {
    lost_cancellation_scenario(true);
}

/// As above with C parked on a held lock; the lock is released while C's context is
/// cancelled (S unshielded, so C is skipped), and S's shield is raised again at once:
/// C's context is no longer cancelled, so C must take the free lock.
#[test]
fn a_child_skipped_by_a_release_while_cancelled_takes_the_free_lock_once_shielded_again() {
    within(5, || async {
        let outer = CancelScope::new();
        let between = CancelScope::new();
        let lock = Lock::new();
        let entered = flag();
        let parked = flag();
        let got_lock = flag();
        let dropped = flag();
        let result = anyio::task_group!(|top| {
            top.start_soon(async {
                let guard = lock.acquire().await?;
                assert!(wait_for_flag(&entered, 2.0).await, "C never started");
                outer.cancel();
                wait_all_tasks_blocked().await; // G sees the cancellation
                between.set_shield(true);
                anyio::sleep(0.4).await;
                assert!(is_set(&parked), "C did not park while S was shielded");
                assert_eq!(lock.statistics().tasks_waiting, 1, "C waits for the lock");
                // No checkpoint between these three: C cannot run in between.
                between.set_shield(false);
                drop(guard); // C's context is cancelled now: C is skipped, the lock freed
                between.set_shield(true);
                assert!(!lock.locked(), "the release skipped the cancelled waiter");
                eprintln!("lock released while C was cancelled; shield raised again");
                assert!(
                    wait_for_flag(&got_lock, 1.0).await,
                    "C did not take the free lock after the shield was raised again"
                );
                between.set_shield(false); // now C (in sleep_forever) is cancelled
                anyio::Result::Ok(())
            });
            let result = outer
                .run(between.run(async {
                    anyio::task_group!(|g| {
                        g.start_soon(async {
                            let _dropped = DropFlag(dropped.clone());
                            set(&entered);
                            CancelScope::shielded().run(anyio::sleep(0.2)).await;
                            set(&parked);
                            let guard = lock.acquire().await?;
                            set(&got_lock);
                            drop(guard);
                            anyio::sleep_forever().await;
                            anyio::Result::Ok(())
                        });
                    })
                }))
                .await;
            anyio::Result::Ok(result)
        });
        assert!(result.unwrap().unwrap().is_none());
        assert!(is_set(&got_lock));
        assert!(is_set(&dropped));
        assert!(!lock.locked());
    });
}

// ---- 5. An abandoned `next()` on a rendezvous receive end (`rx.next()`, as a user
// writes it with `StreamExt` in scope or not: the inherent method) ----

#[anyio::test(timeout = 5)]
async fn send_nowait_would_block_after_a_next_on_a_rendezvous_stream_was_abandoned() {
    let (tx, rx) = create_memory_object_stream::<u32>(0);
    assert!(poll_once(rx.next()).await.is_none());
    match tx.send_nowait(1) {
        Ok(()) => panic!("send_nowait handed the item to the abandoned next()"),
        Err(error) => assert_eq!(error.kind(), ErrorKind::WouldBlock),
    }
    drop(rx);
}

#[anyio::test(timeout = 5)]
async fn a_next_dropped_by_a_timeout_leaves_no_waiting_receiver_behind() {
    let (tx, rx) = create_memory_object_stream::<u32>(0);
    assert!(anyio::move_on_after(0.01, rx.next()).await.is_none());
    assert_eq!(rx.statistics().tasks_waiting_receive, 0);
    match tx.send_nowait(1) {
        Ok(()) => panic!("send_nowait handed the item to the abandoned next()"),
        Err(error) => assert_eq!(error.kind(), ErrorKind::WouldBlock),
    }
    drop(rx);
}

#[anyio::test(timeout = 5)]
async fn an_abandoned_next_does_not_count_as_a_waiting_receiver() {
    let (_tx, rx) = create_memory_object_stream::<u32>(0);
    assert!(poll_once(rx.next()).await.is_none());
    assert_eq!(rx.statistics().tasks_waiting_receive, 0);
}

#[anyio::test(timeout = 5)]
async fn a_waiting_clone_gets_the_item_rather_than_an_abandoned_next() {
    let (tx, rx) = create_memory_object_stream::<u32>(0);
    let clone = rx.clone();
    assert!(poll_once(rx.next()).await.is_none());
    let got = Mutex::new(None);
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            let received = anyio::fail_after(1, clone.receive()).await;
            *got.lock().unwrap() = Some(received.map(|r| r.map_err(|e| e.kind())));
        });
        wait_all_tasks_blocked().await; // the clone waits in receive()
        anyio::fail_after(1, tx.send(7)).await??;
        anyio::Result::Ok(())
    })
    .unwrap();
    let got = got.lock().unwrap().take().unwrap();
    assert!(
        matches!(got, Ok(Ok(7))),
        "the waiting clone did not get the item: {got:?}"
    );
    drop(rx);
}

// ---- 6. `receive_until` skips a buffered delimiter after an earlier call ----

#[anyio::test(timeout = 5)]
async fn receive_until_finds_a_buffered_delimiter_after_a_failed_call_with_another() {
    let (_peer, stream) = memory_byte_stream_pair(4); // the peer sends nothing more
    let mut reader = BufferedByteReceiveStream::new(stream);
    reader.feed_data(b"a;b\nc");
    let error = reader.receive_until(b"\n", 2).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::DelimiterNotFound);
    assert_eq!(reader.buffer(), b"a;b\nc");
    let found = anyio::fail_after(1, reader.receive_until(b";", 64)).await;
    assert_eq!(
        found.map(|r| r.map_err(|e| e.kind())).map_err(|e| e.kind()),
        Ok(Ok(b"a".to_vec())),
        "the ';' in the buffer was skipped"
    );
    assert_eq!(reader.buffer(), b"b\nc");
}

#[anyio::test(timeout = 5)]
async fn receive_until_finds_a_buffered_delimiter_after_a_cancelled_call_with_another() {
    let (_peer, stream) = memory_byte_stream_pair(4);
    let mut reader = BufferedByteReceiveStream::new(stream);
    reader.feed_data(b"a;b");
    // Waits for a "\r\n" that never comes: cancelled while filling.
    assert!(
        anyio::move_on_after(0.05, reader.receive_until(b"\r\n", 64))
            .await
            .is_none()
    );
    assert_eq!(reader.buffer(), b"a;b");
    let found = anyio::fail_after(1, reader.receive_until(b";", 64)).await;
    assert_eq!(
        found.map(|r| r.map_err(|e| e.kind())).map_err(|e| e.kind()),
        Ok(Ok(b"a".to_vec())),
        "the ';' in the buffer was skipped"
    );
}

// ---- 7. `wait_all_tasks_blocked` returns while a task is in the middle of a poll ----

#[anyio::test(timeout = 10, worker_threads = 2)]
async fn wait_all_tasks_blocked_waits_for_a_poll_in_progress_on_a_worker_thread() {
    let entered = flag();
    let left = flag();
    let gave_up = flag();
    let main_thread = std::thread::current().id();
    anyio::task_group!(|tg| {
        let (entered2, left2, gave_up2) = (entered.clone(), left.clone(), gave_up.clone());
        tg.spawn(async move {
            // Get off the main thread (which also runs spawned tasks while it waits),
            // so that the main task can observe this poll from outside.
            let mut tries = 0;
            while std::thread::current().id() == main_thread {
                tries += 1;
                if tries > 100_000 {
                    set(&gave_up2);
                    return;
                }
                lowlevel::checkpoint().await;
            }
            set(&entered2);
            std::thread::sleep(Duration::from_millis(300)); // inside one poll
            set(&left2);
            anyio::sleep_forever().await;
        });
        let started = Instant::now();
        while !is_set(&entered) {
            assert!(
                !is_set(&gave_up),
                "the spawned task never ran on a worker thread"
            );
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the task never started"
            );
            lowlevel::checkpoint().await;
        }
        wait_all_tasks_blocked().await;
        let left_then = is_set(&left);
        tg.cancel();
        assert!(
            left_then,
            "wait_all_tasks_blocked returned while the spawned task was still in its poll"
        );
    })
    .unwrap();
}

// ---- 8. `start` in a cancelled context ----

/// AnyIO's test_start_cancelled.
#[anyio::test(timeout = 5)]
async fn start_in_a_cancelled_group_still_runs_the_child_up_to_its_first_checkpoint() {
    let started = flag();
    let finished = flag();
    anyio::task_group!(|tg| {
        tg.cancel();
        let _ = tg
            .start(|_status: TaskStatus<()>| async {
                set(&started);
                anyio::sleep(2).await;
                set(&finished);
            })
            .await;
    })
    .unwrap();
    assert!(is_set(&started), "the child never ran");
    assert!(!is_set(&finished));
}

/// AnyIO's test_start_cancels_parent_scope.
#[anyio::test(timeout = 5)]
async fn start_in_a_cancelled_inner_scope_runs_the_child_and_does_not_cancel_the_group() {
    let started = flag();
    let group = TaskGroup::new();
    let tg = &group;
    group
        .run(async {
            let inner = CancelScope::new();
            inner.cancel();
            inner
                .run(async {
                    let _ = tg
                        .start(|_status: TaskStatus<()>| async {
                            set(&started);
                            anyio::sleep_forever().await;
                        })
                        .await;
                })
                .await;
        })
        .await
        .unwrap();
    assert!(is_set(&started), "the child never ran");
    assert!(!group.cancel_scope().cancel_called());
}

// ---- 9. The parent of a task started with `start` ----

/// AnyIO's test_start_parent_id.
#[anyio::test(timeout = 5)]
async fn a_started_child_belongs_to_the_starter_until_it_reports_started() {
    let root = anyio::get_current_task().id;
    let starter = AtomicU64::new(0);
    let initial = Mutex::new(None);
    let permanent = Mutex::new(None);
    let (initial_slot, permanent_slot) = (&initial, &permanent);
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            starter.store(anyio::get_current_task().id, Ordering::SeqCst);
            tg.start(|status: TaskStatus<()>| async move {
                let (initial, permanent) = (initial_slot, permanent_slot);
                *initial.lock().unwrap() = Some(anyio::get_current_task().parent_id);
                status.started(());
                *permanent.lock().unwrap() = Some(anyio::get_current_task().parent_id);
            })
            .await
        });
    })
    .unwrap();
    let starter = starter.load(Ordering::SeqCst);
    let initial = initial.lock().unwrap().unwrap();
    let permanent = permanent.lock().unwrap().unwrap();
    assert_ne!(initial, permanent);
    assert_eq!(
        initial,
        Some(starter),
        "before started(): the task that called start"
    );
    assert_eq!(
        permanent,
        Some(root),
        "after started(): the group's host task"
    );
}

// ---- 10. A notified Condition waiter cancelled while re-taking the lock ----

#[anyio::test(timeout = 5)]
async fn a_notified_condition_waiter_cancelled_while_retaking_the_lock_returns_from_wait() {
    let condition = Condition::new();
    let waiter_scope = CancelScope::new();
    let wait_ok = Mutex::new(None);
    let after_wait = flag();
    let after_checkpoint = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            waiter_scope
                .run(async {
                    let mut guard = condition.acquire().await?;
                    let waited = guard.wait().await;
                    *wait_ok.lock().unwrap() = Some(waited.is_ok());
                    set(&after_wait);
                    anyio::sleep(1).await; // the scope is cancelled: ends here
                    set(&after_checkpoint);
                    drop(guard);
                    anyio::Result::Ok(())
                })
                .await;
        });
        wait_all_tasks_blocked().await; // A waits, the lock is free
        let guard = condition.acquire().await?;
        guard.notify(1); // A is notified...
        waiter_scope.cancel(); // ...then cancelled before it re-took the lock
        drop(guard);
        anyio::Result::Ok(())
    })
    .unwrap();
    assert!(
        is_set(&after_wait),
        "the code after the notified wait never ran"
    );
    assert_eq!(*wait_ok.lock().unwrap(), Some(true));
    assert!(!is_set(&after_checkpoint));
    assert!(!condition.locked());
    assert_eq!(condition.statistics().tasks_waiting, 0);
}

// ---- 11. Semaphore values beyond what the state can hold ----

#[test]
fn a_semaphore_too_large_to_represent_panics_instead_of_reading_as_zero() {
    let too_large = 1usize << (usize::BITS - 1);
    let made = std::panic::catch_unwind(|| Semaphore::new(too_large));
    if let Ok(semaphore) = made {
        assert_eq!(
            semaphore.value(),
            too_large,
            "Semaphore::new({too_large}) silently holds another value"
        );
    }
}

#[test]
fn releasing_a_semaphore_at_the_largest_value_is_an_error() {
    let largest = usize::MAX / 2;
    let semaphore = Semaphore::new(largest);
    assert_eq!(semaphore.value(), largest);
    let released = std::panic::catch_unwind(AssertUnwindSafe(|| semaphore.release()));
    match released {
        Ok(result) => assert!(
            result.is_err(),
            "release beyond the largest value succeeded"
        ),
        Err(_) => panic!("release at the largest value panicked instead of returning Err"),
    }
    assert_eq!(semaphore.value(), largest);
}

#[test]
fn a_semaphore_max_value_that_cannot_be_represented_is_an_error() {
    assert!(Semaphore::with_max_value(0, usize::MAX).is_err());
}

// ---- 12. `CancelScope::deadline` reads back the instant set ----

fn assert_deadline_reads_back(at: Instant) {
    let scope = CancelScope::with_deadline(at);
    assert_eq!(scope.deadline(), Some(at), "with_deadline");
    let scope = CancelScope::new();
    scope.set_deadline(Some(at));
    assert_eq!(scope.deadline(), Some(at), "set_deadline");
}

#[anyio::test(timeout = 5)]
async fn a_deadline_in_the_past_reads_back_exactly() {
    let now = Instant::now();
    let mut checked = 0;
    for ago in [10, 1000, 86_400] {
        if let Some(past) = now.checked_sub(Duration::from_secs(ago)) {
            assert_deadline_reads_back(past);
            checked += 1;
        }
    }
    if checked == 0 {
        eprintln!("skipped: the clock cannot go 10 s back");
    }
}

#[anyio::test(timeout = 5)]
async fn a_deadline_a_thousand_years_away_reads_back_exactly() {
    let far = Instant::now() + Duration::from_secs(1000 * 365 * 86_400);
    assert_deadline_reads_back(far);
}

// ---- 13. Ready operations never yield ----

#[anyio::test(timeout = 10)]
async fn a_loop_of_uncontended_lock_acquires_lets_other_tasks_run() {
    let lock = Lock::new();
    let other_ran = flag();
    let first_seen = AtomicUsize::new(usize::MAX);
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            for i in 0..10_000 {
                drop(lock.acquire().await?);
                if is_set(&other_ran) && first_seen.load(Ordering::SeqCst) == usize::MAX {
                    first_seen.store(i, Ordering::SeqCst);
                }
            }
            anyio::Result::Ok(())
        });
        tg.start_soon(async { set(&other_ran) });
    })
    .unwrap();
    let first_seen = first_seen.load(Ordering::SeqCst);
    assert!(
        first_seen < 1000,
        "the other task ran only after the loop (first seen at iteration {first_seen})"
    );
}

#[anyio::test(timeout = 10)]
async fn a_loop_of_receives_from_a_full_stream_lets_other_tasks_run() {
    let (tx, rx) = create_memory_object_stream::<usize>(10_000);
    for i in 0..10_000 {
        tx.send_nowait(i).unwrap();
    }
    let other_ran = flag();
    let first_seen = AtomicUsize::new(usize::MAX);
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            for i in 0..10_000 {
                rx.receive().await?;
                if is_set(&other_ran) && first_seen.load(Ordering::SeqCst) == usize::MAX {
                    first_seen.store(i, Ordering::SeqCst);
                }
            }
            anyio::Result::Ok(())
        });
        tg.start_soon(async { set(&other_ran) });
    })
    .unwrap();
    let first_seen = first_seen.load(Ordering::SeqCst);
    assert!(
        first_seen < 1000,
        "the other task ran only after the loop (first seen at iteration {first_seen})"
    );
}

// ---- 11 (continued): the bound the fix introduced, Semaphore::MAX_VALUE ----

#[test]
fn semaphore_max_value_is_half_the_range_of_usize() {
    assert_eq!(Semaphore::MAX_VALUE, usize::MAX / 2);
    assert_eq!(
        Semaphore::new(Semaphore::MAX_VALUE).value(),
        Semaphore::MAX_VALUE
    );
}

#[test]
#[should_panic(expected = "MAX_VALUE")]
fn a_semaphore_above_max_value_panics() {
    let _ = Semaphore::new(Semaphore::MAX_VALUE + 1);
}

#[test]
fn a_semaphore_of_usize_max_panics_naming_max_value() {
    let panic = std::panic::catch_unwind(|| Semaphore::new(usize::MAX)).unwrap_err();
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(message.contains("MAX_VALUE"), "{message}");
}

#[test]
fn releasing_a_semaphore_at_max_value_is_an_error_and_changes_nothing() {
    let semaphore = Semaphore::new(Semaphore::MAX_VALUE);
    assert!(semaphore.release().is_err());
    assert_eq!(semaphore.value(), Semaphore::MAX_VALUE);
}

#[test]
fn with_max_value_accepts_max_value_and_rejects_more() {
    let semaphore = Semaphore::with_max_value(0, Semaphore::MAX_VALUE).unwrap();
    assert_eq!(semaphore.max_value(), Some(Semaphore::MAX_VALUE));
    assert!(Semaphore::with_max_value(0, Semaphore::MAX_VALUE + 1).is_err());
    assert!(Semaphore::with_max_value(0, usize::MAX).is_err());
}

// ---- Found by the cancel-at-every-suspension harness: a group whose children an outer
// cancellation dropped completed, so the code after it ran in a cancelled scope ----

#[anyio::test(timeout = 5)]
async fn code_after_a_group_whose_children_an_outer_cancel_dropped_does_not_run() {
    let scope = CancelScope::new();
    scope.cancel();
    let after = flag();
    let outcome = scope
        .run(async {
            anyio::task_group!(|tg| {
                tg.start_soon(lowlevel::checkpoint());
            })
            .unwrap();
            set(&after);
        })
        .await;
    assert!(
        outcome.is_none(),
        "the cancelled scope caught its cancellation"
    );
    assert!(!is_set(&after), "the code after the group did not run");
}

// ---- Found in review ----

/// The child of `start` fails and, before the caller looks again, the caller's scope is
/// cancelled: the error must still reach the caller, not vanish with it.
#[anyio::test(timeout = 5)]
async fn a_start_failure_reaches_a_caller_cancelled_right_after_it() {
    let scope = CancelScope::new();
    let outcome = anyio::task_group!(|tg| {
        let handle = scope.clone();
        let started = scope
            .run(tg.start(|_status: TaskStatus<()>| async move {
                lowlevel::checkpoint().await;
                handle.cancel(); // the caller is cancelled...
                Err::<(), _>(fail("boom")) // ...just as the child fails
            }))
            .await;
        anyio::Result::Ok(started)
    });
    let started = outcome
        .expect("the caller took the error")
        .expect("the body finished");
    let error = started
        .expect("an outcome already there is returned in a cancelled scope")
        .unwrap_err();
    assert_eq!(error.to_string(), "boom");
}

/// Panics with its message when dropped (unless already unwinding).
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            std::panic::panic_any(self.0);
        }
    }
}

/// A child that sleeps until cancelled, then runs a cleanup that takes a while and sets
/// `cleaned` at its end.
async fn sleeps_then_cleans_up_slowly(cleaned: &std::sync::atomic::AtomicBool) {
    anyio::with_cleanup(anyio::sleep_forever(), async {
        anyio::sleep(0.01).await;
        set(cleaned);
    })
    .await
}

/// A child whose drop panics when a cancellation drops it: the panic is the child's (the
/// group resumes it once the others have ended), and a sibling's shielded cleanup still
/// runs to its end.
#[anyio::test(timeout = 5)]
async fn a_panic_in_a_cancelled_childs_drop_does_not_cut_short_its_siblings() {
    let cleaned = flag();
    let outcome = futures_lite::FutureExt::catch_unwind(AssertUnwindSafe(async {
        anyio::task_group!(|tg| {
            tg.start_soon(sleeps_then_cleans_up_slowly(&cleaned));
            tg.start_soon(async {
                let _bomb = PanicOnDrop("drop of a cancelled child");
                anyio::sleep_forever().await;
            });
            wait_all_tasks_blocked().await;
            tg.cancel();
        })
    }))
    .await;
    let panic = outcome.expect_err("the child's panic comes out of the group");
    assert_eq!(
        panic.downcast_ref::<&str>().copied(),
        Some("drop of a cancelled child")
    );
    assert!(is_set(&cleaned), "the sibling's cleanup ran to its end");
}

/// A task group polled by a foreign executor on a fresh thread, whose child runs an anyio
/// runtime of its own: the thread's activity counter appears during that child's poll,
/// and must not be lowered below zero when the poll ends.
#[test]
fn a_runtime_started_inside_a_foreign_poll_of_a_group_keeps_the_counters_straight() {
    std::thread::spawn(|| {
        futures_lite::future::block_on(async {
            anyio::task_group!(|tg| {
                tg.start_soon(async {
                    assert_eq!(anyio::run(async { 7 }), 7);
                });
            })
            .unwrap();
        });
        // The thread still counts as idle: a later runtime's waiter returns.
        anyio::run(anyio::wait_all_tasks_blocked());
    })
    .join()
    .expect("no counter underflow");
}

/// The same for the group's body: a panic in its drop, when a cancellation drops it, is
/// the body's panic, and the children still end properly.
#[anyio::test(timeout = 5)]
async fn a_panic_in_a_cancelled_bodys_drop_does_not_cut_short_the_children() {
    let cleaned = flag();
    let outcome = futures_lite::FutureExt::catch_unwind(AssertUnwindSafe(async {
        anyio::task_group!(|tg| {
            tg.start_soon(sleeps_then_cleans_up_slowly(&cleaned));
            tg.start_soon(async {
                wait_all_tasks_blocked().await;
                tg.cancel();
            });
            let _bomb = PanicOnDrop("drop of a cancelled body");
            anyio::sleep_forever().await;
        })
    }))
    .await;
    let panic = outcome.expect_err("the body's panic comes out of the group");
    assert_eq!(
        panic.downcast_ref::<&str>().copied(),
        Some("drop of a cancelled body")
    );
    assert!(is_set(&cleaned), "the child's cleanup ran to its end");
}
