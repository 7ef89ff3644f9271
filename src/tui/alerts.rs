//! The Alerts tab: what the inbox does with a key — paging, marks, the detail, and the triage
//! dialogs (a note to acknowledge or resolve, a snooze length, an assignee) — and its filters
//! in the command palette.

use super::home::Leads;
use super::inbox::Inbox;
use super::keymap::{Action, Scope};
use super::overlay::{FilterChange, NoteFor, Overlay, PaletteEntry, PaletteRun};
use super::pane::{Change, Context, Effect, Hint, Look, Pane};
use super::window::PagedList;
use crate::app::{Command, Triage};
use crate::domain::alerts::{AlertStatus, AlertType, Severity};
use crate::store::alerts::AlertView;
use chrono::Duration;
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

/// Wide enough to show the list and the detail side by side.
const SIDE_BY_SIDE: u16 = 110;

/// `alert 12`, `3 alerts`.
fn targets_label(ids: &[i64]) -> String {
    match ids {
        [one] => format!("alert {one}"),
        many => format!("{} alerts", many.len()),
    }
}

impl Pane for Inbox {
    fn title(&self) -> &'static str {
        "Alerts"
    }

    fn label(&self, _now: chrono::DateTime<chrono::Utc>) -> String {
        match self.counts {
            Some((critical, escalate, warn)) => format!("Alerts {critical}!!! {escalate}!! {warn}!"),
            None => "Alerts".into(),
        }
    }

    fn summary(&mut self, cx: &Context) -> anyhow::Result<()> {
        self.counts = Some(cx.app.alert_counts(cx.actor)?);
        self.job_ran_through = Some(cx.app.alerts_processed_through()?);
        Ok(())
    }

    fn load(&mut self, cx: &Context) -> anyhow::Result<()> {
        self.reload(cx.app, cx.actor)
    }

    fn act(&mut self, action: Action, cx: &Context) -> anyhow::Result<Effect> {
        let (app, actor) = (cx.app, cx.actor);
        if self.page_through(action, app, actor)? {
            return Ok(Effect::Nothing);
        }
        match action {
            Action::Back if self.detail_open => self.detail_open = false,
            Action::Back => self.marked.clear(),
            Action::Open => self.detail_open = !self.detail_open,
            Action::Mark => {
                self.toggle_mark();
                self.move_by(app, actor, 1)?;
            }
            Action::MarkRange => self.mark_range(),
            Action::MarkAll => self.mark_all(),
            Action::Mine => {
                let me = actor.user().login.clone();
                let mine = self.filter.assigned_to.as_deref() == Some(me.as_str());
                self.filter.assigned_to = if mine { None } else { Some(me) };
                self.first(app, actor)?;
            }
            Action::ClearFilters => {
                self.filter = Default::default();
                self.first(app, actor)?;
            }
            Action::Ack => return self.acknowledge(cx),
            Action::Resolve => return self.note(action),
            Action::Message => return self.message(cx),
            Action::Snooze => return self.snooze(cx),
            Action::Assign => return self.assign(cx),
            _ => {}
        }
        Ok(Effect::Nothing)
    }

    /// An acknowledgement is undone by giving the alerts back to whoever had them, when that is
    /// one person (or nobody) for all of them.
    fn submit(&mut self, purpose: NoteFor, text: String, cx: &Context) -> anyhow::Result<Result<Effect, String>> {
        let command = match crate::tui::pane::note_command(purpose, text) {
            Ok(command) => command,
            Err(problem) => return Ok(Err(problem)),
        };
        let mut change = Change::new(command);
        if let Command::Triage { ids, action: Triage::Ack, .. } = &change.command {
            let mut before = std::collections::BTreeSet::new();
            for id in ids {
                let (alert, _) = cx.app.alert(cx.actor, *id)?;
                if alert.status == AlertStatus::Open {
                    before.insert(alert.assigned_to);
                }
            }
            if let [assigned_to] = before.into_iter().collect::<Vec<_>>().as_slice() {
                let action = Triage::Reopen { assigned_to: assigned_to.clone() };
                let undo = Command::Triage { ids: ids.clone(), action, note: None };
                change.undo = Some((format!("acknowledged {}", targets_label(ids)), undo));
            }
        }
        Ok(Ok(Effect::Change(change)))
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, cx: &Context, look: &Look) {
        let side_by_side = area.width >= SIDE_BY_SIDE;
        if side_by_side || self.detail_open {
            self.load_detail(cx.app, cx.actor);
        }
        if side_by_side {
            let [list, detail] =
                Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(area);
            self.draw_list(frame, list, look.theme, look.now, look.filtering);
            self.draw_detail(frame, detail, look.theme);
        } else if self.detail_open {
            self.draw_detail(frame, area, look.theme);
        } else {
            self.draw_list(frame, area, look.theme, look.now, look.filtering);
        }
    }

    fn hints(&self) -> (Vec<Hint>, Vec<Hint>) {
        let first = vec![
            (Action::Open, if self.detail_open { "list" } else { "detail" }),
            (Action::Ack, "ack"),
            (Action::Snooze, "snooze"),
            (Action::Assign, "assign"),
            (Action::Resolve, "resolve"),
        ];
        (
            first,
            vec![
                (Action::Message, "message"),
                (Action::Mark, "mark"),
                (Action::Filter, "filter"),
                (Action::Down, "move"),
            ],
        )
    }

    fn help(&self) -> &'static [(Scope, &'static str)] {
        &[(Scope::Alerts, "alert inbox"), (Scope::List, "lists"), (Scope::Everywhere, "everywhere")]
    }

    fn sort(&mut self, _cx: &Context) -> anyhow::Result<String> {
        Ok("this list keeps one order: most severe first, then oldest (the order the inbox pages in)".into())
    }

    fn filter(&mut self) -> Option<&mut Option<String>> {
        Some(&mut self.filter.text)
    }

    fn filter_changed(&mut self, cx: &Context) -> anyhow::Result<()> {
        self.first(cx.app, cx.actor)
    }

    fn lead(&mut self, lead: Leads) -> bool {
        lead == Leads::Alerts
    }

    /// Every filter value: severity, status, type, program and assignee.
    fn palette(&self, cx: &Context) -> anyhow::Result<Vec<PaletteEntry>> {
        let mut entries = Vec::new();
        let mut filter = |name: String, description: String, change: FilterChange| {
            entries.push(PaletteEntry { name, description, key: String::new(), run: PaletteRun::Filter(change) })
        };
        for s in Severity::ALL {
            filter(format!("severity {s}"), format!("only {s} alerts"), FilterChange::Severity(Some(*s)));
        }
        filter("severity any".into(), "every severity".into(), FilterChange::Severity(None));
        for s in AlertStatus::ALL {
            filter(format!("status {s}"), format!("only {s} alerts"), FilterChange::Status(Some(*s), false));
        }
        filter("status live".into(), "all but resolved".into(), FilterChange::Status(None, false));
        filter("status all".into(), "resolved ones too".into(), FilterChange::Status(None, true));
        for k in AlertType::ALL {
            filter(format!("type {k}"), format!("only {k} alerts"), FilterChange::Kind(Some(*k)));
        }
        filter("type any".into(), "every type".into(), FilterChange::Kind(None));
        for program in cx.app.program_ids(cx.actor)? {
            let description = format!("only students of {program}");
            filter(format!("program {program}"), description, FilterChange::Program(Some(program)));
        }
        filter("program any".into(), "every program".into(), FilterChange::Program(None));
        for user in cx.app.users(cx.actor)? {
            let description = format!("assigned to {}", user.name);
            filter(format!("assignee {}", user.login), description, FilterChange::Assignee(Some(user.login)));
        }
        filter("assignee any".into(), "whoever has them".into(), FilterChange::Assignee(None));
        Ok(entries)
    }

    fn apply_filter(&mut self, change: &FilterChange, cx: &Context) -> anyhow::Result<bool> {
        let filter = &mut self.filter;
        match change.clone() {
            FilterChange::Severity(s) => filter.severity = s,
            FilterChange::Status(s, all) => (filter.status, filter.all_statuses) = (s, all),
            FilterChange::Kind(k) => filter.kind = k,
            FilterChange::Program(p) => filter.program_id = p,
            FilterChange::Assignee(a) => filter.assigned_to = a,
        }
        self.first(cx.app, cx.actor)?;
        Ok(true)
    }

    fn mouse(&mut self, mouse: MouseEvent, cx: &Context) -> anyhow::Result<()> {
        let list = self.list_area;
        match mouse.kind {
            MouseEventKind::ScrollDown => self.move_by(cx.app, cx.actor, 3)?,
            MouseEventKind::ScrollUp => self.move_by(cx.app, cx.actor, -3)?,
            MouseEventKind::Down(MouseButton::Left)
                if mouse.row >= list.y
                    && mouse.row < list.y + list.height
                    && mouse.column >= list.x
                    && mouse.column < list.x + list.width =>
            {
                self.select_visible_row((mouse.row - list.y) as usize)
            }
            _ => {}
        }
        Ok(())
    }

    fn changed_here(&mut self) {
        self.marked.clear();
    }
}

