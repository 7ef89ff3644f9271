//! Text from people and files: how long it may be and which characters it may hold on the way
//! in, and how it is shown on the way out so that no value can steer another person's terminal.

use std::borrow::Cow;

/// What a piece of text is, which decides its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// An identifier from the source system (student, program, enrollment id): one line, short.
    Id,
    /// A person's or a program's name, an e-mail address, a phone number: one line.
    Name,
    /// A note or a reason: may hold line breaks and tabs.
    Note,
}

impl TextKind {
    /// The most characters a value of this kind may have.
    pub fn max_chars(self) -> usize {
        match self {
            TextKind::Id => 64,
            TextKind::Name => 200,
            TextKind::Note => 4_000,
        }
    }
}

/// Checks a value on its way in: no control characters (a note may break lines), not too long.
/// The message does not repeat the value; the caller names the field.
pub fn check(kind: TextKind, value: &str) -> Result<(), String> {
    let allowed = |c: char| kind == TextKind::Note && (c == '\n' || c == '\t');
    if let Some(c) = value.chars().find(|c| c.is_control() && !allowed(*c)) {
        return Err(format!("contains a control character ({}); type plain text", escaped_char(c)));
    }
    let length = value.chars().count();
    if length > kind.max_chars() {
        return Err(format!("is {length} characters long; at most {}", kind.max_chars()));
    }
    Ok(())
}

fn escaped_char(c: char) -> String {
    match c {
        '\n' => "\\n".into(),
        '\r' => "\\r".into(),
        '\t' => "\\t".into(),
        '\u{1b}' => "\\e".into(),
        c if (c as u32) < 0x100 => format!("\\x{:02x}", c as u32),
        c => format!("\\u{{{:x}}}", c as u32),
    }
}

/// A value as a terminal may show it: every control character written as an escape (`\e`,
/// `\n`, `\x07`), so text that arrived through a file or another person cannot clear a screen,
/// retitle a window or break a table's lines.
pub fn escape_controls(value: &str) -> Cow<'_, str> {
    if !value.chars().any(char::is_control) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if c.is_control() {
            out.push_str(&escaped_char(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// How many characters of a value an error message repeats.
const SHOWN_CHARS: usize = 80;

/// A value repeated in a message: escaped, and cut short when long.
pub fn shown(value: &str) -> String {
    let escaped = escape_controls(value);
    let length = escaped.chars().count();
    if length <= SHOWN_CHARS {
        return escaped.into_owned();
    }
    let head: String = escaped.chars().take(SHOWN_CHARS).collect();
    format!("{head}… ({} more characters)", length - SHOWN_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_on_the_way_in() {
        assert!(check(TextKind::Name, "Ana María Núñez").is_ok());
        assert!(check(TextKind::Name, "a\u{1b}[2Jb").unwrap_err().contains("\\e"));
        assert!(check(TextKind::Name, "two\nlines").is_err());
        assert!(check(TextKind::Note, "two\nlines\tand a tab").is_ok());
        assert!(check(TextKind::Note, "bell\u{7}").unwrap_err().contains("\\x07"));
        assert!(check(TextKind::Note, "csi\u{9b}2J").is_err(), "C1 controls too");
    }

    #[test]
    fn lengths_are_bounded() {
        assert!(check(TextKind::Id, &"x".repeat(64)).is_ok());
        assert!(check(TextKind::Id, &"x".repeat(65)).unwrap_err().contains("at most 64"));
        assert!(check(TextKind::Note, &"é".repeat(4_000)).is_ok(), "counted in characters, not bytes");
        assert!(check(TextKind::Note, &"x".repeat(70_000)).is_err());
    }

    #[test]
    fn output_escapes_and_shortens() {
        assert_eq!(escape_controls("plain"), "plain");
        assert_eq!(escape_controls("\u{1b}]0;pwned\u{7}"), "\\e]0;pwned\\x07");
        assert_eq!(escape_controls("a\nb"), "a\\nb");
        let long = shown(&"y".repeat(1_000));
        assert!(long.ends_with("(920 more characters)"), "{long}");
        assert!(!shown("\u{1b}[2J").contains('\u{1b}'));
    }
}
