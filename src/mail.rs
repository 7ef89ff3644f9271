//! The sender: takes the messages that are due, one recipient at a time, through the SMTP server
//! of the `[mail]` settings. Runs in `muster daemon`, in an admin's console (on its background
//! connection, never the UI's thread) and in `muster message deliver`; a lock file beside the
//! database keeps it to one sender at a time.
//!
//! Each recipient: `ClaimRecipient` (checks, renders, commits `sending`), the SMTP transaction
//! with no transaction open on the database, then `RecordDelivery` with what the server said.

use crate::app::messages::{Delivery, Outgoing};
use crate::app::{Actor, App, AppError, Command, Outcome, Progress};
use anyhow::{Context, bail};
use lettre::Transport;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::SmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How the connection to the server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which must succeed (no plaintext fallback).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// No encryption: only to a server on this machine.
    None,
}

/// `[mail]` in the settings file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    pub host: String,
    pub port: Option<u16>,
    #[serde(default)]
    pub security: Security,
    /// The From address, `Name <address>` or `address`.
    pub from: String,
    pub user: Option<String>,
    /// The environment variable holding the password.
    pub password_env: Option<String>,
    /// A file holding the password, readable only by its owner.
    pub password_file: Option<PathBuf>,
    /// First wait after a temporary failure, in seconds; it doubles with each attempt.
    #[serde(default = "default_retry")]
    pub retry_after_secs: u64,
    /// How long to wait for the server at each step, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_retry() -> u64 {
    30
}

fn default_timeout() -> u64 {
    30
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl MailConfig {
    /// Refuses settings that would send in plaintext across a network or cannot work.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.security == Security::None && !is_loopback(&self.host) {
            bail!(
                "security = \"none\" would send mail and passwords in plaintext to {}; muster allows it only to a \
                 server on this machine (localhost, 127.0.0.1, ::1). Use \"starttls\" or \"tls\"",
                self.host
            );
        }
        self.from.parse::<Mailbox>().with_context(|| format!("from = \"{}\" is not an e-mail address", self.from))?;
        if self.password_env.is_some() && self.password_file.is_some() {
            bail!("give password_env or password_file, not both");
        }
        if (self.password_env.is_some() || self.password_file.is_some()) && self.user.is_none() {
            bail!("a password needs a user");
        }
        Ok(())
    }

    /// The password from the environment or the owner-only file; never logged.
    fn password(&self) -> anyhow::Result<Option<String>> {
        if let Some(var) = &self.password_env {
            let value = std::env::var(var).with_context(|| format!("the environment variable {var} is not set"))?;
            return Ok(Some(value));
        }
        let Some(path) = &self.password_file else { return Ok(None) };
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        if meta.mode() & 0o077 != 0 || meta.uid() != uid {
            bail!(
                "{} may be read by others; a password file must be yours and readable only by you (chmod 600)",
                path.display()
            );
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(Some(text.trim_end_matches(['\r', '\n']).to_string()))
    }
}

/// An SMTP connection's settings, ready to send.
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
    retry_after_secs: u64,
}

impl Mailer {
    pub fn new(config: &MailConfig) -> anyhow::Result<Mailer> {
        config.check()?;
        let host = config.host.as_str();
        let builder = match config.security {
            Security::Starttls => SmtpTransport::starttls_relay(host)?,
            Security::Tls => SmtpTransport::relay(host)?,
            Security::None => SmtpTransport::builder_dangerous(host).port(25),
        };
        let mut builder = builder.timeout(Some(Duration::from_secs(config.timeout_secs.max(1))));
        if let Some(port) = config.port {
            builder = builder.port(port);
        }
        if let (Some(user), Some(password)) = (&config.user, config.password()?) {
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Mailer { transport: builder.build(), from: config.from.parse()?, retry_after_secs: config.retry_after_secs })
    }

    /// One message, and what became of it.
    pub fn send(&self, message: &Outgoing) -> Delivery {
        let email = match self.build(message) {
            Ok(email) => email,
            Err(why) => return Delivery::Permanent { reason: why },
        };
        match self.transport.send(&email) {
            Ok(_) => Delivery::Sent,
            Err(e) if e.is_permanent() => Delivery::Permanent { reason: smtp_reason(&e) },
            Err(e) => Delivery::Transient { reason: smtp_reason(&e), retry_after_secs: self.retry_after_secs },
        }
    }

    fn build(&self, message: &Outgoing) -> Result<Message, String> {
        let to = format!("{} <{}>", message.to_name.replace(['<', '>', '"'], ""), message.to_address)
            .parse::<Mailbox>()
            .map_err(|_| format!("{} is not a valid e-mail address", message.to_address))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&message.subject)
            .message_id(Some(message.message_id.clone()))
            .header(ContentType::TEXT_PLAIN);
        if let Some((name, address)) = &message.reply_to
            && let Ok(reply_to) = format!("{} <{address}>", name.replace(['<', '>', '"'], "")).parse::<Mailbox>()
        {
            builder = builder.reply_to(reply_to);
        }
        builder.body(message.body.clone()).map_err(|e| e.to_string())
    }
}

