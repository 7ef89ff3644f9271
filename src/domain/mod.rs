//! Plain types and rules: roles, record states, schedules, the audit chain, demo data.
//!
//! Nothing here touches SQL, a terminal, the clock or the file system; everything that varies
//! (today's date, the acting user, a random seed) is passed in, so the rules test in isolation.

pub mod alerts;
pub mod audit;
pub mod calendar;
pub mod demo;
pub mod message;
pub mod onboarding;
pub mod outcomes;
pub mod records;
pub mod schedule;
pub mod text;
pub mod turnaround;

pub use records::{AttendanceStatus, EnrollmentStatus, Role, User, Verification};
pub use schedule::Schedule;

/// Defines a closed set of text values with parsing that names every accepted value.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The accepted spellings, for error messages: `a, b or c`.
            pub fn expected() -> String {
                $crate::domain::list_words(&[$($text),+])
            }
        }

        impl $crate::domain::Vocabulary for $name {
            fn words() -> &'static [&'static str] {
                &[$($text),+]
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(text: &str) -> Result<Self, String> {
                match text.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("unknown {} '{}': expected {}", $what, other, $name::expected())),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use text_enum;

/// A closed set of words, such as the roles, that a command line can offer as choices.
pub trait Vocabulary: std::str::FromStr<Err = String> + Clone + Send + Sync + 'static {
    fn words() -> &'static [&'static str];
}

/// `a`, `a or b`, `a, b or c`.
pub fn list_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// Parses a `YYYY-MM-DD` date, with a message that shows the expected form.
/// Exactly four, two and two digits: chrono alone also takes `2026-3-2`.
pub fn parse_date(text: &str) -> Result<chrono::NaiveDate, String> {
    let text = text.trim();
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    // Read the digits directly: a million-row import parses a million dates.
    let number = |range: std::ops::Range<usize>| bytes[range].iter().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    shaped
        .then(|| chrono::NaiveDate::from_ymd_opt(number(0..4) as i32, number(5..7), number(8..10)))
        .flatten()
        .ok_or_else(|| format!("'{}' is not a date: expected YYYY-MM-DD", crate::domain::text::shown(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_words_in_prose() {
        assert_eq!(list_words(&["a"]), "a");
        assert_eq!(list_words(&["a", "b"]), "a or b");
        assert_eq!(list_words(&["a", "b", "c"]), "a, b or c");
    }

    #[test]
    fn dates_must_be_iso() {
        assert!(parse_date("2026-02-28").is_ok());
        assert!(parse_date(" 2026-02-28 ").is_ok());
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("02/28/2026").unwrap_err().contains("YYYY-MM-DD"));
        for loose in ["2026-3-2", "2026-03-2", "+2026-03-02", "20260-03-02", "2026/03/02", "2026-03-02T00:00"] {
            assert!(parse_date(loose).is_err(), "{loose}");
        }
    }
}
