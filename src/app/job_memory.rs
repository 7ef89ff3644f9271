//! What the days of one run of the alert job share. A catch-up of 30 days read the same programs,
//! the same enrollments, each day's attendance twice (as that day's marks, then as the "present
//! on the session day before" of the days after), each login up to four times (once per day of
//! the no-login window it fell in) and every live alert it had just written. None of that
//! changes but by the job's own hand, so what one day read (and wrote) serves the next, until
//! another connection commits: then SQLite's `data_version` moves and the next day reads afresh.
//! A day that starts with nothing kept (the daily run) reads half of it on a second connection.

use super::{Ctx, Result};
use crate::domain::alerts::{AlertType, DayMark};
use crate::domain::calendar::{EnrollmentDays, ProgramCalendar};
use crate::store::alerts::{self as store_alerts, LiveAlert};
use crate::store::engine::{self, ActiveEnrollment};
use crate::store::ids::{IdMap, IdSet};
use chrono::{Days, NaiveDate};
use rusqlite::{Connection, OpenFlags};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::thread::JoinHandle;

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
    /// The present days and logins being read on another connection, when this was read cold.
    prefetch: Option<Prefetch>,
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
    /// otherwise the calendars and enrollments read now, and what `day` will ask of the present
    /// days and logins being read on another connection meanwhile (see `Prefetch`).
    pub fn recall(ctx: &Ctx, day: NaiveDate) -> Result<JobMemory> {
        let data_version = ctx.tx.pragma_query_value(None, "data_version", |r| r.get(0))?;
        if let Some(kept) = ctx.job_memory.and_then(|slot| slot.take())
            && kept.data_version == data_version
        {
            return Ok(kept);
        }
        let calendars = engine::program_calendars(ctx.tx)?;
        let prefetch = Prefetch::start(ctx, &calendars, day)?;
        Ok(JobMemory {
            data_version,
            enrollments: engine::active_enrollments(ctx.tx)?,
            calendars,
            present: PresentOn::default(),
            logins: LoginMemory::default(),
            live: LiveAfter::default(),
            kept: ctx.job_memory.is_some(),
            prefetch,
        })
    }

    /// Takes in what was read on the other connection, waiting for it if need be. Called before
    /// the rules first ask for a present day or a login.
    pub fn settle_prefetch(&mut self) -> Result<()> {
        let Some(prefetch) = self.prefetch.take() else { return Ok(()) };
        let Prefetched { present, logins } = match prefetch.0.join() {
            Ok(Ok(read)) => read,
            // Whatever kept the second connection from reading, the job's own reads the same
            // rows when the rules ask for them, and reports what goes wrong there.
            Ok(Err(_)) => return Ok(()),
            Err(panic) => std::panic::resume_unwind(panic),
        };
        self.present.0.extend(present);
        self.logins.0 = Some(logins);
        Ok(())
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
            Some(known) if known.since <= since && known.through == day => known,
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

/// Who was present on the session days before a day and each student's latest login in its
/// no-login window, read on a connection of its own while the job reads the enrollments, the
/// day's marks and the live alerts on its own: on a churn day each half is about a tenth of a
/// second, and the machine has a second core. Both see the same data: the job holds the write
/// lock before this starts, and what it writes before taking this in is not yet committed.
struct Prefetch(JoinHandle<Result<Prefetched>>);

struct Prefetched {
    present: Vec<(NaiveDate, IdSet<(i64, i64)>)>,
    logins: LoginDays,
}

impl Prefetch {
    /// Starts reading what `day` will ask for: the session day before it of each program that
    /// meets on it (an enrollment's is its program's, or none), and the logins of the no-login
    /// window, as `no_login` reads them.
    fn start(ctx: &Ctx, calendars: &HashMap<i64, ProgramCalendar>, day: NaiveDate) -> Result<Option<Prefetch>> {
        // A database with no file of its own has nothing a second connection could open; and a
        // second connection would not see what a batch wrote before (the job never runs in one:
        // it does not travel from a device).
        let Some(path) = ctx.tx.path().filter(|p| !p.is_empty()).map(str::to_string) else { return Ok(None) };
        if ctx.in_batch() {
            return Ok(None);
        }
        let mut present_days: Vec<NaiveDate> = calendars
            .values()
            .filter(|calendar| calendar.is_session_day(day))
            .filter_map(|calendar| {
                EnrollmentDays { program: calendar, start: calendar.start, end: None }.session_day_before(day)
            })
            .collect();
        present_days.sort_unstable();
        present_days.dedup();
        let warn = store_alerts::thresholds(ctx.tx, AlertType::NoLogin)?.warn;
        let since = day - Days::new(u64::from(warn));
        let login_days: Vec<NaiveDate> = since.iter_days().take_while(|d| *d <= day).collect();
        let starts: Vec<String> = login_days.iter().map(|d| instant(ctx.zone.day_start(*d))).collect();
        let until = instant(ctx.zone.day_end(day));
        let read = move || -> Result<Prefetched> {
            let conn = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
            )?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            // One snapshot for every read.
            conn.execute_batch("BEGIN")?;
            let present =
                present_days.into_iter().map(|d| Ok((d, engine::present_on(&conn, d)?))).collect::<Result<_>>()?;
            let latest = engine::latest_login_day(&conn, &starts, &until)?
                .into_iter()
                .map(|(s, i)| (s, login_days[i]))
                .collect();
            Ok(Prefetched { present, logins: LoginDays { since, through: day, latest } })
        };
        // Without a thread the job's own connection reads it all, as it would have.
        Ok(std::thread::Builder::new().name("job reads".to_string()).spawn(read).ok().map(Prefetch))
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
