//! Property test of SPEC "Alert rules" on a real database: random interleavings of attendance
//! records (any status, any date up to the last processed day, back-dated edits, rejections),
//! back-dated logins and daily runs. After every step, the open `missing_attendance` and
//! `no_login` alerts must be exactly what a straightforward recomputation from SPEC's
//! definitions says for the days the job processed.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use muster::app::{Actor, App, Command, Decision, FixedClock, Quiet, identity};
use muster::app::{AttendanceDay, AttendanceEntry, ImportKind};
use muster::domain::AttendanceStatus;
use muster::domain::alerts::AlertType;
use muster::store::OpenMode;
use muster::store::activity::AttendanceFilter;
use muster::store::alerts::{AlertFilter, Direction};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Monday 5 January 2026, the first day anything happens.
fn day(offset: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5).unwrap() + Days::new(u64::from(offset))
}

const SPAN: u32 = 28;

/// Two programs (weekdays with a closure; Mon/Wed/Fri) and three enrollments, one starting late
/// and one ending early.
const FIXTURE: [(ImportKind, &str); 5] = [
    (
        ImportKind::Programs,
        "program_id,name,schedule,start_date\nP1,Welding,Mon-Fri,2026-01-05\nP2,CDL,\"Mon,Wed,Fri\",2026-01-05\n",
    ),
    (ImportKind::Closures, "program_id,date\nP1,2026-01-19\n"),
    (ImportKind::Students, "student_id,first_name,last_name\nS1,Ann,Lee\nS2,Bo,Li\nS3,Cy,Ng\n"),
    (
        ImportKind::Enrollments,
        "enrollment_id,student_id,program_id,start_date,end_date,status\n\
         E1,S1,P1,2026-01-05,,active\nE2,S2,P1,2026-01-09,,active\nE3,S3,P2,2026-01-05,2026-01-23,active\n",
    ),
    (ImportKind::Users, "login,name,role,onboarded\nws_01,Wanda Site,worksite,true\n"),
];

struct Enrollment {
    id: &'static str,
    student: &'static str,
    program: &'static str,
    start: NaiveDate,
    end: Option<NaiveDate>,
}

const ENROLLMENTS: [(&str, &str, &str, u32, Option<u32>); 3] =
    [("E1", "S1", "P1", 0, None), ("E2", "S2", "P1", 4, None), ("E3", "S3", "P2", 0, Some(18))];

fn enrollments() -> Vec<Enrollment> {
    ENROLLMENTS
        .iter()
        .map(|&(id, student, program, start, end)| Enrollment {
            id,
            student,
            program,
            start: day(start),
            end: end.map(day),
        })
        .collect()
}

