//! `IntoDuration`: the delays every deadline and sleep accepts.

use std::time::Duration;

/// A delay given as a [`Duration`] or as seconds (`f64`, `f32`, or an integer).
///
/// Negative seconds mean "already expired" (zero); infinite seconds, `Duration::MAX` and
/// `None` mean "never". Lets every deadline function take `1.5`, `2` or
/// `Duration::from_millis(10)`.
///
/// **Plain numbers are seconds**, as in AnyIO: `fail_after(1000, ..)` is a deadline of
/// 1000 seconds (about 17 minutes), not 1000 milliseconds; write
/// `Duration::from_millis(1000)` or `1.0` for one second.
///
/// # Panics
///
/// Converting a NaN number of seconds panics: it is not a delay.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use anyio::IntoDuration;
///
/// assert_eq!(1.5.into_duration(), Duration::from_millis(1500));
/// assert_eq!(2.into_duration(), Duration::from_secs(2));
/// assert_eq!((-1.0).into_duration(), Duration::ZERO);
/// assert_eq!(None::<f64>.into_duration(), Duration::MAX);
/// ```
pub trait IntoDuration {
    /// The delay as a `Duration`; `Duration::MAX` means "never".
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use anyio::IntoDuration;
    ///
    /// assert_eq!(0.25.into_duration(), Duration::from_millis(250));
    /// assert_eq!(Duration::from_millis(10).into_duration(), Duration::from_millis(10));
    /// assert_eq!(f64::INFINITY.into_duration(), Duration::MAX); // never
    /// ```
    fn into_duration(self) -> Duration;
}

impl IntoDuration for Duration {
    fn into_duration(self) -> Duration {
        self
    }
}

impl IntoDuration for f64 {
    fn into_duration(self) -> Duration {
        assert!(!self.is_nan(), "a delay of NaN seconds is not a delay");
        if self <= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(self).unwrap_or(Duration::MAX)
        }
    }
}

impl IntoDuration for f32 {
    fn into_duration(self) -> Duration {
        f64::from(self).into_duration()
    }
}

macro_rules! integer_seconds {
    ($($t:ty),*) => {$(
        impl IntoDuration for $t {
            fn into_duration(self) -> Duration {
                Duration::from_secs(u64::try_from(self).unwrap_or(0))
            }
        }
    )*};
}
integer_seconds!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl<T: IntoDuration> IntoDuration for Option<T> {
    fn into_duration(self) -> Duration {
        self.map_or(Duration::MAX, IntoDuration::into_duration)
    }
}
