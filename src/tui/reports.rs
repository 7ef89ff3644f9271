//! The Reports tab: for one program at a time (j/k), the attendance rate week by week as a bar
//! chart — or, with `t`, as a line with the cohort health score as points on the same 0–100
//! axis — its cohort health with the formula and a sparkline of the weeks, and the month against
//! the one before as a table — the figures of `muster report attendance`, `report health` and
//! `report outcomes`, scoped the same way.

use super::keymap::{Action, Scope};
use super::pane::{Context, Effect, Hint, Look, Pane};
use super::theme::Theme;
use crate::app::{WeekAttendance, WeekHealth};
use crate::domain::outcomes::MonthOutcome;
use chrono::{Datelike, Days};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Bar, BarChart, BarGroup, Block, Borders, Chart, Dataset, GraphType, Paragraph, Row, Sparkline, Table,
};

/// A line of the month table: its name and how it is read from a month.
type Metric = (&'static str, fn(&MonthOutcome) -> String);

/// How many weeks the chart shows.
const WEEKS: u64 = 8;

#[derive(Default)]
pub struct ReportsPane {
    weeks: Vec<WeekAttendance>,
    health: Vec<WeekHealth>,
    outcomes: Vec<MonthOutcome>,
    programs: Vec<String>,
    selected: usize,
    /// The weeks as lines rather than bars.
    lines: bool,
    /// `YYYY-Www` of today: a week under way with nothing logged yet is shown as no figure
    /// rather than as a fall to 0 %.
    week_under_way: String,
}

impl ReportsPane {
    fn program(&self) -> Option<&str> {
        self.programs.get(self.selected).map(String::as_str)
    }

    /// The figures of the program in view only: one program's enrollments read quickly even
    /// where the organisation has a hundred thousand students.
    fn read_program(&mut self, cx: &Context) -> anyhow::Result<()> {
        let Some(program) = self.program().map(str::to_string) else {
            (self.weeks, self.health, self.outcomes) = (Vec::new(), Vec::new(), Vec::new());
            return Ok(());
        };
        let today = cx.app.today();
        self.week_under_way = crate::app::week_name(today);
        let from = today - Days::new(7 * (WEEKS - 1));
        let slice = crate::store::figures::Slice { program_id: Some(&program), partner: None };
        self.weeks = cx.app.weekly_attendance(cx.actor, from, today, slice)?;
        self.health = cx.app.cohort_health_with(cx.actor, from, today, slice, &self.weeks)?;
        let month = format!("{:04}-{:02}", today.year(), today.month());
        self.outcomes = cx.app.month_outcomes(cx.actor, &month, slice)?;
        Ok(())
    }

    /// The chart's frame, titled with what it shows and which program; the area inside it, or
    /// `None` when there are no weeks to show (said in it).
    ///
    /// `shows` is what the chart shows, in full and in fewer letters: under 60 columns the title
    /// leads with the program, which the full one would cut off.
    fn chart_frame(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        program: &str,
        shows: (&str, &str),
    ) -> Option<Rect> {
        let (nth, of) = (self.selected + 1, self.programs.len());
        let title = if area.width < 60 {
            Line::from(vec![
                Span::raw(format!(" {program} {nth}/{of} ")),
                Span::styled(format!("{} ", shows.1), theme.accent),
            ])
        } else {
            Line::from(vec![
                Span::styled(format!(" {} ", shows.0), theme.accent),
                Span::raw(format!("{program} · {nth} of {of} programs (j/k) ")),
            ])
        };
        let block = Block::new().borders(Borders::TOP).title(title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.weeks.iter().all(|w| w.program_id != program) {
            frame.render_widget(Paragraph::new("No session days in these weeks.").style(theme.dim), inner);
            return None;
        }
        Some(inner)
    }

    /// A week's attendance rate as the charts show it: none for the week under way until
    /// something is logged in it.
    fn shown_rate(&self, week: &WeekAttendance) -> Option<f64> {
        let nothing_yet = week.week == self.week_under_way && week.present == 0;
        week.attendance_rate.filter(|_| !nothing_yet)
    }

    fn draw_bars(&self, frame: &mut Frame, area: Rect, theme: &Theme, program: &str) {
        let Some(inner) = self.chart_frame(frame, area, theme, program, ("attendance by week", "attendance")) else {
            return;
        };
        let weeks: Vec<&WeekAttendance> = self.weeks.iter().filter(|w| w.program_id == program).collect();
        // Bars as wide as the weeks allow; the axis is the week's number, the value its rate.
        let width = (inner.width / weeks.len().max(1) as u16).saturating_sub(1).clamp(3, 8);
        let bars: Vec<Bar> = weeks
            .iter()
            .map(|w| {
                let rate = self.shown_rate(w);
                let percent = rate.map_or(0, |r| (r * 100.0).round() as u64);
                let label = short_week(&w.week);
                let shown = rate.map_or_else(|| "—".to_string(), |_| format!("{percent}%"));
                Bar::default().value(percent).label(Line::from(label)).text_value(shown)
            })
            .collect();
        let chart = BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(width)
            .bar_gap(1)
            .max(100)
            .bar_style(theme.accent)
            .value_style(theme.selected)
            .label_style(theme.dim);
        frame.render_widget(chart, inner);
    }

    /// The attendance rate as a line and the health score as points, both out of 100, with the
    /// first and last week and 0/50/100 on the axes. Which is which is in the title, so that it
    /// reads without colour.
    fn draw_lines(&self, frame: &mut Frame, area: Rect, theme: &Theme, program: &str) {
        let shows = ("attendance % (line), health (points)", "attend. line, health pts");
        let Some(inner) = self.chart_frame(frame, area, theme, program, shows) else { return };
        let weeks: Vec<&WeekAttendance> = self.weeks.iter().filter(|w| w.program_id == program).collect();
        let attendance: Vec<(f64, f64)> =
            (weeks.iter().enumerate()).filter_map(|(x, w)| Some((x as f64, self.shown_rate(w)? * 100.0))).collect();
        let health: Vec<(f64, f64)> = (self.health.iter().filter(|h| h.program_id == program))
            .filter_map(|h| Some((weeks.iter().position(|w| w.week == h.week)? as f64, h.score?)))
            .collect();
        let (line, points) = if theme.braille { (Marker::Braille, Marker::Dot) } else { (Marker::Dot, Marker::Block) };
        let datasets = vec![
            Dataset::default().marker(line).graph_type(GraphType::Line).style(theme.accent).data(&attendance),
            Dataset::default().marker(points).graph_type(GraphType::Scatter).style(theme.warn).data(&health),
        ];
        let first_and_last: Vec<String> =
            [weeks.first(), weeks.last()].into_iter().flatten().map(|w| short_week(&w.week)).collect();
        let chart = Chart::new(datasets)
            .x_axis(
                Axis::default().bounds([0.0, (weeks.len().max(2) - 1) as f64]).labels(first_and_last).style(theme.dim),
            )
            .y_axis(Axis::default().bounds([0.0, 100.0]).labels(["0", "50", "100"]).style(theme.dim));
        frame.render_widget(chart, inner);
    }

    /// Two lines: the latest whole week's score, its change and the weeks as a sparkline; then
    /// the formula, so that nobody has to guess what the number means.
    fn draw_health(&self, frame: &mut Frame, area: Rect, theme: &Theme, program: &str) {
        let weeks: Vec<&WeekHealth> = self.health.iter().filter(|w| w.program_id == program).collect();
        let [top, formula] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
        let latest = weeks.iter().rev().find_map(|w| w.score.map(|s| (w, s)));
        let narrow = area.width < 60;
        let said = match latest {
            Some((week, score)) => {
                let change = match week.change {
                    Some(c) if narrow => format!(" ({c:+.1})"),
                    Some(c) => format!(" ({c:+.1} on the week before)"),
                    None => String::new(),
                };
                let number = short_week(&week.week);
                format!("cohort health {score:.1}{change}, {number} ")
            }
            None => "cohort health: no whole week yet ".to_string(),
        };
        let width = u16::try_from(said.chars().count()).unwrap_or(u16::MAX).min(top.width);
        let [text, spark] = Layout::horizontal([Constraint::Length(width), Constraint::Fill(1)]).areas(top);
        frame.render_widget(Paragraph::new(Span::styled(said, theme.accent)), text);
        let scores: Vec<u64> = weeks.iter().map(|w| w.score.map_or(0, |s| s.round() as u64)).collect();
        let spark_width = usize::from(spark.width.min(u16::try_from(scores.len()).unwrap_or(0)));
        let spark = Rect { width: spark_width as u16, ..spark };
        frame.render_widget(Sparkline::default().data(&scores).max(100).style(theme.accent), spark);
        // The same formula in fewer letters where the full one would be cut.
        let explained = if narrow {
            "100x(.5 attend + .3 login + .2(1-crit))".to_string()
        } else {
            format!("score = {}", crate::domain::outcomes::HEALTH_FORMULA)
        };
        frame.render_widget(Paragraph::new(Span::styled(explained, theme.dim)), formula);
    }

    fn draw_month(&self, frame: &mut Frame, area: Rect, theme: &Theme, program: &str) {
        let months: Vec<&MonthOutcome> = self.outcomes.iter().filter(|o| o.program_id == program).collect();
        let block =
            Block::new().borders(Borders::TOP).title(Span::styled(" this month against the last ", theme.accent));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [before, now] = [months.first().copied(), months.get(1).copied()];
        let (before, now) = match (before, now) {
            (Some(b), Some(n)) => (Some(b), Some(n)),
            (Some(only), None) => (None, Some(only)),
            _ => (None, None),
        };
        let cell = |o: Option<&MonthOutcome>, f: fn(&MonthOutcome) -> String| o.map(f).unwrap_or_else(|| "—".into());
        let rate = |o: &MonthOutcome| o.attendance_rate.map_or("—".into(), |r| format!("{:.0}%", r * 100.0));
        let metrics: [Metric; 8] = [
            ("enrolled", |o| o.enrolled.to_string()),
            ("started", |o| o.started.to_string()),
            ("active", |o| o.active.to_string()),
            ("completed", |o| o.completed.to_string()),
            ("withdrawn", |o| o.withdrawn.to_string()),
            ("attendance", rate),
            ("hours verified", |o| format!("{:.1}", o.contact_hours_verified)),
            ("credentials", |o| o.credentials.to_string()),
        ];
        let header = Row::new(vec![
            String::new(),
            before.map_or(String::new(), |o| o.month.clone()),
            now.map_or(String::new(), |o| o.month.clone()),
        ])
        .style(theme.dim);
        let rows: Vec<Row> =
            metrics.iter().map(|(name, f)| Row::new(vec![name.to_string(), cell(before, *f), cell(now, *f)])).collect();
        let widths = [Constraint::Length(15), Constraint::Length(10), Constraint::Length(10)];
        frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), inner);
    }
}

