//! Keys and the actions they trigger. Every action has a name (for the command palette and the
//! config file) and a description (for the help overlay); `[keys]` in the config file rebinds
//! only the actions it names, e.g. `ack = "A"` or `quit = "ctrl-q"`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Back,
    Help,
    Palette,
    Filter,
    NextTab,
    PrevTab,
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    Open,
    Mark,
    MarkRange,
    MarkAll,
    Ack,
    Snooze,
    Assign,
    Resolve,
    Mine,
    ClearFilters,
    Left,
    Right,
    Present,
    Absent,
    Excused,
    Hours,
    FillWeek,
    PrevWeek,
    NextWeek,
    SwitchView,
    Verify,
    Reject,
    MarkGroup,
    Undo,
    Sort,
    SyncNow,
    Redo,
    Message,
    StopCampaign,
    SwitchTemplates,
    Notifications,
    Digest,
    SwitchChart,
}

/// Where an action applies, for the help overlay and the hint bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everywhere,
    List,
    Alerts,
    Attendance,
    /// A replica's Sync tab.
    Sync,
    Messages,
    Reports,
}

pub struct ActionInfo {
    pub action: Action,
    pub name: &'static str,
    pub description: &'static str,
    pub scope: Scope,
    pub keys: &'static [&'static str],
}

