//! The options shared by `run_process` and `open_process`, and starting the child.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Stdio;

use crate::error::{Error, ErrorKind, Result};
use crate::os::{ChildSetup, set_child_setup};
use crate::process::command::Command;

/// How a child is started.
#[derive(Debug, Default)]
pub(crate) struct ProcessOptions<'a> {
    pub(crate) cwd: Option<PathBuf>,
    pub(crate) env: Vec<(OsString, OsString)>,
    pub(crate) env_clear: bool,
    pub(crate) stdin: Option<Stdio>,
    pub(crate) stdout: Option<Stdio>,
    pub(crate) stderr: Option<Stdio>,
    pub(crate) start_new_session: bool,
    pub(crate) pass_fds: Vec<BorrowedFd<'a>>,
    pub(crate) user: Option<u32>,
    pub(crate) group: Option<u32>,
    pub(crate) umask: Option<u32>,
}

impl ProcessOptions<'_> {
    /// Starts `command`; a child left behind by a drop is killed (and reaped by
    /// async-process's reaper).
    pub(crate) fn spawn(
        self,
        command: &Command,
        default_stdin: fn() -> Stdio,
    ) -> Result<async_process::Child> {
        let mut std_command = command.to_std();
        if let Some(cwd) = &self.cwd {
            std_command.current_dir(cwd);
        }
        if self.env_clear {
            std_command.env_clear();
        }
        for (key, value) in &self.env {
            std_command.env(key, value);
        }
        if let Some(uid) = self.user {
            std_command.uid(uid);
        }
        if let Some(gid) = self.group {
            std_command.gid(gid);
        }
        set_child_setup(
            &mut std_command,
            ChildSetup {
                new_session: self.start_new_session,
                umask: self.umask,
                keep_fds: self.pass_fds.iter().map(AsRawFd::as_raw_fd).collect(),
            },
        );
        let mut async_command = async_process::Command::from(std_command);
        async_command
            .stdin(self.stdin.unwrap_or_else(default_stdin))
            .stdout(self.stdout.unwrap_or_else(Stdio::piped))
            .stderr(self.stderr.unwrap_or_else(Stdio::piped))
            .kill_on_drop(true);
        let spawned = async_command
            .spawn()
            .map_err(|error| spawn_error(command, self.cwd.as_deref(), error));
        // The borrowed descriptors stay borrowed until the child has been started.
        drop(self.pass_fds);
        spawned
    }
}

/// An error for a child that could not be started, naming what was missing.
fn spawn_error(command: &Command, cwd: Option<&std::path::Path>, error: io::Error) -> Error {
    let program = command.program().to_string_lossy().into_owned();
    if let Some(cwd) = cwd
        && !cwd.is_dir()
    {
        return Error::with_source(
            ErrorKind::Io(io::ErrorKind::NotFound),
            format!(
                "cannot run `{command}`: its working directory `{}` does not exist or is \
                 not a directory",
                cwd.display()
            ),
            error,
        );
    }
    let message = match error.kind() {
        io::ErrorKind::NotFound => format!(
            "cannot run `{command}`: the program `{program}` was not found{}",
            if program.contains('/') {
                ""
            } else {
                " in any directory of PATH"
            }
        ),
        io::ErrorKind::PermissionDenied => format!(
            "cannot run `{command}`: permission denied for the program `{program}` (is it \
             executable?) or for the working directory"
        ),
        _ => format!("cannot run `{command}`: {error}"),
    };
    Error::with_source(ErrorKind::Io(error.kind()), message, error)
}

