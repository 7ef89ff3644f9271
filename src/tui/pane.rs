//! What every tab of the console is: a `Pane` handles the actions routed to it and answers with
//! an `Effect` (a change to run, a dialog to open, a word for the status line, another tab to
//! show); it draws itself, lists its keys for the hint bar, and reads its data again when told.
//! The console only routes events, runs changes through `app::execute` and draws the frame
//! around the pane, so a new tab is one new file and one line in `console::panes_for`.

use super::home::Leads;
use super::keymap::{Action, Scope};
use super::overlay::{FilterChange, NoteFor, Overlay, PaletteEntry};
use super::theme::Theme;
use crate::app::{Actor, App, Command, Triage};
use chrono::{DateTime, Utc};
use crossterm::event::MouseEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

/// What a pane reads and acts through: the application and whom it acts for.
pub struct Context<'a> {
    pub app: &'a App,
    pub actor: &'a Actor,
}

/// How the frame is being drawn.
pub struct Look<'a> {
    pub theme: &'a Theme,
    pub now: DateTime<Utc>,
    /// A filter is being typed into this pane's list.
    pub filtering: bool,
}

/// A key for the hint bar and what it does there.
pub type Hint = (Action, &'static str);

/// A change a pane wants made: always through `app::execute`, asked about first when
/// `question` says so or when it acts on many records or cannot be taken back.
pub struct Change {
    pub command: Command,
    pub question: Option<String>,
    /// What the status line says once it is made (else what the command reports).
    pub done: Option<String>,
    /// The command that takes it back, and how the change is named (`u`).
    pub undo: Option<(String, Command)>,
}

impl Change {
    pub fn new(command: Command) -> Change {
        Change { command, question: None, done: None, undo: None }
    }
}

/// What follows from an action.
pub enum Effect {
    Nothing,
    /// A word for the status line, and whether it reports a problem.
    Say(String, bool),
    Open(Overlay),
    Change(Change),
    /// Show the tab that leads there.
    Goto(Leads),
}

impl Effect {
    pub fn say(text: impl Into<String>) -> Effect {
        Effect::Say(text.into(), false)
    }

    pub fn warn(text: impl Into<String>) -> Effect {
        Effect::Say(text.into(), true)
    }
}

pub trait Pane {
    /// The tab's name.
    fn title(&self) -> &'static str;

    /// The tab's label in the tab bar, with what waits there.
    fn label(&self, _now: DateTime<Utc>) -> String {
        self.title().to_string()
    }

    /// Reads what the tab bar shows for this pane; after every change, shown or not.
    fn summary(&mut self, _cx: &Context) -> anyhow::Result<()> {
        Ok(())
    }

    /// Reads the pane's data again, keeping the selection where it can.
    fn load(&mut self, cx: &Context) -> anyhow::Result<()>;

    /// Handles an action pressed while this pane is shown and no dialog is open.
    fn act(&mut self, action: Action, cx: &Context) -> anyhow::Result<Effect>;

    /// What a note dialog this pane opened becomes once written; `Err` keeps the dialog open
    /// with the text and the problem.
    fn submit(&mut self, purpose: NoteFor, text: String, _cx: &Context) -> anyhow::Result<Result<Effect, String>> {
        Ok(note_command(purpose, text).map(|command| Effect::Change(Change::new(command))))
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, cx: &Context, look: &Look);

    /// The pane's keys for the hint bar: those shown first, and those a narrow screen may cut
    /// off after help and quit.
    fn hints(&self) -> (Vec<Hint>, Vec<Hint>);

    /// The help overlay's sections for this pane.
    fn help(&self) -> &'static [(Scope, &'static str)] {
        &[(Scope::Everywhere, "everywhere")]
    }

    /// For a pane without a help section of its own: its keys in its own words, which help
    /// lists first, under the pane's name. The shared "lists" section then shows only how to
    /// move; opening, sorting and filtering are the pane's to name where they do something.
    fn own_keys(&self) -> Vec<(Action, &'static str)> {
        Vec::new()
    }

    /// `S`: the next sort order, said on the status line.
    fn sort(&mut self, _cx: &Context) -> anyhow::Result<String> {
        Ok("this list keeps one order: as listed".into())
    }

    /// The text the pane's list is filtered by, when it has a filter.
    fn filter(&mut self) -> Option<&mut Option<String>> {
        None
    }

    /// What the filter matches, for the hint bar while it is typed.
    fn filter_matches(&self) -> &'static str {
        "student ID or name"
    }

    fn filter_changed(&mut self, _cx: &Context) -> anyhow::Result<()> {
        Ok(())
    }

    /// Shows what `lead` points at if this pane holds it.
    fn lead(&mut self, _lead: Leads) -> bool {
        false
    }

    /// Command-palette entries of this pane (filter values).
    fn palette(&self, _cx: &Context) -> anyhow::Result<Vec<PaletteEntry>> {
        Ok(Vec::new())
    }

    /// A palette filter choice; returns whether this pane took it.
    fn apply_filter(&mut self, _change: &FilterChange, _cx: &Context) -> anyhow::Result<bool> {
        Ok(false)
    }

    fn mouse(&mut self, _mouse: MouseEvent, _cx: &Context) -> anyhow::Result<()> {
        Ok(())
    }

    /// A change made from this pane succeeded (marks are spent).
    fn changed_here(&mut self) {}
}

/// What a written note becomes when the pane has nothing more to add.
pub fn note_command(purpose: NoteFor, text: String) -> Result<Command, String> {
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
        NoteFor::Message { student_id, alert } => {
            let (first, rest) = text.split_once('\n').unwrap_or((text.as_str(), ""));
            let subject = first.strip_prefix("Subject:").map(str::trim).filter(|s| !s.is_empty());
            let Some(subject) = subject else {
                return Err("the first line is the subject: \"Subject: …\"".into());
            };
            let body = rest.trim();
            if body.is_empty() {
                return Err("the message is empty: write it below the subject (Alt+⏎ starts a line)".into());
            }
            Ok(Command::SendMessage {
                student_id,
                template: None,
                subject: Some(subject.to_string()),
                body: Some(body.to_string()),
                alert,
            })
        }
        NoteFor::Template { organisation } => {
            let mut lines = text.lines();
            let mut field = |label: &str| {
                lines
                    .next()
                    .and_then(|l| l.strip_prefix(label))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
            };
            let (Some(name), Some(subject)) = (field("Name:"), field("Subject:")) else {
                return Err("the first lines are \"Name: …\" and \"Subject: …\"".into());
            };
            let body = lines.collect::<Vec<_>>().join("\n").trim().to_string();
            if body.is_empty() {
                return Err("the template has no text: write it below the subject (Alt+⏎ starts a line)".into());
            }
            Ok(Command::SaveTemplate { name, subject, body, organisation })
        }
        NoteFor::Hours(mut entry) => {
            let hours: f64 = text.parse().map_err(|_| format!("'{text}' is not a number of hours"))?;
            entry.hours = Some(hours);
            Ok(Command::LogAttendance { entries: vec![entry] })
        }
    }
}
