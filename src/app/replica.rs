//! Replicas through the one door. On the hub: the devices that keep one (registered by the
//! person whose account cloned it; further people allowed, or the device revoked, by admins) and
//! the scoped snapshot a clone receives, read as the person. On a laptop: recording that a new
//! file is a replica of whom, so the laptop's account acts as that person there.

use super::{Actor, App, AppError, Ctx, Outcome, Result};
use crate::store::Cached;
use crate::store::pull::{Changed, Have};
use crate::store::replica::{self as rows, Device, Outgoing, Rows};
use crate::store::settings;
use std::collections::HashMap;

/// What a new replica is: the hub it came from, its device id there, whose scope it holds, and
/// the account on this machine that acts as them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReplicaOf {
    pub hub: String,
    pub device: String,
    pub login: String,
    pub os_account: String,
    /// The hub's change mark the replica's rows were read at.
    pub mark: i64,
}

const REPLICA_HUB: &str = "replica_hub";
const REPLICA_DEVICE: &str = "replica_device";
const REPLICA_LOGIN: &str = "replica_login";
const REPLICA_OS_ACCOUNT: &str = "replica_os_account";
const REPLICA_LAST_SYNC: &str = "replica_last_sync";
const REPLICA_HUB_MARK: &str = "replica_hub_mark";

pub(super) fn register_device(ctx: &Ctx, name: &str) -> Result<Outcome> {
    let login = ctx.actor.user().login.clone();
    let number: i64 = ctx.tx.query_row_cached("SELECT count(*) + 1 FROM devices", [], |r| r.get(0))?;
    let id = format!("dev-{number}");
    rows::add_device(ctx.tx, &id, name, &login, &ctx.now_text())?;
    let after = serde_json::json!({ "name": name, "ssh_login": login });
    ctx.audit("device.register", "device", &id, serde_json::Value::Null, after)?;
    Ok(Outcome::DeviceRegistered { id })
}

fn existing(ctx: &Ctx, id: &str) -> Result<Device> {
    rows::device(ctx.tx, id)?.ok_or_else(|| AppError::NotFound(format!("device '{id}'")))
}

pub(super) fn allow(ctx: &Ctx, id: &str, login: &str) -> Result<Outcome> {
    ctx.require_admin("allow people on a device")?;
    let device = existing(ctx, id)?;
    if crate::store::users::get(ctx.tx, login)?.is_none() {
        return Err(AppError::NotFound(format!("user '{login}'")));
    }
    if device.ssh_login == login || device.allowed.iter().any(|a| a == login) {
        return Ok(Outcome::Noted(format!("{login} may already use {id}")));
    }
    let mut allowed = device.allowed.clone();
    allowed.push(login.to_string());
    rows::set_allowed(ctx.tx, id, &allowed)?;
    let before = serde_json::json!({ "allowed": device.allowed });
    ctx.audit("device.allow", "device", id, before, serde_json::json!({ "allowed": allowed }))?;
    Ok(Outcome::Noted(format!("{login} may use {id} from its next sync")))
}

pub(super) fn revoke(ctx: &Ctx, id: &str) -> Result<Outcome> {
    ctx.require_admin("revoke a device")?;
    let device = existing(ctx, id)?;
    if device.revoked_at.is_some() {
        return Ok(Outcome::Noted(format!("{id} was already revoked")));
    }
    rows::revoke(ctx.tx, id, &ctx.now_text())?;
    ctx.audit(
        "device.revoke",
        "device",
        id,
        serde_json::Value::Null,
        serde_json::json!({ "revoked_at": ctx.now_text() }),
    )?;
    Ok(Outcome::Noted(format!("{id} ({}) is revoked: the hub no longer serves it", device.name)))
}

