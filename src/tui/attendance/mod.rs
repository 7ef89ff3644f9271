//! The Attendance tab: the weekly grid where a worksite logs days (today's column is the day's
//! roster), and the queue where coordinators verify or reject what was logged.

mod draw;
mod keys;

use crate::app::{Actor, App, AttendanceDay, AttendanceEntry, Command, WeekGrid};
use crate::domain::{AttendanceStatus, Role};
use crate::store::activity::{AttendanceFilter, AttendanceView};
use chrono::{Datelike, Days, NaiveDate};
use std::collections::BTreeSet;

/// Pending records the queue holds at a time.
const QUEUE_PAGE: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Today's roster: the students with a session today.
    Day,
    Week,
    Queue,
}

pub struct AttendancePane {
    pub view: View,
    pub can_log: bool,
    pub can_verify: bool,
    monday: NaiveDate,
    today: NaiveDate,
    grid: Option<WeekGrid>,
    row: usize,
    col: usize,
    queue: Vec<AttendanceView>,
    selected: usize,
    offset: usize,
    pub marked: BTreeSet<i64>,
    pub oldest_pending: Option<String>,
    /// Every record waiting that the person may see, of which the queue holds the oldest.
    pending_total: u64,
    height: usize,
    /// Part of a student's ID or name the roster, grid and queue are narrowed to.
    pub filter: Option<String>,
    /// The queue's order: an index into `QUEUE_ORDERS`.
    queue_order: usize,
    /// The grid's order: an index into `GRID_ORDERS`.
    grid_order: usize,
}

/// The verification queue's orders, `S` cycling through them: (column, what it means).
const QUEUE_ORDERS: [(&str, &str); 4] = [
    ("worksite", "by worksite and week, oldest first"),
    ("student", "by student, then day"),
    ("day", "by day, oldest first"),
    ("wait", "longest waiting first"),
];

/// The week grid's orders.
const GRID_ORDERS: [(&str, &str); 2] = [("student", "by name"), ("total", "most hours this week first")];

fn sort_queue(queue: &mut [AttendanceView], order: usize) {
    match order {
        1 => queue.sort_by(|a, b| (&a.student_name, a.date, a.id).cmp(&(&b.student_name, b.date, b.id))),
        2 => queue.sort_by(|a, b| (a.date, &a.student_name, a.id).cmp(&(b.date, &b.student_name, b.id))),
        3 => queue.sort_by(|a, b| (&a.logged_at, a.id).cmp(&(&b.logged_at, b.id))),
        // Worked through by worksite and week, oldest first within each.
        _ => queue.sort_by(|a, b| {
            (&a.logged_by, a.date.iso_week(), a.date, a.id).cmp(&(&b.logged_by, b.date.iso_week(), b.date, b.id))
        }),
    }
}

/// A row's hours this week that count (present, not rejected).
fn week_hours(row: &crate::app::WeekRow) -> f64 {
    row.days
        .iter()
        .filter_map(|(_, d)| d.as_ref().filter(|d| d.status == "present" && d.verification != "rejected")?.hours)
        .sum()
}

/// A column label, marked when the list is sorted by it.
fn labelled(label: &'static str, sorted_by: &str) -> String {
    if label == sorted_by { format!("{label}▲") } else { label.to_string() }
}

/// Whether a student's ID or name contains `filter`, in any case.
fn matches(filter: Option<&str>, student_id: &str, name: &str) -> bool {
    let Some(filter) = filter.filter(|f| !f.is_empty()) else { return true };
    let needle = filter.to_lowercase();
    student_id.to_lowercase().contains(&needle) || name.to_lowercase().contains(&needle)
}

/// Hours as a person writes them: `6.5`, `0` (never `-0`, which an empty float sum gives).
fn hours_text(hours: f64) -> String {
    format!("{}", hours + 0.0)
}

/// The student's name, with their ID when another row has the same name (two students, or
/// one student in two programs, stay apart).
fn told_apart(rows: &[crate::app::WeekRow], row: &crate::app::WeekRow) -> String {
    let namesakes = rows.iter().filter(|r| r.student.name == row.student.name).count();
    let same_student = rows.iter().filter(|r| r.student.student_id == row.student.student_id).count();
    match (namesakes > 1, same_student > 1) {
        (_, true) => format!("{} ({})", row.student.name, row.student.program_id),
        (true, false) => format!("{} ({})", row.student.name, row.student.student_id),
        (false, false) => row.student.name.clone(),
    }
}

/// A change to one grid cell and what a person must be told about it.
pub struct CellChange {
    pub entry: AttendanceEntry,
    /// `Darnell Abbott · Wed 4 · absent (was 5.5 h verified)`: the status line once it is made.
    pub done: String,
    /// Asked first: the change overwrites a decided record, or the day is not a session day.
    pub question: Option<String>,
    /// What puts the cell back as it was, if a command can.
    pub undo: Option<Command>,
}

