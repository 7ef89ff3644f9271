//! `settings`: organisation-wide settings kept in the database.

use super::{Cli, open_session};
use crate::app::Command;
use crate::store::OpenMode;

#[derive(Debug, clap::Subcommand)]
pub enum SettingsCommand {
    /// Show the settings
    Show,
    /// The time zone every "day" is counted in (session days, logins, "yesterday"): a tz
    /// database name such as America/Chicago, or `machine` to follow this machine's zone
    TimeZone {
        /// America/Chicago, Europe/London, … or machine
        #[arg(value_name = "ZONE")]
        zone: String,
    },
}

pub fn settings(cli: &Cli, cmd: &SettingsCommand) -> anyhow::Result<()> {
    let mut session = open_session(cli, OpenMode::Existing)?;
    match cmd {
        SettingsCommand::Show => {
            let zone = session.app.zone();
            println!("time zone  {} (today is {})", zone.describe(), session.app.today());
        }
        SettingsCommand::TimeZone { zone } => {
            let name = (zone != "machine").then(|| zone.clone());
            println!("{}", session.app.execute(&session.actor, Command::SetTimeZone { name })?);
        }
    }
    Ok(())
}