/// The builder methods shared by `RunProcess` and `OpenProcess` (each has an `options`
/// field).
macro_rules! process_options {
    ($builder:ident) => {
        impl<'a> $builder<'a> {
            /// Runs the process in this working directory.
            ///
            /// # Examples
            ///
            /// ```
            /// # anyio::run(async {
            /// let out = anyio::run_process("pwd").cwd("/").await?;
            /// assert_eq!(out.stdout, b"/\n");
            /// # anyio::Result::Ok(()) }).unwrap();
            /// ```
            pub fn cwd(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
                self.options.cwd = Some(dir.into());
                self
            }

            /// Sets an environment variable for the process (on top of this process's
            /// environment, unless [`env_clear`](Self::env_clear)).
            ///
            /// # Examples
            ///
            /// ```
            /// # anyio::run(async {
            /// let out = anyio::run_process("echo $GREETING").env("GREETING", "hi").await?;
            /// assert_eq!(out.stdout, b"hi\n");
            /// # anyio::Result::Ok(()) }).unwrap();
            /// ```
            pub fn env(
                mut self,
                key: impl Into<std::ffi::OsString>,
                value: impl Into<std::ffi::OsString>,
            ) -> Self {
                self.options.env.push((key.into(), value.into()));
                self
            }

            /// Starts the process with an empty environment (plus what
            /// [`env`](Self::env) sets).
            ///
            /// # Examples
            ///
            /// ```
            /// # anyio::run(async {
            /// let out = anyio::run_process(["/usr/bin/env"]).env_clear(true).env("ONLY", "1").await?;
            /// assert_eq!(out.stdout, b"ONLY=1\n");
            /// # anyio::Result::Ok(()) }).unwrap();
            /// ```
            pub fn env_clear(mut self, clear: bool) -> Self {
                self.options.env_clear = clear;
                self
            }

            /// Where the process's standard input comes from: `Stdio::piped()` (a
            /// stream this side writes), `Stdio::null()`, `Stdio::inherit()`, or a file.
            ///
            /// # Examples
            ///
            /// ```
            /// # anyio::run(async {
            /// let out = anyio::run_process("cat").stdin(std::process::Stdio::null()).await?;
            /// assert!(out.stdout.is_empty());
            /// # anyio::Result::Ok(()) }).unwrap();
            /// ```
            pub fn stdin(mut self, stdin: impl Into<std::process::Stdio>) -> Self {
                self.options.stdin = Some(stdin.into());
                self
            }

            /// Where the process's standard output goes (default: piped to this side).
            ///
            /// # Examples
            ///
            /// ```
            /// # anyio::run(async {
            /// let out = anyio::run_process("echo hidden").stdout(std::process::Stdio::null()).await?;
            /// assert!(out.stdout.is_empty());
            /// # anyio::Result::Ok(()) }).unwrap();
            /// ```
            pub fn stdout(mut self, stdout: impl Into<std::process::Stdio>) -> Self {
                self.options.stdout = Some(stdout.into());
                self
            }

            /// Where the process's standard error goes (default: piped to this side).
            ///
            /// # Examples
            ///
            /// ```
            /// # anyio::run(async {
            /// let out = anyio::run_process("echo oops >&2").stderr(std::process::Stdio::null()).await?;
            /// assert!(out.stderr.is_empty());
            /// # anyio::Result::Ok(()) }).unwrap();
            /// ```
            pub fn stderr(mut self, stderr: impl Into<std::process::Stdio>) -> Self {
                self.options.stderr = Some(stderr.into());
                self
            }

            /// Starts the process in a new session (`setsid`): it gets no controlling
            /// terminal and a Ctrl-C at the terminal does not reach it.
            ///
            /// # Examples
            ///
            /// ```
            /// # anyio::run(async {
            /// // In its own session, the shell is the session leader: its session id is its pid.
            /// let out = anyio::run_process("ps -o sid= -p $$; echo $$")
            ///     .start_new_session(true)
            ///     .await?;
            /// let text = String::from_utf8(out.stdout).unwrap();
            /// let ids: Vec<&str> = text.split_whitespace().collect();
            /// assert_eq!(ids[0], ids[1]);
            /// # anyio::Result::Ok(()) }).unwrap();
            /// ```
            pub fn start_new_session(mut self, new_session: bool) -> Self {
                self.options.start_new_session = new_session;
                self
            }

            /// Descriptors the process inherits at the same numbers (all others are
            /// closed on exec, as usual in Rust). They stay borrowed until the process
            /// has started.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::os::fd::{AsFd, AsRawFd};
            ///
            /// # anyio::run(async {
            /// let file = tempfile::tempfile()?;
            /// let fd = file.as_raw_fd();
            /// let out = anyio::run_process(format!("echo inherited >&{fd}"))
            ///     .pass_fds([file.as_fd()])
            ///     .await?;
            /// assert!(out.stderr.is_empty());
            /// # anyio::Result::Ok(()) }).unwrap();
            /// ```
            pub fn pass_fds(
                mut self,
                fds: impl IntoIterator<Item = std::os::fd::BorrowedFd<'a>>,
            ) -> Self {
                self.options.pass_fds.extend(fds);
                self
            }

            /// Runs the process as this user id (needs the privilege to switch).
            ///
            /// # Examples
            ///
            /// ```
            /// # anyio::run(async {
            /// let me = rustix_uid();
            /// let out = anyio::run_process("id -u").user(me).await?;
            /// assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), me.to_string());
            /// # anyio::Result::Ok(()) }).unwrap();
            /// # fn rustix_uid() -> u32 { std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap() }
            /// ```
            pub fn user(mut self, uid: u32) -> Self {
                self.options.user = Some(uid);
                self
            }

            /// Runs the process with this group id (needs the privilege to switch).
            ///
            /// # Examples
            ///
            /// ```
            /// # anyio::run(async {
            /// let gid = std::os::unix::fs::MetadataExt::gid(&std::fs::metadata("/proc/self")?);
            /// let out = anyio::run_process("id -g").group(gid).await?;
            /// assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), gid.to_string());
            /// # anyio::Result::Ok(()) }).unwrap();
            /// ```
            pub fn group(mut self, gid: u32) -> Self {
                self.options.group = Some(gid);
                self
            }

            /// The process's file mode creation mask (e.g. `0o077`).
            ///
            /// # Examples
            ///
            /// ```
            /// # anyio::run(async {
            /// let out = anyio::run_process("umask").umask(0o027).await?;
            /// assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0027");
            /// # anyio::Result::Ok(()) }).unwrap();
            /// ```
            pub fn umask(mut self, mask: u32) -> Self {
                self.options.umask = Some(mask);
                self
            }
        }
    };
}

pub(crate) use process_options;
