//! Onboarding (SPEC "Onboarding"): the role packages and documents shipped in `assets/`, the
//! checklist, and what a partner does to complete it — choose their role, accept each
//! responsibility, consent to e-signing, sign or acknowledge each document. Admins may waive it.

use super::{Actor, AppError, Ctx, Outcome, Result};
use crate::domain::onboarding::{check_signature, sha256_hex};
use crate::domain::{Role, User};
use crate::store::partners::{self, Document, Package, Provenance};
use crate::store::users;
use serde::{Deserialize, Serialize};

/// The ESIGN consent shown before a person's first signature.
pub const ESIGN_CONSENT: &str = include_str!("../../assets/onboarding/esign_consent.md");
pub const ESIGN_VERSION: &str = "2026.1";

const ROLES: &str = include_str!("../../assets/onboarding/roles.toml");

/// The text of each document code the assets name.
fn document_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "mou" => include_str!("../../assets/onboarding/mou.md"),
        "handbook_program_holder" => include_str!("../../assets/onboarding/handbook_program_holder.md"),
        "handbook_worksite" => include_str!("../../assets/onboarding/handbook_worksite.md"),
        "handbook_site_coordinator" => include_str!("../../assets/onboarding/handbook_site_coordinator.md"),
        "payment_terms" => include_str!("../../assets/onboarding/payment_terms.md"),
        "w9_instructions" => include_str!("../../assets/onboarding/w9_instructions.md"),
        _ => return None,
    })
}

#[derive(Debug, Deserialize)]
struct Assets {
    role: Vec<RoleAsset>,
    document: Vec<DocumentAsset>,
}

#[derive(Debug, Deserialize)]
struct RoleAsset {
    role: Role,
    title: String,
    summary: String,
    requirements: Vec<String>,
    may: Vec<String>,
    may_not: Vec<String>,
    documents: Vec<String>,
    responsibilities: Vec<ItemAsset>,
}

#[derive(Debug, Deserialize)]
struct ItemAsset {
    code: String,
    text: String,
}

#[derive(Debug, Deserialize)]
struct DocumentAsset {
    code: String,
    title: String,
    version: String,
    action: String,
}

fn assets() -> Result<Assets> {
    toml::from_str(ROLES).map_err(|e| AppError::Invalid(format!("assets/onboarding/roles.toml: {e}")))
}

/// The version stamped on role packages: the shipped roles file's hash, so a changed file shows.
fn roles_version() -> String {
    sha256_hex(ROLES.as_bytes())[..12].to_string()
}

