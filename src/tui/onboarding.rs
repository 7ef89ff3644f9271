//! The Onboarding tab: a partner's checklist (and the role picker, documents and payroll form
//! it opens), every partner's progress for admins.

use super::keymap::{Action, Scope};
use super::overlay::{Overlay, ReadFor};
use super::pane::{Change, Context, Effect, Hint, Look, Pane};
use super::theme::Theme;
use crate::app::{Actor, App, Checklist, Command};
use crate::domain::Role;
use crate::store::partners::Document;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Gauge, Paragraph, Row, Table, Wrap};

/// The Onboarding tab: your checklist, or (admins) everyone's.
#[derive(Default)]
pub struct OnboardingPane {
    pub mine: Option<Checklist>,
    pub partners: Vec<Checklist>,
    pub selected: usize,
    /// Rows the partners' list showed last, for PgUp/PgDn.
    height: std::cell::Cell<usize>,
    /// Part of a partner's login, name or role the partners' list is narrowed to.
    filter: Option<String>,
}

impl OnboardingPane {
    pub fn read(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        if actor.user().role == Role::Admin {
            self.partners = app.partner_checklists(actor)?;
        } else {
            self.mine = Some(app.checklist(actor, None)?);
        }
        self.selected = self.selected.min(self.len().saturating_sub(1));
        Ok(())
    }

    /// The partners the list shows: those matching the filter.
    fn shown(&self) -> Vec<&Checklist> {
        let needle = self.filter.as_deref().unwrap_or("").to_lowercase();
        self.partners
            .iter()
            .filter(|c| {
                needle.is_empty() || format!("{} {} {}", c.login, c.name, c.role).to_lowercase().contains(&needle)
            })
            .collect()
    }

    fn len(&self) -> usize {
        self.mine.as_ref().map_or_else(|| self.shown().len(), |c| c.items.len())
    }

    pub fn move_by(&mut self, delta: isize) {
        self.selected = super::window::moved(self.selected, self.len(), delta);
    }

    pub fn page(&self) -> isize {
        self.height.get().max(1) as isize
    }

    /// The checklist item under the cursor.
    pub fn item(&self) -> Option<&crate::app::ChecklistItem> {
        self.mine.as_ref()?.items.get(self.selected)
    }

    fn draw_pane(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        match &self.mine {
            Some(list) => draw_checklist(frame, area, theme, list, self.selected),
            None => self.draw_partners(frame, area, theme),
        }
    }

    fn draw_partners(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let done = self.partners.iter().filter(|c| c.complete).count();
        let shown = self.shown();
        let place = match (shown.is_empty(), self.filter.as_deref().filter(|f| !f.is_empty())) {
            (true, _) => String::new(),
            (false, None) => format!("· {} of {} ", self.selected + 1, shown.len()),
            (false, Some(text)) => {
                format!("· /{} {} of {} ", crate::domain::text::shown(text), self.selected + 1, shown.len())
            }
        };
        let title = Line::from(vec![
            Span::styled(" partners' onboarding ", theme.accent),
            Span::raw(format!("{done} of {} complete {place}", self.partners.len())),
        ]);
        let block = Block::new().borders(Borders::TOP).title(title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let height = inner.height.saturating_sub(1) as usize;
        self.height.set(height);
        let offset = self.selected.saturating_sub(height.saturating_sub(1));
        let rows: Vec<Row> = shown
            .iter()
            .enumerate()
            .skip(offset)
            .take(height)
            .map(|(i, c)| {
                let missing: Vec<String> = c.missing().iter().map(|m| m.code.clone()).collect();
                // The count first, so a narrow screen that cuts the list still says how many.
                let missing = if missing.is_empty() {
                    String::new()
                } else {
                    format!("{}: {}", missing.len(), missing.join(", "))
                };
                let state = if c.waived {
                    "on file".to_string()
                } else if c.complete {
                    "complete".to_string()
                } else {
                    format!("{}%", c.percent)
                };
                Row::new(vec![
                    Span::raw(c.login.clone()),
                    Span::raw(c.name.clone()),
                    Span::raw(c.role.to_string()),
                    Span::styled(state, if c.complete { theme.ok } else { theme.escalate }),
                    Span::styled(missing, theme.dim),
                ])
                .style(if i == self.selected { theme.selected } else { Style::new() })
            })
            .collect();
        let widths = [
            Constraint::Length(10),
            Constraint::Length(18),
            Constraint::Length(16),
            Constraint::Length(8),
            Constraint::Fill(1),
        ];
        let header = Row::new(["login", "name", "role", "status", "missing"]).style(theme.dim);
        frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), inner);
    }
}

