//! The user's settings file (`~/.config/muster/config.toml`): only what they change, the rest
//! default. An example with every setting is in `assets/config.toml`.

use anyhow::Context;
use chrono::NaiveTime;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub alerts: AlertsConfig,
    /// Console keys to change: action name → key, e.g. `ack = "A"`.
    pub keys: HashMap<String, String>,
    pub theme: ThemeConfig,
    /// The SMTP server messages go out through; without it they wait as `queued`.
    pub mail: Option<crate::mail::MailConfig>,
}

/// `name = "monochrome"`, and single colours such as `critical = "light-red"`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ThemeConfig {
    pub name: Option<String>,
    #[serde(flatten)]
    pub colours: HashMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// Local time of day the background task runs the daily alert job, `HH:MM`.
    pub run_at: String,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig { run_at: "06:00".into() }
    }
}

impl AlertsConfig {
    pub fn run_at(&self) -> anyhow::Result<NaiveTime> {
        NaiveTime::parse_from_str(&self.run_at, "%H:%M")
            .with_context(|| format!("alerts.run_at = \"{}\" is not a time of day such as \"06:00\"", self.run_at))
    }
}

pub fn path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "muster").map(|dirs| dirs.config_dir().join("config.toml"))
}

/// Reads the settings file; no file means every default.
pub fn load() -> anyhow::Result<Config> {
    let Some(path) = path().filter(|p| p.exists()) else { return Ok(Config::default()) };
    // The caller's own file, read with the caller's rights even when muster runs setuid.
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut crate::app::identity::open_as_caller(&path).with_context(|| format!("cannot read {}", path.display()))?,
        &mut text,
    )
    .with_context(|| format!("cannot read {}", path.display()))?;
    let config: Config = toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
    config.alerts.run_at()?;
    if let Some(mail) = &config.mail {
        mail.check().with_context(|| format!("[mail] in {}", path.display()))?;
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_is_changed_needs_to_be_written() {
        let config: Config = toml::from_str("").unwrap();
        assert_eq!(config.alerts.run_at().unwrap(), NaiveTime::from_hms_opt(6, 0, 0).unwrap());
        let config: Config = toml::from_str("[alerts]\nrun_at = \"05:30\"\n").unwrap();
        assert_eq!(config.alerts.run_at().unwrap(), NaiveTime::from_hms_opt(5, 30, 0).unwrap());
    }

    #[test]
    fn mistakes_are_named() {
        assert!(toml::from_str::<Config>("[alerts]\nrun_time = \"05:30\"\n").is_err());
        let config: Config = toml::from_str("[alerts]\nrun_at = \"half past five\"\n").unwrap();
        assert!(config.alerts.run_at().unwrap_err().to_string().contains("06:00"));
    }

    #[test]
    fn the_shipped_example_parses() {
        let config: Config = toml::from_str(include_str!("../assets/config.toml")).unwrap();
        config.alerts.run_at().unwrap();
    }
}
