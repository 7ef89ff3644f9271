//! The alerts and their timeline keep their words, dates and times as numbers
//! (docs/alerts-storage.md): a churn morning rewrites tens of thousands of alert rows and adds as
//! many timeline entries, and their text was most of the pages it wrote. Here they are converted both ways, in Rust and as SQL, so that everything read out
//! of the table is exactly the text it was before.
//!
//! - words: the codes of `domain::alerts::StoredCode`;
//! - dates: days since 1970-01-01;
//! - times: seconds since 1970-01-01T00:00:00Z, read back as `YYYY-MM-DDTHH:MM:SSZ`.

use crate::domain::alerts::StoredCode;
use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};
use rusqlite::Row;
use rusqlite::types::{FromSqlError, Type, ValueRef};

/// `NaiveDate::num_days_from_ce` of 1970-01-01.
const EPOCH_DAYS_FROM_CE: i64 = 719_163;
const SECONDS_A_DAY: i64 = 86_400;

pub fn day_number(day: NaiveDate) -> i64 {
    i64::from(day.num_days_from_ce()) - EPOCH_DAYS_FROM_CE
}

pub fn day_number_opt(day: Option<NaiveDate>) -> Option<i64> {
    day.map(day_number)
}

pub fn day_from_number(number: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(number + EPOCH_DAYS_FROM_CE).ok()?)
}

/// The seconds of a time written `YYYY-MM-DDTHH:MM:SSZ`, the one form muster writes; any other
/// (fractions of a second, another offset) could not be read back as it was written, so it is
/// refused.
pub fn seconds(text: &str) -> Result<i64, String> {
    let refused = || format!("not a time muster stores (YYYY-MM-DDTHH:MM:SSZ): {text}");
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| {
        bytes[range].iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    // With its dashes in place, `days::parse` takes the date as exactly YYYY-MM-DD.
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'Z')];
    if bytes.len() != 20 || separators.iter().any(|&(at, byte)| bytes[at] != byte) {
        return Err(refused());
    }
    let day = super::days::parse(&bytes[..10]).ok_or_else(refused)?;
    let time = (|| NaiveTime::from_hms_opt(number(11..13)?, number(14..16)?, number(17..19)?))().ok_or_else(refused)?;
    Ok(day_number(day) * SECONDS_A_DAY + i64::from(time.num_seconds_from_midnight()))
}

/// `seconds` as rusqlite's error, for binding.
pub fn bound_seconds(text: &str) -> rusqlite::Result<i64> {
    seconds(text).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
}

pub fn bound_seconds_opt(text: Option<&str>) -> rusqlite::Result<Option<i64>> {
    text.map(bound_seconds).transpose()
}

/// `seconds` written back as text.
pub fn time_text(seconds: i64) -> Option<String> {
    let day = day_from_number(seconds.div_euclid(SECONDS_A_DAY))?;
    let second = seconds.rem_euclid(SECONDS_A_DAY);
    if !(0..=9999).contains(&day.year()) {
        return None;
    }
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        day.year(),
        day.month(),
        day.day(),
        second / 3600,
        second / 60 % 60,
        second % 60
    ))
}

fn integer_opt(row: &Row, column: usize) -> rusqlite::Result<Option<i64>> {
    match row.get_ref(column)? {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(n) => Ok(Some(n)),
        other => Err(rusqlite::Error::InvalidColumnType(column, String::new(), other.data_type())),
    }
}

fn unreadable(column: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, Type::Integer, Box::new(FromSqlError::Other(what.into())))
}

pub fn get_day_opt(row: &Row, column: usize) -> rusqlite::Result<Option<NaiveDate>> {
    integer_opt(row, column)?
        .map(|n| day_from_number(n).ok_or_else(|| unreadable(column, format!("not a day number: {n}"))))
        .transpose()
}

