//! A report as a PDF a funder or a board can print: a heading, who produced it and when, tables
//! that continue across pages with their header repeated, bar charts drawn as vector shapes, and
//! `page N of M` on every page.
//!
//! Text is set in the PDF's standard Helvetica, which every reader has, so no font is embedded:
//! the file stays small and the build needs no font asset. That font covers Latin-1 (WinAnsi);
//! other characters print as `?`.

use pdf_writer::{Content, Date, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// US Letter, in points.
const PAGE_WIDTH: f32 = 612.0;
const PAGE_HEIGHT: f32 = 792.0;
const MARGIN: f32 = 54.0;
const BODY: f32 = 9.0;
const CHART_HEIGHT: f32 = 120.0;
const REGULAR: Name = Name(b"F1");
const BOLD: Name = Name(b"F2");

/// What a PDF report holds, top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub title: String,
    /// What the figures cover: the period, the program.
    pub subtitle: String,
    /// `Produced by NAME (login) on DATE TIME ZONE`.
    pub produced: String,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Section {
    Table {
        heading: String,
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// Bars from zero; a value of `None` is drawn as a gap labelled `-`.
    Bars {
        heading: String,
        unit: Unit,
        bars: Vec<(String, Option<f64>)>,
    },
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Values from 0 to 1, shown as percentages on a 0–100 % axis.
    Share,
    /// Plain numbers on an axis up to the largest.
    Count,
}

/// Helvetica's advance widths (thousandths of the type size) for ASCII 32–126, from its AFM.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556,
    556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334,
    260, 334, 584,
];

/// How wide `text` is set in Helvetica at `size` (bold is about 5 % wider).
fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| match c as u32 {
            code @ 32..=126 => u32::from(HELVETICA[(code - 32) as usize]),
            _ => 556,
        })
        .sum();
    units as f32 / 1000.0 * size * if bold { 1.05 } else { 1.0 }
}

/// `text` in the font's WinAnsi encoding: Latin-1 as is, anything else `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c as u32 {
            code @ (32..=126 | 0xA0..=0xFF) => code as u8,
            _ => b'?',
        })
        .collect()
}

/// `text` cut to fit `width`, ending in `...` when cut.
fn fitted(text: &str, size: f32, width: f32) -> String {
    if text_width(text, size, false) <= width {
        return text.to_string();
    }
    let mut cut: String = text.to_string();
    while !cut.is_empty() && text_width(&format!("{cut}..."), size, false) > width {
        cut.pop();
    }
    format!("{cut}...")
}

/// Pages being laid out, top to bottom.
struct Layout {
    pages: Vec<Content>,
    /// Where the next line's baseline goes on the last page.
    y: f32,
}

impl Layout {
    fn new() -> Layout {
        let mut layout = Layout { pages: Vec::new(), y: 0.0 };
        layout.new_page();
        layout
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = PAGE_HEIGHT - MARGIN;
    }

    /// Starts a new page unless `height` more fits on this one.
    fn room_for(&mut self, height: f32) {
        if self.y - height < MARGIN + 20.0 {
            self.new_page();
        }
    }

    fn page(&mut self) -> &mut Content {
        self.pages.last_mut().expect("a layout always has a page")
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        let page = self.page();
        page.begin_text();
        page.set_font(if bold { BOLD } else { REGULAR }, size);
        page.next_line(x, y);
        page.show(Str(&win_ansi(text)));
        page.end_text();
    }

    fn line(&mut self, size: f32, bold: bool, text: &str) {
        self.room_for(size * 1.4);
        self.y -= size * 1.4;
        let y = self.y;
        self.text(MARGIN, y, size, bold, text);
    }

    fn rule(&mut self, y: f32) {
        let page = self.page();
        page.set_line_width(0.5);
        page.set_stroke_gray(0.6);
        page.move_to(MARGIN, y);
        page.line_to(PAGE_WIDTH - MARGIN, y);
        page.stroke();
    }

