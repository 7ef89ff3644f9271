//! The Sync tab, on a site laptop's replica: when it last synced with the hub (or why it could
//! not), the changes made here that wait to be sent, and those the hub rejected with its reason —
//! each one shown in full and made again with `R` once its cause is dealt with.

use super::keymap::{Action, Scope};
use super::overlay::{Overlay, ReadFor};
use super::pane::{Change, Context, Effect, Hint, Look, Pane};
use super::theme::Theme;
use crate::store::replica::Outgoing;
use crate::sync::background::Handle;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Wrap};

pub struct SyncPane {
    handle: Handle,
    /// The replica's changes: waiting and rejected first, then the last ones applied.
    changes: Vec<Outgoing>,
    selected: usize,
    hub: String,
    last_recorded: String,
}

impl SyncPane {
    pub fn new(handle: Handle) -> SyncPane {
        SyncPane { handle, changes: Vec::new(), selected: 0, hub: String::new(), last_recorded: String::new() }
    }

    fn count(&self, state: &str) -> usize {
        self.changes.iter().filter(|c| c.state == state).count()
    }

    /// `synced 4m ago`, `offline: …`, `syncing…`.
    fn state_text(&self, now: DateTime<Utc>) -> (String, bool) {
        let state = self.handle.snapshot();
        if state.running {
            return ("syncing…".into(), false);
        }
        match (&state.last_error, state.last_ok) {
            (Some(_), _) => ("offline".into(), true),
            (None, Some(at)) => (format!("synced {} ago", super::inbox::age(&at.to_rfc3339(), now)), false),
            (None, None) if self.last_recorded.is_empty() => ("not synced yet".into(), false),
            (None, None) => (format!("last synced {}", self.last_recorded), false),
        }
    }
}

/// What a change was, in a few words: `attendance log S000017 2026-03-02 present`.
fn summary(change: &Outgoing) -> String {
    let value: serde_json::Value = serde_json::from_str(&change.command).unwrap_or_default();
    match value.get("command").and_then(|kind| kind.as_str()) {
        Some(kind) => {
            let words: Vec<String> = ["student_id", "date", "status", "ids", "action", "code"]
                .iter()
                .filter_map(|key| find(&value, key))
                .collect();
            format!("{} {}", kind.replace('_', " "), words.join(" "))
        }
        None => change.command.chars().take(60).collect(),
    }
}

/// The first value named `key` anywhere in `value`, as text.
fn find(value: &serde_json::Value, key: &str) -> Option<String> {
    match value {
        serde_json::Value::Object(map) => map
            .get(key)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .or_else(|| map.values().find_map(|v| find(v, key))),
        serde_json::Value::Array(items) => items.iter().find_map(|v| find(v, key)),
        _ => None,
    }
}

impl Pane for SyncPane {
    fn title(&self) -> &'static str {
        "Sync"
    }

    /// Offline or with rejected changes, the tab says so wherever the person is.
    fn label(&self, _now: DateTime<Utc>) -> String {
        let state = self.handle.snapshot();
        let mut label = String::from("Sync");
        if state.last_error.is_some() {
            label.push_str(" offline");
        }
        match (self.count("waiting"), self.count("rejected")) {
            (0, 0) => {}
            (waiting, 0) => label.push_str(&format!(" {waiting}⧗")),
            (0, rejected) => label.push_str(&format!(" {rejected}✗")),
            (waiting, rejected) => label.push_str(&format!(" {waiting}⧗ {rejected}✗")),
        }
        label
    }

    fn summary(&mut self, cx: &Context) -> anyhow::Result<()> {
        self.load(cx)
    }

    fn load(&mut self, cx: &Context) -> anyhow::Result<()> {
        let mut changes = cx.app.outbox(cx.actor, Some("rejected"))?;
        changes.extend(cx.app.outbox(cx.actor, Some("waiting"))?);
        let applied = cx.app.outbox(cx.actor, Some("applied"))?;
        changes.extend(applied.into_iter().rev().take(50));
        self.changes = changes;
        self.selected = self.selected.min(self.changes.len().saturating_sub(1));
        if let Some((hub, device, last)) = cx.app.replica_of()? {
            self.hub = format!("{hub} · this laptop is {device} there");
            self.last_recorded = last;
        }
        Ok(())
    }

    fn act(&mut self, action: Action, cx: &Context) -> anyhow::Result<Effect> {
        if super::window::PagedList::page_through(self, action, cx.app, cx.actor)? {
            return Ok(Effect::Nothing);
        }
        let selected = self.changes.get(self.selected);
        Ok(match action {
            Action::SyncNow => {
                self.handle.request();
                Effect::say("syncing with the hub…")
            }
            Action::Open => match selected {
                Some(change) => {
                    Effect::Open(Overlay::Document { doc: document(change), scroll: 0, purpose: ReadFor::Read })
                }
                None => Effect::Nothing,
            },
            Action::Redo => match selected {
                Some(change) if change.state == "rejected" => match serde_json::from_str(&change.command) {
                    Ok(command) => Effect::Change(Change {
                        question: Some(format!(
                            "Make “{}” again? The hub said: {}",
                            summary(change),
                            change.reason.as_deref().unwrap_or("no reason")
                        )),
                        ..Change::new(command)
                    }),
                    Err(_) => Effect::warn("this change cannot be read by this muster"),
                },
                Some(_) => Effect::warn("only a change the hub rejected is made again"),
                None => Effect::Nothing,
            },
            _ => Effect::Nothing,
        })
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, _cx: &Context, look: &Look) {
        draw(self, frame, area, look.theme, look.now);
    }

    fn hints(&self) -> (Vec<Hint>, Vec<Hint>) {
        (vec![(Action::SyncNow, "sync now"), (Action::Redo, "redo"), (Action::Open, "change")], Vec::new())
    }

    fn help(&self) -> &'static [(Scope, &'static str)] {
        &[(Scope::Sync, "sync"), (Scope::List, "lists"), (Scope::Everywhere, "everywhere")]
    }
}