/// `YYYY-Www` as `Www`: the year is plain from the dates around it.
fn short_week(week: &str) -> String {
    week.split_once("-W").map_or_else(|| week.to_string(), |(_, number)| format!("W{number}"))
}

impl Pane for ReportsPane {
    fn title(&self) -> &'static str {
        "Reports"
    }

    fn load(&mut self, cx: &Context) -> anyhow::Result<()> {
        self.programs = cx.app.program_ids(cx.actor)?;
        self.selected = self.selected.min(self.programs.len().saturating_sub(1));
        self.read_program(cx)
    }

    fn act(&mut self, action: Action, cx: &Context) -> anyhow::Result<Effect> {
        let before = self.selected;
        match action {
            Action::Down => self.selected = super::window::moved(self.selected, self.programs.len(), 1),
            Action::Up => self.selected = super::window::moved(self.selected, self.programs.len(), -1),
            Action::SwitchChart => self.lines = !self.lines,
            _ => {}
        }
        if self.selected != before {
            self.read_program(cx)?;
        }
        Ok(Effect::Nothing)
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, _cx: &Context, look: &Look) {
        let Some(program) = self.program().map(str::to_string) else {
            let text = "No programs with students you may see.";
            frame.render_widget(Paragraph::new(text).style(look.theme.dim), area);
            return;
        };
        // The chart with the health lines beneath it, where there is room for both.
        let chart = |frame: &mut Frame, area: Rect| {
            if self.lines {
                self.draw_lines(frame, area, look.theme, &program);
            } else {
                self.draw_bars(frame, area, look.theme, &program);
            }
        };
        let chart_and_health = |frame: &mut Frame, area: Rect| {
            if area.height >= 10 {
                let [top, health] = Layout::vertical([Constraint::Fill(1), Constraint::Length(2)]).areas(area);
                chart(frame, top);
                self.draw_health(frame, health, look.theme, &program);
            } else {
                chart(frame, area);
            }
        };
        if area.width >= 100 {
            let [left, month] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(40)]).areas(area);
            chart_and_health(frame, left);
            self.draw_month(frame, month, look.theme, &program);
        } else if area.height >= 20 {
            let [top, month] = Layout::vertical([Constraint::Fill(1), Constraint::Length(11)]).areas(area);
            chart_and_health(frame, top);
            self.draw_month(frame, month, look.theme, &program);
        } else {
            // Too short for the month as well: the chart, which says the most at a glance.
            chart_and_health(frame, area);
        }
    }

    fn hints(&self) -> (Vec<Hint>, Vec<Hint>) {
        let other = if self.lines { "bars" } else { "lines" };
        (vec![(Action::Down, "next program"), (Action::SwitchChart, other)], Vec::new())
    }

    fn help(&self) -> &'static [(Scope, &'static str)] {
        &[(Scope::Reports, "reports"), (Scope::List, "lists"), (Scope::Everywhere, "everywhere")]
    }
}
