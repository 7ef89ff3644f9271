//! A replica's rows brought to the hub's after a pull: rows the hub no longer sends are deleted,
//! new ones inserted, changed ones updated, and rows that are the same are left alone — so a
//! pull after a few changes writes a few rows, not the whole scope again.

use super::Cached;
use super::replica::{Cell, Rows, TABLES};
use rusqlite::Connection;
use rusqlite::types::Value;
use std::collections::HashMap;

/// What a merge wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Merged {
    pub inserted: usize,
    pub updated: usize,
    pub deleted: usize,
}

/// One table's rows as the hub sent them: its columns and rows.
pub type Received<'a> = (&'a [String], &'a Rows);

/// Makes every table a replica holds equal to what the hub sent (a table it sent nothing for is
/// emptied). Deletes go first, children before parents, so no row the hub dropped can stand in
/// the way of one it sent; then inserts and updates, parents first. A table whose rows cannot be
/// merged in place (two kept rows trading a unique key) is emptied and written whole.
pub fn merge_scope(conn: &Connection, received: &HashMap<&str, Received>) -> anyhow::Result<Merged> {
    // Parents may briefly lack a child's row between the deletes and the inserts.
    conn.pragma_update(None, "defer_foreign_keys", true)?;
    let mut merged = Merged::default();
    let mut plans = Vec::with_capacity(TABLES.len());
    for (table, _) in TABLES.iter().rev() {
        let Some(&(columns, rows)) = received.get(table) else {
            merged.deleted += conn.execute_cached(&format!("DELETE FROM main.{table} WHERE {}", held(table)), [])?;
            continue;
        };
        let plan = Plan::new(conn, table, columns)?;
        let local = plan.read_local(conn)?;
        let keep: std::collections::HashSet<String> =
            rows.iter().map(|row| key_text(plan.key.iter().map(|&i| row[i].to_sql()))).collect();
        let mut delete = conn.prepare_cached(&plan.delete_sql())?;
        for (_, values) in local.iter().filter(|(key, _)| !keep.contains(*key)) {
            delete.execute(rusqlite::params_from_iter(plan.key.iter().map(|&i| &values[i])))?;
            merged.deleted += 1;
        }
        plans.push((plan, local, rows));
    }
    for (plan, mut local, rows) in plans.into_iter().rev() {
        match plan.write(conn, &mut local, rows) {
            Ok((inserted, updated)) => {
                merged.inserted += inserted;
                merged.updated += updated;
            }
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                conn.execute_cached(&format!("DELETE FROM main.{} WHERE {}", plan.table, plan.filter), [])?;
                local.clear();
                let (inserted, _) = plan.write(conn, &mut local, rows)?;
                merged.inserted += inserted;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(merged)
}

/// Which rows of a table a replica holds: all, but for the settings it shares with the hub.
pub(super) fn held(table: &str) -> &'static str {
    if table == "job_state" {
        "key IN ('time_zone', 'alerts_processed_through', 'alerts_first_processed')"
    } else {
        "1"
    }
}

fn stored_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT name FROM pragma_table_xinfo(?1) WHERE hidden = 0 ORDER BY cid")?
        .query_map([table], |r| r.get(0))?
        .collect()
}

/// A replica table's rows by their key's text.
type Local = HashMap<String, Vec<Value>>;

/// A row's primary key as one string, for looking rows up (values are not hashable; keys are
/// integers and text, and a kind letter keeps `1` and `'1'` apart).
fn key_text(values: impl Iterator<Item = Value>) -> String {
    let mut text = String::new();
    for value in values {
        match value {
            Value::Null => text.push('n'),
            Value::Integer(i) => text.push_str(&format!("i{i}")),
            Value::Real(f) => text.push_str(&format!("r{}", f.to_bits())),
            Value::Text(t) => text.push_str(&format!("t{}:{t}", t.len())),
            Value::Blob(b) => text.push_str(&format!("b{b:?}")),
        }
        text.push('\u{1f}');
    }
    text
}

