//! Time, passed in rather than read deep inside, so tests can run day 1, day 2, day 3 at once.
//! What date an instant falls on is the organisation's time zone's business (`zone`).

use chrono::{DateTime, NaiveDate, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that always reads the same instant.
pub struct FixedClock(pub DateTime<Utc>);

impl FixedClock {
    /// Noon UTC on `date`: the same date in every zone from UTC−11 to UTC+11.
    pub fn on(date: NaiveDate) -> FixedClock {
        FixedClock(date.and_hms_opt(12, 0, 0).expect("noon exists").and_utc())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}
