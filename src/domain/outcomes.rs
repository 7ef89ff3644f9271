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

/// Cohort health, 0 to 100, from a week's attendance rate `A`, the share of students who logged
/// in `E` and the share with a critical alert open at the week's end `C`:
/// `100 × (0.5·A + 0.3·E + 0.2·(1 − C))`. A week without session days has no `A`; the other two
/// then carry the whole weight, `100 × (0.3·E + 0.2·(1 − C)) / 0.5`. No students, no score.
pub const HEALTH_FORMULA: &str = "100 x (0.5 attendance + 0.3 logged in + 0.2 (1 - critical))";

pub fn health_score(attendance: Option<f64>, logged_in: Option<f64>, critical: Option<f64>) -> Option<f64> {
    let (engaged, critical) = (logged_in?, critical?);
    let rest = 0.3 * engaged + 0.2 * (1.0 - critical);
    let score = match attendance {
        Some(a) => 0.5 * a + rest,
        None => rest / 0.5,
    };
    Some((score * 1000.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::health_score;

    #[test]
    fn health_weighs_attendance_logins_and_critical_alerts() {
        assert_eq!(health_score(Some(1.0), Some(1.0), Some(0.0)), Some(100.0));
        assert_eq!(health_score(Some(0.8), Some(0.5), Some(0.25)), Some(70.0));
        assert_eq!(health_score(None, Some(0.5), Some(0.0)), Some(70.0));
        assert_eq!(health_score(Some(0.9), None, None), None);
    }
}
