//! Every `unsafe` operation of `to_process`, and only those: code addresses turned into
//! integers and back, a zero-sized function value made in the worker, the inherited
//! socket adopted there, and the child's end of the socket kept open across `exec`.
//!
//! # How an integer names a function
//!
//! A worker runs the same executable as its parent: the parent starts `/proc/self/exe`
//! (the very file it runs from, even if the path was replaced since), and each side checks
//! the other's [`Stamp`] before any call. Address-space randomization moves the image as
//! a whole, so the distance between two functions of the image is the same in both
//! processes: a function travels as its offset from [`anchor`], and the receiver adds its
//! own anchor's address back.
//!
//! The worker never calls an arbitrary offset with an arbitrary signature. It calls a
//! *trampoline*: one monomorphized instance of [`call_item`] or [`call_pointer`], all of
//! the single type [`Trampoline`]. The trampoline first compares the fingerprint of its
//! own type parameters with the one the parent sent, then decodes the argument, calls the
//! function and encodes the result. So a parent and a worker that disagree about the code
//! get an error, not a call through a wrongly typed pointer, in every case that can be
//! detected: a different build (stamp), a function outside the executable (checked with
//! `dladdr` before sending), or different types (fingerprint).
//!
//! # Trust
//!
//! The worker trusts its parent: a parent that forged a message could make it jump
//! anywhere, exactly as it could attach a debugger to it. The checks above catch
//! mistakes (a rebuilt binary, a mismatched build), not malice.

#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

use std::any::{Any, type_name};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The fixed point that code offsets are measured from.
#[inline(never)]
fn anchor() {}

/// A second fixed function: its offset from [`anchor`] differs between builds of a
/// program, so it is part of the [`Stamp`].
#[inline(never)]
fn probe() -> u64 {
    0x616e_7969_6f2d_7770
}

/// The address of `code`, with its provenance exposed so that [`code_at`] may recover it.
fn address_of(code: *const ()) -> usize {
    code.expose_provenance()
}

fn anchor_address() -> usize {
    address_of(anchor as fn() as *const ())
}

/// How far `code` lies from [`anchor`] in this process.
fn offset_of(code: *const ()) -> i64 {
    address_of(code).wrapping_sub(anchor_address()) as i64
}

/// The code `offset` bytes from [`anchor`] in this process.
fn code_at(offset: i64) -> *const () {
    std::ptr::with_exposed_provenance(anchor_address().wrapping_add(offset as usize))
}

/// What identifies the executable a process runs: both sides of a worker's socket must
/// show the same stamp before a function crosses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// The device and inode of the running executable (0 when they cannot be read).
    pub(crate) device: u64,
    pub(crate) inode: u64,
    /// The offset of [`probe`] from [`anchor`].
    pub(crate) probe: i64,
}

/// This process's stamp (computed once).
pub(crate) fn own_stamp() -> Stamp {
    static STAMP: OnceLock<Stamp> = OnceLock::new();
    *STAMP.get_or_init(|| {
        use std::os::unix::fs::MetadataExt;
        // Miri's isolation forbids the file system; its tests need no real executable.
        let metadata = if cfg!(miri) {
            Err(io::ErrorKind::Unsupported.into())
        } else {
            std::fs::metadata("/proc/self/exe")
                .or_else(|_| std::env::current_exe().and_then(std::fs::metadata))
        };
        let (device, inode) = metadata.map_or((0, 0), |m| (m.dev(), m.ino()));
        Stamp {
            device,
            inode,
            probe: offset_of(probe as fn() -> u64 as *const ()),
        }
    })
}

/// A function as sent to a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodeRef {
    /// The offset of the trampoline to call.
    pub(crate) trampoline: i64,
    /// For a fn pointer, the offset of the function; 0 for a function item or closure,
    /// which its trampoline names by its type.
    pub(crate) function: i64,
    /// The fingerprint of the function's type, its argument's and its result's.
    pub(crate) fingerprint: u64,
}

/// What a trampoline reports (a panic of the function unwinds through it instead).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The function returned: its encoded result.
    Returned(Vec<u8>),
    /// The argument could not be decoded, or the result encoded: why.
    Failed(String),
    /// The code does not match what the parent meant: the two run different programs.
    Mismatch(String),
}

