//! The Audit tab (admins): the tamper-evident log page by page, one entry's change in full, and
//! the chain check.

use super::keymap::{Action, Scope};
use super::overlay::{Overlay, ReadFor};
use super::pane::{Context, Effect, Hint, Look, Pane};
use super::theme::Theme;
use super::window::{Side, Window};
use crate::app::{Actor, App};
use crate::domain::audit::AuditEntry;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};

const PAGE: usize = 200;

pub struct AuditPane {
    window: Window<AuditEntry>,
    /// What the last chain check found.
    pub verdict: Option<(String, bool)>,
    /// Part of who, action or what the list is narrowed to.
    filter: Option<String>,
    /// How many entries the list holds, when known.
    total: Option<usize>,
}

impl Default for AuditPane {
    fn default() -> Self {
        AuditPane { window: Window::new(PAGE), verdict: None, filter: None, total: None }
    }
}

fn read(
    app: &App,
    actor: &Actor,
    filter: Option<&str>,
    edge: Option<i64>,
    side: Side,
) -> anyhow::Result<Vec<AuditEntry>> {
    let filter = filter.filter(|f| !f.is_empty());
    Ok(match side {
        Side::After => app.audit_entries_matching(actor, edge.unwrap_or(0), PAGE, filter)?,
        Side::Before => app.audit_entries_before(actor, edge.unwrap_or(i64::MAX), PAGE, filter)?,
    })
}

impl AuditPane {
    /// Opens on the newest entries: the ones an admin looks for first.
    pub fn last(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        // Unfiltered, the newest entry's sequence number is how many there are.
        let rows = read(app, actor, self.filter.as_deref(), None, Side::Before)?;
        let total = match self.filter.as_deref().filter(|f| !f.is_empty()) {
            None => rows.last().map(|e| e.seq as usize),
            Some(_) => (rows.len() < PAGE).then_some(rows.len()),
        };
        self.total = total;
        self.window.show_last(rows, total);
        Ok(())
    }

    pub fn first(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        let rows = read(app, actor, self.filter.as_deref(), None, Side::After)?;
        self.total = (rows.len() < PAGE).then_some(rows.len()).or(self.total);
        self.window.show_first(rows);
        Ok(())
    }

    pub fn move_by(&mut self, app: &App, actor: &Actor, delta: isize) -> anyhow::Result<()> {
        let filter = self.filter.as_deref();
        self.window.move_by(delta, |edge, side| read(app, actor, filter, Some(edge.seq), side))
    }

    pub fn page(&self) -> isize {
        self.window.height.max(1) as isize
    }

    pub fn selected(&self) -> Option<&AuditEntry> {
        self.window.selected()
    }

    /// Runs the chain check and keeps what it found for the title.
    pub fn verify(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        self.verdict = Some(match app.verify_audit(actor, None)? {
            Ok(count) => (format!("chain whole: {count} entries checked"), false),
            Err(broken) => (broken.to_string(), true),
        });
        Ok(())
    }

    pub fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let verdict = match &self.verdict {
            Some((text, broken)) => Span::styled(format!(" {text} "), if *broken { theme.error } else { theme.ok }),
            None => Span::styled(" y checks the chain ", theme.dim),
        };
        let w = &self.window;
        let counter = match (w.position(), self.total) {
            (Some(at), Some(total)) => format!("{at} of {total} "),
            (Some(at), None) => format!("{at} "),
            _ => String::new(),
        };
        let narrowed = match self.filter.as_deref().filter(|f| !f.is_empty()) {
            Some(text) => format!("/{} ", crate::domain::text::shown(text)),
            None => String::new(),
        };
        let block = Block::new().borders(Borders::TOP).title(Line::from(vec![
            Span::styled(" audit log ", theme.accent),
            Span::raw(format!("{narrowed}{counter}")),
            verdict,
        ]));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.window.rows.is_empty() {
            frame.render_widget(Paragraph::new("No entries.").style(theme.dim), inner);
            return;
        }
        self.window.height = inner.height.saturating_sub(1) as usize;
        self.window.keep_visible();
        let selected = self.window.selected;
        let rows: Vec<Row> = self
            .window
            .visible()
            .map(|(i, e)| {
                let who = match &e.acting_as {
                    Some(as_login) => format!("{} as {as_login}", e.actor),
                    None => e.actor.clone(),
                };
                Row::new(vec![
                    Span::raw(e.seq.to_string()),
                    Span::styled(e.at.replace('T', " ").trim_end_matches('Z').to_string(), theme.dim),
                    Span::raw(who),
                    Span::raw(e.action.clone()),
                    Span::raw(format!("{} {}", e.entity, e.entity_id)),
                ])
                .style(if i == selected { theme.selected } else { Style::new() })
            })
            .collect();
        let widths = [
            Constraint::Length(7),
            Constraint::Length(19),
            Constraint::Length(14),
            Constraint::Length(20),
            Constraint::Fill(1),
        ];
        let header = Row::new(["seq", "at (UTC)", "who", "action", "what"]).style(theme.dim);
        frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), inner);
    }
}

