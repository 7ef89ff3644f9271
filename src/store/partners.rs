//! Partner profiles (the role a partner chose) and payroll profiles.

use super::Cached;
use super::Result;
use crate::domain::Role;
use rusqlite::{Connection, params};

pub fn choose_role(conn: &Connection, login: &str, role: Role, at: &str) -> Result<()> {
    conn.execute_cached(
        "INSERT INTO partner_profiles (login, role, selected_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (login) DO UPDATE SET role = excluded.role, selected_at = excluded.selected_at",
        params![login, role.as_str(), at],
    )?;
    Ok(())
}

/// A payout profile as submitted; only the last four digits of an account number are kept.
pub struct PayrollSubmission<'a> {
    pub login: &'a str,
    pub role: Role,
    pub rate: f64,
    pub method: &'a str,
    pub stripe_account: Option<&'a str>,
    pub routing_number: Option<&'a str>,
    pub account_last4: Option<&'a str>,
    pub w9_media_type: &'a str,
    pub w9_sha256: &'a str,
    pub w9: &'a [u8],
    pub submitted_at: &'a str,
}

/// Stores a submitted profile as `pending`, replacing an earlier one of the same partner.
pub fn submit_payroll(conn: &Connection, p: &PayrollSubmission) -> Result<i64> {
    conn.execute_cached(
        "INSERT INTO payroll_profiles (login, role, rate, method, stripe_account, routing_number, account_last4,
                                       w9_media_type, w9_sha256, w9, terms_accepted_at, status, submitted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending', ?11)
         ON CONFLICT (login) DO UPDATE SET role = excluded.role, rate = excluded.rate, method = excluded.method,
             stripe_account = excluded.stripe_account, routing_number = excluded.routing_number,
             account_last4 = excluded.account_last4, w9_media_type = excluded.w9_media_type,
             w9_sha256 = excluded.w9_sha256, w9 = excluded.w9, terms_accepted_at = excluded.terms_accepted_at,
             status = 'pending', submitted_at = excluded.submitted_at,
             decided_by = NULL, decided_at = NULL, reason = NULL",
        params![
            p.login,
            p.role.as_str(),
            p.rate,
            p.method,
            p.stripe_account,
            p.routing_number,
            p.account_last4,
            p.w9_media_type,
            p.w9_sha256,
            p.w9,
            p.submitted_at
        ],
    )?;
    Ok(conn.query_row_cached("SELECT id FROM payroll_profiles WHERE login = ?1", [p.login], |r| r.get(0))?)
}

use rusqlite::OptionalExtension;
use std::collections::HashSet;

/// The latest version of an onboarding document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Document {
    pub code: String,
    pub title: String,
    pub action: String,
    pub version: String,
    pub sha256: String,
    pub body: String,
}

pub fn latest_document(conn: &Connection, code: &str) -> Result<Option<Document>> {
    let mut stmt = conn.prepare_cached(
        "SELECT code, title, action, version, sha256, body FROM onboarding_documents WHERE code = ?1 ORDER BY id DESC LIMIT 1",
    )?;
    Ok(stmt
        .query_row([code], |r| {
            Ok(Document {
                code: r.get(0)?,
                title: r.get(1)?,
                action: r.get(2)?,
                version: r.get(3)?,
                sha256: r.get(4)?,
                body: r.get(5)?,
            })
        })
        .optional()?)
}

/// Stores a document's text unless its latest version already has exactly that text.
/// Returns whether a new version was stored.
pub fn store_document(conn: &Connection, doc: &Document) -> Result<bool> {
    if latest_document(conn, &doc.code)?.is_some_and(|latest| latest.sha256 == doc.sha256 && latest.title == doc.title)
    {
        return Ok(false);
    }
    conn.execute_cached(
        "INSERT INTO onboarding_documents (code, title, action, version, sha256, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (code, sha256) DO UPDATE SET title = excluded.title, action = excluded.action, version = excluded.version",
        params![doc.code, doc.title, doc.action, doc.version, doc.sha256, doc.body],
    )?;
    Ok(true)
}

