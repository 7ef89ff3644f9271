//! The rows of an export, read with a cursor so that a year of a large program streams through
//! without being held, and scoped like every other read: a partner's export holds only the
//! students assigned to them.

use super::Result;
use crate::domain::User;
use rusqlite::types::Value;
use rusqlite::{Connection, params};

/// What can be exported as rows of the database (funders' formats build on these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Attendance,
    Alerts,
    Audit,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Attendance => "attendance",
            Table::Alerts => "alerts",
            Table::Audit => "audit",
        }
    }

    /// The columns, in order, as the header names them.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Attendance => &[
                "student_id",
                "first_name",
                "last_name",
                "program_id",
                "date",
                "status",
                "hours",
                "verification",
                "logged_by",
                "logged_at",
                "verified_by",
                "verified_at",
                "reason",
            ],
            Table::Alerts => &[
                "id",
                "type",
                "severity",
                "status",
                "student_id",
                "first_name",
                "last_name",
                "program_id",
                "count",
                "first_missed",
                "escalated",
                "assigned_to",
                "opened_at",
                "resolved_at",
                "resolved_by",
            ],
            Table::Audit => &[
                "seq",
                "at",
                "actor",
                "acting_as",
                "action",
                "entity",
                "entity_id",
                "change",
                "host",
                "client",
                "version",
                "prev_hash",
                "hash",
            ],
        }
    }
}

/// Which rows: days (inclusive) and one program, each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub program_id: Option<String>,
}

/// Calls `each` with every row in order; `each` answers false to stop early (a write failed, or
/// the pipe closed: the caller keeps why). Returns how many rows it was given.
pub fn stream(
    conn: &Connection,
    viewer: &User,
    table: Table,
    filter: &Filter,
    each: &mut dyn FnMut(&[Value]) -> bool,
) -> Result<u64> {
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    let visible =
        "(?1 IS NULL OR EXISTS (SELECT 1 FROM student_assignments x WHERE x.student = s.id AND x.login = ?1))";
    // Days are compared as text: dates are stored `YYYY-MM-DD`, instants RFC 3339.
    let sql = match table {
        Table::Attendance => format!(
            "SELECT s.student_id, s.first_name, s.last_name, p.program_id, a.date, a.status, a.hours, a.verification,
                    a.logged_by, a.logged_at, a.verified_by, a.verified_at, a.reason
               FROM attendance a JOIN students s ON s.id = a.student JOIN programs p ON p.id = a.program
              WHERE {visible} AND (?2 IS NULL OR a.date >= ?2) AND (?3 IS NULL OR a.date <= ?3)
                AND (?4 IS NULL OR p.program_id = ?4)
              ORDER BY a.student, a.program, a.date"
        ),
        Table::Alerts => format!(
            "SELECT a.id, a.type, a.severity, a.status, s.student_id, s.first_name, s.last_name, p.program_id,
                    a.count, a.first_missed, a.escalated, a.assigned_to, a.opened_at, a.resolved_at, a.resolved_by
               FROM alerts a JOIN students s ON s.id = a.student LEFT JOIN programs p ON p.id = a.program
              WHERE {visible} AND (?2 IS NULL OR substr(a.opened_at, 1, 10) >= ?2)
                AND (?3 IS NULL OR substr(a.opened_at, 1, 10) <= ?3) AND (?4 IS NULL OR p.program_id = ?4)
              ORDER BY a.id"
        ),
        Table::Audit => "SELECT seq, at, actor, acting_as, action, entity, entity_id, change, host, client, version,
                    prev_hash, hash
               FROM audit_log WHERE ?1 IS NULL AND (?2 IS NULL OR substr(at, 1, 10) >= ?2)
                AND (?3 IS NULL OR substr(at, 1, 10) <= ?3) AND ?4 IS NULL
              ORDER BY seq"
            .to_string(),
    };
    let mut stmt = conn.prepare(&sql)?;
    let width = stmt.column_count();
    let mut rows = stmt.query(params![scope, filter.from, filter.to, filter.program_id])?;
    let mut cells: Vec<Value> = Vec::with_capacity(width);
    let mut count = 0;
    while let Some(row) = rows.next()? {
        cells.clear();
        for i in 0..width {
            cells.push(row.get::<_, Value>(i)?);
        }
        count += 1;
        if !each(&cells) {
            break;
        }
    }
    Ok(count)
}
