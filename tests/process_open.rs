//! `open_process` and `Process`: the pipes as byte streams and futures-io, waiting,
//! signals, `returncode`, `aclose`, and what dropping or cancelling does (the process
//! is killed and reaped). Every test runs under a deadline.

use std::time::Duration;

use anyio::abc::{AsyncResource, ByteReceiveStream, ByteSendStream};
use anyio::{ErrorKind, Signal};
use futures_lite::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, StreamExt};

fn bounded<F: std::future::Future>(body: F) -> F::Output {
    anyio::run(anyio::fail_after(30, body)).expect("the test ran out of time")
}

fn is_gone_or_zombie(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .unwrap()
            .1
            .trim_start()
            .starts_with('Z'),
    }
}

fn is_gone(pid: u32) -> bool {
    std::fs::metadata(format!("/proc/{pid}")).is_err()
}

async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if check() {
            return true;
        }
        anyio::sleep(Duration::from_millis(10)).await;
    }
    check()
}

#[test]
fn a_conversation_with_cat_over_the_pipes() {
    bounded(async {
        let mut process = anyio::open_process(["cat"]).await.unwrap();
        let mut stdin = process.stdin.take().unwrap();
        let stdout = process.stdout.as_mut().unwrap();
        for word in ["one", "two", "three"] {
            stdin.send(word.as_bytes()).await.unwrap();
            let mut echoed = Vec::new();
            while echoed.len() < word.len() {
                echoed.extend(stdout.receive(100).await.unwrap());
            }
            assert_eq!(echoed, word.as_bytes());
        }
        stdin.aclose().await.unwrap();
        let end = stdout.receive(100).await.unwrap_err();
        assert_eq!(end.kind(), ErrorKind::EndOfStream);
        assert_eq!(process.wait().await.unwrap(), 0);
    });
}

#[test]
fn the_pipes_work_as_futures_io() {
    bounded(async {
        let mut process = anyio::open_process("cat; echo done >&2").await.unwrap();
        let mut stdin = process.stdin.take().unwrap();
        stdin.write_all(b"line 1\nline 2\n").await.unwrap();
        stdin.close().await.unwrap();
        let lines: Vec<String> = futures_lite::io::BufReader::new(process.stdout.take().unwrap())
            .lines()
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(lines, ["line 1", "line 2"]);
        let mut err = String::new();
        process
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .await
            .unwrap();
        assert_eq!(err, "done\n");
        process.wait().await.unwrap();
    });
}

#[test]
fn a_sent_to_a_closed_stdin_is_a_closed_resource_error() {
    bounded(async {
        let mut process = anyio::open_process(["cat"]).await.unwrap();
        let stdin = process.stdin.as_mut().unwrap();
        stdin.aclose().await.unwrap();
        let err = stdin.send(b"late").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ClosedResource);
        process.wait().await.unwrap();
    });
}

#[test]
fn wait_gives_the_exit_code_and_returncode_follows() {
    bounded(async {
        let mut process = anyio::open_process("exit 5").await.unwrap();
        assert_eq!(process.wait().await.unwrap(), 5);
        assert_eq!(process.returncode(), Some(5));
        assert_eq!(
            process.wait().await.unwrap(),
            5,
            "waiting again gives the same code"
        );
    });
}

#[test]
fn terminate_kill_and_send_signal() {
    bounded(async {
        let mut process = anyio::open_process(["sleep", "30"]).await.unwrap();
        assert_eq!(process.returncode(), None);
        process.terminate().unwrap();
        assert_eq!(process.wait().await.unwrap(), -15);

        let mut process = anyio::open_process(["sleep", "30"]).await.unwrap();
        process.kill().unwrap();
        assert_eq!(process.wait().await.unwrap(), -9);
        // After it exited, signals are not sent (the pid may be reused): no error.
        process.kill().unwrap();
        process.send_signal(Signal::Term).unwrap();

        let mut process = anyio::open_process(["sleep", "30"]).await.unwrap();
        process.send_signal(Signal::Int).unwrap();
        assert_eq!(process.wait().await.unwrap(), -2);
    });
}

#[test]
fn pid_is_the_childs_id() {
    bounded(async {
        let mut process = anyio::open_process("echo $$").await.unwrap();
        let pid = process.pid();
        let printed = process.stdout.as_mut().unwrap().receive(64).await.unwrap();
        assert_eq!(String::from_utf8_lossy(&printed).trim(), pid.to_string());
        process.wait().await.unwrap();
    });
}

#[test]
fn dropping_a_running_process_kills_and_reaps_it() {
    bounded(async {
        let process = anyio::open_process(["sleep", "30"]).await.unwrap();
        let pid = process.pid();
        drop(process);
        assert!(eventually(|| is_gone(pid)).await, "{pid} is still there");
    });
}

#[test]
fn a_cancelled_owner_kills_its_process() {
    bounded(async {
        let (pid_tx, pid_rx) = std::sync::mpsc::channel();
        let outcome = anyio::move_on_after(0.2, async move {
            let mut process = anyio::open_process(["sleep", "30"]).await.unwrap();
            pid_tx.send(process.pid()).unwrap();
            process.wait().await.unwrap();
        })
        .await;
        assert!(outcome.is_none());
        let pid = pid_rx.recv().unwrap();
        assert!(eventually(|| is_gone(pid)).await, "{pid} is still there");
    });
}

#[test]
fn a_cancelled_wait_leaves_the_process_running() {
    bounded(async {
        let mut process = anyio::open_process(["sleep", "30"]).await.unwrap();
        assert!(anyio::move_on_after(0.05, process.wait()).await.is_none());
        assert_eq!(process.returncode(), None);
        assert!(!is_gone_or_zombie(process.pid()));
        process.kill().unwrap();
        assert_eq!(process.wait().await.unwrap(), -9);
    });
}

#[test]
fn aclose_closes_stdin_and_waits() {
    bounded(async {
        let mut process = anyio::open_process(["cat"]).await.unwrap();
        process.stdin.as_mut().unwrap().send(b"x").await.unwrap();
        process.aclose().await.unwrap(); // cat sees the end of input and exits
        assert_eq!(process.returncode(), Some(0));
        assert!(process.stdout.is_none() && process.stderr.is_none());
    });
}

#[test]
fn streams_not_piped_are_none() {
    bounded(async {
        let mut process = anyio::open_process("true")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .await
            .unwrap();
        assert!(process.stdin.is_none() && process.stdout.is_none() && process.stderr.is_none());
        assert_eq!(process.wait().await.unwrap(), 0);
    });
}

#[test]
fn output_streamed_line_by_line_from_a_slow_producer() {
    bounded(async {
        let mut process = anyio::open_process("for i in 1 2 3; do echo tick $i; sleep 0.01; done")
            .await
            .unwrap();
        let mut lines = futures_lite::io::BufReader::new(process.stdout.take().unwrap()).lines();
        let mut seen = Vec::new();
        while let Some(line) = lines.next().await {
            seen.push(line.unwrap());
        }
        assert_eq!(seen, ["tick 1", "tick 2", "tick 3"]);
        assert_eq!(process.wait().await.unwrap(), 0);
    });
}

#[test]
fn the_command_is_displayed_quoted() {
    bounded(async {
        let mut process = anyio::open_process(["echo", "it's", "a b"]).await.unwrap();
        assert_eq!(process.command().to_string(), r"echo 'it'\''s' 'a b'");
        process.wait().await.unwrap();
    });
}
