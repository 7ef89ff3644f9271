//! The Payroll tab: the payroll profiles waiting for approval (admins) or the partner's own
//! profile, and the profile form a partner fills to submit or change it.

use super::inbox::age;
use super::keymap::{Action, Scope};
use super::overlay::{NoteFor, Overlay, ReadFor};
use super::pane::{Change, Context, Effect, Hint, Look, Pane};
use super::theme::Theme;
use crate::app::{Actor, App, Command};
use crate::domain::Role;
use crate::store::partners::PayrollView;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Row, Table, Wrap};

/// The Payroll tab: the pending queue (admins) or the partner's own profile, read-only.
#[derive(Default)]
pub struct PayrollPane {
    pub profiles: Vec<PayrollView>,
    pub selected: usize,
    pub admin: bool,
}

impl PayrollPane {
    pub fn read(&mut self, app: &App, actor: &Actor) -> anyhow::Result<()> {
        self.admin = actor.user().role == Role::Admin;
        self.profiles = app.payroll(actor, self.admin.then_some("pending"))?;
        self.selected = self.selected.min(self.profiles.len().saturating_sub(1));
        Ok(())
    }

    pub fn move_by(&mut self, delta: isize) {
        self.selected = super::window::moved(self.selected, self.profiles.len(), delta);
    }

    pub fn selected(&self) -> Option<&PayrollView> {
        self.profiles.get(self.selected)
    }

    fn draw_profiles(&self, frame: &mut Frame, area: Rect, theme: &Theme, now: DateTime<Utc>) {
        let title = if self.admin { " payroll profiles waiting for approval " } else { " your payroll profile " };
        let place = match self.profiles.len() {
            0 => String::new(),
            n if self.admin => format!("{} of {n} ", self.selected + 1),
            _ => String::new(),
        };
        let block = Block::new()
            .borders(Borders::TOP)
            .title(Line::from(vec![Span::styled(title, theme.accent), Span::raw(place)]));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.profiles.is_empty() {
            let text = if self.admin { "Nothing waiting." } else { "No profile yet: ⏎ opens the form." };
            frame.render_widget(Paragraph::new(text).style(theme.dim), inner);
            return;
        }
        let widths = vec![
            Constraint::Length(10),
            Constraint::Length(16),
            Constraint::Length(6),
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(4),
        ];
        // Narrow screens lose the age, the W-9 and the role before who it is and how they are paid.
        let kept = super::columns::fitting(inner.width, &widths, &[6, 4, 1], 10);
        let rows: Vec<Row> = self
            .profiles
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let cells = vec![
                    Span::raw(p.login.clone()),
                    Span::raw(p.role.clone()),
                    Span::raw(format!("{}", p.rate)),
                    Span::raw(masked_method(p)),
                    Span::styled(format!("W-9 {}", p.w9_media_type.rsplit('/').next().unwrap_or("")), theme.ok),
                    Span::raw(p.status.clone()),
                    Span::styled(age(&p.submitted_at, now), theme.dim),
                ];
                Row::new(super::columns::keep(cells, &kept)).style(if i == self.selected && self.admin {
                    theme.selected
                } else {
                    Style::new()
                })
            })
            .collect();
        let header =
            Row::new(super::columns::keep(vec!["login", "role", "rate", "payout", "W-9", "status", "age"], &kept))
                .style(theme.dim);
        let widths = super::columns::keep(widths, &kept);
        let [table, note] = Layout::vertical([Constraint::Fill(1), Constraint::Length(2)]).areas(inner);
        frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), table);
        let hint = if self.admin {
            "y approve · n reject with a reason · never your own"
        } else {
            "⏎ changes your profile (it goes back for approval)"
        };
        frame.render_widget(Paragraph::new(hint).style(theme.dim).wrap(Wrap { trim: true }), note);
    }
}

