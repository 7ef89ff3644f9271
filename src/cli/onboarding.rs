//! `onboarding …` and `payroll …`: a partner's path to being onboarded, and payout approvals.

use super::output::{Format, emit, emit_one};
use super::{Cli, Session, open_session, vocabulary};
use crate::app::onboarding::{ESIGN_CONSENT, ESIGN_VERSION};
use crate::app::{AppError, Command, PayrollDecision, PayrollForm};
use crate::domain::Role;
use crate::domain::onboarding::{PayoutMethod, PayrollStatus, W9_MAX_BYTES, account_last4};
use crate::store::OpenMode;
use anyhow::Context;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum OnboardingCommand {
    /// Your checklist and percent complete (admins: anyone's)
    Status {
        /// Whose (admins) [default: yours]
        login: Option<String>,
    },
    /// Every partner's onboarding and what is missing (admins)
    Partners,
    /// The three role packages: what each role is, does, may and may not do, is paid
    Roles,
    /// Print an onboarding document
    Show {
        /// The document's code, as `onboarding status` lists it
        document: String,
    },
    /// Read the consent to sign electronically; --agree records it
    Consent {
        /// Give the consent (without it, only read it)
        #[arg(long)]
        agree: bool,
    },
    /// Choose your role (the one you are registered with)
    SelectRole {
        /// Your role, as you were registered
        #[arg(value_parser = vocabulary::<Role>())]
        role: Role,
    },
    /// Accept responsibilities by code, or all of them
    Accept {
        /// Responsibility codes, as `onboarding status` lists them, or `all`
        #[arg(required = true, value_name = "ITEM")]
        items: Vec<String>,
    },
    /// Show a document and sign it with your full name as registered
    Sign {
        /// The document's code, as `onboarding status` lists it
        document: String,
        /// Your full name, exactly as registered
        #[arg(long)]
        name: String,
    },
    /// Show a document and acknowledge it
    Ack {
        /// The document's code, as `onboarding status` lists it
        document: String,
    },
    /// Mark a partner's onboarding as on file elsewhere (admins)
    Waive {
        /// The partner
        login: String,
        /// Where the onboarding is on file, for the audit log
        #[arg(long)]
        reason: String,
    },
    /// What your signatures (admins: anyone's) record
    Signatures {
        /// Whose (admins) [default: yours]
        login: Option<String>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum PayrollCommand {
    /// Submit (or change) your payout profile; it waits for an admin
    Submit {
        /// Your rate: a percentage, or USD a month for site coordinators
        #[arg(long)]
        rate: f64,
        /// How you are paid
        #[arg(long, value_parser = vocabulary::<PayoutMethod>())]
        method: PayoutMethod,
        /// acct_… for Stripe Connect; the 4–17 digit account number for ACH (only its last four digits are kept)
        #[arg(long)]
        account: Option<String>,
        /// The 9-digit ABA routing number (ACH)
        #[arg(long)]
        routing: Option<String>,
        /// Your signed W-9: PDF, PNG or JPEG, at most 10 MB
        #[arg(long)]
        w9: PathBuf,
        /// Accept the payment terms (`onboarding show payment_terms`); required
        #[arg(long)]
        accept_terms: bool,
    },
    /// Payroll profiles: every one for admins, your own otherwise
    List {
        /// Only profiles in this state
        #[arg(long, value_parser = vocabulary::<PayrollStatus>())]
        status: Option<PayrollStatus>,
    },
    /// Approve a pending profile (admins; never your own)
    Approve {
        /// The profile's number, as `payroll list` shows it
        id: i64,
    },
    /// Reject a pending profile with a reason (admins; never your own)
    Reject {
        /// The profile's number, as `payroll list` shows it
        id: i64,
        /// What the partner must change, kept with the profile
        #[arg(long)]
        reason: String,
    },
}

fn run(session: &mut Session, command: Command) -> anyhow::Result<()> {
    println!("{}", session.app.execute(&session.actor, command)?);
    Ok(())
}

pub fn onboarding(cli: &Cli, cmd: &OnboardingCommand) -> anyhow::Result<()> {
    let mut session = open_session(cli, OpenMode::Existing)?;
    let out = &mut std::io::stdout().lock();
    match cmd {
        OnboardingCommand::Status { login } => {
            let list = session.app.checklist(&session.actor, login.as_deref())?;
            if cli.format == Format::Json {
                return emit_one(out, cli.format, &list);
            }
            let state = if list.waived { " (on file elsewhere)" } else { "" };
            println!("{} ({}, {}): {}% complete{state}", list.name, list.login, list.role, list.percent);
            let rows: Vec<serde_json::Value> = list
                .items
                .iter()
                .map(|i| serde_json::json!({ "done": if i.done { "✓" } else { " " }, "step": i.kind, "code": i.code, "what": i.title }))
                .collect();
            emit(out, cli.format, &["done", "step", "code", "what"], &rows)?;
        }
        OnboardingCommand::Partners => {
            let rows: Vec<serde_json::Value> = session
                .app
                .partner_checklists(&session.actor)?
                .iter()
                .map(|c| {
                    let missing: Vec<String> = c.missing().iter().map(|i| format!("{} {}", i.kind, i.code)).collect();
                    serde_json::json!({
                        "login": c.login, "name": c.name, "role": c.role, "percent": c.percent,
                        "complete": c.complete, "waived": c.waived, "missing": missing.join(", "),
                    })
                })
                .collect();
            emit(out, cli.format, &["login", "name", "role", "percent", "complete", "missing"], &rows)?;
        }
        OnboardingCommand::Roles => {
            for role in [Role::ProgramHolder, Role::Worksite, Role::SiteCoordinator] {
                let (p, items) = session.app.role_package(role)?;
                println!("{} ({role})\n  {}\n", p.title, p.summary);
                println!("  Responsibilities (accept each):");
                items.iter().for_each(|(code, text)| println!("    {code:<22} {text}"));
                println!(
                    "  May:      {}\n  May not:  {}\n  Requires: {}\n",
                    p.may.join("; "),
                    p.may_not.join("; "),
                    p.requirements.join("; ")
                );
            }
        }
        OnboardingCommand::Show { document } => {
            let doc = session.app.document(document)?;
            println!("{}\n\nversion {} · sha256 {}", doc.body.trim_end(), doc.version, doc.sha256);
        }
        OnboardingCommand::Consent { agree } => {
            println!("{}", ESIGN_CONSENT.trim_end());
            if *agree {
                run(&mut session, Command::ConsentToEsign { version: ESIGN_VERSION.into() })?;
            } else {
                println!("\nTo consent: muster onboarding consent --agree");
            }
        }
        OnboardingCommand::SelectRole { role } => run(&mut session, Command::SelectRole { role: *role })?,
        OnboardingCommand::Accept { items } => {
            run(&mut session, Command::AcceptResponsibilities { codes: items.clone() })?
        }
        OnboardingCommand::Sign { document, name } => {
            let doc = session.app.document(document)?;
            println!("{}\n", doc.body.trim_end());
            let command = Command::SignDocument {
                code: doc.code,
                typed_name: name.clone(),
                shown_sha256: doc.sha256,
                mark: None,
            };
            run(&mut session, command)?;
        }
        OnboardingCommand::Ack { document } => {
            let doc = session.app.document(document)?;
            println!("{}\n", doc.body.trim_end());
            run(&mut session, Command::AcknowledgeDocument { code: doc.code, shown_sha256: doc.sha256 })?;
        }
        OnboardingCommand::Waive { login, reason } => {
            run(&mut session, Command::WaiveOnboarding { login: login.clone(), reason: reason.clone() })?;
        }
        OnboardingCommand::Signatures { login } => {
            let login = login.clone().unwrap_or_else(|| session.actor.user().login.clone());
            let records = session.app.signatures(&session.actor, &login)?;
            let columns = [
                "document_code",
                "document_version",
                "document_sha256",
                "typed_name",
                "signed_at",
                "host",
                "client",
                "os_account",
            ];
            emit(out, cli.format, &columns, &records)?;
        }
    }
    Ok(())
}

pub fn payroll(cli: &Cli, cmd: &PayrollCommand) -> anyhow::Result<()> {
    let mut session = open_session(cli, OpenMode::Existing)?;
    match cmd {
        PayrollCommand::Submit { rate, method, account, routing, w9, accept_terms } => {
            // `--account -` reads it from stdin, so it never shows in the process list.
            let account = match account.as_deref() {
                Some("-") => Some(read_secret_line()?),
                other => other.map(str::to_string),
            };
            // The full account number stops here: only its last four digits go any further.
            let (stripe_account, last4) = match method {
                PayoutMethod::StripeConnect => (account.clone(), None),
                PayoutMethod::Ach => {
                    let last4 = account.as_deref().map(account_last4).transpose().map_err(AppError::Invalid)?;
                    (None, last4)
                }
            };
            let bytes = read_w9(w9)?;
            let form = PayrollForm {
                rate: *rate,
                method: *method,
                stripe_account,
                routing_number: routing.clone(),
                account_last4: last4,
                w9: bytes,
                accept_terms: *accept_terms,
            };
            run(&mut session, Command::SubmitPayroll(form))?;
        }
        PayrollCommand::List { status } => {
            let rows = session.app.payroll(&session.actor, status.map(|s| s.as_str()))?;
            let columns = [
                "id",
                "login",
                "role",
                "rate",
                "method",
                "account_last4",
                "status",
                "submitted_at",
                "decided_by",
                "reason",
            ];
            emit(&mut std::io::stdout().lock(), cli.format, &columns, &rows)?;
        }
        PayrollCommand::Approve { id } => {
            run(&mut session, Command::DecidePayroll { id: *id, decision: PayrollDecision::Approve })?
        }
        PayrollCommand::Reject { id, reason } => {
            run(
                &mut session,
                Command::DecidePayroll { id: *id, decision: PayrollDecision::Reject { reason: reason.clone() } },
            )?;
        }
    }
    Ok(())
}

/// One line from stdin, without its line break.
fn read_secret_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("cannot read the account from stdin")?;
    Ok(line.trim().to_string())
}

/// Reads a W-9 file, never more than the limit and one byte (`/dev/zero` is not read forever).
fn read_w9(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let file = crate::app::identity::open_as_caller(path)
        .map_err(|e| AppError::Invalid(format!("cannot read the W-9 file {}: {e}", path.display())))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(AppError::Invalid(format!("{} is a directory, not a W-9 file", path.display())).into());
    }
    let mut bytes = Vec::new();
    file.take(W9_MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| AppError::Invalid(format!("cannot read the W-9 file {}: {e}", path.display())))?;
    Ok(bytes)
}
