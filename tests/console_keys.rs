//! Random keys on the demo console, for each kind of person: whatever is pressed, in whatever
//! tab or dialog, a record that was already decided (a verified or rejected day, a resolved
//! alert, an approved or rejected payroll profile, a signature) changes only when the person said
//! yes to a question about it or undid their own last change; every change shows on the bottom
//! line; and no key brings the console down.

#[path = "support/demo_console.rs"]
mod demo_console;
use demo_console::*;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use muster::app::{Command, Decision};
use muster::tui::console::Console;
use std::collections::BTreeMap;

/// Every key the keymap binds but quitting and switching tabs, and keys that are only text, each
/// with a weight: moving about often, and Esc often enough that a filter or a dialog does not
/// swallow the walk. Each walk stays in one tab, long enough to reach its records.
const KEYS: &[(KeyCode, u32)] = &[
    (KeyCode::Char('j'), 6),
    (KeyCode::Char('k'), 4),
    (KeyCode::Left, 5),
    (KeyCode::Right, 5),
    (KeyCode::Up, 2),
    (KeyCode::Down, 2),
    (KeyCode::Char('['), 3),
    (KeyCode::Char(']'), 2),
    (KeyCode::Char('w'), 3),
    (KeyCode::Char('g'), 1),
    (KeyCode::Char('G'), 1),
    (KeyCode::PageDown, 1),
    (KeyCode::PageUp, 1),
    (KeyCode::Home, 1),
    (KeyCode::End, 1),
    (KeyCode::Enter, 4),
    (KeyCode::Esc, 5),
    (KeyCode::Char('y'), 4),
    (KeyCode::Char('n'), 2),
    (KeyCode::Char('u'), 2),
    (KeyCode::Char('p'), 3),
    (KeyCode::Char('x'), 3),
    (KeyCode::Char('e'), 3),
    (KeyCode::Char('h'), 2),
    (KeyCode::Char('F'), 1),
    (KeyCode::Char('a'), 3),
    (KeyCode::Char('s'), 2),
    (KeyCode::Char('o'), 2),
    (KeyCode::Char('r'), 2),
    (KeyCode::Char('v'), 2),
    (KeyCode::Char(' '), 3),
    (KeyCode::Char('*'), 1),
    (KeyCode::Char('M'), 1),
    (KeyCode::Char('T'), 1),
    (KeyCode::Char('D'), 1),
    (KeyCode::Char('X'), 1),
    (KeyCode::Char('m'), 1),
    (KeyCode::Char('c'), 1),
    (KeyCode::Char('t'), 1),
    (KeyCode::Char('W'), 1),
    (KeyCode::Char('Y'), 1),
    (KeyCode::Char('R'), 1),
    (KeyCode::Char('S'), 1),
    (KeyCode::Char('/'), 1),
    (KeyCode::Char(':'), 1),
    (KeyCode::Char('?'), 1),
    (KeyCode::Char('N'), 1),
    (KeyCode::Backspace, 1),
    (KeyCode::Char('l'), 1),
    (KeyCode::Char('A'), 1),
];

/// Sizes each state is also drawn at: the narrowest the README promises, less, and large.
const SIZES: &[(u16, u16)] = &[(40, 12), (20, 6), (120, 40), (1, 1)];

/// A small generator, so a failure names its seed and replays exactly.
struct Keys(u64);

impl Keys {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn next(&mut self) -> KeyCode {
        let total: u32 = KEYS.iter().map(|(_, weight)| weight).sum();
        let mut pick = self.below(u64::from(total)) as u32;
        for (key, weight) in KEYS {
            if pick < *weight {
                return *key;
            }
            pick -= weight;
        }
        unreachable!("the pick is below the total")
    }
}

