//! Snapshot tests of the console, drawn into ratatui's `TestBackend` from a fixed demo seed
//! (`tests/support/demo_console.rs`: one clock for the data, another two days later for the
//! console, so every age on screen is the same on every machine).

use chrono::NaiveDate;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use muster::app::{App, Command, FixedClock, Quiet, identity};
use muster::config::Config;
use muster::store::OpenMode;
use muster::tui::console::{Console, Settings};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[path = "support/demo_console.rs"]
mod demo_console;
use demo_console::*;

#[test]
fn inbox() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = demo_console(&dir);
    insta::assert_snapshot!("inbox_80x24", screen(&mut console, 80, 24));
    insta::assert_snapshot!("inbox_120x40", screen(&mut console, 120, 40));
    insta::assert_snapshot!("inbox_40x12", screen(&mut console, 40, 12));
}

#[test]
fn detail_pane() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = demo_console(&dir);
    press(&mut console, KeyCode::Char('j'));
    press(&mut console, KeyCode::Enter);
    insta::assert_snapshot!("detail_80x24", screen(&mut console, 80, 24));
    insta::assert_snapshot!("detail_120x40", screen(&mut console, 120, 40));
    insta::assert_snapshot!("detail_40x12", screen(&mut console, 40, 12));
}

#[test]
fn help_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = demo_console(&dir);
    press(&mut console, KeyCode::Char('?'));
    insta::assert_snapshot!("help_80x24", screen(&mut console, 80, 24));
    insta::assert_snapshot!("help_120x40", screen(&mut console, 120, 40));
}

#[test]
fn confirmation_dialog_for_a_bulk_action() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = demo_console(&dir);
    for _ in 0..3 {
        press(&mut console, KeyCode::Char(' '));
    }
    press(&mut console, KeyCode::Char('a'));
    press(&mut console, KeyCode::Enter);
    insta::assert_snapshot!("confirm_80x24", screen(&mut console, 80, 24));
    insta::assert_snapshot!("confirm_120x40", screen(&mut console, 120, 40));
    press(&mut console, KeyCode::Char('y'));
    let after = screen(&mut console, 120, 40);
    assert!(after.contains("acknowledged alert"), "{after}");
    assert_eq!(after.matches("ack'd").count(), 3, "{after}");
    // On a narrow screen too: what has been taken up must not look like what has not.
    let narrow = screen(&mut console, 40, 12);
    assert_eq!(narrow.matches("ack'd").count(), 3, "{narrow}");
    assert!(narrow.contains("open"), "{narrow}");
    // Pressed on one of them, `a` says why nothing happens, and 40 columns show all of it.
    press(&mut console, KeyCode::Char('g'));
    press(&mut console, KeyCode::Char('a'));
    let narrow = screen(&mut console, 40, 12);
    let foot: Vec<&str> = narrow.lines().rev().take(2).collect();
    assert!(foot[1].starts_with(" nothing to acknowledge: alert"), "{narrow}");
    assert!(foot[0].trim_start().starts_with("already acknowledged, by "), "{narrow}");
}

#[test]
fn a_change_made_by_another_process_appears_on_the_next_poll() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = demo_console(&dir);
    let before = screen(&mut console, 120, 40);
    assert!(!before.contains("ack'd"));
    // A colleague on the same file: another connection, another actor.
    let os = test_account();
    let mut colleague = App::open(
        &dir.path().join("console.db"),
        OpenMode::Existing,
        Box::new(FixedClock::on(TODAY.parse().unwrap())),
        identity::this_origin(&os),
    )
    .unwrap();
    let actor = colleague.sign_in(&os, None).unwrap().actor;
    let first =
        colleague.alerts(&actor, &Default::default(), None, muster::store::alerts::Direction::After, 1).unwrap()[0].id;
    colleague
        .execute(&actor, Command::Triage { ids: vec![first], action: muster::app::Triage::Ack, note: None })
        .unwrap();
    assert!(!screen(&mut console, 120, 40).contains("ack'd"), "nothing changes until the poll");
    console.poll_changes().unwrap();
    assert!(screen(&mut console, 120, 40).contains("ack'd"));
}

#[test]
fn ctrl_c_quits_even_while_filtering() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = demo_console(&dir);
    press(&mut console, KeyCode::Char('/'));
    press(&mut console, KeyCode::Char('q'));
    assert!(screen(&mut console, 80, 24).contains("/q"), "q is typed into the filter, not a quit");
    let flow = console.handle(Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))).unwrap();
    assert_eq!(flow, muster::tui::console::Flow::Quit);
}

#[test]
fn weekly_grid_for_a_worksite() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = console_as(&dir, Some("ws_01"));
    press(&mut console, KeyCode::Char('2'));
    insta::assert_snapshot!("roster_80x24", screen(&mut console, 80, 24));
    insta::assert_snapshot!("roster_40x12", screen(&mut console, 40, 12));
    press(&mut console, KeyCode::Char('w'));
    insta::assert_snapshot!("week_grid_120x40", screen(&mut console, 120, 40));
    insta::assert_snapshot!("week_grid_40x12", screen(&mut console, 40, 12));
    let before = screen(&mut console, 80, 24);
    insta::assert_snapshot!("week_grid_80x24", before);
    press(&mut console, KeyCode::Char('p'));
    let after = screen(&mut console, 80, 24);
    assert_ne!(before, after, "{after}");
}

