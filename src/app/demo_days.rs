//! The demo's last days as they would have happened: each day's alert job runs the next
//! morning, and the partners look at their inbox in working hours and acknowledge what it opened
//! about their students, some within hours, some after a weekend, some never. Run all at the
//! instant the demo was made, every alert was minutes old and none acknowledged, so the inbox's
//! ages, the at-risk report and the alert-response report had nothing to show. The audit trail
//! lists the demo's setup first, stamped when it was made, then these days, stamped when they
//! would have happened.

use super::{Actor, App, Command, FixedClock, Outcome, Progress, Quiet, Result, Triage};
use crate::domain::demo::Rng;
use crate::domain::{Role, User};
use crate::store;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};
use std::collections::{BTreeMap, HashSet};

/// The organisation's time the job runs, the morning after the day it processes.
const JOB_RUNS_AT: (u32, u32) = (6, 30);
/// Of the alerts the job opens, the share somebody means to acknowledge.
const SHARE_TAKEN_UP: f64 = 0.8;
/// At each look at the inbox, the chance an alert waiting for that partner is acknowledged then.
const TAKEN_AT_A_LOOK: f64 = 0.6;

/// What the demo's days did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoDays {
    pub days: usize,
    pub opened: usize,
    pub acknowledged: usize,
}

/// When in a working day a partner looks at their inbox.
struct Habit {
    user: User,
    /// Minutes after 8:00 of the first look, and of an afternoon one for those who make it.
    looks: Vec<u32>,
    /// The chance they do not look at all on a working day.
    skips: f64,
}

impl App {
    /// Runs the job for `first..=through`, each day at the next morning, with the partners'
    /// acknowledgements in between; only the last day makes digests. Needs an admin. Nothing
    /// happens after `now`; the app's clock is its own again afterwards.
    pub fn play_demo_days(
        &mut self,
        admin: &Actor,
        seed: u64,
        (first, through): (NaiveDate, NaiveDate),
        now: DateTime<Utc>,
        progress: &dyn Progress,
    ) -> Result<DemoDays> {
        self.require_admin(admin, "play the demo's days")?;
        let habits = self.partner_habits(admin, seed)?;
        let real_clock = std::mem::replace(&mut self.clock, Box::new(FixedClock(now)));
        let played = self.play_days(admin, &habits, seed, (first, through), now, progress);
        self.clock = real_clock;
        played
    }

    fn play_days(
        &mut self,
        admin: &Actor,
        habits: &BTreeMap<String, Habit>,
        seed: u64,
        (first, through): (NaiveDate, NaiveDate),
        now: DateTime<Utc>,
        progress: &dyn Progress,
    ) -> Result<DemoDays> {
        let mut rng = Rng::new(seed ^ 0x5DEE_CE66_D1CE_4E5B);
        let morning_after = |app: &App, day: NaiveDate| {
            let (hour, minute) = JOB_RUNS_AT;
            let at = NaiveTime::from_hms_opt(hour, minute, 0).expect("a time of day");
            app.zone.at_local(day.succ_opt().unwrap_or(day).and_time(at)).min(now)
        };
        let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= through).collect();
        progress.start("the demo's days, as they happened", days.len() as u64);
        let mut played = DemoDays { days: days.len(), ..DemoDays::default() };
        // The alerts each partner means to acknowledge, in the order they were opened.
        let mut waiting: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for &day in &days {
            let morning = morning_after(self, day);
            self.clock = Box::new(FixedClock(morning));
            let outcomes = self.run_job(admin, day, day, &Quiet, day == through)?;
            let Some(Outcome::AlertsRun { changes: Some(changes), .. }) = outcomes.into_iter().next() else {
                progress.advance(1);
                continue;
            };
            played.opened += changes.opened.len();
            let resolved: HashSet<i64> = changes.resolved.iter().copied().collect();
            waiting.values_mut().for_each(|ids| ids.retain(|id| !resolved.contains(id)));
            for &id in &changes.opened {
                if let Some(login) = self.taken_up_by(admin, habits, id, &mut rng)? {
                    waiting.entry(login).or_default().push(id);
                }
            }
            let next_morning = if day == through { now } else { morning_after(self, day.succ_opt().unwrap_or(day)) };
            for (at, login) in looks_on(self, habits, day.succ_opt().unwrap_or(day), &mut rng) {
                if at <= morning || at > next_morning {
                    continue;
                }
                let Some(ids) = waiting.get_mut(login) else { continue };
                let (taken, left): (Vec<i64>, Vec<i64>) = ids.iter().partition(|_| rng.chance(TAKEN_AT_A_LOOK));
                *ids = left;
                if taken.is_empty() {
                    continue;
                }
                self.clock = Box::new(FixedClock(at));
                let partner = Actor { person: habits[login].user.clone(), acting_as: None };
                if let Outcome::Triaged { changed, .. } =
                    self.execute(&partner, Command::Triage { ids: taken, action: Triage::Ack, note: None })?
                {
                    played.acknowledged += changed.len();
                }
            }
            progress.advance(1);
        }
        progress.finish();
        Ok(played)
    }

    /// Which of the alert's student's partners means to acknowledge it, if anybody does.
    fn taken_up_by<'a>(
        &self,
        admin: &Actor,
        habits: &'a BTreeMap<String, Habit>,
        alert: i64,
        rng: &mut Rng,
    ) -> Result<Option<&'a str>> {
        if !rng.chance(SHARE_TAKEN_UP) {
            return Ok(None);
        }
        let student = store::alerts::get(self.store.conn(), admin.user(), alert)?.student;
        let partners: Vec<&str> = store::users::who_may_see(self.store.conn(), student)?
            .iter()
            .filter_map(|login| habits.get_key_value(login).map(|(key, _)| key.as_str()))
            .collect();
        Ok((!partners.is_empty()).then(|| *rng.pick(&partners)))
    }

    /// The partners who may act (onboarded), each with a habit drawn from the demo's seed.
    fn partner_habits(&self, admin: &Actor, seed: u64) -> Result<BTreeMap<String, Habit>> {
        let conn = self.store.conn();
        let mut rng = Rng::new(seed ^ 0x2545_F491_4F6C_DD1D);
        let mut habits = BTreeMap::new();
        for user in store::users::list(conn, admin.user())? {
            if user.role == Role::Admin || !store::users::onboarding_complete(conn, &user)? {
                continue;
            }
            // Most look once in the morning, half of them again after lunch; one in four is
            // slow, looking on about half of their working days.
            let mut looks = vec![rng.below(150) as u32];
            if rng.chance(0.5) {
                looks.push(300 + rng.below(180) as u32);
            }
            let skips = if rng.chance(0.25) { 0.5 } else { 0.1 };
            habits.insert(user.login.clone(), Habit { user, looks, skips });
        }
        Ok(habits)
    }
}

/// Who looks at their inbox on `day`, and when, in order; nobody on a weekend.
fn looks_on<'a>(
    app: &App,
    habits: &'a BTreeMap<String, Habit>,
    day: NaiveDate,
    rng: &mut Rng,
) -> Vec<(DateTime<Utc>, &'a str)> {
    if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        return Vec::new();
    }
    let eight = day.and_time(NaiveTime::from_hms_opt(8, 0, 0).expect("a time of day"));
    let mut looks: Vec<(DateTime<Utc>, &str)> = Vec::new();
    for (login, habit) in habits {
        if rng.chance(habit.skips) {
            continue;
        }
        for &minutes in &habit.looks {
            looks.push((app.zone.at_local(eight + chrono::Duration::minutes(minutes.into())), login.as_str()));
        }
    }
    looks.sort();
    looks
}
