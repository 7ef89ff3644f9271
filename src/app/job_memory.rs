//! What the days of one run of the alert job share. A catch-up of 30 days read the same programs,
//! the same enrollments, each day's attendance twice (as that day's marks, then as the "present
//! on the session day before" of the days after), each login up to four times (once per day of
//! the no-login window it fell in) and every live alert it had just written. None of that
//! changes but by the job's own hand, so what one day read (and wrote) serves the next, until
//! another connection commits: then SQLite's `data_version` moves and the next day reads afresh.

use super::{Ctx, Result};
use crate::domain::alerts::{AlertType, DayMark};
use crate::domain::calendar::ProgramCalendar;
use crate::store::alerts::{self as store_alerts, LiveAlert};
use crate::store::engine::{self, ActiveEnrollment};
use crate::store::ids::{IdMap, IdSet};
use chrono::{Days, NaiveDate};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// How far back the present days are kept: the session day before a day is at most a few days
/// earlier on every schedule; one further back (after a long closure) is read when asked for.
const PRESENT_DAYS_KEPT: u64 = 7;

/// What the job read for a day, kept for the next while the file is as it was.
pub(crate) struct JobMemory {
    /// `data_version` when this was read: it moves when another connection commits.
    data_version: i64,
    pub calendars: HashMap<i64, ProgramCalendar>,
    /// Every active enrollment, in student order, each student's by start.
    pub enrollments: Vec<ActiveEnrollment>,
    pub present: PresentOn,
    pub logins: LoginMemory,
    pub live: LiveAfter,
    /// Whether a day after this one will use it (a run of several days).
    pub kept: bool,
}

/// Each student's latest login day, as far as it was read.
#[derive(Default)]
pub(crate) struct LoginMemory(Option<LoginDays>);

/// The organisation's day of each student's latest login, among those from the start of
/// `since` to the end of `through`.
struct LoginDays {
    since: NaiveDate,
    through: NaiveDate,
    latest: IdMap<i64, NaiveDate>,
}

impl JobMemory {
    /// What the previous day of this run left, when no other connection has committed since;
    /// otherwise the calendars and enrollments read now.
    pub fn recall(ctx: &Ctx) -> Result<JobMemory> {
        let data_version = ctx.tx.pragma_query_value(None, "data_version", |r| r.get(0))?;
        if let Some(kept) = ctx.job_memory.and_then(|slot| slot.take())
            && kept.data_version == data_version
        {
            return Ok(kept);
        }
        Ok(JobMemory {
            data_version,
            calendars: engine::program_calendars(ctx.tx)?,
            enrollments: engine::active_enrollments(ctx.tx)?,
            present: PresentOn::default(),
            logins: LoginMemory::default(),
            live: LiveAfter::default(),
            kept: ctx.job_memory.is_some(),
        })
    }

    /// Keeps this for the run's next day. Only a day that ran to its end keeps it: a day that
    /// failed may have read half of what it meant to.
    pub fn keep(self, ctx: &Ctx) {
        if let Some(slot) = ctx.job_memory {
            slot.replace(Some(self));
        }
    }
}

impl LoginMemory {
    /// Each student's latest login day from `since` through `day`: for the day after the one
    /// remembered, only that day's logins are read.
    pub fn days(&mut self, ctx: &Ctx, since: NaiveDate, day: NaiveDate) -> Result<&IdMap<i64, NaiveDate>> {
        let until = instant(ctx.zone.day_end(day));
        let logins = match self.0.take() {
            Some(mut known) if known.since <= since && known.through.succ_opt() == Some(day) => {
                for student in engine::logged_in_between(ctx.tx, &instant(ctx.zone.day_start(day)), &until)? {
                    known.latest.insert(student, day);
                }
                known.through = day;
                known
            }
            _ => {
                let days: Vec<NaiveDate> = since.iter_days().take_while(|d| *d <= day).collect();
                let starts: Vec<String> = days.iter().map(|d| instant(ctx.zone.day_start(*d))).collect();
                let latest =
                    engine::latest_login_day(ctx.tx, &starts, &until)?.into_iter().map(|(s, i)| (s, days[i])).collect();
                LoginDays { since, through: day, latest }
            }
        };
        Ok(&self.0.insert(logins).latest)
    }
}

/// An instant as logins are stored: RFC 3339 UTC to the second, which sorts by time.
pub(super) fn instant(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Who was present on a day, read once per day asked about.
#[derive(Default)]
pub(crate) struct PresentOn(HashMap<NaiveDate, IdSet<(i64, i64)>>);

impl PresentOn {
    pub fn get(&mut self, ctx: &Ctx, day: NaiveDate) -> Result<&IdSet<(i64, i64)>> {
        Ok(match self.0.entry(day) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => new.insert(engine::present_on(ctx.tx, day)?),
        })
    }

    /// Notes who was present on `day`, from its marks, for the days after it; forgets the days
    /// too old to be asked about again.
    pub fn remember(&mut self, day: NaiveDate, marks: &IdMap<(i64, i64), DayMark>) {
        let present = marks.iter().filter(|(_, mark)| **mark == DayMark::Present).map(|(key, _)| *key).collect();
        self.0.insert(day, present);
        let oldest = day - Days::new(PRESENT_DAYS_KEPT);
        self.0.retain(|kept, _| *kept >= oldest);
    }
}

/// The live alerts of each kind as the day before left them: its reconciliation knows what it
/// wrote, so the next day need not read them back.
#[derive(Default)]
pub(crate) struct LiveAfter {
    missing_attendance: Option<IdMap<i64, LiveAlert>>,
    no_login: Option<IdMap<i64, LiveAlert>>,
}

impl LiveAfter {
    fn slot(&mut self, kind: AlertType) -> &mut Option<IdMap<i64, LiveAlert>> {
        match kind {
            AlertType::MissingAttendance => &mut self.missing_attendance,
            AlertType::NoLogin => &mut self.no_login,
        }
    }

    /// The live alerts of `kind`, keyed as `store::alerts::live` keys them: as the day before
    /// left them, or read.
    pub fn take(&mut self, ctx: &Ctx, kind: AlertType) -> Result<IdMap<i64, LiveAlert>> {
        match self.slot(kind).take() {
            Some(known) => Ok(known),
            None => Ok(store_alerts::live(ctx.tx, kind)?),
        }
    }

    /// Keeps the live alerts of `kind` as this day leaves them, for the next.
    pub fn keep(&mut self, kind: AlertType, live: IdMap<i64, LiveAlert>) {
        *self.slot(kind) = Some(live);
    }
}
