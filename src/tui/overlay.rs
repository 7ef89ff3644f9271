//! What opens over a pane: the help overlay, the command palette, a confirmation, a list to
//! pick from (snooze length, assignee) and the note editor. Each draws itself centred; the
//! console decides what their answers do.

use super::keymap::{ACTIONS, Action, Keymap, Scope};
use super::theme::Theme;
use crate::app::Command;
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};
use ratatui_textarea::TextArea;

/// What a note becomes once written.
#[derive(Debug, Clone, PartialEq)]
pub enum NoteFor {
    Ack(Vec<i64>),
    Resolve(Vec<i64>),
    /// A rejection's reason (required).
    Reject(Vec<i64>),
    /// The hours of a present day.
    Hours(crate::app::AttendanceEntry),
    /// A typed signature of the document with this code and text hash, and the mark drawn
    /// beside it with the mouse (optional: the typed name decides).
    Signature {
        code: String,
        sha256: String,
        mark: crate::domain::onboarding::Mark,
    },
    /// Why a payroll profile is rejected (required).
    RejectPayroll(i64),
    /// A template: "Name: …", "Subject: …", a blank line, the body; the organisation's or one's own.
    Template {
        organisation: bool,
    },
    /// A message to a student: "Subject: …", a blank line, the body.
    Message {
        student_id: String,
        alert: Option<i64>,
    },
}

/// What reading a document leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFor {
    /// Only to read; Enter closes it.
    Read,
    Consent,
    Sign,
    Acknowledge,
    /// The notifications list; Enter clears it.
    Notices,
}

/// One line of the command palette.
#[derive(Debug, Clone)]
pub struct PaletteEntry {
    pub name: String,
    pub description: String,
    pub key: String,
    pub run: PaletteRun,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PaletteRun {
    Action(super::keymap::Action),
    Tab(usize),
    Filter(FilterChange),
}

#[derive(Debug, Clone, PartialEq)]
pub enum FilterChange {
    Severity(Option<crate::domain::alerts::Severity>),
    Status(Option<crate::domain::alerts::AlertStatus>, bool),
    Kind(Option<crate::domain::alerts::AlertType>),
    Program(Option<String>),
    Assignee(Option<String>),
}

/// A role as the picker shows it: its package, its responsibilities (code, text) and how it is
/// paid.
pub type RoleChoice = (crate::store::partners::Package, Vec<(String, String)>, String);

pub enum Overlay {
    /// The keys, scrolled by `scroll` rows where they do not fit; `last` is the furthest scroll
    /// the last frame drawn had room for.
    Help {
        scroll: u16,
        last: u16,
    },
    Palette {
        input: String,
        selected: usize,
        entries: Vec<PaletteEntry>,
    },
    /// A question before a command; `done` is the status line once it ran.
    Confirm {
        message: String,
        command: Command,
        done: Option<String>,
    },
    /// One attendance record in full: who logged it, who decided, why.
    Record(Box<crate::store::activity::AttendanceView>),
    /// A signature as recorded: the typed name, when and where, and the mark drawn with it.
    Signed(Box<crate::store::partners::SignatureRecord>),
    Picker {
        title: String,
        options: Vec<(String, Command)>,
        selected: usize,
    },
    Note {
        title: String,
        editor: Box<TextArea<'static>>,
        purpose: NoteFor,
    },
    RolePicker {
        packages: Vec<RoleChoice>,
        selected: usize,
        scroll: u16,
    },
    Document {
        doc: crate::store::partners::Document,
        scroll: u16,
        purpose: ReadFor,
    },
    PayrollForm(Box<super::payroll::PayrollFormState>),
}

impl Overlay {
    pub fn note(title: String, purpose: NoteFor) -> Overlay {
        let mut editor = TextArea::default();
        editor.set_placeholder_text(match &purpose {
            NoteFor::Ack(_) => "optional: what you will do",
            NoteFor::Resolve(_) => "what happened (kept on the timeline)",
            NoteFor::Reject(_) => "required: what the worksite should fix",
            NoteFor::Hours(_) => "hours, in quarter hours: 6, 7.5, 8.25",
            NoteFor::Signature { .. } => "your full name, exactly as registered",
            NoteFor::RejectPayroll(_) => "required: what the partner should change",
            NoteFor::Message { .. } => "Subject: …, a blank line, then the message",
            NoteFor::Template { .. } => "Name: …, Subject: …, a blank line, then the text",
        });
        if let NoteFor::Hours(entry) = &purpose {
            editor.insert_str(entry.hours.map(|h| h.to_string()).unwrap_or_default());
        }
        editor.set_block(Block::bordered().border_type(BorderType::Rounded));
        Overlay::Note { title, editor: Box::new(editor), purpose }
    }

