//! Messages to students and partners: templates with placeholders, who a campaign goes to, and
//! the states a recipient's message moves through. Rendering needs only the values, so it tests
//! without a database.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The placeholders a template may use, each with what it stands for.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("first_name", "the student's first name"),
    ("last_name", "the student's last name"),
    ("student_id", "the student's ID in the source system"),
    ("program", "the name of the student's current program"),
    ("streak", "missed session days in a row (0 without an open alert)"),
    ("days_since_login", "whole days since the student's last login"),
    ("partner_name", "the name of the person sending"),
    ("partner_email", "the e-mail address of the person sending"),
];

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'t> {
    Text(&'t str),
    Placeholder(&'t str),
}

/// Splits a template into text and placeholders; `{{` and `}}` stand for braces. Refuses a brace
/// left open and a placeholder muster does not know, naming it.
fn parse(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        let Some(at) = rest.find(['{', '}']) else {
            pieces.push(Piece::Text(rest));
            break;
        };
        if at > 0 {
            pieces.push(Piece::Text(&rest[..at]));
        }
        rest = &rest[at..];
        if rest.starts_with("{{") || rest.starts_with("}}") {
            pieces.push(Piece::Text(&rest[..1]));
            rest = &rest[2..];
        } else if rest.starts_with('}') {
            return Err("has a } with no { before it (write }} for a brace)".into());
        } else {
            let Some(end) = rest.find('}') else {
                return Err("has a { that is never closed (write {{ for a brace)".into());
            };
            let name = rest[1..end].trim();
            if !PLACEHOLDERS.iter().any(|(known, _)| *known == name) {
                return Err(format!(
                    "uses {{{name}}}, which muster does not know; placeholders are {}",
                    PLACEHOLDERS.iter().map(|(p, _)| format!("{{{p}}}")).collect::<Vec<_>>().join(", ")
                ));
            }
            pieces.push(Piece::Placeholder(name));
            rest = &rest[end + 1..];
        }
    }
    Ok(pieces)
}

/// Checks a subject or body before it is kept: every placeholder known, every brace closed.
pub fn check(text: &str) -> Result<(), String> {
    parse(text).map(|_| ())
}

/// The values placeholders stand for, for one recipient.
pub type Values = BTreeMap<&'static str, String>;

/// The text with every placeholder replaced by its value (empty where the value is unknown).
pub fn render(text: &str, values: &Values) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + 32);
    for piece in parse(text)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Placeholder(name) => out.push_str(values.get(name).map(String::as_str).unwrap_or("")),
        }
    }
    Ok(out)
}

/// Who a campaign goes to, as its creator chose them. Always within the students the creator may
/// see; checked again for each recipient when their message is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "audience", rename_all = "snake_case")]
pub enum Audience {
    /// Every student the creator may see (an admin: every student).
    Mine,
    /// Students with an active enrollment in the program (by program ID).
    Program { program_id: String },
    /// Students with an open alert at or above the severity.
    OpenAlerts { at_least: super::alerts::Severity },
    /// Students picked one by one (source IDs).
    Students { student_ids: Vec<String> },
}

impl std::fmt::Display for Audience {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Audience::Mine => f.write_str("all my students"),
            Audience::Program { program_id } => write!(f, "students of {program_id}"),
            Audience::OpenAlerts { at_least } => write!(f, "students with an open {at_least} alert or worse"),
            Audience::Students { student_ids } if student_ids.len() == 1 => write!(f, "{}", student_ids[0]),
            Audience::Students { student_ids } => write!(f, "{} students picked by hand", student_ids.len()),
        }
    }
}

crate::domain::text_enum! {
    /// Where one recipient's message stands.
    RecipientStatus, "recipient status" {
        Queued = "queued",
        Sending = "sending",
        Sent = "sent",
        Failed = "failed",
        Skipped = "skipped",
        Cancelled = "cancelled",
        Unknown = "unknown",
    }
}

impl RecipientStatus {
    /// A state nothing moves it out of.
    pub fn is_final(self) -> bool {
        !matches!(self, RecipientStatus::Queued | RecipientStatus::Sending)
    }
}

crate::domain::text_enum! {
    /// What a sending is.
    CampaignKind, "kind of message" {
        Outreach = "outreach",
        Campaign = "campaign",
        Digest = "digest",
    }
}

/// How long to wait before trying a recipient again after a transient failure: doubling from
/// `base` seconds, at most an hour.
pub fn retry_delay(base_secs: u64, attempts: u32) -> u64 {
    base_secs.saturating_mul(1u64 << attempts.saturating_sub(1).min(12)).min(3_600)
}

/// A transient failure is retried this many times in all before the recipient is `failed`.
pub const MAX_ATTEMPTS: u32 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        Values::from([("first_name", "Ana".to_string()), ("streak", "3".to_string())])
    }

    #[test]
    fn placeholders_are_filled_and_braces_kept() {
        let text = "Hi {first_name}, {streak} days {{not a placeholder}} {program}.";
        assert_eq!(render(text, &values()).unwrap(), "Hi Ana, 3 days {not a placeholder} .");
    }

    #[test]
    fn an_unknown_placeholder_is_named() {
        let err = check("Dear {frist_name}").unwrap_err();
        assert!(err.contains("{frist_name}") && err.contains("{first_name}"), "{err}");
        assert!(check("a { b").unwrap_err().contains("never closed"));
        assert!(check("a } b").unwrap_err().contains("no {"));
        assert!(check("{{ and }}").is_ok());
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_delay(30, 1), 30);
        assert_eq!(retry_delay(30, 2), 60);
        assert_eq!(retry_delay(30, 3), 120);
        assert_eq!(retry_delay(30, 40), 3_600);
        assert_eq!(retry_delay(0, 3), 0);
    }
}
