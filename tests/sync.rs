//! Synchronization primitives: Lock, Event, Condition, Semaphore, CapacityLimiter and
//! ResourceGuard (AnyIO's SY-* behaviours, in Rust idiom).

mod common;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyio::{
    Borrower, CancelScope, CapacityLimiter, Condition, ErrorKind, Event, Lock, ResourceGuard,
    Semaphore, wait_all_tasks_blocked,
};
use common::*;
use futures_lite::future::poll_once;

// ---- Lock ----

#[anyio::test(timeout = 10)]
async fn lock_waiter_runs_after_the_holder_releases() {
    let lock = Lock::new();
    let order = Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        let guard = lock.acquire().await?;
        tg.start_soon(async {
            assert!(lock.locked());
            let _guard = lock.acquire().await?;
            order.lock().unwrap().push(2);
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        order.lock().unwrap().push(1);
        drop(guard);
        anyio::Result::Ok(())
    })
    .unwrap();
    assert_eq!(*order.lock().unwrap(), [1, 2]);
    assert!(!lock.locked());
}

#[anyio::test(timeout = 10)]
async fn lock_acquire_nowait_takes_a_free_lock() {
    let lock = Lock::new();
    let guard = lock.acquire_nowait().unwrap();
    assert!(lock.locked());
    drop(guard);
    assert!(!lock.locked());
}

