//! The console: `muster` with no subcommand. A tokio event loop over crossterm's event stream
//! that draws only when something changed, collapses bursts of resize events, notices other
//! processes' changes through `PRAGMA data_version`, and always gives the terminal back.

pub mod alerts;
pub mod attendance;
pub mod audit;
pub mod columns;
pub mod console;
pub mod home;
pub mod inbox;
pub mod keymap;
pub mod messages;
pub mod onboarding;
pub mod overlay;
pub mod pane;
pub mod payroll;
pub mod reports;
pub mod students;
pub mod sync;
pub mod theme;
pub mod waiting;
pub mod window;

use crate::app::{App, Clock};
use crate::config::Config;
use console::{Console, Flow, Settings};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, EventStream};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use futures_core::Stream;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often other processes' changes are looked for.
const POLL: Duration = Duration::from_millis(500);
/// How long a burst of resize events may last before the frame is redrawn.
const RESIZE_SETTLE: Duration = Duration::from_millis(40);

impl Settings {
    pub fn from_config(config: &Config) -> anyhow::Result<Settings> {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let keymap = keymap::Keymap::new(&config.keys).map_err(anyhow::Error::msg)?;
        let theme = theme::Theme::from_settings(
            config.theme.name.as_deref().unwrap_or("default"),
            &config.theme.colours,
            no_color,
        )
        .map_err(anyhow::Error::msg)?;
        let mail = config.mail.as_ref().map(|m| m.host.clone());
        Ok(Settings { keymap, theme, sync: None, mail })
    }
}

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(std::io::stdout(), DisableMouseCapture, LeaveAlternateScreen, crossterm::cursor::Show);
}

/// Runs the console until the person quits. `background` opens a second connection for the
/// daily alert job (admins' consoles only).
pub fn run(
    app: App,
    actor: crate::app::Actor,
    config: &Config,
    background: Option<(PathBuf, Box<dyn Clock>)>,
) -> anyhow::Result<()> {
    let mut settings = Settings::from_config(config)?;
    let stop = Arc::new(AtomicBool::new(false));
    // A site laptop's replica syncs with its hub in the background while the console is open.
    let syncing = match app.replica_of()? {
        Some(_) => {
            let handle = crate::sync::background::Handle::default();
            settings.sync = Some(handle.clone());
            let os = crate::app::identity::os_account()?;
            Some(crate::sync::background::spawn(app.path().to_path_buf(), os, handle, stop.clone()))
        }
        None => None,
    };
    let mut console = Console::new(app, actor, settings)?;
    let engine = background.map(|(path, clock)| spawn_engine(path, clock, config, stop.clone())).transpose()?;

    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous_hook(info);
    }));
    // From here on the screen shows waits; a line on stderr would land in the middle of it.
    crate::store::busy::report_waits_on_stderr(false);
    enable_raw_mode()?;
    // Keys typed before the console showed anything (while it waited for an import, or on a
    // slow link) were typed at nothing: acted on now, `1 a ⏎` would acknowledge an alert unseen.
    // SAFETY: tcflush only discards the terminal's pending input; stdin may not be a terminal.
    unsafe { libc::tcflush(libc::STDIN_FILENO, libc::TCIFLUSH) };
    execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    crate::store::busy::show_waits_on_this_thread(Some(Box::new(waiting::show)));
    let result = (|| {
        let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(event_loop(&mut terminal, &mut console))
    })();
    crate::store::busy::show_waits_on_this_thread(None);
    restore_terminal();
    stop.store(true, Ordering::Relaxed);
    if let Some(engine) = engine {
        let _ = engine.join();
    }
    if let Some(syncing) = syncing {
        let _ = syncing.join();
    }
    result
}

async fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<std::io::Stdout>>,
    console: &mut Console,
) -> anyhow::Result<()> {
    let mut events = EventStream::new();
    let mut poll = tokio::time::interval(POLL);
    terminal.draw(|frame| console.draw(frame))?;
    console.after_first_frame()?;
    let mut settle: Option<tokio::time::Instant> = None;
    loop {
        let redraw_at = settle;
        tokio::select! {
            event = std::future::poll_fn(|cx| Pin::new(&mut events).poll_next(cx)) => match event {
                None => break,
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(crossterm::event::Event::Resize(..))) => {
                    settle = Some(tokio::time::Instant::now() + RESIZE_SETTLE);
                    continue;
                }
                Some(Ok(event)) => {
                    if console.handle(event)? == Flow::Quit {
                        break;
                    }
                }
            },
            _ = poll.tick() => console.poll_changes()?,
            _ = async { if let Some(at) = redraw_at { tokio::time::sleep_until(at).await } else { std::future::pending::<()>().await } } => {
                settle = None;
                terminal.autoresize()?;
                console.dirty = true;
            }
        }
        if waiting::drew() {
            // The bottom line written over is not in ratatui's picture of the screen: draw it all again.
            terminal.clear()?;
            console.dirty = true;
        }
        if console.dirty && settle.is_none() {
            terminal.draw(|frame| console.draw(frame))?;
            console.dirty = false;
        }
    }
    Ok(())
}

/// The background task inside the console: its own connection, the daily job on schedule, the
/// messages and scheduled reports that are due (as `muster daemon` does; a run is marked before
/// it is made, so a daemon and consoles running together make each report once).
fn spawn_engine(
    path: PathBuf,
    clock: Box<dyn Clock>,
    config: &Config,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    let run_at = config.alerts.run_at()?;
    let os = crate::app::identity::os_account()?;
    let mut app = App::open(&path, crate::store::OpenMode::Existing, clock, crate::app::identity::this_origin(&os))?;
    let actor = crate::app::Actor::system();
    let mut sender = config.mail.as_ref().map(crate::mail::Sender::new).transpose()?;
    Ok(std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match crate::engine::catch_up(&mut app, &actor, run_at) {
                Ok(done) => done.iter().for_each(|line| tracing::info!("alert job: {line}")),
                Err(e) => tracing::error!("alert job: {e}"),
            }
            let (busy, said) =
                crate::engine::send_mail(&mut app, &actor, &mut sender, &|| stop.load(Ordering::Relaxed));
            for line in said.into_iter().chain(crate::engine::make_reports(&mut app, &actor, &mut sender)) {
                tracing::info!("{line}");
            }
            // Every minute, every couple of seconds while messages wait, and at once when the
            // file changed (a message queued on the screen's connection goes within a second).
            let seen = app.data_version().ok();
            for _ in 0..if busy { 10 } else { 300 } {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
                if sender.is_some() && app.data_version().ok() != seen {
                    break;
                }
            }
        }
    }))
}
