//! The Messages tab: the sendings one may see (an admin, every one) and where each recipient's
//! message stands; stopping a sending; and the templates one may use, written and changed in
//! place. Whether messages can go at all (the `[mail]` settings) is said at the top.

use super::keymap::{Action, Scope};
use super::overlay::{NoteFor, Overlay};
use super::pane::{Change, Context, Effect, Hint, Look, Pane};
use super::theme::Theme;
use crate::app::{Actor, App, Command};
use crate::domain::Role;
use crate::domain::message::RecipientStatus;
use crate::store::messages::{CampaignView, RecipientView, Template};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};

/// The newest sendings shown.
const SHOWN: usize = 500;

#[derive(Default)]
pub struct MessagesPane {
    /// The SMTP server (or "the hub" on a replica); `None` when nothing sends.
    mail: Option<String>,
    templates_view: bool,
    campaigns: Vec<CampaignView>,
    selected: usize,
    /// The selected sending's recipients, while its detail is open.
    recipients: Option<Vec<RecipientView>>,
    templates: Vec<Template>,
    /// In the templates view; row 0 is "new template".
    template_selected: usize,
    admin: bool,
    /// Messages waiting across the organisation, for the line at the top.
    waiting: i64,
    /// Whether one's own daily digest is on.
    digest: bool,
}

impl MessagesPane {
    pub fn new(mail: Option<String>) -> MessagesPane {
        MessagesPane { mail, ..MessagesPane::default() }
    }

    fn read(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        self.admin = actor.user().role == Role::Admin;
        self.campaigns = app.campaigns(actor, SHOWN)?;
        self.selected = self.selected.min(self.campaigns.len().saturating_sub(1));
        self.templates = app.templates(actor)?;
        self.template_selected = self.template_selected.min(self.templates.len());
        self.waiting = self.campaigns.iter().map(|c| c.waiting).sum();
        self.digest = app.digest_on(actor)?;
        if self.recipients.is_some() {
            self.recipients = self.selected_campaign().map(|c| app.campaign(actor, c.id)).transpose()?.map(|(_, r)| r);
        }
        Ok(())
    }

    fn selected_campaign(&self) -> Option<&CampaignView> {
        self.campaigns.get(self.selected)
    }

    fn status_line(&self) -> (String, bool) {
        let (line, problem) = self.mail_line();
        (format!("{line} · your digest: {}", if self.digest { "on" } else { "off" }), problem)
    }

    fn mail_line(&self) -> (String, bool) {
        match &self.mail {
            Some(host) if host == "the hub" => {
                ("this laptop's messages are sent by the hub after a sync".into(), false)
            }
            Some(host) if self.waiting > 0 => (format!("mail through {host} · {} waiting", self.waiting), false),
            Some(host) => (format!("mail through {host}"), false),
            None if self.waiting == 1 => ("no [mail] settings: 1 message waits as queued".into(), true),
            None if self.waiting > 0 => (format!("no [mail] settings: {} messages wait as queued", self.waiting), true),
            None => ("no [mail] settings: messages will wait as queued".into(), true),
        }
    }