#[test]
fn a_day_after_today_is_refused_before_anything_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = console_as(&dir, Some("ws_01"));
    press(&mut console, KeyCode::Char('2'));
    press(&mut console, KeyCode::Char('w'));
    // Today is a Wednesday: four steps right is Sunday, a day off the schedule and not yet come.
    for _ in 0..4 {
        press(&mut console, KeyCode::Right);
    }
    let grid = screen(&mut console, 80, 24);
    for key in ['x', 'p', 'h'] {
        press(&mut console, KeyCode::Char(key));
        let shown = screen(&mut console, 80, 24);
        assert!(shown.contains("Sun Mar 8 is in the future: nothing logged"), "{key}:\n{shown}");
        assert!(!shown.contains("make-up") && !shown.contains("hours for"), "{key}:\n{shown}");
        // Any other key clears the message; the grid is as it was.
        press(&mut console, KeyCode::Left);
        press(&mut console, KeyCode::Right);
        assert_eq!(screen(&mut console, 80, 24), grid);
    }
}

#[test]
fn verification_queue_for_a_coordinator() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = console_as(&dir, Some("sc_01"));
    press(&mut console, KeyCode::Char('2'));
    let queue = screen(&mut console, 80, 24);
    insta::assert_snapshot!("queue_80x24", queue);
    insta::assert_snapshot!("queue_120x40", screen(&mut console, 120, 40));
    insta::assert_snapshot!("queue_40x12", screen(&mut console, 40, 12));
    assert!(queue.contains("2 Attendance ⧗"), "the oldest wait is in the tab title");
    // S cycles the order; the header marks the column and the status line says it.
    press(&mut console, KeyCode::Char('S'));
    let by_student = screen(&mut console, 80, 24);
    assert!(by_student.contains("student▲") && by_student.contains("sorted by student, then day"), "{by_student}");
    for _ in 0..3 {
        press(&mut console, KeyCode::Char('S'));
    }
    assert!(screen(&mut console, 80, 24).contains("worksite▲"), "back to the first order");
    // Rejecting needs a reason: an empty one is refused and the editor stays open.
    press(&mut console, KeyCode::Char('n'));
    press(&mut console, KeyCode::Enter);
    let refused = screen(&mut console, 80, 24);
    assert!(refused.contains("needs a reason"), "{refused}");
    for c in "hours missing".chars() {
        press(&mut console, KeyCode::Char(c));
    }
    press(&mut console, KeyCode::Enter);
    assert!(screen(&mut console, 80, 24).contains("rejected record"));
}

#[test]
fn students_tab_and_a_students_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = console_as(&dir, Some("ws_01"));
    press(&mut console, KeyCode::Char('5'));
    let list = screen(&mut console, 80, 24);
    insta::assert_snapshot!("students_80x24", list);
    insta::assert_snapshot!("students_120x40", screen(&mut console, 120, 40));
    insta::assert_snapshot!("students_40x12", screen(&mut console, 40, 12));
    press(&mut console, KeyCode::Enter);
    let history = screen(&mut console, 80, 24);
    insta::assert_snapshot!("student_history_80x24", history);
    assert!(history.contains("week of") && history.contains("alerts") && history.contains("logins"), "{history}");
    press(&mut console, KeyCode::Esc);
    assert_eq!(screen(&mut console, 80, 24), list, "Esc goes back to the list");
}

fn type_text(console: &mut Console, text: &str) {
    for c in text.chars() {
        press(console, KeyCode::Char(c));
    }
}

#[test]
fn onboarding_a_new_worksite() {
    let dir = tempfile::tempdir().unwrap();
    // ws_04 is the demo's worksite that has not started onboarding.
    let mut console = console_as(&dir, Some("ws_04"));
    let checklist = screen(&mut console, 80, 24);
    assert!(checklist.contains("1 Onboarding") && !checklist.contains("Alerts"), "only onboarding until it is done");
    insta::assert_snapshot!("checklist_80x24", checklist);
    press(&mut console, KeyCode::Enter);
    insta::assert_snapshot!("role_picker_80x24", screen(&mut console, 80, 24));
    insta::assert_snapshot!("role_picker_120x40", screen(&mut console, 120, 40));
    press(&mut console, KeyCode::Enter);
    assert!(screen(&mut console, 80, 24).contains("you chose the worksite role"));
    for _ in 0..7 {
        press(&mut console, KeyCode::Char('j'));
    }
    press(&mut console, KeyCode::Enter);
    insta::assert_snapshot!("document_80x24", screen(&mut console, 80, 24));
    press(&mut console, KeyCode::Esc);
    for _ in 0..4 {
        press(&mut console, KeyCode::Char('j'));
    }
    press(&mut console, KeyCode::Enter);
    for _ in 0..4 {
        press(&mut console, KeyCode::Backspace);
    }
    type_text(&mut console, "99");
    press(&mut console, KeyCode::Enter);
    let form = screen(&mut console, 80, 24);
    assert!(form.contains("cannot read the W-9 file"), "{form}");
    let w9 = dir.path().join("w9.pdf");
    std::fs::write(&w9, b"%PDF-1.4 w9").unwrap();
    for _ in 0..3 {
        press(&mut console, KeyCode::Down);
    }
    type_text(&mut console, &w9.display().to_string());
    press(&mut console, KeyCode::Enter);
    let refused = screen(&mut console, 80, 24);
    assert!(refused.contains("outside this role's range: 8 to 12 %"), "{refused}");
    insta::assert_snapshot!("payroll_form_error_80x24", refused.replace(&w9.display().to_string(), "/tmp/w9.pdf"));
}

