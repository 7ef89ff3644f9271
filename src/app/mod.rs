//! The one door for changes. Every change a person or a job makes is a [`Command`]; [`App::execute`]
//! authorises it, writes the rows and one chained audit entry in a single transaction, and says
//! what changed. Reads go through `App` too, so the same visibility and onboarding rules apply.

pub mod alerts;
pub mod attendance;
pub mod clock;
mod demo;
mod demo_days;
pub mod identity;
pub mod import;
mod job_memory;
pub mod messages;
pub mod onboarding;
pub mod payroll;
mod reads;
pub mod replica;
mod reporting;
mod reports;
pub mod schedules;
pub use reads::{HISTORY_DAYS, StudentContext, StudentHistory, WeekGrid, WeekRow};
pub use reporting::{ReportName, ReportRequest, Sheet, cells};
pub use reports::{AtRiskRow, OnboardingRow, PayoutRow, WeekAttendance, WeekEngagement, WeekHealth};
pub use reports::{month_days, week_name};
pub mod triage;
pub mod zone;

pub use alerts::AlertChanges;
pub use attendance::{AttendanceDay, AttendanceEntry, Decision};
pub use clock::{Clock, FixedClock, SystemClock};
pub use import::{ImportBatch, ImportKind, Problem};
pub use onboarding::{Checklist, ChecklistItem};
pub use payroll::{PayrollDecision, PayrollForm};
pub use triage::Triage;

use crate::domain::alerts::{AlertType, Thresholds};
use crate::domain::demo::DemoSpec;
use crate::domain::text::TextKind;
use crate::domain::{Role, User};
use crate::store::Cached;
use crate::store::audit::{self, Change, Origin};
use crate::store::{self, OpenMode, Store, StoreError};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use identity::OsAccount;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Every change muster can make. Commands record what a person did, never derived data, so
/// that the same values can be replayed and authorised again elsewhere.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// The first account to open a database with no users becomes its admin.
    Bootstrap {
        login: String,
        name: String,
    },
    AddUser {
        login: String,
        name: String,
        role: Role,
        email: Option<String>,
    },
    /// Assigns a student to a partner, or takes them off (`assigned: false`); admins.
    SetAssignment {
        student_id: String,
        login: String,
        assigned: bool,
    },
    Import {
        source: String,
        batch: ImportBatch,
    },
    Demo(DemoSpec),
    /// The daily alert job for one day (the day after the last one processed).
    RunAlerts {
        date: NaiveDate,
    },
    Triage {
        ids: Vec<i64>,
        action: Triage,
        note: Option<String>,
    },
    SetThresholds {
        kind: AlertType,
        thresholds: Thresholds,
    },
    /// Snoozed alerts whose time has come are open again.
    EndSnoozes,
    /// One day, or several at once (a week from the grid): all or nothing.
    LogAttendance {
        entries: Vec<AttendanceEntry>,
    },
    DecideAttendance {
        ids: Vec<i64>,
        decision: Decision,
    },
    /// Takes back days one logged that nobody has decided on yet (the console's undo of a log).
    RetractAttendance {
        days: Vec<AttendanceDay>,
    },
    /// Takes back one's own verifications or rejections: the records wait again.
    ReopenAttendance {
        ids: Vec<i64>,
    },
    /// Brings role packages and onboarding documents up to the assets this muster ships.
    SyncOnboarding,
    SelectRole {
        role: Role,
    },
    AcceptResponsibilities {
        codes: Vec<String>,
    },
    ConsentToEsign {
        version: String,
    },
    SignDocument {
        code: String,
        typed_name: String,
        shown_sha256: String,
        /// Drawn with the mouse beside the typed name, if the person drew one.
        mark: Option<crate::domain::onboarding::Mark>,
    },
    AcknowledgeDocument {
        code: String,
        shown_sha256: String,
    },
    WaiveOnboarding {
        login: String,
        reason: String,
    },
    SubmitPayroll(PayrollForm),
    DecidePayroll {
        id: i64,
        decision: PayrollDecision,
    },
    /// The organisation's time zone by tz database name; `None` follows the machine's.
    SetTimeZone {
        name: Option<String>,
    },
    /// On the hub: a site laptop of the acting person starts keeping a replica.
    RegisterDevice {
        name: String,
    },
    /// On the hub (admins): one more person may use a device's replica.
    AllowOnDevice {
        device: String,
        login: String,
    },
    /// On the hub (admins): a device's replica is no longer served or heard.
    RevokeDevice {
        device: String,
    },
    /// On a replica: what the hub said about the changes sent to it.
    SettleOutbox {
        verdicts: Vec<(i64, replica::Verdict)>,
    },
    /// On a replica: the hub's current rows of its scope replace the copy (a pull).
    ReplaceScope {
        /// `None`: nothing changed on the hub since the last pull.
        tables: Option<Vec<(String, Vec<String>, crate::store::replica::Rows)>>,
        mark: i64,
        /// When the pull compared digests: what the rows sent replace (else, the whole scope).
        #[serde(default)]
        changed: Option<crate::store::pull::Changed>,
    },
    /// On the hub: a change from a device was refused; recorded so it is not tried again and the
    /// audit log names it.
    RecordRejection {
        device: String,
        seq: i64,
        author: String,
        reason: String,
    },
    /// On a new replica: records which hub and device it is, whose scope it holds, and which
    /// account on this machine acts as that person.
    BecomeReplica(replica::ReplicaOf),
    /// Keeps a message template: the organisation's (admins) or the actor's own.
    SaveTemplate {
        name: String,
        subject: String,
        body: String,
        organisation: bool,
    },
    DeleteTemplate {
        name: String,
        organisation: bool,
    },
    /// One message to one student, from a template or typed fresh, maybe about one of their alerts.
    SendMessage {
        student_id: String,
        template: Option<String>,
        subject: Option<String>,
        body: Option<String>,
        alert: Option<i64>,
    },
    /// A template to a set of students, now or at `send_at`.
    CreateCampaign {
        template: String,
        audience: crate::domain::message::Audience,
        send_at: Option<DateTime<Utc>>,
    },
    /// Cancels a sending's unsent messages.
    StopCampaign {
        id: i64,
    },
    /// The sender: checks and renders one recipient's message and marks it `sending`.
    ClaimRecipient {
        id: i64,
    },
    /// The sender: what the SMTP server said about one recipient's message.
    RecordDelivery {
        id: i64,
        delivery: messages::Delivery,
    },
    /// The sender, starting: messages a stopped process left `sending` become `unknown`.
    SettleInterruptedMail,
    /// Switches the actor's own daily digest on or off.
    SetDigest {
        on: bool,
    },
    /// After the job processed `day`: the daily digests, once per person and day.
    MakeDigests {
        day: NaiveDate,
    },
    /// Records that the actor exported data: what, which rows, how many, where to.
    RecordExport {
        kind: String,
        filter: String,
        rows: u64,
        to: String,
    },
    /// A report made weekly or monthly by the daemon and mailed as a PDF (admins).
    ScheduleReport(schedules::NewReportSchedule),
    RemoveReportSchedule {
        id: i64,
    },
    /// The daemon starts a scheduled report's run: `sending`, committed before the mail goes.
    StartReportRun {
        schedule: i64,
        due: NaiveDate,
        /// Written to the folder, not mailed (no `[mail]` settings).
        writing: bool,
    },
    FinishReportRun {
        schedule: i64,
        due: NaiveDate,
        result: schedules::RunResult,
    },
    /// A student asked not to be messaged (or asks again to be).
    SetOptOut {
        student_id: String,
        opted_out: bool,
    },
}

