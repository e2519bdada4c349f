//! `#[anyio::main]` as the entry point of a real program, with an option.

use std::sync::atomic::{AtomicUsize, Ordering};

static CHILDREN: AtomicUsize = AtomicUsize::new(0);

#[anyio::main(worker_threads = 1)]
async fn main() {
    anyio::task_group!(|tg| {
        for _ in 0..3 {
            tg.spawn(async {
                anyio::sleep(0.001).await;
                CHILDREN.fetch_add(1, Ordering::SeqCst);
            });
        }
    })
    .unwrap();
    assert_eq!(CHILDREN.load(Ordering::SeqCst), 3);
}
