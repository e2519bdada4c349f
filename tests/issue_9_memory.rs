//! Regression tests for the memory-use defects of issue 9, measured with a counting
//! global allocator (which is why they have a test binary of their own).
//!
//! The allocator counts every thread's allocations, so the tests take turns (`SERIAL`)
//! and run their runtime on the test's thread (`worker_threads(0)`).

use std::sync::Mutex;

use anyio::Runtime;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static GLOBAL: counting_alloc::CountingAllocator = counting_alloc::CountingAllocator;

/// One measuring test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Counted from the first test on; each test compares before and after.
    counting_alloc::start();
    guard
}

fn live() -> isize {
    counting_alloc::live()
}

fn allocated() -> usize {
    counting_alloc::allocated()
}

fn single_threaded_runtime() -> Runtime {
    Runtime::builder().worker_threads(0).build().unwrap()
}

const LIMIT: isize = 64 * 1024;

// ---- 2. Every finished task group leaks its child free-list ----

#[test]
fn finished_task_groups_do_not_accumulate_memory() {
    let _serial = serial();
    let runtime = single_threaded_runtime();
    let growth = runtime.block_on(async {
        async fn one_group() {
            anyio::task_group!(|tg| {
                tg.start_soon(async {});
            })
            .unwrap();
        }
        for _ in 0..1_000 {
            one_group().await; // warm up
        }
        let before = live();
        for _ in 0..20_000 {
            one_group().await;
        }
        live() - before
    });
    drop(runtime);
    assert!(
        growth < LIMIT,
        "20,000 finished task groups left {growth} bytes allocated"
    );
}

// ---- 3. `Runtime::block_on` grows the runtime on every call ----

#[test]
fn repeated_block_on_calls_do_not_grow_the_runtime() {
    let _serial = serial();
    let runtime = single_threaded_runtime();
    for _ in 0..1_000 {
        runtime.block_on(async {}); // warm up
    }
    let before = live();
    for _ in 0..20_000 {
        runtime.block_on(async {});
    }
    let growth = live() - before;
    drop(runtime);
    assert!(
        growth < LIMIT,
        "20,000 block_on calls on one runtime left {growth} bytes allocated"
    );
}

// ---- 4. `get_current_task` copies every task's info ----

#[test]
fn get_current_task_does_not_copy_every_running_task() {
    let _serial = serial();
    let runtime = single_threaded_runtime();
    let cost = runtime.block_on(async {
        let cost = Mutex::new(None);
        anyio::task_group!(|tg| {
            for _ in 0..10_000 {
                tg.start_soon(anyio::sleep_forever());
            }
            tg.start_soon(async {
                anyio::wait_all_tasks_blocked().await; // all 10,000 have started
                let _ = anyio::get_current_task(); // warm up
                let before = allocated();
                let me = anyio::get_current_task();
                let after = allocated();
                drop(me);
                *cost.lock().unwrap() = Some(after - before);
                tg.cancel();
            });
        })
        .unwrap();
        cost.into_inner().unwrap().expect("the measuring child ran")
    });
    drop(runtime);
    assert!(
        cost < 4 * 1024,
        "one get_current_task() among 10,000 tasks allocated {cost} bytes"
    );
}