/// Each decided record as a line of its fields, by table and id.
fn decided(db: &rusqlite::Connection) -> BTreeMap<String, String> {
    let queries = [
        (
            "attendance",
            "SELECT id, status || ' ' || ifnull(hours, '') || ' ' || verification || ' ' || ifnull(verified_by, '') \
             || ' ' || ifnull(reason, '') || ' ' || logged_at FROM attendance WHERE verification <> 'pending'",
        ),
        (
            "alert",
            "SELECT id, status || ' ' || severity || ' ' || count || ' ' || updated_at || ' ' || ifnull(resolved_by, '') \
             FROM alerts WHERE status = 4 /* resolved */",
        ),
        (
            "signature",
            "SELECT id, login || ' ' || document_code || ' ' || typed_name || ' ' || signed_at || ' ' || ifnull(mark, '') \
             FROM signatures",
        ),
        (
            "payroll",
            "SELECT id, status || ' ' || ifnull(decided_by, '') || ' ' || ifnull(decided_at, '') \
             FROM payroll_profiles WHERE status <> 'pending'",
        ),
    ];
    let mut rows = BTreeMap::new();
    for (table, sql) in queries {
        let mut statement = db.prepare(sql).unwrap();
        let found = statement.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).unwrap();
        for row in found {
            let (id, fields) = row.unwrap();
            rows.insert(format!("{table} {id}"), fields);
        }
    }
    rows
}

fn data_version(db: &rusqlite::Connection) -> i64 {
    db.query_row("PRAGMA data_version", [], |r| r.get(0)).unwrap()
}

fn audit_entries(db: &rusqlite::Connection) -> i64 {
    db.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0)).unwrap()
}

/// The bottom line shows a message rather than the keys to press.
fn says_something(screen: &str) -> bool {
    let bottom = screen.lines().last().unwrap_or_default();
    !(bottom.contains("? help") || bottom.contains("Esc close") || bottom.contains("Esc clear"))
}

/// The demo console with decided records within a walk's reach: in the demo only days more than
/// a fortnight old are verified, so the admin decides on two of every three days logged since
/// Monday last week: one in six rejected, three verified, two left pending.
fn console_with_decisions(dir: &tempfile::TempDir, login: Option<&str>) -> Console {
    let path = dir.path().join("console.db");
    console_with(dir, login, "monochrome", |app, admin| {
        let db = rusqlite::Connection::open(&path).unwrap();
        let mut recent = db.prepare("SELECT id FROM attendance WHERE date >= '2026-02-23' ORDER BY id").unwrap();
        let ids: Vec<i64> = recent.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        let (mut verified, mut rejected) = (Vec::new(), Vec::new());
        for (n, id) in ids.into_iter().enumerate() {
            match n % 6 {
                0 | 3 => {}
                1 => rejected.push(id),
                _ => verified.push(id),
            }
        }
        let reason = "no sign-in sheet".to_string();
        for (ids, decision) in [(verified, Decision::Verify), (rejected, Decision::Reject { reason })] {
            app.execute(admin, Command::DecideAttendance { ids, decision }).unwrap();
        }
    })
}

/// What a walk did: how many keys changed something, and how many of those changed a decided
/// record (each after a yes or an undo, or the walk has already failed).
#[derive(Default)]
struct Walk {
    presses: usize,
    changes: usize,
    decided_changes: usize,
}

