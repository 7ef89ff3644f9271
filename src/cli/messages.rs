//! `message`: templates, outreach to one student, campaigns, and sending what is due.

use super::output::{emit, emit_one};
use super::{Cli, open_session, vocabulary};
use crate::app::{AppError, Command};
use crate::domain::alerts::Severity;
use crate::domain::message::{Audience, PLACEHOLDERS};
use crate::store::OpenMode;
use anyhow::Context;
use std::io::Write;

#[derive(Debug, clap::Subcommand)]
pub enum MessageCommand {
    /// The templates you may use (with no subcommand, their list); save, show, preview, delete
    Templates {
        #[command(subcommand)]
        action: Option<TemplateCommand>,
    },
    /// Queue one message to one student, from a template or typed here; it goes out at once
    /// through the daemon or `muster message deliver`
    Send {
        /// The source system's student ID
        student: String,
        /// A template by name (its subject and body; --subject/--body replace them)
        #[arg(long)]
        template: Option<String>,
        /// The subject, with placeholders such as {first_name}
        #[arg(long)]
        subject: Option<String>,
        /// The text, with placeholders such as {first_name}
        #[arg(long)]
        body: Option<String>,
        /// The alert this message is about; its timeline records the message
        #[arg(long)]
        alert: Option<i64>,
        /// Edit the subject and body in $VISUAL or $EDITOR before it is queued
        #[arg(long)]
        edit: bool,
    },
    /// Campaigns: one template to many students, now or at a set time
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// Send the messages due now through the [mail] server, then return (admins)
    Deliver,
}

#[derive(Debug, clap::Subcommand)]
pub enum TemplateCommand {
    /// The templates you may use
    List,
    /// Keep a template (placeholders: muster message templates placeholders)
    Save {
        /// The template's name; saving under a name you have replaces that template
        name: String,
        /// The subject, with placeholders such as {first_name}
        #[arg(long)]
        subject: String,
        /// The text, with placeholders such as {first_name}
        #[arg(long)]
        body: String,
        /// The organisation's template, for everyone (admins)
        #[arg(long)]
        org: bool,
    },
    /// One template in full
    Show {
        /// The template's name
        name: String,
    },
    /// A template as one student would receive it
    Preview {
        /// The template's name
        name: String,
        /// The source system's student ID
        student: String,
    },
    /// Delete one of your templates (--org: the organisation's, admins)
    Delete {
        /// The template's name
        name: String,
        /// The organisation's template of that name, not yours (admins)
        #[arg(long)]
        org: bool,
        /// Do not ask first
        #[arg(long)]
        yes: bool,
    },
    /// The placeholders a template may use
    Placeholders,
}