    /// A note dialog holding `text` to edit.
    pub fn note_with(title: String, purpose: NoteFor, text: &str) -> Overlay {
        let mut overlay = Overlay::note(title, purpose);
        if let Overlay::Note { editor, .. } = &mut overlay {
            for (i, line) in text.lines().enumerate() {
                if i > 0 {
                    editor.insert_newline();
                }
                editor.insert_str(line);
            }
        }
        overlay
    }
}

/// The palette entries matching what was typed, best first: names that start with it, then
/// names or descriptions that contain it.
pub fn matching<'a>(entries: &'a [PaletteEntry], input: &str) -> Vec<&'a PaletteEntry> {
    let needle = input.trim().to_lowercase();
    let mut starts: Vec<&PaletteEntry> = Vec::new();
    let mut contains: Vec<&PaletteEntry> = Vec::new();
    for entry in entries {
        let name = entry.name.to_lowercase();
        if name.starts_with(&needle) {
            starts.push(entry);
        } else if name.contains(&needle) || entry.description.to_lowercase().contains(&needle) {
            contains.push(entry);
        }
    }
    starts.extend(contains);
    starts
}

fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))]).flex(Flex::Center).areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))]).flex(Flex::Center).areas(row);
    cell
}

fn popup(frame: &mut Frame, area: Rect, title: &str, theme: &Theme) -> Rect {
    frame.render_widget(Clear, area);
    let block =
        Block::bordered().border_type(BorderType::Rounded).title(Span::styled(format!(" {title} "), theme.accent));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// What help lists for a pane: its own keys (see `Pane::own_keys`), then shared sections.
pub struct Help<'a> {
    pub title: &'a str,
    pub keys: &'a [(Action, &'static str)],
    pub sections: &'a [(Scope, &'a str)],
}

impl Help<'_> {
    /// Whether a shared section lists `action`: not when the pane names it, nor (for a pane that
    /// names its keys) a list's opening, sorting or filtering, which it names where they work.
    fn shares(&self, action: Action) -> bool {
        let named_by_pane = |a: Action| self.keys.iter().any(|(own, _)| *own == a);
        let left_to_pane = !self.keys.is_empty() && matches!(action, Action::Open | Action::Sort | Action::Filter);
        !named_by_pane(action) && !left_to_pane
    }
}

/// Every key of the current pane, from the keymap in force; two columns when rows are short,
/// scrolled by `scroll` rows when they still do not fit. Returns the scroll as drawn and the
/// furthest it could go.
pub fn draw_help(frame: &mut Frame, keymap: &Keymap, theme: &Theme, help: &Help, scroll: u16) -> (u16, u16) {
    let area = frame.area();
    let mut lines: Vec<Line> = Vec::new();
    let key = |action: Action, description: &'static str| {
        Line::from(vec![Span::styled(format!("{:>9}  ", keymap.label(action)), theme.marked), Span::raw(description)])
    };
    if !help.keys.is_empty() {
        lines.push(Line::styled(help.title.to_lowercase(), theme.accent));
        lines.extend(help.keys.iter().map(|(action, description)| key(*action, description)));
    }
    for (scope, heading) in help.sections {
        lines.push(Line::styled(heading.to_string(), theme.accent));
        for info in ACTIONS.iter().filter(|i| i.scope == *scope && help.shares(i.action)) {
            lines.push(key(info.action, info.description));
        }
    }
    lines.push(Line::styled("mouse: click tab or row; wheel scrolls", theme.dim));
    let room = area.height.saturating_sub(4) as usize;
    let columns = if lines.len() > room && area.width >= 70 { 2 } else { 1 };
    let per_column = lines.len().div_ceil(columns);
    let width = if columns == 2 { area.width.saturating_sub(2).min(110) } else { 60 };
    let outer = centred(area, width, per_column as u16 + 3);
    let shown = outer.height.saturating_sub(2);
    let last = (per_column as u16).saturating_sub(shown);
    let scroll = scroll.min(last);
    let title = match last {
        0 => "keys · Esc closes".to_string(),
        _ => format!("keys {}–{} of {} · j/k · Esc closes", scroll + 1, scroll + shown, per_column),
    };
    let inner = popup(frame, outer, &title, theme);
    let halves = Layout::horizontal(vec![Constraint::Fill(1); columns]).split(inner);
    for (i, column) in halves.iter().enumerate() {
        let part: Vec<Line> = lines.iter().skip(i * per_column).take(per_column).cloned().collect();
        frame.render_widget(Paragraph::new(part).scroll((scroll, 0)), *column);
    }
    (scroll, last)
}