impl Command {
    /// The free text a command carries, with what each field is called and what kind it is.
    fn texts(&self) -> Vec<(&'static str, &str, TextKind)> {
        let mut texts = Vec::new();
        match self {
            Command::Bootstrap { name, .. } => texts.push(("the name", name.as_str(), TextKind::Name)),
            Command::AddUser { name, email, .. } => {
                texts.push(("the name", name.as_str(), TextKind::Name));
                texts.extend(email.as_deref().map(|e| ("the e-mail address", e, TextKind::Name)));
            }
            Command::Triage { note, action, .. } => {
                texts.extend(note.as_deref().map(|n| ("the note", n, TextKind::Note)));
                if let Triage::Assign { to } | Triage::Reopen { assigned_to: Some(to) } = action {
                    texts.push(("--to", to.as_str(), TextKind::Id));
                }
            }
            Command::LogAttendance { entries } => {
                for entry in entries {
                    texts.push(("the student id", entry.student_id.as_str(), TextKind::Id));
                    texts.push(("the program id", entry.program_id.as_str(), TextKind::Id));
                    texts.extend(entry.note.as_deref().map(|n| ("the note", n, TextKind::Note)));
                }
            }
            Command::SetAssignment { student_id, login, .. } => {
                texts.push(("the student id", student_id.as_str(), TextKind::Id));
                texts.push(("the login", login.as_str(), TextKind::Id));
            }
            Command::RetractAttendance { days } => {
                for day in days {
                    texts.push(("the student id", day.student_id.as_str(), TextKind::Id));
                    texts.push(("the program id", day.program_id.as_str(), TextKind::Id));
                }
            }
            Command::DecideAttendance { decision: Decision::Reject { reason }, .. }
            | Command::DecidePayroll { decision: PayrollDecision::Reject { reason }, .. }
            | Command::WaiveOnboarding { reason, .. } => texts.push(("the reason", reason.as_str(), TextKind::Note)),
            Command::AcceptResponsibilities { codes } => {
                texts.extend(codes.iter().map(|c| ("the item", c.as_str(), TextKind::Id)));
            }
            Command::SignDocument { code, typed_name, .. } => {
                texts.push(("the document", code.as_str(), TextKind::Id));
                texts.push(("the typed name", typed_name.as_str(), TextKind::Name));
            }
            Command::AcknowledgeDocument { code, .. } => texts.push(("the document", code.as_str(), TextKind::Id)),
            Command::SubmitPayroll(form) => {
                texts.extend(form.routing_number.as_deref().map(|r| ("the routing number", r, TextKind::Id)));
            }
            Command::RegisterDevice { name } => texts.push(("the device name", name.as_str(), TextKind::Name)),
            Command::AllowOnDevice { device, login } => {
                texts.push(("the device", device.as_str(), TextKind::Id));
                texts.push(("the login", login.as_str(), TextKind::Id));
            }
            Command::RevokeDevice { device } => texts.push(("the device", device.as_str(), TextKind::Id)),
            Command::SaveTemplate { name, subject, body, .. } => {
                texts.push(("the template name", name.as_str(), TextKind::Name));
                texts.push(("the subject", subject.as_str(), TextKind::Name));
                texts.push(("the body", body.as_str(), TextKind::Note));
            }
            Command::DeleteTemplate { name, .. } => texts.push(("the template name", name.as_str(), TextKind::Name)),
            Command::SetOptOut { student_id, .. } => texts.push(("the student id", student_id.as_str(), TextKind::Id)),
            Command::SendMessage { student_id, template, subject, body, .. } => {
                texts.push(("the student id", student_id.as_str(), TextKind::Id));
                texts.extend(template.as_deref().map(|t| ("the template name", t, TextKind::Name)));
                texts.extend(subject.as_deref().map(|t| ("the subject", t, TextKind::Name)));
                texts.extend(body.as_deref().map(|t| ("the body", t, TextKind::Note)));
            }
            Command::CreateCampaign { template, audience, .. } => {
                texts.push(("the template name", template.as_str(), TextKind::Name));
                if let crate::domain::message::Audience::Students { student_ids } = audience {
                    texts.extend(student_ids.iter().map(|id| ("the student id", id.as_str(), TextKind::Id)));
                }
                if let crate::domain::message::Audience::Program { program_id } = audience {
                    texts.push(("the program id", program_id.as_str(), TextKind::Id));
                }
            }
            _ => {}
        }
        texts
    }

    /// Refuses control characters and overlong values before anything is read or written.
    fn check_texts(&self) -> Result<()> {
        for (what, value, kind) in self.texts() {
            crate::domain::text::check(kind, value).map_err(|why| AppError::Invalid(format!("{what} {why}")))?;
        }
        Ok(())
    }

