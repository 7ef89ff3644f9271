//! The console's state and behaviour: tabs by role, the inbox, overlays, and how keys and mouse
//! become reads or `Command`s for `app::execute`. Drawing goes to any ratatui backend, so tests
//! render it into a `TestBackend`.

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
            _ if self.tab() == Tab::Home => self.act_home(action)?,
            _ if self.tab() == Tab::Attendance => self.act_attendance(action)?,
            _ if self.tab() == Tab::Students => self.act_students(action)?,
            _ if self.tab() == Tab::Onboarding => self.act_onboarding(action)?,
            _ if self.tab() == Tab::Payroll => self.act_payroll(action)?,
            _ if self.tab() == Tab::Audit => self.act_audit(action)?,
            _ if !in_alerts => {}
            Action::Down => self.inbox.move_by(app, actor, 1)?,
            Action::Up => self.inbox.move_by(app, actor, -1)?,
            Action::PageDown => self.inbox.move_by(app, actor, self.inbox.height().max(1) as isize)?,
            Action::PageUp => self.inbox.move_by(app, actor, -(self.inbox.height().max(1) as isize))?,
            Action::Top => self.inbox.first(app, actor)?,
            Action::Bottom => self.inbox.last(app, actor)?,
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

    fn act_home(&mut self, action: Action) -> anyhow::Result<()> {
        match action {
            Action::Down => self.home.move_by(1),
            Action::Up => self.home.move_by(-1),
            Action::Open => {
                if self.home.leads() == Some(Leads::Queue)
                    && let Some(pane) = &mut self.attendance
                {
                    pane.show_queue();
                    self.stale.insert(Tab::Attendance);
                }
                let tab = match self.home.leads() {
                    Some(Leads::Alerts) => Tab::Alerts,
                    Some(Leads::Attendance | Leads::Queue) => Tab::Attendance,
                    Some(Leads::Payroll) => Tab::Payroll,
                    Some(Leads::Onboarding) => Tab::Onboarding,
                    None => return Ok(()),
                };
                if let Some(index) = self.tabs.iter().position(|t| *t == tab) {
                    self.switch_to(index)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn act_onboarding(&mut self, action: Action) -> anyhow::Result<()> {
        match action {
            Action::Down => self.onboarding.move_by(1),
            Action::Up => self.onboarding.move_by(-1),
            Action::PageDown => self.onboarding.move_by(self.onboarding.page()),
            Action::PageUp => self.onboarding.move_by(-self.onboarding.page()),
            Action::Top => self.onboarding.move_by(isize::MIN / 2),
            Action::Bottom => self.onboarding.move_by(isize::MAX / 2),
            Action::Open => {
                let Some(item) = self.onboarding.item().cloned() else { return Ok(()) };
                match item.kind.as_str() {
                    "role" => {
                        let mut packages = Vec::new();
                        for role in [Role::ProgramHolder, Role::Worksite, Role::SiteCoordinator] {
                            let (package, items) = self.app.role_package(role)?;
                            packages.push((package, items, self.app.pay_of(role)?));
                        }
                        let selected =
                            packages.iter().position(|(p, ..)| p.role == self.actor.user().role).unwrap_or(0);
                        self.overlay = Some(Overlay::RolePicker { packages, selected, scroll: 0 });
                    }
                    // Accepted only once its whole text has been on screen.
                    "responsibility" => {
                        self.overlay = Some(Overlay::Confirm {
                            message: format!("“{}” — accept this responsibility?", item.title),
                            command: Command::AcceptResponsibilities { codes: vec![item.code] },
                            done: Some(format!("accepted: {}", item.title)),
                        })
                    }
                    "consent" => {
                        let doc = crate::store::partners::Document {
                            code: "esign".into(),
                            title: "Consent to do business electronically".into(),
                            action: "consent".into(),
                            version: crate::app::onboarding::ESIGN_VERSION.into(),
                            sha256: String::new(),
                            body: crate::app::onboarding::ESIGN_CONSENT.into(),
                        };
                        self.overlay = Some(Overlay::Document { doc, scroll: 0, purpose: ReadFor::Consent });
                    }
                    "sign" | "acknowledge" => {
                        let doc = self.app.document(&item.code)?;
                        let purpose = if item.kind == "sign" { ReadFor::Sign } else { ReadFor::Acknowledge };
                        self.overlay = Some(Overlay::Document { doc, scroll: 0, purpose });
                    }
                    "payroll" => self.open_payroll_form()?,
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn open_payroll_form(&mut self) -> anyhow::Result<()> {
        let (model, min, max, default) = self.app.rate_range(&self.actor)?;
        let unit = if model == "percent" { "%" } else { "USD/month" };
        let range = format!("{min}–{max} {unit}");
        let form = match self.payroll.profiles.last() {
            Some(current) => PayrollFormState::from_profile(range, current),
            None => PayrollFormState::new(range, default),
        };
        self.overlay = Some(Overlay::PayrollForm(Box::new(form)));
        Ok(())
    }

    fn act_payroll(&mut self, action: Action) -> anyhow::Result<()> {
        match action {
            Action::Down => self.payroll.move_by(1),
            Action::Up => self.payroll.move_by(-1),
            Action::Open if !self.payroll.admin => self.open_payroll_form()?,
            Action::Verify if self.payroll.admin => {
                if let Some(p) = self.payroll.selected() {
                    let message = format!(
                        "Approve {}'s payroll profile ({}, rate {})?",
                        p.login,
                        super::onboarding::masked_method(p),
                        p.rate
                    );
                    let command = Command::DecidePayroll { id: p.id, decision: crate::app::PayrollDecision::Approve };
                    self.overlay = Some(Overlay::Confirm { message, command, done: None });
                }
            }
            Action::Reject if self.payroll.admin => {
                if let Some(p) = self.payroll.selected() {
                    let title = format!("reject {}'s payroll profile · reason", p.login);
                    self.overlay = Some(Overlay::note(title, NoteFor::RejectPayroll(p.id)));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Submits the payroll form; what the rules refuse stays in the form to be corrected.
    fn submit_payroll_form(&mut self, mut form: Box<PayrollFormState>) -> anyhow::Result<()> {
        use super::onboarding::{FORM_ACCOUNT, FORM_RATE, FORM_ROUTING, FORM_W9};
        use crate::domain::onboarding::{PayoutMethod, account_last4};
        let built = (|| -> Result<Command, String> {
            let rate: f64 =
                form.text(FORM_RATE).parse().map_err(|_| format!("rate '{}' is not a number", form.text(FORM_RATE)))?;
            let account = Some(form.text(FORM_ACCOUNT)).filter(|a| !a.is_empty());
            let (stripe_account, last4) = match form.method {
                PayoutMethod::StripeConnect => (account, None),
                PayoutMethod::Ach => (None, account.as_deref().map(account_last4).transpose()?),
            };
            let path = form.text(FORM_W9);
            let w9 = std::fs::read(&path).map_err(|e| format!("cannot read the W-9 file '{path}': {e}"))?;
            Ok(Command::SubmitPayroll(crate::app::PayrollForm {
                rate,
                method: form.method,
                stripe_account,
                routing_number: Some(form.text(FORM_ROUTING)).filter(|r| !r.is_empty()),
                account_last4: last4,
                w9,
                accept_terms: form.accept,
            }))
        })();
        let problem = match built {
            Ok(command) => self.attempt(command)?,
            Err(problem) => Some(problem),
        };
        if let Some(problem) = problem {
            form.error = Some(problem);
            self.overlay = Some(Overlay::PayrollForm(form));
        }
        Ok(())
    }

    fn act_audit(&mut self, action: Action) -> anyhow::Result<()> {
        let (app, actor, pane) = (&self.app, &self.actor, &mut self.audit);
        match action {
            Action::Down => pane.move_by(app, actor, 1)?,
            Action::Up => pane.move_by(app, actor, -1)?,
            Action::PageDown => pane.move_by(app, actor, pane.page())?,
            Action::PageUp => pane.move_by(app, actor, -pane.page())?,
            Action::Top => pane.first(app, actor)?,
            Action::Bottom => pane.last(app, actor)?,
            Action::Verify => pane.verify(app, actor)?,
            Action::Open => {
                if let Some(entry) = pane.selected() {
                    let doc = crate::store::partners::Document {
                        code: format!("audit-{}", entry.seq),
                        title: format!("audit entry {}", entry.seq),
                        action: "read".into(),
                        version: entry.action.clone(),
                        sha256: entry.hash.clone(),
                        body: super::audit::entry_text(entry),
                    };
                    self.overlay = Some(Overlay::Document { doc, scroll: 0, purpose: ReadFor::Read });
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn act_students(&mut self, action: Action) -> anyhow::Result<()> {
        let (app, actor, pane) = (&self.app, &self.actor, &mut self.students);
        match action {
            Action::Back => pane.history = None,
            _ if pane.history.is_some() => {}
            Action::Down => pane.move_by(app, actor, 1)?,
            Action::Up => pane.move_by(app, actor, -1)?,
            Action::PageDown => pane.move_by(app, actor, pane.page())?,
            Action::PageUp => pane.move_by(app, actor, -pane.page())?,
            Action::Top => pane.first(app, actor)?,
            Action::Bottom => pane.last(app, actor)?,
            Action::Open => pane.open(app, actor)?,
            _ => {}
        }
        Ok(())
    }

    fn act_attendance(&mut self, action: Action) -> anyhow::Result<()> {
        let Some(pane) = &mut self.attendance else { return Ok(()) };
        let mut reload = false;
        let mut command = None;
        let mut cell = None;
        let mut undoing = None;
        match action {
            Action::Down => pane.move_row(1),
            Action::Up => pane.move_row(-1),
            Action::PageDown => pane.move_row(pane.page()),
            Action::PageUp => pane.move_row(-pane.page()),
            Action::Top => pane.move_row(isize::MIN / 2),
            Action::Bottom => pane.move_row(isize::MAX / 2),
            Action::Left => pane.move_col(-1),
            Action::Right => pane.move_col(1),
            Action::SwitchView => {
                pane.switch_view();
                reload = true;
            }
            Action::PrevWeek | Action::NextWeek if pane.view == super::attendance::View::Week => {
                pane.move_week(if action == Action::PrevWeek { -1 } else { 1 });
                reload = true;
            }
            Action::Present | Action::Absent | Action::Excused if pane.view != super::attendance::View::Queue => {
                let status = match action {
                    Action::Present => crate::domain::AttendanceStatus::Present,
                    Action::Absent => crate::domain::AttendanceStatus::Absent,
                    _ => crate::domain::AttendanceStatus::Excused,
                };
                if let Some(entry) = pane.entry(status, None) {
                    let change = pane.change(entry);
                    if change.question.is_none() {
                        pane.move_row(1);
                    }
                    cell = Some(change);
                }
            }
            Action::Hours if pane.view != super::attendance::View::Queue => {
                if let Some(entry) = pane.entry(crate::domain::AttendanceStatus::Present, pane.hours_here()) {
                    let title = format!("hours for {} on {}", entry.student_id, entry.date.format("%a %m-%d"));
                    self.overlay = Some(Overlay::note(title, NoteFor::Hours(entry)));
                }
            }
            Action::FillWeek if pane.view == super::attendance::View::Week => {
                let entries = pane.unlogged_days();
                if entries.is_empty() {
                    self.message = Some(("every session day so far is logged".into(), false));
                } else {
                    let days = entries.iter().map(super::attendance::day_of).collect();
                    let what = format!("{} days logged present", entries.len());
                    self.pending_undo = Some((what, Command::RetractAttendance { days }));
                    command = Some(Command::LogAttendance { entries });
                }
            }
            Action::Undo => match self.undo.take() {
                Some(undo) => undoing = Some(undo),
                None => {
                    self.message =
                        Some(("nothing to undo: only your last attendance change made here can be".into(), false))
                }
            },
            Action::Open => match pane.record_here() {
                Some(id) => {
                    let record = self.app.attendance_record(&self.actor, id)?;
                    self.overlay = Some(Overlay::Record(Box::new(record)));
                }
                None => self.message = Some(("nothing is logged here".into(), false)),
            },
            Action::Mark if pane.view == super::attendance::View::Queue => pane.toggle_mark(),
            Action::MarkAll if pane.view == super::attendance::View::Queue => pane.mark_all(),
            Action::MarkGroup if pane.view == super::attendance::View::Queue => pane.mark_group(),
            Action::Verify if pane.view == super::attendance::View::Queue => {
                let ids = pane.targets();
                if !ids.is_empty() {
                    command = Some(Command::DecideAttendance { ids, decision: crate::app::Decision::Verify });
                }
            }
            Action::Reject if pane.view == super::attendance::View::Queue => {
                let ids = pane.targets();
                if !ids.is_empty() {
                    let title = format!(
                        "reject {} · reason",
                        if ids.len() == 1 { "1 record".to_string() } else { format!("{} records", ids.len()) }
                    );
                    self.overlay = Some(Overlay::note(title, NoteFor::Reject(ids)));
                }
            }
            _ => {}
        }
        if reload && let Some(pane) = &mut self.attendance {
            pane.load(&self.app, &self.actor)?;
        }
        if let Some(command) = command {
            self.confirm_or_run(command)?;
        }
        if let Some(change) = cell
            && let Some(problem) = self.log_cell(change)?
        {
            self.message = Some((problem, true));
        }
        // An undo is itself a change through the same rules and the audit log; it is not undone.
        if let Some((what, undo)) = undoing
            && let Some(problem) = self.attempt_described(undo, Some(format!("undone: {what}")))?
        {
            self.message = Some((format!("could not undo {what}: {problem}"), true));
        }
        Ok(())
    }

    fn targets_label(ids: &[i64]) -> String {
        match ids {
            [one] => format!("alert {one}"),
            many => format!("{} alerts", many.len()),
        }
    }

    fn start_note(&mut self, action: Action) -> anyhow::Result<()> {
        let ids = self.inbox.targets();
        if ids.is_empty() {
            return Ok(());
        }
        let title = Self::targets_label(&ids);
        let (purpose, verb) =
            if action == Action::Ack { (NoteFor::Ack(ids), "acknowledge") } else { (NoteFor::Resolve(ids), "resolve") };
        self.overlay = Some(Overlay::note(format!("{verb} {title} · note"), purpose));
        Ok(())
    }

    fn start_snooze(&mut self) -> anyhow::Result<()> {
        let ids = self.inbox.targets();
        if ids.is_empty() {
            return Ok(());
        }
        // Said before the duration menu, not after a choice was made in it.
        let mut not_acknowledged = 0;
        for id in &ids {
            let (alert, _) = self.app.alert(&self.actor, *id)?;
            if alert.status != AlertStatus::Acknowledged {
                not_acknowledged += 1;
            }
        }
        if not_acknowledged > 0 {
            let which = if ids.len() == 1 {
                "this alert is not acknowledged".to_string()
            } else {
                format!("{not_acknowledged} of the {} marked alerts are not acknowledged", ids.len())
            };
            self.message = Some((format!("only acknowledged alerts can be snoozed: {which} (a acknowledges)"), true));
            return Ok(());
        }
        let now = self.app.now();
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
        self.overlay =
            Some(Overlay::Picker { title: format!("snooze {} for", Self::targets_label(&ids)), options, selected: 0 });
        Ok(())
    }

    fn start_assign(&mut self) -> anyhow::Result<()> {
        let ids = self.inbox.targets();
        // Only people who may see every target's student can take them all.
        let mut people: Option<Vec<crate::domain::User>> = None;
        for id in &ids {
            let may = self.app.assignable(&self.actor, *id)?;
            people = Some(match people {
                None => may,
                Some(so_far) => so_far.into_iter().filter(|p| may.iter().any(|m| m.login == p.login)).collect(),
            });
        }
        let people = people.unwrap_or_default();
        if people.is_empty() {
            self.message = Some(("nobody may see all of those students".into(), true));
            return Ok(());
        }
        let options = people
            .into_iter()
            .map(|p| {
                let command =
                    Command::Triage { ids: ids.clone(), action: Triage::Assign { to: p.login.clone() }, note: None };
                (format!("{:<12} {} ({})", p.login, p.name, p.role), command)
            })
            .collect();
        self.overlay =
            Some(Overlay::Picker { title: format!("assign {} to", Self::targets_label(&ids)), options, selected: 0 });
        Ok(())
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

    /// Logs one grid cell: asks first when it overwrites a decided record or a day off
    /// schedule, and says what changed for whom. Returns what the rules refused.
    fn log_cell(&mut self, change: super::attendance::CellChange) -> anyhow::Result<Option<String>> {
        self.pending_undo = change.undo.map(|undo| (change.done.clone(), undo));
        let command = Command::LogAttendance { entries: vec![change.entry] };
        match change.question {
            Some(message) => {
                self.overlay = Some(Overlay::Confirm { message, command, done: Some(change.done) });
                Ok(None)
            }
            None => self.attempt_described(command, Some(change.done)),
        }
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

    fn overlay_key(&mut self, key: KeyEvent) -> anyhow::Result<Flow> {
        let Some(overlay) = self.overlay.take() else { return Ok(Flow::Continue) };
        let back = self.settings.keymap.action(&key) == Some(Action::Back) || key.code == KeyCode::Esc;
        match overlay {
            Overlay::Help => {
                if !(back || self.settings.keymap.action(&key) == Some(Action::Help) || key.code == KeyCode::Char('q'))
                {
                    self.overlay = Some(Overlay::Help);
                }
            }
            Overlay::Record(record) => {
                if !(back || key.code == KeyCode::Enter) {
                    self.overlay = Some(Overlay::Record(record));
                }
            }
            Overlay::Confirm { message, command, done } => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                    if let Some(problem) = self.attempt_described(command, done)? {
                        self.message = Some((problem, true));
                    }
                }
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                    self.pending_undo = None;
                    self.message = Some(("nothing changed".into(), false));
                }
                _ => self.overlay = Some(Overlay::Confirm { message, command, done }),
            },
            Overlay::Picker { title, options, mut selected } => match key.code {
                KeyCode::Esc => {}
                KeyCode::Enter => {
                    if let Some((_, command)) = options.into_iter().nth(selected) {
                        self.confirm_or_run(command)?;
                    }
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    selected = (selected + 1).min(options.len().saturating_sub(1));
                    self.overlay = Some(Overlay::Picker { title, options, selected });
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    selected = selected.saturating_sub(1);
                    self.overlay = Some(Overlay::Picker { title, options, selected });
                }
                _ => self.overlay = Some(Overlay::Picker { title, options, selected }),
            },
            Overlay::Note { title, mut editor, purpose } => match key.code {
                KeyCode::Esc => {}
                KeyCode::Enter if !key.modifiers.contains(KeyModifiers::ALT) => {
                    let text = editor.lines().join("\n").trim().to_string();
                    // What the rules refuse keeps the dialog open with the text, to correct it.
                    let refused = match note_command(purpose.clone(), text) {
                        Ok(Command::LogAttendance { mut entries }) if matches!(purpose, NoteFor::Hours(_)) => {
                            match (entries.pop(), &self.attendance) {
                                (Some(entry), Some(pane)) => self.log_cell(pane.change(entry))?,
                                _ => None,
                            }
                        }
                        Ok(command) if self.confirmation(&command).is_some() => {
                            self.confirm_or_run(command)?;
                            None
                        }
                        Ok(command) => self.attempt(command)?,
                        Err(problem) => Some(problem),
                    };
                    if let Some(problem) = refused {
                        self.message = Some((problem, true));
                        self.overlay = Some(Overlay::Note { title, editor, purpose });
                    }
                }
                _ => {
                    let mut key = key;
                    if key.code == KeyCode::Enter {
                        key.modifiers.remove(KeyModifiers::ALT);
                    }
                    editor.input(key);
                    self.overlay = Some(Overlay::Note { title, editor, purpose });
                }
            },
            Overlay::RolePicker { packages, mut selected, mut scroll } => match key.code {
                KeyCode::Esc => {}
                KeyCode::Enter => {
                    if let Some((package, ..)) = packages.get(selected) {
                        self.run(Command::SelectRole { role: package.role })?;
                    }
                }
                code => {
                    match code {
                        KeyCode::Left => selected = selected.saturating_sub(1),
                        KeyCode::Right => selected = (selected + 1).min(packages.len().saturating_sub(1)),
                        KeyCode::Down | KeyCode::Char('j') => scroll = scroll.saturating_add(1),
                        KeyCode::Up | KeyCode::Char('k') => scroll = scroll.saturating_sub(1),
                        _ => {}
                    }
                    self.overlay = Some(Overlay::RolePicker { packages, selected, scroll });
                }
            },
            Overlay::Document { doc, mut scroll, purpose } => match key.code {
                KeyCode::Esc => {}
                KeyCode::Enter => match purpose {
                    ReadFor::Read => {}
                    ReadFor::Consent => self.run(Command::ConsentToEsign { version: doc.version.clone() })?,
                    ReadFor::Acknowledge => {
                        self.run(Command::AcknowledgeDocument { code: doc.code, shown_sha256: doc.sha256 })?;
                    }
                    ReadFor::Sign => {
                        let title = format!("sign the {} · your full name", doc.title);
                        self.overlay =
                            Some(Overlay::note(title, NoteFor::Signature { code: doc.code, sha256: doc.sha256 }));
                    }
                },
                code => {
                    match code {
                        KeyCode::Down | KeyCode::Char('j') => scroll = scroll.saturating_add(1),
                        KeyCode::Up | KeyCode::Char('k') => scroll = scroll.saturating_sub(1),
                        KeyCode::PageDown | KeyCode::Char(' ') => scroll = scroll.saturating_add(10),
                        KeyCode::PageUp => scroll = scroll.saturating_sub(10),
                        _ => {}
                    }
                    self.overlay = Some(Overlay::Document { doc, scroll, purpose });
                }
            },
            Overlay::PayrollForm(mut form) => {
                use super::onboarding::{FORM_METHOD, FORM_TERMS};
                match key.code {
                    KeyCode::Esc => return Ok(Flow::Continue),
                    KeyCode::Enter => return self.submit_payroll_form(form).map(|()| Flow::Continue),
                    KeyCode::Down | KeyCode::Tab => form.focus = (form.focus + 1).min(FORM_TERMS),
                    KeyCode::Up | KeyCode::BackTab => form.focus = form.focus.saturating_sub(1),
                    KeyCode::Char(' ') if form.focus == FORM_METHOD => {
                        use crate::domain::onboarding::PayoutMethod;
                        form.method = if form.method == PayoutMethod::Ach {
                            PayoutMethod::StripeConnect
                        } else {
                            PayoutMethod::Ach
                        };
                    }
                    KeyCode::Char(' ') if form.focus == FORM_TERMS => form.accept = !form.accept,
                    _ if form.focus < FORM_METHOD => {
                        let focus = form.focus;
                        form.fields[focus].input(key);
                    }
                    _ => {}
                }
                self.overlay = Some(Overlay::PayrollForm(form));
            }
            Overlay::Palette { mut input, mut selected, entries } => {
                let found = overlay::matching(&entries, &input).len();
                match key.code {
                    KeyCode::Esc => return Ok(Flow::Continue),
                    KeyCode::Enter => {
                        let chosen = overlay::matching(&entries, &input).get(selected).map(|e| e.run.clone());
                        if let Some(run) = chosen {
                            return self.run_palette(run);
                        }
                    }
                    KeyCode::Tab => {
                        if let Some(entry) = overlay::matching(&entries, &input).get(selected) {
                            input = entry.name.clone();
                            selected = 0;
                        }
                    }
                    KeyCode::Down => selected = (selected + 1).min(found.saturating_sub(1)),
                    KeyCode::Up => selected = selected.saturating_sub(1),
                    KeyCode::Backspace => {
                        input.pop();
                        selected = 0;
                    }
                    KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                        input.push(c);
                        selected = 0;
                    }
                    _ => {}
                }
                self.overlay = Some(Overlay::Palette { input, selected, entries });
            }
        }
        Ok(Flow::Continue)
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

    pub fn draw(&mut self, frame: &mut Frame) {
        let theme = self.settings.theme.clone();
        let [tabs, body, hints] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1)]).areas(frame.area());
        self.draw_tabs(frame, tabs, &theme);
        match self.tab() {
            Tab::Home => {
                let who = self.actor.user().name.clone();
                self.home.draw(frame, body, &theme, &who);
            }
            Tab::Alerts => self.draw_alerts(frame, body, &theme),
            Tab::Students => {
                let now = self.app.now();
                self.students.draw(frame, body, &theme, now);
            }
            Tab::Onboarding => self.onboarding.draw(frame, body, &theme),
            Tab::Payroll => {
                let now = self.app.now();
                self.payroll.draw(frame, body, &theme, now);
            }
            Tab::Attendance => {
                let now = self.app.now();
                if let Some(pane) = &mut self.attendance {
                    pane.draw(frame, body, &theme, now);
                }
            }
            Tab::Audit => self.audit.draw(frame, body, &theme),
        }
        self.draw_hints(frame, hints, &theme);
        match &self.overlay {
            None => {}
            Some(Overlay::Help) => {
                let scopes: &[(Scope, &str)] = match self.tab() {
                    Tab::Alerts => {
                        &[(Scope::Alerts, "alert inbox"), (Scope::List, "lists"), (Scope::Everywhere, "everywhere")]
                    }
                    Tab::Attendance => {
                        &[(Scope::Attendance, "attendance"), (Scope::List, "lists"), (Scope::Everywhere, "everywhere")]
                    }
                    _ => &[(Scope::Everywhere, "everywhere")],
                };
                overlay::draw_help(frame, &self.settings.keymap, &theme, scopes);
            }
            Some(Overlay::Palette { input, selected, entries }) => {
                overlay::draw_palette(frame, &theme, input, *selected, entries)
            }
            Some(Overlay::Confirm { message, .. }) => overlay::draw_confirm(frame, &theme, message),
            Some(Overlay::Record(record)) => overlay::draw_record(frame, &theme, record),
            Some(Overlay::Picker { title, options, selected }) => {
                self.picker_area = overlay::draw_picker(frame, &theme, title, options, *selected);
            }
            Some(Overlay::Note { title, editor, .. }) => overlay::draw_note(frame, &theme, title, editor),
            Some(Overlay::RolePicker { packages, selected, scroll }) => {
                super::onboarding::draw_role_picker(frame, &theme, packages, *selected, *scroll);
            }
            Some(Overlay::Document { doc, scroll, purpose }) => {
                let hint = match purpose {
                    ReadFor::Read => "j/k scroll · Esc back",
                    ReadFor::Consent => "j/k scroll · ⏎ I consent · Esc back",
                    ReadFor::Sign => "j/k scroll · ⏎ sign with your full name · Esc back",
                    ReadFor::Acknowledge => "j/k scroll · ⏎ acknowledge · Esc back",
                };
                super::onboarding::draw_document(frame, &theme, doc, *scroll, hint);
            }
            Some(Overlay::PayrollForm(form)) => form.draw(frame, &theme),
        }
    }

    fn draw_tabs(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let titles: Vec<String> = self
            .tabs
            .iter()
            .enumerate()
            .map(|(i, tab)| match (tab, self.inbox.counts) {
                (Tab::Alerts, Some((critical, escalate, warn))) => {
                    format!(" {} Alerts {critical}!!! {escalate}!! {warn}! ", self.tab_number(i))
                }
                // For verifiers: how long the oldest record has waited.
                (Tab::Attendance, _) => match self.attendance.as_ref().and_then(|p| p.oldest_pending.as_deref()) {
                    Some(oldest) => {
                        format!(" {} Attendance ⧗{} ", self.tab_number(i), super::inbox::age(oldest, self.app.now()))
                    }
                    None => format!(" {} Attendance ", self.tab_number(i)),
                },
                _ => format!(" {} {} ", self.tab_number(i), tab.title()),
            })
            .collect();
        let full: usize = titles.iter().map(|t| t.chars().count() + 1).sum::<usize>() + 8;
        // Too narrow for every title: the tabs not shown are cut to three letters.
        let narrow = full > area.width as usize;
        let mut spans = vec![Span::styled(" muster ", theme.accent)];
        let mut x = area.x + 8;
        self.tab_spans.clear();
        for (i, title) in titles.into_iter().enumerate() {
            let title = if narrow && i != self.active {
                format!(" {} {} ", self.tab_number(i), self.tabs[i].title().chars().take(3).collect::<String>())
            } else {
                title
            };
            let width = title.chars().count() as u16;
            // The space after a tab belongs to it, so no click between tabs is lost.
            self.tab_spans.push((x, x + width + 1));
            x += width + 1;
            let style = if i == self.active { theme.active_tab } else { ratatui::style::Style::new() };
            spans.push(Span::styled(title, style));
            spans.push(Span::raw(" "));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        // Who you are, and whom you act as, at the right where it fits: in full, else logins only.
        let user = self.actor.user();
        let full = match &self.actor.acting_as {
            Some(_) => format!(" {} as {} ({}) ", self.actor.person.login, user.login, user.role),
            None => format!(" {} ({}) ", user.login, user.role),
        };
        let short = match &self.actor.acting_as {
            Some(_) => format!(" {} as {} ", self.actor.person.login, user.login),
            None => format!(" {} ", user.login),
        };
        let room = usize::from(area.right().saturating_sub(x));
        if let Some(who) = [full, short].into_iter().find(|who| who.chars().count() <= room) {
            let right =
                Rect { x: area.right() - who.chars().count() as u16, width: who.chars().count() as u16, ..area };
            frame.render_widget(Paragraph::new(Span::styled(who, theme.dim)), right);
        }
    }

    fn draw_alerts(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let now = self.app.now();
        let side_by_side = area.width >= SIDE_BY_SIDE;
        let wants_detail = side_by_side || self.detail_open;
        if wants_detail && let Err(e) = self.inbox.load_detail(&self.app, &self.actor) {
            self.message = Some((e.to_string(), true));
        }
        if side_by_side {
            let [list, detail] =
                Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(area);
            self.inbox.draw_list(frame, list, theme, now, self.filtering);
            self.inbox.draw_detail(frame, detail, theme);
        } else if self.detail_open {
            self.inbox.draw_detail(frame, area, theme);
        } else {
            self.inbox.draw_list(frame, area, theme, now, self.filtering);
        }
    }

    /// The pane's own keys for the hint bar: those shown first, and those a narrow screen may
    /// cut off after help and quit.
    fn pane_hints(&self) -> (Vec<Hint>, Vec<Hint>) {
        use super::attendance::View;
        let first: Vec<Hint> = match self.tab() {
            Tab::Home => vec![(Action::Open, "open"), (Action::Down, "move")],
            Tab::Alerts => vec![
                (Action::Open, if self.detail_open { "list" } else { "detail" }),
                (Action::Ack, "ack"),
                (Action::Snooze, "snooze"),
                (Action::Assign, "assign"),
                (Action::Resolve, "resolve"),
            ],
            Tab::Attendance => match self.attendance.as_ref().map(|p| p.view) {
                Some(View::Day) => vec![
                    (Action::Present, "present"),
                    (Action::Absent, "absent"),
                    (Action::Excused, "excused"),
                    (Action::Hours, "hours"),
                    (Action::SwitchView, "week"),
                ],
                Some(View::Week) => vec![
                    (Action::Present, "present"),
                    (Action::Absent, "absent"),
                    (Action::Excused, "excused"),
                    (Action::Hours, "hours"),
                    (Action::FillWeek, "fill week"),
                    (Action::PrevWeek, "week"),
                ],
                Some(View::Queue) => {
                    vec![
                        (Action::Verify, "verify"),
                        (Action::Reject, "reject"),
                        (Action::Mark, "mark"),
                        (Action::MarkGroup, "week"),
                        (Action::MarkAll, "all"),
                    ]
                }
                None => Vec::new(),
            },
            Tab::Students if self.students.history.is_some() => vec![(Action::Back, "back")],
            Tab::Students => vec![(Action::Open, "history")],
            Tab::Onboarding if self.onboarding.mine.is_some() => {
                vec![(Action::Open, "open step"), (Action::Down, "next")]
            }
            Tab::Payroll if self.payroll.admin => vec![(Action::Verify, "approve"), (Action::Reject, "reject")],
            Tab::Audit => vec![(Action::Open, "entry"), (Action::Verify, "check chain"), (Action::Bottom, "newest")],
            Tab::Payroll => vec![(Action::Open, "edit profile")],
            Tab::Onboarding => Vec::new(),
        };
        let last = match self.tab() {
            Tab::Alerts => vec![(Action::Mark, "mark"), (Action::Filter, "filter"), (Action::Down, "move")],
            Tab::Attendance if self.undo.is_some() => {
                vec![(Action::Undo, "undo"), (Action::Open, "record"), (Action::Filter, "filter")]
            }
            Tab::Attendance => vec![(Action::Open, "record"), (Action::Filter, "filter")],
            Tab::Students => vec![(Action::Filter, "filter")],
            _ => Vec::new(),
        };
        (first, last)
    }

    fn draw_hints(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        if let Some((message, error)) = &self.message {
            let style = if *error { theme.error } else { theme.ok };
            frame.render_widget(Paragraph::new(Line::styled(format!(" {message}"), style)), area);
            return;
        }
        let keymap = &self.settings.keymap;
        let hint = |(action, text): &(Action, &str)| {
            vec![Span::styled(format!(" {} ", keymap.short(*action)), theme.marked), Span::raw(format!("{text} "))]
        };
        let spans: Vec<Span> = if self.filtering {
            let typed = match self.tab() {
                Tab::Alerts => self.inbox.filter.text.clone(),
                Tab::Attendance => self.attendance.as_ref().and_then(|p| p.filter.clone()),
                Tab::Students => self.students.filter.clone(),
                Tab::Home | Tab::Payroll | Tab::Onboarding | Tab::Audit => None,
            };
            vec![
                Span::styled(" / ", theme.marked),
                Span::raw(format!("{}▏ ", crate::domain::text::shown(&typed.unwrap_or_default()))),
                Span::raw("student ID or name · "),
                Span::styled("⏎", theme.marked),
                Span::raw(" keep · "),
                Span::styled("Esc", theme.marked),
                Span::raw(" clear"),
            ]
        } else if self.overlay.is_some() {
            hint(&(Action::Back, "close"))
        } else {
            let (first, last) = self.pane_hints();
            // Help and quit come before what a narrow screen may leave out; a hint that does
            // not fit whole is left out (`?` lists every key), never cut mid-word.
            let everywhere = [(Action::Help, "help"), (Action::Quit, "quit"), (Action::Palette, "cmd")];
            let mut room = usize::from(area.width);
            let mut spans = Vec::new();
            for shown in first.iter().chain(everywhere.iter()).chain(last.iter()).map(hint) {
                let width: usize = shown.iter().map(Span::width).sum();
                if width > room {
                    break;
                }
                room -= width;
                spans.extend(shown);
            }
            spans
        };
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }
}

/// The command a written note stands for, or what is wrong with it.
fn note_command(purpose: NoteFor, text: String) -> Result<Command, String> {
    let note = (!text.is_empty()).then_some(text.clone());
    match purpose {
        NoteFor::Ack(ids) => Ok(Command::Triage { ids, action: Triage::Ack, note }),
        NoteFor::Resolve(ids) => Ok(Command::Triage { ids, action: Triage::Resolve, note }),
        NoteFor::Reject(_) if note.is_none() => Err("a rejection needs a reason the worksite can act on".into()),
        NoteFor::Reject(ids) => {
            Ok(Command::DecideAttendance { ids, decision: crate::app::Decision::Reject { reason: text } })
        }
        NoteFor::Signature { code, sha256 } => {
            Ok(Command::SignDocument { code, typed_name: text, shown_sha256: sha256 })
        }
        NoteFor::RejectPayroll(_) if note.is_none() => Err("a rejection needs a reason the partner can act on".into()),
        NoteFor::RejectPayroll(id) => {
            Ok(Command::DecidePayroll { id, decision: crate::app::PayrollDecision::Reject { reason: text } })
        }
        NoteFor::Hours(mut entry) => {
            let hours: f64 = text.parse().map_err(|_| format!("'{text}' is not a number of hours"))?;
            entry.hours = Some(hours);
            Ok(Command::LogAttendance { entries: vec![entry] })
        }
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
