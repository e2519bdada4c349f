//! The crate's only `unsafe` code: what the operating system interfaces need and safe
//! Rust cannot express. Each block says why it is sound.
//!
//! - [`set_child_setup`]: work done in a child process between `fork` and `exec`
//!   (a new session, a umask, descriptors kept open), through
//!   `std::os::unix::process::CommandExt::pre_exec`.
#![allow(unsafe_code)]

use std::os::fd::{BorrowedFd, RawFd};
use std::os::unix::process::CommandExt;

/// What a child does before it runs the program.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChildSetup {
    pub(crate) new_session: bool,
    pub(crate) umask: Option<u32>,
    /// Descriptors the child keeps, at the same numbers (their close-on-exec flag is
    /// cleared in the child only).
    pub(crate) keep_fds: Vec<RawFd>,
}

impl ChildSetup {
    fn is_empty(&self) -> bool {
        !self.new_session && self.umask.is_none() && self.keep_fds.is_empty()
    }
}

/// Arranges for the child started by `command` to do `setup` before it runs the
/// program.
pub(crate) fn set_child_setup(command: &mut std::process::Command, setup: ChildSetup) {
    if setup.is_empty() {
        return;
    }
    // SAFETY: the closure runs in the child between `fork` and `exec`, where only
    // async-signal-safe functions may be called: it makes raw system calls through
    // rustix (`setsid`, `umask`, `fcntl`), which neither allocate nor take locks, and
    // reads `setup`, which was moved into the closure before the fork (the child's copy
    // of memory holds it). `borrow_raw` is given descriptors that the builder holds as
    // `BorrowedFd`s for its whole life, which spans the spawn: they are open in the
    // parent at the fork, so open in the child, and each borrow lasts only for its
    // `fcntl` call.
    unsafe {
        command.pre_exec(move || {
            if setup.new_session {
                rustix::process::setsid()?;
            }
            if let Some(mask) = setup.umask {
                rustix::process::umask(rustix::fs::Mode::from_raw_mode(mask));
            }
            for &fd in &setup.keep_fds {
                let fd = BorrowedFd::borrow_raw(fd);
                rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty())?;
            }
            Ok(())
        });
    }
}
