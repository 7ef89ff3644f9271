//! Benchmark: a 10,000-recipient campaign to a real SMTP server on loopback (aiosmtpd, as the
//! tests use; Debian's python3-aiosmtpd), sent by `muster message deliver` in a child process
//! while this process drives the console on the same database and times each key press to its
//! frame. Prints messages per second, the sender's peak memory and the console's p50/p99.
//! `cargo bench --bench messages` (`-- --recipients N` for another size).

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use muster::app::{App, SystemClock, identity};
use muster::config::Config;
use muster::store::OpenMode;
use muster::tui::console::{Console, Settings};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../tests/support/smtp.rs"]
mod smtp;

fn arg(name: &str, default: u32) -> u32 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn muster(dir: &Path, db: &Path, args: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_muster"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("XDG_DATA_HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .stdout(Stdio::null())
        .status()
        .expect("run muster");
    assert!(status.success(), "muster {args:?}");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let recipients = arg("--recipients", 10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("messages.db");
    muster(dir.path(), &db, &["init"]);
    let students = dir.path().join("students.csv");
    let mut csv = String::from("student_id,first_name,last_name,email\n");
    for i in 0..recipients {
        csv.push_str(&format!("M{i:06},Stu,Dent{i},m{i}@example.org\n"));
    }
    std::fs::write(&students, csv).unwrap();
    muster(dir.path(), &db, &["import", "students", students.to_str().unwrap()]);
    muster(
        dir.path(),
        &db,
        &[
            "message",
            "templates",
            "save",
            "hello",
            "--org",
            "--subject",
            "Hello {first_name}",
            "--body",
            "Hi {last_name}, see you Monday.",
        ],
    );
    muster(dir.path(), &db, &["message", "campaign", "create", "--template", "hello", "--all"]);

    let smtp = smtp::Smtp::start(dir.path(), &[]);
    let port = smtp.port;
    std::fs::create_dir_all(dir.path().join("config/muster")).unwrap();
    std::fs::write(
        dir.path().join("config/muster/config.toml"),
        format!("[mail]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"office@org.example\"\n"),
    )
    .unwrap();

    let os = identity::os_account().expect("an OS account");
    let mut app = App::open(&db, OpenMode::Existing, Box::new(SystemClock), identity::this_origin(&os)).expect("open");
    let actor = app.sign_in(&os, None).expect("sign in").actor;
    let mut console = Console::new(app, actor, Settings::from_config(&Config::default()).unwrap()).expect("console");
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    terminal.draw(|f| console.draw(f)).expect("draw");
    console.after_first_frame().expect("counts");

    let started = Instant::now();
    #[allow(clippy::zombie_processes, reason = "wait4 reaps the child below")]
    let sender = Command::new(env!("CARGO_BIN_EXE_muster"))
        .arg("--db")
        .arg(&db)
        .args(["message", "deliver"])
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("muster message deliver");
    let key = |code: KeyCode| Event::Key(KeyEvent::new(code, KeyModifiers::NONE));
    let keys = [
        key(KeyCode::Char('j')),
        key(KeyCode::Char('j')),
        key(KeyCode::Char('k')),
        key(KeyCode::Tab),
        key(KeyCode::PageDown),
        key(KeyCode::Char('G')),
        key(KeyCode::Char('g')),
    ];
    // As the console's own loop does: keys handled and drawn as they come, the file looked at
    // for other processes' changes every half second (timed apart: a key pressed during that
    // look waits for it).
    let mut frames = Vec::new();
    let mut looks = Vec::new();
    let mut last_look = Instant::now();
    let mut status = 0;
    // SAFETY: wait4 writes only into the status and rusage we hand it, for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        for event in &keys {
            let pressed = Instant::now();
            console.handle(event.clone()).expect("handle");
            terminal.draw(|f| console.draw(f)).expect("draw");
            frames.push(pressed.elapsed());
            if last_look.elapsed() >= Duration::from_millis(500) {
                let looking = Instant::now();
                console.poll_changes().expect("notice the sender's writes");
                terminal.draw(|f| console.draw(f)).expect("draw");
                looks.push(looking.elapsed());
                last_look = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let done = unsafe { libc::wait4(sender.id() as libc::pid_t, &mut status, libc::WNOHANG, &mut usage) };
        if done > 0 {
            break;
        }
    }
    let took = started.elapsed();
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "deliver failed");
    let received = smtp.received().len();
    drop(smtp);
    assert_eq!(received, recipients as usize, "every message arrived once");
    frames.sort();
    looks.sort();
    println!("{recipients} recipients to aiosmtpd on 127.0.0.1, one SMTP connection per sending pass");
    println!(
        "sending: {:.1} s, {:.0} messages/s, sender peak RSS {} MB",
        took.as_secs_f64(),
        f64::from(recipients) / took.as_secs_f64(),
        usage.ru_maxrss / 1024
    );
    println!(
        "console meanwhile (120×40, {} key presses): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms  (target p99 < 16 ms)",
        frames.len(),
        percentile(&frames, 0.5).as_secs_f64() * 1e3,
        percentile(&frames, 0.99).as_secs_f64() * 1e3,
        frames.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
    println!(
        "the console's look at the changing file (every 0.5 s, {} looks): p50 {:.2} ms, p99 {:.2} ms",
        looks.len(),
        percentile(&looks, 0.5).as_secs_f64() * 1e3,
        percentile(&looks, 0.99).as_secs_f64() * 1e3
    );
}