#[derive(Debug, clap::Subcommand)]
pub enum CampaignCommand {
    /// Queue a template to a set of students (admins, program holders, site coordinators)
    Create {
        /// The template to send, by name
        #[arg(long)]
        template: String,
        /// Every student you may see
        #[arg(long, group = "audience")]
        all: bool,
        /// Students with an active enrollment in this program
        #[arg(long, group = "audience", value_name = "PROGRAM_ID")]
        program: Option<String>,
        /// Students with an open alert of at least this severity
        #[arg(long, group = "audience", value_parser = vocabulary::<Severity>())]
        open_alerts: Option<Severity>,
        /// These students, by ID, comma-separated
        #[arg(long, group = "audience", value_delimiter = ',', value_name = "ID,ID")]
        students: Vec<String>,
        /// When to send, in the organisation's time: "YYYY-MM-DD HH:MM" [default: now]
        #[arg(long)]
        at: Option<String>,
    },
    /// The sendings you may see, newest first (admins: every one)
    List {
        /// At most this many
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// One sending and where each recipient's message stands
    Show {
        /// The sending's number, as `message campaign list` shows it
        id: i64,
    },
    /// Stop a sending: every message not yet sent is cancelled
    Stop {
        /// The sending's number, as `message campaign list` shows it
        id: i64,
        /// Do not ask first
        #[arg(long)]
        yes: bool,
    },
}

pub fn message(cli: &Cli, cmd: &MessageCommand) -> anyhow::Result<()> {
    if let MessageCommand::Deliver = cmd {
        return deliver(cli);
    }
    let mut session = open_session(cli, OpenMode::Existing)?;
    let (app, actor) = (&mut session.app, &session.actor);
    let out = &mut std::io::stdout().lock();
    match cmd {
        MessageCommand::Templates { action } => match action.as_ref().unwrap_or(&TemplateCommand::List) {
            TemplateCommand::List => {
                emit(out, cli.format, &["name", "owner", "subject", "updated_at"], &app.templates(actor)?)?;
            }
            TemplateCommand::Placeholders => {
                let rows: Vec<_> = PLACEHOLDERS
                    .iter()
                    .map(|(name, what)| serde_json::json!({ "placeholder": format!("{{{name}}}"), "stands_for": what }))
                    .collect();
                emit(out, cli.format, &["placeholder", "stands_for"], &rows)?;
            }
            TemplateCommand::Save { name, subject, body, org } => {
                let command = Command::SaveTemplate {
                    name: name.clone(),
                    subject: subject.clone(),
                    body: body.clone(),
                    organisation: *org,
                };
                writeln!(out, "{}", app.execute(actor, command)?)?;
            }
            TemplateCommand::Show { name } => {
                let template = app
                    .templates(actor)?
                    .into_iter()
                    .find(|t| &t.name == name)
                    .ok_or_else(|| AppError::NotFound(format!("template '{name}'")))?;
                emit_one(out, cli.format, &template)?;
            }
            TemplateCommand::Preview { name, student } => {
                let (subject, body) = app.preview(actor, name, student)?;
                let shown = |t: &str| crate::domain::text::escape_controls(t).into_owned().replace("\\n", "\n");
                match cli.format {
                    super::Format::Json => {
                        emit_one(out, cli.format, &serde_json::json!({ "subject": subject, "body": body }))?;
                    }
                    _ => writeln!(out, "Subject: {}\n\n{}", shown(&subject), shown(&body))?,
                }
            }
            TemplateCommand::Delete { name, org, yes } => {
                // Asked only about a template there is; the rules word a missing one.
                let owner = if *org { "organisation".to_string() } else { actor.user().login.clone() };
                let kept = app.templates(actor)?.into_iter().find(|t| &t.name == name && t.owner == owner);
                if let Some(kept) = kept.filter(|_| !*yes) {
                    super::confirm(&format!(
                        "Delete the template {} (\"{}\")? It cannot be brought back; messages already queued keep their text.",
                        kept.name, kept.subject
                    ))?;
                }
                let command = Command::DeleteTemplate { name: name.clone(), organisation: *org };
                writeln!(out, "{}", app.execute(actor, command)?)?;
            }
        },
        MessageCommand::Send { student, template, subject, body, alert, edit } => {
            let (mut subject, mut body) = (subject.clone(), body.clone());
            if *edit {
                let from_template = match template {
                    Some(name) => app.templates(actor)?.into_iter().find(|t| &t.name == name),
                    None => None,
                };
                let start_subject = subject.clone().or(from_template.as_ref().map(|t| t.subject.clone()));
                let start_body = body.clone().or(from_template.map(|t| t.body));
                let (edited_subject, edited_body) =
                    edit_in_editor(&start_subject.unwrap_or_default(), &start_body.unwrap_or_default())?;
                (subject, body) = (Some(edited_subject), Some(edited_body));
            }
            let command = Command::SendMessage {
                student_id: student.clone(),
                template: template.clone(),
                subject,
                body,
                alert: *alert,
            };
            writeln!(out, "{}", app.execute(actor, command)?)?;
            say_when_it_goes(app)?;
        }
        MessageCommand::Campaign(cmd) => campaign(cli, app, actor, cmd, out)?,
        MessageCommand::Deliver => unreachable!("handled above"),
    }
    Ok(())
}

fn campaign(
    cli: &Cli,
    app: &mut crate::app::App,
    actor: &crate::app::Actor,
    cmd: &CampaignCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match cmd {
        CampaignCommand::Create { template, all, program, open_alerts, students, at } => {
            let audience = match (all, program, open_alerts, students.is_empty()) {
                (true, ..) => Audience::Mine,
                (_, Some(program_id), ..) => Audience::Program { program_id: program_id.clone() },
                (_, _, Some(at_least), _) => Audience::OpenAlerts { at_least: *at_least },
                (_, _, _, false) => Audience::Students { student_ids: students.clone() },
                _ => anyhow::bail!(AppError::Invalid(
                    "say who it goes to: --all, --program ID, --open-alerts SEVERITY or --students ID,ID".into()
                )),
            };
            let send_at = at
                .as_deref()
                .map(|text| {
                    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
                        .map(|local| app.zone().at_local(local))
                        .map_err(|_| {
                            AppError::Invalid(format!("--at \"{text}\" is not a time such as \"2026-12-01 09:00\""))
                        })
                })
                .transpose()?;
            let command = Command::CreateCampaign { template: template.clone(), audience, send_at };
            writeln!(out, "{}", app.execute(actor, command)?)?;
            say_when_it_goes(app)?;
        }
        CampaignCommand::List { limit } => {
            let columns = [
                "id",
                "kind",
                "state",
                "subject",
                "audience",
                "created_by",
                "send_at",
                "recipients",
                "sent",
                "failed",
                "skipped",
                "waiting",
            ];
            emit(out, cli.format, &columns, &app.campaigns(actor, *limit)?)?;
        }
        CampaignCommand::Show { id } => {
            let (view, recipients) = app.campaign(actor, *id)?;
            if cli.format == super::Format::Json {
                emit_one(out, cli.format, &serde_json::json!({ "campaign": view, "recipients": recipients }))?;
            } else {
                emit_one(out, cli.format, &view)?;
                writeln!(out)?;
                let columns = ["id", "to", "name", "address", "status", "attempts", "reason", "updated_at"];
                emit(out, cli.format, &columns, &recipients)?;
            }
        }
        CampaignCommand::Stop { id, yes } => {
            let (view, _) = app.campaign(actor, *id)?;
            if !*yes {
                super::confirm(&format!(
                    "Stop campaign {id} ({})? {} messages not yet sent will be cancelled; {} already sent stay sent.",
                    view.subject, view.waiting, view.sent
                ))?;
            }
            writeln!(out, "{}", app.execute(actor, Command::StopCampaign { id: *id })?)?;
        }
    }
    Ok(())
}

/// Tells the person when what they queued will go, or why it will not yet.
fn say_when_it_goes(app: &crate::app::App) -> anyhow::Result<()> {
    if app.is_replica() {
        eprintln!("muster: this is a site laptop's replica; the hub sends it after the next sync");
    } else if crate::config::load()?.mail.is_none() {
        eprintln!(
            "muster: no [mail] settings in {}; messages wait as queued until an admin adds them (see assets/config.toml)",
            crate::config::path().map_or_else(|| "the settings file".into(), |p| p.display().to_string())
        );
    }
    Ok(())
}

/// Opens the subject and body in the person's editor; an emptied file sends nothing.
fn edit_in_editor(subject: &str, body: &str) -> anyhow::Result<(String, String)> {
    let editor = std::env::var("VISUAL").or_else(|_| std::env::var("EDITOR")).unwrap_or_else(|_| "vi".into());
    let path = std::env::temp_dir().join(format!("muster-message-{}.txt", std::process::id()));
    let _ = std::fs::remove_file(&path);
    crate::store::create_private(&path)?.write_all(format!("Subject: {subject}\n\n{body}").as_bytes())?;
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&path)
        .status()
        .with_context(|| format!("cannot run the editor {editor}"));
    let text = std::fs::read_to_string(&path);
    let _ = std::fs::remove_file(&path);
    if !status?.success() {
        anyhow::bail!(AppError::Invalid(format!("the editor {editor} failed; nothing was queued")));
    }
    let text = text?;
    let (first, rest) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    let Some(subject) = first.strip_prefix("Subject:") else {
        anyhow::bail!(AppError::Invalid("the first line must stay \"Subject: …\"; nothing was queued".into()));
    };
    let body = rest.trim_start_matches('\n').trim_end().to_string();
    if body.is_empty() {
        anyhow::bail!(AppError::Invalid("the body is empty; nothing was queued".into()));
    }
    Ok((subject.trim().to_string(), body))
}