impl CellChange {
    /// The change to run: the status line names it, and `u` takes it back when a command can.
    pub fn into_change(self) -> crate::tui::pane::Change {
        crate::tui::pane::Change {
            undo: self.undo.map(|undo| (self.done.clone(), undo)),
            question: self.question,
            done: Some(self.done),
            command: Command::LogAttendance { entries: vec![self.entry] },
        }
    }
}

/// The day an entry is for.
pub fn day_of(entry: &AttendanceEntry) -> AttendanceDay {
    AttendanceDay { student_id: entry.student_id.clone(), program_id: entry.program_id.clone(), date: entry.date }
}

/// `present 5.5 h`, `absent`.
fn logged_text(status: &str, hours: Option<f64>) -> String {
    match hours {
        Some(h) if status == "present" => format!("present {} h", hours_text(h)),
        _ => status.to_string(),
    }
}

/// `5.5 h verified`, `absent, rejected`, `present 6 h, pending`.
fn decided_text(day: &crate::store::activity::DayEntry) -> String {
    format!("{}, {}", logged_text(&day.status, day.hours), day.verification)
}

fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

impl AttendancePane {
    pub fn new(role: Role, today: NaiveDate) -> AttendancePane {
        let can_log = matches!(role, Role::Admin | Role::Worksite);
        let can_verify = role != Role::Worksite;
        AttendancePane {
            view: if can_log { View::Day } else { View::Queue },
            can_log,
            can_verify,
            monday: monday_of(today),
            today,
            grid: None,
            row: 0,
            col: today.weekday().num_days_from_monday() as usize,
            queue: Vec::new(),
            selected: 0,
            offset: 0,
            marked: BTreeSet::new(),
            oldest_pending: None,
            pending_total: 0,
            height: 0,
            filter: None,
            queue_order: 0,
            grid_order: 0,
        }
    }

    /// Reads what the current view shows.
    pub fn load(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        if matches!(self.view, View::Day | View::Week) && self.can_log {
            let mut grid = app.week(actor, self.monday)?;
            if self.grid_order == 1 {
                grid.rows.sort_by(|a, b| week_hours(b).total_cmp(&week_hours(a)));
            }
            self.row = self.row.min(grid.rows.len().saturating_sub(1));
            self.grid = Some(grid);
        }
        if self.can_verify {
            self.oldest_pending = app.oldest_pending(actor)?;
            if self.view == View::Queue {
                self.pending_total = app.pending_count(actor)?;
                let filter = AttendanceFilter { pending_only: true, ..Default::default() };
                let mut queue = app.attendance(actor, &filter, QUEUE_PAGE)?;
                sort_queue(&mut queue, self.queue_order);
                let filter = self.filter.as_deref();
                queue.retain(|r| matches(filter, &r.student_id, &r.student_name));
                self.queue = queue;
                self.marked.retain(|id| self.queue.iter().any(|r| r.id == *id));
                self.selected = self.selected.min(self.queue.len().saturating_sub(1));
            }
        }
        Ok(())
    }

    /// After the filter changed: back to the first row, and the queue read again through it.
    pub fn filter_changed(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        self.row = 0;
        self.selected = 0;
        self.offset = 0;
        if self.view == View::Queue {
            self.load(app, actor)?;
        }
        Ok(())
    }

    /// `S`: the next order of the list in view; says which, or that the roster has one order.
    pub fn next_order(&mut self, app: &App, actor: &Actor) -> anyhow::Result<String> {
        let said = match self.view {
            View::Queue => {
                self.queue_order = (self.queue_order + 1) % QUEUE_ORDERS.len();
                format!("the queue is sorted {}", QUEUE_ORDERS[self.queue_order].1)
            }
            View::Week => {
                self.grid_order = (self.grid_order + 1) % GRID_ORDERS.len();
                format!("the grid is sorted {}", GRID_ORDERS[self.grid_order].1)
            }
            View::Day => return Ok("today's roster keeps one order: by name".into()),
        };
        self.load(app, actor)?;
        Ok(said)
    }

    /// Shows the verification queue, for those who verify.
    pub fn show_queue(&mut self) {
        if self.can_verify {
            self.view = View::Queue;
        }
    }

    /// Roster → week grid → queue, as far as the person may go.
    pub fn switch_view(&mut self) {
        self.view = match (self.view, self.can_verify) {
            (View::Day, _) => View::Week,
            (View::Week, true) => View::Queue,
            (View::Week, false) | (View::Queue, _) if self.can_log => View::Day,
            (other, _) => other,
        };
        if self.view == View::Day {
            self.monday = monday_of(self.today);
            self.col = self.today_col();
        }
    }