fn draw_checklist(frame: &mut Frame, area: Rect, theme: &Theme, list: &Checklist, selected: usize) {
    let [gauge, items] = Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(area);
    let label = if list.complete {
        "complete: every tab is open to you".to_string()
    } else {
        format!("{}% complete", list.percent)
    };
    frame.render_widget(
        Gauge::default()
            .block(
                Block::new()
                    .borders(Borders::TOP)
                    .title(Span::styled(format!(" onboarding: {} ({}) ", list.name, list.role), theme.accent)),
            )
            .gauge_style(theme.ok)
            .percent(list.percent.min(100) as u16)
            .label(label),
        gauge,
    );
    let height = items.height as usize;
    let offset = selected.saturating_sub(height.saturating_sub(2));
    let mut lines: Vec<Line> = list
        .items
        .iter()
        .enumerate()
        .skip(offset)
        .take(height.saturating_sub(1))
        .map(|(i, item)| {
            let mark = if item.done { Span::styled(" ✓ ", theme.ok) } else { Span::styled(" · ", theme.dim) };
            let step = Span::styled(format!("{:<15}", item.kind), theme.dim);
            let line = Line::from(vec![mark, step, Span::raw(item.title.clone())]);
            if i == selected { line.style(theme.selected) } else { line }
        })
        .collect();
    lines.push(Line::styled(" ⏎ opens the step under the cursor", theme.dim));
    frame.render_widget(Paragraph::new(lines), items);
}

impl Pane for OnboardingPane {
    fn title(&self) -> &'static str {
        "Onboarding"
    }

    fn load(&mut self, cx: &Context) -> anyhow::Result<()> {
        self.read(cx.app, cx.actor)
    }

    fn act(&mut self, action: Action, cx: &Context) -> anyhow::Result<Effect> {
        if crate::tui::window::PagedList::page_through(self, action, cx.app, cx.actor)? {
            return Ok(Effect::Nothing);
        }
        if action != Action::Open {
            return Ok(Effect::Nothing);
        }
        if self.mine.is_none() {
            return Ok(match self.shown().get(self.selected) {
                Some(partner) => Effect::Open(Overlay::Document {
                    doc: checklist_document(partner),
                    scroll: 0,
                    purpose: ReadFor::Read,
                }),
                None => Effect::Nothing,
            });
        }
        let Some(item) = self.item().cloned() else { return Ok(Effect::Nothing) };
        Ok(match item.kind.as_str() {
            "role" => {
                let mut packages = Vec::new();
                for role in [Role::ProgramHolder, Role::Worksite, Role::SiteCoordinator] {
                    let (package, items) = cx.app.role_package(role)?;
                    packages.push((package, items, cx.app.pay_of(role)?));
                }
                let selected = packages.iter().position(|(p, ..)| p.role == cx.actor.user().role).unwrap_or(0);
                Effect::Open(Overlay::RolePicker { packages, selected, scroll: 0 })
            }
            // Accepted only once its whole text has been on screen.
            "responsibility" => Effect::Change(Change {
                question: Some(format!("“{}” — accept this responsibility?", item.title)),
                done: Some(format!("accepted: {}", item.title)),
                ..Change::new(Command::AcceptResponsibilities { codes: vec![item.code] })
            }),
            "consent" => {
                let doc = Document {
                    code: "esign".into(),
                    title: "Consent to do business electronically".into(),
                    action: "consent".into(),
                    version: crate::app::onboarding::ESIGN_VERSION.into(),
                    sha256: String::new(),
                    body: crate::app::onboarding::ESIGN_CONSENT.into(),
                };
                Effect::Open(Overlay::Document { doc, scroll: 0, purpose: ReadFor::Consent })
            }
            // A signed document shows its signature, the drawn mark with it.
            "sign" if item.done => {
                let login = cx.actor.user().login.clone();
                let signed = cx.app.signatures(cx.actor, &login)?;
                match signed.into_iter().rev().find(|s| s.document_code == item.code) {
                    Some(record) => Effect::Open(Overlay::Signed(Box::new(record))),
                    None => Effect::warn("no signature of yours is recorded for it"),
                }
            }
            "sign" | "acknowledge" => {
                let doc = cx.app.document(&item.code)?;
                let purpose = if item.kind == "sign" { ReadFor::Sign } else { ReadFor::Acknowledge };
                Effect::Open(Overlay::Document { doc, scroll: 0, purpose })
            }
            "payroll" => Effect::Open(crate::tui::payroll::payroll_form(cx.app, cx.actor)?),
            _ => Effect::Nothing,
        })
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, _cx: &Context, look: &Look) {
        self.draw_pane(frame, area, look.theme);
    }

    fn hints(&self) -> (Vec<Hint>, Vec<Hint>) {
        match self.mine {
            Some(_) => (vec![(Action::Open, "open step"), (Action::Down, "next")], Vec::new()),
            None => (vec![(Action::Open, "checklist")], vec![(Action::Filter, "filter")]),
        }
    }

    fn help(&self) -> &'static [(Scope, &'static str)] {
        &[(Scope::List, "lists"), (Scope::Everywhere, "everywhere")]
    }

    fn own_keys(&self) -> Vec<(Action, &'static str)> {
        match self.mine {
            Some(_) => vec![(Action::Open, "open the step")],
            None => vec![(Action::Open, "the partner's checklist"), (Action::Filter, "filter by login, name, role")],
        }
    }

    /// Admins narrow the partners' list; a partner's own checklist has no filter.
    fn filter(&mut self) -> Option<&mut Option<String>> {
        match self.mine {
            Some(_) => None,
            None => Some(&mut self.filter),
        }
    }

    fn filter_matches(&self) -> &'static str {
        "login, name or role"
    }

    fn filter_changed(&mut self, _cx: &Context) -> anyhow::Result<()> {
        self.selected = 0;
        Ok(())
    }
}