    /// Commands made on a replica that the hub applies again: what people do, not what the
    /// program derives (the alert job, snoozes ending) or how the file came to be.
    pub fn travels(&self) -> bool {
        matches!(
            self,
            Command::Triage { .. }
                | Command::LogAttendance { .. }
                | Command::DecideAttendance { .. }
                | Command::RetractAttendance { .. }
                | Command::ReopenAttendance { .. }
                | Command::SelectRole { .. }
                | Command::AcceptResponsibilities { .. }
                | Command::ConsentToEsign { .. }
                | Command::SignDocument { .. }
                | Command::AcknowledgeDocument { .. }
                | Command::SubmitPayroll(_)
                | Command::DecidePayroll { .. }
                | Command::SaveTemplate { .. }
                | Command::DeleteTemplate { .. }
                | Command::SendMessage { .. }
                | Command::CreateCampaign { .. }
                | Command::SetDigest { .. }
                | Command::SetOptOut { .. }
        )
    }

    /// Commands a partner may give before their onboarding is complete.
    fn allowed_during_onboarding(&self) -> bool {
        matches!(
            self,
            Command::Bootstrap { .. }
                | Command::EndSnoozes
                | Command::SyncOnboarding
                | Command::SelectRole { .. }
                | Command::AcceptResponsibilities { .. }
                | Command::ConsentToEsign { .. }
                | Command::SignDocument { .. }
                | Command::AcknowledgeDocument { .. }
                | Command::SubmitPayroll(_)
                | Command::RecordRejection { .. }
        )
    }
}

/// What a command changed, for the person who gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Bootstrapped {
        login: String,
    },
    UserAdded {
        login: String,
    },
    Imported {
        kind: ImportKind,
        rows: usize,
        changed: usize,
    },
    DemoFilled {
        summary: String,
    },
    /// `changes` is `None` when the day had already been processed.
    AlertsRun {
        date: NaiveDate,
        changes: Option<AlertChanges>,
    },
    Triaged {
        verb: &'static str,
        changed: Vec<i64>,
        unchanged: Vec<i64>,
    },
    ThresholdsSet {
        kind: AlertType,
        changed: bool,
    },
    SnoozesEnded {
        ids: Vec<i64>,
    },
    AttendanceLogged {
        logged: usize,
        unchanged: usize,
        alerts: AlertChanges,
    },
    AttendanceDecided {
        verification: crate::domain::Verification,
        ids: Vec<i64>,
        alerts: AlertChanges,
    },
    /// A change whose outcome is said in one sentence.
    Noted(String),
    DeviceRegistered {
        id: String,
    },
    /// The sender's claim on one recipient: the message to send, or `None` when there is
    /// nothing to send (sent or stopped meanwhile, or skipped, with why, just now).
    Claimed(Option<Box<messages::Outgoing>>),
    /// Messages a stopped sender left `sending`, now `unknown`.
    MailSettled {
        unknown: usize,
    },
    /// Whether a scheduled report's run was started (`false`: made already, or being made).
    RunStarted(bool),
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Bootstrapped { login } => {
                write!(f, "{login} is now the admin of this database")
            }
            Outcome::UserAdded { login } => write!(f, "added user {login}"),
            Outcome::Imported { kind, rows: 0, .. } => write!(f, "{kind}: the file has a header and no rows"),
            Outcome::Imported { kind, rows, changed: 0 } => {
                write!(f, "{kind}: {rows} rows read, nothing new (already imported)")
            }
            Outcome::Imported { kind, rows, changed } => {
                write!(f, "{kind}: {rows} rows read, {changed} added or changed")
            }
            Outcome::DemoFilled { summary } => f.write_str(summary),
            Outcome::DeviceRegistered { id } => write!(f, "device {id} registered"),
            Outcome::Claimed(Some(message)) => write!(f, "sending to {}", message.to_address),
            Outcome::Claimed(None) => f.write_str("nothing to send"),
            Outcome::MailSettled { unknown } => write!(f, "{unknown} messages interrupted mid-sending are now unknown"),
            Outcome::RunStarted(true) => f.write_str("report run started"),
            Outcome::RunStarted(false) => f.write_str("report run already made"),
            Outcome::AlertsRun { date, changes: None } => write!(f, "{date}: already processed, nothing to do"),
            Outcome::AlertsRun { date, changes: Some(c) } => write!(f, "{date}: {c}"),
            Outcome::Triaged { verb, changed, unchanged } => {
                if !changed.is_empty() {
                    write!(f, "{verb} alert {}", id_list(changed))?;
                }
                if !unchanged.is_empty() {
                    let sep = if changed.is_empty() { "" } else { "; " };
                    write!(f, "{sep}alert {} already {verb}", id_list(unchanged))?;
                }
                Ok(())
            }
            Outcome::ThresholdsSet { kind, changed: true } => write!(f, "{kind} thresholds changed"),
            Outcome::ThresholdsSet { kind, changed: false } => write!(f, "{kind} thresholds unchanged"),
            Outcome::SnoozesEnded { ids } => write!(f, "{} snoozes ended", ids.len()),
            Outcome::AttendanceLogged { logged: 0, .. } => f.write_str("attendance unchanged (already logged)"),
            Outcome::AttendanceLogged { logged, unchanged, alerts } => {
                match logged {
                    1 => f.write_str("attendance logged")?,
                    n => write!(f, "{n} days logged")?,
                }
                if *unchanged > 0 {
                    write!(f, " ({unchanged} already so)")?;
                }
                if !alerts.is_empty() {
                    write!(f, "; alerts: {alerts}")?;
                }
                Ok(())
            }
            Outcome::Noted(text) => f.write_str(text),
            Outcome::AttendanceDecided { verification, ids, alerts } => {
                let plural = if ids.len() == 1 { "" } else { "s" };
                match verification {
                    crate::domain::Verification::Pending => write!(
                        f,
                        "record{plural} {} wait{} for verification again",
                        id_list(ids),
                        if ids.len() == 1 { "s" } else { "" }
                    )?,
                    decided => write!(f, "{decided} record{plural} {}", id_list(ids))?,
                }
                if !alerts.is_empty() {
                    write!(f, "; alerts: {alerts}")?;
                }
                Ok(())
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("permission denied: {0}")]
    Denied(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{} problem{} found; nothing was written", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    InvalidRows(Vec<Problem>),
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Denied(why) => AppError::Denied(why),
            StoreError::NotFound(what) => AppError::NotFound(what),
            other => AppError::Store(other),
        }
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        // Through the store's own conversion: a writer that waited its limit out, or a file
        // this account may not write, is said as such, never as SQLite's words.
        AppError::Store(StoreError::from(e))
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// The person acting, and the user whose permissions they act with (`--as`).
#[derive(Debug, Clone)]
pub struct Actor {
    pub person: User,
    pub acting_as: Option<User>,
}

