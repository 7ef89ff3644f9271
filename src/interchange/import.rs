//! Reading an import file into typed rows. Checks what can be checked without the database:
//! the header, required values, dates, statuses, numbers. Problems name their line and column.

use crate::app::import::{
    AssignmentRow, AttendanceRow, ClosureRow, EnrollmentRow, LoginRow, Problems, ProgramRow, StudentRow, UserRow,
};
use crate::app::{AppError, ImportBatch, ImportKind, Progress};
use crate::domain::text::TextKind;
use crate::domain::{AttendanceStatus, Schedule, parse_date};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
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

fn check_header(kind: ImportKind, header: &csv::StringRecord) -> Result<HashMap<&'static str, usize>, AppError> {
    let (required, optional) = columns(kind);
    let expected = || format!("expected columns for {kind}: {}", expected_columns(kind));
    let mut index = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().trim_start_matches('\u{feff}');
        let Some(known) = required.iter().chain(optional).find(|c| **c == name) else {
            return Err(AppError::Invalid(format!("line 1: unknown column '{name}'; {}", expected())));
        };
        if index.insert(*known, i).is_some() {
            return Err(AppError::Invalid(format!("line 1: column '{name}' appears twice; {}", expected())));
        }
    }
    let missing: Vec<&str> = required.iter().copied().filter(|c| !index.contains_key(c)).collect();
    if !missing.is_empty() {
        return Err(AppError::Invalid(format!("line 1: missing column {}; {}", missing.join(", "), expected())));
    }
    Ok(index)
}

/// Reads one record's fields by column name, noting problems instead of stopping at the first.
struct Fields<'a> {
    record: &'a csv::StringRecord,
    index: &'a HashMap<&'static str, usize>,
    line: u64,
    problems: &'a mut Problems,
}

impl Fields<'_> {
    fn raw(&self, column: &str) -> &str {
        self.index.get(column).and_then(|i| self.record.get(*i)).map_or("", str::trim)
    }

    fn optional(&mut self, column: &str) -> Option<String> {
        let value = Some(self.raw(column)).filter(|v| !v.is_empty())?;
        match crate::domain::text::check(text_kind(column), value) {
            Ok(()) => Some(value.to_string()),
            Err(why) => {
                self.problems.add(self.line, Some(column), why);
                None
            }
        }
    }

    fn required(&mut self, column: &str) -> Option<String> {
        if self.raw(column).is_empty() {
            self.problems.add(self.line, Some(column), "is empty");
            return None;
        }
        self.optional(column)
    }

    fn parsed<T>(&mut self, column: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let text = self.required(column)?;
        parse(&text).map_err(|e| self.problems.add(self.line, Some(column), e)).ok()
    }

    fn optional_parsed<T>(&mut self, column: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<Option<T>> {
        match self.optional(column) {
            None => Some(None),
            Some(text) => parse(&text).map(Some).map_err(|e| self.problems.add(self.line, Some(column), e)).ok(),
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

/// Reads a whole import file. Form problems are collected (up to 20 shown) and returned
/// together; an unreadable header stops at once.
pub fn read(kind: ImportKind, input: impl Read, size: u64, progress: &dyn Progress) -> Result<ImportBatch, AppError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::None).from_reader(input);
    let header =
        reader.headers().map_err(|e| AppError::Invalid(format!("line 1: cannot read the header: {e}")))?.clone();
    let index = check_header(kind, &header)?;
    let mut problems = Problems::default();
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
    progress.start("reading", size);
    let mut reported = 0u64;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let message = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_string(),
                    _ => e.to_string(),
                };
                problems.add(line, None, message);
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != header.len() {
            problems.add(line, None, format!("has {} fields, the header has {}", record.len(), header.len()));
            continue;
        }
        let mut f = Fields { record: &record, index: &index, line, problems: &mut problems };
        push_row(&mut batch, &mut f);
        let at = record.position().map_or(0, |p| p.byte());
        if at - reported > 1 << 20 {
            progress.advance(at - reported);
            reported = at;
        }
    }
    progress.finish();
    problems.into_result()?;
    Ok(batch)
}

/// Reads one row of the batch's kind; a row with any problem is noted and left out.
fn push_row(batch: &mut ImportBatch, f: &mut Fields) {
    let line = f.line;
    match batch {
        ImportBatch::Programs(rows) => {
            let (id, name, schedule, dates) =
                (f.required("program_id"), f.required("name"), f.parsed("schedule", parse_schedule), f.date_range());
            if let (Some(program_id), Some(name), Some(schedule), Some((start_date, end_date))) =
                (id, name, schedule, dates)
            {
                rows.push(ProgramRow { line, program_id, name, schedule, start_date, end_date });
            }
        }
        ImportBatch::Closures(rows) => {
            let (id, date) = (f.required("program_id"), f.date("date"));
            if let (Some(program_id), Some(date)) = (id, date) {
                rows.push(ClosureRow { line, program_id, date, reason: f.optional("reason") });
            }
        }
        ImportBatch::Students(rows) => {
            let (id, first, last) = (f.required("student_id"), f.required("first_name"), f.required("last_name"));
            let email = f.optional_parsed("email", check_with(crate::domain::records::check_email));
            if let (Some(student_id), Some(first_name), Some(last_name), Some(email)) = (id, first, last, email) {
                rows.push(StudentRow { line, student_id, first_name, last_name, email, phone: f.optional("phone") });
            }
        }
        ImportBatch::Enrollments(rows) => {
            let (id, student, program) =
                (f.required("enrollment_id"), f.required("student_id"), f.required("program_id"));
            let (dates, status) = (f.date_range(), f.value("status"));
            if let (
                Some(enrollment_id),
                Some(student_id),
                Some(program_id),
                Some((start_date, end_date)),
                Some(status),
            ) = (id, student, program, dates, status)
            {
                rows.push(EnrollmentRow { line, enrollment_id, student_id, program_id, start_date, end_date, status });
            }
        }
        ImportBatch::Users(rows) => {
            let login = f.parsed("login", check_with(crate::domain::records::check_login));
            let (name, role) = (f.required("name"), f.value("role"));
            let email = f.optional_parsed("email", check_with(crate::domain::records::check_email));
            let onboarded = f.optional_parsed("onboarded", parse_flag);
            if let (Some(login), Some(name), Some(role), Some(email), Some(onboarded)) =
                (login, name, role, email, onboarded)
            {
                rows.push(UserRow { line, login, name, role, email, onboarded: onboarded.unwrap_or(false) });
            }
        }
        ImportBatch::Assignments(rows) => {
            if let (Some(login), Some(student_id)) = (f.required("login"), f.required("student_id")) {
                rows.push(AssignmentRow { line, login, student_id });
            }
        }
        ImportBatch::Attendance(rows) => {
            let (student, program, date) = (f.required("student_id"), f.required("program_id"), f.date("date"));
            let (status, hours) = (f.value::<AttendanceStatus>("status"), f.optional_parsed("hours", parse_hours));
            if let (Some(status), Some(Some(_))) = (status, hours)
                && let Err(why) = crate::domain::records::check_hours_for(status)
            {
                f.problems.add(line, Some("hours"), why);
            }
            if let (Some(student_id), Some(program_id), Some(date), Some(status), Some(hours)) =
                (student, program, date, status, hours)
            {
                rows.push(AttendanceRow { line, student_id, program_id, date, status, hours });
            }
        }
        ImportBatch::Logins(rows) => {
            if let (Some(student_id), Some(at)) = (f.required("student_id"), f.parsed("at", parse_timestamp)) {
                rows.push(LoginRow { line, student_id, at });
            }
        }
    }
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
