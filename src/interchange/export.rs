//! Writing an export: CSV or JSON, row by row as the rows are read, into a file that appears
//! under its name only once it is whole — a failed or killed export leaves nothing behind.
//!
//! The file is made with `O_TMPFILE` in the target's directory (a file with no name, gone with
//! the process if it dies) and linked into place at the end; where the file system cannot do
//! that, a hidden `.NAME.partial-PID` beside it is used and removed on failure (only a kill -9
//! can leave that one).

use rusqlite::types::Value;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// An export file being written; dropped without `commit`, it never appears.
pub struct PendingFile {
    out: BufWriter<File>,
    target: PathBuf,
    /// The hidden name it is written under, when the unnamed file was not available.
    named: Option<PathBuf>,
}

fn partial_name(target: &Path, tag: &str) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

impl PendingFile {
    /// Starts the file that will become `target` (readable by its owner only: exports hold
    /// people's records).
    pub fn create(target: &Path) -> std::io::Result<PendingFile> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if target.is_dir() {
            return Err(std::io::Error::other(format!("{} is a directory", target.display())));
        }
        match unnamed_in(&dir) {
            Ok(file) => {
                Ok(PendingFile { out: BufWriter::with_capacity(1 << 16, file), target: target.into(), named: None })
            }
            Err(_) => {
                let named = partial_name(target, "partial");
                let file = crate::store::create_private(&named)?;
                Ok(PendingFile {
                    out: BufWriter::with_capacity(1 << 16, file),
                    target: target.into(),
                    named: Some(named),
                })
            }
        }
    }

    /// Makes the whole file appear under its name, replacing one that was there.
    pub fn commit(mut self) -> std::io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        match self.named.take() {
            Some(named) => std::fs::rename(&named, &self.target),
            None => {
                use std::os::fd::AsRawFd;
                let linked = partial_name(&self.target, "linked");
                let _ = std::fs::remove_file(&linked);
                let from = std::ffi::CString::new(format!("/proc/self/fd/{}", self.out.get_ref().as_raw_fd()))?;
                let to = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(linked.as_os_str()))?;
                // SAFETY: linkat with two NUL-terminated paths we own; it only makes a name.
                let done = unsafe {
                    libc::linkat(libc::AT_FDCWD, from.as_ptr(), libc::AT_FDCWD, to.as_ptr(), libc::AT_SYMLINK_FOLLOW)
                };
                if done != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                std::fs::rename(&linked, &self.target).inspect_err(|_| {
                    let _ = std::fs::remove_file(&linked);
                })
            }
        }
    }
}

impl Write for PendingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let Some(named) = &self.named {
            let _ = std::fs::remove_file(named);
        }
    }
}

/// A file in `dir` with no name, mode 0600.
fn unnamed_in(dir: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).mode(0o600).custom_flags(libc::O_TMPFILE).open(dir)
}

/// How rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Csv,
    /// One array of objects keyed by column name, written as the rows come.
    Json,
}

/// Writes a header and rows in a shape.
pub struct RowWriter<'c, W: Write> {
    out: W,
    shape: Shape,
    columns: &'c [&'c str],
    rows: u64,
    line: String,
}