pub fn draw_palette(frame: &mut Frame, theme: &Theme, input: &str, selected: usize, entries: &[PaletteEntry]) {
    let area = frame.area();
    let found = matching(entries, input);
    let shown = found.len().min(area.height.saturating_sub(6) as usize).min(12);
    let width = area.width.saturating_sub(4).min(90);
    let outer = Rect { y: area.y + 1, ..centred(area, width, shown as u16 + 4) };
    let inner = popup(frame, outer, "run · Tab completes · ⏎ runs · Esc closes", theme);
    let mut lines =
        vec![Line::from(vec![Span::styled(": ", theme.accent), Span::raw(input.to_string()), Span::raw("▏")])];
    if found.is_empty() {
        lines.push(Line::styled("nothing matches", theme.dim));
    }
    let start = selected.saturating_sub(shown.saturating_sub(1));
    for (i, entry) in found.iter().enumerate().skip(start).take(shown) {
        let style = if i == selected { theme.selected } else { ratatui::style::Style::new() };
        lines.push(
            Line::from(vec![
                Span::raw(format!("{:<24} ", entry.name)),
                Span::styled(entry.description.clone(), theme.dim),
                Span::styled(
                    if entry.key.is_empty() { String::new() } else { format!("  [{}]", entry.key) },
                    theme.marked,
                ),
            ])
            .style(style),
        );
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

pub fn draw_confirm(frame: &mut Frame, theme: &Theme, message: &str) {
    let width = (message.chars().count() as u16 + 6).clamp(30, 70).min(frame.area().width);
    // Room for the question wrapped at the box's width, a blank line and the keys.
    let text_lines = (message.chars().count() as u16).div_ceil(width.saturating_sub(4).max(1)) + 1;
    let outer = centred(frame.area(), width, text_lines + 4);
    let inner = popup(frame, outer, "confirm", theme);
    let text = vec![
        Line::raw(message.to_string()),
        Line::raw(""),
        Line::from(vec![
            Span::styled("y", theme.marked),
            Span::raw(" yes   "),
            Span::styled("n", theme.marked),
            Span::raw("/Esc no"),
        ]),
    ];
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), inner);
}