/// `presses` keys in the tab numbered `tab`.
fn press_randomly(login: Option<&str>, tab: char, seed: u64, presses: usize) -> Walk {
    let dir = tempfile::tempdir().unwrap();
    let mut console = console_with_decisions(&dir, login);
    console.handle(Event::Key(KeyEvent::new(KeyCode::Char(tab), KeyModifiers::NONE))).unwrap();
    let db = rusqlite::Connection::open(dir.path().join("console.db")).unwrap();
    let mut keys = Keys(seed);
    let mut recent: Vec<KeyCode> = Vec::new();
    let (mut before, mut audited) = (decided(&db), audit_entries(&db));
    let mut seen_version = data_version(&db);
    let mut shown = screen(&mut console, 80, 24);
    let mut walk = Walk::default();
    for _ in 0..presses {
        let key = keys.next();
        recent.push(key);
        let asked = shown.contains("y yes");
        console.handle(Event::Key(KeyEvent::new(key, KeyModifiers::NONE))).unwrap();
        let now = screen(&mut console, 80, 24);
        // The same state drawn small and large as well: what a narrow screen cuts must not panic.
        let (width, height) = SIZES[walk.presses % SIZES.len()];
        screen(&mut console, width, height);
        walk.presses += 1;
        // Read again only when another connection (the console's) has committed since.
        let version = data_version(&db);
        if version == seen_version {
            shown = now;
            continue;
        }
        seen_version = version;
        let (after, audit) = (decided(&db), audit_entries(&db));
        let tail = &recent[recent.len().saturating_sub(12)..];
        let who = login.unwrap_or("the admin");
        if audit != audited {
            walk.changes += 1;
            assert!(says_something(&now), "{who}, tab {tab}, seed {seed}: a change said nothing after {tail:?}\n{now}");
        }
        let mut decided_changed = false;
        for (record, was) in &before {
            let is = after.get(record);
            if is != Some(was) {
                decided_changed = true;
                // A question takes y, Y or ⏎ for yes.
                let answered = asked && matches!(key, KeyCode::Char('y' | 'Y') | KeyCode::Enter);
                let undone = key == KeyCode::Char('u') && now.contains("undone:");
                assert!(
                    answered || undone,
                    "{who}, tab {tab}, seed {seed}: {record} went from {was} to {is:?} unasked after {tail:?}\nbefore:\n{shown}\nafter:\n{now}"
                );
            }
        }
        walk.decided_changes += usize::from(decided_changed);
        (before, audited, shown) = (after, audit, now);
    }
    walk
}

/// A walk of 800 keys in each of `tabs`; walks that changed nothing would prove nothing.
fn walks_as(login: Option<&str>, tabs: &str, seed: u64) -> Walk {
    let mut all = Walk::default();
    for tab in tabs.chars() {
        let walk = press_randomly(login, tab, seed, 800);
        all.changes += walk.changes;
        all.decided_changes += walk.decided_changes;
    }
    assert!(all.changes > 0, "{}: no walk changed anything", login.unwrap_or("the admin"));
    all
}

#[test]
fn the_admin_changes_no_decided_record_unasked() {
    walks_as(None, "012345678", 1);
}

#[test]
fn a_worksite_changes_no_decided_record_unasked() {
    // The walks reach a decided day and are asked before it changes; were the question not
    // asked, the walk would fail where the day changed.
    let worksite = walks_as(Some("ws_01"), "01234567", 7);
    assert!(worksite.decided_changes > 0, "no walk reached a decided day");
}

#[test]
fn a_coordinator_changes_no_decided_record_unasked() {
    walks_as(Some("sc_01"), "01234567", 3);
}

/// ph_03's payroll profile waits for approval.
#[test]
fn a_program_holder_changes_no_decided_record_unasked() {
    walks_as(Some("ph_03"), "01234567", 4);
}

/// ws_04 has not started onboarding: its one tab.
#[test]
fn a_partner_onboarding_changes_no_decided_record_unasked() {
    walks_as(Some("ws_04"), "1", 2);
}

/// Found by the walk above: `v` (mark from the last mark to here) on an inbox that a filter
/// had emptied took a slice of no rows and brought the console down.
#[test]
fn marking_keys_on_an_empty_inbox_do_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = demo_console(&dir);
    press(&mut console, KeyCode::Char('/'));
    for c in "nobody by this name".chars() {
        press(&mut console, KeyCode::Char(c));
    }
    press(&mut console, KeyCode::Enter);
    let empty = screen(&mut console, 80, 24);
    for key in ['v', ' ', '*', 'v', 'a'] {
        press(&mut console, KeyCode::Char(key));
    }
    assert_eq!(screen(&mut console, 80, 24).lines().next(), empty.lines().next());
}

/// Found by the walks drawn small: the note dialog asked for eight rows of a screen that had
/// fewer, and brought the console down in a short terminal (a split tmux pane).
#[test]
fn a_dialog_fits_a_screen_shorter_than_itself() {
    let dir = tempfile::tempdir().unwrap();
    let mut console = demo_console(&dir);
    press(&mut console, KeyCode::Char('r'));
    for height in 1..=12 {
        for width in [1, 20, 40] {
            screen(&mut console, width, height);
        }
    }
    let dialog = screen(&mut console, 80, 24);
    assert!(dialog.contains("Esc cancel"), "the note dialog is open\n{dialog}");
}