/// The single type of every trampoline, so that any of them may be called through it.
type Trampoline = fn(fingerprint: u64, function: i64, input: &[u8]) -> Outcome;

/// Describes `func` for a worker (`func` is the parent's value; see [`call_item`] for why
/// its type alone is enough when it is zero-sized).
///
/// # Errors
///
/// A message if `func` captures variables (it is neither zero-sized nor a fn pointer),
/// or if its code lies outside the executable (in a shared library).
pub(crate) fn code_ref<F, A, R>(func: &F) -> Result<CodeRef, String>
where
    F: Fn(A) -> R + Copy + 'static,
    A: DeserializeOwned + 'static,
    R: Serialize + 'static,
{
    if let Some(pointer) = (func as &dyn Any).downcast_ref::<fn(A) -> R>() {
        let trampoline: Trampoline = call_pointer::<A, R>;
        let code = [trampoline as *const (), *pointer as *const ()];
        check_in_executable(&code)?;
        return Ok(CodeRef {
            trampoline: offset_of(code[0]),
            function: offset_of(code[1]),
            fingerprint: fingerprint::<fn(A) -> R, A, R>(),
        });
    }
    if size_of::<F>() != 0 {
        return Err(format!(
            "`{}` captures variables ({} bytes of them), which cannot cross to another \
             process: pass a function, a fn pointer or a closure that captures nothing, and \
             put the data in the argument",
            type_name::<F>(),
            size_of::<F>()
        ));
    }
    let trampoline: Trampoline = call_item::<F, A, R>;
    check_in_executable(&[trampoline as *const ()])?;
    Ok(CodeRef {
        trampoline: offset_of(trampoline as *const ()),
        function: 0,
        fingerprint: fingerprint::<F, A, R>(),
    })
}

/// Calls the function that `code` names, for a parent whose stamp is `peer` (see the
/// module docs, "Trust": the message is the parent's own).
pub(crate) fn call(peer: &Stamp, code: &CodeRef, input: &[u8]) -> Outcome {
    if *peer != own_stamp() {
        return Outcome::Mismatch(format!(
            "the parent runs another executable than this worker ({peer:?}, here {:?})",
            own_stamp()
        ));
    }
    // SAFETY: the parent runs this same executable (the stamps are equal) and took
    // `code.trampoline` in `code_ref` from a value of type `Trampoline`; the image is
    // moved as a whole by address randomization, so the code at the same offset from the
    // anchor here is that same function, of type `Trampoline`. A pointer to code may be
    // transmuted to a function pointer of that code's type (same size).
    let trampoline =
        unsafe { std::mem::transmute::<*const (), Trampoline>(code_at(code.trampoline)) };
    trampoline(code.fingerprint, code.function, input)
}

/// The trampoline of a function item or capture-less closure `F`: its type names it.
fn call_item<F, A, R>(fingerprint: u64, _function: i64, input: &[u8]) -> Outcome
where
    F: Fn(A) -> R + Copy + 'static,
    A: DeserializeOwned + 'static,
    R: Serialize + 'static,
{
    if fingerprint != self::fingerprint::<F, A, R>() || size_of::<F>() != 0 {
        return mismatch::<F>();
    }
    // SAFETY: `F` is zero-sized (checked above), so its value has no bytes that could be
    // wrong. It is inhabited: the parent held a value of it when it called `code_ref`, the
    // only place that takes this trampoline's address, in this same executable (stamps
    // checked in `call`, fingerprint just above). And `F: Copy`, so making one more value
    // of it is what copying the parent's would do: no destructor is skipped, and a Copy
    // type cannot rely on being unique. This is the parent's value, moved across.
    // The limit of this argument: a closure that captures a zero-sized value whose
    // existence proves something about the parent process (an "initialised" marker)
    // gets a copy here, where that proof does not hold. `run_sync`'s documentation
    // allows function items and closures that capture nothing at all, for this reason.
    let func: F = unsafe { std::mem::zeroed() };
    run(func, input)
}

