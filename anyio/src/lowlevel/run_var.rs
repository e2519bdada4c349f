//! `RunVar`: a variable with one value per runtime.

use std::fmt;
use std::marker::PhantomData;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, ErrorKind, Result};
use crate::from_thread::host::runtime_of_this_thread;
use crate::runtime::run_vars::RunVarValues;

/// The values set outside any anyio runtime (code run by another executor).
static OUTSIDE_ANY_RUNTIME: LazyLock<RunVarValues> = LazyLock::new(RunVarValues::default);

/// Hands out the ids of variables (0: not yet given one).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A variable with one value per runtime, shared by every task of that runtime (unlike a
/// task-local), and usable in a `static`: AnyIO's `RunVar`.
///
/// A value set in one task is seen by every other task of the same runtime, and by the
/// `to_thread` jobs they start; a new runtime starts with no value (or the variable's
/// default). Code that runs outside any anyio runtime (under another executor) shares
/// one process-wide set of values. A runtime drops its values when it is dropped.
///
/// # Examples
///
/// ```
/// use anyio::lowlevel::RunVar;
///
/// static REQUESTS: RunVar<u64> = RunVar::with_default("requests", 0);
///
/// anyio::run(async {
///     assert_eq!(REQUESTS.get().unwrap(), 0);
///     anyio::task_group!(|tg| {
///         tg.start_soon(async { drop(REQUESTS.set(REQUESTS.get().unwrap() + 1)) });
///     })
///     .unwrap();
///     assert_eq!(REQUESTS.get().unwrap(), 1); // set by the child, seen by the host
/// });
/// anyio::run(async { assert_eq!(REQUESTS.get().unwrap(), 0) }); // a new runtime
/// ```
pub struct RunVar<T> {
    name: &'static str,
    default: Option<T>,
    id: AtomicU64,
}

impl<T> fmt::Debug for RunVar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunVar").field("name", &self.name).finish()
    }
}

/// What [`RunVar::set`] replaced; [`RunVar::reset`] puts it back. Dropping the token
/// does nothing.
///
/// # Examples
///
/// ```
/// use anyio::lowlevel::RunVar;
///
/// static LEVEL: RunVar<u32> = RunVar::with_default("level", 3);
///
/// anyio::run(async {
///     let outer = LEVEL.set(5);
///     let inner = LEVEL.set(4);
///     assert_eq!(LEVEL.get().unwrap(), 4);
///     LEVEL.reset(inner).unwrap();
///     assert_eq!(LEVEL.get().unwrap(), 5);
///     LEVEL.reset(outer).unwrap();
///     assert_eq!(LEVEL.get().unwrap(), 3); // back to the default
/// });
/// ```
#[must_use = "the token is needed to reset the variable; drop it if you never will"]
pub struct RunVarToken<T> {
    var_id: u64,
    var_name: &'static str,
    previous: Option<T>,
    _value: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for RunVarToken<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunVarToken")
            .field("var", &self.var_name)
            .field("had_value", &self.previous.is_some())
            .finish()
    }
}

impl<T> RunVar<T> {
    /// A variable with no default: [`get`](RunVar::get) fails until a value is set.
    ///
    /// # Examples
    ///
    /// ```
    /// static CONFIG: anyio::lowlevel::RunVar<String> = anyio::lowlevel::RunVar::new("config");
    ///
    /// anyio::run(async {
    ///     assert!(CONFIG.get().is_err());
    ///     let _ = CONFIG.set("debug".to_owned());
    ///     assert_eq!(CONFIG.get().unwrap(), "debug");
    /// });
    /// ```
    pub const fn new(name: &'static str) -> RunVar<T> {
        RunVar {
            name,
            default: None,
            id: AtomicU64::new(0),
        }
    }

    /// A variable whose value is `default` until one is set.
    ///
    /// # Examples
    ///
    /// ```
    /// static RETRIES: anyio::lowlevel::RunVar<u8> = anyio::lowlevel::RunVar::with_default("retries", 3);
    ///
    /// anyio::run(async { assert_eq!(RETRIES.get().unwrap(), 3) });
    /// ```
    pub const fn with_default(name: &'static str, default: T) -> RunVar<T> {
        RunVar {
            name,
            default: Some(default),
            id: AtomicU64::new(0),
        }
    }

