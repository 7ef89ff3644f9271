//! The alert inbox: a window of rows paged from the database around the selection (keyset
//! pagination both ways, so a million alerts scroll like ten), marks for bulk actions, and the
//! detail of the selected alert with its student's context and timeline.

use super::theme::Theme;
use super::window::{Side, Window};
use crate::app::{Actor, App, StudentContext};
use crate::domain::alerts::{AlertStatus, AlertType};
use crate::store::alerts::{AlertEvent, AlertFilter, AlertView, Direction};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Sparkline, Table, Wrap};
use std::collections::BTreeSet;

/// Rows fetched at a time, and the most kept in memory around the selection.
const PAGE: usize = 200;
/// Days of attendance the detail shows.
pub const RECENT_DAYS: u64 = 28;

pub struct Detail {
    pub alert: AlertView,
    pub timeline: Vec<AlertEvent>,
    pub context: Option<StudentContext>,
}

pub struct Inbox {
    pub filter: AlertFilter,
    window: Window<AlertView>,
    pub marked: BTreeSet<i64>,
    anchor: Option<i64>,
    pub counts: Option<(u64, u64, u64)>,
    /// The last day the alert job processed (read after the first frame; `Some(None)`: never).
    pub job_ran_through: Option<Option<chrono::NaiveDate>>,
    detail: Option<Detail>,
    /// Why the selected alert's detail could not be read, if it could not.
    detail_error: Option<String>,
    /// On narrow screens the detail replaces the list while open.
    pub detail_open: bool,
    /// Where the list's first row was drawn, for mouse clicks.
    pub list_area: Rect,
}

impl Default for Inbox {
    fn default() -> Self {
        Inbox {
            filter: AlertFilter::default(),
            window: Window::new(PAGE),
            marked: BTreeSet::new(),
            anchor: None,
            counts: None,
            job_ran_through: None,
            detail: None,
            detail_error: None,
            detail_open: false,
            list_area: Rect::default(),
        }
    }
}

/// Reads a page of alerts next to `cursor` (from either end when there is none).
fn read(
    app: &App,
    actor: &Actor,
    filter: &AlertFilter,
    cursor: Option<&AlertView>,
    side: Side,
) -> anyhow::Result<Vec<AlertView>> {
    let direction = if side == Side::After { Direction::After } else { Direction::Before };
    let cursor = cursor.map(AlertView::cursor);
    Ok(app.alerts(actor, filter, cursor.as_ref(), direction, PAGE)?)
}

impl Inbox {
    pub fn selected(&self) -> Option<&AlertView> {
        self.window.selected()
    }

    /// Rows a page moves: those the list showed when last drawn.
    pub fn height(&self) -> usize {
        self.window.height
    }

