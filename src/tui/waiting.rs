//! What the console shows while it cannot draw: a change waiting for another process's write
//! (an import, the alert job catching up), or a read of its own that takes a while (a tab over a
//! hundred thousand students). Either runs on the screen's thread, so nothing redraws through
//! ratatui until it ends: the bottom line is written directly, and keys pressed meanwhile are
//! dropped — keys queued behind a frozen screen would act on rows nobody saw. During a wait, Esc
//! stops waiting (the change fails, having written nothing).

use crossterm::event::{Event, KeyCode, KeyEventKind};
use crossterm::style::{Attribute, Print, SetAttribute};
use crossterm::{cursor, queue};
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::sync::{Condvar, Mutex, PoisonError};
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
        write_bottom_line(&line, rows);
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

/// How long a read may keep the screen still before the bottom line says what it reads.
const QUIET_READ: Duration = Duration::from_millis(250);

/// Runs `read` on the screen's thread. Past `QUIET_READ` the bottom line says what is being read;
/// keys pressed until it ends are then dropped, as during a wait.
pub fn reading<T>(what: &str, read: impl FnOnce() -> T) -> T {
    let (result, said) = reading_with(what, QUIET_READ, read, |text| {
        let (columns, rows) = crossterm::terminal::size().unwrap_or((80, 24));
        write_bottom_line(&fitted(text, usize::from(columns)), rows);
    });
    if said {
        while crossterm::event::poll(Duration::ZERO).unwrap_or(false) {
            let _ = crossterm::event::read();
        }
        DREW.with(|drew| drew.set(true));
    }
    result
}

/// `reading` with the notice's delay and how it is written given: the result, and whether the
/// notice was written.
fn reading_with<T>(what: &str, quiet: Duration, read: impl FnOnce() -> T, say: impl FnOnce(&str) + Send) -> (T, bool) {
    let finished = (Mutex::new(false), Condvar::new());
    std::thread::scope(|scope| {
        let notice = scope.spawn(|| {
            let (done, ended) = &finished;
            let done = done.lock().unwrap_or_else(PoisonError::into_inner);
            let (done, _) =
                ended.wait_timeout_while(done, quiet, |done| !*done).unwrap_or_else(PoisonError::into_inner);
            // Written holding the lock: the read's end waits for it, so the frame drawn next
            // is drawn over it, never under it.
            (!*done).then(|| say(&format!(" reading {what}… keys are ignored until it shows")))
        });
        let result = read();
        *finished.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
        finished.1.notify_one();
        (result, notice.join().ok().flatten().is_some())
    })
}

/// Writes `line` over the bottom row, in reverse video.
fn write_bottom_line(line: &str, rows: u16) {
    let mut out = std::io::stdout();
    let _ = queue!(
        out,
        cursor::MoveTo(0, rows.saturating_sub(1)),
        SetAttribute(Attribute::Reverse),
        Print(line),
        SetAttribute(Attribute::Reset)
    );
    let _ = out.flush();
}

/// Whether a wait, or a read's notice, wrote over the screen since the last call: the next frame
/// must be drawn whole.
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
    use super::{fitted, reading_with};
    use std::time::Duration;

    #[test]
    fn a_slow_read_says_what_it_reads_and_a_quick_one_says_nothing() {
        let said = std::sync::Mutex::new(Vec::new());
        let slow = || {
            std::thread::sleep(Duration::from_millis(300));
            7
        };
        let (result, shown) = reading_with("Reports", Duration::from_millis(50), slow, |text| {
            said.lock().unwrap().push(text.to_string());
        });
        assert_eq!((result, shown), (7, true));
        assert_eq!(*said.lock().unwrap(), [" reading Reports… keys are ignored until it shows"]);
        let (result, shown) =
            reading_with("Home", Duration::from_secs(5), || 8, |text| said.lock().unwrap().push(text.to_string()));
        assert_eq!((result, shown), (8, false));
        assert_eq!(said.lock().unwrap().len(), 1, "a quick read wrote nothing");
    }

    #[test]
    fn the_line_fills_the_width_exactly_whatever_it_holds() {
        assert_eq!(fitted("waiting", 10), "waiting   ");
        assert_eq!(fitted("waiting for the import", 7), "waiting");
        // Wide characters take two cells: one that would overhang is left out.
        assert_eq!(fitted("ab漢字", 5), "ab漢 ");
        assert_eq!(fitted("", 3), "   ");
    }
}
