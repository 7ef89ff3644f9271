//! Reaching people: templates, outreach to one student, campaigns to many, daily digests to
//! partners, and the steps the sender takes for each recipient (claim, then record what the
//! server said). Sending itself happens outside any transaction, in `crate::mail`.
//!
//! Guarantee (README "Messaging"): a recipient is marked `sending` in its own committed
//! transaction before the SMTP transaction starts, and `sent` or `failed` after it ends. One
//! found `sending` when the sender starts again becomes `unknown` — shown, never resent — so a
//! crash can leave a message unconfirmed but never sends anyone the same message twice, and
//! never loses a recipient.

use super::{AppError, Ctx, Outcome, Result};
use crate::domain::message::{self, Audience, CampaignKind, MAX_ATTEMPTS, RecipientStatus};
use crate::domain::{Role, User};
use crate::store::messages::{self as store, NewCampaign};
use crate::store::{alerts as store_alerts, roster, users};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A message ready for the SMTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub recipient: i64,
    pub campaign: i64,
    pub to_name: String,
    pub to_address: String,
    /// The person sending, for Reply-To: replies reach them, not the organisation's mailbox.
    pub reply_to: Option<(String, String)>,
    pub subject: String,
    pub body: String,
    /// Stable per recipient, so a server's log can tell one message from a repeat.
    pub message_id: String,
}

/// What the SMTP server said about one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "delivery", rename_all = "snake_case")]
pub enum Delivery {
    Sent,
    /// 4xx, a dropped connection, a server that is down: tried again after a while.
    Transient {
        reason: String,
        retry_after_secs: u64,
    },
    /// 5xx: the server will never take it.
    Permanent {
        reason: String,
    },
}