    fn draw_campaigns(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let place = match self.campaigns.len() {
            0 => String::new(),
            n => format!("{} of {n} ", self.selected + 1),
        };
        let whose = if self.admin { " every sending " } else { " your sendings " };
        let block = Block::new()
            .borders(Borders::TOP)
            .title(Line::from(vec![Span::styled(whose, theme.accent), Span::raw(place)]));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.campaigns.is_empty() {
            let text = "Nothing sent yet. M on an alert writes to its student; T shows the templates.";
            frame.render_widget(Paragraph::new(text).style(theme.dim), inner);
            return;
        }
        let widths = vec![
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Fill(1),
            Constraint::Length(10),
            Constraint::Length(5),
            Constraint::Length(5),
            Constraint::Length(5),
            Constraint::Length(5),
        ];
        let kept = super::columns::fitting(inner.width, &widths, &[7, 6, 1, 4, 0], 12);
        let rows: Vec<Row> = self
            .campaigns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let state_style = match c.state.as_str() {
                    "stopped" => theme.dim,
                    "done" if c.failed > 0 => theme.warn,
                    "done" => theme.ok,
                    _ => theme.accent,
                };
                let cells = vec![
                    Span::raw(c.id.to_string()),
                    Span::raw(c.kind.clone()),
                    Span::styled(c.state.clone(), state_style),
                    Span::raw(c.subject.clone()),
                    Span::raw(c.created_by.clone()),
                    Span::styled(c.sent.to_string(), theme.ok),
                    Span::styled(c.failed.to_string(), if c.failed > 0 { theme.error } else { theme.dim }),
                    Span::styled(c.skipped.to_string(), theme.dim),
                    Span::raw(c.waiting.to_string()),
                ];
                Row::new(super::columns::keep(cells, &kept)).style(if i == self.selected {
                    theme.selected
                } else {
                    Style::new()
                })
            })
            .collect();
        let header = ["id", "kind", "state", "subject", "by", "sent", "fail", "skip", "wait"];
        let header = Row::new(super::columns::keep(header.to_vec(), &kept)).style(theme.dim);
        let table = Table::new(rows, super::columns::keep(widths, &kept)).header(header).column_spacing(1);
        frame.render_widget(table, inner);
    }

    fn draw_recipients(&self, frame: &mut Frame, area: Rect, theme: &Theme, recipients: &[RecipientView]) {
        let Some(c) = self.selected_campaign() else { return };
        let title = format!(" {} {} · {} · {} ", c.kind, c.id, c.state, c.audience);
        let block = Block::new().borders(Borders::TOP).title(Span::styled(title, theme.accent));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [head, table] = Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(inner);
        let summary = format!(
            "{} · sent {} · failed {} · skipped {} · waiting {} · by {} · goes {}",
            crate::domain::text::shown(&c.subject),
            c.sent,
            c.failed,
            c.skipped,
            c.waiting,
            c.created_by,
            c.send_at.replace('T', " ").trim_end_matches('Z')
        );
        frame.render_widget(Paragraph::new(summary).wrap(ratatui::widgets::Wrap { trim: true }), head);
        let widths = vec![Constraint::Length(10), Constraint::Length(20), Constraint::Length(9), Constraint::Fill(1)];
        let kept = super::columns::fitting(table.width, &widths, &[1], 12);
        let rows: Vec<Row> = recipients
            .iter()
            .map(|r| {
                let style = match r.status {
                    RecipientStatus::Sent => theme.ok,
                    RecipientStatus::Failed | RecipientStatus::Unknown => theme.error,
                    RecipientStatus::Skipped | RecipientStatus::Cancelled => theme.dim,
                    RecipientStatus::Queued | RecipientStatus::Sending => theme.accent,
                };
                let why = match (&r.reason, r.attempts) {
                    (Some(reason), n) if n > 1 => format!("{reason} ({n} attempts)"),
                    (Some(reason), _) => reason.clone(),
                    (None, _) => r.address.clone().unwrap_or_default(),
                };
                let cells = vec![
                    Span::raw(r.to.clone()),
                    Span::raw(r.name.clone()),
                    Span::styled(r.status.to_string(), style),
                    Span::styled(why, theme.dim),
                ];
                Row::new(super::columns::keep(cells, &kept))
            })
            .collect();
        let header =
            Row::new(super::columns::keep(vec!["to", "name", "status", "address or why"], &kept)).style(theme.dim);
        frame.render_widget(
            Table::new(rows, super::columns::keep(widths, &kept)).header(header).column_spacing(1),
            table,
        );
    }

    fn draw_templates(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::new().borders(Borders::TOP).title(Span::styled(" templates you may use ", theme.accent));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let widths = [Constraint::Length(16), Constraint::Length(14), Constraint::Fill(1)];
        let mut rows = vec![Row::new(vec![Span::styled("+ new template", theme.accent)])];
        rows.extend(self.templates.iter().map(|t| {
            Row::new(vec![
                Span::raw(t.name.clone()),
                Span::styled(t.owner.clone(), theme.dim),
                Span::raw(t.subject.clone()),
            ])
        }));
        let rows: Vec<Row> = rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| row.style(if i == self.template_selected { theme.selected } else { Style::new() }))
            .collect();
        let header = Row::new(["name", "kept by", "subject"]).style(theme.dim);
        frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), inner);
    }

    /// The editor for the selected template, or for a new one.
    fn edit_template(&self) -> Effect {
        let (text, organisation, title) =
            match self.template_selected.checked_sub(1).and_then(|i| self.templates.get(i)) {
                Some(t) => (
                    format!("Name: {}\nSubject: {}\n\n{}", t.name, t.subject, t.body),
                    t.owner == "organisation",
                    format!("template {}", t.name),
                ),
                None => (
                    "Name: \nSubject: \n\nHi {first_name},\n\n{partner_name}".to_string(),
                    self.admin,
                    if self.admin { "new organisation template".into() } else { "new template of yours".into() },
                ),
            };
        if organisation && !self.admin {
            return Effect::warn(
                "organisation templates are kept by admins; save it under another name to keep your own",
            );
        }
        Effect::Open(Overlay::note_with(title, NoteFor::Template { organisation }, &text))
    }
}

