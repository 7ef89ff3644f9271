//! A pull, on both sides. What a replica holds is summed up in digests (per student, per other
//! table); the hub compares them with its own and sends only what differs; the replica then
//! deletes the rows the hub no longer has, inserts new ones, updates changed ones and leaves the
//! rest alone — so a pull after a few changes sends and writes a few rows, not the whole scope.

use super::Cached;
use super::replica::{Rows, TABLES};
use super::wire::Codec;
use rusqlite::Connection;
use rusqlite::types::{Value, ValueRef};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// What a replica holds, in brief: a digest of each student's rows across the tables about
/// students, and of each other table. Equal digests, equal rows (a row's digest is a SHA-256 of
/// its values; a group's, the sum of its rows', so the order rows are read in does not matter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Have {
    pub students: Vec<(i64, u64)>,
    pub tables: Vec<(String, u64)>,
}

/// What a pull replaces, from comparing the replica's digests with the hub's: the students whose
/// rows differ (or are new there), those gone from the scope, and the other tables that differ.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed {
    pub students: Vec<i64>,
    pub gone: Vec<i64>,
    pub tables: Vec<String>,
}

impl Changed {
    /// What differs between the replica's digests and the hub's.
    pub fn between(replica: &Have, hub: &Have) -> Changed {
        let theirs: HashMap<i64, u64> = replica.students.iter().copied().collect();
        let ours: HashMap<i64, u64> = hub.students.iter().copied().collect();
        let tables: HashMap<&str, u64> = replica.tables.iter().map(|(t, d)| (t.as_str(), *d)).collect();
        Changed {
            students: hub.students.iter().filter(|(s, d)| theirs.get(s) != Some(d)).map(|(s, _)| *s).collect(),
            gone: replica.students.iter().filter(|(s, _)| !ours.contains_key(s)).map(|(s, _)| *s).collect(),
            tables: hub
                .tables
                .iter()
                .filter(|(t, d)| tables.get(t.as_str()).copied().unwrap_or(0) != *d)
                .map(|(t, _)| t.clone())
                .chain(
                    replica
                        .tables
                        .iter()
                        .filter(|(t, _)| !hub.tables.iter().any(|(h, _)| h == t))
                        .map(|(t, _)| t.clone()),
                )
                .collect(),
        }
    }
}

