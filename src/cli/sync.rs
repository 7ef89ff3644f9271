//! `muster sync …` on a site laptop and `muster sync-serve` on the hub.

use super::Cli;
use crate::app::identity;
use crate::sync::{Hub, HubAddress};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Reach the hub and say who it sees at this end, and how long a round trip takes
    Ping(HubArgs),
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
    fn address(&self) -> HubAddress {
        match (&self.hub, &self.hub_command) {
            (Some(hub), _) => hub.clone(),
            (None, Some(command)) => HubAddress::Command(command.clone()),
            (None, None) => unreachable!("clap requires one of them"),
        }
    }
}

pub fn sync(_cli: &Cli, command: &SyncCommand) -> anyhow::Result<()> {
    match command {
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

/// The hub's end of a connection, on stdin/stdout, as the account the connection arrived as.
pub fn serve(cli: &Cli) -> anyhow::Result<()> {
    if cli.as_login.is_some() {
        anyhow::bail!("sync-serve acts as the account the connection arrives as; --as is not taken");
    }
    let path = super::database_path(cli)?;
    crate::sync::serve(&path, &identity::os_account()?)
}
