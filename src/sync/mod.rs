//! Offline sync between a site laptop's muster file (a replica) and the organisation's (the
//! hub). This module is the laptop's side: `Hub::connect` (through the system `ssh` or any
//! command), `clone_into` (a new replica of the person's scope), and `sync` (push the outbox,
//! then pull the scope, or learn in one round trip that nothing changed). The protocol's frames
//! are in `frame`, the hub's side in `serve`, files for sites with no network in `bundle`, the
//! console's and daemon's periodic sync in `background`. The identity on the hub is always the
//! account the connection arrives as, never a name the laptop sends.

pub mod background;
mod bundle;
pub mod frame;
mod serve;

pub use bundle::{apply_reply, write_bundle};
pub use serve::{receive, serve};

use crate::app::identity::OsAccount;
use crate::app::{App, SystemClock};
use crate::store::OpenMode;
use anyhow::{Context, bail};
use frame::Message;
use std::io::{BufReader, BufWriter};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::time::{Duration, Instant};

/// Where the hub is: `ssh://LOGIN@HOST[:PORT]/PATH/TO/hub.db`, or a command that speaks the
/// protocol on its stdin/stdout (another tunnel, or a local `muster sync-serve` in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubAddress {
    Ssh { login: Option<String>, host: String, port: Option<u16>, path: String },
    Command(String),
}

impl std::str::FromStr for HubAddress {
    type Err = String;

    fn from_str(text: &str) -> Result<HubAddress, String> {
        let wrong = || format!("'{text}' is not a hub address: write ssh://LOGIN@HOST[:PORT]/PATH/TO/hub.db");
        let rest = text.strip_prefix("ssh://").ok_or_else(wrong)?;
        let (authority, path) = rest.split_once('/').ok_or_else(wrong)?;
        let (login, host_port) = match authority.rsplit_once('@') {
            Some((login, host)) if !login.is_empty() => (Some(login.to_string()), host),
            Some(_) => return Err(wrong()),
            None => (None, authority),
        };
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port.parse::<u16>().map_err(|_| wrong())?)),
            None => (host_port, None),
        };
        // Nothing the remote shell could read as more than a name and a path.
        let plain = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || "._-/~".contains(c));
        if host.is_empty()
            || path.is_empty()
            || !plain(host)
            || !plain(path)
            || login.as_deref().is_some_and(|l| !plain(l))
        {
            return Err(wrong());
        }
        Ok(HubAddress::Ssh { login, host: host.to_string(), port, path: format!("/{path}") })
    }
}

/// A connection to the hub, hello said.
pub struct Hub {
    child: Child,
    /// Taken (closed) when the connection is let go.
    to: Option<BufWriter<ChildStdin>>,
    /// Taken (closed) when the connection is let go, so a hub still writing stops.
    from: Option<BufReader<ChildStdout>>,
    pub protocol: u32,
    /// The hub's muster version.
    pub hub_version: String,
}

impl Hub {
    pub fn connect(address: &HubAddress) -> anyhow::Result<Hub> {
        Hub::connect_with(address, Stdio::inherit())
    }

    /// `connect`, with what ssh or the hub say on stderr thrown away (under the console, whose
    /// screen it would scribble on; the outcome is reported all the same).
    pub fn connect_quietly(address: &HubAddress) -> anyhow::Result<Hub> {
        Hub::connect_with(address, Stdio::null())
    }