#[test]
fn the_admins_payroll_queue() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = demo_console(&dir);
    press(&mut console, KeyCode::Char('3'));
    let queue = screen(&mut console, 80, 24);
    insta::assert_snapshot!("payroll_queue_80x24", queue);
    insta::assert_snapshot!("payroll_queue_40x12", screen(&mut console, 40, 12));
    assert!(queue.contains("ACH ••6789"), "masked: {queue}");
    press(&mut console, KeyCode::Char('y'));
    assert!(screen(&mut console, 80, 24).contains("Approve"));
    press(&mut console, KeyCode::Char('y'));
    assert!(screen(&mut console, 80, 24).contains("approved"));
}

#[test]
fn the_audit_tab_lists_entries_and_checks_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = demo_console(&dir);
    press(&mut console, KeyCode::Char('6'));
    let log = screen(&mut console, 100, 30);
    assert!(log.contains("audit log") && log.contains("alerts.run") && log.contains("demo.fill"), "{log}");
    press(&mut console, KeyCode::Char('y'));
    assert!(screen(&mut console, 100, 30).contains("chain whole"));
    press(&mut console, KeyCode::Enter);
    let entry = screen(&mut console, 100, 30);
    assert!(entry.contains("CHANGE") || entry.contains("Change"), "{entry}");
    press(&mut console, KeyCode::Esc);
    rusqlite::Connection::open(dir.path().join("console.db"))
        .unwrap()
        .execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", [])
        .unwrap();
    press(&mut console, KeyCode::Char('y'));
    assert!(screen(&mut console, 100, 30).contains("audit entry 2 was altered"));
}

#[test]
fn home_summarises_the_day_for_each_role() {
    let dir = tempfile::tempdir().unwrap();
    let mut admin = console_as(&dir, None);
    let home = screen(&mut admin, 80, 24);
    insta::assert_snapshot!("home_admin_80x24", home);
    assert!(home.contains("0 Home") && home.contains("Payroll: 1 profile waits"), "{home}");
    // ⏎ on a line opens its tab.
    press(&mut admin, KeyCode::Char('j'));
    press(&mut admin, KeyCode::Enter);
    assert!(screen(&mut admin, 80, 24).contains("waiting for verification"));
    let other = tempfile::tempdir().unwrap();
    let mut worksite = console_as(&other, Some("ws_01"));
    insta::assert_snapshot!("home_worksite_80x24", screen(&mut worksite, 80, 24));
    insta::assert_snapshot!("home_worksite_40x12", screen(&mut worksite, 40, 12));
}

#[test]
fn a_key_typed_into_a_dialog_or_a_filter_never_reaches_the_pane() {
    use muster::tui::console::Flow;
    let dir = tempfile::tempdir().unwrap();
    let mut console = console_as(&dir, Some("ws_01"));
    press(&mut console, KeyCode::Char('2'));
    press(&mut console, KeyCode::Char('w'));
    let grid = screen(&mut console, 100, 30);
    press(&mut console, KeyCode::Char('h'));
    assert!(screen(&mut console, 100, 30).contains("hours for"));
    // Keys that would log, switch tabs, filter or quit in the pane are text in the dialog.
    for c in ['x', 'p', 'e', '3', '/', 'q', 'u', 'F'] {
        let flow = console.handle(Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))).unwrap();
        assert_eq!(flow, Flow::Continue, "{c} quit from inside the dialog");
    }
    let typed = screen(&mut console, 100, 30);
    assert!(typed.contains("hours for") && typed.contains("xpe3/quF"), "{typed}");
    press(&mut console, KeyCode::Esc);
    let after = screen(&mut console, 100, 30);
    let body = |s: &str| s.lines().take(29).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&after), body(&grid), "nothing in the grid changed");
    // The same for a filter: q is a letter of it.
    press(&mut console, KeyCode::Char('/'));
    let flow = console.handle(Event::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE))).unwrap();
    assert_eq!(flow, Flow::Continue);
    assert!(screen(&mut console, 100, 30).contains("/ q"));
}

/// Esc then `1` typed quickly (or over a slow link) reach the console as Alt+1: the dialog
/// closes and the Alerts tab shows; nothing is typed into the reason, and ⏎ after submits nothing.
#[test]
fn esc_and_a_key_run_together_close_the_dialog_before_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = demo_console(&dir);
    press(&mut console, KeyCode::Char('3'));
    let queue = screen(&mut console, 80, 24);
    press(&mut console, KeyCode::Char('n'));
    assert!(screen(&mut console, 80, 24).contains("reason"));
    console.handle(Event::Key(KeyEvent::new(KeyCode::Char('1'), KeyModifiers::ALT))).unwrap();
    let alerts = screen(&mut console, 80, 24);
    assert!(!alerts.contains("reason") && alerts.contains("1 Alerts"), "{alerts}");
    press(&mut console, KeyCode::Char('3'));
    assert_eq!(screen(&mut console, 80, 24), queue, "no profile was rejected");
}

