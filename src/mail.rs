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
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{SmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

/// The SMTP server and one connection to it, kept open between messages of a pass.
pub struct Mailer {
    host: String,
    port: u16,
    security: Security,
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    timeout: Duration,
    hello: ClientId,
    from: Mailbox,
    retry_after_secs: u64,
    connection: Option<(SmtpConnection, Instant)>,
}

/// A connection idle this long is asked whether it is still there before it is used again.
const IDLE_CHECK: Duration = Duration::from_secs(5);

impl Mailer {
    pub fn new(config: &MailConfig) -> anyhow::Result<Mailer> {
        config.check()?;
        let tls = match config.security {
            Security::None => None,
            Security::Starttls | Security::Tls => Some(TlsParameters::new(config.host.clone())?),
        };
        let default_port = match config.security {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        };
        let credentials = match (&config.user, config.password()?) {
            (Some(user), Some(password)) => Some(Credentials::new(user.clone(), password)),
            _ => None,
        };
        Ok(Mailer {
            host: config.host.clone(),
            port: config.port.unwrap_or(default_port),
            security: config.security,
            tls,
            credentials,
            timeout: Duration::from_secs(config.timeout_secs.max(1)),
            hello: ClientId::default(),
            from: config.from.parse()?,
            retry_after_secs: config.retry_after_secs,
            connection: None,
        })
    }

    /// A new connection: TLS from the start, or STARTTLS that must succeed; then the login.
    fn connect(&self) -> Result<SmtpConnection, lettre::transport::smtp::Error> {
        let wrapper = self.tls.as_ref().filter(|_| self.security == Security::Tls);
        let mut connection =
            SmtpConnection::connect((self.host.as_str(), self.port), Some(self.timeout), &self.hello, wrapper, None)?;
        no_delay_towards(&self.host, self.port);
        if let (Security::Starttls, Some(tls)) = (self.security, &self.tls) {
            connection.starttls(tls, &self.hello)?;
        }
        if let Some(credentials) = &self.credentials {
            connection.auth(&[Mechanism::Plain, Mechanism::Login], credentials)?;
        }
        Ok(connection)
    }

    /// The open connection if it still answers, else a new one.
    fn connection(&mut self) -> Result<SmtpConnection, lettre::transport::smtp::Error> {
        match self.connection.take() {
            Some((connection, _)) if connection.has_broken() => self.connect(),
            Some((mut connection, used)) if used.elapsed() > IDLE_CHECK => {
                if connection.test_connected() {
                    Ok(connection)
                } else {
                    self.connect()
                }
            }
            Some((connection, _)) => Ok(connection),
            None => self.connect(),
        }
    }

    /// One message, and what became of it.
    pub fn send(&mut self, message: &Outgoing) -> Delivery {
        match self.build(message) {
            Ok(email) => self.transmit(&email),
            Err(why) => Delivery::Permanent { reason: why },
        }
    }

    /// A scheduled report: one message to all its recipients with the PDF attached.
    pub fn send_report(&mut self, to: &[String], subject: &str, body: &str, file_name: &str, pdf: Vec<u8>) -> Delivery {
        use lettre::message::{Attachment, MultiPart, SinglePart};
        let mut builder = Message::builder().from(self.from.clone()).subject(subject).message_id(None);
        for address in to {
            match address.parse::<Mailbox>() {
                Ok(mailbox) => builder = builder.to(mailbox),
                Err(_) => return Delivery::Permanent { reason: format!("{address} is not a valid e-mail address") },
            }
        }
        let pdf_type = ContentType::parse("application/pdf").expect("a valid media type");
        let parts = MultiPart::mixed()
            .singlepart(SinglePart::plain(body.to_string()))
            .singlepart(Attachment::new(file_name.to_string()).body(pdf, pdf_type));
        match builder.multipart(parts) {
            Ok(email) => self.transmit(&email),
            Err(e) => Delivery::Permanent { reason: e.to_string() },
        }
    }

    fn transmit(&mut self, email: &Message) -> Delivery {
        let failed = |e: lettre::transport::smtp::Error, retry_after_secs| {
            if e.is_permanent() {
                Delivery::Permanent { reason: smtp_reason(&e) }
            } else {
                Delivery::Transient { reason: smtp_reason(&e), retry_after_secs }
            }
        };
        let mut connection = match self.connection() {
            Ok(connection) => connection,
            Err(e) => return failed(e, self.retry_after_secs),
        };
        match connection.send(email.envelope(), &email.formatted()) {
            Ok(_) => {
                self.connection = Some((connection, Instant::now()));
                Delivery::Sent
            }
            // lettre has already said QUIT on a connection an error broke; it is not kept.
            Err(e) => failed(e, self.retry_after_secs),
        }
    }

    /// Says goodbye to the server at the end of a pass.
    pub fn close(&mut self) {
        if let Some((mut connection, _)) = self.connection.take() {
            let _ = connection.quit();
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

/// Turns Nagle's algorithm off on this process's connections to the server. lettre 0.11.23 leaves
/// it on, so the five bytes that end a message wait for the server's delayed acknowledgement —
/// 40 ms a message, 22 messages a second at best (fixed upstream in lettre pull request 1159,
/// not yet released; remove this with it). The socket is lettre's own, reached through
/// /proc/self/fd; where that does not exist nothing changes but the speed.
fn no_delay_towards(host: &str, port: u16) {
    use std::net::ToSocketAddrs;
    let Ok(peers) = (host, port).to_socket_addrs() else { return };
    let peers: Vec<std::net::SocketAddr> = peers.collect();
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else { return };
    for fd in fds.flatten().filter_map(|e| e.file_name().to_str()?.parse::<libc::c_int>().ok()) {
        if peer_of(fd).is_some_and(|peer| peers.contains(&peer)) {
            let on: libc::c_int = 1;
            // SAFETY: setsockopt on a socket of this process with a pointer to a live c_int and
            // its size; on any other descriptor it fails harmlessly.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::IPPROTO_TCP,
                    libc::TCP_NODELAY,
                    std::ptr::from_ref(&on).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                );
            }
        }
    }
}

/// The address a descriptor's socket is connected to, if it is a connected IP socket.
fn peer_of(fd: libc::c_int) -> Option<std::net::SocketAddr> {
    // SAFETY: getpeername writes at most `len` bytes into the storage we own; any descriptor
    // that is not a connected socket makes it fail.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    if unsafe { libc::getpeername(fd, std::ptr::from_mut(&mut storage).cast(), &mut len) } != 0 {
        return None;
    }
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let v4: libc::sockaddr_in = unsafe { std::ptr::from_ref(&storage).cast::<libc::sockaddr_in>().read() };
            let ip = std::net::Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr));
            Some(std::net::SocketAddr::from((ip, u16::from_be(v4.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let v6: libc::sockaddr_in6 = unsafe { std::ptr::from_ref(&storage).cast::<libc::sockaddr_in6>().read() };
            let ip = std::net::Ipv6Addr::from(v6.sin6_addr.s6_addr);
            Some(std::net::SocketAddr::from((ip, u16::from_be(v6.sin6_port))))
        }
        _ => None,
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
    mailer: &mut Mailer,
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
    mailer.close();
    progress.finish();
    Ok(report)
}

/// The sender inside a long-running process (the daemon, an admin's console): takes the lock
/// when it is free and keeps it, and sends in passes short enough to stop promptly.
pub struct Sender {
    mailer: Mailer,
    lock: Option<SenderLock>,
    /// Whether what a stopped sender left `sending` has been settled since the lock was taken.
    settled: bool,
}

/// How long one pass sends before it lets its process look at signals and schedules.
const PASS: Duration = Duration::from_secs(5);

impl Sender {
    pub fn new(config: &MailConfig) -> anyhow::Result<Sender> {
        Ok(Sender { mailer: Mailer::new(config)?, lock: None, settled: false })
    }

    /// Sends what is due, for at most a few seconds or until `stop`. `None` when another process
    /// holds the sender lock. Returns whether more is due right now.
    pub fn pass(
        &mut self,
        app: &mut App,
        actor: &Actor,
        stop: &dyn Fn() -> bool,
    ) -> anyhow::Result<Option<(Report, bool)>> {
        if !self.hold(app)? {
            return Ok(None);
        }
        let first_pass = !std::mem::replace(&mut self.settled, true);
        let started = std::time::Instant::now();
        let out_of_time = || stop() || started.elapsed() > PASS;
        let report = deliver_due(app, actor, &mut self.mailer, first_pass, &out_of_time, &crate::app::Quiet)?;
        let more = !app.due_messages(actor, 1)?.is_empty();
        Ok(Some((report, more)))
    }

    /// Whether this process is the sender: the lock, taken when free and then kept. Never on a
    /// site laptop, which sends nothing.
    fn hold(&mut self, app: &App) -> anyhow::Result<bool> {
        if app.is_replica() {
            return Ok(false);
        }
        if self.lock.is_none() {
            self.lock = SenderLock::try_take(app.path())?;
        }
        Ok(self.lock.is_some())
    }

    /// Mails the scheduled reports that are due (none while another process is the sender).
    pub fn reports(&mut self, app: &mut App, actor: &Actor) -> anyhow::Result<Vec<String>> {
        if !self.hold(app)? {
            return Ok(Vec::new());
        }
        if !std::mem::replace(&mut self.settled, true) {
            app.execute(actor, Command::SettleInterruptedMail)?;
        }
        Ok(crate::engine::reports::make_due(app, actor, crate::engine::reports::Sink::Mail(&mut self.mailer))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> MailConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn plaintext_is_only_for_this_machine() {
        let local = "host = \"127.0.0.1\"\nsecurity = \"none\"\nfrom = \"a@b.example\"";
        assert!(config(local).check().is_ok());
        let remote = "host = \"smtp.example.org\"\nsecurity = \"none\"\nfrom = \"a@b.example\"";
        assert!(config(remote).check().unwrap_err().to_string().contains("plaintext"));
        let bad_from = "host = \"localhost\"\nfrom = \"not an address\"";
        assert!(config(bad_from).check().unwrap_err().to_string().contains("from"));
    }

    #[test]
    fn a_password_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("smtp-password");
        std::fs::write(&file, "s3cret\n").unwrap();
        let text = format!(
            "host = \"localhost\"\nsecurity = \"none\"\nfrom = \"a@b.example\"\nuser = \"a@b.example\"\npassword_file = \"{}\"",
            file.display()
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = config(&text).password().unwrap_err().to_string();
        assert!(refused.contains("chmod 600") && !refused.contains("s3cret"), "{refused}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(config(&text).password().unwrap().as_deref(), Some("s3cret"));
    }
}
