//! The runtime's clock: the system's monotonic clock, or a [`MockClock`] that tests
//! move by hand (`jump`), at a rate of their choosing (`set_rate`), or by itself to the
//! next deadline whenever every task is blocked (`autojump_threshold`).
//!
//! Every reading of "now" inside anyio (`current_time`, `sleep`, deadlines) goes
//! through [`now`]. With no mock clock anywhere in the process, that is one relaxed
//! atomic load and `Instant::now()`.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::base::duration::IntoDuration;
use crate::base::lock::lock;
use crate::runtime::RuntimeShared;

/// How many runtimes with a mock clock exist: while none does, `now` skips the lookup.
static MOCK_RUNTIMES: AtomicUsize = AtomicUsize::new(0);

/// "Now" for the code being polled: the clock of its runtime.
#[inline]
pub(crate) fn now() -> Instant {
    if MOCK_RUNTIMES.load(Ordering::Relaxed) == 0 {
        return Instant::now();
    }
    crate::runtime::with_current_runtime(|runtime| runtime.clock.now()).unwrap_or_else(Instant::now)
}

/// Work in flight that the clock must not jump over (a worker-process call).
static HOLDS: AtomicUsize = AtomicUsize::new(0);

/// Whether something holds the clock (autojump waits).
pub(crate) fn held() -> bool {
    HOLDS.load(Ordering::Acquire) > 0
}

/// Keeps autojump from moving any mock clock while alive.
pub(crate) struct ClockHold;

impl ClockHold {
    pub(crate) fn new() -> ClockHold {
        HOLDS.fetch_add(1, Ordering::AcqRel);
        ClockHold
    }
}

impl Drop for ClockHold {
    fn drop(&mut self) {
        HOLDS.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The current runtime, if its clock is a mock one.
pub(crate) fn mock_runtime() -> Option<Arc<RuntimeShared>> {
    if MOCK_RUNTIMES.load(Ordering::Relaxed) == 0 {
        return None;
    }
    crate::runtime::current_runtime().filter(|runtime| runtime.clock.mock().is_some())
}

/// A runtime's clock.
#[derive(Clone, Default)]
pub(crate) enum Clock {
    #[default]
    System,
    Mock(MockClock),
}

impl Clock {
    pub(crate) fn now(&self) -> Instant {
        match self {
            Clock::System => Instant::now(),
            Clock::Mock(mock) => mock.now(),
        }
    }

    pub(crate) fn mock(&self) -> Option<&MockClock> {
        match self {
            Clock::System => None,
            Clock::Mock(mock) => Some(mock),
        }
    }
}

/// Counts a runtime with a mock clock while alive.
pub(crate) struct MockRuntimeGuard;

impl MockRuntimeGuard {
    pub(crate) fn new() -> MockRuntimeGuard {
        MOCK_RUNTIMES.fetch_add(1, Ordering::Relaxed);
        MockRuntimeGuard
    }
}

impl Drop for MockRuntimeGuard {
    fn drop(&mut self) {
        MOCK_RUNTIMES.fetch_sub(1, Ordering::Relaxed);
    }
}

struct MockState {
    /// Virtual time at `real_base`; it moves at `rate` from there.
    virtual_base: Instant,
    real_base: Instant,
    rate: f64,
    autojump: Option<Duration>,
}

struct MockShared {
    state: Mutex<MockState>,
    /// The runtime whose timers this clock drives (set by `Builder::clock`).
    runtime: Mutex<Option<Weak<RuntimeShared>>>,
}

/// A clock for tests, given to a runtime with [`Builder::clock`](crate::Builder::clock)
/// (or by `#[anyio::test(autojump)]`): `current_time()`, `sleep`, and every deadline of
/// that runtime follow it.
///
/// A new clock stands still (rate 0) at the moment it was made, and does not jump by
/// itself until told to. It moves:
/// - by [`jump`](MockClock::jump): at once, by exactly the given amount; sleepers and
///   deadlines that are due then fire;
/// - at [`set_rate`](MockClock::set_rate) virtual seconds per real second;
/// - by itself, with [`autojump_threshold`](MockClock::autojump_threshold): whenever
///   every task of the runtime has been blocked for that long (real time), straight to
///   the next deadline. A test that sleeps an hour, or waits for a 30 s timeout, then
///   finishes in milliseconds.
///
/// **What still takes real time.** I/O readiness comes from the operating system, and
/// threads run at their own speed. The clock does not jump while a `to_thread` job or
/// a worker-process call is in flight. A task waiting on a socket counts as blocked,
/// though: a test that mixes real I/O with autojump should give a threshold long enough
/// for its I/O (a few milliseconds on loopback), or a deadline may fire first.
///
/// `MockClock` is a handle: clones control the same clock.
///
/// # Examples
///
/// ```
/// use anyio::testing::MockClock;
///
/// let clock = MockClock::new();
/// let runtime = anyio::Runtime::builder().clock(clock.clone()).build().unwrap();
/// runtime.block_on(async {
///     let start = anyio::current_time();
///     anyio::task_group!(|tg| {
///         tg.start_soon(anyio::sleep(3600)); // an hour
///         anyio::wait_all_tasks_blocked().await;
///         clock.jump(3600); // ... passes at once
///     })
///     .unwrap();
///     assert_eq!(anyio::current_time() - start, std::time::Duration::from_secs(3600));
/// });
/// ```
#[derive(Clone)]
pub struct MockClock {
    shared: Arc<MockShared>,
}

impl fmt::Debug for MockClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("MockClock")
            .field("rate", &state.rate)
            .field("autojump", &state.autojump)
            .finish_non_exhaustive()
    }
}

