//! What people do with alerts (SPEC "Triage"): acknowledge (claims it), snooze an acknowledged
//! alert until a time, assign it to someone who may see the student, resolve it with a note.
//! Also changing thresholds, and ending snoozes whose time has come.

use super::alerts::SYSTEM;
use super::{AppError, Ctx, Outcome, Result};
use crate::domain::alerts::{AlertStatus, AlertType, Thresholds};
use crate::domain::{Role, User};
use crate::store::alerts::{self as store_alerts, AlertView};
use crate::store::users;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The longest snooze: a year. Longer is not a snooze.
pub const SNOOZE_LIMIT_DAYS: i64 = 366;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Triage {
    Ack,
    Snooze {
        until: DateTime<Utc>,
    },
    Assign {
        to: String,
    },
    Resolve,
    /// Takes an acknowledgement back: the alert is open again, given back to whoever had it
    /// before (nobody, with `None`). Only who acknowledged it, or an admin.
    Reopen {
        assigned_to: Option<String>,
    },
}

impl Triage {
    fn verb(&self) -> &'static str {
        match self {
            Triage::Ack => "acknowledged",
            Triage::Snooze { .. } => "snoozed",
            Triage::Assign { .. } => "assigned",
            Triage::Resolve => "resolved",
            Triage::Reopen { .. } => "reopened",
        }
    }

    fn audit_action(&self) -> &'static str {
        match self {
            Triage::Ack => "alert.ack",
            Triage::Snooze { .. } => "alert.snooze",
            Triage::Assign { .. } => "alert.assign",
            Triage::Resolve => "alert.resolve",
            Triage::Reopen { .. } => "alert.reopen",
        }
    }
}

fn state(view: &AlertView) -> serde_json::Value {
    serde_json::json!({ "status": view.status, "assigned_to": view.assigned_to, "snoozed_until": view.snoozed_until })
}

/// Applies one triage action to every alert in `ids`, all or nothing.
pub(super) fn triage(ctx: &Ctx, ids: &[i64], action: &Triage, note: Option<&str>) -> Result<Outcome> {
    if ids.is_empty() {
        return Err(AppError::Invalid("name at least one alert ID".into()));
    }
    let me = ctx.actor.user();
    let assignee = match action {
        Triage::Assign { to } | Triage::Reopen { assigned_to: Some(to) } => {
            Some(users::get(ctx.tx, to)?.ok_or_else(|| AppError::NotFound(format!("user '{to}' (given with --to)")))?)
        }
        Triage::Snooze { until } if *until <= ctx.now => {
            return Err(AppError::Invalid(format!("--until {} is not in the future", until.to_rfc3339())));
        }
        Triage::Snooze { until } if *until - ctx.now > chrono::Duration::days(SNOOZE_LIMIT_DAYS) => {
            return Err(AppError::Invalid(format!("snooze for at most {SNOOZE_LIMIT_DAYS} days")));
        }
        _ => None,
    };
    let now = ctx.now_text();
    let mut unchanged = Vec::new();
    for &id in ids {
        let view = store_alerts::get(ctx.tx, me, id)?;
        if view.status == AlertStatus::Resolved {
            return Err(AppError::Invalid(format!("alert {id} is already resolved")));
        }
        let (status, assigned_to, snoozed_until) = match action {
            Triage::Ack if view.status != AlertStatus::Open => {
                unchanged.push(id);
                continue;
            }
            Triage::Ack => (AlertStatus::Acknowledged, Some(me.login.clone()), None),
            Triage::Snooze { until } => {
                if view.status == AlertStatus::Open {
                    return Err(AppError::Invalid(format!(
                        "alert {id} is not acknowledged yet; acknowledge it before snoozing"
                    )));
                }
                (AlertStatus::Snoozed, view.assigned_to.clone(), Some(until.to_rfc3339_opts(SecondsFormat::Secs, true)))
            }
            Triage::Assign { .. } => {
                let to = assignee.as_ref().expect("looked up above");
                check_may_see(ctx, to, &view)?;
                // A new owner starts from an open alert: assigning clears a snooze.
                let status = if view.status == AlertStatus::Snoozed { AlertStatus::Open } else { view.status };
                (status, Some(to.login.clone()), None)
            }
            Triage::Resolve => (AlertStatus::Resolved, view.assigned_to.clone(), None),
            Triage::Reopen { .. } => {
                if view.status != AlertStatus::Acknowledged {
                    return Err(AppError::Invalid(format!("alert {id} is {}, not acknowledged", view.status)));
                }
                if me.role != Role::Admin && view.assigned_to.as_deref() != Some(me.login.as_str()) {
                    return Err(AppError::Denied(format!(
                        "alert {id} was acknowledged by {}; only they or an admin take it back",
                        view.assigned_to.as_deref().unwrap_or("someone")
                    )));
                }
                if let Some(to) = &assignee {
                    check_may_see(ctx, to, &view)?;
                }
                (AlertStatus::Open, assignee.as_ref().map(|u| u.login.clone()), None)
            }
        };
        if *action == Triage::Resolve {
            store_alerts::resolve(ctx.tx, id, &me.login, true, &now)?;
        } else {
            store_alerts::set_triage(ctx.tx, id, status, assigned_to.as_deref(), snoozed_until.as_deref(), &now)?;
        }
        let detail = match action {
            Triage::Snooze { .. } => format!("until {}", snoozed_until.as_deref().unwrap_or("")),
            Triage::Assign { to } => format!("to {to}"),
            Triage::Reopen { assigned_to: Some(to) } => format!("back to {to}"),
            _ => String::new(),
        };
        let note_text = match (detail.is_empty(), note) {
            (true, None) => None,
            (true, Some(n)) => Some(n.to_string()),
            (false, None) => Some(detail),
            (false, Some(n)) => Some(format!("{detail}: {n}")),
        };
        store_alerts::add_event(ctx.tx, id, &now, &ctx.actor_label(), action.verb(), None, note_text.as_deref())?;
        let after = serde_json::json!({
            "status": status, "assigned_to": assigned_to, "snoozed_until": snoozed_until, "note": note,
        });
        ctx.audit(action.audit_action(), "alert", &id.to_string(), state(&view), after)?;
    }
    let changed: Vec<i64> = ids.iter().copied().filter(|id| !unchanged.contains(id)).collect();
    Ok(Outcome::Triaged { verb: action.verb(), changed, unchanged })
}

