//! The `users` table and the onboarding state that gates what a partner may do.

use super::Cached;
use super::Result;
use crate::domain::User;
use rusqlite::{Connection, OptionalExtension, Row, params};

fn user_from_row(row: &Row) -> rusqlite::Result<User> {
    Ok(User {
        login: row.get(0)?,
        name: row.get(1)?,
        role: super::word(row, 2)?,
        email: row.get(3)?,
        onboarding_waived: row.get(4)?,
    })
}

const USER_COLUMNS: &str = "login, name, role, email, onboarding_waived";

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row_cached("SELECT count(*) FROM users", [], |r| r.get(0))?)
}

pub fn get(conn: &Connection, login: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE login = ?1");
    Ok(conn.query_row_cached(&sql, [login], user_from_row).optional()?)
}

/// People who get a digest for `day` (an e-mail address and the digest on) and have not had it:
/// one query, where a morning of 4,874 partners asked two each.
pub fn awaiting_digest(conn: &Connection, day: chrono::NaiveDate) -> Result<Vec<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u
          WHERE digest AND email IS NOT NULL AND trim(email) <> ''
            AND NOT EXISTS (SELECT 1 FROM digests d WHERE d.login = u.login AND d.day = ?1)
          ORDER BY login"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let users = stmt.query_map([day], user_from_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(users)
}

/// Admins see every user; a partner sees only themselves.
pub fn list(conn: &Connection, viewer: &User) -> Result<Vec<User>> {
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE ?1 IS NULL OR login = ?1 ORDER BY login");
    let mut stmt = conn.prepare_cached(&sql)?;
    let users = stmt.query_map([scope], user_from_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(users)
}

/// Inserts or updates a user; returns whether anything changed. A waiver is never withdrawn
/// here: `waived = false` leaves an earlier waiver in place.
pub fn upsert(conn: &Connection, user: &User, now: &str) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO users (login, name, role, email, onboarding_waived, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (login) DO UPDATE SET
             name = excluded.name, role = excluded.role, email = excluded.email,
             onboarding_waived = max(onboarding_waived, excluded.onboarding_waived)
         WHERE name IS NOT excluded.name OR role IS NOT excluded.role
            OR email IS NOT excluded.email OR onboarding_waived < excluded.onboarding_waived",
    )?;
    let changed =
        stmt.execute(params![user.login, user.name, user.role.as_str(), user.email, user.onboarding_waived, now])?;
    Ok(changed > 0)
}

/// Partners whose onboarding is not complete may use the onboarding screens and nothing else
/// (SPEC "Onboarding"): a role chosen, every responsibility accepted, every packet document
/// signed or acknowledged in its current text, and a payroll profile submitted.
pub fn onboarding_complete(conn: &Connection, user: &User) -> Result<bool> {
    if !user.role.is_partner() || user.onboarding_waived {
        return Ok(true);
    }
    let role: Option<String> = conn
        .query_row_cached("SELECT role FROM partner_profiles WHERE login = ?1", [&user.login], |r| r.get(0))
        .optional()?;
    let Some(role) = role else { return Ok(false) };
    let missing: i64 = conn.query_row_cached(
        "SELECT
            (SELECT count(*) FROM responsibility_items i WHERE i.role = ?2 AND NOT EXISTS
                (SELECT 1 FROM responsibility_acceptances a WHERE a.login = ?1 AND a.item = i.id))
          + (SELECT count(*) FROM onboarding_packets p
               JOIN onboarding_documents d ON d.code = p.document_code
              WHERE p.role = ?2
                AND d.id = (SELECT max(id) FROM onboarding_documents WHERE code = p.document_code)
                AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.login = ?1
                                  AND s.document_code = d.code AND s.document_sha256 = d.sha256)
                AND NOT EXISTS (SELECT 1 FROM acknowledgements k WHERE k.login = ?1
                                  AND k.document_code = d.code AND k.document_sha256 = d.sha256))
          + (SELECT CASE WHEN EXISTS (SELECT 1 FROM payroll_profiles WHERE login = ?1) THEN 0 ELSE 1 END)",
        params![user.login, role],
        |r| r.get(0),
    )?;
    Ok(missing == 0)
}

/// The users who may see a student: every admin and the partners assigned to the student.
pub fn who_may_see(conn: &Connection, student: i64) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT login FROM users WHERE role = 'admin'
         UNION SELECT login FROM student_assignments WHERE student = ?1 ORDER BY 1",
    )?;
    let logins = stmt.query_map([student], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(logins)
}

pub fn waive_onboarding(conn: &Connection, login: &str, reason: &str) -> Result<()> {
    conn.execute_cached(
        "UPDATE users SET onboarding_waived = 1, waiver_reason = ?2 WHERE login = ?1",
        params![login, reason],
    )?;
    Ok(())
}
