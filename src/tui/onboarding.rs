//! The Onboarding and Payroll tabs: a partner's checklist (and the role picker, documents and
//! payroll form it opens), every partner's progress for admins, and the payroll queue.

use super::inbox::age;
use super::theme::Theme;
use crate::app::{Actor, App, Checklist};
use crate::domain::Role;
use crate::store::partners::{Document, PayrollView};
use chrono::{DateTime, Utc};
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
}

impl OnboardingPane {
    pub fn load(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        if actor.user().role == Role::Admin {
            self.partners = app.partner_checklists(actor)?;
        } else {
            self.mine = Some(app.checklist(actor, None)?);
        }
        let len = self.mine.as_ref().map_or(self.partners.len(), |c| c.items.len());
        self.selected = self.selected.min(len.saturating_sub(1));
        Ok(())
    }

    pub fn move_by(&mut self, delta: isize) {
        let len = self.mine.as_ref().map_or(self.partners.len(), |c| c.items.len());
        if len > 0 {
            self.selected = (self.selected as isize + delta).clamp(0, len as isize - 1) as usize;
        }
    }

    pub fn page(&self) -> isize {
        self.height.get().max(1) as isize
    }

    /// The checklist item under the cursor.
    pub fn item(&self) -> Option<&crate::app::ChecklistItem> {
        self.mine.as_ref()?.items.get(self.selected)
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        match &self.mine {
            Some(list) => draw_checklist(frame, area, theme, list, self.selected),
            None => self.draw_partners(frame, area, theme),
        }
    }

    fn draw_partners(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let done = self.partners.iter().filter(|c| c.complete).count();
        let title = Line::from(vec![
            Span::styled(" partners' onboarding ", theme.accent),
            Span::raw(format!("{done} of {} complete ", self.partners.len())),
        ]);
        let block = Block::new().borders(Borders::TOP).title(title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let height = inner.height.saturating_sub(1) as usize;
        self.height.set(height);
        let offset = self.selected.saturating_sub(height.saturating_sub(1));
        let rows: Vec<Row> = self
            .partners
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
    let inner = full_popup(frame, theme, &format!("{} · version {}", doc.title, doc.version), hint);
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

/// The Payroll tab: the pending queue (admins) or the partner's own profile, read-only.
#[derive(Default)]
pub struct PayrollPane {
    pub profiles: Vec<PayrollView>,
    pub selected: usize,
    pub admin: bool,
}

impl PayrollPane {
    pub fn load(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        self.admin = actor.user().role == Role::Admin;
        self.profiles = app.payroll(actor, self.admin.then_some("pending"))?;
        self.selected = self.selected.min(self.profiles.len().saturating_sub(1));
        Ok(())
    }

    pub fn move_by(&mut self, delta: isize) {
        if !self.profiles.is_empty() {
            self.selected = (self.selected as isize + delta).clamp(0, self.profiles.len() as isize - 1) as usize;
        }
    }

    pub fn selected(&self) -> Option<&PayrollView> {
        self.profiles.get(self.selected)
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, now: DateTime<Utc>) {
        let title = if self.admin { " payroll profiles waiting for approval " } else { " your payroll profile " };
        let block = Block::new().borders(Borders::TOP).title(Span::styled(title, theme.accent));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.profiles.is_empty() {
            let text = if self.admin { "Nothing waiting." } else { "No profile yet: ⏎ opens the form." };
            frame.render_widget(Paragraph::new(text).style(theme.dim), inner);
            return;
        }
        let widths = vec![
            Constraint::Length(10),
            Constraint::Length(16),
            Constraint::Length(6),
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(4),
        ];
        // Narrow screens lose the age, the W-9 and the role before who it is and how they are paid.
        let kept = super::columns::fitting(inner.width, &widths, &[6, 4, 1], 10);
        let rows: Vec<Row> = self
            .profiles
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let cells = vec![
                    Span::raw(p.login.clone()),
                    Span::raw(p.role.clone()),
                    Span::raw(format!("{}", p.rate)),
                    Span::raw(masked_method(p)),
                    Span::styled(format!("W-9 {}", p.w9_media_type.rsplit('/').next().unwrap_or("")), theme.ok),
                    Span::raw(p.status.clone()),
                    Span::styled(age(&p.submitted_at, now), theme.dim),
                ];
                Row::new(super::columns::keep(cells, &kept)).style(if i == self.selected && self.admin {
                    theme.selected
                } else {
                    Style::new()
                })
            })
            .collect();
        let header =
            Row::new(super::columns::keep(vec!["login", "role", "rate", "payout", "W-9", "status", "age"], &kept))
                .style(theme.dim);
        let widths = super::columns::keep(widths, &kept);
        let [table, note] = Layout::vertical([Constraint::Fill(1), Constraint::Length(2)]).areas(inner);
        frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), table);
        let hint = if self.admin {
            "y approve · n reject with a reason · never your own"
        } else {
            "⏎ changes your profile (it goes back for approval)"
        };
        frame.render_widget(Paragraph::new(hint).style(theme.dim).wrap(Wrap { trim: true }), note);
    }
}

