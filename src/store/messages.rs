//! Templates, campaigns and their recipients. Who may reach whom is decided here with the same
//! assignment rows every other read uses: a partner's audience is drawn from their assignments,
//! and each recipient is checked again when their message is sent.

use super::ids::IdMap;
use super::stored;
use super::{Cached, Result};
use crate::domain::User;
use crate::domain::alerts::{AlertType, Severity, StoredCode};
use crate::domain::message::{Audience, CampaignKind, RecipientStatus, Values};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Template {
    #[serde(skip)]
    pub id: i64,
    pub name: String,
    /// `organisation`, or the login of the partner who keeps it.
    pub owner: String,
    pub subject: String,
    pub body: String,
    pub updated_at: String,
}

const ORGANISATION: &str = "organisation";

fn template_from_row(row: &rusqlite::Row) -> rusqlite::Result<Template> {
    Ok(Template {
        id: row.get(0)?,
        name: row.get(1)?,
        owner: row.get::<_, Option<String>>(2)?.unwrap_or_else(|| ORGANISATION.into()),
        subject: row.get(3)?,
        body: row.get(4)?,
        updated_at: row.get(5)?,
    })
}

/// The templates `viewer` may use: the organisation's and their own (an admin's are the
/// organisation's).
pub fn templates(conn: &Connection, viewer: &User) -> Result<Vec<Template>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, owner, subject, body, updated_at FROM message_templates
          WHERE owner IS NULL OR owner = ?1 ORDER BY owner IS NOT NULL, name",
    )?;
    let rows = stmt.query_map([&viewer.login], template_from_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// A template by name: the viewer's own if they keep one so named, else the organisation's.
pub fn template(conn: &Connection, viewer: &User, name: &str) -> Result<Option<Template>> {
    Ok(conn
        .query_row_cached(
            "SELECT id, name, owner, subject, body, updated_at FROM message_templates
              WHERE name = ?2 AND (owner IS NULL OR owner = ?1) ORDER BY owner IS NULL LIMIT 1",
            params![viewer.login, name],
            template_from_row,
        )
        .optional()?)
}

/// Keeps a template (`owner` None: the organisation's); returns the one it replaced, if any.
pub fn save_template(
    conn: &Connection,
    owner: Option<&str>,
    name: &str,
    subject: &str,
    body: &str,
    by: &str,
    now: &str,
) -> Result<Option<Template>> {
    let before = conn
        .query_row_cached(
            "SELECT id, name, owner, subject, body, updated_at FROM message_templates
              WHERE ifnull(owner, '') = ifnull(?1, '') AND name = ?2",
            params![owner, name],
            template_from_row,
        )
        .optional()?;
    match &before {
        Some(t) => conn.execute_cached(
            "UPDATE message_templates SET subject = ?2, body = ?3, created_by = ?4, updated_at = ?5 WHERE id = ?1",
            params![t.id, subject, body, by, now],
        )?,
        None => conn.execute_cached(
            "INSERT INTO message_templates (owner, name, subject, body, created_by, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![owner, name, subject, body, by, now],
        )?,
    };
    Ok(before)
}

pub fn delete_template(conn: &Connection, id: i64) -> Result<()> {
    conn.execute_cached("DELETE FROM message_templates WHERE id = ?1", [id])?;
    Ok(())
}

/// The students of an audience that `viewer` may see, as (key, source ID), in ID order.
/// A hand-picked student the viewer may not see is refused by the caller before this is asked.
pub fn audience(conn: &Connection, viewer: &User, audience: &Audience) -> Result<Vec<(i64, String)>> {
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    let visible =
        "(?1 IS NULL OR EXISTS (SELECT 1 FROM student_assignments x WHERE x.student = s.id AND x.login = ?1))";
    let (filter, value): (&str, Option<String>) = match audience {
        Audience::Mine => ("1", None),
        Audience::Program { program_id } => (
            "EXISTS (SELECT 1 FROM enrollments e JOIN programs p ON p.id = e.program
                      WHERE e.student = s.id AND e.status = 'active' AND p.program_id = ?2)",
            Some(program_id.clone()),
        ),
        Audience::OpenAlerts { at_least } => (
            // Codes (`StoredCode`): resolved 4; a severity is its own rank.
            "EXISTS (SELECT 1 FROM alerts a INDEXED BY alerts_one_live
                      WHERE a.type IN (1, 2) AND a.student = s.id AND a.status <> 4 AND a.severity >= ?2)",
            Some(at_least.code().to_string()),
        ),
        Audience::Students { student_ids } => {
            let mut keys = Vec::with_capacity(student_ids.len());
            for id in student_ids {
                keys.push((super::roster::visible_student(conn, viewer, id)?, id.clone()));
            }
            keys.sort();
            keys.dedup();
            return Ok(keys);
        }
    };
    let sql = format!("SELECT s.id, s.student_id FROM students s WHERE {visible} AND {filter} ORDER BY s.student_id");
    let mut stmt = conn.prepare(&sql)?;
    let rows = if filter.contains("?2") {
        stmt.query_map(params![scope, value], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?
    } else {
        stmt.query_map(params![scope], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?
    };
    Ok(rows)
}

/// A new sending, due at `send_at`.
pub struct NewCampaign<'a> {
    pub kind: CampaignKind,
    pub template: Option<&'a str>,
    pub subject: &'a str,
    pub body: &'a str,
    pub audience: &'a str,
    pub alert: Option<i64>,
    pub created_by: &'a str,
    pub send_at: &'a str,
}

