//! `run_process`, `open_process` and `CompletedProcess`.

use std::ffi::OsString;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::process::Stdio;

use crate::abc::{AsyncResource, ByteReceiveStream, ByteSendStream};
use crate::error::{Error, ErrorKind, Result};
use crate::process::child::Process;
use crate::process::command::{Command, IntoCommand};
use crate::process::options::{ProcessOptions, process_options};

/// A process that ran to its end, from [`run_process`].
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let done: anyio::CompletedProcess = anyio::run_process("echo out; echo err >&2").await?;
/// assert_eq!(done.returncode, 0);
/// assert_eq!(done.stdout, b"out\n");
/// assert_eq!(done.stderr, b"err\n");
/// assert_eq!(done.args, ["echo out; echo err >&2"]);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompletedProcess {
    /// The command as given: the shell line, or the program and its arguments.
    pub args: Vec<OsString>,
    /// The exit code, or minus the signal that killed the process.
    pub returncode: i32,
    /// What the process wrote to its standard output (empty unless piped).
    pub stdout: Vec<u8>,
    /// What the process wrote to its standard error (empty unless piped).
    pub stderr: Vec<u8>,
}

impl CompletedProcess {
    /// `Ok(self)` if the process exited with 0; otherwise the error of kind
    /// [`CalledProcess`](ErrorKind::CalledProcess) that `check(true)` gives.
    ///
    /// # Errors
    ///
    /// As above.
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let done = anyio::run_process("exit 2").check(false).await?;
    /// let err = done.check_returncode().unwrap_err();
    /// assert_eq!(err.completed_process().unwrap().returncode, 2);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn check_returncode(self) -> Result<CompletedProcess> {
        if self.returncode == 0 {
            return Ok(self);
        }
        let message = failure_message(&self);
        Err(Error::with_source(
            ErrorKind::CalledProcess,
            message,
            ProcessFailed(self),
        ))
    }
}

/// The lines of stderr that a failure quotes, at most.
const QUOTED_LINES: usize = 5;

/// "command `x` exited with status 2 (stderr ends: ...)".
fn failure_message(done: &CompletedProcess) -> String {
    let command = if done.args.len() == 1 {
        done.args[0].to_string_lossy().into_owned()
    } else {
        done.args
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let how = if done.returncode < 0 {
        let signal = -done.returncode;
        let name = signal_name(signal);
        format!("was killed by signal {signal}{name}")
    } else {
        format!("exited with status {}", done.returncode)
    };
    let stderr = String::from_utf8_lossy(&done.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(QUOTED_LINES)..];
    if tail.is_empty() {
        format!("command `{command}` {how}")
    } else {
        format!(
            "command `{command}` {how}; the end of its stderr:\n{}",
            tail.join("\n")
        )
    }
}

/// " (SIGKILL)" for the common signals.
fn signal_name(signal: i32) -> &'static str {
    match signal {
        1 => " (SIGHUP)",
        2 => " (SIGINT)",
        3 => " (SIGQUIT)",
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        13 => " (SIGPIPE)",
        15 => " (SIGTERM)",
        _ => "",
    }
}

/// The source of a `CalledProcess` error: the process that failed.
pub(crate) struct ProcessFailed(pub(crate) CompletedProcess);

impl fmt::Debug for ProcessFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ProcessFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&failure_message(&self.0))
    }
}

impl std::error::Error for ProcessFailed {}

/// Runs `command` to its end and returns what it wrote: AnyIO's `run_process`.
///
/// Options: [`input`](RunProcess::input), [`check`](RunProcess::check) (default
/// `true`: a non-zero exit is an error of kind
/// [`CalledProcess`](ErrorKind::CalledProcess) that quotes the end of stderr and holds
/// the [`CompletedProcess`], see [`Error::completed_process`]), and the options of
/// [`open_process`]: `cwd`, `env`, `env_clear`, `stdin`, `stdout`, `stderr`,
/// `start_new_session`, `pass_fds`, `user`, `group`, `umask`.
///
/// Cancelling the call kills the process (and it is reaped): no orphan survives.
///
/// # Errors
///
/// The `CalledProcess` error above; an I/O error naming the program or the working
/// directory when the process cannot be started.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let out = anyio::run_process(["tr", "a-z", "A-Z"]).input("shout").await?;
/// assert_eq!(out.stdout, b"SHOUT");
///
/// let err = anyio::run_process("echo bad input >&2; exit 1").await.unwrap_err();
/// assert_eq!(err.kind(), anyio::ErrorKind::CalledProcess);
/// assert!(err.message().contains("exited with status 1"));
/// assert!(err.message().contains("bad input"));
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub fn run_process<'a>(command: impl IntoCommand) -> RunProcess<'a> {
    RunProcess {
        command: command.into_command(),
        input: None,
        check: true,
        options: ProcessOptions::default(),
    }
}