/// A partner's whole checklist, to read: each step done or not.
fn checklist_document(partner: &Checklist) -> Document {
    let mut body = format!("# {} ({})\n\n{}, {}% done", partner.name, partner.login, partner.role, partner.percent);
    if partner.waived {
        body.push_str(", onboarding on file elsewhere (waived)");
    }
    body.push_str("\n\n");
    for item in &partner.items {
        let mark = if item.done || partner.waived { "done" } else { "missing" };
        body.push_str(&format!("- {mark}: {} ({} {})\n", item.title, item.kind, item.code));
    }
    Document {
        code: format!("checklist-{}", partner.login),
        title: format!("{}'s onboarding", partner.login),
        action: "read".into(),
        version: format!("{}%", partner.percent),
        sha256: String::new(),
        body,
    }
}

/// The checklist or the partners' list, held in memory, answers the same list keys.
impl crate::tui::window::PagedList for OnboardingPane {
    fn move_by(&mut self, _app: &App, _actor: &Actor, delta: isize) -> anyhow::Result<()> {
        OnboardingPane::move_by(self, delta);
        Ok(())
    }
    fn page(&self) -> isize {
        OnboardingPane::page(self)
    }
}

/// A document as the reader shows it: headings in bold, list items with bullets, and the
/// source's line breaks inside a paragraph or item joined so the text wraps to the pane.
pub fn render_markdown(text: &str, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut pending: Option<(bool, String)> = None; // (is a list item, text so far)
    let flush = |pending: &mut Option<(bool, String)>, lines: &mut Vec<Line<'static>>| {
        if let Some((item, text)) = pending.take() {
            lines.push(if item {
                Line::from(vec![Span::styled("  • ", theme.marked), Span::raw(text)])
            } else {
                Line::raw(text)
            });
        }
    };
    for line in text.lines() {
        let trimmed = line.trim();
        if line.starts_with("    ") {
            // Indented lines are shown as they are (JSON, addresses).
            flush(&mut pending, &mut lines);
            lines.push(Line::raw(line.to_string()));
        } else if trimmed.is_empty() {
            flush(&mut pending, &mut lines);
            lines.push(Line::raw(""));
        } else if let Some(heading) = trimmed.strip_prefix("# ") {
            flush(&mut pending, &mut lines);
            lines.push(Line::styled(heading.to_uppercase(), theme.accent));
        } else if let Some(heading) = trimmed.strip_prefix("## ") {
            flush(&mut pending, &mut lines);
            lines.push(Line::styled(heading.to_string(), theme.accent.add_modifier(Modifier::UNDERLINED)));
        } else if let Some(item) = trimmed.strip_prefix("- ") {
            flush(&mut pending, &mut lines);
            pending = Some((true, item.to_string()));
        } else if let Some(numbered) = trimmed.split_once(". ").filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit())) {
            flush(&mut pending, &mut lines);
            pending = Some((false, format!("  {}. {}", numbered.0, numbered.1)));
        } else {
            match &mut pending {
                Some((_, text)) => {
                    text.push(' ');
                    text.push_str(trimmed);
                }
                None => pending = Some((false, trimmed.to_string())),
            }
        }
    }
    flush(&mut pending, &mut lines);
    lines
}