/// An entry in full, as a document to read: who, where, and the change as JSON.
pub fn entry_text(e: &AuditEntry) -> String {
    let change: serde_json::Value =
        serde_json::from_str(&e.change).unwrap_or(serde_json::Value::String(e.change.clone()));
    // Indented, so the reader shows it line for line.
    let pretty: String =
        serde_json::to_string_pretty(&change).unwrap_or_default().lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "## Entry {}\n\n- at: {}\n- actor: {}{}\n- action: {}\n- entity: {} {}\n- host: {}, client: {}, muster {}\n- hash: {}\n- previous: {}\n\n## Change\n\n{pretty}",
        e.seq,
        e.at,
        e.actor,
        e.acting_as.as_ref().map(|a| format!(" (as {a})")).unwrap_or_default(),
        e.action,
        e.entity,
        e.entity_id,
        e.host,
        e.client,
        e.version,
        e.hash,
        e.prev_hash
    )
}

impl crate::tui::window::PagedList for AuditPane {
    fn move_by(&mut self, app: &App, actor: &Actor, delta: isize) -> anyhow::Result<()> {
        AuditPane::move_by(self, app, actor, delta)
    }
    fn first(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        AuditPane::first(self, app, actor)
    }
    fn last(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        AuditPane::last(self, app, actor)
    }
    fn page(&self) -> isize {
        AuditPane::page(self)
    }
}

impl Pane for AuditPane {
    fn title(&self) -> &'static str {
        "Audit"
    }

    fn load(&mut self, cx: &Context) -> anyhow::Result<()> {
        self.last(cx.app, cx.actor)
    }

    fn act(&mut self, action: Action, cx: &Context) -> anyhow::Result<Effect> {
        use crate::tui::window::PagedList;
        if self.page_through(action, cx.app, cx.actor)? {
            return Ok(Effect::Nothing);
        }
        Ok(match action {
            Action::Verify => {
                self.verify(cx.app, cx.actor)?;
                Effect::Nothing
            }
            Action::Open => match self.selected() {
                Some(entry) => {
                    let doc = crate::store::partners::Document {
                        code: format!("audit-{}", entry.seq),
                        title: format!("audit entry {}", entry.seq),
                        action: "read".into(),
                        version: entry.action.clone(),
                        sha256: entry.hash.clone(),
                        body: entry_text(entry),
                    };
                    Effect::Open(Overlay::Document { doc, scroll: 0, purpose: ReadFor::Read })
                }
                None => Effect::Nothing,
            },
            _ => Effect::Nothing,
        })
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, _cx: &Context, look: &Look) {
        AuditPane::draw(self, frame, area, look.theme);
    }

    fn hints(&self) -> (Vec<Hint>, Vec<Hint>) {
        (
            vec![(Action::Open, "entry"), (Action::Verify, "check chain"), (Action::Bottom, "newest")],
            vec![(Action::Filter, "filter")],
        )
    }

    fn help(&self) -> &'static [(Scope, &'static str)] {
        &[(Scope::List, "lists"), (Scope::Everywhere, "everywhere")]
    }

    fn own_keys(&self) -> Vec<(Action, &'static str)> {
        vec![
            (Action::Open, "the entry in full"),
            (Action::Verify, "check the chain"),
            (Action::Filter, "filter by who, action, what"),
        ]
    }

    fn sort(&mut self, _cx: &Context) -> anyhow::Result<String> {
        Ok("this list keeps one order: by sequence, newest last".into())
    }

    fn filter(&mut self) -> Option<&mut Option<String>> {
        Some(&mut self.filter)
    }

    fn filter_matches(&self) -> &'static str {
        "who, action or what"
    }

    fn filter_changed(&mut self, cx: &Context) -> anyhow::Result<()> {
        self.last(cx.app, cx.actor)
    }
}
