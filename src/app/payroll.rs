//! Payroll profiles (SPEC "Payroll profiles"): a partner submits one within their role's rate
//! range; an admin approves or rejects it, never their own.

use super::{AppError, Ctx, Outcome, Result};
use crate::domain::onboarding::{
    PayoutMethod, check_rate, check_routing_number, check_stripe_account, sha256_hex, w9_media_type,
};
use crate::store::partners::{self, PayrollSubmission};
use serde::{Deserialize, Serialize};

/// What a partner submits. A full bank account number never gets this far: the face that reads
/// it checks it and passes on the last four digits only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayrollForm {
    pub rate: f64,
    pub method: PayoutMethod,
    pub stripe_account: Option<String>,
    pub routing_number: Option<String>,
    pub account_last4: Option<String>,
    pub w9: Vec<u8>,
    pub accept_terms: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum PayrollDecision {
    Approve,
    Reject { reason: String },
}

pub(super) fn submit(ctx: &Ctx, form: &PayrollForm) -> Result<Outcome> {
    let me = ctx.actor.user();
    if !me.role.is_partner() {
        return Err(AppError::Invalid("payroll profiles are for partners".into()));
    }
    let (pay_model, min, max, _) = partners::rate_range(ctx.tx, me.role)?;
    let unit = if pay_model == "percent" { "%" } else { "USD a month" };
    check_rate(form.rate, min, max, unit).map_err(AppError::Invalid)?;
    let (stripe, routing, last4) = match form.method {
        PayoutMethod::StripeConnect => {
            let id = form
                .stripe_account
                .as_deref()
                .ok_or_else(|| AppError::Invalid("Stripe Connect needs --account acct_…".into()))?;
            check_stripe_account(id).map_err(AppError::Invalid)?;
            (Some(id), None, None)
        }
        PayoutMethod::Ach => {
            let routing = form
                .routing_number
                .as_deref()
                .ok_or_else(|| AppError::Invalid("ACH needs --routing, the 9-digit routing number".into()))?;
            check_routing_number(routing).map_err(AppError::Invalid)?;
            let last4 = form.account_last4.as_deref().filter(|l| l.len() == 4 && l.chars().all(|c| c.is_ascii_digit()));
            let last4 = last4
                .ok_or_else(|| AppError::Invalid("ACH needs --account, the 4 to 17 digit account number".into()))?;
            (None, Some(routing), Some(last4))
        }
    };
    let media_type = w9_media_type(&form.w9).map_err(AppError::Invalid)?;
    if !form.accept_terms {
        return Err(AppError::Invalid("accept the payment terms (--accept-terms) to submit".into()));
    }
    let before = partners::payroll_of(ctx.tx, &me.login)?;
    let w9_sha256 = sha256_hex(&form.w9);
    let now = ctx.now_text();
    let id = partners::submit_payroll(
        ctx.tx,
        &PayrollSubmission {
            login: &me.login,
            role: me.role,
            rate: form.rate,
            method: form.method.as_str(),
            stripe_account: stripe,
            routing_number: routing,
            account_last4: last4,
            w9_media_type: media_type,
            w9_sha256: &w9_sha256,
            w9: &form.w9,
            submitted_at: &now,
        },
    )?;
    let before = before.map_or(
        serde_json::Value::Null,
        |b| serde_json::json!({ "status": b.status, "rate": b.rate, "method": b.method }),
    );
    let after = serde_json::json!({
        "status": "pending", "rate": form.rate, "method": form.method, "account_last4": last4, "w9_sha256": w9_sha256,
    });
    ctx.audit("payroll.submit", "payroll_profile", &id.to_string(), before, after)?;
    Ok(Outcome::Noted(format!("payroll profile {id} submitted: pending an admin's approval")))
}

pub(super) fn decide(ctx: &Ctx, id: i64, decision: &PayrollDecision) -> Result<Outcome> {
    ctx.require_admin("approve or reject payroll profiles")?;
    let profile =
        partners::payroll_get(ctx.tx, id)?.ok_or_else(|| AppError::NotFound(format!("payroll profile {id}")))?;
    if profile.login == ctx.actor.person.login || profile.login == ctx.actor.user().login {
        return Err(AppError::Denied(format!("payroll profile {id} is your own; another admin must decide it")));
    }
    if profile.status != "pending" {
        return Err(AppError::Invalid(format!("payroll profile {id} is already {}", profile.status)));
    }
    let (status, reason) = match decision {
        PayrollDecision::Approve => ("approved", None),
        PayrollDecision::Reject { reason } if reason.trim().is_empty() => {
            return Err(AppError::Invalid("a rejection needs a reason (--reason) the partner can act on".into()));
        }
        PayrollDecision::Reject { reason } => ("rejected", Some(reason.trim())),
    };
    partners::decide_payroll(ctx.tx, id, status, &ctx.actor.user().login, &ctx.now_text(), reason)?;
    let after = serde_json::json!({ "status": status, "reason": reason });
    ctx.audit(
        &format!("payroll.{}", if reason.is_some() { "reject" } else { "approve" }),
        "payroll_profile",
        &id.to_string(),
        serde_json::json!({ "status": "pending" }),
        after,
    )?;
    Ok(Outcome::Noted(format!("payroll profile {id} {status}")))
}