impl Actor {
    /// Background work and the program itself; the audit origin names the OS account behind it.
    pub fn system() -> Actor {
        Actor {
            person: User {
                login: alerts::SYSTEM.into(),
                name: "muster".into(),
                role: Role::Admin,
                email: None,
                onboarding_waived: true,
            },
            acting_as: None,
        }
    }

    /// The user whose permissions apply.
    pub fn user(&self) -> &User {
        self.acting_as.as_ref().unwrap_or(&self.person)
    }

    fn is_admin(&self) -> bool {
        self.user().role == Role::Admin
    }
}

/// Reports progress of long work (imports, demo data) to whoever is watching.
pub trait Progress {
    fn start(&self, _what: &str, _total: u64) {}
    fn advance(&self, _by: u64) {}
    /// A short line on how it goes (rows read, rate).
    fn status(&self, _text: &str) {}
    fn finish(&self) {}
}

/// Progress nobody watches.
pub struct Quiet;
impl Progress for Quiet {}

/// An open database with the clock and origin every change is stamped with.
pub struct App {
    store: Store,
    clock: Box<dyn Clock>,
    origin: Origin,
    zone: zone::OrgZone,
    /// The live alert counts last read, for whom and as of which state of the file: the tab bar
    /// and Home both show them, and at a million alerts a count is felt.
    counts: std::cell::RefCell<Option<(CountsKey, LiveCounts)>>,
    /// On a replica, its device id on the hub: the changes made here go to the outbox.
    replica_device: Option<String>,
    /// Commands run as savepoints of one open transaction (a device's push, applied in chunks).
    batching: bool,
    /// While batching: what the alert rules read, shared by the batch's commands.
    rule_basis: std::cell::OnceCell<alerts::RuleBasis>,
    /// A large import read and sorted by `ImportStage`, waiting for its `Import` command.
    staged_import: StagedImport,
    /// While the alert job runs its days: what one day read that the next may reuse.
    job_memory: Option<JobMemorySlot>,
}

type JobMemorySlot = std::cell::RefCell<Option<job_memory::JobMemory>>;

type StagedImport = std::cell::RefCell<Option<(ImportKind, store::staging::Sorted)>>;

/// A state of the database file as one connection sees it: changes by other connections move
/// `data_version`, its own move `total_changes`.
type CountsKey = (String, i64, u64);
/// Live alerts: critical, escalated, warnings.
type LiveCounts = (u64, u64, u64);

/// The result of finding out who is acting.
pub struct SignIn {
    pub actor: Actor,
    /// Set when this account was just made the database's first admin.
    pub bootstrapped: bool,
}

impl App {
    pub fn open(path: &Path, mode: OpenMode, clock: Box<dyn Clock>, origin: Origin) -> Result<App> {
        let store = Store::open(path, mode)?;
        let zone = load_zone(&store)?;
        let replica_device = store::settings::get(store.conn(), "replica_device")?;
        let mut app = App {
            store,
            clock,
            origin,
            zone,
            counts: Default::default(),
            replica_device,
            batching: false,
            rule_basis: std::cell::OnceCell::new(),
            staged_import: StagedImport::default(),
            job_memory: None,
        };
        if !app.store.read_only() && !onboarding::assets_current(app.store.conn())? {
            app.execute(&Actor::system(), Command::SyncOnboarding)?;
        }
        Ok(app)
    }

    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// Today in the organisation's time zone.
    pub fn today(&self) -> NaiveDate {
        self.zone.date_of(self.clock.now())
    }

    pub fn zone(&self) -> &zone::OrgZone {
        &self.zone
    }

    /// Maps the OS account to a muster user, making it the admin of a database without users,
    /// then applies `--as` (admins only).
    pub fn sign_in(&mut self, os: &OsAccount, as_login: Option<&str>) -> Result<SignIn> {
        let mut bootstrapped = false;
        if store::users::count(self.store.conn())? == 0 {
            let founder = Actor {
                person: User {
                    login: os.login.clone(),
                    name: os.full_name.clone(),
                    role: Role::Admin,
                    email: None,
                    onboarding_waived: true,
                },
                acting_as: None,
            };
            self.execute(&founder, Command::Bootstrap { login: os.login.clone(), name: os.full_name.clone() })?;
            bootstrapped = true;
        }
        // On a replica, the account that cloned it acts as the person the hub knows it as.
        let login = replica::local_person(self.store.conn(), &os.login)?.unwrap_or_else(|| os.login.clone());
        let person = store::users::get(self.store.conn(), &login)?.ok_or_else(|| {
            AppError::Denied(format!(
                "your account '{}' is not a muster user of {}; an admin can add you with: \
                 muster user add {} --role ROLE --name \"Full Name\"",
                os.login,
                self.store.path().display(),
                os.login
            ))
        })?;
        let acting_as = match as_login {
            None => None,
            Some(_) if person.role != Role::Admin => {
                return Err(AppError::Denied(format!(
                    "only admins may use --as; {} is a {}",
                    person.login, person.role
                )));
            }
            Some(login) => Some(
                store::users::get(self.store.conn(), login)?
                    .ok_or_else(|| AppError::NotFound(format!("user '{login}' (given with --as)")))?,
            ),
        };
        Ok(SignIn { actor: Actor { person, acting_as }, bootstrapped })
    }

    pub fn execute(&mut self, actor: &Actor, command: Command) -> Result<Outcome> {
        self.execute_with_progress(actor, command, &Quiet)
    }

