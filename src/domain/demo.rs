//! Realistic, deterministic demo data: the same spec always yields the same organisation.
//!
//! Most students attend steadily; some drift into absences near the end of the window (so the
//! alert inbox has something to show); a few attend on and off. Partners are at different
//! stages of onboarding. Each student's days come from a generator seeded by the spec's seed
//! and the student's index, so a student's history does not depend on anyone else's.
//!
//! Two shapes: `classic` (enrollments of 8–20 weeks, logins mostly on days present, many
//! partners) and `churn`, a large program as it really runs: long enrollments starting all
//! year, each student logging in on 30–70 % of all days whatever their attendance (so no-login
//! alerts open and close every day), make-up days off schedule, few partners with many students.

use super::{AttendanceStatus, EnrollmentStatus, Role, Schedule};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoSpec {
    pub students: u32,
    pub days: u32,
    pub seed: u64,
    /// The day the demo ends on; activity runs up to the day before.
    pub today: NaiveDate,
    #[serde(default)]
    pub profile: DemoProfile,
}

super::text_enum! {
    /// The shape of the demo's data.
    DemoProfile, "demo profile" {
        Classic = "classic",
        Churn = "churn",
    }
}

#[allow(clippy::derivable_impls, reason = "text_enum! takes no attributes on its variants")]
impl Default for DemoProfile {
    fn default() -> Self {
        DemoProfile::Classic
    }
}

pub const MAX_STUDENTS: u32 = 1_000_000;
pub const MAX_DAYS: u32 = 3_650;

impl DemoSpec {
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_STUDENTS).contains(&self.students) {
            return Err(format!("--students must be between 1 and {MAX_STUDENTS}"));
        }
        if !(1..=MAX_DAYS).contains(&self.days) {
            return Err(format!("--days must be between 1 and {MAX_DAYS}"));
        }
        Ok(())
    }

    fn window_start(&self) -> NaiveDate {
        self.today - Days::new(u64::from(self.days))
    }
}

/// SplitMix64: tiny, fast, and the same on every platform, which is all demo data needs.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// How far a partner has come with onboarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnboardingStage {
    /// Onboarding already on file elsewhere.
    Waived,
    NotStarted,
    RoleChosen,
    /// Role chosen and a payroll profile waiting for an admin.
    PayrollPending,
}

#[derive(Debug, Clone)]
pub struct DemoUser {
    pub login: String,
    pub name: String,
    pub role: Role,
    pub email: String,
    pub stage: OnboardingStage,
}