pub fn draw_picker(
    frame: &mut Frame,
    theme: &Theme,
    title: &str,
    options: &[(String, Command)],
    selected: usize,
) -> Rect {
    let width = options.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(10).max(title.len()) as u16 + 8;
    let outer = centred(frame.area(), width.min(70), options.len() as u16 + 2);
    let inner = popup(frame, outer, title, theme);
    let lines: Vec<Line> = options
        .iter()
        .enumerate()
        .map(|(i, (label, _))| {
            let style = if i == selected { theme.selected } else { ratatui::style::Style::new() };
            Line::styled(format!(" {label}"), style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
    inner
}

pub fn draw_note(frame: &mut Frame, theme: &Theme, title: &str, editor: &TextArea<'static>) {
    // A message is several lines long: the dialog grows to show it whole where the screen allows.
    let lines = editor.lines();
    let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u16;
    let width = longest.saturating_add(6).clamp(70, 100).min(frame.area().width.saturating_sub(6));
    // On a screen too short for eight rows, the screen wins (clamp would panic).
    let height = (lines.len() as u16).saturating_add(5).max(8).min(frame.area().height.saturating_sub(2));
    let outer = centred(frame.area(), width, height);
    let inner = popup(frame, outer, title, theme);
    let [edit, hint] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(editor, edit);
    frame.render_widget(Paragraph::new("⏎ confirm · Alt-⏎ new line · Esc cancel").style(theme.dim), hint);
}

/// The signing dialog: the typed name, and a pad to draw one's mark on with the mouse. Returns
/// where the pad is, for the mouse.
pub fn draw_signing(
    frame: &mut Frame,
    theme: &Theme,
    title: &str,
    editor: &TextArea<'static>,
    mark: &crate::domain::onboarding::Mark,
) -> Rect {
    let outer = centred(frame.area(), frame.area().width.saturating_sub(6).min(70), 16);
    let inner = popup(frame, outer, title, theme);
    let [edit, label, pad, hint] =
        Layout::vertical([Constraint::Length(3), Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1)])
            .areas(inner);
    frame.render_widget(editor, edit);
    frame.render_widget(
        Paragraph::new("your mark (optional): draw it here with the mouse; the typed name decides").style(theme.dim),
        label,
    );
    let pad_block = Block::bordered().border_style(theme.dim);
    let drawing = pad_block.inner(pad);
    frame.render_widget(pad_block, pad);
    draw_mark(frame, drawing, mark, theme);
    frame.render_widget(Paragraph::new("⏎ sign · Esc cancel").style(theme.dim), hint);
    drawing
}

/// A drawn mark, its strokes joined point to point, in `area` (one cell a point).
pub fn draw_mark(frame: &mut Frame, area: Rect, mark: &crate::domain::onboarding::Mark, theme: &Theme) {
    use ratatui::widgets::canvas::{Canvas, Line as Segment};
    let (width, height) = (f64::from(area.width.max(1)), f64::from(area.height.max(1)));
    // Monochrome themes have no foreground colour: the terminal's own is used.
    let color = theme.accent.fg.unwrap_or(ratatui::style::Color::Reset);
    let canvas = Canvas::default()
        .marker(ratatui::symbols::Marker::Braille)
        .x_bounds([0.0, width])
        .y_bounds([0.0, height])
        .paint(|ctx| {
            for stroke in mark {
                let point = |(x, y): (u16, u16)| (f64::from(x) + 0.5, height - f64::from(y) - 0.5);
                let mut points = stroke.iter().copied().map(point);
                let Some(mut from) = points.next() else { continue };
                ctx.draw(&Segment { x1: from.0, y1: from.1, x2: from.0, y2: from.1, color });
                for to in points {
                    ctx.draw(&Segment { x1: from.0, y1: from.1, x2: to.0, y2: to.1, color });
                    from = to;
                }
            }
        });
    frame.render_widget(canvas, area);
}

/// A signature's detail, with the drawn mark shown back.
pub fn draw_signed(frame: &mut Frame, theme: &Theme, record: &crate::store::partners::SignatureRecord) {
    let outer = centred(frame.area(), frame.area().width.saturating_sub(6).min(70), 16);
    let inner = popup(frame, outer, "your signature", theme);
    let lines = vec![
        Line::styled(format!("{} ({})", record.document_code, record.document_version), theme.accent),
        Line::raw(format!("signed as “{}” at {}", record.typed_name, record.signed_at)),
        Line::raw(format!("from {} ({}), account {}", record.host, record.client, record.os_account)),
    ];
    let [text, pad, hint] =
        Layout::vertical([Constraint::Length(3), Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), text);
    match &record.mark {
        Some(mark) => {
            let block = Block::bordered().border_style(theme.dim).title(" the mark you drew ");
            let drawing = block.inner(pad);
            frame.render_widget(block, pad);
            draw_mark(frame, drawing, mark, theme);
        }
        None => frame
            .render_widget(Paragraph::new("no mark was drawn: the typed name is the signature").style(theme.dim), pad),
    }
    frame.render_widget(Paragraph::new("Esc or ⏎ closes").style(theme.dim), hint);
}

/// One attendance record: whose day, what was logged, who logged and who decided it, and why.
pub fn draw_record(frame: &mut Frame, theme: &Theme, record: &crate::store::activity::AttendanceView) {
    let hours = record.hours.map(|h| format!(", {h} h")).unwrap_or_default();
    let logged_by = match &record.logged_by_person {
        Some(person) if person != &record.logged_by => format!("{person} as {}", record.logged_by),
        _ => record.logged_by.clone(),
    };
    let decided = match (&record.verified_by, &record.verified_at) {
        (Some(by), Some(at)) => format!("{} by {by} at {at}", record.verification),
        _ => format!("{} (nobody has decided yet)", record.verification),
    };
    let mut lines = vec![
        Line::styled(format!("{} ({})", record.student_name, record.student_id), theme.accent),
        Line::raw(format!("{} · {}", record.program_id, record.date.format("%a %Y-%m-%d"))),
        Line::raw(format!("{}{hours}", record.status)),
        Line::raw(format!("logged by {logged_by} at {}", record.logged_at)),
        Line::raw(decided),
    ];
    if let Some(reason) = &record.reason {
        lines.push(Line::raw(format!("reason: {reason}")));
    }
    if let Some(note) = &record.note {
        lines.push(Line::raw(format!("note: {note}")));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Esc or ⏎ closes", theme.dim));
    let width = 70.min(frame.area().width);
    let wrapped: u16 = lines.iter().map(|l| (l.width() as u16).div_ceil(width.saturating_sub(4).max(1)).max(1)).sum();
    let outer = centred(frame.area(), width, wrapped + 2);
    let inner = popup(frame, outer, "attendance record", theme);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, description: &str) -> PaletteEntry {
        PaletteEntry { name: name.into(), description: description.into(), key: String::new(), run: PaletteRun::Tab(0) }
    }

    #[test]
    fn palette_prefers_names_that_start_with_the_input() {
        let entries = vec![
            entry("resolve", "resolve with a note"),
            entry("severity critical", "only critical"),
            entry("ack", "take it on"),
        ];
        let names: Vec<&str> = matching(&entries, "s").iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, vec!["severity critical", "resolve"]);
        assert_eq!(matching(&entries, "NOTE").len(), 1);
        assert_eq!(matching(&entries, "").len(), 3);
    }
}
