//! Chapter "Timeouts".

use std::time::Duration;

// ANCHOR: fail_after
async fn fetch_with_timeout() -> anyio::Result<String> {
    let page = anyio::fail_after!(Duration::from_millis(50), {
        anyio::sleep(Duration::from_millis(10)).await; // a quick "fetch"
        "<html>fast</html>".to_owned()
    })?;
    println!("  got {page}");
    let slow = anyio::fail_after!(Duration::from_millis(10), {
        anyio::sleep(Duration::from_secs(3600)).await; // a hung "fetch"
    });
    let error = slow.unwrap_err();
    println!("  slow fetch: {error}");
    assert_eq!(error.kind(), anyio::ErrorKind::Timeout);
    Ok(page)
}
// ANCHOR_END: fail_after

// ANCHOR: move_on_after
async fn best_effort() {
    let mut results = Vec::new();
    let finished = anyio::move_on_after!(0.03, {
        for n in 0.. {
            anyio::sleep(Duration::from_millis(10)).await; // refine the answer
            results.push(n);
        }
    });
    assert_eq!(finished, None::<()>); // the loop never ends; the deadline does
    println!("  gave up after {} refinements", results.len());
}
// ANCHOR_END: move_on_after

// ANCHOR: nested
async fn nested_deadlines() {
    let outer = anyio::move_on_after!(0.02, {
        // The inner deadline is later, but the outer one still applies.
        let inner = anyio::fail_after!(5, {
            let left = anyio::current_effective_deadline()
                .expect("a deadline is in force")
                .saturating_duration_since(anyio::current_time());
            println!("  time left inside: about {} ms", left.as_millis());
            anyio::sleep(Duration::from_secs(3600)).await;
        });
        println!("  never printed: the outer deadline cancelled both, {inner:?}");
    });
    println!("  outer gave up: {}", outer.is_none());
}
// ANCHOR_END: nested

// ANCHOR: deadline_for_a_loop
async fn deadline_for_many_steps() -> anyio::Result<()> {
    // One deadline for the whole job, not one per step.
    anyio::fail_after!(1, {
        for step in 0..3 {
            anyio::sleep(Duration::from_millis(5)).await;
            println!("  step {step} done");
        }
    })
}
// ANCHOR_END: deadline_for_a_loop

#[anyio::main]
async fn main() -> anyio::Result<()> {
    fetch_with_timeout().await?;
    best_effort().await;
    nested_deadlines().await;
    deadline_for_many_steps().await?;
    Ok(())
}
