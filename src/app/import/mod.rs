//! Importing rows from the source system: the typed rows an import carries, and the checks that
//! need the database (unknown references, duplicates, enrollment) before anything is written.
//!
//! An import is all or nothing: every row is checked first, and a single bad row rolls the whole
//! transaction back. Rows are keyed by their IDs, so importing a file twice changes nothing.

use super::alerts::Reevaluation;
use super::{AppError, Ctx, Outcome, Result};
use crate::domain::{AttendanceStatus, EnrollmentStatus, Role, User, text_enum};
use crate::store::ids::{IdMap, TextMap};
use crate::store::{activity, roster, users};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use staged::{copy_staged_attendance, copy_staged_logins};
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;

mod staged;
pub use staged::{ImportStage, StagedRow};

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

/// Whether the row's student was enrolled in its program on its date, noting a problem when not.
fn enrolled_on(
    enrolled: &IdMap<(i64, i64), NaiveDate>,
    (student, program): (i64, i64),
    row: &AttendanceRow,
    problems: &mut Problems,
) -> bool {
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
        Some(_) => return true,
    }
    false
}

/// How often to report progress while writing rows.
const PROGRESS_STEP: usize = 10_000;

/// Moves the bar on by a step of rows and says how many are written and how fast, as the
/// reading said how many were read.
fn wrote(ctx: &Ctx, rows: usize, started: std::time::Instant) {
    ctx.progress.advance(PROGRESS_STEP as u64);
    let per_second = rows as f64 / started.elapsed().as_secs_f64().max(1e-3);
    ctx.progress.status(&format!("wrote {rows} rows, {per_second:.0}/s"));
}

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
    let started = std::time::Instant::now();
    let mut changed = 0;
    for (i, row) in rows.iter().enumerate() {
        changed += usize::from(write(row)?);
        if (i + 1) % PROGRESS_STEP == 0 {
            wrote(ctx, i + 1, started);
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
            if enrolled_on(&enrolled, (student, program), row, &mut problems) {
                keyed.push((student, program, row));
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
