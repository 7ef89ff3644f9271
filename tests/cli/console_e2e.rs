//! The console in a real terminal (tmux): acknowledge an alert with the keyboard, quit, and find
//! the acknowledgement and its note stored.

use crate::harness::Env;
use std::process::Command;
use std::time::{Duration, Instant};

pub(crate) struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux is installed (.ci/run installs it)")
    }

    pub(crate) fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "console"]).stdout).into_owned()
    }

    pub(crate) fn wait_for(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "waited for «{text}»; the screen shows:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "console"];
        args.extend(keys);
        assert!(self.run(&args).status.success());
    }

    fn is_running(&self) -> bool {
        self.run(&["has-session", "-t", "console"]).status.success()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

impl Tmux {
    /// Starts the console on `env`'s database (with `args`, e.g. `--as ws_01`) in a 100×30 terminal.
    pub(crate) fn console(env: &Env, name: &str, args: &str) -> Tmux {
        let dir = env.dir.path().display().to_string();
        let command = format!(
            "env HOME={dir} XDG_DATA_HOME={dir}/data XDG_CONFIG_HOME={dir}/config TERM=xterm-256color {} --db {} {args}",
            env!("CARGO_BIN_EXE_muster"),
            env.db.display()
        );
        let tmux = Tmux { socket: format!("muster-e2e-{name}-{}", std::process::id()) };
        assert!(tmux.run(&["new-session", "-d", "-s", "console", "-x", "100", "-y", "30", &command]).status.success());
        tmux
    }

    pub(crate) fn quit(&self) {
        self.keys(&["q"]);
        let started = Instant::now();
        while self.is_running() {
            assert!(started.elapsed() < Duration::from_secs(10), "the console did not quit on q");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn a_worksite_fills_a_week_and_a_coordinator_verifies_it() {
    let env = Env::initialised();
    let today = chrono::Local::now().date_naive();
    let start = today - chrono::Days::new(40);
    env.import("programs", &format!("program_id,name,schedule,start_date\nP1,Welding,Mon-Fri,{start}\n"));
    env.import("students", "student_id,first_name,last_name\nS1,Ann,Lee\nS2,Bo,Li\nS3,Cy,Ng\n");
    env.import(
        "enrollments",
        &format!("enrollment_id,student_id,program_id,start_date,status\nE1,S1,P1,{start},active\nE2,S2,P1,{start},active\nE3,S3,P1,{start},active\n"),
    );
    env.import(
        "users",
        "login,name,role,onboarded\nws_01,Wanda Site,worksite,true\nsc_01,Sam Coord,site_coordinator,true\n",
    );
    env.import("assignments", "login,student_id\nws_01,S1\nws_01,S2\nws_01,S3\nsc_01,S1\nsc_01,S2\nsc_01,S3\n");

    let worksite = Tmux::console(&env, "ws", "--as ws_01");
    worksite.wait_for("1 Ale");
    worksite.keys(&["2"]);
    worksite.wait_for("today,");
    worksite.keys(&["w"]);
    worksite.wait_for("Ann Lee");
    worksite.keys(&["["]);
    worksite.keys(&["F"]);
    worksite.wait_for("Log 15 days present");
    worksite.keys(&["y"]);
    worksite.wait_for("15 days logged");
    worksite.quit();
    env.as_if_partners_logged_from_their_own_accounts();

    let coordinator = Tmux::console(&env, "sc", "--as sc_01");
    coordinator.wait_for("1 Ale");
    coordinator.keys(&["2"]);
    coordinator.wait_for("waiting for verification");
    coordinator.keys(&["Space"]);
    coordinator.keys(&["Space"]);
    coordinator.keys(&["y"]);
    coordinator.wait_for("Verify 2 records?");
    coordinator.keys(&["y"]);
    coordinator.wait_for("verified records");
    coordinator.keys(&["n"]);
    coordinator.wait_for("reason");
    coordinator.keys(&["-l", "no sign-in sheet"]);
    coordinator.keys(&["Enter"]);
    coordinator.wait_for("rejected record");
    // The rest of the worksite's week, marked as one group.
    coordinator.keys(&["W"]);
    coordinator.wait_for("12 marked");
    coordinator.keys(&["y"]);
    coordinator.wait_for("Verify 12 records?");
    coordinator.keys(&["y"]);
    coordinator.wait_for("verified records");
    // A verification made by mistake is taken back with u: the records wait again.
    coordinator.keys(&["u"]);
    coordinator.wait_for("undone: verified 12 records");
    coordinator.quit();

    let records = env.json(&["attendance", "list"]);
    let count = |state: &str| records.as_array().unwrap().iter().filter(|r| r["verification"] == state).count();
    assert_eq!((count("verified"), count("rejected"), count("pending")), (2, 1, 12), "{records:#}");
    let rejected = records.as_array().unwrap().iter().find(|r| r["verification"] == "rejected").unwrap();
    assert_eq!(
        (rejected["reason"].as_str(), rejected["verified_by"].as_str()),
        (Some("no sign-in sheet"), Some("sc_01"))
    );
    assert!(records.as_array().unwrap().iter().all(|r| r["logged_by"] == "ws_01" && r["hours"] == 6.0));
}

#[test]
fn a_new_worksite_onboards_from_the_keyboard_and_an_admin_approves_the_payroll_profile() {
    let env = Env::initialised();
    env.ok(&["user", "add", "ws_09", "--role", "worksite", "--name", "Nia Nine"]);
    let w9 = env.dir.path().join("w9.pdf");
    std::fs::write(&w9, b"%PDF-1.4 signed W-9").unwrap();

    let partner = Tmux::console(&env, "partner", "--as ws_09");
    partner.wait_for("1 Onboarding");
    partner.keys(&["Enter"]);
    partner.wait_for("choose your role");
    partner.keys(&["Enter"]);
    partner.wait_for("you chose the worksite role");
    // Each responsibility is accepted after its whole text is shown.
    for _ in 0..5 {
        partner.keys(&["j", "Enter"]);
        partner.wait_for("y yes");
        partner.keys(&["y"]);
        partner.wait_for("accepted:");
    }
    partner.keys(&["j", "Enter"]);
    partner.wait_for("I consent");
    partner.keys(&["Enter"]);
    partner.wait_for("consent to sign electronically recorded");
    // The memorandum (sign), the handbook (acknowledge), payment terms (sign), W-9 instructions.
    for signed in [true, false, true, false] {
        partner.keys(&["j", "Enter"]);
        partner.wait_for("Esc back");
        partner.keys(&["Enter"]);
        if signed {
            partner.wait_for("your full name");
            partner.keys(&["-l", "Nia Nine"]);
            partner.keys(&["Enter"]);
            partner.wait_for("signed the");
        } else {
            partner.wait_for("acknowledged the");
        }
    }
    partner.keys(&["j", "Enter"]);
    partner.wait_for("payroll profile");
    partner.keys(&["Down"]);
    partner.keys(&["-l", "000123456789"]);
    partner.keys(&["Down"]);
    partner.keys(&["-l", "011000015"]);
    partner.keys(&["Down"]);
    partner.keys(&["-l", &w9.display().to_string()]);
    partner.keys(&["Down", "Down", "Space", "Enter"]);
    let screen = partner.wait_for("submitted: pending an admin's approval");
    assert!(screen.contains("1 Ale"), "onboarding complete: every tab opens\n{screen}");
    partner.quit();

    let admin = Tmux::console(&env, "admin", "");
    admin.wait_for("1 Ale");
    admin.keys(&["3"]);
    admin.wait_for("ACH ••6789");
    admin.keys(&["y"]);
    admin.wait_for("Approve ws_09's payroll profile");
    admin.keys(&["y"]);
    admin.wait_for("approved");
    admin.quit();

    let profiles = env.json(&["payroll", "list"]);
    let p = &profiles[0];
    assert_eq!(
        (p["login"].as_str(), p["status"].as_str(), p["account_last4"].as_str()),
        (Some("ws_09"), Some("approved"), Some("6789"))
    );
    assert_eq!(p["decided_by"], crate::harness::me().as_str());
    let signatures = env.json(&["--as", "ws_09", "onboarding", "signatures"]);
    assert_eq!(signatures.as_array().unwrap().len(), 2, "the memorandum and the payment terms");
}

/// The first open alert in the inbox's order (the demo's partners have acknowledged some), and
/// how many rows down it is.
fn first_open(listed: &serde_json::Value) -> (usize, i64) {
    let alerts = listed.as_array().expect("a list of alerts");
    let row = alerts.iter().position(|a| a["status"] == "open").expect("the demo has open alerts");
    (row, alerts[row]["id"].as_i64().expect("an id"))
}

fn down(tmux: &Tmux, rows: usize) {
    for _ in 0..rows {
        tmux.keys(&["j"]);
    }
}

#[test]
fn acknowledging_an_alert_from_the_keyboard_is_stored_with_its_note() {
    let env = Env::new();
    env.ok(&["demo", "--students", "60", "--days", "30", "--seed", "5"]);
    env.ok(&["alerts", "run"]);
    let (row, first) = first_open(&env.json(&["alerts", "list"]));

    let dir = env.dir.path().display().to_string();
    let command = format!(
        "env HOME={dir} XDG_DATA_HOME={dir}/data XDG_CONFIG_HOME={dir}/config TERM=xterm-256color {} --db {}",
        env!("CARGO_BIN_EXE_muster"),
        env.db.display()
    );
    let tmux = Tmux { socket: format!("muster-e2e-{}", std::process::id()) };
    assert!(tmux.run(&["new-session", "-d", "-s", "console", "-x", "100", "-y", "30", &command]).status.success());
    tmux.wait_for("1 Ale");
    tmux.wait_for("'s day");
    tmux.keys(&["1"]);
    down(&tmux, row);
    tmux.keys(&["a"]);
    tmux.wait_for(&format!("acknowledge alert {first}"));
    tmux.keys(&["-l", "called her, back on Monday"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("acknowledged alert {first}"));
    // u gives it back as it was (open, nobody's); acknowledging again takes it on again.
    tmux.keys(&["u"]);
    tmux.wait_for(&format!("undone: acknowledged alert {first}"));
    tmux.keys(&["a"]);
    tmux.wait_for(&format!("acknowledge alert {first}"));
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("acknowledged alert {first}"));
    // Once acknowledged, `a` says so at once rather than open a note that would change nothing.
    tmux.keys(&["a"]);
    tmux.wait_for(&format!("alert {first} is already acknowledged, by {}", crate::harness::me()));
    assert!(!tmux.screen().contains("· note"), "no note dialog opened");
    tmux.keys(&["q"]);
    let started = Instant::now();
    while tmux.is_running() {
        assert!(started.elapsed() < Duration::from_secs(10), "the console did not quit on q");
        std::thread::sleep(Duration::from_millis(100));
    }

    let shown = env.json(&["alerts", "show", &first.to_string()]);
    assert_eq!(shown["status"], "acknowledged");
    assert_eq!(shown["assigned_to"], crate::harness::me().as_str(), "acknowledging claims it");
    let ack =
        shown["timeline"].as_array().unwrap().iter().find(|e| e["kind"] == "acknowledged").expect("on the timeline");
    assert_eq!(ack["note"], "called her, back on Monday");
    let kinds: Vec<&str> = shown["timeline"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.ends_with(&["acknowledged", "reopened", "acknowledged"]), "{kinds:?}");
    env.ok(&["audit", "verify"]);
}

/// Each item the new user's tmux session found, replayed: no keystroke changes a decided record
/// unseen, typed text stays in the box it was typed into, and a refusal comes before a menu.
#[test]
fn no_keystroke_changes_a_decided_record_unseen() {
    use chrono::Datelike;
    let env = Env::initialised();
    let today = chrono::Local::now().date_naive();
    let start = today - chrono::Days::new(40);
    let monday = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()) + 7);
    let day = |n: u64| monday + chrono::Days::new(n);
    env.import("programs", &format!("program_id,name,schedule,start_date\nP1,Welding,Mon-Fri,{start}\n"));
    env.import("students", "student_id,first_name,last_name\nS1,Ann,Lee\nS2,Bo,Li\n");
    env.import(
        "enrollments",
        &format!(
            "enrollment_id,student_id,program_id,start_date,status\nE1,S1,P1,{start},active\nE2,S2,P1,{start},active\n"
        ),
    );
    env.import(
        "users",
        "login,name,role,onboarded\nws_01,Wanda Site,worksite,true\nsc_01,Sam Coord,site_coordinator,true\n",
    );
    env.import("assignments", "login,student_id\nws_01,S1\nws_01,S2\nsc_01,S1\nsc_01,S2\n");
    let log = |date: chrono::NaiveDate, hours: &str| {
        let date = date.to_string();
        let args = ["--student", "S1", "--program", "P1", "--date", &date, "--status", "present", "--hours", hours];
        env.ok(&[&["--as", "ws_01", "attendance", "log"][..], &args].concat());
        env.as_if_partners_logged_from_their_own_accounts();
    };
    log(day(2), "5.5");
    log(day(3), "6");
    let id_on = |date: chrono::NaiveDate| {
        let records = env.json(&["attendance", "list", "--student", "S1"]);
        let found = records.as_array().unwrap().iter().find(|r| r["date"] == date.to_string()).cloned();
        found.map(|r| r["id"].as_i64().unwrap().to_string())
    };
    env.ok(&["--as", "sc_01", "attendance", "verify", &id_on(day(2)).unwrap()]);
    env.ok(&["--as", "sc_01", "attendance", "reject", &id_on(day(3)).unwrap(), "--reason", "no sign-in sheet"]);
    env.ok(&["alerts", "run"]);
    let wednesday = day(2).format("%a %-d").to_string();

    let console = Tmux::console(&env, "safe", "--as ws_01");
    console.wait_for("1 Ale");
    // `s` on an alert nobody acknowledged is refused before any menu opens.
    console.keys(&["1", "s"]);
    console.wait_for("only acknowledged alerts can be snoozed");
    assert!(!console.screen().contains("snooze alert"), "no duration menu");

    console.keys(&["2"]);
    console.wait_for("today,");
    console.keys(&["w", "["]);
    console.wait_for("Ann Lee");
    console.keys(&["Left", "Left", "Left", "Left", "Left", "Left", "Right", "Right"]);
    // Text typed into a filter stays there: `xav` narrows the list, it logs nothing.
    console.keys(&["/"]);
    console.keys(&["-l", "xav"]);
    console.wait_for("/ xav");
    console.keys(&["Escape"]);
    console.wait_for("5.5✓");
    // Overwriting a verified day asks first; `n` leaves it.
    console.keys(&["x"]);
    console.wait_for("Replace it with absent?");
    console.keys(&["n"]);
    console.wait_for("nothing changed");
    console.keys(&["x"]);
    console.wait_for("Replace it with absent?");
    console.keys(&["y"]);
    console.wait_for(&format!("Ann Lee · {wednesday} · absent (was present 5.5 h, verified)"));
    // ⏎ on a rejected day shows why it was rejected, and by whom.
    console.keys(&["Right", "Enter"]);
    let record = console.wait_for("reason: no sign-in sheet");
    assert!(record.contains("rejected by sc_01"), "{record}");
    console.keys(&["Escape"]);
    // A Sunday is not a session day: the cursor shows there, and logging it asks first.
    console.keys(&["Right", "Right", "Right"]);
    console.wait_for("off");
    console.keys(&["p"]);
    console.wait_for("is not a session day of P1 for Ann Lee");
    console.keys(&["n"]);
    console.wait_for("nothing changed");
    // Hours the rules refuse keep the dialog open with the text; the next digit is text too.
    console.keys(&["Left", "Left", "h"]);
    console.wait_for("hours for S1");
    console.keys(&["BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace"]);
    console.keys(&["-l", "25"]);
    console.keys(&["Enter"]);
    console.wait_for("25 hours is outside 0 to 24");
    console.keys(&["-l", "1"]);
    let dialog = console.wait_for("251");
    assert!(dialog.contains("hours for S1"), "still in the dialog, not switched to a tab\n{dialog}");
    console.keys(&["Escape"]);
    // A day logged by mistake is taken back with u (an audited change of its own).
    console.keys(&["p"]);
    console.wait_for("Ann Lee · Fri");
    console.keys(&["u"]);
    console.wait_for("undone: Ann Lee · Fri");
    console.keys(&["u"]);
    console.wait_for("nothing to undo");
    // On the Students tab, `/` then `q` types a q; it does not quit.
    console.keys(&["5"]);
    console.wait_for("your students");
    console.keys(&["/", "q"]);
    console.wait_for("/ q");
    assert!(console.is_running());
    console.keys(&["Escape"]);
    console.quit();

    let records = env.json(&["attendance", "list", "--student", "S1"]);
    let on =
        |date: chrono::NaiveDate| records.as_array().unwrap().iter().find(|r| r["date"] == date.to_string()).cloned();
    let wednesday = on(day(2)).expect("Wednesday is logged");
    assert_eq!((wednesday["status"].as_str(), wednesday["verification"].as_str()), (Some("absent"), Some("pending")));
    let thursday = on(day(3)).expect("Thursday is logged");
    assert_eq!(thursday["verification"], "rejected", "⏎ only shows the record");
    assert!(on(day(4)).is_none(), "25 hours logged nothing on Friday");
    assert!(on(day(6)).is_none(), "the Sunday was declined");
    assert_eq!(records.as_array().unwrap().len(), 2, "{records:#}");
}

/// Another process's long write (here a held lock and the note an import leaves) does not freeze
/// the console silently: the bottom line says what it waits for, keys pressed meanwhile do
/// nothing, Esc stops waiting with nothing changed, and once the write ends the change goes in.
#[test]
fn a_change_waiting_for_another_writer_says_so_and_can_be_stopped() {
    let env = Env::new();
    env.ok(&["demo", "--students", "60", "--days", "30", "--seed", "5"]);
    env.ok(&["alerts", "run"]);
    let listed = env.json(&["alerts", "list"]);
    let (row, first) = first_open(&listed);
    let acknowledged_before = listed.as_array().unwrap().iter().filter(|a| a["status"] == "acknowledged").count();

    let tmux = Tmux::console(&env, "wait", "");
    tmux.wait_for("'s day");
    tmux.keys(&["1"]);
    tmux.wait_for("live 1 of");
    down(&tmux, row);
    tmux.wait_for(&format!("live {} of", row + 1));
    let writer = rusqlite::Connection::open(&env.db).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut note = env.db.as_os_str().to_owned();
    note.push("-writer");
    std::fs::write(&note, "alice: import attendance from year.csv, since 10:04:05\n").unwrap();

    tmux.keys(&["a"]);
    tmux.wait_for(&format!("acknowledge alert {first}"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("keys ignored, Esc stops: alice: import attendance from year.csv");
    // Typed while the screen cannot follow: neither a move nor a second acknowledgement, nor
    // text in the note.
    tmux.keys(&["j", "a", "x"]);
    tmux.keys(&["Escape"]);
    tmux.wait_for("nothing changed: you stopped waiting for alice: import attendance");

    // The note is still open: ⏎ tries again, and goes in when the other write ends.
    tmux.keys(&["Enter"]);
    tmux.wait_for("Esc stops: alice");
    tmux.keys(&["j", "a"]);
    std::thread::sleep(Duration::from_millis(500));
    writer.execute_batch("ROLLBACK").unwrap();
    std::fs::remove_file(&note).unwrap();
    let screen = tmux.wait_for(&format!("acknowledged alert {first}"));
    assert!(!screen.contains("waiting"), "the whole screen is drawn again:\n{screen}");
    tmux.quit();

    let shown = env.json(&["alerts", "show", &first.to_string()]);
    assert_eq!(shown["status"], "acknowledged");
    let ack =
        shown["timeline"].as_array().unwrap().iter().find(|e| e["kind"] == "acknowledged").expect("on the timeline");
    assert!(ack["note"].is_null() || ack["note"] == "", "nothing typed during the wait reached the note: {ack}");
    let listed = env.json(&["alerts", "list"]);
    let acknowledged = listed.as_array().unwrap().iter().filter(|a| a["status"] == "acknowledged").count();
    assert_eq!(acknowledged, acknowledged_before + 1, "only the one acknowledged on purpose");
    env.ok(&["audit", "verify"]);
}

/// A console opened while a large import holds the whole file (on SQLite's rollback journal,
/// as an import that nobody else was reading writes) says what it waits for instead of showing
/// an empty terminal, and opens once the import ends. Keys typed meanwhile were typed at
/// nothing: they neither move it nor acknowledge an alert.
#[test]
fn a_console_opened_during_a_large_import_says_what_it_waits_for() {
    let env = Env::new();
    env.ok(&["demo", "--students", "20", "--days", "10", "--seed", "5"]);
    let acknowledged = |env: &Env| {
        let listed = env.json(&["alerts", "list"]);
        assert!(!listed.as_array().unwrap().is_empty(), "the demo has alerts");
        listed.as_array().unwrap().iter().filter(|a| a["status"] == "acknowledged").count()
    };
    let before = acknowledged(&env);
    let import = rusqlite::Connection::open(&env.db).unwrap();
    import.execute_batch("PRAGMA journal_mode = DELETE; BEGIN EXCLUSIVE").unwrap();
    let mut note = env.db.as_os_str().to_owned();
    note.push("-writer");
    std::fs::write(&note, "alice is importing attendance from year.csv, since 10:04:05\n").unwrap();

    let tmux = Tmux::console(&env, "opening", "");
    tmux.wait_for("waiting: another muster process is writing to this database (alice is importing");
    tmux.keys(&["1"]);
    tmux.keys(&["a"]);
    tmux.keys(&["Enter"]);
    import.execute_batch("COMMIT").unwrap();
    std::fs::remove_file(&note).unwrap();
    let screen = tmux.wait_for("'s day");
    assert!(!screen.contains("waiting"), "the console has the whole screen:\n{screen}");
    std::thread::sleep(Duration::from_millis(500));
    let screen = tmux.screen();
    assert!(screen.contains("'s day") && !screen.contains("acknowledge"), "still on Home:\n{screen}");
    tmux.quit();
    assert_eq!(acknowledged(&env), before);
}
