//! Session days: when a program meets, and which of those days belong to an enrollment.
//!
//! A program meets on its schedule's weekdays between its start and end dates, except on its
//! closure dates. An enrollment's session days are the program's session days within the
//! enrollment's own start and end dates (SPEC "Session days").

use super::Schedule;
use chrono::{Datelike, NaiveDate};
use std::collections::HashSet;

#[derive(Debug, Clone)]
pub struct ProgramCalendar {
    pub schedule: Schedule,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub closures: HashSet<NaiveDate>,
}

impl ProgramCalendar {
    pub fn is_session_day(&self, day: NaiveDate) -> bool {
        day >= self.start
            && self.end.is_none_or(|end| day <= end)
            && self.schedule.meets_on(day.weekday())
            && !self.closures.contains(&day)
    }
}

/// The session days of one enrollment.
#[derive(Debug, Clone, Copy)]
pub struct EnrollmentDays<'a> {
    pub program: &'a ProgramCalendar,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

impl EnrollmentDays<'_> {
    fn first_day(&self) -> NaiveDate {
        self.start.max(self.program.start)
    }

    pub fn is_session_day(&self, day: NaiveDate) -> bool {
        day >= self.start && self.end.is_none_or(|end| day <= end) && self.program.is_session_day(day)
    }

    /// The latest session day on or before `day`.
    pub fn session_day_on_or_before(&self, day: NaiveDate) -> Option<NaiveDate> {
        let last = self.end.map_or(day, |end| end.min(day));
        let first = self.first_day();
        let mut candidate = last;
        while candidate >= first {
            if self.is_session_day(candidate) {
                return Some(candidate);
            }
            candidate = candidate.pred_opt()?;
        }
        None
    }

    /// How many session days fall from the enrollment's start through `through`.
    pub fn session_days_through(&self, through: NaiveDate) -> u32 {
        let last = self.end.map_or(through, |end| end.min(through));
        self.first_day().iter_days().take_while(|d| *d <= last).filter(|d| self.is_session_day(*d)).count() as u32
    }

    /// The latest session day strictly before `day`.
    pub fn session_day_before(&self, day: NaiveDate) -> Option<NaiveDate> {
        self.session_day_on_or_before(day.pred_opt()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn weekdays() -> ProgramCalendar {
        ProgramCalendar {
            schedule: "Mon-Fri".parse().unwrap(),
            start: d("2026-01-05"),
            end: Some(d("2026-06-30")),
            closures: [d("2026-01-19")].into_iter().collect(),
        }
    }

    #[test]
    fn weekends_closures_and_program_dates_are_not_session_days() {
        let p = weekdays();
        assert!(p.is_session_day(d("2026-01-05")));
        assert!(!p.is_session_day(d("2026-01-10")), "Saturday");
        assert!(!p.is_session_day(d("2026-01-19")), "closure");
        assert!(!p.is_session_day(d("2026-01-02")), "before the program starts");
        assert!(!p.is_session_day(d("2026-07-01")), "after it ends");
    }

    #[test]
    fn enrollments_see_only_their_own_dates() {
        let p = weekdays();
        let e = EnrollmentDays { program: &p, start: d("2026-01-07"), end: Some(d("2026-01-21")) };
        assert!(!e.is_session_day(d("2026-01-06")));
        assert!(e.is_session_day(d("2026-01-07")));
        assert!(!e.is_session_day(d("2026-01-22")));
        assert_eq!(e.session_day_before(d("2026-01-12")), Some(d("2026-01-09")), "Monday looks back to Friday");
        assert_eq!(e.session_day_before(d("2026-01-20")), Some(d("2026-01-16")), "skips the closure");
        assert_eq!(e.session_day_before(d("2026-01-07")), None, "nothing before the start");
        assert_eq!(e.session_day_on_or_before(d("2026-02-10")), Some(d("2026-01-21")), "stops at the end");
    }
}
