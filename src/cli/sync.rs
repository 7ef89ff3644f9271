//! `muster sync …` on a site laptop and `muster sync-serve` on the hub.

use super::Cli;
use crate::app::identity;
use crate::sync::{Hub, HubAddress};
use anyhow::Context;
use clap::Subcommand;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SyncArgs {
    #[command(subcommand)]
    pub command: Option<SyncCommand>,
}

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// When this replica last synced, what waits to be sent, and what the hub rejected and why
    Status,
    /// For a site with no network: write what a sync would send (--out), or take the hub's
    /// reply to it (--apply)
    #[command(group(clap::ArgGroup::new("way").required(true).args(["out", "apply"])))]
    Bundle {
        /// A new file for the bundle, to carry to the hub
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
        /// The reply `muster sync receive` wrote on the hub
        #[arg(long, value_name = "FILE")]
        apply: Option<std::path::PathBuf>,
    },
    /// On the hub: answer a laptop's bundle, writing the reply to carry back
    Receive {
        /// The bundle the laptop wrote (`muster sync bundle --out FILE`)
        bundle: std::path::PathBuf,
        /// A new file for the reply
        #[arg(long, value_name = "FILE")]
        reply: std::path::PathBuf,
    },
    /// Reach the hub and say who it sees at this end, and how long a round trip takes
    Ping(HubArgs),
    /// Make a new muster file (--db) on this laptop a replica of your scope on the hub
    Clone {
        #[command(flatten)]
        hub: HubArgs,
        /// What the hub calls this laptop [default: this machine's host name]
        #[arg(long)]
        name: Option<String>,
    },
}

/// The hub's devices (admins).
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Every device that keeps a replica, whose it is and who else may use it
    List,
    /// Let one more person use a device's replica (from its next sync)
    Allow {
        /// The device, as `device list` names it (dev-N)
        device: String,
        /// The person who may use it
        login: String,
    },
    /// Stop serving a device: its syncs are refused from now on
    Revoke {
        /// The device, as `device list` names it (dev-N)
        device: String,
        /// Do not ask first
        #[arg(long)]
        yes: bool,
    },
}

