//! Large imports (attendance and logins): each row is checked against the database as the file
//! is read and staged as a packed, sorted run in a temporary file (`store::staging`), so the
//! file is never held in memory and nothing is locked while it is read; then one command copies
//! the staged rows in key order, a hundred to a statement.

use super::{
    AttendanceRow, ImportBatch, ImportKind, LoginRow, PROBLEMS_SHOWN, PROGRESS_STEP, Problems, date_text, enrolled_on,
    resolve, wrote,
};
use crate::app::alerts::Reevaluation;
use crate::app::{AppError, Ctx, Result};
use crate::domain::AttendanceStatus;
use crate::store::ids::{IdMap, TextMap};
use crate::store::staging::{self, Sorted, Stager};
use crate::store::{activity, roster};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

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
        let started = std::time::Instant::now();
        for (i, row) in sorted.merged().enumerate() {
            write(row?)?;
            if (i + 1) % PROGRESS_STEP == 0 {
                wrote(ctx, i + 1, started);
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

pub(super) fn copy_staged_attendance(ctx: &Ctx) -> Result<usize> {
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

pub(super) fn copy_staged_logins(ctx: &Ctx) -> Result<usize> {
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
    app: &'a crate::app::App,
    stager: Stager,
    kind: ImportKind,
    students: TextMap<i64>,
    programs: TextMap<i64>,
    last_program: Option<(String, i64)>,
    enrolled: IdMap<(i64, i64), NaiveDate>,
    today: NaiveDate,
    now: DateTime<Utc>,
}

impl crate::app::App {
    /// Starts staging a large import (attendance or logins) for `actor`, who must be an admin.
    pub fn stage_import(&self, actor: &crate::app::Actor, kind: ImportKind) -> Result<ImportStage<'_>> {
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
    pub fn add(&mut self, row: &StagedRow, problems: &mut Problems) -> Result<()> {
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
        if enrolled_on(&self.enrolled, (student, program), row, problems) {
            match staging::attendance_key(student, program, row.date) {
                Err(why) => problems.add(row.line, Some("date"), why),
                Ok(key) => self.stager.push(key, row.line, attendance_payload(row.status, row.hours))?,
            }
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
    pub fn finish(self, source: &str, problems: &mut Problems) -> Result<Option<crate::app::Command>> {
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
        Ok(Some(crate::app::Command::Import {
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

#[cfg(test)]
mod tests {
    use crate::app::clock::FixedClock;
    use crate::app::import::ImportKind;
    use crate::app::{App, Command, Progress, Quiet, identity};
    use crate::interchange::import::{import_file, read};
    use crate::store::OpenMode;
    use std::cell::RefCell;

    /// Every status line a bar would have shown.
    #[derive(Default)]
    struct Said(RefCell<Vec<String>>);

    impl Progress for Said {
        fn status(&self, text: &str) {
            self.0.borrow_mut().push(text.to_string());
        }
    }

    /// An app on a fresh file in `dir` with one student, S1, and its admin.
    fn one_student(dir: &std::path::Path) -> (App, crate::app::Actor) {
        let os = identity::os_account().unwrap();
        let clock = Box::new(FixedClock::on("2026-03-02".parse().unwrap()));
        let mut app =
            App::open(&dir.join("m.db"), OpenMode::CreateIfMissing, clock, identity::this_origin(&os)).unwrap();
        let admin = app.sign_in(&os, None).unwrap().actor;
        let students = "student_id,first_name,last_name\nS1,Ann,Lee\n";
        let batch = read(ImportKind::Students, students.as_bytes(), 0, &Quiet).unwrap();
        app.execute(&admin, Command::Import { source: "students".into(), batch }).unwrap();
        (app, admin)
    }

    /// S1's logins a minute apart from New Year's Day on: `n` rows.
    fn logins(n: i64) -> String {
        let mut logins = String::from("student_id,at\n");
        let first: chrono::DateTime<chrono::Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        for minute in 0..n {
            let at = first + chrono::Duration::minutes(minute);
            logins.push_str(&format!("S1,{}\n", at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        }
        logins
    }

    #[test]
    fn a_large_import_says_how_many_rows_it_wrote_and_how_fast() {
        let dir = tempfile::tempdir().unwrap();
        let (mut app, admin) = one_student(dir.path());
        let logins = logins(25_000);
        let said = Said::default();
        import_file(&mut app, &admin, ImportKind::Logins, "logins", logins.as_bytes(), logins.len() as u64, &said)
            .unwrap();
        let said = said.0.into_inner();
        let writing: Vec<&String> = said.iter().filter(|s| s.starts_with("wrote ")).collect();
        assert_eq!(writing.len(), 2, "{said:?}");
        assert!(writing[1].starts_with("wrote 20000 rows, ") && writing[1].ends_with("/s"), "{said:?}");
    }

    /// While an import writes its rows: whether SQLite's rollback journal is beside the file,
    /// and how many students another connection (if any) could read.
    struct Watch {
        journal: std::path::PathBuf,
        reader: Option<rusqlite::Connection>,
        seen: RefCell<Vec<(bool, Option<i64>)>>,
    }

    impl Progress for Watch {
        fn status(&self, text: &str) {
            if text.starts_with("wrote ") {
                let read = self
                    .reader
                    .as_ref()
                    .map(|c| c.query_row("SELECT count(*) FROM students", [], |r| r.get(0)).unwrap());
                self.seen.borrow_mut().push((self.journal.exists(), read));
            }
        }
    }

    fn journal_mode(conn: &rusqlite::Connection) -> String {
        conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_large_import_with_nobody_else_reading_writes_through_the_rollback_journal_then_goes_back_to_the_wal() {
        let dir = tempfile::tempdir().unwrap();
        let (mut app, admin) = one_student(dir.path());
        let logins = logins(25_000);
        let watch = Watch { journal: dir.path().join("m.db-journal"), reader: None, seen: RefCell::default() };
        import_file(&mut app, &admin, ImportKind::Logins, "logins", logins.as_bytes(), logins.len() as u64, &watch)
            .unwrap();
        assert_eq!(watch.seen.into_inner(), [(true, None), (true, None)]);
        assert!(!dir.path().join("m.db-journal").exists());
        assert_eq!(journal_mode(app.store.conn()), "wal");
        let conn = rusqlite::Connection::open(dir.path().join("m.db")).unwrap();
        assert_eq!(conn.query_row("SELECT count(*) FROM login_events", [], |r| r.get::<_, i64>(0)).unwrap(), 25_000);
    }

    #[test]
    fn a_large_import_keeps_the_wal_while_another_connection_reads() {
        let dir = tempfile::tempdir().unwrap();
        let (mut app, admin) = one_student(dir.path());
        let logins = logins(25_000);
        // As the console or the daemon would be: open, and read from before the import.
        let reader = rusqlite::Connection::open(dir.path().join("m.db")).unwrap();
        reader.query_row("SELECT count(*) FROM students", [], |_| Ok(())).unwrap();
        let watch = Watch { journal: dir.path().join("m.db-journal"), reader: Some(reader), seen: RefCell::default() };
        import_file(&mut app, &admin, ImportKind::Logins, "logins", logins.as_bytes(), logins.len() as u64, &watch)
            .unwrap();
        assert_eq!(watch.seen.into_inner(), [(false, Some(1)), (false, Some(1))]);
        assert_eq!(journal_mode(app.store.conn()), "wal");
    }
}