/// Every action, in the order help lists them, with its default keys.
pub const ACTIONS: &[ActionInfo] = &[
    ActionInfo {
        action: Action::Down,
        name: "down",
        description: "next row",
        scope: Scope::List,
        keys: &["j", "down"],
    },
    ActionInfo { action: Action::Up, name: "up", description: "previous row", scope: Scope::List, keys: &["k", "up"] },
    ActionInfo { action: Action::Top, name: "top", description: "first row", scope: Scope::List, keys: &["g", "home"] },
    ActionInfo {
        action: Action::Bottom,
        name: "bottom",
        description: "last row",
        scope: Scope::List,
        keys: &["G", "end"],
    },
    ActionInfo {
        action: Action::PageDown,
        name: "page-down",
        description: "a page down",
        scope: Scope::List,
        keys: &["pagedown", "ctrl-d"],
    },
    ActionInfo {
        action: Action::PageUp,
        name: "page-up",
        description: "a page up",
        scope: Scope::List,
        keys: &["pageup", "ctrl-u"],
    },
    ActionInfo {
        action: Action::Open,
        name: "open",
        description: "show or hide the detail",
        scope: Scope::List,
        keys: &["enter"],
    },
    ActionInfo {
        action: Action::Sort,
        name: "sort",
        description: "sort by the next column",
        scope: Scope::List,
        keys: &["S"],
    },
    ActionInfo {
        action: Action::Filter,
        name: "filter",
        description: "filter by ID or name",
        scope: Scope::List,
        keys: &["/"],
    },
    ActionInfo {
        action: Action::Mark,
        name: "mark",
        description: "mark or unmark the row",
        scope: Scope::Alerts,
        keys: &["space"],
    },
    ActionInfo {
        action: Action::MarkRange,
        name: "mark-range",
        description: "mark from last mark to here",
        scope: Scope::Alerts,
        keys: &["v"],
    },
    ActionInfo {
        action: Action::MarkAll,
        name: "mark-all",
        description: "mark all (again: none)",
        scope: Scope::Alerts,
        keys: &["*"],
    },
    ActionInfo {
        action: Action::Ack,
        name: "ack",
        description: "acknowledge, with a note",
        scope: Scope::Alerts,
        keys: &["a"],
    },
    ActionInfo {
        action: Action::Snooze,
        name: "snooze",
        description: "snooze (acknowledged only)",
        scope: Scope::Alerts,
        keys: &["s"],
    },
    ActionInfo {
        action: Action::Assign,
        name: "assign",
        description: "assign (people who may see)",
        scope: Scope::Alerts,
        keys: &["o"],
    },
    ActionInfo {
        action: Action::Resolve,
        name: "resolve",
        description: "resolve with a note",
        scope: Scope::Alerts,
        keys: &["r"],
    },
    ActionInfo {
        action: Action::Message,
        name: "message",
        description: "message the student",
        scope: Scope::Alerts,
        keys: &["M"],
    },
    ActionInfo {
        action: Action::SwitchTemplates,
        name: "templates",
        description: "templates / sendings",
        scope: Scope::Messages,
        keys: &["T"],
    },
    ActionInfo {
        action: Action::Digest,
        name: "digest",
        description: "your daily digest on/off",
        scope: Scope::Messages,
        keys: &["D"],
    },
    ActionInfo {
        action: Action::StopCampaign,
        name: "stop-campaign",
        description: "stop it: cancel the unsent",
        scope: Scope::Messages,
        keys: &["X"],
    },
    ActionInfo {
        action: Action::Mine,
        name: "mine",
        description: "toggle: only mine",
        scope: Scope::Alerts,
        keys: &["m"],
    },
    ActionInfo {
        action: Action::ClearFilters,
        name: "clear-filters",
        description: "show every live alert",
        scope: Scope::Alerts,
        keys: &["c"],
    },
    ActionInfo {
        action: Action::Left,
        name: "left",
        description: "previous day",
        scope: Scope::Attendance,
        keys: &["left"],
    },
    ActionInfo {
        action: Action::Right,
        name: "right",
        description: "next day",
        scope: Scope::Attendance,
        keys: &["right"],
    },
    ActionInfo {
        action: Action::Present,
        name: "present",
        description: "present, usual hours",
        scope: Scope::Attendance,
        keys: &["p"],
    },
    ActionInfo {
        action: Action::Absent,
        name: "absent",
        description: "absent",
        scope: Scope::Attendance,
        keys: &["x"],
    },
    ActionInfo {
        action: Action::Excused,
        name: "excused",
        description: "excused",
        scope: Scope::Attendance,
        keys: &["e"],
    },
    ActionInfo {
        action: Action::Hours,
        name: "hours",
        description: "present, type the hours",
        scope: Scope::Attendance,
        keys: &["h"],
    },
    ActionInfo {
        action: Action::FillWeek,
        name: "fill-week",
        description: "open days so far: present",
        scope: Scope::Attendance,
        keys: &["F"],
    },
    ActionInfo {
        action: Action::PrevWeek,
        name: "previous-week",
        description: "previous week",
        scope: Scope::Attendance,
        keys: &["["],
    },
    ActionInfo {
        action: Action::NextWeek,
        name: "next-week",
        description: "next week",
        scope: Scope::Attendance,
        keys: &["]"],
    },
    ActionInfo {
        action: Action::SwitchChart,
        name: "switch-chart",
        description: "bars / lines",
        scope: Scope::Reports,
        keys: &["t"],
    },
    ActionInfo {
        action: Action::SwitchView,
        name: "switch-view",
        description: "week grid / verify queue",
        scope: Scope::Attendance,
        keys: &["w"],
    },
    ActionInfo {
        action: Action::Verify,
        name: "verify",
        description: "verify marked or selected",
        scope: Scope::Attendance,
        keys: &["y"],
    },
    ActionInfo {
        action: Action::Reject,
        name: "reject",
        description: "reject, with a reason",
        scope: Scope::Attendance,
        keys: &["n"],
    },
    ActionInfo {
        action: Action::Undo,
        name: "undo",
        description: "undo your last change made here",
        scope: Scope::Everywhere,
        keys: &["u"],
    },
    ActionInfo {
        action: Action::MarkGroup,
        name: "mark-group",
        description: "mark the worksite's week",
        scope: Scope::Attendance,
        keys: &["W"],
    },
    ActionInfo {
        action: Action::SyncNow,
        name: "sync-now",
        description: "sync with the hub now",
        scope: Scope::Sync,
        keys: &["Y"],
    },
    ActionInfo {
        action: Action::Redo,
        name: "redo",
        description: "make a change the hub rejected again",
        scope: Scope::Sync,
        keys: &["R"],
    },
    ActionInfo {
        action: Action::NextTab,
        name: "next-tab",
        description: "next tab (or its number)",
        scope: Scope::Everywhere,
        keys: &["tab"],
    },
    ActionInfo {
        action: Action::PrevTab,
        name: "previous-tab",
        description: "previous tab",
        scope: Scope::Everywhere,
        keys: &["backtab"],
    },
    ActionInfo {
        action: Action::Palette,
        name: "palette",
        description: "run any action by name",
        scope: Scope::Everywhere,
        keys: &[":"],
    },
    ActionInfo { action: Action::Help, name: "help", description: "this help", scope: Scope::Everywhere, keys: &["?"] },
    ActionInfo {
        action: Action::Notifications,
        name: "notifications",
        description: "notifications (⏎ clears)",
        scope: Scope::Everywhere,
        keys: &["N"],
    },
    ActionInfo {
        action: Action::Back,
        name: "back",
        description: "close, cancel, go back",
        scope: Scope::Everywhere,
        keys: &["esc"],
    },
    ActionInfo {
        action: Action::Quit,
        name: "quit",
        description: "quit muster",
        scope: Scope::Everywhere,
        keys: &["q", "ctrl-c"],
    },
];

