//! The Students tab: the students you may see (paged by student ID, both ways), and one
//! student's history — eight weeks of attendance, their alerts, their latest logins.

use super::inbox::age;
use super::keymap::{Action, Scope};
use super::pane::{Context, Effect, Hint, Look, Pane};
use super::theme::Theme;
use super::window::{Side, Window};
use crate::app::{Actor, App, StudentHistory};
use crate::store::roster::StudentOverview;
use chrono::{DateTime, Datelike, Days, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};

const PAGE: usize = 200;

pub struct StudentsPane {
    window: Window<StudentOverview>,
    /// The open history, if any.
    pub history: Option<StudentHistory>,
    /// Part of a student's ID or name the list is narrowed to.
    pub filter: Option<String>,
}

impl Default for StudentsPane {
    fn default() -> Self {
        StudentsPane { window: Window::new(PAGE), history: None, filter: None }
    }
}

/// Reads a page of students after (or before) a student ID; "" is either end.
fn read(
    app: &App,
    actor: &Actor,
    filter: Option<&str>,
    cursor: &str,
    side: Side,
    limit: usize,
) -> anyhow::Result<Vec<StudentOverview>> {
    Ok(app.student_overview(actor, cursor, side == Side::Before, filter, limit)?)
}

impl StudentsPane {
    pub fn first(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        self.window.show_first(read(app, actor, self.filter.as_deref(), "", Side::After, PAGE)?);
        Ok(())
    }

    pub fn last(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        self.window.show_last(read(app, actor, self.filter.as_deref(), "", Side::Before, PAGE)?, None);
        Ok(())
    }

    /// Re-reads the page around the selection after the data changed.
    pub fn reload(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        let Some(first) = self.window.rows.first().map(|r| r.student_id.clone()) else { return self.first(app, actor) };
        let filter = self.filter.as_deref();
        let before = read(app, actor, filter, &first, Side::Before, 1)?;
        let from = before.last().map_or(String::new(), |r| r.student_id.clone());
        let w = &mut self.window;
        let (selected, offset) = (w.selected, w.offset);
        w.rows = read(app, actor, filter, &from, Side::After, 3 * PAGE)?;
        w.at_start = before.is_empty();
        w.at_end = w.rows.len() < 3 * PAGE;
        w.selected = selected.min(w.rows.len().saturating_sub(1));
        w.offset = offset.min(w.selected);
        Ok(())
    }

    pub fn move_by(&mut self, app: &App, actor: &Actor, delta: isize) -> anyhow::Result<()> {
        let filter = self.filter.as_deref();
        self.window.move_by(delta, |edge, side| read(app, actor, filter, &edge.student_id, side, PAGE))
    }

    pub fn page(&self) -> isize {
        self.window.height.max(1) as isize
    }

    pub fn open(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        if let Some(row) = self.window.selected() {
            self.history = Some(app.student_history(actor, &row.student_id)?);
        }
        Ok(())
    }

