//! Time, passed in rather than read deep inside, so tests can run day 1, day 2, day 3 at once.

use chrono::{DateTime, Local, NaiveDate, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// Today's date where the user is (local time).
    fn today(&self) -> NaiveDate;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn today(&self) -> NaiveDate {
        Local::now().date_naive()
    }
}

/// A clock that always reads the same instant; its "today" is that instant's UTC date.
pub struct FixedClock(pub DateTime<Utc>);

impl FixedClock {
    /// Noon UTC on `date`.
    pub fn on(date: NaiveDate) -> FixedClock {
        FixedClock(date.and_hms_opt(12, 0, 0).expect("noon exists").and_utc())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }

    fn today(&self) -> NaiveDate {
        self.0.date_naive()
    }
}