pub fn info(action: Action) -> &'static ActionInfo {
    ACTIONS.iter().find(|i| i.action == action).expect("every action is listed")
}

/// A key as written in the config file and shown in help: `a`, `G`, `ctrl-s`, `enter`, `pagedown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub fn from_event(event: &KeyEvent) -> Key {
        Key { code: event.code, ctrl: event.modifiers.contains(KeyModifiers::CONTROL) }
    }

    pub fn parse(text: &str) -> Result<Key, String> {
        let (ctrl, rest) = match text.strip_prefix("ctrl-") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "backspace" => KeyCode::Backspace,
            one if one.chars().count() == 1 => KeyCode::Char(one.chars().next().unwrap_or(' ')),
            _ => {
                return Err(format!(
                    "'{text}' is not a key: use a character, ctrl-x, enter, esc, tab, space, up, pagedown …"
                ));
            }
        };
        Ok(Key { code, ctrl })
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Enter => "⏎".to_string(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Char(c) => c.to_string(),
            other => format!("{other:?}"),
        };
        if self.ctrl { format!("C-{base}") } else { base }
    }
}

/// The bindings in force: defaults, with the config file's changes applied.
pub struct Keymap {
    bindings: HashMap<Key, Action>,
    keys: HashMap<Action, Vec<Key>>,
}

impl Keymap {
    /// `overrides` maps action names to keys (`"ack" = "A"`); each replaces that action's keys.
    pub fn new(overrides: &HashMap<String, String>) -> Result<Keymap, String> {
        let mut keys: HashMap<Action, Vec<Key>> = HashMap::new();
        for info in ACTIONS {
            let parsed = info.keys.iter().map(|k| Key::parse(k)).collect::<Result<Vec<_>, _>>()?;
            keys.insert(info.action, parsed);
        }
        for (name, key) in overrides {
            let info = ACTIONS.iter().find(|i| i.name == name).ok_or_else(|| {
                let names: Vec<&str> = ACTIONS.iter().map(|i| i.name).collect();
                format!("[keys] {name}: no such action; actions are {}", names.join(", "))
            })?;
            let key = Key::parse(key).map_err(|e| format!("[keys] {name}: {e}"))?;
            // A key moves to its new action; whatever it did before loses it.
            for bound in keys.values_mut() {
                bound.retain(|k| *k != key);
            }
            keys.insert(info.action, vec![key]);
        }
        let bindings = keys.iter().flat_map(|(action, ks)| ks.iter().map(move |k| (*k, *action))).collect();
        Ok(Keymap { bindings, keys })
    }

    pub fn action(&self, event: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(event);
        self.bindings.get(&key).copied().or_else(|| {
            // Shifted letters arrive as upper case with SHIFT set; match them as written.
            (event.modifiers == KeyModifiers::SHIFT)
                .then(|| self.bindings.get(&Key { code: event.code, ctrl: false }))?
                .copied()
        })
    }