/// The role package's texts, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Package {
    pub role: Role,
    pub title: String,
    pub summary: String,
    pub may: Vec<String>,
    pub may_not: Vec<String>,
    pub requirements: Vec<String>,
    pub version: String,
}

pub fn store_package(conn: &Connection, p: &Package) -> Result<bool> {
    let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_default();
    let changed = conn.execute_cached(
        "INSERT INTO role_packages (role, title, summary, may, may_not, requirements, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (role) DO UPDATE SET title = excluded.title, summary = excluded.summary, may = excluded.may,
             may_not = excluded.may_not, requirements = excluded.requirements, version = excluded.version
         WHERE title IS NOT excluded.title OR summary IS NOT excluded.summary OR may IS NOT excluded.may
            OR may_not IS NOT excluded.may_not OR requirements IS NOT excluded.requirements OR version IS NOT excluded.version",
        params![p.role.as_str(), p.title, p.summary, json(&p.may), json(&p.may_not), json(&p.requirements), p.version],
    )?;
    Ok(changed > 0)
}

pub fn package(conn: &Connection, role: Role) -> Result<Option<Package>> {
    let parse = |text: String| serde_json::from_str::<Vec<String>>(&text).unwrap_or_default();
    Ok(conn
        .query_row_cached(
            "SELECT title, summary, may, may_not, requirements, version FROM role_packages WHERE role = ?1",
            [role.as_str()],
            |r| {
                Ok(Package {
                    role,
                    title: r.get(0)?,
                    summary: r.get(1)?,
                    may: parse(r.get(2)?),
                    may_not: parse(r.get(3)?),
                    requirements: parse(r.get(4)?),
                    version: r.get(5)?,
                })
            },
        )
        .optional()?)
}

