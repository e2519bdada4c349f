//! anyio's `tokio` feature: every thread that polls anyio tasks has a tokio runtime
//! entered, so tokio-based futures work in `spawn`ed children on worker threads (without
//! the feature they panic with "there is no reactor running" there), and
//! `tokio_compat::AbortOnDrop` ties a tokio task to a scope. Run with
//! `cargo test --features tokio --test interop_tokio`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use anyio::tokio_compat::AbortOnDrop;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn tokio_futures_work_in_spawned_children_on_every_worker_200_times() {
    let runtime = anyio::Runtime::builder().worker_threads(2).build().unwrap();
    runtime
        .block_on(anyio::fail_after(30, async {
            for _ in 0..200 {
                anyio::task_group!(|tg| {
                    for _ in 0..4 {
                        // Spawned children land on the workers and on this thread alike.
                        tg.spawn(async {
                            tokio::time::sleep(Duration::from_micros(50)).await;
                            tokio::task::yield_now().await;
                        });
                    }
                })
                .unwrap();
            }
        }))
        .expect("the children ran in time");
}

#[test]
fn a_tokio_tcp_client_works_in_a_spawned_child() {
    let runtime = anyio::Runtime::builder().worker_threads(2).build().unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        anyio::fail_after(10, async {
            anyio::task_group!(|tg| {
                tg.spawn(async move {
                    let (mut socket, _) = listener.accept().await.unwrap();
                    let mut buffer = [0; 5];
                    socket.read_exact(&mut buffer).await.unwrap();
                    socket.write_all(&buffer).await.unwrap();
                });
                tg.spawn(async move {
                    let mut client = tokio::net::TcpStream::connect(address).await.unwrap();
                    client.write_all(b"hello").await.unwrap();
                    let mut echo = [0; 5];
                    client.read_exact(&mut echo).await.unwrap();
                    assert_eq!(&echo, b"hello");
                });
            })
            .unwrap();
        })
        .await
        .expect("the echo finished in time");
    });
}

#[test]
fn tokio_spawn_works_from_any_anyio_task() {
    let runtime = anyio::Runtime::builder().worker_threads(2).build().unwrap();
    let answers = runtime.block_on(async {
        let answers = Arc::new(AtomicUsize::new(0));
        anyio::task_group!(|tg| {
            for n in 0..8 {
                let answers = answers.clone();
                tg.spawn(async move {
                    let value = tokio::spawn(async move { n }).await.unwrap();
                    answers.fetch_add(value, Ordering::Relaxed);
                });
            }
        })
        .unwrap();
        answers.load(Ordering::Relaxed)
    });
    assert_eq!(answers, (0..8).sum::<usize>());
}

#[test]
fn abort_on_drop_ends_the_tokio_task_with_the_scope() {
    anyio::run(async {
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        let task = AbortOnDrop::new(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            flag.store(true, Ordering::Relaxed);
        }));
        assert!(anyio::move_on_after(0.01, task).await.is_none());
        anyio::sleep(0.2).await;
        assert!(
            !finished.load(Ordering::Relaxed),
            "the task outlived its scope"
        );
        // A plain JoinHandle, dropped the same way, lets its task run on.
        let flag = finished.clone();
        let detached = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            flag.store(true, Ordering::Relaxed);
        });
        assert!(anyio::move_on_after(0.001, detached).await.is_none());
        anyio::fail_after(5, async {
            while !finished.load(Ordering::Relaxed) {
                anyio::sleep(0.005).await;
            }
        })
        .await
        .expect("the detached task finished");
    });
}

#[test]
fn thread_hooks_run_on_every_task_thread() {
    let started = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let (on_start, on_stop) = (started.clone(), stopped.clone());
    let runtime = anyio::Runtime::builder()
        .worker_threads(3)
        .on_thread_start(move || {
            // The tokio runtime is entered before the hook runs.
            assert!(tokio::runtime::Handle::try_current().is_ok());
            on_start.fetch_add(1, Ordering::Relaxed);
        })
        .on_thread_stop(move || {
            on_stop.fetch_add(1, Ordering::Relaxed);
        })
        .build()
        .unwrap();
    runtime.block_on(async {});
    runtime.block_on(async {});
    drop(runtime);
    assert_eq!(started.load(Ordering::Relaxed), 5); // three workers, two block_on calls
    assert_eq!(stopped.load(Ordering::Relaxed), 5);
}