    fn connect_with(address: &HubAddress, stderr: Stdio) -> anyhow::Result<Hub> {
        let mut command = match address {
            HubAddress::Ssh { login, host, port, path } => {
                // MUSTER_SSH_COMMAND replaces `ssh` (with its options), as GIT_SSH_COMMAND does.
                let configured = std::env::var("MUSTER_SSH_COMMAND").unwrap_or_default();
                let mut words = configured.split_whitespace();
                let mut ssh = std::process::Command::new(words.next().unwrap_or("ssh"));
                ssh.args(words);
                // Never a password prompt mixed into the protocol: keys and agents only.
                ssh.args(["-o", "BatchMode=yes"]);
                // A pull is JSON that compresses about eightfold: a slow site link feels it.
                ssh.args(["-o", "Compression=yes"]);
                if let Some(port) = port {
                    ssh.arg("-p").arg(port.to_string());
                }
                let target = match login {
                    Some(login) => format!("{login}@{host}"),
                    None => host.clone(),
                };
                ssh.arg(target).args(["muster", "--db", path, "sync-serve"]);
                ssh
            }
            HubAddress::Command(line) => {
                let mut shell = std::process::Command::new("sh");
                shell.arg("-c").arg(line);
                shell
            }
        };
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("cannot start the connection to the hub ({address:?})"))?;
        let to = Some(BufWriter::new(child.stdin.take().context("the hub connection has no input")?));
        let from = Some(BufReader::new(child.stdout.take().context("the hub connection has no output")?));
        let mut hub = Hub { child, to, from, protocol: 0, hub_version: String::new() };
        // The hub's hello is read even when ours could not be sent: a hub that says why it
        // will not talk (another protocol, no database) has usually closed its end already.
        let sent = hub.send(&frame::hello());
        let theirs = match hub.receive() {
            Ok(Some(message)) => message,
            Ok(None) => bail!("the hub closed the connection before saying hello (is muster installed there?)"),
            Err(e) => bail!("the hub did not say hello: {e}"),
        };
        if let Message::Error { message } = &theirs {
            bail!("the hub refused: {message}");
        }
        hub.protocol = frame::agree(&theirs, "this muster", "the hub").map_err(anyhow::Error::msg)?;
        // Ours not sent means the hub has closed its end; what it said before it did (a clone's
        // rows cut short) is still read, and the request after this says what went wrong. Failing
        // here instead depended on whether the hub had closed before or after our hello went.
        if let Err(e) = sent {
            tracing::debug!("our hello did not reach the hub: {e}");
        }
        if let Message::Hello { muster, .. } = theirs {
            hub.hub_version = muster;
        }
        Ok(hub)
    }

    fn receive(&mut self) -> Result<Option<Message>, frame::FrameError> {
        match self.from.as_mut() {
            Some(from) => frame::read(from),
            None => Ok(None),
        }
    }

    fn send(&mut self, message: &Message) -> anyhow::Result<()> {
        let to = self.to.as_mut().context("the connection to the hub is closed")?;
        // Said in words: a broken pipe to the hub is a failed sync, not a reader of our output
        // who went away (which `main` ends quietly).
        frame::write(to, message).map_err(|e| anyhow::anyhow!("cannot reach the hub: {e}"))
    }

    /// One request and its answer; the hub's refusal is an error with its reason.
    fn ask(&mut self, request: &Message) -> anyhow::Result<Message> {
        // A hub that already said why it stopped has closed its end: its word beats our EPIPE.
        let sent = self.send(request);
        match self.receive() {
            Ok(Some(Message::Error { message })) => bail!("the hub refused: {message}"),
            Ok(Some(answer)) => sent.map(|()| answer),
            Ok(None) => {
                sent?;
                bail!("the hub closed the connection")
            }
            Err(e) => bail!("the hub's answer could not be read: {e}"),
        }
    }

    /// A round trip: who the hub sees at this end, and how long the trip took.
    pub fn ping(&mut self) -> anyhow::Result<(String, String, Duration)> {
        let started = Instant::now();
        match self.ask(&Message::Ping)? {
            Message::Pong { login, role } => Ok((login, role, started.elapsed())),
            other => bail!("the hub answered a ping with {other:?}"),
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        // Closing its input ends the hub's loop; it is waited for so no process is left behind.
        drop(self.to.take());
        drop(self.from.take());
        let _ = self.child.wait();
    }
}

impl Hub {
    /// Makes `path`, a new file, a replica of the connecting person's scope on the hub: the
    /// device is registered there, every row arrives in one transaction, and the file is then
    /// recorded as this account's replica. Anything short of that leaves no file behind.
    pub fn clone_into(&mut self, path: &Path, device_name: &str, hub: &str, os: &OsAccount) -> anyhow::Result<String> {
        if path.exists() {
            bail!("{} already exists: a replica is made in a new file", path.display());
        }
        let made = self.receive_clone(path, device_name, hub, os);
        if made.is_err() {
            crate::store::remove_unfinished(path);
        }
        made
    }

    fn receive_clone(&mut self, path: &Path, device_name: &str, hub: &str, os: &OsAccount) -> anyhow::Result<String> {
        // Whatever the hub manages to say is read even if the request could not be sent whole:
        // its refusal, or the rows it had begun to send, tell more than the broken pipe.
        let _ = self.send(&Message::Clone { name: device_name.to_string() });
        let mut store = crate::store::Store::open(path, OpenMode::CreateIfMissing)?;
        let tx = store.conn_mut().transaction()?;
        // The new schema comes with the organisation's defaults (thresholds, rates): the hub's
        // replace them.
        crate::store::replica::clear_scope(&tx)?;
        let (device, login, mark) = loop {
            match self.receive() {
                Ok(Some(Message::Rows { table, columns, rows })) => {
                    crate::store::replica::write_rows(&tx, &table, &columns, &rows)?
                }
                Ok(Some(Message::CloneDone { device, login, mark })) => break (device, login, mark),
                Ok(Some(Message::Error { message })) => bail!("the hub refused: {message}"),
                Ok(Some(other)) => bail!("the hub sent {other:?} in the middle of a clone"),
                Ok(None) => bail!("the hub closed the connection in the middle of the clone; nothing was kept"),
                Err(e) => bail!("the clone was cut: {e}; nothing was kept"),
            }
        };
        tx.commit()?;
        drop(store);
        let mut app =
            App::open(path, OpenMode::Existing, Box::new(SystemClock), crate::app::identity::this_origin(os))?;
        let of = crate::app::replica::ReplicaOf {
            hub: hub.to_string(),
            device: device.clone(),
            login: login.clone(),
            os_account: os.login.clone(),
            mark,
        };
        app.adopt_replica(of)?;
        Ok(format!("{} is a replica of {hub} for {login} (device {device} there)", path.display()))
    }
}

