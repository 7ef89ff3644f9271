//! Drawing a frame: the tab bar (with who you are), the tab in view, the hint bar from the
//! pane's own hints, and the open dialog on top.

use super::*;

impl Console {
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
            Some(Overlay::Signed(record)) => overlay::draw_signed(frame, &theme, record),
            Some(Overlay::Picker { title, options, selected }) => {
                self.picker_area = overlay::draw_picker(frame, &theme, title, options, *selected);
            }
            Some(Overlay::Note { title, editor, purpose: NoteFor::Signature { mark, .. } }) => {
                self.signing_pad = overlay::draw_signing(frame, &theme, title, editor, mark);
            }
            Some(Overlay::Note { title, editor, .. }) => overlay::draw_note(frame, &theme, title, editor),
            Some(Overlay::RolePicker { packages, selected, scroll }) => {
                crate::tui::onboarding::draw_role_picker(frame, &theme, packages, *selected, *scroll);
            }
            Some(Overlay::Document { doc, scroll, purpose }) => {
                let hint = match purpose {
                    ReadFor::Read => "j/k scroll · Esc back",
                    ReadFor::Consent => "j/k scroll · ⏎ I consent · Esc back",
                    ReadFor::Sign => "j/k scroll · ⏎ sign with your full name · Esc back",
                    ReadFor::Acknowledge => "j/k scroll · ⏎ acknowledge · Esc back",
                };
                crate::tui::onboarding::draw_document(frame, &theme, doc, *scroll, hint);
            }
            Some(Overlay::PayrollForm(form)) => form.draw(frame, &theme),
        }
    }

    pub(super) fn draw_tabs(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
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
                        format!(
                            " {} Attendance ⧗{} ",
                            self.tab_number(i),
                            crate::tui::inbox::age(oldest, self.app.now())
                        )
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

    pub(super) fn draw_alerts(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
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
    pub(super) fn pane_hints(&self) -> (Vec<Hint>, Vec<Hint>) {
        use crate::tui::attendance::View;
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
            Tab::Alerts if self.undo.is_some() => {
                vec![(Action::Undo, "undo"), (Action::Mark, "mark"), (Action::Filter, "filter"), (Action::Down, "move")]
            }
            Tab::Alerts => vec![(Action::Mark, "mark"), (Action::Filter, "filter"), (Action::Down, "move")],
            Tab::Attendance if self.undo.is_some() => {
                vec![
                    (Action::Undo, "undo"),
                    (Action::Open, "record"),
                    (Action::Filter, "filter"),
                    (Action::Sort, "sort"),
                ]
            }
            Tab::Attendance => vec![(Action::Open, "record"), (Action::Filter, "filter"), (Action::Sort, "sort")],
            Tab::Students => vec![(Action::Filter, "filter")],
            _ => Vec::new(),
        };
        (first, last)
    }

    pub(super) fn draw_hints(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
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