    pub fn execute_with_progress(
        &mut self,
        actor: &Actor,
        command: Command,
        progress: &dyn Progress,
    ) -> Result<Outcome> {
        // A staged import checked every reference while it read; checking each again row by row
        // as it is copied would cost a quarter of the copy. (The pragma only takes effect
        // outside a transaction.)
        let checked_copy = matches!(&command, Command::Import { batch: ImportBatch::Staged { .. }, .. });
        // A staged import and demo data fill the file with new pages: with nobody else reading,
        // each is written once, not into the WAL and back. Otherwise an import's pages are
        // copied from the WAL into the database after its commit has let go of the write lock,
        // rather than by the commit itself.
        let fills = checked_copy || matches!(&command, Command::Demo(_));
        let written_once = fills && !self.store.read_only() && self.store.write_once()?;
        // A day of the alert job refers only to students, enrollments, programs and alerts it
        // read or wrote in the same transaction. Checked, every alert it opens looked up its
        // three parents and every timeline entry its alert, and the entries were written with
        // a statement journal: 5% of a churn day's instructions and 10,000 writes to a
        // temporary file. (`tests/alert_rules.rs` checks the job leaves every reference whole.)
        let job_day = matches!(&command, Command::RunAlerts { .. });
        let unchecked = checked_copy || job_day;
        if unchecked {
            self.store.conn().pragma_update(None, "foreign_keys", false)?;
        }
        if checked_copy {
            store::checkpoint_after(self.store.conn(), 0)?;
        }
        let outcome = self.execute_checked(actor, command, progress);
        if unchecked {
            self.store.conn().pragma_update(None, "foreign_keys", true)?;
        }
        if checked_copy {
            store::checkpoint_after(self.store.conn(), store::CHECKPOINT_PAGES)?;
        }
        if written_once {
            // The command has its answer either way; a file left on the rollback journal is put
            // back on the WAL by the next connection to open it.
            if let Err(e) = self.store.wal_again() {
                tracing::warn!(
                    "{}: still on the rollback journal after a large write: {e}",
                    self.store.path().display()
                );
            }
        }
        outcome
    }

    fn execute_checked(&mut self, actor: &Actor, command: Command, progress: &dyn Progress) -> Result<Outcome> {
        command.check_texts()?;
        if !command.allowed_during_onboarding() {
            self.require_onboarded(actor)?;
        }
        if self.store.read_only() {
            return Err(StoreError::ReadOnly.into());
        }
        // Others who wait for a long write are told what they wait for.
        let _note = match &command {
            Command::Import { source, batch } => {
                Some(format!("{} is importing {} from {source}", actor_name(actor), batch.kind()))
            }
            Command::Demo(_) => Some(format!("{} is filling it with demo data", actor_name(actor))),
            _ => None,
        }
        .map(|what| {
            store::busy::WriterNote::leave(
                self.store.path(),
                &format!("{what}, since {}", self.clock.now().format("%H:%M:%S UTC")),
            )
        });
        let sets_zone = matches!(command, Command::SetTimeZone { .. });
        // On a replica a change people make is kept to be sent to the hub.
        let outgoing = match &self.replica_device {
            Some(_) if command.travels() => {
                Some(serde_json::to_string(&command).map_err(|e| AppError::Invalid(e.to_string()))?)
            }
            _ => None,
        };
        // A decision made on a replica carries the version of what it decides on, as seen here.
        let seen = match (&outgoing, &command) {
            (Some(_), Command::DecideAttendance { ids, .. }) => {
                Some(replica::seen(self.store.conn(), "attendance", ids)?)
            }
            (Some(_), Command::DecidePayroll { id, .. }) => Some(replica::seen(self.store.conn(), "payroll", &[*id])?),
            (Some(_), Command::ReopenAttendance { ids }) => Some(replica::seen(self.store.conn(), "attendance", ids)?),
            (Some(_), Command::Triage { ids, .. }) => Some(replica::seen(self.store.conn(), "alert", ids)?),
            _ => None,
        };
        let now = self.clock.now();
        let today = self.zone.date_of(now);
        let audit_key = self.store.audit_key().clone();
        // A command is one transaction; inside a batch (a device's push) one savepoint of it, so
        // a rejected change undoes only itself.
        let nested = self.batching;
        let conn = self.store.conn();
        // Prepared once: inside a push, a savepoint per change is worth not parsing each time.
        conn.execute_cached(if nested { "SAVEPOINT command" } else { "BEGIN IMMEDIATE" }, [])?;
        let done = (|| -> Result<Outcome> {
            let ctx = Ctx {
                tx: conn,
                actor,
                origin: &self.origin,
                audit_key: &audit_key,
                zone: &self.zone,
                now,
                today,
                progress,
                rule_basis: nested.then_some(&self.rule_basis),
                staged: &self.staged_import,
                job_memory: self.job_memory.as_ref(),
                audit_head: std::cell::RefCell::new(None),
            };
            let outcome = match command {
                Command::Bootstrap { login, name } => bootstrap(&ctx, login, name)?,
                Command::AddUser { login, name, role, email } => add_user(&ctx, login, name, role, email)?,
                Command::SetAssignment { student_id, login, assigned } => {
                    set_assignment(&ctx, &student_id, &login, assigned)?
                }
                Command::Import { source, batch } => import::execute(&ctx, &source, batch)?,
                Command::Demo(spec) => demo::execute(&ctx, &spec)?,
                Command::RunAlerts { date } => alerts::run_day(&ctx, date)?,
                Command::Triage { ids, action, note } => triage::triage(&ctx, &ids, &action, note.as_deref())?,
                Command::SetThresholds { kind, thresholds } => triage::set_thresholds(&ctx, kind, thresholds)?,
                Command::EndSnoozes => triage::end_snoozes(&ctx)?,
                Command::LogAttendance { entries } => attendance::log(&ctx, &entries)?,
                Command::DecideAttendance { ids, decision } => attendance::decide(&ctx, &ids, &decision)?,
                Command::RetractAttendance { days } => attendance::retract(&ctx, &days)?,
                Command::ReopenAttendance { ids } => attendance::reopen(&ctx, &ids)?,
                Command::SyncOnboarding => onboarding::sync_assets(&ctx)?,
                Command::SelectRole { role } => onboarding::select_role(&ctx, role)?,
                Command::AcceptResponsibilities { codes } => onboarding::accept(&ctx, &codes)?,
                Command::ConsentToEsign { version } => onboarding::consent(&ctx, &version)?,
                Command::SignDocument { code, typed_name, shown_sha256, mark } => {
                    onboarding::sign(&ctx, &code, &typed_name, &shown_sha256, mark.as_ref())?
                }
                Command::AcknowledgeDocument { code, shown_sha256 } => {
                    onboarding::acknowledge(&ctx, &code, &shown_sha256)?
                }
                Command::WaiveOnboarding { login, reason } => onboarding::waive(&ctx, &login, &reason)?,
                Command::SubmitPayroll(form) => payroll::submit(&ctx, &form)?,
                Command::DecidePayroll { id, decision } => payroll::decide(&ctx, id, &decision)?,
                Command::SetTimeZone { name } => set_time_zone(&ctx, name.as_deref())?,
                Command::RegisterDevice { name } => replica::register_device(&ctx, &name)?,
                Command::AllowOnDevice { device, login } => replica::allow(&ctx, &device, &login)?,
                Command::RevokeDevice { device } => replica::revoke(&ctx, &device)?,
                Command::BecomeReplica(of) => replica::become_replica(&ctx, &of)?,
                Command::SettleOutbox { verdicts } => replica::settle(&ctx, &verdicts)?,
                Command::ReplaceScope { tables, mark, changed } => {
                    replica::replace_scope(&ctx, tables.as_deref(), mark, changed.as_ref())?
                }
                Command::RecordRejection { device, seq, author, reason } => {
                    replica::record_rejection(&ctx, &device, seq, &author, &reason)?
                }
                Command::SaveTemplate { name, subject, body, organisation } => {
                    messages::save_template(&ctx, &name, &subject, &body, organisation)?
                }
                Command::DeleteTemplate { name, organisation } => messages::delete_template(&ctx, &name, organisation)?,
                Command::SendMessage { student_id, template, subject, body, alert } => {
                    messages::send(&ctx, &student_id, template.as_deref(), subject.as_deref(), body.as_deref(), alert)?
                }
                Command::CreateCampaign { template, audience, send_at } => {
                    messages::create_campaign(&ctx, &template, &audience, send_at)?
                }
                Command::StopCampaign { id } => messages::stop_campaign(&ctx, id)?,
                Command::ClaimRecipient { id } => messages::claim(&ctx, id)?,
                Command::RecordDelivery { id, delivery } => messages::record(&ctx, id, &delivery)?,
                Command::SettleInterruptedMail => messages::settle_interrupted(&ctx)?,
                Command::SetDigest { on } => messages::set_digest(&ctx, on)?,
                Command::MakeDigests { day } => messages::make_digests(&ctx, day)?,
                Command::SetOptOut { student_id, opted_out } => messages::set_opt_out(&ctx, &student_id, opted_out)?,
                Command::ScheduleReport(new) => schedules::add(&ctx, &new)?,
                Command::RemoveReportSchedule { id } => schedules::remove(&ctx, id)?,
                Command::StartReportRun { schedule, due, writing } => schedules::start(&ctx, schedule, due, writing)?,
                Command::FinishReportRun { schedule, due, result } => schedules::finish(&ctx, schedule, due, &result)?,
                Command::RecordExport { kind, filter, rows, to } => {
                    let after = serde_json::json!({ "filter": filter, "rows": rows, "to": to });
                    ctx.audit(&format!("export.{kind}"), "export", &kind, serde_json::Value::Null, after)?;
                    Outcome::Noted(format!("{kind}: {rows} rows exported to {to}"))
                }
            };
            if let Some(command) = outgoing {
                store::replica::add_outgoing(conn, &actor.user().login, &command, seen.as_deref(), &ctx.now_text())?;
            }
            if let Some(head) = ctx.audit_head.take() {
                audit::write_head(conn, &audit_key, &head)?;
            }
            Ok(outcome)
        })();
        let outcome = match done {
            Ok(outcome) => {
                conn.execute_cached(if nested { "RELEASE command" } else { "COMMIT" }, [])?;
                outcome
            }
            Err(e) => {
                let _ = conn.execute_batch(if nested { "ROLLBACK TO command; RELEASE command" } else { "ROLLBACK" });
                return Err(e);
            }
        };
        if sets_zone {
            // Days are counted in the zone just set from the next command on.
            self.zone = load_zone(&self.store)?;
        }
        Ok(outcome)
    }

