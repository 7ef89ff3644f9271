//! Drawing the Attendance tab: today's roster, the week grid and the verification queue, each
//! keeping the student's name (with an ID when names repeat) as the last column to go.

use super::*;
use crate::tui::inbox::age;
use crate::tui::theme::Theme;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

impl AttendancePane {
    pub fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, now: DateTime<Utc>) {
        match self.view {
            View::Day => self.draw_day(frame, area, theme),
            View::Week => self.draw_week(frame, area, theme),
            View::Queue => self.draw_queue(frame, area, theme, now),
        }
    }

    fn draw_day(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let shown = self.rows_shown();
        let title = Line::from(vec![
            Span::styled(format!(" today, {} ", self.today.format("%a %b %d")), theme.accent),
            Span::raw(format!("· {} with a session · w: week grid ", shown.len())),
        ]);
        let block = Block::new().borders(Borders::TOP).title(title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let Some(grid) = &self.grid else { return };
        if shown.is_empty() {
            let text = "None of your students has a session today (a weekend, a closure, or no enrollment). \
                        w opens the week grid for other days.";
            frame.render_widget(Paragraph::new(text).style(theme.dim).wrap(Wrap { trim: true }), inner);
            return;
        }
        self.height = inner.height.saturating_sub(1) as usize;
        let offset = self.row.saturating_sub(self.height.saturating_sub(1));
        let today = self.today_col();
        let rows: Vec<Row> = shown
            .iter()
            .enumerate()
            .skip(offset)
            .take(self.height)
            .map(|(i, index)| {
                let row = &grid.rows[*index];
                let (status, hours) = match &row.days[today].1 {
                    Some(d) => (d.status.clone(), d.hours.map(|h| format!("{h}")).unwrap_or_default()),
                    None => ("not logged".to_string(), String::new()),
                };
                let week: f64 =
                    row.days.iter().filter_map(|(_, d)| d.as_ref().filter(|d| d.status == "present")?.hours).sum();
                let status_style = if row.days[today].1.is_none() { theme.dim } else { Style::new() };
                Row::new(vec![
                    Span::raw(row.student.name.clone()),
                    Span::raw(row.student.student_id.clone()),
                    Span::raw(row.student.program_id.clone()),
                    Span::styled(status, status_style),
                    Span::raw(hours),
                    Span::styled(hours_text(week), theme.dim),
                ])
                .style(if i == self.row { theme.selected } else { Style::new() })
            })
            .collect();
        let widths = [
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(10),
            Constraint::Length(6),
            Constraint::Length(6),
        ];
        let header = Row::new(["student", "id", "program", "today", "hours", "week"]).style(theme.dim);
        frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), inner);
    }

    fn draw_week(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let sunday = self.monday + Days::new(6);
        let week = self.monday.iso_week();
        let switch = if self.can_verify { " · w: queue" } else { " · w: today" };
        let title = Line::from(vec![
            Span::styled(format!(" week {}-W{:02} ", week.year(), week.week()), theme.accent),
            Span::raw(format!("{} – {}{switch} ", self.monday.format("%b %d"), sunday.format("%b %d"))),
        ]);
        let block = Block::new().borders(Borders::TOP).title(title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let Some(grid) = &self.grid else { return };
        if grid.rows.is_empty() {
            let text = "No students of yours are enrolled this week. [ and ] move between weeks.";
            frame.render_widget(Paragraph::new(text).style(theme.dim).wrap(Wrap { trim: true }), inner);
            return;
        }
        self.height = inner.height.saturating_sub(2) as usize;
        let offset = self.row.saturating_sub(self.height.saturating_sub(1));
        let sorted_by = GRID_ORDERS[self.grid_order].0;
        let mut header = vec![Span::raw(labelled("student", sorted_by))];
        for i in 0..7 {
            let day = self.monday + Days::new(i);
            let style = if day == self.today { theme.accent } else { theme.dim };
            header.push(Span::styled(day.format("%a %d").to_string(), style));
        }
        header.push(Span::raw(labelled("total", sorted_by)));
        let mut day_totals = [0.0f64; 7];
        for row in &grid.rows {
            for (i, (_, logged)) in row.days.iter().enumerate() {
                // A rejected day's hours do not count toward anyone's total.
                day_totals[i] += logged
                    .as_ref()
                    .filter(|d| d.status == "present" && d.verification != "rejected")
                    .and_then(|d| d.hours)
                    .unwrap_or(0.0);
            }
        }
        // Narrow screens show the days nearest the cursor; the name is the last column to go.
        let widths: Vec<Constraint> =
            std::iter::once(Constraint::Fill(1)).chain(std::iter::repeat_n(Constraint::Length(7), 8)).collect();
        let mut far: Vec<usize> = (0..7).filter(|d| *d != self.col).collect();
        far.sort_by_key(|d| std::cmp::Reverse((d.abs_diff(self.col), *d)));
        let nearest = far.pop();
        let drop_order: Vec<usize> = far.iter().map(|d| d + 1).chain([8]).chain(nearest.map(|d| d + 1)).collect();
        let kept = crate::tui::columns::fitting(inner.width, &widths, &drop_order, 14);
        let mut rows: Vec<Row> = Vec::new();
        let shown = self.rows_shown();
        for (r, row) in shown.iter().map(|i| &grid.rows[*i]).enumerate().skip(offset).take(self.height) {
            let mut cells = vec![Cell::from(told_apart(&grid.rows, row))];
            let mut total = 0.0;
            for (c, (session, logged)) in row.days.iter().enumerate() {
                let selected = r == self.row && c == self.col;
                let text = match logged {
                    Some(d) => {
                        if d.status == "present" && d.verification != "rejected" {
                            total += d.hours.unwrap_or(0.0);
                        }
                        let mark = match d.verification.as_str() {
                            "verified" => "✓",
                            "rejected" => "✗",
                            _ => "",
                        };
                        let what = match d.status.as_str() {
                            "present" => d.hours.map_or("P".to_string(), |h| format!("{h}")),
                            "excused" if !mark.is_empty() => "excus".to_string(),
                            other => other.to_string(),
                        };
                        format!("{what}{mark}")
                    }
                    None if *session => "·".to_string(),
                    // The cursor stays visible on a day without a session.
                    None if selected => "off".to_string(),
                    None => String::new(),
                };
                let style = if selected {
                    theme.selected
                } else if logged.as_ref().is_some_and(|d| d.status == "absent") {
                    theme.error
                } else {
                    Style::new()
                };
                cells.push(Cell::from(text).style(style));
            }
            cells.push(Cell::from(Span::styled(hours_text(total), theme.accent)));
            rows.push(Row::new(crate::tui::columns::keep(cells, &kept)));
        }
        let mut footer = vec![Span::styled(if grid.truncated { "total (first 500)" } else { "total" }, theme.dim)];
        footer.extend(day_totals.iter().map(|t| Span::styled(hours_text(*t), theme.dim)));
        footer.push(Span::styled(hours_text(day_totals.iter().sum()), theme.accent));
        rows.push(Row::new(crate::tui::columns::keep(footer, &kept)));
        let (header, widths) = (crate::tui::columns::keep(header, &kept), crate::tui::columns::keep(widths, &kept));
        frame.render_widget(Table::new(rows, widths).header(Row::new(header)).column_spacing(1), inner);
    }

    fn draw_queue(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, now: DateTime<Utc>) {
        let marks = if self.marked.is_empty() { String::new() } else { format!(" · {} marked", self.marked.len()) };
        let shown = self.queue.len();
        let count = match self.filter.as_deref().filter(|f| !f.is_empty()) {
            Some(text) if self.pending_total > QUEUE_PAGE as u64 => format!(
                "{shown} matching '{}' among the oldest {QUEUE_PAGE} of {}",
                crate::domain::text::shown(text),
                crate::store::activity::pending_text(self.pending_total)
            ),
            Some(text) => format!("{shown} matching '{}'", crate::domain::text::shown(text)),
            None if (shown as u64) < self.pending_total => {
                format!("the oldest {shown} of {}", crate::store::activity::pending_text(self.pending_total))
            }
            None => shown.to_string(),
        };
        let switch = if self.can_log { " · w: today" } else { "" };
        let title = Line::from(vec![
            Span::styled(" waiting for verification ", theme.accent),
            Span::raw(format!("{count}{marks}{switch} ")),
        ]);
        let block = Block::new().borders(Borders::TOP).title(title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.queue.is_empty() {
            frame.render_widget(
                Paragraph::new("Nothing waiting: every logged day is verified.").style(theme.dim),
                inner,
            );
            return;
        }
        self.height = inner.height.saturating_sub(1) as usize;
        self.offset = crate::tui::window::scroll_into_view(self.selected, self.offset, self.height);
        let widths = vec![
            Constraint::Length(1),
            Constraint::Length(10),
            Constraint::Length(4),
            Constraint::Fill(1),
            Constraint::Length(9),
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(5),
        ];
        // Narrow screens lose the wait, the week, the worksite and the hours before the student.
        let kept = crate::tui::columns::fitting(inner.width, &widths, &[7, 2, 1, 6], 12);
        let widths = crate::tui::columns::keep(widths, &kept);
        let mut previous_group: Option<(String, u32)> = None;
        if let Some(before) = self.offset.checked_sub(1).and_then(|i| self.queue.get(i)) {
            previous_group = Some((before.logged_by.clone(), before.date.iso_week().week()));
        }
        let rows: Vec<Row> = self
            .queue
            .iter()
            .enumerate()
            .skip(self.offset)
            .take(self.height)
            .map(|(i, r)| {
                let group = (r.logged_by.clone(), r.date.iso_week().week());
                // Grouped by worksite and week only in that order; otherwise every row says.
                let (site, week) = if self.queue_order == 0 && previous_group.as_ref() == Some(&group) {
                    (String::new(), String::new())
                } else {
                    (r.logged_by.clone(), format!("W{:02}", group.1))
                };
                previous_group = Some(group);
                let hours = r.hours.map(|h| format!("{h}h")).unwrap_or_default();
                let cells = vec![
                    Span::styled(if self.marked.contains(&r.id) { "●" } else { " " }, theme.marked),
                    Span::styled(site, theme.accent),
                    Span::styled(week, theme.accent),
                    Span::raw(r.student_name.clone()),
                    Span::raw(r.date.format("%a %m-%d").to_string()),
                    Span::raw(r.status.clone()),
                    Span::raw(hours),
                    Span::styled(age(&r.logged_at, now), theme.dim),
                ];
                Row::new(crate::tui::columns::keep(cells, &kept)).style(if i == self.selected {
                    theme.selected
                } else {
                    Style::new()
                })
            })
            .collect();
        let sorted_by = QUEUE_ORDERS[self.queue_order].0;
        let labels: Vec<String> = ["", "worksite", "week", "student", "day", "status", "hours", "wait"]
            .into_iter()
            .map(|label| labelled(label, sorted_by))
            .collect();
        let header = Row::new(crate::tui::columns::keep(labels, &kept)).style(theme.dim);
        frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), inner);
    }
}
