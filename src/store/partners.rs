//! Partner profiles (the role a partner chose) and payroll profiles.

use super::Result;
use crate::domain::Role;
use rusqlite::{Connection, params};

pub fn choose_role(conn: &Connection, login: &str, role: Role, at: &str) -> Result<()> {
    conn.execute(
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
    conn.execute(
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
    Ok(conn.query_row("SELECT id FROM payroll_profiles WHERE login = ?1", [p.login], |r| r.get(0))?)
}