#[derive(Debug, Clone)]
pub struct DemoProgram {
    pub program_id: String,
    pub name: String,
    pub schedule: Schedule,
    pub start_date: NaiveDate,
    pub holder: String,
    pub closures: Vec<(NaiveDate, &'static str)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Habit {
    Steady,
    /// Attends until the given day, then mostly stops.
    Drifting(NaiveDate),
    Sporadic,
}

#[derive(Debug, Clone)]
pub struct DemoStudent {
    pub student_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub program: usize,
    pub enrollment_id: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub status: EnrollmentStatus,
    pub worksite: String,
    pub coordinator: String,
    habit: Habit,
    /// In the churn shape, the share of all days the student logs in on.
    login_share: f64,
}

/// One session day of one student: what was logged (if anything) and whether they logged in.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoDay {
    pub date: NaiveDate,
    pub record: Option<DemoRecord>,
    pub login: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoRecord {
    pub status: AttendanceStatus,
    pub hours: Option<f64>,
    pub logged_at: DateTime<Utc>,
    /// `Some(true)` verified, `Some(false)` rejected, `None` still pending.
    pub verified: Option<bool>,
    pub verified_at: DateTime<Utc>,
}

/// What was logged for a student on a session day, by their habit; `None`: nobody logged the
/// absence.
fn session_status(habit: Habit, date: NaiveDate, rng: &mut Rng) -> Option<AttendanceStatus> {
    let p_present = match habit {
        Habit::Steady => 0.93,
        Habit::Drifting(from) if date >= from => 0.08,
        Habit::Drifting(_) => 0.9,
        Habit::Sporadic => 0.6,
    };
    if rng.chance(p_present) {
        Some(AttendanceStatus::Present)
    } else if rng.chance(0.15) {
        Some(AttendanceStatus::Excused)
    } else if rng.chance(0.5) {
        Some(AttendanceStatus::Absent)
    } else {
        None
    }
}

/// Everything but the day-by-day activity, which [`DemoWorld::days`] produces per student.
#[derive(Debug, Clone)]
pub struct DemoWorld {
    pub spec: DemoSpec,
    pub users: Vec<DemoUser>,
    pub programs: Vec<DemoProgram>,
    pub students: Vec<DemoStudent>,
}

const FIRST_NAMES: &[&str] = &[
    "Aaliyah", "Andre", "Beatriz", "Carlos", "Chloe", "Darnell", "Deja", "Elena", "Emeka", "Fatima", "Gabriel",
    "Hannah", "Imani", "Isaiah", "Jasmine", "Jamal", "Keisha", "Kevin", "Latoya", "Luis", "Maya", "Marcus", "Nadia",
    "Nathan", "Olivia", "Omar", "Priya", "Quentin", "Rosa", "Samuel", "Tanya", "Terrence", "Uma", "Victor", "Whitney",
    "Xavier", "Yesenia", "Zion",
];
const LAST_NAMES: &[&str] = &[
    "Abbott",
    "Baker",
    "Castillo",
    "Davis",
    "Edwards",
    "Flores",
    "Garcia",
    "Harris",
    "Ibrahim",
    "Jackson",
    "Kim",
    "Lopez",
    "Martin",
    "Nguyen",
    "Okafor",
    "Patel",
    "Quinn",
    "Robinson",
    "Smith",
    "Thompson",
    "Underwood",
    "Vasquez",
    "Washington",
    "Xu",
    "Young",
    "Zimmerman",
];
const PROGRAM_NAMES: &[&str] = &[
    "Welding Fundamentals",
    "CDL Class A",
    "Medical Assistant",
    "HVAC Technician",
    "Barbering",
    "Culinary Arts",
    "IT Support",
    "Phlebotomy",
    "Electrical Pre-Apprenticeship",
    "Construction Trades",
    "Certified Nursing Assistant",
    "Forklift and Warehouse",
    "Pharmacy Technician",
    "Solar Installation",
];
const SCHEDULES: &[&str] = &["Mon-Fri", "Mon,Wed,Fri", "Mon-Thu", "Tue,Thu", "Mon-Fri", "Mon-Sat"];
const CHURN_SCHEDULES: &[&str] = &["daily", "Mon-Fri", "Mon,Wed,Fri", "Tue,Thu", "Mon-Thu", "Mon-Fri", "Mon-Sat"];

fn person_name(rng: &mut Rng) -> (String, String) {
    (rng.pick(FIRST_NAMES).to_string(), rng.pick(LAST_NAMES).to_string())
}

/// The holidays a program closes for in `year`.
fn holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let nth = |month, weekday, n| NaiveDate::from_weekday_of_month_opt(year, month, weekday, n);
    let last_monday_of_may = (1..=5).rev().find_map(|n| nth(5, Weekday::Mon, n));
    [
        (NaiveDate::from_ymd_opt(year, 1, 1), "New Year's Day"),
        (nth(1, Weekday::Mon, 3), "Martin Luther King Jr. Day"),
        (last_monday_of_may, "Memorial Day"),
        (NaiveDate::from_ymd_opt(year, 7, 4), "Independence Day"),
        (nth(9, Weekday::Mon, 1), "Labor Day"),
        (nth(11, Weekday::Thu, 4), "Thanksgiving"),
        (NaiveDate::from_ymd_opt(year, 12, 25), "Christmas Day"),
    ]
    .into_iter()
    .filter_map(|(date, name)| date.map(|d| (d, name)))
    .collect()
}

/// The first partner of each role is always ready to use; the last is still onboarding (so even
/// a small demo shows every stage); the rest are mostly onboarded.
fn partner_stage(role: Role, index: usize, count: usize) -> OnboardingStage {
    if index == 0 {
        return OnboardingStage::Waived;
    }
    if index == count - 1 {
        return match role {
            Role::Worksite => OnboardingStage::NotStarted,
            Role::SiteCoordinator => OnboardingStage::RoleChosen,
            _ => OnboardingStage::PayrollPending,
        };
    }
    match index % 10 {
        7 => OnboardingStage::NotStarted,
        8 => OnboardingStage::RoleChosen,
        9 => OnboardingStage::PayrollPending,
        _ => OnboardingStage::Waived,
    }
}

