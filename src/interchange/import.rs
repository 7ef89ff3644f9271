//! Reading an import file into typed rows. Checks what can be checked without the database:
//! the header, required values, dates, statuses, numbers. Problems name their line and column.

use crate::app::import::StagedRow;
use crate::app::import::{
    AssignmentRow, AttendanceRow, ClosureRow, EnrollmentRow, LoginRow, Problems, ProgramRow, StudentRow, UserRow,
};
use crate::app::{Actor, App, AppError, Command, ImportBatch, ImportKind, Outcome, Progress};
use crate::domain::text::TextKind;
use crate::domain::{AttendanceStatus, Schedule, parse_date};
use chrono::{DateTime, NaiveDate, Utc};
use std::io::Read;
use std::str::FromStr;

/// The columns of each kind, required first; SPEC "Importing data".
fn columns(kind: ImportKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        ImportKind::Programs => (&["program_id", "name", "schedule", "start_date"], &["end_date"]),
        ImportKind::Closures => (&["program_id", "date"], &["reason"]),
        ImportKind::Students => (&["student_id", "first_name", "last_name"], &["email", "phone"]),
        ImportKind::Enrollments => {
            (&["enrollment_id", "student_id", "program_id", "start_date", "status"], &["end_date"])
        }
        ImportKind::Users => (&["login", "name", "role"], &["email", "onboarded"]),
        ImportKind::Assignments => (&["login", "student_id"], &[]),
        ImportKind::Attendance => (&["student_id", "program_id", "date", "status"], &["hours"]),
        ImportKind::Logins => (&["student_id", "at"], &[]),
    }
}

/// `a,b,c[,d][,e]`, as SPEC writes it.
pub fn expected_columns(kind: ImportKind) -> String {
    let (required, optional) = columns(kind);
    let mut text = required.join(",");
    for column in optional {
        text.push_str(&format!("[,{column}]"));
    }
    text
}

/// Where each known column is in the file. A handful of columns: a list read in order costs
/// less per field than hashing the name, and a large import looks up five fields a row.
#[derive(Debug, Default)]
struct ColumnIndex(Vec<(&'static str, usize)>);

impl ColumnIndex {
    fn get(&self, column: &str) -> Option<usize> {
        self.0.iter().find(|(name, _)| *name == column).map(|(_, i)| *i)
    }
}

fn check_header(kind: ImportKind, header: &csv::StringRecord) -> Result<ColumnIndex, AppError> {
    let (required, optional) = columns(kind);
    let expected = || format!("expected columns for {kind}: {}", expected_columns(kind));
    let mut index = ColumnIndex::default();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().trim_start_matches('\u{feff}');
        let Some(known) = required.iter().chain(optional).find(|c| **c == name) else {
            return Err(AppError::Invalid(format!("line 1: unknown column '{name}'{}; {}", hint(name), expected())));
        };
        if index.get(known).is_some() {
            return Err(AppError::Invalid(format!("line 1: column '{name}' appears twice; {}", expected())));
        }
        index.0.push((known, i));
    }
    let missing: Vec<&str> = required.iter().copied().filter(|c| index.get(c).is_none()).collect();
    if !missing.is_empty() {
        return Err(AppError::Invalid(format!("line 1: missing column {}; {}", missing.join(", "), expected())));
    }
    Ok(index)
}

/// What an unknown column most likely means, for the two mistakes a spreadsheet makes for you:
/// another separator (saved as "CSV" with `;` in many locales, or as tab-separated text), and
/// names in another case.
fn hint(name: &str) -> String {
    match [';', '\t'].into_iter().find(|separator| name.contains(*separator)) {
        Some(';') => " (the file's values are separated by ';': save it with commas)".into(),
        Some(_) => " (the file's values are separated by tabs: save it with commas)".into(),
        None if name != name.to_lowercase() => format!(" (column names are lower case: {})", name.to_lowercase()),
        None => String::new(),
    }
}

/// Reads one record's fields by column name, noting problems instead of stopping at the first.
struct Fields<'a> {
    record: &'a csv::StringRecord,
    index: &'a ColumnIndex,
    line: u64,
    problems: &'a mut Problems,
}

