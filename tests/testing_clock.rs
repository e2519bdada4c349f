//! Virtual time: a `MockClock` given to a runtime drives `current_time`, `sleep`,
//! `sleep_until` and every deadline (`fail_after`, `move_on_after`, `CancelScope`
//! deadlines). `jump` moves it by exactly the amount given and wakes exactly the
//! sleepers due; `set_rate` makes it run; autojump moves it to the next deadline when
//! every task is blocked, never while a thread job is in flight. Wall-clock bounds here
//! are generous upper limits (a hang or a real-time wait would exceed them), not
//! performance claims.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyio::testing::MockClock;
use anyio::{CancelScope, ErrorKind, Runtime};

fn runtime_with(clock: &MockClock) -> Runtime {
    Runtime::builder().clock(clock.clone()).build().unwrap()
}

/// A real-time bound for the whole test: no test here should come near it.
const WALL_LIMIT: Duration = Duration::from_secs(20);

#[test]
fn current_time_follows_the_mock_clock_exactly() {
    let clock = MockClock::new();
    runtime_with(&clock).block_on(async {
        let start = anyio::current_time();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(anyio::current_time(), start, "rate 0: time stands still");
        clock.jump(1.5);
        assert_eq!(anyio::current_time() - start, Duration::from_millis(1500));
        clock.jump(Duration::from_secs(3600));
        assert_eq!(
            anyio::current_time() - start,
            Duration::from_millis(3_601_500)
        );
    });
}

#[test]
fn jump_wakes_exactly_the_sleepers_that_are_due() {
    let clock = MockClock::new();
    runtime_with(&clock).block_on(async {
        let woke = Mutex::new(Vec::new());
        anyio::task_group!(|tg| {
            for seconds in [5u64, 10, 20] {
                let woke = &woke;
                tg.start_soon(async move {
                    anyio::sleep(seconds).await;
                    woke.lock().unwrap().push(seconds);
                });
            }
            anyio::wait_all_tasks_blocked().await;
            clock.jump(10);
            anyio::wait_all_tasks_blocked().await;
            assert_eq!(*woke.lock().unwrap(), [5, 10]);
            clock.jump(9);
            anyio::wait_all_tasks_blocked().await;
            assert_eq!(
                *woke.lock().unwrap(),
                [5, 10],
                "19 s: the 20 s sleeper still sleeps"
            );
            clock.jump(1);
        })
        .unwrap();
        assert_eq!(*woke.lock().unwrap(), [5, 10, 20]);
    });
}

#[test]
fn sleep_until_a_virtual_instant() {
    let clock = MockClock::new();
    runtime_with(&clock).block_on(async {
        let target = anyio::current_time() + Duration::from_secs(42);
        anyio::task_group!(|tg| {
            tg.start_soon(anyio::sleep_until(target));
            anyio::wait_all_tasks_blocked().await;
            clock.jump(42);
        })
        .unwrap();
        assert_eq!(anyio::current_time(), target);
    });
}

#[test]
fn fail_after_follows_virtual_time_when_jumped() {
    let clock = MockClock::new();
    runtime_with(&clock).block_on(async {
        let outcome = anyio::task_group!(|tg| {
            let result = Arc::new(Mutex::new(None));
            let seen = result.clone();
            tg.start_soon(async move {
                let timed = anyio::fail_after(30, anyio::sleep_forever()).await;
                *seen.lock().unwrap() = Some(timed.unwrap_err().kind());
            });
            anyio::wait_all_tasks_blocked().await;
            clock.jump(29);
            anyio::wait_all_tasks_blocked().await;
            assert!(result.lock().unwrap().is_none(), "29 s: not yet");
            clock.jump(1);
            anyio::Result::Ok(result)
        })
        .unwrap()
        .unwrap();
        assert_eq!(*outcome.lock().unwrap(), Some(ErrorKind::Timeout));
    });
}

#[test]
fn an_hour_of_sleeps_under_autojump_takes_moments_of_real_time() {
    let clock = MockClock::new().autojump_threshold(0);
    let wall = Instant::now();
    runtime_with(&clock).block_on(async {
        let start = anyio::current_time();
        for _ in 0..60 {
            anyio::sleep(60).await;
        }
        assert_eq!(anyio::current_time() - start, Duration::from_secs(3600));
    });
    assert!(wall.elapsed() < WALL_LIMIT, "{:?}", wall.elapsed());
}

#[test]
fn fail_after_30_under_autojump_times_out_at_virtual_30_s() {
    let clock = MockClock::new().autojump_threshold(0);
    runtime_with(&clock).block_on(async {
        let start = anyio::current_time();
        let err = anyio::fail_after(30, anyio::sleep_forever())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert_eq!(anyio::current_time() - start, Duration::from_secs(30));
    });
}

#[test]
fn move_on_after_and_nested_deadlines_under_autojump() {
    let clock = MockClock::new().autojump_threshold(0);
    runtime_with(&clock).block_on(async {
        let start = anyio::current_time();
        let outer = anyio::move_on_after(100, async {
            let inner = anyio::move_on_after(10, anyio::sleep_forever()).await;
            assert!(inner.is_none());
            assert_eq!(anyio::current_time() - start, Duration::from_secs(10));
            anyio::sleep_forever().await;
        })
        .await;
        assert!(outer.is_none());
        assert_eq!(anyio::current_time() - start, Duration::from_secs(100));
    });
}

