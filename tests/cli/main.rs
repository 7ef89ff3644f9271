//! Black-box tests: the real `muster` binary on temporary database files, as a user runs it.

mod alerts;
mod attendance;
mod audit;
mod console_e2e;
mod daemon;
mod demo;
mod exports;
mod fixtures;
mod harness;
mod hostile;
mod identity;
mod imports;
#[path = "../support/measured.rs"]
mod measured;
mod messages;
mod onboarding;
mod report_documents;
mod report_schedules;
mod reports;
mod scale;
mod schema;
mod shared_server;
#[path = "../support/smtp.rs"]
mod smtp;
mod sync;
mod trust;
#[path = "../support/worksite.rs"]
mod worksite;
