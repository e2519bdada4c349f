//! The crate's only `unsafe` code: what the operating system interfaces need and safe
//! Rust cannot express. Each block says why it is sound.
//!
//! - [`set_child_setup`]: work done in a child process between `fork` and `exec`
//!   (a new session, a umask, descriptors kept open), through
//!   `std::os::unix::process::CommandExt::pre_exec`;
//! - [`signals`]: signal handlers installed and restored with `sigaction`;
//! - [`code`]: `to_process`'s code addresses (a function sent to a worker process as an
//!   offset in the executable), and the socket a worker inherits;
//! - [`raw_task`]: a task in one allocation (header, metadata and future), the executor
//!   task of a spawned group child;
//! - [`local_task`]: a local group child in one allocation, whose future may borrow from
//!   the group's environment;
//! - [`name`]: a task name in two words;
//! - [`waker`]: the waker vtable of those tasks.
#![allow(unsafe_code)]

pub(crate) mod code;
pub(crate) mod local_task;
pub(crate) mod name;
pub(crate) mod raw_task;
pub(crate) mod waker;

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

pub(crate) mod signals {
    //! Signal handlers that write the signal's number to a pipe, installed and removed
    //! with `sigaction`; the previous action is saved on install and restored on
    //! removal.
    #![allow(unsafe_code)]

    use std::io;
    use std::os::fd::RawFd;
    use std::sync::atomic::{AtomicI32, Ordering};

    /// The pipe's write end that handlers write to (-1: none yet).
    static PIPE: AtomicI32 = AtomicI32::new(-1);

    /// Sets the pipe that handlers write signal numbers to (once, for the process).
    pub(crate) fn set_pipe(fd: RawFd) {
        PIPE.store(fd, Ordering::Release);
    }

    /// The handler: one byte per signal. The pipe is non-blocking, so a full pipe
    /// drops the signal rather than block the interrupted thread.
    extern "C" fn on_signal(signal: libc::c_int) {
        let fd = PIPE.load(Ordering::Acquire);
        if fd < 0 {
            return;
        }
        let byte = signal as u8;
        // SAFETY: `write` and `__errno_location` are async-signal-safe; `byte` is a
        // live local for the call; errno is saved and restored so that the interrupted
        // code does not see it change.
        unsafe {
            let errno = *libc::__errno_location();
            libc::write(fd, (&byte as *const u8).cast(), 1);
            *libc::__errno_location() = errno;
        }
    }

    /// A signal's action before `install`, to put back.
    pub(crate) struct SavedAction(libc::sigaction);

    // SAFETY: a `sigaction` struct is plain data (a handler address, flags and a mask);
    // the raw pointer-sized fields are never dereferenced by this crate.
    unsafe impl Send for SavedAction {}

    /// Installs the pipe-writing handler for `signal`; returns the action it replaced.
    pub(crate) fn install(signal: libc::c_int) -> io::Result<SavedAction> {
        // SAFETY: `action` and `previous` are zeroed `sigaction` structs (a valid value:
        // no handler, no flags, empty mask) that live across the calls; `sigemptyset`
        // gets a pointer to `action`'s own mask; `on_signal` has the signature the
        // kernel calls and only does async-signal-safe work.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, &action, &mut previous) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(SavedAction(previous))
        }
    }

    /// Puts back the action that `install` replaced.
    pub(crate) fn restore(signal: libc::c_int, saved: &SavedAction) -> io::Result<()> {
        // SAFETY: `saved.0` is the action the kernel gave back at install, a valid
        // `sigaction`; a null pointer for the old action is allowed.
        let result = unsafe { libc::sigaction(signal, &saved.0, std::ptr::null_mut()) };
        if result != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