/// Presses and drags on screen cells with the left button, as a stroke.
fn stroke(console: &mut Console, points: &[(u16, u16)]) {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let at =
        |kind, (column, row): (u16, u16)| Event::Mouse(MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE });
    console.handle(at(MouseEventKind::Down(MouseButton::Left), points[0])).unwrap();
    for point in &points[1..] {
        console.handle(at(MouseEventKind::Drag(MouseButton::Left), *point)).unwrap();
    }
    console.handle(at(MouseEventKind::Up(MouseButton::Left), *points.last().unwrap())).unwrap();
}

#[test]
fn a_partner_draws_a_mark_beside_the_typed_name_and_sees_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = console_as(&dir, Some("ws_04"));
    let name = screen(&mut console, 100, 30)
        .lines()
        .find_map(|l| l.split("onboarding: ").nth(1).map(|r| r.split(" (").next().unwrap().to_string()))
        .expect("the checklist names the partner");
    press(&mut console, KeyCode::Enter);
    press(&mut console, KeyCode::Enter);
    for _ in 0..5 {
        press(&mut console, KeyCode::Char('j'));
        press(&mut console, KeyCode::Enter);
        press(&mut console, KeyCode::Char('y'));
    }
    press(&mut console, KeyCode::Char('j'));
    press(&mut console, KeyCode::Enter);
    press(&mut console, KeyCode::Enter);
    assert!(screen(&mut console, 100, 30).contains("consent to sign electronically recorded"));
    // The memorandum: read, then sign — with a drawn mark this time.
    press(&mut console, KeyCode::Char('j'));
    press(&mut console, KeyCode::Enter);
    press(&mut console, KeyCode::Enter);
    let dialog = screen(&mut console, 100, 30);
    let label = dialog.lines().position(|l| l.contains("your mark (optional)")).expect("the pad is offered");
    let pad_top = label as u16 + 2;
    let pad_left = dialog.lines().nth(label + 1).unwrap().find('┌').expect("the pad's border") as u16 + 1;
    stroke(&mut console, &[(pad_left + 2, pad_top + 1), (pad_left + 8, pad_top + 3), (pad_left + 14, pad_top + 1)]);
    stroke(&mut console, &[(pad_left + 20, pad_top + 2), (pad_left + 26, pad_top + 2)]);
    // A press outside the pad draws nothing.
    stroke(&mut console, &[(0, 0)]);
    assert_ne!(screen(&mut console, 100, 30), dialog, "the strokes show on the pad");
    type_text(&mut console, &name);
    press(&mut console, KeyCode::Enter);
    let signed = screen(&mut console, 100, 30);
    assert!(signed.contains("with the mark you drew (2 strokes)"), "{signed}");
    // ⏎ on the signed item shows the signature back, mark and all.
    press(&mut console, KeyCode::Enter);
    let detail = screen(&mut console, 100, 30);
    assert!(detail.contains("the mark you drew") && detail.contains(&format!("signed as “{name}”")), "{detail}");
}

/// The screen with its styles: each run of cells in one style is written `[style]text`, the
/// style as ratatui names its colours and modifiers (`[]` is the terminal's own).
fn styled_screen(console: &mut Console, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| console.draw(frame)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = Vec::new();
    for y in 0..height {
        let mut line = String::new();
        let mut current: Option<String> = None;
        for x in 0..width {
            let cell = &buffer[(x, y)];
            let mut parts = Vec::new();
            if cell.fg != ratatui::style::Color::Reset {
                parts.push(format!("{:?}", cell.fg));
            }
            if cell.bg != ratatui::style::Color::Reset {
                parts.push(format!("bg {:?}", cell.bg));
            }
            if !cell.modifier.is_empty() {
                parts.push(format!("{:?}", cell.modifier));
            }
            let style = parts.join(" ");
            if current.as_deref() != Some(style.as_str()) {
                line.push_str(&format!("[{style}]"));
                current = Some(style);
            }
            line.push_str(cell.symbol());
        }
        out.push(line.trim_end().trim_end_matches("[]").trim_end().to_string());
    }
    out.join("\n")
}

#[test]
fn colour_and_its_absence() {
    let dir = tempfile::tempdir().unwrap();
    let mut colour = on_alerts(console_themed(&dir, None, "colour"));
    let coloured = styled_screen(&mut colour, 80, 24);
    insta::assert_snapshot!("inbox_colour_80x24", coloured);
    assert!(coloured.contains("Red"), "critical alerts are red");
    let other = tempfile::tempdir().unwrap();
    let mut plain = on_alerts(console_as(&other, None));
    let monochrome = styled_screen(&mut plain, 80, 24);
    insta::assert_snapshot!("inbox_monochrome_80x24", monochrome);
    for colour in ["Red", "Yellow", "Cyan", "Blue", "Green", "DarkGray", "Magenta"] {
        assert!(!monochrome.contains(colour), "no colour without colour: {colour}");
    }
    // Severity still reads without colour: by its symbol and, for critical, bold.
    assert!(monochrome.contains("!!!") && monochrome.contains("BOLD"));
    let mut grid = console_themed(&tempfile::tempdir().unwrap(), Some("ws_01"), "colour");
    press(&mut grid, KeyCode::Char('2'));
    press(&mut grid, KeyCode::Char('w'));
    insta::assert_snapshot!("week_grid_colour_80x24", styled_screen(&mut grid, 80, 24));
}