    /// What an action applies to: the marked alerts, or else the selected one.
    pub fn targets(&self) -> Vec<i64> {
        if self.marked.is_empty() {
            self.selected().map(|a| vec![a.id]).unwrap_or_default()
        } else {
            self.marked.iter().copied().collect()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.window.rows.is_empty()
    }

    /// The first page.
    pub fn first(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        self.window.show_first(read(app, actor, &self.filter, None, Side::After)?);
        self.detail = None;
        Ok(())
    }

    /// How many alerts the list holds, when known: the tab bar's counts for the default view
    /// (live, no filter), or the window when it holds the whole list.
    pub fn total(&self) -> Option<usize> {
        let mut filter = self.filter.clone();
        if filter.text.as_deref() == Some("") {
            filter.text = None;
        }
        if filter == AlertFilter::default() {
            return self.counts.map(|(c, e, w)| (c + e + w) as usize);
        }
        (self.window.at_start && self.window.at_end).then_some(self.window.rows.len())
    }

    /// The last page.
    pub fn last(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        let total = self.total();
        self.window.show_last(read(app, actor, &self.filter, None, Side::Before)?, total);
        Ok(())
    }

    /// Re-reads the window around the selection after the data changed, keeping the selection
    /// on the same alert if it is still listed, or at the same place if not.
    pub fn reload(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        let Some(current) = self.selected().cloned() else { return self.first(app, actor) };
        let w = &mut self.window;
        let place = w.selected - w.offset;
        let before = read(app, actor, &self.filter, Some(&current), Side::Before)?;
        let after = read(app, actor, &self.filter, before.last(), Side::After)?;
        w.at_start = before.len() < PAGE;
        w.at_end = after.len() < PAGE;
        let split = before.len();
        // The alert's place is kept; only rows before it that came or went since can shift it.
        let place_in_list = w.position().map(|p| p - 1);
        w.first_index = if w.at_start { Some(0) } else { place_in_list.map(|p| p.saturating_sub(split)) };
        w.rows = before;
        w.rows.extend(after);
        w.selected =
            w.rows.iter().position(|a| a.id == current.id).unwrap_or(split).min(w.rows.len().saturating_sub(1));
        w.offset = w.selected.saturating_sub(place);
        self.detail = None;
        Ok(())
    }

    /// Moves the selection, reading the next or previous page at the window's edge.
    pub fn move_by(&mut self, app: &App, actor: &Actor, delta: isize) -> anyhow::Result<()> {
        let filter = &self.filter;
        self.window.move_by(delta, |edge, side| read(app, actor, filter, Some(edge), side))
    }

    pub fn select_visible_row(&mut self, row: usize) {
        self.window.select_visible_row(row);
    }

    pub fn toggle_mark(&mut self) {
        let Some(id) = self.selected().map(|a| a.id) else { return };
        if !self.marked.remove(&id) {
            self.marked.insert(id);
        }
        self.anchor = Some(id);
    }

    /// Marks every row between the last marked one and the selection.
    pub fn mark_range(&mut self) {
        let (rows, selected) = (&self.window.rows, self.window.selected);
        // An empty list (a filter that matches nothing) has no range to mark.
        let Some(last) = rows.len().checked_sub(1) else { return };
        let selected = selected.min(last);
        let anchor = self.anchor.and_then(|id| rows.iter().position(|a| a.id == id)).unwrap_or(selected);
        let (from, to) = (anchor.min(selected), anchor.max(selected));
        self.marked.extend(rows[from..=to].iter().map(|a| a.id));
        self.anchor = self.selected().map(|a| a.id);
    }

    /// Marks every alert shown in the window; a second time, clears the marks.
    pub fn mark_all(&mut self) {
        if self.window.rows.iter().all(|a| self.marked.contains(&a.id)) {
            self.marked.clear();
        } else {
            self.marked.extend(self.window.rows.iter().map(|a| a.id));
        }
    }

    /// Loads the detail of the selected alert unless it is already loaded; what went wrong is
    /// shown in the detail's place.
    pub fn load_detail(&mut self, app: &App, actor: &Actor) {
        let result = self.read_detail(app, actor);
        self.detail_error = result.err().map(|e| e.to_string());
    }

    fn read_detail(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        let Some(selected) = self.selected() else {
            self.detail = None;
            return Ok(());
        };
        if self.detail.as_ref().is_some_and(|d| d.alert.id == selected.id) {
            return Ok(());
        }
        let (alert, timeline) = app.alert(actor, selected.id)?;
        let context = app.student_context(actor, &alert.student_id, RECENT_DAYS).ok();
        self.detail = Some(Detail { alert, timeline, context });
        Ok(())
    }

    pub fn forget_detail(&mut self) {
        self.detail = None;
    }

    pub fn describe_filter(&self) -> String {
        let f = &self.filter;
        let mut parts = vec![match (f.all_statuses, f.status) {
            (true, _) => "all statuses".to_string(),
            (false, Some(s)) => s.to_string(),
            (false, None) => "live".to_string(),
        }];
        parts.extend(f.severity.map(|s| s.to_string()));
        parts.extend(f.kind.map(|k| k.to_string()));
        parts.extend(f.program_id.clone());
        parts.extend(f.assigned_to.as_ref().map(|a| format!("assigned to {a}")));
        parts.extend(f.text.as_ref().filter(|t| !t.is_empty()).map(|t| format!("/{t}")));
        parts.join(" · ")
    }

    pub fn draw_list(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, now: DateTime<Utc>, filtering: bool) {
        let wide = area.width >= 100;
        let w = &self.window;
        let position = match (w.rows.is_empty(), w.position(), self.total()) {
            (true, ..) => "none".to_string(),
            (false, Some(at), Some(total)) => format!("{at} of {total}"),
            (false, Some(at), None) => at.to_string(),
            (false, None, Some(total)) => format!("{total} in all"),
            (false, None, None) => String::new(),
        };
        let marks = if self.marked.is_empty() { String::new() } else { format!(" · {} marked", self.marked.len()) };
        let filter =
            if filtering { format!(" /{}▏", self.filter.text.clone().unwrap_or_default()) } else { String::new() };
        let title = Line::from(vec![
            Span::styled(format!(" {} ", self.describe_filter()), theme.accent),
            Span::raw(format!("{position}{marks}{filter} ")),
        ]);
        let block = Block::new().borders(Borders::TOP).title(title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        self.window.height = inner.height.saturating_sub(1) as usize;
        self.list_area = Rect { y: inner.y + 1, height: inner.height.saturating_sub(1), ..inner };
        self.window.keep_visible();
        if self.window.rows.is_empty() {
            let why = match self.job_ran_through {
                Some(None) => "No alerts yet: the daily alert job has never run on this database (`muster alerts run`, or the daemon, runs it)."
                    .to_string(),
                Some(Some(day)) => format!(
                    "No alerts here (the daily job has processed up to {day}). Nobody has stopped showing up — or the filter hides them (c clears it)."
                ),
                None => "No alerts here — or the filter hides them (c clears it).".to_string(),
            };
            let empty = Paragraph::new(why).style(theme.dim).wrap(Wrap { trim: true });
            frame.render_widget(empty, inner);
            return;
        }
        let mut header = vec!["", "sev", "student", "alert", "for", "status", "age"];
        let mut widths = vec![
            Constraint::Length(1),
            Constraint::Length(3),
            Constraint::Fill(2),
            Constraint::Length(10),
            Constraint::Length(9),
            Constraint::Length(7),
            Constraint::Length(4),
        ];
        if wide {
            header.splice(3..3, ["id", "program"]);
            widths.splice(3..3, [Constraint::Length(8), Constraint::Length(8)]);
            header.push("assigned");
            widths.push(Constraint::Fill(1));
        }
        // Narrow screens lose age, the count, the alert type and then the status before the
        // student: whether someone has taken an alert up decides what to press next, while the
        // count shows in the detail and its size in the severity.
        let drop_order: Vec<usize> = if wide { Vec::new() } else { vec![6, 4, 3, 5] };
        let kept = super::columns::fitting(inner.width, &widths, &drop_order, 12);
        let (header, widths) = (super::columns::keep(header, &kept), super::columns::keep(widths, &kept));
        let selected = self.window.selected;
        let visible = self.window.visible();
        let rows: Vec<Row> = visible
            .map(|(i, a)| {
                let mark = if self.marked.contains(&a.id) { "●" } else { " " };
                let kind = match a.kind {
                    AlertType::MissingAttendance => "attendance",
                    AlertType::NoLogin => "no login",
                };
                let unit = if a.kind == AlertType::MissingAttendance { "missed" } else { "days" };
                let status = match a.status {
                    AlertStatus::Acknowledged => "ack'd",
                    other => other.as_str(),
                };
                let mut cells = vec![
                    Span::styled(mark, theme.marked),
                    Span::styled(format!("{:>3}", a.severity.symbol()), theme.severity(a.severity)),
                    Span::raw(a.student_name.clone()),
                    Span::raw(kind),
                    Span::raw(format!("{} {unit}", a.count)),
                    Span::raw(status),
                    Span::styled(age(&a.opened_at, now), theme.dim),
                ];
                if wide {
                    cells.splice(
                        3..3,
                        [Span::raw(a.student_id.clone()), Span::raw(a.program_id.clone().unwrap_or_default())],
                    );
                    cells.push(Span::raw(a.assigned_to.clone().unwrap_or_default()));
                }
                let style = if i == selected { theme.selected } else { Style::new() };
                Row::new(super::columns::keep(cells, &kept)).style(style)
            })
            .collect();
        let table = Table::new(rows, widths).header(Row::new(header).style(theme.dim)).column_spacing(1);
        frame.render_widget(table, inner);
    }

    pub fn draw_detail(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::new().borders(Borders::TOP | Borders::LEFT).title(" detail ");
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if let Some(problem) = &self.detail_error {
            frame.render_widget(Paragraph::new(problem.as_str()).style(theme.error).wrap(Wrap { trim: true }), inner);
            return;
        }
        let Some(detail) = &self.detail else {
            frame.render_widget(
                Paragraph::new("Select an alert to see its student and timeline.").style(theme.dim),
                inner,
            );
            return;
        };
        let a = &detail.alert;
        let label = |text: &str| Span::styled(format!("{text:<10}"), theme.dim);
        let mut lines = vec![
            Line::from(vec![
                Span::styled(a.student_name.clone(), theme.accent),
                Span::raw(format!("  {}", a.student_id)),
            ]),
            Line::from(vec![
                label("alert"),
                Span::styled(format!("{} {}", a.severity.symbol(), a.severity), theme.severity(a.severity)),
                Span::raw(format!(" · {} · {}", a.kind, a.status)),
                Span::raw(if a.escalated { " · escalated to admins" } else { "" }),
            ]),
        ];
        let streak = match (a.kind, a.first_missed) {
            (AlertType::MissingAttendance, Some(first)) => format!("{} missed session days since {first}", a.count),
            (AlertType::MissingAttendance, None) => format!("{} missed session days", a.count),
            (AlertType::NoLogin, _) => format!("{} days without a login", a.count),
        };
        lines.push(Line::from(vec![label("streak"), Span::raw(streak)]));
        lines.push(Line::from(vec![
            label("assigned"),
            Span::raw(a.assigned_to.clone().unwrap_or_else(|| "nobody yet".into())),
        ]));
        if let Some(until) = &a.snoozed_until {
            lines.push(Line::from(vec![label("snoozed"), Span::raw(format!("until {until}"))]));
        }
        let mut sparkline: Option<(Vec<u64>, String)> = None;
        if let Some(context) = &detail.context {
            let d = &context.detail;
            for e in &d.enrollments {
                lines.push(Line::from(vec![
                    label("program"),
                    Span::raw(format!("{} {} ({}, {})", e.program_id, e.program_name, e.schedule, e.status)),
                ]));
            }
            lines.push(Line::from(vec![label("partners"), Span::raw(d.summary.assigned_to.clone())]));
            lines.push(Line::from(vec![
                label("last seen"),
                Span::raw(format!(
                    "present {} · login {}",
                    d.last_present.as_deref().unwrap_or("never"),
                    d.last_login.as_deref().map(|l| l.get(..10).unwrap_or(l)).unwrap_or("never")
                )),
            ]));
            let (hours, marks) = recent_days(context);
            sparkline = Some((hours, marks));
        }
        // Details wrap rather than cut: each line takes the rows it wraps to.
        let wrapped: usize = lines.iter().map(|l| l.width().max(1).div_ceil(usize::from(inner.width.max(1)))).sum();
        let [top, spark, rest] = Layout::vertical([
            Constraint::Length(wrapped as u16),
            Constraint::Length(if sparkline.is_some() { 3 } else { 0 }),
            Constraint::Fill(1),
        ])
        .areas(inner);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), top);
        if let Some((hours, marks)) = sparkline {
            let [title, bars, days] = Layout::vertical([Constraint::Length(1); 3]).areas(spark);
            frame.render_widget(Paragraph::new(Line::from(label("last 4 wk"))), title);
            let width = (bars.width as usize).min(hours.len());
            let skip = hours.len() - width;
            frame.render_widget(Sparkline::default().data(&hours[skip..]).max(8).style(theme.ok), bars);
            frame.render_widget(Paragraph::new(marks.chars().skip(skip).collect::<String>()).style(theme.dim), days);
        }
        let mut events: Vec<Line> = vec![Line::styled("timeline", theme.dim)];
        for e in detail.timeline.iter().rev() {
            let when = e
                .run_date
                .map(|d| d.format("%m-%d").to_string())
                .unwrap_or_else(|| e.at.get(5..10).unwrap_or("").to_string());
            events.push(Line::from(vec![
                Span::styled(format!("{when} "), theme.dim),
                Span::raw(format!("{:<9} ", e.kind)),
                Span::styled(format!("{} ", e.actor), theme.dim),
                Span::raw(e.note.clone().unwrap_or_default()),
            ]));
        }
        frame.render_widget(Paragraph::new(events).wrap(Wrap { trim: true }), rest);
    }
}