pub(super) fn become_replica(ctx: &Ctx, of: &ReplicaOf) -> Result<Outcome> {
    if settings::get(ctx.tx, REPLICA_HUB)?.is_some() {
        return Err(AppError::Invalid("this file is already a replica".into()));
    }
    if ctx.actor.user().login != of.login {
        return Err(AppError::Denied(format!("only {} may make this replica theirs", of.login)));
    }
    for (key, value) in [
        (REPLICA_HUB, &of.hub),
        (REPLICA_DEVICE, &of.device),
        (REPLICA_LOGIN, &of.login),
        (REPLICA_OS_ACCOUNT, &of.os_account),
    ] {
        settings::set(ctx.tx, key, Some(value))?;
    }
    settings::set(ctx.tx, REPLICA_LAST_SYNC, Some(&ctx.now_text()))?;
    settings::set(ctx.tx, REPLICA_HUB_MARK, Some(&of.mark.to_string()))?;
    let after = serde_json::json!({ "hub": of.hub, "login": of.login, "os_account": of.os_account });
    ctx.audit("replica.clone", "device", &of.device, serde_json::Value::Null, after)?;
    Ok(Outcome::Noted(format!("a replica of {} for {} (device {})", of.hub, of.login, of.device)))
}

/// `[[kind, id, version]]` of the records `ids` of `kind` as they are in this file.
pub(super) fn seen(conn: &rusqlite::Connection, kind: &str, ids: &[i64]) -> Result<String> {
    let mut versions = Vec::new();
    for id in ids {
        versions.push(serde_json::json!([kind, id, rows::version(conn, kind, *id)?]));
    }
    Ok(serde_json::Value::Array(versions).to_string())
}

/// The first record a decision was made on that changed on the hub since it was seen.
fn changed_since_seen(conn: &rusqlite::Connection, seen: &str) -> Result<Option<String>> {
    let versions: Vec<(String, i64, Option<String>)> = serde_json::from_str(seen).unwrap_or_default();
    for (kind, id, was) in versions {
        let now = rows::version(conn, &kind, id)?;
        if now != was {
            if kind == "alert" {
                return Ok(Some(format!(
                    "alert {id} is not the alert you saw: that one was the laptop's own guess, and the hub's \
                     alerts have come down since; look at them again"
                )));
            }
            let what = if kind == "payroll" { "payroll profile" } else { "attendance record" };
            let when = now.map(|at| format!(" (it was changed at {at})")).unwrap_or_default();
            return Ok(Some(format!("{what} {id} changed on the hub since you saw it{when}; look at it again")));
        }
    }
    Ok(None)
}

/// What the hub did with a change from a device.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Verdict {
    /// Applied now; what it changed.
    Applied(String),
    /// Applied at an earlier push (the same sequence number came again).
    AlreadyApplied,
    Rejected(String),
}

pub(super) fn record_rejection(ctx: &Ctx, device: &str, seq: i64, author: &str, reason: &str) -> Result<Outcome> {
    rows::add_rejection(ctx.tx, device, seq, reason)?;
    let after = serde_json::json!({ "seq": seq, "author": author, "reason": reason });
    ctx.audit("sync.rejected", "device", device, serde_json::Value::Null, after)?;
    Ok(Outcome::Noted(format!("change {seq} from {device} rejected: {reason}")))
}

pub(super) fn settle(ctx: &Ctx, verdicts: &[(i64, Verdict)]) -> Result<Outcome> {
    let now = ctx.now_text();
    let (mut applied, mut rejected) = (0, 0);
    for (seq, verdict) in verdicts {
        match verdict {
            Verdict::Applied(_) | Verdict::AlreadyApplied => {
                applied += 1;
                rows::settle(ctx.tx, *seq, true, None, &now)?;
            }
            Verdict::Rejected(reason) => {
                rejected += 1;
                rows::settle(ctx.tx, *seq, false, Some(reason), &now)?;
            }
        }
    }
    if !verdicts.is_empty() {
        let after = serde_json::json!({ "applied": applied, "rejected": rejected });
        ctx.audit("replica.push", "outbox", "", serde_json::Value::Null, after)?;
    }
    Ok(Outcome::Noted(format!("{applied} changes applied on the hub, {rejected} rejected")))
}