#[anyio::test(timeout = 10)]
async fn lock_acquire_nowait_would_block_while_another_task_holds_it() {
    let lock = Lock::new();
    anyio::task_group!(|tg| {
        let _guard = lock.acquire().await?;
        tg.start_soon(async {
            let error = lock.acquire_nowait().unwrap_err();
            assert_eq!(error.kind(), ErrorKind::WouldBlock);
        });
        wait_all_tasks_blocked().await;
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn lock_acquired_twice_by_one_task_is_an_error_not_a_deadlock() {
    let lock = Lock::new();
    let _guard = lock.acquire().await.unwrap();
    let again = lock.acquire().await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Other);
    assert!(again.message().contains("already holds"), "{again}");
    let nowait = lock.acquire_nowait().unwrap_err();
    assert_eq!(nowait.kind(), ErrorKind::Other);
}

#[anyio::test(timeout = 10)]
async fn lock_waiter_cancelled_before_the_release_never_acquires() {
    let lock = Lock::new();
    let acquired = flag();
    anyio::task_group!(|tg| {
        let guard = lock.acquire().await?;
        tg.start_soon(async {
            let _guard = lock.acquire().await?;
            set(&acquired);
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await; // the child is parked in acquire
        tg.cancel();
        drop(guard); // handed to nobody: the only waiter is cancelled
        assert!(!lock.locked());
        anyio::Result::Ok(())
    })
    .unwrap();
    assert!(!is_set(&acquired));
    assert!(!lock.locked());
    assert_eq!(lock.statistics().tasks_waiting, 0);
}

#[anyio::test(timeout = 10)]
async fn lock_waiter_cancelled_before_it_first_ran_never_acquires() {
    let lock = Lock::new();
    let acquired = flag();
    anyio::task_group!(|tg| {
        let guard = lock.acquire().await?;
        tg.start_soon(async {
            let _guard = lock.acquire().await?;
            set(&acquired);
            anyio::Result::Ok(())
        });
        tg.cancel(); // before the child was polled at all
        drop(guard);
        anyio::Result::Ok(())
    })
    .unwrap();
    assert!(!is_set(&acquired));
    assert!(!lock.locked());
}

#[anyio::test(timeout = 10)]
async fn lock_acquire_in_a_cancelled_scope_does_not_take_a_free_lock() {
    let lock = Lock::new();
    let scope = CancelScope::new();
    scope.cancel();
    let result = scope.run(async { lock.acquire().await.map(drop) }).await;
    assert!(result.is_none());
    assert!(!lock.locked());
}

#[anyio::test(timeout = 10)]
async fn lock_statistics_count_waiters_and_name_the_owner() {
    let lock = Lock::new();
    let stats = lock.statistics();
    assert!(!stats.locked && stats.owner.is_none() && stats.tasks_waiting == 0);
    anyio::task_group!(|tg| {
        let guard = lock.acquire().await?;
        assert_eq!(
            lock.statistics().owner.unwrap().id,
            anyio::get_current_task().id
        );
        for expected in 1..=2 {
            tg.start_soon(async {
                drop(lock.acquire().await?);
                anyio::Result::Ok(())
            });
            wait_all_tasks_blocked().await;
            assert_eq!(lock.statistics().tasks_waiting, expected);
        }
        drop(guard);
        anyio::Result::Ok(())
    })
    .unwrap();
    let stats = lock.statistics();
    assert!(!stats.locked && stats.owner.is_none() && stats.tasks_waiting == 0);
}

#[anyio::test(timeout = 10)]
async fn lock_passes_straight_to_the_next_waiter_who_becomes_owner_at_once() {
    let lock = Lock::new();
    anyio::task_group!(|tg| {
        let guard = lock.acquire().await?;
        tg.start_soon_named("second", async {
            drop(lock.acquire().await?);
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        drop(guard);
        // Before the waiter has run again, it owns the lock: no barging possible.
        let stats = lock.statistics();
        assert!(stats.locked);
        assert_eq!(stats.owner.unwrap().name, "second");
        assert_eq!(
            lock.acquire_nowait().unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        anyio::Result::Ok(())
    })
    .unwrap();
    assert!(!lock.locked());
}

#[anyio::test(timeout = 10)]
async fn lock_waiters_acquire_in_arrival_order() {
    let lock = Lock::new();
    let order = Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        let guard = lock.acquire().await?;
        for n in 0..5 {
            let (lock, order) = (&lock, &order);
            tg.start_soon(async move {
                let _guard = lock.acquire().await?;
                order.lock().unwrap().push(n);
                anyio::sleep(0.001).await;
                anyio::Result::Ok(())
            });
            wait_all_tasks_blocked().await; // park them one after the other
        }
        drop(guard);
        anyio::Result::Ok(())
    })
    .unwrap();
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
}

/// Runs `body` under a deadline in a runtime whose main task does not own a lock taken
/// before (outside any task).
fn run_bounded<F: std::future::Future>(body: F) -> F::Output {
    anyio::run(async { anyio::fail_after(10, body).await.expect("test timed out") })
}

#[test]
fn lock_handed_to_a_waiter_that_is_then_dropped_passes_on() {
    let lock = Lock::new();
    let guard = lock.acquire_nowait().unwrap(); // held outside any task
    run_bounded(async {
        let mut first = Box::pin(lock.acquire());
        assert!(poll_once(&mut first).await.is_none()); // parked
        let mut second = Box::pin(lock.acquire());
        assert!(poll_once(&mut second).await.is_none());
        drop(guard); // handed to `first`, which never looks at it again
        drop(first);
        let acquired = poll_once(&mut second)
            .await
            .expect("passed on to the second waiter");
        drop(acquired.unwrap());
        drop(second);
        assert!(!lock.locked());
        assert_eq!(lock.statistics().tasks_waiting, 0);
        drop(lock.acquire_nowait().unwrap());
    });
}

#[test]
fn lock_waiter_dropped_while_waiting_leaves_the_queue_at_once() {
    let lock = Lock::new();
    let guard = lock.acquire_nowait().unwrap();
    run_bounded(async {
        let mut waiter = Box::pin(lock.acquire());
        assert!(poll_once(&mut waiter).await.is_none());
        assert_eq!(lock.statistics().tasks_waiting, 1);
        drop(waiter);
        assert_eq!(lock.statistics().tasks_waiting, 0);
        drop(guard);
        let again = anyio::fail_after!(3, { lock.acquire().await }).unwrap();
        drop(again.unwrap());
    });
}

#[test]
fn lock_created_outside_a_runtime_is_usable_in_a_later_run() {
    static LOCK: Lock = Lock::new();
    let stats = LOCK.statistics();
    assert!(!stats.locked && stats.owner.is_none() && stats.tasks_waiting == 0);
    anyio::run(async {
        anyio::fail_after!(5, {
            let _guard = LOCK.acquire().await.unwrap();
            assert!(LOCK.locked());
        })
        .unwrap();
    });
    assert!(!LOCK.locked());
}

#[anyio::test(timeout = 10, worker_threads = 2)]
async fn lock_serialises_spawned_tasks_on_several_threads() {
    let lock = std::sync::Arc::new(Lock::new());
    let inside = std::sync::Arc::new(AtomicUsize::new(0));
    let entries = counter();
    anyio::task_group!(|tg| {
        for _ in 0..8 {
            let (lock, inside, entries) = (lock.clone(), inside.clone(), entries.clone());
            tg.spawn(async move {
                for _ in 0..50 {
                    let _guard = lock.acquire().await?;
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                    anyio::lowlevel::checkpoint().await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                    bump(&entries);
                }
                anyio::Result::Ok(())
            });
        }
    })
    .unwrap();
    assert_eq!(count(&entries), 400);
    assert!(!lock.locked());
}

// ---- Event ----

#[anyio::test(timeout = 10)]
async fn event_set_by_a_child_releases_the_waiter() {
    let event = Event::new();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            anyio::sleep(0.001).await;
            event.set();
        });
        event.wait().await;
        assert!(event.is_set());
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn event_wait_in_a_cancelled_scope_is_cancelled_even_when_set() {
    let event = Event::new();
    event.set();
    let passed = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            event.wait().await;
            set(&passed);
        });
        tg.cancel();
    })
    .unwrap();
    assert!(!is_set(&passed));
}

