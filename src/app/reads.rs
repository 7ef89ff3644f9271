//! What a user may look at. Each read checks the same rules as a change would: partners see
//! only their assigned students and, until onboarded, nothing but onboarding.

use super::{Actor, App, AppError, Result};
use chrono::NaiveDate;

/// A student with their attendance since `since`, oldest first.
#[derive(Debug, Clone)]
pub struct StudentContext {
    pub detail: roster::StudentDetail,
    pub recent: Vec<roster::DayRecord>,
    pub since: NaiveDate,
    /// The days since `since` that are session days of one of the student's active enrollments.
    pub session_days: std::collections::BTreeSet<NaiveDate>,
}
use crate::domain::User;
use crate::domain::alerts::{AlertType, Thresholds};
use crate::domain::audit::{AuditEntry, ChainBreak};
use crate::store::alerts::{AlertCursor, AlertEvent, AlertFilter, AlertView, Direction};
use crate::store::{self, roster};

impl App {
    /// Whether the actor may use more than the onboarding screens.
    pub fn is_onboarded(&self, actor: &Actor) -> Result<bool> {
        Ok(store::users::onboarding_complete(self.store.conn(), actor.user())?)
    }

    pub fn users(&self, actor: &Actor) -> Result<Vec<User>> {
        self.require_onboarded(actor)?;
        Ok(store::users::list(self.store.conn(), actor.user())?)
    }

    /// A page of the students the actor may see, after `after` in `student_id` order.
    pub fn students(&self, actor: &Actor, after: &str, limit: usize) -> Result<Vec<roster::StudentSummary>> {
        self.require_onboarded(actor)?;
        Ok(roster::list_students(self.store.conn(), actor.user(), after, limit)?)
    }

    pub fn student(&self, actor: &Actor, student_id: &str) -> Result<roster::StudentDetail> {
        self.require_onboarded(actor)?;
        Ok(roster::student_detail(self.store.conn(), actor.user(), student_id)?)
    }

    pub fn audit_entries(&self, actor: &Actor, after: i64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.audit_entries_matching(actor, after, limit, None)
    }

    /// `audit_entries`, only those whose who, action or what contain `text`.
    pub fn audit_entries_matching(
        &self,
        actor: &Actor,
        after: i64,
        limit: usize,
        text: Option<&str>,
    ) -> Result<Vec<AuditEntry>> {
        self.require_admin(actor, "read the audit log")?;
        Ok(store::audit::list_matching(self.store.conn(), after, limit, text)?)
    }

    /// Up to `limit` entries before `before` (matching `text`), oldest first (admins).
    pub fn audit_entries_before(
        &self,
        actor: &Actor,
        before: i64,
        limit: usize,
        text: Option<&str>,
    ) -> Result<Vec<AuditEntry>> {
        self.require_admin(actor, "read the audit log")?;
        Ok(store::audit::list_before(self.store.conn(), before, limit, text)?)
    }

    /// `Ok(n)`: the chain of n entries is whole (and holds `since`, a head published earlier).
    pub fn verify_audit(
        &self,
        actor: &Actor,
        since: Option<&crate::domain::audit::Head>,
    ) -> Result<std::result::Result<i64, ChainBreak>> {
        self.require_admin(actor, "verify the audit log")?;
        Ok(store::audit::verify(self.store.conn(), self.store.audit_key(), since)?)
    }

    /// The log's last entry, for publishing where its writers cannot reach.
    pub fn audit_head(&self, actor: &Actor) -> Result<Option<crate::domain::audit::Head>> {
        self.require_admin(actor, "read the audit log")?;
        Ok(store::audit::head(self.store.conn())?)
    }

