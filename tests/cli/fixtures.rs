//! A small organisation several test files start from: one Mon–Fri program from Monday
//! 2026-01-05, students S1 and S2 enrolled in it (each file names them), a worksite with S1 and
//! a coordinator with both.

pub const PROGRAMS: &str = "program_id,name,schedule,start_date\nP1,Welding,Mon-Fri,2026-01-05\n";
pub const ENROLLMENTS: &str = "enrollment_id,student_id,program_id,start_date,status\n\
E1,S1,P1,2026-01-05,active\nE2,S2,P1,2026-01-05,active\n";
pub const USERS: &str =
    "login,name,role,onboarded\nws_01,Wanda Site,worksite,true\nsc_01,Sam Coord,site_coordinator,true\n";
pub const ASSIGNMENTS: &str = "login,student_id\nws_01,S1\nsc_01,S1\nsc_01,S2\n";
pub const STUDENTS: &str = "student_id,first_name,last_name\nS1,Ann,Lee\nS2,Bo,Li\n";

/// The whole organisation with these students: programs, students, enrollments, partners and
/// their assignments.
pub fn organisation_with(students: &str) -> crate::harness::Env {
    crate::harness::Env::with_imports(&[
        ("programs", PROGRAMS),
        ("students", students),
        ("enrollments", ENROLLMENTS),
        ("users", USERS),
        ("assignments", ASSIGNMENTS),
    ])
}