impl Pane for PayrollPane {
    fn title(&self) -> &'static str {
        "Payroll"
    }

    fn load(&mut self, cx: &Context) -> anyhow::Result<()> {
        self.read(cx.app, cx.actor)
    }

    fn act(&mut self, action: Action, cx: &Context) -> anyhow::Result<Effect> {
        if crate::tui::window::PagedList::page_through(self, action, cx.app, cx.actor)? {
            return Ok(Effect::Nothing);
        }
        match action {
            Action::Open if !self.admin => return Ok(Effect::Open(payroll_form(cx.app, cx.actor)?)),
            Action::Open => {
                if let Some(p) = self.selected() {
                    let doc = profile_document(p);
                    return Ok(Effect::Open(Overlay::Document { doc, scroll: 0, purpose: ReadFor::Read }));
                }
            }
            Action::Verify if self.admin => {
                if let Some(p) = self.selected() {
                    let command = Command::DecidePayroll { id: p.id, decision: crate::app::PayrollDecision::Approve };
                    let question =
                        format!("Approve {}'s payroll profile ({}, rate {})?", p.login, masked_method(p), p.rate);
                    return Ok(Effect::Change(Change { question: Some(question), ..Change::new(command) }));
                }
            }
            Action::Reject if self.admin => {
                if let Some(p) = self.selected() {
                    let title = format!("reject {}'s payroll profile · reason", p.login);
                    return Ok(Effect::Open(Overlay::note(title, NoteFor::RejectPayroll(p.id))));
                }
            }
            _ => {}
        }
        Ok(Effect::Nothing)
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, _cx: &Context, look: &Look) {
        self.draw_profiles(frame, area, look.theme, look.now);
    }

    fn hints(&self) -> (Vec<Hint>, Vec<Hint>) {
        match self.admin {
            true => {
                (vec![(Action::Verify, "approve"), (Action::Reject, "reject"), (Action::Open, "profile")], Vec::new())
            }
            false => (vec![(Action::Open, "edit profile")], Vec::new()),
        }
    }

    fn help(&self) -> &'static [(Scope, &'static str)] {
        &[(Scope::List, "lists"), (Scope::Everywhere, "everywhere")]
    }

    fn own_keys(&self) -> Vec<(Action, &'static str)> {
        match self.admin {
            true => vec![
                (Action::Verify, "approve (asks first)"),
                (Action::Reject, "reject, with a reason"),
                (Action::Open, "the profile in full"),
            ],
            false => vec![(Action::Open, "change your profile")],
        }
    }
}

impl crate::tui::window::PagedList for PayrollPane {
    fn move_by(&mut self, _app: &App, _actor: &Actor, delta: isize) -> anyhow::Result<()> {
        PayrollPane::move_by(self, delta);
        Ok(())
    }
    fn page(&self) -> isize {
        10
    }
}

/// A payroll profile in full, to read before deciding: never a whole account number.
fn profile_document(p: &PayrollView) -> crate::store::partners::Document {
    let mut body = format!(
        "# {} ({})\n\n- role: {}\n- rate: {}\n- payout: {}\n- W-9: {} (sha256 {})\n- status: {}\n- submitted: {}\n",
        p.name,
        p.login,
        p.role,
        p.rate,
        masked_method(p),
        p.w9_media_type,
        p.w9_sha256,
        p.status,
        p.submitted_at
    );
    if let (Some(by), Some(at)) = (&p.decided_by, &p.decided_at) {
        body.push_str(&format!("- decided by {by} at {at}\n"));
    }
    if let Some(reason) = &p.reason {
        body.push_str(&format!("- reason: {reason}\n"));
    }
    crate::store::partners::Document {
        code: format!("payroll-{}", p.id),
        title: format!("{}'s payroll profile", p.login),
        action: "read".into(),
        version: p.status.clone(),
        sha256: p.w9_sha256.clone(),
        body,
    }
}

/// The payroll form for `actor`, filled with the profile on file when there is one.
pub fn payroll_form(app: &App, actor: &Actor) -> anyhow::Result<Overlay> {
    let (model, min, max, default) = app.rate_range(actor)?;
    let unit = if model == "percent" { "%" } else { "USD/month" };
    let range = format!("{min}–{max} {unit}");
    let form = match app.payroll(actor, None)?.last() {
        Some(current) => PayrollFormState::from_profile(range, current),
        None => PayrollFormState::new(range, default),
    };
    Ok(Overlay::PayrollForm(Box::new(form)))
}

/// The command the form asks for, or what is wrong with what was typed.
pub fn form_command(form: &PayrollFormState) -> Result<Command, String> {
    use crate::domain::onboarding::{PayoutMethod, account_last4};
    let rate: f64 =
        form.text(FORM_RATE).parse().map_err(|_| format!("rate '{}' is not a number", form.text(FORM_RATE)))?;
    let account = Some(form.text(FORM_ACCOUNT)).filter(|a| !a.is_empty());
    let (stripe_account, last4) = match form.method {
        PayoutMethod::StripeConnect => (account, None),
        PayoutMethod::Ach => (None, account.as_deref().map(account_last4).transpose()?),
    };
    let path = form.text(FORM_W9);
    let w9 = std::fs::read(&path).map_err(|e| format!("cannot read the W-9 file '{path}': {e}"))?;
    Ok(Command::SubmitPayroll(crate::app::PayrollForm {
        rate,
        method: form.method,
        stripe_account,
        routing_number: Some(form.text(FORM_ROUTING)).filter(|r| !r.is_empty()),
        account_last4: last4,
        w9,
        accept_terms: form.accept,
    }))
}

/// `ACH ••6789` or `Stripe acct_1Nv…`: enough to recognise, never a whole number.
pub fn masked_method(p: &PayrollView) -> String {
    match (p.method.as_str(), &p.account_last4, &p.stripe_account) {
        ("ach", Some(last4), _) => format!("ACH ••{last4}"),
        (_, _, Some(acct)) => format!("Stripe {}…", acct.chars().take(9).collect::<String>()),
        (method, _, _) => method.to_string(),
    }
}

