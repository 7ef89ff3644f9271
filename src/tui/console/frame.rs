//! Drawing a frame: the tab bar (with who you are), the tab in view, the hint bar from the
//! pane's own hints, and the open dialog on top.

use super::*;

impl Console {
    pub fn draw(&mut self, frame: &mut Frame) {
        let theme = self.settings.theme.clone();
        let message_rows = self.message.as_ref().map(|(message, _)| message_lines(message, frame.area().width));
        let hint_rows = message_rows.as_ref().map_or(1, |lines| lines.len() as u16);
        let [tabs, body, hints] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(hint_rows)])
                .areas(frame.area());
        self.draw_tabs(frame, tabs, &theme);
        let cx = Context { app: &self.app, actor: &self.actor };
        let look = Look { theme: &theme, now: self.app.now(), filtering: self.filtering };
        self.panes[self.active].draw(frame, body, &cx, &look);
        self.draw_hints(frame, hints, &theme);
        match &self.overlay {
            None => {}
            Some(Overlay::Help { scroll, .. }) => {
                let pane = &self.panes[self.active];
                let own = overlay::Help { title: pane.title(), keys: &pane.own_keys(), sections: pane.help() };
                let (scroll, last) = overlay::draw_help(frame, &self.settings.keymap, &theme, &own, *scroll);
                self.overlay = Some(Overlay::Help { scroll, last });
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
            Some(Overlay::Note { title, editor, purpose: overlay::NoteFor::Signature { mark, .. } }) => {
                self.signing_pad = overlay::draw_signing(frame, &theme, title, editor, mark);
            }
            Some(Overlay::Note { title, editor, .. }) => overlay::draw_note(frame, &theme, title, editor),
            Some(Overlay::RolePicker { packages, selected, scroll }) => {
                crate::tui::onboarding::draw_role_picker(frame, &theme, packages, *selected, *scroll);
            }
            Some(Overlay::Document { doc, scroll, purpose }) => {
                let hint = match purpose {
                    ReadFor::Read => "j/k scroll · Esc back",
                    ReadFor::Notices => "j/k scroll · ⏎ clear them · Esc keep them",
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
        let now = self.app.now();
        let mut titles: Vec<String> =
            (0..self.panes.len()).map(|i| format!(" {} {} ", self.tab_number(i), self.panes[i].label(now))).collect();
        const BRAND: &str = " muster ";
        let (full, short, bare) = self.who_you_are();
        // Acting as someone else is always said, so its room is kept from the tabs'; your own
        // name only comes before the brand.
        let acting = self.actor.acting_as.is_some();
        // The space that follows the last tab comes before it.
        let short_width = short.chars().count() + 1;
        let room = usize::from(area.width).saturating_sub(if acting { short_width } else { 0 });
        let room_with_brand = room.saturating_sub(if acting { 0 } else { short_width });
        let width = |titles: &[String], shown: &[usize], brand: bool| -> usize {
            // Each tab is followed by a space but the last, which the edge may cut.
            let tabs = shown.iter().map(|i| titles[*i].chars().count() + 1).sum::<usize>().saturating_sub(1);
            tabs + if brand { BRAND.len() } else { 0 }
        };
        let mut shown: Vec<usize> = (0..titles.len()).collect();
        // Too narrow for every title: the tabs not in view are cut to three letters; then, as
        // the room runs out, the brand goes, then the tabs farthest from the one in view (which
        // always shows).
        if width(&titles, &shown, true) > room {
            for (i, title) in titles.iter_mut().enumerate().filter(|(i, _)| *i != self.active) {
                let short: String = self.panes[i].title().chars().take(3).collect();
                *title = format!(" {} {short} ", self.tab_number(i));
            }
        }
        // Narrower still, those tabs lose the spaces around them (one still parts each from the
        // next): nine tabs fit 80 columns beside the Alerts tab's counts.
        let tight = width(&titles, &shown, false) > room;
        if tight {
            for (_, title) in titles.iter_mut().enumerate().filter(|(i, _)| *i != self.active) {
                *title = title.trim().to_string();
            }
        }
        let brand = !tight && width(&titles, &shown, true) <= room_with_brand;
        while width(&titles, &shown, brand) > room && shown.len() > 1 {
            let (first, last) = (shown[0], shown[shown.len() - 1]);
            if self.active - first >= last - self.active {
                shown.remove(0);
            } else {
                shown.pop();
            }
        }
        let mut spans = Vec::new();
        let mut x = area.x;
        if brand {
            spans.push(Span::styled(BRAND, theme.accent));
            x += BRAND.len() as u16;
        }
        self.tab_spans.clear();
        for i in shown {
            let title = std::mem::take(&mut titles[i]);
            let width = title.chars().count() as u16;
            // The space after a tab belongs to it, so no click between tabs is lost.
            self.tab_spans.push((x, x + width + 1, i));
            x += width + 1;
            let style = if i == self.active { theme.active_tab } else { ratatui::style::Style::new() };
            spans.push(Span::styled(title, style));
            spans.push(Span::raw(" "));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        let room = usize::from(area.right().saturating_sub(x));
        if let Some(who) = [full, short, bare].into_iter().find(|who| who.chars().count() <= room && who.trim() != "") {
            let right =
                Rect { x: area.right() - who.chars().count() as u16, width: who.chars().count() as u16, ..area };
            frame.render_widget(Paragraph::new(Span::styled(who, theme.dim)), right);
        }
    }

    /// Who you are, and whom you act as, for the right of the tab bar: in full, logins only, and
    /// none (the unread count before each stays).
    fn who_you_are(&self) -> (String, String, String) {
        let user = self.actor.user();
        let full = match &self.actor.acting_as {
            Some(_) => format!(" {} as {} ({}) ", self.actor.person.login, user.login, user.role),
            None => format!(" {} ({}) ", user.login, user.role),
        };
        let short = match &self.actor.acting_as {
            Some(_) => format!(" {} as {} ", self.actor.person.login, user.login),
            None => format!(" {} ", user.login),
        };
        // Unread notifications stand before the name, and stay when the name does not fit.
        let unread = if self.unread > 0 { format!(" ⚑{}", self.unread) } else { String::new() };
        (format!("{unread}{full}"), format!("{unread}{short}"), format!("{unread} "))
    }

    pub(super) fn draw_hints(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        if let Some((message, error)) = &self.message {
            let style = if *error { theme.error } else { theme.ok };
            let lines: Vec<Line> =
                message_lines(message, area.width).into_iter().map(|line| Line::styled(line, style)).collect();
            frame.render_widget(Paragraph::new(lines), area);
            return;
        }
        let keymap = &self.settings.keymap;
        let hint = |(action, text): &(Action, &str)| {
            vec![Span::styled(format!(" {} ", keymap.short(*action)), theme.marked), Span::raw(format!("{text} "))]
        };
        let pane = self.panes[self.active].as_mut();
        let spans: Vec<Span> = if self.filtering && pane.filter().is_none() {
            // Esc before the explanation: a 40-column screen still shows the way out.
            vec![
                Span::styled(" / ", theme.marked),
                Span::styled(format!("no filter on {} · ", pane.title()), theme.error),
                Span::styled("Esc", theme.marked),
                Span::raw(" back · what you type goes nowhere"),
            ]
        } else if self.filtering {
            let matches = pane.filter_matches();
            let typed = pane.filter().and_then(|text| text.clone());
            vec![
                Span::styled(" / ", theme.marked),
                Span::raw(format!("{}▏ ", crate::domain::text::shown(&typed.unwrap_or_default()))),
                Span::raw(format!("{matches} · ")),
                Span::styled("⏎", theme.marked),
                Span::raw(" keep · "),
                Span::styled("Esc", theme.marked),
                Span::raw(" clear"),
            ]
        } else if self.overlay.is_some() {
            hint(&(Action::Back, "close"))
        } else {
            let (first, mut last) = pane.hints();
            if self.undo.is_some() {
                last.insert(0, (Action::Undo, "undo"));
            }
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

/// Most rows a message takes at the foot of the screen.
const MESSAGE_ROWS: usize = 3;

/// A message as the rows it takes at `width`: one if it fits, otherwise wrapped between words
/// onto up to three, so a 40-column screen reads what happened whole (a word longer than the
/// screen is cut, and a message longer than three rows ends in `…`).
fn message_lines(message: &str, width: u16) -> Vec<String> {
    let width = usize::from(width).max(2);
    let mut lines = Vec::new();
    // A line break the message has (an error's list of problems) starts a row of its own.
    for paragraph in message.lines() {
        lines.push(String::new());
        for word in paragraph.trim().split(' ') {
            let line = lines.last_mut().expect("a row begun");
            if !line.is_empty() && Span::raw(format!("{line} {word}")).width() + 1 > width {
                lines.push(String::new());
            }
            let line = lines.last_mut().expect("a row begun");
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    let cut = lines.len() > MESSAGE_ROWS;
    lines.truncate(MESSAGE_ROWS);
    for (i, line) in lines.iter_mut().enumerate() {
        let last = i + 1 == MESSAGE_ROWS && cut;
        let room = width - 1 - usize::from(last);
        if Span::raw(line.as_str()).width() > room {
            *line = line
                .chars()
                .scan(0, |used, c| {
                    *used += Span::raw(c.to_string()).width();
                    (*used <= room).then_some(c)
                })
                .collect();
        }
        line.insert(0, ' ');
        if last {
            line.push('…');
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::message_lines;

    #[test]
    fn a_message_wraps_between_words_onto_three_rows_at_most() {
        assert_eq!(message_lines("saved", 40), vec![" saved"]);
        let said = "nothing to acknowledge: alert 131 is already acknowledged, by ws_03";
        assert_eq!(message_lines(said, 80), vec![format!(" {said}")]);
        assert_eq!(
            message_lines(said, 40),
            vec![" nothing to acknowledge: alert 131 is", " already acknowledged, by ws_03"]
        );
        let long = "word ".repeat(40);
        let lines = message_lines(long.trim(), 20);
        assert_eq!(lines.len(), 3);
        assert!(lines[2].ends_with('…') && lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        let endless = "x".repeat(100);
        assert!(message_lines(&endless, 20).iter().all(|l| l.chars().count() <= 20));
        assert_eq!(message_lines("2 problems:\n  line 3: bad date", 80), vec![" 2 problems:", " line 3: bad date"]);
        assert_eq!(message_lines("", 80), vec![" "]);
    }
}