/// How one table's rows are read, keyed and written.
struct Plan<'a> {
    table: &'a str,
    columns: &'a [String],
    /// Where the primary key's columns are among `columns`.
    key: Vec<usize>,
    /// Which rows of the table a replica holds: all, but for the settings it shares.
    filter: &'static str,
}

impl<'a> Plan<'a> {
    fn new(conn: &Connection, table: &'a str, columns: &'a [String]) -> anyhow::Result<Plan<'a>> {
        let known = stored_columns(conn, table)?;
        if columns.iter().any(|c| !known.contains(c)) {
            anyhow::bail!("the hub sent rows for {table}({}), which this muster does not hold", columns.join(", "));
        }
        let key_columns: Vec<String> = conn
            .prepare_cached("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")?
            .query_map([table], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let key = key_columns
            .iter()
            .map(|k| columns.iter().position(|c| c == k))
            .collect::<Option<Vec<usize>>>()
            .filter(|key| !key.is_empty())
            .ok_or_else(|| anyhow::anyhow!("the hub sent rows for {table} without its key"))?;
        Ok(Plan { table, columns, key, filter: held(table) })
    }

    fn quoted(&self, i: usize) -> String {
        format!("\"{}\"", self.columns[i])
    }

    /// The replica's rows, by key.
    fn read_local(&self, conn: &Connection) -> rusqlite::Result<Local> {
        let names: Vec<String> = (0..self.columns.len()).map(|i| self.quoted(i)).collect();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM main.{} WHERE {}",
            names.join(", "),
            self.table,
            self.filter
        ))?;
        let mut rows = stmt.query([])?;
        let mut local = HashMap::new();
        while let Some(row) = rows.next()? {
            let values: Vec<Value> = (0..self.columns.len()).map(|i| row.get(i)).collect::<rusqlite::Result<_>>()?;
            local.insert(key_text(self.key.iter().map(|&i| values[i].clone())), values);
        }
        Ok(local)
    }

    fn key_condition(&self, first: usize) -> String {
        let parts: Vec<String> =
            self.key.iter().enumerate().map(|(n, &i)| format!("{} IS ?{}", self.quoted(i), first + n)).collect();
        parts.join(" AND ")
    }

    fn delete_sql(&self) -> String {
        format!("DELETE FROM main.{} WHERE {}", self.table, self.key_condition(1))
    }

    /// Inserts the rows the replica lacks and updates those that differ from `local`.
    fn write(&self, conn: &Connection, local: &mut Local, rows: &Rows) -> rusqlite::Result<(usize, usize)> {
        let n = self.columns.len();
        let names: Vec<String> = (0..n).map(|i| self.quoted(i)).collect();
        let marks: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
        let mut insert = conn.prepare_cached(&format!(
            "INSERT INTO main.{} ({}) VALUES ({})",
            self.table,
            names.join(", "),
            marks.join(", ")
        ))?;
        let (mut inserted, mut updated) = (0, 0);
        for row in rows {
            let values: Vec<Value> = row.iter().map(Cell::to_sql).collect();
            match local.get(&key_text(self.key.iter().map(|&i| values[i].clone()))) {
                Some(old) if *old == values => {}
                Some(old) => {
                    // Only the columns that differ: an index none of whose columns changed is
                    // left as it is.
                    let changed: Vec<usize> = (0..n).filter(|&i| old[i] != values[i]).collect();
                    let sets: Vec<String> =
                        changed.iter().enumerate().map(|(mark, &i)| format!("{} = ?{}", names[i], mark + 1)).collect();
                    let mut update = conn.prepare_cached(&format!(
                        "UPDATE main.{} SET {} WHERE {}",
                        self.table,
                        sets.join(", "),
                        self.key_condition(changed.len() + 1)
                    ))?;
                    let key = self.key.iter().map(|&i| &values[i]);
                    update.execute(rusqlite::params_from_iter(changed.iter().map(|&i| &values[i]).chain(key)))?;
                    updated += 1;
                }
                None => {
                    insert.execute(rusqlite::params_from_iter(&values))?;
                    inserted += 1;
                }
            }
        }
        Ok((inserted, updated))
    }
}
