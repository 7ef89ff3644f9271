//! The console's state and how an event is routed: an open dialog takes every key first
//! (`dialogs`), then a filter being typed, then tab digits and the keymap's actions; what is
//! left goes to the pane in view (a `Pane`, one per tab), whose `Effect` the console carries out —
//! changes become `Command`s for `app::execute`, asked about first where they act on many or
//! cannot be taken back. Drawing (`frame`) goes to any ratatui backend, so tests render it into
//! a `TestBackend`.

mod dialogs;
mod frame;
#[cfg(test)]
mod routing;

use super::attendance::AttendancePane;
use super::audit::AuditPane;
use super::home::HomePane;
use super::inbox::Inbox;
use super::keymap::{ACTIONS, Action, Keymap};
use super::onboarding::OnboardingPane;
use super::overlay::{self, Overlay, PaletteEntry, PaletteRun, ReadFor};
use super::pane::{Change, Context, Effect, Look, Pane};
use super::payroll::PayrollPane;
use super::students::StudentsPane;
use super::theme::Theme;
use crate::app::{Actor, App, AppError, Command, Triage};
use crate::domain::Role;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub struct Settings {
    pub keymap: Keymap,
    pub theme: Theme,
    /// On a replica: the background sync the Sync tab shows and asks.
    pub sync: Option<crate::sync::background::Handle>,
    /// The SMTP server messages go through, if `[mail]` names one.
    pub mail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

pub struct Console {
    app: App,
    actor: Actor,
    settings: Settings,
    /// The tabs, in the order shown.
    panes: Vec<Box<dyn Pane>>,
    active: usize,
    /// Panes whose data changed since they were last shown.
    stale: Vec<bool>,
    filtering: bool,
    overlay: Option<Overlay>,
    message: Option<(String, bool)>,
    /// The last change made here that a command can undo, and what it was.
    undo: Option<(String, Command)>,
    /// The undo for the change being made, kept once it succeeds.
    pending_undo: Option<(String, Command)>,
    data_version: i64,
    /// Where each tab shown in the tab bar was drawn: from, to, and which tab.
    tab_spans: Vec<(u16, u16, usize)>,
    picker_area: Rect,
    /// Where the signing dialog's drawing pad was drawn, for the mouse.
    signing_pad: Rect,
    /// The background sync's state when last drawn (on a replica).
    sync_seen: Option<(bool, Option<chrono::DateTime<chrono::Utc>>, Option<String>)>,
    /// Something changed since the last frame.
    pub dirty: bool,
    /// Alerts about one's students that opened or rose while the console was open, newest first.
    notices: Vec<crate::store::alerts::Notice>,
    /// How many of them came since the list was last looked at.
    unread: usize,
    /// The last alert event looked at for notices.
    notice_mark: i64,
}

/// Notices kept for the list.
const NOTICES_KEPT: usize = 50;

impl Console {
    pub fn new(app: App, actor: Actor, settings: Settings) -> anyhow::Result<Console> {
        let panes = panes_for(&app, &actor, &settings)?;
        Console::with_panes(app, actor, settings, panes)
    }

    /// A console over the given tabs; `new` gives a person the tabs of their role.
    fn with_panes(app: App, actor: Actor, settings: Settings, panes: Vec<Box<dyn Pane>>) -> anyhow::Result<Console> {
        let data_version = app.data_version()?;
        let notice_mark = app.last_alert_event()?;
        Ok(Console {
            app,
            actor,
            settings,
            stale: vec![true; panes.len()],
            panes,
            active: 0,
            filtering: false,
            overlay: None,
            message: None,
            undo: None,
            pending_undo: None,
            data_version,
            tab_spans: Vec::new(),
            picker_area: Rect::default(),
            signing_pad: Rect::default(),
            sync_seen: None,
            notices: Vec::new(),
            unread: 0,
            notice_mark,
            dirty: true,
        })
    }

    /// Work that can wait until the first frame is on screen, and that every change repeats:
    /// what the tab bar shows, the tab in view, and marking the other tabs to be read when shown.
    pub fn after_first_frame(&mut self) -> anyhow::Result<()> {
        let cx = Context { app: &self.app, actor: &self.actor };
        let panes = &mut self.panes;
        super::waiting::reading("the tabs' counts", || panes.iter_mut().try_for_each(|pane| pane.summary(&cx)))?;
        self.stale.iter_mut().for_each(|stale| *stale = true);
        self.load_stale(self.active)?;
        self.dirty = true;
        Ok(())
    }

    /// Notices changes written by anyone else (a colleague, cron, the background task).
    pub fn poll_changes(&mut self) -> anyhow::Result<()> {
        let version = self.app.data_version()?;
        if version != self.data_version {
            self.data_version = version;
            self.refresh()?;
            self.look_for_notices()?;
        }
        // A sync that starts, fails or succeeds in the background shows without a key pressed.
        if let Some(sync) = &self.settings.sync {
            let state = sync.snapshot();
            let seen = (state.running, state.last_ok, state.last_error);
            if self.sync_seen.as_ref() != Some(&seen) {
                self.sync_seen = Some(seen);
                self.dirty = true;
            }
        }
        Ok(())
    }

    /// Alerts about one's students that another process opened or raised: a line in the status
    /// bar now, a count in the tab bar until the list is looked at (`N`).
    fn look_for_notices(&mut self) -> anyhow::Result<()> {
        let Ok((new, count)) = self.app.alert_notices(&self.actor, self.notice_mark, NOTICES_KEPT) else {
            return Ok(());
        };
        let Some(newest) = new.first() else { return Ok(()) };
        self.notice_mark = newest.event;
        self.unread += count;
        let line = match count {
            1 => format!("⚑ {newest}"),
            n => format!("⚑ {n} alerts about your students opened or rose; the newest: {newest} (N lists them)"),
        };
        self.message = Some((line, false));
        self.notices.splice(0..0, new);
        self.notices.truncate(NOTICES_KEPT);
        self.dirty = true;
        Ok(())
    }

    /// The notices as a page to read; looking at it counts them read.
    fn notices_page(&mut self) -> Overlay {
        self.unread = 0;
        let mut body = String::from("# Alerts that opened or rose while the console was open\n\n");
        if self.notices.is_empty() {
            body.push_str("None yet. They show here as the alert job or a colleague's change opens them.\n");
        }
        for notice in &self.notices {
            body.push_str(&format!("- {} · {notice}\n", notice.at.replace('T', " ").trim_end_matches('Z')));
        }
        let doc = crate::store::partners::Document {
            code: "notices".into(),
            title: "notifications".into(),
            action: "read".into(),
            version: String::new(),
            sha256: String::new(),
            body,
        };
        Overlay::Document { doc, scroll: 0, purpose: overlay::ReadFor::Notices }
    }

    /// After a change: what the tab bar shows and the tab in view are read again at once; the
    /// other tabs when they are next shown (an admin's partner list alone can take half a second).
    fn refresh(&mut self) -> anyhow::Result<()> {
        // A partner who just finished onboarding gets every tab of their role at once.
        let panes = panes_for(&self.app, &self.actor, &self.settings)?;
        if panes.iter().map(|p| p.title()).ne(self.panes.iter().map(|p| p.title())) {
            self.stale = vec![true; panes.len()];
            self.panes = panes;
            self.active = 0;
        }
        self.after_first_frame()
    }

    /// Reads a tab's data if it changed since the tab was last shown.
    fn load_stale(&mut self, index: usize) -> anyhow::Result<()> {
        if !std::mem::take(&mut self.stale[index]) {
            return Ok(());
        }
        let cx = Context { app: &self.app, actor: &self.actor };
        let pane = &mut self.panes[index];
        super::waiting::reading(pane.title(), || pane.load(&cx))
    }

    /// The number a tab is shown with and reached by: Home is 0, the others count from 1.
    fn tab_number(&self, index: usize) -> usize {
        if self.panes.first().is_some_and(|p| p.title() == "Home") { index } else { index + 1 }
    }

    /// Shows a tab, reading its data first if it is stale.
    fn switch_to(&mut self, index: usize) -> anyhow::Result<()> {
        if index < self.panes.len() {
            self.active = index;
            self.load_stale(index)?;
        }
        Ok(())
    }

    fn pane(&mut self) -> &mut dyn Pane {
        self.panes[self.active].as_mut()
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
        // A terminal sends Alt+key as Esc and the key: Esc pressed just before a key (quickly, or
        // over a slow link) arrives as Alt+key. Read as the two keys pressed, so the Esc is never
        // lost — a dialog that seemed closed would take the keys that follow, and ⏎ would submit it.
        if let KeyCode::Char(_) = key.code
            && key.modifiers.contains(KeyModifiers::ALT)
            && !key.modifiers.contains(KeyModifiers::CONTROL)
        {
            if self.key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE))? == Flow::Quit {
                return Ok(Flow::Quit);
            }
            let mut key = key;
            key.modifiers.remove(KeyModifiers::ALT);
            return self.key(key);
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
            if let Some(index) = (0..self.panes.len()).find(|i| self.tab_number(*i) == number) {
                self.switch_to(index)?;
            }
            return Ok(Flow::Continue);
        }
        match self.settings.keymap.action(&key) {
            Some(action) => self.act(action),
            None => Ok(Flow::Continue),
        }
    }

    /// The actions every tab shares; the rest go to the pane in view.
    fn act(&mut self, action: Action) -> anyhow::Result<Flow> {
        match action {
            Action::Quit => return Ok(Flow::Quit),
            Action::Help => self.overlay = Some(Overlay::Help { scroll: 0, last: 0 }),
            Action::Notifications => self.overlay = Some(self.notices_page()),
            Action::Palette => {
                self.overlay = Some(Overlay::Palette { input: String::new(), selected: 0, entries: self.palette()? })
            }
            Action::NextTab => self.switch_to((self.active + 1) % self.panes.len())?,
            Action::PrevTab => self.switch_to((self.active + self.panes.len() - 1) % self.panes.len())?,
            Action::Filter => self.start_filter(),
            Action::Undo => self.undo_last()?,
            Action::Sort => {
                let cx = Context { app: &self.app, actor: &self.actor };
                self.message = Some((self.panes[self.active].sort(&cx)?, false));
            }
            _ => {
                let cx = Context { app: &self.app, actor: &self.actor };
                let effect = self.panes[self.active].act(action, &cx)?;
                if let Some(problem) = self.follow(effect)? {
                    self.message = Some((problem, true));
                }
            }
        }
        Ok(Flow::Continue)
    }

    /// Carries out what a pane asked for; returns what the rules refused, if they did.
    fn follow(&mut self, effect: Effect) -> anyhow::Result<Option<String>> {
        match effect {
            Effect::Nothing => {}
            Effect::Say(text, problem) => self.message = Some((text, problem)),
            Effect::Open(overlay) => self.overlay = Some(overlay),
            Effect::Change(change) => return self.change(change),
            Effect::Goto(lead) => {
                if let Some(index) = self.panes.iter_mut().position(|p| p.lead(lead)) {
                    self.stale[index] = true;
                    self.switch_to(index)?;
                }
            }
        }
        Ok(None)
    }

    /// Makes a change, or asks first when the pane says so or it touches several records or
    /// cannot be taken back.
    fn change(&mut self, change: Change) -> anyhow::Result<Option<String>> {
        self.pending_undo = change.undo;
        match change.question.or_else(|| confirmation(&change.command)) {
            Some(message) => {
                self.overlay = Some(Overlay::Confirm { message, command: change.command, done: change.done });
                Ok(None)
            }
            None => self.attempt(change.command, change.done),
        }
    }

    /// Executes a command, the status line saying `done` (what changed, for whom) when it
    /// succeeds; returns what the rules refused, if they did. What the rules refuse is news
    /// for the person, not a crash.
    fn attempt(&mut self, command: Command, done: Option<String>) -> anyhow::Result<Option<String>> {
        let undo = self.pending_undo.take();
        match self.app.execute(&self.actor, command) {
            Ok(outcome) => {
                self.undo = undo;
                self.message = Some((done.unwrap_or_else(|| outcome.to_string()), false));
                self.pane().changed_here();
                self.data_version = self.app.data_version()?;
                self.refresh()?;
                Ok(None)
            }
            // So is another process's long write that the person stopped waiting for.
            Err(
                e @ (AppError::Denied(_)
                | AppError::Invalid(_)
                | AppError::NotFound(_)
                | AppError::InvalidRows(_)
                | AppError::Store(crate::store::StoreError::Busy(_) | crate::store::StoreError::ReadOnly)),
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
        if let Some(problem) = self.attempt(undo, Some(format!("undone: {what}")))? {
            self.message = Some((format!("could not undo {what}: {problem}"), true));
        }
        Ok(())
    }

    /// `/`: typed text is the filter's from now until ⏎ or Esc. A tab without a filter says so
    /// and takes the text all the same, so what was meant for a filter is not taken for keys
    /// (a `q` in it would quit, an `X` ask to stop a sending).
    fn start_filter(&mut self) {
        self.filtering = true;
    }

    /// Every key while filtering is text for the filter (`q` types a q) until ⏎ keeps it or Esc
    /// clears it; on a tab without one, it goes nowhere.
    fn filter_key(&mut self, key: KeyEvent) -> anyhow::Result<()> {
        let Some(slot) = self.panes[self.active].filter() else {
            if matches!(key.code, KeyCode::Enter | KeyCode::Esc) {
                self.filtering = false;
            }
            return Ok(());
        };
        let text = slot.get_or_insert_with(String::new);
        match key.code {
            KeyCode::Enter => self.filtering = false,
            KeyCode::Esc => {
                self.filtering = false;
                *slot = None;
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => text.push(c),
            _ => return Ok(()),
        }
        let cx = Context { app: &self.app, actor: &self.actor };
        self.panes[self.active].filter_changed(&cx)
    }

    fn run_palette(&mut self, run: PaletteRun) -> anyhow::Result<Flow> {
        match run {
            PaletteRun::Action(action) => return self.act(action),
            PaletteRun::Tab(index) => self.switch_to(index)?,
            PaletteRun::Filter(change) => {
                let cx = Context { app: &self.app, actor: &self.actor };
                for index in 0..self.panes.len() {
                    if self.panes[index].apply_filter(&change, &cx)? {
                        self.active = index;
                        break;
                    }
                }
            }
        }
        Ok(Flow::Continue)
    }

    /// Every action by name, every tab, and the panes' own entries (filter values).
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
        for (i, pane) in self.panes.iter().enumerate() {
            entries.push(PaletteEntry {
                name: format!("tab {}", pane.title().to_lowercase()),
                description: format!("go to {}", pane.title()),
                key: self.tab_number(i).to_string(),
                run: PaletteRun::Tab(i),
            });
        }
        let cx = Context { app: &self.app, actor: &self.actor };
        for pane in &self.panes {
            entries.extend(pane.palette(&cx)?);
        }
        Ok(entries)
    }

    fn mouse(&mut self, mouse: MouseEvent) -> anyhow::Result<()> {
        // Pressing and dragging on the signing pad draws; each press starts a stroke.
        if let Some(Overlay::Note { purpose: overlay::NoteFor::Signature { mark, .. }, .. }) = &mut self.overlay {
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
        if let Some(Overlay::Picker { selected, options, .. }) = &mut self.overlay {
            let area = self.picker_area;
            if mouse.kind == MouseEventKind::Down(MouseButton::Left)
                && mouse.row >= area.y
                && mouse.row < area.y + area.height
            {
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
        if mouse.kind == MouseEventKind::Down(MouseButton::Left) && mouse.row == 0 {
            if let Some(&(.., i)) = self.tab_spans.iter().find(|(from, to, _)| (*from..*to).contains(&mouse.column)) {
                self.switch_to(i)?;
            }
            return Ok(());
        }
        let cx = Context { app: &self.app, actor: &self.actor };
        self.panes[self.active].mouse(mouse, &cx)
    }
}

/// The question to ask before running `command` when its pane did not ask one: it acts on
/// several things at once, or cannot be taken back.
fn confirmation(command: &Command) -> Option<String> {
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
        Command::DecideAttendance { decision: crate::app::Decision::Verify, .. } => format!("Verify {count} records?"),
        Command::DecideAttendance { .. } => format!("Reject {count} records?"),
        Command::LogAttendance { .. } => format!("Log {count} days present, each with the student's usual hours?"),
        _ => "Go ahead?".to_string(),
    })
}

/// The tabs a person sees: only Onboarding until a partner's onboarding is complete. A new
/// tab is a `Pane` in its own file and one line here.
fn panes_for(app: &App, actor: &Actor, settings: &Settings) -> anyhow::Result<Vec<Box<dyn Pane>>> {
    let role = actor.user().role;
    if !app.is_onboarded(actor)? {
        return Ok(vec![Box::new(OnboardingPane::default())]);
    }
    let mut panes: Vec<Box<dyn Pane>> = vec![
        Box::new(HomePane::default()),
        Box::new(Inbox::default()),
        Box::new(AttendancePane::new(role, app.today())),
        Box::new(PayrollPane::default()),
        Box::new(OnboardingPane::default()),
        Box::new(StudentsPane::default()),
    ];
    if role == Role::Admin {
        panes.push(Box::new(AuditPane::default()));
    }
    let mail = if app.is_replica() { Some("the hub".to_string()) } else { settings.mail.clone() };
    panes.push(Box::new(super::messages::MessagesPane::new(mail)));
    panes.push(Box::new(super::reports::ReportsPane::default()));
    if let Some(handle) = &settings.sync {
        panes.push(Box::new(super::sync::SyncPane::new(handle.clone())));
    }
    Ok(panes)
}
