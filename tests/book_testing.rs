//! The samples of the book's chapter "Testing" (included from here, so they run as
//! tests).

use std::time::Duration;

// ANCHOR: basic
#[anyio::test(timeout = 5)]
async fn the_cache_returns_what_was_stored() {
    let (tx, rx) = anyio::create_memory_object_stream::<&str>(1);
    tx.send("value").await.unwrap();
    assert_eq!(rx.receive().await.unwrap(), "value");
}
// ANCHOR_END: basic

// ANCHOR: result
#[anyio::test(timeout = 5)]
async fn tests_may_use_the_question_mark() -> anyio::Result<()> {
    let value = anyio::fail_after!(1, { 21 * 2 })?;
    assert_eq!(value, 42);
    Ok(())
}
// ANCHOR_END: result

// ANCHOR: blocked
#[anyio::test(timeout = 5)]
async fn a_worker_waits_for_its_job() {
    let (tx, rx) = anyio::create_memory_object_stream::<u32>(0);
    anyio::task_group!(|tg| {
        tg.start_soon(async move {
            let job = rx.receive().await?;
            assert_eq!(job, 7);
            anyio::Result::Ok(())
        });
        // No guessed sleep: wait until every other task is parked.
        anyio::wait_all_tasks_blocked().await;
        assert_eq!(tx.statistics().tasks_waiting_receive, 1);
        tx.send(7).await?;
        anyio::Result::Ok(())
    })
    .unwrap();
}
// ANCHOR_END: blocked

// ANCHOR: timeout
#[anyio::test(timeout = 5)]
async fn a_slow_service_times_out() {
    async fn slow_service() -> u32 {
        anyio::sleep(Duration::from_secs(3600)).await;
        0
    }
    let result = anyio::fail_after!(Duration::from_millis(10), { slow_service().await });
    assert_eq!(result.unwrap_err().kind(), anyio::ErrorKind::Timeout);
}
// ANCHOR_END: timeout

// ANCHOR: should_panic
#[anyio::test(timeout = 5)]
#[should_panic(expected = "invariant broken")]
async fn a_panicking_child_fails_the_test() {
    anyio::task_group!(|tg| {
        tg.start_soon(async { panic!("invariant broken") });
    })
    .unwrap();
}
// ANCHOR_END: should_panic

// ANCHOR: task_tree
#[anyio::test(timeout = 5)]
async fn where_is_everyone() {
    anyio::task_group!(|tg| {
        tg.start_soon_named("fetcher", anyio::sleep(Duration::from_secs(60)));
        anyio::wait_all_tasks_blocked().await;
        let tree = anyio::testing::task_tree();
        println!("{tree}");
        // main (task 1): running (it asked for this tree)
        //     fetcher (task 2): waiting
        //       in a scope: no deadline, not cancelled
        //       in a scope: deadline in 4.998 s      <- the test's timeout
        assert!(tree.to_string().contains("fetcher (task"));
        tg.cancel();
    })
    .unwrap();
}
// ANCHOR_END: task_tree

// ANCHOR: autojump
#[anyio::test(autojump, timeout = 5)]
async fn retries_give_up_after_a_minute() {
    // A client that retries every 10 s and gives up after a minute, tested in
    // milliseconds: the clock jumps to the next deadline whenever every task waits.
    async fn flaky_request() -> anyio::Result<u32> {
        Err(anyio::Error::new(anyio::ErrorKind::Other, "try again"))
    }
    let start = anyio::current_time();
    let outcome = anyio::move_on_after(60, async {
        loop {
            if let Ok(value) = flaky_request().await {
                return value;
            }
            anyio::sleep(10).await;
        }
    })
    .await;
    assert_eq!(outcome, None);
    assert_eq!(anyio::current_time() - start, Duration::from_secs(60));
}
// ANCHOR_END: autojump

// ANCHOR: mock_clock
#[test]
fn a_clock_moved_by_hand() {
    use anyio::testing::MockClock;

    let clock = MockClock::new(); // stands still until told
    let runtime = anyio::Runtime::builder()
        .clock(clock.clone())
        .build()
        .unwrap();
    runtime.block_on(async {
        let woke = std::sync::Mutex::new(Vec::new());
        anyio::task_group!(|tg| {
            for seconds in [5, 10] {
                let woke = &woke;
                tg.start_soon(async move {
                    anyio::sleep(seconds).await;
                    woke.lock().unwrap().push(seconds);
                });
            }
            anyio::wait_all_tasks_blocked().await;
            clock.jump(7); // the 5 s sleeper wakes, the 10 s one does not
            anyio::wait_all_tasks_blocked().await;
            assert_eq!(*woke.lock().unwrap(), [5]);
            clock.jump(3);
        })
        .unwrap();
        assert_eq!(*woke.lock().unwrap(), [5, 10]);
    });
}
// ANCHOR_END: mock_clock

// ANCHOR: seeds
static FIRST_RUNNER: std::sync::Mutex<Vec<&str>> = std::sync::Mutex::new(Vec::new());

// Twenty schedules: in some the reader runs first, in others the writer. A race that
// shows up in any of them fails the test, with the seed that replays it.
#[anyio::test(seeds = 20, timeout = 10)]
async fn the_reader_never_sees_a_half_written_record() {
    let record = std::sync::Mutex::new((0, 0));
    anyio::task_group!(|tg| {
        let record = &record;
        tg.start_soon(async move {
            FIRST_RUNNER.lock().unwrap().push("writer");
            let mut guard = record.lock().unwrap();
            *guard = (1, 1); // both halves under one lock: no checkpoint in between
        });
        tg.start_soon(async move {
            FIRST_RUNNER.lock().unwrap().push("reader");
            let (a, b) = *record.lock().unwrap();
            assert_eq!(a, b, "a half-written record");
        });
    })
    .unwrap();
}
// ANCHOR_END: seeds
