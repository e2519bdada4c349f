//! The measuring harness shared by the benchmarks: medians of repeated runs, and the
//! runtimes under test (anyio, tokio, and a raw smol executor).
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Median nanoseconds per operation of `reps` runs of `run`, which returns the time it
/// took for `ops` operations.
pub fn measure(reps: usize, ops: usize, mut run: impl FnMut() -> Duration) -> f64 {
    let _warm_up = run();
    let mut samples: Vec<f64> = (0..reps)
        .map(|_| run().as_nanos() as f64 / ops as f64)
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

pub async fn timed<F: Future<Output = ()>>(future: F) -> Duration {
    let start = Instant::now();
    future.await;
    start.elapsed()
}

// ---- runtimes under test ----

pub fn anyio_runtime(extra_threads: usize) -> anyio::Runtime {
    anyio::Runtime::builder()
        .worker_threads(extra_threads)
        .build()
        .expect("anyio runtime")
}

pub fn tokio_current() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime")
}

pub fn tokio_multi(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_time()
        .build()
        .expect("tokio runtime")
}

/// A smol executor served by the calling thread plus `extra_threads` threads.
pub struct Smol {
    pub executor: Arc<async_executor::Executor<'static>>,
    stop: Option<async_channel::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Smol {
    pub fn new(extra_threads: usize) -> Smol {
        let executor = Arc::new(async_executor::Executor::new());
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let threads = (0..extra_threads)
            .map(|_| {
                let executor = executor.clone();
                let stopped = stopped.clone();
                std::thread::spawn(move || {
                    async_io::block_on(executor.run(async {
                        let _ = stopped.recv().await;
                    }))
                })
            })
            .collect();
        Smol {
            executor,
            stop: Some(stop),
            threads,
        }
    }

    pub fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        async_io::block_on(self.executor.run(future))
    }
}

impl Drop for Smol {
    fn drop(&mut self) {
        drop(self.stop.take());
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
