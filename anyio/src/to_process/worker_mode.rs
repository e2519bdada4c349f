//! Worker mode: how a process knows it was started as a worker, how a parent knows how to
//! start one, and the loop a worker runs.

use std::cell::RefCell;
use std::io::Write;
use std::os::fd::RawFd;
use std::os::unix::net::UnixStream;
use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;

use super::protocol::{self, Reply};
use super::raw;
use crate::error::{Error, ErrorKind, Result};

/// The environment variable that starts a process in worker mode: `"<fd>,<parent pid>"`,
/// the descriptor of the inherited socket and the pid of the process that set it.
///
/// The parent pid makes the variable address one process only: a child process that a
/// worker's function starts inherits the variable, sees another parent, and runs as the
/// program it is.
pub(super) const WORKER_VAR: &str = "ANYIO_TO_PROCESS_WORKER";

/// How this program starts its workers, recorded by [`init`] and the macros' hooks: a
/// process that recorded none refuses to start workers (it could not enter worker mode
/// in them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Launch {
    /// The executable's `main` enters worker mode: start it with no arguments.
    Program,
    /// A test binary: start it running this test (libtest's name), which enters worker
    /// mode as it begins.
    Test(String),
}

static LAUNCH: OnceLock<Launch> = OnceLock::new();

/// How to start a worker of this program.
///
/// # Errors
///
/// [`ErrorKind::Other`], saying how to set worker mode up, if nothing recorded it.
pub(super) fn launch() -> Result<&'static Launch> {
    LAUNCH.get().ok_or_else(|| {
        Error::new(
            ErrorKind::Other,
            "to_process cannot start worker processes: this program never set up worker \
             mode. Use #[anyio::main] or #[anyio::test], or call anyio::to_process::init() \
             first thing in main (or in the test); see the to_process module docs",
        )
    })
}

/// Sets up worker processes: in a process started as a worker, serves calls and exits
/// when the parent closes its end; everywhere else returns at once.
///
/// `#[anyio::main]` and `#[anyio::test]` call it for you. Otherwise call it **first
/// thing** in `main`, before the program does anything a worker should not do, or first
/// thing in a plain `#[test]` function (see the [module docs](crate::to_process), "How
/// worker mode is entered"). In the parent it also records how workers are started: a
/// call from a thread named as a test (libtest names each test's thread after it) records
/// that test, and any other call records the program's `main`.
///
/// # Examples
///
/// A program with a plain `main`:
///
/// ```
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// fn main() -> anyio::Result<()> {
///     anyio::to_process::init(); // a worker never gets past this line
///     let squared = anyio::run(async { anyio::to_process::run_sync(square, 12).await })?;
///     assert_eq!(squared, 144);
///     Ok(())
/// }
/// ```
pub fn init() {
    // Recorded first, also in a worker: a function that calls `run_sync` in turn starts
    // its own workers the same way.
    let _ = LAUNCH.get_or_init(|| match std::thread::current().name() {
        Some(name) if name != "main" => Launch::Test(name.to_owned()),
        _ => Launch::Program,
    });
    serve_if_worker();
}

/// The hook of `#[anyio::main]`.
#[doc(hidden)]
pub fn enter_main() {
    let _ = LAUNCH.get_or_init(|| Launch::Program);
    serve_if_worker();
}

/// The hook of `#[anyio::test]`: `module_path` and `name` say where the test is.
#[doc(hidden)]
pub fn enter_test(module_path: &str, name: &str) {
    let _ = LAUNCH.get_or_init(|| Launch::Test(test_name(module_path, name)));
    serve_if_worker();
}

/// libtest's name of the test `name` in `module_path` (the crate's name left out).
fn test_name(module_path: &str, name: &str) -> String {
    match module_path.split_once("::") {
        Some((_crate, modules)) => format!("{modules}::{name}"),
        None => name.to_owned(),
    }
}

/// The socket descriptor in `value` of the worker variable, if it is addressed to a
/// process whose parent is `parent`.
fn socket_for(value: &str, parent: u32) -> Option<RawFd> {
    let (fd, pid) = value.split_once(',')?;
    (pid.parse::<u32>().ok()? == parent).then_some(())?;
    fd.parse().ok()
}

/// If this process was started as a worker, serves its parent and exits.
fn serve_if_worker() {
    let Ok(value) = std::env::var(WORKER_VAR) else {
        return;
    };
    let Some(fd) = socket_for(&value, std::os::unix::process::parent_id()) else {
        return;
    };
    if is_worker() {
        // This is the worker already: its function called `init`.
        return;
    }
    match raw::adopt_inherited_socket(fd) {
        Ok(socket) => serve(socket),
        Err(error) => {
            // The parent reports the exit status, and this says why.
            eprintln!("anyio::to_process: cannot enter worker mode: {error}");
            std::process::exit(101);
        }
    }
}

static IS_WORKER: OnceLock<()> = OnceLock::new();

fn is_worker() -> bool {
    IS_WORKER.get().is_some()
}

thread_local! {
    /// The message of the panic being unwound on this thread, from the worker's hook.
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The worker loop: a hello, then one reply for each call, until the parent closes.
fn serve(socket: UnixStream) -> ! {
    let _ = IS_WORKER.set(());
    // The panic goes back to the caller, which decides what to show: print nothing here.
    panic::set_hook(Box::new(|info| {
        let message = payload_text(info.payload());
        let message = match info.location() {
            Some(location) => format!("{message} (at {location})"),
            None => message,
        };
        PANIC_MESSAGE.with(|slot| *slot.borrow_mut() = Some(message));
    }));
    let mut socket = socket;
    if socket
        .write_all(&protocol::hello(&raw::own_stamp()))
        .is_err()
    {
        std::process::exit(0);
    }
    loop {
        let body = match protocol::read_frame(&mut socket) {
            Ok(Some(body)) => body,
            // The parent closed its end (or died): nothing more to do.
            Ok(None) | Err(_) => std::process::exit(0),
        };
        let reply = match protocol::parse_call(&body) {
            Some((stamp, code, argument)) => {
                match panic::catch_unwind(AssertUnwindSafe(|| raw::call(&stamp, &code, argument))) {
                    Ok(outcome) => Reply::from(outcome),
                    Err(payload) => Reply::Panicked(
                        PANIC_MESSAGE
                            .with(|slot| slot.borrow_mut().take())
                            .unwrap_or_else(|| payload_text(&*payload)),
                    ),
                }
            }
            None => Reply::Mismatch("the worker received a message it cannot read".to_owned()),
        };
        if socket.write_all(&protocol::reply(&reply)).is_err() {
            std::process::exit(0);
        }
    }
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Box<dyn Any>".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_names_leave_out_the_crate() {
        assert_eq!(test_name("to_process", "round_trip"), "round_trip");
        assert_eq!(test_name("anyio::a::b", "t"), "a::b::t");
    }

    #[test]
    fn the_variable_addresses_one_parent() {
        assert_eq!(socket_for("5,1234", 1234), Some(5));
        assert_eq!(socket_for("5,1234", 99), None);
        assert_eq!(socket_for("garbage", 1234), None);
        assert_eq!(socket_for("x,1234", 1234), None);
    }

    #[test]
    fn init_outside_a_worker_returns_at_once() {
        init();
        assert!(launch().is_ok());
    }
}