/// A bordered window over almost the whole screen, with a title and a key hint; returns the
/// area inside it.
fn full_popup(frame: &mut Frame, theme: &Theme, title: &str, hint: &str) -> Rect {
    let area = frame.area();
    let outer = Rect {
        x: area.x + 1,
        y: area.y + 1,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    };
    frame.render_widget(ratatui::widgets::Clear, outer);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(Span::styled(format!(" {title} "), theme.accent))
        .title_bottom(Line::styled(format!(" {hint} "), theme.marked));
    let inner = block.inner(outer);
    frame.render_widget(block, outer);
    inner
}

/// A document in a scrollable pane, with what can be done with it.
pub fn draw_document(frame: &mut Frame, theme: &Theme, doc: &Document, scroll: u16, hint: &str) {
    let title = match doc.version.as_str() {
        "" => doc.title.clone(),
        version => format!("{} · version {version}", doc.title),
    };
    let inner = full_popup(frame, theme, &title, hint);
    frame.render_widget(
        Paragraph::new(render_markdown(&doc.body, theme)).wrap(Wrap { trim: false }).scroll((scroll, 0)),
        inner,
    );
}

/// The three role packages side by side, or stacked when narrow; `selected` is highlighted.
pub fn draw_role_picker(
    frame: &mut Frame,
    theme: &Theme,
    packages: &[super::overlay::RoleChoice],
    selected: usize,
    scroll: u16,
) {
    let inner = full_popup(frame, theme, "choose your role", "←/→ role · j/k scroll · ⏎ choose · Esc back");
    let describe = |(p, items, pay): &super::overlay::RoleChoice, chosen: bool| -> Vec<Line<'static>> {
        let mut lines = vec![Line::styled(
            format!("{} {}", if chosen { "▶" } else { " " }, p.title),
            if chosen { theme.selected } else { theme.accent },
        )];
        lines.push(Line::raw(p.summary.clone()));
        lines.push(Line::styled(format!("pay: {pay}"), theme.accent));
        let section = |title: &str, entries: Vec<String>, lines: &mut Vec<Line<'static>>| {
            lines.push(Line::styled(title.to_string(), theme.dim));
            lines.extend(entries.into_iter().map(|e| Line::raw(format!(" • {e}"))));
        };
        section("responsibilities", items.iter().map(|(_, t)| t.clone()).collect(), &mut lines);
        section("may", p.may.clone(), &mut lines);
        section("may not", p.may_not.clone(), &mut lines);
        section("requires", p.requirements.clone(), &mut lines);
        lines.push(Line::raw(""));
        lines
    };
    if inner.width >= 110 {
        let columns = Layout::horizontal([Constraint::Fill(1); 3]).spacing(1).split(inner);
        for (i, package) in packages.iter().enumerate() {
            frame.render_widget(
                Paragraph::new(describe(package, i == selected)).wrap(Wrap { trim: true }).scroll((scroll, 0)),
                columns[i],
            );
        }
    } else {
        // Stacked: start at the selected package, counting the rows the ones above it wrap to.
        let width = inner.width.max(1) as usize;
        let rows = |lines: &[Line]| -> u16 { lines.iter().map(|l| l.width().max(1).div_ceil(width) as u16).sum() };
        let described: Vec<Vec<Line>> = packages.iter().enumerate().map(|(i, p)| describe(p, i == selected)).collect();
        let above: u16 = described.iter().take(selected).map(|lines| rows(lines)).sum();
        let lines: Vec<Line> = described.into_iter().flatten().collect();
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }).scroll((above + scroll, 0)), inner);
    }
}