/// SPEC "Session days", written out again independently of muster's calendar.
fn is_session_day(e: &Enrollment, date: NaiveDate) -> bool {
    let meets = match e.program {
        "P1" => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && date != day(14),
        _ => matches!(date.weekday(), Weekday::Mon | Weekday::Wed | Weekday::Fri),
    };
    meets && date >= e.start && e.end.is_none_or(|end| date <= end)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mark {
    Present,
    Absent,
    Excused,
    Rejected,
}

/// SPEC "Missed-day streak": consecutive session days back from `date` with no present record;
/// excused days skipped; stops at the start.
fn streak(e: &Enrollment, date: NaiveDate, records: &BTreeMap<(&str, NaiveDate), Mark>) -> u32 {
    let mut count = 0;
    let mut d = date;
    while d >= e.start {
        if is_session_day(e, d) {
            match records.get(&(e.student, d)) {
                Some(Mark::Present) => break,
                Some(Mark::Excused) => {}
                _ => count += 1,
            }
        }
        d = d.pred_opt().unwrap();
    }
    count
}

#[derive(Debug, Clone)]
enum Step {
    /// The job processes its next day (the first run starts at `first_day`).
    Run,
    /// The job catches up on its next `days` days in one run, each day reusing what the one
    /// before it read.
    CatchUp { days: u32 },
    /// A record for a student, on a day at or before the last processed day.
    Log { student: usize, back: u32, status: AttendanceStatus },
    /// A verifier rejects the record of a student on a day at or before the last processed day.
    Reject { student: usize, back: u32 },
    /// A login of a student at noon on a day at or before the last processed day.
    Login { student: usize, back: u32 },
    /// The worksite takes back its record of a student on a day (only a pending one goes).
    Retract { student: usize, back: u32 },
    /// The admin takes back a rejection (the `pick`-th rejected record, if any): it waits again.
    Reopen { pick: usize },
}

fn step() -> impl Strategy<Value = Step> {
    let status =
        prop_oneof![Just(AttendanceStatus::Present), Just(AttendanceStatus::Absent), Just(AttendanceStatus::Excused)];
    prop_oneof![
        3 => Just(Step::Run),
        1 => (2u32..6).prop_map(|days| Step::CatchUp { days }),
        4 => (0usize..3, 0u32..12, status).prop_map(|(student, back, status)| Step::Log { student, back, status }),
        1 => (0usize..3, 0u32..12).prop_map(|(student, back)| Step::Reject { student, back }),
        2 => (0usize..3, 0u32..12).prop_map(|(student, back)| Step::Login { student, back }),
        1 => (0usize..3, 0u32..12).prop_map(|(student, back)| Step::Retract { student, back }),
        2 => (0usize..8).prop_map(|pick| Step::Reopen { pick }),
    ]
}

struct World {
    app: App,
    admin: Actor,
    worksite: Actor,
    first_day: NaiveDate,
    processed: Option<NaiveDate>,
    records: BTreeMap<(&'static str, NaiveDate), Mark>,
    /// What a rejected record said before it was rejected.
    rejected_from: BTreeMap<(&'static str, NaiveDate), Mark>,
    logins: BTreeMap<&'static str, std::collections::BTreeSet<NaiveDate>>,
    dir: tempfile::TempDir,
}

impl World {
    fn new(first_day: NaiveDate) -> World {
        let dir = tempfile::tempdir().unwrap();
        let os = identity::os_account().unwrap();
        let clock = Box::new(FixedClock::on(day(SPAN + 5)));
        let mut app =
            App::open(&dir.path().join("p.db"), OpenMode::CreateIfMissing, clock, identity::this_origin(&os)).unwrap();
        let admin = app.sign_in(&os, None).unwrap().actor;
        for (kind, text) in FIXTURE {
            let batch = muster::interchange::import::read(kind, text.as_bytes(), text.len() as u64, &Quiet).unwrap();
            app.execute(&admin, Command::Import { source: "fixture".into(), batch }).unwrap();
        }
        let worksite = app.sign_in(&os, Some("ws_01")).unwrap().actor;
        // A worksite logs, so that the admin may verify or reject (four eyes); the worksite sees
        // every student.
        let worksite = Actor { person: worksite.acting_as.clone().unwrap(), acting_as: None };
        let assignments = "login,student_id\nws_01,S1\nws_01,S2\nws_01,S3\n";
        let batch =
            muster::interchange::import::read(ImportKind::Assignments, assignments.as_bytes(), 0, &Quiet).unwrap();
        app.execute(&admin, Command::Import { source: "fixture".into(), batch }).unwrap();
        World {
            app,
            admin,
            worksite,
            first_day,
            processed: None,
            records: BTreeMap::new(),
            rejected_from: BTreeMap::new(),
            logins: BTreeMap::new(),
            dir,
        }
    }

    /// The day a back-dated record lands on: before the first run, any day up to it.
    fn dated(&self, back: u32) -> NaiveDate {
        let last = self.processed.unwrap_or(self.first_day);
        last.checked_sub_days(Days::new(u64::from(back))).filter(|d| *d >= day(0)).unwrap_or(day(0))
    }

    fn apply(&mut self, step: &Step) {
        let students = ["S1", "S2", "S3"];
        match *step {
            Step::Run => {
                let next = self.processed.map_or(self.first_day, |p| p.succ_opt().unwrap());
                if next > day(SPAN) {
                    return;
                }
                self.app.execute(&self.admin, Command::RunAlerts { date: next }).unwrap();
                self.processed = Some(next);
            }
            Step::CatchUp { days } => {
                let through = match self.processed {
                    Some(p) => p + Days::new(u64::from(days)),
                    None => self.first_day + Days::new(u64::from(days - 1)),
                };
                let through = through.min(day(SPAN));
                if self.processed.is_some_and(|p| p >= through) {
                    return;
                }
                self.app.run_alerts_from(&self.admin, self.first_day, through, &Quiet).unwrap();
                self.processed = Some(through);
            }
            Step::Log { student, back, status } => {
                let date = self.dated(back);
                let student = students[student];
                let program = if student == "S3" { "P2" } else { "P1" };
                let entry = AttendanceEntry {
                    student_id: student.into(),
                    program_id: program.into(),
                    date,
                    status,
                    hours: None,
                    note: None,
                };
                // Before an enrollment starts a record is refused; that is not this test's rule.
                if self.app.execute(&self.worksite, Command::LogAttendance { entries: vec![entry] }).is_ok() {
                    let mark = match status {
                        AttendanceStatus::Present => Mark::Present,
                        AttendanceStatus::Absent => Mark::Absent,
                        AttendanceStatus::Excused => Mark::Excused,
                    };
                    self.records.insert((student, date), mark);
                    self.rejected_from.remove(&(student, date));
                }
            }
            Step::Login { student, back } => {
                let date = self.dated(back);
                let student = students[student];
                let text = format!("student_id,at\n{student},{date}T12:00:00Z\n");
                let batch = muster::interchange::import::read(ImportKind::Logins, text.as_bytes(), 0, &Quiet).unwrap();
                self.app.execute(&self.admin, Command::Import { source: "logins".into(), batch }).unwrap();
                self.logins.entry(student).or_default().insert(date);
            }
            Step::Retract { student, back } => {
                let date = self.dated(back);
                let student = students[student];
                let program = if student == "S3" { "P2" } else { "P1" };
                let day = AttendanceDay { student_id: student.into(), program_id: program.into(), date };
                let taken = self.app.execute(&self.worksite, Command::RetractAttendance { days: vec![day] }).is_ok();
                let pending = self.records.get(&(student, date)).is_some_and(|mark| *mark != Mark::Rejected);
                assert_eq!(taken, pending, "only a pending record is taken back ({student} {date})");
                if taken {
                    self.records.remove(&(student, date));
                }
            }
            Step::Reject { student, back } => {
                let date = self.dated(back);
                let student = students[student];
                let filter = AttendanceFilter {
                    pending_only: true,
                    from: Some(date),
                    to: Some(date),
                    student_id: Some(student.into()),
                };
                let pending = self.app.attendance(&self.admin, &filter, 10).unwrap();
                if let Some(record) = pending.first() {
                    let decision = Decision::Reject { reason: "not on the sheet".into() };
                    self.app
                        .execute(&self.admin, Command::DecideAttendance { ids: vec![record.id], decision })
                        .unwrap();
                    if let Some(before) = self.records.insert((student, date), Mark::Rejected) {
                        self.rejected_from.insert((student, date), before);
                    }
                }
            }
            Step::Reopen { pick } => {
                let rejected: Vec<_> = self.rejected_from.keys().copied().collect();
                let Some(&(student, date)) = rejected.get(pick % rejected.len().max(1)) else { return };
                let filter = AttendanceFilter {
                    pending_only: false,
                    from: Some(date),
                    to: Some(date),
                    student_id: Some(student.into()),
                };
                let record = self.app.attendance(&self.admin, &filter, 10).unwrap().remove(0);
                self.app.execute(&self.admin, Command::ReopenAttendance { ids: vec![record.id] }).unwrap();
                let before = self.rejected_from.remove(&(student, date)).unwrap();
                self.records.insert((student, date), before);
                // Taking a pending record's decision back is refused.
                assert!(self.app.execute(&self.admin, Command::ReopenAttendance { ids: vec![record.id] }).is_err());
            }
        }
    }

    /// What SPEC says the open attendance alerts are: enrollment → streak, as of each
    /// enrollment's last session day among the days the job processed.
    fn expected(&self) -> BTreeMap<String, u32> {
        let Some(processed) = self.processed else { return BTreeMap::new() };
        let mut open = BTreeMap::new();
        for e in enrollments() {
            let last_session_day =
                self.first_day.iter_days().take_while(|d| *d <= processed).filter(|d| is_session_day(&e, *d)).last();
            if let Some(last) = last_session_day {
                let count = streak(&e, last, &self.records);
                if count >= 1 {
                    open.insert(e.id.to_string(), count);
                }
            }
        }
        open
    }

    /// What SPEC says the open no-login alerts are: student → days without a login, as of the
    /// last processed day the student was enrolled on (warn is 3 days).
    fn expected_no_login(&self) -> BTreeMap<String, u32> {
        let Some(processed) = self.processed else { return BTreeMap::new() };
        let mut open = BTreeMap::new();
        for e in enrollments() {
            let last_day = self
                .first_day
                .iter_days()
                .take_while(|d| *d <= processed)
                .filter(|d| *d >= e.start && e.end.is_none_or(|end| *d <= end))
                .last();
            let Some(last_day) = last_day else { continue };
            let since = self
                .logins
                .get(e.student)
                .and_then(|days| days.range(..=last_day).next_back().copied())
                .map_or(e.start, |login| login.max(e.start));
            let count = (last_day - since).num_days() as u32;
            if count >= 3 {
                open.insert(e.student.to_string(), count);
            }
        }
        open
    }

    /// What `PRAGMA foreign_key_check` finds in the file: a table and the row that points nowhere.
    fn broken_references(&self) -> Vec<String> {
        let conn = rusqlite::Connection::open(self.dir.path().join("p.db")).unwrap();
        let mut check = conn.prepare("PRAGMA foreign_key_check").unwrap();
        check
            .query_map([], |r| {
                Ok(format!(
                    "{} row {:?} -> {}",
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, String>(2)?
                ))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    fn actual(&self) -> BTreeMap<String, u32> {
        self.live(AlertType::MissingAttendance, |a| a.enrollment_id.clone().unwrap_or_default())
    }

    fn actual_no_login(&self) -> BTreeMap<String, u32> {
        self.live(AlertType::NoLogin, |a| a.student_id.clone())
    }

    fn live(
        &self,
        kind: AlertType,
        key: impl Fn(&muster::store::alerts::AlertView) -> String,
    ) -> BTreeMap<String, u32> {
        let filter = AlertFilter {
            status: None,
            all_statuses: true,
            severity: None,
            kind: Some(kind),
            program_id: None,
            assigned_to: None,
            text: None,
            student_id: None,
        };
        let alerts = self.app.alerts(&self.admin, &filter, None, Direction::After, 1_000).unwrap();
        alerts
            .into_iter()
            .filter(|a| a.status != muster::domain::alerts::AlertStatus::Resolved)
            .map(|a| (key(&a), a.count))
            .collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn open_alerts_always_equal_the_definition(first in 0u32..14, steps in proptest::collection::vec(step(), 1..40)) {
        let mut world = World::new(day(first));
        for (i, step) in steps.iter().enumerate() {
            world.apply(step);
            prop_assert_eq!(world.actual(), world.expected(), "after step {} ({:?}); records {:?}", i, step, world.records);
            prop_assert_eq!(
                world.actual_no_login(),
                world.expected_no_login(),
                "after step {} ({:?}); logins {:?}",
                i,
                step,
                world.logins
            );
            // The job's days write without SQLite checking their references.
            prop_assert_eq!(world.broken_references(), Vec::<String>::new(), "after step {} ({:?})", i, step);
        }
        // A repeated run of a processed day changes nothing.
        if let Some(p) = world.processed {
            let before = world.actual();
            world.app.run_alerts(&world.admin, p, &Quiet).unwrap();
            prop_assert_eq!(world.actual(), before);
        }
    }
}

/// Withdraws E1 from another connection to the same file once the first day of a catch-up is
/// done, as a person's import would between two of the job's days.
struct WithdrawAfterTheFirstDay {
    path: std::path::PathBuf,
    done: std::cell::Cell<bool>,
}

impl muster::app::Progress for WithdrawAfterTheFirstDay {
    fn advance(&self, _by: u64) {
        if self.done.replace(true) {
            return;
        }
        let os = identity::os_account().unwrap();
        let clock = Box::new(FixedClock::on(day(SPAN + 5)));
        let mut other = App::open(&self.path, OpenMode::Existing, clock, identity::this_origin(&os)).unwrap();
        let admin = other.sign_in(&os, None).unwrap().actor;
        let text = "enrollment_id,student_id,program_id,start_date,status\nE1,S1,P1,2026-01-05,withdrawn\n";
        let batch = muster::interchange::import::read(ImportKind::Enrollments, text.as_bytes(), 0, &Quiet).unwrap();
        other.execute(&admin, Command::Import { source: "colleague".into(), batch }).unwrap();
    }
}

/// A catch-up's days share what they read, but not past another connection's commit: the day
/// after a colleague withdrew an enrollment sees it withdrawn, as a run of that day alone would.
#[test]
fn a_catch_up_reads_again_what_another_connection_changed_between_its_days() {
    let mut world = World::new(day(0));
    let path = world.dir.path().join("p.db");
    let colleague = WithdrawAfterTheFirstDay { path, done: std::cell::Cell::new(false) };
    world.app.run_alerts_from(&world.admin, day(0), day(4), &colleague).unwrap();
    assert!(colleague.done.get());
    let filter = AlertFilter { all_statuses: true, student_id: Some("S1".into()), ..AlertFilter::default() };
    let alerts = world.app.alerts(&world.admin, &filter, None, Direction::After, 1_000).unwrap();
    assert!(!alerts.is_empty(), "S1 missed day 0");
    for alert in alerts {
        assert_eq!(alert.status, muster::domain::alerts::AlertStatus::Resolved, "{alert:?}");
        let (_, timeline) = world.app.alert(&world.admin, alert.id).unwrap();
        let last = timeline.last().unwrap();
        assert_eq!(last.run_date, Some(day(1)), "resolved on the day after the withdrawal: {timeline:?}");
        assert_eq!(last.note.as_deref(), Some("auto: the enrollment is no longer active"), "{timeline:?}");
    }
}
