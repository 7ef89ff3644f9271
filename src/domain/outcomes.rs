//! What a program holder reports each month: who was enrolled, who started, finished or left,
//! how they attended and what they earned.

/// A program's month, as the program holder reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MonthOutcome {
    pub program_id: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Enrollments whose dates meet the month.
    pub enrolled: u32,
    pub started: u32,
    /// Still enrolled at the month's end (or today, for the month under way).
    pub active: u32,
    pub completed: u32,
    pub withdrawn: u32,
    /// Days present over session days, excused days set aside; `None` without session days.
    pub attendance_rate: Option<f64>,
    pub contact_hours_verified: f64,
    pub credentials: u32,
}