// Values are read as borrowed text and copied only into the row that keeps them: a large
// import reads millions of dates, statuses and hours that are parsed and dropped.
impl<'a> Fields<'a> {
    fn raw(&self, column: &str) -> &'a str {
        self.index.get(column).and_then(|i| self.record.get(i)).map_or("", str::trim)
    }

    fn optional_text(&mut self, column: &str) -> Option<&'a str> {
        let value = Some(self.raw(column)).filter(|v| !v.is_empty())?;
        match crate::domain::text::check(text_kind(column), value) {
            Ok(()) => Some(value),
            Err(why) => {
                self.problems.add(self.line, Some(column), why);
                None
            }
        }
    }

    fn required_text(&mut self, column: &str) -> Option<&'a str> {
        if self.raw(column).is_empty() {
            self.problems.add(self.line, Some(column), "is empty");
            return None;
        }
        self.optional_text(column)
    }

    fn optional(&mut self, column: &str) -> Option<String> {
        self.optional_text(column).map(str::to_string)
    }

    fn required(&mut self, column: &str) -> Option<String> {
        self.required_text(column).map(str::to_string)
    }

    fn parsed<T>(&mut self, column: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let text = self.required_text(column)?;
        parse(text).map_err(|e| self.problems.add(self.line, Some(column), e)).ok()
    }

    fn optional_parsed<T>(&mut self, column: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<Option<T>> {
        match self.optional_text(column) {
            None => Some(None),
            Some(text) => parse(text).map(Some).map_err(|e| self.problems.add(self.line, Some(column), e)).ok(),
        }
    }

    fn date(&mut self, column: &str) -> Option<NaiveDate> {
        self.parsed(column, parse_date)
    }

    fn value<T: FromStr<Err = String>>(&mut self, column: &str) -> Option<T> {
        self.parsed(column, str::parse)
    }

    /// A date range whose end, if given, is not before its start.
    fn date_range(&mut self) -> Option<(NaiveDate, Option<NaiveDate>)> {
        let start = self.date("start_date");
        let end = self.optional_parsed("end_date", parse_date);
        match (start, end) {
            (Some(start), Some(Some(end))) if end < start => {
                self.problems.add(self.line, Some("end_date"), format!("{end} is before start_date {start}"));
                None
            }
            (Some(start), Some(end)) => Some((start, end)),
            _ => None,
        }
    }
}

/// What a column holds, for the limits on its text.
fn text_kind(column: &str) -> TextKind {
    match column {
        "reason" => TextKind::Note,
        c if c.ends_with("_id") || c == "login" => TextKind::Id,
        _ => TextKind::Name,
    }
}

fn parse_hours(text: &str) -> Result<f64, String> {
    let hours: f64 = text.parse().map_err(|_| format!("'{text}' is not a number of hours"))?;
    crate::domain::records::check_hours(hours)?;
    Ok(hours)
}

fn parse_flag(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("'{text}' is not true or false")),
    }
}

fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("'{text}' is not an RFC 3339 timestamp such as 2026-03-02T08:15:00Z"))
}

fn parse_schedule(text: &str) -> Result<String, String> {
    text.parse::<Schedule>().map(|s| s.to_string())
}

fn check_with(check: fn(&str) -> Result<(), String>) -> impl Fn(&str) -> Result<String, String> {
    move |text| check(text).map(|()| text.to_string())
}

/// Imports a file through the one door. Attendance and logins stream: each row is checked and
/// staged as it is read, with the database unlocked, then copied in one short transaction —
/// memory stays flat however large the file. The other kinds are as large as the organisation,
/// not its history, and are read whole. All or nothing either way.
pub fn import_file(
    app: &mut App,
    actor: &Actor,
    kind: ImportKind,
    source: &str,
    input: impl Read,
    size: u64,
    progress: &dyn Progress,
) -> Result<Outcome, AppError> {
    if !matches!(kind, ImportKind::Attendance | ImportKind::Logins) {
        let batch = read(kind, input, size, progress)?;
        return app.execute_with_progress(actor, Command::Import { source: source.to_string(), batch }, progress);
    }
    let mut problems = Problems::default();
    let command = {
        let mut stage = app.stage_import(actor, kind)?;
        each_row(kind, input, size, progress, &mut problems, |row, problems| match &row {
            ImportRow::Attendance(r) => stage.add(&StagedRow::Attendance(r), problems),
            ImportRow::Login(r) => stage.add(&StagedRow::Login(r), problems),
            _ => Ok(()),
        })?;
        // With a problem the stage is dropped, and with it every staged row.
        stage.finish(source, &mut problems)?
    };
    problems.into_result()?;
    match command {
        Some(command) => app.execute_with_progress(actor, command, progress),
        None => Err(AppError::Invalid("nothing was staged".into())),
    }
}

