//! The Home tab, the first screen: the person's day in a few lines — alerts by severity,
//! today's roster, what waits for verification and since when, payroll and onboarding waiting —
//! each line a way into the tab that holds it.

use super::inbox::age;
use super::keymap::Action;
use super::pane::{Context, Effect, Hint, Look, Pane};
use crate::app::{Actor, App};
use crate::domain::Role;
use chrono::{DateTime, Datelike, Days, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// Which tab a line leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leads {
    Alerts,
    /// Today's roster.
    Attendance,
    /// The verification queue.
    Queue,
    Payroll,
    Onboarding,
}

/// One line of the summary.
pub struct Summary {
    pub text: String,
    /// Something waits for this person here.
    pub waiting: bool,
    pub leads: Leads,
}

#[derive(Default)]
pub struct HomePane {
    pub lines: Vec<Summary>,
    pub selected: usize,
}

impl HomePane {
    /// Reads the day's summary for `actor`'s role.
    pub fn read(&mut self, app: &App, actor: &Actor, now: DateTime<Utc>) -> anyhow::Result<()> {
        let role = actor.user().role;
        let mut lines = Vec::new();
        let (critical, escalate, warn) = app.alert_counts(actor)?;
        let text = match app.alerts_processed_through()? {
            None => "Alerts: none yet — the daily alert job has never run on this database".to_string(),
            Some(day) => format!(
                "Alerts: {critical} critical, {escalate} escalated, {warn} warnings (the job has processed up to {day})"
            ),
        };
        lines.push(Summary { text, waiting: critical + escalate + warn > 0, leads: Leads::Alerts });
        if role == Role::Worksite {
            lines.push(roster_today(app, actor)?);
        }
        if role != Role::Worksite {
            let pending = app.pending_count(actor)?;
            let text = match app.oldest_pending(actor)? {
                Some(oldest) if pending > 0 => {
                    let records = match pending {
                        1 => "1 record waits".to_string(),
                        n => format!("{} records wait", crate::store::activity::pending_text(n)),
                    };
                    format!("Attendance: {records} for verification, the oldest for {}", age(&oldest, now))
                }
                _ => "Attendance: nothing waits for verification".to_string(),
            };
            lines.push(Summary { text, waiting: pending > 0, leads: Leads::Queue });
        }
        if role == Role::Admin {
            let waiting = app.payroll(actor, Some("pending"))?.len();
            let text = match waiting {
                0 => "Payroll: no profile waits for approval".to_string(),
                1 => "Payroll: 1 profile waits for your approval".to_string(),
                n => format!("Payroll: {n} profiles wait for your approval"),
            };
            lines.push(Summary { text, waiting: waiting > 0, leads: Leads::Payroll });
            let (gaps, partners) = app.partners_with_steps_left(actor)?;
            let text = format!("Onboarding: {gaps} of {partners} partners have steps left");
            lines.push(Summary { text, waiting: gaps > 0, leads: Leads::Onboarding });
        } else {
            let text = match app.payroll(actor, None)?.last() {
                None => "Payroll: you have no payroll profile yet".to_string(),
                Some(p) if p.status == "rejected" => {
                    format!("Payroll: your profile was rejected — {}", p.reason.as_deref().unwrap_or("no reason given"))
                }
                Some(p) => format!("Payroll: your profile is {}", p.status),
            };
            let waiting = !text.ends_with("approved");
            lines.push(Summary { text, waiting, leads: Leads::Payroll });
        }
        self.lines = lines;
        self.selected = self.selected.min(self.lines.len().saturating_sub(1));
        Ok(())
    }

    pub fn move_by(&mut self, delta: isize) {
        self.selected = super::window::moved(self.selected, self.lines.len(), delta);
    }

    /// The tab the selected line leads to.
    pub fn leads(&self) -> Option<Leads> {
        self.lines.get(self.selected).map(|l| l.leads)
    }
}

impl Pane for HomePane {
    fn title(&self) -> &'static str {
        "Home"
    }

    fn load(&mut self, cx: &Context) -> anyhow::Result<()> {
        self.read(cx.app, cx.actor, cx.app.now())
    }

    fn act(&mut self, action: Action, _cx: &Context) -> anyhow::Result<Effect> {
        Ok(match action {
            Action::Down => {
                self.move_by(1);
                Effect::Nothing
            }
            Action::Up => {
                self.move_by(-1);
                Effect::Nothing
            }
            Action::Open => self.leads().map_or(Effect::Nothing, Effect::Goto),
            _ => Effect::Nothing,
        })
    }

    fn hints(&self) -> (Vec<Hint>, Vec<Hint>) {
        (vec![(Action::Open, "open"), (Action::Down, "move")], Vec::new())
    }

    fn own_keys(&self) -> Vec<(Action, &'static str)> {
        vec![(Action::Open, "open the line's tab"), (Action::Down, "next line"), (Action::Up, "previous line")]
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, cx: &Context, look: &Look) {
        let (theme, who) = (look.theme, &cx.actor.user().name);
        let title = Line::from(vec![Span::styled(format!(" {who}'s day "), theme.accent)]);
        let block = Block::new().borders(Borders::TOP).title(title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let mut text: Vec<Line> = Vec::new();
        if self.lines.is_empty() {
            text.push(Line::styled("reading your day…", theme.dim));
        }
        for (i, line) in self.lines.iter().enumerate() {
            let mark = if line.waiting { "● " } else { "  " };
            let style = if i == self.selected { theme.selected } else { Style::new() };
            text.push(Line::from(vec![Span::styled(mark, theme.marked), Span::styled(line.text.clone(), style)]));
            text.push(Line::raw(""));
        }
        text.push(Line::styled("⏎ opens the line's tab · j/k move", theme.dim));
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), inner);
    }
}

/// A worksite's roster today: students with a session, how many are logged.
fn roster_today(app: &App, actor: &Actor) -> anyhow::Result<Summary> {
    let today = app.today();
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    let grid = app.week(actor, monday)?;
    let column = today.weekday().num_days_from_monday() as usize;
    let sessions: Vec<_> = grid.rows.iter().filter(|r| r.days[column].0).collect();
    let logged = sessions.iter().filter(|r| r.days[column].1.is_some()).count();
    let text = match sessions.len() {
        0 => "Today: none of your students has a session".to_string(),
        n if logged == n => format!("Today: all {n} students with a session are logged"),
        n => format!("Today: {logged} of {n} students with a session logged, {} to go", n - logged),
    };
    Ok(Summary { text, waiting: logged < sessions.len(), leads: Leads::Attendance })
}
