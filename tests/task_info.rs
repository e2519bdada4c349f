//! Task introspection and the `wait_all_tasks_blocked` testing aid.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use anyio::CancelScope;
use common::*;

#[anyio::test(timeout = 10)]
async fn the_main_task_is_named_main_and_has_no_parent() {
    let me = anyio::get_current_task();
    assert_eq!(me.name, "main");
    assert_eq!(me.parent_id, None);
    assert!(anyio::get_running_tasks().contains(&me));
}

#[anyio::test(timeout = 10)]
async fn running_tasks_list_children_with_names_and_the_host_as_parent() {
    let host = anyio::get_current_task().id;
    anyio::task_group!(|tg| {
        tg.start_soon_named("task1", anyio::sleep_forever());
        tg.start_soon_named("task2", anyio::sleep_forever());
        anyio::wait_all_tasks_blocked().await;
        let tasks = anyio::get_running_tasks();
        let children: Vec<_> = tasks.iter().filter(|t| t.parent_id == Some(host)).collect();
        let mut names: Vec<_> = children.iter().map(|t| t.name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["task1", "task2"]);
        tg.cancel();
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn a_child_sees_its_own_info() {
    let host = anyio::get_current_task().id;
    anyio::task_group!(|tg| {
        tg.start_soon_named("worker", async move {
            let me = anyio::get_current_task();
            assert_eq!(me.name, "worker");
            assert_eq!(me.parent_id, Some(host));
            assert_ne!(me.id, host);
        });
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn the_default_task_name_is_the_type_of_its_future() {
    async fn named_worker() {
        let me = anyio::get_current_task();
        assert!(me.name.contains("named_worker"), "{}", me.name);
    }
    anyio::task_group!(|tg| tg.start_soon(named_worker())).unwrap();
}

#[anyio::test(timeout = 10)]
async fn running_tasks_return_to_their_initial_length_after_a_group_ends() {
    let initial = anyio::get_running_tasks().len();
    anyio::task_group!(|tg| {
        for _ in 0..5 {
            tg.start_soon(anyio::sleep(0.01));
        }
        anyio::wait_all_tasks_blocked().await;
        assert_eq!(anyio::get_running_tasks().len(), initial + 5);
    })
    .unwrap();
    assert_eq!(anyio::get_running_tasks().len(), initial);
}

#[anyio::test(timeout = 10, worker_threads = 2)]
async fn spawned_tasks_appear_in_the_running_tasks() {
    let initial = anyio::get_running_tasks().len();
    anyio::task_group!(|tg| {
        tg.spawn(async {
            let me = anyio::get_current_task();
            assert!(me.parent_id.is_some());
            anyio::sleep_forever().await;
        });
        anyio::wait_all_tasks_blocked().await;
        assert_eq!(anyio::get_running_tasks().len(), initial + 1);
        tg.cancel();
    })
    .unwrap();
    assert_eq!(anyio::get_running_tasks().len(), initial);
}

#[anyio::test(timeout = 10)]
async fn wait_all_tasks_blocked_returns_once_every_child_is_parked() {
    let progress = AtomicUsize::new(0);
    anyio::task_group!(|tg| {
        for _ in 0..3 {
            let progress = &progress;
            tg.start_soon(async move {
                for _ in 0..10 {
                    anyio::lowlevel::checkpoint().await;
                    progress.fetch_add(1, Ordering::SeqCst);
                }
                anyio::sleep_forever().await;
            });
        }
        anyio::wait_all_tasks_blocked().await;
        assert_eq!(progress.load(Ordering::SeqCst), 30);
        tg.cancel();
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn several_tasks_can_wait_for_all_tasks_blocked_at_once() {
    let woke = AtomicUsize::new(0);
    anyio::task_group!(|tg| {
        for _ in 0..3 {
            let woke = &woke;
            tg.start_soon(async move {
                anyio::wait_all_tasks_blocked().await;
                woke.fetch_add(1, Ordering::SeqCst);
            });
        }
        anyio::wait_all_tasks_blocked().await;
    })
    .unwrap();
    assert_eq!(woke.load(Ordering::SeqCst), 3);
}

#[anyio::test(timeout = 10)]
async fn a_parked_but_cancelled_task_is_not_blocked_until_it_ends() {
    let done = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            let scope = CancelScope::new();
            scope.cancel();
            scope.run(anyio::sleep_forever()).await;
            set(&done);
        });
        anyio::wait_all_tasks_blocked().await;
        assert!(is_set(&done));
    })
    .unwrap();
}

#[test]
fn two_runtimes_do_not_see_each_others_tasks() {
    let seen_by_second = std::thread::scope(|threads| {
        let first = threads.spawn(|| {
            anyio::run(async {
                anyio::task_group!(|tg| {
                    tg.start_soon_named("only-in-first", anyio::sleep(0.2));
                })
                .unwrap();
            })
        });
        let second = threads.spawn(|| {
            anyio::run(async {
                anyio::sleep(0.05).await;
                anyio::get_running_tasks()
            })
        });
        first.join().unwrap();
        second.join().unwrap()
    });
    assert_eq!(seen_by_second.len(), 1);
    assert!(seen_by_second.iter().all(|t| t.name != "only-in-first"));
}
