//! What the Attendance tab does with a key: logging a cell (asking first over a decided record
//! or a day off schedule), filling a week, and verifying or rejecting from the queue.

use super::*;
use crate::tui::home::Leads;
use crate::tui::keymap::{Action, Scope};
use crate::tui::overlay::{NoteFor, Overlay};
use crate::tui::pane::{Change, Context, Effect, Hint, Look, Pane};
use ratatui::Frame;
use ratatui::layout::Rect;

impl Pane for AttendancePane {
    fn title(&self) -> &'static str {
        "Attendance"
    }

    /// For verifiers: how long the oldest record has waited.
    fn label(&self, now: chrono::DateTime<chrono::Utc>) -> String {
        match &self.oldest_pending {
            Some(oldest) => format!("Attendance ⧗{}", crate::tui::inbox::age(oldest, now)),
            None => "Attendance".into(),
        }
    }

    fn summary(&mut self, cx: &Context) -> anyhow::Result<()> {
        if self.can_verify {
            self.oldest_pending = cx.app.oldest_pending(cx.actor)?;
        }
        Ok(())
    }

    fn load(&mut self, cx: &Context) -> anyhow::Result<()> {
        AttendancePane::load(self, cx.app, cx.actor)
    }

    fn act(&mut self, action: Action, cx: &Context) -> anyhow::Result<Effect> {
        let in_queue = self.view == View::Queue;
        let mut reload = false;
        let effect = match action {
            Action::Down => self.moved(1),
            Action::Up => self.moved(-1),
            Action::PageDown => self.moved(self.page()),
            Action::PageUp => self.moved(-self.page()),
            Action::Top => self.moved(isize::MIN / 2),
            Action::Bottom => self.moved(isize::MAX / 2),
            Action::Left | Action::Right => {
                self.move_col(if action == Action::Left { -1 } else { 1 });
                Effect::Nothing
            }
            Action::SwitchView => {
                self.switch_view();
                reload = true;
                Effect::Nothing
            }
            Action::PrevWeek | Action::NextWeek if self.view == View::Week => {
                self.move_week(if action == Action::PrevWeek { -1 } else { 1 });
                reload = true;
                Effect::Nothing
            }
            Action::Present | Action::Absent | Action::Excused if !in_queue => {
                let status = match action {
                    Action::Present => AttendanceStatus::Present,
                    Action::Absent => AttendanceStatus::Absent,
                    _ => AttendanceStatus::Excused,
                };
                match self.entry(status, None) {
                    Some(entry) => match self.refusal(&entry) {
                        Some(why) => Effect::warn(why),
                        None => {
                            let change = self.change(entry);
                            // The cursor moves on only when nothing is asked about the cell.
                            if change.question.is_none() {
                                self.move_row(1);
                            }
                            Effect::Change(change.into_change())
                        }
                    },
                    None => Effect::Nothing,
                }
            }
            Action::Hours if !in_queue => match self.entry(AttendanceStatus::Present, self.hours_here()) {
                Some(entry) => match self.refusal(&entry) {
                    Some(why) => Effect::warn(why),
                    None => {
                        let title = format!("hours for {} on {}", entry.student_id, entry.date.format("%a %m-%d"));
                        Effect::Open(Overlay::note(title, NoteFor::Hours(entry)))
                    }
                },
                None => Effect::Nothing,
            },
            Action::FillWeek if self.view == View::Week => {
                let entries = self.unlogged_days();
                if entries.is_empty() {
                    Effect::say("every session day so far is logged")
                } else {
                    let days = entries.iter().map(day_of).collect();
                    let what = format!("{} days logged present", entries.len());
                    Effect::Change(Change {
                        undo: Some((what, Command::RetractAttendance { days })),
                        ..Change::new(Command::LogAttendance { entries })
                    })
                }
            }
            Action::Open => match self.record_here() {
                Some(id) => Effect::Open(Overlay::Record(Box::new(cx.app.attendance_record(cx.actor, id)?))),
                None => Effect::say("nothing is logged here"),
            },
            Action::Mark if in_queue => {
                self.toggle_mark();
                Effect::Nothing
            }
            Action::MarkAll if in_queue => {
                self.mark_all();
                Effect::Nothing
            }
            Action::MarkGroup if in_queue => {
                self.mark_group();
                Effect::Nothing
            }
            Action::Verify if in_queue => {
                let ids = self.targets();
                match ids.is_empty() {
                    true => Effect::Nothing,
                    false => Effect::Change(Change {
                        undo: Some((
                            format!("verified {}", records_label(&ids)),
                            Command::ReopenAttendance { ids: ids.clone() },
                        )),
                        ..Change::new(Command::DecideAttendance { ids, decision: crate::app::Decision::Verify })
                    }),
                }
            }
            Action::Reject if in_queue => {
                let ids = self.targets();
                match ids.is_empty() {
                    true => Effect::Nothing,
                    false => {
                        let what =
                            if ids.len() == 1 { "1 record".to_string() } else { format!("{} records", ids.len()) };
                        Effect::Open(Overlay::note(format!("reject {what} · reason"), NoteFor::Reject(ids)))
                    }
                }
            }
            _ => Effect::Nothing,
        };
        if reload {
            AttendancePane::load(self, cx.app, cx.actor)?;
        }
        Ok(effect)
    }

    /// Hours become a cell change (asked about like any other); a rejection can be taken back.
    fn submit(&mut self, purpose: NoteFor, text: String, _cx: &Context) -> anyhow::Result<Result<Effect, String>> {
        let command = match crate::tui::pane::note_command(purpose, text) {
            Ok(command) => command,
            Err(problem) => return Ok(Err(problem)),
        };
        Ok(Ok(Effect::Change(match command {
            Command::LogAttendance { mut entries } if entries.len() == 1 => {
                self.change(entries.pop().expect("one entry")).into_change()
            }
            Command::DecideAttendance { ids, decision } => Change {
                undo: Some((
                    format!("rejected {}", records_label(&ids)),
                    Command::ReopenAttendance { ids: ids.clone() },
                )),
                ..Change::new(Command::DecideAttendance { ids, decision })
            },
            other => Change::new(other),
        })))
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, _cx: &Context, look: &Look) {
        AttendancePane::draw(self, frame, area, look.theme, look.now);
    }

    fn hints(&self) -> (Vec<Hint>, Vec<Hint>) {
        let first = match self.view {
            View::Day => vec![
                (Action::Present, "present"),
                (Action::Absent, "absent"),
                (Action::Excused, "excused"),
                (Action::Hours, "hours"),
                (Action::SwitchView, "week"),
            ],
            View::Week => vec![
                (Action::Present, "present"),
                (Action::Absent, "absent"),
                (Action::Excused, "excused"),
                (Action::Hours, "hours"),
                (Action::FillWeek, "fill week"),
                (Action::PrevWeek, "week"),
            ],
            View::Queue => vec![
                (Action::Verify, "verify"),
                (Action::Reject, "reject"),
                (Action::Mark, "mark"),
                (Action::MarkGroup, "week"),
                (Action::MarkAll, "all"),
            ],
        };
        (first, vec![(Action::Open, "record"), (Action::Filter, "filter"), (Action::Sort, "sort")])
    }

    fn help(&self) -> &'static [(Scope, &'static str)] {
        &[(Scope::Attendance, "attendance"), (Scope::List, "lists"), (Scope::Everywhere, "everywhere")]
    }

    fn sort(&mut self, cx: &Context) -> anyhow::Result<String> {
        self.next_order(cx.app, cx.actor)
    }

    fn filter(&mut self) -> Option<&mut Option<String>> {
        Some(&mut self.filter)
    }

    fn filter_changed(&mut self, cx: &Context) -> anyhow::Result<()> {
        AttendancePane::filter_changed(self, cx.app, cx.actor)
    }

    fn lead(&mut self, lead: Leads) -> bool {
        match lead {
            Leads::Attendance => true,
            Leads::Queue => {
                self.show_queue();
                true
            }
            _ => false,
        }
    }
}

impl AttendancePane {
    fn moved(&mut self, delta: isize) -> Effect {
        self.move_row(delta);
        Effect::Nothing
    }
}

/// `record 12`, `3 records`.
fn records_label(ids: &[i64]) -> String {
    match ids {
        [one] => format!("record {one}"),
        many => format!("{} records", many.len()),
    }
}