/// What an outreach message starts as when the organisation keeps no `missed` template.
const OUTREACH: &str = "Subject: We missed you, {first_name}\n\nHi {first_name},\n\nWe missed you at {program}. Is everything all right? Reply to this message or call me.\n\n{partner_name}";

/// The dialog for a message to a student (about an alert, or not), to edit before it is queued;
/// the organisation's `missed` template, if there is one, is where it starts.
pub fn message_dialog(cx: &Context, student_id: &str, name: &str, alert: Option<i64>) -> anyhow::Result<Effect> {
    let start = match cx.app.templates(cx.actor)?.into_iter().find(|t| t.name == "missed") {
        Some(t) => format!("Subject: {}\n\n{}", t.subject, t.body),
        None => OUTREACH.to_string(),
    };
    let title = format!("message to {name} ({student_id})");
    let purpose = NoteFor::Message { student_id: student_id.to_string(), alert };
    Ok(Effect::Open(Overlay::note_with(title, purpose, &start)))
}

impl Inbox {
    /// A message to the selected alert's student, to edit before it is queued.
    fn message(&mut self, cx: &Context) -> anyhow::Result<Effect> {
        let ids = self.targets();
        let [id] = ids.as_slice() else {
            return Ok(Effect::warn("a message goes to one student: select one alert (Esc clears marks)"));
        };
        let (alert, _) = cx.app.alert(cx.actor, *id)?;
        message_dialog(cx, &alert.student_id, &alert.student_name, Some(*id))
    }

