//! The organisation's time zone: what "a day" means for session days, logins and "yesterday"
//! (SPEC "Days and times"). A setting kept in the database, so every person and job using one
//! file agrees on it; by default the machine's zone.
//!
//! A process running setuid (the shared-server deployment) ignores the caller's `TZ`: the
//! caller must not be able to move the organisation's days.

use chrono::{DateTime, Days, NaiveDate, Utc};

pub struct OrgZone {
    /// `None`: the machine's zone.
    name: Option<String>,
    tz: tz::TimeZone,
}

impl std::fmt::Debug for OrgZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OrgZone({})", self.describe())
    }
}

impl OrgZone {
    /// The machine's zone: `TZ` (unless setuid), else `/etc/localtime`, else UTC.
    pub fn machine() -> OrgZone {
        // tz-rs's `TimeZone::local` reads /etc/localtime only: TZ is read here.
        let from_env = std::env::var("TZ").ok().filter(|tz| !tz.is_empty() && !super::identity::running_setuid());
        let tz = match from_env {
            Some(tz) => tz::TimeZone::from_posix_tz(&tz).ok(),
            None => std::fs::read("/etc/localtime").ok().and_then(|bytes| tz::TimeZone::from_tz_data(&bytes).ok()),
        };
        OrgZone { name: None, tz: tz.unwrap_or_else(tz::TimeZone::utc) }
    }

    /// A zone of the tz database by name, such as `America/Los_Angeles`, or `UTC`.
    pub fn named(name: &str) -> Result<OrgZone, String> {
        let well_formed = !name.is_empty()
            && name.len() <= 64
            && !name.starts_with('/')
            && !name.split('/').any(|part| part.is_empty() || part == "..")
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c));
        let unknown = || {
            format!(
                "'{}' is not a time zone this machine knows: use a tz database name such as America/Chicago or UTC",
                crate::domain::text::shown(name)
            )
        };
        if !well_formed {
            return Err(unknown());
        }
        if name == "UTC" {
            return Ok(OrgZone { name: Some(name.into()), tz: tz::TimeZone::utc() });
        }
        // Only files of the tz database, never a POSIX rule string that happens to parse.
        let bytes = ["/usr/share/zoneinfo", "/share/zoneinfo", "/etc/zoneinfo"]
            .iter()
            .find_map(|dir| std::fs::read(format!("{dir}/{name}")).ok())
            .ok_or_else(unknown)?;
        let tz = tz::TimeZone::from_tz_data(&bytes).map_err(|_| unknown())?;
        Ok(OrgZone { name: Some(name.into()), tz })
    }

    /// How people read the setting: the name, or that it follows the machine.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => "the machine's time zone".into(),
        }
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    fn offset_at(&self, unix: i64) -> i64 {
        self.tz.as_ref().find_local_time_type(unix).map_or(0, |t| i64::from(t.ut_offset()))
    }

    /// The organisation's date at an instant.
    pub fn date_of(&self, at: DateTime<Utc>) -> NaiveDate {
        let local = at.timestamp().saturating_add(self.offset_at(at.timestamp()));
        DateTime::from_timestamp(local, 0).map_or(at.date_naive(), |t| t.date_naive())
    }

    /// The first instant of `day` in the organisation's zone.
    pub fn day_start(&self, day: NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp());
        let guess = midnight - self.offset_at(midnight);
        let start = midnight - self.offset_at(guess);
        let at = DateTime::from_timestamp(start, 0).unwrap_or_default();
        // Where the clocks skip midnight the day begins at the first hour that exists.
        if self.date_of(at) < day { at + chrono::Duration::hours(1) } else { at }
    }

    /// The instant a wall-clock time in the organisation's zone names.
    pub fn at_local(&self, local: chrono::NaiveDateTime) -> DateTime<Utc> {
        let wall = local.and_utc().timestamp();
        let guess = wall - self.offset_at(wall);
        DateTime::from_timestamp(wall - self.offset_at(guess), 0).unwrap_or_default()
    }

    /// An instant as people in the organisation read it: `2026-11-23 01:30 UTC-08:00`.
    pub fn wall_clock(&self, at: DateTime<Utc>) -> String {
        let offset = self.offset_at(at.timestamp());
        let local = DateTime::from_timestamp(at.timestamp().saturating_add(offset), 0).unwrap_or(at);
        let sign = if offset < 0 { '-' } else { '+' };
        let (hours, minutes) = (offset.abs() / 3600, offset.abs() % 3600 / 60);
        format!("{} UTC{sign}{hours:02}:{minutes:02}", local.format("%Y-%m-%d %H:%M"))
    }

    /// The first instant after `day`.
    pub fn day_end(&self, day: NaiveDate) -> DateTime<Utc> {
        match day.checked_add_days(Days::new(1)) {
            Some(next) => self.day_start(next),
            None => DateTime::<Utc>::MAX_UTC,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_evening_login_in_california_counts_for_that_day() {
        let la = OrgZone::named("America/Los_Angeles").unwrap();
        assert_eq!(la.date_of(at("2026-03-03T04:30:00Z")), d("2026-03-02"), "8:30 pm on the 2nd, PST");
        assert_eq!(la.day_start(d("2026-03-02")), at("2026-03-02T08:00:00Z"));
        assert_eq!(la.day_start(d("2026-07-02")), at("2026-07-02T07:00:00Z"), "summer time");
        assert_eq!(la.day_end(d("2026-03-07")), at("2026-03-08T08:00:00Z"), "the night the clocks go forward");
        let utc = OrgZone::named("UTC").unwrap();
        assert_eq!(utc.date_of(at("2026-03-03T04:30:00Z")), d("2026-03-03"));
    }

    #[test]
    fn only_tz_database_names_are_zones() {
        for bad in ["", "../../etc/passwd", "/etc/localtime", "Mars/Olympus", "EST5EDT,M3.2.0,M11.1.0", "a\u{1b}b"] {
            assert!(OrgZone::named(bad).is_err(), "{bad}");
        }
        assert!(OrgZone::named("Europe/Berlin").is_ok());
    }
}
