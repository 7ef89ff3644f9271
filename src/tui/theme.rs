//! Colours and emphasis. `NO_COLOR` (any value) or `theme = "monochrome"` drops colour: severity
//! still reads from its symbol, and selection from reverse video. `[theme]` in the config file
//! changes single colours: `critical = "light-red"`, `accent = "#5f87af"`. Line charts draw in
//! braille where the locale is UTF-8 and in dots elsewhere; `charts = "dots"` (or `"braille"`)
//! says which for a terminal whose font lacks braille.

use crate::domain::alerts::Severity;
use ratatui::style::{Color, Modifier, Style};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Theme {
    pub critical: Style,
    pub escalate: Style,
    pub warn: Style,
    pub selected: Style,
    pub marked: Style,
    pub dim: Style,
    pub accent: Style,
    pub error: Style,
    pub ok: Style,
    pub active_tab: Style,
    /// Line charts in braille dots (eight to a cell) rather than one `•` a cell.
    pub braille: bool,
}

impl Theme {
    pub fn colour() -> Theme {
        Theme {
            critical: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            escalate: Style::new().fg(Color::Yellow),
            warn: Style::new().fg(Color::Cyan),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            marked: Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
            dim: Style::new().fg(Color::DarkGray),
            accent: Style::new().fg(Color::Blue).add_modifier(Modifier::BOLD),
            error: Style::new().fg(Color::Red),
            ok: Style::new().fg(Color::Green),
            active_tab: Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            braille: true,
        }
    }

    pub fn monochrome() -> Theme {
        Theme {
            critical: Style::new().add_modifier(Modifier::BOLD),
            escalate: Style::new(),
            warn: Style::new(),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            marked: Style::new().add_modifier(Modifier::BOLD),
            dim: Style::new(),
            accent: Style::new().add_modifier(Modifier::BOLD),
            error: Style::new().add_modifier(Modifier::BOLD),
            ok: Style::new(),
            active_tab: Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            braille: true,
        }
    }

    /// The theme the settings ask for; `no_color` wins over every colour (https://no-color.org).
    pub fn from_settings(name: &str, colours: &HashMap<String, String>, no_color: bool) -> Result<Theme, String> {
        let mut colours = colours.clone();
        let charts = colours.remove("charts");
        let mut theme = if no_color { Theme::monochrome() } else { Theme::named(name, &colours)? };
        theme.braille = match charts.as_deref() {
            None => locale_is_utf8(),
            Some("braille") => true,
            Some("dots") => false,
            Some(other) => return Err(format!("[theme] charts = \"{other}\": use \"braille\" or \"dots\"")),
        };
        Ok(theme)
    }

    fn named(name: &str, colours: &HashMap<String, String>) -> Result<Theme, String> {
        let mut theme = match name {
            "default" | "colour" | "color" => Theme::colour(),
            "monochrome" => Theme::monochrome(),
            other => return Err(format!("[theme] name = \"{other}\": use \"default\" or \"monochrome\"")),
        };
        for (element, colour) in colours {
            let colour: Color =
                colour.parse().map_err(|_| format!("[theme] {element} = \"{colour}\" is not a colour"))?;
            let slot = match element.as_str() {
                "critical" => &mut theme.critical,
                "escalate" => &mut theme.escalate,
                "warn" => &mut theme.warn,
                "marked" => &mut theme.marked,
                "dim" => &mut theme.dim,
                "accent" => &mut theme.accent,
                "error" => &mut theme.error,
                "ok" => &mut theme.ok,
                other => {
                    return Err(format!(
                        "[theme] {other}: no such colour; use critical, escalate, warn, marked, dim, accent, error or ok"
                    ));
                }
            };
            *slot = slot.fg(colour);
        }
        Ok(theme)
    }

    pub fn severity(&self, severity: Severity) -> Style {
        match severity {
            Severity::Critical => self.critical,
            Severity::Escalate => self.escalate,
            Severity::Warn => self.warn,
        }
    }
}

/// Whether the locale's character set is UTF-8, as the C library reads it: the first of
/// `LC_ALL`, `LC_CTYPE` and `LANG` that is set.
fn locale_is_utf8() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .is_some_and(|locale| {
            let locale = locale.to_ascii_lowercase();
            locale.contains("utf-8") || locale.contains("utf8")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_means_no_colour_at_all() {
        let theme = Theme::from_settings("default", &HashMap::from([("critical".into(), "red".into())]), true).unwrap();
        for style in [theme.critical, theme.escalate, theme.warn, theme.marked, theme.error, theme.accent] {
            assert_eq!(style.fg, None);
        }
    }

    #[test]
    fn single_colours_can_be_changed() {
        let theme =
            Theme::from_settings("default", &HashMap::from([("warn".into(), "light-green".into())]), false).unwrap();
        assert_eq!(theme.warn.fg, Some(Color::LightGreen));
        assert!(Theme::from_settings("solarized", &HashMap::new(), false).is_err());
        assert!(Theme::from_settings("default", &HashMap::from([("warn".into(), "blurple".into())]), false).is_err());
    }

    #[test]
    fn charts_are_drawn_as_asked_whatever_the_colours() {
        let asked = |charts: &str, no_color| {
            Theme::from_settings("default", &HashMap::from([("charts".into(), charts.into())]), no_color)
        };
        assert!(!asked("dots", false).unwrap().braille);
        assert!(!asked("dots", true).unwrap().braille);
        assert!(asked("braille", true).unwrap().braille);
        assert!(asked("blocks", false).unwrap_err().contains("\"braille\" or \"dots\""));
    }
}