#[anyio::test(timeout = 10)]
async fn event_wait_satisfied_before_the_cancel_is_not_turned_into_one() {
    let event = Event::new();
    let next_line = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            wait_all_tasks_blocked().await;
            event.set();
            tg.cancel();
        });
        event.wait().await;
        set(&next_line); // runs: the wait returned before the cancel was seen
        anyio::sleep_forever().await;
    })
    .unwrap();
    assert!(is_set(&next_line));
}

#[anyio::test(timeout = 10)]
async fn event_statistics_count_waiters_until_set() {
    let event = Event::new();
    anyio::task_group!(|tg| {
        for expected in 1..=2 {
            tg.start_soon(event.wait());
            wait_all_tasks_blocked().await;
            assert_eq!(event.statistics().tasks_waiting, expected);
        }
        event.set();
        assert_eq!(event.statistics().tasks_waiting, 0);
    })
    .unwrap();
}

#[test]
fn event_set_outside_a_runtime_is_seen_by_a_later_run() {
    let event = Event::new();
    event.set();
    assert!(event.is_set());
    anyio::run(async {
        anyio::fail_after!(5, { event.wait().await }).unwrap();
    });
}

#[anyio::test(timeout = 10)]
async fn event_waiter_dropped_leaves_the_queue() {
    let event = Event::new();
    let mut waiter = Box::pin(event.wait());
    assert!(poll_once(&mut waiter).await.is_none());
    assert_eq!(event.statistics().tasks_waiting, 1);
    drop(waiter);
    assert_eq!(event.statistics().tasks_waiting, 0);
    event.set();
}

#[anyio::test(timeout = 10, worker_threads = 2)]
async fn event_set_wakes_spawned_waiters_on_other_threads() {
    let event = std::sync::Arc::new(Event::new());
    let woken = counter();
    anyio::task_group!(|tg| {
        for _ in 0..4 {
            let (event, woken) = (event.clone(), woken.clone());
            tg.spawn(async move {
                event.wait().await;
                bump(&woken);
            });
        }
        wait_all_tasks_blocked().await;
        event.set();
    })
    .unwrap();
    assert_eq!(count(&woken), 4);
}

// ---- Condition ----

#[anyio::test(timeout = 10)]
async fn condition_wait_releases_the_lock_for_the_notifier() {
    let condition = Condition::new();
    let notified = flag();
    anyio::task_group!(|tg| {
        let mut guard = condition.acquire().await?;
        tg.start_soon(async {
            let guard = condition.acquire().await?;
            guard.notify_all();
            anyio::Result::Ok(())
        });
        guard.wait().await?;
        assert!(condition.locked(), "the lock is held again after wait");
        set(&notified);
        anyio::Result::Ok(())
    })
    .unwrap();
    assert!(is_set(&notified));
    assert!(!condition.locked());
}