impl Pane for MessagesPane {
    fn title(&self) -> &'static str {
        "Messages"
    }

    fn label(&self, _now: chrono::DateTime<chrono::Utc>) -> String {
        match self.waiting {
            0 => "Messages".into(),
            n => format!("Messages {n}✉"),
        }
    }

    /// Only the count the tab bar shows: the sendings themselves are read when the tab is.
    fn summary(&mut self, cx: &Context) -> anyhow::Result<()> {
        self.waiting = cx.app.messages_waiting_for(cx.actor)?;
        Ok(())
    }

    fn load(&mut self, cx: &Context) -> anyhow::Result<()> {
        self.read(cx.app, cx.actor)
    }

    fn act(&mut self, action: Action, cx: &Context) -> anyhow::Result<Effect> {
        if crate::tui::window::PagedList::page_through(self, action, cx.app, cx.actor)? {
            return Ok(Effect::Nothing);
        }
        match action {
            Action::SwitchTemplates => {
                self.templates_view = !self.templates_view;
                self.recipients = None;
            }
            Action::Open if self.templates_view => return Ok(self.edit_template()),
            Action::Open if self.recipients.is_some() => self.recipients = None,
            Action::Open => {
                if let Some(c) = self.selected_campaign() {
                    self.recipients = Some(cx.app.campaign(cx.actor, c.id)?.1);
                }
            }
            Action::Back => self.recipients = None,
            Action::Digest => {
                let on = !self.digest;
                let change = Change {
                    done: Some(format!("your daily digest is {}", if on { "on" } else { "off" })),
                    undo: Some(("the digest switch".into(), Command::SetDigest { on: !on })),
                    ..Change::new(Command::SetDigest { on })
                };
                return Ok(Effect::Change(change));
            }
            Action::StopCampaign if !self.templates_view => {
                let Some(c) = self.selected_campaign() else { return Ok(Effect::Nothing) };
                if c.waiting == 0 {
                    return Ok(Effect::say(format!("{} {} has nothing left to send", c.kind, c.id)));
                }
                let question = format!(
                    "Stop {} {} ({})? {} messages not yet sent are cancelled; {} sent stay sent.",
                    c.kind,
                    c.id,
                    crate::domain::text::shown(&c.subject),
                    c.waiting,
                    c.sent
                );
                let change = Change { question: Some(question), ..Change::new(Command::StopCampaign { id: c.id }) };
                return Ok(Effect::Change(change));
            }
            _ => {}
        }
        Ok(Effect::Nothing)
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, _cx: &Context, look: &Look) {
        let [status, body] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
        let (line, problem) = self.status_line();
        frame.render_widget(Paragraph::new(line).style(if problem { look.theme.warn } else { look.theme.dim }), status);
        match (&self.recipients, self.templates_view) {
            (_, true) => self.draw_templates(frame, body, look.theme),
            (Some(recipients), false) => self.draw_recipients(frame, body, look.theme, recipients),
            (None, false) => self.draw_campaigns(frame, body, look.theme),
        }
    }

    fn hints(&self) -> (Vec<Hint>, Vec<Hint>) {
        if self.templates_view {
            return (vec![(Action::Open, "edit"), (Action::SwitchTemplates, "sendings")], Vec::new());
        }
        let open = if self.recipients.is_some() { "list" } else { "recipients" };
        (
            vec![(Action::Open, open), (Action::StopCampaign, "stop"), (Action::SwitchTemplates, "templates")],
            vec![(Action::Digest, "digest"), (Action::Down, "move")],
        )
    }

    fn help(&self) -> &'static [(Scope, &'static str)] {
        &[(Scope::Messages, "messages"), (Scope::List, "lists"), (Scope::Everywhere, "everywhere")]
    }
}

impl crate::tui::window::PagedList for MessagesPane {
    fn move_by(&mut self, _app: &App, _actor: &Actor, delta: isize) -> anyhow::Result<()> {
        if self.templates_view {
            self.template_selected = super::window::moved(self.template_selected, self.templates.len() + 1, delta);
        } else if self.recipients.is_none() {
            self.selected = super::window::moved(self.selected, self.campaigns.len(), delta);
        }
        Ok(())
    }

    fn page(&self) -> isize {
        10
    }
}
