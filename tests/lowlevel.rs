//! Low-level checkpoints.

mod common;

use anyio::lowlevel;
use common::*;

#[anyio::test(timeout = 10)]
async fn checkpoint_if_cancelled_does_not_yield_when_not_cancelled() {
    let sibling_ran = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async { set(&sibling_ran) });
        lowlevel::checkpoint_if_cancelled().await;
        assert!(!is_set(&sibling_ran));
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn checkpoint_if_cancelled_ends_a_cancelled_body() {
    let after = flag();
    anyio::task_group!(|tg| {
        tg.cancel();
        lowlevel::checkpoint_if_cancelled().await;
        set(&after);
    })
    .unwrap();
    assert!(!is_set(&after));
}

#[anyio::test(timeout = 10)]
async fn checkpoint_always_yields() {
    let sibling_ran = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async { set(&sibling_ran) });
        lowlevel::checkpoint().await;
        assert!(is_set(&sibling_ran));
    })
    .unwrap();
}

#[anyio::test(timeout = 10)]
async fn checkpoint_ends_a_cancelled_body() {
    let after = flag();
    anyio::task_group!(|tg| {
        tg.cancel();
        lowlevel::checkpoint().await;
        set(&after);
    })
    .unwrap();
    assert!(!is_set(&after));
}

#[anyio::test(timeout = 10)]
async fn cancel_shielded_checkpoint_yields_and_survives_a_cancelled_group() {
    let sibling_ran = flag();
    let after = flag();
    anyio::task_group!(|tg| {
        tg.start_soon(async { set(&sibling_ran) });
        tg.cancel();
        lowlevel::cancel_shielded_checkpoint().await;
        assert!(is_set(&sibling_ran));
        set(&after);
    })
    .unwrap();
    assert!(is_set(&after));
}