pub(super) fn replace_scope(
    ctx: &Ctx,
    tables: Option<&[(String, Vec<String>, Rows)]>,
    mark: i64,
    changed: Option<&Changed>,
) -> Result<Outcome> {
    if settings::get(ctx.tx, REPLICA_HUB)?.is_none() {
        return Err(AppError::Invalid("this file is not a replica".into()));
    }
    settings::set(ctx.tx, REPLICA_LAST_SYNC, Some(&ctx.now_text()))?;
    let Some(tables) = tables else { return Ok(Outcome::Noted("nothing changed on the hub".into())) };
    settings::set(ctx.tx, REPLICA_HUB_MARK, Some(&mark.to_string()))?;
    // Rows that leave the scope leave the file too, not only its tables.
    ctx.tx.pragma_update(None, "secure_delete", true)?;
    let mut received = HashMap::new();
    for (table, columns, rows) in tables {
        if !rows::TABLES.iter().any(|(t, _)| t == table) {
            return Err(AppError::Invalid(format!("the hub sent rows for {table}, which a replica does not hold")));
        }
        received.insert(table.as_str(), (columns.as_slice(), rows));
    }
    let merged =
        crate::store::pull::merge_scope(ctx.tx, &received, changed).map_err(|e| AppError::Invalid(e.to_string()))?;
    let count: usize = tables.iter().map(|(_, _, rows)| rows.len()).sum();
    let students: i64 = ctx.tx.query_row_cached("SELECT count(*) FROM students", [], |r| r.get(0))?;
    ctx.audit(
        "replica.pull",
        "device",
        "",
        serde_json::Value::Null,
        serde_json::json!({ "rows": count, "students": students, "inserted": merged.inserted,
                            "updated": merged.updated, "deleted": merged.deleted }),
    )?;
    Ok(Outcome::Noted(format!(
        "{count} rows from the hub, {students} students ({} new, {} changed, {} gone here)",
        merged.inserted, merged.updated, merged.deleted
    )))
}

/// On a replica: the person the laptop's account acts as (the one the hub knows it as).
pub(super) fn local_person(conn: &rusqlite::Connection, os_login: &str) -> Result<Option<String>> {
    if settings::get(conn, REPLICA_OS_ACCOUNT)?.as_deref() != Some(os_login) {
        return Ok(None);
    }
    Ok(settings::get(conn, REPLICA_LOGIN)?)
}

/// Where a snapshot goes: each table's name, its columns, and a chunk of its rows.
pub type TableSink<'a> = dyn FnMut(&str, &[String], Rows) -> anyhow::Result<()> + 'a;

impl App {
    /// The hub's change mark: the last audit entry, which every change writes.
    pub fn change_mark(&self, _actor: &Actor) -> Result<i64> {
        Ok(self.store.conn().query_row("SELECT ifnull(max(seq), 0) FROM audit_log", [], |r| r.get(0))?)
    }

    /// The device, if the hub serves it to `actor`: theirs, and not revoked.
    pub fn serving(&self, actor: &Actor, device: &str) -> Result<Device> {
        let found =
            rows::device(self.store.conn(), device)?.ok_or_else(|| AppError::NotFound(format!("device '{device}'")))?;
        if found.ssh_login != actor.user().login {
            return Err(AppError::Denied(format!("device {device} is not {}'s", actor.user().login)));
        }
        if found.revoked_at.is_some() {
            return Err(AppError::Denied(format!("device {device} was revoked on the hub; ask an admin")));
        }
        Ok(found)
    }

    /// Makes this new file the replica `of` describes, as the person whose scope it holds.
    pub fn adopt_replica(&mut self, of: ReplicaOf) -> Result<Outcome> {
        let person = crate::store::users::get(self.store.conn(), &of.login)?
            .ok_or_else(|| AppError::Invalid(format!("the hub sent no user {} with the scope", of.login)))?;
        let device = of.device.clone();
        let outcome = self.execute(&Actor { person, acting_as: None }, super::Command::BecomeReplica(of))?;
        self.replica_device = Some(device);
        Ok(outcome)
    }