/// The trampoline of a fn pointer: the function's own offset comes with the call.
fn call_pointer<A, R>(fingerprint: u64, function: i64, input: &[u8]) -> Outcome
where
    A: DeserializeOwned + 'static,
    R: Serialize + 'static,
{
    if fingerprint != self::fingerprint::<fn(A) -> R, A, R>() {
        return mismatch::<fn(A) -> R>();
    }
    // SAFETY: the parent computed `function` in `code_ref` from a `fn(A) -> R` (the
    // fingerprint of exactly these types matched), in this same executable (stamps
    // checked in `call`), and checked that it lies in the executable's image, which
    // address randomization moves as a whole. So `code_at(function)` is a function of
    // type `fn(A) -> R` here; a code pointer may be transmuted to its function pointer.
    let func = unsafe { std::mem::transmute::<*const (), fn(A) -> R>(code_at(function)) };
    run(func, input)
}

fn mismatch<F>() -> Outcome {
    Outcome::Mismatch(format!(
        "the worker's code for `{}` does not match the parent's call",
        type_name::<F>()
    ))
}

/// Decodes the argument, calls `func`, encodes its result.
fn run<A, R>(func: impl Fn(A) -> R, input: &[u8]) -> Outcome
where
    A: DeserializeOwned,
    R: Serialize,
{
    let argument: A = match postcard::from_bytes(input) {
        Ok(argument) => argument,
        Err(error) => {
            return Outcome::Failed(format!(
                "the worker could not decode the argument (a `{}`): {error}",
                type_name::<A>()
            ));
        }
    };
    let result = func(argument);
    match postcard::to_stdvec(&result) {
        Ok(bytes) => Outcome::Returned(bytes),
        Err(error) => Outcome::Failed(format!(
            "the worker could not encode the result (a `{}`): {error}",
            type_name::<R>()
        )),
    }
}