    /// The variable's name.
    ///
    /// # Examples
    ///
    /// ```
    /// static V: anyio::lowlevel::RunVar<i32> = anyio::lowlevel::RunVar::new("v");
    /// assert_eq!(V.name(), "v");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// This variable's key in the per-runtime maps, given on first use.
    fn id(&self) -> u64 {
        let id = self.id.load(Ordering::Acquire);
        if id != 0 {
            return id;
        }
        let fresh = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        match self
            .id
            .compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => fresh,
            Err(taken) => taken,
        }
    }
}

/// Calls `f` with the values of the runtime that the calling code runs in.
fn with_values<R>(f: impl FnOnce(&RunVarValues) -> R) -> R {
    match runtime_of_this_thread() {
        Some(runtime) => f(&runtime.run_vars),
        None => f(&OUTSIDE_ANY_RUNTIME),
    }
}

impl<T: Clone + Send + Sync + 'static> RunVar<T> {
    /// The value in the current runtime, or the default.
    ///
    /// # Errors
    ///
    /// An error of kind [`Other`](ErrorKind::Other) naming the variable when it has
    /// neither a value nor a default.
    ///
    /// # Examples
    ///
    /// ```
    /// static V: anyio::lowlevel::RunVar<i32> = anyio::lowlevel::RunVar::new("v");
    ///
    /// anyio::run(async {
    ///     let err = V.get().unwrap_err();
    ///     assert!(err.message().contains("`v`"));
    ///     let _token = V.set(1);
    ///     assert_eq!(V.get().unwrap(), 1);
    /// });
    /// ```
    pub fn get(&self) -> Result<T> {
        let id = self.id();
        let value = with_values(|values| values.get(id));
        let value = value.and_then(|value| value.downcast_ref::<T>().cloned());
        value.or_else(|| self.default.clone()).ok_or_else(|| {
            Error::new(
                ErrorKind::Other,
                format!(
                    "the RunVar `{}` has no value in this runtime and no default",
                    self.name
                ),
            )
        })
    }

    /// The value in the current runtime, or the variable's default, or else `default`.
    ///
    /// # Examples
    ///
    /// ```
    /// static V: anyio::lowlevel::RunVar<&str> = anyio::lowlevel::RunVar::new("v");
    /// anyio::run(async { assert_eq!(V.get_or("fallback"), "fallback") });
    /// ```
    pub fn get_or(&self, default: T) -> T {
        self.get().unwrap_or(default)
    }

    /// Sets the value in the current runtime; the token puts back the one it replaced.
    ///
    /// # Examples
    ///
    /// ```
    /// static V: anyio::lowlevel::RunVar<i32> = anyio::lowlevel::RunVar::new("v");
    ///
    /// anyio::run(async {
    ///     let token = V.set(1);
    ///     V.reset(token).unwrap();
    ///     assert!(V.get().is_err()); // no value again
    /// });
    /// ```
    pub fn set(&self, value: T) -> RunVarToken<T> {
        let id = self.id();
        let replaced = with_values(|values| values.replace(id, Some(std::sync::Arc::new(value))));
        RunVarToken {
            var_id: id,
            var_name: self.name,
            previous: replaced.and_then(|old| old.downcast_ref::<T>().cloned()),
            _value: PhantomData,
        }
    }

    /// Puts back the value that `token`'s [`set`](RunVar::set) replaced (or no value).
    ///
    /// # Errors
    ///
    /// An error of kind [`Other`](ErrorKind::Other) when the token belongs to another
    /// variable (it is not used then).
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::lowlevel::RunVar;
    ///
    /// static A: RunVar<i32> = RunVar::new("a");
    /// static B: RunVar<i32> = RunVar::new("b");
    ///
    /// anyio::run(async {
    ///     let token = A.set(1);
    ///     let err = B.reset(token).unwrap_err();
    ///     assert!(err.message().contains("belongs to the RunVar `a`"));
    /// });
    /// ```
    pub fn reset(&self, token: RunVarToken<T>) -> Result<()> {
        let id = self.id();
        if token.var_id != id {
            return Err(Error::new(
                ErrorKind::Other,
                format!(
                    "this token belongs to the RunVar `{}`, not to `{}`",
                    token.var_name, self.name
                ),
            ));
        }
        let previous = token
            .previous
            .map(|value| std::sync::Arc::new(value) as crate::runtime::run_vars::Value);
        let replaced = with_values(|values| values.replace(id, previous));
        drop(replaced);
        Ok(())
    }
}