/// A day's letter: P present, A absent, E excused, `·` a session day with nothing logged, blank
/// a day without a session.
pub fn day_mark(context: &StudentContext, day: chrono::NaiveDate, logged: Option<&str>) -> char {
    match logged {
        Some("present") => 'P',
        Some("absent") => 'A',
        Some("excused") => 'E',
        _ if context.session_days.contains(&day) => '·',
        _ => ' ',
    }
}

/// Hours per calendar day and a letter per day for the detail's last four weeks.
fn recent_days(context: &StudentContext) -> (Vec<u64>, String) {
    let mut hours = Vec::new();
    let mut marks = String::new();
    let mut day = context.since;
    for _ in 0..=RECENT_DAYS {
        let record = context.recent.iter().find(|r| r.date == day);
        hours.push(record.and_then(|r| r.hours).map_or(0, |h| h.round() as u64));
        marks.push(day_mark(context, day, record.map(|r| r.status.as_str())));
        day = day.succ_opt().unwrap_or(day);
    }
    (hours, marks)
}

/// `5m`, `3h`, `2d`, `6w`: how long ago an RFC 3339 time was.
pub fn age(at: &str, now: DateTime<Utc>) -> String {
    let Ok(then) = DateTime::parse_from_rfc3339(at) else { return String::new() };
    let minutes = (now - then.with_timezone(&Utc)).num_minutes().max(0);
    match minutes {
        m if m < 60 => format!("{m}m"),
        m if m < 60 * 48 => format!("{}h", m / 60),
        m if m < 60 * 24 * 14 => format!("{}d", m / (60 * 24)),
        m => format!("{}w", m / (60 * 24 * 7)),
    }
}

impl crate::tui::window::PagedList for Inbox {
    fn move_by(&mut self, app: &App, actor: &Actor, delta: isize) -> anyhow::Result<()> {
        Inbox::move_by(self, app, actor, delta)
    }
    fn first(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        Inbox::first(self, app, actor)
    }
    fn last(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        Inbox::last(self, app, actor)
    }
    fn page(&self) -> isize {
        self.height().max(1) as isize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_at_a_glance() {
        let now = DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(age("2026-03-10T11:55:00Z", now), "5m");
        assert_eq!(age("2026-03-09T12:00:00Z", now), "24h");
        assert_eq!(age("2026-03-05T12:00:00Z", now), "5d");
        assert_eq!(age("2026-01-01T12:00:00Z", now), "9w");
        assert_eq!(age("not a time", now), "");
    }
}