#[anyio::test(timeout = 10)]
async fn condition_acquire_nowait_and_would_block() {
    let condition = Condition::new();
    anyio::task_group!(|tg| {
        let _guard = condition.acquire_nowait()?;
        assert!(condition.locked());
        tg.start_soon(async {
            let error = condition.acquire_nowait().unwrap_err();
            assert_eq!(error.kind(), ErrorKind::WouldBlock);
        });
        wait_all_tasks_blocked().await;
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn condition_waiter_cancelled_exits_without_a_notification() {
    let condition = Condition::new();
    let woke = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            let mut guard = condition.acquire().await?;
            guard.wait().await?;
            set(&woke);
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        tg.cancel();
    })
    .unwrap();
    assert!(!is_set(&woke));
    assert!(!condition.locked());
    assert_eq!(condition.statistics().tasks_waiting, 0);
}

#[anyio::test(timeout = 10)]
async fn condition_notification_skips_a_cancelled_waiter() {
    let condition = Condition::new();
    let a_scope = CancelScope::new();
    let (a_woke, b_woke) = (flag(), flag());
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            a_scope
                .run(async {
                    let mut guard = condition.acquire().await?;
                    guard.wait().await?;
                    set(&a_woke);
                    anyio::Result::Ok(())
                })
                .await;
        });
        wait_all_tasks_blocked().await;
        tg.start_soon(async {
            anyio::fail_after!(3, {
                let mut guard = condition.acquire().await?;
                guard.wait().await?;
                set(&b_woke);
                anyio::Result::Ok(())
            })?
        });
        wait_all_tasks_blocked().await;
        let guard = condition.acquire().await?;
        a_scope.cancel();
        guard.notify(1); // A is cancelled: the notification goes to B
        anyio::Result::Ok(())
    })
    .unwrap();
    assert!(!is_set(&a_woke));
    assert!(is_set(&b_woke));
}

#[anyio::test(timeout = 10)]
async fn condition_notify_without_holding_the_lock_is_an_error() {
    let condition = Condition::new();
    let error = condition.notify(1).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Other);
    assert!(error.message().contains("does not hold"), "{error}");
    let _guard = condition.acquire().await.unwrap();
    condition.notify_all().unwrap();
}

#[anyio::test(timeout = 10)]
async fn condition_wait_after_an_interrupted_wait_is_an_error() {
    let condition = Condition::new();
    let mut guard = condition.acquire().await.unwrap();
    {
        let mut wait = Box::pin(guard.wait());
        assert!(poll_once(&mut wait).await.is_none()); // released the lock, parked
    } // dropped: the lock is not taken back
    assert!(!condition.locked());
    let error = guard.wait().await.unwrap_err();
    assert!(error.message().contains("does not hold"), "{error}");
}

#[anyio::test(timeout = 10)]
async fn condition_statistics_follow_waiters_and_the_lock() {
    let condition = Condition::new();
    anyio::task_group!(|tg| {
        for expected in 1..=2 {
            tg.start_soon(async {
                let mut guard = condition.acquire().await?;
                guard.wait().await?;
                anyio::Result::Ok(())
            });
            wait_all_tasks_blocked().await;
            let stats = condition.statistics();
            assert_eq!(stats.tasks_waiting, expected);
            assert!(!stats.lock_statistics.locked);
        }
        for expected in [1, 0] {
            let guard = condition.acquire().await?;
            assert!(condition.statistics().lock_statistics.locked);
            guard.notify(1);
            assert_eq!(condition.statistics().tasks_waiting, expected);
        }
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn condition_wait_for_keeps_waiting_while_the_predicate_is_false() {
    let condition = Condition::new();
    let value = AtomicUsize::new(0);
    let checks = counter();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            let mut guard = condition.acquire().await?;
            guard
                .wait_for(|| {
                    bump(&checks);
                    value.load(Ordering::SeqCst) == 2
                })
                .await?;
            anyio::Result::Ok(())
        });
        for n in 1..=2 {
            wait_all_tasks_blocked().await;
            let guard = condition.acquire().await?;
            value.store(n, Ordering::SeqCst);
            guard.notify_all();
        }
        anyio::Result::Ok(())
    })
    .unwrap();
    assert_eq!(count(&checks), 3);
}

