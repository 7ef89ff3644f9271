//! Printing lists for people (aligned tables) and for scripts (CSV, JSON arrays of objects with
//! stable snake_case field names).

use crate::domain::text::escape_controls;
use serde::Serialize;
use serde_json::Value;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    /// A PDF document (reports only, with --out or a pipe)
    Pdf,
}

/// A value as one table or CSV cell. Text from people and files reaches a terminal, so control
/// characters are written as escapes (JSON escapes them by itself).
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => escape_controls(s).into_owned(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => other.to_string(),
    }
}

/// `text` followed by spaces up to `width` characters. (`format!`'s own padding panics on
/// widths over 65,535, which one long note would reach.)
fn pad(text: &str, width: usize) -> String {
    let length = text.chars().count();
    let mut padded = String::with_capacity(text.len() + width.saturating_sub(length));
    padded.push_str(text);
    padded.extend(std::iter::repeat_n(' ', width.saturating_sub(length)));
    padded
}

/// Prints `rows`. Tables and CSV show `columns` in that order; JSON shows every field.
pub fn emit<T: Serialize>(out: &mut impl Write, format: Format, columns: &[&str], rows: &[T]) -> anyhow::Result<()> {
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, rows)?;
        writeln!(out)?;
        return Ok(());
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let value = serde_json::to_value(row)?;
            Ok(columns.iter().map(|c| cell(value.get(c))).collect())
        })
        .collect::<anyhow::Result<_>>()?;
    if format == Format::Csv {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(columns)?;
        for row in &cells {
            writer.write_record(row)?;
        }
        writer.flush()?;
        return Ok(());
    }
    write_table(out, columns, &cells)
}

fn write_table(out: &mut impl Write, columns: &[&str], cells: &[Vec<String>]) -> anyhow::Result<()> {
    if cells.is_empty() {
        writeln!(out, "(none)")?;
        return Ok(());
    }
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| cells.iter().map(|r| r[i].chars().count()).max().unwrap_or(0).max(c.len()))
        .collect();
    let line = |values: Vec<&str>| -> String {
        let padded: Vec<String> = values.iter().zip(&widths).map(|(v, w)| pad(v, *w)).collect();
        padded.join("  ").trim_end().to_string()
    };
    writeln!(out, "{}", line(columns.to_vec()))?;
    for row in cells {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// Prints one record as `field: value` lines (tables) or one JSON object.
pub fn emit_one<T: Serialize>(out: &mut impl Write, format: Format, record: &T) -> anyhow::Result<()> {
    let value = serde_json::to_value(record)?;
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &value)?;
            writeln!(out)?;
        }
        Format::Csv | Format::Table | Format::Pdf => {
            let Value::Object(fields) = value else { anyhow::bail!("not a record") };
            let scalars: Vec<(&String, &Value)> = fields.iter().filter(|(_, v)| !v.is_array()).collect();
            let width = scalars.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (key, value) in scalars {
                writeln!(out, "{}  {}", pad(key, width), cell(Some(value)))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        id: u32,
        name: &'static str,
        note: Option<&'static str>,
    }

    fn render(format: Format, rows: &[Row]) -> String {
        let mut out = Vec::new();
        emit(&mut out, format, &["id", "name", "note"], rows).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn three_formats() {
        let rows = [Row { id: 1, name: "Ann, Lee", note: None }, Row { id: 22, name: "Bo", note: Some("x") }];
        assert_eq!(render(Format::Table, &rows), "id  name      note\n1   Ann, Lee\n22  Bo        x\n");
        assert_eq!(render(Format::Csv, &rows), "id,name,note\n1,\"Ann, Lee\",\n22,Bo,x\n");
        let json: Value = serde_json::from_str(&render(Format::Json, &rows)).unwrap();
        assert_eq!(json[1]["name"], "Bo");
        assert_eq!(json[0]["note"], Value::Null);
    }

    #[test]
    fn long_and_hostile_values_neither_panic_nor_reach_the_terminal() {
        let long = "n".repeat(70_000);
        let rows = [Row { id: 1, name: "\u{1b}[2J\u{1b}]0;pwned\u{7}", note: Some(long.leak()) }];
        for format in [Format::Table, Format::Csv] {
            let text = render(format, &rows);
            assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{format:?}");
            assert!(text.contains("\\e[2J"), "{format:?}");
        }
        let mut out = Vec::new();
        emit_one(&mut out, Format::Table, &rows[0]).unwrap();
        assert!(!String::from_utf8(out).unwrap().contains('\u{1b}'));
    }

    #[test]
    fn empty_lists_say_so_or_keep_their_header() {
        assert_eq!(render(Format::Table, &[]), "(none)\n");
        assert_eq!(render(Format::Csv, &[]), "id,name,note\n");
        assert_eq!(render(Format::Json, &[]), "[]\n");
    }
}