fn text_of(when: DateTime<Utc>) -> String {
    when.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Keeps a template after checking every placeholder in it. Admins keep the organisation's
/// (`organisation`); everyone may keep their own.
pub(super) fn save_template(ctx: &Ctx, name: &str, subject: &str, body: &str, organisation: bool) -> Result<Outcome> {
    if organisation {
        ctx.require_admin("keep organisation templates")?;
    }
    if name.trim().is_empty() || subject.trim().is_empty() || body.trim().is_empty() {
        return Err(AppError::Invalid("a template needs a name, a subject and a body".into()));
    }
    message::check(subject).map_err(|why| AppError::Invalid(format!("the subject {why}")))?;
    message::check(body).map_err(|why| AppError::Invalid(format!("the body {why}")))?;
    let login = &ctx.actor.user().login;
    let owner = (!organisation).then_some(login.as_str());
    let before = store::save_template(ctx.tx, owner, name, subject, body, login, &ctx.now_text())?;
    let after = json!({ "name": name, "owner": owner, "subject": subject, "body": body });
    let before_json =
        before.as_ref().map_or(serde_json::Value::Null, |t| json!({ "subject": t.subject, "body": t.body }));
    ctx.audit("message.template_save", "message_template", name, before_json, after)?;
    let whose = if organisation { "organisation template" } else { "your template" };
    Ok(Outcome::Noted(format!("{} {whose} '{name}'", if before.is_some() { "updated" } else { "saved" })))
}

pub(super) fn delete_template(ctx: &Ctx, name: &str, organisation: bool) -> Result<Outcome> {
    if organisation {
        ctx.require_admin("delete organisation templates")?;
    }
    let user = ctx.actor.user();
    let found = store::templates(ctx.tx, user)?
        .into_iter()
        .find(|t| t.name == name && (t.owner == "organisation") == organisation)
        .ok_or_else(|| AppError::NotFound(format!("template '{name}'")))?;
    store::delete_template(ctx.tx, found.id)?;
    let before = json!({ "subject": found.subject, "body": found.body, "owner": found.owner });
    ctx.audit("message.template_delete", "message_template", name, before, serde_json::Value::Null)?;
    Ok(Outcome::Noted(format!("deleted template '{name}'")))
}

/// A template the actor may use, or why not.
fn usable_template(ctx: &Ctx, name: &str) -> Result<store::Template> {
    store::template(ctx.tx, ctx.actor.user(), name)?.ok_or_else(|| {
        AppError::Invalid(format!("no template '{name}' you may use; the list: muster message templates"))
    })
}

/// One message to one student, from a template or typed fresh (a subject or body given here
/// replaces the template's), optionally about one of their alerts, whose timeline records it.
pub(super) fn send(
    ctx: &Ctx,
    student_id: &str,
    template: Option<&str>,
    subject: Option<&str>,
    body: Option<&str>,
    alert: Option<i64>,
) -> Result<Outcome> {
    let user = ctx.actor.user();
    let student = roster::visible_student(ctx.tx, user, student_id)?;
    let from_template = template.map(|name| usable_template(ctx, name)).transpose()?;
    let subject = subject.or(from_template.as_ref().map(|t| t.subject.as_str()));
    let body = body.or(from_template.as_ref().map(|t| t.body.as_str()));
    let (Some(subject), Some(body)) = (subject, body) else {
        return Err(AppError::Invalid(
            "a message needs a subject and a body: give --template, or --subject and --body".into(),
        ));
    };
    if subject.trim().is_empty() || body.trim().is_empty() {
        return Err(AppError::Invalid("the subject and the body may not be empty".into()));
    }
    message::check(subject).map_err(|why| AppError::Invalid(format!("the subject {why}")))?;
    message::check(body).map_err(|why| AppError::Invalid(format!("the body {why}")))?;
    if let Some(id) = alert {
        let view = store_alerts::get(ctx.tx, user, id)?;
        if view.student != student {
            return Err(AppError::Invalid(format!("alert {id} is not about {student_id}")));
        }
    }
    if on_replica(ctx)? {
        return Ok(Outcome::Noted(format!(
            "message to {student_id} kept for the hub, which sends it after the next sync"
        )));
    }
    let now = ctx.now_text();
    let audience = Audience::Students { student_ids: vec![student_id.to_string()] }.to_string();
    let campaign = store::insert_campaign(
        ctx.tx,
        &NewCampaign {
            kind: CampaignKind::Outreach,
            template,
            subject,
            body,
            audience: &audience,
            alert,
            created_by: &user.login,
            send_at: &now,
        },
        &now,
    )?;
    store::add_recipient(ctx.tx, campaign, Some(student), None, None, &now)?;
    if let Some(id) = alert {
        store_alerts::add_event(
            ctx.tx,
            id,
            &now,
            &ctx.actor_label(),
            "message",
            None,
            Some(&format!("queued: {subject}")),
        )?;
    }
    let after = json!({ "campaign": campaign, "student": student_id, "template": template, "subject": subject, "alert": alert });
    ctx.audit("message.send", "message_campaign", &campaign.to_string(), serde_json::Value::Null, after)?;
    Ok(Outcome::Noted(format!("message {campaign} to {student_id} queued")))
}

/// On a site laptop's replica a message is checked here and made on the hub, which sends it: the
/// command travels in the outbox, and nothing is queued on the laptop that the laptop could send
/// or that a pull would never settle.
fn on_replica(ctx: &Ctx) -> Result<bool> {
    Ok(crate::store::settings::get(ctx.tx, "replica_device")?.is_some())
}

/// Roles that send to many students at once (SPEC "Onboarding": program holders and
/// coordinators message in bulk; worksites message their students one at a time).
fn may_campaign(user: &User) -> bool {
    matches!(user.role, Role::Admin | Role::ProgramHolder | Role::SiteCoordinator)
}

pub(super) fn create_campaign(
    ctx: &Ctx,
    template: &str,
    audience: &Audience,
    send_at: Option<DateTime<Utc>>,
) -> Result<Outcome> {
    let user = ctx.actor.user();
    if !may_campaign(user) {
        return Err(AppError::Denied(format!(
            "a {} sends messages one student at a time (muster message send); campaigns are for admins, program holders and site coordinators",
            user.role
        )));
    }
    let template = usable_template(ctx, template)?;
    if let Some(at) = send_at
        && at < ctx.now - chrono::Duration::minutes(1)
    {
        return Err(AppError::Invalid(format!(
            "{} has passed; schedule a time to come, or leave --at out",
            text_of(at)
        )));
    }
    // A hand-picked student the creator may not see is refused by name, before anything is kept.
    let students = store::audience(ctx.tx, user, audience)?;
    if students.is_empty() {
        return Err(AppError::Invalid(format!("{audience}: no students you may reach; nothing was queued")));
    }
    if on_replica(ctx)? {
        return Ok(Outcome::Noted(format!(
            "campaign to {} students ({audience}) kept for the hub, which makes and sends it after the next sync",
            students.len()
        )));
    }
    let now = ctx.now_text();
    let send_at = send_at.map_or_else(|| now.clone(), text_of);
    let audience_text = audience.to_string();
    let campaign = store::insert_campaign(
        ctx.tx,
        &NewCampaign {
            kind: CampaignKind::Campaign,
            template: Some(&template.name),
            subject: &template.subject,
            body: &template.body,
            audience: &audience_text,
            alert: None,
            created_by: &user.login,
            send_at: &send_at,
        },
        &now,
    )?;
    for (key, _) in &students {
        store::add_recipient(ctx.tx, campaign, Some(*key), None, None, &now)?;
    }
    let after = json!({
        "campaign": campaign, "template": template.name, "audience": audience,
        "recipients": students.len(), "send_at": send_at,
    });
    ctx.audit("message.campaign_create", "message_campaign", &campaign.to_string(), serde_json::Value::Null, after)?;
    let when = if send_at == now { "now".to_string() } else { format!("at {send_at}") };
    Ok(Outcome::Noted(format!("campaign {campaign}: {} recipients ({audience}), sending {when}", students.len())))
}

/// Stops a sending: admins any, others their own. Recipients not yet sent are cancelled; one
/// whose SMTP transaction is under way finishes.
pub(super) fn stop_campaign(ctx: &Ctx, id: i64) -> Result<Outcome> {
    let view = store::campaign(ctx.tx, ctx.actor.user(), id, &ctx.now_text())?;
    let cancelled = store::stop(ctx.tx, id, &ctx.actor.user().login, &ctx.now_text())?;
    let after = json!({ "cancelled": cancelled, "sent": view.sent });
    ctx.audit("message.campaign_stop", "message_campaign", &id.to_string(), serde_json::Value::Null, after)?;
    Ok(Outcome::Noted(format!(
        "campaign {id} stopped: {cancelled} unsent messages cancelled, {} already sent",
        view.sent
    )))
}

/// The sender's first step for one recipient: checks again that the message may go (the sender
/// may still reach the student, who has an address and has not opted out), renders it, and marks
/// it `sending`. A recipient that may not be sent to is `skipped` with why.
pub(super) fn claim(ctx: &Ctx, recipient: i64) -> Result<Outcome> {
    ctx.require_admin("send messages")?;
    let Some(claim) = store::claim_info(ctx.tx, recipient)? else {
        return Err(AppError::NotFound(format!("message recipient {recipient}")));
    };
    if claim.status != RecipientStatus::Queued || claim.stopped {
        return Ok(Outcome::Claimed(None));
    }
    let now = ctx.now_text();
    let skip = |why: &str| -> Result<Outcome> {
        store::set_status(ctx.tx, recipient, RecipientStatus::Skipped, Some(why), None, None, &now)?;
        let after = json!({ "campaign": claim.campaign, "status": "skipped", "reason": why });
        ctx.audit("message.skip", "message_recipient", &recipient.to_string(), serde_json::Value::Null, after)?;
        Ok(Outcome::Claimed(None))
    };
    let sender = users::get(ctx.tx, &claim.created_by)?;
    let (to_name, to_address, subject, body) = match (claim.student, &claim.login) {
        (Some(student), _) => {
            let Some(sender) = &sender else { return skip("the person who sent it is no longer a user") };
            if !store::may_reach(ctx.tx, sender, student)? {
                return skip(&format!("no longer assigned to {}", sender.login));
            }
            let Some((mut values, address, opted_out)) = store::student_values(ctx.tx, student, ctx.today)? else {
                return skip("the student is no longer on file");
            };
            if opted_out {
                return skip("the student opted out of messages");
            }
            let Some(address) = address else { return skip("the student has no e-mail address") };
            values.insert("partner_name", sender.name.clone());
            values.insert("partner_email", sender.email.clone().unwrap_or_default());
            let render = |text: &str| message::render(text, &values).map_err(AppError::Invalid);
            let name = format!("{} {}", values["first_name"], values["last_name"]);
            (name, address, render(&claim.subject)?, render(&claim.body)?)
        }
        (None, Some(login)) => {
            let Some(reader) = users::get(ctx.tx, login)? else { return skip("no longer a user") };
            if !store::digest_on(ctx.tx, login)? {
                return skip("digest switched off");
            }
            let Some(address) = reader.email.clone().filter(|e| !e.trim().is_empty()) else {
                return skip("no e-mail address");
            };
            (reader.name, address, claim.subject.clone(), claim.body.clone())
        }
        (None, None) => return skip("nobody to send to"),
    };
    let message_id = format!("<muster.{}.{}@{}>", claim.campaign, recipient, mail_domain(&to_address));
    store::set_status(ctx.tx, recipient, RecipientStatus::Sending, None, Some(&to_address), None, &now)?;
    store::set_message_id(ctx.tx, recipient, &message_id)?;
    let reply_to = match (claim.kind, &sender) {
        (CampaignKind::Digest, _) | (_, None) => None,
        (_, Some(sender)) => sender.email.clone().map(|email| (sender.name.clone(), email)),
    };
    Ok(Outcome::Claimed(Some(Box::new(Outgoing {
        recipient,
        campaign: claim.campaign,
        to_name,
        to_address,
        reply_to,
        subject,
        body,
        message_id,
    }))))
}

/// The part of an address after `@`, for Message-ID (any domain-like text will do).
fn mail_domain(address: &str) -> &str {
    address.rsplit_once('@').map_or("muster.invalid", |(_, domain)| domain)
}

/// The sender's second step: what the server said. A transient failure waits and tries again,
/// up to `MAX_ATTEMPTS` in all.
pub(super) fn record(ctx: &Ctx, recipient: i64, delivery: &Delivery) -> Result<Outcome> {
    ctx.require_admin("send messages")?;
    let claim = store::claim_info(ctx.tx, recipient)?
        .ok_or_else(|| AppError::NotFound(format!("message recipient {recipient}")))?;
    if claim.status != RecipientStatus::Sending {
        return Err(AppError::Invalid(format!("recipient {recipient} is {}, not sending", claim.status)));
    }
    let now = ctx.now_text();
    let (status, reason, retry_at) = match delivery {
        Delivery::Sent => (RecipientStatus::Sent, None, None),
        Delivery::Permanent { reason } => (RecipientStatus::Failed, Some(reason.clone()), None),
        Delivery::Transient { reason, .. } if claim.attempts >= MAX_ATTEMPTS => {
            (RecipientStatus::Failed, Some(format!("gave up after {} attempts: {reason}", claim.attempts)), None)
        }
        Delivery::Transient { reason, retry_after_secs } => {
            let wait = message::retry_delay(*retry_after_secs, claim.attempts);
            let at = text_of(ctx.now + chrono::Duration::seconds(i64::try_from(wait).unwrap_or(3_600)));
            (RecipientStatus::Queued, Some(format!("will try again: {reason}")), Some(at))
        }
    };
    store::set_status(ctx.tx, recipient, status, reason.as_deref(), None, retry_at.as_deref(), &now)?;
    if status == RecipientStatus::Sent
        && let Some(alert) = alert_of(ctx, claim.campaign)?
    {
        store_alerts::add_event(
            ctx.tx,
            alert,
            &now,
            super::alerts::SYSTEM,
            "message",
            None,
            Some(&format!("sent: {}", claim.subject)),
        )?;
    }
    let after = json!({ "campaign": claim.campaign, "status": status, "reason": reason, "attempt": claim.attempts });
    ctx.audit("message.delivery", "message_recipient", &recipient.to_string(), serde_json::Value::Null, after)?;
    Ok(Outcome::Noted(format!("recipient {recipient}: {status}")))
}

fn alert_of(ctx: &Ctx, campaign: i64) -> Result<Option<i64>> {
    use crate::store::Cached;
    Ok(ctx.tx.query_row_cached("SELECT alert FROM message_campaigns WHERE id = ?1", [campaign], |r| r.get(0))?)
}

/// Run when a sender starts: recipients a stopped process left `sending` become `unknown`.
pub(super) fn settle_interrupted(ctx: &Ctx) -> Result<Outcome> {
    ctx.require_admin("send messages")?;
    let ids = store::interrupted_to_unknown(ctx.tx, &ctx.now_text())?;
    if !ids.is_empty() {
        ctx.audit("message.interrupted", "message_recipient", "*", serde_json::Value::Null, json!({ "unknown": ids }))?;
    }
    let reports = super::schedules::settle_interrupted(ctx)?;
    Ok(Outcome::MailSettled { unknown: ids.len() + reports })
}

/// Records that a student asked not to be messaged, or asks again to be; anyone who may see
/// the student. Their queued messages are skipped when their turn comes.
pub(super) fn set_opt_out(ctx: &Ctx, student_id: &str, opted_out: bool) -> Result<Outcome> {
    let student = roster::visible_student(ctx.tx, ctx.actor.user(), student_id)?;
    if store::set_opt_out(ctx.tx, student, opted_out, &ctx.now_text())? {
        let (before, after) = (json!({ "opted_out": !opted_out }), json!({ "opted_out": opted_out }));
        ctx.audit("student.opt_out", "student", student_id, before, after)?;
    }
    Ok(Outcome::Noted(if opted_out {
        format!("{student_id} gets no more messages from muster")
    } else {
        format!("{student_id} may be messaged again")
    }))
}

/// Switches the actor's own daily digest on or off.
pub(super) fn set_digest(ctx: &Ctx, on: bool) -> Result<Outcome> {
    let login = &ctx.actor.user().login;
    if store::set_digest(ctx.tx, login, on)? {
        ctx.audit("user.digest", "user", login, json!({ "digest": !on }), json!({ "digest": on }))?;
    }
    Ok(Outcome::Noted(format!("daily digest {} for {login}", if on { "on" } else { "off" })))
}

/// After the job processed `day`: one digest per person with something to read, at most one per
/// person per day however often this runs.
pub(super) fn make_digests(ctx: &Ctx, day: NaiveDate) -> Result<Outcome> {
    ctx.require_admin("make the daily digests")?;
    let now = ctx.now_text();
    let mut made = Vec::new();
    let readers = users::awaiting_digest(ctx.tx, day)?;
    // Everyone has theirs already (a run again): nothing to read.
    let digests = if readers.is_empty() { store::Digests::default() } else { store::digests(ctx.tx, &readers, day)? };
    // Each line is written once, however many readers it goes to (three partners or more a
    // student, and every admin for an escalation).
    let texts: Vec<String> = digests.lines.iter().map(digest_line).collect();
    for reader in readers {
        let lines: Vec<&str> = digests
            .of_reader
            .get(&reader.login)
            .map(|mine| mine.iter().map(|&i| texts[i].as_str()).collect())
            .unwrap_or_default();
        if lines.is_empty() {
            continue;
        }
        let subject = format!("muster: {} alert{} for {day}", lines.len(), if lines.len() == 1 { "" } else { "s" });
        let body = digest_body(&reader, day, &lines);
        let campaign = store::insert_campaign(
            ctx.tx,
            &NewCampaign {
                kind: CampaignKind::Digest,
                template: None,
                subject: &subject,
                body: &body,
                audience: &format!("daily digest for {}", reader.login),
                alert: None,
                created_by: &reader.login,
                send_at: &now,
            },
            &now,
        )?;
        store::record_digest(ctx.tx, &reader.login, day, campaign)?;
        store::add_recipient(ctx.tx, campaign, None, Some(&reader.login), None, &now)?;
        made.push(reader.login);
    }
    if !made.is_empty() {
        ctx.audit("message.digests", "digest", &day.to_string(), serde_json::Value::Null, json!({ "to": made }))?;
    }
    store::set_digests_made_for(ctx.tx, day)?;
    Ok(Outcome::Noted(format!("{} digests for {day}", made.len())))
}

fn digest_body(reader: &User, day: NaiveDate, lines: &[&str]) -> String {
    const END: &str = "\nOpen muster to triage them. Switch this digest off with: muster user digest off\n";
    let mut body = format!("Hello {},\n\nThe alert job for {day} left these for you:\n\n", reader.name);
    body.reserve(lines.iter().map(|line| line.len()).sum::<usize>() + END.len());
    for line in lines {
        body.push_str(line);
    }
    body.push_str(END);
    body
}

/// One line of a digest, its line break included.
fn digest_line(line: &store::DigestLine) -> String {
    let what = match line.kind.as_str() {
        "no_login" => "days without a login",
        _ => "missed session days",
    };
    let mut text = format!("  {:<8} {} {}: {} {what}", line.severity, line.student_id, line.name, line.count);
    if !line.change.is_empty() {
        text.push_str(" (");
        text.push_str(&line.change);
        text.push(')');
    }
    text.push('\n');
    text
}