    fn table(&mut self, heading: &str, columns: &[String], rows: &[Vec<String>]) {
        self.room_for(BODY * 6.0);
        self.y -= 8.0;
        self.line(11.0, true, heading);
        if rows.is_empty() {
            self.line(BODY, false, "(none)");
            return;
        }
        let usable = PAGE_WIDTH - 2.0 * MARGIN;
        let natural: Vec<f32> = (0..columns.len())
            .map(|i| {
                let widest = rows.iter().map(|r| text_width(r.get(i).map_or("", String::as_str), BODY, false));
                widest.fold(text_width(&columns[i], BODY, true), f32::max) + 8.0
            })
            .collect();
        // Too wide for the page: the type shrinks (to 6 pt) before the cells are cut.
        let total: f32 = natural.iter().sum();
        let size = if total > usable { (BODY * usable / total).max(6.0) } else { BODY };
        let scale = size / BODY;
        let mut widths: Vec<f32> = natural.iter().map(|w| w * scale).collect();
        let scaled: f32 = widths.iter().sum();
        if scaled > usable {
            widths.iter_mut().for_each(|w| *w *= usable / scaled);
        }
        let numeric: Vec<bool> = (0..columns.len())
            .map(|i| rows.iter().all(|r| r.get(i).is_none_or(|c| c.is_empty() || looks_numeric(c))))
            .collect();
        let header = |layout: &mut Layout| {
            layout.room_for(size * 1.5);
            layout.y -= size * 1.5;
            layout.row(columns, &widths, &numeric, size, true);
            let y = layout.y - size * 0.4;
            layout.rule(y);
        };
        header(self);
        for row in rows {
            if self.y - size * 1.4 < MARGIN + 20.0 {
                self.new_page();
                header(self);
            }
            self.y -= size * 1.4;
            self.row(row, &widths, &numeric, size, false);
        }
    }

    fn row(&mut self, cells: &[String], widths: &[f32], numeric: &[bool], size: f32, bold: bool) {
        let mut x = MARGIN;
        let y = self.y;
        for (i, width) in widths.iter().enumerate() {
            let cell = fitted(cells.get(i).map_or("", String::as_str), size, width - 6.0);
            let shift = if numeric[i] { width - 6.0 - text_width(&cell, size, bold) } else { 0.0 };
            self.text(x + shift, y, size, bold, &cell);
            x += width;
        }
    }

    fn bars(&mut self, heading: &str, unit: Unit, bars: &[(String, Option<f64>)]) {
        self.room_for(CHART_HEIGHT + 40.0);
        self.y -= 8.0;
        self.line(11.0, true, heading);
        if bars.is_empty() {
            self.line(BODY, false, "(nothing to chart)");
            return;
        }
        let top = match unit {
            Unit::Share => 1.0,
            Unit::Count => bars.iter().filter_map(|(_, v)| *v).fold(0.0, f64::max).max(1.0),
        };
        let axis_label = |value: f64| match unit {
            Unit::Share => format!("{:.0}%", value * 100.0),
            Unit::Count => format_number(value),
        };
        let left = MARGIN + 34.0;
        let base = self.y - CHART_HEIGHT - 6.0;
        let height = CHART_HEIGHT - 14.0;
        // The axis: zero, the middle and the top, with faint lines across.
        for step in [0.0, 0.5, 1.0] {
            let y = base + height * step as f32;
            let label = axis_label(top * step);
            let x = left - 4.0 - text_width(&label, 7.0, false);
            self.text(x, y - 2.5, 7.0, false, &label);
            let page = self.page();
            page.set_line_width(0.3);
            page.set_stroke_gray(if step == 0.0 { 0.2 } else { 0.8 });
            page.move_to(left, y);
            page.line_to(PAGE_WIDTH - MARGIN, y);
            page.stroke();
        }
        let slot = (PAGE_WIDTH - MARGIN - left) / bars.len() as f32;
        let width = (slot * 0.7).min(40.0);
        for (i, (label, value)) in bars.iter().enumerate() {
            let x = left + slot * i as f32 + (slot - width) / 2.0;
            let shown = match value {
                Some(v) => axis_label(*v),
                None => "-".to_string(),
            };
            let bar_height = value.map_or(0.0, |v| (v / top).clamp(0.0, 1.0) as f32 * height);
            if bar_height > 0.0 {
                let page = self.page();
                page.set_fill_gray(0.45);
                page.rect(x, base, width, bar_height);
                page.fill_nonzero();
                self.page().set_fill_gray(0.0);
            }
            let size = 7.0;
            let value_x = x + (width - text_width(&shown, size, false)) / 2.0;
            self.text(value_x, base + bar_height + 2.5, size, false, &shown);
            let label = fitted(label, size, slot - 2.0);
            let label_x = x + (width - text_width(&label, size, false)) / 2.0;
            self.text(label_x, base - 9.0, size, false, &label);
        }
        self.y = base - 14.0;
    }
}