impl Hub {
    /// A sync: the replica's waiting changes go to the hub, in order, and come back applied or
    /// rejected; then the hub's current rows of the scope replace the replica's copy. Says what
    /// happened.
    pub fn sync(&mut self, app: &mut App, actor: &crate::app::Actor) -> anyhow::Result<String> {
        let (_, device, _) =
            app.replica_of()?.context("this file is not a replica; make one with `muster sync clone`")?;
        let entries = app.outbox(actor, Some("waiting"))?;
        // What was pushed changed the hub (and the replica's own guesses): the pull compares
        // whatever the mark says.
        let entries_sent = !entries.is_empty();
        let mut said = Vec::new();
        if !entries.is_empty() {
            let verdicts = match self.ask(&Message::Push { device: device.clone(), entries })? {
                Message::Pushed { verdicts } => verdicts,
                other => bail!("the hub answered a push with {other:?}"),
            };
            said.push(app.execute(actor, crate::app::Command::SettleOutbox { verdicts })?.to_string());
        }
        let since = if entries_sent { None } else { app.replica_mark()? };
        self.send(&Message::Pull { device, since, have: None, compare: true })?;
        // When something changed the hub asks what the replica holds, and sends only what
        // differs; a hub that does not compare answers with the whole scope at once.
        let first = match self.receive() {
            Ok(Some(Message::Compare)) => {
                self.send(&Message::Have(app.replica_digests(actor)?))?;
                None
            }
            Ok(Some(answer)) => Some(answer),
            Ok(None) => bail!("the hub's answer ends in the middle of the pull; the replica is as it was"),
            Err(e) => bail!("the pull was cut: {e}; the replica is as it was"),
        };
        let from = self.from.as_mut().context("the connection to the hub is closed")?;
        let pulled = read_pull(first, from)?;
        said.push(app.execute(actor, replace_scope(pulled))?.to_string());
        Ok(said.join("; "))
    }
}

/// The hub's rows of the scope, its mark, and what the rows replace when the pull compared
/// digests; or `None` when nothing changed there.
type Pulled =
    Option<(Vec<(String, Vec<String>, crate::store::replica::Rows)>, i64, Option<crate::store::pull::Changed>)>;

/// The command that takes a pull's answer into the replica.
pub(super) fn replace_scope(pulled: Pulled) -> crate::app::Command {
    match pulled {
        Some((tables, mark, changed)) => crate::app::Command::ReplaceScope { tables: Some(tables), mark, changed },
        None => crate::app::Command::ReplaceScope { tables: None, mark: 0, changed: None },
    }
}

/// Reads a pull's answer, from `first` if it was read already: what the rows replace, the rows
/// table by table, then the mark; or that nothing changed.
pub(super) fn read_pull(first: Option<Message>, from: &mut impl std::io::Read) -> anyhow::Result<Pulled> {
    let mut tables: Vec<(String, Vec<String>, crate::store::replica::Rows)> = Vec::new();
    let mut changed = None;
    let mut first = first.map(|m| Ok(Some(m)));
    loop {
        match first.take().unwrap_or_else(|| frame::read(from)) {
            Ok(Some(Message::Changed(what))) if changed.is_none() && tables.is_empty() => changed = Some(what),
            Ok(Some(Message::Rows { table, columns, rows })) => match tables.last_mut() {
                Some((last, _, kept)) if *last == table => kept.extend(rows),
                _ => tables.push((table, columns, rows)),
            },
            Ok(Some(Message::Pulled { mark })) => return Ok(Some((tables, mark, changed))),
            Ok(Some(Message::Unchanged)) => return Ok(None),
            Ok(Some(Message::Error { message })) => bail!("the hub refused: {message}"),
            Ok(Some(other)) => bail!("the hub sent {other:?} in the middle of a pull"),
            Ok(None) => bail!("the hub's answer ends in the middle of the pull; the replica is as it was"),
            Err(e) => bail!("the pull was cut: {e}; the replica is as it was"),
        }
    }
}

/// Where a replica's hub is, as `sync clone` wrote it down.
pub fn stored_address(hub: &str) -> anyhow::Result<HubAddress> {
    match hub.strip_prefix("command: ") {
        Some(command) => Ok(HubAddress::Command(command.to_string())),
        None => hub.parse().map_err(anyhow::Error::msg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_addresses_are_ssh_urls_with_nothing_a_shell_would_read() {
        let parsed: HubAddress = "ssh://ws_01@hub.example.org:2222/srv/muster/hub.db".parse().unwrap();
        assert_eq!(
            parsed,
            HubAddress::Ssh {
                login: Some("ws_01".into()),
                host: "hub.example.org".into(),
                port: Some(2222),
                path: "/srv/muster/hub.db".into()
            }
        );
        let plain: HubAddress = "ssh://hub/~/muster.db".parse().unwrap();
        assert!(matches!(plain, HubAddress::Ssh { login: None, port: None, .. }));
        for wrong in ["hub:/x.db", "ssh://hub", "ssh://@hub/x.db", "ssh://hub:22x/x.db", "ssh://hub/x.db;rm -rf ~"] {
            assert!(wrong.parse::<HubAddress>().is_err(), "{wrong}");
        }
    }
}
