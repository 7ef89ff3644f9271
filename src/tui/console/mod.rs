//! The console's state and how an event is routed: an open dialog takes every key first
//! (`dialogs`), then a filter being typed, then tab digits and the keymap's actions, which the tab
//! in view handles (`panes`); changes become `Command`s for `app::execute`, asked about first where
//! they act on many or cannot be taken back. Drawing (`frame`) goes to any ratatui backend, so
//! tests render it into a `TestBackend`.

mod dialogs;
mod frame;
mod panes;

use super::attendance::AttendancePane;
use super::audit::AuditPane;
use super::home::{HomePane, Leads};
use super::inbox::Inbox;
use super::keymap::{ACTIONS, Action, Keymap, Scope};
use super::onboarding::{OnboardingPane, PayrollFormState, PayrollPane};
use super::overlay::ReadFor;
use super::overlay::{self, FilterChange, NoteFor, Overlay, PaletteEntry, PaletteRun};
use super::students::StudentsPane;
use super::theme::Theme;
use super::window::PagedList;
use crate::app::{Actor, App, AppError, Command, Triage};
use crate::domain::Role;
use crate::domain::alerts::{AlertStatus, AlertType, Severity};
use chrono::Duration;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub struct Settings {
    pub keymap: Keymap,
    pub theme: Theme,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Home,
    Alerts,
    Attendance,
    Payroll,
    Onboarding,
    Students,
    Audit,
}

impl Tab {
    fn title(self) -> &'static str {
        match self {
            Tab::Home => "Home",
            Tab::Alerts => "Alerts",
            Tab::Attendance => "Attendance",
            Tab::Payroll => "Payroll",
            Tab::Onboarding => "Onboarding",
            Tab::Students => "Students",
            Tab::Audit => "Audit",
        }
    }
}

pub struct Console {
    app: App,
    actor: Actor,
    settings: Settings,
    tabs: Vec<Tab>,
    active: usize,
    home: HomePane,
    inbox: Inbox,
    attendance: Option<AttendancePane>,
    students: StudentsPane,
    /// Tabs whose data changed since they were last shown.
    stale: std::collections::HashSet<Tab>,
    onboarding: OnboardingPane,
    payroll: PayrollPane,
    audit: AuditPane,
    /// On narrow screens the detail replaces the list while open.
    detail_open: bool,
    filtering: bool,
    overlay: Option<Overlay>,
    message: Option<(String, bool)>,
    /// The last change made here that a command can undo, and what it was.
    undo: Option<(String, Command)>,
    /// The undo for the change being made, kept once it succeeds.
    pending_undo: Option<(String, Command)>,
    data_version: i64,
    tab_spans: Vec<(u16, u16)>,
    picker_area: Rect,
    /// Where the signing dialog's drawing pad was drawn, for the mouse.
    signing_pad: Rect,
    /// Something changed since the last frame.
    pub dirty: bool,
}

