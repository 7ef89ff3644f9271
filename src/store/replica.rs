//! The hub's side of a replica in SQL: the devices that hold one, and the rows a replica of some
//! people's scope holds — their students and everything about those students, the programs those
//! students are enrolled in, their own onboarding and payroll, and the organisation's documents
//! and settings. Nothing about a student outside the scope is ever read out.

use super::Cached;
use super::Result;
use super::wire::Codec;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// One value of a row, as it travels: JSON's null, integer, float and string, and a blob as
/// `{"blob": "hex"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob { blob: String },
}

/// Read by the JSON value's own kind: serde's untagged reading would try each variant in turn
/// and build an error message for every miss, a fifth of a pull.
impl<'de> Deserialize<'de> for Cell {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Cell, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Cell;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("null, a number, a string or {\"blob\": hex}")
            }
            fn visit_unit<E>(self) -> std::result::Result<Cell, E> {
                Ok(Cell::Null)
            }
            fn visit_none<E>(self) -> std::result::Result<Cell, E> {
                Ok(Cell::Null)
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<Cell, E> {
                Ok(Cell::Integer(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Cell, E> {
                i64::try_from(v).map(Cell::Integer).map_err(E::custom)
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<Cell, E> {
                Ok(Cell::Real(v))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Cell, E> {
                Ok(Cell::Text(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Cell, E> {
                Ok(Cell::Text(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Cell, A::Error> {
                match map.next_entry::<String, String>()? {
                    Some((key, blob)) if key == "blob" => Ok(Cell::Blob { blob }),
                    _ => Err(serde::de::Error::custom("a value that is an object must be {\"blob\": hex}")),
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Cell {
    fn from_sql(value: ValueRef) -> Cell {
        match value {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Integer(i),
            ValueRef::Real(r) => Cell::Real(r),
            ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Cell::Blob { blob: b.iter().map(|byte| format!("{byte:02x}")).collect() },
        }
    }

    /// About what the value takes on the wire.
    fn size(&self) -> usize {
        match self {
            Cell::Null | Cell::Integer(_) | Cell::Real(_) => 8,
            Cell::Text(t) => t.len(),
            Cell::Blob { blob } => blob.len(),
        }
    }

    pub fn to_sql(&self) -> rusqlite::types::Value {
        use rusqlite::types::Value;
        match self {
            Cell::Null => Value::Null,
            Cell::Integer(i) => Value::Integer(*i),
            Cell::Real(r) => Value::Real(*r),
            Cell::Text(t) => Value::Text(t.clone()),
            Cell::Blob { blob } => Value::Blob(
                (0..blob.len() / 2).filter_map(|i| u8::from_str_radix(blob.get(2 * i..2 * i + 2)?, 16).ok()).collect(),
            ),
        }
    }
}

/// Rows of one table, each a value per column.
pub type Rows = Vec<Vec<Cell>>;

/// The alerts (of any status) of the students in scope, through `alerts_student_block`.
macro_rules! students_alerts {
    () => {
        concat!("(id >> 17) IN ", alert_blocks!(), " AND student IN (SELECT id FROM temp.scope_students)")
    };
}

/// The tables of a replica, in an order that inserts each row after the rows it refers to, and
/// which of their rows are in scope. `scope_students` and `scope_logins` are temporary tables of
/// the reading connection; `?1` is never used, so every filter is in these strings.
pub const TABLES: &[(&str, &str)] = &[
    (
        "users",
        concat!(
            "login IN (SELECT login FROM temp.scope_logins)
             OR login IN (SELECT assigned_to FROM alerts WHERE ",
            students_alerts!(),
            ")"
        ),
    ),
    ("role_packages", "1"),
    ("responsibility_items", "1"),
    ("onboarding_documents", "1"),
    ("onboarding_packets", "1"),
    ("alert_thresholds", "1"),
    ("payout_rate_configs", "1"),
    ("programs", "id IN (SELECT program FROM enrollments WHERE student IN (SELECT id FROM temp.scope_students))"),
    (
        "program_closures",
        "program IN (SELECT program FROM enrollments WHERE student IN (SELECT id FROM temp.scope_students))",
    ),
    ("students", "id IN (SELECT id FROM temp.scope_students)"),
    ("enrollments", "student IN (SELECT id FROM temp.scope_students)"),
    (
        "student_assignments",
        "student IN (SELECT id FROM temp.scope_students) AND login IN (SELECT login FROM temp.scope_logins)",
    ),
    ("attendance", "student IN (SELECT id FROM temp.scope_students)"),
    ("login_events", "student IN (SELECT id FROM temp.scope_students)"),
    (
        "progress_events",
        "enrollment IN (SELECT id FROM enrollments WHERE student IN (SELECT id FROM temp.scope_students))",
    ),
    ("alerts", students_alerts!()),
    ("alert_events", concat!("alert IN (SELECT id FROM alerts WHERE ", students_alerts!(), ")")),
    ("responsibility_acceptances", "login IN (SELECT login FROM temp.scope_logins)"),
    ("partner_profiles", "login IN (SELECT login FROM temp.scope_logins)"),
    ("esign_consents", "login IN (SELECT login FROM temp.scope_logins)"),
    ("signatures", "login IN (SELECT login FROM temp.scope_logins)"),
    ("acknowledgements", "login IN (SELECT login FROM temp.scope_logins)"),
    ("payroll_profiles", "login IN (SELECT login FROM temp.scope_logins)"),
    // What the rules need to agree with the hub: the organisation's zone and how far the alert
    // job has run. The hub's audit chain stays the hub's.
    ("job_state", "key IN ('time_zone', 'alerts_processed_through', 'alerts_first_processed')"),
];

/// Rows sent at a time, and the bytes of values after which a chunk goes sooner.
pub const CHUNK: usize = 1_000;
const CHUNK_BYTES: usize = 8 << 20;

/// Fills the reading connection's scope: the students the logins may see (every student when one
/// of them is an admin) and the logins themselves.
pub fn set_scope(conn: &Connection, logins: &[String]) -> Result<()> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS temp.scope_logins; DROP TABLE IF EXISTS temp.scope_students;
         CREATE TEMP TABLE scope_logins (login TEXT PRIMARY KEY);
         CREATE TEMP TABLE scope_students (id INTEGER PRIMARY KEY);",
    )?;
    for login in logins {
        conn.execute_cached("INSERT OR IGNORE INTO temp.scope_logins (login) VALUES (?1)", [login])?;
    }
    conn.execute_batch(
        "INSERT OR IGNORE INTO temp.scope_students (id)
             SELECT s.id FROM students s
              WHERE EXISTS (SELECT 1 FROM users u JOIN temp.scope_logins l ON l.login = u.login WHERE u.role = 'admin')
             UNION
             SELECT x.student FROM student_assignments x JOIN temp.scope_logins l ON l.login = x.login;",
    )?;
    Ok(())
}

/// The student each row is about, in the tables that hold students' rows: a pull compares and
/// sends those tables student by student, the others whole.
pub const STUDENT_OF: &[(&str, &str)] = &[
    ("students", "id"),
    ("enrollments", "student"),
    ("student_assignments", "student"),
    ("attendance", "student"),
    ("login_events", "student"),
    ("progress_events", "(SELECT e.student FROM main.enrollments e WHERE e.id = progress_events.enrollment)"),
    ("alerts", "student"),
    ("alert_events", "(SELECT a.student FROM main.alerts a WHERE a.id = alert_events.alert)"),
];

pub fn student_of(table: &str) -> Option<&'static str> {
    STUDENT_OF.iter().find(|(t, _)| *t == table).map(|(_, expr)| *expr)
}

/// The students a pull sends rows of, as a temporary table of the reading connection.
pub fn set_pull_students(conn: &Connection, students: &[i64]) -> Result<()> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS temp.pull_students; CREATE TEMP TABLE pull_students (id INTEGER PRIMARY KEY);",
    )?;
    let mut add = conn.prepare_cached("INSERT OR IGNORE INTO temp.pull_students (id) VALUES (?1)")?;
    for student in students {
        add.execute([student])?;
    }
    Ok(())
}

/// Reads one table's rows in scope, `CHUNK` at a time, to `sink` with the column names.
pub fn read_table(
    conn: &Connection,
    table: &str,
    filter: &str,
    sink: &mut dyn FnMut(&[String], Rows) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    // Generated columns (the alerts' severity rank) are computed again where the row lands.
    let columns = stored_columns(conn, table)?;
    let codec = Codec::new(table, &columns);
    let names: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    let mut stmt = conn.prepare_cached(&format!("SELECT {} FROM main.{table} WHERE {filter}", names.join(", ")))?;
    let mut rows = stmt.query([])?;
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut bytes = 0;
    while let Some(row) = rows.next()? {
        let cells: Vec<Cell> = (0..columns.len())
            .map(|i| {
                let value = row.get_ref(i)?;
                Ok(codec.wire_text(i, value).map_or_else(|| Cell::from_sql(value), Cell::Text))
            })
            .collect::<rusqlite::Result<_>>()?;
        bytes += cells.iter().map(Cell::size).sum::<usize>();
        chunk.push(cells);
        if chunk.len() == CHUNK || bytes >= CHUNK_BYTES {
            sink(&columns, std::mem::take(&mut chunk))?;
            bytes = 0;
        }
    }
    if !chunk.is_empty() {
        sink(&columns, chunk)?;
    }
    Ok(())
}

/// The columns of `table` a row is written with: all but generated ones.
pub(super) fn stored_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT name FROM pragma_table_xinfo(?1) WHERE hidden = 0 ORDER BY cid")?
        .query_map([table], |r| r.get(0))?
        .collect()
}

/// Writes received rows into a replica being made.
pub fn write_rows(conn: &Connection, table: &str, columns: &[String], rows: &[Vec<Cell>]) -> anyhow::Result<()> {
    // Only the tables a replica holds, and only columns this schema has, are written.
    let known = stored_columns(conn, table)?;
    if !TABLES.iter().any(|(t, _)| *t == table) || columns.iter().any(|c| !known.contains(c)) {
        anyhow::bail!("the hub sent rows for {table}({}), which this muster does not hold", columns.join(", "));
    }
    let codec = Codec::new(table, columns);
    let names: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    let mut stmt = conn.prepare_cached(&format!(
        // Into tables emptied first (`clear_scope`): a plain insert, which needs no statement
        // journal as OR REPLACE would.
        "INSERT INTO main.{table} ({}) VALUES ({})",
        names.join(", "),
        marks.join(", ")
    ))?;
    for row in rows {
        let values = stored_values(&codec, table, columns, row)?;
        stmt.execute(rusqlite::params_from_iter(values))?;
    }
    Ok(())
}

/// A received row's values as this muster stores them.
pub(super) fn stored_values(
    codec: &Codec,
    table: &str,
    columns: &[String],
    row: &[Cell],
) -> anyhow::Result<Vec<rusqlite::types::Value>> {
    row.iter()
        .enumerate()
        .map(|(i, cell)| {
            codec.stored(i, cell.to_sql()).map_err(|e| anyhow::anyhow!("the hub sent {table}.{}: {e}", columns[i]))
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct Device {
    pub id: String,
    pub name: String,
    pub ssh_login: String,
    pub allowed: Vec<String>,
    pub created_at: String,
    pub last_seen: Option<String>,
    pub revoked_at: Option<String>,
}

fn device_from_row(r: &rusqlite::Row) -> rusqlite::Result<Device> {
    let allowed: String = r.get(3)?;
    Ok(Device {
        id: r.get(0)?,
        name: r.get(1)?,
        ssh_login: r.get(2)?,
        allowed: allowed.split_whitespace().map(str::to_string).collect(),
        created_at: r.get(4)?,
        last_seen: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

const DEVICE_COLUMNS: &str = "id, name, ssh_login, allowed, created_at, last_seen, revoked_at";

pub fn devices(conn: &Connection) -> Result<Vec<Device>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY created_at, id"))?;
    Ok(stmt.query_map([], device_from_row)?.collect::<rusqlite::Result<_>>()?)
}

pub fn device(conn: &Connection, id: &str) -> Result<Option<Device>> {
    Ok(conn
        .query_row_cached(&format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"), [id], device_from_row)
        .optional()?)
}

pub fn add_device(conn: &Connection, id: &str, name: &str, ssh_login: &str, now: &str) -> Result<()> {
    conn.execute_cached(
        "INSERT INTO devices (id, name, ssh_login, created_at, last_seen) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![id, name, ssh_login, now],
    )?;
    Ok(())
}

pub fn set_allowed(conn: &Connection, id: &str, allowed: &[String]) -> Result<()> {
    conn.execute_cached("UPDATE devices SET allowed = ?2 WHERE id = ?1", params![id, allowed.join(" ")])?;
    Ok(())
}

pub fn revoke(conn: &Connection, id: &str, now: &str) -> Result<()> {
    conn.execute_cached("UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", params![id, now])?;
    Ok(())
}

/// On the hub: a device's change refused, and why.
pub fn add_rejection(conn: &Connection, device: &str, seq: i64, reason: &str) -> Result<()> {
    conn.execute_cached(
        "INSERT OR REPLACE INTO device_rejections (device, seq, reason) VALUES (?1, ?2, ?3)",
        params![device, seq, reason],
    )?;
    Ok(())
}

/// On the hub: why a device's change was refused, if it was.
pub fn rejection(conn: &Connection, device: &str, seq: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row_cached(
            "SELECT reason FROM device_rejections WHERE device = ?1 AND seq = ?2",
            params![device, seq],
            |r| r.get(0),
        )
        .optional()?)
}

/// On a replica: keeps a change to be sent to the hub.
pub fn add_outgoing(
    conn: &Connection,
    author: &str,
    command: &str,
    seen: Option<&str>,
    local_time: &str,
) -> Result<()> {
    conn.execute_cached(
        "INSERT INTO outbox (author, command, seen, local_time) VALUES (?1, ?2, ?3, ?4)",
        params![author, command, seen, local_time],
    )?;
    Ok(())
}

/// What a record decided on is, as a version: it changes whenever the record is logged or
/// submitted again. `kind` is `attendance` or `payroll`.
pub fn version(conn: &Connection, kind: &str, id: i64) -> Result<Option<String>> {
    let sql = match kind {
        "attendance" => "SELECT logged_at FROM attendance WHERE id = ?1",
        "payroll" => "SELECT submitted_at FROM payroll_profiles WHERE id = ?1",
        // Which alert it is, not how it stands: triage of an alert the hub has since raised is
        // still about that alert; one the laptop opened itself has another's id on the hub.
        // Written as text, as before the alerts kept numbers: a change queued by an older
        // muster still names the same alert.
        "alert" => ALERT_IDENTITY.as_str(),
        _ => return Ok(None),
    };
    Ok(conn.query_row_cached(sql, [id], |r| r.get(0)).optional()?)
}

static ALERT_IDENTITY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT student || ' ' || {} || ' ' || {} FROM alerts WHERE id = ?1",
        super::stored::sql_word::<crate::domain::alerts::AlertType>("type"),
        super::stored::sql_time("opened_at")
    )
});

/// A change kept on a replica.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    pub seq: i64,
    pub author: String,
    /// The command as JSON.
    pub command: String,
    pub local_time: String,
    /// For a decision: `[[kind, id, version]]` of the records as they were seen.
    #[serde(default)]
    pub seen: Option<String>,
    pub state: String,
    pub reason: Option<String>,
    pub synced_at: Option<String>,
}

/// The replica's changes in `state` (all of them with `None`), oldest first.
pub fn outbox(conn: &Connection, state: Option<&str>) -> Result<Vec<Outgoing>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, author, command, local_time, state, reason, synced_at, seen FROM outbox
          WHERE ?1 IS NULL OR state = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([state], |r| {
        Ok(Outgoing {
            seq: r.get(0)?,
            author: r.get(1)?,
            command: r.get(2)?,
            local_time: r.get(3)?,
            state: r.get(4)?,
            reason: r.get(5)?,
            synced_at: r.get(6)?,
            seen: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The hub's verdict on a change, kept on the replica.
pub fn settle(conn: &Connection, seq: i64, applied: bool, reason: Option<&str>, now: &str) -> Result<()> {
    conn.execute_cached(
        "UPDATE outbox SET state = ?2, reason = ?3, synced_at = ?4 WHERE seq = ?1",
        params![seq, if applied { "applied" } else { "rejected" }, reason, now],
    )?;
    Ok(())
}

/// On the hub: the last sequence number applied (or rejected) from a device, and when it was
/// last heard from.
pub fn set_last_applied(conn: &Connection, device: &str, seq: i64, now: &str) -> Result<()> {
    conn.execute_cached(
        "UPDATE devices SET last_applied = max(last_applied, ?2), last_seen = ?3 WHERE id = ?1",
        params![device, seq, now],
    )?;
    Ok(())
}

pub fn last_applied(conn: &Connection, device: &str) -> Result<i64> {
    Ok(conn.query_row_cached("SELECT last_applied FROM devices WHERE id = ?1", [device], |r| r.get(0))?)
}

/// Empties a replica's copy of the hub's rows, before the hub's current scope replaces them.
pub fn clear_scope(conn: &Connection) -> Result<()> {
    for (table, _) in TABLES.iter().rev() {
        conn.execute_cached(&format!("DELETE FROM main.{table} WHERE {}", super::pull::held(table)), [])?;
    }
    Ok(())
}