/// One row of an import file, checked for form.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportRow {
    Program(ProgramRow),
    Closure(ClosureRow),
    Student(StudentRow),
    Enrollment(EnrollmentRow),
    User(UserRow),
    Assignment(AssignmentRow),
    Attendance(AttendanceRow),
    Login(LoginRow),
}

/// Reads a whole import file. Form problems are collected (up to 20 shown) and returned
/// together; an unreadable header stops at once.
pub fn read(kind: ImportKind, input: impl Read, size: u64, progress: &dyn Progress) -> Result<ImportBatch, AppError> {
    let mut batch = match kind {
        ImportKind::Programs => ImportBatch::Programs(Vec::new()),
        ImportKind::Closures => ImportBatch::Closures(Vec::new()),
        ImportKind::Students => ImportBatch::Students(Vec::new()),
        ImportKind::Enrollments => ImportBatch::Enrollments(Vec::new()),
        ImportKind::Users => ImportBatch::Users(Vec::new()),
        ImportKind::Assignments => ImportBatch::Assignments(Vec::new()),
        ImportKind::Attendance => ImportBatch::Attendance(Vec::new()),
        ImportKind::Logins => ImportBatch::Logins(Vec::new()),
    };
    let mut problems = Problems::default();
    each_row(kind, input, size, progress, &mut problems, |row, _| {
        match (&mut batch, row) {
            (ImportBatch::Programs(rows), ImportRow::Program(r)) => rows.push(r),
            (ImportBatch::Closures(rows), ImportRow::Closure(r)) => rows.push(r),
            (ImportBatch::Students(rows), ImportRow::Student(r)) => rows.push(r),
            (ImportBatch::Enrollments(rows), ImportRow::Enrollment(r)) => rows.push(r),
            (ImportBatch::Users(rows), ImportRow::User(r)) => rows.push(r),
            (ImportBatch::Assignments(rows), ImportRow::Assignment(r)) => rows.push(r),
            (ImportBatch::Attendance(rows), ImportRow::Attendance(r)) => rows.push(r),
            (ImportBatch::Logins(rows), ImportRow::Login(r)) => rows.push(r),
            _ => {}
        }
        Ok(())
    })?;
    problems.into_result()?;
    Ok(batch)
}

/// Streams an import file row by row: each row good in form goes to `each`, which may note
/// further problems; problems in form are noted in `problems`. Memory does not grow with the
/// file. An unreadable header stops at once.
pub fn each_row(
    kind: ImportKind,
    input: impl Read,
    size: u64,
    progress: &dyn Progress,
    problems: &mut Problems,
    mut each: impl FnMut(ImportRow, &mut Problems) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let input = LineEnds::new(input);
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::None).from_reader(input);
    let header =
        reader.headers().map_err(|e| AppError::Invalid(format!("line 1: cannot read the header: {e}")))?.clone();
    let index = check_header(kind, &header)?;
    progress.start("reading", size);
    let started = std::time::Instant::now();
    let (mut reported, mut rows) = (0u64, 0u64);
    let mut record = csv::StringRecord::new();
    loop {
        let starts_on = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let too_long = match e.kind() {
                    csv::ErrorKind::Io(io) => io.get_ref().and_then(|inner| inner.downcast_ref::<LineTooLong>()),
                    _ => None,
                };
                let line = match (e.kind(), too_long) {
                    (_, Some(LineTooLong(line))) => *line,
                    (csv::ErrorKind::Utf8 { .. }, _) => reader.position().line().saturating_sub(1),
                    _ => e.position().map_or(starts_on, |p| p.line()),
                };
                let message = match (e.kind(), too_long) {
                    (_, Some(too_long)) => too_long.to_string(),
                    (csv::ErrorKind::Utf8 { .. }, _) => "is not valid UTF-8".to_string(),
                    _ => e.to_string(),
                };
                problems.add(line, None, message);
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
                continue;
            }
        }
        let line = line_of(&reader, &record);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != header.len() {
            problems.add(line, None, format!("has {} fields, the header has {}", record.len(), header.len()));
            continue;
        }
        let mut f = Fields { record: &record, index: &index, line, problems: &mut *problems };
        if let Some(row) = parse_row(kind, &mut f) {
            each(row, problems)?;
        }
        rows += 1;
        let at = record.position().map_or(0, |p| p.byte());
        if at - reported > 1 << 20 {
            progress.advance(at - reported);
            reported = at;
            let per_second = rows as f64 / started.elapsed().as_secs_f64().max(1e-3);
            progress.status(&format!("read {rows} rows, {per_second:.0}/s"));
        }
    }
    progress.finish();
    Ok(())
}