    /// On the hub: a device's push, in order. The changes are applied a thousand to a
    /// transaction (each its own savepoint, so a rejection undoes only itself): one commit per
    /// chunk rather than per change, and the write lock held about a tenth of a second at a time.
    pub fn apply_push(&mut self, connected: &Actor, device: &str, entries: &[Outgoing]) -> Result<Vec<(i64, Verdict)>> {
        const CHUNK: usize = 1000;
        self.serving(connected, device)?;
        let mut verdicts = Vec::with_capacity(entries.len());
        for chunk in entries.chunks(CHUNK) {
            self.store.conn().execute_batch("BEGIN IMMEDIATE")?;
            self.batching = true;
            // The device is read again under the write lock: a revocation since the last chunk
            // counts. The last sequence applied is written with the chunk's changes, in the same
            // transaction: they land together or not at all.
            let applied: Result<Vec<_>> = self.serving(connected, device).and_then(|found| {
                let mut last = rows::last_applied(self.store.conn(), device)?;
                let verdicts = chunk
                    .iter()
                    .map(|entry| Ok((entry.seq, self.apply_from_device(&found, entry, &mut last)?)))
                    .collect::<Result<Vec<_>>>()?;
                let now = self.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                rows::set_last_applied(self.store.conn(), device, last, &now)?;
                Ok(verdicts)
            });
            self.batching = false;
            // What the rules read is read again by the next transaction: others write between.
            self.rule_basis.take();
            match applied {
                Ok(applied) => {
                    self.store.conn().execute_batch("COMMIT")?;
                    verdicts.extend(applied);
                }
                Err(e) => {
                    let _ = self.store.conn().execute_batch("ROLLBACK");
                    return Err(e);
                }
            }
        }
        Ok(verdicts)
    }

    /// On the hub: applies one change a device sent, as its author as the hub sees them now,
    /// exactly once per (device, sequence). `found` is the device, read inside the transaction
    /// that applies the change and checked to be the connected account's and not revoked.
    /// `last` is the last sequence number taken from the device so far.
    fn apply_from_device(&mut self, found: &Device, entry: &Outgoing, last: &mut i64) -> Result<Verdict> {
        let conn = self.store.conn();
        let device = found.id.as_str();
        // Seen before: the same answer as then (a refusal stays one when its verdict was lost).
        if entry.seq <= *last {
            return Ok(rows::rejection(conn, device, entry.seq)?.map_or(Verdict::AlreadyApplied, Verdict::Rejected));
        }
        *last = entry.seq;
        let may_use = found.ssh_login == entry.author || found.allowed.contains(&entry.author);
        let command: Option<super::Command> = serde_json::from_str(&entry.command).ok();
        let author = crate::store::users::get(conn, &entry.author)?;
        let refusal = match (&command, &author) {
            _ if !may_use => Some(format!("{} may not use device {device}", entry.author)),
            (None, _) => Some("not a change this hub understands".to_string()),
            (Some(command), _) if !command.travels() => Some("not a change the hub takes from a device".to_string()),
            (_, None) => Some(format!("the hub has no user {}", entry.author)),
            _ => match &entry.seen {
                Some(seen) => changed_since_seen(conn, seen)?,
                None => None,
            },
        };
        if let Some(reason) = refusal {
            return self.reject(device, entry, reason);
        }
        let (Some(command), Some(person)) = (command, author) else { unreachable!("refused above") };
        let saved = self.origin.clone();
        self.origin.client = format!("device {device}, given {}", entry.local_time);
        let applied = self.execute(&Actor { person, acting_as: None }, command);
        self.origin = saved;
        match applied {
            Ok(outcome) => Ok(Verdict::Applied(outcome.to_string())),
            Err(
                e @ (AppError::Denied(_) | AppError::Invalid(_) | AppError::NotFound(_) | AppError::InvalidRows(_)),
            ) => self.reject(device, entry, e.to_string()),
            Err(other) => Err(other),
        }
    }

    fn reject(&mut self, device: &str, entry: &Outgoing, reason: String) -> Result<Verdict> {
        let command = super::Command::RecordRejection {
            device: device.to_string(),
            seq: entry.seq,
            author: entry.author.clone(),
            reason: reason.clone(),
        };
        self.execute(&Actor::system(), command)?;
        Ok(Verdict::Rejected(reason))
    }

    /// On a replica: the changes made here, those in `state` (or all), oldest first.
    pub fn outbox(&self, _actor: &Actor, state: Option<&str>) -> Result<Vec<Outgoing>> {
        Ok(rows::outbox(self.store.conn(), state)?)
    }