impl<'c, W: Write> RowWriter<'c, W> {
    pub fn start(mut out: W, shape: Shape, columns: &'c [&'c str]) -> std::io::Result<RowWriter<'c, W>> {
        match shape {
            Shape::Csv => {
                let mut line = String::new();
                for (i, c) in columns.iter().enumerate() {
                    if i > 0 {
                        line.push(',');
                    }
                    csv_cell(&mut line, &Value::Text(c.to_string()));
                }
                line.push('\n');
                out.write_all(line.as_bytes())?;
            }
            Shape::Json => out.write_all(b"[")?,
        }
        Ok(RowWriter { out, shape, columns, rows: 0, line: String::with_capacity(256) })
    }

    pub fn row(&mut self, cells: &[Value]) -> std::io::Result<()> {
        self.line.clear();
        match self.shape {
            Shape::Csv => {
                for (i, cell) in cells.iter().enumerate() {
                    if i > 0 {
                        self.line.push(',');
                    }
                    csv_cell(&mut self.line, cell);
                }
                self.line.push('\n');
            }
            Shape::Json => {
                let object: serde_json::Map<String, serde_json::Value> =
                    self.columns.iter().zip(cells).map(|(c, v)| (c.to_string(), json_cell(v))).collect();
                self.line.push_str(if self.rows == 0 { "\n" } else { ",\n" });
                self.line.push_str(&serde_json::Value::Object(object).to_string());
            }
        }
        self.rows += 1;
        self.out.write_all(self.line.as_bytes())
    }

    /// Ends the document and hands back where it was written.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.shape == Shape::Json {
            self.out.write_all(if self.rows == 0 { b"]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A cell as CSV: quoted when it holds a comma, a quote or a line break; a value that a
/// spreadsheet would run as a formula is prefixed with `'`.
fn csv_cell(line: &mut String, cell: &Value) {
    match cell {
        Value::Null => {}
        Value::Integer(n) => line.push_str(&n.to_string()),
        Value::Real(x) => line.push_str(&x.to_string()),
        Value::Text(text) => {
            let guarded = matches!(text.chars().next(), Some('=' | '+' | '-' | '@')) && text.parse::<f64>().is_err();
            if guarded || text.contains([',', '"', '\n', '\r']) {
                line.push('"');
                if guarded {
                    line.push('\'');
                }
                line.push_str(&text.replace('"', "\"\""));
                line.push('"');
            } else {
                line.push_str(text);
            }
        }
        Value::Blob(bytes) => line.push_str(&format!("<{} bytes>", bytes.len())),
    }
}

fn json_cell(cell: &Value) -> serde_json::Value {
    match cell {
        Value::Null => serde_json::Value::Null,
        Value::Integer(n) => (*n).into(),
        Value::Real(x) => serde_json::Number::from_f64(*x).map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::Text(text) => text.clone().into(),
        Value::Blob(bytes) => format!("<{} bytes>", bytes.len()).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it_and_disarms_formulas() {
        let mut out = Vec::new();
        let mut w = RowWriter::start(&mut out, Shape::Csv, &["a", "b", "c", "d"]).unwrap();
        w.row(&[Value::Text("x, y".into()), Value::Null, Value::Text("=SUM(A1)".into()), Value::Real(7.5)]).unwrap();
        w.row(&[Value::Text("say \"hi\"".into()), Value::Integer(3), Value::Text("-2".into()), Value::Null]).unwrap();
        w.finish().unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a,b,c,d\n\"x, y\",,\"'=SUM(A1)\",7.5\n\"say \"\"hi\"\"\",3,-2,\n");
    }

    #[test]
    fn json_is_one_array_even_when_empty() {
        let mut out = Vec::new();
        RowWriter::start(&mut out, Shape::Json, &["a"]).unwrap().finish().unwrap();
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&out).unwrap(), serde_json::json!([]));
        let mut out = Vec::new();
        let mut w = RowWriter::start(&mut out, Shape::Json, &["a", "b"]).unwrap();
        w.row(&[Value::Integer(1), Value::Text("x".into())]).unwrap();
        w.row(&[Value::Null, Value::Real(2.5)]).unwrap();
        w.finish().unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed, serde_json::json!([{ "a": 1, "b": "x" }, { "a": null, "b": 2.5 }]));
    }

    #[test]
    fn a_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        let mut pending = PendingFile::create(&target).unwrap();
        pending.write_all(b"half").unwrap();
        drop(pending);
        assert!(!target.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left beside it");
        let mut pending = PendingFile::create(&target).unwrap();
        pending.write_all(b"whole\n").unwrap();
        pending.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "whole\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