/// The line a row just read began on, counted back from where the reader stands: the line after
/// the row's end (`LineEnds` ends every row with `\n`), less the line breaks inside quoted
/// values. The csv reader's own start of a row is the blank line before it, when there is one
/// (rust-csv #208).
fn line_of<R: Read>(reader: &csv::Reader<R>, record: &csv::StringRecord) -> u64 {
    let breaks_inside = record.as_slice().bytes().filter(|&b| b == b'\n').count() as u64;
    reader.position().line().saturating_sub(1 + breaks_inside)
}

/// The longest line an import reads, in bytes: far past any real row (a text value is at most
/// 200 characters), so a file that is one endless line stops with a problem rather than being
/// held in memory whole.
const LONGEST_LINE: usize = 64 * 1024;

/// Passes a file through with its line ends made `\n`, failing once a line runs past
/// `LONGEST_LINE` bytes (checked as each block is read, so a line up to a block longer may pass:
/// the bound is on memory, not a rule on rows). The csv reader ends a row at `\r\n` and at `\r`
/// alone too, but counts lines by the `\n` it has passed: every problem in a Windows file named
/// the line before its own (rust-csv #395), and in an old Mac's file, line 1.
struct LineEnds<R> {
    inner: R,
    /// Bytes since the last line break.
    line: usize,
    /// The byte read after a block ending in `\r`, to tell `\r\n` from `\r` alone; it
    /// begins the next block.
    carried: Option<u8>,
    /// Whether the last byte passed on was `\n`: a file that ends without one is given one, so
    /// every row ends with a line break.
    ended_line: bool,
    /// The line breaks passed on so far: a line too long is named by its own number, not the
    /// csv reader's start of its row (a blank line before it, rust-csv #208).
    breaks: u64,
}

/// The error of a line past `LONGEST_LINE`: its number.
#[derive(Debug)]
struct LineTooLong(u64);

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "runs past {LONGEST_LINE} bytes without a line break; an import has one row per line")
    }
}

impl std::error::Error for LineTooLong {}

impl<R: Read> LineEnds<R> {
    fn new(inner: R) -> Self {
        LineEnds { inner, line: 0, carried: None, ended_line: true, breaks: 0 }
    }

    /// Drops the `\r` of each `\r\n` in `block` and makes each other `\r` a `\n`; the length
    /// of what is left at its start.
    fn line_ends_to_newlines(&mut self, block: &mut [u8]) -> std::io::Result<usize> {
        // Moved up in runs between returns: a Windows file has one in every row.
        let (mut kept, mut from) = (0, 0);
        while let Some(at) = block[from..].iter().position(|&b| b == b'\r').map(|found| from + found) {
            block.copy_within(from..at, kept);
            kept += at - from;
            let next = match block.get(at + 1) {
                Some(&next) => Some(next),
                None => {
                    let mut one = [0u8];
                    self.carried = (self.inner.read(&mut one)? == 1).then_some(one[0]);
                    self.carried
                }
            };
            if next != Some(b'\n') {
                block[kept] = b'\n';
                kept += 1;
            }
            from = at + 1;
        }
        block.copy_within(from.., kept);
        Ok(kept + block.len() - from)
    }
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let read = loop {
            let carried = self.carried.take().map_or(0, |byte| {
                buf[0] = byte;
                1
            });
            let read = carried + self.inner.read(&mut buf[carried..])?;
            let read = if buf[..read].contains(&b'\r') { self.line_ends_to_newlines(&mut buf[..read])? } else { read };
            // Nothing left but more to come (a `\r` whose `\n` was carried): 0 would say the
            // file had ended.
            if read > 0 || self.carried.is_none() {
                break read;
            }
        };
        if read == 0 {
            if self.ended_line {
                return Ok(0);
            }
            buf[0] = b'\n';
            self.ended_line = true;
            return Ok(1);
        }
        self.ended_line = buf[read - 1] == b'\n';
        self.breaks += buf[..read].iter().filter(|&&b| b == b'\n').count() as u64;
        // Lines are short: the last break is a few dozen bytes from the end of what was read.
        self.line = match buf[..read].iter().rposition(|&b| b == b'\n') {
            Some(end) => read - end - 1,
            None => self.line + read,
        };
        if self.line > LONGEST_LINE {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, LineTooLong(self.breaks + 1)));
        }
        Ok(read)
    }
}

