//! The alert rules (SPEC "Alert rules"): missed-day streaks, days without a login, severity.
//!
//! `streak_at` is the definition: walk back over an enrollment's session days from a date until a
//! `present` day. `Streak::after` is the incremental rule the daily job uses to carry yesterday's
//! streak forward by one session day; property tests hold the two equal.

use super::calendar::EnrollmentDays;
use super::text_enum;
use super::{AttendanceStatus, Verification};
use chrono::NaiveDate;

text_enum! {
    AlertType, "alert type" {
        MissingAttendance = "missing_attendance",
        NoLogin = "no_login",
    }
}

text_enum! {
    /// In rising order, so `max` picks the most severe.
    Severity, "severity" {
        Warn = "warn",
        Escalate = "escalate",
        Critical = "critical",
    }
}

impl Severity {
    /// A mark that reads without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Severity::Warn => "!",
            Severity::Escalate => "!!",
            Severity::Critical => "!!!",
        }
    }
}

text_enum! {
    AlertStatus, "alert status" {
        Open = "open",
        Acknowledged = "acknowledged",
        Snoozed = "snoozed",
        Resolved = "resolved",
    }
}

/// The numbers the alerts table stores these words as (docs/alerts-storage.md). They are on
/// disk in every muster file: a word keeps its number for good, and a new word takes a new one.
pub trait StoredCode: Sized + Copy + 'static {
    /// Every word with its number.
    const CODES: &'static [(Self, i64)];

    fn code(self) -> i64
    where
        Self: PartialEq,
    {
        Self::CODES.iter().find(|(word, _)| *word == self).map_or(0, |&(_, code)| code)
    }

    fn from_code(code: i64) -> Option<Self> {
        Self::CODES.iter().find(|&&(_, c)| c == code).map(|&(word, _)| word)
    }
}

impl StoredCode for AlertType {
    const CODES: &'static [(AlertType, i64)] = &[(AlertType::MissingAttendance, 1), (AlertType::NoLogin, 2)];
}

/// A severity's number is its rank: the most severe sorts first in `severity DESC`.
impl StoredCode for Severity {
    const CODES: &'static [(Severity, i64)] = &[(Severity::Warn, 1), (Severity::Escalate, 2), (Severity::Critical, 3)];
}

impl StoredCode for AlertStatus {
    const CODES: &'static [(AlertStatus, i64)] = &[
        (AlertStatus::Open, 1),
        (AlertStatus::Acknowledged, 2),
        (AlertStatus::Snoozed, 3),
        (AlertStatus::Resolved, 4),
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Thresholds {
    pub warn: u32,
    pub escalate: u32,
    pub critical: u32,
}

impl Thresholds {
    pub fn check(&self) -> Result<(), String> {
        if self.warn >= 1 && self.warn <= self.escalate && self.escalate <= self.critical {
            Ok(())
        } else {
            Err(format!(
                "thresholds must satisfy 1 <= warn <= escalate <= critical (got {}, {}, {})",
                self.warn, self.escalate, self.critical
            ))
        }
    }

    /// The highest threshold `count` reaches, if any.
    pub fn severity(&self, count: u32) -> Option<Severity> {
        if count >= self.critical {
            Some(Severity::Critical)
        } else if count >= self.escalate {
            Some(Severity::Escalate)
        } else if count >= self.warn {
            Some(Severity::Warn)
        } else {
            None
        }
    }
}

/// What one session day counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayMark {
    Present,
    /// Skipped over: neither missed nor the end of a streak.
    Excused,
    /// Absent, rejected by a verifier, or nothing recorded.
    Missed,
}

impl DayMark {
    /// A record's mark: a rejected record counts as missed; a `present` one counts from the moment
    /// it is logged, verified or not.
    pub fn of(status: AttendanceStatus, verification: Verification) -> DayMark {
        match (status, verification) {
            (_, Verification::Rejected) | (AttendanceStatus::Absent, _) => DayMark::Missed,
            (AttendanceStatus::Present, _) => DayMark::Present,
            (AttendanceStatus::Excused, _) => DayMark::Excused,
        }
    }
}

