//! What each tab does with a key: the home summary, onboarding, payroll, audit, students and
//! attendance, each turning an action into a read, a dialog or a `Command` for `app`.

use super::*;
use crate::tui::window::PagedList;

impl Console {
    pub(super) fn act_home(&mut self, action: Action) -> anyhow::Result<()> {
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

    pub(super) fn act_onboarding(&mut self, action: Action) -> anyhow::Result<()> {
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
                    // A signed document shows its signature, the drawn mark with it.
                    "sign" if item.done => {
                        let login = self.actor.user().login.clone();
                        let signed = self.app.signatures(&self.actor, &login)?;
                        match signed.into_iter().rev().find(|s| s.document_code == item.code) {
                            Some(record) => self.overlay = Some(Overlay::Signed(Box::new(record))),
                            None => self.message = Some(("no signature of yours is recorded for it".into(), true)),
                        }
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

    pub(super) fn open_payroll_form(&mut self) -> anyhow::Result<()> {
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

    pub(super) fn act_payroll(&mut self, action: Action) -> anyhow::Result<()> {
        match action {
            Action::Down => self.payroll.move_by(1),
            Action::Up => self.payroll.move_by(-1),
            Action::Open if !self.payroll.admin => self.open_payroll_form()?,
            Action::Verify if self.payroll.admin => {
                if let Some(p) = self.payroll.selected() {
                    let message = format!(
                        "Approve {}'s payroll profile ({}, rate {})?",
                        p.login,
                        crate::tui::onboarding::masked_method(p),
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
    pub(super) fn submit_payroll_form(&mut self, mut form: Box<PayrollFormState>) -> anyhow::Result<()> {
        use crate::domain::onboarding::{PayoutMethod, account_last4};
        use crate::tui::onboarding::{FORM_ACCOUNT, FORM_RATE, FORM_ROUTING, FORM_W9};
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

    pub(super) fn act_audit(&mut self, action: Action) -> anyhow::Result<()> {
        let (app, actor, pane) = (&self.app, &self.actor, &mut self.audit);
        if pane.page_through(action, app, actor)? {
            return Ok(());
        }
        match action {
            Action::Verify => pane.verify(app, actor)?,
            Action::Open => {
                if let Some(entry) = pane.selected() {
                    let doc = crate::store::partners::Document {
                        code: format!("audit-{}", entry.seq),
                        title: format!("audit entry {}", entry.seq),
                        action: "read".into(),
                        version: entry.action.clone(),
                        sha256: entry.hash.clone(),
                        body: crate::tui::audit::entry_text(entry),
                    };
                    self.overlay = Some(Overlay::Document { doc, scroll: 0, purpose: ReadFor::Read });
                }
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn act_students(&mut self, action: Action) -> anyhow::Result<()> {
        let (app, actor, pane) = (&self.app, &self.actor, &mut self.students);
        match action {
            Action::Back => pane.history = None,
            _ if pane.history.is_some() => {}
            _ if pane.page_through(action, app, actor)? => {}
            Action::Open => pane.open(app, actor)?,
            _ => {}
        }
        Ok(())
    }

    pub(super) fn act_attendance(&mut self, action: Action) -> anyhow::Result<()> {
        let Some(pane) = &mut self.attendance else { return Ok(()) };
        let mut reload = false;
        let mut command = None;
        let mut cell = None;
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
            Action::PrevWeek | Action::NextWeek if pane.view == crate::tui::attendance::View::Week => {
                pane.move_week(if action == Action::PrevWeek { -1 } else { 1 });
                reload = true;
            }
            Action::Present | Action::Absent | Action::Excused if pane.view != crate::tui::attendance::View::Queue => {
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
            Action::Hours if pane.view != crate::tui::attendance::View::Queue => {
                if let Some(entry) = pane.entry(crate::domain::AttendanceStatus::Present, pane.hours_here()) {
                    let title = format!("hours for {} on {}", entry.student_id, entry.date.format("%a %m-%d"));
                    self.overlay = Some(Overlay::note(title, NoteFor::Hours(entry)));
                }
            }
            Action::FillWeek if pane.view == crate::tui::attendance::View::Week => {
                let entries = pane.unlogged_days();
                if entries.is_empty() {
                    self.message = Some(("every session day so far is logged".into(), false));
                } else {
                    let days = entries.iter().map(crate::tui::attendance::day_of).collect();
                    let what = format!("{} days logged present", entries.len());
                    self.pending_undo = Some((what, Command::RetractAttendance { days }));
                    command = Some(Command::LogAttendance { entries });
                }
            }
            Action::Sort => self.message = Some((pane.next_order(&self.app, &self.actor)?, false)),
            Action::Open => match pane.record_here() {
                Some(id) => {
                    let record = self.app.attendance_record(&self.actor, id)?;
                    self.overlay = Some(Overlay::Record(Box::new(record)));
                }
                None => self.message = Some(("nothing is logged here".into(), false)),
            },
            Action::Mark if pane.view == crate::tui::attendance::View::Queue => pane.toggle_mark(),
            Action::MarkAll if pane.view == crate::tui::attendance::View::Queue => pane.mark_all(),
            Action::MarkGroup if pane.view == crate::tui::attendance::View::Queue => pane.mark_group(),
            Action::Verify if pane.view == crate::tui::attendance::View::Queue => {
                let ids = pane.targets();
                if !ids.is_empty() {
                    let what = format!("verified {}", records_label(&ids));
                    self.pending_undo = Some((what, Command::ReopenAttendance { ids: ids.clone() }));
                    command = Some(Command::DecideAttendance { ids, decision: crate::app::Decision::Verify });
                }
            }
            Action::Reject if pane.view == crate::tui::attendance::View::Queue => {
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
        Ok(())
    }

    /// Logs one grid cell: asks first when it overwrites a decided record or a day off
    /// schedule, and says what changed for whom. Returns what the rules refused.
    pub(super) fn log_cell(&mut self, change: crate::tui::attendance::CellChange) -> anyhow::Result<Option<String>> {
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
}

/// `record 12`, `3 records`.
pub(super) fn records_label(ids: &[i64]) -> String {
    match ids {
        [one] => format!("record {one}"),
        many => format!("{} records", many.len()),
    }
}