/// A console over a new database holding only `csv` imports (kind, text), as its admin.
fn console_over(dir: &tempfile::TempDir, imports: &[(muster::app::ImportKind, &str)]) -> Console {
    let db = dir.path().join("small.db");
    let os = test_account();
    let today: NaiveDate = TODAY.parse().unwrap();
    let mut app =
        App::open(&db, OpenMode::CreateIfMissing, Box::new(FixedClock::on(today)), identity::this_origin(&os)).unwrap();
    let actor = app.sign_in(&os, None).unwrap().actor;
    for (kind, text) in imports {
        let batch = muster::interchange::import::read(*kind, text.as_bytes(), text.len() as u64, &Quiet).unwrap();
        app.execute(&actor, Command::Import { source: "test".into(), batch }).unwrap();
    }
    let mut config = Config::default();
    config.theme.name = Some("monochrome".into());
    let mut console = Console::new(app, actor, Settings::from_config(&config).unwrap()).unwrap();
    console.after_first_frame().unwrap();
    console
}

#[test]
fn empty_states_say_why_and_namesakes_are_told_apart() {
    use muster::app::ImportKind;
    let dir = tempfile::tempdir().unwrap();
    let mut console = console_over(
        &dir,
        &[
            (ImportKind::Programs, "program_id,name,schedule,start_date\nP1,Welding,Mon-Fri,2026-01-05\n"),
            (ImportKind::Students, "student_id,first_name,last_name\nS1,Ann,Lee\nS2,Ann,Lee\nS3,Bo,Li\n"),
            (
                ImportKind::Enrollments,
                "enrollment_id,student_id,program_id,start_date,status\nE1,S1,P1,2026-01-05,active\n\
                 E2,S2,P1,2026-01-05,active\nE3,S3,P1,2026-01-05,active\n",
            ),
        ],
    );
    let home = screen(&mut console, 100, 30);
    assert!(home.contains("the daily alert job has never run"), "{home}");
    press(&mut console, KeyCode::Char('1'));
    let inbox = screen(&mut console, 100, 30);
    assert!(inbox.contains("the daily alert job has never run on this database"), "{inbox}");
    press(&mut console, KeyCode::Char('2'));
    press(&mut console, KeyCode::Char('w'));
    let grid = screen(&mut console, 100, 30);
    assert!(grid.contains("Ann Lee (S1)") && grid.contains("Ann Lee (S2)") && grid.contains("Bo Li "), "{grid}");
    assert!(!grid.contains("Bo Li (S3)"), "a name said once needs no ID\n{grid}");
}

#[test]
fn the_tab_bars_counts_follow_a_change_made_here() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = demo_console(&dir);
    let counts = |console: &mut Console| screen(console, 120, 40).lines().next().unwrap().to_string();
    let before = counts(&mut console);
    assert!(before.contains("!!!"), "{before}");
    // Resolve the most severe alert: one fewer critical (the counts are cached between changes).
    press(&mut console, KeyCode::Char('r'));
    press(&mut console, KeyCode::Enter);
    press(&mut console, KeyCode::Char('y'));
    let after = counts(&mut console);
    let critical = |bar: &str| -> u64 {
        let at = bar.find("!!!").unwrap();
        bar[..at].rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(critical(&after), critical(&before) - 1, "{before}\n{after}");
}