/// The digests of the rows each table's `filter` picks (the hub's scope filters, or what a
/// replica holds).
pub fn digests(conn: &Connection, filter: &dyn Fn(&str) -> String) -> anyhow::Result<Have> {
    let mut students: HashMap<i64, u64> = HashMap::new();
    let mut tables = Vec::new();
    for (table, _) in TABLES {
        let columns = super::replica::stored_columns(conn, table)?;
        let codec = Codec::new(table, &columns);
        let names: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
        let student = super::replica::student_of(table).unwrap_or("NULL");
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {student}, {} FROM main.{table} WHERE {}",
            names.join(", "),
            filter(table)
        ))?;
        let mut rows = stmt.query([])?;
        let mut whole = 0u64;
        while let Some(row) = rows.next()? {
            let mut hash = Sha256::new();
            hash.update(table.as_bytes());
            for i in 1..=columns.len() {
                let value = row.get_ref(i)?;
                let wire = codec.wire_text(i - 1, value);
                match wire.as_deref().map_or(value, |text| ValueRef::Text(text.as_bytes())) {
                    ValueRef::Null => hash.update([0]),
                    ValueRef::Integer(n) => {
                        hash.update([1]);
                        hash.update(n.to_le_bytes());
                    }
                    ValueRef::Real(f) => {
                        hash.update([2]);
                        hash.update(f.to_bits().to_le_bytes());
                    }
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        hash.update([3]);
                        hash.update((t.len() as u64).to_le_bytes());
                        hash.update(t);
                    }
                }
            }
            let digest = u64::from_le_bytes(hash.finalize()[..8].try_into().expect("eight bytes"));
            match row.get::<_, Option<i64>>(0)? {
                Some(student) => {
                    let sum = students.entry(student).or_default();
                    *sum = sum.wrapping_add(digest);
                }
                None => whole = whole.wrapping_add(digest),
            }
        }
        if super::replica::student_of(table).is_none() {
            tables.push((table.to_string(), whole));
        }
    }
    let mut students: Vec<(i64, u64)> = students.into_iter().collect();
    students.sort_unstable();
    Ok(Have { students, tables })
}

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
///
/// With `changed` (a pull that compared digests) only what it names is made equal: the rows of
/// those students in the tables about students, and the other tables it lists; the rest is
/// already the hub's.
pub fn merge_scope(
    conn: &Connection,
    received: &HashMap<&str, Received>,
    changed: Option<&Changed>,
) -> anyhow::Result<Merged> {
    // Parents may briefly lack a child's row between the deletes and the inserts.
    conn.pragma_update(None, "defer_foreign_keys", true)?;
    if let Some(changed) = changed {
        let students: Vec<i64> = changed.students.iter().chain(&changed.gone).copied().collect();
        super::replica::set_pull_students(conn, &students)?;
    }
    // Which of a table's rows are made equal to what came, if any.
    let rows_of = |table: &str| -> Option<String> {
        match (changed, super::replica::student_of(table)) {
            (None, _) => Some(held(table).to_string()),
            (Some(_), Some(student)) => {
                Some(format!("{} AND {student} IN (SELECT id FROM temp.pull_students)", held(table)))
            }
            (Some(changed), None) => changed.tables.iter().any(|t| t == table).then(|| held(table).to_string()),
        }
    };
    let mut merged = Merged::default();
    let mut plans = Vec::with_capacity(TABLES.len());
    for (table, _) in TABLES.iter().rev() {
        let Some(filter) = rows_of(table) else { continue };
        let Some(&(columns, rows)) = received.get(table) else {
            merged.deleted += conn.execute_cached(&format!("DELETE FROM main.{table} WHERE {filter}"), [])?;
            continue;
        };
        let plan = Plan::new(conn, table, columns, filter)?;
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
    for (plan, local, rows) in plans.into_iter().rev() {
        match plan.write(conn, &local, rows) {
            Ok((inserted, updated)) => {
                merged.inserted += inserted;
                merged.updated += updated;
            }
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                conn.execute_cached(&format!("DELETE FROM main.{} WHERE {}", plan.table, plan.filter), [])?;
                let (inserted, _) = plan.write(conn, &Local::new(), rows)?;
                merged.inserted += inserted;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if changed.is_some() {
        conn.execute_batch("DROP TABLE temp.pull_students")?;
    }
    Ok(merged)
}

/// Which rows of a table a replica holds: all, but for the settings it shares with the hub.
pub fn held(table: &str) -> &'static str {
    if table == "job_state" {
        "key IN ('time_zone', 'alerts_processed_through', 'alerts_first_processed')"
    } else {
        "1"
    }
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
    /// Which of the table's rows the merge makes equal to what came.
    filter: String,
    /// How the columns that travel as text are stored.
    codec: Codec,
}

impl<'a> Plan<'a> {
    fn new(conn: &Connection, table: &'a str, columns: &'a [String], filter: String) -> anyhow::Result<Plan<'a>> {
        let known = super::replica::stored_columns(conn, table)?;
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
        // Rows are brought to their stored form one at a time, as they are written; their keys
        // (ids) travel as they are stored.
        let codec = Codec::new(table, columns);
        Ok(Plan { table, columns, key, filter, codec })
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
    fn write(&self, conn: &Connection, local: &Local, rows: &Rows) -> rusqlite::Result<(usize, usize)> {
        let n = self.columns.len();
        let names: Vec<String> = (0..n).map(|i| self.quoted(i)).collect();
        let marks: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
        let mut insert = conn.prepare_cached(&format!(
            "INSERT INTO main.{} ({}) VALUES ({})",
            self.table,
            names.join(", "),
            marks.join(", ")
        ))?;
        // The UPDATE for each set of changed columns, written once.
        let mut updates: HashMap<Vec<usize>, String> = HashMap::new();
        let (mut inserted, mut updated) = (0, 0);
        for row in rows {
            let values = &super::replica::stored_values(&self.codec, self.table, self.columns, row)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
            match local.get(&key_text(self.key.iter().map(|&i| values[i].clone()))) {
                Some(old) if old == values => {}
                Some(old) => {
                    // Only the columns that differ: an index none of whose columns changed is
                    // left as it is.
                    let changed: Vec<usize> = (0..n).filter(|&i| old[i] != values[i]).collect();
                    let sql = updates.entry(changed.clone()).or_insert_with(|| {
                        let sets: Vec<String> = changed
                            .iter()
                            .enumerate()
                            .map(|(mark, &i)| format!("{} = ?{}", names[i], mark + 1))
                            .collect();
                        let condition = self.key_condition(changed.len() + 1);
                        format!("UPDATE main.{} SET {} WHERE {condition}", self.table, sets.join(", "))
                    });
                    let mut update = conn.prepare_cached(sql)?;
                    let key = self.key.iter().map(|&i| &values[i]);
                    update.execute(rusqlite::params_from_iter(changed.iter().map(|&i| &values[i]).chain(key)))?;
                    updated += 1;
                }
                None => {
                    insert.execute(rusqlite::params_from_iter(values))?;
                    inserted += 1;
                }
            }
        }
        Ok((inserted, updated))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_differs_is_the_students_changed_or_new_those_gone_and_the_tables_changed() {
        let replica = Have {
            students: vec![(1, 10), (2, 20), (3, 30)],
            tables: vec![("users".into(), 5), ("programs".into(), 6), ("old".into(), 1)],
        };
        let hub = Have {
            students: vec![(1, 10), (2, 21), (4, 40)],
            tables: vec![("users".into(), 5), ("programs".into(), 7), ("new".into(), 0)],
        };
        let changed = Changed::between(&replica, &hub);
        assert_eq!(changed.students, [2, 4]);
        assert_eq!(changed.gone, [3]);
        // A table the hub has empty and the replica lacks is the same; one only the replica
        // has is replaced (emptied).
        assert_eq!(changed.tables, ["programs", "old"]);
        assert_eq!(Changed::between(&hub, &hub), Changed::default());
    }
}