    /// A page of the alerts the actor may see, most severe first, then oldest.
    pub fn alerts(
        &self,
        actor: &Actor,
        filter: &AlertFilter,
        cursor: Option<&AlertCursor>,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<AlertView>> {
        self.require_onboarded(actor)?;
        Ok(store::alerts::list(self.store.conn(), actor.user(), filter, cursor, direction, limit)?)
    }

    /// Every alert the actor may see that `filter` lets through, in inbox order, handed to
    /// `take` as it is read: a list of millions is never held whole. Stops at `take`'s first error.
    pub fn each_alert<E: From<AppError>>(
        &self,
        actor: &Actor,
        filter: &AlertFilter,
        take: impl FnMut(AlertView) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        self.require_onboarded(actor)?;
        streamed(
            |each| {
                store::alerts::each(self.store.conn(), actor.user(), filter, None, Direction::After, usize::MAX, each)
            },
            take,
        )
    }

    /// Live alerts the actor may see, by severity: (critical, escalate, warn).
    pub fn alert_counts(&self, actor: &Actor) -> Result<(u64, u64, u64)> {
        self.require_onboarded(actor)?;
        let conn = self.store.conn();
        let key = (actor.user().login.clone(), self.data_version()?, conn.total_changes());
        if let Some((read_at, counts)) = &*self.counts.borrow()
            && *read_at == key
        {
            return Ok(*counts);
        }
        let counts = store::alerts::live_counts(conn, actor.user())?;
        *self.counts.borrow_mut() = Some((key, counts));
        Ok(counts)
    }

    /// What the console shows beside an alert: the student and their recent days.
    pub fn student_context(&self, actor: &Actor, student_id: &str, days: u64) -> Result<StudentContext> {
        let detail = self.student(actor, student_id)?;
        let key = roster::visible_student(self.store.conn(), actor.user(), student_id)?;
        let since = self.today() - chrono::Days::new(days);
        let recent = roster::recent_attendance(self.store.conn(), key, since)?;
        let calendars = store::engine::program_calendars(self.store.conn())?;
        let enrollments = store::engine::active_enrollments_of(self.store.conn(), key)?;
        let session_days = since
            .iter_days()
            .take_while(|day| *day <= self.today())
            .filter(|day| {
                enrollments.iter().any(|e| {
                    calendars.get(&e.program).is_some_and(|program| {
                        crate::domain::calendar::EnrollmentDays { program, start: e.start, end: e.end }
                            .is_session_day(*day)
                    })
                })
            })
            .collect();
        Ok(StudentContext { detail, recent, since, session_days })
    }

    /// The people an alert may be assigned to: admins and the student's partners, onboarded.
    pub fn assignable(&self, actor: &Actor, alert_id: i64) -> Result<Vec<User>> {
        self.require_onboarded(actor)?;
        let conn = self.store.conn();
        let view = store::alerts::get(conn, actor.user(), alert_id)?;
        let mut people = Vec::new();
        for login in store::users::who_may_see(conn, view.student)? {
            if let Some(user) = store::users::get(conn, &login)?
                && store::users::onboarding_complete(conn, &user)?
            {
                people.push(user);
            }
        }
        Ok(people)
    }

    /// Program IDs of the students the actor may see.
    pub fn program_ids(&self, actor: &Actor) -> Result<Vec<String>> {
        self.require_onboarded(actor)?;
        Ok(roster::visible_program_ids(self.store.conn(), actor.user())?)
    }

    /// The first `limit` attendance records the actor may see, oldest first.
    pub fn attendance(
        &self,
        actor: &Actor,
        filter: &store::activity::AttendanceFilter,
        limit: usize,
    ) -> Result<Vec<store::activity::AttendanceView>> {
        self.require_onboarded(actor)?;
        Ok(store::activity::list_attendance(self.store.conn(), actor.user(), filter, limit)?)
    }

    /// Every record `actor` may see that `filter` lets through, oldest first, handed to `take`
    /// one by one as they are read; the first error `take` returns stops the reading.
    pub fn each_attendance<E: From<AppError>>(
        &self,
        actor: &Actor,
        filter: &store::activity::AttendanceFilter,
        take: impl FnMut(store::activity::AttendanceView) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        self.require_onboarded(actor)?;
        streamed(
            |each| store::activity::each_attendance(self.store.conn(), actor.user(), filter, usize::MAX, each),
            take,
        )
    }

    /// One attendance record with who logged and who decided it, if `actor` may see it.
    pub fn attendance_record(&self, actor: &Actor, id: i64) -> Result<store::activity::AttendanceView> {
        self.require_onboarded(actor)?;
        Ok(store::activity::attendance_record(self.store.conn(), actor.user(), id)?)
    }

    /// Verification turnaround per verifier for records dated `from` to `to` (admins and
    /// coordinators: it is a report about people, not students).
    pub fn turnaround(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<crate::domain::turnaround::Turnaround>> {
        self.require_onboarded(actor)?;
        if !matches!(actor.user().role, crate::domain::Role::Admin | crate::domain::Role::SiteCoordinator) {
            return Err(super::AppError::Denied("turnaround reports are for admins and site coordinators".into()));
        }
        let waits = store::activity::decision_waits(self.store.conn(), from, to)?;
        Ok(waits
            .into_iter()
            .filter_map(|(who, minutes)| {
                let hours = minutes.into_iter().map(|m| m as f64 / 60.0).collect();
                crate::domain::turnaround::summarise(&who, hours)
            })
            .collect())
    }

    /// Whether any snooze has run out, so ending snoozes is worth a write.
    pub fn snoozes_due(&self) -> Result<bool> {
        let now = self.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Ok(!store::alerts::snoozes_ending(self.store.conn(), &now)?.is_empty())
    }

    /// Changes whenever another connection (a colleague, cron, the background task) commits.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self.store.conn().pragma_query_value(None, "data_version", |r| r.get(0))?)
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// One alert and its timeline.
    pub fn alert(&self, actor: &Actor, id: i64) -> Result<(AlertView, Vec<AlertEvent>)> {
        self.require_onboarded(actor)?;
        let view = store::alerts::get(self.store.conn(), actor.user(), id)?;
        let timeline = store::alerts::timeline(self.store.conn(), id)?;
        Ok((view, timeline))
    }

    pub fn thresholds(&self, actor: &Actor) -> Result<Vec<(AlertType, Thresholds)>> {
        self.require_onboarded(actor)?;
        AlertType::ALL.iter().map(|kind| Ok((*kind, store::alerts::thresholds(self.store.conn(), *kind)?))).collect()
    }
}

/// The weekly grid: a row per student and program, a column per day of the week.
#[derive(Debug, Clone)]
pub struct WeekGrid {
    pub monday: NaiveDate,
    pub rows: Vec<WeekRow>,
    /// More students than the grid shows (admins see everyone; the first ones by name).
    pub truncated: bool,
}

#[derive(Debug, Clone)]
pub struct WeekRow {
    pub student: store::activity::WeekStudent,
    /// Monday to Sunday: a session day of the enrollment, and what is logged.
    pub days: [(bool, Option<store::activity::DayEntry>); 7],
    /// Hours to fill a present day with: the student's last present day's, or 6.
    pub usual_hours: f64,
}

/// Rows the grid holds at most.
pub const WEEK_ROWS: usize = 500;

impl App {
    pub fn week(&self, actor: &Actor, monday: NaiveDate) -> Result<WeekGrid> {
        self.require_onboarded(actor)?;
        let conn = self.store.conn();
        let sunday = monday + chrono::Days::new(6);
        let calendars = store::engine::program_calendars(conn)?;
        let students = store::activity::week_students(conn, actor.user(), monday, sunday, WEEK_ROWS + 1)?;
        let truncated = students.len() > WEEK_ROWS;
        let mut rows = Vec::with_capacity(students.len().min(WEEK_ROWS));
        for student in students.into_iter().take(WEEK_ROWS) {
            let logged = store::activity::days_logged(conn, student.student, student.program, monday, sunday)?;
            let days = std::array::from_fn(|i| {
                let day = monday + chrono::Days::new(i as u64);
                let session = calendars.get(&student.program).is_some_and(|calendar| {
                    crate::domain::calendar::EnrollmentDays {
                        program: calendar,
                        start: student.start,
                        end: student.end,
                    }
                    .is_session_day(day)
                });
                (session, logged.iter().find(|d| d.date == day).cloned())
            });
            let usual_hours = store::activity::usual_hours(conn, student.student, student.program)?.unwrap_or(6.0);
            rows.push(WeekRow { student, days, usual_hours });
        }
        Ok(WeekGrid { monday, rows, truncated })
    }

    /// A page of the Students tab, by student_id, after `cursor` (or ending before it).
    pub fn student_overview(
        &self,
        actor: &Actor,
        cursor: &str,
        before: bool,
        text: Option<&str>,
        limit: usize,
    ) -> Result<Vec<roster::StudentOverview>> {
        self.require_onboarded(actor)?;
        Ok(roster::overview(self.store.conn(), actor.user(), cursor, before, text, limit)?)
    }

    /// One student's history: recent attendance, their alerts, their latest logins.
    pub fn student_history(&self, actor: &Actor, student_id: &str) -> Result<StudentHistory> {
        let context = self.student_context(actor, student_id, HISTORY_DAYS)?;
        let filter = AlertFilter { all_statuses: true, student_id: Some(student_id.to_string()), ..Default::default() };
        let alerts = store::alerts::list(self.store.conn(), actor.user(), &filter, None, Direction::After, 20)?;
        let key = roster::visible_student(self.store.conn(), actor.user(), student_id)?;
        let logins = roster::recent_logins(self.store.conn(), key, 10)?;
        Ok(StudentHistory { context, alerts, logins })
    }

    /// When the oldest record waiting for the actor's verification was logged.
    pub fn oldest_pending(&self, actor: &Actor) -> Result<Option<String>> {
        self.require_onboarded(actor)?;
        Ok(store::activity::oldest_pending(self.store.conn(), actor.user())?)
    }

    /// How many records `actor` may see are waiting for verification.
    pub fn pending_count(&self, actor: &Actor) -> Result<u64> {
        self.require_onboarded(actor)?;
        Ok(store::activity::pending_count(self.store.conn(), actor.user())?)
    }
}

/// Days of attendance a student's history shows.
pub const HISTORY_DAYS: u64 = 8 * 7;

#[derive(Debug, Clone)]
pub struct StudentHistory {
    pub context: StudentContext,
    pub alerts: Vec<AlertView>,
    pub logins: Vec<String>,
}

impl App {
    /// A partner's onboarding checklist: the actor's own, or (admins) anyone's.
    pub fn checklist(&self, actor: &Actor, login: Option<&str>) -> Result<super::Checklist> {
        let user = match login {
            Some(login) if login != actor.user().login => {
                self.require_admin(actor, "see other people's onboarding")?;
                store::users::get(self.store.conn(), login)?
                    .ok_or_else(|| super::AppError::NotFound(format!("user '{login}'")))?
            }
            _ => actor.user().clone(),
        };
        super::onboarding::checklist(self.store.conn(), &user)
    }

    /// Every partner's checklist (admins): who is done and what is missing.
    /// How many partners have onboarding steps left, of how many (admins): Home's count, without
    /// building every checklist.
    pub fn partners_with_steps_left(&self, actor: &Actor) -> Result<(usize, usize)> {
        self.require_admin(actor, "see every partner's onboarding")?;
        let conn = self.store.conn();
        let partners: Vec<User> =
            store::users::list(conn, actor.user())?.into_iter().filter(|u| u.role.is_partner()).collect();
        let mut left = 0;
        for partner in &partners {
            if !store::users::onboarding_complete(conn, partner)? {
                left += 1;
            }
        }
        Ok((left, partners.len()))
    }

    pub fn partner_checklists(&self, actor: &Actor) -> Result<Vec<super::Checklist>> {
        self.require_admin(actor, "see every partner's onboarding")?;
        let mut lists = Vec::new();
        for user in store::users::list(self.store.conn(), actor.user())?.into_iter().filter(|u| u.role.is_partner()) {
            lists.push(super::onboarding::checklist(self.store.conn(), &user)?);
        }
        Ok(lists)
    }

    /// A role's package and its responsibilities (code, text), for choosing a role.
    pub fn role_package(&self, role: crate::domain::Role) -> Result<(store::partners::Package, Vec<(String, String)>)> {
        let conn = self.store.conn();
        let package = store::partners::package(conn, role)?
            .ok_or_else(|| super::AppError::NotFound(format!("role package {role}")))?;
        let items = store::partners::items(conn, role)?.into_iter().map(|(_, code, text)| (code, text)).collect();
        Ok((package, items))
    }

    /// How a role is paid, as the role picker shows it: `a 10 % rate (8 to 12 %)`.
    pub fn pay_of(&self, role: crate::domain::Role) -> Result<String> {
        let (model, min, max, default) = store::partners::rate_range(self.store.conn(), role)?;
        Ok(match model.as_str() {
            "percent" => format!("a {default} % rate by default ({min} to {max} %)"),
            _ => format!("{default} USD a month by default ({min} to {max} USD)"),
        })
    }

    /// The actor's rate range: (pay model, min, max, default).
    pub fn rate_range(&self, actor: &Actor) -> Result<(String, f64, f64, f64)> {
        Ok(store::partners::rate_range(self.store.conn(), actor.user().role)?)
    }

    /// The current text of an onboarding document.
    pub fn document(&self, code: &str) -> Result<store::partners::Document> {
        store::partners::latest_document(self.store.conn(), code)?
            .ok_or_else(|| super::AppError::NotFound(format!("document '{code}'")))
    }

    /// Payroll profiles: every one for admins, a partner's own for them.
    pub fn payroll(&self, actor: &Actor, status: Option<&str>) -> Result<Vec<store::partners::PayrollView>> {
        Ok(store::partners::payroll_list(self.store.conn(), actor.user(), status)?)
    }

    /// What a partner's signatures record.
    pub fn signatures(&self, actor: &Actor, login: &str) -> Result<Vec<store::partners::SignatureRecord>> {
        if login != actor.user().login {
            self.require_admin(actor, "see other people's signatures")?;
        }
        Ok(store::partners::signatures(self.store.conn(), login)?)
    }
}

/// Messaging: templates, sendings and their recipients, and what the sender reads.
impl App {
    pub fn templates(&self, actor: &Actor) -> Result<Vec<store::messages::Template>> {
        self.require_onboarded(actor)?;
        Ok(store::messages::templates(self.store.conn(), actor.user())?)
    }

    /// A template rendered for one student the actor may see, as it would be sent now.
    pub fn preview(&self, actor: &Actor, template: &str, student_id: &str) -> Result<(String, String)> {
        self.require_onboarded(actor)?;
        let conn = self.store.conn();
        let user = actor.user();
        let found = store::messages::template(conn, user, template)?
            .ok_or_else(|| super::AppError::NotFound(format!("template '{template}'")))?;
        let student = roster::visible_student(conn, user, student_id)?;
        let (mut values, _, _) = store::messages::student_values(conn, student, self.today())?
            .ok_or_else(|| super::AppError::NotFound(format!("student '{student_id}'")))?;
        values.insert("partner_name", user.name.clone());
        values.insert("partner_email", user.email.clone().unwrap_or_default());
        let render = |text: &str| crate::domain::message::render(text, &values).map_err(super::AppError::Invalid);
        Ok((render(&found.subject)?, render(&found.body)?))
    }

    /// The newest sendings the actor may see: an admin every one, others their own.
    pub fn campaigns(&self, actor: &Actor, limit: usize) -> Result<Vec<store::messages::CampaignView>> {
        self.require_onboarded(actor)?;
        Ok(store::messages::campaigns(self.store.conn(), actor.user(), &self.now_text(), limit)?)
    }

    pub fn campaign(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<(store::messages::CampaignView, Vec<store::messages::RecipientView>)> {
        self.require_onboarded(actor)?;
        let view = store::messages::campaign(self.store.conn(), actor.user(), id, &self.now_text())?;
        let recipients = store::messages::recipients(self.store.conn(), id)?;
        Ok((view, recipients))
    }

    /// Messages of the actor's sendings (an admin's: all) waiting to go, for the tab bar.
    pub fn messages_waiting_for(&self, actor: &Actor) -> Result<i64> {
        self.require_onboarded(actor)?;
        Ok(store::messages::waiting_for(self.store.conn(), actor.user())?)
    }

    /// Whether the actor's daily digest is on.
    pub fn digest_on(&self, actor: &Actor) -> Result<bool> {
        Ok(store::messages::digest_on(self.store.conn(), &actor.user().login)?)
    }

    /// Recipients the sender may try now (admins and the sender itself).
    pub fn due_messages(&self, actor: &Actor, limit: usize) -> Result<Vec<i64>> {
        self.require_admin(actor, "send messages")?;
        Ok(store::messages::due(self.store.conn(), &self.now_text(), limit)?)
    }

    /// How many messages wait, and when the first of them may go.
    pub fn messages_waiting(&self) -> Result<(i64, Option<String>)> {
        Ok(store::messages::waiting(self.store.conn())?)
    }

    /// Whether this file is a site laptop's replica (its messages are sent by the hub).
    pub fn is_replica(&self) -> bool {
        self.replica_device.is_some()
    }

    fn now_text(&self) -> String {
        self.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

/// Notices: alerts about the actor's students that opened or rose since the console last looked.
impl App {
    pub fn last_alert_event(&self) -> Result<i64> {
        Ok(store::alerts::last_event(self.store.conn())?)
    }

    pub fn alert_notices(
        &self,
        actor: &Actor,
        after: i64,
        limit: usize,
    ) -> Result<(Vec<store::alerts::Notice>, usize)> {
        self.require_onboarded(actor)?;
        Ok(store::alerts::notices_since(self.store.conn(), actor.user(), after, limit)?)
    }
}

/// Exports: rows streamed to the caller, scoped like every read.
impl App {
    /// Streams `table`'s rows the actor may see through `each`; the audit log is for admins, and a
    /// program filter names a program the actor may see.
    pub fn export(
        &self,
        actor: &Actor,
        table: store::exports::Table,
        filter: &store::exports::Filter,
        each: &mut dyn FnMut(&[rusqlite::types::Value]) -> bool,
    ) -> Result<u64> {
        self.may_export(actor, table, filter)?;
        Ok(store::exports::stream(self.store.conn(), actor.user(), table, filter, each)?)
    }

    /// Whether the actor may export these rows, asked before anything is written.
    pub fn may_export(
        &self,
        actor: &Actor,
        table: store::exports::Table,
        filter: &store::exports::Filter,
    ) -> Result<()> {
        self.require_onboarded(actor)?;
        if table == store::exports::Table::Audit {
            self.require_admin(actor, "export the audit log")?;
            if filter.program_id.is_some() {
                return Err(super::AppError::Invalid(
                    "the audit log is not kept by program; leave --program out".into(),
                ));
            }
        }
        if let Some(program) = &filter.program_id
            && !roster::visible_program_ids(self.store.conn(), actor.user())?.contains(program)
        {
            return Err(
                store::hidden(actor.user(), &format!("program '{}'", crate::domain::text::shown(program))).into()
            );
        }
        Ok(())
    }
}

impl App {
    /// Every enrollment the actor may see that meets `filter`'s days, for funders' participant
    /// files.
    ///
    /// Each comes with its session days up to the period's end (`--to`), or today: the days
    /// that have passed, and today once its record is in, as the reports count them. Its
    /// attendance is counted up to the same day.
    pub fn export_participations(
        &self,
        actor: &Actor,
        filter: &store::exports::Filter,
        each: &mut dyn FnMut(&store::exports::Participation, u32) -> bool,
    ) -> Result<u64> {
        self.may_export(actor, store::exports::Table::Attendance, filter)?;
        let calendars = store::engine::program_calendars(self.store.conn())?;
        let today = self.today();
        let through = filter.to.map_or(today, |to| to.min(today));
        Ok(store::exports::participations(self.store.conn(), actor.user(), filter, through, &mut |p| {
            let session_days = calendars.get(&p.program).map_or(0, |program| {
                let days = crate::domain::calendar::EnrollmentDays { program, start: p.start, end: p.end };
                let today_unrecorded = through == today && days.is_session_day(today) && !p.recorded_on_last_day;
                days.session_days_through(through) - u32::from(today_unrecorded)
            });
            each(&p, session_days)
        })?)
    }
}

impl App {
    /// Alert response per partner for alerts opened from `from` to `to`: admins see every
    /// partner, a partner their own figures.
    pub fn alert_response(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<crate::domain::turnaround::Response>> {
        self.require_onboarded(actor)?;
        let conn = self.store.conn();
        let only = actor.user().role.is_partner().then_some(actor.user().login.as_str());
        let by_partner = store::alerts::response_times(conn, only, from, to)?;
        let hours = |minutes: Option<i64>| minutes.map(|m| m as f64 / 60.0);
        let people: std::collections::HashMap<String, User> =
            store::users::list(conn, actor.user())?.into_iter().map(|u| (u.login.clone(), u)).collect();
        Ok(by_partner
            .into_iter()
            .filter_map(|(partner, times)| {
                let user = people.get(&partner).filter(|u| u.role.is_partner())?;
                let times: Vec<(Option<f64>, Option<f64>)> =
                    times.iter().map(|(to_ack, to_resolve)| (hours(*to_ack), hours(*to_resolve))).collect();
                Some(crate::domain::turnaround::response(&partner, &user.name, &times))
            })
            .collect())
    }
}

/// Runs `read`, a store read that hands its rows over one by one, passing each to `take`; the
/// first error `take` returns stops the read and is what this returns.
fn streamed<T, E: From<AppError>>(
    read: impl FnOnce(&mut dyn FnMut(T) -> bool) -> store::Result<()>,
    mut take: impl FnMut(T) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let mut failed = None;
    read(&mut |row| {
        failed = take(row).err();
        failed.is_none()
    })
    .map_err(AppError::from)?;
    failed.map_or(Ok(()), Err)
}
