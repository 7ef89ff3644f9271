//! Test support: the demo console drawn into ratatui's `TestBackend`. The data is made and the
//! alert job run under one fixed clock, and the console opened under another two days later, so
//! every age on screen is the same on every machine. Included with `#[path]` by tests/console.rs
//! and tests/console_keys.rs; each uses part of it.
#![allow(dead_code)]

use chrono::NaiveDate;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use muster::app::{App, Command, FixedClock, Quiet, identity};
use muster::config::Config;
use muster::domain::demo::DemoSpec;
use muster::store::OpenMode;
use muster::tui::console::{Console, Settings};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub const TODAY: &str = "2026-03-02";

/// The person at the keyboard, the same on every machine (the header shows their login).
pub fn test_account() -> identity::OsAccount {
    identity::OsAccount { login: "dana".into(), full_name: "Dana Whitfield".into() }
}

pub fn demo_console(dir: &tempfile::TempDir) -> Console {
    on_alerts(console_as(dir, None))
}

pub fn console_as(dir: &tempfile::TempDir, login: Option<&str>) -> Console {
    console_themed(dir, login, "monochrome")
}

pub fn console_themed(dir: &tempfile::TempDir, login: Option<&str>, theme: &str) -> Console {
    console_with(dir, login, theme, |_, _| {})
}

/// The demo console, with `more` done to the data (as the admin, under the data's clock) first.
pub fn console_with(
    dir: &tempfile::TempDir,
    login: Option<&str>,
    theme: &str,
    more: impl FnOnce(&mut App, &muster::app::Actor),
) -> Console {
    console_charting(dir, login, theme, more, "braille")
}

/// As `console_with`, with line charts drawn as `charts` says (`[theme] charts`) whatever the
/// locale of the machine the tests run on.
pub fn console_charting(
    dir: &tempfile::TempDir,
    login: Option<&str>,
    theme: &str,
    more: impl FnOnce(&mut App, &muster::app::Actor),
    charts: &str,
) -> Console {
    let db = dir.path().join("console.db");
    let os = test_account();
    let today: NaiveDate = TODAY.parse().unwrap();
    {
        let clock = Box::new(FixedClock::on(today));
        let mut app = App::open(&db, OpenMode::CreateIfMissing, clock, identity::this_origin(&os)).unwrap();
        let actor = app.sign_in(&os, None).unwrap().actor;
        app.execute(
            &actor,
            Command::Demo(DemoSpec { students: 120, days: 40, seed: 11, today, profile: Default::default() }),
        )
        .unwrap();
        app.run_alerts(&actor, today.pred_opt().unwrap(), &Quiet).unwrap();
        more(&mut app, &actor);
    }
    let later = Box::new(FixedClock::on(today.succ_opt().unwrap().succ_opt().unwrap()));
    let mut app = App::open(&db, OpenMode::Existing, later, identity::this_origin(&os)).unwrap();
    let actor = app.sign_in(&os, login).unwrap().actor;
    let mut config = Config::default();
    config.theme.name = Some(theme.into());
    config.theme.colours.insert("charts".into(), charts.into());
    let settings = Settings::from_config(&config).unwrap();
    let mut console = Console::new(app, actor, settings).unwrap();
    console.after_first_frame().unwrap();
    console
}

/// The console on the Alerts tab (it opens on Home), as most of these tests look at it.
pub fn on_alerts(mut console: Console) -> Console {
    press(&mut console, KeyCode::Char('1'));
    console
}

pub fn screen(console: &mut Console, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| console.draw(frame)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect::<String>().trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn press(console: &mut Console, code: KeyCode) {
    console.handle(Event::Key(KeyEvent::new(code, KeyModifiers::NONE))).unwrap();
}