pub fn insert_campaign(conn: &Connection, c: &NewCampaign, now: &str) -> Result<i64> {
    conn.execute_cached(
        "INSERT INTO message_campaigns (kind, template, subject, body, audience, alert, created_by, created_at, send_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![c.kind.as_str(), c.template, c.subject, c.body, c.audience, c.alert, c.created_by, now, c.send_at],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Queues a student (or, for a digest, a person) as a recipient.
pub fn add_recipient(
    conn: &Connection,
    campaign: i64,
    student: Option<i64>,
    login: Option<&str>,
    address: Option<&str>,
    now: &str,
) -> Result<()> {
    conn.execute_cached(
        "INSERT INTO message_recipients (campaign, student, login, address, status, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'queued', ?5)",
        params![campaign, student, login, address, now],
    )?;
    Ok(())
}

/// A sending as lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignView {
    pub id: i64,
    pub kind: String,
    pub subject: String,
    pub audience: String,
    pub created_by: String,
    pub created_at: String,
    pub send_at: String,
    /// `scheduled` (its time is to come), `due` (messages wait to go), `done` or `stopped`.
    pub state: String,
    pub recipients: i64,
    pub sent: i64,
    pub failed: i64,
    pub skipped: i64,
    pub waiting: i64,
    pub other: i64,
    #[serde(skip)]
    pub body: String,
    #[serde(skip)]
    pub alert: Option<i64>,
}

const CAMPAIGN_VIEW: &str = "SELECT c.id, c.kind, c.subject, c.audience, c.created_by, c.created_at, c.send_at,
        c.stopped_at IS NOT NULL,
        count(r.id), count(*) FILTER (WHERE r.status = 'sent'), count(*) FILTER (WHERE r.status = 'failed'),
        count(*) FILTER (WHERE r.status = 'skipped'), count(*) FILTER (WHERE r.status IN ('queued', 'sending')),
        count(*) FILTER (WHERE r.status IN ('cancelled', 'unknown')), c.body, c.alert
   FROM message_campaigns c LEFT JOIN message_recipients r ON r.campaign = c.id";

fn campaign_from_row(row: &rusqlite::Row, now: &str) -> rusqlite::Result<CampaignView> {
    let stopped: bool = row.get(7)?;
    let send_at: String = row.get(6)?;
    let (sent, waiting): (i64, i64) = (row.get(9)?, row.get(12)?);
    let state = match () {
        _ if stopped => "stopped",
        _ if waiting == 0 => "done",
        _ if send_at.as_str() > now => "scheduled",
        _ => "due",
    };
    Ok(CampaignView {
        id: row.get(0)?,
        kind: row.get(1)?,
        subject: row.get(2)?,
        audience: row.get(3)?,
        created_by: row.get(4)?,
        created_at: row.get(5)?,
        send_at,
        state: state.into(),
        recipients: row.get(8)?,
        sent,
        failed: row.get(10)?,
        skipped: row.get(11)?,
        waiting,
        other: row.get(13)?,
        body: row.get(14)?,
        alert: row.get(15)?,
    })
}

/// The sendings `viewer` may see, newest first: an admin every one (messaging oversight), a
/// partner their own.
pub fn campaigns(conn: &Connection, viewer: &User, now: &str, limit: usize) -> Result<Vec<CampaignView>> {
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    let sql =
        format!("{CAMPAIGN_VIEW} WHERE ?1 IS NULL OR c.created_by = ?1 GROUP BY c.id ORDER BY c.id DESC LIMIT ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![scope, limit as i64], |r| campaign_from_row(r, now))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn campaign(conn: &Connection, viewer: &User, id: i64, now: &str) -> Result<CampaignView> {
    let sql = format!("{CAMPAIGN_VIEW} WHERE c.id = ?1 GROUP BY c.id");
    let found = conn.query_row_cached(&sql, [id], |r| campaign_from_row(r, now)).optional()?;
    match found {
        Some(c) if !viewer.role.is_partner() || c.created_by == viewer.login => Ok(c),
        _ => Err(super::hidden(viewer, &format!("campaign {id}"))),
    }
}

/// One recipient as a campaign's view lists them.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientView {
    pub id: i64,
    /// A student's source ID, or a person's login for a digest.
    pub to: String,
    pub name: String,
    pub address: Option<String>,
    pub status: RecipientStatus,
    pub attempts: i64,
    pub reason: Option<String>,
    pub updated_at: String,
}

pub fn recipients(conn: &Connection, campaign: i64) -> Result<Vec<RecipientView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, ifnull(s.student_id, r.login), ifnull(s.first_name || ' ' || s.last_name, u.name),
                ifnull(r.address, ifnull(s.email, u.email)), r.status, r.attempts, r.reason, r.updated_at
           FROM message_recipients r LEFT JOIN students s ON s.id = r.student LEFT JOIN users u ON u.login = r.login
          WHERE r.campaign = ?1 ORDER BY r.id",
    )?;
    let rows = stmt
        .query_map([campaign], |r| {
            Ok(RecipientView {
                id: r.get(0)?,
                to: r.get(1)?,
                name: r.get(2)?,
                address: r.get(3)?,
                status: super::word(r, 4)?,
                attempts: r.get(5)?,
                reason: r.get(6)?,
                updated_at: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// One message in a student's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudentMessage {
    pub campaign: i64,
    pub kind: String,
    /// As written, placeholders and all.
    pub subject: String,
    pub from: String,
    pub status: RecipientStatus,
    pub updated_at: String,
}

/// The messages a student was sent or will be, newest first (the last fifty), for their history.
pub fn student_messages(conn: &Connection, student: i64) -> Result<Vec<StudentMessage>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.kind, c.subject, c.created_by, r.status, r.updated_at FROM message_recipients r
           JOIN message_campaigns c ON c.id = r.campaign WHERE r.student = ?1 ORDER BY r.id DESC LIMIT 50",
    )?;
    let rows = stmt
        .query_map([student], |r| {
            Ok(StudentMessage {
                campaign: r.get(0)?,
                kind: r.get(1)?,
                subject: r.get(2)?,
                from: r.get(3)?,
                status: super::word(r, 4)?,
                updated_at: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Stops a sending: every recipient not yet sent is cancelled. Returns how many were.
pub fn stop(conn: &Connection, campaign: i64, by: &str, now: &str) -> Result<usize> {
    conn.execute_cached(
        "UPDATE message_campaigns SET stopped_by = ?2, stopped_at = ?3 WHERE id = ?1 AND stopped_at IS NULL",
        params![campaign, by, now],
    )?;
    Ok(conn.execute_cached(
        "UPDATE message_recipients SET status = 'cancelled', reason = 'stopped by ' || ?2, updated_at = ?3
          WHERE campaign = ?1 AND status = 'queued'",
        params![campaign, by, now],
    )?)
}

/// Recipients whose message may be tried now, oldest sending first.
pub fn due(conn: &Connection, now: &str, limit: usize) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.id FROM message_recipients r JOIN message_campaigns c ON c.id = r.campaign
          WHERE r.status = 'queued' AND c.send_at <= ?1 AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= ?1)
            AND c.stopped_at IS NULL
          ORDER BY r.campaign, r.id LIMIT ?2",
    )?;
    let ids = stmt.query_map(params![now, limit as i64], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// How many recipients wait, and the earliest time one of them may be tried.
pub fn waiting(conn: &Connection) -> Result<(i64, Option<String>)> {
    Ok(conn.query_row_cached(
        "SELECT count(*), min(max(c.send_at, ifnull(r.next_attempt_at, ''))) FROM message_recipients r
           JOIN message_campaigns c ON c.id = r.campaign WHERE r.status = 'queued'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// How many messages of the sendings `viewer` may see wait to go (queued or being sent).
pub fn waiting_for(conn: &Connection, viewer: &User) -> Result<i64> {
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    Ok(conn.query_row_cached(
        "SELECT count(*) FROM message_recipients r JOIN message_campaigns c ON c.id = r.campaign
          WHERE r.status IN ('queued', 'sending') AND (?1 IS NULL OR c.created_by = ?1)",
        [scope],
        |r| r.get(0),
    )?)
}

/// What sending one recipient's message needs, read as it is claimed.
#[derive(Debug, Clone)]
pub struct Claim {
    pub recipient: i64,
    pub campaign: i64,
    pub kind: CampaignKind,
    pub status: RecipientStatus,
    pub attempts: u32,
    pub student: Option<i64>,
    pub login: Option<String>,
    pub subject: String,
    pub body: String,
    pub created_by: String,
    pub stopped: bool,
}

pub fn claim_info(conn: &Connection, recipient: i64) -> Result<Option<Claim>> {
    Ok(conn
        .query_row_cached(
            "SELECT r.id, c.id, c.kind, r.status, r.attempts, r.student, r.login, c.subject, c.body, c.created_by,
                    c.stopped_at IS NOT NULL
               FROM message_recipients r JOIN message_campaigns c ON c.id = r.campaign WHERE r.id = ?1",
            [recipient],
            |r| {
                Ok(Claim {
                    recipient: r.get(0)?,
                    campaign: r.get(1)?,
                    kind: super::word(r, 2)?,
                    status: super::word(r, 3)?,
                    attempts: r.get(4)?,
                    student: r.get(5)?,
                    login: r.get(6)?,
                    subject: r.get(7)?,
                    body: r.get(8)?,
                    created_by: r.get(9)?,
                    stopped: r.get(10)?,
                })
            },
        )
        .optional()?)
}

/// Moves a recipient to a state, with why and (for a retry) when to try again.
pub fn set_status(
    conn: &Connection,
    recipient: i64,
    status: RecipientStatus,
    reason: Option<&str>,
    address: Option<&str>,
    next_attempt_at: Option<&str>,
    now: &str,
) -> Result<()> {
    conn.execute_cached(
        "UPDATE message_recipients SET status = ?2, reason = ?3, address = ifnull(?4, address),
                next_attempt_at = ?5, updated_at = ?6,
                attempts = attempts + (?2 = 'sending')
          WHERE id = ?1",
        params![recipient, status.as_str(), reason, address, next_attempt_at, now],
    )?;
    Ok(())
}

pub fn set_message_id(conn: &Connection, recipient: i64, message_id: &str) -> Result<()> {
    conn.execute_cached("UPDATE message_recipients SET message_id = ?2 WHERE id = ?1", params![recipient, message_id])?;
    Ok(())
}

/// Recipients left `sending` by a process that stopped mid-message become `unknown`: the server
/// may or may not have taken the message, and sending it again could send it twice.
pub fn interrupted_to_unknown(conn: &Connection, now: &str) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "UPDATE message_recipients SET status = 'unknown', updated_at = ?1,
                reason = 'muster stopped during the SMTP transaction; not resent, to send nobody the same message twice'
          WHERE status = 'sending' RETURNING id",
    )?;
    let ids = stmt.query_map([now], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// What a student's placeholders stand for. `program`: their first active enrollment's.
pub fn student_values(
    conn: &Connection,
    student: i64,
    today: chrono::NaiveDate,
) -> Result<Option<(Values, Option<String>, bool)>> {
    let row = conn
        .query_row_cached(
            "SELECT s.first_name, s.last_name, s.student_id, s.email, s.opted_out_at IS NOT NULL,
                    (SELECT p.name FROM enrollments e JOIN programs p ON p.id = e.program
                      WHERE e.student = s.id AND e.status = 'active' ORDER BY e.start_date LIMIT 1),
                    (SELECT max(count) FROM alerts a INDEXED BY alerts_one_live
                      WHERE a.type = 1 /* missing_attendance */ AND a.student = s.id AND a.status <> 4 /* resolved */),
                    (SELECT date(max(at)) FROM login_events l WHERE l.student = s.id)
               FROM students s WHERE s.id = ?1",
            [student],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                    r.get::<_, Option<chrono::NaiveDate>>(7)?,
                ))
            },
        )
        .optional()?;
    let Some((first, last, id, email, opted_out, program, streak, last_login)) = row else { return Ok(None) };
    let days = last_login.map(|d| (today - d).num_days().max(0).to_string()).unwrap_or_else(|| "—".into());
    let values = Values::from([
        ("first_name", first),
        ("last_name", last),
        ("student_id", id),
        ("program", program.unwrap_or_default()),
        ("streak", streak.unwrap_or(0).to_string()),
        ("days_since_login", days),
    ]);
    Ok(Some((values, email.filter(|e| !e.trim().is_empty()), opted_out)))
}

/// Whether `login` may still reach the student: an admin always, a partner while assigned.
pub fn may_reach(conn: &Connection, sender: &User, student: i64) -> Result<bool> {
    if !sender.role.is_partner() {
        return Ok(true);
    }
    Ok(conn.query_row_cached(
        "SELECT EXISTS (SELECT 1 FROM student_assignments WHERE login = ?1 AND student = ?2)",
        params![sender.login, student],
        |r| r.get(0),
    )?)
}

/// Returns whether it changed.
pub fn set_opt_out(conn: &Connection, student: i64, opted_out: bool, now: &str) -> Result<bool> {
    let sql = if opted_out {
        "UPDATE students SET opted_out_at = ?2 WHERE id = ?1 AND opted_out_at IS NULL"
    } else {
        "UPDATE students SET opted_out_at = NULL WHERE id = ?1 AND opted_out_at IS NOT NULL AND ?2 IS NOT NULL"
    };
    Ok(conn.execute_cached(sql, params![student, now])? > 0)
}

/// Whether the person's digest is on.
pub fn set_digest(conn: &Connection, login: &str, on: bool) -> Result<bool> {
    Ok(conn.execute_cached("UPDATE users SET digest = ?2 WHERE login = ?1 AND digest <> ?2", params![login, on])? > 0)
}

pub fn digest_on(conn: &Connection, login: &str) -> Result<bool> {
    Ok(conn
        .query_row_cached("SELECT digest FROM users WHERE login = ?1", [login], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

const DIGESTS_MADE_KEY: &str = "digests_made_for";

/// The last day the digests were made for: a day the job processed after it has its digests
/// still to make (the run stopped between the day's commit and theirs).
pub fn digests_made_for(conn: &Connection) -> Result<Option<chrono::NaiveDate>> {
    super::alerts::day_in_job_state(conn, DIGESTS_MADE_KEY)
}

/// Records that the digests for `day` were made; written only when it moves forward, so making
/// them again writes nothing.
pub fn set_digests_made_for(conn: &Connection, day: chrono::NaiveDate) -> Result<()> {
    conn.execute_cached(
        "INSERT INTO job_state (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE value < excluded.value",
        params![DIGESTS_MADE_KEY, day.to_string()],
    )?;
    Ok(())
}

pub fn record_digest(conn: &Connection, login: &str, day: chrono::NaiveDate, campaign: i64) -> Result<()> {
    conn.execute_cached(
        "INSERT INTO digests (login, day, campaign) VALUES (?1, ?2, ?3)",
        params![login, day, campaign],
    )?;
    Ok(())
}

/// One alert a digest tells a person about.
#[derive(Debug, Clone)]
pub struct DigestLine {
    pub student_id: String,
    pub name: String,
    pub kind: String,
    pub severity: String,
    pub count: i64,
    /// What the job did to it on the day: `new`, `escalated`, `raised`, or empty (still critical).
    pub change: String,
}

/// A live alert a digest tells of, before its student's name is read.
struct DigestAlert {
    id: i64,
    student: i64,
    severity: Severity,
    kind: AlertType,
    count: i64,
    /// What the day did to it: opened, escalated, raised.
    changed: [bool; 3],
}

/// A student the day's digest lines name: as they read, and the partner readers (indexes into
/// the readers) they are assigned to.
struct LinesStudent {
    student_id: String,
    name: String,
    readers: Vec<usize>,
}

/// What the digests for one day say: each line once, and each reader's lines in order.
#[derive(Debug, Default)]
pub struct Digests {
    pub lines: Vec<DigestLine>,
    /// Each reader (by login): indexes into `lines`.
    pub of_reader: HashMap<String, Vec<usize>>,
}

/// What the digests for the job's `day` tell each of `readers` (by login): a partner, their
/// students' live alerts the day's run opened, raised or escalated, and every critical one; an
/// admin, the day's escalations. Each reader's lines by severity (highest first), student ID
/// and alert. Read once for all readers: the day's timeline entries, the live alerts and who
/// is assigned to whom, rather than one query per reader over their students' every alert.
pub fn digests(conn: &Connection, readers: &[User], day: chrono::NaiveDate) -> Result<Digests> {
    // What the day did to each alert: opened, escalated, raised.
    let mut changed: IdMap<i64, [bool; 3]> = IdMap::default();
    let mut stmt = conn.prepare_cached(
        "SELECT alert, kind FROM alert_events INDEXED BY alert_events_run
          WHERE run_date = ?1 AND (kind = 'opened' OR kind = 'escalated' OR kind = 'raised')",
    )?;
    let mut rows = stmt.query([stored::day_number(day)])?;
    while let Some(r) = rows.next()? {
        let flags = changed.entry(r.get(0)?).or_default();
        match r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)? {
            "opened" => flags[0] = true,
            "escalated" => flags[1] = true,
            _ => flags[2] = true,
        }
    }
    // Most live alerts are neither critical nor touched that day: the live critical ones come
    // from the live inbox's index (not every critical alert there ever was), the day's from its
    // timeline entries, and no other alert's row is read.
    // Codes (`StoredCode`): resolved 4, critical 3.
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.student, a.severity, a.type, a.count
           FROM alerts a INDEXED BY alerts_live_inbox
          WHERE a.status <> 4 AND a.severity = 3
         UNION ALL
         SELECT a.id, a.student, a.severity, a.type, a.count
           FROM alerts a
          WHERE a.id IN (SELECT alert FROM alert_events INDEXED BY alert_events_run
                          WHERE run_date = ?1
                            AND (kind = 'opened' OR kind = 'escalated' OR kind = 'raised'))
            AND a.status <> 4 AND a.severity <> 3",
    )?;
    let mut alerts: Vec<DigestAlert> = Vec::new();
    let mut rows = stmt.query([stored::day_number(day)])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        alerts.push(DigestAlert {
            id,
            student: r.get(1)?,
            severity: stored::get_code(r, 2)?,
            kind: stored::get_code(r, 3)?,
            count: r.get(4)?,
            changed: changed.get(&id).copied().unwrap_or_default(),
        });
    }
    // Each student of the lines once, in id order: their name and the partner readers they are
    // assigned to. A churn day's 22,900 lines name a fifth of the students; looked up in id order
    // their pages are read front to back (the lines and names 40–60 ms in `sqlite3`, against
    // 100 ms joined in the lines' order), and reading every partner's every assignment instead
    // was a third of the digests' work.
    let partners: HashMap<&str, usize> =
        readers.iter().enumerate().filter(|(_, r)| r.role.is_partner()).map(|(i, r)| (r.login.as_str(), i)).collect();
    let mut students: Vec<i64> = alerts.iter().map(|alert| alert.student).collect();
    students.sort_unstable();
    students.dedup();
    let mut of_students: IdMap<i64, LinesStudent> = IdMap::default();
    // One statement a student: its first row names them, each row one of their assignments.
    let mut stmt = conn.prepare_cached(
        "SELECT s.student_id, s.first_name || ' ' || s.last_name, x.login
           FROM students s LEFT JOIN student_assignments x ON x.student = s.id
          WHERE s.id = ?1",
    )?;
    for student in students {
        let mut rows = stmt.query([student])?;
        let Some(first) = rows.next()? else { continue };
        let mut of_student = LinesStudent { student_id: first.get(0)?, name: first.get(1)?, readers: Vec::new() };
        let mut row = Some(first);
        while let Some(r) = row {
            if let Some(login) = r.get_ref(2)?.as_str_or_null().map_err(rusqlite::Error::from)?
                && let Some(&reader) = partners.get(login)
            {
                of_student.readers.push(reader);
            }
            row = rows.next()?;
        }
        of_students.insert(student, of_student);
    }
    // (severity, alert id, student, escalated that day, the line)
    let mut lines: Vec<(Severity, i64, i64, bool, DigestLine)> = Vec::with_capacity(alerts.len());
    for alert in alerts {
        let Some(of_student) = of_students.get(&alert.student) else { continue };
        let change = match alert.changed {
            [true, _, _] => "new",
            [_, true, _] => "escalated",
            [_, _, true] => "raised",
            _ => "",
        };
        let line = DigestLine {
            student_id: of_student.student_id.clone(),
            name: of_student.name.clone(),
            kind: alert.kind.to_string(),
            severity: alert.severity.to_string(),
            count: alert.count,
            change: change.to_string(),
        };
        lines.push((alert.severity, alert.id, alert.student, alert.changed[1], line));
    }
    lines.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.4.student_id.cmp(&b.4.student_id)).then(a.1.cmp(&b.1)));
    let admins: Vec<usize> = (0..readers.len()).filter(|&i| !readers[i].role.is_partner()).collect();
    let mut of_reader: Vec<Vec<usize>> = vec![Vec::new(); readers.len()];
    let mut kept = Vec::with_capacity(lines.len());
    for (i, (_, _, student, escalated, line)) in lines.into_iter().enumerate() {
        let to_admins = if escalated { admins.as_slice() } else { &[] };
        let to_partners = of_students.get(&student).map_or(&[][..], |of_student| of_student.readers.as_slice());
        for &reader in to_admins.iter().chain(to_partners) {
            of_reader[reader].push(i);
        }
        kept.push(line);
    }
    let of_reader = readers.iter().map(|r| r.login.clone()).zip(of_reader).collect();
    Ok(Digests { lines: kept, of_reader })
}