/// Hex runs as long as a hash (the audit chain's, keyed per database) read the same on every run.
fn without_hashes(screen: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in screen.chars().chain(std::iter::once('\n')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() >= 12 { "#hash" } else { &run });
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// Every tab an admin and a worksite see, at 80×24, 120×40 and 40×12, and in colour and
/// without it (where no colour may appear and severity still reads by symbol and weight).
#[test]
fn every_tab_at_each_size_with_and_without_colour() {
    for login in [None, Some("ws_01")] {
        let who = login.unwrap_or("admin");
        let mut plain = console_as(&tempfile::tempdir().unwrap(), login);
        let mut colour = console_themed(&tempfile::tempdir().unwrap(), login, "colour");
        for tab in 0..=8 {
            let digit = KeyCode::Char(char::from(b'0' + tab));
            press(&mut plain, digit);
            press(&mut colour, digit);
            let sizes: Vec<String> = [(80, 24), (120, 40), (40, 12)]
                .into_iter()
                .map(|(w, h)| format!("── {w}×{h}\n{}", screen(&mut plain, w, h)))
                .collect();
            let bar = screen(&mut plain, 200, 2);
            // A worksite has no Audit tab: its tabs end at 7.
            if !bar.contains(&format!(" {tab} ")) {
                continue;
            }
            // Acting as someone else is said on every tab at every size.
            if let Some(login) = login {
                for (w, h) in [(80, 24), (40, 12)] {
                    let screen = screen(&mut plain, w, h);
                    let bar = screen.lines().next().unwrap_or_default();
                    assert!(bar.contains(&format!(" as {login}")), "tab {tab} at {w}×{h}: {bar}");
                }
            }
            let shown = without_hashes(&sizes.join("\n"));
            insta::assert_snapshot!(format!("tab_{tab}_{who}"), shown);
            let monochrome = styled_screen(&mut plain, 80, 24);
            for name in ["Red", "Yellow", "Cyan", "Blue", "Green", "DarkGray", "Magenta"] {
                assert!(!monochrome.contains(name), "tab {tab} ({who}) shows {name} without colour");
            }
            insta::assert_snapshot!(
                format!("tab_{tab}_{who}_colour"),
                without_hashes(&styled_screen(&mut colour, 80, 24))
            );
        }
    }
}

/// The audit log and the partners' list narrow with `/` and count `N of M`; ⏎ on a partner or a
/// payroll profile shows the whole record.
#[test]
fn every_list_narrows_counts_and_opens_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = console_as(&dir, None);
    press(&mut console, KeyCode::Char('6'));
    press(&mut console, KeyCode::Char('/'));
    type_text(&mut console, "DEMO");
    press(&mut console, KeyCode::Enter);
    let audit = screen(&mut console, 100, 30);
    assert!(audit.contains("demo.fill") && !audit.contains("user.bootstrap"), "{audit}");
    assert!(audit.contains("/DEMO 1 of 1"), "{audit}");

    press(&mut console, KeyCode::Char('4'));
    press(&mut console, KeyCode::Char('/'));
    type_text(&mut console, "ph_");
    press(&mut console, KeyCode::Enter);
    let partners = screen(&mut console, 100, 30);
    assert!(partners.contains("ph_01") && !partners.contains("ws_01"), "{partners}");
    assert!(partners.contains("1 of 3"), "{partners}");
    press(&mut console, KeyCode::Enter);
    let checklist = screen(&mut console, 100, 30);
    assert!(checklist.contains("ph_01's onboarding"), "{checklist}");

    press(&mut console, KeyCode::Esc);
    press(&mut console, KeyCode::Char('3'));
    press(&mut console, KeyCode::Enter);
    let profile = screen(&mut console, 100, 30);
    assert!(profile.contains("'s payroll profile") && profile.contains("W-9"), "{profile}");
}

/// A replica's Sync tab: the tab bar says what waits and what was rejected; ⏎ shows a change in
/// full; R asks, then makes a rejected change again, to wait for the next sync.
#[test]
fn the_sync_tab_shows_what_waits_and_redoes_what_the_hub_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, replica) = (dir.path().join("hub.db"), dir.path().join("replica.db"));
    let muster = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(args)
            .env("XDG_DATA_HOME", dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let hub_text = hub.to_str().unwrap();
    muster(&["--db", hub_text, "demo", "--students", "30", "--days", "20", "--seed", "5", "--today", TODAY]);
    let serve = format!("'{}' --db '{hub_text}' sync-serve", env!("CARGO_BIN_EXE_muster"));
    muster(&["--db", replica.to_str().unwrap(), "sync", "clone", "--hub-command", &serve]);
    let log = |date: &str| {
        let args = ["--student", "S000001", "--program", "PRG-001", "--date", date, "--status", "absent"];
        muster(&[&["--db", replica.to_str().unwrap(), "attendance", "log"][..], &args].concat());
    };
    log("2026-02-26");
    log("2026-02-27");
    let sql = rusqlite::Connection::open(&replica).unwrap();
    sql.execute("UPDATE outbox SET state = 'rejected', reason = 'changed since you saw it' WHERE seq = 1", []).unwrap();

    let os = identity::os_account().unwrap();
    let mut app = App::open(
        &replica,
        OpenMode::Existing,
        Box::new(FixedClock::on(TODAY.parse().unwrap())),
        identity::this_origin(&os),
    )
    .unwrap();
    let actor = app.sign_in(&os, None).unwrap().actor;
    let mut settings = Settings::from_config(&Config::default()).unwrap();
    let handle = muster::sync::background::Handle::default();
    settings.sync = Some(handle.clone());
    let mut console = Console::new(app, actor, settings).unwrap();
    console.after_first_frame().unwrap();
    press(&mut console, KeyCode::Char('9'));
    let shown = screen(&mut console, 100, 24);
    assert!(shown.contains("9 Sync 1⧗ 1✗"), "{shown}");
    assert!(
        shown.contains("rejected  log attendance S000001 2026-02-26 absent")
            && shown.contains("changed since you saw it"),
        "{shown}"
    );
    press(&mut console, KeyCode::Enter);
    assert!(screen(&mut console, 100, 24).contains("the hub said: changed since you saw it"));
    press(&mut console, KeyCode::Esc);
    press(&mut console, KeyCode::Char('R'));
    let asked = screen(&mut console, 100, 24);
    assert!(asked.contains("Make “log attendance S000001 2026-02-26 absent” again?"), "{asked}");
    press(&mut console, KeyCode::Char('y'));
    let waiting: i64 = sql.query_row("SELECT count(*) FROM outbox WHERE state = 'waiting'", [], |r| r.get(0)).unwrap();
    assert_eq!(waiting, 2, "the change is made again and waits with the other");
    assert!(screen(&mut console, 100, 24).contains("9 Sync 2⧗ 1✗"));
    // The background sync fails: the console says so at its next poll, no key pressed.
    console.poll_changes().unwrap();
    console.dirty = false;
    console.poll_changes().unwrap();
    assert!(!console.dirty, "nothing changed, nothing to draw");
    handle.state.lock().unwrap().last_error = Some("ssh: connect to host hub: No route to host".into());
    console.dirty = false;
    console.poll_changes().unwrap();
    assert!(console.dirty, "a failed sync is drawn without a key");
    let offline = screen(&mut console, 100, 24);
    assert!(offline.contains("9 Sync offline 2⧗ 1✗") && offline.contains("No route to host"), "{offline}");
}