/// Consecutive missed session days, and the first of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Streak {
    pub count: u32,
    pub first_missed: Option<NaiveDate>,
}

impl Streak {
    /// The streak one session day later, given how that day counts.
    pub fn after(self, day: NaiveDate, mark: DayMark) -> Streak {
        match mark {
            DayMark::Present => Streak::default(),
            DayMark::Excused => self,
            DayMark::Missed => Streak { count: self.count + 1, first_missed: self.first_missed.or(Some(day)) },
        }
    }
}

/// `streak(E, D)` by definition: walking back from the last session day on or before `day`,
/// count session days with no `present` record, skipping excused ones, stopping at the first
/// present day or the enrollment's start. `records` are the enrollment's attendance marks in
/// descending date order (days after `day` are ignored; days without a record are missed).
pub fn streak_at(
    days: &EnrollmentDays,
    day: NaiveDate,
    records: impl IntoIterator<Item = (NaiveDate, DayMark)>,
) -> Streak {
    let mut records = records.into_iter().peekable();
    let mut streak = Streak::default();
    let mut current = days.session_day_on_or_before(day);
    while let Some(session_day) = current {
        while records.next_if(|(date, _)| *date > session_day).is_some() {}
        let mark = records.next_if(|(date, _)| *date == session_day).map_or(DayMark::Missed, |(_, mark)| mark);
        match mark {
            DayMark::Present => break,
            DayMark::Excused => {}
            DayMark::Missed => {
                streak.count += 1;
                streak.first_missed = Some(session_day);
            }
        }
        current = days.session_day_before(session_day);
    }
    streak
}

/// Whole days from the last login on or before `day` (or, with none, from the student's earliest
/// active enrollment start) to `day`. A login from before the student was enrolled counts from
/// the start: days before enrolment are not days without a login, and a login may only ever
/// shorten the count (issue "Trust", newer than SPEC's wording).
pub fn no_login_days(last_login: Option<NaiveDate>, earliest_start: NaiveDate, day: NaiveDate) -> u32 {
    u32::try_from((day - no_login_since(last_login, earliest_start)).num_days()).unwrap_or(0)
}

