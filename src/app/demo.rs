//! Filling an empty database with the demo organisation (`domain::demo`), through the same
//! store functions and audit trail as real data.

use super::{AppError, Ctx, Outcome, Result};
use crate::domain::demo::{DemoSpec, DemoWorld, OnboardingStage};
use crate::domain::{User, Verification};
use crate::store::{activity, partners, roster, users};
use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// A minimal valid PDF, standing in for a scanned W-9.
const DEMO_W9: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(super) fn execute(ctx: &Ctx, spec: &DemoSpec) -> Result<Outcome> {
    ctx.require_admin("load demo data")?;
    spec.check().map_err(AppError::Invalid)?;
    if spec.today > ctx.today {
        return Err(AppError::Invalid(format!("--today {} is in the future", spec.today)));
    }
    let existing: i64 = ctx.tx.query_row("SELECT count(*) FROM students", [], |r| r.get(0))?;
    if existing > 0 {
        return Err(AppError::Invalid(format!(
            "this database already has {existing} students; demo data goes into a new database (use --db NEW_FILE)"
        )));
    }
    let world = DemoWorld::generate(spec);
    let now = ctx.now_text();
    write_people(ctx, &world, &now)?;

    let mut program_keys = Vec::with_capacity(world.programs.len());
    for p in &world.programs {
        let start = p.start_date.to_string();
        let schedule = p.schedule.to_string();
        roster::upsert_program(
            ctx.tx,
            &roster::ProgramRecord {
                program_id: &p.program_id,
                name: &p.name,
                schedule: &schedule,
                start_date: &start,
                end_date: None,
            },
        )?;
        let key = ctx.tx.last_insert_rowid();
        for (date, reason) in &p.closures {
            roster::upsert_closure(ctx.tx, key, &date.to_string(), Some(reason))?;
        }
        program_keys.push(key);
    }

    let (records, logins) =
        activity::bulk_load(ctx.tx, activity::Bulk::BOTH, || write_students(ctx, &world, &program_keys))?;

    let summary = format!(
        "demo data for {} students in {} programs over {} days up to {}: {} users, {} attendance records, {} logins",
        spec.students,
        world.programs.len(),
        spec.days,
        spec.today,
        world.users.len(),
        records,
        logins
    );
    ctx.audit(
        "demo.fill",
        "demo",
        &spec.seed.to_string(),
        serde_json::Value::Null,
        serde_json::json!({
            "spec": spec, "users": world.users.len(), "programs": world.programs.len(),
            "attendance": records, "logins": logins,
        }),
    )?;
    Ok(Outcome::DemoFilled { summary })
}

fn write_people(ctx: &Ctx, world: &DemoWorld, now: &str) -> Result<()> {
    for u in &world.users {
        let user = User {
            login: u.login.clone(),
            name: u.name.clone(),
            role: u.role,
            email: Some(u.email.clone()),
            onboarding_waived: u.stage == OnboardingStage::Waived,
        };
        users::upsert(ctx.tx, &user, now)?;
        if matches!(u.stage, OnboardingStage::RoleChosen | OnboardingStage::PayrollPending) {
            partners::choose_role(ctx.tx, &u.login, u.role, now)?;
        }
        if u.stage == OnboardingStage::PayrollPending {
            let default: f64 = ctx.tx.query_row(
                "SELECT default_rate FROM payout_rate_configs WHERE role = ?1",
                [u.role.as_str()],
                |r| r.get(0),
            )?;
            let w9_sha256 = format!("{:x}", Sha256::digest(DEMO_W9));
            partners::submit_payroll(
                ctx.tx,
                &partners::PayrollSubmission {
                    login: &u.login,
                    role: u.role,
                    rate: default,
                    method: "ach",
                    stripe_account: None,
                    routing_number: Some("011000015"),
                    account_last4: Some("6789"),
                    w9_media_type: "application/pdf",
                    w9_sha256: &w9_sha256,
                    w9: DEMO_W9,
                    submitted_at: now,
                },
            )?;
        }
    }
    Ok(())
}

