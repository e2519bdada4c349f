//! Child processes with structured concurrency:
//!
//! 1. a shell pipeline run to its end under a deadline, its output collected;
//! 2. a slow child's output streamed line by line as it comes, while a sibling task
//!    does other work;
//! 3. a child that takes too long, cut off by a deadline: it is killed and reaped, no
//!    orphan left behind;
//! 4. a failing command, reported with its status and the end of its stderr.
//!
//! Run it with `cargo run --example subprocess`.

use std::time::{Duration, Instant};

use futures_lite::{AsyncBufReadExt, StreamExt};

#[anyio::main]
async fn main() -> anyio::Result<()> {
    // 1. A pipeline through the shell, within two seconds.
    let sorted = anyio::fail_after(
        2,
        anyio::run_process("printf 'pear\\napple\\nfig\\n' | sort | tr a-z A-Z"),
    )
    .await??;
    println!("1. sorted: {:?}", String::from_utf8_lossy(&sorted.stdout));

    // 2. A child whose output comes over time, read line by line as it arrives.
    let start = Instant::now();
    anyio::task_group!(|tg| {
        tg.start_soon(async move {
            let mut child =
                anyio::open_process("for i in 1 2 3; do echo step $i; sleep 0.05; done").await?;
            let stdout = child.stdout.take().expect("piped by default");
            let mut lines = futures_lite::io::BufReader::new(stdout).lines();
            while let Some(line) = lines.next().await {
                println!(
                    "2. [{:>4} ms] child says {:?}",
                    start.elapsed().as_millis(),
                    line?
                );
            }
            let code = child.wait().await?;
            println!("2. child exited with {code}");
            anyio::Result::Ok(())
        });
        tg.start_soon(async move {
            for _ in 0..3 {
                anyio::sleep(Duration::from_millis(40)).await;
                println!(
                    "2. [{:>4} ms] meanwhile, another task works",
                    start.elapsed().as_millis()
                );
            }
        });
    })?;

    // 3. A child that would run for a minute, given 100 ms: killed, and reaped.
    let dir = anyio::TemporaryDirectory::new().await?;
    let pid_file = dir.path() / "pid";
    let command = format!("echo $$ > {pid_file}; exec sleep 60");
    let outcome =
        anyio::move_on_after(Duration::from_millis(100), anyio::run_process(command)).await;
    assert!(outcome.is_none());
    let pid = pid_file.read_text().await?.trim().to_owned();
    let mut gone = false;
    for _ in 0..100 {
        if !anyio::Path::new(format!("/proc/{pid}")).exists().await {
            gone = true;
            break;
        }
        anyio::sleep(Duration::from_millis(10)).await;
    }
    println!("3. cut off after 100 ms; process {pid} gone from /proc: {gone}");

    // 4. A failure says what ran, how it ended, and the end of what it wrote to stderr.
    let failure = anyio::run_process("echo 'config not found' >&2; exit 2")
        .await
        .unwrap_err();
    println!("4. {failure}");
    let completed = failure.completed_process().expect("a CalledProcess error");
    println!("4. its return code: {}", completed.returncode);
    Ok(())
}
