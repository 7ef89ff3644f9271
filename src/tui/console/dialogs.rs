//! The dialogs: every key while one is open goes to the dialog, never to the pane beneath.
//! What a dialog's answer becomes is the console's (a confirmation, a choice from a list) or,
//! for a note, the pane's that opened it.

use super::*;

impl Console {
    /// Runs a command, saying what the rules refused.
    fn run(&mut self, command: Command) -> anyhow::Result<()> {
        if let Some(problem) = self.attempt(command, None)? {
            self.message = Some((problem, true));
        }
        Ok(())
    }

    pub(super) fn overlay_key(&mut self, key: KeyEvent) -> anyhow::Result<Flow> {
        let Some(overlay) = self.overlay.take() else { return Ok(Flow::Continue) };
        let back = self.settings.keymap.action(&key) == Some(Action::Back) || key.code == KeyCode::Esc;
        match overlay {
            Overlay::Help { scroll, last } => {
                let action = self.settings.keymap.action(&key);
                if back || action == Some(Action::Help) || key.code == KeyCode::Char('q') {
                    return Ok(Flow::Continue);
                }
                const PAGE: u16 = 8;
                let scroll = match action {
                    Some(Action::Down) => scroll.saturating_add(1),
                    Some(Action::Up) => scroll.saturating_sub(1),
                    Some(Action::PageDown) => scroll.saturating_add(PAGE),
                    Some(Action::PageUp) => scroll.saturating_sub(PAGE),
                    Some(Action::Top) => 0,
                    Some(Action::Bottom) => last,
                    _ => scroll,
                };
                self.overlay = Some(Overlay::Help { scroll: scroll.min(last), last });
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
                    if let Some(problem) = self.attempt(command, done)? {
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
                    if let Some((_, command)) = options.into_iter().nth(selected)
                        && let Some(problem) = self.change(Change::new(command))?
                    {
                        self.message = Some((problem, true));
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
                    let cx = Context { app: &self.app, actor: &self.actor };
                    let refused = match self.panes[self.active].submit(purpose.clone(), text, &cx)? {
                        Ok(effect) => self.follow(effect)?,
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
                    ReadFor::Notices => {
                        self.notices.clear();
                        self.message = Some(("notifications cleared".into(), false));
                    }
                    ReadFor::Consent => self.run(Command::ConsentToEsign { version: doc.version.clone() })?,
                    ReadFor::Acknowledge => {
                        self.run(Command::AcknowledgeDocument { code: doc.code, shown_sha256: doc.sha256 })?;
                    }
                    ReadFor::Sign => {
                        let title = format!("sign the {} · your full name", doc.title);
                        self.overlay = Some(Overlay::note(
                            title,
                            overlay::NoteFor::Signature { code: doc.code, sha256: doc.sha256, mark: Vec::new() },
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
                use crate::tui::payroll::{FORM_METHOD, FORM_TERMS};
                match key.code {
                    KeyCode::Esc => return Ok(Flow::Continue),
                    KeyCode::Enter => {
                        // What the rules refuse stays in the form to be corrected.
                        let refused = match crate::tui::payroll::form_command(&form) {
                            Ok(command) => self.attempt(command, None)?,
                            Err(problem) => Some(problem),
                        };
                        if let Some(problem) = refused {
                            form.error = Some(problem);
                            self.overlay = Some(Overlay::PayrollForm(form));
                        }
                        return Ok(Flow::Continue);
                    }
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