/// A campaign to four students whose messages met four fates: sent, refused by the server,
/// waiting to be tried again, not tried yet.
fn campaign_of_four(app: &mut App, actor: &muster::app::Actor) {
    use muster::app::messages::Delivery;
    use muster::domain::message::Audience;
    app.execute(
        actor,
        Command::SaveTemplate {
            name: "missed".into(),
            subject: "We missed you, {first_name}".into(),
            body: "Hi {first_name},\n{streak} missed days at {program}. Call {partner_name}.".into(),
            organisation: true,
        },
    )
    .unwrap();
    let ids = ["S000001", "S000002", "S000003", "S000004"].map(String::from).to_vec();
    let audience = Audience::Students { student_ids: ids };
    app.execute(actor, Command::CreateCampaign { template: "missed".into(), audience, send_at: None }).unwrap();
    let campaign = app.campaigns(actor, 1).unwrap()[0].id;
    let recipients = app.campaign(actor, campaign).unwrap().1;
    let fates = [
        Delivery::Sent,
        Delivery::Permanent { reason: "550 5.1.1 mailbox unavailable".into() },
        Delivery::Transient { reason: "451 4.3.0 try again later".into(), retry_after_secs: 60 },
    ];
    for (recipient, delivery) in recipients.iter().zip(fates) {
        app.execute(actor, Command::ClaimRecipient { id: recipient.id }).unwrap();
        app.execute(actor, Command::RecordDelivery { id: recipient.id, delivery }).unwrap();
    }
}

#[test]
fn messages_tab_a_campaign_and_where_each_recipient_stands() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = console_with(&dir, None, "monochrome", campaign_of_four);
    press(&mut console, KeyCode::Char('7'));
    insta::assert_snapshot!("messages_80x24", screen(&mut console, 80, 24));
    press(&mut console, KeyCode::Enter);
    let shown = screen(&mut console, 120, 40);
    for state in ["sent", "failed", "queued", "mailbox unavailable", "will try again"] {
        assert!(shown.contains(state), "{state}: {shown}");
    }
    insta::assert_snapshot!("messages_recipients_120x40", shown);
    insta::assert_snapshot!("messages_recipients_40x12", screen(&mut console, 40, 12));
    // The digest switch, with its own undo.
    assert!(screen(&mut console, 120, 40).contains("your digest: on"));
    press(&mut console, KeyCode::Char('D'));
    let off = screen(&mut console, 120, 40);
    assert!(off.contains("daily digest is off"), "{off}");
    press(&mut console, KeyCode::Char('u'));
    assert!(screen(&mut console, 120, 40).contains("your digest: on"));
}

#[test]
fn template_editor() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = console_with(&dir, None, "monochrome", campaign_of_four);
    press(&mut console, KeyCode::Char('7'));
    press(&mut console, KeyCode::Char('T'));
    insta::assert_snapshot!("templates_80x24", screen(&mut console, 80, 24));
    press(&mut console, KeyCode::Char('j'));
    press(&mut console, KeyCode::Enter);
    insta::assert_snapshot!("template_editor_80x24", screen(&mut console, 80, 24));
    // An unknown placeholder typed in is refused, naming it, and the editor stays open.
    for c in " {frist_name}".chars() {
        press(&mut console, KeyCode::Char(c));
    }
    press(&mut console, KeyCode::Enter);
    let refused = screen(&mut console, 120, 40);
    assert!(refused.contains("{frist_name}") && refused.contains("template missed"), "{refused}");
}

