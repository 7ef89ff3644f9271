//! The closed vocabularies of muster's records: roles, enrollment and attendance states.

use super::text_enum;

text_enum! {
    /// What a person may do in muster (SPEC "People and roles").
    Role, "role" {
        Admin = "admin",
        ProgramHolder = "program_holder",
        Worksite = "worksite",
        SiteCoordinator = "site_coordinator",
    }
}

impl Role {
    /// Partners see only the students assigned to them; admins see everything.
    pub fn is_partner(self) -> bool {
        self != Role::Admin
    }
}

text_enum! {
    EnrollmentStatus, "enrollment status" {
        Active = "active",
        Completed = "completed",
        Withdrawn = "withdrawn",
    }
}

text_enum! {
    AttendanceStatus, "attendance status" {
        Present = "present",
        Absent = "absent",
        Excused = "excused",
    }
}

text_enum! {
    /// Where an attendance record stands in the coordinator's queue.
    Verification, "verification state" {
        Pending = "pending",
        Verified = "verified",
        Rejected = "rejected",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_same_words() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
        assert_eq!(" worksite ".parse::<Role>(), Ok(Role::Worksite));
    }

    #[test]
    fn unknown_values_name_the_expected_ones() {
        let err = "teacher".parse::<Role>().unwrap_err();
        assert_eq!(err, "unknown role 'teacher': expected admin, program_holder, worksite or site_coordinator");
        assert!("Present".parse::<AttendanceStatus>().is_err(), "values are case-sensitive");
    }

    #[test]
    fn only_admins_are_not_partners() {
        assert!(!Role::Admin.is_partner());
        assert!(Role::Worksite.is_partner());
    }
}

/// A person who uses muster.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub login: String,
    pub name: String,
    pub role: Role,
    pub email: Option<String>,
    /// Onboarding already on file elsewhere (imported as `onboarded=true`, or waived by an admin).
    pub onboarding_waived: bool,
}

/// A login must be usable as an OS account name: lower-case letters, digits, `_`, `-`, `.`,
/// starting with a letter or `_`, at most 32 characters.
pub fn check_login(login: &str) -> Result<(), String> {
    let mut chars = login.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c));
    if first_ok && rest_ok && login.len() <= 32 {
        Ok(())
    } else {
        Err(format!(
            "'{login}' is not a login: use lower-case letters, digits, '_', '-' or '.', starting with a letter (at most 32)"
        ))
    }
}

/// Hours are logged in quarter-hour steps from 0 to 24.
pub fn check_hours(hours: f64) -> Result<(), String> {
    if !(0.0..=24.0).contains(&hours) {
        return Err(format!("{hours} hours is outside 0 to 24"));
    }
    if (hours * 4.0).fract() != 0.0 {
        return Err(format!("{hours} hours is not in quarter-hour steps (e.g. 7.25, 7.5)"));
    }
    Ok(())
}

/// Hours are contact hours: only a `present` day has them.
pub fn check_hours_for(status: AttendanceStatus) -> Result<(), String> {
    if status == AttendanceStatus::Present {
        Ok(())
    } else {
        Err(format!("hours are logged only for a present day, not for an {status} one"))
    }
}

/// A name a person is known by must have some letters in it.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    if name.trim().is_empty() { Err(format!("{what} is empty")) } else { Ok(()) }
}

/// Enough of an e-mail address to catch a value put in the wrong column.
pub fn check_email(email: &str) -> Result<(), String> {
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() && domain.contains('.') && !email.contains(' ') => Ok(()),
        _ => Err(format!("'{email}' is not an e-mail address")),
    }
}

#[cfg(test)]
mod identity_tests {
    use super::*;

    #[test]
    fn logins_look_like_os_accounts() {
        for ok in ["root", "ws_01", "a.b-c", "_svc"] {
            assert!(check_login(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Root", "1abc", "a b", "x".repeat(33).as_str()] {
            assert!(check_login(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_need_a_domain() {
        assert!(check_email("a@b.org").is_ok());
        assert!(check_email("a@b").is_err());
        assert!(check_email("@b.org").is_err());
        assert!(check_email("not an email").is_err());
    }
}