    fn today_col(&self) -> usize {
        self.today.weekday().num_days_from_monday() as usize
    }

    /// The grid rows the current view lists: every one in the week grid, those with a
    /// session today in the roster.
    fn rows_shown(&self) -> Vec<usize> {
        let Some(grid) = &self.grid else { return Vec::new() };
        let today = self.today_col();
        let filter = self.filter.as_deref();
        (0..grid.rows.len())
            .filter(|i| self.view != View::Day || grid.rows[*i].days[today].0)
            .filter(|i| matches(filter, &grid.rows[*i].student.student_id, &grid.rows[*i].student.name))
            .collect()
    }

    /// The grid row under the cursor.
    fn grid_row(&self) -> Option<&crate::app::WeekRow> {
        let index = *self.rows_shown().get(self.row)?;
        self.grid.as_ref()?.rows.get(index)
    }

    /// The day under the cursor: today in the roster, the cursor's column in the grid.
    fn cursor_day(&self) -> usize {
        if self.view == View::Day { self.today_col() } else { self.col }
    }

    pub fn move_week(&mut self, weeks: i64) {
        let moved = if weeks < 0 { self.monday - Days::new(7) } else { self.monday + Days::new(7) };
        if moved <= self.today {
            self.monday = moved;
        }
    }

    pub fn move_row(&mut self, delta: isize) {
        let len = match self.view {
            View::Day | View::Week => self.rows_shown().len(),
            View::Queue => self.queue.len(),
        };
        let at = match self.view {
            View::Day | View::Week => &mut self.row,
            View::Queue => &mut self.selected,
        };
        *at = crate::tui::window::moved(*at, len, delta);
    }

    pub fn move_col(&mut self, delta: isize) {
        self.col = (self.col as isize + delta).clamp(0, 6) as usize;
    }

    pub fn page(&self) -> isize {
        self.height.max(1) as isize
    }

    /// The day under the cursor for the selected student, as an entry to log.
    pub fn entry(&self, status: AttendanceStatus, hours: Option<f64>) -> Option<AttendanceEntry> {
        let row = self.grid_row()?;
        let hours = match status {
            AttendanceStatus::Present => Some(hours.unwrap_or(row.usual_hours)),
            _ => hours,
        };
        Some(AttendanceEntry {
            student_id: row.student.student_id.clone(),
            program_id: row.student.program_id.clone(),
            date: self.monday + Days::new(self.cursor_day() as u64),
            status,
            hours,
            note: None,
        })
    }

    /// Why the day an entry is for cannot be logged at all, said before anything is asked about
    /// it: the data layer refuses it too, but a question first would suggest the answer mattered.
    pub fn refusal(&self, entry: &AttendanceEntry) -> Option<String> {
        let day = entry.date.format("%a %b %-d");
        if entry.date > self.today {
            return Some(format!("{day} is in the future: nothing logged"));
        }
        let student = &self.grid_row()?.student;
        (entry.date < student.start).then(|| {
            format!("{day} is before {}'s enrollment starts ({}): nothing logged", student.name, student.start)
        })
    }

    /// What changing the cell an entry is for means: the status line once it is made, and the
    /// question to ask first when it overwrites a decided record or logs a day off schedule.
    pub fn change(&self, entry: AttendanceEntry) -> CellChange {
        let row = self.grid.as_ref().and_then(|grid| {
            grid.rows
                .iter()
                .find(|r| r.student.student_id == entry.student_id && r.student.program_id == entry.program_id)
        });
        let index = entry.date.signed_duration_since(self.monday).num_days();
        let (session, logged) = match (row, usize::try_from(index).ok().filter(|i| *i < 7)) {
            (Some(row), Some(i)) => (row.days[i].0, row.days[i].1.as_ref()),
            _ => (true, None),
        };
        let name = row.map_or(entry.student_id.as_str(), |r| r.student.name.as_str());
        let day = entry.date.format("%a %-d");
        let new = logged_text(&entry.status.to_string(), entry.hours);
        let done = match logged {
            Some(old) => format!("{name} · {day} · {new} (was {})", decided_text(old)),
            None => format!("{name} · {day} · {new}"),
        };
        let question = match logged {
            Some(old) if old.verification != "pending" => Some(format!(
                "{name} · {day} is {}. Replace it with {new}? It goes back to pending verification.",
                decided_text(old)
            )),
            _ if !session => Some(format!(
                "{day} is not a session day of {} for {name}. Log {new} anyway, as a make-up day?",
                entry.program_id
            )),
            _ => None,
        };
        // Undone by a command only while the old state is one the worksite could log again.
        let undo = match logged {
            None => Some(Command::RetractAttendance { days: vec![day_of(&entry)] }),
            Some(old) if old.verification == "pending" => {
                old.status.parse().ok().map(|status| Command::LogAttendance {
                    entries: vec![AttendanceEntry { status, hours: old.hours, note: None, ..entry.clone() }],
                })
            }
            Some(_) => None,
        };
        CellChange { entry, done, question, undo }
    }

