//! What the console shows while a change waits for another process's write (an import, the
//! alert job catching up). SQLite's busy handler runs inside the change, on the screen's thread,
//! so nothing redraws through ratatui until the wait ends: the bottom line is written directly,
//! Esc stops waiting (the change fails, having written nothing), and every other key pressed
//! meanwhile is dropped — keys queued behind a frozen screen would act on rows nobody saw.

use crossterm::event::{Event, KeyCode, KeyEventKind};
use crossterm::style::{Attribute, Print, SetAttribute};
use crossterm::{cursor, queue};
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::time::Duration;

thread_local! {
    /// The bottom line was written over since the last frame.
    static DREW: Cell<bool> = const { Cell::new(false) };
    /// What it says now: written again only when that changes (once a second, not every 50 ms
    /// SQLite tries again — the terminal may be at the end of a slow link).
    static SHOWN: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Shows the wait on the bottom line and reads the keys pressed since; false on Esc.
pub fn show(note: Option<&str>, waited: Duration) -> bool {
    let (columns, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    let what = note.unwrap_or("another muster process to finish writing");
    // What matters most first: a narrow terminal cuts the end.
    let text = format!(" waiting {} s, keys ignored, Esc stops: {what}", waited.as_secs());
    let line = fitted(&text, usize::from(columns));
    let drawn = DREW.with(Cell::get) && SHOWN.with(|shown| *shown.borrow() == line);
    if !drawn {
        let mut out = std::io::stdout();
        let _ = queue!(
            out,
            cursor::MoveTo(0, rows.saturating_sub(1)),
            SetAttribute(Attribute::Reverse),
            Print(&line),
            SetAttribute(Attribute::Reset)
        );
        let _ = out.flush();
        SHOWN.with(|shown| *shown.borrow_mut() = line);
        DREW.with(|drew| drew.set(true));
    }
    let mut go_on = true;
    while crossterm::event::poll(Duration::ZERO).unwrap_or(false) {
        if let Ok(Event::Key(key)) = crossterm::event::read()
            && key.code == KeyCode::Esc
            && key.kind == KeyEventKind::Press
        {
            go_on = false;
        }
    }
    go_on
}

/// Whether a wait wrote over the screen since the last call: the next frame must be drawn whole.
pub fn drew() -> bool {
    DREW.with(|drew| drew.replace(false))
}

/// `text` cut or padded to exactly `columns` cells.
fn fitted(text: &str, columns: usize) -> String {
    let mut line = String::new();
    let mut used = 0;
    for c in text.chars() {
        let width = ratatui::text::Span::raw(&*c.encode_utf8(&mut [0; 4])).width();
        if used + width > columns {
            break;
        }
        line.push(c);
        used += width;
    }
    line.extend(std::iter::repeat_n(' ', columns - used));
    line
}

#[cfg(test)]
mod tests {
    use super::fitted;

    #[test]
    fn the_line_fills_the_width_exactly_whatever_it_holds() {
        assert_eq!(fitted("waiting", 10), "waiting   ");
        assert_eq!(fitted("waiting for the import", 7), "waiting");
        // Wide characters take two cells: one that would overhang is left out.
        assert_eq!(fitted("ab漢字", 5), "ab漢 ");
        assert_eq!(fitted("", 3), "   ");
    }
}