/// Stores a responsibility; a changed text must be accepted again, so it gets a new item.
pub fn store_item(conn: &Connection, role: Role, code: &str, position: usize, text: &str) -> Result<bool> {
    let existing: Option<(i64, String)> = conn
        .query_row_cached(
            "SELECT id, text FROM responsibility_items WHERE role = ?1 AND code = ?2",
            params![role.as_str(), code],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match existing {
        Some((_, old)) if old == text => {
            conn.execute_cached(
                "UPDATE responsibility_items SET position = ?3 WHERE role = ?1 AND code = ?2",
                params![role.as_str(), code, position as i64],
            )?;
            Ok(false)
        }
        Some((id, _)) => {
            conn.execute_cached("DELETE FROM responsibility_acceptances WHERE item = ?1", [id])?;
            conn.execute_cached(
                "UPDATE responsibility_items SET text = ?2, position = ?3 WHERE id = ?1",
                params![id, text, position as i64],
            )?;
            Ok(true)
        }
        None => {
            conn.execute_cached(
                "INSERT INTO responsibility_items (role, code, position, text) VALUES (?1, ?2, ?3, ?4)",
                params![role.as_str(), code, position as i64, text],
            )?;
            Ok(true)
        }
    }
}

/// (item id, code, text) of a role's responsibilities, in order.
pub fn items(conn: &Connection, role: Role) -> Result<Vec<(i64, String, String)>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, code, text FROM responsibility_items WHERE role = ?1 ORDER BY position")?;
    let rows = stmt.query_map([role.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn set_packet(conn: &Connection, role: Role, codes: &[String]) -> Result<bool> {
    let current: Vec<String> = {
        let mut stmt =
            conn.prepare_cached("SELECT document_code FROM onboarding_packets WHERE role = ?1 ORDER BY position")?;
        stmt.query_map([role.as_str()], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
    };
    if current == codes {
        return Ok(false);
    }
    conn.execute_cached("DELETE FROM onboarding_packets WHERE role = ?1", [role.as_str()])?;
    for (i, code) in codes.iter().enumerate() {
        conn.execute_cached(
            "INSERT INTO onboarding_packets (role, document_code, position) VALUES (?1, ?2, ?3)",
            params![role.as_str(), code, i as i64],
        )?;
    }
    Ok(true)
}

pub fn packet(conn: &Connection, role: Role) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT document_code FROM onboarding_packets WHERE role = ?1 ORDER BY position")?;
    let codes = stmt.query_map([role.as_str()], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(codes)
}

pub fn chosen_role(conn: &Connection, login: &str) -> Result<Option<Role>> {
    let role: Option<String> = conn
        .query_row_cached("SELECT role FROM partner_profiles WHERE login = ?1", [login], |r| r.get(0))
        .optional()?;
    Ok(role.and_then(|r| r.parse().ok()))
}

pub fn accepted_items(conn: &Connection, login: &str) -> Result<HashSet<i64>> {
    let mut stmt = conn.prepare_cached("SELECT item FROM responsibility_acceptances WHERE login = ?1")?;
    let ids = stmt.query_map([login], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

pub fn accept_item(conn: &Connection, login: &str, item: i64, at: &str) -> Result<bool> {
    let changed = conn.execute_cached(
        "INSERT INTO responsibility_acceptances (login, item, accepted_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        params![login, item, at],
    )?;
    Ok(changed > 0)
}

/// Where and by whom a consent, signature or acknowledgement was given.
pub struct Provenance<'a> {
    pub at: &'a str,
    pub host: &'a str,
    pub client: &'a str,
    pub os_account: &'a str,
}

pub fn consent_version(conn: &Connection, login: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row_cached(
            "SELECT consent_version FROM esign_consents WHERE login = ?1 ORDER BY id DESC LIMIT 1",
            [login],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn record_consent(conn: &Connection, login: &str, version: &str, text: &str, p: &Provenance) -> Result<()> {
    conn.execute_cached(
        "INSERT INTO esign_consents (login, consent_version, consent_sha256, consent_text, at, host, client, os_account)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![login, version, crate::domain::onboarding::sha256_hex(text.as_bytes()), text, p.at, p.host, p.client, p.os_account],
    )?;
    Ok(())
}

/// Whether the user signed or acknowledged exactly this text of the document.
pub fn has_completed(conn: &Connection, login: &str, code: &str, sha256: &str) -> Result<bool> {
    Ok(conn.query_row_cached(
        "SELECT EXISTS (SELECT 1 FROM signatures WHERE login = ?1 AND document_code = ?2 AND document_sha256 = ?3)
             OR EXISTS (SELECT 1 FROM acknowledgements WHERE login = ?1 AND document_code = ?2 AND document_sha256 = ?3)",
        params![login, code, sha256],
        |r| r.get(0),
    )?)
}

pub fn record_signature(
    conn: &Connection,
    login: &str,
    doc: &Document,
    typed_name: &str,
    mark: Option<&str>,
    p: &Provenance,
) -> Result<()> {
    conn.execute_cached(
        "INSERT INTO signatures (login, document_code, document_version, document_sha256, typed_name, signed_at, host, client, os_account, mark)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![login, doc.code, doc.version, doc.sha256, typed_name, p.at, p.host, p.client, p.os_account, mark],
    )?;
    Ok(())
}

pub fn record_acknowledgement(conn: &Connection, login: &str, doc: &Document, p: &Provenance) -> Result<()> {
    conn.execute_cached(
        "INSERT INTO acknowledgements (login, document_code, document_version, document_sha256, at, host, client, os_account)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![login, doc.code, doc.version, doc.sha256, p.at, p.host, p.client, p.os_account],
    )?;
    Ok(())
}

/// A signature as stored, for checking what it records.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SignatureRecord {
    pub document_code: String,
    pub document_version: String,
    pub document_sha256: String,
    pub typed_name: String,
    pub signed_at: String,
    pub host: String,
    pub client: String,
    pub os_account: String,
    /// The mark drawn beside the typed name, if one was.
    pub mark: Option<crate::domain::onboarding::Mark>,
}

pub fn signatures(conn: &Connection, login: &str) -> Result<Vec<SignatureRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT document_code, document_version, document_sha256, typed_name, signed_at, host, client, os_account, mark
           FROM signatures WHERE login = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([login], |r| {
        Ok(SignatureRecord {
            document_code: r.get(0)?,
            document_version: r.get(1)?,
            document_sha256: r.get(2)?,
            typed_name: r.get(3)?,
            signed_at: r.get(4)?,
            host: r.get(5)?,
            client: r.get(6)?,
            os_account: r.get(7)?,
            // Written by `sign` from a checked mark; anything unreadable shows as none.
            mark: r.get::<_, Option<String>>(8)?.and_then(|m| serde_json::from_str(&m).ok()),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A payroll profile as people see it (SPEC's payroll fields; never a full account number).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PayrollView {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub role: String,
    pub rate: f64,
    pub method: String,
    pub stripe_account: Option<String>,
    pub account_last4: Option<String>,
    pub w9_media_type: String,
    pub w9_sha256: String,
    pub status: String,
    pub submitted_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub reason: Option<String>,
}

const PAYROLL_VIEW: &str = "
    SELECT p.id, p.login, u.name, p.role, p.rate, p.method, p.stripe_account, p.account_last4, p.w9_media_type,
           p.w9_sha256, p.status, p.submitted_at, p.decided_by, p.decided_at, p.reason
      FROM payroll_profiles p JOIN users u ON u.login = p.login";

fn payroll_view(r: &rusqlite::Row) -> rusqlite::Result<PayrollView> {
    Ok(PayrollView {
        id: r.get(0)?,
        login: r.get(1)?,
        name: r.get(2)?,
        role: r.get(3)?,
        rate: r.get(4)?,
        method: r.get(5)?,
        stripe_account: r.get(6)?,
        account_last4: r.get(7)?,
        w9_media_type: r.get(8)?,
        w9_sha256: r.get(9)?,
        status: r.get(10)?,
        submitted_at: r.get(11)?,
        decided_by: r.get(12)?,
        decided_at: r.get(13)?,
        reason: r.get(14)?,
    })
}

/// Admins see every profile; a partner sees only their own.
pub fn payroll_list(conn: &Connection, viewer: &crate::domain::User, status: Option<&str>) -> Result<Vec<PayrollView>> {
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    let sql = format!(
        "{PAYROLL_VIEW} WHERE (?1 IS NULL OR p.login = ?1) AND (?2 IS NULL OR p.status = ?2) ORDER BY p.submitted_at, p.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![scope, status], payroll_view)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn payroll_get(conn: &Connection, id: i64) -> Result<Option<PayrollView>> {
    Ok(conn.query_row_cached(&format!("{PAYROLL_VIEW} WHERE p.id = ?1"), [id], payroll_view).optional()?)
}

pub fn payroll_of(conn: &Connection, login: &str) -> Result<Option<PayrollView>> {
    Ok(conn.query_row_cached(&format!("{PAYROLL_VIEW} WHERE p.login = ?1"), [login], payroll_view).optional()?)
}

pub fn decide_payroll(
    conn: &Connection,
    id: i64,
    status: &str,
    by: &str,
    at: &str,
    reason: Option<&str>,
) -> Result<()> {
    conn.execute_cached(
        "UPDATE payroll_profiles SET status = ?2, decided_by = ?3, decided_at = ?4, reason = ?5 WHERE id = ?1",
        params![id, status, by, at, reason],
    )?;
    Ok(())
}

/// Rate range of a role: (pay model, min, max, default).
pub fn rate_range(conn: &Connection, role: Role) -> Result<(String, f64, f64, f64)> {
    Ok(conn.query_row_cached(
        "SELECT pay_model, min_rate, max_rate, default_rate FROM payout_rate_configs WHERE role = ?1",
        [role.as_str()],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?)
}

/// How a role is paid: `percent` or `flat_usd_month`.
pub fn pay_model(conn: &Connection, role: &str) -> Result<String> {
    Ok(conn.query_row_cached("SELECT pay_model FROM payout_rate_configs WHERE role = ?1", [role], |r| r.get(0))?)
}