fn partners(rng: &mut Rng, role: Role, prefix: &str, count: usize) -> Vec<DemoUser> {
    (0..count)
        .map(|i| {
            let (first, last) = person_name(rng);
            let login = format!("{prefix}_{:02}", i + 1);
            DemoUser {
                email: format!("{login}@partners.example.org"),
                name: format!("{first} {last}"),
                login,
                role,
                stage: partner_stage(role, i, count),
            }
        })
        .collect()
}

impl DemoWorld {
    pub fn generate(spec: &DemoSpec) -> DemoWorld {
        let mut rng = Rng::new(spec.seed);
        let n = spec.students as usize;
        let churn = spec.profile == DemoProfile::Churn;
        let (program_count, worksite_count, coordinator_count) = if churn {
            ((n / 5_000).clamp(3, 20), (n / 250).max(2), (n / 2_000).max(1))
        } else {
            ((n / 2_500).clamp(3, PROGRAM_NAMES.len() * 3), (n / 25).max(2), (n / 120).max(1))
        };
        let holders = partners(&mut rng, Role::ProgramHolder, "ph", program_count);
        let worksites = partners(&mut rng, Role::Worksite, "ws", worksite_count);
        let coordinators = partners(&mut rng, Role::SiteCoordinator, "sc", coordinator_count);
        let schedules = if churn { CHURN_SCHEDULES } else { SCHEDULES };

        let window_start = spec.window_start();
        let programs: Vec<DemoProgram> = (0..program_count)
            .map(|i| {
                let start_date = window_start - Days::new(rng.below(if churn { 30 } else { 120 }));
                let closures = (start_date.year()..=spec.today.year())
                    .flat_map(holidays)
                    .filter(|(d, _)| *d >= start_date && *d <= spec.today)
                    .collect();
                let cohort = i / PROGRAM_NAMES.len();
                let base = PROGRAM_NAMES[i % PROGRAM_NAMES.len()];
                DemoProgram {
                    program_id: format!("PRG-{:03}", i + 1),
                    name: if cohort == 0 { base.to_string() } else { format!("{base} ({})", cohort + 1) },
                    schedule: schedules[i % schedules.len()].parse().expect("demo schedules parse"),
                    start_date,
                    holder: holders[i].login.clone(),
                    closures,
                }
            })
            .collect();

        let span = u64::from(spec.days);
        let students = (0..n)
            .map(|i| {
                let mut r = Rng::new(spec.seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407));
                let (first, last) = person_name(&mut r);
                let student_id = format!("S{:06}", i + 1);
                let program = i % program_count;
                // Enrollments start anywhere from a few weeks before the window to a week ago,
                // and last 8 to 20 weeks: some have finished, most are under way.
                let (start_date, end_date) = if churn {
                    // Long enrollments starting in the first quarter of the window; one in ten ends early.
                    let start =
                        (window_start + Days::new(r.below((span / 4).max(1)))).max(programs[program].start_date);
                    let weeks = if r.chance(0.1) { 10 + r.below(20) } else { 52 + r.below(26) };
                    (start, start + Days::new(7 * weeks))
                } else {
                    let start = (window_start - Days::new(r.below(21))
                        + Days::new(r.below(span.saturating_sub(7).max(1))))
                    .max(programs[program].start_date);
                    (start, start + Days::new(7 * (8 + r.below(13))))
                };
                let status = if end_date < spec.today {
                    if r.chance(0.1) { EnrollmentStatus::Withdrawn } else { EnrollmentStatus::Completed }
                } else {
                    EnrollmentStatus::Active
                };
                let habit = match r.below(100) {
                    0..=79 => Habit::Steady,
                    80..=91 => Habit::Drifting(spec.today - Days::new(1 + r.below(12))),
                    _ => Habit::Sporadic,
                };
                DemoStudent {
                    email: format!("{}.{}{}@students.example.org", first.to_lowercase(), last.to_lowercase(), i + 1),
                    phone: format!("555-{:03}-{:04}", r.below(1000), r.below(10_000)),
                    first_name: first,
                    last_name: last,
                    enrollment_id: format!("E{:06}", i + 1),
                    program,
                    start_date,
                    end_date,
                    status,
                    worksite: worksites[i % worksites.len()].login.clone(),
                    coordinator: coordinators[i % coordinators.len()].login.clone(),
                    habit,
                    // Drawn last, and only for churn, so the classic shape stays as it was.
                    login_share: if churn { 0.3 + r.below(41) as f64 / 100.0 } else { 0.5 },
                    student_id,
                }
            })
            .collect();