/// The server's own words where it gave any, else what went wrong on the way.
fn smtp_reason(e: &lettre::transport::smtp::Error) -> String {
    let text = e.to_string();
    let source = std::error::Error::source(e).map(|s| s.to_string());
    match source {
        Some(s) if !text.contains(&s) => format!("{text}: {s}"),
        _ => text,
    }
}

/// What one pass of the sender did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub sent: usize,
    pub failed: usize,
    pub retrying: usize,
    pub skipped: usize,
    /// Left `sending` by a stopped process, now `unknown`.
    pub unknown: usize,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} sent, {} failed, {} to try again, {} skipped",
            self.sent, self.failed, self.retrying, self.skipped
        )?;
        if self.unknown > 0 {
            write!(f, "; {} left unconfirmed by an earlier stop are now unknown (not resent)", self.unknown)?;
        }
        Ok(())
    }
}

/// Held while this process sends: one sender per database at a time, so that one sender never
/// takes another's `sending` recipients for interrupted ones.
pub struct SenderLock {
    _file: std::fs::File,
}

impl SenderLock {
    /// The lock, or `None` when another process is sending.
    pub fn try_take(db: &Path) -> anyhow::Result<Option<SenderLock>> {
        use std::os::fd::AsRawFd;
        let mut name = db.as_os_str().to_owned();
        name.push(".mail-lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(PathBuf::from(&name))
            .with_context(|| format!("cannot open {}", PathBuf::from(&name).display()))?;
        // SAFETY: flock on a descriptor we own; released when the file is closed.
        let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        Ok(taken.then_some(SenderLock { _file: file }))
    }
}

/// Sends every message due now, until there are none or `stop` says so. The caller holds the
/// sender lock; the first pass after taking it settles what a stopped sender left `sending`.
pub fn deliver_due(
    app: &mut App,
    actor: &Actor,
    mailer: &Mailer,
    first_pass: bool,
    stop: &dyn Fn() -> bool,
    progress: &dyn Progress,
) -> Result<Report, AppError> {
    let mut report = Report::default();
    if first_pass && let Outcome::MailSettled { unknown } = app.execute(actor, Command::SettleInterruptedMail)? {
        report.unknown = unknown;
    }
    let (waiting, _) = app.messages_waiting()?;
    progress.start("sending", u64::try_from(waiting).unwrap_or(0));
    'passes: loop {
        let due = app.due_messages(actor, 200)?;
        if due.is_empty() {
            break;
        }
        for id in due {
            if stop() {
                break 'passes;
            }
            let Outcome::Claimed(claimed) = app.execute(actor, Command::ClaimRecipient { id })? else { continue };
            let Some(message) = claimed else {
                report.skipped += 1;
                progress.advance(1);
                continue;
            };
            let delivery = mailer.send(&message);
            match &delivery {
                Delivery::Sent => report.sent += 1,
                Delivery::Permanent { .. } => report.failed += 1,
                Delivery::Transient { .. } => report.retrying += 1,
            }
            app.execute(actor, Command::RecordDelivery { id, delivery })?;
            progress.advance(1);
        }
    }
    progress.finish();
    Ok(report)
}

/// The sender inside a long-running process (the daemon, an admin's console): takes the lock
/// when it is free and keeps it, and sends in passes short enough to stop promptly.
pub struct Sender {
    mailer: Mailer,
    lock: Option<SenderLock>,
}

/// How long one pass sends before it lets its process look at signals and schedules.
const PASS: Duration = Duration::from_secs(5);

impl Sender {
    pub fn new(config: &MailConfig) -> anyhow::Result<Sender> {
        Ok(Sender { mailer: Mailer::new(config)?, lock: None })
    }

    /// Sends what is due, for at most a few seconds or until `stop`. `None` when another process
    /// holds the sender lock. Returns whether more is due right now.
    pub fn pass(
        &mut self,
        app: &mut App,
        actor: &Actor,
        stop: &dyn Fn() -> bool,
    ) -> anyhow::Result<Option<(Report, bool)>> {
        if app.is_replica() {
            return Ok(None);
        }
        let first_pass = self.lock.is_none();
        if first_pass {
            self.lock = SenderLock::try_take(app.path())?;
            if self.lock.is_none() {
                return Ok(None);
            }
        }
        let started = std::time::Instant::now();
        let out_of_time = || stop() || started.elapsed() > PASS;
        let report = deliver_due(app, actor, &self.mailer, first_pass, &out_of_time, &crate::app::Quiet)?;
        let more = !app.due_messages(actor, 1)?.is_empty();
        Ok(Some((report, more)))
    }
}