#[anyio::test(timeout = 10)]
async fn condition_notification_handed_to_a_dropped_waiter_passes_on() {
    let condition = Condition::new();
    let mut guard_a = condition.acquire_nowait().unwrap();
    let mut wait_a = Box::pin(guard_a.wait());
    assert!(poll_once(&mut wait_a).await.is_none());
    let second = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            let mut guard = condition.acquire().await?;
            guard.wait().await?;
            set(&second);
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        condition.acquire().await?.notify(1); // goes to A, the first waiter
        drop(wait_a); // A never takes it: B gets it
        anyio::Result::Ok(())
    })
    .unwrap();
    assert!(is_set(&second));
}

#[anyio::test(timeout = 10)]
async fn condition_waiter_cancelled_while_retaking_the_lock_still_returns_then_frees_it() {
    // Notified, then cancelled while re-taking the lock: the re-take is shielded (as in
    // AnyIO), so the wait returns holding the lock and the code after it runs; the
    // cancellation ends the body at its next checkpoint, which frees the lock.
    let condition = Condition::new();
    let scope = CancelScope::new();
    let retook = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            scope
                .run(async {
                    let mut guard = condition.acquire().await?;
                    guard.wait().await?;
                    set(&retook);
                    anyio::Result::Ok(())
                })
                .await;
        });
        wait_all_tasks_blocked().await;
        let guard = condition.acquire().await?;
        guard.notify(1); // the waiter now queues for the lock this task holds
        wait_all_tasks_blocked().await;
        assert_eq!(condition.statistics().lock_statistics.tasks_waiting, 1);
        scope.cancel();
        wait_all_tasks_blocked().await;
        drop(guard);
        anyio::Result::Ok(())
    })
    .unwrap();
    assert!(is_set(&retook), "the notified wait returned");
    assert!(!condition.locked());
    assert_eq!(condition.statistics().lock_statistics.tasks_waiting, 0);
}

// ---- Semaphore ----

#[anyio::test(timeout = 10)]
async fn semaphore_lets_value_holders_in_at_once() {
    let semaphore = Semaphore::new(2);
    let inside = AtomicUsize::new(0);
    anyio::task_group!(|tg| {
        for _ in 0..2 {
            tg.start_soon(async {
                let _slot = semaphore.acquire().await;
                assert!(semaphore.value() <= 1);
                inside.fetch_add(1, Ordering::SeqCst);
                anyio::sleep(0.001).await;
            });
        }
    })
    .unwrap();
    assert_eq!(inside.load(Ordering::SeqCst), 2);
    assert_eq!(semaphore.value(), 2);
}

#[anyio::test(timeout = 10)]
async fn semaphore_acquire_nowait_counts_down_then_would_block() {
    let semaphore = Semaphore::new(1);
    let slot = semaphore.acquire_nowait().unwrap();
    assert_eq!(semaphore.value(), 0);
    assert_eq!(
        semaphore.acquire_nowait().unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    drop(slot);
    assert_eq!(semaphore.value(), 1);
}

#[anyio::test(timeout = 10)]
async fn semaphore_waiter_cancelled_never_acquires_and_the_value_is_kept() {
    let semaphore = Semaphore::new(1);
    let acquired = flag();
    anyio::task_group!(|tg| {
        let slot = semaphore.acquire().await;
        tg.start_soon(async {
            let _slot = semaphore.acquire().await;
            set(&acquired);
        });
        wait_all_tasks_blocked().await;
        tg.cancel();
        drop(slot);
    })
    .unwrap();
    assert!(!is_set(&acquired));
    assert_eq!(semaphore.value(), 1);
}

#[anyio::test(timeout = 10)]
async fn semaphore_max_value_reads_back_and_bounds_release() {
    assert_eq!(Semaphore::new(1).max_value(), None);
    let semaphore = Semaphore::with_max_value(1, 2).unwrap();
    assert_eq!(semaphore.max_value(), Some(2));
    semaphore.release().unwrap();
    assert_eq!(semaphore.value(), 2);
    let error = semaphore.release().unwrap_err();
    assert!(error.message().contains("max value"), "{error}");
    assert_eq!(semaphore.value(), 2);
    assert!(Semaphore::with_max_value(3, 2).is_err());
}

#[anyio::test(timeout = 10)]
async fn semaphore_statistics_count_waiters() {
    let semaphore = Semaphore::new(0);
    anyio::task_group!(|tg| {
        for expected in 1..=2 {
            tg.start_soon(async {
                drop(semaphore.acquire().await);
            });
            wait_all_tasks_blocked().await;
            assert_eq!(semaphore.statistics().tasks_waiting, expected);
        }
        semaphore.release()?;
        semaphore.release()?;
        anyio::Result::Ok(())
    })
    .unwrap();
    assert_eq!(semaphore.statistics().tasks_waiting, 0);
    assert_eq!(semaphore.value(), 2);
}

#[anyio::test(timeout = 10)]
async fn semaphore_released_slot_is_reserved_for_the_waiter() {
    let semaphore = Semaphore::new(0);
    let waiter_got_it = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            let _slot = semaphore.acquire().await;
            set(&waiter_got_it);
        });
        wait_all_tasks_blocked().await;
        semaphore.release()?;
        // No barging: the slot belongs to the waiter even before it runs.
        assert_eq!(
            semaphore.acquire_nowait().unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        anyio::Result::Ok(())
    })
    .unwrap();
    assert!(is_set(&waiter_got_it));
    assert_eq!(semaphore.value(), 1);
}