#[test]
fn a_cancel_scope_deadline_moved_later_is_honoured() {
    let clock = MockClock::new().autojump_threshold(0);
    runtime_with(&clock).block_on(async {
        let start = anyio::current_time();
        let scope = CancelScope::with_deadline(start + Duration::from_secs(5));
        let moved = scope.clone();
        scope
            .run(async move {
                moved.set_deadline(Some(start + Duration::from_secs(50)));
                anyio::sleep_forever().await;
            })
            .await;
        assert!(scope.cancelled_caught());
        assert_eq!(anyio::current_time() - start, Duration::from_secs(50));
    });
}

#[test]
fn concurrent_sleepers_wake_in_virtual_order_under_autojump() {
    let clock = MockClock::new().autojump_threshold(0);
    runtime_with(&clock).block_on(async {
        let order = Mutex::new(Vec::new());
        anyio::task_group!(|tg| {
            for seconds in [30u64, 10, 20, 40] {
                let order = &order;
                tg.start_soon(async move {
                    anyio::sleep(seconds).await;
                    order.lock().unwrap().push(seconds);
                });
            }
        })
        .unwrap();
        assert_eq!(*order.lock().unwrap(), [10, 20, 30, 40]);
    });
}

#[test]
fn set_rate_makes_virtual_time_run() {
    let clock = MockClock::new();
    clock.set_rate(10_000.0);
    let wall = Instant::now();
    runtime_with(&clock).block_on(async {
        let start = anyio::current_time();
        anyio::sleep(60).await; // 6 ms of real time at 10,000x
        assert!(anyio::current_time() - start >= Duration::from_secs(60));
    });
    assert!(wall.elapsed() < WALL_LIMIT);
}

#[test]
fn without_autojump_the_clock_waits_to_be_told() {
    let clock = MockClock::new();
    runtime_with(&clock).block_on(async {
        let start = anyio::current_time();
        // Real time passes; virtual time does not, so the sleep goes on.
        let gave_up = anyio::__private::real_time_limit(0.05, anyio::sleep(1)).await;
        assert!(gave_up.is_none());
        assert_eq!(anyio::current_time(), start);
    });
}

#[test]
fn autojump_waits_for_a_thread_job_in_flight() {
    let clock = MockClock::new().autojump_threshold(0);
    runtime_with(&clock).block_on(async {
        let order = Mutex::new(Vec::new());
        anyio::task_group!(|tg| {
            let order = &order;
            tg.start_soon(async move {
                anyio::to_thread::run_sync(|| std::thread::sleep(Duration::from_millis(100))).await;
                order.lock().unwrap().push("thread job");
            });
            tg.start_soon(async move {
                anyio::sleep(3600).await;
                order.lock().unwrap().push("hour-long sleep");
            });
        })
        .unwrap();
        assert_eq!(*order.lock().unwrap(), ["thread job", "hour-long sleep"]);
    });
}

#[test]
fn a_threshold_delays_the_jump_by_real_time() {
    let clock = MockClock::new().autojump_threshold(0.02);
    runtime_with(&clock).block_on(async {
        let start = anyio::current_time();
        anyio::sleep(1000).await;
        assert_eq!(anyio::current_time() - start, Duration::from_secs(1000));
    });
}

#[test]
fn the_system_clock_is_the_default() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let before = Instant::now();
        let now = anyio::current_time();
        assert!(now >= before && now <= Instant::now());
    });
}

#[test]
fn a_mock_clock_does_not_leak_into_other_runtimes() {
    let clock = MockClock::new();
    let _mocked = runtime_with(&clock);
    Runtime::new().unwrap().block_on(async {
        let before = Instant::now();
        anyio::sleep(0.01).await;
        assert!(
            before.elapsed() >= Duration::from_millis(10),
            "a real sleep"
        );
    });
}

#[test]
#[should_panic(expected = "finite number of virtual seconds")]
fn a_negative_rate_is_refused() {
    MockClock::new().set_rate(-1.0);
}

#[anyio::test(autojump, timeout = 10)]
async fn the_test_attribute_sets_an_autojumping_clock() {
    let start = anyio::current_time();
    let err = anyio::fail_after(120, anyio::sleep(3600))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(anyio::current_time() - start, Duration::from_secs(120));
}

#[anyio::test(autojump = 0.005, timeout = 10)]
async fn the_test_attribute_takes_a_threshold() {
    let start = anyio::current_time();
    anyio::sleep(86_400).await; // a day
    assert_eq!(anyio::current_time() - start, Duration::from_secs(86_400));
}

#[test]
fn a_sleep_already_due_after_a_jump_ends_at_once() {
    // Virtual time runs ahead of real time after a jump: a due sleep must not wait for
    // the real clock to catch up.
    let clock = MockClock::new();
    runtime_with(&clock).block_on(async {
        clock.jump(3600);
        let now = anyio::current_time();
        let done = anyio::__private::real_time_limit(5.0, async {
            anyio::sleep(0).await;
            anyio::sleep_until(now).await;
            anyio::sleep_until(now - Duration::from_secs(10)).await;
        })
        .await;
        assert!(done.is_some(), "a due sleep waited for real time");
    });
}
