//! How long records wait for verification: the figures a report shows per verifier.

use chrono::{NaiveDate, Weekday};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Turnaround {
    pub verifier: String,
    pub decisions: usize,
    pub median_hours: f64,
    pub p95_hours: f64,
    /// Share of decisions made within 24 hours of logging, 0 to 1.
    pub within_24h: f64,
}

/// Summarises one verifier's waits, in hours (any order). `None` for no decisions.
pub fn summarise(verifier: &str, mut hours: Vec<f64>) -> Option<Turnaround> {
    if hours.is_empty() {
        return None;
    }
    hours.sort_by(f64::total_cmp);
    // Nearest rank: the smallest wait that at least p of the decisions did not exceed.
    let rank = |p: f64| hours[((p * hours.len() as f64).ceil() as usize).clamp(1, hours.len()) - 1];
    let within = hours.iter().filter(|h| **h <= 24.0).count();
    Some(Turnaround {
        verifier: verifier.to_string(),
        decisions: hours.len(),
        median_hours: tenths(rank(0.5)),
        p95_hours: tenths(rank(0.95)),
        within_24h: share(within, hours.len()),
    })
}

/// Hours to one place, six minutes: what a reader compares; the last digits of 8.0666… are noise.
fn tenths(hours: f64) -> f64 {
    (hours * 10.0).round() / 10.0
}

/// `part` of `whole` to two places, as the reports' other rates are.
fn share(part: usize, whole: usize) -> f64 {
    (part as f64 / whole as f64 * 100.0).round() / 100.0
}

/// The Monday and Sunday of an ISO week written `YYYY-Www`, e.g. `2026-W47`.
pub fn parse_week(text: &str) -> Result<(NaiveDate, NaiveDate), String> {
    let bad = || format!("'{text}' is not a week: expected YYYY-Www, e.g. 2026-W47");
    let (year, week) = text.trim().split_once("-W").ok_or_else(bad)?;
    let (year, week): (i32, u32) = (year.parse().map_err(|_| bad())?, week.parse().map_err(|_| bad())?);
    let monday = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).ok_or_else(bad)?;
    Ok((monday, monday + chrono::Days::new(6)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_p95_and_the_share_within_a_day() {
        let t = summarise("sc_01", vec![30.0, 2.0, 4.0, 1.0, 100.0, 3.0, 5.0, 6.0, 7.0, 8.0]).unwrap();
        assert_eq!(t.decisions, 10);
        assert_eq!(t.median_hours, 5.0);
        assert_eq!(t.p95_hours, 100.0);
        assert_eq!(t.within_24h, 0.8);
        assert_eq!(summarise("x", vec![]), None);
        assert_eq!(summarise("x", vec![3.0]).unwrap().p95_hours, 3.0);
        // A share is shown to two places, as the reports' other rates are.
        assert_eq!(summarise("x", vec![1.0, 30.0, 40.0]).unwrap().within_24h, 0.33);
        // Hours to one place: 8 h 4 min is 8.1, not 8.0666….
        let minutes = |m: f64| m / 60.0;
        let t = summarise("x", vec![minutes(484.0), minutes(3449.0)]).unwrap();
        assert_eq!((t.median_hours, t.p95_hours), (8.1, 57.5));
        let partner = response("ph_01", "Pat", &[(Some(2.0), None), (Some(30.0), None), (None, None)]);
        assert_eq!(partner.acked_within_24h, 0.33);
    }

    #[test]
    fn weeks_are_iso_weeks() {
        assert_eq!(parse_week("2026-W47").unwrap(), ("2026-11-16".parse().unwrap(), "2026-11-22".parse().unwrap()));
        assert_eq!(parse_week("2026-W01").unwrap().0, "2025-12-29".parse::<NaiveDate>().unwrap());
        assert!(parse_week("2026-47").is_err());
        assert!(parse_week("2026-W54").is_err());
    }
}

/// The alert response a partner is held to: how soon the alerts about their students were
/// acknowledged and resolved, in hours.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Response {
    pub partner: String,
    pub name: String,
    pub alerts: usize,
    pub acknowledged: usize,
    pub median_hours_to_ack: Option<f64>,
    pub p95_hours_to_ack: Option<f64>,
    /// Of all the partner's alerts, the share acknowledged within 24 hours of opening.
    pub acked_within_24h: f64,
    pub resolved: usize,
    pub median_hours_to_resolve: Option<f64>,
    pub p95_hours_to_resolve: Option<f64>,
}

/// One partner's figures from each alert's hours to acknowledgement and to resolution (`None`:
/// not yet).
pub fn response(partner: &str, name: &str, alerts: &[(Option<f64>, Option<f64>)]) -> Response {
    let acks: Vec<f64> = alerts.iter().filter_map(|(ack, _)| *ack).collect();
    let resolves: Vec<f64> = alerts.iter().filter_map(|(_, resolved)| *resolved).collect();
    let (ack, resolve) = (summarise(partner, acks.clone()), summarise(partner, resolves.clone()));
    let within = acks.iter().filter(|h| **h <= 24.0).count();
    Response {
        partner: partner.to_string(),
        name: name.to_string(),
        alerts: alerts.len(),
        acknowledged: acks.len(),
        median_hours_to_ack: ack.as_ref().map(|t| t.median_hours),
        p95_hours_to_ack: ack.as_ref().map(|t| t.p95_hours),
        acked_within_24h: if alerts.is_empty() { 0.0 } else { share(within, alerts.len()) },
        resolved: resolves.len(),
        median_hours_to_resolve: resolve.as_ref().map(|t| t.median_hours),
        p95_hours_to_resolve: resolve.as_ref().map(|t| t.p95_hours),
    }
}