    /// The daily job up to `through`: every day after the last one processed, in order, each in
    /// its own transaction. A database the job never ran on starts at `through` itself.
    pub fn run_alerts(&mut self, actor: &Actor, through: NaiveDate, progress: &dyn Progress) -> Result<Vec<Outcome>> {
        self.run_alerts_from(actor, through, through, progress)
    }

    /// The daily job up to `through`; a database the job never ran on starts at `first`.
    pub fn run_alerts_from(
        &mut self,
        actor: &Actor,
        first: NaiveDate,
        through: NaiveDate,
        progress: &dyn Progress,
    ) -> Result<Vec<Outcome>> {
        self.run_job(actor, first, through, progress, true)
    }

    /// `run_alerts_from`, and the digests for `through` when `make_digests`: the demo's days,
    /// run one by one, make them only for the last.
    fn run_job(
        &mut self,
        actor: &Actor,
        first: NaiveDate,
        through: NaiveDate,
        progress: &dyn Progress,
        make_digests: bool,
    ) -> Result<Vec<Outcome>> {
        if through > self.today() {
            return Err(AppError::Invalid(format!(
                "{through} is in the future; the job runs for days that have passed"
            )));
        }
        let first = match store::alerts::processed_through(self.store.conn())? {
            Some(done) if done >= through => {
                // The run that processed `through` stopped before making its digests (killed
                // between the two commits): running it again makes them.
                if make_digests && done == through && self.digests_pending()? {
                    let digests = self.execute(actor, Command::MakeDigests { day: through })?;
                    return Ok(vec![Outcome::Noted(format!(
                        "{through}: already processed, but the run stopped before its digests: {digests}"
                    ))]);
                }
                return Ok(vec![Outcome::AlertsRun { date: through, changes: None }]);
            }
            Some(done) => done + chrono::Days::new(1),
            None => first.min(through),
        };
        let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= through).collect();
        // The job touches every live alert and its indexes each day: with SQLite's default 2 MB
        // page cache it would read the same pages from the file again and again.
        let cache_before = store::set_cache_kib(self.store.conn(), JOB_CACHE_KIB)?;
        // A day's commit copies the WAL back into the database once it holds 80 MB, two or three
        // days at 100,000 students: a page the job changes every day (a live alert's, the
        // timeline index's) is copied back once for those days, not once a day. Left to the end
        // of a catch-up, the WAL grew by every day's pages into new parts of the file, which the
        // kernel had to allocate and zero. 30 churn days: 13.2-14.2 s at the end, 11.1-13.2 s
        // every day (SQLite's default), 10.8-11.4 s every 80 MB. What the last day leaves in the
        // WAL a thread of its own copies back while the digests are made (`store::checkpoint`):
        // a churn day's commit took 0.15-0.25 s copying back, 0.04-0.12 s now. (Copying back on
        // the thread after every day of a catch-up was no faster: the commit that reaches 80 MB
        // then finds the thread copying and leaves the WAL to grow.)
        store::checkpoint_after(self.store.conn(), CATCH_UP_CHECKPOINT_PAGES)?;
        // Without the thread, the commits and the end of the run copy back as they did.
        let copier = store::checkpoint::BackgroundCheckpoint::start(self.store.path()).ok();
        // The copying back begins by syncing the WAL; the disk takes it while the job computes.
        let _writeback = store::writeback::EarlyWriteback::start(self.store.path());
        let _note = (days.len() > 1).then(|| {
            let what =
                format!("{} is running the alert job for {} days up to {through}", actor_name(actor), days.len());
            store::busy::WriterNote::leave(self.store.path(), &what)
        });
        let mut took = JobTimes::default();
        let digests_for = make_digests.then_some(through);
        let outcomes = self.run_days(actor, &days, digests_for, progress, copier.as_ref(), &mut took);
        let waited = std::time::Instant::now();
        let copied = copier.map_or(Ok(()), store::checkpoint::BackgroundCheckpoint::finish);
        took.copy_back = waited.elapsed();
        let copying = std::time::Instant::now();
        store::checkpoint_after(self.store.conn(), store::CHECKPOINT_PAGES)?;
        took.copy_back += copying.elapsed();
        store::set_cache_kib(self.store.conn(), cache_before)?;
        let outcomes = outcomes?;
        copied?;
        tracing::info!(
            "alert job: {} day{} up to {through}: {took}",
            days.len(),
            if days.len() == 1 { "" } else { "s" }
        );
        Ok(outcomes)
    }

    /// The days of `run_alerts_from`, then the digests for `digests_for`, the last (which read the
    /// live alerts the job just wrote, still in its page cache).
    fn run_days(
        &mut self,
        actor: &Actor,
        days: &[NaiveDate],
        digests_for: Option<NaiveDate>,
        progress: &dyn Progress,
        copier: Option<&store::checkpoint::BackgroundCheckpoint>,
        took: &mut JobTimes,
    ) -> Result<Vec<Outcome>> {
        let started = std::time::Instant::now();
        progress.start("processing days", days.len() as u64);
        let mut outcomes = Vec::with_capacity(days.len());
        self.job_memory = (days.len() > 1).then(JobMemorySlot::default);
        let ran = days.iter().try_for_each(|&date| -> Result<()> {
            let outcome = self.execute(actor, Command::RunAlerts { date })?;
            // A catch-up keeps each day's sentence, not its alerts' ids: a churn year's days
            // held 8.2 million of them until the end.
            outcomes.push(if days.len() > 1 { Outcome::Noted(outcome.to_string()) } else { outcome });
            progress.advance(1);
            Ok(())
        });
        // Kept only while the days run: any other command may change what it holds.
        self.job_memory = None;
        ran?;
        if let Some(copier) = copier {
            copier.request();
        }
        took.days = started.elapsed();
        // One digest per person for the last day processed, not one per day of a catch-up.
        if let Some(day) = digests_for
            && self.replica_device.is_none()
        {
            let digests = std::time::Instant::now();
            self.execute(actor, Command::MakeDigests { day })?;
            took.digests = Some(digests.elapsed());
        }
        progress.finish();
        Ok(outcomes)
    }

    /// Whether the last day the job processed still has its digests to make: the run stopped
    /// between the day's commit and theirs. (A file from before muster kept that record says
    /// yes once; making them again makes nobody a second digest.)
    pub fn digests_pending(&self) -> Result<bool> {
        if self.replica_device.is_some() {
            return Ok(false);
        }
        let conn = self.store.conn();
        Ok(match store::alerts::processed_through(conn)? {
            Some(processed) => store::messages::digests_made_for(conn)?.is_none_or(|made| made < processed),
            None => false,
        })
    }

    /// The last day the alert job processed.
    pub fn alerts_processed_through(&self) -> Result<Option<NaiveDate>> {
        Ok(store::alerts::processed_through(self.store.conn())?)
    }

    /// Partners whose onboarding is incomplete may do nothing but onboard.
    fn require_onboarded(&self, actor: &Actor) -> Result<()> {
        if store::users::onboarding_complete(self.store.conn(), actor.user())? {
            Ok(())
        } else {
            Err(AppError::Denied(format!(
                "{}'s onboarding is not complete; see what is left with `muster onboarding status`",
                actor.user().login
            )))
        }
    }

    /// Whether the actor may import at all, so a refused import is refused before its file is read.
    pub fn may_import(&self, actor: &Actor) -> Result<()> {
        self.require_admin(actor, "import data")
    }

    fn require_admin(&self, actor: &Actor, what: &str) -> Result<()> {
        if actor.is_admin() { Ok(()) } else { Err(AppError::Denied(format!("only admins may {what}"))) }
    }
}