/// A [`run_process`] call and its options; await it to run the process.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let call: anyio::process::RunProcess<'_> = anyio::run_process("exit 4").check(false);
/// assert_eq!(call.await?.returncode, 4);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[must_use = "the process runs only when the call is awaited"]
#[derive(Debug)]
pub struct RunProcess<'a> {
    command: Command,
    input: Option<Vec<u8>>,
    check: bool,
    options: ProcessOptions<'a>,
}

impl RunProcess<'_> {
    /// Bytes written to the process's standard input, which is then closed (giving
    /// [`stdin`](Self::stdin) too is an error).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let out = anyio::run_process("wc -l").input("a\nb\n").await?;
    /// assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn input(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.input = Some(input.into());
        self
    }

    /// Whether a non-zero exit is an error (default `true`).
    ///
    /// # Examples
    ///
    /// ```
    /// # anyio::run(async {
    /// let out = anyio::run_process("exit 1").check(false).await?;
    /// assert_eq!(out.returncode, 1);
    /// # anyio::Result::Ok(()) }).unwrap();
    /// ```
    pub fn check(mut self, check: bool) -> Self {
        self.check = check;
        self
    }
}

process_options!(RunProcess);

impl<'a> IntoFuture for RunProcess<'a> {
    type Output = Result<CompletedProcess>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<CompletedProcess>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            crate::lowlevel::checkpoint_if_cancelled().await;
            let RunProcess {
                command,
                input,
                check,
                options,
            } = self;
            if input.is_some() && options.stdin.is_some() {
                return Err(Error::new(
                    ErrorKind::Io(std::io::ErrorKind::InvalidInput),
                    format!(
                        "`{command}`: `input` and `stdin` were both given; `input` is written \
                         to a pipe that replaces stdin, so give one of them"
                    ),
                ));
            }
            let default_stdin = if input.is_some() {
                Stdio::piped
            } else {
                Stdio::null
            };
            let args = command.args();
            let child = options.spawn(&command, default_stdin)?;
            let mut process = Process::new(child, command);
            let stdin = process.stdin.take();
            let stdout = process.stdout.take();
            let stderr = process.stderr.take();
            let feed = async move {
                if let (Some(mut stdin), Some(input)) = (stdin, input) {
                    // A process that exits without reading all of it is not an error.
                    match stdin.send(&input).await {
                        Err(e) if e.kind() == ErrorKind::Io(std::io::ErrorKind::BrokenPipe) => {}
                        other => other?,
                    }
                    stdin.aclose().await?;
                }
                Result::Ok(())
            };
            let (fed, (out, err)) = futures_lite::future::zip(
                feed,
                futures_lite::future::zip(read_all(stdout), read_all(stderr)),
            )
            .await;
            fed?;
            let returncode = process.wait().await?;
            let done = CompletedProcess {
                args,
                returncode,
                stdout: out?,
                stderr: err?,
            };
            if check {
                done.check_returncode()
            } else {
                Ok(done)
            }
        })
    }
}

/// Everything a pipe gives until its end (nothing for no pipe).
async fn read_all(pipe: Option<impl ByteReceiveStream>) -> Result<Vec<u8>> {
    let mut all = Vec::new();
    if let Some(mut pipe) = pipe {
        loop {
            match pipe.receive(crate::abc::DEFAULT_MAX_BYTES).await {
                Ok(chunk) => all.extend_from_slice(&chunk),
                Err(e) if e.kind() == ErrorKind::EndOfStream => break,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(all)
}

/// Starts `command` and returns the running [`Process`], with its standard streams
/// piped to this side: AnyIO's `open_process`.
///
/// Options: `cwd`, `env`, `env_clear`, `stdin`, `stdout`, `stderr` (each
/// `std::process::Stdio`; default piped), `start_new_session`, `pass_fds`, `user`,
/// `group`, `umask`.
///
/// # Errors
///
/// An I/O error naming the program or the working directory when the process cannot be
/// started.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let err = anyio::open_process(["no-such-program-here"]).await.unwrap_err();
/// assert!(err.message().contains("`no-such-program-here` was not found"));
/// # });
/// ```
pub fn open_process<'a>(command: impl IntoCommand) -> OpenProcess<'a> {
    OpenProcess {
        command: command.into_command(),
        options: ProcessOptions::default(),
    }
}

/// An [`open_process`] call and its options; await it to start the process.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// let call: anyio::process::OpenProcess<'_> = anyio::open_process("true").cwd("/");
/// let mut process = call.await?;
/// assert_eq!(process.wait().await?, 0);
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
#[must_use = "the process starts only when the call is awaited"]
#[derive(Debug)]
pub struct OpenProcess<'a> {
    command: Command,
    options: ProcessOptions<'a>,
}

process_options!(OpenProcess);

impl<'a> IntoFuture for OpenProcess<'a> {
    type Output = Result<Process>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Process>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            crate::lowlevel::checkpoint_if_cancelled().await;
            let child = self.options.spawn(&self.command, Stdio::piped)?;
            Ok(Process::new(child, self.command))
        })
    }
}