/// The changes, held in memory, answer the same list keys as every list.
impl super::window::PagedList for SyncPane {
    fn move_by(&mut self, _app: &crate::app::App, _actor: &crate::app::Actor, delta: isize) -> anyhow::Result<()> {
        self.selected = super::window::moved(self.selected, self.changes.len(), delta);
        Ok(())
    }
    fn page(&self) -> isize {
        10
    }
}

fn document(change: &Outgoing) -> crate::store::partners::Document {
    let pretty = serde_json::from_str::<serde_json::Value>(&change.command)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| change.command.clone());
    let mut body = format!(
        "# Change {} by {}\n\n- given here at {}\n- {}\n",
        change.seq, change.author, change.local_time, change.state
    );
    if let Some(reason) = &change.reason {
        body.push_str(&format!("- the hub said: {reason}\n"));
    }
    body.push_str("\nAs it was given:\n\n");
    for line in pretty.lines() {
        body.push_str(&format!("    {line}\n"));
    }
    crate::store::partners::Document {
        code: format!("outbox-{}", change.seq),
        title: format!("change {}", change.seq),
        action: "read".into(),
        version: change.state.clone(),
        sha256: String::new(),
        body,
    }
}

fn draw(pane: &SyncPane, frame: &mut Frame, area: Rect, theme: &Theme, now: DateTime<Utc>) {
    let (said, trouble) = pane.state_text(now);
    let block = Block::new().borders(Borders::TOP).title(Line::from(vec![
        Span::styled(" sync with the hub ", theme.accent),
        Span::styled(format!("{said} "), if trouble { theme.error } else { theme.ok }),
    ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let why = pane.handle.snapshot().last_error.map(|e| format!("The last try failed: {e}\n")).unwrap_or_default();
    let about_height = if why.is_empty() { 2 } else { 4 };
    let [about, list] = Layout::vertical([Constraint::Length(about_height), Constraint::Fill(1)]).areas(inner);
    let counts = format!(
        "{why}{} · {} waiting to be sent · {} rejected",
        pane.hub,
        pane.count("waiting"),
        pane.count("rejected")
    );
    frame.render_widget(Paragraph::new(counts).style(theme.dim).wrap(Wrap { trim: true }), about);
    if pane.changes.is_empty() {
        frame.render_widget(Paragraph::new("No changes made here yet.").style(theme.dim), list);
        return;
    }
    let height = list.height.saturating_sub(1) as usize;
    let offset = super::window::scroll_into_view(pane.selected, 0, height.max(1));
    let rows: Vec<Row> = pane
        .changes
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, change)| {
            let state_style = match change.state.as_str() {
                "rejected" => theme.error,
                "waiting" => theme.escalate,
                _ => theme.ok,
            };
            let why = change.reason.clone().unwrap_or_default();
            Row::new(vec![
                Span::raw(change.seq.to_string()),
                Span::styled(change.state.clone(), state_style),
                Span::raw(summary(change)),
                Span::styled(why, theme.dim),
            ])
            .style(if i == pane.selected { theme.selected } else { Style::new() })
        })
        .collect();
    let widths = [Constraint::Length(5), Constraint::Length(9), Constraint::Fill(2), Constraint::Fill(1)];
    let header = Row::new(["#", "state", "change", "why"]).style(theme.dim);
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), list);
}
