//! Syncing a replica while the console is open: a thread of its own (its own connection, its
//! own `ssh`) syncs every few minutes and whenever the person asks, and leaves what happened
//! where the console reads it. The console never waits on the network.

use super::Hub;
use crate::app::identity::OsAccount;
use crate::app::{App, SystemClock};
use crate::store::OpenMode;
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a replica syncs on its own while the hub answers.
const EVERY: Duration = Duration::from_secs(180);

/// What the console shows about syncing.
#[derive(Debug, Clone, Default)]
pub struct SyncState {
    /// When the last sync succeeded.
    pub last_ok: Option<DateTime<Utc>>,
    /// Why the last attempt failed, when it did (the hub unreachable, a refusal).
    pub last_error: Option<String>,
    pub running: bool,
}

/// The console's end: the state, and a way to ask for a sync now.
#[derive(Clone, Default)]
pub struct Handle {
    pub state: Arc<Mutex<SyncState>>,
    requested: Arc<AtomicBool>,
}

impl Handle {
    pub fn request(&self) {
        self.requested.store(true, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> SyncState {
        self.state.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// Starts syncing the replica at `path` in the background, until `stop`.
pub fn spawn(path: PathBuf, os: OsAccount, handle: Handle, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut next = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            if Instant::now() >= next || handle.requested.swap(false, Ordering::Relaxed) {
                if let Ok(mut state) = handle.state.lock() {
                    state.running = true;
                }
                let result = sync_once(&path, &os);
                if let Ok(mut state) = handle.state.lock() {
                    state.running = false;
                    match result {
                        Ok(said) => {
                            tracing::info!("sync: {said}");
                            state.last_ok = Some(Utc::now());
                            state.last_error = None;
                        }
                        Err(e) => {
                            tracing::warn!("sync: {e:#}");
                            state.last_error = Some(format!("{e:#}"));
                        }
                    }
                }
                next = Instant::now() + EVERY;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })
}

/// `muster daemon` on a replica: syncs as the console would, saying each outcome on stderr,
/// until SIGTERM or Ctrl-C.
pub fn run_until_stopped(path: PathBuf, os: OsAccount) -> anyhow::Result<()> {
    let handle = Handle::default();
    let stop = Arc::new(AtomicBool::new(false));
    let syncing = spawn(path, os, handle.clone(), stop.clone());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut said: Option<(Option<DateTime<Utc>>, Option<String>)> = None;
        loop {
            let state = handle.snapshot();
            let now = (state.last_ok, state.last_error.clone());
            if !state.running && (state.last_ok.is_some() || state.last_error.is_some()) && said.as_ref() != Some(&now)
            {
                match &state.last_error {
                    Some(error) => eprintln!("muster daemon: sync failed: {error}"),
                    None => eprintln!("muster daemon: synced with the hub"),
                }
                said = Some(now);
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = terminate.recv() => break,
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        anyhow::Ok(())
    })?;
    stop.store(true, Ordering::Relaxed);
    let _ = syncing.join();
    eprintln!("muster daemon: stopped");
    Ok(())
}

fn sync_once(path: &std::path::Path, os: &OsAccount) -> anyhow::Result<String> {
    let origin = crate::app::identity::this_origin(os);
    let mut app = App::open(path, OpenMode::Existing, Box::new(SystemClock), origin)?;
    let actor = app.sign_in(os, None)?.actor;
    let (hub, ..) = app.replica_of()?.ok_or_else(|| anyhow::anyhow!("this file is not a replica"))?;
    let mut connection = Hub::connect_quietly(&super::stored_address(&hub)?)?;
    connection.sync(&mut app, &actor)
}
