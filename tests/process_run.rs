//! `run_process`: output, input, the shell and argument lists, `check` and its error,
//! every option, errors that name what is missing, and the no-orphan policy (a
//! cancelled call kills its process, which is reaped; churn leaves no descriptor and no
//! zombie). Every test runs under a deadline.

use std::ffi::OsString;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Mutex;
use std::time::Duration;

use anyio::{ErrorKind, Signal};

/// The descriptor- and child-counting tests take turns with every other test here.
static SERIAL: Mutex<()> = Mutex::new(());

fn bounded<F: std::future::Future>(body: F) -> F::Output {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    anyio::run(anyio::fail_after(30, body)).expect("the test ran out of time")
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// The children of this process that exist (zombies included), from /proc.
fn children() -> Vec<u32> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command's closing parenthesis: state, ppid, ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            continue;
        };
        if rest.split_whitespace().nth(1) == Some(me.as_str()) {
            found.push(pid);
        }
    }
    found
}

/// Whether `pid` is gone, or a zombie not reaped yet.
fn state_of(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    rest.trim_start().chars().next()
}

/// Waits (bounded) until `check` holds, looking every 10 ms.
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
fn stdout_and_stderr_are_collected() {
    bounded(async {
        let done = anyio::run_process("echo out; echo err >&2").await.unwrap();
        assert_eq!(done.stdout, b"out\n");
        assert_eq!(done.stderr, b"err\n");
        assert_eq!(done.returncode, 0);
    });
}

#[test]
fn input_is_piped_to_cat() {
    bounded(async {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        // Larger than a pipe's buffer both ways: input and output flow concurrently.
        let done = anyio::run_process(["cat"])
            .input(data.clone())
            .await
            .unwrap();
        assert_eq!(done.stdout, data);
    });
}

#[test]
fn a_pipeline_runs_through_the_shell() {
    bounded(async {
        let done = anyio::run_process("printf 'c\\na\\nb\\n' | sort | tr a-z A-Z")
            .await
            .unwrap();
        assert_eq!(done.stdout, b"A\nB\nC\n");
    });
}

#[test]
fn an_argument_list_runs_without_a_shell() {
    bounded(async {
        let done = anyio::run_process(["echo", "$HOME", "a  b"]).await.unwrap();
        assert_eq!(done.stdout, b"$HOME a  b\n");
        let args: Vec<OsString> = vec!["echo".into(), "$HOME".into(), "a  b".into()];
        assert_eq!(done.args, args);
        let from_vec = anyio::run_process(vec![String::from("true")])
            .await
            .unwrap();
        assert_eq!(from_vec.returncode, 0);
        let slice: &[&str] = &["printf", "%s", "x"];
        assert_eq!(anyio::run_process(slice).await.unwrap().stdout, b"x");
    });
}

#[test]
fn check_turns_exit_1_into_a_called_process_error() {
    bounded(async {
        let err = anyio::run_process("echo one >&2; echo two >&2; exit 1")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CalledProcess);
        let message = err.message();
        assert!(
            message.contains("echo one >&2; echo two >&2; exit 1"),
            "{message}"
        );
        assert!(message.contains("exited with status 1"), "{message}");
        assert!(message.contains("one\ntwo"), "{message}");
        let done = err.completed_process().unwrap();
        assert_eq!(done.returncode, 1);
        assert_eq!(done.stderr, b"one\ntwo\n");
    });
}

#[test]
fn check_quotes_only_the_last_lines_of_stderr() {
    bounded(async {
        let err = anyio::run_process("for i in 1 2 3 4 5 6 7 8; do echo line$i >&2; done; exit 2")
            .await
            .unwrap_err();
        let message = err.message();
        assert!(message.contains("line8"), "{message}");
        assert!(message.contains("line4"), "{message}");
        assert!(!message.contains("line3"), "{message}");
    });
}

#[test]
fn check_reports_the_signal_that_killed_the_process() {
    bounded(async {
        let err = anyio::run_process("kill -9 $$").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CalledProcess);
        assert!(
            err.message().contains("killed by signal 9 (SIGKILL)"),
            "{}",
            err.message()
        );
        assert_eq!(err.completed_process().unwrap().returncode, -9);
    });
}

#[test]
fn check_false_returns_the_failure() {
    bounded(async {
        let done = anyio::run_process("exit 7").check(false).await.unwrap();
        assert_eq!(done.returncode, 7);
        let err = done.check_returncode().unwrap_err();
        assert_eq!(err.completed_process().unwrap().returncode, 7);
    });
}

#[test]
fn cwd_env_and_env_clear() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let done = anyio::run_process("pwd").cwd(dir.path()).await.unwrap();
        let printed = String::from_utf8(done.stdout).unwrap();
        assert_eq!(
            std::fs::canonicalize(printed.trim()).unwrap(),
            std::fs::canonicalize(dir.path()).unwrap()
        );
        let done = anyio::run_process("echo $A-$B")
            .env("A", "1")
            .env("B", "2")
            .await
            .unwrap();
        assert_eq!(done.stdout, b"1-2\n");
        let done = anyio::run_process(["/usr/bin/env"])
            .env_clear(true)
            .await
            .unwrap();
        assert!(done.stdout.is_empty());
    });
}

#[test]
fn redirections_to_null_leave_nothing_collected() {
    bounded(async {
        let done = anyio::run_process("echo out; echo err >&2")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .await
            .unwrap();
        assert!(done.stdout.is_empty() && done.stderr.is_empty());
        // Without input, stdin is the null device: `cat` ends at once.
        assert!(anyio::run_process("cat").await.unwrap().stdout.is_empty());
    });
}