pub fn get_time_opt(row: &Row, column: usize) -> rusqlite::Result<Option<String>> {
    integer_opt(row, column)?
        .map(|n| time_text(n).ok_or_else(|| unreadable(column, format!("not a time in seconds: {n}"))))
        .transpose()
}

pub fn get_time(row: &Row, column: usize) -> rusqlite::Result<String> {
    get_time_opt(row, column)?.ok_or_else(|| rusqlite::Error::InvalidColumnType(column, String::new(), Type::Null))
}

pub fn get_code_opt<T: StoredCode>(row: &Row, column: usize) -> rusqlite::Result<Option<T>> {
    integer_opt(row, column)?
        .map(|n| T::from_code(n).ok_or_else(|| unreadable(column, format!("not a known code: {n}"))))
        .transpose()
}

pub fn get_code<T: StoredCode>(row: &Row, column: usize) -> rusqlite::Result<T> {
    get_code_opt(row, column)?.ok_or_else(|| rusqlite::Error::InvalidColumnType(column, String::new(), Type::Null))
}

/// SQL reading the time in `column` as text, as it reads in Rust.
pub fn sql_time(column: &str) -> String {
    format!("strftime('%Y-%m-%dT%H:%M:%SZ', {column}, 'unixepoch')")
}

/// SQL reading the day in `column` as text.
pub fn sql_day(column: &str) -> String {
    format!("date({column} * 86400, 'unixepoch')")
}

/// SQL reading the code in `column` as its word.
pub fn sql_word<T: StoredCode + std::fmt::Display>(column: &str) -> String {
    let arms: Vec<String> = T::CODES.iter().map(|(word, code)| format!("WHEN {code} THEN '{word}'")).collect();
    format!("CASE {column} {} END", arms.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alerts::{AlertStatus, AlertType, Severity};
    use rusqlite::Connection;

    #[test]
    fn times_and_days_read_back_as_written_in_rust_and_in_sql() {
        let conn = Connection::open_in_memory().unwrap();
        for text in [
            "2026-11-18T06:00:00Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2024-02-29T12:34:56Z",
        ] {
            let n = seconds(text).unwrap();
            assert_eq!(time_text(n).as_deref(), Some(text));
            let in_sql: String = conn.query_row(&format!("SELECT {}", sql_time("?1")), [n], |r| r.get(0)).unwrap();
            assert_eq!(in_sql, text);
            let unixepoch: i64 = conn.query_row("SELECT unixepoch(?1)", [text], |r| r.get(0)).unwrap();
            assert_eq!(unixepoch, n, "{text}");
            let day: NaiveDate = text[..10].parse().unwrap();
            let in_sql: String =
                conn.query_row(&format!("SELECT {}", sql_day("?1")), [day_number(day)], |r| r.get(0)).unwrap();
            assert_eq!(in_sql, &text[..10]);
            assert_eq!(day_from_number(day_number(day)), Some(day));
        }
        for bad in [
            "2026-11-18T06:00:00.5Z",
            "2026-11-18T06:00:00+01:00",
            "2026-02-30T00:00:00Z",
            "now",
            "2026-11-18 06:00:00Z",
            "2026-11-18T24:00:00Z",
        ] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn words_read_back_in_sql_as_their_text() {
        let conn = Connection::open_in_memory().unwrap();
        fn each<T: StoredCode + std::fmt::Display>(conn: &Connection) {
            for (word, code) in T::CODES {
                let text: String =
                    conn.query_row(&format!("SELECT {}", sql_word::<T>("?1")), [code], |r| r.get(0)).unwrap();
                assert_eq!(text, word.to_string());
                assert_eq!(T::from_code(*code).map(|w| w.to_string()), Some(word.to_string()));
            }
            assert!(T::from_code(0).is_none());
        }
        each::<AlertType>(&conn);
        each::<Severity>(&conn);
        each::<AlertStatus>(&conn);
        assert_eq!(Severity::Critical.code(), 3);
        assert!(Severity::Warn.code() < Severity::Escalate.code());
    }
}