    pub fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, now: DateTime<Utc>) {
        if self.history.is_some() {
            self.draw_history(frame, area, theme, now);
            return;
        }
        let wide = area.width >= 100;
        let narrowed = match self.filter.as_deref().filter(|f| !f.is_empty()) {
            Some(text) => format!("matching '{}' · ", crate::domain::text::shown(text)),
            None => String::new(),
        };
        let title = Line::from(vec![
            Span::styled(" your students ", theme.accent),
            Span::raw(narrowed),
            Span::raw(if self.window.rows.is_empty() {
                "none ".to_string()
            } else {
                let w = &self.window;
                match (w.position(), w.at_start && w.at_end) {
                    (Some(at), true) => format!("{at} of {} · ⏎ history ", w.rows.len()),
                    (Some(at), false) => format!("{at} · ⏎ history "),
                    (None, _) => "⏎ history ".to_string(),
                }
            }),
        ]);
        let block = Block::new().borders(Borders::TOP).title(title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.window.rows.is_empty() {
            let empty = if self.filter.as_deref().is_some_and(|f| !f.is_empty()) {
                "No student's ID or name matches the filter. Esc in the filter clears it."
            } else {
                "No students are assigned to you yet."
            };
            frame.render_widget(Paragraph::new(empty).style(theme.dim), inner);
            return;
        }
        self.window.height = inner.height.saturating_sub(1) as usize;
        self.window.keep_visible();
        let selected = self.window.selected;
        let (header, widths) = overview_columns(wide);
        // Narrow screens lose alerts, hours, login, last present and the streak before the name.
        let drop_order: Vec<usize> = if wide { Vec::new() } else { vec![6, 5, 4, 3, 2] };
        let kept = super::columns::fitting(inner.width, &widths, &drop_order, 12);
        let rows: Vec<Row> = self
            .window
            .visible()
            .map(|(i, s)| {
                let login = s.last_login.as_deref().map(|l| l.get(..10).unwrap_or(l).to_string()).unwrap_or_default();
                let streak_style = if s.streak > 0 { theme.escalate } else { Style::new() };
                // Without the ID column, two students of one name are told apart by their ID.
                let namesake = !wide && self.window.rows.iter().filter(|o| o.name == s.name).count() > 1;
                let name = if namesake { format!("{} ({})", s.name, s.student_id) } else { s.name.clone() };
                let mut cells = vec![
                    Span::raw(name),
                    Span::raw(s.programs.clone()),
                    Span::styled(if s.streak > 0 { format!("{} missed", s.streak) } else { "—".into() }, streak_style),
                    Span::raw(s.last_present.clone().unwrap_or_default()),
                    Span::raw(login),
                    Span::raw(format!("{}h", s.contact_hours + 0.0)),
                    Span::raw(if s.open_alerts > 0 { s.open_alerts.to_string() } else { String::new() }),
                ];
                if wide {
                    cells.insert(1, Span::raw(s.student_id.clone()));
                    cells.insert(3, Span::raw(s.status.clone().unwrap_or_default()));
                }
                Row::new(super::columns::keep(cells, &kept)).style(if i == selected {
                    theme.selected
                } else {
                    Style::new()
                })
            })
            .collect();
        let (header, widths) = (super::columns::keep(header, &kept), super::columns::keep(widths, &kept));
        frame
            .render_widget(Table::new(rows, widths).header(Row::new(header).style(theme.dim)).column_spacing(1), inner);
    }

    fn draw_history(&self, frame: &mut Frame, area: Rect, theme: &Theme, now: DateTime<Utc>) {
        let Some(history) = &self.history else { return };
        let d = &history.context.detail;
        let title = Line::from(vec![
            Span::styled(format!(" {} ", d.summary.first_name.clone() + " " + &d.summary.last_name), theme.accent),
            Span::raw(format!("{} · Esc back ", d.summary.student_id)),
        ]);
        let block = Block::new().borders(Borders::TOP).title(title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let mut top: Vec<Line> = d
            .enrollments
            .iter()
            .map(|e| {
                Line::raw(format!(
                    "{} {} · {} · {} from {} · {}h verified",
                    e.program_id,
                    e.program_name,
                    e.schedule,
                    e.status,
                    e.start_date,
                    e.contact_hours + 0.0
                ))
            })
            .collect();
        top.push(Line::styled(format!("partners {}", d.summary.assigned_to), theme.dim));
        // Eight weeks, a row each, Monday first: P present, A absent, E excused, · a session day
        // with nothing logged, blank no session.
        let since = history.context.since;
        let first_monday = since - Days::new(u64::from(since.weekday().num_days_from_monday()));
        let mut calendar = vec![Line::styled("week of      M T W T F S S", theme.dim)];
        let mut monday = first_monday;
        while monday <= history.context.since + Days::new(crate::app::HISTORY_DAYS) {
            let mut cells = String::new();
            for i in 0..7 {
                let day = monday + Days::new(i);
                let logged = history.context.recent.iter().find(|r| r.date == day).map(|r| r.status.as_str());
                let mark = super::inbox::day_mark(&history.context, day, logged);
                cells.push(mark);
                cells.push(' ');
            }
            calendar.push(Line::raw(format!("{}   {cells}", monday.format("%b %d"))));
            monday = monday + Days::new(7);
        }
        let mut right = vec![Line::styled("alerts", theme.dim)];
        for a in &history.alerts {
            right.push(Line::from(vec![
                Span::styled(format!("{:>3} ", a.severity.symbol()), theme.severity(a.severity)),
                Span::raw(format!("{} {} · {} · {}", a.kind, a.count, a.status, age(&a.opened_at, now))),
            ]));
        }
        if history.alerts.is_empty() {
            right.push(Line::styled("none", theme.dim));
        }
        right.push(Line::styled("logins", theme.dim));
        right.extend(history.logins.iter().map(|l| Line::raw(l.clone())));
        let messages = &history.context.detail.messages;
        if !messages.is_empty() {
            right.push(Line::styled("messages", theme.dim));
            right.extend(
                messages.iter().take(5).map(|m| {
                    Line::raw(format!("{} · {} · {}", m.status, crate::domain::text::shown(&m.subject), m.from))
                }),
            );
        }
        let [head, body] =
            Layout::vertical([Constraint::Length(top.len() as u16 + 1), Constraint::Fill(1)]).areas(inner);
        frame.render_widget(Paragraph::new(top), head);
        let [left, rest] = Layout::horizontal([Constraint::Length(30), Constraint::Fill(1)]).areas(body);
        frame.render_widget(Paragraph::new(calendar), left);
        frame.render_widget(Paragraph::new(right), rest);
    }
}

/// The student list's header and widths; wide screens add the ID and enrollment status.
fn overview_columns(wide: bool) -> (Vec<&'static str>, Vec<Constraint>) {
    let mut header = vec!["student", "program", "streak", "present", "login", "hours", "alerts"];
    let mut widths = vec![
        Constraint::Fill(1),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(7),
        Constraint::Length(6),
    ];
    if wide {
        header.insert(1, "id");
        widths.insert(1, Constraint::Length(8));
        header.insert(3, "status");
        widths.insert(3, Constraint::Length(9));
    }
    (header, widths)
}

impl crate::tui::window::PagedList for StudentsPane {
    fn move_by(&mut self, app: &App, actor: &Actor, delta: isize) -> anyhow::Result<()> {
        StudentsPane::move_by(self, app, actor, delta)
    }
    fn first(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        StudentsPane::first(self, app, actor)
    }
    fn last(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        StudentsPane::last(self, app, actor)
    }
    fn page(&self) -> isize {
        StudentsPane::page(self)
    }
}

impl Pane for StudentsPane {
    fn title(&self) -> &'static str {
        "Students"
    }

    fn load(&mut self, cx: &Context) -> anyhow::Result<()> {
        self.reload(cx.app, cx.actor)
    }

    fn act(&mut self, action: Action, cx: &Context) -> anyhow::Result<Effect> {
        use crate::tui::window::PagedList;
        match action {
            Action::Back => self.history = None,
            _ if self.history.is_some() => {}
            _ if self.page_through(action, cx.app, cx.actor)? => {}
            Action::Open => self.open(cx.app, cx.actor)?,
            Action::Message => {
                if let Some(row) = self.window.selected() {
                    return super::alerts::message_dialog(cx, &row.student_id, &row.name, None);
                }
            }
            _ => {}
        }
        Ok(Effect::Nothing)
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, _cx: &Context, look: &Look) {
        StudentsPane::draw(self, frame, area, look.theme, look.now);
    }

    fn hints(&self) -> (Vec<Hint>, Vec<Hint>) {
        match self.history {
            Some(_) => (vec![(Action::Back, "back")], vec![(Action::Filter, "filter")]),
            None => (vec![(Action::Open, "history"), (Action::Message, "message")], vec![(Action::Filter, "filter")]),
        }
    }

    fn help(&self) -> &'static [(Scope, &'static str)] {
        &[(Scope::List, "lists"), (Scope::Everywhere, "everywhere")]
    }

    fn own_keys(&self) -> Vec<(Action, &'static str)> {
        match self.history {
            Some(_) => vec![(Action::Back, "back to the list"), (Action::Filter, "filter the list")],
            None => vec![
                (Action::Open, "the student's history"),
                (Action::Message, "message the student"),
                (Action::Filter, "filter by ID or name"),
            ],
        }
    }

    fn sort(&mut self, _cx: &Context) -> anyhow::Result<String> {
        Ok("this list keeps one order: by student ID".into())
    }

    /// The history closes so the narrowed list is seen.
    fn filter(&mut self) -> Option<&mut Option<String>> {
        self.history = None;
        Some(&mut self.filter)
    }

    fn filter_changed(&mut self, cx: &Context) -> anyhow::Result<()> {
        self.first(cx.app, cx.actor)
    }
}