/// The day a no-login count runs from.
pub fn no_login_since(last_login: Option<NaiveDate>, earliest_start: NaiveDate) -> NaiveDate {
    last_login.map_or(earliest_start, |login| login.max(earliest_start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::ProgramCalendar;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn program(schedule: &str, closures: &[&str]) -> ProgramCalendar {
        ProgramCalendar {
            schedule: schedule.parse().unwrap(),
            start: d("2026-01-01"),
            end: None,
            closures: closures.iter().map(|c| d(c)).collect(),
        }
    }

    #[test]
    fn severities_follow_the_thresholds() {
        let t = Thresholds { warn: 1, escalate: 2, critical: 3 };
        assert_eq!(t.severity(0), None);
        assert_eq!(t.severity(1), Some(Severity::Warn));
        assert_eq!(t.severity(2), Some(Severity::Escalate));
        assert_eq!(t.severity(9), Some(Severity::Critical));
        assert!(Thresholds { warn: 3, escalate: 2, critical: 4 }.check().is_err());
        assert!(Thresholds { warn: 0, escalate: 2, critical: 4 }.check().is_err());
    }

    #[test]
    fn weekends_do_not_count_and_excused_days_do_not_break_the_streak() {
        let p = program("Mon-Fri", &[]);
        let e = EnrollmentDays { program: &p, start: d("2026-01-05"), end: None };
        // Present Thursday, nothing Friday, excused Monday, nothing Tuesday.
        let records = vec![(d("2026-01-12"), DayMark::Excused), (d("2026-01-08"), DayMark::Present)];
        let s = streak_at(&e, d("2026-01-13"), records);
        assert_eq!(s, Streak { count: 2, first_missed: Some(d("2026-01-09")) });
    }

    #[test]
    fn closures_are_skipped_and_the_start_bounds_the_streak() {
        let p = program("Mon-Fri", &["2026-01-07"]);
        let e = EnrollmentDays { program: &p, start: d("2026-01-06"), end: None };
        let s = streak_at(&e, d("2026-01-08"), Vec::new());
        assert_eq!(s, Streak { count: 2, first_missed: Some(d("2026-01-06")) });
    }

    #[test]
    fn rejected_records_count_as_missed() {
        assert_eq!(DayMark::of(AttendanceStatus::Present, Verification::Rejected), DayMark::Missed);
        assert_eq!(DayMark::of(AttendanceStatus::Present, Verification::Pending), DayMark::Present);
        assert_eq!(DayMark::of(AttendanceStatus::Excused, Verification::Verified), DayMark::Excused);
    }

    #[test]
    fn no_login_days_count_from_the_last_login_or_the_start() {
        assert_eq!(no_login_days(Some(d("2026-01-05")), d("2026-01-01"), d("2026-01-12")), 7);
        assert_eq!(no_login_days(None, d("2026-01-09"), d("2026-01-12")), 3);
    }

    /// The literal definition, one day at a time, for comparison with both computations.
    fn by_definition(e: &EnrollmentDays, marks: &HashMap<NaiveDate, DayMark>, day: NaiveDate) -> u32 {
        let mut count = 0;
        let mut d = day;
        while d >= e.start {
            if e.is_session_day(d) {
                match marks.get(&d).copied().unwrap_or(DayMark::Missed) {
                    DayMark::Present => break,
                    DayMark::Excused => {}
                    DayMark::Missed => count += 1,
                }
            }
            d = d.pred_opt().unwrap();
        }
        count
    }

    fn mark_strategy() -> impl Strategy<Value = Option<DayMark>> {
        prop_oneof![
            4 => Just(Some(DayMark::Present)),
            1 => Just(Some(DayMark::Excused)),
            2 => Just(Some(DayMark::Missed)),
            2 => Just(None),
        ]
    }

    proptest! {
        #[test]
        fn incremental_equals_the_definition(
            schedule_bits in 1u8..128,
            closure_offsets in proptest::collection::vec(0u64..80, 0..6),
            start_offset in 0u64..10,
            length in proptest::option::of(20u64..80),
            history in proptest::collection::vec(mark_strategy(), 80),
        ) {
            let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            let schedule: Vec<&str> = (0..7).filter(|i| schedule_bits & (1 << i) != 0).map(|i| names[i]).collect();
            let base = d("2026-01-01");
            let p = ProgramCalendar {
                schedule: schedule.join(",").parse().unwrap(),
                start: base,
                end: None,
                closures: closure_offsets.iter().map(|o| base + chrono::Days::new(*o)).collect(),
            };
            let start = base + chrono::Days::new(start_offset);
            let e = EnrollmentDays { program: &p, start, end: length.map(|l| start + chrono::Days::new(l)) };
            let marks: HashMap<NaiveDate, DayMark> = history
                .iter()
                .enumerate()
                .filter_map(|(i, m)| m.map(|m| (base + chrono::Days::new(i as u64), m)))
                .collect();
            let mut descending: Vec<(NaiveDate, DayMark)> = marks.iter().map(|(d, m)| (*d, *m)).collect();
            descending.sort_by_key(|(date, _)| std::cmp::Reverse(*date));

            let mut carried = Streak::default();
            for offset in 0..80 {
                let day = base + chrono::Days::new(offset);
                if !e.is_session_day(day) {
                    continue;
                }
                carried = carried.after(day, marks.get(&day).copied().unwrap_or(DayMark::Missed));
                let walked = streak_at(&e, day, descending.iter().copied());
                prop_assert_eq!(carried, walked, "on {}", day);
                prop_assert_eq!(walked.count, by_definition(&e, &marks, day));
            }
        }
    }
}