fn looks_numeric(cell: &str) -> bool {
    cell.trim_end_matches('%').parse::<f64>().is_ok()
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.1}") }
}

/// The PDF's bytes. `created` is the moment it was produced, for the file's own metadata.
pub fn render(document: &Document, created: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let mut layout = Layout::new();
    layout.y += 16.0 * 1.4 - 16.0;
    layout.line(16.0, true, &document.title);
    layout.line(10.0, false, &document.subtitle);
    layout.line(8.0, false, &document.produced);
    let y = layout.y - 6.0;
    layout.rule(y);
    layout.y -= 6.0;
    for section in &document.sections {
        match section {
            Section::Table { heading, columns, rows } => layout.table(heading, columns, rows),
            Section::Bars { heading, unit, bars } => layout.bars(heading, *unit, bars),
            Section::Text(text) => {
                layout.y -= 4.0;
                for line in text.lines() {
                    layout.line(BODY, false, line);
                }
            }
        }
    }
    let count = layout.pages.len();
    for (i, page) in layout.pages.iter_mut().enumerate() {
        let footer = win_ansi(&format!("{} - page {} of {count}", document.title, i + 1));
        page.begin_text();
        page.set_font(REGULAR, 7.0);
        page.next_line(MARGIN, MARGIN - 20.0);
        page.show(Str(&footer));
        page.end_text();
    }
    assemble(document, layout.pages, created)
}

fn assemble(document: &Document, pages: Vec<Content>, created: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    use chrono::{Datelike, Timelike};
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first = 6;
    let page_ids: Vec<Ref> = (0..pages.len()).map(|i| Ref::new(first + 2 * i as i32)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(pages.len() as i32);
    for (name, id) in [(b"Helvetica".as_slice(), regular), (b"Helvetica-Bold".as_slice(), bold)] {
        pdf.type1_font(id).base_font(Name(name)).encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    for (page_id, content) in page_ids.iter().zip(pages) {
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        page.parent(tree);
        page.contents(content_id);
        let mut resources = page.resources();
        resources.fonts().pair(REGULAR, regular).pair(BOLD, bold);
        resources.finish();
        page.finish();
        pdf.stream(content_id, &content.finish());
    }
    let date = Date::new(created.year() as u16)
        .month(created.month() as u8)
        .day(created.day() as u8)
        .hour(created.hour() as u8)
        .minute(created.minute() as u8)
        .second(created.second() as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0);
    pdf.document_info(info)
        .title(TextStr(&document.title))
        .author(TextStr(&document.produced))
        .producer(TextStr("muster"))
        .creation_date(date);
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_helvetica() {
        assert_eq!(text_width("10", 10.0, false), 11.12);
        assert!(text_width("WWW", 10.0, false) > text_width("iii", 10.0, false) * 3.0);
        let cut = fitted("a long program name", 9.0, 30.0);
        assert!(cut.ends_with("...") && text_width(&cut, 9.0, false) <= 30.0, "{cut}");
    }

    #[test]
    fn latin1_stays_and_the_rest_is_a_question_mark() {
        assert_eq!(win_ansi("José 😀"), vec![b'J', b'o', b's', 0xE9, b' ', b'?']);
    }

    #[test]
    fn a_long_table_continues_on_numbered_pages() {
        let rows: Vec<Vec<String>> = (0..180).map(|i| vec![format!("S{i:03}"), format!("{i}")]).collect();
        let document = Document {
            title: "Roster".into(),
            subtitle: "all".into(),
            produced: "Produced by test".into(),
            sections: vec![Section::Table { heading: "students".into(), columns: vec!["id".into(), "n".into()], rows }],
        };
        let bytes = render(&document, chrono::Utc::now());
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with("%PDF-"));
        let count = text.split("/Count ").nth(1).and_then(|t| t.split_whitespace().next()).unwrap_or("?").to_string();
        assert!(text.contains("/Count 4"), "180 rows at 9 pt take four Letter pages, not {count}");
        assert!(text.contains("page 4 of 4"));
    }
}
