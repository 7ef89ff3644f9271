//! Colours and emphasis. `NO_COLOR` (any value) or `theme = "monochrome"` drops colour: severity
//! still reads from its symbol, and selection from reverse video. `[theme]` in the config file
//! changes single colours: `critical = "light-red"`, `accent = "#5f87af"`.

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
        }
    }

    /// The theme the settings ask for; `no_color` wins over everything (https://no-color.org).
    pub fn from_settings(name: &str, colours: &HashMap<String, String>, no_color: bool) -> Result<Theme, String> {
        if no_color {
            return Ok(Theme::monochrome());
        }
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
}
