//! Funders' participant files (WIOA, WRG, JRI): which columns, in which order, under which
//! headers and codes, come from a map kept as data under `assets/exports/` (a state's own map is
//! passed with `--map`), and each cell from what muster knows about one enrollment.

use crate::store::exports::Participation;
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::HashMap;

/// The maps muster ships.
pub fn shipped(kind: &str) -> Option<&'static str> {
    match kind {
        "wioa" => Some(include_str!("../../assets/exports/wioa.toml")),
        "wrg" => Some(include_str!("../../assets/exports/wrg.toml")),
        "jri" => Some(include_str!("../../assets/exports/jri.toml")),
        _ => None,
    }
}

/// What a column is filled from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    StudentId,
    EnrollmentId,
    ProgramId,
    ProgramName,
    /// The enrollment's start.
    EntryDate,
    /// The enrollment's end, once it is completed or withdrawn.
    ExitDate,
    Status,
    /// Yes once any day present was recorded.
    ReceivedTraining,
    /// The first day present.
    TrainingEntryDate,
    /// The map's code for the program.
    TrainingType,
    /// Yes when completed, no when withdrawn, empty while active.
    TrainingCompleted,
    /// The end of a completed or withdrawn enrollment.
    TrainingEndDate,
    ContactHoursVerified,
    /// Days present over session days so far, excused days set aside; two decimals.
    AttendanceRate,
    /// The detail of the latest `credential` progress event, and its day.
    CredentialType,
    CredentialDate,
    /// The latest `milestone` progress event's day.
    MilestoneDate,
    /// Left empty: an element muster does not know.
    Empty,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub header: String,
    pub source: Source,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunderMap {
    pub name: String,
    pub date_format: String,
    pub yes: String,
    pub no: String,
    #[serde(default)]
    pub max_id_chars: Option<usize>,
    #[serde(default)]
    pub refuse_ssn: bool,
    #[serde(default)]
    pub training_type: HashMap<String, String>,
    pub column: Vec<Column>,
}

impl FunderMap {
    pub fn parse(text: &str) -> Result<FunderMap, String> {
        let map: FunderMap = toml::from_str(text).map_err(|e| e.to_string())?;
        if map.column.is_empty() {
            return Err("the map has no [[column]]".into());
        }
        Ok(map)
    }

    pub fn headers(&self) -> Vec<&str> {
        self.column.iter().map(|c| c.header.as_str()).collect()
    }

    /// Refuses an identifier the funder may not receive, naming the student.
    pub fn check_id(&self, student_id: &str) -> Result<(), String> {
        if self.max_id_chars.is_some_and(|max| student_id.chars().count() > max) {
            return Err(format!(
                "student {student_id} has an ID longer than {} characters, which {} does not allow",
                self.max_id_chars.unwrap_or_default(),
                self.name
            ));
        }
        let digits: String = student_id.chars().filter(char::is_ascii_digit).collect();
        let ssn_shaped = digits.len() == 9 && student_id.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
        if self.refuse_ssn && ssn_shaped {
            return Err(format!(
                "a student ID is shaped like a Social Security number ({} …); {} must never carry one",
                &digits[..3],
                self.name
            ));
        }
        Ok(())
    }

    /// The row for one enrollment with its `session_days`, out of which its attendance rate is.
    pub fn row(&self, p: &Participation, session_days: u32) -> Vec<String> {
        let date = |d: Option<NaiveDate>| d.map(|d| d.format(&self.date_format).to_string()).unwrap_or_default();
        let exited = matches!(p.status.as_str(), "completed" | "withdrawn");
        let yes_no = |b: bool| if b { self.yes.clone() } else { self.no.clone() };
        self.column
            .iter()
            .map(|column| match column.source {
                Source::StudentId => p.student_id.clone(),
                Source::EnrollmentId => p.enrollment_id.clone(),
                Source::ProgramId => p.program_id.clone(),
                Source::ProgramName => p.program_name.clone(),
                Source::EntryDate => date(Some(p.start)),
                Source::ExitDate | Source::TrainingEndDate => date(p.end.filter(|_| exited)),
                Source::Status => p.status.clone(),
                Source::ReceivedTraining => yes_no(p.first_present.is_some()),
                Source::TrainingEntryDate => date(p.first_present),
                Source::TrainingType => self
                    .training_type
                    .get(&p.program_id)
                    .or_else(|| self.training_type.get("default"))
                    .cloned()
                    .unwrap_or_default(),
                Source::TrainingCompleted if exited => yes_no(p.status == "completed"),
                Source::TrainingCompleted => String::new(),
                Source::ContactHoursVerified => format!("{:.2}", p.hours_verified),
                Source::AttendanceRate => {
                    let counted = session_days.saturating_sub(p.days_excused);
                    if counted == 0 {
                        String::new()
                    } else {
                        format!("{:.2}", f64::from(p.days_present.min(counted)) / f64::from(counted))
                    }
                }
                Source::CredentialType => p.credential.as_ref().map(|(_, t)| t.clone()).unwrap_or_default(),
                Source::CredentialDate => date(p.credential.as_ref().map(|(d, _)| *d)),
                Source::MilestoneDate => date(p.milestone),
                Source::Empty => String::new(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_maps_parse() {
        for kind in ["wioa", "wrg", "jri"] {
            FunderMap::parse(shipped(kind).unwrap()).unwrap();
        }
    }

    #[test]
    fn pirl_100_refuses_long_ids_and_ssn_shapes() {
        let map = FunderMap::parse(shipped("wioa").unwrap()).unwrap();
        assert!(map.check_id("S000001").is_ok());
        assert!(map.check_id("STUDENT-000000001").unwrap_err().contains("longer than 12"));
        let ssn = map.check_id("123-45-6789").unwrap_err();
        assert!(ssn.contains("Social Security") && !ssn.contains("6789"), "{ssn}");
    }
}
