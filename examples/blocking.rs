//! Blocking code and async code in one program, both ways round.
//!
//! 1. Async code calls a blocking library (a stand-in for a database driver without an
//!    async API) on worker threads: at most four calls at once, through a
//!    `CapacityLimiter`, each bounded by a deadline, and the library calls back into
//!    async code for what it needs (`from_thread::run`).
//! 2. A plain synchronous program (think: a GUI callback, a C callback, a sync test)
//!    drives async code through a `BlockingPortal`: calls that block until the async
//!    work is done, and a background task it starts and later stops.
//!
//! Run it with `cargo run --example blocking`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyio::CapacityLimiter;
use anyio::from_thread::start_blocking_portal;

/// A blocking "database": every call takes a few milliseconds of a thread.
struct BlockingDb {
    rows: Mutex<HashMap<u32, String>>,
}

impl BlockingDb {
    fn open() -> BlockingDb {
        let rows = (0..20).map(|id| (id, format!("row {id}"))).collect();
        BlockingDb {
            rows: Mutex::new(rows),
        }
    }

    fn query(&self, id: u32) -> Option<String> {
        std::thread::sleep(Duration::from_millis(5)); // the driver blocks
        self.rows.lock().unwrap().get(&id).cloned()
    }
}

/// An async service the blocking code needs (say, a cache in front of the database).
async fn audit(id: u32) -> String {
    anyio::sleep(Duration::from_millis(1)).await;
    format!("audited {id}")
}

async fn async_calls_blocking(db: Arc<BlockingDb>) -> anyio::Result<()> {
    let limiter = CapacityLimiter::new(4);
    let start = Instant::now();
    let results = Mutex::new(Vec::new());
    anyio::task_group!(|tg| {
        for id in 0..12 {
            let (db, limiter, results) = (db.clone(), &limiter, &results);
            tg.start_soon(async move {
                let row = anyio::fail_after(
                    2,
                    anyio::to_thread::run_sync(move || {
                        let row = db.query(id);
                        // Blocking code calling back into async code, in the caller's
                        // task and scopes.
                        let note = anyio::from_thread::run(move || audit(id))?;
                        anyio::Result::Ok((row, note))
                    })
                    .limiter(limiter),
                )
                .await??;
                results.lock().unwrap().push((id, row));
                anyio::Result::Ok(())
            });
        }
    })?;
    let mut results = results.into_inner().unwrap();
    results.sort();
    println!(
        "12 queries, 4 threads at a time, in {:?}: first {:?}, last {:?}",
        start.elapsed(),
        results.first().unwrap().1,
        results.last().unwrap().1
    );
    Ok(())
}

fn blocking_calls_async() -> anyio::Result<()> {
    let portal = start_blocking_portal()?;
    // A call that blocks this thread until the async work is done.
    let greeting = portal.call(|| async {
        anyio::sleep(Duration::from_millis(2)).await;
        "hello from the portal's event loop"
    })?;
    println!("sync code got: {greeting}");

    // A deadline applies inside the portal, as anywhere in async code.
    let timed_out = portal.call(|| anyio::fail_after(0.01, anyio::sleep_forever()))?;
    println!("a call with a 10 ms deadline: {}", timed_out.unwrap_err());

    // A background task: started now, reporting when it is ready, stopped later.
    let (heartbeat, interval) = portal.start_task(|status| async move {
        status.started(Duration::from_millis(3));
        let mut beats = 0u32;
        loop {
            anyio::sleep(Duration::from_millis(3)).await;
            beats += 1;
            if beats == 1000 {
                // Like a child of `TaskGroup::start`, the task returns `()` or a `Result`.
                return anyio::Result::Ok(beats);
            }
        }
    })?;
    println!("heartbeat started, every {interval:?}");
    std::thread::sleep(Duration::from_millis(20)); // the sync program does its work
    heartbeat.cancel();
    println!(
        "heartbeat stopped: {:?}",
        heartbeat.wait().map_err(|e| e.kind())
    );
    portal.stop(false);
    Ok(())
}

fn main() -> anyio::Result<()> {
    let db = Arc::new(BlockingDb::open());
    anyio::run(async_calls_blocking(db))?;
    blocking_calls_async()
}
