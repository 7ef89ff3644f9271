//! Dates as the database stores them, `YYYY-MM-DD` text, read and bound without chrono's
//! format strings: the daily job converts a few hundred thousand dates a run, and parsing a
//! format string for each was a tenth of its time.

use chrono::{Datelike, NaiveDate};
use rusqlite::Row;
use rusqlite::types::{FromSqlError, ToSql, ToSqlOutput, ValueRef};

/// A date ready to bind as a parameter.
pub enum DayText {
    Short([u8; 10]),
    /// Years outside 0–9999, written as chrono writes them.
    Long(String),
}

/// `day` as a parameter, exactly as rusqlite's own conversion writes it.
pub fn bound(day: NaiveDate) -> DayText {
    let (year, month, date) = (day.year(), day.month(), day.day());
    if !(0..=9999).contains(&year) {
        return DayText::Long(day.format("%F").to_string());
    }
    let digit = |n: u32| b'0' + (n % 10) as u8;
    let year = year as u32;
    DayText::Short([
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        b'-',
        digit(month / 10),
        digit(month),
        b'-',
        digit(date / 10),
        digit(date),
    ])
}

/// An optional date as a parameter (NULL for none).
pub fn bound_opt(day: Option<NaiveDate>) -> Option<DayText> {
    day.map(bound)
}

impl ToSql for DayText {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(match self {
            DayText::Short(bytes) => bytes,
            DayText::Long(text) => text.as_bytes(),
        })))
    }
}

/// Parses `YYYY-MM-DD`; anything else goes to chrono, so what is accepted is what rusqlite's
/// own conversion accepts.
pub(super) fn parse(text: &[u8]) -> Option<NaiveDate> {
    let number =
        |digits: &[u8]| digits.iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')));
    if let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *text {
        return NaiveDate::from_ymd_opt(number(&[y0, y1, y2, y3])? as i32, number(&[m0, m1])?, number(&[d0, d1])?);
    }
    NaiveDate::parse_from_str(std::str::from_utf8(text).ok()?, "%F").ok()
}

/// The date in `column`, or NULL.
pub fn get_opt(row: &Row, column: usize) -> rusqlite::Result<Option<NaiveDate>> {
    let value = row.get_ref(column)?;
    let text = match value {
        ValueRef::Null => return Ok(None),
        ValueRef::Text(text) => text,
        _ => return Err(rusqlite::Error::InvalidColumnType(column, String::new(), value.data_type())),
    };
    parse(text).map(Some).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            column,
            value.data_type(),
            Box::new(FromSqlError::Other(format!("not a date: {}", String::from_utf8_lossy(text)).into())),
        )
    })
}

/// The date in `column`, which must not be NULL.
pub fn get(row: &Row, column: usize) -> rusqlite::Result<NaiveDate> {
    get_opt(row, column)?
        .ok_or_else(|| rusqlite::Error::InvalidColumnType(column, String::new(), rusqlite::types::Type::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn dates_round_trip_as_rusqlite_writes_and_reads_them() {
        let conn = Connection::open_in_memory().unwrap();
        for text in ["2026-11-18", "0001-01-01", "9999-12-31", "2024-02-29"] {
            let day: NaiveDate = text.parse().unwrap();
            let ours: String = conn.query_row("SELECT ?1", [bound(day)], |r| r.get(0)).unwrap();
            let theirs: String = conn.query_row("SELECT ?1", [day], |r| r.get(0)).unwrap();
            assert_eq!(ours, theirs);
            let back = conn.query_row("SELECT ?1", [text], |r| get(r, 0)).unwrap();
            assert_eq!(back, day);
        }
        let far = NaiveDate::from_ymd_opt(12345, 6, 7).unwrap();
        let ours: String = conn.query_row("SELECT ?1", [bound(far)], |r| r.get(0)).unwrap();
        assert_eq!(ours, far.format("%F").to_string());
        assert_eq!(conn.query_row("SELECT NULL", [], |r| get_opt(r, 0)).unwrap(), None);
        for bad in ["2026-02-30", "yesterday", "2026-11-1x"] {
            assert!(conn.query_row("SELECT ?1", [bad], |r| get(r, 0)).is_err(), "{bad}");
        }
        assert!(conn.query_row("SELECT NULL", [], |r| get(r, 0)).is_err());
    }
}
