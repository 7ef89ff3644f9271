//! A window of list rows read from the database a page at a time around the selection, so a
//! list of a million rows scrolls like one of ten: moving past either edge reads the next page
//! (keyset pagination), and rows far from the selection are let go.

/// A list read from the database a page at a time; every such list answers the list keys the
/// same way (`page_through`).
pub trait PagedList {
    fn move_by(&mut self, app: &crate::app::App, actor: &crate::app::Actor, delta: isize) -> anyhow::Result<()>;
    /// The first row; a list held whole in memory needs no more than moving there.
    fn first(&mut self, app: &crate::app::App, actor: &crate::app::Actor) -> anyhow::Result<()> {
        self.move_by(app, actor, isize::MIN / 2)
    }
    fn last(&mut self, app: &crate::app::App, actor: &crate::app::Actor) -> anyhow::Result<()> {
        self.move_by(app, actor, isize::MAX / 2)
    }
    /// Rows a page moves by: the rows the list last showed.
    fn page(&self) -> isize;

    /// Moves for `action` if it is one of the list keys; returns whether it was.
    fn page_through(
        &mut self,
        action: super::keymap::Action,
        app: &crate::app::App,
        actor: &crate::app::Actor,
    ) -> anyhow::Result<bool> {
        use super::keymap::Action;
        match action {
            Action::Down => self.move_by(app, actor, 1)?,
            Action::Up => self.move_by(app, actor, -1)?,
            Action::PageDown => self.move_by(app, actor, self.page())?,
            Action::PageUp => self.move_by(app, actor, -self.page())?,
            Action::Top => self.first(app, actor)?,
            Action::Bottom => self.last(app, actor)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// `selected` moved by `delta` within a list held whole in memory, stopping at either end.
pub fn moved(selected: usize, len: usize, delta: isize) -> usize {
    if len == 0 {
        return 0;
    }
    (selected as isize).saturating_add(delta).clamp(0, len as isize - 1) as usize
}

/// Which way to read from a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    After,
    Before,
}

pub struct Window<T> {
    pub rows: Vec<T>,
    pub selected: usize,
    /// The first row drawn.
    pub offset: usize,
    /// The first row is the list's first, or the last row its last.
    pub at_start: bool,
    pub at_end: bool,
    /// Rows the list showed when last drawn; 0 until then.
    pub height: usize,
    /// Where `rows[0]` stands in the whole list, when known: a list opened at its start knows,
    /// and pages read and let go carry it along.
    pub first_index: Option<usize>,
    page: usize,
}

impl<T> Window<T> {
    pub fn new(page: usize) -> Window<T> {
        Window {
            rows: Vec::new(),
            selected: 0,
            offset: 0,
            at_start: true,
            at_end: true,
            height: 0,
            first_index: Some(0),
            page,
        }
    }

    pub fn selected(&self) -> Option<&T> {
        self.rows.get(self.selected)
    }

    /// The selection's place in the whole list, from 1, when known.
    pub fn position(&self) -> Option<usize> {
        Some(self.first_index? + self.selected + 1).filter(|_| !self.rows.is_empty())
    }

    /// Starts again from the list's first page.
    pub fn show_first(&mut self, rows: Vec<T>) {
        self.at_end = rows.len() < self.page;
        (self.rows, self.at_start, self.selected, self.offset) = (rows, true, 0, 0);
        self.first_index = Some(0);
    }

    /// Starts again from the list's last page, selecting its last row; `total` is the list's
    /// length, if the caller knows it.
    pub fn show_last(&mut self, rows: Vec<T>, total: Option<usize>) {
        self.at_start = rows.len() < self.page;
        self.first_index = if self.at_start { Some(0) } else { total.map(|t| t.saturating_sub(rows.len())) };
        (self.rows, self.at_end) = (rows, true);
        self.selected = self.rows.len().saturating_sub(1);
        // Before the first draw the height is unknown: drawing scrolls the selection into view.
        self.offset = if self.height == 0 { 0 } else { self.selected.saturating_sub(self.height - 1) };
    }

    /// Moves the selection by `delta`, reading a page past whichever edge it crosses with
    /// `read(edge row, side)`.
    pub fn move_by(
        &mut self,
        delta: isize,
        mut read: impl FnMut(&T, Side) -> anyhow::Result<Vec<T>>,
    ) -> anyhow::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let keep = 3 * self.page;
        let mut target = self.selected as isize + delta;
        while target >= self.rows.len() as isize && !self.at_end {
            let more = read(&self.rows[self.rows.len() - 1], Side::After)?;
            self.at_end = more.len() < self.page;
            self.rows.extend(more);
            if self.rows.len() > keep {
                let cut = self.rows.len() - keep;
                self.rows.drain(..cut);
                self.first_index = self.first_index.map(|f| f + cut);
                self.selected = self.selected.saturating_sub(cut);
                self.offset = self.offset.saturating_sub(cut);
                self.at_start = false;
                target -= cut as isize;
            }
        }
        while target < 0 && !self.at_start {
            let more = read(&self.rows[0], Side::Before)?;
            self.at_start = more.len() < self.page;
            let added = more.len();
            self.first_index = if self.at_start { Some(0) } else { self.first_index.map(|f| f.saturating_sub(added)) };
            self.rows.splice(0..0, more);
            self.selected += added;
            self.offset += added;
            target += added as isize;
            if self.rows.len() > keep {
                self.rows.truncate(keep);
                self.at_end = false;
            }
        }
        self.selected = target.clamp(0, self.rows.len() as isize - 1) as usize;
        self.keep_visible();
        Ok(())
    }

    /// Scrolls so the selection is on screen.
    pub fn keep_visible(&mut self) {
        // Until the list has been drawn its height is unknown; drawing calls this again.
        if self.height == 0 {
            return;
        }
        self.offset = scroll_into_view(self.selected, self.offset, self.height);
    }

    /// Selects the `row`-th row on screen (a mouse click), if there is one.
    pub fn select_visible_row(&mut self, row: usize) {
        if self.offset + row < self.rows.len() {
            self.selected = self.offset + row;
        }
    }

    /// The rows on screen, with their index.
    pub fn visible(&self) -> impl Iterator<Item = (usize, &T)> {
        self.rows.iter().enumerate().skip(self.offset).take(self.height)
    }
}

/// The first row to draw so that `selected` is among `height` rows, moving `offset` as little
/// as possible.
pub fn scroll_into_view(selected: usize, offset: usize, height: usize) -> usize {
    let height = height.max(1);
    if selected < offset {
        selected
    } else if selected >= offset + height {
        selected + 1 - height
    } else {
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list of `total` numbers read `page` at a time, counting the reads.
    fn list(total: usize, page: usize) -> (Window<usize>, impl FnMut(&usize, Side) -> anyhow::Result<Vec<usize>>) {
        let mut window = Window::new(page);
        window.height = 5;
        window.show_first((0..page.min(total)).collect());
        let read = move |edge: &usize, side: Side| -> anyhow::Result<Vec<usize>> {
            Ok(match side {
                Side::After => (edge + 1..total).take(page).collect(),
                Side::Before => (edge.saturating_sub(page)..*edge).collect(),
            })
        };
        (window, read)
    }

    #[test]
    fn moving_past_the_edge_reads_the_next_page_and_keeps_three() {
        let (mut window, mut read) = list(10_000, 100);
        window.move_by(250, &mut read).unwrap();
        assert_eq!(window.selected().copied(), Some(250));
        window.move_by(1_000, &mut read).unwrap();
        assert_eq!(window.selected().copied(), Some(1_250));
        assert!(window.rows.len() <= 300, "rows far behind are let go");
        window.move_by(-1_240, &mut read).unwrap();
        assert_eq!(window.selected().copied(), Some(10), "and read again on the way back");
        window.move_by(-100, &mut read).unwrap();
        assert_eq!(window.selected().copied(), Some(0));
    }

    #[test]
    fn the_place_in_the_whole_list_survives_pages_read_and_let_go() {
        let (mut window, mut read) = list(10_000, 100);
        for step in [250, 1_000, 3_000, -2_500, -600, 7] {
            window.move_by(step, &mut read).unwrap();
            let value = window.selected().copied().unwrap();
            assert_eq!(window.position(), Some(value + 1), "after moving {step}");
        }
        window.show_last((9_900..10_000).collect(), Some(10_000));
        assert_eq!(window.position(), Some(10_000));
        window.move_by(-450, &mut read).unwrap();
        assert_eq!(window.position(), Some(window.selected().copied().unwrap() + 1));
        window.show_last((9_900..10_000).collect(), None);
        assert_eq!(window.position(), None, "unknown, never guessed");
    }

    #[test]
    fn the_selection_stays_on_screen() {
        assert_eq!(scroll_into_view(12, 0, 5), 8);
        assert_eq!(scroll_into_view(3, 8, 5), 3);
        assert_eq!(scroll_into_view(9, 8, 5), 8);
    }
}