/// Students, their enrollments and assignments, and every day of their activity; returns how
/// many attendance records and logins were written.
fn write_students(ctx: &Ctx, world: &DemoWorld, program_keys: &[i64]) -> Result<(u64, u64)> {
    let (mut records, mut logins) = (0u64, 0u64);
    ctx.progress.start("generating students", world.students.len() as u64);
    for (i, s) in world.students.iter().enumerate() {
        roster::upsert_student(
            ctx.tx,
            &roster::StudentRecord {
                student_id: &s.student_id,
                first_name: &s.first_name,
                last_name: &s.last_name,
                email: Some(&s.email),
                phone: Some(&s.phone),
            },
        )?;
        let student = ctx.tx.last_insert_rowid();
        let program = program_keys[s.program];
        let (start, end) = (s.start_date.to_string(), s.end_date.to_string());
        roster::upsert_enrollment(
            ctx.tx,
            &roster::EnrollmentRecord {
                enrollment_id: &s.enrollment_id,
                student,
                program,
                start_date: &start,
                end_date: Some(&end),
                status: s.status.as_str(),
            },
        )?;
        for login in [&world.programs[s.program].holder, &s.worksite, &s.coordinator] {
            roster::insert_assignment(ctx.tx, login, student)?;
        }
        for day in world.days(i) {
            let date = day.date.to_string();
            if let Some(r) = &day.record {
                let (logged_at, verified_at) = (stamp(r.logged_at), stamp(r.verified_at));
                let verification = match r.verified {
                    None => Verification::Pending,
                    Some(true) => Verification::Verified,
                    Some(false) => Verification::Rejected,
                };
                let decided = verification != Verification::Pending;
                activity::insert_settled_attendance(
                    ctx.tx,
                    &activity::SettledAttendance {
                        record: activity::AttendanceRecord {
                            student,
                            program,
                            date: &date,
                            status: r.status.as_str(),
                            hours: r.hours,
                            note: None,
                            logged_by: &s.worksite,
                            logged_by_person: None,
                            logged_at: &logged_at,
                        },
                        verification: verification.as_str(),
                        verified_by: decided.then_some(s.coordinator.as_str()),
                        verified_at: decided.then_some(verified_at.as_str()),
                        reason: (verification == Verification::Rejected)
                            .then_some("hours do not match the sign-in sheet"),
                    },
                )?;
                records += 1;
            }
            if let Some(at) = day.login {
                activity::insert_login(ctx.tx, student, &stamp(at))?;
                logins += 1;
            }
        }
        ctx.progress.advance(1);
    }
    ctx.progress.finish();
    Ok((records, logins))
}

#[cfg(test)]
mod tests {
    use crate::app::clock::FixedClock;
    use crate::app::{App, Command, Progress, identity};
    use crate::domain::demo::{DemoProfile, DemoSpec};
    use crate::store::OpenMode;
    use std::cell::Cell;
    use std::path::PathBuf;

    /// Whether SQLite's rollback journal was beside the file when the students were written.
    struct JournalSeen(PathBuf, Cell<Option<bool>>);

    impl Progress for JournalSeen {
        fn finish(&self) {
            self.1.set(Some(self.0.exists()));
        }
    }

    #[test]
    fn demo_data_with_nobody_else_reading_is_written_through_the_rollback_journal() {
        let dir = tempfile::tempdir().unwrap();
        let os = identity::os_account().unwrap();
        let today = "2026-03-02".parse().unwrap();
        let path = dir.path().join("m.db");
        let mut app =
            App::open(&path, OpenMode::CreateIfMissing, Box::new(FixedClock::on(today)), identity::this_origin(&os))
                .unwrap();
        let admin = app.sign_in(&os, None).unwrap().actor;
        let spec = DemoSpec { students: 30, days: 10, seed: 1, today, profile: DemoProfile::Classic };
        let seen = JournalSeen(dir.path().join("m.db-journal"), Cell::new(None));
        app.execute_with_progress(&admin, Command::Demo(spec), &seen).unwrap();
        assert_eq!(seen.1.get(), Some(true));
        assert!(!seen.0.exists());
        let mode: String = app.store.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }
}