    fn note(&mut self, action: Action) -> anyhow::Result<Effect> {
        let ids = self.targets();
        if ids.is_empty() {
            return Ok(Effect::Nothing);
        }
        let title = targets_label(&ids);
        let (purpose, verb) =
            if action == Action::Ack { (NoteFor::Ack(ids), "acknowledge") } else { (NoteFor::Resolve(ids), "resolve") };
        Ok(Effect::Open(Overlay::note(format!("{verb} {title} · note"), purpose)))
    }

    /// The selected or marked alerts as they are now, for a check before a dialog opens.
    fn target_views(&self, cx: &Context) -> anyhow::Result<Vec<AlertView>> {
        self.targets().iter().map(|id| Ok(cx.app.alert(cx.actor, *id)?.0)).collect()
    }

    /// Only open alerts can be acknowledged: said before the note is typed, not after it was
    /// written for nothing.
    fn acknowledge(&mut self, cx: &Context) -> anyhow::Result<Effect> {
        let views = self.target_views(cx)?;
        if !views.is_empty() && views.iter().all(|alert| alert.status != AlertStatus::Open) {
            let which = match views.as_slice() {
                [alert] => match (alert.status, &alert.assigned_to) {
                    (AlertStatus::Acknowledged, Some(by)) => {
                        format!("alert {} is already acknowledged, by {by}", alert.id)
                    }
                    (status, _) => format!("alert {} is {status}", alert.id),
                },
                _ => format!("none of the {} marked alerts is open", views.len()),
            };
            return Ok(Effect::warn(format!("nothing to acknowledge: {which}")));
        }
        self.note(Action::Ack)
    }

    /// Only acknowledged alerts can be snoozed: said before the duration menu, not after a
    /// choice was made in it.
    fn snooze(&mut self, cx: &Context) -> anyhow::Result<Effect> {
        let views = self.target_views(cx)?;
        if views.is_empty() {
            return Ok(Effect::Nothing);
        }
        let not_acknowledged = views.iter().filter(|alert| alert.status != AlertStatus::Acknowledged).count();
        if not_acknowledged > 0 {
            let which = if views.len() == 1 {
                "this alert is not acknowledged".to_string()
            } else {
                format!("{not_acknowledged} of the {} marked alerts are not acknowledged", views.len())
            };
            return Ok(Effect::warn(format!("only acknowledged alerts can be snoozed: {which} (a acknowledges)")));
        }
        let ids: Vec<i64> = views.iter().map(|alert| alert.id).collect();
        let now = cx.app.now();
        let options = [
            ("1 hour", Duration::hours(1)),
            ("4 hours", Duration::hours(4)),
            ("1 day", Duration::days(1)),
            ("3 days", Duration::days(3)),
            ("1 week", Duration::weeks(1)),
        ]
        .into_iter()
        .map(|(label, length)| {
            let command =
                Command::Triage { ids: ids.clone(), action: Triage::Snooze { until: now + length }, note: None };
            (label.to_string(), command)
        })
        .collect();
        let title = format!("snooze {} for", targets_label(&ids));
        Ok(Effect::Open(Overlay::Picker { title, options, selected: 0 }))
    }

    /// Only people who may see every target's student can take them all.
    fn assign(&mut self, cx: &Context) -> anyhow::Result<Effect> {
        let ids = self.targets();
        let mut people: Option<Vec<crate::domain::User>> = None;
        for id in &ids {
            let may = cx.app.assignable(cx.actor, *id)?;
            people = Some(match people {
                None => may,
                Some(so_far) => so_far.into_iter().filter(|p| may.iter().any(|m| m.login == p.login)).collect(),
            });
        }
        let people = people.unwrap_or_default();
        if people.is_empty() {
            return Ok(Effect::warn("nobody may see all of those students"));
        }
        let options = people
            .into_iter()
            .map(|p| {
                let command =
                    Command::Triage { ids: ids.clone(), action: Triage::Assign { to: p.login.clone() }, note: None };
                (format!("{:<12} {} ({})", p.login, p.name, p.role), command)
            })
            .collect();
        let title = format!("assign {} to", targets_label(&ids));
        Ok(Effect::Open(Overlay::Picker { title, options, selected: 0 }))
    }
}