/// Only someone who may see the student can be given an alert about them.
fn check_may_see(ctx: &Ctx, to: &User, view: &AlertView) -> Result<()> {
    if to.role != Role::Admin && !users::who_may_see(ctx.tx, view.student)?.contains(&to.login) {
        return Err(AppError::Denied(format!(
            "{} may not see student '{}', so cannot be assigned alert {}",
            to.login, view.student_id, view.id
        )));
    }
    if !users::onboarding_complete(ctx.tx, to)? {
        return Err(AppError::Denied(format!("{} has not finished onboarding yet", to.login)));
    }
    Ok(())
}

pub(super) fn set_thresholds(ctx: &Ctx, kind: AlertType, thresholds: Thresholds) -> Result<Outcome> {
    ctx.require_admin("change alert thresholds")?;
    thresholds.check().map_err(AppError::Invalid)?;
    let before = store_alerts::thresholds(ctx.tx, kind)?;
    if before == thresholds {
        return Ok(Outcome::ThresholdsSet { kind, changed: false });
    }
    store_alerts::set_thresholds(ctx.tx, kind, &thresholds)?;
    ctx.audit(
        "alert.thresholds",
        "alert_thresholds",
        kind.as_str(),
        serde_json::to_value(before).unwrap_or_default(),
        serde_json::to_value(thresholds).unwrap_or_default(),
    )?;
    Ok(Outcome::ThresholdsSet { kind, changed: true })
}

/// Snoozed alerts whose time has come are open again.
pub(super) fn end_snoozes(ctx: &Ctx) -> Result<Outcome> {
    let now = ctx.now_text();
    let ids = store_alerts::snoozes_ending(ctx.tx, &now)?;
    for &id in &ids {
        store_alerts::set_triage_status(ctx.tx, id, AlertStatus::Open, &now)?;
        store_alerts::add_event(ctx.tx, id, &now, SYSTEM, "snooze ended", None, None)?;
    }
    if !ids.is_empty() {
        ctx.audit("alert.snooze_ended", "alert", "*", serde_json::Value::Null, serde_json::json!({ "ids": ids }))?;
    }
    Ok(Outcome::SnoozesEnded { ids })
}