#[test]
fn stdout_to_a_file() {
    bounded(async {
        let file = tempfile::NamedTempFile::new().unwrap();
        anyio::run_process("echo into the file")
            .stdout(file.reopen().unwrap())
            .await
            .unwrap();
        assert_eq!(std::fs::read(file.path()).unwrap(), b"into the file\n");
    });
}

#[test]
fn umask_new_session_and_ids() {
    bounded(async {
        let done = anyio::run_process("umask").umask(0o077).await.unwrap();
        assert_eq!(String::from_utf8_lossy(&done.stdout).trim(), "0077");
        let done = anyio::run_process("exec cat /proc/self/stat")
            .start_new_session(true)
            .await
            .unwrap();
        let stat = String::from_utf8(done.stdout).unwrap();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let pid: &str = stat.split_whitespace().next().unwrap();
        assert_eq!(fields[3], pid, "the session id is the process's own id");
        let uid = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap());
        let done = anyio::run_process("id -u").user(uid).await.unwrap();
        assert_eq!(
            String::from_utf8_lossy(&done.stdout).trim(),
            uid.to_string()
        );
    });
}

#[test]
fn pass_fds_keeps_a_descriptor_at_its_number() {
    bounded(async {
        let file = tempfile::NamedTempFile::new().unwrap();
        let handle = file.reopen().unwrap();
        let fd = handle.as_raw_fd();
        anyio::run_process(format!("echo passed >&{fd}"))
            .pass_fds([handle.as_fd()])
            .await
            .unwrap();
        assert_eq!(std::fs::read(file.path()).unwrap(), b"passed\n");
        // Without it, the descriptor is closed in the child.
        let err = anyio::run_process(format!("echo lost >&{fd}"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CalledProcess);
    });
}

#[test]
fn a_missing_program_is_named() {
    bounded(async {
        let err = anyio::run_process(["definitely-not-a-program-xyz", "arg"])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io(std::io::ErrorKind::NotFound));
        assert!(
            err.message()
                .contains("`definitely-not-a-program-xyz` was not found"),
            "{}",
            err.message()
        );
    });
}

#[test]
fn a_missing_working_directory_is_named() {
    bounded(async {
        let err = anyio::run_process(["true"])
            .cwd("/no/such/dir/here")
            .await
            .unwrap_err();
        assert!(
            err.message().contains("`/no/such/dir/here`"),
            "{}",
            err.message()
        );
        assert!(
            err.message().contains("working directory"),
            "{}",
            err.message()
        );
    });
}

#[test]
fn a_program_without_permission_is_named() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("not-executable.sh");
        std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
        let err = anyio::run_process([script.as_os_str()]).await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Io(std::io::ErrorKind::PermissionDenied)
        );
        assert!(
            err.message().contains("not-executable.sh"),
            "{}",
            err.message()
        );
        assert!(
            err.message().contains("permission denied"),
            "{}",
            err.message()
        );
    });
}

#[test]
fn a_shell_command_not_found_is_a_called_process_error() {
    bounded(async {
        let err = anyio::run_process("definitely-not-a-program-xyz")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CalledProcess);
        assert_eq!(err.completed_process().unwrap().returncode, 127);
        assert!(err.message().contains("not found"), "{}", err.message());
    });
}

#[test]
fn a_cancelled_run_kills_its_process_and_leaves_no_zombie() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let command = format!("echo $$ > {}; exec sleep 30", pid_file.display());
        let gave_up = anyio::move_on_after(0.2, anyio::run_process(command)).await;
        assert!(gave_up.is_none());
        let pid: u32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Killed at once, and reaped in the background: gone from /proc.
        assert!(
            eventually(|| state_of(pid).is_none()).await,
            "{pid}: {:?}",
            state_of(pid)
        );
    });
}

#[test]
fn five_hundred_short_processes_leave_no_descriptor_and_no_zombie() {
    bounded(async {
        let fds_before = open_fds();
        let limiter = anyio::CapacityLimiter::new(16);
        anyio::task_group!(|tg| {
            for i in 0..500u32 {
                let limiter = &limiter;
                tg.start_soon(async move {
                    let _token = limiter.acquire_on_behalf_of(format!("p{i}")).await?;
                    let done = anyio::run_process(["echo", &i.to_string()]).await?;
                    assert_eq!(done.stdout, format!("{i}\n").as_bytes());
                    anyio::Result::Ok(())
                });
            }
        })
        .unwrap();
        assert!(
            eventually(|| children().is_empty()).await,
            "left: {:?}",
            children()
        );
        assert!(
            eventually(|| open_fds() <= fds_before).await,
            "{} > {fds_before}",
            open_fds()
        );
    });
}

#[test]
fn a_signal_name_comes_from_the_signal_enum() {
    bounded(async {
        let mut process = anyio::open_process(["sleep", "30"]).await.unwrap();
        process.send_signal(Signal::Usr1).unwrap();
        assert_eq!(process.wait().await.unwrap(), -10);
    });
}

#[test]
fn input_and_stdin_together_are_refused() {
    bounded(async {
        let err = anyio::run_process("cat")
            .input("data")
            .stdin(std::process::Stdio::null())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io(std::io::ErrorKind::InvalidInput));
        assert!(
            err.message().contains("`input` and `stdin`"),
            "{}",
            err.message()
        );
    });
}
