//! How the console routes keys to panes, with a pane that only records what reaches it: a key
//! typed into a dialog or a filter never does, the dialog's answer goes back to the pane that
//! opened it, and a tab digit inside a dialog is text.

use super::*;
use crate::app::{FixedClock, identity};
use crate::tui::keymap::Keymap;
use crate::tui::overlay::NoteFor;
use crate::tui::pane::{Hint, Look};
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Default)]
struct Seen {
    actions: Vec<Action>,
    submitted: Vec<String>,
    filter_changes: usize,
    /// The filter text as the pane last saw it.
    filter: Option<String>,
}

/// Opens a note dialog on ⏎; refuses the first note written into it. A filter when it is
/// `filterable`.
struct Recorder {
    title: &'static str,
    seen: Rc<RefCell<Seen>>,
    filterable: bool,
    filter: Option<String>,
}

impl Pane for Recorder {
    fn title(&self) -> &'static str {
        self.title
    }

    fn load(&mut self, _cx: &Context) -> anyhow::Result<()> {
        Ok(())
    }

    fn act(&mut self, action: Action, _cx: &Context) -> anyhow::Result<Effect> {
        self.seen.borrow_mut().actions.push(action);
        Ok(match action {
            Action::Open => Effect::Open(Overlay::note("a note".into(), NoteFor::Ack(vec![1]))),
            _ => Effect::Nothing,
        })
    }

    fn submit(&mut self, _purpose: NoteFor, text: String, _cx: &Context) -> anyhow::Result<Result<Effect, String>> {
        let mut seen = self.seen.borrow_mut();
        seen.submitted.push(text.clone());
        Ok(if seen.submitted.len() == 1 { Err("not yet".into()) } else { Ok(Effect::say(format!("took {text}"))) })
    }

    fn draw(&mut self, _frame: &mut Frame, _area: Rect, _cx: &Context, _look: &Look) {}

    fn hints(&self) -> (Vec<Hint>, Vec<Hint>) {
        (Vec::new(), Vec::new())
    }

    fn filter(&mut self) -> Option<&mut Option<String>> {
        self.filterable.then_some(&mut self.filter)
    }

    fn filter_changed(&mut self, _cx: &Context) -> anyhow::Result<()> {
        let mut seen = self.seen.borrow_mut();
        seen.filter_changes += 1;
        seen.filter = self.filter.clone();
        Ok(())
    }
}

fn console(dir: &tempfile::TempDir) -> (Console, Rc<RefCell<Seen>>, Rc<RefCell<Seen>>) {
    let os = identity::OsAccount { login: "dana".into(), full_name: "Dana Whitfield".into() };
    let clock = Box::new(FixedClock::on("2026-03-02".parse().unwrap()));
    let path = dir.path().join("routing.db");
    let mut app = App::open(&path, crate::store::OpenMode::CreateIfMissing, clock, identity::this_origin(&os)).unwrap();
    let actor = app.sign_in(&os, None).unwrap().actor;
    let (first, second) = (Rc::new(RefCell::new(Seen::default())), Rc::new(RefCell::new(Seen::default())));
    let panes: Vec<Box<dyn Pane>> = vec![
        Box::new(Recorder { title: "First", seen: first.clone(), filterable: true, filter: None }),
        Box::new(Recorder { title: "Second", seen: second.clone(), filterable: false, filter: None }),
    ];
    let settings = Settings {
        keymap: Keymap::new(&Default::default()).unwrap(),
        theme: Theme::monochrome(),
        sync: None,
        mail: None,
    };
    (Console::with_panes(app, actor, settings, panes).unwrap(), first, second)
}

fn press(console: &mut Console, code: KeyCode) -> Flow {
    console.handle(Event::Key(KeyEvent::new(code, KeyModifiers::NONE))).unwrap()
}

fn typed(console: &Console) -> Option<String> {
    match &console.overlay {
        Some(Overlay::Note { editor, .. }) => Some(editor.lines().join("\n")),
        _ => None,
    }
}

#[test]
fn actions_reach_the_pane_in_view_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let (mut console, first, second) = console(&dir);
    press(&mut console, KeyCode::Char('j'));
    press(&mut console, KeyCode::Char('2'));
    press(&mut console, KeyCode::Char('k'));
    assert_eq!(first.borrow().actions, [Action::Down]);
    assert_eq!(second.borrow().actions, [Action::Up]);
}

#[test]
fn a_key_typed_into_a_dialog_never_reaches_the_pane() {
    let dir = tempfile::tempdir().unwrap();
    let (mut console, first, second) = console(&dir);
    press(&mut console, KeyCode::Enter);
    assert_eq!(first.borrow().actions, [Action::Open]);
    for c in "jq2/x".chars() {
        assert_eq!(press(&mut console, KeyCode::Char(c)), Flow::Continue, "{c} quit from inside the dialog");
    }
    assert_eq!(first.borrow().actions, [Action::Open], "no key reached the pane");
    assert!(second.borrow().actions.is_empty());
    assert_eq!(console.active, 0, "a digit in a dialog is text, not a tab");
    assert_eq!(typed(&console).as_deref(), Some("jq2/x"));

    // ⏎ hands the note to the pane that opened it; refused, the dialog stays with its text.
    press(&mut console, KeyCode::Enter);
    assert_eq!(first.borrow().submitted, ["jq2/x"]);
    assert_eq!(typed(&console).as_deref(), Some("jq2/x"));
    assert_eq!(console.message, Some(("not yet".into(), true)));
    press(&mut console, KeyCode::Enter);
    assert_eq!(typed(&console), None, "taken the second time, the dialog closes");
    assert_eq!(console.message, Some(("took jq2/x".into(), false)));
    assert_eq!(first.borrow().actions, [Action::Open]);
}

#[test]
fn a_filter_being_typed_takes_every_key_until_enter() {
    let dir = tempfile::tempdir().unwrap();
    let (mut console, first, _) = console(&dir);
    press(&mut console, KeyCode::Char('/'));
    for c in "q1j".chars() {
        assert_eq!(press(&mut console, KeyCode::Char(c)), Flow::Continue);
    }
    press(&mut console, KeyCode::Enter);
    assert!(first.borrow().actions.is_empty(), "{:?}", first.borrow().actions);
    assert_eq!(first.borrow().filter_changes, 4);
    assert_eq!(console.active, 0);
    assert_eq!(first.borrow().filter.as_deref(), Some("q1j"));
    // Once kept, keys are actions again.
    press(&mut console, KeyCode::Char('j'));
    assert_eq!(first.borrow().actions, [Action::Down]);
    assert_eq!(press(&mut console, KeyCode::Char('q')), Flow::Quit);
}

#[test]
fn text_typed_after_a_slash_on_a_tab_without_a_filter_is_not_taken_for_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (mut console, first, second) = console(&dir);
    press(&mut console, KeyCode::Char('2'));
    press(&mut console, KeyCode::Char('/'));
    for c in "jq1".chars() {
        assert_eq!(press(&mut console, KeyCode::Char(c)), Flow::Continue, "{c} was taken for a key");
    }
    assert!(second.borrow().actions.is_empty(), "{:?}", second.borrow().actions);
    assert_eq!(console.active, 1, "a digit after / is text, not a tab");
    assert!(first.borrow().filter.is_none() && second.borrow().filter_changes == 0);
    // Esc ends it; keys are actions again.
    press(&mut console, KeyCode::Esc);
    press(&mut console, KeyCode::Char('j'));
    assert_eq!(second.borrow().actions, [Action::Down]);
    assert_eq!(press(&mut console, KeyCode::Char('q')), Flow::Quit);
}