#[anyio::test(timeout = 10)]
async fn semaphore_slot_handed_to_a_dropped_waiter_comes_back() {
    let semaphore = Semaphore::with_max_value(0, 1).unwrap();
    let mut waiter = Box::pin(semaphore.acquire());
    assert!(poll_once(&mut waiter).await.is_none());
    semaphore.release().unwrap();
    assert_eq!(semaphore.value(), 0, "handed to the waiter");
    drop(waiter);
    assert_eq!(semaphore.value(), 1);
    assert_eq!(semaphore.statistics().tasks_waiting, 0);
    drop(semaphore.acquire_nowait().unwrap());
}

#[anyio::test(timeout = 10)]
async fn semaphore_waiters_are_served_in_arrival_order() {
    let semaphore = Semaphore::new(0);
    let order = Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        for n in 0..4 {
            let (semaphore, order) = (&semaphore, &order);
            tg.start_soon(async move {
                let _slot = semaphore.acquire().await;
                order.lock().unwrap().push(n);
            });
            wait_all_tasks_blocked().await;
        }
        semaphore.release()?;
        anyio::Result::Ok(())
    })
    .unwrap();
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
}

#[anyio::test(timeout = 10)]
async fn semaphore_forgotten_slot_is_given_back_by_release() {
    let semaphore = Semaphore::new(1);
    semaphore.acquire().await.forget();
    assert_eq!(semaphore.value(), 0);
    semaphore.release().unwrap();
    assert_eq!(semaphore.value(), 1);
}

#[test]
fn semaphore_created_outside_a_runtime_is_usable_later() {
    let semaphore = Semaphore::with_max_value(1, 3).unwrap();
    assert_eq!(semaphore.value(), 1);
    assert_eq!(semaphore.max_value(), Some(3));
    assert_eq!(semaphore.statistics().tasks_waiting, 0);
    anyio::run(async {
        anyio::fail_after!(5, { drop(semaphore.acquire().await) }).unwrap();
    });
    assert_eq!(semaphore.value(), 1);
}

// ---- CapacityLimiter ----

#[anyio::test(timeout = 10)]
async fn limiter_with_zero_tokens_admits_nobody_until_raised() {
    let limiter = CapacityLimiter::new(0);
    assert_eq!(
        limiter.acquire_nowait().unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            drop(limiter.acquire().await?);
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        assert_eq!(limiter.statistics().tasks_waiting, 1);
        limiter.set_total_tokens(1);
    })
    .unwrap();
    assert_eq!(limiter.borrowed_tokens(), 0);
}

#[anyio::test(timeout = 10)]
async fn limiter_borrow_counts_available_and_borrowed_tokens() {
    let limiter = CapacityLimiter::new(2);
    assert_eq!(
        (limiter.available_tokens(), limiter.borrowed_tokens()),
        (2, 0)
    );
    let token = limiter.acquire().await.unwrap();
    assert_eq!(
        (limiter.available_tokens(), limiter.borrowed_tokens()),
        (1, 1)
    );
    assert_eq!(
        token.borrower(),
        Some(&Borrower::Task(anyio::get_current_task().id))
    );
    drop(token);
    assert_eq!(limiter.available_tokens(), 2);
}

