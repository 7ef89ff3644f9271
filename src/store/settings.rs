//! Organisation-wide settings kept in the database (`job_state`), so that every person and job
//! using one file agrees on them.

use super::Cached;
use super::Result;
use rusqlite::{Connection, OptionalExtension, params};

pub const TIME_ZONE: &str = "time_zone";

pub fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn.query_row_cached("SELECT value FROM job_state WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

/// Sets or (with `None`) clears a setting.
pub fn set(conn: &Connection, key: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(value) => conn.execute_cached(
            "INSERT INTO job_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?,
        None => conn.execute_cached("DELETE FROM job_state WHERE key = ?1", [key])?,
    };
    Ok(())
}