/// A key for the hint bar and what it does.
type Hint = (Action, &'static str);

/// Wide enough to show the list and the detail side by side.
const SIDE_BY_SIDE: u16 = 110;

impl Console {
    pub fn new(app: App, actor: Actor, settings: Settings) -> anyhow::Result<Console> {
        let tabs = tabs_for(&app, &actor)?;
        let data_version = app.data_version()?;
        let mut console = Console {
            app,
            actor,
            settings,
            tabs,
            active: 0,
            home: HomePane::default(),
            inbox: Inbox::default(),
            attendance: None,
            students: StudentsPane::default(),
            stale: Default::default(),
            onboarding: OnboardingPane::default(),
            payroll: PayrollPane::default(),
            audit: AuditPane::default(),
            detail_open: false,
            filtering: false,
            overlay: None,
            message: None,
            undo: None,
            pending_undo: None,
            data_version,
            tab_spans: Vec::new(),
            picker_area: Rect::default(),
            signing_pad: Rect::default(),
            dirty: true,
        };
        if console.tabs.contains(&Tab::Alerts) {
            console.inbox.first(&console.app, &console.actor)?;
        }
        if console.tabs.contains(&Tab::Attendance) {
            console.attendance = Some(AttendancePane::new(console.actor.user().role, console.app.today()));
        }
        Ok(console)
    }

    /// Work that can wait until the first frame is on screen, and that every change repeats:
    /// what the tab bar shows, the tab in view, and marking the other tabs to be read when shown.
    pub fn after_first_frame(&mut self) -> anyhow::Result<()> {
        if self.tabs.contains(&Tab::Alerts) {
            self.inbox.counts = Some(self.app.alert_counts(&self.actor)?);
            self.inbox.job_ran_through = Some(self.app.alerts_processed_through()?);
        }
        if let Some(pane) = self.attendance.as_mut().filter(|p| p.can_verify) {
            pane.oldest_pending = self.app.oldest_pending(&self.actor).ok().flatten();
        }
        self.stale = self.tabs.iter().copied().filter(|t| *t != Tab::Alerts).collect();
        self.load_stale(self.tab())?;
        self.dirty = true;
        Ok(())
    }

    /// Notices changes written by anyone else (a colleague, cron, the background task).
    pub fn poll_changes(&mut self) -> anyhow::Result<()> {
        let version = self.app.data_version()?;
        if version != self.data_version {
            self.data_version = version;
            self.refresh()?;
        }
        Ok(())
    }

    /// After a change: what the tab bar shows and the tab in view are read again at once; the
    /// other tabs when they are next shown (an admin's partner list alone can take half a second).
    fn refresh(&mut self) -> anyhow::Result<()> {
        // A partner who just finished onboarding gets every tab of their role at once.
        let tabs = tabs_for(&self.app, &self.actor)?;
        if tabs != self.tabs {
            self.tabs = tabs;
            self.active = 0;
            if self.tabs.contains(&Tab::Alerts) {
                self.inbox.first(&self.app, &self.actor)?;
            }
            if self.tabs.contains(&Tab::Attendance) && self.attendance.is_none() {
                self.attendance = Some(AttendancePane::new(self.actor.user().role, self.app.today()));
            }
            return self.after_first_frame();
        }
        if self.tabs.contains(&Tab::Alerts) {
            self.inbox.reload(&self.app, &self.actor)?;
        }
        self.after_first_frame()
    }

    /// Reads a tab's data if it changed since the tab was last shown.
    fn load_stale(&mut self, tab: Tab) -> anyhow::Result<()> {
        if !self.stale.remove(&tab) {
            return Ok(());
        }
        let (app, actor) = (&self.app, &self.actor);
        match tab {
            Tab::Attendance => {
                if let Some(pane) = &mut self.attendance {
                    pane.load(app, actor)?;
                }
            }
            Tab::Students => self.students.reload(app, actor)?,
            Tab::Onboarding => self.onboarding.load(app, actor)?,
            Tab::Payroll => self.payroll.load(app, actor)?,
            Tab::Audit => self.audit.last(app, actor)?,
            Tab::Home => self.home.load(app, actor, app.now(), self.inbox.counts)?,
            Tab::Alerts => {}
        }
        Ok(())
    }

    /// The number a tab is shown with and reached by: Home is 0, the others count from 1.
    fn tab_number(&self, index: usize) -> usize {
        if self.tabs.first() == Some(&Tab::Home) { index } else { index + 1 }
    }

    /// Shows a tab, reading its data first if it is stale.
    fn switch_to(&mut self, index: usize) -> anyhow::Result<()> {
        if index < self.tabs.len() {
            self.active = index;
            self.load_stale(self.tabs[index])?;
        }
        Ok(())
    }

    fn tab(&self) -> Tab {
        self.tabs[self.active]
    }

    pub fn handle(&mut self, event: Event) -> anyhow::Result<Flow> {
        let flow = match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.key(key)?,
            Event::Mouse(mouse) => {
                self.mouse(mouse)?;
                Flow::Continue
            }
            Event::Resize(..) => Flow::Continue,
            _ => return Ok(Flow::Continue),
        };
        self.dirty = true;
        Ok(flow)
    }

    fn key(&mut self, key: KeyEvent) -> anyhow::Result<Flow> {
        self.message = None;
        // Ctrl-C quits from anywhere, whatever is open and however the keys are bound.
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            return Ok(Flow::Quit);
        }
        if self.overlay.is_some() {
            return self.overlay_key(key);
        }
        if self.filtering {
            self.filter_key(key)?;
            return Ok(Flow::Continue);
        }
        if let KeyCode::Char(digit @ '0'..='9') = key.code
            && key.modifiers.is_empty()
        {
            let number = digit as usize - '0' as usize;
            if let Some(index) = (0..self.tabs.len()).find(|i| self.tab_number(*i) == number) {
                self.switch_to(index)?;
            }
            return Ok(Flow::Continue);
        }
        match self.settings.keymap.action(&key) {
            Some(action) => self.act(action),
            None => Ok(Flow::Continue),
        }
    }

    fn act(&mut self, action: Action) -> anyhow::Result<Flow> {
        let in_alerts = self.tab() == Tab::Alerts;
        let (app, actor) = (&self.app, &self.actor);
        match action {
            Action::Quit => return Ok(Flow::Quit),
            Action::Back if self.tab() == Tab::Students => self.students.history = None,
            Action::Back => {
                if self.detail_open {
                    self.detail_open = false;
                } else if !self.inbox.marked.is_empty() {
                    self.inbox.marked.clear();
                }
            }
            Action::Help => self.overlay = Some(Overlay::Help),
            Action::Palette => {
                self.overlay = Some(Overlay::Palette { input: String::new(), selected: 0, entries: self.palette()? })
            }
            Action::NextTab => self.switch_to((self.active + 1) % self.tabs.len())?,
            Action::PrevTab => self.switch_to((self.active + self.tabs.len() - 1) % self.tabs.len())?,
            Action::Filter => self.start_filter(),
            Action::Undo => self.undo_last()?,
            Action::Sort if self.tab() != Tab::Attendance => {
                let order = match self.tab() {
                    Tab::Alerts => "most severe first, then oldest (the order the inbox pages in)",
                    Tab::Students => "by student ID",
                    Tab::Audit => "by sequence, newest last",
                    Tab::Onboarding | Tab::Payroll | Tab::Home | Tab::Attendance => "as listed",
                };
                self.message = Some((format!("this list keeps one order: {order}"), false));
            }
            _ if self.tab() == Tab::Home => self.act_home(action)?,
            _ if self.tab() == Tab::Attendance => self.act_attendance(action)?,
            _ if self.tab() == Tab::Students => self.act_students(action)?,
            _ if self.tab() == Tab::Onboarding => self.act_onboarding(action)?,
            _ if self.tab() == Tab::Payroll => self.act_payroll(action)?,
            _ if self.tab() == Tab::Audit => self.act_audit(action)?,
            _ if !in_alerts => {}
            _ if self.inbox.page_through(action, app, actor)? => {}
            Action::Open => self.detail_open = !self.detail_open,
            Action::Mark => {
                self.inbox.toggle_mark();
                self.inbox.move_by(app, actor, 1)?;
            }
            Action::MarkRange => self.inbox.mark_range(),
            Action::MarkAll => self.inbox.mark_all(),
            Action::Mine => {
                let me = self.actor.user().login.clone();
                let mine = self.inbox.filter.assigned_to.as_deref() == Some(me.as_str());
                self.inbox.filter.assigned_to = if mine { None } else { Some(me) };
                self.inbox.first(app, actor)?;
            }
            Action::ClearFilters => {
                self.inbox.filter = Default::default();
                self.inbox.first(app, actor)?;
            }
            Action::Ack | Action::Resolve => self.start_note(action)?,
            Action::Snooze => self.start_snooze()?,
            Action::Assign => self.start_assign()?,
            _ => {}
        }
        Ok(Flow::Continue)
    }

    /// Runs a command, or asks first when it touches several alerts or resolves any.
    /// The question to ask before running `command`, if it needs one: it acts on several
    /// things at once, or cannot be taken back.
    fn confirmation(&self, command: &Command) -> Option<String> {
        let (count, resolving) = match command {
            Command::Triage { ids, action, .. } => (ids.len(), *action == Triage::Resolve),
            Command::DecideAttendance { ids, .. } => (ids.len(), false),
            Command::LogAttendance { entries } => (entries.len(), false),
            _ => (1, false),
        };
        if count <= 1 && !resolving {
            return None;
        }
        let what = if count == 1 { "this alert".to_string() } else { format!("these {count} alerts") };
        Some(match command {
            Command::Triage { action: Triage::Resolve, .. } => {
                format!("Resolve {what}? The same streak will not open again.")
            }
            Command::Triage { action: Triage::Ack, .. } => format!("Acknowledge {what}? You take them on."),
            Command::Triage { action: Triage::Snooze { .. }, .. } => format!("Snooze {what}?"),
            Command::Triage { action: Triage::Assign { to }, .. } => format!("Assign {what} to {to}?"),
            Command::DecideAttendance { decision: crate::app::Decision::Verify, .. } => {
                format!("Verify {count} records?")
            }
            Command::DecideAttendance { .. } => format!("Reject {count} records?"),
            Command::LogAttendance { .. } => format!("Log {count} days present, each with the student's usual hours?"),
            _ => "Go ahead?".to_string(),
        })
    }

    fn confirm_or_run(&mut self, command: Command) -> anyhow::Result<()> {
        match self.confirmation(&command) {
            Some(message) => self.overlay = Some(Overlay::Confirm { message, command, done: None }),
            None => self.run(command)?,
        }
        Ok(())
    }

    fn run(&mut self, command: Command) -> anyhow::Result<()> {
        if let Some(problem) = self.attempt(command)? {
            self.message = Some((problem, true));
        }
        Ok(())
    }

    /// Executes a command; returns what the rules refused, if they did. What the rules refuse
    /// is news for the person, not a crash.
    fn attempt(&mut self, command: Command) -> anyhow::Result<Option<String>> {
        self.attempt_described(command, None)
    }

    /// `attempt`, with the status line saying `done` (what changed, for whom) when it succeeds.
    fn attempt_described(&mut self, command: Command, done: Option<String>) -> anyhow::Result<Option<String>> {
        let undo = self.pending_undo.take();
        match self.app.execute(&self.actor, command) {
            Ok(outcome) => {
                self.undo = undo;
                self.message = Some((done.unwrap_or_else(|| outcome.to_string()), false));
                self.inbox.marked.clear();
                self.data_version = self.app.data_version()?;
                self.refresh()?;
                Ok(None)
            }
            Err(
                e @ (AppError::Denied(_) | AppError::Invalid(_) | AppError::NotFound(_) | AppError::InvalidRows(_)),
            ) => Ok(Some(e.to_string())),
            Err(other) => Err(other.into()),
        }
    }

    /// `u`: undoes the last change made here that a command can undo (a day logged, a week
    /// filled, a verification or rejection, an acknowledgement). The undo is itself a change
    /// through the same rules and the audit log; it is not undone in turn.
    fn undo_last(&mut self) -> anyhow::Result<()> {
        let Some((what, undo)) = self.undo.take() else {
            self.message = Some((
                "nothing to undo: a day logged, a week filled, a decision or an acknowledgement made here can be"
                    .into(),
                false,
            ));
            return Ok(());
        };
        if let Some(problem) = self.attempt_described(undo, Some(format!("undone: {what}")))? {
            self.message = Some((format!("could not undo {what}: {problem}"), true));
        }
        Ok(())
    }

    /// `/`: the lists with a filter take typed text from now until ⏎ or Esc; elsewhere the
    /// person is told there is none (so what they type next is not mistaken for a filter).
    fn start_filter(&mut self) {
        if self.tab() == Tab::Students {
            self.students.history = None;
        }
        if self.filter_text().is_some() {
            self.filtering = true;
        } else {
            self.message = Some((format!("the {} tab has no filter", self.tab().title()), true));
        }
    }

    /// The filter text of the current tab's list, if it has a filter.
    fn filter_text(&mut self) -> Option<&mut Option<String>> {
        match self.tab() {
            Tab::Alerts => Some(&mut self.inbox.filter.text),
            Tab::Attendance => self.attendance.as_mut().map(|pane| &mut pane.filter),
            Tab::Students => Some(&mut self.students.filter),
            Tab::Home | Tab::Payroll | Tab::Onboarding | Tab::Audit => None,
        }
    }

    /// Every key while filtering is text for the filter (`q` types a q) until ⏎ keeps it or Esc
    /// clears it.
    fn filter_key(&mut self, key: KeyEvent) -> anyhow::Result<()> {
        let Some(slot) = self.filter_text() else {
            self.filtering = false;
            return Ok(());
        };
        let text = slot.get_or_insert_with(String::new);
        let mut done = false;
        match key.code {
            KeyCode::Enter => done = true,
            KeyCode::Esc => {
                done = true;
                *slot = None;
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => text.push(c),
            _ => return Ok(()),
        }
        if done {
            self.filtering = false;
        }
        let (app, actor) = (&self.app, &self.actor);
        match self.tab() {
            Tab::Alerts => self.inbox.first(app, actor)?,
            Tab::Students => self.students.first(app, actor)?,
            Tab::Attendance => {
                if let Some(pane) = &mut self.attendance {
                    pane.filter_changed(app, actor)?;
                }
            }
            Tab::Home | Tab::Payroll | Tab::Onboarding | Tab::Audit => {}
        }
        Ok(())
    }

    fn run_palette(&mut self, run: PaletteRun) -> anyhow::Result<Flow> {
        match run {
            PaletteRun::Action(action) => return self.act(action),
            PaletteRun::Tab(index) => self.switch_to(index)?,
            PaletteRun::Filter(change) => {
                let filter = &mut self.inbox.filter;
                match change {
                    FilterChange::Severity(s) => filter.severity = s,
                    FilterChange::Status(s, all) => (filter.status, filter.all_statuses) = (s, all),
                    FilterChange::Kind(k) => filter.kind = k,
                    FilterChange::Program(p) => filter.program_id = p,
                    FilterChange::Assignee(a) => filter.assigned_to = a,
                }
                if let Some(alerts) = self.tabs.iter().position(|t| *t == Tab::Alerts) {
                    self.active = alerts;
                }
                self.inbox.first(&self.app, &self.actor)?;
            }
        }
        Ok(Flow::Continue)
    }

    /// Every action by name, every tab, and every filter value.
    fn palette(&self) -> anyhow::Result<Vec<PaletteEntry>> {
        let keymap = &self.settings.keymap;
        let mut entries: Vec<PaletteEntry> = ACTIONS
            .iter()
            .map(|info| PaletteEntry {
                name: info.name.to_string(),
                description: info.description.to_string(),
                key: keymap.short(info.action),
                run: PaletteRun::Action(info.action),
            })
            .collect();
        for (i, tab) in self.tabs.iter().enumerate() {
            entries.push(PaletteEntry {
                name: format!("tab {}", tab.title().to_lowercase()),
                description: format!("go to {}", tab.title()),
                key: self.tab_number(i).to_string(),
                run: PaletteRun::Tab(i),
            });
        }
        if !self.tabs.contains(&Tab::Alerts) {
            return Ok(entries);
        }
        let filter = |name: String, description: String, change: FilterChange| PaletteEntry {
            name,
            description,
            key: String::new(),
            run: PaletteRun::Filter(change),
        };
        for s in Severity::ALL {
            entries.push(filter(format!("severity {s}"), format!("only {s} alerts"), FilterChange::Severity(Some(*s))));
        }
        entries.push(filter("severity any".into(), "every severity".into(), FilterChange::Severity(None)));
        for s in AlertStatus::ALL {
            entries.push(filter(
                format!("status {s}"),
                format!("only {s} alerts"),
                FilterChange::Status(Some(*s), false),
            ));
        }
        entries.push(filter("status live".into(), "all but resolved".into(), FilterChange::Status(None, false)));
        entries.push(filter("status all".into(), "resolved ones too".into(), FilterChange::Status(None, true)));
        for k in AlertType::ALL {
            entries.push(filter(format!("type {k}"), format!("only {k} alerts"), FilterChange::Kind(Some(*k))));
        }
        entries.push(filter("type any".into(), "every type".into(), FilterChange::Kind(None)));
        for program in self.app.program_ids(&self.actor)? {
            entries.push(filter(
                format!("program {program}"),
                format!("only students of {program}"),
                FilterChange::Program(Some(program)),
            ));
        }
        entries.push(filter("program any".into(), "every program".into(), FilterChange::Program(None)));
        for user in self.app.users(&self.actor)? {
            entries.push(filter(
                format!("assignee {}", user.login),
                format!("assigned to {}", user.name),
                FilterChange::Assignee(Some(user.login)),
            ));
        }
        entries.push(filter("assignee any".into(), "whoever has them".into(), FilterChange::Assignee(None)));
        Ok(entries)
    }

    fn mouse(&mut self, mouse: MouseEvent) -> anyhow::Result<()> {
        // Pressing and dragging on the signing pad draws; each press starts a stroke.
        if let Some(Overlay::Note { purpose: NoteFor::Signature { mark, .. }, .. }) = &mut self.overlay {
            let pad = self.signing_pad;
            let inside =
                mouse.column >= pad.x && mouse.column < pad.right() && mouse.row >= pad.y && mouse.row < pad.bottom();
            let point = (mouse.column.saturating_sub(pad.x), mouse.row.saturating_sub(pad.y));
            match mouse.kind {
                MouseEventKind::Down(MouseButton::Left) if inside => mark.push(vec![point]),
                MouseEventKind::Drag(MouseButton::Left) if inside => match mark.last_mut() {
                    Some(stroke) if stroke.last() != Some(&point) => stroke.push(point),
                    Some(_) => {}
                    None => mark.push(vec![point]),
                },
                _ => {}
            }
            return Ok(());
        }
        let (app, actor) = (&self.app, &self.actor);
        match mouse.kind {
            MouseEventKind::ScrollDown if self.tab() == Tab::Alerts && self.overlay.is_none() => {
                self.inbox.move_by(app, actor, 3)?
            }
            MouseEventKind::ScrollUp if self.tab() == Tab::Alerts && self.overlay.is_none() => {
                self.inbox.move_by(app, actor, -3)?
            }
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some(Overlay::Picker { selected, options, .. }) = &mut self.overlay {
                    let area = self.picker_area;
                    if mouse.row >= area.y && mouse.row < area.y + area.height {
                        let row = (mouse.row - area.y) as usize;
                        if row < options.len() {
                            *selected = row;
                        }
                    }
                    return Ok(());
                }
                if self.overlay.is_some() {
                    return Ok(());
                }
                if mouse.row == 0 {
                    if let Some(i) =
                        self.tab_spans.iter().position(|(from, to)| mouse.column >= *from && mouse.column < *to)
                    {
                        self.switch_to(i)?;
                    }
                    return Ok(());
                }
                let list = self.inbox.list_area;
                if self.tab() == Tab::Alerts
                    && mouse.row >= list.y
                    && mouse.row < list.y + list.height
                    && mouse.column >= list.x
                    && mouse.column < list.x + list.width
                {
                    self.inbox.select_visible_row((mouse.row - list.y) as usize);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The tabs a person sees: only Onboarding until a partner's onboarding is complete.
fn tabs_for(app: &App, actor: &Actor) -> anyhow::Result<Vec<Tab>> {
    Ok(match (app.is_onboarded(actor)?, actor.user().role) {
        (false, _) => vec![Tab::Onboarding],
        (true, Role::Admin) => {
            vec![Tab::Home, Tab::Alerts, Tab::Attendance, Tab::Payroll, Tab::Onboarding, Tab::Students, Tab::Audit]
        }
        (true, _) => vec![Tab::Home, Tab::Alerts, Tab::Attendance, Tab::Payroll, Tab::Onboarding, Tab::Students],
    })
}