/// Whether the database already holds exactly the shipped assets; read-only, so opening a
/// database for a read never has to wait for a writer.
pub(super) fn assets_current(conn: &rusqlite::Connection) -> Result<bool> {
    let assets = assets()?;
    for r in &assets.role {
        if partners::package(conn, r.role)?.is_none_or(|p| p.version != roles_version()) {
            return Ok(false);
        }
    }
    for d in &assets.document {
        let shipped = document_text(&d.code).map(|body| sha256_hex(body.as_bytes()));
        let stored = partners::latest_document(conn, &d.code)?.map(|doc| doc.sha256);
        if shipped.is_none() || shipped != stored {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Brings role packages, responsibilities and documents in the database up to the shipped
/// assets. A document whose text changed gets a new version: earlier signatures stop counting.
pub(super) fn sync_assets(ctx: &Ctx) -> Result<Outcome> {
    let assets = assets()?;
    let mut changed = Vec::new();
    for d in &assets.document {
        let body = document_text(&d.code).ok_or_else(|| {
            AppError::Invalid(format!("roles.toml names document '{}' with no text in assets", d.code))
        })?;
        let doc = Document {
            code: d.code.clone(),
            title: d.title.clone(),
            action: d.action.clone(),
            version: d.version.clone(),
            sha256: sha256_hex(body.as_bytes()),
            body: body.to_string(),
        };
        if partners::store_document(ctx.tx, &doc)? {
            changed.push(format!("document {} {}", doc.code, doc.version));
        }
    }
    for r in &assets.role {
        let package = Package {
            role: r.role,
            title: r.title.clone(),
            summary: r.summary.clone(),
            may: r.may.clone(),
            may_not: r.may_not.clone(),
            requirements: r.requirements.clone(),
            version: roles_version(),
        };
        if partners::store_package(ctx.tx, &package)? {
            changed.push(format!("role package {}", r.role));
        }
        for (i, item) in r.responsibilities.iter().enumerate() {
            if partners::store_item(ctx.tx, r.role, &item.code, i, &item.text)? {
                changed.push(format!("responsibility {}/{}", r.role, item.code));
            }
        }
        if partners::set_packet(ctx.tx, r.role, &r.documents)? {
            changed.push(format!("packet {}", r.role));
        }
    }
    if !changed.is_empty() {
        ctx.audit(
            "onboarding.assets",
            "onboarding",
            "assets",
            serde_json::Value::Null,
            serde_json::json!({ "changed": changed }),
        )?;
    }
    Ok(Outcome::Noted(format!("{} onboarding assets updated", changed.len())))
}

/// One thing a partner has to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    /// `role`, `responsibility`, `consent`, `sign`, `acknowledge`, `payroll`.
    pub kind: String,
    pub code: String,
    pub title: String,
    pub done: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checklist {
    pub login: String,
    pub name: String,
    pub role: Role,
    /// Onboarding already on file elsewhere.
    pub waived: bool,
    pub complete: bool,
    pub percent: u32,
    pub items: Vec<ChecklistItem>,
}

impl Checklist {
    /// What is left to do; nothing once complete (a waiver completes it without the steps).
    pub fn missing(&self) -> Vec<&ChecklistItem> {
        if self.complete {
            return Vec::new();
        }
        self.items.iter().filter(|i| !i.done).collect()
    }
}

pub(super) fn checklist(conn: &rusqlite::Connection, user: &User) -> Result<Checklist> {
    let role = user.role;
    let mut items = Vec::new();
    if role.is_partner() {
        let chosen = partners::chosen_role(conn, &user.login)?;
        items.push(ChecklistItem {
            kind: "role".into(),
            code: role.as_str().into(),
            title: format!("choose your role ({role})"),
            done: chosen.is_some(),
        });
        let accepted = partners::accepted_items(conn, &user.login)?;
        for (id, code, text) in partners::items(conn, role)? {
            items.push(ChecklistItem {
                kind: "responsibility".into(),
                code,
                title: text,
                done: accepted.contains(&id),
            });
        }
        let consented = partners::consent_version(conn, &user.login)?.is_some();
        items.push(ChecklistItem {
            kind: "consent".into(),
            code: "esign".into(),
            title: "consent to sign electronically".into(),
            done: consented,
        });
        for code in partners::packet(conn, role)? {
            if let Some(doc) = partners::latest_document(conn, &code)? {
                let done = partners::has_completed(conn, &user.login, &code, &doc.sha256)?;
                let verb = if doc.action == "sign" { "sign" } else { "acknowledge" };
                items.push(ChecklistItem {
                    kind: verb.into(),
                    code,
                    title: format!("{verb} the {} ({})", doc.title, doc.version),
                    done,
                });
            }
        }
        let submitted = partners::payroll_of(conn, &user.login)?.is_some();
        items.push(ChecklistItem {
            kind: "payroll".into(),
            code: "payroll".into(),
            title: "submit your payroll profile".into(),
            done: submitted,
        });
    }
    let done = items.iter().filter(|i| i.done).count();
    let complete = users::onboarding_complete(conn, user)?;
    let percent = if complete || items.is_empty() { 100 } else { (done * 100 / items.len()) as u32 };
    Ok(Checklist {
        login: user.login.clone(),
        name: user.name.clone(),
        role,
        waived: user.onboarding_waived,
        complete,
        percent,
        items,
    })
}

/// Onboarding steps are for partners, each on their own account.
fn partner(actor: &Actor) -> Result<&User> {
    let me = actor.user();
    if me.role.is_partner() {
        Ok(me)
    } else {
        Err(AppError::Invalid("admins have no onboarding; partners onboard on their own account (or with --as)".into()))
    }
}

fn provenance<'a>(ctx: &'a Ctx, at: &'a str) -> Provenance<'a> {
    Provenance { at, host: &ctx.origin.host, client: &ctx.origin.client, os_account: &ctx.origin.os_account }
}

pub(super) fn select_role(ctx: &Ctx, role: Role) -> Result<Outcome> {
    let me = partner(ctx.actor)?;
    if role != me.role {
        return Err(AppError::Invalid(format!(
            "{} is registered as {}; choose {} or ask an admin to change your registration",
            me.login, me.role, me.role
        )));
    }
    if partners::chosen_role(ctx.tx, &me.login)? == Some(role) {
        return Ok(Outcome::Noted(format!("{role} is already your role")));
    }
    partners::choose_role(ctx.tx, &me.login, role, &ctx.now_text())?;
    ctx.audit(
        "onboarding.select_role",
        "partner",
        &me.login,
        serde_json::Value::Null,
        serde_json::json!({ "role": role }),
    )?;
    Ok(Outcome::Noted(format!("you chose the {role} role")))
}

/// Accepts responsibilities by code, or every one with `all`.
pub(super) fn accept(ctx: &Ctx, codes: &[String]) -> Result<Outcome> {
    let me = partner(ctx.actor)?;
    if partners::chosen_role(ctx.tx, &me.login)?.is_none() {
        return Err(AppError::Invalid(format!("choose your role first: muster onboarding select-role {}", me.role)));
    }
    let items = partners::items(ctx.tx, me.role)?;
    let all = codes.iter().any(|c| c == "all");
    let mut chosen = Vec::new();
    for code in codes.iter().filter(|c| *c != "all") {
        let item = items.iter().find(|(_, c, _)| c == code).ok_or_else(|| {
            let known: Vec<&str> = items.iter().map(|(_, c, _)| c.as_str()).collect();
            AppError::Invalid(format!(
                "'{code}' is not a responsibility of a {}: {} (or all)",
                me.role,
                known.join(", ")
            ))
        })?;
        chosen.push(item);
    }
    if all {
        chosen = items.iter().collect();
    }
    let now = ctx.now_text();
    let mut accepted = Vec::new();
    for (id, code, text) in chosen {
        if partners::accept_item(ctx.tx, &me.login, *id, &now)? {
            ctx.audit(
                "onboarding.accept",
                "responsibility",
                code,
                serde_json::Value::Null,
                serde_json::json!({ "text": text }),
            )?;
            accepted.push(code.clone());
        }
    }
    Ok(Outcome::Noted(format!("accepted {} responsibilities", accepted.len())))
}

pub(super) fn consent(ctx: &Ctx, version: &str) -> Result<Outcome> {
    let me = partner(ctx.actor)?;
    if version != ESIGN_VERSION {
        return Err(AppError::Invalid(format!(
            "the consent shown was version {version}; the current one is {ESIGN_VERSION}: read it again"
        )));
    }
    if partners::consent_version(ctx.tx, &me.login)?.as_deref() == Some(ESIGN_VERSION) {
        return Ok(Outcome::Noted("you already consented".into()));
    }
    let now = ctx.now_text();
    partners::record_consent(ctx.tx, &me.login, ESIGN_VERSION, ESIGN_CONSENT, &provenance(ctx, &now))?;
    ctx.audit(
        "onboarding.consent",
        "esign_consent",
        &me.login,
        serde_json::Value::Null,
        serde_json::json!({ "version": ESIGN_VERSION }),
    )?;
    Ok(Outcome::Noted("consent to sign electronically recorded".into()))
}

/// The document, if it is in the actor's packet, checked against the text they were shown.
fn packet_document(ctx: &Ctx, me: &User, code: &str, shown_sha256: &str) -> Result<Document> {
    if !partners::packet(ctx.tx, me.role)?.iter().any(|c| c == code) {
        return Err(AppError::Invalid(format!(
            "'{code}' is not in the {} packet; see muster onboarding status",
            me.role
        )));
    }
    let doc =
        partners::latest_document(ctx.tx, code)?.ok_or_else(|| AppError::NotFound(format!("document '{code}'")))?;
    if doc.sha256 != shown_sha256 {
        return Err(AppError::Invalid(format!(
            "the {} changed since it was shown; read it again before you sign",
            doc.title
        )));
    }
    Ok(doc)
}

pub(super) fn sign(
    ctx: &Ctx,
    code: &str,
    typed_name: &str,
    shown_sha256: &str,
    mark: Option<&crate::domain::onboarding::Mark>,
) -> Result<Outcome> {
    let me = partner(ctx.actor)?;
    let doc = packet_document(ctx, me, code, shown_sha256)?;
    if doc.action != "sign" {
        return Err(AppError::Invalid(format!(
            "the {} is acknowledged, not signed: muster onboarding ack {code}",
            doc.title
        )));
    }
    if partners::consent_version(ctx.tx, &me.login)?.is_none() {
        return Err(AppError::Invalid(
            "consent to sign electronically first: muster onboarding consent --agree".into(),
        ));
    }
    check_signature(typed_name, &me.name).map_err(AppError::Invalid)?;
    // The drawn mark is the person's own gesture; the typed name alone decides validity.
    let mark = mark.filter(|m| m.iter().any(|stroke| !stroke.is_empty()));
    if let Some(mark) = mark {
        crate::domain::onboarding::check_mark(mark).map_err(AppError::Invalid)?;
    }
    let mark_json = mark.map(|m| serde_json::to_string(m).unwrap_or_default());
    let now = ctx.now_text();
    partners::record_signature(
        ctx.tx,
        &me.login,
        &doc,
        typed_name.trim(),
        mark_json.as_deref(),
        &provenance(ctx, &now),
    )?;
    let after = serde_json::json!({
        "version": doc.version, "sha256": doc.sha256, "typed_name": typed_name.trim(), "mark": mark,
    });
    ctx.audit("onboarding.sign", "document", code, serde_json::Value::Null, after)?;
    let drawn = match mark {
        Some(m) => format!(", with the mark you drew ({} strokes)", m.len()),
        None => String::new(),
    };
    Ok(Outcome::Noted(format!("signed the {} ({}){drawn}", doc.title, doc.version)))
}

pub(super) fn acknowledge(ctx: &Ctx, code: &str, shown_sha256: &str) -> Result<Outcome> {
    let me = partner(ctx.actor)?;
    let doc = packet_document(ctx, me, code, shown_sha256)?;
    if doc.action != "acknowledge" {
        return Err(AppError::Invalid(format!(
            "the {} must be signed: muster onboarding sign {code} --name \"Full Name\"",
            doc.title
        )));
    }
    let now = ctx.now_text();
    partners::record_acknowledgement(ctx.tx, &me.login, &doc, &provenance(ctx, &now))?;
    ctx.audit(
        "onboarding.ack",
        "document",
        code,
        serde_json::Value::Null,
        serde_json::json!({ "version": doc.version, "sha256": doc.sha256 }),
    )?;
    Ok(Outcome::Noted(format!("acknowledged the {} ({})", doc.title, doc.version)))
}

pub(super) fn waive(ctx: &Ctx, login: &str, reason: &str) -> Result<Outcome> {
    ctx.require_admin("waive onboarding")?;
    if reason.trim().is_empty() {
        return Err(AppError::Invalid("say why onboarding is waived (--reason), e.g. where it is on file".into()));
    }
    let user = users::get(ctx.tx, login)?.ok_or_else(|| AppError::NotFound(format!("user '{login}'")))?;
    if !user.role.is_partner() {
        return Err(AppError::Invalid(format!("{login} is an admin; admins have no onboarding")));
    }
    users::waive_onboarding(ctx.tx, login, reason.trim())?;
    ctx.audit(
        "onboarding.waive",
        "user",
        login,
        serde_json::json!({ "waived": user.onboarding_waived }),
        serde_json::json!({ "waived": true, "reason": reason.trim() }),
    )?;
    Ok(Outcome::Noted(format!("onboarding waived for {login}")))
}
