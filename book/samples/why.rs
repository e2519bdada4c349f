//! Chapter "Why structured concurrency".

use std::time::Duration;

// ANCHOR: detached
fn detached_spawn_loses_the_error() {
    let executor = smol::LocalExecutor::new();
    smol::block_on(executor.run(async {
        // A detached task: nobody waits for it, so nobody sees its error.
        executor
            .spawn(async {
                smol::Timer::after(Duration::from_millis(1)).await;
                Err::<(), _>("the backup failed")
            })
            .detach();
        println!("  main is done; was there an error? nobody knows");
    }));
}
// ANCHOR_END: detached

// ANCHOR: structured
fn task_group_returns_the_error() {
    let result = anyio::run(async {
        anyio::task_group!(|tg| {
            tg.start_soon(async {
                anyio::sleep(std::time::Duration::from_millis(1)).await;
                Err::<(), _>(anyio::Error::other("the backup failed"))
            });
            println!("  the body is done; the group still waits for its child");
        })
    });
    println!("  the group's result: {}", result.unwrap_err());
}
// ANCHOR_END: structured

fn main() {
    detached_spawn_loses_the_error();
    task_group_returns_the_error();
}