    /// The keys of an action as help shows them: `j/↓`.
    pub fn label(&self, action: Action) -> String {
        self.keys.get(&action).map(|ks| ks.iter().map(Key::label).collect::<Vec<_>>().join("/")).unwrap_or_default()
    }

    /// The first key of an action, for the hint bar.
    pub fn short(&self, action: Action) -> String {
        self.keys.get(&action).and_then(|ks| ks.first()).map(Key::label).unwrap_or_default()
    }
}

/// Where an action applies, as help and README head it.
pub fn scope_heading(scope: Scope) -> &'static str {
    match scope {
        Scope::List => "lists",
        Scope::Alerts => "alert inbox",
        Scope::Attendance => "attendance",
        Scope::Sync => "sync (a site laptop's replica)",
        Scope::Messages => "messages",
        Scope::Reports => "reports",
        Scope::Everywhere => "everywhere",
    }
}

/// README's key table: every action with its default keys and what `?` says it does, from the
/// same list `?` draws, so the two cannot drift apart.
pub fn markdown_key_table() -> String {
    let keymap = Keymap::new(&HashMap::new()).expect("the default keys parse");
    let mut table = String::from("| keys | does | where |\n|---|---|---|\n");
    for info in ACTIONS {
        let keys: Vec<String> =
            keymap.keys.get(&info.action).into_iter().flatten().map(|k| format!("`{}`", k.label())).collect();
        table.push_str(&format!("| {} | {} | {} |\n", keys.join(" "), info.description, scope_heading(info.scope)));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_shows_the_keys_help_shows() {
        let readme = include_str!("../../README.md");
        let table = markdown_key_table();
        assert!(readme.contains(&table), "README's key table differs from what ? shows; it should read:\n{table}");
    }

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn defaults_bind_vim_keys_and_arrows() {
        let map = Keymap::new(&HashMap::new()).unwrap();
        assert_eq!(map.action(&press(KeyCode::Char('j'))), Some(Action::Down));
        assert_eq!(map.action(&press(KeyCode::Down)), Some(Action::Down));
        assert_eq!(map.action(&KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT)), Some(Action::Bottom));
        assert_eq!(map.action(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Quit));
        assert_eq!(map.label(Action::Down), "j/↓");
    }

    #[test]
    fn overrides_change_only_what_they_name() {
        let overrides =
            HashMap::from([("ack".to_string(), "A".to_string()), ("quit".to_string(), "ctrl-q".to_string())]);
        let map = Keymap::new(&overrides).unwrap();
        assert_eq!(map.action(&press(KeyCode::Char('A'))), Some(Action::Ack));
        assert_eq!(map.action(&press(KeyCode::Char('a'))), None, "the old key is free");
        assert_eq!(map.action(&press(KeyCode::Char('q'))), None);
        assert_eq!(map.action(&KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL)), Some(Action::Quit));
        assert_eq!(map.action(&press(KeyCode::Char('j'))), Some(Action::Down), "untouched");
    }

    #[test]
    fn no_key_does_two_things() {
        let mut seen = std::collections::HashMap::new();
        for info in ACTIONS {
            for key in info.keys {
                assert_eq!(seen.insert(*key, info.name), None, "{key} is bound twice");
            }
        }
        // Every action has a key, so none is reachable only by accident.
        for action in [Action::Present, Action::Verify, Action::Reject, Action::FillWeek, Action::SwitchView] {
            assert!(!info(action).keys.is_empty());
        }
    }

    #[test]
    fn mistakes_in_the_config_are_named() {
        let bad_action = HashMap::from([("acknowledge".to_string(), "a".to_string())]);
        assert!(Keymap::new(&bad_action).err().unwrap().contains("no such action"));
        let bad_key = HashMap::from([("ack".to_string(), "hyper-a".to_string())]);
        assert!(Keymap::new(&bad_key).err().unwrap().contains("not a key"));
    }
}