/// Where a run of the alert job spent its time, for the log: a slow morning on an organisation's
/// own data says there which part grew.
#[derive(Default)]
struct JobTimes {
    /// The days' rules, each with its commit.
    days: std::time::Duration,
    /// Making the digests, when this file makes them.
    digests: Option<std::time::Duration>,
    /// Waiting for the days' pages to be copied back into the file, then copying the rest.
    copy_back: std::time::Duration,
}

impl std::fmt::Display for JobTimes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the rules {:.2} s", self.days.as_secs_f64())?;
        if let Some(digests) = self.digests {
            write!(f, ", the digests {:.2} s", digests.as_secs_f64())?;
        }
        write!(f, ", copying back after them {:.2} s", self.copy_back.as_secs_f64())
    }
}

/// The alert job's page cache, in KiB.
const JOB_CACHE_KIB: i64 = 64 * 1024;
/// How many WAL pages a catch-up's commits let pile up before copying them back: 80 MB.
const CATCH_UP_CHECKPOINT_PAGES: i64 = 20_000;

/// `alice`, or `alice as ws_01`.
fn actor_name(actor: &Actor) -> String {
    match &actor.acting_as {
        Some(user) => format!("{} as {}", actor.person.login, user.login),
        None => actor.person.login.clone(),
    }
}