#[anyio::test(timeout = 10)]
async fn limiter_never_lets_more_than_its_tokens_in() {
    let limiter = CapacityLimiter::new(1);
    let inside = AtomicUsize::new(0);
    anyio::task_group!(|tg| {
        for _ in 0..3 {
            tg.start_soon(async {
                for _ in 0..5 {
                    let _token = limiter.acquire().await?;
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                    anyio::sleep(0.0005).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
                anyio::Result::Ok(())
            });
        }
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn limiter_borrowing_twice_is_an_error() {
    let limiter = CapacityLimiter::new(2);
    let _token = limiter.acquire().await.unwrap();
    let error = limiter.acquire().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Other);
    assert!(error.message().contains("already holds"), "{error}");
    let _named = limiter.acquire_on_behalf_of_nowait("x").unwrap();
    assert!(limiter.acquire_on_behalf_of_nowait("x").is_err());
}

#[anyio::test(timeout = 10)]
async fn limiter_release_without_a_token_is_an_error() {
    let limiter = CapacityLimiter::new(1);
    let error = limiter.release().unwrap_err();
    assert!(error.message().contains("holds no token"), "{error}");
    assert!(limiter.release_on_behalf_of("nobody").is_err());
}

#[anyio::test(timeout = 10)]
async fn limiter_raising_total_tokens_admits_waiters() {
    let limiter = CapacityLimiter::new(1);
    let inside = AtomicUsize::new(0);
    let all_in = Event::new();
    anyio::task_group!(|tg| {
        for _ in 0..3 {
            tg.start_soon(async {
                let _token = limiter.acquire().await?;
                if inside.fetch_add(1, Ordering::SeqCst) + 1 == 3 {
                    all_in.set();
                }
                all_in.wait().await;
                anyio::Result::Ok(())
            });
        }
        wait_all_tasks_blocked().await;
        assert_eq!(inside.load(Ordering::SeqCst), 1);
        limiter.set_total_tokens(3);
        anyio::fail_after!(1, { all_in.wait().await })?;
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn limiter_statistics_list_borrowers_and_waiters() {
    let limiter = CapacityLimiter::new(1);
    anyio::task_group!(|tg| {
        let token = limiter.acquire_on_behalf_of("host").await?;
        for expected in 1..=2 {
            tg.start_soon(async {
                drop(limiter.acquire().await?);
                anyio::Result::Ok(())
            });
            wait_all_tasks_blocked().await;
            let stats = limiter.statistics();
            assert_eq!(stats.tasks_waiting, expected);
            assert_eq!(stats.borrowed_tokens, 1);
            assert_eq!(stats.total_tokens, 1);
            assert_eq!(stats.borrowers, [Borrower::from("host")]);
        }
        drop(token);
        anyio::Result::Ok(())
    })
    .unwrap();
    let stats = limiter.statistics();
    assert_eq!((stats.tasks_waiting, stats.borrowed_tokens), (0, 0));
    assert!(stats.borrowers.is_empty());
}

#[anyio::test(timeout = 10)]
async fn limiter_serves_waiters_in_arrival_order() {
    let limiter = CapacityLimiter::new(1);
    let order = Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        let token = limiter.acquire().await?;
        for n in 0..3 {
            let (limiter, order) = (&limiter, &order);
            tg.start_soon(async move {
                let _token = limiter.acquire().await?;
                order.lock().unwrap().push(n);
                anyio::Result::Ok(())
            });
            wait_all_tasks_blocked().await;
        }
        drop(token);
        anyio::Result::Ok(())
    })
    .unwrap();
    assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
}

#[anyio::test(timeout = 10)]
async fn limiter_cancelled_waiter_does_not_eat_the_token() {
    let limiter = CapacityLimiter::new(1);
    let first_scope = CancelScope::new();
    let (first, second) = (flag(), flag());
    anyio::task_group!(|tg| {
        let token = limiter.acquire().await?;
        tg.start_soon(async {
            first_scope
                .run(async {
                    let _token = limiter.acquire_on_behalf_of("first").await?;
                    set(&first);
                    anyio::Result::Ok(())
                })
                .await;
        });
        wait_all_tasks_blocked().await;
        tg.start_soon(async {
            anyio::fail_after!(1, {
                let _token = limiter.acquire_on_behalf_of("second").await?;
                set(&second);
                anyio::Result::Ok(())
            })?
        });
        wait_all_tasks_blocked().await;
        first_scope.cancel();
        drop(token);
        anyio::Result::Ok(())
    })
    .unwrap();
    assert!(!is_set(&first));
    assert!(is_set(&second));
}

#[anyio::test(timeout = 10)]
async fn limiter_acquire_nowait_while_held_fails_in_the_child() {
    let limiter = CapacityLimiter::new(1);
    let result = anyio::task_group!(|tg| {
        let _token = limiter.acquire().await?;
        tg.start_soon(async { limiter.acquire_nowait().map(drop) });
        wait_all_tasks_blocked().await;
        anyio::Result::Ok(())
    });
    assert_eq!(result.unwrap_err().kind(), ErrorKind::WouldBlock);
}

#[anyio::test(timeout = 10)]
async fn limiter_released_token_is_reserved_for_the_parked_borrower() {
    let limiter = CapacityLimiter::new(1);
    anyio::task_group!(|tg| {
        let a = limiter.acquire_on_behalf_of_nowait("A")?;
        tg.start_soon(async {
            let _b = limiter.acquire_on_behalf_of("B").await?;
            anyio::sleep(0.001).await;
            anyio::Result::Ok(())
        });
        wait_all_tasks_blocked().await;
        drop(a);
        let refused = limiter.acquire_on_behalf_of_nowait("X").unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::WouldBlock);
        let stats = limiter.statistics();
        assert!(stats.borrowed_tokens <= stats.total_tokens);
        assert_eq!(stats.borrowers, [Borrower::from("B")]);
        anyio::Result::Ok(())
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn limiter_token_handed_to_a_dropped_waiter_passes_on() {
    let limiter = CapacityLimiter::new(1);
    let held = limiter.acquire_on_behalf_of_nowait("holder").unwrap();
    let mut first = Box::pin(limiter.acquire_on_behalf_of("first"));
    assert!(poll_once(&mut first).await.is_none());
    let mut second = Box::pin(limiter.acquire_on_behalf_of("second"));
    assert!(poll_once(&mut second).await.is_none());
    drop(held);
    assert_eq!(limiter.statistics().borrowers, [Borrower::from("first")]);
    drop(first);
    assert_eq!(limiter.statistics().borrowers, [Borrower::from("second")]);
    let token = poll_once(&mut second).await.unwrap().unwrap();
    assert_eq!(token.borrower(), Some(&Borrower::from("second")));
}

#[test]
fn limiter_total_can_be_set_outside_a_runtime() {
    let limiter = CapacityLimiter::new(1);
    limiter.set_total_tokens(0);
    assert_eq!(limiter.total_tokens(), 0);
    limiter.set_total_tokens(usize::MAX);
    assert_eq!(limiter.available_tokens(), usize::MAX);
    assert!(limiter.statistics().borrowers.is_empty());
}

// ---- ResourceGuard ----

#[anyio::test(timeout = 10)]
async fn resource_guard_makes_concurrent_use_a_busy_error_naming_the_action() {
    let guard = ResourceGuard::new("writing to");
    let result = anyio::task_group!(|tg| {
        for _ in 0..2 {
            tg.start_soon(async {
                let _using = guard.enter()?;
                anyio::sleep(Duration::from_millis(20)).await;
                anyio::Result::Ok(())
            });
        }
    });
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BusyResource);
    assert_eq!(
        error.message(),
        "another task is already writing to this resource"
    );
    assert!(!guard.is_busy());
}

#[anyio::test(timeout = 10)]
async fn resource_guard_allows_use_one_after_the_other() {
    let guard = ResourceGuard::default();
    for _ in 0..3 {
        let _using = guard.enter().unwrap();
        assert!(guard.is_busy());
        anyio::sleep(0.001).await;
    }
    assert!(!guard.is_busy());
}