/// FNV-1a over the names of the function's, the argument's and the result's types.
fn fingerprint<F, A, R>() -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for name in [type_name::<F>(), type_name::<A>(), type_name::<R>()] {
        for &byte in name.as_bytes().iter().chain(&[0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash ^ size_of::<F>() as u64
}

/// An error if some of `code` lies in another loaded object than [`anchor`] (a shared
/// library, whose distance from the executable can differ in the worker).
#[cfg(not(miri))]
fn check_in_executable(code: &[*const ()]) -> Result<(), String> {
    let home = object_base(anchor as fn() as *const ());
    if code.iter().all(|&c| object_base(c) == home) {
        Ok(())
    } else {
        Err(
            "its code lies outside the program's executable (in a shared library), where \
             a worker process may have it at another address"
                .to_owned(),
        )
    }
}

/// Miri has no loader to ask; its tests call functions of one image.
#[cfg(miri)]
fn check_in_executable(_code: &[*const ()]) -> Result<(), String> {
    Ok(())
}

/// The base address of the loaded object that holds `code` (`None` if unknown).
#[cfg(not(miri))]
fn object_base(code: *const ()) -> Option<usize> {
    let mut info = MaybeUninit::<libc::Dl_info>::uninit();
    // SAFETY: `dladdr` reads only the address (it never dereferences it) and writes
    // `info`, which is valid for writes; it is thread-safe.
    let found = unsafe { libc::dladdr(code.cast(), info.as_mut_ptr()) };
    if found == 0 {
        return None;
    }
    // SAFETY: `dladdr` returned non-zero, so it filled `info`.
    let info = unsafe { info.assume_init() };
    Some(info.dli_fbase as usize)
}

/// Makes the child started by `command` keep descriptor `fd` open across `exec` (every
/// descriptor of this library is close-on-exec, so no other child inherits it).
pub(crate) fn inherit_in_child(command: &mut Command, fd: RawFd) {
    // SAFETY: the hook runs in the forked child before `exec`, where only async-signal-safe
    // functions may be called: it calls `fcntl` twice and reads `errno`, touching no memory
    // but its captured integer (no allocation, no lock). `fd` is open at the fork, since
    // the caller keeps its end alive until `spawn` returns.
    unsafe {
        command.pre_exec(move || {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags == -1 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Takes ownership of the worker's end of the socket, descriptor `fd`, inherited from the
/// parent, and makes it close-on-exec again (so that the function's own child processes
/// do not hold it open).
///
/// # Errors
///
/// If `fd` is a standard stream, is not an open socket, or was adopted already.
pub(crate) fn adopt_inherited_socket(fd: RawFd) -> io::Result<UnixStream> {
    static ADOPTED: AtomicBool = AtomicBool::new(false);
    let refuse = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("descriptor {fd} {why}"),
        )
    };
    if fd < 3 {
        return Err(refuse("is a standard stream"));
    }
    let mut stat = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `fstat` only writes `stat`, which is valid for writes; a number that is not
    // an open descriptor gives EBADF.
    if unsafe { libc::fstat(fd, stat.as_mut_ptr()) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fstat` succeeded, so it filled `stat`.
    let stat = unsafe { stat.assume_init() };
    if stat.st_mode & libc::S_IFMT != libc::S_IFSOCK {
        return Err(refuse("is not a socket"));
    }
    if ADOPTED.swap(true, Ordering::SeqCst) {
        return Err(refuse("was adopted already"));
    }
    // SAFETY: the descriptor is open (fstat succeeded) and is the one this process
    // inherited from the parent that named it in the worker-mode variable (the caller
    // checked that the variable is addressed to this process): no code of this process
    // opened it, so nothing else owns it, and `ADOPTED` makes this the only adoption.
    let socket = UnixStream::from(unsafe { OwnedFd::from_raw_fd(fd) });
    rustix::io::fcntl_setfd(&socket, rustix::io::FdFlags::CLOEXEC)?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    //! The parent's encoding and the worker's decoding of functions, in one process:
    //! these run under Miri (`cargo +nightly miri test -p anyio --lib os::code`).

    use super::*;

    fn double(x: i32) -> i32 {
        x * 2
    }

    fn length(text: String) -> usize {
        text.len()
    }

    fn round_trip<F, A, R>(func: F, argument: A) -> Outcome
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + 'static,
    {
        let code = code_ref(&func).unwrap();
        // What crosses the socket: plain integers.
        let code = CodeRef {
            trampoline: std::hint::black_box(code.trampoline),
            function: std::hint::black_box(code.function),
            fingerprint: code.fingerprint,
        };
        let input = postcard::to_stdvec(&argument).unwrap();
        call(&own_stamp(), &code, &input)
    }

    fn returned<R: DeserializeOwned>(outcome: Outcome) -> R {
        match outcome {
            Outcome::Returned(bytes) => postcard::from_bytes(&bytes).unwrap(),
            other => panic!("expected a result, got {other:?}"),
        }
    }

    #[test]
    fn a_function_item_crosses_as_its_trampoline() {
        let code = code_ref(&double).unwrap();
        assert_eq!(code.function, 0);
        assert_eq!(returned::<i32>(round_trip(double, 21)), 42);
    }

    #[test]
    fn a_fn_pointer_crosses_as_an_offset() {
        let pointer: fn(String) -> usize = length;
        let code = code_ref(&pointer).unwrap();
        assert_ne!(code.function, 0);
        assert_eq!(returned::<usize>(round_trip(pointer, "four".to_owned())), 4);
    }

    #[test]
    fn a_closure_that_captures_nothing_crosses() {
        let sum = |numbers: Vec<u64>| numbers.iter().sum::<u64>();
        assert_eq!(returned::<u64>(round_trip(sum, vec![1, 2, 3])), 6);
    }

    #[test]
    fn a_capturing_closure_is_refused() {
        let offset = 5;
        let add = move |x: i32| x + offset;
        let error = code_ref(&add).unwrap_err();
        assert!(error.contains("captures variables"), "{error}");
    }

    #[test]
    fn a_wrong_fingerprint_is_a_mismatch_naming_the_function() {
        let mut code = code_ref(&double).unwrap();
        code.fingerprint ^= 1;
        let input = postcard::to_stdvec(&1i32).unwrap();
        match call(&own_stamp(), &code, &input) {
            Outcome::Mismatch(message) => assert!(message.contains("double"), "{message}"),
            other => panic!("expected a mismatch, got {other:?}"),
        }
    }

    #[test]
    fn another_stamp_is_a_mismatch() {
        let code = code_ref(&double).unwrap();
        let mut stamp = own_stamp();
        stamp.probe += 16;
        assert!(matches!(call(&stamp, &code, &[2]), Outcome::Mismatch(_)));
    }

    #[test]
    fn an_argument_that_does_not_decode_fails() {
        let code = code_ref(&length).unwrap();
        match call(&own_stamp(), &code, &[200]) {
            Outcome::Failed(message) => assert!(message.contains("String"), "{message}"),
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}