/// `message deliver`: sends what is due now, with a progress bar, then says what is left.
fn deliver(cli: &Cli) -> anyhow::Result<()> {
    let config = crate::config::load()?;
    let mut session = open_session(cli, OpenMode::Existing)?;
    if session.app.is_replica() {
        anyhow::bail!(AppError::Invalid("this is a site laptop's replica; its messages are sent by the hub".into()));
    }
    if session.actor.user().role != crate::domain::Role::Admin {
        anyhow::bail!(AppError::Denied("only admins may send the queued messages".into()));
    }
    let Some(mail) = &config.mail else {
        anyhow::bail!(AppError::Invalid(format!(
            "no [mail] settings in {}; messages stay queued (see assets/config.toml)",
            crate::config::path().map_or_else(|| "the settings file".into(), |p| p.display().to_string())
        )));
    };
    let mut mailer = crate::mail::Mailer::new(mail)?;
    let Some(_lock) = crate::mail::SenderLock::try_take(session.app.path())? else {
        anyhow::bail!(AppError::Invalid(
            "another muster (the daemon or an admin's console) is sending; it sends these".into()
        ));
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let bar = super::progress::Bar::new();
    let report = crate::mail::deliver_due(
        &mut session.app,
        &session.actor,
        &mut mailer,
        true,
        &|| stop.load(std::sync::atomic::Ordering::Relaxed),
        &bar,
    )?;
    println!("{report}");
    let (waiting, next) = session.app.messages_waiting()?;
    if waiting > 0 {
        println!("{waiting} waiting; the next may go at {}", next.unwrap_or_default());
    }
    Ok(())
}
