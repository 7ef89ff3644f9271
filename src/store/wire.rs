//! Rows travel between a hub and its laptops in one form, whatever either side's schema keeps on
//! disk: the alerts' (and their timeline's) words, days and times as text, as muster kept them before it stored them as
//! numbers (`store::stored`). While an organisation upgrades, a hub and a laptop on different
//! versions still exchange rows, and their digests of the same rows still agree.

use super::stored;
use crate::domain::alerts::{AlertStatus, AlertType, Severity, StoredCode};
use rusqlite::types::{Value, ValueRef};

/// How a column is stored where it is not stored as it travels.
#[derive(Debug, Clone, Copy)]
enum Stored {
    Type,
    Severity,
    Status,
    Day,
    Time,
}

const ALERT_COLUMNS: &[(&str, Stored)] = &[
    ("type", Stored::Type),
    ("severity", Stored::Severity),
    ("status", Stored::Status),
    ("resolved_severity", Stored::Severity),
    ("first_missed", Stored::Day),
    ("as_of", Stored::Day),
    ("streak_start", Stored::Day),
    ("snoozed_until", Stored::Time),
    ("opened_at", Stored::Time),
    ("updated_at", Stored::Time),
    ("resolved_at", Stored::Time),
];

const TIMELINE_COLUMNS: &[(&str, Stored)] = &[("at", Stored::Time), ("run_date", Stored::Day)];

impl Stored {
    fn text(self, number: i64) -> Option<String> {
        match self {
            Stored::Type => AlertType::from_code(number).map(|w| w.to_string()),
            Stored::Severity => Severity::from_code(number).map(|w| w.to_string()),
            Stored::Status => AlertStatus::from_code(number).map(|w| w.to_string()),
            Stored::Day => stored::day_from_number(number).map(|d| d.to_string()),
            Stored::Time => stored::time_text(number),
        }
    }

    fn number(self, text: &str) -> Option<i64> {
        match self {
            Stored::Type => text.parse::<AlertType>().ok().map(StoredCode::code),
            Stored::Severity => text.parse::<Severity>().ok().map(StoredCode::code),
            Stored::Status => text.parse::<AlertStatus>().ok().map(StoredCode::code),
            Stored::Day => text.parse().ok().map(stored::day_number),
            Stored::Time => stored::seconds(text).ok(),
        }
    }
}

/// The columns of one table's rows, by their place in the row, that travel in another form.
pub struct Codec(Vec<Option<Stored>>);

impl Codec {
    pub fn new(table: &str, columns: &[String]) -> Codec {
        let forms: &[(&str, Stored)] = match table {
            "alerts" => ALERT_COLUMNS,
            "alert_events" => TIMELINE_COLUMNS,
            _ => &[],
        };
        Codec(
            columns.iter().map(|column| forms.iter().find(|(name, _)| name == column).map(|&(_, form)| form)).collect(),
        )
    }

    /// The text the value in place `at` travels as, where it is not the stored value itself.
    pub fn wire_text(&self, at: usize, value: ValueRef) -> Option<String> {
        match (self.0.get(at).copied().flatten(), value) {
            (Some(form), ValueRef::Integer(number)) => form.text(number),
            _ => None,
        }
    }

    /// The value to store for the value in place `at` as it travelled.
    pub fn stored(&self, at: usize, value: Value) -> Result<Value, String> {
        match (self.0.get(at).copied().flatten(), value) {
            (Some(form), Value::Text(text)) => form
                .number(&text)
                .map(Value::Integer)
                .ok_or_else(|| format!("a value this muster cannot keep as it came: {text}")),
            (_, value) => Ok(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alert_column_travels_as_text_and_comes_back_as_it_was_stored() {
        let columns: Vec<String> = ["id", "type", "severity", "status", "first_missed", "opened_at", "resolved_at"]
            .iter()
            .map(|c| c.to_string())
            .collect();
        let codec = Codec::new("alerts", &columns);
        let stored_row = [
            Value::Integer(7),
            Value::Integer(2),
            Value::Integer(3),
            Value::Integer(4),
            Value::Integer(stored::day_number("2026-11-02".parse().unwrap())),
            Value::Integer(stored::seconds("2026-11-03T06:00:00Z").unwrap()),
            Value::Null,
        ];
        let wire: Vec<Option<String>> =
            stored_row.iter().enumerate().map(|(i, v)| codec.wire_text(i, ValueRef::from(v))).collect();
        let texts = [
            None,
            Some("no_login"),
            Some("critical"),
            Some("resolved"),
            Some("2026-11-02"),
            Some("2026-11-03T06:00:00Z"),
            None,
        ];
        assert_eq!(wire, texts.map(|t| t.map(str::to_string)));
        for (i, value) in stored_row.iter().enumerate() {
            let travelled = wire[i].clone().map_or(value.clone(), Value::Text);
            assert_eq!(codec.stored(i, travelled).unwrap(), *value);
        }
        assert!(codec.stored(5, Value::Text("2026-11-03T06:00:00.5Z".into())).is_err());
        assert!(codec.stored(1, Value::Text("no-login".into())).is_err());
        let other = Codec::new("attendance", &columns);
        assert_eq!(other.wire_text(1, ValueRef::Integer(2)), None);
    }
}