impl Default for MockClock {
    fn default() -> Self {
        MockClock::new()
    }
}

impl MockClock {
    /// A clock standing still at the current moment, without autojump.
    ///
    /// # Examples
    ///
    /// ```
    /// let clock = anyio::testing::MockClock::new();
    /// let before = clock.now();
    /// std::thread::sleep(std::time::Duration::from_millis(5));
    /// assert_eq!(clock.now(), before); // rate 0: time moves only when told
    /// ```
    pub fn new() -> MockClock {
        let real = Instant::now();
        MockClock {
            shared: Arc::new(MockShared {
                state: Mutex::new(MockState {
                    virtual_base: real,
                    real_base: real,
                    rate: 0.0,
                    autojump: None,
                }),
                runtime: Mutex::new(None),
            }),
        }
    }

    /// The clock's current time.
    ///
    /// # Examples
    ///
    /// ```
    /// let clock = anyio::testing::MockClock::new();
    /// let start = clock.now();
    /// clock.jump(2);
    /// assert_eq!(clock.now() - start, std::time::Duration::from_secs(2));
    /// ```
    pub fn now(&self) -> Instant {
        let state = lock(&self.shared.state);
        virtual_now(&state, Instant::now())
    }

    /// Moves the clock forward by `delay` at once; what falls due fires.
    ///
    /// # Examples
    ///
    /// ```
    /// let clock = anyio::testing::MockClock::new();
    /// let start = clock.now();
    /// clock.jump(0.25);
    /// assert_eq!(clock.now() - start, std::time::Duration::from_millis(250));
    /// ```
    pub fn jump(&self, delay: impl IntoDuration) {
        let delay = delay.into_duration();
        {
            let mut state = lock(&self.shared.state);
            rebase(&mut state);
            state.virtual_base = state
                .virtual_base
                .checked_add(delay)
                .unwrap_or(state.virtual_base);
        }
        self.notify();
    }

    /// Virtual seconds per real second from now on (0: the clock stands still; 1: real
    /// speed; 10: ten times faster).
    ///
    /// # Panics
    ///
    /// Panics if `rate` is negative or not finite.
    ///
    /// # Examples
    ///
    /// ```
    /// let clock = anyio::testing::MockClock::new();
    /// clock.set_rate(1000.0);
    /// let start = clock.now();
    /// std::thread::sleep(std::time::Duration::from_millis(2));
    /// assert!(clock.now() - start >= std::time::Duration::from_secs(2));
    /// ```
    pub fn set_rate(&self, rate: f64) {
        assert!(
            rate.is_finite() && rate >= 0.0,
            "a MockClock's rate is a finite number of virtual seconds per real second, 0 or \
             more; got {rate}"
        );
        {
            let mut state = lock(&self.shared.state);
            rebase(&mut state);
            state.rate = rate;
        }
        self.notify();
    }

    /// Makes the clock jump to the next deadline (or sleeper) whenever every task of
    /// its runtime has been blocked for `threshold` of real time, and no thread or
    /// worker-process job is in flight. `0` jumps as soon as everything is blocked.
    /// Returns the clock, for chaining.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::testing::MockClock;
    ///
    /// let clock = MockClock::new().autojump_threshold(0);
    /// let runtime = anyio::Runtime::builder().clock(clock).build().unwrap();
    /// let timed_out = runtime.block_on(anyio::fail_after(30, anyio::sleep_forever()));
    /// assert_eq!(timed_out.unwrap_err().kind(), anyio::ErrorKind::Timeout); // in ms of real time
    /// ```
    pub fn autojump_threshold(self, threshold: impl IntoDuration) -> MockClock {
        lock(&self.shared.state).autojump = Some(threshold.into_duration());
        self.notify();
        self
    }

    /// The autojump threshold, if autojump is on.
    pub(crate) fn autojump(&self) -> Option<Duration> {
        lock(&self.shared.state).autojump
    }

    /// Real time until the clock reads `at`, at its current rate (`None`: never, unless
    /// told to move).
    pub(crate) fn real_time_until(&self, at: Instant) -> Option<Duration> {
        let state = lock(&self.shared.state);
        let now = virtual_now(&state, Instant::now());
        let left = at.saturating_duration_since(now);
        if left.is_zero() {
            Some(Duration::ZERO)
        } else if state.rate > 0.0 {
            Some(left.div_f64(state.rate))
        } else {
            None
        }
    }

    /// Jumps to `at` if it is later than now (autojump).
    pub(crate) fn advance_to(&self, at: Instant) {
        let mut state = lock(&self.shared.state);
        rebase(&mut state);
        if at > state.virtual_base {
            state.virtual_base = at;
        }
    }

    /// Ties the clock to the runtime whose timers it drives.
    pub(crate) fn attach(&self, runtime: Weak<RuntimeShared>) {
        *lock(&self.shared.runtime) = Some(runtime);
    }

    /// Tells the runtime's timer thread that the clock changed.
    fn notify(&self) {
        let runtime = lock(&self.shared.runtime).as_ref().and_then(Weak::upgrade);
        if let Some(runtime) = runtime {
            runtime.deadlines().clock_changed(self.now());
        }
    }
}

fn virtual_now(state: &MockState, real: Instant) -> Instant {
    let elapsed = real.saturating_duration_since(state.real_base);
    if state.rate == 0.0 {
        return state.virtual_base;
    }
    state
        .virtual_base
        .checked_add(elapsed.mul_f64(state.rate))
        .unwrap_or(state.virtual_base)
}

/// Folds the time elapsed at the current rate into the base.
fn rebase(state: &mut MockState) {
    let real = Instant::now();
    state.virtual_base = virtual_now(state, real);
    state.real_base = real;
}