    /// On a replica: the hub's change mark its rows were last read at.
    pub fn replica_mark(&self) -> Result<Option<i64>> {
        Ok(settings::get(self.store.conn(), REPLICA_HUB_MARK)?.and_then(|m| m.parse().ok()))
    }

    /// On a replica: where its hub is, its device id there, and when it last synced.
    pub fn replica_of(&self) -> Result<Option<(String, String, String)>> {
        let conn = self.store.conn();
        let get = |key| settings::get(conn, key);
        Ok(match (get(REPLICA_HUB)?, get(REPLICA_DEVICE)?, get(REPLICA_LAST_SYNC)?) {
            (Some(hub), Some(device), last) => Some((hub, device, last.unwrap_or_default())),
            _ => None,
        })
    }

    /// Whose a device is (admins, who receive bundles on its owner's behalf).
    pub fn device_owner(&self, actor: &Actor, device: &str) -> Result<Option<crate::domain::User>> {
        self.require_admin(actor, "receive a device's bundle")?;
        match rows::device(self.store.conn(), device)? {
            Some(found) => Ok(crate::store::users::get(self.store.conn(), &found.ssh_login)?),
            None => Ok(None),
        }
    }

    /// Devices that keep a replica of this database (admins).
    pub fn devices(&self, actor: &Actor) -> Result<Vec<Device>> {
        self.require_admin(actor, "list devices")?;
        Ok(rows::devices(self.store.conn())?)
    }

    /// Everything a replica of `device` holds, one table at a time in insert order, read in one
    /// snapshot as its owner: the owner's and the device's allowed people's students and all
    /// about them. A revoked device, or one that is not the actor's, gets nothing.
    ///
    /// With `have` (the replica's digests), only what differs is sent: the rows of the students
    /// whose digests differ or who are new to the scope, and the other tables that differ —
    /// announced first to `announce`, so the replica knows what the rows replace.
    pub fn replica_snapshot(
        &self,
        actor: &Actor,
        device: &str,
        have: Option<&Have>,
        announce: &mut dyn FnMut(&Changed) -> anyhow::Result<()>,
        sink: &mut TableSink,
    ) -> anyhow::Result<i64> {
        let conn = self.store.conn();
        let found = self.serving(actor, device)?;
        let mut logins = vec![found.ssh_login.clone()];
        logins.extend(found.allowed.iter().cloned());
        // One read transaction: every table as of the same moment, while others keep writing.
        conn.execute_batch("BEGIN DEFERRED")?;
        let result = (|| {
            // Every change on the hub is audited, so the last entry marks the state being read.
            let mark: i64 = conn.query_row_cached("SELECT ifnull(max(seq), 0) FROM audit_log", [], |r| r.get(0))?;
            rows::set_scope(conn, &logins)?;
            let filter_of =
                |table: &str| rows::TABLES.iter().find(|(t, _)| *t == table).map_or("0", |(_, f)| *f).to_string();
            let changed = match have {
                Some(have) => {
                    let changed = Changed::between(have, &crate::store::pull::digests(conn, &filter_of)?);
                    announce(&changed)?;
                    rows::set_pull_students(conn, &changed.students)?;
                    Some(changed)
                }
                None => None,
            };
            for (table, filter) in rows::TABLES {
                let filter = match (&changed, rows::student_of(table)) {
                    (None, _) => filter.to_string(),
                    (Some(_), Some(student)) => {
                        format!("({filter}) AND {student} IN (SELECT id FROM temp.pull_students)")
                    }
                    (Some(changed), None) if changed.tables.iter().any(|t| t == table) => filter.to_string(),
                    (Some(_), None) => continue,
                };
                rows::read_table(conn, table, &filter, &mut |columns, chunk| sink(table, columns, chunk))?;
            }
            conn.execute_batch(
                "DROP TABLE temp.scope_logins; DROP TABLE temp.scope_students; DROP TABLE IF EXISTS temp.pull_students;",
            )?;
            Ok(mark)
        })();
        conn.execute_batch("COMMIT")?;
        result
    }

    /// On a replica: the digests of what it holds, for a pull to send only what differs.
    pub fn replica_digests(&self, _actor: &Actor) -> anyhow::Result<Have> {
        crate::store::pull::digests(self.store.conn(), &|table| crate::store::pull::held(table).to_string())
    }
}
