//! Child processes: [`run_process`] runs one to its end,
//! [`open_process`] starts one and gives its pipes as byte
//! streams. Built on async-process.
//!
//! A command is a string, run by the shell (`/bin/sh -c`, as AnyIO does), or a list of
//! arguments, run directly ([`IntoCommand`]).
//!
//! # No orphans, no zombies
//!
//! A process is killed (`SIGKILL`, at once) when its [`Process`] is dropped while it
//! runs, and so when the task that owns it is cancelled, or when a `run_process` call is
//! cancelled; async-process then reaps it in the background. Immediate kill is AnyIO's
//! policy too: a grace period would make every cancel wait for it, and a program that
//! wants one sends [`Process::terminate`] and waits for as long as it chooses.
//!
//! The kill reaches the process anyio started. For a shell command, that is the shell:
//! programs the shell started in the background, or the other stages of a pipeline it
//! did not `exec`, are not killed with it. Give such commands `start_new_session(true)`
//! and signal the whole group yourself, or run the programs directly.
//!
//! # Examples
//!
//! ```
//! # anyio::run(async {
//! // A pipeline through the shell, with a deadline.
//! let out = anyio::fail_after(5, anyio::run_process("printf 'b\\na\\n' | sort")).await??;
//! assert_eq!(out.stdout, b"a\nb\n");
//! # anyio::Result::Ok(()) }).unwrap();
//! ```

mod child;
mod command;
mod options;
mod run;

pub use async_signal::Signal;
pub use child::{Process, ProcessStderr, ProcessStdin, ProcessStdout};
pub use command::{Command, IntoCommand};
pub use run::{CompletedProcess, OpenProcess, RunProcess, open_process, run_process};

pub(crate) use run::ProcessFailed;