pub fn device(cli: &Cli, command: &DeviceCommand) -> anyhow::Result<()> {
    let mut session = super::open_session(cli, crate::store::OpenMode::Existing)?;
    let change = match command {
        DeviceCommand::List => {
            let devices = session.app.devices(&session.actor)?;
            let columns = ["id", "name", "ssh_login", "allowed", "created_at", "last_seen", "revoked_at"];
            return super::output::emit(&mut std::io::stdout().lock(), cli.format, &columns, &devices);
        }
        DeviceCommand::Allow { device, login } => {
            crate::app::Command::AllowOnDevice { device: device.clone(), login: login.clone() }
        }
        DeviceCommand::Revoke { device, yes } => {
            // Asked only about a device that is served; the rules word any other case.
            let served = session.app.devices(&session.actor)?.into_iter().find(|d| &d.id == device);
            if let Some(served) = served.filter(|d| d.revoked_at.is_none() && !*yes) {
                super::confirm(&format!(
                    "Stop serving {} ({}, cloned by {})? Its syncs are refused from now on; no command serves it again.",
                    served.id, served.name, served.ssh_login
                ))?;
            }
            crate::app::Command::RevokeDevice { device: device.clone() }
        }
    };
    println!("{}", session.app.execute(&session.actor, change)?);
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct HubArgs {
    /// The hub: ssh://LOGIN@HOST[:PORT]/PATH/TO/hub.db (through the system ssh, so keys,
    /// agents and ~/.ssh/config apply)
    #[arg(required_unless_present = "hub_command", conflicts_with = "hub_command", value_parser = parse_hub)]
    pub hub: Option<HubAddress>,
    /// Instead of ssh, run this command and speak the protocol on its stdin/stdout
    #[arg(long, value_name = "CMD")]
    pub hub_command: Option<String>,
}

fn parse_hub(text: &str) -> Result<HubAddress, String> {
    text.parse()
}

impl HubArgs {
    /// How the hub is named in the replica and in messages.
    fn describe(&self) -> String {
        match (&self.hub, &self.hub_command) {
            (Some(HubAddress::Ssh { login, host, port, path }), _) => {
                let login = login.as_deref().map(|l| format!("{l}@")).unwrap_or_default();
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                format!("ssh://{login}{host}{port}{path}")
            }
            (_, Some(command)) => format!("command: {command}"),
            _ => String::new(),
        }
    }

    fn address(&self) -> HubAddress {
        match (&self.hub, &self.hub_command) {
            (Some(hub), _) => hub.clone(),
            (None, Some(command)) => HubAddress::Command(command.clone()),
            (None, None) => unreachable!("clap requires one of them"),
        }
    }
}

pub fn sync(cli: &Cli, args: &SyncArgs) -> anyhow::Result<()> {
    // A hub that goes away is an error to report, not a signal that ends this process unseen.
    // SAFETY: ignoring a signal has no preconditions; no other thread is running yet.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let Some(command) = &args.command else {
        let mut session = super::open_session(cli, crate::store::OpenMode::Existing)?;
        let (hub, ..) =
            session.app.replica_of()?.context("this file is not a replica; make one with `muster sync clone`")?;
        let mut connection = Hub::connect(&crate::sync::stored_address(&hub)?)?;
        println!("{}", connection.sync(&mut session.app, &session.actor)?);
        return Ok(());
    };
    match command {
        SyncCommand::Bundle { out, apply } => {
            let mut session = super::open_session(cli, crate::store::OpenMode::Existing)?;
            let said = match (out, apply) {
                (Some(out), _) => crate::sync::write_bundle(&session.app, &session.actor, out)?,
                (None, Some(reply)) => crate::sync::apply_reply(&mut session.app, &session.actor, reply)?,
                (None, None) => unreachable!("clap requires one of them"),
            };
            println!("{said}");
            Ok(())
        }
        SyncCommand::Receive { bundle, reply } => {
            let path = super::database_path(cli)?;
            crate::sync::receive(&path, &identity::os_account()?, bundle, reply)?;
            println!("the reply is in {}: carry it back and `muster sync bundle --apply` it", reply.display());
            Ok(())
        }
        SyncCommand::Status => {
            let session = super::open_session(cli, crate::store::OpenMode::Existing)?;
            let (hub, device, last) =
                session.app.replica_of()?.context("this file is not a replica; make one with `muster sync clone`")?;
            let waiting = session.app.outbox(&session.actor, Some("waiting"))?;
            let rejected = session.app.outbox(&session.actor, Some("rejected"))?;
            println!("hub: {hub} (this laptop is {device} there)");
            println!("last sync: {last}");
            println!("waiting to be sent: {}", waiting.len());
            println!("rejected by the hub: {}", rejected.len());
            for change in &rejected {
                println!(
                    "  #{} by {} at {}: {}",
                    change.seq,
                    change.author,
                    change.local_time,
                    change.reason.as_deref().unwrap_or("")
                );
                println!("    {}", change.command);
            }
            Ok(())
        }
        SyncCommand::Clone { hub: args, name } => {
            let path = cli.db.clone().context("say where the replica goes with --db PATH (a new file)")?;
            let os = identity::os_account()?;
            let name = match name {
                Some(name) => name.clone(),
                None => hostname(),
            };
            let mut hub = Hub::connect(&args.address())?;
            println!("{}", hub.clone_into(&path, &name, &args.describe(), &os)?);
            Ok(())
        }
        SyncCommand::Ping(args) => {
            let mut hub = Hub::connect(&args.address())?;
            let (login, role, trip) = hub.ping()?;
            println!(
                "hub reachable: muster {} speaking sync protocol {}; it sees you as {login} ({role}); round trip {} ms",
                hub.hub_version,
                hub.protocol,
                trip.as_millis()
            );
            Ok(())
        }
    }
}

/// This machine's name, for the hub's list of devices.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    match rc {
        0 if end > 0 => String::from_utf8_lossy(&buf[..end]).into_owned(),
        _ => "laptop".into(),
    }
}

/// The hub's end of a connection, on stdin/stdout, as the account the connection arrived as.
pub fn serve(cli: &Cli) -> anyhow::Result<()> {
    if cli.as_login.is_some() {
        anyhow::bail!("sync-serve acts as the account the connection arrives as; --as is not taken");
    }
    let path = super::database_path(cli)?;
    crate::sync::serve(&path, &identity::os_account()?)
}