#[test]
fn a_notification_arrives_from_another_process_and_is_listed_and_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = console_as(&dir, Some("ws_01"));
    assert!(!screen(&mut console, 80, 24).contains('⚑'), "nothing new yet");
    // Another process (its own connection) runs the next two days of the alert job.
    let os = test_account();
    let later: NaiveDate = "2026-03-04".parse().unwrap();
    let mut other = App::open(
        &dir.path().join("console.db"),
        OpenMode::Existing,
        Box::new(FixedClock::on(later)),
        identity::this_origin(&os),
    )
    .unwrap();
    let admin = other.sign_in(&os, None).unwrap().actor;
    other.run_alerts(&admin, "2026-03-03".parse().unwrap(), &Quiet).unwrap();
    console.poll_changes().unwrap();
    let arrived = screen(&mut console, 80, 24);
    assert!(arrived.contains("⚑"), "{arrived}");
    insta::assert_snapshot!("notification_80x24", arrived);
    press(&mut console, KeyCode::Char('N'));
    let listed = screen(&mut console, 100, 30);
    assert!(listed.contains("about") && listed.contains("clear them"), "{listed}");
    insta::assert_snapshot!("notifications_100x30", listed);
    press(&mut console, KeyCode::Enter);
    let cleared = screen(&mut console, 80, 24);
    assert!(cleared.contains("notifications cleared") && !cleared.contains('⚑'), "{cleared}");
    press(&mut console, KeyCode::Char('N'));
    assert!(screen(&mut console, 100, 30).contains("None yet"));
}

#[test]
fn the_reports_tab_charts_attendance_week_by_week() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = console_as(&dir, None);
    press(&mut console, KeyCode::Char('8'));
    let shown = screen(&mut console, 120, 40);
    assert!(shown.contains("attendance by week") && shown.contains("this month against the last"), "{shown}");
    assert!(shown.contains('%') && shown.contains("W0"), "bars with their rates and weeks: {shown}");
    insta::assert_snapshot!("reports_120x40", shown);
    insta::assert_snapshot!("reports_80x24", screen(&mut console, 80, 24));
    press(&mut console, KeyCode::Char('j'));
    assert!(screen(&mut console, 120, 40).contains("2 of"), "j shows the next program");
    press(&mut console, KeyCode::Char('t'));
    let lines = screen(&mut console, 80, 24);
    assert!(lines.contains("attendance % (line), health (points)") && lines.contains("100"), "{lines}");
    assert!(lines.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)), "a braille line: {lines}");
    insta::assert_snapshot!("reports_lines_80x24", lines);
    press(&mut console, KeyCode::Char('t'));
    assert!(screen(&mut console, 80, 24).contains("attendance by week"), "t goes back to the bars");
}

/// Where braille does not render (`charts = "dots"`), the line is drawn in dots.
#[test]
fn the_reports_tab_draws_its_lines_in_dots_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = console_charting(&dir, None, "monochrome", |_, _| {}, "dots");
    press(&mut console, KeyCode::Char('8'));
    press(&mut console, KeyCode::Char('t'));
    let lines = screen(&mut console, 80, 24);
    assert!(lines.contains('•') && !lines.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)), "{lines}");
    insta::assert_snapshot!("reports_dots_80x24", lines);
}

/// `?` names the keys of the tab it is pressed on, also on a tab without a help section of its
/// own, in that tab's words; its list part shows only how to move.
#[test]
fn help_names_the_keys_of_every_tab() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = demo_console(&dir);
    for (tab, expected) in [
        ('0', &["home", "⏎  open the line's tab", "j/↓  next line"][..]),
        ('3', &["payroll", "y  approve (asks first)", "n  reject, with a reason", "⏎  the profile in full"]),
        ('4', &["onboarding", "⏎  the partner's checklist", "/  filter by login, name, role"]),
        ('5', &["students", "⏎  the student's history", "M  message the student", "/  filter by ID or name"]),
        ('6', &["audit", "⏎  the entry in full", "y  check the chain", "/  filter by who, action, what"]),
    ] {
        press(&mut console, KeyCode::Char(tab));
        press(&mut console, KeyCode::Char('?'));
        for (width, height) in [(80, 24), (120, 40)] {
            let help = screen(&mut console, width, height);
            for text in expected {
                assert!(help.contains(text), "tab {tab} at {width}×{height}: {text:?} missing:\n{help}");
            }
            assert!(!help.contains("show or hide the detail"), "tab {tab}: ⏎ is the tab's to name:\n{help}");
            if tab != '0' {
                assert!(help.contains("G/End  last row"), "tab {tab}: how to move:\n{help}");
            }
        }
        press(&mut console, KeyCode::Esc);
    }
}

/// On a screen too small for every key, help says which it shows and scrolls to the rest.
#[test]
fn help_scrolls_where_the_keys_do_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = demo_console(&dir);
    press(&mut console, KeyCode::Char('?'));
    let first = screen(&mut console, 40, 12);
    assert!(first.contains("keys 1–10 of "), "{first}");
    assert!(!first.contains("quit muster"), "{first}");
    press(&mut console, KeyCode::Char('G'));
    let last = screen(&mut console, 40, 12);
    assert!(last.contains("quit muster"), "{last}");
    assert!(!last.contains("alert inbox"), "{last}");
    // Back up one row at a time from the end, however often G was pressed.
    press(&mut console, KeyCode::Char('G'));
    press(&mut console, KeyCode::Char('k'));
    let up = screen(&mut console, 40, 12);
    assert!(!up.contains("mouse: click"), "one row up from the end: {up}");
    // Where everything fits there is nothing to scroll, and the box says nothing of it.
    let wide = screen(&mut console, 120, 40);
    assert!(wide.contains("keys · Esc closes") && wide.contains("alert inbox"), "{wide}");
    press(&mut console, KeyCode::Esc);
    assert!(!screen(&mut console, 40, 12).contains("Esc closes"));
}
