//! Time, injected so that tests can move it.

use time::OffsetDateTime;

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The real clock, to the millisecond (finer digits would only clutter every timestamp).
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        let millis = now.millisecond();
        now.replace_millisecond(millis).unwrap_or(now)
    }
}
