//! The runtime: run, Builder, worker threads, and time.

mod common;

use std::rc::Rc;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn run_returns_the_output_of_the_main_future() {
    assert_eq!(anyio::run(async { 40 + 2 }), 42);
}

#[test]
fn the_main_future_need_not_be_send() {
    let local = Rc::new(5);
    let value = anyio::run(async move {
        anyio::sleep(0.001).await;
        *local
    });
    assert_eq!(value, 5);
}

#[test]
fn run_inside_a_running_runtime_panics_with_a_clear_message() {
    let message = anyio::run(async {
        let nested = std::panic::catch_unwind(|| anyio::run(async {}));
        let payload = nested.unwrap_err();
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap()
    });
    assert!(
        message.contains("inside a running anyio runtime"),
        "{message}"
    );
}

#[test]
fn block_on_can_run_several_futures_one_after_another() {
    let runtime = anyio::Runtime::builder().worker_threads(1).build().unwrap();
    assert_eq!(runtime.block_on(async { 1 }), 1);
    assert_eq!(runtime.block_on(async { 2 }), 2);
}

#[test]
fn a_runtime_without_worker_threads_still_runs_spawned_tasks() {
    let runtime = anyio::Runtime::builder().worker_threads(0).build().unwrap();
    let ran = flag();
    runtime.block_on(async {
        anyio::fail_after(10, async {
            let ran = ran.clone();
            anyio::task_group!(|tg| {
                tg.spawn(async move {
                    anyio::sleep(0.001).await;
                    set(&ran);
                });
            })
            .unwrap();
        })
        .await
        .unwrap();
    });
    assert!(is_set(&ran));
}

#[test]
fn worker_threads_carry_the_configured_name() {
    let runtime = anyio::Runtime::builder()
        .worker_threads(1)
        .thread_name("custom")
        .build()
        .unwrap();
    let names = runtime.block_on(async {
        let names = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        anyio::fail_after(10, async {
            anyio::task_group!(|tg| {
                for _ in 0..20 {
                    let names = names.clone();
                    tg.spawn(async move {
                        let name = std::thread::current().name().map(str::to_owned);
                        names.lock().unwrap().push(name);
                        std::thread::sleep(Duration::from_millis(1));
                    });
                }
            })
            .unwrap();
        })
        .await
        .unwrap();
        std::sync::Arc::try_unwrap(names)
            .unwrap()
            .into_inner()
            .unwrap()
    });
    // The thread calling block_on serves spawned tasks too while it waits.
    let caller = std::thread::current().name().map(str::to_owned);
    assert_eq!(names.len(), 20);
    assert!(
        names
            .iter()
            .all(|n| n.as_deref() == Some("custom-0") || *n == caller),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.as_deref() == Some("custom-0")),
        "{names:?}"
    );
}

#[anyio::test(timeout = 10)]
async fn sleep_waits_at_least_the_delay() {
    let start = Instant::now();
    anyio::sleep(Duration::from_millis(20)).await;
    assert!(start.elapsed() >= Duration::from_millis(20));
}

#[anyio::test(timeout = 10)]
async fn sleep_until_a_past_deadline_returns_after_yielding_once() {
    let ran = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async { set(&ran) });
        anyio::sleep_until(Instant::now() - Duration::from_secs(1)).await;
        assert!(is_set(&ran), "sleep_until in the past still yields");
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn sleep_zero_yields_to_other_tasks() {
    let ran = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async { set(&ran) });
        anyio::sleep(0).await;
        assert!(is_set(&ran));
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn sleep_forever_only_ends_by_cancellation() {
    assert_eq!(
        anyio::move_on_after(0.01, anyio::sleep_forever()).await,
        None
    );
    assert_eq!(anyio::sleep_forever().deadline(), None);
}

#[anyio::test(timeout = 10)]
async fn current_time_is_monotonic() {
    let a = anyio::current_time();
    anyio::sleep(0.001).await;
    assert!(anyio::current_time() > a);
}

#[anyio::test(timeout = 10, worker_threads = 0)]
async fn timers_fire_while_the_main_task_keeps_yielding() {
    // The main task never lets the thread go idle; the timers must still be driven.
    let fired = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async {
            anyio::sleep(0.01).await;
            set(&fired);
        });
        while !is_set(&fired) {
            anyio::lowlevel::checkpoint().await;
        }
    })
    .unwrap();
}

#[anyio::test(timeout = 10, worker_threads = 0)]
async fn spawned_tasks_run_on_the_main_thread_between_its_polls() {
    let ran = flag();
    anyio::task_group!(|tg| {
        let ran_in_child = ran.clone();
        tg.spawn(async move { set(&ran_in_child) });
        while !is_set(&ran) {
            anyio::lowlevel::checkpoint().await;
        }
    })
    .unwrap();
}

/// A runtime without worker threads serves everything from its one thread: I/O readiness
/// (TCP echo between spawned tasks), timers, and wakes from another OS thread, with no
/// wake lost while its loop sleeps in the reactor.
#[test]
fn a_runtime_without_workers_serves_io_timers_and_foreign_wakes() {
    use anyio::TypedAttributeProvider;
    use anyio::abc::{ByteReceiveStream, ByteSendStream, Listener};
    let runtime = anyio::Runtime::builder().worker_threads(0).build().unwrap();
    runtime.block_on(async {
        anyio::fail_after(20, async {
            let mut listener = anyio::create_tcp_listener()
                .local_host("127.0.0.1")
                .await
                .unwrap();
            let port = listener.extra::<anyio::net::LocalPort>().unwrap();
            let event = std::sync::Arc::new(anyio::Event::new());
            let setter = event.clone();
            let thread = std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                setter.set();
            });
            anyio::task_group!(|tg| {
                tg.start_soon(async {
                    loop {
                        let mut stream = listener.accept().await?;
                        tg.spawn(async move {
                            while let Ok(bytes) = stream.receive(64).await {
                                stream.send(&bytes).await?;
                            }
                            anyio::Result::Ok(())
                        });
                    }
                    #[allow(unreachable_code)]
                    anyio::Result::Ok(())
                });
                anyio::task_group!(|clients| {
                    for n in 0..20_u8 {
                        clients.spawn(async move {
                            let mut stream = anyio::connect_tcp("127.0.0.1", port).await?;
                            for _ in 0..50 {
                                stream.send(&[n; 8]).await?;
                                let mut got = Vec::new();
                                while got.len() < 8 {
                                    got.extend(stream.receive(8 - got.len()).await?);
                                }
                                assert_eq!(got, [n; 8]);
                                anyio::sleep(0.0001).await;
                            }
                            anyio::Result::Ok(())
                        });
                    }
                })?;
                event.wait().await; // set by the other OS thread
                tg.cancel();
                anyio::Result::Ok(())
            })
            .unwrap();
            thread.join().unwrap();
        })
        .await
        .expect("served within the deadline");
    });
}