        let mut users = vec![DemoUser {
            login: "admin".into(),
            name: "Dana Whitfield".into(),
            role: Role::Admin,
            email: "admin@training.example.org".into(),
            stage: OnboardingStage::Waived,
        }];
        users.extend(holders);
        users.extend(worksites);
        users.extend(coordinators);
        DemoWorld { spec: spec.clone(), users, programs, students }
    }

    /// The session days of student `index` inside the demo window, with what happened on each.
    pub fn days(&self, index: usize) -> Vec<DemoDay> {
        let student = &self.students[index];
        let program = &self.programs[student.program];
        let mut rng = Rng::new(!self.spec.seed ^ (index as u64).wrapping_mul(0x9FB2_1C65_1E98_DF25));
        let yesterday = self.spec.today - Days::new(1);
        let last = if student.status == EnrollmentStatus::Withdrawn {
            student.end_date - Days::new(7 * 3)
        } else {
            student.end_date.min(yesterday)
        };
        let first = student.start_date.max(self.spec.window_start());
        let fresh_from = self.spec.today - Days::new(10);
        let churn = self.spec.profile == DemoProfile::Churn;
        let meets =
            |d: &NaiveDate| program.schedule.meets_on(d.weekday()) && !program.closures.iter().any(|(c, _)| c == d);
        if churn {
            return self.churn_days(student, &mut rng, first, last, fresh_from, &meets);
        }
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter(meets)
            .map(|date| {
                let status = session_status(student.habit, date, &mut rng);
                let evening = date.and_hms_opt(17, 0, 0).expect("valid time").and_utc();
                let record = status.map(|status| {
                    let logged_at = evening + chrono::Duration::minutes(rng.below(240) as i64);
                    let verified = (date < fresh_from).then(|| !rng.chance(0.03));
                    DemoRecord {
                        status,
                        hours: (status == AttendanceStatus::Present).then(|| (12 + rng.below(21)) as f64 / 4.0),
                        logged_at,
                        verified,
                        verified_at: logged_at + chrono::Duration::hours(2 + rng.below(70) as i64),
                    }
                });
                let logs_in = match status {
                    Some(AttendanceStatus::Present) => rng.chance(0.75),
                    _ => rng.chance(0.1) && !matches!(student.habit, Habit::Drifting(from) if date >= from),
                };
                let login = logs_in.then(|| {
                    date.and_hms_opt(8, 0, 0).expect("valid time").and_utc()
                        + chrono::Duration::minutes(rng.below(12 * 60) as i64)
                });
                DemoDay { date, record, login }
            })
            .collect()
    }

    /// The churn shape: every calendar day may have a login (the student's own share of days,
    /// afternoons UTC), session days have records as in the classic shape, and now and then a
    /// make-up day off the schedule.
    fn churn_days(
        &self,
        student: &DemoStudent,
        rng: &mut Rng,
        first: NaiveDate,
        last: NaiveDate,
        fresh_from: NaiveDate,
        meets: &dyn Fn(&NaiveDate) -> bool,
    ) -> Vec<DemoDay> {
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter_map(|date| {
                let status = if meets(&date) {
                    session_status(student.habit, date, rng)
                } else {
                    rng.chance(0.005).then_some(AttendanceStatus::Present)
                };
                let record = status.map(|status| {
                    let logged_at = date.and_hms_opt(17, 0, 0).expect("valid time").and_utc()
                        + chrono::Duration::minutes(rng.below(240) as i64);
                    DemoRecord {
                        status,
                        hours: (status == AttendanceStatus::Present).then(|| (4 + rng.below(29)) as f64 / 4.0),
                        logged_at,
                        verified: (date < fresh_from).then(|| !rng.chance(0.03)),
                        verified_at: logged_at + chrono::Duration::hours(2 + rng.below(70) as i64),
                    }
                });
                let login = rng.chance(student.login_share).then(|| {
                    date.and_hms_opt(12, 0, 0).expect("valid time").and_utc()
                        + chrono::Duration::minutes(rng.below(6 * 60) as i64)
                });
                (record.is_some() || login.is_some()).then_some(DemoDay { date, record, login })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(students: u32) -> DemoSpec {
        DemoSpec {
            students,
            days: 60,
            seed: 7,
            today: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            profile: DemoProfile::Classic,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_world() {
        let (a, b) = (DemoWorld::generate(&spec(200)), DemoWorld::generate(&spec(200)));
        assert_eq!(a.students.len(), 200);
        for i in [0, 57, 199] {
            assert_eq!(a.students[i].student_id, b.students[i].student_id);
            assert_eq!(a.days(i), b.days(i));
        }
        let other = DemoWorld::generate(&DemoSpec { seed: 8, ..spec(200) });
        assert!((0..200).any(|i| other.days(i) != a.days(i)));
    }

    #[test]
    fn activity_stays_on_session_days_inside_the_window() {
        let s = spec(300);
        let world = DemoWorld::generate(&s);
        for i in 0..300 {
            let student = &world.students[i];
            let program = &world.programs[student.program];
            for day in world.days(i) {
                assert!(day.date < s.today && day.date >= student.start_date);
                assert!(program.schedule.meets_on(day.date.weekday()));
                assert!(!program.closures.iter().any(|(c, _)| *c == day.date));
            }
        }
    }

    #[test]
    fn most_attend_and_some_drift() {
        let world = DemoWorld::generate(&spec(1000));
        let (mut present, mut total) = (0, 0);
        for i in 0..1000 {
            for day in world.days(i) {
                total += 1;
                present += usize::from(day.record.is_some_and(|r| r.status == AttendanceStatus::Present));
            }
        }
        let share = present as f64 / total as f64;
        assert!((0.75..0.95).contains(&share), "share present {share}");
        let drifting = world.students.iter().filter(|s| matches!(s.habit, Habit::Drifting(_))).count();
        assert!((60..200).contains(&drifting), "{drifting} drifting");
    }

    #[test]
    fn every_role_has_logins_people_can_type() {
        let world = DemoWorld::generate(&spec(50));
        for login in ["admin", "ph_01", "ws_01", "sc_01"] {
            assert!(world.users.iter().any(|u| u.login == login), "{login}");
        }
        assert!(world.users.iter().filter(|u| u.login != "admin").all(|u| u.login.contains('_')));
    }

    #[test]
    fn the_churn_shape_logs_in_on_a_share_of_all_days() {
        let s = DemoSpec { days: 200, profile: DemoProfile::Churn, ..spec(400) };
        let world = DemoWorld::generate(&s);
        let (mut days, mut logins, mut off_schedule) = (0usize, 0usize, 0usize);
        for i in 0..400 {
            let student = &world.students[i];
            let program = &world.programs[student.program];
            let first = student.start_date.max(s.window_start());
            let last = (s.today - Days::new(1)).min(student.end_date);
            days += first.iter_days().take_while(|d| *d <= last).count();
            for day in world.days(i) {
                logins += usize::from(day.login.is_some());
                off_schedule += usize::from(day.record.is_some() && !program.schedule.meets_on(day.date.weekday()));
            }
        }
        let share = logins as f64 / days as f64;
        assert!((0.4..0.6).contains(&share), "logins on {share} of days");
        assert!(off_schedule > 0, "some make-up days");
    }

    #[test]
    fn holidays_fall_on_their_days() {
        let h = holidays(2026);
        assert!(h.contains(&(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(), "Thanksgiving")));
        assert!(h.contains(&(NaiveDate::from_ymd_opt(2026, 5, 25).unwrap(), "Memorial Day")));
        assert!(h.contains(&(NaiveDate::from_ymd_opt(2026, 9, 7).unwrap(), "Labor Day")));
    }

    #[test]
    fn spec_limits_are_checked() {
        assert!(spec(0).check().is_err());
        assert!(DemoSpec { days: 0, ..spec(10) }.check().is_err());
        assert!(spec(100_000).check().is_ok());
    }
}