/// Reads one row of `kind`; a row with any problem is noted and left out.
fn parse_row(kind: ImportKind, f: &mut Fields) -> Option<ImportRow> {
    let line = f.line;
    let before = f.problems.total();
    let row = match kind {
        ImportKind::Programs => {
            let (id, name, schedule, dates) =
                (f.required("program_id"), f.required("name"), f.parsed("schedule", parse_schedule), f.date_range());
            let (program_id, name, schedule, (start_date, end_date)) = (id?, name?, schedule?, dates?);
            ImportRow::Program(ProgramRow { line, program_id, name, schedule, start_date, end_date })
        }
        ImportKind::Closures => {
            let (id, date, reason) = (f.required("program_id"), f.date("date"), f.optional("reason"));
            ImportRow::Closure(ClosureRow { line, program_id: id?, date: date?, reason })
        }
        ImportKind::Students => {
            let (id, first, last) = (f.required("student_id"), f.required("first_name"), f.required("last_name"));
            let email = f.optional_parsed("email", check_with(crate::domain::records::check_email));
            let phone = f.optional("phone");
            ImportRow::Student(StudentRow {
                line,
                student_id: id?,
                first_name: first?,
                last_name: last?,
                email: email?,
                phone,
            })
        }
        ImportKind::Enrollments => {
            let (id, student, program) =
                (f.required("enrollment_id"), f.required("student_id"), f.required("program_id"));
            let (dates, status) = (f.date_range(), f.value("status"));
            let (start_date, end_date) = dates?;
            ImportRow::Enrollment(EnrollmentRow {
                line,
                enrollment_id: id?,
                student_id: student?,
                program_id: program?,
                start_date,
                end_date,
                status: status?,
            })
        }
        ImportKind::Users => {
            let login = f.parsed("login", check_with(crate::domain::records::check_login));
            let (name, role) = (f.required("name"), f.value("role"));
            let email = f.optional_parsed("email", check_with(crate::domain::records::check_email));
            let onboarded = f.optional_parsed("onboarded", parse_flag);
            ImportRow::User(UserRow {
                line,
                login: login?,
                name: name?,
                role: role?,
                email: email?,
                onboarded: onboarded?.unwrap_or(false),
            })
        }
        ImportKind::Assignments => {
            let (login, student_id) = (f.required("login"), f.required("student_id"));
            ImportRow::Assignment(AssignmentRow { line, login: login?, student_id: student_id? })
        }
        ImportKind::Attendance => {
            let (student, program, date) = (f.required("student_id"), f.required("program_id"), f.date("date"));
            let (status, hours) = (f.value::<AttendanceStatus>("status"), f.optional_parsed("hours", parse_hours));
            if let (Some(status), Some(Some(_))) = (status, hours)
                && let Err(why) = crate::domain::records::check_hours_for(status)
            {
                f.problems.add(line, Some("hours"), why);
            }
            ImportRow::Attendance(AttendanceRow {
                line,
                student_id: student?,
                program_id: program?,
                date: date?,
                status: status?,
                hours: hours?,
            })
        }
        ImportKind::Logins => {
            let (student_id, at) = (f.required("student_id"), f.parsed("at", parse_timestamp));
            ImportRow::Login(LoginRow { line, student_id: student_id?, at: at? })
        }
    };
    // A row with a problem in any column goes no further.
    (f.problems.total() == before).then_some(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Quiet;

    fn read_text(kind: ImportKind, text: &str) -> Result<ImportBatch, AppError> {
        read(kind, text.as_bytes(), text.len() as u64, &Quiet)
    }

    fn problems(result: Result<ImportBatch, AppError>) -> Vec<String> {
        match result {
            Err(AppError::InvalidRows(p)) => p.iter().map(ToString::to_string).collect(),
            other => panic!("expected row problems, got {other:?}"),
        }
    }

    #[test]
    fn a_line_too_long_stops_the_reading_at_its_line_and_a_lone_carriage_return_ends_a_line() {
        let long = format!("student_id,first_name,last_name\nS1,Ann,Lee\nS2,{},Ray\nS3,Cy,Dee\n", "x".repeat(200_000));
        assert_eq!(
            problems(read_text(ImportKind::Students, &long)),
            ["line 3: runs past 65536 bytes without a line break; an import has one row per line"]
        );
        // After blank lines, on its own line, not the first blank one's.
        let after_blanks = long.replacen("S2,", "\n\nS2,", 1);
        assert_eq!(
            problems(read_text(ImportKind::Students, &after_blanks)),
            ["line 5: runs past 65536 bytes without a line break; an import has one row per line"]
        );
        // Well past the longest line in all, with no `\n` anywhere.
        let mut old_style = String::from("student_id,first_name,last_name\r");
        for i in 0..10_000 {
            old_style.push_str(&format!("S{i},Ann,Lee\r"));
        }
        let ImportBatch::Students(rows) = read_text(ImportKind::Students, &old_style).unwrap() else { panic!() };
        assert_eq!(rows.len(), 10_000);
        assert_eq!((rows[0].line, rows[9_999].line), (2, 10_001), "each line counted");
        // Windows' `\r\n`, and a `\r` at the very end, whichever block they fall in.
        let mixed = format!("student_id,first_name,last_name\r\n{}S9,Al,Bo\r", "S1,Ann,Lee\r\n".repeat(5_000));
        let ImportBatch::Students(rows) = read_text(ImportKind::Students, &mixed).unwrap() else { panic!() };
        assert_eq!((rows[0].line, rows[1].line, rows[4_999].line), (2, 3, 5_001));
        assert_eq!((rows.len(), rows[5_000].line), (5_001, 5_002));
        assert_eq!(rows[5_000].last_name, "Bo");
    }

    #[test]
    fn every_line_end_becomes_a_newline_wherever_the_blocks_split() {
        /// Hands out one byte a read: every `\r\n` falls across two blocks.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let Some((first, rest)) = self.0.split_first() else { return Ok(0) };
                buf[0] = *first;
                self.0 = rest;
                Ok(1)
            }
        }
        let text = b"a,b\r\nc\rd\r\r\ne\r";
        for whole in [false, true] {
            let mut out = Vec::new();
            if whole {
                LineEnds::new(&text[..]).read_to_end(&mut out).unwrap();
            } else {
                LineEnds::new(Trickle(text)).read_to_end(&mut out).unwrap();
            }
            assert_eq!(String::from_utf8(out).unwrap(), "a,b\nc\nd\n\ne\n", "whole: {whole}");
        }
    }

    #[test]
    fn a_row_after_blank_lines_or_a_value_across_lines_is_reported_on_its_own_line() {
        let text = "student_id,program_id,date,status,hours\n\
                    \n\
                    S1,P1,2026-03-02,late,8\r\n\
                    \r\n\
                    \r\n\
                    S1,P1,2026-03-03,gone,8\n\
                    \"S\n2\",P1,2026-03-04,absent,\n\
                    S1,P1,2026-03-05,away,";
        let found = problems(read_text(ImportKind::Attendance, text));
        let lines: Vec<&str> = found.iter().map(|p| p.split(',').next().unwrap()).collect();
        assert_eq!(lines, ["line 3", "line 6", "line 7", "line 9"], "{found:?}");
        let ImportBatch::Students(rows) =
            read_text(ImportKind::Students, "student_id,first_name,last_name\n\nS1,Ann,Lee\n\n\nS2,Bo,Li").unwrap()
        else {
            panic!()
        };
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 6]);
    }

    #[test]
    fn a_row_that_is_not_utf8_is_reported_on_its_own_line_after_blank_lines_too() {
        let bytes = b"student_id,first_name,last_name\nS1,\xff,Lee\n\nS2,Bo,\xfe\xfe\nS3,Cy,Dee\n";
        let found = problems(read(ImportKind::Students, &bytes[..], bytes.len() as u64, &Quiet));
        assert_eq!(found, ["line 2: is not valid UTF-8", "line 4: is not valid UTF-8"]);
    }

    #[test]
    fn columns_may_come_in_any_order() {
        let batch =
            read_text(ImportKind::Attendance, "date,status,program_id,student_id\n2026-03-02,present,P1,S1\n").unwrap();
        let ImportBatch::Attendance(rows) = batch else { panic!() };
        assert_eq!(rows[0].student_id, "S1");
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].hours, None);
    }

    #[test]
    fn header_errors_list_the_expected_columns() {
        let err = read_text(ImportKind::Logins, "student_id,when\n").unwrap_err().to_string();
        assert_eq!(err, "line 1: unknown column 'when'; expected columns for logins: student_id,at");
        let err = read_text(ImportKind::Logins, "student_id;at\nS1;2026-01-05T10:00:00Z\n").unwrap_err().to_string();
        assert!(
            err.contains(
                "unknown column 'student_id;at' (the file's values are separated by ';': save it with commas)"
            )
        );
        let err = read_text(ImportKind::Logins, "student_id\tat\n").unwrap_err().to_string();
        assert!(err.contains("(the file's values are separated by tabs: save it with commas)"), "{err}");
        let err = read_text(ImportKind::Logins, "Student_ID,at\n").unwrap_err().to_string();
        assert!(err.contains("unknown column 'Student_ID' (column names are lower case: student_id)"), "{err}");
        let err = read_text(ImportKind::Programs, "program_id,name\n").unwrap_err().to_string();
        assert!(err.contains("missing column schedule, start_date"), "{err}");
        assert!(err.contains("program_id,name,schedule,start_date[,end_date]"), "{err}");
    }

    #[test]
    fn every_bad_value_is_reported_with_line_and_column() {
        let text = "student_id,program_id,date,status,hours\n\
                    S1,P1,2026-13-01,present,8\n\
                    S1,P1,2026-03-02,here,8\n\
                    S1,P1,2026-03-03,present,7.3\n\
                    ,P1,2026-03-04,absent,\n";
        assert_eq!(
            problems(read_text(ImportKind::Attendance, text)),
            vec![
                "line 2, column date: '2026-13-01' is not a date: expected YYYY-MM-DD",
                "line 3, column status: unknown attendance status 'here': expected present, absent or excused",
                "line 4, column hours: 7.3 hours is not in quarter-hour steps (e.g. 7.25, 7.5)",
                "line 5, column student_id: is empty",
            ]
        );
    }

    #[test]
    fn ranges_and_schedules_are_checked() {
        let text = "program_id,name,schedule,start_date,end_date\nP1,Welding,Mon-Fri,2026-03-01,2026-02-01\nP2,CDL,Funday,2026-03-01,\n";
        let found = problems(read_text(ImportKind::Programs, text));
        assert_eq!(found.len(), 2);
        assert!(found[0].starts_with("line 2, column end_date"));
        assert!(found[1].starts_with("line 3, column schedule"));
    }

    #[test]
    fn short_rows_and_flags() {
        let found = problems(read_text(
            ImportKind::Users,
            "login,name,role,onboarded\nws_01,Ann Lee\nws_02,Bo Li,worksite,maybe\n",
        ));
        assert_eq!(
            found,
            vec!["line 2: has 2 fields, the header has 4", "line 3, column onboarded: 'maybe' is not true or false"]
        );
    }

    #[test]
    fn at_most_twenty_problems_are_listed() {
        let mut text = String::from("student_id,at\n");
        for _ in 0..30 {
            text.push_str("S1,yesterday\n");
        }
        let found = problems(read_text(ImportKind::Logins, &text));
        assert_eq!(found.len(), 21);
        assert_eq!(found[20], "… and 10 more");
    }
}
