//! Benchmark: the console on 100,000 students and 1,000,000 alerts, drawn headless
//! (ratatui's TestBackend at 120×40, list and detail side by side).
//! Targets: first frame < 150 ms, p99 key-press-to-frame < 16 ms, resident memory < 60 MB.
//!
//! The students come from the real binary (`muster demo`, a child process); the alerts from
//! plain SQL. The memory figure is this process's peak, so it includes that SQL's page cache.
//! `cargo bench --bench console` (`-- --students N` for another size).

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use muster::app::{App, SystemClock, identity};
use muster::config::Config;
use muster::store::OpenMode;
use muster::tui::console::{Console, Settings};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};

fn arg(name: &str, default: u32) -> u32 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// 200,000 live alerts (two per student) and 800,000 resolved ones from the past, in place of
/// the ones the demo's own alert job opened.
const ALERTS_SQL: &str = "
    DELETE FROM alert_events;
    DELETE FROM alerts;
    -- Stored as numbers (store::stored): type 1 missing_attendance, 2 no_login; severity 1-3;
    -- status 1 open, 4 resolved; times in seconds.
    INSERT INTO alerts (type, severity, status, student, enrollment, program, count, first_missed, escalated,
                        opened_at, updated_at, as_of, streak_start)
    SELECT t.type, 1 + (s.id + t.type) % 3, 1, s.id, CASE WHEN t.type = 1 THEN e.id END, e.program, 3, NULL, 0,
           unixepoch(printf('2026-%02d-%02dT06:00:%02dZ', 1 + s.id % 10, 1 + s.id % 28, s.id % 60)),
           unixepoch('2026-11-01T06:00:00Z'), NULL, NULL
      FROM students s JOIN enrollments e ON e.student = s.id
     CROSS JOIN (SELECT 1 AS type UNION ALL SELECT 2) t;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 800000)
    INSERT INTO alerts (type, severity, status, student, count, escalated, opened_at, updated_at, resolved_at,
                        resolved_by)
    SELECT 1 + i % 2, 1 + i % 3, 4, 1 + i % (SELECT count(*) FROM students), 2, 0,
           unixepoch(printf('2025-%02d-%02dT07:00:%02dZ', 1 + i % 12, 1 + i % 28, i % 60)),
           unixepoch('2025-12-31T00:00:00Z'), unixepoch('2025-12-31T00:00:00Z'), 'system'
      FROM n;";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

fn main() {
    let students = arg("--students", 100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("console.db");
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .arg("--db")
        .arg(&db)
        .args(["demo", "--students", &students.to_string(), "--days", "365"])
        .env("XDG_DATA_HOME", dir.path())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run muster demo");
    assert!(made.success());
    // Plain SQL, in a scope of its own so its memory is freed before the console is measured.
    rusqlite::Connection::open(&db).and_then(|c| c.execute_batch(ALERTS_SQL)).expect("alerts inserted");
    let total: i64 =
        rusqlite::Connection::open(&db).unwrap().query_row("SELECT count(*) FROM alerts", [], |r| r.get(0)).unwrap();

    let started = Instant::now();
    let os = identity::os_account().expect("an OS account");
    let mut app = App::open(&db, OpenMode::Existing, Box::new(SystemClock), identity::this_origin(&os)).expect("open");
    let actor = app.sign_in(&os, None).expect("sign in").actor;
    let settings = Settings::from_config(&Config::default()).expect("settings");
    let mut console = Console::new(app, actor, settings).expect("console");
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    terminal.draw(|f| console.draw(f)).expect("draw");
    let first_frame = started.elapsed();
    let counted = Instant::now();
    console.after_first_frame().expect("counts");
    let counts = counted.elapsed();

    let key = |code: KeyCode| Event::Key(KeyEvent::new(code, KeyModifiers::NONE));
    let mut script: Vec<Event> = Vec::new();
    // The console opens on Home; the inbox is a key away.
    script.push(key(KeyCode::Char('1')));
    script.extend(std::iter::repeat_n(key(KeyCode::Char('j')), 600));
    script.extend(std::iter::repeat_n(key(KeyCode::PageDown), 80));
    script.push(key(KeyCode::Char('G')));
    script.extend(std::iter::repeat_n(key(KeyCode::Char('k')), 300));
    script.push(key(KeyCode::Char('g')));
    // The whole million, resolved ones too, through the palette.
    script.push(key(KeyCode::Char(':')));
    script.extend("status all".chars().map(|c| key(KeyCode::Char(c))));
    script.push(key(KeyCode::Enter));
    script.extend(std::iter::repeat_n(key(KeyCode::PageDown), 120));
    script.extend(std::iter::repeat_n(key(KeyCode::Char('j')), 300));
    script.push(key(KeyCode::Char('G')));
    script.extend(std::iter::repeat_n(key(KeyCode::PageUp), 60));

    let mut frames: Vec<Duration> = Vec::with_capacity(script.len());
    for event in script {
        let pressed = Instant::now();
        console.handle(event).expect("handle");
        terminal.draw(|f| console.draw(f)).expect("draw");
        frames.push(pressed.elapsed());
    }
    frames.sort();
    println!("{students} students, {total} alerts, 120×40 with the detail pane");
    println!("first frame:        {:>7.1} ms  (target < 150 ms)", first_frame.as_secs_f64() * 1e3);
    println!(
        "home filled:        {:>7.1} ms  (Home's summary and the tab counts; after the first frame)",
        counts.as_secs_f64() * 1e3
    );
    println!(
        "key press to frame: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} presses  (target p99 < 16 ms)",
        percentile(&frames, 0.5).as_secs_f64() * 1e3,
        percentile(&frames, 0.99).as_secs_f64() * 1e3,
        frames.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        frames.len()
    );
    println!("peak resident memory: {} MB  (target < 60 MB)", peak_rss_mb());
}
