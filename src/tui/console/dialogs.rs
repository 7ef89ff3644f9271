//! The dialogs: starting a note, a snooze or an assignment, and every key while one is open —
//! a key typed into a dialog goes to the dialog, never to the pane beneath.

use super::*;

impl Console {
    pub(super) fn targets_label(ids: &[i64]) -> String {
        match ids {
            [one] => format!("alert {one}"),
            many => format!("{} alerts", many.len()),
        }
    }

    pub(super) fn start_note(&mut self, action: Action) -> anyhow::Result<()> {
        let ids = self.inbox.targets();
        if ids.is_empty() {
            return Ok(());
        }
        let title = Self::targets_label(&ids);
        if action == Action::Ack {
            // Undone by giving the alerts back to whoever had them, when that is one person (or
            // nobody) for all of them.
            let mut before = std::collections::BTreeSet::new();
            for id in &ids {
                let (alert, _) = self.app.alert(&self.actor, *id)?;
                if alert.status == crate::domain::alerts::AlertStatus::Open {
                    before.insert(alert.assigned_to);
                }
            }
            self.pending_undo = match before.into_iter().collect::<Vec<_>>().as_slice() {
                [assigned_to] => Some((
                    format!("acknowledged {title}"),
                    Command::Triage {
                        ids: ids.clone(),
                        action: Triage::Reopen { assigned_to: assigned_to.clone() },
                        note: None,
                    },
                )),
                _ => None,
            };
        }
        let (purpose, verb) =
            if action == Action::Ack { (NoteFor::Ack(ids), "acknowledge") } else { (NoteFor::Resolve(ids), "resolve") };
        self.overlay = Some(Overlay::note(format!("{verb} {title} · note"), purpose));
        Ok(())
    }

    pub(super) fn start_snooze(&mut self) -> anyhow::Result<()> {
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

    pub(super) fn start_assign(&mut self) -> anyhow::Result<()> {
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

    pub(super) fn overlay_key(&mut self, key: KeyEvent) -> anyhow::Result<Flow> {
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
            Overlay::Signed(record) => {
                if !(back || key.code == KeyCode::Enter) {
                    self.overlay = Some(Overlay::Signed(record));
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
                KeyCode::Esc => self.pending_undo = None,
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
                        Ok(command @ Command::DecideAttendance { .. }) => {
                            if let Command::DecideAttendance { ids, .. } = &command {
                                let what = format!("rejected {}", super::panes::records_label(ids));
                                self.pending_undo = Some((what, Command::ReopenAttendance { ids: ids.clone() }));
                            }
                            if self.confirmation(&command).is_some() {
                                self.confirm_or_run(command)?;
                                None
                            } else {
                                self.attempt(command)?
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
                        self.overlay = Some(Overlay::note(
                            title,
                            NoteFor::Signature { code: doc.code, sha256: doc.sha256, mark: Vec::new() },
                        ));
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
                use crate::tui::onboarding::{FORM_METHOD, FORM_TERMS};
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
        NoteFor::Signature { code, sha256, mark } => {
            let mark = (!mark.is_empty()).then_some(mark);
            Ok(Command::SignDocument { code, typed_name: text, shown_sha256: sha256, mark })
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
