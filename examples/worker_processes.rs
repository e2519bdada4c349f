//! Worker processes: run heavy or crash-prone functions in processes of this same
//! program with `to_process::run_sync`, and see a panic, a crash and a cancellation
//! handled without harm to the caller.
//!
//! Run it with `cargo run --example worker_processes`.

use std::future::IntoFuture;
use std::time::Duration;

use anyio::to_process;

/// Counts the primes below `limit`, slowly on purpose.
fn count_primes(limit: u64) -> usize {
    (2..limit)
        .filter(|&n| (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count()
}

/// Shouts its input, unless the input makes it panic or crash.
fn shout(input: String) -> String {
    match input.as_str() {
        "panic" => panic!("cannot shout {input:?}"),
        "crash" => {
            // No core file for this demonstration.
            let hard = rustix::process::getrlimit(rustix::process::Resource::Core).maximum;
            let no_core = rustix::process::Rlimit {
                current: Some(0),
                maximum: hard,
            };
            let _ = rustix::process::setrlimit(rustix::process::Resource::Core, no_core);
            std::process::abort()
        }
        _ => input.to_uppercase(),
    }
}

/// Never returns.
fn stuck(_: ()) {
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[anyio::main] // in a worker process, this serves calls instead of running main's body
async fn main() -> anyio::Result<()> {
    // Fan out: the default limiter lets one worker per CPU run at once.
    let limits = [20_000, 30_000, 40_000, 50_000];
    let calls = limits.map(|limit| to_process::run_sync(count_primes, limit).into_future());
    let counts = anyio::gather(calls).await?;
    for (limit, count) in limits.iter().zip(&counts) {
        println!("{count} primes below {limit}");
    }

    // A panic comes back as an error naming the function; the worker lives on.
    let panicked = to_process::run_sync(shout, "panic".to_owned())
        .await
        .unwrap_err();
    println!("error: {panicked}");

    // A crash takes down only the worker...
    let crashed = to_process::run_sync(shout, "crash".to_owned())
        .await
        .unwrap_err();
    assert_eq!(crashed.kind(), anyio::ErrorKind::BrokenWorkerProcess);
    println!("error: {crashed}");
    // ...and the next call gets a new one.
    println!(
        "{}",
        to_process::run_sync(shout, "still here".to_owned()).await?
    );

    // A cancellable call's worker is killed when the deadline passes.
    let call = to_process::run_sync(stuck, ()).cancellable(true);
    let outcome = anyio::move_on_after(0.5, call.into_future()).await;
    assert!(outcome.is_none());
    println!("the stuck call was cancelled after 0.5 s, and its worker killed");
    Ok(())
}