/// Everything a command handler needs: the open transaction and who, when and where.
pub(crate) struct Ctx<'a> {
    /// The open transaction (or savepoint) the command's changes go into.
    pub tx: &'a rusqlite::Connection,
    pub actor: &'a Actor,
    pub origin: &'a Origin,
    pub audit_key: &'a audit::KeyState,
    pub zone: &'a zone::OrgZone,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    pub progress: &'a dyn Progress,
    /// Inside a device's push: what the alert rules read besides the student's rows, read once
    /// for the whole transaction.
    rule_basis: Option<&'a std::cell::OnceCell<alerts::RuleBasis>>,
    /// Where a staged import's sorted rows wait for the command that copies them.
    staged: &'a StagedImport,
    /// While the alert job runs its days: where a day leaves what the next may reuse.
    job_memory: Option<&'a JobMemorySlot>,
    /// The audit log's head after the entries this command appended, keyed once at its end.
    audit_head: std::cell::RefCell<Option<crate::domain::audit::Head>>,
}

impl Ctx<'_> {
    /// Whether this command is one savepoint of a larger transaction (a device's push): what the
    /// commands before it wrote is not yet committed, so another connection would not see it.
    pub fn in_batch(&self) -> bool {
        self.rule_basis.is_some()
    }

    pub fn now_text(&self) -> String {
        self.now.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// How timeline entries name the actor: `login`, or `login as other` with `--as`.
    pub fn actor_label(&self) -> String {
        actor_name(self.actor)
    }

    pub fn require_admin(&self, what: &str) -> Result<()> {
        if self.actor.is_admin() { Ok(()) } else { Err(AppError::Denied(format!("only admins may {what}"))) }
    }

    /// Appends the audit entry for this command's change.
    pub fn audit(
        &self,
        action: &str,
        entity: &str,
        entity_id: &str,
        before: serde_json::Value,
        after: serde_json::Value,
    ) -> Result<()> {
        let change = Change {
            actor: &self.actor.person.login,
            acting_as: self.actor.acting_as.as_ref().map(|u| u.login.as_str()),
            action,
            entity,
            entity_id,
            before,
            after,
        };
        let last = self.audit_head.take();
        let head = audit::append(self.tx, self.origin, self.audit_key, &self.now_text(), change, last)?;
        self.audit_head.replace(Some(head));
        Ok(())
    }
}

fn bootstrap(ctx: &Ctx, login: String, name: String) -> Result<Outcome> {
    // Only an empty database has no admin to ask; anywhere else this is an ordinary user add.
    if store::users::count(ctx.tx)? > 0 {
        return Err(AppError::Denied("this database already has users; ask an admin to add you".into()));
    }
    let user = User { login: login.clone(), name, role: Role::Admin, email: None, onboarding_waived: true };
    store::users::upsert(ctx.tx, &user, &ctx.now_text())?;
    ctx.audit(
        "user.bootstrap",
        "user",
        &login,
        serde_json::Value::Null,
        serde_json::to_value(&user).unwrap_or_default(),
    )?;
    Ok(Outcome::Bootstrapped { login })
}

/// The organisation's zone as set in `store`. One that no longer loads (the machine's tz database
/// changed) falls back to the machine's zone.
fn load_zone(store: &Store) -> Result<zone::OrgZone> {
    Ok(match store::settings::get(store.conn(), store::settings::TIME_ZONE)? {
        Some(name) => zone::OrgZone::named(&name).unwrap_or_else(|_| zone::OrgZone::machine()),
        None => zone::OrgZone::machine(),
    })
}

fn set_time_zone(ctx: &Ctx, name: Option<&str>) -> Result<Outcome> {
    ctx.require_admin("set the organisation's time zone")?;
    let zone = match name {
        Some(name) => zone::OrgZone::named(name).map_err(AppError::Invalid)?,
        None => zone::OrgZone::machine(),
    };
    let before = store::settings::get(ctx.tx, store::settings::TIME_ZONE)?;
    if before.as_deref() == name {
        return Ok(Outcome::Noted(format!("the time zone is already {}", zone.describe())));
    }
    store::settings::set(ctx.tx, store::settings::TIME_ZONE, name)?;
    ctx.audit("settings.time_zone", "setting", store::settings::TIME_ZONE, before.into(), name.into())?;
    Ok(Outcome::Noted(format!("days are now counted in {}", zone.describe())))
}

fn set_assignment(ctx: &Ctx, student_id: &str, login: &str, assigned: bool) -> Result<Outcome> {
    ctx.require_admin("assign students")?;
    let user = store::users::get(ctx.tx, login)?.ok_or_else(|| AppError::NotFound(format!("user '{login}'")))?;
    if !user.role.is_partner() {
        return Err(AppError::Invalid(format!(
            "'{login}' is an admin and already sees every student; assign partners only"
        )));
    }
    let student = store::roster::visible_student(ctx.tx, ctx.actor.user(), student_id)?;
    let changed = if assigned {
        store::roster::insert_assignment(ctx.tx, login, student)?
    } else {
        store::roster::delete_assignment(ctx.tx, login, student)?
    };
    let (action, done) = if assigned { ("assignment.add", "assigned to") } else { ("assignment.remove", "taken off") };
    if !changed {
        let already = if assigned { "already assigned to" } else { "not assigned to" };
        return Ok(Outcome::Noted(format!("{student_id} is {already} {login}: nothing changed")));
    }
    let what = serde_json::json!({ "student": student_id, "login": login });
    ctx.audit(action, "assignment", &format!("{student_id}/{login}"), serde_json::Value::Null, what)?;
    Ok(Outcome::Noted(format!("{student_id} {done} {login}")))
}

fn add_user(ctx: &Ctx, login: String, name: String, role: Role, email: Option<String>) -> Result<Outcome> {
    ctx.require_admin("add users")?;
    crate::domain::records::check_login(&login).map_err(AppError::Invalid)?;
    crate::domain::records::check_name("the name", &name).map_err(AppError::Invalid)?;
    if let Some(email) = &email {
        crate::domain::records::check_email(email).map_err(AppError::Invalid)?;
    }
    if store::users::get(ctx.tx, &login)?.is_some() {
        return Err(AppError::Invalid(format!("user '{login}' already exists")));
    }
    let user = User { login: login.clone(), name: name.trim().to_string(), role, email, onboarding_waived: false };
    store::users::upsert(ctx.tx, &user, &ctx.now_text())?;
    ctx.audit("user.add", "user", &login, serde_json::Value::Null, serde_json::to_value(&user).unwrap_or_default())?;
    Ok(Outcome::UserAdded { login })
}