/// The payroll profile form: a field per line, the role's rate range beside the rate.
pub struct PayrollFormState {
    pub fields: [ratatui_textarea::TextArea<'static>; 4],
    pub method: crate::domain::onboarding::PayoutMethod,
    pub accept: bool,
    pub focus: usize,
    pub range: String,
    pub error: Option<String>,
}

/// Labels of the form's lines, in order; 0–3 are text fields, 4 the method, 5 the terms.
const FORM_LINES: [&str; 6] = ["rate", "account", "routing (ACH)", "W-9 file", "method", "payment terms"];
pub const FORM_RATE: usize = 0;
pub const FORM_ACCOUNT: usize = 1;
pub const FORM_ROUTING: usize = 2;
pub const FORM_W9: usize = 3;
pub const FORM_METHOD: usize = 4;
pub const FORM_TERMS: usize = 5;

impl PayrollFormState {
    pub fn new(range: String, default_rate: f64) -> PayrollFormState {
        let mut fields: [ratatui_textarea::TextArea<'static>; 4] = Default::default();
        fields[FORM_RATE].insert_str(default_rate.to_string());
        fields[FORM_ACCOUNT].set_placeholder_text("ACH: account number · Stripe: acct_…");
        fields[FORM_ROUTING].set_placeholder_text("9 digits");
        fields[FORM_W9].set_placeholder_text("path to your signed W-9 (PDF, PNG or JPEG)");
        PayrollFormState {
            fields,
            method: crate::domain::onboarding::PayoutMethod::Ach,
            accept: false,
            focus: FORM_RATE,
            range,
            error: None,
        }
    }

    /// The form filled with the profile on file, to change it: its rate and payout method. Account
    /// numbers are never shown back (only the last four digits, as a hint), so they are typed again.
    pub fn from_profile(range: String, current: &PayrollView) -> PayrollFormState {
        let mut form = PayrollFormState::new(range, current.rate);
        if let Ok(method) = current.method.parse() {
            form.method = method;
        }
        if let Some(last4) = &current.account_last4 {
            form.fields[FORM_ACCOUNT].set_placeholder_text(format!("on file: ••{last4} · type the full number again"));
        }
        form.fields[FORM_W9].set_placeholder_text(format!(
            "path to your signed W-9 (on file: {}; attach it again)",
            current.w9_media_type.rsplit('/').next().unwrap_or("a file")
        ));
        form
    }

    pub fn text(&self, field: usize) -> String {
        self.fields[field].lines().join("").trim().to_string()
    }

    pub fn draw(&self, frame: &mut Frame, theme: &Theme) {
        let area = frame.area();
        let width = area.width.saturating_sub(4).min(76);
        let outer = Rect {
            x: area.x + (area.width - width) / 2,
            y: area.y + 2,
            width,
            height: 12.min(area.height.saturating_sub(2)),
        };
        frame.render_widget(ratatui::widgets::Clear, outer);
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .title(Span::styled(" payroll profile ", theme.accent))
            .title_bottom(Line::styled(" ↑/↓ field · Space toggles · ⏎ submit · Esc cancel ", theme.marked));
        let inner = block.inner(outer);
        frame.render_widget(block, outer);
        let rows = Layout::vertical([Constraint::Length(1); 8]).split(inner);
        for (i, label) in FORM_LINES.iter().enumerate() {
            let [name, value] = Layout::horizontal([Constraint::Length(15), Constraint::Fill(1)]).areas(rows[i]);
            let style = if i == self.focus { theme.selected } else { theme.dim };
            frame.render_widget(Paragraph::new(Span::styled(format!("{label:>14}"), style)), name);
            match i {
                FORM_METHOD => {
                    let text = match self.method {
                        crate::domain::onboarding::PayoutMethod::Ach => "(•) ACH   ( ) Stripe Connect",
                        crate::domain::onboarding::PayoutMethod::StripeConnect => "( ) ACH   (•) Stripe Connect",
                    };
                    frame.render_widget(Paragraph::new(format!(" {text}")), value);
                }
                FORM_TERMS => {
                    let mark = if self.accept { "[x]" } else { "[ ]" };
                    frame.render_widget(Paragraph::new(format!(" {mark} I accept the payment terms")), value);
                }
                field => {
                    let [edit, hint] = Layout::horizontal([
                        Constraint::Fill(1),
                        Constraint::Length(if field == FORM_RATE { 18 } else { 0 }),
                    ])
                    .areas(value);
                    frame.render_widget(&self.fields[field], edit);
                    if field == FORM_RATE {
                        frame.render_widget(Paragraph::new(Span::styled(format!(" {}", self.range), theme.dim)), hint);
                    }
                }
            }
        }
        if let Some(error) = &self.error {
            frame.render_widget(
                Paragraph::new(Span::styled(error.clone(), theme.error)).wrap(Wrap { trim: true }),
                Rect { height: 2, ..rows[6] },
            );
        }
    }
}
