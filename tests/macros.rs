//! The macros in every form and option: `#[anyio::main]`, `#[anyio::test]`,
//! `task_group!`, `fail_after!` and `move_on_after!`. Their misuse is covered by the
//! compile-fail cases under `tests/ui/` (see `macros_ui.rs`).

mod common;

use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use anyio::{Error, ErrorKind};
use common::*;

/// Spawns a child and returns the thread it ran on.
async fn spawned_child_thread() -> Option<ThreadId> {
    let ran = std::sync::Arc::new(Mutex::new(None));
    anyio::task_group!(|tg| {
        let ran = ran.clone();
        tg.spawn(async move {
            *ran.lock().unwrap() = Some(thread::current().id());
        });
    })
    .unwrap();
    *ran.lock().unwrap()
}

/// Spawns two children that each block their thread until both have started (or 5 s
/// passed): true only if two threads run spawned tasks at once.
async fn two_spawned_children_run_at_once() -> bool {
    let started = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let met = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    anyio::task_group!(|tg| {
        for _ in 0..2 {
            let (started, met) = (started.clone(), met.clone());
            tg.spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                let until = Instant::now() + Duration::from_secs(5);
                while started.load(Ordering::SeqCst) < 2 && Instant::now() < until {
                    thread::yield_now(); // blocks this thread, not just this task
                }
                if started.load(Ordering::SeqCst) == 2 {
                    met.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    })
    .unwrap();
    met.load(Ordering::SeqCst) == 2
}

mod main_unit {
    pub static RAN_IN_A_TASK: std::sync::atomic::AtomicBool =
        std::sync::atomic::AtomicBool::new(false);

    #[anyio::main]
    pub async fn main() {
        anyio::sleep(0.001).await;
        let task = anyio::get_current_task();
        RAN_IN_A_TASK.store(task.name == "main", std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn main_runs_its_body_as_the_main_task_of_a_runtime() {
    main_unit::main();
    assert!(main_unit::RAN_IN_A_TASK.load(Ordering::SeqCst));
}

mod main_result {
    #[anyio::main]
    pub async fn main() -> anyio::Result<()> {
        anyio::fail_after!(0.01, { anyio::sleep_forever().await })?;
        Ok(())
    }
}

#[test]
fn main_may_return_a_result_and_its_error_comes_out() {
    let error = main_result::main().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
}

mod main_custom_error {
    #[derive(Debug, PartialEq)]
    pub struct Refused(pub u8);

    #[anyio::main]
    pub async fn main() -> Result<(), Refused> {
        anyio::sleep(0.001).await;
        Err(Refused(7))
    }
}

#[test]
fn main_may_return_a_result_with_any_error_type() {
    assert_eq!(
        main_custom_error::main(),
        Err(main_custom_error::Refused(7))
    );
}

mod main_not_send {
    #[anyio::main]
    pub async fn main() -> usize {
        let shared = std::rc::Rc::new(3); // the main body need not be Send
        anyio::sleep(0.001).await;
        *shared
    }
}

#[test]
fn main_returns_any_value_and_its_body_need_not_be_send() {
    assert_eq!(main_not_send::main(), 3);
}

mod main_without_workers {
    #[anyio::main(worker_threads = 0)]
    pub async fn main() -> Option<std::thread::ThreadId> {
        anyio::fail_after!(10, { super::spawned_child_thread().await }).unwrap()
    }
}

#[test]
fn main_with_zero_worker_threads_runs_spawned_children_on_the_main_thread() {
    assert_eq!(main_without_workers::main(), Some(thread::current().id()));
}

mod main_with_workers {
    #[anyio::main(worker_threads = 2)]
    pub async fn main() -> bool {
        anyio::fail_after!(10, { super::two_spawned_children_run_at_once().await }).unwrap()
    }
}

#[test]
fn main_with_worker_threads_runs_spawned_children_on_workers_in_parallel() {
    assert!(main_with_workers::main());
}

#[anyio::test(timeout = 10)]
async fn test_runs_an_async_body() {
    anyio::sleep(0.001).await;
    assert!(anyio::get_current_task().id > 0);
}

#[anyio::test(timeout = 10)]
async fn test_may_return_a_result() -> anyio::Result<()> {
    let value = anyio::fail_after!(1, { 5 })?;
    assert_eq!(value, 5);
    Ok(())
}

#[anyio::test]
async fn test_without_options_and_a_deadline_inside() {
    anyio::fail_after!(10, {
        anyio::sleep(0.001).await;
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
#[should_panic(expected = "the body panicked")]
async fn test_works_with_should_panic_after_it() {
    anyio::sleep(0.001).await;
    panic!("the body panicked");
}

#[should_panic(expected = "the body panicked")]
#[anyio::test(timeout = 10)]
async fn test_works_with_should_panic_before_it() {
    anyio::sleep(0.001).await;
    panic!("the body panicked");
}

#[anyio::test(timeout = 10)]
#[ignore = "proves that #[ignore] is honoured: this test fails whenever it runs"]
async fn test_works_with_ignore() {
    panic!("an ignored test ran");
}

#[anyio::test(timeout = 0.05)]
#[should_panic(
    expected = "test `test_timeout_fails_with_the_name_and_the_limit` timed out \
                           after 0.05 s (its `timeout` option)"
)]
async fn test_timeout_fails_with_the_name_and_the_limit() {
    anyio::sleep_forever().await;
}

#[anyio::test(timeout = 10)]
async fn test_timeout_is_the_effective_deadline_of_the_body() {
    let deadline = anyio::current_effective_deadline().expect("the timeout is a deadline");
    let left = deadline.saturating_duration_since(anyio::current_time());
    assert!(left > Duration::from_secs(5) && left <= Duration::from_secs(10));
}

#[anyio::test(worker_threads = 2, timeout = 10)]
async fn test_with_worker_threads_runs_spawned_children_on_workers_in_parallel() {
    assert!(two_spawned_children_run_at_once().await);
}

#[anyio::test(timeout = 10, worker_threads = 0)]
async fn test_with_zero_worker_threads_keeps_everything_on_its_thread() {
    let child = spawned_child_thread().await;
    assert_eq!(child, Some(thread::current().id()));
}

#[anyio::test(timeout = 10)]
async fn test_body_need_not_be_send() {
    let local = Rc::new(1);
    anyio::sleep(0.001).await;
    assert_eq!(*local, 1);
}

#[anyio::test(timeout = 10)]
async fn task_group_evaluates_to_the_bodys_value_after_every_child() {
    let arrived = Mutex::new(Vec::new());
    let value = anyio::task_group!(|tg| {
        for n in [2u64, 1] {
            let arrived = &arrived;
            tg.start_soon(async move {
                anyio::sleep(Duration::from_millis(5 * n)).await;
                arrived.lock().unwrap().push(n);
            });
        }
        anyio::Result::Ok("body")
    });
    assert_eq!(value.unwrap(), Some("body"));
    assert_eq!(*arrived.lock().unwrap(), [1, 2]);
}

#[anyio::test(timeout = 10)]
async fn task_group_with_a_unit_body_evaluates_to_some_unit() {
    let value = anyio::task_group!(|tg| {
        tg.start_soon(anyio::sleep(0.001));
    });
    assert_eq!(value.unwrap(), Some(()));
}

#[anyio::test(timeout = 10)]
async fn task_group_accepts_an_expression_body_and_any_binding_name() {
    let ran = flag();
    let value = anyio::task_group!(|group| group.start_soon(async {
        set(&ran);
    }));
    assert!(value.is_ok());
    assert!(is_set(&ran));
}

#[anyio::test(timeout = 10)]
async fn task_group_cancelled_by_itself_evaluates_to_none() {
    let after_cancel = flag();
    let value = anyio::task_group!(|tg| {
        tg.start_soon(async { anyio::sleep_forever().await });
        tg.cancel();
        anyio::lowlevel::checkpoint().await;
        set(&after_cancel);
    });
    assert_eq!(value.unwrap(), None);
    assert!(!is_set(&after_cancel));
}

#[anyio::test(timeout = 10)]
async fn task_group_evaluates_to_a_childs_failure() {
    let sibling = flag();
    let value = anyio::task_group!(|tg| {
        let sibling = sibling.clone();
        tg.start_soon(async move {
            let _dropped = DropFlag(sibling);
            anyio::sleep_forever().await
        });
        tg.start_soon(async { Err::<(), _>(fail("child failed")) });
    });
    assert_eq!(value.unwrap_err().message(), "child failed");
    assert!(is_set(&sibling), "the failure cancelled the sibling");
}

#[anyio::test(timeout = 10)]
async fn return_inside_a_task_group_body_leaves_the_body_only() {
    // A `return` that left the test function would not type-check here (it returns `()`).
    let value = anyio::task_group!(|tg| {
        tg.start_soon(anyio::sleep(0.001));
        if tg.cancel_scope().deadline().is_none() {
            return anyio::Result::Ok(1);
        }
        Ok(2)
    });
    assert_eq!(value.unwrap(), Some(1));
}

#[anyio::test(timeout = 10)]
async fn question_mark_inside_a_task_group_body_fails_the_group() {
    fn step(ok: bool) -> anyio::Result<u8> {
        if ok { Ok(1) } else { Err(fail("step failed")) }
    }
    let value = anyio::task_group!(|_tg| {
        let one = step(true)?;
        step(false)?;
        anyio::Result::Ok(one)
    });
    assert_eq!(value.unwrap_err().message(), "step failed");
}

#[anyio::test(timeout = 10)]
async fn task_groups_nest_with_their_own_names() {
    let order = Mutex::new(Vec::new());
    anyio::task_group!(|outer| {
        let order = &order;
        outer.start_soon(async move {
            anyio::task_group!(|inner| {
                inner.start_soon(async move {
                    anyio::sleep(0.001).await;
                    order.lock().unwrap().push("inner child");
                });
            })
            .unwrap();
            order.lock().unwrap().push("after inner group");
        });
    })
    .unwrap();
    assert_eq!(*order.lock().unwrap(), ["inner child", "after inner group"]);
}

#[anyio::test(timeout = 10)]
async fn fail_after_evaluates_to_ok_with_the_bodys_value() {
    let value = anyio::fail_after!(1, {
        anyio::sleep(0.001).await;
        "done"
    });
    assert_eq!(value.unwrap(), "done");
}

#[anyio::test(timeout = 10)]
async fn fail_after_takes_seconds_a_duration_or_no_deadline() {
    assert_eq!(anyio::fail_after!(0.5, { 1 }).unwrap(), 1);
    assert_eq!(anyio::fail_after!(2, { 2 }).unwrap(), 2);
    assert_eq!(
        anyio::fail_after!(Duration::from_secs(1), { 3 }).unwrap(),
        3
    );
    let none: Option<f64> = None;
    let unbounded = anyio::fail_after!(none, { anyio::current_effective_deadline() });
    // Only the test's own timeout remains.
    let left = unbounded
        .unwrap()
        .unwrap()
        .saturating_duration_since(Instant::now());
    assert!(left > Duration::from_secs(5));
}

#[anyio::test(timeout = 10)]
async fn fail_after_times_out_with_kind_timeout_and_drops_the_body() {
    let dropped = flag();
    let value = anyio::fail_after!(Duration::from_millis(10), {
        let _guard = DropFlag(dropped.clone());
        anyio::sleep_forever().await
    });
    assert_eq!(value.unwrap_err().kind(), ErrorKind::Timeout);
    assert!(is_set(&dropped));
}

#[anyio::test(timeout = 10)]
async fn fail_after_accepts_a_trailing_comma() {
    let value = anyio::fail_after!(1, { 4 },);
    assert_eq!(value.unwrap(), 4);
}

#[anyio::test(timeout = 10)]
async fn question_mark_inside_fail_after_acts_on_the_body() {
    let value = anyio::fail_after!(1, {
        Err::<u8, _>(fail("inner"))?;
        anyio::Result::Ok(1)
    });
    let inner = value.expect("no timeout");
    assert_eq!(inner.unwrap_err().message(), "inner");
}

#[anyio::test(timeout = 10)]
async fn return_inside_move_on_after_leaves_the_body_only() {
    let value = anyio::move_on_after!(1, {
        if Instant::now().elapsed() < Duration::from_secs(1) {
            return 7;
        }
        8
    });
    assert_eq!(value, Some(7));
}

#[anyio::test(timeout = 10)]
async fn move_on_after_evaluates_to_some_or_none() {
    assert_eq!(anyio::move_on_after!(1, { 9 }), Some(9));
    let dropped = flag();
    let value = anyio::move_on_after!(0.01, {
        let _guard = DropFlag(dropped.clone());
        anyio::sleep_forever().await
    });
    assert_eq!(value, None::<()>);
    assert!(is_set(&dropped));
}

#[anyio::test(timeout = 10)]
async fn a_later_inner_deadline_does_not_extend_an_earlier_outer_one() {
    let started = Instant::now();
    let outer = anyio::fail_after!(0.02, {
        anyio::move_on_after!(5, { anyio::sleep_forever().await })
    });
    assert_eq!(outer.unwrap_err().kind(), ErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[anyio::test(timeout = 10)]
async fn fail_after_inside_task_group_inside_test() {
    let quick_finished = AtomicBool::new(false);
    let value = anyio::task_group!(|tg| {
        tg.start_soon(async {
            anyio::fail_after!(0.05, { anyio::sleep_forever().await })?;
            anyio::Result::Ok(())
        });
        tg.start_soon(async {
            let quick = anyio::fail_after!(5, { anyio::lowlevel::checkpoint().await });
            quick_finished.store(quick.is_ok(), Ordering::SeqCst);
        });
    });
    assert_eq!(value.unwrap_err().kind(), ErrorKind::Timeout);
    assert!(quick_finished.load(Ordering::SeqCst));
}

#[anyio::test(timeout = 10)]
async fn move_on_after_inside_a_spawned_child() {
    let value = anyio::task_group!(|tg| {
        let (tx, rx) = std::sync::mpsc::channel();
        tg.spawn(async move {
            let gave_up = anyio::move_on_after!(0.01, { anyio::sleep_forever().await });
            tx.send(gave_up.is_none()).unwrap();
        });
        anyio::Result::Ok(rx)
    });
    let rx = value.unwrap().unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(true));
}

#[anyio::test(timeout = 10)]
async fn macros_work_with_the_function_forms_side_by_side() {
    let by_macro = anyio::fail_after!(1, { 1 }).unwrap();
    let by_function = anyio::fail_after(1, async { 1 }).await.unwrap();
    assert_eq!(by_macro, by_function);
    let error = Error::new(ErrorKind::Other, "x");
    assert_eq!(
        anyio::task_group!(|_tg| { Err::<(), _>(error) })
            .unwrap_err()
            .message(),
        "x"
    );
}