    /// The record under the cursor, if a day is logged there.
    pub fn record_here(&self) -> Option<i64> {
        match self.view {
            View::Queue => self.queue.get(self.selected).map(|r| r.id),
            View::Day | View::Week => Some(self.grid_row()?.days[self.cursor_day()].1.as_ref()?.id),
        }
    }

    /// The hours logged under the cursor, to start the hours editor from.
    pub fn hours_here(&self) -> Option<f64> {
        let row = self.grid_row()?;
        row.days[self.cursor_day()].1.as_ref().and_then(|d| d.hours).or(Some(row.usual_hours))
    }

    /// Every session day of the week up to today with nothing logged, as present days.
    pub fn unlogged_days(&self) -> Vec<AttendanceEntry> {
        let Some(grid) = &self.grid else { return Vec::new() };
        let mut entries = Vec::new();
        for row in &grid.rows {
            for (i, (session, logged)) in row.days.iter().enumerate() {
                let date = grid.monday + Days::new(i as u64);
                if *session && logged.is_none() && date <= self.today {
                    entries.push(AttendanceEntry {
                        student_id: row.student.student_id.clone(),
                        program_id: row.student.program_id.clone(),
                        date,
                        status: AttendanceStatus::Present,
                        hours: Some(row.usual_hours),
                        note: None,
                    });
                }
            }
        }
        entries
    }

    /// The queue's marked records, or else the selected one.
    pub fn targets(&self) -> Vec<i64> {
        if self.marked.is_empty() {
            self.queue.get(self.selected).map(|r| vec![r.id]).unwrap_or_default()
        } else {
            self.marked.iter().copied().collect()
        }
    }

    pub fn toggle_mark(&mut self) {
        if let Some(id) = self.queue.get(self.selected).map(|r| r.id)
            && !self.marked.remove(&id)
        {
            self.marked.insert(id);
        }
        self.move_row(1);
    }

    /// Marks every record of the selected one's worksite and week (a second time, unmarks them).
    pub fn mark_group(&mut self) {
        let Some(chosen) = self.queue.get(self.selected) else { return };
        let group = |r: &AttendanceView| (r.logged_by.clone(), r.date.iso_week());
        let key = group(chosen);
        let ids: Vec<i64> = self.queue.iter().filter(|r| group(r) == key).map(|r| r.id).collect();
        if ids.iter().all(|id| self.marked.contains(id)) {
            for id in &ids {
                self.marked.remove(id);
            }
        } else {
            self.marked.extend(ids);
        }
    }

    pub fn mark_all(&mut self) {
        if self.queue.iter().all(|r| self.marked.contains(&r.id)) {
            self.marked.clear();
        } else {
            self.marked.extend(self.queue.iter().map(|r| r.id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::WeekRow;
    use crate::store::activity::WeekStudent;

    /// A worksite's week grid of one student whose enrollment starts on the Wednesday, on a Friday.
    fn grid_on_friday() -> AttendancePane {
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        let mut pane = AttendancePane::new(Role::Worksite, day("2026-03-06"));
        pane.view = View::Week;
        let student = WeekStudent {
            student: 1,
            student_id: "S1".into(),
            name: "Ann Lee".into(),
            program: 1,
            program_id: "P1".into(),
            start: day("2026-03-04"),
            end: None,
        };
        let days = std::array::from_fn(|i| (i < 5, None));
        pane.grid = Some(WeekGrid {
            monday: day("2026-03-02"),
            rows: vec![WeekRow { student, days, usual_hours: 6.0 }],
            truncated: false,
        });
        pane
    }

    #[test]
    fn a_day_that_cannot_be_logged_is_refused_before_anything_is_asked() {
        let mut pane = grid_on_friday();
        let mut refusal_on = |col: usize| {
            pane.col = col;
            let entry = pane.entry(AttendanceStatus::Present, None).expect("a cell under the cursor");
            pane.refusal(&entry)
        };
        assert_eq!(
            refusal_on(1).as_deref(),
            Some("Tue Mar 3 is before Ann Lee's enrollment starts (2026-03-04): nothing logged")
        );
        assert_eq!(refusal_on(2), None, "the first day of the enrollment");
        assert_eq!(refusal_on(4), None, "today");
        assert_eq!(refusal_on(5).as_deref(), Some("Sat Mar 7 is in the future: nothing logged"));
    }
}