/// `ACH ••6789` or `Stripe acct_1Nv…`: enough to recognise, never a whole number.
pub fn masked_method(p: &PayrollView) -> String {
    match (p.method.as_str(), &p.account_last4, &p.stripe_account) {
        ("ach", Some(last4), _) => format!("ACH ••{last4}"),
        (_, _, Some(acct)) => format!("Stripe {}…", acct.chars().take(9).collect::<String>()),
        (method, _, _) => method.to_string(),
    }
}

/// The payroll profile form: a field per line, the role's rate range beside the rate.
pub struct PayrollFormState {
    pub fields: [ratatui_textarea::TextArea<'static>; 4],
    pub method: crate::domain::onboarding::PayoutMethod,
    pub accept: bool,
    pub focus: usize,
    pub range: String,
    pub error: Option<String>,
}

/// Labels of the form's lines, in order; 0–3 are text fields, 4 the method, 5 the terms.
const FORM_LINES: [&str; 6] = ["rate", "account", "routing (ACH)", "W-9 file", "method", "payment terms"];
pub const FORM_RATE: usize = 0;
pub const FORM_ACCOUNT: usize = 1;
pub const FORM_ROUTING: usize = 2;
pub const FORM_W9: usize = 3;
pub const FORM_METHOD: usize = 4;
pub const FORM_TERMS: usize = 5;

impl PayrollFormState {
    pub fn new(range: String, default_rate: f64) -> PayrollFormState {
        let mut fields: [ratatui_textarea::TextArea<'static>; 4] = Default::default();
        fields[FORM_RATE].insert_str(default_rate.to_string());
        fields[FORM_ACCOUNT].set_placeholder_text("ACH: account number · Stripe: acct_…");
        fields[FORM_ROUTING].set_placeholder_text("9 digits");
        fields[FORM_W9].set_placeholder_text("path to your signed W-9 (PDF, PNG or JPEG)");
        PayrollFormState {
            fields,
            method: crate::domain::onboarding::PayoutMethod::Ach,
            accept: false,
            focus: FORM_RATE,
            range,
            error: None,
        }
    }

    /// The form filled with the profile on file, to change it: its rate and payout method. Account
    /// numbers are never shown back (only the last four digits, as a hint), so they are typed again.
    pub fn from_profile(range: String, current: &PayrollView) -> PayrollFormState {
        let mut form = PayrollFormState::new(range, current.rate);
        if let Ok(method) = current.method.parse() {
            form.method = method;
        }
        if let Some(last4) = &current.account_last4 {
            form.fields[FORM_ACCOUNT].set_placeholder_text(format!("on file: ••{last4} · type the full number again"));
        }
        form.fields[FORM_W9].set_placeholder_text(format!(
            "path to your signed W-9 (on file: {}; attach it again)",
            current.w9_media_type.rsplit('/').next().unwrap_or("a file")
        ));
        form
    }

    pub fn text(&self, field: usize) -> String {
        self.fields[field].lines().join("").trim().to_string()
    }

    pub fn draw(&self, frame: &mut Frame, theme: &Theme) {
        let area = frame.area();
        let width = area.width.saturating_sub(4).min(76);
        let outer = Rect {
            x: area.x + (area.width - width) / 2,
            y: area.y + 2,
            width,
            height: 12.min(area.height.saturating_sub(2)),
        };
        frame.render_widget(ratatui::widgets::Clear, outer);
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .title(Span::styled(" payroll profile ", theme.accent))
            .title_bottom(Line::styled(" ↑/↓ field · Space toggles · ⏎ submit · Esc cancel ", theme.marked));
        let inner = block.inner(outer);
        frame.render_widget(block, outer);
        let rows = Layout::vertical([Constraint::Length(1); 8]).split(inner);
        for (i, label) in FORM_LINES.iter().enumerate() {
            let [name, value] = Layout::horizontal([Constraint::Length(15), Constraint::Fill(1)]).areas(rows[i]);
            let style = if i == self.focus { theme.selected } else { theme.dim };
            frame.render_widget(Paragraph::new(Span::styled(format!("{label:>14}"), style)), name);
            match i {
                FORM_METHOD => {
                    let text = match self.method {
                        crate::domain::onboarding::PayoutMethod::Ach => "(•) ACH   ( ) Stripe Connect",
                        crate::domain::onboarding::PayoutMethod::StripeConnect => "( ) ACH   (•) Stripe Connect",
                    };
                    frame.render_widget(Paragraph::new(format!(" {text}")), value);
                }
                FORM_TERMS => {
                    let mark = if self.accept { "[x]" } else { "[ ]" };
                    frame.render_widget(Paragraph::new(format!(" {mark} I accept the payment terms")), value);
                }
                field => {
                    let [edit, hint] = Layout::horizontal([
                        Constraint::Fill(1),
                        Constraint::Length(if field == FORM_RATE { 18 } else { 0 }),
                    ])
                    .areas(value);
                    frame.render_widget(&self.fields[field], edit);
                    if field == FORM_RATE {
                        frame.render_widget(Paragraph::new(Span::styled(format!(" {}", self.range), theme.dim)), hint);
                    }
                }
            }
        }
        if let Some(error) = &self.error {
            frame.render_widget(
                Paragraph::new(Span::styled(error.clone(), theme.error)).wrap(Wrap { trim: true }),
                Rect { height: 2, ..rows[6] },
            );
        }
    }
}
