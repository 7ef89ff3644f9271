//! Importing rows from the source system: the typed rows an import carries, and the checks that
//! need the database (unknown references, duplicates, enrollment) before anything is written.
//!
//! An import is all or nothing: every row is checked first, and a single bad row rolls the whole
//! transaction back. Rows are keyed by their IDs, so importing a file twice changes nothing.

use super::alerts::Reevaluation;
use super::{AppError, Ctx, Outcome, Result};
use crate::domain::{AttendanceStatus, EnrollmentStatus, Role, User, text_enum};
use crate::store::ids::{IdMap, TextMap};
use crate::store::staging::{self, Sorted, Stager};
use crate::store::{activity, roster, users};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;

text_enum! {
    ImportKind, "import kind" {
        Programs = "programs",
        Closures = "closures",
        Students = "students",
        Enrollments = "enrollments",
        Users = "users",
        Assignments = "assignments",
        Attendance = "attendance",
        Logins = "logins",
    }
}

/// How many problems an error lists; the rest are counted.
pub const PROBLEMS_SHOWN: usize = 20;

/// One thing wrong with one row of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            _ if self.line == 0 => f.write_str(&self.message),
            Some(column) => write!(f, "line {}, column {}: {}", self.line, column, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// Collects problems, keeping the first few and counting the rest.
#[derive(Debug, Default)]
pub struct Problems {
    shown: Vec<Problem>,
    total: usize,
}

impl Problems {
    pub fn add(&mut self, line: u64, column: Option<&str>, message: impl Into<String>) {
        self.total += 1;
        if self.shown.len() < PROBLEMS_SHOWN {
            self.shown.push(Problem { line, column: column.map(str::to_string), message: message.into() });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// How many problems were noted, shown or not.
    pub fn total(&self) -> usize {
        self.total
    }

    /// `Ok` when there were none, otherwise the error that lists them.
    pub fn into_result(self) -> Result<()> {
        if self.total == 0 {
            return Ok(());
        }
        let mut shown = self.shown;
        if self.total > shown.len() {
            let more = self.total - shown.len();
            shown.push(Problem { line: 0, column: None, message: format!("… and {more} more") });
        }
        Err(AppError::InvalidRows(shown))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramRow {
    pub line: u64,
    pub program_id: String,
    pub name: String,
    /// Canonical spelling (see `domain::Schedule`).
    pub schedule: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosureRow {
    pub line: u64,
    pub program_id: String,
    pub date: NaiveDate,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudentRow {
    pub line: u64,
    pub student_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollmentRow {
    pub line: u64,
    pub enrollment_id: String,
    pub student_id: String,
    pub program_id: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub status: EnrollmentStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRow {
    pub line: u64,
    pub login: String,
    pub name: String,
    pub role: Role,
    pub email: Option<String>,
    pub onboarded: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentRow {
    pub line: u64,
    pub login: String,
    pub student_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttendanceRow {
    pub line: u64,
    pub student_id: String,
    pub program_id: String,
    pub date: NaiveDate,
    pub status: AttendanceStatus,
    pub hours: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginRow {
    pub line: u64,
    pub student_id: String,
    pub at: DateTime<Utc>,
}

/// The rows of one import file, already checked for form (dates, statuses, required values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "rows", rename_all = "snake_case")]
pub enum ImportBatch {
    Programs(Vec<ProgramRow>),
    Closures(Vec<ClosureRow>),
    Students(Vec<StudentRow>),
    Enrollments(Vec<EnrollmentRow>),
    Users(Vec<UserRow>),
    Assignments(Vec<AssignmentRow>),
    Attendance(Vec<AttendanceRow>),
    Logins(Vec<LoginRow>),
    /// Rows of a large file already read, checked and staged in this process by
    /// [`ImportStage`]: attendance or logins. Such a command runs only where it was staged.
    Staged {
        of: ImportKind,
        rows: usize,
    },
}

impl ImportBatch {
    pub fn kind(&self) -> ImportKind {
        match self {
            ImportBatch::Programs(_) => ImportKind::Programs,
            ImportBatch::Closures(_) => ImportKind::Closures,
            ImportBatch::Students(_) => ImportKind::Students,
            ImportBatch::Enrollments(_) => ImportKind::Enrollments,
            ImportBatch::Users(_) => ImportKind::Users,
            ImportBatch::Assignments(_) => ImportKind::Assignments,
            ImportBatch::Attendance(_) => ImportKind::Attendance,
            ImportBatch::Logins(_) => ImportKind::Logins,
            ImportBatch::Staged { of, .. } => *of,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ImportBatch::Programs(r) => r.len(),
            ImportBatch::Closures(r) => r.len(),
            ImportBatch::Students(r) => r.len(),
            ImportBatch::Enrollments(r) => r.len(),
            ImportBatch::Users(r) => r.len(),
            ImportBatch::Assignments(r) => r.len(),
            ImportBatch::Attendance(r) => r.len(),
            ImportBatch::Logins(r) => r.len(),
            ImportBatch::Staged { rows, .. } => *rows,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Remembers the first line each key appeared on, to report repeats within one file.
struct SeenKeys<K>(HashMap<K, u64>);

impl<K: Hash + Eq> SeenKeys<K> {
    fn new() -> Self {
        SeenKeys(HashMap::new())
    }

    fn check(&mut self, problems: &mut Problems, key: K, line: u64, what: &str) {
        if let Some(first) = self.0.insert(key, line) {
            problems.add(line, None, format!("duplicate {what}: already on line {first}"));
        }
    }
}

/// Looks up a source ID, noting a problem when it is unknown.
fn resolve(keys: &TextMap<i64>, id: &str, problems: &mut Problems, line: u64, column: &str) -> Option<i64> {
    let key = keys.get(id).copied();
    if key.is_none() {
        let what = column.trim_end_matches("_id");
        problems.add(line, Some(column), format!("unknown {what} '{id}': import {what}s first"));
    }
    key
}

/// How often to report progress while writing rows.
const PROGRESS_STEP: usize = 10_000;

pub(super) fn execute(ctx: &Ctx, source: &str, batch: ImportBatch) -> Result<Outcome> {
    ctx.require_admin("import data")?;
    let kind = batch.kind();
    let rows = batch.len();
    let mut extra = serde_json::Map::new();
    let changed = match batch {
        ImportBatch::Programs(rows) => import_programs(ctx, &rows)?,
        ImportBatch::Closures(rows) => import_closures(ctx, &rows)?,
        ImportBatch::Students(rows) => import_students(ctx, &rows)?,
        ImportBatch::Enrollments(rows) => import_enrollments(ctx, &rows)?,
        ImportBatch::Users(rows) => import_users(ctx, &rows, &mut extra)?,
        ImportBatch::Assignments(rows) => import_assignments(ctx, &rows)?,
        ImportBatch::Attendance(rows) => import_attendance(ctx, &rows)?,
        ImportBatch::Logins(rows) => import_logins(ctx, &rows)?,
        ImportBatch::Staged { of: ImportKind::Attendance, .. } => copy_staged_attendance(ctx)?,
        ImportBatch::Staged { of: ImportKind::Logins, .. } => copy_staged_logins(ctx)?,
        ImportBatch::Staged { of, .. } => {
            return Err(AppError::Invalid(format!("{of} are imported whole, not staged")));
        }
    };
    // An import that changed nothing leaves no trace, so a repeated import is truly a no-op.
    if changed > 0 {
        let mut after = serde_json::json!({ "kind": kind, "source": source, "rows": rows, "changed": changed });
        if let Some(obj) = after.as_object_mut() {
            obj.extend(extra);
        }
        ctx.audit(&format!("import.{kind}"), "import", source, serde_json::Value::Null, after)?;
    }
    Ok(Outcome::Imported { kind, rows, changed })
}

/// Writes rows one by one with progress, counting those that changed anything.
fn write_rows<R>(ctx: &Ctx, what: &str, rows: &[R], mut write: impl FnMut(&R) -> Result<bool>) -> Result<usize> {
    ctx.progress.start(what, rows.len() as u64);
    let mut changed = 0;
    for (i, row) in rows.iter().enumerate() {
        changed += usize::from(write(row)?);
        if (i + 1) % PROGRESS_STEP == 0 {
            ctx.progress.advance(PROGRESS_STEP as u64);
        }
    }
    ctx.progress.finish();
    Ok(changed)
}

/// `YYYY-MM-DD`. (`Display` writes ISO directly; strftime-style formatting costs a tenth of a
/// million-row import.)
fn date_text(date: NaiveDate) -> String {
    date.to_string()
}

fn import_programs(ctx: &Ctx, rows: &[ProgramRow]) -> Result<usize> {
    let mut problems = Problems::default();
    let mut seen = SeenKeys::new();
    for row in rows {
        seen.check(&mut problems, row.program_id.as_str(), row.line, "program_id");
    }
    problems.into_result()?;
    write_rows(ctx, "writing programs", rows, |p| {
        let (start, end) = (date_text(p.start_date), p.end_date.map(date_text));
        Ok(roster::upsert_program(
            ctx.tx,
            &roster::ProgramRecord {
                program_id: &p.program_id,
                name: &p.name,
                schedule: &p.schedule,
                start_date: &start,
                end_date: end.as_deref(),
            },
        )?)
    })
}

fn import_closures(ctx: &Ctx, rows: &[ClosureRow]) -> Result<usize> {
    let programs = roster::keys(ctx.tx, roster::KeyedTable::Programs)?;
    let mut problems = Problems::default();
    let mut seen = SeenKeys::new();
    let mut keyed = Vec::with_capacity(rows.len());
    for row in rows {
        seen.check(&mut problems, (row.program_id.as_str(), row.date), row.line, "closure (same program and date)");
        if let Some(program) = resolve(&programs, &row.program_id, &mut problems, row.line, "program_id") {
            keyed.push((program, row));
        }
    }
    problems.into_result()?;
    write_rows(ctx, "writing closures", &keyed, |(program, c)| {
        Ok(roster::upsert_closure(ctx.tx, *program, &date_text(c.date), c.reason.as_deref())?)
    })
}

fn import_students(ctx: &Ctx, rows: &[StudentRow]) -> Result<usize> {
    let mut problems = Problems::default();
    let mut seen = SeenKeys::new();
    for row in rows {
        seen.check(&mut problems, row.student_id.as_str(), row.line, "student_id");
    }
    problems.into_result()?;
    write_rows(ctx, "writing students", rows, |s| {
        Ok(roster::upsert_student(
            ctx.tx,
            &roster::StudentRecord {
                student_id: &s.student_id,
                first_name: &s.first_name,
                last_name: &s.last_name,
                email: s.email.as_deref(),
                phone: s.phone.as_deref(),
            },
        )?)
    })
}

fn import_enrollments(ctx: &Ctx, rows: &[EnrollmentRow]) -> Result<usize> {
    let students = roster::keys(ctx.tx, roster::KeyedTable::Students)?;
    let programs = roster::keys(ctx.tx, roster::KeyedTable::Programs)?;
    let mut problems = Problems::default();
    let mut seen = SeenKeys::new();
    let mut keyed = Vec::with_capacity(rows.len());
    for row in rows {
        seen.check(&mut problems, row.enrollment_id.as_str(), row.line, "enrollment_id");
        let student = resolve(&students, &row.student_id, &mut problems, row.line, "student_id");
        let program = resolve(&programs, &row.program_id, &mut problems, row.line, "program_id");
        if let (Some(student), Some(program)) = (student, program) {
            keyed.push((student, program, row));
        }
    }
    problems.into_result()?;
    write_rows(ctx, "writing enrollments", &keyed, |(student, program, e)| {
        let (start, end) = (date_text(e.start_date), e.end_date.map(date_text));
        Ok(roster::upsert_enrollment(
            ctx.tx,
            &roster::EnrollmentRecord {
                enrollment_id: &e.enrollment_id,
                student: *student,
                program: *program,
                start_date: &start,
                end_date: end.as_deref(),
                status: e.status.as_str(),
            },
        )?)
    })
}

fn import_users(ctx: &Ctx, rows: &[UserRow], extra: &mut serde_json::Map<String, serde_json::Value>) -> Result<usize> {
    let mut problems = Problems::default();
    let mut seen = SeenKeys::new();
    let mut newly_waived = Vec::new();
    for row in rows {
        seen.check(&mut problems, row.login.as_str(), row.line, "login");
        let existing = users::get(ctx.tx, &row.login)?;
        if row.login == ctx.actor.person.login && row.role != ctx.actor.person.role {
            problems.add(row.line, Some("role"), "you cannot change your own role; ask another admin");
        }
        if row.onboarded && row.role.is_partner() && !existing.as_ref().is_some_and(|u| u.onboarding_waived) {
            newly_waived.push(row.login.clone());
        }
    }
    problems.into_result()?;
    if !newly_waived.is_empty() {
        extra.insert("onboarding_waived".into(), serde_json::json!(newly_waived));
    }
    let now = ctx.now_text();
    write_rows(ctx, "writing users", rows, |u| {
        let user = User {
            login: u.login.clone(),
            name: u.name.clone(),
            role: u.role,
            email: u.email.clone(),
            onboarding_waived: u.onboarded,
        };
        Ok(users::upsert(ctx.tx, &user, &now)?)
    })
}

fn import_assignments(ctx: &Ctx, rows: &[AssignmentRow]) -> Result<usize> {
    let students = roster::keys(ctx.tx, roster::KeyedTable::Students)?;
    let mut roles: HashMap<String, Option<Role>> = HashMap::new();
    let mut problems = Problems::default();
    let mut seen = SeenKeys::new();
    let mut keyed = Vec::with_capacity(rows.len());
    for row in rows {
        seen.check(&mut problems, (row.login.as_str(), row.student_id.as_str()), row.line, "assignment");
        let role = match roles.get(&row.login) {
            Some(role) => *role,
            None => {
                let role = users::get(ctx.tx, &row.login)?.map(|u| u.role);
                roles.insert(row.login.clone(), role);
                role
            }
        };
        match role {
            None => problems.add(row.line, Some("login"), format!("unknown user '{}': import users first", row.login)),
            Some(Role::Admin) => problems.add(
                row.line,
                Some("login"),
                format!("'{}' is an admin and already sees every student; assign partners only", row.login),
            ),
            Some(_) => {}
        }
        if let Some(student) = resolve(&students, &row.student_id, &mut problems, row.line, "student_id") {
            keyed.push((student, row));
        }
    }
    problems.into_result()?;
    write_rows(ctx, "writing assignments", &keyed, |(student, a)| {
        Ok(roster::insert_assignment(ctx.tx, &a.login, *student)?)
    })
}

fn import_attendance(ctx: &Ctx, rows: &[AttendanceRow]) -> Result<usize> {
    let students = roster::keys(ctx.tx, roster::KeyedTable::Students)?;
    let programs = roster::keys(ctx.tx, roster::KeyedTable::Programs)?;
    let enrolled = roster::enrolled_pairs(ctx.tx)?;
    let mut problems = Problems::default();
    let mut seen = SeenKeys::new();
    let mut keyed = Vec::with_capacity(rows.len());
    ctx.progress.start("checking attendance", rows.len() as u64);
    for (i, row) in rows.iter().enumerate() {
        let student = resolve(&students, &row.student_id, &mut problems, row.line, "student_id");
        let program = resolve(&programs, &row.program_id, &mut problems, row.line, "program_id");
        if row.date > ctx.today {
            problems.add(row.line, Some("date"), format!("{} is in the future", row.date));
        }
        if let (Some(student), Some(program)) = (student, program) {
            seen.check(
                &mut problems,
                (student, program, row.date),
                row.line,
                "attendance (same student, program and date)",
            );
            match enrolled.get(&(student, program)) {
                None => problems.add(
                    row.line,
                    Some("program_id"),
                    format!("student '{}' is not enrolled in program '{}'", row.student_id, row.program_id),
                ),
                Some(start) if row.date < *start => problems.add(
                    row.line,
                    Some("date"),
                    format!("{} is before the student's enrollment starts ({start})", row.date),
                ),
                Some(_) => keyed.push((student, program, row)),
            }
        }
        if (i + 1) % PROGRESS_STEP == 0 {
            ctx.progress.advance(PROGRESS_STEP as u64);
        }
    }
    ctx.progress.finish();
    problems.into_result()?;
    let (logged_by, logged_at) = (ctx.actor.user().login.as_str(), ctx.now_text());
    let changed = write_rows(ctx, "writing attendance", &keyed, |(student, program, a)| {
        Ok(activity::upsert_attendance(
            ctx.tx,
            &activity::AttendanceRecord {
                student: *student,
                program: *program,
                date: &date_text(a.date),
                status: a.status.as_str(),
                hours: a.hours,
                note: None,
                logged_by,
                logged_by_person: ctx.actor.acting_as.as_ref().map(|_| ctx.actor.person.login.as_str()),
                logged_at: &logged_at,
            },
            false,
        )?)
    })?;
    if changed > 0 {
        let mut pairs = std::collections::BTreeMap::new();
        for (student, program, row) in &keyed {
            *pairs.entry((*student, *program)).or_insert(true) &= row.status == AttendanceStatus::Present;
        }
        let mut reevaluation = Reevaluation::new(ctx)?;
        for ((student, program), only_present) in pairs {
            reevaluation.attendance(ctx, student, program, only_present)?;
        }
        reevaluation.finish(ctx, "import.attendance")?;
    }
    Ok(changed)
}

fn import_logins(ctx: &Ctx, rows: &[LoginRow]) -> Result<usize> {
    let students = roster::keys(ctx.tx, roster::KeyedTable::Students)?;
    let mut problems = Problems::default();
    let mut seen = SeenKeys::new();
    let mut keyed = Vec::with_capacity(rows.len());
    for row in rows {
        if row.at > ctx.now {
            problems.add(row.line, Some("at"), format!("{} is in the future", row.at.to_rfc3339()));
        }
        if let Some(student) = resolve(&students, &row.student_id, &mut problems, row.line, "student_id") {
            seen.check(&mut problems, (student, row.at), row.line, "login (same student and time)");
            keyed.push((student, row));
        }
    }
    problems.into_result()?;
    let changed = write_rows(ctx, "writing logins", &keyed, |(student, l)| {
        Ok(activity::insert_login(ctx.tx, *student, &l.at.to_rfc3339_opts(SecondsFormat::Secs, true))?)
    })?;
    if changed > 0 {
        let students: std::collections::BTreeSet<i64> = keyed.iter().map(|(s, _)| *s).collect();
        let mut reevaluation = Reevaluation::new(ctx)?;
        for student in students {
            reevaluation.login(ctx, student)?;
        }
        reevaluation.finish(ctx, "import.logins")?;
    }
    Ok(changed)
}

/// From how many rows on an import sets the by-date indexes aside and rebuilds them after.
const BULK_FROM: usize = 100_000;

/// What an attendance row carries when staged: its status, and its hours in quarter hours
/// (`NO_HOURS` when it has none).
fn attendance_payload(status: AttendanceStatus, hours: Option<f64>) -> u16 {
    let status = match status {
        AttendanceStatus::Present => 0,
        AttendanceStatus::Absent => 1,
        AttendanceStatus::Excused => 2,
    };
    // Hours are checked to be 0–24 in quarter-hour steps before they are staged.
    let quarters = hours.map_or(NO_HOURS, |h| (h * 4.0).round() as u16);
    (status << 8) | quarters
}

const NO_HOURS: u16 = 0xFF;

fn attendance_from_payload(payload: u16) -> (AttendanceStatus, Option<f64>) {
    let status = match payload >> 8 {
        0 => AttendanceStatus::Present,
        1 => AttendanceStatus::Absent,
        _ => AttendanceStatus::Excused,
    };
    let quarters = payload & 0xFF;
    (status, (quarters != NO_HOURS).then(|| f64::from(quarters) / 4.0))
}

/// The staged rows of this import, taken from where `ImportStage::finish` left them.
fn take_staged(ctx: &Ctx, kind: ImportKind) -> Result<Sorted> {
    match ctx.staged.take() {
        Some((of, sorted)) if of == kind => Ok(sorted),
        _ => Err(crate::store::StoreError::NotFound(
            "staged rows for this import (a staged import runs where it was read)".into(),
        )
        .into()),
    }
}

/// Copies staged rows in key order with `write`; the by-date index is set aside for a load that
/// brings a large part of the table.
fn copy_staged(
    ctx: &Ctx,
    sorted: &Sorted,
    bulk: activity::Bulk,
    mut write: impl FnMut(staging::StagedRow) -> Result<()>,
) -> Result<()> {
    let rows = sorted.rows();
    let mut copy = || -> Result<()> {
        ctx.progress.start("writing rows", rows as u64);
        for (i, row) in sorted.merged().enumerate() {
            write(row?)?;
            if (i + 1) % PROGRESS_STEP == 0 {
                ctx.progress.advance(PROGRESS_STEP as u64);
            }
        }
        ctx.progress.finish();
        Ok(())
    };
    let pays = rows >= BULK_FROM && activity::Bulk::pays(rows, activity::rows_in(ctx.tx, bulk)?);
    if pays {
        activity::bulk_load(ctx.tx, bulk, || {
            copy()?;
            ctx.progress.start("indexing", 0);
            Ok::<_, AppError>(())
        })?;
        ctx.progress.finish();
        Ok(())
    } else {
        copy()
    }
}

fn copy_staged_attendance(ctx: &Ctx) -> Result<usize> {
    let sorted = take_staged(ctx, ImportKind::Attendance)?;
    let (logged_by, logged_at) = (ctx.actor.user().login.as_str(), ctx.now_text());
    let logged_by_person = ctx.actor.acting_as.as_ref().map(|_| ctx.actor.person.login.as_str());
    // Rows come in (student, program, date) order: one pair after another, each with whether
    // every one of its days is `present`.
    let mut pairs: Vec<(i64, i64, bool)> = Vec::new();
    let mut dates = DateTexts::default();
    let shared = vec![logged_by.to_string().into(), logged_at.into(), logged_by_person.map(str::to_string).into()];
    let mut insert = activity::BatchedInsert::new(ctx.tx, activity::BatchedKind::Attendance, sorted.rows(), shared);
    copy_staged(ctx, &sorted, activity::Bulk::ATTENDANCE, |row| {
        let (student, program, date) = staging::attendance_parts(row.key);
        let (status, hours) = attendance_from_payload(row.payload());
        let present = status == AttendanceStatus::Present;
        match pairs.last_mut() {
            Some((s, p, only_present)) if (*s, *p) == (student, program) => *only_present &= present,
            _ => pairs.push((student, program, present)),
        }
        let status = status.as_str();
        Ok(insert.row(&[&student, &program, &dates.of(date), &status, &hours])?)
    })?;
    let changed = insert.finish()?;
    if changed > 0 {
        let mut reevaluation = Reevaluation::new(ctx)?;
        for (student, program, only_present) in pairs {
            reevaluation.attendance(ctx, student, program, only_present)?;
        }
        reevaluation.finish(ctx, "import.attendance")?;
    }
    Ok(changed)
}

/// Dates as the database writes them, each formatted once: an import repeats a few hundred
/// dates millions of times.
#[derive(Default)]
struct DateTexts(IdMap<NaiveDate, String>);

impl DateTexts {
    fn of(&mut self, date: NaiveDate) -> &str {
        self.0.entry(date).or_insert_with(|| date_text(date))
    }
}

fn copy_staged_logins(ctx: &Ctx) -> Result<usize> {
    let sorted = take_staged(ctx, ImportKind::Logins)?;
    let mut students: Vec<i64> = Vec::new();
    let mut insert = activity::BatchedInsert::new(ctx.tx, activity::BatchedKind::Logins, sorted.rows(), Vec::new());
    copy_staged(ctx, &sorted, activity::Bulk::LOGINS, |row| {
        let (student, at) = staging::login_parts(row.key);
        if students.last() != Some(&student) {
            students.push(student);
        }
        let at = DateTime::from_timestamp(at, 0).expect("staged logins are within 1970 to 2106");
        Ok(insert.row(&[&student, &at.to_rfc3339_opts(SecondsFormat::Secs, true)])?)
    })?;
    let changed = insert.finish()?;
    if changed > 0 {
        let mut reevaluation = Reevaluation::new(ctx)?;
        for student in students {
            reevaluation.login(ctx, student)?;
        }
        reevaluation.finish(ctx, "import.logins")?;
    }
    Ok(changed)
}

/// A large import being read: each row is checked against the database as it arrives (known
/// student and program, enrolled, not in the future) and staged, so the file is never held in
/// memory and the database is not locked while it is read.
pub struct ImportStage<'a> {
    app: &'a super::App,
    stager: Stager,
    kind: ImportKind,
    students: TextMap<i64>,
    programs: TextMap<i64>,
    last_program: Option<(String, i64)>,
    enrolled: IdMap<(i64, i64), NaiveDate>,
    today: NaiveDate,
    now: DateTime<Utc>,
}

impl super::App {
    /// Starts staging a large import (attendance or logins) for `actor`, who must be an admin.
    pub fn stage_import(&self, actor: &super::Actor, kind: ImportKind) -> Result<ImportStage<'_>> {
        self.may_import(actor)?;
        if !matches!(kind, ImportKind::Attendance | ImportKind::Logins) {
            return Err(AppError::Invalid(format!("{kind} are imported whole, not staged")));
        }
        let conn = self.store.conn();
        let attendance = kind == ImportKind::Attendance;
        Ok(ImportStage {
            app: self,
            students: roster::keys(conn, roster::KeyedTable::Students)?,
            programs: if attendance { roster::keys(conn, roster::KeyedTable::Programs)? } else { TextMap::default() },
            last_program: None,
            enrolled: if attendance { roster::enrolled_pairs(conn)? } else { IdMap::default() },
            stager: Stager::new(),
            kind,
            today: self.today(),
            now: self.clock.now(),
        })
    }
}

impl ImportStage<'_> {
    /// Checks and stages one row; what is wrong with it is noted in `problems`.
    pub fn add(&mut self, row: &super::import::StagedRow, problems: &mut Problems) -> Result<()> {
        match row {
            StagedRow::Attendance(row) => self.attendance(row, problems),
            StagedRow::Login(row) => self.login(row, problems),
        }
    }

    fn attendance(&mut self, row: &AttendanceRow, problems: &mut Problems) -> Result<()> {
        let student = resolve(&self.students, &row.student_id, problems, row.line, "student_id");
        // A file names a few programs over and over, usually the same one row after row.
        let program = match &self.last_program {
            Some((id, key)) if *id == row.program_id => Some(*key),
            _ => resolve(&self.programs, &row.program_id, problems, row.line, "program_id")
                .inspect(|key| self.last_program = Some((row.program_id.clone(), *key))),
        };
        if row.date > self.today {
            problems.add(row.line, Some("date"), format!("{} is in the future", row.date));
            return Ok(());
        }
        let (Some(student), Some(program)) = (student, program) else { return Ok(()) };
        match self.enrolled.get(&(student, program)) {
            None => problems.add(
                row.line,
                Some("program_id"),
                format!("student '{}' is not enrolled in program '{}'", row.student_id, row.program_id),
            ),
            Some(start) if row.date < *start => problems.add(
                row.line,
                Some("date"),
                format!("{} is before the student's enrollment starts ({start})", row.date),
            ),
            Some(_) => match staging::attendance_key(student, program, row.date) {
                Err(why) => problems.add(row.line, Some("date"), why),
                Ok(key) => self.stager.push(key, row.line, attendance_payload(row.status, row.hours))?,
            },
        }
        Ok(())
    }

    fn login(&mut self, row: &LoginRow, problems: &mut Problems) -> Result<()> {
        if row.at > self.now {
            problems.add(row.line, Some("at"), format!("{} is in the future", row.at.to_rfc3339()));
            return Ok(());
        }
        if let Some(student) = resolve(&self.students, &row.student_id, problems, row.line, "student_id") {
            match staging::login_key(student, row.at.timestamp()) {
                Err(why) => problems.add(row.line, Some("at"), format!("{} {why}", row.at.to_rfc3339())),
                Ok(key) => self.stager.push(key, row.line, 0)?,
            }
        }
        Ok(())
    }

    /// Ends reading: sorts the staged rows, noting keys the file repeats. `None` when anything
    /// is wrong (the staged rows are then gone); otherwise the command that copies them in.
    pub fn finish(self, source: &str, problems: &mut Problems) -> Result<Option<super::Command>> {
        let what = match self.kind {
            ImportKind::Logins => "login (same student and time)",
            _ => "attendance (same student, program and date)",
        };
        let sorted = self.stager.finish();
        for (first, again) in sorted.repeats(PROBLEMS_SHOWN + 1)? {
            problems.add(again, None, format!("duplicate {what}: already on line {first}"));
        }
        if !problems.is_empty() {
            return Ok(None);
        }
        let rows = sorted.rows();
        self.app.staged_import.replace(Some((self.kind, sorted)));
        Ok(Some(super::Command::Import {
            source: source.to_string(),
            batch: ImportBatch::Staged { of: self.kind, rows },
        }))
    }
}

/// A row of a large import, as [`ImportStage::add`] takes it.
pub enum StagedRow<'r> {
    Attendance(&'r AttendanceRow),
    Login(&'r LoginRow),
}
