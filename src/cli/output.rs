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
pub(super) fn cell(value: Option<&Value>) -> String {
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
    let mut list = ListWriter::new(out, format, columns);
    for row in rows {
        list.row(row)?;
    }
    list.finish()
}

/// How many rows a table reads before it settles its column widths. A shorter table is aligned
/// whole; a longer one keeps these widths (a longer value later pushes its line out), so a list
/// of millions is printed as it is read rather than held.
const TABLE_ROWS_MEASURED: usize = 10_000;

/// Prints a list row by row as it is read, so its memory does not grow with its length: CSV and
/// JSON exactly as a whole list, a table aligned on its first `TABLE_ROWS_MEASURED` rows.
pub struct ListWriter<'a, W: Write> {
    sink: Sink<'a, W>,
    columns: &'a [&'a str],
    rows: usize,
}

enum Sink<'a, W: Write> {
    Json(&'a mut W),
    Csv(Box<csv::Writer<&'a mut W>>),
    Table {
        out: &'a mut W,
        /// The rows read before the widths are settled.
        held: Vec<Vec<String>>,
        widths: Option<Vec<usize>>,
    },
}

impl<'a, W: Write> ListWriter<'a, W> {
    pub fn new(out: &'a mut W, format: Format, columns: &'a [&'a str]) -> Self {
        let sink = match format {
            Format::Json => Sink::Json(out),
            // The header waits for the first row or the end, so a list refused before its first
            // row prints nothing but the refusal.
            Format::Csv => Sink::Csv(Box::new(csv::Writer::from_writer(out))),
            Format::Table | Format::Pdf => Sink::Table { out, held: Vec::new(), widths: None },
        };
        ListWriter { sink, columns, rows: 0 }
    }

    pub fn row<T: Serialize>(&mut self, row: &T) -> anyhow::Result<()> {
        self.rows += 1;
        let cells = |columns: &[&str]| -> anyhow::Result<Vec<String>> {
            if let Some(cells) = super::cells::of_struct(row, columns)? {
                return Ok(cells);
            }
            let value = serde_json::to_value(row)?;
            Ok(columns.iter().map(|c| cell(value.get(c))).collect())
        };
        match &mut self.sink {
            Sink::Json(out) => {
                // What `to_writer_pretty` prints for the whole array, one element at a time.
                out.write_all(if self.rows == 1 { b"[\n" } else { b",\n" })?;
                let element = serde_json::to_string_pretty(row)?;
                // JSON escapes a line break inside a string, so every line here is the element's.
                for (i, line) in element.split('\n').enumerate() {
                    if i > 0 {
                        out.write_all(b"\n")?;
                    }
                    write!(out, "  {line}")?;
                }
            }
            Sink::Csv(csv) => {
                if self.rows == 1 {
                    csv.write_record(self.columns)?;
                }
                csv.write_record(cells(self.columns)?)?;
            }
            Sink::Table { out, widths: Some(widths), .. } => write_line(*out, widths, &cells(self.columns)?)?,
            Sink::Table { out, held, widths } => {
                held.push(cells(self.columns)?);
                if held.len() == TABLE_ROWS_MEASURED {
                    *widths = Some(print_held(*out, self.columns, held)?);
                }
            }
        }
        Ok(())
    }

    pub fn finish(self) -> anyhow::Result<()> {
        match self.sink {
            Sink::Json(out) if self.rows == 0 => writeln!(out, "[]")?,
            Sink::Json(out) => writeln!(out, "\n]")?,
            Sink::Csv(mut csv) => {
                if self.rows == 0 {
                    csv.write_record(self.columns)?;
                }
                csv.flush()?;
            }
            Sink::Table { out, .. } if self.rows == 0 => writeln!(out, "(none)")?,
            Sink::Table { out, mut held, widths: None } => {
                print_held(out, self.columns, &mut held)?;
            }
            Sink::Table { .. } => {}
        }
        Ok(())
    }
}

/// Settles a table's widths on the rows held, and prints the header and them.
fn print_held(out: &mut impl Write, columns: &[&str], held: &mut Vec<Vec<String>>) -> anyhow::Result<Vec<usize>> {
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| held.iter().map(|r| r[i].chars().count()).max().unwrap_or(0).max(c.len()))
        .collect();
    let header: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    write_line(out, &widths, &header)?;
    for row in held.drain(..) {
        write_line(out, &widths, &row)?;
    }
    Ok(widths)
}

fn write_line(out: &mut impl Write, widths: &[usize], values: &[String]) -> anyhow::Result<()> {
    let padded: Vec<String> = values.iter().zip(widths).map(|(v, w)| pad(v, *w)).collect();
    writeln!(out, "{}", padded.join("  ").trim_end())?;
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
    fn json_row_by_row_is_what_the_whole_array_prints() {
        let rows = [Row { id: 1, name: "a\nb", note: None }, Row { id: 2, name: "[\"]", note: Some("  x") }];
        assert_eq!(render(Format::Json, &rows), serde_json::to_string_pretty(&rows).unwrap() + "\n");
    }

    #[test]
    fn a_long_table_keeps_the_widths_of_its_first_rows_and_prints_every_row() {
        let mut rows: Vec<Row> = (0..TABLE_ROWS_MEASURED as u32).map(|id| Row { id, name: "Bo", note: None }).collect();
        rows.push(Row { id: 1, name: "a longer name", note: Some("x") });
        let text = render(Format::Table, &rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), TABLE_ROWS_MEASURED + 2);
        assert_eq!(lines[0], "id    name  note");
        assert_eq!(lines[1], "0     Bo");
        assert_eq!(*lines.last().unwrap(), "1     a longer name  x");
    }

    /// Counts what reaches it, to be read while a `ListWriter` holds it.
    struct Counted(std::rc::Rc<std::cell::Cell<usize>>);

    impl Write for Counted {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.set(self.0.get() + bytes.len());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn rows_reach_the_output_before_the_list_ends() {
        let row = Row { id: 7, name: "Bo", note: None };
        let written_before_the_end = |format: Format, rows: usize| {
            let count = std::rc::Rc::new(std::cell::Cell::new(0));
            let mut out = Counted(count.clone());
            let mut list = ListWriter::new(&mut out, format, &["id", "name", "note"]);
            for _ in 0..rows {
                list.row(&row).unwrap();
            }
            count.get()
        };
        assert!(written_before_the_end(Format::Json, 1) > 0);
        // 120,000 bytes of rows; the CSV writer's own buffer holds 8 KiB of them.
        assert!(written_before_the_end(Format::Csv, 20_000) > 100_000);
        assert_eq!(written_before_the_end(Format::Table, TABLE_ROWS_MEASURED - 1), 0, "widths not settled yet");
        assert!(written_before_the_end(Format::Table, TABLE_ROWS_MEASURED + 1) > 0);
    }

    #[test]
    fn a_list_that_ends_before_its_first_row_prints_nothing() {
        for format in [Format::Table, Format::Csv, Format::Json] {
            let mut out = Vec::new();
            drop(ListWriter::new(&mut out, format, &["id", "name", "note"]));
            assert!(out.is_empty(), "{format:?}: {}", String::from_utf8_lossy(&out));
        }
    }

    #[test]
    fn empty_lists_say_so_or_keep_their_header() {
        assert_eq!(render(Format::Table, &[]), "(none)\n");
        assert_eq!(render(Format::Csv, &[]), "id,name,note\n");
        assert_eq!(render(Format::Json, &[]), "[]\n");
    }
}
